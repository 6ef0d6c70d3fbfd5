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

  -- A well-formed text is checked in one walk (json.lua, fast_check); any
  -- other goes through each check in turn (json.decode_checked).  Either way
  -- decode answers what the checks one by one answer: the same value and
  -- kind, or the same message, on texts of every kind, random ones included.
  it("answers in one walk exactly what its checks one by one answer", function()
    local function one_by_one(text, max) return json.decode_checked(dkjson, text, max) end
    local texts = {
      '{"time":"2021-03-01T10:00:00+08:00","event":"login","user":"u1"}', "[]", "{}", '""', "0", "-1.5e3", "true",
      "\239\187\191{\"a\":1}", '{"a":1}\239\187\191', '{"a":"\239\187\191"}', '{"a":1,}', "[1,]", "[01]", "[.5]",
      '{"a":1 "b":2}', '{"a" 1}', '{a:1}', '["\\x41"]', '["a\tb"]', '{"a":"b', "[1] x", "", " ", "nul", "[nul]",
      '{"a":{"b":1,"b":2},"a":3}', '{"a":1,"a":{"b":1,"b":2}}', '[{"x":[{"y":1,"y":2}]},{"x":1,"x":2}]',
      '{"\\u0061":1,"a":2}', '{"\\u0061":{"\\u0062":1,"b":2}}', '{"a":[1,2,{"a":1}],"a":0}',
      string.rep("[", 32) .. string.rep("]", 32), string.rep("[", 33) .. string.rep("]", 33),
      string.rep("[", 40) .. "1,", '{"a":' .. string.rep("[", 31) .. string.rep("]", 31) .. ',"a":1}',
      '["\\ud800"]', '["\\u12"]', "[1e5,-0,0.0e-0,1E+2]", "[1e]", "[-]", "[+1]",
    }
    -- and random texts made of JSON's own pieces, from a fixed seed
    local pieces = { "{", "}", "[", "]", ",", ":", '"a"', '"b"', '"\\u0061"', "1", "-0.5", "true", "null", " ",
                     '"x', "\239\187\191", "01", "\t" }
    local seed = 12345
    for _ = 1, 3000 do
      local t = {}
      for k = 1, 1 + seed % 14 do
        seed = (seed * 1103515245 + 12345) % 2147483648
        t[k] = pieces[1 + seed % #pieces]
      end
      texts[#texts + 1] = table.concat(t)
    end
    for _, text in ipairs(texts) do
      local a, ak = json.decode(dkjson, text)
      local b, bk = one_by_one(text)
      assert.same({ b, bk }, { a, ak }, text)
    end
    -- a shallower bound, where the one walk stops before the checks do
    for _, text in ipairs { "[[[1]]]", '{"a":{"b":{"c":1}}}', '[[["\\u0061"]],[[1,1]]]' } do
      assert.same({ one_by_one(text, 2) }, { json.decode(dkjson, text, 2) }, text)
    end
  end)
end)
