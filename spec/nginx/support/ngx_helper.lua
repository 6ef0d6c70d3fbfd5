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
function M.metric(name, labels)
  local body = http.get("/imbill/status").body
  local want = name
  if labels then
    local ks = {}
    for k in pairs(labels) do ks[#ks + 1] = k end
    table.sort(ks)
    local parts = {}
    for i, k in ipairs(ks) do parts[i] = k .. '="' .. labels[k] .. '"' end
    want = name .. "{" .. table.concat(parts, ",") .. "}"
  end
  for line in body:gmatch("[^\n]+") do
    local k, v = line:match("^([^#].*) (%S+)$")
    if k == want then return tonumber(v) end
  end
  return nil
end

function M.stub_count(cmd) return tonumber(http.get("/stub/count?cmd=" .. cmd).body) end

function M.stub_last(cmd) return cjson.decode(http.get("/stub/last?cmd=" .. cmd).body) end

function M.sleep(s) require("socket").sleep(s) end

return M
