--- Reservations made by "before" callbacks.  An approval applies its plans
-- at once (so no other action can take the room it was given) and leaves a
-- record; the matching "after" callback confirms it (the record goes, the
-- counts stay), and a record nobody confirms in time is taken back with the
-- core's undo plans.
--
-- Dict keys (app prefix first): "r:<rid>" the record (JSON: what was applied,
-- its deadline), "rm:<match>" a list of the rids waiting for one after
-- callback, "rq" the list of all rids in order of their deadlines.
local keys = require "imbill.gateway.keys"
local store_mod = require "imbill.gateway.store"
local settle = require "imbill.gateway.settle"
local metrics = require "imbill.gateway.metrics"
local json = require "imbill.gateway.json"
local cjson = require "cjson.safe"
local state = require "imbill.gateway.state"

local ngx = ngx
local M = {}

local seq = 0

--- A reservation id unique across workers and restarts of a worker.
function M.new_id()
  seq = seq + 1
  return ngx.worker.pid() .. "." .. string.format("%.3f", ngx.now()) .. "." .. seq
end

-- The match of an approval with its after callback: the same action on the
-- same subjects.  Each part goes in with its length: ids may hold any byte,
-- and parts joined with NUL were ambiguous (owner "x\0Public" with Type
-- Public and Name "n" matched owner "x" with Name "Public\0n", so one
-- group's after-create callback could confirm another's approval).
function M.match(kind, ...)
  local parts = { kind }
  for i = 1, select("#", ...) do
    local v = tostring((select(i, ...)))
    parts[#parts + 1] = #v .. ":" .. v
  end
  return ngx.md5(table.concat(parts, ","))
end

--- Inside a locked batch: records unit u (applied) as reserved until
-- now + ttl.  The list pushes come last: a failure before them leaves
-- nothing half-written (the batch is rolled back).
function M.record(B, u, rid, match, ttl)
  local P = B.P
  local deadline = ngx.now() + ttl
  -- cjson writes it (every number here is an integer or a deadline with
  -- milliseconds, within its 14 digits); nothing reads it but confirm/expire
  local rec = cjson.encode { d = u.applied, m = match, g = u.provisional, dl = deadline }
  -- no expiry: a record goes when it is confirmed or swept (and taken back),
  -- never on its own with its counts still reserved
  store_mod.wr(B, keys.reservation(P, rid), rec)
  local d = B.d
  local mk = keys.reservation_match(P, match)
  local len, err = d:rpush(mk, rid)
  if not len then store_mod.fail(err or "rpush failed", mk) end
  -- a list whose reservations were all swept holds stale ids: it goes a day
  -- later (a confirmation skips stale ids)
  d:expire(mk, ttl + 86400)
  local qk = keys.reservation_queue(P)
  len, err = d:rpush(qk, rid .. "|" .. deadline)
  if not len then
    d:rpop(mk)
    store_mod.fail(err or "rpush failed", qk)
  end
end

--- Inside a locked batch: confirms the oldest reservation waiting for
-- `match`.  Returns its record (decoded), or nil when none waits.
function M.confirm(B, match)
  local P, d = B.P, B.d
  local mk = keys.reservation_match(P, match)
  while true do
    local rid = d:lpop(mk)
    if not rid then return nil end
    local rk = keys.reservation(P, rid)
    local text = store_mod.rd(B, rk)
    if text then
      store_mod.del(B, rk)
      return json.decode(text)
    end
  end
end

-- Takes back one expired reservation inside a locked batch.
local function expire(B, app, rid)
  local rk = keys.reservation(B.P, rid)
  local text = store_mod.rd(B, rk)
  if not text then return false end -- confirmed meanwhile
  local rec = json.decode(text)
  store_mod.del(B, rk)
  if type(rec) == "table" and type(rec.d) == "table" then settle.undo_all(B, app, rec.d) end
  return true
end

--- Expires every reservation of the app whose deadline has passed.
-- Returns how many were taken back.
function M.sweep(app, now)
  local store = state.store_for(app)
  if store.sweep then
    -- a store that applies programs (Redis) sweeps in its own calls
    local n = store:sweep(app, now)
    if n > 0 then metrics.inc("imbill_reservations_expired_total", { app = app.id }, n) end
    return n
  end
  local d = store.d
  local qk = keys.reservation_queue(keys.prefix(app.id))
  local total = 0
  while true do
    -- the due ids leave the queue inside the locked batch that takes them
    -- back, never before it waits for the lock: a worker killed while it
    -- waits leaves them queued for the next sweep, not forgotten with
    -- their counts still reserved
    local head = d:lpop(qk)
    if not head then break end
    d:lpush(qk, head) -- only a look (nothing yields in between)
    local hd = head:match("|([%d%.]+)$")
    if hd and tonumber(hd) > now then break end
    local due = {}
    local n, err = store:run(app.id, 0.5, function(B)
      local c = 0
      while #due < 100 do
        local e = d:lpop(qk)
        if not e then break end
        local rid, dl = e:match("^(.*)|([%d%.]+)$")
        if rid and tonumber(dl) > now then
          d:lpush(qk, e) -- not yet: it and everything after it wait
          break
        end
        if rid then
          due[#due + 1] = rid
          if expire(B, app, rid) then c = c + 1 end
        end
      end
      return c
    end)
    if not n then
      -- the batch was put back: so are its ids, for the next sweep
      for i = #due, 1, -1 do
        if not d:lpush(qk, due[i] .. "|0") then
          ngx.log(ngx.ERR, "imbill: app ", app.id, ": reservation ", due[i], " could not be queued again; ",
            "its counts stay reserved")
        end
      end
      if #due > 0 or err ~= "busy" then
        ngx.log(ngx.WARN, "imbill: app ", app.id, ": reservations not expired this time: ", tostring(err))
      end
      break
    end
    if n > 0 then metrics.inc("imbill_reservations_expired_total", { app = app.id }, n) end
    total = total + n
    if #due < 100 then break end
  end
  return total
end

-- The apps of one store, swept one after another.  Returns how many were
-- taken back; an error is logged, and the store's other apps are still swept.
local function sweep_apps(apps, now)
  local total = 0
  for _, app in ipairs(apps) do
    local ok, n = pcall(M.sweep, app, now)
    if ok then
      total = total + n
    else
      ngx.log(ngx.ERR, "imbill: app ", app.id, ": reservation sweep failed: ", tostring(n))
    end
  end
  return total
end

--- Every app, by one worker at a time.  Returns how many were taken back,
-- and whether this call swept (false: another worker's sweep had the turn),
-- which a test needs to know that a sweep ran after a deadline.
--
-- Each store is swept in a light thread of its own, so a Redis that does
-- not answer holds up only its own apps: swept one store after another, the
-- apps of every other store waited out its deadline each second, and their
-- reservations expired that much later.
function M.sweep_all()
  local meta = state.meta
  if not meta then return 0, false end
  local ok = meta:safe_add("sweeper", ngx.worker.pid(), 10)
  if not ok then return 0, false end
  local now = ngx.now()
  local groups, order = {}, {}
  for _, app in pairs(state.cfg.apps) do
    local store = state.store_for(app)
    local g = groups[store]
    if not g then
      g = {}
      groups[store] = g
      order[#order + 1] = g
    end
    g[#g + 1] = app
  end
  local total, threads = 0, {}
  for _, g in ipairs(order) do
    local th, err = ngx.thread.spawn(sweep_apps, g, now)
    if th then
      threads[#threads + 1] = th
    else
      -- no thread (out of memory): swept here, as before
      ngx.log(ngx.WARN, "imbill: reservation sweep without a thread: ", tostring(err))
      total = total + sweep_apps(g, now)
    end
  end
  for _, th in ipairs(threads) do
    local done, n = ngx.thread.wait(th)
    if done then total = total + n else ngx.log(ngx.ERR, "imbill: reservation sweep failed: ", tostring(n)) end
  end
  meta:delete("sweeper")
  return total, true
end

local started = false
--- Starts the sweep timer in this worker (once).
function M.start(interval)
  if started then return end
  started = true
  local ok, err = ngx.timer.every(interval or 1, function(premature)
    if premature then return end
    ngx.update_time()
    M.sweep_all()
  end)
  if not ok then
    started = false
    ngx.log(ngx.ERR, "imbill: cannot start the reservation sweep: ", err)
  end
end

return M
