local http = require "ngx_client"
describe("the specs' nginx", function()
  it("answers the status location", function()
    local r = http.get("/imbill/status")
    assert.are.equal(200, r.status)
    assert.truthy(r.body:find("# TYPE imbill_refused_total counter", 1, true))
  end)
end)
