"""Each notebook in examples/notebooks/ runs headless with the imbill kernel
(nbconvert --execute, into build/notebooks/) and shows what its question
needs: a total, an HTML table and a chart, with no error."""

import glob
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import helpers  # noqa: E402

NAMES = sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(helpers.NOTEBOOKS, "*.ipynb")))


def outputs(nb):
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            for out in cell.get("outputs", []):
                yield cell, out


class Committed(unittest.TestCase):
    def test_three_notebooks_with_cleared_outputs(self):
        """the committed notebooks use the imbill kernel and carry no outputs"""
        self.assertGreaterEqual(len(NAMES), 3, NAMES)
        for name in NAMES:
            nb = helpers.load(os.path.join(helpers.NOTEBOOKS, name + ".ipynb"))
            self.assertEqual("imbill", nb["metadata"]["kernelspec"]["name"], name)
            kinds = {c["cell_type"] for c in nb["cells"]}
            self.assertEqual({"markdown", "code"}, kinds, name)
            for cell in nb["cells"]:
                if cell["cell_type"] == "code":
                    self.assertEqual([], cell["outputs"], name)
                    self.assertIsNone(cell["execution_count"], name)


class Executed(unittest.TestCase):
    executed = {}

    @classmethod
    def setUpClass(cls):
        os.makedirs(helpers.BUILD, exist_ok=True)

    def execute(self, name):
        out = os.path.join(helpers.BUILD, name + ".ipynb")
        if os.path.exists(out):
            os.remove(out)
        rc, log = helpers.nbconvert(["--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=imbill",
                                     "--ExecutePreprocessor.timeout=120", "--output-dir", helpers.BUILD,
                                     os.path.join(helpers.NOTEBOOKS, name + ".ipynb")], timeout=300)
        self.assertEqual(0, rc, log[-3000:])
        return helpers.load(out)

    def check(self, name):
        nb = self.execute(name)
        totals, tables, charts = [], [], []
        for cell, out in outputs(nb):
            kind = out["output_type"]
            self.assertNotEqual("error", kind, "%s: %s" % (name, out.get("traceback")))
            if kind not in ("display_data", "execute_result"):
                continue
            data = {k: helpers.text(v) for k, v in out["data"].items()}
            if "text/html" in data and '<table class="imbill-table' in data["text/html"]:
                tables.append(data["text/html"])
            if "image/svg+xml" in data:
                self.assertTrue(data["image/svg+xml"].startswith("<svg"), name)
                self.assertEqual([data["image/svg+xml"]], helpers.svg_from_html(data["text/html"]), name)
                charts.append(data["image/svg+xml"])
            if re.fullmatch(r"-?\d+\.\d{2}", data.get("text/plain", "")):
                totals.append(data["text/plain"])
        self.assertTrue(tables, "%s shows no table" % name)
        self.assertTrue(charts, "%s shows no chart" % name)
        self.assertTrue(totals, "%s shows no total" % name)
        # the notebook ends with its answer: prose naming the total it shows last
        last = [out for cell, out in outputs(nb)][-2:]
        answer = helpers.text(last[0]["data"].get("text/markdown", ""))
        total = helpers.text(last[1]["data"]["text/plain"])
        units, cents = total.split(".")
        pretty = "{:,}".format(int(units)) + "." + cents
        self.assertIn(pretty, answer, "%s: the answer does not state its total %s" % (name, total))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                self.assertIsNotNone(cell["execution_count"], name)


def _make(name):
    def test(self):
        self.check(name)
    test.__doc__ = "%s runs headless and shows a total, a table and a chart" % name
    return test


for _name in NAMES:
    setattr(Executed, "test_" + _name, _make(_name))


if __name__ == "__main__":
    unittest.main()
