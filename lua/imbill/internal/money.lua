--- Exact money.  A money value is userdata holding int64 micro-units (1e-6 of
-- the currency); it prints with two decimals, more only where it carries them
-- ("0.015"), compares with == < <= and adds with + and -.
local core = require "imbill.core"
local check = require "imbill.internal.check"
local errors = require "imbill.internal.errors"

local M = {}

--- money(v): v is money, a decimal string ("149.99"), an integer (149) or a
-- Lua number with at most 6 decimals (149.99).  Such a number is taken only
-- when its 6-decimal text reads back as the same number, which proves no digit
-- was lost; 0.1234567 is an error (src/lua/money.c, the same rule for + - < <=).
function M.new(v, field)
  local ok, m = pcall(core.money, v, field or "amount")
  if not ok then error(m, 0) end
  return m
end

M.is = core.is_money
M.from_cents = core.money_from_cents
M.from_micros = core.money_from_micros
M.ZERO = core.money("0")

local function add(a, b) return a + b end

--- Sum of an array of money values (or amounts money() takes).
function M.sum(list)
  check.table("imbill.money.sum", "list", list)
  local s = M.ZERO
  -- read raw: a sum is of the values the list holds, not of what an
  -- __index or __len of the caller's makes up
  local n = 0
  while rawget(list, n + 1) ~= nil do n = n + 1 end
  for i = 1, n do
    local v = rawget(list, i)
    if not core.is_money(v) then v = errors.call("imbill.money.sum", nil, M.new, v, "list[" .. i .. "]") end
    s = errors.call("imbill.money.sum", nil, add, s, v)
  end
  return s
end

--- imbill.money.plot(m): the amount as a Lua number of currency units, for
-- plotting only (a chart's pixel position, a notebook's axis).  It is a
-- float: not exact past 2^53 micro-units, and not for adding up or
-- comparing money, which money values do exactly.  Text from it is never an
-- amount to show: tostring(m) is.
function M.plot(m)
  if not core.is_money(m) then require("imbill.internal.errors").raise("imbill.money.plot", "m",
    "expected a money value", m) end
  return tonumber(m:format(6))
end

--- "1,349.91": thousands separators for reports (tostring never has them).
function M.pretty(m, places)
  if not core.is_money(m) then check.fail("imbill.money.pretty", "m", "expected money", m) end
  if places ~= nil and (type(places) ~= "number" or places ~= math.floor(places) or places < 0 or places > 6) then
    check.fail("imbill.money.pretty", "places", "expected a whole number of decimals from 0 to 6", places)
  end
  local s = m:format(places or 2)
  local sign, int, frac = s:match("^(-?)(%d+)(.*)$")
  int = int:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return sign .. int .. frac
end

return M
