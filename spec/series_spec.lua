-- Usage series: generators and the CSV usage-history reader (issue 4).
local H = require "helper"
local S = require "imbill.whatif.series"
local dates = require "imbill.internal.dates"

local function days(s, col, a, b)
  local out = {}
  for i = a or 1, b or s.n do out[#out + 1] = s[col or "dau"][i] end
  return out
end

describe("series generators", function()
  it("a constant gives the same count every day", function()
    local s = S.build { from = "2021-03-01", days = 5, dau = S.constant(1234), groups = 7 }
    assert.same({ 1234, 1234, 1234, 1234, 1234 }, days(s))
    assert.same({ 7, 7, 7, 7, 7 }, days(s, "groups"))
    assert.equal("2021-03-05", s:to())
  end)

  it("linear growth per day rounds start + slope x t half-up", function()
    local s = S.build { from = "2021-03-01", days = 4, dau = S.linear { start = 100, per_day = "2.5" } }
    assert.same({ 100, 103, 105, 108 }, days(s))
  end)

  -- round_half_up of a negative product is half away from zero, as cents (docs/whatif.md)
  it("linear decline rounds a half away from zero: 100 - 0.5 is 99", function()
    local s = S.build { from = "2021-03-01", days = 6, dau = S.linear { start = 100, per_day = "-0.5" } }
    assert.same({ 100, 99, 99, 98, 98, 97 }, days(s))
  end)

  it("linear growth per month steps on the 1st of each month, and never goes below 0", function()
    local s = S.build { from = "2021-01-30", days = 4, dau = S.linear { start = 100, per_month = 1000 } }
    assert.same({ 100, 100, 1100, 1100 }, days(s))
    local d = S.build { from = "2021-01-01", days = 3, dau = S.linear { start = 1, per_day = -1 } }
    assert.same({ 1, 0, 0 }, days(d))
  end)

  it("compound monthly growth: v(k+1) = round_half_up(v(k) x (1 + rate)), constant within a month", function()
    local s = S.build { from = "2021-01", months = 7, dau = S.compound { start = 10000, rate = "10%" } }
    local peaks = {}
    for _, m in ipairs(s:monthly()) do peaks[#peaks + 1] = m.peak_dau end
    assert.same({ 10000, 11000, 12100, 13310, 14641, 16105, 17716 }, peaks)
    -- the same rate as basis points or parts per million
    local b = S.build { from = "2021-01", months = 7, dau = S.compound { start = 10000, rate_bp = 1000 } }
    local p = S.build { from = "2021-01", months = 7, dau = S.compound { start = 10000, rate_ppm = 100000 } }
    assert.same(s.dau, b.dau)
    assert.same(s.dau, p.dau)
  end)

  -- "What if DAU grows 8% a month for 24 months": each month's DAU is the
  -- last one's times 1.08, rounded half-up to whole users, the rounding
  -- carried forward (never 10000 x 1.08^k rounded once), as the grid and
  -- col:grow compound it.
  it("compound growth of 8% a month for 24 months rounds every month, as the grid and col:grow do", function()
    local s = S.build { from = "2023-01", months = 24, dau = S.compound { start = 10000, rate = "8%" } }
    local peaks = {}
    for _, m in ipairs(s:monthly()) do peaks[#peaks + 1] = m.peak_dau end
    assert.same({ 10000, 10800, 11664, 12597, 13605, 14693, 15868, 17137, 18508, 19989, 21588, 23315, 25180, 27194,
                  29370, 31720, 34258, 36999, 39959, 43156, 46608, 50337, 54364, 58713 }, peaks)
    -- 12597 x 1.08 = 13604.76 -> 13605, as 10000 x 1.08^4 = 13604.89 rounded once, but by month 24
    -- the rounding carried forward gives 58713 where 10000 x 1.08^23 = 58714.64 rounded once is 58715
    local col = H.imbill.column { 10000 }
    for k = 0, 23 do assert.equal(peaks[k + 1], col:grow("8%", k):get(1)) end
  end)

  -- The product of a count and a ratio may pass 2^53 where the count does
  -- not: it is taken in 128 bits, so a series grows as far as a grid does
  -- (a level of 590,490,000 at 800% a month was "too large to compute
  -- exactly"), and only a count past 2^53 is refused, the same on both runtimes.
  it("compound growth is exact up to 2^53 whatever the product, and refuses a count past it", function()
    local s = S.build { from = "2023-01", months = 13, dau = S.compound { start = 10000, rate = 8 } }
    local v = 10000
    for k, m in ipairs(s:monthly()) do
      assert.equal(v, m.peak_dau, "month " .. k)
      if k < 13 then v = H.imbill.core.grid_grow(v, 8000000) end
    end
    assert.equal(2824295364810000, s:monthly()[13].peak_dau) -- 9^12 x 10000
    local big = S.build { from = "2023-01", months = 3,
                          dau = S.compound { start = 10 ^ 12, rate = "8%" } * S.weekly { sat = "1.2" } }
    assert.equal(1296000000000, big:monthly()[2].peak_dau) -- 1.08 x 10^12 on a Saturday, x 1.2
    assert.equal("imbill.series.build: dau: 2824295364810000 x 9000000 / 1000000 is beyond 2^53, more than a count"
      .. " can be exactly", H.err(S.build, { from = "2023-01", months = 14, dau = S.compound { start = 10000, rate = 8 } }))
  end)

  it("compound daily growth compounds from day to day", function()
    local s = S.build { from = "2021-01-01", days = 5, dau = S.compound { start = 100, rate = 0.01, per = "day" } }
    assert.same({ 100, 101, 102, 103, 104 }, days(s))
  end)

  it("weekly seasonality multiplies by the factor of the weekday", function()
    -- 2021-03-06 is a Saturday, 2021-03-07 a Sunday
    local s = S.build { from = "2021-03-05", days = 4, dau = S.constant(1000) * S.weekly { sat = "1.5", sun = "120%" } }
    assert.same({ 1000, 1500, 1200, 1000 }, days(s))
    assert.equal(6, S.weekday(dates.day("2021-03-06")))
  end)

  it("a step adds a count (by) or multiplies (times) from its day on", function()
    local s = S.build { from = "2021-03-30", days = 4, dau = S.constant(100) + S.step { on = "2021-04-01", by = 50 },
                        groups = S.constant(10) * S.step { on = "2021-03-31", times = 3 } }
    assert.same({ 100, 100, 150, 150 }, days(s))
    assert.same({ 10, 30, 30, 30 }, days(s, "groups"))
  end)

  it("build refuses a generator of one's own that gives no whole number, naming the day", function()
    local G = require "imbill.whatif.generators"
    local function gen(v) return G.new("level", function() return v end, "mine") end
    assert.equal("imbill.series.build: dau: gives a value that is not a whole number on 2023-01-01, got 1.5",
      H.err(S.build, { from = "2023-01-01", days = 3, dau = gen(1.5) }))
    assert.equal("imbill.series.build: dau: gives no number on 2023-01-01, got \"5\"",
      H.err(S.build, { from = "2023-01-01", days = 3, dau = gen("5") }))
    assert.equal("imbill.series.build: groups: gives a value that is not a whole number on 2023-01-01, got nan",
      H.err(S.build, { from = "2023-01-01", days = 3, dau = 1, groups = gen(0 / 0) }))
    -- a whole number is taken (a level below 0 is 0, as for the built-in generators)
    local s = S.build { from = "2023-01-01", days = 3, dau = gen(7.0), groups = gen(-3) }
    assert.equal(7, s:month("2023-01").peak_dau)
    assert.equal(0, s:month("2023-01").groups_peak)
  end)

  it("noise refuses an amplitude its draws cannot spread uniformly (10^12 gave values near -n only)", function()
    assert.equal("imbill.series.noise: amplitude: must be at most 1000000 (the draws are uniform only well below 2^31);"
      .. " for a wider spread use relative = a ratio, got 1000001", H.err(S.noise, { seed = 3, amplitude = 1000001 }))
    local s = S.build { from = "2021-01-01", months = 12, dau = S.constant(1000000) + S.noise { seed = 3, amplitude = 1000000 } }
    local lo, hi = math.huge, 0
    for _, m in ipairs(s:months()) do
      for _, d in ipairs(s:usage(m).dau) do lo, hi = math.min(lo, d), math.max(hi, d) end
    end
    -- both halves of -n .. n are reached
    assert.is_true(lo < 500000 and hi > 1500000 and hi <= 2000000)
  end)

  it("noise with a fixed seed is the same series every run, within its amplitude", function()
    local function mk()
      return S.build { from = "2021-01-01", days = 60, dau = S.constant(10000) + S.noise { seed = 7, amplitude = 10 } }
    end
    local a, b = mk(), mk()
    assert.same(a.dau, b.dau)
    -- first draw after seed 7: 48271 x 7 mod (2^31 - 1) = 337897; 337897 mod 21 - 10 = -3
    assert.equal(9997, a.dau[1])
    for _, v in ipairs(a.dau) do assert.is_true(v >= 9990 and v <= 10010) end
    local c = S.build { from = "2021-01-01", days = 60, dau = S.constant(10000) + S.noise { seed = 8, amplitude = 10 } }
    assert.are_not.same(a.dau, c.dau)
    local r = S.build { from = "2021-01-01", days = 30, dau = S.constant(10000) * S.noise { seed = 1, relative = "5%" } }
    for _, v in ipairs(r.dau) do assert.is_true(v >= 9500 and v <= 10500) end
  end)

  it("a ramp moves a factor in a straight line between two dates (DAU doubling by summer)", function()
    local s = S.build { from = "2021-01-01", to = "2021-01-05",
                        dau = S.constant(1000) * S.ramp { from = "2021-01-02", to = "2021-01-04", finish = "2" } }
    assert.same({ 1000, 1000, 1500, 2000, 2000 }, days(s))
  end)

  it("generators combine: (compound + step) x weekly", function()
    local g = (S.compound { start = 1000, rate = "100%" } + S.step { on = "2021-02-01", by = 10 }) * S.weekly { mon = 2 }
    local s = S.build { from = "2021-01-31", days = 3, dau = g }
    -- 2021-01-31 Sunday: 1000; 2021-02-01 Monday: (2000 + 10) x 2; 2021-02-02: 2010
    assert.same({ 1000, 4020, 2010 }, days(s))
  end)

  it("months of any length, across year ends and leap years", function()
    local s = S.build { from = "2020-12-15", months = 3, dau = 1 }
    assert.equal("2021-02-28", s:to())
    assert.equal(17 + 31 + 28, s.n)
    assert.same({ "2020-12", "2021-01", "2021-02" }, s:months())
    local ms = s:monthly()
    assert.equal(17, ms[1].days)
    assert.is_false(ms[1].complete)
    assert.is_true(ms[2].complete)
    local leap = S.build { from = "2024-02", months = 1, dau = 1 }
    assert.equal(29, leap.n)
  end)

  it("a month's summary: peaks with their days, MAU from a ratio", function()
    local s = S.build { from = "2021-03", months = 1, dau = S.linear { start = 100, per_day = 10 }, groups = 5,
                        mau_ratio = "2.5" }
    local m = s:month("2021-03")
    assert.equal(400, m.peak_dau)
    assert.equal("2021-03-31", m.peak_dau_day)
    assert.equal(1000, m.mau)
    local u = s:usage("2021-03")
    assert.equal(31, #u.dau)
    local inv = H.imbill.invoice { book = "2020", edition = "pro", month = "2021-03", dau = u.dau, groups = u.groups }
    assert.equal("149.99", tostring(inv.total))
  end)

  it("applies factors to an existing series (history x ramp)", function()
    local s = S.build { from = "2021-01-01", days = 3, dau = 1000 }
    local t = s:times { dau = "1.5" }
    assert.same({ 1500, 1500, 1500 }, t.dau)
    assert.same({ 1000, 1000, 1000 }, s.dau)
    local h = S.build { from = "2021-01-01", days = 3, dau = S.history(s, "dau") * S.factor(2) }
    assert.same({ 2000, 2000, 2000 }, h.dau)
  end)

  -- A history's month-to-date MAU is at least the day's DAU (the reader
  -- refuses less); scaling DAU past it gave a month of 30,465 peak DAU with
  -- 28,434 MAU, and a MAU plan billed for fewer users than were active.
  it("refuses factors that carry a day's DAU above its month-to-date MAU; scaling both keeps them whole", function()
    local s = S.from_table { from = "2021-03-01", dau = { 10, 20 }, mau = { 30, 40 } }
    assert.equal("series:times: dau: on 2021-03-02 the day's DAU 60 is above its month-to-date MAU 40 (the series' mau"
      .. " column): every user active on a day is active in its month; scale mau too (mau = a factor)",
      H.err(s.times, s, { dau = 3 }))
    assert.matches("^series:times: mau: on 2021%-03%-02 the day's DAU 20 is above its month%-to%-date MAU 16",
      H.err(s.times, s, { mau = "0.4" }))
    -- the boundary: DAU equal to MAU is every user of the month active that day
    assert.same({ 30, 60 }, s:times { dau = 3, mau = "1.5" }.dau)
    assert.same({ 45, 60 }, s:times { dau = 3, mau = "1.5" }.mau)
    assert.same({ 20, 40 }, s:times { dau = 2 }.dau)
    -- build holds the same rule for generated columns (it kept MAU 40 for a month of 50 DAU)
    assert.equal("imbill.series.build: mau: on 2021-03-02 the month-to-date MAU 40 is below the day's DAU 50: every"
      .. " user active on a day is active in its month",
      H.err(S.build, { from = "2021-03-01", days = 3, dau = S.linear { start = 30, per_day = 20 }, mau = 40 }))
    assert.equal(40, S.build { from = "2021-03-01", days = 3, dau = 40, mau = 40 }:month("2021-03").mau)
    -- a series without a mau column (or with a ratio) has nothing to contradict
    assert.same({ 30, 60 }, S.from_table { from = "2021-03-01", dau = { 10, 20 } }:times { dau = 3 }.dau)
  end)

  -- A month's active users include every user of its busiest day: MAU is at
  -- least the peak DAU, so a ratio below 1 states an impossible month (0.5 x
  -- 100 DAU billed a MAU plan for 50 users). 1 is the boundary. One rule for
  -- every place a ratio makes MAU from DAU.
  it("refuses an MAU-per-DAU ratio below 1 wherever one makes MAU from DAU, and takes 1", function()
    local why = "must be at least 1: a month's active users include every user of its busiest day"
    local im = H.imbill
    assert.equal("imbill.series.build: mau_ratio: " .. why .. ', got "0.5"',
      H.err(S.build, { from = "2023-01-01", days = 3, dau = 100, mau_ratio = "0.5" }))
    assert.equal("imbill.series.parse_csv: mau_ratio: " .. why .. ", got 0.99",
      H.err(S.parse_csv, "date,dau,groups\n2023-01-05,100,5\n", { mau_ratio = 0.99 }))
    local plain = S.parse_csv "date,dau,groups\n2023-01-05,100,5\n"
    assert.equal("series:with_mau_ratio: ratio: " .. why .. ', got "90%"', H.err(plain.with_mau_ratio, plain, "90%"))
    assert.equal("imbill.grid: mau_per_dau: " .. why .. ', got "0.5"',
      H.err(im.grid, { editions = { "2022/standard" }, start_dau = { 100 }, mau_per_dau = "0.5", months = 1 }))
    assert.equal("imbill.project: mau_per_dau: " .. why .. ', got "0.5"',
      H.err(im.project, { usage = plain, books = { "2022" }, mau_per_dau = "0.5" }))
    assert.equal("imbill.breakeven_table: follow.mau: " .. why .. ', got "0.5"',
      H.err(im.breakeven_table, { editions = { "2021/pro", "2022/standard" }, follow = { mau = "0.5" }, to = 100 }))
    assert.matches("mau_per_dau: " .. why:gsub("%p", "%%%0"),
      H.err(im.compare, { month = "2023-01", peak_dau = 100, groups_peak = 0, mau_per_dau = "0.5" }))
    -- 1: every user of the month active on its busiest day
    assert.equal(100, S.build { from = "2023-01-01", days = 3, dau = 100, mau_ratio = 1 }:month("2023-01").mau)
    assert.equal(100, plain:with_mau_ratio("100%"):month("2023-01").mau)
  end)

  it("rejects bad generator arguments, naming the field and value", function()
    assert.matches("imbill.series.compound: rate: must be above %-100%%", H.err(S.compound, { start = 1, rate = "-100%" }))
    assert.matches("start: must not be negative, got %-1", H.err(S.compound, { start = -1, rate = "1%" }))
    assert.matches("weekly: sunday: unknown field", H.err(S.weekly, { sunday = 2 }))
    -- the two forms do not mix: the named Saturday would be ignored
    assert.equal('imbill.series.weekly: factors: expected a list of 7 factors, Monday first (or only named days), '
      .. 'not named fields, got "sat"', H.err(S.weekly, { 1, 1, 1, 1, 1, "1.5", "1.5", sat = "2" }))
    assert.matches('step: on: malformed date %(expected YYYY%-MM%-DD%), got "tomorrow"',
      H.err(S.step, { on = "tomorrow", by = 1 }))
    assert.matches("more than 6 decimals", H.err(S.factor, 0.1234567))
    -- a ratio written as text finer than a millionth says so, not that it is no ratio
    assert.equal('imbill.series.factor: r: has more than 6 decimals, got "0.1234567"', H.err(S.factor, "0.1234567"))
    assert.equal('imbill.series.compound: rate: a percentage may have at most 4 decimals, got "0.0000001%"',
      H.err(S.compound, { start = 1, rate = "0.0000001%" }))
    assert.matches('expected a ratio such as "1.5", "5%%" or 0.05, got "1.5.5"', H.err(S.factor, "1.5.5"))
    assert.matches("two levels cannot be multiplied", H.err(function() return S.constant(1) * S.constant(2) end))
    assert.matches("build: to: give exactly one of to, days, months",
      H.err(S.build, { from = "2021-01-01", dau = 1 }))
    assert.matches("build: dau: expected a whole number or a generator",
      H.err(S.build, { from = "2021-01-01", days = 1, dau = "x" }))
    assert.matches("build: from: malformed date", H.err(S.build, { from = "2021-1-1", days = 1, dau = 1 }))
  end)
end)

describe("the CSV usage history reader", function()
  local function csv(lines) return table.concat(lines, "\n") .. "\n" end

  it("reads the documented header in any column order, with comments, CRLF and quotes", function()
    local s = S.parse_csv("\239\187\191# exported from the console\r\ngroups,date,dau,mau\r\n"
      .. "120000,2021-01-31,25000,80000\r\n\r\n\"121000\",2021-02-01,26000,50000\r\n")
    assert.equal("2021-01-31", s:from())
    assert.same({ 25000, 26000 }, s.dau)
    assert.same({ 120000, 121000 }, s.groups)
    local jan, feb = s:month("2021-01"), s:month("2021-02")
    assert.equal(80000, jan.mau)
    assert.equal(50000, feb.mau)
    assert.equal(1, jan.days)
    assert.equal(28, feb.days_in_month)
  end)

  it("rows may come in any order and split into months at month boundaries", function()
    local s = S.parse_csv(csv { "date,dau,groups", "2021-02-01,7,1", "2021-01-31,9,2", "2021-01-30,3,3" })
    assert.same({ 3, 9, 7 }, s.dau)
    assert.equal(9, s:month("2021-01").peak_dau)
    assert.equal(7, s:month("2021-02").peak_dau)
  end)

  it("reads the optional quota columns and features", function()
    local s = S.parse_csv(csv { "date,dau,groups,accounts,av_rooms,members,features",
      "2021-03-01,10,1,500,3,150,read_receipts;push_all", "2021-03-02,10,1,600,2,180," })
    local m = s:month("2021-03")
    assert.equal(600, m.accounts)
    assert.equal(3, m.av_rooms)
    assert.equal(180, m.members)
    assert.same({ "push_all", "read_receipts" }, m.needs)
  end)

  it("refuses a month-to-date MAU below the day's DAU, naming the line and both values", function()
    -- every user active on a day is active in its month: MAU 40 with DAU 50 cannot be,
    -- and would bill a MAU plan for fewer users than logged in on one day
    assert.equal("imbill.series.parse_csv: usage.csv:3: column 4 (mau): month-to-date MAU 40 is below the day's DAU"
      .. " 50 (column 2): every user active on 2021-03-02 is active in its month, got 40",
      H.err(S.parse_csv, csv { "date,dau,groups,mau", "2021-03-01,10,1,10", "2021-03-02,50,1,40" },
        { name = "usage.csv" }))
    -- the boundary: a MAU equal to the day's DAU is every user of the month active that day
    assert.equal(50, S.parse_csv(csv { "date,dau,groups,mau", "2021-03-01,10,1,10", "2021-03-02,50,1,50" })
      :month("2021-03").mau)
    -- an empty mau cell states nothing (it carries the day before)
    assert.equal(10, S.parse_csv(csv { "date,dau,groups,mau", "2021-03-01,10,1,10", "2021-03-02,5,1," })
      :month("2021-03").mau)
    assert.equal("imbill.series.from_table: mau[2]: month-to-date MAU is below the day's DAU (dau[2] = 50): every"
      .. " user active on a day is active in its month, got 40",
      H.err(S.from_table, { from = "2021-03-01", dau = { 10, 50 }, mau = { 10, 40 } }))
  end)

  -- The rule holds for what an empty cell carries too: carried from a day
  -- with fewer users, or from no day at all (the first day read as 0), it
  -- gave a month's MAU below its own peak DAU (MAU 10 for a month of 20 DAU).
  it("refuses an empty MAU cell whose carried value is below the day's DAU, and an empty first-day cell", function()
    assert.equal("imbill.series.parse_csv: usage.csv:3: column 4 (mau): is empty, and the MAU it would carry from the"
      .. " day before, 10, is below the day's DAU 20 (column 2): give the day's month-to-date MAU, got \"\"",
      H.err(S.parse_csv, csv { "date,dau,groups,mau", "2021-03-01,5,1,10", "2021-03-02,20,1," }, { name = "usage.csv" }))
    assert.equal("imbill.series.parse_csv: usage.csv:2: column 4 (mau): is empty on the first day, which has no day"
      .. " before to carry from, and the day's DAU is 5 (column 2): give the day's month-to-date MAU, got \"\"",
      H.err(S.parse_csv, csv { "date,dau,groups,mau", "2021-03-01,5,1,", "2021-03-02,20,1,30" }, { name = "usage.csv" }))
    -- the boundaries: carried equal to the day's DAU, and an empty first day of no users, are whole
    assert.equal(20, S.parse_csv(csv { "date,dau,groups,mau", "2021-03-01,5,1,20", "2021-03-02,20,1," })
      :month("2021-03").mau)
    assert.same({ 0, 9 }, S.parse_csv(csv { "date,dau,groups,mau", "2021-03-01,0,1,", "2021-03-02,7,1,9" }).mau)
  end)

  -- A month-to-date MAU starts again on the 1st.  An empty cell there, or a
  -- missing day filled by carrying, took the last month's count: 60,000 on
  -- 03-31 became April's MAU, and 2022 standard billed 1,149.00 for a month
  -- of 150 users instead of 399.00.
  it("carries no month-to-date MAU into a new month", function()
    assert.equal("imbill.series.parse_csv: usage.csv:3: column 4 (mau): is empty on the 1st of a month, where a"
      .. " month-to-date count starts again and carries nothing from the month before, and the day's DAU is 100"
      .. " (column 2): give the day's month-to-date MAU, got \"\"",
      H.err(S.parse_csv, csv { "date,dau,groups,mau", "2023-03-31,100,5,60000", "2023-04-01,100,5,",
                               "2023-04-02,100,5,150" }, { name = "usage.csv" }))
    -- the boundaries: a 1st of no users carries 0, and the 2nd carries the 1st
    assert.same({ 60000, 0, 0, 150 }, S.parse_csv(csv { "date,dau,groups,mau", "2023-03-31,100,5,60000",
      "2023-04-01,0,5,", "2023-04-02,0,5,", "2023-04-03,100,5,150" }).mau)
    -- missing days carried across the month's end: from the 1st, the day's users
    local c = S.parse_csv(csv { "date,dau,groups,mau", "2023-03-30,100,5,59000", "2023-04-03,120,5,150" },
      { missing = "carry" })
    assert.same({ 100, 100, 100, 100, 120 }, c.dau)
    assert.same({ 59000, 59000, 100, 100, 150 }, c.mau)
    assert.equal(59000, c:month("2023-03").mau)
    assert.equal(150, c:month("2023-04").mau)
    assert.equal("days 2023-03-31..2023-04-02 missing, filled with the previous day's values (from the 1st of a"
      .. " month, the month-to-date MAU the day's DAU: it starts again)", c.notes[1])
    local u = c:usage("2023-04")
    local inv = H.imbill.invoice { book = "2022", edition = "standard", month = "2023-04", dau = u.dau,
                                   groups = u.groups, mau = c:month("2023-04").mau }
    assert.equal("399.00", tostring(inv.total))
    -- within a month a carried MAU is the day before's, as it was
    local w = S.parse_csv(csv { "date,dau,groups,mau", "2023-04-01,10,5,10", "2023-04-04,12,5,30" },
      { missing = "carry" })
    assert.same({ 10, 10, 10, 30 }, w.mau)
    assert.equal("days 2023-04-02..2023-04-03 missing, filled with the previous day's values", w.notes[1])
  end)

  it("names the line and column of a malformed row", function()
    assert.equal('imbill.series.parse_csv: usage.csv:3: column 2 (dau): expected a whole number >= 0, got "12.5"',
      H.err(S.parse_csv, csv { "date,dau,groups", "2021-03-01,1,1", "2021-03-02,12.5,1" }, { name = "usage.csv" }))
    assert.matches('input:2: column 1 %(date%): no such date, got "2021%-02%-30"',
      H.err(S.parse_csv, csv { "date,dau,groups", "2021-02-30,1,1" }))
    assert.matches("input:2: column 3 %(groups%): expected a whole number >= 0, got \"%-4\"",
      H.err(S.parse_csv, csv { "date,dau,groups", "2021-02-03,1,-4" }))
    assert.matches("input:3: has 4 columns, the header has 3",
      H.err(S.parse_csv, csv { "date,dau,groups", "2021-02-03,1,4", "2021-02-04,1,4,5" }))
    -- one field in the singular (it said "has 1 columns")
    assert.matches("input:3: has 1 column, the header has 3",
      H.err(S.parse_csv, csv { "date,dau,groups", "2021-02-03,1,4", "2021-02-04" }))
    assert.matches("input:3: has 2 columns, the header has 3",
      H.err(S.parse_csv, csv { "date,dau,groups", "2021-02-03,1,4", "2021-02-04,1" }))
    assert.matches("input:2: column 4 %(features%): unknown feature \"teleport\"",
      H.err(S.parse_csv, csv { "date,dau,groups,features", "2021-02-03,1,4,teleport" }))
    assert.matches("input:2: column 2: unterminated or misplaced quote",
      H.err(S.parse_csv, csv { "date,dau,groups", "2021-02-03,\"1,4" }))
  end)

  it("checks the header", function()
    assert.matches("input:1: column 3: unknown column \"grups\"", H.err(S.parse_csv, "date,dau,grups\n"))
    assert.matches("input:1: the header has no \"groups\" column", H.err(S.parse_csv, "date,dau\n"))
    assert.matches("input:1: column 3: column \"dau\" appears twice", H.err(S.parse_csv, "date,dau,dau,groups\n"))
    assert.matches("no header line", H.err(S.parse_csv, "# nothing\n"))
    assert.matches("no data rows", H.err(S.parse_csv, "date,dau,groups\n"))
  end)

  it("refuses missing days unless asked to fill them with zeros or the previous day", function()
    local text = csv { "date,dau,groups", "2021-03-01,10,1", "2021-03-04,40,4" }
    assert.matches("input:3: missing days 2021%-03%-02%.%.2021%-03%-03 %(between line 2 and line 3%)",
      H.err(S.parse_csv, text))
    local z = S.parse_csv(text, { missing = "zero" })
    assert.same({ 10, 0, 0, 40 }, z.dau)
    local c = S.parse_csv(text, { missing = "carry" })
    assert.same({ 10, 10, 10, 40 }, c.dau)
    assert.matches("2021%-03%-02%.%.2021%-03%-03 missing", c.notes[1])
  end)

  it("refuses duplicate days unless asked to keep the larger or the last value", function()
    local text = csv { "date,dau,groups", "2021-03-01,10,5", "2021-03-01,8,9" }
    assert.equal("imbill.series.parse_csv: input:3: duplicate day 2021-03-01 (also on line 2)", H.err(S.parse_csv, text))
    local m = S.parse_csv(text, { duplicates = "max" })
    assert.same({ 10 }, m.dau)
    assert.same({ 9 }, m.groups)
    local l = S.parse_csv(text, { duplicates = "last" })
    assert.same({ 8 }, l.dau)
    -- the last row as written: its empty cell carries the day before, not
    -- the earlier row's value (it kept MAU 500 with the last row's DAU 200)
    local e = S.parse_csv(csv { "date,dau,groups,mau", "2023-03-04,100,5,300", "2023-03-05,100,5,500",
                                "2023-03-05,200,5," }, { duplicates = "last" })
    assert.same({ 100, 200 }, e.dau)
    assert.same({ 300, 300 }, e.mau)
    assert.equal(300, e:month("2023-03").mau)
  end)

  it("reads a file and writes the same series back as CSV", function()
    local s = S.build { from = "2021-12-30", days = 4, dau = S.linear { start = 10, per_day = 1 }, groups = 3,
                        mau = 50 }
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(s:csv())
    f:close()
    local r = S.read_csv(path)
    os.remove(path)
    assert.same(s.dau, r.dau)
    assert.same(s.mau, r.mau)
    assert.equal("2022-01-02", r:to())
    assert.matches("read_csv: path: cannot open", H.err(S.read_csv, "/nonexistent/usage.csv"))
  end)

  it("the example history files read cleanly", function()
    local s = S.read_csv(H.top .. "/examples/data/usage_2021.csv")
    assert.equal("2021-01-01", s:from())
    assert.equal("2021-12-31", s:to())
    assert.is_true(s:has_mau())
  end)
end)
