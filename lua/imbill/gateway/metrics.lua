--- Counters for the status location, printed in Prometheus' text format.
--
-- Each worker counts in a table of its own and adds it to the meta dict
-- (where every worker's counts meet) every PUBLISH seconds, so a request
-- pays a table update rather than a dict call.  The status page publishes
-- its own worker's counts and waits for the other workers' before it reads:
-- what was counted before it was asked is on it, however late a loaded
-- worker's timer runs (see render).
local ngx = ngx
local M = {}

local meta -- the meta dict, set by init

local PUBLISH = 0.05
M.PUBLISH = PUBLISH

-- Families: name -> { type, help }.
local FAMILIES = {
  imbill_allowed_total = { "counter", "Actions counted or reserved, by app, action and via (rest, callback)." },
  imbill_refused_total = { "counter",
    "Actions refused, by app, action, code (Tencent's) and via (rest, callback)." },
  imbill_unchanged_total = { "counter",
    "Actions that changed nothing (an existing account, a repeated join), by app, action and via." },
  imbill_duplicates_total = { "counter", "Callback events seen before (same event id), counted once, by app and action." },
  imbill_not_counted_total = { "counter",
    "Events Tencent did but the store did not count, by app, action and reason (day_open: a closed day; group_exists: "
    .. "a group it never saw; group_id: an id it holds as taken; future: dated too far ahead; store: the store failed; "
    .. "unplanned: an instant outside the calendar; or the name of the limit the store holds full)." },
  imbill_passed_total = { "counter",
    "REST calls passed on without a decision, by app and reason (app empty for unknown_app: an SDKAppID not "
    .. "configured, or none, passed as unknown_app = \"pass\" says)." },
  imbill_rest_rejected_total = { "counter",
    "REST calls refused for their query or path before any app was read, by reason (twice: sdkappid named more than "
    .. "once; unreadable: too many arguments to read; malformed: an sdkappid that is not a plain whole number; "
    .. "path: a path holding a counted call's names with more around them; unknown_app: an SDKAppID not configured, "
    .. "or none, refused with 60006)." },
  imbill_callbacks_total = { "counter", "Callbacks accepted, by app and command." },
  imbill_callbacks_rejected_total = { "counter",
    "Callbacks rejected before anything was counted, by reason (bad_sign, stale, replayed, too_large, malformed, "
    .. "unknown_command, wrong_app, no_sign, no_token: the app has no token and takes no unsigned callbacks)." },
  imbill_reservations_total = { "counter",
    "Capacity reserved until an after callback confirms it, by app and via (callback: a \"before\" callback's "
    .. "approval; rest: a group created without a GroupId whose answer did not say the id Tencent chose)." },
  imbill_reservations_confirmed_total = { "counter", "Reservations confirmed by an after callback, by app." },
  imbill_reservations_released_total = { "counter",
    "Reservations given back because Tencent refused or failed the call, by app and via (rest)." },
  imbill_reservations_expired_total = { "counter",
    "Reservations no after callback confirmed in time, taken back, by app." },
  imbill_settlements_deferred_total = { "counter",
    "REST settlements that found their app's lock busy as Tencent's answer passed, kept in the meta dict and "
    .. "applied by the lock's next holder before anything else, by app." },
  imbill_settle_unknown_total = { "counter",
    "REST calls whose outcome Tencent did not say (no answer, not HTTP 200, not JSON): counts kept (a new group's "
    .. "reserved until its after callback), by app and action." },
  imbill_store_errors_total = { "counter", "Store failures, by dict and reason (no memory, busy, ...)." },
  imbill_lock_busy_total = { "counter",
    "Requests that found their app's lock held by another worker and waited for it, by app." },
  imbill_lock_queued_total = { "counter",
    "Requests that waited behind another request of their worker for their app's lock, by app." },
  imbill_evictions_total = { "counter", "Entries the dict evicted to make room (never expected: writes are safe), by dict." },
  imbill_store_damaged = { "gauge",
    "1 after the dict lost writes (it ran out of memory, or a reload emptied it): capped actions fail closed until "
    .. "cleared, by dict." },
  imbill_dict_capacity_bytes = { "gauge", "Size of each lua_shared_dict, by dict." },
  imbill_dict_free_bytes = { "gauge", "Free pages of each lua_shared_dict, by dict." },
}
M.FAMILIES = FAMILIES

function M.init(meta_dict)
  meta = meta_dict
end

local function esc(v)
  v = tostring(v)
  if v:find("[\\\"\n]") then v = v:gsub("\\", "\\\\"):gsub("\"", "\\\""):gsub("\n", "\\n") end
  return v
end

local function sorted_names(labels)
  local names = {}
  for k in pairs(labels) do names[#names + 1] = k end
  table.sort(names)
  return names
end

-- Label names in order, per family: each call site gives a family the same
-- names, so they are sorted once.
local ORDER = {}

local function label_text(labels, family)
  if not labels then return "" end
  local names = family and ORDER[family]
  local n = 0
  for _ in pairs(labels) do n = n + 1 end
  if not names or #names ~= n then
    names = sorted_names(labels)
    if family then ORDER[family] = names end
  end
  local s = "{"
  for i = 1, #names do
    local k = names[i]
    local v = labels[k]
    if v == nil then return label_text(labels) end
    s = s .. (i > 1 and "," or "") .. k .. "=\"" .. esc(v) .. "\""
  end
  return s .. "}"
end
M.label_text = label_text

local pending, npending = {}, 0 -- this worker's counts since the last publish: key -> n
local timer_on = false

local lost, lost_said = 0, -math.huge

local function add(key, n)
  local v, err = meta:incr(key, n)
  if v then return end
  if err == "not found" then
    local ok, err2 = meta:safe_add(key, 0)
    if ok or err2 == "exists" then
      meta:incr(key, n)
      return
    end
    err = err2
  end
  -- a full meta dict fails every publish: said once a minute per worker,
  -- with how many counts were lost since
  lost = lost + n
  local now = ngx.now()
  if now - lost_said >= 60 then
    ngx.log(ngx.ERR, "imbill: metric ", key, " not counted: ", err, " (", lost, " counts lost in this worker since ",
      "the last such line; the meta dict needs more memory)")
    lost, lost_said = 0, now
  end
end

--- Adds this worker's counts to the meta dict.
local function publish()
  if npending == 0 then return end
  local t = pending
  pending, npending = {}, 0
  for key, n in pairs(t) do add(key, n) end
end
M.publish = publish

-- Marks: each worker whose timer runs keeps "mw|<pid>" at the generation
-- ("mg", raised by each status read) it read before its last publish, so a
-- mark at or past a read's generation says everything that worker counted
-- before the read is in the dict.  A mark lives a second past its last
-- tick: a worker that exited or was killed stops holding reads up.
local MARK_TTL = 1
local function mark(g)
  meta:safe_set("mw|" .. ngx.worker.pid(), g, MARK_TTL)
end

local function tick(premature)
  local g = meta:get("mg") or 0
  publish()
  mark(g)
  if premature then timer_on = false end
end

local function count(key, n)
  if not meta then return end
  local v = pending[key]
  if v then
    pending[key] = v + n
    return
  end
  pending[key] = n
  npending = npending + 1
  if not timer_on then
    timer_on = true
    mark(-1) -- counts wait here until the first tick: a read must wait for it
    local ok, err = ngx.timer.every(PUBLISH, tick)
    if not ok then
      -- no timer (too many pending timers): count straight into the dict
      timer_on = false
      ngx.log(ngx.WARN, "imbill: metrics published at once (no timer: ", err, ")")
      publish()
    end
  end
end

--- Adds n (default 1) to a counter.  The key is the family plus its label
-- text, so the status page prints it back as it was.  Label values must come
-- from a bounded set (configured apps, known commands, codes, fixed
-- reasons), never from a request: each value is a series, and the series
-- share the meta dict with the apps' locks.
function M.inc(name, labels, n)
  if not meta then return end
  count("m|" .. name .. label_text(labels, name), n or 1)
end

--- A family of counters with fixed label names, for the hot paths: the key
-- of each set of label values is made once.  f:inc(n, v1, v2, v3, v4)
-- counts n for the values, given in the order of `names`.  Values must come
-- from a bounded set (configured apps, known commands, codes).
local Family = {}
Family.__index = Family

function M.family(name, names)
  return setmetatable({ name = name, names = names, memo = {} }, Family)
end

local function family_key(f, a, b, c, d)
  local labels = {}
  local names = f.names
  local vals = { a, b, c, d }
  for i = 1, #names do labels[names[i]] = vals[i] end
  return "m|" .. f.name .. label_text(labels, f.name)
end

function Family:inc(n, a, b, c, d)
  local m = self.memo
  local t = m[a]
  if not t then
    t = {}
    m[a] = t
  end
  local key
  if b == nil then
    key = t[1]
    if not key then
      key = family_key(self, a)
      t[1] = key
    end
  else
    local t2 = t[b]
    if not t2 then
      t2 = {}
      t[b] = t2
    end
    if c == nil then
      key = t2[1]
      if not key then
        key = family_key(self, a, b)
        t2[1] = key
      end
    else
      local t3 = t2[c]
      if not t3 then
        t3 = {}
        t2[c] = t3
      end
      local e = d == nil and 1 or d
      key = t3[e]
      if not key then
        key = family_key(self, a, b, c, d)
        t3[e] = key
      end
    end
  end
  count(key, n)
end

function M.set(name, labels, v)
  if not meta then return end
  meta:safe_set("m|" .. name .. label_text(labels), v)
end

--- The status page: every counter, with its HELP and TYPE lines.  extra:
-- gauges computed at read time, { name, labels, value } triples.
-- Waits (up to WAIT_MAX seconds) until every worker has published what it
-- counted before this read: each mark must reach this read's generation.  A
-- fixed wait of a period or two was not enough when a loaded worker's timer
-- ran late.
local WAIT_MAX, WAIT_STEP = 1, 0.005
local function wait_for_workers()
  local g = meta:incr("mg", 1)
  if not g then
    meta:safe_add("mg", 0)
    g = meta:incr("mg", 1)
  end
  if not g then return end
  local me, others = "mw|" .. ngx.worker.pid(), {}
  for _, key in ipairs(meta:get_keys(0)) do
    if key:sub(1, 3) == "mw|" and key ~= me then others[#others + 1] = key end
  end
  ngx.update_time()
  local deadline = ngx.now() + WAIT_MAX
  for _, key in ipairs(others) do
    while true do
      local v = meta:get(key)
      if v == nil or v >= g then break end -- published since, or gone
      ngx.update_time()
      if ngx.now() > deadline then
        ngx.log(ngx.WARN, "imbill: status: a worker's counts were not published within ", WAIT_MAX, " s (", key, ")")
        return
      end
      ngx.sleep(WAIT_STEP)
    end
  end
end

--- Publishes this worker's counts and waits until the other workers have
-- published theirs (up to a second): what any worker counted before the
-- call is in the dict.
function M.settle()
  publish()
  if ngx.worker.count() > 1 and ngx.get_phase() ~= "init" then wait_for_workers() end
end

function M.render(extra)
  M.settle()
  local by_family = {}
  for _, key in ipairs(meta:get_keys(0)) do
    if key:sub(1, 2) == "m|" then
      local rest = key:sub(3)
      local name = rest:match("^[%w_]+")
      local list = by_family[name]
      if not list then
        list = {}
        by_family[name] = list
      end
      list[#list + 1] = { rest, meta:get(key) }
    end
  end
  for _, e in ipairs(extra or {}) do
    local list = by_family[e[1]]
    if not list then
      list = {}
      by_family[e[1]] = list
    end
    list[#list + 1] = { e[1] .. label_text(e[2]), e[3] }
  end
  local names = {}
  for name in pairs(FAMILIES) do names[#names + 1] = name end
  table.sort(names)
  local out = {}
  for _, name in ipairs(names) do
    local f = FAMILIES[name]
    out[#out + 1] = "# HELP " .. name .. " " .. f[2]
    out[#out + 1] = "# TYPE " .. name .. " " .. f[1]
    local list = by_family[name] or {}
    table.sort(list, function(a, b) return a[1] < b[1] end)
    for _, e in ipairs(list) do out[#out + 1] = e[1] .. " " .. string.format("%.17g", e[2]) end
  end
  return table.concat(out, "\n") .. "\n"
end

return M
