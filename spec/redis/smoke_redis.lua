local h = require "rs_helper"
describe("the Redis specs' servers", function()
  it("answer", function()
    assert.are.equal("PONG", h.rcall(h.redis_port, "PING"))
    for n = 1, 2 do assert.are.equal(200, h.get(n, "/imbill/status").status) end
  end)
end)
