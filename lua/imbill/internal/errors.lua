--- imbill's one error convention (docs/errors.md).
--
-- Bad input raises an error object: { fn =, field =, msg =, value = } with
-- a metatable whose __tostring gives the message users read,
--   imbill.invoice: month: malformed month, got "2021-13"
-- so scripts that print an error, or match its text, keep working.  A domain
-- refusal (a quota, an edition-change rule) is not an error: functions return
-- false (or nil) and a refusal table.
--
-- An error is written once, where the problem is found, and never rewritten
-- by pattern: a caller that knows better which of its own fields the value
-- came from re-attributes it with errors.rename(e, fn, field).
--
-- This module needs nothing else of imbill, so the C binding loads it too
-- and raises the same objects.
local u8 = require "imbill.internal.utf8" -- pure Lua, needing nothing else either
local number_text = require("imbill.internal.fmt").number -- the same

local M = {}

local Error = {}
Error.__index = Error
M.Error = Error

--- The marker for "no value to show" (a missing field is not `nil` shown).
M.NOVALUE = setmetatable({}, { __tostring = function() return "(no value)" end })

-- At most this many bytes of a string are echoed: a 1 MB input must not make a
-- 1 MB message.  Cut at a character boundary, with an ellipsis and the length.
local ECHO = 60
local ESCAPES = { ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t", ['"'] = '\\"', ["\\"] = "\\\\" }

local function escape(s)
  return u8.escape_unseen((s:gsub('[%c"\\\127]', function(c)
    return ESCAPES[c] or string.format("\\x%02x", c:byte())
  end)))
end

-- LuaJIT: a cdata by its ctype (`cdata<double>`), a boxed 64-bit integer by its
-- value (`-5LL`, `18446744073709551615ULL`).  Neither runs a metamethod of
-- the value's: ffi.typeof and a ctype's own text are the FFI's.
local function show_cdata(v)
  local ok, ffi = pcall(require, "ffi")
  if not ok or type(ffi) ~= "table" then return "cdata" end
  if ffi.istype("int64_t", v) or ffi.istype("uint64_t", v) then return tostring(v) end
  local name = tostring(ffi.typeof(v)):match("^ctype<(.*)>$")
  return name and ("cdata<" .. name .. ">") or "cdata"
end

--- A value as an error message shows it: strings quoted with control bytes
-- escaped and long ones shortened; numbers as numbers; other values by type
-- (money by its amount).
function M.show(v)
  local t = type(v)
  if t == "string" then
    if #v <= ECHO then return '"' .. escape(v) .. '"' end
    local cut = ECHO
    -- never end inside a UTF-8 sequence: back off over continuation bytes
    while cut > 1 and v:byte(cut + 1) and v:byte(cut + 1) >= 0x80 and v:byte(cut + 1) < 0xC0 do cut = cut - 1 end
    return string.format('"%s..." (%d bytes)', escape(v:sub(1, cut)), #v)
  end
  -- NaN prints as "-nan" or "nan" by the C library and the runtime: one spelling
  if v ~= v then return "nan" end
  -- exact, on every runtime (fmt.number): LuaJIT prints 999999999999999 as
  -- 1e+15, both print 2^53 + 2 as 9.007199254741e+15 and 123456789012345.5 as
  -- 1.2345678901235e+14, and Lua 5.4 a float 5 as 5.0
  if t == "number" then return number_text(v) end
  if t == "boolean" or t == "nil" then return tostring(v) end
  local mt = getmetatable(v)
  if t == "userdata" and type(mt) == "table" and rawget(mt, "__name") == "imbill.money" then return tostring(v) end
  if t == "cdata" then return show_cdata(v) end
  return t
end

--- A field as a message names it: a field is a path of names ("editions.pro.limits"),
-- and a name taken from the caller's data (an unknown key) is shown like a value
-- when it is not a plain word, so a key cannot flood or break the message.
function M.field_name(k)
  if type(k) == "string" and #k <= ECHO and k:match("^[%w_%.%[%]%-]+$") then return k end
  return M.show(k)
end

-- The parts are read raw: an error about a hostile value must print without
-- running that value's metamethods (a comparison with NOVALUE would run its __eq).
function Error:__tostring()
  local msg, field, fn = rawget(self, "msg"), rawget(self, "field"), rawget(self, "fn")
  local s = tostring(msg)
  local value = rawget(self, "value")
  if not rawequal(value, M.NOVALUE) then s = s .. ", got " .. M.show(value) end
  if type(field) == "string" and field ~= "" then
    -- a field made from the caller's data (a file name, a key) is shown like a value
    if #field > 2 * ECHO or field:find("[%c\127]") then field = M.show(field) end
    s = field .. ": " .. s
  end
  if type(fn) == "string" and fn ~= "" then s = fn .. ": " .. s end
  return s
end

-- An error object still concatenates like the string it stands for.
function Error.__concat(a, b) return tostring(a) .. tostring(b) end

--- A new error object (not raised).  value may be M.NOVALUE.
function M.new(fn, field, msg, value)
  return setmetatable({ fn = fn, field = field, msg = msg, value = value }, Error)
end

--- Raises a new error object.
function M.raise(fn, field, msg, value)
  error(M.new(fn, field, msg, value), 0)
end

function M.is(e) return getmetatable(e) == Error end

--- e as an error object: a string error (a Lua runtime error, or text from
-- outside imbill) becomes one with its text as the message.
function M.of(e)
  if getmetatable(e) == Error then return e end
  return M.new(nil, nil, tostring(e), M.NOVALUE)
end

--- A copy of e naming fn (when given) and field (when given) instead of its
-- own: "imbill.book: editions: ..." raised while imbill.totals read its
-- `book` argument becomes "imbill.totals: book: ...".
function M.rename(e, fn, field)
  e = M.of(e)
  local c = setmetatable({}, Error)
  for k, v in next, e do c[k] = v end
  if fn ~= nil then c.fn = fn end
  if field ~= nil then c.field = field end
  return c
end

--- Calls f(...) and returns its results; an error raised inside is raised
-- again naming fn (and field, when given) instead of its own.
local function finish(fn, field, ok, ...)
  if ok then return ... end
  error(M.rename((...), fn, field), 0)
end

function M.call(fn, field, f, ...)
  return finish(fn, field, pcall(f, ...))
end

return M
