#!/usr/bin/env bash
# The batch pricing job (bench/batch_bench.lua) with each path timed alone in
# fresh processes, on Lua 5.4 and LuaJIT, then the C kernels alone
# (bench/batch_core_bench.c).  On LuaJIT, paths sharing a process share JIT
# traces, and a loop's speed can depend on which trace formed first; a fresh
# process per path avoids that.  Prints, per runtime and path, the fastest and
# the median of RUNS processes (each the best of its 5 runs of the six-edition
# job), and each path's ratio to the bare and to the validating loop, fastest
# to fastest and median to median.  Figures only: nothing here fails on a
# slow result.
#   bash bench/batch.sh [runs] [scenarios]      (defaults: 5 1000000)
#   RUNTIMES=luajit bash bench/batch.sh          (one runtime only)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
runs=${1:-5} n=${2:-1000000}
make -s all build/core/libimbill.a
mkdir -p build/bench
cc -std=c99 -O2 -Wall -Wextra -Iinclude -D_POSIX_C_SOURCE=200809L -o build/bench/batch_core_bench \
  bench/batch_core_bench.c build/core/libimbill.a -pthread
export LUA_PATH="$top/lua/?.lua;$top/lua/?/init.lua;$top/bench/?.lua;;"
paths="bare validating arrays arrays/ed column() columns/1 columns/N into/1 columns/ed1 columns/ed"
echo "== load before: $(uptime | sed 's/.*load/load/')"
for rt in ${RUNTIMES:-lua5.4 luajit}; do
  command -v "$rt" >/dev/null || { echo "== $rt not installed, skipped"; continue; }
  case $rt in lua5.4) cdir=build/5.4 ;; *) cdir=build/jit ;; esac
  echo "== $rt: $n scenarios x 6 editions, each path alone in $runs fresh processes (ns per scenario and edition)"
  for p in $paths; do
    f="build/bench/batch_$(echo "$p" | sed 's/[/()]/_/g').txt"
    for _ in $(seq "$runs"); do
      LUA_CPATH="$top/$cdir/?.so;;" "$rt" bench/batch_bench.lua "$n" --only="$p" | awk '/^ns /{print $2, $4}'
    done | sort -n > "$f"
    echo "$p $f"
  done | awk -v n="$runs" '
    {
      path[NR] = $1
      k = 0
      while ((getline line < $2) > 0) { split(line, a, " "); k++; best[NR, k] = a[1]; first[NR, k] = a[2] }
      close($2)
    }
    END {
      m = int((n + 1) / 2)
      for (i = 1; i <= NR; i++) {
        if (path[i] == "bare") b = i
        if (path[i] == "validating") v = i
      }
      for (i = 1; i <= NR; i++) {
        line = sprintf("  %-11s fastest %7.2f  median %7.2f  (first run %7.2f)", path[i], best[i, 1], best[i, m], first[i, 1])
        if (path[i] == "column()") line = line "  per scenario: the three columns, once per job"
        else if (i != b && i != v)
          line = line sprintf("  bare/this %5.2fx (median %5.2fx)  validating/this %6.2fx (median %6.2fx)",
            best[b, 1] / best[i, 1], best[b, m] / best[i, m], best[v, 1] / best[i, 1], best[v, m] / best[i, m])
        print line
      }
    }'
done
echo "== the C kernels alone"
build/bench/batch_core_bench "$n"
echo "== load after: $(uptime | sed 's/.*load/load/')"
rm -f build/bench/batch_*.txt
