--- LuaJIT only: the C ABI of include/imbill.h in the shared object that
-- `require "imbill.core"` loads (the same core.so exports both), with its
-- declarations (imbill.ffi.cdef, generated from the header).
local ffi = require "ffi"
require "imbill.ffi.cdef"

local path = package.searchpath and package.searchpath("imbill.core", package.cpath)
if not path then error("imbill.ffi: imbill.core not found on package.cpath", 0) end

return ffi.load(path)
