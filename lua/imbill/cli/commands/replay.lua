--- imbill replay: a metering event log replayed through a meter, and its
-- months invoiced.
local A = require "imbill.cli.args"
local fail = require "imbill.cli.fail"
local input = require "imbill.cli.input"
local output = require "imbill.cli.output"
local files = require "imbill.internal.files"
local fmt = require "imbill.internal.fmt"

local M = {}

M.summary = "Replay a metering event log and invoice its months."
M.epilog = [[
Example:
  imbill replay --events examples/events.csv --book 2020 --edition pro --month 2021-03]]

function M.define(c)
  c:option("--events", "The event log (CSV or JSON lines; required); '-' reads standard input.")
  c:option("--format", "csv or jsonl (default: from the file name)."):choices { "csv", "jsonl" }
  c:option("--book", "Price book.", "2020")
  c:option("--edition", "The edition at the start.", "trial")
  c:option("--tz", "Billing time zone offset, e.g. +08:00.")
  c:option("--month", "A month to invoice (repeatable)."):count("*"):convert(A.month("--month"))
  c:flag("--strict", "All or nothing: any malformed event means nothing counts; exit 1 if any.")
  A.add_format(c)
end

local function run_replay(args, path, name)
  local replay = require "imbill.meter.replay"
  local names = fail.flag_names(args, { book = true, edition = true, tz = true })
  local ok, m, r = pcall(fail.naming, "--events", fail.calling, "imbill.replay.run", names, replay.run, { path = path,
    name = name, format = args.format, book = args.book, edition = args.edition, tz = args.tz, strict = args.strict })
  if ok then return m, r end
  -- the library guesses the format from the name before it opens the file, so
  -- a directory or a missing file was told "cannot tell from the file name"
  -- (exit 1): the file's own problem comes first.  Only what cannot block is
  -- opened here (a regular file, a directory, nothing), never a FIFO or a device.
  local errors = require "imbill.internal.errors"
  local untold = errors.is(m) and m.field == "format" and args.format == nil
    and tostring(m.msg):find("cannot tell from the file name", 1, true)
  if untold and ({ file = true, directory = true, none = true })[output.kind(path)] then
    local f, code = files.open(path)
    if not f then fail.io("--events", "cannot open", path, code) end
    f:close()
  end
  -- a format the name does not tell is --format's to give
  if untold then error(errors.rename(m, "", "--format"), 0) end
  error(m, 0)
end

function M.run(args)
  if not args.events then fail.usage(nil, "--events is required (a file, or - for standard input)") end
  -- a month given twice printed its invoice twice, as if two were due
  local given = {}
  local dates = require "imbill.internal.dates"
  for _, m in ipairs(args.month or {}) do
    if given[m] then fail.usage("--month", "is given twice", m) end
    given[m] = true
    -- refused before the log is read, naming the option, where meter:usage refused it after the whole replay
    dates.month(m, "--month")
  end
  local imbill = require "imbill"
  local meter, report
  if args.events == "-" then
    if not args.format then fail.usage(nil, "--events - (standard input) needs --format csv or jsonl") end
    -- strict replay reads the log twice: standard input is kept in a file
    local tmp = input.stdin_to_file("--events")
    local ok, m, r = pcall(run_replay, args, tmp, "stdin")
    os.remove(tmp)
    if not ok then error(m, 0) end
    meter, report = m, r
  else
    meter, report = run_replay(args, args.events)
  end
  local months = (args.month and #args.month > 0) and args.month or report.months or {}
  local invoices = {}
  if meter then
    for i, m in ipairs(months) do invoices[i] = imbill.invoice(meter:usage(m)) end
  end
  local errors = report.errors or {}
  local refusals = report.refusals or {}
  local malformed = report.malformed or #errors
  -- what the replay counted and what it did not, line by line
  local function account()
    -- a file name is shown as it is, unless a control byte in it (a line
    -- break) would make it a line of the report: then quoted and escaped
    local name = args.events:find("[%c\127]") and require("imbill.internal.errors").show(args.events) or args.events
    local out = { string.format("replayed %s: %s, %s, %s, %d refused, %d malformed", name,
      fmt.count(report.lines or 0, "line"), fmt.count(report.events or 0, "event"),
      fmt.count(report.duplicates or 0, "duplicate"), report.refused or 0, malformed) }
    for _, e in ipairs(errors) do out[#out + 1] = string.format("  line %s: %s", tostring(e.line), e.message) end
    if malformed > #errors then
      out[#out + 1] = string.format("  (and %s not listed)", fmt.count(malformed - #errors, "malformed line"))
    end
    for _, r in ipairs(refusals) do
      out[#out + 1] = string.format("  line %s refused (%s): %s", tostring(r.line), tostring(r.code), r.message)
    end
    if (report.refused or 0) > #refusals then
      out[#out + 1] = string.format("  (and %s not listed)", fmt.count(report.refused - #refusals, "refusal"))
    end
    if not meter then out[#out + 1] = "strict: nothing was counted" end
    return out
  end
  output.show(args, {
    text = function()
      local out = account()
      for _, inv in ipairs(invoices) do
        out[#out + 1] = ""
        out[#out + 1] = tostring(inv)
      end
      return table.concat(out, "\n")
    end,
    data = function()
      local d = { lines = report.lines, events = report.events, duplicates = report.duplicates, refused = report.refused,
                  malformed = malformed, errors = errors, refusals = refusals, months = months, invoices = {} }
      for i, inv in ipairs(invoices) do d.invoices[i] = inv:data() end
      return d
    end,
    csv = function()
      local rows = {}
      for _, inv in ipairs(invoices) do
        for _, l in ipairs(inv.lines) do rows[#rows + 1] = { inv.month, l.code, tostring(l.amount), l.note } end
        rows[#rows + 1] = { inv.month, "total", tostring(inv.total), "due " .. inv.due }
      end
      return output.csv_rows({ "month", "line", "amount", "note" }, rows)
    end,
  })
  -- CSV holds invoice lines only, so lines left uncounted were told nowhere:
  -- they go to standard error, where the CSV stays clean for a spreadsheet
  if args.csv and (malformed > 0 or #refusals > 0 or not meter) then
    io.stderr:write("imbill replay: " .. table.concat(account(), "\n") .. "\n")
  end
  if args.strict and malformed > 0 then return 1 end
  return 0
end

return M
