#!/usr/bin/env bash
# scripts/fuzz-api.sh [--ci] [--seed N] [--seconds N] [--runs N] [--skip AREAS | --no-skip] [RUNTIME ...]
#
# Runs the API fuzzer (fuzz/api/fuzz.lua) on each runtime: 5.4 (lua5.4 with
# build/5.4), jit (luajit with build/jit) and asan (lua5.4 with build/asan and
# the sanitizer runtimes preloaded, as scripts/busted.sh does).  Writes
# build/results/fuzz-api.json, one entry per runtime (a failure carries the
# reproducers), and prints "fuzz-api: N passed, N failed".
#
#   --ci          a short bounded pass (about two minutes in all): a fixed
#                 number of calls per runtime (the same calls on every machine,
#                 so a pass here is a pass there), within the time limits below
#   --seed N      the seed (default 1: the same calls every run)
#   --seconds N   seconds of calls per runtime (default 300; --ci: 30, 30, 45)
#   --runs N      at most this many calls per runtime (default 10000000)
#   --skip AREAS  comma-separated areas or target names to leave out
#   --no-skip     leave nothing out (the default without --ci)
#
# Each run works in build/fuzz-api/RUNTIME/ (its scratch files, out.json,
# repro/*.lua); a process that dies (a crash, a sanitizer report, the time
# limit) is a failure whose reproducer is the call it was making (last.lua).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
# Areas left out of the CI pass (none: every area is clean at the CI pass's calls).
CI_SKIP=

ci=0 seed=1 seconds= runs= skip= skip_set=0 rts=()
while [ $# -gt 0 ]; do
  case $1 in
    --ci) ci=1; shift ;;
    --seed) seed=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --skip) skip=$2; skip_set=1; shift 2 ;;
    --no-skip) skip=; skip_set=1; shift ;;
    5.4|jit|asan) rts+=("$1"); shift ;;
    *) echo "fuzz-api.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ ${#rts[@]} -gt 0 ] || rts=(5.4 jit asan)
[ $ci -eq 1 ] && [ $skip_set -eq 0 ] && skip=$CI_SKIP

out="$top/build/results/fuzz-api.json"
mkdir -p "$top/build/results"
parts="$top/build/fuzz-api"
mkdir -p "$parts"
# a call must never write into the checkout: compare it before and after
tree_state() { git -C "$top" status --porcelain -unormal 2>/dev/null | grep -v '^?? build/' | sha1sum; }
before=$(tree_state)

for rt in "${rts[@]}"; do
  case $rt in
    5.4) lua=lua5.4 cdir=build/5.4 secs=${seconds:-$([ $ci -eq 1 ] && echo 30 || echo 300)} ;;
    jit) lua=luajit cdir=build/jit secs=${seconds:-$([ $ci -eq 1 ] && echo 30 || echo 300)} ;;
    asan) lua=lua5.4 cdir=build/asan secs=${seconds:-$([ $ci -eq 1 ] && echo 45 || echo 300)} ;;
  esac
  # --ci: as many calls as this project's 2-core machine makes in the time
  n=${runs:-$([ $ci -eq 1 ] && case $rt in 5.4) echo 15000 ;; jit) echo 30000 ;; asan) echo 12000 ;; esac \
    || echo 10000000)}
  dir="$parts/$rt"
  rm -rf "$dir"
  mkdir -p "$dir"
  echo "== API fuzz on $rt ($lua, $cdir): seed $seed, ${secs}s${skip:+, skipping $skip}"
  if [ ! -f "$top/$cdir/imbill/core.so" ]; then
    echo "fuzz-api.sh: $cdir/imbill/core.so is not built" > "$dir/stderr"
    echo 127 > "$dir/rc"
    continue
  fi
  (
    cd "$dir" || exit 99
    export LUA_PATH="$top/lua/?.lua;$top/lua/?/init.lua;;" LUA_CPATH="$top/$cdir/?.so;;" IMBILL_TOP="$top"
    pre=()
    if [ "$rt" = asan ]; then
      # malloc may fail (and Lua says "not enough memory") rather than abort; one
      # allocation is bounded as ulimit -v bounds it on the other runtimes (a
      # column of a billion values asked for at once)
      export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1:soft_rss_limit_mb=3000:hard_rss_limit_mb=8000:max_allocation_size_mb=3000
      export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
      pre=(env LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)")
    else
      ulimit -v 4000000 2>/dev/null
    fi
    args=(--seed "$seed" --runs "$n" --seconds "$secs" --tmp "$dir" --top "$top" --out "$dir/out.json"
          --last "$dir/last.lua" --repro "$dir/repro")
    [ -n "$skip" ] && args+=(--skip "$skip")
    timeout -k 10 $((secs + 120)) "${pre[@]}" "$lua" "$top/fuzz/api/fuzz.lua" "${args[@]}" > "$dir/stdout" 2> "$dir/stderr"
    echo $? > "$dir/rc"
  )
  tail -1 "$dir/stdout" 2>/dev/null
done

after=$(tree_state)
changed=0
[ "$before" = "$after" ] || changed=1

lua5.4 "$top/scripts/fuzz_api_results.lua" "$out" "$parts" "$changed" "${rts[@]}"
