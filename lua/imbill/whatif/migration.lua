--- Migration: the 2021 DAU plan against the 2022 MAU plan over a usage
-- history.  Migration cannot be undone, and it is possible only once the MAU
-- price book is in force: months before that are priced as what-ifs, marked,
-- and never recommended as the month to migrate.
--
-- `imbill.migration` is `migration` below.
-- @usage local s = imbill.series.read_csv("examples/data/usage_2022.csv")
-- print(imbill.migration{ usage = s, from = "2021/pro", to = "2022/standard" }:verdict())
local core = require "imbill.core"
local check = require "imbill.internal.check"
local methods = require "imbill.internal.methods"
local money = require "imbill.internal.money"
local dates = require "imbill.internal.dates"
local fmt = require "imbill.internal.fmt"
local result = require "imbill.internal.result"
local books = require "imbill.book"
local invoice = require "imbill.bill.invoice"
local in_force = require "imbill.bill.in_force"
local measure = require "imbill.bill.measure"
local input = require "imbill.whatif.input"

local M = {}

local function cents(m) return m:cents() end
local function m_of(c) return money.from_cents(c) end

local Migration = methods.class("migration", "a migration (imbill.migration)", "mig")
M.Migration = Migration

--- The warning every migration carries: moving to the MAU plan cannot be undone.
M.IRREVERSIBLE = "Migration to the MAU plan cannot be undone: once an app moves to the MAU-based"
  .. " price book it can never return to the DAU-based plan."

local function without(list, x)
  local out = {}
  for _, v in ipairs(list) do if v ~= x then out[#out + 1] = v end end
  return out
end

--- The DAU plan against the MAU plan over a usage history, month by month, with a verdict.
--
-- `imbill.migration{ usage =, from = "2021/pro", to = "2022/standard" (default: the`
-- `cheapest edition of the MAU book that serves every month it is in force),`
-- `from_month =, months = | to_month =, needs = {...}, mau_per_dau = ratio }`
--
-- Month by month: the DAU plan, the MAU plan, the saving (DAU - MAU), the
-- cumulative saving of migrating in the first month of the horizon in which
-- the MAU book is in force (`migrate_from`); the month from which migration
-- pays off (the cumulative saving is positive from then to the end), the
-- total saving, and the best month to migrate (never one before the book).
-- @tab p the migration:
-- @tparam Series|string|table p.usage a series with MAU (a `mau` column or a ratio), a file, or `{ csv = text }`
-- @string[opt="2021/pro"] p.from the DAU-billed edition, `"book/edition"`
-- @string[opt] p.to the MAU-billed edition (default: as above)
-- @string[opt] p.from_month the first month, `"YYYY-MM"`
-- @string[opt] p.to_month the last month, or
-- @int[opt] p.months the number of months
-- @tparam[opt] {string,...} p.needs features the app needs
-- @tparam[opt] string|number p.mau_per_dau MAU as this ratio of the peak DAU, for a usage without MAU
-- @func[opt] p.progress called as `progress(done, total)` after each month
-- @tab[opt] p.csv the CSV reader's options when `usage` is a file
-- @treturn Migration the migration
-- @raise an error naming the field that is wrong: `imbill.migration: usage: the MAU plan bills`
-- `monthly active users: the history needs a mau column ...`, `from: is not a DAU-billed edition`,
-- `to: no edition of price book 2022 can serve every month`
function M.migration(p)
  local FN = "imbill.migration"
  p = check.fields(FN, p, { usage = true, from = true, to = true, from_month = true, to_month = true, months = true,
                        needs = true, csv = true, progress = true, mau_per_dau = true })
  local s = input.usage_of(FN, p.usage, p.csv)
  if not s:has_mau() and p.mau_per_dau == nil then
    measure.raise_missing(FN, "usage", "mau", "the MAU plan bills monthly active users", "the history needs a mau"
      .. " column (or give mau_per_dau here, or mau_ratio when reading or building it)")
  end
  local months = input.horizon(FN, s, { from = p.from_month, to = p.to_month, months = p.months },
    { from = "from_month", to = "to_month" })
  input.check_needs(FN, p)
  local fbook, fed, fname = books.resolve(FN, "from", p.from or "2021/pro")
  if not fbook then check.fail(FN, "from", "give the edition as \"book/edition\"", fname) end
  local tbook, ted, tname
  if p.to ~= nil then
    tbook, ted, tname = books.resolve(FN, "to", p.to)
    if not tbook then check.fail(FN, "to", "give the edition as \"book/edition\"", tname) end
  else
    tbook = books.get("2022")
  end
  if fed.charges.dau == nil and not fed.free then
    check.fail(FN, "from", "is not a DAU-billed edition", p.from)
  end
  -- the question is the move to the MAU plan: a DAU-billed to (2021/ultimate)
  -- was priced as a migration and carried its warning
  if ted and ((not ted.free and ted.charges.mau == nil) or (ted.free and ted.limits.free_mau == nil)) then
    check.fail(FN, "to", "is not an MAU-billed edition (the MAU plan is price book 2022's)", p.to)
  end
  local candidates = {}
  if ted then candidates = { ted } else
    for _, id in ipairs(tbook:editions()) do candidates[#candidates + 1] = tbook:edition(id) end
  end
  local eds = { { ed = fed, name = fname } }
  for _, e in ipairs(candidates) do eds[#eds + 1] = { ed = e, name = tbook.name .. "/" .. e.id } end
  local assumptions
  s, assumptions = input.mau(FN, s, p.mau_per_dau, eds)

  local per, notes, first_in_force = {}, {}, nil
  for j, m in ipairs(months) do
    local month = dates.format_month(m)
    local u, r = s:usage(m)
    input.coverage(notes, r)
    local profile = input.profile(p, r)
    local before = in_force.before(tbook, m)
    if not before and not first_in_force then first_in_force = j end
    local function price(book, ed)
      return check.call(FN, invoice.invoice, { book = book, edition = ed.id, month = month, dau = u.dau,
        groups = u.groups, peak_dau = u.peak_dau, groups_peak = u.groups_peak, mau = u.mau, covers = u.covers })
    end
    local row = { month = month, usage = r, dau_invoice = price(fbook, fed),
                  dau_reasons = input.reasons(fbook, fed, m, profile, r), mau_invoices = {}, mau_reasons = {},
                  serves = {}, what_if = before ~= nil }
    -- the edition the app is on must serve the month: past a free edition's
    -- caps its 0.00 is no price, and every saving against it would be wrong
    local fwhy = without(row.dau_reasons, in_force.before(fbook, m))[1]
    if fwhy then
      check.fail(FN, "from", fname .. " cannot serve " .. month .. " (" .. fwhy .. "), so it is no price to compare with",
        p.from or fname)
    end
    for _, e in ipairs(candidates) do
      local n = tbook.name .. "/" .. e.id
      row.mau_invoices[n] = price(tbook, e)
      row.mau_reasons[n] = input.reasons(tbook, e, m, profile, r)
      row.serves[n] = #without(row.mau_reasons[n], before) == 0
    end
    per[j] = row
    -- the state's stop hook (a notebook's interrupt), as a projection's months ask it
    core.check_stop()
    if p.progress then p.progress(j, #months) end
  end
  -- the months that decide: those the MAU book is in force in (all of them,
  -- as a what-if, when it is in force in none)
  local k0 = first_in_force
  local decide_from = k0 or 1
  if ted then
    -- as for the default edition: the MAU edition must serve every month it
    -- would be migrated to (a free one past its caps prices 0.00 and would
    -- be recommended, which the app could never run on)
    for j = decide_from, #per do
      if not per[j].serves[tname] then
        local before = in_force.before(tbook, months[j])
        check.fail(FN, "to", tname .. " cannot serve " .. per[j].month .. " ("
          .. without(per[j].mau_reasons[tname], before)[1] .. ")", p.to)
      end
    end
  else
    local best
    for _, e in ipairs(candidates) do
      local n, total, ok = tbook.name .. "/" .. e.id, 0, true
      for j = decide_from, #per do
        total = total + cents(per[j].mau_invoices[n].total)
        if not per[j].serves[n] then ok = false end
      end
      if ok and (not best or total < best.total) then best = { total = total, ed = e, name = n } end
    end
    if not best then
      check.fail(FN, "to", "no edition of price book " .. tbook.name .. " can serve every month", check.NOVALUE)
    end
    tname = best.name
  end

  local mig = methods.new(Migration, { from = fname, to = tname, rows = {}, irreversible = true, warning = M.IRREVERSIBLE,
                             assumptions = assumptions, notes = notes, book = tbook.name, book_from = tbook.from,
                             migrate_from = k0 and per[k0].month or nil, what_if = k0 == nil })
  local cum, tdau, tmau, diff = 0, 0, 0, 0
  for j, row in ipairs(per) do
    local a, b = cents(row.dau_invoice.total), cents(row.mau_invoices[tname].total)
    if j >= decide_from then
      cum = cum + (a - b)
      diff = diff + (a - b)
    end
    tdau, tmau = tdau + a, tmau + b
    mig.rows[j] = { month = row.month, dau_plan = m_of(a), mau_plan = m_of(b), saving = m_of(a - b),
                    cumulative = m_of(cum), cheaper = a < b and "dau" or (b < a and "mau" or "equal"),
                    dau_reasons = row.dau_reasons, mau_reasons = row.mau_reasons[tname],
                    peak_dau = row.usage.peak_dau, mau = row.usage.mau, what_if = row.what_if }
  end
  mig.dau_total, mig.mau_total, mig.difference = m_of(tdau), m_of(tmau), m_of(diff)
  -- the saving column's sum over every month, what-ifs included (the table's total line)
  mig.horizon_difference = m_of(tdau - tmau)
  mig.months_migrated = #per - decide_from + 1
  if k0 then
    -- pays off from: the first month after which the cumulative saving stays > 0
    local from
    for j = #mig.rows, k0, -1 do
      if mig.rows[j].cumulative > money.ZERO then from = j else break end
    end
    mig.pays_off_from = from and mig.rows[from].month or nil
    -- best month to migrate (or never): DAU plan before, MAU plan from then on
    local before, after = 0, tmau
    for k = 1, k0 - 1 do
      before = before + cents(mig.rows[k].dau_plan)
      after = after - cents(mig.rows[k].mau_plan)
    end
    local bestk, bestcost = nil, tdau
    for k = k0, #mig.rows do
      local cost = before + after
      if cost < bestcost then bestk, bestcost = k, cost end
      before = before + cents(mig.rows[k].dau_plan)
      after = after - cents(mig.rows[k].mau_plan)
    end
    mig.best_month = bestk and mig.rows[bestk].month or nil
    mig.best_saving = m_of(tdau - bestcost)
  else
    mig.best_saving = money.ZERO
  end
  return mig
end

--- A migration, made by `migration`.  Its fields: `from`, `to` (the two
-- editions), `rows` (one per month: `{ month =, peak_dau =, mau =, dau_plan =,`
-- `mau_plan =, saving =, cumulative =, cheaper = "dau" | "mau" | "equal",`
-- `what_if =, dau_reasons =, mau_reasons = }`), `dau_total`, `mau_total`,
-- `difference` (the saving from `migrate_from` on), `horizon_difference`,
-- `migrate_from`, `months_migrated`, `pays_off_from`, `best_month`,
-- `best_saving`, `what_if` (the MAU book is in force in no month of the
-- horizon), `irreversible = true`, `warning`, `assumptions`, `notes`.
--
-- `tostring(mig)` is `mig:table()`.  The methods check their receiver.
-- @type Migration

--- The verdict in sentences: what migrating saves or costs, from when it
-- pays off, the best month to migrate, and the warning that it cannot be
-- undone.
-- @treturn string the sentences, one a line
function Migration:verdict()
  local lines = {}
  local first = self.rows[1].month
  if self.what_if then
    lines[#lines + 1] = string.format("Price book %s is not in force in any month of this horizon (it starts %s): the"
      .. " MAU plan's prices are what-ifs, and no month to migrate can be recommended.", self.book, self.book_from)
  elseif self.migrate_from ~= first then
    lines[#lines + 1] = string.format("Price book %s starts %s: the MAU plan's prices before %s are what-ifs, and"
      .. " migration is possible from %s on.", self.book, self.book_from, self.migrate_from, self.migrate_from)
  end
  local when = self.migrate_from == first and "at the start" or ("in " .. (self.migrate_from or first))
  local n = self.months_migrated
  if self.what_if then
    -- no month can be migrated: the difference is what the MAU plan would
    -- have cost, not a saving anyone can make
    local d = self.difference
    if d == money.ZERO then
      lines[#lines + 1] = string.format("At these what-if prices, %s would have cost the same as %s over %s.", self.to,
        self.from, fmt.count(n, "month"))
    else
      lines[#lines + 1] = string.format("At these what-if prices, %s would have cost %s USD %s than %s over %s.",
        self.to, money.pretty(d > money.ZERO and d or (money.ZERO - d)), d > money.ZERO and "less" or "more", self.from,
        fmt.count(n, "month"))
    end
  elseif self.difference > money.ZERO then
    lines[#lines + 1] = string.format("Migrating to %s %s saves %s USD over %s.", self.to, when,
      money.pretty(self.difference), fmt.count(n, "month"))
    if when == "at the start" then
      lines[#lines] = string.format("Migrating to %s at the start saves %s USD over %s (%s on %s against %s on"
        .. " %s).", self.to, money.pretty(self.difference), fmt.count(n, "month"), money.pretty(self.mau_total), self.to,
        money.pretty(self.dau_total), self.from)
    end
  elseif self.difference < money.ZERO then
    lines[#lines + 1] = string.format("Migrating to %s %s costs %s USD more over %s.", self.to, when,
      money.pretty(money.ZERO - self.difference), fmt.count(n, "month"))
    if when == "at the start" then
      lines[#lines] = string.format("Migrating to %s at the start costs %s USD more over %s (%s against %s on"
        .. " %s).", self.to, money.pretty(money.ZERO - self.difference), fmt.count(n, "month"), money.pretty(self.mau_total),
        money.pretty(self.dau_total), self.from)
    end
  else
    lines[#lines + 1] = string.format("Migrating to %s costs the same as staying on %s.", self.to, self.from)
  end
  if self.what_if then -- luacheck: ignore 542
    -- nothing to recommend
  elseif self.pays_off_from then
    lines[#lines + 1] = "Migration pays off from " .. self.pays_off_from
      .. " (the cumulative saving stays positive from then on)."
  else
    lines[#lines + 1] = "Migration does not pay off within the horizon."
  end
  if self.best_month then
    lines[#lines + 1] = string.format("Best month to migrate: %s (saves %s USD against never migrating).",
      self.best_month, money.pretty(self.best_saving))
  elseif not self.what_if then
    lines[#lines + 1] = "Best choice within the horizon: do not migrate."
  end
  for _, a in ipairs(self.assumptions) do lines[#lines + 1] = "Assumed: " .. a .. "." end
  for _, nt in ipairs(self.notes) do lines[#lines + 1] = "Note: " .. nt .. "." end
  lines[#lines + 1] = "WARNING: " .. self.warning
  return table.concat(lines, "\n")
end

--- An aligned table, one line per month (`*` marks a what-if price), then
-- the totals and the verdict.
-- @treturn string the table and the verdict
function Migration:table()
  local rows = {}
  for _, r in ipairs(self.rows) do
    rows[#rows + 1] = { r.month .. (r.what_if and "*" or ""), fmt.int(r.peak_dau), r.mau and fmt.int(r.mau) or "-",
                        money.pretty(r.dau_plan), money.pretty(r.mau_plan), money.pretty(r.saving),
                        money.pretty(r.cumulative), r.cheaper }
  end
  rows[#rows + 1] = { "total", "", "", money.pretty(self.dau_total), money.pretty(self.mau_total),
                      money.pretty(self.horizon_difference), "", "" }
  local out = fmt.table({ "month", "peak DAU", "MAU", self.from, self.to, "saving", "cumulative", "cheaper" }, rows,
    { false, true, true, true, true, true, true, false })
  if self.migrate_from ~= self.rows[1].month then
    out = out .. "\n* price book " .. self.book .. " not yet in force: a what-if price"
  end
  return out .. "\n" .. self:verdict()
end
Migration.__tostring = Migration.table

--- Plain data for JSON: amounts as exact decimal strings.
-- @treturn table `{ kind = "migration", currency =, from =, to =, rows =, dau_total =, mau_total =,`
-- `difference =, horizon_difference =, migrate_from =, months_migrated =, what_if =, pays_off_from =,`
-- `best_month =, best_saving =, irreversible = true, warning =, assumptions =, notes = }`
function Migration:data()
  local rows = result.array()
  for j, r in ipairs(self.rows) do
    rows[j] = { month = r.month, peak_dau = r.peak_dau, mau = r.mau, dau_plan = tostring(r.dau_plan),
                mau_plan = tostring(r.mau_plan), saving = tostring(r.saving), cumulative = tostring(r.cumulative),
                cheaper = r.cheaper, what_if = r.what_if, dau_reasons = result.strings(r.dau_reasons),
                mau_reasons = result.strings(r.mau_reasons) }
  end
  return { kind = "migration", currency = result.CURRENCY, from = self.from, to = self.to, rows = rows,
           dau_total = tostring(self.dau_total), mau_total = tostring(self.mau_total),
           difference = tostring(self.difference), horizon_difference = tostring(self.horizon_difference),
           migrate_from = self.migrate_from, months_migrated = self.months_migrated, what_if = self.what_if,
           pays_off_from = self.pays_off_from, best_month = self.best_month, best_saving = tostring(self.best_saving),
           irreversible = true, warning = self.warning, assumptions = result.strings(self.assumptions),
           notes = result.strings(self.notes) }
end

--- RFC 4180 CSV, one record per month:
-- `month,peak_dau,mau,dau_plan,mau_plan,saving,cumulative,cheaper`.
-- @treturn string the CSV text, with its header
function Migration:csv()
  local rows = {}
  for i, r in ipairs(self.rows) do
    rows[i] = { r.month, r.peak_dau, r.mau, tostring(r.dau_plan), tostring(r.mau_plan), tostring(r.saving),
                tostring(r.cumulative), r.cheaper }
  end
  return result.csv({ "month", "peak_dau", "mau", "dau_plan", "mau_plan", "saving", "cumulative", "cheaper" }, rows)
end

methods.seal(Migration)

return M
