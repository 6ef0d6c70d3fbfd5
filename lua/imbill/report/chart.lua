--- Charts as SVG text, written by imbill itself: editions' cost curves with
-- break-even points marked and labelled, monthly projection bars, and the
-- cheapest-path timeline.  Amounts are placed on the page with ordinary Lua
-- numbers (pixels); every amount written as text comes from exact money.
local svg = require "imbill.report.svg"
local money = require "imbill.internal.money"
local fmt = require "imbill.internal.fmt"

local M = {}

M.WIDTH, M.HEIGHT = 960, 540

local UNIT = { dau = "peak DAU (users a day, the month's highest day)", mau = "MAU (monthly active users)",
               groups = "peak groups (existing groups)" }
local SHORT = { dau = "DAU", mau = "MAU", groups = "groups" }

local function dollars(m) return m:cents() / 100 end

-- A frame: plot area, axes with ticks, labels, title.
local function frame(doc, o)
  local L, R, T, B = o.left or 84, o.right or 24, o.top or 56, o.bottom or 64
  local pw, ph = doc.width - L - R, doc.height - T - B
  local f = { L = L, T = T, W = pw, H = ph, x0 = o.x0, x1 = o.x1, y0 = o.y0, y1 = o.y1 }
  function f.x(v) return L + (v - f.x0) / (f.x1 - f.x0) * pw end
  function f.y(v) return T + ph - (v - f.y0) / (f.y1 - f.y0) * ph end
  doc:rect(0, 0, doc.width, doc.height, { fill = "#ffffff" })
  doc:text(L, 28, o.title, { font_size = 18, font_weight = "bold", fill = "#222" })
  if o.subtitle then doc:text(L, 46, o.subtitle, { font_size = 12, fill = "#555" }) end
  -- y grid and money ticks
  local yt = svg.ticks(f.y0, f.y1, 6)
  for _, v in ipairs(yt) do
    local y = f.y(v)
    doc:line(L, y, L + pw, y, { stroke = "#e3e3e3", stroke_width = 1 })
    doc:text(L - 8, y + 4, svg.money_label(v), { text_anchor = "end", fill = "#333" })
  end
  if o.xticks ~= false then
    local xt = svg.ticks(f.x0, f.x1, 8)
    for _, v in ipairs(xt) do
      local x = f.x(v)
      doc:line(x, T + ph, x, T + ph + 5, { stroke = "#333" })
      doc:text(x, T + ph + 20, svg.count_label(v, true), { text_anchor = "middle", fill = "#333" })
    end
  end
  doc:line(L, T + ph, L + pw, T + ph, { stroke = "#333", stroke_width = 1 })
  doc:line(L, T, L, T + ph, { stroke = "#333", stroke_width = 1 })
  if o.xlabel then
    doc:text(L + pw / 2, doc.height - 14, o.xlabel, { text_anchor = "middle", fill = "#222", font_size = 13 })
  end
  doc:text(18, T + ph / 2, o.ylabel or "USD per month", { text_anchor = "middle", fill = "#222", font_size = 13,
    transform = string.format("rotate(-90 18 %s)", svg.num(T + ph / 2)) })
  return f
end

local function legend(doc, f, items, x, y)
  x = x or f.L + 12
  y = y or f.T + 12
  local h = 18 * #items + 10
  local w = 0
  for _, it in ipairs(items) do w = math.max(w, #it.label * 7 + 40) end
  doc:rect(x, y, w, h, { fill = "#ffffff", fill_opacity = 0.9, stroke = "#bbb" })
  for i, it in ipairs(items) do
    local yy = y + 8 + (i - 1) * 18
    doc:rect(x + 8, yy + 2, 18, 10, { fill = it.color, stroke = it.stroke, fill_opacity = it.opacity })
    doc:text(x + 32, yy + 11, it.label, { fill = "#222" })
  end
end

--- cost_curves(t, opts): t is imbill.breakeven_table{...} (or its parameters).
-- Each edition's exact cost curve against the metric; every break-even point
-- is marked, and labelled with its value and the two totals.
function M.cost_curves(t, opts)
  opts = opts or {}
  if getmetatable(t) == nil then t = require("imbill.whatif.project").breakeven_table(t) end
  local doc = svg.new(opts.width or M.WIDTH, opts.height or M.HEIGHT, "imbill cost curves")
  local ymax = 0
  for _, c in ipairs(t.curves) do
    for _, p in ipairs(c.points) do ymax = math.max(ymax, dollars(p.total)) end
  end
  local _, ystep = svg.ticks(0, ymax * 1.08 + 1, 6)
  local f = frame(doc, {
    title = opts.title or ("Monthly cost by " .. (SHORT[t.metric] or t.metric)),
    subtitle = opts.subtitle or (table.concat(t.editions, ", ") .. (t.follow and t.follow.mau
      and ("; MAU = " .. tostring(t.follow.mau) .. " x DAU") or "") .. "; break-even points marked"),
    x0 = t.from, x1 = t.to, y0 = 0, y1 = math.ceil((ymax * 1.08 + 1) / ystep) * ystep,
    xlabel = UNIT[t.metric] or t.metric,
  })
  local items = {}
  for i, c in ipairs(t.curves) do
    local color = svg.PALETTE[(i - 1) % #svg.PALETTE + 1]
    local pts = {}
    for k, p in ipairs(c.points) do
      local x, y = f.x(p.at), f.y(dollars(p.total))
      local nxt = c.points[k + 1]
      pts[#pts + 1] = { x, y }
      if nxt then
        local nx = f.x(nxt.at)
        if p.kind == "linear" then
          -- the line rises to the value just before the next point
          pts[#pts + 1] = { nx, f.y(dollars(c.cost(nxt.at - 1 >= p.at and nxt.at - 1 or nxt.at))) }
        else
          pts[#pts + 1] = { nx, y }
        end
      end
    end
    doc:polyline(pts, { stroke = color, stroke_width = 2.2, stroke_linejoin = "round",
                        class = "curve", data_edition = c.edition })
    items[#items + 1] = { label = c.edition, color = color }
  end
  -- break-even points
  local labelled, budget = {}, opts.max_labels or 14
  local marks = {}
  for _, pr in ipairs(t.pairs) do
    for _, c in ipairs(pr.crossings) do
      local y = math.max(dollars(c.a_total), dollars(c.b_total))
      marks[#marks + 1] = { pair = pr, c = c, x = f.x(c.at), y = f.y(y) }
    end
  end
  table.sort(marks, function(a, b) return a.x < b.x end)
  for _, mk in ipairs(marks) do
    doc:circle(mk.x, mk.y, 4.5, { fill = "#ffffff", stroke = "#000", stroke_width = 1.6, class = "breakeven" })
    local free = true
    for _, l in ipairs(labelled) do
      if math.abs(l.x - mk.x) < 150 and math.abs(l.y - mk.y) < 34 then free = false end
    end
    if free and budget > 0 then
      budget = budget - 1
      local label = string.format("%s %s", svg.count_label(mk.c.at), SHORT[t.metric] or t.metric)
      local detail = string.format("%s %s / %s %s", mk.pair.a, money.pretty(mk.c.a_total), mk.pair.b,
        money.pretty(mk.c.b_total))
      local ly = mk.y - 12 - (#labelled % 2) * 16
      if ly < f.T + 10 then ly = mk.y + 22 end
      local anchor = mk.x > f.L + f.W - 160 and "end" or "start"
      doc:text(mk.x + (anchor == "end" and -6 or 6), ly, label, { font_size = 12, font_weight = "bold", fill = "#000",
        class = "breakeven-label", text_anchor = anchor, stroke = "#ffffff", stroke_width = 3, paint_order = "stroke" })
      doc:text(mk.x + (anchor == "end" and -6 or 6), ly + 13, detail, { font_size = 10, fill = "#444",
        text_anchor = anchor, stroke = "#ffffff", stroke_width = 3, paint_order = "stroke" })
      labelled[#labelled + 1] = { x = mk.x, y = mk.y }
    end
  end
  if #marks > 0 then items[#items + 1] = { label = "break-even point", color = "#ffffff", stroke = "#000" } end
  legend(doc, f, items, f.L + 12, f.T + 8)
  return doc
end

--- projection_bars(proj, opts): one group of bars per month, one bar per
-- edition (those that cannot serve the month drawn pale), the cheapest path
-- marked with a dot.
function M.projection_bars(proj, opts)
  opts = opts or {}
  local rows = {}
  for _, r in ipairs(proj.rows) do
    if not (r.free and not r.eligible) or opts.all then rows[#rows + 1] = r end
  end
  local doc = svg.new(opts.width or M.WIDTH, opts.height or M.HEIGHT, "imbill projection")
  local ymax = 0
  for _, r in ipairs(rows) do
    for _, c in ipairs(r.months) do ymax = math.max(ymax, dollars(c.total)) end
  end
  local _, ystep = svg.ticks(0, ymax * 1.1 + 1, 6)
  local n = #proj.months
  local f = frame(doc, { title = opts.title or "Monthly cost by edition",
    subtitle = opts.subtitle or string.format("%s .. %s; pale bars: the edition cannot serve that month", proj.months[1],
      proj.months[n]),
    x0 = 0, x1 = n, y0 = 0, y1 = math.ceil((ymax * 1.1 + 1) / ystep) * ystep, xticks = false,
    xlabel = "month", bottom = 70 })
  local gw = f.W / n
  local bw = math.max(2, (gw - 8) / math.max(1, #rows))
  local path = {}
  if proj.path then for j, st in ipairs(proj.path.steps) do path[j] = st.name end end
  local items = {}
  for i, r in ipairs(rows) do
    local color = svg.PALETTE[(i - 1) % #svg.PALETTE + 1]
    items[#items + 1] = { label = r.name .. "  (" .. money.pretty(r.total) .. ")", color = color }
    for j, c in ipairs(r.months) do
      local x = f.x(j - 1) + 4 + (i - 1) * bw
      local v = dollars(c.total)
      local y = f.y(v)
      doc:rect(x, y, bw - 1, f.T + f.H - y, { fill = color, fill_opacity = c.eligible and 0.9 or 0.25,
        class = "bar" }):raw("")
      if path[j] == r.name then doc:circle(x + (bw - 1) / 2, y - 6, 3.5, { fill = "#000" }) end
    end
  end
  for j, month in ipairs(proj.months) do
    doc:text(f.x(j - 0.5), f.T + f.H + 18, month, { text_anchor = "middle", fill = "#333",
      font_size = n > 12 and 10 or 12 })
  end
  items[#items + 1] = { label = "on the cheapest legal path", color = "#000" }
  legend(doc, f, items, f.L + 12, f.T + 8)
  return doc
end

--- path_timeline(proj, opts): the cheapest legal path as a band of months
-- coloured by edition, each change marked and labelled, with the month's cost.
function M.path_timeline(proj, opts)
  opts = opts or {}
  local path = proj.path
  local doc = svg.new(opts.width or M.WIDTH, opts.height or 260, "imbill cheapest path")
  doc:rect(0, 0, doc.width, doc.height, { fill = "#ffffff" })
  doc:text(24, 28, opts.title or "Cheapest legal path of edition changes", { font_size = 18, font_weight = "bold",
    fill = "#222" })
  if not path then
    doc:text(24, 70, "No legal sequence of editions can serve every month.", { fill = "#a00" })
    return doc
  end
  doc:text(24, 46, string.format("price book %s: %s USD over %d months, %d change%s (changes take effect on the 1st)",
    path.book, money.pretty(path.total), #path.steps, path.changes, path.changes == 1 and "" or "s"),
    { fill = "#555" })
  local L, R = 24, 24
  local n = #path.steps
  local w = (doc.width - L - R) / n
  local colors, items, k = {}, {}, 0
  for _, st in ipairs(path.steps) do
    local key = st.name or "none"
    if not colors[key] then
      k = k + 1
      colors[key] = st.name and svg.PALETTE[(k - 1) % #svg.PALETTE + 1] or "#dddddd"
      items[#items + 1] = { label = st.name or "no paid edition yet", color = colors[key] }
    end
  end
  local y0 = 96
  for j, st in ipairs(path.steps) do
    local x = L + (j - 1) * w
    doc:rect(x, y0, w - 2, 44, { fill = colors[st.name or "none"], fill_opacity = 0.85, class = "path-month" })
    doc:text(x + w / 2, y0 + 62, st.month, { text_anchor = "middle", font_size = n > 12 and 9 or 11, fill = "#333" })
    doc:text(x + w / 2, y0 + 78, "$" .. money.pretty(st.total), { text_anchor = "middle",
      font_size = n > 12 and 9 or 11, fill = "#222" })
    if st.change then
      doc:line(x, y0 - 14, x, y0 + 48, { stroke = "#000", stroke_width = 2 })
      doc:text(x + 3, y0 - 18, st.change, { font_size = 11, fill = "#000", class = "change-label" })
    end
  end
  local lx = L
  for _, it in ipairs(items) do
    doc:rect(lx, 212, 16, 10, { fill = it.color })
    doc:text(lx + 22, 221, it.label, { fill = "#222" })
    lx = lx + 40 + #it.label * 7
  end
  return doc
end

--- The break-even table as plain text lines, for captions.
function M.breakeven_lines(t)
  local out = {}
  for _, pr in ipairs(t.pairs) do
    for _, c in ipairs(pr.crossings) do
      out[#out + 1] = string.format("%s vs %s: from %s %s on, %s is cheaper (%s against %s)", pr.a, pr.b,
        fmt.int(c.at), SHORT[t.metric] or t.metric, c.cheaper, money.pretty(c.a_total), money.pretty(c.b_total))
    end
  end
  return out
end

return M
