--- The gateway's state in each worker: the checked configuration and one
-- store per dict.  Filled by setup() in init_by_lua (the workers inherit it).
local ngx = ngx
local metrics = require "imbill.gateway.metrics"

local M = { cfg = nil, stores = {} }

local function damaged_key(store) return "damaged:" .. store.name end

-- What a store does when a write fails: log, count, and for a dict that ran
-- out of memory mark the store damaged.  A damaged store keeps counting what
-- it can, but every capped action fails closed (or passes, for an app whose
-- failure policy is "open") until an operator clears the mark.
local function on_error(store, reason, key)
  local short = reason:match("^[%w ]+") or reason
  metrics.inc("imbill_store_errors_total", { dict = store.name, reason = short })
  if reason:find("no memory", 1, true) or reason:find("rollback incomplete", 1, true)
    or reason:find("corrupt", 1, true) then
    if not store.meta:get(damaged_key(store)) then
      key = tostring(key)
      if #key > 80 then key = key:sub(1, 80) .. "..." end
      ngx.log(ngx.ERR, "imbill: lua_shared_dict ", store.name, " failed a write (", reason, ", key ", key,
        "): capped actions now fail closed until an operator clears it (see docs/gateway.md)")
    end
    store.meta:safe_set(damaged_key(store), reason)
  else
    ngx.log(ngx.WARN, "imbill: store ", store.name, ": ", reason)
  end
end

function M.store_for(app)
  return M.stores[app.dict]
end

function M.damaged(store)
  return store.meta:get(damaged_key(store))
end

function M.clear_damage(store)
  store.meta:delete(damaged_key(store))
end

function M.init(cfg)
  local store_mod = require "imbill.gateway.store"
  M.cfg = cfg
  M.stores = {}
  local names = { [cfg.dict] = true }
  for _, a in pairs(cfg.apps) do names[a.dict] = true end
  for name in pairs(names) do
    M.stores[name] = store_mod.new { dict = name, meta = cfg.meta, lock_wait = cfg.lock_wait, on_error = on_error }
  end
  local meta = ngx.shared[cfg.meta]
  metrics.init(meta)
  M.meta = meta
  M.replay = cfg.replay and ngx.shared[cfg.replay] or nil
  if cfg.replay and not M.replay then
    error("imbill.gateway: no lua_shared_dict named " .. cfg.replay .. " (replay)", 0)
  end
end

return M
