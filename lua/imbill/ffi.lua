--- LuaJIT only: the batch path (imbill.totals) through the FFI.
-- The same core.so that `require "imbill.core"` loads also exports the plain C
-- ABI of src/pricing.h (IMB_API symbols).  A C-API call from a hot loop makes
-- LuaJIT leave compiled code for every element it reads; here the Lua arrays
-- are copied into int64_t buffers in a loop the JIT compiles, the core is
-- called once for all scenarios, and the cents are copied back.
-- Same contract and error messages as core.totals (src/lua_pricing.c).
local ffi = require "ffi"
local core = require "imbill.core"

local path = package.searchpath and package.searchpath("imbill.core", package.cpath)
if not path then error("imbill.ffi: imbill.core not found on package.cpath", 0) end

-- Mirrors src/pricing.h; the C ABI is kept stable for this binding.
ffi.cdef [[
typedef struct imb_charge { int64_t free; int64_t block; int64_t price; } imb_charge;
typedef struct imb_rate {
  int64_t monthly_fee;
  int is_free;
  imb_charge dau, groups, mau;
} imb_rate;
int imb_totals(const imb_rate *r, size_t n, const int64_t *dau, size_t dau_step,
               const int64_t *groups, size_t groups_step, const int64_t *mau,
               size_t mau_step, int64_t *out, size_t *bad);
const char *imb_strerror(int s);
]]

local C = ffi.load(path)

local int64_arr = ffi.typeof("int64_t[?]")
local size_1 = ffi.typeof("size_t[1]")
local rate_ptr_t = ffi.typeof("const imb_rate *")
-- Above this a double no longer holds every whole number: such counts and
-- totals would not be exact, so they are errors, as in the C-API binding.
local EXACT = 2 ^ 53
local floor, type, tostring, tonumber, error = math.floor, type, tostring, tonumber, error

local FIELDS = { "peak_dau", "groups_peak", "mau" }

-- The imb_rate inside a rate userdata.  Weak keys: a pointer is cached only
-- while its userdata lives, and each call keeps the userdata (its argument)
-- alive until the C call has returned.
local ptrs = setmetatable({}, { __mode = "k" })
local function rate_of(rate)
  local p = ptrs[rate]
  if not p then
    p = ffi.cast(rate_ptr_t, core.rate_ptr(rate))
    ptrs[rate] = p
  end
  return p
end

local function show(v)
  local t = type(v)
  if t == "number" or t == "string" then return tostring(v) end
  return t
end

local function fail(fmt, ...) error(string.format(fmt, ...), 0) end

-- A number used for every scenario: whole, >= 0, exact.
local function scalar(v, field)
  if v ~= v or v ~= floor(v) or v > EXACT or v < -EXACT then
    if v == v and v == floor(v) then
      fail("%s: %s is beyond 2^53 and cannot be exact on this runtime", field, show(v))
    end
    fail("%s: expected a whole number, got %s", field, show(v))
  end
  if v < 0 then fail("%s: must not be negative, got %s", field, show(v)) end
  local b = int64_arr(1)
  b[0] = v
  return b
end

-- An array copied into a buffer; the checks are those of core.totals.
local function fill(t, n, field)
  local b = int64_arr(n)
  for i = 1, n do
    local v = t[i]
    if type(v) ~= "number" or not (v >= 0 and v <= EXACT) or v ~= floor(v) then
      fail("%s[%d]: expected a whole number >= 0, got %s", field, i, show(v))
    end
    b[i - 1] = v
  end
  return b
end

--- totals(rate, dau, groups, mau) -> { cents, ... }: each input an array (one
-- value per scenario), a number (every scenario) or nil (0).
local function totals(rate, dau, groups, mau)
  local r = rate_of(rate)
  local args = { dau, groups, mau }
  local n = -1
  for k = 1, 3 do
    local v = args[k]
    local t = type(v)
    if t == "table" then
      local len = #v
      if n >= 0 and len ~= n then
        fail("%s: has %d scenarios where an earlier array has %d", FIELDS[k], len, n)
      end
      n = len
    elseif t == "number" then
      scalar(v, FIELDS[k])
    elseif t ~= "nil" then
      fail("%s: expected an array of whole numbers or a number, got %s", FIELDS[k], show(v))
    end
  end
  if n < 0 then n = 1 end
  local bufs, steps = {}, {}
  for k = 1, 3 do
    local v = args[k]
    if type(v) == "table" then
      bufs[k], steps[k] = fill(v, n, FIELDS[k]), 1
    elseif v == nil then
      bufs[k], steps[k] = nil, 0
    else
      bufs[k], steps[k] = scalar(v, FIELDS[k]), 0
    end
  end
  local out = int64_arr(n > 0 and n or 1)
  local bad = size_1()
  local s = C.imb_totals(r, n, bufs[1], steps[1], bufs[2], steps[2], bufs[3], steps[3], out, bad)
  if s ~= 0 then
    fail("scenario %d: the total %s (peak_dau, groups_peak or mau too large)", tonumber(bad[0]) + 1,
      ffi.string(C.imb_strerror(s)))
  end
  local res = {}
  for i = 0, n - 1 do
    local c = out[i]
    if c > EXACT then
      fail("scenario %d: the total %s cents exceeds 2^53 and cannot be exact on this runtime", i + 1,
        (tostring(c):gsub("LL$", "")))
    end
    res[i + 1] = tonumber(c)
  end
  -- the rate must outlive the call above; this use keeps it reachable
  if rate == nil then return nil end
  return res
end

return { totals = totals }
