--- Files imbill reads: opened with a reason a person can act on, read in
-- bounded chunks with every error checked.  A failure is an error object of
-- kind "io" (imbill.internal.errors), so a caller such as the command line
-- tells a file problem from bad input by its kind, never by its text.
local errors = require "imbill.internal.errors"

local M = {}

M.CHUNK = 65536

-- Reasons by errno (Linux numbering).  io.open's own message starts with the
-- path, unbounded; the path is shown once, bounded, by the error object.
local REASONS = {
  [1] = "operation not permitted", [2] = "no such file or directory", [5] = "input/output error",
  [6] = "no such device", [9] = "bad file descriptor", [12] = "out of memory", [13] = "permission denied",
  [16] = "device or resource busy", [17] = "file exists", [19] = "no such device", [20] = "a part of the path is not a directory",
  [21] = "is a directory", [22] = "invalid argument", [23] = "too many open files in the system",
  [24] = "too many open files", [26] = "text file busy", [27] = "file too large", [28] = "no space left on device",
  [30] = "read-only file system", [32] = "broken pipe", [36] = "file name too long",
  [40] = "too many levels of symbolic links", [122] = "disk quota exceeded",
}
M.EISDIR = 21

--- A short reason for an errno ("no space left on device").
function M.reason(errno)
  return REASONS[errno] or ("system error " .. tostring(errno))
end

--- An error object of kind "io": "fn: field: what: reason, got PATH"
-- ("fn: field: is a directory, got PATH" for a directory, whatever was tried).
function M.error(fn, field, what, path, errno)
  local reason = M.reason(errno)
  local e = errors.new(fn, field, errno == M.EISDIR and reason or (what .. ": " .. reason), path)
  e.kind = "io"
  e.errno = errno
  return e
end

--- Opens path for reading.  Returns the handle, or nil and the errno.  A
-- directory opens on Linux and fails at the first read: that read (of zero
-- bytes, which consumes nothing) is done here so that "is a directory" is an
-- open error like any other.
function M.open(path)
  local f, _, code = io.open(path, "rb")
  if not f then return nil, code or 0 end
  local ok, err, code2 = f:read(0)
  if ok == nil and err ~= nil then
    f:close()
    return nil, code2 or 0
  end
  return f
end

--- Opens path for reading, or raises an io error naming fn, field and path.
-- "-" is standard input.
function M.open_or_raise(fn, field, path)
  if path == "-" then return io.stdin end
  local f, code = M.open(path)
  if not f then error(M.error(fn, field, "cannot open", path, code), 0) end
  return f
end

--- The whole text of an open handle, at most max bytes.  Returns the text;
-- or nil and the errno of a failed read; or nil, false when the input is
-- longer than max bytes (nothing past max + one chunk is read).
function M.read_all(f, max)
  local parts, n = {}, 0
  while true do
    local chunk, err, code = f:read(M.CHUNK)
    if chunk == nil then
      if err ~= nil then return nil, code or 0 end
      return table.concat(parts)
    end
    n = n + #chunk
    if max and n > max then return nil, false end
    parts[#parts + 1] = chunk
  end
end

-- Physical lines ------------------------------------------------------------

local find, sub = string.find, string.sub

local function string_lines(text)
  local pos, n = 1, #text
  return function()
    if pos > n then return nil end
    local nl = find(text, "\n", pos, true)
    local line
    if nl then
      line, pos = sub(text, pos, nl - 1), nl + 1
    else
      line, pos = sub(text, pos), n + 1
    end
    return line
  end
end

--- How much of one over-long line files.lines skips before it gives up: a
-- source that never breaks its line (/dev/zero, a binary file) would
-- otherwise be read for ever.
M.SKIP_MAX = 64 * 1048576

local function file_lines(f, max, skip_long)
  local buf, pos, eof, skipping, skipped = "", 1, false, false, 0
  return function()
    while true do
      local nl = find(buf, "\n", pos, true)
      if nl then
        local start = pos
        pos = nl + 1
        if not skipping then
          -- a line whose end came with the chunk after its start is measured
          -- here: the check below sees only a line still without its end
          if nl - start > max then return false, false end
          return sub(buf, start, nl - 1)
        end
        skipping = false
      elseif eof then
        if pos > #buf or skipping then
          pos = #buf + 1
          return nil
        end
        if #buf - pos + 1 > max then
          pos = #buf + 1
          return false, false
        end
        local line = sub(buf, pos)
        pos = #buf + 1
        return line
      else
        if skipping then
          -- the rest of an over-long line is dropped as it is read, never held
          skipped = skipped + #buf - pos + 1
          buf, pos = "", 1
          if skipped > M.SKIP_MAX then return false, "endless" end
        elseif #buf - pos + 1 > max then
          if not skip_long then return false, false end
          skipping, skipped, buf, pos = true, #buf - pos + 1, "", 1
          return false, false
        end
        local chunk, err, code = f:read(M.CHUNK)
        if chunk == nil then
          if err ~= nil then return false, code or 0 end
          eof = true
        else
          buf, pos = sub(buf, pos) .. chunk, 1
        end
      end
    end
  end
end

--- files.lines(source, max [, skip_long]): a function returning the next
-- physical line of source (a string, or an open handle read in chunks)
-- without its "\n"; nil at the end; false, errno when a read fails; false,
-- false when a line of a file runs over max bytes (no more than max + one
-- chunk is held).  Callers stop there, unless skip_long: then
-- the next call goes on after the over-long line's end, what is left of it
-- read and dropped (a log of one event a line need not lose the lines after
-- one that is too long), up to SKIP_MAX bytes of the line: past them, false,
-- "endless", and the caller stops.
function M.lines(source, max, skip_long)
  if type(source) == "string" then return string_lines(source) end
  return file_lines(source, max, skip_long)
end

--- A first line without its UTF-8 byte order mark.
function M.strip_bom(s)
  if sub(s, 1, 3) == "\239\187\191" then return sub(s, 4) end
  return s
end

return M
