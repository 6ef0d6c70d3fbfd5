-- One rule for counts given as floats, at every entry point: a float is a
-- count only when it is whole and at most 2^53, the last integer a double
-- holds exactly.  2^53 + 2 is a whole float, but 2^53 + 1 reads back as the
-- same float as 2^53, so a count that large could be another user's count:
-- it is refused everywhere, not accepted by one path and refused by another.
-- (On Lua 5.4 a true integer is exact at any size and stays accepted.)
local H = require "helper"
local imbill = H.imbill
local core = require "imbill.core"

local BIG = 2 ^ 53 + 2     -- a float, on both runtimes
local EDGE = 2 ^ 53        -- the largest float accepted

-- prices small enough that a bill for 2^53 users still fits in 64 bits
local TINY = imbill.book { base = "2020", name = "tiny", editions = {
  pro = { dau = { free = 0, block = 1000000, price = "0.000001" } } } }
local pro = TINY:edition("pro")

local entry = {
  { "imbill.totals (array)", function(v) return imbill.totals { book = TINY, edition = "pro", peak_dau = { v } } end },
  { "imbill.totals (one number)", function(v) return imbill.totals { book = TINY, edition = "pro", peak_dau = v } end },
  { "imbill.invoice", function(v)
    return imbill.invoice { book = TINY, edition = "pro", month = "2021-03", peak_dau = v }
  end },
  { "imbill.compare", function(v)
    return imbill.compare { month = "2021-03", peak_dau = v, books = { TINY }, editions = { "pro" } }
  end },
  { "core.totals", function(v) return core.totals(pro.rate, { v }) end },
  { "core.month_total", function(v) return core.month_total(pro.rate, v, 0, 0) end },
  { "core.charge", function(v) return core.charge(pro.rate, "dau", v, "peak_dau") end },
}

describe("a float count", function()
  for _, e in ipairs(entry) do
    it(e[1] .. " refuses 2^53 + 2 given as a float, naming the field", function()
      local msg = H.err(e[2], BIG)
      assert.matches("peak_dau", msg)
      assert.matches("2^53", msg, 1, true)
    end)
    it(e[1] .. " accepts 2^53 given as a float", function()
      assert.is_truthy((e[2](EDGE)))
    end)
  end

  if not H.is_jit then
    it("on Lua 5.4 an integer past 2^53 is exact and accepted", function()
      local n = math.tointeger(2 ^ 53) + 2
      local got = imbill.totals { book = TINY, edition = "pro", peak_dau = { n } }[1]
      assert.equal(core.month_total(pro.rate, n, 0, 0), got)
      assert.equal(got, imbill.invoice { book = TINY, edition = "pro", month = "2021-03", peak_dau = n }.total:cents())
    end)
  end

  it("a fraction is refused as before, whatever its size", function()
    assert.matches("expected a whole number", H.err(imbill.totals, { book = TINY, edition = "pro", peak_dau = { 2.5 } }))
    assert.matches("expected a whole number", H.err(imbill.invoice,
      { book = TINY, edition = "pro", month = "2021-03", peak_dau = 2.5 }))
  end)
end)
