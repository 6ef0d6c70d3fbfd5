--- Routing to one Redis server or a Redis Cluster, and the program call.
--
-- One Redis: every call goes to it.  A cluster: every key of an app carries
-- the app's hash tag, so an app is one slot; the client keeps the cluster's
-- slot map (CLUSTER SLOTS), sends each call to the slot's master, and
-- follows the cluster's redirections:
--   MOVED slot addr   the slot lives elsewhere now: remember it, refresh the
--                     map, send there;
--   ASK slot addr     the slot is being migrated and this call's keys are
--                     on the target: send there once, after ASKING;
--   TRYAGAIN          some of the call's keys have moved and some not yet
--                     (a migration in progress): wait a little and resend;
--   CLUSTERDOWN, LOADING, MASTERDOWN, BUSY: wait and resend.
-- Everything is bounded by the call's deadline: a call either gets an
-- answer in time or returns the error, never later.
--
-- A program whose answer was lost (a timeout, a connection closed after the
-- program was sent) may or may not have run.  Resending it is safe (its
-- marker, or its compare-and-set, makes a second run change nothing), so
-- the call resends within its deadline; past it, the caller is told the
-- outcome is "unknown" and resolves it later (journal.lua).
local conn = require "imbill.gateway.redis.conn"
local script = require "imbill.gateway.redis.script"

local M = {}
local Client = {}
Client.__index = Client

-- CRC16 (XMODEM), Redis Cluster's key hash: slot = crc16(tag) % 16384.
local bxor, band, lshift, rshift
do
  local ok, bit = pcall(require, "bit")
  if ok then
    bxor, band, lshift, rshift = bit.bxor, bit.band, bit.lshift, bit.rshift
  else
    bxor = load("return function(a, b) return a ~ b end")()
    band = load("return function(a, b) return a & b end")()
    lshift = load("return function(a, b) return a << b end")()
    rshift = load("return function(a, b) return a >> b end")()
  end
end
local CRC = {}
for i = 0, 255 do
  local c = lshift(i, 8)
  for _ = 1, 8 do
    if band(c, 0x8000) ~= 0 then c = bxor(lshift(c, 1), 0x1021) else c = lshift(c, 1) end
    c = band(c, 0xFFFF)
  end
  CRC[i] = c
end
function M.crc16(s)
  local c = 0
  for i = 1, #s do c = band(bxor(lshift(c, 8), CRC[band(bxor(rshift(c, 8), s:byte(i)), 0xFF)]), 0xFFFF) end
  return c
end
function M.slot_of_tag(tag) return M.crc16(tag) % 16384 end

-- nginx's clock is read at every turn of its event loop, so after any wait
-- (a connect, a read) it is current; no update is forced.
local now
if ngx and ngx.now then
  now = ngx.now
else
  now = require("socket").gettime
end

local function pause(s)
  if ngx and ngx.sleep then ngx.sleep(s) else require("socket").sleep(s) end
end

-- Redirections followed, for the status page (inside nginx).
local function count_redirect(kind)
  if ngx and ngx.shared then
    local ok, metrics = pcall(require, "imbill.gateway.metrics")
    if ok then metrics.inc("imbill_redis_redirects_total", { kind = kind }) end
  end
end

-- "host:port" -> the host (without the brackets of "[::1]:6379") and the
-- port, or nil.  Redis writes an IPv6 node without brackets ("::1:6379", in
-- CLUSTER SLOTS and in MOVED): the port is what follows the last colon.
local function split_addr(a)
  if type(a) ~= "string" then return nil end
  local h, p = a:match("^%[(.*)%]:(%d+)$")
  if not h then h, p = a:match("^(.*):(%d+)$") end
  p = tonumber(p)
  if not h or h == "" or not p or p < 1 or p > 65535 then return nil end
  return h, p
end
M.split_addr = split_addr

-- Where a redirection (MOVED, ASK) sends the call.  A cluster whose nodes do
-- not know how clients reach them (cluster-preferred-endpoint-type
-- unknown-endpoint) writes ":port" alone: the host is the one of the node
-- that answered.
local function redirected(a, from)
  if type(a) == "string" and a:find("^:%d+$") then
    local h = split_addr(from)
    if h then return h .. a end
  end
  return a
end
M.redirected = redirected

--- cfg: { servers = { "host:port", ... }, cluster = bool, connect_timeout,
-- timeout, pool_size, backlog, keepalive, username, password }
function M.new(cfg)
  return setmetatable({ cfg = cfg, servers = cfg.servers, cluster = cfg.cluster, slots = nil, map_at = 0,
                        sha = nil, next_seed = 1 }, Client)
end

function Client:connect(addr, deadline)
  local h, p = split_addr(addr)
  if not h then
    local shown = tostring(addr)
    if #shown > 60 then shown = shown:sub(1, 60) .. "..." end
    return nil, "not an address a Redis can be reached at (\"host:port\"): \"" .. shown .. "\""
  end
  local cfg = self.cfg
  local left = deadline - now()
  if left <= 0 then return nil, "timeout" end
  -- the connect timeout also bounds the wait for a pooled connection when
  -- all of them are busy: the call's deadline, not the TCP connect's, is the
  -- limit then
  if not self.pool_tag and conn.in_nginx then self.pool_tag = conn.pool_tag(cfg) end
  local o = { connect_timeout = math.min(math.max(cfg.connect_timeout, left / 2), left),
              timeout = math.min(cfg.timeout, left),
              pool_size = cfg.pool_size, backlog = cfg.backlog, keepalive = cfg.keepalive, username = cfg.username,
              password = cfg.password, pool_tag = self.pool_tag }
  return conn.connect(h, p, o)
end

-- The slot map, from any node that answers.
function Client:refresh(deadline)
  local seeds = {}
  local known = {}
  for _, s in ipairs(self.servers) do
    if not known[s] then seeds[#seeds + 1], known[s] = s, true end
  end
  if self.slots then
    for _, a in pairs(self.masters or {}) do
      if not known[a] then seeds[#seeds + 1], known[a] = a, true end
    end
  end
  local first = self.next_seed
  self.next_seed = first % #seeds + 1
  local last_err
  for i = 0, #seeds - 1 do
    local addr = seeds[(first - 1 + i) % #seeds + 1]
    local c, err = self:connect(addr, deadline)
    if c then
      local r, rerr = c:call("CLUSTER", "SLOTS")
      if type(r) == "table" then
        c:keepalive()
        local slots, masters = {}, {}
        local bad = false
        for _, range in ipairs(r) do
          local node = type(range) == "table" and range[3]
          local lo, hi = type(range) == "table" and tonumber(range[1]), type(range) == "table" and tonumber(range[2])
          if type(node) ~= "table" or type(node[1]) ~= "string" or not tonumber(node[2]) or not lo or not hi
            or lo < 0 or hi > 16383 or lo > hi or lo % 1 ~= 0 or hi % 1 ~= 0 then
            bad = true
            break
          end
          -- an empty host: the node does not know how clients reach it, the
          -- host is the one asked
          local a = node[1] .. ":" .. tostring(node[2])
          if node[1] == "" then a = redirected(a, addr) end
          masters[a] = a
          for s = lo, hi do slots[s] = a end
        end
        if not bad then
          self.slots, self.masters, self.map_at = slots, masters, now()
          return true
        end
        rerr = "CLUSTER SLOTS answered a range that is not { first, last, { host, port } } within 0-16383"
      end
      c:close()
      last_err = rerr
    else
      last_err = err
    end
  end
  return nil, "no node gave the slot map: " .. tostring(last_err)
end

function Client:addr_of(slot, deadline)
  if not self.cluster then return self.servers[1] end
  if not self.slots or self.stale then
    self.stale = false
    local ok = self:refresh(deadline)
    if not ok and not self.slots then return self.servers[1] end
  end
  return self.slots[slot] or self.servers[1]
end

local RETRY = { TRYAGAIN = 0.02, CLUSTERDOWN = 0.05, LOADING = 0.05, MASTERDOWN = 0.05, BUSY = 0.05 }

--- Sends one command (a list: { "EVALSHA", ... }) for `slot`, following
-- the cluster until `deadline` (seconds, absolute).  Returns the reply, or
-- nil (no answer in time) or false (Redis answered with an error), the
-- error and whether a copy of the command may have run ("unknown") or
-- surely did not ("unsent").  `on_missing(client, addr, deadline, err)`,
-- when given, is asked first about each error reply: it returns false when
-- the error is not that the node lacks the interpreter, true once it has
-- loaded it (or changed the command) so the call goes again, or nil and
-- why it could not.
function Client:send(slot, cmd, deadline, on_missing)
  local ask, sent, last = nil, false, "no attempt"
  while true do
    if now() >= deadline then return nil, "redis: " .. last, sent and "unknown" or "unsent" end
    local addr = ask or self:addr_of(slot, deadline)
    local c, err = self:connect(addr, deadline)
    if not c then
      last = addr .. ": " .. tostring(err)
      if self.cluster then self.stale = true end
      ask = nil
      pause(0.01)
    else
      local r, rerr
      if ask then
        local rs
        rs, rerr = c:pipeline({ { "ASKING" }, cmd })
        if rs then
          r = rs[2]
          if type(r) == "table" and r[1] == false then r, rerr = false, r[2] end
        end
        ask = nil
      else
        r, rerr = c:call_args(cmd)
      end
      if r == nil then
        c:close()
        sent = true
        last = addr .. ": " .. tostring(rerr)
        if self.cluster then self.stale = true end
      elseif r == false then
        c:keepalive()
        local word = rerr:match("^(%u+)")
        local again, lerr = false, nil
        if on_missing then again, lerr = on_missing(self, addr, deadline, rerr) end
        if again == nil then return nil, "redis: " .. tostring(lerr), sent and "unknown" or "unsent" end
        -- again: the interpreter is there now, the call goes again as it is
        if not again then
          if word == "MOVED" then
            local s, a = rerr:match("^MOVED (%d+) (%S+)")
            if self.slots and s then self.slots[tonumber(s)] = redirected(a, addr) end
            self.stale = true
            count_redirect("moved")
          elseif word == "ASK" then
            ask = redirected(rerr:match("^ASK %d+ (%S+)"), addr)
            count_redirect("ask")
          elseif RETRY[word] then
            if word == "TRYAGAIN" then count_redirect("tryagain") end
            last = rerr
            pause(RETRY[word])
          else
            -- Redis' own answer (WRONGTYPE, a script's error): false, as a
            -- connection gives it, never nil, which means Redis was not reached
            return false, "redis: " .. rerr, sent and "unknown" or "unsent"
          end
        end
      else
        c:keepalive()
        return r
      end
    end
  end
end

-- What an error reply to `verb` (FCALL, EVALSHA, FUNCTION) says the node
-- lacks, nothing of the call having run: "script" (NOSCRIPT), "function"
-- (the library is not loaded), "functions" (a Redis before 7.0, or a user
-- whose ACL refuses functions: scripts instead), or nil.
local function lacking(verb, err)
  if err:find("^NOSCRIPT") then return "script" end
  if verb == "EVALSHA" then return nil end
  if err:find("^ERR Function not found") then return "function" end
  if err:find("^ERR unknown") or err:find("^NOPERM") then return "functions" end
  return nil
end

-- One command on the node at addr.  Returns its reply, or nil and the error.
local function on_node(self, addr, deadline, ...)
  local c, err = self:connect(addr, deadline)
  if not c then return nil, err end
  local r, rerr = c:call(...)
  if r == nil then
    c:close()
    return nil, rerr
  end
  c:keepalive()
  return r, rerr
end

--- Runs a program (keys, argv) for `slot`: by FCALL where the node has
-- functions, else by EVALSHA.  Returns the interpreter's reply, or nil
-- (false: an error reply), error, "unknown" | "unsent".
function Client:run(slot, keys, argv, deadline)
  local fname, library = script.library()
  if self.functions == false then fname = nil end
  if not self.sha then self.sha = script.sha1() end
  local head = fname and { "FCALL", fname, #keys } or { "EVALSHA", self.sha or "0", #keys }
  -- written once; a node that has not the interpreter gets it and the call
  -- again
  local cmd = { encoded = conn.encode(head, keys, argv) }
  local function as_script()
    self.functions = false
    head = { "EVALSHA", self.sha or "0", #keys }
    cmd.encoded = conn.encode(head, keys, argv)
  end
  return self:send(slot, cmd, deadline, function(client, addr, dl, err)
    local lack = lacking(head[1], err)
    if not lack then return false end
    if lack == "function" then
      local ok, lerr = on_node(client, addr, dl, "FUNCTION", "LOAD", library)
      -- another worker may have loaded it first
      if ok or tostring(lerr):find("already exists", 1, true) then return true end
      if not (lerr and lacking("FUNCTION", lerr) == "functions") then return nil, "FUNCTION LOAD: " .. tostring(lerr) end
      lack = "functions"
    end
    if lack == "functions" then
      -- scripts from now on
      as_script()
      return true
    end
    local sha, lerr = on_node(client, addr, dl, "SCRIPT", "LOAD", script.text())
    if not sha then return nil, "SCRIPT LOAD: " .. tostring(lerr) end
    client.sha = sha
    head[2] = sha
    cmd.encoded = conn.encode(head, keys, argv)
    return true
  end)
end

--- Several reads for `slot` in one round trip, following the cluster as
-- send does, until the deadline:
--   ASK: the commands answered ASK go to the node named, each after ASKING
--        (the slot map unchanged); the others keep the answers they got;
--   MOVED: the slot map is corrected and the commands sent again;
--   TRYAGAIN and the other waits: sent again after a pause.
-- A transaction (MULTI ... EXEC) is answered whole by one node: by the node
-- an ASK names when every command in it was answered ASK (all its keys
-- have left), else it is sent again whole (its keys are split between the
-- two nodes of a migration: it waits, as a program does on TRYAGAIN).
-- Returns the replies ({ false, error } for an error reply), or nil and
-- the error.
function Client:pipeline(slot, cmds, deadline)
  local n = #cmds
  local tx = n >= 2 and cmds[1][1] == "MULTI" and cmds[n][1] == "EXEC"
  local out, todo, asked = {}, {}, {}
  for i = 1, n do todo[i] = i end
  local last = "no attempt"
  while true do
    -- the commands an ASK sent elsewhere first, then the slot's master's
    local addr, idx = next(asked)
    if addr then
      asked[addr] = nil
    elseif #todo == 0 then
      return out
    else
      idx, todo = todo, {}
    end
    if now() >= deadline then return nil, "redis: " .. last end
    local asking = addr ~= nil
    if not asking then addr = self:addr_of(slot, deadline) end
    local c, err = self:connect(addr, deadline)
    local rs, rerr
    if not c then
      last = addr .. ": " .. tostring(err)
    else
      local send, at = {}, {}
      for k, i in ipairs(idx) do
        -- ASKING holds for the next command, or for a whole transaction
        -- sent after it
        if asking and not (tx and i > 1) then send[#send + 1] = { "ASKING" } end
        send[#send + 1] = cmds[i]
        at[k] = #send
      end
      rs, rerr = c:pipeline(send)
      if not rs then
        c:close()
        last = addr .. ": " .. tostring(rerr)
      else
        c:keepalive()
        local got = {}
        for k = 1, #idx do got[k] = rs[at[k]] end
        rs = got
      end
    end
    if not rs then
      if self.cluster then self.stale = true end
      for _, i in ipairs(idx) do todo[#todo + 1] = i end
      pause(0.01)
    else
      local wait, moved, asks = nil, false, {}
      for k, i in ipairs(idx) do
        local r = rs[k]
        local text = type(r) == "table" and r[1] == false and tostring(r[2]) or nil
        local word = text and text:match("^(%u+)")
        local again = true
        local to = word == "ASK" and redirected(text:match("^ASK %d+ (%S+)"), addr)
        if to then
          asks[k] = to
          last, again = text, false
          if not tx then
            local l = asked[asks[k]]
            if not l then
              l = {}
              asked[asks[k]] = l
            end
            l[#l + 1] = i
          end
        elseif word == "MOVED" then
          local s, a = text:match("^MOVED (%d+) (%S+)")
          if self.slots and s then self.slots[tonumber(s)] = redirected(a, addr) end
          self.stale, moved, last = true, true, text
        elseif word == "ASK" or (word and RETRY[word]) then
          -- (an ASK that names no node: as a wait)
          wait, last = RETRY[word] or 0.02, text
          if word == "TRYAGAIN" then count_redirect("tryagain") end
        else
          again = false
          if not tx then out[i] = r end
        end
        if again and not tx then todo[#todo + 1] = i end
      end
      if moved then count_redirect("moved") end
      if next(asks) then count_redirect("ask") end
      if tx then
        -- every command queued in it answered ASK, to one node: it goes
        -- there whole; any other redirection: again whole
        local to, all = nil, not wait and not moved
        for k = 2, n - 1 do
          local a = asks[k]
          if not a or (to and a ~= to) then all = false end
          to = to or a
        end
        if all and to then
          asked[to] = idx
        elseif wait or moved or next(asks) then
          todo = idx
          wait = wait or 0.02
        else
          for k, i in ipairs(idx) do out[i] = rs[k] end
        end
      end
      if wait then pause(wait) end
    end
  end
end

--- One plain command (reads: the usage, reservations due).
function Client:command(slot, deadline, ...)
  return self:send(slot, { ... }, deadline)
end

--- The same from a list of the command's words.
function Client:command_args(slot, deadline, args)
  return self:send(slot, args, deadline)
end

M.now = now
M.pause = pause

return M
