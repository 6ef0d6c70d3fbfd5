--- Hand-built plans (tables shaped like imb_plan, names for enumerations,
-- as the test locations' plan_of reads them) for the store contract specs:
-- the shared dict's (spec/nginx/store_ngx.lua) and Redis'
-- (spec/redis/store_redis.lua) run the same plans.
local M = {}

local DAY = 18687 -- 2021-03-01
M.DAY = DAY

local function op(kind, key, subject, t)
  t = t or {}
  t.kind, t.key, t.subject = kind, key, subject
  return t
end

-- An account's plan as the core writes it: a new id counts against a cap.
local function create_account(cap)
  return { day = DAY, ops = {
    op("EQ", "ACCOUNT", "USER", { arg = 0, fail = "NOOP" }),
    op("ADD", "ACCOUNTS", "APP", { arg = 1, bound = cap, fail = "REFUSE", code = 70398, limit = "ACCOUNTS" }),
    op("SET", "ACCOUNT", "USER", { arg = 1 }),
    op("MAX", "LAST_DAY", "APP", { arg = DAY }),
  } }
end

-- A delete's plan as the core writes it: the id's memberships and
-- friendships end whether or not an account was counted for it; the
-- account count goes down only for one counted (the conditions are judged
-- before the plan, so `set_first` puts the SET ahead of the ADD to show it);
-- an id with nothing counted changes nothing.
local function delete_account(set_first)
  local add = op("ADD", "ACCOUNTS", "APP", { arg = -1, when = "USER_ACCOUNT" })
  local set = op("SET", "ACCOUNT", "USER", { arg = 0, when = "USER_ACCOUNT" })
  if set_first then add, set = set, add end
  return { day = DAY, ops = {
    op("COUNTED", "ACCOUNT", "USER", { fail = "NOOP" }),
    add, set,
    op("CASCADE_USER", "JOINED", "USER"),
    op("MAX", "LAST_DAY", "APP", { arg = DAY }),
  } }
end
M.delete_account = delete_account

local function create_group(gtype, cap)
  return { day = DAY, t = 1614560000, gtype = gtype, ops = {
    op("EQ", "GROUP", "GROUP", { arg = 0, fail = "REFUSE", code = 10021, limit = "GROUP_ID" }),
    op("ADD", "GROUPS_OF", "APP", { gtype = gtype, arg = 1, bound = cap or -1, fail = "REFUSE", code = 10036,
                                    limit = "AV_GROUPS" }),
    op("ADD", "GROUPS", "APP", { arg = 1 }),
    op("ADD", "DAY_NET", "DAY", { arg = 1 }),
    op("SET", "GROUP", "GROUP", { arg = 1 + ({ PRIVATE = 0, PUBLIC = 1, CHATROOM = 2, AVCHATROOM = 3 })[gtype] }),
    op("SET", "GROUP_T", "GROUP", { arg = 1614560000 }),
    op("LOG", "GROUP_LOG", "DAY", { arg = 1 }),
  } }
end

local function disband(day)
  return { day = day or DAY, t = 1614570000, ops = {
    op("NE", "GROUP", "GROUP", { arg = 0, fail = "REFUSE", code = 10010, limit = "GROUP_EXISTS" }),
    op("SET", "GROUP", "GROUP", { arg = 0 }),
    op("ADD", "GROUPS", "APP", { arg = -1 }),
    op("ADD", "GROUPS_OF", "APP", { gtype = "OF_GROUP", arg = -1 }),
    op("ADD", "GROUPS_NON_AV", "APP", { arg = -1, when = "GROUP_NON_AV" }),
    op("ADD", "DAY_NET", "DAY", { arg = -1 }),
    op("ADD", "DAY_NET_SAME", "DAY", { arg = -1, when = "GROUP_TODAY" }),
    op("LOG", "GROUP_LOG", "DAY", { arg = -1 }),
    op("CASCADE_GROUP", "MEMBERS", "GROUP"),
  } }
end

local function join(members_cap, groups_cap)
  return { day = DAY, by_type = { members_cap, members_cap, members_cap, -1, -1, members_cap }, ops = {
    op("NE", "GROUP", "GROUP", { arg = 0, fail = "REFUSE", code = 10010, limit = "GROUP_EXISTS" }),
    op("LACKS", "MEMBERS", "GROUP", { member = "USER", fail = "NOOP" }),
    op("SADD", "MEMBERS", "GROUP", { member = "USER", by_type = true, fail = "REFUSE", code = 10014,
                                     limit = "MEMBERS_PER_GROUP" }),
    op("SADD", "JOINED", "USER", { member = "GROUP", bound = groups_cap or -1, fail = "REFUSE", code = 10037,
                                   limit = "GROUPS_PER_USER" }),
  } }
end

local function leave()
  return { day = DAY, ops = {
    op("HAS", "MEMBERS", "GROUP", { member = "USER", fail = "NOOP" }),
    op("SREM", "MEMBERS", "GROUP", { member = "USER" }),
    op("SREM", "JOINED", "USER", { member = "GROUP" }),
  } }
end

local function login(day, month)
  return { day = day, month = month or (2021 * 12 + 2), ops = {
    op("LE", "RELEASED", "APP", { arg = day, fail = "REFUSE", code = -1, limit = "DAY_OPEN" }),
    op("MARK", "ACTIVITY", "USER"),
    op("MAX", "LAST_DAY", "APP", { arg = day }),
  } }
end

-- A friendship, each side capped at `cap`; with `noop_if_friends` a pair
-- already friends changes nothing.
local function friend(cap, noop_if_friends)
  local ops = {}
  if noop_if_friends then ops[1] = op("LACKS", "FRIENDS", "USER", { member = "PEER", fail = "NOOP" }) end
  ops[#ops + 1] = op("SADD", "FRIENDS", "USER", { member = "PEER", bound = cap, fail = "REFUSE", code = 30010,
                                                  limit = "FRIENDS_PER_USER" })
  ops[#ops + 1] = op("SADD", "FRIENDS", "PEER", { member = "USER", bound = cap, fail = "REFUSE", code = 30014,
                                                  limit = "FRIENDS_PER_USER" })
  return { day = DAY, ops = ops }
end
M.friend = friend

M.op, M.create_account, M.create_group, M.disband, M.join, M.leave, M.login =
  op, create_account, create_group, disband, join, leave, login
return M
