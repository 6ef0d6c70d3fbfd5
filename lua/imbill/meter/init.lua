--- imbill.meter: in-process quota metering (docs/meter.md).
--
--   local m = imbill.meter{ book = "2020", edition = "trial" }   -- tz = "+08:00" optional
--   local ok, refusal = m:create_account("u1", t)                -- t: Unix seconds
--
-- Every action method takes an optional event id as its last argument; a
-- replayed id is ignored (returns true, "duplicate").  An action that changes
-- nothing (importing an existing account, a repeated join) returns true,
-- "unchanged".  A quota refusal returns false, refusal with refusal = { code =,
-- limit =, max =, current =, message =, action =, edition =, day = }.  Bad
-- input raises an error naming the field.
--
-- The counting is the C core's (src/core/meter.c, src/core/plan.c); this file
-- adds what needs price books: editions and their limits, edition changes,
-- usage for imbill.invoice, save and load.  The meter's Lua state (its book
-- and add-ons) lives in the meter userdata itself (core.meter_impl.state).
local core = require "imbill.core"
local check = require "imbill.internal.check"
local errors = require "imbill.internal.errors"
local books = require "imbill.book"
local dates = require "imbill.internal.dates"
local refusals = require "imbill.meter.refusals"

local impl = core.meter_impl
local Meter = core.methods

local M = {}
local FN = "imbill.meter"
M.Meter = Meter
M.DEDUP_DAYS = core.DEDUP_DAYS

impl.set_formatter(refusals.message)

local FLAT_LIMITS = { "accounts", "friends_per_user", "groups_per_user", "av_groups", "non_av_groups",
                      "daily_net_groups", "bchatroom_daily", "bchatroom_total" }

--- The limits the meter enforces for an edition: its own, raised by add-ons
-- (book:addon(id).raises[limit][edition], false meaning unlimited), with the
-- edition's features.
function M.limits(book, ed, addons, same_day)
  local fn = "imbill.meter.limits"
  if not books.is_book(book) then check.fail(fn, "book", "expected a price book (imbill.book)", book) end
  if not books.is_edition(ed) or ed.book ~= book.name or not book:has_edition(ed.id) then
    check.fail(fn, "edition", "expected an edition of price book " .. book.name, ed)
  end
  if addons ~= nil then check.table(fn, "addons", addons) end
  local raises = {}
  for i, id in check.items(addons or {}) do
    raises[i] = errors.call(fn, "addons[" .. i .. "]", book.addon, book, id).raises
  end
  local out = { same_day_disbands = same_day == true, features = {} }
  for _, k in ipairs(FLAT_LIMITS) do out[k] = ed.limits[k] end
  local members = {}
  for _, g in ipairs(books.GROUP_TYPES) do members[g] = ed:members_limit(g) end
  for _, r in ipairs(raises) do
    for limit, per in next, r do
      local v = per[ed.id]
      if v ~= nil then
        if limit == "members_per_group" then
          for g in next, books.NON_AV do
            local x = v
            if type(v) == "table" then x = v[g] end
            if x ~= nil then members[g] = x or nil end
          end
        elseif out[limit] ~= nil or ed.limits[limit] == nil then
          out[limit] = v or nil
        end
      end
    end
  end
  out.members = members
  for _, f in ipairs(books.FEATURES) do
    if ed.features[f] then out.features[#out.features + 1] = f end
  end
  return out
end

local function check_addons(fn, book, ed, addons)
  if addons == nil then return {} end
  check.table(fn, "addons", addons)
  local out = {}
  for i, id in check.items(addons) do
    local a = errors.call(fn, "addons[" .. i .. "]", book.addon, book, id)
    if not a.fee[ed.id] then
      check.fail(fn, "addons[" .. i .. "]", string.format("add-on %s is not sold for edition %s", id, ed.id), id)
    end
    out[#out + 1] = id
  end
  return out
end

local OPTS = { book = true, edition = true, tz = true, addons = true, activated = true, same_day_disbands = true,
               clock = true }

--- imbill.meter{ book =, edition =, tz =, addons =, activated =, same_day_disbands = }
function M.new(o)
  check.fields(FN, o, OPTS)
  if o.book == nil then check.fail(FN, "book", "is required (a price book name or object)", check.NOVALUE) end
  local book = errors.call(FN, "book", books.get, o.book)
  if o.edition == nil then
    check.fail(FN, "edition", "is required (one of: " .. table.concat(book:editions(), ", ") .. ")", check.NOVALUE)
  end
  local ed = errors.call(FN, "edition", book.edition, book, o.edition)
  local offset = o.tz == nil and book.offset or dates.offset(o.tz, "tz", FN)
  if o.same_day_disbands ~= nil and type(o.same_day_disbands) ~= "boolean" then
    check.fail(FN, "same_day_disbands", "expected a boolean", o.same_day_disbands)
  end
  local addons = check_addons(FN, book, ed, o.addons)
  local state = { book = book, book_name = book.name, addons = { addons }, same_day = o.same_day_disbands == true }
  local m = impl.new(offset, ed.id, M.limits(book, ed, addons, o.same_day_disbands), ed.free, state)
  if o.activated ~= nil then
    local day = dates.day(o.activated, "activated", FN)
    if ed.free then
      check.fail(FN, "activated", "is the first activation of a paid edition, but " .. ed.id .. " is free",
        o.activated)
    end
    impl.activated(m, dates.format(day))
  end
  if o.clock ~= nil then errors.call(FN, "clock", impl.set_clock, m, o.clock) end
  return m
end

setmetatable(M, { __call = function(_, o) return M.new(o) end })

-- A call of the core's private entry points, its error named by the method
-- that made it (a finalizer may close the meter in the middle of a method).
local function on(fn, f, ...) return errors.call(fn, nil, f, ...) end

local function state(m, fn)
  if not impl.is_meter(m) then check.fail(fn, "self", "expected a meter: call it as m:" .. fn:match(":(.*)") .. "(...)", m) end
  if impl.handle(m) == nil then check.fail(fn, "self", "the meter was closed", check.NOVALUE) end
  return impl.state(m)
end

--- The edition in force at instant t (now: the latest).
function Meter:edition(t)
  local fn = "meter:edition"
  local st = state(self, fn)
  if t ~= nil and (type(t) ~= "number" or t ~= math.floor(t)) then
    check.fail(fn, "t", "expected an instant in whole Unix seconds", t)
  end
  local segs = on(fn, impl.segments, self)
  local s = segs[#segs]
  if t ~= nil then
    for i = #segs, 1, -1 do
      s = segs[i]
      if s.from == nil or s.from <= t then break end
    end
  end
  return st.book:edition(s.edition)
end

function Meter:book() return state(self, "meter:book").book end

--- m:set_clock(t): the time this meter's events arrive at (nil: none).  An
-- event more than a day after the clock is refused "future" (docs/meter.md).
function Meter:set_clock(t)
  state(self, "meter:set_clock")
  errors.call("meter:set_clock", "t", impl.set_clock, self, t)
end

local CHANGE_CODES = {
  twice = { "one_change_per_month", "one edition change per calendar month: %s already has one" },
  backwards = { "out_of_order", "edition changes must come in time order: the last one is later than %s" },
  same = { "same_edition", "edition %s is already in force" },
  no_return = { "no_return_to_free", "price book %s does not allow going back to the free edition %s after "
    .. "leaving it; the app stays on %s" },
}

--- m:change_edition(id, t [, event_id]) -> true | true, "duplicate" | false, refusal
-- Limits of the new edition apply to actions at or after t; nothing already
-- counted is undone.  Whether the change is allowed is the core's
-- edition-change policy (one change a month, no return to a free edition
-- where the book forbids it).  Refusal codes (Tencent has none for these):
-- "one_change_per_month", "no_return_to_free", "same_edition", "out_of_order".
function Meter:change_edition(id, t, event_id)
  local fn = "meter:change_edition"
  local st = state(self, fn)
  local book = st.book
  local ed = errors.call(fn, "edition", book.edition, book, id)
  if event_id ~= nil then check.string(fn, "event id", event_id) end
  local day = errors.call(fn, nil, dates.day_of, t, on(fn, impl.offset, self), "t")
  local segs = on(fn, impl.segments, self)
  local cur = book:edition(segs[#segs].edition)
  local addons = {}
  for _, a in ipairs(st.addons[#segs] or {}) do
    if book:addon(a).fee[ed.id] then addons[#addons + 1] = a end
  end
  local verdict = on(fn, impl.change, self, book.policy, t, ed.id, M.limits(book, ed, addons, st.same_day), ed.free)
  if verdict == "ok" then
    st.addons[#segs + 1] = addons
    return true
  end
  if verdict == "duplicate" then return true, "duplicate" end
  local c = CHANGE_CODES[verdict]
  local msg
  if verdict == "no_return" then msg = string.format(c[2], book.name, ed.id, cur.id)
  elseif verdict == "twice" then msg = string.format(c[2], dates.format_month(dates.month_of(day)))
  elseif verdict == "same" then msg = string.format(c[2], id)
  else msg = string.format(c[2], dates.format(day)) end
  return false, { code = c[1], limit = "edition_change", action = "change_edition", edition = cur.id,
                  day = dates.format(day), message = "Edition change refused: " .. msg .. "." }
end

--- m:addons() -> the add-ons in force now (ids).
function Meter:addons()
  local st = state(self, "meter:addons")
  local out = {}
  for i, a in ipairs(st.addons[#st.addons] or {}) do out[i] = a end
  return out
end

--- m:usage("YYYY-MM"): the month as imbill.invoice takes it, with every fact
-- the invoice rules read: the edition in force on the month's first day, the
-- month's change, the first paid activation (whenever it was) and the add-ons,
-- so that the invoice of a metered month equals the invoice of the same facts
-- given by hand.
function Meter:usage(month)
  local fn = "meter:usage"
  local st = state(self, fn)
  local mo = dates.month(month, "month", fn)
  local first = dates.month_first(mo)
  local last = first + dates.month_length(mo) - 1
  local dau, groups, mau = on(fn, impl.month, self, month)
  local segs = on(fn, impl.segments, self)
  local at_first, change, change_seg = 1, nil, nil
  for i, s in ipairs(segs) do
    local d = s.day and dates.day(s.day) or nil
    if d == nil or d < first then
      at_first = i
    elseif d <= last then
      change, change_seg = s, i
    end
  end
  local book = st.book
  local builtin = false
  for _, n in ipairs(books.BUILTIN) do if book == books.get(n) then builtin = true end end
  local u = {
    book = builtin and book.name or book, edition = segs[at_first].edition, month = dates.format_month(mo),
    dau = dau, groups = groups, mau = mau, tz = dates.format_tz(on(fn, impl.offset, self)),
  }
  if change then u.change = { on = change.day, to = change.edition } end
  local act = on(fn, impl.activated, self)
  if act and dates.day(act) <= last then u.activated = act
  elseif not act and not segs[1].free then
    -- started on a paid edition: the first activation is older than the meter
    u.activated_before = true
  end
  local addons = st.addons[change_seg or at_first]
  if addons and #addons > 0 then
    u.addons = {}
    for i, a in ipairs(addons) do u.addons[i] = a end
  end
  return u
end

--- The month's invoice, straight from the meter.
function Meter:invoice(month)
  state(self, "meter:invoice")
  local u = errors.call("meter:invoice", nil, Meter.usage, self, month)
  return errors.call("meter:invoice", nil, require("imbill.bill.invoice").invoice, u)
end

-- Saved with the counters: what the Lua side needs to rebuild itself.
local function encode_meta(st)
  local lines = { "imbill-meter-meta 1", "book=" .. st.book_name, "same_day=" .. tostring(st.same_day) }
  for i, a in ipairs(st.addons) do lines[#lines + 1] = "addons." .. i .. "=" .. table.concat(a, ",") end
  return table.concat(lines, "\n")
end

local function decode_meta(s, path)
  local lines = {}
  for line in s:gmatch("[^\n]+") do lines[#lines + 1] = line end
  if lines[1] ~= "imbill-meter-meta 1" then check.fail(FN .. ".load", "path", "unknown metadata", path) end
  local out = { addons = {} }
  for i = 2, #lines do
    local k, v = lines[i]:match("^([%w_%.]+)=(.*)$")
    if not k then check.fail(FN .. ".load", "path", "malformed metadata", path) end
    local n = k:match("^addons%.(%d+)$")
    if n then
      local list = {}
      for a in v:gmatch("[^,]+") do list[#list + 1] = a end
      out.addons[tonumber(n)] = list
    elseif k == "book" then out.book = v
    elseif k == "same_day" then out.same_day = v == "true"
    end
  end
  if not out.book or out.book == "" then check.fail(FN .. ".load", "path", "malformed metadata (no book)", path) end
  return out
end

--- m:save(path): the whole state, atomically (temporary file, fsync, rename).
-- Returns true, or raises an error naming the path.
function Meter:save(path, opts)
  local fn = "meter:save"
  local st = state(self, fn)
  check.string(fn, "path", path)
  if path == "" or path:find("\0", 1, true) then check.fail(fn, "path", "expected a file name (not empty, no NUL byte)", path) end
  if opts ~= nil then check.fields(fn, check.table(fn, "opts", opts), { crash_after_bytes = true }) end
  local crash = opts and check.opt_count(fn, "opts.crash_after_bytes", opts.crash_after_bytes)
  local ok, err = on(fn, impl.save, self, path, encode_meta(st), crash)
  if not ok then check.fail(fn, "path", err, check.NOVALUE) end
  return true
end

--- imbill.meter.load(path [, { book = user_book }]): a saved meter, exactly.
-- A truncated, corrupt or foreign file raises an error naming the path and
-- the problem; no meter is returned.  A meter on a user book needs that book.
function M.load(path, opts)
  local fn = FN .. ".load"
  check.string(fn, "path", path)
  if path == "" or path:find("\0", 1, true) then check.fail(fn, "path", "expected a file name (not empty, no NUL byte)", path) end
  if opts ~= nil then check.fields(fn, opts, { book = true }) end
  local st = {}
  local m, meta = impl.load(path, st)
  if not m then check.fail(fn, "path", meta, check.NOVALUE) end
  local d = decode_meta(meta, path)
  local book
  if opts and opts.book ~= nil then
    book = errors.call(fn, "book", books.get, opts.book)
    if book.name ~= d.book then
      check.fail(fn, "book", "the file was saved with price book " .. d.book, book.name)
    end
  else
    local ok, b = pcall(books.get, d.book)
    if not ok then
      check.fail(fn, "book", "the file was saved with user price book " .. d.book .. "; pass it as { book = }",
        check.NOVALUE)
    end
    book = b
  end
  local segs = impl.segments(m)
  for i = 1, #segs do d.addons[i] = d.addons[i] or {} end
  -- the limits come from the book, never from the file: the book is the one
  -- source of them (and of features, which older files did not record)
  for i, s in ipairs(segs) do
    local ed = errors.call(fn, "edition", book.edition, book, s.edition)
    impl.set_limits(m, i, M.limits(book, ed, d.addons[i], d.same_day))
  end
  st.book, st.book_name, st.addons, st.same_day = book, book.name, d.addons, d.same_day
  return m
end

return M
