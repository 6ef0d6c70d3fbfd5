#!/usr/bin/env bash
# Builds imbill from its rockspec offline for Lua 5.4 and for the 5.1 ABI
# (LuaJIT headers), into throw-away trees, and loads each build once.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
lua5.4 scripts/gen-rockspec.lua
git diff --quiet -- imbill-dev-1.rockspec 2>/dev/null || {
  echo "imbill-dev-1.rockspec is out of date with the tree; commit the regenerated file" >&2
  git --no-pager diff -- imbill-dev-1.rockspec >&2
  exit 1
}
luarocks lint imbill-dev-1.rockspec
for v in 5.4 5.1; do
  tree="$top/build/rocks-$v"
  rm -rf "$tree"
  extra=()
  [ "$v" = 5.1 ] && extra=(LUA_INCDIR=/usr/include/luajit-2.1)
  luarocks --lua-version=$v --tree "$tree" make imbill-dev-1.rockspec "${extra[@]}" >/dev/null
  rm -rf "$top/imbill" src/*.o
  lua=lua5.4; [ "$v" = 5.1 ] && lua=luajit
  LUA_PATH="$tree/share/lua/$v/?.lua;$tree/share/lua/$v/?/init.lua;;" LUA_CPATH="$tree/lib/lua/$v/?.so;;" \
    $lua -e 'local i = require "imbill"; assert(tostring(i.invoice{book="2020",edition="pro",month="2021-03",peak_dau=25000,groups_peak=250000}.total) == "749.95"); print("rockspec build for '"$v"' loads: " .. i.VERSION)'
done
