-- What if DAU doubles by summer?  Takes the 2021 history, lets DAU grow in a
-- straight line to twice its level by 2021-06-21 (and stay there), and prices
-- both on the 2020 price book (in force in 2021).
--
--   lua5.4 examples/dau_doubles.lua [history.csv]
local imbill = require "imbill"
local S = imbill.series

local path = arg and arg[1] or "examples/data/usage_2021.csv"
local history = S.read_csv(path)
local doubled = history:times { dau = S.ramp { from = "2021-01-01", to = "2021-06-21", start = "1", finish = "2" } }

local base = imbill.project { usage = history, books = { "2020" }, current = "2020/pro" }
local what_if = imbill.project { usage = doubled, books = { "2020" }, current = "2020/pro" }

print("month    peak DAU   doubled  2020/pro now  2020/pro if doubled")
local pro_now, pro_if = base:row("2020/pro"), what_if:row("2020/pro")
for j, month in ipairs(base.months) do
  print(string.format("%s  %8d  %8d  %12s  %19s", month, base.usage[j].peak_dau, what_if.usage[j].peak_dau,
    imbill.money.pretty(pro_now.months[j].total), imbill.money.pretty(pro_if.months[j].total)))
end
print(string.format("total                        %12s  %19s", imbill.money.pretty(pro_now.total),
  imbill.money.pretty(pro_if.total)))
print()
print(string.format("Answer: doubling DAU by summer adds %s USD to the year on 2020/pro; the cheapest edition"
  .. " stays %s.", imbill.money.pretty(pro_if.total - pro_now.total), what_if:cheapest().name))
