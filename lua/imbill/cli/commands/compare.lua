--- imbill compare: every edition of every price book for one month, cheapest first.
local A = require "imbill.cli.args"
local fail = require "imbill.cli.fail"
local output = require "imbill.cli.output"
local usage = require "imbill.cli.usage"

local M = {}

M.summary = "Every edition of every price book for one month, cheapest first."
M.epilog = [[
Example:
  imbill compare --month 2021-03 --peak-dau 25000 --groups-peak 250000 --needs local_search
  imbill compare --month 2021-06 --usage examples/data/usage_2021.csv --csv]]

function M.define(c)
  c:option("--month", "The month, YYYY-MM (required)."):convert(A.month("--month"))
  c:option("--peak-dau", "Peak DAU (not with --usage or generated usage)."):convert(A.count("--peak-dau"))
  c:option("--groups-peak", "Peak groups (not with --usage or generated usage)."):convert(A.count("--groups-peak"))
  c:option("--mau", "MAU (not with --usage or generated usage)."):convert(A.count("--mau"))
  c:option("--accounts", "Registered accounts (a quota)."):convert(A.count("--accounts"))
  c:option("--needs", "Features needed, comma-separated.")
  c:option("--books", "Price books to try, comma-separated.")
  c:option("--mau-per-dau", "Price MAU editions as if MAU = ratio x peak DAU (without it, a usage with no MAU leaves"
    .. " them unpriced)."):convert(A.ratio("--mau-per-dau"))
  A.add_usage(c)
  A.add_format(c)
end

function M.run(args)
  local imbill = require "imbill"
  if not args.month then fail.usage(nil, "--month is required") end
  -- the library's refusal names its fields mau and mau_per_dau
  if args.mau ~= nil and args.mau_per_dau ~= nil then
    fail.usage("--mau-per-dau", "cannot be given with --mau (give the MAU, or price it as a ratio of peak DAU)",
      args.mau_per_dau)
  end
  local p = { month = args.month, peak_dau = args.peak_dau, groups_peak = args.groups_peak, mau = args.mau,
              needs = A.list(args.needs, "--needs", true), books = A.once("--books", A.list(args.books, "--books")),
              accounts = args.accounts, mau_per_dau = args.mau_per_dau }
  if args.usage or usage.generated(args) then
    usage.one_source(args, { "peak_dau", "groups_peak", "mau" })
    -- the series itself, so the comparison also sees which days it covers
    local s = usage.series(args)
    p.usage = s
    if p.accounts == nil then p.accounts = s:month(args.month).accounts end
    p.peak_dau, p.groups_peak, p.mau = nil, nil, nil
  end
  local names = fail.flag_names(args, { month = true, peak_dau = true, groups_peak = true, mau = true, needs = true,
                                        books = true, accounts = true, mau_per_dau = true })
  local rows = fail.calling("imbill.compare", names, imbill.compare, p)
  output.show(args, {
    text = function() return tostring(rows) end,
    data = function() return rows:data() end,
    csv = function() return rows:csv() end,
  })
  return 0
end

return M
