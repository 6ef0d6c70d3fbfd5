--- The `imbill` command-line tool (built on lua-argparse).  cli.main(args)
-- runs one command and returns the process exit code:
--
--   0  success
--   1  imbill refused the input (a malformed usage file, an unknown edition, a
--      value out of range); the message on standard error names the field
--   2  the command line is wrong (unknown command or option, a missing or
--      malformed value); the message is followed by the command's usage
--   3  a file could not be read or written
--   4  the command is not available in this installation (replay needs the
--      metering module)
--
-- Output goes to standard output: an aligned text table by default, --csv or
-- --json (amounts as exact decimal strings).  A progress bar is drawn on
-- standard error only when it is a terminal and the run lasts over a second.
local csv = require "imbill.internal.csv"

local M = {}

local EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_IO, EXIT_UNAVAILABLE = 0, 1, 2, 3, 4
M.EXIT = { ok = 0, input = 1, usage = 2, io = 3, unavailable = 4 }

-- Errors the commands raise on purpose carry their exit code.
local Fail = {}
Fail.__index = Fail
Fail.__tostring = function(f) return f.message end
local function fail(code, msg) error(setmetatable({ code = code, message = msg }, Fail), 0) end
local function usage_error(msg) fail(EXIT_USAGE, msg) end

-- The command's two Lua dependencies are not the library's (the rockspec does
-- not list them, so it builds offline): a missing one is exit code 4.
local PACKAGES = { argparse = "lua-argparse", dkjson = "lua-dkjson" }
local function need(mod)
  local ok, m = pcall(require, mod)
  if not ok then
    fail(EXIT_UNAVAILABLE, string.format("this needs the Lua module %s (Debian: apt-get install %s;"
      .. " LuaRocks: luarocks install %s)", mod, PACKAGES[mod], mod))
  end
  return m
end

local function clean(e)
  return (tostring(e):gsub("^[^:\n]-%.lua:%d+: ", ""))
end

-- Progress -----------------------------------------------------------------------

local tty_cache
local function stderr_is_tty()
  if tty_cache == nil then
    local force = os.getenv("IMBILL_PROGRESS")
    if force == "always" then tty_cache = true
    elseif force == "never" then tty_cache = false
    else
      local ok, _, code = os.execute("test -t 2")
      tty_cache = (ok == true or ok == 0) and (code == nil or code == 0)
    end
  end
  return tty_cache
end

local function now()
  -- wall-clock seconds with sub-second resolution where `date` cannot help:
  -- os.clock is CPU time, which is what a CPU-bound run spends
  return os.clock()
end

--- A progress bar on standard error, drawn only on a terminal and only once
-- the run has lasted more than a second.
function M.progress(label, enabled)
  local p = { started = now(), drawn = false, last = -1 }
  local on = enabled ~= false and stderr_is_tty()
  function p.update(done, total)
    if not on then return end
    if now() - p.started < 1 then return end
    local pct = total > 0 and math.floor(done * 100 / total) or 100
    if pct == p.last then return end
    p.last = pct
    local width = 30
    local fill = math.floor(width * pct / 100)
    io.stderr:write(string.format("\r%s [%s%s] %3d%% %d/%d", label, string.rep("#", fill),
      string.rep(".", width - fill), pct, done, total))
    io.stderr:flush()
    p.drawn = true
  end
  function p.finish()
    if p.drawn then
      io.stderr:write("\r" .. string.rep(" ", 70) .. "\r")
      io.stderr:flush()
    end
  end
  return p
end

-- Output -------------------------------------------------------------------------

local function json_encode(data)
  local json = need "dkjson"
  return json.encode(data, { indent = true }) .. "\n"
end

local csv_rows = csv.rows

-- Writes text to --out or standard output.
local function emit(args, text)
  if args.out and args.out ~= "-" then
    local f, e = io.open(args.out, "wb")
    if not f then fail(EXIT_IO, "cannot write " .. tostring(e)) end
    f:write(text)
    f:close()
    return
  end
  io.stdout:write(text)
  if text:sub(-1) ~= "\n" then io.stdout:write("\n") end
end

-- One result in the chosen format: obj has :table() (or __tostring), :csv(), :data().
local function output(args, obj)
  if args.json then return emit(args, json_encode(obj:data())) end
  if args.csv then return emit(args, obj:csv()) end
  return emit(args, tostring(obj))
end

-- Argument helpers ---------------------------------------------------------------

local function count_arg(name)
  return function(s)
    if type(s) ~= "string" or not s:match("^%d+$") or #s > 15 then
      return nil, string.format("%s: expected a whole number >= 0, got '%s'", name, tostring(s))
    end
    return math.tointeger and math.tointeger(tonumber(s)) or tonumber(s)
  end
end

local function month_arg(name)
  return function(s)
    if type(s) ~= "string" or not s:match("^%d%d%d%d%-%d%d$") then
      return nil, string.format("%s: expected a month YYYY-MM, got '%s'", name, tostring(s))
    end
    return s
  end
end

local function date_arg(name)
  return function(s)
    if type(s) ~= "string" or not s:match("^%d%d%d%d%-%d%d%-%d%d$") then
      return nil, string.format("%s: expected a date YYYY-MM-DD, got '%s'", name, tostring(s))
    end
    return s
  end
end

local function ratio_arg(name, signed)
  return function(s)
    local pat = signed and "^%-?%d+%.?%d*%%?$" or "^%d+%.?%d*%%?$"
    if type(s) ~= "string" or not s:match(pat) then
      return nil, string.format("%s: expected a %snumber or a percentage such as 1.5 or 5%%, got '%s'", name,
        signed and "signed " or "", tostring(s))
    end
    return s
  end
end

local function list(s)
  if s == nil then return nil end
  local out = {}
  for x in tostring(s):gmatch("[^,%s]+") do out[#out + 1] = x end
  return out
end

local function add_format(cmd)
  cmd:flag("--csv", "Write comma-separated values.")
  cmd:flag("--json", "Write JSON (amounts as exact decimal strings).")
  cmd:flag("--text", "Write an aligned text table (the default).")
  cmd:option("-o --out", "Write to this file instead of standard output.")
end

local function add_usage_opts(cmd)
  cmd:option("--usage", "Usage history CSV (header: date,dau,groups[,mau,accounts,av_rooms,members,features]);"
    .. " '-' reads standard input.")
  cmd:option("--missing", "Missing days in the history: error, zero or carry.", "error")
    :choices { "error", "zero", "carry" }
  cmd:option("--duplicates", "Duplicate days in the history: error, max or last.", "error")
    :choices { "error", "max", "last" }
  cmd:option("--mau-ratio", "MAU = ratio x the month's peak DAU, when the history has no mau column.")
    :convert(ratio_arg("--mau-ratio"))
  -- generators, used when no --usage is given
  cmd:option("--start", "Generated usage: the first month (YYYY-MM).")
    :convert(month_arg("--start"))
  cmd:option("--months", "Number of months (of the horizon, or of generated usage).")
    :convert(count_arg("--months"))
  cmd:option("--dau", "Generated usage: DAU in the first month."):convert(count_arg("--dau"))
  cmd:option("--growth", "Generated usage: monthly compound DAU growth, e.g. 5% or 0.05.", "0%")
    :convert(ratio_arg("--growth", true))
  cmd:option("--groups", "Generated usage: existing groups (constant).", "0"):convert(count_arg("--groups"))
  cmd:option("--weekend", "Generated usage: Saturday and Sunday DAU factor, e.g. 1.2.")
    :convert(ratio_arg("--weekend"))
  cmd:option("--noise", "Generated usage: relative daily noise, e.g. 3%.")
    :convert(ratio_arg("--noise"))
  cmd:option("--seed", "Generated usage: the noise seed.", "1"):convert(count_arg("--seed"))
end

local function add_plan_opts(cmd)
  cmd:option("--books", "Price books to price on, comma-separated (default: 2020,2021,2022).")
  cmd:option("--editions", "Only these editions, comma-separated book/edition (e.g. 2021/pro,2022/standard).")
  cmd:option("--from", "First month of the horizon (default: the usage's first month).")
    :convert(month_arg("--from"))
  cmd:option("--to", "Last month of the horizon (default: the usage's last month).")
    :convert(month_arg("--to"))
  cmd:option("--current", "The edition in force before the horizon, e.g. 2021/pro (default: a new app).")
  cmd:option("--activated", "Date of the first paid activation (default: the 1st of the first month).")
    :convert(date_arg("--activated"))
  cmd:option("--needs", "Features the app needs, comma-separated (e.g. read_receipts,push_all).")
end

-- The usage series from --usage or the generator options.
local function usage_series(args)
  local S = require "imbill.whatif.series"
  if args.usage then
    local opts = { missing = args.missing, duplicates = args.duplicates, mau_ratio = args.mau_ratio }
    if args.usage ~= "-" then
      local f = io.open(args.usage, "rb")
      if not f then fail(EXIT_IO, "--usage: cannot open " .. args.usage) end
      f:close()
    end
    return S.read_csv(args.usage, opts)
  end
  if not args.dau then
    usage_error("give a usage history (--usage FILE, or - for standard input) or generated usage (--dau N"
      .. " --start YYYY-MM --months N [--growth 5%])")
  end
  if not args.start then usage_error("generated usage needs --start YYYY-MM") end
  local dau = S.compound { start = args.dau, rate = args.growth or "0%" }
  if args.weekend then dau = dau * S.weekly { sat = args.weekend, sun = args.weekend } end
  if args.noise then dau = dau * S.noise { seed = args.seed, relative = args.noise } end
  return S.build { from = args.start, months = args.months or 12, dau = dau, groups = args.groups or 0,
                   mau_ratio = args.mau_ratio }
end

local function run_projection(args)
  local imbill = require "imbill"
  local s = usage_series(args)
  local bar = M.progress("project", not args.no_progress)
  local p = imbill.project {
    usage = s, books = list(args.books), editions = list(args.editions), from = args.from, to = args.to,
    months = (args.usage and not args.to) and args.months or nil, current = args.current,
    activated = args.activated, needs = list(args.needs),
    progress = function(d, t) bar.update(d, t) end,
  }
  bar.finish()
  return p, s
end

-- Commands -------------------------------------------------------------------------

local commands = {}

local function wrap(t)
  return setmetatable(t, { __tostring = function(x) return x.table() end })
end

local function fix_output(args, w)
  if args.json then return emit(args, json_encode(w.data())) end
  if args.csv then return emit(args, w.csv()) end
  return emit(args, w.table())
end

-- replace the generic output for closures-based results
local function out_obj(args, obj) return fix_output(args, obj) end


function commands.invoice(args)
  local imbill = require "imbill"
  local u = {}
  if args.input then
    local json = need "dkjson"
    local text
    if args.input == "-" then text = io.read("a") else
      local f = io.open(args.input, "rb")
      if not f then fail(EXIT_IO, "--input: cannot open " .. args.input) end
      text = f:read("a")
      f:close()
    end
    local obj, _, err = json.decode(text)
    if type(obj) ~= "table" then fail(EXIT_INPUT, "--input: not a JSON object" .. (err and (": " .. err) or "")) end
    u = obj
  end
  local function set(k, v) if v ~= nil then u[k] = v end end
  set("book", args.book)
  set("edition", args.edition)
  set("month", args.month)
  set("activated", args.activated)
  if args.usage then
    local s = usage_series(args)
    local month = u.month or args.month
    if not month then usage_error("--month is required with --usage") end
    local usage = s:usage(month)
    u.dau, u.groups, u.peak_dau, u.groups_peak, u.mau = usage.dau, usage.groups, usage.peak_dau, usage.groups_peak,
      usage.mau
  end
  set("peak_dau", args.peak_dau)
  set("groups_peak", args.groups_peak)
  set("mau", args.mau)
  if args.change_on or args.change_to then
    if not (args.change_on and args.change_to) then usage_error("--change-on and --change-to go together") end
    u.change = { on = args.change_on, to = args.change_to }
  end
  if args.addons then u.addons = list(args.addons) end
  if u.month == nil then usage_error("--month is required (or a \"month\" field in --input)") end
  if u.edition == nil then usage_error("--edition is required (or an \"edition\" field in --input)") end
  local inv = imbill.invoice(u)
  out_obj(args, {
    table = function() return tostring(inv) end,
    data = function() return inv:data() end,
    csv = function()
      local rows = {}
      for _, l in ipairs(inv.lines) do
        rows[#rows + 1] = { inv.month, inv.book, inv.edition, l.code, tostring(l.amount), l.quantity, l.note }
      end
      rows[#rows + 1] = { inv.month, inv.book, inv.edition, "total", tostring(inv.total), "", "due " .. inv.due }
      return csv_rows({ "month", "book", "edition", "line", "amount", "quantity", "note" }, rows)
    end,
  })
  return EXIT_OK
end

function commands.compare(args)
  local imbill = require "imbill"
  if not args.month then usage_error("--month is required") end
  local p = { month = args.month, peak_dau = args.peak_dau, groups_peak = args.groups_peak, mau = args.mau,
              needs = list(args.needs), books = list(args.books), accounts = args.accounts }
  if args.usage then
    local s = usage_series(args)
    local r = s:month(args.month)
    p.peak_dau, p.groups_peak, p.mau = r.peak_dau, r.groups_peak, r.mau
    p.accounts = p.accounts or r.accounts
  end
  local rows = imbill.compare(p)
  out_obj(args, wrap {
    table = function() return tostring(rows) end,
    data = function()
      local d = {}
      for i, r in ipairs(rows) do
        d[i] = { book = r.book, edition = r.edition, total = tostring(r.total), eligible = r.eligible,
                 reasons = r.reasons }
      end
      return d
    end,
    csv = function()
      local out = {}
      for i, r in ipairs(rows) do
        out[i] = { i, r.book, r.edition, tostring(r.total), tostring(r.eligible), table.concat(r.reasons, "; ") }
      end
      return csv_rows({ "rank", "book", "edition", "total", "eligible", "reasons" }, out)
    end,
  })
  return EXIT_OK
end

function commands.project(args)
  local p = run_projection(args)
  output(args, p)
  return EXIT_OK
end

function commands.migrate(args)
  local imbill = require "imbill"
  local s = usage_series(args)
  local mig = imbill.migration { usage = s, from = args.from_edition, to = args.to_edition, from_month = args.from,
                                 to_month = args.to, needs = list(args.needs) }
  output(args, mig)
  return EXIT_OK
end

local function breakeven_params(args)
  local eds = list(args.editions)
  local follow
  if args.mau_per_dau then follow = { mau = args.mau_per_dau } end
  if args.groups_per_dau then follow = follow or {} follow.groups = args.groups_per_dau end
  return { editions = eds, book = args.book, metric = args.metric, from = args.from_value, to = args.to_value,
           follow = follow, usage = { peak_dau = args.peak_dau, groups_peak = args.groups_peak, mau = args.mau } }
end

function commands.breakeven(args)
  local imbill = require "imbill"
  local t = imbill.breakeven_table(breakeven_params(args))
  output(args, t)
  return EXIT_OK
end

local function read_book(path)
  local json = need "dkjson"
  local text
  if path == "-" then text = io.read("a") else
    local f = io.open(path, "rb")
    if not f then fail(EXIT_IO, "--shadow-book: cannot open " .. path) end
    text = f:read("a")
    f:close()
  end
  local obj, _, err = json.decode(text)
  if type(obj) ~= "table" then fail(EXIT_INPUT, "--shadow-book: not a JSON object" .. (err and (": " .. err) or "")) end
  return obj
end

function commands.shadow(args)
  local imbill = require "imbill"
  if args.usage == "-" and args.shadow_book == "-" then usage_error("--usage and --shadow-book cannot both be '-'") end
  local s = usage_series(args)
  local shadow
  if args.shadow_book then shadow = read_book(args.shadow_book) else shadow = { base = args.base, editions = {} } end
  shadow.base = shadow.base or args.base
  shadow.name = shadow.name or args.shadow_name or "what-if"
  shadow.editions = shadow.editions or {}
  for _, f in ipairs(args.fee or {}) do
    local ed, fee = f:match("^([%w_%-]+)=(%d+%.?%d*)$")
    if not ed then usage_error("--fee: expected EDITION=AMOUNT such as pro=129.99, got '" .. f .. "'") end
    shadow.editions[ed] = shadow.editions[ed] or {}
    shadow.editions[ed].monthly_fee = fee
  end
  if not args.shadow_book and #(args.fee or {}) == 0 then
    usage_error("give the modified book: --fee pro=129.99 (repeatable) or --shadow-book book.json")
  end
  local sh = imbill.shadow { usage = s, base = args.base, shadow = shadow, editions = list(args.editions),
                             from = args.from, to = args.to }
  output(args, sh)
  return EXIT_OK
end

function commands.grid(args)
  local imbill = require "imbill"
  local function range_or_list(s, name, signed)
    if not s then return nil end
    local a, b, step = s:match("^(%-?[%d%.]+%%?)%.%.(%-?[%d%.]+%%?):?([%d%.]*%%?)$")
    if a then
      if name == "growth" then
        local S = require "imbill.whatif.series"
        local pa, pb = S.ppm("--growth", "from", a, true), S.ppm("--growth", "to", b, true)
        local ps = step ~= "" and S.ppm("--growth", "step", step) or 10000
        if ps <= 0 then usage_error("--growth: the step must be above 0") end
        return { from = pa, to = pb, step = ps }, true
      end
      return { from = tonumber(a), to = tonumber(b), step = step ~= "" and tonumber(step) or 1 }
    end
    local l = list(s)
    if not signed then
      for i, x in ipairs(l) do
        if not x:match("^%d+$") then usage_error("--" .. name .. ": expected whole numbers, got '" .. x .. "'") end
        l[i] = math.tointeger and math.tointeger(tonumber(x)) or tonumber(x)
      end
    end
    return l
  end
  local growth, ppm = range_or_list(args.growth or "0%", "growth", true)
  local start = range_or_list(args.start_dau, "start-dau")
  if not start then usage_error("--start-dau is required: a list (1000,5000) or a range (1000..100000:1000)") end
  local bar = M.progress("grid", not args.no_progress)
  local g = imbill.grid {
    editions = list(args.editions), growth = not ppm and growth or nil, growth_ppm = ppm and growth or nil,
    start_dau = start, months = args.months or 12, groups = args.groups, mau_per_dau = args.mau_per_dau,
    progress = function(d, t) bar.update(d, t) end,
  }
  bar.finish()
  local by = g:by_edition()
  local all = g:summary()
  local P = { "min", "p5", "p25", "p50", "p75", "p95", "max", "mean" }
  out_obj(args, wrap {
    table = function()
      local fmt = require "imbill.internal.fmt"
      local money = require "imbill.internal.money"
      local rows = {}
      for _, s in ipairs(by) do
        local r = { s.edition, fmt.int(s.n), fmt.int(s.wins) }
        for _, k in ipairs(P) do r[#r + 1] = money.pretty(s[k]) end
        rows[#rows + 1] = r
      end
      local r = { "all", fmt.int(all.n), "" }
      for _, k in ipairs(P) do r[#r + 1] = money.pretty(all[k]) end
      rows[#rows + 1] = r
      local right = { false, true, true, true, true, true, true, true, true, true, true }
      return tostring(g) .. "\n" .. fmt.table({ "edition", "scenarios", "cheapest", "min", "p5", "p25", "median", "p75",
        "p95", "max", "mean" }, rows, right) .. string.format("\ncheapest scenario: %s, %s a month growth, %s DAU: %s"
        .. "\ndearest scenario: %s, %s a month growth, %s DAU: %s", all.argmin.edition, all.argmin.growth,
        fmt.int(all.argmin.start_dau), money.pretty(all.argmin.total), all.argmax.edition, all.argmax.growth,
        fmt.int(all.argmax.start_dau), money.pretty(all.argmax.total))
    end,
    data = function()
      local d = { scenarios = g:size(), months = g.spec.months, editions = {} }
      local function sd(s)
        local o = { n = s.n, wins = s.wins }
        for _, k in ipairs(P) do o[k] = tostring(s[k]) end
        return o
      end
      for i, s in ipairs(by) do d.editions[i] = sd(s) d.editions[i].edition = s.edition end
      d.all = sd(all)
      d.all.argmin = { edition = all.argmin.edition, growth = all.argmin.growth, start_dau = all.argmin.start_dau,
                       total = tostring(all.argmin.total) }
      d.all.argmax = { edition = all.argmax.edition, growth = all.argmax.growth, start_dau = all.argmax.start_dau,
                       total = tostring(all.argmax.total) }
      return d
    end,
    csv = function()
      local rows = {}
      for _, s in ipairs(by) do
        local r = { s.edition, s.n, s.wins }
        for _, k in ipairs(P) do r[#r + 1] = tostring(s[k]) end
        rows[#rows + 1] = r
      end
      local r = { "all", all.n, "" }
      for _, k in ipairs(P) do r[#r + 1] = tostring(all[k]) end
      rows[#rows + 1] = r
      return csv_rows({ "edition", "scenarios", "wins", "min", "p5", "p25", "p50", "p75", "p95", "max", "mean" }, rows)
    end,
  })
  return EXIT_OK
end

function commands.replay(args)
  if not args.events then usage_error("--events is required (a file, or - for standard input)") end
  local replay = require "imbill.meter.replay"
  local imbill = require "imbill"
  local path, tmp = args.events, nil
  if path == "-" then
    if not args.format then usage_error("--events - (standard input) needs --format csv or jsonl") end
    tmp = os.tmpname()
    local f = io.open(tmp, "wb")
    if not f then fail(EXIT_IO, "cannot write a temporary file") end
    f:write(io.read("a"))
    f:close()
    path = tmp
  else
    local f = io.open(path, "rb")
    if not f then fail(EXIT_IO, "--events: cannot open " .. path) end
    f:close()
  end
  local ok, meter, report = pcall(replay.run, { path = path, format = args.format, book = args.book,
                                                edition = args.edition, tz = args.tz, strict = args.strict })
  if tmp then os.remove(tmp) end
  if not ok then error(meter, 0) end
  local months = (args.month and #args.month > 0) and args.month or report.months or {}
  local invoices = {}
  if meter then
    for i, m in ipairs(months) do invoices[i] = imbill.invoice(meter:usage(m)) end
  end
  local errors = report.errors or {}
  local refusals = report.refusals or {}
  out_obj(args, wrap {
    table = function()
      local out = { string.format("replayed %s: %d lines, %d events, %d duplicates, %d refused, %d malformed",
        args.events, report.lines or 0, report.events or 0, report.duplicates or 0, report.refused or 0, #errors) }
      for _, e in ipairs(errors) do out[#out + 1] = string.format("  line %s: %s", tostring(e.line), e.message) end
      for _, r in ipairs(refusals) do
        out[#out + 1] = string.format("  line %s refused (%s): %s", tostring(r.line), tostring(r.code), r.message)
      end
      if not meter then out[#out + 1] = "strict: nothing was counted" end
      for _, inv in ipairs(invoices) do out[#out + 1] = "" out[#out + 1] = tostring(inv) end
      return table.concat(out, "\n")
    end,
    data = function()
      local d = { lines = report.lines, events = report.events, duplicates = report.duplicates, refused = report.refused,
                  errors = errors, refusals = refusals, months = months, invoices = {} }
      for i, inv in ipairs(invoices) do d.invoices[i] = inv:data() end
      return d
    end,
    csv = function()
      local rows = {}
      for _, inv in ipairs(invoices) do
        for _, l in ipairs(inv.lines) do rows[#rows + 1] = { inv.month, l.code, tostring(l.amount), l.note } end
        rows[#rows + 1] = { inv.month, "total", tostring(inv.total), "due " .. inv.due }
      end
      return csv_rows({ "month", "line", "amount", "note" }, rows)
    end,
  })
  if args.strict and #errors > 0 then return EXIT_INPUT end
  return EXIT_OK
end

function commands.chart(args)
  local imbill = require "imbill"
  local doc
  if args.kind == "curves" then
    doc = imbill.chart.cost_curves(imbill.breakeven_table(breakeven_params(args)))
  else
    local p = run_projection(args)
    doc = args.kind == "bars" and imbill.chart.projection_bars(p) or imbill.chart.path_timeline(p)
  end
  emit(args, doc:file())
  return EXIT_OK
end

function commands.report(args)
  local imbill = require "imbill"
  local p, s = run_projection(args)
  local bt
  local eds = list(args.breakeven)
  if eds then
    local params = breakeven_params(args)
    params.editions = eds
    bt = imbill.breakeven_table(params)
  end
  local mig
  if args.migration then
    mig = imbill.migration { usage = s, from = args.from_edition, to = args.to_edition, from_month = args.from,
                             to_month = args.to }
  end
  emit(args, imbill.report { projection = p, breakeven = bt, migration = mig, title = args.title })
  return EXIT_OK
end

-- The parser ------------------------------------------------------------------------

local function add_breakeven_opts(cmd, with_editions)
  if with_editions ~= false then
    cmd:option("--editions", "Editions to compare, comma-separated book/edition (default: those of --book).")
    cmd:option("--book", "Compare every edition of this book (when --editions is not given).", "2021")
  end
  cmd:option("--metric", "The usage that varies: dau, mau or groups.", "dau"):choices { "dau", "mau", "groups" }
  cmd:option("--from-value", "Start of the range.", "0"):convert(count_arg("--from-value"))
  cmd:option("--to-value", "End of the range.", "100000"):convert(count_arg("--to-value"))
  cmd:option("--mau-per-dau", "Let MAU follow DAU: MAU = ratio x DAU (compare DAU and MAU editions).")
    :convert(ratio_arg("--mau-per-dau"))
  cmd:option("--groups-per-dau", "Let groups follow DAU: groups = ratio x DAU."):convert(ratio_arg("--groups-per-dau"))
  cmd:option("--peak-dau", "Fixed peak DAU (when the metric is not dau)."):convert(count_arg("--peak-dau"))
  cmd:option("--groups-peak", "Fixed peak groups."):convert(count_arg("--groups-peak"))
  cmd:option("--mau", "Fixed MAU."):convert(count_arg("--mau"))
end

function M.parser()
  local argparse = need "argparse"
  local p = argparse("imbill", "Exact Tencent Cloud IM pricing: invoices, comparisons and what-if planning.")
    :epilog([[
Exit codes: 0 success; 1 imbill refused the input (the message names the field);
2 bad command line; 3 a file could not be read or written; 4 command not available.

Examples:
  imbill invoice --book 2020 --edition pro --month 2021-03 --peak-dau 25000 --groups-peak 250000
  imbill project --usage examples/data/usage_2021.csv --books 2020,2021
  imbill breakeven --editions 2021/pro,2022/standard --mau-per-dau 3 --to-value 60000

Run 'imbill COMMAND --help' for a command's options.]])
  p:command_target("command")
  p:require_command(false)
  p:flag("--version", "Print the version and exit.")

  local c = p:command("invoice", "One month's invoice.")
    :epilog([[
Example:
  imbill invoice --book 2020 --edition pro --month 2021-03 --peak-dau 25000 \
                 --groups-peak 250000 --activated 2021-03-10
  echo '{"book":"2022","edition":"standard","month":"2023-03","mau":25000}' | imbill invoice --input - --json]])
  c:option("--book", "Price book: 2020, 2021 or 2022 (default: the one in force for the month).")
  c:option("--edition", "Edition id, e.g. pro.")
  c:option("--month", "The invoice month, YYYY-MM."):convert(month_arg("--month"))
  c:option("--peak-dau", "Peak DAU of the month."):convert(count_arg("--peak-dau"))
  c:option("--groups-peak", "Peak number of groups."):convert(count_arg("--groups-peak"))
  c:option("--mau", "Monthly active users (price book 2022)."):convert(count_arg("--mau"))
  c:option("--activated", "First paid activation date."):convert(date_arg("--activated"))
  c:option("--change-on", "Date of the month's edition change."):convert(date_arg("--change-on"))
  c:option("--change-to", "Edition changed to.")
  c:option("--addons", "Add-ons, comma-separated (e.g. av_unlimited).")
  c:option("--input", "A JSON object with imbill.invoice's fields; '-' reads standard input.")
  add_usage_opts(c)
  add_format(c)

  c = p:command("compare", "Every edition of every price book for one month, cheapest first.")
    :epilog([[
Example:
  imbill compare --month 2021-03 --peak-dau 25000 --groups-peak 250000 --needs local_search
  imbill compare --month 2021-06 --usage examples/data/usage_2021.csv --csv]])
  c:option("--month", "The month, YYYY-MM (required)."):convert(month_arg("--month"))
  c:option("--peak-dau", "Peak DAU."):convert(count_arg("--peak-dau"))
  c:option("--groups-peak", "Peak groups."):convert(count_arg("--groups-peak"))
  c:option("--mau", "MAU."):convert(count_arg("--mau"))
  c:option("--accounts", "Registered accounts (a quota)."):convert(count_arg("--accounts"))
  c:option("--needs", "Features needed, comma-separated.")
  c:option("--books", "Price books to try, comma-separated.")
  add_usage_opts(c)
  add_format(c)

  c = p:command("project", "Cost month by month on every edition, the best edition and the cheapest legal path.")
    :epilog([[
Examples:
  imbill project --usage examples/data/usage_2021.csv --books 2020
  imbill project --dau 8000 --growth 10% --start 2023-01 --months 6 --mau-ratio 3 --books 2022 --json
  cat history.csv | imbill project --usage - --current 2021/pro --csv]])
  add_usage_opts(c)
  add_plan_opts(c)
  c:flag("--no-progress", "Never draw the progress bar.")
  add_format(c)

  c = p:command("migrate", "The 2021 DAU plan against the 2022 MAU plan, month by month (cannot be undone).")
    :epilog([[
Example:
  imbill migrate --usage examples/data/usage_2021.csv --from-edition 2021/pro]])
  add_usage_opts(c)
  c:option("--from-edition", "The DAU-plan edition the app is on.", "2021/pro")
  c:option("--to-edition", "The MAU-plan edition (default: the cheapest that serves every month).")
  c:option("--from", "First month."):convert(month_arg("--from"))
  c:option("--to", "Last month."):convert(month_arg("--to"))
  c:option("--needs", "Features needed, comma-separated.")
  add_format(c)

  c = p:command("breakeven", "Exact break-even points between editions, and their cost curves.")
    :epilog([[
Examples:
  imbill breakeven --editions 2021/pro,2021/ultimate,2020/flagship --to-value 200000
  imbill breakeven --editions 2021/pro,2022/standard --mau-per-dau 3 --to-value 60000 --json]])
  add_breakeven_opts(c)
  add_format(c)

  c = p:command("shadow", "The same usage under a built-in and a modified price book, line by line.")
    :epilog([[
Examples:
  imbill shadow --usage examples/data/usage_2021.csv --base 2020 --fee pro=129.99 --editions pro
  imbill shadow --usage usage.csv --base 2021 --shadow-book mybook.json --csv
  (mybook.json: {"base":"2021","name":"what-if","editions":{"pro":{"dau":{"price":"399.99"}}}})]])
  add_usage_opts(c)
  c:option("--base", "The built-in price book.", "2020")
  c:option("--fee", "A changed monthly fee, EDITION=AMOUNT (repeatable).")
    :count("*")
  c:option("--shadow-book", "A JSON user book (as imbill.book{...} takes); '-' reads standard input.")
  c:option("--shadow-name", "Name of the modified book.")
  c:option("--editions", "Editions to compare, comma-separated ids (default: all both books have).")
  c:option("--from", "First month."):convert(month_arg("--from"))
  c:option("--to", "Last month."):convert(month_arg("--to"))
  add_format(c)

  c = p:command("grid", "Millions of scenarios (edition x growth x starting DAU) through the C fast path.")
    :epilog([[
Example:
  imbill grid --growth=-2%..10%:0.5% --start-dau 1000..200000:100 --months 12 --mau-per-dau 3
  (6 paid editions x 25 rates x 1,991 starts = 298,650 scenarios; ranges are FROM..TO:STEP)]])
  c:option("--editions", "Editions, comma-separated book/edition (default: every paid built-in edition).")
  c:option("--growth", "Monthly growth rates: a list (0%,5%) or a range (--growth=-2%..10%:0.5%).", "0%")
  c:option("--start-dau", "Starting DAU: a list (1000,5000) or a range (1000..100000:1000).")
  c:option("--months", "Months per scenario.", "12"):convert(count_arg("--months"))
  c:option("--groups", "Existing groups (constant).", "0"):convert(count_arg("--groups"))
  c:option("--mau-per-dau", "MAU = ratio x DAU (for MAU-billed editions)."):convert(ratio_arg("--mau-per-dau"))
  c:flag("--no-progress", "Never draw the progress bar.")
  add_format(c)

  c = p:command("replay", "Replay a metering event log and invoice its months.")
    :epilog([[
Example:
  imbill replay --events examples/events.csv --book 2020 --edition pro --month 2021-03]])
  c:option("--events", "The event log (CSV or JSON lines; required); '-' reads standard input.")
  c:option("--format", "csv or jsonl (default: from the file name)."):choices { "csv", "jsonl" }
  c:option("--book", "Price book.", "2020")
  c:option("--edition", "The edition at the start.", "trial")
  c:option("--tz", "Billing time zone offset, e.g. +08:00.")
  c:option("--month", "A month to invoice (repeatable)."):count("*"):convert(month_arg("--month"))
  c:flag("--strict", "Stop at the first malformed event; exit 1 if any.")
  add_format(c)

  c = p:command("chart", "Write an SVG chart: cost curves, projection bars or the cheapest-path timeline.")
    :epilog([[
Examples:
  imbill chart curves --editions 2021/pro,2021/ultimate,2022/standard --mau-per-dau 3 --to-value 60000 -o curves.svg
  imbill chart bars --usage examples/data/usage_2021.csv --books 2020 -o bars.svg
  imbill chart path --usage examples/data/usage_2021.csv --books 2021 -o path.svg]])
  c:argument("kind", "curves, bars or path."):choices { "curves", "bars", "path" }
  add_breakeven_opts(c)
  add_usage_opts(c)
  c:option("--books", "Price books (bars, path).")
  c:option("--from", "First month (bars, path)."):convert(month_arg("--from"))
  c:option("--to", "Last month (bars, path)."):convert(month_arg("--to"))
  c:option("--current", "The edition in force before the horizon (bars, path).")
  c:option("--activated", "First paid activation (bars, path)."):convert(date_arg("--activated"))
  c:option("--needs", "Features needed (bars, path).")
  c:flag("--no-progress", "Never draw the progress bar.")
  c:option("-o --out", "Write to this file instead of standard output.")

  c = p:command("report", "One self-contained HTML page: a projection's tables and charts.")
    :epilog([[
Example:
  imbill report --usage examples/data/usage_2021.csv --books 2020,2021 \
      --breakeven 2021/pro,2021/ultimate,2022/standard --mau-per-dau 3 --migration -o report.html]])
  add_usage_opts(c)
  add_plan_opts(c)
  c:option("--breakeven", "Also a break-even table and chart of these editions (comma-separated).")
  c:option("--metric", "Break-even metric: dau, mau or groups.", "dau"):choices { "dau", "mau", "groups" }
  c:option("--from-value", "Break-even range start.", "0"):convert(count_arg("--from-value"))
  c:option("--to-value", "Break-even range end.", "100000"):convert(count_arg("--to-value"))
  c:option("--mau-per-dau", "Break-even: MAU = ratio x DAU."):convert(ratio_arg("--mau-per-dau"))
  c:flag("--migration", "Also the DAU-to-MAU migration table.")
  c:option("--from-edition", "Migration: the DAU-plan edition.", "2021/pro")
  c:option("--to-edition", "Migration: the MAU-plan edition.")
  c:option("--title", "The page title.")
  c:flag("--no-progress", "Never draw the progress bar.")
  c:option("-o --out", "Write to this file instead of standard output.")
  return p
end

--- Runs one command line (an array of strings, as `arg`); returns the exit code.
function M.main(argv)
  local args_in = {}
  for i = 1, #(argv or {}) do args_in[i] = argv[i] end
  local okp, parser = pcall(M.parser)
  if not okp then
    io.stderr:write("imbill: error: " .. tostring(parser) .. "\n")
    return getmetatable(parser) == Fail and parser.code or EXIT_UNAVAILABLE
  end
  local ok, args = parser:pparse(args_in)
  if not ok then
    local cmdname
    for _, a in ipairs(args_in) do
      if not a:match("^%-") then cmdname = a break end
    end
    io.stderr:write("imbill: error: " .. tostring(args) .. "\n")
    io.stderr:write("Run 'imbill " .. (cmdname and commands[cmdname] and (cmdname .. " ") or "") .. "--help' for usage.\n")
    return EXIT_USAGE
  end
  if args.version then
    io.stdout:write("imbill " .. require("imbill").VERSION .. "\n")
    return EXIT_OK
  end
  if not args.command then
    io.stderr:write(parser:get_usage() .. "\n\nimbill: error: a command is required (invoice, compare, project, migrate,"
      .. " breakeven, shadow, grid, replay, chart, report)\nRun 'imbill --help' for usage.\n")
    return EXIT_USAGE
  end
  if args.csv and args.json then
    io.stderr:write("imbill " .. args.command .. ": error: --csv and --json cannot be used together\n"
      .. "Run 'imbill " .. args.command .. " --help' for usage.\n")
    return EXIT_USAGE
  end
  local ok2, code = pcall(commands[args.command], args)
  if ok2 then
    io.stdout:flush()
    return code or EXIT_OK
  end
  if getmetatable(code) == Fail then
    io.stderr:write("imbill " .. args.command .. ": error: " .. code.message .. "\n")
    if code.code == EXIT_USAGE then io.stderr:write("Run 'imbill " .. args.command .. " --help' for usage.\n") end
    return code.code
  end
  local msg = clean(code)
  if msg:match("cannot open") then
    io.stderr:write("imbill " .. args.command .. ": error: " .. msg .. "\n")
    return EXIT_IO
  end
  io.stderr:write("imbill " .. args.command .. ": error: " .. msg .. "\n")
  return EXIT_INPUT
end

return M
