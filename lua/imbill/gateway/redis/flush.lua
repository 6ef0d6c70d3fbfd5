--- Logins in bulk.  A login callback only queues its login in the worker;
-- a timer flushes the queue to Redis every flush_interval seconds, or at
-- once when flush_batch logins wait, in batches: one program holds many
-- logins (a template of the day's login plan, then one line per user).
--
-- A login changes its user's 16-byte activity state, which only the core
-- computes (imb_activity_mark).  So a batch is read and written: the first
-- program asks the states of users it does not know, the core marks them,
-- the second writes each new state if the state is still the one read
-- (compare and set), and bumps DAU and MAU where the core says the day or
-- the month is new for the user.  A state that changed meanwhile (another
-- node) comes back with the program's answer and is marked again.
--
-- Nothing is lost: a batch Redis cannot take goes to the shared-dict
-- journal and is flushed again from there.  Nothing counts twice: a login
-- flushed twice finds its day marked the second time (the state is its
-- own proof).
local core = require "imbill.gateway.core"
local program = require "imbill.gateway.redis.program"
local layout = require "imbill.gateway.redis.layout"
local metrics = require "imbill.gateway.metrics"

local ngx = ngx
local A = core.A
local M = {}

local bufs, busy, started = {}, {}, {}

-- Logins taken by this node and not yet in Redis or the journal (every
-- worker's queue and the batches in flight), in the meta dict.
local function pending_key(store) return "logins_waiting:" .. store.rname end
local function settled(store, n) store.meta:incr(pending_key(store), -n, 0) end

local journal
local function J()
  journal = journal or require "imbill.gateway.redis.journal"
  return journal
end

local function not_counted(appid, reason, n)
  metrics.inc("imbill_not_counted_total", { app = appid, action = "login", reason = reason }, n)
end

-- One batch (at most flush_batch logins): see flush_logins.
local function flush_batch(store, appid, entries, deadline, states)
  local app = store.apps[appid]
  if not app then return true end
  local ctx = store:ctx(appid)
  local plan = core.plan_t()
  local items = {}
  for _, e in ipairs(entries) do
    local ok = core.build(app.limits, A.IMB_A_LOGIN, 0, e[3], app.offset, false, e[4], plan)
    if not ok then
      not_counted(appid, "unplanned")
    elseif plan.refused ~= 0 then
      not_counted(appid, core.names.limit[plan.refusal.limit] or "refused")
    else
      items[#items + 1] = { e = e, user = e[2], day = plan.day, month = plan.month }
    end
  end
  -- the states of users not known yet, read plainly (HMGET per bucket, one
  -- round trip); the program then only writes
  local ask, by_key, order = {}, {}, {}
  for _, it in ipairs(items) do
    if states[it.user] == nil and not ask[it.user] then
      ask[it.user] = true
      local k, f = layout.activity(ctx.P, it.user, ctx.buckets)
      local l = by_key[k]
      if not l then
        l = { "HMGET", k }
        by_key[k] = l
        order[#order + 1] = l
      end
      l[#l + 1] = f
    end
  end
  if #order > 0 then
    local replies = store.client:pipeline(ctx.slot, order, deadline)
    if replies then
      for i, l in ipairs(order) do
        local vals = replies[i]
        if type(vals) == "table" and vals[1] ~= false then
          for j = 3, #l do
            local v = vals[j - 2]
            states[l[j]] = type(v) == "string" and v or false
          end
        end
      end
    end
  end
  local pending = items
  local counted = 0
  for _ = 1, 8 do
    if #pending == 0 then break end
    local prog = program.new(ctx)
    local day, tpl, tmap
    local chain, sent = {}, {}
    for _, it in ipairs(pending) do
      if it.day ~= day then
        day = it.day
        tpl = core.plan_t()
        core.build(app.limits, A.IMB_A_LOGIN, 0, it.e[3], app.offset, false, it.e[4], tpl)
        tmap = prog:login_template(tpl, it.user)
      end
      local u = it.user
      local cur = chain[u]
      if cur == nil then cur = states[u] end
      if cur == nil then
        prog:login(u, "?")
        sent[#sent + 1] = { it = it, pos = #prog.instr, plan = tpl, map = tmap }
      else
        local new, dn, mn = core.mark(cur or nil, it.day, it.month)
        if not new then
          if dn == "corrupt" then
            ngx.log(ngx.ERR, "imbill: app ", appid, ": the activity state of a user is corrupt in Redis ",
              store.rname, "; the login is not counted")
            not_counted(appid, "store")
          else
            not_counted(appid, core.names.limit[core.L.IMB_L_DAY_OPEN])
          end
        else
          prog:login(u, cur and ("=" .. cur) or "=", new, dn, mn, it.day, it.month)
          chain[u] = new
          sent[#sent + 1] = { it = it, pos = #prog.instr, new = new, plan = tpl, map = tmap }
        end
      end
    end
    if #sent == 0 then
      pending = {}
      break
    end
    local reply, err, state = store:exec(ctx, prog, deadline)
    if not reply and state == "failed" then
      -- the interpreter refused the program (a value in Redis it cannot
      -- trust: a counter that is not a number, another bucket layout; logged
      -- by exec, naming the key): nothing of it was written, and sent again
      -- it would be refused again, so it is not counted.  Kept, it would
      -- come back from the journal forever and hold every later entry of the
      -- journal behind it.
      ngx.log(ngx.ERR, "imbill: app ", appid, ": ", #sent, " logins not counted: ", tostring(err))
      not_counted(appid, "store", #sent)
      if counted > 0 then metrics.inc("imbill_redis_logins_total", { app = appid }, counted) end
      return true
    end
    if not reply then
      local rest = {}
      for _, it in ipairs(pending) do rest[#rest + 1] = it.e end
      if counted > 0 then metrics.inc("imbill_redis_logins_total", { app = appid }, counted) end
      return false, rest
    end
    local again, reset = {}, {}
    for _, s in ipairs(sent) do
      local a = program.answer(reply, s.pos)
      local c = type(a) == "string" and a:sub(1, 1) or "?"
      local u = s.it.user
      if c == "a" then
        counted = counted + 1
        if not reset[u] then states[u] = s.new end
      elseif c == "s" then
        if not reset[u] then
          states[u] = #a > 1 and a:sub(3) or false
          reset[u] = true
        end
        again[#again + 1] = s.it
      elseif c == "r" then
        local r = program.refusal(s.plan, s.map, a)
        not_counted(appid, core.names.limit[r.limit] or "refused")
      end
    end
    pending = again
  end
  if counted > 0 then metrics.inc("imbill_redis_logins_total", { app = appid }, counted) end
  if #pending > 0 then
    local rest = {}
    for _, it in ipairs(pending) do rest[#rest + 1] = it.e end
    return false, rest
  end
  return true
end

--- Writes logins { { app, user, t, now }, ... } of one app, flush_batch
-- at a time.  Returns true, or false and the logins still to write (Redis
-- could not be reached, or the states kept changing).
function M.flush_logins(store, appid, entries, deadline)
  local size = store.cfg.flush_batch
  local states = {} -- user -> state, false: none yet; nil: not known
  local rest = {}
  for i = 1, #entries, size do
    local chunk = {}
    for j = i, math.min(#entries, i + size - 1) do chunk[#chunk + 1] = entries[j] end
    if #rest > 0 then
      -- Redis is away: keep the order, try nothing more now
      for _, e in ipairs(chunk) do rest[#rest + 1] = e end
    else
      local ok, left = flush_batch(store, appid, chunk, deadline, states)
      if not ok then for _, e in ipairs(left) do rest[#rest + 1] = e end end
    end
  end
  if #rest > 0 then return false, rest end
  return true
end

-- What waits in this worker goes to the journal (a worker shutting down, a
-- queue grown past flush_max while Redis is away).
local function spill(store)
  local b = bufs[store.name]
  if not b or #b == 0 then return end
  bufs[store.name] = {}
  local by = {}
  for _, e in ipairs(b) do
    local l = by[e[1]]
    if not l then
      l = {}
      by[e[1]] = l
    end
    l[#l + 1] = e
  end
  for appid, list in pairs(by) do
    if not J().append(store, { kind = "logins", app = appid, entries = list }) then
      ngx.log(ngx.ERR, "imbill: app ", appid, ": ", #list, " logins lost: the journal is full")
      not_counted(appid, "store", #list)
    end
  end
  settled(store, #b)
end

local function flush(store)
  local name = store.name
  local b = bufs[name]
  if not b or #b == 0 or busy[name] then return end
  bufs[name] = {}
  busy[name] = true
  local ok, err = pcall(function()
    local by, order = {}, {}
    for _, e in ipairs(b) do
      local l = by[e[1]]
      if not l then
        l = {}
        by[e[1]] = l
        order[#order + 1] = e[1]
      end
      l[#l + 1] = e
    end
    for _, appid in ipairs(order) do
      local ran, done, rest = pcall(M.flush_logins, store, appid, by[appid], store:deadline(true))
      if not ran then
        -- never lost for a bug: the journal keeps them (and logs each try)
        ngx.log(ngx.ERR, "imbill: login flush of app ", appid, " failed: ", tostring(done))
        done, rest = false, by[appid]
      end
      if not done then
        if not J().append(store, { kind = "logins", app = appid, entries = rest }) then
          ngx.log(ngx.ERR, "imbill: app ", appid, ": ", #rest, " logins lost: the journal is full")
          not_counted(appid, "store", #rest)
        end
      end
    end
  end)
  busy[name] = false
  settled(store, #b)
  if not ok then ngx.log(ngx.ERR, "imbill: login flush failed: ", tostring(err)) end
end

local function tick(premature, store)
  if premature then return spill(store) end
  flush(store)
end

function M.start(store)
  if started[store.name] then return end
  started[store.name] = true
  local ok, err = ngx.timer.every(store.cfg.flush_interval, tick, store)
  if not ok then
    started[store.name] = false
    ngx.log(ngx.ERR, "imbill: cannot start the login flush of Redis ", store.rname, ": ", err)
  end
end

--- Queues one login (store.lua's login).
function M.add(store, appid, user, t, now)
  local name = store.name
  local b = bufs[name]
  if not b then
    b = {}
    bufs[name] = b
  end
  local n = #b + 1
  b[n] = { appid, user, t, now }
  store.meta:incr(pending_key(store), 1, 0)
  if not started[name] then M.start(store) end
  if n >= store.cfg.flush_max then
    spill(store)
  elseif n == store.cfg.flush_batch and not busy[name] then
    ngx.timer.at(0, tick, store)
  end
end

--- Logins this node took that are not yet in Redis or in the journal.
function M.waiting(store)
  return store.meta:get(pending_key(store)) or 0
end

--- Flushes now (tests): returns when this worker's queue is written or
-- journaled.
function M.now(store)
  flush(store)
end

return M
