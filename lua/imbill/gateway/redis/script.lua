--- The interpreter's source (interpreter.lua, which runs inside Redis) and
-- its SHA-1, the name EVALSHA calls it by.  Loaded into a node once, and
-- again whenever a node answers NOSCRIPT (a restart, a new node).
local M = {}

local text, sha

function M.text()
  if text then return text end
  local path = package.searchpath("imbill.gateway.redis.interpreter", package.path)
  if not path then error("imbill.gateway: imbill/gateway/redis/interpreter.lua not found on lua_package_path", 0) end
  local f = assert(io.open(path, "rb"))
  text = f:read("*a")
  f:close()
  return text
end

--- The script's SHA-1 in hex, or nil where there is no SHA-1 at hand
-- (outside nginx: the first call then loads the script and learns it).
function M.sha1()
  if sha then return sha end
  if ngx and ngx.sha1_bin then
    local bin = ngx.sha1_bin(M.text())
    sha = (bin:gsub(".", function(c) return string.format("%02x", c:byte()) end))
  end
  return sha
end

return M
