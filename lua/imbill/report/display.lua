--- Rich display of imbill results for Jupyter: any value as a MIME bundle.
--
-- Every bundle has text/plain (the result's own tostring, or readable lines
-- for values that have none).  imbill's result types and plain Lua tables
-- also get a text/html table; charts get image/svg+xml and, next to it, a
-- text/html <img> whose source is the SVG as a base64 data URI.
--
-- Data never becomes markup: a string (a user id, a CSV cell, text shaped
-- like "<svg onload=...>") is text/plain only, and every text that goes into
-- HTML is escaped.  Only imbill's own chart documents (imbill.report.svg
-- new, by identity, not by shape) are SVG, and only display.html and
-- display.svg, which a cell's code calls on purpose, pass markup as given.  The <img>
-- is what a notebook exported by nbconvert keeps: nbconvert passes an
-- image/svg+xml output through lxml's cleaner, which drops every element
-- inside <svg> (docs/notebooks.md has the details).
--
-- Types are recognised by their shape (fields and methods), not by their
-- module, so results keep displaying while modules move.  Where a result has
-- :data() the tables are built from it (exact decimal strings); results
-- without it are read field by field.
--
-- Pure Lua (5.1/LuaJIT and 5.4).  The kernel (notebook/imbill_kernel) calls
-- `M.bundle` and publishes the bundle; imbill.report.kernel gives cells the
-- `display()` function.
-- @usage local display = require "imbill.report.display"
-- local bundle, kind = display.bundle(imbill.invoice{ book = "2020", edition = "pro", month = "2021-03" })
-- print(kind, bundle["text/html"] ~= nil)  --> invoice  true
local imbill = require "imbill"
local utf8 = require "imbill.internal.utf8"
local fmt = require "imbill.internal.fmt"
local svgdoc = require "imbill.report.svg"
local check = require "imbill.internal.check"
local errors = require "imbill.internal.errors"
local integer = require "imbill.internal.integer"

local M = {}

local concat, format = table.concat, string.format
local floor = math.floor

-- Text -----------------------------------------------------------------------

local ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

--- Text made safe for HTML content and attribute values.  Control bytes that
-- XML and HTML reject are dropped rather than escaped; bytes that are not
-- UTF-8 become U+FFFD (imbill.internal.utf8).
-- @param s a value (`tostring` is applied)
-- @treturn string the text, `& < > " '` escaped
function M.escape(s)
  s = utf8.clean(tostring(s)):gsub("[%z\1-\8\11\12\14-\31\127]", "")
  return (s:gsub("[&<>\"']", ESC))
end
local esc = M.escape

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local ENC = {}
for i = 1, 64 do ENC[i - 1] = B64:sub(i, i) end

--- Base64 (RFC 4648) by arithmetic alone: Lua 5.1 has no bit operators and
-- 5.4's would not parse on 5.1.
-- @string s the bytes
-- @treturn string their base64 text, padded with `=`
function M.base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    out[#out + 1] = ENC[floor(v / 262144)] .. ENC[floor(v / 4096) % 64]
      .. (b and ENC[floor(v / 64) % 64] or "=") .. (c and ENC[v % 64] or "=")
  end
  return concat(out)
end

local function is_money(v) return type(v) == "userdata" and imbill.money.is(v) == true end

local function group3(digits)
  return (digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end

--- An exact amount (money, or the decimal string :data() gives) with
-- thousands separators; every decimal it carries is kept ("0.015").
-- @tparam Money|string v the amount
-- @treturn string the text (`tostring(v)` as it is when it is not a decimal)
function M.amount(v)
  local s = tostring(v)
  local sign, int, frac = s:match("^([+-]?)(%d+)(%.?%d*)$")
  if not sign then return s end
  return sign .. group3(int) .. frac
end
local amount = M.amount

-- A signed difference: "+100.00", "-100.00", "0.00".
local function signed(v)
  local s = amount(v)
  if s:match("^%-") or not s:match("[1-9]") then return s end
  return "+" .. s
end

--- A count with thousands separators ("25,000"); anything else as tostring.
-- @param n a whole number, or any value
-- @treturn string the text (`""` for nil)
function M.count(n)
  if type(n) ~= "number" then return n == nil and "" or tostring(n) end
  if n ~= floor(n) or n ~= n or math.abs(n) >= 2 ^ 53 then return fmt.number(n) end
  local s = format("%.0f", n)
  local sign, digits = s:match("^(-?)(%d+)$")
  return sign .. group3(digits)
end
local count = M.count

-- A field of x, or nil when reading it fails (a strict __index).
local function get(x, k)
  local ok, v = pcall(function() return x[k] end)
  if ok then return v end
  return nil
end

local function is_fn(x, k) return type(get(x, k)) == "function" end
local function is_tbl(x, k) return type(get(x, k)) == "table" end

-- The object's own text: its __tostring when it has one.
local function own_text(x)
  local mt = getmetatable(x)
  if type(mt) == "table" and mt.__tostring then return tostring(x) end
  return nil
end

-- Aligned text columns; `right` marks the columns aligned right.
local function text_table(header, rows, right)
  right = right or {}
  local w = {}
  local function widen(r)
    for i = 1, #header do w[i] = math.max(w[i] or 0, #tostring(r[i] or "")) end
  end
  widen(header)
  for _, r in ipairs(rows) do widen(r) end
  local out = {}
  local function line(r)
    local cells = {}
    for i = 1, #header do
      local c = tostring(r[i] or "")
      local pad = string.rep(" ", w[i] - #c)
      cells[i] = right[i] and (pad .. c) or (c .. pad)
    end
    out[#out + 1] = (concat(cells, "  "):gsub("%s+$", ""))
  end
  line(header)
  for _, r in ipairs(rows) do line(r) end
  return concat(out, "\n")
end

-- HTML -----------------------------------------------------------------------

-- Inline styles, so a table looks the same in the notebook, in an exported
-- page and in a mail; align= as well, because nbconvert's sanitizer (when
-- asked for) keeps align but drops style.  Notebook CSS right-aligns table
-- cells, so every cell says which way it goes.
local PAD = "padding:2px 10px;border-bottom:1px solid #e2e2e2;vertical-align:top;"
local NUM = "font-variant-numeric:tabular-nums;white-space:nowrap;"
local TOTAL = "font-weight:bold;border-top:2px solid #666;"
local BEST = "background:#eaf6ea;font-weight:bold;"

-- A cell with more than its text (markup, a hover title, greyed): made by
-- display's own code alone, so a table that arrives in a result's data is
-- never taken for one and its html never reaches the page unescaped.
local CELL = {}

--- A cell of `table_html` with more than its text.
-- @tab c `{ text =, html =, title =, muted = }`: `html` is used as given (the
-- caller escapes what it puts in), else `text` is escaped
-- @treturn table the cell
function M.cell(c) return setmetatable(c, CELL) end
local cell = M.cell

--- An HTML table.  header: column titles; right: columns aligned right
-- (amounts, counts); rows: arrays of cells, each a text or a `cell{...}`
-- (any other value, a table included, is shown as escaped text); a row with
-- total = true is a total row, one with sub = true a subtotal, one with
-- best = true is highlighted.
-- @string class the table's class, after `imbill-table`
-- @tparam {string,...} header the column titles
-- @tparam {table,...} rows the rows
-- @tparam[opt] {bool,...} right the columns aligned right
-- @treturn string the `<table>` element, styled inline
function M.table_html(class, header, rows, right)
  right = right or {}
  local out = { '<table class="imbill-table ' .. esc(class) .. '" style="border-collapse:collapse;margin:6px 0;'
    .. 'font-size:13px">', "<thead><tr>" }
  for i, h in ipairs(header) do
    local al = right[i] and "right" or "left"
    out[#out + 1] = format('<th align="%s" style="%stext-align:%s;border-bottom:1px solid #888;background:#f4f4f4">%s'
      .. "</th>", al, PAD, al, esc(h))
  end
  out[#out + 1] = "</tr></thead><tbody>"
  for _, r in ipairs(rows) do
    local rowstyle = r.total and TOTAL or (r.sub and "font-style:italic;" or (r.best and BEST or ""))
    out[#out + 1] = r.total and '<tr class="imbill-total">' or (r.sub and '<tr class="imbill-subtotal">'
      or (r.best and '<tr class="imbill-best">' or "<tr>"))
    for i = 1, #header do
      local c = r[i]
      if c == nil then c = "" end
      if getmetatable(c) ~= CELL then c = { text = c } end
      local al = right[i] and "right" or "left"
      local style = PAD .. "text-align:" .. al .. ";" .. rowstyle .. (right[i] and NUM or "")
        .. (c.muted and "color:#999;" or "")
      local cls = right[i] and ' class="imbill-num"' or ""
      local title = c.title and (' title="' .. esc(c.title) .. '"') or ""
      out[#out + 1] = format('<td align="%s"%s%s style="%s">%s</td>', al, cls, title, style,
        c.html or esc(c.text))
    end
    out[#out + 1] = "</tr>"
  end
  out[#out + 1] = "</tbody></table>"
  return concat(out)
end
local html_table = M.table_html

local function para(s, style) return '<p style="margin:4px 0;font-size:13px;' .. (style or "") .. '">' .. s .. "</p>" end
local function heading(title, rest)
  return para("<b>" .. esc(title) .. "</b>" .. (rest and rest ~= "" and ("&#160; " .. esc(rest)) or ""))
end
local function section(kind, parts)
  return '<div class="imbill imbill-' .. kind .. '">' .. concat(parts, "\n") .. "</div>"
end
local WARNING = "background:#fff4e5;border:1px solid #f0b35a;padding:6px 10px;font-weight:bold;"

-- Charts ---------------------------------------------------------------------

local function unescape(s)
  return (s:gsub("&lt;", "<"):gsub("&gt;", ">"):gsub("&quot;", '"'):gsub("&#39;", "'"):gsub("&amp;", "&"))
end

--- A chart's bundle from SVG text or an imbill.chart document: the SVG
-- itself, and an <img> with the SVG as a data URI for text/html (the form
-- that survives export).
-- @tparam string|table doc SVG text, or a chart document (`imbill.chart`)
-- @tab[opt] opts `{ title = }`: the `<img>`'s alt text (default: the chart's heading)
-- @treturn table `{ text =, html =, svg = }`
function M.chart(doc, opts)
  opts = opts or {}
  local svg = type(doc) == "string" and doc or tostring(doc)
  svg = svg:gsub("^%s*<%?xml[^>]*%?>%s*", "")
  local head = svg:match("<svg[^>]*>") or ""
  local w, h = head:match('%swidth="([%d%.]+)"'), head:match('%sheight="([%d%.]+)"')
  -- the heading drawn on the chart says most; the SVG's <title> is generic
  local drawn = svg:match('<text[^>]*font%-weight="bold"[^>]*>(.-)</text>')
  local title = opts.title or (drawn and unescape(drawn)) or (type(doc) == "table" and get(doc, "title"))
    or unescape(svg:match("<title>(.-)</title>") or "")
  if title == "" then title = "imbill chart" end
  local size = (w and h) and format(' width="%s" height="%s"', w, h) or ""
  local html = '<div class="imbill imbill-chart"><img class="imbill-chart-img" alt="' .. esc(title) .. '"' .. size
    .. ' style="max-width:100%;height:auto" src="data:image/svg+xml;base64,' .. M.base64(svg) .. '"/></div>'
  return { text = format("imbill chart: %s (SVG%s)", title, (w and h) and (", " .. w .. " x " .. h .. " px") or ""),
           html = html, svg = svg }
end

-- Recognising results ----------------------------------------------------------

local function is_row(r)
  return type(r) == "table" and type(get(r, "book")) == "string" and type(get(r, "edition")) == "string"
    and is_money(get(r, "total")) and type(get(r, "eligible")) == "boolean" and is_tbl(r, "reasons")
end

local function is_summary(s)
  return type(s) == "table" and type(get(s, "n")) == "number" and is_money(get(s, "min"))
    and is_money(get(s, "max")) and is_money(get(s, "mean")) and is_tbl(s, "percentiles")
end

local Raw = {}
Raw.__index = Raw

-- Checked in order: the first match names the kind.
local KINDS = {
  { "raw", function(x) return getmetatable(x) == Raw end },
  { "chart", svgdoc.is_doc },
  { "invoice", function(x)
      return is_tbl(x, "lines") and is_money(get(x, "total")) and type(get(x, "due")) == "string"
        and get(x, "month") ~= nil and get(x, "edition") ~= nil
    end },
  { "comparison", function(x) return is_row(get(x, 1)) end },
  { "compare_row", is_row },
  { "breakeven_table", function(x)
      return is_tbl(x, "pairs") and is_tbl(x, "curves") and is_tbl(x, "editions") and get(x, "metric") ~= nil
    end },
  { "cost_curve", function(x)
      return type(get(x, "edition")) == "string" and get(x, "metric") ~= nil and is_tbl(x, "points")
        and is_fn(x, "cost")
    end },
  { "breakeven", function(x)
      local p = get(x, "points")
      return type(get(x, "a")) == "string" and type(get(x, "b")) == "string" and get(x, "metric") ~= nil
        and type(p) == "table" and (p[1] == nil or (type(p[1]) == "table" and p[1].cheaper ~= nil))
    end },
  { "migration", function(x)
      return is_tbl(x, "rows") and type(get(x, "warning")) == "string" and is_money(get(x, "dau_total"))
        and is_money(get(x, "mau_total"))
    end },
  { "projection", function(x)
      return is_tbl(x, "rows") and is_tbl(x, "best") and is_tbl(x, "months") and is_tbl(x, "usage")
    end },
  { "shadow", function(x)
      return is_tbl(x, "editions") and type(get(x, "base")) == "string" and type(get(x, "shadow")) == "string"
        and is_tbl(x, "months")
    end },
  { "grid", function(x) return is_fn(x, "by_edition") and is_fn(x, "summary") and is_tbl(x, "names") end },
  { "grid_summary", is_summary },
  { "grid_editions", function(x) local s = get(x, 1) return is_summary(s) and type(get(s, "edition")) == "string" end },
  { "series", function(x) return is_fn(x, "monthly") and is_fn(x, "months") and is_fn(x, "csv") end },
  { "book", function(x) return is_fn(x, "editions") and is_fn(x, "edition") and type(get(x, "name")) == "string" end },
  { "edition", function(x)
      return get(x, "rate") ~= nil and type(get(x, "id")) == "string" and type(get(x, "book")) == "string"
        and is_money(get(x, "monthly_fee"))
    end },
}

--- The kind of value x is: "invoice", "comparison", "chart", ... "table"
-- for any other table, "text" for a string (whatever it looks like: text
-- shaped like SVG or HTML is text), "value" for everything else.
-- Results are recognised by their shape, a field that raises when read
-- counting as absent; a chart by being an imbill chart document.
-- @param x any value
-- @treturn string `"raw"`, `"chart"`, `"invoice"`, `"comparison"`, `"compare_row"`, `"breakeven_table"`,
-- `"cost_curve"`, `"breakeven"`, `"migration"`, `"projection"`, `"shadow"`, `"grid"`, `"grid_summary"`,
-- `"grid_editions"`, `"series"`, `"book"`, `"edition"`, `"money"`, `"table"`, `"text"` or `"value"`
function M.kind(x)
  if type(x) == "string" then return "text" end
  if is_money(x) then return "money" end
  if type(x) ~= "table" then return "value" end
  for _, k in ipairs(KINDS) do
    local ok, yes = pcall(k[2], x)
    if ok and yes then return k[1] end
  end
  return "table"
end

-- The plain data of a result: its :data() when it has one, else nil.
local function data_of(x)
  if not is_fn(x, "data") then return nil end
  local ok, d = pcall(x.data, x)
  if ok and type(d) == "table" then return d end
  return nil
end

-- Plain tables -----------------------------------------------------------------

local IDENT = "^[%a_][%w_]*$"
-- Numbers first, by value; then every other key by its text, and by its
-- type's name where two texts are the same.  A total order: with "a
-- boolean and a string are equal" a table of true, "a" and "z" came out in
-- whichever order its keys were met (and 5.4's sort may refuse such an
-- order outright).
local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta == "number" or tb == "number" then
    if ta ~= tb then return ta == "number" end
    return a < b
  end
  if ta == "string" and tb == "string" then return a < b end
  local sa, sb = tostring(a), tostring(b)
  if sa ~= sb then return sa < sb end
  return ta < tb
end
local function sorted_keys(t)
  local keys, kind = {}, nil
  for k in pairs(t) do
    keys[#keys + 1] = k
    local tk = type(k)
    if kind == nil then kind = tk elseif kind ~= tk then kind = false end
  end
  -- keys all strings or all numbers: the same order, by the built-in compare
  if kind == "string" or kind == "number" then table.sort(keys) else table.sort(keys, key_less) end
  return keys
end

local function sequence_length(t)
  -- without t[1] only an empty table is one: a table of a million keys is
  -- not counted, once per part of its display
  if t[1] == nil then
    local f, s, k = pairs(t)
    return f(s, k) == nil and 0 or nil
  end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  for i = 1, n do if t[i] == nil then return nil end end
  return n
end

local function scalar(v)
  if is_money(v) then return amount(v) end
  if type(v) == "string" then return v end
  if type(v) == "number" then return fmt.number(v) end -- tostring: 14 digits on LuaJIT
  return tostring(v)
end

local function key_text(k)
  if type(k) == "string" and k:match(IDENT) then return k end
  if type(k) == "string" then return format("[%q]", k) end
  return "[" .. (type(k) == "number" and fmt.number(k) or tostring(k)) .. "]"
end

-- Lua-like text for a value inside a table: strings quoted, short tables on
-- one line, longer ones over several with two spaces per level.
-- At most this many rows of a table, and entries of a table's text: a
-- table of a million entries shows its first 500 and how many more there
-- are, never megabytes of output (kept in the notebook file).
local MAX_ROWS = 500

-- The first `limit` keys of t in sorted_keys' order, and how many keys t
-- has.  A max-heap of the `limit` smallest seen so far: a table of two
-- million keys costs one compare for most keys, where sorting them all took
-- seconds in C that no interrupt could stop, to show the first 500.
local function smallest_keys(t, limit)
  local heap, total = {}, 0
  local function down(i, size)
    while true do
      local l, big = 2 * i, i
      if l <= size and key_less(heap[big], heap[l]) then big = l end
      if l + 1 <= size and key_less(heap[big], heap[l + 1]) then big = l + 1 end
      if big == i then return end
      heap[i], heap[big] = heap[big], heap[i]
      i = big
    end
  end
  for k in pairs(t) do
    total = total + 1
    if total <= limit then
      local i = total
      heap[i] = k
      while i > 1 and key_less(heap[floor(i / 2)], heap[i]) do
        local up = floor(i / 2)
        heap[i], heap[up] = heap[up], heap[i]
        i = up
      end
    elseif key_less(k, heap[1]) then
      heap[1] = k
      down(1, limit)
    end
  end
  table.sort(heap, key_less)
  return heap, total
end

-- The keys shown of t (a sequence of n values: 1 .. n, unsorted work spared;
-- else in sorted_keys' order), at most MAX_ROWS, and how many keys t has.
local function shown_keys(t, n)
  if not n then return smallest_keys(t, MAX_ROWS) end
  local keys = {}
  for i = 1, math.min(n, MAX_ROWS) do keys[i] = i end
  return keys, n
end

local function dump(v, indent, depth, seen)
  if type(v) == "string" then return (format("%q", v):gsub("\\\n", "\\n")) end
  if type(v) ~= "table" then return scalar(v) end
  local own = own_text(v)
  if own then return (own:gsub("\n", "\n" .. indent)) end
  if seen[v] then return "<cycle>" end
  if depth > 6 then return "{...}" end
  seen[v] = true
  local n = sequence_length(v)
  local parts, flat = {}, true
  local keys, total = shown_keys(v, n)
  for _, k in ipairs(keys) do
    local s = dump(v[k], indent .. "  ", depth + 1, seen)
    if s:find("\n", 1, true) then flat = false end
    parts[#parts + 1] = n and s or (key_text(k) .. " = " .. s)
  end
  if total > #keys then
    parts[#parts + 1] = format("... %d more", total - #keys)
    flat = false
  end
  seen[v] = nil
  if #parts == 0 then return "{}" end
  local one = "{ " .. concat(parts, ", ") .. " }"
  if flat and #one + #indent <= 100 then return one end
  return "{\n" .. indent .. "  " .. concat(parts, ",\n" .. indent .. "  ") .. ",\n" .. indent .. "}"
end

local PREFERRED = { "month", "date", "book", "edition", "name", "id", "code" }

-- Columns of an array of records: the usual identifying fields first, then
-- the others sorted.
local function record_columns(list, wanted)
  if wanted then return wanted end
  local seen, cols = {}, {}
  for _, r in ipairs(list) do
    for k in pairs(r) do
      if type(k) == "string" and not seen[k] then seen[k] = true cols[#cols + 1] = k end
    end
  end
  local rank = {}
  for i, k in ipairs(PREFERRED) do rank[k] = i end
  table.sort(cols, function(a, b)
    local ra, rb = rank[a] or 100, rank[b] or 100
    if ra ~= rb then return ra < rb end
    return a < b
  end)
  return cols
end

local function plain_html(t, depth, seen, columns)
  if type(t) ~= "table" or own_text(t) then
    local s = type(t) == "table" and own_text(t) or scalar(t)
    return (esc(s):gsub("\n", "<br/>"))
  end
  if seen[t] then return "&lt;cycle&gt;" end
  if depth > 3 then return esc(dump(t, "", 0, {})) end
  -- a short list of plain values inside a table reads best on one line
  local len = sequence_length(t)
  if depth > 0 and len and len > 0 and len <= 20 then
    local flat = true
    for i = 1, len do if type(t[i]) == "table" then flat = false break end end
    if flat then return esc(dump(t, "", 0, {})) end
  end
  seen[t] = true
  local n = sequence_length(t)
  local html
  local records = n and n > 0
  if records then
    for i = 1, n do
      if type(t[i]) ~= "table" or own_text(t[i]) or sequence_length(t[i]) == #t[i] and #t[i] > 0 then
        records = false
        break
      end
    end
  end
  if records then
    local cols = record_columns(t, columns)
    local right, rows = {}, {}
    for i = 1, math.min(n, MAX_ROWS) do
      local row = {}
      for j, c in ipairs(cols) do
        local v = t[i][c]
        if type(v) == "number" or is_money(v) then right[j] = right[j] ~= false end
        if v ~= nil and type(v) ~= "number" and not is_money(v) then right[j] = false end
        row[j] = cell { html = v == nil and "" or plain_html(v, depth + 1, seen) }
      end
      rows[#rows + 1] = row
    end
    for j in ipairs(cols) do right[j] = right[j] == true end
    html = html_table("imbill-plain", cols, rows, right)
    if n > MAX_ROWS then html = html .. para(esc(format("... %d more rows", n - MAX_ROWS))) end
  elseif n == 0 then
    html = "<i>empty table</i>"
  else
    local rows = {}
    local keys, total = shown_keys(t, n)
    for _, k in ipairs(keys) do
      rows[#rows + 1] = { n and tostring(k) or key_text(k), cell { html = plain_html(t[k], depth + 1, seen) } }
    end
    html = html_table("imbill-plain", { n and "#" or "key", "value" }, rows, {})
    if total > #keys then html = html .. para(esc(format("... %d more rows", total - #keys))) end
  end
  seen[t] = nil
  return html
end

local function plain_text(t, columns)
  local n = sequence_length(t)
  if n and n > 0 then
    local cols
    for i = 1, n do
      if type(t[i]) ~= "table" or own_text(t[i]) then cols = nil break end
      cols = cols or record_columns(t, columns)
    end
    if cols and #cols > 0 then
      local rows = {}
      for i = 1, math.min(n, MAX_ROWS) do
        local row = {}
        for j, c in ipairs(cols) do
          local v = t[i][c]
          row[j] = v == nil and "" or (type(v) == "table" and (dump(v, "", 1, {}):gsub("%s*\n%s*", " ")) or scalar(v))
        end
        rows[i] = row
      end
      return text_table(cols, rows) .. (n > MAX_ROWS and format("\n... %d more rows", n - MAX_ROWS) or "")
    end
  end
  return dump(t, "", 0, {})
end

-- imbill results -----------------------------------------------------------------

local R = {}

--- Renders raw content (`html`, `markdown`, `text`, `svg`): its parts as given.
-- @param x the value `kind` recognised
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.raw(x) return x.render end

--- Renders a chart: `chart(x)`.
-- @param x the value `kind` recognised
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.chart(x) return M.chart(x) end

--- Renders a string: the text as it is.
-- @param x the value `kind` recognised
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.text(x) return { text = x } end

--- Renders any other value: its `tostring`.
-- @param x the value `kind` recognised
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.value(x)
  if type(x) == "number" then return { text = fmt.number(x) } end
  return { text = tostring(x) }
end

--- Renders money: its exact decimal.
-- @param x the value `kind` recognised
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.money(x) return { text = tostring(x) } end

--- Renders an invoice: its lines, total and due dates as a table.
-- @param x the value `kind` recognised
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.invoice(x)
  local d = data_of(x)
  local rows = {}
  for _, l in ipairs(d.lines) do
    rows[#rows + 1] = { cell { html = "<code>" .. esc(l.code) .. "</code>" }, amount(l.amount), l.note or "" }
  end
  rows[#rows + 1] = { "total", amount(d.total), "USD", total = true }
  local parts = {
    heading("Invoice " .. d.month, format("price book %s, edition %s (USD, days in UTC%s)", d.book, d.edition,
      d.tz or "")),
    html_table("imbill-invoice", { "line", "amount (USD)", "note" }, rows, { false, true, false }),
    para(esc(format("due %s; if unpaid: suspended %s, data deleted %s", d.due, d.suspend, d.delete)),
      "color:#555"),
  }
  for _, n in ipairs(d.notes or {}) do parts[#parts + 1] = para("note: " .. esc(n), "color:#a05a00") end
  return { text = own_text(x), html = section("invoice", parts) }
end

local function compare_rows(rows_data, best_index)
  local rows = {}
  for i, r in ipairs(rows_data) do
    local why = concat(r.reasons or {}, "; ")
    rows[#rows + 1] = { tostring(i), r.book, r.edition, amount(r.total),
      r.eligible and (i == best_index and "yes (cheapest)" or "yes") or "no",
      cell { text = why, muted = why ~= "" } }
    if i == best_index then rows[#rows].best = true end
  end
  return rows
end

local COMPARE_HEADER = { "#", "book", "edition", "total (USD)", "eligible", "why not" }
local COMPARE_RIGHT = { true, false, false, true, false, false }

--- Renders a comparison: its rows, the best one highlighted.
-- @param x the value `kind` recognised
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.comparison(x)
  local d = data_of(x)
  if not d then
    d = {}
    for i, r in ipairs(x) do
      d[i] = { book = r.book, edition = r.edition, total = tostring(r.total), eligible = r.eligible,
               reasons = r.reasons }
    end
  end
  local best
  for i, r in ipairs(d) do if r.eligible then best = i break end end
  local parts = { html_table("imbill-compare", COMPARE_HEADER, compare_rows(d, best), COMPARE_RIGHT) }
  parts[#parts + 1] = para(best and esc(format("Cheapest edition that can serve this usage: %s/%s, %s USD.",
    d[best].book, d[best].edition, amount(d[best].total))) or "No edition can serve this usage.")
  return { text = own_text(x), html = section("compare", parts) }
end

--- Renders one row of a comparison.
-- @param x the value `kind` recognised
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.compare_row(x)
  local d = { book = x.book, edition = x.edition, total = tostring(x.total), eligible = x.eligible,
              reasons = x.reasons }
  local text = text_table(COMPARE_HEADER, { { "1", d.book, d.edition, amount(d.total), d.eligible and "yes" or "no",
    concat(d.reasons, "; ") } }, COMPARE_RIGHT)
  return { text = text, html = section("compare", { html_table("imbill-compare", COMPARE_HEADER,
    compare_rows({ d }), COMPARE_RIGHT) }) }
end

local UNIT = { dau = "DAU", mau = "MAU", groups = "groups" }

--- Renders a break-even result: its points.
-- @param x the value `kind` recognised
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.breakeven(x)
  local d = data_of(x)
  if not d then
    d = { a = x.a, b = x.b, metric = x.metric, from = x.from, to = x.to, points = {} }
    for i, p in ipairs(x.points) do
      d.points[i] = { at = p.at, cheaper = p.cheaper, a_total = tostring(p.a_total), b_total = tostring(p.b_total) }
    end
  end
  local unit = UNIT[d.metric] or tostring(d.metric)
  local name = { a = d.a, b = d.b, equal = "equal" }
  local rows, text_rows, says = {}, {}, {}
  for i, p in ipairs(d.points) do
    local cheaper = name[p.cheaper] or p.cheaper
    rows[i] = { count(p.at), cheaper, amount(p.a_total), amount(p.b_total) }
    text_rows[i] = rows[i]
    says[#says + 1] = format("from %s %s on: %s", count(p.at), unit, cheaper == "equal" and "both cost the same"
      or (cheaper .. " is cheaper"))
  end
  local header = { "from " .. unit, "cheaper", d.a, d.b }
  local right = { true, false, true, true }
  local title = format("%s against %s by %s, %s .. %s", d.a, d.b, unit, count(d.from), count(d.to))
  local parts = { heading(title), html_table("imbill-breakeven", header, rows, right),
                  para(esc(concat(says, "; ")), "color:#555") }
  return { text = own_text(x) or (title .. "\n" .. text_table(header, text_rows, right)),
           html = section("breakeven", parts) }
end

local function chart_html(doc)
  local ok, c = pcall(M.chart, doc)
  return ok and c.html or nil
end

--- Renders a break-even table: its points, and the cost curves chart unless `opts.chart == false`.
-- @param x the value `kind` recognised
-- @tab opts the options of `bundle`
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.breakeven_table(x, opts)
  local d = data_of(x)
  local unit = UNIT[d.metric] or tostring(d.metric)
  local rows = {}
  for _, pr in ipairs(d.pairs) do
    for k, pt in ipairs(pr.points) do
      rows[#rows + 1] = { k == 1 and pr.a or "", k == 1 and pr.b or "", count(pt.at), pt.cheaper, amount(pt.a_total),
                          amount(pt.b_total) }
    end
  end
  local parts = {
    heading("Break-even points by " .. unit, format("%s .. %s; %s", count(d.from), count(d.to),
      concat(d.editions, ", "))),
    html_table("imbill-breakeven", { "a", "b", "from " .. unit, "cheaper from there", "a total", "b total" }, rows,
      { false, false, true, false, true, true }),
  }
  if opts.chart ~= false then
    local ok, doc = pcall(function() return imbill.chart.cost_curves(x) end)
    parts[#parts + 1] = ok and chart_html(doc) or nil
  end
  return { text = own_text(x), html = section("breakeven-table", parts) }
end

--- Renders a cost curve: its points, and its chart unless `opts.chart == false`.
-- @param x the value `kind` recognised
-- @tab opts the options of `bundle`
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.cost_curve(x, opts)
  local unit = UNIT[x.metric] or tostring(x.metric)
  local rows = {}
  for i, p in ipairs(x.points) do
    rows[i] = { count(p.at), amount(p.total), p.kind == "linear" and "rises by the user to the next point"
      or "constant to the next point" }
  end
  local header = { "from " .. unit, "total (USD)", "then" }
  local right = { true, true, false }
  local title = format("Cost curve of %s by %s, %s .. %s", x.edition, unit, count(x.from), count(x.to))
  local parts = { heading(title), html_table("imbill-cost-curve", header, rows, right) }
  if opts.chart ~= false then
    local ok, doc = pcall(imbill.chart.cost_curves, x, { title = "Monthly cost of " .. x.edition .. " by " .. unit })
    parts[#parts + 1] = ok and chart_html(doc) or nil
  end
  return { text = title .. "\n" .. text_table(header, rows, right), html = section("cost-curve", parts) }
end

--- Renders a projection: the months by edition, the best edition and the path.
-- @param x the value `kind` recognised
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.projection(x)
  local d = data_of(x)
  local has_mau = false
  for _, u in ipairs(d.usage or {}) do if u.mau then has_mau = true end end
  local header, right = { "month", "peak DAU" }, { false, true }
  if has_mau then header[#header + 1] = "MAU" right[#right + 1] = true end
  for _, e in ipairs(d.editions) do header[#header + 1] = e.name right[#right + 1] = true end
  header[#header + 1] = "best (on it all month)"
  header[#header + 1] = "cheapest path"
  local rows = {}
  for j, month in ipairs(d.months) do
    local u = d.usage[j] or {}
    local row = { month, count(u.peak_dau) }
    if has_mau then row[#row + 1] = count(u.mau) end
    for _, e in ipairs(d.editions) do
      local c = e.months[j]
      local why = concat(c.reasons or {}, "; ")
      if c.note then why = c.note .. (why ~= "" and ("; " .. why) or "") end
      row[#row + 1] = cell { text = amount(c.total) .. (c.eligible and "" or "*"), muted = not c.eligible,
                             title = why ~= "" and why or nil }
    end
    local b = d.best[j] or {}
    row[#row + 1] = b.edition and (b.edition .. " " .. amount(b.total)) or (b.note or "none")
    local st = d.path and d.path.steps[j]
    row[#row + 1] = st and ((st.edition or "-") .. (st.change and (" (" .. st.change .. ")") or "")) or ""
    rows[#rows + 1] = row
  end
  local tot = { "total", "" }
  if has_mau then tot[#tot + 1] = "" end
  for _, e in ipairs(d.editions) do
    tot[#tot + 1] = cell { text = amount(e.total) .. ((e.eligible and e.legal ~= false) and "" or "*"),
                           muted = not (e.eligible and e.legal ~= false), title = e.note }
  end
  tot[#tot + 1] = ""
  tot[#tot + 1] = d.path and amount(d.path.total) or ""
  tot.total = true
  rows[#rows + 1] = tot
  local facts = {}
  if d.cheapest then
    facts[#facts + 1] = format("Cheapest single edition: %s, %s USD.", d.cheapest.edition, amount(d.cheapest.total))
  end
  if d.path and d.path.total then
    facts[#facts + 1] = format("Cheapest legal path (price book %s): %s USD with %d change%s.", d.path.book,
      amount(d.path.total), d.path.changes, d.path.changes == 1 and "" or "s")
  end
  local parts = {
    heading(format("Projection %s .. %s", d.months[1], d.months[#d.months]),
      "USD per month; books " .. concat(d.books or {}, ", ")),
    html_table("imbill-projection", header, rows, right),
    para(esc("* cannot serve that month (limits or features) or not a legal choice; hover for the reasons"),
      "color:#777;font-size:12px"),
    para(esc(concat(facts, " "))),
  }
  return { text = own_text(x), html = section("projection", parts) }
end

--- Renders a migration: the months, the totals and the verdict.
-- @param x the value `kind` recognised
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.migration(x)
  local d = data_of(x)
  local rows = {}
  for _, r in ipairs(d.rows) do
    rows[#rows + 1] = { r.month, count(r.peak_dau), count(r.mau), amount(r.dau_plan), amount(r.mau_plan),
                        signed(r.saving), signed(r.cumulative), r.cheaper }
  end
  rows[#rows + 1] = { "total", "", "", amount(d.dau_total), amount(d.mau_total), signed(d.difference), "", "",
                      total = true }
  local verdict = {}
  if is_fn(x, "verdict") then
    for line in tostring(x:verdict()):gmatch("[^\n]+") do
      if not line:match("^WARNING: ") then verdict[#verdict + 1] = line end
    end
  else
    verdict[1] = d.pays_off_from and ("Migration pays off from " .. d.pays_off_from .. ".")
      or "Migration does not pay off within the horizon."
    verdict[2] = d.best_month and ("Best month to migrate: " .. d.best_month .. ".") or "Best choice: do not migrate."
  end
  local parts = {
    heading("Migration: " .. d.from .. " against " .. d.to, "(saving = DAU plan - MAU plan, USD)"),
    html_table("imbill-migration", { "month", "peak DAU", "MAU", d.from, d.to, "saving", "cumulative", "cheaper" },
      rows, { false, true, true, true, true, true, true, false }),
  }
  for _, v in ipairs(verdict) do parts[#parts + 1] = para(esc(v)) end
  parts[#parts + 1] = '<p class="imbill-warning" style="margin:6px 0;' .. WARNING .. '">' .. esc(d.warning) .. "</p>"
  return { text = own_text(x), html = section("migration", parts) }
end

--- Renders a shadow run: the lines on both books.
-- @param x the value `kind` recognised
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.shadow(x)
  local d = data_of(x)
  local parts = { heading(format("Shadow pricing: price book %s against %s", d.base, d.shadow),
    format("%s .. %s (USD)", d.months[1], d.months[#d.months])) }
  for _, e in ipairs(d.editions) do
    local rows = {}
    for _, mo in ipairs(e.months) do
      for i, l in ipairs(mo.lines) do
        rows[#rows + 1] = { i == 1 and mo.month or "", cell { html = "<code>" .. esc(l.code) .. "</code>" }, amount(l.base),
                            amount(l.shadow), signed(l.difference) }
      end
      rows[#rows + 1] = { "", "month total", amount(mo.base), amount(mo.shadow), signed(mo.difference), sub = true }
    end
    rows[#rows + 1] = { "total", e.edition, amount(e.base_total), amount(e.shadow_total), signed(e.difference),
                        total = true }
    parts[#parts + 1] = para(esc(format("%s: %s USD on %s, %s USD on %s, difference %s USD", e.edition,
      amount(e.base_total), d.base, amount(e.shadow_total), d.shadow, signed(e.difference))))
    parts[#parts + 1] = html_table("imbill-shadow", { "month", "line", d.base, d.shadow, "difference" }, rows,
      { false, false, true, true, true })
  end
  return { text = own_text(x), html = section("shadow", parts) }
end

local function scenario_text(s)
  if type(s) ~= "table" then return tostring(s or "") end
  return format("%s, growth %s a month, start %s DAU: %s", tostring(s.edition), tostring(s.growth),
    count(s.start_dau), s.total and amount(s.total) or "")
end

local function summary_columns(list)
  local header = { "edition", "scenarios", "cheapest in" }
  local right = { false, true, true }
  local pcs = list[1] and list[1].percentiles or {}
  header[#header + 1] = "min" right[#right + 1] = true
  for _, p in ipairs(pcs) do header[#header + 1] = "p" .. tostring(p.p) right[#right + 1] = true end
  for _, k in ipairs { "max", "mean" } do header[#header + 1] = k right[#right + 1] = true end
  return header, right, pcs
end

local function summary_row(s, pcs, name)
  local row = { name or s.edition or "all", count(s.n), s.wins and count(s.wins) or "", amount(s.min) }
  for i in ipairs(pcs) do
    local p = s.percentiles[i]
    row[#row + 1] = p and amount(p.value) or ""
  end
  row[#row + 1] = amount(s.max)
  row[#row + 1] = amount(s.mean)
  return row
end

local function summaries(list, all, class)
  local header, right, pcs = summary_columns(list)
  local rows = {}
  for _, s in ipairs(list) do rows[#rows + 1] = summary_row(s, pcs) end
  if all then
    local row = summary_row(all, pcs, "all editions")
    row.total = true
    rows[#rows + 1] = row
  end
  return html_table(class, header, rows, right), text_table(header, rows, right)
end

--- The percentiles a grid shows by default: 5, 50 and 95.
-- @field GRID_PERCENTILES

-- Percentiles shown for a grid: enough to read the spread, few enough that
-- the table fits a notebook's width.
M.GRID_PERCENTILES = { 5, 50, 95 }

--- Renders a grid: the summary by edition, percentiles `opts.percentiles` (default `GRID_PERCENTILES`).
-- @param x the value `kind` recognised
-- @tab opts the options of `bundle`
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.grid(x, opts)
  local pcs = opts.percentiles or M.GRID_PERCENTILES
  local list, all = x:by_edition(pcs), x:summary(nil, pcs)
  local html, text = summaries(list, all, "imbill-grid")
  local parts = { heading(tostring(x), "(totals over the months, USD)"), html }
  -- a case editions share the lowest total of is nobody's win: said, not hidden in the counts
  local tied, lines = x:tied(), {}
  if tied > 0 then
    local who = {}
    for _, s in ipairs(list) do
      if s.ties > 0 then who[#who + 1] = s.edition .. " " .. count(s.ties) end
    end
    lines[#lines + 1] = format("tied: %s (growth, starting DAU) cases have more than one cheapest edition (%s); "
      .. "\"cheapest in\" counts an edition only where it alone is cheapest", count(tied), concat(who, ", "))
  end
  lines[#lines + 1] = "cheapest scenario: " .. scenario_text(all.argmin)
  lines[#lines + 1] = "dearest scenario: " .. scenario_text(all.argmax)
  for _, l in ipairs(lines) do parts[#parts + 1] = para(esc(l)) end
  return { text = tostring(x) .. "\n" .. text .. "\n" .. concat(lines, "\n"), html = section("grid", parts) }
end

--- Renders a grid's summaries by edition.
-- @param x the value `kind` recognised
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.grid_editions(x)
  local html, text = summaries(x, nil, "imbill-grid")
  return { text = text, html = section("grid", { html }) }
end

--- Renders one grid summary.
-- @param x the value `kind` recognised
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.grid_summary(x)
  local rows = { { "scenarios", count(x.n) }, { "min", amount(x.min) } }
  for _, p in ipairs(x.percentiles) do rows[#rows + 1] = { "p" .. tostring(p.p), amount(p.value) } end
  rows[#rows + 1] = { "max", amount(x.max) }
  rows[#rows + 1] = { "mean", amount(x.mean) }
  if x.edition then table.insert(rows, 1, { "edition", x.edition }) end
  if x.wins then rows[#rows + 1] = { "cheapest in", count(x.wins) } end
  if x.ties and x.ties > 0 then rows[#rows + 1] = { "tied for cheapest in", count(x.ties) } end
  local lines = {}
  if x.argmin then lines[#lines + 1] = "cheapest scenario: " .. scenario_text(x.argmin) end
  if x.argmax then lines[#lines + 1] = "dearest scenario: " .. scenario_text(x.argmax) end
  local header = { "statistic", "value (USD)" }
  local parts = { html_table("imbill-grid-summary", header, rows, { false, true }) }
  for _, l in ipairs(lines) do parts[#parts + 1] = para(esc(l)) end
  return { text = text_table(header, rows, { false, true }) .. (#lines > 0 and ("\n" .. concat(lines, "\n")) or ""),
           html = section("grid", parts) }
end

--- Renders a series: its months.
-- @param x the value `kind` recognised
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.series(x)
  local rows = {}
  for _, m in ipairs(x:monthly()) do
    rows[#rows + 1] = { m.month, m.complete and count(m.days) or (count(m.days) .. " of " .. count(m.days_in_month)),
                        count(m.peak_dau), m.peak_dau_day, count(m.groups_peak), m.groups_peak_day,
                        m.mau and count(m.mau) or "-" }
  end
  local header = { "month", "days", "peak DAU", "peak DAU on", "peak groups", "peak groups on", "MAU" }
  local right = { false, true, true, false, true, false, true }
  local text = tostring(x)
  return { text = text .. "\n" .. text_table(header, rows, right),
           html = section("series", { heading(text), html_table("imbill-series", header, rows, right) }) }
end

local function charge_text(c, per_user)
  if not c or c.block == 0 then return "-" end
  if c.block == 1 or per_user then return format("over %s: %s each", count(c.free), amount(c.price)) end
  return format("over %s: %s per %s", count(c.free), amount(c.price), count(c.block))
end

local function edition_row(ed)
  local feats = {}
  for f, on in pairs(ed.features or {}) do if on then feats[#feats + 1] = f end end
  table.sort(feats)
  local ch = ed.charges or {}
  return { ed.id, amount(ed.monthly_fee), ed.free and "yes" or "no", charge_text(ch.dau), charge_text(ch.groups),
           charge_text(ch.mau), concat(feats, ", ") }
end

local EDITION_HEADER = { "edition", "monthly fee", "free", "DAU", "groups", "MAU", "features" }
local EDITION_RIGHT = { false, true, false, false, false, false, false }

--- Renders a price book: its editions.
-- @param x the value `kind` recognised
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.book(x)
  local rows = {}
  for _, id in ipairs(x:editions()) do rows[#rows + 1] = edition_row(x:edition(id)) end
  local text = tostring(x)
  return { text = text .. "\n" .. text_table(EDITION_HEADER, rows, EDITION_RIGHT),
           html = section("book", { heading(text), html_table("imbill-book", EDITION_HEADER, rows, EDITION_RIGHT) }) }
end

--- Renders an edition: its prices, features and limits.
-- @param x the value `kind` recognised
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.edition(x)
  local rows = { edition_row(x) }
  local lim = {}
  for _, k in ipairs(sorted_keys(x.limits or {})) do lim[#lim + 1] = { k, count(x.limits[k]) } end
  local parts = { heading(tostring(x)), html_table("imbill-book", EDITION_HEADER, rows, EDITION_RIGHT) }
  if #lim > 0 then parts[#parts + 1] = html_table("imbill-limits", { "limit", "value" }, lim, { false, true }) end
  return { text = tostring(x) .. "\n" .. text_table(EDITION_HEADER, rows, EDITION_RIGHT)
    .. (#lim > 0 and ("\n" .. text_table({ "limit", "value" }, lim, { false, true })) or ""),
    html = section("edition", parts) }
end

--- Renders any other table: a list of results one after the other, records as a table (`opts.columns`), else its fields.
-- @param x the value `kind` recognised
-- @tab opts the options of `bundle`
-- @treturn table `{ text =, html =, svg =, markdown = }`, the parts that apply
-- @local
function R.table(x, opts)
  -- an object that says what it is (a __tostring) is shown as that text
  local own = own_text(x)
  if own then return { text = own } end
  local n = sequence_length(x)
  -- an array of results: each shown as itself, one after the other
  if n and n > 0 then
    local all = true
    for i = 1, n do
      local k = M.kind(x[i])
      if k == "table" or k == "value" or k == "text" or k == "money" then all = false break end
    end
    if all then
      local texts, htmls = {}, {}
      for i = 1, n do
        local b = M.bundle(x[i])
        texts[i] = b["text/plain"]
        htmls[i] = b["text/html"] or ("<pre>" .. esc(b["text/plain"]) .. "</pre>")
      end
      return { text = concat(texts, "\n\n"), html = concat(htmls, "\n") }
    end
  end
  return { text = plain_text(x, opts.columns),
           html = section("plain", { plain_html(x, 0, {}, opts.columns) }) }
end

-- Options ----------------------------------------------------------------------

-- The kinds each option changes.  An option that changes nothing for the
-- value is as much a mistake as a misspelt one: both are errors, like a
-- chart's, where before the first was ignored and a bad value (a percentile
-- of 101) made the table fall back to its title line without a word.
local OPTION_KINDS = {
  chart = { breakeven_table = true, cost_curve = true },
  columns = { table = true },
  percentiles = { grid = true },
}
local OPTION_FOR = {
  chart = "a break-even table or a cost curve", columns = "a list of records", percentiles = "a grid",
}

local function options(opts, kind)
  local FN = "display"
  if opts == nil then return {} end
  if type(opts) ~= "table" then check.fail(FN, "opts", "expected a table of options", opts) end
  for k, v in next, opts do
    if type(k) ~= "string" or not OPTION_KINDS[k] then
      check.fail(FN, errors.field_name(k), "unknown option (known: chart, columns, percentiles)", v)
    end
    if not OPTION_KINDS[k][kind] then
      check.fail(FN, k, "is an option for " .. OPTION_FOR[k] .. ", not for a value of kind " .. kind, v)
    end
  end
  opts = check.raw(opts)
  if opts.chart ~= nil and type(opts.chart) ~= "boolean" then
    check.fail(FN, "chart", "expected true or false", opts.chart)
  end
  if opts.columns ~= nil then
    check.list(FN, "columns", opts.columns, "column names")
    for i, c in check.items(opts.columns) do
      if type(c) ~= "string" then check.fail(FN, "columns[" .. i .. "]", "expected a column name (a string)", c) end
    end
  end
  if opts.percentiles ~= nil then
    check.list(FN, "percentiles", opts.percentiles, "percentages 0 .. 100")
    for i, p in check.items(opts.percentiles) do
      local ok, e = pcall(integer.percentile, FN, p)
      if not ok then error(errors.rename(e, FN, "percentiles[" .. i .. "]"), 0) end
    end
  end
  return opts
end

--- x as a MIME bundle: { ["text/plain"] = ..., ["text/html"] = ...,
-- ["image/svg+xml"] = ... } (the last two where they apply), and its kind.
-- opts.chart = false leaves the chart out of break-even tables and cost
-- curves; opts.columns names (and orders) the columns of a list of records;
-- opts.percentiles chooses a grid's percentiles (default 5, 50, 95).
-- An unknown option, one that does not apply to x's kind, or a bad value is
-- an error naming the option and the value (`display: percentiles[1]: ...`).
-- A result that cannot be drawn as a table falls back to its text (the error
-- is kept in `display.last_error`).
-- @param x any value
-- @tab[opt] opts `{ chart =, columns = {...}, percentiles = {...} }`
-- @treturn table the bundle, by MIME type
-- @treturn string the kind (`kind`; `"value"` after a fall back)
function M.bundle(x, opts)
  local kind = M.kind(x)
  opts = options(opts, kind)
  local ok, r = pcall(R[kind], x, opts)
  if not ok or type(r) ~= "table" then
    M.last_error = r
    kind = "value"
    r = { text = own_text(x) or (type(x) == "table" and plain_text(x)) or tostring(x) }
  end
  local b = { ["text/plain"] = r.text or own_text(x) or tostring(x) }
  if r.html then b["text/html"] = r.html end
  if r.svg then b["image/svg+xml"] = r.svg end
  if r.markdown then b["text/markdown"] = r.markdown end
  return b, kind
end

-- Raw content --------------------------------------------------------------------

local function raw(render) return setmetatable({ render = render }, Raw) end

local function strip_tags(s)
  return unescape((s:gsub("<[Bb][Rr]%s*/?>", "\n"):gsub("</[Pp]>", "\n"):gsub("<[^>]*>", "")))
end

--- HTML given as is (the caller escapes what it puts in).
-- @param s the HTML (`tostring` is applied)
-- @treturn table raw content: `bundle` shows it as text/html, its text without tags as text/plain
function M.html(s) return raw { html = tostring(s), text = strip_tags(tostring(s)) } end

-- Markdown ---------------------------------------------------------------------

-- Markdown lets raw HTML through, and nbconvert's HTML export renders it
-- unsanitised, so a book name in a notebook's answer would become a live tag.
-- display.markdown therefore escapes & < > everywhere except inside code,
-- where markdown already shows text as it is (an entity there would show as
-- "&lt;").  Text counts as code only where every renderer that matters
-- agrees: CommonMark (Jupyter's front ends) and the mistune 0.8 that
-- nbconvert 6 uses, which has no code-span precedence (an emphasis or a link
-- that starts before a span can end inside it) and closes a fence at any
-- line ending in its fence.  Anything less certain is escaped: a loss of
-- looks (an "&lt;" in code), never raw HTML.

-- Blank lines end a paragraph; a fence only counts after one (or at the start).
local function blank(line) return not line:find("%S") end

-- A fenced block from lines[i]: the index of its closing line, or nil when the
-- block is not certain to be code for every renderer.  The fences must start
-- their lines (an indented fence may belong to a list item, which a line
-- inside that is not indented ends, in CommonMark: that line is then HTML),
-- the info string must be one plain word (mistune takes no other), the block
-- must close (mistune has no unclosed fences), and no line inside may hold
-- three fence characters in a row (mistune would close there).
local function fence_end(lines, i)
  local fence, info = lines[i]:match("^(`+)[ ]*(.-)[ ]*$")
  if not fence then fence, info = lines[i]:match("^(~+)[ ]*(.-)[ ]*$") end
  if not fence or #fence < 3 or not info:match("^[%w_%+%-%.#]*$") then return nil end
  local c, n = fence:sub(1, 1), #fence
  local run = c:rep(3)
  for j = i + 1, #lines do
    local close = lines[j]:match("^(" .. (c == "`" and "`" or "~") .. "+)[ ]*$")
    if close and #close >= n then return j > i + 1 and j or nil end
    if lines[j]:find(run, 1, true) then return nil end
  end
  return nil
end

local MD_ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;" }

-- One line of a paragraph, its & < > escaped outside the code spans that are
-- certain.  `state` is what the paragraph so far leaves open: whether a
-- backtick has been left unpaired or unsure (a later span could then pair
-- differently), and whether an emphasis, strikethrough or link could be
-- open (its end inside a span would cut the span).
local function md_line(line, state)
  local out, i, n = {}, 1, #line
  -- blockquote markers are markdown, not HTML
  local quote = line:match("^ ? ? ?>[> ]*")
  if quote then out[1] = quote i = #quote + 1 end
  while i <= n do
    local c = line:sub(i, i)
    if c == "\\" then
      local nx = line:sub(i + 1, i + 1)
      if nx:match("^%p$") then
        -- "\<" means a literal "<": the entity says the same to every renderer
        out[#out + 1] = MD_ESC[nx] or ("\\" .. nx)
        i = i + 2
      else
        out[#out + 1] = "\\"
        i = i + 1
      end
    elseif c == "`" then
      local run = line:match("^`+", i)
      local k, j, close = #run, i + #run, nil
      while true do
        local a, b = line:find("`+", j)
        if not a then break end
        if b - a + 1 == k then close = a break end
        j = b + 1
      end
      if not close then
        state.unsure = true
        out[#out + 1] = run
        i = i + k
      else
        local body = line:sub(i + k, close - 1)
        local sure = not state.unsure and (i == 1 or line:sub(i - 1, i - 1):match("%s") ~= nil)
          and body:find("[^`]") ~= nil and not body:find("|", 1, true)
          and not (state.open and body:find("[%*_~%]%)]"))
        if not sure then
          state.unsure = true
          if body:find("[%*_~%[]") then state.open = true end
        end
        out[#out + 1] = run .. (sure and body or body:gsub("[&<>]", MD_ESC)) .. run
        i = close + k
      end
    else
      local stop = line:find("[\\`]", i) or n + 1
      local text = line:sub(i, stop - 1)
      if text:find("[%*_~%[]") then state.open = true end
      out[#out + 1] = (text:gsub("[&<>]", MD_ESC))
      i = stop
    end
  end
  return concat(out)
end

--- Markdown made safe: `&`, `<` and `>` escaped everywhere except in code
-- spans and fenced code blocks, so no HTML in s reaches the page.  Leading
-- `>` (a blockquote) stays markdown.  A `\\<` becomes `&lt;`.
-- @param s the markdown (`tostring` is applied)
-- @treturn string the markdown without raw HTML
function M.markdown_safe(s)
  s = utf8.clean(tostring(s)):gsub("\r\n?", "\n"):gsub("[%z\1-\8\11\12\14-\31\127]", "")
  local lines = {}
  for line in (s .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  lines[#lines] = lines[#lines] ~= "" and lines[#lines] or nil
  local out, state, i, after_blank = {}, {}, 1, true
  while i <= #lines do
    local line = lines[i]
    local last = after_blank and fence_end(lines, i)
    if last then
      for j = i, last do out[#out + 1] = lines[j] end
      i, state, after_blank = last + 1, {}, false
    elseif blank(line) then
      out[#out + 1] = line
      i, state, after_blank = i + 1, {}, true
    else
      out[#out + 1] = md_line(line, state)
      i, after_blank = i + 1, false
    end
  end
  return concat(out, "\n") .. (s:sub(-1) == "\n" and "\n" or "")
end

-- What the punctuation of a value would start in markdown.  Only the
-- characters both CommonMark and mistune 0.8 unescape (mistune shows any
-- other backslash); & < > are left for markdown_safe, which escapes them.
local MD_PUNCT = "[\\`%*{}%[%]%(%)#%+%-%.!_>~|]"

-- A bare http(s) address is made a link by both renderers, and a backslash
-- inside it would become part of the address; so there only what could
-- build a link, an image, a table or code is escaped.  Punctuation that ends
-- the address is not part of the link (GFM), so it is escaped in full.
local URL_PUNCT = "[\\`%[%]%(%)|]"
local function url_at(s, i)
  local a, b = s:find("[Hh][Tt][Tt][Pp][Ss]?://[^%s<]+", i)
  if not a then return nil end
  local trail = s:sub(a, b):match("[%*_~%.,:;!%?'\"%)%]]*$")
  b = b - #trail
  if b - a < 8 then return url_at(s, b + #trail + 1) end
  return a, b
end

--- A value as markdown text that shows as itself: its markdown punctuation
-- backslash-escaped, line breaks made spaces.  Data put into
-- `display.markdown` through it can start no emphasis, heading, list, table,
-- link or image (no `[x](javascript:...)`), and its `& < >` are escaped by
-- `display.markdown`.  For text, not for the inside of a code span (which
-- would show the backslashes).
-- @param v a value (`tostring` is applied)
-- @treturn string the escaped text
function M.markdown_text(v)
  local s = utf8.clean(tostring(v)):gsub("[\r\n]+", " ")
  local out, i = {}, 1
  while i <= #s do
    local a, b = url_at(s, i)
    out[#out + 1] = s:sub(i, (a or #s + 1) - 1):gsub(MD_PUNCT, "\\%0")
    if not a then break end
    out[#out + 1] = s:sub(a, b):gsub(URL_PUNCT, "\\%0")
    i = b + 1
  end
  return concat(out)
end

--- Markdown, rendered by the notebook, with no HTML let through
-- (`markdown_safe`): data in it is shown as text, never as markup.
-- @param s the markdown text
-- @treturn table raw content: text/markdown and text/plain
function M.markdown(s) return raw { markdown = M.markdown_safe(s), text = tostring(s) } end

--- Text shown as it is, never as a table.
-- @param s the text
-- @treturn table raw content: text/plain only
function M.text(s) return raw { text = tostring(s) } end

--- SVG text, or an imbill.chart document, as a chart.
-- @tparam string|table s the SVG or the document
-- @treturn table raw content: image/svg+xml and the `<img>` form for text/html
function M.svg(s) return raw(M.chart(s)) end

return M
