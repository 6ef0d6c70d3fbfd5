-- The rule: a usage that lacks the user measure an edition is billed by (MAU
-- for book 2022, peak DAU for books 2020 and 2021; for a free edition, the
-- measure it is capped by) is never priced as if it were zero without a word.
-- totals, breakeven, cost curves, project, grid, shadow and migration refuse
-- it, naming the missing input, unless the caller states an assumption (a
-- DAU-to-MAU ratio), which the result then shows; compare leaves such rows
-- unpriced with the reason; a single invoice prices it and says so in a note.
--
-- The example: a 50,000-DAU app on 2022/standard is not 399.00 a month.
local H = require "helper"
local imbill = H.imbill
local S = imbill.series

local dau_only = S.build { from = "2023-01", months = 2, dau = 50000, groups = 0 }

describe("a usage without the user measure an edition is billed by", function()
  it("imbill.invoice prices it and says so, in the note, data() and tostring", function()
    local inv = imbill.invoice { book = "2022", edition = "standard", month = "2023-03", peak_dau = 50000 }
    assert.equal("399.00", tostring(inv.total))
    local note = "the usage gives no MAU, and 2022/standard bills MAU: priced as if MAU were 0"
    assert.same({ note }, inv.notes)
    assert.same({ note }, inv:data().notes)
    assert.matches("\nnote: " .. note, tostring(inv), 1, true)
    -- and a DAU book without DAU
    assert.matches("the usage gives no peak DAU, and 2020/pro bills peak DAU",
      imbill.invoice { book = "2020", edition = "pro", month = "2021-03", mau = 5 }.notes[1])
    -- stated as 0, nothing is missing
    assert.same({}, imbill.invoice { book = "2022", edition = "standard", month = "2023-03", mau = 0 }.notes)
  end)

  it("imbill.totals refuses it, naming the field", function()
    assert.matches("^imbill.totals: mau: the usage gives no MAU, and 2022/standard bills MAU",
      H.err(imbill.totals, { book = "2022", edition = "standard", peak_dau = { 50000 } }))
  end)

  it("imbill.compare leaves the row unpriced with the reason, or prices it on a stated ratio", function()
    local rows = imbill.compare { month = "2023-03", peak_dau = 50000, books = { "2022" } }
    for _, r in ipairs(rows) do
      assert.is_false(r.priced)
      assert.is_nil(r.total)
      assert.is_false(r.eligible)
      assert.matches("^the usage gives no MAU, and 2022/" .. r.edition, r.reasons[1])
    end
    assert.matches("2022  standard +%-  no", tostring(rows))
    assert.is_nil(rows:data()[1].total)
    assert.is_false(rows:data()[1].priced)
    -- MAU = round_half_up(3 x 50,000) = 150,000: 399.00 + 140,000 x 0.015 = 2,499.00
    local assumed = imbill.compare { month = "2023-03", peak_dau = 50000, books = { "2022" }, mau_per_dau = 3 }
    local std
    for _, r in ipairs(assumed) do if r.edition == "standard" then std = r end end
    assert.equal("2499.00", tostring(std.total))
    assert.same({ "MAU = round_half_up(3 x peak DAU 50,000) = 150,000" }, assumed.assumptions)
    assert.matches("\nassumed: MAU = round_half_up%(3 x peak DAU 50,000%) = 150,000", tostring(assumed))
    assert.matches("^imbill.compare: mau_per_dau: give mau or mau_per_dau, not both", H.err(imbill.compare,
      { month = "2023-03", peak_dau = 1, mau = 1, mau_per_dau = 3 }))
  end)

  it("imbill.breakeven and cost curves refuse an axis without it, and take follow or a fixed value", function()
    assert.matches("^imbill.breakeven: b: the usage gives no MAU, and 2022/standard bills MAU: give usage.mau, or"
      .. " follow = { mau = RATIO } for MAU = RATIO x DAU",
      H.err(imbill.breakeven, { a = "2021/pro", b = "2022/standard", to = 20000 }))
    assert.matches("^imbill.cost_curve: edition: the usage gives no MAU",
      H.err(imbill.cost_curve, { edition = "2022/standard", metric = "dau", to = 1000 }))
    assert.matches("^imbill.breakeven_table: b: the usage gives no MAU",
      H.err(imbill.breakeven_table, { editions = { "2021/pro", "2022/standard" }, to = 1000 }))
    local r = imbill.breakeven { a = "2021/pro", b = "2022/standard", to = 20000, follow = { mau = 3 } }
    assert.same({ "MAU = round_half_up(3 x DAU)" }, r.assumptions)
    assert.matches("\nassumed: MAU = round_half_up%(3 x DAU%)", tostring(r))
    local fixed = imbill.breakeven { a = "2021/pro", b = "2022/standard", to = 20000, usage = { mau = 0 } }
    assert.equal("399.00", tostring(fixed.points[1].b_total))
  end)

  it("imbill.project refuses it, or prices MAU on a stated ratio and shows it", function()
    assert.matches("^imbill.project: usage: the usage gives no MAU, and 2022/developer is capped at 100 MAU: give"
      .. " mau_per_dau", H.err(imbill.project, { usage = dau_only, books = { "2022" } }))
    -- books billed by DAU need no MAU
    assert.is_truthy(imbill.project { usage = dau_only, books = { "2021" } })
    local p = imbill.project { usage = dau_only, books = { "2022" }, mau_per_dau = "3" }
    assert.equal("2499.00", tostring(p:row("2022/standard").months[2].total))
    assert.same({ "MAU = round_half_up(3 x the month's peak DAU)" }, p.assumptions)
    assert.same({ "MAU = round_half_up(3 x the month's peak DAU)" }, p:data().assumptions)
    assert.matches("\nassumed: MAU = round_half_up%(3 x the month's peak DAU%)", p:table())
    -- a usage with MAU already cannot take a ratio as well
    local with_mau = S.build { from = "2023-01", months = 1, dau = 1, mau = 1 }
    assert.matches("^imbill.project: mau_per_dau: the usage has MAU already",
      H.err(imbill.project, { usage = with_mau, mau_per_dau = 3 }))
  end)

  it("imbill.shadow and imbill.migration refuse it, or take mau_per_dau", function()
    assert.matches("^imbill.shadow: usage: the usage gives no MAU, and 2022/standard bills MAU",
      H.err(imbill.shadow, { usage = dau_only, base = "2022", editions = { "standard" },
                             shadow = { base = "2022", editions = { standard = { monthly_fee = "299" } } } }))
    local sh = imbill.shadow { usage = dau_only, base = "2022", editions = { "standard" }, mau_per_dau = 3,
                               shadow = { base = "2022", editions = { standard = { monthly_fee = "299" } } } }
    assert.equal("2499.00", tostring(sh.editions[1].months[1].base))
    assert.same({ "MAU = round_half_up(3 x the month's peak DAU)" }, sh:data().assumptions)
    assert.matches("^imbill.migration: usage: the MAU plan bills monthly active users", H.err(imbill.migration,
      { usage = dau_only }))
    local mig = imbill.migration { usage = dau_only, mau_per_dau = 3, to = "2022/standard" }
    assert.equal("2499.00", tostring(mig.rows[1].mau_plan))
    assert.matches("Assumed: MAU = round_half_up%(3 x the month's peak DAU%)", mig:verdict())
  end)

  it("imbill.grid refuses it unless mau_per_dau is given", function()
    assert.matches("^imbill.grid: mau_per_dau: the usage gives no MAU, and 2022/standard bills MAU",
      H.err(imbill.grid, { editions = { "2022/standard" }, start_dau = { 10000, 50000 }, growth = { "5%" } }))
  end)
end)
