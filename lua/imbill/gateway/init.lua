--- imbill.gateway: Tencent IM quotas enforced in nginx (one node).
--
--     init_by_lua_block   { require("imbill.gateway").setup{ apps = { ... } } }
--     access_by_lua_block { require("imbill.gateway").rest() }        -- REST API location
--     content_by_lua_block { require("imbill.gateway").callback() }   -- Tencent's callback URL
--     content_by_lua_block { require("imbill.gateway").usage() }      -- ?sdkappid=&month=YYYY-MM
--     content_by_lua_block { require("imbill.gateway").status() }     -- Prometheus text
--     header_filter_by_lua_block, body_filter_by_lua_block, log_by_lua_block:
--       .header_filter(), .body_filter(), .log() (once, at server level)
--
-- docs/gateway.md is the reference.  Each function below runs in the nginx
-- phase its entry names; at request time nothing is raised to nginx: a
-- refusal is Tencent's own answer (HTTP 200, `ActionStatus` `FAIL`, Tencent's
-- `ErrorCode`), and a store that cannot decide is answered by the app's
-- failure policy.
local ngx = ngx
local M = {}

local function lazy(mod, fn)
  return function(...) return require(mod)[fn](...) end
end

--- Checks the configuration and prepares the stores (`init_by_lua`).
-- @tab o the configuration (docs/gateway.md, "Configuration"):
-- @tab o.apps `{ ["SDKAppID"] = { book =, edition =, addons =, tz =, token =, failure =, ... } }`
-- @string[opt="imbill"] o.dict the shared dict of the counts
-- @string[opt="imbill_meta"] o.meta the dict of locks, counters and the damage mark
-- @string[opt] o.replay the dict remembering recent callbacks (replay protection)
-- @string[opt="refuse"] o.unknown_app a REST call of an app not in `apps`: `"refuse"` or `"pass"`
-- @tab[opt] o.redis Redis setups apps may count in (docs/fleet.md)
-- @treturn table the checked configuration
-- @raise a string naming the app, the field and the value (`imbill.gateway.setup: apps[1400000001].edition:`
-- `price book 2020 has no such edition ...`), which nginx prints: it then refuses to start (or, on a
-- reload, keeps the configuration it had) rather than misread this one
function M.setup(o)
  -- nginx prints an init_by_lua error only when it is a string (any other
  -- value is "init_by_lua error: unknown error"): the error objects of the
  -- checks are raised as their text
  local ok, cfg = pcall(require("imbill.gateway.config").check, o)
  if not ok then error(tostring(cfg), 0) end
  for id, app in pairs(cfg.apps) do
    if not app.takes_callbacks and ngx and ngx.log then
      ngx.log(ngx.WARN, "imbill: app ", id, " has no callback token: its callbacks are refused (set token, or ",
        "unsigned_callbacks = true where nothing but Tencent can reach the callback location)")
    end
  end
  require("imbill.gateway.state").init(cfg)
  -- the workers inherit the loaded modules: each phase calls its function
  -- straight away
  local rest = require "imbill.gateway.rest"
  M.rest, M.header_filter, M.body_filter, M.log = rest.access, rest.header_filter, rest.body_filter, rest.log
  M.callback = require("imbill.gateway.callback").handle
  M.counts_callback = require("imbill.gateway.callback").counts
  return cfg
end

--- `access_by_lua`, in the REST API's location: decides the call.  A call a
-- quota governs is counted (or reserved until Tencent's answer settles it)
-- and passed on, or refused with Tencent's own answer and error code.
-- @tab[opt] opts `{ unknown_app = "refuse" | "pass" }` overrides the configuration for this location
-- @return nothing: the call goes on to Tencent, or the refusal is sent
-- @function rest
M.rest = lazy("imbill.gateway.rest", "access")
--- `header_filter_by_lua`, once at server level: lets the gateway read
-- Tencent's answer to a call it decided.
-- @return nothing
-- @function header_filter
M.header_filter = lazy("imbill.gateway.rest", "header_filter")
--- `body_filter_by_lua`, once at server level: reads Tencent's answer and
-- settles what the call reserved.
-- @return nothing
-- @function body_filter
M.body_filter = lazy("imbill.gateway.rest", "body_filter")
--- `log_by_lua`, optional: counts and logs answers that never came whole
-- (`imbill_settle_unknown_total`).
-- @return nothing
-- @function log
M.log = lazy("imbill.gateway.rest", "log")
--- Answers Tencent's callbacks (`content_by_lua`).
--
-- `content_by_lua`, at Tencent's callback URL: checks the signature and the
-- replay window, counts after callbacks, and answers before callbacks with
-- a refusal code where a quota says no.
-- @tab[opt] opts `{ app = "SDKAppID" }` pins the location to one app
-- @return nothing: the answer is sent
-- @function callback
M.callback = lazy("imbill.gateway.callback", "handle")

--- Whether `callback()` counts a callback command.  Tencent sends every
-- callback of an app to the one URL its console names; the commands the
-- gateway does not count (messages, profiles, ...) are the app's own
-- callback server's, and a location sends them on with `ngx.exec` to a
-- location that proxies to it (docs/gateway.md, "Callbacks": "One URL for
-- every callback").
-- @tparam ?string cmd the query's `CallbackCommand`
-- @treturn boolean
-- @function counts_callback
M.counts_callback = lazy("imbill.gateway.callback", "counts")

--- Starts each worker's background work (`init_worker_by_lua`).
--
-- `init_worker_by_lua` (optional; needed with Redis stores): starts the
-- reservation sweep at once instead of on the first callback, and for each
-- Redis store its login flush and its journal replay (work an earlier
-- outage left).
-- @return nothing
function M.init_worker()
  require("imbill.gateway.reserve").start()
  local state = require "imbill.gateway.state"
  for _, rs in pairs(state.redis or {}) do
    require("imbill.gateway.redis.flush").start(rs)
    require("imbill.gateway.redis.journal").start(rs)
  end
end

local function app_of(id)
  local state = require "imbill.gateway.state"
  return state.cfg and state.cfg.apps[id], state
end

-- An app's month from a shared dict, read under the app's lock: groups
-- change only under it, so the count carried into the month, the days' net
-- changes and their logs are one snapshot (read while other workers create
-- groups, the count carried in came out too low, even negative).
local function dict_month(store, app, month)
  local usage = require "imbill.gateway.usage"
  local d = store.d
  local function read(k) return d:get(k) end
  local done, ok, u = store:run(app.id, nil, function() return true, pcall(usage.month, read, app, month) end)
  if not done then error("imbill.gateway.usage: the app's counts cannot be read now (" .. tostring(ok) .. ")", 0) end
  if not ok then error(u, 0) end
  return u
end

--- The usage of an app's month (a table imbill.invoice takes), read from
-- this node's store.
-- @tparam string|int appid the app's SDKAppID, as in the configuration (a whole number is taken as its digits)
-- @string month `"YYYY-MM"`
-- @treturn ?table the usage, as `m:usage(month)` gives it for a meter
-- @treturn[opt] string `"unknown app ..."` when the app is not configured
function M.usage_of(appid, month)
  local app, state = app_of(require("imbill.gateway.config").app_key(appid))
  if not app then return nil, "unknown app " .. tostring(appid) end
  local store = state.store_for(app)
  if store.usage then return store:usage(app, month) end
  return dict_month(store, app, month)
end

--- `content_by_lua`: the usage location, ?sdkappid=...&month=YYYY-MM.
-- Answers JSON `{ app, usage, invoice }`: 404 for an unknown app, 400 for a
-- malformed month, 503 when the store cannot answer.
-- @return nothing: the answer is sent
function M.usage()
  local json = require "imbill.gateway.json"
  -- the app is read from the query as the REST path reads it: a query naming
  -- sdkappid twice is refused, where $arg_sdkappid would answer for the first
  local query = require "imbill.gateway.query"
  local appid, why_not = query.app(ngx.var.args)
  local month = ngx.var.arg_month
  ngx.header.content_type = "application/json"
  local function refuse(status, field, why)
    ngx.status = status
    ngx.say(json.encode { error = "imbill.gateway.usage: " .. field .. ": " .. why })
    return ngx.exit(status)
  end
  if why_not then
    return refuse(400, "sdkappid", "the query " .. query.WHY[why_not] .. " (ask for one app: ?sdkappid=...&month=YYYY-MM)")
  end
  local app, state = app_of(appid)
  if not appid or appid == "" then return refuse(404, "sdkappid", "missing (expected a configured SDKAppID)") end
  if not app then return refuse(404, "sdkappid", "no app " .. json.encode(appid) .. " is configured on this gateway") end
  if not month or month == "" then return refuse(400, "month", "missing (expected YYYY-MM)") end
  -- $arg_month is the first of several: one month a request, as one app
  local months, unread = query.count(ngx.var.args, "month")
  if unread then return refuse(400, "month", "the query " .. query.WHY[unread]) end
  if months > 1 then
    return refuse(400, "month", "the query names month more than once (ask for one month: month=YYYY-MM)")
  end
  local store = state.store_for(app)
  local usage = require "imbill.gateway.usage"
  local errors = require "imbill.internal.errors"
  local ok, doc
  local status = 400
  -- a month the gateway cannot read is the caller's mistake (400); a store
  -- that cannot answer is the service's (503)
  ok, doc = pcall(require("imbill.internal.check").call, "imbill.gateway.usage", require("imbill.internal.dates").month,
    month or "", "month")
  local u
  if ok then
    status = 503
    ok, u = pcall(function() return store.usage and store:usage(app, month) or dict_month(store, app, month) end)
    doc = u
    -- a month too far back to read (usage.reach) is the question's
    if not ok and errors.is(u) and u.field == "month" then status = 400 end
  end
  if ok then
    -- the counts were read: a month before the app's first paid activation,
    -- which the invoice refuses, is the question's; any other refusal (counts
    -- no invoice can hold) is the service's
    status = app.activated and app.activated:sub(1, 7) > month and 400 or 503
    ok, doc = pcall(usage.encode, u, app)
  end
  if not ok then
    ngx.status = status
    ngx.say(json.encode { error = tostring(doc) })
    return ngx.exit(status)
  end
  ngx.say(doc)
end

--- `content_by_lua`: counters in Prometheus' text format.
-- With the stores' damage marks, Redis' state and journal, and each dict's
-- capacity and free bytes.
-- @return nothing: the page is sent
function M.status()
  local state = require "imbill.gateway.state"
  local metrics = require "imbill.gateway.metrics"
  local extra = {}
  for name, store in pairs(state.stores) do
    extra[#extra + 1] = { "imbill_store_damaged", { dict = name }, state.damaged(store) and 1 or 0 }
  end
  local journal = require "imbill.gateway.redis.journal"
  for name, rs in pairs(state.redis or {}) do
    extra[#extra + 1] = { "imbill_store_damaged", { dict = rs.name }, state.damaged(rs) and 1 or 0 }
    extra[#extra + 1] = { "imbill_redis_up", { redis = name }, rs:up() and 1 or 0 }
    extra[#extra + 1] = { "imbill_redis_journal_entries", { redis = name }, journal.size(rs) }
    for appid in pairs(rs.apps) do
      extra[#extra + 1] = { "imbill_redis_evicting", { redis = name, app = appid }, rs:evicting(appid) and 1 or 0 }
    end
  end
  local dicts = { [state.cfg.meta] = true }
  if state.cfg.replay then dicts[state.cfg.replay] = true end
  if state.cfg.journal and ngx.shared[state.cfg.journal] then dicts[state.cfg.journal] = true end
  for name in pairs(state.stores) do dicts[name] = true end
  for name in pairs(dicts) do
    local d = ngx.shared[name]
    extra[#extra + 1] = { "imbill_dict_capacity_bytes", { dict = name }, d:capacity() }
    extra[#extra + 1] = { "imbill_dict_free_bytes", { dict = name }, d:free_space() }
  end
  ngx.header.content_type = "text/plain; version=0.0.4"
  ngx.print(metrics.render(extra))
end

--- After a dict ran out of memory (and was enlarged, or the cause is
-- understood): lets capped actions be decided again.  Returns the names
-- cleared.
-- @treturn {string,...} the names of the dicts (and Redis stores) whose mark was cleared
function M.clear_damage()
  local state = require "imbill.gateway.state"
  local out = {}
  local all = {}
  for name, store in pairs(state.stores) do all[name] = store end
  for _, rs in pairs(state.redis or {}) do all[rs.name] = rs end
  for name, store in pairs(all) do
    if state.damaged(store) then
      state.clear_damage(store)
      out[#out + 1] = name
      ngx.log(ngx.WARN, "imbill: damage mark of lua_shared_dict ", name, " cleared by an operator")
    end
  end
  return out
end

return M
