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

-- The entry of `names` for a field: the longest key that is the whole field
-- or its start up to a "." or "[" ("change" for "change.to", "addons" for
-- "addons[2]"), and the rest of the field after it.
local function named(names, field)
  if names[field] then return names[field], "" end
  for i = #field, 1, -1 do
    local c = field:sub(i, i)
    if c == "." or c == "[" then
      local head = field:sub(1, i - 1)
      if names[head] then return names[head], field:sub(i) end
    end
  end
  return nil
end

--- The key of a names table (M.calling) whose value is the command's
-- option stating MAU and the advice to give with it ({ "--mau-ratio",
-- "give --mau-ratio (...) ..." }): an error the library raises for a usage
-- without MAU (e.missing, measure.raise_missing) is raised again naming the
-- option, where the library's advice names its own inputs.
M.MAU = setmetatable({}, { __tostring = function() return "the MAU option" end })
--- The same for a usage without peak DAU (a break-even by MAU over an edition
-- that bills DAU).
M.DAU = setmetatable({}, { __tostring = function() return "the DAU option" end })
local MISSING = { mau = M.MAU, dau = M.DAU }

local function renamed(fn, names, ok, ...)
  if ok then return ... end
  local e = ...
  local advice = errors.is(e) and MISSING[e.missing] and names[MISSING[e.missing]]
  if advice then error(errors.new(nil, advice[1], e.why .. ": " .. advice[2], errors.NOVALUE), 0) end
  if errors.is(e) and e.fn == fn and type(e.field) == "string" then
    local as, rest = named(names, e.field)
    if as then e = errors.rename(e, "", as .. rest) end
  end
  error(e, 0)
end

--- Calls f(...), the library's function fn ("imbill.invoice"); an error it
-- raises about a field the command filled is raised again naming what the
-- user typed: names maps a field to its option ({ month = "--month",
-- ["change.to"] = "--change-to" }) or, for a field read from a file, to the
-- option and the field ("--input: month").  A field inside one is named
-- after it ("--addons[2]").  Other errors pass unchanged.
function M.calling(fn, names, f, ...)
  return renamed(fn, names, pcall(f, ...))
end

--- The names for M.calling of the fields of t (a table read from the file
-- option `option`): each as "OPTION: FIELD".
function M.from_file(option, t, names)
  names = names or {}
  for k in pairs(t) do
    if type(k) == "string" then names[k] = option .. ": " .. errors.field_name(k) end
  end
  return names
end

--- The names for M.calling of the fields set from options: for each
-- field = option pair of `fields` (an option written "--peak-dau" for the
-- field peak_dau when the pair's value is true) whose argument was given.
function M.flag_names(args, fields, names)
  names = names or {}
  for field, option in pairs(fields) do
    if option == true then option = "--" .. field:gsub("_", "-") end
    local key = option:sub(3):gsub("%-", "_")
    if args[key] ~= nil then names[field] = option end
  end
  return names
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
