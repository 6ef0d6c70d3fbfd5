#!/usr/bin/env bash
# scripts/redis-specs.sh [busted args...]: the gateway's Redis store against
# real servers on loopback.  Starts one Redis, a Redis Cluster of three
# masters, and two nginx instances of two workers each sharing them (free
# 127.0.0.1 ports, everything under build/redis-spec), runs
# spec/redis/*_redis.lua under LuaJIT with busted, stops every server by its
# pid whatever happens, writes build/results/redis.json and prints
# "redis: N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
prefix="$top/build/redis-spec"
. "$top/scripts/suite.sh" redis

for bin in nginx luajit busted redis-server redis-cli; do
  command -v "$bin" >/dev/null || fail_report "$bin is not installed (make deps)"
done
[ -f /usr/lib/nginx/modules/ngx_http_lua_module.so ] || fail_report "libnginx-mod-http-lua is not installed"
[ -f /usr/share/lua/5.1/nginx/redis.lua ] || fail_report "lua-nginx-redis is not installed (apt-get install lua-nginx-redis)"
luajit -e 'require "socket"' 2>/dev/null || fail_report "lua-socket is not installed (apt-get install lua-socket)"
make --no-print-directory build/jit/imbill/core.so >"$results/redis.build.log" 2>&1 || fail_report "build failed: see $results/redis.build.log"

free_port() {
  luajit -e 'local s = require("socket").bind("127.0.0.1", 0); local _, p = s:getsockname(); print(p); s:close()'
}
ports=()
while [ ${#ports[@]} -lt 8 ]; do
  p=$(free_port)
  dup=""
  for q in "${ports[@]}"; do [ "$q" = "$p" ] && dup=1; done
  # a cluster node also listens on its port + 10000
  [ -z "$dup" ] && [ "$p" -lt 55000 ] && ports+=("$p")
done
redis_port=${ports[0]}
cluster_ports="${ports[1]} ${ports[2]} ${ports[3]}"
ngx_a=${ports[4]} stub_a=${ports[5]} ngx_b=${ports[6]} stub_b=${ports[7]}

stop_all() {
  # the spec runner first (timeout passes the signal on to busted)
  stop_pid "$prefix/runner.pid" TERM
  for pidfile in "$prefix"/ngx-*/logs/nginx.pid; do stop_pid "$pidfile" QUIT; done
  for pidfile in "$prefix"/redis/redis.pid "$prefix"/cluster/*/redis.pid; do stop_pid "$pidfile" TERM; done
  # a spec's background helpers (a slow migration, a delayed restart)
  for pidfile in "$prefix"/bg/*.pid; do
    [ -f "$pidfile" ] || continue
    kill -KILL "$(cat "$pidfile")" 2>/dev/null
    rm -f "$pidfile"
  done
}
# on a signal the servers go and the run ends (a bare trap would carry on)
trap stop_all EXIT
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM

stop_all
rm -rf "$prefix"
mkdir -p "$prefix/redis" "$prefix/bg"

# The servers' control script: the specs kill, restart and slow Redis with it.
ctl="$prefix/redis-ctl.sh"
cat > "$ctl" <<EOF
#!/usr/bin/env bash
# $ctl start|kill|stop|wait NAME: NAME is "single" or a cluster port.
set -u
prefix="$prefix"
dir_of() { if [ "\$1" = single ]; then echo "\$prefix/redis"; else echo "\$prefix/cluster/\$1"; fi; }
port_of() { if [ "\$1" = single ]; then echo $redis_port; else echo "\$1"; fi; }
start() {
  local d p; d=\$(dir_of "\$1"); p=\$(port_of "\$1")
  mkdir -p "\$d"
  local extra=()
  [ "\$1" != single ] && extra=(--cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 3000)
  # the single one on IPv6 loopback too, where there is one (the "-")
  local bind=(127.0.0.1)
  [ "\$1" = single ] && bind=(127.0.0.1 -::1)
  # the single one has the ACL users of spec/redis/acl_redis.lua (the
  # configuration's own_user and read_only entries), so a restart keeps them
  [ "\$1" = single ] && extra=(--user imbill_own on '>own-secret' '~imb:{1400000016}:*' '+@all'
    --user imbill_ro on '>ro-secret' '~*' '+@read' '+ping' '+hello' '+auth')
  (cd "\$d" && redis-server --port "\$p" --bind "\${bind[@]}" --dir "\$d" --pidfile "\$d/redis.pid" --daemonize yes \\
    --logfile "\$d/redis.log" --save "" --appendonly yes --appendfsync always --enable-debug-command local \\
    --protected-mode yes "\${extra[@]}")
  for _ in \$(seq 1 100); do redis-cli -p "\$p" ping 2>/dev/null | grep -q PONG && return 0; sleep 0.05; done
  echo "redis \$1 did not start" >&2; return 1
}
kill9() {
  local d; d=\$(dir_of "\$1")
  [ -f "\$d/redis.pid" ] || return 0
  local pid; pid=\$(cat "\$d/redis.pid")
  kill -KILL "\$pid" 2>/dev/null
  for _ in \$(seq 1 50); do kill -0 "\$pid" 2>/dev/null || break; sleep 0.05; done
  rm -f "\$d/redis.pid"
}
case "\$1" in
  start) start "\$2" ;;
  kill) kill9 "\$2" ;;
  restart) kill9 "\$2"; sleep "\${3:-0}"; start "\$2" ;;
  *) echo "usage: \$0 start|kill|restart NAME [pause]" >&2; exit 2 ;;
esac
EOF
chmod +x "$ctl"

"$ctl" start single || fail_report "redis did not start: $(tail -5 "$prefix/redis/redis.log" 2>/dev/null)"
for p in $cluster_ports; do
  "$ctl" start "$p" || fail_report "cluster node $p did not start: $(tail -5 "$prefix/cluster/$p/redis.log" 2>/dev/null)"
done
nodes=()
for p in $cluster_ports; do nodes+=("127.0.0.1:$p"); done
redis-cli --cluster create "${nodes[@]}" --cluster-yes >"$prefix/cluster/create.log" 2>&1 \
  || fail_report "redis-cli --cluster create failed: $(tail -5 "$prefix/cluster/create.log")"
first=${cluster_ports%% *}
ok=""
for _ in $(seq 1 100); do
  if redis-cli -p "$first" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then ok=1; break; fi
  sleep 0.1
done
[ -n "$ok" ] || fail_report "the cluster did not come up: $(redis-cli -p "$first" cluster info | head -3)"

# a root master would run its workers as nobody, who cannot read the tree
user_directive=()
[ "$(id -u)" -eq 0 ] && user_directive=(-g "user $(id -un) $(id -gn);")
start_nginx() {
  local name=$1 port=$2 stub=$3 dir="$prefix/ngx-$1"
  mkdir -p "$dir/logs" "$dir/tmp" "$dir/conf"
  sed -e "s|@TOP@|$top|g" -e "s|@PORT@|$port|g" -e "s|@STUB@|$stub|g" -e "s|@NODE@|$name|g" \
    spec/redis/nginx.conf.in > "$dir/conf/nginx.conf"
  sed -e "s|@REDIS@|$redis_port|g" -e "s|@C1@|${nodes[0]}|g" -e "s|@C2@|${nodes[1]}|g" -e "s|@C3@|${nodes[2]}|g" \
    spec/redis/gateway_config.lua > "$dir/conf/gateway_config.lua"
  if ! nginx -p "$dir" -c conf/nginx.conf "${user_directive[@]}" 2>"$dir/logs/start.err"; then
    fail_report "nginx $name did not start: $(cat "$dir/logs/start.err") $(tail -5 "$dir/logs/error.log" 2>/dev/null)"
  fi
  local up=""
  for _ in $(seq 1 50); do
    if luajit -e "local s=require('socket').tcp(); s:settimeout(0.2); assert(s:connect('127.0.0.1', $port)); s:close()" \
      2>/dev/null; then up=1; break; fi
    sleep 0.1
  done
  [ -n "$up" ] || fail_report "nginx $name did not answer on 127.0.0.1:$port: $(tail -5 "$dir/logs/error.log")"
  if grep -q "init_by_lua error\|\[emerg\]" "$dir/logs/error.log"; then
    fail_report "nginx $name failed to initialise: $(grep -m3 'error\|emerg' "$dir/logs/error.log")"
  fi
}
start_nginx a "$ngx_a" "$stub_a"
start_nginx b "$ngx_b" "$stub_b"

export IMBILL_TOP="$top" IMBILL_RS_PREFIX="$prefix" IMBILL_RS_CTL="$ctl" IMBILL_RS_REDIS="$redis_port" \
  IMBILL_RS_CLUSTER="${cluster_ports// /,}" IMBILL_RS_NGX="$ngx_a,$ngx_b" IMBILL_RS_STUB="$stub_a,$stub_b"
export LUA_PATH="$top/lua/?.lua;$top/lua/?/init.lua;$top/spec/redis/support/?.lua;$top/spec/nginx/support/?.lua;;"
export LUA_CPATH="$top/build/jit/?.so;;"
echo "== redis specs (redis :$redis_port, cluster :${cluster_ports// /,:}, nginx :$ngx_a and :$ngx_b)"
# about 75 s on an idle 2-core machine; the bound leaves room for a loaded one
limit=${IMBILL_RS_TIMEOUT:-480}
# in the background, so a signal to this script is handled at once (bash
# runs a trap only after a foreground command ends) and stops it too
timeout -k 10 "$limit" luajit /usr/bin/busted -o "$top/scripts/busted_json.lua" --pattern=_redis "$@" spec/redis \
  >"$out" 2>"$err" &
echo $! >"$prefix/runner.pid"
wait $!
rc=$?
rm -f "$prefix/runner.pid"
[ $rc -eq 124 ] && echo "redis specs: timed out after ${limit}s" >>"$err"
stop_all
trap - EXIT INT TERM
# a run that reported nothing, or stopped with no failure to show for it,
# is a failure (never a silent zero)
/usr/bin/python3 - "$out" "$rc" "$err" <<'EOF'
import json, sys
path, rc, errpath = sys.argv[1], int(sys.argv[2]), sys.argv[3]
try:
    text = open(path).read()
    doc = json.loads(text[text.index("{"):])
except (OSError, ValueError):
    sys.exit(0)  # no report at all: tally.lua counts that as a failure
bad = len(doc.get("failures") or []) + len(doc.get("errors") or [])
why = None
if not doc.get("successes") and not bad:
    why = "no spec ran"
elif rc != 0 and not bad:
    why = "busted exited with status %d" % rc
if why:
    err = open(errpath, errors="replace").read()[-1500:]
    doc.setdefault("failures", []).append({"name": "redis specs: runner", "message": why + "\n" + err})
    json.dump(doc, open(path, "w"))
EOF
for d in "$prefix"/ngx-*; do
  if grep -q "\[alert\]\|\[crit\]" "$d/logs/error.log"; then
    echo "nginx $(basename "$d") error.log has alerts:" >&2
    grep "\[alert\]\|\[crit\]" "$d/logs/error.log" | head -5 >&2
  fi
done
lua5.4 "$top/scripts/tally.lua" --one "$out" "$err" | sed 's/^  //'
t=${PIPESTATUS[0]}
[ $rc -ne 0 ] && exit $rc
exit $t
