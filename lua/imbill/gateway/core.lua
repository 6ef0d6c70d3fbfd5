--- The C core as the gateway sees it, through LuaJIT's FFI: the plan builder,
-- its undo, a login's activity mark, a day's group peak, and the names of the
-- core's enumerations.  The gateway never decides a quota question itself;
-- everything here hands the question to the core and returns its answer.
local ffi = require "ffi"
require "imbill.ffi.cdef"

local M = {}

local C_NS = ffi.C
local lib

--- Loads the core's shared object: `path`, or imbill.core on package.cpath.
function M.load(path)
  if lib then return lib end
  path = path or (package.searchpath and package.searchpath("imbill.core", package.cpath))
  if not path then error("imbill.gateway: imbill.core not found on lua_package_cpath", 0) end
  local ok, l = pcall(ffi.load, path)
  if not ok then error("imbill.gateway: cannot load the imbill core " .. path .. ": " .. tostring(l), 0) end
  local has = pcall(function() return l.imb_plan_build, l.imb_action_parts end)
  if not has then error("imbill.gateway: " .. path .. " has no imb_action_parts (an older core)", 0) end
  lib = l
  M.C = l
  return l
end

-- Enumerations, read from the declarations so they cannot drift.
local function enum(names)
  local t = {}
  for _, n in ipairs(names) do t[n] = tonumber(C_NS[n]) end
  return t
end

M.OP = enum { "IMB_OP_EQ", "IMB_OP_NE", "IMB_OP_LE", "IMB_OP_GE", "IMB_OP_HAS", "IMB_OP_LACKS", "IMB_OP_FRESH",
              "IMB_OP_ADD", "IMB_OP_SET", "IMB_OP_MAX", "IMB_OP_SADD", "IMB_OP_SREM", "IMB_OP_LOG", "IMB_OP_MARK",
              "IMB_OP_CASCADE_USER", "IMB_OP_CASCADE_GROUP", "IMB_OP_COUNTED" }
M.K = enum { "IMB_K_ACCOUNT", "IMB_K_ACCOUNTS", "IMB_K_GROUP", "IMB_K_GROUP_T", "IMB_K_GROUPS", "IMB_K_GROUPS_OF",
             "IMB_K_GROUPS_NON_AV", "IMB_K_DAY_NET", "IMB_K_DAY_NET_SAME", "IMB_K_DAY_BCHAT", "IMB_K_MEMBERS",
             "IMB_K_JOINED", "IMB_K_FRIENDS", "IMB_K_DAU", "IMB_K_MAU", "IMB_K_ACTIVITY", "IMB_K_LAST_DAY",
             "IMB_K_RELEASED", "IMB_K_GROUP_LOG", "IMB_K_EVENT", "IMB_K_COUNT" }
M.S = enum { "IMB_S_APP", "IMB_S_USER", "IMB_S_PEER", "IMB_S_GROUP", "IMB_S_DAY", "IMB_S_MONTH", "IMB_S_EVENT" }
M.W = enum { "IMB_W_ALWAYS", "IMB_W_GROUP_NON_AV", "IMB_W_GROUP_TODAY", "IMB_W_USER_ACCOUNT" }
M.FAIL = enum { "IMB_FAIL_NONE", "IMB_FAIL_REFUSE", "IMB_FAIL_NOOP", "IMB_FAIL_DUPLICATE" }
M.A = enum { "IMB_A_CREATE_ACCOUNT", "IMB_A_DELETE_ACCOUNT", "IMB_A_LOGIN", "IMB_A_CREATE_GROUP",
             "IMB_A_DISBAND_GROUP", "IMB_A_JOIN", "IMB_A_LEAVE", "IMB_A_ADD_FRIEND", "IMB_A_REMOVE_FRIEND",
             "IMB_A_ADD_FRIEND_ONE_WAY", "IMB_A_REMOVE_FRIEND_ONE_WAY", "IMB_A_ADD_FRIEND_BACK",
             "IMB_A_REMOVE_FRIEND_BACK" }
M.G = enum { "IMB_G_PRIVATE", "IMB_G_PUBLIC", "IMB_G_CHATROOM", "IMB_G_AVCHATROOM", "IMB_G_BCHATROOM",
             "IMB_G_COMMUNITY", "IMB_G_COUNT" }
M.L = enum { "IMB_L_NONE", "IMB_L_ACCOUNTS", "IMB_L_FRIENDS_PER_USER", "IMB_L_GROUPS_PER_USER",
             "IMB_L_MEMBERS_PER_GROUP", "IMB_L_AV_GROUPS", "IMB_L_NON_AV_GROUPS", "IMB_L_DAILY_NET_GROUPS",
             "IMB_L_BCHATROOM_DAILY", "IMB_L_BCHATROOM_TOTAL", "IMB_L_GROUP_EXISTS", "IMB_L_GROUP_ID",
             "IMB_L_DAY_OPEN", "IMB_L_FEATURE", "IMB_L_FUTURE", "IMB_L_COUNT" }
M.UNLIMITED = tonumber(C_NS.IMB_UNLIMITED)
M.NO_DAY = tonumber(C_NS.IMB_NO_DAY)
-- an instant before every instant the calendar takes (its first day, less a
-- day for the widest offset)
M.INSTANT_BASE = (tonumber(C_NS.IMB_DAY_MIN) - 1) * 86400
M.GTYPE_OF_GROUP = tonumber(C_NS.IMB_GTYPE_OF_GROUP)
M.R_CLOSED = tonumber(C_NS.IMB_R_CLOSED)
M.R_FUTURE = tonumber(C_NS.IMB_R_FUTURE)
M.DEDUP_DAYS = tonumber(C_NS.IMB_DEDUP_DAYS)
M.ACTIVITY_BYTES = tonumber(C_NS.IMB_ACTIVITY_BYTES)
M.ID_MAX = tonumber(C_NS.IMB_ID_MAX)
M.PLAN_MAX = tonumber(C_NS.IMB_PLAN_MAX)
M.F_COUNT = tonumber(C_NS.IMB_F_COUNT)
M.INT64_MIN = ffi.new("int64_t", -9223372036854775807LL - 1)

M.plan_t = ffi.typeof("imb_plan")
M.limits_t = ffi.typeof("imb_limits")
local activity_t = ffi.typeof("imb_activity")
local int_box = ffi.typeof("int[1]")
local i64_box = ffi.typeof("int64_t[1]")
local u8_buf = ffi.typeof("unsigned char[?]")

local function cstr(p)
  if p == nil then return nil end
  return ffi.string(p)
end

-- Names, filled once the library is loaded.
local names = { gtype = {}, gtype_id = {}, limit = {}, key = {}, action = {}, feature = {}, feature_id = {} }
M.names = names

function M.init(path)
  local l = M.load(path)
  for g = 0, M.G.IMB_G_COUNT - 1 do
    local n = cstr(l.imb_gtype_name(g))
    names.gtype[g] = n
    names.gtype_id[n] = g
  end
  for i = 0, M.L.IMB_L_COUNT - 1 do names.limit[i] = cstr(l.imb_limit_name(i)) end
  for i = 0, M.K.IMB_K_COUNT - 1 do names.key[i] = cstr(l.imb_key_name(i)) end
  for _, k in pairs(M.A) do names.action[k] = cstr(l.imb_action_name(k)) end
  for f = 0, M.F_COUNT - 1 do
    local n = cstr(l.imb_feature_name(f))
    names.feature[f] = n
    names.feature_id[n] = f
  end
  return l
end

--- imb_limits from the table imbill.meter.limits() makes and an edition's
-- features (a function name -> boolean).
function M.limits(t, supports)
  local l = M.limits_t()
  lib.imb_limits_unlimited(l)
  for _, k in ipairs { "accounts", "friends_per_user", "groups_per_user", "av_groups", "non_av_groups",
                       "daily_net_groups", "bchatroom_daily", "bchatroom_total" } do
    if t[k] then l[k] = t[k] end
  end
  for g = 0, M.G.IMB_G_COUNT - 1 do
    local v = t.members and t.members[names.gtype[g]]
    if v then l.members[g] = v end
  end
  local bits = 0
  for f = 0, M.F_COUNT - 1 do
    if supports(names.feature[f]) then bits = bit.bor(bits, bit.lshift(1, f)) end
  end
  l.features = bits
  l.same_day_disbands = t.same_day_disbands and 1 or 0
  return l
end

--- The plan of one action, written into `out` (an imb_plan).  Returns true,
-- or nil and the core's status text for an action it cannot plan (an
-- instant outside the calendar).
function M.build(limits, kind, gtype, t, offset, has_id, now, out)
  local st = lib.imb_plan_build(limits, kind, gtype or 0, t, offset, has_id and 1 or 0, now or M.INT64_MIN, out)
  if st ~= 0 then return nil, cstr(lib.imb_strerror(st)) end
  return true
end

local parts_buf = ffi.new("int32_t[?]", tonumber(C_NS.IMB_PARTS_MAX))
local parts_of = {} -- kind -> its parts, asked of the core once (every step asks)

--- The kinds an action is applied as (imb_action_parts): a two-way friendship
-- action's two one-way sides, each planned and judged on its own and applied
-- together, all or nothing; any other action, itself.  A list of kinds,
-- shared: not to be changed.
function M.parts(kind)
  local out = parts_of[kind]
  if out then return out end
  local n = lib.imb_action_parts(kind, parts_buf)
  out = {}
  for i = 0, n - 1 do out[i + 1] = tonumber(parts_buf[i]) end
  parts_of[kind] = out
  return out
end

function M.undo(plan, out)
  local st = lib.imb_plan_undo(plan, out)
  if st ~= 0 then return nil, cstr(lib.imb_strerror(st)) end
  return true
end

local act = activity_t()
local day_new, month_new = int_box(), int_box()
local act_buf = u8_buf(16)

--- A login of `day` (in `month`) against a user's encoded activity (nil:
-- none).  Returns the new encoding, day_new, month_new; or nil, "closed"
-- when the day is too old for the state, or nil, "corrupt".
function M.mark(encoded, day, month)
  if encoded then
    if lib.imb_activity_decode(encoded, #encoded, act) ~= 0 then return nil, "corrupt" end
  else
    act.last, act.months, act.days = M.NO_DAY, 0, 0
  end
  if lib.imb_activity_mark(act, day, month, day_new, month_new) ~= 0 then return nil, "closed" end
  lib.imb_activity_encode(act, act_buf)
  return ffi.string(act_buf, M.ACTIVITY_BYTES), day_new[0] ~= 0, month_new[0] ~= 0
end

--- The peak and close of a day from its opening count and its log entries
-- (arrays of instants and deltas, 1-based Lua tables).
function M.day_peak(open, ts, deltas)
  local n = #ts
  local cts, cdl = ffi.new("int64_t[?]", n > 0 and n or 1), ffi.new("int64_t[?]", n > 0 and n or 1)
  for i = 1, n do cts[i - 1], cdl[i - 1] = ts[i], deltas[i] end
  local peak, close = i64_box(), i64_box()
  local st = lib.imb_day_peak(open, cts, cdl, n, peak, close)
  if st ~= 0 then return nil, cstr(lib.imb_strerror(st)) end
  return tonumber(peak[0]), tonumber(close[0])
end

function M.day_of(t, offset)
  local d = ffi.new("int32_t[1]")
  if lib.imb_day_of(t, offset, d) ~= 0 then return nil end
  return d[0]
end

function M.month_first_day(month) return lib.imb_month_first_day(month) end
function M.month_length(month) return lib.imb_month_length(month) end
function M.month_of_day(day) return lib.imb_month_of_day(day) end

return M
