--- Answers in Tencent's shapes, and the ErrorInfo sentences that name the
-- limit a refusal is about.
local json = require "imbill.gateway.json"
local core = require "imbill.gateway.core"
local keys = require "imbill.gateway.keys"
local calls = require "imbill.gateway.calls"

local ngx = ngx
local M = {}

local L, K, A = core.L, core.K, core.A

--- Who a refused unit's ErrorInfo names: { user =, peer =, group =, gtype = }.
-- For a group over its member cap, the group's type, which the cap depends
-- on: as the store answered it (Redis), else as the store keeps the group,
-- else (a group created in the same unit, not kept since the unit was
-- refused) as the unit's create names it.  A join's plan carries no type
-- (it reads as 0, Private), so a Public group created with too many members
-- was said to be a Private one.
function M.who(store, app, u)
  local s = u.refused_step
  if not s then return {} end
  local w = { user = s.user, peer = s.peer, group = calls.group_shown(s.group) }
  local r = u.refusal
  if r and r.limit == L.IMB_L_MEMBERS_PER_GROUP and s.group then
    local g = r.gtype
    if g == nil then
      local t = keys.group_fields(store:get(keys.key(keys.prefix(app.id), K.IMB_K_GROUP, s.group)))
      if t > 0 then g = t - 1 end
    end
    if g == nil then
      for _, a in ipairs(u.acts or {}) do
        if a.kind == A.IMB_A_CREATE_GROUP and a.subj and a.subj.group == s.group then g = a.gtype end
      end
    end
    w.gtype = g and core.names.gtype[g] or nil
  end
  return w
end

--- A refusal as a sentence: the limit, its value, what the app has, and
-- Tencent's code.  r = { code, limit, max, current, peer, feature };
-- who = { user =, peer =, group =, gtype = } for the per-user limits.
function M.info(app, r, who, tencent_code)
  who = who or {}
  local ed = string.format("the %s edition (price book %s)", app.edition.id, app.book.name)
  local lim = r.limit
  local max, cur = r.max or -1, r.current or 0
  local text
  if lim == L.IMB_L_ACCOUNTS then
    text = string.format("accounts limit: %s allows at most %d accounts and this app has %d", ed, max, cur)
  elseif lim == L.IMB_L_NON_AV_GROUPS then
    text = string.format("non_av_groups limit: %s allows at most %d groups (Private, Public, ChatRoom, Community) "
      .. "and this app has %d", ed, max, cur)
  elseif lim == L.IMB_L_AV_GROUPS then
    text = string.format("av_groups limit: %s allows at most %d AVChatRoom groups at a time and this app has %d",
      ed, max, cur)
  elseif lim == L.IMB_L_BCHATROOM_TOTAL then
    text = string.format("bchatroom_total limit: at most %d BChatRoom groups at a time, and this app has %d", max, cur)
  elseif lim == L.IMB_L_BCHATROOM_DAILY then
    text = string.format("bchatroom_daily limit: at most %d BChatRoom groups created a day, and %d were today",
      max, cur)
  elseif lim == L.IMB_L_DAILY_NET_GROUPS then
    text = string.format("daily_net_groups limit: %s allows a daily net increase of at most %d groups (created "
      .. "minus disbanded), and today's is %d", ed, max, cur)
  elseif lim == L.IMB_L_MEMBERS_PER_GROUP then
    text = string.format("members_per_group limit: %s allows at most %d members in a %s group, and group %s has %d",
      ed, max, who.gtype or "group of its type", who.group or "?", cur)
  elseif lim == L.IMB_L_GROUPS_PER_USER then
    text = string.format("groups_per_user limit: %s allows a user at most %d groups, and user %s has %d",
      ed, max, who.user or "?", cur)
  elseif lim == L.IMB_L_FRIENDS_PER_USER then
    local u = (r.peer == 1) and who.peer or who.user
    text = string.format("friends_per_user limit: %s allows at most %d friends, and user %s has %d",
      ed, max, u or "?", cur)
  elseif lim == L.IMB_L_FEATURE then
    text = string.format("feature %s: %s does not have it", core.names.feature[r.feature] or "?", ed)
  elseif lim == L.IMB_L_GROUP_EXISTS then
    text = string.format("group %s does not exist", who.group or "?")
  elseif lim == L.IMB_L_GROUP_ID then
    text = string.format("group id %s is in use", who.group or "?")
  elseif lim == L.IMB_L_DAY_OPEN then
    text = "the day is closed: it can no longer be counted exactly"
  elseif lim == L.IMB_L_FUTURE then
    text = "the event is dated too far ahead of the gateway's clock"
  else
    text = "refused (" .. tostring(core.names.limit[lim]) .. ")"
  end
  return "imbill: " .. text .. " (Tencent's code " .. tostring(tencent_code or r.code) .. ")"
end

--- Sends a JSON body with HTTP status (default 200) and ends the request.
function M.send(t, status)
  local body = json.encode(t)
  ngx.status = status or 200
  ngx.header.content_type = "application/json"
  ngx.header.content_length = #body
  ngx.print(body)
  return ngx.exit(ngx.status)
end

--- Tencent's failure shape: ActionStatus FAIL, ErrorCode, ErrorInfo, plus
-- the call's own fields (extra).
function M.fail(code, info, extra)
  local t = { ActionStatus = "FAIL", ErrorCode = code, ErrorInfo = info }
  if extra then for k, v in pairs(extra) do t[k] = v end end
  return t
end

--- Tencent's answer to a call it took whose items may each have failed:
-- ActionStatus OK, ErrorCode 0, plus the call's own fields (extra).
function M.ok(extra)
  local t = { ActionStatus = "OK", ErrorCode = 0, ErrorInfo = "" }
  if extra then for k, v in pairs(extra) do t[k] = v end end
  return t
end

return M
