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

--- s with every byte that is not part of a well-formed character (and
-- U+FFFE, U+FFFF) replaced by U+FFFD; s itself when it is clean.
-- @string s the text
-- @treturn string valid UTF-8
function M.clean(s)
  if not s:find("[\128-\255]") then return s end
  local out, n, i, from = {}, #s, 1, 1
  while i <= n do
    local len = char_len(s, i)
    if len then
      i = i + len
    else
      out[#out + 1] = sub(s, from, i - 1)
      out[#out + 1] = M.REPLACEMENT
      i = i + 1
      from = i
    end
  end
  if from == 1 then return s end
  out[#out + 1] = sub(s, from)
  return concat(out)
end

return M
