-- The imbill command-line tool (issue 4): every command in text, CSV and JSON,
-- bad arguments with a helpful message and a non-zero exit code, and no
-- progress bar when standard error is not a terminal.  The CLI runs under lua5.4.
local H = require "helper"
local json = require "dkjson"

local TOP = H.top
local USAGE = TOP .. "/examples/data/usage_2021.csv"

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- Runs `imbill ARGS`; returns exit code, stdout, stderr.
local function run(args, opts)
  opts = opts or {}
  local out, err = os.tmpname(), os.tmpname()
  local cmd = string.format("cd %s && %s lua5.4 bin/imbill %s >%s 2>%s", sh_quote(TOP), opts.env or "", args,
    sh_quote(out), sh_quote(err))
  if opts.stdin then cmd = string.format("cd %s && %s lua5.4 bin/imbill %s <%s >%s 2>%s", sh_quote(TOP),
    opts.env or "", args, sh_quote(opts.stdin), sh_quote(out), sh_quote(err)) end
  local a, _, c = os.execute(cmd)
  local code = type(a) == "number" and math.floor(a / 256) or c
  local function slurp(p)
    local f = io.open(p, "rb")
    local t = f:read("*a")
    f:close()
    os.remove(p)
    return t
  end
  return code, slurp(out), slurp(err)
end

local function ok_json(text)
  local d, _, e = json.decode(text)
  assert(d ~= nil, "not JSON: " .. tostring(e) .. "\n" .. text)
  return d
end

local function all_formats(args, checks)
  local c1, text, e1 = run(args)
  assert.equal(0, c1, e1)
  assert.equal("", e1)
  checks.text(text)
  local c2, csv, e2 = run(args .. " --csv")
  assert.equal(0, c2, e2)
  checks.csv(csv)
  local c3, js, e3 = run(args .. " --json")
  assert.equal(0, c3, e3)
  checks.json(ok_json(js))
end

describe("imbill CLI #cli", function()
  it("invoice: text, CSV and JSON with exact amounts", function()
    all_formats("invoice --book 2020 --edition pro --month 2021-03 --peak-dau 25000 --groups-peak 250000", {
      text = function(t) assert.matches("total +749%.95 +USD", t) end,
      csv = function(t) assert.matches("\n2021%-03,2020,pro,total,749%.95,", t) end,
      json = function(d) assert.equal("749.95", d.total) assert.equal("2021-04-03", d.due) end,
    })
  end)

  it("invoice: reads its fields as JSON from standard input", function()
    local tmp = os.tmpname()
    local f = io.open(tmp, "w")
    f:write('{"book":"2022","edition":"standard","month":"2023-03","mau":25000}')
    f:close()
    local code, out = run("invoice --input - --json", { stdin = tmp })
    os.remove(tmp)
    assert.equal(0, code)
    assert.equal("624.00", ok_json(out).total)
  end)

  it("compare: text, CSV and JSON, from flags or a usage history", function()
    all_formats("compare --month 2021-03 --peak-dau 25000 --groups-peak 250000", {
      text = function(t) assert.matches("2020 +pro +749%.95 +yes", t) end,
      csv = function(t) assert.matches("rank,book,edition,total,eligible,reasons,notes\n", t) end,
      json = function(d) assert.equal("0.00", d[1].total) end,
    })
    local code, out = run("compare --month 2021-06 --usage " .. USAGE .. " --books 2020 --json")
    assert.equal(0, code)
    assert.equal("pro", ok_json(out)[2].edition)
  end)

  it("project: text, CSV and JSON; usage from a file, standard input or generators", function()
    all_formats("project --usage " .. USAGE .. " --books 2020", {
      text = function(t)
        assert.matches("cheapest legal path %(2020%): 5,249%.65 USD", t)
        assert.matches("2021%-12 +0%.00%* +599%.96 +899%.96", t)
      end,
      csv = function(t) assert.matches("\n2021%-12,2020/pro,599%.96,true,true,true", t) end,
      json = function(d)
        assert.equal("5249.65", d.path.total)
        assert.equal("2020/pro", d.cheapest.edition)
      end,
    })
    local code, out = run("project --usage - --books 2020 --json", { stdin = USAGE })
    assert.equal(0, code)
    assert.equal("5249.65", ok_json(out).path.total)
    -- generated: 8,000 DAU growing 10% a month, MAU 3 x DAU, on the 2022 book
    local c2, o2 = run("project --dau 8000 --growth 10% --start 2023-01 --months 3 --mau-ratio 3 --books 2022 --json")
    assert.equal(0, c2)
    local d = ok_json(o2)
    -- standard: 399 + (24,000 - 10,000) x 0.015 = 609.00; 8,800 DAU -> 26,400 MAU -> 645.00;
    -- 9,680 -> 29,040 -> 684.60
    assert.same({ "609.00", "645.00", "684.60" }, { d.editions[2].months[1].total, d.editions[2].months[2].total,
                                                    d.editions[2].months[3].total })
  end)

  it("migrate: says when migration pays off and that it cannot be undone", function()
    all_formats("migrate --usage " .. TOP .. "/examples/data/usage_2022.csv", {
      text = function(t) assert.matches("cannot be undone", t) assert.matches("pays off from", t) end,
      csv = function(t) assert.matches("^month,peak_dau,mau,dau_plan,mau_plan,saving,cumulative,cheaper\n", t) end,
      json = function(d) assert.is_true(d.irreversible) assert.equal("2022/standard", d.to) end,
    })
  end)

  -- The library's advice for a usage without MAU names its own inputs
  -- (mau_per_dau, mau_ratio); the command has options instead, and names them.
  it("advises the command's MAU option, not the library's field, when the usage has no MAU", function()
    local csv = os.tmpname()
    local f = assert(io.open(csv, "w"))
    f:write("date,dau,groups\n2023-01-01,100,5\n2023-01-02,120,5\n")
    f:close()
    local ratio = "give %-%-mau%-ratio %(MAU = ratio x the month's peak DAU%), or a usage history with a mau column"
    for _, c in ipairs { { "project --usage " .. csv .. " --books 2022", "2022/developer is capped at 100 MAU" },
                         { "chart bars --usage " .. csv .. " --books 2022 -o " .. csv .. ".svg",
                           "2022/developer is capped at 100 MAU" },
                         { "migrate --usage " .. csv, "the MAU plan bills monthly active users" } } do
      local code, out, err = run(c[1])
      assert.equal(1, code, c[1])
      assert.equal("", out)
      assert.matches("^imbill %a+: error: %-%-mau%-ratio: [^\n]*" .. c[2]:gsub("%p", "%%%0") .. ": " .. ratio, err)
      assert.falsy(err:find("mau_per_dau", 1, true), err)
    end
    local code, _, err = run("grid --editions 2022/standard --start-dau 1000 --months 1")
    assert.equal(1, code)
    assert.equal("imbill grid: error: --mau-per-dau: the usage gives no MAU, and 2022/standard bills MAU: give"
      .. " --mau-per-dau (MAU = ratio x DAU), or leave the edition out (--editions)\n", err)
    os.remove(csv)
  end)

  it("breakeven: exact crossing points", function()
    all_formats("breakeven --editions 2021/pro,2022/standard --mau-per-dau 3 --to-value 12000", {
      text = function(t) assert.matches("4,467 +2021/pro +449%.99 +450%.02", t) end,
      csv = function(t) assert.matches("2021/pro,2022/standard,4467,2021/pro,449%.99,450%.02", t) end,
      json = function(d) assert.equal(4467, d.pairs[1].points[2].at) end,
    })
  end)

  it("shadow: a 129.99 pro against the real one", function()
    all_formats("shadow --usage " .. USAGE .. " --base 2020 --fee pro=129.99 --editions pro --from 2021-11", {
      text = function(t) assert.matches("total +pro +1,199%.92 +1,159%.92 +%-40%.00", t) end,
      csv = function(t) assert.matches("2021%-11,pro,plan_fee,149%.99,129%.99,%-20%.00", t) end,
      json = function(d) assert.equal("-40.00", d.editions[1].difference) end,
    })
  end)

  it("grid: summaries per edition", function()
    all_formats("grid --editions 2021/pro,2021/ultimate --growth 0%,10% --start-dau 5000,50000 --months 1", {
      text = function(t) assert.matches("2021/pro +4 +4 +449%.99", t) end,
      -- wins, then ties (cases sharing the lowest total, a win for none)
      csv = function(t) assert.matches("\n2021/ultimate,4,0,0,899%.99,", t) end,
      json = function(d) assert.equal(8, d.scenarios) assert.equal("449.99", d.all.min) assert.equal(0, d.editions[1].ties) end,
    })
  end)

  it("replay: invoices the months of an event log", function()
    all_formats("replay --events examples/events.csv --book 2020 --edition trial --month 2021-03", {
      text = function(t) assert.matches("replayed examples/events%.csv", t) assert.matches("Invoice 2021%-03", t) end,
      csv = function(t) assert.matches("^month,line,amount,note\n2021%-03,plan_fee", t) end,
      json = function(d) assert.equal("2021-03", d.invoices[1].month) end,
    })
  end)

  it("chart and report: SVG and HTML files", function()
    local svg = os.tmpname()
    local code = run("chart curves --editions 2021/pro,2021/ultimate -o " .. svg)
    assert.equal(0, code)
    local f = io.open(svg)
    assert.matches("^<%?xml", f:read("*a"))
    f:close()
    os.remove(svg)
    local c2, out = run("report --usage " .. USAGE .. " --books 2020 --title 'CLI report'")
    assert.equal(0, c2)
    assert.matches("<title>CLI report</title>", out)
  end)

  it("chart options: size, title, subtitle and legend, checked by the chart itself", function()
    local code, out = run("chart curves --editions 2021/pro,2021/ultimate --to-value 30000 --width 500 --height 320"
      .. " --title 'Two editions' --no-subtitle --legend bottom")
    assert.equal(0, code)
    assert.matches('width="500" height="320"', out)
    assert.matches("Two editions", out)
    local c2, _, err = run("chart curves --editions 2021/pro,2021/ultimate --width 10")
    assert.equal(1, c2)
    assert.matches("width: expected a whole number of pixels from 320 to 4096, got 10", err)
  end)

  it("--help on every command, with an example", function()
    for _, cmd in ipairs { "invoice", "compare", "project", "migrate", "breakeven", "shadow", "grid", "replay", "chart",
                           "report" } do
      local code, out = run(cmd .. " --help")
      assert.equal(0, code, cmd)
      assert.matches("Usage: imbill " .. cmd, out, 1, false)
      assert.matches("Examples?:\n +imbill " .. cmd, out)
    end
    local code, out = run("--help")
    assert.equal(0, code)
    assert.matches("Exit codes:", out)
  end)

  it("chart --help: each example draws a chart with something in it, never the empty timeline", function()
    local _, help = run("chart --help")
    local kinds = {}
    for kind, rest in help:gmatch("\n +imbill chart (%a+) ([^\n]-) %-o %S+") do
      local svg = os.tmpname()
      local code, _, err = run("chart " .. kind .. " " .. rest .. " -o " .. sh_quote(svg))
      assert.equal(0, code, kind .. ": " .. err)
      local f = assert(io.open(svg))
      local text = f:read("*a")
      f:close()
      os.remove(svg)
      assert.matches("^<%?xml", text)
      assert.is_nil(text:find("No legal sequence", 1, true), kind .. " " .. rest)
      kinds[#kinds + 1] = kind
    end
    assert.same({ "curves", "bars", "path" }, kinds)
  end)

  it("gateway --config reads the file as data, and needs LuaJIT for Redis", function()
    local conf = os.tmpname()
    local f = assert(io.open(conf, "w"))
    f:write('os.execute("touch ' .. conf .. '.ran") return { apps = {} }')
    f:close()
    local code, _, err = run("gateway --config " .. conf .. " --app 1400000001 --month 2026-12")
    assert.equal(4, code)
    assert.matches("%-%-config reads Redis with the gateway's client, which needs LuaJIT", err)
    local p = io.popen("cd " .. H.top .. " && luajit bin/imbill gateway --config " .. conf
      .. " --app 1400000001 --month 2026-12 2>&1; echo rc=$?")
    local out = p:read("*a")
    p:close()
    assert.matches("%-%-config: did not run as data: .*attempt to call field 'execute'", out)
    assert.matches("rc=1", out)
    assert.is_nil(io.open(conf .. ".ran"), "the configuration ran a command")
    -- an app the file does not name, or one that counts in the shared dict
    f = assert(io.open(conf, "w"))
    f:write('return { apps = { ["1400000001"] = { book = "2021", edition = "pro" } } }')
    f:close()
    for _, c in ipairs { { "1400000002", "is not an app of" }, { "1400000001", "counts in the gateway's shared dict" } } do
      p = io.popen("cd " .. H.top .. " && luajit bin/imbill gateway --config " .. conf .. " --app " .. c[1]
        .. " --month 2026-12 2>&1; echo rc=$?")
      out = p:read("*a")
      p:close()
      assert.matches("%-%-app: " .. c[2], out)
      assert.matches("rc=1", out)
    end
    -- the file's libraries are its own: replacing string.gsub in it rewrote
    -- the command's own message ("got \"HIJACKED\"")
    f = assert(io.open(conf, "w"))
    f:write('string.gsub = function() return "HIJACKED" end; string.find = string.gsub\n'
      .. 'return { apps = { ["1400000001"] = { book = "2021", edition = "pro" } } }')
    f:close()
    p = io.popen("cd " .. H.top .. " && luajit bin/imbill gateway --config " .. conf
      .. " --app 1400000002 --month 2026-12 2>&1; echo rc=$?")
    out = p:read("*a")
    p:close()
    assert.equal("imbill gateway: error: --app: is not an app of " .. conf .. ', got "1400000002"\nrc=1\n', out)
    -- a file that never ends is stopped, where the command hung
    f = assert(io.open(conf, "w"))
    f:write("local function spin() while true do end end spin()")
    f:close()
    p = io.popen("cd " .. H.top .. " && timeout 60 luajit bin/imbill gateway --config " .. conf
      .. " --app 1400000001 --month 2026-12 2>&1; echo rc=$?")
    out = p:read("*a")
    p:close()
    assert.matches("%-%-config: did not run as data: ran more than 10000000 steps %(a configuration is a table%)", out)
    assert.matches("rc=1\n$", out)
    os.remove(conf)
  end)

  it("bad arguments: a helpful message on standard error and exit code 2", function()
    local cases = {
      { "", "a command is required" },
      { "frobnicate", "unknown command 'frobnicate'" },
      { "invoice --month 2021-3 --edition pro", "%-%-month: expected a month YYYY%-MM, got \"2021%-3\"" },
      { "invoice --month 2021-03 --edition pro --peak-dau lots", "%-%-peak%-dau: expected a whole number >= 0" },
      -- a whole number, but past what a count can be exactly on every runtime
      { "invoice --month 2021-03 --edition pro --peak-dau 9007199254740993",
        "%-%-peak%-dau: is too large %(at most 999999999999999%), got \"9007199254740993\"" },
      { "project --colour red", "unknown option '%-%-colour'" },
      { "project", "give a usage history" },
      { "invoice --month 2021-03", "%-%-edition is required" },
      { "breakeven --metric users", "argument for option '%-%-metric' must be one of" },
      { "grid", "%-%-start%-dau is required" },
      -- a range that runs backwards is said as it was written, not in parts per million
      { "grid --growth=10%..-2%:5% --start-dau 1000",
        "%-%-growth: the range ends below where it starts.*got \"10%%%.%.%-2%%:5%%\"" },
      -- a range's parts are checked as a list's are: no silent step of 1 for a step that is not a number
      { "grid --start-dau 1..2:1..3", "%-%-start%-dau: expected whole numbers %(FROM%.%.TO:STEP%), got \"1%.%.2:1%.%.3\"" },
      { "grid --start-dau 1000..100000:1.000.000", "%-%-start%-dau: expected whole numbers" },
      { "grid --start-dau 1..10x", "%-%-start%-dau: expected FROM%.%.TO:STEP" },
      { "grid --growth=0%..10%0.5% --start-dau 1", "%-%-growth: expected FROM%.%.TO:STEP" },
      -- a rate past the grid's bounds is said as written, not in parts per million
      { "grid --growth=-200%..5% --start-dau 1",
        "%-%-growth: a rate must be above %-100%% and at most 10000%%, got \"%-200%%\"" },
      { "shadow --usage " .. USAGE, "give the modified book" },
      { "invoice --book 2020 --edition pro --month 2021-03 --csv --json", "cannot be used together" },
      { "gateway --app 1400000001 --month 2026-12", "give %-%-url %(a gateway's usage location%) or %-%-config" },
      { "gateway --url http://127.0.0.1:1/u --config c.lua --app 1 --month 2026-12", "give %-%-url" },
      { "gateway --url http://127.0.0.1:1/u --month 2026-12", "%-%-app is required" },
    }
    for _, c in ipairs(cases) do
      local code, out, err = run(c[1])
      assert.equal(2, code, c[1] .. ": " .. err)
      assert.equal("", out, c[1])
      assert.matches(c[2], err)
      assert.matches("help' for usage", err)
    end
  end)

  it("refuses an option given twice, where the last value was billed silently; repeatable ones repeat", function()
    for _, args in ipairs {
      "invoice --book 2020 --edition pro --month 2021-03 --peak-dau 5 --peak-dau 60000",
      "invoice --book 2020 --book 2021 --edition pro --month 2021-03",
      "project --dau 1000 --dau 2000 --start 2023-01 --months 1",
    } do
      local code, out, err = run(args)
      assert.equal(2, code, args)
      assert.equal("", out, args)
      assert.matches("^imbill %a+: error: option '%-%-[%a-]+' must be used at most 1 time\n", err)
    end
    local code, out, err = run("replay --events examples/events.csv --month 2021-03 --month 2021-04")
    assert.equal(0, code, err)
    assert.matches("Invoice 2021%-03.*Invoice 2021%-04", out)
  end)

  it("replay names its log as it is, and quoted when a line break in the name would forge a report line", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. sh_quote(dir)))
    local name = dir .. "/ev\nInvoice 2021-03 total 0.00.csv"
    local f = assert(io.open(name, "w"))
    f:write("time,action,user\n2021-03-01T01:00:00Z,login,a\n")
    f:close()
    local code, out, err = run("replay --events " .. sh_quote(name) .. " --book 2020 --edition pro --month 2021-03")
    assert.equal(0, code, err)
    assert.equal('replayed "' .. dir .. '/ev\\nInvoice 2021-03 total 0.00.csv": 2 lines, 1 event, 0 duplicates,'
      .. " 0 refused, 0 malformed\n", out:match("^[^\n]*\n"))
    os.remove(name)
    os.remove(dir)
  end)

  it("takes a negative value right after its option, and names the command, the option and the value", function()
    -- argparse alone read "-5%" as short options: "unknown option '-5'", naming
    -- neither the option nor the value, and `--growth -5%` could not be written
    local c1, o1, e1 = run("project --dau 20000 --start 2023-01 --months 3 --growth -5% --editions 2022/standard"
      .. " --mau-ratio 3 --csv")
    local c2, o2 = run("project --dau 20000 --start 2023-01 --months 3 --growth=-5% --editions 2022/standard"
      .. " --mau-ratio 3 --csv")
    assert.equal(0, c1, e1)
    assert.equal(0, c2)
    assert.equal(o2, o1)
    -- 20,000 DAU falling 5% a month, MAU 3 x DAU: 399.00 + 0.015 x (3 x 19,000 - 10,000) in February
    assert.matches("2023%-02,[^\n]*1104%.00", o1)
    -- a zone west of UTC is written the same way
    local c3, o3, e3 = run("replay --events examples/events.csv --book 2020 --edition pro --month 2021-03 --tz -05:00")
    local _, o4 = run("replay --events examples/events.csv --book 2020 --edition pro --month 2021-03 --tz=-05:00")
    assert.equal(0, c3, e3)
    assert.equal(o4, o3)
    assert.matches("days in UTC%-05:00", o3)
    for _, c in ipairs {
      { "invoice --book 2020 --edition pro --month 2021-03 --peak-dau -5",
        "imbill invoice: error: --peak-dau: expected a whole number >= 0, got \"-5\"\n" },
      { "breakeven --from-value -1", "imbill breakeven: error: --from-value: expected a whole number >= 0, got \"-1\"\n" },
      -- an option given too few values is named with its command too
      { "invoice --peak-dau", "imbill invoice: error: option '--peak-dau' requires an argument\n" },
    } do
      local code, out, err = run(c[1])
      assert.equal(2, code, c[1])
      assert.equal("", out, c[1])
      assert.equal(c[2], err:match("^[^\n]*\n"), c[1])
    end
  end)

  it("input imbill refuses: exit code 1, the message names the option and value", function()
    local code, _, err = run("invoice --book 2020 --edition gold --month 2021-03")
    assert.equal(1, code)
    assert.matches("^imbill invoice: error: %-%-edition: price book 2020 has no such edition.*got \"gold\"", err)
    local bad = os.tmpname()
    local f = io.open(bad, "w")
    f:write("date,dau,groups\n2021-03-01,12,1\n2021-03-02,x,1\n")
    f:close()
    local c2, _, e2 = run("project --usage " .. bad)
    os.remove(bad)
    assert.equal(1, c2)
    assert.matches(":3: column 2 %(dau%): expected a whole number >= 0, got \"x\"", e2)
  end)

  it("files that cannot be read: exit code 3", function()
    local code, _, err = run("project --usage /nonexistent/usage.csv")
    assert.equal(3, code)
    assert.matches("%-%-usage: cannot open: no such file or directory, got \"/nonexistent/usage%.csv\"", err)
  end)

  it("draws no progress bar when standard error is not a terminal, even on a long run", function()
    local t0 = os.time()
    local code, out, err = run("grid --growth=-5%..10%:0.25% --start-dau 1..200000:10 --months 24 --mau-per-dau 3")
    assert.equal(0, code)
    assert.equal("", err)
    assert.matches("scenarios", out)
    assert.is_true(os.time() - t0 >= 1, "the run should last over a second")
    -- on a terminal (script(1) gives the run one), the same run draws a bar
    local p = io.popen("command -v script")
    local has_script = p:read("*a") ~= ""
    p:close()
    if has_script then
      local q = io.popen(string.format("cd %s && script -qec %s /dev/null", sh_quote(TOP),
        sh_quote("lua5.4 bin/imbill grid --growth=-5%..10%:0.25% --start-dau 1..200000:10 --months 24"
          .. " --mau-per-dau 3 >/dev/null")))
      local tty = q:read("*a")
      q:close()
      assert.matches("grid %[#+%.*%] +%d+%% %d+/7320000", tty)
    else
      local c2, _, e2 = run("grid --growth=-5%..10%:0.25% --start-dau 1..200000:10 --months 24 --mau-per-dau 3",
        { env = "IMBILL_PROGRESS=always" })
      assert.equal(0, c2)
      assert.matches("grid %[#", e2)
    end
  end)
end)

-- A value the library refuses is named as the user gave it: the option typed
-- (and the item of a list option), or the --input file and the field in it.
describe("imbill CLI errors about a value #cli", function()
  local function first_line(args, opts)
    local code, out, err = run(args, opts)
    assert.equal(1, code, err)
    assert.equal("", out)
    return err:match("^[^\n]*")
  end

  it("name the option it came from", function()
    assert.equal('imbill invoice: error: --month: no such month, got "2021-13"',
      first_line("invoice --edition pro --month 2021-13"))
    assert.equal('imbill invoice: error: --activated: no such date, got "2021-02-30"',
      first_line("invoice --edition pro --month 2021-03 --activated 2021-02-30"))
    assert.equal('imbill invoice: error: --change-on: is not in the invoice month 2021-03, got "2021-04-05"',
      first_line("invoice --edition pro --month 2021-03 --change-on 2021-04-05 --change-to flagship"))
    assert.matches('^imbill invoice: error: %-%-change%-to: price book 2020 has no such edition .*got "gold"$',
      first_line("invoice --edition pro --month 2021-03 --change-on 2021-03-05 --change-to gold"))
    assert.equal('imbill compare: error: --month: no such month, got "2021-13"', first_line("compare --month 2021-13"))
    assert.equal('imbill breakeven: error: --to-value: is below from (20), got 10',
      first_line("breakeven --editions 2021/pro,2022/standard --from-value 20 --to-value 10"))
  end)

  it("advise the MAU options where an edition needs MAU: breakeven, chart curves", function()
    -- the library's advice names usage.mau and follow.mau, which no one types here
    local code, _, err = run("breakeven --editions 2021/pro,2022/standard")
    assert.equal(1, code)
    assert.equal("imbill breakeven: error: --mau-per-dau: the usage gives no MAU, and 2022/standard bills MAU: give"
      .. " --mau-per-dau (MAU = ratio x DAU) or --mau, or leave the edition out (--editions)\n", err)
    assert.equal("imbill chart: error: --mau-per-dau: the usage gives no MAU, and 2022/standard bills MAU: give"
      .. " --mau-per-dau (MAU = ratio x DAU) or --mau, or leave the edition out (--editions)",
      first_line("chart curves --editions 2021/pro,2022/standard"))
    -- a break-even by MAU over an edition that bills DAU: the fixed DAU's option
    assert.equal("imbill breakeven: error: --peak-dau: the usage gives no peak DAU, and 2021/pro bills peak DAU: give"
      .. " --peak-dau (a fixed peak DAU), or leave the edition out (--editions)",
      first_line("breakeven --editions 2021/pro,2021/ultimate --metric mau"))
    -- a report has --mau-per-dau but no --mau, and its break-even editions come from --breakeven
    local html = os.tmpname()
    assert.equal("imbill report: error: --mau-per-dau: the usage gives no MAU, and 2022/standard bills MAU: give"
      .. " --mau-per-dau (MAU = ratio x DAU), or leave the edition out of --breakeven",
      first_line("report --usage " .. USAGE .. " --books 2020 --breakeven 2022/standard,2022/premium -o " .. sh_quote(html)))
    os.remove(html)
  end)

  it("name the option in replay, chart and gateway too, never the library's field", function()
    local events = "replay --events examples/events.csv"
    assert.matches('^imbill replay: error: %-%-edition: price book 2020 has no such edition .*got "gold"$',
      first_line(events .. " --edition gold"))
    assert.equal('imbill replay: error: --book: unknown price book (built-in: 2020, 2021, 2022), got "1999"',
      first_line(events .. " --book 1999"))
    assert.matches('^imbill replay: error: %-%-tz: offset is out of range .*got "%+25:00"$',
      first_line(events .. " --tz +25:00"))
    assert.equal("imbill chart: error: --width: expected a whole number of pixels from 320 to 4096, got 99999",
      first_line("chart curves --editions 2021/pro,2021/ultimate --width 99999"))
    assert.equal("imbill chart: error: --max-labels: expected a whole number from 0 to 1000, got 1001",
      first_line("chart curves --editions 2021/pro,2021/ultimate --max-labels 1001"))
    local svg = os.tmpname()
    assert.equal("imbill chart: error: --height: expected a whole number of pixels from 200 to 4096, got 9",
      first_line("chart bars --usage " .. USAGE .. " --height 9 -o " .. sh_quote(svg)))
    assert.equal("imbill chart: error: --width: expected a whole number of pixels from 320 to 4096, got 9",
      first_line("chart path --usage " .. USAGE .. " --width 9 -o " .. sh_quote(svg)))
    os.remove(svg)
    assert.matches('^imbill gateway: error: %-%-url: expected http://host:port/path .*got "notaurl"$',
      first_line("gateway --url notaurl --app 1400000001 --month 2026-12"))
    assert.equal('imbill gateway: error: --app: expected an SDKAppID (digits), got "01"',
      first_line("gateway --url http://127.0.0.1:9/imbill/usage --app 01 --month 2026-12"))
  end)

  it("name a list option's item by its place", function()
    assert.matches('^imbill invoice: error: %-%-addons%[2%]: price book 2020 has no such add%-on .*got "zz"$',
      first_line("invoice --edition pro --month 2021-03 --addons av_unlimited,zz"))
    assert.equal('imbill compare: error: --books[2]: unknown price book (built-in: 2020, 2021, 2022), got "1999"',
      first_line("compare --month 2021-03 --books 2020,1999"))
    assert.matches('^imbill breakeven: error: %-%-editions%[2%]: price book 2021 has no such edition .*got "zzz"$',
      first_line("breakeven --editions 2021/pro,2021/zzz"))
    assert.matches('^imbill project: error: %-%-editions%[1%]: price book 2021 has no such edition .*got "zzz"$',
      first_line("project --editions 2021/zzz --start 2021-01 --months 3 --dau 100"))
    local html = os.tmpname()
    assert.matches('^imbill report: error: %-%-breakeven%[2%]: price book 2021 has no such edition .*got "zz"$',
      first_line("report --editions 2021/pro --start 2021-01 --months 3 --dau 100 --breakeven 2021/pro,2021/zz -o "
        .. sh_quote(html)))
    os.remove(html)
  end)

  it("name the --input file and the field in it, and an option given over the file by the option", function()
    local f = os.tmpname()
    local h = io.open(f, "w")
    h:write('{"edition":"gold","month":"2021-03","change":{"on":"2021-03-05","to":"zz"}}')
    h:close()
    assert.matches('^imbill invoice: error: %-%-input: edition: price book 2020 has no such edition .*got "gold"$',
      first_line("invoice --input -", { stdin = f }))
    assert.matches('^imbill invoice: error: %-%-input: change%.to: price book 2020 has no such edition .*got "zz"$',
      first_line("invoice --input - --edition pro", { stdin = f }))
    assert.matches('^imbill invoice: error: %-%-edition: price book 2020 has no such edition .*got "silver"$',
      first_line("invoice --input - --edition silver", { stdin = f }))
    os.remove(f)
  end)
end)

describe("imbill CLI without its command-line dependencies #cli", function()
  it("says which Debian package or rock is missing and exits 4", function()
    -- only the checkout's own modules: argparse and dkjson cannot be found
    local code, out, err = run("compare", { env = "LUA_PATH='/nonexistent/?.lua'" })
    assert.equal(4, code)
    assert.equal("", out)
    assert.equal("imbill: error: this needs the Lua module argparse (Debian: apt-get install lua-argparse;"
      .. " LuaRocks: luarocks install argparse)\n", err)
  end)
end)
