--- Meter benchmark (figures, not a timed test).  Logins per second through the
-- Lua API and through a pure-Lua table counter doing the same counting (distinct
-- users per day and per month), in the same run, and the memory each holds.
-- bench/meter.sh runs it under lua5.4 and luajit after the C-core driver.
--   lua5.4 bench/meter_bench.lua [events] [users]
local imbill = require "imbill"
local core = require "imbill.core"

local N = tonumber(arg and arg[1]) or 10000000
local U = tonumber(arg and arg[2]) or 2000000
local DAYS, T0, OFF = 30, 1614556800, 8 * 3600
local floor = math.floor
local runtime = rawget(_G, "jit") and "luajit" or _VERSION:gsub("Lua ", "lua")

local clock = os.clock
local ids, pick = {}, {}
for i = 1, U do ids[i] = "user" .. i end
math.randomseed(42)
local random = math.random
for i = 1, N do pick[i] = random(U) end
local STEP = DAYS * 86400 / N

local function report(k, v) print(string.format("%s_%s=%s", runtime, k, v)) end

-- 1. the Lua API, one call an event
collectgarbage("collect")
local m = imbill.meter{ book = "2020", edition = "pro" }
local login = m.login
local c0 = clock()
for i = 1, N do login(m, ids[pick[i]], T0 + floor(i * STEP)) end
local api = clock() - c0
local mem = m:memory()

-- 2. the batched Lua API: arrays of users and times
collectgarbage("collect")
local CH = 10000
local us, ts = {}, {}
-- All N logins, CH at a time, through logins(meter, users, times) on a new
-- meter; returns the seconds taken, and checks the meter against the single
-- calls' answer.  The meter is dropped before the next run.
local function batched(logins, what)
  local mb = imbill.meter{ book = "2020", edition = "pro" }
  local t0 = clock()
  for base = 0, N - 1, CH do
    local k = math.min(CH, N - base)
    for j = 1, k do
      us[j] = ids[pick[base + j]]
      ts[j] = T0 + floor((base + j) * STEP)
    end
    for j = k + 1, #us do us[j], ts[j] = nil, nil end
    logins(mb, us, ts)
  end
  local dt = clock() - t0
  assert(mb:mau("2021-03") == m:mau("2021-03"), what .. " and single logins disagree")
  return dt
end
local batch = batched(m.logins, "batched")

-- 2b. LuaJIT: the same batches through the FFI binding (imbill.meter_ffi)
local ffi_batch
if rawget(_G, "jit") then
  collectgarbage("collect")
  ffi_batch = batched(require("imbill.ffi.meter").logins, "FFI")
end

-- 3. a pure-Lua table counter: the same rule (distinct per day and per month)
collectgarbage("collect")
local before = collectgarbage("count")
local days, months, dau, mau, month_of = {}, {}, {}, {}, {}
local function lua_login(u, t)
  local d = floor((t + OFF) / 86400)
  local set = days[d]
  if not set then
    set = {}
    days[d], dau[d] = set, 0
    month_of[d] = core.month_of_day(d)
  end
  if not set[u] then
    set[u] = true
    dau[d] = dau[d] + 1
    local mo = month_of[d]
    local ms = months[mo]
    if not ms then
      ms = {}
      months[mo], mau[mo] = ms, 0
    end
    if not ms[u] then
      ms[u] = true
      mau[mo] = mau[mo] + 1
    end
  end
end
c0 = clock()
for i = 1, N do lua_login(ids[pick[i]], T0 + floor(i * STEP)) end
local pure = clock() - c0
collectgarbage("collect")
local pure_bytes = (collectgarbage("count") - before) * 1024
local month = core.month_of_day(floor((T0 + OFF) / 86400))
assert(mau[month] == m:mau(core.format_month(month)), "pure-Lua counter and meter disagree")

report("events", N)
report("distinct_users", mem.users)
report("user_days", mem.user_days)
report("api_events_per_second", floor(N / api))
report("api_batch_events_per_second", floor(N / batch))
report("pure_lua_events_per_second", floor(N / pure))
report("api_vs_pure_lua", string.format("%.2f", pure / api))
report("api_batch_vs_pure_lua", string.format("%.2f", pure / batch))
if ffi_batch then
  report("api_ffi_batch_events_per_second", floor(N / ffi_batch))
  report("api_ffi_batch_vs_pure_lua", string.format("%.2f", pure / ffi_batch))
end
report("meter_bytes_per_user_day", string.format("%.2f", (mem.day_bytes + mem.month_bytes) / mem.user_days))
report("meter_bytes_per_user", string.format("%.2f", mem.user_bytes / mem.users))
report("pure_lua_bytes_per_user_day", string.format("%.2f", pure_bytes / mem.user_days))
