-- A grid of what-ifs: the paid editions sold from 2021 (2021 pro and ultimate,
-- 2022 standard and premium) x 41 monthly growth rates (-5% .. +15%)
-- x 1,996 starting DAU (500 .. 200,000), a year each, MAU = 3.1 x DAU, no groups
-- over the free quota: 327,344 scenarios through the C fast path, summarised
-- without a table per scenario.
--
--   lua5.4 examples/grid_summary.lua
local imbill = require "imbill"
local money = imbill.money

local g = imbill.grid { editions = { "2021/pro", "2021/ultimate", "2022/standard", "2022/premium" },
                        growth_bp = { from = -500, to = 1500, step = 50 }, start_dau = { from = 500, to = 200000, step = 100 },
                        months = 12, groups = 0, mau_per_dau = "3.1" }
print(g)
print()
print("edition        cheapest for  tied   min          median       p95          max")
for _, s in ipairs(g:by_edition { 50, 95 }) do
  print(string.format("%-14s %12d  %4d   %-12s %-12s %-12s %s", s.edition, s.wins, s.ties, money.pretty(s.min),
    money.pretty(s.p50), money.pretty(s.p95), money.pretty(s.max)))
end
local all = g:summary()
print()
print(string.format("all scenarios: min %s, median %s, p95 %s, max %s USD a year", money.pretty(all.min),
  money.pretty(all.p50), money.pretty(all.p95), money.pretty(all.max)))
local top = g:wins()
table.sort(top, function(a, b) return a.wins > b.wins end)
-- a case two editions price the same is a win for neither: said apart
print(string.format("Answer: %s is the cheapest edition in %d of %d (growth, start) cases (%d tied).", top[1].edition,
  top[1].wins, math.floor(g:size() / #g.names), g:tied()))
