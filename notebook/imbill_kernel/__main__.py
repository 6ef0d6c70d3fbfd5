"""python3 -m imbill_kernel -f CONNECTION_FILE: what the kernelspec runs."""
import os

# ipykernel imports debugpy, which warns on every start under Python 3.11's
# frozen modules; the warning means nothing for a Lua kernel.
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

from ipykernel.kernelapp import IPKernelApp  # noqa: E402

from .kernel import ImbillKernel  # noqa: E402

if __name__ == "__main__":
    # The test runner (scripts/notebook-specs.sh) names a file here, so that
    # a kernel whose client was killed by a timeout is stopped by its pid.
    pidfile = os.environ.get("IMBILL_KERNEL_PIDFILE")
    if pidfile:
        with open(pidfile, "a", encoding="utf-8") as f:
            f.write("%d\n" % os.getpid())
    IPKernelApp.launch_instance(kernel_class=ImbillKernel)
