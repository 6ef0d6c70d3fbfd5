--- JSON for the gateway: cjson.safe reads, a small writer writes.
--
-- The writer exists for two reasons: Debian's lua-cjson cannot tell an empty
-- array from an empty object (Tencent's replies carry "FailAccounts": []),
-- and it prints integers with 14 significant digits.  Arrays are tables made
-- with json.array() or sequences with at least one element.
--
-- splice() adds elements to a top-level array of a JSON text without
-- re-encoding the rest: Tencent's own answer reaches the client as Tencent
-- wrote it, with only the gateway's refused items added.
local cjson = require "cjson.safe"
local shared = require "imbill.internal.json"
local number = shared.number

local M = {}
local ARRAY = {}
local concat, format, type, pairs, tostring = table.concat, string.format, type, pairs, tostring
local byte, find = string.byte, string.find
local B_LBRACE = 123

function M.array(t) return setmetatable(t or {}, ARRAY) end
function M.is_array(t) return getmetatable(t) == ARRAY end

M.decode = cjson.decode
M.null = cjson.null

--- The object a JSON text holds, or nil: cjson reads "[]" and "[{...}]" into
-- tables too, which an object's fields would then be looked up in.
function M.decode_object(text)
  local v = cjson.decode(text)
  if type(v) ~= "table" or (byte(text, 1) ~= B_LBRACE and not find(text, "^[ \t\r\n]*{")) then return nil end
  return v
end

-- Every byte a JSON string escapes: the two-character escapes, and \u00XX
-- for the other control bytes (one table, no function per call).
local ESC = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n', ['\r'] = '\\r',
              ['\t'] = '\\t' }
for c = 0, 31 do
  local ch = string.char(c)
  if not ESC[ch] then ESC[ch] = format("\\u%04x", c) end
end
ESC["\127"] = "\\u007f"
local gsub = string.gsub
local function str(s)
  -- most strings need no escape: no copy then
  if not find(s, '[%c"\\]') then return '"' .. s .. '"' end
  return '"' .. gsub(s, '[%c"\\]', ESC) .. '"'
end

-- Keys Tencent puts first; the rest follow in byte order.
local FIRST = { ActionStatus = 1, ErrorCode = 2, ErrorInfo = 3, ErrorDisplay = 4 }
local function key_order(a, b)
  local fa, fb = FIRST[a], FIRST[b]
  if fa and fb then return fa < fb end
  if fa or fb then return fa ~= nil end
  return a < b
end

local encode
local function value(v, out)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = str(v)
  elseif t == "number" then
    out[#out + 1] = number(v)
  elseif t == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif t == "table" then
    if v == cjson.null then
      out[#out + 1] = "null"
    elseif getmetatable(v) == ARRAY or v[1] ~= nil then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        value(v[i], out)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = tostring(k) end
      table.sort(keys, key_order)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = str(k)
        out[#out + 1] = ":"
        value(v[k], out)
      end
      out[#out + 1] = "}"
    end
  else
    out[#out + 1] = "null"
  end
end

function encode(v)
  local out = {}
  value(v, out)
  return concat(out)
end
M.encode = encode

--- A text a client chose, for a log line: a JSON string of at most 80 of its
-- bytes ("..." after it when cut), so a newline or a terminal escape in it
-- cannot start a line of its own or recolour the operator's terminal.
function M.logged(text)
  text = tostring(text)
  local cut = #text > 80
  return encode(cut and text:sub(1, 80) or text) .. (cut and "..." or "")
end

---------------------------------------------------------------------------
-- splice

local sub = string.sub
local B_QUOTE, B_RBRACE, B_LBRACK, B_RBRACK, B_COLON, B_COMMA = 34, 125, 91, 93, 58, 44

local function skip_ws(s, i)
  local j = find(s, "[^ \t\r\n]", i)
  return j or #s + 1
end

local function skip_string(s, i) -- i at the opening quote; returns the index after the closing one
  i = i + 1
  while true do
    local j = find(s, '["\\]', i)
    if not j then return nil end
    if byte(s, j) == B_QUOTE then return j + 1 end
    i = j + 2
  end
end

-- The index after the value starting at i (no validation beyond nesting:
-- the text was parsed by cjson already).
local function skip_value(s, i)
  local c = byte(s, i)
  if c == B_QUOTE then return skip_string(s, i) end
  if c == B_LBRACE or c == B_LBRACK then
    local depth = 0
    while i <= #s do
      c = byte(s, i)
      if c == B_QUOTE then
        i = skip_string(s, i)
        if not i then return nil end
      else
        if c == B_LBRACE or c == B_LBRACK then depth = depth + 1
        elseif c == B_RBRACE or c == B_RBRACK then
          depth = depth - 1
          if depth == 0 then return i + 1 end
        end
        i = i + 1
      end
    end
    return nil
  end
  local j = find(s, "[,}%] \t\r\n]", i)
  return j or #s + 1
end

--- Whether every object in `text` (a text cjson has parsed) names each
-- field once (imbill.internal.json.unique_names, with cjson decoding the
-- names written with escapes).  Returns true, or false and the first name
-- found twice.
function M.unique_names(text) return shared.unique_names(text, cjson.decode) end

-- The top-level array `key` of the object in `text` (a text cjson has
-- parsed): the index of its "[" and the index just after its "]".  false and
-- the index of the object's "{" when the object has no such key; nil when
-- `text` is not an object or `key` holds something other than an array.
local function top_array(text, key)
  local i = skip_ws(text, 1)
  if byte(text, i) ~= B_LBRACE then return nil end
  local open = i
  i = skip_ws(text, i + 1)
  while i <= #text and byte(text, i) ~= B_RBRACE do
    if byte(text, i) ~= B_QUOTE then return nil end
    local kend = skip_string(text, i)
    if not kend then return nil end
    local k = cjson.decode(sub(text, i, kend - 1))
    i = skip_ws(text, kend)
    if byte(text, i) ~= B_COLON then return nil end
    i = skip_ws(text, i + 1)
    local vstart = i
    local vend = skip_value(text, i)
    if not vend then return nil end
    if k == key then
      if byte(text, vstart) ~= B_LBRACK then return nil end
      return vstart, vend
    end
    i = skip_ws(text, vend)
    if byte(text, i) == B_COMMA then i = skip_ws(text, i + 1) end
  end
  return false, open
end

--- `text` (an object cjson has parsed, naming each field once) without the
-- elements of its top-level array `key` at the 1-based positions in `drop`:
-- the kept elements as they were written, joined by commas, and every byte
-- outside that array as it was.  A call sent on without its refused items
-- then differs from the client's only there (re-encoding the whole body
-- would rewrite numbers past 2^53, floats and key order).  Returns the new
-- text, or nil when `text` is not an object or `key` holds no array.
function M.without(text, key, drop)
  local first, after = top_array(text, key)
  if not first then return nil end
  local kept, n, j = {}, 0, skip_ws(text, first + 1)
  while byte(text, j) ~= B_RBRACK do
    local e = skip_value(text, j)
    if not e then return nil end
    n = n + 1
    if not drop[n] then kept[#kept + 1] = sub(text, j, e - 1) end
    j = skip_ws(text, e)
    if byte(text, j) == B_COMMA then j = skip_ws(text, j + 1) end
  end
  return sub(text, 1, first) .. concat(kept, ",") .. sub(text, after - 1)
end

--- Adds the JSON texts in `items` to the end of the top-level array `key`
-- of the object in `text`, creating the array when the key is absent.
-- Returns the new text, or nil when `text` is not an object or `key` holds
-- something other than an array.
function M.splice(text, key, items)
  if #items == 0 then return text end
  local add = concat(items, ",")
  local first, after = top_array(text, key)
  if first == nil then return nil end
  if first then
    -- the closing bracket is the last byte of the value
    local close = after - 1
    local inner = skip_ws(text, first + 1)
    local sep = inner == close and "" or ","
    return sub(text, 1, close - 1) .. sep .. add .. sub(text, close)
  end
  -- absent: the array goes first in the object
  local open = after
  local rest = skip_ws(text, open + 1)
  local sep = byte(text, rest) == B_RBRACE and "" or ","
  return sub(text, 1, open) .. str(key) .. ":[" .. add .. "]" .. sep .. sub(text, open + 1)
end

return M
