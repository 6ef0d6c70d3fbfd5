--- Shadow pricing: the same usage priced under two price books (typically a
-- built-in one and a user-modified one, "what would a 129.99 pro have cost
-- us?"), with the differences line by line and month by month.  Both sides
-- are real invoices from imbill.invoice, and their notes (a book not yet in
-- force, a month the usage covers in part) are the shadow run's too.
--
-- `imbill.shadow` is `run` below.
-- @usage local s = imbill.series.read_csv("examples/data/usage_2021.csv")
-- print(imbill.shadow{ usage = s, base = "2020", editions = { "pro" }, from = "2021-01", months = 3,
--                      shadow = { base = "2020", editions = { pro = { monthly_fee = "129.99" } } } })
local check = require "imbill.internal.check"
local methods = require "imbill.internal.methods"
local money = require "imbill.internal.money"
local dates = require "imbill.internal.dates"
local fmt = require "imbill.internal.fmt"
local result = require "imbill.internal.result"
local invoice = require "imbill.bill.invoice"
local input = require "imbill.whatif.input"
local caps = require "imbill.bill.caps"

local M = {}
local FN = "imbill.shadow"

local Shadow = methods.class("shadow", "a shadow run (imbill.shadow)", "sh")
M.Shadow = Shadow

-- The key that pairs a line of one invoice with its twin in the other.
local function key(l)
  return l.code .. (l.addon and (":" .. l.addon) or "") .. (l.edition and (":" .. l.edition) or "")
    .. (l.from and (":" .. l.from) or "")
end

local function add_notes(list, inv)
  for _, n in ipairs(inv.notes) do
    local seen = false
    for _, x in ipairs(list) do seen = seen or x == n end
    if not seen then list[#list + 1] = n end
  end
end

--- The same usage priced under two price books, line by line and month by month.
--
-- `imbill.shadow{ usage = series | "history.csv", base = "2020", shadow = book | { base =`
-- `"2020", editions = { pro = { monthly_fee = "129.99" } } }, editions = { "pro" }`
-- `(default: the editions both books have), from =, to = | months =, activated = date,`
-- `mau_per_dau = ratio (MAU = ratio x peak DAU, for a usage without MAU) }`
-- @tab p the shadow run:
-- @tparam Series|string|table p.usage a series, a usage history file, or `{ csv = text }`
-- @tparam string|Book p.base the price book billed
-- @tparam Book|table p.shadow the other book: a book, or a table deriving one (as `imbill.book` takes it)
-- @tparam[opt] {string,...} p.editions edition ids both books have (default: every one they share)
-- @string[opt] p.from the first month, `"YYYY-MM"`
-- @string[opt] p.to the last month, or
-- @int[opt] p.months the number of months
-- @string[opt] p.activated the first paid activation, `"YYYY-MM-DD"`
-- @tparam[opt] string|number p.mau_per_dau MAU as this ratio of the peak DAU
-- @tab[opt] p.csv the CSV reader's options when `usage` is a file
-- @treturn Shadow the differences
-- @raise `imbill.shadow: base: is required ...`, `shadow: is required ...`, `editions[i]: not an`
-- `edition of both books (...)`, `editions: the two books have no edition in common`, the invoices' errors
function M.run(p)
  p = check.fields(FN, p, { usage = true, base = true, shadow = true, editions = true, from = true, to = true,
                        months = true, activated = true, csv = true, mau_per_dau = true })
  local s = input.usage_of(FN, p.usage, p.csv)
  if p.base == nil then check.fail(FN, "base", "is required (a price book: \"2020\", \"2021\", \"2022\" or a book)", nil) end
  if p.shadow == nil then check.fail(FN, "shadow", "is required (a user book or a table deriving one)", nil) end
  local a, b = input.book(FN, "base", p.base), input.book(FN, "shadow", p.shadow)
  local eds = {}
  if p.editions ~= nil then
    check.list(FN, "editions", p.editions, "edition ids")
    if check.len(p.editions) == 0 then
      check.fail(FN, "editions", "is an empty list: name at least one edition of both books, or leave editions out "
        .. "to compare every edition they share", check.NOVALUE)
    end
    for i, e in check.items(p.editions) do
      if type(e) ~= "string" or not a:has_edition(e) or not b:has_edition(e) then
        check.fail(FN, "editions[" .. i .. "]", "not an edition of both books (" .. a.name .. ": "
          .. table.concat(a:editions(), ", ") .. "; " .. b.name .. ": " .. table.concat(b:editions(), ", ") .. ")", e)
      end
      eds[#eds + 1] = e
    end
  else
    for _, e in ipairs(a:editions()) do if b:has_edition(e) then eds[#eds + 1] = e end end
  end
  if #eds == 0 then check.fail(FN, "editions", "the two books have no edition in common", check.NOVALUE) end
  local months = input.horizon(FN, s, p)
  local priced = {}
  for _, e in ipairs(eds) do
    priced[#priced + 1] = { ed = a:edition(e), name = a.name .. "/" .. e }
    priced[#priced + 1] = { ed = b:edition(e), name = b.name .. "/" .. e }
  end
  local assumptions
  s, assumptions = input.mau(FN, s, p.mau_per_dau, priced)
  local act = p.activated
  local act_day = act ~= nil and check.call(FN, dates.day, act, "activated") or nil

  local out = methods.new(Shadow, { base = a.name, shadow = b.name, editions = {}, months = {}, assumptions = assumptions,
                             notes = {} })
  for _, m in ipairs(months) do out.months[#out.months + 1] = dates.format_month(m) end
  for _, e in ipairs(eds) do
    local ed_out = { edition = e, months = {}, base_total = 0, shadow_total = 0 }
    for j, month in ipairs(out.months) do
      local u = s:usage(months[j])
      local function price(book)
        local ed = book:edition(e)
        local activated = act
        if activated and (ed.free or dates.month_of(act_day) ~= months[j]) then activated = nil end
        return check.call(FN, invoice.invoice, { book = book, edition = e, month = month, dau = u.dau,
          groups = u.groups, peak_dau = u.peak_dau, groups_peak = u.groups_peak, mau = u.mau, activated = activated,
          covers = u.covers })
      end
      local ia, ib = price(a), price(b)
      local lines, seen = {}, {}
      for _, l in ipairs(ia.lines) do
        local k = key(l)
        seen[k] = #lines + 1
        lines[#lines + 1] = { code = l.code, key = k, base = l.amount, shadow = money.ZERO, base_note = l.note }
      end
      for _, l in ipairs(ib.lines) do
        local k = key(l)
        local row = seen[k] and lines[seen[k]]
        if not row then
          row = { code = l.code, key = k, base = money.ZERO }
          lines[#lines + 1] = row
        end
        row.shadow, row.shadow_note = l.amount, l.note
      end
      for _, row in ipairs(lines) do row.difference = row.shadow - row.base end
      local notes = {}
      add_notes(notes, ia)
      add_notes(notes, ib)
      -- a free edition past its caps cannot serve the month: its 0.00 is no
      -- price, and the month says so (as projections and comparisons mark it)
      local _, r = s:usage(months[j])
      local used = { peak_dau = r.peak_dau, groups_peak = r.groups_peak, mau = r.mau }
      local serves = {}
      for _, sb in ipairs { { "base", a }, { "shadow", b } } do
        local side, book = sb[1], sb[2]
        local why = caps.reasons(book:edition(e), used)
        serves[side] = #why == 0
        if #why > 0 then
          notes[#notes + 1] = book.name .. "/" .. e .. " cannot serve this usage (" .. table.concat(why, "; ")
            .. "): its " .. money.pretty(side == "base" and ia.total or ib.total) .. " is no price"
        end
      end
      for _, n in ipairs(notes) do
        local line = month .. ": " .. n
        local dup = false
        for _, x in ipairs(out.notes) do dup = dup or x == line end
        if not dup then out.notes[#out.notes + 1] = line end
      end
      ed_out.months[#ed_out.months + 1] = { month = month, base = ia.total, shadow = ib.total,
                                            difference = ib.total - ia.total, lines = lines, notes = notes,
                                            base_invoice = ia, shadow_invoice = ib, base_serves = serves.base,
                                            shadow_serves = serves.shadow }
      ed_out.base_total = ed_out.base_total + ia.total:cents()
      ed_out.shadow_total = ed_out.shadow_total + ib.total:cents()
    end
    ed_out.base_total = money.from_cents(ed_out.base_total)
    ed_out.shadow_total = money.from_cents(ed_out.shadow_total)
    ed_out.difference = ed_out.shadow_total - ed_out.base_total
    out.editions[#out.editions + 1] = ed_out
  end
  return out
end

local function signed(m)
  if m > money.ZERO then return "+" .. money.pretty(m) end
  return money.pretty(m)
end

--- A shadow run, made by `run`.  Its fields: `base`, `shadow` (the two books'
-- names), `months`, `editions` (one per edition: `{ edition =, base_total =,`
-- `shadow_total =, difference =, months = { { month =, base =, shadow =,`
-- `difference =, lines =, notes =, base_invoice =, shadow_invoice =, base_serves =, shadow_serves = }, ... } }`,
-- (`base_serves` false: a free edition past its caps on that book; a note says so),
-- each line `{ code =, base =, shadow =, difference = }`), `assumptions`, `notes`.
-- A difference is shadow minus base.
--
-- `tostring(sh)` is `sh:table()`.  The methods check their receiver.
-- @type Shadow

--- An aligned table: each month's lines on both books and their difference,
-- the month's total, and each edition's total.
-- @treturn string the table, then the assumptions and notes
function Shadow:table()
  local rows = {}
  for _, e in ipairs(self.editions) do
    for _, mo in ipairs(e.months) do
      for i, l in ipairs(mo.lines) do
        rows[#rows + 1] = { i == 1 and mo.month or "", i == 1 and e.edition or "", l.code, money.pretty(l.base),
                            money.pretty(l.shadow), signed(l.difference) }
      end
      rows[#rows + 1] = { "", "", "month total", money.pretty(mo.base), money.pretty(mo.shadow), signed(mo.difference) }
    end
    rows[#rows + 1] = { "total", e.edition, "", money.pretty(e.base_total), money.pretty(e.shadow_total),
                        signed(e.difference) }
  end
  local out = fmt.table({ "month", "edition", "line", self.base, self.shadow, "difference" }, rows,
    { false, false, false, true, true, true })
  for _, a in ipairs(self.assumptions) do out = out .. "\nassumed: " .. a end
  for _, n in ipairs(self.notes) do out = out .. "\nnote: " .. n end
  return out
end
Shadow.__tostring = Shadow.table

--- Plain data for JSON: amounts as exact decimal strings.
-- @treturn table `{ kind = "shadow", currency =, base =, shadow =, months =, editions =, assumptions =, notes = }`
function Shadow:data()
  local d = { kind = "shadow", currency = result.CURRENCY, base = self.base, shadow = self.shadow,
              months = result.strings(self.months), editions = result.array(),
              assumptions = result.strings(self.assumptions), notes = result.strings(self.notes) }
  for i, e in ipairs(self.editions) do
    local ms = result.array()
    for j, mo in ipairs(e.months) do
      local lines = result.array()
      for k, l in ipairs(mo.lines) do
        lines[k] = { code = l.code, base = tostring(l.base), shadow = tostring(l.shadow),
                     difference = tostring(l.difference) }
      end
      ms[j] = { month = mo.month, base = tostring(mo.base), shadow = tostring(mo.shadow),
                difference = tostring(mo.difference), lines = lines, notes = result.strings(mo.notes) }
    end
    d.editions[i] = { edition = e.edition, base_total = tostring(e.base_total), shadow_total = tostring(e.shadow_total),
                      difference = tostring(e.difference), months = ms }
  end
  return d
end

--- RFC 4180 CSV, one record per line and one per month's total:
-- `month,edition,line,base,shadow,difference`.
-- @treturn string the CSV text, with its header
function Shadow:csv()
  local rows = {}
  for _, e in ipairs(self.editions) do
    for _, mo in ipairs(e.months) do
      for _, l in ipairs(mo.lines) do
        rows[#rows + 1] = { mo.month, e.edition, l.code, tostring(l.base), tostring(l.shadow), tostring(l.difference) }
      end
      rows[#rows + 1] = { mo.month, e.edition, "total", tostring(mo.base), tostring(mo.shadow), tostring(mo.difference) }
    end
  end
  return result.csv({ "month", "edition", "line", "base", "shadow", "difference" }, rows)
end

methods.seal(Shadow)

return M
