-- What would a 129.99 pro have cost us last year?  Shadow-prices the 2021
-- history on the built-in 2020 book and on a copy whose pro costs 129.99.
--
--   lua5.4 examples/cheaper_pro_last_year.lua [history.csv]
local imbill = require "imbill"

local path = arg and arg[1] or "examples/data/usage_2021.csv"
local history = imbill.series.read_csv(path)
local sh = imbill.shadow {
  usage = history, base = "2020", editions = { "pro" },
  shadow = { base = "2020", name = "pro-129.99", editions = { pro = { monthly_fee = "129.99" } } },
}
local e = sh.editions[1]
print("month    2020/pro  pro-129.99  difference")
for _, m in ipairs(e.months) do
  print(string.format("%s  %8s  %10s  %10s", m.month, imbill.money.pretty(m.base), imbill.money.pretty(m.shadow),
    imbill.money.pretty(m.difference)))
end
print(string.format("total    %8s  %10s  %10s", imbill.money.pretty(e.base_total), imbill.money.pretty(e.shadow_total),
  imbill.money.pretty(e.difference)))
print()
print(string.format("Answer: a 129.99 pro would have cost %s USD instead of %s (%s USD).",
  imbill.money.pretty(e.shadow_total), imbill.money.pretty(e.base_total), imbill.money.pretty(e.difference)))
