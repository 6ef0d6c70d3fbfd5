--- Programs for the Redis interpreter (interpreter.lua): the core's plans
-- written as its arguments, and its answers read back.
--
-- A plan's operations go over as they are: the operation, how its key
-- stores its value, the key (declared in KEYS, so Redis Cluster can route
-- and check the call), the member or field, the argument, the bound and the
-- condition.  Integers are written with %d from their int64 values, never
-- through a double.  Nothing here decides anything: a forced program (the
-- journal of an app that fails open) only drops the caps' bounds, so what
-- was allowed while the store was away is counted as it happened.
local core = require "imbill.gateway.core"
local layout = require "imbill.gateway.redis.layout"

local OP, K, S, W, FAIL = core.OP, core.K, core.S, core.W, core.FAIL
local UNLIMITED, GTYPE_OF_GROUP = core.UNLIMITED, core.GTYPE_OF_GROUP
local sfmt, tostring, tonumber, error = string.format, tostring, tonumber, error
local concat = table.concat

local M = {}
local Program = {}
Program.__index = Program

local KIND = {
  [OP.IMB_OP_EQ] = "=", [OP.IMB_OP_NE] = "!", [OP.IMB_OP_LE] = "<", [OP.IMB_OP_GE] = ">",
  [OP.IMB_OP_HAS] = "h", [OP.IMB_OP_LACKS] = "l", [OP.IMB_OP_FRESH] = "f", [OP.IMB_OP_ADD] = "+",
  [OP.IMB_OP_SET] = "s", [OP.IMB_OP_MAX] = "m", [OP.IMB_OP_SADD] = "a", [OP.IMB_OP_SREM] = "r",
  [OP.IMB_OP_LOG] = "g", [OP.IMB_OP_MARK] = "c", [OP.IMB_OP_CASCADE_USER] = "U",
  [OP.IMB_OP_CASCADE_GROUP] = "G", [OP.IMB_OP_COUNTED] = "k",
}
local FAILC = { [FAIL.IMB_FAIL_NONE] = "-", [FAIL.IMB_FAIL_REFUSE] = "r", [FAIL.IMB_FAIL_NOOP] = "n",
                [FAIL.IMB_FAIL_DUPLICATE] = "d" }
local O_ADD, O_SADD, O_FRESH, O_MARK = OP.IMB_OP_ADD, OP.IMB_OP_SADD, OP.IMB_OP_FRESH, OP.IMB_OP_MARK
local SET_OPS = { [OP.IMB_OP_HAS] = true, [OP.IMB_OP_LACKS] = true, [OP.IMB_OP_SADD] = true, [OP.IMB_OP_SREM] = true }

local function i64(v) return sfmt("%d", v) end

-- The types a NON_AV condition holds for, as the interpreter reads them.
local nonav
local function nonav_types()
  if nonav then return nonav end
  local t = {}
  for g = 0, core.G.IMB_G_COUNT - 1 do
    if core.C.imb_gtype_is_av(g) == 0 then t[#t + 1] = tostring(g) end
  end
  nonav = "T" .. concat(t)
  return nonav
end

--- ctx: { P = prefix, buckets =, tag = layout tag, dedup_ttl =, marker_ttl = }.
-- pid, window: the program's id and marker window (nil: no marker).
function M.new(ctx, pid, window, mode)
  local p = setmetatable({ ctx = ctx, P = ctx.P, keys = {}, kidx = {}, argv = {}, n = 0, instr = {}, nreg = 0 },
    Program)
  p:key(layout.layout_key(ctx.P))
  local a = p.argv
  a[1], a[2], a[3] = "imb1", ctx.tag, pid or ""
  a[4] = pid and p:key(layout.marker(ctx.P, window)) or "0"
  a[5], a[6] = mode or "", tostring(ctx.marker_ttl or 600)
  p.n = 6
  p.pid, p.window = pid, window
  return p
end

--- The index (text) of a key in KEYS, declaring it on first use.
function Program:key(k)
  local i = self.kidx[k]
  if i then return i end
  local n = #self.keys + 1
  self.keys[n] = k
  i = tostring(n)
  self.kidx[k] = i
  return i
end
Program.declare = Program.key

local function push(p, v)
  if v == nil then error("imbill.gateway.redis: a program argument is missing (argument " .. (p.n + 1) .. ")", 2) end
  local n = p.n + 1
  p.n = n
  p.argv[n] = v
end

local subject_id = require("imbill.gateway.plans").subject_id

-- The set key of a set op.
local function set_key(P, plan, subj, op)
  local k, id = op.key, subject_id(plan, subj, op.subject)
  if k == K.IMB_K_MEMBERS then return layout.members(P, id) end
  if k == K.IMB_K_JOINED then return layout.joined(P, id) end
  if k == K.IMB_K_FRIENDS then return layout.friends(P, id) end
  error("imbill.gateway.redis: a set operation on key " .. tostring(core.names.key[k]), 0)
end

-- A value key: its storage letter, key and field.
local function value_key(p, plan, subj, op)
  local P, k = p.P, op.key
  if k == K.IMB_K_ACCOUNT then
    local key, f = layout.account(P, subject_id(plan, subj, op.subject), p.ctx.buckets)
    return "f", p:key(key), f
  elseif k == K.IMB_K_GROUP then
    return "g", p:key(layout.group(P, subject_id(plan, subj, op.subject))), ""
  elseif k == K.IMB_K_GROUP_T then
    return "t", p:key(layout.group(P, subject_id(plan, subj, op.subject))), ""
  elseif k == K.IMB_K_GROUPS_OF then
    if op.gtype == GTYPE_OF_GROUP then return "o", "0", "" end
    return "c", p:key(layout.counter(P, k, nil, core.names.gtype[op.gtype])), ""
  end
  local id
  if op.subject ~= S.IMB_S_APP then id = subject_id(plan, subj, op.subject) end
  local key = layout.counter(P, k, id)
  if not key then error("imbill.gateway.redis: no layout for key " .. tostring(core.names.key[k]), 0) end
  return layout.DAY_VALUED[k] and "d" or "c", p:key(key), ""
end

-- The user's account (its key's index and field), for a USER_ACCOUNT
-- condition and a COUNTED guard.
local function account_of(p, plan, subj)
  local key, f = layout.account(p.P, subject_id(plan, subj, S.IMB_S_USER), p.ctx.buckets)
  return p:key(key), f
end

local function when_of(p, plan, subj, op)
  local w = op.when
  if w == W.IMB_W_ALWAYS then return "" end
  if w == W.IMB_W_GROUP_NON_AV then return nonav_types() end
  if w == W.IMB_W_GROUP_TODAY then return "S" .. i64(plan.day_start) end
  if w == W.IMB_W_USER_ACCOUNT then
    local kidx, f = account_of(p, plan, subj)
    return "A" .. kidx .. ":" .. f
  end
  error("imbill.gateway.redis: unknown condition " .. tostring(w), 0)
end

--- Writes one step (S ...).  opts.force: caps do not refuse; opts.mark:
-- a login's compare-and-set { expected =, new =, dn =, mn = }.  Returns
-- the plan op index of each written op.
function Program:step(plan, subj, opts)
  local P = self.P
  push(self, "S")
  push(self, i64(plan.t))
  push(self, i64(plan.day_start))
  push(self, subj.group and self:key(layout.group(P, subj.group)) or "0")
  local n = plan.nops
  local need_tb, need_gof = false, false
  for i = 0, n - 1 do
    local op = plan.op[i]
    if op.by_type ~= 0 then need_tb = true end
    if op.gtype == GTYPE_OF_GROUP and op.key == K.IMB_K_GROUPS_OF then need_gof = true end
  end
  if need_tb then
    local t = {}
    for g = 0, core.G.IMB_G_COUNT - 1 do
      local b = plan.by_type[g]
      t[g + 1] = b == UNLIMITED and "" or i64(b)
    end
    push(self, concat(t, ","))
  else
    push(self, "")
  end
  if need_gof then
    local t = {}
    for g = 0, core.G.IMB_G_COUNT - 1 do t[g + 1] = self:key(layout.counter(P, K.IMB_K_GROUPS_OF, nil,
      core.names.gtype[g])) end
    push(self, concat(t, ","))
  else
    push(self, "")
  end
  local count_at = self.n + 1
  push(self, "0")
  local map, count = {}, 0
  local force = opts and opts.force
  for i = 0, n - 1 do
    local op = plan.op[i]
    local kind = op.kind
    local kc = KIND[kind]
    if not kc then error("imbill.gateway.redis: unknown operation " .. tostring(kind), 0) end
    if kind == O_FRESH and subj.event == nil then
      kc = nil -- an action without an id has nothing to be a duplicate of
    end
    if kc then
      local fc = FAILC[op.fail] or "-"
      local st, kidx
      local f, arg, bound, when = "", i64(op.arg), "", when_of(self, plan, subj, op)
      if SET_OPS[kind] then
        st, kidx, f = "s", self:key(set_key(P, plan, subj, op)), subject_id(plan, subj, op.member)
        arg = "0"
      elseif kind == O_FRESH then
        st, kidx, arg = "e", self:key(layout.event(P, subj.event)), tostring(self.ctx.dedup_ttl)
      elseif kind == OP.IMB_OP_LOG then
        st, kidx = "l", self:key(layout.group_log(P, subject_id(plan, subj, op.subject)))
      elseif kind == O_MARK then
        local user = subject_id(plan, subj, op.subject)
        local key = layout.activity(P, user, self.ctx.buckets)
        local m = opts and opts.mark
        if not m then error("imbill.gateway.redis: a login plan without its activity states", 0) end
        st, kidx, f, arg, bound = "a", self:key(key), user, m.new or "", m.expected
        when = (m.dn and self:key(layout.counter(P, K.IMB_K_DAU, plan.day)) or "0") .. ","
          .. (m.mn and self:key(layout.counter(P, K.IMB_K_MAU, plan.month)) or "0")
      elseif kind == OP.IMB_OP_CASCADE_USER then
        local u = subject_id(plan, subj, op.subject)
        st, kidx, f = "s", self:key(layout.joined(P, u)), u
        arg, bound, when = self:key(layout.friends(P, u)), P .. "gm:", P .. "uf:"
      elseif kind == OP.IMB_OP_COUNTED then
        -- the account's field, and the two sets whose members also count
        local u = subject_id(plan, subj, op.subject)
        st, kidx, f = value_key(self, plan, subj, op)
        arg, bound = self:key(layout.joined(P, u)), self:key(layout.friends(P, u))
      elseif kind == OP.IMB_OP_CASCADE_GROUP then
        local g = subject_id(plan, subj, op.subject)
        st, kidx, f, arg, bound, when = "s", self:key(layout.members(P, g)), g, "0", P .. "uj:", ""
      else
        st, kidx, f = value_key(self, plan, subj, op)
      end
      if kind == O_ADD or kind == O_SADD then
        if force then
          fc = "-"
        elseif op.by_type ~= 0 then
          bound = "T"
        elseif op.bound ~= UNLIMITED then
          bound = i64(op.bound)
        end
      end
      push(self, kc .. st .. fc)
      push(self, kidx)
      push(self, f)
      push(self, arg)
      push(self, bound)
      push(self, when)
      count = count + 1
      map[count] = i
    end
  end
  self.argv[count_at] = tostring(count)
  return map
end

--- A unit: steps = { { plan =, user =, peer =, group =, event =, mark = } },
-- applied in order, all or nothing when atomic.  cond: "" or "r=v,..." on
-- earlier instructions' registers.  Returns its handle (its register).
function Program:unit(steps, atomic, cond, force)
  self.nreg = self.nreg + 1
  local reg = self.nreg
  push(self, "U")
  push(self, cond or "")
  push(self, tostring(reg))
  push(self, atomic and "1" or "0")
  push(self, tostring(#steps))
  local maps = {}
  for i, s in ipairs(steps) do maps[i] = self:step(s.plan, s, { force = force, mark = s.mark }) end
  local h = { kind = "U", steps = steps, maps = maps, reg = reg }
  self.instr[#self.instr + 1] = h
  return h
end

local function plain(p, kind, cond, ...)
  p.nreg = p.nreg + 1
  local reg = p.nreg
  push(p, kind)
  push(p, cond or "")
  if kind ~= "Q" then push(p, tostring(reg)) end
  for i = 1, select("#", ...) do push(p, (select(i, ...))) end
  local h = { kind = kind, reg = reg }
  p.instr[#p.instr + 1] = h
  return h
end

local function reservation_keys(p)
  local rr, rm, rq = layout.reservations(p.P)
  return p:key(rr), p:key(rm), p:key(rq)
end

--- Records a reservation for `unit` if it applied: the record is the
-- interpreter's flags (which steps applied) and `text`.
function Program:reserve(unit, rid, match, deadline_ms, text)
  local rr, rm, rq = reservation_keys(self)
  return plain(self, "Q", "", tostring(unit.reg), rr, rm, rq, rid, match, sfmt("%d", deadline_ms), text)
end

--- Records a reservation for steps applied by an earlier program (n of
-- them, all applied): a REST stand-in whose answer was lost.
function Program:reserve_applied(n, rid, match, deadline_ms, text)
  local rr, rm, rq = reservation_keys(self)
  return plain(self, "Q", "", "=" .. string.rep("a", n), rr, rm, rq, rid, match, sfmt("%d", deadline_ms), text)
end

--- Confirms the oldest reservation waiting for `match`.
function Program:confirm(match, cond)
  local rr, rm, rq = reservation_keys(self)
  return plain(self, "C", cond, rr, rm, rq, match)
end

--- Takes reservation `rid` if its record is still `text`.
function Program:claim(rid, text, match, cond)
  local rr, rm, rq = reservation_keys(self)
  return plain(self, "K", cond, rr, rm, rq, rid, text, match)
end

--- Moves group `from` (its record, members and their memberships) to `to`
-- unless `to` is counted already.
function Program:rename(from, to, cond)
  local P = self.P
  return plain(self, "N", cond, self:key(layout.group(P, from)), self:key(layout.group(P, to)),
    self:key(layout.members(P, from)), self:key(layout.members(P, to)), P .. "uj:", from, to)
end

--- A login template: the login plan of a day, its compare-and-set left
-- open; L lines fill it per user.  Returns the plan op index of each
-- written op (to read a refusal).
function Program:login_template(plan, user)
  push(self, "T")
  return self:step(plan, { user = user }, { mark = { expected = "?", new = "" } })
end

--- One login of the template's day: expected "?" (unknown: the answer
-- carries the state), "=" (no state yet) or "=" .. state.
function Program:login(user, expected, new, dn, mn, day, month)
  local P = self.P
  local key = layout.activity(P, user, self.ctx.buckets)
  push(self, "L")
  push(self, self:key(key))
  push(self, user)
  push(self, new or "")
  push(self, expected)
  push(self, dn and self:key(layout.counter(P, K.IMB_K_DAU, day)) or "0")
  push(self, mn and self:key(layout.counter(P, K.IMB_K_MAU, month)) or "0")
  local h = { kind = "L" }
  self.instr[#self.instr + 1] = h
  return h
end

function Program:empty() return #self.instr == 0 end

---------------------------------------------------------------------------
-- Answers

local RESULT = { a = "applied", u = "unchanged", d = "duplicate", b = "rolled back", k = "skipped" }

--- A refusal from the interpreter's "r<op>:<max>:<held>:<type>".
function M.refusal(plan, map, text)
  local oi, max, held, gt = text:match("^r(%d+):([^:]*):([^:]*):(.*)$")
  local op = oi and plan.op[map[tonumber(oi) + 1]]
  if not op then error("imbill.gateway.redis: an answer the program cannot read: " .. text:sub(1, 60), 0) end
  local kind = op.kind
  local m
  if kind == O_ADD or kind == O_SADD then m = max ~= "" and tonumber(max) or UNLIMITED else m = tonumber(op.bound) end
  local code = tonumber(op.code)
  if code == core.R_CLOSED or code == core.R_FUTURE or m == nil then m = UNLIMITED end
  return { code = code, limit = tonumber(op.limit), max = m, current = tonumber(held) or 0,
           peer = op.subject == S.IMB_S_PEER and 1 or 0, gtype = gt ~= "" and tonumber(gt) or nil }
end

--- One step's answer as the shared-dict store gives it: { result =,
-- refusal = } (result "stale" with .state for a compare-and-set that found
-- another value: false for none).
function M.step_result(step, map, text)
  local c = text:sub(1, 1)
  local r = RESULT[c]
  if r then return { result = r } end
  if c == "r" then return { result = "refused", refusal = M.refusal(step.plan, map, text) } end
  if c == "s" then
    local state = false
    if #text > 1 then state = text:sub(3) end
    return { result = "stale", state = state }
  end
  error("imbill.gateway.redis: an answer the program cannot read: " .. text:sub(1, 60), 0)
end

--- A unit's answer: the steps' results, and the index of the refused one.
function M.unit_result(h, answer)
  local out, bad = {}, nil
  if type(answer) ~= "table" then
    for i = 1, #h.steps do out[i] = { result = "skipped" } end
    return out
  end
  for i, s in ipairs(h.steps) do
    local r = M.step_result(s, h.maps[i], answer[i])
    out[i] = r
    if r.result == "refused" and not bad then bad = i end
  end
  return out, bad
end

--- The interpreter's answer to instruction i (1-based).
function M.answer(reply, i) return reply[i + 1] end

M.i64 = i64
return M
