--- imbill.gateway: Tencent IM quotas enforced in nginx (one node).
--
--   init_by_lua_block   { require("imbill.gateway").setup{ apps = { ... } } }
--   access_by_lua_block { require("imbill.gateway").rest() }        -- REST API location
--   content_by_lua_block { require("imbill.gateway").callback() }   -- Tencent's callback URL
--   content_by_lua_block { require("imbill.gateway").usage() }      -- ?sdkappid=&month=YYYY-MM
--   content_by_lua_block { require("imbill.gateway").status() }     -- Prometheus text
--   header_filter_by_lua_block, body_filter_by_lua_block, log_by_lua_block:
--     .header_filter(), .body_filter(), .log() (once, at server level)
--
-- docs/gateway.md is the reference.
local ngx = ngx
local M = {}

local function lazy(mod, fn)
  return function(...) return require(mod)[fn](...) end
end

--- Checks the configuration and prepares the stores (init_by_lua).
function M.setup(o)
  local cfg = require("imbill.gateway.config").check(o)
  require("imbill.gateway.state").init(cfg)
  -- the workers inherit the loaded modules: each phase calls its function
  -- straight away
  local rest = require "imbill.gateway.rest"
  M.rest, M.header_filter, M.body_filter, M.log = rest.access, rest.header_filter, rest.body_filter, rest.log
  M.callback = require("imbill.gateway.callback").handle
  return cfg
end

M.rest = lazy("imbill.gateway.rest", "access")
M.header_filter = lazy("imbill.gateway.rest", "header_filter")
M.body_filter = lazy("imbill.gateway.rest", "body_filter")
M.log = lazy("imbill.gateway.rest", "log")
M.callback = lazy("imbill.gateway.callback", "handle")

--- init_worker_by_lua (optional): starts the reservation sweep at once
-- instead of on the first callback.
function M.init_worker()
  require("imbill.gateway.reserve").start()
end

local function app_of(id)
  local state = require "imbill.gateway.state"
  return state.cfg and state.cfg.apps[id], state
end

--- The usage of an app's month (a table imbill.invoice takes), read from
-- this node's store.
function M.usage_of(appid, month)
  local app, state = app_of(appid)
  if not app then return nil, "unknown app " .. tostring(appid) end
  local store = state.store_for(app)
  return require("imbill.gateway.usage").month(function(k) return store.d:get(k) end, app, month)
end

--- content_by_lua: the usage location, ?sdkappid=...&month=YYYY-MM.
function M.usage()
  local json = require "imbill.gateway.json"
  local appid, month = ngx.var.arg_sdkappid, ngx.var.arg_month
  local app, state = app_of(appid)
  ngx.header.content_type = "application/json"
  if not app then
    ngx.status = 404
    ngx.say(json.encode { error = "unknown app " .. tostring(appid) })
    return ngx.exit(404)
  end
  local store = state.store_for(app)
  local ok, doc = pcall(require("imbill.gateway.usage").document, function(k) return store.d:get(k) end, app,
    month or "")
  if not ok then
    ngx.status = 400
    ngx.say(json.encode { error = tostring(doc) })
    return ngx.exit(400)
  end
  ngx.say(doc)
end

--- content_by_lua: counters in Prometheus' text format.
function M.status()
  local state = require "imbill.gateway.state"
  local metrics = require "imbill.gateway.metrics"
  local extra = {}
  for name, store in pairs(state.stores) do
    extra[#extra + 1] = { "imbill_store_damaged", { dict = name }, state.damaged(store) and 1 or 0 }
  end
  local dicts = { [state.cfg.meta] = true }
  if state.cfg.replay then dicts[state.cfg.replay] = true end
  for name in pairs(state.stores) do dicts[name] = true end
  for name in pairs(dicts) do
    local d = ngx.shared[name]
    extra[#extra + 1] = { "imbill_dict_capacity_bytes", { dict = name }, d:capacity() }
    extra[#extra + 1] = { "imbill_dict_free_bytes", { dict = name }, d:free_space() }
  end
  ngx.header.content_type = "text/plain; version=0.0.4"
  ngx.print(metrics.render(extra))
end

--- After a dict ran out of memory (and was enlarged, or the cause is
-- understood): lets capped actions be decided again.  Returns the names
-- cleared.
function M.clear_damage()
  local state = require "imbill.gateway.state"
  local out = {}
  for name, store in pairs(state.stores) do
    if state.damaged(store) then
      state.clear_damage(store)
      out[#out + 1] = name
      ngx.log(ngx.WARN, "imbill: damage mark of lua_shared_dict ", name, " cleared by an operator")
    end
  end
  return out
end

return M
