--- Plan comparison and exact break-even (API.md "Comparison and batches").
local core = require "imbill.core"
local check = require "imbill.check"
local money = require "imbill.money"
local dates = require "imbill.dates"
local books = require "imbill.book"
local invoice = require "imbill.invoice"
local fmt = require "imbill.fmt"

local M = {}

-- Profile fields that are quotas rather than billed usage.
local QUOTAS = {
  accounts = "accounts", av_groups = "av_groups", non_av_groups = "non_av_groups",
  groups_per_user = "groups_per_user", friends_per_user = "friends_per_user",
  daily_net_groups = "daily_net_groups",
}

local COMPARE_FIELDS = {
  month = true, peak_dau = true, dau = true, groups_peak = true, groups = true, mau = true,
  needs = true, books = true, editions = true, members_per_group = true,
}
for k in pairs(QUOTAS) do COMPARE_FIELDS[k] = true end

local function bills(book, kind)
  for _, id in ipairs(book:editions()) do
    if book:edition(id).charges[kind] then return true end
  end
  return false
end

local function max_members(ed)
  local best = 0
  for g in pairs(books.NON_AV) do
    local l = ed:members_limit(g)
    if l == nil then return nil end
    if l > best then best = l end
  end
  return best
end

local function reasons_for(book, ed, p, month, explicit_books, usage)
  local r = {}
  local first = dates.month_first(month)
  local last = first + dates.month_length(month) - 1
  if not explicit_books then
    if book.to_day and first > book.to_day then
      r[#r + 1] = string.format("price book %s was sold to new apps until %s", book.name, book.to)
    elseif last < book.from_day then
      r[#r + 1] = string.format("price book %s starts %s", book.name, book.from)
    end
  end
  if bills(book, "dau") and p.peak_dau == nil and p.dau == nil and p.mau ~= nil then
    r[#r + 1] = "the usage gives no DAU, and price book " .. book.name .. " bills peak DAU"
  end
  if bills(book, "mau") and p.mau == nil and (p.peak_dau ~= nil or p.dau ~= nil) then
    r[#r + 1] = "the usage gives no MAU, and price book " .. book.name .. " bills MAU"
  end
  for field, limit in pairs(QUOTAS) do
    local need, max = p[field], ed.limits[limit]
    if need ~= nil and max ~= nil and need > max then
      r[#r + 1] = string.format("%s %s over the limit of %s", field:gsub("_", " "), fmt.int(need), fmt.int(max))
    end
  end
  if p.members_per_group ~= nil then
    local max = max_members(ed)
    if max and p.members_per_group > max then
      r[#r + 1] = string.format("members per group %s over the limit of %s", fmt.int(p.members_per_group), fmt.int(max))
    end
  end
  for _, f in ipairs(p.needs or {}) do
    if not ed:supports(f) then r[#r + 1] = "lacks " .. f end
  end
  if ed.free then
    local l = ed.limits
    if l.free_dau and usage.peak_dau > l.free_dau then
      r[#r + 1] = string.format("peak DAU %s over the free edition's %s", fmt.int(usage.peak_dau), fmt.int(l.free_dau))
    end
    if l.free_mau and usage.mau > l.free_mau then
      r[#r + 1] = string.format("MAU %s over the free edition's %s", fmt.int(usage.mau), fmt.int(l.free_mau))
    end
    local cap = (l.non_av_groups and l.av_groups) and (l.non_av_groups + l.av_groups) or l.free_groups
    if cap and usage.groups_peak > cap then
      r[#r + 1] = string.format("groups %s over the free edition's cap of %s", fmt.int(usage.groups_peak), fmt.int(cap))
    end
  end
  table.sort(r)
  return r
end

local Comparison = {}
Comparison.__index = Comparison

function Comparison:__tostring()
  local rows = {}
  for i, r in ipairs(self) do
    rows[i] = { tostring(i), r.book, r.edition, money.pretty(r.total), r.eligible and "yes" or "no",
                table.concat(r.reasons, "; ") }
  end
  return fmt.table({ "#", "book", "edition", "total", "eligible", "why not" }, rows,
    { true, false, false, true, false, false })
end

--- Plain data (strings, integers, booleans), ready for JSON.
function Comparison:data()
  local out = {}
  for i, r in ipairs(self) do
    local reasons = {}
    for j, x in ipairs(r.reasons) do reasons[j] = x end
    out[i] = { book = r.book, edition = r.edition, total = tostring(r.total), total_cents = r.total:cents(),
               eligible = r.eligible, reasons = reasons, monthly_fee = tostring(r.monthly_fee) }
  end
  return out
end

--- imbill.compare{ month =, peak_dau | dau, groups_peak | groups, mau, quotas...,
--- needs = {features}, books = {names}, editions = {ids} }
function M.compare(p)
  local FN = "imbill.compare"
  check.fields(FN, p, COMPARE_FIELDS)
  local month = dates.month(p.month, "month", FN)
  for field in pairs(QUOTAS) do check.opt_count(FN, field, p[field]) end
  check.opt_count(FN, "members_per_group", p.members_per_group)
  for i, f in ipairs(check.table(FN, "needs", p.needs or {})) do
    local ok = false
    for _, known in ipairs(books.FEATURES) do ok = ok or known == f end
    if not ok then
      check.fail(FN, "needs[" .. i .. "]", "unknown feature (known: " .. table.concat(books.FEATURES, ", ") .. ")", f)
    end
  end
  local list = p.books or books.BUILTIN
  local only = {}
  local wanted = check.table(FN, "editions", p.editions or {})
  for i, e in ipairs(wanted) do
    if type(e) ~= "string" then check.fail(FN, "editions[" .. i .. "]", "expected an edition id or BOOK/EDITION", e) end
    only[e] = true
  end
  local rows = setmetatable({}, Comparison)
  for i, b in ipairs(check.table(FN, "books", list)) do
    local ok, book = pcall(books.get, b)
    if not ok then check.fail(FN, "books[" .. i .. "]", "unknown price book", b) end
    for _, id in ipairs(book:editions()) do
      if next(only) == nil or only[id] or only[book.name .. "/" .. id] then
        local ed = book:edition(id)
        local oki, inv = pcall(invoice.invoice, { book = book, edition = id, month = p.month, peak_dau = p.peak_dau,
                                      dau = p.dau, groups_peak = p.groups_peak, groups = p.groups, mau = p.mau })
        if not oki then error((tostring(inv):gsub("^imbill%.invoice:", FN .. ":")), 0) end
        local reasons = reasons_for(book, ed, p, month, p.books ~= nil, inv.usage)
        rows[#rows + 1] = { book = book.name, edition = id, total = inv.total, eligible = #reasons == 0,
                            reasons = reasons, monthly_fee = ed.monthly_fee }
      end
    end
  end
  for i, e in ipairs(p.editions or {}) do
    local found = false
    for _, r in ipairs(rows) do found = found or r.edition == e or (r.book .. "/" .. r.edition) == e end
    if not found then check.fail(FN, "editions[" .. i .. "]", "no edition of the chosen books has this id", e) end
  end
  table.sort(rows, function(x, y)
    if x.total ~= y.total then return x.total < y.total end
    if x.eligible ~= y.eligible then return x.eligible end
    if x.book ~= y.book then return x.book < y.book end
    return x.edition < y.edition
  end)
  return rows
end

--- The first eligible row of a comparison (nil if none).
function M.best(rows)
  local FN = "imbill.best"
  check.table(FN, "rows", rows)
  for i, r in ipairs(rows) do
    if type(r) ~= "table" then
      check.fail(FN, "rows[" .. i .. "]", "expected a row of imbill.compare", r)
    elseif type(r.eligible) ~= "boolean" then
      check.fail(FN, "rows[" .. i .. "]", "expected a row of imbill.compare: eligible is missing", check.NOVALUE)
    end
    if r.eligible then return r end
  end
  return nil
end

-- Break-even --------------------------------------------------------------

-- "imbill.x: " prefixes of nested errors, replaced by the caller's name.
local function reprefix(FN, field, msg)
  msg = tostring(msg):gsub("^[%w%.:_]+: ", "", 1)
  -- book:edition and imbill.book name their own field; ours says where it was given
  msg = msg:gsub("^[%w_]+: ", "", 1)
  return FN .. ": " .. field .. ": " .. msg
end

local function edition_of(FN, field, x)
  if type(x) == "string" then
    local b, e = x:match("^([^/]+)/(.+)$")
    if not b then check.fail(FN, field, "expected \"book/edition\" or { book =, edition = }", x) end
    x = { book = b, edition = e }
  end
  check.table(FN, field, x)
  local ok, book = pcall(books.get, x.book)
  if not ok then error(reprefix(FN, field .. ".book", book), 0) end
  local ok2, ed = pcall(book.edition, book, x.edition)
  if not ok2 then error(reprefix(FN, field .. ".edition", ed), 0) end
  return ed, book.name .. "/" .. ed.id
end

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
  local ea, na = edition_of(FN, "a", p.a)
  local eb, nb = edition_of(FN, "b", p.b)
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

--- imbill.totals{ book =, edition =, peak_dau =, groups_peak =, mau = }: the fast
-- path; arrays (or a number for every scenario) in, integer cents out.
function M.totals(p, fast)
  local FN = "imbill.totals"
  check.fields(FN, p, { book = true, edition = true, peak_dau = true, groups_peak = true, mau = true })
  local ok, book = pcall(books.get, p.book or "2022")
  if not ok then error(reprefix(FN, "book", book), 0) end
  local ok2, ed = pcall(book.edition, book, p.edition)
  if not ok2 then error(reprefix(FN, "edition", ed), 0) end
  -- An array with a hole has more than one valid length (#).  Where
  -- table.maxn exists (LuaJIT) a value past # shows the hole, so both
  -- runtimes refuse {1, nil, 3} instead of one pricing a single scenario.
  local maxn = rawget(table, "maxn")
  if maxn then
    for _, k in ipairs { "peak_dau", "groups_peak", "mau" } do
      local t = p[k]
      if type(t) == "table" and maxn(t) > #t then
        check.fail(FN, k .. "[" .. (#t + 1) .. "]", "expected a whole number >= 0", nil)
      end
    end
  end
  local f = fast or core.totals
  local ok3, out = pcall(f, ed.rate, p.peak_dau, p.groups_peak, p.mau)
  if not ok3 then error(FN .. ": " .. tostring(out), 0) end
  return out
end

return M
