--- Benchmark (figures, not a test): the what-if job of pricing 1,000,000
-- scenarios of DAU, groups and MAU on every paid edition of every built-in
-- book (six editions), every way imbill offers, against two pure-Lua
-- yardsticks measured in the same run:
--
--   bare        the formula only, over two... three Lua arrays, as a user
--               would write it: integer division on Lua 5.4, math.floor and
--               math.ceil on doubles on LuaJIT; no checks.  What a user
--               compares imbill with.
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
--   column()    building the three input columns from the Lua arrays (once
--               per job, not per edition)
--
-- Every path's cents are checked against the bare loop's, scenario by
-- scenario.  Figures are ns per scenario and edition, the best of REPS runs of
-- the whole six-edition job, wall clock (core.clock).
--
--   lua5.4 bench/batch_bench.lua [scenarios] [--only=PATH]    (or luajit)
-- --only times one path and prints "ns <value>" (bench/batch.sh runs each
-- path in fresh processes: on LuaJIT paths sharing a process share traces).
local imbill = require "imbill"
local pure = require "pure_totals"
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

-- The scenarios: a linear congruential generator in plain arithmetic (exact
-- in doubles), the same as bench/batch_core_bench.c's.
local seed = 12345
local function rand(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n
end
local dau, groups, mau = {}, {}, {}
for i = 1, N do
  dau[i] = rand(120000)
  groups[i] = rand(1200000)
  mau[i] = rand(200000)
end

-- An edition as the plain numbers a user would copy from the price list.
local function plain(name)
  local b, e = name:match("^(%w+)/(%w+)$")
  local ed = imbill.book(b):edition(e)
  local function ch(c)
    if not c or c.block == 0 then return { free = math.huge, block = 1, price = 0 } end
    return { free = c.free, block = c.block, price = c.price:micros() }
  end
  return { book = b, edition = e, fee = ed.monthly_fee:cents(), dau = ch(ed.charges.dau),
           groups = ch(ed.charges.groups), mau = ch(ed.charges.mau), pure = pure.rate_of(ed) }
end
local rates = {}
for i, name in ipairs(EDITIONS) do rates[i] = plain(name) end

-- The bare loop: one edition's totals over the three arrays.  Prices are
-- micro-units a block; each line rounded half-up to the cent.
local bare
if jit then
  local floor, ceil = math.floor, math.ceil
  bare = function(r, d, g, m, n)
    local fee = r.fee
    local df, db, dp = r.dau.free, r.dau.block, r.dau.price
    local gf, gb, gp = r.groups.free, r.groups.block, r.groups.price
    local mf, mb, mp = r.mau.free, r.mau.block, r.mau.price
    local out = {}
    for i = 1, n do
      local t = fee
      local v = d[i]
      if v > df then t = t + floor((ceil((v - df) / db) * dp + 5000) / 10000) end
      v = g[i]
      if v > gf then t = t + floor((ceil((v - gf) / gb) * gp + 5000) / 10000) end
      v = m[i]
      if v > mf then t = t + floor((ceil((v - mf) / mb) * mp + 5000) / 10000) end
      out[i] = t
    end
    return out
  end
else
  -- integer division (//) on integers: written as text so LuaJIT can parse this file
  bare = assert(load([[
    local r, d, g, m, n = ...
    local fee = r.fee
    local df, db, dp = r.dau.free, r.dau.block, r.dau.price
    local gf, gb, gp = r.groups.free, r.groups.block, r.groups.price
    local mf, mb, mp = r.mau.free, r.mau.block, r.mau.price
    if df == math.huge then df = math.maxinteger end
    if gf == math.huge then gf = math.maxinteger end
    if mf == math.huge then mf = math.maxinteger end
    local out = {}
    for i = 1, n do
      local t = fee
      local v = d[i]
      if v > df then t = t + ((v - df + db - 1) // db * dp + 5000) // 10000 end
      v = g[i]
      if v > gf then t = t + ((v - gf + gb - 1) // gb * gp + 5000) // 10000 end
      v = m[i]
      if v > mf then t = t + ((v - mf + mb - 1) // mb * mp + 5000) // 10000 end
      out[i] = t
    end
    return out
  ]], "=bare", "t"))
end

local cols -- the input columns, built once by the "column()" path or on demand
local function columns()
  if not cols then
    cols = { imbill.column(dau), imbill.column(groups), imbill.column(mau) }
  end
  return cols
end

local into
local PATHS = {
  bare = function() local o = {} for e, r in ipairs(rates) do o[e] = bare(r, dau, groups, mau, N) end return o end,
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
local ORDER = { "bare", "validating", "arrays", "arrays/ed", "column()", "columns/1", "columns/N", "into/1" }

-- Best of REPS, wall clock; the previous result is dropped before collecting,
-- so every run starts from the same heap.
local function best_of(f)
  local best, last = math.huge, {}
  for _ = 1, REPS do
    last[1] = nil
    collectgarbage()
    collectgarbage()
    local t0 = core.clock()
    last[1] = f()
    local dt = core.clock() - t0
    if dt < best then best = dt end
  end
  return best, last[1]
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
  local t = best_of(PATHS[only])
  print(string.format("ns %.3f", ns(t, only == "column()" and 1 or #rates)))
  return
end

-- one process, every path: the figures, and every result checked
print(string.format("%s: %d scenarios x %d editions (%s), best of %d, wall clock, %d cores online",
  runtime, N, #rates, table.concat(EDITIONS, ", "), REPS, core.cores()))
local t, want = {}, nil
for _, path in ipairs(ORDER) do
  prepare(path)
  local dt, res = best_of(PATHS[path])
  t[path] = dt
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
  local line = string.format("  %-11s %7.2f ns", path, ns(t[path], per))
  if path ~= "column()" and path ~= "bare" then
    line = line .. string.format("   bare/this %6.2fx   validating/this %6.2fx", t.bare / t[path],
      t.validating / t[path])
  elseif path == "column()" then
    line = line .. "   per scenario, the three columns, once per job"
  end
  print(line)
end
print(string.format("  every path gave the bare loop's cents on all %d x %d scenarios", N, #rates))
print(string.format("  columns/N against columns/1: %.2fx", t["columns/1"] / t["columns/N"]))
