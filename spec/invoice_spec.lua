local H = require "helper"
local imbill = H.imbill

local function invoice(t) return imbill.invoice(t) end
local function total(t) return tostring(invoice(t).total) end
local function line(inv, code)
  for _, l in ipairs(inv.lines) do if l.code == code then return l end end
  return nil
end
local function lines(inv, code)
  local out = {}
  for _, l in ipairs(inv.lines) do if l.code == code then out[#out + 1] = l end end
  return out
end
local function series(days, f)
  local s = {}
  for d = 1, days do s[d] = f(d) end
  return s
end

describe("invoice", function()
  describe("worked examples (docs/rules.md, Overage): book 2020, pro, full month, no add-ons", function()
    local rows = {
      { 9999, 99999, "0.00", "0.00", "149.99" },
      { 10000, 100000, "0.00", "0.00", "149.99" },
      { 10001, 100001, "149.99", "149.99", "449.97" },
      { 25000, 250000, "299.98", "299.98", "749.95" },
      { 100000, 1000000, "1349.91", "1349.91", "2849.81" },
    }
    for _, r in ipairs(rows) do
      it(string.format("peak DAU %d and peak groups %d cost %s", r[1], r[2], r[5]), function()
        local inv = invoice { book = "2020", edition = "pro", month = "2021-03", peak_dau = r[1], groups_peak = r[2] }
        assert.equal("149.99", tostring(line(inv, "plan_fee").amount))
        assert.equal(r[3], tostring(line(inv, "dau_overage").amount))
        assert.equal(r[4], tostring(line(inv, "group_overage").amount))
        assert.equal(r[5], tostring(inv.total))
      end)
    end
  end)

  describe("DAU block boundaries (149.99 per started 10,000 over 10,000 free)", function()
    local function dau_fee(n)
      return tostring(line(invoice { book = "2020", edition = "pro", month = "2021-03", peak_dau = n }, "dau_overage").amount)
    end
    it("bills 9,999 and 10,000 DAU nothing", function()
      assert.equal("0.00", dau_fee(9999))
      assert.equal("0.00", dau_fee(10000))
    end)
    it("bills 10,001 DAU as one block of 149.99 over the 10,000 free", function()
      assert.equal("149.99", dau_fee(10001))
    end)
    it("bills 20,000 DAU as one block, 20,001 as two", function()
      assert.equal("149.99", dau_fee(20000))
      assert.equal("299.98", dau_fee(20001))
    end)
    it("says what it charges: peak, free quota, blocks, unit price", function()
      local l = line(invoice { book = "2020", edition = "pro", month = "2021-03", peak_dau = 20001 }, "dau_overage")
      assert.equal(2, l.quantity)
      assert.equal("149.99", tostring(l.unit_price))
      assert.equal("peak DAU 20,001 over 10,000 free: 2 blocks of 10,000 x 149.99", l.note)
    end)
  end)

  describe("group block boundaries (per started 100,000 over 100,000)", function()
    local function fee(n)
      return tostring(line(invoice { book = "2021", edition = "pro", month = "2022-03", groups_peak = n },
        "group_overage").amount)
    end
    it("bills 99,999 and 100,000 groups nothing and 100,001 one block of 449.99", function()
      assert.equal("0.00", fee(99999))
      assert.equal("0.00", fee(100000))
      assert.equal("449.99", fee(100001))
    end)
  end)

  describe("book 2022 (MAU)", function()
    it("bills MAU 10,000 nothing and 10,001 one user at 0.015, rounded half-up: 399.02", function()
      assert.equal("399.00", total { book = "2022", edition = "standard", month = "2023-03", mau = 10000 })
      assert.equal("399.02", total { book = "2022", edition = "standard", month = "2023-03", mau = 10001 })
    end)
    it("bills standard with MAU 25,000 at 624.00", function()
      assert.equal("624.00", total { book = "2022", edition = "standard", month = "2023-03", mau = 25000 })
    end)
    it("bills premium with MAU 100,000 at 2,049.00", function()
      assert.equal("2049.00", total { book = "2022", edition = "premium", month = "2023-03", mau = 100000 })
    end)
    it("has no group charge and no DAU charge", function()
      local inv = invoice { book = "2022", edition = "premium", month = "2023-03", mau = 0, groups_peak = 10 ^ 7 }
      assert.is_nil(line(inv, "group_overage"))
      assert.is_nil(line(inv, "dau_overage"))
      assert.equal("MAU 0 within 10,000 free", line(inv, "mau_overage").note)
    end)
  end)

  describe("free editions", function()
    it("are never billed for usage", function()
      assert.equal("0.00", total { book = "2020", edition = "trial", month = "2021-03", peak_dau = 50000,
                                   groups_peak = 500000 })
      assert.equal("0.00", total { book = "2022", edition = "developer", month = "2023-03", mau = 50000 })
    end)
  end)

  describe("activation month (book 2020, and 2021 before 2022-10-18)", function()
    it("charges no plan fee but the overage: pro activated 2021-03-10 = 599.96, due 2021-04-03", function()
      local inv = invoice { book = "2020", edition = "pro", month = "2021-03", activated = "2021-03-10",
                            peak_dau = 25000, groups_peak = 250000 }
      assert.equal("0.00", tostring(line(inv, "plan_fee").amount))
      assert.matches("first activated 2021%-03%-10", line(inv, "plan_fee").note)
      assert.equal("299.98", tostring(line(inv, "dau_overage").amount))
      assert.equal("299.98", tostring(line(inv, "group_overage").amount))
      assert.equal("599.96", tostring(inv.total))
      assert.equal("2021-04-03", inv.due)
      assert.equal("2021-04-10", inv.suspend)
      assert.equal("2021-07-09", inv.delete)
    end)
    it("charges the full fee the month after", function()
      assert.equal("149.99", total { book = "2020", edition = "pro", month = "2021-04", activated = "2021-03-10" })
    end)
    it("waives the fee in 2021 for an activation on 2022-10-17", function()
      assert.equal("0.00", total { book = "2021", edition = "pro", month = "2022-10", activated = "2022-10-17" })
    end)
    it("charges by day in 2021 from 2022-10-18: 449.99 x 14/31 = 203.22", function()
      assert.equal("203.22", total { book = "2021", edition = "pro", month = "2022-10", activated = "2022-10-18" })
    end)
    it("treats leaving a free edition as the first activation when none is given", function()
      local inv = invoice { book = "2020", edition = "trial", month = "2021-03",
                            change = { on = "2021-03-10", to = "pro" } }
      assert.equal("0.00", tostring(inv.total))
      inv = invoice { book = "2021", edition = "free", month = "2022-11", change = { on = "2022-11-10", to = "pro" } }
      assert.equal("314.99", tostring(inv.total))
    end)
    it("charges by day a change out of trial after an earlier activation (book 2020)", function()
      -- back on trial since February, pro again from 2021-03-16: 16 of 31 days
      local inv = invoice { book = "2020", edition = "trial", month = "2021-03", activated = "2020-06-01",
                            change = { on = "2021-03-16", to = "pro" } }
      assert.equal("77.41", tostring(inv.total))
    end)
  end)

  describe("daily proration (from 2022-10-18)", function()
    it("book 2021: pro activated 2022-11-10 = 449.99 x 21/30 = 314.993 -> 314.99", function()
      local inv = invoice { book = "2021", edition = "pro", month = "2022-11", activated = "2022-11-10" }
      local l = line(inv, "plan_fee")
      assert.equal("314.99", tostring(l.amount))
      assert.equal(21, l.quantity)
      assert.equal("2022-11-10", l.from)
      assert.equal("2022-11-30", l.to)
      assert.equal("314.99", tostring(inv.total))
    end)
    it("with peak DAU 10,001 in that month: 764.98", function()
      assert.equal("764.98", total { book = "2021", edition = "pro", month = "2022-11", activated = "2022-11-10",
                                     peak_dau = 10001 })
    end)
    it("pro -> ultimate on 2022-11-21: 299.99 + 300.00 = 599.99 (the change day is the new edition's)", function()
      local inv = invoice { book = "2021", edition = "pro", month = "2022-11",
                            change = { on = "2022-11-21", to = "ultimate" } }
      local fees = lines(inv, "plan_fee")
      assert.equal(2, #fees)
      assert.same({ "pro", 20, "299.99" }, { fees[1].edition, fees[1].quantity, tostring(fees[1].amount) })
      assert.same({ "ultimate", 10, "300.00" }, { fees[2].edition, fees[2].quantity, tostring(fees[2].amount) })
      assert.equal("599.99", tostring(inv.total))
    end)
    it("a change on the 1st is a full month of the new edition", function()
      local inv = invoice { book = "2021", edition = "pro", month = "2022-11",
                            change = { on = "2022-11-01", to = "ultimate" } }
      assert.equal(1, #lines(inv, "plan_fee"))
      assert.equal("899.99", tostring(inv.total))
    end)
    describe("over 28-, 29-, 30- and 31-day months (standard activated on the 15th)", function()
      local cases = {
        { "2023-02", "2023-02-15", "199.50", 14 }, -- 399 x 14/28
        { "2024-02", "2024-02-15", "206.38", 15 }, -- 399 x 15/29 = 206.379
        { "2023-11", "2023-11-15", "212.80", 16 }, -- 399 x 16/30
        { "2023-12", "2023-12-15", "218.81", 17 }, -- 399 x 17/31 = 218.806
      }
      for _, c in ipairs(cases) do
        it(c[1], function()
          local inv = invoice { book = "2022", edition = "standard", month = c[1], activated = c[2] }
          assert.equal(c[4], line(inv, "plan_fee").quantity)
          assert.equal(c[3], tostring(inv.total))
        end)
      end
    end)
    it("book 2022 charges by day in the activation month: 399 x 22/31 = 283.16", function()
      assert.equal("283.16", total { book = "2022", edition = "standard", month = "2023-03", activated = "2023-03-10" })
    end)
  end)

  describe("edition changes", function()
    it("refuses a second change in the month", function()
      local e = H.err(imbill.invoice, { book = "2021", edition = "pro", month = "2022-11",
        change = { { on = "2022-11-05", to = "ultimate" }, { on = "2022-11-20", to = "pro" } } })
      assert.matches("^imbill.invoice: change: one edition change per calendar month; a second change is refused", e)
    end)
    it("refuses an activation and a change on different days of the month", function()
      local e = H.err(imbill.invoice, { book = "2021", edition = "free", month = "2022-11", activated = "2022-11-03",
        change = { on = "2022-11-20", to = "pro" } })
      assert.matches("one edition change per calendar month", e)
    end)
    it("refuses going back to a free edition in 2021 and 2022", function()
      assert.matches("^imbill.invoice: change.to: price book 2021 does not allow going back to a free edition",
        H.err(imbill.invoice, { book = "2021", edition = "pro", month = "2022-11",
          change = { on = "2022-11-10", to = "free" } }))
      assert.matches("price book 2022 does not allow going back to a free edition",
        H.err(imbill.invoice, { book = "2022", edition = "standard", month = "2023-03",
          change = { on = "2023-03-10", to = "developer" } }))
      assert.matches("^imbill.invoice: edition: price book 2021 does not allow going back to a free edition",
        H.err(imbill.invoice, { book = "2021", edition = "free", month = "2022-11", activated = "2022-01-10" }))
    end)
    it("judges a change on the 1st from the edition it leaves, as on any other day", function()
      -- the edition left runs no day of the month, but the change is still a
      -- return to free: refused on the 1st as on the 2nd (it was a 0.00 bill)
      for _, day in ipairs { "2022-11-01", "2022-11-02" } do
        assert.matches("^imbill.invoice: change.to: price book 2021 does not allow going back to a free edition"
          .. " after pro", H.err(imbill.invoice, { book = "2021", edition = "pro", month = "2022-11",
            change = { on = day, to = "free" } }))
      end
      assert.matches("^imbill.invoice: change.to: price book 2022 does not allow going back to a free edition",
        H.err(imbill.invoice, { book = "2022", edition = "standard", month = "2023-11",
          change = { on = "2023-11-01", to = "developer" } }))
      -- an app on free after an earlier paid activation went back to free
      -- before this month: refused whatever day it leaves free again (it was
      -- a 449.99 bill), and named by its month, the day not being known
      assert.equal("imbill.invoice: edition: price book 2021 does not allow going back to a free edition after the"
        .. " paid activation of a day before 2022-11, got \"free\"",
        H.err(imbill.invoice, { book = "2021", edition = "free", month = "2022-11", activated_before = true,
          change = { on = "2022-11-01", to = "pro" } }))
      -- book 2020 allows both, on the 1st as on any day
      assert.equal("0.00", total { book = "2020", edition = "pro", month = "2021-03", activated_before = true,
                                   change = { on = "2021-03-01", to = "trial" } })
      assert.equal("149.99", total { book = "2020", edition = "trial", month = "2021-03", activated_before = true,
                                     change = { on = "2021-03-01", to = "pro" } })
    end)
    it("refuses a change after a free 1st that follows last month's first activation (2020)", function()
      -- first activated 2021-03-10: that was March's one change, so trial on
      -- 2021-04-01 came back on that very day, April's change; pro again on
      -- 04-16 cannot have happened (the meter refuses it), and was billed 75.00
      assert.equal("imbill.invoice: change: one edition change per calendar month: the first paid activation on"
        .. " 2021-03-10 was the change of 2021-03, so trial came back on 2021-04-01, the change of 2021-04, and a"
        .. " change on 2021-04-16 would be a second",
        H.err(imbill.invoice, { book = "2020", edition = "trial", month = "2021-04", activated = "2021-03-10",
          change = { on = "2021-04-16", to = "pro" } }))
      -- the last day of April too; and on the 1st, trial is the edition the
      -- change leaves, so it ran on 03-31, a second change in March
      assert.matches("a change on 2021%-04%-30 would be a second",
        H.err(imbill.invoice, { book = "2020", edition = "trial", month = "2021-04", activated = "2021-03-31",
          change = { on = "2021-04-30", to = "flagship" } }))
      assert.equal("imbill.invoice: change: one edition change per calendar month: the first paid activation on"
        .. " 2021-03-10 was the change of 2021-03, so trial cannot have been in force again by its end",
        H.err(imbill.invoice, { book = "2020", edition = "trial", month = "2021-04", activated = "2021-03-10",
          change = { on = "2021-04-01", to = "pro" } }))
      -- boundaries: trial all April is that return alone (0.00); an activation
      -- in February leaves March for the return, and April's change is pro
      -- again, 149.99 x 15/30 = 75.00; a paid edition on the 1st is not a return
      assert.equal("0.00", total { book = "2020", edition = "trial", month = "2021-04", activated = "2021-03-10" })
      assert.equal("75.00", total { book = "2020", edition = "trial", month = "2021-04", activated = "2021-02-28",
                                    change = { on = "2021-04-16", to = "pro" } })
      assert.equal("75.00", total { book = "2020", edition = "pro", month = "2021-04", activated = "2021-03-10",
                                    change = { on = "2021-04-16", to = "trial" } })
      -- activated_before is a day not known: it may be before March, so
      -- March's change is allowed (16/31 of 149.99 = 77.41), and in 0001-02
      -- the only month before is 0001-01
      assert.equal("77.41", total { book = "2020", edition = "trial", month = "2021-03", activated_before = true,
                                    change = { on = "2021-03-16", to = "pro" } })
      assert.matches("the first paid activation in 0001%-01 was the change of 0001%-01",
        H.err(imbill.invoice, { book = "2020", edition = "trial", month = "0001-02", activated_before = true,
          change = { on = "0001-02-05", to = "pro" } }))
      assert.equal("imbill.invoice: activated_before: there is no day before 0001-01 in the calendar, got true",
        H.err(imbill.invoice, { book = "2020", edition = "pro", month = "0001-01", activated_before = true }))
    end)
    it("allows going back to trial in 2020: pro for 10 of 31 days = 48.38", function()
      local inv = invoice { book = "2020", edition = "pro", month = "2021-03",
                            change = { on = "2021-03-11", to = "trial" } }
      assert.equal("48.38", tostring(inv.total))
      assert.equal("trial", lines(inv, "plan_fee")[2].edition)
    end)
    it("refuses a change outside the month, to the same edition, or to an unknown one", function()
      assert.matches("change.on: is not in the invoice month 2022%-11",
        H.err(imbill.invoice, { book = "2021", edition = "pro", month = "2022-11",
          change = { on = "2022-12-01", to = "ultimate" } }))
      assert.matches("change.to: is the edition already in force",
        H.err(imbill.invoice, { book = "2021", edition = "pro", month = "2022-11",
          change = { on = "2022-11-02", to = "pro" } }))
      assert.matches("^imbill.invoice: change.to: price book 2021 has no such edition",
        H.err(imbill.invoice, { book = "2021", edition = "pro", month = "2022-11",
          change = { on = "2022-11-02", to = "gold" } }))
    end)
  end)

  describe("daily series and peaks", function()
    it("gives the same bill for a daily series as for its peak, and names the peak's day", function()
      local dau = series(31, function(d) return d == 14 and 25000 or 9000 + d end)
      local a = invoice { book = "2020", edition = "pro", month = "2021-03", dau = dau }
      local b = invoice { book = "2020", edition = "pro", month = "2021-03", peak_dau = 25000 }
      assert.equal(b.total, a.total)
      assert.equal("2021-03-14", a.usage.peak_dau_day)
      assert.equal("peak DAU 25,000 (2021-03-14) over 10,000 free: 2 blocks of 10,000 x 149.99",
        line(a, "dau_overage").note)
    end)
    it("takes daily group peaks the same way", function()
      local g = series(28, function(d) return 100000 + d end)
      local inv = invoice { book = "2021", edition = "pro", month = "2022-02", groups = g }
      assert.equal(100028, inv.usage.groups_peak)
      assert.equal("2022-02-28", inv.usage.groups_peak_day)
      assert.equal("449.99", tostring(line(inv, "group_overage").amount))
    end)
    it("counts only the days a paid edition was in force (activated on the 10th)", function()
      local dau = series(31, function(d) return d < 10 and 90 or 10001 end)
      dau[3] = 30000 -- before activation: not billed
      local inv = invoice { book = "2020", edition = "pro", month = "2021-03", activated = "2021-03-10", dau = dau }
      assert.equal(10001, inv.usage.peak_dau)
      assert.equal("149.99", tostring(inv.total))
    end)
    it("needs one value per day of the month", function()
      assert.matches("^imbill.invoice: dau: needs one value per day of the month %(31%), has 30",
        H.err(imbill.invoice, { book = "2020", edition = "pro", month = "2021-03", dau = series(30, function() return 1 end) }))
      assert.matches("^imbill.invoice: groups: needs one value per day of the month %(28%), has 29",
        H.err(imbill.invoice, { book = "2020", edition = "pro", month = "2021-02",
          groups = series(29, function() return 1 end) }))
    end)
    it("refuses a series and a peak together", function()
      assert.matches("dau: give peak_dau or dau, not both",
        H.err(imbill.invoice, { book = "2020", edition = "pro", month = "2021-02", peak_dau = 5,
          dau = series(28, function() return 1 end) }))
    end)
    it("names the bad day of a series", function()
      local dau = series(28, function() return 1 end)
      dau[7] = -1
      assert.matches("^imbill.invoice: dau%[7%]: must not be negative",
        H.err(imbill.invoice, { book = "2020", edition = "pro", month = "2021-02", dau = dau }))
      dau[7] = 1.5
      assert.matches("^imbill.invoice: dau%[7%]: expected a whole number",
        H.err(imbill.invoice, { book = "2020", edition = "pro", month = "2021-02", dau = dau }))
    end)
  end)

  describe("add-ons", function()
    it("charges an add-on's monthly fee", function()
      local inv = invoice { book = "2020", edition = "pro", month = "2021-03", addons = { "av_unlimited", "retention_90" } }
      local a = lines(inv, "addon")
      assert.equal(2, #a)
      assert.equal("149.99", tostring(a[1].amount))
      assert.equal("149.99", tostring(a[2].amount))
      assert.equal("449.97", tostring(inv.total))
    end)
    it("waives AV, members and groups-per-user add-ons in their activation month", function()
      local inv = invoice { book = "2021", edition = "pro", month = "2022-03",
                            addons = { { id = "av_unlimited", activated = "2022-03-15" },
                                       { id = "members_per_group", activated = "2022-03-15" },
                                       { id = "groups_per_user", activated = "2022-02-15" } } }
      local a = lines(inv, "addon")
      assert.equal("0.00", tostring(a[1].amount))
      assert.equal("0.00", tostring(a[2].amount))
      assert.equal("449.99", tostring(a[3].amount))
      assert.matches("no fee in the activation month", a[1].note)
    end)
    it("charges retention from its activation month", function()
      local inv = invoice { book = "2021", edition = "ultimate", month = "2022-03",
                            addons = { { id = "retention_360", activated = "2022-03-20" } } }
      assert.equal("319.99", tostring(line(inv, "addon").amount))
      assert.equal("1219.98", tostring(inv.total))
    end)
    -- An add-on needs a paid edition: in the month of the app's first paid
    -- activation, every add-on was activated that month, on that day or later.
    it("takes an add-on in the first paid activation's month as activated that month", function()
      local inv = invoice { book = "2020", edition = "pro", month = "2021-03", activated = "2021-03-10",
                            addons = { "members_per_group", "retention_90" } }
      local a = lines(inv, "addon")
      assert.equal("0.00", tostring(a[1].amount))
      assert.matches("first paid activation %(2021%-03%-10%): no fee in the activation month", a[1].note)
      assert.equal("149.99", tostring(a[2].amount))
      assert.equal("149.99", tostring(inv.total))
      -- the activation through a change from the free edition is the same
      inv = invoice { book = "2021", edition = "free", month = "2022-11", change = { on = "2022-11-10", to = "pro" },
                      addons = { "av_unlimited" } }
      assert.equal("0.00", tostring(line(inv, "addon").amount))
      assert.equal("314.99", tostring(inv.total))
      -- activated in an earlier month: the add-on's month is not known, a full fee
      inv = invoice { book = "2020", edition = "pro", month = "2021-03", activated = "2021-01-10",
                      addons = { "members_per_group" } }
      assert.equal("79.99", tostring(line(inv, "addon").amount))
      assert.equal("imbill.invoice: addons[1].activated: is before the first paid activation (2021-03-10); an add-on"
        .. ' needs a paid edition, got "2021-03-05"',
        H.err(imbill.invoice, { book = "2020", edition = "pro", month = "2021-03", activated = "2021-03-10",
                                addons = { { id = "members_per_group", activated = "2021-03-05" } } }))
    end)
    it("refuses an add-on activated before a first paid activation of an earlier month", function()
      -- 2021 pro first activated 2022-10-20: an add-on bought on 10-05 had no
      -- paid edition to be bought for (it was billed 449.99, 899.98 in all)
      assert.equal("imbill.invoice: addons[1].activated: is before the first paid activation (2022-10-20); an add-on"
        .. ' needs a paid edition, got "2022-10-05"',
        H.err(imbill.invoice, { book = "2021", edition = "pro", month = "2022-11", activated = "2022-10-20",
                                addons = { { id = "av_unlimited", activated = "2022-10-05" } } }))
      -- the activation day itself is the first it can be; activated_before
      -- names no day, so any earlier day passes
      assert.equal("899.98", total { book = "2021", edition = "pro", month = "2022-11", activated = "2022-10-20",
                                     addons = { { id = "av_unlimited", activated = "2022-10-20" } } })
      assert.equal("899.98", total { book = "2021", edition = "pro", month = "2022-11", activated_before = true,
                                     addons = { { id = "av_unlimited", activated = "2001-10-05" } } })
    end)
    it("refuses an add-on bought on a day the app ran a free edition", function()
      -- 2020 pro, back to trial on 03-11: retention bought on 03-20 cannot have
      -- been (it was billed 79.99, 128.37 in all)
      assert.equal("imbill.invoice: addons[1].activated: is a day on the free edition trial (2021-03-11..2021-03-31);"
        .. ' an add-on needs a paid edition, got "2021-03-20"',
        H.err(imbill.invoice, { book = "2020", edition = "pro", month = "2021-03", activated_before = true,
          change = { on = "2021-03-11", to = "trial" }, addons = { { id = "retention_30", activated = "2021-03-20" } } }))
      -- on trial until pro again on 04-16: not on 04-05 (it was billed 79.99), on 04-16 it is
      local u = { book = "2020", edition = "trial", month = "2021-04", activated = "2021-02-10",
                  change = { on = "2021-04-16", to = "pro" }, addons = { { id = "retention_30", activated = "2021-04-05" } } }
      assert.matches("addons%[1%]%.activated: is a day on the free edition trial %(2021%-04%-01%.%.2021%-04%-15%)",
        H.err(imbill.invoice, u))
      u.addons[1].activated = "2021-04-16"
      assert.equal("154.99", total(u)) -- 149.99 x 15/30 = 75.00, and retention from its activation month
      -- the last day on the paid edition still has it
      assert.equal("128.37", total { book = "2020", edition = "pro", month = "2021-03", activated_before = true,
        change = { on = "2021-03-11", to = "trial" }, addons = { { id = "retention_30", activated = "2021-03-10" } } })
    end)
    it("refuses add-ons given as named fields rather than a list", function()
      assert.equal('imbill.invoice: addons: expected a list of add-on ids (or { id =, activated = }), not named fields,'
        .. ' got "av_unlimited"',
        H.err(imbill.invoice, { book = "2020", edition = "pro", month = "2021-03", addons = { av_unlimited = true } }))
      assert.equal('imbill.invoice: addons: expected a list of add-on ids (or { id =, activated = }), not named fields,'
        .. ' got "x"',
        H.err(imbill.invoice, { book = "2020", edition = "pro", month = "2021-03", addons = { "retention_30", x = 1 } }))
      assert.equal('imbill.compare: needs: expected a list of feature names, not named fields, got "read_receipts"',
        H.err(imbill.compare, { month = "2021-03", peak_dau = 1, needs = { read_receipts = true } }))
      assert.equal('imbill.compare: editions: expected a list of edition ids or BOOK/EDITION, not named fields, got'
        .. ' "pro"', H.err(imbill.compare, { month = "2021-03", peak_dau = 1, editions = { pro = true } }))
      assert.equal('imbill.book: remove: expected a list of edition ids, not named fields, got "pro"',
        H.err(imbill.book, { base = "2020", remove = { pro = true } }))
    end)
    it("refuses add-ons not sold for the edition, listed twice, two retentions, or on a free edition", function()
      assert.matches("add%-on av_unlimited is not sold for edition flagship",
        H.err(imbill.invoice, { book = "2020", edition = "flagship", month = "2021-03", addons = { "av_unlimited" } }))
      assert.matches("addons%[2%]: the add%-on is listed twice",
        H.err(imbill.invoice, { book = "2020", edition = "pro", month = "2021-03", addons = { "retention_90", "retention_90" } }))
      assert.matches("addons%[2%]: one history retention add%-on at a time",
        H.err(imbill.invoice, { book = "2020", edition = "pro", month = "2021-03", addons = { "retention_90", "retention_30" } }))
      assert.matches("add%-ons need a paid edition",
        H.err(imbill.invoice, { book = "2020", edition = "trial", month = "2021-03", addons = { "retention_30" } }))
      assert.matches("has no such add%-on",
        H.err(imbill.invoice, { book = "2022", edition = "premium", month = "2023-03", addons = { "av_unlimited" } }))
    end)
  end)

  describe("TRTC call minutes (docs/rules.md, Calls (TRTC))", function()
    it("HD 60 min + 2K 240 min + audio 60 min with no free minutes = 4.1364 -> 4.14", function()
      local inv = invoice { book = "2020", edition = "pro", month = "2021-03",
                            trtc = { audio = 3600, hd = 3600, ["2k"] = 14400, free_minutes = 0 } }
      local l = line(inv, "trtc")
      assert.equal("4.14", tostring(l.amount))
      assert.matches("4%.1364 %-> 4%.14", l.note)
      assert.equal("154.13", tostring(inv.total))
    end)
    it("rounds seconds up to minutes per tier", function()
      local inv = invoice { book = "2020", edition = "pro", month = "2021-03", trtc = { hd = 61, free_minutes = 0 } }
      assert.equal(2, line(inv, "trtc").quantity)
    end)
    it("uses the 10,000 free minutes in the order audio, HD, FHD, 2K, 4K", function()
      -- audio 5,000 min free, HD 8,000 min: 5,000 free then 3,000 x 3.99/1000 = 11.97
      local inv = invoice { book = "2020", edition = "pro", month = "2021-03", trtc = { hd = 8000 * 60, audio = 5000 * 60 } }
      local l = line(inv, "trtc")
      assert.equal("11.97", tostring(l.amount))
      assert.equal(3000, l.quantity)
      assert.equal(0, l.tiers[1].billed)
      assert.equal(3000, l.tiers[2].billed)
    end)
    it("counts one free minute in the singular: audio 1 min free, HD 1 min at 0.00399 -> 0.00", function()
      local inv = invoice { book = "2020", edition = "pro", month = "2021-03", trtc = { audio = 1, hd = 1, free_minutes = 1 } }
      assert.equal("TRTC audio 1 min, hd 1 min; 1 free minute: 0.00399 -> 0.00", line(inv, "trtc").note)
      inv = invoice { book = "2020", edition = "pro", month = "2021-03", trtc = { hd = 120, free_minutes = 2 } }
      assert.equal("TRTC hd 2 min; 2 free minutes: 0 -> 0.00", line(inv, "trtc").note)
    end)
    it("is free within 10,000 minutes by default", function()
      local inv = invoice { book = "2020", edition = "pro", month = "2021-03", trtc = { ["4k"] = 10000 * 60 } }
      assert.equal("0.00", tostring(line(inv, "trtc").amount))
    end)
    it("prices a line up to what money holds, summed exactly past 9.2 billion", function()
      -- 256,275,966,571 4K minutes x 35.99 / 1,000 = 9,223,372,036.89029: a
      -- 64-bit sum of billionths ended a cent below it (the line was refused)
      local inv = invoice { book = "2020", edition = "trial", month = "2021-03",
                            trtc = { ["4k"] = 256275966571 * 60, free_minutes = 0 } }
      assert.equal("9223372036.89", tostring(inv.total))
      assert.equal("TRTC 4k 256,275,966,571 min; 0 free minutes: 9223372036.89029 -> 9223372036.89",
        line(inv, "trtc").note)
      -- 150 million million minutes, 5,398.5 billion, is still money
      inv = invoice { book = "2020", edition = "trial", month = "2021-03",
                      trtc = { ["4k"] = 150000000000000 * 60, free_minutes = 0 } }
      assert.equal("5398500000000.00", tostring(inv.total))
    end)
    it("refuses a line past what money holds, naming the tier, or the line when only the sum is", function()
      -- four tiers of 9e15 seconds: each within money, their 9,744 billion is not
      assert.equal("imbill.invoice: trtc: the amount of these seconds is more than money holds"
        .. " (at most 9223372036854.775807)",
        H.err(invoice, { book = "2020", edition = "pro", month = "2021-03",
                         trtc = { ["4k"] = 9e15, ["2k"] = 9e15, fhd = 9e15, hd = 9e15 } }))
      if math.maxinteger then -- Lua 5.4: seconds past 2^53 are whole numbers
        assert.equal("imbill.invoice: trtc.audio: 9223372036854775807 seconds cost more than money holds"
          .. " (at most 9223372036854.775807)",
          H.err(invoice, { book = "2020", edition = "pro", month = "2021-03", trtc = { audio = math.maxinteger } }))
      end
    end)
  end)

  describe("due date and arrears", function()
    it("December bills fall due on 3 January of the next year", function()
      local inv = invoice { book = "2021", edition = "pro", month = "2021-12" }
      assert.equal("2022-01-03", inv.due)
      assert.equal("2022-01-10", inv.suspend)
      assert.equal("2022-04-10", inv.delete)
    end)
    it("suspends 7 days after the push before 2022-08-29 (July 2022 bill)", function()
      local inv = invoice { book = "2021", edition = "pro", month = "2022-07" }
      assert.equal("2022-08-03", inv.due)
      assert.equal("2022-08-10", inv.suspend)
      assert.equal("2022-11-08", inv.delete)
    end)
    it("suspends the day after the push from 2022-08-29 (August 2022 bill)", function()
      local inv = invoice { book = "2021", edition = "pro", month = "2022-08" }
      assert.equal("2022-09-03", inv.due)
      assert.equal("2022-09-04", inv.suspend)
      assert.equal("2022-12-03", inv.delete)
    end)
  end)

  describe("book by default", function()
    it("is the book in force on the 1st of the month", function()
      assert.equal("2020", invoice { edition = "pro", month = "2021-03" }.book)
      assert.equal("2021", invoice { edition = "pro", month = "2022-12" }.book)
      assert.equal("2022", invoice { edition = "standard", month = "2023-01" }.book)
    end)
    it("a later month can still be billed on an earlier book (apps created earlier)", function()
      assert.equal("449.99", total { book = "2021", edition = "pro", month = "2024-06" })
    end)
  end)

  describe("output", function()
    local inv = invoice { book = "2020", edition = "pro", month = "2021-03", activated = "2021-03-10",
                          peak_dau = 25000, groups_peak = 250000, addons = { "retention_30" } }
    it("sums the rounded lines into the total", function()
      local sum = imbill.money("0")
      for _, l in ipairs(inv.lines) do sum = sum + l.amount end
      assert.equal(sum, inv.total)
    end)
    it("gives each line code, amount, quantity, unit price and a note", function()
      for _, l in ipairs(inv.lines) do
        assert.is_string(l.code)
        assert.is_true(imbill.money.is(l.amount))
        assert.is_number(l.quantity)
        assert.is_string(l.note)
      end
    end)
    it("reads as an invoice: aligned lines, total, due date", function()
      local s = tostring(inv)
      assert.matches("^Invoice 2021%-03  price book 2020, edition pro", s)
      assert.matches("\ndau_overage +299%.98  peak DAU 25,000 over 10,000 free", s)
      assert.matches("\ntotal +679%.95  USD", s)
      assert.matches("due 2021%-04%-03; if unpaid: suspended 2021%-04%-10, data deleted 2021%-07%-09", s)
      -- amounts end in the same column
      local cols = {}
      for amount_end in s:gmatch("\n%S+ +[%d,]+%.%d%d()") do cols[#cols + 1] = amount_end end
      assert.is_true(#cols >= 4)
    end)
    it("is plain data (strings and integers) for JSON", function()
      local d = inv:data()
      assert.equal("679.95", d.total)
      assert.equal(67995, d.total_cents)
      assert.equal("2021-04-03", d.due)
      local function plain(v, path)
        local t = type(v)
        if t == "table" then
          for k, x in pairs(v) do plain(x, path .. "." .. tostring(k)) end
        else
          assert.is_true(t == "string" or t == "number" or t == "boolean", path .. " is " .. t)
        end
      end
      plain(d, "data")
      assert.equal("0.00", d.lines[1].amount)
    end)
  end)
end)

describe("invoice: activation, metered usage and books out of their dates", function()
  it("bills nothing before the first paid activation, even when the edition changes that same day", function()
    -- pro was named but never ran paid: ultimate runs from 2022-11-10, 21 of 30 days
    local inv = invoice { book = "2021", edition = "pro", month = "2022-11", activated = "2022-11-10",
                          change = { on = "2022-11-10", to = "ultimate" } }
    assert.equal("629.99", tostring(inv.total))
    assert.equal(1, #lines(inv, "plan_fee"))
    assert.equal("ultimate", line(inv, "plan_fee").edition)
    -- in 2020 the activation month is free, whichever edition it starts on
    assert.equal("0.00", total { book = "2020", edition = "pro", month = "2021-03", activated = "2021-03-10",
                                 change = { on = "2021-03-10", to = "flagship" } })
  end)

  it("takes metered usage's time zone for its days, and refuses a malformed one", function()
    assert.equal("+08:00", invoice { book = "2021", edition = "pro", month = "2021-09" }.tz)
    local inv = invoice { book = "2021", edition = "pro", month = "2021-09", tz = "+00:00" }
    assert.equal("+00:00", inv.tz)
    assert.matches("days in UTC+00:00", tostring(inv), 1, true)
    assert.matches("^imbill.invoice: tz: ", H.err(invoice, { book = "2021", edition = "pro", month = "2021-09", tz = "bogus" }))
    assert.matches("^imbill.invoice: tz: ", H.err(invoice, { book = "2021", edition = "pro", month = "2021-09", tz = {} }))
  end)

  it("refuses a peak day outside the invoice month", function()
    assert.equal('imbill.invoice: peak_dau_day: is not in the invoice month 2021-03, got "2021-04-01"',
      H.err(invoice, { book = "2020", edition = "pro", month = "2021-03", peak_dau = 5, peak_dau_day = "2021-04-01" }))
    assert.matches("^imbill.invoice: groups_peak_day: is not in the invoice month",
      H.err(invoice, { book = "2020", edition = "pro", month = "2021-03", groups_peak = 5, groups_peak_day = "2021-02-28" }))
    assert.equal("149.99", total { book = "2020", edition = "pro", month = "2021-03", peak_dau = 5,
                                   peak_dau_day = "2021-03-31" })
  end)

  it("refuses change and changes together, and named fields in a list of changes", function()
    assert.equal("imbill.invoice: changes: give change or changes, not both",
      H.err(invoice, { book = "2021", edition = "pro", month = "2022-11", change = { on = "2022-11-06", to = "ultimate" },
                       changes = { { on = "2022-11-06", to = "ultimate" } } }))
    assert.equal('imbill.invoice: change: a list of changes has no named fields, got "on"',
      H.err(invoice, { book = "2021", edition = "pro", month = "2022-11",
                       change = { { on = "2022-11-06", to = "ultimate" }, on = "2022-11-07" } }))
  end)

  it("prices a month before its book was in force, and says it is a what-if price", function()
    local inv = invoice { book = "2022", edition = "standard", month = "2020-01", mau = 0 }
    assert.equal("399.00", tostring(inv.total))
    local note = "price book 2022 was not yet in force in 2020-01 (it starts 2022-12-26): a what-if price"
    assert.same({ note }, inv.notes)
    assert.same({ note }, inv:data().notes)
    assert.matches("\nnote: price book 2022 was not yet in force", tostring(inv), 1, true)
    -- the book's own months carry no note
    assert.same({}, invoice { book = "2022", edition = "standard", month = "2022-12", mau = 0 }.notes)
    assert.same({}, invoice { book = "2020", edition = "pro", month = "2021-03", peak_dau = 0 }.notes)
  end)

  -- A plan fee is billed whole, rounded to the cent: 9223372036854.775807
  -- rounds to more than money holds, so no invoice could carry it.  The book
  -- names the key when it is made, not each invoice a line code ("plan_fee").
  it("names the fee no invoice can hold where the book is made, never an internal field", function()
    assert.equal('imbill.book: editions.pro.monthly_fee: is more than money holds once rounded to the cent (a fee is at'
      .. ' most 9223372036854.77), got "9223372036854.775807"',
      H.err(imbill.book, { base = "2020", editions = { pro = { monthly_fee = "9223372036854.775807" } } }))
    assert.equal('imbill.invoice: book: editions.pro.monthly_fee: is more than money holds once rounded to the cent (a'
      .. ' fee is at most 9223372036854.77), got "9223372036854.775807"',
      H.err(invoice, { book = { base = "2020", editions = { pro = { monthly_fee = "9223372036854.775807" } } },
                       edition = "pro", month = "2021-03", peak_dau = 20001 }))
    assert.matches("^imbill.book: addons.big.fee.pro: is more than money holds",
      H.err(imbill.book, { base = "2020", addons = { big = { fee = { pro = "9223372036854.775" } } } }))
    -- the largest fee is billed; anything more on the invoice is refused naming the total
    local most = imbill.book { base = "2020", editions = { pro = { monthly_fee = "9223372036854.77" } } }
    assert.equal("9223372036854.77", tostring(invoice { book = most, edition = "pro", month = "2021-03" }.total))
    assert.equal("imbill.invoice: total: the lines add up to more than money holds (at most 9223372036854.775807):"
      .. " 9223372036854.77 so far, and 299.98 on the dau_overage line",
      H.err(invoice, { book = most, edition = "pro", month = "2021-03", peak_dau = 20001 }))
  end)

  it("keeps the trtc line's tiers in data()", function()
    local d = invoice { book = "2022", edition = "standard", month = "2023-01", trtc = { hd = 3600 } }:data()
    local l = d.lines[#d.lines]
    assert.equal("trtc", l.code)
    assert.same({ tier = "hd", minutes = 60, billed = 0 }, l.tiers[2])
    assert.equal(5, #l.tiers)
  end)
end)
