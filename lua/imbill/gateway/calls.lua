--- Tencent's REST calls that change a count: how to read each one's body
-- into actions, how Tencent answers it, and how to add the gateway's own
-- refusals to that answer.
--
-- A call is read into units: what Tencent answers for as one (a whole
-- create_group, one account of a multiaccount_import, one member of an
-- add_group_member, one friend of a friend_add).  A unit is a list of
-- actions applied all or nothing.  Tencent's payloads disagree with each
-- other: Identifier or UserID, Accounts (strings) or AccountList (objects),
-- per-item results under a top-level ErrorCode 0.  Each reader accepts every
-- form the API documents.
local core = require "imbill.gateway.core"
local json = require "imbill.gateway.json"

local A, G, L = core.A, core.G, core.L
local type, ipairs = type, ipairs

local M = {}

local function id(v)
  if type(v) == "string" and v ~= "" and #v <= core.ID_MAX then return v end
  return nil
end
M.id = id

-- A GroupId as the store knows it.  Tencent lets a custom GroupId (one an app
-- or an SDK user picks) start with "~", where the gateway keeps its stand-ins
-- for groups whose id is not known yet ("~cb:...", "~rest:..."): such an id is
-- stored with one more "~", so no id a client picks can name a stand-in.
local TILDE = 126
local function gid(v)
  local g = id(v)
  if g and g:byte(1) == TILDE then
    if #g >= core.ID_MAX then return nil end -- no room for the mark
    return "~" .. g
  end
  return g
end
M.gid = gid

--- The group of a store id as a message shows it: the id Tencent knows, or
-- "(new)" for a stand-in.
function M.group_shown(g)
  if g == nil or g:byte(1) ~= TILDE then return g end
  if g:byte(2) == TILDE then return g:sub(2) end
  return "(new)"
end

M.GTYPES = { Private = G.IMB_G_PRIVATE, Work = G.IMB_G_PRIVATE, Public = G.IMB_G_PUBLIC,
             ChatRoom = G.IMB_G_CHATROOM, Meeting = G.IMB_G_CHATROOM, AVChatRoom = G.IMB_G_AVCHATROOM,
             BChatRoom = G.IMB_G_BCHATROOM, Community = G.IMB_G_COMMUNITY }

--- A group type as part of a match key: Tencent's two names of one type
-- (Private and Work, ChatRoom and Meeting) are one type, so an after-create
-- callback naming it the other way than the call or the approval did still
-- finds its reservation (it counted the group twice until the reservation
-- expired).  Text that is no type stays itself.
function M.type_key(t) return M.GTYPES[t] or t end

local function list(v)
  if type(v) == "table" and (v[1] ~= nil or next(v) == nil) then return v end
  return nil
end

---------------------------------------------------------------------------
-- Unreadable calls.  A call that adds accounts, groups, members or friends
-- and carries a value the gateway cannot read where it reads one (an id that
-- is no string, a group type Tencent does not name, a list that is no list)
-- is refused rather than passed uncounted: a Tencent that read it more
-- leniently ("avchatroom" as a type, 12 as the id "12") would do what no
-- count saw.  Each returns the field and why, or nothing.

local function show(v)
  if type(v) == "table" then return v[1] ~= nil and "an array" or next(v) == nil and "an empty array or object" or "an object" end
  -- 1e999 reads as infinity, which JSON cannot write (it would show as null)
  if type(v) == "number" and (v ~= v or v == math.huge or v == -math.huge) then
    return "a number past what a double holds"
  end
  local s = json.encode(v)
  if #s > 40 then s = s:sub(1, 40) .. "..." end
  return s
end

-- JSON null is an absent value: clients that write every field of a record
-- write null for an optional one
local NULL = json.null
local function given(v) return v ~= nil and v ~= NULL end

local function id_why(v)
  if id(v) then return nil end
  if not given(v) then return "missing" end
  if type(v) ~= "string" then return "expected a string id, got " .. show(v) end
  if v == "" then return "expected an id, got an empty string" end
  return "expected an id of at most " .. core.ID_MAX .. " bytes, got " .. #v
end

local function need_id(v, name)
  local why = id_why(v)
  if why then return name, why end
end

local function may_id(v, name)
  if given(v) then return need_id(v, name) end
end

local function need_gid(v, name)
  local f, why = need_id(v, name)
  if f then return f, why end
  if not gid(v) then return name, "expected an id of at most " .. (core.ID_MAX - 1) .. " bytes when it starts with ~" end
end

local function may_gid(v, name)
  if given(v) then return need_gid(v, name) end
end

-- each(e) -> the field inside the element (or "") and why
local function need_list(v, name, each)
  if not given(v) then return name, "missing" end
  if not list(v) then return name, "expected an array, got " .. show(v) end
  for i, e in ipairs(v) do
    local inner, why = each(e)
    if why then return name .. "[" .. i .. "]" .. inner, why end
  end
end

local function may_list(v, name, each)
  if given(v) then return need_list(v, name, each) end
end

-- "" and why, when a list's element e is not the object naming `what` it should be
local function not_object(e, what)
  if type(e) ~= "table" or e[1] ~= nil then return "", "expected an object with " .. what .. ", got " .. show(e) end
end

-- each() for a list of objects that name their id in `field`
local function object_with(field)
  return function(e)
    local at, bad = not_object(e, field)
    if bad then return at, bad end
    local why = id_why(e[field])
    if why then return "." .. field, why end
  end
end
local member, friend = object_with("Member_Account"), object_with("To_Account")

local function bare_id(e)
  local why = id_why(e)
  if why then return "", why end
end

-- An account named by either of two fields (UserID, the older Identifier):
-- one of them, or both naming the same id.  at: the prefix of the field's name.
local function one_of(t, a, b, at)
  if not given(t[a]) and not given(t[b]) then return at .. a, "missing" end
  local f, why = may_id(t[a], at .. a)
  if not f then f, why = may_id(t[b], at .. b) end
  if f then return f, why end
  if given(t[a]) and given(t[b]) and t[a] ~= t[b] then
    return at .. b, "names " .. show(t[b]) .. " where " .. a .. " names " .. show(t[a])
  end
end

local function group_malformed(b)
  if not given(b.Type) then return "Type", "missing" end
  if not M.GTYPES[b.Type] then return "Type", show(b.Type) .. " is not a group type Tencent names" end
  local f, why = may_gid(b.GroupId, "GroupId")
  if not f then f, why = may_id(b.Owner_Account, "Owner_Account") end
  if not f then f, why = may_list(b.MemberList, "MemberList", member) end
  return f, why
end

-- Tencent keeps a friend list per user: AddType and DeleteType say whether
-- the other user's list changes too (Both, the default) or not (Single).
local ADD_TYPES = { Add_Type_Both = A.IMB_A_ADD_FRIEND, Add_Type_Single = A.IMB_A_ADD_FRIEND_ONE_WAY }
local DELETE_TYPES = { Delete_Type_Both = A.IMB_A_REMOVE_FRIEND, Delete_Type_Single = A.IMB_A_REMOVE_FRIEND_ONE_WAY }

local function type_malformed(v, name, known)
  if given(v) and not known[v] then
    local names = {}
    for k in pairs(known) do names[#names + 1] = k end
    table.sort(names)
    return name, show(v) .. " is not a " .. name .. " Tencent names (" .. table.concat(names, ", ") .. ")"
  end
end

-- The kind of add an AddType names (absent: Tencent's default, two-way), or
-- nil and why for a type Tencent does not name.  sns/friend_add and
-- Sns.CallbackPrevFriendAdd read the field through this one reader.
local function add_kind(b)
  local f, why = type_malformed(b.AddType, "AddType", ADD_TYPES)
  if f then return nil, why end
  return given(b.AddType) and ADD_TYPES[b.AddType] or A.IMB_A_ADD_FRIEND
end
M.add_kind = add_kind

local function friends_malformed(b)
  local f, why = need_id(b.From_Account, "From_Account")
  if f then return f, why end
  return need_list(b.AddFriendItem, "AddFriendItem", friend)
end

-- One action: { kind, subjects, gtype }.
local function act(kind, subj, gtype) return { kind = kind, subj = subj, gtype = gtype } end

-- The actions of a new group: the group, then its owner and members joining.
-- `group` may be nil (Tencent picks the id): the caller names it.
local function group_units(b, group)
  local gtype = M.GTYPES[b.Type]
  if not gtype then return nil end
  local acts = { act(A.IMB_A_CREATE_GROUP, { group = group }, gtype) }
  local seen = {}
  local owner = id(b.Owner_Account)
  if owner then
    seen[owner] = true
    acts[#acts + 1] = act(A.IMB_A_JOIN, { group = group, user = owner })
  end
  for _, m in ipairs(list(b.MemberList) or {}) do
    local u = type(m) == "table" and id(m.Member_Account)
    if u and not seen[u] then
      seen[u] = true
      acts[#acts + 1] = act(A.IMB_A_JOIN, { group = group, user = u })
    end
  end
  return { { key = group, acts = acts } }
end

local function ok_status(resp) return resp.ActionStatus == "OK" end

-- Settlement helpers: which units Tencent did.  Each returns M.ALL, M.NONE,
-- { except = set of unit keys } or { only = set of unit keys }; M.done()
-- reads the answer.
local ALL, NONE = { all = true }, { none = true }
M.ALL, M.NONE = ALL, NONE

function M.done(settled, key)
  if settled == ALL then return true end
  if settled == NONE then return false end
  if settled.except then return not settled.except[key] end
  return settled.only[key] == true
end

local function all_if_ok(resp) return ok_status(resp) and ALL or NONE end
M.ALL_IF_OK = all_if_ok

local function except_listed(field)
  return function(resp)
    if not ok_status(resp) then return NONE end
    local failed = {}
    for _, v in ipairs(list(resp[field]) or {}) do
      if type(v) == "string" then failed[v] = true end
    end
    return { except = failed }
  end
end

-- Per-item results: key field, result field, and which results mean done.
local function results(field, keyf, codef, done)
  return function(resp)
    if not ok_status(resp) then return NONE end
    local items = list(resp[field])
    if not items then return ALL end
    local okset = {}
    for _, it in ipairs(items) do
      if type(it) == "table" and type(it[keyf]) == "string" and done[it[codef]] then okset[it[keyf]] = true end
    end
    return { only = okset }
  end
end

-- add_group_member and import_group_member: one join per listed member,
-- answered and settled alike.
local member_add = {
  code_base = "group",
  malformed = function(b)
    local f, why = need_gid(b.GroupId, "GroupId")
    if f then return f, why end
    return need_list(b.MemberList, "MemberList", member)
  end,
  items = function(b) return list(b.MemberList) and "MemberList" or nil end,
  units = function(b)
    local g = gid(b.GroupId)
    if not g then return nil end
    local out = {}
    for i, e in ipairs(list(b.MemberList) or {}) do
      local u = type(e) == "table" and id(e.Member_Account)
      if u then out[#out + 1] = { key = u, index = i, acts = { act(A.IMB_A_JOIN, { group = g, user = u }) } } end
    end
    return out
  end,
  -- Result 0: not added
  refused_items = function(refused)
    local items = {}
    for i, r in ipairs(refused) do items[i] = json.encode { Member_Account = r.key, Result = 0 } end
    return { MemberList = items }
  end,
  all_refused = function(refused)
    local items = {}
    for i, r in ipairs(refused) do items[i] = { Member_Account = r.key, Result = 0 } end
    return { MemberList = items }
  end,
  -- 1 added, 2 already a member; 0 failed, 3 invited (not a member yet)
  settle = results("MemberList", "Member_Account", "Result", { [1] = true, [2] = true }),
}

M.CALLS = {
  ["im_open_login_svc/account_import"] = {
    code_base = "account",
    malformed = function(b)
      return one_of(b, "UserID", "Identifier", "")
    end,
    units = function(b)
      local u = id(b.UserID) or id(b.Identifier)
      if not u then return nil end
      return { { key = u, acts = { act(A.IMB_A_CREATE_ACCOUNT, { user = u }) } } }
    end,
    settle = all_if_ok,
  },

  ["im_open_login_svc/multiaccount_import"] = {
    code_base = "account",
    items = function(b)
      if list(b.AccountList) then return "AccountList" end
      if list(b.Accounts) then return "Accounts" end
      return nil
    end,
    malformed = function(b)
      if not given(b.AccountList) and not given(b.Accounts) then return "Accounts", "missing" end
      if given(b.AccountList) and given(b.Accounts) then
        return "AccountList", "given with Accounts; Tencent could import either list"
      end
      local f, why = may_list(b.Accounts, "Accounts", bare_id)
      if not f then
        f, why = may_list(b.AccountList, "AccountList", function(e)
          local at, bad = not_object(e, "UserID")
          if bad then return at, bad end
          return one_of(e, "UserID", "Identifier", ".")
        end)
      end
      return f, why
    end,
    units = function(b)
      local field = given(b.AccountList) and "AccountList" or "Accounts"
      local out = {}
      for i, e in ipairs(list(b[field]) or {}) do
        local u = type(e) == "table" and (id(e.UserID) or id(e.Identifier)) or id(e)
        if u then out[#out + 1] = { key = u, index = i, acts = { act(A.IMB_A_CREATE_ACCOUNT, { user = u }) } } end
      end
      return out
    end,
    -- Tencent lists the accounts it could not import
    refused_items = function(refused)
      local ids = {}
      for i, r in ipairs(refused) do ids[i] = json.encode(r.key) end
      return { FailAccounts = ids }
    end,
    all_refused = function(refused)
      local ids = {}
      for i, r in ipairs(refused) do ids[i] = r.key end
      return { FailAccounts = json.array(ids) }
    end,
    settle = except_listed("FailAccounts"),
  },

  ["im_open_login_svc/account_delete"] = {
    code_base = "account", shrink = true,
    units = function(b)
      local out = {}
      for _, e in ipairs(list(b.DeleteItem) or {}) do
        local u = type(e) == "table" and (id(e.UserID) or id(e.Identifier))
        if u then out[#out + 1] = { key = u, acts = { act(A.IMB_A_DELETE_ACCOUNT, { user = u }) } } end
      end
      return out
    end,
    settle = results("ResultItem", "UserID", "ResultCode", { [0] = true }),
  },

  ["group_open_http_svc/create_group"] = {
    code_base = "group", creates_group = true,
    -- Tencent's code for members over the limit in the request itself
    codes = { [L.IMB_L_MEMBERS_PER_GROUP] = 10038 },
    malformed = group_malformed,
    units = function(b) return group_units(b, gid(b.GroupId)) end,
    settle = all_if_ok,
  },

  ["group_open_http_svc/import_group"] = {
    code_base = "group", creates_group = true,
    codes = { [L.IMB_L_MEMBERS_PER_GROUP] = 10038 },
    malformed = group_malformed,
    units = function(b) return group_units(b, gid(b.GroupId)) end,
    settle = all_if_ok,
  },

  ["group_open_http_svc/destroy_group"] = {
    code_base = "group", shrink = true,
    units = function(b)
      local g = gid(b.GroupId)
      if not g then return nil end
      return { { key = g, acts = { act(A.IMB_A_DISBAND_GROUP, { group = g }) } } }
    end,
    settle = all_if_ok,
  },

  ["group_open_http_svc/add_group_member"] = member_add,
  ["group_open_http_svc/import_group_member"] = member_add,

  ["group_open_http_svc/delete_group_member"] = {
    code_base = "group", shrink = true,
    units = function(b)
      local g = gid(b.GroupId)
      if not g then return nil end
      local out = {}
      for _, e in ipairs(list(b.MemberToDel_Account) or {}) do
        local u = id(e)
        if u then out[#out + 1] = { key = u, acts = { act(A.IMB_A_LEAVE, { group = g, user = u }) } } end
      end
      return out
    end,
    settle = all_if_ok,
  },
}

-- Friends: both calls take From_Account and AddFriendItem; Tencent answers
-- per item in ResultItem (and lists the failed ones in Fail_Account).
-- friend_add is two-way unless AddType says Add_Type_Single; friend_import
-- only ever fills From_Account's own list.
local function friend_units(kind_of)
  return function(b)
    local from = id(b.From_Account)
    if not from then return nil end
    local kind = kind_of(b)
    local out = {}
    for i, e in ipairs(list(b.AddFriendItem) or {}) do
      local to = type(e) == "table" and id(e.To_Account)
      if to and to ~= from then
        out[#out + 1] = { key = to, index = i, acts = { act(kind, { user = from, peer = to }) } }
      end
    end
    return out
  end
end

local function friend_call(malformed, kind_of)
  return {
    code_base = "sns",
    malformed = malformed,
    items = function(b) return list(b.AddFriendItem) and "AddFriendItem" or nil end,
    -- Tencent answers a friend call whose items all fail OK, ErrorCode 0,
    -- each item's code in ResultItem: only a call it cannot take at all
    -- (30001, a bad parameter) is FAIL
    all_refused_ok = true,
    units = friend_units(kind_of),
    refused_items = function(refused, info)
      local items, ids = {}, {}
      for i, r in ipairs(refused) do
        items[i] = json.encode { To_Account = r.key, ResultCode = r.code, ResultInfo = info(r) }
        ids[i] = json.encode(r.key)
      end
      return { ResultItem = items, Fail_Account = ids }
    end,
    all_refused = function(refused, info)
      local items, ids = {}, {}
      for i, r in ipairs(refused) do
        items[i] = { To_Account = r.key, ResultCode = r.code, ResultInfo = info(r) }
        ids[i] = r.key
      end
      return { ResultItem = items, Fail_Account = ids, ErrorDisplay = "" }
    end,
    settle = results("ResultItem", "To_Account", "ResultCode", { [0] = true }),
  }
end

M.CALLS["sns/friend_add"] = friend_call(function(b)
  local f, why = friends_malformed(b)
  if f then return f, why end
  return type_malformed(b.AddType, "AddType", ADD_TYPES)
end, add_kind)
M.CALLS["sns/friend_import"] = friend_call(friends_malformed, function() return A.IMB_A_ADD_FRIEND_ONE_WAY end)

M.CALLS["sns/friend_delete"] = {
  code_base = "sns", shrink = true,
  malformed = function(b) return type_malformed(b.DeleteType, "DeleteType", DELETE_TYPES) end,
  units = function(b)
    local from = id(b.From_Account)
    if not from then return nil end
    local kind = given(b.DeleteType) and DELETE_TYPES[b.DeleteType] or A.IMB_A_REMOVE_FRIEND
    local out = {}
    for _, e in ipairs(list(b.To_Account) or {}) do
      local to = id(e)
      if to then out[#out + 1] = { key = to, acts = { act(kind, { user = from, peer = to }) } } end
    end
    return out
  end,
  -- 31704: not a friend, which changes nothing either way
  settle = results("ResultItem", "To_Account", "ResultCode", { [0] = true, [31704] = true }),
}

-- friend_delete_all empties From_Account's own list, and the others' lists
-- of From_Account only when DeleteType says Delete_Type_Both.
M.CALLS["sns/friend_delete_all"] = {
  code_base = "sns", shrink = true,
  malformed = function(b) return type_malformed(b.DeleteType, "DeleteType", DELETE_TYPES) end,
  units = function(b)
    local from = id(b.From_Account)
    if not from then return nil end
    return { { key = from, all_friends = from, both = b.DeleteType == "Delete_Type_Both", acts = {} } }
  end,
  settle = all_if_ok,
}

-- Tencent's codes for a gateway that cannot decide (its store failed): each
-- service's "internal error, try again".
M.STORE_ERROR_CODE = { account = 70500, group = 10002, sns = 30006 }
-- ... and for a parameter that is not what Tencent documents.
M.INVALID_CODE = { account = 70402, group = 10004, sns = 30001 }

return M
