-- The demo behind `make demo`: a sample month of a chat app, priced on every
-- edition of every built-in price book, ranked, with the winning invoice and
-- where the next edition up would start to pay.
--
--   lua5.4 examples/compare_month.lua [YYYY-MM]
local imbill = require "imbill"
local dates = require "imbill.internal.dates"

local month = arg and arg[1] or "2021-03"
local m = dates.month(month, "month")
local days = dates.month_length(m)

-- A month of daily active users: weekday traffic around 21,000 with a weekend
-- lift and a launch spike on the 14th.  Integer arithmetic only.
local dau, groups = {}, {}
for d = 1, days do
  local weekday = (dates.month_first(m) + d - 1 + 4) % 7 -- 0 = Sunday
  local base = 21000 + d * 60
  if weekday == 0 or weekday == 6 then base = base + 2500 end
  if d == 14 then base = base + 4200 end
  dau[d] = base
  groups[d] = 180000 + d * 2100
end

local usage = { month = month, dau = dau, groups = groups, mau = 61000, accounts = 90000,
                av_groups = 12, needs = { "local_search" } }
print(string.format("Sample usage for %s: %d days, peak DAU from the daily series, 61,000 MAU,", month, days))
print("90,000 accounts, 12 AV rooms, needs local message search.\n")

local rows = imbill.compare(usage)
print(rows)

local best = imbill.best(rows)
print("\nCheapest edition that can serve this usage: " .. best.book .. "/" .. best.edition .. "\n")
print(imbill.invoice { book = best.book, edition = best.edition, month = month, dau = dau, groups = groups,
                       mau = usage.mau })

local be = imbill.breakeven { a = "2021/pro", b = "2021/ultimate", metric = "dau", from = 0, to = 1000000 }
print("\n2021 pro against 2021 ultimate by peak DAU (0 to 1,000,000):")
for _, p in ipairs(be.points) do
  print(string.format("  from %s DAU on, %s is cheaper (%s against %s)", p.at,
    p.cheaper == "a" and "pro" or (p.cheaper == "b" and "ultimate" or "neither"),
    tostring(p.a_total), tostring(p.b_total)))
end
