-- The gateway's configuration as an operator writes it: every mistake is
-- refused by setup() (so nginx does not start) with the app, the field and
-- the value, rather than found at the first request.
local h = require "ngx_helper"
local cjson = require "cjson"

local config = require "imbill.gateway.config"
require("imbill.gateway.core").init(os.getenv("IMBILL_TOP") .. "/build/jit/imbill/core.so")

local function app(t)
  t.book = t.book or "2020"
  t.edition = t.edition or "pro"
  return t
end

local function refused(o)
  local ok, e = pcall(config.check, o)
  assert.is_false(ok, "accepted")
  return tostring(e)
end

-- inside nginx, where the declared dicts are known
local function checked_in_nginx(o)
  return h.json(h.http.post("/t/config", cjson.encode(o)))
end

local prefix = os.getenv("IMBILL_NGX_PREFIX")

-- nginx started (in a directory of its own, no server) with setup(config
-- text): what it printed, after stopping it if it did start
local function start_with(text_of_config)
  local dir = prefix .. "/badstart"
  local out = h.own_nginx(dir, ('  init_by_lua_block { require "resty.core"; require("imbill.gateway").setup(@CONFIG@) }')
    :gsub("@CONFIG@", function() return text_of_config end))
  -- it must not have started; if it did, it is stopped here
  h.stop_own(dir)
  return out
end

describe("gateway configuration", function()
  it("is refused by nginx at start with the app, the field and the value printed", function()
    local out = start_with('{ apps = { ["1400000001"] = { book = "2020", edition = "gold" } } }')
    assert.truthy(out:find('init_by_lua error: imbill.gateway.setup: apps[1400000001].edition: price book 2020 has '
      .. 'no such edition (it has: trial, pro, flagship), got "gold"', 1, true), out)
    assert.falsy(out:find("unknown error", 1, true), out)
    assert.matches("rc=1\n$", out)
    -- and a good one starts (and is stopped at once)
    out = start_with('{ apps = { ["1400000001"] = { book = "2020", edition = "pro", token = "t" } } }')
    assert.matches("rc=0\n$", out)
  end)

  it("refuses an app listed twice, as a number and as a string", function()
    -- which of the two comes first is the order pairs() meets them in
    local e = refused { apps = { [1400000001] = app { edition = "pro" }, ["1400000001"] = app { edition = "trial" } } }
    assert.truthy(e:find("^imbill.gateway.setup: apps%[1400000001%]: is listed twice %(as .+ and .+%): give each app "
      .. "one entry$"), e)
    assert.truthy(e:find('"1400000001"', 1, true) and e:find(" 1400000001[ )]"), e)
  end)

  it("takes a whole number key as its SDKAppID, and refuses keys the REST path could never match", function()
    local c = config.check { apps = { [1400000001] = app {} } }
    assert.truthy(c.apps["1400000001"])
    for _, bad in ipairs { 1400000001.5, -5, 1e30, "01400000001", "0", "14000x" } do
      local e = refused { apps = { [bad] = app {} } }
      assert.are.equal("imbill.gateway.setup: apps: keys are SDKAppIDs (a whole number written plainly, no leading 0)"
        .. ", got " .. require("imbill.internal.errors").show(bad), e)
    end
  end)

  it("names the app in an unknown field, a price book, an edition or an add-on that does not exist", function()
    assert.truthy(refused { apps = { ["1400000001"] = app { tokn = "x" } } }
      :find("^imbill.gateway.setup: apps%[1400000001%].tokn: unknown field %(known: "))
    assert.are.equal('imbill.gateway.setup: apps[1400000001].book: unknown price book (built-in: 2020, 2021, 2022), '
      .. 'got "2019"', refused { apps = { ["1400000001"] = app { book = "2019" } } })
    assert.are.equal("imbill.gateway.setup: apps[1400000001].edition: price book 2020 has no such edition (it has: "
      .. 'trial, pro, flagship), got "gold"', refused { apps = { ["1400000001"] = app { edition = "gold" } } })
    assert.truthy(refused { apps = { ["1400000001"] = app { addons = { "av_unlimited", "nope" } } } }
      :find('^imbill.gateway.setup: apps%[1400000001%].addons%[2%]: price book 2020 has no such add%-on .*got "nope"$'))
    assert.truthy(refused { apps = { ["1400000001"] = app { codes = { groups = {} } } } }
      :find("^imbill.gateway.setup: apps%[1400000001%].codes.groups: unknown field"))
    assert.truthy(refused { redis = { main = { servers = { "127.0.0.1:6379" }, tiemout = 1 } },
                            apps = { ["1400000001"] = app {} } }
      :find("^imbill.gateway.setup: redis.main.tiemout: unknown field"))
  end)

  it("refuses an add-on listed twice (the usage location's invoice would fail on every month)", function()
    assert.are.equal("imbill.gateway.setup: apps[1400000001].addons[2]: is listed twice (addons[1] names it already), "
      .. 'got "groups_per_user"',
      refused { apps = { ["1400000001"] = app { addons = { "groups_per_user", "groups_per_user" } } } })
  end)

  it("refuses a callback token with a space or a line end (every callback would fail as bad_sign)", function()
    for _, bad in ipairs { " xxxxyyyy", "xxxxyyyy\n", "xxxx yyyy", "\t" } do
      assert.are.equal("imbill.gateway.setup: apps[1400000001].token: has a space or a control character (the token "
        .. "Tencent's console shows has none: was it pasted with one?), got "
        .. require("imbill.internal.errors").show(bad),
        refused { apps = { ["1400000001"] = app { token = bad } } })
    end
    assert.is_true((pcall(config.check, { apps = { ["1400000001"] = app { token = "xxxxyyyy" } } })))
  end)

  it("refuses a name or a dict that is not a string", function()
    assert.are.equal("imbill.gateway.setup: apps[1400000001].dict: expected a lua_shared_dict name, got 5",
      refused { apps = { ["1400000001"] = app { dict = 5 } } })
    assert.are.equal("imbill.gateway.setup: apps[1400000001].name: expected a string, got 5",
      refused { apps = { ["1400000001"] = app { name = 5 } } })
  end)

  it("refuses a field that does nothing where the app counts (a dict for Redis, buckets for a dict)", function()
    local redis = { main = { servers = { "127.0.0.1:6379" } } }
    assert.are.equal('imbill.gateway.setup: apps[1400000001].dict: is for an app counting in a shared dict; this one '
      .. 'counts in Redis main, got "imbill_small"',
      refused { redis = redis, apps = { ["1400000001"] = app { redis = "main", dict = "imbill_small" } } })
    assert.are.equal("imbill.gateway.setup: apps[1400000001].buckets: is for an app counting in Redis (redis = ...); "
      .. "this one counts in a shared dict, got 64", refused { apps = { ["1400000001"] = app { buckets = 64 } } })
    assert.is_true((pcall(config.check, { redis = redis, apps = { ["1400000001"] = app { redis = "main", buckets = 64 } } })))
  end)

  it("refuses a number of seconds for tz that is no time zone (8 hours, 480 minutes)", function()
    for _, bad in ipairs { 8, 480, -480, 28800.5 } do
      assert.are.equal("imbill.gateway.setup: apps[1400000001].tz: is not a whole quarter hour of seconds (a number "
        .. 'is seconds: +08:00 is 28800; or write "+08:00"), got ' .. require("imbill.internal.errors").show(bad),
        refused { apps = { ["1400000001"] = app { tz = bad } } })
    end
    for tz, shown in pairs { [28800] = "+08:00", [20700] = "+05:45", [-43200] = "-12:00", [50400] = "+14:00" } do
      assert.are.equal(shown, config.check { apps = { ["1400000001"] = app { tz = tz } } }.apps["1400000001"].tz)
    end
  end)

  it("refuses a callback lock wait a before callback could not answer within Tencent's 2 seconds", function()
    assert.truthy(refused { callback_lock_wait = 2, apps = { ["1400000001"] = app {} } }
      :find("^imbill.gateway.setup: callback_lock_wait: must leave a \"before\" callback time to answer"))
    assert.is_true((pcall(config.check, { callback_lock_wait = 1.5, apps = { ["1400000001"] = app {} } })))
  end)

  it("refuses a callback window too short for callbacks to arrive in (RequestTime is whole seconds)", function()
    -- window = 1 (a minute meant, or a second) would reject most callbacks as stale
    for _, w in ipairs { 1, 0.5, 4.9 } do
      assert.truthy(refused { window = w, apps = { ["1400000001"] = app {} } }
        :find("^imbill.gateway.setup: window: must be at least 5 seconds: RequestTime is in whole seconds"))
    end
    assert.is_true((pcall(config.check, { window = 5, apps = { ["1400000001"] = app {} } })))
    assert.are.equal(60, config.check { apps = { ["1400000001"] = app {} } }.window)
  end)

  it("refuses a callback window longer than an hour (a replay lives as long; 60000 is a minute in milliseconds)",
    function()
    for _, w in ipairs { 3601, 60000 } do
      assert.truthy(refused { window = w, apps = { ["1400000001"] = app {} } }
        :find("^imbill.gateway.setup: window: must be at most 3600 seconds: a signed callback can be replayed"))
    end
    assert.is_true((pcall(config.check, { window = 3600, apps = { ["1400000001"] = app {} } })))
  end)

  it("refuses a replay dict shared with the counts, the meta dict or the journal (it evicts when full)", function()
    assert.truthy(refused { replay = "imbill", apps = { ["1400000001"] = app {} } }
      :find('^imbill.gateway.setup: replay: is the same dict as dict: the replay dict drops its oldest entries'))
    assert.truthy(refused { replay = "imbill_meta", apps = { ["1400000001"] = app {} } }
      :find('^imbill.gateway.setup: replay: is the same dict as meta:'))
    assert.truthy(refused { replay = "imbill_small", apps = { ["1400000001"] = app { dict = "imbill_small" } } }
      :find('^imbill.gateway.setup: replay: is the same dict as apps%[1400000001%].dict:'))
  end)

  it("refuses a meta dict that also holds counts (the status page reads every key of meta)", function()
    assert.truthy(refused { meta = "imbill", apps = { ["1400000001"] = app {} } }
      :find('^imbill.gateway.setup: meta: is the same dict as dict %(the counts%)'))
  end)

  it("takes an SDKAppID given as a number in usage_of, as the configuration's keys do", function()
    local v = h.json(h.http.get("/t/usageof?app=1400000001&month=2026-12"))
    assert.is_nil(v.error)
    assert.are.equal("2026-12", v.usage.month)
    assert.are.equal("pro", v.usage.edition)
    v = h.json(h.http.get("/t/usageof?app=1400000077&month=2026-12"))
    assert.are.equal("unknown app 1400000077", v.error)
  end)

  it("inside nginx, refuses a dict nginx.conf does not declare, naming the field", function()
    local ok = checked_in_nginx { replay = "imbill_replay", apps = { ["1400000001"] = app {} } }
    assert.is_true(ok.ok, ok.error)
    for _, c in ipairs {
      { { dict = "imbil", apps = { ["1400000001"] = app {} } }, 'dict: no lua_shared_dict of that name is declared '
        .. 'in nginx.conf, got "imbil"' },
      { { meta = "meta", apps = { ["1400000001"] = app {} } }, 'meta: no lua_shared_dict' },
      { { replay = "imbill_replya", apps = { ["1400000001"] = app {} } }, 'replay: no lua_shared_dict' },
      { { apps = { ["1400000001"] = app { dict = "imbill_smal" } } }, 'apps[1400000001].dict: no lua_shared_dict' },
    } do
      local v = checked_in_nginx(c[1])
      assert.truthy(v.error and v.error:find("imbill.gateway.setup: " .. c[2], 1, true), tostring(v.error))
    end
  end)
end)
