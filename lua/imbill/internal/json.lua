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

-- The byte after the string that opens at byte j (a quote), its escapes
-- skipped; nil when it never ends.
local function string_end(text, j)
  local k = j + 1
  while true do
    local q = find(text, '["\\]', k)
    if not q then return nil end
    if byte(text, q) ~= BACKSLASH then return q + 1 end
    k = q + 2
  end
end

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
      i = string_end(text, j)
      if not i then return deepest end -- an unterminated string: the decoder says so
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

local number_text = require("imbill.internal.fmt").number

--- The JSON text of a Lua number, exact (fmt.number).  dkjson writes
-- tostring(), and cjson 14 significant digits, so on LuaJIT a count or a
-- cent total past 10^14 came out rounded (185172837851098 as
-- 1.851728378511e+14).  NaN and the infinities have no JSON: null, as both
-- libraries write them.
function M.number(v)
  if v ~= v or v == math.huge or v == -math.huge then return "null" end
  return number_text(v)
end

local sub = string.sub
local RBRACKET, RBRACE, COLON = 93, 125, 58

--- Whether every object in `text` (a text a parser has read whole) names
-- each field once.  RFC 8259 leaves an object that names a field twice to
-- each parser: cjson and dkjson keep the last value, others keep the first,
-- so two programs could read two different things from one text (an event,
-- a price book, a gateway's call).  Names are compared as decoded ("Type"
-- and "\u0054ype" are one name): `decode_name` (a JSON decoder: cjson's or
-- dkjson's decode) turns a name written with escapes, quotes included, into
-- its string.  Returns true, or false and
-- the first name found twice.
-- A loop over bytes rather than string.find: LuaJIT compiles it (the
-- gateway runs it on every call), and a pattern call a token made it cost
-- as much as cjson's parse.
function M.unique_names(text, decode_name)
  local stack, depth, i, n = {}, 0, 1, #text
  while i <= n do
    local c = byte(text, i)
    if c == QUOTE then
      local j, escaped = i + 1, false
      while true do
        local d = byte(text, j)
        if d == QUOTE then break end
        if d == nil then return true end -- the parser read the text: never
        if d == BACKSLASH then
          escaped = true
          j = j + 2
        else
          j = j + 1
        end
      end
      local names = stack[depth]
      if names then
        -- in an object, a string followed by a colon is a name
        local k = j + 1
        local a = byte(text, k)
        while a == 32 or a == 9 or a == 10 or a == 13 do
          k = k + 1
          a = byte(text, k)
        end
        if a == COLON then
          local name = escaped and decode_name(sub(text, i, j)) or sub(text, i + 1, j - 1)
          if names[name] then return false, name end
          names[name] = true
        end
      end
      i = j + 1
    else
      if c == LBRACE then
        depth = depth + 1
        stack[depth] = {}
      elseif c == LBRACKET then
        depth = depth + 1
        stack[depth] = false
      elseif c == RBRACE or c == RBRACKET then
        stack[depth] = nil
        depth = depth - 1
      end
      i = i + 1
    end
  end
  return true
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

local BOM = "\239\187\191"

--- The byte where a UTF-8 byte order mark stands outside the strings of
-- text, from byte `from` on (nil when none does).  dkjson skips one wherever
-- it skips space, so a mark inside a text read as space; RFC 8259 lets a
-- reader ignore one only at the text's start.
function M.bom(text, from)
  local i = from or 1
  while true do
    local j = find(text, '["\239]', i)
    if not j then return nil end
    if byte(text, j) == QUOTE then
      i = string_end(text, j)
      if not i then return nil end
    else
      if sub(text, j, j + 2) == BOM then return j end
      i = j + 1
    end
  end
end

-- Whether s is a number as RFC 8259 writes one: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
local function json_number(s)
  local i = 1
  if sub(s, i, i) == "-" then i = i + 1 end
  local c = sub(s, i, i)
  if c == "0" then
    i = i + 1
  elseif c:match("^[1-9]$") then
    i = (find(s, "[^%d]", i) or #s + 1)
  else
    return false
  end
  if sub(s, i, i) == "." then
    local e = find(s, "[^%d]", i + 1) or #s + 1
    if e == i + 1 then return false end
    i = e
  end
  if sub(s, i, i):match("^[eE]$") then
    i = i + 1
    if sub(s, i, i):match("^[+-]$") then i = i + 1 end
    local e = find(s, "[^%d]", i) or #s + 1
    if e == i then return false end
    i = e
  end
  return i == #s + 1
end

-- RFC 8259's grammar, checked over a text dkjson has read: dkjson also
-- takes a trailing comma, /* comments */, a raw tab or line break inside a
-- string, "\x41", numbers such as 01 and .5.  Another JSON reader refuses
-- those lines, so the same log would count differently in another tool.
-- Each returns the byte after what it read, or nil, the byte where the text
-- stops being JSON and what is wrong there.  Nesting is bounded before
-- (decode checks the depth first), so the recursion is too.
local WS = { [32] = true, [9] = true, [10] = true, [13] = true }
local ESCAPES = { [34] = true, [92] = true, [47] = true, [98] = true, [102] = true, [110] = true, [114] = true,
                  [116] = true }
local WORDS = { "true", "false", "null" } -- one table, not one per value read
local grammar_value

local function skip_ws(text, i)
  while WS[byte(text, i)] do i = i + 1 end
  return i
end

local function grammar_string(text, i)
  local k = i + 1
  while true do
    local q = find(text, '[%z\1-\31"\\]', k)
    if not q then return nil, i, "a string that never ends" end
    local c = byte(text, q)
    if c == QUOTE then return q + 1, k > i + 1 end
    if c < 32 then return nil, q, "a control character inside a string (write it as an escape)" end
    local e = byte(text, q + 1)
    if e == 117 then
      if not find(sub(text, q + 2, q + 5), "^%x%x%x%x$") then return nil, q, "\\u without 4 hex digits" end
      k = q + 6
    elseif ESCAPES[e] then
      k = q + 2
    else
      return nil, q, "an escape JSON does not have"
    end
  end
end

local function grammar_number(text, i)
  local tok = text:match("^[%-%+%.%deE]+", i)
  if not tok or not json_number(tok) then
    local shown = tok and (#tok > 40 and (sub(tok, 1, 40) .. "...") or tok) or sub(text, i, i)
    return nil, i, shown .. " is not a JSON number"
  end
  return i + #tok
end

local function grammar_list(text, i, close, member)
  i = skip_ws(text, i + 1)
  if byte(text, i) == close then return i + 1 end
  while true do
    local j, at, why = member(text, i)
    if not j then return nil, at, why end
    i = skip_ws(text, j)
    local c = byte(text, i)
    if c == close then return i + 1 end
    if c ~= 44 then return nil, i, "expected , or " .. string.char(close) end
    i = skip_ws(text, i + 1)
    if byte(text, i) == close then return nil, i, "a comma before " .. string.char(close) end
  end
end

local function grammar_member(text, i)
  if byte(text, i) ~= QUOTE then return nil, i, "expected a name in quotes" end
  local j, at, why = grammar_string(text, i)
  if not j then return nil, at, why end
  j = skip_ws(text, j)
  if byte(text, j) ~= COLON then return nil, j, "expected : after a name" end
  return grammar_value(text, skip_ws(text, j + 1))
end

-- A string (the byte after it, and whether it has an escape), a word or a number.
local function grammar_scalar(text, i)
  if byte(text, i) == QUOTE then return grammar_string(text, i) end
  for _, word in ipairs(WORDS) do
    if sub(text, i, i + #word - 1) == word then return i + #word end
  end
  return grammar_number(text, i)
end

function grammar_value(text, i)
  local c = byte(text, i)
  if c == LBRACE then return grammar_list(text, i, RBRACE, grammar_member) end
  if c == LBRACKET then return grammar_list(text, i, RBRACKET, grammar_value) end
  return grammar_scalar(text, i)
end

--- Whether text is JSON as RFC 8259 writes it (one value, space around it, a
-- byte order mark first allowed).  Returns true, or false, the byte where it
-- stops being JSON and what is wrong there ("01614560400 is not a JSON number").
function M.strict(text)
  local i = sub(text, 1, 3) == "\239\187\191" and 4 or 1
  local j, at, why = grammar_value(text, skip_ws(text, i))
  if not j then return false, at, why end
  j = skip_ws(text, j)
  if j <= #text then return false, j, "text after the value" end
  return true
end

-- One walk for a text that is well formed, the usual case (an event log is
-- millions of lines): the grammar above, with the nesting bounded by `max`
-- as it goes and each object's names kept to find one named twice, where
-- decode would otherwise scan the text three times more (depth, byte order
-- marks, names: 8.6 of the 19.9 us a typical event line took on Lua 5.4).
-- Returns true and the first name an object has twice (nil: none), or
-- false when the text is not such JSON or nests deeper than max: decode
-- then runs its checks one by one, so every message is the one it gives.
local fast_value

-- The byte after the array or object that opens at i; the first name found
-- twice in it (or below it) as a second result.
local function fast_list(text, i, close, depth, max, decode_name)
  if depth > max then return nil end
  i = skip_ws(text, i + 1)
  if byte(text, i) == close then return i + 1 end
  local names = close == RBRACE and {} or nil
  local twice
  while true do
    local j, dup
    if names then
      if byte(text, i) ~= QUOTE then return nil end
      local e, escaped = grammar_string(text, i)
      if not e then return nil end
      local name = escaped and decode_name(sub(text, i, e - 1)) or sub(text, i + 1, e - 2)
      if names[name] then
        twice = twice or name
      else
        names[name] = true
      end
      e = skip_ws(text, e)
      if byte(text, e) ~= COLON then return nil end
      j, dup = fast_value(text, skip_ws(text, e + 1), depth, max, decode_name)
    else
      j, dup = fast_value(text, i, depth, max, decode_name)
    end
    if not j then return nil end
    -- the first name found twice in the text's order: one inside this
    -- member comes after the names before it
    if dup and not twice then twice = dup end
    i = skip_ws(text, j)
    local c = byte(text, i)
    if c == close then return i + 1, twice end
    if c ~= 44 then return nil end
    i = skip_ws(text, i + 1)
    if byte(text, i) == close then return nil end
  end
end

function fast_value(text, i, depth, max, decode_name)
  local c = byte(text, i)
  if c == LBRACE then return fast_list(text, i, RBRACE, depth + 1, max, decode_name) end
  if c == LBRACKET then return fast_list(text, i, RBRACKET, depth + 1, max, decode_name) end
  return (grammar_scalar(text, i))
end

local function fast_check(text, max, decode_name)
  local i = sub(text, 1, 3) == "\239\187\191" and 4 or 1
  local j, twice = fast_value(text, skip_ws(text, i), 0, max, decode_name)
  if not j or skip_ws(text, j) <= #text then return false end
  return true, twice
end

--- Decodes text with dkjson (pass the module).  Returns the value and its
-- kind ("object", "array", "string", "number", "boolean", "null"), or nil
-- and a message saying what is wrong.
-- The value dkjson reads from text, and its kind, or nil and the message.
local function kind_of(v)
  if v == nil then return "null" end
  if type(v) == "table" then
    local mt = getmetatable(v)
    return (mt and mt.__jsontype == "array") and "array" or "object"
  end
  return type(v)
end

local function twice_message(twice)
  return "an object names " .. errors.show(twice) .. " twice (which one counts is up to each reader)"
end

-- dkjson's value of text: true and the value, or false and the message.
local function dk_decode(dkjson, text)
  local ok, v, _, err = pcall(dkjson.decode, text, 1, nil)
  if not ok then return false, "malformed JSON: " .. tostring(v) end
  if err then return false, "malformed JSON: " .. tostring(err) end
  return true, v
end

--- decode with its checks one after another, each over the whole text, in
-- the order their messages take: nesting, byte order marks, dkjson's
-- reading, RFC 8259's grammar, names given twice.  decode takes this way for
-- any text its one walk does not pass (json_input_spec.lua compares the two).
function M.decode_checked(dkjson, text, max_depth)
  max_depth = max_depth or M.MAX_DEPTH
  local _, at = M.depth(text, max_depth)
  if at then return nil, string.format("nested deeper than %d levels (at byte %d)", max_depth, at) end
  local bom = M.bom(text, 2)
  if bom then
    return nil, string.format("malformed JSON: a byte order mark at byte %d (only the text's first bytes may"
      .. " carry one)", bom)
  end
  local ok, v = dk_decode(dkjson, text)
  if not ok then return nil, v end
  local strict, nat, why = M.strict(text)
  if not strict then return nil, string.format("malformed JSON: %s at byte %d", why, nat) end
  -- dkjson stops after the first value; M.strict has refused anything but space after it
  local unique, dup = M.unique_names(text, dkjson.decode)
  if not unique then return nil, twice_message(dup) end
  return v, kind_of(v)
end

function M.decode(dkjson, text, max_depth)
  max_depth = max_depth or M.MAX_DEPTH
  local good, twice = fast_check(text, max_depth, dkjson.decode)
  if not good then return M.decode_checked(dkjson, text, max_depth) end
  -- well formed, no deeper than max, no mark but at its start: what is left
  -- is what dkjson makes of it, and a name given twice
  local ok, v = dk_decode(dkjson, text)
  if not ok then return nil, v end
  if twice ~= nil then return nil, twice_message(twice) end
  return v, kind_of(v)
end

return M
