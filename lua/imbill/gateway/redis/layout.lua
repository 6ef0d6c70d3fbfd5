--- Where each of a plan's keys lives in Redis (docs/store.md, "Key layout
-- in the shared stores").
--
-- Every key of an app starts with "imb:{SDKAppID}:": the braces are Redis
-- Cluster's hash tag, so all of an app's keys are in one slot and one
-- script can touch them all.  Ids come last in every key, so no two ids can
-- name the same key, and braces inside an id do not change the tag (Redis
-- takes the first pair).
--
-- Per-user state is what grows with users: an account flag and a 16-byte
-- activity state per user, kept as fields of hashes bucketed by a hash of
-- the user id, so each hash stays small enough for Redis to store as a
-- listpack (about 30 bytes a user instead of a key of its own).  The bucket
-- count is fixed for an app's life: the interpreter refuses a program whose
-- layout differs from what the app's Redis holds.
local core = require "imbill.gateway.core"

local K = core.K
local M = {}

function M.prefix(app) return "imb:{" .. app .. "}:" end

-- CRC-32 (IEEE) of a user id, for its bucket: nginx's own where there is
-- one, the same sum in Lua elsewhere (LuaJIT's bit library).
local crc32
if ngx and ngx.crc32_long then
  crc32 = ngx.crc32_long
else
  local ok, bit = pcall(require, "bit")
  if ok then
    local band, bxor, rshift, bnot = bit.band, bit.bxor, bit.rshift, bit.bnot
    local T = {}
    for i = 0, 255 do
      local c = i
      for _ = 1, 8 do
        if band(c, 1) == 1 then c = bxor(rshift(c, 1), 0xEDB88320) else c = rshift(c, 1) end
      end
      T[i] = c
    end
    crc32 = function(s)
      local c = bnot(0)
      for i = 1, #s do c = bxor(rshift(c, 8), T[band(bxor(c, s:byte(i)), 0xFF)]) end
      c = bnot(c)
      if c < 0 then c = c + 4294967296 end
      return c
    end
  end
end
M.crc32 = crc32

function M.bucket(user, buckets)
  return crc32(user) % buckets
end

-- The layout an app's Redis must hold, checked by every program.
function M.tag(buckets) return "imb1:b" .. buckets end

local function kname(k) return core.names.key[k] end

--- The Redis key of a counter key (the app's, a day's, a month's).
function M.counter(P, k, id, gname)
  if k == K.IMB_K_ACCOUNTS or k == K.IMB_K_GROUPS or k == K.IMB_K_GROUPS_NON_AV or k == K.IMB_K_LAST_DAY
    or k == K.IMB_K_RELEASED then
    return P .. "c:" .. kname(k)
  elseif k == K.IMB_K_GROUPS_OF then
    return P .. "c:groups_of:" .. gname
  elseif k == K.IMB_K_DAY_NET or k == K.IMB_K_DAY_NET_SAME or k == K.IMB_K_DAY_BCHAT or k == K.IMB_K_DAU then
    return P .. "d:" .. id .. ":" .. kname(k)
  elseif k == K.IMB_K_MAU then
    return P .. "m:" .. id .. ":mau"
  end
  return nil
end

function M.account(P, user, buckets) return P .. "ua:" .. M.bucket(user, buckets), user end
function M.activity(P, user, buckets) return P .. "act:" .. M.bucket(user, buckets), user end
function M.group(P, group) return P .. "g:" .. group end
function M.members(P, group) return P .. "gm:" .. group end
function M.joined(P, user) return P .. "uj:" .. user end
function M.friends(P, user) return P .. "uf:" .. user end
function M.event(P, id) return P .. "ev:" .. id end
function M.group_log(P, day) return P .. "glog:" .. day end
function M.layout_key(P) return P .. "c:layout" end

-- Store mechanics: reservation records (hash rid -> record), the rids
-- waiting for each match (hash match -> "rid rid ..."), the queue of
-- deadlines (sorted set), and program markers per 10-second window.
function M.reservations(P) return P .. "rr", P .. "rm", P .. "rq" end
function M.marker(P, window) return P .. "p:" .. window end

-- Keys whose value is a day, IMB_NO_DAY when never set.
M.DAY_VALUED = { [K.IMB_K_LAST_DAY] = true, [K.IMB_K_RELEASED] = true }

return M
