--- Where each of a plan's keys lives in the shared dict.
--
-- Every key of one app starts with "imb:{SDKAppID}:" (the layout the shared
-- stores share, with the app id as the Redis hash tag).  A dict has no hashes
-- or sets, so a hash field is a key of its own and a set is spread over keys
-- (see store.lua).  Ids of users, groups and events are arbitrary bytes: an
-- id that is followed by more text is written with its length first
-- ("gm:5:team1"), so no two ids can ever name the same key.
local core = require "imbill.gateway.core"

local K, S = core.K, core.S
local M = {}

function M.prefix(app) return "imb:{" .. app .. "}:" end

local function counted(id) return #id .. ":" .. id end
M.counted = counted

-- Names of the plain counters, from the core's own key names.
local function kname(k) return core.names.key[k] end

local build

-- Keys of the app, its days and months recur in every plan: each is made
-- once per worker (they grow by a few a day).  Keys of users, groups and
-- events are made afresh.
local SHARED = {
  [K.IMB_K_ACCOUNTS] = true, [K.IMB_K_GROUPS] = true, [K.IMB_K_GROUPS_NON_AV] = true, [K.IMB_K_LAST_DAY] = true,
  [K.IMB_K_RELEASED] = true, [K.IMB_K_GROUPS_OF] = true, [K.IMB_K_DAY_NET] = true, [K.IMB_K_DAY_NET_SAME] = true,
  [K.IMB_K_DAY_BCHAT] = true, [K.IMB_K_DAU] = true, [K.IMB_K_MAU] = true, [K.IMB_K_GROUP_LOG] = true,
}
local memo = {}

--- The dict key of a plan operation's key, or for a set the base its keys
-- hang from.  `gname` is the group type name for GROUPS_OF.
function M.key(P, k, id, gname)
  if SHARED[k] then
    local mp = memo[P]
    if not mp then
      mp = {}
      memo[P] = mp
    end
    local mk = mp[k]
    if not mk then
      mk = {}
      mp[k] = mk
    end
    local sub = id or gname or 0
    local v = mk[sub]
    if v == nil then
      v = build(P, k, id, gname)
      mk[sub] = v
    end
    return v
  end
  return build(P, k, id, gname)
end

-- How each key is written: its form and its fixed text.
local CONST, OF_TYPE, OF_DAY, OF_MONTH, OF_ID, OF_COUNTED = 1, 2, 3, 4, 5, 6
local FORM = {
  [K.IMB_K_ACCOUNTS] = { CONST }, [K.IMB_K_GROUPS] = { CONST }, [K.IMB_K_GROUPS_NON_AV] = { CONST },
  [K.IMB_K_LAST_DAY] = { CONST }, [K.IMB_K_RELEASED] = { CONST },
  [K.IMB_K_GROUPS_OF] = { OF_TYPE, "c:groups_of:" },
  [K.IMB_K_DAY_NET] = { OF_DAY }, [K.IMB_K_DAY_NET_SAME] = { OF_DAY }, [K.IMB_K_DAY_BCHAT] = { OF_DAY },
  [K.IMB_K_DAU] = { OF_DAY },
  [K.IMB_K_MAU] = { OF_MONTH, ":mau" },
  [K.IMB_K_ACCOUNT] = { OF_ID, "ua:" }, [K.IMB_K_ACTIVITY] = { OF_ID, "act:" },
  [K.IMB_K_GROUP_LOG] = { OF_ID, "glog:" }, [K.IMB_K_EVENT] = { OF_ID, "ev:" },
  -- the group's type and creation instant: one number here (see GROUP_RECORD)
  [K.IMB_K_GROUP] = { OF_COUNTED, "g:" }, [K.IMB_K_GROUP_T] = { OF_COUNTED, "g:" },
  [K.IMB_K_MEMBERS] = { OF_COUNTED, "gm:" }, [K.IMB_K_JOINED] = { OF_COUNTED, "uj:" },
  [K.IMB_K_FRIENDS] = { OF_COUNTED, "uf:" },
}
local FORM_READY = false

-- The names come from the core once it is loaded.
local function forms()
  for k, f in pairs(FORM) do
    if f[1] == CONST then f[2] = "c:" .. kname(k)
    elseif f[1] == OF_DAY then f[2] = ":" .. kname(k) end
  end
  FORM_READY = true
end

-- "<length>:" for every id length an id can have (no number formatted per key)
local LEN = {}
for n = 0, 1024 do LEN[n] = n .. ":" end

function build(P, k, id, gname)
  if not FORM_READY then forms() end
  local f = FORM[k]
  if f == nil then return nil end
  local form, text = f[1], f[2]
  if form == OF_COUNTED then return P .. text .. (LEN[#id] or (#id .. ":")) .. id end
  if form == OF_ID then return P .. text .. id end
  if form == CONST then return P .. text end
  if form == OF_DAY then return P .. "d:" .. id .. text end
  if form == OF_TYPE then return P .. text .. gname end
  return P .. "m:" .. id .. text
end

-- Keys whose value is a day, IMB_NO_DAY when never set.
M.DAY_VALUED = { [K.IMB_K_LAST_DAY] = true, [K.IMB_K_RELEASED] = true }

-- A group's two fields in one number, so a group is one dict entry: its
-- GROUP value (0: none, else 1 + its type) times 2^40, plus its creation
-- instant's distance from core.INSTANT_BASE (under 2^39, so the
-- sum stays an exact double).
M.GROUP_RECORD = { [K.IMB_K_GROUP] = true, [K.IMB_K_GROUP_T] = true }
local TWO40 = 1099511627776
local T0 = core.INSTANT_BASE
function M.group_fields(rec)
  if rec == nil then return 0, 0 end
  local t = math.floor(rec / TWO40)
  return t, rec - t * TWO40 + T0
end
function M.group_record(t, at)
  if t == 0 then return nil end
  return t * TWO40 + (at - T0)
end

-- Counters that the login path bumps with an atomic incr outside the app
-- lock: every writer uses incr on them.
M.ATOMIC = { [K.IMB_K_DAU] = true, [K.IMB_K_MAU] = true }

-- Set keys, and the subject of their members.
M.SETS = { [K.IMB_K_MEMBERS] = true, [K.IMB_K_JOINED] = true, [K.IMB_K_FRIENDS] = true }

-- Keys outside plans: reservations and their queue, the group rename map.
function M.reservation(P, rid) return P .. "r:" .. rid end
function M.reservation_queue(P) return P .. "rq" end
function M.reservation_match(P, match) return P .. "rm:" .. match end

M.S = S
return M
