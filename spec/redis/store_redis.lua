-- The Redis store as a plan interpreter, driven with hand-built plans
-- (tables shaped like imb_plan) through a gateway node: the same contract
-- as the shared dict's (docs/store.md), checked on the keys Redis holds.
local h = require "rs_helper"
local cjson = h.cjson

local APP = "1400000006" -- 16 buckets
local DAY = 18687 -- 2021-03-01

local function key(rest) return h.key(APP, rest) end
local function count(rest) return h.count(nil, key(rest)) end
local function r(...) return h.rcall(nil, ...) end

local function apply(steps, atomic)
  local res = h.post(1, "/t/plan", cjson.encode { app = APP, steps = steps, atomic = atomic or false })
  local v = h.json(res)
  if res.status ~= 200 then error("plan: " .. tostring(v.error), 2) end
  return v
end

local function login(plan, user)
  return h.json(h.post(1, "/t/plan", cjson.encode { app = APP, login = true, steps = { { plan = plan, user = user } } }))[1]
end

-- The store-neutral part of a refusal (the Redis store adds the group's type).
local function neutral(ref)
  return { code = ref.code, limit = ref.limit, max = ref.max, current = ref.current, peer = ref.peer }
end

local plans = require "hand_plans"
local op, create_account, create_group, disband, join, leave, login_plan =
  plans.op, plans.create_account, plans.create_group, plans.disband, plans.join, plans.leave, plans.login

local function keys_of_app()
  local out = {}
  for _, k in ipairs(r("KEYS", "imb:{" .. APP .. "}:*")) do
    local name = k:sub(#("imb:{" .. APP .. "}:") + 1)
    -- the store's own marks: the layout, programs' answers, and the mark a
    -- timer writes every few seconds to see whether Redis lost the app's counts
    if name ~= "c:layout" and name ~= "c:epoch" and not name:find("^p:") then out[#out + 1] = name end
  end
  table.sort(out)
  return out
end

describe("the Redis store, with hand-built plans", function()
  before_each(h.reset)

  it("counts up to a bound and refuses the next, naming the bound and the value held", function()
    local p = create_account(2)
    local out = apply { { plan = p, user = "u1" }, { plan = p, user = "u2" }, { plan = p, user = "u3" } }
    assert.are.same({ "applied", "applied", "refused" }, { out[1].result, out[2].result, out[3].result })
    assert.are.same({ code = 70398, limit = 1, max = 2, current = 2, peer = 0 }, neutral(out[3].refusal))
    assert.are.equal(2, count("c:accounts"))
    assert.are.equal(DAY, count("c:last_day"))
    -- accounts are fields of bucketed hashes, not keys of their own
    local fields = 0
    for _, k in ipairs(keys_of_app()) do
      if k:find("^ua:") then fields = fields + r("HLEN", key(k)) end
    end
    assert.are.equal(2, fields)
  end)

  it("a NOOP guard makes a repeated action change nothing", function()
    local p = create_account(5)
    apply { { plan = p, user = "u1" } }
    assert.are.equal("unchanged", apply({ { plan = p, user = "u1" } })[1].result)
    assert.are.equal(1, count("c:accounts"))
  end)

  it("checks every guard against the values before the plan, not after its own effects", function()
    local p = { day = DAY, ops = {
      op("ADD", "ACCOUNTS", "APP", { arg = 1 }),
      op("LE", "ACCOUNTS", "APP", { arg = 0, fail = "REFUSE", code = 1, limit = "ACCOUNTS" }),
    } }
    assert.are.equal("applied", apply({ { plan = p } })[1].result)
    assert.are.equal("refused", apply({ { plan = p } })[1].result)
    assert.are.equal(1, count("c:accounts"))
  end)

  it("lets the first failing guard, in plan order, decide", function()
    local p = { day = DAY, ops = {
      op("EQ", "ACCOUNTS", "APP", { arg = 5, fail = "REFUSE", code = 111, limit = "ACCOUNTS" }),
      op("EQ", "GROUPS", "APP", { arg = 5, fail = "REFUSE", code = 222, limit = "NON_AV_GROUPS" }),
    } }
    assert.are.equal(111, apply({ { plan = p } })[1].refusal.code)
    p.ops[1], p.ops[2] = p.ops[2], p.ops[1]
    assert.are.equal(222, apply({ { plan = p } })[1].refusal.code)
  end)

  it("writes nothing when a guard fails, even after effects listed before it", function()
    local p = { day = DAY, ops = {
      op("ADD", "GROUPS", "APP", { arg = 1 }),
      op("SET", "ACCOUNT", "USER", { arg = 1 }),
      op("EQ", "ACCOUNTS", "APP", { arg = 7, fail = "REFUSE", code = 9, limit = "ACCOUNTS" }),
    } }
    assert.are.equal("refused", apply({ { plan = p, user = "u1" } })[1].result)
    assert.are.same({}, keys_of_app())
  end)

  it("treats a never-set day as passing GE and LE", function()
    local p = { day = DAY, ops = {
      op("GE", "LAST_DAY", "APP", { arg = DAY - 366, fail = "REFUSE", code = -2, limit = "FUTURE" }),
      op("LE", "RELEASED", "APP", { arg = DAY, fail = "REFUSE", code = -1, limit = "DAY_OPEN" }),
      op("ADD", "ACCOUNTS", "APP", { arg = 1 }),
    } }
    assert.are.equal("applied", apply({ { plan = p } })[1].result)
  end)

  it("applies an effect only when its condition held before the plan", function()
    apply { { plan = create_group("AVCHATROOM"), group = "av1" }, { plan = create_group("PUBLIC"), group = "p1" } }
    apply { { plan = { day = DAY, ops = { op("ADD", "GROUPS_NON_AV", "APP", { arg = 10 }),
                                           op("ADD", "DAY_NET_SAME", "DAY", { arg = 10 }) } } } }
    assert.are.equal("applied", apply({ { plan = disband(), group = "av1" } })[1].result)
    assert.are.equal(10, count("c:groups_non_av"))
    assert.are.equal(9, count("d:" .. DAY .. ":day_net_same"))
    assert.are.equal(0, r("EXISTS", key("c:groups_of:AVChatRoom")))
    apply { { plan = disband(DAY + 1), group = "p1" } }
    assert.are.equal(9, count("c:groups_non_av"))
    assert.are.equal(9, count("d:" .. DAY .. ":day_net_same"))
    assert.are.equal(0, r("EXISTS", key("d:" .. (DAY + 1) .. ":day_net_same")))
    assert.are.equal(0, r("EXISTS", key("c:groups")))
    -- a disbanded group's record goes whole
    assert.are.equal(0, r("EXISTS", key("g:p1")))
  end)

  it("refuses a whole atomic batch when one of its plans is refused", function()
    local out = apply({ { plan = create_account(1), user = "a" }, { plan = create_account(1), user = "b" } }, true)
    assert.are.equal("rolled back", out[1].result)
    assert.are.equal("refused", out[2].result)
    assert.are.same({}, keys_of_app())
  end)

  it("holds members as sets with a cap by the group's own type", function()
    apply { { plan = create_group("PUBLIC"), group = "g" }, { plan = create_group("AVCHATROOM"), group = "av" } }
    local j = join(2, 10)
    local out = apply {
      { plan = j, group = "g", user = "a" }, { plan = j, group = "g", user = "b" },
      { plan = j, group = "g", user = "a" }, { plan = j, group = "g", user = "c" },
      { plan = j, group = "av", user = "c" }, { plan = j, group = "nope", user = "c" },
    }
    assert.are.same({ "applied", "applied", "unchanged", "refused", "applied", "refused" },
      { out[1].result, out[2].result, out[3].result, out[4].result, out[5].result, out[6].result })
    assert.are.same({ code = 10014, limit = 4, max = 2, current = 2, peer = 0 }, neutral(out[4].refusal))
    assert.are.equal(1, out[4].refusal.gtype) -- Public: the type the cap was the group's
    assert.are.equal(10010, out[6].refusal.code)
    assert.are.equal(2, r("SCARD", key("gm:g")))
    assert.are.equal(1, r("SCARD", key("gm:av")))
    assert.are.equal(2, r("SCARD", key("uj:c")) + r("SCARD", key("uj:a")))
  end)

  it("refuses a join over the user's own cap", function()
    apply { { plan = create_group("PUBLIC"), group = "g1" }, { plan = create_group("PUBLIC"), group = "g2" } }
    local out = apply { { plan = join(10, 1), group = "g1", user = "u" }, { plan = join(10, 1), group = "g2", user = "u" } }
    assert.are.equal("refused", out[2].result)
    assert.are.same({ code = 10037, limit = 3, max = 1, current = 1, peer = 0 }, neutral(out[2].refusal))
  end)

  it("removes a member and keeps every other one", function()
    apply { { plan = create_group("PUBLIC"), group = "g" } }
    local steps = {}
    for i = 1, 40 do steps[i] = { plan = join(100, 10), group = "g", user = "u" .. i } end
    apply(steps)
    for _, u in ipairs { "u1", "u17", "u40", "u33" } do apply { { plan = leave(), group = "g", user = u } } end
    assert.are.equal("unchanged", apply({ { plan = leave(), group = "g", user = "u1" } })[1].result)
    assert.are.equal(36, r("SCARD", key("gm:g")))
    assert.are.equal(0, r("SISMEMBER", key("gm:g"), "u17"))
    assert.are.equal(0, r("EXISTS", key("uj:u17")))
    assert.are.equal(1, r("SISMEMBER", key("uj:u2"), "g"))
    local out = apply { { plan = join(36, 10), group = "g", user = "new" } }
    assert.are.equal(10014, out[1].refusal.code)
    assert.are.equal(36, out[1].refusal.current)
  end)

  it("ends every membership of a disbanded group (CASCADE_GROUP), keys named by its members included", function()
    apply { { plan = create_group("PUBLIC"), group = "g" }, { plan = create_group("PUBLIC"), group = "h" } }
    apply { { plan = join(10, 10), group = "g", user = "a" }, { plan = join(10, 10), group = "g", user = "b" },
            { plan = join(10, 10), group = "h", user = "a" } }
    assert.are.equal("applied", apply({ { plan = disband(), group = "g" } })[1].result)
    assert.are.equal(0, r("EXISTS", key("gm:g")))
    assert.are.equal(0, r("EXISTS", key("uj:b")))
    assert.are.same({ "h" }, r("SMEMBERS", key("uj:a")))
    assert.are.equal(1, r("SCARD", key("gm:h")))
  end)

  it("ends every membership and friendship of a deleted user (CASCADE_USER)", function()
    local friend = plans.friend(3, true)
    apply { { plan = create_group("PUBLIC"), group = "g" }, { plan = join(10, 10), group = "g", user = "a" },
            { plan = join(10, 10), group = "g", user = "b" },
            { plan = friend, user = "a", peer = "b" }, { plan = friend, user = "c", peer = "a" } }
    apply { { plan = { day = DAY, ops = { op("CASCADE_USER", "JOINED", "USER") } }, user = "a" } }
    assert.are.same({ "b" }, r("SMEMBERS", key("gm:g")))
    for _, k in ipairs { "uf:a", "uf:b", "uf:c", "uj:a" } do assert.are.equal(0, r("EXISTS", key(k)), k) end
  end)

  it("deletes an id: its memberships and friendships end with or without an account (COUNTED, USER_ACCOUNT)",
    function()
    local friend = plans.friend(3, true)
    apply { { plan = create_account(5), user = "a" }, { plan = create_group("PUBLIC"), group = "g" },
            { plan = join(10, 10), group = "g", user = "a" }, { plan = join(10, 10), group = "g", user = "old1" },
            { plan = friend, user = "old1", peer = "b" } }
    local function account(u)
      for _, k in ipairs(r("KEYS", "imb:{" .. APP .. "}:ua:*")) do
        local v = r("HGET", k, u)
        if type(v) == "string" then return v end
      end
      return nil
    end
    -- old1 has memberships and a friendship but no account: they end, the
    -- account count stays; deleted again, or an id with nothing, is unchanged
    local del = plans.delete_account()
    local out = apply { { plan = del, user = "old1" }, { plan = del, user = "old1" }, { plan = del, user = "nobody" } }
    assert.are.same({ "applied", "unchanged", "unchanged" }, { out[1].result, out[2].result, out[3].result })
    assert.are.equal(1, count("c:accounts"))
    assert.are.equal("1", account("a"))
    assert.are.same({ "a" }, r("SMEMBERS", key("gm:g")))
    for _, k in ipairs { "uj:old1", "uf:old1", "uf:b" } do assert.are.equal(0, r("EXISTS", key(k)), k) end
    assert.is_nil(account("old1"))
    assert.is_nil(account("nobody"))
    -- a with an account and a membership: both end; the conditions are
    -- judged before the plan, so a SET listed before the ADD still counts
    -- the account down
    assert.are.equal("applied", apply { { plan = plans.delete_account(true), user = "a" } }[1].result)
    assert.are.equal(0, count("c:accounts"))
    assert.is_nil(account("a"))
    for _, k in ipairs { "gm:g", "uj:a" } do assert.are.equal(0, r("EXISTS", key(k)), k) end
  end)

  it("refuses the peer's side of a friendship as the peer's (peer = 1)", function()
    local friend = plans.friend(1)
    apply { { plan = friend, user = "a", peer = "b" } }
    local out = apply { { plan = friend, user = "c", peer = "b" } }
    assert.are.same({ code = 30014, limit = 2, max = 1, current = 1, peer = 1 }, neutral(out[1].refusal))
  end)

  it("remembers an event id for 34 days and answers a repeat as a duplicate", function()
    local p = { day = DAY, ops = { op("FRESH", "EVENT", "EVENT", { fail = "DUPLICATE" }),
                                   op("ADD", "ACCOUNTS", "APP", { arg = 1 }) } }
    assert.are.equal("applied", apply({ { plan = p, event = "e1" } })[1].result)
    assert.are.equal("duplicate", apply({ { plan = p, event = "e1" } })[1].result)
    assert.are.equal("applied", apply({ { plan = p, event = "e2" } })[1].result)
    assert.are.equal(2, count("c:accounts"))
    local ttl = r("TTL", key("ev:e1"))
    assert.is_true(ttl > 33 * 86400 and ttl <= 34 * 86400)
  end)

  it("keeps a day's group log as the sums of creates and of disbands per instant", function()
    apply { { plan = create_group("PUBLIC"), group = "g1" }, { plan = create_group("PUBLIC"), group = "g2" },
            { plan = disband(), group = "g1" } }
    assert.are.equal("2", r("HGET", key("glog:" .. DAY), "+1614560000"))
    assert.are.equal("1", r("HGET", key("glog:" .. DAY), "-1614570000"))
    assert.are.equal(1, count("d:" .. DAY .. ":day_net"))
  end)

  it("counts a user's login once a day into DAU and once a month into MAU", function()
    for _ = 1, 3 do assert.are.equal("applied", login(login_plan(DAY), "u1").result) end
    login(login_plan(DAY), "u2")
    login(login_plan(DAY + 1), "u1")
    assert.are.equal(2, count("d:" .. DAY .. ":dau"))
    assert.are.equal(1, count("d:" .. (DAY + 1) .. ":dau"))
    assert.are.equal(2, count("m:" .. (2021 * 12 + 2) .. ":mau"))
    assert.are.equal(DAY + 1, count("c:last_day"))
    -- the user's 16-byte state, a field of a bucketed hash kept as a listpack
    local found
    for _, k in ipairs(keys_of_app()) do
      if k:find("^act:") and r("HEXISTS", key(k), "u1") == 1 then found = key(k) end
    end
    assert.are.equal(16, #r("HGET", found, "u1"))
    assert.are.equal("listpack", r("OBJECT", "ENCODING", found))
  end)

  it("refuses a login too old for the user's activity state (closed), counting nothing", function()
    login(login_plan(DAY + 100, 2021 * 12 + 5), "u1")
    local res = login(login_plan(DAY), "u1")
    assert.are.equal("refused", res.result)
    assert.are.equal(-1, res.refusal.code)
    assert.are.equal(0, r("EXISTS", key("d:" .. DAY .. ":dau")))
  end)
end)

-- The interpreter reaches Redis as a function library (FCALL), or as a
-- script (EVALSHA) where functions cannot be had.  Either way it decides the
-- same, and a node that lost it gets it again.
describe("the interpreter in Redis", function()
  before_each(h.reset)

  local function flat(v, out)
    out = out or {}
    if type(v) == "table" then for _, x in ipairs(v) do flat(x, out) end else out[#out + 1] = tostring(v) end
    return out
  end
  local function libraries()
    local names = {}
    for _, s in ipairs(flat(r("FUNCTION", "LIST"))) do
      if s:find("^imbill_%x+$") then names[s] = true end
    end
    return names
  end
  local function calls(cmd)
    local st = r("INFO", "commandstats")
    return tonumber(st:match("cmdstat_" .. cmd .. ":calls=(%d+)")) or 0
  end
  local function accounts(from, to)
    local p = create_account(100)
    for i = from, to do
      assert.are.equal("applied", apply({ { plan = p, user = "f" .. i } })[1].result)
    end
  end

  it("goes to Redis as one RESP string, which Redis reads as the same words", function()
    local conn = require "imbill.gateway.redis.conn"
    -- the program's head, keys and arguments, a number and an empty word among them
    local text = conn.encode({ "RPUSH", "imb:{spec}:enc" }, { 7 }, { "", "a\r\nb" })
    assert.are.equal("*5\r\n$5\r\nRPUSH\r\n$14\r\nimb:{spec}:enc\r\n$1\r\n7\r\n$0\r\n\r\n$4\r\na\r\nb\r\n", text)
    local c = h.redis()
    local n = c:call_args({ encoded = text })
    c:close()
    assert.are.equal(3, n)
    assert.are.same({ "7", "", "a\r\nb" }, r("LRANGE", "imb:{spec}:enc", 0, -1))
  end)

  it("is a function library named by its SHA-1, loaded again after FUNCTION FLUSH", function()
    accounts(1, 4)
    assert.is_not_nil(next(libraries()), "no imbill_ library in FUNCTION LIST")
    r("CONFIG", "RESETSTAT")
    r("FUNCTION", "FLUSH")
    assert.is_nil(next(libraries()))
    accounts(5, 8)
    assert.is_not_nil(next(libraries()), "the library was not loaded again")
    assert.are.equal(8, count("c:accounts"))
    assert.is_true(calls("fcall") >= 4)
    assert.are.equal(0, calls("evalsha"))
  end)

  -- Redis' Lua hands at most about 8,000 values to one call: a hash given
  -- 5,000 new fields by one program is written in several HSETs, not one
  -- the call could not take (which, after the DAU was written, was a write
  -- failed after others: the store marked damaged, every capped call of
  -- every app on that Redis refused until an operator cleared it)
  it("writes a login batch of 5,000 users into one bucket whole, however many fields one hash is given", function()
    local BULK = "1400000007" -- 1 bucket; its Redis entry flushes up to 100,000 logins at once
    local res = h.json(h.get(1, "/t/bulklogins?app=" .. BULK .. "&n=5000"))
    assert.are.same({ queue = 0, journal = 0, damaged = false }, res)
    local day = math.floor(os.time() / 86400)
    assert.are.equal(5000, h.count(nil, h.key(BULK, "d:" .. day .. ":dau")))
    assert.are.equal(5000, r("HLEN", h.key(BULK, "act:0")))
    -- written once: the same logins again count nothing more
    res = h.json(h.get(1, "/t/bulklogins?app=" .. BULK .. "&n=5000"))
    assert.are.same({ queue = 0, journal = 0, damaged = false }, res)
    assert.are.equal(5000, h.count(nil, h.key(BULK, "d:" .. day .. ":dau")))
  end)

  it("runs as a script when this Redis user may not call functions, deciding the same", function()
    r("ACL", "SETUSER", "default", "-fcall")
    finally(function() r("ACL", "SETUSER", "default", "+@all") end)
    r("CONFIG", "RESETSTAT")
    r("SCRIPT", "FLUSH")
    -- enough calls that both of the node's workers meet the refusal
    accounts(1, 8)
    assert.are.equal(8, count("c:accounts"))
    assert.is_true(calls("evalsha") >= 8)
    -- and a cap holds as before: a 9th account on a cap of 8 is refused
    local p = create_account(8)
    local out = apply { { plan = p, user = "f9" } }
    assert.are.equal("refused", out[1].result)
    assert.are.equal(8, count("c:accounts"))
  end)
end)
