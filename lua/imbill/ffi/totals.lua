--- LuaJIT only: the batch path (imbill.totals) through the FFI.
-- The same core.so that `require "imbill.core"` loads also exports the plain C
-- ABI of include/imbill.h.  A C-API call from a hot loop makes
-- LuaJIT leave compiled code for every element it reads; here the Lua arrays
-- are copied, a chunk at a time, into int64_t buffers in loops the JIT
-- compiles, the core prices each chunk in one call (imb_totals_upto, which
-- also bounds every count by 2^53, and every total by what money holds, as
-- for core.totals), and the cents are copied back.
-- Same contract and error messages as core.totals (src/lua/pricing.c).
local ffi = require "ffi"
local core = require "imbill.core"

local C = require "imbill.ffi.lib"

local int64_arr = ffi.typeof("int64_t[?]")
local size_1 = ffi.typeof("size_t[1]")
local rate_ptr_t = ffi.typeof("const imb_rate *")
-- Above this a double no longer holds every whole number: such counts and
-- totals would not be exact, so they are errors, as in the C-API binding.
local EXACT = 2 ^ 53
-- the caller's arrays are read raw: no __index of theirs runs
local floor, type, tostring, tonumber, rawget = math.floor, type, tostring, tonumber, rawget

local FIELDS = { "peak_dau", "groups_peak", "mau" }
local RANGE = ffi.C.IMB_ERANGE

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

local errors = require "imbill.internal.errors"
local check = require "imbill.internal.check"
local NOVALUE = errors.NOVALUE
-- an error object naming the field; imbill.totals names itself
local function fail(field, msg, v) errors.raise(nil, field, msg, v) end

-- A number used for every scenario: whole, >= 0, exact (checked here, so its
-- errors read as core.totals' do).
local function scalar(v, field)
  if v ~= v or v ~= floor(v) or v > EXACT or v < -EXACT then
    -- worded as core.totals words it (batch_scalar); an infinity is no whole number
    if v == v and v == floor(v) and v ~= math.huge and v ~= -math.huge then
      fail(field, "is a float beyond 2^53, which cannot be exact", v)
    end
    fail(field, "expected a whole number", v)
  end
  if v < 0 then fail(field, "must not be negative", v) end
end

-- Scenarios go through the core CHUNK at a time, in int64_t buffers that are
-- allocated once and stay in cache (nothing in a chunk yields or calls back
-- into Lua, so sharing them is safe).  The copy into a buffer converts each
-- number by truncation, so the loop must first know it is whole: v + MAGIC -
-- MAGIC rounds v to a whole number when |v| < 2^51, so it equals v exactly
-- when v is whole.  That costs two additions where math.floor costs a
-- rounding instruction that is several times slower, and one test covers a
-- scenario's three values (a sum of absolute differences is 0 only when each
-- is).  The test never passes a fraction, a NaN or an infinity; what it does
-- refuse that is whole (|v| >= 2^51) gets report()'s full check and passes.
-- Whole numbers out of range (negative, or beyond 2^53 where numbers are no
-- longer exact) convert to int64_t values the core refuses by its bound.
local CHUNK = 512
local buf = { int64_arr(CHUNK), int64_arr(CHUNK), int64_arr(CHUNK) }
local outbuf = int64_arr(CHUNK)
local one = { int64_arr(1), int64_arr(1), int64_arr(1) }
local bad, bad_field = size_1(), ffi.new("int[1]")
local MAGIC = 2 ^ 52 + 2 ^ 51
-- chunks between two calls of the stop hook: 8,192 scenarios, a few ms
local POLL_EVERY = 16
local check_stop = core.check_stop
local abs = math.abs

local ok_tnew, tnew = pcall(require, "table.new")
if not ok_tnew then tnew = function() return {} end end

-- a boxed 64-bit integer (5LL, 5ULL) is the count it holds, exactly (the
-- copy into an int64_t buffer keeps it); nil for any other value
local cdata_number = check.cdata_number

local function bad_value(v)
  if type(v) == "cdata" then
    local n = cdata_number(v)
    return n == nil or n < 0
  end
  return type(v) ~= "number" or not (v >= 0 and v <= EXACT) or v ~= floor(v)
end

-- After the core refused a value in a chunk: find the first bad one scenario
-- by scenario, fields in order, and report it as core.totals does.
local function report(args, from, to)
  for i = from, to do
    for k = 1, 3 do
      local t = args[k]
      if type(t) == "table" and bad_value(rawget(t, i)) then
        local v = rawget(t, i)
        local at = FIELDS[k] .. "[" .. i .. "]"
        if type(v) == "number" and v > EXACT and v == floor(v) and v ~= math.huge then
          fail(at, errors.show(v) .. " is a float beyond 2^53, which cannot be exact", NOVALUE)
        end
        if type(v) == "cdata" then check.from_cdata(nil, at, v, "expected a whole number >= 0") end
        fail(at, "expected a whole number >= 0", v)
      end
    end
  end
end

-- Copies one field, or all three at once (the usual call: one loop, one test).
-- A value the quick test does not pass gets report()'s full check, which
-- raises for a bad one (the earlier fields of its scenario first, as
-- core.totals reports) and lets a whole number from 2^51 to 2^53 through.
local function fill1(args, t, b, from, len)
  for j = 0, len - 1 do
    local v = rawget(t, from + j)
    if type(v) ~= "number" or abs(v + MAGIC - MAGIC - v) ~= 0 then
      report(args, from + j, from + j)
    end
    b[j] = v
  end
end

local function fill3(args, from, len)
  local t1, t2, t3 = args[1], args[2], args[3]
  local b1, b2, b3 = buf[1], buf[2], buf[3]
  for j = 0, len - 1 do
    local i = from + j
    local d, g, m = rawget(t1, i), rawget(t2, i), rawget(t3, i)
    if type(d) ~= "number" or type(g) ~= "number" or type(m) ~= "number"
        or abs(d + MAGIC - MAGIC - d) + abs(g + MAGIC - MAGIC - g) + abs(m + MAGIC - MAGIC - m) ~= 0 then
      report(args, i, i)
    end
    b1[j], b2[j], b3[j] = d, g, m
  end
end

-- The prices of one chunk on one edition failed: the error, as core.totals
-- raises it (naming the edition, "on NAME, ", when there are several): the
-- value whose line alone is more than money holds, else the scenario's total.
local CHARGES = { "dau", "groups", "mau" }
local function chunk_error(s, r, rate, args, at, on)
  if bad_field[0] >= 0 then report(args, at, at) end
  local d = int64_arr(3)
  local v = {}
  for k = 1, 3 do
    local x = args[k]
    if type(x) == "table" then x = rawget(x, at) end
    if type(x) == "cdata" then x = cdata_number(x) end -- checked whole and within 2^53 before
    v[k] = x or 0
    d[k - 1] = v[k]
  end
  for k = 1, 3 do
    -- core.charge refuses a line beyond money's range, as imbill.invoice does
    if not pcall(core.charge, rate, CHARGES[k], v[k]) then
      local field = type(args[k]) == "table" and FIELDS[k] .. "[" .. at .. "]" or FIELDS[k]
      fail(field, on .. string.format("%.0f", v[k]) .. " gives a charge that does not fit in 64 bits", NOVALUE)
    end
  end
  if s == RANGE then
    -- the exact total, for the message: the month's arithmetic, unbounded
    local o = int64_arr(1)
    C.imb_month_total(r, d[0], d[1], d[2], o)
    fail("scenario " .. at, on .. "the total " .. (tostring(o[0]):gsub("LL$", ""))
      .. " cents is more than money holds (at most 9223372036854.775807)", NOVALUE)
  end
  fail("scenario " .. at, on .. "the total " .. ffi.string(C.imb_strerror(s)) .. " (peak_dau, groups_peak or mau too large)",
    NOVALUE)
end

--- many(rates, dau, groups, mau, names) -> { { cents, ... }, ... }: the same
-- scenarios on each rate; each chunk is copied in once for all of them.
local function many(rates, dau, groups, mau, names)
  local nr = #rates
  local rs = {}
  for e = 1, nr do rs[e] = rate_of(rates[e]) end
  local args = { dau, groups, mau }
  local n = -1
  local arrays = 0
  local sized -- the field whose array gave n
  for k = 1, 3 do
    local v = args[k]
    local t = type(v)
    if t == "table" then
      local len = #v
      if n >= 0 and len ~= n then
        fail(FIELDS[k], string.format("has %d scenario%s where %s has %d", len, len == 1 and "" or "s", sized, n), NOVALUE)
      end
      if n < 0 then sized = FIELDS[k] end
      n = len
      arrays = arrays + 1
    elseif t == "number" then
      scalar(v, FIELDS[k])
    elseif t == "cdata" then
      local x = check.from_cdata(nil, FIELDS[k], v, "expected an array of whole numbers or a number")
      scalar(x, FIELDS[k])
      args[k] = x
    elseif t ~= "nil" then
      fail(FIELDS[k], "expected an array of whole numbers or a number", v)
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
  local res = {}
  for e = 1, nr do res[e] = tnew(n, 0) end
  local from = 1
  local polls = POLL_EVERY - 1
  while from <= n do
    -- The stop hook (core.set_stop, the notebook's interrupt) between chunks:
    -- this loop is compiled, where no debug hook runs.  The hook may run Lua
    -- that prices, so it comes before the buffers are filled, and the one
    -- value a field gives every scenario is written again after it.
    polls = polls + 1
    if polls == POLL_EVERY then
      polls = 0
      check_stop()
      for k = 1, 3 do
        if step[k] == 0 and args[k] ~= nil then one[k][0] = args[k] end
      end
    end
    local len = n - from + 1
    if len > CHUNK then len = CHUNK end
    if arrays == 3 then
      fill3(args, from, len)
    else
      for k = 1, 3 do
        if step[k] == 1 then fill1(args, args[k], buf[k], from, len) end
      end
    end
    -- the first scenario that cannot be priced, on the first edition that cannot
    local first_at, first_e, first_s, first_field
    for e = 1, nr do
      local s = C.imb_totals_upto(rs[e], len, src[1], step[1], src[2], step[2], src[3], step[3], EXACT, outbuf,
        bad, bad_field)
      if s ~= 0 then
        local at = from + tonumber(bad[0])
        if not first_at or at < first_at then first_at, first_e, first_s, first_field = at, e, s, bad_field[0] end
      else
        local out = res[e]
        for j = 0, len - 1 do out[from + j] = tonumber(outbuf[j]) end
      end
    end
    if first_at then
      bad_field[0] = first_field
      chunk_error(first_s, rs[first_e], rates[first_e], args, first_at,
        nr > 1 and names and ("on " .. names[first_e] .. ", ") or "")
    end
    from = from + len
  end
  -- the rates must outlive the calls above; this use keeps them reachable
  if rates[nr] == nil then return nil end
  return res
end

--- totals(rate, dau, groups, mau) -> { cents, ... }: each input an array (one
-- value per scenario), a number (every scenario) or nil (0).
local function totals(rate, dau, groups, mau)
  return many({ rate }, dau, groups, mau)[1]
end

return { totals = totals, many = many }
