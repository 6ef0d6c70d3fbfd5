"""Runs one notebook spec module and writes its results as JSON:

    /usr/bin/python3 spec/notebook/runner.py spec/notebook/test_kernel.py OUT.json

{"successes": [{"name": ...}], "failures": [{"name": ..., "message": ...}]},
the form scripts/tally.lua counts.  A module that does not import, or a
class whose setup fails, is a failure entry too, never a silent zero."""

import importlib.util
import json
import os
import sys
import traceback
import unittest


class Collect(unittest.TestResult):
    def __init__(self, module):
        super().__init__()
        self.module = module
        self.ok, self.bad = [], []

    def name(self, test):
        doc = test.shortDescription() if hasattr(test, "shortDescription") else None
        return "%s: %s" % (self.module, doc or str(test))

    def startTest(self, test):
        super().startTest(test)
        print("  ..", self.name(test), flush=True)

    def addSuccess(self, test):
        self.ok.append({"name": self.name(test)})

    def _fail(self, test, err):
        tb = "".join(traceback.format_exception(*err))
        self.bad.append({"name": self.name(test), "message": tb[-4000:]})
        print("  FAILED", self.name(test), "\n", tb[-1500:], flush=True)

    def addFailure(self, test, err):
        self._fail(test, err)

    def addError(self, test, err):
        self._fail(test, err)

    def addSkip(self, test, reason):
        self.bad.append({"name": self.name(test), "message": "skipped: " + reason})


def main(path, out):
    module = os.path.splitext(os.path.basename(path))[0]
    result = Collect(module)
    try:
        spec = importlib.util.spec_from_file_location(module, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        suite = unittest.defaultTestLoader.loadTestsFromModule(mod)
        suite.run(result)
    except BaseException as e:  # the report is written whatever happened
        result.bad.append({"name": module + ": the module did not run", "message": repr(e)})
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"successes": result.ok, "failures": result.bad}, f, indent=1)
    return 0 if not result.bad else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
