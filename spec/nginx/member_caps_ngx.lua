-- A group's member cap depends on its type, and every path that adds
-- members holds it for that type: REST create_group and import_group with
-- a MemberList (10038), add_group_member (10014), and the before-create,
-- before-invite and before-apply callbacks.  On the 2020 flagship edition a
-- Private (Work) group takes 200 members, a Public or ChatRoom (Meeting)
-- group 2,000, an AVChatRoom group any number.  The refusal names the type
-- whose cap it is.
local h = require "ngx_helper"

local FLAGSHIP, TOKEN, TRIAL = "1400000019", "spec-token-flagship", "1400000002"

local function cb(cmd, body)
  body.CallbackCommand = cmd
  return h.callback(FLAGSHIP, cmd, TOKEN, body)
end

local function members(n, prefix)
  local t = {}
  for i = 1, n do t[i] = { Member_Account = (prefix or "m") .. i } end
  return t
end

describe("a group's member cap, per group type, on every path that adds members", function()
  before_each(h.flush)

  for _, case in ipairs {
    { "Private", true }, { "Work", true }, { "Public", false }, { "ChatRoom", false }, { "Meeting", false },
    { "AVChatRoom", false },
  } do
    local gtype, capped = case[1], case[2]
    it(gtype .. " on flagship 2020: " .. (capped and "200 members, the 201st refused" or "201 members and more"),
      function()
        for _, call in ipairs { "create_group", "import_group" } do
          -- the owner and 200 members: 201
          local _, over = h.rest("group_open_http_svc/" .. call, FLAGSHIP, { Type = gtype, GroupId = call .. "-201",
            Owner_Account = "o", MemberList = members(200) })
          local _, at = h.rest("group_open_http_svc/" .. call, FLAGSHIP, { Type = gtype, GroupId = call .. "-200",
            Owner_Account = "o", MemberList = members(199) })
          assert.are.equal("OK", at.ActionStatus, call .. ": " .. tostring(at.ErrorInfo))
          if capped then
            assert.are.same({ "FAIL", 10038 }, { over.ActionStatus, over.ErrorCode }, call)
            assert.truthy(over.ErrorInfo:find("at most 200 members in a Private group", 1, true), over.ErrorInfo)
          else
            assert.are.equal("OK", over.ActionStatus, call .. ": " .. tostring(over.ErrorInfo))
          end
        end
        h.settled()
        -- two more into the group of 200
        local _, add = h.rest("group_open_http_svc/add_group_member", FLAGSHIP, { GroupId = "create_group-200",
          MemberList = members(2, "x") })
        if capped then
          assert.are.same({ "FAIL", 10014 }, { add.ActionStatus, add.ErrorCode })
          assert.are.same({ { Member_Account = "x1", Result = 0 }, { Member_Account = "x2", Result = 0 } },
            add.MemberList)
        else
          assert.are.equal("OK", add.ActionStatus, tostring(add.ErrorInfo))
          assert.are.same({ { Member_Account = "x1", Result = 1 }, { Member_Account = "x2", Result = 1 } },
            add.MemberList)
        end
        -- the callbacks: a group of 200 an SDK made
        cb("Group.CallbackAfterCreateGroup", { GroupId = "sdk", Type = gtype, Owner_Account = "o",
          MemberList = members(199) })
        local _, invite = cb("Group.CallbackBeforeInviteJoinGroup", { GroupId = "sdk", Type = gtype,
          Operator_Account = "o", DestinationMembers = members(2, "y") })
        local _, apply = cb("Group.CallbackBeforeApplyJoinGroup", { GroupId = "sdk", Type = gtype,
          Requestor_Account = "z" })
        local _, create = cb("Group.CallbackBeforeCreateGroup", { Type = gtype, Owner_Account = "o", Name = "n",
          MemberList = members(200) })
        if capped then
          assert.are.same({ "y1", "y2" }, invite.RefusedMembers_Account)
          assert.are.equal(1, apply.ErrorCode)
          assert.are.equal(10104, create.ErrorCode)
          for _, v in ipairs { invite, apply, create } do
            assert.truthy(v.ErrorInfo:find("at most 200 members in a Private group", 1, true), v.ErrorInfo)
          end
          assert.truthy(create.ErrorInfo:find("Tencent's code 10038", 1, true), create.ErrorInfo)
          assert.truthy(invite.ErrorInfo:find("group sdk has 200 (Tencent's code 10014)", 1, true), invite.ErrorInfo)
        else
          assert.are.same({ 0, 0, 0 }, { invite.ErrorCode, apply.ErrorCode, create.ErrorCode })
          assert.is_nil(invite.RefusedMembers_Account)
        end
      end)
  end

  -- a join's plan carries no group type (it reads as 0, Private): the type
  -- of a group refused at its creation was said to be Private whatever it was
  it("names the type of a group refused at its creation for too many members, not Private for every type", function()
    for _, gtype in ipairs { "Public", "ChatRoom", "Private" } do
      for _, gid in ipairs { "named", false } do
        local _, v = h.rest("group_open_http_svc/create_group", TRIAL, { Type = gtype, GroupId = gid or nil,
          Owner_Account = "o", MemberList = members(20) })
        assert.are.equal(10038, v.ErrorCode)
        assert.are.equal("imbill: members_per_group limit: the trial edition (price book 2020) allows at most 20 members"
          .. " in a " .. gtype .. " group, and group " .. (gid or "(new)") .. " has 20 (Tencent's code 10038)",
          v.ErrorInfo)
      end
    end
  end)
end)
