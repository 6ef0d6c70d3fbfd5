-- Numbers are written exactly, on every runtime: in JSON, in the command's
-- output and in a notebook's display.  tostring() gives 14 significant
-- digits on LuaJIT, as dkjson (the command's --json) and cjson write them,
-- so on LuaJIT `imbill invoice --json` gave a total of 185172837851098 cents
-- as 1.851728378511e+14, and a notebook cell's peak DAU of 123456789012345
-- read 1.2345678901235e+14.
local fmt = require "imbill.internal.fmt"
local json = require "imbill.internal.json"
local display = require "imbill.report.display"
local R = require "cli_run"

describe("fmt.number: the exact text of a number", function()
  it("writes whole numbers in full, and any other number in the fewest digits that read back as it", function()
    assert.equal("123456789012345", fmt.number(123456789012345))
    assert.equal("-9007199254740991", fmt.number(-(2 ^ 53 - 1)))
    assert.equal("0.1", fmt.number(0.1))
    assert.equal(2 ^ 60, tonumber(fmt.number(2 ^ 60)))
  end)

  it("says NaN and the infinities as tostring does", function()
    assert.equal(tostring(1 / 0), fmt.number(1 / 0))
    assert.equal(tostring(-1 / 0), fmt.number(-1 / 0))
  end)
end)

describe("a notebook's display of numbers", function()
  it("shows a returned count in full, alone and in a table", function()
    assert.equal("123456789012345", display.bundle(123456789012345)["text/plain"])
    local b = display.bundle { { dau = 123456789012345 } }
    assert.truthy(b["text/plain"]:find("123456789012345", 1, true), b["text/plain"])
    assert.truthy(b["text/html"]:find("123456789012345", 1, true))
    assert.is_nil(b["text/plain"]:find("e+14", 1, true))
  end)
end)

describe("json.number: the exact JSON text of a number", function()
  it("writes whole numbers in full, up to 2^53 as floats and past it as integers", function()
    assert.equal("0", json.number(0))
    assert.equal("-7", json.number(-7))
    assert.equal("123456789012345", json.number(123456789012345))
    assert.equal("185172837851098", json.number(185172837851098))
    assert.equal("9007199254740991", json.number(2 ^ 53 - 1))
    assert.equal("922337203685477", json.number(922337203685477)) -- the most cents money holds
    if math.type then
      assert.equal("9223372036854775807", json.number(math.maxinteger))
      assert.equal("-9223372036854775808", json.number(math.mininteger))
    end
  end)

  it("writes any other number in the fewest digits that read back as it", function()
    assert.equal("0.1", json.number(0.1))
    assert.equal("1.5", json.number(1.5))
    assert.equal("0.30000000000000004", json.number(0.1 + 0.2))
    assert.equal(2 ^ 53 * 3, tonumber(json.number(2 ^ 53 * 3)))
    assert.equal(1e300, tonumber(json.number(1e300)))
  end)

  it("writes null for NaN and the infinities, which JSON has no text for", function()
    assert.equal("null", json.number(0 / 0))
    assert.equal("null", json.number(math.huge))
    assert.equal("null", json.number(-math.huge))
  end)
end)

describe("imbill --json writes the same exact numbers on Lua 5.4 and LuaJIT #cli", function()
  local args = "invoice --book 2020 --edition pro --month 2021-03 --peak-dau 123456789012345 --groups-peak 5 --json"

  local function run(lua)
    local out = os.tmpname()
    local ok = os.execute(string.format("cd %s && %s bin/imbill %s >%s 2>&1", R.quote(R.top), lua, args, R.quote(out)))
    return ok, R.slurp(out)
  end

  it("a total of 185,172,837,851,098 cents and a peak DAU of 123,456,789,012,345", function()
    local ok54, o54 = run("lua5.4")
    assert.truthy(ok54, o54)
    assert.truthy(o54:find('"total_cents":185172837851098', 1, true), o54)
    assert.truthy(o54:find('"peak_dau":123456789012345', 1, true), o54)
    local okjit, ojit = run("luajit")
    assert.truthy(okjit, ojit)
    assert.equal(o54, ojit)
  end)
end)
