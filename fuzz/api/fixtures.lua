--- The fixtures every call may name, as Lua source: the fuzzer runs this very
-- text to build them, and a logged reproducer starts with it.
--
-- Each block defines locals (names); area says which part of imbill it
-- needs, so a skipped area builds nothing.  Shared blocks are built once per
-- process; the episode block (a fresh meter with a little history) once per
-- episode.
local M = {}

M.shared = {
  { area = "base", names = { "imbill", "H", "OP" }, code = [==[
local imbill = require "imbill"
-- helpers the junk values use
local H = {}
local JUNK_AT = { 5, "x", {}, -1, 0/0, "2021-03", true, "pro", 2^53 }
function H.junk_at(k) return JUNK_AT[#tostring(k) % #JUNK_AT + 1] end
function H.endless(v) return setmetatable({}, { __index = function() return v end }) end
function H.cyclic() local t = {} t[1] = t t.a = t t.book = t t.dau = t return t end
function H.deep(n) local t = {} for _ = 1, n do t = { t } end return t end
function H.wide(n) local t = {} for i = 1, n do t[i] = i end return t end
function H.sparse() return { [1] = 1, [1000000] = 2 } end
function H.weird_keys() return { [true] = 1, [1.5] = 2, [{}] = 3, [print] = 4, x = 5 } end
function H.hostile_key()
  return { [setmetatable({}, { __tostring = function() error("FUZZ-HOSTILE key __tostring") end })] = 1 }
end
function H.dead_coroutine() local c = coroutine.create(function() end) coroutine.resume(c) return c end
function H.proxy() return rawget(_G, "newproxy") and _G.newproxy(true) or io.stderr end
function H.closed_meter()
  local x = imbill.meter { book = "2020", edition = "pro" }
  getmetatable(x).__gc(x)
  return x
end
function H.other_meter() return imbill.meter { book = "2022", edition = "developer" } end
function H.drain_events(...)
  local n = 0
  for _ in imbill.replay.events(...) do
    n = n + 1
    if n > 100000 then break end
  end
  return n
end
-- a file of the repository, copied into the scratch directory
function H.copy(rel)
  local f = assert(io.open(FUZZ_TOP .. "/" .. rel, "rb"))
  local text = f:read("*a")
  f:close()
  local path = FUZZ_TMP .. "/" .. rel:gsub("/", "_")
  f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end
-- n user ids and n instants for m:logins, element k (when given) replaced by bad
function H.users(n, k, bad)
  local t = {}
  for i = 1, n do t[i] = "user" .. i end
  if k then t[k] = bad end
  return t
end
function H.times(n, k, bad)
  local t = {}
  for i = 1, n do t[i] = 1614556800 + i end
  if k then t[k] = bad end
  return t
end
-- garbage whose finalizers run during a later call: they allocate, collect
-- and use a meter of their own (not m, whose state the fuzzer compares)
local victim = imbill.meter { book = "2020", edition = "pro" }
function H.gc_bomb()
  local mk = rawget(_G, "newproxy")
  for i = 1, 50 do
    local function fin()
      local _ = { string.rep("g", 100), {} }
      pcall(victim.login, victim, "gc" .. i, 1614556800 + i)
      if i % 10 == 0 then collectgarbage("step") end
    end
    if mk then
      local u = mk(true)
      getmetatable(u).__gc = fin
    else
      setmetatable({}, { __gc = fin })
    end
  end
  return {}
end
-- A call on a meter that a finalizer closes in the middle of it: finalizers
-- are pending and the collector runs at every allocation.
local CLOSE_CALLS = {
  edition = function(x) return x:edition(1614556800) end,
  usage = function(x) return x:usage("2021-03") end,
  invoice = function(x) return x:invoice("2021-03") end,
  tostring = function(x) return tostring(x) end,
  refusal = function(x) return x:create_account("one-too-many", 1614556800) end,
  refusal_group = function(x) return x:join_group("no-such-group", "u1", 1614556800 + 60) end,
  change = function(x) return x:change_edition("flagship", 1614556800 + 86400 * 100) end,
  logins = function(x) return x:logins(H.users(3000), H.times(3000)) end,
  ffi_logins = function(x)
    if not rawget(_G, "jit") then return x:logins(H.users(3000), H.times(3000)) end
    return require("imbill.ffi.meter").logins(x, H.users(3000), H.times(3000))
  end,
  save = function(x) return x:save(FUZZ_TMP .. "/closing.meter") end,
  limits = function(x) return imbill.meter.limits(x:book(), x:edition()) end,
}
function H.close_mid_call(kind, rounds)
  local call = CLOSE_CALLS[kind] or CLOSE_CALLS.edition
  local mk = rawget(_G, "newproxy")
  local jit = rawget(_G, "jit")
  local last
  local n = tonumber(rounds) or 20
  if n ~= n or n < 1 then n = 1 end
  for round = 1, math.min(n, 200) do
    local x = imbill.meter { book = "2020", edition = "trial" }
    for i = 1, 100 do x:create_account("u" .. i, 1614556800) end
    for i = 1, 3 do x:change_edition(i % 2 == 1 and "pro" or "flagship", 1614556800 + i * 86400 * 40) end
    -- a chain: each finalizer leaves another behind, so one is always pending;
    -- the first to run while the call is under way closes the meter
    local armed, live = false, true
    local function fin()
      if not live then return end
      if armed then armed = false; getmetatable(x).__gc(x) end
      if mk then getmetatable(mk(true)).__gc = fin else setmetatable({}, { __gc = fin }) end
    end
    for _ = 1, 20 do fin() end
    if jit then collectgarbage("setpause", 0) else collectgarbage("incremental", 0, 100, 0) end
    for _ = 1, round % 3 do collectgarbage("step", round % 7) end
    armed = true
    local ok, a, b = pcall(call, x)
    live = false
    if jit then collectgarbage("setpause", 200) else collectgarbage("incremental", 200, 100, 13) end
    armed = false
    if not ok then error(a, 0) end
    last = { a, b }
  end
  return last[1], last[2]
end
function H.month31(v) local t = {} for i = 1, 31 do t[i] = v end return t end
function H.month30(v) local t = {} for i = 1, 30 do t[i] = v end return t end
-- operators as functions, so that a call is always F(args)
local OP = {
  add = function(a, c) return a + c end, sub = function(a, c) return a - c end,
  mul = function(a, c) return a * c end, unm = function(a) return -a end,
  lt = function(a, c) return a < c end, le = function(a, c) return a <= c end,
  eq = function(a, c) return a == c end, concat = function(a, c) return a .. c end,
  tostring = function(a) return tostring(a) end, len = function(a) return #a end,
}
]==] },
  { area = "base", names = { "b", "ed", "b21", "b22", "inv", "wb" }, code = [==[
local b = imbill.book("2020")
local ed = b:edition("pro")
local b21, b22 = imbill.book("2021"), imbill.book("2022")
local inv = imbill.invoice { book = "2020", edition = "pro", month = "2021-03", peak_dau = 25000,
  groups_peak = 250000 }
local wb = imbill.book { base = "2020", name = "what-if", editions = { pro = { monthly_fee = "129.99" } } }
]==] },
  { area = "replay", names = { "EVENTS_CSV", "EVENTS_JSONL" }, code = [==[
-- copies in the scratch directory: a call may write over any path it is given
local EVENTS_CSV, EVENTS_JSONL = H.copy("examples/events.csv"), H.copy("examples/events.jsonl")
]==] },
  { area = "whatif", names = { "S", "s", "smau", "gen", "fac", "USAGE_CSV" }, code = [==[
local S = imbill.series
local USAGE_CSV = H.copy("examples/data/usage_2021.csv")
local s = S.build { from = "2021-01-01", months = 3, dau = S.linear { start = 9000, per_day = 50 },
  groups = 120000 }
local smau = S.build { from = "2021-01-01", months = 3, dau = S.constant(20000), groups = 120000,
  mau_ratio = "3" }
local gen, fac = S.constant(100), S.weekly { sat = "1.2", sun = "1.2" }
]==] },
  { area = "whatif", names = { "p", "mig", "bt", "sh", "g" }, code = [==[
local p = imbill.project { usage = s, books = { "2021" } }
local mig = imbill.migration { usage = smau, from = "2021/pro", to = "2022/standard" }
local bt = imbill.breakeven_table { editions = { "2021/pro", "2021/ultimate" }, metric = "dau", to = 50000 }
local sh = imbill.shadow { usage = s, base = "2020", editions = { "pro" },
  shadow = { base = "2020", editions = { pro = { monthly_fee = "129.99" } } } }
local g = imbill.grid { editions = { "2021/pro", "2022/standard" }, growth = { "0%", "5%" },
  start_dau = { from = 1000, to = 10000, step = 1000 }, months = 3, mau_per_dau = "3" }
]==] },
  { area = "column", names = { "col", "col2", "gcol", "cgrid", "i64", "COL_CSV" }, code = [==[
local col = imbill.column { 9999, 10000, 10001, 25000, 100000 }
local col2 = col * "1.5" + 100000
local cgrid = imbill.grid { editions = { "2020/pro" }, growth = { "0%", "5%" }, start_dau = { 1000, 20000, 50000 },
  months = 2 }
local gcol = cgrid:column()
-- FFI memory for imbill.column.view (LuaJIT only)
local i64 = rawget(_G, "jit") and require("ffi").new("int64_t[4]", { 1, 2, 3, 4 }) or nil
local COL_CSV = FUZZ_TMP .. "/columns.csv"
do
  local f = assert(io.open(COL_CSV, "wb"))
  f:write("# scenarios\ndau,groups,note\n10001,250000,a\n9999,\"120000\",\"b, c\"\n-5,0,x\n")
  f:close()
end
]==] },
  { area = "bill", names = { "rows", "be" }, code = [==[
local rows = imbill.compare { month = "2021-03", peak_dau = 25000, groups_peak = 250000 }
local be = imbill.breakeven { a = "2020/pro", b = "2021/pro", metric = "dau", to = 30000 }
]==] },
}

-- A fresh meter with a little of everything counted, and a saved copy.
M.episode = { area = "base", names = { "m", "SAVED" }, code = [==[
local m = imbill.meter { book = "2020", edition = "pro" }
do
  local t0 = 1614556800 -- 2021-03-01T00:00:00Z
  m:create_account("u1", t0) m:create_account("u2", t0 + 60)
  m:login("u1", t0 + 3600) m:login("u2", t0 + 86400 + 5)
  m:create_group("g1", "Public", t0 + 100) m:create_group("av1", "AVChatRoom", t0 + 200, "e1")
  m:join_group("g1", "u1", t0 + 300) m:add_friend("u1", "u2", t0 + 400)
  m:login("u1", t0 - 86400 * 20)
end
local SAVED = FUZZ_TMP .. "/saved.meter"
m:save(SAVED)
]==] }

-- Expressions that name the fixtures of an area, for the junk pool.
M.values = {
  base = { "b21", "b22", "wb", "SAVED", "FUZZ_TMP", "FUZZ_TMP .. \"/x.meter\"", "FUZZ_TMP .. \"/no/such/dir/x\"",
           "FUZZ_TMP .. \"/a\\0b\"", "FUZZ_TMP .. \"/\" .. string.rep(\"a\", 5000)", "inv.lines", "inv.total",
           "m:usage(\"2021-03\")", "ed.limits", "b.policy" },
  replay = { "EVENTS_CSV", "EVENTS_JSONL" },
  whatif = { "s", "smau", "gen", "fac", "p", "mig", "bt", "sh", "g", "S.constant(5)", "gen + gen", "gen * fac" },
  bill = { "rows", "be", "rows[1]" },
  column = { "col", "col2", "gcol", "imbill.column(0)", "imbill.column(3)" },
}

return M
