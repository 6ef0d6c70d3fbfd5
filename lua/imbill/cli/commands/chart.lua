--- imbill chart: an SVG chart of cost curves, projection bars or the
-- cheapest-path timeline.
local A = require "imbill.cli.args"
local fail = require "imbill.cli.fail"
local output = require "imbill.cli.output"
local usage = require "imbill.cli.usage"
local breakeven = require "imbill.cli.commands.breakeven"

local M = {}

M.summary = "Write an SVG chart: cost curves, projection bars or the cheapest-path timeline."
M.epilog = [[
Examples:
  imbill chart curves --editions 2021/pro,2021/ultimate,2022/standard --mau-per-dau 3 --to-value 60000 -o curves.svg
  imbill chart bars --usage examples/data/usage_2021.csv --books 2020 -o bars.svg
  imbill chart path --usage examples/data/usage_2021.csv --books 2020 -o path.svg]]

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
  -- the chart's own options (docs/charts.md): checked by imbill.chart itself
  c:option("--width", "Width in pixels (320 .. 4096, default 960)."):convert(A.count("--width"))
  c:option("--height", "Height in pixels (200 .. 4096; default 540, the timeline its content's)."):convert(
    A.count("--height"))
  c:option("--title", "The chart's title.")
  c:option("--subtitle", "The chart's subtitle.")
  c:flag("--no-subtitle", "Draw no subtitle.")
  c:option("--legend", "Where the legend goes: auto, right, bottom or none.", "auto"):choices {
    "auto", "right", "bottom", "none" }
  c:option("--max-labels", "Curves: the most point labels drawn (0 .. 1000, default 14)."):convert(
    A.count("--max-labels"))
  c:flag("--all", "Bars: also draw free editions that cannot serve.")
  c:flag("--no-progress", "Never draw the progress bar.")
  A.add_out(c)
end

local function chart_options(args)
  local o = { width = args.width, height = args.height, title = args.title, legend = args.legend }
  if args.no_subtitle then o.subtitle = false else o.subtitle = args.subtitle end
  if args.kind == "curves" then o.max_labels = args.max_labels end
  if args.kind == "bars" and args.all then o.all = true end
  return o
end

-- The chart functions' option fields, by the option each comes from (for fail.calling).
local CHART_OPTIONS = { width = true, height = true, title = true, subtitle = true, legend = true,
                        max_labels = true, all = true }
local DRAW = { curves = "cost_curves", bars = "projection_bars", path = "path_timeline" }

-- The options that draw on one kind of chart only: given with another kind
-- they were dropped unsaid.
local ONLY = { all = { "--all", "bars" }, max_labels = { "--max-labels", "curves" } }

function M.run(args)
  local imbill = require "imbill"
  for key, only in pairs(ONLY) do
    if args[key] and args.kind ~= only[2] then
      fail.usage(only[1], string.format("is for chart %s only, not chart %s", only[2], args.kind))
    end
  end
  local o = chart_options(args)
  local data = args.kind == "curves" and breakeven.table(args) or usage.projection(args)
  local draw = DRAW[args.kind]
  local doc = fail.calling("imbill.chart." .. draw, fail.flag_names(args, CHART_OPTIONS), imbill.chart[draw], data, o)
  output.emit(args, doc:file())
  return 0
end

return M
