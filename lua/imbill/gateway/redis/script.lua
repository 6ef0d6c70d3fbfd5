--- The interpreter (interpreter.lua, which runs inside Redis) in the two
-- forms Redis takes it:
--
-- * a function library, `FUNCTION LOAD`ed and called with `FCALL` (Redis 7
--   and later).  Its functions are made once, by its first call, and it is kept
--   with the data (saved, replicated), so a restarted or promoted node often
--   has it already.  Library and function are named after the interpreter's
--   SHA-1 ("imbill_<16 hex digits>"), so gateways of two versions can share a
--   Redis during an upgrade, each calling its own.
-- * a script, called by its SHA-1 with `EVALSHA` (any Redis), which Redis
--   compiles once but runs from the top, making every function again, on each
--   call.  Used where Redis has no functions, or where the library cannot be
--   had (an ACL without FUNCTION), and outside nginx.
--
-- Either is loaded into a node when it answers that it lacks it (a restart,
-- a new node, a flush).
local M = {}

local source, script, sha, fname, library

local function file()
  if source then return source end
  local path = package.searchpath("imbill.gateway.redis.interpreter", package.path)
  if not path then error("imbill.gateway: imbill/gateway/redis/interpreter.lua not found on lua_package_path", 0) end
  local f = assert(io.open(path, "rb"))
  source = f:read("*a")
  f:close()
  return source
end

local function hex(bin)
  return (bin:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

--- The script's text: the interpreter, run on the call's KEYS and ARGV.
function M.text()
  if not script then script = "return (function()\n" .. file() .. "\nend)()(KEYS, ARGV)\n" end
  return script
end

--- The script's SHA-1 in hex, or nil where there is no SHA-1 at hand
-- (outside nginx: the first call then loads the script and learns it).
function M.sha1()
  if sha then return sha end
  if ngx and ngx.sha1_bin then sha = hex(ngx.sha1_bin(M.text())) end
  return sha
end

--- The function's name, and the library's text; nil where there is no
-- SHA-1 at hand to name them by.
function M.library()
  if fname then return fname, library end
  if not (ngx and ngx.sha1_bin) then return nil end
  local name = "imbill_" .. hex(ngx.sha1_bin(file())):sub(1, 16)
  -- the interpreter is made by the first call: while a library loads, Redis
  -- lets it reach nothing but the registration (not even tonumber)
  library = "#!lua name=" .. name .. "\nlocal run\nredis.register_function('" .. name .. "', function(keys, argv)\n"
    .. "if not run then run = (function()\n" .. file() .. "\nend)() end\nreturn run(keys, argv)\nend)\n"
  fname = name
  return fname, library
end

return M
