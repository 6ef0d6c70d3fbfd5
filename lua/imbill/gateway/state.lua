--- The gateway's state in each worker: the checked configuration and one
-- store per dict.  Filled by setup() in init_by_lua (the workers inherit it).
local ngx = ngx
local metrics = require "imbill.gateway.metrics"
local json = require "imbill.gateway.json"

local M = { cfg = nil, stores = {}, redis = {}, app_stores = {} }

local function damaged_key(store) return "damaged:" .. store.name end

-- What a store does when a write fails: log, count, and for a dict that ran
-- out of memory mark the store damaged.  A damaged store keeps counting what
-- it can, but every capped action fails closed (or passes, for an app whose
-- failure policy is "open") until an operator clears the mark.
-- The locks live in the meta dict: a lock that cannot be written for want
-- of memory is the meta dict's fault, not the counts' (nothing was written
-- to them).  Said at most once a minute per worker, naming meta.
local meta_full_said = -math.huge
local function meta_full(store, reason)
  local name = M.cfg and M.cfg.meta or "meta"
  metrics.inc("imbill_store_errors_total", { dict = name, reason = "no memory" })
  local now = ngx.now()
  if now - meta_full_said >= 60 then
    meta_full_said = now
    ngx.log(ngx.ERR, "imbill: lua_shared_dict ", name, " (meta) has no room for a lock (", reason, ", apps of ",
      store.name, "): their calls are answered by their failure policy until meta has room; give it more memory ",
      "(docs/gateway.md, \"When the dict is full\")")
  end
end

local function on_error(store, reason, key)
  if reason:find("lock: ", 1, true) and reason:find("no memory", 1, true) then return meta_full(store, reason) end
  local short = reason:match("^[%w ]+") or reason
  metrics.inc("imbill_store_errors_total", { dict = store.name, reason = short })
  if reason:find("no memory", 1, true) or reason:find("rollback incomplete", 1, true)
    or reason:find("corrupt", 1, true) then
    if not store.meta:get(damaged_key(store)) then
      -- the key holds ids a client chose
      ngx.log(ngx.ERR, "imbill: lua_shared_dict ", store.name, " failed a write (", reason, ", key ", json.logged(key),
        "): capped actions now fail closed until an operator clears it (see docs/gateway.md)")
    end
    store.meta:safe_set(damaged_key(store), reason)
  else
    ngx.log(ngx.WARN, "imbill: store ", store.name, ": ", reason)
  end
end

function M.store_for(app)
  return M.app_stores[app.id] or M.stores[app.dict]
end

function M.damaged(store)
  return store.meta:get(damaged_key(store))
end

function M.clear_damage(store)
  store.meta:delete(damaged_key(store))
end

-- nginx keeps a dict's memory over a reload only while its size stays as it
-- was: a dict resized in nginx.conf comes back empty, every count gone.  A
-- mark in each counts dict, remembered in the meta dict, tells such a dict
-- from a new one: the reload is logged and the store marked damaged, so
-- capped actions fail closed rather than count again from zero unseen.
M.BORN = "imb:born"

-- Whether dict d (named name) comes back empty after holding data: its
-- mark is gone and meta remembers it.  Marks it anew either way.
local function emptied(d, name, meta)
  local born, was = d:get(M.BORN), meta:get("born:" .. name)
  local lost = false
  if born == nil then
    born = ngx.now()
    -- a dict that holds anything was not emptied (its mark alone did not
    -- fit, the last time round)
    lost = was ~= nil and #d:get_keys(1) == 0
    local ok, err = d:safe_set(M.BORN, born)
    if not ok then ngx.log(ngx.ERR, "imbill: lua_shared_dict ", name, ": cannot write its mark: ", err) end
  end
  if was ~= born then meta:safe_set("born:" .. name, born) end
  return lost
end

local function check_kept(store)
  if emptied(store.d, store.name, store.meta) then
    ngx.log(ngx.ERR, "imbill: lua_shared_dict ", store.name, " held counts before this reload and is empty now ",
      "(nginx gives a dict whose size changed fresh memory): every count of its apps starts again from zero; ",
      "capped actions fail closed until an operator clears the damage mark (docs/gateway.md, \"Reloading\")")
    store.meta:safe_set(damaged_key(store), "emptied by a reload (its size changed?)")
  end
end

function M.init(cfg)
  local store_mod = require "imbill.gateway.store"
  M.cfg = cfg
  M.stores = {}
  local names = { [cfg.dict] = true }
  for _, a in pairs(cfg.apps) do names[a.dict] = true end
  for name in pairs(names) do
    M.stores[name] = store_mod.new { dict = name, meta = cfg.meta, lock_wait = cfg.lock_wait, on_error = on_error,
                                     deferred = require("imbill.gateway.settle").deferred }
  end
  -- apps whose counts live in Redis: one store per Redis entry, shared by
  -- its apps
  M.redis, M.app_stores = {}, {}
  for id, a in pairs(cfg.apps) do
    if a.redis then
      local rs = M.redis[a.redis]
      if not rs then
        rs = require("imbill.gateway.redis.store").new { name = a.redis, cfg = cfg.redis[a.redis], meta = cfg.meta,
                                                           journal = cfg.journal }
        M.redis[a.redis] = rs
      end
      rs:add_app(a)
      M.app_stores[id] = rs
    end
  end
  for _, store in pairs(M.stores) do check_kept(store) end
  local meta = ngx.shared[cfg.meta]
  -- the Redis stores' journal: work not yet in Redis
  local jd = cfg.journal and next(M.redis) and ngx.shared[cfg.journal]
  if jd and emptied(jd, cfg.journal, meta) then
    ngx.log(ngx.ERR, "imbill: lua_shared_dict ", cfg.journal, " (the journal) was in use before this reload and ",
      "is empty now (nginx gives a dict whose size changed fresh memory): work it kept for Redis may be lost ",
      "(docs/fleet.md)")
  end
  metrics.init(meta)
  M.meta = meta
  M.replay = cfg.replay and ngx.shared[cfg.replay] or nil
  if cfg.replay and not M.replay then
    error("imbill.gateway: no lua_shared_dict named " .. cfg.replay .. " (replay)", 0)
  end
end

return M
