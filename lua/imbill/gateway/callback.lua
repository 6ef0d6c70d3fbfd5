--- Tencent's callbacks, one endpoint (CallbackCommand in the query).
--
-- Before anything is counted a request must be for an app this gateway
-- knows, signed with its token and fresh (when the app has a token), within
-- the size bound, not seen before, and a JSON object for a command imbill
-- counts.  A request that fails any of these is rejected: a log line, a
-- counter by reason, an HTTP error, and nothing counted.
--
-- "Before" callbacks answer allow or refuse; an approval reserves what it
-- allows until the matching "after" callback confirms it.  "After"
-- callbacks count what happened, each event once: Tencent's retries carry
-- the same event (the same EventTime and subjects), whose derived id the
-- store remembers; an action already counted through the REST path finds
-- its counts in place (the account exists, the member is in the group).
-- Logins are counted into DAU and MAU and never refused.
local core = require "imbill.gateway.core"
local calls = require "imbill.gateway.calls"
local json = require "imbill.gateway.json"
local reply = require "imbill.gateway.reply"
local units_mod = require "imbill.gateway.units"
local reserve = require "imbill.gateway.reserve"
local store_mod = require "imbill.gateway.store"
local sign = require "imbill.gateway.sign"
local metrics = require "imbill.gateway.metrics"
local state = require "imbill.gateway.state"
local rest = require "imbill.gateway.rest"
local plans = require "imbill.gateway.plans"
local config = require "imbill.gateway.config"

local ngx = ngx
local A, L = core.A, core.L
local id, gid, GTYPES = calls.id, calls.gid, calls.GTYPES
local type, ipairs, tonumber, floor = type, ipairs, tonumber, math.floor

local M = {}

local OK = '{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}'

-- counters of the hot paths (labels: configured apps, known commands)
local CALLBACKS = metrics.family("imbill_callbacks_total", { "app", "command" })

local function send_raw(body, status)
  ngx.status = status or 200
  ngx.header.content_type = "application/json"
  ngx.header.content_length = #body
  ngx.print(body)
  return ngx.exit(ngx.status)
end

local function reject(reason, status, detail, app)
  metrics.inc("imbill_callbacks_rejected_total", { reason = reason })
  ngx.log(ngx.WARN, "imbill: callback rejected (", reason, ")", detail and (": " .. detail) or "",
    " from ", ngx.var.remote_addr, app and (" app " .. app) or "")
  return send_raw(json.encode { ActionStatus = "FAIL", ErrorCode = 1,
                                ErrorInfo = "imbill: callback rejected: " .. reason }, status)
end

-- EventTime: milliseconds (a number or a string); RequestTime: seconds.
local function event_time(b)
  local v = b.EventTime
  if type(v) == "string" then v = v:match("^%d+$") and tonumber(v) end
  if type(v) ~= "number" or v ~= v or v <= 0 then return nil end
  if v > 1e11 then v = v / 1000 end
  -- a time past 2^53 s is far past the calendar, which the core refuses (not
  -- counted); a larger double's conversion to the core's int64 is undefined
  if v > 2 ^ 53 then v = 2 ^ 53 end
  return floor(v)
end

local function list(v)
  if type(v) == "table" and (v[1] ~= nil or next(v) == nil) then return v end
  return nil
end

local function members_of(v, field)
  local out, seen = {}, {}
  for _, e in ipairs(list(v) or {}) do
    local u = type(e) == "table" and id(e[field or "Member_Account"]) or id(e)
    if u and not seen[u] then
      seen[u] = true
      out[#out + 1] = u
    end
  end
  return out
end

---------------------------------------------------------------------------
-- After callbacks

-- The id of one event of an after callback: its command, its time and its
-- subjects.  Without an EventTime there is no telling a retry from a new
-- event, so there is no id (the counts' own guards still hold); nor with one
-- that is no time (0, "", null, "soon"): every event of the same subjects
-- would share it, and a member who left and joined again would be taken for
-- a retry of the first join and not counted.
local function event_ids(app, cmd, b)
  if not event_time(b) then return nil end
  local t_ms = b.EventTime
  return function(u, a, i)
    local s = a.subj
    return ngx.md5(table.concat({ app.id, cmd, tostring(t_ms), s.user or "", s.peer or "", s.group or "",
                                  tostring(a.kind), tostring(i), u.key or "" }, "\0"))
  end
end

local function counted(B, units, confirm, arg)
  if confirm then confirm(B, units, arg) end
  units_mod.apply_all(B, units)
  for _, u in ipairs(units) do
    if u.confirmed and u.status ~= "applied" then u.status = "confirmed" end
  end
  return true
end

-- confirm(B, units, arg) confirms approvals inside the shared dict's lock; a
-- store that applies programs (Redis) reads the same arg: { matches = }, or
-- { create = { match =, group = } }.
local function count_after(app, cmd, units, t, b, confirm, arg)
  local store = state.store_for(app)
  local now = ngx.time()
  units_mod.build(app, units, t, now, event_ids(app, cmd, b))
  plans.reported(units)
  local ok, err
  if store.count_after then
    ok, err = store:count_after(app, units, state.cfg.callback_lock_wait, arg)
  else
    ok, err = store:run(app.id, state.cfg.callback_lock_wait, counted, units, confirm, arg)
  end
  plans.release(units)
  if not ok then
    ngx.log(ngx.ERR, "imbill: app ", app.id, ": ", cmd, " not counted: ", tostring(err))
    metrics.inc("imbill_not_counted_total", { app = app.id, action = cmd, reason = "store" }, #units)
    return
  end
  for _, u in ipairs(units) do
    local s = u.status
    if s == "applied" then
      metrics.inc("imbill_allowed_total", { app = app.id, action = cmd, via = "callback" })
    elseif s == "duplicate" then
      metrics.inc("imbill_duplicates_total", { app = app.id, action = cmd })
    elseif s == "unchanged" then
      metrics.inc("imbill_unchanged_total", { app = app.id, action = cmd, via = "callback" })
    elseif s ~= "confirmed" and s ~= "journaled" then
      -- (journaled: counted once the store is back)
      -- Tencent did it and the store did not count it: a group it never
      -- saw, or already counted through REST (the id is in use), or over a
      -- limit the store thinks full
      local why = u.refusal and core.names.limit[u.refusal.limit] or "unplanned"
      metrics.inc("imbill_not_counted_total", { app = app.id, action = cmd, reason = why })
    end
  end
end

-- Confirms the approvals of a list of units (by their match keys) inside the
-- batch, before the units are applied: an approved join is then already in
-- place and the join changes nothing.  arg = { app = id, matches = }.
local function confirm_matches(B, _, arg)
  for _, m in ipairs(arg.matches) do
    if reserve.confirm(B, m) then
      metrics.inc("imbill_reservations_confirmed_total", { app = arg.app })
    end
  end
end

-- Confirms a group's approval (arg = { app = id, create = { match =, group
-- = } }): the approved group takes its real id; if that id is counted
-- already, the approval is taken back instead.  The group and its members
-- are in place then: the units still run, and change nothing (a create of
-- a group in place is a report of it, plans.reported), so their event ids
-- are remembered and a retry of the callback is a duplicate.
local function confirm_create(B, us, arg)
  local c = arg.create
  local rec = reserve.confirm(B, c.match)
  if not rec then return end
  metrics.inc("imbill_reservations_confirmed_total", { app = arg.app })
  if not rec.g or not store_mod.rename_group(B, rec.g, c.group) then
    if rec.g then require("imbill.gateway.settle").undo_all(B, state.cfg.apps[arg.app], rec.d) end
  end
  for _, u in ipairs(us) do u.confirmed = true end
end

local login_plan = nil

local AFTER = {}

AFTER["State.StateChange"] = function(app, b)
  local info = b.Info
  if type(info) ~= "table" then return "malformed" end
  if info.Action ~= "Login" then return end
  local user = id(info.To_Account)
  if not user then return "malformed" end
  local now = ngx.time()
  local t = event_time(b) or now
  if not login_plan then login_plan = core.plan_t() end
  local ok = core.build(app.limits, A.IMB_A_LOGIN, 0, t, app.offset, false, now, login_plan)
  if not ok then
    metrics.inc("imbill_not_counted_total", { app = app.id, action = "login", reason = "unplanned" })
    return
  end
  -- within the callback's wait, as every other callback: Tencent waits 2 s
  local res, r = state.store_for(app):login(app.id, login_plan, user, nil, state.cfg.callback_lock_wait)
  if res == "refused" then
    metrics.inc("imbill_not_counted_total", { app = app.id, action = "login", reason = core.names.limit[r.limit] })
  elseif not res then
    metrics.inc("imbill_not_counted_total", { app = app.id, action = "login", reason = "store" })
  end
end

AFTER["Group.CallbackAfterCreateGroup"] = function(app, b, cmd)
  local g, gtype = gid(b.GroupId), GTYPES[b.Type]
  if not g or not gtype then return "malformed" end
  local owner = id(b.Owner_Account) or id(b.Operator_Account) or ""
  local units = { { key = g, acts = {} } }
  local acts = units[1].acts
  acts[1] = { kind = A.IMB_A_CREATE_GROUP, subj = { group = g }, gtype = gtype }
  for _, u in ipairs(members_of(b.MemberList)) do
    acts[#acts + 1] = { kind = A.IMB_A_JOIN, subj = { group = g, user = u } }
  end
  local owner_joined = false
  for _, a in ipairs(acts) do if a.subj.user == owner then owner_joined = true end end
  if id(b.Owner_Account) and not owner_joined then
    table.insert(acts, 2, { kind = A.IMB_A_JOIN, subj = { group = g, user = owner } })
  end
  local match = reserve.match("create", owner, calls.type_key(b.Type), tostring(b.Name))
  count_after(app, cmd, units, event_time(b) or ngx.time(), b, confirm_create,
    { app = app.id, create = { match = match, group = g } })
end

AFTER["Group.CallbackAfterGroupDestroyed"] = function(app, b, cmd)
  local g = gid(b.GroupId)
  if not g then return "malformed" end
  count_after(app, cmd, { { key = g, acts = { { kind = A.IMB_A_DISBAND_GROUP, subj = { group = g } } } } },
    event_time(b) or ngx.time(), b)
end

AFTER["Group.CallbackAfterNewMemberJoin"] = function(app, b, cmd)
  local g = gid(b.GroupId)
  if not g then return "malformed" end
  local units, matches = {}, {}
  for _, u in ipairs(members_of(b.NewMemberList)) do
    units[#units + 1] = { key = u, acts = { { kind = A.IMB_A_JOIN, subj = { group = g, user = u } } } }
    matches[#matches + 1] = reserve.match("join", g, u)
  end
  count_after(app, cmd, units, event_time(b) or ngx.time(), b, confirm_matches, { app = app.id, matches = matches })
end

AFTER["Group.CallbackAfterMemberExit"] = function(app, b, cmd)
  local g = gid(b.GroupId)
  if not g then return "malformed" end
  local units = {}
  for _, u in ipairs(members_of(b.ExitMemberList)) do
    units[#units + 1] = { key = u, acts = { { kind = A.IMB_A_LEAVE, subj = { group = g, user = u } } } }
  end
  count_after(app, cmd, units, event_time(b) or ngx.time(), b)
end

-- Each pair is one direction: From_Account's list gained (or lost)
-- To_Account; a two-way change sends both pairs.  A pair named twice counts
-- once.
local function pairs_of(b)
  local out, seen = {}, {}
  for _, p in ipairs(list(b.PairList) or {}) do
    local a, c = type(p) == "table" and id(p.From_Account), type(p) == "table" and id(p.To_Account)
    if a and c and a ~= c then
      local lo, hi = a, c
      if hi < lo then lo, hi = hi, lo end
      local k = a .. "\0" .. c
      if not seen[k] then
        seen[k] = true
        out[#out + 1] = { a, c, lo, hi }
      end
    end
  end
  return out
end

AFTER["Sns.CallbackFriendAdd"] = function(app, b, cmd)
  local units, matches, matched = {}, {}, {}
  for _, p in ipairs(pairs_of(b)) do
    units[#units + 1] = { key = p[2],
                          acts = { { kind = A.IMB_A_ADD_FRIEND_ONE_WAY, subj = { user = p[1], peer = p[2] } } } }
    -- an approval covers both directions of its pair: confirmed once
    local m = reserve.match("friend", p[3], p[4])
    if not matched[m] then
      matched[m] = true
      matches[#matches + 1] = m
    end
  end
  count_after(app, cmd, units, event_time(b) or ngx.time(), b, confirm_matches, { app = app.id, matches = matches })
end

AFTER["Sns.CallbackFriendDelete"] = function(app, b, cmd)
  local units = {}
  for _, p in ipairs(pairs_of(b)) do
    units[#units + 1] = { key = p[2],
                          acts = { { kind = A.IMB_A_REMOVE_FRIEND_ONE_WAY, subj = { user = p[1], peer = p[2] } } } }
  end
  count_after(app, cmd, units, event_time(b) or ngx.time(), b)
end

---------------------------------------------------------------------------
-- Before callbacks

local function from_rest(app)
  return app.rest_via_gateway and ngx.var.arg_OptPlatform == "RESTAPI"
end

-- In the approval's batch: each applied unit recorded as reserved.
-- arg = { app, the approval's id, the units' match keys }.
local function record_all(B, us, arg)
  local app, base, matches = arg[1], arg[2], arg[3]
  for i, u in ipairs(us) do
    if u.status == "applied" then reserve.record(B, u, base .. "." .. i, matches[i], app.reservation_ttl) end
  end
end

-- Applies the units of an approval and records each applied one as
-- reserved.  Returns true, or nil and the store's reason.
local function approve(app, cmd, units, matches)
  local store = state.store_for(app)
  local now = ngx.time()
  units_mod.build(app, units, now, now)
  local damaged = state.damaged(store)
  if damaged then
    plans.release(units)
    return nil, "store damaged: " .. damaged
  end
  local ok, err
  if store.approve then
    -- a store that applies programs (Redis) writes the records in the same program
    ok, err = store:approve(app, units, matches, reserve.new_id(), app.reservation_ttl)
  else
    ok, err = units_mod.apply(store, app, units, state.cfg.callback_lock_wait, record_all,
      { app, reserve.new_id(), matches })
  end
  plans.release(units)
  if not ok then return nil, err end
  for _, u in ipairs(units) do
    if u.status == "refused" then
      u.who = reply.who(store, app, u)
      metrics.inc("imbill_refused_total", { app = app.id, action = cmd, code = tostring(u.refusal.code),
                                            via = "callback" })
    elseif u.status == "applied" then
      metrics.inc("imbill_allowed_total", { app = app.id, action = cmd, via = "callback" })
      metrics.inc("imbill_reservations_total", { app = app.id, via = "callback" })
    elseif u.status == "not_counted" then
      metrics.inc("imbill_not_counted_total", { app = app.id, action = cmd,
        reason = u.refusal and core.names.limit[u.refusal.limit] or "unplanned" })
    end
  end
  return true
end

local function who(u)
  return u.who or {}
end

-- When the store cannot decide: refuse (failure "closed") or allow.
local function undecided(app, cmd, err, refuse_code)
  metrics.inc("imbill_passed_total", { app = app.id, reason = "store" })
  ngx.log(ngx.WARN, "imbill: app ", app.id, ": ", cmd, " undecided: ", tostring(err))
  if app.failure == "open" then return OK end
  return json.encode { ActionStatus = "OK", ErrorCode = refuse_code,
                       ErrorInfo = "imbill: the quota store could not decide (" .. tostring(err) .. ")" }
end

local BEFORE = {}

BEFORE["Group.CallbackBeforeCreateGroup"] = function(app, b, cmd)
  local gtype = GTYPES[b.Type]
  if not gtype then return "malformed" end
  if from_rest(app) then return OK end
  local owner = id(b.Owner_Account) or id(b.Operator_Account) or ""
  local p = "~cb:" .. reserve.new_id()
  local acts = { { kind = A.IMB_A_CREATE_GROUP, subj = { group = p }, gtype = gtype } }
  local seen = {}
  if id(b.Owner_Account) then
    seen[owner] = true
    acts[2] = { kind = A.IMB_A_JOIN, subj = { group = p, user = owner } }
  end
  for _, u in ipairs(members_of(b.MemberList)) do
    if not seen[u] then
      seen[u] = true
      acts[#acts + 1] = { kind = A.IMB_A_JOIN, subj = { group = p, user = u } }
    end
  end
  local units = { { key = p, acts = acts, provisional = p } }
  local ok, err = approve(app, cmd, units, { reserve.match("create", owner, calls.type_key(b.Type), tostring(b.Name)) })
  if not ok then return undecided(app, cmd, err, app.group_codes.none) end
  local u = units[1]
  if u.status == "refused" then
    local r = u.refusal
    local code = r.limit == L.IMB_L_MEMBERS_PER_GROUP and 10038 or r.code
    return json.encode { ActionStatus = "OK", ErrorCode = app.group_codes[core.names.limit[r.limit]],
                         ErrorInfo = reply.info(app, r, who(u), code) }
  end
  return OK
end

BEFORE["Group.CallbackBeforeApplyJoinGroup"] = function(app, b, cmd)
  local g, u = gid(b.GroupId), id(b.Requestor_Account)
  if not g or not u then return "malformed" end
  local units = { { key = u, acts = { { kind = A.IMB_A_JOIN, subj = { group = g, user = u } } } } }
  local ok, err = approve(app, cmd, units, { reserve.match("join", g, u) })
  -- Tencent takes 0 (allow) or 1 (refuse) here
  if not ok then return undecided(app, cmd, err, 1) end
  if units[1].status == "refused" then
    return json.encode { ActionStatus = "OK", ErrorCode = 1, ErrorInfo = reply.info(app, units[1].refusal, who(units[1])) }
  end
  return OK
end

BEFORE["Group.CallbackBeforeInviteJoinGroup"] = function(app, b, cmd)
  local g = gid(b.GroupId)
  if not g then return "malformed" end
  if from_rest(app) then return OK end
  local units, matches = {}, {}
  for _, u in ipairs(members_of(b.DestinationMembers)) do
    units[#units + 1] = { key = u, acts = { { kind = A.IMB_A_JOIN, subj = { group = g, user = u } } } }
    matches[#matches + 1] = reserve.match("join", g, u)
  end
  if #units == 0 then return OK end
  local ok, err = approve(app, cmd, units, matches)
  if not ok then return undecided(app, cmd, err, app.group_codes.none) end
  local refused, first = {}, nil
  for _, u in ipairs(units) do
    if u.status == "refused" then
      refused[#refused + 1] = u.key
      first = first or u
    end
  end
  if not first then return OK end
  local r = first.refusal
  local info = reply.info(app, r, who(first))
  if #refused == #units then
    return json.encode { ActionStatus = "OK", ErrorCode = app.group_codes[core.names.limit[r.limit]], ErrorInfo = info,
                         RefusedMembers_Account = refused }
  end
  return json.encode { ActionStatus = "OK", ErrorCode = 0, ErrorInfo = info, RefusedMembers_Account = refused }
end

BEFORE["Sns.CallbackPrevFriendAdd"] = function(app, b, cmd)
  local from = id(b.From_Account) or id(b.Requestor_Account)
  if not from then return "malformed" end
  local items = list(b.FriendItem) or list(b.AddFriendItem) or {}
  -- Tencent's AddType: one-way asks nothing of the other user's list.  A
  -- type Tencent does not name is refused, as sns/friend_add refuses it:
  -- guessing two-way could refuse a request that asks nothing of the peer.
  local kind, why = calls.add_kind(b)
  if not kind then return "malformed", cmd .. ": " .. why end
  local units, matches = {}, {}
  for _, e in ipairs(items) do
    local to = type(e) == "table" and id(e.To_Account)
    if to and to ~= from then
      local lo, hi = from, to
      if hi < lo then lo, hi = hi, lo end
      units[#units + 1] = { key = to, acts = { { kind = kind, subj = { user = from, peer = to } } } }
      matches[#matches + 1] = reserve.match("friend", lo, hi)
    end
  end
  local ok, err = approve(app, cmd, units, matches)
  local result = {}
  for i, u in ipairs(units) do
    local code, text = 0, ""
    if not ok then
      if app.failure ~= "open" then code, text = app.friend_codes.none, "imbill: the quota store could not decide" end
    elseif u.status == "refused" then
      code = app.friend_codes[core.names.limit[u.refusal.limit]]
      text = reply.info(app, u.refusal, who(u))
    end
    result[i] = { To_Account = u.key, ResultCode = code, ResultInfo = text }
  end
  if not ok then undecided(app, cmd, err, 0) end
  return json.encode { ActionStatus = "OK", ErrorCode = 0, ErrorInfo = "", ResultItem = json.array(result) }
end

---------------------------------------------------------------------------
-- The endpoint

-- A request seen before (the same query and body) is a replay.  It is
-- remembered until its RequestTime leaves the window, after which the
-- freshness check rejects it anyway; the dict may drop the oldest entries
-- when full (counted as evictions), which only shortens that memory.
local function replay_seen(cfg, body, rt)
  local dict = state.replay
  if not dict then return false end
  local key = ngx.md5_bin((ngx.var.args or "") .. "\0" .. body)
  local ttl = cfg.window
  if rt then ttl = math.max(1, rt + cfg.window - ngx.time() + 1) end
  local ok, err, forcible = dict:add(key, true, ttl)
  if forcible then metrics.inc("imbill_evictions_total", { dict = cfg.replay }) end
  if not ok and err == "exists" then return true end
  return false
end

local function configured(appid) return state.cfg.apps[appid] ~= nil end

--- Whether the gateway counts the callback command `cmd` (a string): Tencent
-- sends every callback of an app to one URL, so a location can send the
-- others (messages, profiles, ...) on to the app's own callback server.
function M.counts(cmd)
  return AFTER[cmd] ~= nil or BEFORE[cmd] ~= nil
end

--- content_by_lua: gateway.callback([opts]); opts.app pins the location to
-- one SDKAppID.
function M.handle(opts)
  local cfg = state.cfg
  if not cfg then
    ngx.log(ngx.ERR, "imbill: gateway.setup() was not called in init_by_lua")
    return ngx.exit(500)
  end
  if opts ~= nil then
    local ok, err = config.location_opt("imbill.gateway.callback", opts, "app", configured,
      "names no app of the configuration (an SDKAppID, as a string)")
    if not ok then
      ngx.log(ngx.ERR, "imbill: this location's ", tostring(err), " (fix it in nginx.conf)")
      return ngx.exit(500)
    end
  end
  local appid = ngx.var.arg_SdkAppid
  local app = appid and cfg.apps[appid]
  if not app or (opts and opts.app and opts.app ~= appid) then
    return reject("wrong_app", 403, "SdkAppid " .. tostring(appid))
  end
  local request_time
  if app.token then
    request_time = ngx.var.arg_RequestTime
    local ok, why = sign.check(app.token, ngx.var.arg_Sign, request_time, ngx.time(), cfg.window)
    if not ok then return reject(why, 403, nil, appid) end
  elseif not app.unsigned_callbacks then
    return reject("no_token", 403, "the app has no callback token (docs/gateway.md, \"Callback security\")", appid)
  end
  local len = tonumber(ngx.var.http_content_length)
  if len and len > cfg.callback_max_body then return reject("too_large", 413, len .. " bytes", appid) end
  local body, why = rest.read_body(cfg.callback_max_body)
  if not body then return reject(why == "too_large" and "too_large" or "malformed", why == "too_large" and 413 or 400,
    nil, appid) end
  local b = json.decode_object(body)
  if not b then return reject("malformed", 400, "not a JSON object", appid) end
  local cmd = ngx.var.arg_CallbackCommand
  if b.CallbackCommand ~= nil and b.CallbackCommand ~= cmd then
    return reject("malformed", 400, "CallbackCommand differs between query and body", appid)
  end
  local h = AFTER[cmd] or BEFORE[cmd]
  if not h then return reject("unknown_command", 400, tostring(cmd), appid) end
  if replay_seen(cfg, body, request_time and tonumber(request_time)) then
    return reject("replayed", 403, cmd, appid)
  end
  reserve.start()
  local out, detail = h(app, b, cmd)
  if out == "malformed" then return reject("malformed", 400, detail or (cmd .. ": fields missing"), appid) end
  CALLBACKS:inc(1, appid, cmd)
  return send_raw(out or OK)
end

return M
