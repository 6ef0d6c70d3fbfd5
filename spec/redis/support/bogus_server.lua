--- luajit bogus_server.lua PORTFILE REPLY SECONDS: a server that is not Redis,
-- on a loopback port of its own choosing (written to PORTFILE once it takes
-- connections), answering every command it reads with REPLY (Lua string
-- escapes read as such: "\r\n") for SECONDS, one connection at a time.
-- It binds port 0 itself: a port found free and bound later could be taken in
-- between by another suite's server (one that never answers gave a timeout).
local socket = require "socket"
local portfile, reply, secs = arg[1], arg[2], tonumber(arg[3]) or 5
reply = reply:gsub("\\r", "\r"):gsub("\\n", "\n")
local srv = assert(socket.bind("127.0.0.1", 0))
local _, port = srv:getsockname()
local tmp = portfile .. ".tmp"
local f = assert(io.open(tmp, "w"))
f:write(port, "\n")
f:close()
assert(os.rename(tmp, portfile))
srv:settimeout(0.1)
local t0 = socket.gettime()
while socket.gettime() - t0 < secs do
  local c = srv:accept()
  if c then
    c:settimeout(0.2)
    -- a command: "*<n>", then n words ("$<len>" and the word)
    while true do
      local head = c:receive("*l")
      if not head then break end
      local n = tonumber(head:match("^%*(%d+)$") or "")
      if n then
        for _ = 1, n do
          local len = tonumber((c:receive("*l") or ""):match("^%$(%d+)$") or "")
          if not len or not c:receive(len + 2) then break end
        end
        c:send(reply)
      end
    end
    c:close()
  end
end
srv:close()
