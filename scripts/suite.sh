# shellcheck shell=bash disable=SC2154
# Sourced by a suite's runner (scripts/nginx-specs.sh, scripts/redis-specs.sh)
# as `. scripts/suite.sh NAME` with $top set: the suite's report
# build/results/NAME.json ($out) and its stderr ($err), emptied, and
# fail_report MESSAGE, which leaves MESSAGE as the suite's one failure and
# ends the runner (a runner that dies leaves a failure, never a silent zero).
suite=$1
results="$top/build/results"
out="$results/$suite.json"
err="$results/$suite.err"
mkdir -p "$results"
rm -f "$out" "$err"

fail_report() {
  /usr/bin/python3 - "$out" "$suite specs: runner" "$1" <<'PY'
import json, sys
json.dump({"successes": [], "failures": [{"name": sys.argv[2], "message": sys.argv[3]}]}, open(sys.argv[1], "w"))
PY
  lua5.4 "$top/scripts/tally.lua" --one "$out" "$err"
  exit 1
}

# stop_pid FILE SIGNAL: the process whose pid FILE holds, with SIGNAL; if it
# is still there after 5 s, KILL for it and the children it had (an nginx
# master's workers would outlive it).  FILE goes.
stop_pid() {
  [ -f "$1" ] || return 0
  local pid kids
  pid=$(cat "$1" 2>/dev/null)
  if [ -n "$pid" ]; then
    kids=$(pgrep -P "$pid" 2>/dev/null)
    kill -"$2" "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      # shellcheck disable=SC2086
      kill -KILL "$pid" $kids 2>/dev/null
    fi
  fi
  rm -f "$1"
}
