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

if rawget(_G, "jit") then
  local floor, ceil = math.floor, math.ceil
  --- totals(r, dau, groups, mau, n) -> { cents, ... }
  function M.totals(r, d, g, m, n)
    local fee = r.fee
    local df, db, dp = r.dau.free, r.dau.block, r.dau.price
    local gf, gb, gp = r.groups.free, r.groups.block, r.groups.price
    local mf, mb, mp = r.mau.free, r.mau.block, r.mau.price
    local out = {}
    for i = 1, n do
      local t = fee
      local v = d[i]
      if v > df then t = t + floor((ceil((v - df) / db) * dp + 5000) / 10000) end
      v = g[i]
      if v > gf then t = t + floor((ceil((v - gf) / gb) * gp + 5000) / 10000) end
      v = m[i]
      if v > mf then t = t + floor((ceil((v - mf) / mb) * mp + 5000) / 10000) end
      out[i] = t
    end
    return out
  end
else
  -- integer division (//) is Lua 5.3+ syntax: loaded from text so that LuaJIT
  -- can parse this file
  M.totals = assert(load([[
    local r, d, g, m, n = ...
    local fee = r.fee
    local df, db, dp = r.dau.free, r.dau.block, r.dau.price
    local gf, gb, gp = r.groups.free, r.groups.block, r.groups.price
    local mf, mb, mp = r.mau.free, r.mau.block, r.mau.price
    local out = {}
    for i = 1, n do
      local t = fee
      local v = d[i]
      if v > df then t = t + ((v - df + db - 1) // db * dp + 5000) // 10000 end
      v = g[i]
      if v > gf then t = t + ((v - gf + gb - 1) // gb * gp + 5000) // 10000 end
      v = m[i]
      if v > mf then t = t + ((v - mf + mb - 1) // mb * mp + 5000) // 10000 end
      out[i] = t
    end
    return out
  ]], "=bare_totals", "t"))
end

return M
