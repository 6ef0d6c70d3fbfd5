--- CSV as imbill reads and writes it (RFC 4180).  The one reader of every CSV
-- file imbill takes (usage histories, event logs) and the writer of --csv.
--
-- A record is one or more physical lines: a quoted field may hold commas,
-- doubled quotes ("" is one ") and line breaks, and never ends a record or
-- starts a comment inside its quotes.  So a value written by csv.field, even
-- one holding "\n2021-03-02T00:00:00Z,delete_account,victim", reads back as
-- one field of one record.  Lines end in LF or CRLF; a UTF-8 byte order mark
-- before the first line is skipped; a line that is blank or starts with #
-- (after spaces) where a record would start is skipped.
--
-- Broken quoting (a quote inside an unquoted field, text after a closing
-- quote, a quote that never closes) is an error naming the line and column,
-- and the reader stops there: past a broken quote nobody can tell data from
-- records, and guessing could run data as a record.
local files = require "imbill.internal.files"

local M = {}

local find, sub, byte, concat = string.find, string.sub, string.byte, table.concat
local QUOTE, COMMA, CR = 34, 44, 13

--- At most this many bytes in one record (a quoted field that never closes
-- must not read a whole disk into memory).
M.MAX_RECORD = 1048576

-- Records -------------------------------------------------------------------

local Reader = {}
Reader.__index = Reader

--- csv.reader(source [, { comments = true, max_record = csv.MAX_RECORD }]):
-- source is the text itself or an open file handle (read in chunks).
function M.reader(source, opts)
  opts = opts or {}
  local max = opts.max_record or M.MAX_RECORD
  local lines = files.lines(source, max)
  return setmetatable({ lines = lines, line = 0, done = false, max = max, comments = opts.comments ~= false },
    Reader)
end

-- Stops the reader with an error: { line =, column =, message = } for the
-- text, or { line =, errno = } when reading failed.
function Reader:_stop(e)
  self.done = true
  return false, e
end

function Reader:_next_line()
  local s, code = self.lines()
  if s == false then
    if code == false then return false, { line = self.line + 1, size = true, message = string.format(
      "a line longer than %d bytes", self.max) } end
    return false, { line = self.line + 1, errno = code }
  end
  if s ~= nil then
    self.line = self.line + 1
    if self.line == 1 then s = files.strip_bom(s) end
  end
  return s
end

--- r:read() -> fields, line (the line the record starts on), quoted (a set
-- of the columns that were quoted, or nil when none was); nil at the end;
-- or false, err with err = { line =, column =, message = } for broken
-- quoting (size = true when a line or a record is over max_record bytes),
-- { line =, errno = } for a failed read.  After an error, nil.
function Reader:read()
  if self.done then return nil end
  while true do
    local s, e = self:_next_line()
    if s == false then return self:_stop(e) end
    if s == nil then
      self.done = true
      return nil
    end
    if not (find(s, "^%s*$") or (self.comments and find(s, "^%s*#"))) then return self:_record(s) end
  end
end

function Reader:_record(s)
  local start = self.line
  local fields, parts, opened, quoted = {}, nil, nil, nil
  local size = #s
  local i = 1
  while true do
    if parts == nil then
      -- at the start of a field
      if byte(s, i) == QUOTE then
        parts, opened = {}, self.line
        i = i + 1
      else
        local j = find(s, '[,"]', i)
        if not j then
          local last = sub(s, i)
          if byte(last, -1) == CR then last = sub(last, 1, -2) end
          fields[#fields + 1] = last
          return fields, start, quoted
        end
        if byte(s, j) == QUOTE then
          return self:_stop({ line = self.line, column = #fields + 1,
                              message = "a quote inside an unquoted field (quote the whole field)" })
        end
        fields[#fields + 1] = sub(s, i, j - 1)
        i = j + 1
      end
    else
      local q = find(s, '"', i, true)
      if not q then
        -- the field goes on over the line break, which is part of its value
        parts[#parts + 1] = sub(s, i)
        parts[#parts + 1] = "\n"
        local nxt, e = self:_next_line()
        if nxt == false then return self:_stop(e) end
        if nxt == nil then
          return self:_stop({ line = opened, column = #fields + 1,
                              message = "a quoted field that never closes (it opens on this line)" })
        end
        size = size + #nxt + 1
        if size > self.max then
          return self:_stop({ line = start, column = #fields + 1, size = true,
                              message = string.format("a record longer than %d bytes", self.max) })
        end
        s, i = nxt, 1
      else
        parts[#parts + 1] = sub(s, i, q - 1)
        local c = byte(s, q + 1)
        if c == QUOTE then
          parts[#parts + 1] = '"'
          i = q + 2
        else
          fields[#fields + 1] = concat(parts)
          parts = nil
          if not quoted then quoted = {} end
          quoted[#fields] = true
          if c == nil or (c == CR and q + 1 == #s) then return fields, start, quoted end
          if c ~= COMMA then
            return self:_stop({ line = self.line, column = #fields, message = "text after the closing quote" })
          end
          i = q + 2
        end
      end
    end
  end
end

--- Header names (already normalised by the caller) as name -> column.
-- Returns the index, or nil, the column of the second use, and the first.
function M.index(names)
  local index = {}
  for i, n in ipairs(names) do
    if index[n] then return nil, i, index[n] end
    index[n] = i
  end
  return index
end

-- Writing -------------------------------------------------------------------

-- First bytes a spreadsheet takes for the start of a formula: = + - @, a tab
-- and a carriage return.
local FORMULA = { [61] = true, [43] = true, [45] = true, [64] = true, [9] = true, [13] = true }

--- One field, quoted when it holds a comma, a quote or a line break, or when
-- it starts with # (which would read back as a comment at a record's start).
-- A text that a spreadsheet would run as a formula gets an apostrophe first,
-- which spreadsheets read as "this is text": a price book named
-- =HYPERLINK(...) stays a name when an operator opens the file.  Numbers,
-- negative amounts included, are written as they are.
function M.field(v)
  v = tostring(v == nil and "" or v)
  if FORMULA[byte(v, 1)] and not find(v, "^[+-]?%d*%.?%d+$") then v = "'" .. v end
  if find(v, '[,"\r\n]') or byte(v, 1) == 35 then v = '"' .. v:gsub('"', '""') .. '"' end
  return v
end

--- A header and rows (arrays of values) as CSV text, a record each.
function M.rows(header, rows)
  local out, line = {}, {}
  for i, h in ipairs(header) do line[i] = M.field(h) end
  out[1] = concat(line, ",")
  for _, r in ipairs(rows) do
    line = {}
    for i = 1, #header do line[i] = M.field(r[i]) end
    -- a record of one empty field would be a blank line, which readers skip
    if #header == 1 and line[1] == "" then line[1] = '""' end
    out[#out + 1] = concat(line, ",")
  end
  return concat(out, "\n") .. "\n"
end

return M
