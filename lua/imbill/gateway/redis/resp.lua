--- A Redis connection over LuaSocket, for use outside nginx (the `imbill`
-- command reading an app's usage, the specs, the memory measurement).
-- Inside nginx the gateway talks through `nginx.redis` (conn.lua); both
-- answer the same way: a value, or false and Redis' error text, or nil and
-- the socket's error.
local socket = require "socket"

local M = {}
local Conn = {}
Conn.__index = Conn

M.null = setmetatable({}, { __tostring = function() return "null" end })

function M.connect(host, port, timeout)
  local s, err = socket.tcp()
  if not s then return nil, err end
  s:settimeout(timeout or 2)
  local ok, cerr = s:connect(host, port)
  if not ok then
    s:close()
    return nil, cerr
  end
  s:setoption("tcp-nodelay", true)
  return setmetatable({ s = s }, Conn)
end

-- conn.lua's encoder, the one RESP writer (it needs no nginx)
local function encode(args)
  if args.encoded then return args.encoded end
  return require("imbill.gateway.redis.conn").encode(args)
end
M.encode = encode

-- A reply that is not RESP (a server that is not Redis, or a reply cut or
-- garbled): nil and what it was, as for a connection that failed.
local function garbled(line)
  return nil, "not a Redis reply: " .. string.format("%q", line:sub(1, 40))
end

local function read(s)
  local line, err = s:receive("*l")
  if not line then return nil, err end
  local p, rest = line:sub(1, 1), line:sub(2)
  if p == "+" then return rest
  elseif p == "-" then return false, rest
  elseif p == ":" then
    if not rest:find("^%-?%d+$") then return garbled(line) end
    return tonumber(rest)
  elseif p == "$" then
    if not rest:find("^%-?%d+$") then return garbled(line) end
    local n = tonumber(rest)
    if n < 0 then return M.null end
    local data, derr = s:receive(n + 2)
    if not data then return nil, derr end
    if data:sub(-2) ~= "\r\n" then return garbled(line) end
    return data:sub(1, n)
  elseif p == "*" then
    if not rest:find("^%-?%d+$") then return garbled(line) end
    local n = tonumber(rest)
    if n < 0 then return M.null end
    local t = {}
    for i = 1, n do
      local v, verr = read(s)
      if v == nil then return nil, verr end
      if v == false then v = { false, verr } end
      t[i] = v
    end
    return t
  end
  return garbled(line)
end

--- One command: conn:call("GET", "k"), or conn:call_args({ "GET", "k" }).
function Conn:call_args(args)
  local ok, err = self.s:send(encode(args))
  if not ok then return nil, err end
  return read(self.s)
end

function Conn:call(...) return self:call_args({ ... }) end

--- Several commands in one round trip: a list of argument lists.  Returns
-- the replies ({ false, text } for an error reply), or nil and the error.
function Conn:pipeline(cmds)
  local parts = {}
  for i, c in ipairs(cmds) do parts[i] = encode(c) end
  local ok, err = self.s:send(table.concat(parts))
  if not ok then return nil, err end
  local out = {}
  for i = 1, #cmds do
    local v, verr = read(self.s)
    if v == nil then return nil, verr end
    if v == false then v = { false, verr } end
    out[i] = v
  end
  return out
end

function Conn:settimeout(t) self.s:settimeout(t) end
function Conn:close() self.s:close() end
Conn.keepalive = Conn.close

return M
