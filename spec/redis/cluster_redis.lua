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

  -- A slot half moved: the source answers ASK for a key it no longer has
  -- (moved, or never written), and only the node named, after ASKING, has
  -- it.  A pipeline of reads (the login flush's states, the epoch check,
  -- the month's transaction) follows each ASK to that node, as one command
  -- does; before, it sent every read to the source again until its deadline.
  describe("a pipeline of reads while its slot migrates", function()
    local cluster = require "imbill.gateway.redis.cluster"
    local TAG = "askspec"
    local slot = cluster.slot_of_tag(TAG)
    local from, to, to_id, from_id
    local function k(name) return "{" .. TAG .. "}:" .. name end
    local function client()
      local servers = {}
      for i, p in ipairs(h.cluster_ports) do servers[i] = "127.0.0.1:" .. p end
      return cluster.new { servers = servers, cluster = true, connect_timeout = 0.5, timeout = 0.5, pool_size = 4,
                           backlog = 4, keepalive = 1 }
    end
    before_each(function()
      from = h.cluster_node_of(TAG)
      for _, p in ipairs(h.cluster_ports) do if p ~= from then to = p break end end
      from_id, to_id = h.rcall(from, "CLUSTER", "MYID"), h.rcall(to, "CLUSTER", "MYID")
      h.rcall(from, "HSET", k("moved"), "f", "on-target")
      h.rcall(from, "HSET", k("stays"), "f", "on-source")
      h.rcall(from, "SET", k("n1"), "1")
      h.rcall(from, "SET", k("n2"), "2")
      assert.are.equal("OK", h.rcall(to, "CLUSTER", "SETSLOT", slot, "IMPORTING", from_id))
      assert.are.equal("OK", h.rcall(from, "CLUSTER", "SETSLOT", slot, "MIGRATING", to_id))
    end)
    after_each(function()
      -- the migration ends (every key moved, the new owner told to every
      -- master), so the specs after this one find a stable cluster
      local keys = h.rcall(from, "CLUSTER", "GETKEYSINSLOT", slot, 100)
      if type(keys) == "table" and #keys > 0 then
        local cmd = { "MIGRATE", "127.0.0.1", tostring(to), "", "0", "5000", "KEYS" }
        for _, key in ipairs(keys) do cmd[#cmd + 1] = key end
        local rc = h.redis(from)
        rc:call_args(cmd)
        rc:close()
      end
      for _, p in ipairs(h.cluster_ports) do h.rcall(p, "CLUSTER", "SETSLOT", slot, "NODE", to_id) end
      h.wait(function() return h.cluster_node_of(TAG) == to end, 10, "the slot's new owner to be known")
      for _, name in ipairs { "moved", "stays", "n1", "n2" } do h.rcall(to, "DEL", k(name)) end
    end)

    it("reads each key where it is: moved, still on the source, never written", function()
      assert.are.equal("OK", h.rcall(from, "MIGRATE", "127.0.0.1", to, "", 0, 5000, "KEYS", k("moved")))
      -- the source names the target for the moved key and for one never written
      local _, ask = h.rcall(from, "HMGET", k("moved"), "f")
      assert.truthy(tostring(ask):find("^ASK " .. slot), tostring(ask))
      local c = client()
      local t0 = h.now()
      local rs, err = c:pipeline(slot, { { "HMGET", k("moved"), "f" }, { "HMGET", k("stays"), "f" },
                                         { "HMGET", k("none"), "f" }, { "GET", k("n1") } }, t0 + 5)
      assert.truthy(rs, tostring(err))
      assert.are.same({ "on-target" }, rs[1])
      assert.are.same({ "on-source" }, rs[2])
      assert.are.equal(require("imbill.gateway.redis.resp").null, rs[3][1])
      assert.are.equal("1", rs[4])
      -- (a deadline far off: a loaded machine's round trips are slow)
      assert.is_true(h.now() - t0 < 2.5, "answered within a round trip or two, not at the deadline")
      -- the slot map is not changed by an ASK: the slot is still the source's
      assert.are.equal("127.0.0.1:" .. from, c.slots[slot])
    end)

    it("sends a transaction whole to the target once all its keys have left, and waits while they are split", function()
      local tx = { { "MULTI" }, { "GET", k("n1") }, { "GET", k("n2") }, { "EXEC" } }
      assert.are.equal("OK", h.rcall(from, "MIGRATE", "127.0.0.1", to, "", 0, 5000, "KEYS", k("n1")))
      -- split: n1 on the target, n2 on the source; no node can answer it
      -- whole, so the call waits and fails at its deadline
      local c = client()
      local rs, err = c:pipeline(slot, tx, h.now() + 0.4)
      assert.is_nil(rs)
      assert.truthy(err)
      assert.are.equal("OK", h.rcall(from, "MIGRATE", "127.0.0.1", to, "", 0, 5000, "KEYS", k("n2")))
      local t0 = h.now()
      rs, err = c:pipeline(slot, tx, t0 + 5)
      assert.truthy(rs, tostring(err))
      assert.are.same({ "1", "2" }, rs[4])
      assert.is_true(h.now() - t0 < 2.5, "answered, not at the deadline")
      -- a transaction that reads a key written nowhere: the target refuses
      -- it (TRYAGAIN: Redis cannot tell an absent key from one still to
      -- come) until the migration ends; the call waits, bounded by its
      -- deadline, and is answered once the slot is the target's
      local with_none = { { "MULTI" }, { "GET", k("n1") }, { "HGETALL", k("none") }, { "EXEC" } }
      rs, err = c:pipeline(slot, with_none, h.now() + 0.4)
      assert.is_nil(rs)
      assert.truthy(err)
      local keys = h.rcall(from, "CLUSTER", "GETKEYSINSLOT", slot, 100)
      h.rcall(from, "MIGRATE", "127.0.0.1", to, "", 0, 5000, "KEYS", keys[1], keys[2])
      for _, p in ipairs(h.cluster_ports) do h.rcall(p, "CLUSTER", "SETSLOT", slot, "NODE", to_id) end
      rs, err = c:pipeline(slot, with_none, h.now() + 2)
      assert.truthy(rs, tostring(err))
      assert.are.same({ "1", {} }, rs[4])
    end)

    it("follows MOVED once the migration has ended", function()
      local c = client()
      assert.truthy(c:pipeline(slot, { { "GET", k("n1") } }, h.now() + 2))
      local keys = h.rcall(from, "CLUSTER", "GETKEYSINSLOT", slot, 100)
      h.rcall(from, "MIGRATE", "127.0.0.1", to, "", 0, 5000, "KEYS", keys[1], keys[2], keys[3], keys[4])
      for _, p in ipairs(h.cluster_ports) do h.rcall(p, "CLUSTER", "SETSLOT", slot, "NODE", to_id) end
      local rs, err = c:pipeline(slot, { { "GET", k("n1") }, { "HMGET", k("stays"), "f" } }, h.now() + 2)
      assert.truthy(rs, tostring(err))
      assert.are.equal("1", rs[1])
      assert.are.same({ "on-source" }, rs[2])
      assert.are.equal("127.0.0.1:" .. to, c.slots[slot])
    end)
  end)

  h.lost_create_specs({ describe = describe, it = it, assert = assert }, "the cluster", PRO,
    function() return (h.cluster_node_of(PRO)) end)
end)
