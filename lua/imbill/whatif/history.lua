--- Usage history files: a series (imbill.whatif.series) read from CSV.
-- imbill.series.read_csv and imbill.series.parse_csv are these functions.
--
-- The CSV is read by imbill's one RFC 4180 reader (imbill.internal.csv):
-- quoted fields, CRLF or LF, a UTF-8 byte order mark, # comment lines.
-- Every error names the file, the line and the column, and the value.
local check = require "imbill.internal.check"
local methods = require "imbill.internal.methods"
local csv = require "imbill.internal.csv"
local dates = require "imbill.internal.dates"
local errors = require "imbill.internal.errors"
local files = require "imbill.internal.files"
local fmt = require "imbill.internal.fmt"
local books = require "imbill.book"
local core = require "imbill.core"
local S = require "imbill.whatif.series"

local M = {}
local FN = "imbill.series.read_csv"

local COUNT_COLUMNS = {}
for _, c in ipairs(S.COLUMNS) do
  if c ~= "date" and c ~= "features" then COUNT_COLUMNS[#COUNT_COLUMNS + 1] = c end
end

local function toint(v)
  if math.type then return math.tointeger(v) or v end
  return v
end

-- An error at name:line.
local function bad(name, line, msg, value)
  error(errors.new(FN, name .. ":" .. line, msg, value == nil and errors.NOVALUE or value), 0)
end

-- The rows of a usage CSV from a csv.reader: header index, rows, by day.
local function read_rows(reader, name, dups)
  local header, index
  local known = {}
  for _, c in ipairs(S.COLUMNS) do known[c] = true end
  local featknown = {}
  for _, f in ipairs(books.FEATURES) do featknown[f] = true end
  local rows, byday = {}, {}
  while true do
    local fields, lineno = reader:read()
    if fields == nil then break end
    if fields == false then
      local e = lineno
      if e.errno then
        local ioe = files.error(FN, "path", "cannot read line " .. e.line, name, e.errno)
        error(ioe, 0)
      end
      if e.size then bad(name, e.line, e.message) end
      bad(name, e.line, string.format("column %d: unterminated or misplaced quote: %s", e.column or 1, e.message))
    end
    if not header then
      header = {}
      for i, f in ipairs(fields) do
        local c = fmt.trim(f):lower()
        if not known[c] then
          bad(name, lineno, string.format("column %d: unknown column %s (the header names: %s)", i, errors.show(c),
            table.concat(S.COLUMNS, ", ")))
        end
        header[i] = c
      end
      local again, first
      index, again, first = csv.index(header)
      if not index then
        bad(name, lineno, string.format("column %d: column %q appears twice (also column %d)", again, header[again],
          first))
      end
      for _, req in ipairs { "date", "dau", "groups" } do
        if not index[req] then
          bad(name, lineno, string.format("the header has no %q column (required: date, dau, groups)", req))
        end
      end
    else
      if #fields ~= #header then
        bad(name, lineno, string.format("has %s, the header has %d", fmt.count(#fields, "column"), #header))
      end
      local row = { line = lineno }
      for i, c in ipairs(header) do
        local v = fmt.trim(fields[i])
        local where = string.format("column %d (%s)", i, c)
        if c == "date" then
          local ok, d = pcall(core.parse_date, v, where)
          if not ok then bad(name, lineno, tostring(d)) end
          row.day = d
        elseif c == "features" then
          local set = {}
          for f in v:gmatch("[^;|%s]+") do
            if not featknown[f] then
              bad(name, lineno, string.format("%s: unknown feature %s (known: %s)", where, errors.show(f),
                table.concat(books.FEATURES, ", ")))
            end
            set[f] = true
          end
          row.features = set
        elseif v == "" and c ~= "dau" and c ~= "groups" then
          row[c] = nil
        else
          if not v:match("^%d+$") then bad(name, lineno, where .. ": expected a whole number >= 0", v) end
          -- 15 digits stay under 2^53 on every runtime; leading zeros are no digits of the count
          if #v:gsub("^0+(%d)", "%1") > 15 then bad(name, lineno, where .. ": is too large", v) end
          row[c] = toint(tonumber(v))
        end
      end
      local prev = byday[row.day]
      if prev then
        if dups == "error" then
          bad(name, lineno, string.format("duplicate day %s (also on line %d)", dates.format(row.day), prev.line))
        elseif dups == "last" then
          -- the last row as written: an empty cell of it carries the day
          -- before, as any empty cell does, not the earlier row's value
          for _, c in ipairs(COUNT_COLUMNS) do prev[c] = row[c] end
          prev.features, prev.line = row.features, row.line
        else
          for _, c in ipairs(COUNT_COLUMNS) do
            if row[c] and (prev[c] == nil or row[c] > prev[c]) then prev[c] = row[c] end
          end
          if row.features then
            prev.features = prev.features or {}
            for f in pairs(row.features) do prev.features[f] = true end
          end
        end
      else
        byday[row.day] = row
        rows[#rows + 1] = row
      end
    end
  end
  return header, index, rows
end

local function options(opts)
  opts = opts or {}
  opts = check.fields(FN, opts, { name = true, missing = true, duplicates = true, mau_ratio = true })
  local missing = opts.missing or "error"
  local dups = opts.duplicates or "error"
  if missing ~= "error" and missing ~= "zero" and missing ~= "carry" then
    check.fail(FN, "missing", "expected \"error\", \"zero\" or \"carry\"", missing)
  end
  if dups ~= "error" and dups ~= "max" and dups ~= "last" then
    check.fail(FN, "duplicates", "expected \"error\", \"max\" or \"last\"", dups)
  end
  if opts.name ~= nil then check.string(FN, "name", opts.name) end
  return opts, missing, dups
end

-- The series from a reader.
local function series(reader, name, opts, missing, dups)
  local header, index, rows = read_rows(reader, name, dups)
  if not header then error(errors.new(FN, name, "no header line (expected: date,dau,groups[,mau,...])",
    errors.NOVALUE), 0) end
  if #rows == 0 then error(errors.new(FN, name, "no data rows after the header", errors.NOVALUE), 0) end
  table.sort(rows, function(x, y) return x.day < y.day end)
  local first, last = rows[1].day, rows[#rows].day
  local s = methods.new(S.Series, { first = first, n = last - first + 1, name = name, notes = {} })
  local present = {}
  for _, c in ipairs(COUNT_COLUMNS) do
    if index[c] then s[c] = {} present[#present + 1] = c end
  end
  if index.features then s.features = {} end
  local prev
  for _, row in ipairs(rows) do
    -- a month-to-date MAU counts every user active on the day: one below the
    -- day's DAU cannot be (and would bill a MAU plan below its own users)
    if row.mau ~= nil and row.dau ~= nil and row.mau < row.dau then
      bad(name, row.line, string.format("column %d (mau): month-to-date MAU %s is below the day's DAU %s (column %d):"
        .. " every user active on %s is active in its month", index.mau, errors.show(row.mau), errors.show(row.dau),
        index.dau, dates.format(row.day)), row.mau)
    end
    if prev and row.day > prev.day + 1 then
      local gap = prev.day + 1 == row.day - 1 and dates.format(prev.day + 1)
        or string.format("%s..%s", dates.format(prev.day + 1), dates.format(row.day - 1))
      if missing == "error" then
        bad(name, row.line, string.format("missing days %s (between line %d and line %d); pass missing = \"zero\" or"
          .. " \"carry\" to fill them", gap, prev.line, row.line))
      end
      -- A month-to-date MAU starts again on the 1st: carried days of a new
      -- month repeat the day before's users, so their month's MAU so far is
      -- that day's DAU, not the last month's count.
      local restarts = s.mau and missing == "carry" and dates.month_of(row.day - 1) ~= dates.month_of(prev.day)
      s.notes[#s.notes + 1] = string.format("days %s missing, filled with %s%s", gap,
        missing == "zero" and "zeros" or "the previous day's values",
        restarts and " (from the 1st of a month, the month-to-date MAU the day's DAU: it starts again)" or "")
      for d = prev.day + 1, row.day - 1 do
        local i = d - first + 1
        for _, c in ipairs(present) do s[c][i] = missing == "zero" and 0 or s[c][i - 1] end
        if s.mau and missing == "carry" and dates.month_of(d) ~= dates.month_of(d - 1) then s.mau[i] = s.dau[i] end
        if s.features then s.features[i] = missing == "zero" and {} or s.features[prev.day - first + 1] end
      end
    end
    local i = row.day - first + 1
    -- the 1st of a month: a month-to-date count has no day before to carry
    local month_starts = i > 1 and dates.month_of(row.day) ~= dates.month_of(row.day - 1)
    for _, c in ipairs(present) do
      local v = row[c]
      if v == nil then v = (i > 1 and not (c == "mau" and month_starts) and s[c][i - 1]) or 0 end
      -- an empty MAU cell carries the day before, and the rule above holds for
      -- what it carries too: a month's MAU below its own peak DAU would bill a
      -- MAU plan for fewer users than were active (the first day, and the 1st
      -- of a month, carry nothing: 0)
      if c == "mau" and row.mau == nil and v < row.dau then
        local why
        if i == 1 then
          why = string.format("is empty on the first day, which has no day before to carry from, and the day's DAU is"
            .. " %s (column %d)", errors.show(row.dau), index.dau)
        elseif month_starts then
          why = string.format("is empty on the 1st of a month, where a month-to-date count starts again and carries"
            .. " nothing from the month before, and the day's DAU is %s (column %d)", errors.show(row.dau), index.dau)
        else
          why = string.format("is empty, and the MAU it would carry from the day before, %s, is below the day's DAU %s"
            .. " (column %d)", errors.show(v), errors.show(row.dau), index.dau)
        end
        bad(name, row.line, string.format("column %d (mau): %s: give the day's month-to-date MAU", index.mau, why), "")
      end
      s[c][i] = v
    end
    if s.features then s.features[i] = row.features or {} end
    prev = row
  end
  if opts.mau_ratio ~= nil then
    if s.mau then check.fail(FN, "mau_ratio", "the history has a mau column already", opts.mau_ratio) end
    s.mau_ratio = require("imbill.internal.integer").mau_ratio(FN, "mau_ratio", opts.mau_ratio)
  end
  return s
end

--- parse_csv(text, { name =, missing = "error"|"zero"|"carry", duplicates =
-- "error"|"max"|"last", mau_ratio = }): a series from usage history text.
--
-- Lines starting with # are comments.
-- The first line that is not blank or a comment is the header; it names the
-- columns in any order, each once: date, dau and groups are required; mau,
-- accounts, av_rooms, members and features are optional.  One row per day;
-- rows may come in any order.  features is a list of feature names separated
-- by ";".
local function parse_csv(text, opts)
  local o, missing, dups = options(opts)
  check.string(FN, "text", text)
  return series(csv.reader(text), o.name or "input", o, missing, dups)
end

-- The reader names read_csv, which it mostly is; a script that called
-- parse_csv reads parse_csv in the message.
function M.parse_csv(text, opts)
  return errors.call("imbill.series.parse_csv", nil, parse_csv, text, opts)
end

--- read_csv(path, opts): the same from a file ("-" reads standard input).
-- A file that cannot be opened or read is an error of kind "io".
function M.read_csv(path, opts)
  check.string(FN, "path", path)
  local o, missing, dups = options(opts)
  local f = files.open_or_raise(FN, "path", path)
  local ok, s = pcall(series, csv.reader(f), o.name or (path == "-" and "stdin" or path), o, missing, dups)
  if f ~= io.stdin then f:close() end
  if not ok then error(s, 0) end
  return s
end

return M
