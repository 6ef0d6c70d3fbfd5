-- Which edition for next quarter?  Reads a year of usage history, projects the
-- next three months at the growth the last quarter showed, and prices them on
-- every edition of the app's price book: the one in force when it began (an
-- app keeps the book it was sold on; this history begins 2021-01-01, under
-- the 2020 book).
--
--   lua5.4 examples/next_quarter.lua [history.csv]
local imbill = require "imbill"
local S = imbill.series

local path = arg and arg[1] or "examples/data/usage_2021.csv"
local history = S.read_csv(path)
local months = history:monthly()
local last, before = months[#months], months[#months - 3]

-- average monthly growth of peak DAU over the last quarter, in parts per
-- million (integer arithmetic: round((last / before - 1) / 3))
local rate = S.muldiv(last.peak_dau - before.peak_dau, 1000000, before.peak_dau * 3)
print(string.format("History %s: peak DAU %d in %s, %d in %s: about %s a month.", path, before.peak_dau, before.month,
  last.peak_dau, last.month, require("imbill.whatif.grid").fmt_rate(rate)))

-- next quarter: compound growth from the last month's peak, busier weekends,
-- groups growing as they did in December
local forecast = S.build {
  from = "2022-01", months = 3,
  dau = S.compound { start = last.peak_dau, rate_ppm = rate } * S.weekly { sat = "1.1", sun = "1.1" },
  groups = S.linear { start = last.groups_peak, per_day = 150 },
}
local book = imbill.book_at(history:from()).name
local p = imbill.project { usage = forecast, books = { book }, current = book .. "/pro" }
print()
print(p:table())
local best = p:cheapest()
print()
print(string.format("Answer: stay on %s for next quarter: %s USD (cheapest legal path: %s USD).", best.name,
  imbill.money.pretty(best.total), imbill.money.pretty(p.path.total)))
