--- imbill.column.from_csv: one named column of a CSV file as a scenario
-- column.  The records come from imbill's one CSV reader (imbill.internal.csv:
-- RFC 4180 quoting, CRLF or LF, a UTF-8 byte order mark, blank and # lines
-- skipped where a record starts); the first record is the header.
local core = require "imbill.core"
local check = require "imbill.internal.check"
local errors = require "imbill.internal.errors"
local csv = require "imbill.internal.csv"
local files = require "imbill.internal.files"
local fmt = require "imbill.internal.fmt"

local M = {}
local FN = "imbill.column.from_csv"
local find = string.find
local mtype = math.type

-- LuaJIT's numbers stop being exact at 2^53, but a column holds int64_t:
-- a count past 2^53 is built digit by digit as a boxed int64_t, which the
-- core copies exactly, so the file reads the same on both runtimes.
local ffi = not mtype and rawget(_G, "jit") and require "ffi"

local function int64_of(digits, neg)
  local v = ffi.new("int64_t", 0)
  for i = 1, #digits do
    local d = digits:byte(i) - 48
    v = v * 10 + (neg and -d or d)
  end
  return v
end

-- The whole number a field holds, or nil (and why, when it is whole but
-- beyond 64 bits).
local function whole(s)
  if not find(s, "^%-?%d+$") then return nil end
  if mtype then
    local v = tonumber(s)
    -- beyond 64 bits tonumber gives a float
    if mtype(v) ~= "integer" then return nil, "is beyond 64 bits" end
    return v
  end
  -- judged on the digits: tonumber rounds 9007199254740993 to 2^53, which
  -- a test of the double would let through as another count
  local neg = s:sub(1, 1) == "-"
  local digits = s:match("^%-?0*(%d+)$")
  if #digits < 16 or (#digits == 16 and digits <= "9007199254740992") then return tonumber(s) end
  if #digits > 19 or (#digits == 19 and digits > (neg and "9223372036854775808" or "9223372036854775807")) then
    return nil, "is beyond 64 bits"
  end
  return int64_of(digits, neg)
end

-- The values of column `want` from a csv.reader, as a Lua array.
local function values_of(reader, label, want, name, counts)
  local values, n = {}, 0
  local col, ncols -- the column's position and the header's width
  while true do
    local fields, line = reader:read()
    if fields == nil then break end
    if fields == false then
      local e = line
      if e.errno then error(files.error(FN, "path", "cannot read line " .. e.line, label, e.errno), 0) end
      -- a line over the size bound has no column to name
      check.fail(FN, label .. ":" .. e.line, (e.column and string.format("column %d: ", e.column) or "") .. e.message,
        check.NOVALUE)
    end
    if not col then
      local names = {}
      for i, h in ipairs(fields) do
        names[i] = fmt.trim(h):lower()
        if names[i] == want then
          -- two columns of one name: either could be the one meant
          if col then
            check.fail(FN, label .. ":" .. line, string.format("column %d: %s appears twice in the header (also column %d)",
              i, errors.show(want), col), check.NOVALUE)
          end
          col = i
        end
      end
      if not col then
        -- the header is the file's text: a name that is not a plain word is shown quoted, bounded and escaped
        local shown = {}
        for i = 1, math.min(#names, 12) do shown[i] = errors.field_name(names[i]) end
        if #names > 12 then shown[#shown + 1] = "... (" .. #names .. " columns)" end
        check.fail(FN, "column", "not in the header of " .. errors.field_name(label) .. " (it has: "
          .. table.concat(shown, ", ") .. ")", name)
      end
      ncols = #fields
    else
      if #fields ~= ncols then
        check.fail(FN, label .. ":" .. line, string.format("has %s, the header has %d", fmt.count(#fields, "column"),
          ncols), check.NOVALUE)
      end
      local field = fmt.trim(fields[col])
      local v, why = whole(field)
      local where = string.format("column %d (%s)", col, want)
      if not v then check.fail(FN, label .. ":" .. line, where .. ": " .. (why or "expected a whole number"), field) end
      if counts and v < 0 then
        -- shown as Lua 5.4 shows the integer, not as LuaJIT's boxed -9007199254740993LL
        local msg = where .. ": must not be negative"
        if type(v) == "cdata" then check.fail(FN, label .. ":" .. line, msg .. ", got " .. field, check.NOVALUE) end
        check.fail(FN, label .. ":" .. line, msg, v)
      end
      n = n + 1
      values[n] = v
    end
  end
  if not col then check.fail(FN, "path", "has no header line", label) end
  return values
end

--- read(path, name, opts): opts.counts = true refuses negative values.  A
-- file that cannot be opened or read is an error of kind "io".
function M.read(path, name, opts)
  check.string(FN, "path", path)
  check.string(FN, "column", name)
  if opts == nil then opts = {} end
  opts = check.fields(FN, opts, { counts = true })
  local counts = rawget(opts, "counts")
  local f = files.open_or_raise(FN, "path", path)
  local label = path:match("[^/]*$")
  local ok, values = pcall(values_of, csv.reader(f), label, fmt.trim(name):lower(), name, counts)
  if f ~= io.stdin then f:close() end
  if not ok then error(values, 0) end
  return check.call(FN, core.column_from, values, "values")
end

return M
