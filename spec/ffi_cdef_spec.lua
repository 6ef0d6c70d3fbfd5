local H = require "helper"

-- The FFI bindings declare the C functions from include/imbill.h itself, never
-- from a copy kept by hand: lua/imbill/ffi/cdef.lua is generated from it.
describe("the FFI declarations", function()
  it("are the text of include/imbill.h between its ffi markers (make cdef)", function()
    local ok = os.execute("lua5.4 " .. H.top .. "/scripts/gen-cdef.lua --check")
    assert.is_truthy(ok == true or ok == 0)
  end)
end)
