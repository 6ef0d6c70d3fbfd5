--- Reads the geometry of an SVG written by imbill.report.chart, for specs:
-- every text's box (from x, y, font-size, text-anchor and a rotate()
-- transform; a character is taken as 0.6 of the font size, and a text runs
-- from 0.8 of the font size above its baseline to 0.2 below), every marker's
-- box (circles and rectangles), every line's segments (lines and paths), and
-- the colour each edition is drawn in.
local G = {}

local UNESC = { lt = "<", gt = ">", quot = '"', apos = "'", amp = "&" }
local function unescape(s)
  return (s:gsub("&(#?%w+);", function(e)
    if e:sub(1, 1) == "#" then return string.char(tonumber(e:sub(2))) end
    return UNESC[e]
  end))
end

local function chars(s)
  local n = 0
  for i = 1, #s do
    local b = s:byte(i)
    if b < 0x80 or b >= 0xC0 then n = n + 1 end
  end
  return n
end

--- The elements of an SVG text: { tag, a = attributes, text = content, parent }.
function G.parse(text)
  local els, stack, pos = {}, {}, 1
  local root
  while true do
    local s, e, close, tag, rest, selfclose = text:find("<(/?)([%w:%?!%-]+)([^>]-)(/?)>", pos)
    if not s then break end
    if #stack > 0 and s > pos then
      local top = stack[#stack]
      top.text = (top.text or "") .. text:sub(pos, s - 1)
    end
    local c = tag:sub(1, 1)
    if c == "?" or c == "!" then -- luacheck: ignore 542
    elseif close == "/" then
      table.remove(stack)
    else
      local a = {}
      for k, v in rest:gmatch('([%w:%-]+)="([^"]*)"') do a[k] = unescape(v) end
      local el = { tag = tag, a = a, parent = stack[#stack] }
      if tag == "svg" and not root then root = el end
      els[#els + 1] = el
      if selfclose ~= "/" then stack[#stack + 1] = el end
    end
    pos = e + 1
  end
  for _, el in ipairs(els) do if el.text then el.text = unescape(el.text) end end
  return { els = els, width = tonumber(root.a.width), height = tonumber(root.a.height),
           font_size = tonumber(root.a["font-size"]) or 16 }
end

local function n(v) return tonumber(v) or 0 end

local function text_box(el, default_fs)
  local a = el.a
  local fs = tonumber(a["font-size"]) or default_fs
  local x, y = n(a.x), n(a.y)
  local w = chars(el.text or "") * fs * 0.6
  local x0 = x
  if a["text-anchor"] == "middle" then x0 = x - w / 2 elseif a["text-anchor"] == "end" then x0 = x - w end
  local b = { x0, y - 0.8 * fs, x0 + w, y + 0.2 * fs }
  local deg, cx, cy = (a.transform or ""):match("rotate%((%-?[%d%.]+)%s+(%-?[%d%.]+)%s+(%-?[%d%.]+)%)")
  if deg then
    local r = math.rad(tonumber(deg))
    cx, cy = tonumber(cx), tonumber(cy)
    local c, s = math.cos(r), math.sin(r)
    local xs, ys = {}, {}
    for _, p in ipairs { { b[1], b[2] }, { b[3], b[2] }, { b[1], b[4] }, { b[3], b[4] } } do
      local dx, dy = p[1] - cx, p[2] - cy
      xs[#xs + 1] = cx + dx * c - dy * s
      ys[#ys + 1] = cy + dx * s + dy * c
    end
    b = { math.min(xs[1], xs[2], xs[3], xs[4]), math.min(ys[1], ys[2], ys[3], ys[4]),
          math.max(xs[1], xs[2], xs[3], xs[4]), math.max(ys[1], ys[2], ys[3], ys[4]) }
  end
  return b, fs
end

local function path_segments(d)
  local segs, prev = {}, nil
  for cmd, x, y in d:gmatch("([ML])(%-?[%d%.]+) (%-?[%d%.]+)") do
    local p = { tonumber(x), tonumber(y) }
    if cmd == "L" and prev then segs[#segs + 1] = { prev[1], prev[2], p[1], p[2] } end
    prev = p
  end
  return segs
end

--- labels (texts), markers (circles, rectangles but the background) and
-- lines (lines but the grid, and paths), each with a description.
function G.geometry(svgtext)
  local doc = G.parse(svgtext)
  local g = { width = doc.width, height = doc.height, labels = {}, markers = {}, lines = {}, doc = doc }
  for _, el in ipairs(doc.els) do
    local a, cls = el.a, el.a.class or ""
    if el.tag == "text" then
      local b, fs = text_box(el, doc.font_size)
      g.labels[#g.labels + 1] = { box = b, text = el.text or "", fs = fs, class = cls }
    elseif el.tag == "circle" then
      local cx, cy, r = n(a.cx), n(a.cy), n(a.r)
      g.markers[#g.markers + 1] = { box = { cx - r, cy - r, cx + r, cy + r }, class = cls, what = "circle" }
    elseif el.tag == "rect" and cls ~= "bg" and not (n(a.x) == 0 and n(a.y) == 0 and n(a.width) == doc.width
      and n(a.height) == doc.height) then
      local x, y = n(a.x), n(a.y)
      g.markers[#g.markers + 1] = { box = { x, y, x + n(a.width), y + n(a.height) }, class = cls, what = "rect" }
    elseif el.tag == "line" and cls ~= "grid" then
      g.lines[#g.lines + 1] = { seg = { n(a.x1), n(a.y1), n(a.x2), n(a.y2) }, class = cls }
    elseif el.tag == "path" then
      for _, s in ipairs(path_segments(a.d or "")) do g.lines[#g.lines + 1] = { seg = s, class = cls } end
    end
  end
  return g
end

local function overlap(a, b)
  return a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]
end

local function seg_hits(b, x1, y1, x2, y2)
  local dx, dy = x2 - x1, y2 - y1
  local t0, t1 = 0, 1
  for _, pq in ipairs { { -dx, x1 - b[1] }, { dx, b[3] - x1 }, { -dy, y1 - b[2] }, { dy, b[4] - y1 } } do
    local p, q = pq[1], pq[2]
    if p == 0 then
      if q < 0 then return false end
    else
      local r = q / p
      if p < 0 then
        if r > t1 then return false end
        if r > t0 then t0 = r end
      else
        if r < t0 then return false end
        if r < t1 then t1 = r end
      end
    end
  end
  return t0 < t1
end

local function fmtbox(b) return string.format("[%.1f %.1f %.1f %.1f]", b[1], b[2], b[3], b[4]) end

--- Every problem found, as readable lines: labels over labels, over markers,
-- over lines, and anything outside the canvas.
function G.problems(svgtext)
  local g = G.geometry(svgtext)
  local out = {}
  local L = g.labels
  for i = 1, #L do
    for j = i + 1, #L do
      if overlap(L[i].box, L[j].box) then
        out[#out + 1] = string.format("label %q %s overlaps label %q %s", L[i].text, fmtbox(L[i].box), L[j].text,
          fmtbox(L[j].box))
      end
    end
    for _, m in ipairs(g.markers) do
      if overlap(L[i].box, m.box) then
        out[#out + 1] = string.format("label %q %s overlaps %s %s %s", L[i].text, fmtbox(L[i].box), m.what, m.class,
          fmtbox(m.box))
      end
    end
    for _, l in ipairs(g.lines) do
      local s = l.seg
      if seg_hits(L[i].box, s[1], s[2], s[3], s[4]) then
        out[#out + 1] = string.format("label %q %s is crossed by a line (%s) %.1f,%.1f-%.1f,%.1f", L[i].text,
          fmtbox(L[i].box), l.class, s[1], s[2], s[3], s[4])
      end
    end
  end
  local canvas = { 0, 0, g.width, g.height }
  local function inside(b) return b[1] >= canvas[1] and b[2] >= canvas[2] and b[3] <= canvas[3] and b[4] <= canvas[4] end
  for _, l in ipairs(L) do
    if not inside(l.box) then out[#out + 1] = string.format("label %q %s leaves the canvas", l.text, fmtbox(l.box)) end
  end
  for _, m in ipairs(g.markers) do
    if not inside(m.box) then out[#out + 1] = string.format("%s %s %s leaves the canvas", m.what, m.class, fmtbox(m.box)) end
  end
  for _, l in ipairs(g.lines) do
    local s = l.seg
    if not inside({ math.min(s[1], s[3]), math.min(s[2], s[4]), math.max(s[1], s[3]), math.max(s[2], s[4]) }) then
      out[#out + 1] = string.format("a line (%s) leaves the canvas", l.class)
    end
  end
  return out, g
end

--- edition name -> { colour = true }: the fill of its boxes and marks and the
-- stroke of its lines.
function G.edition_colours(svgtext, into)
  into = into or {}
  for _, el in ipairs(G.parse(svgtext).els) do
    local ed = el.a["data-edition"]
    if ed then
      local c = (el.tag == "path" or el.tag == "line") and el.a.stroke or el.a.fill
      into[ed] = into[ed] or {}
      into[ed][c] = true
    end
  end
  return into
end

--- How many elements of a tag (and class, when given) there are.
function G.count(svgtext, tag, class)
  local k = 0
  for _, el in ipairs(G.parse(svgtext).els) do
    if el.tag == tag and (class == nil or el.a.class == class) then k = k + 1 end
  end
  return k
end

return G
