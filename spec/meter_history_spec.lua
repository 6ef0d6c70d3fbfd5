-- The facts a metered month passes to its invoice, and the order events
-- arrive in, must not change a bill:
--  * an invoice from m:usage(month) equals the invoice of the same facts given
--    by hand, and both follow the plan-fee rule (docs/rules.md, "Plan fee"),
--    whatever the app's edition history;
--  * a month's group peaks are those of the events in time order, whatever
--    order they arrived in (Tencent's callbacks arrive out of order).
local H = require "helper"
local imbill = H.imbill
local core = require "imbill.core"

local DAY = 86400
local UTC8 = 8 * 3600
local function T(date, hour, minute) return core.parse_date(date) * DAY - UTC8 + (hour or 9) * 3600 + (minute or 0) * 60 end

describe("a metered re-upgrade", function()
  it("is charged by day in a later month than the first activation (2020): 149.99 x 15/30 = 75.00", function()
    local m = imbill.meter{ book = "2020", edition = "pro" }
    assert.is_true(m:change_edition("trial", T("2021-03-10")))
    assert.is_true(m:change_edition("pro", T("2021-04-16")))
    local inv = m:invoice("2021-04")
    assert.equal("75.00", tostring(inv.lines[2].amount))
    assert.equal("75.00", tostring(inv.total))
  end)

  it("trial -> pro on 03-10, trial on 04-10, pro again on 05-15: May is 149.99 x 17/31 = 82.25", function()
    local m = imbill.meter{ book = "2020", edition = "trial" }
    assert.is_true(m:change_edition("pro", T("2021-03-10")))
    assert.is_true(m:change_edition("trial", T("2021-04-10")))
    assert.is_true(m:change_edition("pro", T("2021-05-15")))
    assert.equal("0.00", tostring(m:invoice("2021-03").total)) -- the activation month
    assert.equal("45.00", tostring(m:invoice("2021-04").total)) -- 9 days of pro
    assert.equal("82.25", tostring(m:invoice("2021-05").total))
    local u = m:usage("2021-05")
    assert.equal("2021-03-10", u.activated)
    assert.same({ on = "2021-05-15", to = "pro" }, u.change)
  end)
end)

-- An edition change meets the bounds every event meets (docs/meter.md, "A
-- sender's clock error"): a change dated by a wrong clock must not wedge the
-- history, and a change on a released day must not rewrite a final month.
describe("an edition change and the meter's bounds", function()
  it("dated more than 366 days after the latest day counted is refused \"future\" and changes nothing", function()
    local m = imbill.meter{ book = "2020", edition = "trial" }
    assert.is_true(m:login("u1", T("2021-03-01")))
    -- 2022-03-02 is 366 days after 2021-03-01: the edge itself is allowed on a copy
    local edge = imbill.meter{ book = "2020", edition = "trial" }
    assert.is_true(edge:login("u1", T("2021-03-01")))
    assert.is_true(edge:change_edition("pro", T("2022-03-02")))
    local ok, r = m:change_edition("pro", T("2022-03-03"))
    assert.is_false(ok)
    assert.equal("future", r.code)
    assert.equal("edition_change", r.limit)
    assert.equal("2022-03-03", r.day)
    assert.matches("2022%-03%-03, more than 366 days after", r.message)
    -- the wrong date left nothing behind: a real change is still "ok", not
    -- "pro is already in force" or "out of order"
    assert.equal("trial", m:edition().id)
    assert.is_true(m:change_edition("pro", T("2021-03-05")))
    assert.equal("pro", m:edition().id)
  end)

  it("more than a day after the meter's clock is refused \"future\"", function()
    local m = imbill.meter{ book = "2020", edition = "trial", clock = T("2021-03-02", 9) }
    local ok, r = m:change_edition("pro", T("2021-03-03", 9) + 1)
    assert.is_false(ok)
    assert.equal("future", r.code)
    assert.is_true(m:change_edition("pro", T("2021-03-03", 9))) -- exactly a day after: allowed
  end)

  it("dated on a day released by m:release is refused \"closed\": the month's usage stays", function()
    local m = imbill.meter{ book = "2021", edition = "free" }
    for d = 0, 80 do assert.is_true(m:login("u1", T("2022-11-01") + d * DAY)) end
    m:release("2022-12-01")
    local before = m:usage("2022-11")
    local ok, r = m:change_edition("pro", T("2022-11-30"))
    assert.is_false(ok)
    assert.equal("closed", r.code)
    assert.equal("2022-11-30", r.day)
    assert.same(before, m:usage("2022-11"))
    assert.equal("0.00", tostring(m:invoice("2022-11").total))
    -- the first day not released takes the change
    assert.is_true(m:change_edition("pro", T("2022-12-01")))
  end)
end)

-- A meter without a clock cannot tell a quiet app from a wrong date, so it
-- bounds a date by the latest counted day; with a clock, the clock says when
-- the event arrived, and a quiet year does not stop the app for good.
describe("an app quiet for more than 366 days", function()
  local function quiet(clock)
    local m = imbill.meter{ book = "2020", edition = "pro" }
    assert.is_true(m:login("a", T("2021-03-01")))
    if clock then m:set_clock(clock) end
    return m
  end
  local back = T("2022-04-05") -- 400 days after 2021-03-01

  it("counts again once the meter's clock is set: login, batch, other actions, an edition change", function()
    local m = quiet(back)
    assert.is_true(m:login("a", back))
    assert.equal(1, m:dau("2022-04-05"))
    assert.equal(2, m:logins({ "b", "c" }, { back, back + 60 }))
    assert.is_true(m:create_account("x", back))
    assert.is_true(m:create_group("g", "Public", back, "e1"))
    assert.is_true(m:change_edition("flagship", back))
    -- the clock still bounds: more than a day after it is refused
    local ok, r = m:login("z", back + DAY + 1)
    assert.is_false(ok)
    assert.equal("future", r.code)
  end)

  it("without a clock is refused \"future\", as the only reference is the latest counted day", function()
    local m = quiet(nil)
    local ok, r = m:login("a", back)
    assert.is_false(ok)
    assert.equal("future", r.code)
    assert.equal(0, m:logins({ "b" }, { back }))
    ok, r = m:change_edition("flagship", back)
    assert.is_false(ok)
    assert.equal("future", r.code)
  end)
end)

-- The plan-fee rule, written here from docs/rules.md and not from the code.
local POLICY = {
  ["2020"] = { free_before = math.huge, back_to_free = true },
  ["2021"] = { free_before = core.parse_date("2022-10-18"), back_to_free = false },
  ["2022"] = { free_before = -math.huge, back_to_free = false },
}

local function expected_fee_cents(bookname, month, spans, activated)
  local book = imbill.book(bookname)
  local first, dim = core.month_first_day(month), core.month_length(month)
  local last = first + dim - 1
  local total = 0
  for i, s in ipairs(spans) do
    local from = math.max(s.from, first)
    local to = spans[i + 1] and spans[i + 1].from - 1 or last
    local ed = book:edition(s.edition)
    if to >= from and not ed.free then
      local activation = activated and activated >= first and activated >= from and activated <= to
      if activation then from = activated end
      local free_month = activation and activated < POLICY[bookname].free_before -- no plan fee
      if free_month then
        total = total + 0
      elseif to - from + 1 == dim then
        total = total + ed.monthly_fee:cents()
      else
        -- monthly * days / days_in_month, rounded once, half up
        total = total + core.prorate(ed.monthly_fee, to - from + 1, dim)
      end
    end
  end
  return total
end

local function plan_cents(inv)
  local c = 0
  for _, l in ipairs(inv.lines) do if l.code == "plan_fee" then c = c + l.amount:cents() end end
  return c
end

describe("metered invoices over random edition histories", function()
  local BOOKS = {
    { "2020", "2020-04-01" }, { "2021", "2022-06-01" }, { "2022", "2023-01-01" },
  }
  for seed = 1, 60 do
    local spec = BOOKS[seed % 3 + 1]
    it(("equal the invoices of the same facts given by hand (book %s, seed %d)"):format(spec[1], seed), function()
      math.randomseed(seed)
      local book = imbill.book(spec[1])
      local eds = book:editions()
      local start = eds[math.random(#eds)]
      local m = imbill.meter{ book = spec[1], edition = start }
      -- the history the test keeps itself: { from = day, edition = id }
      local hist = { { from = -math.huge, edition = start } }
      -- an app that starts on a paid edition was activated before the meter
      local paid_before = not book:edition(start).free
      local activated = nil
      local day0 = core.parse_date(spec[2])
      local t = T(spec[2], 0)
      for _ = 1, 14 do
        t = t + math.random(3 * DAY, 40 * DAY)
        local to = eds[math.random(#eds)]
        local ok = m:change_edition(to, t)
        if ok then
          local d = core.day_of(t, UTC8)
          local cur = book:edition(hist[#hist].edition)
          if activated == nil and not paid_before and cur.free and not book:edition(to).free then activated = d end
          hist[#hist + 1] = { from = d, edition = to }
        end
        m:login("u" .. math.random(50), t)
      end
      local last_month = core.month_of_day(core.day_of(t, UTC8))
      for mo = core.month_of_day(day0), last_month do
        local first, last = core.month_first_day(mo), core.month_first_day(mo) + core.month_length(mo) - 1
        local spans, change = {}, nil
        for _, h in ipairs(hist) do
          if h.from < first then spans = { { from = h.from, edition = h.edition } }
          elseif h.from <= last then
            spans[#spans + 1] = { from = h.from, edition = h.edition }
            change = { on = core.format_date(h.from), to = h.edition }
          end
        end
        local name = core.format_month(mo)
        local metered = m:invoice(name)
        local by_hand = imbill.invoice{
          book = spec[1], edition = spans[1].edition, month = name, change = change,
          activated = activated and activated <= last and core.format_date(activated) or nil,
          activated_before = paid_before or nil,
          dau = m:usage(name).dau, groups = m:usage(name).groups, mau = m:usage(name).mau,
        }
        assert.equal(tostring(by_hand), tostring(metered), name)
        local act = activated and activated <= last and activated or nil
        assert.equal(expected_fee_cents(spec[1], mo, spans, act), plan_cents(metered), name .. " plan fee")
      end
    end)
  end
end)

-- Arrival orders: each day's events in a random order in which a group's
-- create still comes before its disband (a disband that arrives before its
-- group exists is refused when it arrives, which is a different story).
local function shuffled(events)
  local byday, days = {}, {}
  for _, e in ipairs(events) do
    local d = core.day_of(e.t, UTC8)
    if not byday[d] then byday[d] = {} days[#days + 1] = d end
    table.insert(byday[d], e)
  end
  table.sort(days)
  local out = {}
  for _, d in ipairs(days) do
    local left, arrived = byday[d], {}
    while #left > 0 do
      local ready = {}
      for i, e in ipairs(left) do
        if e.action == "create_group" or arrived[e.group] or e.created_before then ready[#ready + 1] = i end
      end
      local i = ready[math.random(#ready)]
      local e = table.remove(left, i)
      if e.action == "create_group" then arrived[e.group] = true end
      out[#out + 1] = e
    end
  end
  return out
end

local function apply(m, e)
  if e.action == "create_group" then return m:create_group(e.group, e.type, e.t) end
  return m:disband_group(e.group, e.t)
end

describe("group peaks", function()
  it("follow time order: a disband at 09:00 arriving after a create at 10:00 leaves the peak at 1", function()
    local m = imbill.meter{ book = "2020", edition = "pro" }
    assert.is_true(m:create_group("A", "Public", T("2021-03-01", 9)))
    assert.is_true(m:create_group("B", "Public", T("2021-03-02", 10)))
    assert.is_true(m:disband_group("A", T("2021-03-02", 9)))
    assert.equal(1, (m:peak_groups("2021-03")))
    assert.same(1, m:usage("2021-03").groups[2])
  end)

  it("keep time order through a save and a load: the late disband still lands before the create", function()
    local m = imbill.meter{ book = "2020", edition = "pro" }
    assert.is_true(m:create_group("A", "Public", T("2021-03-01", 9)))
    assert.is_true(m:create_group("B", "Public", T("2021-03-02", 10)))
    local p = os.tmpname()
    m:save(p)
    local back = imbill.meter.load(p)
    os.remove(p)
    assert.is_true(back:disband_group("A", T("2021-03-02", 9)))
    assert.equal(1, (back:peak_groups("2021-03")))
  end)

  it("an event dated before its group's creation, on the same day, finds no group (10010)", function()
    local m = imbill.meter{ book = "2020", edition = "pro" }
    assert.is_true(m:create_group("A", "Public", T("2021-03-01", 10)))
    local ok, r = m:disband_group("A", T("2021-03-01", 9))
    assert.is_false(ok)
    assert.equal(10010, r.code)
    ok, r = m:join_group("A", "u", T("2021-03-01", 9, 59))
    assert.is_false(ok)
    assert.equal(10010, r.code)
    assert.is_true(m:join_group("A", "u", T("2021-03-01", 10)))
    assert.equal(1, (m:peak_groups("2021-03")))
  end)

  for seed = 1, 30 do
    it("are those of the sorted replay when same-day events are shuffled (seed " .. seed .. ")", function()
      math.randomseed(100 + seed)
      local events, alive, created_day = {}, {}, {}
      local t = T("2021-03-01", 0)
      for i = 1, 400 do
        t = t + math.random(0, 3 * 3600)
        local names = {}
        for g in pairs(alive) do names[#names + 1] = g end
        table.sort(names)
        if #names > 0 and math.random() < 0.45 then
          local g = names[math.random(#names)]
          alive[g] = nil
          local e = { action = "disband_group", group = g, t = t }
          e.created_before = created_day[g] < core.day_of(t, UTC8)
          events[#events + 1] = e
        else
          local g = "g" .. i
          alive[g] = true
          created_day[g] = core.day_of(t, UTC8)
          events[#events + 1] = { action = "create_group", group = g, type = "Public", t = t }
        end
      end
      local sorted, mixed = imbill.meter{ book = "2021", edition = "ultimate" },
                            imbill.meter{ book = "2021", edition = "ultimate" }
      for _, e in ipairs(events) do assert.is_true((apply(sorted, e))) end
      for _, e in ipairs(shuffled(events)) do assert.is_true((apply(mixed, e))) end
      for _, mo in ipairs({ "2021-03", "2021-04", "2021-05" }) do
        assert.same(sorted:usage(mo).groups, mixed:usage(mo).groups, mo)
      end
      -- and through a save and a load (the day logs go with the meter)
      local p = os.tmpname()
      mixed:save(p)
      local back = imbill.meter.load(p)
      os.remove(p)
      for _, mo in ipairs({ "2021-03", "2021-04" }) do
        assert.same(sorted:usage(mo).groups, back:usage(mo).groups, mo .. " after load")
      end
    end)
  end
end)
