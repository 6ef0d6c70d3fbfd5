--- An app's month from the store, in the form imbill.invoice takes: DAU per
-- day, the peak net group count per day in time order (the count carried
-- into the day included), MAU, and the app's book, edition, time zone and
-- add-ons.  The same data an in-process meter's m:usage(month) gives for the
-- same accepted events, so the invoice is the same too.
--
--   usage.month(read, app, "2021-03")   -- read(key) -> the shared dict's value
--   usage.month_of(src, app, "2021-03") -- any store: counters and day logs
--
-- Inside nginx a shared dict is read with ngx.shared.DICT:get, Redis with
-- redis/month.lua.  The `imbill gateway` command uses imbill.gateway.fetch,
-- which asks a gateway's usage location over HTTP (a shared dict lives
-- inside nginx only), or usage.from_redis(), which reads an app's Redis
-- directly.
local core = require "imbill.gateway.core"
local keys = require "imbill.gateway.keys"
local json = require "imbill.gateway.json"
local books = require "imbill.book"
local dates = require "imbill.internal.dates"
local check = require "imbill.internal.check"
local errors = require "imbill.internal.errors"
local fmt = require "imbill.internal.fmt"

local K = core.K
local M = {}
local FN = "imbill.gateway.usage"

local function book_ref(book)
  for _, n in ipairs(books.BUILTIN) do
    if books.get(n) == book then return n end
  end
  return book
end

-- The day's log entries: per instant its disbands, then its creates.
local function day_log(read, base)
  local ts, ds = {}, {}
  for i = 1, read(base .. "#") or 0 do
    local t = read(base .. "@" .. i)
    if t then
      local minus, plus = read(base .. "-" .. t) or 0, read(base .. "+" .. t) or 0
      if minus ~= 0 then
        ts[#ts + 1], ds[#ds + 1] = t, -minus
      end
      if plus ~= 0 then
        ts[#ts + 1], ds[#ds + 1] = t, plus
      end
    end
  end
  return ts, ds
end

-- The most days the read of a month runs over.  The count carried into a
-- month is the app's count now less every day's net change since the
-- month's first day, one read a day under the app's lock: 4,000 days (some
-- 11 years) are a few milliseconds of it; 0001-01 was 740,000 reads and
-- 0.7 s, with every decision of the app and every callback of the worker
-- waiting.  A month further back than that is refused.
M.REACH = 4000

--- Raises when month `mo` (its text: `month`) is too far before the app's
-- latest counted day to be read (M.REACH).
function M.reach(mo, month, last_day)
  local first, n = core.month_first_day(mo), core.month_length(mo)
  if math.max(last_day, first + n - 1) - first > M.REACH then
    errors.raise(FN, "month", string.format("is more than %s days before the app's latest counted day, %s: too far "
      .. "back to read", fmt.int(M.REACH), dates.format(last_day)), month)
  end
end

--- The month's usage from any store: src.count(k, id) is the value of a
-- counter key (the app's, a day's, a month's; nil when none), and
-- src.day_log(day) the day's group log as instants and deltas, per instant
-- its disbands first.
function M.month_of(src, app, month)
  local mo = check.call(FN, dates.month, month, "month")
  local first, n = core.month_first_day(mo), core.month_length(mo)
  local count = src.count
  local last_day = count(K.IMB_K_LAST_DAY) or core.NO_DAY
  M.reach(mo, month, last_day)
  -- the count carried into the month: today's count less every day's net
  -- change from the month's first day on
  local open = count(K.IMB_K_GROUPS) or 0
  for d = first, math.max(last_day, first + n - 1) do open = open - (count(K.IMB_K_DAY_NET, d) or 0) end
  local dau, groups = {}, {}
  for i = 1, n do
    local d = first + i - 1
    dau[i] = count(K.IMB_K_DAU, d) or 0
    local ts, ds = src.day_log(d)
    local peak, close = core.day_peak(open, ts, ds)
    if not peak then error(FN .. ": group log of " .. dates.format(d) .. ": " .. tostring(close), 0) end
    groups[i] = peak
    open = close
  end
  local u = {
    book = book_ref(app.book), edition = app.edition.id, month = dates.format_month(mo), dau = dau,
    groups = groups, mau = count(K.IMB_K_MAU, mo) or 0, tz = app.tz,
  }
  if app.activated then
    -- an app's activation is of its paid edition, in force from then on: a
    -- month before it cannot have happened, and the invoice refuses it as
    -- it refuses a meter's month before its activation (no plan fee before
    -- the first paid activation), rather than bill the full fee
    local ad = dates.day(app.activated)
    if ad >= first then u.activated = app.activated end
  end
  if #app.addons > 0 then
    u.addons = {}
    for i, a in ipairs(app.addons) do u.addons[i] = a end
  end
  return u
end

--- The month's usage table from a shared dict (see the file's head).
function M.month(read, app, month)
  local P = keys.prefix(app.id)
  return M.month_of({
    count = function(k, id) return read(keys.key(P, k, id)) end,
    day_log = function(d) return day_log(read, keys.key(P, K.IMB_K_GROUP_LOG, d)) end,
  }, app, month)
end

--- The month as JSON: { app, usage, invoice } with the invoice as
-- imbill.invoice(usage):data().
function M.document(read, app, month)
  return M.encode(M.month(read, app, month), app)
end

--- A month's usage table as the usage location's JSON document.
function M.encode(u, app)
  local inv = require("imbill.bill.invoice").invoice(u)
  local data = inv:data()
  data.lines = json.array(data.lines)
  data.notes = json.array(data.notes)
  local shown = {}
  for k, v in pairs(u) do shown[k] = v end
  -- a user's book is sent as the table that derives it (its name alone
  -- names nothing outside this gateway: `imbill gateway` could not invoice
  -- the month)
  if type(shown.book) ~= "string" then shown.book = app.book_data or u.book.name end
  return json.encode { app = app.id, usage = shown, invoice = data }
end

--- The usage a gateway's usage location reports, as a table imbill.invoice
-- takes (imbill.gateway.fetch.usage, which the `imbill gateway` command
-- uses).  url: the location ("http://127.0.0.1:8080/imbill/usage").
function M.fetch(url, app, month)
  return (require("imbill.gateway.fetch").usage(url, app, month))
end

--- For the `imbill` command (LuaJIT, outside nginx): the usage of an app
-- whose counts live in Redis, read from Redis itself.  redis: the
-- configuration's entry for that Redis ({ servers = { "host:port" },
-- cluster = bool, password = }); app: the app as config.check gives it
-- (book, edition, time zone, add-ons).
function M.from_redis(redis, app, month)
  local fn = FN .. ".from_redis"
  check.table(fn, "redis", redis)
  check.table(fn, "app", app)
  local cfg = check.call(fn, require("imbill.gateway.config").redis_config, "redis", redis)
  local cluster = require "imbill.gateway.redis.cluster"
  local client = cluster.new(cfg)
  return require("imbill.gateway.redis.month").read(client, app, month, cluster.now() + cfg.background_deadline)
end

return M
