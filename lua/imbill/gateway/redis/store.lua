--- The Redis store: the core's plans applied in Redis (one server or a
-- Redis Cluster), so every gateway node of a fleet counts against one truth.
--
-- Each decision is one program (program.lua) run by one call of the
-- interpreter (interpreter.lua; FCALL, or EVALSHA where Redis has no
-- functions: script.lua): every guard checked and every effect applied, or
-- nothing.  Redis runs one function or script at a time, so no other
-- decision interleaves with it, on this node or any other.
--
-- Logins are buffered per worker and flushed in batches (flush.lua); what
-- cannot reach Redis waits in a shared-dict journal (journal.lua) and is
-- replayed, exactly once, when Redis answers again.  Decisions Redis cannot
-- take in time get the app's failure policy (docs/fleet.md): "closed"
-- refuses capped calls, "open" allows them and journals what was allowed.
--
-- The methods the gateway calls (units.lua, callback.lua, settle.lua,
-- reserve.lua, init.lua) mirror what the shared-dict store does under its
-- lock: apply_units, approve, count_after, settle, sweep, usage, login.
local core = require "imbill.gateway.core"
local layout = require "imbill.gateway.redis.layout"
local program = require "imbill.gateway.redis.program"
local cluster = require "imbill.gateway.redis.cluster"
local metrics = require "imbill.gateway.metrics"
local plans = require "imbill.gateway.plans"
local calls = require "imbill.gateway.calls"

local ngx = ngx
local A, K, OP, S, W = core.A, core.K, core.OP, core.S, core.W
local UNLIMITED = core.UNLIMITED
local cjson = require "cjson.safe"
local logged = require("imbill.gateway.json").logged

local M = {}
local Store = {}
Store.__index = Store
M.Store = Store

local FAMILIES = metrics.FAMILIES
FAMILIES.imbill_redis_up = { "gauge", "1 while this node reaches the Redis (last call), 0 after a call failed." }
FAMILIES.imbill_redis_errors_total = { "counter", "Calls to Redis that failed, by redis and reason." }
FAMILIES.imbill_redis_failures_total = { "counter",
  "Decisions Redis could not take in time, answered by the app's failure policy, by app and policy." }
FAMILIES.imbill_redis_journaled_total = { "counter",
  "Work kept in the journal until Redis answers again, by redis, app and kind." }
FAMILIES.imbill_redis_replayed_total = { "counter", "Journal entries applied when Redis answered again, by kind." }
FAMILIES.imbill_redis_journal_entries = { "gauge", "Entries waiting in this node's journal, by redis." }
FAMILIES.imbill_redis_evicting = { "gauge",
  "1 while the app's Redis node may evict keys at its maxmemory (a policy but noeviction): counts can be lost." }
FAMILIES.imbill_redis_logins_total = { "counter", "Logins written to Redis by the flush, by app." }
FAMILIES.imbill_redis_redirects_total = { "counter",
  "Redis Cluster redirections followed (moved, ask) and calls sent again during a slot migration (tryagain)." }
FAMILIES.imbill_redis_unresolved_total = { "counter",
  "Decisions whose outcome could not be learned from Redis (their marker expired): counts kept, by app." }

FAMILIES.imbill_redis_resets_total = { "counter",
  "Times Redis was found to have lost an app's counts (FLUSHALL, a restart without persistence, a failover to an "
  .. "empty replica): they count again from zero, by redis and app." }

local units_mod, journal, flush -- loaded on first use (they require this module's siblings)
local function J()
  journal = journal or require "imbill.gateway.redis.journal"
  return journal
end
local function F()
  flush = flush or require "imbill.gateway.redis.flush"
  return flush
end
local function U()
  units_mod = units_mod or require "imbill.gateway.units"
  return units_mod
end

--- M.new{ name =, cfg = (config.redis_config), meta = dict name, journal =
-- dict name }
function M.new(o)
  local meta = ngx.shared[o.meta]
  if not meta then error("imbill.gateway: no lua_shared_dict named " .. tostring(o.meta), 0) end
  local jd = ngx.shared[o.journal]
  if not jd then
    error("imbill.gateway: Redis store " .. o.name .. " needs its journal: no lua_shared_dict named "
      .. tostring(o.journal) .. " (the journal option)", 0)
  end
  return setmetatable({
    name = "redis:" .. o.name, rname = o.name, cfg = o.cfg, client = cluster.new(o.cfg), meta = meta, jdict = jd,
    apps = {}, ctxs = {}, remote = true,
  }, Store)
end

function Store:add_app(app) self.apps[app.id] = app end

function Store:ctx(appid)
  local c = self.ctxs[appid]
  if c then return c end
  local app = self.apps[appid]
  if not app then error("imbill.gateway: app " .. tostring(appid) .. " does not count in Redis " .. self.rname, 0) end
  c = { P = layout.prefix(appid), buckets = app.buckets, tag = layout.tag(app.buckets),
        dedup_ttl = core.DEDUP_DAYS * 86400, marker_ttl = self.cfg.marker_ttl, slot = cluster.slot_of_tag(appid),
        app = app }
  self.ctxs[appid] = c
  return c
end

-- Program ids: unique across the fleet (a random token per worker, a
-- sequence), with the 10-second window their marker lives in.
local token, seq = nil, 0
function M.new_pid()
  if not token then
    math.randomseed(ngx.now() * 1000 + ngx.worker.pid())
    token = ngx.md5(table.concat({ ngx.now(), ngx.worker.pid(), math.random(), tostring({}) }, "|")):sub(1, 12)
  end
  seq = seq + 1
  return token .. "." .. seq, math.floor(ngx.now() / 10)
end

-- jr: a journal replay's record; a replay run while a client waits
-- (journal.replay's until_t) ends each entry by that instant too, not after
-- a background deadline of its own.
function Store:deadline(background, jr)
  local d = cluster.now() + (background and self.cfg.background_deadline or self.cfg.deadline)
  local cap = type(jr) == "table" and jr.until_t
  if cap and cap < d then return cap end
  return d
end

-- Whether this node reaches Redis: a log line on each change, a gauge.
function Store:reached(ok, err)
  local key = "redis_up:" .. self.rname
  local was = self.meta:get(key)
  if ok then
    if was ~= 1 then
      self.meta:safe_set(key, 1) -- never by evicting another key (a lock)
      if was == 0 then ngx.log(ngx.WARN, "imbill: Redis ", self.rname, " answers again") end
    end
    return
  end
  metrics.inc("imbill_redis_errors_total", { redis = self.rname, reason = (tostring(err):match("[%w ]+$") or "error") })
  if was ~= 0 then
    self.meta:safe_set(key, 0)
    ngx.log(ngx.ERR, "imbill: Redis ", self.rname, " cannot be reached (", tostring(err), "): apps decide by ",
      "their failure policy, and what must be counted waits in the journal")
  end
end

function Store:up() return self.meta:get("redis_up:" .. self.rname) ~= 0 end

--- Whether Redis still holds the counts this node saw.  Each app has a mark
-- in Redis (`c:epoch`, a random value) that only this check writes, and the
-- node remembers the mark it found.  A mark gone, or another one, means
-- Redis lost the app's keys meanwhile (FLUSHALL, FLUSHDB, a restart without
-- persistence, a failover to an empty replica): the programs write the
-- counts again from zero, the caps with them, and nothing else would say
-- so.  Logged (an error) and counted; one worker of the node checks every
-- EPOCH_EVERY seconds.
local EPOCH_EVERY = 5
M.EPOCH_EVERY = EPOCH_EVERY
function Store:check_epochs()
  local meta = self.meta
  if not meta:safe_add("epoch_check:" .. self.rname, ngx.worker.pid(), EPOCH_EVERY) then return end
  local deadline = self:deadline(true)
  local infos = {} -- INFO memory by node, read once a look
  for appid in pairs(self.apps) do
    local ctx = self:ctx(appid)
    local k = ctx.P .. "c:epoch"
    local mark = ngx.md5(table.concat({ ngx.now(), ngx.worker.pid(), math.random(), appid }, "|")):sub(1, 16)
    local rs = self.client:pipeline(ctx.slot, { { "SET", k, mark, "NX" }, { "GET", k } }, deadline)
    local v = type(rs) == "table" and rs[2]
    if type(v) == "string" then
      local mk = "epoch:" .. self.rname .. ":" .. appid
      local seen = meta:get(mk)
      if seen and seen ~= v then
        ngx.log(ngx.ERR, "imbill: Redis ", self.rname, " lost the counts of app ", appid, " (its keys are gone: ",
          "FLUSHALL, FLUSHDB, a restart without persistence or a failover to an empty replica): they count again ",
          "from zero, and its caps with them")
        metrics.inc("imbill_redis_resets_total", { redis = self.rname, app = appid })
      end
      if seen ~= v then meta:safe_set(mk, v) end
    end
    self:check_eviction(ctx, appid, deadline, infos)
  end
end

-- A Redis that may evict keys at its maxmemory (any maxmemory-policy but
-- noeviction) drops counts without an error: the counters of an app, the
-- states that make each login count once.  Each look reads INFO memory on
-- the app's node; a change to or from such a policy is logged, and
-- imbill_redis_evicting{redis,app} (status) is 1 while it lasts.
function Store:check_eviction(ctx, appid, deadline, infos)
  local addr = self.client:addr_of(ctx.slot, deadline)
  local info = infos[addr]
  if info == nil then
    info = self.client:command(ctx.slot, deadline, "INFO", "memory")
    infos[addr] = info or false
  end
  if type(info) ~= "string" then return end
  local max, policy = info:match("\nmaxmemory:(%d+)"), info:match("\nmaxmemory_policy:([%w%-]+)")
  if not max or not policy then return end
  local evicting = max ~= "0" and policy ~= "noeviction"
  local key = "evicting:" .. self.rname .. ":" .. appid
  local was = self.meta:get(key)
  if evicting and was ~= policy then
    ngx.log(ngx.ERR, "imbill: Redis ", self.rname, " (app ", appid, ") evicts keys at its maxmemory (",
      "maxmemory-policy ", policy, "): counts it drops are lost without an error, logins may count twice; set ",
      "maxmemory-policy noeviction (docs/fleet.md, \"Redis' memory\")")
    self.meta:safe_set(key, policy)
  elseif not evicting and was then
    ngx.log(ngx.WARN, "imbill: Redis ", self.rname, " (app ", appid, ") no longer evicts keys (maxmemory-policy ",
      policy, ", maxmemory ", max, ")")
    self.meta:delete(key)
  end
end

--- Whether the app's Redis node was last seen evicting keys (check_eviction).
function Store:evicting(appid) return self.meta:get("evicting:" .. self.rname .. ":" .. appid) ~= nil end

local function decode_stored(text)
  local t = cjson.decode(text)
  if type(t) ~= "table" then return nil end
  local out = { "ok" }
  for i, v in ipairs(t) do out[i + 1] = v end
  return out
end

--- Runs a program.  Returns the interpreter's answer ({ "ok", ... }), or
-- nil, the error and what is known of the outcome: "unsent" (it did not
-- run), "unknown" (it may have run), "failed" (the interpreter refused it:
-- nothing was written), "cancelled" (its id was resolved as never run).
function Store:exec(ctx, prog, deadline)
  for _ = 1, 8 do
    local r, err, state = self.client:run(ctx.slot, prog.keys, prog.argv, deadline)
    if not r then
      if state == "unsent" or state == "unknown" then self:reached(false, err) end
      if state ~= "unsent" and state ~= "unknown" then
        ngx.log(ngx.ERR, "imbill: Redis ", self.rname, ": ", tostring(err))
        state = "failed"
      end
      return nil, err, state
    end
    self:reached(true)
    local s = type(r) == "table" and r[1]
    if s == "ok" then return r end
    if s == "done" or s == "ran" then
      local d = decode_stored(r[2])
      if not d then return nil, "redis: an unreadable marker", "failed" end
      d.replayed = true
      return d
    elseif s == "need" then
      for i = 2, #r do prog:declare(r[i]) end
    elseif s == "cancelled" then
      return nil, "cancelled", "cancelled"
    elseif s == "fail" then
      local msg = "Redis " .. self.rname .. ": " .. tostring(r[2])
      ngx.log(ngx.ERR, "imbill: ", msg)
      metrics.inc("imbill_store_errors_total", { dict = self.name, reason = "refused by the interpreter" })
      return nil, msg, "failed"
    elseif s == "partial" then
      local msg = "Redis " .. self.rname .. ": a write failed after others (" .. tostring(r[2]) .. ")"
      ngx.log(ngx.ERR, "imbill: ", msg, "; counts may be partly written")
      metrics.inc("imbill_store_errors_total", { dict = self.name, reason = "partial write" })
      self.meta:safe_set("damaged:" .. self.name, msg)
      return nil, msg, "failed"
    else
      return nil, "redis: an answer the gateway cannot read", "unknown"
    end
  end
  return nil, "Redis " .. self.rname .. ": the program kept naming keys it had not declared", "failed"
end

-- Each step's outcome into its own fields (step.result, step.refusal),
-- where units.lua reads them, as the shared-dict store leaves them.
local function classify(u, res, bad)
  local steps = u.steps
  for i = 1, #steps do
    local r = res[i]
    steps[i].result, steps[i].refusal = r.result, r.refusal
  end
  U().classify(u, steps, bad)
end

local function plan_refusal(plan)
  local r = plan.refusal
  return { code = tonumber(r.code), limit = tonumber(r.limit), max = tonumber(r.max), current = tonumber(r.current),
           peer = tonumber(r.peer), feature = tonumber(r.feature) }
end

-- A unit refused before any store is read (a plan the core refused).
local function refused_by_plan(u)
  for j, s in ipairs(u.steps) do
    if s.plan.refused ~= 0 then
      local res = {}
      for i = 1, #u.steps do
        if i < j then res[i] = { result = "rolled back" }
        elseif i == j then res[i] = { result = "refused", refusal = plan_refusal(s.plan) }
        else res[i] = { result = "skipped" } end
      end
      classify(u, res, j)
      return true
    end
  end
  return false
end

-- A step as the journal keeps it: enough to build its plan again.
local function describe(s)
  return { k = s.kind, g = s.gtype, t = s.t, u = s.user, p = s.peer, grp = s.group, e = s.event }
end
M.describe = describe

local function rebuild(app, d, now)
  local s = plans.step(app, d.k, d.t, { user = d.u, peer = d.p, group = d.grp, event = d.e }, d.g, now)
  return s
end

-- The undo steps of applied descriptions, last first.
local function undo_steps(app, descs)
  local out = {}
  for i = #descs, 1, -1 do
    local s = plans.undo_of(app, descs[i])
    if s then out[#out + 1] = s end
  end
  return out
end

---------------------------------------------------------------------------
-- Decisions: REST calls and "before" callbacks

--- Applies units (units.lua) all or nothing each, in one program.  With
-- reserve(i, u) -> { rid, match, deadline_ms, text }, a unit that applied
-- leaves a reservation record.  Returns true, or nil, the error and what
-- the caller must settle later ({ state, pid, window, units }: nil when
-- nothing can have been written).
function Store:apply_units(app, units, _, reserve)
  -- Earlier work of the app waits in this node's journal (Redis was away):
  -- decided against Redis now, this would come before it (a group destroyed
  -- while Redis was away and created again, then destroyed by the replay,
  -- ended uncounted while Tencent had it).  The journal is replayed first,
  -- within half the call's deadline; when it is not through by then, the
  -- store cannot decide in order, and the call meets the failure policy as
  -- when Redis cannot be reached (what is let through joins the journal's end).
  local waiting = J().pending(self, app.id) and self:replay_first(app.id)
  local ctx = self:ctx(app.id)
  local pid, w = M.new_pid()
  local prog = program.new(ctx, pid, w)
  local sent = {}
  for i, u in ipairs(units) do
    if u.unplanned then
      u.status = "not_counted"
    elseif #u.steps > 0 and not refused_by_plan(u) then
      local h = prog:unit(u.steps, true)
      sent[#sent + 1] = { u = u, h = h, pos = #prog.instr }
      if reserve then
        local r = reserve(i, u)
        if r then prog:reserve(h, r.rid, r.match, r.deadline_ms, r.text) end
      end
    end
  end
  if #sent == 0 then return true end
  local reply, err, state
  if waiting then
    err, state = "earlier work of the app waits in this node's journal, which Redis has not taken yet", "unsent"
  else
    reply, err, state = self:exec(ctx, prog, self:deadline())
  end
  if not reply then
    metrics.inc("imbill_redis_failures_total", { app = app.id, policy = app.failure })
    if state == "failed" then return nil, err end
    local pend = { state = state, pid = pid, w = w, units = {} }
    for _, e in ipairs(sent) do
      local descs = {}
      for j, s in ipairs(e.u.steps) do descs[j] = describe(s) end
      pend.units[#pend.units + 1] = { key = e.u.key, descs = descs, pos = e.pos }
    end
    return nil, err, pend
  end
  for _, e in ipairs(sent) do
    local res, bad = program.unit_result(e.h, program.answer(reply, e.pos))
    classify(e.u, res, bad)
  end
  return true
end

--- Replays the journal while a caller waits, for at most half of a call's
-- deadline (the caller's own call has the other half).  Returns whether
-- work of the app still waits in it.
function Store:replay_first(appid)
  ngx.update_time()
  J().replay(self, ngx.now() + self.cfg.deadline / 2)
  return J().pending(self, appid)
end

--- A "before" callback's approval: the units, and a reservation record for
-- each unit that applied (callback.lua's approve, reserve.lua's records).
function Store:approve(app, units, matches, base, ttl)
  local deadline_ms = math.floor((ngx.now() + ttl) * 1000)
  return self:apply_units(app, units, nil, function(i, u)
    local descs = {}
    for j, s in ipairs(u.steps) do descs[j] = describe(s) end
    local text = cjson.encode { d = descs, m = matches[i], g = u.provisional, dl = deadline_ms / 1000 }
    return { rid = base .. "." .. i, match = matches[i], deadline_ms = deadline_ms, text = text }
  end)
end

-- A reservation record: the interpreter's flags, then the JSON the
-- approval wrote.  Returns its applied descriptions, match and provisional
-- group.
local function parse_record(text)
  if type(text) ~= "string" then return nil end
  local flags, body = text:match("^([%a]*)\n(.*)$")
  local rec = body and cjson.decode(body)
  if type(rec) ~= "table" or type(rec.d) ~= "table" then return nil end
  local applied = {}
  for i, d in ipairs(rec.d) do
    if flags:sub(i, i) == "a" then applied[#applied + 1] = d end
  end
  return { applied = applied, m = rec.m, g = rec.g }
end

-- The oldest reservation still waiting for `match`, read (not taken).
function Store:peek(ctx, match, deadline)
  local rr, rm = layout.reservations(ctx.P)
  local list, err = self.client:command(ctx.slot, deadline, "HGET", rm, match)
  if list == nil then return nil, err end
  if type(list) ~= "string" then return false end
  for rid in list:gmatch("%S+") do
    local text, terr = self.client:command(ctx.slot, deadline, "HGET", rr, rid)
    if text == nil then return nil, terr end
    if type(text) == "string" then
      local rec = parse_record(text)
      if rec then
        rec.rid, rec.text = rid, text
        return rec
      end
    end
  end
  return false
end

---------------------------------------------------------------------------
-- After callbacks: what Tencent did, counted once

local function units_journal(units)
  local out = {}
  for i, u in ipairs(units) do
    local descs = {}
    for j, s in ipairs(u.steps or {}) do descs[j] = describe(s) end
    out[i] = { key = u.key, descs = descs, unplanned = u.unplanned }
  end
  return out
end

local function units_from_journal(app, list, now)
  local units = {}
  for i, e in ipairs(list) do
    local steps, unplanned = {}, e.unplanned
    for j, d in ipairs(e.descs) do
      local s = rebuild(app, d, now)
      if not s then
        unplanned = true
        break
      end
      steps[j] = s
    end
    units[i] = { key = e.key, steps = steps, unplanned = unplanned }
  end
  -- rebuilt plans are asks again: the callback reported these, as its first
  -- try did (a create in place refused instead would not keep its event id)
  plans.reported(units)
  return units
end

--- Counts an after callback's units.  spec: nil; { matches = { ... } }
-- (confirms the approvals waiting for each match first); { create = {
-- match =, group = } } (an approved group takes its real id, or is taken
-- back when the id is counted already; the units then count nothing).
-- When Redis cannot be reached the units go to the journal (status
-- "journaled").  jr: a journal replay's { pid, w, rec }: rec, when its
-- first try may have run, is the reservation that try found (false: none),
-- so the replay sends the same program and reads the answer Redis kept of
-- it right (that try may have claimed the reservation: looked for again,
-- it is gone).
function Store:count_after(app, units, _, spec, jr)
  if not jr and J().pending(self, app.id) then
    -- earlier work of the app waits in the journal: this comes after it
    return self:journal_after(app, units, spec)
  end
  local ctx = self:ctx(app.id)
  local pid, w
  if jr then pid, w = jr.pid, jr.w else pid, w = M.new_pid() end
  local deadline = self:deadline(jr ~= nil, jr)
  local rec
  if spec and spec.create and jr and jr.rec ~= nil then
    rec = jr.rec and parse_record(jr.rec.text)
    if rec then rec.rid, rec.text = jr.rec.rid, jr.rec.text end
  elseif spec and spec.create then
    local err
    rec, err = self:peek(ctx, spec.create.match, deadline)
    if rec == nil then
      self:reached(false, err)
      if jr then return nil, err end
      return self:journal_after(app, units, spec, pid, w)
    end
  end
  local prog = program.new(ctx, pid, w)
  local claim, confirms = nil, {}
  if rec then
    claim = prog:claim(rec.rid, rec.text, spec.create.match)
    local rn = rec.g and prog:rename(rec.g, spec.create.group, claim.reg .. "=1")
    if rn then
      local back = undo_steps(app, rec.applied)
      if #back > 0 then prog:unit(back, false, claim.reg .. "=1," .. rn.reg .. "=0") end
    end
  elseif spec and spec.matches then
    for _, m in ipairs(spec.matches) do confirms[#confirms + 1] = { h = prog:confirm(m), pos = #prog.instr } end
  end
  local sent = {}
  for _, u in ipairs(units) do
    if u.unplanned then
      u.status = "not_counted"
    elseif #u.steps > 0 and not refused_by_plan(u) then
      -- after a claim too: the group is in place then and the units change
      -- nothing, but remember their event ids (plans.reported)
      local h = prog:unit(u.steps, true, "")
      sent[#sent + 1] = { u = u, h = h, pos = #prog.instr }
    end
  end
  if prog:empty() then return true end
  local reply, err, state = self:exec(ctx, prog, deadline)
  if not reply then
    if state == "failed" or jr then return nil, err, state end
    -- it may have run: the replay builds this same program
    local found = nil
    if spec and spec.create and state == "unknown" then found = rec and { rid = rec.rid, text = rec.text } or false end
    return self:journal_after(app, units, spec, pid, w, found)
  end
  for _, c in ipairs(confirms) do
    local got = program.answer(reply, c.pos)
    if type(got) == "string" and got ~= "" then metrics.inc("imbill_reservations_confirmed_total", { app = app.id }) end
  end
  local claimed = claim and program.answer(reply, 1) == "1"
  if claimed then metrics.inc("imbill_reservations_confirmed_total", { app = app.id }) end
  for _, e in ipairs(sent) do
    local res, bad = program.unit_result(e.h, program.answer(reply, e.pos))
    classify(e.u, res, bad)
    if claimed and e.u.status ~= "applied" then e.u.status = "confirmed" end
  end
  return true
end

function Store:journal_after(app, units, spec, pid, w, rec)
  if not pid then pid, w = M.new_pid() end
  local ok = J().append(self, { kind = "after", app = app.id, pid = pid, w = w, units = units_journal(units),
                                spec = spec, rec = rec, now = ngx.time() })
  for _, u in ipairs(units) do
    if not u.unplanned then u.status = ok and "journaled" or "not_counted" end
  end
  if not ok then return nil, "the journal is full" end
  return true
end

---------------------------------------------------------------------------
-- Settling REST calls (settle.lua's jobs)

local function job_entry(job)
  local e = require("imbill.gateway.settle").entry(job)
  e.kind, e.app, e.now = "settle", job.app.id, e.now or ngx.time()
  return e
end

-- The journal entry of a pending call's settlement (settle_pending).
local function pending_entry(job)
  local pend = job.pending
  local did = {}
  for i, u in ipairs(pend.units) do
    if job.did then did[i] = job.did[i] else did[i] = job.done ~= nil and calls.done(job.done, u.key) end
  end
  return { kind = "pending", app = job.app.id, pending = pend, did = did, standin = job.standin,
           now = job.now or ngx.time() }
end

--- A settle job (settle.lua): a provisional group renamed (or taken back),
-- or left counted as a reservation (job.reserve: the record an approval
-- writes, its deadline reservation_ttl from when it is written), reservations
-- Tencent did not use given back, shrinks Tencent did applied, every
-- friendship of a user ended.  Always done or journaled: returns true.
function Store:settle(job, jr)
  local app = job.app
  -- a pending call's settlement (what Tencent did of a call decided while
  -- Redis could not answer) keeps the journal's order too
  if not jr and J().pending(self, app.id) then
    -- earlier work of the app waits in the journal, and this comes after
    -- it.  A client waits for this answer and may send its next call as
    -- soon as it has it: the journal is replayed here first, within the
    -- first half of the call's deadline (the settlement has its own), so
    -- that the settlement lands before the answer (the replay's lock keeps
    -- it to one worker at a time; when another has it, or the journal is
    -- not through in time, this joins its end)
    if not job.foreground or self:replay_first(app.id) then
      J().append(self, job.pending and pending_entry(job) or job_entry(job))
      return true
    end
  end
  if job.pending then return self:settle_pending(job, jr) end
  local ctx = self:ctx(app.id)
  local pid, w
  if jr then pid, w = jr.pid, jr.w else pid, w = M.new_pid() end
  -- (a client waits for a job settled from the access phase: rest.lua)
  local deadline = self:deadline(not job.foreground, jr)
  local now = job.now or ngx.time()
  job.now = now
  local function later(err)
    self:reached(false, err)
    if jr then return false end
    local e = job_entry(job)
    e.pid, e.w = pid, w
    J().append(self, e)
    return true
  end
  local prog = program.new(ctx, pid, w)
  if job.rename then
    local r = job.rename
    local rn = prog:rename(r.from, r.to)
    local back = undo_steps(app, r.descs)
    if #back > 0 then prog:unit(back, false, rn.reg .. "=0") end
  end
  local held
  if job.reserve then
    local r = job.reserve
    local deadline_ms = math.floor((ngx.now() + app.reservation_ttl) * 1000)
    local text = cjson.encode { d = r.descs, m = r.match, g = r.group, dl = deadline_ms / 1000 }
    prog:reserve_applied(#r.descs, r.rid, r.match, deadline_ms, text)
    held = #prog.instr
  end
  for _, descs in ipairs(job.undo or {}) do
    local back = undo_steps(app, descs)
    if #back > 0 then prog:unit(back, false) end
  end
  local shrinks = {}
  for _, d in ipairs(job.shrink or {}) do
    local s = plans.rebuild(app, d, now)
    if s then shrinks[#shrinks + 1] = { h = prog:unit({ s }, true), pos = #prog.instr } end
  end
  for _, l in ipairs { { job.all_friends, A.IMB_A_REMOVE_FRIEND_ONE_WAY },
                       { job.all_friends_both, A.IMB_A_REMOVE_FRIEND } } do
    for _, u in ipairs(l[1] or {}) do
      local peers, err = self.client:command(ctx.slot, deadline, "SMEMBERS", layout.friends(ctx.P, u))
      if peers == nil then return later(err) end
      if peers == false then
        ngx.log(ngx.ERR, "imbill: Redis ", self.rname, ": the friends of ", logged(u), ": ", tostring(err))
      else
        for _, p in ipairs(peers) do
          local ss = plans.parts_steps(app, l[2], now, { user = u, peer = p }, nil, now)
          if ss then prog:unit(ss, true) end
        end
      end
    end
  end
  if prog:empty() then return true end
  local reply, err, state = self:exec(ctx, prog, deadline)
  if not reply then
    if state == "failed" then
      ngx.log(ngx.ERR, "imbill: app ", app.id, ": settling ", tostring(job.call), " failed: ", tostring(err))
      return true
    end
    return later(err)
  end
  local not_counted = 0
  for _, e in ipairs(shrinks) do
    local res = program.unit_result(e.h, program.answer(reply, e.pos))
    if res[1].result ~= "applied" then not_counted = not_counted + 1 end
  end
  if not_counted > 0 then
    metrics.inc("imbill_not_counted_total", { app = app.id, action = tostring(job.call), reason = "store" }, not_counted)
  end
  if held and program.answer(reply, held) == "1" then require("imbill.gateway.settle").reserved(app) end
  return true
end

--- A REST call decided while Redis could not answer, settled once Tencent's
-- answer is known.  job.pending: what apply_units returned; job.done:
-- Tencent's settled units (calls.lua; nil when the call never reached
-- Tencent, ALL when its answer is unknown).  What Tencent did ends counted
-- once, what it did not ends not counted:
--   the program never ran (or is cancelled now): the units Tencent did are
--     counted, caps aside (the gateway let them through);
--   it ran: units it applied that Tencent did not are taken back, units it
--     refused that Tencent did are counted.
-- job.standin (rest.lua): a group created without an id, { group = the
-- stand-in, to = the id Tencent's answer gave } or, when no answer gave it,
-- { group =, rid =, match = }: what ends counted of it is counted under
-- Tencent's id, or left as a reservation for its after callback
-- (settle.lua's job.reserve).
function Store:settle_pending(job, jr)
  local app, pend = job.app, job.pending
  local ctx = self:ctx(app.id)
  local entry = pending_entry(job)
  local did, sd = entry.did, job.standin
  local deadline = self:deadline(true, jr)
  local results
  if pend.state ~= "unsent" then
    local prog = program.new(ctx, pend.pid, pend.w, "t")
    local reply, _, state = self:exec(ctx, prog, deadline)
    if not reply and state ~= "cancelled" then
      if state == "failed" then
        metrics.inc("imbill_redis_unresolved_total", { app = app.id })
        return true
      end
      if jr then return false end
      J().append(self, entry)
      return true
    end
    results = reply -- nil: cancelled, it never ran and never will
    if not reply and ngx.now() - pend.w * 10 >= (ctx.marker_ttl or 600) then
      -- its marker may have expired (it lives marker_ttl seconds from the
      -- run, and the run came after the window began): "never ran" is also
      -- what Redis says of a program that ran that long ago, so the outcome
      -- is not known; the units Tencent did are counted, what the program
      -- may have applied of the others stays
      metrics.inc("imbill_redis_unresolved_total", { app = app.id })
      ngx.log(ngx.WARN, "imbill: app ", app.id, ": a decision Redis could not answer in time is settled more than ",
        "marker_ttl (", tostring(ctx.marker_ttl), " s) after it was sent: whether it ran can no longer be told ",
        "(docs/fleet.md, \"Answers that get lost\")")
    end
  end
  local now = entry.now
  local fix = { forced = {}, undo = {} }
  for i, u in ipairs(pend.units) do
    local ran = results and program.answer(results, u.pos)
    local refused, applied = false, {}
    if type(ran) == "table" then
      for j, r in ipairs(ran) do
        local c = type(r) == "string" and r:sub(1, 1)
        if c == "r" or c == "s" then refused = true end
        if c == "a" then applied[#applied + 1] = u.descs[j] end
      end
    end
    local mine = sd and u.key == sd.group
    if did[i] and (not results or refused or type(ran) ~= "table") then
      fix.forced[#fix.forced + 1] = u.descs
      if mine then fix.standin = { group = sd.group, to = sd.to, rid = sd.rid, match = sd.match, forced = #fix.forced } end
    elseif not did[i] and #applied > 0 and not refused then
      fix.undo[#fix.undo + 1] = applied
    elseif mine and did[i] and #applied > 0 then
      -- it ran and applied it: counted under the stand-in until moved or reserved
      fix.standin = { group = sd.group, to = sd.to, rid = sd.rid, match = sd.match, applied = applied }
    end
  end
  if #fix.forced == 0 and #fix.undo == 0 and not fix.standin then return true end
  -- a journal replay gives the compensation the id its entry keeps, so that
  -- a replay whose answer was lost, run again, finds it done
  local pid, w = job.cpid, job.cw
  if not pid then pid, w = M.new_pid() end
  return self:compensate({ app = app.id, pid = pid, w = w, forced = fix.forced, undo = fix.undo, standin = fix.standin,
                           now = now }, jr)
end

-- A described step about another group (the id Tencent gave a stand-in).
local function about(d, group)
  return { k = d.k, g = d.g, t = d.t, u = d.u, p = d.p, grp = group, e = d.e }
end

--- Applies what a pending call's settlement found: units counted caps aside,
-- and applied steps taken back; a stand-in group (e.standin) counted under
-- Tencent's id (forced there, or moved there: taken back if that id is
-- counted already) or left as a reservation.
function Store:compensate(e, jr)
  local app = self.apps[e.app]
  local ctx = self:ctx(e.app)
  local prog = program.new(ctx, e.pid, e.w)
  local sd, held = e.standin, nil
  local function record(descs)
    local deadline_ms = math.floor((ngx.now() + app.reservation_ttl) * 1000)
    return deadline_ms, cjson.encode { d = descs, m = sd.match, g = sd.group, dl = deadline_ms / 1000 }
  end
  for k, descs in ipairs(e.forced or {}) do
    local mine = sd and sd.forced == k
    local steps = {}
    for j, d in ipairs(descs) do steps[j] = rebuild(app, (mine and sd.to) and about(d, sd.to) or d, e.now) end
    if #steps == #descs then
      -- under Tencent's id: refused whole if that id is counted already
      local h = prog:unit(steps, true, "", true)
      if mine and not sd.to and sd.rid then
        local dl, text = record(descs)
        prog:reserve(h, sd.rid, sd.match, dl, text)
        held = #prog.instr
      end
    end
  end
  if sd and sd.applied then
    if sd.to then
      local rn = prog:rename(sd.group, sd.to)
      local back = undo_steps(app, sd.applied)
      if #back > 0 then prog:unit(back, false, rn.reg .. "=0") end
    elseif sd.rid then
      local dl, text = record(sd.applied)
      prog:reserve_applied(#sd.applied, sd.rid, sd.match, dl, text)
      held = #prog.instr
    end
  end
  for _, applied in ipairs(e.undo or {}) do
    local back = undo_steps(app, applied)
    if #back > 0 then prog:unit(back, false) end
  end
  if prog:empty() then return true end
  local reply, err, state = self:exec(ctx, prog, self:deadline(true, jr))
  if reply and held and program.answer(reply, held) == "1" then require("imbill.gateway.settle").reserved(app) end
  if reply or state == "failed" then return true end
  self:reached(false, err)
  if jr then return false end
  e.kind = "compensate"
  J().append(self, e)
  return true
end

---------------------------------------------------------------------------
-- Reservations due

--- Takes back every reservation of the app past its deadline.  Returns
-- how many.
function Store:sweep(app, now)
  local total = 0
  for _ = 1, 20 do
    local n, more = self:sweep_some(app, now)
    total = total + n
    if not more then break end
  end
  return total
end

-- At most 100 reservations due: how many were taken back, and whether
-- more may wait.
function Store:sweep_some(app, now)
  local ctx = self:ctx(app.id)
  local rr, _, rq = layout.reservations(ctx.P)
  local deadline = self:deadline(true)
  local due, err = self.client:command(ctx.slot, deadline, "ZRANGEBYSCORE", rq, "-inf",
    string.format("%d", math.floor(now * 1000)), "LIMIT", "0", "100")
  if type(due) ~= "table" then
    if due == nil then self:reached(false, err) end
    return 0
  end
  if #due == 0 then return 0 end
  local args = { "HMGET", rr }
  for i, rid in ipairs(due) do args[i + 2] = rid end
  local texts = self.client:command_args(ctx.slot, deadline, args)
  if type(texts) ~= "table" then return 0 end
  local pid, w = M.new_pid()
  local prog = program.new(ctx, pid, w)
  local claims = {}
  for i, rid in ipairs(due) do
    local text = type(texts[i]) == "string" and texts[i] or ""
    local rec = parse_record(text)
    local c = prog:claim(rid, text, rec and rec.m or "")
    claims[#claims + 1] = #prog.instr
    if rec then
      local back = undo_steps(app, rec.applied)
      if #back > 0 then prog:unit(back, false, c.reg .. "=1") end
    end
  end
  local reply = self:exec(ctx, prog, deadline)
  if not reply then return 0 end
  local n = 0
  for _, pos in ipairs(claims) do if program.answer(reply, pos) == "1" then n = n + 1 end end
  return n, #due == 100
end

---------------------------------------------------------------------------
-- Logins

-- Whether a plan has the shape of a login the flush can batch: guards on
-- the app's keys, the activity mark, the latest day.
local function login_shaped(plan)
  local marks = 0
  for i = 0, plan.nops - 1 do
    local op = plan.op[i]
    local kind = op.kind
    if kind == OP.IMB_OP_MARK then marks = marks + 1
    elseif kind <= OP.IMB_OP_GE then
      if op.subject ~= S.IMB_S_APP then return false end
    elseif kind == OP.IMB_OP_MAX then
      if op.key ~= K.IMB_K_LAST_DAY then return false end
    else
      return false
    end
    if op.when ~= W.IMB_W_ALWAYS then return false end
  end
  return marks == 1
end
M.login_shaped = login_shaped

--- A login (callback.lua): queued for the next flush, answered "queued".
-- A login with an event id, or of another shape, is applied at once
-- (login_now).
function Store:login(appid, plan, user, event)
  if plan.refused ~= 0 then return "refused", plan_refusal(plan) end
  if event ~= nil or not login_shaped(plan) then return self:login_now(appid, plan, user, event) end
  F().add(self, appid, user, tonumber(plan.t), ngx.time())
  return "queued"
end

--- A login applied now: read the user's state, let the core mark it, write
-- it back if unchanged meanwhile (retried when another node wrote first).
function Store:login_now(appid, plan, user, event)
  local ctx = self:ctx(appid)
  local state -- nil: unknown yet
  for _ = 1, 8 do
    local prog = program.new(ctx)
    local mark
    if state == nil then
      mark = { expected = "?" }
    else
      local new, dn, mn = core.mark(state or nil, plan.day, plan.month)
      if not new then
        if dn == "corrupt" then return nil, "corrupt activity state of " .. user end
        return "refused", { code = core.R_CLOSED, limit = core.L.IMB_L_DAY_OPEN, max = UNLIMITED, current = 0,
                            peer = 0 }
      end
      mark = { expected = state and ("=" .. state) or "=", new = new, dn = dn, mn = mn }
    end
    local h = prog:unit({ { plan = plan, user = user, event = event, mark = mark } }, true)
    local reply, err = self:exec(ctx, prog, self:deadline())
    if not reply then return nil, err end
    local res = program.unit_result(h, program.answer(reply, 1))
    local r = res[1]
    if r.result ~= "stale" then return r.result, r.refusal end
    state = r.state
  end
  return nil, "the user's state kept changing"
end

---------------------------------------------------------------------------
-- Reads

--- The month's usage (init.lua's usage location).
function Store:usage(app, month)
  return require("imbill.gateway.redis.month").read(self.client, app, month, self:deadline(true))
end

-- The shared-dict store's reads by dict key: Redis keys differ, there is
-- nothing to give (rest.lua reads a refused group's type from the refusal).
function Store.get() return nil end

function Store.run()
  error("imbill.gateway: the Redis store applies programs, not functions under a lock (an unrouted call)", 2)
end

--- Hand-built plans, as the shared-dict store's apply: steps = { { plan =,
-- user =, peer =, group =, event = } }.  Returns per step { result =,
-- refusal = } and the refused index of an atomic batch.
function Store:apply(appid, steps, atomic)
  local ctx = self:ctx(appid)
  local pid, w = M.new_pid()
  local prog = program.new(ctx, pid, w)
  local hs = {}
  if atomic then
    hs[1] = prog:unit(steps, true)
  else
    for i, s in ipairs(steps) do hs[i] = prog:unit({ s }, false) end
  end
  local reply, err = self:exec(ctx, prog, self:deadline())
  if not reply then return nil, err end
  if atomic then
    local out, bad = program.unit_result(hs[1], program.answer(reply, 1))
    return out, bad
  end
  local out = {}
  for i, h in ipairs(hs) do out[i] = program.unit_result(h, program.answer(reply, i))[1] end
  return out
end

M.parse_record = parse_record
M.units_from_journal = units_from_journal
M.rebuild = rebuild
return M
