--- The sentences a meter's refusals carry, written once, by limit.  The core
-- decides and reports the refusal as data (code, limit, max, current, day,
-- ids); the binding calls message(refusal, meter) to add refusal.message, a
-- sentence a support engineer can paste to a customer.
local core = require "imbill.core"
local errors = require "imbill.internal.errors"
local dates = require "imbill.internal.dates"

local M = {}

-- ids inside a sentence: shown like values in errors (quoted, escaped, long
-- ones shortened), so an id cannot break or flood the message
local function id(s) return errors.show(s) end

-- The add-on of the meter's book that raises `limit` for `edition`, or nil:
-- a sentence advises buying one only where the book sells one for the
-- edition in force (none for free editions, none in price book 2022).
local function raising(bk, limit, edition)
  local ok, found = pcall(function()
    local ids = {}
    for aid, a in next, bk._addons do
      if a.fee[edition] and a.raises[limit] and a.raises[limit][edition] ~= nil then ids[#ids + 1] = aid end
    end
    table.sort(ids)
    return ids[1]
  end)
  return ok and found or nil
end

local function buy(bk, limit, edition, what)
  if raising(bk, limit, edition) then return ", or buy the " .. what .. " add-on" end
  return ""
end

local TEMPLATES = {
  accounts = function(r, book)
    return string.format("Error 70398: the %s edition (price book %s) allows at most %d accounts and this app has "
      .. "%d. Delete accounts that are no longer used, or upgrade to a paid edition, to create more.",
      r.edition, book, r.max, r.current)
  end,
  non_av_groups = function(r, book)
    return string.format("Error 10058: the %s edition (price book %s) allows at most %d groups (Private, Public, "
      .. "ChatRoom, Community) and this app has %d. Disband unused groups or upgrade to a paid edition.",
      r.edition, book, r.max, r.current)
  end,
  av_groups = function(r, book, _, bk)
    local addon = buy(bk, "av_groups", r.edition, "unlimited AVChatRoom")
    return string.format("Error 10036: the %s edition (price book %s) allows at most %d AVChatRoom groups at a "
      .. "time and this app has %d. Disband an AVChatRoom%s%s.", r.edition, book, r.max, r.current,
      addon == "" and " or upgrade" or ", upgrade", addon)
  end,
  bchatroom_total = function(r)
    return string.format("Error 10036: an app can have at most %d BChatRoom groups at a time and this app has "
      .. "%d. Disband a BChatRoom first.", r.max, r.current)
  end,
  bchatroom_daily = function(r, _, tz)
    return string.format("Error 10006: at most %d BChatRoom groups can be created per day and %d were created on "
      .. "%s (billing day, UTC%s). Try again the next day.", r.max, r.current, r.day, tz)
  end,
  daily_net_groups = function(r, _, tz)
    return string.format("Error 10006: the daily net group increase (groups created minus groups disbanded) is "
      .. "limited to %d and has reached %d on %s (billing day, UTC%s). Disband groups or try again the next day.",
      r.max, r.current, r.day, tz)
  end,
  members_per_group = function(r, book, _, bk)
    return string.format("Error 10014: group %s (%s) is full: it has %d members and the %s edition (price book %s) "
      .. "allows at most %d members per %s group. Upgrade%s.", id(r.group), r.type, r.current, r.edition, book,
      r.max, r.type, buy(bk, "members_per_group", r.edition, "members-per-group"))
  end,
  -- the count and the limit both: after a downgrade a user may hold more
  -- than the new edition allows (lowering a limit is not retroactive)
  groups_per_user = function(r, book, _, bk)
    return string.format("Error 10037: user %s has joined %d groups and the %s edition (price book %s) allows at "
      .. "most %d. Leave a group%s%s.", id(r.user), r.current, r.edition, book, r.max,
      raising(bk, "groups_per_user", r.edition) and ", upgrade" or " or upgrade",
      buy(bk, "groups_per_user", r.edition, "groups-per-user"))
  end,
  friends_per_user = function(r, book)
    if r.code == 30014 then
      return string.format("Error 30014: the other user, %s, already has %d friends and the %s edition "
        .. "(price book %s) allows at most %d.", id(r.user), r.current, r.edition, book, r.max)
    end
    return string.format("Error 30010: user %s already has %d friends and the %s edition (price book %s) allows "
      .. "at most %d. Remove a friend or upgrade the edition.", id(r.user), r.current, r.edition, book, r.max)
  end,
  group_exists = function(r)
    -- the event may be dated the group's own creation day, a few seconds before it
    return string.format("Error 10010: group %s does not exist at the event's time on %s (it was never "
      .. "created, was created later, or has been disbanded).", id(r.group), r.day)
  end,
  group_id = function(r)
    return string.format("Error 10021: group ID %s is already used by an existing group.", id(r.group))
  end,
  feature = function(r, book)
    return string.format("Error 10059: the %s edition (price book %s) does not support %s, which a %s group "
      .. "needs. Upgrade to an edition that has it.", r.edition, book, r.feature, r.type or "group")
  end,
  day_open = function(r)
    if r.released then
      return string.format("Not counted: %s was released from the meter (m:release); events for it can no longer "
        .. "be counted exactly.", r.day)
    end
    return string.format("Not counted: a login for %s arrived when the meter had reached %s; logins are counted "
      .. "at most %d days late.", r.day, r.latest or "?", core.LOGIN_LATE_DAYS)
  end,
  future = function(r)
    return string.format("Not counted: the event is dated %s, more than %d days after the latest day this meter "
      .. "has counted or more than a day after its clock; a sender's clock is probably wrong.", r.day,
      core.FUTURE_DAYS)
  end,
}

function M.message(r, m)
  -- the meter may be closed by now (a finalizer run while the refusal was
  -- built): the sentence is written without what it can no longer tell
  local ok, st = pcall(core.meter_impl.state, m)
  local book = ok and type(st) == "table" and st.book_name or "?"
  local bk = ok and type(st) == "table" and st.book or nil
  local ok2, off = pcall(core.meter_impl.offset, m)
  local tz = ok2 and dates.format_tz(off) or "?"
  local t = TEMPLATES[r.limit]
  return t and t(r, book, tz, bk) or "Refused."
end

return M
