-- imbill.ffi.meter (LuaJIT only): the FFI m:logins gives what m:logins gives,
-- answers, counts and errors included.  This path runs inside nginx workers:
-- no metatable and no collection can make it read freed memory.
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

  it("raises m:logins' errors naming the element, and counts nothing of a batch with a bad one", function()
    local a = imbill.meter{ book = "2020", edition = "pro" }
    local b = imbill.meter{ book = "2020", edition = "pro" }
    local us, ts = {}, {}
    for j = 1, 1500 do us[j], ts[j] = "u" .. j, 1614556800 + j end
    us[1200] = ""
    local ea = H.err(a.logins, a, us, ts)
    local eb = H.err(logins, b, us, ts)
    assert.equal(ea, eb)
    assert.matches("^meter:logins: users%[1200%]: expected a non%-empty string id", eb)
    assert.equal(0, a:mau("2021-03"))
    assert.equal(0, b:mau("2021-03"))
    us[1200], ts[3] = "u1200", 1.5
    assert.matches("times%[3%]", H.err(logins, b, us, ts))
    assert.equal(H.err(a.logins, a, us, ts), H.err(logins, b, us, ts))
    ts[3] = 1614556800
    assert.equal(H.err(a.logins, a, us, { 1 }), H.err(logins, b, us, { 1 }))
    assert.equal(H.err(a.logins, 42, us, ts), H.err(logins, 42, us, ts))
    assert.equal(1500, logins(b, us, ts))
  end)

  it("reads elements raw: an __index that allocates, collects or drops the meter changes nothing", function()
    local a = imbill.meter{ book = "2020", edition = "pro" }
    local b = imbill.meter{ book = "2020", edition = "pro" }
    local us, ts = {}, {}
    for j = 1, 3000 do us[j], ts[j] = "user-" .. j .. string.rep("x", j % 40), 1614556800 + j end
    local calls = 0
    local hostile = { __index = function(_, k)
      calls = calls + 1
      b = nil -- the caller's only other reference
      collectgarbage()
      return "ghost" .. tostring(k) .. string.rep("y", 100)
    end }
    setmetatable(us, hostile)
    setmetatable(ts, hostile)
    local meter = b
    assert.equal(a:logins(us, ts), logins(meter, us, ts))
    assert.equal(0, calls)
    assert.equal(3000, meter:mau("2021-03"))
    -- a hole is an element like any other: refused by index, never read through __index
    us[10] = nil
    assert.matches("users%[10%]", H.err(logins, meter, us, ts))
    assert.equal(0, calls)
  end)
end)
