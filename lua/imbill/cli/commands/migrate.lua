--- imbill migrate: the 2021 DAU plan against the 2022 MAU plan, month by month.
local A = require "imbill.cli.args"
local fail = require "imbill.cli.fail"
local output = require "imbill.cli.output"
local usage = require "imbill.cli.usage"

local M = {}

M.summary = "The 2021 DAU plan against the 2022 MAU plan, month by month (cannot be undone)."
M.epilog = [[
Example:
  imbill migrate --usage examples/data/usage_2021.csv --from-edition 2021/pro]]

function M.define(c)
  A.add_usage(c)
  c:option("--from-edition", "The DAU-plan edition the app is on.", "2021/pro")
  c:option("--to-edition", "The MAU-plan edition (default: the cheapest that serves every month).")
  c:option("--from", "First month."):convert(A.month("--from"))
  c:option("--to", "Last month."):convert(A.month("--to"))
  c:option("--needs", "Features needed, comma-separated.")
  A.add_format(c)
end

--- The options imbill.migration's fields come from (for fail.calling; report uses them too).
function M.names(args)
  local names = fail.flag_names(args, { from = "--from-edition", to = "--to-edition", from_month = "--from",
                                        to_month = "--to", needs = true })
  names[fail.MAU] = { "--mau-ratio", "give --mau-ratio (MAU = ratio x the month's peak DAU), or a usage history"
    .. " with a mau column" }
  return names
end

function M.run(args)
  local imbill = require "imbill"
  usage.check_horizon(args)
  local s = usage.series(args)
  local mig = fail.calling("imbill.migration", M.names(args), imbill.migration, { usage = s, from = args.from_edition,
    to = args.to_edition, from_month = args.from, to_month = args.to, needs = A.list(args.needs, "--needs", true) })
  output.show(args, output.view(mig))
  return 0
end

return M
