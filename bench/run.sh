#!/usr/bin/env bash
# bench/run.sh: builds the module, then runs every bench/*_bench.lua under Lua 5.4
# and LuaJIT, and every other bench/*.sh.  Figures only: nothing here fails on
# a slow result.  Extra arguments are passed to each Lua benchmark.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
make --no-print-directory all || exit 1
export LUA_PATH="$top/lua/?.lua;$top/lua/?/init.lua;$top/bench/?.lua;;"
status=0
for lua in lua5.4 luajit; do
  if ! command -v "$lua" >/dev/null; then echo "== $lua not installed, skipped"; continue; fi
  case $lua in lua5.4) cdir=build/5.4 ;; *) cdir=build/jit ;; esac
  for b in bench/*_bench.lua; do
    [ -e "$b" ] || continue
    echo "== $b ($lua)"
    LUA_CPATH="$top/$cdir/?.so;;" "$lua" "$b" "$@" || status=1
  done
done
for s in bench/*.sh; do
  [ "$(basename "$s")" = run.sh ] && continue
  [ -e "$s" ] || continue
  echo "== $s"
  bash "$s" || status=1
done
exit $status
