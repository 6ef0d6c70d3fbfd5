--- Shared helpers of the nginx specs.
local http = require "ngx_client"
local cjson = require "cjson"
local assert = require "luassert"

local M = {}
M.http = http

function M.flush() assert.are.equal(200, http.post("/t/flush", "").status) end

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

--- The value of one counter on the status page (nil: absent).
function M.metric(name, labels) return http.metric_in(http.get("/imbill/status").body, name, labels) end

function M.stub_count(cmd) return tonumber(http.get("/stub/count?cmd=" .. cmd).body) end

function M.stub_last(cmd) return cjson.decode(http.get("/stub/last?cmd=" .. cmd).body) end

function M.sleep(s) require("socket").sleep(s) end

--- Starts holding an app's lock for ms milliseconds (as a worker the kernel
-- stopped mid-batch would); returns a function that waits for the hold to
-- end.
-- Sends GET path and returns at once; the returned function waits for the
-- answer and checks it holds `want`.
local function started(path, want)
  local socket = require "socket"
  local s = assert(socket.tcp())
  s:settimeout(10)
  assert(s:connect("127.0.0.1", http.port))
  assert(s:send("GET " .. path .. " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
  return function()
    local raw = s:receive("*a")
    s:close()
    assert.truthy(raw and raw:find(want, 1, true), raw)
  end
end

function M.hold(app, ms)
  local done = started("/t/hold?app=" .. app .. "&ms=" .. ms, "\"held\":" .. ms)
  require("socket").sleep(0.05) -- the hold has the lock before the others arrive
  return done
end

-- A worker counts one series and is then busy for ms milliseconds (/t/stall).
function M.stall(ms)
  local done = started("/t/stall?ms=" .. ms, "\"stalled\":" .. ms)
  require("socket").sleep(0.05) -- counted, and busy
  return done
end

return M
