--- Projections: a usage series priced month by month on every edition of
-- every price book, the best edition of each month, and the cheapest legal
-- path of edition changes (imbill.whatif.path).
--
-- Every amount is an invoice computed by imbill.invoice, so a projection and
-- a real bill can never drift apart; totals are exact sums of cents.  An
-- edition cannot serve a month (its cell is marked and carries the reasons)
-- when a quota, a feature or a free edition's cap says so, or when its price
-- book is not yet in force that month: such a price is a what-if.
--
-- `imbill.project` is `run` below.
-- @usage local s = imbill.series.read_csv("examples/data/usage_2021.csv")
-- local p = imbill.project{ usage = s, from = "2021-01", months = 12, books = { "2021" } }
-- print(p:table())
local check = require "imbill.internal.check"
local methods = require "imbill.internal.methods"
local money = require "imbill.internal.money"
local core = require "imbill.core"
local dates = require "imbill.internal.dates"
local fmt = require "imbill.internal.fmt"
local result = require "imbill.internal.result"
local books = require "imbill.book"
local invoice = require "imbill.bill.invoice"
local in_force = require "imbill.bill.in_force"
local input = require "imbill.whatif.input"
local path = require "imbill.whatif.path"

local M = {}

local function cents(m) return m:cents() end
local function m_of(c) return money.from_cents(c) end

-- Kept for callers of the module before the split (report/chart.lua asks it
-- for break-even tables): the usage reader lives in imbill.whatif.input, the
-- path in imbill.whatif.path, migration and curves in their own files.

--- A series from a series, a CSV path, or CSV text (`{ csv = text }`):
-- how every what-if function reads its `usage` (imbill.whatif.input).
-- @string FN the function an error names
-- @tparam Series|string|table u a series, a usage history file's path, or `{ csv = text }`
-- @tab[opt] opts the CSV reader's options (`imbill.whatif.series.read_csv`)
-- @treturn Series the series
-- @raise `FN: usage: ...`, or the CSV reader's errors
-- @function usage_of
-- @local
M.usage_of = input.usage_of
--- The cheapest sequence of editions within one price book
-- (imbill.whatif.path): the path `run` puts in `projection.path`.
-- @tab q the priced months and candidates `run` builds
-- @treturn table `{ book =, total =, changes =, steps = {...}, note = }`
-- @function cheapest_path
-- @local
M.cheapest_path = path.cheapest
--- The same as `imbill.migration` (kept for callers of this module).
-- @tab p as `imbill.whatif.migration.migration` takes it
-- @treturn Migration the migration
-- @raise as `imbill.migration` does
function M.migration(p) return require("imbill.whatif.migration").migration(p) end
--- The same as `imbill.breakeven_table` (kept for callers of this module).
-- @tab p as `imbill.whatif.curve.breakeven_table` takes it
-- @treturn BreakevenTable the table
-- @raise as `imbill.breakeven_table` does
function M.breakeven_table(p) return require("imbill.whatif.curve").breakeven_table(p) end
--- The same as `imbill.cost_curve` (kept for callers of this module).
-- @tab p as `imbill.whatif.curve.cost_curve` takes it
-- @treturn CostCurve the curve
-- @raise as `imbill.cost_curve` does
function M.cost_curve(p) return require("imbill.whatif.curve").cost_curve(p) end

local Projection = methods.class("projection", "a projection (imbill.project)", "p")
M.Projection = Projection

local RUN_FIELDS = { usage = true, from = true, to = true, months = true, books = true, editions = true,
                     current = true, activated = true, needs = true, accounts = true, av_groups = true,
                     members_per_group = true, progress = true, csv = true, mau_per_dau = true }

--- A usage series priced month by month on every edition, with the best edition and the cheapest legal path.
--
-- `imbill.project{ usage = series | "history.csv", from = "YYYY-MM", to = | months =,`
-- `books = { "2021", ... } (default: the built-ins), editions = { "2021/pro", ... },`
-- `current = "2021/pro" (the edition in force before the horizon; default: a`
-- `new app, on no paid edition yet), activated = "YYYY-MM-DD" (the first paid`
-- `activation, default the 1st of the first month for a new app), needs =`
-- `{ features }, accounts =, av_groups =, members_per_group = (quota needs),`
-- `mau_per_dau = ratio (MAU = ratio x peak DAU, for a usage without MAU),`
-- `progress = function(done, total) }`
--
-- Every month is priced on every candidate edition, holding it all month
-- (and, in the activation month, with the activation); `rows` hold each
-- edition over the whole horizon, `best` each month's cheapest edition
-- alone, and `path` the cheapest legal sequence of editions.
-- @tab p the projection:
-- @tparam Series|string|table p.usage a series, a usage history file, or `{ csv = text }`
-- @string[opt] p.from the first month, `"YYYY-MM"` (default: the series' first)
-- @string[opt] p.to the last month, or
-- @int[opt] p.months the number of months
-- @tparam[opt] {string,...} p.books price books to consider (default: the built-ins)
-- @tparam[opt] {string,...} p.editions `"book/edition"` names to keep
-- @string[opt] p.current the edition in force before the horizon, `"book/edition"`
-- @string[opt] p.activated the first paid activation, `"YYYY-MM-DD"`, within the horizon
-- @tparam[opt] {string,...} p.needs features the app needs
-- @int[opt] p.accounts quota needs: `accounts`, `av_groups`, `members_per_group`
-- @tparam[opt] string|number p.mau_per_dau MAU as this ratio of the peak DAU
-- @func[opt] p.progress called as `progress(done, total)` after each month
-- @tab[opt] p.csv the CSV reader's options when `usage` is a file
-- @treturn Projection the projection
-- @raise an error naming the field that is wrong: `imbill.project: editions: no edition of`
-- `the chosen books matches`, `activated: is not within the horizon`, `current: ...`
function M.run(p)
  local FN = "imbill.project"
  p = check.fields(FN, p, RUN_FIELDS)
  if p.progress ~= nil and type(p.progress) ~= "function" then
    check.fail(FN, "progress", "expected a function(done, total)", p.progress)
  end
  local s = input.usage_of(FN, p.usage, p.csv)
  local months = input.horizon(FN, s, p)
  local bookobjs = input.book_list(FN, p.books)
  input.check_needs(FN, p)

  -- candidates, in book order then cheapest first
  local only
  if p.editions ~= nil then
    only = {}
    for i, e in check.items(check.list(FN, "editions", p.editions, "editions")) do
      local _, _, name = books.resolve(FN, "editions[" .. i .. "]", e)
      only[name] = true
    end
  end
  local cands = {}
  for _, book in ipairs(bookobjs) do
    for _, id in ipairs(book:editions()) do
      local name = book.name .. "/" .. id
      if not only or only[name] then
        cands[#cands + 1] = { book = book, ed = book:edition(id), name = name }
      end
    end
  end
  if #cands == 0 then check.fail(FN, "editions", "no edition of the chosen books matches", p.editions) end
  local assumptions
  s, assumptions = input.mau(FN, s, p.mau_per_dau, cands)

  local current, curbook
  if p.current ~= nil then
    curbook, current = books.resolve(FN, "current", p.current)
  end
  local paid_before = current ~= nil and not current.free
  local act_day
  if p.activated ~= nil then
    local d = check.call(FN, dates.day, p.activated, "activated")
    if paid_before then check.fail(FN, "activated", "the current edition " .. p.current .. " is paid already", p.activated) end
    if d < dates.month_first(months[1]) or d > dates.month_first(months[#months] + 1) - 1 then
      check.fail(FN, "activated", "is not within the horizon", p.activated)
    end
    act_day = d
  elseif not paid_before then
    act_day = dates.month_first(months[1])
  end
  local act_month = act_day and dates.month_of(act_day)
  local fixed_act = p.activated ~= nil
  local new_app = current == nil

  local proj = methods.new(Projection, { months = {}, rows = {}, best = {}, usage = {}, series = s, current = p.current,
                              activated = act_day and dates.format(act_day), books = {}, assumptions = assumptions,
                              notes = {} })
  for _, b in ipairs(bookobjs) do proj.books[#proj.books + 1] = b.name end

  -- price every month on every candidate: full month, and with the activation
  local full, act, reasons = {}, {}, {}
  for j, m in ipairs(months) do
    local month = dates.format_month(m)
    proj.months[j] = month
    local u, r = s:usage(m)
    proj.usage[j] = r
    input.coverage(proj.notes, r)
    local profile = input.profile(p, r)
    reasons[j], full[j], act[j] = {}, {}, {}
    for c, cand in ipairs(cands) do
      reasons[j][cand.name] = input.reasons(cand.book, cand.ed, m, profile, r)
      local base = { book = cand.book, edition = cand.ed.id, month = month, dau = u.dau, groups = u.groups,
                     peak_dau = u.peak_dau, groups_peak = u.groups_peak, mau = u.mau, covers = u.covers }
      full[j][c] = check.call(FN, invoice.invoice, base)
      local aday = (fixed_act and act_month == m and act_day) or (not fixed_act and not paid_before and
        dates.month_first(m))
      if aday and not cand.ed.free then
        base.activated = dates.format(aday)
        act[j][c] = check.call(FN, invoice.invoice, base)
      end
    end
    -- a month of invoices is Lua around C calls: the state's stop hook (a
    -- notebook's interrupt) is asked here, whichever way the caller came
    core.check_stop()
    if p.progress then p.progress(j, #months) end
  end

  -- holding each edition over the whole horizon
  for c, cand in ipairs(cands) do
    local row = { name = cand.name, book = cand.book.name, edition = cand.ed.id, months = {}, eligible = true,
                  legal = true, free = cand.ed.free }
    local total = 0
    -- holding a free edition after a paid one is a change back to free: the
    -- core's edition-change policy says whether the book allows it
    if current and paid_before and curbook == cand.book and cand.ed ~= current and
        core.change_check(cand.book.policy, { { edition = 1, free = current.free } }, nil,
          dates.month_first(months[1]), { edition = 2, free = cand.ed.free }) == "no_return" then
      row.legal = false
      row.note = string.format("price book %s does not allow going back to a free edition after %s", cand.book.name,
        current.id)
    end
    -- a new app starts on the edition in its first month on it: the book must be sold to new apps then
    local start = (act_month and not cand.ed.free) and math.max(act_month, months[1]) or months[1]
    local closed = new_app and in_force.closed(cand.book, start)
    if closed and row.legal then
      row.legal = false
      row.closed = true
      row.note = closed .. ": a new app cannot start on it in " .. dates.format_month(start)
    end
    for j, m in ipairs(months) do
      local inv, note
      if act_month and m < act_month and not cand.ed.free then
        inv, note = nil, "not activated yet"
      elseif act_month == m and act[j][c] then
        inv, note = act[j][c], "activated " .. dates.format(act_day)
      else
        inv = full[j][c]
      end
      local cell = { month = proj.months[j], invoice = inv, note = note, reasons = reasons[j][cand.name],
                     notes = inv and inv.notes or {} }
      cell.total = inv and inv.total or money.ZERO
      cell.eligible = #cell.reasons == 0
      if not cell.eligible then row.eligible = false end
      total = total + cents(cell.total)
      row.months[j] = cell
    end
    row.total = m_of(total)
    proj.rows[c] = row
  end

  -- the best edition of each month, alone (full-month prices), among those
  -- the app may hold that month: no return to a free edition the book
  -- forbids, and for a new app a book sold to new apps when it started, or
  -- in that month (a later book it can move to)
  for j, m in ipairs(months) do
    local best
    for c, cand in ipairs(cands) do
      local row = proj.rows[c]
      local may = row.legal or (row.closed and not in_force.closed(cand.book, m))
      if #reasons[j][cand.name] == 0 and may then
        local t = cents(full[j][c].total)
        if not best or t < best.cents then best = { cents = t, name = cand.name, c = c } end
      end
    end
    proj.best[j] = best and { month = proj.months[j], name = best.name, total = m_of(best.cents) }
      or { month = proj.months[j], name = nil, total = nil, note = "no edition can serve this month" }
  end

  -- the cheapest legal path, per price book
  proj.paths = {}
  local best_path
  for _, book in ipairs(bookobjs) do
    if not curbook or curbook == book then
      local closed = {}
      if new_app then
        for j, m in ipairs(months) do closed[j] = in_force.closed(book, m) end
      end
      local pth = path.cheapest {
        months = months, cands = cands, book = book, full = full, act = act, reasons = reasons,
        current = curbook == book and current or nil, paid_before = paid_before,
        act_month = fixed_act and act_month or nil, month_names = proj.months, closed = closed,
      }
      proj.paths[#proj.paths + 1] = pth
      if pth.total and (not best_path or pth.total < best_path.total) then best_path = pth end
    end
  end
  proj.path = best_path
  return proj
end

--- A projection, made by `run`.  Its fields: `months` (`"YYYY-MM"`),
-- `rows` (one per edition: `{ name =, book =, edition =, total =, eligible =,`
-- `legal =, free =, note =, months = { cell, ... } }`, a cell `{ month =,`
-- `total =, invoice =, eligible =, reasons =, note =, notes = }`), `best`
-- (each month's cheapest edition, `{ month =, name =, total = }`), `path`
-- (the cheapest legal path, or nil: `{ book =, total =, changes =, steps = }`)
-- and `paths` (one per book), `usage` (each month's summary), `books`,
-- `current`, `activated`, `assumptions` and `notes`.
--
-- `tostring(p)` is `p:table()`.  The methods check their receiver
-- (`p.table()` raises `projection:table: self: expected a projection ...`).
-- @type Projection

--- The row of one edition.
-- @string name its `"book/edition"` name
-- @treturn ?table the row, nil when the projection has none of that name
function Projection:row(name)
  for _, r in ipairs(self.rows) do if r.name == name then return r end end
  return nil
end

--- The cheapest edition held over the whole horizon (eligible and legal).
-- @treturn ?table its row, nil when no edition can serve every month
function Projection:cheapest()
  local best
  for _, r in ipairs(self.rows) do
    if r.eligible and r.legal and (not best or r.total < best.total) then best = r end
  end
  return best
end

local function cell_text(cell)
  if not cell.invoice then return "-" end
  return money.pretty(cell.total) .. (cell.eligible and "" or "*")
end

--- An aligned text table: one line per month, one column per edition, then
-- the best edition of the month and the cheapest path.
-- @treturn string the table, with the totals, the cheapest single edition, the path,
-- and the assumptions and notes
function Projection:table()
  local header = { "month" }
  local right = { false }
  for _, r in ipairs(self.rows) do header[#header + 1] = r.name right[#right + 1] = true end
  header[#header + 1] = "best (on it all month)"
  right[#right + 1] = false
  header[#header + 1] = "path"
  right[#right + 1] = false
  local rows = {}
  local steps = self.path and self.path.steps or {}
  for j, month in ipairs(self.months) do
    local line = { month }
    for _, r in ipairs(self.rows) do line[#line + 1] = cell_text(r.months[j]) end
    local b = self.best[j]
    line[#line + 1] = b.name and (b.name .. " " .. money.pretty(b.total)) or "none"
    local st = steps[j]
    line[#line + 1] = st and ((st.name or "-") .. (st.change and (" (" .. st.change .. ")") or "")) or ""
    rows[#rows + 1] = line
  end
  local tot = { "total" }
  for _, r in ipairs(self.rows) do
    tot[#tot + 1] = money.pretty(r.total) .. ((r.eligible and r.legal) and "" or "*")
  end
  tot[#tot + 1] = ""
  tot[#tot + 1] = self.path and money.pretty(self.path.total) or ""
  rows[#rows + 1] = tot
  local out = { fmt.table(header, rows, right) }
  -- the key to the marks, when the table has one
  local marked = false
  for _, line in ipairs(rows) do
    for k = 2, #self.rows + 1 do marked = marked or line[k]:sub(-1) == "*" end
  end
  if marked then
    out[#out + 1] = "* cannot serve every month (limits, features, caps, or a price book not yet in force) or not a"
      .. " legal choice; see --json for reasons"
  end
  -- why a row is no legal choice: a whole-horizon reason its month cells,
  -- which can each be served, do not show (one line per reason)
  local why, order = {}, {}
  for _, r in ipairs(self.rows) do
    if not r.legal and r.note then
      if not why[r.note] then why[r.note] = {} order[#order + 1] = r.note end
      local names = why[r.note]
      names[#names + 1] = r.name
    end
  end
  for _, note in ipairs(order) do
    out[#out + 1] = string.format("not a legal choice (%s): %s", table.concat(why[note], ", "), note)
  end
  local ch = self:cheapest()
  if ch then
    out[#out + 1] = string.format("cheapest single edition: %s, %s USD", ch.name, money.pretty(ch.total))
  end
  if self.path then
    out[#out + 1] = string.format("cheapest legal path (%s): %s USD with %d change%s", self.path.book,
      money.pretty(self.path.total), self.path.changes, self.path.changes == 1 and "" or "s")
  else
    out[#out + 1] = "no legal path of editions can serve every month"
  end
  for _, a in ipairs(self.assumptions) do out[#out + 1] = "assumed: " .. a end
  for _, n in ipairs(self.notes) do out[#out + 1] = "note: " .. n end
  return table.concat(out, "\n")
end

Projection.__tostring = Projection.table

local function path_data(pth)
  local steps = result.array()
  for j, st in ipairs(pth.steps) do
    steps[j] = { month = st.month, edition = st.name, total = tostring(st.total), change = st.change }
  end
  return { book = pth.book, total = result.money(pth.total), changes = pth.changes, steps = steps, note = pth.note }
end

--- Plain data for JSON: amounts as exact decimal strings.
-- @treturn table `{ kind = "projection", currency =, months =, books =, current =, activated =,`
-- `editions =, best =, usage =, path =, paths =, cheapest =, assumptions =, notes = }`
function Projection:data()
  local d = { kind = "projection", currency = result.CURRENCY, months = result.strings(self.months),
              books = result.strings(self.books), current = self.current, activated = self.activated,
              editions = result.array(), best = result.array(), usage = result.array(), paths = result.array(),
              assumptions = result.strings(self.assumptions), notes = result.strings(self.notes) }
  for i, r in ipairs(self.rows) do
    local ms = result.array()
    for j, cell in ipairs(r.months) do
      ms[j] = { month = cell.month, total = tostring(cell.total), eligible = cell.eligible,
                reasons = result.strings(cell.reasons), note = cell.note, notes = result.strings(cell.notes) }
    end
    d.editions[i] = { name = r.name, book = r.book, edition = r.edition, total = tostring(r.total),
                      eligible = r.eligible, legal = r.legal, note = r.note, months = ms }
  end
  for j, b in ipairs(self.best) do
    d.best[j] = { month = b.month, edition = b.name, total = result.money(b.total), note = b.note }
  end
  if self.path then d.path = path_data(self.path) end
  for i, pth in ipairs(self.paths) do d.paths[i] = path_data(pth) end
  for j, r in ipairs(self.usage) do
    d.usage[j] = { month = r.month, days = r.days, complete = r.complete, peak_dau = r.peak_dau,
                   groups_peak = r.groups_peak, mau = r.mau, covers = { from = r.covers.from, to = r.covers.to } }
  end
  local ch = self:cheapest()
  d.cheapest = ch and { edition = ch.name, total = tostring(ch.total) } or nil
  return d
end

--- CSV rows: month,edition,total,eligible,best,path,reasons (one line per
-- month and edition).
-- @treturn string the CSV text, with its header
function Projection:csv()
  local rows = {}
  for j, month in ipairs(self.months) do
    local pathname = self.path and self.path.steps[j] and self.path.steps[j].name
    for _, r in ipairs(self.rows) do
      local cell = r.months[j]
      rows[#rows + 1] = { month, r.name, tostring(cell.total), cell.eligible, self.best[j].name == r.name,
                          pathname == r.name, table.concat(cell.reasons, "; ") }
    end
  end
  return result.csv({ "month", "edition", "total", "eligible", "best", "path", "reasons" }, rows)
end

methods.seal(Projection)

return M
