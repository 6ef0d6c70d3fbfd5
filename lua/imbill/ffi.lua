--- LuaJIT only: the batch path (imbill.totals) through the FFI.
-- The same core.so that `require "imbill.core"` loads also exports the plain C
-- ABI of src/pricing.h (IMB_API symbols).  A C-API call from a hot loop makes
-- LuaJIT leave compiled code for every element it reads; here the Lua arrays
-- are copied, a chunk at a time, into number buffers in loops the JIT
-- compiles, the core prices each chunk in one call (imb_totals_binary64, which
-- also checks every count), and the cents are copied back.
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
int imb_totals_binary64(const imb_rate *r, size_t n, const double *dau, size_t dau_step,
                        const double *groups, size_t groups_step, const double *mau,
                        size_t mau_step, double *out, size_t *bad, int *bad_field);
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
local RANGE = 2 -- IMB_ERANGE in src/status.h

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

-- A number used for every scenario: whole, >= 0, exact (checked here, so its
-- errors read as core.totals' do).
local function scalar(v, field)
  if v ~= v or v ~= floor(v) or v > EXACT or v < -EXACT then
    if v == v and v == floor(v) then
      fail("%s: %s is beyond 2^53 and cannot be exact on this runtime", field, show(v))
    end
    fail("%s: expected a whole number, got %s", field, show(v))
  end
  if v < 0 then fail("%s: must not be negative, got %s", field, show(v)) end
end

-- Scenarios go through the core CHUNK at a time.  The buffers hold LuaJIT
-- numbers as they are (IEEE-754 binary64): the core's imb_totals_binary64
-- reads their bit patterns, checks each is a whole number 0 <= v <= 2^53 and
-- writes the cents back the same way, exactly (all are below 2^53).  So the
-- loops here are plain copies the JIT compiles to a load and a store, and the
-- checks cost the C side a few integer operations.  The buffers are allocated
-- once and stay in cache; nothing in a chunk yields or calls back into Lua, so
-- sharing them is safe.
local CHUNK = 1024
local num_arr = ffi.typeof("double[?]")
local buf = { num_arr(CHUNK), num_arr(CHUNK), num_arr(CHUNK) }
local outbuf = num_arr(CHUNK)
local one = { num_arr(1), num_arr(1), num_arr(1) }
local bad, bad_field = size_1(), ffi.new("int[1]")

local ok_tnew, tnew = pcall(require, "table.new")
if not ok_tnew then tnew = function() return {} end end

local function bad_value(v)
  return type(v) ~= "number" or not (v >= 0 and v <= EXACT) or v ~= floor(v)
end

-- After the core refused a value in a chunk: find the first bad one scenario
-- by scenario, fields in order, and report it as core.totals does.
local function report(args, from, to)
  for i = from, to do
    for k = 1, 3 do
      local t = args[k]
      if type(t) == "table" and bad_value(t[i]) then
        fail("%s[%d]: expected a whole number >= 0, got %s", FIELDS[k], i, show(t[i]))
      end
    end
  end
end

-- Copies t[from .. from+len-1] into b; anything not a number becomes -1, which
-- the core refuses, so report() names it.
local function fill(t, b, from, len)
  for j = 0, len - 1 do
    local v = t[from + j]
    if type(v) ~= "number" then v = -1 end
    b[j] = v
  end
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
  -- what the core reads for each field: a chunk buffer (step 1), or one value
  -- for every scenario (step 0; nil is 0)
  local src, step = {}, {}
  for k = 1, 3 do
    local v = args[k]
    if type(v) == "table" then src[k], step[k] = buf[k], 1
    elseif v == nil then src[k], step[k] = nil, 0
    else
      one[k][0] = v
      src[k], step[k] = one[k], 0
    end
  end
  local res = tnew(n, 0)
  local from = 1
  while from <= n do
    local len = n - from + 1
    if len > CHUNK then len = CHUNK end
    for k = 1, 3 do
      if step[k] == 1 then fill(args[k], buf[k], from, len) end
    end
    local s = C.imb_totals_binary64(r, len, src[1], step[1], src[2], step[2], src[3], step[3], outbuf, bad,
      bad_field)
    if s ~= 0 then
      local at = from + tonumber(bad[0])
      if bad_field[0] >= 0 then report(args, from, from + len - 1) end
      if s == RANGE then
        -- the exact total, for the message, through the int64 entry point
        local d = ffi.new("int64_t[3]")
        for k = 1, 3 do
          local v = args[k]
          if type(v) == "table" then v = v[at] end
          d[k - 1] = v or 0
        end
        local o = int64_arr(1)
        C.imb_totals(r, 1, d, 0, d + 1, 0, d + 2, 0, o, bad)
        fail("scenario %d: the total %s cents exceeds 2^53 and cannot be exact on this runtime", at,
          (tostring(o[0]):gsub("LL$", "")))
      end
      fail("scenario %d: the total %s (peak_dau, groups_peak or mau too large)", at,
        ffi.string(C.imb_strerror(s)))
    end
    for j = 0, len - 1 do res[from + j] = outbuf[j] end
    from = from + len
  end
  -- the rate must outlive the calls above; this use keeps it reachable
  if rate == nil then return nil end
  return res
end

return { totals = totals }
