--- Benchmark (figures, not a test): the same 1,000,000 scenarios priced through
-- imbill.totals over Lua arrays (C, and on LuaJIT the FFI binding) and through
-- two pure-Lua yardsticks, in one run: bench/bare_totals.lua, the formula
-- alone as a user would write it, and bench/pure_totals.lua, which validates
-- its inputs as imbill.totals does.  Prints ns per scenario for each and both
-- ratios.  bench/batch_bench.lua measures the whole what-if job (six
-- editions, columns, threads).  Run through bench/run.sh, or:
--   LUA_PATH="lua/?.lua;lua/?/init.lua;bench/?.lua;;" LUA_CPATH="build/5.4/?.so;;" lua5.4 bench/totals_bench.lua
-- Options: a scenario count; --only=imbill|pure|bare with --edition=BOOK/EDITION
-- times one path alone and prints "ns <value>" (bench/totals_fresh.sh runs it
-- in fresh processes: on LuaJIT, two paths in one process share JIT traces).
local imbill = require "imbill"
local pure = require "pure_totals"
local bare = require "bare_totals"

local N, only, edition = 1000000, nil, nil
for _, a in ipairs(arg or {}) do
  local k, v = a:match("^%-%-(%w+)=(.*)$")
  if k == "only" then only = v
  elseif k == "edition" then edition = v
  elseif tonumber(a) then N = tonumber(a)
  else error("totals_bench: unknown argument " .. a, 0) end
end
local REPS = 3
local runtime = rawget(_G, "jit") and jit.version or _VERSION

-- Deterministic scenarios around the price steps (bench/scenarios.lua).
local dau, groups, mau = require("scenarios")(N)

-- The previous repetition's result is dropped before collecting, so each
-- one starts from the same heap.
local function best_of(f)
  local best, last = math.huge, {}
  for _ = 1, REPS do
    last[1] = nil
    collectgarbage()
    local t0 = os.clock()
    last[1] = f()
    local dt = os.clock() - t0
    if dt < best then best = dt end
  end
  return best, last[1]
end

local function ns(seconds) return seconds * 1e9 / N end

local function runs(book, ed)
  local e = imbill.book(book):edition(ed)
  local r, b = pure.rate_of(e), bare.rate_of(e)
  return function()
    return imbill.totals { book = book, edition = ed, peak_dau = dau, groups_peak = groups, mau = mau }
  end, function() return pure.totals(r, dau, groups, mau) end,
  function() return bare.totals(b, dau, groups, mau, N) end
end

if only then
  local book, ed = (edition or ""):match("^(%w+)/(%w+)$")
  if not book or (only ~= "imbill" and only ~= "pure" and only ~= "bare") then
    error("totals_bench: --only=imbill|pure|bare needs --edition=BOOK/EDITION", 0)
  end
  local c, l, b = runs(book, ed)
  print(string.format("ns %.2f", ns((best_of(only == "imbill" and c or only == "pure" and l or b)))))
  return
end

print(string.format("imbill.totals over Lua arrays against pure Lua, %d scenarios, %s (best of %d)", N, runtime, REPS))
for _, be in ipairs { { "2020", "pro" }, { "2022", "standard" } } do
  local cf, lf, bf = runs(be[1], be[2])
  local tc, c = best_of(cf)
  local tl, l = best_of(lf)
  local tb, b = best_of(bf)
  for i = 1, N do
    if c[i] ~= l[i] or c[i] ~= b[i] then
      error(string.format("scenario %d: C gives %s cents, pure Lua %s and %s", i, tostring(c[i]), tostring(l[i]),
        tostring(b[i])))
    end
  end
  print(string.format("  %s/%-9s imbill.totals %6.1f ns   bare Lua %6.1f ns (%5.2fx)   validating Lua %6.1f ns (%5.2fx)",
    be[1], be[2], ns(tc), ns(tb), tb / tc, ns(tl), tl / tc))
end
