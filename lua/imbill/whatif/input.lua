--- The inputs every what-if run over a usage history shares (projection,
-- migration, shadow pricing): the usage series, the MAU it may lack, the
-- price books, the horizon of months, and the per-month reasons an edition
-- cannot serve.
local check = require "imbill.internal.check"
local errors = require "imbill.internal.errors"
local dates = require "imbill.internal.dates"
local int = require "imbill.internal.integer"
local books = require "imbill.book"
local compare = require "imbill.bill.compare"
local measure = require "imbill.bill.measure"
local series = require "imbill.whatif.series"
local fmt = require "imbill.internal.fmt"

local M = {}

--- A series from a series, a CSV path, or CSV text ({ csv = text }).
function M.usage_of(FN, u, opts)
  if series.is_series(u) then return u end
  if type(u) == "string" then return errors.call(FN, "usage", series.read_csv, u, opts) end
  -- read raw: an __index of the caller's neither runs nor makes up a csv field
  local csv = type(u) == "table" and rawget(u, "csv") or nil
  if type(csv) == "string" then return errors.call(FN, "usage", series.parse_csv, csv, opts) end
  check.fail(FN, "usage", "expected a series (imbill.series.build / read_csv) or a CSV path", u)
end

--- The series with the caller's stated MAU assumption (mau_per_dau: MAU =
-- round_half_up(ratio x the month's peak DAU)) applied, and the assumptions
-- the result must show.  `editions` are the editions to be priced: when one
-- of them is billed (or capped) by MAU and the usage has none, this refuses,
-- naming the missing input, rather than price MAU as 0.
function M.mau(FN, s, mau_per_dau, editions)
  if mau_per_dau ~= nil then s = s:with_mau_ratio(mau_per_dau, FN, "mau_per_dau") end
  local src, ratio = s:mau_source()
  local out = {}
  if src == "ratio" then
    out[1] = string.format("MAU = round_half_up(%s x the month's peak DAU)", int.ratio_text(ratio))
  elseif src == nil then
    for _, e in ipairs(editions) do
      local k, why = measure.missing(e.ed, { dau = true, mau = false }, e.name)
      if k then
        measure.raise_missing(FN, "usage", k, why, "give mau_per_dau (MAU = ratio x peak DAU), a mau column or"
          .. " mau_ratio in the usage, or leave out the editions billed by MAU")
      end
    end
  end
  return s, out
end

--- A price book from a name, a book or a table deriving one; an error names
-- fn and field, and keeps the field inside the book data that was wrong
-- ("shadow: editions.pro.monthly_fee: ...").
function M.book(FN, field, b)
  local ok, book = pcall(books.get, b)
  if ok then return book end
  local e = errors.rename(book, FN, field)
  local inner = errors.of(book).field
  -- "name" and "book" are the book's name given as text, which the field
  -- already is; in a table deriving a book, "name" is one of its fields and
  -- is kept ("shadow: name: expected a string", where it read "shadow:
  -- expected a string, got table")
  local own_name = type(b) ~= "table" and (inner == "name" or inner == "book")
  if inner and inner ~= "" and not own_name then e.msg = inner .. ": " .. e.msg end
  error(e, 0)
end

function M.book_list(FN, list)
  return books.list_as(FN, list or books.BUILTIN, M.book)
end

--- The horizon: month numbers from `from` (default the series' first month)
-- for `months` months or up to `to` (default the series' last month).
function M.horizon(FN, s, p, names)
  -- the caller's names for the two months (migration's are from_month and
  -- to_month: its from and to are editions)
  local F, T = names and names.from or "from", names and names.to or "to"
  local sm = s:month_numbers()
  local a, b = sm[1], sm[#sm]
  if p.from ~= nil then a = check.call(FN, dates.month, p.from, F) end
  if p.to ~= nil and p.months ~= nil then check.fail(FN, "months", "give " .. T .. " or months, not both", p.months) end
  if p.to ~= nil then
    b = check.call(FN, dates.month, p.to, T)
  elseif p.months ~= nil then
    local n = check.count(FN, "months", p.months)
    if n < 1 then check.fail(FN, "months", "must be at least 1", p.months) end
    -- checked before the last month is formatted: it may lie past year 9999
    if n > sm[#sm] - a + 1 then
      check.fail(FN, "months", string.format("the usage covers %s from %s (to %s)",
        fmt.count(math.max(0, sm[#sm] - a + 1), "month"),
        dates.format_month(a), s:months()[#sm]), p.months)
    end
    b = a + n - 1
  end
  if b < a then check.fail(FN, T, "is before " .. F, p.to) end
  if a < sm[1] or b > sm[#sm] then
    check.fail(FN, F, string.format("the horizon %s .. %s is not covered by the usage (%s .. %s)",
      dates.format_month(a), dates.format_month(b), s:months()[1], s:months()[#sm]), check.NOVALUE)
  end
  local out = {}
  for m = a, b do out[#out + 1] = m end
  return out
end

local function max_opt(a, b)
  if a == nil then return b end
  if b == nil then return a end
  return a > b and a or b
end

--- A month's needs: the run's quota and feature needs merged with the
-- series' columns (the month's summary r).
function M.profile(p, r)
  local set, list = {}, {}
  for _, src in ipairs { p.needs or {}, r.needs or {} } do
    for _, f in ipairs(src) do
      if not set[f] then set[f] = true list[#list + 1] = f end
    end
  end
  table.sort(list)
  return { needs = list, accounts = max_opt(p.accounts, r.accounts), av_groups = max_opt(p.av_groups, r.av_rooms),
           members_per_group = max_opt(p.members_per_group, r.members) }
end

--- Checks the quota and feature needs of a run.
function M.check_needs(FN, p)
  if p.needs ~= nil then series.feature_set(FN, "needs", p.needs) end
  check.opt_count(FN, "accounts", p.accounts)
  check.opt_count(FN, "av_groups", p.av_groups)
  check.opt_count(FN, "members_per_group", p.members_per_group)
end

--- Why edition `ed` of `book` cannot serve month m (a month number) with
-- summary r (series:month): compare's reasons, the one rule.
function M.reasons(book, ed, m, profile, r)
  return compare.reasons(book, ed, m, profile, { peak_dau = r.peak_dau, groups_peak = r.groups_peak, mau = r.mau })
end

--- The note for a month the usage covers in part ("2021-12: the usage
-- covers ..."), added to `list` once; r is the month's summary.
function M.coverage(list, r)
  if r.complete then return list end
  local line = r.month .. ": " .. measure.coverage_note(r.covers.from, r.covers.to, r.days, r.days_in_month)
  for _, x in ipairs(list) do if x == line then return list end end
  list[#list + 1] = line
  return list
end

return M
