-- The imbill command's review quirks: lists with empty items, usage options
-- given with --usage, counts said in the singular, byte order marks inside a
-- JSON lines log, and a gateway configuration that allocates without bound.
local R = require "cli_run"

local USAGE = R.top .. "/examples/data/usage_2021.csv"
local INVOICE = "invoice --book 2020 --edition pro --month 2021-03 --peak-dau 25000"

local function refused(args, pattern)
  local code, out, err = R.run(args)
  assert.equal(2, code, args .. ": " .. err)
  assert.equal("", out, args)
  assert.matches("^imbill %a+: error: " .. pattern, err)
  assert.matches("help' for usage", err)
end

describe("imbill's review quirks #cli", function()
  it("a list option with an empty item is refused; --addons '' alone means no add-ons", function()
    for _, v in ipairs { ",,,", ",", "av_unlimited,", ",av_unlimited", "av_unlimited,,push_all", " , " } do
      refused(INVOICE .. " --addons " .. R.quote(v),
        '%-%-addons: has an empty item %(items are comma%-separated%), got "' .. v:gsub("%p", "%%%0") .. '"\n')
    end
    local c0, none = R.run(INVOICE)
    local c1, empty = R.run(INVOICE .. " --addons ''")
    assert.equal(0, c0)
    assert.equal(0, c1)
    assert.equal(none, empty)
    local _, help = R.run("invoice --help")
    assert.matches("%-%-addons[^\n]*'' %(empty%) for none", help)
    -- a list that must name something says so, where "" read as none
    refused("compare --month 2021-03 --peak-dau 5 --books ''", "%-%-books: is empty %(give comma%-separated items%)")
    refused("compare --month 2021-03 --peak-dau 5 --books 2020,,2021", "%-%-books: has an empty item")
    refused("grid --start-dau 1000,,2000", "%-%-start%-dau: has an empty item")
    refused("grid --start-dau 1000 --editions 2021/pro,", "%-%-editions: has an empty item")
  end)

  it("one source of usage: an option of generated usage or an invoice's usage given with --usage is refused", function()
    local U = " --usage " .. R.quote(USAGE)
    local I = "invoice --book 2020 --edition pro --month 2021-03"
    for _, c in ipairs {
      -- --mau silently won over the history's MAU, where --peak-dau was the library's exit 1
      { I .. U .. " --mau 5", '%-%-mau: cannot be given with %-%-usage %(the history gives the usage%), got 5\n' },
      { I .. U .. " --peak-dau 5", "%-%-peak%-dau: cannot be given with %-%-usage" },
      { I .. U .. " --groups-peak 5", "%-%-groups%-peak: cannot be given with %-%-usage" },
      -- compare dropped them without a word
      { "compare --month 2021-03" .. U .. " --mau 5", "%-%-mau: cannot be given with %-%-usage" },
      { "compare --month 2021-03" .. U .. " --peak-dau 5", "%-%-peak%-dau: cannot be given with %-%-usage" },
      -- the generator's options were dropped without a word, defaults included
      { "project" .. U .. " --dau 5", "%-%-dau: cannot be given with %-%-usage" },
      { "project" .. U .. " --growth 5%", '%-%-growth: cannot be given with %-%-usage %(the history gives the usage%),'
        .. ' got "5%%"' },
      { "project" .. U .. " --groups 0", "%-%-groups: cannot be given with %-%-usage" },
      { "project" .. U .. " --seed 1", "%-%-seed: cannot be given with %-%-usage" },
      { "migrate" .. U .. " --start 2021-01", "%-%-start: cannot be given with %-%-usage" },
      { I .. " --dau 1000 --start 2021-01 --peak-dau 5",
        "%-%-peak%-dau: cannot be given with %-%-start %(generated usage gives the usage%), got 5" },
    } do
      refused(c[1], c[2])
    end
    -- an --input object's usage fields are the same rule's
    local d = R.tmpdir()
    local f = R.write(d .. "/u.json", '{"book":"2020","edition":"pro","month":"2021-03","mau":5}')
    refused("invoice --input " .. R.quote(f) .. U, "%-%-input: gives mau, and %-%-usage gives the month's usage")
    R.rm(d)
    -- invoice bills generated usage, where --dau and --start were ignored
    local code, out, err = R.run(I .. " --dau 25000 --start 2021-01 --json")
    assert.equal(0, code, err)
    local c2, out2 = R.run(I .. " --peak-dau 25000 --groups-peak 0 --json")
    assert.equal(0, c2)
    assert.equal(require("dkjson").decode(out2).total, require("dkjson").decode(out).total)
    local _, help = R.run("invoice --help")
    assert.matches("%-%-mau <mau>[^\n]*%(not with %-%-usage or generated usage%)", help)
    assert.matches("%-%-growth <growth>[^\n]*%(default: 0%%%)", help)
  end)

  it("grid says one edition, one growth rate, one scenario and one month in the singular", function()
    local code, out, err = R.run("grid --editions 2021/pro --start-dau 1000 --months 1")
    assert.equal(0, code, err)
    assert.matches("^imbill grid: 1 edition x 1 growth rate x 1 starting DAU = 1 scenario over 1 month\n", out)
    code, out, err = R.run("grid --editions 2021/pro,2022/standard --growth 0%,5% --start-dau 1000,2000 --months 2"
      .. " --mau-per-dau 3")
    assert.equal(0, code, err)
    assert.matches("^imbill grid: 2 editions x 2 growth rates x 2 starting DAU = 8 scenarios over 2 months\n", out)
    local c3, _, e3 = R.run("project --dau 1000 --start 2023-01 --months 1 --from 2023-02")
    assert.equal(2, c3)
    assert.matches("is outside the generated usage %(2023%-01 for 1 month%)", e3)
    code, out = R.run("replay --events examples/events.jsonl --month 2021-03")
    assert.equal(0, code)
    assert.matches("^replayed examples/events.jsonl: 28 lines, 28 events, 1 duplicate, 0 refused, 0 malformed\n", out)
  end)

  it("a byte order mark is allowed only at a JSON lines log's first bytes", function()
    local d = R.tmpdir()
    local src = R.read(R.top .. "/examples/events.jsonl")
    local first, rest = src:match("^([^\n]*\n)(.*)$")
    local ok = R.write(d .. "/ok.jsonl", "\239\187\191" .. src)
    local code, out, err = R.run("replay --events " .. R.quote(ok) .. " --month 2021-03")
    assert.equal(0, code, err)
    assert.matches(": 28 lines, 28 events, 1 duplicate, 0 refused, 0 malformed\n", out)
    -- a mark opening line 2, a second mark on line 1, and one between a name and its value
    for _, c in ipairs {
      { first .. "\239\187\191" .. rest, 2, "a byte order mark %(only the file's first bytes may carry one%)" },
      { "\239\187\191\239\187\191" .. src, 1, "a byte order mark %(only the file's first bytes may carry one%)" },
      { first .. rest:gsub('^{"time":', '{"time":\239\187\191'), 2,
        "malformed JSON: a byte order mark at byte 9 %(only the text's first bytes may carry one%)" },
    } do
      local path = R.write(d .. "/bad.jsonl", c[1])
      code, out, err = R.run("replay --events " .. R.quote(path) .. " --month 2021-03 --strict")
      assert.equal(1, code, err)
      assert.matches("^replayed " .. path:gsub("%p", "%%%0") .. ": 28 lines, 0 events, 0 duplicates, 0 refused,"
        .. " 1 malformed\n  line " .. c[2] .. ": " .. c[3] .. "\n", out)
    end
    R.rm(d)
  end)

  it("a byte order mark inside a JSON string is a character, not an error", function()
    local json = require "imbill.internal.json"
    local v = json.decode(require "dkjson", '\239\187\191{"a":"x\239\187\191y"}')
    assert.equal("x\239\187\191y", v.a)
    local none, why = json.decode(require "dkjson", '{"a":\239\187\1911}')
    assert.is_nil(none)
    assert.equal("malformed JSON: a byte order mark at byte 6 (only the text's first bytes may carry one)", why)
  end)

  it("gateway --config stops a file that allocates more than a configuration needs, and writes nothing", function()
    local d = R.tmpdir()
    local conf = d .. "/conf.lua"
    local function gw(body)
      R.write(conf, body)
      local p = io.popen("cd " .. R.quote(R.top) .. " && timeout 120 luajit bin/imbill gateway --config "
        .. R.quote(conf) .. " --app 1400000001 --month 2026-12 -o " .. R.quote(d .. "/out.txt") .. " 2>&1; echo rc=$?")
      local out = p:read("*a")
      p:close()
      return out
    end
    local APP = 'return { apps = { ["1400000001"] = { book = "2021", edition = "pro" } } }'
    for _, body in ipairs {
      -- one call: the step limit never saw it, and it took a gigabyte
      'local s = string.rep("x", 2^30) ' .. APP,
      -- the same through the strings' metatable
      'local s = ("x"):rep(2^30) ' .. APP,
      -- a string doubled in a loop, a list joined and a replacement from a table
      'local s = "x" for i = 1, 40 do s = s .. s end ' .. APP,
      'local s, t = ("x"):rep(2^20), {} for i = 1, 2000 do t[i] = s end local u = table.concat(t) ' .. APP,
      'local s = ("x"):rep(2^20):gsub("x", { x = ("y"):rep(1000) }) ' .. APP,
      'local s = ("x"):rep(2^20):gsub("x", ("y"):rep(1000)) ' .. APP,
      -- many small tables
      'local t = {} for i = 1, 1e7 do t[i] = { i } end ' .. APP,
    } do
      assert.equal("imbill gateway: error: --config: did not run as data: needed more than 64 MiB (a configuration is"
        .. " a table), got " .. require("imbill.internal.errors").show(conf) .. "\nrc=1\n", gw(body), body)
      assert.same({ "conf.lua" }, R.ls(d), body)
    end
    -- what a configuration does is still allowed, and the command's own strings are its own again
    local out = gw('local n = table.concat({ ("1"):rep(1), (("4"):gsub("4", "%0")) }) .. ("0"):rep(7) .. "2" '
      .. 'string.format = function() return "HIJACKED" end string.rep = string.format '
      .. 'return { apps = { [n] = { book = "2021", edition = "pro" } } }')
    assert.equal("imbill gateway: error: --app: is not an app of " .. conf .. ', got "1400000001"\nrc=1\n', out)
    R.rm(d)
  end)

  -- a mistake in a range or a list the command parses is a command-line
  -- mistake: exit 2, said in the option's own terms
  local function said(args, line)
    local code, out, err = R.run(args)
    assert.equal(2, code, args .. ": " .. err)
    assert.equal("", out, args)
    assert.equal(line, err:match("^[^\n]*"), args)
    assert.matches("help' for usage", err)
  end

  it("grid: a reversed range or a step that is not above 0 is exit 2 for counts as for rates, and says so", function()
    local reversed = "the range ends below where it starts (FROM..TO:STEP, FROM <= TO)"
    said("grid --start-dau 100..1:1", 'imbill grid: error: --start-dau: ' .. reversed .. ', got "100..1:1"')
    said("grid --growth 5%..1%:1% --start-dau 1000", 'imbill grid: error: --growth: ' .. reversed .. ', got "5%..1%:1%"')
    said("grid --start-dau 1..100:-1", 'imbill grid: error: --start-dau: the step must be above 0, got "1..100:-1"')
    said("grid --start-dau 1..100:0", 'imbill grid: error: --start-dau: the step must be above 0, got "1..100:0"')
    said("grid --growth 1%..5%:-1% --start-dau 1", 'imbill grid: error: --growth: the step must be above 0, got "1%..5%:-1%"')
    said("grid --start-dau 1..100:x",
      'imbill grid: error: --start-dau: expected a number as the step after the colon (FROM..TO:STEP), got "1..100:x"')
    said("grid --start-dau 1..100x", 'imbill grid: error: --start-dau: expected FROM..TO:STEP (a step after a colon), got'
      .. ' "1..100x"')
  end)

  it("an item listed twice names both places by the option, as typed", function()
    said("grid --start-dau 1,2,01", "imbill grid: error: --start-dau[3]: is listed twice (also --start-dau[1]), got 1")
    said("grid --growth 5%,0.05 --start-dau 1", 'imbill grid: error: --growth[2]: is listed twice (also --growth[1]), got'
      .. ' "0.05"')
    said("grid --start-dau 1 --editions 2021/pro,2021/pro",
      'imbill grid: error: --editions[2]: is listed twice (also --editions[1]), got "2021/pro"')
    said("breakeven --editions 2021/pro,2021/ultimate,2021/pro",
      'imbill breakeven: error: --editions[3]: is listed twice (also --editions[1]), got "2021/pro"')
    said("compare --month 2021-03 --peak-dau 5 --books 2020,2020",
      'imbill compare: error: --books[2]: is listed twice (also --books[1]), got "2020"')
    said("project --usage " .. R.quote(USAGE) .. " --books 2021,2020,2021",
      'imbill project: error: --books[3]: is listed twice (also --books[1]), got "2021"')
  end)

  it("two options that cannot go together are named as options, and said not to go together", function()
    said("gateway --url http://127.0.0.1:9/imbill/usage --config gw.lua --app 1400000001 --month 2026-12",
      "imbill gateway: error: --url and --config cannot be used together: give --url (a gateway's usage location)"
      .. " or --config (its configuration, to read Redis), not both")
    said("compare --month 2021-03 --mau 100 --mau-per-dau 0.5", "imbill compare: error: --mau-per-dau: cannot be given"
      .. ' with --mau (give the MAU, or price it as a ratio of peak DAU), got "0.5"')
    said("breakeven --editions 2021/pro,2022/standard --mau 5 --mau-per-dau 3", "imbill breakeven: error:"
      .. ' --mau-per-dau: cannot be given with --mau (give the MAU, or let it follow DAU), got "3"')
    said("breakeven --editions 2021/pro,2021/ultimate --groups-peak 5 --groups-per-dau 3", "imbill breakeven: error:"
      .. ' --groups-per-dau: cannot be given with --groups-peak (give the groups, or let them follow DAU), got "3"')
  end)

  it("chart refuses an option of another kind of chart, where it was dropped unsaid", function()
    local svg = os.tmpname()
    said("chart path --usage " .. R.quote(USAGE) .. " --books 2020 --all -o " .. R.quote(svg),
      "imbill chart: error: --all: is for chart bars only, not chart path")
    said("chart curves --editions 2021/pro,2021/ultimate --all -o " .. R.quote(svg),
      "imbill chart: error: --all: is for chart bars only, not chart curves")
    said("chart bars --usage " .. R.quote(USAGE) .. " --books 2020 --max-labels 3 -o " .. R.quote(svg),
      "imbill chart: error: --max-labels: is for chart curves only, not chart bars")
    local code, _, err = R.run("chart bars --usage " .. R.quote(USAGE) .. " --books 2020 --all -o " .. R.quote(svg))
    os.remove(svg)
    assert.equal(0, code, err)
  end)

  it("shadow: --fee for an edition whose fee the --shadow-book gives is refused, where --fee won unsaid", function()
    local book = R.write(os.tmpname(), '{"base":"2020","editions":{"pro":{"monthly_fee":"5"}}}')
    said("shadow --usage " .. R.quote(USAGE) .. " --shadow-book " .. R.quote(book) .. " --fee pro=1",
      "imbill shadow: error: --fee: gives edition pro a fee, and --shadow-book gives it one (editions.pro.monthly_fee):"
      .. ' give it in one place, got "pro=1"')
    -- a fee the book leaves to its base is --fee's to give
    local c2, _, e2 = R.run("shadow --usage " .. R.quote(USAGE) .. " --shadow-book " .. R.quote(book)
      .. " --fee flagship=1 --from 2021-12")
    os.remove(book)
    assert.equal(0, c2, e2)
  end)
end)
