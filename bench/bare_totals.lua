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

--- grid(rates, growth_ppm, starts, months, groups, groups_ppm, mau_ppm) -> { cents, ... }:
-- a what-if grid (editions x monthly growth x starting DAU, the scenario
-- order of imbill.grid) written the same way: DAU compounded month by month
-- and every ratio rounded half-up as round_half_up(x * ppm / 10^6) =
-- floor((2 x ppm + 10^6) / (2 x 10^6)), the month's total as totals() above.
if rawget(_G, "jit") then
  local floor, ceil = math.floor, math.ceil
  function M.grid(rates, growth, starts, months, groups, gppm, mppm)
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
            local gr = groups + floor((2 * dau * gppm + 1000000) / 2000000)
            local mau = floor((2 * dau * mppm + 1000000) / 2000000)
            local t = fee
            if dau > df then t = t + floor((ceil((dau - df) / db) * dp + 5000) / 10000) end
            if gr > gf then t = t + floor((ceil((gr - gf) / gb) * gp + 5000) / 10000) end
            if mau > mf then t = t + floor((ceil((mau - mf) / mb) * mp + 5000) / 10000) end
            total = total + t
            if k < months then dau = floor((2 * dau * mul + 1000000) / 2000000) end
          end
          n = n + 1
          out[n] = total
        end
      end
    end
    return out
  end
else
  M.grid = assert(load([[
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
            local gr = groups + (2 * dau * gppm + 1000000) // 2000000
            local mau = (2 * dau * mppm + 1000000) // 2000000
            local t = fee
            if dau > df then t = t + ((dau - df + db - 1) // db * dp + 5000) // 10000 end
            if gr > gf then t = t + ((gr - gf + gb - 1) // gb * gp + 5000) // 10000 end
            if mau > mf then t = t + ((mau - mf + mb - 1) // mb * mp + 5000) // 10000 end
            total = total + t
            if k < months then dau = (2 * dau * mul + 1000000) // 2000000 end
          end
          n = n + 1
          out[n] = total
        end
      end
    end
    return out
  ]], "=bare_grid", "t"))
end

return M
