#!/usr/bin/env bash
# bench/gateway.sh [seconds] [connections] [rounds]: the example gateway under
# wrk on loopback.  Each round runs, one after the other: the plain proxy to
# the stub, the same create_group call quota-checked by imbill, the same call
# through the least exact check written in Lua (examples/nginx/floor.lua:
# decode the body, one counted increment, decode the answer; the yardstick
# for what any Lua check can keep), signed login callbacks, and the stub on
# its own; then the plain proxy and the quota
# check again under a light load (8 connections, each pausing 4 ms between
# requests), for the latency of the check without queueing.
#
# Per case: req/s, p50, p99, answers not OK, and the nginx workers' CPU time
# per request (from /proc: what a request costs, whatever else the machine
# runs).  Per round: the quota check against the plain proxy measured in that
# round, and the load.  Then the ranges over the rounds.  The machine may be
# shared: figures move from run to run.  Figures, not a test.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-6}
conns=${2:-50}
rounds=${3:-3}
ex="$top/examples/nginx"
out="$top/build/bench"
mkdir -p "$out"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
unset IMBILL_PACE

"$ex/start.sh" stop >/dev/null 2>&1 || true
"$ex/start.sh" >/dev/null
trap '"$ex/start.sh" stop >/dev/null 2>&1 || true' EXIT

# Signatures for the seconds the runs can take: sha256(token .. RequestTime).
now=$(date +%s)
: > "$out/signs.txt"
for t in $(seq "$now" $((now + rounds * 8 * (secs + 1) + 120))); do
  printf '%s %s\n' "$t" "$(printf '%s%s' bench-token "$t" | sha256sum | cut -d' ' -f1)" >> "$out/signs.txt"
done

# CPU ticks the nginx workers have used (user + system), from /proc.
workers_cpu() {
  local master total=0
  master=$(cat "$ex/logs/nginx.pid")
  for p in $(pgrep -P "$master"); do
    set -- $(cut -d' ' -f14,15 "/proc/$p/stat")
    total=$((total + $1 + $2))
  done
  echo "$total"
}
hz=$(getconf CLK_TCK)

# One case: "req/s p50 p99 not_OK CPU_us_per_request".
#   run MODE URL CONNECTIONS [PACE_MS]
run() {
  local mode=$1 url=$2 c=$3 pace=${4:-} c0 c1 res
  c0=$(workers_cpu)
  res=$(IMBILL_PACE=$pace wrk -t2 -c"$c" -d"${secs}s" --latency -s "$top/bench/gateway_wrk.lua" "$url" -- \
    "$mode" "$out/signs.txt" | grep '^RESULT' | cut -d' ' -f2-)
  c1=$(workers_cpu)
  set -- $res
  echo "$1 $2 $3 $4 $(awk -v a="$c0" -v b="$c1" -v n="$5" -v hz="$hz" 'BEGIN { printf "%.1f", (b - a) / hz * 1e6 / n }')"
}

gw=http://127.0.0.1:18480
stub=http://127.0.0.1:18481
yard=http://127.0.0.1:18482 # the proxies without imbill's check (nginx.conf)
row() { printf '%-36s %9s %8s %8s %7s %10s\n' "$@"; }

echo "imbill gateway benchmark: wrk -t2 -c$conns -d${secs}s, $rounds rounds; nginx with" \
  "$(awk '/^worker_processes/ { print $2 + 0 }' "$ex/nginx.conf") workers; $(nproc) cores, shared with wrk"
# a short warm-up so every worker has loaded and compiled its code
wrk -t2 -c10 -d2s -s "$top/bench/gateway_wrk.lua" "$gw" -- quota >/dev/null
wrk -t2 -c10 -d2s -s "$top/bench/gateway_wrk.lua" "$yard" -- floor >/dev/null
wrk -t2 -c10 -d2s -s "$top/bench/gateway_wrk.lua" "$gw" -- login "$out/signs.txt" >/dev/null

summary="$out/gateway_rounds.txt"
: > "$summary"
for r in $(seq 1 "$rounds"); do
  load0=$(cut -d' ' -f1 /proc/loadavg)
  plain=$(run plain "$yard" "$conns")
  quota=$(run quota "$gw" "$conns")
  floor=$(run floor "$yard" "$conns")
  login=$(run login "$gw" "$conns")
  stubr=$(run stub "$stub" "$conns")
  lplain=$(run plain "$yard" 8 4)
  lquota=$(run quota "$gw" 8 4)
  load1=$(cut -d' ' -f1 /proc/loadavg)
  echo
  echo "round $r (load $load0 -> $load1)"
  row "case" "req/s" "p50 ms" "p99 ms" "not OK" "CPU us/req"
  for x in "plain proxy to the stub|$plain" "quota-checked create_group|$quota" \
           "the least exact check (floor.lua)|$floor" "login callbacks (signed)|$login" \
           "the stub alone|$stubr" "plain proxy, light load|$lplain" "quota-checked, light load|$lquota"; do
    name=${x%%|*}
    set -- ${x#*|}
    row "$name" "$1" "$2" "$3" "$4" "$5"
  done
  set -- $plain; p_rps=$1 p_p99=$3 p_cpu=$5
  set -- $quota; q_rps=$1 q_p99=$3 q_cpu=$5
  set -- $floor; f_rps=$1 f_cpu=$5
  set -- $login; l_rps=$1 l_cpu=$5
  set -- $stubr; s_cpu=$5
  set -- $lplain; lp_p50=$2 lp_p99=$3
  set -- $lquota; lq_p50=$2 lq_p99=$3
  awk -v p="$p_rps" -v q="$q_rps" -v pp="$p_p99" -v qp="$q_p99" -v l="$l_rps" -v pc="$p_cpu" -v qc="$q_cpu" \
    -v lc="$l_cpu" -v sc="$s_cpu" -v lp50="$lp_p50" -v lq50="$lq_p50" -v lp99="$lp_p99" -v lq99="$lq_p99" \
    -v r="$r" -v ld="$load0" -v summary="$summary" -v f="$f_rps" -v fc="$f_cpu" 'BEGIN {
    printf "  quota-checked / plain throughput: %.0f%% (target >= 75%%)\n", 100 * q / p
    printf "  the least exact check / plain: %.0f%%; quota-checked / the least exact check: %.0f%%\n", 100 * f / p, 100 * q / f
    printf "  p99 added by the quota check: %+.2f ms at -c'"$conns"', %+.2f ms under light load (p50 %+.2f ms) (target <= 1 ms)\n", \
      qp - pp, lq99 - lp99, lq50 - lp50
    printf "  login callbacks: %.0f/s (target >= 20,000/s)\n", l
    printf "  nginx CPU per request: plain %.0f us, quota %.0f us (+%.0f us), the least check %.0f us (+%.0f us), login %.0f us; the stub %.0f us of each REST call\n", \
      pc, qc, qc - pc, fc, fc - pc, lc, sc
    printf "  one core, nginx alone: %.0f quota-checked calls/s (%.0f without the stub), %.0f logins/s\n", \
      1e6 / qc, 1e6 / (qc - sc), 1e6 / lc
    printf "%d %s %.0f %.0f %.1f %.2f %.2f %.0f %.1f %.1f %.1f %.1f %.0f %.1f %.1f %.1f\n", r, ld, p, q, 100 * q / p, \
      qp - pp, lq99 - lp99, l, pc, qc, lc, sc, f, 100 * f / p, 100 * q / f, fc >> summary }'
done

echo
echo "over $rounds rounds (min-max):"
awk 'function span(i,   lo, hi, k) { lo = v[1, i]; hi = lo; for (k = 2; k <= n; k++) { if (v[k, i] < lo) lo = v[k, i];
       if (v[k, i] > hi) hi = v[k, i] } return lo "-" hi }
     { n++; for (i = 1; i <= NF; i++) v[n, i] = $i }
     END {
       printf "  load %s\n", span(2)
       printf "  plain proxy %s req/s, quota-checked %s req/s: %s%% of the plain proxy (target >= 75%%)\n", span(3), span(4), span(5)
       printf "  p99 added: %s ms at full load, %s ms under light load (target <= 1 ms)\n", span(6), span(7)
       printf "  login callbacks %s/s (target >= 20,000/s)\n", span(8)
       printf "  the least exact check (floor.lua) %s req/s: %s%% of the plain proxy; quota-checked %s%% of it\n", span(13), span(14), span(15)
       printf "  nginx CPU us per request: plain %s, quota-checked %s, the least check %s, login %s, the stub %s\n", span(9), span(10), span(16), span(11), span(12)
     }' "$summary"
status=$(curl -s "$gw/imbill/status")
refused=$(echo "$status" | awk '/^imbill_refused_total\{.*app="1400000099"/ { s += $2 } END { print s + 0 }')
rejected=$(echo "$status" | awk '/^imbill_callbacks_rejected_total/ { s += $2 } END { print s + 0 }')
echo "  refusals during the runs: $refused; callbacks rejected: $rejected"
