--- Charts as SVG text, written by imbill itself: editions' cost curves with
-- break-even points marked and labelled, monthly projection bars, and the
-- cheapest-path timeline (docs/charts.md).
--
-- Every chart keeps to the same rules: an edition has one colour wherever it
-- is drawn (imbill.report.colors); no label overprints a marker, a line or
-- another label, and none leaves the canvas (imbill.report.layout places them,
-- and a chart says how many it had to leave out); each axis writes all its
-- numbers in one format; the legend sits outside the data area; every mark
-- carries a <title> with its value, shown on hover.  Pixels are ordinary Lua
-- numbers; every amount written as text comes from exact money.
--
-- `imbill.chart` is this module.  A chart is a document: `tostring(doc)` is
-- the `<svg>` element, `doc:file()` a standalone `.svg` file with its XML
-- prolog, `doc.width` and `doc.height` its size in pixels.
--
-- Every chart takes the options `width` (default 960, whole pixels from 320
-- to 4096), `height` (default 540; the path timeline: as tall as its content;
-- 200 to 4096), `title` and `subtitle` (a string, or `false` for none) and
-- `legend` (`"auto"`, `"right"`, `"bottom"`, `"none"`); an option the chart
-- does not know is an error naming it (docs/charts.md).
-- @usage local t = imbill.breakeven_table{ editions = { "2021/pro", "2022/standard" }, follow = { mau = "3" },
--                                    to = 30000 }
-- local doc = imbill.chart.cost_curves(t, { width = 640, height = 360, title = "2021 pro or 2022 standard?" })
-- io.open("curves.svg", "w"):write(doc:file())
local svg = require "imbill.report.svg"
local colors = require "imbill.report.colors"
local layout = require "imbill.report.layout"
local check = require "imbill.internal.check"
local errors = require "imbill.internal.errors"
local methods = require "imbill.internal.methods"
local money = require "imbill.internal.money"
local fmt = require "imbill.internal.fmt"

local unpack = table.unpack or unpack -- luacheck: ignore 143

local M = {}

--- The default canvas: `WIDTH` 960 and `HEIGHT` 540 pixels (`PATH_HEIGHT`
-- 260, the path timeline's least height).
-- @field WIDTH
M.WIDTH, M.HEIGHT, M.PATH_HEIGHT = 960, 540, 260
M.MIN_WIDTH, M.MAX_WIDTH, M.MIN_HEIGHT, M.MAX_HEIGHT = 320, 4096, 200, 4096
--- How many break-even points `cost_curves` labels by default (every one keeps its marker).
M.MAX_LABELS = 14

local PAD = 12          -- clear space at every edge of the canvas
local FLOOR = 6         -- zero sits this far above the x axis, so a line at zero stays visible
local MIN_PLOT = 120    -- the canvas grows rather than squeeze the data area below this
local ROW = 18          -- a legend row
local NOTE_LINES = 2    -- a footnote's most lines

local UNIT = { dau = "peak DAU (users a day, the month's highest day)", mau = "MAU (monthly active users)",
               groups = "peak groups (existing groups)" }
local SHORT = { dau = "DAU", mau = "MAU", groups = "groups" }

local function dollars(m) return m:cents() / 100 end
local function plural(n, one, many) return n == 1 and one or (many or one .. "s") end

-- Options -------------------------------------------------------------------------

local LEGEND = { auto = true, right = true, bottom = true, none = true }

local function pixels(FN, field, v, lo, hi)
  if type(v) ~= "number" or v ~= v or v ~= math.floor(v) or v < lo or v > hi then
    check.fail(FN, field, string.format("expected a whole number of pixels from %d to %d", lo, hi), v)
  end
  return v
end

--- The options every chart takes, checked: unknown names, wrong types and
-- values out of bounds are errors naming the option and the value.
local function options(FN, opts, extra, height)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then check.fail(FN, "opts", "expected a table of options", opts) end
  local allowed = { width = true, height = true, title = true, subtitle = true, legend = true }
  for k in pairs(extra) do allowed[k] = true end
  opts = check.fields(FN, opts, allowed)
  local o = {}
  o.width = pixels(FN, "width", opts.width == nil and M.WIDTH or opts.width, M.MIN_WIDTH, M.MAX_WIDTH)
  o.height = pixels(FN, "height", opts.height == nil and height or opts.height, M.MIN_HEIGHT, M.MAX_HEIGHT)
  for _, k in ipairs { "title", "subtitle" } do
    local v = opts[k]
    if v ~= nil and v ~= false and type(v) ~= "string" then
      check.fail(FN, k, "expected a string (or false for none)", v)
    end
    o[k] = v
  end
  o.legend = opts.legend == nil and "auto" or opts.legend
  if not LEGEND[o.legend] then check.fail(FN, "legend", "expected auto, right, bottom or none", opts.legend) end
  if extra.max_labels then
    local v = opts.max_labels == nil and M.MAX_LABELS or opts.max_labels
    if type(v) ~= "number" or v ~= math.floor(v) or v < 0 or v > 1000 then
      check.fail(FN, "max_labels", "expected a whole number from 0 to 1000", v)
    end
    o.max_labels = v
  end
  if extra.all then
    if opts.all ~= nil and type(opts.all) ~= "boolean" then check.fail(FN, "all", "expected true or false", opts.all) end
    o.all = opts.all == true
  end
  return o
end

-- Pieces every chart draws --------------------------------------------------------

local function text(doc, x, y, s, fs, a)
  a = a or {}
  a.font_size = fs
  return doc:text(x, y, s, a)
end

-- Title and subtitle, wrapped to the canvas; returns the y below them.
local function header(doc, title, subtitle)
  local W, y = doc.width, PAD
  if title and title ~= "" then
    for _, line in ipairs(layout.wrap(title, 18, W - 2 * PAD, 2, true)) do
      text(doc, PAD, y + 0.9 * 18, line, 18, { font_weight = "bold", fill = colors.INK, class = "title" })
      y = y + 18 * 1.25
    end
  end
  if subtitle and subtitle ~= "" then
    for _, line in ipairs(layout.wrap(subtitle, 12, W - 2 * PAD, 2)) do
      text(doc, PAD, y + 0.9 * 12, line, 12, { fill = colors.INK2, class = "subtitle" })
      y = y + 12 * 1.3
    end
  end
  return y
end

-- A legend item's swatch: a line, a box, a circle or a square marker.
local function swatch(doc, x, y, it)
  local a = { data_edition = it.edition, class = "swatch" }
  if it.kind == "line" then
    a.stroke, a.stroke_width, a.stroke_dasharray = it.color, 3, it.dash
    doc:line(x, y, x + 20, y, a)
  elseif it.kind == "circle" then
    a.fill, a.stroke, a.stroke_width = it.color, it.stroke, it.stroke and 1.6 or nil
    doc:circle(x + 10, y, 4.5, a)
  elseif it.kind == "square" then
    a.fill, a.stroke, a.stroke_width = it.color, "#000000", 1.2
    doc:rect(x + 6, y - 4, 8, 8, a)
  else
    a.fill, a.fill_opacity, a.stroke, a.stroke_dasharray = it.color, it.opacity, it.stroke or it.dash and "#000000",
      it.dash
    doc:rect(x, y - 5, 20, 10, a)
  end
end

-- Where the legend goes and how much room it takes: "right" (a column beside
-- the data area) or "bottom" (rows under the x axis), never over the data.
local function plan_legend(W, H, top, items, mode)
  if mode == "none" or #items == 0 then return { mode = "none", h = 0, w = 0 } end
  local widest = 0
  for _, it in ipairs(items) do widest = math.max(widest, 26 + layout.width(it.label, 12)) end
  local colw = math.min(widest, math.floor(0.3 * W))
  local fits_right = W >= 640 and #items * ROW + 8 <= H - top - PAD - 40
  if mode == "right" and not fits_right and #items * ROW + 8 > H - top - PAD - 40 then mode = "bottom" end
  if mode == "auto" then mode = (fits_right and widest <= 0.3 * W) and "right" or "bottom" end
  if mode == "right" then
    local lines = {}
    for i, it in ipairs(items) do lines[i] = { it = it, label = (layout.fit_middle(it.label, 12, colw - 26)) } end
    return { mode = "right", w = colw, h = #items * ROW, lines = lines }
  end
  local rows, row, x = {}, {}, 0
  local maxw = W - 2 * PAD
  for _, it in ipairs(items) do
    local label = layout.fit_middle(it.label, 12, maxw - 26)
    local w = 26 + layout.width(label, 12)
    if #row > 0 and x + w > maxw then rows[#rows + 1] = row row, x = {}, 0 end
    row[#row + 1] = { it = it, label = label, x = x }
    x = x + w + 18
  end
  if #row > 0 then rows[#rows + 1] = row end
  return { mode = "bottom", rows = rows, h = #rows * ROW }
end

local function draw_legend_line(doc, x, y, entry)
  swatch(doc, x, y - 4, entry.it)
  text(doc, x + 26, y, entry.label, 12, { fill = colors.INK, class = "legend" })
end

local function footnote_lines(W, note)
  return layout.wrap(note, 11, W - 2 * PAD, NOTE_LINES)
end

local function draw_footnote(doc, lines)
  local y = doc.height - PAD - #lines * 11 * 1.3
  for _, line in ipairs(lines) do
    text(doc, PAD, y + 0.9 * 11, line, 11, { fill = colors.INK2, class = "note" })
    y = y + 11 * 1.3
  end
end

--- A frame: the header, a y axis of dollars, an x axis of counts (kind
-- "count", from lo to hi) or of named bands (kind "bands", one per label),
-- the legend outside the data area, and a footnote.  The canvas grows taller
-- when the legend and the axes would leave the data area too little room.
local function frame(doc, o)
  local W = doc.width
  doc:rect(0, 0, W, doc.height, { fill = "#ffffff", class = "bg" })
  local top = header(doc, o.title, o.subtitle) + (o.headroom or 10)
  local leg = plan_legend(W, doc.height, top, o.legend or {}, o.legend_mode)
  -- room for a footnote, written once the labels are placed (draw_footnote)
  local note = {}
  for i = 1, o.note_lines or 0 do note[i] = true end
  -- the bottom stack, from the axis down: tick labels, axis label, legend rows, footnote
  local below = 6 + 12 * 1.2 + 6 + 13 * 1.3 + (leg.mode == "bottom" and (leg.h + 8) or 0) + #note * 11 * 1.3
  local B = doc.height - PAD - below
  if B - top < MIN_PLOT - 0.5 then
    doc.height = doc.height + math.ceil(MIN_PLOT - (B - top))
    doc.parts = {}
    return frame(doc, o)
  end
  -- y axis: ticks for the room there is, one format for all of them
  local ph = B - top
  local n = math.max(2, math.min(10, math.floor(ph / 45)))
  local yt, ystep = svg.ticks(o.y0, o.y1, n)
  if yt[#yt] < o.y1 then yt[#yt + 1] = yt[#yt] + ystep end
  local y1 = yt[#yt]
  local ylabels = svg.axis_labels(yt, ystep, "money")
  local yw = 0
  for _, s in ipairs(ylabels) do yw = math.max(yw, layout.width(s, 12)) end
  local L = PAD + 13 * 1.15 + 6 + yw + 8
  local Rmax = W - PAD
  if leg.mode == "right" then Rmax = W - PAD - leg.w - 16 end
  local f = { L = L, T = top, B = B, y0 = o.y0, y1 = y1 }
  local floor = o.floor or FLOOR
  function f.y(v) return B - floor - (v - f.y0) / (f.y1 - f.y0) * (B - floor - top) end
  -- x axis
  local xt, xlabels = {}, {}
  local R
  if o.x.kind == "count" then
    local lo, hi = o.x.lo, o.x.hi
    -- one value: the axis is one unit wide around it, its only tick
    if hi <= lo then lo, hi = lo - 0.5, lo + 0.5 end
    f.x0, f.x1 = lo, hi
    local k = math.max(1, math.floor((Rmax - L) / 70))
    while true do
      local step
      xt, step = svg.ticks(lo, hi, k, true)
      xlabels = svg.axis_labels(xt, step, "count")
      local last = layout.width(xlabels[#xlabels], 12) / 2
      R = Rmax - math.max(0, last - (hi - xt[#xt]) / (hi - lo) * (Rmax - L))
      local ok = true
      for i = 2, #xt do
        local dx = (xt[i] - xt[i - 1]) / (hi - lo) * (R - L)
        if dx < (layout.width(xlabels[i - 1], 12) + layout.width(xlabels[i], 12)) / 2 + 10 then ok = false break end
      end
      if ok or k == 1 then break end
      k = k - 1
    end
    function f.x(v) return L + (v - f.x0) / (f.x1 - f.x0) * (R - L) end
  else
    local nb = #o.x.labels
    local widest = 0
    for _, s in ipairs(o.x.labels) do widest = math.max(widest, layout.width(s, 11)) end
    R = Rmax - math.max(0, widest / 2 - 4)
    f.band = (R - L) / math.max(1, nb)
    -- every k-th band labelled, k chosen so that neighbours never touch
    local every = 1
    for _, k in ipairs { 1, 2, 3, 4, 6, 12, 24, 60, 120, 240, 600, 1200 } do
      every = k
      if k * f.band >= widest + 10 then break end
    end
    f.every = every
    function f.x(v) return L + v * f.band end
  end
  f.R = R
  -- grid and y ticks
  for i, v in ipairs(yt) do
    local y = f.y(v)
    if y >= top - 0.5 then
      doc:line(L, y, R, y, { stroke = colors.GRID, stroke_width = 1, class = "grid" })
      text(doc, L - 8, y + 4, ylabels[i], 12, { text_anchor = "end", fill = colors.INK, class = "tick-label" })
    end
  end
  local ly = B + 6 + 0.9 * 12 + 2
  if o.x.kind == "count" then
    for i, v in ipairs(xt) do
      local x = f.x(v)
      doc:line(x, B, x, B + 5, { stroke = colors.AXIS, class = "tick" })
      text(doc, x, ly, xlabels[i], 12, { text_anchor = "middle", fill = colors.INK, class = "tick-label" })
    end
  else
    for j, s in ipairs(o.x.labels) do
      if (j - 1) % f.every == 0 then
        local x = f.x(j - 0.5)
        doc:line(x, B, x, B + 5, { stroke = colors.AXIS, class = "tick" })
        text(doc, x, ly, s, 11, { text_anchor = "middle", fill = colors.INK, class = "tick-label" })
      end
    end
  end
  doc:line(L, B, R, B, { stroke = colors.AXIS, stroke_width = 1, class = "axis" })
  doc:line(L, top, L, B, { stroke = colors.AXIS, stroke_width = 1, class = "axis" })
  local xl = B + 6 + 12 * 1.2 + 6 + 0.9 * 13
  if o.xlabel then
    text(doc, (L + R) / 2, xl, (layout.fit(o.xlabel, 13, R - L)), 13,
      { text_anchor = "middle", fill = colors.INK, class = "axis-label" })
  end
  local yl = layout.fit(o.ylabel or "USD per month", 13, ph)
  local cx, cy = PAD + 0.9 * 13, top + ph / 2
  text(doc, cx, cy, yl, 13, { text_anchor = "middle", fill = colors.INK, class = "axis-label",
    transform = string.format("rotate(-90 %s %s)", svg.num(cx), svg.num(cy)) })
  -- legend
  if leg.mode == "right" then
    local x = W - PAD - leg.w
    for i, entry in ipairs(leg.lines) do draw_legend_line(doc, x, top + 8 + (i - 1) * ROW + 4, entry) end
  elseif leg.mode == "bottom" then
    local y0 = xl + 0.25 * 13 + 8
    for r, row in ipairs(leg.rows) do
      for _, entry in ipairs(row) do draw_legend_line(doc, PAD + entry.x, y0 + (r - 1) * ROW + 0.9 * 12, entry) end
    end
  end
  -- labels inside the data area stay clear of the axes
  f.bounds = { L + 2, top, R, B - 2 }
  return f
end

-- Renders a chart twice when the first pass had to leave labels out: the
-- second keeps two lines at the bottom for the footnote that says how many.
local function with_note(build)
  local doc, left = build(0)
  if left then doc = build(NOTE_LINES) end
  return doc
end

-- Cost curves ---------------------------------------------------------------------

-- Where a capped edition's line ends: curve.ends_at, or curve.cap (a number or
-- { at =, label = }), the last value of the axis the edition can serve.
local function curve_end(c)
  local e = c.ends_at
  local label
  if e == nil then e = c.cap end
  if type(e) == "table" then e, label = e.at or e.ends_at, e.label or e.note end
  if type(e) ~= "number" then return nil end
  return e, label
end

-- The cost at x on a curve: its own function when it has one (imbill.cost_curve),
-- else the last point at or before x.
local function cost_at(c, x)
  if c.cost then return c.cost(x) end
  local v = c.points[1].total
  for _, p in ipairs(c.points) do if p.at <= x then v = p.total end end
  return v
end

-- Many more points than pixels: keep, per pixel column, where the line comes
-- in and goes out and its extremes, which draws the same picture.
local function thin(pts)
  local out, col = {}, nil
  local function flush()
    if not col then return end
    out[#out + 1] = col.first
    if col.lo ~= col.first and col.lo ~= col.last then out[#out + 1] = col.lo end
    if col.hi ~= col.first and col.hi ~= col.last and col.hi ~= col.lo then out[#out + 1] = col.hi end
    if col.last ~= col.first then out[#out + 1] = col.last end
  end
  for _, p in ipairs(pts) do
    local k = math.floor(p[1])
    if not col or col.k ~= k then
      flush()
      col = { k = k, first = p, last = p, lo = p, hi = p }
    else
      col.last = p
      if p[2] < col.lo[2] then col.lo = p end
      if p[2] > col.hi[2] then col.hi = p end
    end
  end
  flush()
  return out
end

-- Results are recognised by the class that made them, not by their shape: a
-- table that only looks like one would fail deep inside the drawing.
local function is_table_of_curves(t)
  return methods.is(require("imbill.whatif.curve").BreakevenTable, t)
end

--- Each edition's cost curve, with the break-even points marked.
--
-- `cost_curves(t, opts)`: `t` is `imbill.breakeven_table{...}` (or its parameters),
-- or one edition's `imbill.cost_curve{...}`.
-- Each edition's exact cost curve against the metric; every break-even point
-- is marked and, where there is room, labelled with its value and the two
-- totals; a free edition's line ends at its cap, marked.
-- @tparam BreakevenTable|CostCurve|table t the table, a curve, or the table's parameters
-- @tab[opt] opts `width`, `height`, `title`, `subtitle`, `legend` (above), and
-- `max_labels` (default 14, 0 to 1000): how many points get a text label
-- @treturn table the SVG document
-- @raise `imbill.chart.cost_curves: t: expected a break-even table ...`, `t: the break-even table has no`
-- `curves (curves = false)`, an option out of bounds
-- (`width: expected a whole number of pixels from 320 to 4096, got 100`), or the table's errors when given its parameters
function M.cost_curves(t, opts)
  local FN = "imbill.chart.cost_curves"
  if type(t) ~= "table" then
    check.fail(FN, "t", "expected a break-even table (imbill.breakeven_table) or its parameters", t)
  end
  local curve = require "imbill.whatif.curve"
  if methods.is(curve.CostCurve, t) then
    -- one edition's curve: a table of one curve and no break-even pairs
    t = { metric = t.metric, from = t.from, to = t.to, editions = { t.edition }, pairs = {}, curves = { t } }
  elseif not is_table_of_curves(t) then
    t = errors.call(FN, nil, require("imbill.whatif.project").breakeven_table, t)
  end
  if #t.curves == 0 then check.fail(FN, "t", "the break-even table has no curves (curves = false)", check.NOVALUE) end
  local o = options(FN, opts, { max_labels = true }, M.HEIGHT)
  local short = SHORT[t.metric] or tostring(t.metric)
  local lo, hi = t.from, t.to

  -- each curve's drawn extent and the highest amount drawn
  local curves, ymax = {}, 0
  for _, c in ipairs(t.curves) do
    local stop, stop_label = curve_end(c)
    local last = hi
    if stop and stop < hi then last = stop end
    local cv = { c = c, name = c.edition, col = colors.edition(c.edition), last = last, drawn = last >= lo,
                 capped = stop ~= nil and stop < hi, stop = stop, stop_label = stop_label }
    if cv.drawn then
      for _, p in ipairs(c.points) do if p.at <= last then ymax = math.max(ymax, dollars(p.total)) end end
      ymax = math.max(ymax, dollars(cost_at(c, last)))
    end
    curves[#curves + 1] = cv
  end

  -- break-even marks, one per place: pairs crossing at the same point share it
  local marks, by_key = {}, {}
  for _, pr in ipairs(t.pairs) do
    for _, c in ipairs(pr.crossings) do
      local y = math.max(dollars(c.a_total), dollars(c.b_total))
      local key = tostring(c.at) .. ":" .. tostring(y)
      local mk = by_key[key]
      if not mk then
        mk = { at = c.at, v = y, list = {} }
        by_key[key] = mk
        marks[#marks + 1] = mk
      end
      mk.list[#mk.list + 1] = { pair = pr, c = c }
    end
  end
  table.sort(marks, function(a, b) return a.at < b.at or (a.at == b.at and a.v < b.v) end)

  local function build(note_lines)
    local doc = svg.new(o.width, o.height, "imbill cost curves")
    local items = {}
    for _, cv in ipairs(curves) do
      items[#items + 1] = { label = cv.name, color = cv.col.color, dash = cv.col.dash, kind = "line", edition = cv.name }
    end
    if #marks > 0 then items[#items + 1] = { label = "break-even point", color = "#ffffff", stroke = "#000000",
                                             kind = "circle" } end
    local any_cap = false
    for _, cv in ipairs(curves) do if cv.capped then any_cap = true end end
    if any_cap then items[#items + 1] = { label = "end of a free edition (its cap)", color = "#ffffff",
                                          kind = "square" } end
    local subtitle = o.subtitle
    if subtitle == nil then
      subtitle = table.concat(t.editions or {}, ", ") .. (t.follow and t.follow.mau
        and ("; MAU = " .. tostring(t.follow.mau) .. " x DAU") or "") .. "; break-even points marked"
    end
    local top = ymax * 1.06
    if top <= 0 then top = 100 end
    local f = frame(doc, {
      title = o.title == nil and ("Monthly cost by " .. short) or o.title, subtitle = subtitle,
      legend = items, legend_mode = o.legend, note_lines = note_lines,
      x = { kind = "count", lo = lo, hi = hi }, y0 = 0, y1 = top, xlabel = UNIT[t.metric] or tostring(t.metric),
    })
    local placer = layout.placer(f.bounds)
    -- the lines
    local ends = {}
    for _, cv in ipairs(curves) do
      if cv.drawn then
        local c = cv.c
        local pts = {}
        local shown = {}
        for _, p in ipairs(c.points) do if p.at <= cv.last then shown[#shown + 1] = p end end
        for k, p in ipairs(shown) do
          local x, y = f.x(p.at), f.y(dollars(p.total))
          pts[#pts + 1] = { x, y }
          local nxt = shown[k + 1]
          local nat = nxt and nxt.at or cv.last
          if nat > p.at then
            local nx = f.x(nat)
            if p.kind == "linear" then
              -- the line rises to the value just before the next point
              pts[#pts + 1] = { nx, f.y(dollars(cost_at(c, nxt and nat - 1 or nat))) }
            else
              pts[#pts + 1] = { nx, y }
            end
          end
        end
        if #pts > 4 * (f.R - f.L) then pts = thin(pts) end
        local v0, v1 = cost_at(c, lo), cost_at(c, cv.last)
        local hover = string.format("%s: %s USD at %s %s, %s USD at %s %s", cv.name, money.pretty(v0), fmt.int(lo),
          short, money.pretty(v1), fmt.int(cv.last), short)
        if cv.capped then hover = hover .. string.format("; cannot serve past %s %s (its cap)", fmt.int(cv.stop), short) end
        if #pts == 1 then
          doc:circle(pts[1][1], pts[1][2], 3, { fill = cv.col.color, class = "curve-point", data_edition = cv.name,
                                               title = hover })
          placer:take(layout.grow({ pts[1][1], pts[1][2], pts[1][1], pts[1][2] }, 4))
        else
          doc:polyline(pts, { stroke = cv.col.color, stroke_width = 2.2, stroke_linejoin = "round",
                              stroke_dasharray = cv.col.dash, class = "curve", data_edition = cv.name, title = hover })
          placer:polyline(pts)
        end
        if cv.capped then
          ends[#ends + 1] = { cv = cv, x = f.x(cv.last), y = f.y(dollars(v1)), value = v1 }
        end
      end
    end
    -- the marks, drawn over the lines; each reserves its room first
    for _, mk in ipairs(marks) do
      mk.x, mk.y = f.x(mk.at), f.y(mk.v)
      placer:take({ mk.x - 6, mk.y - 6, mk.x + 6, mk.y + 6 })
    end
    for _, e in ipairs(ends) do
      placer:take({ e.x - 6, e.y - 6, e.x + 6, e.y + 6 })
    end
    for _, mk in ipairs(marks) do
      local parts = {}
      for _, it in ipairs(mk.list) do
        parts[#parts + 1] = string.format("%s %s USD / %s %s USD (from there %s)", it.pair.a,
          money.pretty(it.c.a_total), it.pair.b, money.pretty(it.c.b_total), it.c.cheaper == "equal" and "equal"
          or (it.c.cheaper .. " is cheaper"))
      end
      doc:circle(mk.x, mk.y, 4.5, { fill = "#ffffff", stroke = "#000000", stroke_width = 1.6, class = "breakeven",
        title = string.format("break-even at %s %s: %s", fmt.int(mk.at), short, table.concat(parts, "; ")) })
    end
    for _, e in ipairs(ends) do
      doc:rect(e.x - 4, e.y - 4, 8, 8, { fill = e.cv.col.color, stroke = "#000000", stroke_width = 1.2, class = "cap",
        data_edition = e.cv.name, title = string.format("%s: free up to %s %s (its cap); %s USD there", e.cv.name,
          fmt.int(e.cv.stop), short, money.pretty(e.value)) })
    end
    -- labels: break-even points first (in order along the axis), then cap ends
    local budget = o.max_labels
    local wanted = 0
    local function candidates(x, y, lines)
      -- lines: { { s, fs, bold }, ... }; positions around the point, then stacked farther up and down
      local w, h = 0, 0
      for _, l in ipairs(lines) do
        w = math.max(w, layout.width(l[1], l[2], l[3]))
        h = h + l[2] * 1.15
      end
      local out = {}
      local function at(x0, y0, anchor)
        local parts, yy = {}, y0
        for _, l in ipairs(lines) do
          local base = yy + layout.ASCENT * l[2]
          local tx = anchor == "end" and x0 + w or x0
          parts[#parts + 1] = layout.text_box(tx, base, l[1], l[2], anchor, l[3])
          parts[#parts].text = { tx, base, l[1], l[2], anchor, l[3] }
          yy = yy + l[2] * 1.15
        end
        out[#out + 1] = parts
      end
      -- beside the point, then stacked farther up and down with a leader line
      -- from the point to the label's nearest corner
      for k = 0, 3 do
        local up, down = y - 8 - h - k * 18, y + 8 + k * 18
        at(x + 7, up, "start")
        if k > 0 then out[#out].leader = { x + 3, y - 7, x + 6, up + h + 1 } end
        at(x - 7 - w, up, "end")
        if k > 0 then out[#out].leader = { x - 3, y - 7, x - 6, up + h + 1 } end
        at(x + 7, down, "start")
        if k > 0 then out[#out].leader = { x + 3, y + 7, x + 6, down - 1 } end
        at(x - 7 - w, down, "end")
        if k > 0 then out[#out].leader = { x - 3, y + 7, x - 6, down - 1 } end
        if k == 0 then
          at(x + 9, y - h / 2, "start")
          at(x - 9 - w, y - h / 2, "end")
        end
      end
      return out
    end
    local function put(parts, cls)
      if parts.leader then
        local l = parts.leader
        doc:line(l[1], l[2], l[3], l[4], { stroke = "#777777", stroke_width = 0.8, class = "leader" })
      end
      for i, p in ipairs(parts) do
        local tx, base, s, fs, anchor, bold = unpack(p.text)
        text(doc, tx, base, s, fs, { text_anchor = anchor, font_weight = bold and "bold" or nil,
          fill = i == 1 and "#000000" or "#444444", class = i == 1 and cls or cls .. "-detail", stroke = "#ffffff",
          stroke_width = 3,
          paint_order = "stroke" })
      end
    end
    for _, mk in ipairs(marks) do
      wanted = wanted + 1
      if budget > 0 then
        local first = mk.list[1]
        local head = string.format("%s %s", svg.count_label(mk.at), short)
        local detail = string.format("%s %s / %s %s", first.pair.a, money.pretty(first.c.a_total), first.pair.b,
          money.pretty(first.c.b_total))
        if #mk.list > 1 then detail = detail .. string.format(" (+%d more)", #mk.list - 1) end
        local cands = candidates(mk.x, mk.y, { { head, 12, true }, { detail, 10 } })
        for _, cnd in ipairs(candidates(mk.x, mk.y, { { head, 12, true } })) do cands[#cands + 1] = cnd end
        local parts = placer:place(cands)
        if parts then
          budget = budget - 1
          put(parts, "breakeven-label")
        end
      else
        placer.left_out = placer.left_out + 1
      end
      -- the first pass only asks whether a label is left out: the second,
      -- with room for the footnote, places them all again
      if note_lines == 0 and placer.left_out > 0 then return doc, true end
    end
    for _, e in ipairs(ends) do
      wanted = wanted + 1
      local label = e.cv.stop_label or string.format("%s cap: %s %s", e.cv.name, svg.count_label(e.cv.stop), short)
      local parts = placer:place(candidates(e.x, e.y, { { label, 11 } }))
      if parts then put(parts, "cap-label") end
    end
    local left = placer.left_out
    if left > 0 then
      if note_lines == 0 then return doc, true end
      draw_footnote(doc, footnote_lines(doc.width, string.format(
        "%d of %d point labels left out for room; hover a point for its values%s.", left, wanted,
        #marks > 0 and " (the break-even table lists them all)" or "")))
    end
    return doc
  end
  return with_note(build)
end

-- Projection bars -----------------------------------------------------------------

local function is_projection(p)
  return methods.is(require("imbill.whatif.project").Projection, p)
end

--- A projection's monthly cost as bars, by edition.
--
-- `projection_bars(proj, opts)`: one group of bars per month, one bar per
-- edition (those that cannot serve the month drawn pale), the cheapest path
-- marked with a dot.
-- @tparam Projection proj a projection (`imbill.project`)
-- @tab[opt] opts `width`, `height`, `title`, `subtitle`, `legend` (above), and
-- `all` (default `false`): also draw free editions that cannot serve the usage
-- @treturn table the SVG document
-- @raise `imbill.chart.projection_bars: projection: expected a projection (imbill.project)`, a bad option
function M.projection_bars(proj, opts)
  local FN = "imbill.chart.projection_bars"
  if not is_projection(proj) then check.fail(FN, "projection", "expected a projection (imbill.project)", proj) end
  local o = options(FN, opts, { all = true }, M.HEIGHT)
  local rows = {}
  for _, r in ipairs(proj.rows) do
    if not (r.free and not r.eligible) or o.all then rows[#rows + 1] = r end
  end
  local n = #proj.months
  local ymax = 0
  for _, r in ipairs(rows) do
    for _, c in ipairs(r.months) do ymax = math.max(ymax, dollars(c.total)) end
  end
  local path = {}
  if proj.path then for j, st in ipairs(proj.path.steps) do path[j] = st.name end end
  local doc = svg.new(o.width, o.height, "imbill projection")
  local items = {}
  for _, r in ipairs(rows) do
    local col = colors.edition(r.name)
    items[#items + 1] = { label = r.name .. "  (" .. money.pretty(r.total) .. ")", color = col.color, dash = col.dash,
                          edition = r.name, opacity = 0.9 }
  end
  items[#items + 1] = { label = "pale: cannot serve that month", color = "#777777", opacity = 0.25 }
  if proj.path then items[#items + 1] = { label = "on the cheapest legal path", color = "#000000", kind = "circle" } end
  local subtitle = o.subtitle
  if subtitle == nil then
    subtitle = n > 0 and string.format("%s .. %s, %d %s", proj.months[1], proj.months[n], n, plural(n, "month")) or ""
  end
  local top = ymax * 1.06
  if top <= 0 then top = 100 end
  local f = frame(doc, { title = o.title == nil and "Monthly cost by edition" or o.title, subtitle = subtitle,
    legend = items, legend_mode = o.legend, x = { kind = "bands", labels = proj.months }, y0 = 0, y1 = top,
    xlabel = "month", headroom = 20, floor = 0 })
  local gw = f.band
  local gap = math.min(8, gw * 0.2)
  local bw = (gw - gap) / math.max(1, #rows)
  for i, r in ipairs(rows) do
    local col = colors.edition(r.name)
    for j, c in ipairs(r.months) do
      local x = f.x(j - 1) + gap / 2 + (i - 1) * bw
      local v = dollars(c.total)
      local y = f.y(v)
      local hover = string.format("%s, %s: %s USD", r.name, c.month or proj.months[j], money.pretty(c.total))
      if c.note then hover = hover .. " (" .. c.note .. ")" end
      if not c.eligible then hover = hover .. "; cannot serve: " .. table.concat(c.reasons or {}, "; ") end
      if path[j] == r.name then hover = hover .. "; on the cheapest legal path" end
      doc:rect(x, y, math.max(0.5, bw - (bw > 3 and 1 or 0)), f.B - y, { fill = col.color,
        fill_opacity = c.eligible and 0.9 or 0.25, stroke = col.dash and "#000000" or nil,
        stroke_dasharray = col.dash, stroke_width = col.dash and 0.8 or nil, class = "bar", data_edition = r.name,
        title = hover })
      if path[j] == r.name then
        doc:circle(x + bw / 2, y - 6, math.min(3.5, math.max(1.5, bw / 2)), { fill = "#000000", class = "path-dot",
          title = string.format("%s: on the cheapest legal path, %s, %s USD", proj.months[j], r.name,
            money.pretty(c.total)) })
      end
    end
  end
  return doc
end

-- The cheapest-path timeline ------------------------------------------------------

--- The cheapest legal path of edition changes as a timeline.
--
-- `path_timeline(proj, opts)`: the cheapest legal path as a band of months
-- coloured by edition, each change marked and labelled, with the month's cost.
-- Without a legal path, the chart says so.
-- @tparam Projection proj a projection (`imbill.project`)
-- @tab[opt] opts `width`, `height`, `title`, `subtitle`, `legend` (above)
-- @treturn table the SVG document
-- @raise `imbill.chart.path_timeline: projection: expected a projection (imbill.project)`, a bad option
function M.path_timeline(proj, opts)
  local FN = "imbill.chart.path_timeline"
  if not is_projection(proj) then check.fail(FN, "projection", "expected a projection (imbill.project)", proj) end
  local o = options(FN, opts, {}, M.PATH_HEIGHT)
  -- without a height the timeline is as tall as its content
  local auto_height = opts == nil or opts.height == nil
  local path = proj.path
  local W = o.width
  local doc = svg.new(W, o.height, "imbill cheapest path")
  local title = o.title == nil and "Cheapest legal path of edition changes" or o.title
  if not path then
    doc:rect(0, 0, W, doc.height, { fill = "#ffffff", class = "bg" })
    local y = header(doc, title, o.subtitle)
    for _, line in ipairs(layout.wrap("No legal sequence of editions can serve every month.", 12, W - 2 * PAD, 3)) do
      text(doc, PAD, y + 12 + 0.9 * 12, line, 12, { fill = "#a00000", class = "message" })
      y = y + 12 * 1.3
    end
    return doc
  end
  local n = #path.steps
  local subtitle = o.subtitle
  if subtitle == nil then
    subtitle = string.format("price book %s: %s USD over %d %s, %d %s (changes take effect on the 1st)",
      path.book, money.pretty(path.total), n, plural(n, "month"), path.changes, plural(path.changes, "change"))
  end

  local function build(note_lines)
    doc = svg.new(W, o.height, "imbill cheapest path")
    doc:rect(0, 0, W, o.height, { fill = "#ffffff", class = "bg" })
    local y = header(doc, title, subtitle) + 6
    local L, R = PAD, W - PAD
    local w = (R - L) / math.max(1, n)
    -- change labels stack in up to three rows above the band
    local nchanges = 0
    for _, st in ipairs(path.steps) do if st.change then nchanges = nchanges + 1 end end
    local rows = math.max(1, math.min(3, nchanges))
    local rowh = 11 * 1.2
    local band_top = y + rows * rowh + 6
    local band_h = 44
    local placer = layout.placer({ L - 2, y - 4, R, band_top + band_h + 6 })
    local changes = {}
    for j, st in ipairs(path.steps) do
      if st.change then
        local x = L + (j - 1) * w
        local placed
        for r = 1, rows do
          local base = band_top - 6 - (r - 1) * rowh - 0.25 * 11
          local box = layout.text_box(x + 4, base, st.change, 11, "start")
          local stem = { x - 1, base - 0.9 * 11, x + 1, band_top }
          if box[3] <= R and placer:free(layout.grow(box, 1)) and placer:free(stem) then
            placer:take(layout.grow(box, 1))
            placer:take(stem)
            placed = { base = base, top = base - 0.9 * 11 }
            break
          end
        end
        changes[#changes + 1] = { x = x, st = st, placed = placed, j = j }
      end
    end
    local left = 0
    -- colours and the legend's entries, in the order they appear
    local cols, items = {}, {}
    for _, st in ipairs(path.steps) do
      local key = st.name or ""
      if not cols[key] then
        local col = st.name and colors.edition(st.name) or { color = colors.NONE }
        cols[key] = col
        items[#items + 1] = { label = st.name or "no paid edition yet", color = col.color, dash = col.dash,
                              edition = st.name, opacity = 0.85 }
      end
    end
    for j, st in ipairs(path.steps) do
      local x = L + (j - 1) * w
      local col = cols[st.name or ""]
      doc:rect(x, band_top, math.max(0.5, w - (w > 4 and 2 or 0)), band_h, { fill = col.color, fill_opacity = 0.85,
        stroke = col.dash and "#000000" or nil, stroke_dasharray = col.dash, class = "path-month",
        data_edition = st.name, title = string.format("%s: %s, %s USD%s", st.month, st.name or "no paid edition yet",
          money.pretty(st.total), st.change and (" (" .. st.change .. ")") or "") })
    end
    for _, ch in ipairs(changes) do
      if ch.placed then
        doc:line(ch.x, ch.placed.top, ch.x, band_top + band_h + 4, { stroke = "#000000", stroke_width = 2,
          class = "change", title = ch.st.month .. ": " .. ch.st.change })
        text(doc, ch.x + 4, ch.placed.base, ch.st.change, 11, { fill = "#000000", class = "change-label" })
      else
        doc:line(ch.x, band_top - 4, ch.x, band_top + band_h + 4, { stroke = "#000000", stroke_width = 2,
          class = "change", title = ch.st.month .. ": " .. ch.st.change })
        left = left + 1
      end
    end
    -- months and their costs under the band: every k-th when they would touch
    local my = band_top + band_h + 8 + 0.9 * 11
    local cy = my + 11 * 1.3
    local widest = 0
    for _, st in ipairs(path.steps) do
      widest = math.max(widest, layout.width(st.month, 11), layout.width("$" .. money.pretty(st.total), 11))
    end
    local every = 1
    for _, k in ipairs { 1, 2, 3, 4, 6, 12, 24, 60, 120, 240, 600, 1200 } do
      every = k
      if k * w >= widest + 8 then break end
    end
    -- a label centred under its month, moved in from the canvas edge when it
    -- would cross it, and left out when it would then touch its neighbour
    local prev_right = -math.huge
    for j, st in ipairs(path.steps) do
      local x = L + (j - 0.5) * w
      local cost = "$" .. money.pretty(st.total)
      local half = math.max(layout.width(st.month, 11), layout.width(cost, 11)) / 2
      x = math.max(PAD + half, math.min(W - PAD - half, x))
      if (j - 1) % every == 0 and x - half >= prev_right + 6 then
        text(doc, x, my, st.month, 11, { text_anchor = "middle", fill = colors.INK, class = "month-label" })
        text(doc, x, cy, cost, 11, { text_anchor = "middle", fill = colors.INK, class = "cost-label" })
        prev_right = x + half
      else
        left = left + 1
      end
    end
    -- the legend in rows under the months
    local leg = plan_legend(W, math.huge, 0, items, o.legend == "none" and "none" or "bottom")
    local ly = cy + 0.25 * 11 + 14
    if leg.mode == "bottom" then
      for r, row in ipairs(leg.rows) do
        for _, entry in ipairs(row) do draw_legend_line(doc, PAD + entry.x, ly + (r - 1) * ROW + 0.9 * 12, entry) end
      end
      ly = ly + leg.h
    end
    local need = ly + 6 + note_lines * 11 * 1.3 + PAD
    if need > doc.height or auto_height then
      doc.height = math.ceil(need)
      local bg = svg.new(W, doc.height)
      bg:rect(0, 0, W, doc.height, { fill = "#ffffff", class = "bg" })
      doc.parts[1] = bg.parts[1]
    end
    if left > 0 then
      if note_lines == 0 then return doc, true end
      draw_footnote(doc, footnote_lines(W, string.format(
        "%d %s left out for room; hover a month for its edition and cost.", left, plural(left, "label"))))
    end
    return doc
  end
  return with_note(build)
end

--- The break-even table as plain text lines, for captions; a free edition's
-- cap, when the curve carries one, gets its own line.
-- @tparam BreakevenTable t a break-even table (`imbill.breakeven_table`)
-- @treturn {string,...} one sentence per crossing (`2021/pro vs 2022/standard: from 10,001 DAU on,`
-- `... is cheaper (... against ...)`), then one per capped edition
-- @raise `imbill.chart.breakeven_lines: t: expected a break-even table (imbill.breakeven_table)`
function M.breakeven_lines(t)
  local FN = "imbill.chart.breakeven_lines"
  if not is_table_of_curves(t) then
    check.fail(FN, "t", "expected a break-even table (imbill.breakeven_table)", t)
  end
  local short = SHORT[t.metric] or tostring(t.metric)
  local out = {}
  for _, pr in ipairs(t.pairs) do
    for _, c in ipairs(pr.crossings) do
      if c.cheaper == "equal" then
        out[#out + 1] = string.format("%s vs %s: from %s %s on, both cost the same (%s)", pr.a, pr.b, fmt.int(c.at),
          short, money.pretty(c.a_total))
      else
        out[#out + 1] = string.format("%s vs %s: from %s %s on, %s is cheaper (%s against %s)", pr.a, pr.b,
          fmt.int(c.at), short, c.cheaper, money.pretty(c.a_total), money.pretty(c.b_total))
      end
    end
  end
  for _, c in ipairs(t.curves) do
    local stop = curve_end(c)
    if stop and stop < t.to then
      out[#out + 1] = string.format("%s: free up to %s %s (its cap); it cannot serve more", c.edition, fmt.int(stop),
        short)
    end
  end
  return out
end

return M
