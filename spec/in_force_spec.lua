-- The rule: a price book is in force in a month when it starts on or before
-- the month's last day.  Before that it did not exist, and a price from it
-- is a what-if everywhere, decided by one function (imbill.bill.in_force):
-- an invoice carries a note; compare, project, migration and shadow mark it,
-- whether the book was named or taken by default; no answer (best edition,
-- cheapest path, month to migrate) picks it.
--
-- The examples: book 2021 starts 2021-08-06 and book 2022 2022-12-26, so in
-- 2021-01 both are what-ifs, and migrating to the MAU plan in 2021-02 is not
-- a recommendation anyone can follow.
local H = require "helper"
local imbill = H.imbill
local S = imbill.series
local in_force = require "imbill.bill.in_force"
local dates = require "imbill.internal.dates"

local function month(s) return dates.month(s) end

describe("a price book not yet in force", function()
  it("the one rule: in force from the month its first day falls in", function()
    local b22 = imbill.book("2022")
    assert.equal("price book 2022 starts 2022-12-26", in_force.before(b22, month("2022-11")))
    assert.is_nil(in_force.before(b22, month("2022-12"))) -- it starts on the 26th
    assert.is_nil(in_force.before(b22, month("2023-01")))
    -- sold to new apps until its last day; apps on it are still billed by it
    local b20 = imbill.book("2020")
    assert.is_nil(in_force.before(b20, month("2021-09")))
    assert.equal("price book 2020 was sold to new apps until 2021-08-05", in_force.closed(b20, month("2021-09")))
    assert.is_nil(in_force.closed(b20, month("2021-08")))
  end)

  it("an invoice prices it with a note", function()
    local inv = imbill.invoice { book = "2021", edition = "pro", month = "2021-01", peak_dau = 0 }
    assert.same({ "price book 2021 was not yet in force in 2021-01 (it starts 2021-08-06): a what-if price" },
      inv.notes)
  end)

  it("compare marks it, named or not", function()
    for _, books in ipairs { { "2021", "2022" }, false } do
      local rows = imbill.compare { month = "2021-01", peak_dau = 5000, mau = 15000, books = books or nil }
      for _, r in ipairs(rows) do
        if r.book ~= "2020" then
          assert.is_false(r.eligible)
          assert.is_true(H.imbill.money("0") <= r.total) -- still priced, as a what-if
          local want = "price book " .. r.book .. " starts " .. imbill.book(r.book).from
          local found = false
          for _, x in ipairs(r.reasons) do found = found or x == want end
          assert.is_true(found, r.book .. "/" .. r.edition)
        end
      end
    end
  end)

  it("project marks 2021 and 2022 editions in 2021-01 as compare does, and picks none of them", function()
    local s = S.build { from = "2021-01", months = 2, dau = 5000, mau = 15000 }
    local p = imbill.project { usage = s }
    for _, r in ipairs(p.rows) do
      if r.book ~= "2020" then
        assert.is_false(r.eligible, r.name)
        assert.matches("^price book " .. r.book .. " starts", r.months[1].reasons[#r.months[1].reasons])
      end
    end
    for _, b in ipairs(p.best) do assert.matches("^2020/", b.name) end
    assert.equal("2020", p.path.book)
    assert.matches("^2020/", p:cheapest().name)
  end)

  -- A new app cannot start on a book no longer sold to new apps: each month
  -- can be served, so no cell is marked, but the row is no legal choice,
  -- and the table says why (it showed 149.99 unmarked with "best: none").
  it("project's table says why a book no longer sold to new apps is no legal choice", function()
    local s = S.build { from = "2023-01", months = 2, dau = 20000, groups = 5 }
    local p = imbill.project { usage = s, books = { "2020" } }
    assert.is_false(p:row("2020/pro").legal)
    assert.matches("\n2023%-01 +0%.00%* +149%.99 +149%.99 +none", p:table())
    assert.matches("\nnot a legal choice %(2020/trial, 2020/pro, 2020/flagship%): price book 2020 was sold to new"
      .. " apps until 2021%-08%-05: a new app cannot start on it in 2023%-01\n", p:table())
    -- an app already on the book may stay: no such line
    local q = imbill.project { usage = s, books = { "2020" }, current = "2020/pro" }
    assert.is_true(q:row("2020/pro").legal)
    assert.falsy(q:table():find("not a legal choice (", 1, true))
  end)

  it("migration never recommends a month before the MAU book; its prices then are what-ifs", function()
    -- 2021: busy enough that the MAU plan would have been cheaper
    local s = S.build { from = "2021-01", months = 3, dau = 35000, mau = 40000 }
    local mig = imbill.migration { usage = s, to = "2022/standard" }
    assert.is_true(mig.what_if)
    assert.is_nil(mig.best_month)
    assert.is_nil(mig.pays_off_from)
    assert.is_nil(mig.migrate_from)
    for _, r in ipairs(mig.rows) do
      assert.is_true(r.what_if)
      assert.equal("mau", r.cheaper)
      assert.is_true(#r.mau_reasons > 0)
    end
    assert.matches("Price book 2022 is not in force in any month of this horizon %(it starts 2022%-12%-26%)",
      mig:verdict())
    assert.is_nil(mig:verdict():match("Best month to migrate"))
    -- its difference is what the MAU plan would have cost, never a saving to make:
    -- 3 x (1,799.96 on 2021 pro against 399.00 + 450.00 MAU overage) = 2,852.88
    assert.equal("2852.88", tostring(mig.difference))
    assert.truthy(mig:verdict():find("At these what-if prices, 2022/standard would have cost 2,852.88 USD less than"
      .. " 2021/pro over 3 months.", 1, true))
    assert.is_nil(mig:verdict():find("saves", 1, true))
    local html = imbill.report { migration = mig }
    assert.truthy(html:find('<span class="v">what-if only: 2,852.88 USD less</span>', 1, true))
    assert.is_nil(html:find('<span class="v">saves', 1, true))
    -- across the start: migration from 2022-12 on, the saving counted from then
    local across = S.build { from = "2022-10", months = 4, dau = 35000, mau = 40000 }
    local m2 = imbill.migration { usage = across, to = "2022/standard" }
    assert.equal("2022-12", m2.migrate_from)
    assert.equal("2022-12", m2.best_month)
    assert.equal(2, m2.months_migrated)
    assert.equal("0.00", tostring(m2.rows[2].cumulative))
    -- 2021 pro 1,799.96 (4 x 449.99) against 2022 standard 849.00: 950.96 a month
    assert.equal("1901.92", tostring(m2.difference))
  end)

  -- December 2022, the month book 2022 starts (on the 26th): in force, so
  -- every entry point prices it as a full month of book 2022 and none calls it
  -- a what-if. By hand, 35,000 DAU and 40,000 MAU all month:
  --   2022/standard: 399.00 + (40,000 - 10,000) x 0.015 = 399.00 + 450.00 = 849.00
  --   2021/pro: 449.99 + ceil(25,000 / 10,000) = 3 blocks x 449.99 = 1,799.96
  --   saving 1,799.96 - 849.00 = 950.96
  -- November 2022 is before the book: the same price, as a what-if.
  it("December 2022 is priced alike by invoice, compare, project and migration", function()
    local inv = imbill.invoice { book = "2022", edition = "standard", month = "2022-12", mau = 40000 }
    assert.equal("849.00", tostring(inv.total))
    assert.same({}, inv.notes)
    local rows = imbill.compare { month = "2022-12", peak_dau = 35000, mau = 40000, books = { "2022" } }
    for _, r in ipairs(rows) do
      if r.edition == "standard" then
        assert.equal("849.00", tostring(r.total))
        assert.same({}, r.reasons)
        assert.is_true(r.eligible)
      end
    end
    local s = S.build { from = "2022-11", months = 3, dau = 35000, mau = 40000 }
    local p = imbill.project { usage = s }
    assert.equal("2022/standard", p.best[2].name)
    assert.equal("849.00", tostring(p.best[2].total))
    assert.matches("^2021/", p.best[1].name) -- not yet in force in November
    local mig = imbill.migration { usage = s, from = "2021/pro", to = "2022/standard" }
    assert.equal("2022-12", mig.migrate_from)
    local nov, dec = mig.rows[1], mig.rows[2]
    assert.is_true(nov.what_if)
    assert.equal("849.00", tostring(nov.mau_plan))
    assert.is_false(dec.what_if)
    assert.same({}, dec.mau_reasons)
    assert.equal("1799.96", tostring(dec.dau_plan))
    assert.equal("849.00", tostring(dec.mau_plan))
    assert.equal("950.96", tostring(dec.saving))
    assert.equal("950.96", tostring(dec.cumulative))
    assert.equal("1901.92", tostring(mig.difference)) -- December and January
    assert.equal(2, mig.months_migrated)
  end)

  it("shadow pricing carries the invoices' notes", function()
    local s = S.build { from = "2021-01", months = 1, dau = 5000 }
    local sh = imbill.shadow { usage = s, base = "2021", editions = { "pro" },
                               shadow = { base = "2021", editions = { pro = { monthly_fee = "399.99" } } } }
    assert.matches("2021%-01: price book 2021 was not yet in force", sh.notes[1])
    assert.matches("\nnote: 2021%-01: price book 2021", sh:table())
  end)
end)
