--- A meter with some of every kind of state: two editions, accounts,
-- friendships (one of them one-way), groups alive and disbanded with members, group activity on
-- several days, two months, event ids, released days.  The hostile-file
-- specs and the fuzzers' seed corpus (fuzz/make_corpus.lua) start from it.
local imbill = require "imbill"
local core = require "imbill.core"

local M = {}

M.DAY = 86400
M.T0 = core.parse_date("2021-03-01") * M.DAY + 4 * 3600

function M.new()
  local T0, DAY = M.T0, M.DAY
  local m = imbill.meter{ book = "2020", edition = "trial", tz = "+08:00" }
  for i = 1, 6 do m:create_account("u" .. i, T0, "acc" .. i) end
  m:add_friend("u1", "u2", T0)
  m:add_friend("u2", "u3", T0)
  m:add_friend("u4", "u1", T0, nil, { one_way = true })
  m:create_group("g1", "Public", T0)
  m:create_group("g2", "AVChatRoom", T0 + 60)
  m:create_group("g3", "BChatRoom", T0 + 120)
  m:join_group("g1", "u1", T0)
  m:join_group("g1", "u2", T0)
  m:disband_group("g2", T0 + DAY)
  m:create_group("g4", "Private", T0 + 2 * DAY)
  m:disband_group("g4", T0 + 2 * DAY + 60)
  for d = 0, 44 do
    for i = 1, 4 do
      if (i + d) % 3 ~= 0 then m:login("u" .. i, T0 + d * DAY, d == 40 and ("l" .. i) or nil) end
    end
  end
  assert(m:change_edition("pro", T0 + 35 * DAY))
  m:release("2021-03-05")
  return m
end

return M
