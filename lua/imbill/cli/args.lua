--- The command line's grammar (lua-argparse): option types, the option
-- groups several commands share, and the parser with every command
-- (imbill.cli.commands.*, each defining its own options).
local errors = require "imbill.internal.errors"
local fail = require "imbill.cli.fail"

local M = {}

--- The commands, in the order help lists them.
M.COMMANDS = { "invoice", "compare", "project", "migrate", "breakeven", "shadow", "grid", "replay", "chart",
               "report", "gateway" }

-- Option types: argparse converters returning the value, or nil and the
-- message (which names the option and shows the value, bounded).
local function refuse(name, msg, s) return nil, tostring(errors.new(nil, name, msg, s)) end

function M.count(name)
  return function(s)
    if type(s) ~= "string" or not s:match("^%d+$") then
      return refuse(name, "expected a whole number >= 0", s)
    end
    -- 15 digits stay under 2^53 on every runtime, where counts are exact
    if #s:gsub("^0+(%d)", "%1") > 15 then return refuse(name, "is too large (at most 999999999999999)", s) end
    return math.tointeger and math.tointeger(tonumber(s)) or tonumber(s)
  end
end

function M.month(name)
  return function(s)
    if type(s) ~= "string" or not s:match("^%d%d%d%d%-%d%d$") then return refuse(name, "expected a month YYYY-MM", s) end
    return s
  end
end

function M.date(name)
  return function(s)
    if type(s) ~= "string" or not s:match("^%d%d%d%d%-%d%d%-%d%d$") then
      return refuse(name, "expected a date YYYY-MM-DD", s)
    end
    return s
  end
end

function M.ratio(name, signed)
  return function(s)
    local pat = signed and "^%-?%d+%.?%d*%%?$" or "^%d+%.?%d*%%?$"
    if type(s) ~= "string" or not s:match(pat) then
      return refuse(name, string.format("expected a %snumber or a percentage such as 1.5 or 5%%",
        signed and "signed " or ""), s)
    end
    return s
  end
end

--- "a,b c" -> { "a", "b", "c" }; nil stays nil.  option names the list in
-- errors: an empty item (",,," or "a,,b" or "a,") is refused, where it read
-- as fewer items and ",,," as none; "" (blank) is none only where none_ok
-- says an empty list means something.
function M.list(s, option, none_ok)
  if s == nil then return nil end
  s = tostring(s)
  if s:match("^%s*$") then
    if none_ok then return {} end
    fail.usage(option, "is empty (give comma-separated items)", s)
  end
  local t = s:match("^%s*(.-)%s*$")
  if t:match("^,") or t:match(",$") or t:match(",%s*,") then
    fail.usage(option, "has an empty item (items are comma-separated)", s)
  end
  local out = {}
  for x in t:gmatch("[^,%s]+") do out[#out + 1] = x end
  return out
end

--- items (a list option's, from M.list), each once: an item given again
-- would count its scenarios, rows or editions twice, and the library's
-- refusal names its own field for the first place ("also start_dau[1]"), so
-- both places are named here by the option.  key(item) says when two
-- spellings are one value (1 and 01); by default the item itself.
function M.once(option, items, key)
  if items == nil then return nil end
  local at = {}
  for i, x in ipairs(items) do
    local k = x
    if key then k = key(x) end
    if at[k] then fail.usage(string.format("%s[%d]", option, i), string.format("is listed twice (also %s[%d])",
      option, at[k]), x) end
    at[k] = i
  end
  return items
end

-- Option groups ------------------------------------------------------------------

--- The options that name a file a command reads.
M.INPUTS = { "--events", "--usage", "--input", "--shadow-book", "--config" }

function M.add_format(cmd)
  cmd:flag("--csv", "Write comma-separated values.")
  cmd:flag("--json", "Write JSON (amounts as exact decimal strings).")
  cmd:flag("--text", "Write an aligned text table (the default).")
  M.add_out(cmd)
end

function M.add_out(cmd)
  cmd:option("-o --out", "Write to this file instead of standard output (whole or not at all).")
end

function M.add_usage(cmd)
  cmd:option("--usage", "Usage history CSV (header: date,dau,groups[,mau,accounts,av_rooms,members,features]);"
    .. " '-' reads standard input.  Not with the generated-usage options.")
  cmd:option("--missing", "Missing days in the history: error, zero or carry.", "error")
    :choices { "error", "zero", "carry" }
  cmd:option("--duplicates", "Duplicate days in the history: error, max or last.", "error")
    :choices { "error", "max", "last" }
  cmd:option("--mau-ratio", "MAU = ratio x the month's peak DAU, when the history has no mau column.")
    :convert(M.ratio("--mau-ratio"))
  -- generators, used when no --usage is given
  cmd:option("--start", "Generated usage: the first month (YYYY-MM).")
    :convert(M.month("--start"))
  cmd:option("--months", "Number of months (of the horizon, or of generated usage).")
    :convert(M.count("--months"))
  cmd:option("--dau", "Generated usage: DAU in the first month."):convert(M.count("--dau"))
  -- the generator's defaults are said, not set: an option given with --usage is refused, so an option
  -- present is one the command line gave
  cmd:option("--growth", "Generated usage: monthly compound DAU growth, e.g. 5% or 0.05. (default: 0%)")
    :convert(M.ratio("--growth", true))
  cmd:option("--groups", "Generated usage: existing groups (constant). (default: 0)"):convert(M.count("--groups"))
  cmd:option("--weekend", "Generated usage: Saturday and Sunday DAU factor, e.g. 1.2.")
    :convert(M.ratio("--weekend"))
  cmd:option("--noise", "Generated usage: relative daily noise, e.g. 3%.")
    :convert(M.ratio("--noise"))
  cmd:option("--seed", "Generated usage: the noise seed. (default: 1)"):convert(M.count("--seed"))
end

function M.add_plan(cmd)
  cmd:option("--books", "Price books to price on, comma-separated (default: 2020,2021,2022).")
  cmd:option("--editions", "Only these editions, comma-separated book/edition (e.g. 2021/pro,2022/standard).")
  cmd:option("--from", "First month of the horizon (default: the usage's first month).")
    :convert(M.month("--from"))
  cmd:option("--to", "Last month of the horizon (default: the usage's last month).")
    :convert(M.month("--to"))
  cmd:option("--current", "The edition in force before the horizon, e.g. 2021/pro (default: a new app).")
  cmd:option("--activated", "Date of the first paid activation (default: the 1st of the first month).")
    :convert(M.date("--activated"))
  cmd:option("--needs", "Features the app needs, comma-separated (e.g. read_receipts,push_all).")
end

function M.add_breakeven(cmd, with_editions)
  if with_editions ~= false then
    cmd:option("--editions", "Editions to compare, comma-separated book/edition (default: those of --book).")
    cmd:option("--book", "Compare every edition of this book (when --editions is not given).", "2021")
  end
  cmd:option("--metric", "The usage that varies: dau, mau or groups.", "dau"):choices { "dau", "mau", "groups" }
  cmd:option("--from-value", "Start of the range.", "0"):convert(M.count("--from-value"))
  cmd:option("--to-value", "End of the range.", "100000"):convert(M.count("--to-value"))
  cmd:option("--mau-per-dau", "Let MAU follow DAU: MAU = ratio x DAU (compare DAU and MAU editions).")
    :convert(M.ratio("--mau-per-dau"))
  cmd:option("--groups-per-dau", "Let groups follow DAU: groups = ratio x DAU."):convert(M.ratio("--groups-per-dau"))
  cmd:option("--peak-dau", "Fixed peak DAU (when the metric is not dau)."):convert(M.count("--peak-dau"))
  cmd:option("--groups-peak", "Fixed peak groups."):convert(M.count("--groups-peak"))
  cmd:option("--mau", "Fixed MAU."):convert(M.count("--mau"))
end

-- The parser ---------------------------------------------------------------------

-- Help is written like every other output: a failed write is exit code 3.
local function checked_help(parser)
  parser:add_help {
    action = function()
      local ok, _, code = io.stdout:write(parser:get_help(), "\n")
      if ok then ok, _, code = io.stdout:flush() end
      if not ok then
        io.stderr:write("imbill: error: " .. tostring(require("imbill.internal.files").error(nil, "standard output",
          "cannot write", errors.NOVALUE, code)) .. "\n")
        os.exit(3)
      end
      os.exit(0)
    end,
  }
end

--- The parser, and the command modules by name.
function M.parser()
  local argparse = fail.need "argparse"
  local p = argparse("imbill", "Exact Tencent Cloud IM pricing: invoices, comparisons and what-if planning.")
    :epilog([[
Exit codes: 0 success; 1 imbill refused the input (the message names the field);
2 bad command line; 3 a file could not be read or written; 4 command not available.

Examples:
  imbill invoice --book 2020 --edition pro --month 2021-03 --peak-dau 25000 --groups-peak 250000
  imbill project --usage examples/data/usage_2021.csv --books 2020,2021
  imbill breakeven --editions 2021/pro,2022/standard --mau-per-dau 3 --to-value 60000

Run 'imbill COMMAND --help' for a command's options.]])
  checked_help(p)
  p:command_target("command")
  p:require_command(false)
  p:flag("--version", "Print the version and exit.")
  local modules = {}
  for _, name in ipairs(M.COMMANDS) do
    local mod = require("imbill.cli.commands." .. name)
    local c = p:command(name, mod.summary):epilog(mod.epilog)
    checked_help(c)
    -- an option given twice is refused, where argparse kept the last value
    -- (`--peak-dau 5 ... --peak-dau 6` billed 6 and said nothing); the
    -- repeatable ones (count "*") still repeat
    local option = c.option
    c.option = function(self, ...) return option(self, ...):overwrite(false) end
    mod.define(c, M)
    modules[name] = mod
  end
  return p, modules
end

return M
