local H = require "helper"
local imbill = H.imbill

describe("money", function()
  it("means the same price whether given as string, float or money", function()
    assert.equal(imbill.money("149.99"), imbill.money(149.99))
    assert.equal(imbill.money("149.99"), imbill.money(imbill.money("149.99")))
    assert.equal("149.99", tostring(imbill.money(149.99)))
  end)
end)
