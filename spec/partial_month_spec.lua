-- The rule: a month the usage covers in part is billed as the month, from the
-- peaks of the days it has, and says which days those are: the same note
-- everywhere such a month is priced (series:usage(month), invoice, project,
-- migration, shadow, compare from a series).  A month covered in full has
-- no note.
--
-- The example: a history that ends on 2021-03-01 bills March from one day,
-- "the usage covers 2021-03-01..2021-03-01, 1 of 31 days".
local H = require "helper"
local imbill = H.imbill
local S = imbill.series

local NOTE = "the usage covers 2021-03-01..2021-03-01, 1 of 31 days: billed as the whole month from those days' peaks"
-- February in full, and one day of March
local s = S.build { from = "2021-02-01", to = "2021-03-01", dau = 25000, groups = 0, mau = 60000 }

describe("a month the usage covers in part", function()
  it("series:usage(month) gives the peaks and the days covered", function()
    local u, r = s:usage("2021-03")
    assert.same({ from = "2021-03-01", to = "2021-03-01" }, u.covers)
    assert.equal(25000, u.peak_dau)
    assert.is_false(r.complete)
    local full = s:usage("2021-02")
    assert.is_nil(full.covers)
    assert.equal(28, #full.dau)
  end)

  it("an invoice bills it with the note, in tostring and data()", function()
    local u = s:usage("2021-03")
    local inv = imbill.invoice { book = "2020", edition = "pro", month = "2021-03", peak_dau = u.peak_dau,
                                 groups_peak = u.groups_peak, covers = u.covers }
    assert.equal("449.97", tostring(inv.total)) -- the month's fee and the day's peak
    assert.same({ NOTE }, inv.notes)
    assert.same({ NOTE }, inv:data().notes)
    assert.matches("\nnote: " .. NOTE, tostring(inv), 1, true)
    -- the whole month given as covered: no note; days outside the month: an error
    assert.same({}, imbill.invoice { book = "2020", edition = "pro", month = "2021-03", peak_dau = 1,
                                     covers = { from = "2021-03-01", to = "2021-03-31" } }.notes)
    assert.matches("^imbill.invoice: covers.to: is not in the invoice month", H.err(imbill.invoice,
      { book = "2020", edition = "pro", month = "2021-03", peak_dau = 1,
        covers = { from = "2021-03-01", to = "2021-04-01" } }))
  end)

  it("project, migration and shadow carry the note for that month", function()
    local p = imbill.project { usage = s, books = { "2020" }, editions = { "2020/pro" } }
    assert.same({ "2021-03: " .. NOTE }, p.notes)
    assert.same({ NOTE }, p:row("2020/pro").months[2].notes)
    assert.same({}, p:row("2020/pro").months[1].notes)
    assert.matches("\nnote: 2021%-03: the usage covers", p:table())
    assert.same({ "2021-03: " .. NOTE }, p:data().notes)
    local mig = imbill.migration { usage = s, to = "2022/standard" }
    assert.same({ "2021-03: " .. NOTE }, mig.notes)
    assert.matches("Note: 2021%-03: the usage covers", mig:verdict())
    local sh = imbill.shadow { usage = s, base = "2020", editions = { "pro" },
                               shadow = { base = "2020", editions = { pro = { monthly_fee = "129.99" } } } }
    assert.same({ "2021-03: " .. NOTE }, sh.notes)
  end)

  it("compare from a series says so once for the comparison and on each priced row", function()
    local rows = imbill.compare { month = "2021-03", usage = s, books = { "2020" } }
    assert.same({ NOTE }, rows.notes)
    for _, r in ipairs(rows) do assert.same({ NOTE }, r.notes) end
    assert.matches("\nnote: " .. NOTE, tostring(rows), 1, true)
    assert.matches("^imbill.compare: peak_dau: give usage %(a series%) or peak_dau, not both",
      H.err(imbill.compare, { month = "2021-03", usage = s, peak_dau = 1 }))
  end)
end)
