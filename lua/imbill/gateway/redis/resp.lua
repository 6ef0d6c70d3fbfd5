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

-- An integer's text as a number, or nil past 2^53 (where a double would
-- round it: 9007199254740993 read as ...992) or when it is not one.
local MAXI = "9007199254740991"
local function exact(text)
  local digits = text:match("^%-?(%d+)$")
  if not digits then return nil end
  digits = digits:gsub("^0+(%d)", "%1")
  if #digits > #MAXI or (#digits == #MAXI and digits > MAXI) then return nil end
  return tonumber(text)
end

-- Arrays inside arrays: Redis' replies to the store nest three deep; a
-- reply nested deeper is not one (it would end in a Lua stack overflow).
local MAX_DEPTH = 16

local function read(s, depth)
  local line, err = s:receive("*l")
  if not line then return nil, err end
  local p, rest = line:sub(1, 1), line:sub(2)
  if p == "+" then return rest
  elseif p == "-" then return false, rest
  elseif p == ":" then
    if not rest:find("^%-?%d+$") then return garbled(line) end
    local n = exact(rest)
    if not n then
      return nil, "an integer reply past 2^53, which a number here cannot hold exactly: " .. string.format("%q",
        line:sub(1, 40))
    end
    return n
  elseif p == "$" then
    -- a length: -1 is the null, any other below 0 is none
    local n = exact(rest)
    if not n or n < -1 then return garbled(line) end
    if n < 0 then return M.null end
    local data, derr = s:receive(n + 2)
    if not data then return nil, derr end
    if data:sub(-2) ~= "\r\n" then return garbled(line) end
    return data:sub(1, n)
  elseif p == "*" then
    local n = exact(rest)
    if not n or n < -1 or (n > 0 and (depth or 0) >= MAX_DEPTH) then return garbled(line) end
    if n < 0 then return M.null end
    local t = {}
    for i = 1, n do
      local v, verr = read(s, (depth or 0) + 1)
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
