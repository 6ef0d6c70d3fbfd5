--- Whole-number arithmetic for what-if usage: floor division, round-half-up
-- products, and decimal ratios read as parts per million.  Exact on Lua 5.4
-- integers and on LuaJIT doubles below 2^53, so a series or a grid is the same
-- on both runtimes, on every machine.
local core = require "imbill.core"
local check = require "imbill.internal.check"
local errors = require "imbill.internal.errors"

local M = {}

M.EXACT = 2 ^ 53
M.PPM = 1000000
local EXACT, PPM = M.EXACT, M.PPM

--- v as an integer on Lua 5.4 (a float with an integral value otherwise).
function M.toint(v)
  if math.type then return math.tointeger(v) or v end
  return v
end
local toint = M.toint

--- floor(a / b) for whole a >= 0, b > 0, both below 2^53.
function M.idiv(a, b)
  local q = math.floor(a / b)
  while q * b > a do q = q - 1 end
  while (q + 1) * b <= a do q = q + 1 end
  return q
end
local idiv = M.idiv

--- round_half_up(a * b / d) for whole a, b >= 0 and d > 0; errors when the
-- result passes 2^53 (the bound of every count, on both runtimes).
function M.muldiv(a, b, d, what)
  if a ~= 0 and b > (EXACT - d) / a / 2 then
    -- the product passes 2^53, the result may not: taken in 128 bits in C
    -- (LuaJIT's doubles, Lua 5.4's integers would wrap), as the grid grows its DAU
    local q = core.muldiv(a, b, d)
    if q == nil or q > EXACT then
      -- shown whole on both runtimes (LuaJIT's tostring gives 9.007199254741e+15)
      check.fail(nil, what or "value", string.format("%s x %s / %s is beyond 2^53, more than a count can be exactly",
        errors.show(a), errors.show(b), errors.show(d)), check.NOVALUE)
    end
    return q
  end
  return idiv(2 * a * b + d, 2 * d)
end

--- A ratio of MAU to peak DAU in parts per million: at least 1, since a
-- month's active users include every user of its busiest day (MAU 0.5 x DAU
-- billed a MAU plan for half the users active on one day).
function M.mau_ratio(fn, field, v)
  local r = M.ppm(fn, field, v)
  if r < PPM then
    check.fail(fn, field, "must be at least 1: a month's active users include every user of its busiest day", v)
  end
  return r
end

--- A decimal ratio as parts per million: "1.5" -> 1500000, "5%" -> 50000,
-- 2 -> 2000000, 0.05 -> 50000.  Must be exact in millionths; may be negative
-- only when `signed`.
function M.ppm(fn, field, v, signed)
  local s = v
  if type(v) == "number" then
    if v ~= v or v == math.huge or v == -math.huge then check.fail(fn, field, "expected a ratio", v) end
    if v == math.floor(v) and math.abs(v) < 2 ^ 33 then
      s = string.format("%.0f", v)
    else
      s = string.format("%.6f", v)
      if tonumber(s) ~= v then check.fail(fn, field, "has more than 6 decimals; pass it as a string", v) end
    end
  elseif type(v) ~= "string" then
    check.fail(fn, field, "expected a ratio such as \"1.5\", \"5%\" or 0.05", v)
  end
  local pct = s:match("^%s*(.-)%s*%%%s*$")
  local ok, m = pcall(core.money, pct or s, field)
  if not ok then
    -- a ratio written plainly, only finer than the millionths rates are kept in
    local decimals = (pct or s):match("^%s*[-+]?%d*%.(%d+)%s*$")
    if decimals and #decimals > 6 then
      check.fail(fn, field, pct and "a percentage may have at most 4 decimals" or "has more than 6 decimals", v)
    end
    check.fail(fn, field, "expected a ratio such as \"1.5\", \"5%\" or 0.05", v)
  end
  -- cents are exact on every runtime (at most 2^63 / 10^4); micros past 2^53 are not on LuaJIT
  local cents = m:cents()
  if cents < 0 and not signed then check.fail(fn, field, "must not be negative", v) end
  if math.abs(cents) > 1e8 * (pct and 100 or 1) then check.fail(fn, field, "is too large", v) end
  local micros = m:micros()
  if pct then
    if micros % 100 ~= 0 then check.fail(fn, field, "a percentage may have at most 4 decimals", v) end
    micros = micros / 100
  end
  micros = toint(micros)
  if micros < 0 and not signed then check.fail(fn, field, "must not be negative", v) end
  if math.abs(micros) > 1e12 then check.fail(fn, field, "is too large", v) end
  return micros
end

--- A percentile's p (a percentage 0 .. 100: a number, or a string with at
-- most 4 decimals, optionally ending in "%": "95", "99.9", "95%" are all
-- percentages) as parts per million of 100, 0 .. 10^6.  A "%" is the unit p
-- is already in, not a hundredth of it: "50%" is the median.
-- @string fn the function an error names
-- @param p the percentage
-- @treturn integer p in parts per million of 100 (50 -> 500000)
-- @raise `fn: p: ...` for a value that is not a percentage 0 .. 100
function M.percentile(fn, p)
  local v = p
  if type(v) == "string" then
    local bare = v:match("^%s*(.-)%s*%%%s*$")
    if bare then v = bare end
    -- one "%" ends a percentile; another would be read as a percentage of it
    -- ("95%%" as 0.95)
    if v:find("%", 1, true) then
      check.fail(fn, "p", "expected 0 .. 100, a number or a percentage such as \"95%\"", p)
    end
  end
  local micros = M.ppm(fn, "p", v)
  if micros % 100 ~= 0 then check.fail(fn, "p", "at most 4 decimals", p) end
  local pp = toint(micros / 100)
  if pp > PPM then check.fail(fn, "p", "expected 0 .. 100", p) end
  return pp
end

--- A ratio in parts per million as the shortest decimal text: 3000000 -> "3",
-- 2500000 -> "2.5" (how results show the ratios they assumed).
function M.ratio_text(ppm)
  local sign = ppm < 0 and "-" or ""
  local a = math.abs(ppm)
  local whole, frac = idiv(a, PPM), a % PPM
  local s = sign .. string.format("%d", whole)
  if frac ~= 0 then s = s .. (string.format(".%06d", frac):gsub("0+$", "")) end
  return s
end

--- The growth rate fields shared by compound() and the grids: rate (a
-- decimal or percentage), rate_bp (whole basis points) or rate_ppm.  Returns
-- parts per million; must be above -100%.
function M.rate(FN, p)
  local n = (p.rate ~= nil and 1 or 0) + (p.rate_bp ~= nil and 1 or 0) + (p.rate_ppm ~= nil and 1 or 0)
  if n ~= 1 then check.fail(FN, "rate", "give exactly one of rate, rate_bp, rate_ppm", p.rate) end
  local r
  if p.rate ~= nil then r = M.ppm(FN, "rate", p.rate, true)
  elseif p.rate_bp ~= nil then
    if type(p.rate_bp) ~= "number" or p.rate_bp ~= math.floor(p.rate_bp) then
      check.fail(FN, "rate_bp", "expected whole basis points", p.rate_bp)
    end
    -- judged before the product: 100 x a huge count wraps around on Lua 5.4
    -- integers (2^62 + 5 basis points would read as 5 basis points)
    if p.rate_bp <= -10000 then check.fail(FN, "rate_bp", "must be above -100% (-10000)", p.rate_bp) end
    if p.rate_bp > 1000000 then check.fail(FN, "rate_bp", "must be at most 10000% (1000000)", p.rate_bp) end
    r = toint(p.rate_bp * 100)
  else
    if type(p.rate_ppm) ~= "number" or p.rate_ppm ~= math.floor(p.rate_ppm) then
      check.fail(FN, "rate_ppm", "expected whole parts per million", p.rate_ppm)
    end
    r = toint(p.rate_ppm)
    if r <= -PPM then check.fail(FN, "rate_ppm", "must be above -100% (-1000000)", p.rate_ppm) end
    if r > 100 * PPM then check.fail(FN, "rate_ppm", "must be at most 10000% (100000000)", p.rate_ppm) end
  end
  if r <= -PPM then check.fail(FN, "rate", "must be above -100%", p.rate or p.rate_bp or p.rate_ppm) end
  if r > 100 * PPM then check.fail(FN, "rate", "must be at most 10000%", p.rate or p.rate_bp or p.rate_ppm) end
  return r
end

return M
