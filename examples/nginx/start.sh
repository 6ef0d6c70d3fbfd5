#!/usr/bin/env bash
# examples/nginx/start.sh [start|stop|restart|status]: the example gateway on
# 127.0.0.1:18480 (and the stub standing in for Tencent on :18481), with this
# directory as nginx's prefix.  Builds imbill's LuaJIT module first if needed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cmd=${1:-start}
pidfile="$here/logs/nginx.pid"

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

stop() {
  if running; then
    local pid
    pid=$(cat "$pidfile")
    kill -QUIT "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -TERM "$pid"
    echo "stopped (pid $pid)"
  else
    echo "not running"
  fi
  rm -f "$pidfile"
}

start() {
  if running; then echo "already running (pid $(cat "$pidfile"))"; return 0; fi
  [ -f "$top/build/jit/imbill/core.so" ] || make -C "$top" --no-print-directory build/jit/imbill/core.so >/dev/null
  mkdir -p "$here/logs" "$here/tmp"
  local g=()
  # a root master runs its workers as nobody, who may not read the checkout
  [ "$(id -u)" -eq 0 ] && g=(-g "user $(id -un) $(id -gn);")
  nginx -p "$here/" -c nginx.conf "${g[@]}"
  for _ in $(seq 1 50); do
    if (exec 3<>/dev/tcp/127.0.0.1/18480) 2>/dev/null; then
      echo "imbill gateway on http://127.0.0.1:18480 (pid $(cat "$pidfile")); the Tencent stub on :18481"
      echo "logs: $here/logs/error.log"
      return 0
    fi
    sleep 0.1
  done
  echo "nginx did not come up; see $here/logs/error.log" >&2
  tail -5 "$here/logs/error.log" >&2
  exit 1
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) if running; then echo "running (pid $(cat "$pidfile"))"; else echo "not running"; exit 1; fi ;;
  *) echo "usage: $0 [start|stop|restart|status]" >&2; exit 2 ;;
esac
