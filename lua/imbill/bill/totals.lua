--- imbill.totals: the batch path, one integer of cents per scenario.
local core = require "imbill.core"
local check = require "imbill.internal.check"
local errors = require "imbill.internal.errors"
local books = require "imbill.book"

local M = {}
local FN = "imbill.totals"
local USAGE = { "peak_dau", "groups_peak", "mau" }
local is_column = core.is_column

-- An error from the binding, raised as imbill.totals' own: the binding's
-- message already names the field and index.
local function raise(e)
  if errors.is(e) then error(errors.rename(e, FN), 0) end
  error(errors.new(FN, nil, tostring(e), errors.NOVALUE), 0)
end

-- An array with a hole has more than one valid length (#).  Where
-- table.maxn exists (LuaJIT) a value past # shows the hole, so both
-- runtimes refuse {1, nil, 3} instead of one pricing a single scenario.
local maxn = rawget(table, "maxn")
local function no_holes(p)
  if not maxn then return end
  for _, k in ipairs(USAGE) do
    local t = p[k]
    if type(t) == "table" and maxn(t) > #t then
      check.fail(FN, k .. "[" .. (#t + 1) .. "]", "expected a whole number >= 0", nil)
    end
  end
end

-- The usage fields as columns (arrays copied once; numbers and nil as they are).
local function as_columns(p)
  local u = { p.peak_dau, p.groups_peak, p.mau }
  if maxn then
    -- LuaJIT: an array is copied into a column by a loop the JIT compiles
    local column = require "imbill.whatif.column"
    for k = 1, 3 do
      if type(u[k]) == "table" and not is_column(u[k]) then
        local ok, c = pcall(column.of_array, u[k], USAGE[k], true)
        if not ok then raise(c) end
        u[k] = c
      end
    end
  end
  return u
end

local function wants_columns(p)
  return p.into ~= nil or is_column(p.peak_dau) or is_column(p.groups_peak) or is_column(p.mau)
end

-- editions = { "2020/pro", ... }: the same scenarios on each, results by
-- position and by "book/edition" name.
local function many(p, fast_many, threads)
  if p.book ~= nil or p.edition ~= nil then
    check.fail(FN, "editions", "give editions, or book and edition, not both", p.editions)
  end
  if p.into ~= nil then check.fail(FN, "into", "takes one edition's results; not with editions", check.NOVALUE) end
  check.table(FN, "editions", p.editions)
  if #p.editions == 0 then check.fail(FN, "editions", "needs at least one edition", check.NOVALUE) end
  local rates, names = {}, {}
  for i, e in ipairs(p.editions) do
    local _, ed, name = books.resolve(FN, "editions[" .. i .. "]", e)
    rates[i], names[i] = ed.rate, name
  end
  local res
  if wants_columns(p) then
    -- a chunk of scenarios on every edition while its inputs are in cache
    local u = as_columns(p)
    local ok, out = pcall(core.totals_columns_many, rates, u[1], u[2], u[3], threads, names)
    if not ok then raise(out) end
    res = out
  else
    local ok, out = pcall(fast_many or core.totals_many, rates, p.peak_dau, p.groups_peak, p.mau, names)
    if not ok then raise(out) end
    res = out
  end
  for i, name in ipairs(names) do
    if res[name] == nil then res[name] = res[i] end
  end
  return res
end

--- imbill.totals{ book =, edition =, peak_dau =, groups_peak =, mau =,
-- threads =, into = }: the fast path.  Each usage field is an array, a column
-- (imbill.column) or a number for every scenario.  Arrays in give an array of
-- integer cents; any column in (or into =) gives a column of cents, priced on
-- `threads` threads (default: every core) and written into `into` when given.
-- With editions = { "2020/pro", ... } instead of book and edition, the same
-- scenarios are priced on each edition (the arrays read once) and the
-- results come back by position and by "book/edition" name.
function M.totals(p, fast, fast_many)
  check.fields(FN, p, { book = true, edition = true, editions = true, peak_dau = true, groups_peak = true,
                        mau = true, threads = true, into = true })
  no_holes(p)
  local threads = p.threads ~= nil and check.count(FN, "threads", p.threads) or nil
  if p.editions ~= nil then return many(p, fast_many, threads) end
  local _, ed = books.resolve(FN, "", { book = p.book or "2022", edition = p.edition })
  if wants_columns(p) then
    local u = as_columns(p)
    local ok, out = pcall(core.totals_columns, ed.rate, u[1], u[2], u[3], threads, p.into)
    if not ok then raise(out) end
    return out
  end
  local f = fast or core.totals
  local ok, out = pcall(f, ed.rate, p.peak_dau, p.groups_peak, p.mau)
  if not ok then raise(out) end
  return out
end

return M
