-- One sequence of mixed one-way and two-way friend adds and deletes, with
-- lists at their bound, run through a gateway and an in-process meter side
-- by side: each add's answer (0, 30010 or 30014, naming whose list is full)
-- and, after each step, every list's size must be the meter's.  Shared by
-- the dict store's equality spec and the Redis store's.
--
-- g = { rest = function(call, body) -> answer JSON, size = function(user) ->
-- the store's size of user's list (0 when none), settled = function() waits
-- for Tencent's answers to be applied }.
local imbill = require "imbill"
local assert = require "luassert"

local M = {}

local POOL = { "hub1", "hub2", "p1", "p2", "p3", "p4", "p5" }

function M.run(g, seed)
  local m = imbill.meter { book = "2020", edition = "trial" } -- 20 friends a list
  local now = os.time
  local function same_lists(what)
    g.settled()
    local want, got = {}, {}
    for _, u in ipairs(POOL) do want[u] = m:friends(u) end
    local stop = now() + 5
    repeat
      local equal = true
      for _, u in ipairs(POOL) do
        got[u] = g.size(u)
        if got[u] ~= want[u] then equal = false end
      end
      if equal then return end
      require("socket").sleep(0.05)
    until now() > stop
    assert.are.same(want, got, what)
  end
  for _, u in ipairs(POOL) do
    local v = g.rest("im_open_login_svc/account_import", { UserID = u })
    assert.are.equal("OK", v.ActionStatus)
    assert.is_true(m:create_account(u, now()))
  end
  -- hub1 and hub2 list 19 fans one way: the sequence meets both 30010 (the
  -- adder's full list) and 30014 (the peer's) on either side of a two-way add
  for _, hub in ipairs { "hub1", "hub2" } do
    local items = {}
    for i = 1, 19 do items[i] = { To_Account = hub .. "-fan" .. i } end
    local v = g.rest("sns/friend_import", { From_Account = hub, AddFriendItem = items })
    assert.are.equal("OK", v.ActionStatus)
    for i = 1, 19 do assert.is_true(m:add_friend(hub, hub .. "-fan" .. i, now(), nil, { one_way = true })) end
  end
  same_lists("the hubs' lists filled")
  math.randomseed(seed)
  local seen = {}
  for step = 1, 120 do
    local a = POOL[math.random(#POOL)]
    local b = POOL[math.random(#POOL)]
    while b == a do b = POOL[math.random(#POOL)] end
    local op = math.random(5)
    local what = string.format("step %d: %d %s %s", step, op, a, b)
    if op <= 3 then
      -- friend_add two-way (by default or by name), one-way, or friend_import
      local one_way = op == 2 and math.random(2) == 1
      local body = { From_Account = a, AddFriendItem = { { To_Account = b } } }
      local call = "sns/friend_add"
      if one_way then
        if math.random(2) == 1 then body.AddType = "Add_Type_Single" else call = "sns/friend_import" end
      elseif op == 3 then
        body.AddType = "Add_Type_Both"
      end
      local v = g.rest(call, body)
      local ok, r = m:add_friend(a, b, now(), nil, one_way and { one_way = true } or nil)
      local want = ok and 0 or r.code
      -- every item refused: the call is answered OK, ErrorCode 0, as Tencent
      -- answers one whose items all failed; the item carries the code
      assert.are.same({ "OK", 0 }, { v.ActionStatus, v.ErrorCode }, what)
      local item = v.ResultItem[1]
      assert.are.equal(want, item.ResultCode, what .. ": " .. tostring(item.ResultInfo))
      -- the refusal names whose list is full, the adder's or the peer's
      if want ~= 0 then assert.truthy(item.ResultInfo:find("user " .. r.user .. " has", 1, true), what) end
      seen[want] = true
    elseif op == 4 then
      local one_way = math.random(2) == 1
      g.rest("sns/friend_delete", { From_Account = a, To_Account = { b },
                                    DeleteType = one_way and "Delete_Type_Single" or nil })
      m:remove_friend(a, b, now(), nil, one_way and { one_way = true } or nil)
    else
      -- a hub's own list topped up again with a fan it lists one way
      local hub = math.random(2) == 1 and "hub1" or "hub2"
      local fan = hub .. "-fan" .. math.random(1, 19)
      g.rest("sns/friend_import", { From_Account = hub, AddFriendItem = { { To_Account = fan } } })
      m:add_friend(hub, fan, now(), nil, { one_way = true })
    end
    same_lists(what)
  end
  assert.is_true(seen[0] and seen[30010] and seen[30014], "the sequence met both refusals")
  -- accounts deleted with one-way and two-way friends: the own list goes,
  -- and the user leaves the lists of those it was a two-way friend of
  for _, u in ipairs { "p1", "hub1" } do
    g.rest("im_open_login_svc/account_delete", { DeleteItem = { { UserID = u } } })
    assert.is_true(m:delete_account(u, now()))
    same_lists("after deleting " .. u)
  end
  return m
end

return M
