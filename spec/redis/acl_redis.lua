-- Two Redis entries on one server as different ACL users (`username`,
-- `password`): each app's programs run with its own entry's rights.  A
-- pooled connection keeps the user it was authenticated as, so entries
-- that share a server must not share a pool: an entry that may only read
-- would otherwise write through another entry's connection.
local h = require "rs_helper"

local OWN, RO, MAIN = "1400000016", "1400000017", "1400000002"

-- The users are the single Redis's own (scripts/redis-specs.sh starts it
-- with them, so a spec that restarts it keeps them): imbill_own may use only
-- OWN's keys, imbill_ro may only read.
local function keys_of(app) return h.rcall(h.redis_port, "KEYS", "imb:{" .. app .. "}:*") end

describe("Redis entries as ACL users", function()
  before_each(h.reset)

  it("count an app as its own user, whose keys are the app's only", function()
    for n = 1, 2 do
      local _, v = h.rest(n, "im_open_login_svc/account_import", OWN, { UserID = "own" .. n })
      assert.are.equal("OK", v.ActionStatus, v.ErrorInfo)
    end
    assert.are.equal("2", h.rcall(h.redis_port, "GET", h.key(OWN, "c:accounts")))
  end)

  it("refuse an app whose user may only read, even on a server other entries' connections are pooled for", function()
    -- each node's workers keep connections of the default user (MAIN's
    -- entry) and of imbill_own idle in their pools
    for i = 1, 8 do
      for n = 1, 2 do
        local _, v = h.rest(n, "im_open_login_svc/account_import", MAIN, { UserID = "m" .. i .. "-" .. n })
        assert.are.equal("OK", v.ActionStatus)
        local _, w = h.rest(n, "im_open_login_svc/account_import", OWN, { UserID = "o" .. i .. "-" .. n })
        assert.are.equal("OK", w.ActionStatus)
      end
    end
    for i = 1, 8 do
      for n = 1, 2 do
        local _, v = h.rest(n, "im_open_login_svc/account_import", RO, { UserID = "r" .. i .. "-" .. n })
        assert.are.equal("FAIL", v.ActionStatus)
        assert.are.equal(70500, v.ErrorCode)
        assert.truthy(v.ErrorInfo:find("NOPERM", 1, true), v.ErrorInfo)
      end
    end
    assert.are.same({}, keys_of(RO))
  end)

  it("refuse a username without a password, naming the field", function()
    local config = require "imbill.gateway.config"
    local ok, err = pcall(config.redis_config, "redis.x", { servers = { "127.0.0.1:1" }, username = "u" })
    assert.is_false(ok)
    err = tostring(err)
    assert.truthy(err:find("redis.x.password", 1, true), err)
    ok, err = pcall(config.redis_config, "redis.x", { servers = { "127.0.0.1:1" }, username = "a b", password = "p" })
    assert.is_false(ok)
    err = tostring(err)
    assert.truthy(err:find("redis.x.username", 1, true) and err:find('"a b"', 1, true), err)
  end)
end)
