#!/usr/bin/env bash
# Meter benchmark: the C core (bench/meter_core_bench.c: logins, bytes per
# user; bench/meter_groups_bench.c: bytes per group, membership and
# friendship), then the Lua API against a pure-Lua counter on Lua 5.4 and
# LuaJIT.  Figures only.
#   bash bench/meter.sh [events] [users]      (defaults: 10000000 2000000)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
events=${1:-10000000} users=${2:-2000000}
make -s all build/core/libimbill.a
mkdir -p build/bench
cc -std=c99 -O2 -Iinclude -D_POSIX_C_SOURCE=200809L -o build/bench/meter_core_bench bench/meter_core_bench.c \
  build/core/libimbill.a
cc -std=c99 -O2 -Iinclude -D_POSIX_C_SOURCE=200809L -o build/bench/meter_groups_bench bench/meter_groups_bench.c \
  build/core/libimbill.a
echo "== C core ($events logins over $users users, 30 days)"
build/bench/meter_core_bench "$events" "$users"
echo "== C core: groups, memberships and friendships (200,000 users; 50,000 groups of 20; 500,000 friendships)"
build/bench/meter_groups_bench 200000 50000 20 500000
export LUA_PATH="$top/lua/?.lua;$top/lua/?/init.lua;;"
echo "== Lua 5.4"
LUA_CPATH="$top/build/5.4/?.so;;" lua5.4 bench/meter_bench.lua "$events" "$users"
echo "== LuaJIT"
LUA_CPATH="$top/build/jit/?.so;;" luajit bench/meter_bench.lua "$events" "$users"
