#!/usr/bin/env bash
# Builds imbill from its rockspec offline for Lua 5.4 and for the 5.1 ABI
# (LuaJIT headers) into throw-away trees, loads each build once, and checks
# that every build exports exactly the functions of include/imbill.h and
# luaopen_imbill_core.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
luarocks lint imbill-dev-1.rockspec
# the header's functions: every "IMB_API type name(" declaration
want=$( (sed -n '/imbill:ffi-begin/,/imbill:ffi-end/p' include/imbill.h | grep -o 'IMB_API [^(]*(' | sed -E 's/.*[ *]([a-z_0-9]+)\($/\1/'; echo luaopen_imbill_core) | sort -u)
exports() { nm -D --defined-only "$1" | awk '{print $3}' | sort -u; }
check_exports() {
  local have
  have=$(exports "$1")
  if [ "$have" != "$want" ]; then
    echo "$1 exports other symbols than include/imbill.h declares:" >&2
    diff <(echo "$want") <(echo "$have") >&2 || true
    exit 1
  fi
  echo "$1: exports the header's $(echo "$want" | wc -l) functions, nothing else"
}
for v in 5.4 5.1; do
  tree="$top/build/rocks-$v"
  rm -rf "$tree" build/rock
  extra=()
  [ "$v" = 5.1 ] && extra=(LUA_INCDIR=/usr/include/luajit-2.1)
  luarocks --lua-version=$v --tree "$tree" make imbill-dev-1.rockspec "${extra[@]}" >/dev/null
  lua=lua5.4; [ "$v" = 5.1 ] && lua=luajit
  check_exports "$tree/lib/lua/$v/imbill/core.so"
  LUA_PATH="$tree/share/lua/$v/?.lua;$tree/share/lua/$v/?/init.lua;;" LUA_CPATH="$tree/lib/lua/$v/?.so;;" \
    $lua -e 'local i = require "imbill"; assert(tostring(i.invoice{book="2020",edition="pro",month="2021-03",peak_dau=25000,groups_peak=250000}.total) == "749.95"); print("rockspec build for '"$v"' loads: " .. i.VERSION)'
  # the batch C files are built and threads linked: columns priced on two threads
  LUA_PATH="$tree/share/lua/$v/?.lua;$tree/share/lua/$v/?/init.lua;;" LUA_CPATH="$tree/lib/lua/$v/?.so;;" \
    $lua -e 'local i = require "imbill"; local d = i.column { from = 1, to = 100000 }; local c = i.totals { book = "2020", edition = "pro", peak_dau = d, threads = 2 }; assert(c:sum() == i.column(i.totals { book = "2020", edition = "pro", peak_dau = d:totable() }):sum()); print("rockspec build for '"$v"' prices columns on 2 threads")'
done
for f in build/5.4/imbill/core.so build/jit/imbill/core.so; do check_exports "$f"; done
