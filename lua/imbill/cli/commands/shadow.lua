--- imbill shadow: the same usage under a built-in and a modified price book.
local A = require "imbill.cli.args"
local errors = require "imbill.internal.errors"
local fail = require "imbill.cli.fail"
local input = require "imbill.cli.input"
local output = require "imbill.cli.output"
local usage = require "imbill.cli.usage"

local M = {}

M.summary = "The same usage under a built-in and a modified price book, line by line."
M.epilog = [[
Examples:
  imbill shadow --usage examples/data/usage_2021.csv --base 2020 --fee pro=129.99 --editions pro
  imbill shadow --usage usage.csv --base 2021 --shadow-book mybook.json --csv
  (mybook.json: {"base":"2021","name":"what-if","editions":{"pro":{"dau":{"price":"399.99"}}}})]]

function M.define(c)
  A.add_usage(c)
  -- no argparse default: a shadow book's own base is the default when --base is not given
  c:option("--base", "The built-in price book (default: the base of --shadow-book, else 2020).")
  c:option("--fee", "A changed monthly fee, EDITION=AMOUNT (repeatable).")
    :count("*")
  c:option("--shadow-book", "A JSON user book (as imbill.book{...} takes); '-' reads standard input.")
  c:option("--shadow-name", "Name of the modified book.")
  c:option("--editions", "Editions to compare, comma-separated ids (default: all both books have).")
  c:option("--from", "First month."):convert(A.month("--from"))
  c:option("--to", "Last month."):convert(A.month("--to"))
  A.add_format(c)
end

-- The editions --fee may name: the base book's, and those the shadow book adds.
local function check_fee_edition(base, shadow, ed, given)
  if type(shadow.editions[ed]) == "table" then return end
  local imbill = require "imbill"
  local book = fail.naming("--base", imbill.book, base)
  local ids = book:editions()
  for _, id in ipairs(ids) do
    if id == ed then return end
  end
  fail.input("--fee", string.format("price book %s has no edition %s (editions: %s)", book.name, errors.show(ed),
    table.concat(ids, ", ")), given)
end

function M.run(args)
  local imbill = require "imbill"
  if args.usage == "-" and args.shadow_book == "-" then fail.usage(nil, "--usage and --shadow-book cannot both be '-'") end
  if not args.shadow_book and #(args.fee or {}) == 0 then
    fail.usage(nil, "give the modified book: --fee pro=129.99 (repeatable) or --shadow-book book.json")
  end
  local fees, given_for = {}, {}
  for _, f in ipairs(args.fee or {}) do
    local ed, fee = f:match("^([%w_%-]+)=(%d+%.?%d*)$")
    if not ed then fail.usage("--fee", "expected EDITION=AMOUNT such as pro=129.99", f) end
    -- a second fee for one edition was the one priced, the first dropped unsaid
    if given_for[ed] then
      fail.usage("--fee", string.format("gives edition %s a fee twice (also %s)", ed, given_for[ed]), f)
    end
    given_for[ed] = f
    fees[#fees + 1] = { ed, fee, f }
  end
  usage.check_horizon(args)
  local shadow
  if args.shadow_book then
    shadow = input.json_object("--shadow-book", args.shadow_book, "a user book's fields")
  else
    shadow = { editions = {} }
  end
  -- the book billed is the one the shadow book changes, unless --base says
  -- otherwise: a book derived from 2021 against 2020 would mix 2021's own
  -- prices into every difference
  args.base = args.base or (type(shadow.base) == "string" and shadow.base) or "2020"
  shadow.base = shadow.base or args.base
  -- the option is what was asked for this run: it names the book even when the file names it too
  shadow.name = args.shadow_name or shadow.name or "what-if"
  shadow.editions = shadow.editions or {}
  if type(shadow.editions) ~= "table" then
    fail.input("--shadow-book", "editions: expected a JSON object of editions", args.shadow_book)
  end
  for _, f in ipairs(fees) do
    local ed, fee, given = f[1], f[2], f[3]
    if shadow.editions[ed] ~= nil and type(shadow.editions[ed]) ~= "table" then
      fail.input("--shadow-book", "editions." .. ed .. ": expected a JSON object", args.shadow_book)
    end
    -- the book's own fee was replaced unsaid; a fee for an edition the book
    -- leaves at its base's (or adds, "like" another) is what --fee is for
    if type(shadow.editions[ed]) == "table" and shadow.editions[ed].monthly_fee ~= nil then
      fail.usage("--fee", string.format("gives edition %s a fee, and --shadow-book gives it one (editions.%s.monthly_fee):"
        .. " give it in one place", ed, ed), given)
    end
    check_fee_edition(args.base, shadow, ed, given)
    shadow.editions[ed] = shadow.editions[ed] or {}
    shadow.editions[ed].monthly_fee = fee
  end
  local s = usage.series(args)
  local names = fail.flag_names(args, { base = true, shadow = "--shadow-book", editions = true, from = true, to = true })
  local sh = fail.calling("imbill.shadow", names, imbill.shadow, { usage = s, base = args.base, shadow = shadow,
    editions = A.list(args.editions, "--editions"), from = args.from, to = args.to })
  output.show(args, output.view(sh))
  return 0
end

return M
