--- An HTML report: a projection's tables and charts on one self-contained
-- page (inline CSS and SVG, no script, nothing fetched from the network).
--
-- The page reads on a phone (420 px) and on a wide screen (1,600 px): a
-- viewport, a layout that reflows, tables that scroll inside their own box,
-- charts drawn twice (a narrow and a wide version, one shown by the width of
-- the screen) that scale to their box.  Key figures come first; each month's
-- invoice lines open on demand (<details>); every table has a CSV download as
-- a data: link; each warning is shown once.
--
-- `imbill.report` is `html` below.
-- @usage local s = imbill.series.read_csv("examples/data/usage_2021.csv")
-- local page = imbill.report{ projection = imbill.project{ usage = s, books = { "2021" } },
--                             title = "Which edition for 2021?" }
-- io.open("report.html", "w"):write(page)
local check = require "imbill.internal.check"
local errors = require "imbill.internal.errors"
local methods = require "imbill.internal.methods"
local money = require "imbill.internal.money"
local fmt = require "imbill.internal.fmt"
local csv = require "imbill.internal.csv"
local svg = require "imbill.report.svg"
local chart = require "imbill.report.chart"

local M = {}
local esc = svg.escape

-- Charts are drawn at these widths: the narrow one for screens up to 640 px.

--- The widths charts are drawn at, in pixels: `NARROW` (400) for screens up
-- to 640 px, `WIDE` (960) for the others.
-- @field NARROW
M.NARROW, M.WIDE = 400, 960

local CSS = [[
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 0; color: #222; background: #fff;
       line-height: 1.4; }
main { max-width: 1200px; margin: 0 auto; padding: 16px; }
h1 { font-size: 26px; margin: 8px 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 19px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; overflow-wrap: anywhere; }
h3 { font-size: 15px; margin: 16px 0 4px; }
p, li, summary, .figure { overflow-wrap: anywhere; }
p.note { color: #555; font-size: 13px; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 10px; margin: 16px 0; }
.figure { border: 1px solid #d8d8d8; border-radius: 6px; padding: 8px 12px; min-width: 0; background: #fafafa; }
.figure .k { display: block; font-size: 12px; color: #555; }
.figure .v { display: block; font-size: 20px; font-weight: bold; }
.figure .d { display: block; font-size: 12px; color: #333; }
.table { max-width: 100%; overflow-x: auto; margin: 8px 0 4px; border: 1px solid #eee; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eee; white-space: nowrap; }
td.text { white-space: normal; min-width: 16em; }
th { text-align: left; background: #f4f4f4; position: sticky; top: 0; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.no { color: #999; }
tr.total td { font-weight: bold; border-top: 1px solid #ccc; }
a.csv { font-size: 12px; color: #0b57a0; }
.warning { background: #fff4e5; border: 1px solid #f0b35a; padding: 8px 12px; font-weight: bold; }
.notes { background: #f3f6fb; border: 1px solid #c9d6ea; padding: 6px 12px; font-size: 13px; }
.notes ul { margin: 4px 0; padding-left: 20px; }
details { margin: 4px 0; border: 1px solid #eee; border-radius: 4px; padding: 4px 8px; }
summary { cursor: pointer; font-size: 14px; }
figure { margin: 12px 0; }
figure svg { display: block; width: 100%; height: auto; max-width: 100%; }
.narrow { display: none; }
@media (max-width: 640px) {
  main { padding: 10px; }
  h1 { font-size: 21px; }
  .wide { display: none; }
  .narrow { display: block; }
}
]]

-- A data: link that downloads text as a CSV file: every byte but the
-- unreserved ones percent-encoded, so nothing in the data can end the
-- attribute or the link.
local function data_uri(text)
  return "data:text/csv;charset=utf-8," .. text:gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", c:byte())
  end)
end

local function csv_link(name, header, rows)
  return string.format('<p><a class="csv" download="%s" href="%s">Download %s</a></p>', esc(name),
    data_uri(csv.rows(header, rows)), esc(name))
end

-- A table in its own scrolling box, with its CSV download under it.  Cells
-- are strings or { text =, class = }; csv_rows (plain values) default to the
-- cells' text.
local function tbl(t)
  local out = { '<div class="table"><table' .. (t.id and (' id="' .. esc(t.id) .. '"') or "") .. "><thead><tr>" }
  for _, h in ipairs(t.header) do out[#out + 1] = "<th>" .. esc(h) .. "</th>" end
  out[#out + 1] = "</tr></thead><tbody>"
  local plain = {}
  for r, row in ipairs(t.rows) do
    out[#out + 1] = (row.total and '<tr class="total">' or "<tr>")
    local p = {}
    for i, c in ipairs(row) do
      local cls = t.numeric and t.numeric[i] and "n" or nil
      local txt = c
      if type(c) == "table" then cls, txt = c.class, c.text end
      out[#out + 1] = "<td" .. (cls and (' class="' .. cls .. '"') or "") .. ">" .. esc(txt) .. "</td>"
      p[i] = txt
    end
    plain[r] = p
    out[#out + 1] = "</tr>"
  end
  out[#out + 1] = "</tbody></table></div>"
  out[#out + 1] = csv_link(t.csv, t.csv_header or t.header, t.csv_rows or plain)
  return table.concat(out)
end

local function figure(make, caption)
  local narrow, wide = make(M.NARROW), make(M.WIDE)
  return '<figure role="group" aria-label="' .. esc(caption) .. '"><div class="wide">' .. tostring(wide)
    .. '</div><div class="narrow">' .. tostring(narrow) .. "</div></figure>"
end

local function key(k, v, d)
  return '<div class="figure"><span class="k">' .. esc(k) .. '</span><span class="v">' .. esc(v) .. "</span>"
    .. (d and ('<span class="d">' .. esc(d) .. "</span>") or "") .. "</div>"
end

local function plain_money(m) return tostring(m) end

-- The projection: its key figures, tables, charts and each month's invoice
-- lines; warnings and notes are collected into `notes` (each text once).
local function projection(proj, h, figs, note)
  local n = #proj.months
  h[#h + 1] = "<h2>Projection " .. esc(proj.months[1]) .. " .. " .. esc(proj.months[n]) .. "</h2>"
  local ch = proj:cheapest()
  if ch then
    figs[#figs + 1] = key("Cheapest single edition", ch.name, money.pretty(ch.total) .. " USD over " .. n
      .. (n == 1 and " month" or " months"))
  end
  if proj.path then
    figs[#figs + 1] = key("Cheapest legal path", money.pretty(proj.path.total) .. " USD",
      string.format("price book %s, %d change%s", proj.path.book, proj.path.changes,
        proj.path.changes == 1 and "" or "s"))
  else
    figs[#figs + 1] = key("Cheapest legal path", "none", "no legal sequence of editions serves every month")
  end
  local header, numeric, cheader = { "month" }, { false }, { "month" }
  for _, r in ipairs(proj.rows) do
    header[#header + 1] = r.name
    numeric[#numeric + 1] = true
    cheader[#cheader + 1] = r.name
    cheader[#cheader + 1] = r.name .. " can serve"
  end
  header[#header + 1] = "best"
  header[#header + 1] = "path"
  numeric[#numeric + 1] = false
  cheader[#cheader + 1] = "best"
  cheader[#cheader + 1] = "path"
  cheader[#cheader + 1] = "path change"
  local rows, crows = {}, {}
  for j, month in ipairs(proj.months) do
    local row, crow = { month }, { month }
    for _, r in ipairs(proj.rows) do
      local c = r.months[j]
      row[#row + 1] = c.eligible and money.pretty(c.total)
        or { class = "n no", text = money.pretty(c.total) .. " (cannot serve)" }
      crow[#crow + 1] = plain_money(c.total)
      crow[#crow + 1] = c.eligible and "yes" or "no"
    end
    row[#row + 1] = proj.best[j].name or "none"
    crow[#crow + 1] = proj.best[j].name or ""
    local st = proj.path and proj.path.steps[j]
    row[#row + 1] = st and ((st.name or "-") .. (st.change and (" (" .. st.change .. ")") or "")) or ""
    crow[#crow + 1] = st and st.name or ""
    crow[#crow + 1] = st and st.change or ""
    rows[#rows + 1] = row
    crows[#crows + 1] = crow
  end
  local tot, ctot = { "total", total = true }, { "total" }
  for _, r in ipairs(proj.rows) do
    tot[#tot + 1] = money.pretty(r.total)
    ctot[#ctot + 1] = plain_money(r.total)
    ctot[#ctot + 1] = r.eligible and "yes" or "no"
  end
  tot[#tot + 1] = ""
  tot[#tot + 1] = proj.path and money.pretty(proj.path.total) or ""
  ctot[#ctot + 1] = ""
  ctot[#ctot + 1] = proj.path and plain_money(proj.path.total) or ""
  ctot[#ctot + 1] = ""
  rows[#rows + 1] = tot
  crows[#crows + 1] = ctot
  h[#h + 1] = tbl { id = "projection", header = header, rows = rows, numeric = numeric, csv = "projection.csv",
                    csv_header = cheader, csv_rows = crows }

  -- why an edition cannot serve: once per edition, with its months and the
  -- reasons given (each once)
  local why = {}
  for _, r in ipairs(proj.rows) do
    local seen, order, months = {}, {}, {}
    for _, c in ipairs(r.months) do
      if #(c.reasons or {}) > 0 then months[#months + 1] = c.month end
      for _, reason in ipairs(c.reasons or {}) do
        if not seen[reason] then seen[reason] = true order[#order + 1] = "<li>" .. esc(reason) .. "</li>" end
      end
    end
    if #months > 0 then
      why[#why + 1] = "<li>" .. esc(string.format("%s cannot serve %s:", r.name, #months == n and
        (n == 1 and "the month" or ("any of the " .. n .. " months")) or (#months == 1 and months[1]
        or (#months .. " months (" .. months[1] .. " .. " .. months[#months] .. ")")))) .. "<ul>"
        .. table.concat(order) .. "</ul></li>"
    end
    if r.note then note(r.name .. ": " .. r.note) end
  end
  if #why > 0 then
    h[#h + 1] = '<details class="why"><summary>Editions that cannot serve every month (' .. #why
      .. ")</summary><ul>" .. table.concat(why) .. "</ul></details>"
  end

  h[#h + 1] = figure(function(w) return chart.projection_bars(proj, { width = w }) end, "Monthly cost by edition")
  h[#h + 1] = figure(function(w) return chart.path_timeline(proj, { width = w }) end, "Cheapest legal path")

  -- what-if prices: one note per price book, not one per month
  local whatif, books = {}, {}
  for _, r in ipairs(proj.rows) do
    for _, c in ipairs(r.months) do
      if c.invoice and c.invoice.notes and #c.invoice.notes > 0 then
        if not whatif[r.book] then whatif[r.book] = {} books[#books + 1] = r.book end
        whatif[r.book][c.month] = true
      end
    end
  end
  for _, b in ipairs(books) do
    local ms = {}
    for m in pairs(whatif[b]) do ms[#ms + 1] = m end
    table.sort(ms)
    note(string.format("Price book %s was not yet in force in %s: its prices there are what-ifs.", b,
      #ms == 1 and ms[1] or (#ms .. " of these months (" .. ms[1] .. " .. " .. ms[#ms] .. ")")))
  end
  if proj.series and proj.series.notes then
    for _, s in ipairs(proj.series.notes) do note("Usage: " .. s) end
  end

  -- each month's invoice lines, on demand
  h[#h + 1] = "<h3>Invoice lines by month</h3>"
  local lheader = { "edition", "line", "amount", "note" }
  for j, month in ipairs(proj.months) do
    local lrows, lcsv = {}, {}
    for _, r in ipairs(proj.rows) do
      local c = r.months[j]
      if c.invoice then
        for _, l in ipairs(c.invoice.lines) do
          lrows[#lrows + 1] = { r.name, l.code, { class = "n", text = money.pretty(l.amount) },
                                { class = "text", text = l.note or "" } }
          lcsv[#lcsv + 1] = { r.name, l.code, plain_money(l.amount), l.note or "" }
        end
        lrows[#lrows + 1] = { r.name, "total", { class = "n", text = money.pretty(c.total) }, "", total = true }
        lcsv[#lcsv + 1] = { r.name, "total", plain_money(c.total), "" }
      else
        lrows[#lrows + 1] = { r.name, "-", { class = "n", text = "0.00" }, { class = "text", text = c.note or "" } }
        lcsv[#lcsv + 1] = { r.name, "", "0.00", c.note or "" }
      end
    end
    local st = proj.path and proj.path.steps[j]
    local summary = month .. (st and st.name and (": on the path " .. st.name .. ", " .. money.pretty(st.total)
      .. " USD") or "")
    h[#h + 1] = "<details><summary>" .. esc(summary) .. "</summary>"
      .. tbl { id = "lines-" .. month, header = lheader, rows = lrows, csv = "invoice-lines-" .. month .. ".csv",
               csv_rows = lcsv } .. "</details>"
  end

  local urows = {}
  for _, u in ipairs(proj.usage) do
    urows[#urows + 1] = { u.month, fmt.int(u.peak_dau), fmt.int(u.groups_peak), u.mau and fmt.int(u.mau) or "-",
                          u.complete and "yes" or (u.days .. " days") }
  end
  local ucsv = {}
  for i, u in ipairs(proj.usage) do
    ucsv[i] = { u.month, string.format("%d", u.peak_dau), string.format("%d", u.groups_peak),
                u.mau and string.format("%d", u.mau) or "", u.complete and "yes" or string.format("%d days", u.days) }
  end
  h[#h + 1] = "<h2>Usage</h2>" .. tbl { id = "usage", header = { "month", "peak DAU", "peak groups", "MAU",
    "full month" }, rows = urows, numeric = { false, true, true, true, false }, csv = "usage.csv", csv_rows = ucsv }
end

local function migration(mig, h, figs, note)
  h[#h + 1] = "<h2>Migration: " .. esc(mig.from) .. " against " .. esc(mig.to) .. "</h2>"
  note(mig.warning, true)
  local d = mig.difference
  local abs = money.pretty(d < money.ZERO and (money.ZERO - d) or d) .. " USD"
  if mig.what_if then
    -- the book is in force in no month: a what-if figure, no saving to make
    figs[#figs + 1] = key("Migrating to " .. mig.to, "what-if only: " .. abs .. (d < money.ZERO and " more" or " less"),
      "price book " .. mig.book .. " is not in force in this horizon (it starts " .. mig.book_from .. ")")
  else
    figs[#figs + 1] = key("Migrating to " .. mig.to, (d < money.ZERO and "costs " or "saves ") .. abs,
      mig.pays_off_from and ("pays off from " .. mig.pays_off_from) or "does not pay off within the horizon")
  end
  local rows, crows = {}, {}
  for _, r in ipairs(mig.rows) do
    rows[#rows + 1] = { r.month, money.pretty(r.dau_plan), money.pretty(r.mau_plan), money.pretty(r.saving),
                        money.pretty(r.cumulative) }
    crows[#crows + 1] = { r.month, plain_money(r.dau_plan), plain_money(r.mau_plan), plain_money(r.saving),
                          plain_money(r.cumulative) }
  end
  rows[#rows + 1] = { "total", money.pretty(mig.dau_total), money.pretty(mig.mau_total), money.pretty(mig.difference),
                      "", total = true }
  crows[#crows + 1] = { "total", plain_money(mig.dau_total), plain_money(mig.mau_total), plain_money(mig.difference),
                        "" }
  h[#h + 1] = tbl { id = "migration", header = { "month", mig.from, mig.to, "saving", "cumulative" }, rows = rows,
                    numeric = { false, true, true, true, true }, csv = "migration.csv", csv_rows = crows }
  -- the verdict without its warning line: the warning is shown once, above
  local lines = {}
  for line in (mig:verdict() .. "\n"):gmatch("([^\n]*)\n") do
    if line ~= "WARNING: " .. mig.warning and line ~= "" then lines[#lines + 1] = esc(line) end
  end
  h[#h + 1] = "<p>" .. table.concat(lines, "<br>") .. "</p>"
end

local function breakeven(t, h, figs)
  local unit = t.metric == "dau" and "DAU" or (t.metric == "mau" and "MAU" or tostring(t.metric))
  h[#h + 1] = "<h2>Break-even points</h2>"
  local rows, crows = {}, {}
  local count, first = 0, nil
  for _, pr in ipairs(t.pairs) do
    -- each pair from the start of the range, then at every crossing
    local p0 = pr.points and pr.points[1]
    if p0 then
      rows[#rows + 1] = { pr.a, pr.b, fmt.int(t.from), pr.cheaper_at_start, money.pretty(p0.a_total),
                          money.pretty(p0.b_total) }
      crows[#crows + 1] = { pr.a, pr.b, string.format("%d", t.from), pr.cheaper_at_start, plain_money(p0.a_total),
                            plain_money(p0.b_total) }
    end
    for _, c in ipairs(pr.crossings) do
      count = count + 1
      if not first or c.at < first.c.at then first = { pr = pr, c = c } end
      rows[#rows + 1] = { pr.a, pr.b, fmt.int(c.at), c.cheaper, money.pretty(c.a_total), money.pretty(c.b_total) }
      crows[#crows + 1] = { pr.a, pr.b, string.format("%d", c.at), c.cheaper, plain_money(c.a_total),
                            plain_money(c.b_total) }
    end
    if #pr.crossings == 0 and not p0 then
      rows[#rows + 1] = { pr.a, pr.b, fmt.int(t.from), pr.cheaper_at_start, "", "" }
      crows[#crows + 1] = { pr.a, pr.b, string.format("%d", t.from), pr.cheaper_at_start, "", "" }
    end
  end
  figs[#figs + 1] = key("Break-even points", tostring(count), first and string.format("first at %s %s: %s against %s",
    fmt.int(first.c.at), unit, first.pr.a, first.pr.b) or string.format("none between %s and %s %s",
    fmt.int(t.from), fmt.int(t.to), unit))
  h[#h + 1] = tbl { id = "breakeven", header = { "a", "b", "from " .. unit, "cheaper from there", "a total",
    "b total" }, rows = rows, numeric = { false, false, true, false, true, true }, csv = "breakeven.csv",
    csv_header = { "a", "b", "from_" .. tostring(t.metric), "cheaper", "a_total", "b_total" }, csv_rows = crows }
  h[#h + 1] = figure(function(w) return chart.cost_curves(t, { width = w }) end, "Monthly cost curves")
  local caps = {}
  for _, line in ipairs(chart.breakeven_lines(t)) do
    if line:find("(its cap)", 1, true) then caps[#caps + 1] = "<li>" .. esc(line) .. "</li>" end
  end
  if #caps > 0 then h[#h + 1] = "<ul>" .. table.concat(caps) .. "</ul>" end
end

--- One self-contained HTML page of a projection, a break-even table and a migration.
--
-- `report.html{ projection = imbill.project{...}, breakeven = imbill.breakeven_table{...},`
-- `migration = imbill.migration{...}, title = "...", subtitle = "..." } -> HTML text`
--
-- At least one of the three parts; each comes with its key figures, its
-- tables (each with a CSV download) and its charts.
-- @tab p the page:
-- @tparam[opt] Projection p.projection a projection (`imbill.project`)
-- @tparam[opt] BreakevenTable p.breakeven a break-even table (`imbill.breakeven_table`)
-- @tparam[opt] Migration p.migration a migration (`imbill.migration`)
-- @string[opt="imbill what-if report"] p.title the page's title
-- @string[opt] p.subtitle the line under it (default: how the amounts are exact)
-- @treturn string the HTML page, self-contained
-- @raise `imbill.report: projection: give a projection, a break-even table or a migration`,
-- `projection: expected a projection (imbill.project)`, `title: expected a string`, ...
function M.html(p)
  local FN = "imbill.report"
  p = check.fields(FN, p, { projection = true, breakeven = true, migration = true, title = true, subtitle = true })
  local proj = p.projection
  if proj == nil and p.breakeven == nil and p.migration == nil then
    check.fail(FN, "projection", "give a projection, a break-even table or a migration", check.NOVALUE)
  end
  if p.title ~= nil and type(p.title) ~= "string" then check.fail(FN, "title", "expected a string", p.title) end
  if p.subtitle ~= nil and type(p.subtitle) ~= "string" then
    check.fail(FN, "subtitle", "expected a string", p.subtitle)
  end
  if proj ~= nil and not methods.is(require("imbill.whatif.project").Projection, proj) then
    check.fail(FN, "projection", "expected a projection (imbill.project)", proj)
  end
  local bt = p.breakeven
  if bt ~= nil and not methods.is(require("imbill.whatif.curve").BreakevenTable, bt) then
    check.fail(FN, "breakeven", "expected a break-even table (imbill.breakeven_table)", bt)
  end
  local mig = p.migration
  if mig ~= nil and not methods.is(require("imbill.whatif.migration").Migration, mig) then
    check.fail(FN, "migration", "expected a migration (imbill.migration)", mig)
  end
  local title = p.title or "imbill what-if report"

  -- each warning and note once, whichever part raised it
  local warnings, notes, seen = {}, {}, {}
  local function note(s, warning)
    if seen[s] then return end
    seen[s] = true
    if warning then warnings[#warnings + 1] = s else notes[#notes + 1] = s end
  end
  local body, figs = {}, {}
  if proj then errors.call(FN, nil, projection, proj, body, figs, note) end
  if mig then errors.call(FN, nil, migration, mig, body, figs, note) end
  if bt then errors.call(FN, nil, breakeven, bt, body, figs, note) end

  local h = { "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
              '<meta name="viewport" content="width=device-width, initial-scale=1">',
              "<title>" .. esc(title) .. "</title>", "<style>" .. CSS .. "</style></head><body><main>",
              "<h1>" .. esc(title) .. "</h1>" }
  h[#h + 1] = '<p class="note">' .. esc(p.subtitle or "All amounts in USD, exact to the cent (each invoice line"
    .. " rounded once, half-up). Generated by imbill.") .. "</p>"
  h[#h + 1] = '<section class="figures" aria-label="key figures">' .. table.concat(figs) .. "</section>"
  for _, w in ipairs(warnings) do h[#h + 1] = '<p class="warning">' .. esc(w) .. "</p>" end
  if #notes > 0 then
    local li = {}
    for i, s in ipairs(notes) do li[i] = "<li>" .. esc(s) .. "</li>" end
    h[#h + 1] = '<div class="notes"><strong>Notes</strong><ul>' .. table.concat(li) .. "</ul></div>"
  end
  for _, part in ipairs(body) do h[#h + 1] = part end
  h[#h + 1] = "</main></body></html>"
  return table.concat(h, "\n") .. "\n"
end

return M
