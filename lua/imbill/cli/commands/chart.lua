--- imbill chart: an SVG chart of cost curves, projection bars or the
-- cheapest-path timeline.
local A = require "imbill.cli.args"
local output = require "imbill.cli.output"
local usage = require "imbill.cli.usage"
local breakeven = require "imbill.cli.commands.breakeven"

local M = {}

M.summary = "Write an SVG chart: cost curves, projection bars or the cheapest-path timeline."
M.epilog = [[
Examples:
  imbill chart curves --editions 2021/pro,2021/ultimate,2022/standard --mau-per-dau 3 --to-value 60000 -o curves.svg
  imbill chart bars --usage examples/data/usage_2021.csv --books 2020 -o bars.svg
  imbill chart path --usage examples/data/usage_2021.csv --books 2021 -o path.svg]]

function M.define(c)
  c:argument("kind", "curves, bars or path."):choices { "curves", "bars", "path" }
  A.add_breakeven(c)
  A.add_usage(c)
  c:option("--books", "Price books (bars, path).")
  c:option("--from", "First month (bars, path)."):convert(A.month("--from"))
  c:option("--to", "Last month (bars, path)."):convert(A.month("--to"))
  c:option("--current", "The edition in force before the horizon (bars, path).")
  c:option("--activated", "First paid activation (bars, path)."):convert(A.date("--activated"))
  c:option("--needs", "Features needed (bars, path).")
  c:flag("--no-progress", "Never draw the progress bar.")
  A.add_out(c)
end

function M.run(args)
  local imbill = require "imbill"
  local doc
  if args.kind == "curves" then
    doc = imbill.chart.cost_curves(imbill.breakeven_table(breakeven.params(args)))
  else
    local p = usage.projection(args)
    doc = args.kind == "bars" and imbill.chart.projection_bars(p) or imbill.chart.path_timeline(p)
  end
  output.emit(args, doc:file())
  return 0
end

return M
