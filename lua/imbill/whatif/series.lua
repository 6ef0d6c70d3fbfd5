--- Usage series for what-if pricing: daily DAU, group and MAU values over a
-- range of days, read from a usage history file (CSV) or built from
-- generators (imbill.whatif.generators), and summarised month by month in the
-- form imbill.invoice takes.
--
-- `imbill.series` is this module: it also carries the generators and the
-- ratio helpers, so scripts find every name in one place.  The generators
-- (`constant`, `factor`, `linear`, `compound`, `weekly`, `step`, `ramp`,
-- `noise`, `weekday`, `lcg`, `is_gen`, `as_gen`, `DOW`, `Gen`) are those of
-- imbill.whatif.generators, under the same names.
-- @usage local S = imbill.series
-- local s = S.build{ from = "2021-01", months = 3, dau = S.compound{ start = 20000, rate = "5%" } }
-- print(s)  --> imbill series generated: 2021-01-01 .. 2021-03-31 (90 days)
-- @see imbill.whatif.generators
local check = require "imbill.internal.check"
local methods = require "imbill.internal.methods"
-- the last day the calendar has (9999-12-31)
local DAY_MAX = require("imbill.core").DAY_MAX
local errors = require "imbill.internal.errors"
local dates = require "imbill.internal.dates"
local fmt = require "imbill.internal.fmt"
local books = require "imbill.book"
local int = require "imbill.internal.integer"
local generators = require "imbill.whatif.generators"

local M = {}

local EXACT, PPM = int.EXACT, int.PPM
local muldiv = int.muldiv

-- the generators and the integer helpers under the names scripts use
for _, k in ipairs { "constant", "factor", "linear", "compound", "weekly", "step", "ramp", "noise", "lcg", "weekday",
                     "DOW", "Gen", "is_gen", "as_gen" } do
  M[k] = generators[k]
end
for _, k in ipairs { "idiv", "muldiv", "ppm", "rate", "toint" } do M[k] = int[k] end

--- `floor(a / b)` for whole `a >= 0`, `b > 0`, both below 2^53, exact on
-- every runtime.
-- @int a the dividend
-- @int b the divisor
-- @treturn int the quotient
-- @function idiv

--- `round_half_up(a * b / d)` for whole `a, b >= 0` and `d > 0`: how a
-- ratio in parts per million applies to a count (`muldiv(n, ppm, 10^6)`).
-- @int a a count
-- @int b a factor
-- @int d the divisor
-- @string[opt="value"] what the field an error names
-- @treturn int the rounded result
-- @raise `what: A x B / D is beyond 2^53, more than a count can be exactly` when the result would pass 2^53
-- @usage S.muldiv(21000, 3100000, 1000000)  --> 65100
-- @function muldiv

--- A decimal ratio as parts per million: `"1.5"` is 1500000, `"5%"` 50000,
-- `2` 2000000, `0.05` 50000.  It must be exact in millionths.
-- @string fn the function an error names
-- @string field the field an error names
-- @tparam string|number v the ratio
-- @bool[opt] signed whether a negative ratio is allowed
-- @treturn int the ratio in parts per million
-- @raise `fn: field: expected a ratio such as "1.5", "5%" or 0.05`, `has more than 6 decimals;`
-- `pass it as a string`, `must not be negative`, `is too large`
-- @function ppm

--- The growth rate of `p`, in parts per million: `p.rate` (a decimal or a
-- percentage, `"5%"`), `p.rate_bp` (whole basis points) or `p.rate_ppm`;
-- exactly one of them, above -100% and at most 10000%.
-- @string FN the function an error names
-- @tab p the parameters holding the rate
-- @treturn int the rate in parts per million
-- @raise `FN: rate: give exactly one of rate, rate_bp, rate_ppm`, and the bounds
-- @function rate

--- `v` as an integer on Lua 5.4 (unchanged elsewhere, a float with an integral
-- value on LuaJIT).
-- @number v a whole number
-- @treturn int the same number
-- @function toint
local is_gen, as_gen = generators.is_gen, generators.as_gen

-- Series -------------------------------------------------------------------

local Series = methods.class("series", "a series (imbill.series.build, read_csv, ...)", "s")
M.Series = Series

--- Whether `x` is a series made by this module.
-- @param x any value
-- @treturn boolean `true` for a series
function M.is_series(x) return methods.is(Series, x) end

--- The columns a usage history may have, in the order `series:csv` writes them.
M.COLUMNS = { "date", "dau", "groups", "mau", "accounts", "av_rooms", "members", "features" }
local COUNT_COLUMNS = { "dau", "groups", "mau", "accounts", "av_rooms", "members" }

--- history(s, column): a level read from an existing series (0 outside it), so
-- factors can be applied to real history: `history(s, "dau") * ramp{...}`.
-- @tparam Series s the series
-- @string[opt="dau"] column the column to read
-- @treturn Gen a level generator
-- @raise `imbill.series.history: series: expected a series`, `column: the series has no such column`
function M.history(s, column)
  local FN = "imbill.series.history"
  if not M.is_series(s) then check.fail(FN, "series", "expected a series", s) end
  column = column or "dau"
  local col = s[column]
  if type(col) ~= "table" then check.fail(FN, "column", "the series has no such column", column) end
  local first = s.first
  return generators.new("level", function(c) return col[c.day - first + 1] or 0 end, "history " .. column)
end

local function day_arg(FN, field, v, first_of_month)
  if type(v) == "string" and v:match("^%d%d%d%d%-%d%d$") then
    local m = check.call(FN, dates.month, v, field)
    if first_of_month then return dates.month_first(m) end
    return dates.month_first(m) + dates.month_length(m) - 1
  end
  return check.call(FN, dates.day, v, field)
end

--- A series of generated days.
--
-- `build{ from = "2021-01-01" | "2021-01", to = date | month, or days = n, or`
-- `months = n, dau = gen|n, groups = gen|n, mau = gen|n, mau_ratio = ratio,`
-- `accounts =, av_rooms =, members = (gen|n), features = { ... } }`
--
-- A series of generated days: each column is a level generator (or a whole
-- number, a constant) evaluated for each day; a value below 0 is 0.
-- @tab p the series:
-- @string p.from the first day, `"YYYY-MM-DD"`, or a month's 1st, `"YYYY-MM"`
-- @string[opt] p.to the last day, or a month's last day; or
-- @int[opt] p.days the number of days; or
-- @int[opt] p.months the number of months (exactly one of `to`, `days`, `months`)
-- @tparam Gen|int p.dau the DAU
-- @tparam[opt=0] Gen|int p.groups the existing groups
-- @tparam[opt] Gen|int p.mau the month-to-date MAU, or
-- @tparam[opt] string|number p.mau_ratio MAU as this ratio of the month's peak DAU
-- @tparam[opt] Gen|int p.accounts quota columns: `accounts`, `av_rooms`, `members`
-- @tparam[opt] {string,...} p.features features needed every day
-- @string[opt="generated"] p.name how the series calls itself
-- @treturn Series the series
-- @raise `imbill.series.build: to: give exactly one of to, days, months`, `dau: is required`,
-- `dau: is a factor; multiply it with a level`, `dau: grows beyond 2^53 on ...`, more than 100 years
function M.build(p)
  local FN = "imbill.series.build"
  p = check.fields(FN, p, { from = true, to = true, days = true, months = true, dau = true, groups = true, mau = true,
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
    if n > 1200 then check.fail(FN, "months", "more than 100 years of days", p.months) end
    local m = dates.month_of(first) + n - 1
    if m > 9999 * 12 + 11 then check.fail(FN, "months", "the series runs past 9999-12-31", p.months) end
    last = dates.month_first(m) + dates.month_length(m) - 1
  end
  if last < first then check.fail(FN, "to", "is before from", p.to) end
  if last - first + 1 > 366 * 100 then check.fail(FN, "to", "more than 100 years of days", p.to) end
  if last > DAY_MAX then check.fail(FN, p.days and "days" or "months", "the series runs past 9999-12-31", p.days or p.months) end
  if p.dau == nil then check.fail(FN, "dau", "is required", nil) end
  local cols = { dau = as_gen(p.dau, FN, "dau"), groups = as_gen(p.groups or 0, FN, "groups") }
  for _, c in ipairs { "mau", "accounts", "av_rooms", "members" } do
    if p[c] ~= nil then cols[c] = as_gen(p[c], FN, c) end
  end
  for name, g in pairs(cols) do
    if g.kind ~= "level" then check.fail(FN, name, "is a factor; multiply it with a level", g.label) end
  end
  local s = methods.new(Series, { first = first, n = last - first + 1, name = p.name or "generated" })
  local m0 = dates.month_of(first)
  for name, g in pairs(cols) do
    local out = {}
    for t = 0, s.n - 1 do
      local day = first + t
      local v = errors.call(FN, name, g.f, { t = t, day = day, k = dates.month_of(day) - m0 })
      -- a generator of the caller's (generators.new) may give anything: a
      -- day's count is a whole number (1.5 users was kept, "5" was a bare Lua error)
      if type(v) ~= "number" or v ~= v or v ~= math.floor(v) then
        check.fail(FN, name, "gives " .. (type(v) == "number" and "a value that is not a whole number" or "no number")
          .. " on " .. dates.format(day), v)
      end
      if v < 0 then v = 0 end
      v = int.toint(v)
      if v > EXACT then check.fail(FN, name, "grows beyond 2^53 on " .. dates.format(day), v) end
      out[t + 1] = v
    end
    s[name] = out
  end
  -- a month-to-date MAU counts every user active on the day, as a history
  -- read from CSV must (a month of 50 DAU billed as 40 MAU cannot be)
  if s.mau then
    for i = 1, s.n do
      if s.mau[i] < s.dau[i] then
        check.fail(FN, "mau", string.format("on %s the month-to-date MAU %s is below the day's DAU %s: every user"
          .. " active on a day is active in its month", dates.format(first + i - 1), fmt.int(s.mau[i]),
          fmt.int(s.dau[i])), check.NOVALUE)
      end
    end
  end
  if p.mau_ratio ~= nil then
    if p.mau ~= nil then check.fail(FN, "mau_ratio", "give mau or mau_ratio, not both", p.mau_ratio) end
    s.mau_ratio = int.mau_ratio(FN, "mau_ratio", p.mau_ratio)
  end
  if p.features ~= nil then
    local set = M.feature_set(FN, "features", p.features)
    s.features = {}
    for i = 1, s.n do s.features[i] = set end
  end
  return s
end

--- The set of a list of feature names, each checked.
-- @string FN the function an error names
-- @string field the field an error names
-- @tparam {string,...} list feature names
-- @treturn table the set, `{ [feature] = true }`
-- @raise `FN: field[i]: unknown feature (known: ...)`
-- @local
function M.feature_set(FN, field, list)
  -- a list: { community = true } would need nothing, and an edition lacking the feature would be chosen
  check.list(FN, field, list, "feature names")
  local known = {}
  for _, f in ipairs(books.FEATURES) do known[f] = true end
  local set = {}
  for i, f in check.items(list) do
    if not known[f] then
      check.fail(FN, field .. "[" .. i .. "]", "unknown feature (known: " .. table.concat(books.FEATURES, ", ") .. ")", f)
    end
    set[f] = true
  end
  return set
end

--- A series from plain arrays.
--
-- from_table{ from = date, dau = { ... }, groups = { ... }, mau = { ... } }:
-- a series from plain arrays, one value per day.  The arrays are read raw.
-- @tab p the series:
-- @string p.from the first day, `"YYYY-MM-DD"` (or `"YYYY-MM"`: its 1st)
-- @tparam {int,...} p.dau one DAU value per day (at least one)
-- @tparam[opt] {int,...} p.groups as many values (default: 0 each day)
-- @tparam[opt] {int,...} p.mau month-to-date MAU, as many values
-- @tparam[opt] {int,...} p.accounts quota columns: `accounts`, `av_rooms`, `members`
-- @tparam[opt] string|number p.mau_ratio MAU as this ratio of the month's peak DAU
-- @string[opt="table"] p.name how the series calls itself
-- @treturn Series the series
-- @raise `imbill.series.from_table: dau: needs at least one day`, `groups: has 3 values where dau has 4`,
-- `dau[2]: ...` for a value that is not a whole number >= 0
function M.from_table(p)
  local FN = "imbill.series.from_table"
  p = check.fields(FN, p, { from = true, dau = true, groups = true, mau = true, accounts = true, av_rooms = true,
                        members = true, mau_ratio = true, name = true })
  local first = day_arg(FN, "from", p.from, true)
  check.table(FN, "dau", p.dau)
  -- the caller's arrays are read raw: no __len or __index of theirs runs here
  local n = check.len(p.dau)
  if n == 0 then check.fail(FN, "dau", "needs at least one day", n) end
  if first + n - 1 > DAY_MAX then check.fail(FN, "dau", "the series runs past 9999-12-31", n) end
  local s = methods.new(Series, { first = first, n = n, name = p.name or "table" })
  for _, c in ipairs(COUNT_COLUMNS) do
    local src = p[c]
    if c == "groups" and src == nil then src = {} for i = 1, n do src[i] = 0 end end
    if src ~= nil then
      check.table(FN, c, src)
      local len = check.len(src)
      if len ~= n then check.fail(FN, c, string.format("has %d values where dau has %d", len, n), len) end
      local out = {}
      for i = 1, n do out[i] = check.count(FN, c .. "[" .. i .. "]", rawget(src, i)) end
      s[c] = out
    end
  end
  if s.mau then
    -- a month-to-date MAU counts every user active on the day
    for i = 1, n do
      if s.mau[i] < s.dau[i] then
        check.fail(FN, "mau[" .. i .. "]", string.format("month-to-date MAU is below the day's DAU (dau[%d] = %s):"
          .. " every user active on a day is active in its month", i, errors.show(s.dau[i])), s.mau[i])
      end
    end
  end
  if p.mau_ratio ~= nil then s.mau_ratio = int.mau_ratio(FN, "mau_ratio", p.mau_ratio) end
  return s
end

--- A usage series, made by `build`, `from_table`, `read_csv` or `parse_csv`:
-- one value per calendar day (billing days) of each column.  Its fields:
-- `first` (the first day's number), `n` (days), `name`, the columns `dau`,
-- `groups` and, when given, `mau`, `accounts`, `av_rooms`, `members`,
-- `features` (arrays, one value per day), and `mau_ratio` (parts per million).
-- A series is not changed by its methods: `times`, `slice` and
-- `with_mau_ratio` return new ones.
--
-- `tostring(s)` is `imbill series NAME: FROM .. TO (N days)`.  The methods
-- check their receiver (`s.months()` raises `series:months: self: expected a series ...`).
-- @type Series

--- The first day, `"YYYY-MM-DD"`.
-- @treturn string the date
function Series:from() return dates.format(self.first) end
--- The last day, `"YYYY-MM-DD"`.
-- @treturn string the date
function Series:to() return dates.format(self.first + self.n - 1) end
--- The last day's number (days since 1970-01-01).
-- @treturn int the day number
function Series:last_day() return self.first + self.n - 1 end
--- Whether the series knows each month's MAU (a `mau` column or a ratio).
-- @treturn boolean `true` when it does
function Series:has_mau() return self.mau ~= nil or self.mau_ratio ~= nil end

--- A copy that takes each month's MAU as `round_half_up(ratio x peak DAU)`: the
-- assumption a caller states for a history without MAU.  A series with a
-- `mau` column keeps it: stating a ratio as well is an error, not a choice.
-- @tparam string|number ratio MAU as this ratio of the peak DAU (`"3.1"`)
-- @string[opt] fn the function an error names, for a caller that passes the ratio on
-- (default `"series:with_mau_ratio"`)
-- @string[opt] field the field an error names (default `"ratio"`)
-- @treturn Series the copy
-- @raise `fn: field: the usage has MAU already (a mau column)`, or a ratio that is not one
function Series:with_mau_ratio(ratio, fn, field)
  fn, field = fn or "series:with_mau_ratio", field or "ratio"
  if self.mau then check.fail(fn, field, "the usage has MAU already (a mau column)", ratio) end
  local out = methods.new(Series, {})
  for k, v in pairs(self) do out[k] = v end
  out.mau_ratio = int.mau_ratio(fn, field, ratio)
  return out
end

--- How a month's MAU is known: "column", "ratio" (an assumption: the
-- ratio in parts per million is the second result) or nil (unknown).
-- @treturn ?string `"column"`, `"ratio"` or nil
-- @treturn[opt] int the ratio in parts per million, after `"ratio"`
function Series:mau_source()
  if self.mau then return "column" end
  if self.mau_ratio then return "ratio", self.mau_ratio end
  return nil
end

--- The value of a column on a date ("YYYY-MM-DD"); nil outside the series.
-- @tparam string|int date `"YYYY-MM-DD"`, or a day number
-- @string[opt="dau"] column the column
-- @treturn ?int the value, nil outside the series or for a column it does not have
-- @raise `series:at: date: ...` for a malformed date
function Series:at(date, column)
  local d = type(date) == "number" and date or dates.day(date, "date")
  local col = self[column or "dau"]
  return col and col[d - self.first + 1]
end

--- Month numbers the series touches, first to last.
-- @treturn {int,...} month numbers, `year * 12 + month - 1`
function Series:month_numbers()
  local out = {}
  for m = dates.month_of(self.first), dates.month_of(self:last_day()) do out[#out + 1] = m end
  return out
end

--- "YYYY-MM" strings of the months the series touches.
-- @treturn {string,...} the months, first to last
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

--- The summary of one month the series touches.
--
-- The month's summary: `{ month =, days = days covered, complete = bool,`
-- `covers = { from =, to = } (the days the series has), peak_dau =,`
-- `peak_dau_day =, groups_peak =, groups_peak_day =, mau = (nil when the`
-- `series has no MAU), accounts =, av_rooms =, members =, needs = {...} }`.
-- MAU is the largest value of the `mau` column in the month (a month-to-date
-- count ends on the month's MAU), or `round_half_up(peak DAU x mau_ratio)`.
-- @tparam string|int month `"YYYY-MM"`, or a month number
-- @treturn table the summary (also `days_in_month`, and `first_index`, `last_index`: the month's days in the columns)
-- @raise `series:month: month: is outside the series (FROM .. TO)`, or a malformed month
function Series:month(month)
  local m = type(month) == "number" and month or check.call("series:month", dates.month, month, "month")
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
  r.covers = { from = dates.format(self.first + a - 1), to = dates.format(self.first + b - 1) }
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

--- Every month's summary, first to last (`month` for each).
-- @treturn {table,...} the summaries
function Series:monthly()
  local out = {}
  for i, m in ipairs(self:month_numbers()) do out[i] = self:month(m) end
  return out
end

--- The usage of one month, as `imbill.invoice` takes it.
--
-- A usage table imbill.invoice accepts for the month: the daily dau and
-- groups arrays when the series covers the whole month (so the peak is taken
-- over the days a paid edition is in force); for a month the series covers
-- in part, the peaks of the days it has and `covers`, those days, so the
-- invoice says it was billed as a month from part of one.  mau when known.
-- @tparam string|int month `"YYYY-MM"`, or a month number
-- @treturn table the usage: `{ month =, dau =, groups = }` or `{ month =, peak_dau =, groups_peak =, covers = }`,
-- and `mau`
-- @treturn table the month's summary (`month`)
-- @raise `series:usage: month: ...` as `month` does
-- @usage local u = s:usage("2021-03")
-- u.book, u.edition = "2021", "pro"
-- print(imbill.invoice(u).total)
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
    u.covers = { from = r.covers.from, to = r.covers.to }
  end
  u.mau = r.mau
  return u, r
end

--- A new series with factors applied to columns: `s:times{ dau = gen|ratio }`.
-- Each day's value becomes `round_half_up(value x factor)`.
-- @tab p the factors by count column: a factor generator or a ratio (`"1.2"`, `"120%"`)
-- @treturn Series the new series
-- @raise `series:times: col: the series has no such count column`, `col: expected a factor ...`
function Series:times(p)
  local FN = "series:times"
  check.table(FN, "factors", p)
  local out = methods.new(Series, {})
  for k, v in pairs(self) do out[k] = v end
  local m0 = dates.month_of(self.first)
  for col, f in next, p do -- raw: no __pairs of the caller's runs here
    if type(col) ~= "string" or type(rawget(self, col)) ~= "table" or col == "features" then
      check.fail(FN, errors.field_name(col), "the series has no such count column", check.NOVALUE)
    end
    if not is_gen(f) then f = errors.call(FN, col, M.factor, f) end
    if f.kind ~= "factor" then check.fail(FN, col, "expected a factor (a ratio or a factor generator)", f.label) end
    local new = {}
    for i = 1, self.n do
      local day = self.first + i - 1
      local x = errors.call(FN, col, f.f, { t = i - 1, day = day, k = dates.month_of(day) - m0 })
      new[i] = muldiv(self[col][i], x, PPM, col)
    end
    out[col] = new
  end
  -- every user active on a day is active in its month, as a history is read
  -- (parse_csv, from_table): DAU scaled past the day's month-to-date MAU would
  -- bill a MAU plan for fewer users than were active that day
  if out.mau and (rawget(p, "dau") ~= nil or rawget(p, "mau") ~= nil) then
    for i = 1, out.n do
      if out.mau[i] < out.dau[i] then
        local field = rawget(p, "dau") ~= nil and "dau" or "mau"
        check.fail(FN, field, string.format("on %s the day's DAU %s is above its month-to-date MAU %s (the series'"
          .. " mau column): every user active on a day is active in its month; scale mau too (mau = a factor)",
          dates.format(out.first + i - 1), fmt.int(out.dau[i]), fmt.int(out.mau[i])), check.NOVALUE)
      end
    end
  end
  return out
end

--- A new series restricted to [from, to] (dates or months).
-- @string[opt] from the first day, `"YYYY-MM-DD"`, or a month (its 1st); default: the series' first
-- @string[opt] to the last day, or a month (its last day); default: the series' last
-- @treturn Series the slice
-- @raise `series:slice: to: the slice is empty`, or a malformed date
function Series:slice(from, to)
  local FN = "series:slice"
  local a = from and day_arg(FN, "from", from, true) or self.first
  local b = to and day_arg(FN, "to", to, false) or self:last_day()
  a, b = math.max(a, self.first), math.min(b, self:last_day())
  if b < a then check.fail(FN, "to", "the slice is empty", to) end
  local out = methods.new(Series, { first = a, n = b - a + 1, name = self.name, mau_ratio = self.mau_ratio })
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
-- @treturn string `date,dau,groups[,mau,accounts,av_rooms,members,features]` and one line per day;
-- `read_csv` reads it back
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

--- Reading usage history.
-- @section reading

--- An error's text without a `file.lua:123:` prefix.  Kept for the CSV
-- reader below, whose messages quote a date's error text without a file
-- position.
-- @param e an error
-- @treturn string its text
-- @function clean
-- @local
local function clean(e)
  return (tostring(e):gsub("^[^:\n]-%.lua:%d+: ", ""))
end
M.clean = clean

-- CSV usage history -----------------------------------------------------------
-- Read by imbill.whatif.history (loaded on first use: it builds on this file).

--- A series from usage history text (CSV).
--
-- `parse_csv(text, opts)`: a series from usage history text (imbill.whatif.history).
--
-- The first line that is not blank or a comment (`#`) is the header; it
-- names the columns in any order, each once: `date`, `dau` and `groups` are
-- required; `mau`, `accounts`, `av_rooms`, `members` and `features` (names
-- separated by `;`) are optional.  One row per day, in any order.
-- @string text the CSV text
-- @tab[opt] opts how to read it:
-- @string[opt] opts.name how messages call the text (default `"input"`)
-- @string[opt="error"] opts.missing missing days: `"error"`, `"zero"` or `"carry"` (the day before's values)
-- @string[opt="error"] opts.duplicates a day given twice: `"error"`, `"max"` or `"last"`
-- @tparam[opt] string|number opts.mau_ratio MAU as this ratio of the peak DAU, for a history without `mau`
-- @treturn Series the series
-- @raise `imbill.series.parse_csv: input:3: missing days 2021-03-02..2021-03-03 ...`: every error
-- names the line, the column and the value
function M.parse_csv(text, opts) return require("imbill.whatif.history").parse_csv(text, opts) end

--- A series from a usage history file (CSV).
--
-- `read_csv(path, opts)`: a series from a usage history file, `"-"` for standard input.
-- The same as `parse_csv`, from a file; messages call it by its path.
-- @string path the file, or `"-"`
-- @tab[opt] opts `{ name =, missing =, duplicates =, mau_ratio = }` as for `parse_csv`
-- @treturn Series the series
-- @raise an error of kind `"io"` when the file cannot be opened or read, and
-- `parse_csv`'s errors naming `path:line`
function M.read_csv(path, opts) return require("imbill.whatif.history").read_csv(path, opts) end

methods.seal(Series)

return M
