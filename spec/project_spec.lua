-- Projections and the migration question (issue 4), against hand-computed values.
local H = require "helper"
local S = require "imbill.whatif.series"

-- 25,000 DAU, 150,000 groups and 60,000 MAU every day, 2022-10 .. 2023-01:
-- across 2022-10-18 (2021 book: activation month charged by day from then) and
-- 2022-12-26 (the 2022 MAU book starts).
local function flat()
  return S.build { from = "2022-10", months = 4, dau = 25000, groups = 150000, mau = 60000 }
end

local function totals(row)
  local out = {}
  for i, c in ipairs(row.months) do out[i] = tostring(c.total) end
  return out
end

describe("projection", function()
  it("prices every edition month by month, across the 2021-to-2022 book boundary", function()
    local p = H.imbill.project { usage = flat(), books = { "2021", "2022" } }
    assert.same({ "2022-10", "2022-11", "2022-12", "2023-01" }, p.months)
    -- 2021 pro, a new app activated 2022-10-01 (before 2022-10-18): no plan fee in
    -- October; DAU 25,000 = 2 blocks x 449.99, groups 150,000 = 1 block x 449.99
    local pro = p:row("2021/pro")
    assert.same({ "1349.97", "1799.96", "1799.96", "1799.96" }, totals(pro))
    assert.equal("6749.85", tostring(pro.total))
    assert.same({ "1349.97", "2249.96", "2249.96", "2249.96" }, totals(p:row("2021/ultimate")))
    -- 2022 standard: 399.00 (activation on the 1st is a full month by day) +
    -- (60,000 - 10,000) x 0.015 = 750.00
    local std = p:row("2022/standard")
    assert.same({ "1149.00", "1149.00", "1149.00", "1149.00" }, totals(std))
    assert.equal("4596.00", tostring(std.total))
    assert.equal("5796.00", tostring(p:row("2022/premium").total))
    -- free editions cannot serve 25,000 DAU
    assert.is_false(p:row("2021/free").eligible)
    assert.matches("over the free edition", p:row("2022/developer").months[1].reasons[1])
    -- book 2022 starts 2022-12-26: its prices for October and November are
    -- what-ifs, marked as compare marks them, so no answer picks them
    assert.same({ "price book 2022 starts 2022-12-26" }, std.months[1].reasons)
    assert.same({}, std.months[3].reasons)
    assert.is_false(std.eligible)
    local best = {}
    for i, b in ipairs(p.best) do best[i] = b.name end
    assert.same({ "2021/pro", "2021/pro", "2022/standard", "2022/standard" }, best)
    assert.equal("2021/pro", p:cheapest().name)
    assert.equal("6749.85", tostring(p.path.total))
    assert.equal("2021", p.path.book)
    assert.equal("activate pro", p.path.steps[1].change)
    -- no path of book 2022 can serve October
    assert.matches("no legal sequence of editions of price book 2022", p.paths[2].note)
  end)

  it("charges the activation month by day from 2022-10-18 (2021 book)", function()
    local p = H.imbill.project { usage = flat(), books = { "2021" }, editions = { "2021/pro" },
                                 activated = "2022-11-10" }
    local pro = p:row("2021/pro")
    -- October: not activated yet; November: 449.99 x 21/30 = 314.993 -> 314.99,
    -- plus 899.98 DAU and 449.99 group overage
    assert.same({ "0.00", "1664.96", "1799.96", "1799.96" }, totals(pro))
    assert.equal("not activated yet", pro.months[1].note)
    assert.equal("5264.88", tostring(pro.total))
  end)

  it("an app already on a paid edition pays full months from the start", function()
    local p = H.imbill.project { usage = flat(), books = { "2021" }, current = "2021/pro" }
    assert.equal(tostring(H.imbill.money("1799.96") * 4), tostring(p:row("2021/pro").total))
    -- going back to the free edition is not legal in the 2021 book
    assert.is_false(p:row("2021/free").legal)
  end)

  it("finds the cheapest legal path: upgrade only in the months a feature is needed", function()
    -- read receipts are needed in February only (ultimate has them, pro does not)
    local text = { "date,dau,groups,features" }
    for d = 1, 31 do text[#text + 1] = string.format("2022-01-%02d,20000,0,", d) end
    for d = 1, 28 do text[#text + 1] = string.format("2022-02-%02d,20000,0,read_receipts", d) end
    for d = 1, 31 do text[#text + 1] = string.format("2022-03-%02d,20000,0,", d) end
    local s = S.parse_csv(table.concat(text, "\n"))
    local p = H.imbill.project { usage = s, books = { "2021" }, current = "2021/pro" }
    local names = {}
    for i, st in ipairs(p.path.steps) do names[i] = st.name end
    assert.same({ "2021/pro", "2021/ultimate", "2021/pro" }, names)
    assert.equal("pro -> ultimate", p.path.steps[2].change)
    assert.equal("ultimate -> pro", p.path.steps[3].change)
    assert.equal(2, p.path.changes)
    -- 899.98 + 1349.98 + 899.98
    assert.equal("3149.94", tostring(p.path.total))
    assert.is_false(p:row("2021/pro").eligible)
  end)

  -- A month's best edition is one the app could be on that month.  In 2023 the
  -- 2020 and 2021 books are closed to new apps: 2020/pro's 149.99 for 2,000
  -- DAU is no price a new app can pay, and 2022/standard (399.00) is the best.
  it("names as a new app's best edition of a month only one it could start on then", function()
    local p = H.imbill.project { usage = S.build { from = "2023-01", months = 2, dau = 2000, groups = 1000, mau = 6000 } }
    for j = 1, 2 do
      assert.equal("2022/standard", p.best[j].name)
      assert.equal("399.00", tostring(p.best[j].total))
    end
    -- an app already on 2020/pro may stay: its month prices at 149.99 and is the best
    local q = H.imbill.project { usage = S.build { from = "2023-01", months = 1, dau = 2000, groups = 1000, mau = 6000 },
                                 current = "2020/pro" }
    assert.equal("2020/pro", q.best[1].name)
    assert.equal("149.99", tostring(q.best[1].total))
  end)

  it("never returns to a free edition where the book forbids it, but may in the 2020 book", function()
    -- busy January, quiet February (50 DAU fits the free editions)
    local dau = {}
    for i = 1, 31 do dau[i] = 20000 end
    for i = 32, 59 do dau[i] = 50 end
    local s = S.from_table { from = "2021-01-01", dau = dau }
    local p20 = H.imbill.project { usage = s, books = { "2020" } }
    assert.same({ "2020/pro", "2020/trial" }, { p20.path.steps[1].name, p20.path.steps[2].name })
    -- 2020 activation month: no plan fee; 20,000 DAU = 1 block of 149.99
    assert.equal("149.99", tostring(p20.path.total))
    -- the same months once book 2021 is in force (it starts 2021-08-06)
    local dau21 = {}
    for i = 1, 30 do dau21[i] = 20000 end
    for i = 31, 61 do dau21[i] = 50 end
    local s21 = S.from_table { from = "2021-09-01", dau = dau21 }
    local p21 = H.imbill.project { usage = s21, books = { "2021" } }
    assert.same({ "2021/pro", "2021/pro" }, { p21.path.steps[1].name, p21.path.steps[2].name })
  end)

  it("gives text, CSV and plain data with exact amounts", function()
    local usage = S.build { from = "2023-01", months = 4, dau = 25000, groups = 150000, mau = 60000 }
    local p = H.imbill.project { usage = usage, books = { "2022" } }
    assert.matches("2023%-01 +0%.00%* +1,149%.00 +1,449%.00", p:table())
    assert.matches("\n2023%-01,2022/standard,1149%.00,true,true,true,\n", p:csv())
    local d = p:data()
    assert.equal("4596.00", d.editions[2].total)
    assert.equal("4596.00", d.path.total)
  end)

  it("explains the * mark under the table only when a cell carries it", function()
    local key = "* cannot serve every month"
    local usage = S.build { from = "2023-01", months = 2, dau = 25000, groups = 150000, mau = 60000 }
    -- developer cannot serve 60,000 MAU: its cells are marked, and the key says why
    assert.truthy(H.imbill.project({ usage = usage, books = { "2022" } }):table():find(key, 1, true))
    -- standard alone serves every month: no mark, and no key to one (it was printed anyway)
    local t = H.imbill.project({ usage = usage, editions = { "2022/standard" } }):table()
    assert.is_nil(t:find("*", 1, true), t)
  end)

  it("takes needs and editions as lists: a set such as { community = true } would need nothing", function()
    -- 2021 pro lacks community; read as no needs, the set made it the best edition
    local u = S.build { from = "2022-01", months = 1, dau = 5000, groups = 10 }
    local p = H.imbill.project { usage = u, books = { "2021" }, needs = { "community" } }
    assert.equal("2021/ultimate", p.best[1].name)
    assert.equal('imbill.project: needs: expected a list of feature names, not named fields, got "community"',
      H.err(H.imbill.project, { usage = u, books = { "2021" }, needs = { community = true } }))
    assert.equal('imbill.migration: needs: expected a list of feature names, not named fields, got "community"',
      H.err(H.imbill.migration, { usage = u, from = "2021/pro", to = "2022/standard", mau_per_dau = "3",
                                  needs = { community = true } }))
    assert.equal('imbill.project: editions: expected a list of editions, not named fields, got "x"',
      H.err(H.imbill.project, { usage = u, editions = { "2021/pro", x = "2021/ultimate" } }))
  end)

  it("rejects bad projections, naming the field and value", function()
    assert.matches("imbill.project: usage: expected a series", H.err(H.imbill.project, { usage = 5 }))
    assert.matches("imbill.project: editions%[1%]: price book 2021 has no such edition", H.err(H.imbill.project,
      { usage = flat(), editions = { "2021/gold" } }))
    assert.matches("imbill.project: from: the horizon 2022%-09 %.%. 2022%-12 is not covered", H.err(H.imbill.project,
      { usage = flat(), from = "2022-09", months = 4 }))
    assert.matches("imbill.project: current: expected \"book/edition\"", H.err(H.imbill.project,
      { usage = flat(), current = "pro" }))
    assert.matches("imbill.project: usage: .*missing days", H.err(H.imbill.project,
      { usage = { csv = "date,dau,groups\n2021-01-01,1,1\n2021-01-05,1,1\n" } }))
  end)
end)

describe("migration from the 2021 DAU plan to the 2022 MAU plan", function()
  -- January 5,000 DAU, February 35,000, March 5,000; MAU 40,000 throughout
  local function history()
    local rows = { "date,dau,groups,mau" }
    for _, m in ipairs { { "2023-01", 31, 5000 }, { "2023-02", 28, 35000 }, { "2023-03", 31, 5000 } } do
      for d = 1, m[2] do rows[#rows + 1] = string.format("%s-%02d,%d,0,40000", m[1], d, m[3]) end
    end
    return S.parse_csv(table.concat(rows, "\n"))
  end

  it("names its months from_month and to_month, and refuses a to that is not billed by MAU", function()
    local s = S.build { from = "2023-01", months = 3, dau = 20000, groups = 0, mau = 60000 }
    -- its from and to are editions: the months' errors named them (imbill.migration: to: is before from)
    assert.equal("imbill.migration: to_month: is before from_month, got \"2023-01\"",
      H.err(H.imbill.migration, { usage = s, from_month = "2023-03", to_month = "2023-01" }))
    assert.equal("imbill.migration: months: give to_month or months, not both, got 2",
      H.err(H.imbill.migration, { usage = s, from_month = "2023-01", to_month = "2023-02", months = 2 }))
    assert.matches("^imbill.migration: from_month: malformed month",
      H.err(H.imbill.migration, { usage = s, from_month = "2023-1" }))
    -- a DAU-billed to is no migration to the MAU plan (it was priced as one, with its warning)
    assert.equal("imbill.migration: to: is not an MAU-billed edition (the MAU plan is price book 2022's),"
      .. " got \"2021/ultimate\"", H.err(H.imbill.migration, { usage = s, from = "2021/pro", to = "2021/ultimate" }))
    assert.matches("^imbill.migration: to: is not an MAU%-billed edition",
      H.err(H.imbill.migration, { usage = s, from = "2021/pro", to = "2021/pro" }))
  end)

  it("refuses an edition that cannot serve the usage, whose 0.00 would read as a saving", function()
    -- 20,000 DAU and 60,000 MAU: far past the free editions' caps of 100
    local s = S.build { from = "2023-01", months = 3, dau = 20000, groups = 0, mau = 60000 }
    assert.equal("imbill.migration: to: 2022/developer cannot serve 2023-01 (MAU 60,000 over the free edition's 100),"
      .. " got \"2022/developer\"", H.err(H.imbill.migration, { usage = s, from = "2021/pro", to = "2022/developer" }))
    assert.equal("imbill.migration: from: 2021/free cannot serve 2023-01 (peak DAU 20,000 over the free edition's 100),"
      .. " so it is no price to compare with, got \"2021/free\"",
      H.err(H.imbill.migration, { usage = s, from = "2021/free", to = "2022/standard" }))
    -- an edition that serves is compared as before: 2021/pro 899.98 against 2022/standard 1,149.00 a month
    local mig = H.imbill.migration { usage = s, from = "2021/pro", to = "2022/standard" }
    assert.equal("-747.06", tostring(mig.difference))
    assert.is_nil(mig.best_month)
  end)

  it("compares month by month and says when migration pays off and that it cannot be undone", function()
    local mig = H.imbill.migration { usage = history(), from = "2021/pro", to = "2022/standard" }
    -- 2021 pro: 449.99, 449.99 + 3 x 449.99, 449.99;  2022 standard: 399 + 30,000 x 0.015 = 849.00
    local rows = {}
    for i, r in ipairs(mig.rows) do rows[i] = { tostring(r.dau_plan), tostring(r.mau_plan), tostring(r.saving),
                                                tostring(r.cumulative) } end
    assert.same({ { "449.99", "849.00", "-399.01", "-399.01" }, { "1799.96", "849.00", "950.96", "551.95" },
                  { "449.99", "849.00", "-399.01", "152.94" } }, rows)
    assert.equal("152.94", tostring(mig.difference))
    assert.equal("2023-02", mig.pays_off_from)
    -- migrating on 2023-02-01: 449.99 + 849.00 + 849.00 = 2147.99 against 2699.94
    assert.equal("2023-02", mig.best_month)
    assert.equal("551.95", tostring(mig.best_saving))
    assert.is_true(mig.irreversible)
    assert.matches("cannot be undone", tostring(mig))
    assert.matches("Migration pays off from 2023%-02", mig:verdict())
    assert.equal("152.94", mig:data().difference)
  end)

  it("picks the cheapest MAU edition that serves every month when none is named", function()
    local mig = H.imbill.migration { usage = history() }
    assert.equal("2022/standard", mig.to)
    assert.equal("2021/pro", mig.from)
  end)

  it("needs MAU in the history", function()
    local s = S.build { from = "2023-01", months = 1, dau = 1 }
    assert.matches("imbill.migration: usage: the MAU plan bills monthly active users", H.err(H.imbill.migration,
      { usage = s }))
  end)
end)
