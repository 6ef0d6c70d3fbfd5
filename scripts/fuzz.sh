#!/usr/bin/env bash
# scripts/fuzz.sh [--seconds N | --ci [--runs N]] [target...]
#
# Runs the libFuzzer targets (fuzz/<target>.c, built by `make fuzz-build`)
# from their seed corpus fuzz/corpus/<target>/, each for a bounded time
# (--seconds, default $FUZZ_SECONDS or 30) or, with --ci, for a bounded number
# of inputs (--runs, default $FUZZ_RUNS or 20000).  New inputs the fuzzer finds
# go to build/fuzz/corpus/<target>/ (the seed corpus is never written to); a
# crash is kept as build/fuzz/crash-<target>-* (never removed by a later run),
# with the run's log beside it.
# Writes build/results/fuzz.json in the suite format (one entry per target)
# and prints "fuzz: N passed, N failed".  Exits 1 when a target failed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mode=seconds
seconds=${FUZZ_SECONDS:-30}
runs=${FUZZ_RUNS:-20000}
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --ci) mode=runs ;;
    --seconds) seconds=$2; shift ;;
    --runs) runs=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/*.c; do targets+=("$(basename "$f" .c)"); done
fi

out=build/results/fuzz.json
mkdir -p build/results build/fuzz
json_str() { # a JSON string of $1: backslashes and quotes escaped, control bytes dropped
  printf '"%s"' "$(printf '%s' "$1" | tr -d '\000-\037' | sed 's/\\/\\\\/g; s/"/\\"/g')"
}
# a runner that dies leaves a failure, never a silent zero
printf '{"successes":[],"failures":[{"name":"fuzz","message":"scripts/fuzz.sh did not finish"}]}\n' > "$out"

if ! make --no-print-directory -s fuzz-build >build/fuzz/build.log 2>&1; then
  cat build/fuzz/build.log >&2
  printf '{"successes":[],"failures":[{"name":"fuzz: build","message":%s}]}\n' \
    "$(json_str "make fuzz-build failed: $(tail -3 build/fuzz/build.log)")" > "$out"
  echo "fuzz: 0 passed, 1 failed"
  exit 1
fi

# the meter targets save what they load here; removed even after a finding
scratch=$(mktemp -d "$( [ -w /dev/shm ] && echo /dev/shm || echo /tmp )/imbill-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export IMBILL_FUZZ_DIR=$scratch

ok=() bad=() msgs=()
for t in "${targets[@]}"; do
  bin=build/fuzz/$t
  work=build/fuzz/corpus/$t
  log=build/fuzz/$t.log
  mkdir -p "$work"
  # artifacts of earlier runs stay (a find is never lost); this run's are the newer ones
  touch build/fuzz/.start-"$t"
  if [ ! -x "$bin" ]; then
    bad+=("$t"); msgs+=("no such target: $bin"); continue
  fi
  if [ $mode = runs ]; then limit=(-runs="$runs"); else limit=(-max_total_time="$seconds"); fi
  echo "== fuzz $t (${limit[*]})"
  # -timeout: one input taking 10 s is a finding; -rss_limit_mb: so is 2 GB
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$bin" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix=build/fuzz/crash-"$t"- "$work" fuzz/corpus/"$t" >"$log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    ok+=("$t")
    grep -E '^stat::number_of_executed_units' "$log" | sed "s/^/  $t: /"
  else
    bad+=("$t")
    art=$(find build/fuzz -maxdepth 1 -name "crash-$t-*" -newer build/fuzz/.start-"$t" 2>/dev/null | head -1)
    summary=$(grep -m1 -E 'SUMMARY|ERROR|property failed|==[0-9]+==' "$log" || tail -1 "$log")
    msgs+=("exit $rc: $summary${art:+ (input: $art; log: $log)}")
    echo "  FAILED $t: ${msgs[-1]}" >&2
  fi
done

{
  printf '{"successes":['
  sep=
  for t in "${ok[@]+"${ok[@]}"}"; do printf '%s{"name":%s}' "$sep" "$(json_str "fuzz: $t")"; sep=,; done
  printf '],"failures":['
  sep=
  for i in "${!bad[@]}"; do
    printf '%s{"name":%s,"message":%s}' "$sep" "$(json_str "fuzz: ${bad[$i]}")" "$(json_str "${msgs[$i]}")"
    sep=,
  done
  printf ']}\n'
} > "$out.tmp" && mv "$out.tmp" "$out"
echo "fuzz: ${#ok[@]} passed, ${#bad[@]} failed"
[ ${#bad[@]} -eq 0 ]
