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

--- imbill.totals{ book =, edition =, peak_dau =, groups_peak =, mau =,
-- threads =, into = }: the fast path.  Each usage field is an array, a column
-- (imbill.column) or a number for every scenario.  Arrays in give an array of
-- integer cents; any column in (or into =) gives a column of cents, priced on
-- `threads` threads (default: every core) and written into `into` when given.
function M.totals(p, fast)
  check.fields(FN, p, { book = true, edition = true, peak_dau = true, groups_peak = true, mau = true,
                        threads = true, into = true })
  local _, ed = books.resolve(FN, "", { book = p.book or "2022", edition = p.edition })
  no_holes(p)
  local threads = p.threads ~= nil and check.count(FN, "threads", p.threads) or nil
  if p.into ~= nil or is_column(p.peak_dau) or is_column(p.groups_peak) or is_column(p.mau) then
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
