--- imbill project: cost month by month on every edition, the best edition
-- and the cheapest legal path.
local A = require "imbill.cli.args"
local output = require "imbill.cli.output"
local usage = require "imbill.cli.usage"

local M = {}

M.summary = "Cost month by month on every edition, the best edition and the cheapest legal path."
M.epilog = [[
Examples:
  imbill project --usage examples/data/usage_2021.csv --books 2020
  imbill project --dau 8000 --growth 10% --start 2023-01 --months 6 --mau-ratio 3 --books 2022 --json
  cat history.csv | imbill project --usage - --current 2021/pro --csv]]

function M.define(c)
  A.add_usage(c)
  A.add_plan(c)
  c:flag("--no-progress", "Never draw the progress bar.")
  A.add_format(c)
end

function M.run(args)
  output.show(args, output.view((usage.projection(args))))
  return 0
end

return M
