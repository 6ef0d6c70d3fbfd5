-- Writes imbill-dev-1.rockspec from the files in the tree, so the rockspec
-- always lists every C source and Lua module (run by `make rockspec`).
local function list(cmd)
  local out, p = {}, io.popen(cmd)
  for l in p:lines() do out[#out + 1] = l end
  p:close()
  table.sort(out)
  return out
end

local csrc = list("ls src/*.c")
local lua = list("find lua -name '*.lua'")
local lines = {}
local function w(s) lines[#lines + 1] = s end
w('rockspec_format = "3.0"')
w('package = "imbill"')
w('version = "dev-1"')
w('source = { url = "git+file:///imbill" }')
w('description = {')
w('  summary = "Exact pricing, quota metering and invoices for Tencent Cloud IM editions",')
w('  detailed = [[')
w('A C core (edition rules, quota counting, invoice math) with a Lua module on top:')
w('price books 2020/2021/2022, exact money, invoices, plan comparison, break-even,')
w('batch totals, metering with Tencent error codes, what-if projections and a CLI.')
w(']],')
w('  license = "MIT",')
w('  labels = { "billing", "pricing", "quota", "openresty" },')
w('}')
w('-- The library needs nothing else, so the rockspec builds offline.  The imbill')
w('-- command also needs argparse and dkjson (Debian: lua-argparse, lua-dkjson);')
w('-- it says so, with exit code 4, when one is missing.')
w('dependencies = { "lua >= 5.1" }')
w('build = {')
w('  type = "builtin",')
w('  modules = {')
w('    ["imbill.core"] = {')
w('      sources = {')
for _, f in ipairs(csrc) do w('        "' .. f .. '",') end
w('      },')
w('      incdirs = { "src" },')
w('      defines = { "_POSIX_C_SOURCE=200809L" },')
w('    },')
for _, f in ipairs(lua) do
  local mod = f:gsub("^lua/", ""):gsub("/init%.lua$", ""):gsub("%.lua$", ""):gsub("/", ".")
  w(string.format('    ["%s"] = "%s",', mod, f))
end
w('  },')
w('  install = { bin = { imbill = "bin/imbill" } },')
w('}')
w('test_dependencies = { "busted" }')
w('test = { type = "busted" }')
local f = assert(io.open("imbill-dev-1.rockspec", "w"))
f:write(table.concat(lines, "\n"), "\n")
f:close()
