-- The Redis client the `imbill` command uses outside nginx (LuaSocket):
-- a reply that is not RESP, from a server that is not Redis or a reply cut
-- or garbled, is an error naming what came, as a failed connection is;
-- never a Lua error about a nil, never a number read from text that is none.
local socket = require "socket"
local resp = require "imbill.gateway.redis.resp"

-- The reply of one GET to a server that answers `text` and hangs up.
local function reply_to(text)
  local srv = assert(socket.bind("127.0.0.1", 0))
  local _, port = srv:getsockname()
  local c = assert(resp.connect("127.0.0.1", port, 2))
  local conn = assert(srv:accept())
  assert(conn:send(text))
  conn:close()
  local ok, v, err = pcall(c.call, c, "GET", "k")
  c:close()
  srv:close()
  assert.is_true(ok, v)
  return v, err
end

describe("imbill.gateway.redis.resp", function()
  it("reads Redis' replies: status, error, integer, bulk, null, array", function()
    assert.are.equal("OK", reply_to("+OK\r\n"))
    assert.are.same({ false, "ERR wrong" }, { reply_to("-ERR wrong\r\n") })
    assert.are.equal(-12, reply_to(":-12\r\n"))
    assert.are.equal("a\r\nb", reply_to("$4\r\na\r\nb\r\n"))
    assert.are.equal(resp.null, reply_to("$-1\r\n"))
    assert.are.same({ "a", 3, { false, "ERR x" } }, reply_to("*3\r\n$1\r\na\r\n:3\r\n-ERR x\r\n"))
  end)

  it("gives an error naming the reply for one that is not RESP", function()
    for _, text in ipairs { "$abc\r\n", "*x\r\n", ":12abc\r\n", ":\r\n", "$1.5\r\n", "?what\r\n",
                            "$2\r\nabcd\r\n", "*2\r\n$1\r\na\r\n$zz\r\n" } do
      local v, err = reply_to(text)
      assert.is_nil(v, text)
      assert.truthy(tostring(err):find("not a Redis reply: \"", 1, true), text .. ": " .. tostring(err))
    end
  end)

  it("refuses lengths below -1, arrays nested past 16 and integers past 2^53, which it cannot read as they are",
    function()
    -- only -1 is the null; -7 is no length
    for _, text in ipairs { "$-7\r\n", "*-3\r\n", "$9007199254740993\r\n" } do
      local v, err = reply_to(text)
      assert.is_nil(v, text)
      assert.truthy(tostring(err):find("not a Redis reply: \"", 1, true), text .. ": " .. tostring(err))
    end
    -- nested 16 deep is read; deeper is no reply to the store (200,000 deep
    -- was a Lua stack overflow)
    local v = reply_to(string.rep("*1\r\n", 16) .. ":1\r\n")
    for _ = 1, 16 do v = v[1] end
    assert.are.equal(1, v)
    local deep, err = reply_to(string.rep("*1\r\n", 100) .. ":1\r\n")
    assert.is_nil(deep)
    assert.truthy(tostring(err):find("not a Redis reply: \"*1\"", 1, true), tostring(err))
    -- 2^53 - 1 is the last integer read exactly; the next one was rounded
    assert.are.equal(9007199254740991, reply_to(":9007199254740991\r\n"))
    assert.are.equal(-9007199254740991, reply_to(":-9007199254740991\r\n"))
    local big, berr = reply_to(":9007199254740993\r\n")
    assert.is_nil(big)
    assert.are.equal('an integer reply past 2^53, which a number here cannot hold exactly: ":9007199254740993"', berr)
    local huge = reply_to(":-99999999999999999999\r\n")
    assert.is_nil(huge)
  end)

  it("gives the socket's error for a reply cut short", function()
    local v, err = reply_to("$5\r\nab")
    assert.is_nil(v)
    assert.are.equal("closed", err)
  end)
end)
