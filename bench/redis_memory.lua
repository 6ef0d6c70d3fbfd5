-- bench/redis_memory.lua PORT USERS DAYS PER_USER [BUCKETS]: what an app's
-- logins take in Redis, per distinct user.  Feeds USERS users, each active
-- on PER_USER of DAYS days, through the gateway's own programs (the login
-- template and one compare-and-set line per user, the states computed by
-- the core's imb_activity_mark) run by the same interpreter the gateway
-- loads, in batches of 1,000 pipelined four at a time; then reads Redis'
-- INFO memory.  The same users fed to an in-process meter give its figure,
-- in the same run.  Run by bench/redis_memory.sh, which starts the Redis.
local port, users, days, per, buckets = tonumber(arg[1]), tonumber(arg[2] or 1000000), tonumber(arg[3] or 30),
  tonumber(arg[4] or 3), tonumber(arg[5] or 8192)
local top = os.getenv("IMBILL_TOP") or "."
local core = require "imbill.gateway.core"
core.init(top .. "/build/jit/imbill/core.so")
local config = require "imbill.gateway.config"
local program = require "imbill.gateway.redis.program"
local layout = require "imbill.gateway.redis.layout"
local resp = require "imbill.gateway.redis.resp"
local script = require "imbill.gateway.redis.script"
local socket = require "socket"

local APP = "1400000001"
local cfg = config.check { apps = { [APP] = { book = "2021", edition = "pro", tz = "+08:00", buckets = buckets } } }
local app = cfg.apps[APP]
local ctx = { P = layout.prefix(APP), buckets = buckets, tag = layout.tag(buckets), dedup_ttl = 34 * 86400 }

local c = assert(resp.connect("127.0.0.1", port, 60))
assert(c:call("FLUSHALL"))
local sha = assert(c:call("SCRIPT", "LOAD", script.text()))

local function used()
  local info = c:call("INFO", "memory")
  return tonumber(info:match("used_memory:(%d+)")), tonumber(info:match("used_memory_dataset:(%d+)"))
end
local mem0, data0 = used()

local function user(i) return "user" .. i end
-- user i's days: its own first day, then per-1 more spread over the period
local function active(i, d)
  local first = i % days + 1
  if d == first then return true end
  for k = 1, per - 1 do
    if (first - 1 + k * 7) % days + 1 == d then return true end
  end
  return false
end

local t0 = os.time { year = 2026, month = 1, day = 1, hour = 12, isdst = false } - 8 * 3600
local states = {}
local logins, started = 0, socket.gettime()
local plan = core.plan_t()
for d = 1, days do
  local t = t0 + (d - 1) * 86400
  assert(core.build(app.limits, core.A.IMB_A_LOGIN, 0, t, app.offset, false, t, plan))
  local batch, progs = {}, {}
  local function send()
    if #progs == 0 then return end
    local cmds = {}
    for i, p in ipairs(progs) do
      local cmd = { "EVALSHA", sha, #p.keys }
      for _, k in ipairs(p.keys) do cmd[#cmd + 1] = k end
      for _, a in ipairs(p.argv) do cmd[#cmd + 1] = a end
      cmds[i] = cmd
    end
    local rs = assert(c:pipeline(cmds))
    for i, r in ipairs(rs) do
      if type(r) ~= "table" or r[1] ~= "ok" then error("program " .. i .. ": " .. tostring(r[1]) .. " " .. tostring(r[2])) end
      for j = 2, #r do
        if r[j] ~= "a" then error("login answered " .. tostring(r[j])) end
      end
    end
    progs = {}
  end
  local function close_batch()
    if #batch == 0 then return end
    local p = program.new(ctx)
    p:login_template(plan, batch[1][1])
    for _, b in ipairs(batch) do p:login(b[1], b[2], b[3], b[4], b[5], plan.day, plan.month) end
    progs[#progs + 1] = p
    batch = {}
    if #progs == 4 then send() end
  end
  for i = 1, users do
    if active(i, d) then
      local old = states[i]
      local new, dn, mn = core.mark(old, plan.day, plan.month)
      batch[#batch + 1] = { user(i), old and ("=" .. old) or "=", new, dn, mn }
      states[i] = new
      logins = logins + 1
      if #batch == 1000 then close_batch() end
    end
  end
  close_batch()
  send()
end
local elapsed = socket.gettime() - started
local mem1, data1 = used()
local hashes = #c:call("KEYS", ctx.P .. "act:*")
local sample = c:call("OBJECT", "ENCODING", ctx.P .. "act:0")
local dau1 = tonumber(c:call("GET", ctx.P .. "d:" .. (core.day_of(t0, app.offset)) .. ":dau"))
local mau = tonumber(c:call("GET", ctx.P .. "m:" .. plan.month .. ":mau"))
c:close()
states = nil -- luacheck: ignore 311 (let the collector have them before the meter runs)
collectgarbage()

-- the in-process meter, the same users
local imbill = require "imbill"
local m = imbill.meter { book = "2021", edition = "pro", tz = "+08:00" }
local us, ts = {}, {}
for i = 1, users do
  us[#us + 1], ts[#ts + 1] = user(i), t0
  if #us == 10000 then
    m:logins(us, ts)
    us, ts = {}, {}
  end
end
if #us > 0 then m:logins(us, ts) end
local mm = m:memory()

local per_user = (mem1 - mem0) / users
local meter_per_user = tonumber(mm.user_bytes) / tonumber(mm.users)
print(string.format("users %d, %d days, each active on %d of them: %d logins in %.1f s (%.0f logins/s, one client, "
  .. "batches of 1,000, 4 in flight)", users, days, per, logins, elapsed, logins / elapsed))
print(string.format("Redis used_memory: %d -> %d bytes (dataset %d -> %d): %.1f bytes per distinct user",
  mem0, mem1, data0, data1, per_user))
print(string.format("  %d activity hashes (%s, about %d users each), DAU of day 1 = %d, MAU of the month = %d",
  hashes, tostring(sample), math.floor(users / hashes + 0.5), dau1 or 0, mau or 0))
print(string.format("in-process meter: %.1f bytes per distinct user (imb_meter_memory, %d users)", meter_per_user,
  tonumber(mm.users)))
print(string.format("Redis / meter: %.2fx (target at most 2x)", per_user / meter_per_user))
