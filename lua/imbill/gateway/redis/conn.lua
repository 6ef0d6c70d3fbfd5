--- A connection to one Redis server.  Inside nginx it is `nginx.redis`
-- (Debian's lua-nginx-redis) over a pooled cosocket, with its own connect,
-- send and read timeouts; outside nginx (the command, the specs) the same
-- calls go through resp.lua over LuaSocket.
--
--   local c, err = conn.connect("127.0.0.1", 6379, opts)
--   c:call("GET", "k")            -- value | false, Redis' error | nil, socket error
--   c:pipeline({ {...}, {...} })  -- replies ({ false, error } for an error reply)
--   c:keepalive()                 -- back to the pool (inside nginx)
local M = {}

local in_nginx = ngx ~= nil and ngx.socket ~= nil and ngx.get_phase ~= nil

local Conn = {}
Conn.__index = Conn

local function ms(s) return math.max(1, math.floor(s * 1000)) end

-- The AUTH of a connection: the password alone is the default user's; with
-- a username, an ACL user's.
local function auth_args(o)
  if o.username then return { "AUTH", o.username, o.password } end
  return { "AUTH", o.password }
end

--- The part of a pool's name that says whose connections it holds.  A
-- connection is pooled with the credentials it was authenticated with:
-- two entries on one server as different ACL users (or one without a
-- password) must never be handed each other's connections, which would let
-- an app's programs run with another user's rights.  The name carries a
-- digest of the credentials, never the password.  Inside nginx only.
function M.pool_tag(o)
  if not o.password then return "" end
  return ":" .. ngx.md5((o.username or "") .. "\0" .. o.password)
end

--- host: a name or an address, IPv6 without brackets ("::1"); opts:
-- connect_timeout, timeout (seconds), pool_size, backlog, keepalive (idle
-- seconds), username (an ACL user, with password), password, pool_tag
-- (M.pool_tag of the same credentials, made once by the caller).
function M.connect(host, port, o)
  if not in_nginx or ngx.get_phase() == "init" then
    local resp = require "imbill.gateway.redis.resp"
    local c, err = resp.connect(host, port, o.timeout)
    if not c then return nil, err end
    if o.password then
      local ok, aerr = c:call_args(auth_args(o))
      if not ok then
        c:close()
        return nil, "AUTH: " .. tostring(aerr)
      end
    end
    return c
  end
  local redis = require "nginx.redis"
  local r, err = redis:new()
  if not r then return nil, err end
  local sock = r._sock
  sock:settimeouts(ms(o.connect_timeout), ms(o.timeout), ms(o.timeout))
  -- nginx reads an IPv6 address only in brackets ("::1" alone is the host
  -- ":" and an invalid port); LuaSocket above only without them
  local at = host
  if host:find(":", 1, true) and host:sub(1, 1) ~= "[" then at = "[" .. host .. "]" end
  local ok, cerr = r:connect(at, port, { pool = "imbill-redis:" .. host .. ":" .. port .. (o.pool_tag or ""),
                                            pool_size = o.pool_size, backlog = o.backlog })
  if not ok then return nil, cerr end
  if o.password and r:get_reused_times() == 0 then
    local a, aerr
    if o.username then a, aerr = r:auth(o.username, o.password) else a, aerr = r:auth(o.password) end
    if not a then
      r:close()
      return nil, "AUTH: " .. tostring(aerr)
    end
  end
  return setmetatable({ r = r, keep = o.keepalive, pool = o.pool_size }, Conn)
end

function Conn:settimeout(t) self.r._sock:settimeouts(ms(t), ms(t), ms(t)) end

-- A command as RESP, one string: its words are the given lists one after
-- the other (a program's head, its keys, its arguments), never copied into
-- one list first.  One string, because the cosocket walks a table of pieces
-- in C with a call per piece and turns each number in it into a string:
-- with a program's 150 arguments that walk was a fifth of the node's CPU.
local LEN = {} -- "$<n>\r\n" for the lengths met so far (bounded)
local NLEN = 0
local function len_of(n)
  local s = LEN[n]
  if s then return s end
  s = "$" .. n .. "\r\n"
  if NLEN < 4096 then
    LEN[n] = s
    NLEN = NLEN + 1
  end
  return s
end
local concat = table.concat
local function encode(a, b, c)
  local n = #a + (b and #b or 0) + (c and #c or 0)
  local out = { "*" .. n .. "\r\n" }
  local j = 1
  for _, list in ipairs { a, b or {}, c or {} } do
    for i = 1, #list do
      local w = list[i]
      if type(w) ~= "string" then w = tostring(w) end
      out[j + 1], out[j + 2], out[j + 3] = len_of(#w), w, "\r\n"
      j = j + 3
    end
  end
  return concat(out, "", 1, j)
end
M.encode = encode

-- Commands go through nginx.redis's pipeline with their requests written
-- here: a program may have more arguments than a Lua call can take.
-- A reply nginx.redis cannot read (a length that is not a number: a server
-- that is not Redis, a reply garbled on its way) raises a Lua error inside
-- it; it is nil and what it was, as for a connection that failed, so the
-- call meets its app's failure policy instead of ending the request in a
-- Lua error (HTTP 500, the call's outcome lost).
function Conn:pipeline(cmds)
  local r = self.r
  r:init_pipeline(#cmds)
  for i, c in ipairs(cmds) do r._reqs[i] = c.encoded or encode(c) end
  local ok, res, err = pcall(r.commit_pipeline, r)
  if not ok then
    r:close()
    return nil, "not a Redis reply (" .. tostring(res):gsub("^.-:%d+: ", "") .. ")"
  end
  return res, err
end

--- One command from a list of its words (or { encoded = its RESP }): a value,
-- false and Redis' error, or nil and the socket's error.
function Conn:call_args(args)
  local res, err = self:pipeline({ args })
  if not res then return nil, err end
  local v = res[1]
  if type(v) == "table" and v[1] == false and #v == 2 then return false, v[2] end
  return v
end

function Conn:call(...) return self:call_args({ ... }) end

function Conn:keepalive()
  local ok = self.r:set_keepalive(ms(self.keep), self.pool)
  if not ok then self.r:close() end
end

function Conn:close() self.r:close() end

-- nginx.redis answers nil for a null; the callers compare with conn.null.
M.null = in_nginx and ngx.null or require("imbill.gateway.redis.resp").null
M.in_nginx = in_nginx

return M
