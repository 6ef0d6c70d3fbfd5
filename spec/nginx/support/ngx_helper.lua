--- Shared helpers of the nginx specs.
local http = require "ngx_client"
local cjson = require "cjson"
local assert = require "luassert"

local M = {}
M.http = http

--- Empties the counts, once the settlements an earlier spec's calls queued
-- are done (one landing after the flush would count in the next spec).
function M.flush()
  M.settled()
  assert.are.equal(200, http.post("/t/flush", "").status)
end

function M.json(r)
  local ok, v = pcall(cjson.decode, r.body)
  if not ok then error("not JSON (HTTP " .. tostring(r.status) .. "): " .. tostring(r.body), 2) end
  return v
end

--- Applies hand-built plans through the store: steps = { { plan =, user =, ... } }.
function M.apply(app, steps, atomic)
  local r = http.post("/t/plan", cjson.encode { app = app, steps = steps, atomic = atomic or false })
  local v = M.json(r)
  if r.status ~= 200 then error("plan: " .. tostring(v.error), 2) end
  return v
end

function M.login(app, plan, user, event)
  local r = http.post("/t/plan", cjson.encode { app = app, login = true,
                                                steps = { { plan = plan, user = user, event = event } } })
  return M.json(r)[1]
end

function M.keys(app) return M.json(http.get("/t/keys?app=" .. app)) end

--- REST call through the gateway: returns the HTTP answer and its JSON.
function M.rest(svc_cmd, app, body, headers)
  local r = http.post(http.rest_path(svc_cmd, app), type(body) == "string" and body or cjson.encode(body), headers)
  local ok, v = pcall(cjson.decode, r.body)
  return r, ok and v or nil
end

--- A callback through the gateway, signed with token (nil: unsigned).
function M.callback(app, command, token, body, opts)
  body = type(body) == "string" and body or cjson.encode(body)
  local r = http.post(http.callback_path(app, command, token, opts), body, opts and opts.headers)
  local ok, v = pcall(cjson.decode, r.body)
  return r, ok and v or nil
end

--- A reservation sweep now, by this call (/t/sweep waits for another
-- worker's to end): returns how many it took back.
function M.sweep()
  local v = M.json(http.post("/t/sweep", ""))
  assert.is_true(v.swept, "no sweep had the turn")
  return v.expired
end

--- The value of one counter on the status page (nil: absent).
function M.metric(name, labels) return http.metric_in(http.get("/imbill/status").body, name, labels) end

function M.stub_count(cmd) return tonumber(http.get("/stub/count?cmd=" .. cmd).body) end

function M.stub_last(cmd) return cjson.decode(http.get("/stub/last?cmd=" .. cmd).body) end

function M.sleep(s) require("socket").sleep(s) end

--- Waits until f() is true, trying every 20 ms for at most `bound` seconds
-- (default 10: a bound for a loaded machine, not a guess of how long it
-- takes); fails naming `what`.
function M.eventually(f, what, bound)
  local socket = require "socket"
  local stop = socket.gettime() + (bound or 10)
  repeat
    if f() then return end
    socket.sleep(0.02)
  until socket.gettime() > stop
  if f() then return end
  error("never happened: " .. what, 2)
end

--- Waits until every live worker has settled what it queued from Tencent's
-- answers (a settlement that found the app's lock busy is applied after
-- the answer, by the lock's next holder or a timer).  A
-- settlement queued from the log phase may be queued just after the client
-- read its answer: wait first for what that phase counts.
function M.settled()
  M.eventually(function()
    for pid, n in pairs(M.json(http.get("/t/settling")).settling) do
      if n > 0 then
        local alive = io.open("/proc/" .. pid .. "/stat")
        if alive then
          alive:close()
          return false
        end
      end
    end
    return true
  end, "the settlements")
end

-- Sends GET path and returns at once; the returned function waits for the
-- answer and checks it holds `want`.
local function started(path, want, port)
  local socket = require "socket"
  local s = assert(socket.tcp())
  s:settimeout(15)
  assert(s:connect("127.0.0.1", port or http.port))
  assert(s:send("GET " .. path .. " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
  return function()
    local raw = s:receive("*a")
    s:close()
    assert.truthy(raw and raw:find(want, 1, true), raw)
  end
end

local holds = 0

--- The app's lock and the hold `id` (h.hold's second result): { locked =,
-- hold = "held" | "released" | "lapsed" | nil } (spec_t.lua's H.lock).
function M.lock(app, id, port)
  return M.json(http.get("/t/lock?app=" .. app .. (id and "&id=" .. id or ""), port))
end

--- Starts holding an app's lock for ms milliseconds (as a worker the kernel
-- stopped mid-batch would) and returns once the lock is held (or the hold
-- is already over): a function that waits for the hold to end, and the
-- hold's id for M.lock.
function M.hold(app, ms, port)
  holds = holds + 1
  local id = tostring(require("socket").gettime()):gsub("%.", "") .. "." .. holds
  local done = started("/t/hold?app=" .. app .. "&ms=" .. ms .. "&id=" .. id, "\"held\":" .. ms, port)
  M.eventually(function() return M.lock(app, id, port).hold ~= nil end, "the hold of " .. app .. "'s lock")
  return done, id
end

-- A worker counts one series and is then busy for ms milliseconds
-- (/t/stall); returns once it has counted and is busy.
function M.stall(ms)
  holds = holds + 1
  local id = tostring(require("socket").gettime()):gsub("%.", "") .. ".s" .. holds
  local done = started("/t/stall?ms=" .. ms .. "&id=" .. id, "\"stalled\":" .. ms)
  M.eventually(function() return M.json(http.get("/t/stalled?id=" .. id)).begun end, "the stall")
  return done
end

--- A shell command's output, standard error included.
function M.sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("*a")
  p:close()
  return out
end

--- A free TCP port on 127.0.0.1 (for a gateway of a spec's own).
function M.free_port()
  local socket = require "socket"
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

--- A gateway of its own, for the specs that need another configuration than
-- the suite's nginx: nginx started in dir (emptied first) on loopback with
-- one worker, imbill's dicts of 1 MiB and `http` inside its http block
-- (@TOP@ there is the repository).  Returns what nginx printed, ending in
-- "rc=N"; stop it with M.stop_own(dir), also when nginx refused to start.
function M.own_nginx(dir, http_text)
  local top = os.getenv("IMBILL_TOP")
  M.sh("rm -rf '" .. dir .. "' && mkdir -p '" .. dir .. "/logs'")
  local f = assert(io.open(dir .. "/nginx.conf", "w"))
  f:write((([[
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
pid logs/nginx.pid;
lock_file logs/nginx.lock;
error_log logs/error.log notice;
worker_processes 1;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path logs/body;
  proxy_temp_path logs/proxy;
  fastcgi_temp_path logs/fastcgi;
  uwsgi_temp_path logs/uwsgi;
  scgi_temp_path logs/scgi;
  lua_package_path "@TOP@/lua/?.lua;@TOP@/lua/?/init.lua;@TOP@/spec/nginx/support/?.lua;;";
  lua_package_cpath "@TOP@/build/jit/?.so;;";
  lua_shared_dict imbill 1m;
  lua_shared_dict imbill_meta 1m;
@HTTP@
}
]]):gsub("@HTTP@", function() return http_text end):gsub("@TOP@", top)))
  f:close()
  local user = M.sh("id -u"):match("^0\n") and " -g 'user root root;'" or ""
  local out = M.sh("nginx -p '" .. dir .. "/' -c nginx.conf" .. user .. " 2>&1; echo rc=$?")
  -- the daemon writes its pid file after the nginx command has exited: a
  -- stop_own before it finds none and leaves nginx running
  if out:match("rc=0\n$") then
    M.eventually(function()
      local pf = io.open(dir .. "/logs/nginx.pid")
      if not pf then return false end
      local pid = pf:read("*l")
      pf:close()
      return pid and pid:match("^%d+$") ~= nil
    end, "the pid file of the nginx in " .. dir)
  end
  return out
end

--- Stops the nginx of M.own_nginx(dir), by its pid, if it runs.
function M.stop_own(dir)
  local pf = io.open(dir .. "/logs/nginx.pid")
  if not pf then return end
  local pid = pf:read("*l")
  pf:close()
  if pid then M.sh("kill -QUIT " .. pid .. "; for i in $(seq 1 50); do kill -0 " .. pid .. " || break; sleep 0.1; done") end
end

return M
