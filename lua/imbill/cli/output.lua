--- What the command writes: an aligned text table (the default), --csv or
-- --json, to standard output or to -o FILE.
--
-- The same input gives the same bytes: JSON objects are written with their
-- keys sorted.  Every write and close is checked (a full disk or a closed
-- pipe is exit code 3, never a silent 0).  -o FILE is written to a temporary
-- file in FILE's directory and renamed over FILE only when complete, so a
-- failed run leaves FILE as it was, and FILE keeps its permission bits; -o
-- refuses anything that exists and is not a regular file (a directory, a
-- device, a link), naming it.
local core = require "imbill.core"
local csv = require "imbill.internal.csv"
local json = require "imbill.internal.json"
local fail = require "imbill.cli.fail"

local M = {}

-- JSON ---------------------------------------------------------------------------

local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  return a < b
end

-- A copy of v whose objects carry their keys in sorted order, and whose
-- numbers are written exactly (json.number) (dkjson writes
-- an object's keys in __jsonorder's order, and in pairs order otherwise,
-- which changes from run to run).
local function ordered(v)
  -- dkjson writes a number with tostring(): on LuaJIT, 14 digits
  if type(v) == "number" then
    local text = json.number(v)
    return setmetatable({}, { __tojson = function() return text end })
  end
  if type(v) ~= "table" then return v end
  local mt = getmetatable(v)
  local out, keys = {}, {}
  for k, x in pairs(v) do
    out[k] = ordered(x)
    keys[#keys + 1] = k
  end
  table.sort(keys, key_less)
  return setmetatable(out, { __jsonorder = keys, __jsontype = type(mt) == "table" and mt.__jsontype or nil })
end

--- data as JSON text (indented, keys sorted, amounts as the strings data holds).
function M.json(data)
  local dkjson = fail.need "dkjson"
  local text, err = dkjson.encode(ordered(data), { indent = true })
  if not text then fail.input("--json", "cannot write the result as JSON: " .. tostring(err)) end
  return text .. "\n"
end

M.csv_rows = csv.rows

-- Writing ------------------------------------------------------------------------

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

--- What path is: "none", "file", "directory", "link" or "other" (a device,
-- a pipe, a socket).  Plain Lua cannot stat a file, so test(1) is asked; the
-- path is one quoted word, never shell text.
function M.kind(path)
  local q = quote(path)
  local p = io.popen(string.format("if [ -L %s ]; then echo link; elif [ -d %s ]; then echo directory;"
    .. " elif [ -f %s ]; then echo file; elif [ -e %s ]; then echo other; else echo none; fi", q, q, q, q), "r")
  if not p then return "none" end
  local answer = p:read("*l")
  p:close()
  return answer or "none"
end

--- Whether paths a and b name one file (test(1)'s -ef: the same device and
-- inode, through links and other spellings of the path).
function M.same_file(a, b)
  local p = io.popen(string.format("if [ %s -ef %s ]; then echo same; fi", quote(a), quote(b)), "r")
  if not p then return false end
  local answer = p:read("*l")
  p:close()
  return answer == "same"
end

local function write_stdout(text)
  local ok, _, code = io.stdout:write(text)
  if ok and text:sub(-1) ~= "\n" then ok, _, code = io.stdout:write("\n") end
  if ok then ok, _, code = io.stdout:flush() end
  if not ok then fail.io("standard output", "cannot write", nil, code) end
end

--- Writes text to path whole or not at all; option names the command-line
-- option in errors.  The C core writes it (core.write_file): a temporary file
-- created exclusively in path's directory (so a link planted under any name
-- there is never written through), synced and renamed over path; an existing
-- file keeps its permission bits.
function M.write_file(option, path, text)
  if path == "" then fail.usage(option, "expected a file name", path) end
  local kind = M.kind(path)
  if kind == "directory" then fail.io(option, "cannot write", path, 21) end
  if kind == "link" then
    fail.file(option, "is a symbolic link; give the file it points to (a link is never written through)", path)
  end
  if kind == "other" then
    fail.file(option, "is not a regular file (a device, a pipe or a socket); use - for standard output", path)
  end
  local ok, why, code = core.write_file(path, text)
  if not ok then
    if code and code ~= 0 then fail.io(option, "cannot write", path, code) end
    -- swapped for a link or a device since it was looked at
    fail.file(option, why, path)
  end
end

--- Writes text to --out, or to standard output when there is none (or "-").
function M.emit(args, text)
  if args.out and args.out ~= "-" then return M.write_file("-o", args.out, text) end
  write_stdout(text)
end

--- One result in the chosen format.  view = { text = function, csv = function,
-- data = function } (each returning the result in that form).
function M.show(args, view)
  if args.json then return M.emit(args, M.json(view.data())) end
  if args.csv then return M.emit(args, view.csv()) end
  return M.emit(args, view.text())
end

--- The view of an object with :data(), :csv() and __tostring.
function M.view(obj)
  return {
    text = function() return tostring(obj) end,
    csv = function() return obj:csv() end,
    data = function() return obj:data() end,
  }
end

return M
