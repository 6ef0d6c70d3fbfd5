--- Benchmark (figures, not a test): the what-if job of pricing 1,000,000
-- scenarios of DAU, groups and MAU on every paid edition of every built-in
-- book (six editions), every way imbill offers, against two pure-Lua
-- yardsticks measured in the same run:
--
--   bare        bench/bare_totals.lua: the formula only, over the three Lua
--               arrays, as a user would write it (integer division on Lua
--               5.4, math.floor and math.ceil on doubles on LuaJIT), no
--               checks.  What a user compares imbill with.
--   validating  bench/pure_totals.lua: every input checked as imbill.totals
--               checks it (whole, >= 0, exact), errors naming field and
--               index.  What imbill.totals' contract costs in plain Lua.
--
-- and the imbill paths:
--   arrays      imbill.totals over the same Lua arrays, arrays of cents out,
--               one call an edition
--   arrays/ed   the same in one call, editions = { the six }: each array is
--               read once for the six editions
--   columns/1   imbill.totals from columns (imbill.column), a column of cents
--               out, one thread
--   columns/N   the same on every core
--   into/1      from columns into a result column made once (no new memory)
--   columns/ed  from columns in one call, editions = { the six }: a chunk of
--               scenarios priced on the six editions while it is in cache,
--               on every core
--   column()    building the three input columns from the Lua arrays (once
--               per job, not per edition)
--
-- Every path's cents are checked against the bare loop's, scenario by
-- scenario.  Figures are ns per scenario and edition, the best of REPS runs of
-- the whole six-edition job, wall clock (core.clock); the first run, which
-- maps fresh memory for its results, is shown beside it.
--
--   lua5.4 bench/batch_bench.lua [scenarios] [--only=PATH]    (or luajit)
-- --only times one path and prints "ns <value>" (bench/batch.sh runs each
-- path in fresh processes: on LuaJIT paths sharing a process share traces).
local imbill = require "imbill"
local pure = require "pure_totals"
local bare_totals = require "bare_totals"
local core = imbill.core

local N, only, REPS = 1000000, nil, 5
for _, a in ipairs(arg or {}) do
  local k, v = a:match("^%-%-(%w+)=(.*)$")
  if k == "only" then only = v
  elseif k == "reps" then REPS = tonumber(v)
  elseif tonumber(a) then N = tonumber(a)
  else error("batch_bench: unknown argument " .. a, 0) end
end
local jit = rawget(_G, "jit")
local runtime = jit and jit.version or _VERSION
local EDITIONS = { "2020/pro", "2020/flagship", "2021/pro", "2021/ultimate", "2022/standard", "2022/premium" }

-- Memory: Lua's own count for Lua values, the resident set (/proc/self/statm)
-- for a column's C memory, which the Lua count does not see.
local function lua_bytes()
  collectgarbage()
  collectgarbage()
  return collectgarbage("count") * 1024
end
local function rss_bytes()
  local f = io.open("/proc/self/statm", "r")
  if not f then return nil end
  local pages = f:read("*a"):match("^%d+%s+(%d+)")
  f:close()
  return tonumber(pages) * 4096
end
local mem = {}
local before = lua_bytes()
-- the scenarios, those of bench/batch_core_bench.c
local dau, groups, mau = require("scenarios")(N)
mem.arrays_in = (lua_bytes() - before) / N

local rates = {}
for i, name in ipairs(EDITIONS) do
  local b, e = name:match("^(%w+)/(%w+)$")
  local ed = imbill.book(b):edition(e)
  rates[i] = { book = b, edition = e, plain = bare_totals.rate_of(ed), pure = pure.rate_of(ed) }
end
local bare = bare_totals.totals

local cols -- the input columns, built once by the "column()" path or on demand
local function columns()
  if not cols then
    cols = { imbill.column(dau), imbill.column(groups), imbill.column(mau) }
  end
  return cols
end

local into
local PATHS = {
  bare = function() local o = {} for e, r in ipairs(rates) do o[e] = bare(r.plain, dau, groups, mau, N) end return o end,
  validating = function()
    local o = {}
    for e, r in ipairs(rates) do o[e] = pure.totals(r.pure, dau, groups, mau) end
    return o
  end,
  arrays = function()
    local o = {}
    for e, r in ipairs(rates) do
      o[e] = imbill.totals { book = r.book, edition = r.edition, peak_dau = dau, groups_peak = groups, mau = mau }
    end
    return o
  end,
  ["arrays/ed"] = function()
    return imbill.totals { editions = EDITIONS, peak_dau = dau, groups_peak = groups, mau = mau }
  end,
  ["column()"] = function()
    cols = nil
    return columns()
  end,
}
local function from_columns(threads, reuse)
  return function()
    local c, o = columns(), {}
    for e, r in ipairs(rates) do
      o[e] = imbill.totals { book = r.book, edition = r.edition, peak_dau = c[1], groups_peak = c[2], mau = c[3],
                             threads = threads, into = reuse and into[e] or nil }
    end
    return o
  end
end
PATHS["columns/1"] = from_columns(1)
PATHS["columns/N"] = from_columns(nil)
PATHS["into/1"] = from_columns(1, true)
PATHS["columns/ed"] = function()
  local c = columns()
  return imbill.totals { editions = EDITIONS, peak_dau = c[1], groups_peak = c[2], mau = c[3] }
end
PATHS["columns/ed1"] = function()
  local c = columns()
  return imbill.totals { editions = EDITIONS, peak_dau = c[1], groups_peak = c[2], mau = c[3], threads = 1 }
end
local ORDER = { "bare", "validating", "arrays", "arrays/ed", "column()", "columns/1", "columns/N", "into/1",
                "columns/ed1", "columns/ed" }

-- Best of REPS, wall clock; the previous result is dropped before collecting,
-- so every run starts from the same heap.
-- Also returns the first run's time: the one that maps fresh memory for its
-- results (later runs reuse what the previous one freed).
local function best_of(f)
  local best, first, last = math.huge, nil, {}
  for _ = 1, REPS do
    last[1] = nil
    collectgarbage()
    collectgarbage()
    local t0 = core.clock()
    last[1] = f()
    local dt = core.clock() - t0
    if dt < best then best = dt end
    first = first or dt
  end
  return best, last[1], first
end

local function prepare(path)
  if path:match("^columns") or path == "into/1" then columns() end
  if path == "into/1" then
    into = {}
    for e = 1, #rates do into[e] = imbill.column(N) end
  end
end

local function ns(seconds, per) return seconds * 1e9 / (N * per) end

if only then
  if not PATHS[only] then error("batch_bench: no path " .. only, 0) end
  prepare(only)
  local t, _, first = best_of(PATHS[only])
  local per = only == "column()" and 1 or #rates
  print(string.format("ns %.3f first %.3f", ns(t, per), ns(first, per)))
  return
end

-- Memory per scenario, measured on fresh memory before any path runs: the
-- three inputs and the six results, as Lua arrays and as columns.
do
  local b = lua_bytes()
  local held = { PATHS.arrays() } -- luacheck: ignore (kept alive while measured)
  mem.arrays_out = (lua_bytes() - b) / N
  held[1] = nil
  collectgarbage()
  local r0 = rss_bytes()
  local c = columns()
  for k = 1, 3 do c[k]:sum() end -- every page touched
  local r1 = rss_bytes()
  held[1] = PATHS["columns/1"]()
  local r2 = rss_bytes()
  if r0 then mem.columns_in, mem.columns_out = (r1 - r0) / N, (r2 - r1) / N end
  held[1] = nil
end

-- one process, every path: the figures, and every result checked
print(string.format("%s: %d scenarios x %d editions (%s), best of %d, wall clock, %d cores online",
  runtime, N, #rates, table.concat(EDITIONS, ", "), REPS, core.cores()))
local t, cold, want = {}, {}, nil
for _, path in ipairs(ORDER) do
  prepare(path)
  local dt, res, first = best_of(PATHS[path])
  t[path], cold[path] = dt, first
  if path == "bare" then want = res
  elseif path ~= "column()" then
    for e = 1, #rates do
      local got, w = res[e], want[e]
      local col = core.is_column(got)
      for i = 1, N do
        local v = col and got:get(i) or got[i]
        if v ~= w[i] then
          error(string.format("%s, %s, scenario %d: %s cents, the bare loop %s", path, EDITIONS[e], i,
            tostring(v), tostring(w[i])), 0)
        end
      end
    end
  end
  res = nil -- luacheck: ignore
end
for _, path in ipairs(ORDER) do
  local per = path == "column()" and 1 or #rates
  local line = string.format("  %-11s %7.2f ns (first run %7.2f)", path, ns(t[path], per), ns(cold[path], per))
  if path ~= "column()" and path ~= "bare" then
    line = line .. string.format("   bare/this %6.2fx   validating/this %6.2fx", t.bare / t[path],
      t.validating / t[path])
  elseif path == "column()" then
    line = line .. "   per scenario, the three columns, once per job"
  end
  print(line)
end
print(string.format("  every path gave the bare loop's cents on all %d x %d scenarios", N, #rates))
print(string.format("  every core against one thread: columns %.2fx, columns with editions = %.2fx",
  t["columns/1"] / t["columns/N"], t["columns/ed1"] / t["columns/ed"]))
print(string.format("  memory per scenario: Lua arrays %.1f bytes in (three) + %.1f out (six editions); columns %s in"
  .. " + %s out (resident set)", mem.arrays_in, mem.arrays_out,
  mem.columns_in and string.format("%.1f", mem.columns_in) or "?", mem.columns_out and string.format("%.1f",
  mem.columns_out) or "?"))
