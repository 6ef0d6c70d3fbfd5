--- A seeded generator that gives the same draws on Lua 5.4 and LuaJIT:
-- Park-Miller, x(n+1) = 48271 x(n) mod (2^31 - 1).  Every product stays
-- below 2^47, so it is exact in a double as well as in an integer.
local M = {}
M.__index = M

local MOD = 2147483647

function M.new(seed)
  local s = math.floor(tonumber(seed) or 1) % MOD
  if s <= 0 then s = s + MOD - 1 end
  local r = setmetatable({ x = s }, M)
  for _ = 1, 3 do r:next() end
  return r
end

function M:next()
  self.x = (self.x * 48271) % MOD
  return self.x
end

--- A whole number in a..b (b - a below 2^31).
function M:int(a, b)
  return a + self:next() % (b - a + 1)
end

--- true with probability p.
function M:chance(p)
  return self:next() / MOD < p
end

function M:pick(list)
  return list[self:int(1, #list)]
end

--- A choice weighted by list[i][1]; returns list[i][2].
function M:weighted(list)
  local total = 0
  for _, w in ipairs(list) do total = total + w[1] end
  local x = self:int(1, total)
  for _, w in ipairs(list) do
    x = x - w[1]
    if x <= 0 then return w[2] end
  end
  return list[#list][2]
end

return M
