-- What the gateway counts is what an in-process meter counts: a mixed stream
-- of callbacks and REST calls (with refusals, retries, forgeries and
-- replays) goes through the gateway; every event the gateway accepted is fed
-- to an imbill.meter; the usage location's month and invoice, and the
-- `imbill gateway` command's, equal the meter's.
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

  it("keep the same friend lists and refusals for mixed one-way and two-way adds and deletes at full lists", function()
    local APP = "1400000002" -- 2020 trial
    require("friend_sequence").run({
      rest = function(call, body) return select(2, h.rest(call, APP, body)) end,
      size = function(u) return h.keys(APP)["uf:" .. #u .. ":" .. u .. "#"] or 0 end,
      settled = h.settled,
    }, 11)
  end)
end)
