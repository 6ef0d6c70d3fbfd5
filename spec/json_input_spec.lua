-- JSON imbill reads (event log lines, --input, --shadow-book): nesting is
-- bounded before dkjson descends, so no input overflows the stack, and an
-- object that names a field twice is refused, since readers differ on which
-- value counts.
local json = require "imbill.internal.json"
local dkjson = require "dkjson"

describe("JSON input", function()
  it("counts nesting outside strings only, escapes included", function()
    assert.equal(2, (json.depth('{"a":[1,2],"b":"[[[[\\"]]]{"}', 10)))
    assert.equal(0, (json.depth('"[[["', 10)))
    local d, at = json.depth("[[[[", 3)
    assert.same({ 4, 4 }, { d, at })
  end)

  it("takes 32 levels and refuses 33, naming the byte, without overflowing on a million", function()
    local ok32 = string.rep("[", 32) .. string.rep("]", 32)
    assert.is_table((json.decode(dkjson, ok32)))
    local v, msg = json.decode(dkjson, string.rep("[", 33) .. string.rep("]", 33))
    assert.is_nil(v)
    assert.equal("nested deeper than 32 levels (at byte 33)", msg)
    local v2, msg2 = json.decode(dkjson, string.rep("[", 1000000))
    assert.is_nil(v2)
    assert.matches("nested deeper", msg2)
  end)

  it("says what kind of value it read, and refuses text after it", function()
    assert.same({ "object", "array", "number", "null" }, {
      select(2, json.decode(dkjson, '{"a":1}')), select(2, json.decode(dkjson, "[1]")),
      select(2, json.decode(dkjson, " 5 ")), select(2, json.decode(dkjson, "null")) })
    assert.same({ nil, "malformed JSON: text after the value at byte 9" }, { json.decode(dkjson, '{"a":1} {"b":2}') })
    local v, msg = json.decode(dkjson, '{"a":')
    assert.is_nil(v)
    assert.matches("^malformed JSON: ", msg)
  end)

  it("refuses an object that names a field twice, at any depth, names compared as decoded", function()
    local twice = 'an object names "edition" twice (which one counts is up to each reader)'
    for _, text in ipairs {
      '{"edition":"pro","edition":"flagship"}',
      '{"a":{"edition":1, "edition" :2}}',
      '[{"x":1},{"edition":1,"\\u0065dition":2}]',
    } do
      assert.same({ nil, twice }, { json.decode(dkjson, text) }, text)
    end
    -- the same name in two objects, a name written as a value, and names in a
    -- string are no repeat
    for _, text in ipairs {
      '[{"edition":1},{"edition":2}]',
      '{"edition":"edition","b":"\\"edition\\":1,\\"edition\\":2"}',
      '{"a":{"k":1},"b":{"k":1},"k":[{"k":1}]}',
    } do
      local v, kind = json.decode(dkjson, text)
      assert.is_table(v, kind)
    end
    -- a long or control-laden name is shown bounded and escaped
    local long = string.rep("n", 100) .. "\\n"
    local _, msg = json.decode(dkjson, '{"' .. long .. '":1,"' .. long .. '":2}')
    assert.matches('^an object names "n+%.%.%." %(101 bytes%) twice', msg)
  end)
end)
