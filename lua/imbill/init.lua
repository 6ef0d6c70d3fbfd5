--- imbill: pricing, quota and invoice rules of Tencent Cloud IM, exact.
-- See README.md for the tour and docs/rules.md for the rules; the public names
-- below are kept stable.
--
-- This module is what `require "imbill"` returns.  Each name here is a short
-- entry pointing at the module that implements it; the meter, the replay and
-- the what-if names are loaded on first use.  Bad arguments raise an error
-- object (`fn`, `field`, `msg`, `value`; docs/errors.md); a rule that says no
-- is an answer, not an error.
-- @usage local imbill = require "imbill"
-- print(imbill.invoice{ book = "2020", edition = "pro", month = "2021-03", peak_dau = 25000 }.total)
-- --> 449.97
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

--- The version of imbill, `"MAJOR.MINOR.PATCH"`.
-- @field VERSION

-- Money ---------------------------------------------------------------------

--- An exact amount of money, from an amount given as money, a decimal string
-- (`"149.99"`, `"0.015"`), a whole number (`149`) or a Lua number with at
-- most 6 decimals (`149.99`).  Such a number is taken only when its 6-decimal
-- text reads back as the same number, which proves no digit was lost.  A
-- money value holds whole micro-units (10^-6 of the currency) in 64 bits; see
-- the `Money` class below for what it does.
-- @tparam Money|string|number v the amount
-- @treturn Money the amount, exact
-- @raise `imbill.money: amount: ...` for anything else: `"1e5"`, `" 1"`,
-- `"1,000"`, a seventh decimal, an amount beyond 2^63 micro-units
-- @usage print(imbill.money("0.015") + imbill.money("149.99"))  --> 150.005
-- @function money

--- Whether `v` is a money value.
-- @param v any value
-- @treturn boolean `true` for money made by imbill
-- @function money.is

--- The amount of a whole number of cents.
-- @int cents whole cents (negative allowed)
-- @treturn Money the amount
-- @raise `imbill.money.from_cents: cents: ...` when `cents` is not a whole
-- number or the amount does not fit in 64 bits of micro-units
-- @function money.from_cents

--- The amount of a whole number of micro-units (10^-6 of the currency).
-- @int micros whole micro-units
-- @treturn Money the amount
-- @raise `imbill.money.from_micros: micros: ...` when `micros` is not a whole
-- number that fits in 64 bits
-- @function money.from_micros

--- The sum of an array of money values (or of amounts `imbill.money` takes),
-- exact.  The array is read raw: no `__index` or `__len` of the caller's runs.
-- @tparam {Money|string|number,...} list the amounts
-- @treturn Money their sum (`0.00` for an empty list)
-- @raise `imbill.money.sum: list[i]: ...` naming the element that is not an
-- amount, or the sum that does not fit in 64 bits
-- @function money.sum

--- An amount with thousands separators for reports: `"1,349.91"`
-- (`tostring` never has them).
-- @tparam Money m the amount
-- @tparam[opt=2] int places decimals to show, 0 to 6 (rounded half away from zero)
-- @treturn string the text
-- @raise `imbill.money.pretty: m: ...` when `m` is not money, `places: ...`
-- when it is not a whole number from 0 to 6
-- @function money.pretty

--- The amount as a Lua number of currency units, for plotting only (a chart's
-- pixel position, a notebook's axis).  It is a float: not exact past 2^53
-- micro-units, and not for adding up or comparing money, which money values
-- do exactly.  Text from it is never an amount to show: `tostring(m)` is.
-- @tparam Money m the amount
-- @treturn number the amount as a float
-- @raise `imbill.money.plot: m: ...` when `m` is not money
-- @function money.plot

imbill.money = setmetatable({
  is = money.is, from_cents = money.from_cents, from_micros = money.from_micros, sum = money.sum,
  pretty = money.pretty, plot = money.plot,
}, { __call = function(_, v) return errors.call("imbill.money", nil, money.new, v) end })

-- Price books ---------------------------------------------------------------

--- A price book: a built-in one by name, a book as it is, or a user book
-- derived from a table (`imbill.book.get` has the fields).
-- @tparam string|Book|table x `"2020"`, `"2021"`, `"2022"`, a book, or
-- `{ base =, name =, editions =, remove =, addons =, policy =, from =, to =, tz = }`
-- @treturn Book the price book
-- @raise an error naming the name or the field of the user book that is wrong
-- @usage print(imbill.book("2021"):edition("ultimate").monthly_fee)  --> 899.99
function imbill.book(x) return books.get(x) end
--- The built-in price book a new app would have been sold on that day.
-- @string date `"YYYY-MM-DD"`
-- @treturn Book the book in force that day
-- @raise `imbill.book_at: date: ...` for a malformed date, or a day before the
-- first book (2020-02-19)
-- @usage print(imbill.book_at("2022-12-26").name)  --> 2022
function imbill.book_at(date) return books.at(date) end
--- The names of the built-in price books, oldest first: `{ "2020", "2021", "2022" }`.
imbill.books = books.BUILTIN
--- Whether `x` is a price book made by `imbill.book`.
-- @param x any value
-- @treturn boolean `true` for a book
-- @function is_book
imbill.is_book = books.is_book

-- Bills ---------------------------------------------------------------------

--- One app's invoice for one month; `imbill.bill.invoice.invoice` has the fields.
-- @tab u the month's facts: `book`, `edition`, `month`, `peak_dau` or `dau`,
-- `groups_peak` or `groups`, `mau`, `activated`, `change`, `addons`, `trtc`
-- @treturn Invoice the invoice
-- @raise an error naming the field that is wrong
-- @see imbill.bill.invoice.invoice
-- @function invoice
imbill.invoice = invoice.invoice
--- One month's usage priced on every edition of every price book;
-- `imbill.bill.compare.compare` has the fields.
-- @tab p the month, the usage, quotas and needed features, the books and editions to try
-- @treturn Comparison the rows, cheapest first
-- @raise an error naming the field that is wrong
-- @see imbill.bill.compare.compare
-- @function compare
imbill.compare = compare.compare
--- The first eligible row of a comparison; `imbill.bill.compare.best`.
-- @tparam Comparison rows what `imbill.compare` returned
-- @treturn[opt] table the cheapest row that can serve the usage, nil when none can
-- @raise an error naming the row that is not one of `imbill.compare`
-- @see imbill.bill.compare.best
-- @function best
imbill.best = compare.best
--- The exact break-even between two editions along one usage metric;
-- `imbill.bill.breakeven.breakeven` has the fields.
-- @tab p `a`, `b`, `metric`, `usage`, `follow`, `from`, `to`
-- @treturn Breakeven the points where the cheaper edition changes
-- @raise an error naming the field that is wrong, or a range too wide to walk
-- @see imbill.bill.breakeven.breakeven
-- @function breakeven
imbill.breakeven = breakeven.breakeven

local fast_totals, fast_many
if jit then
  local ok, ffi_totals = pcall(require, "imbill.ffi.totals")
  if ok and ffi_totals then fast_totals, fast_many = ffi_totals.totals, ffi_totals.many end
end
--- Many scenarios priced at once in C: one integer of cents per scenario;
-- `imbill.bill.totals.totals` has the fields.
-- @tab p `book`, `edition` (or `editions`), `peak_dau`, `groups_peak`, `mau`, `threads`, `into`
-- @return an array or a column of cents (a table of them with `editions`)
-- @raise an error naming the field and the index of a value that cannot be priced
-- @see imbill.bill.totals.totals
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

--- The meter module, `imbill.meter` (loaded on first use): `imbill.meter{...}`
-- makes a meter, `imbill.meter.load(path)` reads a saved one.
-- @field meter

--- The event-log replay module, `imbill.meter.replay` (loaded on first use).
-- @field replay

-- what-if (series, projections, grids, charts) ----------------------------
-- Loaded on first use.  See docs/whatif.md.
do
  local function lazy(mod, fn)
    return function(...) return require(mod)[fn](...) end
  end
  -- (__imbill_module: what a notebook's completion reads the names from)
  local function proxy(mod)
    return setmetatable({}, { __index = function(_, k) return require(mod)[k] end, __imbill_module = mod })
  end
  --- Usage series and their generators: the module `imbill.whatif.series`
  -- (`build`, `read_csv`, `constant`, `compound`, `weekly`, ...), loaded on first use.
  -- @field series
  imbill.series = proxy "imbill.whatif.series"            -- build, read_csv, constant, compound, weekly, ...

  --- A usage series priced month by month on every edition, with the best
  -- edition of each month and the cheapest legal path; `imbill.whatif.project.run`.
  -- @tab p `usage`, `from`, `to` or `months`, `books`, `editions`, `current`, `activated`, ...
  -- @treturn Projection the projection
  -- @raise an error naming the field that is wrong
  -- @see imbill.whatif.project.run
  -- @function project
  imbill.project = lazy("imbill.whatif.project", "run")   -- month-by-month costs, best edition, cheapest path

  --- The DAU plan against the MAU plan over a usage history;
  -- `imbill.whatif.migration.migration`.
  -- @tab p `usage`, `from`, `to`, `from_month`, `months` or `to_month`, `needs`, `mau_per_dau`
  -- @treturn Migration the month-by-month comparison and its verdict
  -- @raise an error naming the field that is wrong
  -- @see imbill.whatif.migration.migration
  -- @function migration
  imbill.migration = lazy("imbill.whatif.migration", "migration")
  --- Break-even points of every pair of editions, and each edition's cost
  -- curve; `imbill.whatif.curve.breakeven_table`.
  -- @tab p `editions` or `book`, `metric`, `from`, `to`, `usage`, `follow`
  -- @treturn BreakevenTable the table
  -- @raise an error naming the field that is wrong
  -- @see imbill.whatif.curve.breakeven_table
  -- @function breakeven_table
  imbill.breakeven_table = lazy("imbill.whatif.curve", "breakeven_table")
  --- One edition's exact cost curve along a usage metric;
  -- `imbill.whatif.curve.cost_curve`.
  -- @tab p `edition`, `metric`, `from`, `to`, `usage`, `follow`
  -- @treturn CostCurve the curve
  -- @raise an error naming the field that is wrong
  -- @see imbill.whatif.curve.cost_curve
  -- @function cost_curve
  imbill.cost_curve = lazy("imbill.whatif.curve", "cost_curve")
  --- The same usage priced under two price books, line by line;
  -- `imbill.whatif.shadow.run`.
  -- @tab p `usage`, `base`, `shadow`, `editions`, `from`, `to` or `months`, `activated`, `mau_per_dau`
  -- @treturn Shadow the differences
  -- @raise an error naming the field that is wrong
  -- @see imbill.whatif.shadow.run
  -- @function shadow
  imbill.shadow = lazy("imbill.whatif.shadow", "run")
  --- Millions of scenarios priced through the C fast path;
  -- `imbill.whatif.grid.run` has the fields.
  -- @tab p the grid: editions, starting usage, growth rates, months
  -- @treturn Grid the priced grid
  -- @raise an error naming the field that is wrong
  -- @see imbill.whatif.grid.run
  -- @function grid
  imbill.grid = lazy("imbill.whatif.grid", "run")         -- millions of scenarios through the C fast path

  --- Scenario columns held in C memory (docs/columns.md): `imbill.column(values)`
  -- makes one from an array, a count or `{ from =, to = }`; `imbill.column.random{...}`,
  -- `.from_csv(path, name)` and `.view(cdata, n)` (LuaJIT) are the others; the module
  -- `imbill.whatif.column`.
  -- @field column
  imbill.column = setmetatable({}, {
    __imbill_module = "imbill.whatif.column",
    __index = function(_, k) return require("imbill.whatif.column")[k] end,
    __call = function(_, ...) return require("imbill.whatif.column").new(...) end,
  })

  --- Charts as SVG documents: the module `imbill.report.chart`
  -- (`cost_curves`, `projection_bars`, `path_timeline`, `breakeven_lines`), loaded on first use.
  -- @field chart
  imbill.chart = proxy "imbill.report.chart"              -- SVG: cost_curves, projection_bars, path_timeline

  --- One self-contained HTML page of a projection, a break-even table and a
  -- migration; `imbill.report.page.html`.
  -- @tab p `projection`, `breakeven`, `migration`, `title`, `subtitle`
  -- @treturn string the HTML page
  -- @raise an error naming the field that is wrong
  -- @see imbill.report.page.html
  -- @function report
  imbill.report = lazy("imbill.report.page", "html")    -- one self-contained HTML page
end
-- end of what-if ------------------------------------------------------------

--- The C binding, `imbill.core`: the entry points the modules above wrap.
-- Not a stable API, except `core.plan`, the rule a store written in Lua
-- applies (docs/store.md).
-- @field core
imbill.core = core

--- An exact amount: userdata holding a 64-bit count of micro-units, made by
-- `imbill.money` and returned by every function that prices.  `tostring(m)`
-- is a plain decimal with two places, more only where the amount carries them
-- (`"0.015"`), never separators.  `==`, `<`, `<=`, `+`, `-`, unary minus,
-- `m * whole number` and `..` work; the other operand of `+`, `-`, `<` and
-- `<=` may be any amount `imbill.money` takes.  A result that does not fit in
-- 64 bits raises an error, it never wraps.  On LuaJIT, as in Lua 5.1,
-- `m < 150` raises before any metamethod runs: write `m < imbill.money(150)`.
-- @type Money

--- The amount rounded to a whole number of cents, half away from zero
-- (half-up for a positive amount: `0.005` is 1, `-0.005` is -1).
-- @treturn int the cents
-- @raise `money:cents: ...` on LuaJIT when the count is beyond 2^53 (use `tostring`)
-- @function Money:cents

--- The amount as a whole number of micro-units (10^-6 of the currency).
-- @treturn int the micro-units
-- @raise `money:micros: ...` on LuaJIT when the count is beyond 2^53 (use `tostring`)
-- @function Money:micros

--- The amount as a plain decimal with a chosen number of places, rounded
-- half away from zero (`m:format(6)` shows every digit it has).
-- @tparam[opt=2] int places 0 to 6
-- @treturn string the text
-- @raise `money:format: places: must be 0..6`
-- @function Money:format

return imbill
