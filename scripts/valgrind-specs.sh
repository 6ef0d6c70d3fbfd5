#!/usr/bin/env bash
# The specs that drive the C core hardest, under valgrind's memcheck against the
# Lua 5.4 build: any invalid read, write or use of uninitialised memory fails.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export LUA_PATH="$top/lua/?.lua;$top/lua/?/init.lua;$top/spec/?.lua;;"
export LUA_CPATH="$top/build/5.4/?.so;;"
export IMBILL_TOP="$top" IMBILL_LUA=lua5.4 IMBILL_CPATH="$top/build/5.4"
cd "$top" || exit 1
out="$top/build/results/valgrind.json"
echo "== specs under valgrind (lua5.4)"
valgrind -q --error-exitcode=9 --leak-check=no lua5.4 /usr/bin/busted -o "$top/scripts/busted_json.lua" \
  spec/money_spec.lua spec/calendar_spec.lua spec/invoice_spec.lua spec/totals_spec.lua spec/grid_spec.lua \
  spec/meter_spec.lua spec/meter_file_spec.lua spec/meter_file_friends_spec.lua spec/column_spec.lua spec/totals_into_spec.lua > "$out" 2> "$top/build/results/valgrind.err"
rc=$?
if [ $rc -eq 9 ]; then
  # memcheck found errors: count them as a failed check, whatever the specs said
  echo '{"successes":[],"failures":[{"name":"valgrind memcheck","message":"see build/results/valgrind.err"}]}' > "$out"
  cat "$top/build/results/valgrind.err"
fi
lua5.4 "$top/scripts/tally.lua" --one "$out" "$top/build/results/valgrind.err"
exit $rc
