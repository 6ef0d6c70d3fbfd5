--- Settling a REST call from Tencent's answer: reservations Tencent did not
-- use are given back, shrinks Tencent did are applied, and a group created
-- without an id gets the one Tencent chose, or, when no answer said which
-- id, waits as a reservation for Tencent's after-create callback to name it
-- (job.reserve).  Runs from the queue (the response phases cannot wait for
-- the lock).
local core = require "imbill.gateway.core"
local keys = require "imbill.gateway.keys"
local plans = require "imbill.gateway.plans"
local store_mod = require "imbill.gateway.store"
local metrics = require "imbill.gateway.metrics"
local queue = require "imbill.gateway.queue"
local cjson = require "cjson.safe"

local ngx = ngx
local A, K = core.A, core.K
local M = {}

local Job = {}
Job.__index = Job

local function undo_all(B, app, descs, group)
  for i = #descs, 1, -1 do
    local s = assert(plans.undo_of(app, descs[i], group))
    store_mod.apply_plan(B, s.plan, s)
  end
end
M.undo_all = undo_all

-- The settlement's writes, inside a locked batch of the app's lock.
local function apply(B, app, job, now, counts)
  if job.rename then
    local r = job.rename
    if not store_mod.rename_group(B, r.from, r.to) then
      -- Tencent's id is counted already (its after callback came first)
      undo_all(B, app, r.descs)
    end
  end
  if job.reserve then
    -- the group is counted as it was; the record says how to take it back
    local r = job.reserve
    require("imbill.gateway.reserve").record(B, { applied = r.descs, provisional = r.group }, r.rid, r.match,
      app.reservation_ttl)
  end
  for _, descs in ipairs(job.undo or {}) do undo_all(B, app, descs) end
  for _, d in ipairs(job.shrink or {}) do
    local s = plans.rebuild(app, d, now)
    if s then
      local res = store_mod.apply_plan(B, s.plan, s)
      if res == "applied" then counts.shrunk = counts.shrunk + 1 else counts.not_counted = counts.not_counted + 1 end
    end
  end
  for _, l in ipairs { { job.all_friends, A.IMB_A_REMOVE_FRIEND_ONE_WAY },
                       { job.all_friends_both, A.IMB_A_REMOVE_FRIEND } } do
    for _, u in ipairs(l[1] or {}) do
      for _, p in ipairs(store_mod.smembers(B, keys.key(B.P, K.IMB_K_FRIENDS, u))) do
        for _, s in ipairs(plans.parts_steps(app, l[2], now, { user = u, peer = p }, nil, now) or {}) do
          store_mod.apply_plan(B, s.plan, s)
        end
      end
    end
  end
  return true
end

local function applied(app, call, job, counts)
  if counts.not_counted > 0 then
    metrics.inc("imbill_not_counted_total", { app = app.id, action = call, reason = "store" }, counts.not_counted)
  end
  if job.reserve then M.reserved(app) end
end

function Job:run()
  local app, store = self.app, self.store
  -- a store that applies programs (Redis) settles the job whole
  if store.settle then return store:settle(self) end
  local now = self.now or ngx.time()
  local counts = { shrunk = 0, not_counted = 0 }
  local ok, err = store:run(app.id, 0.2, apply, app, self, now, counts)
  if not ok then
    if err == "busy" then return false end
    ngx.log(ngx.ERR, "imbill: app ", app.id, ": settling ", self.call, " failed: ", tostring(err))
    return true
  end
  applied(app, self.call, self, counts)
  return true
end

--- A REST stand-in made a reservation (job.reserve written): counted as an
-- approval's is, and the sweep that takes it back in time started.
function M.reserved(app)
  metrics.inc("imbill_reservations_total", { app = app.id, via = "rest" })
  require("imbill.gateway.reserve").start()
end

function Job:give_up()
  ngx.log(ngx.ERR, "imbill: app ", self.app.id, ": could not take the lock to settle ", self.call,
    " (reservations kept, shrinks not applied)")
  metrics.inc("imbill_store_errors_total", { dict = self.store.name, reason = "settle busy" })
end

function M.job(t)
  return setmetatable(t, Job)
end

---------------------------------------------------------------------------
-- Order.  A client that reads Tencent's answer and sends its next call (a
-- friend deleted, then added again) must find the first call settled: were
-- the delete still waiting, the add would find the pair friends, count
-- nothing, and the delete, applied after it, would leave the pair counted
-- as strangers while Tencent has them as friends.  So a shared-dict store
-- settles in the response phase itself, before the answer is sent, when
-- the app's lock comes free within the short spin those phases allow; when
-- it does not, the settlement joins the app's list of deferred settlements
-- in the meta dict, which whoever holds the lock next applies before its
-- own batch (store.lua).  Either way every decision made after the answer
-- left the gateway sees what the answer settled, on every worker, and a
-- worker that dies leaves its deferred settlements to the others.

--- What a settlement is once only remembered (a deferred one here, a
-- journal entry of a Redis store): the job without its app and store, data
-- JSON carries.
function M.entry(job)
  return { call = job.call, rename = job.rename, reserve = job.reserve, undo = job.undo, shrink = job.shrink,
           all_friends = job.all_friends, all_friends_both = job.all_friends_both, now = job.now }
end

--- Applies a deferred settlement (the store calls it inside a locked
-- batch of app `appid`, before that batch's own work).
function M.deferred(B, appid, text)
  local e = cjson.decode(text)
  local app = require("imbill.gateway.state").cfg.apps[appid]
  if type(e) ~= "table" or not app then
    ngx.log(ngx.ERR, "imbill: app ", tostring(appid), ": a deferred settlement cannot be read, and is dropped")
    return true
  end
  local counts = { shrunk = 0, not_counted = 0 }
  apply(B, app, e, e.now or ngx.time(), counts)
  applied(app, e.call, e, counts)
  return true
end

-- A queued job that takes the app's lock once, so the deferred settlements
-- are applied soon even when no other call of the app comes.
local Drain = {}
Drain.__index = Drain

function Drain:run()
  -- (the lock's holder applies the list before its batch: this one is empty)
  local ok, err = self.store:run(self.app.id, 0.2, store_mod.drain)
  if not ok and err == "busy" then return false end
  return true
end

function Drain:give_up()
  -- nothing is lost: the next holder of the lock applies them
  ngx.log(ngx.WARN, "imbill: app ", self.app.id, ": deferred settlements wait for the next call of the app ",
    "(the lock stayed busy)")
end

--- Settles a REST call's job (the fields M.job takes), in order (above).
function M.submit(t)
  local job = setmetatable(t, Job)
  local store = job.store
  if store.settle then
    -- a Redis app's answer relayed from the access phase (rest.lua) is
    -- settled before it is sent on, within a call's deadline (or journaled);
    -- a call decided while Redis could not answer is settled later, in the
    -- journal's order
    if not job.pending and store_mod.YIELDABLE[ngx.get_phase()] then
      job.foreground = true
      local ok, err = pcall(store.settle, store, job)
      if ok then return true end
      ngx.log(ngx.ERR, "imbill: app ", job.app.id, ": settling ", tostring(job.call), " failed (", tostring(err),
        "); it is tried again from the worker's queue")
      job.foreground = nil
      return queue.push(job)
    end
    return queue.push(job)
  end
  job.now = job.now or ngx.time()
  if job:run() ~= false then return true end
  local ok, err = store:defer(job.app.id, cjson.encode(M.entry(job)))
  if not ok then
    -- no room in the meta dict: settled later by this worker, out of order
    ngx.log(ngx.ERR, "imbill: app ", job.app.id, ": cannot defer the settlement of ", tostring(job.call), " (",
      tostring(err), "); it is queued in the worker, and a call made meanwhile may not see it")
    metrics.inc("imbill_store_errors_total", { dict = store.name, reason = "defer" })
    return queue.push(job)
  end
  metrics.inc("imbill_settlements_deferred_total", { app = job.app.id })
  return queue.push(setmetatable({ app = job.app, store = store }, Drain))
end

return M
