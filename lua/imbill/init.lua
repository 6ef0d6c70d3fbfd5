--- imbill: pricing, quota and invoice rules of Tencent Cloud IM, exact.
-- See README.md for the tour and docs/rules.md for the rules; the public names
-- below are kept stable.
local core = require "imbill.core"
local money = require "imbill.internal.money"
local books = require "imbill.book"
local invoice = require "imbill.bill.invoice"
local compare = require "imbill.bill.compare"
local breakeven = require "imbill.bill.breakeven"
local totals = require "imbill.bill.totals"
local errors = require "imbill.internal.errors"

local imbill = {
  VERSION = "0.1.0",
  _NAME = "imbill",
}

imbill.money = setmetatable({
  is = money.is, from_cents = money.from_cents, from_micros = money.from_micros, sum = money.sum,
  pretty = money.pretty, plot = money.plot,
}, { __call = function(_, v) return errors.call("imbill.money", nil, money.new, v) end })

function imbill.book(x) return books.get(x) end
function imbill.book_at(date) return books.at(date) end
imbill.books = books.BUILTIN
imbill.is_book = books.is_book

imbill.invoice = invoice.invoice
imbill.compare = compare.compare
imbill.best = compare.best
imbill.breakeven = breakeven.breakeven

local fast_totals, fast_many
if jit then
  local ok, ffi_totals = pcall(require, "imbill.ffi.totals")
  if ok and ffi_totals then fast_totals, fast_many = ffi_totals.totals, ffi_totals.many end
end
function imbill.totals(p) return totals.totals(p, fast_totals, fast_many) end

-- The meter (quota metering) and event-log replay are loaded on first use, so
-- pricing scripts do not pay for them.
local LAZY = { meter = "imbill.meter", replay = "imbill.meter.replay" }
setmetatable(imbill, {
  __index = function(t, k)
    local mod = LAZY[k]
    if not mod then return nil end
    local m = require(mod)
    rawset(t, k, m)
    return m
  end,
})

-- what-if (series, projections, grids, charts) ----------------------------
-- Loaded on first use.  See docs/whatif.md.
do
  local function lazy(mod, fn)
    return function(...) return require(mod)[fn](...) end
  end
  local function proxy(mod)
    return setmetatable({}, { __index = function(_, k) return require(mod)[k] end })
  end
  imbill.series = proxy "imbill.whatif.series"            -- build, read_csv, constant, compound, weekly, ...
  imbill.project = lazy("imbill.whatif.project", "run")   -- month-by-month costs, best edition, cheapest path
  imbill.migration = lazy("imbill.whatif.migration", "migration")
  imbill.breakeven_table = lazy("imbill.whatif.curve", "breakeven_table")
  imbill.cost_curve = lazy("imbill.whatif.curve", "cost_curve")
  imbill.shadow = lazy("imbill.whatif.shadow", "run")
  imbill.grid = lazy("imbill.whatif.grid", "run")         -- millions of scenarios through the C fast path
  -- scenario columns in C memory (docs/columns.md): imbill.column(array | n | { from =, to = }),
  -- imbill.column.random{...}, .from_csv(path, name), .view(cdata, n) on LuaJIT
  imbill.column = setmetatable({}, {
    __index = function(_, k) return require("imbill.whatif.column")[k] end,
    __call = function(_, ...) return require("imbill.whatif.column").new(...) end,
  })
  imbill.chart = proxy "imbill.report.chart"              -- SVG: cost_curves, projection_bars, path_timeline
  imbill.report = lazy("imbill.report.page", "html")    -- one self-contained HTML page
end
-- end of what-if ------------------------------------------------------------

imbill.core = core
return imbill
