--- Exact break-even between two editions along one usage metric
-- (imbill.breakeven): the one implementation, used by break-even tables too.
--
-- The axis is one metric (`dau`, `mau` or `groups`); the others are held fixed
-- (`usage`) or follow the axis by a ratio (`follow = { mau = "3" }`: MAU =
-- `round_half_up(3 x DAU)`), which puts a DAU edition and an MAU edition on one
-- axis.  An edition whose billed user measure is neither the axis, nor
-- followed, nor given is refused (imbill.bill.measure): it would otherwise be
-- priced as if that measure were 0.  A free edition serves only up to its
-- caps (imbill.bill.caps): past them the other edition is the only one that
-- can serve, and the result says so with a point of kind `"cap"`, not a
-- break-even.
--
-- `imbill.breakeven` is `breakeven` below.
-- @usage local be = imbill.breakeven{ a = "2021/pro", b = "2021/ultimate", to = 100000 }
-- print(be)  -- from which DAU on each edition is the cheaper one
local core = require "imbill.core"
local check = require "imbill.internal.check"
local methods = require "imbill.internal.methods"
local money = require "imbill.internal.money"
local fmt = require "imbill.internal.fmt"
local result = require "imbill.internal.result"
local books = require "imbill.book"
local int = require "imbill.internal.integer"
local measure = require "imbill.bill.measure"
local caps = require "imbill.bill.caps"

local M = {}
local FN = "imbill.breakeven"

M.METRICS = { "dau", "mau", "groups" }
M.FIELD = { dau = "peak_dau", groups = "groups_peak", mau = "mau" }
local FIELD = M.FIELD
local UNIT = { dau = "DAU", mau = "MAU", groups = "groups" }
M.UNIT = UNIT
local ONE = int.PPM -- a ratio of 1: the axis itself

--- The axis of a break-even search or a cost curve, checked: { metric =,
-- from =, to =, base = { dau =, groups =, mau = } (fixed values, nil when not
-- given), given = { peak_dau = true, ... }, follow = { mau = ppm, ... },
-- follow_text = { mau = "3" } }.  `default_to` is the upper bound when `to`
-- is not given.
-- @string fn the public function an error names
-- @tab p the caller's parameters: `metric`, `usage`, `follow`, `from`, `to`
-- @int default_to the upper bound when `p.to` is not given
-- @treturn table the axis
-- @raise `fn: field: ...` naming the parameter that is wrong
-- @local
function M.axis(fn, p, default_to)
  local metric = p.metric or "dau"
  if not FIELD[metric] then check.fail(fn, "metric", "expected dau, mau or groups", metric) end
  local usage = check.table(fn, "usage", p.usage or {})
  usage = check.fields(fn, usage, { peak_dau = true, groups_peak = true, mau = true }, "usage")
  local ax = { metric = metric, base = {}, given = {}, follow = {}, follow_text = {} }
  for k, f in pairs(FIELD) do
    if usage[f] ~= nil then
      ax.base[k] = check.count(fn, "usage." .. f, usage[f])
      ax.given[k] = true
    end
  end
  -- the axis' own metric varies: a fixed value for it was silently ignored
  if usage[FIELD[metric]] ~= nil then
    check.fail(fn, "usage." .. FIELD[metric], "is the axis (metric = " .. metric .. "): it varies from from to to;"
      .. " leave it out, or choose another metric", usage[FIELD[metric]])
  end
  for k, r in pairs(check.table(fn, "follow", p.follow or {})) do
    if not FIELD[k] or k == metric then check.fail(fn, "follow." .. tostring(k), "not another metric", r) end
    if ax.base[k] ~= nil then
      check.fail(fn, "follow." .. k, "give usage." .. FIELD[k] .. " or follow." .. k .. ", not both", r)
    end
    -- MAU follows DAU by at least 1: a month's users include its busiest day's
    local ppm = (k == "mau" and metric == "dau") and int.mau_ratio(fn, "follow." .. k, r)
      or int.ppm(fn, "follow." .. k, r)
    if ppm < 1 then check.fail(fn, "follow." .. k, "must be above 0", r) end
    ax.follow[k], ax.follow_text[k] = ppm, int.ratio_text(ppm)
  end
  ax.from = check.count(fn, "from", p.from or 0)
  ax.to = check.count(fn, "to", p.to or default_to)
  -- the walks look one value past the range (the next piece's start), which
  -- past the largest integer would wrap to a negative usage value
  if math.type and ax.to == math.maxinteger then
    check.fail(fn, "to", "is at most " .. tostring(math.maxinteger - 1) .. ": a range is walked to one past its end",
      p.to)
  end
  if ax.to < ax.from then
    if p.to == nil then
      check.fail(fn, "from", "is above the default upper bound " .. fmt.int(default_to) .. "; give to as well", p.from)
    end
    check.fail(fn, "to", "is below from (" .. tostring(p.from) .. ")", p.to)
  end
  return ax
end

--- The value of metric k at axis value x.
-- @tab ax the axis (`axis`)
-- @string k `"dau"`, `"mau"` or `"groups"`
-- @int x a value on the axis
-- @treturn int the metric's value there
-- @local
function M.value(ax, k, x)
  if k == ax.metric then return x end
  local r = ax.follow[k]
  if r then return core.follow_value(x, r) end
  return ax.base[k] or 0
end

--- The ratio by which metric k follows the axis (1 for the axis), or nil
-- when k is held fixed.
-- @tab ax the axis (`axis`)
-- @string k `"dau"`, `"mau"` or `"groups"`
-- @treturn ?int the ratio in parts per million
-- @local
function M.ratio(ax, k)
  if k == ax.metric then return ONE end
  return ax.follow[k]
end

--- Refuses an edition whose billed user measure the axis does not give.
-- @string fn the public function an error names
-- @tab ax the axis (`axis`)
-- @tparam Edition ed the edition
-- @string name its `"book/edition"` name
-- @string field the field an error names
-- @return nothing: it returns when the axis gives every measure the edition needs
-- @raise `fn: field: ...: give usage.mau, or follow = { mau = RATIO } ...`
-- @local
function M.need_measures(fn, ax, ed, name, field)
  local has = {}
  for k in pairs(FIELD) do has[k] = k == ax.metric or ax.follow[k] ~= nil or ax.given[k] end
  local k, why = measure.missing(ed, has, name)
  if k then
    local hint = k == "mau" and "give usage.mau, or follow = { mau = RATIO } for MAU = RATIO x " .. UNIT[ax.metric]
      or "give usage.peak_dau, or follow = { dau = RATIO } for DAU = RATIO x " .. UNIT[ax.metric]
    -- the error says which measure is missing, so that a caller with inputs
    -- of its own (the command's options) can give its own advice
    measure.raise_missing(fn, field, k, why, hint)
  end
end

--- Where a free edition stops serving on the axis: { at = the last value it
-- serves (from - 1 when none), measure =, max =, why = "2021/free serves at
-- most 100 peak DAU" }, or nil when it serves the whole range.
-- @tab ax the axis (`axis`)
-- @tparam Edition ed the edition
-- @string name its `"book/edition"` name
-- @treturn ?table the cap
-- @local
function M.cap(ax, ed, name)
  local c = caps.of(ed)
  if not c then return nil end
  local best
  for _, k in ipairs(M.METRICS) do
    local max = c[k]
    if max then
      local last
      local r = M.ratio(ax, k)
      if r then
        local first_over = core.follow_first_above(max, r)
        last = first_over and first_over - 1 or ax.to
      elseif (ax.base[k] or 0) > max then
        last = ax.from - 1
      end
      if last and last < ax.to and (not best or last < best.at) then
        best = { at = math.max(last, ax.from - 1), measure = k, max = max, why = caps.sentence(name, k, max) }
      end
    end
  end
  return best
end

local Breakeven = methods.class("breakeven", "a break-even result (imbill.breakeven)", "be")
M.Breakeven = Breakeven

--- A break-even result, made by `breakeven`.  Its fields: `metric`, `a`, `b`
-- (the two editions' `"book/edition"` names), `from`, `to`, `points`,
-- `caps = { a =, b = }` (where a free edition stops serving, or nil),
-- `follow` (the ratios as text) and `assumptions` (sentences saying how a
-- followed metric was taken).  Each point is `{ at =, cheaper = "a" | "b" |`
-- `"equal" | "neither", kind = "start" | "crossing" | "cap", a_total =,`
-- `b_total =, note = }`: from `at` on, up to the next point, `cheaper` holds.
--
-- `tostring(be)` is an aligned table of the points.
-- @type Breakeven

local function cheaper_name(self, c)
  if c == "a" then return self.a elseif c == "b" then return self.b end
  return c
end

function Breakeven:__tostring()
  local rows = {}
  for i, p in ipairs(self.points) do
    rows[i] = { fmt.int(p.at), cheaper_name(self, p.cheaper), p.a_total and money.pretty(p.a_total) or "-",
                p.b_total and money.pretty(p.b_total) or "-", p.note or "" }
  end
  local head = string.format("%s against %s by %s, %s .. %s", self.a, self.b, self.metric, fmt.int(self.from),
    fmt.int(self.to))
  for _, a in ipairs(self.assumptions) do head = head .. "\nassumed: " .. a end
  local header = { "from " .. self.metric, "cheaper", self.a, self.b }
  -- a note column only where an edition stops serving
  for _, p in ipairs(self.points) do if p.note then header[5] = "note" end end
  if not header[5] then for _, r in ipairs(rows) do r[5] = nil end end
  return head .. "\n" .. fmt.table(header, rows, { true, false, true, true, false })
end

--- A point as plain data (strings for money), as `data` gives it.
-- @tparam Breakeven self the result
-- @tab p one of its points
-- @treturn table `{ at =, cheaper =, cheaper_edition =, kind =, a_total =, b_total =, note = }`
-- @local
local function point_data(self, p)
  return { at = p.at, cheaper = p.cheaper, cheaper_edition = cheaper_name(self, p.cheaper), kind = p.kind,
           a_total = result.money(p.a_total), b_total = result.money(p.b_total), note = p.note }
end
M.point_data = point_data

--- A cap as plain data, or nil.
-- @tparam ?table c a cap (`cap`)
-- @treturn ?table `{ at =, measure =, max =, why = }`
-- @local
local function cap_data(c)
  if not c then return nil end
  return { at = c.at, measure = c.measure, max = c.max, why = c.why }
end
M.cap_data = cap_data

--- Plain data (strings for money, integers for counts), ready for JSON.
-- @treturn table `{ kind = "breakeven", currency =, metric =, a =, b =, from =, to =, follow =, points =,`
-- `caps = { a =, b = }, assumptions = }`
function Breakeven:data()
  local points = result.array()
  for i, p in ipairs(self.points) do points[i] = point_data(self, p) end
  return { kind = "breakeven", currency = result.CURRENCY, metric = self.metric, a = self.a, b = self.b,
           from = self.from, to = self.to, follow = result.object(self.follow), points = points,
           caps = { a = cap_data(self.caps.a), b = cap_data(self.caps.b) },
           assumptions = result.strings(self.assumptions) }
end

--- RFC 4180 CSV, one record per point: `from,cheaper,kind,a_total,b_total,note`.
-- @treturn string the CSV text, with its header
function Breakeven:csv()
  local rows = {}
  for i, p in ipairs(self.points) do
    rows[i] = { p.at, cheaper_name(self, p.cheaper), p.kind, result.money(p.a_total), result.money(p.b_total), p.note }
  end
  return result.csv({ "from", "cheaper", "kind", "a_total", "b_total", "note" }, rows)
end

--- Finding break-even points.
-- @section breakeven

-- The most pieces (runs between cuts) one call walks: 2021 pro against
-- ultimate by DAU has one per 10,000 DAU, so this covers 0 .. 10^10.
local MAX_PIECES = 1000000

--- A lower bound on the price steps ed's lines in blocks make on the axis
-- from its start up to x: a line of block b steps (value - free) / b times.
-- A walk over the range refuses a range it could not finish before walking
-- it, instead of after a million steps.
-- @tab ax the axis (`axis`)
-- @tparam Edition ed the edition
-- @int x the last value of the walk
-- @treturn number the lower bound (0 for a free edition)
-- @local
function M.min_steps(ax, ed, x)
  if ed.free then return 0 end
  local most = 0
  for _, k in ipairs(M.METRICS) do
    local ch, r = ed.charges[k], M.ratio(ax, k)
    if ch and ch.block > 1 and r then
      local n = (M.value(ax, k, x) - math.max(ch.free, M.value(ax, k, ax.from))) / ch.block
      if n > most then most = n end
    end
  end
  return most
end
-- The most single values scanned where two totals cannot be told apart
-- another way.
local MAX_SCAN = 1000000

-- The pieces search (see M.breakeven).
local function search(p)
  local _, ea, na = books.resolve(FN, "a", p.a)
  local _, eb, nb = books.resolve(FN, "b", p.b)
  local ax = M.axis(FN, p, 10000000)
  local metric, lo, hi = ax.metric, ax.from, ax.to
  M.need_measures(FN, ax, ea, na, "a")
  M.need_measures(FN, ax, eb, nb, "b")
  local cap_a, cap_b = M.cap(ax, ea, na), M.cap(ax, eb, nb)
  local last_a, last_b = cap_a and cap_a.at or hi, cap_b and cap_b.at or hi

  local function cost(ed, x)
    local ok, c = pcall(core.month_total, ed.rate, M.value(ax, "dau", x), M.value(ax, "groups", x),
      M.value(ax, "mau", x))
    if not ok then
      check.fail(FN, "to", string.format("at %s %s the total of %s does not fit (%s)", FIELD[metric], tostring(x),
        ed.book .. "/" .. ed.id, tostring(c)), check.NOVALUE)
    end
    return c
  end
  -- -1: a is cheaper, 1: b, 0: equal; "a"/"b": only that one serves; nil: neither
  local function order(x)
    local sa, sb = x <= last_a, x <= last_b
    if sa and sb then
      local d = cost(ea, x) - cost(eb, x)
      return d < 0 and -1 or (d > 0 and 1 or 0)
    end
    if sa then return "a" elseif sb then return "b" end
    return "neither"
  end

  local points, prev = {}, false
  local function record(x, o)
    local pt = { at = x, a_total = x <= last_a and money.from_cents(cost(ea, x)) or nil,
                 b_total = x <= last_b and money.from_cents(cost(eb, x)) or nil }
    if type(o) == "number" then
      pt.cheaper = o < 0 and "a" or (o > 0 and "b" or "equal")
      pt.kind = #points == 0 and "start" or "crossing"
    else
      pt.cheaper = o
      pt.kind = #points == 0 and "start" or "cap"
      local notes = {}
      if x > last_a then notes[#notes + 1] = cap_a.why end
      if x > last_b then notes[#notes + 1] = cap_b.why end
      pt.note = table.concat(notes, "; ")
    end
    points[#points + 1] = pt
    prev = o
  end
  local function visit(x)
    local o = order(x)
    if o ~= prev then record(x, o) end
  end

  -- the lines of an edition that rise with x on a piece starting at s: per-user
  -- charges (block 1) past their free quota on the axis or a followed metric
  local function rising(ed, s)
    local out = {}
    if ed.free then return out end
    for _, k in ipairs(M.METRICS) do
      local ch, r = ed.charges[k], M.ratio(ax, k)
      if ch and ch.block == 1 and r and M.value(ax, k, s) > ch.free then
        out[#out + 1] = { k = k, ch = ch, r = r }
      end
    end
    return out
  end
  -- the next cut after s: a block end or free quota of either edition, or a cap
  local function next_cut(s)
    local e = hi + 1
    for _, ed in ipairs { ea, eb } do
      if not ed.free then
        for _, k in ipairs(M.METRICS) do
          local ch, r = ed.charges[k], M.ratio(ax, k)
          if ch and ch.block > 0 and r and not (ch.block == 1 and M.value(ax, k, s) > ch.free) then
            local n = core.charge_next_step(ed.rate, k, s, r)
            if n and n < e then e = n end
          end
        end
      end
    end
    for _, last in ipairs { last_a, last_b } do
      if last >= s and last + 1 < e then e = last + 1 end
    end
    return e
  end

  -- The exact, unrounded difference a - b at s as money, and its slope, for
  -- lines that are exactly linear in x (per-user charges on the axis itself).
  local function exact_at(s, va, vb)
    local g = money.from_cents(cost(ea, s) - cost(eb, s))
    local slope = money.ZERO
    for side, list in pairs { [1] = va, [-1] = vb } do
      local ed = side == 1 and ea or eb
      for _, v in ipairs(list) do
        local blocks, cents = core.charge(ed.rate, v.k, s)
        local line = v.ch.price * blocks - money.from_cents(cents) -- unrounded minus rounded
        if side == 1 then g, slope = g + line, slope + v.ch.price
        else g, slope = g - line, slope - v.ch.price end
      end
    end
    return g, slope
  end

  local CENT = money.from_cents(1)
  local NCENT = -CENT

  -- Both totals exactly linear before rounding: let g be the exact difference;
  -- the rounded difference d differs from g by less than a cent (two lines,
  -- each rounded half-up by less than half a cent), so d has g's sign wherever
  -- |g| >= 1 cent.  Only the values where |g| < 1 cent, found by bisection on
  -- g, are looked at one by one: at most 2 cents / slope of them.
  local function linear_piece(s, e, va, vb)
    local g0, k = exact_at(s, va, vb)
    local function g(x) return g0 + k * (x - s) end
    local x1, x2 = e + 1, e
    if k == money.ZERO then
      if g0 > NCENT and g0 < CENT then x1, x2 = s + 1, e end
    else
      local up = k > money.ZERO
      local function h(x) local v = g(x) return up and v or -v end
      -- first x in (s, e] with h(x) > -1 cent; midpoints as l + half the gap,
      -- since (l + r) / 2 is a float division that near 2^60 rounds back to l
      local l, r = s, e + 1
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

  -- One side rises, the other is constant: the difference is monotone, so
  -- each change of order is found by bisection.
  local function monotone_piece(s, e)
    local x = s
    while x < e do
      local cur = order(x)
      if order(e) == cur then break end
      local l, r = x, e
      while r - l > 1 do
        local m = l + math.floor((r - l) / 2)
        if order(m) == cur then l = m else r = m end
      end
      visit(r)
      x = r
    end
  end

  if math.max(M.min_steps(ax, ea, last_a), M.min_steps(ax, eb, last_b)) > MAX_PIECES then
    check.fail(FN, "to", string.format("the range %d .. %d crosses more than %d price steps; narrow from/to",
      lo, hi, MAX_PIECES), p.to)
  end
  local pieces, s = 0, lo
  while s <= hi do
    local e = next_cut(s) - 1
    pieces = pieces + 1
    if pieces > MAX_PIECES then
      check.fail(FN, "to", string.format("the range %d .. %d crosses more than %d price steps; narrow from/to",
        lo, hi, MAX_PIECES), p.to)
    end
    visit(s)
    if e > s and s <= last_a and s <= last_b then
      local va, vb = rising(ea, s), rising(eb, s)
      local own = true
      for _, v in ipairs(va) do own = own and v.k == metric end
      for _, v in ipairs(vb) do own = own and v.k == metric end
      if #va == 0 and #vb == 0 then -- luacheck: ignore 542
        -- both constant: one order over the piece
      elseif #va == 0 or #vb == 0 then
        monotone_piece(s, e)
      elseif own then
        linear_piece(s, e, va, vb)
      elseif #va == 1 and #vb == 1 and va[1].k == vb[1].k and va[1].ch.free == vb[1].ch.free
        and va[1].ch.price == vb[1].ch.price then -- luacheck: ignore 542
        -- the same line on both sides: a constant difference
      else
        if e - s > MAX_SCAN then
          check.fail(FN, "to", "both totals rise by the user in " .. s .. " .. " .. e .. "; narrow from/to", p.to)
        end
        for x = s + 1, e do visit(x) end
      end
    end
    s = e + 1
  end

  local assumptions = {}
  for _, k in ipairs(M.METRICS) do
    if ax.follow[k] then
      assumptions[#assumptions + 1] = string.format("%s = round_half_up(%s x %s)", UNIT[k], ax.follow_text[k],
        UNIT[metric])
    end
  end
  return methods.new(Breakeven, { metric = metric, a = na, b = nb, from = lo, to = hi, points = points,
                        follow = ax.follow_text, caps = { a = cap_a, b = cap_b }, assumptions = assumptions,
                        usage = p.usage })
end

--- The exact points where the cheaper of two editions changes, along one usage metric.
--
-- `imbill.breakeven{ a =, b =, metric = "dau"|"mau"|"groups", usage = { peak_dau =,`
-- `groups_peak =, mau = } (fixed values), follow = { mau = "3" } (metrics that`
-- `follow the axis by a ratio), from =, to = }` returns `{ metric=, a=, b=,`
-- `points = { { at =, cheaper = "a"|"b"|"equal"|"neither", kind =`
-- `"start"|"crossing"|"cap", a_total =, b_total =, note = } }, caps = { a =, b = } }`
-- where each point is the value from which on (up to the next point) `cheaper`
-- holds.  Exact: every value where the order of the two totals changes is
-- reported, none is sampled.  A `"cap"` point is where an edition stops
-- serving (its total is then nil), not a break-even.
--
-- How: `[from, to]` is cut into pieces at every free quota and block end of the
-- two editions' charges (on the axis, and on each followed metric mapped back
-- through its ratio: `imb_charge_next_step`) and at the caps.  In a piece each
-- total is constant or rises with x (per-user charges).  Both constant: one
-- order.  One rising: the difference is monotone, and each change is found by
-- bisection.  Both rising, exactly linear (per-user charges on the axis): see
-- `linear_piece`.  The same line on both sides: a constant difference.
-- Otherwise the piece is scanned value by value (at most 10^6 values, else an
-- error asks for a narrower range).
-- @tab p the two editions and the axis:
-- @tparam string|table|Edition p.a an edition, `"book/edition"` (`"2021/pro"`), `{ book =, edition = }` or an edition
-- @tparam string|table|Edition p.b the other edition, the same way
-- @string[opt="dau"] p.metric the axis: `"dau"`, `"mau"` or `"groups"`
-- @tab[opt] p.usage the metrics held fixed: `{ peak_dau =, groups_peak =, mau = }`
-- @tab[opt] p.follow metrics that follow the axis by a ratio: `{ mau = "3" }`
-- @int[opt=0] p.from the first value of the axis
-- @int[opt=10000000] p.to the last value
-- @treturn Breakeven the points
-- @raise an error naming the field that is wrong: an edition billed by a
-- measure the axis does not give (`a`, `b`), `to` below `from`, a range that
-- crosses more than 10^6 price steps or totals beyond 64 bits (`to`, `from, to`)
function M.breakeven(p)
  p = check.fields(FN, p, { a = true, b = true, metric = true, usage = true, from = true, to = true, follow = true })
  -- amounts beyond 64-bit micro-units (huge from/to with tiny prices) fail
  -- deep in the money code
  return check.blamed(FN, "from, to", "the totals at these usage values do not fit in 64 bits of micro-units",
    search, p)
end

methods.seal(Breakeven)

return M
