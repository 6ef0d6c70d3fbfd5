--- JSON text imbill reads (event log lines, invoice fields, user books),
-- decoded by dkjson after a check of its nesting depth.  dkjson descends one
-- Lua call per level, so "[[[[...]]]]" a few thousand levels deep overflows
-- the stack and the error names no line; the check is a linear scan that
-- runs no recursion at all.
local errors = require "imbill.internal.errors"

local M = {}

--- No JSON imbill reads nests deeper than a user book (about 5 levels).
M.MAX_DEPTH = 32

local find, byte = string.find, string.byte
local QUOTE, BACKSLASH, LBRACKET, LBRACE = 34, 92, 91, 123

--- The deepest nesting of arrays and objects in text, stopping once it is
-- over max; strings (with their escapes) are skipped.  Returns the depth
-- reached and the byte where it went over max (nil when it did not).
function M.depth(text, max)
  local depth, deepest, i = 0, 0, 1
  while true do
    local j = find(text, '[%[%]{}"]', i)
    if not j then return deepest end
    local c = byte(text, j)
    if c == QUOTE then
      local k = j + 1
      while true do
        local q = find(text, '["\\]', k)
        if not q then return deepest end -- an unterminated string: the decoder says so
        if byte(text, q) == BACKSLASH then
          k = q + 2
        else
          k = q + 1
          break
        end
      end
      i = k
    else
      if c == LBRACKET or c == LBRACE then
        depth = depth + 1
        if depth > deepest then deepest = depth end
        if depth > max then return deepest, j end
      else
        depth = depth - 1
      end
      i = j + 1
    end
  end
end

--- dkjson, or nil and an error object of kind "unavailable" naming fn and
-- field (the command line exits 4 for it).
function M.module(fn, field)
  local ok, dkjson = pcall(require, "dkjson")
  if ok then return dkjson end
  local e = errors.new(fn, field, "JSON needs the Lua module dkjson (Debian: apt-get install lua-dkjson;"
    .. " LuaRocks: luarocks install dkjson)", errors.NOVALUE)
  e.kind = "unavailable"
  return nil, e
end

--- Decodes text with dkjson (pass the module).  Returns the value and its
-- kind ("object", "array", "string", "number", "boolean", "null"), or nil
-- and a message saying what is wrong.
function M.decode(dkjson, text, max_depth)
  max_depth = max_depth or M.MAX_DEPTH
  local _, at = M.depth(text, max_depth)
  if at then return nil, string.format("nested deeper than %d levels (at byte %d)", max_depth, at) end
  local ok, v, pos, err = pcall(dkjson.decode, text, 1, nil)
  if not ok then return nil, "malformed JSON: " .. tostring(v) end
  if err then return nil, "malformed JSON: " .. tostring(err) end
  -- dkjson stops after the first value: anything but space after it is an error
  if pos and find(text, "%S", pos) then return nil, string.format("malformed JSON: text after the value at byte %d",
    find(text, "%S", pos)) end
  local kind
  if v == nil then kind = "null"
  elseif type(v) == "table" then
    local mt = getmetatable(v)
    kind = (mt and mt.__jsontype == "array") and "array" or "object"
  else kind = type(v) end
  return v, kind
end

return M
