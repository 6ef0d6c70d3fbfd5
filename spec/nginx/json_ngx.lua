-- The gateway's JSON helpers on their own (no nginx needed): which bodies
-- name a field twice in one object.
local json = require "imbill.gateway.json"

describe("json.unique_names", function()
  it("finds a name repeated in one object, at any depth, compared as decoded", function()
    local cases = {
      { '{"Type":"Public","Type":"AVChatRoom"}', "Type" },
      { '{ "k" : 1 ,\n "k" : 2 }', "k" },
      { '{"Type":"P","\\u0054ype":"A"}', "Type" },
      { '{"L":[{"m":"a","m":"b"}]}', "m" },
      { '{"a":"}","a":1}', "a" },
      { '{"x\\\\":1,"x\\\\":2}', "x\\" },
    }
    for _, c in ipairs(cases) do
      local ok, name = json.unique_names(c[1])
      assert.is_false(ok, c[1])
      assert.are.equal(c[2], name, c[1])
    end
  end)

  it("takes the same name in two objects, in a string or in an array as no repeat", function()
    for _, t in ipairs {
      '{"Type":"Public","GroupId":"a"}',
      '{"a":{"x":1},"b":{"x":2}}',
      '{"Name":"\\"Type\\":","Type":"x"}',
      '[{"a":1},{"a":1}]',
      '{"a":[1,2,{"b":1,"c":{"b":2}}],"b":3}',
      '{"a":["a","a"]}',
      '{}',
    } do
      assert.is_true(json.unique_names(t), t)
    end
  end)
end)
