-- Hostile inputs: ids that look like hash tags, numbers past what doubles
-- hold, values in Redis that are not what the gateway wrote.  Each gives a
-- clear error or is counted exactly as any other id; none gives a wrong
-- count or a half-written program.
local h = require "rs_helper"

local PRO, TRIAL, CTRIAL = "1400000001", "1400000002", "1400000012"

local function r(...) return h.rcall(nil, ...) end

-- A stand-in server on a loopback port (spec/redis/support/bogus_server.lua)
-- answering every request with reply (shell-quoted RESP text), for 8 s at most;
-- returns its port once it takes connections.
local function bogus_server(reply)
  local portfile = h.prefix .. "/bg/bogus." .. math.random(1, 1e9) .. ".port"
  h.background("luajit " .. os.getenv("IMBILL_TOP") .. "/spec/redis/support/bogus_server.lua " .. portfile .. " "
    .. reply .. " 8")
  return h.wait(function()
    local f = io.open(portfile)
    if not f then return nil end
    local port = tonumber(f:read("*l"))
    f:close()
    if port then os.remove(portfile) end
    return port
  end, 5, "the stand-in server")
end

describe("hostile inputs to the Redis store", function()
  before_each(h.reset)

  it("counts ids with braces under the app's own hash tag, each once", function()
    local ids = { "{1400000001}x", "}{", "{", "}", "a{b}c", "{1400000002}" }
    for _, id in ipairs(ids) do
      local _, v = h.rest(1, "im_open_login_svc/account_import", TRIAL, { UserID = id })
      assert.are.equal("OK", v.ActionStatus, id)
      local _, again = h.rest(2, "im_open_login_svc/account_import", TRIAL, { UserID = id })
      assert.are.equal("OK", again.ActionStatus, id)
    end
    assert.are.equal(#ids, h.count(nil, h.key(TRIAL, "c:accounts")))
    -- every key the app has is in the app's slot
    local slot = require("imbill.gateway.redis.cluster").slot_of_tag(TRIAL)
    for _, k in ipairs(r("KEYS", "imb:{" .. TRIAL .. "}:*")) do
      assert.are.equal(slot, h.rcall(h.cluster_ports[1], "CLUSTER", "KEYSLOT", k), k)
    end
    -- on the cluster a key outside the slot would be refused (CROSSSLOT): a
    -- group whose id carries another app's tag is counted like any other
    local _, g = h.rest(1, "group_open_http_svc/create_group", CTRIAL, { Type = "Public", GroupId = "{1400000011}g",
                                                                          Owner_Account = "{1400000011}o" })
    assert.are.equal("OK", g.ActionStatus)
    assert.are.equal("1", h.cget(CTRIAL, "c:groups"))
  end)

  it("refuses a call whose counter in Redis is not a number, naming the key, and writes nothing", function()
    r("SET", h.key(TRIAL, "c:accounts"), "12abc")
    local _, v = h.rest(1, "im_open_login_svc/account_import", TRIAL, { UserID = "u1" })
    assert.are.equal("FAIL", v.ActionStatus)
    assert.are.equal(70500, v.ErrorCode)
    assert.truthy(v.ErrorInfo:find('value at "imb:{1400000002}:c:accounts": not an integer: "12abc"', 1, true),
      v.ErrorInfo)
    assert.are.equal("12abc", r("GET", h.key(TRIAL, "c:accounts")))
    assert.are.equal(0, #r("KEYS", h.key(TRIAL, "ua:*")))
  end)

  it("refuses a count past 2^53 instead of rounding it", function()
    r("SET", h.key(TRIAL, "c:accounts"), "9007199254740993")
    local _, v = h.rest(1, "im_open_login_svc/account_import", TRIAL, { UserID = "u1" })
    assert.are.equal(70500, v.ErrorCode)
    assert.truthy(v.ErrorInfo:find("beyond 2^53", 1, true), v.ErrorInfo)
    assert.are.equal("9007199254740993", r("GET", h.key(TRIAL, "c:accounts")))
    -- at the edge it still counts exactly
    r("SET", h.key(PRO, "c:groups"), "9007199254740990")
    local _, g = h.rest(1, "group_open_http_svc/create_group", PRO, { Type = "Public", GroupId = "edge" })
    assert.are.equal("OK", g.ActionStatus)
    assert.are.equal("9007199254740991", r("GET", h.key(PRO, "c:groups")))
    local _, g2 = h.rest(1, "group_open_http_svc/create_group", PRO, { Type = "Public", GroupId = "past" })
    assert.are.equal(10002, g2.ErrorCode)
    assert.are.equal("9007199254740991", r("GET", h.key(PRO, "c:groups")))
    assert.are.equal(0, r("EXISTS", h.key(PRO, "g:past")))
  end)

  it("refuses a month more than 4,000 days before the app's latest counted day (400), as the shared dict does",
    function()
    local APP = "1400000004"
    r("SET", h.key(APP, "c:last_day"), "20788")
    local resp = h.get(1, "/imbill/usage?sdkappid=" .. APP .. "&month=0001-01")
    assert.are.equal(400, resp.status, resp.body)
    assert.are.equal('imbill.gateway.usage: month: is more than 4,000 days before the app\'s latest counted day, '
      .. '2026-12-01: too far back to read, got "0001-01"', h.json(resp).error)
  end)

  it("reads no month whose counts in Redis are past 2^53, naming the key, instead of rounding them", function()
    -- app 1400000004: 2021 pro, +08:00; December 2026 begins on day 20788
    local APP, mo = "1400000004", "2026-12"
    local dau = h.key(APP, "d:20788:dau")
    r("SET", dau, "9007199254740993")
    local resp = h.get(1, "/imbill/usage?sdkappid=" .. APP .. "&month=" .. mo)
    assert.are.equal(503, resp.status, resp.body)
    local want = 'Redis holds "9007199254740993" at ' .. dau .. ", beyond 2^53, which this store does not count to"
    assert.truthy(h.json(resp).error:find(want, 1, true), resp.body)
    -- the `imbill` command's path, outside nginx
    local core = require "imbill.gateway.core"
    core.init(os.getenv("IMBILL_TOP") .. "/build/jit/imbill/core.so")
    local cfg = require("imbill.gateway.config").check { apps = { [APP] = { book = "2021", edition = "pro",
                                                                            tz = "+08:00" } } }
    local usage = require "imbill.gateway.usage"
    local redis = { servers = { "127.0.0.1:" .. h.redis_port } }
    local ok, err = pcall(usage.from_redis, redis, cfg.apps[APP], mo)
    assert.is_false(ok)
    assert.truthy(tostring(err):find(want, 1, true), tostring(err))
    -- 2^53 - 1 is the last count read exactly; past it with more digits, the same refusal
    r("SET", dau, "9007199254740991")
    assert.are.equal(9007199254740991, usage.from_redis(redis, cfg.apps[APP], mo).dau[1])
    r("SET", dau, "12345678901234567890")
    ok, err = pcall(usage.from_redis, redis, cfg.apps[APP], mo)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("beyond 2^53", 1, true), tostring(err))
  end)

  it("reads no month from a server whose answers are not Redis' (an integer to MGET), naming the command", function()
    local top = os.getenv("IMBILL_TOP")
    local port = bogus_server("':5\\r\\n'")
    local core = require "imbill.gateway.core"
    core.init(top .. "/build/jit/imbill/core.so")
    local APP = "1400000004"
    local cfg = require("imbill.gateway.config").check { apps = { [APP] = { book = "2021", edition = "pro",
                                                                            tz = "+08:00" } } }
    local ok, err = pcall(require("imbill.gateway.usage").from_redis, { servers = { "127.0.0.1:" .. port } },
      cfg.apps[APP], "2026-12")
    assert.is_false(ok)
    assert.are.equal("imbill.gateway.usage: MGET imb:{1400000004}:c:last_day was answered 5, not a list: is this "
      .. "server Redis?", err)
  end)

  it("takes a reply nginx.redis cannot read (a length that is not a number) as a failed connection, not a Lua "
    .. "error", function()
    local port = bogus_server("'$x\\r\\n'")
    -- (the stand-in is a Lua process a loaded machine may keep waiting past
    -- the entry's 0.3 s a read: the answer read is the point, not its time)
    local resp = h.get(1, "/t/redirect?deadline=5&timeout=2&first=127.0.0.1:" .. port .. "&reply=x")
    local v = h.json(resp)
    assert.are.equal(200, resp.status, v.thrown)
    assert.is_nil(v.reply)
    assert.truthy(v.err:find("127.0.0.1:" .. port .. ": not a Redis reply (", 1, true), v.err)
    -- it may have run (the command was sent): the outcome is not known
    assert.are.equal("unknown", v.sent)
  end)

  -- A group's type is a number Redis holds: one no group has (written by
  -- hand) found no members cap, and 25 joins passed the trial's 20.
  it("refuses a join to a group whose type in Redis is no group type, naming the group", function()
    h.rest(1, "group_open_http_svc/create_group", TRIAL, { Type = "Public", GroupId = "gx" })
    for _, t in ipairs { "99", "-3" } do
      r("HSET", h.key(TRIAL, "g:gx"), "t", t)
      local _, v = h.rest(1, "group_open_http_svc/add_group_member", TRIAL, { GroupId = "gx",
        MemberList = { { Member_Account = "m1" } } })
      assert.are.equal(10002, v.ErrorCode, t)
      assert.truthy(v.ErrorInfo:find("type " .. t .. " is no group type", 1, true), v.ErrorInfo)
      assert.are.equal(0, r("EXISTS", h.key(TRIAL, "uj:m1")))
    end
  end)

  it("refuses a join when a key holds another type, and leaves the other keys as they were", function()
    h.rest(1, "group_open_http_svc/create_group", TRIAL, { Type = "Public", GroupId = "g" })
    r("DEL", h.key(TRIAL, "gm:g"))
    r("SET", h.key(TRIAL, "gm:g"), "not a set")
    local _, v = h.rest(1, "group_open_http_svc/add_group_member", TRIAL, { GroupId = "g",
      MemberList = { { Member_Account = "m1" } } })
    assert.are.equal(10002, v.ErrorCode)
    -- the refusal names the key (Redis' own WRONGTYPE names none)
    assert.truthy(v.ErrorInfo:find('key "' .. h.key(TRIAL, "gm:g") .. '" holds a string', 1, true), v.ErrorInfo)
    assert.are.equal(0, r("EXISTS", h.key(TRIAL, "uj:m1")))
  end)

  it("counts no login against a corrupt activity state, and says so", function()
    local t = os.time()
    local _, v = h.callback(1, PRO, "State.StateChange", "spec-token-pro", { CallbackCommand = "State.StateChange",
      EventTime = t * 1000, Info = { Action = "Login", To_Account = "victim" } })
    assert.are.equal("OK", v.ActionStatus)
    h.settle()
    local day = math.floor((t + 8 * 3600) / 86400)
    assert.are.equal(1, h.count(nil, h.key(PRO, "d:" .. day .. ":dau")))
    local bucket
    for _, k in ipairs(r("KEYS", h.key(PRO, "act:*"))) do
      if r("HEXISTS", k, "victim") == 1 then bucket = k end
    end
    r("HSET", bucket, "victim", "short")
    h.callback(2, PRO, "State.StateChange", "spec-token-pro", { CallbackCommand = "State.StateChange",
      EventTime = (t + 86400) * 1000, Info = { Action = "Login", To_Account = "victim" } })
    h.settle()
    assert.are.equal(0, h.count(nil, h.key(PRO, "d:" .. (day + 1) .. ":dau")))
    assert.are.equal("short", r("HGET", bucket, "victim"))
    assert.are.equal(1, h.metric(2, "imbill_not_counted_total", { app = PRO, action = "login", reason = "store" }))
  end)

  it("drops a login batch the interpreter refuses (a day's DAU that is not a number) instead of holding the "
    .. "journal behind it, so the app's later callbacks still count", function()
    local t = os.time()
    local day = math.floor((t + 8 * 3600) / 86400)
    r("SET", h.key(PRO, "d:" .. day .. ":dau"), "12abc")
    local _, v = h.callback(1, PRO, "State.StateChange", "spec-token-pro", { CallbackCommand = "State.StateChange",
      EventTime = t * 1000, Info = { Action = "Login", To_Account = "u1" } })
    assert.are.equal("OK", v.ActionStatus)
    -- every program with this day's login refuses the whole batch, naming the
    -- key: the batch is not counted (it was journaled and replayed forever,
    -- and every later entry of the app waited behind it)
    h.wait(function()
      return h.metric(1, "imbill_not_counted_total", { app = PRO, action = "login", reason = "store" }) == 1
    end, 15, "the login refused by the interpreter")
    local _, g = h.callback(1, PRO, "Group.CallbackAfterCreateGroup", "spec-token-pro", {
      CallbackCommand = "Group.CallbackAfterCreateGroup", GroupId = "after", Type = "Public", EventTime = t * 1000 })
    assert.are.equal("OK", g.ActionStatus)
    h.settle(5)
    assert.are.equal(1, h.count(nil, h.key(PRO, "c:groups")))
    assert.are.equal("12abc", r("GET", h.key(PRO, "d:" .. day .. ":dau")))
    assert.are.equal(0, #r("KEYS", h.key(PRO, "act:*")))
  end)

  it("settles a delete of all a user's friends whose key holds another type by saying so, and holds nothing "
    .. "behind it", function()
    r("SET", h.key(PRO, "uf:alice"), "not a set")
    local _, v = h.rest(1, "sns/friend_delete_all", PRO, { From_Account = "alice" })
    assert.are.equal("OK", v.ActionStatus)
    -- Redis answered SMEMBERS with WRONGTYPE: an answer, not Redis away (the
    -- settlement was journaled, replayed forever and held the app's later
    -- work behind it, and Redis was reported unreachable)
    h.settled() -- the settlement runs after the answer, from the worker's queue
    assert.are.equal(0, h.json(h.get(1, "/t/waiting")).journal)
    local _, g = h.callback(1, PRO, "Group.CallbackAfterCreateGroup", "spec-token-pro", {
      CallbackCommand = "Group.CallbackAfterCreateGroup", GroupId = "after", Type = "Public",
      EventTime = os.time() * 1000 })
    assert.are.equal("OK", g.ActionStatus)
    h.settle(5)
    assert.are.equal(1, h.count(nil, h.key(PRO, "c:groups")))
    assert.are.equal("not a set", r("GET", h.key(PRO, "uf:alice")))
  end)

  it("answers an after callback dated past the calendar as not counted", function()
    local _, v = h.callback(1, PRO, "Group.CallbackAfterCreateGroup", "spec-token-pro", {
      CallbackCommand = "Group.CallbackAfterCreateGroup", GroupId = "huge", Type = "Public",
      EventTime = "99999999999999999999" })
    assert.are.equal("OK", v.ActionStatus)
    assert.are.equal(0, r("EXISTS", h.key(PRO, "g:huge")))
    assert.are.equal(0, h.count(nil, h.key(PRO, "c:groups")))
  end)

  it("refuses every program of an app whose Redis holds another bucket layout", function()
    r("SET", h.key(TRIAL, "c:layout"), "imb1:b999")
    local _, v = h.rest(1, "im_open_login_svc/account_import", TRIAL, { UserID = "u1" })
    assert.are.equal(70500, v.ErrorCode)
    assert.truthy(v.ErrorInfo:find("the bucket count must never change", 1, true), v.ErrorInfo)
    assert.are.equal(0, h.count(nil, h.key(TRIAL, "c:accounts")))
  end)

  it("follows a redirection to an IPv6 node as Redis writes it, or to a port alone, and refuses an address it "
    .. "cannot reach as an error", function()
    local first = h.cluster_node_of("redirect")
    r("SET", "{redirect}:target", "1")
    local function redirect(reply)
      local resp = h.get(1, "/t/redirect?first=127.0.0.1:" .. first .. "&reply=" .. h.http.urlencode(reply))
      return resp.status, h.json(resp)
    end
    -- "::1:6379" (no brackets) is how a node on IPv6 names itself in MOVED,
    -- ASK and CLUSTER SLOTS; nginx reads such an address only in brackets
    local status, v = redirect("ASK 5 ::1:@PORT@")
    assert.are.same({ 200, "ok" }, { status, v.reply }, v.err or v.thrown)
    -- ":6379": a cluster whose nodes do not know how clients reach them
    -- (unknown-endpoint); the host is the one of the node that answered
    status, v = redirect("ASK 5 :@PORT@")
    assert.are.same({ 200, "ok" }, { status, v.reply }, v.err or v.thrown)
    -- an address without a port is an error of the call, within its deadline
    -- (it was a Lua error, which lost the call's outcome)
    status, v = redirect("ASK 5 nohost")
    assert.are.equal(200, status, v.thrown)
    assert.is_nil(v.reply)
    assert.truthy(v.err:find('not an address a Redis can be reached at ("host:port"): "nohost"', 1, true), v.err)
    assert.are.equal("unsent", v.sent)
  end)

  it("refuses a Redis entry the gateway cannot use when nginx starts", function()
    local config = require "imbill.gateway.config"
    local core = require "imbill.gateway.core"
    core.init(os.getenv("IMBILL_TOP") .. "/build/jit/imbill/core.so")
    local function err(o)
      local ok, e = pcall(config.check, o)
      assert.is_false(ok)
      return tostring(e)
    end
    local app = { book = "2020", edition = "pro", redis = "main" }
    assert.are.equal('imbill.gateway.setup: apps[1].redis: names no entry of redis = { ... }, got "main"',
      err { apps = { ["1"] = app } })
    assert.are.equal('imbill.gateway.setup: redis.main.servers[1]: expected "host:port", got "localhost"',
      err { redis = { main = { servers = { "localhost" } } }, apps = { ["1"] = app } })
    assert.are.equal("imbill.gateway.setup: redis.main.deadline: must leave a \"before\" callback time to answer "
      .. "within Tencent's 2 seconds (at most 1.5 is sensible), got 2",
      err { redis = { main = { server = "127.0.0.1:1", deadline = 2 } }, apps = { ["1"] = app } })
    assert.are.equal("imbill.gateway.setup: apps[1].buckets: expected a whole number from 1 to 1048576, got 0",
      err { redis = { main = { server = "127.0.0.1:1" } }, apps = { ["1"] = { book = "2020", edition = "pro",
                                                                             redis = "main", buckets = 0 } } })
  end)

  it("counts logins too old for the app's window as not counted, and the rest of their batch as usual", function()
    -- the app's latest day is today; a login 70 days older is past the 63
    -- days the activity state covers, and the core refuses it (day_open)
    local t = os.time()
    h.callback(1, PRO, "State.StateChange", "spec-token-pro", { CallbackCommand = "State.StateChange",
      EventTime = t * 1000, Info = { Action = "Login", To_Account = "now" } })
    h.settle()
    local old = t - 70 * 86400
    local path = h.http.callback_path(PRO, "State.StateChange", "spec-token-pro")
    local function login(user, at)
      return { 2, "POST", path, h.cjson.encode { CallbackCommand = "State.StateChange", EventTime = at * 1000,
                                                 Info = { Action = "Login", To_Account = user } } }
    end
    -- sent at once, so one flush writes them in one batch: three refused
    -- inside the program, one counted beside them
    local answers = h.concurrent { login("late1", old + 1), login("late2", old + 2), login("fresh", t),
                                   login("late3", old + 3) }
    for i, a in ipairs(answers) do
      assert.are.equal(200, a.status, i)
      assert.are.equal("OK", h.cjson.decode(a.body).ActionStatus, i)
    end
    h.settle()
    local function day_of(s) return math.floor((s + 8 * 3600) / 86400) end
    assert.are.equal(0, h.count(nil, h.key(PRO, "d:" .. day_of(old) .. ":dau")))
    assert.are.equal(2, h.count(nil, h.key(PRO, "d:" .. day_of(t) .. ":dau")))
    assert.are.equal(3, h.metric(2, "imbill_not_counted_total", { app = PRO, action = "login", reason = "day_open" }))
  end)

  -- A user id is a client's text: a newline in it would start a forged
  -- line of nginx's error log, an escape byte recolour the terminal of
  -- whoever reads it.  Where the Redis store logs one, it writes it as a
  -- JSON string.
  it("logs the user whose friends it could not read with the client's bytes escaped", function()
    local forged = "u\n2026/12/02 00:00:00 [emerg] 1#1: forged \27[31m"
    -- the user's friends are not a set: SMEMBERS answers WRONGTYPE
    r("SET", h.key(TRIAL, "uf:" .. forged), "not a set")
    local _, v = h.rest(1, "sns/friend_delete_all", TRIAL, { From_Account = forged })
    assert.are.equal("OK", v.ActionStatus)
    local line
    h.wait(function()
      local f = assert(io.open(h.prefix .. "/ngx-a/logs/error.log"))
      local log = f:read("*a")
      f:close()
      line = log:match("[^\n]*the friends of \"u\\n2026/12/02[^\n]*")
      if line then
        assert.truthy(line:find("forged \\u001b[31m\": redis: WRONGTYPE", 1, true), line)
        assert.falsy(log:find("\n2026/12/02 00:00:00 [emerg] 1#1: forged", 1, true))
        assert.falsy(log:find("\27", 1, true))
      end
      return line
    end, 15, "the line naming the user")
  end)
end)
