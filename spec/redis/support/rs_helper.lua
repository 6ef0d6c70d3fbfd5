--- Shared helpers of the Redis specs: the two gateway nodes, the Redis
-- servers (direct connections, the control script), waiting for the
-- fleet to settle.
local socket = require "socket"
local cjson = require "cjson"
local http = require "ngx_client"
local resp = require "imbill.gateway.redis.resp"

local M = {}
M.http = http
M.cjson = cjson

local function split(s)
  local t = {}
  for p in (s or ""):gmatch("[^,]+") do t[#t + 1] = tonumber(p) end
  return t
end
M.nodes = split(os.getenv("IMBILL_RS_NGX"))
M.stubs = split(os.getenv("IMBILL_RS_STUB"))
M.redis_port = tonumber(os.getenv("IMBILL_RS_REDIS"))
M.cluster_ports = split(os.getenv("IMBILL_RS_CLUSTER"))
M.ctl_path = os.getenv("IMBILL_RS_CTL")
M.prefix = os.getenv("IMBILL_RS_PREFIX")

function M.sleep(s) socket.sleep(s) end
function M.now() return socket.gettime() end

--- Runs the Redis control script: ctl("restart", "single", 1).
function M.ctl(...)
  local args = { M.ctl_path }
  for i = 1, select("#", ...) do args[#args + 1] = tostring(select(i, ...)) end
  local ok = os.execute(table.concat(args, " ") .. " >/dev/null 2>&1")
  assert(ok == true or ok == 0, "redis-ctl " .. table.concat(args, " ", 2) .. " failed")
end

--- The same in the background after `delay` seconds; returns a function
-- that tells whether it has finished.  Its pid is kept under build/ so the
-- runner can stop it.
function M.ctl_later(delay, ...)
  local args = { M.ctl_path }
  for i = 1, select("#", ...) do args[#args + 1] = tostring(select(i, ...)) end
  local base = M.prefix .. "/bg/" .. math.random(1, 1e9)
  os.execute(string.format("(sleep %s; %s; touch %s.done) >/dev/null 2>&1 & echo $! > %s.pid", delay,
    table.concat(args, " "), base, base))
  return function()
    local f = io.open(base .. ".done")
    if not f then return false end
    f:close()
    os.remove(base .. ".done")
    os.remove(base .. ".pid")
    return true
  end
end

--- A shell command in the background (pid kept for the runner).
function M.background(cmd)
  local pidfile = M.prefix .. "/bg/" .. math.random(1, 1e9) .. ".pid"
  os.execute(string.format("(%s) >/dev/null 2>&1 & echo $! > %s", cmd, pidfile))
  return pidfile
end

function M.redis(port)
  local c = assert(resp.connect("127.0.0.1", port or M.redis_port, 5))
  return c
end

--- One command on a fresh connection.
function M.rcall(port, ...)
  local c = M.redis(port)
  local r, err = c:call(...)
  c:close()
  return r, err
end

--- A counter's value (0 when the key is absent).
function M.count(port, key)
  local v = M.rcall(port, "GET", key)
  return tonumber(type(v) == "string" and v or nil) or 0
end

--- Until fn() is true (or returns a value), at most `timeout` seconds.
function M.wait(fn, timeout, what)
  local t0 = M.now()
  while true do
    local v = fn()
    if v then return v end
    if M.now() - t0 > (timeout or 10) then error("timed out waiting for " .. (what or "a condition"), 2) end
    M.sleep(0.05)
  end
end

function M.get(node, path) return http.request("GET", path, nil, nil, M.nodes[node]) end

--- A reservation sweep on node n now, by this call (/t/sweep waits for
-- another worker's to end): returns how many it took back.
function M.sweep(n)
  local v = cjson.decode(http.request("POST", "/t/sweep", "", nil, M.nodes[n]).body)
  assert(v.swept, "no sweep had the turn")
  return v.expired
end
function M.post(node, path, body, headers) return http.request("POST", path, body, headers, M.nodes[node]) end

function M.json(r)
  local ok, v = pcall(cjson.decode, r.body)
  if not ok then error("not JSON (HTTP " .. tostring(r.status) .. "): " .. tostring(r.body), 2) end
  return v
end

local function alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if f then f:close() end
  return f ~= nil
end

--- Whether node n's live workers have settled what they queued from
-- Tencent's answers (spec_t.lua's /t/settling; a dead worker's count is
-- left behind).
function M.settled_on(n)
  for pid, left in pairs(M.json(M.get(n, "/t/settling")).settling) do
    if left > 0 and alive(pid) then return false end
  end
  return true
end

--- Waits until both nodes have settled Tencent's answers (the settlement
-- runs after the answer, from a timer).
function M.settled(timeout)
  M.wait(function()
    for n = 1, #M.nodes do
      if not M.settled_on(n) then return false end
    end
    return true
  end, timeout or 10, "the settlements")
end

--- Waits until the Redis at port (default: the single one) stops
-- answering: a DEBUG SLEEP sent from the background has begun.
function M.asleep(port)
  M.wait(function()
    local c = resp.connect("127.0.0.1", port or M.redis_port, 5)
    if not c then return false end
    c:settimeout(0.25)
    local ok, r = pcall(c.call, c, "PING")
    c:close()
    return not (ok and r == "PONG")
  end, 10, "Redis to fall asleep")
end

--- Both nodes: login queues flushed, journals empty and settlements done,
-- twice in a row.
function M.settle(timeout)
  local calm = 0
  M.wait(function()
    local busy = false
    for n = 1, #M.nodes do
      local v = M.json(M.get(n, "/t/waiting?replay=1"))
      if v.journal > 0 or v.queue > 0 or not M.settled_on(n) then busy = true end
    end
    if busy then calm = 0 else calm = calm + 1 end
    if calm < 2 then M.sleep(0.1) end
    return calm >= 2
  end, timeout or 30, "the fleet's queues and journals to empty")
end

--- Fresh state: every Redis emptied, both nodes' dicts and counters.
function M.reset()
  -- what the workers still hold from the spec before (logins queued,
  -- settlements) goes first: landing after the flush, it would count in
  -- this one.  Bounded: a spec that left Redis away leaves a queue.
  pcall(M.wait, function()
    for n = 1, #M.nodes do
      if M.json(M.get(n, "/t/waiting")).queue > 0 or not M.settled_on(n) then return false end
    end
    return true
  end, 5)
  for n = 1, #M.nodes do assert(M.post(n, "/t/flush", "").status == 200) end
  M.rcall(M.redis_port, "FLUSHALL")
  for _, p in ipairs(M.cluster_ports) do
    local c = M.redis(p)
    local role = c:call("ROLE")
    if type(role) == "table" and role[1] == "master" then c:call("FLUSHALL") end
    c:close()
  end
  for n = 1, #M.nodes do assert(M.post(n, "/t/flush", "").status == 200) end
end

function M.rest_path(svc_cmd, app) return http.rest_path(svc_cmd, app) end

function M.rest(node, svc_cmd, app, body)
  local r = M.post(node, http.rest_path(svc_cmd, app), type(body) == "string" and body or cjson.encode(body))
  local ok, v = pcall(cjson.decode, r.body)
  return r, ok and v or nil
end

function M.callback(node, app, command, token, body, opts)
  body = type(body) == "string" and body or cjson.encode(body)
  local r = M.post(node, http.callback_path(app, command, token, opts), body, opts and opts.headers)
  local ok, v = pcall(cjson.decode, r.body)
  return r, ok and v or nil
end

--- Many requests at once across the nodes: reqs = { { node, method, path,
-- body [, headers] }, ... }; every connection opened and every request sent
-- before any answer is read.  Returns the answers with their time to answer
-- (.took).
function M.concurrent(reqs)
  local list = {}
  for i, r in ipairs(reqs) do list[i] = { r[2], r[3], r[4], r[5], port = M.nodes[r[1]] } end
  return http.concurrent(list)
end

function M.stub_count(cmd)
  local n = 0
  for i = 1, #M.nodes do n = n + (tonumber(M.get(i, "/stub/count?cmd=" .. cmd).body) or 0) end
  return n
end

--- The value of one counter on a node's status page (nil: absent).
function M.metric(node, name, labels) return http.metric_in(M.get(node, "/imbill/status").body, name, labels) end

--- A counter summed over both nodes.
function M.metric_sum(name, labels)
  local s = 0
  for n = 1, #M.nodes do s = s + (M.metric(n, name, labels) or 0) end
  return s
end

--- Redis keys of an app (single Redis unless port given).
function M.key(app, rest) return "imb:{" .. app .. "}:" .. rest end

--- The cluster node serving an app now (from CLUSTER SLOTS).
function M.cluster_node_of(app)
  local slot = require("imbill.gateway.redis.cluster").slot_of_tag(app)
  local c = M.redis(M.cluster_ports[1])
  local slots = c:call("CLUSTER", "SLOTS")
  c:close()
  for _, r in ipairs(slots) do
    if slot >= r[1] and slot <= r[2] then return tonumber(r[3][2]), slot end
  end
end

--- A counter of an app on the cluster.
function M.cget(app, rest)
  local port = M.cluster_node_of(app)
  return M.rcall(port, "GET", M.key(app, rest))
end

--- The specs of a create_group without a GroupId whose answer was lost, for
-- app PRO on the Redis at node() (nil: the one Redis): written once, run on
-- one Redis and on the cluster.  busted's describe, it and assert live in the
-- spec file's environment, so the file passes them.
function M.lost_create_specs(b, where, PRO, node)
  local h, describe, it, assert = M, b.describe, b.it, b.assert
  describe("a group created without a GroupId whose answer was lost (" .. where .. ")", function()
    local function r(...) return h.rcall(node(), ...) end
    local function lost(name)
      local answer = h.post(1, h.rest_path("group_open_http_svc/create_group", PRO),
        cjson.encode { Type = "Public", Owner_Account = "o", Name = name }, { ["X-Stub-Status"] = "502" })
      assert.are.equal(502, answer.status)
      h.wait(function() return r("HLEN", h.key(PRO, "rr")) == 1 end, 15, "the stand-in reserved")
      assert.are.equal("1", r("GET", h.key(PRO, "c:groups")))
      assert.are.equal(1, h.metric_sum("imbill_reservations_total", { app = PRO, via = "rest" }))
    end

    it("is reserved until Tencent's after-create callback names it, on the other node", function()
      lost("lost")
      local _, v = h.callback(2, PRO, "Group.CallbackAfterCreateGroup", "spec-token-pro", { CallbackCommand =
        "Group.CallbackAfterCreateGroup", GroupId = "@TGS#real1", Type = "Public", Owner_Account = "o", Name = "lost",
        EventTime = os.time() * 1000 })
      assert.are.equal("OK", v.ActionStatus)
      assert.are.equal("1", r("GET", h.key(PRO, "c:groups")))
      assert.are.same({ "@TGS#real1" }, r("SMEMBERS", h.key(PRO, "uj:o")))
      assert.are.equal(1, r("SCARD", h.key(PRO, "gm:@TGS#real1")))
      assert.are.same({}, r("KEYS", h.key(PRO, "*~rest*")))
      assert.are.equal(0, r("HLEN", h.key(PRO, "rr")))
      assert.are.equal(1, h.metric_sum("imbill_reservations_confirmed_total", { app = PRO }))
      h.sleep(2.2)
      h.sweep(1)
      assert.are.equal("1", r("GET", h.key(PRO, "c:groups")))
    end)

    it("is taken back when no callback names it by reservation_ttl", function()
      lost("ghost")
      h.wait(function()
        h.post(2, "/t/sweep", "")
        return h.count(node(), h.key(PRO, "c:groups")) == 0
      end, 10, "the reservation to expire")
      assert.are.equal(0, r("SCARD", h.key(PRO, "uj:o")))
      assert.are.same({}, r("KEYS", h.key(PRO, "*~rest*")))
      assert.are.equal(0, r("ZCARD", h.key(PRO, "rq")))
      assert.are.equal(1, h.metric_sum("imbill_reservations_expired_total", { app = PRO }))
    end)
  end)
end

return M
