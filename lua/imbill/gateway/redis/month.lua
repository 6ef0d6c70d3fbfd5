--- An app's month read from Redis, in the form imbill.invoice takes (the
-- same table usage.month gives for a shared dict): two round trips, one
-- MGET of every counter the month needs and one pipeline of the month's
-- group logs.  Used by the usage location inside nginx and by
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

local function int(v, key)
  if is_null(v) then return nil end
  local s = tostring(v)
  if not s:match("^%-?%d+$") or #s > 16 then
    error(FN .. ": Redis holds " .. string.format("%q", s:sub(1, 40)) .. " at " .. key .. ", not a count", 0)
  end
  return tonumber(s)
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
  local head = cmd("MGET", last_key, groups_key)
  local last_day = int(head[1], last_key) or core.NO_DAY
  local hi = math.max(last_day, first + n - 1)
  if hi - first > 4000 then
    error(FN .. ": the app's latest counted day is " .. dates.format(last_day) .. ", too far after the month", 0)
  end
  -- one MGET: DAU and the net group change of every day from the month's
  -- first to the latest counted, and the month's MAU
  local names = {}
  for d = first, hi do
    names[#names + 1] = layout.counter(P, K.IMB_K_DAY_NET, d)
    names[#names + 1] = layout.counter(P, K.IMB_K_DAU, d)
  end
  local mau_key = layout.counter(P, K.IMB_K_MAU, mo)
  names[#names + 1] = mau_key
  table.insert(names, 1, "MGET")
  local vals, verr = client:command_args(slot, deadline, names)
  if type(vals) ~= "table" then error(FN .. ": " .. tostring(verr), 0) end
  table.remove(names, 1)
  local values = { [last_key] = last_day ~= core.NO_DAY and last_day or nil, [groups_key] = int(head[2], groups_key) }
  for i, k in ipairs(names) do values[k] = int(vals[i], k) end
  local logs, reads = {}, {}
  for d = first, first + n - 1 do reads[#reads + 1] = { "HGETALL", layout.group_log(P, d) } end
  local flats, perr = client:pipeline(slot, reads, deadline)
  if not flats then error(FN .. ": " .. tostring(perr), 0) end
  for d = first, first + n - 1 do
    local k = layout.group_log(P, d)
    local flat = flats[d - first + 1]
    if type(flat) == "table" and flat[1] == false then error(FN .. ": " .. k .. ": " .. tostring(flat[2]), 0) end
    local ts, ds = {}, {}
    -- per instant its disbands, then its creates
    local by = {}
    local order = {}
    for i = 1, #flat, 2 do
      local f, v = flat[i], int(flat[i + 1], k .. " " .. tostring(flat[i]))
      local sign, t = f:match("^([%+%-])(%-?%d+)$")
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
