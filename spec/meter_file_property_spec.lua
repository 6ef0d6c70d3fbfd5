-- Whatever a meter went through, its saved file loads, and the loaded meter
-- is the same meter: the loader's cross-checks (the days' chain of group
-- counts, DAU against the users' activity, MAU against the days, every bound)
-- hold for every state the meter can reach, and refuse only files no meter
-- wrote.  Random streams with late and out-of-order events, refusals,
-- duplicates, edition changes and released days; saved and reloaded along
-- the way, the two meters then give the same answers to the same events.
local H = require "helper"
local F = require "meter_file_format"
local imbill = H.imbill
local core = require "imbill.core"

local DAY = 86400

local BOOK = imbill.book{
  base = "2020", name = "tiny",
  editions = {
    trial = { limits = { accounts = 20, friends_per_user = 3, groups_per_user = 3, members_per_group = 4,
                         non_av_groups = 6, av_groups = 2, daily_net_groups = 4, bchatroom_daily = 2,
                         bchatroom_total = 2 } },
    pro = { limits = { accounts = 30, friends_per_user = 5, groups_per_user = 4, members_per_group = 6,
                       non_av_groups = 8, av_groups = 3, daily_net_groups = 6, bchatroom_daily = 2,
                       bchatroom_total = 3 } },
  },
}

local TYPES = { "Private", "Public", "ChatRoom", "AVChatRoom", "BChatRoom", "Community" }
local ACTIONS = { "create_account", "create_account", "delete_account", "login", "login", "login", "login",
                  "create_group", "create_group", "create_group", "disband_group", "disband_group", "join_group",
                  "join_group", "leave_group", "add_friend", "remove_friend" }

local function stream(seed, n)
  math.randomseed(seed)
  local t = core.parse_date("2021-01-25") * DAY
  local out, sent = {}, {}
  for i = 1, n do
    if math.random() < 0.01 then t = t + math.random(10, 50) * DAY else t = t + math.random(0, 8 * 3600) end
    local e
    if #sent > 0 and math.random() < 0.04 then
      e = sent[math.random(#sent)]
    else
      local a = ACTIONS[math.random(#ACTIONS)]
      e = { action = a, t = t, user = "u" .. math.random(25), peer = "u" .. math.random(25),
            group = "g" .. math.random(15), type = TYPES[math.random(#TYPES)] }
      local r = math.random()
      if r < 0.15 then e.t = t - math.random(0, 5 * DAY) -- late
      elseif r < 0.2 then e.t = t - math.random(50 * DAY, 70 * DAY) end -- near or past the login window
      if e.peer == e.user then e.peer = e.user .. "x" end
      -- one-way friendships save as such (format version 4)
      if (a == "add_friend" or a == "remove_friend") and math.random() < 0.4 then e.one_way = true end
      if math.random() < 0.3 then e.id = "e" .. i end
    end
    out[#out + 1] = e
    if e.id then sent[#sent + 1] = e end
  end
  return out
end

local function step(m, e)
  local a = e.action
  local ok, r
  if a == "create_group" then ok, r = m:create_group(e.group, e.type, e.t, e.id)
  elseif a == "disband_group" then ok, r = m:disband_group(e.group, e.t, e.id)
  elseif a == "join_group" or a == "leave_group" then ok, r = m[a](m, e.group, e.user, e.t, e.id)
  elseif a == "add_friend" or a == "remove_friend" then
    ok, r = m[a](m, e.user, e.peer, e.t, e.id, e.one_way and { one_way = true } or nil)
  else ok, r = m[a](m, e.user, e.t, e.id) end
  return ok and (r or "ok") or r.code
end

local function state(m, months)
  local s = { accounts = m:accounts(), last = m:last_day(), groups = { m:groups() }, users = {}, gs = {}, months = {} }
  for i = 1, 26 do
    local u = "u" .. i
    s.users[u] = { m:friends(u), m:joined(u), m:has_account(u) }
  end
  for i = 1, 15 do s.gs[i] = { m:members("g" .. i) } end
  for mo in pairs(months) do
    local name = core.format_month(mo)
    s.months[name] = m:usage(name)
  end
  s.segments = require("imbill.core").meter_impl.segments(m)
  return s
end

describe("a saved meter, whatever it went through", function()
  local path = F.tmp(".meter")
  after_each(function() os.remove(path) end)
  for seed = 1, 30 do
    it("loads as the same meter (seed " .. seed .. ")", function()
      local m = imbill.meter{ book = BOOK, edition = "trial", same_day_disbands = seed % 2 == 0,
                              tz = seed % 3 == 0 and "+00:00" or "+08:00" }
      local events = stream(seed, 1500)
      local months = {}
      local changed, released = false, nil
      for i, e in ipairs(events) do
        step(m, e)
        if e.t >= -62135596800 then
          local ok, d = pcall(core.day_of, e.t, core.meter_impl.offset(m))
          if ok then months[core.month_of_day(d)] = true end
        end
        if not changed and i == 400 then changed = m:change_edition("pro", e.t) end
        -- release what may be released, now and then
        if i % 300 == 0 and m:last_day() then
          local until_day = core.parse_date(m:last_day()) - 40
          local date = core.format_date(until_day)
          if not released or date > released then
            m:release(date)
            released = date
          end
        end
        if i % 500 == 0 or i == #events then
          assert.is_true(m:save(path))
          local m2 = imbill.meter.load(path, { book = BOOK })
          assert.same(state(m, months), state(m2, months))
          -- and from here on, the same answers
          for k = 1, 40 do
            local e2 = events[(i + k * 7) % #events + 1]
            local t2 = { action = e2.action, t = e2.t + 3 * DAY, user = e2.user, peer = e2.peer, group = e2.group,
                         type = e2.type, id = e2.id and (e2.id .. "+" .. i) }
            assert.equal(step(m, t2), step(m2, t2))
          end
          assert.same(state(m, months), state(m2, months))
          m = m2
        end
      end
    end)
  end
end)
