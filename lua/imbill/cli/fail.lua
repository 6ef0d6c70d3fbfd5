--- The command line's errors: the library's error objects (fn, field, msg,
-- value; imbill.internal.errors) with a `kind` that decides the exit code.
--   "usage"        2  the command line is wrong
--   "io"           3  a file could not be read or written
--   "unavailable"  4  a Lua module the command needs is missing
--   (no kind)      1  imbill refused the input
-- The library raises "io" and "unavailable" errors of its own; the command line
-- reads kinds, never message text.
local errors = require "imbill.internal.errors"
local files = require "imbill.internal.files"

local M = {}

M.NOVALUE = errors.NOVALUE

local function raise(kind, field, msg, ...)
  local value = errors.NOVALUE
  if select("#", ...) > 0 then value = (...) end
  local e = errors.new(nil, field, msg, value)
  e.kind = kind
  error(e, 0)
end

--- The command line is wrong: "FIELD: MSG[, got VALUE]", exit code 2.
function M.usage(field, msg, ...) raise("usage", field, msg, ...) end

--- imbill refuses the input: exit code 1.
function M.input(field, msg, ...) raise(nil, field, msg, ...) end

--- A file operation failed: "FIELD: WHAT: REASON, got PATH", exit code 3.
function M.io(field, what, path, errno)
  error(files.error(nil, field, what, path == nil and errors.NOVALUE or path, errno), 0)
end

--- A file that is there but cannot be used as asked: exit code 3.
function M.file(field, msg, path) raise("io", field, msg, path) end

--- A missing Lua module: exit code 4.
function M.unavailable(msg) raise("unavailable", nil, msg) end

--- An error's kind ("usage", "io", "unavailable" or nil).
function M.kind(e)
  if type(e) == "table" and errors.is(e) then return e.kind end
  return nil
end

--- Calls f(...); a file error the library raised about its `path` argument is
-- raised again naming the command-line option that gave the path.
local function reattribute(option, ok, ...)
  if ok then return ... end
  local e = ...
  if M.kind(e) == "io" and e.field == "path" then e = errors.rename(e, "", option) end
  error(e, 0)
end

function M.naming(option, f, ...)
  return reattribute(option, pcall(f, ...))
end

-- The command's Lua dependencies are not the library's (the rockspec does
-- not list them, so it builds offline): a missing one is exit code 4.
local PACKAGES = { argparse = "lua-argparse", dkjson = "lua-dkjson", socket = "lua-socket" }

--- require(mod), or an "unavailable" error saying how to install it.
function M.need(mod)
  local ok, m = pcall(require, mod)
  if not ok then
    M.unavailable(string.format("this needs the Lua module %s (Debian: apt-get install %s; LuaRocks: luarocks"
      .. " install %s)", mod, PACKAGES[mod], mod))
  end
  return m
end

return M
