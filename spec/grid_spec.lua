-- Batch grids (issue 4): editions x growth rates x starting DAU through the C
-- fast path, results kept as arrays and summarised without a table per scenario.
local H = require "helper"
local G = require "support.grid_oracle"

describe("what-if grids", function()
  it("prices a scenario as the sum of full months with DAU compounded month by month", function()
    -- 2021 pro, 25,000 DAU growing 100% a month for 2 months, no groups:
    -- month 1: 449.99 + 2 x 449.99; month 2 (50,000 DAU): 449.99 + 4 x 449.99
    local g = H.imbill.grid { editions = { "2021/pro" }, growth = { "100%" }, start_dau = { 25000 }, months = 2 }
    assert.equal(1, g:size())
    assert.equal("3599.92", tostring(g:get(1)))
    assert.equal(359992, g:cents(1))
  end)

  it("takes growth and start_dau as lists (or a range): a named entry would be a scenario left out", function()
    local function g(growth, start)
      return H.err(H.imbill.grid, { editions = { "2021/pro" }, growth = growth, start_dau = start, months = 1 })
    end
    assert.equal('imbill.grid: growth: expected a list of rates, not named fields, got "x"', g({ "0%", x = "5%" }, { 5000 }))
    -- a range given as growth is said to be one, with where a range goes
    assert.equal('imbill.grid: growth: takes a list of rates ({ "0%", "5%" }); a range is growth_bp = { from =, to =, '
      .. 'step = } (basis points) or growth_ppm, got table', g({ from = "0%", to = "5%" }, { 5000 }))
    assert.equal('imbill.grid: start_dau: expected a list of whole numbers, not named fields, got "x"',
      g({ "0%" }, { 5000, x = 6000 }))
    assert.equal(4, H.imbill.grid { editions = { "2021/pro" }, growth = { "0%", "5%" },
                                    start_dau = { from = 5000, to = 6000, step = 1000 }, months = 1 }:size())
  end)

  it("rounds the monthly growth half-up on whole users", function()
    -- 15 x 1.1 = 16.5 -> 17; 17 x 1.1 = 18.7 -> 19
    assert.equal(17, H.imbill.core.grid_grow(15, 100000))
    assert.equal(19, H.imbill.core.grid_grow(17, 100000))
    assert.equal(14, H.imbill.core.grid_grow(15, -50000)) -- 14.25 -> 14
  end)

  it("agrees with the core's month total at the edges of its 64-bit fast path", function()
    local ed = H.imbill.book("2021"):edition("pro")
    local starts = { 0, 10000, 10001, 10 ^ 11, 10 ^ 12, 10 ^ 13, 10 ^ 14, 2 ^ 47 }
    local g = H.imbill.grid { editions = { "2021/pro" }, growth = { 0 }, start_dau = starts, months = 1,
                              groups = 10 ^ 12, mau_per_dau = 1 }
    for i, d in ipairs(starts) do
      assert.equal(H.imbill.core.month_total(ed.rate, d, 10 ^ 12, d), g:cents(i), "start " .. d)
    end
    -- past 2^50 users the month's arithmetic still fits in 64 bits, but the
    -- total (50,668,869,807,893.16) is more than money holds: no grid answers it
    assert.equal(5066886980789316, H.imbill.core.month_total(ed.rate, 2 ^ 50, 10 ^ 12, 2 ^ 50))
    assert.matches("scenario 1: 2021/pro at 0%% a month from 1,125,899,906,842,624 DAU over 1 month: the total is more "
      .. "than money holds",
      H.err(H.imbill.grid, { editions = { "2021/pro" }, growth = { 0 }, start_dau = { 2 ^ 50 }, months = 1,
                             groups = 10 ^ 12, mau_per_dau = 1 }))
  end)

  it("lays scenarios out edition-major, then growth, then starting DAU", function()
    local g = H.imbill.grid { editions = { "2020/pro", "2021/pro" }, growth_bp = { 0, 500 }, start_dau = { 1, 2, 3 } }
    assert.equal(12, g:size())
    local sc = g:scenario(g:index(2, 2, 3))
    assert.equal("2021/pro", sc.edition)
    assert.equal("5%", sc.growth)
    assert.equal(3, sc.start_dau)
    assert.equal(12, g:index(2, 2, 3))
  end)

  it("gives exactly the pure-Lua reference's totals (same definitions)", function()
    local spec = { growth = { "-5%", "0%", "3.5%", "12.25%" }, start_dau = { from = 0, to = 120000, step = 4999 },
                   months = 13, groups = 90000, groups_per_dau = "1.5", mau_per_dau = "3.2" }
    local c = H.imbill.grid(spec):totals()
    local l = G.run_lua(spec)
    assert.equal(#l, #c)
    assert.same(l, c)
  end)

  it("summarises in C exactly as sorting the pure-Lua array does", function()
    local spec = { editions = { "2020/pro", "2021/ultimate", "2022/standard" }, growth = { "0%", "10%" },
                   start_dau = { from = 500, to = 80000, step = 1500 }, months = 6, mau_per_dau = 3 }
    local g = H.imbill.grid(spec)
    local s, r = g:summary(), G.summarize(G.run_lua(spec))
    for _, k in ipairs { "min", "max", "mean", "p5", "p25", "p50", "p75", "p95" } do
      assert.equal(tostring(r[k]), tostring(s[k]), k)
    end
    assert.equal(r.argmin, s.argmin.index)
    assert.equal("99.9" and tostring(g:percentile("99.9")), tostring(g:percentile(99.9)))
    assert.equal(tostring(s.max), tostring(g:percentile(100)))
    assert.equal(tostring(s.min), tostring(g:percentile(0)))
    -- a "%" is the unit p is in: "50%" is the median, not the 0.5th percentile
    assert.equal(tostring(g:percentile(50)), tostring(g:percentile("50%")))
    assert.is_true(g:percentile(0.5) < g:percentile("50%"))
    assert.equal(tostring(g:percentile(99.9)), tostring(g:percentile("99.9%")))
  end)

  it("summarises per edition and counts which edition wins each scenario", function()
    local g = H.imbill.grid { editions = { "2021/pro", "2021/ultimate" }, growth = { 0 }, start_dau = { 5000, 50000 } }
    local w = g:wins()
    assert.same({ edition = "2021/pro", wins = 2, ties = 0 }, w[1])
    assert.same({ edition = "2021/ultimate", wins = 0, ties = 0 }, w[2])
    local by = g:by_edition { 50 }
    assert.equal("2021/ultimate", by[2].edition)
    assert.equal(tostring(H.imbill.money("899.99") * 12), tostring(by[2].min))
  end)

  it("reports progress while it runs in slices", function()
    local seen = {}
    H.imbill.grid { editions = { "2021/pro" }, growth = { 0 }, start_dau = { from = 1, to = 1000 }, chunk = 300,
                    progress = function(done, total) seen[#seen + 1] = done .. "/" .. total end }
    assert.same({ "300/1000", "600/1000", "900/1000", "1000/1000" }, seen)
  end)

  it("handles a million scenarios without a Lua table per scenario", function()
    local g = H.imbill.grid { growth = { "0%", "2%" }, start_dau = { from = 1, to = 100000 }, months = 3,
                              mau_per_dau = "3" }
    assert.equal(6 * 2 * 100000, g:size())
    assert.is_true(g:min() <= g:percentile(50))
    assert.is_true(g:percentile(50) <= g:max())
  end)

  it("refuses an edition billed by MAU without mau_per_dau: a grid's scenarios have DAU only", function()
    -- 2022/standard for a 50,000-DAU app is not 12 x 399.00
    assert.matches("^imbill.grid: mau_per_dau: the usage gives no MAU, and 2022/standard bills MAU",
      H.err(H.imbill.grid, { editions = { "2022/standard" }, start_dau = { 10000, 50000 }, growth = { "5%" } }))
    -- the default editions include book 2022's
    assert.matches("^imbill.grid: mau_per_dau: ", H.err(H.imbill.grid, { start_dau = { 1 } }))
    local g = H.imbill.grid { editions = { "2022/standard" }, start_dau = { 50000 }, months = 1, mau_per_dau = 3 }
    -- 399.00 + (150,000 - 10,000) x 0.015
    assert.equal("2499.00", tostring(g:get(1)))
    assert.matches("assumed: MAU = round_half_up%(3 x DAU%)", tostring(g))
    assert.same({ "MAU = round_half_up(3 x DAU)" }, g:data().assumptions)
  end)

  -- 2020 flagship and 2021 pro both cost 449.99 up to 10,000 DAU: such a case
  -- was counted as the first listed edition's win, so listing them the other
  -- way round turned "flagship cheapest in 2" into "pro cheapest in 2".
  it("counts a case two editions share the lowest total of as a tie for both, a win for neither, in any order", function()
    for _, eds in ipairs { { "2020/flagship", "2021/pro" }, { "2021/pro", "2020/flagship" } } do
      local g = H.imbill.grid { editions = eds, growth = { "0%" }, start_dau = { 5000, 10000, 15000 }, months = 1 }
      local by = {}
      for _, w in ipairs(g:wins()) do by[w.edition] = w end
      -- 5,000 and 10,000 DAU: 449.99 on both; 15,000: flagship 599.98, pro 899.98
      assert.same({ edition = "2020/flagship", wins = 1, ties = 2 }, by["2020/flagship"])
      assert.same({ edition = "2021/pro", wins = 0, ties = 2 }, by["2021/pro"])
      assert.equal(2, g:tied())
      for _, s in ipairs(g:by_edition()) do assert.equal(by[s.edition].ties, s.ties) end
      -- the CSV's all row keeps its columns (its min was under "cheapest" and its mean missing)
      local lines = {}
      for l in g:csv():gmatch("[^\n]+") do lines[#lines + 1] = l end
      assert.equal("edition,scenarios,cheapest,tied,min,p5,p25,p50,p75,p95,max,mean", lines[1])
      assert.equal("all,6,,,449.99,449.99,449.99,449.99,599.98,899.98,899.98,549.99", lines[4])
      assert.matches("tied: 2 %(growth, starting DAU%) cases have more than one cheapest edition",
        require("imbill.report.display").bundle(g)["text/plain"])
    end
    local three = H.imbill.grid { editions = { "2020/flagship", "2021/pro", "2021/ultimate" }, start_dau = { 5000 },
                                  months = 1 }
    assert.same({ 0, 0, 0 }, { three:wins()[1].wins, three:wins()[2].wins, three:wins()[3].wins })
    assert.same({ 1, 1, 0 }, { three:wins()[1].ties, three:wins()[2].ties, three:wins()[3].ties })
  end)

  it("refuses a free edition whose scenarios climb past 2^53 by its cap, the same on both runtimes", function()
    -- 100% a month for 100 months passes 64 bits: the climb stops at 2^53, and the cap is what is said
    -- (Lua 5.4 said "growth: does not fit in 64 bits (got 1000000)", LuaJIT "value ... exceeds 2^53")
    local want = "imbill.grid: editions[1]: 2021/free serves at most 100 peak DAU, and these scenarios reach more than"
      .. " 9,007,199,254,740,992: leave it out, or keep start_dau and growth within its cap, got \"2021/free\""
    assert.equal(want, H.err(H.imbill.grid, { editions = { "2021/free" }, growth = { "100%" }, start_dau = { 1 },
                                              months = 100 }))
    -- a followed MAU past 2^53 (LuaJIT raised a bare "value ... exceeds 2^53" here)
    assert.equal("imbill.grid: editions[1]: 2022/developer serves at most 100 MAU, and these scenarios reach more than"
      .. " 9,007,199,254,740,992: leave it out, or keep start_dau and growth within its cap, got \"2022/developer\"",
      H.err(H.imbill.grid, { editions = { "2022/developer" }, start_dau = { 2 ^ 53 }, months = 1, mau_per_dau = "3" }))
  end)

  it("refuses a free edition whose cap some scenario passes; prices it within its cap", function()
    -- 2021/free serves at most 100 DAU: 0.00 at 5,000 DAU would be no answer
    assert.matches("^imbill.grid: editions%[1%]: 2021/free serves at most 100 peak DAU, and these scenarios reach"
      .. " 5,000", H.err(H.imbill.grid, { editions = { "2021/free", "2021/pro" }, start_dau = { 50, 5000 } }))
    -- growth carries 60 DAU past 100 within the year, rounded month by month:
    -- 63, 66, 69, 72, 76, 80, 84, 88, 92, 97, 102
    assert.matches("reach 102:", H.err(H.imbill.grid, { editions = { "2021/free" }, start_dau = { 60 },
                                                        growth = { "5%" } }))
    local g = H.imbill.grid { editions = { "2021/free", "2021/pro" }, start_dau = { 10, 100 }, growth = { "0%" } }
    assert.same({ edition = "2021/free", wins = 2, ties = 0 }, g:wins()[1])
  end)

  it("gives the mean however large the sum of the totals (past 2^52 cents it failed: 'value: ... x 1 is too large')", function()
    -- 100,001 scenarios near 10^9 DAU: each about 540,000,000 USD a year, their sum 5.4 x 10^15 cents
    local g = H.imbill.grid { editions = { "2021/pro" }, start_dau = { from = 1000000000, to = 1000100000 }, months = 12 }
    assert.equal("540017699.04", tostring(g:mean()))
    assert.equal(tostring(g:mean()), tostring(g:summary().mean))
    assert.equal(g:column():mean(), g:mean():cents())
    -- the exact sum comes with it (below 2^53 here, exact on both runtimes)
    local _, sum = g:mean()
    assert.equal(5400230992200000, sum)
    -- a small grid's mean and sum as before
    local small = H.imbill.grid { editions = { "2021/pro" }, start_dau = { 5000, 15001 }, months = 1 }
    local m, s2 = small:mean()
    assert.equal("674.99", tostring(m)) -- (449.99 + 899.98) / 2 = 674.985, half-up
    assert.equal(134997, s2)
  end)

  it("refuses a growth rate or a starting DAU listed twice, which would count its scenarios twice", function()
    assert.equal("imbill.grid: start_dau[3]: 5,000 is listed twice (also start_dau[1]), got 5000",
      H.err(H.imbill.grid, { editions = { "2021/pro" }, start_dau = { 5000, 6000, 5000 } }))
    -- the same rate written two ways is the same rate
    assert.equal("imbill.grid: growth[2]: 5% is listed twice (also growth[1]), got 0.05",
      H.err(H.imbill.grid, { editions = { "2021/pro" }, growth = { "5%", 0.05 }, start_dau = { 1 } }))
    assert.equal("imbill.grid: growth_bp[2]: 1% is listed twice (also growth_bp[1]), got 100",
      H.err(H.imbill.grid, { editions = { "2021/pro" }, growth_bp = { 100, 100 }, start_dau = { 1 } }))
  end)

  it("refuses an edition listed twice, which would count its scenarios twice", function()
    assert.equal('imbill.grid: editions[3]: 2020/pro is listed twice (also editions[1]), got "2020/pro"',
      H.err(H.imbill.grid, { editions = { "2020/pro", "2021/pro", "2020/pro" }, start_dau = { 1 } }))
    assert.equal('imbill.totals: editions[2]: 2020/pro is listed twice (also editions[1]), got table',
      H.err(H.imbill.totals, { editions = { "2020/pro", { book = "2020", edition = "pro" } }, peak_dau = 1 }))
    assert.equal('imbill.breakeven_table: editions[3]: 2020/pro is listed twice (also editions[1]), got "2020/pro"',
      H.err(H.imbill.breakeven_table, { editions = { "2020/pro", "2020/flagship", "2020/pro" } }))
  end)

  -- A scenario's total over the horizon is money, as an invoice's is: at most
  -- 9223372036854.775807.  With a user book's 838,000,000,000.00 monthly fee,
  -- 11 months are 9218000000000.00; 10^11 DAU add 49,498,900,000.00 more,
  -- past what money holds: the grid refuses that scenario when it is priced,
  -- naming it, instead of answering a total no amount can hold.
  -- A range is counted, not stepped: on LuaJIT 2^53 + 1 is 2^53 again, so a
  -- range ending at 2^53 never ended there (a bare "table overflow").
  it("takes a start_dau range up to 2^53 on both runtimes, as many values as it names", function()
    -- the checked parameters (the grid would price them, past what money holds)
    local spec = require("imbill.whatif.grid").spec
    local function start(r) return spec { editions = { "2021/pro" }, start_dau = r, months = 1 }.start end
    assert.same({ 2 ^ 53 }, start { from = 2 ^ 53, to = 2 ^ 53 })
    assert.same({ 2 ^ 53 - 4, 2 ^ 53 - 2, 2 ^ 53 }, start { from = 2 ^ 53 - 4, to = 2 ^ 53, step = 2 })
    assert.same({ 2 ^ 53 - 5, 2 ^ 53 - 2 }, start { from = 2 ^ 53 - 5, to = 2 ^ 53, step = 3 })
    assert.same({ 5000, 6000 }, start { from = 5000, to = 6999, step = 1000 })
    -- the grid prices the scenario or refuses it; it never loops
    assert.equal("imbill.grid: scenario 1: 2021/pro at 8% a month from 9,007,199,254,740,992 DAU over 2 months: the"
      .. " total is more than money holds (at most 9223372036854.775807)", H.err(H.imbill.grid, { editions = { "2021/pro" },
        growth = { "8%" }, start_dau = { from = 2 ^ 53, to = 2 ^ 53 }, months = 2 }))
    -- a range memory cannot hold is an error naming it, where Lua's own bare
    -- "not enough memory" came out (a child given 1 GB of address space for
    -- 99,999,999 values; ASan aborts on such a request instead of failing it)
    if not os.getenv("ASAN_OPTIONS") then
      local code = "local imbill = require 'imbill' print(select(2, pcall(imbill.grid, { editions = { '2020/pro' }, "
        .. "start_dau = { from = 1, to = 99999999 }, months = 1 })))"
      assert.equal("imbill.grid: start_dau.to: the range has 99999999 values, more than memory holds, got 99999999",
        H.sh(string.format("cd %s && ulimit -v 1000000 && LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH=%s %s -e %s",
          H.q(H.top), H.q(H.cpath .. "/?.so;;"), H.lua, H.q(code))))
    end
  end)

  it("refuses a scenario whose total is more than money holds, naming it", function()
    local b = H.imbill.book { name = "grid-huge", base = "2021", editions = { pro = { monthly_fee = "838000000000.00" } } }
    local fits = H.imbill.grid { editions = { b:edition("pro") }, growth = { "0%" }, start_dau = { 10 }, months = 11 }
    assert.equal("9218000000000.00", tostring(fits:get(1)))
    local want = "imbill.grid: scenario 2: grid-huge/pro at 0% a month from 100,000,000,000 DAU over 11 months: the "
      .. "total is more than money holds (at most 9223372036854.775807)"
    for _, threads in ipairs { 1, 2 } do
      assert.equal(want, H.err(H.imbill.grid, { editions = { b:edition("pro") }, growth = { "0%" },
        start_dau = { 10, 10 ^ 11 }, months = 11, threads = threads }))
    end
  end)

  it("names the first scenario it cannot price by its values, the same on 1 thread and on 2", function()
    -- 5000% a month from 1 DAU passes 64 bits before month 12; scenario 1 (0 DAU) prices
    local spec = { editions = { "2021/pro", "2020/pro" }, growth = { "0%", "1%", "5000%" },
                   start_dau = { from = 0, to = 200000 }, months = 12 }
    local want = "imbill.grid: scenario 400004: 2021/pro at 5000% a month from 1 DAU over 12 months: the total does"
      .. " not fit in 64 bits"
    for _, threads in ipairs { 1, 2 } do
      spec.threads = threads
      local ok, e = pcall(H.imbill.grid, spec)
      assert.is_false(ok)
      assert.equal(want, tostring(e))
      assert.equal("scenario 400004", e.field)
    end
  end)

  it("rejects bad grids, naming the field and value", function()
    assert.matches("imbill.grid: editions%[1%]: price book 2021 has no such edition", H.err(H.imbill.grid,
      { editions = { "2021/flagship" }, start_dau = { 1 } }))
    assert.matches("growth%[1%]: must be above %-100%%", H.err(H.imbill.grid, { growth = { "-100%" }, start_dau = { 1 } }))
    -- the rate shown as a rate, however it was given
    assert.matches('growth%[2%]: must be above %-100%% and at most 10000%%, got "10000%.5%%"$',
      H.err(H.imbill.grid, { growth = { "1%", "10000.5%" }, start_dau = { 1 } }))
    -- a range of rates is written in basis points or parts per million
    assert.equal("imbill.grid: growth: takes a list of rates ({ \"0%\", \"5%\" }); a range is growth_bp = { from =, to =,"
      .. " step = } (basis points) or growth_ppm, got table",
      H.err(H.imbill.grid, { growth = { from = "0%", to = "5%" }, start_dau = { 1 } }))
    -- basis points and parts per million are named as given, with the value given
    assert.equal("imbill.grid: growth_bp[1]: must be above -100% and at most 10000% (-10000 < growth_bp <= 1000000),"
      .. " got -15000", H.err(H.imbill.grid, { growth_bp = { -15000 }, start_dau = { 1 } }))
    assert.equal("imbill.grid: growth_ppm.to: must be above -100% and at most 10000% (-1000000 < growth_ppm <="
      .. " 100000000), got 100000001", H.err(H.imbill.grid, { growth_ppm = { from = 0, to = 100000001 }, start_dau = { 1 } }))
  end)

  it("judges basis points before multiplying: 2^62 + 5 bp is refused, not read as 5 bp after wrapping around", function()
    local big = math.tointeger and math.tointeger(2 ^ 62) + 5 or 2 ^ 62
    assert.matches("^imbill.grid: growth_bp%[1%]: must be above %-100%% and at most 10000%%",
      H.err(H.imbill.grid, { editions = { "2021/pro" }, growth_bp = { big }, start_dau = { 10000 }, months = 2 }))
    assert.matches("^imbill.grid: growth_bp.to: must be above",
      H.err(H.imbill.grid, { editions = { "2021/pro" }, growth_bp = { from = 0, to = big }, start_dau = { 1 } }))
    assert.matches("^imbill.series.compound: rate_bp: must be at most 10000%% %(1000000%)",
      H.err(H.imbill.series.compound, { start = 10000, rate_bp = big }))
    assert.equal("imbill.series.compound: rate_ppm: must be above -100% (-1000000), got -1000000",
      H.err(H.imbill.series.compound, { start = 10000, rate_ppm = -1000000 }))
    -- the edges themselves: -99.99% and 10000% are rates a grid takes
    assert.equal(2, H.imbill.grid { editions = { "2021/pro" }, growth_bp = { -9999, 1000000 }, start_dau = { 1 },
      months = 2 }:size())
    assert.matches("start_dau%[2%]: must not be negative, got %-5", H.err(H.imbill.grid, { start_dau = { 1, -5 } }))
    assert.matches("start_dau: is required", H.err(H.imbill.grid, {}))
    assert.matches("months: expected 1 .. 1200", H.err(H.imbill.grid, { start_dau = { 1 }, months = 0 }))
    assert.matches("imbill.grid: colour: unknown field", H.err(H.imbill.grid, { start_dau = { 1 }, colour = 1 }))
    assert.matches("percentile: p: expected 0 .. 100", H.err(function()
      return H.imbill.grid { start_dau = { 1 }, mau_per_dau = 3 }:percentile(101)
    end))
  end)
end)
