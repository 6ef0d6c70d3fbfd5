"""An executed notebook exported to HTML by nbconvert keeps its tables and its
charts, checked in the HTML and in headless Chromium; and what nbconvert does
to each form of SVG output, which is why imbill's charts carry an <img>."""

import base64
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import helpers  # noqa: E402

import nbformat  # noqa: E402

NAME = "01_which_edition"

PROBE = """
<script>
// written by spec/notebook/test_export.py: what the page shows, as attributes
// that --dump-dom prints
window.addEventListener('load', function () {
  var r = [];
  document.querySelectorAll('img.imbill-chart-img').forEach(function (i) {
    r.push(i.complete + ':' + i.naturalWidth + 'x' + i.naturalHeight);
  });
  document.body.setAttribute('data-imbill-charts', r.join(' '));
  document.body.setAttribute('data-imbill-tables', String(document.querySelectorAll('table.imbill-table').length));
  document.body.setAttribute('data-imbill-text', document.body.innerText.indexOf('Stay on 2020/pro') >= 0 ? 'answer' : '');
});
</script>
"""


def export(ipynb, html_name, extra=()):
    rc, log = helpers.nbconvert(["--to", "html"] + list(extra) + ["--output-dir", helpers.BUILD,
                                                                 "--output", html_name, ipynb], timeout=120)
    path = os.path.join(helpers.BUILD, html_name + ".html")
    if rc != 0:
        raise AssertionError(log[-3000:])
    with open(path, encoding="utf-8") as f:
        return path, f.read()


def outputs_of(html, mime):
    """The exported output blocks of one MIME type (lab template)."""
    parts = re.split(r'(?=<div class="[^"]*jp-OutputArea-output[^"]*"[^>]*data-mime-type=")', html)
    return [p for p in parts if ('data-mime-type="%s"' % mime) in p[:400]]


class Export(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(helpers.BUILD, exist_ok=True)
        src = os.path.join(helpers.NOTEBOOKS, NAME + ".ipynb")
        cls.executed = os.path.join(helpers.BUILD, NAME + ".ipynb")
        if not os.path.exists(cls.executed) or os.path.getmtime(cls.executed) < os.path.getmtime(src):
            rc, log = helpers.nbconvert(["--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=imbill",
                                         "--ExecutePreprocessor.timeout=120", "--output-dir", helpers.BUILD, src],
                                        timeout=300)
            if rc != 0:
                raise AssertionError(log[-3000:])
        cls.path, cls.html = export(cls.executed, NAME)

    def test_tables_and_charts_in_the_html(self):
        """the exported page holds the tables and the charts as <img> SVG data URIs"""
        self.assertGreaterEqual(self.html.count('<table class="imbill-table'), 5)
        self.assertIn(">8,399.44<", self.html)
        svgs = helpers.svg_from_html(self.html)
        self.assertEqual(2, len(svgs))
        for svg in svgs:
            self.assertTrue(svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"'))
            self.assertGreater(svg.count("<rect"), 10)
            self.assertIn("</text>", svg)
        # text/html is the form exported; the stripped image/svg+xml is not used
        self.assertEqual([], outputs_of(self.html, "image/svg+xml"))

    def test_chromium_renders_tables_and_charts(self):
        """headless Chromium loads the exported page: tables present, every chart decoded"""
        chromium = helpers.chromium()
        self.assertIsNotNone(chromium, "chromium is not installed")
        probe = os.path.join(helpers.BUILD, NAME + ".probe.html")
        with open(probe, "w", encoding="utf-8") as f:
            f.write(self.html.replace("</body>", PROBE + "</body>"))
        dom = helpers.run_chromium(chromium, 10000, ["file://" + probe], dom=True)
        body = re.search(r"<body[^>]*>", dom)
        self.assertIsNotNone(body, dom[:2000])
        attrs = dict(re.findall(r'(data-imbill-[a-z]+)="([^"]*)"', body.group(0)))
        self.assertGreaterEqual(int(attrs.get("data-imbill-tables", "0")), 5, attrs)
        # every chart decoded, at the size its SVG declares
        sizes = [re.search(r'width="(\d+)" height="(\d+)"', svg).groups() for svg in helpers.svg_from_html(self.html)]
        self.assertEqual(2, len(sizes))
        want = " ".join("true:%sx%s" % wh for wh in sizes)
        self.assertEqual(want, attrs.get("data-imbill-charts"), attrs)
        self.assertEqual("answer", attrs.get("data-imbill-text"), attrs)
        shot = os.path.join(helpers.BUILD, NAME + ".png")
        helpers.run_chromium(chromium, 10000,
                             ["--window-size=1200,4000", "--screenshot=" + shot, "file://" + self.path])
        self.assertGreater(os.path.getsize(shot), 50000, "the screenshot looks blank")


class WhatExportDoesToSvg(unittest.TestCase):
    """Characterises Debian's nbconvert: an image/svg+xml output goes through
    lxml's cleaner, which keeps <svg> and drops everything inside it; an
    <img> with an SVG data URI in text/html is kept as it is (unless
    sanitize_html is asked for, which empties the src)."""

    @classmethod
    def setUpClass(cls):
        os.makedirs(helpers.BUILD, exist_ok=True)
        svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100">'
               '<title>probe</title><rect x="0" y="0" width="200" height="100" fill="#1f77b4"/>'
               '<text x="10" y="50">probe label</text></svg>')
        b64 = base64.b64encode(svg.encode()).decode()
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("chart")
        cell.outputs = [
            nbformat.v4.new_output("display_data", data={"image/svg+xml": svg, "text/plain": "svg only"}),
            nbformat.v4.new_output("display_data", data={
                "image/svg+xml": svg, "text/plain": "imbill form",
                "text/html": '<div class="imbill imbill-chart"><img class="imbill-chart-img" alt="probe" '
                             'src="data:image/svg+xml;base64,' + b64 + '"/></div>'}),
            nbformat.v4.new_output("display_data", data={
                "text/plain": "table", "text/html": '<table class="imbill-table"><tr><td align="right">1,049.98</td>'
                                                    '</tr></table>'}),
        ]
        nb.cells.append(cell)
        cls.ipynb = os.path.join(helpers.BUILD, "svg_probe.ipynb")
        nbformat.write(nb, cls.ipynb)
        cls.svg, cls.b64 = svg, b64

    def test_image_svg_output_is_stripped(self):
        """an image/svg+xml output loses every element inside <svg>"""
        _, html = export(self.ipynb, "svg_probe")
        svg_out = outputs_of(html, "image/svg+xml")
        self.assertEqual(1, len(svg_out))
        self.assertIn("<svg", svg_out[0])
        self.assertNotIn("<rect", svg_out[0])
        self.assertNotIn("<text", svg_out[0])
        self.assertNotIn("viewBox", svg_out[0])

    def test_img_data_uri_survives(self):
        """the <img> form next to it is exported intact"""
        _, html = export(self.ipynb, "svg_probe")
        self.assertEqual([self.svg], helpers.svg_from_html(html))

    def test_sanitized_export(self):
        """with sanitize_html the tables stay and the SVG data URI is emptied"""
        _, html = export(self.ipynb, "svg_probe_sanitized", ["--HTMLExporter.sanitize_html=True"])
        self.assertIn("1,049.98", html)
        self.assertIn("<table", html)
        self.assertEqual([], helpers.svg_from_html(html))
        self.assertIn('<img class="imbill-chart-img" alt="probe" src="">', html)


# what a script from data would do, seen in the DOM Chromium dumps (a book's name
# holds at most 64 bytes)
XSS = "document.body.id='xssran'"

MARKDOWN_CELL = """\
bad = imbill.book { base = "2021", name = "<img src=x onerror=%(xss)s>",
                    editions = { pro = { monthly_fee = "1" } } }
display.markdown("The cheapest book is **" .. bad.name .. "**.")
local data = "[click](javascript:%(xss)s) ![i](javascript:y) <b>b</b>"
display.markdown("Named **" .. display.markdown_text(data) .. "**")
display.markdown("Code: `<kept>` and\\n\\n```\\nif a < b then\\n```\\n")
""" % {"xss": XSS}

CLICK_PROBE = """
<script>
// written by spec/notebook/test_export.py: follow every link an answer has
window.addEventListener('load', function () {
  document.querySelectorAll('.jp-RenderedMarkdown a').forEach(function (a) { a.click(); });
  document.body.setAttribute('data-imbill-links', String(document.querySelectorAll('.jp-RenderedMarkdown a').length));
});
</script>
"""


class MarkdownAnswerExport(unittest.TestCase):
    """An answer written with display.markdown from data holding markup,
    executed and exported to HTML: the markup is text in the page, and
    nothing of it runs in Chromium."""

    @classmethod
    def setUpClass(cls):
        os.makedirs(helpers.BUILD, exist_ok=True)
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "imbill", "display_name": "imbill", "language": "lua"}
        nb.cells.append(nbformat.v4.new_code_cell(MARKDOWN_CELL))
        src = os.path.join(helpers.BUILD, "markdown_probe.ipynb")
        nbformat.write(nb, src)
        rc, log = helpers.nbconvert(["--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=imbill",
                                     "--ExecutePreprocessor.timeout=60", "--output-dir", helpers.BUILD,
                                     "--output", "markdown_probe.executed", src], timeout=180)
        if rc != 0:
            raise AssertionError(log[-3000:])
        cls.path, cls.html = export(os.path.join(helpers.BUILD, "markdown_probe.executed.ipynb"), "markdown_probe")
        cls.markdown = outputs_of(cls.html, "text/markdown")

    def test_markup_from_data_is_text(self):
        """a book named <img onerror=...> is its name in the page, not an image"""
        self.assertEqual(3, len(self.markdown), self.html[-3000:])
        self.assertIn("The cheapest book is <strong>&lt;img src=x onerror=", self.markdown[0])
        for out in self.markdown:
            self.assertNotRegex(out, r"<img\b|<b>|<a\b")
        self.assertIn("[click](javascript:", self.markdown[1])
        self.assertIn("<code>&lt;kept&gt;</code>", self.markdown[2])
        self.assertIn("if a &lt; b then", self.markdown[2])

    def test_nothing_runs_in_chromium(self):
        """headless Chromium loads the page and follows its links: no script from data runs"""
        chromium = helpers.chromium()
        self.assertIsNotNone(chromium, "chromium is not installed")
        probe = os.path.join(helpers.BUILD, "markdown_probe.probe.html")
        with open(probe, "w", encoding="utf-8") as f:
            f.write(self.html.replace("</body>", CLICK_PROBE + "</body>"))
        dom = helpers.run_chromium(chromium, 5000, ["file://" + probe], dom=True)
        self.assertRegex(dom, r'<body[^>]*data-imbill-links="0"', dom[:2000])
        self.assertNotRegex(dom, r'<body[^>]*id="xssran"')
        self.assertIn("The cheapest book is", dom)


class MarkdownThroughNbconvert(unittest.TestCase):
    """display.markdown's output rendered by nbconvert's own markdown filter
    (mistune 0.8, which reads code otherwise than CommonMark): no tag from
    the text, for tricky strings and for many random ones."""

    TRICKY = [
        "<img src=x onerror=alert(1)>", "*a `b* <img>`", "_a `b_ <img>`", "[a `b](x) <img>`",
        "http://x`<img>`", "x`a `<img>`", "x`a\n`<img>`", "| a |\n|---|\n| `<img>|` |",
        "```\nx```\n<img>\n```", "```\n<img>", "``` a b\n<img>\n```", "text\n```\n<img>\n```",
        "`a\r# <img>`", "> `<img>`\n> <img>", "~~~\n<img>\n~~~~\n<img>", "<!-- x --><img>",
        "\\<img>", "&lt;img&gt;<img>", "    <img>", "- `<img>`\n- <img>",
    ]

    @classmethod
    def setUpClass(cls):
        import lupa
        from nbconvert.filters.markdown_mistune import markdown2html_mistune
        lua = lupa.LuaRuntime(encoding=None)
        lua.execute(("package.path = '%s/lua/?.lua;%s/lua/?/init.lua;' .. package.path;"
                     "package.cpath = '%s/build/jit/?.so;' .. package.cpath" % (helpers.TOP, helpers.TOP, helpers.TOP))
                    .encode())
        cls.safe = lua.eval(b"require('imbill.report.display').markdown_safe")
        cls.render = staticmethod(markdown2html_mistune)

    def tags(self, text):
        out = self.render(self.safe(text.encode()).decode())
        return out, re.findall(r"<(img|b|script|svg|!--)\b", out)

    def test_tricky(self):
        """each string that once got HTML through a renderer is text"""
        for text in self.TRICKY:
            out, tags = self.tags(text)
            self.assertEqual([], tags, (text, out))

    def test_random(self):
        """random strings of markdown's special characters and tags are text"""
        import random
        rnd = random.Random(7)
        pieces = ["`", "``", "```", "~~~", "\n", "\n\n", " ", "    ", "*", "_", "[", "]", "(", ")", "|", "\\", ">",
                  "<", "&", "<img src=x onerror=alert(1)>", "<b>", "</b>", "x", "lua", "#", "-", "!", "~~",
                  "http://a", "\t", "\r", "$", "1."]
        for _ in range(3000):
            text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 14)))
            out, tags = self.tags(text)
            self.assertEqual([], tags, (text, out))


if __name__ == "__main__":
    unittest.main()
