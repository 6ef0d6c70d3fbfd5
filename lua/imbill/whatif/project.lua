--- Projections: a usage series priced month by month on every edition of
-- every price book, the best edition of each month, the cheapest legal path
-- of edition changes, the DAU-to-MAU migration question, and break-even
-- tables with full cost curves.
--
-- Every amount is an invoice computed by imbill.invoice (so a projection and
-- a real bill can never drift apart) or, for curves, by the C core's
-- month_total; totals are exact sums of cents.
local core = require "imbill.core"
local check = require "imbill.internal.check"
local money = require "imbill.internal.money"
local dates = require "imbill.internal.dates"
local books = require "imbill.book"
local invoice = require "imbill.bill.invoice"
local compare = require "imbill.bill.compare"
local breakeven = require "imbill.bill.breakeven"
local series = require "imbill.whatif.series"
local fmt = require "imbill.internal.fmt"

local M = {}

local INF = math.huge

local function cents(m) return m:cents() end
local function m_of(c) return money.from_cents(c) end

-- Inputs -----------------------------------------------------------------------

--- A series from a series, a CSV path, or CSV text ({ csv = text }).
function M.usage_of(FN, u, opts)
  if series.is_series(u) then return u end
  if type(u) == "string" then
    local ok, s = pcall(series.read_csv, u, opts)
    if not ok then error(FN .. ": usage: " .. series.clean(s):gsub("^imbill%.series%.read_csv: ", ""), 0) end
    return s
  end
  if type(u) == "table" and type(u.csv) == "string" then
    local ok, s = pcall(series.parse_csv, u.csv, opts)
    if not ok then error(FN .. ": usage: " .. series.clean(s):gsub("^imbill%.series%.read_csv: ", ""), 0) end
    return s
  end
  check.fail(FN, "usage", "expected a series (imbill.series.build / read_csv) or a CSV path", u)
end

local function book_list(FN, list)
  local out = {}
  for i, b in ipairs(check.table(FN, "books", list or books.BUILTIN)) do
    local ok, book = pcall(books.get, b)
    if not ok then check.fail(FN, "books[" .. i .. "]", "unknown price book (built-in: 2020, 2021, 2022)", b) end
    out[#out + 1] = book
  end
  if #out == 0 then check.fail(FN, "books", "needs at least one price book", check.NOVALUE) end
  return out
end

-- The horizon: month numbers from `from` (default the series' first month)
-- for `months` months or up to `to` (default the series' last month).
local function horizon(FN, s, p)
  local sm = s:month_numbers()
  local a, b = sm[1], sm[#sm]
  if p.from ~= nil then
    local ok, m = pcall(dates.month, p.from, "from")
    if not ok then error(FN .. ": " .. series.clean(m), 0) end
    a = m
  end
  if p.to ~= nil and p.months ~= nil then check.fail(FN, "months", "give to or months, not both", p.months) end
  if p.to ~= nil then
    local ok, m = pcall(dates.month, p.to, "to")
    if not ok then error(FN .. ": " .. series.clean(m), 0) end
    b = m
  elseif p.months ~= nil then
    local n = check.count(FN, "months", p.months)
    if n < 1 then check.fail(FN, "months", "must be at least 1", p.months) end
    b = a + n - 1
  end
  if b < a then check.fail(FN, "to", "is before from", p.to) end
  if a < sm[1] or b > sm[#sm] then
    check.fail(FN, "from", string.format("the horizon %s .. %s is not covered by the usage (%s .. %s)",
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

-- Needs of a month: the projection's needs merged with the series' columns.
local function needs_of(p, r)
  local set, list = {}, {}
  for _, src in ipairs { p.needs or {}, r.needs or {} } do
    for _, f in ipairs(src) do
      if not set[f] then set[f] = true list[#list + 1] = f end
    end
  end
  table.sort(list)
  return list
end

local function reasons_by_name(FN, month, r, p, bookobjs, names)
  local ok, rows = pcall(compare.compare, {
    month = month, peak_dau = r.peak_dau, groups_peak = r.groups_peak, mau = r.mau,
    books = bookobjs, editions = names, needs = needs_of(p, r),
    accounts = max_opt(p.accounts, r.accounts), av_groups = max_opt(p.av_groups, r.av_rooms),
    members_per_group = max_opt(p.members_per_group, r.members),
  })
  if not ok then error(FN .. ": " .. series.clean(rows):gsub("^imbill%.compare: ", ""), 0) end
  local out = {}
  for _, row in ipairs(rows) do out[row.book .. "/" .. row.edition] = row.reasons end
  return out
end

-- Projection -------------------------------------------------------------------

local Projection = {}
Projection.__index = Projection
M.Projection = Projection

local RUN_FIELDS = { usage = true, from = true, to = true, months = true, books = true, editions = true,
                     current = true, activated = true, needs = true, accounts = true, av_groups = true,
                     members_per_group = true, progress = true, csv = true }

--- imbill.project{ usage = series | "history.csv", from = "YYYY-MM", to = | months =,
--   books = { "2021", ... } (default: the built-ins), editions = { "2021/pro", ... },
--   current = "2021/pro" (the edition in force before the horizon; default: a
--   new app, on no paid edition yet), activated = "YYYY-MM-DD" (the first paid
--   activation, default the 1st of the first month for a new app), needs =
--   { features }, accounts =, av_groups =, members_per_group = (quota needs),
--   progress = function(done, total) }
function M.run(p)
  local FN = "imbill.project"
  check.fields(FN, p, RUN_FIELDS)
  local s = M.usage_of(FN, p.usage, p.csv)
  local months = horizon(FN, s, p)
  local bookobjs = book_list(FN, p.books)
  if p.needs ~= nil then series.feature_set(FN, "needs", p.needs) end
  check.opt_count(FN, "accounts", p.accounts)
  check.opt_count(FN, "av_groups", p.av_groups)
  check.opt_count(FN, "members_per_group", p.members_per_group)

  -- candidates, in book order then cheapest first
  local only
  if p.editions ~= nil then
    only = {}
    for i, e in ipairs(check.table(FN, "editions", p.editions)) do
      local _, _, name = books.resolve(FN, "editions[" .. i .. "]", e)
      only[name] = true
    end
  end
  local cands, names = {}, {}
  for _, book in ipairs(bookobjs) do
    for _, id in ipairs(book:editions()) do
      local name = book.name .. "/" .. id
      if not only or only[name] then
        cands[#cands + 1] = { book = book, ed = book:edition(id), name = name }
        names[#names + 1] = name
      end
    end
  end
  if #cands == 0 then check.fail(FN, "editions", "no edition of the chosen books matches", p.editions) end

  local current, curbook
  if p.current ~= nil then
    curbook, current = books.resolve(FN, "current", p.current)
  end
  local paid_before = current ~= nil and not current.free
  local act_day
  if p.activated ~= nil then
    local ok, d = pcall(dates.day, p.activated, "activated")
    if not ok then error(FN .. ": " .. series.clean(d), 0) end
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

  local proj = setmetatable({ months = {}, rows = {}, best = {}, usage = {}, series = s, current = p.current,
                              activated = act_day and dates.format(act_day), books = {} }, Projection)
  for _, b in ipairs(bookobjs) do proj.books[#proj.books + 1] = b.name end

  -- price every month on every candidate: full month, and with the activation
  local full, act, reasons = {}, {}, {}
  local total_steps = #months
  for j, m in ipairs(months) do
    local month = dates.format_month(m)
    proj.months[j] = month
    local u, r = s:usage(m)
    proj.usage[j] = r
    reasons[j] = reasons_by_name(FN, month, r, p, bookobjs, names)
    full[j], act[j] = {}, {}
    for c, cand in ipairs(cands) do
      local base = { book = cand.book, edition = cand.ed.id, month = month, dau = u.dau, groups = u.groups,
                     peak_dau = u.peak_dau, groups_peak = u.groups_peak, mau = u.mau or 0 }
      local ok, inv = pcall(invoice.invoice, base)
      if not ok then error(FN .. ": " .. month .. " " .. cand.name .. ": " .. series.clean(inv), 0) end
      full[j][c] = inv
      local aday = (fixed_act and act_month == m and act_day) or (not fixed_act and not paid_before and
        dates.month_first(m))
      if aday and not cand.ed.free then
        base.activated = dates.format(aday)
        local ok2, inv2 = pcall(invoice.invoice, base)
        if not ok2 then error(FN .. ": " .. month .. " " .. cand.name .. ": " .. series.clean(inv2), 0) end
        act[j][c] = inv2
      end
    end
    if p.progress then p.progress(j, total_steps) end
  end

  -- holding each edition over the whole horizon
  for c, cand in ipairs(cands) do
    local row = { name = cand.name, book = cand.book.name, edition = cand.ed.id, months = {}, eligible = true,
                  legal = true, free = cand.ed.free }
    local total = 0
    if current and cand.ed.free and paid_before and not cand.book.policy.return_to_free and curbook == cand.book then
      row.legal = false
      row.note = string.format("price book %s does not allow going back to a free edition after %s", cand.book.name,
        current.id)
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
      local cell = { month = proj.months[j], invoice = inv, note = note, reasons = reasons[j][cand.name] or {} }
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
      if #(reasons[j][cand.name] or {}) == 0 then
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
      local path = M.cheapest_path {
        months = months, cands = cands, book = book, full = full, act = act, reasons = reasons,
        current = curbook == book and current or nil, paid_before = paid_before,
        act_month = fixed_act and act_month or nil, month_names = proj.months,
      }
      proj.paths[#proj.paths + 1] = path
      if path.total and (not best_path or path.total < best_path.total) then best_path = path end
    end
  end
  proj.path = best_path
  return proj
end

--- The cheapest sequence of editions within one price book, changes taking
-- effect on the 1st of a month (so at most one change a month), never going
-- back to a free edition where the book forbids it, never on an edition that
-- cannot serve the month (limits, features).  The first paid edition of the
-- horizon pays its activation month as SPEC 4 says (free in 2020 and in 2021
-- before 2022-10-18, by day after).  Ties keep the fewer changes.
function M.cheapest_path(q)
  local book, cands = q.book, q.cands
  local idx = {}
  for c, cand in ipairs(cands) do if cand.book == book then idx[#idx + 1] = c end end
  local forbid = not book.policy.return_to_free
  -- state key: c .. ":" .. (paid_before and 1 or 0); c = 0 is "no paid edition yet"
  local states = {}
  local start_c = 0
  if q.current then
    for _, c in ipairs(idx) do if cands[c].ed == q.current then start_c = c end end
  end
  states[start_c .. ":" .. (q.paid_before and 1 or 0)] = { cost = 0, changes = 0, c = start_c, pb = q.paid_before,
                                                           trail = {} }
  local n = #q.months
  for j = 1, n do
    local m = q.months[j]
    local nxt = {}
    local function offer(key, st)
      local old = nxt[key]
      if not old or st.cost < old.cost or (st.cost == old.cost and st.changes < old.changes) then nxt[key] = st end
    end
    local keys = {}
    for k in pairs(states) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local st = states[k]
      if q.act_month and m < q.act_month then
        -- before the first paid activation the app is on no paid edition
        offer(k, { cost = st.cost, changes = st.changes, c = 0, pb = st.pb,
                   trail = { prev = st.trail, c = 0, j = j, cents = 0 } })
      else
        for _, c in ipairs(idx) do
          local ed = cands[c].ed
          local ok = #(q.reasons[j][cands[c].name] or {}) == 0
          if ed.free and st.pb and forbid then ok = false end
          -- a fixed first activation: that month starts a paid edition
          if q.act_month == m and (ed.free or st.pb) then ok = false end
          if not ed.free and not st.pb and not q.act[j][c] then ok = false end
          if ok then
            local inv = q.full[j][c]
            if not ed.free and not st.pb and q.act[j][c] then inv = q.act[j][c] end
            local t = cents(inv.total)
            local changed = st.c ~= c and st.c ~= 0 and 1 or 0
            if st.c == 0 and not ed.free then changed = 1 end
            local pb = st.pb or not ed.free
            offer(c .. ":" .. (pb and 1 or 0), { cost = st.cost + t, changes = st.changes + changed, c = c, pb = pb,
                                                  trail = { prev = st.trail, c = c, j = j, cents = t, inv = inv } })
          end
        end
      end
    end
    states = nxt
  end
  local best
  local keys = {}
  for k in pairs(states) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local st = states[k]
    if not best or st.cost < best.cost or (st.cost == best.cost and st.changes < best.changes) then best = st end
  end
  local path = { book = book.name, steps = {} }
  if not best or best.cost == INF then
    path.note = "no legal sequence of editions of price book " .. book.name .. " can serve every month"
    return path
  end
  local trail, rev = best.trail, {}
  while trail and trail.j do
    rev[#rev + 1] = trail
    trail = trail.prev
  end
  if #rev < n then
    path.note = "no legal sequence of editions of price book " .. book.name .. " can serve every month"
    return path
  end
  local prev = start_c
  for i = #rev, 1, -1 do
    local t = rev[i]
    local step = { month = q.month_names[t.j], name = t.c ~= 0 and cands[t.c].name or nil,
                   edition = t.c ~= 0 and cands[t.c].ed.id or nil, total = m_of(t.cents), invoice = t.inv }
    if t.c ~= prev then
      if t.c == 0 then step.change = nil
      elseif prev == 0 then
        step.change = cands[t.c].ed.free and ("start on " .. cands[t.c].ed.id) or ("activate " .. cands[t.c].ed.id)
      else step.change = cands[prev].ed.id .. " -> " .. cands[t.c].ed.id end
    end
    prev = t.c
    path.steps[#path.steps + 1] = step
  end
  path.total = m_of(best.cost)
  path.changes = 0
  for _, st in ipairs(path.steps) do if st.change and st.change:find("->", 1, true) then path.changes = path.changes + 1 end end
  return path
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
  out[#out + 1] = "* cannot serve every month (limits or features) or not a legal choice; see --json for reasons"
  local ch = self:cheapest()
  if ch then
    out[#out + 1] = string.format("cheapest single edition: %s, %s USD", ch.name, money.pretty(ch.total))
  end
  if self.path then
    out[#out + 1] = string.format("cheapest legal path (%s): %s USD with %d change%s", self.path.book,
      money.pretty(self.path.total), self.path.changes, self.path.changes == 1 and "" or "s")
  end
  return table.concat(out, "\n")
end

Projection.__tostring = Projection.table

--- Plain data for JSON: amounts as exact decimal strings.
function Projection:data()
  local d = { months = self.months, books = self.books, current = self.current, activated = self.activated,
              editions = {}, best = {}, usage = {} }
  for i, r in ipairs(self.rows) do
    local ms = {}
    for j, cell in ipairs(r.months) do
      ms[j] = { month = cell.month, total = tostring(cell.total), eligible = cell.eligible, reasons = cell.reasons,
                note = cell.note }
    end
    d.editions[i] = { name = r.name, book = r.book, edition = r.edition, total = tostring(r.total),
                      eligible = r.eligible, legal = r.legal, note = r.note, months = ms }
  end
  for j, b in ipairs(self.best) do
    d.best[j] = { month = b.month, edition = b.name, total = b.total and tostring(b.total) or nil, note = b.note }
  end
  local function path_data(pth)
    local steps = {}
    for j, st in ipairs(pth.steps) do
      steps[j] = { month = st.month, edition = st.name, total = tostring(st.total), change = st.change }
    end
    return { book = pth.book, total = pth.total and tostring(pth.total) or nil, changes = pth.changes, steps = steps,
             note = pth.note }
  end
  if self.path then d.path = path_data(self.path) end
  d.paths = {}
  for i, pth in ipairs(self.paths) do d.paths[i] = path_data(pth) end
  for j, r in ipairs(self.usage) do
    d.usage[j] = { month = r.month, days = r.days, complete = r.complete, peak_dau = r.peak_dau,
                   groups_peak = r.groups_peak, mau = r.mau }
  end
  local ch = self:cheapest()
  d.cheapest = ch and { edition = ch.name, total = tostring(ch.total) } or nil
  return d
end

--- CSV rows: month,edition,total,eligible,best,path (one line per month and edition).
function Projection:csv()
  local out = { "month,edition,total,eligible,best,path" }
  for j, month in ipairs(self.months) do
    local pathname = self.path and self.path.steps[j] and self.path.steps[j].name
    for _, r in ipairs(self.rows) do
      local cell = r.months[j]
      out[#out + 1] = table.concat({ month, r.name, tostring(cell.total), tostring(cell.eligible),
        tostring(self.best[j].name == r.name), tostring(pathname == r.name) }, ",")
    end
  end
  return table.concat(out, "\n") .. "\n"
end

-- Migration: the 2021 DAU plan against the 2022 MAU plan --------------------------

local Migration = {}
Migration.__index = Migration
M.Migration = Migration

M.IRREVERSIBLE = "Migration to the MAU plan cannot be undone: once an app moves to the MAU-based"
  .. " price book it can never return to the DAU-based plan."

--- imbill.migration{ usage =, from = "2021/pro", to = "2022/standard" (default: the
-- cheapest eligible edition of the MAU book over the horizon), from_month =, months =
-- | to_month =, needs = {...} }
-- Month by month: the DAU plan, the MAU plan, the saving (DAU - MAU), the
-- cumulative saving if migrating at the start of the horizon; the month from
-- which migration pays off (the cumulative saving is positive from then to the
-- end), the total difference, and the best month to migrate.
function M.migration(p)
  local FN = "imbill.migration"
  check.fields(FN, p, { usage = true, from = true, to = true, from_month = true, to_month = true, months = true,
                        needs = true, csv = true, progress = true })
  local s = M.usage_of(FN, p.usage, p.csv)
  if not s:has_mau() then
    check.fail(FN, "usage", "the MAU plan bills monthly active users: the history needs a mau column"
      .. " (or give mau_ratio when reading or building it)", check.NOVALUE)
  end
  local months = horizon(FN, s, { from = p.from_month, to = p.to_month, months = p.months })
  local fbook, fed, fname = books.resolve(FN, "from", p.from or "2021/pro")
  if not fbook then check.fail(FN, "from", "give the edition as \"book/edition\"", fname) end
  local tbook, ted, tname
  if p.to ~= nil then
    tbook, ted, tname = books.resolve(FN, "to", p.to)
    if not tbook then check.fail(FN, "to", "give the edition as \"book/edition\"", tname) end
  else
    tbook = books.get("2022")
  end
  if fbook:edition(fed.id).charges.dau == nil and not fed.free then
    check.fail(FN, "from", "is not a DAU-billed edition", p.from)
  end
  local candidates = {}
  if ted then candidates = { ted } else
    for _, id in ipairs(tbook:editions()) do candidates[#candidates + 1] = tbook:edition(id) end
  end
  local names = { fname }
  for _, e in ipairs(candidates) do names[#names + 1] = tbook.name .. "/" .. e.id end
  local bookobjs = { fbook }
  if tbook ~= fbook then bookobjs[2] = tbook end

  local per = {}
  for j, m in ipairs(months) do
    local month = dates.format_month(m)
    local u, r = s:usage(m)
    local rs = reasons_by_name(FN, month, r, p, bookobjs, names)
    local function price(book, ed)
      local ok, inv = pcall(invoice.invoice, { book = book, edition = ed.id, month = month, dau = u.dau,
        groups = u.groups, peak_dau = u.peak_dau, groups_peak = u.groups_peak, mau = u.mau })
      if not ok then error(FN .. ": " .. month .. ": " .. series.clean(inv), 0) end
      return inv
    end
    local row = { month = month, usage = r, dau_invoice = price(fbook, fed), dau_reasons = rs[fname] or {},
                  mau_invoices = {}, mau_reasons = {} }
    for _, e in ipairs(candidates) do
      local n = tbook.name .. "/" .. e.id
      row.mau_invoices[n] = price(tbook, e)
      row.mau_reasons[n] = rs[n] or {}
    end
    per[j] = row
    if p.progress then p.progress(j, #months) end
  end
  if not ted then
    local best
    for _, e in ipairs(candidates) do
      local n, total, ok = tbook.name .. "/" .. e.id, 0, true
      for _, row in ipairs(per) do
        total = total + cents(row.mau_invoices[n].total)
        if #row.mau_reasons[n] > 0 then ok = false end
      end
      if ok and (not best or total < best.total) then best = { total = total, ed = e, name = n } end
    end
    if not best then
      check.fail(FN, "to", "no edition of price book " .. tbook.name .. " can serve every month", check.NOVALUE)
    end
    tname = best.name
  end

  local mig = setmetatable({ from = fname, to = tname, rows = {}, irreversible = true, warning = M.IRREVERSIBLE },
    Migration)
  local cum, tdau, tmau = 0, 0, 0
  for j, row in ipairs(per) do
    local a, b = cents(row.dau_invoice.total), cents(row.mau_invoices[tname].total)
    cum = cum + (a - b)
    tdau, tmau = tdau + a, tmau + b
    mig.rows[j] = { month = row.month, dau_plan = m_of(a), mau_plan = m_of(b), saving = m_of(a - b),
                    cumulative = m_of(cum), cheaper = a < b and "dau" or (b < a and "mau" or "equal"),
                    dau_reasons = row.dau_reasons, mau_reasons = row.mau_reasons[tname],
                    peak_dau = row.usage.peak_dau, mau = row.usage.mau }
  end
  mig.dau_total, mig.mau_total, mig.difference = m_of(tdau), m_of(tmau), m_of(tdau - tmau)
  -- pays off from: the first month after which the cumulative saving stays > 0
  local from
  for j = #mig.rows, 1, -1 do
    if mig.rows[j].cumulative > money.ZERO then from = j else break end
  end
  mig.pays_off_from = from and mig.rows[from].month or nil
  -- best month to migrate (or never): DAU plan before, MAU plan from then on
  local bestk, bestcost = nil, tdau
  local before, after = 0, tmau
  for k = 1, #mig.rows do
    local cost = before + after
    if cost < bestcost then bestk, bestcost = k, cost end
    before = before + cents(mig.rows[k].dau_plan)
    after = after - cents(mig.rows[k].mau_plan)
  end
  mig.best_month = bestk and mig.rows[bestk].month or nil
  mig.best_saving = m_of(tdau - bestcost)
  return mig
end

function Migration:verdict()
  local lines = {}
  if self.difference > money.ZERO then
    lines[#lines + 1] = string.format("Migrating to %s at the start saves %s USD over %d months (%s on %s against %s on %s).",
      self.to, money.pretty(self.difference), #self.rows, money.pretty(self.mau_total), self.to,
      money.pretty(self.dau_total), self.from)
  elseif self.difference < money.ZERO then
    lines[#lines + 1] = string.format("Migrating to %s at the start costs %s USD more over %d months (%s against %s on %s).",
      self.to, money.pretty(money.ZERO - self.difference), #self.rows, money.pretty(self.mau_total),
      money.pretty(self.dau_total), self.from)
  else
    lines[#lines + 1] = string.format("Migrating to %s costs the same as staying on %s.", self.to, self.from)
  end
  if self.pays_off_from then
    lines[#lines + 1] = "Migration pays off from " .. self.pays_off_from
      .. " (the cumulative saving stays positive from then on)."
  else
    lines[#lines + 1] = "Migration does not pay off within the horizon."
  end
  if self.best_month then
    lines[#lines + 1] = string.format("Best month to migrate: %s (saves %s USD against never migrating).",
      self.best_month, money.pretty(self.best_saving))
  else
    lines[#lines + 1] = "Best choice within the horizon: do not migrate."
  end
  lines[#lines + 1] = "WARNING: " .. self.warning
  return table.concat(lines, "\n")
end

function Migration:table()
  local rows = {}
  for _, r in ipairs(self.rows) do
    rows[#rows + 1] = { r.month, fmt.int(r.peak_dau), r.mau and fmt.int(r.mau) or "-", money.pretty(r.dau_plan),
                        money.pretty(r.mau_plan), money.pretty(r.saving), money.pretty(r.cumulative), r.cheaper }
  end
  rows[#rows + 1] = { "total", "", "", money.pretty(self.dau_total), money.pretty(self.mau_total),
                      money.pretty(self.difference), "", "" }
  return fmt.table({ "month", "peak DAU", "MAU", self.from, self.to, "saving", "cumulative", "cheaper" }, rows,
    { false, true, true, true, true, true, true, false }) .. "\n" .. self:verdict()
end
Migration.__tostring = Migration.table

function Migration:data()
  local rows = {}
  for j, r in ipairs(self.rows) do
    rows[j] = { month = r.month, peak_dau = r.peak_dau, mau = r.mau, dau_plan = tostring(r.dau_plan),
                mau_plan = tostring(r.mau_plan), saving = tostring(r.saving), cumulative = tostring(r.cumulative),
                cheaper = r.cheaper }
  end
  return { from = self.from, to = self.to, rows = rows, dau_total = tostring(self.dau_total),
           mau_total = tostring(self.mau_total), difference = tostring(self.difference),
           pays_off_from = self.pays_off_from, best_month = self.best_month, best_saving = tostring(self.best_saving),
           irreversible = true, warning = self.warning }
end

function Migration:csv()
  local out = { "month,peak_dau,mau,dau_plan,mau_plan,saving,cumulative,cheaper" }
  for _, r in ipairs(self.rows) do
    out[#out + 1] = table.concat({ r.month, string.format("%d", r.peak_dau), r.mau and string.format("%d", r.mau) or "",
      tostring(r.dau_plan), tostring(r.mau_plan), tostring(r.saving), tostring(r.cumulative), r.cheaper }, ",")
  end
  return table.concat(out, "\n") .. "\n"
end

-- Break-even tables and cost curves --------------------------------------------------

local METRIC_FIELD = { dau = "peak_dau", groups = "groups_peak", mau = "mau" }

local function follow_value(x, r)
  return series.idiv(2 * x * r + 1000000, 2000000)
end

-- The axis of a cost curve or break-even search: the metric that varies, the
-- usage held fixed, the range, and the metrics that follow it by a ratio.
local function axis(FN, p)
  local metric = p.metric or "dau"
  if not METRIC_FIELD[metric] then check.fail(FN, "metric", "expected dau, mau or groups", metric) end
  local usage = check.table(FN, "usage", p.usage or {})
  check.fields(FN .. " usage", usage, { peak_dau = true, groups_peak = true, mau = true })
  local base = { dau = check.count(FN, "usage.peak_dau", usage.peak_dau or 0),
                 groups = check.count(FN, "usage.groups_peak", usage.groups_peak or 0),
                 mau = check.count(FN, "usage.mau", usage.mau or 0) }
  local lo = check.count(FN, "from", p.from or 0)
  local hi = check.count(FN, "to", p.to or 1000000)
  if hi < lo then check.fail(FN, "to", "is below from", p.to) end
  local follow = {}
  for k, r in pairs(check.table(FN, "follow", p.follow or {})) do
    if not METRIC_FIELD[k] or k == metric then check.fail(FN, "follow." .. tostring(k), "not another metric", r) end
    follow[k] = series.ppm(FN, "follow." .. k, r)
  end
  return metric, base, lo, hi, follow
end

--- imbill.cost_curve{ edition = "2021/pro", metric = "dau", from =, to =, usage = {...},
-- follow = { mau = "3" } }: the exact cost curve over [from, to] as the points
-- where it changes: { { at =, total = money }, ... } with kind "step" between
-- points, or "linear" where a per-user charge makes it rise by cents.
function M.cost_curve(p)
  local FN = "imbill.cost_curve"
  check.fields(FN, p, { edition = true, metric = true, from = true, to = true, usage = true, follow = true,
                        max_points = true })
  local _, ed, name = books.resolve(FN, "edition", p.edition)
  local metric, base, lo, hi, follow = axis(FN, p)
  local function cost(x)
    base[metric] = x
    for k, r in pairs(follow) do base[k] = follow_value(x, r) end
    return core.month_total(ed.rate, base.dau, base.groups, base.mau)
  end
  -- points where the cost changes: scan the block boundaries exactly, and
  -- mark per-user pieces as linear (their end points are exact).
  local pts = {}
  local function add(x)
    local c = cost(x)
    local last = pts[#pts]
    if last and last.cents == c then return end
    pts[#pts + 1] = { at = x, cents = c }
  end
  local cuts = { lo }
  local function cuts_for(ch, r)
    if not ch or ch.block == 0 then return end
    local function x_of(t) -- first x whose value exceeds t
      if not r then return t + 1 end
      local x = math.floor(((t + 1) * 2000000 - 1000000) / (2 * r))
      while x > 0 and follow_value(x - 1, r) > t do x = x - 1 end
      while follow_value(x, r) <= t do x = x + 1 end
      return x
    end
    local t = ch.free
    local n = 0
    while true do
      local x = x_of(t)
      if x > hi then break end
      if x >= lo then cuts[#cuts + 1] = x end
      if ch.block <= 1 then break end
      t = t + ch.block
      n = n + 1
      if n > (p.max_points or 100000) then check.fail(FN, "to", "the range has too many steps", p.to) end
    end
  end
  cuts_for(ed.charges[metric], nil)
  for k, r in pairs(follow) do cuts_for(ed.charges[k], r) end
  table.sort(cuts)
  local linear = {}
  if not ed.free then
    if ed.charges[metric] and ed.charges[metric].block == 1 then linear[metric] = ed.charges[metric].free end
    for k, r in pairs(follow) do
      if ed.charges[k] and ed.charges[k].block == 1 then linear[k] = { free = ed.charges[k].free, r = r } end
    end
  end
  local lin_from
  for k, v in pairs(linear) do
    local x = k == metric and v + 1 or nil
    if type(v) == "table" then
      x = math.floor(((v.free + 1) * 2000000 - 1000000) / (2 * v.r))
      while x > 0 and follow_value(x - 1, v.r) > v.free do x = x - 1 end
      while follow_value(x, v.r) <= v.free do x = x + 1 end
    end
    if not lin_from or x < lin_from then lin_from = x end
  end
  for _, x in ipairs(cuts) do add(x) end
  if #pts == 0 or pts[#pts].at ~= hi then
    local c = cost(hi)
    pts[#pts + 1] = { at = hi, cents = c, last = true }
  end
  table.sort(pts, function(a, b) return a.at < b.at end)
  local out = { edition = name, metric = metric, from = lo, to = hi, points = {} }
  for i, pt in ipairs(pts) do
    local kind = "step"
    if lin_from and pt.at >= lin_from - 1 and i < #pts then kind = "linear" end
    out.points[i] = { at = pt.at, total = m_of(pt.cents), kind = kind }
  end
  out.cost = function(x) return m_of(cost(x)) end
  return out
end

-- Exact crossings of two editions when other metrics follow the one varied
-- (follow = { mau = "3" }: MAU = round_half_up(3 x DAU)).  Without follow this
-- is imbill.breakeven.  With it, [from, to] is cut where any charge of either
-- edition (on the varied metric or a followed one) reaches its free quota or
-- a block end; within a piece each total is constant or non-decreasing in x.
-- When at most one of the two varies the difference is monotone and its sign
-- changes are found by bisection; when both vary with identical per-user
-- lines (same free quota and price) the difference is constant; otherwise the
-- piece is scanned value by value (at most 10^6 values, else an error asks for
-- a narrower range).
local MAX_SCAN = 1000000
function M.crossings(p)
  local FN = "imbill.breakeven"
  if p.follow == nil or next(p.follow) == nil then
    local q = {}
    for k, v in pairs(p) do if k ~= "follow" then q[k] = v end end
    return breakeven.breakeven(q)
  end
  local _, ea, na = books.resolve(FN, "a", p.a)
  local _, eb, nb = books.resolve(FN, "b", p.b)
  local metric, base, lo, hi, follow = axis(FN, p)
  local function value(k, x)
    if k == metric then return x end
    if follow[k] then return follow_value(x, follow[k]) end
    return base[k]
  end
  local function cost(ed, x)
    local ok, c = pcall(core.month_total, ed.rate, value("dau", x), value("groups", x), value("mau", x))
    if not ok then error(FN .. ": to: the total does not fit at " .. tostring(x), 0) end
    return c
  end
  local function sign(x)
    local d = cost(ea, x) - cost(eb, x)
    return d < 0 and -1 or (d > 0 and 1 or 0)
  end
  -- the first x >= from at which metric k's value exceeds t
  local function first_above(k, t)
    if k == metric then return t + 1 end
    local r = follow[k]
    local x = math.floor(((t + 1) * 2000000 - 1000000) / (2 * r))
    if x < 0 then x = 0 end
    while x > 0 and follow_value(x - 1, r) > t do x = x - 1 end
    while follow_value(x, r) <= t do x = x + 1 end
    return x
  end
  local cuts, varying = {}, { a = {}, b = {} }
  for side, ed in pairs { a = ea, b = eb } do
    for k in pairs(METRIC_FIELD) do
      local ch = ed.charges[k]
      if ch and ch.block > 0 and not ed.free and (k == metric or follow[k]) then
        local t, n = ch.free, 0
        while true do
          local x = first_above(k, t)
          if x > hi then break end
          if x > lo then cuts[#cuts + 1] = x end
          if ch.block == 1 then
            varying[side][#varying[side] + 1] = { from = x, ch = ch, k = k }
            break
          end
          t = t + ch.block
          n = n + 1
          if n > MAX_SCAN then check.fail(FN, "to", "the range crosses too many price steps; narrow from/to", p.to) end
        end
      end
    end
  end
  table.sort(cuts)
  local function varies(side, x)
    for _, v in ipairs(varying[side]) do if x >= v.from then return v end end
    return nil
  end
  local points, prev = {}, nil
  local function record(x, sg)
    points[#points + 1] = { at = x, cheaper = sg < 0 and "a" or (sg > 0 and "b" or "equal"),
                            a_total = m_of(cost(ea, x)), b_total = m_of(cost(eb, x)) }
    prev = sg
  end
  local function visit(x)
    local sg = sign(x)
    if sg ~= prev then record(x, sg) end
  end
  -- pieces [s, e]: from each cut to the value before the next
  local starts = { lo }
  for _, c in ipairs(cuts) do if c > starts[#starts] then starts[#starts + 1] = c end end
  for i, s in ipairs(starts) do
    local e = (starts[i + 1] or hi + 1) - 1
    visit(s)
    if e > s then
      local va, vb = varies("a", s), varies("b", s)
      if va and vb and not (va.k == vb.k and va.ch.free == vb.ch.free and va.ch.price == vb.ch.price) then
        if e - s > MAX_SCAN then
          check.fail(FN, "to", "both totals rise by the user in " .. s .. " .. " .. e .. "; narrow from/to", p.to)
        end
        for x = s + 1, e do visit(x) end
      elseif va or vb then
        -- monotone difference: find each sign change by bisection
        local x = s
        while x < e do
          local cur = sign(x)
          if sign(e) == cur then break end
          local l, r = x, e
          while r - l > 1 do
            local m = l + math.floor((r - l) / 2) -- (l + r) / 2 rounds near 2^60
            if sign(m) == cur then l = m else r = m end
          end
          visit(r)
          x = r
        end
      end
    end
  end
  return { metric = metric, a = na, b = nb, from = lo, to = hi, points = points, follow = p.follow }
end

--- imbill.breakeven_table{ editions = { "2021/pro", "2021/ultimate", "2022/standard" } (or
-- book = "2021": its editions), metric = "dau", from =, to =, usage = {...},
-- follow = { mau = "3" } }: for each pair of editions the exact points where the
-- cheaper side changes (imbill.breakeven), the value above which each is
-- cheaper, and each edition's cost curve.
function M.breakeven_table(p)
  local FN = "imbill.breakeven_table"
  check.fields(FN, p, { editions = true, book = true, metric = true, from = true, to = true, usage = true,
                        follow = true, curves = true })
  local eds = p.editions
  if eds == nil then
    local ok, book = pcall(books.get, p.book or "2021")
    if not ok then check.fail(FN, "book", "unknown price book", p.book) end
    eds = {}
    for _, id in ipairs(book:editions()) do eds[#eds + 1] = book.name .. "/" .. id end
  end
  check.table(FN, "editions", eds)
  if #eds < 2 then check.fail(FN, "editions", "needs at least two editions", #eds) end
  local names, refs = {}, {}
  for i, e in ipairs(eds) do
    local b, ed, n = books.resolve(FN, "editions[" .. i .. "]", e)
    names[i] = n
    refs[i] = b and { book = b, edition = ed.id } or e
  end
  local lo, hi = p.from or 0, p.to or 1000000
  local t = { metric = p.metric or "dau", from = lo, to = hi, editions = names, pairs = {}, curves = {},
              follow = p.follow, usage = p.usage }
  for i = 1, #names do
    for j = i + 1, #names do
      local ok, be = pcall(M.crossings, { a = refs[i], b = refs[j], metric = p.metric, usage = p.usage,
        from = lo, to = hi, follow = p.follow })
      if not ok then error(FN .. ": " .. series.clean(be):gsub("^imbill%.breakeven: ", ""), 0) end
      local crossings = {}
      for k = 2, #be.points do
        local pt = be.points[k]
        crossings[#crossings + 1] = { at = pt.at, cheaper = pt.cheaper == "a" and names[i]
          or (pt.cheaper == "b" and names[j] or "equal"), a_total = pt.a_total, b_total = pt.b_total }
      end
      local first = be.points[1]
      t.pairs[#t.pairs + 1] = { a = names[i], b = names[j], points = be.points, crossings = crossings,
                                cheaper_at_start = first.cheaper == "a" and names[i]
                                  or (first.cheaper == "b" and names[j] or "equal") }
    end
  end
  if p.curves ~= false then
    for i in ipairs(names) do
      t.curves[i] = M.cost_curve { edition = refs[i], metric = p.metric, from = lo, to = hi, usage = p.usage,
                                   follow = p.follow }
    end
  end
  return setmetatable(t, M.BreakevenTable)
end

local BreakevenTable = {}
BreakevenTable.__index = BreakevenTable
M.BreakevenTable = BreakevenTable

local UNIT = { dau = "DAU", mau = "MAU", groups = "groups" }

--- One line per crossing: "from 40,001 DAU on, 2021/ultimate is cheaper than 2021/pro".
function BreakevenTable:table()
  local rows = {}
  for _, pr in ipairs(self.pairs) do
    rows[#rows + 1] = { pr.a, pr.b, fmt.int(self.from), pr.cheaper_at_start, money.pretty(pr.points[1].a_total),
                        money.pretty(pr.points[1].b_total) }
    for _, c in ipairs(pr.crossings) do
      rows[#rows + 1] = { "", "", fmt.int(c.at), c.cheaper, money.pretty(c.a_total), money.pretty(c.b_total) }
    end
  end
  local unit = UNIT[self.metric] or self.metric
  return fmt.table({ "a", "b", "from " .. unit, "cheaper", "a total", "b total" }, rows,
    { false, false, true, false, true, true })
end
BreakevenTable.__tostring = BreakevenTable.table

function BreakevenTable:data()
  local d = { metric = self.metric, from = self.from, to = self.to, editions = self.editions, pairs = {}, curves = {},
              follow = self.follow }
  for i, pr in ipairs(self.pairs) do
    local pts = {}
    for k, pt in ipairs(pr.points) do
      pts[k] = { at = pt.at, cheaper = pt.cheaper == "a" and pr.a or (pt.cheaper == "b" and pr.b or "equal"),
                 a_total = tostring(pt.a_total), b_total = tostring(pt.b_total) }
    end
    d.pairs[i] = { a = pr.a, b = pr.b, points = pts }
  end
  for i, c in ipairs(self.curves) do
    local pts = {}
    for k, pt in ipairs(c.points) do pts[k] = { at = pt.at, total = tostring(pt.total), kind = pt.kind } end
    d.curves[i] = { edition = c.edition, points = pts }
  end
  return d
end

function BreakevenTable:csv()
  local out = { "a,b,from,cheaper,a_total,b_total" }
  for _, pr in ipairs(self.pairs) do
    for _, pt in ipairs(pr.points) do
      out[#out + 1] = table.concat({ pr.a, pr.b, string.format("%d", pt.at),
        pt.cheaper == "a" and pr.a or (pt.cheaper == "b" and pr.b or "equal"), tostring(pt.a_total),
        tostring(pt.b_total) }, ",")
    end
  end
  return table.concat(out, "\n") .. "\n"
end

return M
