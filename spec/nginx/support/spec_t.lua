--- Test-only locations inside the specs' nginx (/t/...): hand-built plans
-- applied by the store, raw keys, a forced reservation sweep, dict sizes.
-- Not part of the gateway.
local cjson = require "cjson.safe"
local core = require "imbill.gateway.core"
local state = require "imbill.gateway.state"
local keys = require "imbill.gateway.keys"

local ngx = ngx
local M = {}

local function enum(prefix, v, default)
  if v == nil then return default end
  if type(v) == "number" then return v end
  return tonumber(require("ffi").C["IMB_" .. prefix .. v])
end

-- A plan from its JSON form (names for enumerations).
local function plan_of(t)
  local p = core.plan_t()
  p.refused = t.refused and 1 or 0
  if t.refusal then
    p.refusal.code = t.refusal.code or 0
    p.refusal.limit = enum("L_", t.refusal.limit, 0)
    p.refusal.max = t.refusal.max or -1
    p.refusal.current = t.refusal.current or 0
  end
  p.action = enum("A_", t.action, 0)
  p.gtype = enum("G_", t.gtype, 0)
  p.t = t.t or 1614556800
  p.day = t.day or 18687
  p.day_start = t.day_start or p.day * 86400
  p.month = t.month or (2021 * 12 + 2)
  for g = 0, 5 do p.by_type[g] = (t.by_type and t.by_type[g + 1]) or -1 end
  local ops = t.ops or {}
  p.nops = #ops
  for i, o in ipairs(ops) do
    local op = p.op[i - 1]
    op.kind = enum("OP_", o.kind)
    op.key = enum("K_", o.key)
    op.subject = enum("S_", o.subject, 0)
    op.member = enum("S_", o.member, 0)
    op.gtype = o.gtype == "OF_GROUP" and core.GTYPE_OF_GROUP or enum("G_", o.gtype, 0)
    op.when = enum("W_", o.when, 0)
    op.arg = o.arg or 0
    op.bound = o.bound or -1
    op.by_type = o.by_type and 1 or 0
    op.fail = enum("FAIL_", o.fail, 0)
    op.code = o.code or 0
    op.limit = enum("L_", o.limit, 0)
  end
  return p
end

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
    -- a store that queues logins (Redis) applies this one at once
    local res, ref = (store.login_now or store.login)(store, req.app, plan_of(s.plan), s.user, s.event)
    return send { { result = res or "error", refusal = ref } }
  end
  local steps = {}
  for i, s in ipairs(req.steps) do
    steps[i] = { plan = plan_of(s.plan), user = s.user, peer = s.peer, group = s.group, event = s.event }
  end
  local out, err = store:apply(req.app, steps, req.atomic)
  if not out then return send({ error = err }, 500) end
  return send(out)
end

-- Every key of an app (values as the store holds them; activity as hex).
-- A set is shown the same in either of its forms: "<base>#" its size and
-- "<base>@<i>" its members (small sets in their order).
function H.keys()
  local store = store_of(ngx.var.arg_app)
  local P = keys.prefix(ngx.var.arg_app)
  local out = {}
  for _, k in ipairs(store.d:get_keys(0)) do
    if k:sub(1, #P) == P then
      local v = store.d:get(k)
      local name = k:sub(#P + 1)
      local fam, len = name:match("^(%a%a):(%d+):")
      local is_base = (fam == "gm" or fam == "uj" or fam == "uf") and #name == #fam + 2 + #len + tonumber(len)
      if is_base then
        if type(v) == "number" then
          out[name .. "#"] = v
        else
          local B = { d = store.d, cur = {} }
          local members = require("imbill.gateway.store").smembers(B, k)
          out[name .. "#"] = #members
          for i, m in ipairs(members) do out[name .. "@" .. i] = m end
        end
      else
        if type(v) == "string" and name:find("^act:") then
          v = (v:gsub(".", function(c) return string.format("%02x", c:byte()) end))
        end
        out[name] = v
      end
    end
  end
  return send(out)
end

-- Empties a counts dict but keeps its mark, so a reload later in the specs
-- finds the dict it left (not one nginx emptied).
local function flush_counts(d)
  local born = d:get(state.BORN)
  d:flush_all()
  d:flush_expired()
  if born then d:safe_set(state.BORN, born) end
end

function H.flush()
  for _, s in pairs(state.stores) do
    flush_counts(s.d)
    state.clear_damage(s)
  end
  if state.replay then state.replay:flush_all() end
  -- counts the workers have not published yet would land after the flush
  require("imbill.gateway.metrics").settle()
  local meta = state.meta
  for _, k in ipairs(meta:get_keys(0)) do
    if k:sub(1, 2) == "m|" then meta:delete(k) end
  end
  return send { ok = true }
end

-- A sweep now: while another worker's sweep has the turn, this one waits
-- for it (a sweep skipped would let a spec assert after a deadline what no
-- sweep had looked at).  { expired = n, swept = true, took = seconds the
-- sweep took }, or { expired = 0, swept = false } after 5 s without the turn.
function H.sweep()
  local reserve = require "imbill.gateway.reserve"
  local stop = ngx.now() + 5
  repeat
    ngx.update_time()
    local t0 = ngx.now()
    local n, swept = reserve.sweep_all()
    ngx.update_time()
    if swept then return send { expired = n, swept = true, took = ngx.now() - t0 } end
    ngx.sleep(0.005)
  until ngx.now() > stop
  return send { expired = 0, swept = false }
end

function H.clear()
  return send { cleared = require("imbill.gateway").clear_damage() }
end

-- Holds an app's lock for ?ms= milliseconds, as a worker the kernel
-- stopped in the middle of a batch would: every request of the app waits.
-- The hold ?id= says where it is in the meta dict ("hold|<id>": the lock's
-- token while held, "released" after) for /t/lock: a spec waits for the
-- lock to be held, not for a time it guesses is enough.  A hold whose
-- worker is killed leaves its lock to lapse a little after its end.
function H.hold()
  local store_mod = require "imbill.gateway.store"
  local app = ngx.var.arg_app
  local store = store_of(app)
  local ms = tonumber(ngx.var.arg_ms) or 100
  local id = ngx.var.arg_id
  local lk = store_mod.lock_key(app)
  local ttl = math.max(5, ms / 1000 + 1)
  local tok, err = store_mod.acquire(store.meta, lk, ttl, 2)
  if not tok then return send({ error = tostring(err) }, 500) end
  if id then store.meta:safe_set("hold|" .. id, tok, ttl + 60) end
  ngx.sleep(ms / 1000)
  store_mod.release(store.meta, lk, tok)
  if id then store.meta:safe_set("hold|" .. id, "released", 60) end
  return send { held = ms }
end

-- The flag that tells the app's lock holders its list of deferred
-- settlements may hold some (store.lua): { flagged = it was set }, and with
-- ?clear=1 cleared, as a flag that could not be set would be.
function H.deferflag()
  local app = ngx.var.arg_app
  local store = store_of(app)
  local key = "stfl:" .. app
  local flagged = store.meta:get(key) ~= nil
  if ngx.var.arg_clear then store.meta:delete(key) end
  return send { flagged = flagged }
end

-- An app's lock and the hold ?id=: { locked = the lock is held, hold =
-- "held" (the lock is that hold's), "released", "lapsed" (its worker died
-- and the lock is another's or none) or null (not started) }.
function H.lock()
  local app = ngx.var.arg_app
  local store = store_of(app)
  local tok = store.meta:get(require("imbill.gateway.store").lock_key(app))
  local h = ngx.var.arg_id and store.meta:get("hold|" .. ngx.var.arg_id)
  local hold = h
  if type(h) == "number" then hold = tok == h and "held" or "lapsed" end
  return send { locked = tok ~= nil, hold = hold }
end

-- Counts one series, then keeps this worker busy for ?ms= milliseconds
-- without yielding, as a loaded worker whose timers run late: its count
-- waits to be published until the worker is free.
-- ?id= marks the stall begun in the meta dict (/t/stalled).
function H.stall()
  require("imbill.gateway.metrics").inc("imbill_callbacks_rejected_total", { reason = "spec_stall" })
  if ngx.var.arg_id then state.meta:safe_set("stall|" .. ngx.var.arg_id, true, 60) end
  local ms = tonumber(ngx.var.arg_ms) or 300
  ngx.update_time()
  local t0 = ngx.now()
  repeat ngx.update_time() until ngx.now() - t0 >= ms / 1000
  return send { stalled = ms }
end

-- Counts one series whose reason is ?reason= as it is (the status page's
-- escaping of a label value no call site makes).
function H.label()
  local metrics = require "imbill.gateway.metrics"
  metrics.inc("imbill_callbacks_rejected_total", { reason = ngx.unescape_uri(ngx.var.arg_reason) })
  metrics.publish()
  return send { counted = true }
end

function H.stalled()
  return send { begun = state.meta:get("stall|" .. ngx.var.arg_id) == true }
end

-- A configuration (the JSON body) checked inside nginx, where the dicts
-- nginx.conf declares are known: { ok = true } or { error = "..." }.  The
-- running gateway's state is not touched.
function H.config()
  ngx.req.read_body()
  local o = cjson.decode(ngx.req.get_body_data() or "")
  local ok, err = pcall(require("imbill.gateway.config").check, o)
  if ok then return send { ok = true } end
  return send { error = tostring(err) }
end

-- Fills the meta dict to its last byte with entries of its own (as
-- metric series gathered over months would), or (?undo=1) takes them out.
function H.fillmeta()
  local meta = state.meta
  if ngx.var.arg_undo then
    local n = 0
    for _, k in ipairs(meta:get_keys(0)) do
      if k:sub(1, 5) == "fill|" then
        meta:delete(k)
        n = n + 1
      end
    end
    return send { removed = n }
  end
  local n = 0
  local sizes = { 65536, 16384, 4096, 1024, 256 }
  for v = 200, 0, -4 do sizes[#sizes + 1] = v end
  for _, size in ipairs(sizes) do
    local v = string.rep("x", size)
    while meta:safe_set("fill|" .. n, v) do n = n + 1 end
  end
  return send { filled = n }
end

-- gateway.usage_of(?app= as a number, ?month=): the usage table, or the
-- reason it has none.
function H.usageof()
  local u, err = require("imbill.gateway").usage_of(tonumber(ngx.var.arg_app), ngx.var.arg_month)
  return send { usage = u, error = err }
end

-- The worker sweeping reservations now (its pid, or null).
function H.sweeper()
  return send { sweeper = state.meta:get("sweeper") }
end

function H.queue()
  return send { length = require("imbill.gateway.queue").length() }
end

-- Bytes the store takes per thing: an app on a dict of its own is filled
-- with n of each through the core's real plans and the free space measured
-- before and after.
function H.sizing()
  local plans = require "imbill.gateway.plans"
  local A = core.A
  local appid = ngx.var.arg_app
  local n = tonumber(ngx.var.arg_n) or 20000
  local store, app = store_of(appid)
  flush_counts(store.d)
  local t0 = 1614556800
  local function free() return store.d:free_space() end
  local result = {}
  -- every step must have the outcome `want` ("applied"), or the figure
  -- would measure refusals
  local function measure(name, count, fn, want)
    local before = free()
    for i = 1, count, 500 do
      local steps = {}
      for j = i, math.min(count, i + 499) do steps[#steps + 1] = fn(j) end
      local out, err = store:apply(appid, steps, false, 5)
      if not out then error(name .. ": " .. tostring(err)) end
      for j = 1, #out do
        if out[j].result ~= (want or "applied") then
          error(name .. ": step " .. (i + j - 1) .. " " .. tostring(out[j].result), 0)
        end
      end
    end
    result[name] = (before - free()) / count
  end
  measure("account", n, function(i)
    return assert(plans.step(app, A.IMB_A_CREATE_ACCOUNT, t0, { user = "user" .. i }, nil, t0))
  end)
  local before = free()
  local lp = core.plan_t()
  for i = 1, n do
    core.build(app.limits, A.IMB_A_LOGIN, 0, t0, app.offset, false, t0, lp)
    store:login(appid, lp, "user" .. i)
  end
  result.login_user = (before - free()) / n
  before = free()
  for day = 1, 5 do
    for i = 1, n do
      core.build(app.limits, A.IMB_A_LOGIN, 0, t0 + day * 86400, app.offset, false, t0 + day * 86400, lp)
      store:login(appid, lp, "user" .. i)
    end
  end
  result.login_user_day = (before - free()) / (5 * n)
  local groups = math.floor(n / 10)
  measure("group", groups, function(i)
    return assert(plans.step(app, A.IMB_A_CREATE_GROUP, t0 + i, { group = "group" .. i }, core.G.IMB_G_PUBLIC, t0))
  end)
  -- joins come after every create (a join dated before its group finds none)
  local t1 = t0 + 86400 - 1
  measure("membership", n, function(i)
    return assert(plans.step(app, A.IMB_A_JOIN, t1, { group = "group" .. (i % groups + 1), user = "user" .. i },
      nil, t0))
  end)
  -- memberships of groups far past a small set (1,000 members each)
  local big = math.ceil(n / 1000)
  measure("big_group", big, function(i)
    return assert(plans.step(app, A.IMB_A_CREATE_GROUP, t0 + i, { group = "big" .. i }, core.G.IMB_G_PUBLIC, t0))
  end)
  measure("membership_big_group", n, function(i)
    return assert(plans.step(app, A.IMB_A_JOIN, t1, { group = "big" .. (i % big + 1), user = "user" .. i }, nil, t0))
  end)
  measure("friendship", n, function(i)
    return assert(plans.step(app, A.IMB_A_ADD_FRIEND, t0, { user = "user" .. i, peer = "user" .. (i % n + 1) },
      nil, t0))
  end)
  -- an import of an existing account changes nothing but remembers its id
  measure("event_id", n, function(i)
    return assert(plans.step(app, A.IMB_A_CREATE_ACCOUNT, t0, { user = "user" .. i, event = ngx.md5("e" .. i) },
      nil, t0))
  end, "unchanged")
  local rp = state.replay
  rp:flush_all()
  before = rp:free_space()
  for i = 1, n do rp:add(ngx.md5_bin("q" .. i .. "\0b" .. i), true, 120) end
  result.replay_entry = (before - rp:free_space()) / n
  flush_counts(store.d)
  rp:flush_all()
  result.n = n
  return send(result)
end

-- Microseconds per piece of the REST path, in one worker (no HTTP).
function H.bench()
  local units_mod = require "imbill.gateway.units"
  local calls = require "imbill.gateway.calls"
  local json = require "imbill.gateway.json"
  local appid = ngx.var.arg_app
  local n = tonumber(ngx.var.arg_n) or 10000
  local store, app = store_of(appid)
  local def = calls.CALLS["group_open_http_svc/create_group"]
  local out = {}
  -- CPU time of this worker: what the work costs, whoever else runs
  local function time(name, f)
    local t0 = os.clock()
    for i = 1, n do f(i) end
    out[name] = (os.clock() - t0) * 1e6 / n
  end
  local body = '{"Type":"Public","GroupId":"bX","Owner_Account":"owner1","Name":"bench"}'
  time("decode", function() json.decode(body) end)
  time("units", function() def.units(json.decode(body)) end)
  local now = ngx.time()
  time("build", function(i)
    local u = def.units({ Type = "Public", GroupId = "b" .. i, Owner_Account = "o" })
    units_mod.build(app, u, now, now)
  end)
  time("apply", function(i)
    local u = def.units({ Type = "Public", GroupId = "c" .. i, Owner_Account = "o" .. i })
    units_mod.build(app, u, now, now)
    units_mod.apply(store, app, u, 0.5)
  end)
  time("apply_noowner", function(i)
    local u = def.units({ Type = "Public", GroupId = "d" .. i })
    units_mod.build(app, u, now, now)
    units_mod.apply(store, app, u, 0.5)
  end)
  time("lock", function()
    store:run(appid, 0.5, function() return true end)
  end)
  time("metric", function() require("imbill.gateway.metrics").inc("imbill_bench", { app = appid }) end)
  local d = store.d
  time("get", function(i) d:get("imb:{1400000008}:c:groups" .. (i % 100)) end)
  time("set", function(i) d:safe_set("imb:{1400000008}:x:" .. (i % 1000), i) end)
  time("newkey", function(i) d:safe_set("imb:{1400000008}:y:" .. i, i) end)
  time("concat", function(i) local _ = "imb:{1400000008}:" .. "g:" .. #tostring(i) .. ":" .. i .. ":t" end)
  local p = core.plan_t()
  time("plan_build", function() core.build(app.limits, 3, 1, now, app.offset, false, now, p) end)
  time("plan_new", function() local _ = core.plan_t() end)
  return send(out)
end

-- Settlements a worker queued and has not finished, in the meta dict
-- ("t|settling|<pid>"), so a spec can wait until Tencent's answer has been
-- settled rather than for a time it guesses is enough.  A job counts as
-- finished when it ran (true), failed, or was given up; a worker that dies
-- leaves its count behind (the spec skips dead workers).  Never an eviction
-- (safe_set, incr without init): the gateway's locks live in that dict.
local SETTLING = "t|settling|"

function M.init_worker()
  local queue = require "imbill.gateway.queue"
  local meta = state.meta
  if not meta then return end
  local key = SETTLING .. ngx.worker.pid()
  meta:safe_set(key, 0)
  local push = queue.push
  queue.push = function(job)
    local run, give_up = job.run, job.give_up
    local open = true
    local function finished()
      if open then
        open = false
        meta:incr(key, -1)
      end
    end
    job.run = function(self)
      local ok, done = pcall(run, self)
      if not ok then
        finished()
        error(done, 0)
      end
      if done ~= false then finished() end
      return done
    end
    job.give_up = function(self)
      finished()
      if give_up then return give_up(self) end
    end
    meta:incr(key, 1)
    return push(job)
  end
end

-- The workers' unfinished settlements: { [pid] = n }.
function H.settling()
  local out = {}
  for _, k in ipairs(state.meta:get_keys(0)) do
    if k:sub(1, #SETTLING) == SETTLING then out[k:sub(#SETTLING + 1)] = state.meta:get(k) end
  end
  return send { settling = out }
end

--- Serves /t/NAME from a table of handlers (another suite's test
-- locations extend H).
function M.serve(handlers)
  local name = ngx.var.uri:match("^/t/(%w+)")
  local h = handlers[name]
  if not h then return send({ error = "no such test location" }, 404) end
  local ok, err = pcall(h)
  if not ok then return send({ error = tostring(err) }, 500) end
end

function M.handle() return M.serve(H) end

M.plan_of, M.send, M.store_of, M.H = plan_of, send, store_of, H
return M
