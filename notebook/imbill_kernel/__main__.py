"""python3 -m imbill_kernel -f CONNECTION_FILE: what the kernelspec runs."""
import os

# ipykernel imports debugpy, which warns on every start under Python 3.11's
# frozen modules; the warning means nothing for a Lua kernel.
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

from ipykernel.kernelapp import IPKernelApp  # noqa: E402

from .kernel import ImbillKernel  # noqa: E402

if __name__ == "__main__":
    IPKernelApp.launch_instance(kernel_class=ImbillKernel)
