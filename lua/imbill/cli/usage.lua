--- Usage for the planning commands: a history file (--usage) or generated
-- usage (--dau --start --months ...), and the projection over it.
local fail = require "imbill.cli.fail"
local args_mod = require "imbill.cli.args"
local progress = require "imbill.cli.progress"
local fmt = require "imbill.internal.fmt"

local M = {}

local list = args_mod.list

local function month_number(option, s)
  local dates = require "imbill.internal.dates"
  local ok, m = pcall(dates.month, s, option)
  -- the calendar's own reason, naming the option: 9999-12 is a month, only
  -- past the last one billable, where every refusal read "no such month"
  if not ok then
    if require("imbill.internal.errors").is(m) then error(m, 0) end
    fail.input(option, "no such month", s)
  end
  return m
end

--- Checks the horizon options before any usage is read or generated, so a
-- bad horizon is refused at once instead of after the work.
function M.check_horizon(args)
  local from = args.from and month_number("--from", args.from)
  local to = args.to and month_number("--to", args.to)
  if from and to and to < from then fail.usage("--to", "is before --from " .. args.from, args.to) end
  if args.months ~= nil and args.months < 1 then fail.usage("--months", "must be at least 1", args.months) end
  if args.start and not args.usage then
    -- generated usage covers start .. start + months - 1: the horizon must lie inside it
    local first = month_number("--start", args.start)
    local last = first + (args.months or 12) - 1
    if from and (from < first or from > last) then
      fail.usage("--from", string.format("is outside the generated usage (%s for %s)", args.start,
        fmt.count(args.months or 12, "month")), args.from)
    end
    if to and (to < first or to > last) then
      fail.usage("--to", string.format("is outside the generated usage (%s for %s)", args.start,
        fmt.count(args.months or 12, "month")), args.to)
    end
  end
end

--- The generator options, in the order help lists them.
M.GENERATORS = { "start", "dau", "growth", "groups", "weekend", "noise", "seed" }

local function option_name(k) return "--" .. k:gsub("_", "-") end

--- The first generator option the command line gave, as "--name", or nil.
function M.generated(args)
  for _, k in ipairs(M.GENERATORS) do
    if args[k] ~= nil then return option_name(k) end
  end
  return nil
end

--- One source of usage: a history (--usage), generated usage, or the
-- command's own usage options (flags: argparse keys, e.g. "peak_dau").  An
-- option of another source is refused, where one was silently dropped
-- (--dau with --usage) or silently won (--mau with --usage).
function M.one_source(args, flags)
  local given = args.usage and "--usage" or M.generated(args)
  if not given then return end
  local others = {}
  if args.usage then
    for _, k in ipairs(M.GENERATORS) do others[#others + 1] = k end
  end
  for _, k in ipairs(flags or {}) do others[#others + 1] = k end
  for _, k in ipairs(others) do
    if args[k] ~= nil then
      fail.usage(option_name(k), string.format("cannot be given with %s (%s gives the usage)", given,
        given == "--usage" and "the history" or "generated usage"), args[k])
    end
  end
end

--- What a command reading a usage (--usage or generated) advises when the
-- usage has no MAU and an edition needs it (fail.MAU).
M.MAU_RATIO = { "--mau-ratio", "give --mau-ratio (MAU = ratio x the month's peak DAU), or a usage history with a mau"
  .. " column, or leave out the editions billed by MAU (--books, --editions)" }

--- The usage series from --usage or the generator options.
function M.series(args)
  local S = require "imbill.whatif.series"
  M.one_source(args)
  if args.usage then
    local opts = { missing = args.missing, duplicates = args.duplicates, mau_ratio = args.mau_ratio }
    return fail.naming("--usage", S.read_csv, args.usage, opts)
  end
  if not args.dau then
    fail.usage(nil, "give a usage history (--usage FILE, or - for standard input) or generated usage (--dau N"
      .. " --start YYYY-MM --months N [--growth 5%])")
  end
  if not args.start then fail.usage(nil, "generated usage needs --start YYYY-MM") end
  local dau = S.compound { start = args.dau, rate = args.growth or "0%" }
  if args.weekend then dau = dau * S.weekly { sat = args.weekend, sun = args.weekend } end
  if args.noise then dau = dau * S.noise { seed = args.seed or 1, relative = args.noise } end
  return S.build { from = args.start, months = args.months or 12, dau = dau, groups = args.groups or 0,
                   mau_ratio = args.mau_ratio }
end

--- The projection of project, chart bars/path and report.
function M.projection(args)
  local imbill = require "imbill"
  M.check_horizon(args)
  local s = M.series(args)
  local bar = progress.new("project", not args.no_progress)
  local names = fail.flag_names(args, { books = true, editions = true, from = true, to = true, current = true,
                                        activated = true, needs = true, months = (args.usage and not args.to) or nil })
  names[fail.MAU] = M.MAU_RATIO
  local p = fail.calling("imbill.project", names, imbill.project, {
    usage = s, books = args_mod.once("--books", list(args.books, "--books")), editions = list(args.editions, "--editions"),
    from = args.from, to = args.to,
    months = (args.usage and not args.to) and args.months or nil, current = args.current,
    activated = args.activated, needs = list(args.needs, "--needs", true),
    progress = function(d, t) bar.update(d, t) end,
  })
  bar.finish()
  return p, s
end

return M
