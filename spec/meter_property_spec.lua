-- Random event streams through the meter must agree with a plain Lua model of
-- the counting rules (docs/rules.md), written here from the rules and not
-- from the C code: on every answer (allowed, unchanged, refused with which
-- code, duplicate), on every count, and on the months' usage.
local H = require "helper"
local imbill = H.imbill
local core = require "imbill.core"
local books = require "imbill.book"

local DAY = 86400

-- Tiny limits so that every refusal happens often.
local BOOK = imbill.book{
  base = "2020", name = "tiny",
  editions = {
    trial = { limits = { accounts = 8, friends_per_user = 3, groups_per_user = 3, members_per_group = 4,
                         non_av_groups = 5, av_groups = 2, daily_net_groups = 4, bchatroom_daily = 2,
                         bchatroom_total = 2 } },
    pro = { limits = { accounts = 12, friends_per_user = 5, groups_per_user = 4,
                       members_per_group = { Private = 3, Public = 6, ChatRoom = 6, Community = 6 },
                       non_av_groups = 7, av_groups = 3, daily_net_groups = 6, bchatroom_daily = 2,
                       bchatroom_total = 3 } },
  },
}

local function new_model(edition, same_day, offset)
  return {
    same_day = same_day, offset = offset,
    editions = { { from = -math.huge, ed = BOOK:edition(edition) } },
    accounts = {}, naccounts = 0, groups = {}, joined = {}, friends = {}, ids = {},
    days = {}, months = {}, count = 0, bytype = {}, glog = {},
  }
end

local function size(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

local function limits_at(M, t)
  local ed = M.editions[1].ed
  for _, e in ipairs(M.editions) do if e.from <= t then ed = e.ed end end
  return ed
end

local function day_of(M, t) return math.floor((t + M.offset) / DAY) end

local function day(M, d)
  M.days[d] = M.days[d] or { users = {}, created = 0, disbanded = 0, same = 0, bchat = 0 }
  return M.days[d]
end

local function set_of(t, k)
  t[k] = t[k] or {}
  return t[k]
end

-- A net group change at instant t of day d.  The billed peak of a day is the
-- highest running count in time order (disbands first at the same instant),
-- whatever order the events arrived in: model_month sorts each day's log.
local function moved(M, d, t, delta)
  M.count = M.count + delta
  local log = M.glog[d] or {}
  M.glog[d] = log
  log[#log + 1] = { t = t, delta = delta }
end

local function refuse(code) return false, code end

local NON_AV = books.NON_AV

-- One event through the model: true | true, "duplicate" | false, code
local function step(M, e)
  local ed = limits_at(M, e.t)
  local L = ed.limits
  local d = day_of(M, e.t)
  local a = e.action
  local gtype = books.GROUP_ALIASES[e.type] or e.type
  -- an action the edition's features do not allow is refused before anything
  if a == "create_group" and gtype == "Community" and not ed:supports("community") then return refuse(10059) end
  if e.id and M.ids[e.id] then return true, "duplicate" end
  -- an event dated far after everything counted is a sender's clock error
  if M.last and d - core.FUTURE_DAYS > M.last then return refuse("future") end
  local function over(max, cur) return max ~= nil and cur + 1 > max end
  local ok, code = true, nil
  local function unchanged() code = "unchanged" end
  if a == "create_account" then
    if not M.accounts[e.user] then
      if over(L.accounts, M.naccounts) then return refuse(70398) end
      M.accounts[e.user] = true
      M.naccounts = M.naccounts + 1
    else
      unchanged()
    end
  elseif a == "delete_account" then
    -- the id's memberships and friendships end with it, whether or not an
    -- account was counted for it; the account count goes down only for one
    -- counted; an id with nothing counted changes nothing
    local had = M.accounts[e.user]
    if not had and next(M.joined[e.user] or {}) == nil and next(M.friends[e.user] or {}) == nil then
      unchanged()
    else
      if had then
        M.accounts[e.user] = nil
        M.naccounts = M.naccounts - 1
      end
      for g in pairs(M.joined[e.user] or {}) do M.groups[g].members[e.user] = nil end
      M.joined[e.user] = nil
      -- (a list per user: the friends in the user's list lose the user)
      for f in pairs(M.friends[e.user] or {}) do set_of(M.friends, f)[e.user] = nil end
      M.friends[e.user] = nil
    end
  elseif a == "login" then
    -- docs/meter.md: a login is counted at most 63 days after the latest day
    -- the meter has counted an event for
    if M.last and d < M.last - 63 then return refuse("closed") end
    day(M, d).users[e.user] = true
    local mo = core.month_of_day(d)
    set_of(M.months, mo)[e.user] = true
  elseif a == "create_group" then
    local g, ty = M.groups[e.group], books.GROUP_ALIASES[e.type] or e.type
    if g then return refuse(10021) end
    local cnt = function(pred)
      local n = 0
      for _, x in pairs(M.groups) do if pred(x.type) then n = n + 1 end end
      return n
    end
    local D = day(M, d)
    if ty == "BChatRoom" then
      if over(L.bchatroom_total, cnt(function(x) return x == "BChatRoom" end)) then return refuse(10036) end
    elseif ty == "AVChatRoom" then
      if over(L.av_groups, cnt(function(x) return x == "AVChatRoom" end)) then return refuse(10036) end
    elseif over(L.non_av_groups, cnt(function(x) return NON_AV[x] end)) then
      return refuse(10058)
    end
    if ty == "BChatRoom" and over(L.bchatroom_daily, D.bchat) then return refuse(10006) end
    if over(L.daily_net_groups, D.created - (M.same_day and D.same or D.disbanded)) then return refuse(10006) end
    M.groups[e.group] = { type = ty, created = d, created_t = e.t, members = {} }
    D.created = D.created + 1
    if ty == "BChatRoom" then D.bchat = D.bchat + 1 end
    moved(M, d, e.t, 1)
  elseif a == "disband_group" then
    local g = M.groups[e.group]
    -- an event dated before the group's creation, to the second, finds no group
    if not g or g.created_t > e.t then return refuse(10010) end
    for u in pairs(g.members) do M.joined[u][e.group] = nil end
    M.groups[e.group] = nil
    local D = day(M, d)
    D.disbanded = D.disbanded + 1
    if g.created == d then D.same = D.same + 1 end
    moved(M, d, e.t, -1)
  elseif a == "join_group" or a == "leave_group" then
    local g = M.groups[e.group]
    if not g or g.created_t > e.t then return refuse(10010) end
    if a == "leave_group" then
      if not g.members[e.user] then unchanged() end
      g.members[e.user] = nil
      if M.joined[e.user] then M.joined[e.user][e.group] = nil end
    elseif not g.members[e.user] then
      -- a join to a full group is 10014
      if over(ed:members_limit(g.type), size(g.members)) then return refuse(10014) end
      if over(L.groups_per_user, size(M.joined[e.user] or {})) then return refuse(10037) end
      g.members[e.user] = true
      set_of(M.joined, e.user)[e.group] = true
    else
      unchanged()
    end
  elseif a == "add_friend" then
    -- a list per user: each list that lacks the other gains it, and only
    -- those are checked; the requester's own full list is 30010, the other
    -- user's 30014; a one-way add asks nothing of the other user's list
    local fu, fp = set_of(M.friends, e.user), set_of(M.friends, e.peer)
    local need_u, need_p = not fu[e.peer], not e.one_way and not fp[e.user]
    if not need_u and not need_p then
      unchanged()
    else
      if need_u and over(L.friends_per_user, size(fu)) then return refuse(30010) end
      if need_p and over(L.friends_per_user, size(fp)) then return refuse(30014) end
      if need_u then fu[e.peer] = true end
      if need_p then fp[e.user] = true end
    end
  elseif a == "remove_friend" then
    local fu, fp = set_of(M.friends, e.user), set_of(M.friends, e.peer)
    if not fu[e.peer] and (e.one_way or not fp[e.user]) then unchanged() end
    fu[e.peer] = nil
    if not e.one_way then fp[e.user] = nil end
  end
  if e.id then M.ids[e.id] = true end
  if not M.last or d > M.last then M.last = d end
  return ok, code
end

local function by_time(x, y)
  if x.t ~= y.t then return x.t < y.t end
  return x.delta < y.delta
end

local function model_month(M, month)
  local first, len = core.month_first_day(month), core.month_length(month)
  local carried = 0
  for dd, log in pairs(M.glog) do
    if dd < first then for _, x in ipairs(log) do carried = carried + x.delta end end
  end
  local dau, groups = {}, {}
  for k = 1, len do
    local D = M.days[first + k - 1]
    dau[k] = D and size(D.users) or 0
    local log = M.glog[first + k - 1]
    local peak = carried
    if log then
      local sorted = {}
      for i, x in ipairs(log) do sorted[i] = x end
      table.sort(sorted, by_time)
      for _, x in ipairs(sorted) do
        carried = carried + x.delta
        if carried > peak then peak = carried end
      end
    end
    groups[k] = peak
  end
  return dau, groups, size(M.months[month] or {})
end

local TYPES = { "Private", "Public", "ChatRoom", "AVChatRoom", "BChatRoom", "Community", "Work", "Meeting" }
local ACTIONS = { "create_account", "create_account", "delete_account", "login", "login", "login", "create_group",
                  "create_group", "disband_group", "join_group", "join_group", "leave_group", "add_friend",
                  "add_friend", "remove_friend" }

local function stream(seed, n)
  math.randomseed(seed)
  local t = core.parse_date("2021-02-20") * DAY
  local events, sent = {}, {}
  local change_at = math.random(n)
  for i = 1, n do
    t = t + math.random(0, 6 * 3600)
    local e
    if i == change_at then
      e = { action = "change_edition", t = t }
    elseif #sent > 0 and math.random() < 0.05 then
      e = sent[math.random(#sent)] -- a re-sent event
    else
      local a = ACTIONS[math.random(#ACTIONS)]
      e = { action = a, t = t, user = "u" .. math.random(14), group = "g" .. math.random(12),
            peer = "u" .. math.random(14), type = TYPES[math.random(#TYPES)] }
      if a == "login" and math.random() < 0.2 then e.t = t - math.random(0, 3 * DAY) end -- late
      if a == "login" and math.random() < 0.05 then e.t = t - math.random(55 * DAY, 70 * DAY) end -- near the window
      if e.peer == e.user then e.peer = e.user .. "x" end
      if (a == "add_friend" or a == "remove_friend") and math.random() < 0.4 then e.one_way = true end
      if math.random() < 0.4 then e.id = "e" .. i end
    end
    events[#events + 1] = e
    if e.id then sent[#sent + 1] = e end
  end
  return events
end

local function meter_step(m, e)
  local a = e.action
  if a == "create_group" then return m:create_group(e.group, e.type, e.t, e.id) end
  if a == "disband_group" then return m:disband_group(e.group, e.t, e.id) end
  if a == "join_group" or a == "leave_group" then return m[a](m, e.group, e.user, e.t, e.id) end
  if a == "add_friend" or a == "remove_friend" then
    return m[a](m, e.user, e.peer, e.t, e.id, e.one_way and { one_way = true } or nil)
  end
  return m[a](m, e.user, e.t, e.id)
end

describe("meter against a Lua model of the rules", function()
  for seed = 1, 40 do
    it("agrees on a random stream of events (seed " .. seed .. ")", function()
      local same_day = seed % 2 == 0
      local offset = seed % 3 == 0 and 0 or 8 * 3600
      local m = imbill.meter{ book = BOOK, edition = "trial", same_day_disbands = same_day, tz = offset }
      local M = new_model("trial", same_day, offset)
      local months = {}
      for i, e in ipairs(stream(seed, 700)) do
        if e.action == "change_edition" then
          assert.is_true(m:change_edition("pro", e.t))
          table.insert(M.editions, { from = e.t, ed = BOOK:edition("pro") })
        else
          local ok, r = meter_step(m, e)
          local mok, mr = step(M, e)
          local got = ok and (r or "ok") or r.code
          local want = mok and (mr or "ok") or mr
          assert(got == want, string.format("event %d (%s %s %s %s): meter %s, model %s", i, e.action,
            tostring(e.user), tostring(e.group), tostring(e.id), tostring(got), tostring(want)))
          months[core.month_of_day(day_of(M, e.t))] = true
        end
      end
      assert.equal(M.naccounts, m:accounts())
      local total, by = m:groups()
      assert.equal(size(M.groups), total)
      for _, ty in ipairs(books.GROUP_TYPES) do
        local n = 0
        for _, g in pairs(M.groups) do if g.type == ty then n = n + 1 end end
        assert.equal(n, by[ty], ty)
      end
      for i = 1, 14 do
        local u = "u" .. i
        assert.equal(size(M.friends[u] or {}), m:friends(u), u .. " friends")
        assert.equal(size(M.joined[u] or {}), m:joined(u), u .. " joined")
      end
      for i = 1, 12 do
        local g = M.groups["g" .. i]
        assert.equal(g and size(g.members) or nil, (m:members("g" .. i)))
      end
      for mo in pairs(months) do
        local name = core.format_month(mo)
        local dau, groups, mau = model_month(M, mo)
        local u = m:usage(name)
        assert.same(dau, u.dau, name .. " dau")
        assert.same(groups, u.groups, name .. " groups")
        assert.equal(mau, u.mau, name .. " mau")
        imbill.invoice(u) -- and the invoice takes it as it is
      end
    end)
  end
end)

-- Batched logins (m:logins) and logins through the generic rule (an event id
-- sends a login through imb_meter_apply, not the specialised login path) must
-- give exactly what the same logins one by one give: per-login answers,
-- counts, and the state a save and reload keeps.  Streams jump ahead now and
-- then and send logins near the 63-day edge, so batches straddle it.
local function login_stream(seed, n)
  math.randomseed(1000 + seed)
  local t = core.parse_date("2021-02-20") * DAY
  local ev = {}
  for i = 1, n do
    if math.random() < 0.01 then
      t = t + math.random(20, 70) * DAY -- the window's edge moves past earlier days
    else
      t = t + math.random(0, 3 * 3600)
    end
    local et, q = t, math.random()
    if q < 0.2 then
      et = t - math.random(0, 3 * DAY)
    elseif q < 0.3 then
      et = t - math.random(58 * DAY, 68 * DAY) -- either side of the edge
    end
    ev[i] = { user = "u" .. math.random(80), t = et }
  end
  return ev
end

local function login_state(m, months)
  local s = { last = m:last_day(), users = m:memory().users, months = {} }
  for mo in pairs(months) do
    local name = core.format_month(mo)
    s.months[name] = { usage = m:usage(name), mau = m:mau(name) }
  end
  return s
end

describe("a batch of logins cut short and called again", function()
  -- a core failure part-way (out of memory) leaves the logins before it
  -- counted and those after it not (docs/meter.md): calling again with the
  -- same lists must leave the counts one whole call gives
  for seed = 1, 6 do
    it("leaves the counts of one whole call (seed " .. seed .. ")", function()
      local function new() return imbill.meter{ book = BOOK, edition = "pro", tz = 8 * 3600 } end
      local whole, cut = new(), new()
      local events = login_stream(seed, 3000)
      local us, ts, months = {}, {}, {}
      for j, e in ipairs(events) do
        us[j], ts[j] = e.user, e.t
        months[core.month_of_day(day_of({ offset = 8 * 3600 }, e.t))] = true
      end
      whole:logins(us, ts)
      -- what a failure at element k leaves: the first k - 1 counted
      local k = math.random(2, #us)
      local pu, pt = {}, {}
      for j = 1, k - 1 do pu[j], pt[j] = us[j], ts[j] end
      cut:logins(pu, pt)
      cut:logins(us, ts)
      assert.same(login_state(whole, months), login_state(cut, months))
    end)
  end
end)

describe("batched and generic logins against single logins", function()
  for seed = 1, 24 do
    it("give the same answers, counts and saved state (seed " .. seed .. ")", function()
      local offset = seed % 3 == 0 and 0 or 8 * 3600
      local edition = seed % 2 == 0 and "trial" or "pro"
      local function new() return imbill.meter{ book = BOOK, edition = edition, tz = offset } end
      local one, batched, generic = new(), new(), new()
      local events = login_stream(seed, 3000)
      local months, i, nref = {}, 1, 0
      while i <= #events do
        -- batch sizes from 1 to past the binding's 1024-login chunk
        local k = math.random() < 0.1 and math.random(1000, 2500) or math.random(1, 300)
        k = math.min(k, #events - i + 1)
        local us, ts, counted = {}, {}, 0
        for j = i, i + k - 1 do
          local e = events[j]
          local ok, r = one:login(e.user, e.t)
          local gok, gr = generic:login(e.user, e.t, "e" .. j)
          assert(ok == gok, string.format("login %d: single %s, generic %s", j, tostring(ok), tostring(gok)))
          if ok then
            counted = counted + 1
          else
            nref = nref + 1
            assert.equal(r.code, gr.code)
            assert.equal(r.limit, gr.limit)
          end
          us[#us + 1], ts[#ts + 1] = e.user, e.t
          months[core.month_of_day(day_of({ offset = offset }, e.t))] = true
        end
        assert.equal(counted, batched:logins(us, ts), "batch at login " .. i)
        if math.random() < 0.05 and one:last_day() then
          -- releasing closes days to every event: the same on each meter
          local before = core.format_date(core.parse_date(one:last_day()) - 40)
          one:release(before)
          batched:release(before)
          generic:release(before)
        end
        i = i + k
      end
      assert.is_true(nref > 0, "the stream reached the window's edge")
      local want = login_state(one, months)
      assert.same(want, login_state(batched, months))
      assert.same(want, login_state(generic, months))
      -- saved and reloaded: the same state, and the same answers from there on
      local pa, pb = os.tmpname(), os.tmpname()
      one:save(pa)
      batched:save(pb)
      local ra, rb = imbill.meter.load(pa, { book = BOOK }), imbill.meter.load(pb, { book = BOOK })
      os.remove(pa)
      os.remove(pb)
      assert.same(want, login_state(ra, months))
      assert.same(want, login_state(rb, months))
      local us, ts, counted = {}, {}, 0
      for j = 1, 500 do
        local e = events[math.random(#events)]
        us[j], ts[j] = e.user, e.t
        if ra:login(e.user, e.t) then counted = counted + 1 end
      end
      assert.equal(counted, rb:logins(us, ts))
      assert.same(login_state(ra, months), login_state(rb, months))
    end)
  end
end)
