-- Tencent's callbacks through the gateway: signatures and every rejection,
-- logins into DAU and MAU, "before" callbacks that refuse in Tencent's reply
-- format and reserve what they approve, "after" callbacks that count each
-- event once.
local h = require "ngx_helper"
local cjson = require "cjson"

local PRO, TRIAL, EX = "1400000001", "1400000002", "1400000004"
local TOKENS = { [PRO] = "spec-token-pro", [TRIAL] = "spec-token-trial", [EX] = "xxxxyyyy" }
local MARCH1 = 1614528000 -- 2021-03-01 00:00 +08:00

local function cb(app, cmd, body, opts)
  return h.callback(app, cmd, TOKENS[app], body, opts)
end

local function login(app, user, t_ms, opts)
  return cb(app, "State.StateChange", { CallbackCommand = "State.StateChange", EventTime = t_ms,
    Info = { Action = "Login", To_Account = user, Reason = "Register" } }, opts)
end

local eventually = h.eventually

local function day_of(t) return math.floor((t + 8 * 3600) / 86400) end

describe("callbacks", function()
  before_each(h.flush)

  describe("signature", function()
    it("is sha256(token .. RequestTime) in lowercase hex (Tencent's worked example)", function()
      assert.are.equal("17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061",
        h.http.sha256_hex("xxxxyyyy1669872112"))
      local r = login(EX, "alice", os.time() * 1000)
      assert.are.equal(200, r.status)
    end)

    local function rejected(reason, status, r)
      assert.are.equal(status, r.status)
      local v = require("cjson").decode(r.body)
      assert.are.equal("FAIL", v.ActionStatus)
      assert.truthy(v.ErrorInfo:find(reason, 1, true))
      assert.are.equal(1, h.metric("imbill_callbacks_rejected_total", { reason = reason }))
    end

    local body = { CallbackCommand = "State.StateChange", Info = { Action = "Login", To_Account = "mallory" } }

    it("rejects a forged signature, counting nothing", function()
      local r = cb(PRO, "State.StateChange", body, { sign = h.http.sha256_hex("guess" .. os.time()) })
      rejected("bad_sign", 403, r)
    end)

    it("rejects a request older than the window (60 s), and one from too far ahead", function()
      local old = os.time() - 61
      rejected("stale", 403, cb(PRO, "State.StateChange", body, { request_time = old }))
      local r = cb(PRO, "State.StateChange", body, { request_time = os.time() + 3600 })
      assert.are.equal(403, r.status)
    end)

    it("rejects a request without Sign or RequestTime when the app has a token", function()
      rejected("no_sign", 403, h.callback(PRO, "State.StateChange", nil, body))
    end)

    it("refuses every callback of an app without a token, unless the app takes unsigned ones", function()
      -- nothing tells Tencent's callbacks from anyone's: a stranger's "group
      -- destroyed" would free quota, a stranger's logins would bill DAU
      local OPEN, UNSIGNED = "1400000003", "1400000009"
      local t = os.time()
      local b = { CallbackCommand = "State.StateChange", EventTime = t * 1000,
                  Info = { Action = "Login", To_Account = "stranger" } }
      rejected("no_token", 403, h.callback(OPEN, "State.StateChange", nil, b))
      assert.are.equal(403, h.callback(OPEN, "State.StateChange", "any-token", b).status)
      assert.is_nil(h.keys(OPEN)["d:" .. day_of(t) .. ":dau"])
      -- the operator said only Tencent reaches this location: counted unsigned
      assert.are.equal(200, h.callback(UNSIGNED, "State.StateChange", nil, b).status)
      eventually(function() return h.keys(UNSIGNED)["d:" .. day_of(t) .. ":dau"] == 1 end, "the login counted")
      -- the setting is a boolean, and for an app without a token only
      local config = require "imbill.gateway.config"
      require("imbill.gateway.core").init(os.getenv("IMBILL_TOP") .. "/build/jit/imbill/core.so")
      for _, c in ipairs {
        { { book = "2020", edition = "pro", unsigned_callbacks = "yes" },
          'imbill.gateway.setup: apps[1].unsigned_callbacks: expected a boolean, got "yes"' },
        { { book = "2020", edition = "pro", token = "t", unsigned_callbacks = true },
          "imbill.gateway.setup: apps[1].unsigned_callbacks: is for an app without a token; this one has one, got true" },
      } do
        local ok, e = pcall(config.check, { apps = { ["1"] = c[1] } })
        assert.is_false(ok)
        assert.are.equal(c[2], tostring(e))
      end
    end)

    it("rejects a replayed request", function()
      local opts = { request_time = os.time() }
      assert.are.equal(200, cb(PRO, "State.StateChange", body, opts).status)
      rejected("replayed", 403, cb(PRO, "State.StateChange", body, opts))
    end)

    it("rejects a body over the size bound", function()
      local big = { CallbackCommand = "State.StateChange", Info = { Action = "Login", To_Account = "x" },
                    Pad = string.rep("x", 70000) }
      rejected("too_large", 413, cb(PRO, "State.StateChange", big))
    end)

    it("rejects a malformed body: not JSON, or missing its fields", function()
      rejected("malformed", 400, cb(PRO, "State.StateChange", "{oops"))
      -- an array is no object, whatever it holds
      local ra = cb(PRO, "State.StateChange", '[{"CallbackCommand":"State.StateChange"}]')
      assert.are.equal(400, ra.status)
      local r = cb(PRO, "State.StateChange", { CallbackCommand = "State.StateChange" })
      assert.are.equal(400, r.status)
      local r2 = cb(PRO, "State.StateChange", { CallbackCommand = "Group.CallbackAfterCreateGroup",
                                                Info = { Action = "Login", To_Account = "x" } })
      assert.are.equal(400, r2.status)
    end)

    -- sns/friend_add refuses an AddType Tencent does not name (30001); the
    -- callback must not guess two-way, which could refuse a request that
    -- asks nothing of the other user's full list
    it("rejects a friend request whose AddType Tencent does not name, counting nothing", function()
      local r = cb(TRIAL, "Sns.CallbackPrevFriendAdd", { CallbackCommand = "Sns.CallbackPrevFriendAdd",
        From_Account = "b", FriendItem = { { To_Account = "c" } }, AddType = "Add_Type_Mutual" })
      rejected("malformed", 400, r)
      assert.are.same({}, h.keys(TRIAL))
      local r2 = cb(TRIAL, "Sns.CallbackPrevFriendAdd", { CallbackCommand = "Sns.CallbackPrevFriendAdd",
        From_Account = "b", FriendItem = { { To_Account = "c" } }, AddType = 1 })
      assert.are.equal(400, r2.status)
      -- JSON null is an absent AddType: two-way, as Tencent's default
      local _, v = cb(TRIAL, "Sns.CallbackPrevFriendAdd", '{"CallbackCommand":"Sns.CallbackPrevFriendAdd",'
        .. '"From_Account":"b","FriendItem":[{"To_Account":"c"}],"AddType":null}')
      assert.are.equal(0, v.ResultItem[1].ResultCode)
    end)

    it("rejects a command it does not count", function()
      rejected("unknown_command", 400, cb(PRO, "C2C.CallbackBeforeSendMsg", { CallbackCommand = "C2C.CallbackBeforeSendMsg" }))
    end)

    -- Tencent sends every callback of an app to the one URL its console
    -- names: a location that shares it with the app's own callback server
    -- (here the stub's /app/callback) sends the commands the gateway does
    -- not count there, query and body as Tencent sent them
    it("leaves the commands it does not count to the app's own callback server, where a location sends them on",
      function()
      local before = h.stub_count("callback")
      local msg = '{"CallbackCommand":"C2C.CallbackBeforeSendMsg","From_Account":"a","To_Account":"b","MsgBody":[]}'
      local path = h.http.callback_path(PRO, "C2C.CallbackBeforeSendMsg", TOKENS[PRO]):gsub("^/imbill/callback",
        "/imbill/callback-shared")
      local r = h.http.post(path, msg)
      assert.are.equal(200, r.status)
      assert.are.equal("OK", h.json(r).ActionStatus)
      assert.are.equal(before + 1, h.stub_count("callback"))
      local last = h.stub_last("callback")
      assert.are.equal(msg, last.body)
      assert.are.equal(path:match("%?(.*)$"), last.args)
      -- a command it counts is the gateway's, and counted
      local lpath = h.http.callback_path(PRO, "State.StateChange", TOKENS[PRO]):gsub("^/imbill/callback",
        "/imbill/callback-shared")
      local t = os.time()
      local rl = h.http.post(lpath, require("cjson").encode { CallbackCommand = "State.StateChange", EventTime = t * 1000,
        Info = { Action = "Login", To_Account = "shared" } })
      assert.are.equal(200, rl.status)
      assert.are.equal(before + 1, h.stub_count("callback"))
      assert.are.equal(1, h.keys(PRO)["d:" .. day_of(t) .. ":dau"])
    end)

    it("rejects a request for another app", function()
      rejected("wrong_app", 403, h.callback("1999999999", "State.StateChange", "x", body))
    end)

    it("counted nothing for any rejected request", function()
      cb(PRO, "State.StateChange", body, { sign = string.rep("0", 64) })
      cb(PRO, "State.StateChange", body, { request_time = os.time() - 600 })
      cb(PRO, "Group.CallbackAfterCreateGroup", { CallbackCommand = "Group.CallbackAfterCreateGroup",
        GroupId = "g", Type = "Public" }, { sign = string.rep("a", 64) })
      assert.are.same({}, h.keys(PRO))
    end)

    it("answers well within Tencent's 2 seconds", function()
      local socket = require "socket"
      local t0 = socket.gettime()
      for i = 1, 20 do login(PRO, "u" .. i, os.time() * 1000) end
      assert.is_true((socket.gettime() - t0) / 20 < 0.2)
    end)
  end)

  describe("logins", function()
    it("count each user once a day into DAU and once a month into MAU, and are never refused", function()
      local t = MARCH1 + 3600
      for i = 1, 3 do
        local r, v = login(PRO, "u1", t * 1000 + i)
        assert.are.equal(200, r.status)
        assert.are.same({ ActionStatus = "OK", ErrorCode = 0, ErrorInfo = "" }, v)
      end
      login(PRO, "u2", tostring(t * 1000)) -- EventTime as a string
      login(PRO, "u1", (t + 86400) * 1000)
      cb(PRO, "State.StateChange", { CallbackCommand = "State.StateChange", EventTime = t * 1000,
        Info = { Action = "Logout", To_Account = "u3" } })
      local k = h.keys(PRO)
      assert.are.equal(2, k["d:" .. day_of(t) .. ":dau"])
      assert.are.equal(1, k["d:" .. day_of(t + 86400) .. ":dau"])
      assert.are.equal(2, k["m:" .. (2021 * 12 + 2) .. ":mau"])
    end)

    it("count a login whose EventTime is no time (not a number, 0) at the time it arrives, and none past the calendar",
      function()
      local labels = { app = PRO, action = "login", reason = "unplanned" }
      local before = h.metric("imbill_not_counted_total", labels) or 0
      for i, t in ipairs { "soon", 0, -5 } do login(PRO, "odd" .. i, t) end
      -- past 2^53 as a double too: refused by the calendar, not by an undefined conversion
      login(PRO, "far1", 1e300)
      login(PRO, "far2", "99999999999999999999")
      local days = 0
      for k, v in pairs(h.keys(PRO)) do
        if k:match("^d:%d+:dau$") then
          days = days + 1
          assert.are.equal(3, v)
          assert.are.equal(day_of(os.time()), tonumber(k:match("^d:(%d+)")))
        end
      end
      assert.are.equal(1, days)
      assert.are.equal(before + 2, h.metric("imbill_not_counted_total", labels))
    end)

    it("count a login in the app's time zone", function()
      -- 2021-02-28 23:30 +08:00 is February there, though it is the 28th in UTC too
      login(PRO, "late", (MARCH1 - 1800) * 1000)
      assert.are.equal(1, h.keys(PRO)["m:" .. (2021 * 12 + 1) .. ":mau"])
    end)
  end)

  describe("before callbacks", function()
    local function create_before(app, body, opts)
      body.CallbackCommand = "Group.CallbackBeforeCreateGroup"
      return cb(app, "Group.CallbackBeforeCreateGroup", body, opts)
    end

    local function create_after(app, gid, body, t_ms)
      body.CallbackCommand = "Group.CallbackAfterCreateGroup"
      body.GroupId = gid
      body.EventTime = t_ms
      return cb(app, "Group.CallbackAfterCreateGroup", body)
    end

    it("refuse AVChatRoom 51 on pro with the operator's code and Tencent's code in ErrorInfo", function()
      for i = 1, 50 do
        local _, v = create_after(PRO, "av" .. i, { Type = "AVChatRoom", Owner_Account = "o" }, nil)
        assert.are.equal(0, v.ErrorCode)
      end
      local r, v = create_before(PRO, { Type = "AVChatRoom", Owner_Account = "o", Name = "room" })
      assert.are.equal(200, r.status)
      assert.are.equal("OK", v.ActionStatus)
      assert.are.equal(10150, v.ErrorCode) -- configured
      assert.truthy(v.ErrorInfo:find("av_groups limit", 1, true))
      assert.truthy(v.ErrorInfo:find("Tencent's code 10036", 1, true))
    end)

    it("refuse with default codes from Tencent's range: groups (10058), members (10038)", function()
      for i = 1, 100 do create_after(TRIAL, "g" .. i, { Type = "Public" }) end
      local _, v = create_before(TRIAL, { Type = "Public", Name = "x" })
      assert.are.equal(10106, v.ErrorCode)
      assert.truthy(v.ErrorInfo:find("Tencent's code 10058", 1, true))
      h.flush()
      local members = {}
      for i = 1, 21 do members[i] = { Member_Account = "m" .. i } end
      local _, w = create_before(TRIAL, { Type = "Public", Name = "y", MemberList = members })
      assert.are.equal(10104, w.ErrorCode)
      assert.truthy(w.ErrorInfo:find("members_per_group limit", 1, true))
      assert.truthy(w.ErrorInfo:find("Tencent's code 10038", 1, true))
    end)

    it("refuse with the code of each limit: daily net (10006), feature (10059), groups per user (10037), BChatRoom",
      function()
      local DEV = "1400000005"
      TOKENS[DEV] = "spec-token-dev"
      -- 2022 developer: 100 net groups a day, 10 AVChatRoom, 100 others
      for i = 1, 10 do create_after(DEV, "a" .. i, { Type = "AVChatRoom" }) end
      for i = 1, 90 do create_after(DEV, "p" .. i, { Type = "Public" }) end
      local _, v = create_before(DEV, { Type = "Public", Name = "x" })
      assert.are.equal(10107, v.ErrorCode) -- 10100 + the core's number for daily_net_groups
      assert.truthy(v.ErrorInfo:find("daily_net_groups limit", 1, true))
      assert.truthy(v.ErrorInfo:find("Tencent's code 10006", 1, true))
      -- Community on an edition without the feature
      local _, w = create_before(TRIAL, { Type = "Community", Name = "c" })
      assert.are.equal(10113, w.ErrorCode)
      assert.truthy(w.ErrorInfo:find("feature community", 1, true))
      assert.truthy(w.ErrorInfo:find("Tencent's code 10059", 1, true))
      -- an owner in 50 groups on the trial edition
      for i = 1, 50 do create_after(TRIAL, "o" .. i, { Type = "Public", Owner_Account = "boss" }) end
      local _, x = create_before(TRIAL, { Type = "Public", Owner_Account = "boss", Name = "one more" })
      assert.are.equal(10103, x.ErrorCode)
      assert.truthy(x.ErrorInfo:find("Tencent's code 10037", 1, true))
      -- BChatRoom: 5 at a time
      for i = 1, 5 do create_after(PRO, "b" .. i, { Type = "BChatRoom" }) end
      local _, y = create_before(PRO, { Type = "BChatRoom", Name = "b" })
      assert.are.equal(10109, y.ErrorCode)
      assert.truthy(y.ErrorInfo:find("Tencent's code 10036", 1, true))
    end)

    it("reserve an approved group until the after callback names it", function()
      local _, v = create_before(TRIAL, { Type = "Public", Owner_Account = "o", Name = "team" })
      assert.are.equal(0, v.ErrorCode)
      assert.are.equal(1, h.keys(TRIAL)["c:groups"])
      create_after(TRIAL, "@TGS#real", { Type = "Public", Owner_Account = "o", Name = "team" }, os.time() * 1000)
      local k = h.keys(TRIAL)
      assert.are.equal(1, k["c:groups"])
      assert.is_truthy(k["g:9:@TGS#real"])
      assert.are.equal("@TGS#real", k["uj:1:o@1"])
      h.sleep(2.2)
      h.sweep()
      assert.are.equal(1, h.keys(TRIAL)["c:groups"])
      assert.are.equal(1, h.metric("imbill_reservations_confirmed_total", { app = TRIAL }))
    end)

    it("confirm an approval only by the same owner, type and name, whatever bytes the ids hold", function()
      -- the match joined its parts with NUL: owner "x\0Public" with Name "n" and owner "x" with
      -- Name "Public\0n" were one match, so this after callback confirmed the other's approval
      local _, v = create_before(TRIAL, { Type = "Public", Owner_Account = "x\0Public", Name = "n" })
      assert.are.equal(0, v.ErrorCode)
      local before = h.metric("imbill_reservations_confirmed_total", { app = TRIAL }) or 0
      create_after(TRIAL, "@TGS#other", { Type = "Public", Owner_Account = "x", Name = "Public\0n" },
        os.time() * 1000)
      assert.are.equal(before, h.metric("imbill_reservations_confirmed_total", { app = TRIAL }) or 0)
      -- the approval is still reserved, and the other group counted on its own
      assert.are.equal(2, h.keys(TRIAL)["c:groups"])
    end)

    it("take back an approval nobody confirmed in time", function()
      create_before(TRIAL, { Type = "Public", Owner_Account = "o", Name = "ghost" })
      local _, v = cb(TRIAL, "Group.CallbackBeforeApplyJoinGroup", { CallbackCommand = "Group.CallbackBeforeApplyJoinGroup",
        GroupId = "known", Type = "Public", Requestor_Account = "r" })
      assert.are.equal(0, v.ErrorCode) -- a group the store never saw: allowed, nothing reserved
      assert.are.equal(1, h.keys(TRIAL)["c:groups"])
      h.sleep(2.2)
      eventually(function()
        h.http.post("/t/sweep", "")
        return h.keys(TRIAL)["c:groups"] == nil
      end, "the approval expired")
      local k = h.keys(TRIAL)
      assert.is_nil(k["uj:1:o#"])
      assert.are.equal(1, h.metric("imbill_reservations_expired_total", { app = TRIAL }))
    end)

    it("take back an approval whose sweep was killed while it waited for the app's lock", function()
      local socket = require "socket"
      create_before(TRIAL, { Type = "Public", Owner_Account = "o", Name = "orphan" })
      -- the app's lock is held (a stalled batch) from before the approval is
      -- due until after the sweep due to take it back is killed waiting for it
      local done, hold = h.hold(TRIAL, 8000)
      local t_hold = socket.gettime()
      local k = h.keys(TRIAL)
      assert.are.equal(1, k["c:groups"], "a sweep took the approval back before the lock was held")
      local deadline
      for name, v in pairs(k) do
        if name:match("^r:") then deadline = cjson.decode(v).dl end
      end
      assert.is_number(deadline)
      while socket.gettime() <= deadline + 0.01 do h.sleep(0.02) end
      local function sweeper() return h.json(h.http.get("/t/sweeper")).sweeper end
      -- every sweep from now on finds the approval due and waits (0.5 s) for
      -- the lock; its worker is killed.  One that gave up before the signal
      -- landed lost only an idle worker: the next sweep is killed instead.
      local killed
      while not killed and socket.gettime() < t_hold + 6 do
        assert.are.equal("held", h.lock(TRIAL, hold).hold)
        local pid
        h.eventually(function()
          pid = sweeper()
          return pid ~= nil
        end, "a sweep", 3)
        local ok = os.execute("kill -9 " .. math.floor(pid))
        assert.is_true(ok == true or ok == 0)
        -- the sweep's mark stays until it lapses: no worker ended that sweep
        if sweeper() == pid then killed = pid end
      end
      assert.is_truthy(killed, "no sweep was killed while it waited for the lock")
      assert.are.equal("held", h.lock(TRIAL, hold).hold)
      assert.are.equal(1, h.keys(TRIAL)["c:groups"])
      pcall(done) -- the hold may have been in a killed worker
      -- the killed worker's marks and locks lapse (10 s at most); a sweep
      -- then takes the approval back
      h.eventually(function()
        h.http.post("/t/sweep", "")
        return h.keys(TRIAL)["c:groups"] == nil
      end, "the approval taken back", 30)
      assert.are.equal(1, h.metric("imbill_reservations_expired_total", { app = TRIAL }))
    end)

    it("refuse a join to a full group (1, naming 10014) and reserve an approved one", function()
      local members = {}
      for i = 1, 19 do members[i] = { Member_Account = "m" .. i } end
      create_after(TRIAL, "g", { Type = "Public", MemberList = members })
      local function apply(u)
        return cb(TRIAL, "Group.CallbackBeforeApplyJoinGroup", { CallbackCommand = "Group.CallbackBeforeApplyJoinGroup",
          GroupId = "g", Type = "Public", Requestor_Account = u })
      end
      local _, ok = apply("last")
      assert.are.equal(0, ok.ErrorCode)
      local _, full = apply("late")
      assert.are.equal(1, full.ErrorCode)
      assert.truthy(full.ErrorInfo:find("Tencent's code 10014", 1, true))
      -- the approved join is confirmed by its after callback and outlives the deadline
      cb(TRIAL, "Group.CallbackAfterNewMemberJoin", { CallbackCommand = "Group.CallbackAfterNewMemberJoin",
        GroupId = "g", Type = "Public", JoinType = "Apply", NewMemberList = { { Member_Account = "last" } } })
      h.sleep(2.2)
      h.sweep()
      assert.are.equal(20, h.keys(TRIAL)["gm:1:g#"])
    end)

    it("refuse invitees over the limit by name, and all of them with a code", function()
      local members = {}
      for i = 1, 18 do members[i] = { Member_Account = "m" .. i } end
      create_after(TRIAL, "g", { Type = "Public", MemberList = members })
      local function invite(list)
        local d = {}
        for i, u in ipairs(list) do d[i] = { Member_Account = u } end
        return cb(TRIAL, "Group.CallbackBeforeInviteJoinGroup", { CallbackCommand = "Group.CallbackBeforeInviteJoinGroup",
          GroupId = "g", Type = "Public", Operator_Account = "m1", DestinationMembers = d })
      end
      local _, v = invite { "a", "b", "c" }
      assert.are.equal(0, v.ErrorCode)
      assert.are.same({ "c" }, v.RefusedMembers_Account)
      local _, w = invite { "d" }
      assert.are.equal(10104, w.ErrorCode)
      assert.are.same({ "d" }, w.RefusedMembers_Account)
      assert.truthy(w.ErrorInfo:find("Tencent's code 10014", 1, true))
    end)

    it("refuse friend requests item by item with codes from 38000-39000", function()
      local pairs_ = {}
      for i = 1, 20 do pairs_[i] = { From_Account = "a", To_Account = "f" .. i } end
      cb(TRIAL, "Sns.CallbackFriendAdd", { CallbackCommand = "Sns.CallbackFriendAdd", PairList = pairs_ })
      local _, v = cb(TRIAL, "Sns.CallbackPrevFriendAdd", { CallbackCommand = "Sns.CallbackPrevFriendAdd",
        From_Account = "b", FriendItem = { { To_Account = "c" }, { To_Account = "a" } }, AddType = "Add_Type_Both" })
      assert.are.equal(0, v.ErrorCode)
      assert.are.equal(0, v.ResultItem[1].ResultCode)
      assert.are.equal(38002, v.ResultItem[2].ResultCode)
      assert.truthy(v.ResultItem[2].ResultInfo:find("Tencent's code 30014", 1, true))
      -- one way (Add_Type_Single), a's full list is not asked
      local _, single = cb(TRIAL, "Sns.CallbackPrevFriendAdd", { CallbackCommand = "Sns.CallbackPrevFriendAdd",
        From_Account = "e", FriendItem = { { To_Account = "a" } }, AddType = "Add_Type_Single" })
      assert.are.equal(0, single.ResultItem[1].ResultCode)
      assert.are.same({ 1, 20 }, { h.keys(TRIAL)["uf:1:e#"], h.keys(TRIAL)["uf:1:a#"] })
      -- the requester's own full list: 30010
      local _, own = cb(TRIAL, "Sns.CallbackPrevFriendAdd", { CallbackCommand = "Sns.CallbackPrevFriendAdd",
        From_Account = "a", FriendItem = { { To_Account = "z" } } })
      assert.are.equal(38002, own.ResultItem[1].ResultCode)
      assert.truthy(own.ResultItem[1].ResultInfo:find("Tencent's code 30010", 1, true))
      -- the operator's own code on pro
      local _, w = cb(PRO, "Sns.CallbackPrevFriendAdd", { CallbackCommand = "Sns.CallbackPrevFriendAdd",
        From_Account = "b", FriendItem = { { To_Account = "c" } } })
      assert.are.equal(0, w.ResultItem[1].ResultCode)
      -- the approved b-c friendship waits for Sns.CallbackFriendAdd: confirmed, it stays
      cb(TRIAL, "Sns.CallbackFriendAdd", { CallbackCommand = "Sns.CallbackFriendAdd",
        PairList = { { From_Account = "c", To_Account = "b" }, { From_Account = "b", To_Account = "c" } } })
      h.sleep(2.2)
      h.sweep()
      assert.are.equal(1, h.keys(TRIAL)["uf:1:b#"])
    end)

    it("allow a create Tencent reports from the REST API without reserving again", function()
      local _, v = create_before(TRIAL, { Type = "Public", Name = "via-rest" }, { platform = "RESTAPI" })
      assert.are.equal(0, v.ErrorCode)
      assert.are.same({}, h.keys(TRIAL))
    end)
  end)

  describe("after callbacks", function()
    it("count a retried event once", function()
      local body = { CallbackCommand = "Group.CallbackAfterNewMemberJoin", GroupId = "g", Type = "Public",
                     JoinType = "Invited", EventTime = 1614560000123, NewMemberList = { { Member_Account = "u" } } }
      cb(TRIAL, "Group.CallbackAfterCreateGroup", { CallbackCommand = "Group.CallbackAfterCreateGroup",
        GroupId = "g", Type = "Public", EventTime = 1614560000000 })
      -- the retry's request time is another second than the first's, whenever
      -- it is sent (os.time() - 1 then was the first's when a second began
      -- between them: the same request, refused as replayed, not counted)
      local sent = os.time()
      cb(TRIAL, "Group.CallbackAfterNewMemberJoin", body, { request_time = sent })
      cb(TRIAL, "Group.CallbackAfterMemberExit", { CallbackCommand = "Group.CallbackAfterMemberExit", GroupId = "g",
        Type = "Public", ExitType = "Quit", EventTime = 1614560001000, ExitMemberList = { { Member_Account = "u" } } })
      -- Tencent retries the join (a new request, the same event): not counted again
      local r = cb(TRIAL, "Group.CallbackAfterNewMemberJoin", body, { request_time = sent - 1 })
      assert.are.equal(200, r.status)
      assert.is_nil(h.keys(TRIAL)["gm:1:g#"])
      assert.are.equal(1, h.metric("imbill_duplicates_total", { app = TRIAL, action = "Group.CallbackAfterNewMemberJoin" }))
    end)

    -- Tencent retries an after callback whose answer it did not get in time:
    -- the retry of a create the store had in place already (counted through
    -- REST, or an approval the first delivery confirmed) must not create the
    -- group again once it is disbanded
    it("count a retried create once when the group was in place, even after it was disbanded", function()
      local function retried(ev, between)
        local sent = os.time()
        cb(TRIAL, "Group.CallbackAfterCreateGroup", ev, { request_time = sent })
        between()
        local r = cb(TRIAL, "Group.CallbackAfterCreateGroup", ev, { request_time = sent - 1 })
        assert.are.equal(200, r.status)
        local k = h.keys(TRIAL)
        assert.is_nil(k["c:groups"], ev.GroupId)
        assert.is_nil(k["uj:1:o#"], ev.GroupId)
      end
      -- counted through REST, disbanded through REST
      h.rest("group_open_http_svc/create_group", TRIAL, { Type = "Public", GroupId = "g1", Owner_Account = "o" })
      retried({ CallbackCommand = "Group.CallbackAfterCreateGroup", GroupId = "g1", Type = "Public",
                Owner_Account = "o", EventTime = os.time() * 1000 }, function()
        h.rest("group_open_http_svc/destroy_group", TRIAL, { GroupId = "g1" })
        eventually(function() return h.keys(TRIAL)["c:groups"] == nil end, "g1 disbanded")
      end)
      -- approved by the before callback, confirmed by the first delivery
      cb(TRIAL, "Group.CallbackBeforeCreateGroup", { CallbackCommand = "Group.CallbackBeforeCreateGroup",
        Type = "Public", Name = "sdk", Owner_Account = "o", Operator_Account = "o" })
      retried({ CallbackCommand = "Group.CallbackAfterCreateGroup", GroupId = "g2", Type = "Public", Name = "sdk",
                Owner_Account = "o", Operator_Account = "o", EventTime = os.time() * 1000 + 1 }, function()
        assert.are.equal(1, h.keys(TRIAL)["c:groups"])
        cb(TRIAL, "Group.CallbackAfterGroupDestroyed", { CallbackCommand = "Group.CallbackAfterGroupDestroyed",
          GroupId = "g2", Type = "Public", EventTime = os.time() * 1000 + 2 })
      end)
      assert.are.equal(2, h.metric("imbill_duplicates_total", { app = TRIAL, action = "Group.CallbackAfterCreateGroup" }))
    end)

    it("count a member who left and joined again when EventTime is no time (0, null, text): no event id then",
      function()
      cb(TRIAL, "Group.CallbackAfterCreateGroup", { CallbackCommand = "Group.CallbackAfterCreateGroup",
        GroupId = "g", Type = "Public", EventTime = os.time() * 1000 })
      for _, t in ipairs { 0, cjson.null, "soon", "" } do
        local join = { CallbackCommand = "Group.CallbackAfterNewMemberJoin", GroupId = "g", Type = "Public",
                       JoinType = "Apply", EventTime = t, NewMemberList = { { Member_Account = "u" } } }
        local exit = { CallbackCommand = "Group.CallbackAfterMemberExit", GroupId = "g", Type = "Public",
                       ExitType = "Quit", EventTime = t, ExitMemberList = { { Member_Account = "u" } } }
        local now = os.time()
        cb(TRIAL, "Group.CallbackAfterNewMemberJoin", join, { request_time = now })
        assert.are.equal(1, h.keys(TRIAL)["uj:1:u#"], tostring(t))
        cb(TRIAL, "Group.CallbackAfterMemberExit", exit, { request_time = now })
        assert.is_nil(h.keys(TRIAL)["uj:1:u#"], tostring(t))
        -- joined again: a new event, not a retry of the first
        cb(TRIAL, "Group.CallbackAfterNewMemberJoin", join, { request_time = now - 1 })
        assert.are.equal(1, h.keys(TRIAL)["uj:1:u#"], tostring(t))
        cb(TRIAL, "Group.CallbackAfterMemberExit", exit, { request_time = now - 1 })
      end
      assert.is_nil(h.metric("imbill_duplicates_total", { app = TRIAL, action = "Group.CallbackAfterNewMemberJoin" }))
    end)

    it("count an action once when both the REST answer and the callback report it", function()
      h.rest("group_open_http_svc/create_group", TRIAL, { Type = "Public", GroupId = "g", Owner_Account = "o" })
      cb(TRIAL, "Group.CallbackAfterCreateGroup", { CallbackCommand = "Group.CallbackAfterCreateGroup",
        GroupId = "g", Type = "Public", Owner_Account = "o", EventTime = os.time() * 1000 })
      h.rest("group_open_http_svc/add_group_member", TRIAL, { GroupId = "g", MemberList = { { Member_Account = "m" } } })
      cb(TRIAL, "Group.CallbackAfterNewMemberJoin", { CallbackCommand = "Group.CallbackAfterNewMemberJoin",
        GroupId = "g", Type = "Public", EventTime = os.time() * 1000, NewMemberList = { { Member_Account = "m" } } })
      local k = h.keys(TRIAL)
      assert.are.equal(1, k["c:groups"])
      assert.are.equal(2, k["gm:1:g#"])
      h.rest("group_open_http_svc/destroy_group", TRIAL, { GroupId = "g" })
      eventually(function() return h.keys(TRIAL)["c:groups"] == nil end, "disband applied")
      cb(TRIAL, "Group.CallbackAfterGroupDestroyed", { CallbackCommand = "Group.CallbackAfterGroupDestroyed",
        GroupId = "g", Type = "Public", EventTime = os.time() * 1000 })
      local k2 = h.keys(TRIAL)
      assert.is_nil(k2["c:groups"])
      assert.are.equal(0, k2["d:" .. day_of(os.time()) .. ":day_net"] or 0)
    end)

    it("count SDK friends and their removal, each pair one direction", function()
      -- a pair is From_Account's list gaining (losing) To_Account; a two-way
      -- change sends both pairs
      cb(TRIAL, "Sns.CallbackFriendAdd", { CallbackCommand = "Sns.CallbackFriendAdd",
        PairList = { { From_Account = "a", To_Account = "b", Initiator_Account = "a" } } })
      local k = h.keys(TRIAL)
      assert.are.same({ 1 }, { k["uf:1:a#"], k["uf:1:b#"] })
      cb(TRIAL, "Sns.CallbackFriendAdd", { CallbackCommand = "Sns.CallbackFriendAdd",
        PairList = { { From_Account = "c", To_Account = "d", Initiator_Account = "c" },
                     { From_Account = "d", To_Account = "c", Initiator_Account = "c" } } })
      k = h.keys(TRIAL)
      assert.are.same({ 1, 1 }, { k["uf:1:c#"], k["uf:1:d#"] })
      cb(TRIAL, "Sns.CallbackFriendDelete", { CallbackCommand = "Sns.CallbackFriendDelete",
        PairList = { { From_Account = "b", To_Account = "a" } } })
      assert.are.equal(1, h.keys(TRIAL)["uf:1:a#"]) -- b never listed a
      cb(TRIAL, "Sns.CallbackFriendDelete", { CallbackCommand = "Sns.CallbackFriendDelete",
        PairList = { { From_Account = "a", To_Account = "b" }, { From_Account = "d", To_Account = "c" } } })
      k = h.keys(TRIAL)
      assert.are.same({ nil, 1, nil }, { k["uf:1:a#"], k["uf:1:c#"], k["uf:1:d#"] }) -- c still lists d
    end)
  end)
end)
