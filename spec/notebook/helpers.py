"""Shared by the notebook specs: paths, a kernel client that collects a cell's
messages, and the checks on outputs.  scripts/notebook-specs.sh sets the
Jupyter directories (under build/) before these run."""

import base64
import json
import os
import queue
import re
import subprocess
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(TOP, "build", "notebooks")
NOTEBOOKS = os.path.join(TOP, "examples", "notebooks")
PYTHON = os.environ.get("IMBILL_PYTHON", "/usr/bin/python3")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]

MONEY = re.compile(r"\b\d{1,3}(?:,\d{3})*\.\d{2}\b")
DATA_URI = re.compile(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')


def text(v):
    """nbformat stores multi-line strings as lists of lines."""
    return "".join(v) if isinstance(v, list) else (v or "")


def svg_from_html(html):
    """The SVG documents inside the <img> data URIs of an HTML output."""
    return [base64.b64decode(m).decode("utf-8") for m in DATA_URI.findall(html)]


class Cell:
    """What one execute_request produced, in arrival order, with the time
    (seconds since the request) each message arrived."""

    def __init__(self):
        self.messages = []
        self.reply = None

    def of(self, kind):
        return [c for t, k, c in self.messages if k == kind]

    def stream(self):
        return "".join(c["text"] for c in self.of("stream"))

    def results(self):
        return [c["data"] for c in self.of("execute_result")] + [c["data"] for c in self.of("display_data")]


def run_cell(km, kc, code, timeout=60, interrupt_after=None):
    """Runs code, optionally interrupting the kernel after some seconds, and
    collects its outputs until the kernel is idle again."""
    # stop_on_error=False: each cell is sent once the one before has replied,
    # yet after an error ipykernel aborts the requests that reach it before
    # its abort window closes (a scheduled callback), which on a loaded
    # machine took the next cell of a spec ("aborted", no output)
    msg_id = kc.execute(code, stop_on_error=False)
    cell = Cell()
    start = time.monotonic()
    interrupted = False
    # the interrupt is timed from when the kernel took the request (its "busy"
    # status): one sent while the request still waits in the kernel's queue
    # finds no cell to stop, as Jupyter's interrupts do when the kernel is idle
    busy = None
    while True:
        now = time.monotonic() - start
        if interrupt_after is not None and not interrupted and busy is not None and now - busy >= interrupt_after:
            km.interrupt_kernel()
            interrupted = True
        if now > timeout:
            raise AssertionError("the cell did not finish within %ss: %r" % (timeout, code[:80]))
        try:
            msg = kc.get_iopub_msg(timeout=0.1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "status" and msg["content"]["execution_state"] == "busy" and busy is None:
            busy = time.monotonic() - start
        if kind == "status" and msg["content"]["execution_state"] == "idle":
            break
        cell.messages.append((time.monotonic() - start, kind, msg["content"]))
    while True:
        reply = kc.get_shell_msg(timeout=max(1, timeout - (time.monotonic() - start)))
        if reply["parent_header"].get("msg_id") == msg_id:
            cell.reply = reply["content"]
            return cell


def nbconvert(args, timeout):
    """Runs Debian's nbconvert; returns (returncode, output)."""
    p = subprocess.run([PYTHON, "-m", "jupyter", "nbconvert"] + args, cwd=TOP, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout, text=True)
    return p.returncode, p.stdout


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def run_chromium(chromium, budget_ms, args, dom=False):
    """headless Chromium on a page (args end with its file:// URL), with no
    network (every host resolves to nothing) and budget_ms of virtual time;
    with dom=True, the DOM it dumps"""
    profile = os.path.join(BUILD, "chromium-profile")
    flags = CHROMIUM_FLAGS + ["--user-data-dir=" + profile, "--host-resolver-rules=MAP * ~NOTFOUND",
                              "--virtual-time-budget=%d" % budget_ms]
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    out = subprocess.run(["timeout", "90", chromium] + flags + (["--dump-dom"] if dom else []) + args,
                         stdout=subprocess.PIPE if dom else subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                         timeout=120, text=True)
    return out.stdout if dom else None


def chromium():
    for name in ("chromium", "chromium-browser"):
        for d in os.environ.get("PATH", "").split(os.pathsep) + ["/usr/bin"]:
            p = os.path.join(d, name)
            if os.access(p, os.X_OK):
                return p
    return None
