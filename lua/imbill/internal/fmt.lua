--- Small text helpers for readable output.
local M = {}

local format, floor = string.format, math.floor
local mtype = math.type -- nil on LuaJIT

--- The exact text of a number.  tostring() gives 14 significant digits on
-- LuaJIT (and for any float on Lua 5.4), so 123456789012345 read
-- 1.2345678901235e+14 and 2^53 + 2 read 9.007199254741e+15, numbers the
-- caller never gave.  An integer is written in full, and so is a whole
-- float below 2^64 (its own digits, 20 at most: 2^53 + 2 as
-- 9007199254740994); any other number in the fewest digits that read back
-- as the same number (0.1, 1e+300); NaN and the infinities as tostring()
-- says them.
function M.number(v)
  if mtype and mtype(v) == "integer" then return format("%d", v) end
  if v ~= v or v == math.huge or v == -math.huge then return tostring(v) end
  if v == floor(v) and v > -2 ^ 64 and v < 2 ^ 64 then return format("%.0f", v) end
  for digits = 15, 16 do
    local s = format("%." .. digits .. "g", v)
    if tonumber(s) == v then return s end
  end
  return format("%.17g", v)
end

--- 25000 -> "25,000"
function M.int(n)
  local s = string.format("%d", n)
  local sign, digits = s:match("^(-?)(%d+)$")
  return sign .. digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
end

-- Whitespace trimmed from both ends in linear time: the pattern "%s+$"
-- retries from every space of a long run, which is quadratic in its length.
local SPACE = { [9] = true, [10] = true, [11] = true, [12] = true, [13] = true, [32] = true }
function M.trim(s)
  local i = s:find("%S")
  if not i then return "" end
  local j = #s
  while SPACE[s:byte(j)] do j = j - 1 end
  return s:sub(i, j)
end

function M.rtrim(s)
  local j = #s
  while j > 0 and SPACE[s:byte(j)] do j = j - 1 end
  return s:sub(1, j)
end

function M.pad(s, w) return s .. string.rep(" ", w - #s) end
function M.lpad(s, w) return string.rep(" ", w - #s) .. s end

--- Renders rows (arrays of strings) as aligned columns; `right` marks columns
-- aligned to the right (numbers and money).
function M.table(header, rows, right)
  right = right or {}
  local w = {}
  local function widen(r)
    for i, c in ipairs(r) do w[i] = math.max(w[i] or 0, #c) end
  end
  if header then widen(header) end
  for _, r in ipairs(rows) do widen(r) end
  local out = {}
  local function line(r)
    local cells = {}
    for i, c in ipairs(r) do cells[i] = right[i] and M.lpad(c, w[i]) or M.pad(c, w[i]) end
    out[#out + 1] = M.rtrim(table.concat(cells, "  "))
  end
  if header then line(header) end
  for _, r in ipairs(rows) do line(r) end
  return table.concat(out, "\n")
end

--- "1 month", "2 months": a count with its noun, singular for one.
-- many defaults to one .. "s".
function M.count(n, one, many)
  return string.format("%d %s", n, n == 1 and one or (many or one .. "s"))
end

return M
