--- imbill.meter: in-process quota metering (docs/meter.md).
--
--     local m = imbill.meter{ book = "2020", edition = "trial" }   -- tz = "+08:00" optional
--     local ok, refusal = m:create_account("u1", t)                -- t: Unix seconds
--
-- Every action method takes an optional event id as its last argument; a
-- replayed id is ignored (returns `true, "duplicate"`).  An action that changes
-- nothing (importing an existing account, a repeated join) returns
-- `true, "unchanged"`.  A quota refusal returns `false, refusal` with
-- `refusal = { code =, limit =, max =, current =, message =, action =, edition =, day = }`.
-- Bad input raises an error naming the field.
--
-- The counting is the C core's (src/core/meter.c, src/core/plan.c); this file
-- adds what needs price books: editions and their limits, edition changes,
-- usage for imbill.invoice, save and load.  The meter's Lua state (its book
-- and add-ons) lives in the meter userdata itself (`core.meter_impl.state`).
--
-- `imbill.meter` is this module; calling it, `imbill.meter{...}`, is `new`.
-- @usage local imbill = require "imbill"
-- local m = imbill.meter{ book = "2020", edition = "trial" }
-- local t = 1614556800                              -- 2021-03-01 08:00 in UTC+8
-- print(m:create_account("u1", t))                  --> true
-- print(m:login("u1", t), m:dau("2021-03-01"))      --> true  1
-- print(imbill.invoice(m:usage("2021-03")).total)   --> 0.00
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
--- How long event ids are remembered, in days (34): a replayed id within it
-- is a duplicate, and `m:release` frees only days older than it.
M.DEDUP_DAYS = core.DEDUP_DAYS

impl.set_formatter(refusals.message)

local FLAT_LIMITS = { "accounts", "friends_per_user", "groups_per_user", "av_groups", "non_av_groups",
                      "daily_net_groups", "bchatroom_daily", "bchatroom_total" }

--- The limits the meter enforces for an edition: its own, raised by add-ons
-- (book:addon(id).raises[limit][edition], false meaning unlimited), with the
-- edition's features.  This is the table `core.plan` takes, which is how a
-- store written in Lua applies the same rule (docs/store.md).
-- @tparam Book book the price book
-- @tparam Edition ed one of its editions
-- @tparam[opt] {string,...} addons add-on ids the book sells
-- @tparam[opt] boolean same_day whether groups disbanded the day they were
-- created leave that day's net count (`same_day_disbands`)
-- @treturn table `{ accounts =, friends_per_user =, groups_per_user =, av_groups =, non_av_groups =,`
-- `daily_net_groups =, bchatroom_daily =, bchatroom_total =, members = { [type] = n },`
-- `features = {...}, same_day_disbands = }`, nil meaning unlimited
-- @raise `imbill.meter.limits: book: ...`, `edition: ...` or `addons[i]: ...`
function M.limits(book, ed, addons, same_day)
  local fn = "imbill.meter.limits"
  -- a book's name and an edition's id, as the rest of the API takes them
  if type(book) == "string" then book = errors.call(fn, "book", books.get, book) end
  if not books.is_book(book) then check.fail(fn, "book", "expected a price book (imbill.book) or its name", book) end
  if type(ed) == "string" then ed = errors.call(fn, "edition", book.edition, book, ed) end
  if not books.is_edition(ed) or ed.book ~= book.name or not book:has_edition(ed.id) then
    check.fail(fn, "edition", "expected an edition of price book " .. book.name, ed)
  end
  if addons ~= nil then check.list(fn, "addons", addons, "add-on ids") end
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
  check.list(fn, "addons", addons, "add-on ids")
  local out, seen = {}, {}
  for i, id in check.items(addons) do
    local a = errors.call(fn, "addons[" .. i .. "]", book.addon, book, id)
    if not a.fee[ed.id] then
      check.fail(fn, "addons[" .. i .. "]", string.format("add-on %s is not sold for edition %s", id, ed.id), id)
    end
    -- the invoice refuses an add-on listed twice, so a meter holding one
    -- could never be billed: it is refused here, where it was given
    if seen[a.id or id] then
      check.fail(fn, "addons[" .. i .. "]", "is listed twice (addons[" .. seen[a.id or id] .. "] names it already)", id)
    end
    seen[a.id or id] = i
    out[#out + 1] = id
  end
  return out
end

local OPTS = { book = true, edition = true, tz = true, addons = true, activated = true, same_day_disbands = true,
               clock = true }

--- A new meter for one app.
--
-- `imbill.meter{ book =, edition =, tz =, addons =, activated =, same_day_disbands = }`
--
-- A new meter for one app, counting nothing yet.
-- @tab o the meter's options:
-- @tparam string|Book o.book a price book's name or a book
-- @string o.edition the edition in force from the start
-- @string[opt] o.tz the time zone days are counted in, `"+08:00"` (default: the book's)
-- @tparam[opt] {string,...} o.addons add-ons in force, sold by the book for that edition
-- @string[opt] o.activated `"YYYY-MM-DD"`, the first paid activation when it predates the meter
-- (a paid edition only)
-- @bool[opt=false] o.same_day_disbands whether a group disbanded the day it was created
-- leaves that day's net count
-- @int[opt] o.clock the instant events arrive at (`m:set_clock`)
-- @treturn Meter the meter
-- @raise `imbill.meter: book: ...`, `edition: is required (one of: ...)`, `tz: ...`,
-- `addons[i]: add-on ... is not sold for edition ...`, `activated: ... is free`
-- @usage local m = imbill.meter{ book = "2021", edition = "pro", addons = { "av_unlimited" } }
function M.new(o)
  o = check.fields(FN, o, OPTS)
  if o.book == nil then check.fail(FN, "book", "is required (a price book name or object)", check.NOVALUE) end
  local book = books.get_as(FN, "book", o.book)
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

--- One app's meter, made by `new` (or `load`).  Actions count an event at
-- instant `t` (whole Unix seconds) on the day it falls on in the meter's time
-- zone, each as Tencent counts it (docs/rules.md, "Counting"), and refuse
-- what the edition in force at `t` forbids.  Ids (users, groups, event ids)
-- are strings of 1 to 1024 bytes.  Each action answers:
--
-- - `true`: counted;
-- - `true, "unchanged"`: allowed, and nothing to count (a repeated join, an
--   existing account, deleting what is not there);
-- - `true, "duplicate"`: the event id was seen before; nothing counted;
-- - `false, refusal`: refused, nothing counted, the id not remembered (so the
--   event can be retried).
--   `refusal = { code =, limit =, max =, current =, message =, action =, edition =, day =, user =, feature = }`;
--   `code` is
--   Tencent's error code (70398, 10058, 10036, 10006, 10014, 10037, 30010,
--   30014, 10010, 10021, 10059), or imbill's own `"closed"` (a day no longer
--   counted exactly) or `"future"` (an event dated too far ahead); `message` is
--   a sentence for the customer (docs/meter.md has the table of codes).
--
-- A bad argument raises an error object naming the method, the field and the
-- value (`meter:create_group: type: unknown group type ...`), and counts
-- nothing; so does a method of a meter that was closed (collected).
-- `tostring(m)` names the book, the edition, the accounts and the groups.
-- @type Meter

--- Creates an account.
-- @string user the user id
-- @int t the instant, whole Unix seconds
-- @string[opt] event_id an id that makes a replay of the event count once
-- @treturn boolean `true` when counted or allowed, `false` when refused
-- @treturn[opt] string|table `"unchanged"` (the account exists) or `"duplicate"` after `true`; the refusal after `false`:
-- 70398 `accounts` on a free edition whose account cap is reached
-- @raise `meter:create_account: user: expected a non-empty string id`, `t: ...`, `event id: ...`
-- @function Meter:create_account

--- Deletes an account, ending its memberships and friendships, also those of
-- an id whose account was never counted (a meter started on an app that had
-- accounts); the account count goes down only for an account counted.  An
-- id created again is a new account with none.
-- @string user the user id
-- @int t the instant, whole Unix seconds
-- @string[opt] event_id the event's id
-- @treturn boolean `true` (never refused for a quota)
-- @treturn[opt] string|table `"unchanged"` (nothing counted for the id: no account,
-- membership or friendship) or `"duplicate"`; a refusal
-- only for the day bounds (`"future"`)
-- @raise `meter:delete_account: user: ...`, `t: ...`, `event id: ...`
-- @function Meter:delete_account

--- Counts a login: the user's first login of the day adds one to the day's
-- DAU and, the first of the month, to the month's MAU.  A login needs no
-- account.
-- @string user the user id
-- @int t the instant, whole Unix seconds
-- @string[opt] event_id the event's id
-- @treturn boolean `true` when counted (or counted already that day), `false` when refused
-- @treturn[opt] string|table `"duplicate"`; the refusal: `"closed"` for a day released by
-- `m:release` or more than 63 days before the latest counted day, `"future"`
-- @raise `meter:login: user: ...`, `t: ...`, `event id: ...`
-- @function Meter:login

--- Counts many logins in one call, exactly what one
-- `m:login(users[i], times[i])` per pair gives, through the core's batched path.  Every element
-- is checked before any is counted: a bad one raises an error naming it and
-- counts nothing.  Elements are read raw (no `__index` runs).
-- @tparam {string,...} users user ids
-- @tparam {int,...} times one instant per user, whole Unix seconds
-- @treturn int how many logins were counted (or already counted that day);
-- a login refused `"closed"` or `"future"` is not counted
-- @raise `meter:logins: users[1500]: expected a non-empty string id, got 5`,
-- `times: has 3 instants for 4 users`
-- @usage local n = m:logins({ "u1", "u2" }, { t, t + 60 })
-- @function Meter:logins

--- Creates a group of a type.
-- @string group the group id
-- @string type `Private` (or `Work`), `Public`, `ChatRoom` (or `Meeting`),
-- `AVChatRoom`, `BChatRoom`, `Community`
-- @int t the instant, whole Unix seconds
-- @string[opt] event_id the event's id
-- @treturn boolean `true` when counted, `false` when refused
-- @treturn[opt] string|table `"duplicate"`; the refusal: 10059 (a Community group needs
-- the `community` feature), 10021 (the id is in use), 10036 (`bchatroom_total`, `av_groups`),
-- 10058 (`non_av_groups`), 10006 (`bchatroom_daily`, `daily_net_groups`), `"closed"`, `"future"`
-- @raise `meter:create_group: type: unknown group type (known: ...)`, `group: ...`, `t: ...`
-- @function Meter:create_group

--- Disbands a group, removing its memberships.
-- @string group the group id
-- @int t the instant, whole Unix seconds
-- @string[opt] event_id the event's id
-- @treturn boolean `true` when counted or allowed, `false` when refused
-- @treturn[opt] string|table `"unchanged"` or `"duplicate"`; the refusal: 10010 (no such
-- group, or dated before its creation), `"closed"`, `"future"`
-- @raise `meter:disband_group: group: ...`, `t: ...`, `event id: ...`
-- @function Meter:disband_group

--- Adds a user to a group.
-- @string group the group id
-- @string user the user id
-- @int t the instant, whole Unix seconds
-- @string[opt] event_id the event's id
-- @treturn boolean `true` when counted or allowed, `false` when refused
-- @treturn[opt] string|table `"unchanged"` (a member already) or `"duplicate"`; the refusal:
-- 10010 (no such group), 10014 (`members_per_group`), 10037 (`groups_per_user`), `"future"`
-- @raise `meter:join_group: group: ...`, `user: ...`, `t: ...`
-- @function Meter:join_group

--- Removes a user from a group.
-- @string group the group id
-- @string user the user id
-- @int t the instant, whole Unix seconds
-- @string[opt] event_id the event's id
-- @treturn boolean `true` when counted or allowed, `false` when refused
-- @treturn[opt] string|table `"unchanged"` (not a member) or `"duplicate"`; the refusal:
-- 10010 (no such group, or dated before its creation), `"future"`
-- @raise `meter:leave_group: group: ...`, `user: ...`, `t: ...`
-- @function Meter:leave_group

--- Adds a friend.  A friend list is per user, as in Tencent IM: two-way (the
-- default, Tencent's `Add_Type_Both`) each user's list gains the other where it
-- lacks it, and only a list that changes is checked against its limit; one
-- way (`Add_Type_Single`) only the user's own list changes.
-- @string user the user who asks
-- @string peer the other user
-- @int t the instant, whole Unix seconds
-- @string[opt] event_id the event's id
-- @tab[opt] opts `{ one_way = true }` (also in the event id's place)
-- @treturn boolean `true` when counted or allowed, `false` when refused
-- @treturn[opt] string|table `"unchanged"` (every list to change holds the other already) or
-- `"duplicate"`; the refusal: 30010 (the user's list is full), 30014 (the peer's list is full,
-- two-way only; `refusal.user` names them), `"future"`
-- @raise `meter:add_friend: peer: a user cannot be their own friend`, `opts.one_way: expected a boolean`,
-- `user: ...`, `t: ...`
-- @function Meter:add_friend

--- Removes a friend: two-way (the default, `Delete_Type_Both`) off both lists
-- where it is there; one way (`Delete_Type_Single`) off the user's own list only.
-- @string user one user
-- @string peer the other user
-- @int t the instant, whole Unix seconds
-- @string[opt] event_id the event's id
-- @tab[opt] opts `{ one_way = true }` (also in the event id's place)
-- @treturn boolean `true` (never refused for a quota)
-- @treturn[opt] string|table `"unchanged"` (no list to change holds the other) or `"duplicate"`;
-- a refusal only for the day bounds (`"future"`)
-- @raise `meter:remove_friend: peer: a user cannot be their own friend`, `user: ...`, `t: ...`
-- @function Meter:remove_friend

--- The DAU of a day: the users who logged in that day.
-- @string date `"YYYY-MM-DD"`, a day in the meter's time zone
-- @treturn int the count (0 for a day with no logins)
-- @raise `meter:dau: date: malformed date (expected YYYY-MM-DD), got "..."`
-- @function Meter:dau

--- The MAU of a month: the users who logged in that month.
-- @string month `"YYYY-MM"`
-- @treturn int the count
-- @raise `meter:mau: month: malformed month (expected YYYY-MM), got "..."`
-- @function Meter:mau

--- The month's peak DAU and the first day it was reached.
-- @string month `"YYYY-MM"`
-- @treturn int the peak
-- @treturn string its first day, `"YYYY-MM-DD"` (the month's 1st when the peak is 0)
-- @raise `meter:peak_dau: month: malformed month (expected YYYY-MM), got "..."`
-- @function Meter:peak_dau

--- The month's peak of existing groups and the first day it was reached: the
-- net count carried into each day plus the highest running sum of its
-- creates and disbands in time order.
-- @string month `"YYYY-MM"`
-- @treturn int the peak
-- @treturn string its first day, `"YYYY-MM-DD"`
-- @raise `meter:peak_groups: month: malformed month (expected YYYY-MM), got "..."`
-- @function Meter:peak_groups

--- The groups that exist now.
-- @treturn int their number
-- @treturn table the number by type, `{ Private = n, Public = n, ... }` (every type, 0 included)
-- @function Meter:groups

--- The accounts that exist now.
-- @treturn int their number
-- @function Meter:accounts

--- Whether a user has an account.
-- @string user the user id
-- @treturn boolean `true` when the account exists
-- @raise `meter:has_account: user: expected a non-empty string id`
-- @function Meter:has_account

--- How many friends a user has.
-- @string user the user id
-- @treturn int the count (0 for an unknown user)
-- @raise `meter:friends: user: expected a non-empty string id`
-- @function Meter:friends

--- How many groups a user has joined (of every type).
-- @string user the user id
-- @treturn int the count (0 for an unknown user)
-- @raise `meter:joined: user: expected a non-empty string id`
-- @function Meter:joined

--- A group's members and type.
-- @string group the group id
-- @treturn ?int the number of members, nil when the group does not exist
-- @treturn ?string its type
-- @raise `meter:members: group: expected a non-empty string id`
-- @function Meter:members

--- The latest day the meter has counted an event for.
-- @treturn ?string `"YYYY-MM-DD"`, nil before the first event
-- @function Meter:last_day

--- Frees the event ids of every day before a date, once its month is
-- billed; daily and monthly totals stay, so usage and invoices of released
-- months still work.  Logins, group creations and disbands dated on a
-- released day are then refused `"closed"`.
-- @string before `"YYYY-MM-DD"`; the days before it are released
-- @treturn boolean `true`
-- @raise `meter:release: before: is inside the 34-day dedup window (latest event day: ...)`
-- @function Meter:release

--- The memory the meter holds, in bytes and counts.
-- @treturn table `{ users =, user_bytes =, groups =, group_bytes =, user_days =, day_bytes =,`
-- `user_months =, month_bytes =, event_ids =, event_bytes =, total = }`
-- @function Meter:memory

-- A call of the core's private entry points, its error named by the method
-- that made it (a finalizer may close the meter in the middle of a method).
local function on(fn, f, ...) return errors.call(fn, nil, f, ...) end

-- A save or load that failed: an error of kind "io" (docs/errors.md) with
-- the system's error number, whatever failed (the system, or the file's checks).
local function io_fail(fn, reason, path, errno)
  local e = errors.new(fn, "path", reason, path)
  e.kind = "io"
  e.errno = errno ~= 0 and errno or nil
  error(e, 0)
end

local function state(m, fn)
  if not impl.is_meter(m) then check.fail(fn, "self", "expected a meter: call it as m:" .. fn:match(":(.*)") .. "(...)", m) end
  if impl.handle(m) == nil then check.fail(fn, "self", "the meter was closed", check.NOVALUE) end
  return impl.state(m)
end

--- The edition in force at instant t (now: the latest).
-- @int[opt] t an instant, whole Unix seconds (default: the latest edition)
-- @treturn Edition the edition
-- @raise `meter:edition: t: expected an instant in whole Unix seconds`, `t: instant is outside years 1..9999 ...`
function Meter:edition(t)
  local fn = "meter:edition"
  local st = state(self, fn)
  if t ~= nil and (type(t) ~= "number" or t ~= math.floor(t)) then
    check.fail(fn, "t", "expected an instant in whole Unix seconds", t)
  end
  -- the instants every action takes: an edition "in force" in year 10000
  -- or at 2^1000 is no answer
  if t ~= nil and (t < core.INSTANT_MIN or t >= core.INSTANT_END) then
    check.fail(fn, "t", "instant is outside years 1..9999 in every time zone (0001-01-02T00:00:00Z to "
      .. "9999-12-30T23:59:59Z)", t)
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

--- The meter's price book.
-- @treturn Book the book the meter was made (or loaded) with
function Meter:book() return state(self, "meter:book").book end

--- Sets the time the meter's events arrive at.
--
-- `m:set_clock(t)`: the time this meter's events arrive at (nil: none).  An
-- event more than a day after the clock is refused `"future"` (docs/meter.md).
-- A gateway sets it as events arrive.
-- @int[opt] t the instant now, whole Unix seconds; nil removes the clock
-- @return nothing
-- @raise `meter:set_clock: t: ...` for an instant that is not whole seconds in years 1..9999
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
  future = { "future", "the change is dated %s, more than " .. core.FUTURE_DAYS .. " days after the latest day "
    .. "this meter has counted or more than a day after its clock; a sender's clock is probably wrong" },
  closed = { "closed", "the change is dated %s, a day released from the meter (m:release), whose months are "
    .. "final" },
}

--- Changes the edition in force from an instant on.
--
-- `m:change_edition(id, t [, event_id]) -> true | true, "duplicate" | false, refusal`
--
-- Limits of the new edition apply to actions at or after t; nothing already
-- counted is undone.  Whether the change is allowed is the core's
-- edition-change policy (one change a month, no return to a free edition
-- where the book forbids it).  Refusal codes (Tencent has none for these):
-- `"one_change_per_month"`, `"no_return_to_free"`, `"same_edition"`, `"out_of_order"`; and, as for
-- every event, `"future"` (dated more than 366 days after the latest day counted, or more than a
-- day after the clock) and `"closed"` (dated on a day released by `m:release`).
-- Add-ons carry over when they are sold for the new edition, and lapse otherwise.
-- @string id the new edition, of the meter's book
-- @int t the instant it takes effect, whole Unix seconds
-- @string[opt] event_id the event's id
-- @treturn boolean `true` when the change is made, `false` when refused
-- @treturn[opt] string|table `"duplicate"`; the refusal `{ code =, limit = "edition_change",`
-- `action = "change_edition", edition =, day =, message = }`
-- @raise `meter:change_edition: edition: price book ... has no such edition ...`, `t: ...`, `event id: ...`
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
  local verdict = on(fn, impl.change, self, book.policy, t, ed.id, M.limits(book, ed, addons, st.same_day), ed.free,
    event_id)
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

--- The add-ons in force now.
--
-- `m:addons()` -> the add-ons in force now (ids).
-- @treturn {string,...} a new array of add-on ids
function Meter:addons()
  local st = state(self, "meter:addons")
  local out = {}
  for i, a in ipairs(st.addons[#st.addons] or {}) do out[i] = a end
  return out
end

--- The month's usage as `imbill.invoice` takes it.
--
-- `m:usage("YYYY-MM")`: the month as `imbill.invoice` takes it, with every fact
-- the invoice rules read: the edition in force on the month's first day, the
-- month's change, the first paid activation (whenever it was) and the add-ons,
-- so that the invoice of a metered month equals the invoice of the same facts
-- given by hand.
-- @string month `"YYYY-MM"`
-- @treturn table `{ book =, edition =, month =, dau = {...}, groups = {...}, mau =, tz =,`
-- `change = { on =, to = }?, activated = | activated_before = true?, addons = {...}? }`;
-- `dau[d]` and `groups[d]` are day d's DAU and peak net group count
-- @raise `meter:usage: month: ...` for a malformed month
-- @usage print(imbill.invoice(m:usage("2021-03")))
function Meter:usage(month)
  local fn = "meter:usage"
  local st = state(self, fn)
  local mo = dates.month(month, "month", fn)
  local first = dates.month_first(mo)
  local last = first + dates.month_length(mo) - 1
  local dau, groups, mau = on(fn, impl.month, self, month)
  local segs = on(fn, impl.segments, self)
  local at_first, change = 1, nil
  for i, s in ipairs(segs) do
    local d = s.day and dates.day(s.day) or nil
    if d == nil or d < first then
      at_first = i
    elseif d <= last then
      change = s
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
  -- a later activation is no fact of a month on a free edition; on a paid
  -- one it says the month came before the app paid at all, and the invoice
  -- refuses such a month as it refuses the same facts given by hand
  if act and (dates.day(act) <= last or not book:edition(u.edition).free) then u.activated = act
  elseif not act and not segs[1].free then
    -- started on a paid edition: the first activation is older than the meter
    u.activated_before = true
  end
  -- the add-ons of the month: those in force on the 1st (a change carries
  -- some over and lets the rest lapse, it adds none), each billed for the
  -- month's last paid edition as an invoice bills them (docs/rules.md, "Add-ons
  -- on the invoice"): one that lapsed at a change to a free edition ran this
  -- month and is billed, as the same facts given by hand are; one that edition
  -- does not sell cannot be priced for it and is left out
  local ued
  for _, s in ipairs { segs[at_first], change } do
    local e = book:edition(s.edition)
    if not e.free then ued = e end
  end
  local addons = {}
  for _, a in ipairs(ued and st.addons[at_first] or {}) do
    if book:addon(a).fee[ued.id] then addons[#addons + 1] = a end
  end
  if #addons > 0 then u.addons = addons end
  return u
end

--- The month's invoice, straight from the meter: `imbill.invoice(m:usage(month))`.
-- @string month `"YYYY-MM"`
-- @treturn Invoice the invoice
-- @raise `meter:invoice: month: ...`, or the invoice's error under `meter:invoice`
function Meter:invoice(month)
  state(self, "meter:invoice")
  local u = errors.call("meter:invoice", nil, Meter.usage, self, month)
  local ok, inv = pcall(require("imbill.bill.invoice").invoice, u)
  if ok then return inv end
  local e = errors.of(inv)
  if u.activated_before and e.field == "activated_before" then
    -- a field the meter filled, not the caller: say what it stands for
    errors.raise("meter:invoice", "month", "the meter began on a paid edition, so its first paid activation came "
      .. "before its history; no day comes before " .. u.month .. ", the calendar's first month, to stand for it",
      u.month)
  end
  error(errors.rename(e, "meter:invoice"), 0)
end

-- Saving and loading -----------------------------------------------------
--
-- The Lua side's part of a saved meter is a list of typed records (the C
-- core's imb_record: a key and a string, integer or boolean value, each
-- length-prefixed in the file), so no book name, add-on id or option can be
-- read back as anything else:
--   book              string   the price book's name
--   book.builtin      boolean  a built-in book (loaded by name) or a user book
--   book:<path>       string   a user book's content, one record per value
--                              (the book given to load must have the same)
--   same_day_disbands boolean
--   addons.<i>        string   an add-on of edition segment i, in order
-- Version 2 files kept "key=value" lines instead; they are read as before.

local function is_builtin(book)
  for _, n in ipairs(books.BUILTIN) do
    if book == books.get(n) then return true end
  end
  return false
end

-- How a key of a user book's content shows in a path: identifiers as they
-- are, other strings quoted with every byte outside printable ASCII escaped
-- (the same on every runtime), so no two paths can be confused.
local function path_key(k)
  if type(k) == "number" then return "[" .. string.format("%.17g", k) .. "]" end
  if k:match("^[%a_][%w_]*$") then return "." .. k end
  return '["' .. k:gsub('[^ !#-%[%]-~]', function(c) return string.format("\\x%02x", c:byte()) end) .. '"]'
end

local function content_value(v)
  local t = type(v)
  if t == "number" then
    if v == math.huge then return "inf" elseif v == -math.huge then return "-inf" end
    if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return string.format("%d", v) end
    return string.format("%.17g", v)
  end
  if t == "string" then return '"' .. v .. '"' end
  if t == "boolean" then return tostring(v) end
  return tostring(v) -- money: its exact decimal
end

-- What a built book holds that a reader can rely on, as (path, value) pairs in
-- a fixed order; derived copies (the raw data, sort order, day numbers) left
-- out.  Two books with the same pairs price and limit every edition alike.
local CONTENT_SKIP = { name = true, _data = true, _order = true, from_day = true, to_day = true, offset = true,
                       rate = true, book = true, id = true }
local CONTENT_NAMES = { _editions = "editions", _addons = "addons" }

local function book_content(book)
  local out = {}
  local function walk(path, v)
    if type(v) ~= "table" then
      out[#out + 1] = { path, content_value(v) }
      return
    end
    local keys = {}
    for k in pairs(v) do
      if not (type(k) == "string" and CONTENT_SKIP[k]) then keys[#keys + 1] = k end
    end
    table.sort(keys, function(a, b)
      if type(a) ~= type(b) then return type(a) == "number" end
      return a < b
    end)
    if #keys == 0 then out[#out + 1] = { path, "{}" } end
    for _, k in ipairs(keys) do
      local name = type(k) == "string" and path == "" and CONTENT_NAMES[k] or k
      walk(path == "" and name or path .. path_key(name), v[k])
    end
  end
  walk("", book)
  return out
end

local function encode_meta(inf)
  local builtin = is_builtin(inf.book)
  local recs = { { "book", inf.book.name }, { "book.builtin", builtin } }
  if not builtin then
    for _, e in ipairs(book_content(inf.book)) do recs[#recs + 1] = { "book:" .. e[1], e[2] } end
  end
  recs[#recs + 1] = { "same_day_disbands", inf.same_day == true }
  for i, list in ipairs(inf.addons) do
    for _, a in ipairs(list) do recs[#recs + 1] = { "addons." .. i, a } end
  end
  return recs
end

local function corrupt(fn, path, msg) io_fail(fn, "corrupt meter file: " .. msg, path, 0) end

-- Version 2: "key=value" lines, read as before.
local function decode_meta_v2(fn, s, path)
  local lines = {}
  for line in s:gmatch("[^\n]+") do lines[#lines + 1] = line end
  if lines[1] ~= "imbill-meter-meta 1" then corrupt(fn, path, "unknown metadata") end
  local out = { addons = {}, v2 = true }
  for i = 2, #lines do
    local k, v = lines[i]:match("^([%w_%.]+)=(.*)$")
    if not k then corrupt(fn, path, "malformed metadata") end
    local n = k:match("^addons%.(%d+)$")
    if n then
      local list = {}
      for a in v:gmatch("[^,]+") do list[#list + 1] = a end
      out.addons[tonumber(n)] = list
    elseif k == "book" then out.book = v
    elseif k == "same_day" then out.same_day = v == "true"
    end
  end
  if not out.book or out.book == "" then corrupt(fn, path, "malformed metadata (no book)") end
  return out
end

local RECORD_TYPES = { book = "string", ["book.builtin"] = "boolean", same_day_disbands = "boolean" }

local function decode_meta(fn, recs, path)
  local out = { addons = {}, content = {} }
  local seen = {}
  for i, r in ipairs(recs) do
    local k, v = r[1], r[2]
    local what = "metadata record " .. i .. " (" .. check.show(k) .. ")"
    local want = RECORD_TYPES[k]
    local seg = k:match("^addons%.([1-9]%d?%d?%d?%d?%d?)$")
    if want then
      if seen[k] then corrupt(fn, path, what .. ": appears twice") end
      seen[k] = true
    elseif seg or k:sub(1, 5) == "book:" then
      want = "string"
    else
      corrupt(fn, path, what .. ": unknown key")
    end
    if type(v) ~= want then corrupt(fn, path, what .. ": expected a " .. want .. ", has a " .. type(v)) end
    if k == "book" then out.book = v
    elseif k == "book.builtin" then out.builtin = v
    elseif k == "same_day_disbands" then out.same_day = v
    elseif seg then
      local n = tonumber(seg)
      out.addons[n] = out.addons[n] or {}
      table.insert(out.addons[n], v)
    else
      out.content[#out.content + 1] = { k:sub(6), v }
    end
  end
  if out.book == nil then corrupt(fn, path, "no metadata record names the price book") end
  if out.builtin == nil then corrupt(fn, path, "no metadata record says whether the price book is built in") end
  return out
end

-- The first difference between the content saved and the book given.
local function content_diff(saved, book)
  local now, had = {}, {}
  for _, e in ipairs(book_content(book)) do now[e[1]] = e[2] end
  for _, e in ipairs(saved) do
    local p, v = e[1], e[2]
    had[p] = true
    if now[p] == nil then return p .. " is " .. v .. " in the file and missing from this book" end
    if now[p] ~= v then return p .. " is " .. v .. " in the file and " .. now[p] .. " in this book" end
  end
  for _, e in ipairs(book_content(book)) do
    if not had[e[1]] then return e[1] .. " is " .. e[2] .. " in this book and missing from the file" end
  end
  return nil
end

--- Saves the meter's whole state to a file, atomically.
--
-- `m:save(path)`: the whole state, atomically (temporary file, fsync, rename).
-- Returns true, or raises an error naming the path and the reason.
-- `opts` (tests only): `crash_after_bytes`, `named_temp`.
--
-- `path` always holds the state before the save or the new one, whatever
-- happens during it; a link is followed to the file it names, anything but a
-- regular file is refused (docs/meter.md, "Saving").
-- @string path the file to write
-- @tab[opt] opts for tests only: `{ crash_after_bytes = n, named_temp = true }`
-- @treturn boolean `true`
-- @raise an error of kind `"io"` with the system's `errno`: `meter:save: path: cannot open its`
-- `directory: No such file or directory, got "/no/such/dir/m.imb"`; the old file stays
function Meter:save(path, opts)
  local fn = "meter:save"
  local st = state(self, fn)
  check.string(fn, "path", path)
  if opts ~= nil then
    check.fields(fn, check.table(fn, "opts", opts), { crash_after_bytes = true, named_temp = true })
  end
  local crash = opts and check.opt_count(fn, "opts.crash_after_bytes", opts.crash_after_bytes)
  local ok, err, errno = on(fn, impl.save, self, path, encode_meta(st), crash, opts and opts.named_temp)
  if not ok then io_fail(fn, err, path, errno) end
  return true
end

--- Loading saved meters.
-- @section loading

--- Whether an edition history (segments as `core.meter_impl.segments` gives
-- them) and a first paid activation day could have come from the meter:
-- nil, or what is wrong with them.
-- @tparam Book book the price book
-- @tparam {table,...} segs the editions in force, `{ { edition =, day = }, ... }`
-- @tparam ?string activated the first paid activation, `"YYYY-MM-DD"`
-- @treturn ?string nil, or a sentence saying what is wrong
-- @local
function M.history_problem(book, segs, activated)
  local act = activated and dates.day(activated) or nil
  local spans = { { edition = 1, free = book:edition(segs[1].edition).free } }
  local number = { [segs[1].edition] = 1 }
  local first_paid = not spans[1].free and -math.huge or nil
  for i = 2, #segs do
    local s = segs[i]
    local ed = book:edition(s.edition)
    number[s.edition] = number[s.edition] or i
    local day = dates.day(s.day)
    local to = { from = day, edition = number[s.edition], free = ed.free }
    -- the activation is the history's own until it happens
    local known = (act and first_paid and act < day) and act or nil
    local v = core.change_check(book.policy, spans, known, day, to)
    if v ~= "ok" then return string.format("the change to %s on %s breaks the policy (%s)", s.edition, s.day, v) end
    if not first_paid and not ed.free then first_paid = day end
    spans[#spans + 1] = to
  end
  if act then
    if first_paid and first_paid ~= -math.huge and act ~= first_paid then
      return "the first paid activation " .. activated .. " is not the first change to a paid edition"
    end
    if not first_paid then return "a first paid activation " .. activated .. " on a history of free editions" end
    if first_paid == -math.huge and #segs > 1 and act > dates.day(segs[2].day) then
      return "the first paid activation " .. activated .. " comes after the first change"
    end
  end
  return nil
end

--- A saved meter, read back exactly.
--
-- `imbill.meter.load(path [, { book = user_book }])`: a saved meter, exactly.
-- A truncated, corrupt or foreign file raises an error naming the path and
-- the problem (the file's field); no meter is returned.  A meter on a user
-- book needs that book, with the same name and the same content.
-- @string path the file `m:save` wrote
-- @tab[opt] opts `{ book = user_book }`: the user book the meter was saved with
-- @treturn Meter the meter, as it was saved
-- @raise an error of kind `"io"` naming the path: `imbill.meter.load: path: corrupt meter file:`
-- `days[5].disbanded: ...`; `book: the file was saved with user price book ...; pass that book as { book = }`
function M.load(path, opts)
  local fn = FN .. ".load"
  check.string(fn, "path", path)
  if opts ~= nil then opts = check.fields(fn, opts, { book = true }) end
  local st = {}
  local m, recs, version = impl.load(path, st)
  if not m then io_fail(fn, recs, path, version) end
  local d = version == 2 and decode_meta_v2(fn, recs[1][2], path) or decode_meta(fn, recs, path)
  local given = opts and opts.book ~= nil and check.call(fn, books.get, opts.book) or nil
  local book
  if d.v2 then
    -- as version 2 read them: a name, a built-in one by default
    if given then
      if given.name ~= d.book then
        check.fail(fn, "book", "the file was saved with price book " .. d.book, given.name)
      end
      book = given
    else
      local ok, b = pcall(books.get, d.book)
      if not ok then
        check.fail(fn, "book", "the file was saved with user price book " .. d.book .. "; pass it as { book = }",
          check.NOVALUE)
      end
      book = b
    end
  elseif d.builtin then
    local ok, b = pcall(books.get, d.book)
    if not ok or not is_builtin(b) then
      corrupt(fn, path, "the built-in price book " .. check.show(d.book) .. " does not exist")
    end
    if given and given ~= b then
      check.fail(fn, "book", "the file was saved with the built-in price book " .. d.book .. ", not this one",
        given.name)
    end
    book = b
  else
    -- a user book is never replaced by a built-in one, whatever its name
    if not given then
      check.fail(fn, "book", "the file was saved with user price book " .. check.show(d.book)
        .. "; pass that book as { book = }", check.NOVALUE)
    end
    if is_builtin(given) then
      check.fail(fn, "book", "the file was saved with a user price book named " .. check.show(d.book)
        .. ", not the built-in one", given.name)
    end
    if given.name ~= d.book then
      check.fail(fn, "book", "the file was saved with user price book " .. check.show(d.book), given.name)
    end
    local diff = content_diff(d.content, given)
    if diff then
      check.fail(fn, "book", "differs from the price book the file was saved with: " .. diff, given.name)
    end
    book = given
  end
  -- a limit beyond 2^53 loads on Lua 5.4 but cannot be a LuaJIT number
  local sok, segs = pcall(impl.segments, m)
  if not sok then check.fail(fn, "path", "the file's edition limits: " .. tostring(segs), path) end
  for i, s in ipairs(segs) do
    if not book:has_edition(s.edition) then
      check.fail(fn, "book", "price book " .. check.show(book.name) .. " has no edition " .. s.edition
        .. " (the file's edition " .. i .. ")", book.name)
    end
  end
  for i, list in pairs(d.addons) do
    if i > #segs then corrupt(fn, path, "add-ons of edition " .. i .. ", the meter has " .. #segs) end
    local ed = segs[i].edition
    local seen = {}
    for _, a in ipairs(list) do
      if seen[a] then corrupt(fn, path, "add-on " .. check.show(a) .. " is listed twice for edition " .. i) end
      seen[a] = true
      local ok, addon = pcall(book.addon, book, a)
      -- version 2 recorded a user book by its name alone: its add-ons are
      -- looked up in the book given, which may have lost one since
      if not ok and d.v2 then
        if not given then
          corrupt(fn, path, "add-on " .. check.show(a) .. " is not in price book " .. check.show(book.name))
        end
        check.fail(fn, "book", "price book " .. check.show(book.name) .. " has no add-on " .. check.show(a)
          .. ", which the file's edition " .. i .. " has", book.name)
      end
      if not d.v2 and (not ok or not addon.fee[ed]) then
        corrupt(fn, path, "add-on " .. check.show(a) .. " is not sold for edition " .. ed .. " in price book "
          .. check.show(book.name))
      end
    end
  end
  for i = 1, #segs do d.addons[i] = d.addons[i] or {} end
  -- the edition history must be one the book's policy allows, with the first
  -- paid activation where that history puts it: a file can be altered with
  -- its checksum recomputed, and an impossible history would bill wrongly
  local bad = M.history_problem(book, segs, impl.activated(m))
  if bad then corrupt(fn, path, "editions: " .. bad) end
  -- the limits come from the book, never from the file: the book is the one
  -- source of them (and of features, which files do not record)
  for i, s in ipairs(segs) do
    impl.set_limits(m, i, M.limits(book, book:edition(s.edition), d.addons[i], d.same_day == true))
  end
  st.book, st.book_name, st.addons, st.same_day = book, book.name, d.addons, d.same_day == true
  return m
end

return M
