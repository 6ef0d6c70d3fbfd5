-- The HTML report (issue 4): one self-contained page with a projection's
-- tables and charts, rendered in headless Chromium to a PNG that is not blank,
-- with the break-even labels in the page text.
local H = require "helper"

local function build_report()
  local imbill = H.imbill
  local s = imbill.series.read_csv(H.top .. "/examples/data/usage_2021.csv")
  local proj = imbill.project { usage = s, books = { "2020", "2021" } }
  local bt = imbill.breakeven_table { editions = { "2021/pro", "2021/ultimate", "2022/standard" },
                                      follow = { mau = "3" }, to = 60000 }
  return imbill.report { projection = proj, breakeven = bt, migration = imbill.migration { usage = s },
                         title = "What-if report 2021" }
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

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("*a")
  p:close()
  return out
end

describe("the HTML report", function()
  it("is one self-contained page: inline CSS and SVG, no script, nothing fetched", function()
    local html = build_report()
    assert.matches("^<!DOCTYPE html>", html)
    assert.matches("<style>", html)
    assert.equal(3, select(2, html:gsub("<svg ", "")))
    assert.is_nil(html:find("<script", 1, true))
    -- the only URI is the SVG namespace name, which is never fetched
    assert.is_nil(html:gsub("http://www%.w3%.org/2000/svg", ""):find("://", 1, true))
    assert.is_nil(html:find(" src=", 1, true))
    assert.is_nil(html:find("<link", 1, true))
    assert.matches("cannot be undone", html)
    assert.matches("<td class=\"n\">4,467</td>", html)
  end)

  it("renders in headless Chromium to a PNG that is not blank, with the break-even labels #chromium", function()
    if sh("command -v chromium") == "" then pending("chromium is not installed") return end
    local dir = sh("mktemp -d"):gsub("%s+$", "")
    local profile = sh("mktemp -d"):gsub("%s+$", "")
    local quiet = " 2>/dev/null"
    -- the sanitizer run preloads ASan into every child; Chromium must not inherit it
    local page = dir .. "/report.html"
    local f = assert(io.open(page, "w"))
    f:write(build_report())
    f:close()
    local flags = "--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking"
      .. " --disable-component-update --disable-sync --user-data-dir=" .. profile
    local png = dir .. "/report.png"
    sh(string.format("env -u LD_PRELOAD timeout 90 chromium %s --screenshot=%s --window-size=1200,2000 file://%s",
      flags, png, page)
      .. quiet)
    local shot = io.open(png, "rb")
    assert.is_not_nil(shot, "chromium wrote no screenshot")
    local bytes = shot:read("*a")
    shot:close()
    assert.equal("\137PNG\r\n\26\n", bytes:sub(1, 8))
    -- not blank: decode the PNG and count non-white pixels (python3's zlib)
    local script = dir .. "/png_stats.py"
    local pf = assert(io.open(script, "w"))
    pf:write(PNG_STATS)
    pf:close()
    local verdict = sh("env -u LD_PRELOAD python3 " .. script .. " " .. png)
    local w, h, nonwhite, colours = verdict:match("size (%d+) (%d+) nonwhite (%d+) colours (%d+)")
    assert.is_not_nil(w, "could not decode the PNG: " .. verdict)
    assert.equal(1200, tonumber(w))
    assert.equal(2000, tonumber(h))
    assert.is_true(tonumber(nonwhite) > 20000, verdict)
    assert.is_true(tonumber(colours) >= 8, verdict)
    -- the page text as the browser sees it
    local dom = sh(string.format("env -u LD_PRELOAD timeout 90 chromium %s --dump-dom file://%s", flags, page) .. quiet)
    assert.matches("What%-if report 2021", dom)
    assert.matches("4,467 DAU</text>", dom)
    assert.matches("10,001 DAU</text>", dom)
    assert.matches("cheapest legal path", dom:lower())
    os.execute("rm -rf " .. dir .. " " .. profile)
  end)

  it("needs something to report", function()
    assert.matches("imbill.report: projection: give a projection", H.err(H.imbill.report, {}))
  end)
end)
