-- luacheck: std ngx_lua
--- A STUB standing in for Tencent's REST API, for the example and the specs.
-- It is not Tencent: it answers every call OK in the shape Tencent's
-- documentation gives, keeps no data, and fails on request:
--   - header X-Stub-Fail: <code>    the whole call answers ActionStatus FAIL with that ErrorCode
--   - header X-Stub-Status: <n>     answers HTTP n with a plain body (a network error)
--   - header X-Stub-Body: <text>    answers HTTP 200 with that body (an answer not Tencent's)
--   - header X-Stub-Delay: <s>      answers (whichever way) after s seconds
--   - header X-Stub-Pad: <n>        an OK answer carries a field "Pad" of n bytes (at most 64 MiB)
--   - an item whose id starts with "fail-" fails on its own (FailAccounts,
--     Result 0, ResultCode 30001); "invite-" members are only invited
--     (Result 3); "pending-" friends wait for approval (ResultCode 30539)
-- With a lua_shared_dict named "stub" it also remembers the last request of
-- each command (GET /stub/last?cmd=NAME returns it) and counts calls.
local cjson = require "cjson.safe"
local json = require "imbill.gateway.json" -- writes [] for an empty list, Tencent's keys first

local ngx = ngx
local M = {}

local function starts(s, p) return type(s) == "string" and s:sub(1, #p) == p end

local function list(v) return type(v) == "table" and v or {} end

local next_group = 0
local function group_id()
  local d = ngx.shared.stub
  if d then
    next_group = d:incr("groups", 1, 0)
  else
    next_group = next_group + 1
  end
  return "@TGS#stub" .. next_group
end

local ANSWERS = {}

ANSWERS.multiaccount_import = function(b, r)
  local failed = {}
  for _, e in ipairs(list(b.AccountList or b.Accounts)) do
    local u = type(e) == "table" and (e.UserID or e.Identifier) or e
    if starts(u, "fail-") then failed[#failed + 1] = u end
  end
  r.FailAccounts = json.array(failed)
end

ANSWERS.account_delete = function(b, r)
  local items = {}
  for _, e in ipairs(list(b.DeleteItem)) do
    local u = type(e) == "table" and e.UserID
    items[#items + 1] = { UserID = u, ResultCode = starts(u, "fail-") and 70107 or 0, ResultInfo = "" }
  end
  r.ResultItem = items
end

ANSWERS.create_group = function(b, r) r.GroupId = b.GroupId or group_id() end
ANSWERS.import_group = ANSWERS.create_group

local function member_results(b, r)
  local items = {}
  for _, e in ipairs(list(b.MemberList)) do
    local u = type(e) == "table" and e.Member_Account
    local res = 1
    if starts(u, "fail-") then res = 0 elseif starts(u, "invite-") then res = 3 end
    items[#items + 1] = { Member_Account = u, Result = res }
  end
  r.MemberList = items
end
ANSWERS.add_group_member = member_results
ANSWERS.import_group_member = member_results

local function friend_results(b, r)
  local items, failed = {}, {}
  for _, e in ipairs(list(b.AddFriendItem)) do
    local to = type(e) == "table" and e.To_Account
    local code = 0
    if starts(to, "fail-") then code = 30001 elseif starts(to, "pending-") then code = 30539 end
    items[#items + 1] = { To_Account = to, ResultCode = code, ResultInfo = "" }
    if code ~= 0 then failed[#failed + 1] = to end
  end
  r.ResultItem = items
  r.Fail_Account = json.array(failed)
  r.ErrorDisplay = ""
end
ANSWERS.friend_add = friend_results
ANSWERS.friend_import = friend_results

ANSWERS.friend_delete = function(b, r)
  local items = {}
  for _, to in ipairs(list(b.To_Account)) do
    items[#items + 1] = { To_Account = to, ResultCode = starts(to, "fail-") and 30001 or 0, ResultInfo = "" }
  end
  r.ResultItem = items
  r.ErrorDisplay = ""
end

local encode = json.encode

function M.handle()
  local uri = ngx.var.uri
  local d = ngx.shared.stub
  if uri == "/stub/last" then
    ngx.header.content_type = "application/json"
    ngx.print(d and d:get("last:" .. (ngx.var.arg_cmd or "")) or "null")
    return
  end
  if uri == "/stub/count" then
    ngx.print(d and (d:get("count:" .. (ngx.var.arg_cmd or "")) or 0) or 0)
    return
  end
  ngx.req.read_body()
  local body = ngx.req.get_body_data() or ""
  local cmd = uri:match("/([%w_]+)/*$") or ""
  if d then
    d:incr("count:" .. cmd, 1, 0)
    d:set("last:" .. cmd, cjson.encode { body = body, args = ngx.var.args or "", headers = ngx.req.get_headers(100),
                                          method = ngx.req.get_method(), uri = uri })
  end
  local delay = tonumber(ngx.var.http_x_stub_delay)
  if delay then ngx.sleep(delay) end
  local status = tonumber(ngx.var.http_x_stub_status)
  if status then
    ngx.status = status
    ngx.say("stub: HTTP ", status)
    return ngx.exit(status)
  end
  local raw = ngx.var.http_x_stub_body
  if raw then
    ngx.header.content_type = "application/json"
    ngx.print(raw)
    return
  end
  ngx.header.content_type = "application/json"
  local fail = tonumber(ngx.var.http_x_stub_fail)
  if fail then
    ngx.print(encode { ActionStatus = "FAIL", ErrorCode = fail, ErrorInfo = "stub: failed as asked" })
    return
  end
  local b = cjson.decode(body)
  if type(b) ~= "table" then
    ngx.print(encode { ActionStatus = "FAIL", ErrorCode = 60003, ErrorInfo = "stub: body is not JSON" })
    return
  end
  local r = { ActionStatus = "OK", ErrorCode = 0, ErrorInfo = "" }
  local f = ANSWERS[cmd]
  if f then f(b, r) end
  local pad = tonumber(ngx.var.http_x_stub_pad)
  if pad and pad >= 0 and pad <= 67108864 then r.Pad = string.rep("x", math.floor(pad)) end
  ngx.print(encode(r))
end

return M
