--- Plan comparison and exact break-even (API.md "Comparison and batches").
local check = require "imbill.internal.check"
local money = require "imbill.internal.money"
local dates = require "imbill.internal.dates"
local books = require "imbill.book"
local invoice = require "imbill.bill.invoice"
local fmt = require "imbill.internal.fmt"

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

return M
