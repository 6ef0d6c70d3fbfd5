-- A client reads Tencent's answer and sends its next call at once.  What
-- the first answer settles (a shrink Tencent did, a reservation Tencent
-- failed) must be counted before the next call is decided, on whichever
-- worker it lands, even when the settlement found the app's lock busy and
-- had to wait: otherwise the next call is decided against counts Tencent
-- no longer has, and the late settlement leaves them wrong for good.
local h = require "ngx_helper"
local cjson = require "cjson"

local TRIAL = "1400000002"

local function friends(u) return h.keys(TRIAL)["uf:" .. #u .. ":" .. u .. "#"] or 0 end
local function accounts() return h.keys(TRIAL)["c:accounts"] or 0 end
local function deferred() return h.metric("imbill_settlements_deferred_total", { app = TRIAL }) or 0 end

-- The hold ended (done, h.hold's) and every settlement run: a and b each
-- count `n` friends, and one settlement went through the deferred list.
local function settled_after_hold(done, n)
  done()
  h.settled()
  assert.are.equal(n, friends("a"))
  assert.are.equal(n, friends("b"))
  assert.are.equal(1, deferred())
end

describe("a call made right after Tencent's answer", function()
  before_each(h.flush)

  it("finds a friend delete settled: deleted and added again, the pair counts as friends", function()
    local _, v = h.rest("sns/friend_add", TRIAL, { From_Account = "a", AddFriendItem = { { To_Account = "b" } } })
    assert.are.equal(0, v.ResultItem[1].ResultCode)
    h.settled()
    assert.are.equal(1, friends("a"))
    -- the lock is busy while the delete's answer passes: its settlement waits
    -- (held for less than lock_wait, 0.5 s, so the add below waits it out)
    local done = h.hold(TRIAL, 300)
    local _, d = h.rest("sns/friend_delete", TRIAL, { From_Account = "a", To_Account = { "b" },
                                                      DeleteType = "Delete_Type_Both" })
    assert.are.equal(0, d.ResultItem[1].ResultCode)
    -- decided once the lock is free, after the delete it must see
    local _, w = h.rest("sns/friend_add", TRIAL, { From_Account = "a", AddFriendItem = { { To_Account = "b" } } })
    assert.are.equal(0, w.ResultItem[1].ResultCode)
    settled_after_hold(done, 1)
  end)

  it("finds a failed import's reservation given back: the import tried again is counted", function()
    -- b's import is reserved, and Tencent's FAIL comes back while the lock is busy
    local answer = h.http.started("POST", h.http.rest_path("im_open_login_svc/account_import", TRIAL),
      cjson.encode { UserID = "b" }, { ["X-Stub-Fail"] = "70169", ["X-Stub-Delay"] = "0.3" })
    h.eventually(function() return accounts() == 1 end, "b's import reserved")
    local done = h.hold(TRIAL, 400)
    assert.are.equal("FAIL", cjson.decode(answer().body).ActionStatus)
    local _, v = h.rest("im_open_login_svc/account_import", TRIAL, { UserID = "b" })
    assert.are.equal("OK", v.ActionStatus)
    done()
    h.settled()
    assert.are.equal(1, accounts())
    assert.are.equal(1, deferred())
    assert.are.equal(1, h.metric("imbill_reservations_released_total", { app = TRIAL, via = "rest" }))
  end)

  -- A group created without a GroupId whose answer names none is reserved
  -- for Tencent's after-create callback to name it; the settlement that
  -- writes its record (the applied steps, the match the callback must meet)
  -- goes through the deferred list whole.
  it("keeps a new group's reservation deferred behind a busy lock, and its after-create callback confirms it",
    function()
    local answer = h.http.started("POST", h.http.rest_path("group_open_http_svc/create_group", TRIAL),
      cjson.encode { Type = "Public", Owner_Account = "o", Name = "late" },
      { ["X-Stub-Body"] = '{"ActionStatus":"OK","ErrorCode":0}', ["X-Stub-Delay"] = "0.3" })
    h.eventually(function() return h.keys(TRIAL)["c:groups"] == 1 end, "the group reserved")
    local done = h.hold(TRIAL, 400)
    assert.are.equal(200, answer().status)
    done()
    h.settled()
    assert.are.equal(1, deferred())
    assert.are.equal(1, h.metric("imbill_reservations_total", { app = TRIAL, via = "rest" }))
    local _, v = h.callback(TRIAL, "Group.CallbackAfterCreateGroup", "spec-token-trial", {
      CallbackCommand = "Group.CallbackAfterCreateGroup", GroupId = "@TGS#late", EventTime = os.time() * 1000,
      Type = "Public", Owner_Account = "o", Operator_Account = "admin", Name = "late" })
    assert.are.equal(0, v.ErrorCode)
    local k = h.keys(TRIAL)
    assert.are.equal(1, k["c:groups"])
    assert.are.equal("@TGS#late", k["uj:1:o@1"])
    assert.are.equal(1, h.metric("imbill_reservations_confirmed_total", { app = TRIAL }))
  end)

  -- a and b made friends, then the app's lock held for 300 ms while their
  -- friendship's delete is answered, so its settlement is deferred; returns
  -- the hold's end (h.hold)
  local function delete_behind_a_hold()
    h.rest("sns/friend_add", TRIAL, { From_Account = "a", AddFriendItem = { { To_Account = "b" } } })
    h.settled()
    local done = h.hold(TRIAL, 300)
    h.rest("sns/friend_delete", TRIAL, { From_Account = "a", To_Account = { "b" }, DeleteType = "Delete_Type_Both" })
    return done
  end

  it("is applied by the next holder of the lock even when no other call of the app comes", function()
    local done = delete_behind_a_hold()
    assert.are.equal(1, friends("a"))
    settled_after_hold(done, 0)
  end)

  -- Each batch looks at a flag, not at the list itself (store.lua); a
  -- settlement deferred without its flag (a full meta dict) is still applied
  -- by the drain job its deferral queued.
  local function flag(clear)
    return h.json(h.http.get("/t/deferflag?app=" .. TRIAL .. (clear and "&clear=1" or ""))).flagged
  end

  it("flags the list for the next holder, who clears the flag as it applies the list", function()
    assert.is_false(flag())
    local done = delete_behind_a_hold()
    assert.is_true(flag())
    done()
    h.settled()
    assert.is_false(flag())
    assert.are.equal(0, friends("a"))
  end)

  it("applies a deferred settlement whose flag is gone: the drain its deferral queued looks at the list", function()
    local done = delete_behind_a_hold()
    assert.is_true(flag(true))
    assert.is_false(flag())
    settled_after_hold(done, 0)
  end)
end)
