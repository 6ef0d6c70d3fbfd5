--- Exact break-even between two editions along one usage metric
-- (imbill.breakeven).
local core = require "imbill.core"
local check = require "imbill.internal.check"
local money = require "imbill.internal.money"
local books = require "imbill.book"
local fmt = require "imbill.internal.fmt"

local M = {}

local METRICS = { dau = "dau", mau = "mau", groups = "groups" }

local Breakeven = {}
Breakeven.__index = Breakeven

function Breakeven:__tostring()
  local rows = {}
  local name = { a = self.a, b = self.b, equal = "equal" }
  for i, p in ipairs(self.points) do
    rows[i] = { fmt.int(p.at), name[p.cheaper], money.pretty(p.a_total), money.pretty(p.b_total) }
  end
  return string.format("%s against %s by %s, %s .. %s\n", self.a, self.b, self.metric, fmt.int(self.from),
    fmt.int(self.to)) .. fmt.table({ "from " .. self.metric, "cheaper", self.a, self.b }, rows,
    { true, false, true, true })
end

--- Plain data (strings and integers), ready for JSON.
function Breakeven:data()
  local points = {}
  for i, p in ipairs(self.points) do
    points[i] = { at = p.at, cheaper = p.cheaper, a_total = tostring(p.a_total), b_total = tostring(p.b_total) }
  end
  return { metric = self.metric, a = self.a, b = self.b, from = self.from, to = self.to, points = points }
end

-- Where a charge's cost can change its shape: at its free quota, and for block
-- charges at the end of every block (cost is constant on free+(k-1)*block+1 ..
-- free+k*block).  The first such value >= x, or nil.
local function next_cut(ch, x)
  if not ch or ch.block == 0 then return nil end
  if x <= ch.free then return ch.free end
  if ch.block == 1 then return nil end
  local k = math.ceil((x - ch.free) / ch.block)
  return ch.free + k * ch.block
end

-- The most pieces (runs between cuts) one call walks: 2021 pro against
-- ultimate by DAU has one per 10,000 DAU, so this covers 0 .. 10^10.
local MAX_PIECES = 1000000
-- The most single values scanned where two editions' costs are within a cent.
local MAX_SCAN = 1000000

--- imbill.breakeven{ a =, b =, metric = "dau"|"mau"|"groups", usage = {...}, from =, to = }
-- returns { metric=, a=, b=, points = { { at =, cheaper = "a"|"b"|"equal", a_total=, b_total= } } }
-- where each point is the value from which on (up to the next point) `cheaper`
-- holds.  Exact: every value where the order of the two totals changes is
-- reported, none is sampled.
--
-- How: [from, to] is cut into pieces at every free quota and block end of the
-- two editions' charges for the metric.  In a piece each edition's line is
-- either constant (block charges, or below the free quota) or linear before
-- its rounding to the cent (per-user charges, block 1).  If both are constant
-- the difference is constant.  Otherwise let g be the exact, unrounded
-- difference (linear in x); the rounded difference d differs from g by less
-- than a cent (two lines, each rounded half-up by less than half a cent), so d
-- has g's sign wherever |g| >= 1 cent.  Only the values where |g| < 1 cent,
-- found by bisection on g, are looked at one by one: at most 2 cents / slope.
local function breakeven(p)
  local FN = "imbill.breakeven"
  check.fields(FN, p, { a = true, b = true, metric = true, usage = true, from = true, to = true })
  local _, ea, na = books.resolve(FN, "a", p.a)
  local _, eb, nb = books.resolve(FN, "b", p.b)
  local metric = p.metric or "dau"
  if not METRICS[metric] then check.fail(FN, "metric", "expected dau, mau or groups", metric) end
  local usage = check.table(FN, "usage", p.usage or {})
  check.fields(FN .. " usage", usage, { peak_dau = true, groups_peak = true, mau = true })
  local base = {
    dau = check.count(FN, "usage.peak_dau", usage.peak_dau or 0),
    groups = check.count(FN, "usage.groups_peak", usage.groups_peak or 0),
    mau = check.count(FN, "usage.mau", usage.mau or 0),
  }
  local lo = check.count(FN, "from", p.from or 0)
  local hi = check.count(FN, "to", p.to or 10000000)
  if hi < lo then
    if p.to == nil then
      check.fail(FN, "from", "is above the default upper bound 10,000,000; give to as well", p.from)
    end
    check.fail(FN, "to", "is below from (" .. tostring(p.from) .. ")", p.to)
  end
  local FIELD = { dau = "peak_dau", groups = "groups_peak", mau = "mau" }

  local function cost(ed, x)
    base[metric] = x
    local ok, c = pcall(core.month_total, ed.rate, base.dau, base.groups, base.mau)
    if not ok then
      error(string.format("%s: to: at %s %s the total of %s does not fit (%s)", FN, FIELD[metric],
        tostring(x), ed.book .. "/" .. ed.id, tostring(c)), 0)
    end
    return c
  end
  local function sign(x)
    local d = cost(ea, x) - cost(eb, x)
    return d < 0 and -1 or (d > 0 and 1 or 0)
  end

  local ca, cb = ea.charges[metric], eb.charges[metric]
  -- A line that is linear (not rounded to blocks) on a piece starting at s.
  local function linear(ed, ch, s)
    return ch ~= nil and ch.block == 1 and not ed.free and s > ch.free
  end
  -- The exact difference g(x) as money, given its value at s and its slope.
  local function exact_at(s)
    local d = cost(ea, s) - cost(eb, s)
    local g = money.from_cents(d)
    local slope = money.ZERO
    for i, e in ipairs({ { ea, ca }, { eb, cb } }) do
      local ed, ch = e[1], e[2]
      if linear(ed, ch, s) then
        local blocks, cents = core.charge(ed.rate, metric, s)
        local line = ch.price * blocks - money.from_cents(cents) -- unrounded minus rounded
        if i == 1 then g, slope = g + line, slope + ch.price
        else g, slope = g - line, slope - ch.price end
      end
    end
    return g, slope
  end

  local points = {}
  local prev
  local function record(x, sg)
    points[#points + 1] = { at = x, cheaper = sg < 0 and "a" or (sg > 0 and "b" or "equal"),
                            a_total = money.from_cents(cost(ea, x)), b_total = money.from_cents(cost(eb, x)) }
    prev = sg
  end
  local function visit(x)
    local sg = sign(x)
    if sg ~= prev then record(x, sg) end
  end

  local CENT = money.from_cents(1)
  local NCENT = -CENT
  local pieces = 0
  local s = lo
  while s <= hi do
    local e = hi
    for _, ch in ipairs({ ca or false, cb or false }) do
      local c = ch and next_cut(ch, s)
      if c and c < e then e = c end
    end
    pieces = pieces + 1
    if pieces > MAX_PIECES then
      check.fail(FN, "to", string.format("the range %d .. %d crosses more than %d price steps; narrow from/to",
        lo, hi, MAX_PIECES), p.to)
    end
    visit(s)
    if e > s and (linear(ea, ca, s) or linear(eb, cb, s)) then
      local g0, k = exact_at(s)
      local function g(x) return g0 + k * (x - s) end
      -- the band [x1, x2] where |g| < 1 cent; below it and above it d has
      -- the constant sign of g
      local x1, x2 = e + 1, e
      if k == money.ZERO then
        if g0 > NCENT and g0 < CENT then x1, x2 = s + 1, e end
      else
        -- h = g oriented to grow with x; the near-zero band is -1c < h < 1c
        local up = k > money.ZERO
        local function h(x) local v = g(x) return up and v or -v end
        -- first x in (s, e] with h(x) > -1 cent
        local l, r = s, e + 1
        -- midpoints as l + half the gap: (l + r) / 2 is a float division,
        -- which near 2^60 (Lua 5.4 integers) rounds back to l and never ends
        while r - l > 1 do
          local m = l + math.floor((r - l) / 2)
          if h(m) > NCENT then r = m else l = m end
        end
        x1 = r
        -- last x in [s, e] with h(x) < 1 cent
        l, r = s - 1, e
        if h(e) < CENT then l = e else
          while r - l > 1 do
            local m = l + math.floor((r - l) / 2)
            if h(m) < CENT then l = m else r = m end
          end
        end
        x2 = l
      end
      if x2 - x1 > MAX_SCAN then
        check.fail(FN, "to", string.format("the two totals stay within a cent of each other from %d to %d;"
          .. " narrow from/to", x1, x2), p.to)
      end
      if s + 1 <= math.min(x1 - 1, e) then visit(s + 1) end
      for x = x1, x2 do visit(x) end
      local after = math.max(x1, x2 + 1)
      if after <= e then visit(after) end
    end
    s = e + 1
  end
  return setmetatable({ metric = metric, a = na, b = nb, from = lo, to = hi, points = points }, Breakeven)
end


--- imbill.breakeven{...}: see breakeven above.  Amounts at usage values
-- beyond what 64-bit micro-units hold (huge from/to with tiny prices) fail
-- deep in the money code; the caller hears which fields to change.
function M.breakeven(p)
  local ok, r = pcall(breakeven, p)
  if ok then return r end
  local msg = tostring(r)
  if msg:match("^imbill%.breakeven: ") then error(msg, 0) end
  error("imbill.breakeven: from, to: the totals at these usage values do not fit in 64 bits of micro-units ("
    .. msg .. ")", 0)
end

return M
