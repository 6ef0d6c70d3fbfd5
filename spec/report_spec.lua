-- The HTML report (issues 4 and 13): one self-contained page with a
-- projection's tables and charts: key figures first, each month's invoice
-- lines on demand, a CSV download per table, each warning once; rendered in
-- headless Chromium at 420 and 1,600 px wide with no horizontal overflow,
-- every table present, the charts fitted to their box and no two chart texts
-- overlapping as the browser measures them.
local H = require "helper"

local imbill = H.imbill

local function build_parts()
  local s = imbill.series.read_csv(H.top .. "/examples/data/usage_2021.csv")
  local proj = imbill.project { usage = s, books = { "2020", "2021" } }
  local bt = imbill.breakeven_table { editions = { "2021/pro", "2021/ultimate", "2022/standard" },
                                      follow = { mau = "3" }, to = 60000 }
  local mig = imbill.migration { usage = s }
  return proj, bt, mig
end

local function build_report()
  local proj, bt, mig = build_parts()
  return imbill.report { projection = proj, breakeven = bt, migration = mig, title = "What-if report 2021" }
end

local function count(s, plain)
  local n, i = 0, 1
  while true do
    local a, b = s:find(plain, i, true)
    if not a then return n end
    n, i = n + 1, b + 1
  end
end

local function unpercent(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Decodes a PNG (8-bit RGB or RGBA, as Chromium writes) and prints its size,
-- the number of pixels that are not white and of distinct colours seen.
local PNG_STATS = [==[
import sys, zlib, struct
data = open(sys.argv[1], 'rb').read()
pos, idat, w, h = 8, b'', 0, 0
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
    if kind == b'IDAT':
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
bpp = 4 if ctype == 6 else 3
stride = w * bpp
prev = bytearray(stride)
nonwhite = 0
colours = set()
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else (b if pb <= pc else c))) & 255
    for x in range(0, stride, bpp):
        px = tuple(line[x:x + 3])
        if px != (255, 255, 255):
            nonwhite += 1
            if len(colours) < 64: colours.add(px)
    prev = line
print("size %d %d nonwhite %d colours %d" % (w, h, nonwhite, len(colours)))
]==]

-- Written into the page under test only (the report itself has no script):
-- opens every <details>, then measures the page and each chart shown, and
-- writes the figures into a <pre id="measure"> that --dump-dom prints.
local MEASURE = [==[
<script>
(function () {
  var out = [], i, j, k;
  var ds = document.querySelectorAll("details");
  for (i = 0; i < ds.length; i++) ds[i].open = true;
  var de = document.documentElement;
  out.push("inner=" + window.innerWidth);
  out.push("scroll=" + de.scrollWidth);
  var tables = document.querySelectorAll("table"), ids = [], past = 0;
  for (i = 0; i < tables.length; i++) {
    ids.push(tables[i].id);
    var box = tables[i].parentNode.getBoundingClientRect();
    if (box.right > window.innerWidth + 0.5 || box.left < -0.5) past++;
  }
  out.push("tables=" + tables.length);
  out.push("ids=" + ids.join(","));
  out.push("table_boxes_past_page=" + past);
  var svgs = document.querySelectorAll("svg"), shown = 0, wider = 0, overlaps = 0, outside = 0, texts = 0;
  var widths = [], detail = [];
  for (i = 0; i < svgs.length; i++) {
    var svg = svgs[i], r = svg.getBoundingClientRect();
    if (r.width === 0) continue;
    shown++;
    widths.push(svg.viewBox.baseVal.width);
    var parent = svg.parentNode.getBoundingClientRect();
    if (r.right > parent.right + 0.5 || r.right > window.innerWidth + 0.5) wider++;
    var vb = svg.viewBox.baseVal, ts = svg.querySelectorAll("text"), boxes = [];
    for (j = 0; j < ts.length; j++) {
      if (ts[j].hasAttribute("transform")) continue;
      var b = ts[j].getBBox();
      boxes.push({ x0: b.x, y0: b.y, x1: b.x + b.width, y1: b.y + b.height, s: ts[j].textContent });
    }
    texts += boxes.length;
    for (j = 0; j < boxes.length; j++) {
      var A = boxes[j];
      if (A.x0 < -0.5 || A.y0 < -0.5 || A.x1 > vb.width + 0.5 || A.y1 > vb.height + 0.5) {
        outside++; detail.push("outside: " + A.s);
      }
      for (k = j + 1; k < boxes.length; k++) {
        var C = boxes[k];
        if (A.x0 < C.x1 - 0.5 && C.x0 < A.x1 - 0.5 && A.y0 < C.y1 - 0.5 && C.y0 < A.y1 - 0.5) {
          overlaps++; detail.push("overlap: " + A.s + " | " + C.s);
        }
      }
    }
  }
  out.push("svgs=" + shown);
  out.push("svg_widths=" + widths.join(","));
  out.push("svg_past_box=" + wider);
  out.push("texts=" + texts);
  out.push("text_overlaps=" + overlaps);
  out.push("text_outside=" + outside);
  out.push("detail=" + detail.slice(0, 8).join(" ; "));
  var pre = document.createElement("pre");
  pre.id = "measure";
  pre.textContent = "\n" + out.join("\n") + "\n";
  document.body.appendChild(pre);
})();
</script>
]==]

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("*a")
  p:close()
  return out
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function attr_escape(s)
  return (s:gsub("&", "&amp;"):gsub('"', "&quot;"))
end

-- A scratch directory under build/ with a fresh Chromium profile; removed by
-- the caller's finally().
local function scratch()
  local dir = sh("mktemp -d " .. H.top .. "/build/chromium-XXXXXX"):gsub("%s+$", "")
  return dir
end

local function flags(dir)
  return "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
    .. " --disable-component-update --disable-sync --user-data-dir=" .. dir .. "/profile"
end

-- The sanitizer run preloads ASan into every child; Chromium must not inherit it.
local function chromium(dir, args)
  return sh(string.format("env -u LD_PRELOAD timeout 90 chromium %s %s 2>/dev/null", flags(dir), args))
end

-- The page as a browser `width` pixels wide sees it: headless Chromium keeps
-- its window at least 500 px wide, so the page is shown in an iframe of that
-- width (srcdoc: the same origin, so the frame's measurement can be read).
local function measure(dir, html, width)
  local page = html:gsub("</main></body></html>", function() return "</main>" .. MEASURE .. "</body></html>" end)
  local host = '<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0}iframe{border:0;display:block}'
    .. '</style></head><body><iframe id="f" style="width:' .. width .. 'px;height:1000px" srcdoc="'
    .. attr_escape(page) .. '" onload="var m=this.contentDocument.getElementById(\'measure\');'
    .. 'var p=document.createElement(\'pre\');p.id=\'copy\';p.textContent=m?m.textContent:\'none\';'
    .. 'document.body.appendChild(p)"></iframe></body></html>'
  local path = string.format("%s/host-%d.html", dir, width)
  write(path, host)
  local dom = chromium(dir, string.format("--window-size=%d,1100 --dump-dom file://%s", width + 100, path))
  local text = dom:match('<pre id="copy">(.-)</pre>')
  assert(text, "no measurement came back from Chromium at " .. width .. " px: " .. dom:sub(1, 300))
  local m = {}
  for k, v in text:gmatch("\n([%w_]+)=([^\n]*)") do m[k] = v end
  return m
end

describe("the HTML report", function()
  it("is one self-contained page: inline CSS and SVG, no script, nothing fetched", function()
    local html = build_report()
    assert.matches("^<!DOCTYPE html>", html)
    assert.matches("<style>", html)
    -- three charts, each drawn narrow and wide
    assert.equal(3, count(html, "<figure "))
    assert.equal(6, count(html, "<svg "))
    assert.is_nil(html:find("<script", 1, true))
    -- the only URI is the SVG namespace name, which is never fetched
    assert.is_nil(html:gsub("http://www%.w3%.org/2000/svg", ""):find("://", 1, true))
    assert.is_nil(html:find(" src=", 1, true))
    assert.is_nil(html:find("<link", 1, true))
    assert.is_nil(html:find("url(", 1, true))
    -- the only data: URIs are the CSV downloads
    for uri in html:gmatch('href="(data:[^"]*)"') do assert.matches("^data:text/csv;charset=utf%-8,", uri) end
    assert.matches("cannot be undone", html)
    assert.matches("<td class=\"n\">4,467</td>", html)
  end)

  it("reads on a phone and a wide screen: a viewport, tables in their own scrolling box, charts that scale", function()
    local html = build_report()
    assert.matches('<meta name="viewport" content="width=device%-width, initial%-scale=1">', html)
    assert.matches("%.table { max%-width: 100%%; overflow%-x: auto;", html)
    assert.matches("figure svg { display: block; width: 100%%; height: auto;", html)
    assert.matches("@media %(max%-width: 640px%)", html)
    -- every table sits in its scrolling box
    assert.equal(count(html, "<table"), count(html, '<div class="table"><table'))
  end)

  it("opens with the key figures: the cheapest edition and its total, the path, break-even points, migration", function()
    local proj, bt, mig = build_parts()
    local html = imbill.report { projection = proj, breakeven = bt, migration = mig }
    local figs = html:match('<section class="figures"[^>]*>(.-)</section>')
    assert.is_not_nil(figs)
    local ch = proj:cheapest()
    assert.matches('<span class="k">Cheapest single edition</span><span class="v">' .. ch.name:gsub("%p", "%%%0")
      .. "</span>", figs)
    assert.matches(imbill.money.pretty(ch.total):gsub("%p", "%%%0") .. " USD over 12 months", figs)
    assert.matches("Cheapest legal path</span><span class=\"v\">" .. imbill.money.pretty(proj.path.total)
      :gsub("%p", "%%%0") .. " USD", figs)
    assert.matches('Break%-even points</span><span class="v">12</span><span class="d">first at 4,467 DAU', figs)
    assert.matches("Migrating to " .. mig.to:gsub("%p", "%%%0"), figs)
    -- before any table
    assert.is_true(html:find('<section class="figures"', 1, true) < html:find("<table", 1, true))
  end)

  it("shows each month's invoice lines on demand, every line of every edition", function()
    local proj = build_parts()
    local html = imbill.report { projection = proj }
    for j, month in ipairs(proj.months) do
      local block = html:match("<details><summary>" .. month:gsub("%p", "%%%0") .. "[^<]*</summary>(.-)</details>")
      assert.is_not_nil(block, "no invoice lines for " .. month)
      for _, r in ipairs(proj.rows) do
        local inv = r.months[j].invoice
        if inv then
          for _, l in ipairs(inv.lines) do
            assert.is_truthy(block:find("<td>" .. r.name .. "</td><td>" .. l.code .. '</td><td class="n">'
              .. imbill.money.pretty(l.amount) .. "</td>", 1, true), month .. " " .. r.name .. " " .. l.code)
          end
        end
      end
    end
  end)

  it("has a CSV download for every table, with exact amounts", function()
    local proj, bt, mig = build_parts()
    local html = imbill.report { projection = proj, breakeven = bt, migration = mig }
    local links = {}
    for name, uri in html:gmatch('<a class="csv" download="([^"]+)" href="([^"]+)"') do links[name] = unpercent(uri) end
    local tables = count(html, "<table")
    local n = 0
    for _ in pairs(links) do n = n + 1 end
    assert.equal(tables, n)
    local p = links["projection.csv"]:gsub("^data:text/csv;charset=utf%-8,", "")
    local first = p:match("^[^\n]*")
    assert.equal("month,2020/trial,2020/trial can serve,2020/pro,2020/pro can serve,", first:sub(1, 66))
    assert.matches("\n2021%-03,0%.00,no,299%.98,yes,", p)
    local b = links["breakeven.csv"]:gsub("^data:text/csv;charset=utf%-8,", "")
    assert.matches("^a,b,from_dau,cheaper,a_total,b_total\n", b)
    assert.matches("\n2021/pro,2021/ultimate,0,2021/pro,449%.99,899%.99\n", b)
    assert.matches("\n2021/pro,2022/standard,4467,2021/pro,449%.99,450%.02\n", b)
    local l = links["invoice-lines-2021-03.csv"]:gsub("^data:text/csv;charset=utf%-8,", "")
    assert.matches("^edition,line,amount,note\n", l)
    assert.matches("\n2020/pro,total,299%.98,\n", l)
    assert.is_truthy(links["migration.csv"])
    assert.is_truthy(links["usage.csv"])
  end)

  it("shows each warning and note once", function()
    local proj, bt, mig = build_parts()
    local html = imbill.report { projection = proj, breakeven = bt, migration = mig }
    assert.equal(1, count(html, mig.warning:gsub("'", "&#39;")))
    assert.equal(0, count(html, "WARNING:"))
    -- what-if prices: one note per price book, not one per month
    local all = imbill.project { usage = imbill.series.read_csv(H.top .. "/examples/data/usage_2021.csv") }
    local page = imbill.report { projection = all, migration = imbill.migration {
      usage = imbill.series.read_csv(H.top .. "/examples/data/usage_2021.csv") } }
    assert.equal(0, count(page, "was not yet in force in 2021-"))
    assert.equal(1, count(page, "Price book 2022 was not yet in force in 12 of these months (2021-01 .. 2021-12)"))
    -- a reason an edition cannot serve is listed once, with its months
    assert.equal(1, count(page, "2021/free cannot serve"))
  end)

  it("renders in headless Chromium to a PNG that is not blank, with the break-even labels #chromium", function()
    if sh("command -v chromium") == "" then pending("chromium is not installed") return end
    local dir = scratch()
    finally(function() os.execute("rm -rf '" .. dir .. "'") end)
    local page = dir .. "/report.html"
    write(page, build_report())
    local png = dir .. "/report.png"
    chromium(dir, string.format("--screenshot=%s --window-size=1200,2000 file://%s", png, page))
    local shot = io.open(png, "rb")
    assert.is_not_nil(shot, "chromium wrote no screenshot")
    local bytes = shot:read("*a")
    shot:close()
    assert.equal("\137PNG\r\n\26\n", bytes:sub(1, 8))
    -- not blank: decode the PNG and count non-white pixels (python3's zlib)
    local script = dir .. "/png_stats.py"
    write(script, PNG_STATS)
    local verdict = sh("env -u LD_PRELOAD python3 " .. script .. " " .. png)
    local w, h, nonwhite, colours = verdict:match("size (%d+) (%d+) nonwhite (%d+) colours (%d+)")
    assert.is_not_nil(w, "could not decode the PNG: " .. verdict)
    assert.equal(1200, tonumber(w))
    assert.equal(2000, tonumber(h))
    assert.is_true(tonumber(nonwhite) > 20000, verdict)
    assert.is_true(tonumber(colours) >= 8, verdict)
    -- the page text as the browser sees it
    local dom = chromium(dir, "--dump-dom file://" .. page)
    assert.matches("What%-if report 2021", dom)
    assert.matches("4,467 DAU</text>", dom)
    assert.matches("10,001 DAU</text>", dom)
    assert.matches("cheapest legal path", dom:lower())
  end)

  for _, width in ipairs { 420, 1600 } do
    it("at " .. width .. " px wide: no horizontal overflow, every table present, charts fitted, no chart text "
      .. "over another #chromium", function()
      if sh("command -v chromium") == "" then pending("chromium is not installed") return end
      local dir = scratch()
      finally(function() os.execute("rm -rf '" .. dir .. "'") end)
      local html = build_report()
      local m = measure(dir, html, width)
      assert.equal(width, tonumber(m.inner), "the frame is not " .. width .. " px wide")
      assert.is_true(tonumber(m.scroll) <= tonumber(m.inner),
        string.format("the page is %s px wide in a %s px window", m.scroll, m.inner))
      -- every table of the page, with its invoice lines open
      local want = {}
      for id in html:gmatch('<table id="([^"]+)"') do want[#want + 1] = id end
      assert.equal(table.concat(want, ","), m.ids)
      assert.equal(#want, tonumber(m.tables))
      assert.equal("0", m.table_boxes_past_page)
      -- one version of each chart shown: the narrow one on a phone
      assert.equal("3", m.svgs)
      local expect = width <= 640 and "400,400,400" or "960,960,960"
      assert.equal(expect, m.svg_widths)
      assert.equal("0", m.svg_past_box)
      assert.is_true(tonumber(m.texts) > 50)
      assert.equal("0", m.text_overlaps, m.detail)
      assert.equal("0", m.text_outside, m.detail)
    end)
  end

  it("needs something to report, and names what it got wrong", function()
    assert.matches("imbill.report: projection: give a projection", H.err(imbill.report, {}))
    assert.equal("imbill.report: projection: expected a projection (imbill.project), got 5",
      H.err(imbill.report, { projection = 5 }))
    assert.equal("imbill.report: title: expected a string, got 5", H.err(imbill.report, { projection = {}, title = 5 }))
    assert.equal('imbill.report: breakeven: expected a break-even table (imbill.breakeven_table), got "x"',
      H.err(imbill.report, { breakeven = "x" }))
    assert.matches("^imbill%.report: colour: unknown field", H.err(imbill.report, { colour = 1 }))
  end)
end)
