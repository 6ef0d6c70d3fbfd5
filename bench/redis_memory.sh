#!/usr/bin/env bash
# bench/redis_memory.sh [USERS] [DAYS] [PER_USER] [BUCKETS]: bytes per
# distinct user that an app's logins take in Redis (INFO memory), against
# the in-process meter's, in one run.  Starts its own Redis on a free
# loopback port (data under build/bench/redis-mem, no persistence), stops it
# by its pid whatever happens.  Defaults: 1,000,000 users over 30 days, each
# active on 3 of them (3 million logins), 8,192 buckets.  A figure, not a test.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
dir="$top/build/bench/redis-mem"
rm -rf "$dir"
mkdir -p "$dir"
make --no-print-directory all >/dev/null
port=$(luajit -e 'local s = require("socket").bind("127.0.0.1", 0); local _, p = s:getsockname(); print(p); s:close()')
stop() { [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null; sleep 0.2; rm -f "$dir/redis.pid"; }
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --pidfile "$dir/redis.pid" --daemonize yes \
  --logfile "$dir/redis.log" --save "" --appendonly no
for _ in $(seq 1 50); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
echo "redis-server $(redis-server --version | grep -o 'v=[0-9.]*'), hash-max-listpack-entries" \
  "$(redis-cli -p "$port" config get hash-max-listpack-entries | tail -1); load $(cut -d' ' -f1-3 /proc/loadavg)"
IMBILL_TOP="$top" LUA_PATH="$top/lua/?.lua;$top/lua/?/init.lua;;" LUA_CPATH="$top/build/jit/?.so;;" \
  timeout 900 luajit bench/redis_memory.lua "$port" "${1:-1000000}" "${2:-30}" "${3:-3}" "${4:-8192}"
