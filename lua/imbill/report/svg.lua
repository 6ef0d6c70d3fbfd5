--- A small SVG writer: elements as text, every attribute and text escaped,
-- numbers written with at most one decimal so the output is stable; and the
-- axis arithmetic the charts share (round tick values, one number format per
-- axis).
local utf8 = require "imbill.internal.utf8"

local M = {}

local ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

--- Escapes text for XML content and attribute values.
function M.escape(s)
  -- bytes that are not UTF-8 become U+FFFD: a file with one is not XML
  s = utf8.clean(tostring(s))
  -- drop control characters XML 1.0 does not allow
  s = s:gsub("[%z\1-\8\11\12\14-\31]", "")
  return (s:gsub("[&<>\"']", ESC))
end

local function num(v)
  if type(v) ~= "number" then return M.escape(v) end
  if v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%d", v) end
  local s = string.format("%.1f", v)
  if s == "-0.0" then s = "0" end
  return (s:gsub("%.0$", ""))
end
M.num = num

-- `title` is not an attribute: it becomes the element's <title> child, the
-- text a browser shows on hover.
local function attrs(t)
  if not t then return "" end
  local keys = {}
  for k in pairs(t) do if k ~= "title" then keys[#keys + 1] = k end end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do
    local v = t[k]
    if v ~= nil and v ~= false then
      out[#out + 1] = string.format(' %s="%s"', k:gsub("_", "-"), num(v))
    end
  end
  return table.concat(out)
end

local Doc = {}
Doc.__index = Doc

--- new(width, height, title): an SVG document.
function M.new(width, height, title)
  return setmetatable({ width = width, height = height, title = title, parts = {} }, Doc)
end

--- Whether x is a document made by new (a chart of imbill.report.chart):
-- what a notebook may show as SVG, where text shaped like SVG is only text.
function M.is_doc(x) return getmetatable(x) == Doc end

function Doc:raw(s) self.parts[#self.parts + 1] = s return self end

function Doc:el(tag, a, text)
  local hover = a and a.title
  if text == nil and hover == nil then return self:raw("<" .. tag .. attrs(a) .. "/>") end
  return self:raw("<" .. tag .. attrs(a) .. ">" .. (hover and ("<title>" .. M.escape(hover) .. "</title>") or "")
    .. (text and M.escape(text) or "") .. "</" .. tag .. ">")
end

function Doc:open(tag, a) return self:raw("<" .. tag .. attrs(a) .. ">") end
function Doc:close(tag) return self:raw("</" .. tag .. ">") end

function Doc:rect(x, y, w, h, a)
  a = a or {}
  a.x, a.y, a.width, a.height = x, y, math.max(0, w), math.max(0, h)
  return self:el("rect", a)
end

function Doc:line(x1, y1, x2, y2, a)
  a = a or {}
  a.x1, a.y1, a.x2, a.y2 = x1, y1, x2, y2
  return self:el("line", a)
end

function Doc:circle(cx, cy, r, a)
  a = a or {}
  a.cx, a.cy, a.r = cx, cy, r
  return self:el("circle", a)
end

function Doc:text(x, y, s, a)
  a = a or {}
  a.x, a.y = x, y
  return self:el("text", a, s)
end

--- A path through points { {x, y}, ... } (M then L).
function Doc:polyline(pts, a)
  local d = {}
  for i, p in ipairs(pts) do d[i] = (i == 1 and "M" or "L") .. num(p[1]) .. " " .. num(p[2]) end
  a = a or {}
  a.d = table.concat(d, " ")
  a.fill = a.fill or "none"
  return self:el("path", a)
end

function Doc:__tostring()
  local head = string.format('<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s"'
    .. ' font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12" role="img">',
    num(self.width), num(self.height), num(self.width), num(self.height))
  local title = self.title and ("<title>" .. M.escape(self.title) .. "</title>") or ""
  return head .. title .. table.concat(self.parts, "\n") .. "</svg>"
end

--- The XML prolog plus the document: a standalone .svg file.
function Doc:file()
  return '<?xml version="1.0" encoding="UTF-8"?>\n' .. tostring(self) .. "\n"
end

--- "Nice" tick values covering [lo, hi]: steps of 1, 2, 2.5 or 5 x 10^k, about
-- n ticks.  `whole` keeps the step at 1 or more (an axis of counts).
function M.ticks(lo, hi, n, whole)
  n = n or 6
  if hi <= lo then hi = lo + 1 end
  local raw = (hi - lo) / math.max(1, n)
  local mag = 10 ^ math.floor(math.log(raw, 10))
  local step = mag
  for _, m in ipairs { 1, 2, 2.5, 5, 10 } do
    if raw <= m * mag * (1 + 1e-12) then step = m * mag break end
  end
  if whole then
    if step < 1 then step = 1 end
    if step ~= math.floor(step) then step = math.ceil(step) end
  end
  local out = {}
  local k = math.floor(lo / step + 1e-9)
  while k * step <= hi + step * 1e-9 do
    local t = k * step
    if t >= lo - step * 1e-9 then out[#out + 1] = t end
    k = k + 1
  end
  return out, step
end

local function commas(digits)
  return (digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end

--- 1234567 -> "1,234,567"; 1500000 -> "1.5M" when short = true.
function M.count_label(v, short)
  if short then
    if v >= 1e6 and v % 1e5 == 0 then return (string.format("%.1fM", v / 1e6):gsub("%.0M", "M")) end
    if v >= 1e4 and v % 100 == 0 then return (string.format("%.1fk", v / 1e3):gsub("%.0k", "k")) end
  end
  local s = string.format("%.0f", math.floor(v + 0.5))
  local sign, digits = s:match("^(-?)(%d+)$")
  return sign .. commas(digits)
end

--- Dollar amounts as text: "$0", "$1,500", "$12.50".
function M.money_label(v)
  local cents = math.floor(v * 100 + 0.5)
  if cents % 100 == 0 then return "$" .. M.count_label(cents / 100) end
  return "$" .. M.count_label(math.floor(cents / 100)) .. string.format(".%02d", cents % 100)
end

local UNITS = { { 1e12, "T" }, { 1e9, "B" }, { 1e6, "M" }, { 1e3, "k" } }

-- The fewest decimals (up to 6) that write every multiple of `step` exactly.
local function decimals_for(step)
  for d = 0, 6 do
    local s = step * 10 ^ d
    if math.abs(s - math.floor(s + 0.5)) < 1e-6 * math.max(1, s) then return d end
  end
  return 6
end

--- One number format for a whole axis: the same unit suffix and the same
-- number of decimals on every tick, so "5,000" and "10k" never share an axis.
-- kind "count" gives "0", "250", "2,500" or "10k", "1.5M" (a suffix from ten
-- thousand up, with the decimals the step needs); kind "money" the same with a
-- "$" in front, and cents only when the step has them.  Zero is "0" ("$0").  Returns the labels and
-- the formatter (for values on the same axis, such as a hover text).
function M.axis_labels(ticks, step, kind)
  local top = 0
  for _, t in ipairs(ticks) do top = math.max(top, math.abs(t)) end
  local unit, suffix = 1, ""
  if top >= 1e4 then
    for _, u in ipairs(UNITS) do
      if top >= u[1] then unit, suffix = u[1], u[2] break end
    end
  end
  local d = decimals_for(step / unit)
  if unit == 1 and kind == "money" and d > 0 then d = 2 end
  local prefix = kind == "money" and "$" or ""
  local function format(v)
    if suffix ~= "" and v == 0 then return prefix .. "0" end
    local s = string.format("%." .. d .. "f", v / unit)
    local sign, int, frac = s:match("^(-?)(%d+)(.*)$")
    if sign == "-" and tonumber(s) == 0 then sign = "" end
    return sign .. prefix .. commas(int) .. frac .. suffix
  end
  local out = {}
  for i, t in ipairs(ticks) do out[i] = format(t) end
  return out, format
end

return M
