--- Projections: a usage series priced month by month on every edition of
-- every price book, the best edition of each month, and the cheapest legal
-- path of edition changes (imbill.whatif.path).
--
-- Every amount is an invoice computed by imbill.invoice, so a projection and
-- a real bill can never drift apart; totals are exact sums of cents.  An
-- edition cannot serve a month (its cell is marked and carries the reasons)
-- when a quota, a feature or a free edition's cap says so, or when its price
-- book is not yet in force that month: such a price is a what-if.
local check = require "imbill.internal.check"
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
M.usage_of = input.usage_of
M.cheapest_path = path.cheapest
function M.migration(p) return require("imbill.whatif.migration").migration(p) end
function M.breakeven_table(p) return require("imbill.whatif.curve").breakeven_table(p) end
function M.cost_curve(p) return require("imbill.whatif.curve").cost_curve(p) end

local Projection = {}
Projection.__index = Projection
M.Projection = Projection

local RUN_FIELDS = { usage = true, from = true, to = true, months = true, books = true, editions = true,
                     current = true, activated = true, needs = true, accounts = true, av_groups = true,
                     members_per_group = true, progress = true, csv = true, mau_per_dau = true }

--- imbill.project{ usage = series | "history.csv", from = "YYYY-MM", to = | months =,
--   books = { "2021", ... } (default: the built-ins), editions = { "2021/pro", ... },
--   current = "2021/pro" (the edition in force before the horizon; default: a
--   new app, on no paid edition yet), activated = "YYYY-MM-DD" (the first paid
--   activation, default the 1st of the first month for a new app), needs =
--   { features }, accounts =, av_groups =, members_per_group = (quota needs),
--   mau_per_dau = ratio (MAU = ratio x peak DAU, for a usage without MAU),
--   progress = function(done, total) }
function M.run(p)
  local FN = "imbill.project"
  check.fields(FN, p, RUN_FIELDS)
  local s = input.usage_of(FN, p.usage, p.csv)
  local months = input.horizon(FN, s, p)
  local bookobjs = input.book_list(FN, p.books)
  input.check_needs(FN, p)

  -- candidates, in book order then cheapest first
  local only
  if p.editions ~= nil then
    only = {}
    for i, e in ipairs(check.table(FN, "editions", p.editions)) do
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

  local proj = setmetatable({ months = {}, rows = {}, best = {}, usage = {}, series = s, current = p.current,
                              activated = act_day and dates.format(act_day), books = {}, assumptions = assumptions,
                              notes = {} }, Projection)
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

  -- the best edition of each month, alone (full-month prices)
  for j in ipairs(months) do
    local best
    for c, cand in ipairs(cands) do
      if #reasons[j][cand.name] == 0 then
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

function Projection:row(name)
  for _, r in ipairs(self.rows) do if r.name == name then return r end end
  return nil
end

--- The cheapest edition held over the whole horizon (eligible and legal).
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
  out[#out + 1] = "* cannot serve every month (limits, features, caps, or a price book not yet in force) or not a"
    .. " legal choice; see --json for reasons"
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

return M
