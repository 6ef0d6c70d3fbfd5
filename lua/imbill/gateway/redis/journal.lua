--- The journal: work a Redis store must still do, kept in a shared dict of
-- the node (the `journal` option) while Redis cannot be reached, and
-- replayed in order when it answers again.
--
-- Entries are what to do, not what to write: an after callback's units, a
-- settle job, the logins of a batch, a REST call's settlement.  Each is
-- built again from its description when it runs (the core plans it again,
-- the same plan), and runs under the program id it was first given, so a
-- program whose answer was lost is found done by its marker instead of
-- running twice; logins are their own proof (the day is marked).
--
-- One worker at a time replays (a lock in the meta dict).  While an app has
-- entries waiting, its new after callbacks and settle jobs join the end of
-- the journal instead of overtaking it.  The dict must hold what an outage
-- brings: an entry is a few hundred bytes (docs/fleet.md).
local cjson = require "cjson.safe"
local metrics = require "imbill.gateway.metrics"

local ngx = ngx
local M = {}

local started = {}
local holes = {} -- since when this worker saw a missing entry, when the dict had no room to say so

local function d_of(store) return store.jdict end

-- Every Redis store of the node has its own entries in the dict.
local function K(store, name) return store.rname .. "|" .. name end

-- The journal never evicts: every write is safe (safe_set, safe_add), so a
-- full dict refuses the write instead of dropping the oldest entries, which
-- are the ones waiting to be replayed (an incr with an initial value, a set,
-- may evict).  bump: an incr that never evicts.
local function bump(d, key, delta)
  local v, err = d:incr(key, delta)
  if v or err ~= "not found" then return v, err end
  local ok, aerr = d:safe_add(key, 0)
  if not ok and aerr ~= "exists" then return nil, aerr end
  return d:incr(key, delta)
end

-- Rewrites entry k (its text was `old`; nil: it is not in the dict any
-- more).  A dict replaces a value of another size by freeing it first: when
-- the new one finds no room, the old one is written back, and false
-- returned; false, true when neither could be written (the entry is lost).
local function rewrite(store, k, text, old)
  local d = d_of(store)
  local ok, err = d:safe_set(k, text)
  if ok then return true end
  if old and d:safe_set(k, old) then return false, false end
  ngx.log(ngx.ERR, "imbill: journal of Redis ", store.rname, " is full (", tostring(err), "): entry ", k,
    " could not be written back, and is lost")
  metrics.inc("imbill_store_errors_total", { dict = store.name, reason = "journal full" })
  return false, true
end

-- Kinds whose programs need an id before their first run.
local NEEDS_PID = { after = true, settle = true }

-- Gives an entry the ids its programs run under, once, before it is first
-- written: a replay that runs one again (its answer lost, the worker gone)
-- sends the same id and finds it done.  Returns whether it gave any.
local function give_ids(e)
  local smod = require "imbill.gateway.redis.store"
  if NEEDS_PID[e.kind] and not e.pid then
    e.pid, e.w = smod.new_pid()
    return true
  elseif e.kind == "pending" and not e.cpid then
    -- the id of the compensation its settlement may run
    e.cpid, e.cw = smod.new_pid()
    return true
  end
  return false
end

function M.size(store)
  local d = d_of(store)
  return (d:get(K(store, "tail")) or 0) - (d:get(K(store, "head")) or 0)
end

-- Whether entries of the app wait.  Each entry the replay takes off lowers
-- its app's count, and so does one lost or unreadable whose app is known;
-- an entry that was never written (its worker gone between the two writes
-- of append) cannot say whose it was, so an empty journal also means that
-- nothing waits.
function M.pending(store, appid)
  return (d_of(store):get(K(store, "app:" .. appid)) or 0) > 0 and M.size(store) > 0
end

-- An entry that no longer waits (done, lost, unreadable): its app's count
-- comes down.
local function gone(store, appid)
  if appid ~= nil then d_of(store):incr(K(store, "app:" .. tostring(appid)), -1) end
end

--- Appends an entry ({ kind =, app =, ... }).  Returns true, or false when
-- the dict has no room (logged, counted).
function M.append(store, entry)
  local d = d_of(store)
  give_ids(entry)
  local text = cjson.encode(entry)
  if not text then
    ngx.log(ngx.ERR, "imbill: a journal entry could not be written (", tostring(entry.kind), ")")
    return false
  end
  local function full(err)
    ngx.log(ngx.ERR, "imbill: journal of Redis ", store.rname, " is full (", tostring(err), "): a ",
      tostring(entry.kind), " entry of app ", tostring(entry.app), " is lost")
    metrics.inc("imbill_store_errors_total", { dict = store.name, reason = "journal full" })
    return false
  end
  -- the app's count of waiting entries first: while it is up, the app's
  -- new work joins the journal instead of overtaking it
  local akey = K(store, "app:" .. entry.app)
  local c, cerr = bump(d, akey, 1)
  if not c then return full(cerr) end
  local n, err = bump(d, K(store, "tail"), 1)
  if not n then
    d:incr(akey, -1)
    return full(err)
  end
  local ok, serr = d:safe_set(K(store, "e:" .. n), text)
  if not ok then
    -- a hole the replay skips
    d:incr(akey, -1)
    return full(serr)
  end
  metrics.inc("imbill_redis_journaled_total", { redis = store.rname, app = entry.app, kind = entry.kind })
  M.start(store)
  return true
end

-- until_t: the instant a replay run while a client waits ends by (nil:
-- none); each entry's calls to Redis end by it too.
local function run_entry(store, e, until_t)
  local smod = require "imbill.gateway.redis.store"
  local app = store.apps[e.app]
  if not app then
    ngx.log(ngx.ERR, "imbill: a journal entry of app ", tostring(e.app), ", which Redis ", store.rname,
      " no longer serves, dropped")
    return true
  end
  local jr = { pid = e.pid, w = e.w, until_t = until_t }
  if e.kind == "after" then
    jr.rec = e.rec
    local units = smod.units_from_journal(app, e.units, e.now)
    local ok, err, state = store:count_after(app, units, nil, e.spec, jr)
    if ok then return true end
    if state == "failed" then
      ngx.log(ngx.ERR, "imbill: app ", e.app, ": a journaled after callback cannot be applied (", tostring(err),
        "); dropped")
      return true
    end
    return false
  elseif e.kind == "settle" then
    local job = { app = app, store = store, call = e.call, rename = e.rename, undo = e.undo, shrink = e.shrink,
                  all_friends = e.all_friends, all_friends_both = e.all_friends_both, reserve = e.reserve,
                  now = e.now }
    return store:settle(job, jr)
  elseif e.kind == "pending" then
    return store:settle_pending({ app = app, store = store, pending = e.pending, did = e.did, standin = e.standin,
                                  now = e.now, cpid = e.cpid, cw = e.cw }, jr)
  elseif e.kind == "compensate" then
    return store:compensate(e, jr)
  elseif e.kind == "logins" then
    local flush = require "imbill.gateway.redis.flush"
    local ok, rest = flush.flush_logins(store, e.app, e.entries, store:deadline(true, jr))
    if ok then return true end
    e.entries = rest
    return false, e
  end
  ngx.log(ngx.ERR, "imbill: an unknown journal entry (", tostring(e.kind), ") dropped")
  return true
end

--- Replays what waits, in order, until an entry cannot be done yet, or
-- (with `until_t`, an ngx.now() instant) until that instant has passed.
-- Returns how many entries were done.
function M.replay(store, until_t)
  local d, meta = d_of(store), store.meta
  local lock = "jlock:" .. store.rname
  if not meta:safe_add(lock, ngx.worker.pid(), 30) then return 0 end
  local done = 0
  local ok, err = pcall(function()
    while true do
      if until_t then
        ngx.update_time()
        if ngx.now() >= until_t then break end
      end
      local head, tail = d:get(K(store, "head")) or 0, d:get(K(store, "tail")) or 0
      if head >= tail then break end
      local n = head + 1
      local k = K(store, "e:" .. n)
      local text = d:get(k)
      local e = text and cjson.decode(text)
      if text == nil then
        -- being written, or lost for want of room: wait a little, then skip
        local hk = K(store, "hole:" .. n)
        local since = d:get(hk) or holes[hk]
        if not since then
          if not d:safe_set(hk, ngx.now(), 60) then holes[hk] = ngx.now() end
          break
        end
        if ngx.now() - since < 2 then break end
        ngx.log(ngx.ERR, "imbill: journal entry ", n, " of Redis ", store.rname, " was never written; skipped")
        holes[hk] = nil
        if not bump(d, K(store, "head"), 1) then break end
      elseif type(e) ~= "table" then
        ngx.log(ngx.ERR, "imbill: an unreadable journal entry dropped")
        -- the app, when what is left of it names one
        gone(store, type(text) == "string" and text:match('"app":"(%d+)"') or nil)
        d:delete(k)
        if not bump(d, K(store, "head"), 1) then break end
      else
        -- an entry written without its ids (by an earlier version of the
        -- gateway) takes them now; one that cannot keep them for want of
        -- room runs under them anyway, once more at most if its answer is
        -- lost
        local lost = false
        if give_ids(e) then
          local kept
          kept, lost = rewrite(store, k, cjson.encode(e), text)
          if not kept and not lost then
            ngx.log(ngx.WARN, "imbill: journal of Redis ", store.rname, " is full: entry ", n,
              " runs under an id it could not keep")
          end
        end
        local fine, changed = run_entry(store, e, until_t)
        if not fine then
          -- what is left of it (logins: the ones not written yet); kept
          -- whole when there is no room for the rewrite, written again
          -- when the rewrite above lost it
          if changed or lost then
            local kept, now_lost = rewrite(store, k, cjson.encode(changed or e), not lost and text or nil)
            -- not in the journal any more: it no longer holds its app's work
            if not kept and (lost or now_lost) then gone(store, e.app) end
          end
          break
        end
        d:delete(k)
        gone(store, e.app)
        if not bump(d, K(store, "head"), 1) then break end
        done = done + 1
        metrics.inc("imbill_redis_replayed_total", { kind = e.kind })
      end
      meta:safe_set(lock, ngx.worker.pid(), 30) -- never by evicting another key
    end
  end)
  meta:delete(lock)
  if not ok then ngx.log(ngx.ERR, "imbill: journal replay failed: ", tostring(err)) end
  return done
end

local function tick(premature, store)
  if premature then return end
  local ok, err = pcall(store.check_epochs, store)
  if not ok then ngx.log(ngx.ERR, "imbill: checking Redis ", store.rname, " for lost counts failed: ", tostring(err)) end
  if M.size(store) <= 0 then return end
  -- while Redis is away, one try a second is enough
  local last = store.journal_try or 0
  if not store:up() and ngx.now() - last < 1 then return end
  store.journal_try = ngx.now()
  M.replay(store)
end

function M.start(store)
  if started[store.name] then return end
  started[store.name] = true
  local ok, err = ngx.timer.every(0.2, tick, store)
  if not ok then
    started[store.name] = false
    ngx.log(ngx.ERR, "imbill: cannot start the journal replay of Redis ", store.rname, ": ", err)
  end
end

return M
