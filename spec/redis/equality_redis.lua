-- What the fleet counts in Redis is what an in-process meter counts: a
-- mixed stream of callbacks and REST calls (with refusals, retries,
-- forgeries and replays) goes through both nodes; every event accepted is
-- fed to an imbill.meter; the month and the invoice from either node's
-- usage location, and from Redis directly (`imbill gateway --config`, and
-- the function under it), equal the meter's.
local h = require "rs_helper"
local cjson = h.cjson
local imbill = require "imbill"

local TOKEN = "xxxxyyyy"
local OFFSET = 8 * 3600

local function first_instant(y, m)
  return os.time { year = y, month = m, day = 1, hour = 0, min = 0, sec = 0, isdst = false }
    - (os.time { year = 1970, month = 1, day = 1, hour = 0, isdst = false }) - OFFSET
end

local function month_of(t) return tonumber(os.date("!%Y", t + OFFSET)), tonumber(os.date("!%m", t + OFFSET)) end

local function normal(t) return cjson.decode(cjson.encode(t)) end

local function stream(app, node_of, m)
  local function cb(i, cmd, body, opts)
    body.CallbackCommand = cmd
    return h.callback(node_of(i), app, cmd, TOKEN, body, opts)
  end
  local now = h.http.seconds()
  local cy, cm = month_of(now)
  local py, pm = cm == 1 and cy - 1 or cy, cm == 1 and 12 or cm - 1
  local prev0 = first_instant(py, pm)
  local accepted = 0
  local function ok(r)
    assert.are.equal(200, r.status, r.body)
    accepted = accepted + 1
  end
  math.randomseed(7)
  for i = 1, 300 do
    local u = "u" .. math.random(1, 60)
    local t = prev0 + math.random(0, 27) * 86400 + math.random(0, 86399)
    ok(cb(i, "State.StateChange", { EventTime = t * 1000 + i, Info = { Action = "Login", To_Account = u } }))
    m:login(u, t)
  end
  local groups = {}
  for i = 1, 40 do
    local t = prev0 + (i % 20) * 86400 + 3600 + i
    local gid = "g{" .. i .. "}"
    ok(cb(i, "Group.CallbackAfterCreateGroup", { GroupId = gid, Type = "Public", EventTime = t * 1000,
                                                   Owner_Account = "u" .. i }))
    m:create_group(gid, "Public", t)
    m:join_group(gid, "u" .. i, t)
    groups[#groups + 1] = { gid, t }
  end
  for i = 1, 15 do
    local g = groups[i * 2]
    local t = g[2] + 7200
    ok(cb(i, "Group.CallbackAfterGroupDestroyed", { GroupId = g[1], Type = "Public", EventTime = t * 1000 }))
    m:disband_group(g[1], t)
  end
  local same = prev0 + 10 * 86400 + 5000
  ok(cb(1, "Group.CallbackAfterCreateGroup", { GroupId = "s1", Type = "Public", EventTime = same * 1000 }))
  m:create_group("s1", "Public", same)
  ok(cb(2, "Group.CallbackAfterGroupDestroyed", { GroupId = "g{1}", Type = "Public", EventTime = same * 1000 }))
  m:disband_group("g{1}", same)
  for i = 1, 53 do
    local t = prev0 + 15 * 86400 + i
    ok(cb(i, "Group.CallbackAfterCreateGroup", { GroupId = "av" .. i, Type = "AVChatRoom", EventTime = t * 1000 }))
    m:create_group("av" .. i, "AVChatRoom", t)
  end
  -- Tencent's retries, to the other node: counted once, not fed again
  ok(cb(2, "Group.CallbackAfterCreateGroup", { GroupId = "g{3}", Type = "Public", EventTime = groups[3][2] * 1000,
                                                Owner_Account = "u3" }, { request_time = now - 1 }))
  ok(cb(1, "State.StateChange", { EventTime = (prev0 + 100) * 1000 + 1, Info = { Action = "Login", To_Account = "u1" } },
    { request_time = now - 2 }))
  m:login("u1", prev0 + 100)
  assert.are.equal(403, cb(1, "State.StateChange", { EventTime = prev0 * 1000, Info = { Action = "Login",
    To_Account = "mallory" } }, { sign = string.rep("f", 64) }).status)
  -- this month, through the REST API of both nodes
  for i = 1, 30 do
    local _, v = h.rest(node_of(i), "im_open_login_svc/account_import", app, { UserID = "acct" .. i })
    assert.are.equal("OK", v.ActionStatus)
    m:create_account("acct" .. i, h.http.seconds())
  end
  for i = 1, 12 do
    local _, v = h.rest(node_of(i), "group_open_http_svc/create_group", app, { Type = "Public", GroupId = "now" .. i })
    assert.are.equal("OK", v.ActionStatus)
    m:create_group("now" .. i, "Public", h.http.seconds())
  end
  local _, av = h.rest(1, "group_open_http_svc/create_group", app, { Type = "AVChatRoom", GroupId = "av-now" })
  assert.are.equal(10036, av.ErrorCode)
  assert.is_false((m:create_group("av-now", "AVChatRoom", h.http.seconds())))
  -- the destroy in a later second than every create, for the meter and the
  -- gateway alike: a create and a destroy in one second net out in the day's
  -- peak.  Seconds on nginx's clock (seconds(), not os.time(), which lags it
  -- by about 4 ms: a create in a second's first milliseconds was counted in
  -- the same second as the destroy, and the peaks differed by one)
  local created = h.http.seconds()
  while h.http.seconds() <= created do h.sleep(0.05) end
  h.rest(2, "group_open_http_svc/destroy_group", app, { GroupId = "now5" })
  m:disband_group("now5", h.http.seconds())
  for i = 1, 20 do
    local u = "acct" .. i
    local t = h.http.seconds()
    ok(cb(i, "State.StateChange", { EventTime = t * 1000 + i, Info = { Action = "Login", To_Account = u } }))
    m:login(u, t)
  end
  assert.is_true(accepted > 400)
  return { string.format("%04d-%02d", py, pm), string.format("%04d-%02d", cy, cm) }
end

local function check_usage(app, months, m, read)
  for _, mo in ipairs(months) do
    local u, inv = read(mo)
    local want = m:usage(mo)
    assert.are.same(want.dau, u.dau, mo .. " dau")
    assert.are.same(want.groups, u.groups, mo .. " groups")
    assert.are.equal(want.mau, u.mau, mo .. " mau")
    if inv then assert.are.same(normal(m:invoice(mo):data()), inv, mo .. " invoice") end
  end
  return app
end

describe("the fleet and an in-process meter fed the same accepted events", function()
  before_each(h.reset)

  local function run(app, redis_cfg)
    local m = imbill.meter { book = "2021", edition = "pro", tz = "+08:00" }
    local months = stream(app, function(i) return i % 2 + 1 end, m)
    h.settle()
    h.wait(function() return h.rcall(redis_cfg.port, "EXISTS", h.key(app, "g:now5")) == 0 end, 15, "the disband")
    for node = 1, 2 do
      check_usage(app, months, m, function(mo)
        local r = h.get(node, "/imbill/usage?sdkappid=" .. app .. "&month=" .. mo)
        assert.are.equal(200, r.status, r.body)
        local doc = cjson.decode(r.body)
        return doc.usage, doc.invoice
      end)
    end
    -- the `imbill` command's path: straight from Redis, outside nginx
    local core = require "imbill.gateway.core"
    core.init(os.getenv("IMBILL_TOP") .. "/build/jit/imbill/core.so")
    local cfg = require("imbill.gateway.config").check { apps = { [app] = { book = "2021", edition = "pro",
                                                                            tz = "+08:00" } } }
    local usage = require "imbill.gateway.usage"
    check_usage(app, months, m, function(mo)
      local u = usage.from_redis(redis_cfg.redis, cfg.apps[app], mo)
      return u, normal(require("imbill").invoice(u):data())
    end)
    -- and `imbill gateway --config`, from the gateway's configuration file
    local conf = os.tmpname()
    local f = assert(io.open(conf, "w"))
    f:write(string.format('return { redis = { main = { servers = { "%s" }, cluster = %s } }, apps = { ["%s"] = '
      .. '{ book = "2021", edition = "pro", tz = "+08:00", redis = "main" } } }',
      table.concat(redis_cfg.redis.servers, '", "'), tostring(redis_cfg.redis.cluster == true), app))
    f:close()
    for _, mo in ipairs(months) do
      local p = io.popen(string.format("luajit %s/bin/imbill gateway --config %s --app %s --month %s --json 2>&1",
        os.getenv("IMBILL_TOP"), conf, app, mo))
      local out = p:read("*a")
      p:close()
      assert.are.same(normal(m:invoice(mo):data()), cjson.decode(out), mo .. ": " .. out:sub(1, 300))
    end
    os.remove(conf)
    return m
  end

  it("give the same months and invoices on one Redis", function()
    local m = run("1400000004", { redis = { servers = { "127.0.0.1:" .. h.redis_port } } })
    assert.are.equal(tostring(m:accounts()), h.rcall(nil, "GET", h.key("1400000004", "c:accounts")))
    assert.are.equal(tostring(m:groups()), h.rcall(nil, "GET", h.key("1400000004", "c:groups")))
  end)

  it("give the same months and invoices on a Redis Cluster", function()
    local servers = {}
    for i, p in ipairs(h.cluster_ports) do servers[i] = "127.0.0.1:" .. p end
    local m = run("1400000014", { redis = { servers = servers, cluster = true }, port = h.cluster_node_of("1400000014") })
    assert.are.equal(tostring(m:accounts()), h.cget("1400000014", "c:accounts"))
  end)
  it("keep the same friend lists and refusals for mixed one-way and two-way adds and deletes at full lists",
    function()
    local TRIAL = "1400000002" -- 2020 trial
    local calls = 0
    require("friend_sequence").run({
      -- the calls alternate between the nodes
      rest = function(call, body)
        calls = calls + 1
        return select(2, h.rest(calls % 2 + 1, call, TRIAL, body))
      end,
      size = function(u) return h.rcall(nil, "SCARD", h.key(TRIAL, "uf:" .. u)) end,
      settled = h.settle,
    }, 11)
  end)
end)
