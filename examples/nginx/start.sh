#!/usr/bin/env bash
# examples/nginx/start.sh [start|stop|restart|status]: the example gateway on
# 127.0.0.1:18480 (the stub standing in for Tencent on :18481, the benchmark's
# proxies without the check on :18482), with this
# directory as nginx's prefix.  Builds imbill's LuaJIT module first if needed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cmd=${1:-start}
pidfile="$here/logs/nginx.pid"

# The pid file names this example's nginx only while its master runs: after
# a crash or a reboot the number may belong to another program, which must
# neither be taken for the gateway nor be sent a signal.
running() {
  local pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  case "$pid" in ''|*[!0-9]*) return 1 ;; esac
  kill -0 "$pid" 2>/dev/null || return 1
  # its command line, read by the shell itself: no program is started (a
  # program run under a preloaded sanitizer, as the test suite's, can hang)
  local args=""
  [ -r "/proc/$pid/cmdline" ] && { IFS= read -r -d '' args < "/proc/$pid/cmdline" || true; }
  case "$args" in
    *"nginx: master process"*" -p $here/ "*) return 0 ;;
  esac
  return 1
}

stop() {
  if running; then
    local pid
    pid=$(cat "$pidfile")
    kill -QUIT "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    if kill -0 "$pid" 2>/dev/null; then
      echo "nginx (pid $pid) did not stop; see $here/logs/error.log" >&2
      exit 1
    fi
    echo "stopped (pid $pid)"
  else
    [ -f "$pidfile" ] && echo "not running (removing $pidfile, which names no nginx of this example)" || echo "not running"
  fi
  rm -f "$pidfile"
}

start() {
  if running; then echo "already running (pid $(cat "$pidfile"))"; return 0; fi
  rm -f "$pidfile"
  [ -f "$top/build/jit/imbill/core.so" ] || make -C "$top" --no-print-directory build/jit/imbill/core.so >/dev/null
  mkdir -p "$here/logs" "$here/tmp"
  local g=()
  # a root master runs its workers as nobody, who may not read the checkout
  [ "$(id -u)" -eq 0 ] && g=(-g "user $(id -un) $(id -gn);")
  nginx -p "$here/" -c nginx.conf "${g[@]}"
  for _ in $(seq 1 50); do
    # this example's master, answering (not another program on the port)
    if running && (exec 3<>/dev/tcp/127.0.0.1/18480) 2>/dev/null; then
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
