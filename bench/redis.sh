#!/usr/bin/env bash
# bench/redis.sh [seconds] [connections]: the gateway under wrk on loopback,
# in one run, with its Redis store beside the shared dict: the plain proxy to
# the stub, the quota-checked create_group on the shared dict, the same on
# Redis, and signed login callbacks into Redis.  Prints req/s, p50 and p99,
# the ratios against the plain proxy of the same run, the nginx workers' and
# Redis' CPU time per request (from /proc), and the machine's load.  Starts
# its own nginx (2 workers) and Redis (AOF, fsync every second) on free
# loopback ports under build/bench/redis-gw, stops both by their pids.
# Figures, not a test: on a shared 2-core machine they move from run to run.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-10}
conns=${2:-50}
dir="$top/build/bench/redis-gw"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
make -C "$top" --no-print-directory build/jit/imbill/core.so >/dev/null

free_port() {
  luajit -e 'local s = require("socket").bind("127.0.0.1", 0); local _, p = s:getsockname(); print(p); s:close()'
}
port=$(free_port); stub=$(free_port); redis=$(free_port)

stop() {
  if [ -f "$dir/logs/nginx.pid" ]; then
    pid=$(cat "$dir/logs/nginx.pid"); kill -QUIT "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if [ -f "$dir/redis/redis.pid" ]; then
    pid=$(cat "$dir/redis/redis.pid"); kill "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/logs/nginx.pid" "$dir/redis/redis.pid"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
rm -rf "$dir"
mkdir -p "$dir/logs" "$dir/tmp" "$dir/conf" "$dir/redis"
redis-server --port "$redis" --bind 127.0.0.1 --dir "$dir/redis" --pidfile "$dir/redis/redis.pid" --daemonize yes \
  --logfile "$dir/redis/redis.log" --save "" --appendonly yes --appendfsync everysec
for _ in $(seq 1 50); do redis-cli -p "$redis" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
sed -e "s|@TOP@|$top|g" -e "s|@PORT@|$port|g" -e "s|@STUB@|$stub|g" bench/redis/nginx.conf.in > "$dir/conf/nginx.conf"
sed -e "s|@REDIS@|$redis|g" bench/redis/gateway.lua > "$dir/conf/gateway.lua"
g=()
[ "$(id -u)" -eq 0 ] && g=(-g "user $(id -un) $(id -gn);")
nginx -p "$dir/" -c conf/nginx.conf "${g[@]}"
for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done

now=$(date +%s)
: > "$dir/signs.txt"
for t in $(seq "$now" $((now + 5 * secs + 60))); do
  printf '%s %s\n' "$t" "$(printf '%s%s' bench-token "$t" | sha256sum | cut -d' ' -f1)" >> "$dir/signs.txt"
done

# CPU seconds used so far (user + system, clock ticks) by the nginx workers and by Redis.
ticks() {
  local total=0
  for p in "$@"; do
    set -- $(cut -d' ' -f14,15 "/proc/$p/stat")
    total=$((total + $1 + $2))
  done
  echo "$total"
}
workers() { pgrep -P "$(cat "$dir/logs/nginx.pid")" | tr '\n' ' '; }
rpid=$(cat "$dir/redis/redis.pid")

# wrk with bench/gateway.sh's script: MODE APP [signatures file]
drive() {
  local c=$1 d=$2 mode=$3 app=$4
  shift 4
  IMBILL_APP="$app" wrk -t2 -c"$c" -d"$d" --latency -s "$top/bench/gateway_wrk.lua" "http://127.0.0.1:$port" \
    -- "$mode" "$@"
}

# One case: req/s p50 p99 not-OK, nginx us/request, Redis us/request.
run() {
  local w0 r0 w1 r1 res n
  redis-cli -p "$redis" config resetstat >/dev/null
  w0=$(ticks $(workers)); r0=$(ticks "$rpid")
  res=$(drive "$conns" "${secs}s" "$@" | grep '^RESULT' | cut -d' ' -f2-5)
  w1=$(ticks $(workers)); r1=$(ticks "$rpid")
  redis-cli -p "$redis" info commandstats | grep -E 'cmdstat_(fcall|evalsha|hmget)' | tr -d '\r' \
    | sed "s/^/  [$1] /" >> "$dir/commandstats.txt"
  set -- $res
  n=$(awk -v r="$1" -v s="$secs" 'BEGIN { printf "%d", r * s }')
  echo "$res $(awk -v a="$w0" -v b="$w1" -v c="$r0" -v d="$r1" -v n="$n" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.0f %.0f", (b - a) / hz * 1e6 / n, (d - c) / hz * 1e6 / n }')"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores); redis $(redis-server --version | grep -o 'v=[0-9.]*')"
drive 10 2s quota 1400000099 >/dev/null
drive 10 2s quota 1400000098 >/dev/null
plain=$(run plain 1400000099)
dict=$(run quota 1400000099)
red=$(run quota 1400000098)
login=$(run login 1400000098 "$dir/signs.txt")
sleep 0.5
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"

printf '\n%-40s %9s %8s %8s %7s %10s %10s\n' "case (wrk -t2 -c$conns -d${secs}s, 2 nginx workers)" "req/s" "p50 ms" \
  "p99 ms" "not OK" "nginx us" "redis us"
for r in "plain $plain" "dict $dict" "redis $red" "login $login"; do
  set -- $r
  case $1 in
    plain) name="plain proxy to the stub" ;;
    dict) name="create_group, shared dict" ;;
    redis) name="create_group, Redis" ;;
    login) name="login callbacks into Redis (signed)" ;;
  esac
  printf '%-40s %9s %8s %8s %7s %10s %10s\n' "$name" "$2" "$3" "$4" "$5" "$6" "$7"
done
set -- $plain; p_rps=$1 p_p99=$3
set -- $dict; d_rps=$1 d_p99=$3
set -- $red; r_rps=$1 r_p99=$3
set -- $login; l_rps=$1 l_ng=$5 l_rd=$6
awk -v p="$p_rps" -v d="$d_rps" -v r="$r_rps" -v pp="$p_p99" -v dp="$d_p99" -v rp="$r_p99" -v l="$l_rps" \
  -v lng="$l_ng" -v lrd="$l_rd" 'BEGIN {
  printf "\nRedis-checked / plain throughput: %.0f%% (target >= 50%%); shared dict: %.0f%%\n", 100 * r / p, 100 * d / p
  printf "p99 added by the Redis check: %+.2f ms (target <= 2 ms); by the shared dict: %+.2f ms\n", rp - pp, dp - pp
  printf "login callbacks into Redis: %.0f/s (target >= 20,000/s); %s us of nginx and %s us of Redis CPU each\n", l,
    lng, lrd }'
sleep 1
users=$(redis-cli -p "$redis" --raw eval 'local n = 0 for _, k in ipairs(redis.call("KEYS", "imb:{1400000098}:act:*")) do n = n + redis.call("HLEN", k) end return n' 0)
echo "Redis' own time per command, by case (usec_per_call is wall time inside Redis):"
cat "$dir/commandstats.txt"
echo "distinct users in Redis after the login run: $users (of 100,000 drawn); journal entries left: $(curl -s "http://127.0.0.1:$port/imbill/status" | awk '/^imbill_redis_journal_entries/ { s += $2 } END { print s + 0 }')"
