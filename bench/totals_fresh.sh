#!/usr/bin/env bash
# Batch totals on LuaJIT, each path timed alone in fresh processes: in one
# process the two share JIT traces, and the pure-Lua loop's speed depends on
# which trace forms first (it runs at one of two speeds, about 2x apart).
# Prints, per edition, the fastest and the median of RUNS processes for
# imbill.totals over Lua arrays and for the two pure-Lua yardsticks (the bare
# formula and the validating loop), and the ratios.  Figures only.
#   bash bench/totals_fresh.sh [runs]      (default 7)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
runs=${1:-7}
command -v luajit >/dev/null || { echo "== luajit not installed, skipped"; exit 0; }
make -s all
export LUA_PATH="$top/lua/?.lua;$top/lua/?/init.lua;$top/bench/?.lua;;" LUA_CPATH="$top/build/jit/?.so;;"
echo "== batch totals on LuaJIT, each path alone in $runs fresh processes (ns per scenario)"
for ed in 2020/pro 2022/standard; do
  for path in imbill pure bare; do
    for _ in $(seq "$runs"); do
      luajit bench/totals_bench.lua --only="$path" --edition="$ed" | awk '/^ns /{print $2}'
    done | sort -n > "build/bench_$path.txt"
  done
  awk -v ed="$ed" -v n="$runs" '
    FNR == 1 { f++ }
    { v[f, FNR] = $1 }
    END {
      m = int((n + 1) / 2)
      printf "  %-14s imbill.totals fastest %5.1f median %5.1f | bare fastest %5.1f median %5.1f: %4.2fx %4.2fx | validating fastest %5.1f median %5.1f: %4.2fx %4.2fx\n",
        ed, v[1, 1], v[1, m], v[3, 1], v[3, m], v[3, 1] / v[1, 1], v[3, m] / v[1, m],
        v[2, 1], v[2, m], v[2, 1] / v[1, 1], v[2, m] / v[1, m]
    }' build/bench_imbill.txt build/bench_pure.txt build/bench_bare.txt
done
rm -f build/bench_imbill.txt build/bench_pure.txt build/bench_bare.txt
