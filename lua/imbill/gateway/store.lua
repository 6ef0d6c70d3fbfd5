--- The shared-dict store: applies the core's plans atomically across nginx
-- workers, without knowing any rule.
--
-- A plan (imb_plan, from imb_plan_build) is a list of guarded operations on
-- named keys.  Applying one is two passes over the values held before it:
-- every guard is checked, the first failing one (in plan order) decides the
-- outcome; if none fails, every effect whose condition holds is applied.
-- Nothing is written when a guard fails.
--
-- Atomicity.  All plans of one app run under the app's lock, a key taken with
-- `add` (which is atomic) and an expiry, so a worker that dies holding it
-- cannot block the app for longer than the expiry.  Inside the lock nothing
-- yields: the section is a run of dict calls.  Every write inside it is
-- journaled (the value before), so a batch of plans either applies whole or
-- is put back whole, whatever fails half-way ("no memory", a bug).
--
-- Logins are the exception the rule allows: a login changes only its user's
-- activity state and two counters, so it runs under a lock striped by user
-- (1024 stripes per app), bumps DAU and MAU with atomic increments, and takes
-- the app lock only on the rare login that moves the app's latest day.
--
-- Memory.  Writes use safe_set/safe_add, which never evict another entry:
-- when the dict is full a write fails with "no memory" instead of silently
-- dropping some other key (which could be a quota counter).  Such a failure
-- rolls the batch back, marks the store damaged and is counted; see
-- docs/gateway.md, "When the dict is full".
local core = require "imbill.gateway.core"
local keys = require "imbill.gateway.keys"
local metrics = require "imbill.gateway.metrics"

local ngx = ngx
local OP, K, S, W, FAIL = core.OP, core.K, core.S, core.W, core.FAIL
local NO_DAY, UNLIMITED, GTYPE_OF_GROUP = core.NO_DAY, core.UNLIMITED, core.GTYPE_OF_GROUP
local tonumber, error, pcall, type, tostring, floor = tonumber, error, pcall, type, tostring, math.floor
local key_of, DAY_VALUED, ATOMIC = keys.key, keys.DAY_VALUED, keys.ATOMIC
local GROUP_RECORD, group_fields, group_record = keys.GROUP_RECORD, keys.group_fields, keys.group_record

local O_EQ, O_NE, O_LE, O_GE = OP.IMB_OP_EQ, OP.IMB_OP_NE, OP.IMB_OP_LE, OP.IMB_OP_GE
local O_HAS, O_LACKS, O_FRESH = OP.IMB_OP_HAS, OP.IMB_OP_LACKS, OP.IMB_OP_FRESH
local O_ADD, O_SET, O_MAX, O_SADD, O_SREM = OP.IMB_OP_ADD, OP.IMB_OP_SET, OP.IMB_OP_MAX, OP.IMB_OP_SADD,
  OP.IMB_OP_SREM
local O_LOG, O_MARK, O_CUSER, O_CGROUP = OP.IMB_OP_LOG, OP.IMB_OP_MARK, OP.IMB_OP_CASCADE_USER,
  OP.IMB_OP_CASCADE_GROUP
local O_COUNTED, W_USER_ACCOUNT = OP.IMB_OP_COUNTED, W.IMB_W_USER_ACCOUNT

local M = {}
local Store = {}
Store.__index = Store
M.Store = Store

local NIL = {} -- "absent" in a batch's caches

-- A store error: raised inside a locked section, caught by run().
local function fail(reason, key)
  error({ imbill_store = reason, key = key }, 0)
end
M.fail = fail

---------------------------------------------------------------------------
-- Locks

-- how often an app's lock is contended (configured apps only)
local BUSY = metrics.family("imbill_lock_busy_total", { "app" })
local QUEUED = metrics.family("imbill_lock_queued_total", { "app" })

local ngx_now, ngx_update, ngx_sleep, get_phase = ngx.now, ngx.update_time, ngx.sleep, ngx.get_phase

local seq = 0
local function token()
  seq = seq + 1
  return ngx.worker.pid() * 1000000 + seq
end

local YIELDABLE = { rewrite = true, access = true, content = true, timer = true, ssl_cert = true,
                    ssl_session_fetch = true }
M.YIELDABLE = YIELDABLE

-- How a busy lock is waited for (only one request per worker and app waits
-- for it; see "Turns" below).  The holder is another worker in the middle of
-- a batch, tens of microseconds, so the waiter first tries again at once, for
-- about twice as many tries as a busy lock took to come free lately (between
-- SPIN_MIN and SPIN_MAX, about 5 us to 0.5 ms: the spin follows how long
-- batches take, as an adaptive mutex's does; batches are slower when the
-- machine is lightly loaded and its caches cold).  A holder still there is
-- one the kernel preempted on a busy machine: the waiter then naps a
-- millisecond at a time, which frees its core for the holder (a waiter that
-- kept polling would keep the core the holder waits for).  Phases that
-- cannot yield only get the first tries.
--
-- When waits are few, each may spin longer: up to SPIN_RARE tries (about
-- 0.5 ms), as many as a budget of SPIN_BUDGET tries a second spread over
-- the waits of the last second allows (at most about 4% of a core).  On a
-- lightly loaded machine a cold batch outlasts the short spin its last
-- quick waits taught, and the nap that followed was the whole tail of the
-- latency: with 8 connections pausing 4 ms, one call in a hundred spent a
-- millisecond or more in the access phase with up to 1,000 tries and a
-- budget of 150,000, against one in 2,000 with these (p99 of the whole call
-- 1.45-1.60 ms against 1.14-1.40 ms, bench/gateway.sh); under load the waits
-- are many, the budget gives each little, and the spin follows the batches
-- as above (a long spin there took the holder's core; the longer limits
-- changed nothing there).
--
-- The wait never yields with ngx.sleep(0): without OpenResty's
-- delayed-events patch (Debian's nginx has none) each one logs a warning,
-- thousands a second under load, and against the naps alone those turns
-- bought no throughput.
local SPIN_MIN, SPIN_MAX, NAP, SPIN_RARE, SPIN_BUDGET = 50, 4000, 0.001, 4000, 600000
M.WAIT = { spin_min = SPIN_MIN, spin_max = SPIN_MAX, nap = NAP, spin_rare = SPIN_RARE, spin_budget = SPIN_BUDGET }
local spin_avg = SPIN_MIN -- tries a busy lock took to come free, lately (this worker)
-- waits of this worker: counted since busy_since, and their rate a second
-- over the last whole window
local busy_n, busy_since, busy_rate = 0, 0, 0

-- Takes `key` in the meta dict.  Returns the token, or nil and "busy" (not
-- had within `wait` seconds) or the dict's error.
local function acquire(meta, key, ttl, wait, app)
  local tok = token()
  local ok, err = meta:safe_add(key, tok, ttl)
  if ok then return tok end
  if err ~= "exists" then return nil, err end
  if app then BUSY:inc(1, app) end
  local W_ = M.WAIT
  busy_n = busy_n + 1
  local now = ngx_now()
  if now - busy_since >= 1 then
    busy_rate = busy_n / (now - busy_since)
    busy_n, busy_since = 0, now
  end
  local least = busy_rate > 0 and W_.spin_budget / busy_rate or W_.spin_rare
  if least > W_.spin_rare then least = W_.spin_rare elseif least < W_.spin_min then least = W_.spin_min end
  local limit = 2 * spin_avg
  if limit < least then limit = least end
  if limit > W_.spin_max then limit = W_.spin_max end
  for i = 1, limit do
    ok, err = meta:safe_add(key, tok, ttl)
    if ok then
      spin_avg = spin_avg + (i - spin_avg) * 0.25
      return tok
    end
    if err ~= "exists" then return nil, err end
  end
  -- not had: longer batches than lately (or a stalled holder): spin longer
  -- next time
  spin_avg = spin_avg + (limit - spin_avg) * 0.5
  if not YIELDABLE[get_phase()] then return nil, "busy" end
  ngx_update()
  local deadline = ngx_now() + wait
  while true do
    ngx_sleep(W_.nap)
    ok, err = meta:safe_add(key, tok, ttl)
    if ok then return tok end
    if err ~= "exists" then return nil, err end
    ngx_update()
    if ngx_now() > deadline then return nil, "busy" end
  end
end
M.acquire = acquire

local function release(meta, key, tok)
  -- delete only our own lock: one that expired and was taken by another
  -- worker is theirs
  if meta:get(key) == tok then meta:delete(key) end
end
M.release = release

---------------------------------------------------------------------------
-- Batches: the reads and writes of one locked section.
--
-- Reads are cached: a key is read from the dict once per batch.  Writes go
-- to the cache and a journal (the key and the value it replaced) and reach
-- the dict when the batch ends (flush): a key written several times is
-- written once, and a batch that is refused or fails before its end writes
-- nothing.  The journal puts the section back to any earlier point (a
-- refused unit inside a batch of several) or to its start, in the dict too
-- for what was flushed already.  Atomic increments (DAU, MAU: the login path
-- changes them without the app lock) go to the dict at once and are put back
-- with the opposite increment.

local function new_batch()
  -- jk[i] the key, jo[i] the value it replaced (NIL: absent), jd[i] the
  -- delta of an atomic increment (false for a write); w: entries flushed
  return { d = false, cur = {}, jk = {}, jo = {}, jd = {}, n = 0, w = 0, ttl = false, P = false, store = false,
           lock_key = false, lock_tok = false, busy = false }
end

-- Nothing inside a batch yields, so a worker runs one batch at a time and
-- reuses one table for it (a second one only if a batch ever nests).
local spare = new_batch()

local function open_batch(store, P)
  local B = spare
  if B.busy then B = new_batch() end
  B.busy, B.d, B.P, B.store = true, store.d, P, store
  return B
end

-- LuaJIT's table.clear empties a table in place (compiled, unlike pairs)
local ok_clear, tclear = pcall(require, "table.clear")
if not ok_clear then tclear = function(t) for k in pairs(t) do t[k] = nil end end end

local function close_batch(B)
  local jk, jo, jd = B.jk, B.jo, B.jd
  tclear(B.cur)
  for i = 1, B.n do jk[i], jo[i], jd[i] = nil, nil, nil end
  B.n, B.w, B.ttl, B.busy, B.d, B.store, B.lock_key, B.lock_tok = 0, 0, false, false, false, false, false, false
end

local function rd(B, key)
  local cur = B.cur
  local v = cur[key]
  if v == nil then
    v = B.d:get(key)
    if v == nil then
      cur[key] = NIL
      return nil
    end
    cur[key] = v
    return v
  end
  if v == NIL then return nil end
  return v
end

-- Writes val (NIL: deletes) in the batch.
local function put(B, key, val)
  local cur = B.cur
  local old = cur[key]
  if old == nil then
    old = B.d:get(key)
    if old == nil then old = NIL end
  end
  local n = B.n + 1
  B.n = n
  B.jk[n], B.jo[n], B.jd[n] = key, old, false
  cur[key] = val
end

local function wr(B, key, val, ttl)
  put(B, key, val)
  if ttl then
    if not B.ttl then B.ttl = {} end
    B.ttl[key] = ttl
  end
end

local function del(B, key)
  put(B, key, NIL)
end

-- An atomic counter bumped by incr: the login path changes it without the
-- app lock, so no writer may read, add and set it.
local function incr(d, key, delta)
  local v, err = d:incr(key, delta)
  if v then return v end
  if err ~= "not found" then return nil, err end
  local ok, err2 = d:safe_add(key, 0)
  if not ok and err2 ~= "exists" then return nil, err2 end
  return d:incr(key, delta)
end
M.incr = incr

local function bump(B, key, delta)
  local v, err = incr(B.d, key, delta)
  if not v then fail(err or "incr failed", key) end
  local n = B.n + 1
  B.n = n
  B.jk[n], B.jo[n], B.jd[n] = key, false, delta
  B.cur[key] = nil -- others change it too: read it afresh
end

-- Writes a key's value to the dict.  Returns true, or nil and the error.
local function store_value(d, key, v, ttl)
  if v == NIL then
    d:delete(key)
    return true
  end
  local ok, err = d:safe_set(key, v, ttl or 0)
  if ok then return true end
  return nil, err or "set failed"
end

local seen = {} -- scratch: the keys of one flush

-- Writes every journaled write since the last flush to the dict, each key
-- once, with its latest value.  A write that fails puts back the ones this
-- flush made and raises the store error (run() then rolls back the rest).
local function flush(B)
  local d, cur, jk, jo, jd, ttl = B.d, B.cur, B.jk, B.jo, B.jd, B.ttl
  local from, to = B.w + 1, B.n
  if from > to then return end
  local failed, why
  for i = from, to do
    if not jd[i] then
      local key = jk[i]
      if not seen[key] then
        seen[key] = i
        local v = cur[key]
        -- jo[i] is what the dict holds: unchanged keys are not written
        if v ~= jo[i] then
          local ok, err = store_value(d, key, v, ttl and ttl[key])
          if not ok then
            failed, why = i, err
            break
          end
        end
      end
    end
  end
  if failed then
    -- put back what this flush wrote (each key's value before the flush)
    for i = from, failed - 1 do
      local key = jk[i]
      if not jd[i] and seen[key] == i and cur[key] ~= jo[i] then store_value(d, key, jo[i]) end
    end
  end
  tclear(seen)
  if failed then fail(why, jk[failed]) end
  B.w = to
end
M.flush = flush

-- Puts back every write after journal entry `mark` (in the dict too for what
-- was flushed).  Returns false when some value could not be restored.
local function rollback(B, mark)
  mark = mark or 0
  local d, cur, clean = B.d, B.cur, true
  local jk, jo, jd = B.jk, B.jo, B.jd
  local w = B.w
  for i = B.n, mark + 1, -1 do
    local key, old, delta = jk[i], jo[i], jd[i]
    if delta then
      if not d:incr(key, -delta) then clean = false end
      cur[key] = nil
    else
      cur[key] = old
      if i <= w and not store_value(d, key, old) then clean = false end
    end
    jk[i], jo[i], jd[i] = nil, nil, nil
  end
  B.n = mark
  if w > mark then B.w = mark end
  return clean
end

M.rd, M.wr, M.del, M.bump, M.rollback = rd, wr, del, bump, rollback

---------------------------------------------------------------------------
-- Sets.  Most sets are small (a user's groups, a group's first members), so
-- a set of up to SMALL members lives in one entry, the key B itself: a
-- string of one count byte and then each member as two length bytes and its
-- bytes.  A set that grows past that spills into keyed form, where B holds
-- the size (a number), "B=<member>" the member's slot and "B@<slot>" the
-- member in a slot (1 .. size): membership is one lookup, enumeration walks
-- the slots, removal moves the last member into the freed slot.

local SMALL, SMALL_BYTES = 32, 600
local char, byte, sub = string.char, string.byte, string.sub
M.SMALL = SMALL

local function entry(m)
  local n = #m
  return char(floor(n / 256), n % 256) .. m
end

-- The position of member m in a small set's string (nil: absent).
local function small_find(s, m)
  local i, n, len = 2, #s, #m
  while i < n do
    local l = byte(s, i) * 256 + byte(s, i + 1)
    if l == len and sub(s, i + 2, i + 1 + l) == m then return i, l end
    i = i + 2 + l
  end
  return nil
end

local function small_members(s)
  local out, i, n = {}, 2, #s
  while i < n do
    local l = byte(s, i) * 256 + byte(s, i + 1)
    out[#out + 1] = sub(s, i + 2, i + 1 + l)
    i = i + 2 + l
  end
  return out
end

local function ssize(B, base)
  local v = rd(B, base)
  if v == nil then return 0 end
  if type(v) == "string" then return byte(v, 1) end
  return v
end

local function shas(B, base, m)
  local v = rd(B, base)
  if v == nil then return false end
  if type(v) == "string" then return small_find(v, m) ~= nil end
  return rd(B, base .. "=" .. m) ~= nil
end

local function sadd(B, base, m)
  local v = rd(B, base)
  if v == nil then
    wr(B, base, char(1) .. entry(m))
    return true
  end
  if type(v) == "string" then
    if small_find(v, m) then return false end
    local n = byte(v, 1)
    if n < SMALL and #v + 2 + #m <= SMALL_BYTES then
      wr(B, base, char(n + 1) .. sub(v, 2) .. entry(m))
      return true
    end
    -- spill into keyed form
    local all = small_members(v)
    all[#all + 1] = m
    for i, x in ipairs(all) do
      wr(B, base .. "@" .. i, x)
      wr(B, base .. "=" .. x, i)
    end
    wr(B, base, #all)
    return true
  end
  if rd(B, base .. "=" .. m) ~= nil then return false end
  local n = v + 1
  wr(B, base .. "@" .. n, m)
  wr(B, base .. "=" .. m, n)
  wr(B, base, n)
  return true
end

local function srem(B, base, m)
  local v = rd(B, base)
  if v == nil then return false end
  if type(v) == "string" then
    local i, l = small_find(v, m)
    if not i then return false end
    local n = byte(v, 1)
    if n <= 1 then del(B, base) else wr(B, base, char(n - 1) .. sub(v, 2, i - 1) .. sub(v, i + 2 + l)) end
    return true
  end
  local i = rd(B, base .. "=" .. m)
  if i == nil then return false end
  local n = v
  if i ~= n then
    local last = rd(B, base .. "@" .. n)
    wr(B, base .. "@" .. i, last)
    wr(B, base .. "=" .. last, i)
  end
  del(B, base .. "@" .. n)
  del(B, base .. "=" .. m)
  if n <= 1 then del(B, base) else wr(B, base, n - 1) end
  return true
end

local function smembers(B, base)
  local v = rd(B, base)
  if v == nil then return {} end
  if type(v) == "string" then return small_members(v) end
  local out = {}
  for i = 1, v do out[i] = rd(B, base .. "@" .. i) end
  return out
end

local function sclear(B, base)
  local v = rd(B, base)
  if type(v) == "number" then
    for i = 1, v do
      local m = rd(B, base .. "@" .. i)
      del(B, base .. "@" .. i)
      if m then del(B, base .. "=" .. m) end
    end
  end
  if v ~= nil then del(B, base) end
end

M.sadd, M.srem, M.smembers, M.ssize, M.shas, M.sclear = sadd, srem, smembers, ssize, shas, sclear

-- A day's group log: the instants of the day ("L#", "L@<i>") and, per
-- instant, the sum of its creates ("L+<t>") and of its disbands ("L-<t>").
-- The day's peak sorts disbands before creates at one instant, so these two
-- sums give exactly the peak of the full list of entries (a run of -1s then
-- a run of +1s reaches its highest point at its end either way).
local function glog_add(B, base, t, delta)
  local plus, minus = base .. "+" .. t, base .. "-" .. t
  local pv, mv = rd(B, plus), rd(B, minus)
  if pv == nil and mv == nil then
    local n = (rd(B, base .. "#") or 0) + 1
    wr(B, base .. "@" .. n, t)
    wr(B, base .. "#", n)
  end
  if delta > 0 then
    wr(B, plus, (pv or 0) + delta)
  else
    wr(B, minus, (mv or 0) - delta)
  end
end

---------------------------------------------------------------------------
-- One plan

local function default_of(k)
  if DAY_VALUED[k] then return NO_DAY end
  return 0
end

local subject_id = require("imbill.gateway.plans").subject_id

-- The group's state before the plan: its type (nil: no such group) and
-- creation instant.
local function group_state(B, P, subj)
  local g = subj.group
  if not g then return nil, 0 end
  local v, at = group_fields(rd(B, key_of(P, K.IMB_K_GROUP, g)))
  if v <= 0 then
    -- a group the store does not hold has no members (members are added
    -- only to a group that exists and go with it): a create need not look
    local mk = key_of(P, K.IMB_K_MEMBERS, g)
    if B.cur[mk] == nil then B.cur[mk] = NIL end
    return nil, at
  end
  return v - 1, at
end

local function holds(when, gtype, gat, day_start, account)
  if when == W.IMB_W_ALWAYS then return true end
  if when == W_USER_ACCOUNT then return account end
  if when == W.IMB_W_GROUP_NON_AV then
    return gtype ~= nil and gtype ~= core.G.IMB_G_AVCHATROOM and gtype ~= core.G.IMB_G_BCHATROOM
  end
  if when == W.IMB_W_GROUP_TODAY then return gtype ~= nil and gat >= day_start end
  error("imbill.gateway.store: unknown condition " .. tostring(when), 0)
end

local function op_key(P, plan, subj, op, gtype)
  local k = op.key
  local gname
  if k == K.IMB_K_GROUPS_OF then
    local g = op.gtype
    if g == GTYPE_OF_GROUP then g = gtype end
    gname = g and core.names.gtype[g]
    if not gname then error("imbill.gateway.store: GROUPS_OF names the type of a group that does not exist", 0) end
  end
  local key = key_of(P, k, subject_id(plan, subj, op.subject), gname)
  if not key then error("imbill.gateway.store: unknown key " .. tostring(k), 0) end
  return key
end

local function value(B, key, k)
  local v = rd(B, key)
  if GROUP_RECORD[k] then
    local t, at = group_fields(v)
    if k == K.IMB_K_GROUP then return t end
    return at
  end
  if v == nil then return default_of(k) end
  return v
end

-- SET on a group's field: the record changes, and goes with the group.
local function set_group_field(B, key, k, arg)
  local t, at = group_fields(rd(B, key))
  if k == K.IMB_K_GROUP then t = arg else at = arg end
  local rec = group_record(t, at)
  if rec == nil then del(B, key) else wr(B, key, rec) end
end

-- The bound of an ADD or SADD (UNLIMITED: no guard).
local function bound_of(plan, op, gtype)
  if op.by_type ~= 0 then
    if gtype == nil then return UNLIMITED end -- only a group's own type has a cap; a guard on the group comes first
    return tonumber(plan.by_type[gtype])
  end
  return tonumber(op.bound)
end

local function refusal(op, max, current)
  local code = tonumber(op.code)
  -- a refusal that is not a quota has no limit to name
  if code == core.R_CLOSED or code == core.R_FUTURE or max == nil then max = UNLIMITED end
  return { code = code, limit = tonumber(op.limit), max = max, current = current or 0,
           peer = op.subject == S.IMB_S_PEER and 1 or 0 }
end

-- A plan that changes nothing (a NOOP guard failed) was still processed:
-- its event id is remembered, so a replay of it is a duplicate, and its day
-- counts as reached.
local function bookkeeping(B, plan, subj)
  local P, store = B.P, B.store
  for i = 0, plan.nops - 1 do
    local op = plan.op[i]
    if op.kind == O_FRESH and subj.event ~= nil then
      wr(B, key_of(P, K.IMB_K_EVENT, subj.event), 1, store.dedup_ttl)
    elseif op.kind == O_MAX and op.key == K.IMB_K_LAST_DAY then
      local key = key_of(P, K.IMB_K_LAST_DAY)
      local arg = tonumber(op.arg)
      if arg > value(B, key, op.key) then wr(B, key, arg) end
    end
  end
  return "unchanged"
end

local function outcome(B, plan, subj, op, max, current)
  local f = op.fail
  if f == FAIL.IMB_FAIL_DUPLICATE then return "duplicate" end
  if f == FAIL.IMB_FAIL_NOOP then return bookkeeping(B, plan, subj) end
  return "refused", refusal(op, max, current)
end

-- The keys of one plan's operations, made once for both passes (a scratch
-- array: nothing inside a plan yields).
local KS = {}

local function okey(i, P, plan, subj, op, gtype)
  local k = KS[i]
  if k == nil then
    k = op_key(P, plan, subj, op, gtype)
    KS[i] = k
  end
  return k
end

--- Applies one plan inside a locked batch.  subj = { user =, peer =, group =,
-- event = }.  Returns "applied" | "unchanged" | "duplicate" | "refused",
-- refusal.
local function apply_plan(B, plan, subj)
  local P, store = B.P, B.store
  if plan.refused ~= 0 then
    local r = plan.refusal
    return "refused", { code = tonumber(r.code), limit = tonumber(r.limit), max = tonumber(r.max),
                        current = tonumber(r.current), peer = tonumber(r.peer), feature = tonumber(r.feature) }
  end
  local n = plan.nops
  for i = 0, n - 1 do KS[i] = nil end
  local gtype, gat = group_state(B, P, subj)
  local day, day_start = plan.day, tonumber(plan.day_start)
  local mark_new, mark_day, mark_month, mark_old -- a login's new activity, computed by the guard pass
  local account -- whether the user had an account before the plan, for a USER_ACCOUNT condition

  -- 1. guards, on the values before the plan (a condition only says
  -- whether an effect applies: every guard is checked)
  for i = 0, n - 1 do
    local op = plan.op[i]
    local kind = op.kind
    if op.when == W_USER_ACCOUNT and account == nil then
      account = value(B, key_of(P, K.IMB_K_ACCOUNT, subject_id(plan, subj, S.IMB_S_USER)), K.IMB_K_ACCOUNT) ~= 0
    end
    do
      if kind <= O_GE then
        local key = okey(i, P, plan, subj, op, gtype)
        local v, arg = value(B, key, op.key), tonumber(op.arg)
        local ok
        if kind == O_EQ then ok = v == arg
        elseif kind == O_NE then ok = v ~= arg
        elseif kind == O_LE then ok = v <= arg
        else ok = v == NO_DAY or v >= arg end
        if not ok then return outcome(B, plan, subj, op, tonumber(op.bound), v) end
      elseif kind == O_HAS or kind == O_LACKS then
        local base, m = okey(i, P, plan, subj, op, gtype), subject_id(plan, subj, op.member)
        local present = shas(B, base, m)
        if present ~= (kind == O_HAS) then return outcome(B, plan, subj, op, UNLIMITED, 0) end
      elseif kind == O_COUNTED then
        -- an account, a membership or a friendship
        local u = subject_id(plan, subj, op.subject)
        local v = value(B, okey(i, P, plan, subj, op, gtype), K.IMB_K_ACCOUNT)
        if v == 0 and ssize(B, key_of(P, K.IMB_K_JOINED, u)) == 0 and ssize(B, key_of(P, K.IMB_K_FRIENDS, u)) == 0 then
          return outcome(B, plan, subj, op, UNLIMITED, 0)
        end
      elseif kind == O_FRESH then
        -- an action without an id has nothing to be a duplicate of
        if subj.event ~= nil and rd(B, okey(i, P, plan, subj, op, gtype)) ~= nil then
          return outcome(B, plan, subj, op, UNLIMITED, 0)
        end
      elseif kind == O_ADD and op.fail ~= FAIL.IMB_FAIL_NONE then
        local bound = bound_of(plan, op, gtype)
        if bound ~= UNLIMITED then
          local key = okey(i, P, plan, subj, op, gtype)
          local v = value(B, key, op.key)
          if v + tonumber(op.arg) > bound then return outcome(B, plan, subj, op, bound, v) end
        end
      elseif kind == O_SADD and op.fail ~= FAIL.IMB_FAIL_NONE then
        local bound = bound_of(plan, op, gtype)
        if bound ~= UNLIMITED then
          local base = okey(i, P, plan, subj, op, gtype)
          local size = ssize(B, base)
          if size >= bound then return outcome(B, plan, subj, op, bound, size) end
        end
      elseif kind == O_MARK then
        local key = okey(i, P, plan, subj, op, gtype)
        mark_old = rd(B, key)
        local new, dn, mn = core.mark(mark_old, day, plan.month)
        if not new then
          if dn == "corrupt" then fail("corrupt activity state", key) end
          if op.fail == FAIL.IMB_FAIL_NONE then
            return "refused", { code = core.R_CLOSED, limit = core.L.IMB_L_DAY_OPEN, max = UNLIMITED, current = 0,
                                peer = 0 }
          end
          return outcome(B, plan, subj, op, UNLIMITED, 0)
        end
        mark_new, mark_day, mark_month = new, dn, mn
      end
    end
  end

  -- 2. effects, each when its condition held before the plan
  for i = 0, n - 1 do
    local op = plan.op[i]
    local kind = op.kind
    if kind >= O_FRESH and kind ~= O_COUNTED and holds(op.when, gtype, gat, day_start, account) then
      if kind == O_ADD then
        local key = okey(i, P, plan, subj, op, gtype)
        local arg = tonumber(op.arg)
        if ATOMIC[op.key] then
          bump(B, key, arg)
        else
          local nv = value(B, key, op.key) + arg
          if nv == 0 and not DAY_VALUED[op.key] then del(B, key) else wr(B, key, nv) end
        end
      elseif kind == O_SET then
        local key = okey(i, P, plan, subj, op, gtype)
        local arg = tonumber(op.arg)
        if GROUP_RECORD[op.key] then set_group_field(B, key, op.key, arg)
        elseif arg == default_of(op.key) then del(B, key)
        else wr(B, key, arg) end
      elseif kind == O_MAX then
        local key = okey(i, P, plan, subj, op, gtype)
        local arg = tonumber(op.arg)
        if arg > value(B, key, op.key) then wr(B, key, arg) end
      elseif kind == O_SADD then
        local base, m = okey(i, P, plan, subj, op, gtype), subject_id(plan, subj, op.member)
        sadd(B, base, m)
      elseif kind == O_SREM then
        local base, m = okey(i, P, plan, subj, op, gtype), subject_id(plan, subj, op.member)
        srem(B, base, m)
      elseif kind == O_LOG then
        glog_add(B, okey(i, P, plan, subj, op, gtype), tonumber(plan.t), tonumber(op.arg))
      elseif kind == O_FRESH then
        if subj.event ~= nil then wr(B, okey(i, P, plan, subj, op, gtype), 1, store.dedup_ttl) end
      elseif kind == O_MARK then
        wr(B, okey(i, P, plan, subj, op, gtype), mark_new)
        if mark_day then bump(B, key_of(P, K.IMB_K_DAU, day), 1) end
        if mark_month then bump(B, key_of(P, K.IMB_K_MAU, plan.month), 1) end
      elseif kind == O_CUSER then
        local u = subject_id(plan, subj, op.subject)
        local joined = key_of(P, K.IMB_K_JOINED, u)
        for _, g in ipairs(smembers(B, joined)) do srem(B, key_of(P, K.IMB_K_MEMBERS, g), u) end
        sclear(B, joined)
        local friends = key_of(P, K.IMB_K_FRIENDS, u)
        for _, p in ipairs(smembers(B, friends)) do srem(B, key_of(P, K.IMB_K_FRIENDS, p), u) end
        sclear(B, friends)
        store:keep_lock(B)
      elseif kind == O_CGROUP then
        local g = subject_id(plan, subj, op.subject)
        local members = key_of(P, K.IMB_K_MEMBERS, g)
        for _, u in ipairs(smembers(B, members)) do srem(B, key_of(P, K.IMB_K_JOINED, u), g) end
        sclear(B, members)
        store:keep_lock(B)
      end
    end
  end
  return "applied"
end
M.apply_plan = apply_plan

---------------------------------------------------------------------------
-- A group created before its id was known (a REST create_group without
-- GroupId, a "before" callback): its keys move to the id Tencent gave it.
-- Not a rule: the same group, under its real name.  Returns false when the
-- real id is counted already (its after callback came first); the caller
-- then takes the provisional group back.

function M.rename_group(B, from, to)
  local P = B.P
  local gk_to = key_of(P, K.IMB_K_GROUP, to)
  if rd(B, gk_to) ~= nil then return false end
  local gk = key_of(P, K.IMB_K_GROUP, from)
  local rec = rd(B, gk)
  if rec == nil then return false end
  wr(B, gk_to, rec)
  del(B, gk)
  local from_m, to_m = key_of(P, K.IMB_K_MEMBERS, from), key_of(P, K.IMB_K_MEMBERS, to)
  for _, u in ipairs(smembers(B, from_m)) do
    sadd(B, to_m, u)
    local joined = key_of(P, K.IMB_K_JOINED, u)
    srem(B, joined, from)
    sadd(B, joined, to)
  end
  sclear(B, from_m)
  return true
end

---------------------------------------------------------------------------
-- The store

--- M.new{ dict =, meta =, lock_ttl = 2, lock_wait = 0.5, stripes = 1024, on_error =, deferred = }
function M.new(o)
  local d = ngx.shared[o.dict]
  if not d then error("imbill.gateway: no lua_shared_dict named " .. tostring(o.dict), 0) end
  local meta = ngx.shared[o.meta]
  if not meta then error("imbill.gateway: no lua_shared_dict named " .. tostring(o.meta), 0) end
  return setmetatable({
    name = o.dict, d = d, meta = meta, lock_ttl = o.lock_ttl or 2, lock_wait = o.lock_wait or 0.5,
    stripes = o.stripes or 1024, dedup_ttl = core.DEDUP_DAYS * 86400,
    on_error = o.on_error, -- function(store, reason, key): logs, counts, marks
    deferred = o.deferred, -- function(B, app, text): applies a deferred settlement (settle.lua)
  }, Store)
end

-- Called by long cascades: renews the app lock so it cannot expire under us.
-- safe_set: a full meta dict must not make room by evicting another app's
-- held lock (its holder would then share the app with the next taker).
function Store:keep_lock(B)
  if B.lock_key then
    local ok, err = self.meta:safe_set(B.lock_key, B.lock_tok, self.lock_ttl)
    if not ok then ngx.log(ngx.WARN, "imbill: cannot renew the lock ", B.lock_key, ": ", tostring(err)) end
  end
end

function Store:error(reason, key)
  if self.on_error then self.on_error(self, reason, key) end
end

-- Names made once per app: its keys' prefix, its lock, its list of
-- deferred settlements and that list's flag ("Deferred settlements" below),
-- all in the meta dict but the prefix.
local PREFIX, LOCK, DEFERRED, DEFERRED_FLAG = {}, {}, {}, {}
local function app_names(app)
  local P = PREFIX[app]
  if not P then
    P = keys.prefix(app)
    PREFIX[app], LOCK[app], DEFERRED[app], DEFERRED_FLAG[app] = P, "lk:" .. app, "stlk:" .. app, "stfl:" .. app
  end
  return P, LOCK[app]
end

--- The meta-dict key of an app's lock (for tests and tools).
function M.lock_key(app)
  local _, lk = app_names(app)
  return lk
end

-- One batch under a held lock: fn(B, ...) and the flush of what it wrote,
-- or (on any error) everything put back.  Returns fn's results, or nil and
-- the reason.
local function locked(store, app, lk, tok, fn, ...)
  local B = open_batch(store, PREFIX[app])
  B.lock_key, B.lock_tok = lk, tok
  local ok, a, b, c = pcall(fn, B, ...)
  local err = a
  if ok then
    local done, ferr = pcall(flush, B)
    if done then
      close_batch(B)
      return a, b, c
    end
    err = ferr
  end
  local clean = rollback(B, 0)
  close_batch(B)
  local reason, key
  if type(err) == "table" and err.imbill_store then
    reason, key = err.imbill_store, err.key
  else
    reason = "internal error: " .. tostring(err)
    ngx.log(ngx.ERR, "imbill: ", reason)
  end
  if not clean then reason = reason .. "; rollback incomplete" end
  store:error(reason, key)
  return nil, reason
end

---------------------------------------------------------------------------
-- Deferred settlements.  A settlement that found the app's lock busy in a
-- phase that cannot wait (settle.lua, "Order") is kept in a list of the
-- meta dict, one per app, and whoever holds the lock next applies the list
-- in order, each entry its own batch, before its own batch.  An entry taken
-- from the list is applied in the same hold of the lock, so a batch that
-- follows in any worker sees it.
--
-- Every batch looks at the list, so the look must cost little: a list
-- operation of the dict is a C function LuaJIT does not compile (an lpop
-- on the empty list ended each batch's trace, and took a third of a
-- create_group's decision), so each batch reads a flag (a compiled get)
-- and goes to the list only when it is set.  The flag is set after the
-- push and cleared by the holder before it empties the list, so an entry
-- pushed after the holder's last pop leaves the flag set for the next
-- holder: a set flag over an empty list costs one pop, and no entry waits
-- behind a clear one.  A drain (M.drain) looks at the list whatever the
-- flag says, so an entry whose flag could not be set is applied all the
-- same, by the drain its settlement queued.

--- Keeps a settlement (text, settle.lua's) for the next holder of the
-- app's lock.  Returns true, or nil and the dict's error.
function Store:defer(app, text)
  app_names(app)
  local meta = self.meta
  local n, err = meta:rpush(DEFERRED[app], text)
  if not n then return nil, err end
  -- safe_set: no other app's lock is evicted for the flag (the drain
  -- queued with the entry finds it without)
  local ok, ferr = meta:safe_set(DEFERRED_FLAG[app], true)
  if not ok then
    ngx.log(ngx.WARN, "imbill: app ", app, ": a deferred settlement's flag cannot be set (", tostring(ferr),
      "); the drain queued with it applies it")
  end
  return true
end

--- A batch that does nothing but look at the app's deferred settlements,
-- whatever their flag says (settle.lua's drain job).
function M.drain() return true end

local function run_deferred(store, app, lk, tok, force)
  local meta = store.meta
  local flag = DEFERRED_FLAG[app]
  if not force and not meta:get(flag) then return end
  meta:delete(flag)
  local key = DEFERRED[app]
  local text = meta:lpop(key)
  while text do
    locked(store, app, lk, tok, store.deferred, app, text)
    text = meta:lpop(key)
  end
end

local function batch(store, app, lk, tok, fn, ...)
  if store.deferred then run_deferred(store, app, lk, tok, fn == M.drain) end
  return locked(store, app, lk, tok, fn, ...)
end

---------------------------------------------------------------------------
-- Turns.  While a request of this worker takes or holds an app's lock, the
-- worker's other requests for that app wait in a queue of the worker rather
-- than try for the lock themselves, and the request that gets the lock runs
-- theirs in the same hold, each its own batch (all or nothing on its own).
-- So at most one request per worker and app waits for another worker (the
-- others wait without spending CPU), and a lock had after a wait serves
-- every request that queued meanwhile.

local semaphore = require "ngx.semaphore"
local unpack, select = unpack, select

local GROUP_MAX = 64 -- runs served in one hold of the lock
local STALE = 10     -- seconds after which a queue without progress is dropped (a bug, never expected)
M.GROUP_MAX = GROUP_MAX

local turns = {} -- lock key -> this worker's queue { active, head, tail, since, [i] = job }
local spare_semas = {}

local function take_sema()
  local n = #spare_semas
  if n > 0 then
    local s = spare_semas[n]
    spare_semas[n] = nil
    return s
  end
  return (semaphore.new(0))
end

local function give_sema(s)
  if s:count() == 0 and #spare_semas < 256 then spare_semas[#spare_semas + 1] = s end
end

-- Passes the worker's turn to the next request in its queue, or ends it.
local function handoff(q)
  while q.head <= q.tail do
    local job = q[q.head]
    q[q.head] = nil
    q.head = q.head + 1
    if not job.gone then
      job.lead = true
      q.since = ngx_now()
      job.sema:post(1)
      return
    end
  end
  q.active, q.head, q.tail = false, 1, 0
end

-- This request has the worker's turn: it takes the lock, runs its own batch
-- and those of the requests queued behind it, and passes the turn on.
local function serve(q, lk, store, app, wait, fn, ...)
  local got, tok, err = pcall(acquire, store.meta, lk, store.lock_ttl, wait, app)
  if not got then tok, err = nil, tostring(tok) end
  if not tok then
    handoff(q)
    if err ~= "busy" then store:error("lock: " .. tostring(err)) end
    return nil, err
  end
  local a, b, c = batch(store, app, lk, tok, fn, ...)
  local served = 1
  while q.head <= q.tail and served < GROUP_MAX do
    local job = q[q.head]
    q[q.head] = nil
    q.head = q.head + 1
    if not job.gone then
      job.r1, job.r2, job.r3 = batch(job.store, app, lk, tok, job.fn, unpack(job.args, 1, job.nargs))
      job.done = true
      job.sema:post(1)
      served = served + 1
    end
  end
  release(store.meta, lk, tok)
  handoff(q)
  return a, b, c
end

-- Another request of this worker has the turn: wait in its queue.
local function queued(q, lk, store, app, wait, fn, ...)
  if not YIELDABLE[get_phase()] then return nil, "busy" end
  QUEUED:inc(1, app)
  local job = { store = store, fn = fn, args = { ... }, nargs = select("#", ...), sema = take_sema(),
                done = false, lead = false, gone = false }
  local t = q.tail + 1
  q.tail = t
  q[t] = job
  ngx_update()
  local deadline = ngx_now() + wait
  job.sema:wait(wait)
  give_sema(job.sema)
  if job.done then return job.r1, job.r2, job.r3 end
  if job.lead then
    ngx_update()
    local left = deadline - ngx_now()
    if left > 0 then return serve(q, lk, store, app, left, fn, ...) end
    handoff(q)
    return nil, "busy"
  end
  job.gone = true
  return nil, "busy"
end

--- Runs fn(B, ...) under the app's lock as one batch: everything fn writes
-- stays, or (on any error) is put back.  Returns fn's results, or nil and
-- the reason ("busy": the lock was not had in time; "no memory"; ...).
function Store:run(app, wait, fn, ...)
  local _, lk = app_names(app)
  wait = wait or self.lock_wait
  local q = turns[lk]
  if not q then
    q = { active = false, head = 1, tail = 0, since = 0 }
    turns[lk] = q
  end
  if q.active then
    if ngx_now() - q.since < STALE then return queued(q, lk, self, app, wait, fn, ...) end
    -- a turn that never ended (a bug): its waiters time out on their own
    q.head, q.tail = 1, 0
  end
  q.active, q.since = true, ngx_now()
  return serve(q, lk, self, app, wait, fn, ...)
end

--- Applies one unit's steps all or nothing inside a batch, each step's
-- outcome in its own fields (step.result, step.refusal).  Returns the index
-- of the refused step, or nil.
local function apply_unit(B, steps)
  local mark = B.n
  for i = 1, #steps do
    local s = steps[i]
    local res, ref = apply_plan(B, s.plan, s)
    s.result, s.refusal = res, ref
    if res == "refused" then
      if not rollback(B, mark) then fail("rollback incomplete") end
      for j = 1, i - 1 do steps[j].result = "rolled back" end
      for j = i + 1, #steps do steps[j].result, steps[j].refusal = "skipped", nil end
      return i
    end
  end
  return nil
end
M.apply_unit = apply_unit

-- Steps in order, all or nothing when atomic (apply_unit), else each on its
-- own.  Returns their outcomes { result =, refusal = } and, atomic, the
-- index of the refused step.
local function apply_steps(B, steps, atomic)
  local bad
  if atomic then
    bad = apply_unit(B, steps)
  else
    for i = 1, #steps do
      local s = steps[i]
      s.result, s.refusal = apply_plan(B, s.plan, s)
    end
  end
  local out = {}
  for i = 1, #steps do out[i] = { result = steps[i].result, refusal = steps[i].refusal } end
  return out, bad
end

--- Applies steps = { { plan =, user =, peer =, group =, event = }, ... } in
-- order under one lock.  atomic: all or nothing (the first refused step
-- refuses the batch; its index is the second result).
function Store:apply(app, steps, atomic, wait)
  return self:run(app, wait, apply_steps, steps, atomic)
end

---------------------------------------------------------------------------
-- Logins

local crc32 = ngx.crc32_short

-- Whether a plan has the shape of a login: guards on app keys, an event id,
-- the activity mark and the app's latest day.  Anything else goes the
-- general way.
local function login_shaped(plan)
  local marks = 0
  for i = 0, plan.nops - 1 do
    local op = plan.op[i]
    local kind = op.kind
    if kind == O_MARK then
      marks = marks + 1
    elseif kind <= O_GE then
      if op.subject ~= S.IMB_S_APP then return false end
    elseif kind == O_MAX then
      if op.key ~= K.IMB_K_LAST_DAY then return false end
    elseif kind ~= O_FRESH then
      return false
    end
    if op.when ~= W.IMB_W_ALWAYS then return false end
  end
  return marks == 1
end

local STRIPE = {} -- app -> { [stripe] = lock key }
local function stripe_key(self, app, user)
  local t = STRIPE[app]
  if not t then
    t = {}
    STRIPE[app] = t
  end
  local i = crc32(user) % self.stripes
  local k = t[i]
  if not k then
    k = "ls:" .. app .. ":" .. i
    t[i] = k
  end
  return k
end

-- A login plan of another shape, under the app lock and the user's stripe:
-- what it writes reaches the dict before the stripe is let go.  deadline:
-- when the login's wait for its locks ends (ngx.now() seconds).
local function left(deadline)
  local w = deadline - ngx_now()
  return w > 0 and w or 0
end

local function login_locked(B, self, app, plan, subj, deadline)
  local lk = stripe_key(self, app, subj.user)
  local tok, err = acquire(self.meta, lk, self.lock_ttl, left(deadline))
  if not tok then fail("login lock: " .. tostring(err)) end
  local ok, res, ref = pcall(apply_plan, B, plan, subj)
  if ok then
    local done, ferr = pcall(flush, B)
    if not done then ok, res = false, ferr end
  end
  release(self.meta, lk, tok)
  if not ok then error(res, 0) end
  return res, ref
end

local function raise_last_day(B, key, to)
  local cur = rd(B, key)
  if cur == nil or to > cur then wr(B, key, to) end
end

local function guard_ok(kind, v, arg)
  if kind == O_EQ then return v == arg end
  if kind == O_NE then return v ~= arg end
  if kind == O_LE then return v <= arg end
  return v == NO_DAY or v >= arg
end

--- A login plan for `user` (event: its id, or nil).  wait: the seconds the
-- login may wait for its locks in all (default the store's lock_wait); a
-- login callback passes callback_lock_wait, as Tencent waits 2 s for the
-- answer.  Returns "applied" | "unchanged" | "duplicate" | "refused",
-- refusal; or nil, reason.
function Store:login(app, plan, user, event, wait)
  local deadline = ngx_now() + (wait or self.lock_wait)
  if plan.refused ~= 0 or not login_shaped(plan) then
    return self:run(app, left(deadline), login_locked, self, app, plan, { user = user, event = event }, deadline)
  end
  local d, meta = self.d, self.meta
  local P = app_names(app)
  local day, month = plan.day, plan.month
  local n = plan.nops
  local evkey, actkey, raise_to
  -- guards on the app's keys: they change seldom (a release, a new latest
  -- day), and are read without the lock, each once
  local last_day, released
  for i = 0, n - 1 do
    local op = plan.op[i]
    local kind = op.kind
    if kind <= O_GE then
      local k = op.key
      local v
      if k == K.IMB_K_LAST_DAY then
        if last_day == nil then last_day = d:get(key_of(P, k)) or NO_DAY end
        v = last_day
      elseif k == K.IMB_K_RELEASED then
        if released == nil then released = d:get(key_of(P, k)) or NO_DAY end
        v = released
      else
        v = d:get(key_of(P, k))
        if v == nil then v = default_of(k) end
      end
      if not guard_ok(kind, v, tonumber(op.arg)) then return "refused", refusal(op, tonumber(op.bound), v) end
    elseif kind == O_MAX then
      raise_to = tonumber(op.arg)
    elseif kind == O_FRESH and event ~= nil then
      evkey = key_of(P, K.IMB_K_EVENT, event)
      if d:get(evkey) ~= nil then return "duplicate" end
    elseif kind == O_MARK then
      actkey = key_of(P, K.IMB_K_ACTIVITY, user)
    end
  end
  if evkey then
    local ok, err = d:safe_add(evkey, 1, self.dedup_ttl)
    if not ok then
      if err == "exists" then return "duplicate" end
      self:error(err, evkey)
      return nil, err
    end
  end
  local lk = stripe_key(self, app, user)
  local tok, err = acquire(meta, lk, self.lock_ttl, left(deadline))
  if not tok then
    if evkey then d:delete(evkey) end
    if err ~= "busy" then self:error("login lock: " .. tostring(err)) end
    return nil, err
  end
  local old = d:get(actkey)
  local new, dn, mn = core.mark(old, day, month)
  if not new then
    release(meta, lk, tok)
    if evkey then d:delete(evkey) end
    if dn == "corrupt" then
      self:error("corrupt activity state", actkey)
      return nil, "corrupt activity state"
    end
    return "refused", { code = core.R_CLOSED, limit = core.L.IMB_L_DAY_OPEN, max = UNLIMITED, current = 0, peer = 0 }
  end
  local why
  if new ~= old then
    local ok, serr = d:safe_set(actkey, new)
    if not ok then why = serr or "set failed" end
  end
  if not why then
    if dn then
      local v, e = incr(d, key_of(P, K.IMB_K_DAU, day), 1)
      if not v then why = e end
    end
    if mn and not why then
      local v, e = incr(d, key_of(P, K.IMB_K_MAU, month), 1)
      if not v then
        why = e
        if dn then d:incr(key_of(P, K.IMB_K_DAU, day), -1) end
      end
    end
    if why then
      if old then d:safe_set(actkey, old) else d:delete(actkey) end
    end
  end
  release(meta, lk, tok)
  if why then
    if evkey then d:delete(evkey) end
    self:error(why, actkey)
    return nil, why
  end
  -- the app's latest day moves about once a day: only then the app lock
  if raise_to then
    if last_day == nil then last_day = d:get(key_of(P, K.IMB_K_LAST_DAY)) or NO_DAY end
    if last_day == NO_DAY or raise_to > last_day then
      -- not had in time: the login is counted, and a later one raises it
      self:run(app, left(deadline), raise_last_day, key_of(P, K.IMB_K_LAST_DAY), raise_to)
    end
  end
  return "applied"
end

---------------------------------------------------------------------------
-- Reads outside plans (usage, status)

function Store:get(key) return self.d:get(key) end

return M
