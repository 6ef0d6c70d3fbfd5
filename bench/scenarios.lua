--- The batch benchmarks' scenarios: n values each of DAU (0 .. 119,999),
-- groups (0 .. 1,199,999) and MAU (0 .. 199,999), around the price steps of
-- every edition, from a linear congruential generator in plain arithmetic
-- (no bitwise operators, exact in doubles), so both runtimes and
-- bench/batch_core_bench.c price the same ones.
return function(n)
  local seed = 12345
  local function rand(k)
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % k
  end
  local dau, groups, mau = {}, {}, {}
  for i = 1, n do
    dau[i] = rand(120000)
    groups[i] = rand(1200000)
    mau[i] = rand(200000)
  end
  return dau, groups, mau
end
