-- The same caps on a Redis Cluster of three masters: every key of an app
-- carries its hash tag, so each program runs on one slot's node.  The slot
-- map changes under the gateway (the app's slot migrated to another
-- master, a master restarted): calls follow MOVED and ASK, wait out
-- TRYAGAIN, and the caps still hold exactly.
local h = require "rs_helper"
local cjson = h.cjson

local PRO, TRIAL = "1400000011", "1400000012"

local function tally(answers)
  local t = { ok = 0, codes = {} }
  for _, r in ipairs(answers) do
    local ok, v = pcall(cjson.decode, r.body)
    if ok and v.ActionStatus == "OK" then t.ok = t.ok + 1
    elseif ok then t.codes[v.ErrorCode] = (t.codes[v.ErrorCode] or 0) + 1
    else t.codes.bad = (t.codes.bad or 0) + 1 end
  end
  return t
end

local function codes_text(t)
  local o = {}
  for k, v in pairs(t.codes) do o[#o + 1] = tostring(k) .. "=" .. v end
  return table.concat(o, " ")
end

local function av_wave(tag, n)
  local reqs = {}
  for i = 1, n do
    reqs[i] = { i % 2 + 1, "POST", h.rest_path("group_open_http_svc/create_group", PRO),
                cjson.encode { Type = "AVChatRoom", GroupId = tag .. i, Owner_Account = "o" .. i } }
  end
  return h.concurrent(reqs)
end

describe("a fleet of two nodes on a 3-master Redis Cluster", function()
  before_each(h.reset)

  it("creates exactly 50 AVChatRoom groups and imports exactly 100 accounts, run after run", function()
    for run = 1, 3 do
      h.reset()
      local t = tally(av_wave("r" .. run .. "-", 200))
      assert.are.equal(50, t.ok, "run " .. run)
      assert.are.equal(150, t.codes[10036], "run " .. run)
      assert.are.equal("50", h.cget(PRO, "c:groups_of:AVChatRoom"), "run " .. run)
      local reqs = {}
      for i = 1, 300 do
        reqs[i] = { i % 2 + 1, "POST", h.rest_path("im_open_login_svc/account_import", TRIAL),
                    cjson.encode { UserID = "r" .. run .. "u" .. i } }
      end
      local a = tally(h.concurrent(reqs))
      assert.are.equal(100, a.ok, "run " .. run)
      assert.are.equal(200, a.codes[70398], "run " .. run)
      assert.are.equal("100", h.cget(TRIAL, "c:accounts"), "run " .. run)
    end
  end)

  it("keeps the cap exact while the app's slot migrates to another master under load (MOVED, ASK)", function()
    for i = 1, 30 do
      local _, v = h.rest(i % 2 + 1, "group_open_http_svc/create_group", PRO, { Type = "AVChatRoom", GroupId = "pre" .. i })
      assert.are.equal("OK", v.ActionStatus)
    end
    local before = h.stub_count("create_group")
    local redirects0 = h.metric_sum("imbill_redis_redirects_total", { kind = "moved" })
      + h.metric_sum("imbill_redis_redirects_total", { kind = "ask" })
      + h.metric_sum("imbill_redis_redirects_total", { kind = "tryagain" })
    local from, slot = h.cluster_node_of(PRO)
    local to
    for _, p in ipairs(h.cluster_ports) do if p ~= from then to = p break end end
    local done = h.prefix .. "/bg/migrated"
    os.remove(done)
    h.background(string.format("MIGRATE_DONE=%s %s/spec/redis/support/migrate.sh %d %d %d 0.03 3", done,
      os.getenv("IMBILL_TOP"), slot, from, to))
    local answers = {}
    local waves = 0
    repeat
      waves = waves + 1
      for _, r in ipairs(av_wave("w" .. waves .. "-", 40)) do answers[#answers + 1] = r end
    until io.open(done) or waves >= 40
    assert.truthy(io.open(done), "the migration did not finish")
    local t = tally(answers)
    assert.are.equal(to, (h.cluster_node_of(PRO)))
    local counted = tonumber(h.cget(PRO, "c:groups_of:AVChatRoom")) - 30
    -- every allowed call is counted, nothing past the cap
    assert.are.equal(t.ok, counted)
    assert.are.equal(t.ok, h.stub_count("create_group") - before)
    assert.is_true(counted <= 20)
    if not t.codes[10002] then assert.are.equal(20, counted) end
    io.stderr:write(string.format("migration: %d waves, %d allowed, refusals %s; moved %d ask %d tryagain %d\n",
      waves, t.ok, codes_text(t), h.metric_sum("imbill_redis_redirects_total", { kind = "moved" }),
      h.metric_sum("imbill_redis_redirects_total", { kind = "ask" }),
      h.metric_sum("imbill_redis_redirects_total", { kind = "tryagain" })))
    local redirects = h.metric_sum("imbill_redis_redirects_total", { kind = "moved" })
      + h.metric_sum("imbill_redis_redirects_total", { kind = "ask" })
      + h.metric_sum("imbill_redis_redirects_total", { kind = "tryagain" })
    assert.is_true(redirects > redirects0, "no redirection was followed")
    -- and after it, on the new master, the cap is still the cap
    local after = tally(av_wave("after-", 30))
    assert.are.equal(20 - counted, after.ok)
    assert.are.equal("50", h.cget(PRO, "c:groups_of:AVChatRoom"))
    assert.is_true(h.metric_sum("imbill_redis_redirects_total", { kind = "moved" }) > 0)
  end)

  it("counts exactly what it allowed when the app's master restarts under load", function()
    local port = h.cluster_node_of(PRO)
    local before = h.stub_count("create_group")
    local finished = h.ctl_later(0.15, "restart", port, 0.4)
    local answers = {}
    for w = 1, 8 do
      for _, r in ipairs(av_wave("k" .. w .. "-", 25)) do answers[#answers + 1] = r end
      h.sleep(0.1)
    end
    h.wait(finished, 10, "the master to restart")
    h.wait(function()
      local c = h.rcall(port, "CLUSTER", "INFO")
      return type(c) == "string" and c:find("cluster_state:ok", 1, true)
    end, 15, "the cluster to be ok again")
    h.settle()
    local t = tally(answers)
    local v = h.cget(PRO, "c:groups_of:AVChatRoom")
    local counted = tonumber(type(v) == "string" and v or 0)
    io.stderr:write(string.format("restart: %d allowed, refusals %s\n", t.ok, codes_text(t)))
    assert.are.equal(t.ok, counted)
    assert.are.equal(t.ok, h.stub_count("create_group") - before)
    assert.is_true(counted <= 50)
    -- refused while the master was away, with the store's code, and only then
    assert.are.equal(#answers, t.ok + (t.codes[10036] or 0) + (t.codes[10002] or 0))
  end)

  h.lost_create_specs({ describe = describe, it = it, assert = assert }, "the cluster", PRO,
    function() return (h.cluster_node_of(PRO)) end)
end)
