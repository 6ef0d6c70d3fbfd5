--- Usage series for what-if pricing: daily DAU, group and MAU values over a
-- range of days, read from a usage history file (CSV) or built from
-- generators (imbill.whatif.generators), and summarised month by month in the
-- form imbill.invoice takes.
--
-- `imbill.series` is this module: it also carries the generators and the
-- ratio helpers, so scripts find every name in one place.
local check = require "imbill.internal.check"
local errors = require "imbill.internal.errors"
local dates = require "imbill.internal.dates"
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
local is_gen, as_gen = generators.is_gen, generators.as_gen

-- Series -------------------------------------------------------------------

local Series = {}
Series.__index = Series
M.Series = Series

function M.is_series(x) return getmetatable(x) == Series end

M.COLUMNS = { "date", "dau", "groups", "mau", "accounts", "av_rooms", "members", "features" }
local COUNT_COLUMNS = { "dau", "groups", "mau", "accounts", "av_rooms", "members" }

--- history(s, column): a level read from an existing series (0 outside it), so
-- factors can be applied to real history: history(s, "dau") * ramp{...}.
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
      local v = errors.call(FN, name, g.f, { t = t, day = day, k = dates.month_of(day) - m0 })
      if v < 0 then v = 0 end
      if v > EXACT then check.fail(FN, name, "grows beyond 2^53 on " .. dates.format(day), v) end
      out[t + 1] = v
    end
    s[name] = out
  end
  if p.mau_ratio ~= nil then
    if p.mau ~= nil then check.fail(FN, "mau_ratio", "give mau or mau_ratio, not both", p.mau_ratio) end
    s.mau_ratio = int.ppm(FN, "mau_ratio", p.mau_ratio)
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
  if p.mau_ratio ~= nil then s.mau_ratio = int.ppm(FN, "mau_ratio", p.mau_ratio) end
  return s
end

function Series:from() return dates.format(self.first) end
function Series:to() return dates.format(self.first + self.n - 1) end
function Series:last_day() return self.first + self.n - 1 end
function Series:has_mau() return self.mau ~= nil or self.mau_ratio ~= nil end

--- A copy that takes each month's MAU as round_half_up(ratio x peak DAU): the
-- assumption a caller states for a history without MAU.  A series with a
-- mau column keeps it: stating a ratio as well is an error, not a choice.
function Series:with_mau_ratio(ratio, fn, field)
  fn, field = fn or "series:with_mau_ratio", field or "ratio"
  if self.mau then check.fail(fn, field, "the usage has MAU already (a mau column)", ratio) end
  local out = setmetatable({}, Series)
  for k, v in pairs(self) do out[k] = v end
  out.mau_ratio = int.ppm(fn, field, ratio)
  return out
end

--- How a month's MAU is known: "column", "ratio" (an assumption: the
-- ratio in parts per million is the second result) or nil (unknown).
function Series:mau_source()
  if self.mau then return "column" end
  if self.mau_ratio then return "ratio", self.mau_ratio end
  return nil
end

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
-- covers = { from =, to = } (the days the series has), peak_dau =,
-- peak_dau_day =, groups_peak =, groups_peak_day =, mau = (nil when the
-- series has no MAU), accounts =, av_rooms =, members =, needs = {...} }.
-- MAU is the largest value of the mau column in the month (a month-to-date
-- count ends on the month's MAU), or round_half_up(peak DAU x mau_ratio).
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

function Series:monthly()
  local out = {}
  for i, m in ipairs(self:month_numbers()) do out[i] = self:month(m) end
  return out
end

--- A usage table imbill.invoice accepts for the month: the daily dau and
-- groups arrays when the series covers the whole month (so the peak is taken
-- over the days a paid edition is in force); for a month the series covers
-- in part, the peaks of the days it has and `covers`, those days, so the
-- invoice says it was billed as a month from part of one.  mau when known.
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
      local x = errors.call(FN, col, f.f, { t = i - 1, day = day, k = dates.month_of(day) - m0 })
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

-- Kept for the CSV reader below, whose messages quote a date's error text
-- without a file position.
local function clean(e)
  return (tostring(e):gsub("^[^:\n]-%.lua:%d+: ", ""))
end
M.clean = clean

-- CSV usage history -----------------------------------------------------------
-- Read by imbill.whatif.history (loaded on first use: it builds on this file).

--- parse_csv(text, opts): a series from usage history text (imbill.whatif.history).
function M.parse_csv(text, opts) return require("imbill.whatif.history").parse_csv(text, opts) end

--- read_csv(path, opts): a series from a usage history file, "-" for standard input.
function M.read_csv(path, opts) return require("imbill.whatif.history").read_csv(path, opts) end

return M
