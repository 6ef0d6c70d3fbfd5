#!/usr/bin/env bash
# bench/gateway.sh [seconds] [connections]: the example gateway under wrk on
# loopback, in one run: the plain proxy to the stub, the same create_group
# call quota-checked by imbill, and signed login callbacks.  Prints req/s and
# p50/p99 for each, and the machine's load (the machine is shared: figures
# move from run to run).  Figures, not a test.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-10}
conns=${2:-50}
ex="$top/examples/nginx"
out="$top/build/bench"
mkdir -p "$out"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

"$ex/start.sh" stop >/dev/null 2>&1 || true
"$ex/start.sh" >/dev/null
trap '"$ex/start.sh" stop >/dev/null 2>&1 || true' EXIT

# Signatures for the seconds the login run can take: sha256(token .. RequestTime).
now=$(date +%s)
: > "$out/signs.txt"
for t in $(seq "$now" $((now + 3 * secs + 60))); do
  printf '%s %s\n' "$t" "$(printf '%s%s' bench-token "$t" | sha256sum | cut -d' ' -f1)" >> "$out/signs.txt"
done

# CPU seconds the nginx workers have used (user + system), from /proc.
workers_cpu() {
  local master total=0
  master=$(cat "$ex/logs/nginx.pid")
  for p in $(pgrep -P "$master"); do
    set -- $(cut -d' ' -f14,15 "/proc/$p/stat")
    total=$((total + $1 + $2))
  done
  echo "$total"
}

# One case: req/s, p50, p99, answers not OK, and the workers' CPU time per
# request in microseconds (what a request costs, whatever else the machine runs).
run() {
  local c0 c1 res n
  c0=$(workers_cpu)
  res=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$top/bench/gateway_wrk.lua" http://127.0.0.1:18480 -- "$@" \
    | grep '^RESULT' | cut -d' ' -f2-)
  c1=$(workers_cpu)
  set -- $res
  n=$(awk -v r="$1" -v s="$secs" 'BEGIN { printf "%d", r * s }')
  echo "$res $(awk -v a="$c0" -v b="$c1" -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", (b - a) / hz * 1e6 / n }')"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
# a short warm-up so every worker has loaded and compiled its code
wrk -t2 -c10 -d2s -s "$top/bench/gateway_wrk.lua" http://127.0.0.1:18480 -- quota >/dev/null
plain=$(run plain)
quota=$(run quota)
login=$(run login "$out/signs.txt")
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
status=$(curl -s http://127.0.0.1:18480/imbill/status)
refused=$(echo "$status" | awk '/^imbill_refused_total\{app="1400000099"/ { s += $2 } END { print s + 0 }')
rejected=$(echo "$status" | awk '/^imbill_callbacks_rejected_total/ { s += $2 } END { print s + 0 }')

printf '\n%-34s %10s %9s %9s %8s %12s\n' "case (wrk -t2 -c$conns -d${secs}s)" "req/s" "p50 ms" "p99 ms" "not OK" \
  "CPU us/req"
for r in "plain $plain" "quota $quota" "login $login"; do
  set -- $r
  case $1 in
    plain) name="plain proxy to the stub" ;;
    quota) name="quota-checked create_group" ;;
    login) name="login callbacks (signed)" ;;
  esac
  printf '%-34s %10s %9s %9s %8s %12s\n' "$name" "$2" "$3" "$4" "$5" "$6"
done
set -- $plain; p_rps=$1 p_p99=$3 p_cpu=$5
set -- $quota; q_rps=$1 q_p99=$3 q_cpu=$5
set -- $login; l_rps=$1 l_cpu=$5
awk -v p="$p_rps" -v q="$q_rps" -v pp="$p_p99" -v qp="$q_p99" -v l="$l_rps" -v pc="$p_cpu" -v qc="$q_cpu" \
  -v lc="$l_cpu" 'BEGIN {
  printf "\nquota-checked / plain throughput: %.0f%% (target >= 75%%); by CPU per request: %.0f%%\n", 100 * q / p,
    100 * pc / qc
  printf "p99 added by the quota check: %+.2f ms (target <= 1 ms)\n", qp - pp
  printf "login callbacks: %.0f/s (target >= 20,000/s); at %s us of CPU each, 2 cores would do %.0f/s\n", l, lc,
    2e6 / lc }'
echo "refusals during the run: $refused; callbacks rejected: $rejected"
