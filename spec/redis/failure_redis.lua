-- Redis fails under the gateway: killed in the middle of a load and
-- restarted, or slowed down.  Each app's policy holds ("closed" refuses
-- capped calls with the store's code, "open" lets them through), a "before"
-- callback is answered within Tencent's 2 seconds, and once Redis is back
-- every call answered as allowed is counted exactly once and nothing
-- refused is counted.
local h = require "rs_helper"
local cjson = h.cjson
local imbill = require "imbill"

local CLOSED_PRO, CLOSED_TRIAL, OPEN_PRO, OPEN_TRIAL = "1400000001", "1400000002", "1400000003", "1400000013"

local function tally(answers)
  local t = { ok = 0, codes = {}, slowest = 0 }
  for _, r in ipairs(answers) do
    local ok, v = pcall(cjson.decode, r.body)
    if ok and v.ActionStatus == "OK" and (v.ErrorCode == 0 or v.ErrorCode == nil) then t.ok = t.ok + 1
    elseif ok then t.codes[v.ErrorCode] = (t.codes[v.ErrorCode] or 0) + 1
    else t.codes.bad = (t.codes.bad or 0) + 1 end
    if r.took > t.slowest then t.slowest = r.took end
  end
  return t
end

local function show(t)
  local o = {}
  for k, v in pairs(t.codes) do o[#o + 1] = tostring(k) .. "=" .. v end
  return t.ok .. " allowed, " .. table.concat(o, " ") .. string.format(", slowest %.2f s", t.slowest)
end

local function wave(app, cmd, body_of, n, tag)
  local reqs = {}
  for i = 1, n do
    reqs[i] = { i % 2 + 1, "POST", h.rest_path(cmd, app), cjson.encode(body_of(tag .. i)) }
  end
  return h.concurrent(reqs)
end

local function av(id) return { Type = "AVChatRoom", GroupId = id, Owner_Account = "o" .. id } end
local function account(id) return { UserID = id } end

-- Runs waves of calls while Redis is killed and restarted under them.
local function under_a_restart(app, cmd, body_of, waves, per_wave)
  local finished = h.ctl_later(0.3, "restart", "single", 0.8)
  local answers = {}
  for w = 1, waves do
    for _, r in ipairs(wave(app, cmd, body_of, per_wave, "w" .. w .. "-")) do answers[#answers + 1] = r end
    h.sleep(0.15)
  end
  h.wait(finished, 15, "Redis to restart")
  h.wait(function() return h.rcall(nil, "PING") == "PONG" end, 10, "Redis")
  -- every node's journal replayed, every settlement done
  h.settle(30)
  return tally(answers)
end

describe("when Redis fails under the gateway", function()
  before_each(h.reset)

  it("an app that fails closed refuses capped calls while Redis is away and counts exactly what it allowed", function()
    local before = h.stub_count("create_group")
    local t = under_a_restart(CLOSED_PRO, "group_open_http_svc/create_group", av, 10, 20)
    io.stderr:write("closed, AV rooms: ", show(t), "\n")
    assert.is_true((t.codes[10002] or 0) > 0, "Redis was never seen away: " .. show(t))
    assert.are.equal(t.ok, h.count(nil, h.key(CLOSED_PRO, "c:groups_of:AVChatRoom")))
    assert.are.equal(t.ok, h.stub_count("create_group") - before)
    assert.is_true(t.ok <= 50)
    assert.are.equal(10 * 20, t.ok + (t.codes[10036] or 0) + (t.codes[10002] or 0))
    assert.is_true(h.metric_sum("imbill_redis_failures_total", { app = CLOSED_PRO, policy = "closed" }) > 0)
  end)

  it("an app that fails closed counts trial accounts exactly across a restart", function()
    local before = h.stub_count("account_import")
    local t = under_a_restart(CLOSED_TRIAL, "im_open_login_svc/account_import", account, 10, 30)
    io.stderr:write("closed, trial accounts: ", show(t), "\n")
    assert.is_true((t.codes[70500] or 0) > 0, "Redis was never seen away: " .. show(t))
    assert.are.equal(t.ok, h.count(nil, h.key(CLOSED_TRIAL, "c:accounts")))
    assert.are.equal(t.ok, h.stub_count("account_import") - before)
    assert.is_true(t.ok <= 100)
  end)

  it("an app that fails open lets calls through while Redis is away and counts every one once when it is back", function()
    local before = h.stub_count("create_group")
    local t = under_a_restart(OPEN_PRO, "group_open_http_svc/create_group", av, 10, 20)
    io.stderr:write("open, AV rooms: ", show(t), "\n")
    assert.is_nil(t.codes[10002])
    assert.are.equal(t.ok, h.stub_count("create_group") - before)
    -- what was allowed is counted, even past the cap it could not check
    h.wait(function()
      return h.count(nil, h.key(OPEN_PRO, "c:groups_of:AVChatRoom")) == t.ok
    end, 20, "the journal to count what was allowed")
    assert.is_true(t.ok >= 50)
    assert.are.equal(10 * 20, t.ok + (t.codes[10036] or 0))
    assert.is_true(h.metric_sum("imbill_redis_failures_total", { app = OPEN_PRO, policy = "open" }) > 0)
  end)

  it("an app that fails open counts trial accounts it let through, once each", function()
    local before = h.stub_count("account_import")
    local t = under_a_restart(OPEN_TRIAL, "im_open_login_svc/account_import", account, 10, 30)
    io.stderr:write("open, trial accounts: ", show(t), "\n")
    assert.are.equal(t.ok, h.stub_count("account_import") - before)
    h.wait(function()
      return h.count(nil, h.key(OPEN_TRIAL, "c:accounts")) == t.ok
    end, 20, "the journal to count what was allowed")
    assert.are.equal(300, t.ok + (t.codes[70398] or 0))
  end)

  it("answers before callbacks within 2 s while Redis sleeps, by each app's policy, and takes back late approvals",
    function()
      h.background("redis-cli -p " .. h.redis_port .. " DEBUG SLEEP 3")
      h.asleep()
      local reqs = {}
      for i = 1, 40 do
        local app, token = CLOSED_PRO, "spec-token-pro"
        if i % 2 == 0 then app, token = OPEN_PRO, "spec-token-open" end
        reqs[i] = { i % 4 < 2 and 1 or 2, "POST", h.http.callback_path(app, "Group.CallbackBeforeCreateGroup", token),
                    cjson.encode { CallbackCommand = "Group.CallbackBeforeCreateGroup", Type = "Public",
                                   Owner_Account = "o" .. i, Name = "n" .. i } }
      end
      local answers = h.concurrent(reqs)
      local closed, open = { ok = 0, refused = 0 }, { ok = 0, refused = 0 }
      for i, r in ipairs(answers) do
        assert.are.equal(200, r.status)
        assert.is_true(r.took < 2, string.format("answered in %.2f s", r.took))
        local v = cjson.decode(r.body)
        local side = i % 2 == 0 and open or closed
        if v.ErrorCode == 0 then side.ok = side.ok + 1 else side.refused = side.refused + 1 end
      end
      assert.are.same({ ok = 0, refused = 20 }, closed)
      assert.are.same({ ok = 20, refused = 0 }, open)
      -- Redis wakes up and runs what it had read meanwhile; nothing is
      -- confirmed, so every approval is taken back
      h.wait(function() return h.rcall(nil, "PING") == "PONG" end, 10, "Redis")
      h.wait(function()
        h.post(1, "/t/sweep", "")
        return h.count(nil, h.key(CLOSED_PRO, "c:groups")) == 0 and h.count(nil, h.key(OPEN_PRO, "c:groups")) == 0
          and h.rcall(nil, "ZCARD", h.key(CLOSED_PRO, "rq")) == 0
      end, 15, "late approvals to be taken back")
    end)

  it("counts nothing for REST calls refused while Redis slept, even those Redis ran late", function()
    local before = h.stub_count("account_import")
    h.background("redis-cli -p " .. h.redis_port .. " DEBUG SLEEP 2")
    h.asleep()
    local t = tally(wave(CLOSED_TRIAL, "im_open_login_svc/account_import", account, 30, "slow-"))
    io.stderr:write("closed, slow Redis: ", show(t), "\n")
    assert.are.equal(0, t.ok)
    assert.are.equal(30, t.codes[70500])
    assert.are.equal(0, h.stub_count("account_import") - before)
    h.wait(function() return h.rcall(nil, "PING") == "PONG" end, 10, "Redis")
    h.settle(30)
    h.wait(function() return h.count(nil, h.key(CLOSED_TRIAL, "c:accounts")) == 0 end, 20, "late runs to be taken back")
    assert.are.equal(0, h.rcall(nil, "HLEN", h.key(CLOSED_TRIAL, "ua:" .. 0)))
  end)

  it("replays a journaled REST settlement once when its answer is lost, even after a later call changed the count",
    function()
      -- an open app let a create_group through while Redis was away and
      -- Tencent created the group.  The journal's replay runs in Redis but
      -- its answer is lost; the group is destroyed by a REST call; the next
      -- replay must find the settlement done, not create the group again.
      local v = h.json(h.post(1, "/t/lostreplay?app=" .. OPEN_PRO .. "&group=lost1", ""))
      assert.are.equal(1, v.after_lost, "the lost answer left the entry in the journal")
      assert.are.equal("applied", v.destroy)
      assert.are.equal(0, v.left, "the journal never emptied")
      assert.are.equal(0, h.count(nil, h.key(OPEN_PRO, "c:groups")))
      assert.are.equal(0, h.count(nil, h.key(OPEN_PRO, "c:groups_of:Public")))
    end)

  it("keeps every journal entry it took when the journal is full, and replays each", function()
    -- a full dict evicts its oldest entries to make room for a write that may
    -- evict: the journal's are the ones waiting; none may go
    for _, raw in ipairs { "", "&raw=1" } do
      h.reset()
      local v = h.json(h.post(1, "/t/jfull?app=" .. OPEN_PRO .. raw, ""))
      assert.is_true(v.taken > 1000)
      assert.are.equal(v.taken, v.readable, "entries the journal took are gone before any replay")
      assert.are.equal(v.taken, v.replayed + v.readable_after, "entries the journal took are gone" .. raw)
    end
  end)

  -- While an app has entries in the journal its after callbacks join the
  -- journal behind them.  An entry the replay skips (lost for want of room,
  -- or unreadable) no longer waits, so it no longer holds the app's
  -- callbacks: before, the app's count of waiting entries never came down,
  -- and every after callback of the app went through the journal for good.
  for _, how in ipairs { "hole", "garbled" } do
    it("counts an app's after callbacks at once again when its journal entry was " .. how .. " and skipped", function()
      local v = h.json(h.post(1, "/t/jlost?app=" .. CLOSED_TRIAL .. "&how=" .. how, ""))
      assert.is_true(v.waiting_before)
      assert.are.equal(0, v.size)
      assert.is_false(v.waiting)
      local _, cb = h.callback(1, CLOSED_TRIAL, "Group.CallbackAfterCreateGroup", "spec-token-trial", {
        CallbackCommand = "Group.CallbackAfterCreateGroup", GroupId = "after-" .. how, Type = "Public",
        Owner_Account = "o", EventTime = os.time() * 1000 })
      assert.are.equal("OK", cb.ActionStatus)
      -- counted by the callback itself, not by a replay later
      assert.are.equal(1, h.count(nil, h.key(CLOSED_TRIAL, "c:groups")))
      assert.are.equal(0, h.metric_sum("imbill_redis_journaled_total",
        { redis = "main", app = CLOSED_TRIAL, kind = "after" }))
    end)
  end

  -- The replay of an after callback sends the program its first try sent,
  -- under the same id, and reads the answer Redis kept of that first run.
  -- It built another one: the reservation its first run had claimed was
  -- gone when the replay looked for it, so the replay's program had no
  -- claim, and the kept answer was read against the wrong instructions (the
  -- confirmation not counted in the metrics).
  it("reads the kept answer of a replayed after-create callback whose first answer was lost as the first program's",
    function()
      local r = h.post(1, h.rest_path("group_open_http_svc/create_group", CLOSED_PRO),
        cjson.encode { Type = "Public", Owner_Account = "o", Name = "lostafter" }, { ["X-Stub-Status"] = "502" })
      assert.are.equal(502, r.status)
      h.wait(function() return h.rcall(nil, "HLEN", h.key(CLOSED_PRO, "rr")) == 1 end, 5, "the stand-in reserved")
      local v = h.json(h.post(2, "/t/lostafter?app=" .. CLOSED_PRO .. "&group=" .. h.http.urlencode("@TGS#lost1")
        .. "&owner=o&name=lostafter", ""))
      assert.are.equal("journaled", v.status)
      assert.are.equal(0, v.left)
      -- counted once, under Tencent's id, the reservation taken
      assert.are.equal(1, h.count(nil, h.key(CLOSED_PRO, "c:groups")))
      assert.are.same({ "@TGS#lost1" }, h.rcall(nil, "SMEMBERS", h.key(CLOSED_PRO, "uj:o")))
      assert.are.equal(0, h.rcall(nil, "HLEN", h.key(CLOSED_PRO, "rr")))
      assert.are.equal(1, h.metric_sum("imbill_reservations_confirmed_total", { app = CLOSED_PRO }))
    end)

  -- Redis' default user may not call functions, so the gateway runs the
  -- interpreter as a script; memory and rights are given back after the spec
  local function scripts_only(finally)
    h.rcall(nil, "ACL", "SETUSER", "default", "-fcall")
    finally(function()
      h.rcall(nil, "CONFIG", "SET", "maxmemory", "0")
      h.rcall(nil, "ACL", "SETUSER", "default", "+@all")
    end)
  end

  it("refuses, without marking the store damaged, calls a Redis at its maxmemory refuses to write (scripts)",
    function()
    -- a Redis user that may not call functions runs the interpreter as a
    -- script, which Redis refuses out of memory at its first write, after the
    -- program ran in the overlay: nothing is written (a function is refused
    -- before it runs, with the same error)
    scripts_only(finally)
    assert.are.equal("OK", select(2, h.rest(1, "im_open_login_svc/account_import", CLOSED_TRIAL,
      { UserID = "before" })).ActionStatus)
    h.rcall(nil, "CONFIG", "SET", "maxmemory", "1")
    local _, v = h.rest(1, "im_open_login_svc/account_import", CLOSED_TRIAL, { UserID = "oom" })
    assert.are.equal(70500, v.ErrorCode)
    assert.truthy(v.ErrorInfo:find("OOM", 1, true), v.ErrorInfo)
    assert.are.equal(1, h.count(nil, h.key(CLOSED_TRIAL, "c:accounts")))
    -- memory back: the store was never damaged, so the calls count again
    -- (it was marked damaged: every capped call refused until an operator
    -- cleared it)
    h.rcall(nil, "CONFIG", "SET", "maxmemory", "0")
    assert.are.equal(0, h.metric(1, "imbill_store_damaged", { dict = "redis:main" }))
    local _, after = h.rest(1, "im_open_login_svc/account_import", CLOSED_TRIAL, { UserID = "after" })
    assert.are.equal("OK", after.ActionStatus, after.ErrorInfo)
    h.settle()
    assert.are.equal(2, h.count(nil, h.key(CLOSED_TRIAL, "c:accounts")))
  end)

  it("settles a call whose answer was lost once a Redis at its maxmemory can write again (scripts)", function()
    -- the settlement asks Redis to record that the lost decision never ran:
    -- a write, which a Redis out of memory refuses; the settlement waits in
    -- the journal (it was dropped as unresolved, and the group Tencent
    -- created was never counted)
    scripts_only(finally)
    -- the interpreter loaded, and the layout written, before memory runs out
    assert.are.equal("OK", select(2, h.rest(1, "im_open_login_svc/account_import", OPEN_PRO,
      { UserID = "before" })).ActionStatus)
    h.rcall(nil, "CONFIG", "SET", "maxmemory", "1")
    local v = h.json(h.post(1, "/t/unknown?app=" .. OPEN_PRO .. "&group=lostmem", ""))
    assert.are.equal(1, v.left, "the settlement left the journal while Redis could not write")
    assert.are.equal(0, h.metric_sum("imbill_redis_unresolved_total", { app = OPEN_PRO }))
    h.rcall(nil, "CONFIG", "SET", "maxmemory", "0")
    h.settle(10)
    assert.are.equal(1, h.count(nil, h.key(OPEN_PRO, "c:groups")))
    assert.are.equal(1, h.rcall(nil, "EXISTS", h.key(OPEN_PRO, "g:lostmem")))
  end)

  -- Redis keeps a program's answer marker_ttl seconds (600 by default).  A
  -- decision settled later than that after it was sent may have run and
  -- had its answer expire: Redis says "never ran" of both, so the outcome is
  -- not known, and the gateway says so (a counter, a warning).  Within
  -- marker_ttl the same settlement is resolved and not counted unresolved.
  it("counts a lost decision settled past marker_ttl as unresolved, and one settled within it as resolved", function()
    local v = h.json(h.post(1, "/t/unknown?app=" .. OPEN_PRO .. "&group=recent&age=580", ""))
    assert.are.equal(0, v.left)
    assert.are.equal(0, h.metric_sum("imbill_redis_unresolved_total", { app = OPEN_PRO }))
    v = h.json(h.post(1, "/t/unknown?app=" .. OPEN_PRO .. "&group=old&age=610", ""))
    assert.are.equal(0, v.left)
    assert.are.equal(1, h.metric_sum("imbill_redis_unresolved_total", { app = OPEN_PRO }))
    -- Tencent created both: both counted, once
    assert.are.equal(2, h.count(nil, h.key(OPEN_PRO, "c:groups")))
  end)

  it("says so when Redis loses an app's counts under it (FLUSHALL): an error logged, a counter", function()
    local _, v = h.rest(1, "im_open_login_svc/account_import", CLOSED_TRIAL, { UserID = "before" })
    assert.are.equal("OK", v.ActionStatus)
    -- both nodes have seen the app's mark in Redis
    h.wait(function() return h.rcall(nil, "EXISTS", h.key(CLOSED_TRIAL, "c:epoch")) == 1 end, 8, "the mark")
    h.sleep(5.5)
    assert.are.equal(0, h.metric_sum("imbill_redis_resets_total", { redis = "main", app = CLOSED_TRIAL }))
    h.rcall(nil, "FLUSHALL")
    -- the counts start again (nothing refuses that), but each node says so
    local _, again = h.rest(2, "im_open_login_svc/account_import", CLOSED_TRIAL, { UserID = "after" })
    assert.are.equal("OK", again.ActionStatus)
    assert.are.equal(1, h.count(nil, h.key(CLOSED_TRIAL, "c:accounts")))
    h.wait(function()
      return h.metric_sum("imbill_redis_resets_total", { redis = "main", app = CLOSED_TRIAL }) == 2
    end, 15, "both nodes to see the lost counts")
  end)

  -- After an outage a node replays the app's journal before it decides for
  -- the app again.  A group destroyed and an account deleted while Redis was
  -- away, then created and imported again as soon as it is back: the new
  -- decisions ran first (the group and the account were still there, so
  -- they changed nothing), the replay then took both away, and both ended
  -- uncounted while Tencent had them.
  it("replays an app's journal before its next decision once Redis is back: what was done again stays counted",
    function()
    for _, app in ipairs { OPEN_PRO, CLOSED_PRO } do
      h.reset()
      assert.are.equal("OK", select(2, h.rest(1, "group_open_http_svc/create_group", app,
        { Type = "Public", GroupId = "g2", Owner_Account = "owner" })).ActionStatus)
      assert.are.equal("OK", select(2, h.rest(1, "im_open_login_svc/account_import", app, { UserID = "acc" }))
        .ActionStatus)
      h.ctl("kill", "single")
      -- a removal is never refused: each passes, and its settlement waits in the journal
      assert.are.equal("OK", select(2, h.rest(1, "group_open_http_svc/destroy_group", app, { GroupId = "g2" }))
        .ActionStatus)
      assert.are.equal("OK", select(2, h.rest(1, "im_open_login_svc/account_delete", app,
        { DeleteItem = { { UserID = "acc" } } })).ActionStatus)
      assert.is_true(h.json(h.get(1, "/t/waiting?peek=1")).journal > 0)
      h.ctl("start", "single")
      local _, c = h.rest(1, "group_open_http_svc/create_group", app,
        { Type = "Public", GroupId = "g2", Owner_Account = "owner" })
      assert.are.equal("OK", c.ActionStatus, app .. ": " .. tostring(c.ErrorInfo))
      local _, a = h.rest(1, "im_open_login_svc/account_import", app, { UserID = "acc" })
      assert.are.equal("OK", a.ActionStatus, app .. ": " .. tostring(a.ErrorInfo))
      h.settle(30)
      -- as Tencent has them: the group and the account, once
      assert.are.same({ 1, 1, 1 }, { h.count(nil, h.key(app, "c:groups")), h.rcall(nil, "EXISTS", h.key(app, "g:g2")),
                                     h.count(nil, h.key(app, "c:accounts")) }, app)
    end
  end)

  -- An after callback journaled while Redis was away is replayed from its
  -- description, which builds its plans again: they are still a report of
  -- what Tencent did.  Replayed as an ask, the create of a group counted
  -- through REST was refused "id in use" and its event id not kept, and
  -- Tencent's retry after the group was disbanded created it again.
  it("keeps the event id of a journaled after-create callback whose group was in place: its retry is a duplicate",
    function()
    h.reset()
    local function groups() return h.count(nil, h.key(OPEN_PRO, "c:groups")) end
    assert.are.equal("OK", select(2, h.rest(1, "group_open_http_svc/create_group", OPEN_PRO,
      { Type = "Public", GroupId = "gj", Owner_Account = "o" })).ActionStatus)
    h.settle()
    local ev = { CallbackCommand = "Group.CallbackAfterCreateGroup", GroupId = "gj", Type = "Public",
                 Owner_Account = "o", EventTime = os.time() * 1000 }
    local sent = os.time()
    h.ctl("kill", "single")
    assert.are.equal(200, h.callback(1, OPEN_PRO, "Group.CallbackAfterCreateGroup", "spec-token-open", ev,
      { request_time = sent }).status)
    assert.is_true(h.json(h.get(1, "/t/waiting?peek=1")).journal > 0)
    h.ctl("start", "single")
    h.settle(30)
    assert.are.equal(1, groups())
    assert.are.equal("OK", select(2, h.rest(2, "group_open_http_svc/destroy_group", OPEN_PRO, { GroupId = "gj" }))
      .ActionStatus)
    h.settle()
    assert.are.equal(0, groups())
    assert.are.equal(200, h.callback(2, OPEN_PRO, "Group.CallbackAfterCreateGroup", "spec-token-open", ev,
      { request_time = sent }).status)
    h.settle()
    assert.are.equal(0, groups())
    assert.are.equal(0, h.rcall(nil, "EXISTS", h.key(OPEN_PRO, "uj:o")))
  end)

  -- A Redis that evicts keys at its maxmemory drops counts without an error
  -- (a probe with allkeys-lru: 596 of 2,400 users' logins counted twice,
  -- accounts answered OK and gone).  Nothing can make that exact, but the
  -- operator is told, on each node, and until the policy is noeviction again.
  it("says so when Redis may evict keys (maxmemory with a policy but noeviction): an error logged, a gauge",
    function()
    local _, v = h.rest(1, "im_open_login_svc/account_import", CLOSED_TRIAL, { UserID = "ev" })
    assert.are.equal("OK", v.ActionStatus)
    finally(function()
      h.rcall(nil, "CONFIG", "SET", "maxmemory-policy", "noeviction")
      h.rcall(nil, "CONFIG", "SET", "maxmemory", "0")
    end)
    local function gauge(n) return h.metric(n, "imbill_redis_evicting", { redis = "main", app = CLOSED_TRIAL }) end
    assert.are.same({ 0, 0 }, { gauge(1), gauge(2) })
    -- a maxmemory alone, with noeviction, refuses writes instead (above): not this
    h.rcall(nil, "CONFIG", "SET", "maxmemory", "1gb")
    h.sleep(5.5)
    assert.are.same({ 0, 0 }, { gauge(1), gauge(2) })
    h.rcall(nil, "CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    h.wait(function() return gauge(1) == 1 and gauge(2) == 1 end, 15, "both nodes to see the policy")
    h.rcall(nil, "CONFIG", "SET", "maxmemory-policy", "noeviction")
    h.wait(function() return gauge(1) == 0 and gauge(2) == 0 end, 15, "both nodes to see it gone")
  end)

  describe("a group created without a GroupId while Redis slept (an app that fails open)", function()
    local function slept_create(name, headers)
      h.background("redis-cli -p " .. h.redis_port .. " DEBUG SLEEP 2")
      h.asleep()
      local r = h.post(1, h.rest_path("group_open_http_svc/create_group", OPEN_PRO),
        cjson.encode { Type = "Public", Owner_Account = "o", Name = name }, headers)
      h.wait(function() return h.rcall(nil, "PING") == "PONG" end, 10, "Redis")
      h.settle(30)
      return r
    end
    local function after_create(gid, name)
      local _, v = h.callback(2, OPEN_PRO, "Group.CallbackAfterCreateGroup", "spec-token-open", { CallbackCommand =
        "Group.CallbackAfterCreateGroup", GroupId = gid, Type = "Public", Owner_Account = "o", Name = name,
        EventTime = os.time() * 1000 })
      assert.are.equal("OK", v.ActionStatus)
    end

    it("takes the id Tencent's answer gives, once Redis says it ran the call", function()
      local r = slept_create("slept")
      local gid = cjson.decode(r.body).GroupId
      assert.truthy(gid:find("^@TGS#"))
      h.wait(function() return h.rcall(nil, "SCARD", h.key(OPEN_PRO, "gm:" .. gid)) == 1 end, 10, "the group renamed")
      after_create(gid, "slept")
      assert.are.equal(1, h.count(nil, h.key(OPEN_PRO, "c:groups")))
      assert.are.same({ gid }, h.rcall(nil, "SMEMBERS", h.key(OPEN_PRO, "uj:o")))
      assert.are.same({}, h.rcall(nil, "KEYS", h.key(OPEN_PRO, "*~rest*")))
    end)

    it("is counted under Tencent's id, or reserved, when Redis was down and the decision never ran", function()
      h.ctl("kill", "single")
      local ok, v = pcall(function()
        local r1 = h.post(1, h.rest_path("group_open_http_svc/create_group", OPEN_PRO),
          cjson.encode { Type = "Public", Owner_Account = "o", Name = "down" })
        local r2 = h.post(1, h.rest_path("group_open_http_svc/create_group", OPEN_PRO),
          cjson.encode { Type = "Public", Owner_Account = "o", Name = "down-lost" }, { ["X-Stub-Status"] = "502" })
        assert.are.equal(502, r2.status)
        return cjson.decode(r1.body)
      end)
      h.ctl("start", "single")
      assert(ok, v)
      h.settle(30)
      local gid = v.GroupId
      h.wait(function() return h.rcall(nil, "HLEN", h.key(OPEN_PRO, "rr")) == 1 end, 10, "the lost one reserved")
      assert.are.equal(2, h.count(nil, h.key(OPEN_PRO, "c:groups")))
      assert.are.equal(1, h.rcall(nil, "SCARD", h.key(OPEN_PRO, "gm:" .. gid)))
      after_create(gid, "down")
      after_create("@TGS#real2", "down-lost")
      assert.are.equal(2, h.count(nil, h.key(OPEN_PRO, "c:groups")))
      assert.are.equal(2, h.rcall(nil, "SCARD", h.key(OPEN_PRO, "uj:o")))
      assert.are.equal(1, h.rcall(nil, "SISMEMBER", h.key(OPEN_PRO, "uj:o"), "@TGS#real2"))
      assert.are.same({}, h.rcall(nil, "KEYS", h.key(OPEN_PRO, "*~rest*")))
    end)

    it("is reserved when no answer gives the id: confirmed by the after callback, or taken back", function()
      local r = slept_create("lost", { ["X-Stub-Status"] = "502" })
      assert.are.equal(502, r.status)
      h.wait(function() return h.rcall(nil, "HLEN", h.key(OPEN_PRO, "rr")) == 1 end, 10, "the stand-in reserved")
      after_create("@TGS#real1", "lost")
      assert.are.equal(1, h.count(nil, h.key(OPEN_PRO, "c:groups")))
      assert.are.same({ "@TGS#real1" }, h.rcall(nil, "SMEMBERS", h.key(OPEN_PRO, "uj:o")))
      assert.are.same({}, h.rcall(nil, "KEYS", h.key(OPEN_PRO, "*~rest*")))
      slept_create("ghost", { ["X-Stub-Status"] = "502" })
      h.wait(function() return h.rcall(nil, "HLEN", h.key(OPEN_PRO, "rr")) == 1 end, 10, "the stand-in reserved")
      assert.are.equal(2, h.count(nil, h.key(OPEN_PRO, "c:groups")))
      h.wait(function()
        h.post(1, "/t/sweep", "")
        return h.count(nil, h.key(OPEN_PRO, "c:groups")) == 1
      end, 10, "the reservation to expire")
      assert.are.same({}, h.rcall(nil, "KEYS", h.key(OPEN_PRO, "*~rest*")))
    end)
  end)

  it("loses no login and doubles none when Redis restarts in the middle of the flushes", function()
    local m = imbill.meter { book = "2020", edition = "pro" }
    local t0 = os.time() - 20 * 86400
    local reqs
    math.randomseed(11)
    -- down longer than a flush's deadline (3 s), so batches go to the journal
    local finished = h.ctl_later(0.4, "restart", "single", 3.5)
    for w = 1, 12 do
      reqs = {}
      for i = 1, 150 do
        local u = "u{" .. math.random(1, 400) .. "}"
        local t = t0 + math.random(0, 19) * 86400 + math.random(0, 86399)
        m:login(u, t)
        reqs[i] = { i % 2 + 1, "POST", h.http.callback_path(CLOSED_PRO, "State.StateChange", "spec-token-pro"),
                    -- milliseconds apart, within the login's second
                    cjson.encode { CallbackCommand = "State.StateChange", EventTime = t * 1000 + (w * 150 + i) % 1000,
                                   Info = { Action = "Login", To_Account = u } } }
      end
      for _, r in ipairs(h.concurrent(reqs)) do assert.are.equal(200, r.status) end
      h.sleep(0.1)
    end
    h.wait(finished, 15, "Redis to restart")
    h.settle(30)
    assert.is_true(h.metric_sum("imbill_redis_journaled_total", { redis = "main", app = CLOSED_PRO, kind = "logins" })
      > 0, "no flush met the restart")
    local day0 = math.floor((t0 + 8 * 3600) / 86400)
    local sum_g, sum_m = 0, 0
    for d = day0, day0 + 20 do
      sum_g = sum_g + h.count(nil, h.key(CLOSED_PRO, "d:" .. d .. ":dau"))
      sum_m = sum_m + m:dau(os.date("!%Y-%m-%d", d * 86400))
    end
    io.stderr:write("logins across a restart: ", sum_g, " user-days in Redis, ", sum_m, " in the meter\n")
    for d = day0, day0 + 20 do
      local date = os.date("!%Y-%m-%d", d * 86400)
      assert.are.equal(m:dau(date), h.count(nil, h.key(CLOSED_PRO, "d:" .. d .. ":dau")), date)
    end
    for _, mo in ipairs { os.date("!%Y-%m", day0 * 86400), os.date("!%Y-%m", (day0 + 20) * 86400) } do
      local u = h.json(h.get(1, "/t/usage?app=" .. CLOSED_PRO .. "&month=" .. mo))
      assert.are.equal(m:usage(mo).mau, u.mau, mo)
      assert.are.same(m:usage(mo).dau, u.dau, mo)
    end
  end)

  it("keeps the logins a node holds when it is reloaded while Redis is away", function()
    local m = imbill.meter { book = "2020", edition = "pro" }
    h.ctl("kill", "single")
    local t = os.time()
    local reqs = {}
    for i = 1, 200 do
      local u = "r{" .. i .. "}"
      m:login(u, t)
      reqs[i] = { 1, "POST", h.http.callback_path(CLOSED_PRO, "State.StateChange", "spec-token-pro"),
                  cjson.encode { CallbackCommand = "State.StateChange", EventTime = t * 1000 + i,
                                 Info = { Action = "Login", To_Account = u } } }
    end
    for _, a in ipairs(h.concurrent(reqs)) do assert.are.equal(200, a.status) end
    -- the workers are replaced: what they hold goes to the journal (a shared
    -- dict, which a reload keeps)
    local pid = io.open(h.prefix .. "/ngx-a/logs/nginx.pid"):read("*l")
    os.execute("kill -HUP " .. pid)
    -- Redis comes back once no worker holds a login: the old workers put
    -- theirs in the journal as they went
    h.wait(function() return h.json(h.get(1, "/t/waiting?peek=1")).queue == 0 end, 15,
      "the old workers' logins in the journal")
    h.ctl("start", "single")
    h.settle(30)
    local day = math.floor((t + 8 * 3600) / 86400)
    assert.are.equal(m:dau(os.date("!%Y-%m-%d", day * 86400)), h.count(nil, h.key(CLOSED_PRO, "d:" .. day .. ":dau")))
  end)
end)
