--- imbill.totals: the batch path, one integer of cents per scenario.
--
-- The caller's tables are read raw (rawget, check.items, check.len): no
-- __index or __len of theirs runs inside imbill, on either runtime.
local core = require "imbill.core"
local check = require "imbill.internal.check"
local books = require "imbill.book"
local measure = require "imbill.bill.measure"

local M = {}
local FN = "imbill.totals"
local USAGE = { "peak_dau", "groups_peak", "mau" }
local FIELDS = { book = true, edition = true, editions = true, peak_dau = true, groups_peak = true, mau = true,
                 threads = true, into = true }
local HINT = { dau = "give peak_dau (an array, a column, or a number for every scenario)",
               mau = "give mau (an array, a column, or a number for every scenario)" }
local is_column = core.is_column
local len = check.len

-- An array with a hole has more than one valid length (#).  Where
-- table.maxn exists (LuaJIT) a value past # shows the hole, so both
-- runtimes refuse {1, nil, 3} instead of one pricing a single scenario.
local maxn = rawget(table, "maxn")
local function no_holes(u)
  if not maxn then return end
  for k = 1, 3 do
    local t = u[k]
    if type(t) == "table" and not is_column(t) and maxn(t) > len(t) then
      check.fail(FN, USAGE[k] .. "[" .. (len(t) + 1) .. "]", "expected a whole number >= 0", nil)
    end
  end
end

-- The usage fields as columns (arrays copied once; numbers and nil as they are).
local function as_columns(u)
  if not maxn then return u end
  -- LuaJIT: an array is copied into a column by a loop the JIT compiles
  local column = require "imbill.whatif.column"
  local c = { u[1], u[2], u[3] }
  for k = 1, 3 do
    if type(c[k]) == "table" and not is_column(c[k]) then
      c[k] = check.call(FN, column.of_array, c[k], USAGE[k], true)
    end
  end
  return c
end

-- The measure each edition is billed by must be given (checked after the
-- values, so a bad value is named first): 0 is a value to state, never a default.
local function measures_given(eds, names, u)
  local has = { dau = u[1] ~= nil, mau = u[3] ~= nil }
  for i, ed in ipairs(eds) do
    local k, why = measure.missing(ed, has, names[i])
    if k then check.fail(FN, k == "dau" and "peak_dau" or "mau", why .. ": " .. HINT[k], check.NOVALUE) end
  end
end

-- editions = { "2020/pro", ... }: the same scenarios on each, results by
-- position and by "book/edition" name.
local function many(p, u, wants_columns, threads, fast_many)
  if rawget(p, "book") ~= nil or rawget(p, "edition") ~= nil then
    check.fail(FN, "editions", "give editions, or book and edition, not both", rawget(p, "editions"))
  end
  if rawget(p, "into") ~= nil then
    check.fail(FN, "into", "takes one edition's results; not with editions", check.NOVALUE)
  end
  local list = check.list(FN, "editions", rawget(p, "editions"), "editions")
  if len(list) == 0 then check.fail(FN, "editions", "needs at least one edition", check.NOVALUE) end
  local rates, names, eds, seen = {}, {}, {}, {}
  for i, e in check.items(list) do
    local _, ed, name = books.resolve(FN, "editions[" .. i .. "]", e)
    -- results come back by name too: one name, one result
    books.once(FN, "editions", seen, i, name, e)
    rates[i], names[i], eds[i] = ed.rate, name, ed
  end
  local res
  if wants_columns then
    -- a chunk of scenarios on every edition while its inputs are in cache
    local c = as_columns(u)
    res = check.call(FN, core.totals_columns_many, rates, c[1], c[2], c[3], threads, names)
  else
    res = check.call(FN, fast_many or core.totals_many, rates, u[1], u[2], u[3], names)
  end
  measures_given(eds, names, u)
  for i, name in ipairs(names) do
    if res[name] == nil then res[name] = res[i] end
  end
  return res
end

--- The batch path: one integer of cents per scenario, each a full month.
-- Each usage field is an array, a column (`imbill.column`) or a number for
-- every scenario. Arrays in give an array of integer cents; any column in (or
-- `into =`) gives a column of cents, priced on `threads` threads (default:
-- every core) and written into `into` when given. With `editions = { ... }`
-- instead of `book` and `edition`, the same scenarios are priced on each
-- edition (the inputs read once) and the results come back by position and by
-- `"book/edition"` name. The user measure an edition is billed by (peak DAU
-- for books 2020 and 2021, MAU for book 2022) must be given; `groups_peak` not
-- given is 0.
-- @tab p `book`, `edition` (or `editions`), `peak_dau`, `groups_peak`, `mau`,
-- `threads`, `into`
-- @tparam[opt] function fast the LuaJIT FFI path for one edition (init.lua passes it)
-- @tparam[opt] function fast_many the LuaJIT FFI path for several editions
-- @return an array or a column of cents; with `editions`, a table of them
-- @raise an error naming the field, the index and the value that cannot be priced
-- @usage print(table.concat(imbill.totals{ book = "2020", edition = "pro",
--   peak_dau = { 9999, 25000 }, groups_peak = 0 }, ", "))  --> 14999, 44997
function M.totals(p, fast, fast_many)
  p = check.fields(FN, p, FIELDS)
  local u = { rawget(p, "peak_dau"), rawget(p, "groups_peak"), rawget(p, "mau") }
  local into = rawget(p, "into")
  no_holes(u)
  local threads = rawget(p, "threads")
  if threads ~= nil then threads = check.count(FN, "threads", threads) end
  local wants_columns = into ~= nil or is_column(u[1]) or is_column(u[2]) or is_column(u[3])
  if rawget(p, "editions") ~= nil then return many(p, u, wants_columns, threads, fast_many) end
  local _, ed, name = books.resolve(FN, "", { book = rawget(p, "book") or "2022", edition = rawget(p, "edition") })
  if into ~= nil then measures_given({ ed }, { name }, u) end -- before anything is written into it
  local out
  if wants_columns then
    local c = as_columns(u)
    out = check.call(FN, core.totals_columns, ed.rate, c[1], c[2], c[3], threads, into)
  else
    out = check.call(FN, fast or core.totals, ed.rate, u[1], u[2], u[3])
  end
  measures_given({ ed }, { name }, u)
  return out
end

return M
