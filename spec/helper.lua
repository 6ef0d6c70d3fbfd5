-- Shared by the specs: the module under test and small conveniences.
local H = {}
H.imbill = require "imbill"
H.is_jit = rawget(_G, "jit") ~= nil
H.top = os.getenv("IMBILL_TOP") or "."
-- the interpreter running the specs, for specs that start a child process
H.lua = os.getenv("IMBILL_LUA") or (H.is_jit and "luajit" or "lua5.4")
-- the folder holding the imbill/core.so these specs loaded, for the same children
local so = package.searchpath and package.searchpath("imbill.core", package.cpath)
H.cpath = os.getenv("IMBILL_CPATH") or (so and (so:gsub("/imbill/core%.so$", ""))) or (H.top .. "/build/5.4")

--- Calls f and returns its error message (fails the test if f did not raise).
function H.err(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error, got none")
  return tostring(e)
end

--- A string quoted for the shell.
function H.q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

--- A command's success on both runtimes (os.execute gives true on 5.4 and 0
-- on LuaJIT); its output is discarded.
function H.run(cmd)
  local r = os.execute(cmd .. " >/dev/null 2>&1")
  return r == true or r == 0
end

--- A command's output and error output, without the last line break.
function H.sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("*a")
  p:close()
  return (out:gsub("\n$", ""))
end

return H
