-- What the gateway counts is what an in-process meter counts: a mixed stream
-- of callbacks and REST calls (with refusals, retries, forgeries and
-- replays) goes through the gateway; every event the gateway accepted is fed
-- to an imbill.meter; the usage location's month and invoice, and the
-- `imbill gateway` command's, equal the meter's.  Calls Tencent answers item
-- by item feed the meter the items the client's answer says were done.
local h = require "ngx_helper"
local cjson = require "cjson"
local imbill = require "imbill"

local EX, TOKEN = "1400000004", "xxxxyyyy"
local OFFSET = 8 * 3600

local function month_start(t)
  local y, m = os.date("!%Y", t + OFFSET), os.date("!%m", t + OFFSET)
  return tonumber(y), tonumber(m)
end

local function first_instant(y, m)
  -- 00:00 +08:00 on the 1st of y-m
  return os.time { year = y, month = m, day = 1, hour = 0, min = 0, sec = 0, isdst = false }
    - (os.time { year = 1970, month = 1, day = 1, hour = 0, isdst = false }) - OFFSET
end

local function month_name(y, m) return string.format("%04d-%02d", y, m) end

local function cb(cmd, body, opts)
  body.CallbackCommand = cmd
  return h.callback(EX, cmd, TOKEN, body, opts)
end

-- Invoice data with money as strings either way, compared as plain data.
local function normal(t) return cjson.decode(cjson.encode(t)) end

describe("the gateway and an in-process meter fed the same accepted events", function()
  before_each(h.flush)

  it("give the same month and the same invoice", function()
    local now = h.http.seconds()
    local cy, cm = month_start(now)
    local py, pm = cm == 1 and cy - 1 or cy, cm == 1 and 12 or cm - 1
    local prev0 = first_instant(py, pm)
    local m = imbill.meter { book = "2021", edition = "pro", tz = "+08:00" }
    local accepted = 0
    local function ok(r)
      assert.are.equal(200, r.status, r.body)
      accepted = accepted + 1
    end

    math.randomseed(7)
    -- last month, through callbacks at chosen instants
    for i = 1, 300 do
      local u = "u" .. math.random(1, 60)
      local t = prev0 + math.random(0, 27) * 86400 + math.random(0, 86399)
      ok(cb("State.StateChange", { EventTime = t * 1000 + i, Info = { Action = "Login", To_Account = u } }))
      m:login(u, t)
    end
    local groups = {}
    for i = 1, 40 do
      local t = prev0 + (i % 20) * 86400 + 3600 + i
      local gid = "g" .. i
      ok(cb("Group.CallbackAfterCreateGroup", { GroupId = gid, Type = "Public", EventTime = t * 1000,
                                                 Owner_Account = "u" .. i }))
      m:create_group(gid, "Public", t)
      m:join_group(gid, "u" .. i, t)
      groups[#groups + 1] = { gid, t }
    end
    for i = 1, 15 do
      local g = groups[i * 2]
      local t = g[2] + 7200
      ok(cb("Group.CallbackAfterGroupDestroyed", { GroupId = g[1], Type = "Public", EventTime = t * 1000 }))
      m:disband_group(g[1], t)
    end
    -- a create and a disband of another group at one instant: the disband counts first
    local same = prev0 + 10 * 86400 + 5000
    ok(cb("Group.CallbackAfterCreateGroup", { GroupId = "s1", Type = "Public", EventTime = same * 1000 }))
    m:create_group("s1", "Public", same)
    ok(cb("Group.CallbackAfterGroupDestroyed", { GroupId = "g1", Type = "Public", EventTime = same * 1000 }))
    m:disband_group("g1", same)
    -- AVChatRoom up to the cap and past it: both refuse the same ones
    for i = 1, 53 do
      local t = prev0 + 15 * 86400 + i
      ok(cb("Group.CallbackAfterCreateGroup", { GroupId = "av" .. i, Type = "AVChatRoom", EventTime = t * 1000 }))
      m:create_group("av" .. i, "AVChatRoom", t)
    end
    -- Tencent's retries of events already counted: the gateway counts them once,
    -- the meter is not fed them again
    ok(cb("Group.CallbackAfterCreateGroup", { GroupId = "g3", Type = "Public", EventTime = groups[3][2] * 1000,
                                               Owner_Account = "u3" }, { request_time = now - 1 }))
    ok(cb("State.StateChange", { EventTime = (prev0 + 100) * 1000 + 1, Info = { Action = "Login", To_Account = "u1" } },
      { request_time = now - 2 }))
    m:login("u1", prev0 + 100)
    -- forged and replayed requests count nothing and are not fed
    assert.are.equal(403, cb("State.StateChange", { EventTime = prev0 * 1000, Info = { Action = "Login",
      To_Account = "mallory" } }, { sign = string.rep("f", 64) }).status)
    local body = { EventTime = (prev0 + 5 * 86400) * 1000, Info = { Action = "Login", To_Account = "eve" } }
    local opts = { request_time = now }
    ok(cb("State.StateChange", body, opts))
    m:login("eve", prev0 + 5 * 86400)
    assert.are.equal(403, cb("State.StateChange", body, opts).status)

    -- this month, through the REST API (the meter gets the answer's time)
    for i = 1, 30 do
      local _, v = h.rest("im_open_login_svc/account_import", EX, { UserID = "acct" .. i })
      assert.are.equal("OK", v.ActionStatus)
      m:create_account("acct" .. i, h.http.seconds())
    end
    for i = 1, 12 do
      local _, v = h.rest("group_open_http_svc/create_group", EX, { Type = "Public", GroupId = "now" .. i })
      assert.are.equal("OK", v.ActionStatus)
      m:create_group("now" .. i, "Public", h.http.seconds())
    end
    local _, av = h.rest("group_open_http_svc/create_group", EX, { Type = "AVChatRoom", GroupId = "av-now" })
    assert.are.equal(10036, av.ErrorCode)
    assert.is_false((m:create_group("av-now", "AVChatRoom", h.http.seconds())))
    -- the destroy in a later second than every create, for the meter and the
    -- gateway alike: a create and a destroy in one second net out in the day's
    -- peak.  Seconds on nginx's clock (seconds(), not os.time(), which lags it
    -- by about 4 ms: a create in a second's first milliseconds was counted in
    -- the same second as the destroy, and the peaks differed by one)
    local created = h.http.seconds()
    while h.http.seconds() <= created do h.sleep(0.05) end
    h.rest("group_open_http_svc/destroy_group", EX, { GroupId = "now5" })
    h.eventually(function() return not h.keys(EX)["g:4:now5"] end, "the disband")
    m:disband_group("now5", h.http.seconds())
    for i = 1, 20 do
      local u = "acct" .. i
      local t = h.http.seconds()
      ok(cb("State.StateChange", { EventTime = t * 1000 + i, Info = { Action = "Login", To_Account = u } }))
      m:login(u, t)
    end
    assert.is_true(accepted > 400)

    for _, mo in ipairs { month_name(py, pm), month_name(cy, cm) } do
      local r = h.http.get("/imbill/usage?sdkappid=" .. EX .. "&month=" .. mo)
      assert.are.equal(200, r.status, r.body)
      local doc = cjson.decode(r.body)
      local want = m:usage(mo)
      assert.are.same(want.dau, doc.usage.dau, mo .. " dau")
      assert.are.same(want.groups, doc.usage.groups, mo .. " groups")
      assert.are.equal(want.mau, doc.usage.mau, mo .. " mau")
      assert.are.same(normal(m:invoice(mo):data()), doc.invoice, mo .. " invoice")
      -- the `imbill gateway` command reads the same month through the usage
      -- location, on both runtimes, and invoices it the same
      for _, rt in ipairs { "lua5.4", "luajit" } do
        local p = io.popen(string.format("%s %s/bin/imbill gateway --url http://127.0.0.1:%d/imbill/usage --app %s"
          .. " --month %s --json 2>&1", rt, os.getenv("IMBILL_TOP"), h.http.port, EX, mo))
        local out = p:read("*a")
        p:close()
        assert.are.same(normal(m:invoice(mo):data()), cjson.decode(out), rt .. " " .. mo .. ": " .. out:sub(1, 300))
      end
    end
    local k = h.keys(EX)
    assert.are.equal(m:accounts(), k["c:accounts"])
    local total = m:groups()
    assert.are.equal(total, k["c:groups"])
  end)

  it("give the same invoice for an app on a user's price book, through the location and the command", function()
    local APP = "1400000016"
    local BOOK = { base = "2020", name = "resold", editions = { flagship = { limits = { daily_net_groups = "unlimited" } } } }
    local m = imbill.meter { book = BOOK, edition = "flagship" }
    local now = os.time()
    for i = 1, 3 do
      local _, v = h.rest("im_open_login_svc/account_import", APP, { UserID = "resold" .. i })
      assert.are.equal("OK", v.ActionStatus)
      m:create_account("resold" .. i, now)
    end
    local mo = os.date("!%Y-%m", now + OFFSET)
    local r = h.http.get("/imbill/usage?sdkappid=" .. APP .. "&month=" .. mo)
    assert.are.equal(200, r.status, r.body)
    local doc = cjson.decode(r.body)
    -- the book travels as the table that derives it: its name alone names
    -- nothing outside this gateway
    assert.are.same(BOOK, doc.usage.book)
    assert.are.same(normal(m:invoice(mo):data()), doc.invoice)
    for _, rt in ipairs { "lua5.4", "luajit" } do
      local p = io.popen(string.format("%s %s/bin/imbill gateway --url http://127.0.0.1:%d/imbill/usage --app %s"
        .. " --month %s --json 2>&1", rt, os.getenv("IMBILL_TOP"), h.http.port, APP, mo))
      local out = p:read("*a")
      p:close()
      local ok, v = pcall(cjson.decode, out)
      assert.is_true(ok, rt .. ": " .. out:sub(1, 300))
      assert.are.same(normal(m:invoice(mo):data()), v, rt .. ": " .. out:sub(1, 300))
    end
  end)

  -- Tencent answers these calls item by item: some items FAIL (the stub's
  -- "fail-" ids), some are left undone ("invite-" members, "pending-"
  -- friends), and the gateway refuses others over a cap.  The client's
  -- answer says which were done; the meter is fed exactly those, and every
  -- count the gateway keeps must be the meter's: accounts, each group's
  -- members, each user's groups and friends, and the invoice.
  it("keep the same counts for calls Tencent answers item by item, some items FAIL and others OK", function()
    local APP = "1400000002" -- 2020 trial: 100 accounts, 20 members a group, 20 friends a list, 50 groups a user
    local m = imbill.meter { book = "2020", edition = "trial" }
    local now = h.http.seconds
    math.randomseed(11)
    local users, groups = {}, {}
    for i = 1, 12 do users[i] = "p" .. i end
    local function pick(list) return list[math.random(#list)] end
    -- an id Tencent fails, leaves undone, or does
    local function item_id(base, undone)
      local r = math.random(10)
      if r == 1 then return "fail-" .. base end
      if r == 2 and undone then return undone .. base end
      return base
    end
    local counts = { accounts = 0, joins = 0, friends = 0, refused = 0, failed = 0 }
    local function fed(ok, what)
      assert.is_true(ok ~= false, "the meter refused what Tencent did: " .. what)
    end
    -- the users and the members they bring: accounts Tencent has, so their
    -- deletes end what they joined and befriended in the meter too
    local known = {}
    for _, p in ipairs(users) do
      for _, u in ipairs { p, p .. "x1", p .. "x2", p .. "x3", p .. "x4" } do known[#known + 1] = u end
    end
    local _, kv = h.rest("im_open_login_svc/multiaccount_import", APP, { Accounts = known })
    assert.are.same({}, kv.FailAccounts)
    for _, u in ipairs(known) do fed(m:create_account(u, now()), "account " .. u) end
    -- accounts, both list forms, past the cap of 100
    for batch = 1, 7 do
      local ids, body = {}, {}
      for i = 1, 9 do ids[i] = item_id("acct" .. batch .. "-" .. i) end
      if batch % 2 == 0 then
        body.Accounts = ids
      else
        local list = {}
        for i, u in ipairs(ids) do list[i] = { UserID = u } end
        body.AccountList = list
      end
      local _, v = h.rest("im_open_login_svc/multiaccount_import", APP, body)
      local failed = {}
      for _, u in ipairs(v.FailAccounts or {}) do failed[u] = true end
      for _, u in ipairs(ids) do
        if failed[u] then
          counts.failed = counts.failed + 1
        else
          assert.are.equal("OK", v.ActionStatus, "batch " .. batch)
          fed(m:create_account(u, now()), "account " .. u)
          counts.accounts = counts.accounts + 1
        end
      end
    end
    for i = 1, 8 do
      local gid = "pg" .. i
      local _, v = h.rest("group_open_http_svc/create_group", APP, { Type = "Public", GroupId = gid,
        Owner_Account = pick(users) })
      assert.are.equal("OK", v.ActionStatus)
      groups[#groups + 1] = gid
    end
    h.settled()
    -- the creates: fed from what the store shows each group's owner is
    local k0 = h.keys(APP)
    for _, gid in ipairs(groups) do
      fed(m:create_group(gid, "Public", now()), "group " .. gid)
      local owner = k0["gm:" .. #gid .. ":" .. gid .. "@1"]
      if owner then fed(m:join_group(gid, owner, now()), "owner of " .. gid) end
    end
    for step = 1, 160 do
      local op = math.random(5)
      local t = now()
      if op == 1 then
        -- members: added (1), already members (2), failed (0), only invited (3), refused over the cap (0)
        local gid, list, want = pick(groups), {}, {}
        for i = 1, math.random(1, 8) do
          local u = item_id(pick(users) .. "x" .. math.random(1, 4), "invite-")
          list[i] = { Member_Account = u }
        end
        local call = math.random(2) == 1 and "add_group_member" or "import_group_member"
        local _, v = h.rest("group_open_http_svc/" .. call, APP, { GroupId = gid, MemberList = list })
        for _, it in ipairs(v.MemberList or {}) do want[it.Member_Account] = it.Result end
        for _, e in ipairs(list) do
          local u = e.Member_Account
          if want[u] == 1 then
            fed(m:join_group(gid, u, t), "step " .. step .. ": " .. u .. " joins " .. gid)
            counts.joins = counts.joins + 1
          elseif want[u] == 0 then
            counts.refused = counts.refused + 1
          end
        end
      elseif op <= 3 then
        -- friends: two-way or one-way adds, imports; failed, pending, refused (30010, 30014)
        local from, items, tos = pick(users), {}, {}
        for _ = 1, math.random(1, 6) do
          local to = item_id(pick(users), "pending-")
          if to ~= from then
            items[#items + 1] = { To_Account = to }
            tos[#tos + 1] = to
          end
        end
        local one_way, call, body = false, "sns/friend_add", { From_Account = from, AddFriendItem = items }
        local r = math.random(3)
        if r == 2 then body.AddType, one_way = "Add_Type_Single", true end
        if r == 3 then call, one_way = "sns/friend_import", true end
        if #items > 0 then
          local _, v = h.rest(call, APP, body)
          local code = {}
          for _, it in ipairs(v.ResultItem or {}) do code[it.To_Account] = it.ResultCode end
          local seen = {}
          for _, to in ipairs(tos) do
            if code[to] == 0 and not seen[to] then
              fed(m:add_friend(from, to, t, nil, one_way and { one_way = true } or nil),
                "step " .. step .. ": " .. from .. " adds " .. to)
              counts.friends = counts.friends + 1
            elseif code[to] ~= 0 then
              counts.refused = counts.refused + 1
            end
            seen[to] = true
          end
        end
      elseif op == 4 then
        -- friend deletes, some failed
        local from, tos = pick(users), {}
        for _ = 1, math.random(1, 4) do
          local to = item_id(pick(users))
          if to ~= from then tos[#tos + 1] = to end
        end
        if #tos > 0 then
          local both = math.random(2) == 1
          local _, v = h.rest("sns/friend_delete", APP, { From_Account = from, To_Account = tos,
            DeleteType = both and "Delete_Type_Both" or "Delete_Type_Single" })
          for _, it in ipairs(v.ResultItem or {}) do
            if it.ResultCode == 0 then
              m:remove_friend(from, it.To_Account, t, nil, not both and { one_way = true } or nil)
            end
          end
        end
      else
        -- members removed (Tencent takes any; a non-member changes nothing)
        local gid, tos = pick(groups), {}
        for i = 1, math.random(1, 3) do tos[i] = pick(users) .. "x" .. math.random(1, 4) end
        local _, v = h.rest("group_open_http_svc/delete_group_member", APP, { GroupId = gid, MemberToDel_Account = tos })
        if v.ActionStatus == "OK" then
          for _, u in ipairs(tos) do m:leave_group(gid, u, t) end
        end
      end
    end
    -- accounts deleted, some failed: memberships and friendships end with them
    local items = {}
    for i = 1, 6 do
      items[i] = { UserID = item_id(pick(users) .. "x" .. i) }
    end
    local _, dv = h.rest("im_open_login_svc/account_delete", APP, { DeleteItem = items })
    for _, it in ipairs(dv.ResultItem or {}) do
      if it.ResultCode == 0 then fed(m:delete_account(it.UserID, now()), "delete " .. it.UserID) end
    end
    -- every kind of answer was met
    assert.is_true(counts.failed > 3 and counts.refused > 10 and counts.joins > 20 and counts.friends > 20,
      cjson.encode(counts))
    h.settled()
    local function same()
      local k = h.keys(APP)
      local want, got = { accounts = m:accounts() }, { accounts = k["c:accounts"] or 0 }
      for _, gid in ipairs(groups) do
        want["members " .. gid] = m:members(gid)
        got["members " .. gid] = k["gm:" .. #gid .. ":" .. gid .. "#"] or 0
      end
      for _, p in ipairs(users) do
        for _, u in ipairs { p, p .. "x1", p .. "x2", p .. "x3", p .. "x4", "fail-" .. p, "pending-" .. p } do
          want["friends " .. u] = m:friends(u)
          got["friends " .. u] = k["uf:" .. #u .. ":" .. u .. "#"] or 0
          want["groups " .. u] = m:joined(u)
          got["groups " .. u] = k["uj:" .. #u .. ":" .. u .. "#"] or 0
        end
      end
      return want, got
    end
    local want, got
    local stop = os.time() + 5
    repeat
      want, got = same()
      local equal = true
      for key, v in pairs(want) do if got[key] ~= v then equal = false end end
      if equal then break end
      h.sleep(0.05)
    until os.time() > stop
    local diff = {}
    for key, v in pairs(want) do if got[key] ~= v then diff[key] = { meter = v, gateway = got[key] } end end
    assert.are.same({}, diff)
    local mo = os.date("!%Y-%m", now() + OFFSET)
    local r = h.http.get("/imbill/usage?sdkappid=" .. APP .. "&month=" .. mo)
    assert.are.equal(200, r.status, r.body)
    assert.are.same(normal(m:invoice(mo):data()), cjson.decode(r.body).invoice)
  end)

  it("keep the same friend lists and refusals for mixed one-way and two-way adds and deletes at full lists", function()
    local APP = "1400000002" -- 2020 trial
    require("friend_sequence").run({
      rest = function(call, body) return select(2, h.rest(call, APP, body)) end,
      size = function(u) return h.keys(APP)["uf:" .. #u .. ":" .. u .. "#"] or 0 end,
      settled = h.settled,
    }, 11)
  end)
end)
