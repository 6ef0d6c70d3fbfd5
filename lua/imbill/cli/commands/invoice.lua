--- imbill invoice: one month's invoice, from flags, a usage history or a JSON
-- object of imbill.invoice's fields.
local A = require "imbill.cli.args"
local fail = require "imbill.cli.fail"
local input = require "imbill.cli.input"
local output = require "imbill.cli.output"
local usage = require "imbill.cli.usage"

local M = {}

M.summary = "One month's invoice."
M.epilog = [[
Example:
  imbill invoice --book 2020 --edition pro --month 2021-03 --peak-dau 25000 \
                 --groups-peak 250000 --activated 2021-03-10
  echo '{"book":"2022","edition":"standard","month":"2023-03","mau":25000}' | imbill invoice --input - --json]]

function M.define(c)
  c:option("--book", "Price book: 2020, 2021 or 2022 (default: the one in force for the month).")
  c:option("--edition", "Edition id, e.g. pro.")
  c:option("--month", "The invoice month, YYYY-MM."):convert(A.month("--month"))
  c:option("--peak-dau", "Peak DAU of the month (not with --usage or generated usage)."):convert(A.count("--peak-dau"))
  c:option("--groups-peak", "Peak number of groups (not with --usage or generated usage)."):convert(A.count("--groups-peak"))
  c:option("--mau", "Monthly active users, price book 2022 (not with --usage or generated usage)."):convert(A.count("--mau"))
  c:option("--activated", "First paid activation date."):convert(A.date("--activated"))
  c:option("--change-on", "Date of the month's edition change."):convert(A.date("--change-on"))
  c:option("--change-to", "Edition changed to.")
  c:option("--addons", "Add-ons, comma-separated (e.g. av_unlimited); '' (empty) for none.")
  c:option("--input", "A JSON object with imbill.invoice's fields; '-' reads standard input.")
  A.add_usage(c)
  A.add_format(c)
end

-- What a history or generated usage gives the invoice: the flags and the
-- --input fields it would otherwise have overridden or been overridden by.
local USAGE_FLAGS = { "peak_dau", "groups_peak", "mau" }
local USAGE_FIELDS = { "dau", "groups", "peak_dau", "groups_peak", "mau", "covers" }

function M.run(args)
  local imbill = require "imbill"
  if args.input == "-" and args.usage == "-" then fail.usage("--input", "and --usage cannot both be '-'") end
  local u = {}
  if args.input then u = input.json_object("--input", args.input, "imbill.invoice's fields") end
  local function set(k, v) if v ~= nil then u[k] = v end end
  set("book", args.book)
  set("edition", args.edition)
  set("month", args.month)
  set("activated", args.activated)
  local source = args.usage and "--usage" or usage.generated(args)
  if source then
    usage.one_source(args, USAGE_FLAGS)
    for _, k in ipairs(USAGE_FIELDS) do
      if u[k] ~= nil then
        fail.usage("--input", string.format("gives %s, and %s gives the month's usage", k, source), args.input)
      end
    end
    local month = u.month
    if month == nil then fail.usage(nil, "--month is required with " .. source) end
    local s = usage.series(args)
    local m = s:usage(month)
    u.dau, u.groups, u.peak_dau, u.groups_peak, u.mau = m.dau, m.groups, m.peak_dau, m.groups_peak, m.mau
    -- a month the history covers in part is billed with a note saying so
    u.covers = m.covers
  end
  set("peak_dau", args.peak_dau)
  set("groups_peak", args.groups_peak)
  set("mau", args.mau)
  if args.change_on or args.change_to then
    if not (args.change_on and args.change_to) then fail.usage(nil, "--change-on and --change-to go together") end
    u.change = { on = args.change_on, to = args.change_to }
  end
  if args.addons then u.addons = A.list(args.addons, "--addons", true) end
  if u.month == nil then fail.usage(nil, "--month is required (or a \"month\" field in --input)") end
  if u.edition == nil then fail.usage(nil, "--edition is required (or an \"edition\" field in --input)") end
  -- what the library's errors name: the option each value came from, or the
  -- --input field for the rest
  local names = fail.flag_names(args, { book = true, edition = true, month = true, activated = true,
                                        peak_dau = true, groups_peak = true, mau = true, addons = true,
                                        ["change.on"] = "--change-on", ["change.to"] = "--change-to" },
                                args.input and fail.from_file("--input", u) or nil)
  if args.change_on then names.change = "--change-on/--change-to" end
  M.show(args, fail.calling("imbill.invoice", names, imbill.invoice, u))
  return 0
end

--- Writes an invoice in the format the command line asks for (text, JSON or
-- CSV), as `imbill invoice` does; `imbill gateway` writes its invoices so.
function M.show(args, inv)
  output.show(args, {
    text = function() return tostring(inv) end,
    data = function() return inv:data() end,
    csv = function()
      local rows = {}
      for _, l in ipairs(inv.lines) do
        rows[#rows + 1] = { inv.month, inv.book, inv.edition, l.code, tostring(l.amount), l.quantity, l.note }
      end
      rows[#rows + 1] = { inv.month, inv.book, inv.edition, "total", tostring(inv.total), "", "due " .. inv.due }
      for _, n in ipairs(inv.notes or {}) do rows[#rows + 1] = { inv.month, inv.book, inv.edition, "note", "", "", n } end
      return output.csv_rows({ "month", "book", "edition", "line", "amount", "quantity", "note" }, rows)
    end,
  })
end

return M
