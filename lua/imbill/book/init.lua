--- Price books and editions: the built-in data of books.lua, checked and turned
-- into objects, and user books derived from them for what-if pricing.
--
-- `imbill.book(x)` is `get` below and `imbill.book_at(date)` is `at`.  A book
-- and an edition are checked when they are made; their methods check their
-- receiver (`book.edition("pro")`, a dot for the colon, raises
-- `book:edition: self: expected a price book ...`).
-- @usage local book = imbill.book("2022")
-- print(table.concat(book:editions(), ", "))            --> developer, standard, premium
-- print(book:edition("standard"):supports("read_receipts"))  --> false
local core = require "imbill.core"
local check = require "imbill.internal.check"
local errors = require "imbill.internal.errors"
local money = require "imbill.internal.money"
local dates = require "imbill.internal.dates"
local u8 = require "imbill.internal.utf8"
local DATA = require "imbill.book.data"

local M = {}

local FN = "imbill.book"

-- The enumerations are the core's (src/core/names.c): book data is checked
-- against them, so a type, feature or tier the core does not know cannot
-- slip through and then be ignored.

--- The group types: `Private`, `Public`, `ChatRoom`, `AVChatRoom`,
-- `BChatRoom`, `Community`.
M.GROUP_TYPES = core.GROUP_TYPES
--- Tencent's newer names for the same types: `Work` is `Private`, `Meeting`
-- is `ChatRoom`.
M.GROUP_ALIASES = { Work = "Private", Meeting = "ChatRoom" }
local NON_AV = {}
for _, g in ipairs(M.GROUP_TYPES) do
  if g ~= "AVChatRoom" and g ~= "BChatRoom" then NON_AV[g] = true end
end
M.NON_AV = NON_AV
--- The features an edition may have, the names `edition:supports` takes
-- (`push_all`, `multi_device`, `local_search`, `read_receipts`, ...).
M.FEATURES = core.FEATURES
local FEATURE_SET = {}
for _, f in ipairs(M.FEATURES) do FEATURE_SET[f] = true end

--- The limits an edition may set in `edition.limits` (`accounts`,
-- `friends_per_user`, `groups_per_user`, `members_per_group`, ...); a limit
-- that is not set is unlimited.
M.LIMITS = {
  "accounts", "friends_per_user", "groups_per_user", "members_per_group", "av_groups",
  "non_av_groups", "daily_net_groups", "bchatroom_daily", "bchatroom_total", "history_days",
  "free_dau", "free_mau", "free_groups",
}
local LIMIT_SET = {}
for _, l in ipairs(M.LIMITS) do LIMIT_SET[l] = true end

local Book, Edition = {}, {}
Book.__index, Edition.__index = Book, Edition
-- The books and editions this module made.  A table given Book's metatable
-- by hand is not a book: it has none of the fields a book's methods read.
local made = setmetatable({}, { __mode = "k" })
--- Whether `x` is an edition made by this module.
-- @param x any value
-- @treturn boolean `true` for an edition of a book
-- @function is_edition
local function is_edition(x) return made[x] == Edition end
M.is_edition = is_edition

local function canonical_type(t)
  return M.GROUP_ALIASES[t] or t
end

--- The canonical name of a group type, an alias (`Work`, `Meeting`) read as
-- the type it names.  For imbill's own modules, which name their function and
-- field in the error.
-- @string t the group type
-- @string fn the public function an error names
-- @string[opt="type"] field the field an error names
-- @treturn string one of `GROUP_TYPES`
-- @raise `fn: field: unknown group type (known: ...)`
-- @local
function M.group_type(t, fn, field)
  local c = type(t) == "string" and canonical_type(t)
  for _, g in ipairs(M.GROUP_TYPES) do
    if g == c then return c end
  end
  check.fail(fn, field or "type", "unknown group type (known: " .. table.concat(M.GROUP_TYPES, ", ")
    .. ", and the aliases Work, Meeting)", t)
end

--- An edition of a price book, made by the book (`book:edition(id)`).  Its
-- fields, read-only:
--
-- - `id`: the edition's id (`"pro"`); `book`: its book's name;
-- - `monthly_fee`: money; `free`: `true` for a free edition (no plan fee,
--   capped usage);
-- - `limits`: the quotas by name (`LIMITS`), a missing one unlimited;
--   `members_per_group` is a number, or a table by group type where types differ;
-- - `features`: a set, `features[name] == true`;
-- - `charges`: `dau`, `groups` and `mau`, each `{ free =, block =, price = }`
--   or nil;
-- - `rate`: the core's form of the prices.
-- @type Edition

local function self_edition(self, method)
  if not is_edition(self) then
    check.fail("edition:" .. method, "self", "expected an edition: call it as edition:" .. method .. "(...)", self)
  end
end

--- Members limit for one group type; nil = unlimited.  AVChatRoom and BChatRoom
-- have no member cap in any edition.
-- @string gtype a group type (`GROUP_TYPES`)
-- @treturn ?int the most members a group of that type may have, nil for no limit
function Edition:members_limit(gtype)
  self_edition(self, "members_limit")
  if not NON_AV[gtype] then return nil end
  local m = self.limits.members_per_group
  if type(m) == "table" then return m[gtype] end
  return m
end

--- Whether the edition has a feature.
-- @string feature a feature name (`FEATURES`)
-- @treturn boolean `true` when the edition has it
-- @raise `edition:supports: feature: unknown feature (known: ...)` for a name
-- that is not a feature
-- @usage imbill.book("2020"):edition("pro"):supports("local_search")  --> false
function Edition:supports(feature)
  self_edition(self, "supports")
  if not FEATURE_SET[feature] then
    check.fail("edition:supports", "feature", "unknown feature (known: " .. table.concat(M.FEATURES, ", ") .. ")",
      feature)
  end
  return self.features[feature] == true
end

function Edition:__tostring()
  if not is_edition(self) then return "imbill edition (not made by imbill.book)" end
  return string.format("imbill edition %s/%s (%s a month)", self.book, self.id, tostring(self.monthly_fee))
end

--- A price book, made by `get` (`imbill.book`).  Its fields, read-only:
--
-- - `name`: `"2020"`, `"2021"`, `"2022"` or a user book's name;
-- - `from`, `to`: the days it is sold to new apps, `"YYYY-MM-DD"`; `to` is nil
--   while it is in force;
-- - `tz`: the billing time zone (`"+08:00"`), `offset` the same in seconds;
-- - `policy`: the edition-change policy (`return_to_free`, `activation_month_free`);
-- - `arrears`: when a bill is due and what an unpaid bill does.
-- @type Book

-- book.edition("pro") (a dot for the colon) would index nil deep inside.
local function self_book(self, method)
  if made[self] ~= Book then
    check.fail("book:" .. method, "self", "expected a price book: call it as book:" .. method .. "(...)", self)
  end
end

--- The ids of the book's editions, cheapest first (ties by id).
-- @treturn {string,...} a new array of edition ids
-- @usage imbill.book("2021"):editions()  --> { "free", "pro", "ultimate" }
function Book:editions()
  self_book(self, "editions")
  local out = {}
  for i, id in ipairs(self._order) do out[i] = id end
  return out
end

--- One edition of the book.
-- @string id the edition's id (`"pro"`)
-- @treturn Edition the edition
-- @raise `book:edition: edition: price book 2021 has no such edition (it has: ...)`
function Book:edition(id)
  self_book(self, "edition")
  local e = type(id) == "string" and self._editions[id]
  if not e then
    check.fail("book:edition", "edition", string.format("price book %s has no such edition (it has: %s)", self.name,
      table.concat(self._order, ", ")), id)
  end
  return e
end

--- Whether the book has an edition of that id.
-- @string id the edition's id
-- @treturn boolean `true` when it has one (`false` for anything else, never an error)
function Book:has_edition(id)
  self_book(self, "has_edition")
  return type(id) == "string" and self._editions[id] ~= nil
end

--- One add-on the book sells.
-- @string id the add-on's id (`"av_unlimited"`)
-- @treturn table `{ id =, fee = { [edition] = money }, raises = { [limit] = { [edition] = n or false } },`
-- `activation_month_free = boolean }`; `false` in `raises` means unlimited
-- @raise `book:addon: addon: price book ... has no such add-on (it has: ...)`
function Book:addon(id)
  self_book(self, "addon")
  local a = type(id) == "string" and self._addons[id]
  if not a then
    local names = {}
    for k in next, self._addons do names[#names + 1] = k end
    table.sort(names)
    check.fail("book:addon", "addon", string.format("price book %s has no such add-on (it has: %s)", self.name,
      #names > 0 and table.concat(names, ", ") or "none"), id)
  end
  return a
end

--- Is the book sold to new apps on this day (a date "YYYY-MM-DD", or a day number)?
-- @tparam string|int day `"YYYY-MM-DD"`, or a day number (days since 1970-01-01)
-- @treturn boolean `true` from the book's `from` to its `to`, both included
-- @raise `book:in_force: date: ...` for a malformed date or a day outside the calendar
function Book:in_force(day)
  self_book(self, "in_force")
  if type(day) == "string" then day = dates.day(day, "date", "book:in_force")
  elseif type(day) ~= "number" or day ~= math.floor(day) or day < core.DAY_MIN or day > core.DAY_MAX then
    check.fail("book:in_force", "date", "expected a date \"YYYY-MM-DD\" (or a day number)", day)
  end
  return day >= self.from_day and (self.to_day == nil or day <= self.to_day)
end

-- Day and month numbers, as the rest of imbill counts them internally.
local function number_arg(fn, field, v, lo, hi, what)
  if type(v) ~= "number" or v ~= math.floor(v) or v < lo or v > hi then
    check.fail(fn, field, "expected " .. what, v)
  end
  return v
end

--- The due date of a month's bill (a day number).  With `arrears_after`, the
-- days an unpaid bill suspends the app and deletes its data.
-- @int month a month number, `year * 12 + month - 1`, from 0001-01 to 9999-08
-- @treturn int the due day (days since 1970-01-01)
-- @raise `book:due: month: expected a month number ...`
function Book:due(month)
  self_book(self, "due")
  -- a month's bill is due in the next month, and suspends and deletes up to
  -- four months later: 9999-08 is the last month with all of them in the calendar
  number_arg("book:due", "month", month, core.MIN_YEAR * 12, 9999 * 12 + 7,
    "a month number (year * 12 + month - 1) from 0001-01 to 9999-08")
  return dates.month_first(month + 1) + self.arrears.due_day - 1
end

--- What an unpaid bill does, from its due day: the day the app is suspended
-- and the day its data is deleted (day numbers), by the grace the book gave
-- on that due day.
-- @int due the due day (`book:due(month)`)
-- @treturn int the day the app is suspended
-- @treturn int the day its data is deleted
-- @raise `book:arrears_after: due: expected a day number ...`
function Book:arrears_after(due)
  self_book(self, "arrears_after")
  number_arg("book:arrears_after", "due", due, core.DAY_MIN, core.DAY_MAX,
    "a day number (days since 1970-01-01) within the calendar")
  local grace
  for _, g in ipairs(self.arrears.grace) do
    if not g.before or due < g.before then grace = g.days break end
  end
  local suspend = due + grace
  local delete = suspend + self.arrears.keep_days
  -- the bound is where the days stop being dates, not a margin guessed
  -- before them: the bill of 9999-08 (due 9999-09-03) is deleted on 9999-12-03
  if delete > core.DAY_MAX then
    check.fail("book:arrears_after", "due", string.format("%s: the data of a bill due that day would be deleted"
      .. " after 9999-12-31, past the calendar", dates.format(due)), due)
  end
  return suspend, delete
end

function Book:__tostring()
  if made[self] ~= Book then return "imbill price book (not made by imbill.book)" end
  return string.format("imbill price book %s (%s .. %s; %s)", self.name, self.from or "?", self.to or "in force",
    table.concat(self._order, ", "))
end

--- Getting and making books.
-- @section books

-- Building ---------------------------------------------------------------

-- A deep copy of book data; a table that contains itself is an error, not a
-- stack overflow (book data is a tree).
local function copy(t, seen)
  if type(t) ~= "table" then return t end
  seen = seen or {}
  if seen[t] then check.fail(FN, "base", "book data contains a table inside itself", check.NOVALUE) end
  seen[t] = true
  local c = {}
  for k, v in next, t do c[k] = copy(v, seen) end
  seen[t] = nil
  return c
end

-- money.new with the public function's name on its error.
local function amount(fn, v, field)
  return errors.call(fn, nil, money.new, v, field)
end

local function check_limit(fn, path, v)
  if v == "unlimited" then return nil end
  if type(v) == "table" and path:match("members_per_group$") then
    local t = {}
    for k, n in next, v do
      local g = M.group_type(k, fn, path)
      if not NON_AV[g] then check.fail(fn, path .. "." .. g, "AV group types have no member limit", n) end
      t[g] = check_limit(fn, path .. "." .. g, n)
    end
    return t
  end
  local n = check.count(fn, path, v)
  return n
end

local CHARGE_KEYS = { free = true, block = true, price = true }
-- the billed measures: a charge each, and a free quota `limits.free_<measure>`
local MEASURES = { "dau", "groups", "mau" }
local function is_count(v) return type(v) == "number" and v >= 0 and v == math.floor(v) and v < math.huge end

local function build_charge(fn, path, c)
  if c == nil then return nil end
  check.table(fn, path, c)
  c = check.fields(fn, c, CHARGE_KEYS, path)
  local out = {
    free = check.count(fn, path .. ".free", c.free or 0),
    block = check.count(fn, path .. ".block", c.block or 0),
    price = amount(fn, c.price or "0", path .. ".price"),
  }
  if out.price < money.ZERO then check.fail(fn, path .. ".price", "must not be negative", c.price) end
  if out.block == 0 and out.price > money.ZERO then
    check.fail(fn, path .. ".block", "a priced charge needs a block size >= 1", c.block)
  end
  return out
end

-- A fee is billed whole every month, rounded to the cent: one whose rounding
-- is more than money holds could never be on an invoice (9223372036854.775807
-- rounds to 9223372036854.78), so the book refuses it rather than each invoice.
local MAX_CENTS = 922337203685477
local function fee_fits(fn, field, fee, given)
  if fee:cents() > MAX_CENTS then
    check.fail(fn, field, "is more than money holds once rounded to the cent (a fee is at most 9223372036854.77)",
      given)
  end
end

local EDITION_KEYS = { monthly_fee = true, free = true, limits = true, features = true, dau = true,
                       groups = true, mau = true, like = true }

local function build_edition(fn, bookname, id, d)
  local path = "editions." .. id
  d = check.fields(fn, d, EDITION_KEYS, path)
  local e = setmetatable({ id = id, book = bookname }, Edition)
  made[e] = Edition
  e.monthly_fee = amount(fn, d.monthly_fee or "0", path .. ".monthly_fee")
  if e.monthly_fee < money.ZERO then check.fail(fn, path .. ".monthly_fee", "must not be negative", d.monthly_fee) end
  fee_fits(fn, path .. ".monthly_fee", e.monthly_fee, d.monthly_fee)
  e.free = d.free == true
  if d.free ~= nil and type(d.free) ~= "boolean" then check.fail(fn, path .. ".free", "expected a boolean", d.free) end
  if e.free and e.monthly_fee ~= money.ZERO then
    check.fail(fn, path .. ".monthly_fee", "a free edition has no plan fee (set free = false to charge one)",
      d.monthly_fee)
  end
  e.limits = {}
  for k, v in next, check.table(fn, path .. ".limits", d.limits or {}) do
    if not LIMIT_SET[k] then
      check.fail(fn, path .. ".limits." .. tostring(k), "unknown limit (known: " .. table.concat(M.LIMITS, ", ") .. ")",
        check.NOVALUE)
    end
    e.limits[k] = check_limit(fn, path .. ".limits." .. k, v)
  end
  e.features = {}
  local flist = check.table(fn, path .. ".features", d.features or {})
  for k in next, flist do
    if type(k) ~= "number" or k ~= math.floor(k) or k < 1 or k > check.len(flist) then
      check.fail(fn, path .. ".features", "expected a list of feature names, not named fields", k)
    end
  end
  for i, f in check.items(d.features or {}) do
    if not FEATURE_SET[f] then
      check.fail(fn, path .. ".features[" .. i .. "]", "unknown feature (known: " .. table.concat(M.FEATURES, ", ")
        .. ")", f)
    end
    e.features[f] = true
  end
  e.charges = {
    dau = build_charge(fn, path .. ".dau", d.dau),
    groups = build_charge(fn, path .. ".groups", d.groups),
    mau = build_charge(fn, path .. ".mau", d.mau),
  }
  -- The free DAU (groups, MAU) of an edition with a charge is the charge's
  -- free quota: one number, shown in limits, which never differs from what
  -- invoices bill, and which a free edition made from a paid one keeps as its
  -- cap (caps.lua)
  for _, m in ipairs(MEASURES) do
    local ch, lk = e.charges[m], "free_" .. m
    if ch then
      if d.limits and d.limits[lk] ~= nil and e.limits[lk] == nil then
        check.fail(fn, path .. ".limits." .. lk, "is the free quota of the " .. m .. " charge: a whole number >= 0",
          d.limits[lk])
      end
      if e.limits[lk] ~= nil and e.limits[lk] ~= ch.free then
        check.fail(fn, path .. ".limits." .. lk, "is the free quota of the " .. m .. " charge, given as "
          .. ch.free .. " in " .. path .. "." .. m .. ".free: set one", e.limits[lk])
      end
      e.limits[lk] = ch.free
    end
  end
  e.rate = core.rate {
    monthly_fee = e.monthly_fee, free = e.free,
    dau = e.charges.dau, groups = e.charges.groups, mau = e.charges.mau,
  }
  return e
end

-- Edition and add-on ids: words, as long as the core keeps (they are echoed
-- in messages, saved in meter files and named in "book/edition").
local function word_id(fn, field, id, what)
  if type(id) ~= "string" or not id:match("^[%w_%-]+$") or #id > core.EDITION_MAXLEN then
    check.fail(fn, field, what .. " ids are words of letters, digits, _ and -, at most " .. core.EDITION_MAXLEN
      .. " bytes", id)
  end
end

local function build_addons(fn, book, addons)
  local out = {}
  for id, a in next, addons or {} do
    word_id(fn, "addons", id, "add-on")
    local path = "addons." .. id
    check.table(fn, path, a)
    a = check.fields(fn, a, { fee = true, raises = true, activation_month_free = true }, path)
    local fees = {}
    for ed, fee in next, check.table(fn, path .. ".fee", a.fee) do
      if not book._editions[ed] then check.fail(fn, path .. ".fee", "no such edition in the book", ed) end
      fees[ed] = amount(fn, fee, path .. ".fee." .. ed)
      if fees[ed] < money.ZERO then check.fail(fn, path .. ".fee." .. ed, "must not be negative", fee) end
      fee_fits(fn, path .. ".fee." .. ed, fees[ed], fee)
    end
    local raises = {}
    for limit, per in next, check.table(fn, path .. ".raises", a.raises or {}) do
      if not LIMIT_SET[limit] then check.fail(fn, path .. ".raises", "unknown limit", limit) end
      -- a free quota is the charge's, which no add-on changes: raised here it
      -- would be a second number that invoices never bill
      if limit:match("^free_") then
        check.fail(fn, path .. ".raises", "is a free quota, which the edition's charge holds: an add-on cannot raise it",
          limit)
      end
      raises[limit] = {}
      -- false marks "unlimited": nil could not be told from "not raised"
      for ed, v in next, check.table(fn, path .. ".raises." .. limit, per) do
        if not book._editions[ed] then check.fail(fn, path .. ".raises." .. limit, "no such edition in the book", ed) end
        local l = check_limit(fn, path .. ".raises." .. limit, v)
        if l == nil then l = false end
        raises[limit][ed] = l
      end
    end
    if a.activation_month_free ~= nil and type(a.activation_month_free) ~= "boolean" then
      check.fail(fn, path .. ".activation_month_free", "expected a boolean", a.activation_month_free)
    end
    out[id] = { id = id, fee = fees, raises = raises, activation_month_free = a.activation_month_free == true }
  end
  return out
end

-- The book's edition-change policy in the form the core reads (imb_policy):
-- activation_free_to is the day before which a first paid activation's month
-- has no plan fee.
local ALWAYS, NEVER = 2147483647, core.NO_DAY
local function policy_of(fn, p)
  p = p or {}
  p = check.fields(fn, p, { activation_month_free = true, return_to_free = true }, "policy")
  if p.return_to_free ~= nil and type(p.return_to_free) ~= "boolean" then
    check.fail(fn, "policy.return_to_free", "expected a boolean", p.return_to_free)
  end
  local amf = p.activation_month_free
  local out = { return_to_free = p.return_to_free == true, activation_month_free = amf }
  if amf == true then out.activation_free_to = ALWAYS
  elseif amf == false or amf == nil then out.activation_free_to = NEVER
  elseif type(amf) == "table" and amf.before then
    amf = check.fields(fn, amf, { before = true }, "policy.activation_month_free")
    out.activation_free_to = dates.day(amf.before, "policy.activation_month_free.before", fn)
  else
    check.fail(fn, "policy.activation_month_free", "expected true, false or { before = date }", amf)
  end
  return out
end

-- When an unpaid bill suspends the app and deletes its data: grace days
-- after the push day (the due date), by the due date, then the days data is
-- kept.  { grace = { { before = date, days = n }, ..., { days = n } }, keep_days = n }
local function arrears_of(fn, a)
  check.table(fn, "arrears", a)
  a = check.fields(fn, a, { due_day = true, grace = true, keep_days = true }, "arrears")
  local out = { grace = {}, keep_days = check.count(fn, "arrears.keep_days", a.keep_days),
                due_day = check.count(fn, "arrears.due_day", a.due_day) }
  if out.due_day < 1 or out.due_day > 28 then
    check.fail(fn, "arrears.due_day", "expected a day of the month from 1 to 28", a.due_day)
  end
  for i, g in check.items(check.table(fn, "arrears.grace", a.grace)) do
    local field = "arrears.grace[" .. i .. "]"
    g = check.fields(fn, check.table(fn, field, g), { before = true, days = true }, field)
    out.grace[i] = { before = g.before and dates.day(g.before, field .. ".before", fn),
                     days = check.count(fn, field .. ".days", g.days) }
  end
  if #out.grace == 0 or out.grace[#out.grace].before then
    check.fail(fn, "arrears.grace", "needs a last entry without before (the grace in force now)", check.NOVALUE)
  end
  return out
end

local function finish(fn, name, d)
  local b = setmetatable({ name = name, _editions = {}, _order = {} }, Book)
  b.from, b.to = d.from, d.to
  b.from_day = d.from and dates.day(d.from, "from", fn) or -math.huge
  b.to_day = d.to and dates.day(d.to, "to", fn) or nil
  if b.to_day and b.to_day < b.from_day then check.fail(fn, "to", "is before from (" .. tostring(d.from) .. ")", d.to) end
  b.offset = dates.offset(d.tz, "tz", fn)
  b.tz = dates.format_tz(b.offset)
  b.policy = policy_of(fn, d.policy)
  b.arrears = arrears_of(fn, d.arrears)
  for id, ed in next, check.table(fn, "editions", d.editions) do
    word_id(fn, "editions", id, "edition")
    b._editions[id] = build_edition(fn, name, id, check.table(fn, "editions." .. id, ed))
    b._order[#b._order + 1] = id
  end
  if #b._order == 0 then check.fail(fn, "editions", "a book needs at least one edition", check.NOVALUE) end
  table.sort(b._order, function(x, y)
    local fx, fy = b._editions[x].monthly_fee, b._editions[y].monthly_fee
    if fx == fy then return x < y end
    return fx < fy
  end)
  b._addons = build_addons(fn, b, d.addons)
  b._data = d
  made[b] = Book
  return b
end

local builtin = {}
--- The names of the built-in books, oldest first.
M.BUILTIN = { "2020", "2021", "2022" }

local function builtin_book(name)
  if not builtin[name] then builtin[name] = finish(FN, name, DATA[name]) end
  return builtin[name]
end

-- TRTC call minutes: the core's tiers, each priced by the book data (a tier
-- the core does not price, or a price for a tier it does not know, is an
-- error here, not a silently ignored line).
M.TRTC = { tiers = core.TRTC_TIERS, price_per_1000 = {}, free_minutes = DATA.trtc.free_minutes }
do
  local prices = DATA.trtc.price_per_1000
  for _, tier in ipairs(core.TRTC_TIERS) do
    M.TRTC.price_per_1000[tier] = assert(prices[tier], "book data: trtc tier without a price")
  end
  for tier in next, prices do assert(M.TRTC.price_per_1000[tier], "book data: trtc price for an unknown tier") end
end

-- A user book: a built-in (or another user book) with edits.  Edition edits
-- merge into the base edition; a new edition starts from `like` (or empty).
local function derive(spec)
  spec = check.fields(FN, spec, { base = true, name = true, from = true, to = true, tz = true, editions = true,
                           remove = true, addons = true, policy = true })
  local base = spec.base or "2022"
  if type(base) ~= "string" and not M.is_book(base) then
    check.fail(FN, "base", "expected a book name or a book", base)
  end
  if type(base) == "string" and (not DATA[base] or base == "trtc") then
    check.fail(FN, "base", "unknown price book (built-in: 2020, 2021, 2022)", base)
  end
  base = M.get(base)
  for _, k in ipairs { "from", "to" } do
    if spec[k] ~= nil and type(spec[k]) ~= "string" then check.fail(FN, k, "expected a date YYYY-MM-DD", spec[k]) end
  end
  local d = copy(base._data)
  d.from = spec.from or d.from
  d.to = spec.to
  if spec.to == nil and spec.from == nil then d.to = base._data.to end
  if spec.tz ~= nil then d.tz = spec.tz end
  if spec.policy ~= nil then
    check.table(FN, "policy", spec.policy)
    for k, v in next, spec.policy do d.policy[k] = v end
  end
  for id, edits in next, check.table(FN, "editions", spec.editions or {}) do
    word_id(FN, "editions", id, "edition")
    check.table(FN, "editions." .. id, edits)
    local target = d.editions[id]
    if not target then
      local like = edits.like
      if like ~= nil and not d.editions[like] then check.fail(FN, "editions." .. id .. ".like", "no such edition", like) end
      target = like and copy(d.editions[like]) or { monthly_fee = "0" }
      d.editions[id] = target
    end
    for k, v in next, edits do
      if k == "limits" then
        check.table(FN, "editions." .. id .. ".limits", v)
        target.limits = target.limits or {}
        for lk, lv in next, v do
          if lk == "members_per_group" and type(lv) == "table" then
            -- a per-type table changes the types it names; the others keep
            -- the base edition's limit (not "unlimited" by omission)
            local was, merged = target.limits[lk], {}
            for g in next, NON_AV do
              if type(was) == "table" then merged[g] = was[g] else merged[g] = was end
            end
            for gk, n in next, lv do
              merged[M.group_type(gk, FN, "editions." .. id .. ".limits.members_per_group")] = n
            end
            lv = merged
          end
          target.limits[lk] = lv
        end
      elseif k == "dau" or k == "groups" or k == "mau" then
        check.table(FN, "editions." .. id .. "." .. k, v)
        target[k] = target[k] or {}
        for ck, cv in next, v do target[k][ck] = cv end
      elseif k ~= "like" then
        target[k] = v
      end
    end
    -- Where an edition has a charge, `limits.free_dau` and `dau.free` are
    -- one number, which the charge holds (build_edition shows it in limits):
    -- an edit of the limit sets it, and so does the edition's limit for a
    -- charge given without one (a trial made paid bills above its 100 free
    -- DAU); an edit of the charge's own drops the limit it had.  Both edited
    -- are left for build_edition to compare, and a limit that is no count is
    -- left to be refused there.
    for _, m in ipairs(MEASURES) do
      local lk = "free_" .. m
      -- raw: the caller's tables are read as they hold (hostile_api_spec)
      local el, em = rawget(edits, "limits"), rawget(edits, m)
      local lim = type(el) == "table" and rawget(el, lk) or nil
      local fr = type(em) == "table" and rawget(em, "free") or nil
      local ch, had = target[m], target.limits and target.limits[lk]
      if type(ch) == "table" and had ~= nil and (lim == nil or fr == nil) then
        if lim == nil and ch.free ~= nil then
          target.limits[lk] = nil
        elseif is_count(had) then
          ch.free, target.limits[lk] = had, nil
        end
      end
    end
  end
  for _, id in check.items(check.list(FN, "remove", spec.remove or {}, "edition ids")) do
    if type(id) ~= "string" or not d.editions[id] then check.fail(FN, "remove", "no such edition", id) end
    d.editions[id] = nil
    for _, a in next, d.addons or {} do
      if a.fee then a.fee[id] = nil end
      for _, per in next, a.raises or {} do per[id] = nil end
    end
  end
  if spec.addons ~= nil then
    for id, a in next, check.table(FN, "addons", spec.addons) do d.addons[id] = a end
  end
  local name = spec.name or ((base.name) .. "+edits")
  check.string(FN, "name", name)
  -- a name is shown in every message and invoice, saved in meter files, and
  -- names the book in "book/edition"; a built-in's name would be taken for
  -- the built-in (a saved meter would load with the built-in's limits)
  if #name == 0 or #name > 64 or name:find("[%c\127/]") then
    check.fail(FN, "name", "expected 1 to 64 printable bytes without \"/\" (it separates book and edition)", name)
  end
  local problem = u8.name_problem(name)
  if problem then check.fail(FN, "name", problem, name) end
  if DATA[name] then check.fail(FN, "name", "is the name of a built-in price book", name) end
  return finish(FN, name, d)
end

--- A price book: a built-in one, a book as it is, or a user book.
--
-- book(name) for a built-in, book(book) returns it, book{...} derives a user book.
--
-- A user book starts from `base` (a built-in book's name or a book; default
-- `"2022"`) and changes what it names; it is checked when it is made.
-- @tparam string|Book|table x a built-in book's name, a book, or the user book:
-- @string[opt="2022"] x.base the book to start from
-- @string[opt] x.name its name: 1 to 64 printable bytes of UTF-8, without `/`
-- or a character that reorders or hides text, and not a built-in book's
-- (default: the base's name and `"+edits"`)
-- @tab[opt] x.editions edits by edition id: `monthly_fee`, `free`, `limits`,
-- `features`, `dau`, `groups`, `mau` (`{ free =, block =, price = }`), merged
-- into the base edition; a new id starts from `like = "pro"` (or empty)
-- @tab[opt] x.remove edition ids to remove
-- @tab[opt] x.addons add-ons by id: `{ fee = { [edition] = amount }, raises =, activation_month_free = }`
-- @tab[opt] x.policy `{ activation_month_free = true | false | { before = date }, return_to_free = boolean }`
-- @string[opt] x.from the first day it is sold, `"YYYY-MM-DD"`
-- @string[opt] x.to the last day it is sold (nil: in force)
-- @string[opt] x.tz the billing time zone, `"+08:00"`
-- @treturn Book the book
-- @raise `imbill.book: name: unknown price book (built-in: 2020, 2021, 2022)`;
-- for a user book, an error naming the key that is wrong (`editions.pro.monthly_fee`, ...)
-- @usage local w = imbill.book{ base = "2020", name = "what-if", editions = { pro = { monthly_fee = "129.99" } } }
function M.get(x)
  if made[x] == Book then return x end
  if type(x) == "string" then
    if DATA[x] and x ~= "trtc" then return builtin_book(x) end
    check.fail(FN, "name", "unknown price book (built-in: 2020, 2021, 2022)", x)
  end
  if type(x) == "table" and getmetatable(x) ~= Book and getmetatable(x) ~= Edition then return derive(x) end
  check.fail(FN, "book", "expected a book name, a book, or a table deriving one", x)
end

--- `get(x)` for a public function's field: its errors name fn and field, and
-- a user book's own error keeps the key inside the book data that was wrong
-- ("imbill.totals: book: editions.pro.monthly_fee: must not be negative").
-- @string fn the public function an error names
-- @string field the field that holds the book
-- @tparam string|Book|table x what `get` takes
-- @treturn Book the book
-- @local
function M.get_as(fn, field, x)
  local ok, b = pcall(M.get, x)
  if ok then return b end
  local e = errors.of(b)
  local c = errors.rename(e, fn, field)
  local derived = type(x) == "table" and made[x] ~= Book and getmetatable(x) ~= Book and getmetatable(x) ~= Edition
  if derived and type(e.field) == "string" and e.field ~= "" then c.msg = e.field .. ": " .. tostring(e.msg) end
  error(c, 0)
end

--- The price books of `list` (field "books"), each made by get(fn, field, b)
-- (get_as unless given).  A book listed twice would show each of its
-- editions twice: it is an error naming both places.
-- @string fn the public function errors name
-- @tab list names, books or tables deriving books
-- @func[opt] get how one is made: get(fn, field, b) returns the book
-- @treturn {Book,...} the books, in order
-- @raise `fn: books[i]: price book NAME is listed twice (also books[j])`;
-- `fn: books: needs at least one price book` (an empty list answers nothing,
-- and `{ a_nil_variable }` is one)
function M.list_as(fn, list, get)
  get = get or M.get_as
  local out, listed = {}, {}
  for i, b in check.items(check.list(fn, "books", list, "price books")) do
    local book = get(fn, "books[" .. i .. "]", b)
    if listed[book.name] then
      check.fail(fn, "books[" .. i .. "]", "price book " .. book.name .. " is listed twice (also books["
        .. listed[book.name] .. "])", b)
    end
    listed[book.name] = i
    out[i] = book
  end
  if #out == 0 then check.fail(fn, "books", "needs at least one price book", check.NOVALUE) end
  return out
end

--- Whether `x` is a price book made by this module (`imbill.is_book`).
-- @param x any value
-- @treturn boolean `true` for a book
function M.is_book(x) return made[x] == Book end

local function unknown_edition(book)
  return "price book " .. book.name .. " has no such edition (it has: " .. table.concat(book._order, ", ") .. ")"
end

--- The one way every function names an edition: "book/edition" ("2021/pro"),
-- { book = name or book object, edition = id }, or an edition object.
-- Returns the book (nil for an edition object of a user book), the edition
-- and its "book/edition" name; errors name fn and field (with field "", the
-- table form's errors name "book" and "edition" themselves).
-- @string fn the public function an error names
-- @string field the field an error names
-- @tparam string|table|Edition x the edition
-- @treturn ?Book the book (nil for an edition object of a user book)
-- @treturn Edition the edition
-- @treturn string its `"book/edition"` name
-- @raise `fn: field: expected "book/edition" such as "2021/pro", ...`, or
-- the book's or the edition's error under `fn` and `field`
-- @local
function M.resolve(fn, field, x)
  local function sub(k) return field == "" and k or field .. "." .. k end
  if is_edition(x) then
    local ok, b = pcall(M.get, x.book)
    return ok and b or nil, x, x.book .. "/" .. x.id
  end
  local bn, en, bfield, efield
  if type(x) == "table" and getmetatable(x) == nil and x.book ~= nil then
    bn, en, bfield, efield = x.book, x.edition, sub("book"), sub("edition")
  elseif type(x) == "string" then
    bn, en = x:match("^([^/]+)/(.+)$")
    bfield, efield = field, field
  end
  if bn == nil then
    check.fail(fn, field, "expected \"book/edition\" such as \"2021/pro\", or { book =, edition = }", x)
  end
  local book = M.get_as(fn, bfield, bn)
  if en == nil then
    check.fail(fn, efield, "is required (one of: " .. table.concat(book._order, ", ") .. ")", check.NOVALUE)
  end
  local ed = type(en) == "string" and book._editions[en]
  if not ed then check.fail(fn, efield, unknown_edition(book), en) end
  return book, ed, book.name .. "/" .. ed.id
end

--- Refuses an edition named a second time in a list: its scenarios, rows or
-- pairs would be counted twice.  `seen` maps "book/edition" names to the
-- position that first named them.
-- @string fn the public function an error names
-- @string field the list's field (`"editions"`)
-- @tab seen the names met so far, filled in
-- @int i the position of `name`
-- @string name the edition's `"book/edition"` name
-- @param v the value at that position, shown in the error
-- @return nothing: it returns when `name` was not met before
-- @raise `fn: field[i]: NAME is listed twice (also field[j])`
-- @local
function M.once(fn, field, seen, i, name, v)
  if seen[name] then
    check.fail(fn, field .. "[" .. i .. "]", name .. " is listed twice (also " .. field .. "[" .. seen[name] .. "])", v)
  end
  seen[name] = i
end

--- The book a new app would have been sold on that day (`imbill.book_at`).
-- @string date `"YYYY-MM-DD"`
-- @treturn Book the built-in book in force that day
-- @raise `imbill.book_at: date: ...` for a malformed date, or a day before the
-- first book (2020-02-19)
function M.at(date)
  local day = dates.day(date, "date", "imbill.book_at")
  for _, name in ipairs(M.BUILTIN) do
    local b = builtin_book(name)
    if b:in_force(day) then return b end
  end
  check.fail("imbill.book_at", "date", "no price book was in force (the first starts 2020-02-19)", date)
end

--- The book in force for a month: the one in force on its 1st, or, for the
-- month a book starts in, the one in force on its last day.  This is the
-- book an invoice without `book` uses.
-- @int month a month number, `year * 12 + month - 1`
-- @treturn Book the built-in book
-- @raise `imbill: month: no price book was in force ...` for a month before the first book
function M.for_month(month)
  local first = dates.month_first(month)
  for _, name in ipairs(M.BUILTIN) do
    if builtin_book(name):in_force(first) then return builtin_book(name) end
  end
  local last = first + dates.month_length(month) - 1
  for _, name in ipairs(M.BUILTIN) do
    if builtin_book(name):in_force(last) then return builtin_book(name) end
  end
  check.fail("imbill", "month", "no price book was in force (the first starts 2020-02-19)",
    dates.format_month(month))
end

return M
