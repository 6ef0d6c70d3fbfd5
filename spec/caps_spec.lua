-- The rule: a free edition past a hard cap (its free DAU or MAU, its groups)
-- cannot serve the app there, at any price.  Break-even tables say which
-- edition alone can serve beyond the cap, and never count that as a
-- break-even point; cost curves end at the cap and say so (curve.cap, for the
-- chart's end mark); projections mark the months; grids refuse the edition.
--
-- The example: 2021/free is not cheaper than 2021/pro from 0 to 100,000 DAU;
-- it serves at most 100 DAU, so from 101 on only 2021/pro can serve.
local H = require "helper"
local imbill = H.imbill

local function points(r)
  local out = {}
  for i, p in ipairs(r.points) do out[i] = p.at .. ":" .. p.cheaper .. ":" .. p.kind end
  return out
end

describe("a free edition past its cap", function()
  it("a free edition's group cap is its three kinds together: 100 non-AV, 10 AVChatRoom, 5 BChatRoom", function()
    -- the usage the meter itself lets a trial app reach is one the trial serves
    local T0 = 1614528000 -- 2021-03-01 00:00 +08:00
    local m = imbill.meter { book = "2020", edition = "trial" }
    for i = 1, 100 do assert(m:create_group("p" .. i, "Private", T0 + i)) end
    for i = 1, 10 do assert(m:create_group("a" .. i, "AVChatRoom", T0 + 200 + i)) end
    for i = 1, 5 do assert(m:create_group("b" .. i, "BChatRoom", T0 + 300 + i)) end
    assert.equal(115, m:peak_groups("2021-03"))
    local function row(groups)
      return imbill.compare { month = "2021-03", peak_dau = 0, groups_peak = groups, books = { "2020" },
                              editions = { "trial" } }[1]
    end
    assert.is_true(row(115).eligible)
    -- its boundary: 116 groups cannot exist on trial
    assert.is_false(row(116).eligible)
    assert.same({ "groups 116 over the free edition's cap of 115" }, row(116).reasons)
  end)

  it("breakeven: from the cap on, the other edition alone serves: a cap point, not a break-even", function()
    local r = imbill.breakeven { a = "2021/free", b = "2021/pro", to = 100000 }
    assert.same({ "0:a:start", "101:b:cap" }, points(r))
    assert.is_nil(r.points[2].a_total)
    assert.equal("449.99", tostring(r.points[2].b_total))
    assert.equal("2021/free serves at most 100 peak DAU", r.points[2].note)
    assert.same({ at = 100, measure = "dau", max = 100, why = "2021/free serves at most 100 peak DAU" },
      r:data().caps.a)
    assert.is_nil(r:data().caps.b)
    -- its boundary: 100 is served, 101 is not
    assert.same({ "0:a:start", "101:b:cap" }, points(imbill.breakeven { a = "2021/free", b = "2021/pro", to = 101 }))
    assert.same({ "0:a:start" }, points(imbill.breakeven { a = "2021/free", b = "2021/pro", to = 100 }))
  end)

  it("breakeven: a cap on a followed metric is mapped back through the ratio", function()
    -- MAU = 3 x DAU: 33 DAU is 99 MAU, within 2022/developer's 100; 34 is 102
    local r = imbill.breakeven { a = "2022/developer", b = "2021/pro", follow = { mau = 3 }, to = 1000 }
    assert.same({ "0:a:start", "34:b:cap" }, points(r))
    assert.equal("2022/developer serves at most 100 MAU", r.points[2].note)
  end)

  it("breakeven: a fixed usage past the cap means it serves nowhere; neither, when neither serves", function()
    local r = imbill.breakeven { a = "2021/free", b = "2021/pro", to = 1000, usage = { groups_peak = 200 } }
    assert.same({ "0:b:start" }, points(r))
    assert.equal("2021/free serves at most 115 groups", r.points[1].note)
    local n = imbill.breakeven { a = "2021/free", b = "2020/trial", to = 1000, usage = { groups_peak = 200 } }
    assert.same({ "0:neither:start" }, points(n))
  end)

  it("a break-even table lists the cap apart from its break-even points", function()
    local t = imbill.breakeven_table { editions = { "2021/free", "2021/pro" }, to = 100000 }
    local pr = t.pairs[1]
    assert.same({}, pr.crossings)
    assert.equal(1, #pr.caps)
    assert.equal(101, pr.caps[1].at)
    assert.equal("2021/pro", pr.caps[1].cheaper)
    assert.equal(0, t:crossing_count())
    assert.matches("101 +2021/pro +%- +449%.99 +2021/free serves at most 100 peak DAU", t:table())
    assert.same({}, t:data().pairs[1].crossings)
    assert.matches("\n2021/free,2021/pro,101,2021/pro,,449.99,cap,2021/free serves at most 100 peak DAU\n", t:csv(), 1,
      true)
  end)

  it("a cost curve ends at the cap, and gives the chart the cap as data", function()
    local c = imbill.cost_curve { edition = "2021/free", to = 100000 }
    assert.equal(100, c.points[#c.points].at)
    assert.same({ at = 100, measure = "dau", max = 100, why = "2021/free serves at most 100 peak DAU" }, c.cap)
    assert.same({ at = 100, measure = "dau", max = 100, why = "2021/free serves at most 100 peak DAU" }, c:data().cap)
    assert.is_nil(c.cost(101))
    assert.equal("0.00", tostring(c.cost(100)))
    -- a paid edition has no cap
    assert.is_nil(imbill.cost_curve { edition = "2021/pro", to = 100000 }.cap)
    -- nothing served: an empty curve
    local none = imbill.cost_curve { edition = "2021/free", to = 1000, usage = { groups_peak = 200 } }
    assert.same({}, none.points)
    assert.equal(-1, none.cap.at)
  end)

  it("a projection marks the months a free edition cannot serve, and no answer picks it there", function()
    local s = imbill.series.build { from = "2021-09", months = 2, dau = 101 }
    local p = imbill.project { usage = s, books = { "2021" } }
    local free = p:row("2021/free")
    assert.same({ "peak DAU 101 over the free edition's 100" }, free.months[1].reasons)
    assert.is_false(free.eligible)
    assert.equal("2021/pro", p.best[1].name)
    assert.equal("2021/pro", p:cheapest().name)
  end)
end)
