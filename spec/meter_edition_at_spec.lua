-- m:edition(t) takes the instants every action takes (years 1..9999 in every
-- zone): before, m:edition(math.maxinteger) or m:edition(2^1000) answered the
-- latest edition, as if an instant past the calendar were one the meter knew.
local H = require "helper"
local imbill = H.imbill
local core = require "imbill.core"

describe("m:edition(t)", function()
  local m = imbill.meter{ book = "2020", edition = "trial" }
  local t1 = core.parse_date("2021-04-01") * 86400
  assert.is_true(m:change_edition("pro", t1))

  it("answers the edition in force at an instant of the calendar, the latest without one", function()
    assert.equal("trial", m:edition(t1 - 1).id)
    assert.equal("pro", m:edition(t1).id)
    assert.equal("pro", m:edition().id)
    assert.equal("trial", m:edition(core.INSTANT_MIN).id)
    assert.equal("pro", m:edition(core.INSTANT_END - 1).id)
  end)

  it("refuses an instant outside years 1..9999, naming the method, the field and the value", function()
    for _, t in ipairs({ core.INSTANT_END, core.INSTANT_MIN - 1, math.maxinteger, math.mininteger, 2.0 ^ 1000 }) do
      local ok, err = pcall(m.edition, m, t)
      assert.is_false(ok)
      assert.matches("^meter:edition: t: instant is outside years 1%.%.9999", tostring(err))
    end
    local ok, err = pcall(m.edition, m, 1.5)
    assert.is_false(ok)
    assert.matches("^meter:edition: t: expected an instant in whole Unix seconds", tostring(err))
  end)
end)
