--- An app's month read from Redis, in the form imbill.invoice takes (the
-- same table usage.month gives for a shared dict): two round trips, one
-- MGET of the latest counted day, then one transaction reading every
-- counter the month needs and the month's group logs.  Used by the usage location inside nginx and by
-- usage.from_redis for the `imbill` command.
local core = require "imbill.gateway.core"
local layout = require "imbill.gateway.redis.layout"
local cluster = require "imbill.gateway.redis.cluster"
local usage = require "imbill.gateway.usage"
local dates = require "imbill.internal.dates"
local check = require "imbill.internal.check"

local K = core.K
local M = {}
local FN = "imbill.gateway.usage"

local function is_null(v) return v == nil or (type(v) ~= "string" and type(v) ~= "number") end

-- A count read as its decimal text, within the 2^53 a double holds exactly
-- (the interpreter's own bound), compared as text: a count past it is
-- refused, never rounded on its way through tonumber.
local MAXI = "9007199254740991"
local function int(v, key)
  if is_null(v) then return nil end
  local s = tostring(v)
  local digits = s:match("^%-?(%d+)$")
  if not digits then
    error(FN .. ": Redis holds " .. string.format("%q", s:sub(1, 40)) .. " at " .. key .. ", not a count", 0)
  end
  digits = digits:gsub("^0+(%d)", "%1")
  if #digits > #MAXI or (#digits == #MAXI and digits > MAXI) then
    error(FN .. ": Redis holds " .. string.format("%q", s:sub(1, 40)) .. " at " .. key
      .. ", beyond 2^53, which this store does not count to", 0)
  end
  return tonumber(s)
end

-- A reply that must be a list (MGET's, HGETALL's): anything else (a server
-- that is not Redis, a proxy answering for it) is refused naming the
-- command, never indexed as if it were one.
local function listed(v, what)
  if type(v) == "table" and v[1] == false then error(FN .. ": " .. what .. ": " .. tostring(v[2]), 0) end
  if type(v) ~= "table" then
    local shown = type(v) == "string" and string.format("%q", v:sub(1, 40)) or tostring(v)
    error(FN .. ": " .. what .. " was answered " .. shown .. ", not a list: is this server Redis?", 0)
  end
  return v
end

--- The month's usage.  client: a cluster.lua client; app: the checked app
-- configuration; deadline: absolute seconds.
function M.read(client, app, month, deadline)
  local mo = check.call(FN, dates.month, month, "month")
  local first, n = core.month_first_day(mo), core.month_length(mo)
  local P = layout.prefix(app.id)
  local slot = cluster.slot_of_tag(app.id)
  local function cmd(...)
    local r, err = client:command(slot, deadline, ...)
    if r == nil then error(FN .. ": " .. tostring(err), 0) end
    if r == false then error(FN .. ": " .. tostring(err), 0) end
    return r
  end
  local last_key, groups_key = layout.counter(P, K.IMB_K_LAST_DAY), layout.counter(P, K.IMB_K_GROUPS)
  local head = listed(cmd("MGET", last_key, groups_key), "MGET " .. last_key)
  local last_day = int(head[1], last_key) or core.NO_DAY
  -- Everything the month needs is read in one transaction (MULTI ... EXEC:
  -- no program runs between its reads), so the count carried into the
  -- month, the days' net changes and their logs are one snapshot; read in
  -- pieces while groups are created, the count carried in came out too low
  -- (negative).  The days to read run to the latest counted day, read first:
  -- when the snapshot's latest day is later, it is read again with it.
  local names, tx, groups_now
  for _ = 1, 5 do
    usage.reach(mo, month, last_day)
    local hi = math.max(last_day, first + n - 1)
    -- DAU and the net group change of every day from the month's first to
    -- the latest counted, and the month's MAU
    names = {}
    for d = first, hi do
      names[#names + 1] = layout.counter(P, K.IMB_K_DAY_NET, d)
      names[#names + 1] = layout.counter(P, K.IMB_K_DAU, d)
    end
    names[#names + 1] = layout.counter(P, K.IMB_K_MAU, mo)
    local mget = { "MGET" }
    for i, k in ipairs(names) do mget[i + 1] = k end
    local cmds = { { "MULTI" }, { "MGET", last_key, groups_key }, mget }
    for d = first, first + n - 1 do cmds[#cmds + 1] = { "HGETALL", layout.group_log(P, d) } end
    cmds[#cmds + 1] = { "EXEC" }
    local rs, perr = client:pipeline(slot, cmds, deadline)
    if not rs then error(FN .. ": " .. tostring(perr), 0) end
    for i = 1, #rs - 1 do
      local r = rs[i]
      if type(r) == "table" and r[1] == false then error(FN .. ": " .. tostring(r[2]), 0) end
    end
    tx = rs[#rs]
    if type(tx) ~= "table" or tx[1] == false then
      error(FN .. ": " .. tostring(type(tx) == "table" and tx[2] or "the month's transaction was not run"), 0)
    end
    local snap = listed(tx[1], "MGET " .. last_key)
    local ld = int(snap[1], last_key) or core.NO_DAY
    groups_now = int(snap[2], groups_key)
    if ld <= hi then
      last_day = ld
      break
    end
    last_day, tx = ld, nil
  end
  if not tx then error(FN .. ": the app's latest counted day kept moving while the month was read", 0) end
  local vals = listed(tx[2], "MGET of the month's counters")
  local values = { [last_key] = last_day ~= core.NO_DAY and last_day or nil, [groups_key] = groups_now }
  for i, k in ipairs(names) do values[k] = int(vals[i], k) end
  local logs = {}
  for d = first, first + n - 1 do
    local k = layout.group_log(P, d)
    local flat = listed(tx[2 + d - first + 1], "HGETALL " .. k)
    local ts, ds = {}, {}
    -- per instant its disbands, then its creates
    local by = {}
    local order = {}
    for i = 1, #flat, 2 do
      local f, v = flat[i], int(flat[i + 1], k .. " " .. tostring(flat[i]))
      local sign, t
      if type(f) == "string" then sign, t = f:match("^([%+%-])(%-?%d+)$") else f = tostring(f) end
      if not sign then error(FN .. ": Redis holds a field " .. string.format("%q", f:sub(1, 40)) .. " in " .. k, 0) end
      t = tonumber(t)
      if not by[t] then
        by[t] = { 0, 0 }
        order[#order + 1] = t
      end
      if sign == "-" then by[t][1] = by[t][1] + v else by[t][2] = by[t][2] + v end
    end
    table.sort(order)
    for _, t in ipairs(order) do
      if by[t][1] ~= 0 then ts[#ts + 1], ds[#ds + 1] = t, -by[t][1] end
      if by[t][2] ~= 0 then ts[#ts + 1], ds[#ds + 1] = t, by[t][2] end
    end
    logs[d] = { ts, ds }
  end
  return usage.month_of({
    count = function(k, id) return values[layout.counter(P, k, id)] end,
    day_log = function(d) local l = logs[d] return l[1], l[2] end,
  }, app, month)
end

return M
