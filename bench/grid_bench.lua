-- Benchmark (figures, not a test): a grid of 10,000,000 what-if scenarios
-- through the C batch path (imbill.grid), against the same grid computed in
-- pure Lua two ways, in the same run: bench/bare_totals.lua's grid, the rules
-- alone as a user would write them, and spec/support/grid_oracle.lua, the
-- reference the specs compare against (checked parameters, exact integer
-- helpers; run from the repository's top).
--
--   lua5.4 bench/grid_bench.lua [--full]      (or luajit)
--
-- The grid: 5 editions (2020/pro, 2021/pro, 2021/ultimate, 2022/standard,
-- 2022/premium) x 100 monthly growth rates (-2.0% .. +7.9%) x 20,000 starting
-- DAU (50 .. 1,000,000), 12 months each, MAU = 3 x DAU, 120,000 groups.
-- Pure Lua runs a 1,000,000-scenario slice (every 10th starting DAU) unless
-- --full is given; scenarios per second are comparable either way.  Both are
-- checked to agree on that slice.  The C path runs on one thread and on every
-- core (wall clock, the fastest of five runs each), and the two agree.
local imbill = require "imbill"
package.path = "spec/?.lua;" .. package.path
local G = require "support.grid_oracle"
local grid = require "imbill.whatif.grid"
local bare = require "bare_totals"

local full = arg and arg[1] == "--full"
local runtime = rawget(_G, "jit") and jit.version or _VERSION

local function spec(step)
  return { editions = { "2020/pro", "2021/pro", "2021/ultimate", "2022/standard", "2022/premium" },
           growth_bp = { from = -200, to = 790, step = 10 }, start_dau = { from = 50, to = 1000000, step = step },
           months = 12, groups = 120000, mau_per_dau = "3", chunk = 1000000 }
end

-- wall clock: the grid runs on every core.  One thread and every core take
-- turns, five times each, and each keeps its fastest: a machine shared with
-- other work then slows both alike.
local function time(f)
  collectgarbage()
  local t0 = imbill.core.clock()
  local r = f()
  return r, imbill.core.clock() - t0
end

local function with_threads(sp, t)
  sp.threads = t
  return sp
end
local held, t1, tc = {}, math.huge, math.huge
for _ = 1, 5 do
  held[1] = nil -- the previous grid is garbage before the next ones are made
  local _, da = time(function() return imbill.grid(with_threads(spec(50), 1)) end)
  local b, db = time(function() return imbill.grid(spec(50)) end)
  held[1] = b
  if da < t1 then t1 = da end
  if db < tc then tc = db end
end
local g = held[1]
local g1 = imbill.grid(with_threads(spec(50), 1))
local n = g:size()
local s = g:summary()
print(string.format("%s: C batch path, 1 thread: %d scenarios in %.2f s = %.0f scenarios/s", runtime, n, t1, n / t1))
print(string.format("%s: C batch path, %d threads: %d scenarios in %.2f s = %.0f scenarios/s (%.2fx one thread)",
  runtime, imbill.core.cores(), n, tc, n / tc, t1 / tc))
do
  local c1, c = g1:column(), g:column()
  assert(g1.core:sum() == g.core:sum(), "the grid on every core and on one thread disagree")
  for i = 1, n, 97 do assert(c1:get(i) == c:get(i), "the grid on every core and on one thread disagree") end
end
g1 = nil -- luacheck: ignore
print(string.format("  min %s  median %s  p95 %s  max %s (USD over 12 months)", tostring(s.min), tostring(s.p50),
  tostring(s.p95), tostring(s.max)))

local lspec = spec(full and 50 or 500)
local totals, tl = time(function() return G.run_lua(lspec) end)
local nl = #totals
print(string.format("%s: pure Lua:     %d scenarios in %.2f s = %.0f scenarios/s", runtime, nl, tl, nl / tl))

-- the two agree, scenario by scenario, on the pure-Lua grid
local check = imbill.grid(lspec)
for i = 1, nl do
  if check:cents(i) ~= totals[i] then error("C and pure Lua differ at scenario " .. i) end
end
print(string.format("%s: C / pure Lua = %.1fx (both agree on all %d scenarios of the pure-Lua grid)", runtime,
  (n / tc) / (nl / tl), nl))

-- the bare loop on the same slice
local sl = grid.spec(lspec)
local rates = {}
for i, e in ipairs(sl.editions) do rates[i] = bare.rate_of(e) end
local btotals, tb = time(function()
  return bare.grid(rates, sl.growth, sl.start, sl.months, sl.groups, sl.groups_ppm, sl.mau_ppm)
end)
for i = 1, nl do
  if btotals[i] ~= totals[i] then error("the bare loop and the grid differ at scenario " .. i) end
end
print(string.format("%s: bare Lua:     %d scenarios in %.2f s = %.0f scenarios/s", runtime, nl, tb, nl / tb))
print(string.format("%s: C / bare Lua = %.1fx on one thread, %.1fx on every core", runtime, (n / t1) / (nl / tb),
  (n / tc) / (nl / tb)))
