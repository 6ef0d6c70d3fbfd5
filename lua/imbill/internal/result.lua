--- What every result object's :data() and :csv() share (invoices, compare
-- rows, break-even, break-even tables, cost curves, projections, migrations,
-- shadow runs, grids).
--
-- :data() gives plain tables ready for JSON: money as exact decimal strings,
-- counts as integers, the currency named, and every array marked as an array
-- so that an empty one is written `[]`, not `{}`: dkjson reads the marker's
-- __jsontype field; OpenResty's lua-cjson reads its own array_mt, which the
-- marker is when that cjson is present.  Debian's lua-cjson 2.1.0 has no such
-- hook at all: it writes every empty table as `{}`.
--
-- :csv() gives RFC 4180 fields (a field holding a comma, a quote or a line
-- break is quoted, quotes doubled), one record a line, with a header line.
local csv = require "imbill.internal.csv"

local M = {}

M.CURRENCY = "USD"

local ok, cjson = pcall(require, "cjson")
local ARRAY = ok and type(cjson) == "table" and rawget(cjson, "array_mt") or {}
ARRAY.__jsontype = "array"
M.ARRAY_MT = ARRAY
local OBJECT = { __jsontype = "object" }
M.OBJECT_MT = OBJECT

--- t (default a new table) marked as a JSON array.
function M.array(t) return setmetatable(t or {}, ARRAY) end

--- A copy of a list of plain values (strings, numbers) as a marked array.
function M.strings(list)
  local out = M.array()
  for i, v in ipairs(list or {}) do out[i] = v end
  return out
end

--- A copy of a table of plain values as a JSON object (`{}` when empty, on
-- every encoder).
function M.object(t)
  local out = setmetatable({}, OBJECT)
  for k, v in pairs(t or {}) do out[k] = v end
  return out
end

--- Money as its exact decimal text; nil stays nil (an amount not given).
function M.money(m)
  if m == nil then return nil end
  return tostring(m)
end

--- RFC 4180 text: a header and rows (arrays of values; nil is an empty field).
function M.csv(header, rows)
  local fixed = {}
  for i, r in ipairs(rows) do
    local row = {}
    for j = 1, #header do
      local v = r[j]
      if type(v) == "number" then v = string.format(math.type and math.type(v) == "float" and "%.17g" or "%d", v) end
      if type(v) == "boolean" then v = tostring(v) end
      row[j] = v ~= nil and tostring(v) or ""
    end
    fixed[i] = row
  end
  return csv.rows(header, fixed)
end

return M
