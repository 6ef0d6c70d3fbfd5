--- LuaJIT only: the element-by-element column methods through the FFI.
-- A column is C-API userdata (src/lua/column.c) whose values the core prices
-- in one call; what LuaJIT cannot compile is a C-API call per element, so
-- col:get, col:set, col:totable and the copy from a Lua array read and write
-- the values here, through the imb_column layout of include/imbill.h, in
-- loops the JIT compiles.  Same contract and errors as the C methods: a
-- value the quick checks do not pass goes to the C method, which raises the
-- error (or, for a whole number between 2^51 and 2^53, takes it).
local ffi = require "ffi"
local core = require "imbill.core"
local check = require "imbill.internal.check"

local C = require "imbill.ffi.lib"

local col_t = ffi.typeof("imb_column *")
local i64p = ffi.typeof("int64_t *")
local type, floor, abs, tonumber, tostring, rawget = type, math.floor, math.abs, tonumber, tostring, rawget
local EXACT = 2 ^ 53
local BIG = ffi.new("int64_t", 2 ^ 53)
-- v + MAGIC - MAGIC == v exactly when v is whole, for |v| < 2^51: two
-- additions where math.floor costs a slower rounding instruction
local MAGIC = 2 ^ 52 + 2 ^ 51
-- the most values totable gives as one Lua array (src/lua/column.c, TOTABLE_MAX)
local TOTABLE_MAX = 50000000

local ok_tnew, tnew = pcall(require, "table.new")
if not ok_tnew then tnew = function() return {} end end

local M = {}

-- The imb_column inside a column.  Weak keys: a pointer is cached only while
-- its column lives, and every caller holds the column while it uses it.
local hdrs = setmetatable({}, { __mode = "k" })
local function hdr(col, fn)
  local h = hdrs[col]
  if h == nil then
    if not core.is_column(col) then check.fail(fn, "self", "expected a column (call it as col:method(...))", col) end
    h = ffi.cast(col_t, core.column_ptr(col))
    hdrs[col] = h
  end
  return h
end
M.header = hdr

local cget, cset, ctotable -- the C methods, for the errors and the odd cases

local function get(self, i)
  local h = hdrs[self] or hdr(self, "column:get")
  if type(i) == "number" and i >= 1 and i <= tonumber(h.n) and floor(i) == i then
    local x = h.v[i - 1]
    if x <= BIG and x >= -BIG then return tonumber(x) end
  end
  return cget(self, i)
end

-- Value i, or nil where i is not a position of the column (col[i]).
function M.peek(self, i)
  local h = hdrs[self] or hdr(self, "column")
  if i >= 1 and i <= tonumber(h.n) and floor(i) == i then
    local x = h.v[i - 1]
    if x <= BIG and x >= -BIG then return tonumber(x) end
    return cget(self, i)
  end
  return nil
end

-- A boxed 64-bit integer, which a column takes as the whole number it holds
-- (col[1LL] is col[1]).
local int64_t, uint64_t = ffi.typeof("int64_t"), ffi.typeof("uint64_t")
function M.int_key(k) return ffi.istype(int64_t, k) or ffi.istype(uint64_t, k) end

-- Value i (a boxed integer), or nil where it is not a position (col[i]).
function M.peek_int(self, i)
  local h = hdrs[self] or hdr(self, "column")
  if i >= 1 and i <= h.n then return cget(self, i) end
  return nil
end

local function set(self, i, v)
  local h = hdrs[self] or hdr(self, "column:set")
  if h.readonly == 0 and type(i) == "number" and i >= 1 and i <= tonumber(h.n) and floor(i) == i
      and type(v) == "number" and floor(v) == v and v <= EXACT and v >= -EXACT then
    h.v[i - 1] = v
    return self
  end
  return cset(self, i, v)
end

local function plain_pos(i, n) return type(i) == "number" and i >= 1 and i <= n and floor(i) == i end

local function totable(self, from, to)
  local h = hdrs[self] or hdr(self, "column:totable")
  local n = tonumber(h.n)
  local a, b = 1, n
  if from ~= nil then
    if not plain_pos(from, n) then return ctotable(self, from, to) end
    a = from
  end
  if to ~= nil then
    if not plain_pos(to, n) or to < a then return ctotable(self, from, to) end
    b = to
  end
  if b < a then return {} end
  -- past the bound the C method raises its error (LuaJIT's own is a bare "table overflow")
  if b - a + 1 > TOTABLE_MAX then return ctotable(self, from, to) end
  local v = h.v
  -- a value beyond 2^53 is an error there, found in one C call
  if C.imb_col_find_outside(v + (a - 1), b - a + 1, -EXACT, EXACT) ~= b - a + 1 then
    return ctotable(self, from, to)
  end
  local t = tnew(b - a + 1, 0)
  for i = a, b do t[i - a + 1] = tonumber(v[i - 1]) end
  return t
end

--- A new column with the values of a Lua array (see imbill.whatif.column
-- of_array): counts must be >= 0 and are named field[i] in errors.
-- (the stop hook, core.set_stop, every 16,384 values, as the C copy asks
-- it: this loop is compiled, where a notebook's debug hook never runs)
local check_stop = core.check_stop
function M.from_array(t, field, counts)
  local n = #t
  local col = core.column_new(n)
  local v = hdr(col, "imbill.column").v
  local from = 1
  while from <= n do
    check_stop()
    local to = from + 16383
    if to > n then to = n end
    for i = from, to do
      local x = rawget(t, i) -- raw: no __index of the caller's runs
      if type(x) ~= "number" or abs(x + MAGIC - MAGIC - x) ~= 0 or abs(x) > EXACT or (counts and x < 0) then
        -- a whole number from 2^51 to 2^53 passes here; anything else is
        -- reported by the C copy, which finds the first bad value
        if type(x) ~= "number" or floor(x) ~= x or x > EXACT or x < -EXACT or (counts and x < 0) then
          return core.column_from(t, field, counts)
        end
      end
      v[i - 1] = x
    end
    from = to + 1
  end
  return col
end

-- Whether x is int64_t memory: true, its length (nil for a pointer), and
-- whether it is const (then the view is read-only: imbill never writes
-- through a pointer its owner declared const).
local function int64_cdata(x)
  if type(x) ~= "cdata" then return false end
  local name = tostring(ffi.typeof(x))
  local const = name:match("^ctype<const ") ~= nil
  if ffi.istype(i64p, x) then return true, nil, const end
  if name:match("^ctype<[const ]*int64_t %[%d*%??%]>$") then return true, ffi.sizeof(x) / 8, const end
  return false
end

--- A column over n int64_t values of FFI memory, without a copy; it keeps
-- the cdata alive.  For an array, n defaults to its length and may not pass it.
-- A NULL pointer is refused; const memory gives a read-only column.
function M.view(x, n)
  local fn = "imbill.column.view"
  local ok, len, const = int64_cdata(x)
  if not ok then check.fail(fn, "cdata", "expected int64_t[?] or int64_t * cdata", x) end
  -- a NULL pointer has no values to read: the first get would crash
  if x == nil then check.fail(fn, "cdata", "is a NULL pointer", x) end
  if n == nil then
    if not len then check.fail(fn, "n", "is required for a pointer", check.NOVALUE) end
    n = len
  end
  n = check.count(fn, "n", n)
  if len and n > len then check.fail(fn, "n", "is more values than the array holds (" .. len .. ")", n) end
  if n > 2 ^ 31 then check.fail(fn, "n", "is more values than a column holds", n) end
  local col = core.column_view(x)
  local h = hdr(col, fn)
  h.v = ffi.cast(i64p, x)
  h.n = n
  if const then h.readonly = 1 end
  return col
end

--- Puts the FFI methods in the column's method table, keeping the C ones.
function M.install(methods)
  cget, cset, ctotable = methods.get, methods.set, methods.totable
  methods.get, methods.set, methods.totable = get, set, totable
end

return M
