-- The app lock under contention: a holder that stalls (as one the kernel
-- preempts mid-batch) holds every request of the app up; they wait, each in
-- its worker's queue behind one request that waits for the lock, and are
-- served once it is let go, each all or nothing on its own, and a cap is
-- still reached exactly.  What cannot get the lock in time is refused (or
-- passed, for an app that fails open) and counts nothing.  Logins go around
-- the app lock.
local h = require "ngx_helper"
local cjson = require "cjson"
local socket = require "socket"

local PRO, TRIAL, OPEN = "1400000001", "1400000002", "1400000003"

local hold = h.hold

local function codes(answers)
  local out = {}
  for _, r in ipairs(answers) do
    local v = cjson.decode(r.body)
    local c = v.ActionStatus == "OK" and 0 or v.ErrorCode
    out[c] = (out[c] or 0) + 1
  end
  return out
end

describe("the app lock under contention (4 workers)", function()
  before_each(h.flush)

  it("serves every request queued behind a stalled holder once it lets go, and the cap holds exactly", function()
    for run = 1, 3 do
      h.flush()
      local before = h.stub_count("create_group")
      local done = hold(PRO, 300)
      local reqs = {}
      for i = 1, 200 do
        reqs[i] = { "POST", h.http.rest_path("group_open_http_svc/create_group", PRO),
                    cjson.encode { Type = "AVChatRoom", GroupId = "q" .. run .. "av" .. i, Owner_Account = "o" .. i } }
      end
      local answers = h.http.concurrent(reqs)
      done()
      local c = codes(answers)
      assert.are.equal(50, c[0], "run " .. run)
      assert.are.equal(150, c[10036], "run " .. run)
      assert.are.equal(50, h.stub_count("create_group") - before, "run " .. run)
      assert.are.equal(50, h.keys(PRO)["c:groups_of:AVChatRoom"], "run " .. run)
      -- they did wait for the lock, most of them in their worker's queue
      assert.is_true((h.metric("imbill_lock_busy_total", { app = PRO }) or 0) >= 1, "run " .. run)
      assert.is_true((h.metric("imbill_lock_queued_total", { app = PRO }) or 0) >= 100, "run " .. run)
    end
    -- waiting logs nothing: Debian's nginx warns at every ngx.sleep(0)
    -- (no delayed-events patch), which the wait does not use
    local log = io.open(h.http.prefix .. "/logs/error.log"):read("*a")
    assert.is_nil(log:find("sleep(0) called", 1, true))
  end)

  it("refuses what cannot get the lock in time and counts nothing (or passes it, failing open)", function()
    local done, id = hold(TRIAL, 2000) -- far longer than lock_wait (0.5 s)
    local reqs = {}
    for i = 1, 20 do
      reqs[i] = { "POST", h.http.rest_path("im_open_login_svc/account_import", TRIAL),
                  cjson.encode { UserID = "late" .. i } }
    end
    local t0 = socket.gettime()
    local answers = h.http.concurrent(reqs)
    local waited = socket.gettime() - t0
    -- each gave up after its own wait, not after those queued before it
    -- (5 a worker: 2.5 s), and not when the hold let go
    assert.are.equal("held", h.lock(TRIAL, id).hold)
    done()
    assert.are.same({ [70500] = 20 }, codes(answers))
    assert.truthy(cjson.decode(answers[1].body).ErrorInfo:find("could not decide (busy)", 1, true))
    assert.is_true(waited < 1.5, "each gave up after its own wait: " .. waited)
    assert.is_nil(h.keys(TRIAL)["c:accounts"])
    assert.are.equal(20, h.metric("imbill_passed_total", { app = TRIAL, reason = "store" }))

    local before = h.stub_count("account_import")
    done = hold(OPEN, 1200)
    reqs = {}
    for i = 1, 10 do
      reqs[i] = { "POST", h.http.rest_path("im_open_login_svc/account_import", OPEN),
                  cjson.encode { UserID = "open" .. i } }
    end
    answers = h.http.concurrent(reqs)
    done()
    assert.are.same({ [0] = 10 }, codes(answers))
    assert.are.equal(before + 10, h.stub_count("account_import"))
    assert.is_nil(h.keys(OPEN)["c:accounts"])
  end)

  it("takes the next request after a stall at once, without a lock left behind", function()
    local done = hold(TRIAL, 200)
    done()
    local t0 = socket.gettime()
    local _, v = h.rest("im_open_login_svc/account_import", TRIAL, { UserID = "after" })
    assert.are.equal("OK", v.ActionStatus)
    -- within lock_wait (0.5 s): it waited for no lock nor turn (0.2 s was a
    -- bound a loaded machine's one request can pass)
    local took = socket.gettime() - t0
    assert.is_true(took < 0.45, "the request waited " .. took .. " s")
    assert.are.equal(1, h.keys(TRIAL)["c:accounts"])
  end)

  it("lets logins go around the app lock", function()
    local t = os.time()
    local function login(u, i)
      return { "POST", h.http.callback_path(PRO, "State.StateChange", "spec-token-pro"),
               cjson.encode { CallbackCommand = "State.StateChange", EventTime = t * 1000 + i,
                              Info = { Action = "Login", To_Account = u } } }
    end
    -- the day's first login moves the app's latest day (under the app lock)
    assert.are.equal(200, h.http.concurrent({ login("first", 0) })[1].status)
    local done, id = hold(PRO, 3000)
    local reqs = {}
    for i = 1, 50 do reqs[i] = login("u" .. i, i) end
    local t0 = socket.gettime()
    local answers = h.http.concurrent(reqs)
    local took = socket.gettime() - t0
    -- answered while the lock was still held: none waited for it
    assert.are.equal("held", h.lock(PRO, id).hold, "logins waited for the app lock: " .. took)
    done()
    for _, r in ipairs(answers) do assert.are.equal(200, r.status) end
    local day = math.floor((t + 8 * 3600) / 86400)
    assert.are.equal(51, h.keys(PRO)["d:" .. day .. ":dau"])
  end)
end)

-- A login callback waits for its locks (its stripe, and the app's when it is
-- the day's first) within callback_lock_wait, as every other callback:
-- Tencent waits 2 s for the answer, while a REST call may be let wait longer
-- (lock_wait).  A gateway of its own, where the two differ.
describe("a login callback behind a held app lock", function()
  local dir = os.getenv("IMBILL_NGX_PREFIX") .. "/loginwait"
  local APP = "1400000021"

  it("answers within callback_lock_wait (0.3 s) rather than lock_wait (3 s), the login counted", function()
    local port = h.free_port()
    local out = h.own_nginx(dir, ([[
  init_by_lua_block {
    require "resty.core"
    require("imbill.gateway").setup { lock_wait = 3, callback_lock_wait = 0.3,
      apps = { ["@APP@"] = { book = "2020", edition = "pro", unsigned_callbacks = true } } }
  }
  server {
    listen 127.0.0.1:@PORT@;
    location = /imbill/callback { content_by_lua_block { require("imbill.gateway").callback() } }
    location /t/ { content_by_lua_block { require("spec_t").handle() } }
  }]]):gsub("@APP@", APP):gsub("@PORT@", tostring(port)))
    local ok, err = pcall(function()
      assert.truthy(out:find("rc=0", 1, true), out)
      for _ = 1, 50 do
        local s = socket.tcp()
        s:settimeout(0.2)
        local up = s:connect("127.0.0.1", port)
        s:close()
        if up then break end
        socket.sleep(0.1)
      end
      -- the app's lock held for 3.5 s; the day's first login needs it to move
      -- the app's latest day
      local done = h.hold(APP, 3500, port)
      local t0 = socket.gettime()
      local r = h.http.post(h.http.callback_path(APP, "State.StateChange", nil), cjson.encode {
        CallbackCommand = "State.StateChange", EventTime = os.time() * 1000,
        Info = { Action = "Login", To_Account = "early" } }, nil, port)
      local took = socket.gettime() - t0
      pcall(done)
      assert.are.equal(200, r.status)
      assert.is_true(took < 2, "the login waited " .. took .. " s for the app's lock")
      -- counted all the same: DAU and MAU do not wait for the app's lock
      local k = h.json(h.http.get("/t/keys?app=" .. APP, port))
      local day = math.floor((os.time() + 8 * 3600) / 86400)
      assert.are.equal(1, k["d:" .. day .. ":dau"])
    end)
    h.stop_own(dir)
    assert(ok, err)
  end)
end)
