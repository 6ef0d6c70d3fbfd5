--- Cost curves and break-even tables along one usage metric.
--
-- A cost curve is an edition's exact full-month total over a range, given as
-- the points where it changes; a break-even table runs imbill.breakeven (the
-- one break-even implementation) on every pair of editions and carries each
-- edition's curve.  A free edition serves only up to its caps: its curve ends
-- there (`curve.cap` says where and why) and the table says which edition
-- alone can serve beyond.
--
-- `imbill.cost_curve` is `cost_curve` below and `imbill.breakeven_table` is
-- `breakeven_table`.
-- @usage local t = imbill.breakeven_table{ editions = { "2021/pro", "2022/standard" }, follow = { mau = "3" },
--                                    to = 30000 }
-- print(t:crossing_count())
local core = require "imbill.core"
local check = require "imbill.internal.check"
local methods = require "imbill.internal.methods"
local money = require "imbill.internal.money"
local fmt = require "imbill.internal.fmt"
local result = require "imbill.internal.result"
local books = require "imbill.book"
local breakeven = require "imbill.bill.breakeven"

local M = {}

local METRICS, UNIT = breakeven.METRICS, breakeven.UNIT

-- Cost curves -------------------------------------------------------------------------

local CostCurve = methods.class("cost_curve", "a cost curve (imbill.cost_curve)", "c")
M.CostCurve = CostCurve

local function assumptions_of(ax)
  local out = {}
  for _, k in ipairs(METRICS) do
    if ax.follow[k] then
      out[#out + 1] = string.format("%s = round_half_up(%s x %s)", UNIT[k], ax.follow_text[k], UNIT[ax.metric])
    end
  end
  return out
end

-- the most cents an amount of money holds (int64 micro-units)
local MONEY_MAX_CENTS = 922337203685477
local curve -- the walk of cost_curve, below it

--- One edition's exact cost curve along one usage metric.
--
-- `imbill.cost_curve{ edition = "2021/pro", metric = "dau", from =, to =, usage = {...},`
-- `follow = { mau = "3" } }`: the exact cost curve over [from, to] as the points
-- where it changes: `{ { at =, total = money, kind = "step"|"linear" }, ... }`;
-- `"linear"` where a per-user charge makes it rise by the user up to the next
-- point.  For a free edition past a cap the curve ends at the last value it
-- serves, and `cap` = `{ at =, measure =, max =, why = }` (nil: no cap in range).
-- @tab p the curve:
-- @tparam string|table|Edition p.edition `"book/edition"`, `{ book =, edition = }` or an edition
-- @string[opt="dau"] p.metric the axis: `"dau"`, `"mau"` or `"groups"`
-- @int[opt=0] p.from the first value of the axis
-- @int[opt=1000000] p.to the last value
-- @tab[opt] p.usage the metrics held fixed: `{ peak_dau =, groups_peak =, mau = }`
-- @tab[opt] p.follow metrics that follow the axis by a ratio: `{ mau = "3" }`
-- @int[opt=100000] p.max_points the most points the curve may have
-- @treturn CostCurve the curve
-- @raise `imbill.cost_curve: to: the range has too many steps`, an edition billed by a measure
-- the axis does not give (`edition`), or the axis' errors (`metric`, `from`, `to`, `follow.mau`),
-- or a total beyond what money holds (`to`)
function M.cost_curve(p)
  local FN = "imbill.cost_curve"
  p = check.fields(FN, p, { edition = true, metric = true, from = true, to = true, usage = true, follow = true,
                        max_points = true })
  -- a followed count past what this runtime holds exactly (2^53 on LuaJIT)
  -- fails deep in the core
  return check.blamed(FN, "from, to", "the usage values along this range are beyond what this runtime computes "
    .. "exactly", curve, FN, p)
end

function curve(FN, p)
  local _, ed, name = books.resolve(FN, "edition", p.edition)
  local ax = breakeven.axis(FN, p, 1000000)
  breakeven.need_measures(FN, ax, ed, name, "edition")
  local max_points = check.count(FN, "max_points", p.max_points or 100000)
  local cap = breakeven.cap(ax, ed, name)
  local last = cap and cap.at or ax.to
  local function cost(x)
    local c = check.call(FN, core.month_total, ed.rate, breakeven.value(ax, "dau", x), breakeven.value(ax, "groups", x),
      breakeven.value(ax, "mau", x))
    -- a total beyond what money holds is said here, for the axis value that
    -- reaches it (it failed later in money.from_cents, naming that function)
    if c > MONEY_MAX_CENTS then
      check.fail(FN, "to", string.format("at %s %s the total of %s (%s cents) is more than money holds"
        .. " (at most 9223372036854.775807)", breakeven.FIELD[ax.metric], fmt.int(x), name, fmt.int(c)), p.to)
    end
    return c
  end
  -- per-user lines that rise from x on
  local function rising(x)
    if ed.free then return false end
    for _, k in ipairs(METRICS) do
      local ch, r = ed.charges[k], breakeven.ratio(ax, k)
      if ch and ch.block == 1 and r and breakeven.value(ax, k, x) > ch.free then return true end
    end
    return false
  end
  local function next_cut(x)
    local e = last + 1
    if ed.free then return e end
    for _, k in ipairs(METRICS) do
      local ch, r = ed.charges[k], breakeven.ratio(ax, k)
      if ch and ch.block > 0 and r and not (ch.block == 1 and breakeven.value(ax, k, x) > ch.free) then
        local n = core.charge_next_step(ed.rate, k, x, r)
        if n and n < e then e = n end
      end
    end
    return e
  end
  -- refused before the walk when the walk could not finish
  if breakeven.min_steps(ax, ed, last) > max_points then check.fail(FN, "to", "the range has too many steps", p.to) end
  local pts = {}
  local x, n = ax.from, 0
  while x <= last do
    local c = cost(x)
    local prev = pts[#pts]
    if not prev or prev.cents ~= c or rising(x) ~= prev.rising then
      pts[#pts + 1] = { at = x, cents = c, rising = rising(x) }
    end
    n = n + 1
    if n > max_points then check.fail(FN, "to", "the range has too many steps", p.to) end
    x = next_cut(x)
  end
  if #pts > 0 and pts[#pts].at ~= last then pts[#pts + 1] = { at = last, cents = cost(last) } end
  local out = methods.new(CostCurve, { edition = name, metric = ax.metric, from = ax.from, to = ax.to, points = {},
                                      cap = cap, follow = ax.follow_text, assumptions = assumptions_of(ax) })
  for i, pt in ipairs(pts) do
    out.points[i] = { at = pt.at, total = money.from_cents(pt.cents),
                      kind = (pt.rising and i < #pts) and "linear" or "step" }
  end
  -- the exact total anywhere on the curve (nil past a cap)
  out.cost = function(v)
    if v > last then return nil end
    return money.from_cents(cost(v))
  end
  return out
end

--- A cost curve, made by `cost_curve`.  Its fields: `edition` (the
-- `"book/edition"` name), `metric`, `from`, `to`,
-- `points` (`{ at =, total = money, kind = "step" | "linear" }`, in order), `cap` (or nil), `follow`,
-- `assumptions`, and `cost`, a function: `c.cost(v)` is the exact total at
-- axis value `v` as money (nil past a cap).
--
-- `tostring(c)` is an aligned table of the points.  The methods check their receiver.
-- @type CostCurve

function CostCurve:__tostring()
  local rows = {}
  for i, pt in ipairs(self.points) do rows[i] = { fmt.int(pt.at), money.pretty(pt.total), pt.kind } end
  local head = string.format("%s by %s, %s .. %s", self.edition, self.metric, fmt.int(self.from), fmt.int(self.to))
  for _, a in ipairs(self.assumptions) do head = head .. "\nassumed: " .. a end
  local out = head .. "\n" .. fmt.table({ "from " .. (UNIT[self.metric] or self.metric), "total", "then" }, rows,
    { true, true, false })
  if self.cap then out = out .. "\n" .. self.cap.why .. ": the curve ends at " .. fmt.int(self.cap.at) end
  return out
end

--- Plain data for JSON: amounts as exact decimal strings.
-- @treturn table `{ kind = "cost_curve", currency =, edition =, metric =, from =, to =, points =, cap =,`
-- `follow =, assumptions = }`
function CostCurve:data()
  local pts = result.array()
  for k, pt in ipairs(self.points) do pts[k] = { at = pt.at, total = tostring(pt.total), kind = pt.kind } end
  return { kind = "cost_curve", currency = result.CURRENCY, edition = self.edition, metric = self.metric,
           from = self.from, to = self.to, points = pts, cap = breakeven.cap_data(self.cap),
           follow = result.object(self.follow), assumptions = result.strings(self.assumptions) }
end

--- RFC 4180 CSV, one record per point (`edition,from,total,kind`), and one for
-- the cap when the curve has one.
-- @treturn string the CSV text, with its header
function CostCurve:csv()
  local rows = {}
  for i, pt in ipairs(self.points) do rows[i] = { self.edition, pt.at, tostring(pt.total), pt.kind } end
  if self.cap then rows[#rows + 1] = { self.edition, self.cap.at + 1, "", "cap: " .. self.cap.why } end
  return result.csv({ "edition", "from", "total", "kind" }, rows)
end

--- Break-even tables.
-- @section breakeven_tables

-- Break-even tables ---------------------------------------------------------------------

local BreakevenTable = methods.class("breakeven_table", "a break-even table (imbill.breakeven_table)", "bt")
M.BreakevenTable = BreakevenTable

local function name_of(pr, c)
  if c == "a" then return pr.a elseif c == "b" then return pr.b end
  return c
end

--- The break-even points of every pair of editions, and each edition's cost curve.
--
-- `imbill.breakeven_table{ editions = { "2021/pro", "2021/ultimate", "2022/standard" } (or`
-- `book = "2021": its editions), metric = "dau", from =, to =, usage = {...},`
-- `follow = { mau = "3" } }`: for each pair of editions the exact points where the
-- cheaper side changes (imbill.breakeven), the break-even points among them
-- (`crossings`: where the totals cross, never where a free edition stops
-- serving: those are `caps`), and each edition's cost curve.
-- @tab p the table:
-- @tparam[opt] {string,...} p.editions at least two editions (`"book/edition"`, tables or editions), or
-- @string[opt="2021"] p.book a book, all of whose editions are compared
-- @string[opt="dau"] p.metric the axis: `"dau"`, `"mau"` or `"groups"`
-- @int[opt=0] p.from the first value of the axis
-- @int[opt=1000000] p.to the last value
-- @tab[opt] p.usage the metrics held fixed
-- @tab[opt] p.follow metrics that follow the axis by a ratio: `{ mau = "3" }`
-- @bool[opt=true] p.curves `false` leaves the cost curves out
-- @treturn BreakevenTable the table
-- @raise `imbill.breakeven_table: editions: needs at least two editions`, `editions[i]: ...`,
-- `book: unknown price book`, or the errors of `cost_curve` and `imbill.breakeven`
function M.breakeven_table(p)
  local FN = "imbill.breakeven_table"
  p = check.fields(FN, p, { editions = true, book = true, metric = true, from = true, to = true, usage = true,
                        follow = true, curves = true })
  local eds = p.editions
  if eds == nil then
    local book = books.get_as(FN, "book", p.book or "2021")
    eds = {}
    -- the editions themselves: a user book's name resolves to no built-in
    for _, id in ipairs(book:editions()) do eds[#eds + 1] = book:edition(id) end
  end
  check.table(FN, "editions", eds)
  if check.len(eds) < 2 then check.fail(FN, "editions", "needs at least two editions", check.len(eds)) end
  local names, refs, objs, seen = {}, {}, {}, {}
  for i, e in check.items(check.list(FN, "editions", eds, "editions")) do
    local b, ed, n = books.resolve(FN, "editions[" .. i .. "]", e)
    books.once(FN, "editions", seen, i, n, e)
    names[i], objs[i] = n, ed
    refs[i] = b and { book = b, edition = ed.id } or e
  end
  local lo, hi = p.from or 0, p.to or 1000000
  -- each edition's measures checked once, under the name the caller gave it
  local ax = breakeven.axis(FN, p, 1000000)
  for i, ed in ipairs(objs) do breakeven.need_measures(FN, ax, ed, names[i], "editions[" .. i .. "]") end
  local t = methods.new(BreakevenTable, { metric = p.metric or "dau", from = lo, to = hi, editions = names,
                                          pairs = {}, curves = {}, usage = p.usage })
  -- the curves first: a range too wide for them is refused before the pairs
  -- walk it
  if p.curves ~= false then
    for i in ipairs(names) do
      t.curves[i] = check.call(FN, M.cost_curve, { edition = refs[i], metric = p.metric, from = lo, to = hi,
                                                   usage = p.usage, follow = p.follow })
    end
  end
  for i = 1, #names do
    for j = i + 1, #names do
      local be = check.call(FN, breakeven.breakeven, { a = refs[i], b = refs[j], metric = p.metric, usage = p.usage,
        from = lo, to = hi, follow = p.follow })
      t.follow, t.assumptions = be.follow, be.assumptions
      local pr = { a = names[i], b = names[j], points = be.points, crossings = {}, caps = {}, breakeven = be }
      for k = 2, #be.points do
        local pt = be.points[k]
        local row = { at = pt.at, cheaper = name_of(pr, pt.cheaper), a_total = pt.a_total, b_total = pt.b_total,
                      note = pt.note }
        if pt.kind == "cap" then pr.caps[#pr.caps + 1] = row else pr.crossings[#pr.crossings + 1] = row end
      end
      pr.cheaper_at_start = name_of(pr, be.points[1].cheaper)
      pr.start_note = be.points[1].note
      t.pairs[#t.pairs + 1] = pr
    end
  end
  return t
end

--- A break-even table, made by `breakeven_table`.  Its fields: `metric`,
-- `from`, `to`, `editions` (their names), `pairs` (one per pair of editions:
-- `{ a =, b =, points =, crossings =, caps =, cheaper_at_start =, start_note =,`
-- `breakeven = }`, each crossing or cap `{ at =, cheaper =, a_total =, b_total =,`
-- `note = }`), `curves` (each edition's `CostCurve`), `follow`, `assumptions`.
--
-- `tostring(t)` is `t:table()`.  The methods check their receiver.
-- @type BreakevenTable

--- How many break-even points the table has (caps are not counted).
-- @treturn int the number of crossings over every pair
function BreakevenTable:crossing_count()
  local n = 0
  for _, pr in ipairs(self.pairs) do n = n + #pr.crossings end
  return n
end

local function total_text(m) return m and money.pretty(m) or "-" end

--- One line per change: "from 40,001 DAU on, 2021/ultimate is cheaper than 2021/pro".
-- @treturn string an aligned table: a, b, from, cheaper, the two totals (and a note
-- where an edition stops serving), then the assumptions
function BreakevenTable:table()
  local rows = {}
  for _, pr in ipairs(self.pairs) do
    local first = pr.points[1]
    rows[#rows + 1] = { pr.a, pr.b, fmt.int(self.from), pr.cheaper_at_start, total_text(first.a_total),
                        total_text(first.b_total), first.note or "" }
    for k = 2, #pr.points do
      local pt = pr.points[k]
      rows[#rows + 1] = { "", "", fmt.int(pt.at), name_of(pr, pt.cheaper), total_text(pt.a_total),
                          total_text(pt.b_total), pt.note or "" }
    end
  end
  local unit = UNIT[self.metric] or self.metric
  local header = { "a", "b", "from " .. unit, "cheaper", "a total", "b total" }
  -- a note column only where an edition stops serving
  for _, r in ipairs(rows) do if r[7] ~= "" then header[7] = "note" end end
  if not header[7] then for _, r in ipairs(rows) do r[7] = nil end end
  local out = fmt.table(header, rows, { false, false, true, false, true, true, false })
  for _, a in ipairs(self.assumptions or {}) do out = out .. "\nassumed: " .. a end
  return out
end
BreakevenTable.__tostring = BreakevenTable.table

--- Plain data for JSON: amounts as exact decimal strings.
-- @treturn table `{ kind = "breakeven_table", currency =, metric =, from =, to =, editions =, pairs =,`
-- `curves =, follow =, assumptions = }`
function BreakevenTable:data()
  local d = { kind = "breakeven_table", currency = result.CURRENCY, metric = self.metric, from = self.from,
              to = self.to, editions = result.strings(self.editions), pairs = result.array(),
              curves = result.array(), follow = result.object(self.follow),
              assumptions = result.strings(self.assumptions) }
  for i, pr in ipairs(self.pairs) do
    local pts, crossings = result.array(), result.array()
    for k, pt in ipairs(pr.points) do
      pts[k] = { at = pt.at, cheaper = name_of(pr, pt.cheaper), kind = pt.kind, a_total = result.money(pt.a_total),
                 b_total = result.money(pt.b_total), note = pt.note }
      if pt.kind == "crossing" then crossings[#crossings + 1] = pt.at end
    end
    d.pairs[i] = { a = pr.a, b = pr.b, cheaper_at_start = pr.cheaper_at_start, points = pts, crossings = crossings,
                   caps = { a = breakeven.cap_data(pr.breakeven.caps.a), b = breakeven.cap_data(pr.breakeven.caps.b) } }
  end
  for i, c in ipairs(self.curves) do d.curves[i] = c:data() end
  return d
end

--- RFC 4180 CSV, one record per point of every pair:
-- `a,b,from,cheaper,a_total,b_total,kind,note`.
-- @treturn string the CSV text, with its header
function BreakevenTable:csv()
  local rows = {}
  for _, pr in ipairs(self.pairs) do
    for _, pt in ipairs(pr.points) do
      rows[#rows + 1] = { pr.a, pr.b, pt.at, name_of(pr, pt.cheaper), result.money(pt.a_total),
                          result.money(pt.b_total), pt.kind, pt.note }
    end
  end
  return result.csv({ "a", "b", "from", "cheaper", "a_total", "b_total", "kind", "note" }, rows)
end

methods.seal(CostCurve)
methods.seal(BreakevenTable)

return M
