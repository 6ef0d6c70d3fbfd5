#!/usr/bin/env bash
# scripts/busted.sh NAME INTERPRETER CPATH_DIR [SPEC...]: runs the specs (default:
# all of spec/) under one runtime, prints busted's report, and leaves its JSON
# in build/results/NAME.json.
set -u
name=$1 lua=$2 cdir=$3
shift 3
specs=("$@")
[ ${#specs[@]} -eq 0 ] && specs=(spec)
top=$(cd "$(dirname "$0")/.." && pwd)
export LUA_PATH="$top/lua/?.lua;$top/lua/?/init.lua;$top/spec/?.lua;;"
export LUA_CPATH="$top/$cdir/?.so;;"
export IMBILL_TOP="$top" IMBILL_LUA="$lua" IMBILL_CPATH="$top/$cdir"
pre=()
if [ "$name" = asan ]; then
  export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  pre=(env LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)")
fi
if [ "$name" = tsan ]; then
  # a race ends the run, so busted's report is missing and the suite fails
  # with TSan's report; a column too large for memory is a spec (an error,
  # not TSan's abort); the suppressions are in their file, each with its why
  export TSAN_OPTIONS="halt_on_error=1:allocator_may_return_null=1:suppressions=$top/scripts/tsan.supp"
  pre=(env LD_PRELOAD="$(gcc -print-file-name=libtsan.so)")
fi
out="$top/build/results/$name.json"
exclude=slow
# Chromium cannot start with the sanitizer runtime preloaded; it is not our code.
[ "$name" = asan ] || [ "$name" = tsan ] && exclude=slow,chromium
mkdir -p "$top/build/results"
echo "== specs on $name ($lua)"
"${pre[@]}" "$lua" /usr/bin/busted -o "$top/scripts/busted_json.lua" --exclude-tags="$exclude" "${specs[@]}" > "$out" 2> "$top/build/results/$name.err"
rc=$?
lua5.4 "$top/scripts/tally.lua" --one "$out" "$top/build/results/$name.err"
exit $rc
