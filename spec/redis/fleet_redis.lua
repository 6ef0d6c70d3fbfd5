-- Two gateway nodes (two workers each) share one Redis: caps hold across
-- the fleet exactly, run after run, and DAU counts each user once a day
-- whichever node the logins reach.
local h = require "rs_helper"
local cjson = h.cjson

local PRO, TRIAL = "1400000001", "1400000002"
local RUNS = 5

local function count(answers, pred)
  local n = 0
  for _, r in ipairs(answers) do
    local ok, v = pcall(cjson.decode, r.body)
    if ok and pred(v) then n = n + 1 end
  end
  return n
end
local function ok_answer(v) return v.ActionStatus == "OK" end
local function code(c) return function(v) return v.ErrorCode == c end end

describe("a fleet of two nodes on one Redis", function()
  before_each(h.reset)

  it("creates exactly 50 AVChatRoom groups on pro out of 200 at once, run after run", function()
    for run = 1, RUNS do
      h.reset()
      local before = h.stub_count("create_group")
      local reqs = {}
      for i = 1, 200 do
        reqs[i] = { i % 2 + 1, "POST", h.rest_path("group_open_http_svc/create_group", PRO),
                    cjson.encode { Type = "AVChatRoom", GroupId = "r" .. run .. "av" .. i, Owner_Account = "o" .. i } }
      end
      local answers = h.concurrent(reqs)
      assert.are.equal(50, count(answers, ok_answer), "run " .. run)
      assert.are.equal(150, count(answers, code(10036)), "run " .. run)
      assert.are.equal(50, h.stub_count("create_group") - before, "run " .. run)
      assert.are.equal("50", h.rcall(nil, "GET", h.key(PRO, "c:groups_of:AVChatRoom")), "run " .. run)
      assert.are.equal("50", h.rcall(nil, "GET", h.key(PRO, "c:groups")), "run " .. run)
    end
  end)

  it("imports exactly 100 accounts on trial out of 300 at once, run after run", function()
    for run = 1, RUNS do
      h.reset()
      local before = h.stub_count("account_import")
      local reqs = {}
      for i = 1, 300 do
        reqs[i] = { i % 2 + 1, "POST", h.rest_path("im_open_login_svc/account_import", TRIAL),
                    cjson.encode { UserID = "r" .. run .. "u" .. i } }
      end
      local answers = h.concurrent(reqs)
      assert.are.equal(100, count(answers, ok_answer), "run " .. run)
      assert.are.equal(200, count(answers, code(70398)), "run " .. run)
      assert.are.equal(100, h.stub_count("account_import") - before, "run " .. run)
      assert.are.equal("100", h.rcall(nil, "GET", h.key(TRIAL, "c:accounts")), "run " .. run)
    end
  end)

  it("lets exactly 20 members into a trial group when 100 join at once through both nodes", function()
    local _, v = h.rest(1, "group_open_http_svc/create_group", TRIAL, { Type = "Public", GroupId = "g{x}" })
    assert.are.equal("OK", v.ActionStatus)
    local reqs = {}
    for i = 1, 100 do
      reqs[i] = { i % 2 + 1, "POST", h.rest_path("group_open_http_svc/add_group_member", TRIAL),
                  cjson.encode { GroupId = "g{x}", MemberList = { { Member_Account = "m" .. i } } } }
    end
    local answers = h.concurrent(reqs)
    assert.are.equal(20, count(answers, function(a) return a.ActionStatus == "OK" and a.MemberList[1].Result == 1 end))
    assert.are.equal(80, count(answers, code(10014)))
    assert.are.equal(20, h.rcall(nil, "SCARD", h.key(TRIAL, "gm:g{x}")))
    -- the refusal names the group's type, which only the store knows
    for _, r in ipairs(answers) do
      local a = cjson.decode(r.body)
      if a.ErrorCode == 10014 then
        assert.truthy(a.ErrorInfo:find("in a Public group, and group g{x} has 20", 1, true), a.ErrorInfo)
        break
      end
    end
  end)

  -- Tencent retries an after callback whose answer it did not get in time:
  -- a create in place already (through REST, or an approval the first
  -- delivery confirmed) is not created again by the retry once disbanded
  it("counts a retried create once when the group was in place, even after it was disbanded", function()
    local TOKEN = "spec-token-trial"
    local function groups() return h.count(nil, h.key(TRIAL, "c:groups")) end
    local function retried(ev, between)
      local sent = os.time()
      h.callback(1, TRIAL, "Group.CallbackAfterCreateGroup", TOKEN, ev, { request_time = sent })
      between()
      local r = h.callback(2, TRIAL, "Group.CallbackAfterCreateGroup", TOKEN, ev, { request_time = sent - 1 })
      assert.are.equal(200, r.status)
      assert.are.equal(0, groups(), ev.GroupId)
      assert.are.equal(0, h.rcall(nil, "EXISTS", h.key(TRIAL, "uj:o")), ev.GroupId)
    end
    h.rest(1, "group_open_http_svc/create_group", TRIAL, { Type = "Public", GroupId = "g1", Owner_Account = "o" })
    retried({ CallbackCommand = "Group.CallbackAfterCreateGroup", GroupId = "g1", Type = "Public",
              Owner_Account = "o", EventTime = os.time() * 1000 }, function()
      h.rest(2, "group_open_http_svc/destroy_group", TRIAL, { GroupId = "g1" })
      h.wait(function() return groups() == 0 end, 15, "g1 disbanded")
    end)
    h.callback(1, TRIAL, "Group.CallbackBeforeCreateGroup", TOKEN, { CallbackCommand = "Group.CallbackBeforeCreateGroup",
      Type = "Public", Name = "sdk", Owner_Account = "o", Operator_Account = "o" })
    retried({ CallbackCommand = "Group.CallbackAfterCreateGroup", GroupId = "g2", Type = "Public", Name = "sdk",
              Owner_Account = "o", Operator_Account = "o", EventTime = os.time() * 1000 + 1 }, function()
      assert.are.equal(1, groups())
      h.callback(1, TRIAL, "Group.CallbackAfterGroupDestroyed", TOKEN, { CallbackCommand =
        "Group.CallbackAfterGroupDestroyed", GroupId = "g2", Type = "Public", EventTime = os.time() * 1000 + 2 })
    end)
  end)

  -- docs/rules.md, Accounts: a gateway started on an app that already had
  -- accounts counts joins by ids it never saw created
  it("ends the memberships of a deleted id it never saw created: the full group takes a join again", function()
    local list = { { Member_Account = "old1" } }
    for i = 1, 19 do list[#list + 1] = { Member_Account = "m" .. i } end
    local _, v = h.rest(1, "group_open_http_svc/create_group", TRIAL, { Type = "Public", GroupId = "g", MemberList = list })
    assert.are.equal("OK", v.ActionStatus)
    h.rest(1, "sns/friend_add", TRIAL, { From_Account = "old1", AddFriendItem = { { To_Account = "m1" } } })
    local gm = h.key(TRIAL, "gm:g")
    h.wait(function() return h.rcall(nil, "SCARD", h.key(TRIAL, "uf:m1")) == 1 end, 15, "the friendship counted")
    assert.are.equal(20, h.rcall(nil, "SCARD", gm))
    local _, full = h.rest(2, "group_open_http_svc/add_group_member", TRIAL,
      { GroupId = "g", MemberList = { { Member_Account = "new" } } })
    assert.are.equal(10014, full.ErrorCode)
    -- Tencent deletes old1, and with it old1's membership of g and its friendship
    h.rest(2, "im_open_login_svc/account_delete", TRIAL, { DeleteItem = { { UserID = "old1" } } })
    h.wait(function() return h.rcall(nil, "SCARD", gm) == 19 end, 15, "old1's membership ended")
    for _, k in ipairs { "uj:old1", "uf:old1", "uf:m1" } do
      assert.are.equal(0, h.rcall(nil, "EXISTS", h.key(TRIAL, k)), k)
    end
    assert.are.equal(0, h.count(nil, h.key(TRIAL, "c:accounts"))) -- no account was counted for old1
    local _, w = h.rest(1, "group_open_http_svc/add_group_member", TRIAL,
      { GroupId = "g", MemberList = { { Member_Account = "new" } } })
    assert.are.same({ "OK", 1 }, { w.ActionStatus, w.MemberList[1].Result })
    -- an id with an account and a membership: both end
    h.rest(1, "im_open_login_svc/account_import", TRIAL, { UserID = "a" })
    h.rest(1, "group_open_http_svc/create_group", TRIAL, { Type = "Public", GroupId = "h",
                                                         MemberList = { { Member_Account = "a" } } })
    h.rest(2, "im_open_login_svc/account_delete", TRIAL, { DeleteItem = { { UserID = "a" } } })
    h.wait(function()
      return h.count(nil, h.key(TRIAL, "c:accounts")) == 0 and h.rcall(nil, "EXISTS", h.key(TRIAL, "gm:h")) == 0
    end, 15, "a deleted")
    -- an id with nothing counted: nothing changes
    h.rest(2, "im_open_login_svc/account_delete", TRIAL, { DeleteItem = { { UserID = "nobody" } } })
    h.settled()
    assert.are.equal(20, h.rcall(nil, "SCARD", gm))
    assert.are.equal(0, h.count(nil, h.key(TRIAL, "c:accounts")))
  end)

  it("counts an account down once when another node deletes it while Tencent's failed import is on its way back",
    function()
    h.rest(1, "im_open_login_svc/account_import", TRIAL, { UserID = "a" })
    -- b's import is reserved on node 1 and waits for Tencent; node 2 deletes
    -- b (counted down), then Tencent answers the import FAIL: taking the
    -- reservation back again would leave the app one account short
    local out = h.concurrent({
      { 1, "POST", h.rest_path("im_open_login_svc/account_import", TRIAL), cjson.encode { UserID = "b" },
        { ["X-Stub-Fail"] = "70169", ["X-Stub-Delay"] = "0.6" } },
      { 2, "POST", h.rest_path("im_open_login_svc/account_delete", TRIAL),
        cjson.encode { DeleteItem = { { UserID = "b" } } }, { ["X-Stub-Delay"] = "0.1" } },
    })
    assert.are.equal("FAIL", cjson.decode(out[1].body).ActionStatus)
    assert.are.equal("OK", cjson.decode(out[2].body).ActionStatus)
    h.wait(function()
      return h.metric_sum("imbill_reservations_released_total", { app = TRIAL, via = "rest" }) == 1
    end, 5, "the import settled")
    h.settle()
    assert.are.equal(1, h.count(nil, h.key(TRIAL, "c:accounts")))
  end)

  it("approves exactly the cap when before callbacks race on both nodes", function()
    for i = 1, 45 do
      h.callback(i % 2 + 1, PRO, "Group.CallbackAfterCreateGroup", "spec-token-pro", { CallbackCommand =
        "Group.CallbackAfterCreateGroup", GroupId = "av" .. i, Type = "AVChatRoom" })
    end
    assert.are.equal("45", h.rcall(nil, "GET", h.key(PRO, "c:groups_of:AVChatRoom")))
    local reqs = {}
    for i = 1, 60 do
      reqs[i] = { i % 2 + 1, "POST", h.http.callback_path(PRO, "Group.CallbackBeforeCreateGroup", "spec-token-pro"),
                  cjson.encode { CallbackCommand = "Group.CallbackBeforeCreateGroup", Type = "AVChatRoom",
                                 Owner_Account = "o" .. i, Name = "n" .. i } }
    end
    local answers = h.concurrent(reqs)
    assert.are.equal(5, count(answers, code(0)))
    assert.are.equal(55, count(answers, code(10150)))
    -- unconfirmed approvals are taken back after reservation_ttl (2 s)
    assert.are.equal("50", h.rcall(nil, "GET", h.key(PRO, "c:groups_of:AVChatRoom")))
    h.wait(function()
      h.post(1, "/t/sweep", "")
      return h.rcall(nil, "GET", h.key(PRO, "c:groups_of:AVChatRoom")) == "45"
    end, 10, "the approvals to expire")
    assert.are.equal(0, h.rcall(nil, "ZCARD", h.key(PRO, "rq")))
    assert.are.equal(0, h.rcall(nil, "HLEN", h.key(PRO, "rr")))
  end)

  it("confirms an approval with its after callback on the other node", function()
    local _, v = h.callback(1, PRO, "Group.CallbackBeforeCreateGroup", "spec-token-pro", { CallbackCommand =
      "Group.CallbackBeforeCreateGroup", Type = "Public", Owner_Account = "alice", Name = "team",
      MemberList = { { Member_Account = "bob" } } })
    assert.are.equal(0, v.ErrorCode)
    assert.are.equal("1", h.rcall(nil, "GET", h.key(PRO, "c:groups")))
    local _, w = h.callback(2, PRO, "Group.CallbackAfterCreateGroup", "spec-token-pro", { CallbackCommand =
      "Group.CallbackAfterCreateGroup", GroupId = "@TGS#real", Type = "Public", Owner_Account = "alice", Name = "team",
      MemberList = { { Member_Account = "alice" }, { Member_Account = "bob" } }, EventTime = os.time() * 1000 })
    assert.are.equal("OK", w.ActionStatus)
    -- the group took its real id; nothing counted twice; nothing to sweep
    assert.are.equal("1", h.rcall(nil, "GET", h.key(PRO, "c:groups")))
    assert.are.equal(2, h.rcall(nil, "SCARD", h.key(PRO, "gm:@TGS#real")))
    assert.are.equal(1, h.rcall(nil, "SISMEMBER", h.key(PRO, "uj:bob"), "@TGS#real"))
    assert.are.equal(0, h.rcall(nil, "HLEN", h.key(PRO, "rr")))
    h.sleep(2.2)
    h.sweep(1)
    assert.are.equal("1", h.rcall(nil, "GET", h.key(PRO, "c:groups")))
  end)

  it("answers the usage location with one snapshot of the month while groups are being created", function()
    -- groups created today only: every earlier day of the month peaked at 0
    -- groups; a month read in pieces while creates land between them
    -- carries a count into the month that is not there (-1, -2 ...)
    local polls, seen = h.http.usage_while_creating(h.concurrent, "1400000004", 120, function(i, poll)
      if poll then return i % 8 < 4 and 1 or 2 end
      return i % 2 + 1
    end)
    assert.are.equal(180, polls)
    assert.are.same({}, seen)
  end)

  it("counts each of 300 users once in DAU when 1,200 logins arrive at both nodes at once", function()
    local reqs = {}
    local t = os.time()
    for i = 1, 1200 do
      local u = "u{" .. (i % 300) .. "}"
      reqs[i] = { i % 2 + 1, "POST", h.http.callback_path(PRO, "State.StateChange", "spec-token-pro"),
                  cjson.encode { CallbackCommand = "State.StateChange", EventTime = t * 1000 + i,
                                 Info = { Action = "Login", To_Account = u } } }
    end
    local answers = h.concurrent(reqs)
    for _, r in ipairs(answers) do assert.are.equal(200, r.status) end
    h.settle()
    local day = math.floor((t + 8 * 3600) / 86400)
    assert.are.equal("300", h.rcall(nil, "GET", h.key(PRO, "d:" .. day .. ":dau")))
  end)

  h.lost_create_specs({ describe = describe, it = it, assert = assert }, "one Redis", PRO,
    function() return nil end)
end)

-- Tencent keeps a friend list per user: AddType, DeleteType, friend_import
-- and each callback pair change the lists they name, whichever node the
-- calls reach (the store applies the core's one-way parts, no rule of its own).
describe("friends on one Redis, a list per user", function()
  before_each(h.reset)

  local function card(u) return h.rcall(nil, "SCARD", h.key(TRIAL, "uf:" .. u)) end

  it("counts a one-way add on the adder's list only: a user 25 follow adds her own friends", function()
    for i = 1, 25 do
      local _, v = h.rest(i % 2 + 1, "sns/friend_add", TRIAL, { From_Account = "fan" .. i, AddType = "Add_Type_Single",
        AddFriendItem = { { To_Account = "pop" } } })
      assert.are.equal(0, v.ResultItem[1].ResultCode)
    end
    assert.are.equal(0, card("pop"))
    local _, w = h.rest(1, "sns/friend_add", TRIAL, { From_Account = "pop", AddFriendItem = { { To_Account = "x" } } })
    assert.are.same({ "OK", 0 }, { w.ActionStatus, w.ResultItem[1].ResultCode })
    assert.are.same({ 1, 1, 1 }, { card("pop"), card("x"), card("fan1") })
    -- fan1's two-way add adds only the side that is missing: pop's
    h.rest(2, "sns/friend_add", TRIAL, { From_Account = "fan1", AddFriendItem = { { To_Account = "pop" } } })
    assert.are.same({ 2, 1 }, { card("pop"), card("fan1") })
    -- friend_import fills the requester's list only
    h.rest(1, "sns/friend_import", TRIAL, { From_Account = "imp", AddFriendItem = { { To_Account = "x" } } })
    assert.are.same({ 1, 1 }, { card("imp"), card("x") })
  end)

  it("answers 30014 only for a peer whose own list is full, and takes nothing then", function()
    local items = {}
    for i = 1, 20 do items[i] = { To_Account = "f" .. i } end
    h.rest(1, "sns/friend_add", TRIAL, { From_Account = "p", AddType = "Add_Type_Single", AddFriendItem = items })
    assert.are.same({ 20, 0 }, { card("p"), card("f1") })
    local _, v = h.rest(2, "sns/friend_add", TRIAL, { From_Account = "u", AddFriendItem = { { To_Account = "p" } } })
    assert.are.equal(30014, v.ResultItem[1].ResultCode)
    assert.are.equal(0, card("u"))
    -- f1 is in p's list: f1's two-way add of p adds f1's side, p's full list not asked
    local _, w = h.rest(1, "sns/friend_add", TRIAL, { From_Account = "f1", AddFriendItem = { { To_Account = "p" } } })
    assert.are.equal(0, w.ResultItem[1].ResultCode)
    assert.are.same({ 20, 1 }, { card("p"), card("f1") })
  end)

  it("deletes as DeleteType says: friend_delete both ways by default, friend_delete_all one way", function()
    h.rest(1, "sns/friend_add", TRIAL, { From_Account = "a", AddFriendItem = { { To_Account = "b" }, { To_Account = "c" },
      { To_Account = "d" } } })
    h.rest(2, "sns/friend_delete", TRIAL, { From_Account = "a", To_Account = { "b" }, DeleteType = "Delete_Type_Single" })
    h.wait(function() return card("a") == 2 end, 5, "b off a's list")
    assert.are.equal(1, card("b"))
    h.rest(1, "sns/friend_delete", TRIAL, { From_Account = "a", To_Account = { "b" } })
    h.wait(function() return card("b") == 0 end, 5, "a off b's list")
    h.rest(2, "sns/friend_delete_all", TRIAL, { From_Account = "a" })
    h.wait(function() return card("a") == 0 end, 5, "a's own list emptied")
    assert.are.same({ 1, 1 }, { card("c"), card("d") })
    h.rest(1, "sns/friend_add", TRIAL, { From_Account = "a", AddType = "Add_Type_Single",
      AddFriendItem = { { To_Account = "c" } } })
    h.rest(1, "sns/friend_delete_all", TRIAL, { From_Account = "c", DeleteType = "Delete_Type_Both" })
    h.wait(function() return card("c") == 0 and card("a") == 0 end, 5, "c's friendships ended on both sides")
    assert.are.equal(1, card("d")) -- d's own list, never named
  end)

  it("gives back only the side a two-way add changed when Tencent fails it, leaves it pending or loses it",
    function()
    -- each peer lists c already: c's two-way add changes c's side only
    for _, p in ipairs { "fail-f", "pending-p", "whole", "lost" } do
      h.rest(1, "sns/friend_import", TRIAL, { From_Account = p, AddFriendItem = { { To_Account = "c" } } })
    end
    local function add(node, peer, headers)
      return h.post(node, h.rest_path("sns/friend_add", TRIAL),
        cjson.encode { From_Account = "c", AddFriendItem = { { To_Account = peer } } }, headers)
    end
    add(1, "fail-f")
    add(2, "pending-p")
    add(1, "whole", { ["X-Stub-Fail"] = "30006" })
    h.settle()
    h.wait(function() return card("c") == 0 end, 5, "c's sides given back")
    assert.are.same({ 1, 1, 1 }, { card("fail-f"), card("pending-p"), card("whole") })
    -- an answer lost on the way: the reservation is kept, both sides listed
    assert.are.equal(502, add(2, "lost", { ["X-Stub-Status"] = "502" }).status)
    h.settle()
    assert.are.same({ 1, 1 }, { card("c"), card("lost") })
  end)

  it("counts each callback pair as one direction", function()
    h.callback(1, TRIAL, "Sns.CallbackFriendAdd", "spec-token-trial", { CallbackCommand = "Sns.CallbackFriendAdd",
      PairList = { { From_Account = "a", To_Account = "b", Initiator_Account = "a" },
                   { From_Account = "c", To_Account = "d", Initiator_Account = "c" },
                   { From_Account = "d", To_Account = "c", Initiator_Account = "c" } } })
    assert.are.same({ 1, 0, 1, 1 }, { card("a"), card("b"), card("c"), card("d") })
    h.callback(2, TRIAL, "Sns.CallbackFriendDelete", "spec-token-trial", { CallbackCommand = "Sns.CallbackFriendDelete",
      PairList = { { From_Account = "b", To_Account = "a" }, { From_Account = "d", To_Account = "c" } } })
    assert.are.same({ 1, 1, 0 }, { card("a"), card("c"), card("d") })
  end)
end)
