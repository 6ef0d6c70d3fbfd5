--- Steps: an action of one app turned into the core's plan, with the
-- subjects the plan's keys belong to.  A step also keeps what it was built
-- from, so the same plan can be built again later to be taken back
-- (imb_plan_undo) when a reservation is released or expires.
local core = require "imbill.gateway.core"

local A = core.A
local M = {}

M.A = A

-- Actions that give capacity back.  They are applied once Tencent has done
-- them, never reserved: taking one back after others used the room it made
-- could push a count over its cap.
M.SHRINKS = { [A.IMB_A_DELETE_ACCOUNT] = true, [A.IMB_A_DISBAND_GROUP] = true, [A.IMB_A_LEAVE] = true,
              [A.IMB_A_REMOVE_FRIEND] = true }

-- Plans given back by requests that are done with them (imb_plan_build
-- overwrites a plan whole): a request builds a few, each 1 KiB.
local spare, nspare = {}, 0

local function new_plan()
  if nspare > 0 then
    local p = spare[nspare]
    spare[nspare] = nil
    nspare = nspare - 1
    return p
  end
  return core.plan_t()
end

--- Gives the plans of the units' steps back for reuse; the steps keep
-- everything else (what describe() needs).
function M.release(units)
  for i = 1, #units do
    local steps = units[i].steps
    if steps then
      for j = 1, #steps do
        local s = steps[j]
        local p = s.plan
        if p and nspare < 256 then
          nspare = nspare + 1
          spare[nspare] = p
        end
        s.plan = nil
      end
    end
  end
end

--- A step: kind (imb_action_kind), t (Unix seconds), subjects { user =,
-- peer =, group =, event = }, gtype for a create.  Returns the step, or nil
-- and why the core cannot plan it (an instant outside the calendar).
function M.step(app, kind, t, subj, gtype, now)
  local plan = new_plan()
  local ok, err = core.build(app.limits, kind, gtype, t, app.offset, subj.event ~= nil, now, plan)
  if not ok then
    if nspare < 256 then
      nspare = nspare + 1
      spare[nspare] = plan
    end
    return nil, err
  end
  return { plan = plan, kind = kind, gtype = gtype, t = t, user = subj.user, peer = subj.peer, group = subj.group,
           event = subj.event }
end

--- What a step looks like once it is only remembered: enough to build it
-- again (a plain table, JSON-safe).
function M.describe(s)
  return { k = s.kind, g = s.gtype, t = s.t, u = s.user, p = s.peer, grp = s.group }
end

--- The step that takes back a described step (which was applied).
function M.undo_of(app, d, group)
  local plan = core.plan_t()
  local ok, err = core.build(app.limits, d.k, d.g, d.t, app.offset, false, nil, plan)
  if not ok then return nil, err end
  local back = core.plan_t()
  ok, err = core.undo(plan, back)
  if not ok then return nil, err end
  return { plan = back, kind = d.k, user = d.u, peer = d.p, group = group or d.grp }
end

--- A described step built again as it was (to apply a shrink later).
function M.rebuild(app, d, now)
  return M.step(app, d.k, d.t, { user = d.u, peer = d.p, group = d.grp }, d.g, now)
end

return M
