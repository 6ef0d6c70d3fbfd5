-- Flagship break-even: from how many daily active users is the 2020 flagship
-- cheaper than the 2021 pro, and how do both compare with the 2021 ultimate?
-- Prints the exact break-even points and writes the cost curves as SVG.
--
--   lua5.4 examples/flagship_breakeven.lua [out.svg]
local imbill = require "imbill"

local out = arg and arg[1]
local t = imbill.breakeven_table { editions = { "2020/flagship", "2021/pro", "2021/ultimate" }, from = 0, to = 100000 }
print(t)
print()
for _, line in ipairs(imbill.chart.breakeven_lines(t)) do print(line) end
if out then
  local f = assert(io.open(out, "w"))
  f:write(imbill.chart.cost_curves(t):file())
  f:close()
  print("\ncost curves written to " .. out)
end
local pair = t.pairs[1]
print(string.format("\nAnswer: above %s DAU the 2020 flagship is cheaper than the 2021 pro.",
  require("imbill.internal.fmt").int(pair.crossings[1].at - 1)))
