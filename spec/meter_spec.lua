local H = require "helper"
local imbill = H.imbill
local core = require "imbill.core"

-- "2021-03-31T17:00:00Z" -> Unix seconds
local function T(s)
  local date, h, mi, sec = s:match("^(%d%d%d%d%-%d%d%-%d%d)T(%d%d):(%d%d):(%d%d)Z$")
  return core.parse_date(date) * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(sec)
end

local NOON = T("2021-03-10T04:00:00Z") -- 12:00 in Beijing

local function meter(book, edition, extra)
  local o = { book = book, edition = edition }
  for k, v in pairs(extra or {}) do o[k] = v end
  return imbill.meter(o)
end

describe("meter seed examples (docs/rules.md, Counting)", function()
  it("leaves the full AVChatRoom cap of 50 on pro after 3 rooms are created and disbanded", function()
    local m = meter("2020", "pro")
    for i = 1, 3 do assert.is_true(m:create_group("av" .. i, "AVChatRoom", NOON)) end
    for i = 1, 3 do assert.is_true(m:disband_group("av" .. i, NOON + 60)) end
    for i = 1, 50 do assert.is_true(m:create_group("room" .. i, "AVChatRoom", NOON + 120)) end
    local ok, r = m:create_group("room51", "AVChatRoom", NOON + 180)
    assert.is_false(ok)
    assert.same({ 10036, "av_groups", 50 }, { r.code, r.limit, r.max })
  end)

  it("counts an empty group that was not disbanded", function()
    local m = meter("2020", "trial")
    assert.is_true(m:create_group("empty", "Public", NOON))
    local total, by = m:groups()
    assert.equal(1, total)
    assert.equal(1, by.Public)
    assert.equal(0, m:members("empty"))
    assert.equal(1, (m:peak_groups("2021-03")))
    for i = 2, 100 do m:create_group("g" .. i, "Private", NOON) end
    local ok, r = m:create_group("g101", "Work", NOON)
    assert.is_false(ok)
    assert.same({ 10058, "non_av_groups", 100 }, { r.code, r.limit, r.max })
  end)

  it("refuses the 101st trial account with 70398 and lets one in after a delete", function()
    local m = meter("2020", "trial")
    for i = 1, 100 do assert.is_true(m:create_account("u" .. i, NOON)) end
    local ok, r = m:create_account("u101", NOON)
    assert.is_false(ok)
    assert.equal(70398, r.code)
    assert.equal("accounts", r.limit)
    assert.equal(100, r.max)
    assert.matches("70398", r.message)
    assert.matches("at most 100 accounts", r.message)
    assert.equal(100, m:accounts())
    assert.is_true(m:delete_account("u7", NOON))
    assert.is_true(m:create_account("u101", NOON))
    assert.equal(100, m:accounts())
  end)

  it("allows 10,000 groups in a day, refuses the next with 10006, and allows it after a disband", function()
    local m = meter("2020", "pro")
    for i = 1, 10000 do assert.is_true(m:create_group("g" .. i, "Private", NOON)) end
    local ok, r = m:create_group("g10001", "Private", NOON)
    assert.is_false(ok)
    assert.same({ 10006, "daily_net_groups", 10000, 10000 }, { r.code, r.limit, r.max, r.current })
    assert.is_true(m:disband_group("g1", NOON))
    assert.is_true(m:create_group("g10001", "Private", NOON))
    -- the limit is per calendar day
    assert.is_true(m:create_group("next-day", "Private", NOON + 86400))
  end)

  it("refuses the 6th BChatRoom of a day", function()
    local m = meter("2021", "pro")
    local t = T("2021-09-01T04:00:00Z")
    for i = 1, 5 do assert.is_true(m:create_group("b" .. i, "BChatRoom", t)) end
    local ok, r = m:create_group("b6", "BChatRoom", t)
    assert.is_false(ok)
    assert.equal("bchatroom_total", r.limit)
    assert.equal(5, r.max)
    -- with one disbanded, the day's 5 creates are still spent
    m:disband_group("b1", t)
    ok, r = m:create_group("b6", "BChatRoom", t)
    assert.is_false(ok)
    assert.same({ 10006, "bchatroom_daily", 5 }, { r.code, r.limit, r.max })
    assert.is_true(m:create_group("b6", "BChatRoom", t + 86400))
  end)

  it("counts a login at 2021-03-31T17:00Z for April 1 (UTC+8)", function()
    local m = meter("2020", "pro")
    m:login("u1", T("2021-03-31T17:00:00Z"))
    assert.equal(0, m:dau("2021-03-31"))
    assert.equal(1, m:dau("2021-04-01"))
    assert.equal(0, m:mau("2021-03"))
    assert.equal(1, m:mau("2021-04"))
  end)

  it("takes days in the meter's time zone when tz is given", function()
    local m = meter("2020", "pro", { tz = "+00:00" })
    m:login("u1", T("2021-03-31T17:00:00Z"))
    assert.equal(1, m:dau("2021-03-31"))
  end)
end)

describe("meter counting rules", function()
  it("counts each user once a day however often they log in, and keeps the peak day", function()
    local m = meter("2020", "pro")
    for _ = 1, 3 do m:login("a", NOON) end
    m:login("b", NOON)
    m:login("a", NOON + 86400)
    assert.equal(2, m:dau("2021-03-10"))
    assert.equal(1, m:dau("2021-03-11"))
    assert.equal(2, m:mau("2021-03"))
    local peak, day = m:peak_dau("2021-03")
    assert.equal(2, peak)
    assert.equal("2021-03-10", day)
  end)

  it("never merges distinct ids, however alike", function()
    local m = meter("2020", "pro")
    local ids = { "a", "A", "a ", " a", "aa", "a\0", "a\0b", "é", "e\204\129" }
    for _, id in ipairs(ids) do m:login(id, NOON) end
    assert.equal(#ids, m:dau("2021-03-10"))
    for i = 1, 20000 do m:login("user" .. i, NOON) end
    assert.equal(#ids + 20000, m:dau("2021-03-10"))
  end)

  it("makes nobody active but by a login", function()
    local m = meter("2020", "pro")
    m:create_account("u1", NOON)
    m:create_group("g", "Public", NOON)
    m:join_group("g", "u1", NOON)
    m:add_friend("u1", "u2", NOON)
    assert.equal(0, m:dau("2021-03-10"))
    assert.equal(0, m:mau("2021-03"))
  end)

  it("counts a late login on its own day", function()
    local m = meter("2020", "pro")
    m:login("a", NOON + 86400)
    m:login("b", NOON) -- arrives after, happened the day before
    m:login("a", NOON)
    assert.equal(2, m:dau("2021-03-10"))
    assert.equal(1, m:dau("2021-03-11"))
    assert.equal(2, m:mau("2021-03"))
  end)

  it("keeps the month's peak groups including the count carried in on the 1st", function()
    local m = meter("2020", "pro")
    for i = 1, 5 do m:create_group("g" .. i, "Private", T("2021-02-20T04:00:00Z")) end
    for i = 1, 5 do m:disband_group("g" .. i, T("2021-03-01T04:00:00Z")) end
    m:create_group("x", "Private", T("2021-03-02T04:00:00Z"))
    local peak, day = m:peak_groups("2021-03")
    assert.equal(5, peak)
    assert.equal("2021-03-01", day)
    local u = m:usage("2021-03")
    assert.equal(5, u.groups[1])
    assert.equal(1, u.groups[2])
    assert.equal(1, u.groups[31])
  end)

  it("counts groups by type and caps AVChatRoom and non-AV groups separately", function()
    local m = meter("2020", "trial")
    for i = 1, 10 do assert.is_true(m:create_group("av" .. i, "AVChatRoom", NOON)) end
    assert.is_false((m:create_group("av11", "AVChatRoom", NOON)))
    assert.is_true(m:create_group("p", "Private", NOON))
    assert.is_true(m:create_group("w", "Meeting", NOON))
    local total, by = m:groups()
    assert.equal(12, total)
    assert.same({ Private = 1, Public = 0, ChatRoom = 1, AVChatRoom = 10, BChatRoom = 0, Community = 0 }, by)
  end)

  -- a developer edition with a daily net increase of 10, so the caps stay out of the way
  local small = imbill.book{ base = "2022", name = "small-daily",
                             editions = { developer = { limits = { daily_net_groups = 10 } } } }
  local d1, d2 = T("2023-03-01T04:00:00Z"), T("2023-03-02T04:00:00Z")

  it("counts disbands of any group against the daily net increase by default", function()
    local m = imbill.meter{ book = small, edition = "developer" }
    for i = 1, 5 do m:create_group("old" .. i, "Private", d1) end
    for i = 1, 5 do m:disband_group("old" .. i, d2) end
    for i = 1, 10 do assert.is_true(m:create_group("new" .. i, "Private", d2)) end
    -- 10 created minus 5 disbanded = 5 net: the daily limit of 10 is not reached
    for i = 11, 15 do assert.is_true(m:create_group("new" .. i, "Private", d2)) end
    local ok, r = m:create_group("new16", "Private", d2)
    assert.is_false(ok)
    assert.same({ 10006, "daily_net_groups", 10 }, { r.code, r.limit, r.max })
  end)

  it("counts only same-day disbands when same_day_disbands is set", function()
    local m = imbill.meter{ book = small, edition = "developer", same_day_disbands = true }
    for i = 1, 5 do m:create_group("old" .. i, "Private", d1) end
    for i = 1, 5 do m:disband_group("old" .. i, d2) end
    for i = 1, 10 do assert.is_true(m:create_group("new" .. i, "Private", d2)) end
    local ok, r = m:create_group("more", "Private", d2)
    assert.is_false(ok)
    assert.equal(10006, r.code)
    m:disband_group("new1", d2)
    assert.is_true(m:create_group("more", "Private", d2))
  end)

  it("counts members on sets: a repeated join changes nothing", function()
    local m = meter("2020", "trial")
    m:create_group("g", "Public", NOON)
    for _ = 1, 3 do assert.is_true(m:join_group("g", "u1", NOON)) end
    assert.equal(1, m:members("g"))
    assert.equal(1, m:joined("u1"))
    for i = 2, 20 do m:join_group("g", "u" .. i, NOON) end
    local ok, r = m:join_group("g", "u21", NOON)
    assert.is_false(ok)
    assert.same({ 10014, "members_per_group", 20 }, { r.code, r.limit, r.max })
    assert.is_true(m:join_group("g", "u5", NOON)) -- already in: not a new member
    m:leave_group("g", "u1", NOON)
    assert.is_true(m:join_group("g", "u21", NOON))
  end)

  it("applies member limits per group type, none for AVChatRoom", function()
    local m = meter("2020", "flagship")
    m:create_group("priv", "Private", NOON)
    m:create_group("pub", "Public", NOON)
    m:create_group("av", "AVChatRoom", NOON)
    for i = 1, 200 do m:join_group("priv", "u" .. i, NOON) end
    for i = 1, 201 do assert.is_true(m:join_group("pub", "u" .. i, NOON)) end
    for i = 1, 2500 do assert.is_true(m:join_group("av", "u" .. i, NOON)) end
    local ok, r = m:join_group("priv", "u201", NOON)
    assert.is_false(ok)
    assert.same({ 10014, 200 }, { r.code, r.max })
  end)

  it("refuses the 51st group a trial user joins with 10037", function()
    local m = meter("2020", "trial")
    for i = 1, 51 do m:create_group("g" .. i, "Public", NOON) end
    for i = 1, 50 do assert.is_true(m:join_group("g" .. i, "u", NOON)) end
    local ok, r = m:join_group("g51", "u", NOON)
    assert.is_false(ok)
    assert.same({ 10037, "groups_per_user", 50 }, { r.code, r.limit, r.max })
    -- disbanding a group frees the user's slot
    m:disband_group("g1", NOON)
    assert.equal(49, m:joined("u"))
    assert.is_true(m:join_group("g51", "u", NOON))
  end)

  it("counts friends on sets and refuses the 21st trial friend with 30010 (30014 from the other side)", function()
    local m = meter("2020", "trial")
    for i = 1, 20 do assert.is_true(m:add_friend("u", "f" .. i, NOON)) end
    assert.is_true(m:add_friend("u", "f1", NOON))
    assert.is_true(m:add_friend("f2", "u", NOON))
    assert.equal(20, m:friends("u"))
    assert.equal(1, m:friends("f1"))
    local ok, r = m:add_friend("u", "f21", NOON)
    assert.is_false(ok)
    assert.same({ 30010, "friends_per_user", 20, "u" }, { r.code, r.limit, r.max, r.user })
    ok, r = m:add_friend("f21", "u", NOON)
    assert.is_false(ok)
    assert.equal(30014, r.code) -- Tencent's code when the other side's list is full
    assert.equal("u", r.user) -- the peer is the one at the limit
    m:remove_friend("f3", "u", NOON)
    assert.is_true(m:add_friend("u", "f21", NOON))
  end)

  it("counts a one-way add on the adder's list only: a user followed one-way by 3,000 adds her own friends", function()
    -- Tencent keeps a list per user: Add_Type_Single puts the peer in the
    -- user's list only, so 3,000 fans fill their own lists, not hers (it was
    -- refused 30010 on her own next add, her own list being empty)
    local m = meter("2020", "pro") -- friends_per_user 3,000
    for i = 1, 3000 do assert.is_true(m:add_friend("fan" .. i, "pop", NOON, nil, { one_way = true })) end
    assert.equal(0, m:friends("pop"))
    assert.equal(1, m:friends("fan1"))
    assert.is_true(m:add_friend("pop", "x", NOON))
    assert.equal(1, m:friends("pop"))
    assert.equal(1, m:friends("x"))
    -- the option also goes where the event id would
    assert.is_true(m:add_friend("pop", "y", NOON, { one_way = true }))
    assert.equal(0, m:friends("y"))
  end)

  it("answers 30014 only for a peer whose own list is full, and only when a two-way add must add to it", function()
    local m = meter("2020", "trial") -- 20 friends
    for i = 1, 20 do assert.is_true(m:add_friend("p", "f" .. i, NOON, nil, { one_way = true })) end
    local ok, r = m:add_friend("u", "p", NOON)
    assert.is_false(ok)
    assert.same({ 30014, "p" }, { r.code, r.user })
    assert.equal(0, m:friends("u")) -- the refused add changed neither list
    -- a one-way add asks nothing of p's list, and p's own is 30010 by the method's name
    assert.is_true(m:add_friend("u", "p", NOON, nil, { one_way = true }))
    ok, r = m:add_friend("p", "z", NOON, nil, { one_way = true })
    assert.is_false(ok)
    assert.same({ 30010, "p", "add_friend" }, { r.code, r.user, r.action })
    -- p lists f1 already: f1's two-way add of p adds f1's side only, past p's full list
    assert.is_true(m:add_friend("f1", "p", NOON))
    assert.equal(1, m:friends("f1"))
    assert.equal(20, m:friends("p"))
    local _, why = m:add_friend("f1", "p", NOON)
    assert.equal("unchanged", why) -- nothing missing on either side
  end)

  it("deletes one way or both: a one-way delete keeps the other side; a two-way one takes what is there", function()
    local m = meter("2020", "trial")
    assert.is_true(m:add_friend("a", "b", NOON))
    assert.is_true(m:remove_friend("a", "b", NOON, nil, { one_way = true }))
    assert.same({ 0, 1 }, { m:friends("a"), m:friends("b") })
    local _, why = m:remove_friend("a", "b", NOON, nil, { one_way = true })
    assert.equal("unchanged", why)
    -- only b lists a: the two-way delete takes b's side
    assert.is_true(m:remove_friend("a", "b", NOON))
    assert.same({ 0, 0 }, { m:friends("a"), m:friends("b") })
    _, why = m:remove_friend("b", "a", NOON)
    assert.equal("unchanged", why)
  end)

  it("refuses a friend option it does not know, naming the method and the field", function()
    local m = meter("2020", "trial")
    assert.has_error(function() m:add_friend("a", "b", NOON, nil, { one_way = "yes" }) end,
      'meter:add_friend: opts.one_way: expected a boolean, got "yes"')
    assert.has_error(function() m:remove_friend("a", "b", NOON, nil, { oneway = true }) end,
      'meter:remove_friend: opts: unknown option (known: one_way), got "oneway"')
    assert.has_error(function() m:add_friend("a", "b", NOON, "e1", 5) end,
      "meter:add_friend: opts: expected a table ({ one_way = true }), got 5")
  end)

  it("ends memberships and friendships when an account is deleted", function()
    local m = meter("2020", "trial")
    m:create_account("u", NOON)
    m:create_group("g", "Public", NOON)
    m:join_group("g", "u", NOON)
    m:add_friend("u", "v", NOON)
    m:delete_account("u", NOON)
    assert.equal(0, m:members("g"))
    assert.equal(0, m:friends("v"))
    assert.equal(0, m:joined("u"))
  end)

  it("counts a join by a deleted account as any id's; the id created again keeps only what came after", function()
    local m = meter("2020", "trial")
    m:create_account("u1", NOON)
    m:create_account("u2", NOON)
    m:create_group("g", "Private", NOON)
    m:create_group("h", "Private", NOON)
    m:join_group("g", "u1", NOON)
    m:add_friend("u1", "u2", NOON)
    assert.is_true(m:delete_account("u1", NOON + 1))
    assert.equal(0, m:members("g"))
    assert.equal(0, m:friends("u2"))
    -- joins and friendships need no account (docs/rules.md, Accounts)
    assert.is_true(m:join_group("h", "u1", NOON + 2))
    assert.equal(1, m:accounts())
    assert.is_false(m:has_account("u1"))
    -- created again: one account more, against the cap, with h but not g
    assert.is_true(m:create_account("u1", NOON + 3))
    assert.equal(2, m:accounts())
    assert.equal(0, m:members("g"))
    assert.equal(1, m:members("h"))
    assert.equal(1, m:joined("u1"))
    assert.same({ true, "unchanged" }, { m:create_account("u1", NOON + 4) })
  end)

  -- docs/rules.md, Accounts: a meter started on an app that already had
  -- accounts counts joins and friendships by ids it never saw created; when
  -- Tencent deletes such an id, its memberships and friendships go with it
  describe("deleting an id the meter never saw created", function()
    local function full_group(m)
      -- trial: 20 members a group; old1 joined before the meter saw any account
      assert.is_true(m:create_group("g", "Private", NOON))
      assert.is_true(m:join_group("g", "old1", NOON))
      for i = 1, 19 do assert.is_true(m:join_group("g", "u" .. i, NOON)) end
      assert.is_true(m:add_friend("old1", "u1", NOON))
    end

    it("ends its memberships and friendships: the full group has room again", function()
      local m = meter("2020", "trial")
      full_group(m)
      local ok, r = m:join_group("g", "new", NOON)
      assert.is_false(ok)
      assert.equal(10014, r.code)
      -- Tencent deletes old1 and with it old1's membership of g
      assert.same({ true }, { m:delete_account("old1", NOON + 1) })
      assert.equal(19, m:members("g"))
      assert.equal(0, m:joined("old1"))
      assert.equal(0, m:friends("u1"))
      assert.equal(0, m:friends("old1"))
      assert.is_true(m:join_group("g", "new", NOON + 2))
      assert.equal(20, m:members("g"))
      -- no account was counted for old1: the account count stays where it was
      assert.equal(0, m:accounts())
      -- deleted again, it holds nothing: unchanged
      assert.same({ true, "unchanged" }, { m:delete_account("old1", NOON + 3) })
    end)

    it("lowers the account count only for an account counted, never below it", function()
      local m = meter("2020", "trial")
      full_group(m)
      assert.is_true(m:create_account("a", NOON))
      assert.is_true(m:delete_account("old1", NOON + 1))
      assert.equal(1, m:accounts())
      -- an id with an account and memberships: both end
      assert.is_true(m:join_group("g", "a", NOON + 1))
      assert.is_true(m:delete_account("a", NOON + 2))
      assert.equal(0, m:accounts())
      assert.equal(19, m:members("g"))
      assert.is_false(m:has_account("a"))
    end)

    it("changes nothing for an id with nothing counted", function()
      local m = meter("2020", "trial")
      full_group(m)
      assert.same({ true, "unchanged" }, { m:delete_account("nobody", NOON + 1, "d1") })
      assert.equal(20, m:members("g"))
      assert.equal(0, m:accounts())
      -- processed all the same: its id is remembered
      assert.same({ true, "duplicate" }, { m:delete_account("old1", NOON + 1, "d1") })
      assert.equal(20, m:members("g"))
    end)

    it("lets the id created again be a new account with none of it", function()
      local m = meter("2020", "trial")
      full_group(m)
      assert.is_true(m:delete_account("old1", NOON + 1))
      assert.is_true(m:create_account("old1", NOON + 2))
      assert.equal(1, m:accounts())
      assert.equal(0, m:joined("old1"))
      assert.equal(19, m:members("g"))
    end)

    it("is written once, in the core's plan: the guard and the conditions", function()
      local p = core.plan({}, "delete_account", nil, NOON, 8 * 3600)
      local ops = {}
      for _, o in ipairs(p.ops) do ops[#ops + 1] = o.op .. " " .. o.key .. (o.when and (" when " .. o.when) or "") end
      assert.same({ "ge last_day", "counted account", "add accounts when user_account", "set account when user_account",
                    "cascade_user joined", "max last_day" }, ops)
    end)
  end)

  it("raises limits with add-ons", function()
    local m = meter("2020", "pro", { addons = { "av_unlimited", "members_per_group" } })
    for i = 1, 60 do assert.is_true(m:create_group("av" .. i, "AVChatRoom", NOON)) end
    m:create_group("g", "Private", NOON)
    for i = 1, 2000 do assert.is_true(m:join_group("g", "u" .. i, NOON)) end
    assert.is_false((m:join_group("g", "u2001", NOON)))
    assert.same({ "av_unlimited", "members_per_group" }, m:usage("2021-03").addons)
  end)

  it("bills an add-on that lapsed at a change to a free edition for its month, as by hand (docs/rules.md)", function()
    -- 2020 pro with retention_30, back to trial on 2021-03-11: 10/31 of 149.99 + 79.99
    local m = meter("2020", "pro", { addons = { "retention_30" } })
    assert.is_true(m:change_edition("trial", T("2021-03-10T16:00:00Z")))
    assert.same({}, m:addons())
    assert.same({ "retention_30" }, m:usage("2021-03").addons)
    assert.equal("128.37", tostring(m:invoice("2021-03").total))
    assert.equal("128.37", tostring(imbill.invoice { book = "2020", edition = "pro", month = "2021-03",
      change = { on = "2021-03-11", to = "trial" }, activated_before = true, addons = { "retention_30" } }.total))
    -- April is all trial: no add-on, nothing billed
    assert.is_nil(m:usage("2021-04").addons)
    assert.equal("0.00", tostring(m:invoice("2021-04").total))
  end)

  it("leaves out an add-on the month's last paid edition does not sell (pro to flagship, av_unlimited)", function()
    local m = meter("2020", "pro", { addons = { "av_unlimited", "members_per_group" } })
    assert.is_true(m:change_edition("flagship", T("2021-03-20T16:00:00Z")))
    assert.same({ "members_per_group" }, m:usage("2021-03").addons)
    -- pro 20/31 of 149.99 + flagship 11/31 of 449.99 + members_per_group 79.99
    assert.equal("336.43", tostring(m:invoice("2021-03").total))
    assert.same({ "av_unlimited", "members_per_group" }, m:usage("2021-02").addons)
  end)

  it("counts nothing for a refused action", function()
    local m = meter("2020", "trial")
    for i = 1, 10 do m:create_group("av" .. i, "AVChatRoom", NOON) end
    local before = { m:groups() }
    assert.is_false((m:create_group("av11", "AVChatRoom", NOON)))
    assert.same(before, { m:groups() })
    assert.is_nil(m:members("av11"))
    -- the refused id is free: disband one, and the same id can be created
    m:disband_group("av1", NOON)
    assert.is_true(m:create_group("av11", "AVChatRoom", NOON))
  end)

  it("refuses a group id in use (10021) and a group that does not exist (10010)", function()
    local m = meter("2020", "pro")
    m:create_group("g", "Public", NOON)
    local ok, r = m:create_group("g", "Public", NOON)
    assert.is_false(ok)
    assert.equal(10021, r.code)
    ok, r = m:join_group("nope", "u", NOON)
    assert.is_false(ok)
    assert.equal(10010, r.code)
    ok, r = m:disband_group("nope", NOON)
    assert.is_false(ok)
    assert.equal(10010, r.code)
  end)

  it("never refuses a login, even on a free edition", function()
    local m = meter("2022", "developer")
    for i = 1, 500 do assert.is_true(m:login("u" .. i, T("2023-03-01T04:00:00Z"))) end
    assert.equal(500, m:mau("2023-03"))
  end)
end)

-- A refusal's sentence is pasted to a customer: it must be true.  After a
-- downgrade a user may hold more than the new limit (lowering a limit is not
-- retroactive), so a sentence states the count and the limit, and it advises
-- an add-on only where the book sells one for the edition in force.
describe("meter refusal sentences", function()
  it("after pro -> trial, a user with 30 friends hears 30 and the limit of 20", function()
    local m = meter("2020", "pro")
    for i = 1, 30 do assert.is_true(m:add_friend("a", "f" .. i, NOON)) end
    for i = 1, 50 do assert.is_true(m:create_group("g" .. i, "Public", NOON + i)) end
    for i = 1, 60 do assert.is_true(m:join_group("g" .. (i % 50 + 1), "a", NOON + 100 + i)) end
    for i = 51, 60 do assert.is_true(m:create_group("g" .. i, "Public", NOON + 200 + i)) end
    for i = 1, 60 do m:join_group("g" .. i, "a", NOON + 300) end
    assert.is_true(m:change_edition("trial", NOON + 86400 * 30))
    local later = NOON + 86400 * 31
    local ok, r = m:add_friend("a", "new", later)
    assert.is_false(ok)
    assert.equal(30010, r.code)
    assert.matches("already has 30 friends and the trial edition %(price book 2020%) allows at most 20", r.message)
    ok, r = m:add_friend("new", "a", later)
    assert.is_false(ok)
    assert.equal(30014, r.code)
    assert.matches("already has 30 friends and the trial edition %(price book 2020%) allows at most 20", r.message)
    assert.is_true(m:create_group("x", "AVChatRoom", later))
    ok, r = m:join_group("x", "a", later + 1)
    assert.is_false(ok)
    assert.equal(10037, r.code)
    assert.matches("has joined 60 groups and the trial edition %(price book 2020%) allows at most 50%. "
      .. "Leave a group or upgrade%.$", r.message)
  end)

  it("advises the members add-on on pro, which sells it, and not on trial or in 2022", function()
    local cases = { { "2020", "pro", 200, true }, { "2020", "trial", 20, false }, { "2022", "standard", 200, false } }
    for _, c in ipairs(cases) do
      local m = meter(c[1], c[2])
      local t = c[1] == "2022" and core.parse_date("2023-03-01") * 86400 or NOON
      assert.is_true(m:create_group("g", "Private", t))
      for i = 1, c[3] do assert.is_true(m:join_group("g", "u" .. i, t)) end
      local ok, r = m:join_group("g", "one_more", t)
      assert.is_false(ok)
      assert.equal(10014, r.code)
      assert.matches("it has " .. c[3] .. " members and the " .. c[2] .. " edition", r.message)
      assert.equal(c[4], r.message:find("members-per-group add-on", 1, true) ~= nil, c[1] .. " " .. c[2])
    end
  end)

  it("10010 for an event seconds before the group's creation, the same day, does not say \"later than\" that day",
    function()
      local m = meter("2020", "pro")
      assert.is_true(m:create_group("g", "Public", NOON))
      local ok, r = m:join_group("g", "u", NOON - 60)
      assert.is_false(ok)
      assert.equal(10010, r.code)
      assert.equal('Error 10010: group "g" does not exist at the event\'s time on 2021-03-10 (it was never created, '
        .. "was created later, or has been disbanded).", r.message)
    end)

  it("advises the unlimited AVChatRoom add-on only where it is sold (pro of 2020 and 2021)", function()
    local m = meter("2020", "trial")
    for i = 1, 10 do assert.is_true(m:create_group("av" .. i, "AVChatRoom", NOON + i)) end
    local ok, r = m:create_group("av11", "AVChatRoom", NOON + 20)
    assert.is_false(ok)
    assert.matches("Disband an AVChatRoom or upgrade%.$", r.message)
    m = meter("2021", "pro")
    local t = core.parse_date("2021-09-01") * 86400
    for i = 1, 50 do assert.is_true(m:create_group("av" .. i, "AVChatRoom", t + i)) end
    ok, r = m:create_group("av51", "AVChatRoom", t + 60)
    assert.is_false(ok)
    assert.matches("Disband an AVChatRoom, upgrade, or buy the unlimited AVChatRoom add%-on%.$", r.message)
  end)
end)

describe("meter event ids", function()
  it("keeps an id past 34 days until m:release frees its day (the README's 'seen before')", function()
    local m = meter("2020", "pro")
    assert.is_true(m:login("a", NOON, "e1"))
    m:login("b", NOON + 40 * 86400)
    assert.same({ true, "duplicate" }, { m:login("a", NOON + 41 * 86400, "e1") })
    m:release("2021-03-11")
    assert.is_true(m:login("a", NOON + 41 * 86400, "e1"))
  end)

  it("ignores a replayed id and reports it as a duplicate", function()
    local m = meter("2020", "trial")
    assert.is_true(m:create_account("u1", NOON, "e1"))
    local ok, why = m:create_account("u1", NOON, "e1")
    assert.is_true(ok)
    assert.equal("duplicate", why)
    assert.is_true(m:create_group("g", "Public", NOON, "e2"))
    m:disband_group("g", NOON, "e3")
    assert.same({ true, "duplicate" }, { m:create_group("g", "Public", NOON, "e2") })
    assert.equal(0, (m:groups()))
    m:login("u1", NOON, "e4")
    m:login("u2", NOON, "e4")
    assert.equal(1, m:dau("2021-03-10"))
  end)

  it("does not remember the id of a refused event, so it can be retried", function()
    local m = meter("2020", "trial")
    for i = 1, 100 do m:create_account("u" .. i, NOON) end
    assert.is_false((m:create_account("x", NOON, "e-x")))
    m:delete_account("u1", NOON)
    assert.is_true(m:create_account("x", NOON, "e-x"))
  end)

  it("counts an edition change's id once, like every event's (docs/meter.md, Event ids)", function()
    local m = meter("2020", "trial")
    -- trial to pro on 2021-03-20; the same id again, for another change, changes nothing
    assert.is_true(m:change_edition("pro", T("2021-03-20T00:00:00Z"), "c1"))
    assert.same({ true, "duplicate" }, { m:change_edition("flagship", T("2021-04-10T00:00:00Z"), "c1") })
    assert.equal("pro", m:edition(T("2021-04-20T00:00:00Z")).id)
    -- the ids are one set: an account's id is not a change's, nor the reverse
    assert.same({ true, "duplicate" }, { m:create_account("u1", NOON, "c1") })
    assert.is_true(m:create_account("u2", NOON, "e2"))
    assert.same({ true, "duplicate" }, { m:change_edition("flagship", T("2021-04-10T00:00:00Z"), "e2") })
    -- a change with an id counts its day as reached (the id is saved with it)
    assert.equal("2021-03-20", m:last_day())
    -- a new id applies; the file keeps the id, and the loaded meter answers the same
    assert.is_true(m:change_edition("flagship", T("2021-04-10T00:00:00Z"), "c2"))
    local path = os.tmpname()
    m:save(path)
    local l = imbill.meter.load(path)
    os.remove(path)
    assert.same({ true, "duplicate" }, { l:change_edition("trial", T("2021-05-10T00:00:00Z"), "c2") })
    assert.equal("flagship", l:edition(T("2021-05-20T00:00:00Z")).id)
  end)

  it("does not remember a refused change's id, and checks it as every event id", function()
    local m = meter("2021", "free")
    assert.is_true(m:change_edition("pro", T("2022-11-10T00:00:00Z")))
    -- a second change in November is refused; in December the same id applies
    local ok, r = m:change_edition("ultimate", T("2022-11-20T00:00:00Z"), "c1")
    assert.is_false(ok)
    assert.equal("one_change_per_month", r.code)
    assert.is_true(m:change_edition("ultimate", T("2022-12-01T00:00:00Z"), "c1"))
    assert.equal('meter:change_edition: event id: expected a non-empty string id, got ""',
      H.err(m.change_edition, m, "pro", T("2023-01-10T00:00:00Z"), ""))
  end)
end)

describe("meter edition changes", function()
  it("applies new limits from the change on, not to what exists", function()
    local m = meter("2020", "pro")
    local t0, t1 = T("2021-02-01T04:00:00Z"), T("2021-03-15T04:00:00Z")
    for i = 1, 30 do m:add_friend("u", "f" .. i, t0) end
    for i = 1, 40 do m:create_account("a" .. i, t0) end
    m:create_group("big", "Public", t0)
    for i = 1, 100 do m:join_group("big", "m" .. i, t0) end
    assert.is_true(m:change_edition("trial", t1))
    assert.equal(30, m:friends("u"))
    assert.equal(100, m:members("big"))
    local ok, r = m:add_friend("u", "f31", t1)
    assert.is_false(ok)
    assert.equal(30010, r.code)
    assert.equal("trial", r.edition)
    assert.is_false((m:join_group("big", "m101", t1)))
    -- a late event from before the change still meets the old limits
    assert.is_true(m:add_friend("u", "f31", t1 - 86400))
    assert.equal("pro", m:edition(t1 - 1).id)
    assert.equal("trial", m:edition().id)
  end)

  it("refuses a second change in the same calendar month", function()
    local m = meter("2021", "free")
    assert.is_true(m:change_edition("pro", T("2022-11-10T04:00:00Z")))
    local ok, r = m:change_edition("ultimate", T("2022-11-20T04:00:00Z"))
    assert.is_false(ok)
    assert.equal("one_change_per_month", r.code)
    assert.is_true(m:change_edition("ultimate", T("2022-12-01T04:00:00Z")))
  end)

  it("refuses going back to a free edition where the book forbids it", function()
    local m = meter("2021", "pro")
    local ok, r = m:change_edition("free", T("2022-11-10T04:00:00Z"))
    assert.is_false(ok)
    assert.equal("no_return_to_free", r.code)
    local m2 = meter("2020", "pro")
    assert.is_true(m2:change_edition("trial", T("2021-03-10T04:00:00Z")))
  end)

  it("shows the change and the first activation to the invoice", function()
    local m = meter("2021", "free")
    m:change_edition("pro", T("2022-11-09T16:00:00Z")) -- 2022-11-10 00:00 in UTC+8
    local u = m:usage("2022-11")
    assert.equal("free", u.edition)
    assert.same({ on = "2022-11-10", to = "pro" }, u.change)
    assert.equal("2022-11-10", u.activated)
    local inv = imbill.invoice(u)
    assert.equal("314.99", tostring(inv.total)) -- docs/rules.md, Plan fee: 449.99 x 21/30
    local dec = m:usage("2022-12")
    assert.equal("pro", dec.edition)
    assert.is_nil(dec.change)
  end)

  -- SPEC.md section 4: the month a paid edition is first activated has no plan
  -- fee (2020), and there is no plan fee before it. A meter started on pro
  -- with activated = 2021-03-10 that is asked for February holds facts that
  -- cannot have happened (pro in force on 2021-02-01, first paid activation
  -- in March): imbill.invoice refuses the same facts given by hand, so the
  -- meter's month is refused too, not billed 149.99.
  it("refuses the invoice of a month before the meter's first paid activation, as imbill.invoice does", function()
    local m = meter("2020", "pro", { activated = "2021-03-10" })
    m:login("u1", T("2021-02-01T04:00:00Z"))
    local want = "activated: is after the invoice month 2021-02, got \"2021-03-10\""
    local ok, err = pcall(imbill.invoice, { book = "2020", edition = "pro", month = "2021-02", peak_dau = 1,
                                            activated = "2021-03-10" })
    assert.is_false(ok)
    assert.equal("imbill.invoice: " .. want, tostring(err))
    assert.equal("2021-03-10", m:usage("2021-02").activated)
    ok, err = pcall(m.invoice, m, "2021-02")
    assert.is_false(ok)
    assert.equal("meter:invoice: " .. want, tostring(err))
    -- the activation month and after are billed as before: 0.00 (2020), then a full month
    assert.equal("0.00", tostring(m:invoice("2021-03").total))
    assert.equal("149.99", tostring(m:invoice("2021-04").total))
  end)

  it("bills a free month before a later first paid activation as the free edition", function()
    local m = meter("2020", "trial")
    m:login("u1", T("2021-02-01T04:00:00Z"))
    assert.is_true(m:change_edition("pro", NOON)) -- 2021-03-10
    assert.is_nil(m:usage("2021-02").activated)
    assert.equal("0.00", tostring(m:invoice("2021-02").total))
    assert.equal("0.00", tostring(m:invoice("2021-03").total))
    assert.equal("149.99", tostring(m:invoice("2021-04").total))
  end)
end)

describe("meter usage", function()
  it("prices a metered month exactly as its hand-written usage", function()
    local m = meter("2020", "pro")
    local first = core.parse_date("2021-03-01")
    -- day d of March: 10,000 + 500*d distinct users (peak 25,500 on the 31st)
    for d = 1, 31 do
      local t = (first + d - 1) * 86400 + 4 * 3600
      for i = 1, 10000 + 500 * d do m:login("u" .. i, t) end
    end
    for i = 1, 250 do m:create_group("g" .. i, "Public", (first + 4) * 86400) end
    local metered = imbill.invoice(m:usage("2021-03"))
    local hand = imbill.invoice{ book = "2020", edition = "pro", month = "2021-03", peak_dau = 25500,
                                 groups_peak = 250, mau = 25500 }
    assert.equal(hand.total, metered.total)
    assert.equal("449.97", tostring(metered.total))
    assert.equal(25500, m:mau("2021-03"))
  end)

  it("returns a table imbill.invoice accepts for a user book", function()
    local book = imbill.book{ base = "2020", name = "what-if", editions = { pro = { monthly_fee = "129.99" } } }
    local m = imbill.meter{ book = book, edition = "pro" }
    m:login("u", NOON)
    assert.equal("129.99", tostring(imbill.invoice(m:usage("2021-03")).total))
  end)
end)

describe("meter login window", function()
  local function day_t(d) return T(d .. "T04:00:00Z") end -- noon in UTC+8

  it("counts a login exactly 63 days late and refuses one 64 days late", function()
    local m = meter("2020", "pro")
    m:login("a", day_t("2021-03-01"))
    m:login("z", day_t("2021-05-03")) -- 63 days after March 1
    assert.is_true(m:login("b", day_t("2021-03-01")))
    assert.equal(2, m:dau("2021-03-01"))
    assert.equal(2, m:mau("2021-03"))
    assert.is_true(m:login("a", day_t("2021-03-01"))) -- already counted: still fine
    m:login("z", day_t("2021-05-04")) -- March 1 is now 64 days back
    local ok, r = m:login("c", day_t("2021-03-01"))
    assert.is_false(ok)
    assert.equal("closed", r.code)
    assert.equal("day_open", r.limit)
    assert.matches("at most 63 days late", r.message)
    assert.equal(2, m:dau("2021-03-01"))
    assert.is_true(m:login("c", day_t("2021-03-02")))
    assert.equal(1, m:dau("2021-03-02"))
    assert.equal(3, m:mau("2021-03"))
  end)

  it("keeps DAU and MAU exact for a user seen again after long gaps", function()
    local m = meter("2020", "pro")
    m:login("a", day_t("2021-01-31"))
    m:login("a", day_t("2021-04-03")) -- 62 days later: the January bit is still in reach
    assert.is_true(m:login("a", day_t("2021-02-01")))
    assert.is_true(m:login("a", day_t("2021-01-31")))
    assert.equal(1, m:dau("2021-01-31"))
    assert.equal(1, m:dau("2021-02-01"))
    assert.equal(1, m:mau("2021-01"))
    assert.equal(1, m:mau("2021-02"))
    m:login("a", day_t("2021-09-01")) -- months later: nothing old is carried over
    m:login("a", day_t("2021-08-31"))
    assert.equal(1, m:mau("2021-08"))
    assert.equal(1, m:mau("2021-09"))
    assert.equal(1, m:dau("2021-08-31"))
  end)

  it("advances with any counted event, not only logins", function()
    local m = meter("2020", "pro")
    m:create_group("g", "Public", day_t("2021-06-01"))
    local ok, r = m:login("a", day_t("2021-03-29"))
    assert.is_false(ok)
    assert.equal("closed", r.code)
    assert.is_true(m:login("a", day_t("2021-03-30")))
  end)
end)

describe("meter memory release", function()
  it("frees old days' sets but keeps their totals, and refuses events for them", function()
    local m = meter("2020", "pro")
    m:login("a", NOON)
    m:login("b", NOON)
    m:login("a", T("2021-05-01T04:00:00Z"))
    assert.truthy(H.err(m.release, m, "2021-04-01"):match("dedup window"))
    assert.is_true(m:release("2021-03-28"))
    assert.equal(2, m:dau("2021-03-10"))
    assert.equal(2, m:mau("2021-03"))
    local ok, r = m:login("c", NOON)
    assert.is_false(ok)
    assert.equal("closed", r.code)
    assert.equal(2, m:dau("2021-03-10"))
  end)
end)

describe("meter bad input", function()
  local m = meter("2020", "pro")
  it("names the field and value", function()
    assert.matches("user: expected a non%-empty string id, got 42", H.err(m.login, m, 42, NOON))
    assert.matches("t: expected an instant in whole Unix seconds, got 2.5", H.err(m.login, m, "u", 2.5))
    assert.matches("t: expected an instant", H.err(m.login, m, "u", "soon"))
    assert.matches("outside years", H.err(m.login, m, "u", 2 ^ 52))
    assert.matches("unknown group type.*\"Chat\"", H.err(m.create_group, m, "g", "Chat", NOON))
    assert.matches("event id: expected a non%-empty string id, got 7", H.err(m.login, m, "u", NOON, 7))
    assert.matches("own friend", H.err(m.add_friend, m, "u", "u", NOON))
    assert.matches('month: malformed month %(expected YYYY%-MM%), got "2021%-3"', H.err(m.usage, m, "2021-3"))
    assert.matches("date: malformed date", H.err(m.dau, m, "yesterday"))
    assert.matches("edition", H.err(imbill.meter, { book = "2020", edition = "gold" }))
    assert.matches("peek: unknown field", H.err(imbill.meter, { book = "2020", edition = "pro", peek = 1 }))
    assert.matches("tz", H.err(imbill.meter, { book = "2020", edition = "pro", tz = "+25:00" }))
    assert.matches("not sold for edition trial",
      H.err(imbill.meter, { book = "2020", edition = "trial", addons = { "av_unlimited" } }))
    -- add-ons named as fields would count for nothing: the list is refused
    assert.equal('imbill.meter: addons: expected a list of add-on ids, not named fields, got "av_unlimited"',
      H.err(imbill.meter, { book = "2020", edition = "pro", addons = { av_unlimited = true } }))
    -- an add-on listed twice is refused where it is given: an invoice of the
    -- meter would refuse it every month
    assert.equal('imbill.meter: addons[2]: is listed twice (addons[1] names it already), got "av_unlimited"',
      H.err(imbill.meter, { book = "2020", edition = "pro", addons = { "av_unlimited", "av_unlimited" } }))
    assert.matches("addons%[2%]: a list has no holes",
      H.err(imbill.meter, { book = "2020", edition = "pro", addons = { "av_unlimited", nil, "members_per_group" } }))
    assert.matches("book", H.err(imbill.meter, { edition = "pro" }))
    assert.matches("edition", H.err(m.change_edition, m, "gold", NOON))
  end)

  -- The meter takes the instants whose day is a calendar day in every zone:
  -- UTC days 0001-01-02 .. 9999-12-30.  9999-12-31T00:00:00Z is in year 9999,
  -- so the refusal says where the bound lies.
  it("says the instants it takes at both ends of the calendar", function()
    local mm = meter("2020", "pro")
    local LAST, FIRST = 253402214399, -62135510400 -- 9999-12-30T23:59:59Z, 0001-01-02T00:00:00Z
    mm:set_clock(LAST)
    assert.is_true((mm:login("z", LAST)))
    local early = meter("2020", "pro")
    assert.is_true((early:login("a", FIRST)))
    local want = "instant is outside years 1..9999 in every time zone "
      .. "(0001-01-02T00:00:00Z to 9999-12-30T23:59:59Z), got "
    assert.equal("meter:login: t: " .. want .. "253402214400", H.err(mm.login, mm, "u", LAST + 1))
    assert.equal("meter:login: t: " .. want .. "-62135510401", H.err(mm.login, mm, "u", FIRST - 1))
    assert.equal("meter:set_clock: t: " .. want .. "253402214400", H.err(mm.set_clock, mm, LAST + 1))
    assert.equal("meter:logins: times[2]: " .. want .. "253402214400",
      H.err(mm.logins, mm, { "u", "v" }, { LAST, LAST + 1 }))
  end)

  -- A meter begun on a paid edition stands for an activation before its
  -- history: its invoice of 0001-01 has no such day, and says so of the month
  -- asked, not of a field the caller never gave.
  it("refuses the invoice of 0001-01 of a meter begun on a paid edition, naming the month", function()
    local mm = meter("2020", "pro")
    assert.equal('meter:invoice: month: the meter began on a paid edition, so its first paid activation came '
      .. 'before its history; no day comes before 0001-01, the calendar\'s first month, to stand for it, '
      .. 'got "0001-01"', H.err(mm.invoice, mm, "0001-01"))
    -- the next month has a day before it, and invoices
    assert.is_true(mm:invoice("0001-02").total ~= nil)
    -- other refusals of the invoice keep their field
    assert.equal('meter:invoice: month: no such month, got "2021-13"', H.err(mm.invoice, mm, "2021-13"))
  end)
end)

describe("the store-neutral plan (docs/store.md)", function()
  local lim = { accounts = 100, same_day_disbands = false }
  local T0 = 1614556800 -- 2021-03-01T00:00:00Z
  it("writes an account import as guards and effects on named keys, reading no count", function()
    local p = core.plan(lim, "create_account", nil, T0, 8 * 3600)
    assert.is_false(p.refused)
    local ops = {}
    for i, o in ipairs(p.ops) do ops[i] = o.op .. " " .. o.key .. (o.fail and (" " .. o.fail) or "") end
    assert.same({ "ge last_day refuse", "eq account noop", "add accounts refuse", "set account", "max last_day" }, ops)
    assert.equal(100, p.ops[3].bound)
    assert.equal(70398, p.ops[3].code)
  end)
  it("refuses a Community group on an edition without the community feature before any store is read", function()
    local p = core.plan(lim, "create_group", "Community", T0, 8 * 3600)
    assert.is_true(p.refused)
    assert.same({ code = 10059, limit = "feature" }, p.refusal)
    local q = core.plan({ features = { "community" } }, "create_group", "Community", T0, 8 * 3600)
    assert.is_false(q.refused)
  end)
  it("bounds a join by the group's own type, which only the store knows", function()
    local p = core.plan({ members = { Private = 20, Public = 200 } }, "join_group", nil, T0, 0)
    local sadd
    for _, o in ipairs(p.ops) do if o.op == "sadd" and o.key == "members" then sadd = o end end
    assert.is_true(sadd.by_type)
    assert.equal(10014, sadd.code)
    assert.same({ Private = 20, Public = 200 }, p.by_type)
  end)
end)
