--- Batch what-if grids: editions x monthly growth rates x starting DAU,
-- millions of scenarios priced by the C core (src/grid.c), with results kept
-- as one int64 per scenario and summarised in C (min, max, mean, percentiles,
-- wins per edition) rather than as a table per scenario.
--
-- A scenario's DAU is dau(0) = start, dau(k+1) = round_half_up(dau(k) x
-- (1 + growth)); groups(k) = groups + round_half_up(dau(k) x groups_per_dau);
-- mau(k) = round_half_up(dau(k) x mau_per_dau); its result is the sum of the
-- full-month totals of months 0 .. months-1 in cents.  The specs check every
-- scenario against a plain-Lua reference (spec/support/grid_oracle.lua).
local core = require "imbill.core"
local check = require "imbill.internal.check"
local methods = require "imbill.internal.methods"
local money = require "imbill.internal.money"
local books = require "imbill.book"
local int = require "imbill.internal.integer"
local fmt = require "imbill.internal.fmt"
local result = require "imbill.internal.result"
local measure = require "imbill.bill.measure"
local caps = require "imbill.bill.caps"

local M = {}
local FN = "imbill.grid"
local PPM = 1000000

local toint, idiv = int.toint, int.idiv


-- A list of whole numbers, or a range { from =, to =, step = }.
local function counts(field, v, signed)
  if type(v) == "number" then v = { v } end
  check.table(FN, field, v)
  local out = {}
  if v.from ~= nil or v.to ~= nil or v.step ~= nil then
    v = check.fields(FN, v, { from = true, to = true, step = true }, field)
    local conv = signed and function(f, x)
      if type(x) ~= "number" or x ~= math.floor(x) then check.fail(FN, f, "expected a whole number", x) end
      return toint(x)
    end or function(f, x) return check.count(FN, f, x) end
    local a, b = conv(field .. ".from", v.from), conv(field .. ".to", v.to)
    local s = check.count(FN, field .. ".step", v.step or 1)
    if s < 1 then check.fail(FN, field .. ".step", "must be at least 1", v.step) end
    if b < a then check.fail(FN, field .. ".to", "is below from", v.to) end
    if (b - a) / s >= 1e8 then check.fail(FN, field, "more than 10^8 values", v.to) end
    -- counted, not stepped: on LuaJIT 2^53 + 1 is 2^53 again, and a loop
    -- stepping from 2^53 to 2^53 never ended
    local last = idiv(b - a, s)
    local filled, err = pcall(function() for k = 0, last do out[k + 1] = a + k * s end end)
    if not filled then
      -- Lua's own error for an allocation it could not make is a bare string
      if err == "not enough memory" then
        out = nil
        check.fail(FN, field .. ".to", string.format("the range has %.0f values, more than memory holds", last + 1),
          v.to)
      end
      error(err, 0)
    end
    return out
  end
  check.list(FN, field, v, "whole numbers")
  for i, x in check.items(v) do
    if signed then
      if type(x) ~= "number" or x ~= math.floor(x) then check.fail(FN, field .. "[" .. i .. "]", "expected a whole number", x) end
      out[i] = toint(x)
    else
      out[i] = check.count(FN, field .. "[" .. i .. "]", x)
    end
  end
  if #out == 0 then check.fail(FN, field, "needs at least one value", check.NOVALUE) end
  return out
end

-- Growth rates in parts per million, from growth = { "5%", 0.05, ... },
-- growth_bp = { 500, ... } or growth_ppm = { 50000, ... } (or ranges).
local function growth_of(p)
  local given = (p.growth ~= nil and 1 or 0) + (p.growth_bp ~= nil and 1 or 0) + (p.growth_ppm ~= nil and 1 or 0)
  if given > 1 then check.fail(FN, "growth", "give one of growth, growth_bp, growth_ppm", p.growth) end
  local out = {}
  if p.growth_bp ~= nil or p.growth_ppm ~= nil then
    -- checked as given, before any product: 100 x a huge count of basis
    -- points wraps around on Lua 5.4 integers (2^62 + 5 bp would read as 5%)
    local bp = p.growth_bp ~= nil
    local field = bp and "growth_bp" or "growth_ppm"
    local v, unit = p[field], bp and 100 or 1
    local lo, hi = bp and -10000 or -PPM, bp and 1000000 or 100 * PPM
    local function in_range(f, x)
      if type(x) == "number" and x == x and (x <= lo or x > hi) then
        check.fail(FN, f, string.format("must be above -100%% and at most 10000%% (%d < %s <= %d)", lo, field, hi), x)
      end
    end
    if type(v) == "table" and (rawget(v, "from") ~= nil or rawget(v, "to") ~= nil) then
      in_range(field .. ".from", rawget(v, "from"))
      in_range(field .. ".to", rawget(v, "to"))
    elseif type(v) == "table" then
      for i, x in check.items(v) do in_range(field .. "[" .. i .. "]", x) end
    else
      in_range(field, v)
    end
    for i, b in ipairs(counts(field, v, true)) do out[i] = toint(b * unit) end
  else
    local g = p.growth or { 0 }
    if type(g) ~= "table" then g = { g } end
    if rawget(g, "from") ~= nil or rawget(g, "to") ~= nil or rawget(g, "step") ~= nil then
      -- it read as an empty list ("needs at least one rate")
      check.fail(FN, "growth", "takes a list of rates ({ \"0%\", \"5%\" }); a range is growth_bp = { from =, to =,"
        .. " step = } (basis points) or growth_ppm", g)
    end
    check.list(FN, "growth", g, "rates")
    for i, x in check.items(g) do out[i] = int.ppm(FN, "growth[" .. i .. "]", x, true) end
    if #out == 0 then check.fail(FN, "growth", "needs at least one rate", check.NOVALUE) end
  end
  for i, r in ipairs(out) do
    if r <= -PPM or r > 100 * PPM then
      check.fail(FN, "growth[" .. i .. "]", "must be above -100% and at most 10000%", string.format("%.4f", r / 10000)
        :gsub("%.?0+$", "") .. "%")
    end
  end
  return out
end

local function fmt_rate(ppm)
  local sign = ppm < 0 and "-" or ""
  local a = math.abs(ppm)
  local whole, frac = math.floor(a / 10000), a % 10000
  local s = sign .. string.format("%d", whole)
  if frac ~= 0 then s = s .. (string.format(".%04d", frac):gsub("0+$", "")) end
  return s .. "%"
end
--- A growth rate in parts per million as a percentage (`50000` is `"5%"`).
-- @int ppm the rate
-- @treturn string the percentage, without trailing zeros
-- @function fmt_rate
-- @local
M.fmt_rate = fmt_rate

local FIELDS = { editions = true, growth = true, growth_bp = true, growth_ppm = true, start_dau = true,
                 months = true, groups = true, groups_per_dau = true, mau_per_dau = true, progress = true,
                 chunk = true, threads = true }

--- The checked parameters of a grid, as `imbill.grid` reads them (shared
-- with the specs' reference grid).
-- @tab p the fields of `imbill.grid`
-- @treturn table editions, names, growth (ppm), start, months, groups, ratios, chunk, threads, n
-- @raise an error naming the field that is wrong
-- @local
function M.spec(p)
  p = check.fields(FN, p, FIELDS)
  local s = { editions = {}, names = {} }
  local eds = p.editions
  if eds == nil then
    eds = {}
    for _, b in ipairs(books.BUILTIN) do
      local book = books.get(b)
      for _, id in ipairs(book:editions()) do
        if not book:edition(id).free then eds[#eds + 1] = b .. "/" .. id end
      end
    end
  end
  check.table(FN, "editions", eds)
  if check.len(eds) == 0 then check.fail(FN, "editions", "needs at least one edition", check.NOVALUE) end
  local seen = {}
  for i, e in check.items(check.list(FN, "editions", eds, "editions")) do local _
    _, s.editions[i], s.names[i] = books.resolve(FN, "editions[" .. i .. "]", e)
    books.once(FN, "editions", seen, i, s.names[i], e)
  end
  s.growth = growth_of(p)
  if p.start_dau == nil then check.fail(FN, "start_dau", "is required (a list or { from =, to =, step = })", nil) end
  s.start = counts("start_dau", p.start_dau)
  -- a value listed twice would count its scenarios twice (in the summaries and
  -- the wins), as an edition listed twice would
  local function once(field, list, given, show)
    local at = {}
    for i, v in ipairs(list) do
      if at[v] then
        local raw = type(given) == "table" and rawget(given, i) or given
        check.fail(FN, field .. "[" .. i .. "]", show(v) .. " is listed twice (also " .. field .. "[" .. at[v] .. "])",
          raw)
      end
      at[v] = i
    end
  end
  local gfield = p.growth_bp ~= nil and "growth_bp" or (p.growth_ppm ~= nil and "growth_ppm" or "growth")
  once(gfield, s.growth, p[gfield], fmt_rate)
  once("start_dau", s.start, p.start_dau, function(v) return fmt.int(v) end)
  s.months = check.count(FN, "months", p.months or 12)
  if s.months < 1 or s.months > 1200 then check.fail(FN, "months", "expected 1 .. 1200", p.months) end
  s.groups = check.count(FN, "groups", p.groups or 0)
  s.groups_ppm = p.groups_per_dau ~= nil and int.ppm(FN, "groups_per_dau", p.groups_per_dau) or 0
  s.mau_ppm = p.mau_per_dau ~= nil and int.mau_ratio(FN, "mau_per_dau", p.mau_per_dau) or 0
  s.n = #s.editions * #s.growth * #s.start
  if p.progress ~= nil and type(p.progress) ~= "function" then
    check.fail(FN, "progress", "expected a function(done, total)", p.progress)
  end
  s.progress = p.progress
  s.chunk = check.count(FN, "chunk", p.chunk or 250000)
  if s.chunk < 1 then check.fail(FN, "chunk", "must be at least 1", p.chunk) end
  local threads = rawget(p, "threads")
  if threads ~= nil then s.threads = check.count(FN, "threads", threads) end
  M.can_price(s, p)
  return s
end

--- Every edition of a grid prices every scenario: one billed by MAU needs
-- `mau_per_dau` (the grid's scenarios have DAU only), and a free edition must
-- serve every scenario within its caps. A grid keeps one total per scenario
-- and no mark, so an edition that cannot serve some scenarios is refused
-- rather than counted at 0.00 where it cannot serve.
-- @tab s the checked parameters (`spec`)
-- @tab p the caller's fields, for messages
-- @treturn table the assumptions stated (such as the MAU ratio)
-- @raise an error naming the edition that cannot price every scenario
-- @local
function M.can_price(s, p)
  local assumptions = {}
  for i, ed in ipairs(s.editions) do
    local k, why = measure.missing(ed, { dau = true, mau = p.mau_per_dau ~= nil }, s.names[i])
    if k then
      measure.raise_missing(FN, "mau_per_dau", k, why, "give mau_per_dau (MAU = ratio x DAU), or leave "
        .. s.names[i] .. " out")
    end
  end
  if p.mau_per_dau ~= nil then
    assumptions[1] = string.format("MAU = round_half_up(%s x DAU)", int.ratio_text(s.mau_ppm))
  end
  s.assumptions = assumptions
  -- DAU is monotone in the start and in the growth, month after month: the
  -- highest DAU is the largest start's, at the first month or the last
  local hi_start, hi_growth = s.start[1], s.growth[1]
  for _, v in ipairs(s.start) do if v > hi_start then hi_start = v end end
  for _, g in ipairs(s.growth) do if g > hi_growth then hi_growth = g end end
  local top, beyond
  for i, ed in ipairs(s.editions) do
    local c = caps.of(ed)
    if c then
      if not top then
        top = hi_start
        local d = hi_start
        for _ = 2, s.months do
          -- past 2^53 the climb stops, on both runtimes alike (LuaJIT's
          -- numbers end there): the cap is passed by far, or the run names
          -- the scenario that cannot be priced
          local ok, nd = pcall(core.grid_grow, d, hi_growth)
          if not ok or nd > int.EXACT then
            beyond = true
            break
          end
          d = nd
          if d > top then top = d end
        end
      end
      -- a followed count past what this runtime holds exactly is past any cap:
      -- shown as "more than 2^53" on both runtimes
      local over = {}
      local function follow(k, base, ppm)
        if ppm == 0 then return base end
        local ok, v = pcall(core.follow_value, top, ppm)
        if ok and base + v <= int.EXACT then return base + v end
        over[k] = true
        return int.EXACT
      end
      local peak = { dau = top, groups = follow("groups", s.groups, s.groups_ppm), mau = follow("mau", 0, s.mau_ppm) }
      for _, k in ipairs { "dau", "mau", "groups" } do
        if c[k] and peak[k] > c[k] then
          check.fail(FN, "editions[" .. i .. "]", caps.sentence(s.names[i], k, c[k]) .. ", and these scenarios reach "
            .. ((beyond or over[k]) and "more than " or "") .. fmt.int(peak[k])
            .. ": leave it out, or keep start_dau and growth within its cap", s.names[i])
        end
      end
    end
  end
end

local Grid = methods.class("grid", "a grid (imbill.grid)", "g")
M.Grid = Grid

--- Millions of scenarios priced in C: every edition x every growth rate x
-- every starting DAU, each over `months` months (DAU grows by the rate each
-- month; groups and MAU follow by ratio).
-- @tab p `editions` (default every paid built-in edition), `growth` (`{ "0%", "5%" }`,
-- or `growth_bp`, `growth_ppm`; lists or `{ from =, to =, step = }`), `start_dau` (a
-- list or a range), `months` (default 12), `groups`, `groups_per_dau`, `mau_per_dau`,
-- `progress` (`function(done, total)`), `chunk`, `threads` (default every core)
-- @treturn Grid the priced grid
-- @raise an error naming the field that is wrong, or the scenario that cannot be priced
-- @usage local g = imbill.grid{ editions = { "2021/pro" }, growth = { "0%", "8%" },
--   start_dau = { 5000, 20000 }, months = 12 }
-- print(g:size(), g:max())  --> 4  19349.57  4
function M.run(p)
  local s = M.spec(p)
  local rates = {}
  for i, e in ipairs(s.editions) do rates[i] = e.rate end
  local g = check.call(FN, core.grid, rates, s.growth, s.start, s.months, s.groups, s.groups_ppm, s.mau_ppm)
  local done = 0
  while done < s.n do
    local bad, why
    done, bad, why = check.call(FN, g.run, g, s.chunk, s.threads)
    if not done then
      -- the first scenario that cannot be priced, by index, named by its values
      local e, gi, si = g:coords(bad)
      check.fail(FN, "scenario " .. bad, string.format("%s at %s a month from %s DAU over %s: the total %s",
        s.names[e], fmt_rate(s.growth[gi]), fmt.int(s.start[si]), fmt.count(s.months, "month"), why), check.NOVALUE)
    end
    if s.progress then s.progress(done, s.n) end
  end
  return methods.new(Grid, { core = g, spec = s, n = s.n, names = s.names })
end

--- The number of scenarios.
-- @treturn integer editions x growth rates x starting DAU
function Grid:size() return self.n end

--- The total of scenario `i` as money.
-- @int i the scenario, 1 .. `g:size()`
-- @treturn money the total over the grid's months
-- @raise `grid:get: index: ...` for an index that is not a scenario
function Grid:get(i) return money.from_cents(self.core:get(i)) end
--- The total of scenario `i` in integer cents.
-- @int i the scenario, 1 .. `g:size()`
-- @treturn integer cents
-- @raise `grid:cents: index: ...` for an index that is not a scenario
function Grid:cents(i) return self.core:get(i) end

--- Scenario `i`'s parameters and total.
-- @int i the scenario, 1 .. `g:size()`
-- @treturn table `{ index =, edition =, growth_ppm =, growth = "5%", start_dau =, total = money }`
-- @raise `grid:scenario: index: ...` for an index that is not a scenario
function Grid:scenario(i)
  local e, gi, si = self.core:coords(i)
  return { index = i, edition = self.names[e], growth_ppm = self.spec.growth[gi], growth = fmt_rate(self.spec.growth[gi]),
           start_dau = self.spec.start[si], total = money.from_cents(self.core:get(i)) }
end

--- The scenario number of an edition, a growth rate and a starting DAU.
-- @int e the edition's position in the grid
-- @int gi the growth rate's position
-- @int si the starting DAU's position
-- @treturn integer the scenario, 1 .. `g:size()`
-- @raise `grid:index: FIELD: expected a position 1 .. N` for a position outside the grid
function Grid:index(e, gi, si)
  local ng, ns = #self.spec.growth, #self.spec.start
  local function pos(field, v, n)
    local k = check.count("grid:index", field, v)
    if k < 1 or k > n then check.fail("grid:index", field, "expected a position 1 .. " .. n, v) end
    return k
  end
  e, gi, si = pos("edition", e, #self.names), pos("growth", gi, ng), pos("start", si, ns)
  return ((e - 1) * ng + (gi - 1)) * ns + si
end

--- The scenarios of one edition, or of all.
-- @param[opt] edition a position or `"book/edition"` (nil: every scenario)
-- @treturn integer the first scenario
-- @treturn integer the last scenario
-- @raise `grid:range: edition: not in this grid`
function Grid:range(edition)
  if edition == nil then return 1, self.n end
  local e = edition
  if type(edition) == "string" then
    for i, nm in ipairs(self.names) do if nm == edition then e = i end end
  end
  if type(e) ~= "number" or not self.names[e] then check.fail("grid:range", "edition", "not in this grid", edition) end
  local per = #self.spec.growth * #self.spec.start
  return (e - 1) * per + 1, e * per
end

--- The cheapest scenario of one edition, or of all.
-- @param[opt] edition a position or `"book/edition"`
-- @treturn money the lowest total
-- @treturn integer the scenario that has it
-- @raise `grid:min: edition: not in this grid`
function Grid:min(edition)
  local c, i = self.core:min(self:range(edition))
  return money.from_cents(c), i
end

--- The dearest scenario of one edition, or of all.
-- @param[opt] edition a position or `"book/edition"`
-- @treturn money the highest total
-- @treturn integer the scenario that has it
-- @raise `grid:max: edition: not in this grid`
function Grid:max(edition)
  local c, i = self.core:max(self:range(edition))
  return money.from_cents(c), i
end

--- The mean total of one edition, or of all, rounded half-up to the cent
-- from the exact sum.
-- @param[opt] edition a position or `"book/edition"`
-- @treturn money the mean
-- @treturn ?integer the exact sum in cents (nil on LuaJIT past 2^53, where a number is not exact)
-- @raise `grid:mean: edition: not in this grid`
function Grid:mean(edition)
  local lo, hi = self:range(edition)
  -- the mean in C: a sum of millions of totals passes 2^53 (and Lua's exact products) long before the mean
  local mean = self.core:mean(lo, hi)
  local ok, sum = pcall(self.core.sum, self.core, lo, hi)
  return money.from_cents(mean), ok and sum or nil
end

--- A percentile of the totals by nearest rank: the value at rank
-- `max(1, ceil(p/100 x n))` in sorted order.
-- @param p a percentage 0 .. 100 (a number, or a string with up to 4 decimals; `"95%"` is 95)
-- @param[opt] edition a position or `"book/edition"`
-- @treturn money the total at that rank
-- @raise `grid:percentile: p: ...` for a percentage out of range
function Grid:percentile(p, edition)
  local pp = int.percentile("grid:percentile", p)
  local lo, hi = self:range(edition)
  return money.from_cents(self.core:percentile(pp, lo, hi))
end

--- How many (growth, starting DAU) pairs each edition alone is the cheapest
-- for (`wins`), and how many it shares the lowest total of with another
-- edition (`ties`: a win for none of them, whatever order they are listed in).
-- @treturn table `{ { edition =, wins =, ties = }, ... }` in the grid's order
function Grid:wins()
  local w, t = self.core:wins()
  local out = {}
  for i, n in ipairs(w) do out[i] = { edition = self.names[i], wins = n, ties = t[i] } end
  return out
end

--- How many (growth, starting DAU) pairs have more than one cheapest edition.
-- @treturn int the pairs that are a tie
function Grid:tied()
  local w = self.core:wins()
  local won = 0
  for _, n in ipairs(w) do won = won + n end
  return #self.spec.growth * #self.spec.start - won
end

M.PERCENTILES = { 5, 25, 50, 75, 95 }

--- A summary of one edition's totals, or of all.
-- @param[opt] edition a position or `"book/edition"`
-- @tparam[opt] {number,...} percentiles default `{ 5, 25, 50, 75, 95 }`
-- @treturn table `{ n =, min =, max =, mean =, p5 =, ..., argmin =, argmax =, percentiles = }` (money)
-- @raise `grid:summary: edition: not in this grid`
function Grid:summary(edition, percentiles)
  local lo, hi = self:range(edition)
  local mn, imin = self:min(edition)
  local mx, imax = self:max(edition)
  local r = { n = hi - lo + 1, min = mn, max = mx, mean = (self:mean(edition)),
              argmin = self:scenario(imin), argmax = self:scenario(imax), percentiles = {} }
  if percentiles ~= nil then check.table("grid:summary", "percentiles", percentiles) end
  for _, p in check.items(percentiles or M.PERCENTILES) do
    local v = self:percentile(p, edition)
    r["p" .. tostring(p)] = v
    r.percentiles[#r.percentiles + 1] = { p = p, value = v }
  end
  return r
end

--- One summary per edition, each with its wins.
-- @tparam[opt] {number,...} percentiles default `{ 5, 25, 50, 75, 95 }`
-- @treturn table the summaries in the grid's order, each with `edition` and `wins`
function Grid:by_edition(percentiles)
  local out = {}
  local wins, ties = self.core:wins()
  for i, nm in ipairs(self.names) do
    local s = self:summary(i, percentiles)
    s.edition, s.wins, s.ties = nm, wins[i], ties[i]
    out[i] = s
  end
  return out
end

--- Totals in cents as a Lua array (for small grids: at most 50,000,000).
-- @int[opt] from the first scenario (default 1)
-- @int[opt] to the last scenario (default `g:size()`)
-- @treturn {integer,...} cents
-- @raise `grid:totals: from/to: ...` for a range outside the grid
function Grid:totals(from, to) return self.core:totals(from, to) end

--- Totals in cents as a read-only column (`imbill.column`), without a copy:
-- for summaries beyond the grid's own, or to price further from.
-- @treturn column the totals; it keeps the grid alive
function Grid:column()
  require "imbill.whatif.column" -- the column methods written in Lua
  return self.core:column()
end

function Grid:__tostring()
  local out = string.format("imbill grid: %s x %s x %d starting DAU = %s over %s", fmt.count(#self.names, "edition"),
    fmt.count(#self.spec.growth, "growth rate"), #self.spec.start, fmt.count(self.n, "scenario"),
    fmt.count(self.spec.months, "month"))
  for _, a in ipairs(self.spec.assumptions) do out = out .. "\nassumed: " .. a end
  return out
end

local STATS = { "min", "p5", "p25", "p50", "p75", "p95", "max", "mean" }

local function summary_data(sm)
  local d = { scenarios = sm.n }
  for _, k in ipairs(STATS) do d[k] = tostring(sm[k]) end
  return d
end

local function scenario_data(sc)
  return { index = sc.index, edition = sc.edition, growth = sc.growth, growth_ppm = sc.growth_ppm,
           start_dau = sc.start_dau, total = tostring(sc.total) }
end

--- Plain data: the summary per edition (with its wins) and over all
-- scenarios, the cheapest and dearest scenario; money as exact strings.
-- @treturn table ready for JSON (`kind = "grid"`)
function Grid:data()
  local eds = result.array()
  for i, s in ipairs(self:by_edition()) do
    eds[i] = summary_data(s)
    eds[i].edition, eds[i].wins, eds[i].ties = s.edition, s.wins, s.ties
  end
  local all = self:summary()
  local growth = result.array()
  for i, g in ipairs(self.spec.growth) do growth[i] = fmt_rate(g) end
  return { kind = "grid", currency = result.CURRENCY, scenarios = self.n, months = self.spec.months,
           editions = eds, growth = growth, start_dau = { count = #self.spec.start, min = all.argmin.start_dau },
           all = summary_data(all), cheapest = scenario_data(all.argmin), dearest = scenario_data(all.argmax),
           assumptions = result.strings(self.spec.assumptions) }
end

--- CSV: one line per edition and one for all scenarios, its summary in
-- exact decimal amounts.
-- @treturn string RFC 4180 text with a header line
function Grid:csv()
  local rows = {}
  -- by position: the all row has no wins, and appending after a nil put its
  -- min under "cheapest" and left "mean" empty
  local function row(name, s, wins, ties)
    local r = { name, s.n, wins, ties }
    for j, k in ipairs(STATS) do r[4 + j] = tostring(s[k]) end
    rows[#rows + 1] = r
  end
  for _, s in ipairs(self:by_edition()) do row(s.edition, s, s.wins, s.ties) end
  row("all", self:summary(), nil, nil)
  local header = { "edition", "scenarios", "cheapest", "tied" }
  for _, k in ipairs(STATS) do header[#header + 1] = k end
  return result.csv(header, rows)
end

methods.seal(Grid)

return M
