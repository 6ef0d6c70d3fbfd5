-- Caps under concurrency: many connections at once against four workers,
-- every request in flight together, repeated runs.  A hard cap is reached
-- exactly and never passed by one.
local h = require "ngx_helper"
local cjson = require "cjson"

local PRO, TRIAL = "1400000001", "1400000002"
local RUNS = 5

local function count(answers, code)
  local n = 0
  for _, r in ipairs(answers) do
    local v = cjson.decode(r.body)
    if (code == 0 and v.ActionStatus == "OK") or (code ~= 0 and v.ErrorCode == code) then n = n + 1 end
  end
  return n
end

describe("caps under concurrency (4 workers)", function()
  before_each(h.flush)

  it("answers the usage location with one snapshot of the month while groups are being created", function()
    -- groups created today only: every earlier day of the month peaked at 0
    -- groups, and the month carries no count into it; a month read while
    -- other workers create groups between its reads came out negative
    local polls, seen = h.http.usage_while_creating(h.http.concurrent, "1400000004", 160)
    assert.are.equal(240, polls)
    assert.are.same({}, seen)
  end)

  it("creates exactly 50 AVChatRoom groups on pro out of 200 at once, run after run", function()
    for run = 1, RUNS do
      h.flush()
      local before = h.stub_count("create_group")
      local reqs = {}
      for i = 1, 200 do
        reqs[i] = { "POST", h.http.rest_path("group_open_http_svc/create_group", PRO),
                    cjson.encode { Type = "AVChatRoom", GroupId = "r" .. run .. "av" .. i, Owner_Account = "o" .. i } }
      end
      local answers = h.http.concurrent(reqs)
      assert.are.equal(50, count(answers, 0), "run " .. run)
      assert.are.equal(150, count(answers, 10036), "run " .. run)
      assert.are.equal(50, h.stub_count("create_group") - before, "run " .. run)
      assert.are.equal(50, h.keys(PRO)["c:groups_of:AVChatRoom"], "run " .. run)
    end
  end)

  it("imports exactly 100 accounts on trial out of 300 at once, run after run", function()
    for run = 1, RUNS do
      h.flush()
      local before = h.stub_count("account_import")
      local reqs = {}
      for i = 1, 300 do
        reqs[i] = { "POST", h.http.rest_path("im_open_login_svc/account_import", TRIAL),
                    cjson.encode { UserID = "r" .. run .. "u" .. i } }
      end
      local answers = h.http.concurrent(reqs)
      assert.are.equal(100, count(answers, 0), "run " .. run)
      assert.are.equal(200, count(answers, 70398), "run " .. run)
      assert.are.equal(100, h.stub_count("account_import") - before, "run " .. run)
      assert.are.equal(100, h.keys(TRIAL)["c:accounts"], "run " .. run)
    end
  end)

  it("imports exactly 100 accounts when many multi-imports race, item by item", function()
    for run = 1, 3 do
      h.flush()
      local reqs = {}
      for i = 1, 150 do
        reqs[i] = { "POST", h.http.rest_path("im_open_login_svc/multiaccount_import", TRIAL),
                    cjson.encode { AccountList = { { UserID = "m" .. i .. "a" }, { UserID = "m" .. i .. "b" },
                                                   { UserID = "m" .. i .. "c" } } } }
      end
      local answers = h.http.concurrent(reqs)
      local refused = 0
      for _, r in ipairs(answers) do refused = refused + #(cjson.decode(r.body).FailAccounts or {}) end
      assert.are.equal(350, refused, "run " .. run)
      assert.are.equal(100, h.keys(TRIAL)["c:accounts"], "run " .. run)
    end
  end)

  it("lets exactly 20 members into a trial group when 100 join at once", function()
    h.rest("group_open_http_svc/create_group", TRIAL, { Type = "Public", GroupId = "g" })
    local reqs = {}
    for i = 1, 100 do
      reqs[i] = { "POST", h.http.rest_path("group_open_http_svc/add_group_member", TRIAL),
                  cjson.encode { GroupId = "g", MemberList = { { Member_Account = "m" .. i } } } }
    end
    local answers = h.http.concurrent(reqs)
    assert.are.equal(20, count(answers, 0))
    assert.are.equal(80, count(answers, 10014))
    assert.are.equal(20, h.keys(TRIAL)["gm:1:g#"])
  end)

  it("approves exactly the cap when before callbacks race", function()
    for i = 1, 45 do
      h.callback(PRO, "Group.CallbackAfterCreateGroup", "spec-token-pro", { CallbackCommand =
        "Group.CallbackAfterCreateGroup", GroupId = "av" .. i, Type = "AVChatRoom" })
    end
    local reqs = {}
    for i = 1, 60 do
      reqs[i] = { "POST", h.http.callback_path(PRO, "Group.CallbackBeforeCreateGroup", "spec-token-pro"),
                  cjson.encode { CallbackCommand = "Group.CallbackBeforeCreateGroup", Type = "AVChatRoom",
                                 Owner_Account = "o" .. i, Name = "n" .. i } }
    end
    local answers = h.http.concurrent(reqs)
    local allowed, refused = 0, 0
    for _, r in ipairs(answers) do
      local v = cjson.decode(r.body)
      if v.ErrorCode == 0 then allowed = allowed + 1 elseif v.ErrorCode == 10150 then refused = refused + 1 end
    end
    assert.are.equal(5, allowed)
    assert.are.equal(55, refused)
  end)

  it("counts each of 100 users once in DAU when 400 logins arrive at once", function()
    local reqs = {}
    local t = os.time()
    for i = 1, 400 do
      local u = "u" .. (i % 100)
      reqs[i] = { "POST", h.http.callback_path(PRO, "State.StateChange", "spec-token-pro"),
                  cjson.encode { CallbackCommand = "State.StateChange", EventTime = t * 1000 + i,
                                 Info = { Action = "Login", To_Account = u } } }
    end
    local answers = h.http.concurrent(reqs)
    for _, r in ipairs(answers) do assert.are.equal(200, r.status) end
    local day = math.floor((t + 8 * 3600) / 86400)
    assert.are.equal(100, h.keys(PRO)["d:" .. day .. ":dau"])
  end)
end)
