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

function Job:run()
  local app, store = self.app, self.store
  -- a store that applies programs (Redis) settles the job whole
  if store.settle then return store:settle(self) end
  local now = ngx.time()
  local counts = { shrunk = 0, not_counted = 0 }
  local ok, err = store:run(app.id, 0.2, function(B)
    if self.rename then
      local r = self.rename
      if not store_mod.rename_group(B, r.from, r.to) then
        -- Tencent's id is counted already (its after callback came first)
        undo_all(B, app, r.descs)
      end
    end
    if self.reserve then
      -- the group is counted as it was; the record says how to take it back
      local r = self.reserve
      require("imbill.gateway.reserve").record(B, { applied = r.descs, provisional = r.group }, r.rid, r.match,
        app.reservation_ttl)
    end
    for _, descs in ipairs(self.undo or {}) do undo_all(B, app, descs) end
    for _, d in ipairs(self.shrink or {}) do
      local s = plans.rebuild(app, d, now)
      if s then
        local res = store_mod.apply_plan(B, s.plan, s)
        if res == "applied" then counts.shrunk = counts.shrunk + 1 else counts.not_counted = counts.not_counted + 1 end
      end
    end
    for _, l in ipairs { { self.all_friends, A.IMB_A_REMOVE_FRIEND_ONE_WAY },
                         { self.all_friends_both, A.IMB_A_REMOVE_FRIEND } } do
      for _, u in ipairs(l[1] or {}) do
        for _, p in ipairs(store_mod.smembers(B, keys.key(B.P, K.IMB_K_FRIENDS, u))) do
          for _, s in ipairs(plans.parts_steps(app, l[2], now, { user = u, peer = p }, nil, now) or {}) do
            store_mod.apply_plan(B, s.plan, s)
          end
        end
      end
    end
    return true
  end)
  if not ok then
    if err == "busy" then return false end
    ngx.log(ngx.ERR, "imbill: app ", app.id, ": settling ", self.call, " failed: ", tostring(err))
    return true
  end
  if counts.not_counted > 0 then
    metrics.inc("imbill_not_counted_total", { app = app.id, action = self.call, reason = "store" },
      counts.not_counted)
  end
  if self.reserve then M.reserved(app) end
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

return M
