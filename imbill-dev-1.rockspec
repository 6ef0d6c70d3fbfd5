rockspec_format = "3.0"
package = "imbill"
version = "dev-1"
source = { url = "git+file:///imbill" }
description = {
  summary = "Exact pricing, quota metering and invoices for Tencent Cloud IM editions",
  detailed = [[
A C core (edition rules, quota counting, invoice math) with a Lua module on top:
price books 2020/2021/2022, exact money, invoices, plan comparison, break-even,
batch totals, metering with Tencent error codes, what-if projections and a CLI.
]],
  license = "MIT",
  labels = { "billing", "pricing", "quota", "openresty" },
}
-- The library needs nothing else, so the rockspec builds offline.  The imbill
-- command also needs argparse and dkjson (Debian: lua-argparse, lua-dkjson);
-- it says so, with exit code 4, when one is missing.
dependencies = { "lua >= 5.1" }
build = {
  type = "builtin",
  modules = {
    ["imbill.core"] = {
      sources = {
        "src/calendar.c",
        "src/grid.c",
        "src/idset.c",
        "src/lua_calendar.c",
        "src/lua_grid.c",
        "src/lua_imbill.c",
        "src/lua_meter.c",
        "src/lua_money.c",
        "src/lua_pricing.c",
        "src/meter.c",
        "src/meter_file.c",
        "src/meter_rules.c",
        "src/money.c",
        "src/pricing.c",
        "src/status.c",
      },
      incdirs = { "src" },
      defines = { "_POSIX_C_SOURCE=200809L" },
    },
    ["imbill.book"] = "lua/imbill/book.lua",
    ["imbill.books"] = "lua/imbill/books.lua",
    ["imbill.chart"] = "lua/imbill/chart.lua",
    ["imbill.check"] = "lua/imbill/check.lua",
    ["imbill.cli"] = "lua/imbill/cli.lua",
    ["imbill.compare"] = "lua/imbill/compare.lua",
    ["imbill.csv"] = "lua/imbill/csv.lua",
    ["imbill.dates"] = "lua/imbill/dates.lua",
    ["imbill.ffi"] = "lua/imbill/ffi.lua",
    ["imbill.fmt"] = "lua/imbill/fmt.lua",
    ["imbill.grid"] = "lua/imbill/grid.lua",
    ["imbill"] = "lua/imbill/init.lua",
    ["imbill.invoice"] = "lua/imbill/invoice.lua",
    ["imbill.meter"] = "lua/imbill/meter.lua",
    ["imbill.meter_ffi"] = "lua/imbill/meter_ffi.lua",
    ["imbill.money"] = "lua/imbill/money.lua",
    ["imbill.project"] = "lua/imbill/project.lua",
    ["imbill.replay"] = "lua/imbill/replay.lua",
    ["imbill.report"] = "lua/imbill/report.lua",
    ["imbill.series"] = "lua/imbill/series.lua",
    ["imbill.shadow"] = "lua/imbill/shadow.lua",
    ["imbill.svg"] = "lua/imbill/svg.lua",
  },
  install = { bin = { imbill = "bin/imbill" } },
}
test_dependencies = { "busted" }
test = { type = "busted" }
