-- Break-even tables and cost curves (issue 4), against hand-computed values.
local H = require "helper"

local function crossings(pr)
  local out = {}
  for _, c in ipairs(pr.crossings) do out[#out + 1] = c.at .. ":" .. c.cheaper end
  return out
end

describe("break-even tables", function()
  it("gives, for each pair of editions, the exact values where the cheaper side changes", function()
    local t = H.imbill.breakeven_table { editions = { "2020/pro", "2020/flagship", "2021/pro" }, to = 100000 }
    assert.equal(3, #t.pairs)
    -- same overage prices, 300.00 apart in fees: pro is always cheaper
    assert.equal("2020/pro", t.pairs[1].cheaper_at_start)
    assert.same({}, crossings(t.pairs[1]))
    -- 2020 flagship (449.99 + 149.99 per block) against 2021 pro (449.99 + 449.99
    -- per block): equal up to 10,000 DAU, flagship cheaper from 10,001
    assert.equal("equal", t.pairs[3].cheaper_at_start)
    assert.same({ "10001:2020/flagship" }, crossings(t.pairs[3]))
  end)

  it("compares every edition of a user book given as book =, a book or a table deriving one", function()
    -- 2021 with pro at 129.99: pro is cheaper than ultimate everywhere, and
    -- free serves up to its 100 DAU
    local w = H.imbill.book { base = "2021", name = "what-if", editions = { pro = { monthly_fee = "129.99" } } }
    for _, book in ipairs { w, { base = "2021", name = "what-if", editions = { pro = { monthly_fee = "129.99" } } } } do
      local t = H.imbill.breakeven_table { book = book, to = 30000 }
      assert.same({ "what-if/free", "what-if/pro", "what-if/ultimate" }, t.editions)
      assert.equal("what-if/pro", t.pairs[3].cheaper_at_start)
      assert.equal("129.99", tostring(t.curves[2].points[1].total))
      assert.equal(101, t.pairs[1].caps[1].at)
    end
  end)

  it("compares a DAU edition with an MAU edition when MAU follows DAU", function()
    -- MAU = 3 x DAU.  2022 standard: 399 + 0.015 x (3 DAU - 10,000) against 2021 pro
    -- 449.99: 399 + 0.015 x 3,400 = 450.00 is above 449.99 at DAU 4,467 (MAU 13,401
    -- -> 450.015 -> 450.02) and below at 4,466 (13,398 -> 449.97)
    local t = H.imbill.breakeven_table { editions = { "2021/pro", "2022/standard" }, follow = { mau = "3" },
                                         to = 20000 }
    assert.same({ "4467:2021/pro", "10001:2022/standard", "14467:2021/pro" }, crossings(t.pairs[1]))
    local c = t.pairs[1].crossings[1]
    assert.equal("449.99", tostring(c.a_total))
    assert.equal("450.02", tostring(c.b_total))
  end)

  it("finds break-even by group count", function()
    -- both bill DAU: the axis is groups, so DAU is stated
    local t = H.imbill.breakeven_table { editions = { "2021/pro", "2021/ultimate" }, metric = "groups", to = 10000000,
                                         usage = { peak_dau = 0 } }
    assert.equal("2021/pro", t.pairs[1].cheaper_at_start)
    assert.same({}, crossings(t.pairs[1]))
  end)

  it("returns each edition's full cost curve as exact change points", function()
    local c = H.imbill.cost_curve { edition = "2021/pro", from = 0, to = 35000 }
    local pts = {}
    for i, p in ipairs(c.points) do pts[i] = p.at .. "=" .. tostring(p.total) end
    assert.same({ "0=449.99", "10001=899.98", "20001=1349.97", "30001=1799.96", "35000=1799.96" }, pts)
    local m = H.imbill.cost_curve { edition = "2022/standard", metric = "mau", from = 0, to = 50000 }
    assert.equal("linear", m.points[2].kind)
    assert.equal("399.02", tostring(m.points[2].total))
    assert.equal("999.00", tostring(m.points[#m.points].total))
    assert.equal("624.00", tostring(m.cost(25000)))
  end)

  it("prints, exports CSV and plain data", function()
    local t = H.imbill.breakeven_table { editions = { "2021/pro", "2022/standard" }, follow = { mau = 3 }, to = 12000 }
    assert.matches("4,467 +2021/pro +449%.99 +450%.02", t:table())
    assert.matches("2021/pro,2022/standard,4467,2021/pro,449%.99,450%.02", t:csv())
    assert.equal("4467", tostring(t:data().pairs[1].points[2].at))
  end)

  it("says where a cost curve's total passes what money holds, naming cost_curve and to", function()
    -- 0.015 per MAU over 10,000: at 999,999,999,999,999 MAU the total is 15 trillion dollars
    assert.equal("imbill.cost_curve: to: at mau 999,999,999,999,999 the total of 2022/standard"
      .. " (1,500,000,000,024,899 cents) is more than money holds (at most 9223372036854.775807), got 999999999999999",
      H.err(H.imbill.cost_curve, { edition = "2022/standard", metric = "mau", to = 999999999999999 }))
    -- a followed MAU past 2^53: named as cost_curve's on both runtimes (LuaJIT raised a bare
    -- "value ... exceeds 2^53" with no function or field)
    local err = H.err(H.imbill.cost_curve, { edition = "2022/standard", follow = { mau = "3" }, from = 2 ^ 52,
                                             to = 2 ^ 53 })
    if H.is_jit then
      assert.equal("imbill.cost_curve: from, to: the usage values along this range are beyond what this runtime"
        .. " computes exactly (value 13510798882111488 exceeds 2^53 and cannot be exact on this runtime)", err)
    else
      assert.matches("^imbill.cost_curve: to: at peak_dau 4,503,599,627,370,496 the total of 2022/standard", err)
    end
    -- a wrong usage field is said as it is, not as a total that does not fit
    assert.equal("imbill.cost_curve: usage.peak_daus: unknown field (known: groups_peak, mau, peak_dau)",
      H.err(H.imbill.cost_curve, { edition = "2021/pro", usage = { peak_daus = 1 } }))
    assert.equal("imbill.breakeven: usage.peak_daus: unknown field (known: groups_peak, mau, peak_dau)",
      H.err(H.imbill.breakeven, { a = "2021/pro", b = "2021/ultimate", usage = { peak_daus = 1 } }))
    -- up to what money holds, the curve is priced
    local c = H.imbill.cost_curve { edition = "2022/standard", metric = "mau", to = 600000000000000 }
    assert.equal("9000000000249.00", tostring(c.points[#c.points].total))
  end)

  it("rejects bad tables, naming the field and value", function()
    assert.matches("imbill.breakeven_table: editions: needs at least two editions",
      H.err(H.imbill.breakeven_table, { editions = { "2021/pro" } }))
    assert.matches("imbill.breakeven_table: editions%[2%]: price book 2021 has no such edition",
      H.err(H.imbill.breakeven_table, { editions = { "2021/pro", "2021/max" } }))
    assert.matches("follow%.dau: not another metric", H.err(H.imbill.breakeven_table,
      { editions = { "2021/pro", "2022/standard" }, follow = { dau = 2 } }))
  end)
end)
