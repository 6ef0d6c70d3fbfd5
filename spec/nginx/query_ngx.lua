-- Reading a REST call's app from its query (no nginx needed): as Tencent
-- reads a query, and never one app to the gateway and another to Tencent.
local query = require "imbill.gateway.query"

describe("query.app", function()
  it("finds sdkappid in any case, decoded, among other arguments", function()
    assert.are.equal("1400000099", query.app("sdkappid=1400000099&identifier=admin"))
    assert.are.equal("1400000099", query.app("a=1&SDKAppID=1400000099"))
    assert.are.equal("1400000099", query.app("sdk%61ppid=1400000099"))
    assert.are.equal("1400000099", query.app("sdkappid=14000000%399&x=%20"))
    -- a longer name that ends in sdkappid is another argument
    assert.are.equal("2", query.app("xsdkappid=1&sdkappid=2"))
    assert.are.equal("2", query.app("x+sdkappid=1&sdkappid=2&y=a+b"))
    -- one naming it with a NUL or spaces around it, alone, is read as naming it
    assert.are.equal("1400000099", query.app("sdkappid%00=1400000099"))
    -- after a ";", which servers following HTML 4 take for "&"
    assert.are.equal("1400000099", query.app("x=1;sdkappid=1400000099"))
    assert.are.equal("1400000099", query.app("sdkappid=1400000099;identifier=admin"))
  end)

  it("names no app for none, or an empty value", function()
    for _, q in ipairs { nil, "", "x=1", "sdkappid", "sdkappid=", "sdk%61ppid=" } do assert.is_nil(query.app(q)) end
  end)

  it("refuses a query that names sdkappid twice, in any spelling, whatever the values", function()
    for _, q in ipairs { "sdkappid=1&sdkappid=2", "sdkappid=1&SdkAppId=1", "sdkappid=1&sdk%61ppid=2",
                         "sdkappid&sdkappid=3",
                         -- names a server reading C strings, or trimming spaces, takes for sdkappid
                         "sdkappid%00=1&sdkappid=2", "sdkappid=2&sdkappid%00x=1", "%20sdkappid=1&sdkappid=2",
                         "sdkappid+=1&sdkappid=2", "+SdkAppid=1&sdkappid=2", "sdkappid%09=1&sdkappid=2",
                         -- parted by ";", as servers following HTML 4 part a query
                         "x=1;sdkappid=2&sdkappid=1", "sdkappid=1;sdkappid=2", "a=b;SdkAppId=1;c=d&sdkappid=1" } do
      local app, why = query.app(q)
      assert.is_nil(app, q)
      assert.are.equal("twice", why, q)
    end
  end)

  it("refuses an sdkappid that is not a plain whole number, which a server reading numbers could take for an app",
    function()
    for _, q in ipairs { "sdkappid=01400000099", "sdkappid=1400000099x", "sdkappid=1400000099+", "sdkappid=-1",
                         "sdkappid=%201400000099", "sdkappid=1e9", "sdkappid=0" } do
      local app, why = query.app(q)
      assert.is_nil(app, q)
      assert.are.equal("malformed", why, q)
    end
  end)

  it("refuses a query that needs decoding and has more arguments than it reads", function()
    local app, why = query.app(string.rep("a=1&", query.MAX) .. "x=%41&sdkappid=1")
    assert.is_nil(app)
    assert.are.equal("unreadable", why)
    assert.are.equal("1", query.app(string.rep("a=1&", query.MAX - 2) .. "x=%41&sdkappid=1"))
    assert.are.equal("unreadable", select(2, query.app(string.rep("a=1;", query.MAX) .. "sdkappid=1")))
  end)
end)
