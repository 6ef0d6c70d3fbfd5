--- Scenario columns (imbill.column): int64 values held in C memory, counts
-- in and cents out, that millions of scenarios are built in, priced from
-- (imbill.totals) and summarised without a Lua value per scenario.
-- docs/columns.md is the reference.
--
--   local dau = imbill.column { from = 50, to = 1000000, step = 1 }
--   local cents = imbill.totals { book = "2020", edition = "pro", peak_dau = dau,
--                                 groups_peak = dau * "1.5" + 120000 }
--   cents:min(), cents:percentile(95), cents:sum(), cents:get(7), #cents
--
-- The values and the element loops live in C (src/lua/column.c); on LuaJIT the
-- element-by-element methods run through the FFI (imbill.ffi.column).
local core = require "imbill.core"
local check = require "imbill.internal.check"
local errors = require "imbill.internal.errors"
local int = require "imbill.internal.integer"

local M = {}
local FN = "imbill.column"
local EXACT = 2 ^ 53

local meta = core.column_meta()
local methods = meta.methods
local is = core.is_column
--- Whether x is a column (`imbill.column`, a grid's `g:column()`, a result of `imbill.totals`).
-- @param x any value
-- @treturn boolean
-- @function is
M.is = is

local ffi_column
if rawget(_G, "jit") then
  local ok, m = pcall(require, "imbill.ffi.column")
  if ok then ffi_column = m end
end

-- An array with a hole has more than one length (#); where table.maxn exists
-- (LuaJIT) a value past # shows it, as imbill.totals checks.
local maxn = rawget(table, "maxn")
local function no_hole(fn, field, t)
  if maxn and maxn(t) > check.len(t) then
    check.fail(fn, field .. "[" .. (check.len(t) + 1) .. "]", "expected a whole number", nil)
  end
end

--- A column from a Lua array: the values copied once (whole numbers; on
-- LuaJIT at most 2^53).
-- @tparam {integer,...} t the values, read raw
-- @string[opt] field the name errors give the array (default `"values"`)
-- @bool[opt] counts the values must be >= 0, and errors read as `imbill.totals`' do (`field[i]`)
-- @treturn column the new column
-- @raise an error naming `field[i]` and the value that is not a whole number
-- @local
function M.of_array(t, field, counts)
  no_hole(FN, field or "values", t)
  if ffi_column then return ffi_column.from_array(t, field or "values", counts) end
  return core.column_from(t, field or "values", counts)
end

local RANGE = { from = true, to = true, step = true }

--- A new column: `imbill.column(n [, value])` is n values, each 0 (or `value`);
-- `imbill.column{ 3, 1, 4 }` a copy of a Lua array; `imbill.column{ from =, to =, step = }`
-- from, from + step, ... up to `to` (step 1 by default); `imbill.column(col)` a copy of a column.
-- @param x a count, an array of whole numbers, a range or a column
-- @int[opt] value every value, with a count
-- @treturn column the new column
-- @raise `imbill.column: values: ...` naming the index and the value that is not a whole number
-- @usage print(#imbill.column{ from = 5000, to = 50000, step = 5000 })  --> 10
function M.new(x, value)
  -- a count: a number, or on LuaJIT a boxed 64-bit integer (5LL), which the core reads exactly
  if type(x) == "number" or (check.cdata_number(x) ~= nil or select(2, check.cdata_number(x))) then
    return core.column_new(x, value)
  end
  if is(x) then return core.column_copy(x) end
  if type(x) ~= "table" then
    check.fail(FN, "values", "expected a count, an array of whole numbers, a range { from =, to =, step = } or a column", x)
  end
  -- the caller's table is read raw: no __index of theirs runs
  local from, to, step = rawget(x, "from"), rawget(x, "to"), rawget(x, "step")
  if from ~= nil or to ~= nil or step ~= nil then
    check.fields(FN, x, RANGE)
    if from == nil then check.fail(FN, "from", "is required", check.NOVALUE) end
    if to == nil then check.fail(FN, "to", "is required", check.NOVALUE) end
    return core.column_range(from, to, step)
  end
  return M.of_array(x, "values")
end

--- n whole numbers drawn uniformly from `min .. max`. The same seed gives the
-- same column on every runtime and machine: value i depends on (seed, i) alone.
-- @tab p `n`, `min` (default 0), `max`, `seed` (default 1)
-- @treturn column the drawn values
-- @raise `imbill.column.random: FIELD: ...`
function M.random(p)
  local fn = FN .. ".random"
  p = check.fields(fn, p, { n = true, min = true, max = true, seed = true })
  local max = rawget(p, "max")
  if max == nil then check.fail(fn, "max", "is required", check.NOVALUE) end
  return check.call(fn, core.column_random, check.count(fn, "n", rawget(p, "n")), rawget(p, "min") or 0, max,
    rawget(p, "seed") or 1)
end

--- On LuaJIT, a column over n `int64_t` values in FFI memory (`int64_t[?]` or
-- `int64_t *`), without a copy. The column keeps the cdata alive; memory the
-- cdata only points to must outlive the column.
-- @param cdata the FFI memory
-- @int n how many values
-- @treturn column a column over that memory
-- @raise `imbill.column.view: cdata: needs LuaJIT's FFI` on Lua 5.4
function M.view(cdata, n)
  if not ffi_column then check.fail(FN .. ".view", "cdata", "needs LuaJIT's FFI", cdata) end
  return ffi_column.view(cdata, n)
end

-- Ratios --------------------------------------------------------------------

local function ratio_of(fn, field, r)
  return int.ppm(fn, field, r, true)
end

local function scale(col, r)
  return core.column_scale(col, ratio_of(FN, "ratio", r))
end

-- col * ratio: each value times a ratio ("1.5", "5%", 3, 0.25), rounded
-- half-up to a whole number, as the grid's groups_per_dau and mau_per_dau.
meta.__mul = function(a, b)
  if is(a) and not is(b) then return scale(a, b) end
  if is(b) and not is(a) then return scale(b, a) end
  check.fail(FN, "ratio", "expected a ratio such as \"1.5\", \"5%\" or 3 (not a column)", b)
end

-- col + n, col + col: value by value, checked.
meta.__add = function(a, b)
  if is(a) then return core.column_add(a, b) end
  return core.column_add(b, a)
end

-- A method called on something other than a column names itself.
local function self_of(fn, self)
  if not is(self) then check.fail(fn, "self", "expected a column (call it as col:method(...))", self) end
  return self
end

--- Each value after `months` months of compound growth at `rate` a month,
-- rounded half-up to whole users every month, as the grid's DAU paths.
-- @param rate `"5%"`, `"-2%"`, `0.05`
-- @int[opt] months default 1
-- @treturn column a new column
-- @raise `column:grow: rate: ...`
function methods:grow(rate, months)
  self_of("column:grow", self)
  local g = ratio_of("column:grow", "rate", rate)
  return core.column_grow(self, g, check.count("column:grow", "months", months or 1))
end

-- Percentiles -----------------------------------------------------------------

local pct_ppm = int.percentile

--- A percentile by nearest rank: the value of rank `max(1, ceil(p/100 x n))`
-- in sorted order, as the grid's.
-- @param p a percentage 0 .. 100 (a number, or a string with at most 4 decimals; `"95%"` is 95)
-- @treturn[opt] integer the value; nil for an empty column
-- @raise `column:percentile: p: ...`
function methods:percentile(p)
  self_of("column:percentile", self)
  return core.column_percentiles(self, { pct_ppm("column:percentile", p) })[1]
end

--- Several percentiles at once (one sort).
-- @tparam {number,...} list percentages, such as `{ 5, 50, 95 }`
-- @treturn {integer,...} the values in the same order
-- @raise `column:percentiles: p: ...`
function methods:percentiles(list)
  self_of("column:percentiles", self)
  check.table("column:percentiles", "list", list)
  local pp = {}
  for i, p in check.items(list) do pp[i] = pct_ppm("column:percentiles", p) end
  return core.column_percentiles(self, pp)
end

--- A column's summary.
-- @tparam[opt] {number,...} list the percentiles (default 5, 25, 50, 75, 95)
-- @treturn table `{ n =, min =, argmin =, max =, argmax =, sum =, mean =, p5 =, ... }`
function methods:summary(list)
  local fn = "column:summary"
  self_of(fn, self)
  list = list or { 5, 25, 50, 75, 95 }
  check.table(fn, "list", list)
  local n = #self
  -- no values sum to 0, as col:sum() says; they have no min, max, mean or percentile
  local r = { n = n, sum = 0 }
  if n == 0 then return r end
  r.min, r.argmin = self:min()
  r.max, r.argmax = self:max()
  r.sum, r.mean = self:sum(), self:mean()
  local ps = check.call(fn, self.percentiles, self, list)
  -- each key from the percentile read, so that 50, 50.0 and "50%" are p50
  -- on every runtime (tostring gave p50.0 on Lua 5.4 only)
  for i, p in check.items(list) do r["p" .. int.ratio_text(int.percentile(fn, p) * 100)] = ps[i] end
  return r
end

-- CSV ---------------------------------------------------------------------------

--- The column `name` of a CSV file as a column of whole numbers. The first line
-- that is not blank or a comment (#) is the header; quoting follows RFC 4180, a
-- UTF-8 byte order mark and CRLF line ends are accepted.
-- @string path the file
-- @string name the column (its header, case and spaces aside)
-- @tab[opt] opts `counts = true` refuses negative values
-- @treturn column the values
-- @raise an error naming the file, the line and the column; of kind `"io"` when
-- the file cannot be read
function M.from_csv(path, name, opts)
  return require("imbill.whatif.column_csv").read(path, name, opts)
end

-- The C methods and the FFI ones (LuaJIT) -----------------------------------------
if ffi_column then ffi_column.install(methods) end

-- col[i] reads value i as col:get(i) does (src/lua/column.c's __index; on
-- LuaJIT through the FFI, as get), and col[i] = v writes it as col:set(i, v):
-- with #col, a column reads like the array it stands for.  A key that is
-- not a whole number from 1 to #col reads nil, as in an array; a write there
-- is refused (a column does not grow).  Any other key is a method's name.
local set, type_ = methods.set, type
local int_key = ffi_column and ffi_column.int_key or function() return false end
if ffi_column then
  local peek, peek_int = ffi_column.peek, ffi_column.peek_int
  meta.__index = function(col, k)
    local t = type_(k)
    if t == "number" then return peek(col, k) end
    if t == "cdata" and int_key(k) then return peek_int(col, k) end
    return methods[k]
  end
end
meta.__newindex = function(col, k, v)
  if type_(k) ~= "number" and not (type_(k) == "cdata" and int_key(k)) then
    check.fail("column", errors.field_name(k), "is not a value's place: a column's values are col[1] .. col[#col]",
      errors.NOVALUE)
  end
  set(col, k, v)
end

M.EXACT = EXACT
return setmetatable(M, { __call = function(_, ...) return M.new(...) end })
