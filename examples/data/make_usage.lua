-- Regenerates the example usage histories in examples/data/ from imbill's own
-- generators (deterministic: fixed seeds, integer arithmetic).
--
--   lua5.4 examples/data/make_usage.lua examples/data
local S = require "imbill.whatif.series"

local dir = arg and arg[1] or "examples/data"

local function write(name, s)
  local f = assert(io.open(dir .. "/" .. name, "w"))
  f:write("# imbill usage history: one row per day (UTC+8); see docs/whatif.md\n")
  f:write(s:csv())
  f:close()
end

-- A chat app through 2021: about 8,000 DAU in January growing 6% a month,
-- busier weekends, a launch on 2021-06-15, a little noise; groups follow.
local dau = (S.compound { start = 8000, rate = "6%" } + S.step { on = "2021-06-15", by = 4000 })
  * S.weekly { sat = "1.15", sun = "1.2" } * S.noise { seed = 2021, relative = "3%" }
local groups = S.linear { start = 85000, per_day = 150 }
local y2021 = S.build { from = "2021-01-01", to = "2021-12-31", dau = dau, groups = groups }
-- month-to-date MAU: the month's users so far, about 3.1 x the day's peak
local mau = {}
for _, m in ipairs(y2021:monthly()) do
  local peak = 0
  for i = m.first_index, m.last_index do
    if y2021.dau[i] > peak then peak = y2021.dau[i] end
    mau[i] = S.muldiv(peak, 3100000, 1000000)
  end
end
y2021.mau = mau
write("usage_2021.csv", y2021)

-- A smaller app from 2022-07 to 2023-06 (across the 2022 MAU price book).
local small = S.build { from = "2022-07-01", to = "2023-06-30",
                        dau = S.compound { start = 6000, rate = "9%" } * S.weekly { sat = "1.1", sun = "1.1" },
                        groups = S.linear { start = 40000, per_month = 6000 }, mau_ratio = "2.8" }
local m2 = {}
for _, m in ipairs(small:monthly()) do
  for i = m.first_index, m.last_index do m2[i] = m.mau end
end
small.mau, small.mau_ratio = m2, nil
write("usage_2022.csv", small)
