--- Units: what Tencent answers for as one (see calls.lua), planned by the
-- core and applied to the store all or nothing, each unit on its own, all
-- units of one request under one hold of the app's lock.
local core = require "imbill.gateway.core"
local plans = require "imbill.gateway.plans"
local store_mod = require "imbill.gateway.store"

local L = core.L
local M = {}

-- Refusals about what the store knows rather than about a quota: a group it
-- never saw (created before the gateway, or through a path it does not see),
-- a group id it thinks taken, a day it can no longer count.  The gateway
-- does not refuse a call for these; Tencent decides, and nothing is counted.
M.NOT_A_QUOTA = { [L.IMB_L_GROUP_EXISTS] = true, [L.IMB_L_GROUP_ID] = true, [L.IMB_L_DAY_OPEN] = true,
                  [L.IMB_L_FUTURE] = true }

--- Plans every action of every unit at instant t.  A unit whose action the
-- core cannot plan (an instant outside the calendar) is marked `unplanned`.
function M.build(app, units, t, now, event_of)
  for _, u in ipairs(units) do
    local steps = {}
    for i, a in ipairs(u.acts) do
      local subj = a.subj
      if event_of then subj.event = event_of(u, a, i) end
      -- an action of two parts (a two-way friendship) is two steps of the unit
      local ps = plans.parts_steps(app, a.kind, a.t or t, subj, a.gtype, now)
      if not ps then
        u.unplanned = true
        break
      end
      for _, s in ipairs(ps) do steps[#steps + 1] = s end
    end
    u.steps = steps
  end
end

-- Reads the results of one unit's steps (in their result fields).
local function classify(u, steps, bad)
  if bad then
    local r = steps[bad].refusal
    u.refusal, u.refused_step = r, steps[bad]
    u.status = M.NOT_A_QUOTA[r.limit] and "not_counted" or "refused"
    return
  end
  local applied, dup, any = {}, false, false
  for i = 1, #steps do
    local res = steps[i].result
    if res == "applied" then
      applied[#applied + 1] = plans.describe(steps[i])
      any = true
    elseif res == "duplicate" then
      dup = true
    end
  end
  u.applied = applied
  u.status = any and "applied" or (dup and "duplicate" or "unchanged")
end
M.classify = classify

local function apply_all(B, units)
  for i = 1, #units do
    local u = units[i]
    local steps = u.steps
    if not u.unplanned and #steps > 0 then
      classify(u, steps, store_mod.apply_unit(B, steps))
    elseif u.unplanned then
      u.status = "not_counted"
    end
  end
  return true
end
M.apply_all = apply_all

local function apply_units(B, units, extra, arg)
  apply_all(B, units)
  if extra then extra(B, units, arg) end
  return true
end

--- Applies the units under the app's lock.  extra(B, units, arg), when
-- given, runs in the same hold after them (a reservation's record).  Returns
-- true, or nil, the store's reason and (Redis) what must be settled once
-- Tencent's answer is known.
function M.apply(store, app, units, wait, extra, arg)
  -- a store that applies programs (Redis) takes the units whole
  if store.apply_units then return store:apply_units(app, units, wait) end
  return store:run(app.id, wait, apply_units, units, extra, arg)
end

return M
