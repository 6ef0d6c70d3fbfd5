--- A straightforward pure-Lua implementation of the full-month total that
-- imbill.totals computes in C: plan fee plus DAU, group and MAU overage, each
-- line rounded half-up to the cent on its own, in integer cents.  Written the
-- way a careful Lua programmer would, without imbill, and to the same contract
-- (every input checked, errors naming the field and index, no inexact total):
-- it is the yardstick the benchmark compares the C batch path against, and
-- the benchmark checks that both give the same cents for every scenario.
--
-- Prices are integer micro-units (1e-6 USD) so 0.015 is exact; every value
-- stays far below 2^53, where doubles (LuaJIT) are still exact integers.
local floor, ceil = math.floor, math.ceil

local M = {}

--- An edition's rate from an imbill edition, as plain integers.
function M.rate_of(ed)
  local function charge(c)
    if not c then return nil end
    return { free = c.free, block = c.block, price = c.price:micros() }
  end
  return {
    fee_cents = ed.monthly_fee:cents(), is_free = ed.free,
    dau = charge(ed.charges.dau), groups = charge(ed.charges.groups), mau = charge(ed.charges.mau),
  }
end

-- blocks = ceil(max(0, value - free) / block); cents = round_half_up(blocks * price / 10^4)
local function line(c, value)
  if c == nil or c.block == 0 or value <= c.free then return 0 end
  local blocks = ceil((value - c.free) / c.block)
  return floor((blocks * c.price + 5000) / 10000)
end
M.line = line

--- Total in cents of one scenario.
function M.total(r, dau, groups, mau)
  if r.is_free then return r.fee_cents end
  return r.fee_cents + line(r.dau, dau) + line(r.groups, groups) + line(r.mau, mau)
end

local EXACT = 2 ^ 53

-- A whole number 0 <= v <= 2^53 (beyond it a LuaJIT number is not exact).
local function is_count(v)
  return type(v) == "number" and v >= 0 and v <= EXACT and v == floor(v)
end

--- Same contract as imbill.totals for arrays: equal lengths, every value
-- checked (an error names the field and index), one total per scenario, and
-- no total beyond 2^53 (not exact).  The checks are inline in the loop, as a
-- careful programmer would write a hot loop.
function M.totals(r, dau, groups, mau)
  local n = #dau
  if #groups ~= n or #mau ~= n then error("the arrays differ in length", 0) end
  local out = {}
  local total = M.total
  for i = 1, n do
    local d, g, m = dau[i], groups[i], mau[i]
    if not (type(d) == "number" and d >= 0 and d <= EXACT and d == floor(d)
        and type(g) == "number" and g >= 0 and g <= EXACT and g == floor(g)
        and type(m) == "number" and m >= 0 and m <= EXACT and m == floor(m)) then
      local field, v = "peak_dau", d
      if is_count(d) then field, v = "groups_peak", g end
      if is_count(d) and is_count(g) then field, v = "mau", m end
      error(string.format("%s[%d]: expected a whole number >= 0, got %s", field, i, tostring(v)), 0)
    end
    local c = total(r, d, g, m)
    if c > EXACT then error(string.format("scenario %d: the total is beyond 2^53 cents", i), 0) end
    out[i] = c
  end
  return out
end

return M
