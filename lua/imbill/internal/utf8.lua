--- Text made valid UTF-8 for XML and HTML output (charts, reports, notebook
-- displays).  A byte that does not start or continue a well-formed UTF-8
-- character (RFC 3629: no overlong forms, no surrogates, nothing past
-- U+10FFFF), and the characters XML 1.0 never allows (U+FFFE, U+FFFF), each
-- become U+FFFD, the replacement character: one stray byte in a name (a book
-- named in Latin-1) is one visible mark, where left as it is it would make a
-- whole SVG file unreadable to an XML parser.  Pure Lua (5.1/LuaJIT and 5.4).
local M = {}

local byte, sub, concat = string.byte, string.sub, table.concat

M.REPLACEMENT = "\239\191\189"

-- The length of the well-formed character starting at i, or nil.
local function char_len(s, i)
  local c = byte(s, i)
  if c < 0x80 then return 1 end
  local n, lo, hi
  if c >= 0xC2 and c <= 0xDF then n, lo, hi = 2, 0x80, 0xBF
  elseif c == 0xE0 then n, lo, hi = 3, 0xA0, 0xBF
  elseif c == 0xED then n, lo, hi = 3, 0x80, 0x9F -- no surrogates
  elseif c >= 0xE1 and c <= 0xEF then n, lo, hi = 3, 0x80, 0xBF
  elseif c == 0xF0 then n, lo, hi = 4, 0x90, 0xBF
  elseif c >= 0xF1 and c <= 0xF3 then n, lo, hi = 4, 0x80, 0xBF
  elseif c == 0xF4 then n, lo, hi = 4, 0x80, 0x8F
  else return nil end
  local c2 = byte(s, i + 1)
  if not c2 or c2 < lo or c2 > hi then return nil end
  for k = 2, n - 1 do
    local ck = byte(s, i + k)
    if not ck or ck < 0x80 or ck > 0xBF then return nil end
  end
  -- U+FFFE and U+FFFF (EF BF BE, EF BF BF) are not XML characters
  if c == 0xEF and c2 == 0xBF and byte(s, i + 2) >= 0xBE then return nil end
  return n
end

-- s with the pieces put(s, i, len) names replaced: put is called for each
-- character (len its length) and each byte starting none (len nil), and
-- returns the replacement and the bytes it replaces, or nil to keep them.
-- s itself when nothing is replaced.
local function rewrite(s, put)
  if not s:find("[\128-\255]") then return s end
  local out, n, i, from = {}, #s, 1, 1
  while i <= n do
    local len = char_len(s, i)
    local by, used = put(s, i, len)
    used = used or len or 1
    if by then
      out[#out + 1] = sub(s, from, i - 1)
      out[#out + 1] = by
      from = i + used
    end
    i = i + used
  end
  if from == 1 then return s end
  out[#out + 1] = sub(s, from)
  return concat(out)
end

local function replace_broken(_, _, len)
  if not len then return M.REPLACEMENT, 1 end
end

--- s with every byte that is not part of a well-formed character (and
-- U+FFFE, U+FFFF) replaced by U+FFFD; s itself when it is clean.
-- @string s the text
-- @treturn string valid UTF-8
function M.clean(s) return rewrite(s, replace_broken) end

-- Characters that change how the text around them is shown without being
-- seen: bidirectional embeddings, overrides and isolates (U+202A..U+202E,
-- U+2066..U+2069), the direction marks (U+200E, U+200F, U+061C), zero-width
-- characters (U+200B..U+200D, U+2060..U+2064, U+FEFF) and the C1 controls.
-- A name holding one can make an invoice line read in another order.
local function invisible(s, i, len)
  local c, c2, c3 = byte(s, i, i + 2)
  if len == 2 then return (c == 0xC2 and c2 <= 0x9F) or (c == 0xD8 and c2 == 0x9C) end
  if len ~= 3 then return false end
  if c == 0xE2 and c2 == 0x80 then return (c3 >= 0x8B and c3 <= 0x8F) or (c3 >= 0xAA and c3 <= 0xAE) end
  if c == 0xE2 and c2 == 0x81 then return (c3 >= 0xA0 and c3 <= 0xA4) or (c3 >= 0xA6 and c3 <= 0xA9) end
  return c == 0xEF and c2 == 0xBB and c3 == 0xBF
end

--- What keeps s from being a name shown as it reads: nil when s is
-- well-formed UTF-8 with no character that reorders or hides text, else
-- a few words saying what is there.
-- @string s the text
-- @treturn ?string what is wrong
function M.name_problem(s)
  if not s:find("[\128-\255]") then return nil end
  local n, i = #s, 1
  while i <= n do
    local len = char_len(s, i)
    if not len then return string.format("is not UTF-8 (byte %d)", i) end
    if len > 1 and invisible(s, i, len) then
      return string.format("holds an invisible character that reorders or hides text (byte %d)", i)
    end
    i = i + len
  end
  return nil
end

local function escape_piece(s, i, len)
  if not len then return string.format("\\x%02x", byte(s, i)), 1 end
  if len > 1 and invisible(s, i, len) then
    local c, c2, c3 = byte(s, i, i + 2)
    local cp = len == 2 and (c - 0xC0) * 64 + (c2 - 0x80) or ((c - 0xE0) * 64 + (c2 - 0x80)) * 64 + (c3 - 0x80)
    return string.format("\\u{%04X}", cp), len
  end
end

--- s as a message may quote it: each byte that is not part of a well-formed
-- character becomes `\xNN` and each invisible character of name_problem
-- `\u{XXXX}`, so a quoted value cannot reorder or garble the line it is
-- quoted in.  Other text is unchanged.
-- @string s the text
-- @treturn string
function M.escape_unseen(s) return rewrite(s, escape_piece) end

return M
