--- Argument checks shared by the public functions.  Every error names the
-- function, the field and the value it got (imbill.internal.errors), and
-- carries no file position: the field name is what tells a user where to look.
local errors = require "imbill.internal.errors"

local M = {}

local mtype = math.type
local EXACT = 2 ^ 53

M.show = errors.show
M.NOVALUE = errors.NOVALUE
M.fail = errors.raise

--- LuaJIT: the number a boxed 64-bit FFI integer (`5LL`, `5ULL`,
-- `ffi.new("int64_t", x)`) holds, which is exact; nil for any other value.
-- Beyond 2^53 no Lua number holds it: nil and `"big"`.  (Lua 5.4 has no cdata:
-- always nil.)
M.cdata_number = function() return nil end
do
  local ok, ffi = pcall(require, "ffi")
  if ok and type(ffi) == "table" and ffi.istype then
    local istype, i64, u64, tonumber_ = ffi.istype, ffi.typeof("int64_t"), ffi.typeof("uint64_t"), tonumber
    M.cdata_number = function(v)
      if type(v) ~= "cdata" then return nil end
      local signed = istype(i64, v)
      if not signed and not istype(u64, v) then return nil end
      if v > EXACT or (signed and v < -EXACT) then return nil, "big" end
      return tonumber_(v)
    end
  end
end
local cdata_number = M.cdata_number

-- A cdata where a whole number is expected: the number it holds, or the error.
local function from_cdata(fn, field, v, expected)
  local n, why = cdata_number(v)
  if n == nil and why then
    M.fail(fn, field, "is beyond 2^53, more than a count can be on this runtime", v)
  end
  if n == nil then M.fail(fn, field, expected, v) end
  return n
end
M.from_cdata = from_cdata

--- A whole number >= 0 (counts of users, groups, seconds...).  On every
-- runtime a float is a count only when it is whole and at most 2^53, the
-- last integer a double holds exactly (the rule imbill.totals follows too).
function M.count(fn, field, v)
  if type(v) == "cdata" then v = from_cdata(fn, field, v, "expected a whole number >= 0") end
  if type(v) ~= "number" then M.fail(fn, field, "expected a whole number >= 0", v) end
  if mtype and mtype(v) == "integer" then
    if v < 0 then M.fail(fn, field, "must not be negative", v) end
    return v
  end
  if v ~= v or v == math.huge or v == -math.huge or v ~= math.floor(v) then
    M.fail(fn, field, "expected a whole number >= 0", v)
  end
  if v < 0 then M.fail(fn, field, "must not be negative", v) end
  if v > EXACT then M.fail(fn, field, "is too large to be exact (above 2^53)", v) end
  if mtype then v = math.tointeger(v) end
  return v
end

function M.opt_count(fn, field, v)
  if v == nil then return nil end
  return M.count(fn, field, v)
end

function M.string(fn, field, v)
  if type(v) ~= "string" then M.fail(fn, field, "expected a string", v) end
  return v
end

function M.table(fn, field, v)
  if type(v) ~= "table" then M.fail(fn, field, "expected a table", v) end
  return v
end

--- Rejects keys a function does not know, so a typo ("peek_dau") is an error
-- instead of a silently ignored field.
-- The keys are read raw (next, not pairs): a __pairs of the caller's cannot
-- hide a key or run in the middle of a check.  `path`, for a table inside
-- the arguments, is where it is (`"change"`, `"editions.pro"`): an unknown key
-- is then named `change.at`, and the error's fn stays the function called.
function M.fields(fn, t, allowed, path)
  if type(t) ~= "table" then M.fail(fn, path or "argument", "expected a table of named fields", t) end
  for k in next, t do
    if type(k) ~= "string" or not rawget(allowed, k) then
      local names = {}
      for name in pairs(allowed) do names[#names + 1] = name end
      table.sort(names)
      local field = errors.field_name(k)
      if path then
        field = type(k) == "string" and (path .. "." .. field) or (path .. "[" .. errors.show(k) .. "]")
      end
      M.fail(fn, field, "unknown field (known: " .. table.concat(names, ", ") .. ")", M.NOVALUE)
    end
  end
  return M.raw(t)
end

--- The fields of a caller's table as plain data: t itself when it has no
-- metatable, else a copy of what it holds (read raw), so that t.name never
-- runs an __index of the caller's: one that raises would stop a function with
-- a bare Lua error, and one that answers would make fields appear that the
-- table does not hold (and that check.fields never saw).  Every function that
-- takes a table of named fields reads the table check.fields returns.
function M.raw(t)
  if getmetatable(t) == nil then return t end
  local c = {}
  for k, v in next, t do c[k] = v end
  return c
end

-- Arrays and tables of the caller's are read raw, the same on every runtime:
-- LuaJIT's # and ipairs never run __len or __index, and Lua 5.4's would (an
-- __index that answers every index would make ipairs endless).
local rawlen = rawget(_G, "rawlen") or function(t) return #t end
M.len = rawlen

local function item(t, i)
  i = i + 1
  local v = rawget(t, i)
  if v ~= nil then return i, v end
end

--- ipairs without metamethods.
function M.items(t) return item, t, 0 end

--- A list: a table whose keys are 1 .. n and nothing else.  A named field
-- (`{ av_unlimited = true }`) or a hole would be passed over by `items`, so
-- what the caller listed would silently count for nothing; it is an error.
-- `what` says what the list holds ("add-on ids").
function M.list(fn, field, t, what)
  M.table(fn, field, t)
  local n = 0
  for k in next, t do
    if type(k) ~= "number" or k ~= math.floor(k) or k < 1 then
      M.fail(fn, field, "expected a list of " .. what .. ", not named fields", k)
    end
    n = n + 1
  end
  for i = 1, n do
    if rawget(t, i) == nil then M.fail(fn, field .. "[" .. i .. "]", "a list has no holes: expected one of " .. what, nil) end
  end
  return t
end

--- Runs f(...); an error raised inside is raised again naming fn, the public
-- function the user called, and keeping its field.
function M.call(fn, f, ...)
  return errors.call(fn, nil, f, ...)
end

--- f(...), whose own refusals (errors naming fn) go out as they are; any
-- other failure, one from deep in the arithmetic, is said as `why` about
-- `field`, with what failed in brackets: the caller hears which of its
-- fields to change.
-- @string fn the public function
-- @string field the fields the failure is blamed on (`"from, to"`)
-- @string why what they make impossible
-- @func f the work
-- @return f's results
function M.blamed(fn, field, why, f, ...)
  local ok, r = pcall(f, ...)
  if not ok then
    if errors.is(r) and r.fn == fn then error(r, 0) end
    M.fail(fn, field, why .. " (" .. tostring(r) .. ")", M.NOVALUE)
  end
  return r
end

return M
