-- Shadow pricing (issue 4): the same usage under a built-in and a user-modified
-- price book, with per-line and total differences per month.
local H = require "helper"
local S = require "imbill.whatif.series"

describe("shadow pricing", function()
  local usage = S.build { from = "2021-01", months = 2, dau = 25000, groups = 250000 }

  it("prices a 129.99 pro against the real 149.99 pro, line by line", function()
    local sh = H.imbill.shadow { usage = usage, base = "2020",
                                 shadow = { base = "2020", name = "cheap-pro",
                                            editions = { pro = { monthly_fee = "129.99" } } },
                                 editions = { "pro" } }
    assert.equal("2020", sh.base)
    assert.equal("cheap-pro", sh.shadow)
    local e = sh.editions[1]
    assert.equal("pro", e.edition)
    local jan = e.months[1]
    assert.equal("749.95", tostring(jan.base))
    assert.equal("729.95", tostring(jan.shadow))
    assert.equal("-20.00", tostring(jan.difference))
    local by = {}
    for _, l in ipairs(jan.lines) do by[l.code] = l end
    assert.equal("-20.00", tostring(by.plan_fee.difference))
    assert.equal("0.00", tostring(by.dau_overage.difference))
    assert.equal("299.98", tostring(by.group_overage.shadow))
    assert.equal("1499.90", tostring(e.base_total))
    assert.equal("1459.90", tostring(e.shadow_total))
    assert.equal("-40.00", tostring(e.difference))
  end)

  it("shows changed overage prices and every edition both books have", function()
    local sh = H.imbill.shadow { usage = usage, base = "2020", shadow = H.imbill.book {
      base = "2020", name = "dear-dau",
      editions = { pro = { dau = { price = "199.99" } }, flagship = { dau = { price = "199.99" } } } } }
    assert.equal(3, #sh.editions) -- trial, pro, flagship
    local pro = sh.editions[2]
    assert.equal("pro", pro.edition)
    -- 2 DAU blocks x 50.00 more, two months
    assert.equal("200.00", tostring(pro.difference))
  end)

  it("says when a free edition cannot serve the usage: its 0.00 is no price", function()
    -- 25,000 DAU: past the 2020 trial's 100; the shadow trial raised to 50,000 serves it
    local sh = H.imbill.shadow { usage = usage, base = "2020", editions = { "trial" },
                                 shadow = { base = "2020", name = "big-trial",
                                            editions = { trial = { limits = { free_dau = 50000, non_av_groups = 300000 } } } } }
    local jan = sh.editions[1].months[1]
    assert.is_false(jan.base_serves)
    assert.is_true(jan.shadow_serves)
    assert.equal("2020/trial cannot serve this usage (peak DAU 25,000 over the free edition's 100; groups 250,000"
      .. " over the free edition's cap of 115): its 0.00 is no price", jan.notes[1])
    assert.matches("\nnote: 2021%-01: 2020/trial cannot serve this usage", sh:table())
    assert.equal(jan.notes[1], sh:data().editions[1].months[1].notes[1])
    -- a paid edition serves any usage: no note
    local pro = H.imbill.shadow { usage = usage, base = "2020", editions = { "pro" }, shadow = { base = "2020" } }
    assert.is_true(pro.editions[1].months[1].base_serves)
    assert.same({}, pro.notes)
  end)

  it("prints a table and exports CSV and plain data", function()
    local sh = H.imbill.shadow { usage = usage, base = "2020", editions = { "pro" },
                                 shadow = { base = "2020", editions = { pro = { monthly_fee = "129.99" } } } }
    assert.matches("plan_fee +149%.99 +129%.99 +%-20%.00", sh:table())
    assert.matches("2021%-01,pro,plan_fee,149%.99,129%.99,%-20%.00", sh:csv())
    assert.equal("-40.00", sh:data().editions[1].difference)
  end)

  it("takes editions as a list: a named entry would be an edition left out", function()
    assert.equal('imbill.shadow: editions: expected a list of edition ids, not named fields, got "x"',
      H.err(H.imbill.shadow, { usage = usage, base = "2020", editions = { "pro", x = "flagship" },
                               shadow = { base = "2020", editions = { pro = { monthly_fee = "129.99" } } } }))
  end)

  it("rejects bad shadow runs, naming the field and value", function()
    assert.matches("imbill.shadow: shadow: is required", H.err(H.imbill.shadow, { usage = usage, base = "2020" }))
    assert.matches("imbill.shadow: base: unknown price book", H.err(H.imbill.shadow,
      { usage = usage, base = "1999", shadow = "2020" }))
    -- an empty list is the caller's mistake, not books without an edition in common
    assert.equal("imbill.shadow: editions: is an empty list: name at least one edition of both books, or leave"
      .. " editions out to compare every edition they share",
      H.err(H.imbill.shadow, { usage = usage, base = "2020", shadow = "2020", editions = {} }))
    assert.matches("imbill.shadow: editions%[1%]: not an edition of both books", H.err(H.imbill.shadow,
      { usage = usage, base = "2020", shadow = "2021", editions = { "pro2" } }))
    assert.matches("imbill.shadow: shadow: editions%.pro%.monthly_fee", H.err(H.imbill.shadow,
      { usage = usage, base = "2020", shadow = { base = "2020", editions = { pro = { monthly_fee = "cheap" } } } }))
  end)
end)
