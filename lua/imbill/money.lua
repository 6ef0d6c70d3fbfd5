--- Exact money.  A money value is userdata holding int64 micro-units (1e-6 of
-- the currency); it prints with two decimals, more only where it carries them
-- ("0.015"), compares with == < <= and adds with + and -.
local core = require "imbill.core"

local M = {}

local mtype = math.type

--- money(v): v is money, a decimal string ("149.99"), an integer (149) or a
-- Lua float with at most 6 decimals (149.99).  Floats are accepted only when
-- their shortest 6-decimal form reads back as the same float, which proves no
-- digit was lost; 0.1234567 is an error.
function M.new(v, field)
  field = field or "amount"
  if type(v) == "number" and not (mtype and mtype(v) == "integer") then
    if v ~= v or v == math.huge or v == -math.huge then
      error(string.format("%s: not an amount: %s", field, tostring(v)), 0)
    end
    if v == math.floor(v) and math.abs(v) < 2 ^ 53 then
      return core.money(string.format("%.0f", v), field)
    end
    local s = string.format("%.6f", v)
    if tonumber(s) ~= v then
      error(string.format("%s: %s has more than 6 decimals or is too large to be exact;"
        .. " pass it as a string", field, string.format("%.17g", v)), 0)
    end
    return core.money(s, field)
  end
  local ok, m = pcall(core.money, v, field)
  if not ok then error(m, 0) end
  return m
end

M.is = core.is_money
M.from_cents = core.money_from_cents
M.from_micros = core.money_from_micros
M.ZERO = core.money("0")

--- Sum of an array of money values.
function M.sum(list)
  local s = M.ZERO
  for i = 1, #list do s = s + list[i] end
  return s
end

--- "1,349.91": thousands separators for reports (tostring never has them).
function M.pretty(m, places)
  local s = m:format(places or 2)
  local sign, int, frac = s:match("^(-?)(%d+)(.*)$")
  int = int:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return sign .. int .. frac
end

return M
