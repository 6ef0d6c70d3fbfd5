--- Steps: an action of one app turned into the core's plan, with the
-- subjects the plan's keys belong to.  A step also keeps what it was built
-- from, so the same plan can be built again later to be taken back
-- (imb_plan_undo) when a reservation is released or expires.
local core = require "imbill.gateway.core"

local A, S = core.A, core.S
local M = {}

M.A = A

-- Actions that give capacity back.  They are applied once Tencent has done
-- them, never reserved: taking one back after others used the room it made
-- could push a count over its cap.
M.SHRINKS = { [A.IMB_A_DELETE_ACCOUNT] = true, [A.IMB_A_DISBAND_GROUP] = true, [A.IMB_A_LEAVE] = true,
              [A.IMB_A_REMOVE_FRIEND] = true, [A.IMB_A_REMOVE_FRIEND_ONE_WAY] = true,
              [A.IMB_A_REMOVE_FRIEND_BACK] = true }

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

--- The id a plan's op names by its subject (nil for the app): the action's
-- user, peer, group or event, or the plan's day or month.  Every store keys
-- its values by it.
function M.subject_id(plan, subj, s)
  if s == S.IMB_S_APP then return nil end
  local id
  if s == S.IMB_S_USER then id = subj.user
  elseif s == S.IMB_S_PEER then id = subj.peer
  elseif s == S.IMB_S_GROUP then id = subj.group
  elseif s == S.IMB_S_DAY then id = plan.day
  elseif s == S.IMB_S_MONTH then id = plan.month
  elseif s == S.IMB_S_EVENT then id = subj.event
  end
  if id == nil then
    error("imbill.gateway: the plan names subject " .. tostring(s) .. " that the action does not carry", 0)
  end
  return id
end

local function give_back(plan)
  if nspare < 256 then
    nspare = nspare + 1
    spare[nspare] = plan
  end
end

-- The plans of a two-way action's parts one after the other, as one plan:
-- only for a step remembered before actions had parts (a reservation or a
-- journal entry written by an older gateway), when every friendship was
-- mutual and this plan did what the two-way action's did.
local function joined_plan(app, kinds, t, has_id, now)
  local plan, part = new_plan(), new_plan()
  local ok, err
  for i, k in ipairs(kinds) do
    ok, err = core.build(app.limits, k, 0, t, app.offset, has_id, now, i == 1 and plan or part)
    if not ok then break end
    if i > 1 then
      for j = 0, part.nops - 1 do
        plan.op[plan.nops] = part.op[j]
        plan.nops = plan.nops + 1
      end
    end
  end
  give_back(part)
  if not ok then
    give_back(plan)
    return nil, err
  end
  return plan
end

--- A step: kind (imb_action_kind), t (Unix seconds), subjects { user =,
-- peer =, group =, event = }, gtype for a create.  Returns the step, or nil
-- and why the core cannot plan it (an instant outside the calendar).  A
-- two-way kind is planned by its parts (M.parts_steps); given one here (a
-- step remembered by an older gateway), its parts' plans are joined.
function M.step(app, kind, t, subj, gtype, now)
  local kinds = core.parts(kind)
  local plan, err
  if #kinds > 1 then
    plan, err = joined_plan(app, kinds, t, subj.event ~= nil, now)
    if not plan then return nil, err end
  else
    plan = new_plan()
    local ok
    ok, err = core.build(app.limits, kind, gtype, t, app.offset, subj.event ~= nil, now, plan)
    if not ok then
      give_back(plan)
      return nil, err
    end
  end
  return { plan = plan, kind = kind, gtype = gtype, t = t, user = subj.user, peer = subj.peer, group = subj.group,
           event = subj.event }
end

--- The steps of one action: one per part (core.parts), applied together by
-- the store as a unit's steps are, all or nothing.  A part after the first
-- carries its own event id (the action's with "#<part>"), so each part is a
-- duplicate of itself only.  Returns the list, or nil and the core's reason.
function M.parts_steps(app, kind, t, subj, gtype, now)
  local out = {}
  for i, k in ipairs(core.parts(kind)) do
    local ps = subj
    if i > 1 then
      ps = { user = subj.user, peer = subj.peer, group = subj.group,
             event = subj.event and (subj.event .. "#" .. i) or nil }
    end
    local s, err = M.step(app, k, t, ps, gtype, now)
    if not s then return nil, err end
    out[i] = s
  end
  return out
end

--- What a step looks like once it is only remembered: enough to build it
-- again (a plain table, JSON-safe).
function M.describe(s)
  return { k = s.kind, g = s.gtype, t = s.t, u = s.user, p = s.peer, grp = s.group }
end

--- Marks the steps of an after callback's units as reports of what Tencent
-- did.  A create whose group id the store holds already is then that group,
-- counted before (through the REST path, or an approval the callback has
-- just confirmed), and changes nothing, as a join finding its member in
-- place does: its event id is remembered with it.  Refused instead (the
-- core's reading for an action asked for, 10021), the event was not
-- remembered, and a retry of the callback after the group was disbanded
-- counted a group Tencent no longer had, for good.
local L, FAIL = core.L, core.FAIL
function M.reported(units)
  for _, u in ipairs(units) do
    for _, s in ipairs(u.steps or {}) do
      local plan = s.plan
      if plan and s.kind == A.IMB_A_CREATE_GROUP then
        for i = 0, plan.nops - 1 do
          local op = plan.op[i]
          if op.limit == L.IMB_L_GROUP_ID and op.fail == FAIL.IMB_FAIL_REFUSE then op.fail = FAIL.IMB_FAIL_NOOP end
        end
      end
    end
  end
end

--- The step that takes back a described step (which was applied).
function M.undo_of(app, d, group)
  local kinds = core.parts(d.k)
  local plan, ok, err
  if #kinds > 1 then
    plan, err = joined_plan(app, kinds, d.t, false, nil)
    if not plan then return nil, err end
  else
    plan = core.plan_t()
    ok, err = core.build(app.limits, d.k, d.g, d.t, app.offset, false, nil, plan)
    if not ok then return nil, err end
  end
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
