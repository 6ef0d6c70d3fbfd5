--- Test-only locations inside the Redis specs' nginx (/t/...): hand-built
-- plans through the Redis store, the login queue, the journal, a forced
-- sweep.  Not part of the gateway.
local state = require "imbill.gateway.state"
local spec_t = require "spec_t"

local ngx = ngx
local M = {}

local send, store_of = spec_t.send, spec_t.store_of

-- the one-node suite's locations (plan, sweep, ...), with these added
local H = setmetatable({}, { __index = spec_t.H })

-- Makes the store's next `n` answers from Redis lost after Redis ran the
-- program (a timeout); returns the function that puts the client back.
local function lose_answers(store, n)
  local client, lose = store.client, n
  local had, real = rawget(client, "run"), client.run
  client.run = function(self, slot, keys, argv, deadline)
    local r, err, st = real(self, slot, keys, argv, deadline)
    if lose > 0 and r then
      lose = lose - 1
      return nil, "timeout (an answer the spec lost)", "unknown"
    end
    return r, err, st
  end
  return function() client.run = had end
end

-- Replays the journal until it is empty, at most `tries` times `nap` apart.
local function drain(store, tries, nap)
  local journal = require "imbill.gateway.redis.journal"
  for _ = 1, tries do
    journal.replay(store)
    if journal.size(store) == 0 then return end
    ngx.sleep(nap)
  end
end

-- The pending settlement of a REST create_group of `group` (owner o1) in
-- `state`, as the store journals one whose decision Redis never ran; the
-- decision sent `age` seconds ago.
local function pending_create(app, group, state_, age)
  local units_mod = require "imbill.gateway.units"
  local calls = require "imbill.gateway.calls"
  local smod = require "imbill.gateway.redis.store"
  local u = calls.CALLS["group_open_http_svc/create_group"].units({ Type = "Public", GroupId = group,
                                                                     Owner_Account = "o1" })
  units_mod.build(app, u, ngx.time(), ngx.time())
  local pid, w = smod.new_pid()
  w = w - math.ceil((age or 0) / 10)
  local descs = {}
  for j, st in ipairs(u[1].steps) do descs[j] = smod.describe(st) end
  return { state = state_, pid = pid, w = w, units = { { key = u[1].key, descs = descs, pos = 1 } } }
end

-- Empties this node's dicts and counters (Redis is flushed by the spec).
function H.flush()
  for _, rs in pairs(state.redis) do
    state.clear_damage(rs)
    rs.jdict:flush_all()
    rs.jdict:flush_expired()
    rs.meta:delete("redis_up:" .. rs.rname)
    rs.meta:delete("logins_waiting:" .. rs.rname)
    -- the marks of counts this node saw in Redis (the spec flushes Redis)
    for _, k in ipairs(rs.meta:get_keys(0)) do
      if k:sub(1, 6) == "epoch:" then rs.meta:delete(k) end
    end
  end
  return spec_t.H.flush()
end

-- What waits on this node: the journal, the logins its workers hold (after
-- flushing this worker's, unless ?peek=).
function H.waiting()
  local flush = require "imbill.gateway.redis.flush"
  local journal = require "imbill.gateway.redis.journal"
  local out = { journal = 0, queue = 0 }
  for _, rs in pairs(state.redis) do
    if not ngx.var.arg_peek then flush.now(rs) end
    out.queue = out.queue + flush.waiting(rs)
    out.journal = out.journal + journal.size(rs)
    if ngx.var.arg_replay then journal.replay(rs) end
  end
  return send(out)
end

function H.usage()
  local app = state.cfg.apps[ngx.var.arg_app]
  local ok, u = pcall(require("imbill.gateway").usage_of, app.id, ngx.var.arg_month)
  if not ok then return send({ error = tostring(u) }, 500) end
  return send(u)
end

-- Microseconds per piece of a Redis-checked create_group, in one worker.
function H.bench()
  local units_mod = require "imbill.gateway.units"
  local calls = require "imbill.gateway.calls"
  local program = require "imbill.gateway.redis.program"
  local appid = ngx.var.arg_app
  local n = tonumber(ngx.var.arg_n) or 2000
  local store, app = store_of(appid)
  local def = calls.CALLS["group_open_http_svc/create_group"]
  local now = ngx.time()
  local out = {}
  local function time(name, f)
    ngx.update_time()
    local c0, w0 = os.clock(), ngx.now()
    for i = 1, n do f(i) end
    ngx.update_time()
    out[name] = string.format("cpu %.1f us, wall %.1f us", (os.clock() - c0) * 1e6 / n, (ngx.now() - w0) * 1e6 / n)
  end
  time("units+build", function(i)
    local u = def.units({ Type = "Public", GroupId = "bb" .. i, Owner_Account = "o" .. i })
    units_mod.build(app, u, now, now)
  end)
  local ctx = store:ctx(appid)
  time("program", function(i)
    local u = def.units({ Type = "Public", GroupId = "bc" .. i, Owner_Account = "o" .. i })
    units_mod.build(app, u, now, now)
    local p = program.new(ctx, "x" .. i, 1)
    p:unit(u[1].steps, true)
  end)
  time("apply_units", function(i)
    local u = def.units({ Type = "Public", GroupId = "bd" .. i, Owner_Account = "o" .. i })
    units_mod.build(app, u, now, now)
    store:apply_units(app, u)
  end)
  local progs = {}
  for i = 1, n do
    local u = def.units({ Type = "Public", GroupId = "be" .. i, Owner_Account = "o" .. i })
    units_mod.build(app, u, now, now)
    local p = program.new(ctx, "y" .. i, 1)
    p:unit(u[1].steps, true)
    progs[i] = p
  end
  time("client:run", function(i)
    local p = progs[i]
    store.client:run(ctx.slot, p.keys, p.argv, store:deadline())
  end)
  local sha = store.client.sha
  time("evalsha empty program", function()
    store.client:command(ctx.slot, store:deadline(), "EVALSHA", sha, "1", "imb:{" .. appid .. "}:c:layout", "imb1",
      ctx.tag, "", "0", "", "600")
  end)
  local one = store.client:command(ctx.slot, store:deadline(), "SCRIPT", "LOAD", "return 1")
  time("evalsha return 1", function()
    store.client:command(ctx.slot, store:deadline(), "EVALSHA", one, "0")
  end)
  local sleepy = store.client:command(ctx.slot, store:deadline(), "SCRIPT", "LOAD",
    "local x = 0 for i = 1, 3000 do x = x + i end return 1")
  time("evalsha 50us of work", function()
    store.client:command(ctx.slot, store:deadline(), "EVALSHA", sleepy, "0")
  end)
  time("ping", function()
    store.client:command(ctx.slot, store:deadline(), "PING")
  end)
  return send(out)
end

-- One command through a client that asks the Redis at ?first= (a cluster
-- node); the script answers "ok" where the key {redirect}:target is set
-- (the spec sets it on the single Redis only) and everywhere else the error
-- reply ?reply= (a redirection as a cluster node writes it; "@PORT@" stands
-- for the single Redis' port): the reply the client ends with, or its error.
function H.redirect()
  local cluster = require "imbill.gateway.redis.cluster"
  local cfg = state.redis.main.cfg
  local port = cfg.servers[1]:match(":(%d+)$")
  local reply = ngx.unescape_uri(ngx.var.arg_reply):gsub("@PORT@", port)
  -- ?timeout=: each read's, for a stand-in server on a loaded machine (the
  -- entry's own otherwise)
  local client = cluster.new(setmetatable({ cluster = false, servers = { ngx.var.arg_first },
                                            timeout = tonumber(ngx.var.arg_timeout) }, { __index = cfg }))
  local script = "if redis.call('EXISTS', KEYS[1]) == 1 then return 'ok' end return redis.error_reply(ARGV[1])"
  -- a deadline for a loaded machine: two nodes, three round trips
  local ok, r, err, sent = pcall(client.send, client, 0, { "EVAL", script, "1", "{redirect}:target", reply },
    cluster.now() + (tonumber(ngx.var.arg_deadline) or 5))
  if not ok then return send({ thrown = tostring(r) }, 500) end
  return send { reply = r, err = err, sent = sent }
end

-- A journaled settlement of a REST call an open app let through while Redis
-- could not be reached (?app=, ?group=): the decision never ran, Tencent
-- created the group.  The journal's first replay runs it in Redis, but its
-- answer is lost (a timeout, as when Redis is slow or the connection drops);
-- then a REST destroy_group of the group is decided on another node (which
-- does not see this node's journal: a decision here would wait for it);
-- then the journal replays until it is done.  Answers the destroy's status
-- and what is left in the journal.
function H.lostreplay()
  local units_mod = require "imbill.gateway.units"
  local calls = require "imbill.gateway.calls"
  local journal = require "imbill.gateway.redis.journal"
  local appid, group = ngx.var.arg_app, ngx.var.arg_group
  local store, app = store_of(appid)
  local pend = pending_create(app, group, "unsent")
  local restore = lose_answers(store, 1)
  local lock = "jlock:" .. store.rname
  local out = {}
  local ok, err = pcall(function()
    -- no other worker replays between the append and this replay (nothing
    -- yields), nor while the destroy is decided (the lock is held)
    assert(journal.append(store, { kind = "pending", app = appid, pending = pend, did = { true }, now = ngx.time() }))
    journal.replay(store)
    out.after_lost = journal.size(store)
    assert(store.meta:safe_add(lock, "spec", 30), "another worker replays")
    local d = calls.CALLS["group_open_http_svc/destroy_group"].units({ GroupId = group })
    units_mod.build(app, d, ngx.time(), ngx.time())
    local pending = journal.pending
    journal.pending = function() return false end -- another node's view
    local decided, derr = pcall(store.apply_units, store, app, d)
    journal.pending = pending
    assert(decided and derr, derr)
    out.destroy = d[1].status
    store.meta:delete(lock)
    drain(store, 50, 0.05)
    out.left = journal.size(store)
  end)
  restore()
  store.meta:delete(lock)
  if not ok then error(err, 0) end
  return send(out)
end

-- A REST create_group (?app=, ?group=) an open app let through when Redis'
-- answer to its decision was lost (state "unknown"), Tencent having done
-- it, journaled for settling: its decision never reached Redis, so the
-- settlement must record in Redis that it never will run, then count it.
-- ?age=: the decision was sent that many seconds ago.  Replays once;
-- answers what is left in the journal.
function H.unknown()
  local journal = require "imbill.gateway.redis.journal"
  local appid, group = ngx.var.arg_app, ngx.var.arg_group
  local store, app = store_of(appid)
  local pend = pending_create(app, group, "unknown", tonumber(ngx.var.arg_age))
  assert(journal.append(store, { kind = "pending", app = appid, pending = pend, did = { true }, now = ngx.time() }))
  journal.replay(store)
  return send { left = journal.size(store) }
end

-- Fills this node's journal of the single Redis (?app=) until an entry is
-- refused for want of room (?raw=1: entries without their program ids, as
-- an earlier version wrote them, written straight to the dict) (no replay meanwhile: the lock is held), then
-- replays it: how many entries were taken, how many are readable before
-- the replay, how many the replay did and how many are readable after it.
function H.jfull()
  local journal = require "imbill.gateway.redis.journal"
  local store = state.redis.main
  local d, meta = store.jdict, store.meta
  local lock = "jlock:" .. store.rname
  assert(meta:safe_add(lock, "spec", 30), "another worker replays")
  local out = { taken = 0 }
  local ok, err = pcall(function()
    for i = 1, 1000000 do
      local pad = string.rep("x", 150 + (i * 37) % 900)
      local e = { kind = "settle", app = ngx.var.arg_app, call = "spec", pad = pad }
      if ngx.var.arg_raw then
        -- as an earlier version wrote them: no program id yet
        local n = d:incr(store.rname .. "|tail", 1, 0)
        if not d:safe_set(store.rname .. "|e:" .. n, require("cjson").encode(e)) then break end
        d:incr(store.rname .. "|app:" .. e.app, 1, 0)
      elseif not journal.append(store, e) then
        break
      end
      out.taken = out.taken + 1
    end
    local function readable()
      local k = 0
      for n = (d:get(store.rname .. "|head") or 0) + 1, d:get(store.rname .. "|tail") or 0 do
        if d:get(store.rname .. "|e:" .. n) then k = k + 1 end
      end
      return k
    end
    out.readable = readable()
    meta:delete(lock)
    out.replayed = journal.replay(store)
    out.readable_after = readable()
  end)
  meta:delete(lock)
  if not ok then error(err, 0) end
  return send(out)
end

-- One journal entry of app ?app= for the single Redis, then lost
-- (?how=hole: its text gone, as when a rewrite found no room; ?how=garbled:
-- its text unreadable), with the replay held off meanwhile; then replayed
-- until the journal is empty.  Answers whether the app still counts as
-- having entries waiting, and the journal's size.
function H.jlost()
  local journal = require "imbill.gateway.redis.journal"
  local store = state.redis.main
  local d, meta = store.jdict, store.meta
  local lock = "jlock:" .. store.rname
  assert(meta:safe_add(lock, "spec", 30), "another worker replays")
  local ok, err = pcall(function()
    assert(journal.append(store, { kind = "settle", app = ngx.var.arg_app, call = "spec" }))
    local k = store.rname .. "|e:" .. d:get(store.rname .. "|tail")
    if ngx.var.arg_how == "hole" then d:delete(k) else d:set(k, "{\"app\":\"" .. ngx.var.arg_app .. "\",") end
  end)
  meta:delete(lock)
  if not ok then error(err, 0) end
  local out = { waiting_before = journal.pending(store, ngx.var.arg_app) }
  drain(store, 100, 0.1)
  out.size, out.waiting = journal.size(store), journal.pending(store, ngx.var.arg_app)
  return send(out)
end

-- ?app=: a settlement of the app waits in the journal (written with the
-- replay held off, so no timer replays it first), then a REST call's
-- settlement comes from the access phase, as rest.lua submits one while its
-- client waits.  Answers what waits in the journal right after, before any
-- replay of a timer: the earlier settlement must have been replayed first
-- and this one applied, not both left waiting.  ?friends=1: the earlier
-- settlement reads Redis (a user's friends, as friend_delete_all's does),
-- for a Redis that does not answer; `took` is how long the settlement took.
function H.jorder()
  local journal = require "imbill.gateway.redis.journal"
  local appid = ngx.var.arg_app
  local store, app = store_of(appid)
  local meta = store.meta
  local lock = "jlock:" .. store.rname
  assert(meta:safe_add(lock, "spec", 30), "another worker replays")
  local ok, err = pcall(function()
    assert(journal.append(store, { kind = "settle", app = appid, call = "spec-earlier",
                                   all_friends = ngx.var.arg_friends and { "jorder-u" } or nil }))
  end)
  meta:delete(lock)
  if not ok then error(err, 0) end
  local out = { waiting_before = journal.pending(store, appid) }
  ngx.update_time()
  local t0 = ngx.now()
  assert(store:settle({ app = app, store = store, call = "spec-now", foreground = true }))
  ngx.update_time()
  out.took = ngx.now() - t0
  out.size, out.waiting = journal.size(store), journal.pending(store, appid)
  return send(out)
end

-- Tencent's after-create callback of a group created without an id
-- (?app=, ?group= its id, ?owner=, ?name=, a Public group), counted as
-- callback.lua counts it, whose first answer from Redis is lost after the
-- program ran (a timeout): journaled under the program's id, then
-- replayed until the journal is empty.  Answers what is left in it.
function H.lostafter()
  local units_mod = require "imbill.gateway.units"
  local reserve = require "imbill.gateway.reserve"
  local journal = require "imbill.gateway.redis.journal"
  local core = require "imbill.gateway.core"
  local appid, g, owner = ngx.var.arg_app, ngx.unescape_uri(ngx.var.arg_group), ngx.var.arg_owner
  local store, app = store_of(appid)
  local units = { { key = g, acts = {
    { kind = core.A.IMB_A_CREATE_GROUP, subj = { group = g }, gtype = require("imbill.gateway.calls").GTYPES.Public },
    { kind = core.A.IMB_A_JOIN, subj = { group = g, user = owner } } } } }
  units_mod.build(app, units, ngx.time(), ngx.time())
  local match = reserve.match("create", owner, require("imbill.gateway.calls").type_key("Public"), ngx.var.arg_name)
  local spec = { app = appid, create = { match = match, group = g } }
  local restore = lose_answers(store, 1)
  local ok, err = pcall(function() assert(store:count_after(app, units, nil, spec)) end)
  restore()
  if not ok then error(err, 0) end
  local out = { status = units[1].status }
  drain(store, 50, 0.05)
  out.left = journal.size(store)
  return send(out)
end

-- ?app= ?n=: n logins of distinct users (b1 ... bn) queued in this worker
-- today and flushed as one batch (the app's Redis entry takes batches that
-- large); answers what waits afterwards and whether the store is damaged.
function H.bulklogins()
  local flush = require "imbill.gateway.redis.flush"
  local journal = require "imbill.gateway.redis.journal"
  local store = store_of(ngx.var.arg_app)
  local now = ngx.time()
  for i = 1, tonumber(ngx.var.arg_n) do flush.add(store, ngx.var.arg_app, "b" .. i, now, now) end
  flush.now(store)
  return send({ queue = flush.waiting(store), journal = journal.size(store),
                damaged = store.meta:get("damaged:" .. store.name) or false })
end

function M.handle() return spec_t.serve(H) end

return M
