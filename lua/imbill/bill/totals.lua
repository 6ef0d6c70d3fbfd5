--- imbill.totals: the batch path, one integer of cents per scenario.
local core = require "imbill.core"
local check = require "imbill.internal.check"
local books = require "imbill.book"

local M = {}

--- imbill.totals{ book =, edition =, peak_dau =, groups_peak =, mau = }: the fast
-- path; arrays (or a number for every scenario) in, integer cents out.
function M.totals(p, fast)
  local FN = "imbill.totals"
  check.fields(FN, p, { book = true, edition = true, peak_dau = true, groups_peak = true, mau = true })
  local _, ed = books.resolve(FN, "", { book = p.book or "2022", edition = p.edition })
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
  local f = fast or core.totals
  local ok3, out = pcall(f, ed.rate, p.peak_dau, p.groups_peak, p.mau)
  if not ok3 then error(FN .. ": " .. tostring(out), 0) end
  return out
end

return M
