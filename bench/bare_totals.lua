--- The bare yardstick of the batch benchmarks: the full-month total over three
-- Lua arrays written as a user would write it for speed, with nothing but the
-- formula (plan fee plus ceil(max(0, v - free) / block) x price per charge,
-- each line rounded half-up to the cent) and no checks of the inputs.  Prices
-- are integer micro-units, so every value is exact: on Lua 5.4 in integer
-- arithmetic (//), on LuaJIT in doubles with math.floor and math.ceil, the
-- natural code on each.  bench/pure_totals.lua is the validating yardstick.
local M = {}

--- An edition's prices as the plain numbers a user would copy from the price
-- list; a charge the edition does not have gets a free quota nothing exceeds.
function M.rate_of(ed)
  local never = math.maxinteger or math.huge
  local function ch(c)
    if not c or c.block == 0 then return { free = never, block = 1, price = 0 } end
    return { free = c.free, block = c.block, price = c.price:micros() }
  end
  return { fee = ed.monthly_fee:cents(), dau = ch(ed.charges.dau), groups = ch(ed.charges.groups),
           mau = ch(ed.charges.mau) }
end

-- The loops are written once below and made into each runtime's natural
-- code before they are loaded: LINE(v, free, block, price) is a charge's line
-- in cents and HALF(x, ppm) is round_half_up(x * ppm / 10^6), with integer
-- division (//) on Lua 5.4 and math.floor / math.ceil on LuaJIT, where //
-- does not parse.  The loaded text is the plain loop, with no call per line.
local INT = not rawget(_G, "jit")
local FORMS = INT and {
  LINE = "((%1 - %2 + %3 - 1) // %3 * %4 + 5000) // 10000", HALF = "(2 * %1 * %2 + 1000000) // 2000000",
} or {
  LINE = "floor((ceil((%1 - %2) / %3) * %4 + 5000) / 10000)", HALF = "floor((2 * %1 * %2 + 1000000) / 2000000)",
}

local function compile(name, text)
  text = text:gsub("(%u+)(%b())", function(form, args)
    local f = FORMS[form]
    if not f then return nil end
    local a = {}
    for x in args:sub(2, -2):gmatch("[^,%s]+") do a[#a + 1] = x end
    return (f:gsub("%%(%d)", function(k) return a[tonumber(k)] end))
  end)
  return assert(load("local floor, ceil = math.floor, math.ceil\n" .. text, "=" .. name, "t"))
end

--- totals(r, dau, groups, mau, n) -> { cents, ... }
M.totals = compile("bare_totals", [[
  local r, d, g, m, n = ...
  local fee = r.fee
  local df, db, dp = r.dau.free, r.dau.block, r.dau.price
  local gf, gb, gp = r.groups.free, r.groups.block, r.groups.price
  local mf, mb, mp = r.mau.free, r.mau.block, r.mau.price
  local out = {}
  for i = 1, n do
    local t = fee
    local v = d[i]
    if v > df then t = t + LINE(v, df, db, dp) end
    v = g[i]
    if v > gf then t = t + LINE(v, gf, gb, gp) end
    v = m[i]
    if v > mf then t = t + LINE(v, mf, mb, mp) end
    out[i] = t
  end
  return out
]])

--- grid(rates, growth_ppm, starts, months, groups, groups_ppm, mau_ppm) -> { cents, ... }:
-- a what-if grid (editions x monthly growth x starting DAU, the scenario
-- order of imbill.grid) written the same way: DAU compounded month by month
-- and every ratio rounded half-up, the month's total as totals() above.
M.grid = compile("bare_grid", [[
  local rates, growth, starts, months, groups, gppm, mppm = ...
  local out, n = {}, 0
  for _, r in ipairs(rates) do
    local fee = r.fee
    local df, db, dp = r.dau.free, r.dau.block, r.dau.price
    local gf, gb, gp = r.groups.free, r.groups.block, r.groups.price
    local mf, mb, mp = r.mau.free, r.mau.block, r.mau.price
    for _, g in ipairs(growth) do
      local mul = 1000000 + g
      for _, start in ipairs(starts) do
        local dau, total = start, 0
        for k = 1, months do
          local gr = groups + HALF(dau, gppm)
          local mau = HALF(dau, mppm)
          local t = fee
          if dau > df then t = t + LINE(dau, df, db, dp) end
          if gr > gf then t = t + LINE(gr, gf, gb, gp) end
          if mau > mf then t = t + LINE(mau, mf, mb, mp) end
          total = total + t
          if k < months then dau = HALF(dau, mul) end
        end
        n = n + 1
        out[n] = total
      end
    end
  end
  return out
]])

return M
