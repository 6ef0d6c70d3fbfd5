#!/usr/bin/env bash
# scripts/nginx-specs.sh [busted args...]: the gateway's specs against a real
# nginx on loopback.  Starts its own nginx (4 workers, two free 127.0.0.1
# ports, prefix build/nginx-spec), runs spec/nginx/*_ngx.lua under LuaJIT,
# stops nginx by its pid whatever happens, writes build/results/nginx.json
# and prints "nginx: N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
prefix="$top/build/nginx-spec"
results="$top/build/results"
out="$results/nginx.json"
err="$results/nginx.err"
mkdir -p "$results"
rm -f "$out" "$err"

fail_report() {
  # a runner that dies leaves a failure, never a silent zero
  /usr/bin/python3 - "$out" "$1" <<'EOF'
import json, sys
json.dump({"successes": [], "failures": [{"name": "nginx specs: runner", "message": sys.argv[2]}]},
          open(sys.argv[1], "w"))
EOF
  lua5.4 "$top/scripts/tally.lua" --one "$out" "$err"
  exit 1
}

for bin in nginx luajit busted; do
  command -v "$bin" >/dev/null || fail_report "$bin is not installed (make deps)"
done
[ -f /usr/lib/nginx/modules/ngx_http_lua_module.so ] || fail_report "libnginx-mod-http-lua is not installed"
luajit -e 'require "socket"' 2>/dev/null || fail_report "lua-socket is not installed (apt-get install lua-socket)"
make --no-print-directory build/jit/imbill/core.so >"$results/nginx.build.log" 2>&1 || fail_report "build failed: see $results/nginx.build.log"

free_port() {
  luajit -e 'local s = require("socket").bind("127.0.0.1", 0); local _, p = s:getsockname(); print(p); s:close()'
}

pidfile="$prefix/logs/nginx.pid"
stop_nginx() {
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 0
  [ -n "$pid" ] || return 0
  kill -QUIT "$pid" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null; sleep 0.5
    kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$pidfile"
}
trap stop_nginx EXIT INT TERM

stop_nginx
rm -rf "$prefix"
mkdir -p "$prefix/logs" "$prefix/tmp" "$prefix/conf"
port=$(free_port)
stub=$(free_port)
while [ "$stub" = "$port" ]; do stub=$(free_port); done

sed -e "s|@TOP@|$top|g" -e "s|@PORT@|$port|g" -e "s|@STUB@|$stub|g" spec/nginx/nginx.conf.in > "$prefix/conf/nginx.conf"
cp spec/nginx/gateway_config.lua "$prefix/conf/gateway_config.lua"

# a root master would run its workers as nobody, who cannot read the tree
user_directive=()
[ "$(id -u)" -eq 0 ] && user_directive=(-g "user $(id -un) $(id -gn);")
if ! nginx -p "$prefix" -c conf/nginx.conf "${user_directive[@]}" 2>"$prefix/logs/start.err"; then
  fail_report "nginx did not start: $(cat "$prefix/logs/start.err") $(tail -5 "$prefix/logs/error.log" 2>/dev/null)"
fi
up=""
for _ in $(seq 1 50); do
  if luajit -e "local s=require('socket').tcp(); s:settimeout(0.2); assert(s:connect('127.0.0.1', $port)); s:close()" 2>/dev/null; then
    up=1; break
  fi
  sleep 0.1
done
[ -n "$up" ] || fail_report "nginx did not answer on 127.0.0.1:$port: $(tail -5 "$prefix/logs/error.log")"
if grep -q "init_by_lua error\|\[emerg\]" "$prefix/logs/error.log"; then
  fail_report "nginx failed to initialise: $(grep -m3 'error\|emerg' "$prefix/logs/error.log")"
fi

export IMBILL_TOP="$top" IMBILL_NGX_PORT="$port" IMBILL_NGX_STUB="$stub" IMBILL_NGX_PREFIX="$prefix"
export LUA_PATH="$top/lua/?.lua;$top/lua/?/init.lua;$top/spec/nginx/support/?.lua;;"
export LUA_CPATH="$top/build/jit/?.so;;"
echo "== nginx specs (nginx on 127.0.0.1:$port, stub on :$stub)"
timeout 900 luajit /usr/bin/busted -o "$top/scripts/busted_json.lua" --pattern=_ngx "$@" spec/nginx >"$out" 2>"$err"
rc=$?
[ $rc -eq 124 ] && echo "nginx specs: timed out" >>"$err"
stop_nginx
trap - EXIT INT TERM
if grep -q "\[alert\]\|\[crit\]" "$prefix/logs/error.log"; then
  echo "nginx error.log has alerts:" >&2
  grep "\[alert\]\|\[crit\]" "$prefix/logs/error.log" | head -5 >&2
fi
lua5.4 "$top/scripts/tally.lua" --one "$out" "$err" | sed 's/^  //'
exit $rc
