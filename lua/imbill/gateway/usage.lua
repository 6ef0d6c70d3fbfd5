--- An app's month from the store, in the form imbill.invoice takes: DAU per
-- day, the peak net group count per day in time order (the count carried
-- into the day included), MAU, and the app's book, edition, time zone and
-- add-ons.  The same data an in-process meter's m:usage(month) gives for the
-- same accepted events, so the invoice is the same too.
--
--   usage.month(read, app, "2021-03")   -- read(key) -> the store's value
--
-- `read` is the only contact with a store: ngx.shared.DICT:get inside nginx;
-- the `imbill` command uses usage.fetch(), which asks a gateway's usage
-- location over HTTP (a shared dict lives inside nginx only).
local core = require "imbill.gateway.core"
local keys = require "imbill.gateway.keys"
local json = require "imbill.gateway.json"
local books = require "imbill.book"
local dates = require "imbill.internal.dates"
local check = require "imbill.internal.check"

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

--- The month's usage table (see the file's head).
function M.month(read, app, month)
  local mo = check.call(FN, dates.month, month, "month")
  local first, n = core.month_first_day(mo), core.month_length(mo)
  local P = keys.prefix(app.id)
  local last_day = read(keys.key(P, K.IMB_K_LAST_DAY)) or core.NO_DAY
  -- the count carried into the month: today's count less every day's net
  -- change from the month's first day on
  local open = read(keys.key(P, K.IMB_K_GROUPS)) or 0
  for d = first, math.max(last_day, first + n - 1) do open = open - (read(keys.key(P, K.IMB_K_DAY_NET, d)) or 0) end
  local dau, groups = {}, {}
  for i = 1, n do
    local d = first + i - 1
    dau[i] = read(keys.key(P, K.IMB_K_DAU, d)) or 0
    local ts, ds = day_log(read, keys.key(P, K.IMB_K_GROUP_LOG, d))
    local peak, close = core.day_peak(open, ts, ds)
    if not peak then error(FN .. ": group log of " .. dates.format(d) .. ": " .. tostring(close), 0) end
    groups[i] = peak
    open = close
  end
  local u = {
    book = book_ref(app.book), edition = app.edition.id, month = dates.format_month(mo), dau = dau,
    groups = groups, mau = read(keys.key(P, K.IMB_K_MAU, mo)) or 0, tz = app.tz,
  }
  if app.activated then
    local ad = dates.day(app.activated)
    if ad >= first and ad < first + n then u.activated = app.activated end
  end
  if #app.addons > 0 then
    u.addons = {}
    for i, a in ipairs(app.addons) do u.addons[i] = a end
  end
  return u
end

--- The month as JSON: { app, usage, invoice } with the invoice as
-- imbill.invoice(usage):data().
function M.document(read, app, month)
  local u = M.month(read, app, month)
  local inv = require("imbill.bill.invoice").invoice(u)
  local data = inv:data()
  data.lines = json.array(data.lines)
  data.notes = json.array(data.notes)
  local shown = {}
  for k, v in pairs(u) do shown[k] = v end
  if type(shown.book) ~= "string" then shown.book = u.book.name end
  return json.encode { app = app.id, usage = shown, invoice = data }
end

--- For the `imbill` command: the usage a gateway's usage location reports,
-- as a table imbill.invoice takes.  url: the location ("http://127.0.0.1:
-- 8080/imbill/usage"); needs LuaSocket.
function M.fetch(url, app, month)
  local fn = FN .. ".fetch"
  check.string(fn, "url", url)
  check.string(fn, "app", app)
  check.call(fn, dates.month, month, "month")
  local http = require "socket.http"
  local ltn12 = require "ltn12"
  local out = {}
  local ok, code = http.request {
    url = url .. (url:find("?", 1, true) and "&" or "?") .. "sdkappid=" .. app .. "&month=" .. month,
    sink = ltn12.sink.table(out),
  }
  if not ok then error(fn .. ": " .. url .. ": " .. tostring(code), 0) end
  local doc = require("cjson.safe").decode(table.concat(out))
  if code ~= 200 or type(doc) ~= "table" or type(doc.usage) ~= "table" then
    error(fn .. ": " .. url .. ": HTTP " .. tostring(code) .. ": " .. table.concat(out):sub(1, 200), 0)
  end
  return doc.usage
end

return M
