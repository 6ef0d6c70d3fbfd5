-- The REST API through the gateway: every refusal code in Tencent's shape,
-- allowed calls reaching Tencent (the stub) unchanged, per-item refusals,
-- reservations settled from Tencent's answer.
local h = require "ngx_helper"
local cjson = require "cjson"

local PRO, TRIAL, OPEN, DEV = "1400000001", "1400000002", "1400000003", "1400000005"
local socket = require "socket"

local eventually = h.eventually

local function import(app, user, headers) return h.rest("im_open_login_svc/account_import", app, { UserID = user }, headers) end

local function create(app, body, headers) return h.rest("group_open_http_svc/create_group", app, body, headers) end

local function accounts(app) return h.keys(app)["c:accounts"] or 0 end

-- Each path under /v4/ (an account_import's body) refused 60002, its
-- ErrorInfo holding `info`; each of `passed` answered OK by the stub.
local function refused_paths(paths, info)
  for _, p in ipairs(paths) do
    local r = h.http.post("/v4/" .. p .. "?sdkappid=" .. TRIAL .. "&contenttype=json", '{"UserID":"d"}')
    assert.are.equal(200, r.status, p)
    local v = cjson.decode(r.body)
    assert.are.equal(60002, v.ErrorCode, p)
    assert.truthy(v.ErrorInfo:find(info, 1, true), v.ErrorInfo)
  end
end
local function passed_paths(paths)
  for _, p in ipairs(paths) do
    local r = h.http.post("/v4/" .. p .. "?sdkappid=" .. TRIAL .. "&contenttype=json", "{}")
    assert.are.equal("OK", cjson.decode(r.body).ActionStatus, p)
  end
end

local function assert_refused(r, v, code, limit_word)
  assert.are.equal(200, r.status)
  assert.are.equal("FAIL", v.ActionStatus)
  assert.are.equal(code, v.ErrorCode)
  assert.truthy(v.ErrorInfo:find(limit_word, 1, true), v.ErrorInfo)
  assert.truthy(v.ErrorInfo:find("Tencent's code " .. code, 1, true), v.ErrorInfo)
end

describe("REST calls through the gateway", function()
  before_each(h.flush)

  it("passes an allowed call to Tencent byte for byte: body, query and headers", function()
    local body = '{ "UserID" : "alice",\n "Nick":"A\\/lice", "FaceUrl":"http://x/y.png" }'
    local path = h.http.rest_path("im_open_login_svc/account_import", TRIAL, "&extra=%20a%2Fb")
    local r = h.http.post(path, body, { ["X-Custom"] = "kept as is", ["Content-Type"] = "application/json" })
    assert.are.equal(200, r.status)
    assert.are.equal("OK", cjson.decode(r.body).ActionStatus)
    local last = h.stub_last("account_import")
    assert.are.equal(body, last.body)
    assert.are.equal(path:match("%?(.*)$"), last.args)
    assert.are.equal("kept as is", last.headers["x-custom"])
    assert.are.equal("application/json", last.headers["content-type"])
    assert.are.equal("/v4/im_open_login_svc/account_import", last.uri)
  end)

  it("refuses a path holding a counted call's names with more around them: a router could take it for the call",
    function()
    local calls = h.stub_count("account_import")
    local before = h.metric("imbill_rest_rejected_total", { reason = "path" }) or 0
    local paths = { "im_open_login_svc/account_import;jsessionid=1", "im_open_login_svc/account_import.json",
                    "im_open_login_svc/account_import%20", "im_open_login_svc;x/account_import",
                    "im_open_login_svc/account_import/x", "IM_Open_Login_Svc/Account_Import%3Bx",
                    -- a router that takes a backslash for a slash
                    "im_open_login_svc%5Caccount_import", "v4%5Cim_open_login_svc%5Caccount_import" }
    refused_paths(paths, "names a call the gateway counts, with more after its name")
    assert.are.equal(calls, h.stub_count("account_import"))
    assert.are.equal(0, accounts(TRIAL))
    assert.are.equal(before + #paths, h.metric("imbill_rest_rejected_total", { reason = "path" }))
    -- a path naming no counted call passes untouched, whatever it looks like
    passed_paths { "openim/sendmsg.json", "openim/sendmsg;x", "account_import/im_open_login_svc" }
  end)

  -- nginx normalizes the path it decides on, but Tencent receives it as the
  -- client wrote it: account_import%2F.. was / for the gateway (passed,
  -- uncounted, at the cap) and the call for Tencent.
  it("refuses a path that names a counted call only as it was written, and a counted call not sent plain", function()
    for i = 1, 100 do import(TRIAL, "u" .. i) end
    local calls, groups = h.stub_count("account_import"), h.stub_count("create_group")
    local before = h.metric("imbill_rest_rejected_total", { reason = "path" }) or 0
    local paths = { "im_open_login_svc/account_import%2F..", "im_open_login_svc/account_import/..",
                    "im_open_login_svc/account_import/%2e%2e", "im_open_login_svc/account_import%2f%2e%2e%2f",
                    "group_open_http_svc/create_group%2F..",
                    -- the call, for nginx, but not as written
                    "x/../im_open_login_svc/account_import", "im_open_login_svc//account_import",
                    "im_open_login_svc/./account_import" }
    refused_paths(paths, "is not the plain path of a call the gateway counts")
    assert.are.equal(calls, h.stub_count("account_import"))
    assert.are.equal(groups, h.stub_count("create_group"))
    assert.are.equal(before + #paths, h.metric("imbill_rest_rejected_total", { reason = "path" }))
    -- an escape that decodes to the plain path is the call, and counted (here: refused at the cap)
    local r = h.http.post("/v4/im_open_login_svc/account%5Fimport?sdkappid=" .. TRIAL .. "&contenttype=json",
      '{"UserID":"u101"}')
    assert.are.equal(70398, cjson.decode(r.body).ErrorCode)
    -- a path naming no counted call passes untouched, dots and all
    passed_paths { "openim/x/../sendmsg", "openim//sendmsg", "openim/sendmsg%2F.." }
  end)

  it("reads the call's path in any case", function()
    -- the stub answers it OK, as a router that ignored case would: counted
    local r = h.http.post("/v4/IM_Open_Login_Svc/Account_Import?sdkappid=" .. TRIAL .. "&contenttype=json",
      '{"UserID":"cased"}')
    assert.are.equal("OK", cjson.decode(r.body).ActionStatus)
    assert.are.equal(1, h.stub_count("Account_Import"))
    eventually(function() return accounts(TRIAL) == 1 end, "the account counted")
    -- and refused like any other once the edition's cap is reached
    for i = 2, 100 do import(TRIAL, "u" .. i) end
    local over = h.http.post("/v4/IM_OPEN_LOGIN_SVC/ACCOUNT_IMPORT/?sdkappid=" .. TRIAL .. "&contenttype=json",
      '{"UserID":"u101"}')
    assert.are.equal(70398, cjson.decode(over.body).ErrorCode)
  end)

  it("passes every other path untouched", function()
    local body = '{"From_Account":"a","To_Account":"b","MsgBody":[]}'
    local r = h.http.post(h.http.rest_path("openim/sendmsg", TRIAL), body)
    assert.are.equal(200, r.status)
    assert.are.equal(body, h.stub_last("sendmsg").body)
  end)

  it("refuses account 101 on the trial edition with 70398 without contacting Tencent", function()
    for i = 1, 100 do
      local _, v = import(TRIAL, "u" .. i)
      assert.are.equal("OK", v.ActionStatus)
    end
    local before = h.stub_count("account_import")
    local r, v = import(TRIAL, "u101")
    assert_refused(r, v, 70398, "accounts limit")
    assert.truthy(v.ErrorInfo:find("at most 100 accounts and this app has 100", 1, true), v.ErrorInfo)
    assert.are.equal(before, h.stub_count("account_import"))
    -- an existing account changes nothing and is not refused
    local _, again = import(TRIAL, "u7")
    assert.are.equal("OK", again.ActionStatus)
    -- the older field name counts the same
    local r2, v2 = h.rest("im_open_login_svc/account_import", TRIAL, { Identifier = "u102" })
    assert_refused(r2, v2, 70398, "accounts")
    assert.are.equal(100, accounts(TRIAL))
  end)

  it("imports many accounts item by item: the ones over the cap are refused, the rest pass", function()
    local list = {}
    for i = 1, 95 do list[i] = { UserID = "u" .. i } end
    local _, v = h.rest("im_open_login_svc/multiaccount_import", TRIAL, { AccountList = list })
    assert.are.equal("OK", v.ActionStatus)
    local more = {}
    for i = 1, 10 do more[i] = "n" .. i end
    more[11] = "fail-x" -- the stub fails this one itself
    local r, w = h.rest("im_open_login_svc/multiaccount_import", TRIAL, { Accounts = more })
    assert.are.equal(200, r.status)
    assert.are.equal("OK", w.ActionStatus)
    -- Tencent got the first five; the gateway's refusals join Tencent's own
    local sent = cjson.decode(h.stub_last("multiaccount_import").body)
    assert.are.same({ "n1", "n2", "n3", "n4", "n5" }, sent.Accounts)
    assert.are.same({ "n6", "n7", "n8", "n9", "n10", "fail-x" }, w.FailAccounts)
    eventually(function() return accounts(TRIAL) == 100 end, "100 accounts")
    local r3, all = h.rest("im_open_login_svc/multiaccount_import", TRIAL, { AccountList = { { UserID = "z1" } } })
    assert_refused(r3, all, 70398, "accounts")
    assert.are.same({ "z1" }, all.FailAccounts)
  end)

  it("sends Tencent the call without its refused items, every other byte as the client wrote it", function()
    local list = {}
    for i = 1, 98 do list[i] = { UserID = "u" .. i } end
    h.rest("im_open_login_svc/multiaccount_import", TRIAL, { AccountList = list })
    -- two places left: "n3" and "n4" are refused; the big integer, the float and
    -- the key order reach Tencent as written (a re-encoding would change all three)
    local body = '{ "Zeta": 12345678901234567890, "Accounts" : [ "n1", "n2" , "n3","n4" ], "Alpha": 0.1 }'
    local r = h.http.post(h.http.rest_path("im_open_login_svc/multiaccount_import", TRIAL), body)
    local v = cjson.decode(r.body)
    assert.are.equal("OK", v.ActionStatus)
    assert.are.same({ "n3", "n4" }, v.FailAccounts)
    assert.are.equal('{ "Zeta": 12345678901234567890, "Accounts" : ["n1","n2"], "Alpha": 0.1 }',
      h.stub_last("multiaccount_import").body)
    eventually(function() return accounts(TRIAL) == 100 end, "100 accounts")
  end)

  it("releases the reservation of a call Tencent fails", function()
    import(TRIAL, "a")
    local _, v = import(TRIAL, "b", { ["X-Stub-Fail"] = "70169" })
    assert.are.equal("FAIL", v.ActionStatus)
    assert.are.equal(70169, v.ErrorCode)
    eventually(function() return accounts(TRIAL) == 1 end, "the reservation released")
    assert.is_nil(h.keys(TRIAL)["ua:b"])
    assert.are.equal(1, h.metric("imbill_reservations_released_total", { app = TRIAL, via = "rest" }))
  end)

  it("counts an account down once when it is deleted while Tencent's failed import is on its way back", function()
    import(TRIAL, "a")
    eventually(function() return accounts(TRIAL) == 1 end, "a counted")
    -- b's import is reserved and waits for Tencent; b is deleted meanwhile
    -- (counted down), then Tencent answers the import FAIL: taking the
    -- reservation back again would leave the app one account short
    local path = h.http.rest_path("im_open_login_svc/account_import", TRIAL)
    local out = h.http.concurrent({
      { "POST", path, cjson.encode { UserID = "b" }, { ["X-Stub-Fail"] = "70169", ["X-Stub-Delay"] = "0.6" } },
      { "POST", h.http.rest_path("im_open_login_svc/account_delete", TRIAL),
        cjson.encode { DeleteItem = { { UserID = "b" } } }, { ["X-Stub-Delay"] = "0.1" } },
    })
    assert.are.equal("FAIL", cjson.decode(out[1].body).ActionStatus)
    assert.are.equal("OK", cjson.decode(out[2].body).ActionStatus)
    eventually(function()
      return h.metric("imbill_reservations_released_total", { app = TRIAL, via = "rest" }) == 1
    end, "the import settled")
    h.sleep(0.1)
    assert.are.equal(1, accounts(TRIAL))
    assert.is_nil(h.keys(TRIAL)["ua:b"])
    -- the 100-account cap still holds exactly
    for i = 2, 99 do import(TRIAL, "u" .. i) end
    assert.are.equal("OK", select(2, import(TRIAL, "last")).ActionStatus)
    local r, v = import(TRIAL, "over")
    assert_refused(r, v, 70398, "accounts limit")
  end)

  it("releases the reservation of a call Tencent fails when nginx is reloaded while its settlement waits for the lock",
    function()
      -- the call goes to Tencent (slow to answer); meanwhile a stalled batch
      -- holds the app's lock, so the settlement waits for it; nginx is
      -- reloaded (the worker exits) before the lock is free
      local body = cjson.encode { UserID = "reloaded" }
      local s = assert(socket.tcp())
      s:settimeout(10)
      assert(s:connect("127.0.0.1", h.http.port))
      assert(s:send("POST " .. h.http.rest_path("im_open_login_svc/account_import", TRIAL) .. " HTTP/1.1\r\n"
        .. "Host: 127.0.0.1\r\nConnection: close\r\nX-Stub-Fail: 70169\r\nX-Stub-Delay: 0.5\r\n"
        .. "Content-Length: " .. #body .. "\r\n\r\n" .. body))
      eventually(function() return accounts(TRIAL) == 1 end, "the call reserved")
      local done = h.hold(TRIAL, 2500)
      -- Tencent answered and the settlement found the lock held
      eventually(function() return (h.metric("imbill_lock_busy_total", { app = TRIAL }) or 0) >= 1 end,
        "the settlement waiting for the lock")
      local pidfile = assert(io.open(os.getenv("IMBILL_NGX_PREFIX") .. "/logs/nginx.pid"))
      local master = pidfile:read("*l")
      pidfile:close()
      local hup = os.execute("kill -HUP " .. master)
      assert.is_true(hup == true or hup == 0)
      local raw = s:receive("*a")
      s:close()
      assert.truthy(raw and raw:find("70169", 1, true), raw)
      done()
      local released = false
      for _ = 1, 100 do
        if accounts(TRIAL) == 0 then
          released = true
          break
        end
        h.sleep(0.1)
      end
      assert.is_true(released, "the reservation was never released")
    end)

  it("keeps a reservation whose outcome Tencent did not say (not HTTP 200)", function()
    local r = import(TRIAL, "b", { ["X-Stub-Status"] = "502" })
    assert.are.equal(502, r.status)
    -- counted where its settlement is queued, after the answer
    eventually(function() return h.metric("imbill_settle_unknown_total", { app = TRIAL, action = "account_import" }) end,
      "the unknown outcome counted")
    h.settled()
    assert.are.equal(1, accounts(TRIAL))
    assert.are.equal(1, h.metric("imbill_settle_unknown_total", { app = TRIAL, action = "account_import" }))
  end)

  it("asks Tencent for an answer it can read: a counted call goes on without Accept-Encoding", function()
    -- the stub compresses for a request that accepts gzip: an answer the
    -- gateway cannot read would keep what Tencent refused, and leave the
    -- refused items out of what the client is told
    local _, v = import(TRIAL, "gz1", { ["Accept-Encoding"] = "gzip", ["X-Stub-Fail"] = "70169" })
    assert.are.equal(70169, v.ErrorCode)
    assert.is_nil(h.stub_last("account_import").headers["accept-encoding"])
    h.settled()
    assert.are.equal(0, accounts(TRIAL))
    assert.are.equal(1, h.metric("imbill_reservations_released_total", { app = TRIAL, via = "rest" }))
    local acc = {}
    for i = 1, 99 do acc[i] = "z" .. i end
    h.rest("im_open_login_svc/multiaccount_import", TRIAL, { Accounts = acc })
    eventually(function() return accounts(TRIAL) == 99 end, "the accounts counted")
    local _, m = h.rest("im_open_login_svc/multiaccount_import", TRIAL, { Accounts = { "y1", "y2" } },
      { ["Accept-Encoding"] = "gzip, deflate" })
    assert.are.same({ "OK", { "y2" } }, { m.ActionStatus, m.FailAccounts })
    -- a shrink's answer is read too; a call the gateway does not count goes on as it came
    h.rest("im_open_login_svc/account_delete", TRIAL, { DeleteItem = { { UserID = "y1" } } }, { ["Accept-Encoding"] = "gzip" })
    eventually(function() return accounts(TRIAL) == 99 end, "the delete applied")
    h.http.post(h.http.rest_path("openim/sendmsg", TRIAL), "{}", { ["Accept-Encoding"] = "gzip" })
    assert.are.equal("gzip", h.stub_last("sendmsg").headers["accept-encoding"])
  end)

  it("keeps a reservation whose HTTP 200 answer is not Tencent's: text, an array, an object without ActionStatus",
    function()
    -- a proxy's own answer, say: it does not say whether Tencent imported the
    -- account, so the account stays counted (were it released, a cap could be
    -- passed on a guess)
    local answers = { "stub: HTTP 200", '[{"ActionStatus":"FAIL"}]', '{"code":429,"message":"slow down"}',
                      '{"ActionStatus":"fail","ErrorCode":1}' }
    for i, text in ipairs(answers) do
      local r = import(TRIAL, "k" .. i, { ["X-Stub-Body"] = text })
      assert.are.equal(200, r.status)
      assert.are.equal(text, r.body)
    end
    eventually(function()
      return h.metric("imbill_settle_unknown_total", { app = TRIAL, action = "account_import" }) == #answers
    end, "the unknown outcomes counted")
    h.settled()
    assert.are.equal(#answers, accounts(TRIAL))
    assert.are.equal(#answers, h.metric("imbill_settle_unknown_total", { app = TRIAL, action = "account_import" }))
    -- a call that was going to merge refused items keeps them out of the
    -- answer it cannot read, and its reservations too
    local acc = {}
    for i = 1, 100 - #answers do acc[i] = "m" .. i end
    h.rest("im_open_login_svc/multiaccount_import", TRIAL, { Accounts = acc })
    eventually(function() return accounts(TRIAL) == 100 end, "the accounts counted")
    h.rest("im_open_login_svc/account_delete", TRIAL, { DeleteItem = { { UserID = "m1" } } })
    eventually(function() return accounts(TRIAL) == 99 end, "the delete applied")
    local r = h.rest("im_open_login_svc/multiaccount_import", TRIAL, { Accounts = { "x1", "x2" } },
      { ["X-Stub-Body"] = '{"error":"upstream"}' })
    assert.are.equal('{"error":"upstream"}', r.body)
    eventually(function()
      return h.metric("imbill_settle_unknown_total", { app = TRIAL, action = "multiaccount_import" }) == 1
    end, "the unknown outcome counted")
    h.settled()
    assert.are.equal(100, accounts(TRIAL))
  end)

  it("refuses AVChatRoom 51 on pro with 10036", function()
    local calls = h.stub_count("create_group")
    for i = 1, 50 do
      local _, v = create(PRO, { Type = "AVChatRoom", GroupId = "av" .. i, Owner_Account = "o" })
      assert.are.equal("OK", v.ActionStatus)
    end
    local r, v = create(PRO, { Type = "AVChatRoom", GroupId = "av51", Owner_Account = "o" })
    assert_refused(r, v, 10036, "av_groups limit")
    assert.are.equal(calls + 50, h.stub_count("create_group"))
  end)

  it("refuses group 101 on the trial edition with 10058, and a Community group with 10059", function()
    for i = 1, 100 do create(TRIAL, { Type = "Public", GroupId = "g" .. i }) end
    local r, v = create(TRIAL, { Type = "Private", GroupId = "g101" })
    assert_refused(r, v, 10058, "non_av_groups limit")
    local r2, v2 = create(TRIAL, { Type = "Community", GroupId = "c1" })
    assert_refused(r2, v2, 10059, "community")
  end)

  it("refuses BChatRoom over its caps: 5 at a time (10036), 5 created a day (10006)", function()
    for i = 1, 5 do create(PRO, { Type = "BChatRoom", GroupId = "b" .. i }) end
    local r, v = create(PRO, { Type = "BChatRoom", GroupId = "b6" })
    assert_refused(r, v, 10036, "bchatroom_total")
    h.rest("group_open_http_svc/destroy_group", PRO, { GroupId = "b1" })
    eventually(function() return h.keys(PRO)["c:groups_of:BChatRoom"] == 4 end, "the disband applied")
    local r2, v2 = create(PRO, { Type = "BChatRoom", GroupId = "b7" })
    assert_refused(r2, v2, 10006, "bchatroom_daily")
  end)

  it("refuses a group over the daily net increase with 10006", function()
    -- 2022 developer: 100 a day, 10 AVChatRoom, 100 other groups
    for i = 1, 10 do create(DEV, { Type = "AVChatRoom", GroupId = "a" .. i }) end
    for i = 1, 90 do create(DEV, { Type = "Public", GroupId = "p" .. i }) end
    local r, v = create(DEV, { Type = "Public", GroupId = "p91" })
    assert_refused(r, v, 10006, "daily_net_groups limit")
  end)

  it("refuses create_group with more initial members than the type allows (10038)", function()
    local members = {}
    for i = 1, 20 do members[i] = { Member_Account = "m" .. i } end
    local r, v = create(TRIAL, { Type = "Public", GroupId = "big", Owner_Account = "boss", MemberList = members })
    assert_refused(r, v, 10038, "members_per_group limit")
    assert.is_nil(h.keys(TRIAL)["g:3:big"])
    members[20] = nil
    local _, ok = create(TRIAL, { Type = "Public", GroupId = "big", Owner_Account = "boss", MemberList = members })
    assert.are.equal("OK", ok.ActionStatus)
    assert.are.equal(20, h.keys(TRIAL)["gm:3:big#"])
  end)

  it("refuses an owner in too many groups (10037)", function()
    for i = 1, 50 do create(TRIAL, { Type = "Public", GroupId = "g" .. i, Owner_Account = "boss" }) end
    local r, v = create(TRIAL, { Type = "Public", GroupId = "g51", Owner_Account = "boss" })
    assert_refused(r, v, 10037, "groups_per_user limit")
    assert.truthy(v.ErrorInfo:find("user boss", 1, true))
  end)

  it("adds members item by item: a full group refuses the rest with Result 0 (10014)", function()
    create(TRIAL, { Type = "Public", GroupId = "g", Owner_Account = "boss" })
    local list = {}
    for i = 1, 22 do list[i] = { Member_Account = "m" .. i } end
    local r, v = h.rest("group_open_http_svc/add_group_member", TRIAL, { GroupId = "g", MemberList = list })
    assert.are.equal(200, r.status)
    assert.are.equal("OK", v.ActionStatus)
    local results = {}
    for _, m in ipairs(v.MemberList) do results[m.Member_Account] = m.Result end
    assert.are.equal(1, results.m19)
    assert.are.equal(0, results.m20)
    assert.are.equal(0, results.m22)
    assert.are.equal(19, #cjson.decode(h.stub_last("add_group_member").body).MemberList)
    local r2, v2 = h.rest("group_open_http_svc/add_group_member", TRIAL,
      { GroupId = "g", MemberList = { { Member_Account = "x" } } })
    assert_refused(r2, v2, 10014, "members_per_group limit")
    assert.truthy(v2.ErrorInfo:find("Public group", 1, true), v2.ErrorInfo)
  end)

  it("gives back the members Tencent did not add (failed, or only invited)", function()
    create(TRIAL, { Type = "Public", GroupId = "g" })
    h.rest("group_open_http_svc/add_group_member", TRIAL, { GroupId = "g", MemberList = {
      { Member_Account = "a" }, { Member_Account = "fail-b" }, { Member_Account = "invite-c" } } })
    eventually(function() return h.keys(TRIAL)["gm:1:g#"] == 1 end, "two members released")
    assert.are.equal("a", h.keys(TRIAL)["gm:1:g@1"])
  end)

  it("refuses friends item by item: the requester's full list (30010), the other user's (30014)", function()
    local items = {}
    for i = 1, 20 do items[i] = { To_Account = "f" .. i, AddSource = "AddSource_Type_x" } end
    local _, v = h.rest("sns/friend_add", TRIAL, { From_Account = "a", AddFriendItem = items })
    assert.are.equal("OK", v.ActionStatus)
    -- every item refused: answered OK, ErrorCode 0, as Tencent answers a friend
    -- call whose items all failed, the code and the limit in the item
    local before = h.stub_count("friend_add")
    local r, w = h.rest("sns/friend_add", TRIAL, { From_Account = "a", AddFriendItem = { { To_Account = "f21" } } })
    assert.are.equal(200, r.status)
    assert.are.same({ "OK", 0 }, { w.ActionStatus, w.ErrorCode })
    assert.are.equal(30010, w.ResultItem[1].ResultCode)
    assert.truthy(w.ResultItem[1].ResultInfo:find("friends_per_user limit", 1, true), w.ResultItem[1].ResultInfo)
    assert.truthy(w.ResultItem[1].ResultInfo:find("Tencent's code 30010", 1, true), w.ResultItem[1].ResultInfo)
    assert.are.same({ "f21" }, w.Fail_Account)
    assert.are.equal(before, h.stub_count("friend_add"))
    -- f1 has one friend (a); b asks f1 and a (two-way): a's list is full
    local _, x = h.rest("sns/friend_add", TRIAL, { From_Account = "b", AddFriendItem = {
      { To_Account = "f1" }, { To_Account = "a" } } })
    assert.are.equal("OK", x.ActionStatus)
    local codes = {}
    for _, it in ipairs(x.ResultItem) do codes[it.To_Account] = it.ResultCode end
    assert.are.same({ f1 = 0, a = 30014 }, codes)
    assert.are.same({ "a" }, x.Fail_Account)
    assert.truthy(x.ResultItem[2].ResultInfo:find("user a has 20", 1, true), x.ResultItem[2].ResultInfo)
    -- friend_import and Add_Type_Single fill only the requester's list: a's full list is not asked
    local _, y = h.rest("sns/friend_import", TRIAL, { From_Account = "c", AddFriendItem = { { To_Account = "a" } } })
    assert.are.same({ "OK", 0 }, { y.ActionStatus, y.ResultItem[1].ResultCode })
    local _, z = h.rest("sns/friend_add", TRIAL, { From_Account = "d", AddType = "Add_Type_Single",
      AddFriendItem = { { To_Account = "a" } } })
    assert.are.same({ "OK", 0 }, { z.ActionStatus, z.ResultItem[1].ResultCode })
    local k = h.keys(TRIAL)
    -- (b's refused add of a took nothing: b's own list holds f1 only)
    assert.are.same({ 20, 1, 1, 1 }, { k["uf:1:a#"], k["uf:1:b#"], k["uf:1:c#"], k["uf:1:d#"] })
  end)

  it("counts one-way friends on the adder's list only: a user 3,000 follow adds her own friends", function()
    -- a list per user, as Tencent keeps it: one-way adds fill the fans' lists,
    -- not hers; her own next add was refused 30010 with her list empty in Tencent
    local items = {}
    for i = 1, 25 do
      local _, v = h.rest("sns/friend_add", TRIAL, { From_Account = "fan" .. i, AddType = "Add_Type_Single",
        AddFriendItem = { { To_Account = "pop" } } })
      items[i] = v.ResultItem[1].ResultCode
    end
    assert.are.same({ 0 }, { math.max(unpack(items)) })
    assert.is_nil(h.keys(TRIAL)["uf:3:pop#"])
    local _, w = h.rest("sns/friend_add", TRIAL, { From_Account = "pop", AddFriendItem = { { To_Account = "x" } } })
    assert.are.same({ "OK", 0 }, { w.ActionStatus, w.ResultItem[1].ResultCode })
    local k = h.keys(TRIAL)
    assert.are.same({ 1, 1, 1 }, { k["uf:3:pop#"], k["uf:1:x#"], k["uf:4:fan1#"] })
    -- a fan's two-way add of pop now adds only what is missing: pop's side
    local _, v = h.rest("sns/friend_add", TRIAL, { From_Account = "fan1", AddFriendItem = { { To_Account = "pop" } } })
    assert.are.same({ "OK", 0 }, { v.ActionStatus, v.ResultItem[1].ResultCode })
    assert.are.same({ 2, 1 }, { h.keys(TRIAL)["uf:3:pop#"], h.keys(TRIAL)["uf:4:fan1#"] })
  end)

  it("gives back only the side a two-way add changed when Tencent fails the item", function()
    -- fail-d lists c already; c's two-way add of fail-d adds c's side only,
    -- and Tencent's failure takes back that side, not fail-d's
    h.rest("sns/friend_import", TRIAL, { From_Account = "fail-d", AddFriendItem = { { To_Account = "c" } } })
    assert.are.equal(1, h.keys(TRIAL)["uf:6:fail-d#"])
    local _, v = h.rest("sns/friend_add", TRIAL, { From_Account = "c", AddFriendItem = { { To_Account = "fail-d" } } })
    assert.are.equal("OK", v.ActionStatus)
    eventually(function() return h.keys(TRIAL)["uf:1:c#"] == nil end, "c's side given back")
    assert.are.equal(1, h.keys(TRIAL)["uf:6:fail-d#"])
  end)

  it("gives back only the side a two-way add changed when Tencent fails the call, leaves it pending or loses it",
    function()
    -- each peer lists c already: c's two-way add changes c's side only, and
    -- whatever takes the add back takes that side, never the peer's
    h.rest("sns/friend_import", TRIAL, { From_Account = "pending-p", AddFriendItem = { { To_Account = "c" } } })
    h.rest("sns/friend_import", TRIAL, { From_Account = "whole", AddFriendItem = { { To_Account = "c" } } })
    h.rest("sns/friend_import", TRIAL, { From_Account = "lost", AddFriendItem = { { To_Account = "c" } } })
    h.rest("sns/friend_add", TRIAL, { From_Account = "c", AddFriendItem = { { To_Account = "pending-p" } } })
    h.rest("sns/friend_add", TRIAL, { From_Account = "c", AddFriendItem = { { To_Account = "whole" } } },
      { ["X-Stub-Fail"] = "30006" })
    h.settled()
    eventually(function() return h.keys(TRIAL)["uf:1:c#"] == nil end, "c's sides given back")
    local k = h.keys(TRIAL)
    assert.are.same({ 1, 1 }, { k["uf:9:pending-p#"], k["uf:5:whole#"] })
    -- an answer lost on the way: the reservation is kept, both sides listed
    local r = h.rest("sns/friend_add", TRIAL, { From_Account = "c", AddFriendItem = { { To_Account = "lost" } } },
      { ["X-Stub-Status"] = "502" })
    assert.are.equal(502, r.status)
    h.settled()
    k = h.keys(TRIAL)
    assert.are.same({ 1, 1 }, { k["uf:1:c#"], k["uf:4:lost#"] })
  end)

  it("refuses an AddType or DeleteType Tencent does not name, naming the field", function()
    local r, v = h.rest("sns/friend_add", TRIAL, { From_Account = "a", AddType = "Add_Type_Half",
      AddFriendItem = { { To_Account = "b" } } })
    assert.are.equal(30001, v.ErrorCode)
    assert.truthy(v.ErrorInfo:find('AddType: "Add_Type_Half" is not a AddType Tencent names (Add_Type_Both, '
      .. 'Add_Type_Single)', 1, true), v.ErrorInfo)
    assert.are.equal(200, r.status)
    local _, w = h.rest("sns/friend_delete", TRIAL, { From_Account = "a", To_Account = { "b" }, DeleteType = 5 })
    assert.are.equal(30001, w.ErrorCode)
    assert.truthy(w.ErrorInfo:find("DeleteType: 5 is not a DeleteType", 1, true), w.ErrorInfo)
  end)

  it("gives back friend requests Tencent left pending or failed", function()
    h.rest("sns/friend_add", TRIAL, { From_Account = "a", AddFriendItem = {
      { To_Account = "b" }, { To_Account = "pending-c" }, { To_Account = "fail-d" } } })
    eventually(function() return h.keys(TRIAL)["uf:1:a#"] == 1 end, "pending and failed released")
  end)

  it("applies shrinks only once Tencent did them", function()
    for i = 1, 3 do import(TRIAL, "u" .. i) end
    create(TRIAL, { Type = "Public", GroupId = "g", Owner_Account = "u1" })
    h.rest("group_open_http_svc/destroy_group", TRIAL, { GroupId = "g" }, { ["X-Stub-Fail"] = "10004" })
    h.rest("im_open_login_svc/account_delete", TRIAL, { DeleteItem = { { UserID = "u2" }, { UserID = "fail-u3" } } })
    eventually(function() return accounts(TRIAL) == 2 end, "one account deleted")
    assert.are.equal(1, h.keys(TRIAL)["c:groups"])
    h.rest("group_open_http_svc/destroy_group", TRIAL, { GroupId = "g" })
    eventually(function() return h.keys(TRIAL)["c:groups"] == nil end, "the group disbanded")
    assert.is_nil(h.keys(TRIAL)["uj:2:u1#"])
  end)

  -- docs/rules.md, Accounts: a gateway started on an app that already had
  -- accounts counts joins by ids it never saw created
  it("ends the memberships and friendships of a deleted id it never saw created: the full group takes a join again",
    function()
    local list = { { Member_Account = "old1" } }
    for i = 1, 19 do list[#list + 1] = { Member_Account = "m" .. i } end
    create(TRIAL, { Type = "Public", GroupId = "g", MemberList = list })
    h.rest("sns/friend_add", TRIAL, { From_Account = "old1", AddFriendItem = { { To_Account = "m1" } } })
    eventually(function() return h.keys(TRIAL)["uf:4:old1#"] == 1 end, "the friendship counted")
    assert.are.equal(20, h.keys(TRIAL)["gm:1:g#"])
    local r, v = h.rest("group_open_http_svc/add_group_member", TRIAL,
      { GroupId = "g", MemberList = { { Member_Account = "new" } } })
    assert_refused(r, v, 10014, "members_per_group limit")
    -- Tencent deletes old1, and with it old1's membership of g and its friendship
    h.rest("im_open_login_svc/account_delete", TRIAL, { DeleteItem = { { UserID = "old1" } } })
    eventually(function() return h.keys(TRIAL)["gm:1:g#"] == 19 end, "old1's membership ended")
    local k = h.keys(TRIAL)
    assert.is_nil(k["uj:4:old1#"])
    assert.is_nil(k["uf:4:old1#"])
    assert.is_nil(k["uf:2:m1#"])
    assert.are.equal(0, accounts(TRIAL)) -- no account was counted for old1
    local _, w = h.rest("group_open_http_svc/add_group_member", TRIAL,
      { GroupId = "g", MemberList = { { Member_Account = "new" } } })
    assert.are.same({ "OK", 1 }, { w.ActionStatus, w.MemberList[1].Result })
    -- an id with an account and a membership: both end
    import(TRIAL, "a")
    create(TRIAL, { Type = "Public", GroupId = "h", MemberList = { { Member_Account = "a" } } })
    eventually(function() return accounts(TRIAL) == 1 and h.keys(TRIAL)["gm:1:h#"] == 1 end, "a counted")
    h.rest("im_open_login_svc/account_delete", TRIAL, { DeleteItem = { { UserID = "a" } } })
    eventually(function() return accounts(TRIAL) == 0 and h.keys(TRIAL)["gm:1:h#"] == nil end, "a deleted")
    -- an id with nothing counted: nothing changes
    h.rest("im_open_login_svc/account_delete", TRIAL, { DeleteItem = { { UserID = "nobody" } } })
    h.settled()
    assert.are.equal(20, h.keys(TRIAL)["gm:1:g#"])
    assert.are.equal(0, accounts(TRIAL))
  end)

  it("removes members and friends after Tencent's answer", function()
    create(TRIAL, { Type = "Public", GroupId = "g", MemberList = { { Member_Account = "a" }, { Member_Account = "b" } } })
    h.rest("sns/friend_add", TRIAL, { From_Account = "a", AddFriendItem = { { To_Account = "b" }, { To_Account = "c" } } })
    h.rest("group_open_http_svc/delete_group_member", TRIAL, { GroupId = "g", MemberToDel_Account = { "a" } })
    h.rest("sns/friend_delete", TRIAL, { From_Account = "a", To_Account = { "b" }, DeleteType = "Delete_Type_Both" })
    eventually(function()
      local k = h.keys(TRIAL)
      return k["gm:1:g#"] == 1 and k["uf:1:a#"] == 1
    end, "a left g and b")
    -- friend_delete_all is Delete_Type_Single unless it says otherwise: a's
    -- list empties, c still lists a
    h.rest("sns/friend_delete_all", TRIAL, { From_Account = "a" })
    eventually(function() return h.keys(TRIAL)["uf:1:a#"] == nil end, "a's own list emptied")
    assert.are.equal(1, h.keys(TRIAL)["uf:1:c#"])
  end)

  it("deletes one way or both as DeleteType says (friend_delete Both by default, friend_delete_all Single)", function()
    h.rest("sns/friend_add", TRIAL, { From_Account = "a", AddFriendItem = { { To_Account = "b" }, { To_Account = "c" },
      { To_Account = "d" } } })
    h.rest("sns/friend_delete", TRIAL, { From_Account = "a", To_Account = { "b" }, DeleteType = "Delete_Type_Single" })
    eventually(function() return h.keys(TRIAL)["uf:1:a#"] == 2 end, "b off a's list")
    assert.are.equal(1, h.keys(TRIAL)["uf:1:b#"])
    -- two-way, where only b lists a: b's side goes
    h.rest("sns/friend_delete", TRIAL, { From_Account = "a", To_Account = { "b" } })
    eventually(function() return h.keys(TRIAL)["uf:1:b#"] == nil end, "a off b's list")
    h.rest("sns/friend_delete_all", TRIAL, { From_Account = "a", DeleteType = "Delete_Type_Both" })
    eventually(function()
      local k = h.keys(TRIAL)
      return k["uf:1:a#"] == nil and k["uf:1:c#"] == nil and k["uf:1:d#"] == nil
    end, "every friendship of a ended on both sides")
  end)

  it("counts a group Tencent named itself under the id Tencent gave", function()
    local _, v = create(TRIAL, { Type = "Public", Owner_Account = "o", MemberList = { { Member_Account = "m" } } })
    assert.are.equal("OK", v.ActionStatus)
    local gid = v.GroupId
    assert.truthy(gid:find("^@TGS#stub"))
    eventually(function() return h.keys(TRIAL)["gm:" .. #gid .. ":" .. gid .. "#"] == 2 end, "the group renamed")
    local k = h.keys(TRIAL)
    for key in pairs(k) do assert.is_nil(key:find("~rest", 1, true), key) end
    assert.are.equal(gid, k["uj:1:m@1"])
    assert.are.equal(1, k["c:groups"])
  end)

  describe("a group created without a GroupId whose answer said no id (lost, not Tencent's, OK without one)",
    function()
    local function reservation(app)
      for key in pairs(h.keys(app)) do if key:find("^r:") then return key end end
    end
    local function after_create(app, token, gid, body)
      body.CallbackCommand, body.GroupId, body.EventTime = "Group.CallbackAfterCreateGroup", gid, os.time() * 1000
      return h.callback(app, "Group.CallbackAfterCreateGroup", token, body)
    end
    local function standins(k)
      local n = 0
      for key in pairs(k) do if key:find("~rest", 1, true) then n = n + 1 end end
      return n
    end

    it("is reserved until Tencent's after-create callback names it: one group, under Tencent's id", function()
      local r = create(TRIAL, { Type = "Public", Owner_Account = "o", Name = "lost" }, { ["X-Stub-Status"] = "502" })
      assert.are.equal(502, r.status)
      eventually(function() return reservation(TRIAL) end, "the stand-in reserved")
      assert.are.equal(1, h.keys(TRIAL)["c:groups"])
      assert.are.equal(1, h.metric("imbill_reservations_total", { app = TRIAL, via = "rest" }))
      local _, v = after_create(TRIAL, "spec-token-trial", "@TGS#real1", { Type = "Public", Owner_Account = "o",
        Operator_Account = "admin", Name = "lost" })
      assert.are.equal(0, v.ErrorCode)
      local k = h.keys(TRIAL)
      assert.are.equal(1, k["c:groups"])
      assert.are.equal(1, k["uj:1:o#"])
      assert.are.equal("@TGS#real1", k["uj:1:o@1"])
      assert.are.equal(0, standins(k))
      assert.is_nil(reservation(TRIAL))
      assert.are.equal(1, h.metric("imbill_reservations_confirmed_total", { app = TRIAL }))
      -- confirmed once: the sweep finds nothing to take back
      h.sleep(2.2)
      h.sweep()
      assert.are.equal(1, h.keys(TRIAL)["c:groups"])
      assert.is_nil(h.metric("imbill_reservations_expired_total", { app = TRIAL }))
    end)

    -- Private and Work are one type under two names (ChatRoom and Meeting
    -- too): the callback may name it the other way than the call did
    it("is confirmed by an after-create callback that names its type by the other name", function()
      for _, names in ipairs { { "Private", "Work", "o2" }, { "Meeting", "ChatRoom", "o3" } } do
        local r = create(TRIAL, { Type = names[1], Owner_Account = names[3], Name = "lost" },
          { ["X-Stub-Status"] = "502" })
        assert.are.equal(502, r.status)
        eventually(function() return reservation(TRIAL) end, "the stand-in reserved")
        local _, v = after_create(TRIAL, "spec-token-trial", "@TGS#" .. names[2], { Type = names[2],
          Owner_Account = names[3], Operator_Account = "admin", Name = "lost" })
        assert.are.equal(0, v.ErrorCode)
        assert.is_nil(reservation(TRIAL), names[1] .. " then " .. names[2])
      end
      local k = h.keys(TRIAL)
      assert.are.equal(2, k["c:groups"])
      assert.are.equal(0, standins(k))
      assert.are.equal(2, h.metric("imbill_reservations_confirmed_total", { app = TRIAL }))
    end)

    -- Tencent lets a custom GroupId start with "~", as the gateway's stand-ins
    -- do: a client naming its group exactly as a pending stand-in must get a
    -- group of its own, and the stand-in keep its members
    it("is a group apart from one a client names with the stand-in's own id", function()
      local r = create(TRIAL, { Type = "Public", Owner_Account = "o", Name = "lost",
        MemberList = { { Member_Account = "m1" } } }, { ["X-Stub-Status"] = "502" })
      assert.are.equal(502, r.status)
      local standin
      eventually(function()
        for key in pairs(h.keys(TRIAL)) do standin = standin or key:match("^gm:%d+:(~rest:.*)#$") end
        return standin
      end, "the stand-in counted")
      local _, v = create(TRIAL, { Type = "Public", GroupId = standin, Owner_Account = "p",
        MemberList = { { Member_Account = "m2" } } })
      assert.are.equal("OK", v.ActionStatus)
      eventually(function() return h.keys(TRIAL)["c:groups"] == 2 end, "two groups")
      local k, mine = h.keys(TRIAL), "~" .. standin
      assert.are.equal(2, k["gm:" .. #standin .. ":" .. standin .. "#"], "the stand-in's members: o and m1")
      assert.are.equal(2, k["gm:" .. #mine .. ":" .. mine .. "#"], "the client's group: p and m2")
    end)

    it("is matched to the callback by its operator when it names no owner", function()
      create(TRIAL, { Type = "Public", Name = "ownerless" }, { ["X-Stub-Body"] = '{"ActionStatus":"OK","ErrorCode":0}' })
      eventually(function() return reservation(TRIAL) end, "the stand-in reserved")
      after_create(TRIAL, "spec-token-trial", "@TGS#real2", { Type = "Public", Owner_Account = "",
        Operator_Account = "admin", Name = "ownerless" })
      local k = h.keys(TRIAL)
      assert.are.equal(1, k["c:groups"])
      assert.are.equal(0, standins(k))
      assert.is_truthy(k["g:10:@TGS#real2"])
    end)

    it("is matched to the callback by its operator written percent-encoded in the query (admin%40corp)", function()
      local path = h.http.rest_path("group_open_http_svc/create_group", TRIAL):gsub("identifier=admin",
        "identifier=ad%%6Din%%40corp")
      h.http.post(path, cjson.encode { Type = "Public", Name = "encoded" },
        { ["X-Stub-Body"] = '{"ActionStatus":"OK","ErrorCode":0}' })
      eventually(function() return reservation(TRIAL) end, "the stand-in reserved")
      after_create(TRIAL, "spec-token-trial", "@TGS#real3", { Type = "Public", Operator_Account = "admin@corp",
        Name = "encoded" })
      local k = h.keys(TRIAL)
      assert.are.equal(1, k["c:groups"])
      assert.are.equal(0, standins(k))
    end)

    it("is taken back when no callback names it by reservation_ttl", function()
      create(TRIAL, { Type = "Public", Owner_Account = "o", Name = "ghost" }, { ["X-Stub-Body"] = "proxy: oops" })
      eventually(function() return reservation(TRIAL) end, "the stand-in reserved")
      assert.are.equal(1, h.keys(TRIAL)["c:groups"])
      h.sleep(2.2)
      eventually(function()
        h.http.post("/t/sweep", "")
        return h.keys(TRIAL)["c:groups"] == nil
      end, "the reservation expired")
      local k = h.keys(TRIAL)
      assert.are.equal(0, standins(k))
      assert.is_nil(k["uj:1:o#"])
      assert.are.equal(1, h.metric("imbill_reservations_expired_total", { app = TRIAL }))
      -- a late callback counts the group Tencent made, once
      after_create(TRIAL, "spec-token-trial", "@TGS#late", { Type = "Public", Owner_Account = "o", Name = "ghost" })
      assert.are.equal(1, h.keys(TRIAL)["c:groups"])
    end)

    it("stays counted where the app takes no callbacks: nothing could confirm it", function()
      local r = create(OPEN, { Type = "Public", Owner_Account = "o", Name = "kept" }, { ["X-Stub-Status"] = "502" })
      assert.are.equal(502, r.status)
      eventually(function() return h.metric("imbill_settle_unknown_total", { app = OPEN, action = "create_group" }) end,
        "the unknown outcome counted")
      h.settled()
      assert.is_nil(reservation(OPEN))
      assert.are.equal(1, h.keys(OPEN)["c:groups"])
      h.sweep()
      assert.are.equal(1, h.keys(OPEN)["c:groups"])
      assert.is_true(standins(h.keys(OPEN)) > 0)
      assert.is_nil(h.metric("imbill_reservations_total", { app = OPEN, via = "rest" }))
    end)
  end)

  it("refuses an app it does not know, or passes it where configured", function()
    local r, v = import("1999999999", "a")
    assert.are.equal(200, r.status)
    assert.are.equal(60006, v.ErrorCode)
    local r2 = h.http.post("/pass/v4/im_open_login_svc/account_import?sdkappid=1999999999", '{"UserID":"a"}')
    assert.are.equal("OK", cjson.decode(r2.body).ActionStatus)
  end)

  it("reads the app as Tencent reads the query: any case, percent-decoded, named once", function()
    local body = '{"UserID":"a"}'
    local path = "/v4/im_open_login_svc/account_import?"
    -- %61 is "a", %39 is "9": Tencent reads TRIAL in both, so the gateway counts them there
    for i, q in ipairs { "SDKAppID=" .. TRIAL, "sdk%61ppid=" .. TRIAL,
                         "sdkappid=" .. TRIAL:sub(1, -2) .. "%3" .. TRIAL:sub(-1) } do
      local r = h.http.post(path .. q .. "&contenttype=json", '{"UserID":"q' .. i .. '"}')
      assert.are.equal("OK", cjson.decode(r.body).ActionStatus, q)
    end
    eventually(function() return accounts(TRIAL) == 3 end, "three accounts counted on the trial app")
    -- named twice, in any spelling: refused whatever the values, Tencent not contacted, nothing counted
    local calls = h.stub_count("account_import")
    local twice = h.metric("imbill_rest_rejected_total", { reason = "twice" }) or 0
    local unreadable = h.metric("imbill_rest_rejected_total", { reason = "unreadable" }) or 0
    for _, q in ipairs { "sdkappid=" .. TRIAL .. "&sdkappid=" .. PRO, "sdkappid=" .. TRIAL .. "&SdkAppId=" .. TRIAL,
                         "sdkappid=1999999999&sdk%61ppid=" .. TRIAL, "sdkappid&sdkappid=" .. TRIAL,
                         -- a server that parts a query by ";" too (as HTML 4 advised) reads two
                         "x=1;sdkappid=" .. PRO .. "&sdkappid=" .. TRIAL } do
      local r = h.http.post("/pass" .. path .. q, body)
      local v = cjson.decode(r.body)
      assert.are.equal(200, r.status)
      assert.are.equal(60002, v.ErrorCode, q)
      assert.truthy(v.ErrorInfo:find("names sdkappid more than once", 1, true), v.ErrorInfo)
    end
    -- a query too long to read whole (where the name may hide) is refused too
    local r = h.http.post(path .. string.rep("x=%41&", 300) .. "sdkappid=" .. TRIAL, body)
    assert.are.equal(60002, cjson.decode(r.body).ErrorCode)
    assert.are.equal(calls, h.stub_count("account_import"))
    assert.are.equal(3, accounts(TRIAL))
    assert.are.equal(0, accounts(PRO))
    assert.are.equal(twice + 5, h.metric("imbill_rest_rejected_total", { reason = "twice" }))
    -- named after a ";" alone: counted against that app, not passed as naming none
    local semi = h.http.post("/pass" .. path .. "x=1;sdkappid=" .. TRIAL, '{"UserID":"semi"}')
    assert.are.equal("OK", cjson.decode(semi.body).ActionStatus)
    eventually(function() return accounts(TRIAL) == 4 end, "the account counted on the trial app")
    assert.are.equal(unreadable + 1, h.metric("imbill_rest_rejected_total", { reason = "unreadable" }))
    -- no sdkappid at all is an unknown app, said so
    local none = cjson.decode(h.http.post(path .. "contenttype=json", body).body)
    assert.are.equal(60006, none.ErrorCode)
    assert.truthy(none.ErrorInfo:find("names no sdkappid", 1, true), none.ErrorInfo)
  end)

  it("refuses a call that adds something when a value it counts by cannot be read (Tencent's invalid-parameter codes)",
    function()
    local cases = {
      { "group_open_http_svc/create_group", '{"Type":"avchatroom","GroupId":"m1"}', 10004,
        'Type: "avchatroom" is not a group type Tencent names' },
      { "group_open_http_svc/create_group", '{"type":"AVChatRoom","GroupId":"m1"}', 10004, "Type: missing" },
      { "group_open_http_svc/create_group", '{"Type":"Public","GroupId":12}', 10004,
        "GroupId: expected a string id, got 12" },
      { "group_open_http_svc/create_group", '{"Type":"Public","GroupId":-1e999}', 10004,
        "GroupId: expected a string id, got a number past what a double holds" },
      { "group_open_http_svc/create_group", '{"Type":1e400,"GroupId":"m1"}', 10004,
        "Type: a number past what a double holds is not a group type Tencent names" },
      { "group_open_http_svc/import_group", '{"Type":"Public","Owner_Account":{"a":1}}', 10004,
        "Owner_Account: expected a string id, got an object" },
      { "group_open_http_svc/create_group", '{"Type":"Public","MemberList":[{"Member_Account":"a"},{"member_account":"b"}]}',
        10004, "MemberList[2].Member_Account: missing" },
      { "group_open_http_svc/add_group_member", '{"MemberList":[{"Member_Account":"a"}]}', 10004, "GroupId: missing" },
      { "group_open_http_svc/import_group_member", '{"GroupId":"g","MemberList":["a"]}', 10004,
        'MemberList[1]: expected an object with Member_Account, got "a"' },
      { "im_open_login_svc/account_import", '{"UserID":5}', 70402, "UserID: expected a string id, got 5" },
      { "im_open_login_svc/account_import", '{"userid":"x"}', 70402, "UserID: missing" },
      { "im_open_login_svc/multiaccount_import", '{"Accounts":["a",7]}', 70402, "Accounts[2]: expected a string id, got 7" },
      { "sns/friend_add", '{"From_Account":"a","AddFriendItem":[{"To_Account":"b"},{"To_Account":""}]}', 30001,
        "AddFriendItem[2].To_Account: expected an id, got an empty string" },
      { "sns/friend_import", '{"AddFriendItem":[{"To_Account":"b"}]}', 30001, "From_Account: missing" },
      { "group_open_http_svc/create_group", '{"Type":null,"GroupId":"n2"}', 10004, "Type: missing" },
      -- two names for one account, or two lists, that disagree: Tencent could take either
      { "im_open_login_svc/account_import", '{"UserID":"a","Identifier":"b"}', 70402,
        'Identifier: names "b" where UserID names "a"' },
      { "im_open_login_svc/multiaccount_import", '{"AccountList":[{"UserID":"a","Identifier":"b"}]}', 70402,
        'AccountList[1].Identifier: names "b" where UserID names "a"' },
      { "im_open_login_svc/multiaccount_import", '{"AccountList":[{"UserID":"a"}],"Accounts":["b"]}', 70402,
        "AccountList: given with Accounts; Tencent could import either list" },
    }
    local sent = {}
    for _, c in ipairs(cases) do sent[c[1]] = h.stub_count(c[1]:match("/(.*)$")) end
    for _, c in ipairs(cases) do
      local r = h.http.post(h.http.rest_path(c[1], PRO), c[2])
      local v = cjson.decode(r.body)
      assert.are.equal(200, r.status)
      assert.are.equal("FAIL", v.ActionStatus)
      assert.are.equal(c[3], v.ErrorCode, c[2])
      assert.are.equal("imbill: " .. c[4] .. "; the gateway refuses what it cannot count", v.ErrorInfo)
    end
    for call, n in pairs(sent) do assert.are.equal(n, h.stub_count(call:match("/(.*)$")), call) end
    assert.are.same({}, h.keys(PRO))
    -- null is an absent value (clients that write every field write it for an
    -- optional one), and two names for one account may agree
    for _, c in ipairs {
      { "group_open_http_svc/create_group", '{"Type":"Public","GroupId":"n1","Owner_Account":null,"MemberList":null}' },
      { "im_open_login_svc/account_import", '{"UserID":"s1","Identifier":"s1"}' },
      { "im_open_login_svc/account_import", '{"UserID":null,"Identifier":"s2"}' },
      { "im_open_login_svc/multiaccount_import", '{"AccountList":null,"Accounts":["s3"]}' },
    } do
      local r = h.http.post(h.http.rest_path(c[1], PRO), c[2])
      assert.are.equal("OK", cjson.decode(r.body).ActionStatus, c[2])
    end
    eventually(function() return accounts(PRO) == 3 and h.keys(PRO)["c:groups"] == 1 end, "three accounts, a group")
    -- a removal it cannot read still goes to Tencent: nothing it could miss counting grows
    local r = h.http.post(h.http.rest_path("group_open_http_svc/destroy_group", PRO), '{"GroupId":12}')
    assert.are.equal("OK", cjson.decode(r.body).ActionStatus)
  end)

  it("answers a usage request it cannot serve with the field and the value", function()
    local function err(q)
      local r = h.http.get("/imbill/usage?" .. q)
      return r.status, cjson.decode(r.body).error
    end
    local s, e = err("month=2021-03")
    assert.are.equal(404, s)
    assert.are.equal("imbill.gateway.usage: sdkappid: missing (expected a configured SDKAppID)", e)
    s, e = err("sdkappid=1999999999&month=2021-03")
    assert.are.equal(404, s)
    assert.are.equal('imbill.gateway.usage: sdkappid: no app "1999999999" is configured on this gateway', e)
    s, e = err("sdkappid=" .. PRO)
    assert.are.equal(400, s)
    assert.are.equal("imbill.gateway.usage: month: missing (expected YYYY-MM)", e)
    s, e = err("sdkappid=" .. PRO .. "&month=2021-13")
    assert.are.equal(400, s)
    assert.truthy(e:find("month", 1, true) and e:find("2021-13", 1, true), e)
  end)

  -- The count carried into a month is read back day by day from the latest
  -- counted day, under the app's lock: 0001-01 took 740,000 reads and 0.7 s,
  -- and the app's decisions waited that long (refused "busy" past 0.5 s).
  it("refuses a month more than 4,000 days before the app's latest counted day, at once", function()
    local _, v = h.rest("im_open_login_svc/account_import", PRO, { UserID = "today" })
    assert.are.equal("OK", v.ActionStatus)
    local t0 = socket.gettime()
    local r = h.http.get("/imbill/usage?sdkappid=" .. PRO .. "&month=0001-01")
    local took = socket.gettime() - t0
    assert.are.equal(400, r.status)
    assert.matches('^imbill%.gateway%.usage: month: is more than 4,000 days before the app\'s latest counted day, '
      .. '%d%d%d%d%-%d%d%-%d%d: too far back to read, got "0001%-01"$', cjson.decode(r.body).error)
    assert.is_true(took < 0.3, string.format("answered in %.2f s", took))
  end)

  -- SPEC.md 4: no plan fee before the first paid activation, none in its month
  -- (2020). An app on 2020 pro first activated 2021-03-10 cannot have run pro
  -- in February: that month is refused (400, the invoice's error, as a meter's
  -- m:invoice refuses it), not billed 149.99; March is 0.00, April 149.99.
  it("refuses the usage of a month before the app's first paid activation, and bills the activation month free",
    function()
      local function get(mo)
        local r = h.http.get("/imbill/usage?sdkappid=1400000017&month=" .. mo)
        return r.status, cjson.decode(r.body)
      end
      local s, d = get("2021-02")
      assert.are.equal(400, s)
      assert.are.equal('imbill.invoice: activated: is after the invoice month 2021-02, got "2021-03-10"', d.error)
      s, d = get("2021-03")
      assert.are.equal(200, s)
      assert.are.equal("0.00", d.invoice.total)
      s, d = get("2021-04")
      assert.are.equal(200, s)
      assert.are.equal("149.99", d.invoice.total)
    end)

  it("refuses a usage request naming sdkappid twice, as the REST path does (it answered for the first)", function()
    for _, q in ipairs { "sdkappid=" .. PRO .. "&sdkappid=1999999999&month=2021-03",
                         "SdkAppId=1999999999&sdkappid=" .. PRO .. "&month=2021-03",
                         "sdkappid=" .. PRO .. "&sdk%61ppid=" .. PRO .. "&month=2021-03" } do
      local r = h.http.get("/imbill/usage?" .. q)
      assert.are.equal(400, r.status, q)
      assert.are.equal("imbill.gateway.usage: sdkappid: the query names sdkappid more than once (ask for one app: "
        .. "?sdkappid=...&month=YYYY-MM)", cjson.decode(r.body).error, q)
    end
    -- written as the REST path reads it, percent-encoded, it is the app
    local r = h.http.get("/imbill/usage?sdk%61ppid=" .. PRO .. "&month=2021-03")
    assert.are.equal(200, r.status)
    assert.are.equal(PRO, cjson.decode(r.body).app)
  end)

  it("refuses a usage request naming month twice (it answered for the first)", function()
    for _, q in ipairs { "sdkappid=" .. PRO .. "&month=2021-03&month=2021-04",
                         "sdkappid=" .. PRO .. "&month=2021-03&MONTH=2021-04",
                         "sdkappid=" .. PRO .. "&month=2021-03&m%6Fnth=2021-04" } do
      local r = h.http.get("/imbill/usage?" .. q)
      assert.are.equal(400, r.status, q)
      assert.are.equal("imbill.gateway.usage: month: the query names month more than once (ask for one month: "
        .. "month=YYYY-MM)", cjson.decode(r.body).error, q)
    end
  end)

  it("refuses a call whose list is longer than rest_max_items (1000) without contacting Tencent", function()
    local calls = h.stub_count("multiaccount_import")
    local list = {}
    for i = 1, 1001 do list[i] = "big" .. i end
    local r, v = h.rest("im_open_login_svc/multiaccount_import", PRO, { Accounts = list })
    assert.are.equal(200, r.status)
    assert.are.equal("FAIL", v.ActionStatus)
    assert.are.equal(60002, v.ErrorCode)
    assert.are.equal("imbill: Accounts has 1001 items; the gateway reads at most 1000 a call", v.ErrorInfo)
    assert.are.equal(calls, h.stub_count("multiaccount_import"))
    assert.are.equal(0, accounts(PRO))
    -- at the bound, the call is decided and passed as usual
    list[1001] = nil
    local _, ok = h.rest("im_open_login_svc/multiaccount_import", PRO, { Accounts = list })
    assert.are.equal("OK", ok.ActionStatus)
    eventually(function() return accounts(PRO) == 1000 end, "1000 accounts")
    -- the bound is a whole number of items
    local config = require "imbill.gateway.config"
    require("imbill.gateway.core").init(os.getenv("IMBILL_TOP") .. "/build/jit/imbill/core.so")
    for _, bad in ipairs { 0, 1.5, "10" } do
      local ok_, e = pcall(config.check, { rest_max_items = bad, apps = { ["1"] = { book = "2020", edition = "pro" } } })
      assert.is_false(ok_)
      assert.truthy(tostring(e):find("imbill.gateway.setup: rest_max_items: expected a whole number from 1 to 1000000",
        1, true), tostring(e))
    end
  end)

  it("names an unknown configuration key by its path: which app, which Redis setup", function()
    local config = require "imbill.gateway.config"
    require("imbill.gateway.core").init(os.getenv("IMBILL_TOP") .. "/build/jit/imbill/core.so")
    local function err(o)
      local ok, e = pcall(config.check, o)
      assert.is_false(ok)
      return tostring(e)
    end
    assert.matches('^imbill%.gateway%.setup: apps%[1400000001%]%.nmae: unknown field %(known: activated, addons, ',
      err { apps = { ["1400000001"] = { book = "2020", edition = "pro", nmae = "demo" } } })
    assert.are.equal("imbill.gateway.setup: apps[1].codes.grup: unknown field (known: friend, group)",
      err { apps = { ["1"] = { book = "2020", edition = "pro", codes = { grup = {} } } } })
    assert.matches("^imbill%.gateway%.setup: redis%.main%.clster: unknown field %(known: background_deadline, ",
      err { redis = { main = { servers = { "127.0.0.1:6379" }, clster = true } }, apps = {} })
    -- an app's name is a label for people; imbill reads nothing else from it
    assert.are.equal("imbill.gateway.setup: apps[1].name: expected a string, got 5",
      err { apps = { ["1"] = { book = "2020", edition = "pro", name = 5 } } })
    assert.is_true((pcall(config.check, { apps = { ["1"] = { book = "2020", edition = "pro", name = "demo" } } })))
  end)

  it("takes an app's add-ons as a list: named ones would bill nothing and are refused", function()
    local config = require "imbill.gateway.config"
    require("imbill.gateway.core").init(os.getenv("IMBILL_TOP") .. "/build/jit/imbill/core.so")
    local ok, e = pcall(config.check, { apps = { ["1"] = { book = "2020", edition = "pro",
                                                           addons = { av_unlimited = true } } } })
    assert.is_false(ok)
    assert.are.equal('imbill.gateway.setup: apps[1].addons: expected a list of add-on ids, not named fields, '
      .. 'got "av_unlimited"', tostring(e))
    assert.is_true((pcall(config.check, { apps = { ["1"] = { book = "2020", edition = "pro",
                                                            addons = { "av_unlimited" } } } })))
  end)

  it("refuses a body that names a field twice in one object (60003): parsers disagree on which value counts", function()
    local calls = h.stub_count("create_group")
    for _, body in ipairs {
      '{"Type":"AVChatRoom","Type":"Public","Owner_Account":"a","GroupId":"d1"}',
      '{"Type":"Public","\\u0054ype":"AVChatRoom","Owner_Account":"a","GroupId":"d2"}',
      '{"Type":"Public","GroupId":"d3","MemberList":[{"Member_Account":"m","Member_Account":"n"}]}',
    } do
      local r = h.http.post(h.http.rest_path("group_open_http_svc/create_group", PRO), body)
      local v = cjson.decode(r.body)
      assert.are.equal(200, r.status)
      assert.are.equal(60003, v.ErrorCode, body)
      assert.truthy(v.ErrorInfo:find("twice in one object", 1, true), v.ErrorInfo)
    end
    assert.are.equal(calls, h.stub_count("create_group"))
    assert.is_nil(h.keys(PRO)["c:groups"])
    -- the same name in two objects, or inside a string, is no repeat
    local r = h.http.post(h.http.rest_path("group_open_http_svc/create_group", PRO),
      '{"Type":"Public","Name":"\\"Type\\":","GroupId":"d4","MemberList":[{"Member_Account":"m"},{"Member_Account":"n"}]}')
    assert.are.equal("OK", cjson.decode(r.body).ActionStatus)
  end)

  it("refuses a body it cannot read: not JSON (60003), too large (60002)", function()
    local r, v = h.rest("im_open_login_svc/account_import", TRIAL, "{not json")
    assert.are.equal(60003, v.ErrorCode)
    -- what the parser found, and where
    assert.truthy(v.ErrorInfo:find("^imbill: the request body is not JSON %(.*at character 2%)$"), v.ErrorInfo)
    -- a compressed body is said to be one
    local gz = "\31\139\8\0\0\0\0\0\0\3\171\86\10\45\78\45\242\116\81\178\82\74\84\170\5\0"
    local _, vz = h.rest("im_open_login_svc/account_import", TRIAL, gz, { ["Content-Encoding"] = "gzip" })
    assert.are.equal(60003, vz.ErrorCode)
    assert.truthy(vz.ErrorInfo:find('it is sent with Content-Encoding "gzip", which the gateway does not decode: send '
      .. "it uncompressed", 1, true), vz.ErrorInfo)
    -- an array is JSON, not an object: said so, not "UserID: missing"
    for _, text in ipairs { ' [{"UserID":"a"}]', "[]", '"a"', "12" } do
      local _, va = h.rest("im_open_login_svc/account_import", TRIAL, text)
      assert.are.same({ 60003, "imbill: the request body is not a JSON object" }, { va.ErrorCode, va.ErrorInfo }, text)
    end
    local _, vo = h.rest("im_open_login_svc/account_import", TRIAL, ' \r\n\t{"UserID":"sp"}')
    assert.are.equal("OK", vo.ActionStatus)
    eventually(function() return accounts(TRIAL) == 1 end, "the account counted")
    local big = '{"UserID":"a","Nick":"' .. string.rep("x", 1100000) .. '"}'
    local r2, v2 = h.rest("im_open_login_svc/account_import", TRIAL, big)
    assert.are.equal(200, r2.status)
    assert.are.equal(60002, v2.ErrorCode)
    assert.are.equal(1, accounts(TRIAL))
    assert.is_truthy(r)
  end)

  it("passes a call it cannot decide when the app fails open", function()
    -- no store trouble here: an open app is enforced like any other
    for i = 1, 100 do import(OPEN, "u" .. i) end
    local _, v = import(OPEN, "u101")
    assert.are.equal(70398, v.ErrorCode)
  end)
end)
