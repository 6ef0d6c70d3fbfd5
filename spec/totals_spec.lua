local H = require "helper"
local imbill = H.imbill
local core = require "imbill.core"

-- The batch paths that must agree: the public one, the C-API binding and, on
-- LuaJIT, the FFI binding.
local paths = { { "core.totals", core.totals } }
if H.is_jit then paths[#paths + 1] = { "imbill.ffi.totals", require("imbill.ffi.totals").totals } end

local function invoice_cents(book, edition, dau, groups, mau)
  return imbill.invoice { book = book, edition = edition, month = "2021-03", peak_dau = dau,
                          groups_peak = groups, mau = mau }.total:cents()
end

describe("totals (the batch path)", function()
  it("gives integer cents per scenario, full-month totals as on the invoice", function()
    local dau = { 9999, 10000, 10001, 25000, 100000 }
    local groups = { 99999, 100000, 100001, 250000, 1000000 }
    assert.same({ 14999, 14999, 44997, 74995, 284981 },
      imbill.totals { book = "2020", edition = "pro", peak_dau = dau, groups_peak = groups })
  end)

  it("bills MAU in book 2022 (the default book)", function()
    assert.same({ 39900, 39902, 62400 }, imbill.totals { edition = "standard", mau = { 10000, 10001, 25000 } })
  end)

  it("uses a number for every scenario, and 0 for groups not given", function()
    assert.same({ 29998, 44997 }, imbill.totals { book = "2020", edition = "pro", peak_dau = 10001,
                                                  groups_peak = { 100000, 100001 } })
    assert.same({ 14999 }, imbill.totals { book = "2020", edition = "pro", peak_dau = 0 })
  end)

  it("refuses a usage without the user measure the edition is billed by, naming it", function()
    -- 2022/standard bills MAU: 50,000 DAU alone is not 399.00
    assert.equal("imbill.totals: mau: the usage gives no MAU, and 2022/standard bills MAU: give mau (an array, a"
      .. " column, or a number for every scenario)",
      H.err(imbill.totals, { book = "2022", edition = "standard", peak_dau = { 50000 } }))
    assert.equal("imbill.totals: peak_dau: the usage gives no peak DAU, and 2020/pro bills peak DAU: give peak_dau"
      .. " (an array, a column, or a number for every scenario)", H.err(imbill.totals, { book = "2020", edition = "pro" }))
    -- a free edition is capped by its measure: 2022/developer needs MAU too
    assert.matches("^imbill.totals: mau: the usage gives no MAU, and 2022/developer is capped at 100 MAU",
      H.err(imbill.totals, { book = "2022", edition = "developer", peak_dau = 5 }))
    -- stated as 0, it is priced
    assert.same({ 39900 }, imbill.totals { book = "2022", edition = "standard", peak_dau = { 50000 }, mau = 0 })
  end)

  it("gives an empty array for empty arrays", function()
    assert.same({}, imbill.totals { book = "2020", edition = "pro", peak_dau = {} })
  end)

  it("never bills usage on a free edition", function()
    assert.same({ 0, 0 }, imbill.totals { book = "2021", edition = "free", peak_dau = { 10 ^ 6, 10 ^ 7 } })
  end)

  it("takes user books", function()
    local wi = imbill.book { base = "2020", editions = { pro = { monthly_fee = "129.99" } } }
    assert.same({ 27998 }, imbill.totals { book = wi, edition = "pro", peak_dau = { 10001 } })
  end)

  it("agrees with the invoice on many scenarios", function()
    local dau, groups, mau = {}, {}, {}
    for i = 1, 300 do
      dau[i] = (i * 7919) % 60000
      groups[i] = (i * 104729) % 600000
      mau[i] = (i * 1299709) % 90000
    end
    for _, be in ipairs { { "2020", "pro" }, { "2021", "ultimate" }, { "2022", "standard" }, { "2022", "developer" } } do
      local got = imbill.totals { book = be[1], edition = be[2], peak_dau = dau, groups_peak = groups, mau = mau }
      for i = 1, #dau do
        assert.equal(invoice_cents(be[1], be[2], dau[i], groups[i], mau[i]), got[i], be[1] .. "/" .. be[2] .. " #" .. i)
      end
    end
  end)

  it("agrees with the invoice at block edges, odd block sizes, sub-cent prices and large values", function()
    local book = imbill.book { base = "2022", name = "edges", editions = {
      odd = { monthly_fee = "0.01", dau = { free = 3, block = 7, price = "0.015" },
              groups = { free = 0, block = 999983, price = "149.99" }, mau = { free = 10, block = 1, price = "0.000001" } },
      big = { monthly_fee = "1000000", dau = { free = 0, block = 3, price = "10" },
              groups = { free = 5, block = 2 ^ 31 + 11, price = "0.333333" }, mau = { free = 0, block = 1, price = "0.005" } },
    } }
    local values = { 0, 1, 2, 3, 4, 9, 10, 11, 17, 24, 25, 999982, 999983, 999984, 999988, 1999966, 1999967,
                     2 ^ 31 + 10, 2 ^ 31 + 11, 2 ^ 31 + 16, 2 ^ 31 + 17, 2 ^ 32 + 27, 2 ^ 40 + 1, 2 ^ 40 + 2 }
    for _, e in ipairs { "odd", "big" } do
      local dau, groups, mau = {}, {}, {}
      for i, v in ipairs(values) do
        dau[i], groups[i], mau[#values - i + 1] = v, v, v
      end
      local got = imbill.totals { book = book, edition = e, peak_dau = dau, groups_peak = groups, mau = mau }
      for i = 1, #values do
        local inv = imbill.invoice { book = book, edition = e, month = "2023-03", peak_dau = dau[i],
                                     groups_peak = groups[i], mau = mau[i] }
        assert.equal(inv.total:cents(), got[i], e .. " #" .. i)
      end
    end
  end)

  it("agrees with the invoice around the fast division's reach (blocks near 2^31, usage 2^32 over free)", function()
    -- the column loops divide by one multiplication for blocks below 2^31 and
    -- usage up to 2^32 over the free quota; beyond, scenarios take the
    -- checked path: both sides of each edge must give the invoice's cents
    local F = 12345
    local eds = {}
    for name, block in pairs { b2 = 2, m1 = 2 ^ 31 - 1, m0 = 2 ^ 31, p1 = 2 ^ 31 + 1, b3 = 3 } do
      eds[name] = { monthly_fee = "1", dau = { free = F, block = block, price = "0.07" },
                    groups = { free = 0, block = block, price = "2" } }
    end
    local book = imbill.book { base = "2022", name = "reach", editions = eds }
    local values = { 0, F - 1, F, F + 1, F + 2 ^ 31 - 2, F + 2 ^ 31 - 1, F + 2 ^ 31, F + 2 ^ 31 + 1,
                     F + 2 ^ 32 - 1, F + 2 ^ 32, F + 2 ^ 32 + 1, F + 2 ^ 33, 2 ^ 32 - 1, 2 ^ 32, 2 ^ 32 + 1 }
    for name in pairs(eds) do
      local got = imbill.totals { book = book, edition = name, peak_dau = values, groups_peak = values }
      for i, v in ipairs(values) do
        local inv = imbill.invoice { book = book, edition = name, month = "2023-03", peak_dau = v, groups_peak = v }
        assert.equal(inv.total:cents(), got[i], name .. " " .. string.format("%.0f", v))
        -- alone, each value's chunk takes the path its own size calls for
        local one = imbill.totals { book = book, edition = name, peak_dau = { v }, groups_peak = { v } }
        assert.equal(inv.total:cents(), one[1], name .. " alone " .. string.format("%.0f", v))
      end
    end
  end)

  it("prices thousands of scenarios across chunk edges exactly as one at a time", function()
    local dau, groups = {}, {}
    for i = 1, 3001 do
      dau[i] = (i * 7919) % 40000
      groups[i] = (i * 104729) % 400000
    end
    dau[1500] = 2 ^ 40 -- one chunk takes the checked path
    local got = imbill.totals { book = "2020", edition = "pro", peak_dau = dau, groups_peak = groups }
    assert.equal(3001, #got)
    for _, i in ipairs { 1, 255, 256, 257, 511, 512, 513, 1024, 1025, 1499, 1500, 1501, 3000, 3001 } do
      assert.equal(invoice_cents("2020", "pro", dau[i], groups[i], 0), got[i], "#" .. i)
    end
  end)

  it("names the right scenario for a bad value past the first chunk", function()
    local dau = {}
    for i = 1, 3000 do dau[i] = i end
    for _, at in ipairs { 256, 257, 512, 513, 1025, 2999 } do
      local saved = dau[at]
      dau[at] = -1
      assert.equal(string.format("imbill.totals: peak_dau[%d]: expected a whole number >= 0, got -1", at),
        H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = dau }))
      dau[at] = saved
    end
  end)

  -- The first bad value is the first by scenario, and at one scenario the
  -- first by field (peak_dau, groups_peak, mau), however the arrays are read.
  it("names the first bad value by scenario, then by field", function()
    local function arrays()
      local d, g, m = {}, {}, {}
      for i = 1, 600 do d[i], g[i], m[i] = i, 2 * i, 3 * i end
      return d, g, m
    end
    local d, g, m = arrays()
    g[10], d[20] = -1, -1
    assert.equal("imbill.totals: groups_peak[10]: expected a whole number >= 0, got -1",
      H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = d, groups_peak = g, mau = m }))
    d, g, m = arrays()
    d[300], g[300], m[299] = "x", -1, 2.5
    assert.equal("imbill.totals: mau[299]: expected a whole number >= 0, got 2.5",
      H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = d, groups_peak = g, mau = m }))
    m[299] = 1
    assert.equal('imbill.totals: peak_dau[300]: expected a whole number >= 0, got "x"',
      H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = d, groups_peak = g, mau = m }))
  end)

  -- The same month priced both ways gives the same answer: the total, or a
  -- refusal, never a number from one and an error from the other.
  it("agrees with imbill.invoice at the edge of what money holds", function()
    local edge = imbill.book { base = "2020", name = "edge", editions = { pro = { monthly_fee = "9223372036854.76",
                               dau = { price = "0.01", block = 1, free = 0 } } } }
    local inv = imbill.invoice { book = edge, edition = "pro", month = "2021-03", peak_dau = 1 }
    assert.equal("9223372036854.77", tostring(inv.total))
    assert.same({ inv.total:cents() }, imbill.totals { book = edge, edition = "pro", peak_dau = { 1 } })
    assert.equal("imbill.invoice: total: the lines add up to more than money holds (at most 9223372036854.775807):"
      .. " 9223372036854.76 so far, and 0.02 on the dau_overage line",
      H.err(imbill.invoice, { book = edge, edition = "pro", month = "2021-03", peak_dau = 2 }))
    assert.equal("imbill.totals: scenario 1: the total 922337203685478 cents is more than money holds (at most "
      .. "9223372036854.775807)", H.err(imbill.totals, { book = edge, edition = "pro", peak_dau = { 2 } }))
    assert.equal("imbill.compare: total: on edge/pro, the lines add up to more than money holds (at most "
      .. "9223372036854.775807): 9223372036854.76 so far, and 0.02 on the dau_overage line",
      H.err(imbill.compare, { books = { edge }, month = "2021-03", peak_dau = 2 }))
  end)

  -- the first scenario that cannot be priced, on the first edition by position
  -- there: an edition whose total passes money's range at scenario 2 comes
  -- before a later edition the core refuses at scenario 2
  it("names the first edition at the first scenario that cannot be priced, for any reason", function()
    local e0 = imbill.book { base = "2020", name = "e0", editions = { pro = { monthly_fee = "9223372036854.76",
                             dau = { price = "1000", block = 1, free = 0 } } } }
    local e1 = imbill.book { base = "2020", name = "e1", editions = { pro = {
                             dau = { price = "9000000000000", block = 1, free = 0 } } } }
    local eds = { { book = e0, edition = "pro" }, { book = e1, edition = "pro" } }
    local want = "imbill.totals: scenario 2: on e0/pro, the total 922537203685476 cents is more than money holds (at"
      .. " most 9223372036854.775807)"
    assert.equal(want, H.err(imbill.totals, { editions = eds, peak_dau = { 0, 2000000, 1000000000000000 } }))
    assert.equal(want, H.err(imbill.totals, { editions = eds, peak_dau = imbill.column { 0, 2000000, 1000000000000000 } }))
  end)

  it("words a NaN, an infinity and a count past 2^53 the same on both runtimes", function()
    local function e(t) return H.err(imbill.totals, t) end
    local pro = { book = "2020", edition = "pro" }
    local function with(k, v) local t = { book = pro.book, edition = pro.edition, peak_dau = { 1, 2 } } t[k] = v return t end
    -- an infinity is no whole number (it was "inf is beyond 2^53" on Lua 5.4 only)
    assert.equal("imbill.totals: peak_dau[2]: expected a whole number >= 0, got inf", e(with("peak_dau", { 1, math.huge })))
    assert.equal("imbill.totals: groups_peak: expected a whole number, got -inf", e(with("groups_peak", -math.huge)))
    -- NaN is spelled one way ("-nan" on Lua 5.4 by the C library)
    assert.equal("imbill.totals: peak_dau[2]: expected a whole number >= 0, got nan", e(with("peak_dau", { 1, 0 / 0 })))
    assert.equal("imbill.totals: groups_peak: expected a whole number, got nan", e(with("groups_peak", 0 / 0)))
    -- a number for every scenario past 2^53: the value shown after "got", as core.totals shows it
    assert.equal("imbill.totals: groups_peak: is a float beyond 2^53, which cannot be exact, got 1e+300",
      e(with("groups_peak", 1e300)))
    assert.equal("imbill.column: values[2]: expected a whole number, got inf", H.err(imbill.column, { 1, math.huge }))
  end)

  it("refuses an array with a hole on both runtimes", function()
    assert.equal("imbill.totals: peak_dau[2]: expected a whole number >= 0, got nil",
      H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = { 1, nil, 3 } }))
  end)

  it("names the field of a count too large to price", function()
    if H.is_jit then
      assert.equal("imbill.totals: mau[1]: 4611686018427387904 is a float beyond 2^53, which cannot be exact",
        H.err(imbill.totals, { edition = "standard", mau = { 2 ^ 62 } }))
    else
      assert.equal("imbill.totals: mau[2]: 9223372036854775807 gives a charge that does not fit in 64 bits",
        H.err(imbill.totals, { edition = "standard", mau = { 1, math.maxinteger } }))
      assert.equal("imbill.totals: mau: 9223372036854775807 gives a charge that does not fit in 64 bits",
        H.err(imbill.totals, { edition = "standard", mau = math.maxinteger, peak_dau = { 1, 2 } }))
    end
  end)

  for _, path in ipairs(paths) do
    local name, f = path[1], path[2]
    describe("through " .. name, function()
      local rate = imbill.book("2020"):edition("pro").rate
      it("computes the same cents", function()
        assert.same({ 14999, 44997, 74995 }, f(rate, { 10000, 10001, 25000 }, { 0, 100001, 250000 }, nil))
        assert.same({ 44997 }, f(rate, 10001, 100001, 0))
      end)
      it("names the field and index of a bad value", function()
        assert.equal("peak_dau[2]: expected a whole number >= 0, got -2", H.err(f, rate, { 1, -2 }))
        assert.equal("peak_dau[2]: expected a whole number >= 0, got 2.5", H.err(f, rate, { 1, 2.5 }))
        assert.equal('groups_peak[1]: expected a whole number >= 0, got "5"', H.err(f, rate, nil, { "5" }))
        assert.equal("mau[3]: expected a whole number >= 0, got nil", H.err(f, rate, nil, nil, { 1, 2, nil, 4 }))
        assert.equal('peak_dau: expected an array of whole numbers or a number, got "x"', H.err(f, rate, "x"))
        assert.equal("mau: expected an array of whole numbers or a number, got true", H.err(f, rate, 1, 1, true))
        assert.equal("peak_dau: must not be negative, got -1", H.err(f, rate, -1))
        assert.equal("peak_dau: expected a whole number, got 2.5", H.err(f, rate, 2.5))
        -- the array the count came from is named (it was "where an earlier array has 2")
        assert.equal("groups_peak: has 1 scenario where peak_dau has 2", H.err(f, rate, { 1, 2 }, { 1 }))
        assert.equal("mau: has 3 scenarios where groups_peak has 2", H.err(f, rate, 5, { 1, 2 }, { 1, 2, 3 }))
      end)
      -- A total is an invoice's: at most what money holds (9223372036854.775807,
      -- 922337203685477 cents), on both runtimes, as imbill.invoice says it:
      -- a value whose line alone is more names the value, else the scenario.
      it("refuses a total that does not fit, naming the scenario or the value", function()
        local std = imbill.book("2022"):edition("standard").rate
        assert.equal("mau[2]: 9007199254740992 gives a charge that does not fit in 64 bits",
          H.err(f, std, 0, 0, { 1, 2 ^ 53 }))
        if not H.is_jit then
          assert.equal("mau[2]: 9223372036854775807 gives a charge that does not fit in 64 bits",
            H.err(f, std, 0, 0, { 1, math.maxinteger }))
        end
        local h = imbill.book { base = "2020", name = "half", editions = { pro = { monthly_fee = "5000000000000",
                                dau = { price = "5000000000000", block = 1, free = 0 } } } }:edition("pro").rate
        assert.equal("scenario 2: the total 1000000000000000 cents is more than money holds (at most "
          .. "9223372036854.775807)", H.err(f, h, { 0, 1 }))
        -- the most money holds is a total; a cent more is not
        local edge = imbill.book { base = "2020", name = "edge", editions = { pro = { monthly_fee = "9223372036854.76",
                                   dau = { price = "0.01", block = 1, free = 0 } } } }:edition("pro").rate
        assert.same({ 922337203685476, 922337203685477 }, f(edge, { 0, 1 }))
        assert.equal("scenario 3: the total 922337203685478 cents is more than money holds (at most "
          .. "9223372036854.775807)", H.err(f, edge, { 0, 1, 2 }))
      end)
      it("reports a total beyond money before a later scenario the core refuses", function()
        -- scenario 2's line fits in 64 bits of cents but not in money; scenario
        -- 3's does not fit at all: scenario 2 is the first that cannot be priced
        local b = imbill.book { base = "2020", name = "tera", editions = { pro = { monthly_fee = "1",
                                dau = { price = "1000000000000", block = 1, free = 0 } } } }:edition("pro").rate
        assert.equal("peak_dau[2]: 10000 gives a charge that does not fit in 64 bits",
          H.err(f, b, { 1, 10000, 2 ^ 53 }))
        assert.equal("peak_dau[2]: 10000 gives a charge that does not fit in 64 bits",
          H.err(f, b, { 1, 10000, 9000000 }))
      end)
    end)
  end

  if H.is_jit then
    it("on LuaJIT the FFI binding loads", function()
      assert.is_function(require("imbill.ffi.totals").totals)
    end)
    it("on LuaJIT checks every number: -0, 2^53, tiny fractions, NaN and whole numbers past 2^53", function()
      local F = require("imbill.ffi.totals").totals
      local trial = imbill.book("2020"):edition("trial").rate
      local pro = imbill.book("2020"):edition("pro").rate
      assert.same({ 0, 0, 0 }, F(trial, { -0.0, 2 ^ 53, 2 ^ 53 - 1 }))
      assert.same({ 14999, 14999, 29998, 29998 }, F(pro, { -0.0, 10000, 20000, 2 ^ 4 * 1000 + 4000 }))
      -- a line past what money holds is refused the same way by both
      assert.equal(H.err(core.totals, pro, { 2 ^ 52 + 1 }), H.err(F, pro, { 2 ^ 52 + 1 }))
      for _, v in ipairs { 0.5, 1e-300, 2 ^ -1074, 10000.000001, -1, -0.5, -1e-300, 0 / 0,
                           math.huge, -math.huge, -2 ^ 60, 2 ^ 51 + 0.5, 2 ^ 52 - 0.5 } do
        assert.matches("^peak_dau%[2%]: expected a whole number >= 0", H.err(F, pro, { 1, v }))
        assert.matches("^groups_peak%[2%]: expected a whole number >= 0", H.err(F, pro, { 1, 1 }, { 1, v }, { 1, 1 }))
      end
      for _, v in ipairs { 2 ^ 53 + 2, 1e300, 2 ^ 63, 2 ^ 64 } do
        assert.matches("^peak_dau%[2%]: .* is a float beyond 2%^53, which cannot be exact$",
          H.err(F, pro, { 1, v }))
        assert.matches("^mau%[2%]: .* is a float beyond 2%^53", H.err(F, pro, { 1, 1 }, { 1, 1 }, { 1, v }))
      end
      -- whole numbers from 2^51 to 2^53 fail the copy loop's quick test and
      -- are let through by its second look
      local big = { 2 ^ 51, 2 ^ 51 + 1, 2 ^ 52 - 1, 2 ^ 52 + 1, 2 ^ 52 + 2, 2 ^ 53 - 1, 2 ^ 53 }
      assert.same(core.totals(trial, big, big, big), F(trial, big, big, big))
      local std = imbill.book("2022"):edition("standard").rate -- bills MAU: any peak DAU prices
      assert.same({ 39900, 39900 }, F(std, { 2 ^ 51, 2 ^ 51 + 1 }))
      assert.same(core.totals(std, big, big, 10001), F(std, big, big, 10001))
    end)
    it("on LuaJIT refuses counts beyond 2^53 (not exact as doubles)", function()
      assert.equal("imbill.totals: peak_dau[1]: 9007199254740994 is a float beyond 2^53, which cannot be exact",
        H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = { 2 ^ 53 + 2 } }))
    end)
  end

  describe("on several editions at once (editions = { ... })", function()
    local EDS = { "2020/pro", "2020/flagship", "2021/pro", "2021/ultimate", "2022/standard", "2022/premium" }
    local dau, groups, mau = {}, {}, {}
    for i = 1, 1500 do
      dau[i] = (i * 7919) % 60000
      groups[i] = (i * 104729) % 600000
      mau[i] = (i * 1299709) % 90000
    end

    it("gives each edition's cents, by position and by name, the arrays read once", function()
      local by = imbill.totals { editions = EDS, peak_dau = dau, groups_peak = groups, mau = mau }
      for i, name in ipairs(EDS) do
        local b, e = name:match("^(%w+)/(%w+)$")
        local one = imbill.totals { book = b, edition = e, peak_dau = dau, groups_peak = groups, mau = mau }
        assert.same(one, by[i], name)
        assert.equal(by[i], by[name])
      end
    end)

    it("gives columns for columns", function()
      local by = imbill.totals { editions = EDS, peak_dau = imbill.column(dau), groups_peak = groups, mau = 7 }
      for i, name in ipairs(EDS) do
        local b, e = name:match("^(%w+)/(%w+)$")
        assert.same(imbill.totals { book = b, edition = e, peak_dau = dau, groups_peak = groups, mau = 7 },
          by[name]:totable(), name)
        assert.equal(by[i], by[name])
      end
    end)

    it("reports a bad value once, and a total that cannot be priced with its edition", function()
      assert.equal("imbill.totals: groups_peak[2]: expected a whole number >= 0, got -1",
        H.err(imbill.totals, { editions = EDS, peak_dau = { 1, 2 }, groups_peak = { 1, -1 } }))
      assert.equal("imbill.totals: mau[2]: on 2022/standard, 9007199254740992 gives a charge that does not fit in 64 bits",
        H.err(imbill.totals, { editions = { "2020/pro", "2022/standard" }, mau = { 1, 2 ^ 53 } }))
      if not H.is_jit then
        assert.equal("imbill.totals: mau[2]: on 2022/standard, 9223372036854775807 gives a charge that does not "
          .. "fit in 64 bits", H.err(imbill.totals, { editions = { "2020/pro", "2022/standard" }, mau = { 1, math.maxinteger } }))
      end
    end)

    it("names the edition of a column scenario that cannot be priced, the first by index", function()
      local big = H.is_jit and imbill.column { 1, 2 ^ 53 } * 1023 or imbill.column { 1, math.maxinteger }
      local v = H.is_jit and "9214364837600034816" or "9223372036854775807"
      assert.equal("imbill.totals: mau[2]: on 2022/standard, " .. v .. " gives a charge that does not fit in 64 bits",
        H.err(imbill.totals, { editions = { "2020/pro", "2022/standard", "2022/premium" }, mau = big }))
      assert.equal("imbill.totals: peak_dau[1]: expected a whole number >= 0, got -1",
        H.err(imbill.totals, { editions = EDS, peak_dau = imbill.column { -1, 1 }, mau = big }))
    end)

    it("names bad editions arguments", function()
      assert.matches("^imbill.totals: editions%[2%]: price book 2022 has no such edition",
        H.err(imbill.totals, { editions = { "2020/pro", "2022/pro" } }))
      assert.equal("imbill.totals: editions: give editions, or book and edition, not both, got table",
        H.err(imbill.totals, { editions = EDS, edition = "pro" }))
      assert.equal("imbill.totals: editions: needs at least one edition", H.err(imbill.totals, { editions = {} }))
      assert.equal("imbill.totals: into: takes one edition's results; not with editions",
        H.err(imbill.totals, { editions = EDS, into = imbill.column(1) }))
    end)
  end)

  it("names bad arguments", function()
    assert.matches("^imbill.totals: argument: expected a table", H.err(imbill.totals, nil))
    assert.matches("^imbill.totals: pead_dau: unknown field", H.err(imbill.totals, { edition = "pro", pead_dau = {} }))
    assert.matches("^imbill.totals: book: unknown price book", H.err(imbill.totals, { book = "1999", edition = "pro" }))
    assert.matches("^imbill.totals: edition: price book 2022 has no such edition", H.err(imbill.totals, { edition = "pro" }))
    assert.matches("^imbill.totals: peak_dau%[2%]: expected a whole number >= 0, got %-2",
      H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = { 1, -2 } }))
  end)
end)
