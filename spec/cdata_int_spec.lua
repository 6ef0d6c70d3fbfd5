-- LuaJIT only: a boxed 64-bit FFI integer (5LL, 5ULL) holds a whole number
-- exactly, so wherever imbill expects a whole number it is that number: the
-- columns, imbill.totals, the meter's instants and the checks of counts take
-- it as Lua 5.4 takes the same integer.  Any other cdata (double, int32_t, a
-- pointer) is no whole number, and the error names its ctype.
-- (The 5LL literal is LuaJIT's syntax; this file builds its values with
-- ffi.new so that Lua 5.4 can read it.)
local H = require "helper"
local imbill = H.imbill

if not H.is_jit then
  describe("64-bit FFI integers as whole numbers", function()
    pending("needs LuaJIT's FFI")
  end)
  return
end

local ffi = require "ffi"
local function LL(x) return ffi.new("int64_t", x) end
local function ULL(x) return ffi.new("uint64_t", x) end
local T = 1614556800 -- 2021-03-01T00:00:00Z

describe("64-bit FFI integers as whole numbers (LuaJIT)", function()
  it("build and fill a column exactly, past 2^53 too, as Lua 5.4 integers do", function()
    local c = imbill.column { LL(5), ULL(6), 7 }
    assert.same({ 5, 6, 7 }, c:totable())
    c:set(LL(1), LL(50))
    assert.equal(50, c:get(ULL(1)))
    assert.equal(3, #imbill.column(LL(3)))
    -- 2^60 + 1 has no double; the column holds it exactly (its sum says so)
    local big = imbill.column { LL(2 ^ 60) + 1, -LL(2 ^ 60) }
    assert.equal(1, big:sum())
  end)

  it("price in imbill.totals as the numbers do, arrays, scalars and columns alike", function()
    local want = imbill.totals { book = "2020", edition = "pro", peak_dau = { 9999, 25000 }, groups_peak = 250000 }
    assert.same({ 44997, 74995 }, want)
    assert.same(want, imbill.totals { book = "2020", edition = "pro", peak_dau = { LL(9999), ULL(25000) },
                                      groups_peak = LL(250000) })
    local col = imbill.totals { book = "2020", edition = "pro", peak_dau = imbill.column { LL(9999), LL(25000) },
                                groups_peak = LL(250000) }
    assert.same(want, col:totable())
    assert.equal("449.97", imbill.invoice { book = "2020", edition = "pro", month = "2021-03",
                                           peak_dau = LL(25000) }.total:format())
  end)

  it("are instants for the meter, one login and a batch of them", function()
    local m = imbill.meter { book = "2020", edition = "pro" }
    assert.is_true(m:login("a", LL(T)))
    assert.equal(2, m:logins({ "a", "b" }, { LL(T + 60), ULL(T + 120) }))
    assert.equal(2, m:dau("2021-03-01"))
    assert.is_true(m:create_account("a", LL(T), "e1"))
  end)

  it("beyond what a count can be are refused naming the value", function()
    assert.equal("imbill.totals: peak_dau[1]: is beyond 2^53, more than a count can be on this runtime, got "
      .. "9223372036854775808ULL", H.err(imbill.totals, { book = "2020", edition = "pro",
                                                          peak_dau = { ULL(2 ^ 63) } }))
    assert.equal("imbill.totals: peak_dau[1]: expected a whole number >= 0, got -1LL",
      H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = { LL(-1) } }))
    assert.equal("imbill.invoice: peak_dau: is beyond 2^53, more than a count can be on this runtime, got "
      .. "9007199254740993LL", H.err(imbill.invoice, { book = "2020", edition = "pro", month = "2021-03",
                                                        peak_dau = LL(2 ^ 53) + 1 }))
    -- a uint64_t past INT64_MAX has no int64_t: no column value either
    assert.equal("imbill.column: values[1]: expected a whole number, got 9223372036854775808ULL",
      H.err(imbill.column, { ULL(2 ^ 63) }))
  end)

  it("of any other type are no whole number, and the error names the ctype", function()
    assert.equal("imbill.column: values[1]: expected a whole number, got cdata<double>",
      H.err(imbill.column, { ffi.new("double", 5) }))
    assert.equal("imbill.column: values[2]: expected a whole number, got cdata<int>",
      H.err(imbill.column, { 1, ffi.new("int32_t", 5) }))
    assert.equal("column:set: v: expected a whole number, got cdata<double>",
      H.err(function() imbill.column(1):set(1, ffi.new("double", 5)) end))
    assert.equal("imbill.totals: peak_dau[1]: expected a whole number >= 0, got cdata<double>",
      H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = { ffi.new("double", 5) } }))
    assert.equal("imbill.totals: peak_dau: expected an array of whole numbers or a number, got cdata<double>",
      H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = ffi.new("double", 5) }))
    assert.matches("^meter:login: t: expected an instant in whole Unix seconds, got cdata<double>",
      H.err(function() imbill.meter { book = "2020", edition = "pro" }:login("a", ffi.new("double", T)) end))
  end)
end)
