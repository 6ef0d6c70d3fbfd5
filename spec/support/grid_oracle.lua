--- The pure-Lua reference for imbill.grid (not shipped): the same
-- definitions as the C grid, written plainly, for the specs that compare the
-- two on every scenario and for bench/grid_bench.lua.
--
-- A scenario's DAU is dau(0) = start, dau(k+1) = round_half_up(dau(k) x
-- (1 + growth)); groups(k) = groups + round_half_up(dau(k) x groups_per_dau);
-- mau(k) = round_half_up(dau(k) x mau_per_dau); its result is the sum of the
-- full-month totals of months 0 .. months-1 in cents.
local money = require "imbill.internal.money"
local int = require "imbill.internal.integer"
local grid = require "imbill.whatif.grid"

local M = {}
local PPM = int.PPM
local idiv, toint = int.idiv, int.toint

-- An edition's prices as plain integers (micro-units).
local function plain_rate(ed)
  local function ch(c)
    if not c or c.block == 0 then return nil end
    return { free = c.free, block = c.block, price = c.price:micros() }
  end
  return { fee_cents = idiv(ed.monthly_fee:micros() + 5000, 10000), free = ed.free,
           dau = ch(ed.charges.dau), groups = ch(ed.charges.groups), mau = ch(ed.charges.mau) }
end
M.plain_rate = plain_rate

local function charge_cents(c, v)
  if c == nil or v <= c.free then return 0 end
  local over = v - c.free
  local blocks = idiv(over, c.block)
  if blocks * c.block < over then blocks = blocks + 1 end
  return idiv(2 * blocks * c.price + 10000, 20000)
end
M.charge_cents = charge_cents

--- The full-month total in cents, in plain Lua (same rules as imb_month_total).
function M.month_total_lua(r, dau, groups, mau)
  if r.free then return r.fee_cents end
  return r.fee_cents + charge_cents(r.dau, dau) + charge_cents(r.groups, groups) + charge_cents(r.mau, mau)
end

--- The grid of imbill.grid{...} in plain Lua: an array of cents, scenarios in
-- the grid's order.
function M.run_lua(p)
  local s = grid.spec(p)
  local out, n = {}, 0
  local months, groups, gppm, mppm = s.months, s.groups, s.groups_ppm, s.mau_ppm
  local total_fn = M.month_total_lua
  for _, ed in ipairs(s.editions) do
    local r = plain_rate(ed)
    for _, g in ipairs(s.growth) do
      local mul = PPM + g
      for _, start in ipairs(s.start) do
        local dau, total = start, 0
        for k = 1, months do
          local gr = groups
          if gppm ~= 0 then gr = gr + idiv(2 * dau * gppm + PPM, 2 * PPM) end
          local mau = mppm ~= 0 and idiv(2 * dau * mppm + PPM, 2 * PPM) or 0
          total = total + total_fn(r, dau, gr, mau)
          if k < months and g ~= 0 then dau = idiv(2 * dau * mul + PPM, 2 * PPM) end
        end
        n = n + 1
        out[n] = total
        if s.progress and n % s.chunk == 0 then s.progress(n, s.n) end
      end
    end
  end
  return out
end

--- Summaries of a plain array of cents: the definitions of Grid:summary, by
-- sorting a copy.
function M.summarize(cents, percentiles)
  local n = #cents
  local sorted = {}
  local sum, imin, imax = 0, 1, 1
  for i = 1, n do
    local v = cents[i]
    sorted[i] = v
    sum = sum + v
    if v < cents[imin] then imin = i end
    if v > cents[imax] then imax = i end
  end
  table.sort(sorted)
  local r = { n = n, min = money.from_cents(cents[imin]), max = money.from_cents(cents[imax]),
              mean = money.from_cents(int.muldiv(sum, 1, n)), argmin = imin, argmax = imax }
  for _, pc in ipairs(percentiles or grid.PERCENTILES) do
    local pp = toint(int.ppm("grid.summarize", "p", pc) / 100)
    local rank = math.ceil(pp * n / PPM)
    if rank < 1 then rank = 1 end
    r["p" .. tostring(pc)] = money.from_cents(sorted[rank])
  end
  return r
end

return M
