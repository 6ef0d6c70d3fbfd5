--- LuaJIT only: m:logins through the FFI.
--
--     local logins = require("imbill.ffi.meter").logins
--     local counted = logins(m, users, times)      -- same as m:logins(users, times)
--
-- A C-API call from a hot loop makes LuaJIT leave compiled code for every
-- element it reads (`lua_rawgeti`, `lua_tolstring`); here a loop the JIT compiles
-- copies each chunk's string pointers, lengths and times into C arrays and
-- the core counts the chunk in one call (`imb_meter_logins`).
--
-- The same contract as `m:logins` (src/lua/meter.c), and the same checks:
-- elements are read raw (no __index runs), every element is checked before
-- any is counted, and a bad one gets the error `m:logins` gives, from `m:logins`
-- itself.  A core failure (out of memory) part-way is raised as m:logins
-- raises it and leaves what m:logins leaves: the logins before the failing
-- one counted, the rest not (a retry of the same call counts each once).
-- The meter is reached through the binding's accessor, and each
-- chunk's strings are anchored in a table of ours while the core reads them,
-- so no metamethod or collection can free a string or the meter under it.
local ffi = require "ffi"
local core = require "imbill.core"
local errors = require "imbill.internal.errors"
local C = require "imbill.ffi.lib"
local Meter = core.methods
local impl = core.meter_impl

local CHUNK = 1024
local ID_MAX = C.IMB_ID_MAX
local T_LO, T_END = core.INSTANT_MIN, core.INSTANT_END

local ids = ffi.new("const char *[?]", CHUNK)
local lens = ffi.new("size_t[?]", CHUNK)
local ts = ffi.new("int64_t[?]", CHUNK)
local counted = ffi.new("size_t[1]")
local bad = ffi.new("size_t[1]")
local type, floor, error, tonumber, pcall, rawget = type, math.floor, error, tonumber, pcall, rawget
-- the anchor is sized once, so filling it allocates nothing (an allocation
-- could run a finalizer, which could change the users table under us)
local ok_tnew, tnew = pcall(require, "table.new")
local function new_anchor() return ok_tnew and tnew(CHUNK, 0) or {} end

local M = {}

-- m:logins itself, for what this path does not take: its answer, or its
-- error as it raises it.
local function capi(m, users, times)
  local ok, r = pcall(Meter.logins, m, users, times)
  if not ok then error(r, 0) end
  return r
end

local function good(u, t)
  local len = type(u) == "string" and #u or 0
  return len > 0 and len <= ID_MAX and type(t) == "number" and t == floor(t) and t >= T_LO and t < T_END
end

--- Counts many logins of a meter, as `m:logins(users, times)` does, with the
-- same answers and the same errors.
-- @tparam Meter m the meter (`imbill.meter`)
-- @tparam {string,...} users user ids
-- @tparam {int,...} times one instant per user, whole Unix seconds
-- @treturn int how many logins were counted (or already counted that day)
-- @raise `meter:logins: users[i]: ...` or `times[i]: ...` for a bad element (nothing counted),
-- `meter:logins: self: the meter was closed`
-- @usage local counted = require("imbill.ffi.meter").logins(m, { "u1", "u2" }, { t, t + 60 })
function M.logins(m, users, times)
  if not impl.is_meter(m) or type(users) ~= "table" or type(times) ~= "table" or #users ~= #times then
    return capi(m, users, times)
  end
  local n = #users
  -- every element first: a bad one anywhere counts nothing
  for i = 1, n do
    if not good(rawget(users, i), rawget(times, i)) then return capi(m, users, times) end
  end
  local anchor = new_anchor()
  local total = 0
  for base = 1, n, CHUNK do
    local k = n - base + 1 < CHUNK and n - base + 1 or CHUNK
    for j = 0, k - 1 do
      local u = rawget(users, base + j)
      anchor[j + 1] = u
      ids[j], lens[j], ts[j] = u, #u, rawget(times, base + j)
    end
    -- reached through the accessor just before the call: nil once closed.
    -- Nothing allocates between the two (a cast would make a cdata, and an
    -- allocation may run a finalizer that closes the meter): the FFI takes
    -- the light userdata as the pointer argument itself.
    local h = impl.handle(m)
    if h == nil then return capi(m, users, times) end
    local st = C.imb_meter_logins(h, ids, lens, ts, k, counted, bad)
    if st ~= 0 then errors.raise("meter:logins", nil, ffi.string(C.imb_strerror(st)), errors.NOVALUE) end
    total = total + tonumber(counted[0])
  end
  return total
end

return M
