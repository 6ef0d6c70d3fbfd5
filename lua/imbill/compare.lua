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

--- imbill.compare{ month =, peak_dau | dau, groups_peak | groups, mau, quotas...,
--- needs = {features}, books = {names}, editions = {ids} }
function M.compare(p)
  local FN = "imbill.compare"
  check.fields(FN, p, COMPARE_FIELDS)
  local month = dates.month(p.month, "month")
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
  for _, e in ipairs(check.table(FN, "editions", p.editions or {})) do only[e] = true end
  local rows = setmetatable({}, Comparison)
  for i, b in ipairs(check.table(FN, "books", list)) do
    local ok, book = pcall(books.get, b)
    if not ok then check.fail(FN, "books[" .. i .. "]", "unknown price book", b) end
    for _, id in ipairs(book:editions()) do
      if next(only) == nil or only[id] or only[book.name .. "/" .. id] then
        local ed = book:edition(id)
        local inv = invoice.invoice { book = book, edition = id, month = p.month, peak_dau = p.peak_dau,
                                      dau = p.dau, groups_peak = p.groups_peak, groups = p.groups, mau = p.mau }
        local reasons = reasons_for(book, ed, p, month, p.books ~= nil, inv.usage)
        rows[#rows + 1] = { book = book.name, edition = id, total = inv.total, eligible = #reasons == 0,
                            reasons = reasons, monthly_fee = ed.monthly_fee }
      end
    end
  end
  if #rows == 0 then check.fail(FN, "editions", "no edition of the chosen books matches", p.editions) end
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
  for _, r in ipairs(rows) do if r.eligible then return r end end
  return nil
end

-- Break-even --------------------------------------------------------------

local function edition_of(FN, field, x)
  if type(x) == "string" then
    local b, e = x:match("^([^/]+)/(.+)$")
    if not b then check.fail(FN, field, "expected \"book/edition\" or { book =, edition = }", x) end
    x = { book = b, edition = e }
  end
  check.table(FN, field, x)
  local ok, book = pcall(books.get, x.book)
  if not ok then error(FN .. ": " .. field .. ".book: " .. tostring(book):gsub("^[^:]+: ", ""), 0) end
  local ok2, ed = pcall(book.edition, book, x.edition)
  if not ok2 then error(FN .. ": " .. field .. ".edition: " .. tostring(ed):gsub("^[^:]+: [^:]+: ", ""), 0) end
  return ed, book.name .. "/" .. ed.id
end

local METRICS = { dau = "dau", mau = "mau", groups = "groups" }

-- The values at which a charge changes slope or steps: within the pieces they
-- cut, a cost is constant or (block 1, per user) a rounded line, so the cost
-- difference of two editions is monotone and its sign changes can be found by
-- bisection on whole numbers: exact, no sampling.
local function breakpoints(ch, lo, hi, out)
  if not ch or ch.block == 0 then return end
  if ch.free >= lo and ch.free <= hi then out[#out + 1] = ch.free end
  if ch.block > 1 then
    local k = math.max(1, math.ceil((lo - ch.free) / ch.block))
    local x = ch.free + k * ch.block
    while x <= hi do
      out[#out + 1] = x
      x = x + ch.block
    end
  end
end

--- imbill.breakeven{ a =, b =, metric = "dau"|"mau"|"groups", usage = {...}, from =, to = }
-- returns { metric=, a=, b=, points = { { at =, cheaper = "a"|"b"|"equal", a_total=, b_total= } } }
-- where each point is the value from which on (up to the next point) `cheaper` holds.
function M.breakeven(p)
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
  if hi < lo then check.fail(FN, "to", "is below from", p.to) end

  local function cost(ed, x)
    base[metric] = x
    return core.month_total(ed.rate, base.dau, base.groups, base.mau)
  end
  local function sign(x)
    local d = cost(ea, x) - cost(eb, x)
    return d < 0 and -1 or (d > 0 and 1 or 0)
  end

  local cuts = {}
  breakpoints(ea.charges[metric], lo, hi, cuts)
  breakpoints(eb.charges[metric], lo, hi, cuts)
  cuts[#cuts + 1] = hi
  table.sort(cuts)

  local points = {}
  local function record(x, s)
    local ca, cb = cost(ea, x), cost(eb, x)
    points[#points + 1] = { at = x, cheaper = s < 0 and "a" or (s > 0 and "b" or "equal"),
                            a_total = money.from_cents(ca), b_total = money.from_cents(cb) }
  end
  local prev = sign(lo)
  record(lo, prev)
  local start = lo + 1
  for _, cut in ipairs(cuts) do
    if cut >= start then
      -- [start, cut] is one monotone piece
      local s0 = sign(start)
      if s0 ~= prev then record(start, s0) prev = s0 end
      while sign(cut) ~= prev do
        local l, r = start, cut -- sign(l) == prev, sign(r) ~= prev
        while r - l > 1 do
          local m = math.floor((l + r) / 2)
          if sign(m) == prev then l = m else r = m end
        end
        prev = sign(r)
        record(r, prev)
        start = r
      end
      start = cut + 1
    end
  end
  return { metric = metric, a = na, b = nb, from = lo, to = hi, points = points }
end

--- imbill.totals{ book =, edition =, peak_dau =, groups_peak =, mau = }: the fast
-- path; arrays (or a number for every scenario) in, integer cents out.
function M.totals(p, fast)
  local FN = "imbill.totals"
  check.fields(FN, p, { book = true, edition = true, peak_dau = true, groups_peak = true, mau = true })
  local ok, book = pcall(books.get, p.book or "2022")
  if not ok then error(FN .. ": book: " .. tostring(book):gsub("^[^:]+: [^:]+: ", ""), 0) end
  local ok2, ed = pcall(book.edition, book, p.edition)
  if not ok2 then error(FN .. ": edition: " .. tostring(ed):gsub("^[^:]+: [^:]+: ", ""), 0) end
  local f = fast or core.totals
  local ok3, out = pcall(f, ed.rate, p.peak_dau, p.groups_peak, p.mau)
  if not ok3 then error(FN .. ": " .. tostring(out), 0) end
  return out
end

return M
