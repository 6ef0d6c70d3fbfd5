-- A client reads Tencent's answer and sends its next call at once, to
-- either node.  What the answer settles (a delete Tencent did, a
-- reservation Tencent failed) is in Redis before the answer leaves the
-- gateway, so the next call is decided against it: a friend deleted and
-- added again ends a friend; a failed import tried again is counted.
local h = require "rs_helper"
local cjson = h.cjson

local TRIAL = "1400000002"

local function card(u) return h.rcall(nil, "SCARD", h.key(TRIAL, "uf:" .. u)) end
local function accounts() return tonumber(h.rcall(nil, "GET", h.key(TRIAL, "c:accounts")) or 0) or 0 end

describe("a call made right after Tencent's answer, with the counts in Redis", function()
  before_each(h.reset)

  it("finds what the answer settled already in Redis, on either node", function()
    local _, v = h.rest(1, "sns/friend_add", TRIAL, { From_Account = "a", AddFriendItem = { { To_Account = "b" } } })
    assert.are.equal(0, v.ResultItem[1].ResultCode)
    for i = 1, 20 do
      local _, d = h.rest(1 + i % 2, "sns/friend_delete", TRIAL, { From_Account = "a", To_Account = { "b" },
                                                                   DeleteType = "Delete_Type_Both" })
      assert.are.equal(0, d.ResultItem[1].ResultCode)
      -- read at once, no waiting: the delete is counted before its answer came
      assert.are.same({ 0, 0 }, { card("a"), card("b") }, "delete " .. i)
      local _, w = h.rest(2 - i % 2, "sns/friend_add", TRIAL, { From_Account = "a",
                                                                AddFriendItem = { { To_Account = "b" } } })
      assert.are.equal(0, w.ResultItem[1].ResultCode)
      assert.are.same({ 1, 1 }, { card("a"), card("b") }, "add " .. i)
    end
  end)

  it("sends the call to Tencent as it came (body, query, headers) and its answer back as Tencent gave it", function()
    local body = '{ "UserID" : "alice",\n "Nick":"A\\/lice", "FaceUrl":"http://x/y.png" }'
    local path = h.rest_path("im_open_login_svc/account_import", TRIAL) .. "&extra=%20a%2Fb"
    local r = h.post(1, path, body, { ["X-Custom"] = "kept as is", ["Content-Type"] = "application/json" })
    assert.are.equal(200, r.status)
    assert.are.equal("application/json", r.headers["content-type"])
    assert.are.equal(#r.body, tonumber(r.headers["content-length"]))
    assert.are.equal("OK", cjson.decode(r.body).ActionStatus)
    local last = cjson.decode(h.get(1, "/stub/last?cmd=account_import").body)
    assert.are.equal(body, last.body)
    assert.are.equal(path:match("%?(.*)$"), last.args)
    assert.are.equal("POST", last.method)
    assert.are.equal("kept as is", last.headers["x-custom"])
    assert.are.equal("/v4/im_open_login_svc/account_import", last.uri)
    assert.are.equal(1, accounts())
    -- an answer that is not Tencent's passes as it is, and what it reserved stays
    local bad = h.post(2, h.rest_path("im_open_login_svc/account_import", TRIAL), cjson.encode { UserID = "bob" },
      { ["X-Stub-Status"] = "502" })
    assert.are.equal(502, bad.status)
    assert.truthy(bad.body:find("stub: HTTP 502", 1, true), bad.body)
    assert.are.equal(2, accounts())
  end)

  it("gives a failed import's account back before the FAIL is answered: the import tried again is counted", function()
    for i = 1, 10 do
      local u = "b" .. i
      local r = h.post(1 + i % 2, h.rest_path("im_open_login_svc/account_import", TRIAL), cjson.encode { UserID = u },
        { ["X-Stub-Fail"] = "70169" })
      assert.are.equal("FAIL", cjson.decode(r.body).ActionStatus)
      assert.are.equal(i - 1, accounts(), "import " .. i .. " failed")
      local _, v = h.rest(2 - i % 2, "im_open_login_svc/account_import", TRIAL, { UserID = u })
      assert.are.equal("OK", v.ActionStatus)
      assert.are.equal(i, accounts(), "import " .. i .. " tried again")
    end
    h.settle()
    assert.are.equal(10, accounts())
  end)

  -- While earlier work of the app waits in the journal (Redis was away), a
  -- settlement joins it rather than overtake it; but a client waits for
  -- this one, so the journal is replayed first, and the settlement lands
  -- before the answer instead of with a timer's replay after it.
  it("replays the app's journal first when a settlement finds it waiting, and lands before the answer", function()
    local v = h.json(h.post(1, "/t/jorder?app=" .. TRIAL, ""))
    assert.is_true(v.waiting_before)
    assert.are.equal(0, v.size)
    assert.is_false(v.waiting)
  end)

  -- The replay a waiting client's settlement runs first is bounded by half
  -- the call's deadline (1 s here), every call to Redis inside it too: an
  -- entry it starts does not run on to the background deadline (3 s) while
  -- the client waits.  What it could not do stays in the journal, in order.
  it("bounds that replay by the call's deadline when Redis does not answer, and keeps both in the journal", function()
    h.background("redis-cli -p " .. h.redis_port .. " DEBUG SLEEP 4")
    h.asleep()
    local v = h.json(h.post(1, "/t/jorder?friends=1&app=" .. TRIAL, ""))
    assert.is_true(v.waiting_before)
    -- half the deadline, and slack for a loaded machine; 3 s and more before
    assert.is_true(v.took < 1.5, string.format("the settlement took %.2f s", v.took))
    assert.are.equal(2, v.size)
    assert.is_true(v.waiting)
    h.wait(function() return h.rcall(nil, "PING") == "PONG" end, 10, "Redis")
    h.settle(30)
  end)

  -- A relayed answer is held in memory until it is settled: no more of it
  -- than rest_max_body (1 MiB here), however much Tencent sends.
  it("holds no more of an answer than rest_max_body: a longer one is answered 502, and its call stays counted",
    function()
    local before = h.metric(1, "imbill_settle_unknown_total", { app = TRIAL, action = "account_import" }) or 0
    local r = h.post(1, h.rest_path("im_open_login_svc/account_import", TRIAL), cjson.encode { UserID = "big" },
      { ["X-Stub-Pad"] = tostring(8 * 1048576) })
    assert.are.equal(502, r.status)
    assert.truthy(r.body:find("is over 1048576 bytes (rest_max_body)", 1, true), r.body)
    assert.are.equal(1, accounts())
    assert.are.equal(before + 1, h.metric(1, "imbill_settle_unknown_total", { app = TRIAL, action = "account_import" }))
    -- an answer just under the bound is relayed whole, and settled
    local ok = h.post(2, h.rest_path("im_open_login_svc/account_import", TRIAL), cjson.encode { UserID = "near" },
      { ["X-Stub-Pad"] = tostring(1048576 - 200) })
    assert.are.equal(200, ok.status)
    local v = cjson.decode(ok.body)
    assert.are.equal("OK", v.ActionStatus)
    assert.are.equal(1048576 - 200, #v.Pad)
    assert.are.equal(2, accounts())
  end)
end)
