--- imbill report: one self-contained HTML page with a projection's tables
-- and charts.
local A = require "imbill.cli.args"
local fail = require "imbill.cli.fail"
local output = require "imbill.cli.output"
local usage = require "imbill.cli.usage"
local breakeven = require "imbill.cli.commands.breakeven"
local migrate = require "imbill.cli.commands.migrate"

local M = {}

M.summary = "One self-contained HTML page: a projection's tables and charts."
M.epilog = [[
Example:
  imbill report --usage examples/data/usage_2021.csv --books 2020,2021 \
      --breakeven 2021/pro,2021/ultimate,2022/standard --mau-per-dau 3 --migration -o report.html]]

function M.define(c)
  A.add_usage(c)
  A.add_plan(c)
  c:option("--breakeven", "Also a break-even table and chart of these editions (comma-separated).")
  c:option("--metric", "Break-even metric: dau, mau or groups.", "dau"):choices { "dau", "mau", "groups" }
  c:option("--from-value", "Break-even range start.", "0"):convert(A.count("--from-value"))
  c:option("--to-value", "Break-even range end.", "100000"):convert(A.count("--to-value"))
  c:option("--mau-per-dau", "Break-even: MAU = ratio x DAU."):convert(A.ratio("--mau-per-dau"))
  c:flag("--migration", "Also the DAU-to-MAU migration table.")
  c:option("--from-edition", "Migration: the DAU-plan edition.", "2021/pro")
  c:option("--to-edition", "Migration: the MAU-plan edition.")
  c:option("--title", "The page title.")
  c:option("--subtitle", "The page subtitle.")
  c:flag("--no-progress", "Never draw the progress bar.")
  A.add_out(c)
end

function M.run(args)
  local imbill = require "imbill"
  local p, s = usage.projection(args)
  local bt
  local eds = A.once("--breakeven", A.list(args.breakeven, "--breakeven"))
  if eds then
    local params = breakeven.params(args)
    params.editions = eds
    local names = breakeven.names(args)
    names.editions = "--breakeven"
    -- a report's break-even takes MAU only through --mau-per-dau, and no fixed DAU
    names[fail.MAU] = { "--mau-per-dau", "give --mau-per-dau (MAU = ratio x DAU), or leave the edition out of"
      .. " --breakeven" }
    names[fail.DAU] = { "--breakeven", "leave the edition out of --breakeven, or break even by DAU (--metric dau)" }
    bt = fail.calling("imbill.breakeven_table", names, imbill.breakeven_table, params)
  end
  local mig
  if args.migration then
    mig = fail.calling("imbill.migration", migrate.names(args), imbill.migration, { usage = s,
      from = args.from_edition, to = args.to_edition, from_month = args.from, to_month = args.to })
  end
  output.emit(args, imbill.report { projection = p, breakeven = bt, migration = mig, title = args.title,
                                 subtitle = args.subtitle })
  return 0
end

return M
