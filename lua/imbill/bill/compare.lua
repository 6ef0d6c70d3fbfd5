--- Plan comparison: one month's usage priced on every edition of every price
-- book, with the reasons an edition cannot serve it.  The reasons are one
-- rule, `M.reasons`, which projections and migrations use too.
--
-- `imbill.compare` is `compare` below and `imbill.best` is `best`.
-- @usage local rows = imbill.compare{ month = "2021-03", peak_dau = 25000, groups_peak = 250000,
--                              needs = { "local_search" } }
-- print(imbill.best(rows).book .. "/" .. imbill.best(rows).edition)  --> 2020/flagship
local core = require "imbill.core"
local check = require "imbill.internal.check"
local errors = require "imbill.internal.errors"
local methods = require "imbill.internal.methods"
local money = require "imbill.internal.money"
local dates = require "imbill.internal.dates"
local fmt = require "imbill.internal.fmt"
local result = require "imbill.internal.result"
local books = require "imbill.book"
local invoice = require "imbill.bill.invoice"
local in_force = require "imbill.bill.in_force"
local measure = require "imbill.bill.measure"
local caps = require "imbill.bill.caps"
local int = require "imbill.internal.integer"

local M = {}

-- Profile fields that are quotas rather than billed usage.
local QUOTAS = {
  accounts = "accounts", av_groups = "av_groups", non_av_groups = "non_av_groups",
  groups_per_user = "groups_per_user", friends_per_user = "friends_per_user",
  daily_net_groups = "daily_net_groups",
}
M.QUOTAS = QUOTAS

local USAGE_FIELDS = { "peak_dau", "dau", "groups_peak", "groups", "mau", "covers" }

local COMPARE_FIELDS = {
  month = true, peak_dau = true, dau = true, groups_peak = true, groups = true, mau = true,
  needs = true, books = true, editions = true, members_per_group = true, mau_per_dau = true, usage = true,
  covers = true,
}
for k in pairs(QUOTAS) do COMPARE_FIELDS[k] = true end

local function max_members(ed)
  local best = 0
  for g in pairs(books.NON_AV) do
    local l = ed:members_limit(g)
    if l == nil then return nil end
    if l > best then best = l end
  end
  return best
end

--- Why `ed` (of `book`) cannot serve a month: a sorted list of reasons, empty
-- when it can.  `month` is a month number; `profile` holds the quota needs
-- (`accounts`, `av_groups`, ..., `members_per_group`) and `needs` (features); `usage`
-- the billed peaks `{ peak_dau =, groups_peak =, mau = }`.  A book not yet in
-- force is always a reason; a book no longer sold to new apps is one when
-- `opts.new_app` is true.
-- @tparam Book book the price book
-- @tparam Edition ed one of its editions
-- @int month a month number (`year * 12 + month - 1`)
-- @tab profile quota needs by limit name, `members_per_group`, and `needs` (feature names)
-- @tab usage the billed peaks `{ peak_dau =, groups_peak =, mau = }`
-- @tab[opt] opts `{ new_app = true }`: a book no longer sold to new apps is a reason too
-- @treturn {string,...} the reasons, sorted; empty when the edition can serve the month
-- @local
function M.reasons(book, ed, month, profile, usage, opts)
  local r = {}
  local why = (opts and opts.new_app) and in_force.closed(book, month) or in_force.before(book, month)
  if why then r[#r + 1] = why end
  for field, limit in pairs(QUOTAS) do
    local need, max = profile[field], ed.limits[limit]
    if need ~= nil and max ~= nil and need > max then
      r[#r + 1] = string.format("%s %s over the limit of %s", field:gsub("_", " "), fmt.int(need), fmt.int(max))
    end
  end
  if profile.members_per_group ~= nil then
    local max = max_members(ed)
    if max and profile.members_per_group > max then
      r[#r + 1] = string.format("members per group %s over the limit of %s", fmt.int(profile.members_per_group),
        fmt.int(max))
    end
  end
  -- needs are a set, as a usage history's features are: a feature named
  -- twice is one reason, where "lacks local_search; lacks local_search" was told
  local told = {}
  for _, f in check.items(profile.needs or {}) do
    if not ed:supports(f) and not told[f] then
      told[f] = true
      r[#r + 1] = "lacks " .. f
    end
  end
  for _, x in ipairs(caps.reasons(ed, usage)) do r[#r + 1] = x end
  table.sort(r)
  return r
end

local Comparison = methods.class("comparison", "a comparison (imbill.compare)", "rows")
M.Comparison = Comparison

--- A comparison, made by `compare`: an array of rows, cheapest first.  Each
-- row is `{ book =, edition =, month =, total = money or nil, priced =,`
-- `eligible =, reasons = {...}, notes = {...}, monthly_fee = }`; a row is
-- eligible when it has no reasons, and unpriced (`total` nil,
-- `priced = false`) when the usage lacks the measure the edition is billed by.  Rows
-- sort priced first, then by total, eligible first, then by book and
-- edition.  The comparison also has `month`, `assumptions` (a MAU taken
-- from `mau_per_dau`) and `notes`.
--
-- `tostring(rows)` is an aligned table (`#`, book, edition, total, eligible,
-- why not).  The methods check their receiver: `rows.data()` raises
-- `comparison:data: self: expected a comparison (imbill.compare) ...`.
-- @type Comparison

function Comparison:__tostring()
  local rows = {}
  for i, r in ipairs(self) do
    rows[i] = { tostring(i), r.book, r.edition, r.total and money.pretty(r.total) or "-", r.eligible and "yes" or "no",
                table.concat(r.reasons, "; ") }
  end
  local out = fmt.table({ "#", "book", "edition", "total", "eligible", "why not" }, rows,
    { true, false, false, true, false, false })
  for _, a in ipairs(self.assumptions or {}) do out = out .. "\nassumed: " .. a end
  for _, n in ipairs(self.notes or {}) do out = out .. "\nnote: " .. n end
  return out
end

local function row_data(r)
  return { book = r.book, edition = r.edition, month = r.month, currency = result.CURRENCY, priced = r.priced,
           total = result.money(r.total), total_cents = r.total and r.total:cents() or nil, eligible = r.eligible,
           reasons = result.strings(r.reasons), notes = result.strings(r.notes),
           monthly_fee = tostring(r.monthly_fee) }
end

--- Plain data: an array of rows (strings for money, integers for cents,
-- booleans), ready for JSON as it is.  An unpriced row has no total.
-- @treturn {table,...} one `{ book =, edition =, month =, currency =, priced =, total =, total_cents =,`
-- `eligible =, reasons =, notes =, monthly_fee = }` per row, in order
function Comparison:data()
  local out = result.array()
  for i, r in ipairs(self) do out[i] = row_data(r) end
  return out
end

--- RFC 4180 CSV, one record per row: `rank,book,edition,total,eligible,reasons,notes`.
-- @treturn string the CSV text, with its header
function Comparison:csv()
  local rows = {}
  for i, r in ipairs(self) do
    rows[i] = { i, r.book, r.edition, result.money(r.total), r.eligible, table.concat(r.reasons, "; "),
                table.concat(r.notes, "; ") }
  end
  return result.csv({ "rank", "book", "edition", "total", "eligible", "reasons", "notes" }, rows)
end

-- The usage of `p`, from a series (usage = s) or from its own fields.
local function usage_of(FN, p, month)
  if p.usage == nil then return p end
  local s = p.usage
  if type(s) ~= "table" or type(s.usage) ~= "function" or type(s.month) ~= "function" then
    check.fail(FN, "usage", "expected a series (imbill.series.build / read_csv)", s)
  end
  for _, f in ipairs(USAGE_FIELDS) do
    if p[f] ~= nil then check.fail(FN, f, "give usage (a series) or " .. f .. ", not both", p[f]) end
  end
  local u, r = check.call(FN, s.usage, s, month)
  -- a copy, not a proxy: the invoice reads its argument raw (check.raw)
  local q = {}
  for k, v in next, p do q[k] = v end
  for _, f in ipairs(USAGE_FIELDS) do q[f] = u[f] end
  local function max_opt(a, b)
    if a == nil then return b end
    if b == nil then return a end
    return a > b and a or b
  end
  q.accounts = max_opt(p.accounts, r.accounts)
  q.av_groups = max_opt(p.av_groups, r.av_rooms)
  q.members_per_group = max_opt(p.members_per_group, r.members)
  if r.needs then
    local set, list = {}, {}
    for _, src in ipairs { p.needs or {}, r.needs } do
      for _, f in check.items(src) do if not set[f] then set[f], list[#list + 1] = true, f end end
    end
    q.needs = list
  end
  return q
end

local function peak_of(FN, p)
  if p.peak_dau ~= nil then return check.count(FN, "peak_dau", p.peak_dau) end
  local best = 0
  for i, v in check.items(check.table(FN, "dau", p.dau)) do
    v = check.count(FN, "dau[" .. i .. "]", v)
    if v > best then best = v end
  end
  return best
end

--- Comparing editions.
-- @section comparing

--- One month's usage priced on every edition of every price book, cheapest first.
--
-- `imbill.compare{ month =, peak_dau | dau, groups_peak | groups, mau, quotas...,`
-- `needs = {features}, books = {names}, editions = {ids}, mau_per_dau = ratio,`
-- `usage = series, covers = { from =, to = } }`
--
-- An edition whose billed user measure the usage lacks (MAU for book 2022,
-- peak DAU for books 2020 and 2021) is left unpriced (`total` nil,
-- `priced = false`) with the reason, unless `mau_per_dau` states
-- MAU = `round_half_up(ratio x peak DAU)`, which the result shows as an assumption.
--
-- With the built-in books (no `books` given), a book no longer sold to new
-- apps is a reason an edition cannot serve; a book not yet in force always is.
-- @tab p the month and its usage:
-- @string p.month `"YYYY-MM"`
-- @int[opt] p.peak_dau the month's peak DAU, or
-- @tparam[opt] {int,...} p.dau one value per day
-- @int[opt] p.groups_peak the month's peak of existing groups, or
-- @tparam[opt] {int,...} p.groups one value per day
-- @int[opt] p.mau monthly active users
-- @tparam[opt] number|string p.mau_per_dau MAU as this ratio of the peak DAU (instead of `mau`)
-- @tparam[opt] Series p.usage a series to read the month's usage and needs from (instead of the fields above)
-- @int[opt] p.accounts quota needs: `accounts`, `av_groups`, `non_av_groups`, `groups_per_user`,
-- `friends_per_user`, `daily_net_groups`, `members_per_group` (whole numbers)
-- @tparam[opt] {string,...} p.needs features the app needs
-- @tparam[opt] {string,...} p.books the books to try (default: the built-ins)
-- @tparam[opt] {string,...} p.editions edition ids or `"book/edition"` names to keep
-- @tab[opt] p.covers `{ from =, to = }`: the days a partial usage covers
-- @treturn Comparison the rows, cheapest first
-- @raise an error naming the field that is wrong: an unknown feature
-- (`needs[2]`), a book (`books[1]`), an edition no chosen book has (`editions[1]`),
-- `mau` and `mau_per_dau` both given
function M.compare(p)
  local FN = "imbill.compare"
  p = check.fields(FN, p, COMPARE_FIELDS)
  local month = dates.month(p.month, "month", FN)
  p = usage_of(FN, p, p.month)
  -- the usage is checked here, as an invoice would: an unpriced row prices nothing
  for _, f in ipairs { "peak_dau", "groups_peak", "mau" } do check.opt_count(FN, f, p[f]) end
  local dim = dates.month_length(month)
  if p.peak_dau ~= nil and p.dau ~= nil then check.fail(FN, "dau", "give peak_dau or dau, not both", check.NOVALUE) end
  if p.groups_peak ~= nil and p.groups ~= nil then
    check.fail(FN, "groups", "give groups_peak or groups, not both", check.NOVALUE)
  end
  for _, f in ipairs { "dau", "groups" } do
    if p[f] ~= nil then
      for i, v in check.items(check.table(FN, f, p[f])) do check.count(FN, f .. "[" .. i .. "]", v) end
      -- as the invoice would say it, once, rather than from the first edition priced
      local n = check.len(p[f])
      if n ~= dim then
        check.fail(FN, f, string.format("needs one value per day of the month (%d), has %d", dim, n), check.NOVALUE)
      end
    end
  end
  for field in pairs(QUOTAS) do check.opt_count(FN, field, p[field]) end
  check.opt_count(FN, "members_per_group", p.members_per_group)
  for i, f in check.items(check.list(FN, "needs", p.needs or {}, "feature names")) do
    local ok = false
    for _, known in ipairs(books.FEATURES) do ok = ok or known == f end
    if not ok then
      check.fail(FN, "needs[" .. i .. "]", "unknown feature (known: " .. table.concat(books.FEATURES, ", ") .. ")", f)
    end
  end
  local mau, assumptions = p.mau, {}
  if p.mau_per_dau ~= nil then
    if p.mau ~= nil then check.fail(FN, "mau_per_dau", "give mau or mau_per_dau, not both", p.mau_per_dau) end
    if p.peak_dau == nil and p.dau == nil then
      check.fail(FN, "mau_per_dau", "MAU from a ratio needs peak_dau or dau", p.mau_per_dau)
    end
    local r = int.mau_ratio(FN, "mau_per_dau", p.mau_per_dau)
    local peak = peak_of(FN, p)
    -- a ratio of 0 is MAU 0, as imbill.grid's mau_per_dau and a series'
    -- mau_ratio take it; the core's ratio starts at 1 ppm
    if r > 0 then
      local ok, v = pcall(core.follow_value, peak, r)
      if not ok then
        -- the core names its own operands (x, ppm): say it in the caller's terms
        local where = tostring(v):match("2%^53") and "this runtime holds exactly (2^53)" or "64 bits hold"
        check.fail(FN, "mau_per_dau", string.format("%s x peak DAU %s gives more MAU than %s",
          int.ratio_text(r), fmt.int(peak), where), p.mau_per_dau)
      end
      mau = v
    else
      mau = 0
    end
    assumptions[1] = string.format("MAU = round_half_up(%s x peak DAU %s) = %s", int.ratio_text(r), fmt.int(peak),
      fmt.int(mau))
  end
  local has = measure.given { peak_dau = p.peak_dau, dau = p.dau, mau = mau }
  local notes = {}
  if p.covers ~= nil then
    -- an invoice checks covers; the comparison says once what every row says
    local c = check.table(FN, "covers", p.covers)
    local a, b = dates.day(c.from, "covers.from", FN), dates.day(c.to, "covers.to", FN)
    if b - a + 1 < dim then notes[1] = measure.coverage_note(c.from, c.to, b - a + 1, dim) end
  end
  local list = p.books or books.BUILTIN
  local only = {}
  local wanted = check.list(FN, "editions", p.editions or {}, "edition ids or BOOK/EDITION")
  for i, e in check.items(wanted) do
    if type(e) ~= "string" then check.fail(FN, "editions[" .. i .. "]", "expected an edition id or BOOK/EDITION", e) end
    only[e] = true
  end
  local rows = methods.new(Comparison, { month = dates.format_month(month), assumptions = assumptions, notes = notes })
  for _, book in ipairs(books.list_as(FN, list)) do
    for _, id in ipairs(book:editions()) do
      if next(only) == nil or only[id] or only[book.name .. "/" .. id] then
        local ed = book:edition(id)
        local name = book.name .. "/" .. id
        local row = { book = book.name, edition = id, month = rows.month, monthly_fee = ed.monthly_fee, notes = {},
                      priced = true }
        local missing, why = measure.missing(ed, has, name)
        local usage = { peak_dau = 0, groups_peak = 0, mau = mau }
        if missing then
          row.priced = false
          usage.peak_dau = (p.peak_dau ~= nil or p.dau ~= nil) and peak_of(FN, p) or 0
        else
          local priced, inv = pcall(invoice.invoice, { book = book, edition = id, month = p.month,
            peak_dau = p.peak_dau, dau = p.dau, groups_peak = p.groups_peak, groups = p.groups, mau = mau,
            covers = p.covers })
          if not priced then
            -- the usage was checked above (covers is the invoice's to check):
            -- what fails here is this edition's pricing of it (a user book's
            -- prices too large), so it is named, as imbill.totals names the
            -- edition among several
            local e = errors.rename(inv, FN)
            if not tostring(e.field):match("^covers") then e.msg = "on " .. name .. ", " .. tostring(e.msg) end
            error(e, 0)
          end
          row.total, usage = inv.total, inv.usage
          for _, n in ipairs(inv.notes) do row.notes[#row.notes + 1] = n end
        end
        row.reasons = M.reasons(book, ed, month, p, usage, { new_app = p.books == nil })
        if missing then table.insert(row.reasons, 1, why) end
        row.eligible = #row.reasons == 0
        rows[#rows + 1] = row
      end
    end
  end
  for i, e in check.items(p.editions or {}) do
    local found = false
    for _, r in ipairs(rows) do found = found or r.edition == e or (r.book .. "/" .. r.edition) == e end
    if not found then check.fail(FN, "editions[" .. i .. "]", "no edition of the chosen books has this id", e) end
  end
  table.sort(rows, function(x, y)
    if x.priced ~= y.priced then return x.priced end
    if x.priced and x.total ~= y.total then return x.total < y.total end
    if x.eligible ~= y.eligible then return x.eligible end
    if x.book ~= y.book then return x.book < y.book end
    return x.edition < y.edition
  end)
  return rows
end

--- The first eligible row of a comparison (nil if none).
-- @tparam Comparison rows what `compare` returned (or an array of its rows)
-- @treturn ?table the cheapest row that can serve the usage
-- @raise `imbill.best: rows[i]: expected a row of imbill.compare` for an element that is not one
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

methods.seal(Comparison)

return M
