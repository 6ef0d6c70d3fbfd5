--- imbill breakeven: exact break-even points between editions, and their cost curves.
local A = require "imbill.cli.args"
local fail = require "imbill.cli.fail"
local output = require "imbill.cli.output"

local M = {}

M.summary = "Exact break-even points between editions, and their cost curves."
M.epilog = [[
Examples:
  imbill breakeven --editions 2021/pro,2021/ultimate,2020/flagship --to-value 200000
  imbill breakeven --editions 2021/pro,2022/standard --mau-per-dau 3 --to-value 60000 --json]]

function M.define(c)
  A.add_breakeven(c)
  A.add_format(c)
end

--- imbill.breakeven_table's parameters from the break-even options (chart and report use them too).
function M.params(args)
  -- the library's refusal names usage.mau and follow.mau, neither of them typed
  if args.mau ~= nil and args.mau_per_dau ~= nil then
    fail.usage("--mau-per-dau", "cannot be given with --mau (give the MAU, or let it follow DAU)", args.mau_per_dau)
  end
  if args.groups_peak ~= nil and args.groups_per_dau ~= nil then
    fail.usage("--groups-per-dau", "cannot be given with --groups-peak (give the groups, or let them follow DAU)",
      args.groups_per_dau)
  end
  local follow
  if args.mau_per_dau then follow = { mau = args.mau_per_dau } end
  if args.groups_per_dau then
    follow = follow or {}
    follow.groups = args.groups_per_dau
  end
  return { editions = A.list(args.editions, "--editions"), book = args.book, metric = args.metric, from = args.from_value,
           to = args.to_value, follow = follow,
           usage = { peak_dau = args.peak_dau, groups_peak = args.groups_peak, mau = args.mau } }
end

--- The options M.params reads, by the field each fills (for fail.calling).
function M.names(args)
  local names = fail.flag_names(args, { editions = true, book = true, metric = true, from = "--from-value",
                                 to = "--to-value", ["follow.mau"] = "--mau-per-dau",
                                 ["follow.groups"] = "--groups-per-dau", ["usage.peak_dau"] = "--peak-dau",
                                 ["usage.groups_peak"] = "--groups-peak", ["usage.mau"] = "--mau" })
  -- the library's advice for a missing MAU or DAU names usage.mau,
  -- follow.mau and usage.peak_dau, which no one types here
  names[fail.MAU] = { "--mau-per-dau", "give --mau-per-dau (MAU = ratio x DAU) or --mau, or leave the edition out"
    .. " (--editions)" }
  names[fail.DAU] = { "--peak-dau", "give --peak-dau (a fixed peak DAU), or leave the edition out (--editions)" }
  return names
end

--- imbill.breakeven_table over the break-even options, its errors naming them.
function M.table(args)
  local imbill = require "imbill"
  local p = M.params(args)
  A.once("--editions", p.editions)
  return fail.calling("imbill.breakeven_table", M.names(args), imbill.breakeven_table, p)
end

function M.run(args)
  output.show(args, output.view(M.table(args)))
  return 0
end

return M
