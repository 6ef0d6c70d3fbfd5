"""The imbill Jupyter kernel (see docs/notebooks.md).

Kept free of imports so that the installer runs without loading ipykernel.
"""
import os

__version__ = "0.1.0"


def find_top():
    """The imbill checkout: $IMBILL_TOP (the installed kernelspec sets it),
    else the checkout this package lives in (notebook/imbill_kernel/)."""
    top = os.environ.get("IMBILL_TOP")
    if top:
        return os.path.abspath(top)
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.dirname(os.path.dirname(here))
