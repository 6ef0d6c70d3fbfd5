-- luacheck: globals setup init request response done delay wrk tid bad
-- wrk script for bench/gateway.sh: one mode per run (the first argument).
--   plain  POST create_group through the plain proxy (no imbill)
--   quota  POST create_group through the gateway (decided, reserved, settled)
--   floor  POST create_group through the least exact check (examples/nginx/floor.lua)
--   stub   POST create_group to the stub itself (what the stub costs)
--   login  POST State.StateChange login callbacks, signed
-- The second argument is the file of signatures (login).  With IMBILL_PACE=MS
-- in the environment each connection waits MS milliseconds between its
-- requests: a light load, for latency without queueing (wrk looks for
-- delay() when it loads the script, before any argument is read).
-- Every request carries new ids (a group per request, a login per request
-- among 100,000 users), so nothing is a repeat of an earlier one.
local mode, signs_path
local pace = tonumber(os.getenv("IMBILL_PACE"))
local counter = 0
local thread_id = 0
local signs = {}
local APP = os.getenv("IMBILL_APP") or "1400000099" -- bench/redis.sh names its apps

local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  mode = args[1] or "quota"
  signs_path = args[2]
  thread_id = tonumber(tid) or 0
  if signs_path then
    for line in io.lines(signs_path) do
      local t, s = line:match("^(%d+) (%x+)$")
      if t then signs[tonumber(t)] = s end
    end
  end
  math.randomseed(os.time() + thread_id * 7919)
end

if pace then
  function delay() return pace end
end

local REST_Q = "?sdkappid=" .. APP .. "&identifier=admin&usersig=bench&random=1&contenttype=json"

function request()
  counter = counter + 1
  if mode == "login" then
    local now = os.time()
    local sign = signs[now] or ""
    local user = "user" .. math.random(1, 100000)
    local path = "/imbill/callback?SdkAppid=" .. APP .. "&CallbackCommand=State.StateChange&contenttype=json"
      .. "&ClientIP=127.0.0.1&OptPlatform=iOS&Sign=" .. sign .. "&RequestTime=" .. now
    local body = '{"CallbackCommand":"State.StateChange","EventTime":' .. (now * 1000 + counter % 1000)
      .. ',"Info":{"Action":"Login","To_Account":"' .. user .. '","Reason":"Register"},"n":"' .. thread_id .. "-"
      .. counter .. '"}'
    return wrk.format("POST", path, { ["Content-Type"] = "application/json" }, body)
  end
  local prefix = mode == "plain" and "/plain/v4/" or mode == "floor" and "/floor/v4/" or "/v4/"
  local body = '{"Type":"Public","GroupId":"b' .. thread_id .. "-" .. counter .. "-" .. os.time()
    .. '","Owner_Account":"owner' .. math.random(1, 100000) .. '","Name":"bench"}'
  return wrk.format("POST", prefix .. "group_open_http_svc/create_group" .. REST_Q,
    { ["Content-Type"] = "application/json" }, body)
end

-- answers that are not HTTP 200 with ActionStatus OK
bad = 0
function response(status, _, body)
  if status ~= 200 or not body:find('"ActionStatus":"OK"', 1, true) then bad = bad + 1 end
end

function done(summary, latency)
  local n = 0
  for _, t in ipairs(threads) do n = n + (tonumber(t:get("bad")) or 0) end
  io.write(string.format("RESULT %.0f %.3f %.3f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, n, summary.requests))
end
