--- imbill.totals: the batch path, one integer of cents per scenario.
local core = require "imbill.core"
local check = require "imbill.internal.check"
local books = require "imbill.book"
local measure = require "imbill.bill.measure"

local M = {}

local HINT = { dau = "give peak_dau (an array, or a number for every scenario)",
               mau = "give mau (an array, or a number for every scenario)" }

--- imbill.totals{ book =, edition =, peak_dau =, groups_peak =, mau = }: the fast
-- path; arrays (or a number for every scenario) in, integer cents out.  The
-- user measure the edition is billed by (peak DAU for books 2020 and 2021,
-- MAU for book 2022) must be given: 0 is a value to state, never a default.
-- groups_peak not given is 0.
function M.totals(p, fast)
  local FN = "imbill.totals"
  check.fields(FN, p, { book = true, edition = true, peak_dau = true, groups_peak = true, mau = true })
  local _, ed, name = books.resolve(FN, "", { book = p.book or "2022", edition = p.edition })
  -- An array with a hole has more than one valid length (#).  Where
  -- table.maxn exists (LuaJIT) a value past # shows the hole, so both
  -- runtimes refuse {1, nil, 3} instead of one pricing a single scenario.
  local maxn = rawget(table, "maxn")
  if maxn then
    for _, k in ipairs { "peak_dau", "groups_peak", "mau" } do
      local t = p[k]
      if type(t) == "table" and maxn(t) > #t then
        check.fail(FN, k .. "[" .. (#t + 1) .. "]", "expected a whole number >= 0", nil)
      end
    end
  end
  local out = check.call(FN, fast or core.totals, ed.rate, p.peak_dau, p.groups_peak, p.mau)
  -- checked after the values, so a bad value is named first
  local k, why = measure.missing(ed, { dau = p.peak_dau ~= nil, mau = p.mau ~= nil }, name)
  if k then check.fail(FN, k == "dau" and "peak_dau" or "mau", why .. ": " .. HINT[k], check.NOVALUE) end
  return out
end

return M
