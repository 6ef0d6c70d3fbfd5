"""Registers the imbill kernel with Jupyter.

    python3 -m imbill_kernel.install [--user | --sys-prefix | --prefix DIR | --dir DIR]
                                     [--top TOP] [--python PYTHON] [--name NAME]

kernel.json (next to this file) is a template: the installed copy names the
Python that runs the kernel and the checkout it loads (lua/ and build/jit/).
--user (the default) goes to Jupyter's user data directory, which is
$JUPYTER_DATA_DIR when that is set (the tests use a directory under build/).
"""
import argparse
import json
import os
import re
import shutil
import sys
import tempfile

from . import __version__, find_top


def spec(top, python):
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "kernel.json"), encoding="utf-8") as f:
        text = f.read()
    # fill the template through JSON, so a path with quotes stays valid JSON
    def fill(v):
        if isinstance(v, str):
            return v.replace("@PYTHON@", python).replace("@TOP@", top).replace("@VERSION@", __version__)
        if isinstance(v, list):
            return [fill(x) for x in v]
        if isinstance(v, dict):
            return {k: fill(x) for k, x in v.items()}
        return v
    return fill(json.loads(text))


PROG = "python3 -m imbill_kernel.install"

# Jupyter's own rule for a kernel name; "." and ".." fit it but name no
# directory of their own (DIR/.. is DIR's parent)
KERNEL_NAME = re.compile(r"^[A-Za-z0-9._-]+$")


class Refused(Exception):
    """An argument that is wrong: said in one line, nothing written."""


def check_name(name):
    if not KERNEL_NAME.match(name) or name.strip(".") == "":
        raise Refused("--name: expected a kernel name (letters, digits, \"-\", \".\" and \"_\"), got %r" % name)
    return name


def check_python(python):
    # the kernelspec starts this file as it is written there, from any directory
    path = shutil.which(python) if os.sep not in python else os.path.abspath(python)
    if not path or not os.path.isfile(path):
        raise Refused("--python: no such file, got %r" % python)
    if not os.access(path, os.X_OK):
        raise Refused("--python: not executable, got %r" % python)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="the user's Jupyter data directory (default)")
    where.add_argument("--sys-prefix", action="store_true", help="this Python's prefix")
    where.add_argument("--prefix", help="under PREFIX/share/jupyter/kernels")
    where.add_argument("--dir", help="write the kernelspec into DIR/NAME directly")
    ap.add_argument("--top", default=find_top(), help="the imbill checkout (default: %(default)s)")
    ap.add_argument("--python", default=sys.executable, help="the Python that runs the kernel (default: %(default)s)")
    ap.add_argument("--name", default="imbill",
                    help="the kernel's name: letters, digits, -, . and _ (default: %(default)s)")
    a = ap.parse_args(argv)
    try:
        return install(a)
    except Refused as e:
        print("%s: %s" % (PROG, e), file=sys.stderr)
        return 2
    except OSError as e:  # a directory that cannot be written: the reason, not a traceback
        print("%s: %s" % (PROG, e), file=sys.stderr)
        return 1


def install(a):
    name = check_name(a.name)
    python = check_python(a.python)
    top = os.path.abspath(a.top)
    if not os.path.isfile(os.path.join(top, "lua", "imbill", "report", "kernel.lua")):
        raise Refused("--top: not an imbill checkout (no lua/imbill/report/kernel.lua), got %r" % top)
    ks = spec(top, python)
    if a.dir:
        dest = os.path.join(a.dir, name)
        os.makedirs(dest, exist_ok=True)
        with open(os.path.join(dest, "kernel.json"), "w", encoding="utf-8") as f:
            json.dump(ks, f, indent=2)
        print(dest)
        return 0
    from jupyter_client.kernelspec import KernelSpecManager
    tmp = tempfile.mkdtemp(prefix="imbill-kernelspec-")
    try:
        with open(os.path.join(tmp, "kernel.json"), "w", encoding="utf-8") as f:
            json.dump(ks, f, indent=2)
        prefix = sys.prefix if a.sys_prefix else a.prefix
        dest = KernelSpecManager().install_kernel_spec(tmp, kernel_name=name, user=prefix is None,
                                                       prefix=prefix)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
