-- Counters are kept per worker and published to the shared dict every
-- 50 ms; the status page waits until every worker has published what it
-- counted before the page was asked, so it is on the page, whichever worker
-- counted it and however late that worker's timer runs.
local h = require "ngx_helper"
local cjson = require "cjson"

local PRO = "1400000001"

describe("the status page's counters (4 workers)", function()
  before_each(h.flush)

  it("shows every call counted by any worker, asked right after the calls", function()
    for run = 1, 3 do
      h.flush()
      local reqs = {}
      for i = 1, 60 do
        reqs[i] = { "POST", h.http.rest_path("im_open_login_svc/account_import", PRO),
                    cjson.encode { UserID = "m" .. run .. "u" .. i } }
      end
      for _, r in ipairs(h.http.concurrent(reqs)) do assert.are.equal(200, r.status) end
      assert.are.equal(60, h.metric("imbill_allowed_total", { app = PRO, action = "account_import", via = "rest" }),
        "run " .. run)
      -- the same import again changes nothing, and says so
      for _, r in ipairs(h.http.concurrent(reqs)) do assert.are.equal(200, r.status) end
      assert.are.equal(60, h.metric("imbill_unchanged_total", { app = PRO, action = "account_import", via = "rest" }),
        "run " .. run)
      assert.are.equal(60, h.metric("imbill_allowed_total", { app = PRO, action = "account_import", via = "rest" }))
    end
  end)

  -- A worker busy for 300 ms (a long request, a CPU the machine lends to
  -- others) publishes late; a page read meanwhile waits for it rather than
  -- leaving out what it had counted (a fixed wait of 75 ms did)
  it("waits for a busy worker's counts, made before it was asked", function()
    for round = 1, 3 do
      local done = h.stall(300)
      assert.are.equal(round, h.metric("imbill_callbacks_rejected_total", { reason = "spec_stall" }), "round " .. round)
      done()
    end
  end)

  it("makes no series of what a request names: unknown apps are counted together", function()
    -- each call names an app of its own, as a client flooding the gateway
    -- would; a series of each would fill the meta dict, where the locks are
    local before = h.metric("imbill_rest_rejected_total", { reason = "unknown_app" }) or 0
    local passed = h.metric("imbill_passed_total", { app = "", reason = "unknown_app" }) or 0
    local reqs = {}
    for i = 1, 200 do
      local id = "9" .. i .. string.rep("7", 1000)
      reqs[i] = { "POST", h.http.rest_path("group_open_http_svc/create_group", id),
                  cjson.encode { Type = "Public", GroupId = "g" .. i } }
    end
    for _, r in ipairs(h.http.concurrent(reqs)) do
      assert.are.equal(60006, cjson.decode(r.body).ErrorCode)
    end
    local page = h.http.get("/imbill/status").body
    -- refused (unknown_app = "refuse"), so counted as refused, not passed
    assert.are.equal(before + 200, h.http.metric_in(page, "imbill_rest_rejected_total", { reason = "unknown_app" }))
    assert.are.equal(passed, h.http.metric_in(page, "imbill_passed_total", { app = "", reason = "unknown_app" }) or 0)
    assert.is_nil(page:find("77777", 1, true), "a series names an app a request named")
  end)

  it("counts an unknown app's call as passed only where it is passed (unknown_app = \"pass\")", function()
    local passed = h.metric("imbill_passed_total", { app = "", reason = "unknown_app" }) or 0
    local refused = h.metric("imbill_rest_rejected_total", { reason = "unknown_app" }) or 0
    local r = h.http.post("/pass" .. h.http.rest_path("im_open_login_svc/account_import", "977"),
      cjson.encode { UserID = "u" })
    assert.are.equal("OK", cjson.decode(r.body).ActionStatus)
    assert.are.equal(passed + 1, h.metric("imbill_passed_total", { app = "", reason = "unknown_app" }))
    assert.are.equal(refused, h.metric("imbill_rest_rejected_total", { reason = "unknown_app" }) or 0)
  end)

  it("answers 500 and logs the mistake for a location whose options are wrong, for every call", function()
    local function log()
      local f = assert(io.open(os.getenv("IMBILL_NGX_PREFIX") .. "/logs/error.log"))
      local text = f:read("*a")
      f:close()
      return text
    end
    -- a known app too: the mistake shows on the first call, not when an
    -- unknown app first calls
    local r = h.http.post("/badopts" .. h.http.rest_path("im_open_login_svc/account_import", "1400000001"),
      cjson.encode { UserID = "u" })
    assert.are.equal(500, r.status)
    assert.truthy(log():find('imbill: this location\'s imbill.gateway.rest: opts.unknown_app: expected "refuse" or '
      .. '"pass", got "pas" (fix it in nginx.conf)', 1, true))
    local path = h.http.callback_path("1400000001", "State.StateChange", "spec-token-pro")
      :gsub("^/imbill/callback", "/imbill/callback-badpin")
    r = h.http.post(path, cjson.encode { CallbackCommand = "State.StateChange",
      Info = { Action = "Login", To_Account = "pinned" } })
    assert.are.equal(500, r.status)
    assert.truthy(log():find("imbill: this location's imbill.gateway.callback: opts.app: names no app of the "
      .. "configuration (an SDKAppID, as a string), got 1400000001 (fix it in nginx.conf)", 1, true))
  end)
end)
