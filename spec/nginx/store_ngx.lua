-- The shared-dict store as a plan interpreter, driven with hand-built plans
-- (tables shaped like imb_plan) inside the specs' nginx: guards on the
-- values before the plan, the first failing guard decides, effects with
-- conditions, all or nothing, sets, cascades, logins.
local h = require "ngx_helper"

local APP = "1400000006"
local DAY = 18687 -- 2021-03-01

local plans = require "hand_plans"
local op, create_account, create_group, disband, join, leave, login =
  plans.op, plans.create_account, plans.create_group, plans.disband, plans.join, plans.leave, plans.login

describe("the shared-dict store, with hand-built plans", function()
  before_each(h.flush)

  it("counts up to a bound and refuses the next, naming the bound and the value held", function()
    local p = create_account(2)
    local out = h.apply(APP, { { plan = p, user = "u1" }, { plan = p, user = "u2" }, { plan = p, user = "u3" } })
    assert.are.equal("applied", out[1].result)
    assert.are.equal("applied", out[2].result)
    assert.are.equal("refused", out[3].result)
    assert.are.same({ code = 70398, limit = 1, max = 2, current = 2, peer = 0 }, out[3].refusal)
    local k = h.keys(APP)
    assert.are.equal(2, k["c:accounts"])
    assert.are.equal(1, k["ua:u1"])
    assert.is_nil(k["ua:u3"])
    assert.are.equal(DAY, k["c:last_day"])
  end)

  it("a NOOP guard makes a repeated action change nothing", function()
    local p = create_account(5)
    h.apply(APP, { { plan = p, user = "u1" } })
    local out = h.apply(APP, { { plan = p, user = "u1" } })
    assert.are.equal("unchanged", out[1].result)
    assert.are.equal(1, h.keys(APP)["c:accounts"])
  end)

  it("checks every guard against the values before the plan, not after its own effects", function()
    -- ADD X then a guard X <= 0: before the plan X is 0, so the guard passes
    local p = { day = DAY, ops = {
      op("ADD", "ACCOUNTS", "APP", { arg = 1 }),
      op("LE", "ACCOUNTS", "APP", { arg = 0, fail = "REFUSE", code = 1, limit = "ACCOUNTS" }),
    } }
    assert.are.equal("applied", h.apply(APP, { { plan = p } })[1].result)
    assert.are.equal("refused", h.apply(APP, { { plan = p } })[1].result)
    assert.are.equal(1, h.keys(APP)["c:accounts"])
  end)

  it("lets the first failing guard, in plan order, decide", function()
    local p = { day = DAY, ops = {
      op("EQ", "ACCOUNTS", "APP", { arg = 5, fail = "REFUSE", code = 111, limit = "ACCOUNTS" }),
      op("EQ", "GROUPS", "APP", { arg = 5, fail = "REFUSE", code = 222, limit = "NON_AV_GROUPS" }),
    } }
    assert.are.equal(111, h.apply(APP, { { plan = p } })[1].refusal.code)
    p.ops[1], p.ops[2] = p.ops[2], p.ops[1]
    assert.are.equal(222, h.apply(APP, { { plan = p } })[1].refusal.code)
  end)

  it("writes nothing when a guard fails, even after effects listed before it", function()
    local p = { day = DAY, ops = {
      op("ADD", "GROUPS", "APP", { arg = 1 }),
      op("SET", "ACCOUNT", "USER", { arg = 1 }),
      op("EQ", "ACCOUNTS", "APP", { arg = 7, fail = "REFUSE", code = 9, limit = "ACCOUNTS" }),
    } }
    assert.are.equal("refused", h.apply(APP, { { plan = p, user = "u1" } })[1].result)
    assert.are.same({}, h.keys(APP))
  end)

  it("treats a never-set day as passing GE and LE", function()
    local p = { day = DAY, ops = {
      op("GE", "LAST_DAY", "APP", { arg = DAY - 366, fail = "REFUSE", code = -2, limit = "FUTURE" }),
      op("LE", "RELEASED", "APP", { arg = DAY, fail = "REFUSE", code = -1, limit = "DAY_OPEN" }),
      op("ADD", "ACCOUNTS", "APP", { arg = 1 }),
    } }
    assert.are.equal("applied", h.apply(APP, { { plan = p } })[1].result)
  end)

  it("applies an effect only when its condition held before the plan", function()
    h.apply(APP, { { plan = create_group("AVCHATROOM"), group = "av1" }, { plan = create_group("PUBLIC"), group = "p1" } })
    -- a NON_AV count to see which disbands lower it
    h.apply(APP, { { plan = { day = DAY, ops = { op("ADD", "GROUPS_NON_AV", "APP", { arg = 10 }),
                                                  op("ADD", "DAY_NET_SAME", "DAY", { arg = 10 }) } } } })
    local out = h.apply(APP, { { plan = disband(), group = "av1" } })
    assert.are.equal("applied", out[1].result)
    local k = h.keys(APP)
    assert.are.equal(10, k["c:groups_non_av"]) -- AV: not lowered
    assert.are.equal(9, k["d:" .. DAY .. ":day_net_same"]) -- created that day: lowered
    assert.is_nil(k["c:groups_of:AVChatRoom"])
    h.apply(APP, { { plan = disband(DAY + 1), group = "p1" } })
    k = h.keys(APP)
    assert.are.equal(9, k["c:groups_non_av"]) -- Public: lowered
    assert.are.equal(9, k["d:" .. DAY .. ":day_net_same"]) -- a day after its creation: not the same day
    assert.is_nil(k["d:" .. (DAY + 1) .. ":day_net_same"])
    assert.is_nil(k["c:groups_of:Public"])
    assert.is_nil(k["c:groups"])
  end)

  it("refuses a whole atomic batch when one of its plans is refused", function()
    local out = h.apply(APP, { { plan = create_account(1), user = "a" }, { plan = create_account(1), user = "b" } },
      true)
    assert.are.equal("rolled back", out[1].result)
    assert.are.equal("refused", out[2].result)
    assert.are.same({}, h.keys(APP))
  end)

  it("holds members as sets with a cap by the group's own type", function()
    h.apply(APP, { { plan = create_group("PUBLIC"), group = "g" }, { plan = create_group("AVCHATROOM"), group = "av" } })
    local j = join(2, 10)
    local out = h.apply(APP, {
      { plan = j, group = "g", user = "a" }, { plan = j, group = "g", user = "b" },
      { plan = j, group = "g", user = "a" }, { plan = j, group = "g", user = "c" },
      { plan = j, group = "av", user = "c" }, { plan = j, group = "nope", user = "c" },
    })
    assert.are.same({ "applied", "applied", "unchanged", "refused", "applied", "refused" },
      { out[1].result, out[2].result, out[3].result, out[4].result, out[5].result, out[6].result })
    assert.are.same({ code = 10014, limit = 4, max = 2, current = 2, peer = 0 }, out[4].refusal)
    assert.are.equal(10010, out[6].refusal.code)
    local k = h.keys(APP)
    assert.are.equal(2, k["gm:1:g#"])
    assert.are.equal(1, k["gm:2:av#"])
    assert.are.equal(2, k["uj:1:c#"] + k["uj:1:a#"])
  end)

  it("refuses a join over the user's own cap", function()
    h.apply(APP, { { plan = create_group("PUBLIC"), group = "g1" }, { plan = create_group("PUBLIC"), group = "g2" } })
    local out = h.apply(APP, { { plan = join(10, 1), group = "g1", user = "u" },
                               { plan = join(10, 1), group = "g2", user = "u" } })
    assert.are.equal("refused", out[2].result)
    assert.are.same({ code = 10037, limit = 3, max = 1, current = 1, peer = 0 }, out[2].refusal)
  end)

  it("removes a member from the middle of a small set and keeps every other one", function()
    h.apply(APP, { { plan = create_group("PUBLIC"), group = "g" } })
    local steps = {}
    for i = 1, 5 do steps[i] = { plan = join(10, 10), group = "g", user = "u" .. i } end
    h.apply(APP, steps)
    assert.are.equal("applied", h.apply(APP, { { plan = leave(), group = "g", user = "u2" } })[1].result)
    assert.are.equal("unchanged", h.apply(APP, { { plan = leave(), group = "g", user = "u2" } })[1].result)
    local k = h.keys(APP)
    assert.are.equal(4, k["gm:1:g#"])
    assert.are.same({ "u1", "u3", "u4", "u5" }, { k["gm:1:g@1"], k["gm:1:g@2"], k["gm:1:g@3"], k["gm:1:g@4"] })
    assert.is_nil(k["uj:2:u2#"])
  end)

  it("spills a set past 32 members into keyed form and keeps it whole through removals", function()
    h.apply(APP, { { plan = create_group("PUBLIC"), group = "g" } })
    local steps = {}
    for i = 1, 40 do steps[i] = { plan = join(100, 10), group = "g", user = "u" .. i } end
    h.apply(APP, steps)
    for _, u in ipairs { "u1", "u17", "u40", "u33" } do h.apply(APP, { { plan = leave(), group = "g", user = u } }) end
    assert.are.equal("unchanged", h.apply(APP, { { plan = join(100, 10), group = "g", user = "u2" } })[1].result)
    local k = h.keys(APP)
    assert.are.equal(36, k["gm:1:g#"])
    local seen = {}
    for i = 1, 36 do seen[k["gm:1:g@" .. i]] = i end
    for i = 1, 40 do
      local u = "u" .. i
      if u == "u1" or u == "u17" or u == "u40" or u == "u33" then
        assert.is_nil(seen[u])
        assert.is_nil(k["gm:1:g=" .. u])
      else
        assert.are.equal(seen[u], k["gm:1:g=" .. u], u)
      end
    end
    -- the cap counts the keyed form's size
    local out = h.apply(APP, { { plan = join(36, 10), group = "g", user = "new" } })
    assert.are.equal(10014, out[1].refusal.code)
    assert.are.equal(36, out[1].refusal.current)
  end)

  it("ends every membership of a disbanded group (CASCADE_GROUP)", function()
    h.apply(APP, { { plan = create_group("PUBLIC"), group = "g" }, { plan = create_group("PUBLIC"), group = "h" } })
    h.apply(APP, { { plan = join(10, 10), group = "g", user = "a" }, { plan = join(10, 10), group = "g", user = "b" },
                   { plan = join(10, 10), group = "h", user = "a" } })
    h.apply(APP, { { plan = disband(), group = "g" } })
    local k = h.keys(APP)
    assert.is_nil(k["gm:1:g#"])
    assert.is_nil(k["uj:1:b#"])
    assert.are.equal(1, k["uj:1:a#"])
    assert.are.equal("h", k["uj:1:a@1"])
    assert.are.equal(1, k["gm:1:h#"])
  end)

  it("ends every membership and friendship of a deleted user (CASCADE_USER)", function()
    local friend = plans.friend(3, true)
    h.apply(APP, { { plan = create_group("PUBLIC"), group = "g" }, { plan = join(10, 10), group = "g", user = "a" },
                   { plan = join(10, 10), group = "g", user = "b" },
                   { plan = friend, user = "a", peer = "b" }, { plan = friend, user = "c", peer = "a" } })
    local del = { day = DAY, ops = { op("CASCADE_USER", "JOINED", "USER") } }
    h.apply(APP, { { plan = del, user = "a" } })
    local k = h.keys(APP)
    assert.are.equal(1, k["gm:1:g#"])
    assert.are.equal("b", k["gm:1:g@1"])
    assert.is_nil(k["uf:1:a#"])
    assert.is_nil(k["uf:1:b#"])
    assert.is_nil(k["uf:1:c#"])
    assert.is_nil(k["uj:1:a#"])
  end)

  it("deletes an id: its memberships and friendships end with or without an account (COUNTED, USER_ACCOUNT)",
    function()
    local friend = plans.friend(3, true)
    h.apply(APP, { { plan = create_account(5), user = "a" }, { plan = create_group("PUBLIC"), group = "g" },
                   { plan = join(10, 10), group = "g", user = "a" }, { plan = join(10, 10), group = "g", user = "old1" },
                   { plan = friend, user = "old1", peer = "b" } })
    -- old1 has memberships and a friendship but no account: they end, the
    -- account count stays; deleted again, or an id with nothing, is unchanged
    local del = plans.delete_account()
    local out = h.apply(APP, { { plan = del, user = "old1" }, { plan = del, user = "old1" },
                               { plan = del, user = "nobody" } })
    assert.are.same({ "applied", "unchanged", "unchanged" }, { out[1].result, out[2].result, out[3].result })
    local k = h.keys(APP)
    assert.are.equal(1, k["c:accounts"])
    assert.are.equal(1, k["ua:a"])
    assert.are.equal(1, k["gm:1:g#"])
    assert.are.equal("a", k["gm:1:g@1"])
    assert.is_nil(k["uj:4:old1#"])
    assert.is_nil(k["uf:4:old1#"])
    assert.is_nil(k["uf:1:b#"])
    assert.is_nil(k["ua:old1"])
    assert.is_nil(k["ua:nobody"])
    -- a with an account and a membership: both end; the conditions are
    -- judged before the plan, so a SET listed before the ADD still counts
    -- the account down
    assert.are.equal("applied", h.apply(APP, { { plan = plans.delete_account(true), user = "a" } })[1].result)
    k = h.keys(APP)
    assert.is_nil(k["c:accounts"])
    assert.is_nil(k["ua:a"])
    assert.is_nil(k["gm:1:g#"])
    assert.is_nil(k["uj:1:a#"])
  end)

  it("refuses the peer's side of a friendship as the peer's (peer = 1)", function()
    local friend = plans.friend(1)
    h.apply(APP, { { plan = friend, user = "a", peer = "b" } })
    local out = h.apply(APP, { { plan = friend, user = "c", peer = "b" } })
    assert.are.same({ code = 30014, limit = 2, max = 1, current = 1, peer = 1 }, out[1].refusal)
  end)

  it("remembers an event id and answers a repeat as a duplicate", function()
    local p = { day = DAY, ops = { op("FRESH", "EVENT", "EVENT", { fail = "DUPLICATE" }),
                                   op("ADD", "ACCOUNTS", "APP", { arg = 1 }) } }
    assert.are.equal("applied", h.apply(APP, { { plan = p, event = "e1" } })[1].result)
    assert.are.equal("duplicate", h.apply(APP, { { plan = p, event = "e1" } })[1].result)
    assert.are.equal("applied", h.apply(APP, { { plan = p, event = "e2" } })[1].result)
    assert.are.equal(2, h.keys(APP)["c:accounts"])
  end)

  it("keeps a day's group log as creates and disbands per instant", function()
    h.apply(APP, { { plan = create_group("PUBLIC"), group = "g1" }, { plan = create_group("PUBLIC"), group = "g2" },
                   { plan = disband(), group = "g1" } })
    local k = h.keys(APP)
    local base = "glog:" .. DAY
    assert.are.equal(2, k[base .. "#"])
    assert.are.equal(2, k[base .. "+1614560000"])
    assert.are.equal(1, k[base .. "-1614570000"])
    assert.are.equal(1, k["d:" .. DAY .. ":day_net"])
  end)

  it("counts a user's login once a day into DAU and once a month into MAU", function()
    for _ = 1, 3 do assert.are.equal("applied", h.login(APP, login(DAY), "u1").result) end
    h.login(APP, login(DAY), "u2")
    h.login(APP, login(DAY + 1), "u1")
    local k = h.keys(APP)
    assert.are.equal(2, k["d:" .. DAY .. ":dau"])
    assert.are.equal(1, k["d:" .. (DAY + 1) .. ":dau"])
    assert.are.equal(2, k["m:" .. (2021 * 12 + 2) .. ":mau"])
    assert.are.equal(DAY + 1, k["c:last_day"])
    assert.are.equal(16 * 2, #k["act:u1"])
  end)

  it("refuses a login too old for the user's activity state (closed), counting nothing", function()
    h.login(APP, login(DAY + 100, 2021 * 12 + 5), "u1") -- 2021-06-09
    local r = h.login(APP, login(DAY), "u1")
    assert.are.equal("refused", r.result)
    assert.are.equal(-1, r.refusal.code)
    assert.is_nil(h.keys(APP)["d:" .. DAY .. ":dau"])
  end)
end)
