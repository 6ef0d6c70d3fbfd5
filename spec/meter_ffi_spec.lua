-- imbill.meter_ffi (LuaJIT only): the FFI m:logins gives what m:logins gives,
-- answers, counts and errors included.
local H = require "helper"
local imbill = H.imbill

if not H.is_jit then
  describe("imbill.ffi.meter", function()
    pending("needs LuaJIT's FFI")
  end)
  return
end

local logins = require("imbill.ffi.meter").logins
local DAY = 86400

describe("imbill.ffi.meter", function()
  it("counts as m:logins does, across chunks and the 63-day edge", function()
    math.randomseed(7)
    local a = imbill.meter{ book = "2020", edition = "pro" }
    local b = imbill.meter{ book = "2020", edition = "pro" }
    local t = 1614556800
    for _ = 1, 6 do
      local us, ts = {}, {}
      for j = 1, math.random(1, 2600) do
        t = t + math.random(0, 1800)
        if math.random() < 0.002 then t = t + 40 * DAY end
        us[j] = "u" .. math.random(3000)
        ts[j] = math.random() < 0.05 and t - math.random(60, 66) * DAY or t
      end
      assert.equal(a:logins(us, ts), logins(b, us, ts))
    end
    assert.equal(a:last_day(), b:last_day())
    for _, mo in ipairs({ "2021-03", "2021-04", "2021-05" }) do
      assert.same(a:usage(mo), b:usage(mo))
    end
    assert.equal(a:memory().users, b:memory().users)
  end)

  it("raises m:logins' errors, and counts the chunks before a bad element", function()
    local a = imbill.meter{ book = "2020", edition = "pro" }
    local b = imbill.meter{ book = "2020", edition = "pro" }
    local us, ts = {}, {}
    for j = 1, 1500 do us[j], ts[j] = "u" .. j, 1614556800 + j end
    us[1200] = ""
    local ea = H.err(a.logins, a, us, ts)
    local eb = H.err(logins, b, us, ts)
    assert.equal(ea, eb)
    assert.matches("users%[i%]", eb)
    assert.equal(a:mau("2021-03"), b:mau("2021-03"))
    assert.equal(1024, b:mau("2021-03"))
    us[1200], ts[3] = "u1200", 1.5
    assert.equal(H.err(a.logins, a, us, ts), H.err(logins, b, us, ts))
    ts[3] = 1614556800
    assert.equal(H.err(a.logins, a, us, { 1 }), H.err(logins, b, us, { 1 }))
    assert.equal(H.err(a.logins, 42, us, ts), H.err(logins, 42, us, ts))
  end)
end)
