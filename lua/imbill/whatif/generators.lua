--- Generators of daily usage: a level (a whole number of users or groups) or
-- a factor (a ratio in parts per million) for each day.  `level + level`,
-- `level * factor`, `factor * factor` and `level * number` combine them; the result
-- of `level * factor` is `round_half_up(level * factor / 10^6)`, clamped at 0.
-- Every step is integer arithmetic (imbill.internal.integer), so a generated
-- series is the same on every runtime and machine.  See docs/whatif.md.
--
-- `imbill.series` carries every generator below under the same name.
-- @usage local S = imbill.series
-- local dau = S.compound{ start = 20000, rate = "5%" } * S.weekly{ sat = "1.3", sun = "1.25" }
--   + S.noise{ seed = 7, amplitude = 300 }
-- local s = S.build{ from = "2021-01", months = 6, dau = dau, groups = 150000 }
local check = require "imbill.internal.check"
local dates = require "imbill.internal.dates"
local int = require "imbill.internal.integer"

local M = {}

local PPM = int.PPM
local idiv, muldiv = int.idiv, int.muldiv

local Gen = {}
Gen.__index = Gen
--- A generator: a level or a factor for each day, made by the functions
-- of this module.  `kind` is `"level"` or `"factor"`, `label` what it shows, `f(ctx)`
-- the value of a day.  Operators combine them: `level + level` (a level,
-- clamped at 0), `level * factor` and `level * number` (a level,
-- `round_half_up(level x factor)`), `factor * factor` (a factor).  A wrong
-- combination raises naming the operand:
-- `imbill.series *: right: applies a factor ... to a level; two levels cannot be multiplied`.
-- `tostring(g)` is `imbill series generator: LABEL`.
M.Gen = Gen

--- Whether `x` is a generator.
-- @param x any value
-- @treturn boolean `true` for a generator
function M.is_gen(x) return getmetatable(x) == Gen end
local is_gen = M.is_gen

--- A generator of your own.
-- `f(ctx)` where `ctx = { t =, day =, k = }`: `t` is the day index from the
-- series start (0-based), `day` the day number, `k` the month index from the
-- series' first month (0-based).
-- @string kind `"level"` (`f` gives a whole count) or `"factor"` (`f` gives parts per million)
-- @func f the value of a day: `f(ctx)`, a whole number
-- @string label how messages and `tostring` name it
-- @treturn Gen the generator
function M.new(kind, f, label)
  return setmetatable({ kind = kind, f = f, label = label }, Gen)
end
local gen = M.new

--- x as a generator: a generator, or a whole number as a constant level.
-- @tparam Gen|int x the generator or the count
-- @string fn the function an error names
-- @string field the field an error names
-- @treturn Gen the generator
-- @raise `fn: field: expected a whole number or a generator (imbill.series.constant, ...)`
function M.as_gen(x, fn, field)
  if is_gen(x) then return x end
  if type(x) == "number" then
    local n = check.count(fn, field, x)
    return gen("level", function() return n end, tostring(n))
  end
  check.fail(fn, field, "expected a whole number or a generator (imbill.series.constant, ...)", x)
end
local as_gen = M.as_gen

-- The operators name themselves as the generators' module does: a script
-- writes `dau * weekly{...}`, and the message says which operand is wrong.
local ADD, MUL = "imbill.series +", "imbill.series *"

function Gen.__add(a, b)
  a, b = as_gen(a, ADD, "left"), as_gen(b, ADD, "right")
  if a.kind ~= "level" or b.kind ~= "level" then
    check.fail(ADD, a.kind ~= "level" and "left" or "right", "adds two levels (counts); use * to apply a factor",
      a.kind ~= "level" and a.label or b.label)
  end
  return gen("level", function(c)
    local v = a.f(c) + b.f(c)
    return v < 0 and 0 or v
  end, a.label .. " + " .. b.label)
end

function Gen.__mul(a, b)
  local fa, fb = "left", "right"
  if type(a) == "number" then a, b, fa, fb = b, a, fb, fa end
  if type(b) == "number" then b = check.call(MUL, M.factor, b) end
  if not is_gen(a) then check.fail(MUL, fa, "expected a generator (imbill.series.constant, ...) or a number", a) end
  if not is_gen(b) then check.fail(MUL, fb, "expected a generator (imbill.series.constant, ...) or a number", b) end
  if a.kind == "factor" and b.kind == "level" then a, b = b, a end
  if a.kind == "level" and b.kind == "level" then
    check.fail(MUL, "right", "applies a factor (weekly, ramp, step{times=}, noise{relative=}) to a level; two levels"
      .. " cannot be multiplied", b.label)
  end
  local kind = a.kind
  return gen(kind, function(c)
    local x, y = a.f(c), b.f(c)
    if x <= 0 or y <= 0 then return 0 end
    return muldiv(x, y, PPM, "series")
  end, "(" .. a.label .. ") x (" .. b.label .. ")")
end

function Gen:__tostring() return "imbill series generator: " .. self.label end

--- `constant(n)`: the same count every day.
-- @int n the count
-- @treturn Gen a level
-- @raise `imbill.series.constant: n: ...` for a value that is not a whole number >= 0
function M.constant(n)
  local v = check.count("imbill.series.constant", "n", n)
  return gen("level", function() return v end, "constant " .. v)
end

--- `factor(r)`: the same ratio every day ("1.2", "120%", 1.2).
-- @tparam string|number r the ratio
-- @treturn Gen a factor
-- @raise `imbill.series.factor: r: expected a ratio such as "1.5", "5%" or 0.05`
function M.factor(r)
  local p = int.ppm("imbill.series.factor", "r", r)
  return gen("factor", function() return p end, "factor " .. tostring(r))
end

--- A level that moves in a straight line.
--
-- `linear{ start =, per_day = }` or `{ start =, per_month = }`: `per_day` may be a
-- decimal (`"2.5"`): day t has `start + round_half_up(per_day * t)`; `per_month`
-- adds `per_month` on the 1st of each following month.  Negative slopes are
-- allowed; the level never goes below 0.
-- @tab p the line:
-- @int[opt=0] p.start the first day's level
-- @tparam[opt] string|number p.per_day the slope per day, or
-- @tparam[opt] string|number p.per_month the step per month (one of the two)
-- @treturn Gen a level
-- @raise `imbill.series.linear: per_day: give per_day or per_month (one of them)`, or a bad value
function M.linear(p)
  local FN = "imbill.series.linear"
  p = check.fields(FN, p, { start = true, per_day = true, per_month = true })
  local start = check.count(FN, "start", p.start or 0)
  if (p.per_day == nil) == (p.per_month == nil) then
    check.fail(FN, "per_day", "give per_day or per_month (one of them)", p.per_day)
  end
  local slope = int.ppm(FN, p.per_day ~= nil and "per_day" or "per_month", p.per_day or p.per_month, true)
  local by_month = p.per_month ~= nil
  return gen("level", function(c)
    local x = by_month and c.k or c.t
    local d = slope * x
    local inc = d >= 0 and idiv(2 * d + PPM, 2 * PPM) or -idiv(2 * -d + PPM, 2 * PPM)
    local v = start + inc
    return v < 0 and 0 or v
  end, string.format("linear from %d, %s a %s", start, tostring(p.per_day or p.per_month), by_month and "month" or "day"))
end

--- A level that grows by a rate each month (or day).
--
-- `compound{ start =, rate =, per = "month"|"day" }`: rate `"5%"`, `"0.05"`, `0.05`,
-- or `rate_bp = 500` (basis points) or `rate_ppm = 50000`.  Month k (counted from
-- the series' first month) has v(k) with v(0) = start and v(k+1) =
-- `round_half_up(v(k) * (1 + rate))`; `per = "day"` compounds from day to day.
-- @tab p the growth:
-- @int p.start the level of the first month (or day)
-- @tparam[opt] string|number p.rate the rate, or `p.rate_bp`, or `p.rate_ppm` (exactly one)
-- @string[opt="month"] p.per `"month"` or `"day"`
-- @treturn Gen a level
-- @raise `imbill.series.compound: rate: give exactly one of rate, rate_bp, rate_ppm`,
-- `rate: must be above -100%`, `per: expected "month" or "day"`
function M.compound(p)
  local FN = "imbill.series.compound"
  p = check.fields(FN, p, { start = true, rate = true, rate_bp = true, rate_ppm = true, per = true })
  local start = check.count(FN, "start", p.start)
  local r = int.rate(FN, p)
  local per = p.per or "month"
  if per ~= "month" and per ~= "day" then check.fail(FN, "per", "expected \"month\" or \"day\"", per) end
  local cache = { [0] = start }
  local function at(i)
    for j = #cache + 1, i do
      cache[j] = muldiv(cache[j - 1], PPM + r, PPM, "compound")
    end
    return cache[i]
  end
  return gen("level", function(c)
    return at(per == "month" and c.k or c.t)
  end, string.format("compound from %d at %s ppm a %s", start, r, per))
end

local DOW = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" }
--- The days of the week as `weekly` names them, Monday first: `mon` .. `sun`.
M.DOW = DOW

--- Day of the week of a day number: 1 = Monday .. 7 = Sunday.
-- @int day a day number (days since 1970-01-01, a Thursday)
-- @treturn int 1 to 7
function M.weekday(day) return (day + 3) % 7 + 1 end

--- A factor by day of the week.
--
-- `weekly{ sat = "1.3", sun = "1.25" }` (unnamed days 1) or `weekly{ f1, ..., f7 }`
-- from Monday: a factor by day of the week.
-- @tab p the factors by day name (`DOW`), or 7 of them, Monday first
-- @treturn Gen a factor
-- @raise `imbill.series.weekly: factors: needs 7 factors, Monday first`, an unknown day name, a bad ratio
function M.weekly(p)
  local FN = "imbill.series.weekly"
  check.table(FN, "factors", p)
  local f = {}
  if p[1] ~= nil then
    -- the list form only: a day named beside it ({ 1, ..., sat = "2" }) would be ignored
    check.list(FN, "factors", p, "7 factors, Monday first (or only named days)")
    if #p ~= 7 then check.fail(FN, "factors", "needs 7 factors, Monday first", #p) end
    for i = 1, 7 do f[i] = int.ppm(FN, "factors[" .. i .. "]", p[i]) end
  else
    local allowed = {}
    for _, d in ipairs(DOW) do allowed[d] = true end
    p = check.fields(FN, p, allowed)
    for i, d in ipairs(DOW) do f[i] = p[d] ~= nil and int.ppm(FN, d, p[d]) or PPM end
  end
  return gen("factor", function(c) return f[M.weekday(c.day)] end, "weekly")
end

--- A step on one day: a level added, or a factor applied, from that day on.
--
-- `step{ on = "YYYY-MM-DD", by = n }`: a level, 0 before the day and n from it on;
-- `step{ on =, times = ratio }`: a factor, 1 before and the ratio from it on.
-- @tab p the step:
-- @string p.on the day it happens, `"YYYY-MM-DD"`
-- @int[opt] p.by the count added from that day, or
-- @tparam[opt] string|number p.times the ratio from that day (one of the two)
-- @treturn Gen a level (`by`) or a factor (`times`)
-- @raise `imbill.series.step: by: give by (a count) or times (a ratio)`, `on: ...`
function M.step(p)
  local FN = "imbill.series.step"
  p = check.fields(FN, p, { on = true, by = true, times = true })
  local on = check.call(FN, dates.day, p.on, "on")
  if (p.by == nil) == (p.times == nil) then check.fail(FN, "by", "give by (a count) or times (a ratio)", p.by) end
  if p.by ~= nil then
    local by = check.count(FN, "by", p.by)
    return gen("level", function(c) return c.day >= on and by or 0 end, "step +" .. by .. " on " .. p.on)
  end
  local t = int.ppm(FN, "times", p.times)
  return gen("factor", function(c) return c.day >= on and t or PPM end, "step x" .. tostring(p.times) .. " on " .. p.on)
end

--- A factor moving in a straight line between two days.
--
-- `ramp{ from = date, to = date, start = "1", finish = "2" }`: a factor moving
-- in a straight line from start (on `from` and before) to finish (on `to` and
-- after); day d in between has
-- `start + round_half_up((finish - start) * (d - from) / (to - from))` millionths.
-- @tab p the ramp:
-- @string p.from the day it starts, `"YYYY-MM-DD"`
-- @string p.to the day it ends, after `from`
-- @tparam[opt=1] string|number p.start the ratio up to `from`
-- @tparam string|number p.finish the ratio from `to` on
-- @treturn Gen a factor
-- @raise `imbill.series.ramp: to: must be after from`, a bad date or ratio
function M.ramp(p)
  local FN = "imbill.series.ramp"
  p = check.fields(FN, p, { from = true, to = true, start = true, finish = true })
  local a = check.call(FN, dates.day, p.from, "from")
  local b = check.call(FN, dates.day, p.to, "to")
  if b <= a then check.fail(FN, "to", "must be after from", p.to) end
  local s = int.ppm(FN, "start", p.start == nil and 1 or p.start)
  local e = int.ppm(FN, "finish", p.finish)
  return gen("factor", function(c)
    if c.day <= a then return s end
    if c.day >= b then return e end
    local span, x = b - a, c.day - a
    local d = e - s
    if d >= 0 then return s + muldiv(d, x, span, "ramp") end
    return s - muldiv(-d, x, span, "ramp")
  end, "ramp " .. p.from .. ".." .. p.to)
end

-- Park-Miller "minimal standard" generator: x(n+1) = 48271 x(n) mod (2^31 - 1).
-- The products stay below 2^47, exact on every runtime.
local MODULUS = 2147483647
--- Park-Miller "minimal standard" generator: `x(n+1) = 48271 x(n) mod (2^31 - 1)`,
-- the draws of `noise`.
-- @int x the state, 1 to 2^31 - 2
-- @treturn int the next state
-- @function lcg
local function lcg(x) return (48271 * x) % MODULUS end
-- the largest amplitude: 2n + 1 values drawn from 2^31 - 2 by a modulus stay
-- within 0.1% of uniform
local NOISE_MAX = 1000000
M.lcg = lcg

--- Seeded random noise: a level to add, or a factor.
--
-- `noise{ seed =, amplitude = n }`: a level, a whole number drawn uniformly from
-- -n..n each day (add it to a level); `noise{ seed =, relative = "5%" }`: a factor
-- drawn from 1 - r .. 1 + r in millionths.  The same seed gives the same draws:
-- day t of the series uses the t-th draw after the seed.
-- @tab p the noise:
-- @int[opt=1] p.seed the seed
-- @int[opt] p.amplitude the largest step either way (at most 1,000,000), or
-- @tparam[opt] string|number p.relative the largest ratio either way, below 100% (one of the two)
-- @treturn Gen a level (`amplitude`, signed: add it to a level) or a factor (`relative`)
-- @raise `imbill.series.noise: amplitude: give amplitude (a count) or relative (a ratio)`,
-- `relative: must be below 100%`
function M.noise(p)
  local FN = "imbill.series.noise"
  p = check.fields(FN, p, { seed = true, amplitude = true, relative = true })
  local seed = check.count(FN, "seed", p.seed or 1)
  seed = seed % MODULUS
  if seed == 0 then seed = 1 end
  if (p.amplitude == nil) == (p.relative == nil) then
    check.fail(FN, "amplitude", "give amplitude (a count) or relative (a ratio)", p.amplitude)
  end
  local draws, x = {}, seed
  local function draw(t)
    for i = #draws + 1, t + 1 do
      x = lcg(x)
      draws[i] = x
    end
    return draws[t + 1]
  end
  if p.amplitude ~= nil then
    local a = check.count(FN, "amplitude", p.amplitude)
    -- a draw has 2^31 - 2 values: past about 2^30 a draw mod (2n + 1) cannot
    -- reach +n at all (amplitude 10^12 gave -n + a draw, always near -n), and
    -- well before that the draws stop being close to uniform
    if a > NOISE_MAX then
      check.fail(FN, "amplitude", "must be at most " .. NOISE_MAX .. " (the draws are uniform only well below 2^31);"
        .. " for a wider spread use relative = a ratio", p.amplitude)
    end
    return setmetatable({ kind = "level", label = "noise +-" .. a, f = function(c)
      return draw(c.t) % (2 * a + 1) - a
    end, signed = true }, Gen)
  end
  local r = int.ppm(FN, "relative", p.relative)
  if r >= PPM then check.fail(FN, "relative", "must be below 100%", p.relative) end
  return gen("factor", function(c) return PPM - r + draw(c.t) % (2 * r + 1) end, "noise +-" .. tostring(p.relative))
end

return M
