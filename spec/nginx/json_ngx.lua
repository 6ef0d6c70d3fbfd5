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

  describe("json.without", function()
    it("leaves out the array's elements at the positions given, and keeps every other byte", function()
      local text = '{"From":"a","Items":[{"To":"b"}, {"To":"c","Note":"x,]"} ,{"To":"d"}],"Big":12345678901234567890}'
      assert.are.equal('{"From":"a","Items":[{"To":"b"},{"To":"d"}],"Big":12345678901234567890}',
        json.without(text, "Items", { [2] = true }))
      assert.are.equal('{ "A" : ["b"] , "x": 1.5 }', json.without('{ "A" : [ "a" , "b" , "c" ] , "x": 1.5 }', "A",
        { [1] = true, [3] = true }))
      -- the top-level key only, not one of the same name inside another value
      assert.are.equal('{"a":{"A":[1]},"A":[{"k":[3]},"z"]}',
        json.without('{"a":{"A":[1]},"A":[[1,2],{"k":[3]},"z"]}', "A", { [1] = true }))
    end)

    it("gives nil for a text that is no object, or a key that holds no array", function()
      assert.is_nil(json.without('[1,2]', "A", {}))
      assert.is_nil(json.without('{"A":"x"}', "A", { [1] = true }))
      assert.is_nil(json.without('{"B":[1]}', "A", { [1] = true }))
    end)
  end)
end)
