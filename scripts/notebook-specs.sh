#!/usr/bin/env bash
# The notebook specs (spec/notebook/test_*.py): the imbill kernel through
# jupyter_client, the example notebooks executed headless, and one exported
# to HTML and loaded in headless Chromium.
#
#   scripts/notebook-specs.sh [spec/notebook/test_kernel.py ...]
#
# Jupyter's directories are all under build/jupyter, and the kernel is
# registered there, so the specs never read or write ~/.local.  Each module
# runs under a timeout; kernels left behind by a module that was killed are
# stopped by the pids they wrote.  Results go to build/results/notebooks.json
# as {"successes":[{"name"}],"failures":[{"name","message"}]}, and the last
# line printed is "notebooks: N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
py=${IMBILL_PYTHON:-/usr/bin/python3}
per_module=${IMBILL_NOTEBOOK_TIMEOUT:-600}
jd="$top/build/jupyter"
res="$top/build/results"
parts="$top/build/notebooks/results"
mkdir -p "$res" "$parts" "$jd"
rm -f "$parts"/*.json "$parts"/*.log
out="$res/notebooks.json"

# Until the end says otherwise, the run has failed: a crash leaves this.
printf '{"successes":[],"failures":[{"name":"notebook specs","message":"the runner stopped before it finished"}]}\n' > "$out"

export JUPYTER_DATA_DIR="$jd/data" JUPYTER_PATH="$jd/data" JUPYTER_CONFIG_DIR="$jd/config"
export JUPYTER_RUNTIME_DIR="$jd/runtime" IPYTHONDIR="$jd/ipython" JUPYTER_PLATFORM_DIRS=0
export IMBILL_KERNEL_PIDFILE="$jd/kernel.pids" IMBILL_PYTHON="$py" PYDEVD_DISABLE_FILE_VALIDATION=1
export PYTHONDONTWRITEBYTECODE=1
rm -rf "$JUPYTER_DATA_DIR/kernels/imbill" "$JUPYTER_RUNTIME_DIR"
: > "$IMBILL_KERNEL_PIDFILE"

setup_failure() {
  "$py" - "$out" "$1" <<'EOF' 2>/dev/null || printf '{"successes":[],"failures":[{"name":"notebook specs: setup","message":"see the log"}]}\n' > "$out"
import json, sys
json.dump({"successes": [], "failures": [{"name": "notebook specs: setup", "message": sys.argv[2]}]},
          open(sys.argv[1], "w"))
EOF
  echo "notebooks: 0 passed, 1 failed"
  exit 1
}

missing=$("$py" -c 'import importlib.util as u; print(" ".join(m for m in ("lupa", "ipykernel", "jupyter_client", "nbconvert", "nbformat") if u.find_spec(m) is None))' 2>&1) \
  || setup_failure "$py does not run: $missing"
[ -z "$missing" ] || setup_failure "$py lacks $missing (scripts/notebook.sh installs the Debian packages)"
make --no-print-directory all > "$parts/build.log" 2>&1 || setup_failure "make all failed: $(tail -5 "$parts/build.log")"
PYTHONPATH="$top/notebook" "$py" -m imbill_kernel.install --user --python "$py" > "$parts/install.log" 2>&1 \
  || setup_failure "the kernel did not install: $(tail -5 "$parts/install.log")"

# Stops the kernels the specs started and left running: only pids from our
# file, and only while they still run imbill_kernel.
stop_kernels() {
  local pid
  while read -r pid; do
    [ -n "$pid" ] || continue
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q imbill_kernel; then
      kill "$pid" 2>/dev/null; sleep 1
      [ -d "/proc/$pid" ] && kill -9 "$pid" 2>/dev/null
    fi
  done < "$IMBILL_KERNEL_PIDFILE"
  : > "$IMBILL_KERNEL_PIDFILE"
}

modules=("$@")
[ ${#modules[@]} -gt 0 ] || modules=(spec/notebook/test_kernel.py spec/notebook/test_notebooks.py spec/notebook/test_export.py)
echo "== notebook specs ($py)"
for m in "${modules[@]}"; do
  name=$(basename "$m" .py)
  echo "  $name"
  timeout -k 10 "$per_module" "$py" spec/notebook/runner.py "$m" "$parts/$name.json" > "$parts/$name.log" 2>&1
  rc=$?
  grep -E "^  (\.\.|FAILED)" "$parts/$name.log" | sed 's/^/  /' | grep -v "^    \.\." || true
  if [ ! -s "$parts/$name.json" ]; then
    why="exit $rc"
    [ $rc -eq 124 ] && why="timed out after ${per_module}s"
    "$py" - "$parts/$name.json" "$name" "$why" "$parts/$name.log" <<'EOF'
import json, sys
log = open(sys.argv[4], errors="replace").read()[-3000:]
json.dump({"successes": [], "failures": [{"name": sys.argv[2] + ": the module did not finish (" + sys.argv[3] + ")",
                                          "message": log}]}, open(sys.argv[1], "w"))
EOF
  fi
  stop_kernels
done

"$py" - "$out" "$parts" <<'EOF'
import glob, json, os, sys
out, parts = sys.argv[1], sys.argv[2]
ok, bad = [], []
for p in sorted(glob.glob(os.path.join(parts, "*.json"))):
    try:
        d = json.load(open(p))
        ok += d.get("successes", [])
        bad += d.get("failures", [])
    except Exception as e:
        bad.append({"name": os.path.basename(p) + ": unreadable results", "message": repr(e)})
if not ok and not bad:
    bad.append({"name": "notebook specs", "message": "no spec ran"})
json.dump({"successes": ok, "failures": bad}, open(out, "w"), indent=1)
print("notebooks: %d passed, %d failed" % (len(ok), len(bad)))
sys.exit(1 if bad else 0)
EOF
