--- Test-only locations inside the Redis specs' nginx (/t/...): hand-built
-- plans through the Redis store, the login queue, the journal, a forced
-- sweep.  Not part of the gateway.
local cjson = require "cjson.safe"
local state = require "imbill.gateway.state"
local spec_t = require "spec_t"

local ngx = ngx
local M = {}

local function send(t, status)
  ngx.status = status or 200
  ngx.header.content_type = "application/json"
  ngx.print(cjson.encode(t))
end

local function store_of(app)
  local a = state.cfg.apps[app]
  return a and state.store_for(a), a
end

local H = {}

function H.plan()
  ngx.req.read_body()
  local req = cjson.decode(ngx.req.get_body_data() or "")
  local store = store_of(req.app)
  if req.login then
    local s = req.steps[1]
    local res, ref = store:login_now(req.app, spec_t.plan_of(s.plan), s.user, s.event)
    return send { { result = res or "error", refusal = ref } }
  end
  local steps = {}
  for i, s in ipairs(req.steps) do
    steps[i] = { plan = spec_t.plan_of(s.plan), user = s.user, peer = s.peer, group = s.group, event = s.event }
  end
  local out, err = store:apply(req.app, steps, req.atomic)
  if not out then return send({ error = err }, 500) end
  return send(out)
end

-- Empties this node's dicts and counters (Redis is flushed by the spec).
function H.flush()
  for _, s in pairs(state.stores) do
    s.d:flush_all()
    s.d:flush_expired()
    state.clear_damage(s)
  end
  for _, rs in pairs(state.redis) do
    state.clear_damage(rs)
    rs.jdict:flush_all()
    rs.jdict:flush_expired()
    rs.meta:delete("redis_up:" .. rs.rname)
    rs.meta:delete("logins_waiting:" .. rs.rname)
  end
  if state.replay then state.replay:flush_all() end
  local meta = state.meta
  for _, k in ipairs(meta:get_keys(0)) do
    if k:sub(1, 2) == "m|" then meta:delete(k) end
  end
  return send { ok = true }
end

-- What waits on this node: the journal, this worker's login queue (after
-- flushing it).
function H.waiting()
  local flush = require "imbill.gateway.redis.flush"
  local journal = require "imbill.gateway.redis.journal"
  local out = { journal = 0, queue = 0 }
  for _, rs in pairs(state.redis) do
    flush.now(rs)
    out.queue = out.queue + flush.waiting(rs)
    out.journal = out.journal + journal.size(rs)
    if ngx.var.arg_replay then journal.replay(rs) end
  end
  return send(out)
end

function H.sweep()
  ngx.update_time()
  return send { expired = require("imbill.gateway.reserve").sweep_all() }
end

function H.usage()
  local app = state.cfg.apps[ngx.var.arg_app]
  local ok, u = pcall(require("imbill.gateway").usage_of, app.id, ngx.var.arg_month)
  if not ok then return send({ error = tostring(u) }, 500) end
  return send(u)
end

function M.handle()
  local name = ngx.var.uri:match("^/t/(%w+)")
  local h = H[name]
  if not h then return send({ error = "no such test location" }, 404) end
  local ok, err = pcall(h)
  if not ok then return send({ error = tostring(err) }, 500) end
end

return M
