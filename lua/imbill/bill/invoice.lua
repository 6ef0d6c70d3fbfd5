--- One app's invoice for one calendar month (docs/rules.md, "Invoice").
-- This file decides which edition was in force on which days and which fees
-- are waived; every amount is computed by the C core and rounded there, once
-- per line.  The total is the sum of the rounded lines.
--
-- `imbill.invoice` is `invoice` below.
-- @usage print(imbill.invoice{ book = "2021", edition = "pro", month = "2022-11",
--                       change = { on = "2022-11-21", to = "ultimate" }, peak_dau = 10001 }.total)
-- --> 1049.98
local core = require "imbill.core"
local check = require "imbill.internal.check"
local errors = require "imbill.internal.errors"
local money = require "imbill.internal.money"
local dates = require "imbill.internal.dates"
local books = require "imbill.book"
local fmt = require "imbill.internal.fmt"
local result = require "imbill.internal.result"
local in_force = require "imbill.bill.in_force"
local measure = require "imbill.bill.measure"

local M = {}
local FN = "imbill.invoice"
local CALENDAR_FIRST = dates.month("0001-01", "month", FN)

local FIELDS = {
  book = true, edition = true, month = true, peak_dau = true, dau = true, groups_peak = true,
  groups = true, mau = true, activated = true, change = true, addons = true, trtc = true,
  -- carried by meter:usage() so a metered month prices as it was metered
  peak_dau_day = true, groups_peak_day = true, changes = true, tz = true,
  -- the first paid activation was before this month, on a day not known
  activated_before = true,
  -- carried by series:usage() for a month the usage covers in part
  covers = true,
}

local Invoice = {}
Invoice.__index = Invoice
-- The invoices this module made (a table given Invoice's metatable by hand
-- has none of an invoice's fields).
local made = setmetatable({}, { __mode = "k" })
local function self_invoice(self, method)
  if not made[self] then
    check.fail("invoice:" .. method, "self", "expected an invoice: call it as inv:" .. method .. "(...)", self)
  end
end

local function fail(field, msg, v) check.fail(FN, field, msg, v == nil and check.NOVALUE or v) end

-- A nested call's error, told as this function's: its own field kept.
local function wrap(f, ...) return errors.call(FN, nil, f, ...) end

-- A daily series: one whole number per day of the month.  Returns the peak
-- over the days `use(day_index)` allows, its day index, and the series.
local function series(field, s, dim, use)
  check.table(FN, field, s)
  local n = check.len(s)
  if n ~= dim then
    fail(field, string.format("needs one value per day of the month (%d), has %d", dim, n))
  end
  local peak, at, any = 0, nil, false
  for i = 1, dim do
    local v = check.count(FN, field .. "[" .. i .. "]", rawget(s, i))
    if use(i) then
      any = true
      if at == nil or v > peak then peak, at = v, i end
    end
  end
  if not any then
    for i = 1, dim do
      local v = rawget(s, i)
      if at == nil or v > peak then peak, at = v, i end
    end
  end
  return peak, at
end

local function one_change(u)
  local c = u.change
  if c == nil then return nil end
  check.table(FN, "change", c)
  if rawget(c, 1) ~= nil then
    for k in next, c do
      if type(k) ~= "number" then fail("change", "a list of changes has no named fields", k) end
    end
    if check.len(c) > 1 then fail("change", "one edition change per calendar month; a second change is refused") end
    c = rawget(c, 1)
    check.table(FN, "change[1]", c)
  end
  c = check.fields(FN, c, { on = true, to = true }, "change")
  return c
end

-- The month's plan fee lines.  Which editions ran paid on which days and
-- which fee is waived is the core's edition-change policy (imb_month_fees);
-- this function states the facts it is given and words the answer.
local VERDICT_FIELD = {
  same = { "change.to", "is the edition already in force" },
}

local function plan_lines(book, ed, month, u)
  local first = dates.month_first(month)
  local dim = dates.month_length(month)
  local last = first + dim - 1
  local eds = { ed }
  local spans = { { edition = 1, free = ed.free, fee = ed.monthly_fee } }

  local c = one_change(u)
  local on, to
  if c then
    on = dates.day(c.on, "change.on", FN)
    if on < first or on > last then fail("change.on", "is not in the invoice month " .. dates.format_month(month), c.on) end
    to = errors.call(FN, "change.to", book.edition, book, c.to)
    eds[2] = to
    -- editions are numbered by identity: a change to the edition in force
    -- is the policy's "same".  A change on the 1st is a span too: the
    -- edition it leaves runs no day of the month, but the policy judges the
    -- change from it (pro to free on the 1st is a return to free).
    spans[2] = { from = on, edition = to == ed and 1 or 2, free = to.free, fee = to.monthly_fee }
  end

  local activated = u.activated
  if u.activated_before ~= nil and type(u.activated_before) ~= "boolean" then
    fail("activated_before", "expected a boolean", u.activated_before)
  end
  if u.activated_before and activated ~= nil then
    fail("activated_before", "give activated or activated_before, not both", check.NOVALUE)
  end
  if u.activated_before then
    -- a day before the previous month stands for it: the rules ask whether
    -- the activation falls in the month, and whether it was the previous
    -- month's one change (then a free edition on the 1st came back that day),
    -- which a day not known does not say.  In 0001-02 it can only be 0001-01.
    if first - 1 < dates.month_first(CALENDAR_FIRST) then
      fail("activated_before", "there is no day before " .. dates.format_month(month) .. " in the calendar", true)
    end
    local prev = month - 1 > CALENDAR_FIRST and dates.month_first(month - 1) or first
    activated = dates.format(prev - 1)
  elseif activated == nil and c and ed.free and not to.free then
    -- Leaving a free edition with no earlier paid activation given: this
    -- change is the first paid activation (in 2021 and 2022 it must be, as no
    -- app can go back to free; in 2020 it is the usual trial -> pro upgrade).
    activated = c.on
  end
  local act
  if activated ~= nil then
    act = dates.day(activated, "activated", FN)
    if act > last then fail("activated", "is after the invoice month " .. dates.format_month(month), activated) end
    -- an activation before the month's change is a second change: the
    -- policy says so below; after it, the edition activated must be paid
    if act >= first and not (spans[2] and act < spans[2].from) then
      local at = eds[#eds]
      if at.free then fail("activated", "is the activation of a paid edition, but " .. at.id .. " is free", activated) end
    end
  end

  local verdict, fees = core.month_fees(book.policy, month, spans, act)
  if verdict == "no_return" then
    if c and to.free then
      fail("change.to", string.format("price book %s does not allow going back to a free edition after %s",
        book.name, ed.id), c.to)
    end
    -- activated_before stands for a day not known: name the month, not that day
    fail("edition", string.format("price book %s does not allow going back to a free edition after the paid"
      .. " activation of %s", book.name,
      u.activated_before and ("a day before " .. dates.format_month(month)) or activated), ed.id)
  elseif verdict == "twice" and act < first then
    -- the policy's answer to a free edition on the 1st after last month's activation
    local when = string.format("one edition change per calendar month: the first paid activation %s was the change"
      .. " of %s, so ", u.activated_before and ("in " .. dates.format_month(month - 1)) or ("on " .. activated),
      dates.format_month(month - 1))
    if on == first then
      fail("change", when .. string.format("%s cannot have been in force again by its end", ed.id))
    end
    fail("change", when .. string.format("%s came back on %s, the change of %s, and a change on %s would be a second",
      ed.id, dates.format(first), dates.format_month(month), c.on))
  elseif verdict == "twice" then
    fail("change", string.format("one edition change per calendar month: activated on %s and changed on %s",
      activated, c and c.on or "?"))
  elseif verdict ~= "ok" then
    local f = VERDICT_FIELD[verdict] or { "change", "breaks the price book's edition-change policy (" .. verdict .. ")" }
    fail(f[1], f[2], c and c.to)
  end

  local lines, segs = {}, {}
  for _, fl in ipairs(fees) do
    local e = eds[fl.edition]
    local span = dates.format(fl.from) .. ".." .. dates.format(fl.to)
    local line = { code = "plan_fee", unit_price = e.monthly_fee, edition = e.id, cents = fl.cents,
                   from = dates.format(fl.from), to = dates.format(fl.to) }
    if fl.kind == "free_edition" then
      line.quantity = 1
      line.note = string.format("%s (free edition) %s: no plan fee; usage is never billed", e.id, span)
    elseif fl.kind == "activation" then
      line.quantity = 0
      line.note = string.format("%s first activated %s: no plan fee in the activation month", e.id,
        dates.format(act))
    elseif fl.kind == "full" then
      line.quantity = 1
      line.note = string.format("%s, full month", e.id)
    else
      line.quantity = fl.days
      line.note = string.format("%s %s: %d of %d days x %s", e.id, span, fl.days, dim, tostring(e.monthly_fee))
    end
    lines[#lines + 1] = line
    segs[#segs + 1] = { ed = e, from = fl.from, to = fl.to }
  end
  return lines, segs, first, dim, act
end

local function usage_lines(ued, u, segs, first, dim, month)
  local lines, usage = {}, {}
  local paid = {}
  for _, s in ipairs(segs) do
    if s.ed and not s.ed.free then
      for d = s.from, s.to do paid[d - first + 1] = true end
    end
  end
  local function use(i) return paid[i] == true end

  local function metric(peak_field, series_field)
    local pv, sv = u[peak_field], u[series_field]
    if pv ~= nil and sv ~= nil then fail(series_field, "give " .. peak_field .. " or " .. series_field .. ", not both") end
    if sv ~= nil then
      local peak, at = series(series_field, sv, dim, use)
      return peak, at and dates.format(first + at - 1)
    end
    local day = u[peak_field .. "_day"]
    if day ~= nil then
      local d = dates.day(day, peak_field .. "_day", FN)
      if d < first or d >= first + dim then
        fail(peak_field .. "_day", "is not in the invoice month " .. dates.format_month(month), day)
      end
    end
    return check.count(FN, peak_field, pv or 0), day
  end

  usage.peak_dau, usage.peak_dau_day = metric("peak_dau", "dau")
  usage.groups_peak, usage.groups_peak_day = metric("groups_peak", "groups")
  usage.mau = check.count(FN, "mau", u.mau or 0)
  usage.month = dates.format_month(month)
  if not ued then return lines, usage end

  local function charge(kind, code, value, label, day, field)
    local ch = ued.charges[kind]
    if not ch then return end
    local blocks, cents = check.call(FN, core.charge, ued.rate, kind, value, field)
    local note
    local where = day and (" (" .. day .. ")") or ""
    if value <= ch.free then
      note = string.format("%s %s%s within %s free", label, fmt.int(value), where, fmt.int(ch.free))
    elseif ch.block == 1 then
      note = string.format("%s %s over %s free: %s x %s", label, fmt.int(value), fmt.int(ch.free),
        fmt.int(blocks), tostring(ch.price))
    else
      note = string.format("%s %s%s over %s free: %d block%s of %s x %s", label, fmt.int(value), where,
        fmt.int(ch.free), blocks, blocks == 1 and "" or "s", fmt.int(ch.block), tostring(ch.price))
    end
    lines[#lines + 1] = { code = code, quantity = blocks, unit_price = ch.price, cents = cents, note = note }
  end
  charge("dau", "dau_overage", usage.peak_dau, "peak DAU", usage.peak_dau_day, u.dau and "dau" or "peak_dau")
  charge("groups", "group_overage", usage.groups_peak, "peak groups", usage.groups_peak_day,
    u.groups and "groups" or "groups_peak")
  charge("mau", "mau_overage", usage.mau, "MAU", nil, "mau")
  return lines, usage
end

-- paid_from: the day of the app's first paid activation (nil when not known).
-- An add-on needs a paid edition, so when that day is in this month, every
-- add-on was activated in this month, on that day or later.  known_paid_from:
-- the same day when it is known (not activated_before's stand-in).
local function addon_lines(book, ed, month, addons, paid_from, known_paid_from, segs)
  local lines = {}
  if addons == nil then return lines end
  check.list(FN, "addons", addons, "add-on ids (or { id =, activated = })")
  local first = dates.month_first(month)
  local seen, retention = {}, nil
  for i, a in check.items(addons) do
    local field = "addons[" .. i .. "]"
    local id, act = a, nil
    if type(a) == "table" then
      a = check.fields(FN, a, { id = true, activated = true }, field)
      id, act = a.id, a.activated and dates.day(a.activated, field .. ".activated", FN)
    end
    local addon = errors.call(FN, type(a) == "table" and field .. ".id" or field, book.addon, book, id)
    if seen[id] then fail(field, "the add-on is listed twice", id) end
    seen[id] = true
    if id:match("^retention_") then
      if retention then fail(field, "one history retention add-on at a time (also " .. retention .. ")", id) end
      retention = id
    end
    if not ed then fail(field, "add-ons need a paid edition", id) end
    local fee = addon.fee[ed.id]
    if not fee then fail(field, string.format("add-on %s is not sold for edition %s", id, ed.id), id) end
    if act and act >= first + dates.month_length(month) then
      fail(field .. ".activated", "is after the invoice month", a.activated)
    end
    local inferred = false
    -- in any month, not only the activation's: the day before it had no
    -- paid edition to buy the add-on for
    if act and known_paid_from and act < known_paid_from then
      fail(field .. ".activated", "is before the first paid activation (" .. dates.format(known_paid_from)
        .. "); an add-on needs a paid edition", a.activated)
    end
    if paid_from and paid_from >= first and not act then act, inferred = paid_from, true end
    if act and act >= first then
      -- bought on a day of the month: a paid edition must have run that day
      -- (pro, then trial from the 11th: an add-on bought on the 20th cannot be)
      for _, sg in ipairs(segs) do
        if sg.from <= act and act <= sg.to and sg.ed.free then
          fail(field .. ".activated", string.format("is a day on the free edition %s (%s..%s); an add-on needs a"
            .. " paid edition", sg.ed.id, dates.format(sg.from), dates.format(sg.to)), a.activated)
        end
      end
    end
    local line = { code = "addon", addon = id, quantity = 1, unit_price = fee }
    if act and act >= first and addon.activation_month_free then
      line.cents, line.quantity = 0, 0
      line.note = inferred
        and string.format("%s, added in the month of the first paid activation (%s): no fee in the activation month",
          id, dates.format(act))
        or string.format("%s activated %s: no fee in the activation month", id, dates.format(act))
    else
      line.cents = core.round_cents(fee)
      line.note = id .. (inferred and (", added in the month of the first paid activation (" .. dates.format(act)
          .. "): charged from its activation month")
        or act and act >= first and (", activated " .. dates.format(act) .. ": charged from its activation month")
        or ", monthly")
    end
    lines[#lines + 1] = line
  end
  return lines
end

local function trtc_line(t)
  if t == nil then return nil end
  local T = books.TRTC
  check.table(FN, "trtc", t)
  local allowed = { free_minutes = true }
  for _, tier in ipairs(T.tiers) do allowed[tier] = true end
  t = check.fields(FN, t, allowed, "trtc")
  local secs, prices = {}, {}
  for _, tier in ipairs(T.tiers) do
    secs[tier] = check.count(FN, "trtc." .. tier, t[tier] or 0)
    prices[tier] = money.new(T.price_per_1000[tier])
  end
  local free = check.count(FN, "trtc.free_minutes", t.free_minutes == nil and T.free_minutes or t.free_minutes)
  -- the core sums the line exactly, rounds it once, and gives the unrounded
  -- amount with all its digits for the note
  local cents, tiers, unrounded = check.call(FN, core.trtc, secs, prices, free)
  local parts, billed = {}, 0
  for _, r in ipairs(tiers) do
    if r.minutes > 0 then parts[#parts + 1] = string.format("%s %s min", r.tier, fmt.int(r.minutes)) end
    billed = billed + r.billed
  end
  return { code = "trtc", quantity = billed, cents = cents, tiers = tiers,
           note = string.format("TRTC %s; %s free minute%s: %s -> %s", #parts > 0 and table.concat(parts, ", ") or "no calls",
             fmt.int(free), free == 1 and "" or "s", unrounded, tostring(money.from_cents(cents))) }
end

-- The days a usage covers, when it covers part of the month: { from =, to = }
-- (day numbers), or nil when given for the whole month or not given.
local function coverage(u, month, first, dim)
  local c = u.covers
  if c == nil then return nil end
  check.table(FN, "covers", c)
  c = check.fields(FN, c, { from = true, to = true }, "covers")
  local a, b = dates.day(c.from, "covers.from", FN), dates.day(c.to, "covers.to", FN)
  if a < first or a >= first + dim then
    fail("covers.from", "is not in the invoice month " .. dates.format_month(month), c.from)
  end
  if b < a or b >= first + dim then fail("covers.to", "is not in the invoice month on or after covers.from", c.to) end
  if a == first and b == first + dim - 1 then return nil end
  return { from = a, to = b }
end

-- The notes of an invoice that prices what it was not fully given: a book
-- not yet in force, a usage without the user measure the edition is billed
-- by (priced as 0 of it), a usage covering part of the month (billed as the
-- month, from those days' peaks).
local function usage_notes(book, ed, month, u, first, dim)
  local notes = {}
  local n = in_force.note(book, month)
  if n then notes[#notes + 1] = n end
  local has = measure.given(u)
  for _, need in ipairs(measure.needed(ed)) do
    if not has[need.measure] then
      notes[#notes + 1] = string.format("the usage gives no %s, and %s/%s %s: priced as if %s were 0",
        measure.LABEL[need.measure], book.name, ed.id, need.why, measure.LABEL[need.measure])
    end
  end
  local c = coverage(u, month, first, dim)
  if c then
    notes[#notes + 1] = measure.coverage_note(dates.format(c.from), dates.format(c.to), c.to - c.from + 1, dim)
  end
  return notes
end

--- imbill.invoice{...}: see README.md, "Invoices".
--
-- The usage comes as peaks (`peak_dau`, `groups_peak`, `mau`) or as daily
-- arrays (`dau`, `groups`: one value per day of the month), in which case
-- each line's note names the peak's day and the peak is taken over the days
-- a paid edition is in force.  Days are the book's billing days (UTC+8
-- unless the book says otherwise).  An edition change the book's policy
-- forbids is an error here, as the input cannot have happened.
-- @tab u the month's facts:
-- @tparam[opt] string|Book u.book a price book's name or a book (default: the
-- built-in book in force on the month's 1st)
-- @string u.edition the edition in force on the 1st (`"pro"`)
-- @string u.month `"YYYY-MM"`
-- @int[opt] u.peak_dau the month's peak DAU, or
-- @tparam[opt] {int,...} u.dau one DAU value per day of the month
-- @int[opt] u.groups_peak the month's peak of existing groups, or
-- @tparam[opt] {int,...} u.groups one day's peak net group count per day of the month
-- @int[opt] u.mau monthly active users (book 2022 bills by MAU)
-- @string[opt] u.activated `"YYYY-MM-DD"`, the first paid activation (its month has no plan fee where the book says so)
-- @tab[opt] u.change the month's edition change, `{ on = "YYYY-MM-DD", to = edition }`
-- @tab[opt] u.addons add-ons by id, or `{ id =, activated = }`
-- @tab[opt] u.trtc call minutes: seconds per tier (`audio`, `hd`, `fhd`, `2k`, `4k`) and `free_minutes` (default 10000)
-- @tab[opt] u.covers `{ from =, to = }`: the days a partial usage covers (`series:usage` gives it)
-- @treturn Invoice the invoice
-- @raise an error naming the field that is wrong: `imbill.invoice: month:`
-- `malformed month (expected YYYY-MM), got "2021-3"`, `dau: needs one value per day`
-- `of the month (31), has 2`, a change the policy forbids, lines too large for 64 bits
-- @usage local inv = imbill.invoice{ book = "2020", edition = "pro", month = "2021-03", peak_dau = 25000 }
-- print(inv.total, inv.due)  --> 449.97  2021-04-03
function M.invoice(u)
  u = check.fields(FN, u, FIELDS)
  local month = dates.month(u.month, "month", FN)
  local book
  if u.book ~= nil then
    book = books.get_as(FN, "book", u.book)
  else
    book = wrap(books.for_month, month)
  end
  if u.edition == nil then fail("edition", "is required (one of: " .. table.concat(book:editions(), ", ") .. ")") end
  local ed = wrap(book.edition, book, u.edition)
  if u.changes ~= nil then
    if u.change ~= nil then fail("changes", "give change or changes, not both") end
    u = setmetatable({ change = u.changes }, { __index = u })
  end
  -- usage from a meter counts days in the meter's zone (meter:usage() says
  -- which); the invoice's days are that zone's, else the book's
  local tz = book.tz
  if u.tz ~= nil then tz = dates.format_tz(dates.offset(u.tz, "tz", FN)) end
  local lines, segs, first, dim, paid_from = plan_lines(book, ed, month, u)
  local ued
  for _, s in ipairs(segs) do if s.ed and not s.ed.free then ued = s.ed end end
  local notes = usage_notes(book, ued or segs[#segs].ed or ed, month, u, first, dim)
  local ulines, usage = usage_lines(ued, u, segs, first, dim, month)
  for _, l in ipairs(ulines) do lines[#lines + 1] = l end
  local known_from = not u.activated_before and paid_from or nil
  for _, l in ipairs(addon_lines(book, ued, month, u.addons, paid_from, known_from, segs)) do
    lines[#lines + 1] = l
  end
  local tl = trtc_line(u.trtc)
  if tl then lines[#lines + 1] = tl end

  -- summed as money: checked 64-bit arithmetic in C, exact on every runtime
  local total = money.ZERO
  for _, l in ipairs(lines) do
    local ok, amount = pcall(money.from_cents, l.cents)
    if not ok then
      fail(l.code, string.format("the line's %d cents do not fit in 64 bits of micro-units (prices too large)",
        l.cents))
    end
    l.amount = amount
    l.cents = nil
    local added, sum = pcall(function() return total + l.amount end)
    if not added then
      fail("total", string.format("the lines add up to more than money holds (at most 9223372036854.775807):"
        .. " %s so far, and %s on the %s line", tostring(total), tostring(l.amount), l.code), check.NOVALUE)
    end
    total = sum
  end
  local due = book:due(month)
  local suspend, delete = book:arrears_after(due)
  local inv = setmetatable({
    book = book.name, edition = ed.id, month = dates.format_month(month), tz = tz,
    lines = lines, total = total, usage = usage, notes = notes,
    due = dates.format(due), suspend = dates.format(suspend), delete = dates.format(delete),
  }, Invoice)
  made[inv] = true
  return inv
end

--- An invoice, made by `invoice`.  Its fields:
--
-- - `book`, `edition`, `month` (`"YYYY-MM"`), `tz` (the days' zone, `"+08:00"`);
-- - `lines`: an array of `{ code =, amount = money, quantity =, unit_price =, note = }`,
--   `code` one of `plan_fee`, `dau_overage`, `group_overage`, `mau_overage`,
--   `addon`, `trtc` (a `trtc` line has `tiers` instead of one unit price);
-- - `total`: money, the sum of the rounded lines;
-- - `due`, `suspend`, `delete`: `"YYYY-MM-DD"`, when the bill is due and what
--   happens if it stays unpaid;
-- - `usage`: the peaks billed; `notes`: what the invoice priced without being
--   fully given (a book not yet in force, a missing measure, part of a month).
--
-- `tostring(inv)` is the readable invoice, one line per charge.
-- @type Invoice

--- Plain data (strings and integers only), ready for JSON.
-- @treturn table `{ kind = "invoice", currency =, book =, edition =, month =, tz =, lines =, total =,`
-- `total_cents =, due =, suspend =, delete =, usage =, notes = }`, amounts as exact decimal strings
-- @raise `invoice:data: self: expected an invoice ...` when not called on one
function Invoice:data()
  self_invoice(self, "data")
  local lines = result.array()
  for i, l in ipairs(self.lines) do
    lines[i] = { code = l.code, amount = tostring(l.amount), quantity = l.quantity,
                 unit_price = l.unit_price and tostring(l.unit_price) or nil, note = l.note,
                 addon = l.addon, edition = l.edition, from = l.from, to = l.to }
    if l.tiers then
      local tiers = result.array()
      for j, t in ipairs(l.tiers) do
        tiers[j] = { tier = t.tier, minutes = t.minutes, billed = t.billed }
      end
      lines[i].tiers = tiers
    end
  end
  local notes = result.strings(self.notes)
  local usage = {}
  for k, v in next, self.usage do usage[k] = v end
  return { kind = "invoice", currency = result.CURRENCY, book = self.book, edition = self.edition, month = self.month,
           tz = self.tz, lines = lines,
           total = tostring(self.total), total_cents = self.total:cents(), due = self.due,
           suspend = self.suspend, delete = self.delete, usage = usage, notes = notes }
end

--- RFC 4180 CSV: one record per line, then the total with the due date.
-- Columns: `month,book,edition,line,amount,quantity,note`; the notes follow
-- as records of line `note`.
-- @treturn string the CSV text, with its header
function Invoice:csv()
  local rows = {}
  for _, l in ipairs(self.lines) do
    rows[#rows + 1] = { self.month, self.book, self.edition, l.code, tostring(l.amount), l.quantity, l.note }
  end
  rows[#rows + 1] = { self.month, self.book, self.edition, "total", tostring(self.total), nil, "due " .. self.due }
  for _, n in ipairs(self.notes) do rows[#rows + 1] = { self.month, self.book, self.edition, "note", nil, nil, n } end
  return result.csv({ "month", "book", "edition", "line", "amount", "quantity", "note" }, rows)
end

function Invoice:__tostring()
  if not made[self] then return "imbill invoice (not made by imbill.invoice)" end
  local rows = {}
  for _, l in ipairs(self.lines) do rows[#rows + 1] = { l.code, money.pretty(l.amount), l.note } end
  rows[#rows + 1] = { "total", money.pretty(self.total), "USD" }
  local body = fmt.table(nil, rows, { false, true, false })
  local out, width = {}, 0
  for line in body:gmatch("[^\n]+") do
    out[#out + 1] = line
    width = math.max(width, #line)
  end
  table.insert(out, #out, string.rep("-", width))
  return table.concat({
    string.format("Invoice %s  price book %s, edition %s  (USD, days in UTC%s)", self.month, self.book,
      self.edition, self.tz),
    table.concat(out, "\n"),
    string.format("due %s; if unpaid: suspended %s, data deleted %s", self.due, self.suspend, self.delete),
  }, "\n") .. (self.notes and #self.notes > 0 and ("\nnote: " .. table.concat(self.notes, "\nnote: ")) or "")
end

M.Invoice = Invoice
return M
