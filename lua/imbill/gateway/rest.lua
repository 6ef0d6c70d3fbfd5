--- The REST API: every call Tencent's quotas concern is read, decided by
-- the core's plans and either refused in Tencent's own answer (HTTP 200,
-- ActionStatus FAIL, Tencent's ErrorCode, an ErrorInfo that names the limit)
-- or passed on.  An allowed call goes to Tencent unchanged; a call with some
-- items over a limit goes without them, and Tencent's answer comes back with
-- them added as refused.  Capacity is reserved when a call is allowed and
-- settled from Tencent's answer.  Every other path passes untouched.
local core = require "imbill.gateway.core"
local calls = require "imbill.gateway.calls"
local json = require "imbill.gateway.json"
local query = require "imbill.gateway.query"
local reply = require "imbill.gateway.reply"
local units_mod = require "imbill.gateway.units"
local settle = require "imbill.gateway.settle"
local metrics = require "imbill.gateway.metrics"
local state = require "imbill.gateway.state"
local plans = require "imbill.gateway.plans"
local reserve = require "imbill.gateway.reserve"
local config = require "imbill.gateway.config"

local ngx = ngx
local match, find, concat = string.match, string.find, table.concat
local unescape_uri = ngx.unescape_uri
local M = {}

local CALLS = calls.CALLS
-- the calls by service and command, so a URI needs no key made for it
local BY_SVC = {}
for name, def in pairs(CALLS) do
  local svc, cmd = name:match("^(.-)/(.*)$")
  BY_SVC[svc] = BY_SVC[svc] or {}
  BY_SVC[svc][cmd] = def
end

-- The call a URI names (its last two segments), and the command.  A URI
-- that holds a counted call's two names anywhere else, or with more after a
-- name (create_group;x, create_group.json, create_group%20, create_group/x:
-- routers that drop path parameters, suffixes, spaces or a path's tail take
-- it for the call), or parted by a backslash (group_open_http_svc\create_group:
-- routers that take it for a slash), names no call the gateway can count:
-- nil, "decorated".
local lower, gmatch = string.lower, string.gmatch

local function counted(svc, cmd)
  local by = BY_SVC[lower(svc)]
  return by and by[lower(cmd)]
end

local function find_call(uri)
  local svc, cmd = match(uri, "/([%w_]+)/([%w_]+)/*$")
  if svc then
    -- in any case: were Tencent's router to take /v4/Group_Open_Http_Svc/
    -- Create_Group for the call, it would do it uncounted; were it not to,
    -- its answer releases what was reserved
    local def = counted(svc, cmd)
    if def then return def, lower(cmd) end
  end
  local prev
  for seg in gmatch(uri, "[^/\\]+") do
    local w = match(seg, "^[%w_]+")
    if prev and w and counted(prev, w) then return nil, "decorated" end
    prev = w
  end
  return nil
end

-- find_call remembered for the URIs seen: the counted calls' (a few) apart
-- from the others, so that paths a client makes up cannot crowd them out
-- (each table bounded, since URIs come from clients).
local CALL_URIS, OTHER_URIS, NCALL, NOTHER = {}, {}, 0, 0
local function call_of(uri)
  local hit = CALL_URIS[uri] or OTHER_URIS[uri]
  if not hit then
    local def, cmd = find_call(uri)
    hit = { def or false, cmd }
    if def then
      if NCALL < 256 then
        NCALL = NCALL + 1
        CALL_URIS[uri] = hit
      end
    elseif NOTHER < 256 then
      NOTHER = NOTHER + 1
      OTHER_URIS[uri] = hit
    end
  end
  return hit[1] or nil, hit[2]
end

local ALLOWED = metrics.family("imbill_allowed_total", { "app", "action", "via" })
local UNCHANGED = metrics.family("imbill_unchanged_total", { "app", "action", "via" })
local REFUSED = metrics.family("imbill_refused_total", { "app", "action", "code", "via" })

local function read_body(max)
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if body then
    if #body > max then return nil, "too_large" end
    return body
  end
  local file = ngx.req.get_body_file()
  if not file then return "" end
  local f = io.open(file, "rb")
  if not f then return nil, "unreadable" end
  local size = f:seek("end")
  if size > max then
    f:close()
    return nil, "too_large"
  end
  f:seek("set", 0)
  body = f:read("*a")
  f:close()
  return body
end
M.read_body = read_body

-- A call whose answer settles what it counted asks Tencent for an answer
-- it can read: a compressed one says nothing the gateway can read (the
-- reservations would stay counted whatever Tencent did, and refused items
-- could not be added to it).  An answer without Content-Encoding is one
-- every client takes.
local function plain_answer()
  if ngx.var.http_accept_encoding then ngx.req.clear_header("Accept-Encoding") end
end


-- A refused item's ErrorInfo.  A module-level function, not a closure made
-- where it is used: a function that makes a closure closes upvalues at each
-- return (UCLO), which LuaJIT does not compile, and the trace of each
-- request's access and answer would end there.
local function info_of(r) return r.info end

-- A Redis app's counted call goes to Tencent as a subrequest (below)
local relayed

local function code_of(def, r)
  return def.codes and def.codes[r.limit] or r.code
end

-- pending: the request's context when a store may have applied the call
-- (Redis, whose answer was lost or never came); its .pending is what the
-- store needs to settle it once Tencent's answer is known: counted if
-- Tencent did it and the gateway let it through, not counted otherwise.
local function store_failed(def, app, cmd, why, pending)
  metrics.inc("imbill_passed_total", { app = app.id, reason = "store" })
  if app.failure == "open" then
    ngx.log(ngx.WARN, "imbill: app ", app.id, ": ", cmd, " passed without a decision (", why, ")")
    if pending then
      ngx.ctx.imbill = pending
      plain_answer()
    end
    return
  end
  if pending then
    -- refused here, so Tencent does nothing: whatever the store did is taken back
    settle.submit({ app = app, store = pending.store, call = cmd, pending = pending.pending })
  end
  return reply.send(reply.fail(calls.STORE_ERROR_CODE[def.code_base] or 10002,
    "imbill: the quota store could not decide (" .. why .. "); capped calls are refused until it can. Try again."))
end

-- A call refused for its path or query, before any app is read (60002).
local function rejected(reason, info)
  metrics.inc("imbill_rest_rejected_total", { reason = reason })
  return reply.send(reply.fail(60002, info))
end

-- A refusal decided before any store is asked, counted and answered.
local function refuse(app, cmd, code, info)
  REFUSED:inc(1, app.id, cmd, tostring(code), "rest")
  return reply.send(reply.fail(code, info))
end

-- What the gateway cannot read, it cannot count: a body refused before
-- anything is decided, as Tencent refuses one it cannot parse.  Returns
-- nothing, or Tencent's code and the ErrorInfo.
local function not_json(body)
  local v, err = json.decode(body)
  if v ~= nil or not err then return "imbill: the request body is not a JSON object" end
  local why = "imbill: the request body is not JSON (" .. tostring(err) .. ")"
  -- a compressed body (Go's and Python's clients can send one) reads as
  -- garbage: say why, rather than leave the client to guess
  local enc = ngx.var.http_content_encoding
  if enc and enc ~= "identity" then
    why = why .. "; it is sent with Content-Encoding " .. json.encode(enc:sub(1, 40))
      .. ", which the gateway does not decode: send it uncompressed"
  end
  return why
end

local function unreadable(def, body, b, max_items)
  if type(b) ~= "table" then return 60003, not_json(body) end
  -- Tencent takes a few hundred items a call at most; a call of many
  -- thousands, refused by Tencent anyway, would hold the app's lock (or a
  -- Redis shared by every app) for as long as it takes to decide them all
  for field, v in pairs(b) do
    if type(v) == "table" and #v > max_items then
      return 60002, "imbill: " .. tostring(field) .. " has " .. #v .. " items; the gateway reads at most "
        .. max_items .. " a call"
    end
  end
  local unique, twice = json.unique_names(body)
  if not unique then
    return 60003, "imbill: the request body names " .. json.encode(twice)
      .. " twice in one object; Tencent and the gateway could read different values"
  end
  local bad, why
  if def.malformed then bad, why = def.malformed(b) end
  if bad then
    return calls.INVALID_CODE[def.code_base], "imbill: " .. bad .. ": " .. why .. "; the gateway refuses what it cannot count"
  end
end

-- A location's rest{ unknown_app = } as given in nginx.conf: "refuse" or
-- "pass" (the configuration's when left out), or nil after an error log.
local function known_policy(p) return p == "refuse" or p == "pass" end
local function location_policy(opts)
  local ok, v = config.location_opt("imbill.gateway.rest", opts, "unknown_app", known_policy,
    "expected \"refuse\" or \"pass\"")
  if ok then return v or state.cfg.unknown_app end
  ngx.log(ngx.ERR, "imbill: this location's ", tostring(v), " (fix it in nginx.conf)")
  return nil
end

-- The admin account a call is made as, as Tencent reads the query's
-- identifier: percent-decoded (a client library writes admin@corp as
-- admin%40corp), and the callback names it decoded.
local function admin_of(raw)
  if raw == nil then return nil end
  return ngx.unescape_uri((raw:gsub("+", " ")))
end

--- access_by_lua: gateway.rest([opts]); opts.unknown_app overrides the
-- configuration's policy for this location.
function M.access(opts)
  local cfg = state.cfg
  if not cfg then
    ngx.log(ngx.ERR, "imbill: gateway.setup() was not called in init_by_lua")
    return ngx.exit(500)
  end
  -- a location's own policy is checked on every call, so a mistake in it
  -- shows at once, not when an unknown app first calls
  local policy = cfg.unknown_app
  if opts ~= nil then
    policy = location_policy(opts)
    if not policy then return ngx.exit(500) end
  end
  local uri = ngx.var.uri
  local def, cmd = call_of(uri)
  -- nginx decides on the path it normalized (escapes decoded, dot segments
  -- and doubled slashes resolved), but proxy_pass sends Tencent the path as
  -- the client wrote it: account_import%2F.. is / here and the call there.
  -- A counted call must come plain, and a path that names one only as it
  -- was written is refused with the decorated ones.
  if cmd ~= "decorated" then
    local raw = match(ngx.var.request_uri, "^[^?]*")
    if raw ~= uri then
      local written = unescape_uri(raw)
      if written ~= uri then
        local wdef, wcmd = call_of(written)
        if def or wdef or wcmd == "decorated" then
          return rejected("path", "imbill: the path " .. json.encode(raw:sub(-80)) .. " is not the plain path of a "
            .. "call the gateway counts (escapes, dot segments or doubled slashes, which Tencent receives as they "
            .. "are); send the call's plain path")
        end
      end
    end
  end
  if not def then
    if cmd ~= "decorated" then return end
    return rejected("path", "imbill: the path " .. json.encode(uri:sub(-80)) .. " names a call the gateway "
      .. "counts, with more after its name; send the call's plain path")
  end
  local appid, why_not = query.app(ngx.var.args)
  if why_not then return rejected(why_not, "imbill: the query " .. query.WHY[why_not]) end
  local app = appid and cfg.apps[appid]
  if not app then
    -- not labelled by the id the call names: a client naming a new one each
    -- time would make a series of each, and the series fill the meta dict
    -- that holds the apps' locks
    if policy == "pass" then
      metrics.inc("imbill_passed_total", { app = "", reason = "unknown_app" })
      return
    end
    metrics.inc("imbill_rest_rejected_total", { reason = "unknown_app" })
    return reply.send(reply.fail(60006, appid and ("imbill: SDKAppID " .. appid .. " is not configured on this gateway")
      or "imbill: the query names no sdkappid"))
  end
  local body, why = read_body(cfg.rest_max_body)
  if not body then
    return refuse(app, cmd, 60002, why == "too_large"
      and ("imbill: the request body is over " .. cfg.rest_max_body .. " bytes")
      or "imbill: the request body could not be read")
  end
  local b = json.decode_object(body)
  local bad, info = unreadable(def, body, b, cfg.rest_max_items)
  if bad then return refuse(app, cmd, bad, info) end
  local units = def.units(b)
  if not units or #units == 0 then
    metrics.inc("imbill_passed_total", { app = app.id, reason = "nothing_to_count" })
    return
  end
  local store = state.store_for(app)
  local now = ngx.time()

  if def.shrink then
    -- applied once Tencent has done it
    units_mod.build(app, units, now, now)
    plans.release(units)
    ngx.ctx.imbill = { app = app, def = def, cmd = cmd, store = store, units = units, size = 0, shrink = true }
    plain_answer()
    if store.settle then return relayed(ngx.ctx.imbill, body) end
    return
  end

  local provisional, create_match
  if def.creates_group and units[1].key == nil then
    -- Tencent will choose the id: count the group under a name of its own
    -- until the answer tells it
    provisional = "~rest:" .. ngx.var.request_id
    for _, a in ipairs(units[1].acts) do a.subj.group = provisional end
    units[1].key = provisional
    -- were the answer lost, Tencent's after-create callback names the group:
    -- it is matched as that callback matches an approval (its owner, else
    -- its operator: the admin account this call is made as)
    create_match = reserve.match("create", calls.id(b.Owner_Account) or calls.id(admin_of(ngx.var.arg_identifier)) or "",
      calls.type_key(b.Type), tostring(b.Name))
  end
  units_mod.build(app, units, now, now)

  local damaged = state.damaged(store)
  if damaged then
    plans.release(units)
    return store_failed(def, app, cmd, "store damaged: " .. damaged)
  end
  local ok, err, pending = units_mod.apply(store, app, units, cfg.lock_wait)
  if not ok then
    plans.release(units)
    return store_failed(def, app, cmd, err, pending and { app = app, def = def, cmd = cmd, store = store,
      units = units, size = 0, provisional = provisional, create_match = create_match, pending = pending })
  end

  local refused, allowed, nrefused = nil, units, 0
  for i = 1, #units do
    local u = units[i]
    local st = u.status
    if st == "refused" then
      local code = code_of(def, u.refusal)
      if not refused then refused = {} end
      nrefused = nrefused + 1
      refused[nrefused] = { key = u.key, index = u.index, code = code, unit = u,
                            info = reply.info(app, u.refusal, reply.who(store, app, u), code) }
      REFUSED:inc(1, app.id, cmd, tostring(code), "rest")
    elseif st == "not_counted" then
      metrics.inc("imbill_not_counted_total", { app = app.id, action = cmd,
        reason = u.refusal and core.names.limit[u.refusal.limit] or "unplanned" })
    elseif st == "unchanged" then
      UNCHANGED:inc(1, app.id, cmd, "rest")
    else
      ALLOWED:inc(1, app.id, cmd, "rest")
    end
  end
  plans.release(units)
  if refused then
    allowed = {}
    for i = 1, #units do
      if units[i].status ~= "refused" then allowed[#allowed + 1] = units[i] end
    end
  end
  local ctx = { app = app, def = def, cmd = cmd, store = store, units = allowed, size = 0,
                provisional = provisional, create_match = create_match }

  if refused then
    local field = def.items and def.items(b)
    if not field then
      local r = refused[1]
      return reply.send(reply.fail(r.code, r.info))
    end
    local arr = b[field]
    if nrefused == #arr then
      local extra = def.all_refused(refused, info_of)
      if def.all_refused_ok then return reply.send(reply.ok(extra)) end
      return reply.send(reply.fail(refused[1].code, refused[1].info, extra))
    end
    local drop = {}
    for _, r in ipairs(refused) do drop[r.index] = true end
    -- b is this text read as an object naming each field once, and b[field] an array
    body = assert(json.without(body, field, drop))
    ngx.req.set_body_data(body)
    ctx.merge = refused
  end
  ngx.ctx.imbill = ctx
  plain_answer()
  if store.settle then return relayed(ctx, body) end
end

-- A group created without an id whose id no answer said (no whole answer,
-- one that is not Tencent's, OK without a GroupId): Tencent may have made
-- it, under an id the gateway did not read.  The stand-in stays counted,
-- now as a reservation: Tencent's after-create callback confirms it and it
-- takes the id that callback names; with no callback by reservation_ttl the
-- sweep takes it back, as it takes back an approval.  An app whose
-- callbacks are refused could never confirm it: there it stays counted.
-- Done once, as soon as the answer is known to say nothing (so without the
-- log line too, but for an answer cut short).  Returns what the log line says
-- of the group (kept in c.standin), or nil when the call made no stand-in.
local function hold_standin(c)
  if c.standin ~= nil then return c.standin or nil end
  c.standin = false
  if not c.provisional or c.pending then return nil end
  local u
  for _, x in ipairs(c.units) do
    if x.key == c.provisional and x.applied and #x.applied > 0 then u = x end
  end
  if not u then return nil end
  local app = c.app
  if not app.takes_callbacks then
    c.standin = "the new group stays counted as " .. c.provisional .. " for good (the app takes no callbacks, so "
      .. "no after-create callback can name it)"
    return c.standin
  end
  settle.submit({ app = app, store = c.store, call = c.cmd,
    reserve = { rid = reserve.new_id(), match = c.create_match, group = c.provisional, descs = u.applied } })
  c.standin = "the new group is reserved as " .. c.provisional .. " until Tencent's after-create callback names it, "
    .. "or for " .. app.reservation_ttl .. " s"
  return c.standin
end

-- The same for a call decided while Redis could not answer (c.pending): what
-- its settlement (redis/store.lua, settle_pending) needs to count the group
-- under the id Tencent's answer gave (gid), or to reserve it.
local function pending_standin(c, gid)
  if not c.provisional then return nil end
  if gid then return { group = c.provisional, to = gid } end
  if not c.app.takes_callbacks then return nil end
  return { group = c.provisional, rid = reserve.new_id(), match = c.create_match }
end

-- An answer that does not say what Tencent did (not HTTP 200, compressed).
local function unknown_answer(c)
  c.unknown = true
  if c.pending then
    -- what Tencent did is unknown: counted, as a reservation would stay
    c.settled = true
    settle.submit({ app = c.app, store = c.store, call = c.cmd, pending = c.pending, done = calls.ALL,
                   standin = pending_standin(c) })
  end
  hold_standin(c)
end

function M.header_filter()
  local c = ngx.ctx.imbill
  if not c then return end
  c.status = ngx.status
  if c.status ~= 200 or ngx.header.content_encoding then return unknown_answer(c) end
  if c.merge then ngx.header.content_length = nil end
end

-- Tencent's answer as an object that says OK or FAIL, or nil: an answer of
-- another shape (text, an array, an object without ActionStatus, say a
-- proxy's own) does not say what Tencent did.
local function tencent_answer(text)
  local resp = json.decode_object(text)
  if resp and (resp.ActionStatus == "OK" or resp.ActionStatus == "FAIL") then return resp end
  return nil
end

local function finish(c, text)
  if c.pending then
    -- decided while the store could not answer: settled from what Tencent did
    local resp = tencent_answer(text)
    c.settled = true
    local gid = resp and resp.ActionStatus == "OK" and calls.gid(resp.GroupId) or nil
    settle.submit({ app = c.app, store = c.store, call = c.cmd, pending = c.pending,
                   done = resp and c.def.settle(resp) or calls.ALL, standin = pending_standin(c, gid) })
    return text
  end
  -- the usual answer to a call that only grows: OK, nothing to settle
  -- (the answer as Tencent writes it is found without a pattern, which
  -- LuaJIT compiles; the pattern reads the same answer spaced out)
  if c.def.settle == calls.ALL_IF_OK and not c.shrink and not c.provisional and not c.merge
    and (find(text, '"ActionStatus":"OK"', 1, true) or find(text, '"ActionStatus"%s*:%s*"OK"')) then
    c.settled = true
    return text
  end
  local resp = tencent_answer(text)
  if not resp then
    -- kept, as for an answer that never came (log() counts and logs it)
    c.unknown, c.unshaped = true, true
    hold_standin(c)
    return text
  end
  c.settled = true
  local settled = c.def.settle(resp)
  local job = { app = c.app, store = c.store, call = c.cmd }
  local work = false
  if c.shrink then
    job.shrink, job.all_friends, job.all_friends_both = {}, {}, {}
    for _, u in ipairs(c.units) do
      if calls.done(settled, u.key) then
        if u.all_friends then
          local l = u.both and job.all_friends_both or job.all_friends
          l[#l + 1] = u.all_friends
          work = true
        elseif not u.unplanned then
          for _, s in ipairs(u.steps) do
            job.shrink[#job.shrink + 1] = require("imbill.gateway.plans").describe(s)
            work = true
          end
        end
      end
    end
  else
    job.undo = {}
    local released = 0
    for _, u in ipairs(c.units) do
      if u.applied and #u.applied > 0 then
        if not calls.done(settled, u.key) then
          job.undo[#job.undo + 1] = u.applied
          released = released + 1
          work = true
        elseif c.provisional and u.key == c.provisional then
          local gid = calls.gid(resp.GroupId)
          if gid then
            job.rename = { from = c.provisional, to = gid, descs = u.applied }
            work = true
          else
            ngx.log(ngx.WARN, "imbill: app ", c.app.id, ": ", c.cmd, " answered OK without a GroupId; ",
              hold_standin(c) or ("the group stays counted as " .. c.provisional))
          end
        end
      end
    end
    if released > 0 then
      metrics.inc("imbill_reservations_released_total", { app = c.app.id, via = "rest" }, released)
    end
  end
  if work then settle.submit(job) end
  if c.merge then
    local fields = c.def.refused_items(c.merge, info_of)
    for field, items in pairs(fields) do
      local t = json.splice(text, field, items)
      if t then text = t end
    end
  end
  return text
end

-- The answer so far: its first chunk as it is, later ones in a list.
local function held(c)
  if c.buf then return concat(c.buf) end
  return c.first or ""
end

local function hold(c, chunk)
  if c.buf then
    c.buf[#c.buf + 1] = chunk
  elseif c.first then
    c.buf = { c.first, chunk }
  else
    c.first = chunk
  end
end

-- The answer of a relayed call's subrequest (below), in its body filter:
-- passed on to the capture up to relay.max bytes, and none of it past them,
-- so a worker never holds more of an answer than a settled call may have.
local function relay_bound(relay)
  local arg = ngx.arg
  if relay.over then
    arg[1] = ""
    return
  end
  local chunk = arg[1]
  if not chunk or chunk == "" then return end
  local size = relay.size + #chunk
  if size > relay.max then
    relay.over = true
    arg[1] = ""
    return
  end
  relay.size = size
end

function M.body_filter()
  local ctx = ngx.ctx
  local relay = ctx.imbill_relay
  if relay then return relay_bound(relay) end
  local c = ctx.imbill
  if not c or c.unknown or c.settled then return end
  local arg = ngx.arg
  local chunk, eof = arg[1], arg[2]
  if chunk and chunk ~= "" then
    local size = c.size + #chunk
    c.size = size
    if size > state.cfg.rest_max_body then
      -- too big to be one of these answers: pass it on, settle nothing
      c.unknown, c.oversized = true, true
      hold_standin(c)
      if c.merge then
        hold(c, chunk)
        arg[1] = held(c)
      end
      return
    end
    hold(c, chunk)
  end
  if not eof then
    if c.merge then arg[1] = nil end
    return
  end
  local text = finish(c, held(c))
  if c.merge then arg[1] = text end
end

-- No whole answer from Tencent: its outcome is unknown.
local function unsettled(c)
  -- Reservations
  -- stay counted (a cap is never exceeded by a guess), a new group's as a
  -- reservation its after callback confirms (hold_standin); shrinks are not
  -- applied.
  metrics.inc("imbill_settle_unknown_total", { app = c.app.id, action = c.cmd })
  if c.pending then
    settle.submit({ app = c.app, store = c.store, call = c.cmd, pending = c.pending, done = calls.ALL,
                   standin = pending_standin(c) })
  end
  local group = hold_standin(c)
  local what = " got no whole answer"
  if c.unshaped then
    what = " got an answer that is not Tencent's (a JSON object with ActionStatus OK or FAIL)"
  elseif c.oversized then
    what = " got an answer over " .. state.cfg.rest_max_body .. " bytes (rest_max_body)"
  end
  ngx.log(ngx.WARN, "imbill: app ", c.app.id, ": ", c.cmd, what, " (HTTP ", tostring(c.status),
    "); its reservations stay counted", group and ("; " .. group) or "")
end

function M.log()
  local c = ngx.ctx.imbill
  if not c or c.settled then return end
  return unsettled(c)
end

---------------------------------------------------------------------------
-- A Redis app's counted calls.  nginx's response phases cannot reach
-- Redis, so an answer proxied the usual way would be settled from a timer
-- after the client had it: a call the client sends at once (a friend
-- deleted, then added again; a failed import tried again) could be decided
-- before, on any node, and the late settlement would then leave the counts
-- away from Tencent's.  So the call goes to Tencent as a subrequest of the
-- same location (nginx runs no access phase for a subrequest: it is
-- proxied as it is), its answer is settled here, where Redis can be
-- reached, and only then sent on.  The subrequest carries the request's
-- method, query, headers and body.  Its answer is held in memory, so no more
-- of it than rest_max_body: past that (no answer of a counted call is that
-- long) its body filter drops the rest, and the client is answered 502, its
-- reservations kept as for an answer that never came.

local METHOD = { GET = ngx.HTTP_GET, POST = ngx.HTTP_POST, PUT = ngx.HTTP_PUT, DELETE = ngx.HTTP_DELETE,
                 PATCH = ngx.HTTP_PATCH, OPTIONS = ngx.HTTP_OPTIONS }
-- the answer's own framing, which nginx writes again for the client
local FRAMING = { ["content-length"] = true, ["transfer-encoding"] = true, connection = true,
                  ["keep-alive"] = true }

function relayed(c, body)
  local method = METHOD[ngx.req.get_method()]
  -- (another method: proxied, and settled from a timer)
  if not method then return end
  local max = state.cfg.rest_max_body
  local relay = { max = max, size = 0, over = false }
  local res = ngx.location.capture(ngx.var.uri, { method = method, args = ngx.var.args, body = body,
                                                  ctx = { imbill_relay = relay } })
  c.status = res.status
  if relay.over then
    c.unknown, c.oversized = true, true
    unsettled(c)
    ngx.ctx.imbill = nil
    ngx.status = ngx.HTTP_BAD_GATEWAY
    ngx.header.content_type = "text/plain"
    ngx.say("imbill: Tencent's answer to ", c.cmd, " is over ", max, " bytes (rest_max_body), more than the ",
      "gateway holds of an answer it settles; what Tencent did is not known here, and the call stays counted")
    return ngx.exit(ngx.HTTP_OK)
  end
  local text = res.body or ""
  local header = res.header
  if res.status ~= 200 or header["Content-Encoding"] then
    unknown_answer(c)
  elseif res.truncated then
    c.unknown = true
    hold_standin(c)
  else
    text = finish(c, text)
  end
  if not c.settled then unsettled(c) end
  -- settled: the filters and the log phase leave the answer as it is
  ngx.ctx.imbill = nil
  ngx.status = res.status
  for k, v in pairs(header) do
    if not FRAMING[lower(k)] then ngx.header[k] = v end
  end
  ngx.header.content_length = #text
  ngx.print(text)
  return ngx.exit(ngx.HTTP_OK)
end

return M
