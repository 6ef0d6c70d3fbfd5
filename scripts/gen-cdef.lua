-- Writes lua/imbill/ffi/cdef.lua from include/imbill.h: the text between the
-- header's "imbill:ffi-begin" and "imbill:ffi-end" markers, with the export
-- macro removed.  The header is the one source of the C declarations; the
-- spec spec/ffi_cdef_spec.lua fails when the copy is out of date.
--   lua5.4 scripts/gen-cdef.lua [--check]
local top = (arg[0]:match("^(.*)/scripts/[^/]+$")) or "."
local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function cdef_text(header)
  local body = header:match("/%* imbill:ffi%-begin %*/\n(.-)/%* imbill:ffi%-end %*/")
  assert(body, "include/imbill.h: no imbill:ffi-begin / imbill:ffi-end markers")
  assert(not body:find("\n#"), "include/imbill.h: a preprocessor line between the ffi markers")
  body = body:gsub("IMB_API ", "")
  return "-- Generated from include/imbill.h by scripts/gen-cdef.lua (make cdef): do not edit.\n"
    .. "-- The C declarations the FFI bindings use, loaded once per Lua state.\n"
    .. "local ffi = require \"ffi\"\n"
    .. "ffi.cdef [==[\n" .. body .. "]==]\n"
    .. "return true\n"
end

local want = cdef_text(read(top .. "/include/imbill.h"))
local out = top .. "/lua/imbill/ffi/cdef.lua"
if arg[1] == "--check" then
  local f = io.open(out, "rb")
  local have = f and f:read("a")
  if f then f:close() end
  if have ~= want then
    io.stderr:write(out .. " is out of date with include/imbill.h: run `make cdef`\n")
    os.exit(1)
  end
  os.exit(0)
end
local f = assert(io.open(out, "wb"))
f:write(want)
f:close()
