rockspec_format = "3.0"
package = "imbill"
version = "dev-1"
source = { url = "git+file:///imbill" }
description = {
  summary = "Exact pricing, quota metering and invoices for Tencent Cloud IM editions",
  detailed = [[
A C core (edition rules, quota counting, invoice math) with a Lua module on top:
price books 2020/2021/2022, exact money, invoices, plan comparison, break-even,
batch totals, metering with Tencent error codes, what-if projections, an
OpenResty gateway and a command-line tool.
]],
  license = "MIT",
  labels = { "billing", "pricing", "quota", "openresty" },
}
-- The library needs nothing else, so the rockspec builds offline.  The imbill
-- command also needs argparse and dkjson (Debian: lua-argparse, lua-dkjson);
-- it says so, with exit code 4, when one is missing.
dependencies = { "lua >= 5.1" }
-- The project's own Makefile builds the module: the same warnings, C
-- standard and hidden internal symbols as every build CI tests.  Lua modules
-- are installed from lua/ as they are, so this file never lists them.
build = {
  type = "make",
  build_target = "rock",
  build_variables = { LUA_INCDIR = "$(LUA_INCDIR)", ROCK_CFLAGS = "$(CFLAGS)", LIBFLAG = "$(LIBFLAG)" },
  install_target = "rock-install",
  install_variables = { INST_LIBDIR = "$(LIBDIR)", INST_LUADIR = "$(LUADIR)", INST_BINDIR = "$(BINDIR)" },
}
test_dependencies = { "busted" }
test = { type = "busted" }
