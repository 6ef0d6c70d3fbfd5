#!/usr/bin/env bash
# make notebook: what-if notebooks with the imbill kernel.
#
#   scripts/notebook.sh [--no-start] [--port N]
#
# 1. installs the Debian packages that are missing, and only those (apt-get,
#    or sudo apt-get when not root);
# 2. builds imbill for Lua 5.4 and LuaJIT (make all);
# 3. registers the imbill kernel for the current user (Jupyter's user data
#    directory: ~/.local/share/jupyter/kernels/imbill, or $JUPYTER_DATA_DIR);
# 4. starts Jupyter Notebook on examples/notebooks/ when run from a terminal;
#    with --no-start, or without a terminal, prints how to start it.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
# Debian's Python: the one the Debian packages below install into.
py=${IMBILL_PYTHON:-/usr/bin/python3}
start=1
port=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-start) start=0 ;;
    --port) port=${2:?--port needs a number}; shift ;;
    --port=*) port=${1#*=} ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "scripts/notebook.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

# 1. Debian packages
pkgs=(gcc make lua5.4 liblua5.4-dev luajit2 libluajit2-5.1-dev python3 python3-lupa python3-ipykernel
      python3-jupyter-client python3-nbformat jupyter-notebook jupyter-nbconvert)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || { echo "imbill: no apt-get here; install: ${missing[*]}" >&2; exit 1; }
  echo "imbill: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# 2. build
make -C "$top" --no-print-directory all

# 3. the kernel, for this user only
dest=$(PYTHONPATH="$top/notebook" PYTHONDONTWRITEBYTECODE=1 "$py" -m imbill_kernel.install --user --python "$py")
echo "imbill: kernel 'imbill' registered in $dest"

# 4. Jupyter Notebook
args=(--notebook-dir="$top/examples/notebooks")
[ -n "$port" ] && args+=(--port="$port")
[ "$(id -u)" -eq 0 ] && args+=(--allow-root)
[ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && args+=(--no-browser)
if [ "$start" -eq 1 ] && [ -t 0 ] && [ -t 1 ]; then
  echo "imbill: starting Jupyter Notebook on examples/notebooks (Ctrl-C twice to stop)"
  exec "$py" -m notebook "${args[@]}"
fi
cat <<EOF
imbill: to start Jupyter Notebook on the example notebooks, run
  $py -m notebook ${args[*]}
then open the URL it prints and pick a notebook; its kernel is "imbill (Lua, LuaJIT)".
EOF
