--- Usage series for what-if pricing: daily DAU, group and MAU values over a
-- range of days, read from a usage history file (CSV) or built from
-- generators (constant, linear, compound growth, weekly seasonality, a step on
-- a date, seeded noise, a ramp) and their combinations.
--
-- Every value is a whole number and every step is integer arithmetic with a
-- documented rounding (half-up), so a series is the same on Lua 5.4 and on
-- LuaJIT, on every machine, run after run.  See docs/whatif.md.
local core = require "imbill.core"
local check = require "imbill.internal.check"
local dates = require "imbill.internal.dates"
local books = require "imbill.book"

local M = {}

local EXACT = 2 ^ 53
local PPM = 1000000

-- Integer helpers (exact on 5.4 integers and on LuaJIT doubles below 2^53) ---

local function clean(e)
  return (tostring(e):gsub("^[^:\n]-%.lua:%d+: ", ""))
end
M.clean = clean

--- floor(a / b) for whole a >= 0, b > 0, both below 2^53.
local function idiv(a, b)
  local q = math.floor(a / b)
  while q * b > a do q = q - 1 end
  while (q + 1) * b <= a do q = q + 1 end
  return q
end
M.idiv = idiv

--- round_half_up(a * b / d) for whole a, b >= 0 and d > 0; errors when a * b
-- would not be exact.
local function muldiv(a, b, d, what)
  if a ~= 0 and b > (EXACT - d) / a / 2 then
    error(string.format("%s: %s x %s is too large to compute exactly", what or "value", tostring(a), tostring(b)), 0)
  end
  return idiv(2 * a * b + d, 2 * d)
end
M.muldiv = muldiv

local function toint(v)
  if math.type then return math.tointeger(v) or v end
  return v
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
  if not ok then check.fail(fn, field, "expected a ratio such as \"1.5\", \"5%\" or 0.05", v) end
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

-- Generators ---------------------------------------------------------------
--
-- A generator gives one value per day: a level (a whole number of users or
-- groups) or a factor (a ratio in parts per million).  level + level,
-- level * factor, factor * factor and level * number combine them; the result
-- of level * factor is round_half_up(level * factor / 10^6), clamped at 0.

local Gen = {}
Gen.__index = Gen
M.Gen = Gen

local function is_gen(x) return getmetatable(x) == Gen end
M.is_gen = is_gen

-- f(ctx) where ctx = { t = day index from the series start (0-based), day =
-- day number, k = month index from the series' first month (0-based) }
local function gen(kind, f, label)
  return setmetatable({ kind = kind, f = f, label = label }, Gen)
end

local function as_gen(x, fn, field)
  if is_gen(x) then return x end
  if type(x) == "number" then
    local n = check.count(fn, field, x)
    return gen("level", function() return n end, tostring(n))
  end
  check.fail(fn, field, "expected a whole number or a generator (imbill.series.constant, ...)", x)
end
M.as_gen = as_gen

function Gen.__add(a, b)
  a, b = as_gen(a, "series +", "left"), as_gen(b, "series +", "right")
  if a.kind ~= "level" or b.kind ~= "level" then
    error("series: + adds two levels (counts); use * to apply a factor", 0)
  end
  return gen("level", function(c)
    local v = a.f(c) + b.f(c)
    return v < 0 and 0 or v
  end, a.label .. " + " .. b.label)
end

function Gen.__mul(a, b)
  if type(a) == "number" then a, b = b, a end
  if type(b) == "number" then b = M.factor(b) end
  if not is_gen(a) or not is_gen(b) then error("series: * combines generators and numbers", 0) end
  if a.kind == "factor" and b.kind == "level" then a, b = b, a end
  if a.kind == "level" and b.kind == "level" then
    error("series: * applies a factor (weekly, ramp, step{times=}, noise{relative=}) to a level; two levels cannot be"
      .. " multiplied", 0)
  end
  local kind = a.kind
  return gen(kind, function(c)
    local x, y = a.f(c), b.f(c)
    if x <= 0 or y <= 0 then return 0 end
    return muldiv(x, y, PPM, "series")
  end, "(" .. a.label .. ") x (" .. b.label .. ")")
end

function Gen:__tostring() return "imbill series generator: " .. self.label end

--- constant(n): the same count every day.
function M.constant(n)
  local v = check.count("imbill.series.constant", "n", n)
  return gen("level", function() return v end, "constant " .. v)
end

--- factor(r): the same ratio every day ("1.2", "120%", 1.2).
function M.factor(r)
  local p = M.ppm("imbill.series.factor", "r", r)
  return gen("factor", function() return p end, "factor " .. tostring(r))
end

--- linear{ start =, per_day = } or { start =, per_month = }: per_day may be a
-- decimal ("2.5"): day t has start + round_half_up(per_day * t); per_month
-- adds per_month on the 1st of each following month.  Negative slopes are
-- allowed; the level never goes below 0.
function M.linear(p)
  local FN = "imbill.series.linear"
  check.fields(FN, p, { start = true, per_day = true, per_month = true })
  local start = check.count(FN, "start", p.start or 0)
  if (p.per_day == nil) == (p.per_month == nil) then
    check.fail(FN, "per_day", "give per_day or per_month (one of them)", p.per_day)
  end
  local slope = M.ppm(FN, p.per_day ~= nil and "per_day" or "per_month", p.per_day or p.per_month, true)
  local by_month = p.per_month ~= nil
  return gen("level", function(c)
    local x = by_month and c.k or c.t
    local d = slope * x
    local inc = d >= 0 and idiv(2 * d + PPM, 2 * PPM) or -idiv(2 * -d + PPM, 2 * PPM)
    local v = start + inc
    return v < 0 and 0 or v
  end, string.format("linear from %d, %s a %s", start, tostring(p.per_day or p.per_month), by_month and "month" or "day"))
end

--- compound{ start =, rate =, per = "month"|"day" }: rate "5%", "0.05", 0.05,
-- or rate_bp = 500 (basis points) or rate_ppm = 50000.  Month k (counted from
-- the series' first month) has v(k) with v(0) = start and v(k+1) =
-- round_half_up(v(k) * (1 + rate)); per = "day" compounds from day to day.
function M.compound(p)
  local FN = "imbill.series.compound"
  check.fields(FN, p, { start = true, rate = true, rate_bp = true, rate_ppm = true, per = true })
  local start = check.count(FN, "start", p.start)
  local r = M.rate(FN, p)
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
    r = toint(p.rate_bp * 100)
  else
    if type(p.rate_ppm) ~= "number" or p.rate_ppm ~= math.floor(p.rate_ppm) then
      check.fail(FN, "rate_ppm", "expected whole parts per million", p.rate_ppm)
    end
    r = toint(p.rate_ppm)
  end
  if r <= -PPM then check.fail(FN, "rate", "must be above -100%", p.rate or p.rate_bp or p.rate_ppm) end
  if r > 100 * PPM then check.fail(FN, "rate", "must be at most 10000%", p.rate or p.rate_bp or p.rate_ppm) end
  return r
end

local DOW = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" }
M.DOW = DOW

--- Day of the week of a day number: 1 = Monday .. 7 = Sunday.
function M.weekday(day) return (day + 3) % 7 + 1 end

--- weekly{ sat = "1.3", sun = "1.25" } (unnamed days 1) or weekly{ f1, ..., f7 }
-- from Monday: a factor by day of the week.
function M.weekly(p)
  local FN = "imbill.series.weekly"
  check.table(FN, "factors", p)
  local f = {}
  if p[1] ~= nil then
    if #p ~= 7 then check.fail(FN, "factors", "needs 7 factors, Monday first", #p) end
    for i = 1, 7 do f[i] = M.ppm(FN, "factors[" .. i .. "]", p[i]) end
  else
    local allowed = {}
    for _, d in ipairs(DOW) do allowed[d] = true end
    check.fields(FN, p, allowed)
    for i, d in ipairs(DOW) do f[i] = p[d] ~= nil and M.ppm(FN, d, p[d]) or PPM end
  end
  return gen("factor", function(c) return f[M.weekday(c.day)] end, "weekly")
end

--- step{ on = "YYYY-MM-DD", by = n }: a level, 0 before the day and n from it on;
-- step{ on =, times = ratio }: a factor, 1 before and the ratio from it on.
function M.step(p)
  local FN = "imbill.series.step"
  check.fields(FN, p, { on = true, by = true, times = true })
  local ok, on = pcall(dates.day, p.on, "on")
  if not ok then error(FN .. ": " .. clean(on), 0) end
  if (p.by == nil) == (p.times == nil) then check.fail(FN, "by", "give by (a count) or times (a ratio)", p.by) end
  if p.by ~= nil then
    local by = check.count(FN, "by", p.by)
    return gen("level", function(c) return c.day >= on and by or 0 end, "step +" .. by .. " on " .. p.on)
  end
  local t = M.ppm(FN, "times", p.times)
  return gen("factor", function(c) return c.day >= on and t or PPM end, "step x" .. tostring(p.times) .. " on " .. p.on)
end

--- ramp{ from = date, to = date, start = "1", finish = "2" }: a factor moving
-- in a straight line from start (on `from` and before) to finish (on `to` and
-- after); day d in between has start + round_half_up((finish - start) *
-- (d - from) / (to - from)) millionths.
function M.ramp(p)
  local FN = "imbill.series.ramp"
  check.fields(FN, p, { from = true, to = true, start = true, finish = true })
  local ok, a = pcall(dates.day, p.from, "from")
  if not ok then error(FN .. ": " .. clean(a), 0) end
  local ok2, b = pcall(dates.day, p.to, "to")
  if not ok2 then error(FN .. ": " .. clean(b), 0) end
  if b <= a then check.fail(FN, "to", "must be after from", p.to) end
  local s = M.ppm(FN, "start", p.start == nil and 1 or p.start)
  local e = M.ppm(FN, "finish", p.finish)
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
local function lcg(x) return (48271 * x) % MODULUS end
M.lcg = lcg

--- noise{ seed =, amplitude = n }: a level, a whole number drawn uniformly from
-- -n..n each day (add it to a level); noise{ seed =, relative = "5%" }: a factor
-- drawn from 1 - r .. 1 + r in millionths.  The same seed gives the same draws:
-- day t of the series uses the t-th draw after the seed.
function M.noise(p)
  local FN = "imbill.series.noise"
  check.fields(FN, p, { seed = true, amplitude = true, relative = true })
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
    return setmetatable({ kind = "level", label = "noise +-" .. a, f = function(c)
      return draw(c.t) % (2 * a + 1) - a
    end, signed = true }, Gen)
  end
  local r = M.ppm(FN, "relative", p.relative)
  if r >= PPM then check.fail(FN, "relative", "must be below 100%", p.relative) end
  return gen("factor", function(c) return PPM - r + draw(c.t) % (2 * r + 1) end, "noise +-" .. tostring(p.relative))
end

--- history(s, column): a level read from an existing series (0 outside it), so
-- factors can be applied to real history: history(s, "dau") * ramp{...}.
function M.history(s, column)
  local FN = "imbill.series.history"
  if not M.is_series(s) then check.fail(FN, "series", "expected a series", s) end
  column = column or "dau"
  local col = s[column]
  if type(col) ~= "table" then check.fail(FN, "column", "the series has no such column", column) end
  local first = s.first
  return gen("level", function(c) return col[c.day - first + 1] or 0 end, "history " .. column)
end

-- Series -------------------------------------------------------------------

local Series = {}
Series.__index = Series
M.Series = Series

function M.is_series(x) return getmetatable(x) == Series end

M.COLUMNS = { "date", "dau", "groups", "mau", "accounts", "av_rooms", "members", "features" }
local COUNT_COLUMNS = { "dau", "groups", "mau", "accounts", "av_rooms", "members" }

local function day_arg(FN, field, v, first_of_month)
  if type(v) == "string" and v:match("^%d%d%d%d%-%d%d$") then
    local ok, m = pcall(dates.month, v, field)
    if not ok then error(FN .. ": " .. clean(m), 0) end
    if first_of_month then return dates.month_first(m) end
    return dates.month_first(m) + dates.month_length(m) - 1
  end
  local ok, d = pcall(dates.day, v, field)
  if not ok then error(FN .. ": " .. clean(d), 0) end
  return d
end

--- build{ from = "2021-01-01" | "2021-01", to = date | month, or days = n, or
-- months = n, dau = gen|n, groups = gen|n, mau = gen|n, mau_ratio = ratio,
-- accounts =, av_rooms =, members = (gen|n), features = { ... } }
function M.build(p)
  local FN = "imbill.series.build"
  check.fields(FN, p, { from = true, to = true, days = true, months = true, dau = true, groups = true, mau = true,
                        mau_ratio = true, accounts = true, av_rooms = true, members = true, features = true,
                        name = true })
  if p.from == nil then check.fail(FN, "from", "is required (a date or a month)", nil) end
  local first = day_arg(FN, "from", p.from, true)
  local last
  local given = (p.to ~= nil and 1 or 0) + (p.days ~= nil and 1 or 0) + (p.months ~= nil and 1 or 0)
  if given ~= 1 then check.fail(FN, "to", "give exactly one of to, days, months", p.to) end
  if p.to ~= nil then last = day_arg(FN, "to", p.to, false)
  elseif p.days ~= nil then
    local n = check.count(FN, "days", p.days)
    if n < 1 then check.fail(FN, "days", "must be at least 1", p.days) end
    last = first + n - 1
  else
    local n = check.count(FN, "months", p.months)
    if n < 1 then check.fail(FN, "months", "must be at least 1", p.months) end
    local m = dates.month_of(first) + n - 1
    last = dates.month_first(m) + dates.month_length(m) - 1
  end
  if last < first then check.fail(FN, "to", "is before from", p.to) end
  if last - first + 1 > 366 * 100 then check.fail(FN, "to", "more than 100 years of days", p.to) end
  if p.dau == nil then check.fail(FN, "dau", "is required", nil) end
  local cols = { dau = as_gen(p.dau, FN, "dau"), groups = as_gen(p.groups or 0, FN, "groups") }
  for _, c in ipairs { "mau", "accounts", "av_rooms", "members" } do
    if p[c] ~= nil then cols[c] = as_gen(p[c], FN, c) end
  end
  for name, g in pairs(cols) do
    if g.kind ~= "level" then check.fail(FN, name, "is a factor; multiply it with a level", g.label) end
  end
  local s = setmetatable({ first = first, n = last - first + 1, name = p.name or "generated" }, Series)
  local m0 = dates.month_of(first)
  for name, g in pairs(cols) do
    local out = {}
    for t = 0, s.n - 1 do
      local day = first + t
      local ok, v = pcall(g.f, { t = t, day = day, k = dates.month_of(day) - m0 })
      if not ok then error(FN .. ": " .. name .. ": " .. clean(v), 0) end
      if v < 0 then v = 0 end
      if v > EXACT then check.fail(FN, name, "grows beyond 2^53 on " .. dates.format(day), v) end
      out[t + 1] = v
    end
    s[name] = out
  end
  if p.mau_ratio ~= nil then
    if p.mau ~= nil then check.fail(FN, "mau_ratio", "give mau or mau_ratio, not both", p.mau_ratio) end
    s.mau_ratio = M.ppm(FN, "mau_ratio", p.mau_ratio)
  end
  if p.features ~= nil then
    local set = M.feature_set(FN, "features", p.features)
    s.features = {}
    for i = 1, s.n do s.features[i] = set end
  end
  return s
end

function M.feature_set(FN, field, list)
  check.table(FN, field, list)
  local known = {}
  for _, f in ipairs(books.FEATURES) do known[f] = true end
  local set = {}
  for i, f in ipairs(list) do
    if not known[f] then
      check.fail(FN, field .. "[" .. i .. "]", "unknown feature (known: " .. table.concat(books.FEATURES, ", ") .. ")", f)
    end
    set[f] = true
  end
  return set
end

--- from_table{ from = date, dau = { ... }, groups = { ... }, mau = { ... } }:
-- a series from plain arrays, one value per day.
function M.from_table(p)
  local FN = "imbill.series.from_table"
  check.fields(FN, p, { from = true, dau = true, groups = true, mau = true, accounts = true, av_rooms = true,
                        members = true, mau_ratio = true, name = true })
  local first = day_arg(FN, "from", p.from, true)
  check.table(FN, "dau", p.dau)
  local n = #p.dau
  if n == 0 then check.fail(FN, "dau", "needs at least one day", n) end
  local s = setmetatable({ first = first, n = n, name = p.name or "table" }, Series)
  for _, c in ipairs(COUNT_COLUMNS) do
    local src = p[c]
    if c == "groups" and src == nil then src = {} for i = 1, n do src[i] = 0 end end
    if src ~= nil then
      check.table(FN, c, src)
      if #src ~= n then check.fail(FN, c, string.format("has %d values where dau has %d", #src, n), #src) end
      local out = {}
      for i = 1, n do out[i] = check.count(FN, c .. "[" .. i .. "]", src[i]) end
      s[c] = out
    end
  end
  if p.mau_ratio ~= nil then s.mau_ratio = M.ppm(FN, "mau_ratio", p.mau_ratio) end
  return s
end

function Series:from() return dates.format(self.first) end
function Series:to() return dates.format(self.first + self.n - 1) end
function Series:last_day() return self.first + self.n - 1 end
function Series:has_mau() return self.mau ~= nil or self.mau_ratio ~= nil end

--- The value of a column on a date ("YYYY-MM-DD"); nil outside the series.
function Series:at(date, column)
  local d = type(date) == "number" and date or dates.day(date, "date")
  local col = self[column or "dau"]
  return col and col[d - self.first + 1]
end

--- Month numbers the series touches, first to last.
function Series:month_numbers()
  local out = {}
  for m = dates.month_of(self.first), dates.month_of(self:last_day()) do out[#out + 1] = m end
  return out
end

--- "YYYY-MM" strings of the months the series touches.
function Series:months()
  local out = {}
  for i, m in ipairs(self:month_numbers()) do out[i] = dates.format_month(m) end
  return out
end

local function peak(col, a, b)
  local best, at = nil, nil
  for i = a, b do
    local v = col[i]
    if best == nil or v > best then best, at = v, i end
  end
  return best, at
end

--- The month's summary: { month =, days = days covered, complete = bool,
-- peak_dau =, peak_dau_day =, groups_peak =, groups_peak_day =, mau = (nil
-- when the series has no MAU), accounts =, av_rooms =, members =, needs = {...} }.
-- MAU is the largest value of the mau column in the month (a month-to-date
-- count ends on the month's MAU), or round_half_up(peak DAU x mau_ratio).
function Series:month(month)
  local m = type(month) == "number" and month or dates.month(month, "month")
  local mfirst = dates.month_first(m)
  local dim = dates.month_length(m)
  local a = math.max(mfirst, self.first) - self.first + 1
  local b = math.min(mfirst + dim - 1, self:last_day()) - self.first + 1
  if b < a then
    check.fail("series:month", "month", "is outside the series (" .. self:from() .. " .. " .. self:to() .. ")",
      dates.format_month(m))
  end
  local r = { month = dates.format_month(m), days = b - a + 1, days_in_month = dim }
  r.complete = r.days == dim
  local v, at = peak(self.dau, a, b)
  r.peak_dau, r.peak_dau_day = v, dates.format(self.first + at - 1)
  v, at = peak(self.groups, a, b)
  r.groups_peak, r.groups_peak_day = v, dates.format(self.first + at - 1)
  if self.mau then r.mau = peak(self.mau, a, b)
  elseif self.mau_ratio then r.mau = muldiv(r.peak_dau, self.mau_ratio, PPM, "mau_ratio") end
  for _, c in ipairs { "accounts", "av_rooms", "members" } do
    if self[c] then r[c] = peak(self[c], a, b) end
  end
  if self.features then
    local set, list = {}, {}
    for i = a, b do
      for f in pairs(self.features[i] or {}) do
        if not set[f] then set[f] = true list[#list + 1] = f end
      end
    end
    table.sort(list)
    r.needs = list
  end
  r.first_index, r.last_index = a, b
  return r
end

function Series:monthly()
  local out = {}
  for i, m in ipairs(self:month_numbers()) do out[i] = self:month(m) end
  return out
end

--- A usage table imbill.invoice accepts for the month: the daily dau and
-- groups arrays when the series covers the whole month (so the peak is taken
-- over the days a paid edition is in force), the peaks otherwise; mau when known.
function Series:usage(month)
  local r = self:month(month)
  local u = { month = r.month }
  if r.complete then
    local dau, groups = {}, {}
    for i = r.first_index, r.last_index do
      dau[#dau + 1] = self.dau[i]
      groups[#groups + 1] = self.groups[i]
    end
    u.dau, u.groups = dau, groups
  else
    u.peak_dau, u.groups_peak = r.peak_dau, r.groups_peak
  end
  u.mau = r.mau
  return u, r
end

--- A new series with factors applied to columns: s:times{ dau = gen|ratio }.
function Series:times(p)
  local FN = "series:times"
  check.table(FN, "factors", p)
  local out = setmetatable({}, Series)
  for k, v in pairs(self) do out[k] = v end
  local m0 = dates.month_of(self.first)
  for col, f in pairs(p) do
    if type(self[col]) ~= "table" or col == "features" then
      check.fail(FN, tostring(col), "the series has no such count column", check.NOVALUE)
    end
    if not is_gen(f) then f = M.factor(f) end
    if f.kind ~= "factor" then check.fail(FN, col, "expected a factor (a ratio or a factor generator)", f.label) end
    local new = {}
    for i = 1, self.n do
      local day = self.first + i - 1
      local ok, x = pcall(f.f, { t = i - 1, day = day, k = dates.month_of(day) - m0 })
      if not ok then error(FN .. ": " .. col .. ": " .. clean(x), 0) end
      new[i] = muldiv(self[col][i], x, PPM, col)
    end
    out[col] = new
  end
  return out
end

--- A new series restricted to [from, to] (dates or months).
function Series:slice(from, to)
  local FN = "series:slice"
  local a = from and day_arg(FN, "from", from, true) or self.first
  local b = to and day_arg(FN, "to", to, false) or self:last_day()
  a, b = math.max(a, self.first), math.min(b, self:last_day())
  if b < a then check.fail(FN, "to", "the slice is empty", to) end
  local out = setmetatable({ first = a, n = b - a + 1, name = self.name, mau_ratio = self.mau_ratio }, Series)
  for _, c in ipairs { "dau", "groups", "mau", "accounts", "av_rooms", "members", "features" } do
    if self[c] then
      local col = {}
      for i = a, b do col[#col + 1] = self[c][i - self.first + 1] end
      out[c] = col
    end
  end
  return out
end

function Series:__tostring()
  return string.format("imbill series %s: %s .. %s (%d days)", self.name, self:from(), self:to(), self.n)
end

--- The series as CSV text with the documented header.
function Series:csv()
  local cols = { "date", "dau", "groups" }
  for _, c in ipairs { "mau", "accounts", "av_rooms", "members", "features" } do
    if self[c] then cols[#cols + 1] = c end
  end
  local out = { table.concat(cols, ",") }
  for i = 1, self.n do
    local row = { dates.format(self.first + i - 1) }
    for j = 2, #cols do
      local c = cols[j]
      if c == "features" then
        local l = {}
        for f in pairs(self.features[i] or {}) do l[#l + 1] = f end
        table.sort(l)
        row[j] = table.concat(l, ";")
      else
        row[j] = string.format("%d", self[c][i])
      end
    end
    out[#out + 1] = table.concat(row, ",")
  end
  return table.concat(out, "\n") .. "\n"
end

-- CSV usage history -----------------------------------------------------------
-- Read by imbill.whatif.history (loaded on first use: it builds on this file).

--- parse_csv(text, opts): a series from usage history text (imbill.whatif.history).
function M.parse_csv(text, opts) return require("imbill.whatif.history").parse_csv(text, opts) end

--- read_csv(path, opts): a series from a usage history file, "-" for standard input.
function M.read_csv(path, opts) return require("imbill.whatif.history").read_csv(path, opts) end

return M
