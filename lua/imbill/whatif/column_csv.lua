--- imbill.column.from_csv: one named column of a CSV file as a scenario
-- column.  The lines are split by the CSV reader the usage histories use
-- (imbill.internal.csv: RFC 4180 quoting, no line break inside a field); a
-- line without a quote takes a shortcut to its field that gives the same
-- result.  Lines that are blank or start with # are skipped, and the first
-- other line is the header.
local core = require "imbill.core"
local check = require "imbill.internal.check"
local csv = require "imbill.internal.csv"

local M = {}
local FN = "imbill.column.from_csv"
local EXACT = 2 ^ 53
local find, sub, match, byte = string.find, string.sub, string.match, string.byte
local mtype = math.type

local function trim(s) return (match(s, "^%s*(.-)%s*$")) end

-- The whole number a field holds, or nil.
local function whole(s)
  if not find(s, "^%s*%-?%d+%s*$") then return nil end
  local v = tonumber(s)
  if mtype then
    -- beyond 64 bits tonumber gives a float
    if mtype(v) ~= "integer" then return nil end
  elseif v > EXACT or v < -EXACT then
    return nil, "is beyond 2^53 and cannot be exact on this runtime"
  end
  return v
end

--- read(path, name, opts): opts.counts = true refuses negative values.
function M.read(path, name, opts)
  check.string(FN, "path", path)
  check.string(FN, "column", name)
  opts = opts or {}
  check.fields(FN, opts, { counts = true })
  local f, why = io.open(path, "rb")
  if not f then check.fail(FN, "path", "cannot be read (" .. tostring(why) .. ")", path) end
  local text = f:read("*a")
  f:close()
  if not text then check.fail(FN, "path", "cannot be read", path) end
  local want = trim(name):lower()
  local label = path:match("[^/]*$")
  local counts = opts.counts
  local values, n = {}, 0
  local col, ncols -- the column's position and the header's width
  local pos, lineno, len = 1, 0, #text
  if sub(text, 1, 3) == "\239\187\191" then pos = 4 end -- UTF-8 byte order mark
  local function bad(msg, v)
    check.fail(FN, string.format("%s:%d: column %d (%s)", label, lineno, col, want), msg, v)
  end
  while pos <= len do
    local nl = find(text, "\n", pos, true) or len + 1
    local stop = nl - 1
    if byte(text, stop) == 13 then stop = stop - 1 end -- CRLF
    lineno = lineno + 1
    local line = sub(text, pos, stop)
    pos = nl + 1
    if not find(line, "^%s*$") and not find(line, "^%s*#") then
      if not col then
        local fields, at = csv.split(line)
        if not fields then
          check.fail(FN, string.format("%s:%d: column %d", label, lineno, at), "unterminated or misplaced quote",
            check.NOVALUE)
        end
        local names = {}
        for i, h in ipairs(fields) do
          names[i] = trim(h):lower()
          if names[i] == want and not col then col = i end
        end
        if not col then
          check.fail(FN, "column", "not in the header of " .. label .. " (it has: " .. table.concat(names, ", ") .. ")",
            name)
        end
        ncols = #fields
      else
        local field, count
        if not find(line, '"', 1, true) then
          -- no quote: the field is between the (col-1)-th and col-th commas
          local a, k = 1, 1
          while k < col do
            local c = find(line, ",", a, true)
            if not c then break end
            a, k = c + 1, k + 1
          end
          if k == col then
            local c = find(line, ",", a, true)
            field = sub(line, a, (c or #line + 1) - 1)
            count = k
            while c do
              count = count + 1
              c = find(line, ",", c + 1, true)
            end
          else
            count = k
          end
        else
          local fields, at = csv.split(line)
          if not fields then
            check.fail(FN, string.format("%s:%d: column %d", label, lineno, at), "unterminated or misplaced quote",
              check.NOVALUE)
          end
          field, count = fields[col], #fields
        end
        if count ~= ncols then
          check.fail(FN, string.format("%s:%d", label, lineno),
            string.format("has %d columns, the header has %d", count, ncols), check.NOVALUE)
        end
        local v, msg = whole(field)
        if not v then bad(msg or "expected a whole number", trim(field)) end
        if counts and v < 0 then bad("must not be negative", v) end
        n = n + 1
        values[n] = v
      end
    end
  end
  if not col then check.fail(FN, "path", "has no header line", path) end
  return core.column_from(values, "values")
end

return M
