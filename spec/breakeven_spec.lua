local H = require "helper"
local imbill = H.imbill

local FIELD = { dau = "peak_dau", groups = "groups_peak", mau = "mau" }

-- Full-month total (cents) of "book/edition" or { book =, edition = } at x.
local function cost(e, metric, x)
  local book, ed
  if type(e) == "string" then book, ed = e:match("^([^/]+)/(.+)$") else book, ed = e.book, e.edition end
  return imbill.totals { book = book, edition = ed, [FIELD[metric]] = x }[1]
end

local function cheaper(a, b, metric, x)
  local ca, cb = cost(a, metric, x), cost(b, metric, x)
  return ca < cb and "a" or (ca > cb and "b" or "equal")
end

-- Every reported point x: the order at x is as reported and differs from x - 1.
local function verify(p, r)
  for i, pt in ipairs(r.points) do
    assert.equal(pt.cheaper, cheaper(p.a, p.b, r.metric, pt.at), "order at " .. pt.at)
    assert.equal(cost(p.a, r.metric, pt.at), pt.a_total:cents())
    assert.equal(cost(p.b, r.metric, pt.at), pt.b_total:cents())
    if i > 1 then
      assert.are_not.equal(pt.cheaper, cheaper(p.a, p.b, r.metric, pt.at - 1), "order before " .. pt.at)
    end
  end
end

-- The same points, found by trying every value of a small range.
local function brute(p, metric, from, to)
  local out, prev = {}, nil
  for x = from, to do
    local c = cheaper(p.a, p.b, metric, x)
    if c ~= prev then out[#out + 1] = x .. c end
    prev = c
  end
  return out
end

local function ats(r)
  local out = {}
  for i, pt in ipairs(r.points) do out[i] = pt.at .. pt.cheaper end
  return out
end

describe("break-even", function()
  it("2022 standard and premium never cross by MAU: standard is 300.00 cheaper at any MAU", function()
    local p = { a = "2022/standard", b = "2022/premium", metric = "mau", from = 0, to = 10 ^ 9 }
    local r = imbill.breakeven(p)
    assert.same({ "0a" }, ats(r))
    verify(p, r)
  end)

  it("2021 pro is always cheaper than ultimate by DAU (same usage prices, 450.00 less a month)", function()
    local p = { a = "2021/pro", b = "2021/ultimate", metric = "dau", to = 2000000 }
    local r = imbill.breakeven(p)
    assert.same({ "0a" }, ats(r))
    assert.equal("449.99", tostring(r.points[1].a_total))
    assert.equal("899.99", tostring(r.points[1].b_total))
  end)

  it("a user book where pro is 129.99 at 199.99 per 10,000 DAU: cheaper up to 10,000, dearer from 10,001", function()
    local wi = imbill.book { base = "2020", name = "wi", editions = { pro = { monthly_fee = "129.99",
      dau = { price = "199.99" } } } }
    local p = { a = { book = "2020", edition = "pro" }, b = { book = wi, edition = "pro" }, metric = "dau", to = 100000 }
    local r = imbill.breakeven(p)
    assert.same({ "0b", "10001a" }, ats(r))
    assert.equal("299.98", tostring(r.points[2].a_total))
    assert.equal("329.98", tostring(r.points[2].b_total))
    verify(p, r)
    assert.same(brute(p, "dau", 0, 30000), ats(imbill.breakeven { a = p.a, b = p.b, metric = "dau", to = 30000 }))
  end)

  it("2020 pro against 2021 pro: 2020 is cheaper everywhere", function()
    local p = { a = "2020/pro", b = "2021/pro", metric = "dau", to = 10 ^ 7 }
    assert.same({ "0a" }, ats(imbill.breakeven(p)))
  end)

  it("finds a crossing inside a block step (per-user MAU against blocks of 10,000 at 100.00)", function()
    local b = imbill.book { base = "2022", name = "blocks", editions = {
      blocky = { monthly_fee = "399", mau = { free = 10000, block = 10000, price = "100" } } } }
    local p = { a = "2022/standard", b = { book = b, edition = "blocky" }, metric = "mau", from = 0, to = 40000 }
    local r = imbill.breakeven(p)
    -- equal up to 10,000; standard cheaper in the first block until 0.015 x (x - 10,000) passes 100.00:
    -- 16,666 -> 498.99 < 499.00, 16,667 -> 499.01 > 499.00; in the second block the totals
    -- meet at 23,333 (0.015 x 13,333 = 199.995 -> 200.00: 599.00 both)
    assert.same({ "0equal", "10001a", "16667b", "20001a", "23333equal", "23334b" }, ats(r))
    verify(p, r)
    assert.same(brute(p, "mau", 0, 40000), ats(r))
  end)

  it("reports values where the totals are equal", function()
    local b = imbill.book { base = "2022", name = "eq", editions = {
      x = { monthly_fee = "400", mau = { free = 10000, block = 1, price = "0.005" } } } }
    -- standard 399 + 0.015 n against 400 + 0.005 n: equal at n = 100 (x = 10,100)
    local p = { a = "2022/standard", b = { book = b, edition = "x" }, metric = "mau", from = 10000, to = 10200 }
    local r = imbill.breakeven(p)
    verify(p, r)
    assert.same(brute(p, "mau", 10000, 10200), ats(r))
    assert.same({ "10000a", "10100equal", "10101b" }, ats(r))
  end)

  it("follows cent rounding exactly where two per-user prices nearly cancel", function()
    local b = imbill.book { base = "2022", name = "near", editions = {
      u = { monthly_fee = "399.05", mau = { free = 10000, block = 1, price = "0.0149" } },
      v = { monthly_fee = "399.00", mau = { free = 10003, block = 1, price = "0.015" } } } }
    local p = { a = { book = b, edition = "u" }, b = { book = b, edition = "v" }, metric = "mau", from = 9990, to = 70000 }
    local r = imbill.breakeven(p)
    verify(p, r)
    assert.same(brute(p, "mau", 9990, 70000), ats(r))
  end)

  it("works by groups too", function()
    local p = { a = "2020/pro", b = "2020/flagship", metric = "groups", to = 10 ^ 6, usage = { peak_dau = 30000 } }
    local r = imbill.breakeven(p)
    assert.same({ "0a" }, ats(r))
    assert.equal("449.97", tostring(r.points[1].a_total)) -- 149.99 + 2 DAU blocks
  end)

  it("with MAU following DAU, agrees with trying every value (one implementation for both)", function()
    -- MAU = round_half_up(3 x DAU): 2021 pro by DAU against 2022 standard by MAU
    local core = require "imbill.core"
    local std = imbill.book("2022"):edition("standard").rate
    local pro = imbill.book("2021"):edition("pro").rate
    local r = imbill.breakeven { a = "2021/pro", b = "2022/standard", follow = { mau = "3" }, to = 25000 }
    local out, prev = {}, nil
    for x = 0, 25000 do
      local ca, cb = core.month_total(pro, x, 0, 0), core.month_total(std, 0, 0, core.follow_value(x, 3000000))
      local c = ca < cb and "a" or (ca > cb and "b" or "equal")
      if c ~= prev then out[#out + 1] = x .. c end
      prev = c
    end
    assert.same(out, ats(r))
    assert.same({ "0b", "4467a", "10001b", "14467a", "20001b", "24466equal", "24467a" }, ats(r))
    assert.equal("crossing", r.points[2].kind)
  end)

  it("steps where the C core says a charge's line steps", function()
    local core = require "imbill.core"
    local pro = imbill.book("2021"):edition("pro").rate
    assert.equal(10001, core.charge_next_step(pro, "dau", 0))
    assert.equal(20001, core.charge_next_step(pro, "dau", 10001))
    -- groups followed at 1.5 per DAU: 100,000 groups is 66,667 DAU (100,000.5 -> 100,001)
    assert.equal(66667, core.charge_next_step(pro, "groups", 0, 1500000))
    assert.is_nil(core.charge_next_step(pro, "mau", 0)) -- 2021 pro has no MAU charge
    assert.equal(100001, core.follow_value(66667, 1500000))
    assert.matches("ratio_ppm: must be at least 1", H.err(core.charge_next_step, pro, "dau", 0, 0))
  end)

  it("prints a table and gives plain data", function()
    local r = imbill.breakeven { a = "2020/pro", b = "2021/pro", to = 1000 }
    assert.matches("^2020/pro against 2021/pro by dau, 0 .. 1,000\n", tostring(r))
    local d = r:data()
    assert.same({ at = 0, cheaper = "a", cheaper_edition = "2020/pro", kind = "start", a_total = "149.99",
                  b_total = "449.99" }, d.points[1])
  end)

  it("refuses ranges with more than a million price steps instead of running out of memory", function()
    assert.matches("^imbill.breakeven: to: the range .* crosses more than 1000000 price steps",
      H.err(imbill.breakeven, { a = "2021/pro", b = "2021/ultimate", metric = "dau", to = 10 ^ 12 }))
  end)

  it("names bad arguments", function()
    assert.matches("^imbill.breakeven: b: expected \"book/edition\"", H.err(imbill.breakeven, { a = "2021/pro" }))
    assert.matches("^imbill.breakeven: a: expected \"book/edition\"",
      H.err(imbill.breakeven, { a = "2021pro", b = "2021/pro" }))
    assert.matches("^imbill.breakeven: b: price book 2021 has no such edition",
      H.err(imbill.breakeven, { a = "2021/pro", b = "2021/gold" }))
    assert.matches("^imbill.breakeven: a: unknown price book",
      H.err(imbill.breakeven, { a = "1999/pro", b = "2021/pro" }))
    assert.matches("^imbill.breakeven: metric: expected dau, mau or groups",
      H.err(imbill.breakeven, { a = "2021/pro", b = "2021/ultimate", metric = "xau" }))
    assert.matches("^imbill.breakeven: from: must not be negative",
      H.err(imbill.breakeven, { a = "2021/pro", b = "2021/ultimate", from = -1 }))
    assert.matches("^imbill.breakeven: to: is below from",
      H.err(imbill.breakeven, { a = "2021/pro", b = "2021/ultimate", from = 10, to = 5 }))
    assert.matches("^imbill.breakeven: to: expected a whole number",
      H.err(imbill.breakeven, { a = "2021/pro", b = "2021/ultimate", to = 1.5 }))
    assert.matches("^imbill.breakeven: usage.peak_dau: must not be negative",
      H.err(imbill.breakeven, { a = "2021/pro", b = "2021/ultimate", usage = { peak_dau = -1 } }))
    -- a fixed value for the axis itself was silently ignored
    assert.equal("imbill.breakeven: usage.peak_dau: is the axis (metric = dau): it varies from from to to; leave it"
      .. " out, or choose another metric, got 5",
      H.err(imbill.breakeven, { a = "2021/pro", b = "2021/ultimate", usage = { peak_dau = 5 } }))
    assert.matches("^imbill.cost_curve: usage.mau: is the axis %(metric = mau%)",
      H.err(imbill.cost_curve, { edition = "2022/standard", metric = "mau", usage = { mau = 5 } }))
  end)
end)

describe("breakeven near the 64-bit limit", function()
  it("names from and to when totals at such usage cannot be held", function()
    local tiny = imbill.book { base = "2020", name = "tiny",
                               editions = { pro = { dau = { free = 0, block = 1, price = "0.000001" } } } }
    local p = { a = { book = tiny, edition = "pro" }, b = "2020/flagship" }
    if H.is_jit then
      -- LuaJIT's numbers are exact only to 2^53: such a bound is refused first
      p.from, p.to = 2 ^ 62, 2 ^ 62 + 2 ^ 12
      assert.matches("^imbill.breakeven: from: is too large to be exact", H.err(imbill.breakeven, p))
    else
      p.from = math.tointeger(2 ^ 62)
      p.to = p.from + 5
      assert.matches("^imbill.breakeven: from, to: the totals at these usage values do not fit in 64 bits",
        H.err(imbill.breakeven, p))
    end
  end)
end)

describe("breakeven far up the range", function()
  -- LuaJIT refuses counts past 2^53 before searching (spec above)
  if H.is_jit then return end
  it("ends and stays exact where from is near 2^60 (Lua 5.4 integers)", function()
    local a = imbill.book { base = "2022", name = "micro", editions = { standard = { mau = { price = "0.000001" } } } }
    local b = imbill.book { base = "2020", name = "dear", editions = { pro = { monthly_fee = "5000000000000" } } }
    local from = math.tointeger(2 ^ 60)
    -- dear/pro bills DAU: the axis is MAU, so its DAU is stated (0)
    local r = imbill.breakeven { a = { book = a, edition = "standard" }, b = { book = b, edition = "pro" },
                                 metric = "mau", from = from, to = from + 100, usage = { peak_dau = 0 } }
    assert.equal(1, #r.points)
    assert.equal(from, r.points[1].at)
    assert.equal("a", r.points[1].cheaper)
  end)
end)

describe("breakeven at the largest integer", function()
  -- LuaJIT refuses counts past 2^53 before searching (spec above)
  if H.is_jit then return end
  it("refuses to = math.maxinteger, whose walk one past the end wrapped to a negative usage", function()
    -- 2022 bills no groups, so any groups count prices: the walk ended at
    -- 2^63 - 1 + 1, which wraps, and the error named a groups_peak of
    -- -9223372036854775808 that the caller never gave
    local p = { a = "2022/standard", b = "2022/premium", metric = "groups", usage = { mau = 5 }, from = 0,
                to = math.maxinteger }
    local why = "to: is at most 9223372036854775806: a range is walked to one past its end, got 9223372036854775807"
    assert.equal("imbill.breakeven: " .. why, H.err(imbill.breakeven, p))
    assert.equal("imbill.cost_curve: " .. why, H.err(imbill.cost_curve, { edition = "2022/premium", metric = "groups",
                                                                          usage = { mau = 5 }, to = math.maxinteger }))
    -- one less is the last value a range can end on: standard is 300.00 cheaper all along
    p.to = math.maxinteger - 1
    local r = imbill.breakeven(p)
    assert.equal(1, #r.points)
    assert.equal("a", r.points[1].cheaper)
    local c = imbill.cost_curve { edition = "2022/premium", metric = "groups", usage = { mau = 5 },
                                  from = math.maxinteger - 1, to = math.maxinteger - 1 }
    assert.equal("699.00", tostring(c.points[1].total))
  end)
end)
