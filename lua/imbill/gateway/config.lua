--- The gateway's configuration, checked once in init_by_lua: the dicts, what
-- to do with an app the gateway does not know, and per app (SDKAppID) its
-- price book, edition, add-ons, time zone, callback token and failure policy.
-- Every mistake is an error naming the field and the value, so nginx refuses
-- to start with a configuration it would misread.
local check = require "imbill.internal.check"
local books = require "imbill.book"
local dates = require "imbill.internal.dates"
local meter = require "imbill.meter"
local core = require "imbill.gateway.core"
local errors = require "imbill.internal.errors"

local M = {}
local FN = "imbill.gateway.setup"

local TOP = { dict = true, meta = true, replay = true, unknown_app = true, core = true, apps = true,
              rest_max_body = true, rest_max_items = true, callback_max_body = true, window = true, lock_wait = true,
              callback_lock_wait = true, redis = true, journal = true }
local APP = { book = true, edition = true, addons = true, tz = true, token = true, unsigned_callbacks = true,
              failure = true,
              reservation_ttl = true, activated = true, same_day_disbands = true, codes = true,
              rest_via_gateway = true, dict = true, name = true, redis = true, buckets = true }

-- Custom codes a "before" callback may answer with, by Tencent's rules: group
-- callbacks 10100-10200, friend requests 38000-39000.
M.GROUP_CODES = { 10100, 10200 }
M.FRIEND_CODES = { 38000, 39000 }

-- An error raised while a part of the configuration is read, renamed to
-- the part's place: an unknown key of apps["1400000001"] is
-- apps[1400000001].tokn, a price book's own field ("name", "edition",
-- "addon") is the app's book, edition or add-on, and a field inside a
-- user's book table hangs from the app's book.
local function renamed(fn, place, own, ok, ...)
  if ok then return ... end
  local e = errors.of((...))
  local field = rawget(e, "field")
  if type(field) ~= "string" or field == "" or (own and own[field]) then field = place
  else field = place .. "." .. field end
  error(errors.rename(e, fn, field), 0)
end

local function within(fn, place, own, f, ...)
  return renamed(fn, place, own, pcall(f, ...))
end

-- Unknown keys of a part, named at the part's place.
local function fields(fn, place, t, allowed)
  return within(fn, place, nil, check.fields, fn, t, allowed)
end

local function positive(fn, field, v, default)
  if v == nil then return default end
  if type(v) ~= "number" or v ~= v or v <= 0 or v == math.huge then
    check.fail(fn, field, "expected a number of seconds or bytes above 0", v)
  end
  return v
end

local function enum(fn, field, v, allowed, default)
  if v == nil then return default end
  if not allowed[v] then
    local names = {}
    for k in pairs(allowed) do names[#names + 1] = k end
    table.sort(names)
    check.fail(fn, field, "expected one of: " .. table.concat(names, ", "), v)
  end
  return v
end

-- The custom code for each limit a callback can refuse for.
local function codes_for(fn, field, given, range, base)
  local out = {}
  -- defaults: the range's start plus the core's limit number, so each limit
  -- has its own code and an operator can tell them apart in Tencent's logs
  for id = 0, core.L.IMB_L_COUNT - 1 do out[core.names.limit[id]] = base + id end
  if given == nil then return out end
  check.table(fn, field, given)
  for k, v in pairs(given) do
    local f = field .. "." .. tostring(k)
    if out[k] == nil then check.fail(fn, f, "not a limit a callback refuses for (\"none\": the store failed)", k) end
    if type(v) ~= "number" or v ~= math.floor(v) or v < range[1] or v > range[2] then
      check.fail(fn, f, string.format("expected a code from %d to %d (Tencent's range for this callback)",
        range[1], range[2]), v)
    end
    out[k] = v
  end
  return out
end

-- A Redis (one server or a cluster) the counts of some apps live in.
local REDIS = { servers = true, server = true, cluster = true, username = true, password = true, connect_timeout = true,
                timeout = true, deadline = true, background_deadline = true, pool_size = true, backlog = true,
                keepalive = true, marker_ttl = true, flush_interval = true, flush_batch = true, flush_max = true }

local function count_of(fn, field, v, default, lo, hi)
  if v == nil then return default end
  if type(v) ~= "number" or v ~= math.floor(v) or v < lo or v > hi then
    check.fail(fn, field, string.format("expected a whole number from %d to %d", lo, hi), v)
  end
  return v
end

--- The checked entry of one Redis: servers "host:port" (a cluster: any of
-- its nodes), timeouts in seconds.  A "before" callback must be answered
-- within Tencent's 2 seconds, so a call's deadline stays below that.
function M.redis_config(field, r, fn)
  fn = fn or FN
  check.table(fn, field, r)
  fields(fn, field, r, REDIS)
  local servers = r.servers
  if r.server ~= nil then
    if servers ~= nil then check.fail(fn, field .. ".server", "give server or servers, not both", r.server) end
    servers = { r.server }
  end
  if servers == nil then check.fail(fn, field .. ".servers", "is required: { \"127.0.0.1:6379\" }", check.NOVALUE) end
  check.table(fn, field .. ".servers", servers)
  local list = {}
  for i, a in ipairs(servers) do
    local port = type(a) == "string" and a:match("^[%w%.%-:%[%]]+:(%d+)$")
    if not port or tonumber(port) < 1 or tonumber(port) > 65535 then
      check.fail(fn, field .. ".servers[" .. i .. "]", "expected \"host:port\"", a)
    end
    list[i] = a
  end
  if #list == 0 then check.fail(fn, field .. ".servers", "lists no server", servers) end
  if r.cluster ~= nil and type(r.cluster) ~= "boolean" then
    check.fail(fn, field .. ".cluster", "expected a boolean (true: a Redis Cluster)", r.cluster)
  end
  if r.password ~= nil and (type(r.password) ~= "string" or r.password == "") then
    check.fail(fn, field .. ".password", "expected a string", "(hidden)")
  end
  if r.username ~= nil then
    if type(r.username) ~= "string" or r.username == "" or r.username:find("[%s%c]") then
      check.fail(fn, field .. ".username", "expected a Redis ACL user name (no spaces)", r.username)
    end
    if r.password == nil then
      check.fail(fn, field .. ".password", "is required with username (AUTH username password)", check.NOVALUE)
    end
  end
  local c = {
    servers = list, cluster = r.cluster == true, username = r.username, password = r.password,
    connect_timeout = positive(fn, field .. ".connect_timeout", r.connect_timeout, 0.1),
    timeout = positive(fn, field .. ".timeout", r.timeout, 0.5),
    deadline = positive(fn, field .. ".deadline", r.deadline, 1.0),
    background_deadline = positive(fn, field .. ".background_deadline", r.background_deadline, 3),
    pool_size = count_of(fn, field .. ".pool_size", r.pool_size, 64, 1, 100000),
    backlog = count_of(fn, field .. ".backlog", r.backlog, 256, 0, 100000),
    keepalive = positive(fn, field .. ".keepalive", r.keepalive, 60),
    marker_ttl = count_of(fn, field .. ".marker_ttl", r.marker_ttl, 600, 10, 86400 * 7),
    flush_interval = positive(fn, field .. ".flush_interval", r.flush_interval, 0.05),
    flush_batch = count_of(fn, field .. ".flush_batch", r.flush_batch, 500, 1, 100000),
    flush_max = count_of(fn, field .. ".flush_max", r.flush_max, 50000, 1, 10000000),
  }
  if c.deadline >= 1.9 then
    check.fail(fn, field .. ".deadline", "must leave a \"before\" callback time to answer within Tencent's 2 seconds "
      .. "(at most 1.5 is sensible)", c.deadline)
  end
  if c.timeout > c.deadline then
    check.fail(fn, field .. ".timeout", "is longer than the deadline of a call (" .. c.deadline .. " s)", c.timeout)
  end
  return c
end

-- Whether v is data JSON carries as it is: strings, numbers, booleans and
-- tables of them with no metatable (a Book object, with its methods and
-- links, is not), not nested past a few levels.
local function plain_data(v, depth)
  local t = type(v)
  if t == "string" or t == "boolean" then return true end
  if t == "number" then return v == v and v ~= math.huge and v ~= -math.huge end
  if t ~= "table" or getmetatable(v) ~= nil or depth > 8 then return false end
  -- a table is a list (keys 1..n) or a record (string keys): JSON has no other
  local n, strings, numbers = 0, false, false
  for k, x in next, v do
    if type(k) == "string" then strings = true
    elseif type(k) == "number" then numbers = true
    else return false end
    n = n + 1
    if not plain_data(x, depth + 1) then return false end
  end
  if strings and numbers then return false end
  if numbers then
    for i = 1, n do if rawget(v, i) == nil then return false end end
  end
  return true
end

local function app_config(id, a, defaults)
  local fn = FN
  local field = "apps[" .. id .. "]"
  fields(fn, field, a, APP)
  if a.book == nil then check.fail(fn, field .. ".book", "is required (a price book name)", check.NOVALUE) end
  local book = books.get_as(fn, field .. ".book", a.book)
  if a.edition == nil then
    check.fail(fn, field .. ".edition", "is required (one of: " .. table.concat(book:editions(), ", ") .. ")",
      check.NOVALUE)
  end
  local ed = within(fn, field .. ".edition", { edition = true }, book.edition, book, a.edition)
  local addons = {}
  if a.addons ~= nil then
    check.list(fn, field .. ".addons", a.addons, "add-on ids")
    local seen = {}
    for i, aid in ipairs(a.addons) do
      local f = field .. ".addons[" .. i .. "]"
      local ad = within(fn, f, { addon = true }, book.addon, book, aid)
      if not ad.fee[ed.id] then
        check.fail(fn, f, "add-on is not sold for edition " .. ed.id, aid)
      end
      -- an invoice refuses an add-on listed twice: the usage location
      -- would fail on every month
      if seen[ad.id or aid] then
        check.fail(fn, f, "is listed twice (addons[" .. seen[ad.id or aid] .. "] names it already)", aid)
      end
      seen[ad.id or aid] = i
      addons[#addons + 1] = aid
    end
  end
  local offset = book.offset
  -- a number is seconds east of UTC; every time zone is a whole quarter
  -- hour, so 8 (hours) or 480 (minutes, +00:08 read as seconds) is a unit
  -- mistaken, not a zone
  if type(a.tz) == "number" and a.tz % 900 ~= 0 then
    check.fail(fn, field .. ".tz", "is not a whole quarter hour of seconds (a number is seconds: +08:00 is 28800; "
      .. "or write \"+08:00\")", a.tz)
  end
  if a.tz ~= nil then offset = check.call(fn, dates.tz_offset, a.tz, field .. ".tz") end
  if a.token ~= nil and (type(a.token) ~= "string" or a.token == "") then
    check.fail(fn, field .. ".token", "expected the callback token from Tencent's console (a string)", a.token)
  end
  -- the signature is sha256(token .. RequestTime): a token pasted with a
  -- space or a line end would fail every callback as bad_sign
  if a.token ~= nil and a.token:find("[%s%c]") then
    check.fail(fn, field .. ".token", "has a space or a control character (the token Tencent's console shows has "
      .. "none: was it pasted with one?)", a.token)
  end
  if a.name ~= nil and (type(a.name) ~= "string" or a.name == "") then
    check.fail(fn, field .. ".name", "expected a string", a.name)
  end
  if a.dict ~= nil and (type(a.dict) ~= "string" or a.dict == "") then
    check.fail(fn, field .. ".dict", "expected a lua_shared_dict name", a.dict)
  end
  if a.unsigned_callbacks ~= nil then
    if type(a.unsigned_callbacks) ~= "boolean" then
      check.fail(fn, field .. ".unsigned_callbacks", "expected a boolean", a.unsigned_callbacks)
    end
    if a.unsigned_callbacks and a.token ~= nil then
      check.fail(fn, field .. ".unsigned_callbacks", "is for an app without a token; this one has one",
        a.unsigned_callbacks)
    end
  end
  if a.activated ~= nil then
    check.call(fn, dates.day, a.activated, field .. ".activated")
    if ed.free then check.fail(fn, field .. ".activated", "is a paid edition's first activation, but "
      .. ed.id .. " is free", a.activated) end
  end
  if a.same_day_disbands ~= nil and type(a.same_day_disbands) ~= "boolean" then
    check.fail(fn, field .. ".same_day_disbands", "expected a boolean", a.same_day_disbands)
  end
  if a.rest_via_gateway ~= nil and type(a.rest_via_gateway) ~= "boolean" then
    check.fail(fn, field .. ".rest_via_gateway", "expected a boolean", a.rest_via_gateway)
  end
  local codes = a.codes
  if codes ~= nil then
    check.table(fn, field .. ".codes", codes)
    fields(fn, field .. ".codes", codes, { group = true, friend = true })
  end
  local lt = meter.limits(book, ed, addons, a.same_day_disbands)
  local limits = core.limits(lt, function(f)
    local ok, yes = pcall(ed.supports, ed, f)
    return ok and yes
  end)
  return {
    id = id, name = a.name or id, book = book, edition = ed, addons = addons, offset = offset,
    -- a user's book as the configuration derives it (plain data), so the
    -- usage location can hand it on to whoever invoices the month
    book_data = plain_data(a.book, 0) and a.book or nil,
    tz = dates.format_tz(offset), token = a.token, activated = a.activated,
    -- without a token nothing tells Tencent's callbacks from anyone's: they
    -- are counted only where the operator says only Tencent reaches them
    unsigned_callbacks = a.unsigned_callbacks == true,
    -- whether any callback of the app is counted: a REST call's stand-in can
    -- wait for one only then
    takes_callbacks = a.token ~= nil or a.unsigned_callbacks == true,
    failure = enum(fn, field .. ".failure", a.failure, { closed = true, open = true }, "closed"),
    reservation_ttl = positive(fn, field .. ".reservation_ttl", a.reservation_ttl, 30),
    rest_via_gateway = a.rest_via_gateway ~= false,
    limits = limits, limits_table = lt,
    group_codes = codes_for(fn, field .. ".codes.group", codes and codes.group, M.GROUP_CODES, 10100),
    friend_codes = codes_for(fn, field .. ".codes.friend", codes and codes.friend, M.FRIEND_CODES, 38000),
    dict = a.dict or defaults.dict,
    redis = a.redis,
    -- per-user state is bucketed into this many hashes (docs/fleet.md); an
    -- app's bucket count can never change
    buckets = count_of(fn, field .. ".buckets", a.buckets, 8192, 1, 1048576),
  }
end

--- The shortest callback window setup() takes, in seconds: RequestTime's
-- whole second, the delivery (up to Tencent's 2 s timeout) and a clock
-- difference of a second or two between Tencent and this host.
M.MIN_WINDOW = 5
--- The longest: an hour.  A captured callback can be replayed for as long as
-- the window (the replay dict remembers each one that long), and a window of
-- 60000 is a minute meant in milliseconds.
M.MAX_WINDOW = 3600

--- An SDKAppID as the configuration keys apps: a whole number is its digits
-- (a double holds every SDKAppID exactly; 1400000001.5 is none and stays as
-- given), anything else as it is.
function M.app_key(v)
  if type(v) == "number" and v == math.floor(v) and v >= 1 and v <= 2 ^ 53 then return string.format("%d", v) end
  return v
end

--- A location's options as nginx.conf passes them (`rest{ unknown_app = }`,
-- `callback{ app = }`), read on every call so that a mistake shows at once:
-- true and the value of their one key `key` (nil when left out) when good(v)
-- takes it; else false and an error naming the option and the value, which
-- the location logs before it answers 500 rather than guess what was meant.
function M.location_opt(fn, opts, key, good, expected)
  if type(opts) == "table" then
    local k = next(opts)
    if k == nil then return true, nil end
    if k == key and next(opts, k) == nil and good(opts[key]) then return true, opts[key] end
  end
  local _, err = pcall(function()
    check.table(fn, "opts", opts)
    local o = check.fields(fn, opts, { [key] = true })
    check.fail(fn, "opts." .. key, expected, o[key])
  end)
  return false, err
end

--- The checked configuration (see docs/gateway.md, "Configuration").
function M.check(o)
  o = check.fields(FN, o, TOP)
  if o.core ~= nil then check.string(FN, "core", o.core) end
  core.init(o.core)
  local cfg = {
    dict = o.dict or "imbill",
    meta = o.meta or "imbill_meta",
    replay = o.replay,
    unknown_app = enum(FN, "unknown_app", o.unknown_app, { refuse = true, pass = true }, "refuse"),
    rest_max_body = positive(FN, "rest_max_body", o.rest_max_body, 1048576),
    rest_max_items = count_of(FN, "rest_max_items", o.rest_max_items, 1000, 1, 1000000),
    callback_max_body = positive(FN, "callback_max_body", o.callback_max_body, 65536),
    window = positive(FN, "window", o.window, 60),
    lock_wait = positive(FN, "lock_wait", o.lock_wait, 0.5),
    callback_lock_wait = positive(FN, "callback_lock_wait", o.callback_lock_wait, 0.5),
    apps = {},
  }
  -- RequestTime is whole seconds, stamped by Tencent's clock and read by this
  -- host's: a window of a second or two rejects callbacks that are on time as
  -- stale (and window = 1 meant as a minute rejects nearly all of them)
  if cfg.window < M.MIN_WINDOW then
    check.fail(FN, "window", "must be at least " .. M.MIN_WINDOW .. " seconds: RequestTime is in whole seconds and "
      .. "Tencent's clock and this host's differ, so a shorter window rejects callbacks that are on time as stale "
      .. "(the window is in seconds; Tencent asks for 60)", cfg.window)
  end
  if cfg.window > M.MAX_WINDOW then
    check.fail(FN, "window", "must be at most " .. M.MAX_WINDOW .. " seconds: a signed callback can be replayed for as "
      .. "long as the window lasts (the window is in seconds, not milliseconds; Tencent asks for 60)", cfg.window)
  end
  -- a "before" callback waits this long for its app's lock, and Tencent
  -- takes its own default after 2 seconds
  if cfg.callback_lock_wait >= 1.9 then
    check.fail(FN, "callback_lock_wait", "must leave a \"before\" callback time to answer within Tencent's 2 "
      .. "seconds (at most 1.5 is sensible)", cfg.callback_lock_wait)
  end
  if o.redis ~= nil then
    check.table(FN, "redis", o.redis)
    cfg.redis = {}
    for name, r in pairs(o.redis) do
      if type(name) ~= "string" or not name:match("^[%w_%-]+$") then
        check.fail(FN, "redis", "keys are names of Redis setups (letters, digits, _ and -)", name)
      end
      cfg.redis[name] = M.redis_config("redis." .. name, r)
    end
    cfg.journal = o.journal or "imbill_journal"
  end
  for _, k in ipairs { "dict", "meta", "replay", "journal" } do
    if cfg[k] ~= nil and type(cfg[k]) ~= "string" then check.fail(FN, k, "expected a lua_shared_dict name", cfg[k]) end
  end
  if o.apps == nil then check.fail(FN, "apps", "is required: { [\"SDKAppID\"] = { book =, edition = } }",
    check.NOVALUE) end
  check.table(FN, "apps", o.apps)
  local given = {} -- id -> the key that gave it
  for key, a in pairs(o.apps) do
    local id = M.app_key(key)
    -- as the REST path reads sdkappid: a plain whole number, so an app
    -- configured as "01400000001" or "0" could never be reached there
    if type(id) ~= "string" or not id:match("^[1-9]%d*$") or #id > 20 then
      check.fail(FN, "apps", "keys are SDKAppIDs (a whole number written plainly, no leading 0)", key)
    end
    if given[id] ~= nil then
      check.fail(FN, "apps[" .. id .. "]", "is listed twice (as " .. check.show(given[id]) .. " and "
        .. check.show(key) .. "): give each app one entry", check.NOVALUE)
    end
    given[id] = key
    check.table(FN, "apps[" .. id .. "]", a)
    cfg.apps[id] = app_config(id, a, cfg)
    local r = cfg.apps[id].redis
    if r ~= nil and not (cfg.redis and type(r) == "string" and cfg.redis[r]) then
      check.fail(FN, "apps[" .. id .. "].redis", "names no entry of redis = { ... }", r)
    end
    -- fields that do nothing where the app counts would be ignored unseen
    if r ~= nil and a.dict ~= nil then
      check.fail(FN, "apps[" .. id .. "].dict", "is for an app counting in a shared dict; this one counts in Redis "
        .. r, a.dict)
    end
    if r == nil and a.buckets ~= nil then
      check.fail(FN, "apps[" .. id .. "].buckets", "is for an app counting in Redis (redis = ...); this one counts "
        .. "in a shared dict", a.buckets)
    end
  end
  M.check_dicts(cfg)
  return cfg
end

--- The dicts a checked configuration names: each declared in nginx.conf
-- (when run inside nginx), and none doing two jobs that cannot share one.
-- The replay dict evicts its oldest entries when full: shared with the
-- counts, the locks or the journal, it would evict those.  The meta dict's
-- keys are all read by the status page (get_keys, which holds the dict
-- while it walks): shared with the counts, every scrape would walk them all.
function M.check_dicts(cfg)
  local roles = {} -- { field, name }
  roles[#roles + 1] = { "dict", cfg.dict }
  local ids = {}
  for id in pairs(cfg.apps) do ids[#ids + 1] = id end
  table.sort(ids)
  local counts = { [cfg.dict] = "dict" }
  for _, id in ipairs(ids) do
    local a = cfg.apps[id]
    if a.dict ~= cfg.dict and not a.redis then
      roles[#roles + 1] = { "apps[" .. id .. "].dict", a.dict }
      counts[a.dict] = counts[a.dict] or ("apps[" .. id .. "].dict")
    end
  end
  roles[#roles + 1] = { "meta", cfg.meta }
  if cfg.replay then roles[#roles + 1] = { "replay", cfg.replay } end
  if cfg.journal then roles[#roles + 1] = { "journal", cfg.journal } end
  local shared = rawget(_G, "ngx") and ngx.shared
  if shared then
    for _, r in ipairs(roles) do
      if not shared[r[2]] then
        check.fail(FN, r[1], "no lua_shared_dict of that name is declared in nginx.conf", r[2])
      end
    end
  end
  if counts[cfg.meta] then
    check.fail(FN, "meta", "is the same dict as " .. counts[cfg.meta] .. " (the counts): the status page reads "
      .. "every key of meta, so give it a small dict of its own", cfg.meta)
  end
  if cfg.replay then
    local other = counts[cfg.replay] or (cfg.replay == cfg.meta and "meta")
      or (cfg.replay == cfg.journal and "journal")
    if other then
      check.fail(FN, "replay", "is the same dict as " .. other .. ": the replay dict drops its oldest entries when full, "
        .. "which there would be counts, locks or journal entries; give it a dict of its own", cfg.replay)
    end
  end
end

return M
