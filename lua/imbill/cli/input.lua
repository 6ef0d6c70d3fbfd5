--- Files the command reads whole (--input, --shadow-book) and standard input
-- kept for a second pass (replay --events -).  Every open, read and write is
-- checked; an error names the option and the path.
local files = require "imbill.internal.files"
local json = require "imbill.internal.json"
local fail = require "imbill.cli.fail"

local M = {}

--- No JSON input of the command is anywhere near this size.
M.MAX_JSON = 64 * 1048576

--- The whole text of path ("-" is standard input), at most max bytes.
function M.read(option, path, max)
  local f = path == "-" and io.stdin or nil
  if not f then
    local code
    f, code = files.open(path)
    if not f then fail.io(option, "cannot open", path, code) end
  end
  local text, code = files.read_all(f, max)
  if f ~= io.stdin then f:close() end
  if text == nil then
    if code == false then fail.input(option, string.format("is larger than %d bytes", max), path) end
    fail.io(option, "cannot read", path, code)
  end
  return text
end

--- A JSON object read from path; what says what it should hold
-- ("imbill.invoice's fields").
function M.json_object(option, path, what)
  local dkjson = fail.need "dkjson"
  local text = M.read(option, path, M.MAX_JSON)
  local v, kind = json.decode(dkjson, text)
  -- decode gives nil for the JSON null too: that is JSON, only not an object
  if v == nil and kind ~= "null" then fail.input(option, "not JSON: " .. kind, path) end
  if kind ~= "object" then
    fail.input(option, string.format("holds a JSON %s, not an object with %s", kind, what), path)
  end
  return v
end

--- Standard input copied to a temporary file; returns its path (the caller
-- removes it).
function M.stdin_to_file(option)
  local tmp = os.tmpname()
  local f, _, code = io.open(tmp, "wb")
  if not f then
    os.remove(tmp)
    fail.io(option, "cannot write the copy of standard input", tmp, code)
  end
  local failed
  while true do
    local chunk, err, rcode = io.stdin:read(files.CHUNK)
    if chunk == nil then
      if err ~= nil then failed = { "cannot read standard input", "-", rcode or 0 } end
      break
    end
    local ok, _, wcode = f:write(chunk)
    if not ok then
      failed = { "cannot write the copy of standard input", tmp, wcode or 0 }
      break
    end
  end
  local closed, _, ccode = f:close()
  if not failed and not closed then failed = { "cannot write the copy of standard input", tmp, ccode or 0 } end
  if failed then
    os.remove(tmp)
    fail.io(option, failed[1], failed[2], failed[3])
  end
  return tmp
end

return M
