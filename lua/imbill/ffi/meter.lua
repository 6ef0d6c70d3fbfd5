--- LuaJIT only: m:logins through the FFI.
--   local logins = require("imbill.ffi.meter").logins
--   local counted = logins(m, users, times)      -- same as m:logins(users, times)
-- A C-API call from a hot loop makes LuaJIT leave compiled code for every
-- element it reads (lua_rawgeti, lua_tolstring); here a loop the JIT compiles
-- copies each chunk's string pointers, lengths and times into C arrays and
-- the core counts the chunk in one call (imb_meter_logins in the same core.so,
-- an IMB_API symbol).  Same contract as m:logins (src/lua_meter.c): chunks of
-- 1024; a chunk holding a bad element is not counted, the chunks before it
-- are, and the error is the one m:logins raises (it is raised by m:logins
-- itself on that element).
local ffi = require "ffi"
local core = require "imbill.core"

local path = package.searchpath and package.searchpath("imbill.core", package.cpath)
if not path then error("imbill.ffi.meter: imbill.core not found on package.cpath", 0) end

require "imbill.ffi.cdef"
-- The binding's userdata starts with the core's meter pointer (NULL once closed).
ffi.cdef "typedef struct imbill_lmeter { imb_meter *m; } imbill_lmeter;"

local C = ffi.load(path)
local Meter = core.Meter

local CHUNK = 1024
local ID_MAX = ffi.C.IMB_ID_MAX
-- years 1..9999 in UTC, as Unix seconds (src/lua_meter.c check_time); both
-- bounds are far inside 2^53, so a number between them that is whole is exact
local T_LO, T_HI = -719161 * 86400, 2932896 * 86400
local ENOMEM = ffi.C.IMB_ENOMEM

local ids = ffi.new("const char *[?]", CHUNK)
local lens = ffi.new("size_t[?]", CHUNK)
local ts = ffi.new("int64_t[?]", CHUNK)
local counted = ffi.new("size_t[1]")
local lm_ptr = ffi.typeof("imbill_lmeter *")
local type, floor, getmetatable, error, tonumber, pcall = type, math.floor, getmetatable, error, tonumber, pcall

local M = {}

-- m:logins itself, for what the FFI path does not take: its answer, or its
-- error as it raises it (a C function called by pcall has no position to add).
local function capi(m, users, times)
  local ok, r = pcall(Meter.logins, m, users, times)
  if not ok then error(r, 0) end
  return r
end

function M.logins(m, users, times)
  local mt = type(m) == "userdata" and getmetatable(m)
  if not mt or mt.__index ~= Meter then
    return capi(m, users, times) -- raises the C binding's error for a non-meter
  end
  if type(users) ~= "table" or type(times) ~= "table" or #users ~= #times then
    return capi(m, users, times)
  end
  local lm = ffi.cast(lm_ptr, m)
  if lm.m == nil then return capi(m, users, times) end
  local n, total = #users, 0
  for base = 1, n, CHUNK do
    local k = n - base + 1 < CHUNK and n - base + 1 or CHUNK
    for j = 0, k - 1 do
      local u, t = users[base + j], times[base + j]
      local len = type(u) == "string" and #u or 0
      if len == 0 or len > ID_MAX or type(t) ~= "number" or t ~= floor(t) or t < T_LO or t >= T_HI then
        -- the same message as m:logins, from m:logins; nothing of this chunk counts
        capi(m, { u }, { t })
        error("imbill.meter_ffi: logins: bad element accepted by m:logins", 0)
      end
      -- the strings stay alive in the users table while the core reads them
      ids[j], lens[j], ts[j] = u, len, t
    end
    local st = C.imb_meter_logins(lm.m, ids, lens, ts, k, counted)
    if st ~= 0 then
      if st == ENOMEM then error("meter:logins: out of memory", 0) end
      error("meter:logins: " .. ffi.string(C.imb_strerror(st)), 0)
    end
    total = total + tonumber(counted[0])
  end
  return total
end

return M
