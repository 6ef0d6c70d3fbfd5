-- The imbill command and the files it reads, given what a careless or hostile
-- user gives it: each refusal says what it is about in words that are true of
-- the value given.
local R = require "cli_run"
local replay = require "imbill.meter.replay"

local INVOICE = "invoice --book 2020 --edition pro --month 2021-03 --peak-dau 25000"

local function log(text, ext)
  return R.write(os.tmpname() .. ext, text)
end

describe("imbill given hostile input #cli", function()
  it("a JSON null is JSON: --input says it is not an object, a log line that it is not an event", function()
    -- the decoder gives nil for null, which read as "not JSON: null"
    local p = R.write(os.tmpname(), "null")
    local code, out, err = R.run("invoice --input " .. R.quote(p))
    os.remove(p)
    assert.equal(1, code)
    assert.equal("", out)
    assert.equal('imbill invoice: error: --input: holds a JSON null, not an object with imbill.invoice\'s fields,'
      .. ' got "' .. p .. '"\n', err)
    local l = log('null\n  null  \n{"time":"2021-03-01T01:00:00Z","action":"login","user":"a"}\n', ".jsonl")
    local m, report = replay.run { path = l, book = "2020", edition = "pro" }
    os.remove(l)
    assert.same({ { line = 1, message = "expected a JSON object, got a JSON null" },
                  { line = 2, message = "expected a JSON object, got a JSON null" } }, report.errors)
    assert.equal(1, report.events)
    assert.equal(1, m:usage("2021-03").mau)
  end)

  it("a time past 2^53 seconds is out of range, not 'not whole seconds': 1e20 and 2^53 + 1 are whole", function()
    assert.same({ nil, 'time: out of range, got 1e+20' }, { replay.time(1e20) })
    assert.same({ nil, 'time: out of range, got inf' }, { replay.time(math.huge) })
    -- the same as the digits in text were already told
    assert.same({ nil, 'time: out of range, got "99999999999999999999"' }, { replay.time("99999999999999999999") })
    -- the boundary: 2^53 is out of range too (on LuaJIT 2^53 + 1 reads as 2^53, and both runtimes say the
    -- same); below it, a number of seconds the meter then says is past year 9999
    assert.same({ nil, 'time: out of range, got 9007199254740992' }, { replay.time(2 ^ 53) })
    assert.same({ nil, 'time: out of range, got "9007199254740993"' }, { replay.time("9007199254740993") })
    assert.equal(2 ^ 53 - 1, (replay.time(2 ^ 53 - 1)))
    assert.same({ nil, 'time: not whole seconds, got 1614560400.5' }, { replay.time(1614560400.5) })
    local l = log('{"time":1e20,"action":"login","user":"a"}\n', ".jsonl")
    local _, report = replay.run { path = l, book = "2020", edition = "pro" }
    os.remove(l)
    assert.same({ { line = 1, message = "time: out of range, got 1e+20" } }, report.errors)
  end)

  it("--text with --csv or --json is refused as --csv with --json is, where the other format was written", function()
    for _, pair in ipairs { { "--csv", "--text" }, { "--json", "--text" }, { "--csv", "--json" } } do
      local code, out, err = R.run(INVOICE .. " " .. pair[1] .. " " .. pair[2])
      assert.equal(2, code, pair[1] .. pair[2])
      assert.equal("", out)
      assert.equal("imbill invoice: error: " .. pair[1] .. " and " .. pair[2] .. " cannot be used together\n"
        .. "Run 'imbill invoice --help' for usage.\n", err)
    end
    local d = R.tmpdir()
    local code = R.run(INVOICE .. " --csv --text -o " .. R.quote(d .. "/out.csv"))
    assert.equal(2, code)
    assert.same({}, R.ls(d))
    R.rm(d)
    local c1, text = R.run(INVOICE .. " --text")
    local c2, default = R.run(INVOICE)
    assert.same({ 0, 0 }, { c1, c2 })
    assert.equal(default, text)
  end)
  it("shadow: --fee for one edition twice is refused, naming both, where the second was priced unsaid", function()
    local U = R.quote(R.top .. "/examples/data/usage_2021.csv")
    local code, out, err = R.run("shadow --usage " .. U .. " --base 2020 --fee pro=1 --fee pro=2 --editions pro")
    assert.equal(2, code)
    assert.equal("", out)
    assert.equal('imbill shadow: error: --fee: gives edition pro a fee twice (also pro=1), got "pro=2"\n'
      .. "Run 'imbill shadow --help' for usage.\n", err)
    -- fees for two editions are two changes
    local c2, out2 = R.run("shadow --usage " .. U .. " --base 2020 --fee pro=1 --fee flagship=2 --to 2021-01 --csv")
    assert.equal(0, c2)
    assert.matches("2021%-01,pro,plan_fee,149%.99,1%.00,", out2)
    assert.matches("2021%-01,flagship,plan_fee,449%.99,2%.00,", out2)
  end)

  it("shadow: --shadow-name names the book even when the --shadow-book file names it, where the file won", function()
    local U = R.quote(R.top .. "/examples/data/usage_2021.csv")
    local b = R.write(os.tmpname(), '{"base":"2020","name":"fromfile","editions":{"pro":{"monthly_fee":"100"}}}')
    local base = "shadow --usage " .. U .. " --shadow-book " .. R.quote(b) .. " --editions pro --to 2021-01"
    local c1, flagged = R.run(base .. " --shadow-name byflag")
    local c2, plain = R.run(base)
    os.remove(b)
    assert.same({ 0, 0 }, { c1, c2 })
    assert.matches("^month +edition +line +2020 +byflag +difference\n", flagged)
    assert.matches("^month +edition +line +2020 +fromfile +difference\n", plain)
  end)
  it("a feature named twice in --needs is one need: each edition lacking it gives the reason once", function()
    local imbill = require "imbill"
    local once = imbill.compare { month = "2021-03", peak_dau = 25000, books = { "2020" }, needs = { "local_search" } }
    local twice = imbill.compare { month = "2021-03", peak_dau = 25000, books = { "2020" },
                                   needs = { "local_search", "local_search" } }
    for i, row in ipairs(twice) do assert.same(once[i].reasons, row.reasons) end
    local code, out = R.run("compare --month 2021-03 --peak-dau 25000 --books 2020 --needs local_search,local_search")
    assert.equal(0, code)
    assert.matches("\n2  2020  pro  +449%.97  no  +lacks local_search\n", out)
    assert.not_matches("lacks local_search; lacks local_search", out)
  end)
  it("replay: a --month given twice is refused before the log is read, where its invoice was printed twice", function()
    local ev = R.quote(R.top .. "/examples/events.csv")
    local code, out, err = R.run("replay --events " .. ev .. " --month 2021-03 --month 2021-04 --month 2021-03")
    assert.equal(2, code)
    assert.equal("", out)
    assert.equal('imbill replay: error: --month: is given twice, got "2021-03"\n'
      .. "Run 'imbill replay --help' for usage.\n", err)
    local c2, two = R.run("replay --events " .. ev .. " --month 2021-03 --month 2021-04 --csv")
    assert.equal(0, c2)
    local _, n = two:gsub("\n2021%-03,total,", "")
    assert.equal(1, n)
    assert.matches("\n2021%-04,total,", two)
  end)
  it("replay --csv tells on standard error the lines it did not count, where CSV left them untold", function()
    local l = log("time,action,user\n2021-03-01T01:00:00Z,login,a\n2021-02-29T01:00:00Z,login,b\n", ".csv")
    local code, out, err = R.run("replay --events " .. R.quote(l) .. " --csv")
    assert.equal(0, code)
    -- the CSV is the invoice lines, and only them
    assert.equal("month,line,amount,note\n2021-03,plan_fee,0.00,trial (free edition) 2021-03-01..2021-03-31: no plan"
      .. " fee; usage is never billed\n2021-03,total,0.00,due 2021-04-03\n", out)
    assert.equal("imbill replay: replayed " .. l .. ": 3 lines, 1 event, 0 duplicates, 0 refused, 1 malformed\n"
      .. '  line 3: time: no such date, got "2021-02-29"\n', err)
    local c2, _, e2 = R.run("replay --events " .. R.quote(l) .. " --csv --strict")
    assert.equal(1, c2)
    assert.matches("\nstrict: nothing was counted\n$", e2)
    os.remove(l)
    -- a refusal is an answer, told the same way; a log all counted says nothing there
    local ev = R.quote(R.top .. "/examples/events.csv")
    local c3, _, e3 = R.run("replay --events " .. ev .. " --edition pro --csv")
    assert.equal(0, c3)
    assert.matches("^imbill replay: replayed [^\n]*: 33 lines, 28 events, 1 duplicate, 1 refused, 0 malformed\n"
      .. "  line 30 refused %(same_edition%): ", e3)
    local c4, _, e4 = R.run("replay --events " .. ev .. " --csv")
    assert.same({ 0, "" }, { c4, e4 })
  end)
  it("a JSON line over 1 MiB is one malformed line and the lines after it count; in CSV it ends the log", function()
    local ev = '{"time":"2021-03-01T01:00:00Z","action":"login","user":"%s"}\n'
    local huge = string.rep("x", 10 * 1048576)
    local l = log(ev:format("a") .. '{"time":"2021-03-01T01:00:00Z","action":"login","user":"' .. huge .. '"}\n'
      .. ev:format("b") .. huge .. ev:format("c"), ".jsonl")
    local m, report = replay.run { path = l, book = "2020", edition = "pro" }
    assert.same({ { line = 2, message = "a line longer than 1048576 bytes" },
                  { line = 4, message = "a line longer than 1048576 bytes" } }, report.errors)
    -- b after the first; the second over-long line runs into c's, which goes with it
    assert.equal(2, report.events)
    assert.equal(2, m:usage("2021-03").mau)
    -- strict: the over-long line is malformed, so nothing counts
    local m2, r2 = replay.run { path = l, book = "2020", edition = "pro", strict = true }
    os.remove(l)
    assert.is_nil(m2)
    assert.equal(2, #r2.errors)
    assert.equal(0, r2.events)
    -- CSV: a quoted field may hold line breaks, so past an over-long record nothing can be told apart
    local c = log("time,action,user\n2021-03-01T01:00:00Z,login,a\n2021-03-01T01:00:00Z,login," .. huge
      .. "\n2021-03-01T01:00:00Z,login,b\n", ".csv")
    local m3, r3 = replay.run { path = c, book = "2020", edition = "pro" }
    os.remove(c)
    assert.equal(1, r3.events)
    assert.equal(1, m3:usage("2021-03").mau)
    assert.matches("the rest of the log is not read$", r3.errors[1].message)
  end)
  it("1 MiB is the limit to the byte, wherever the line ends against the reads of 64 KiB", function()
    -- a line whose end came with the read after its start was taken whole, up to
    -- 1 MiB + 64 KiB: 1,048,576 bytes is a line, 1,048,577 is malformed
    local head = '{"time":"2021-03-01T01:00:00Z","action":"login","user":"big"'
    for _, n in ipairs { 1048576, 1048577, 1100000 } do
      local l = log(head .. string.rep(" ", n - #head - 1) .. "}\n"
        .. '{"time":"2021-03-01T01:00:00Z","action":"login","user":"after"}\n', ".jsonl")
      local m, report = replay.run { path = l, book = "2020", edition = "pro" }
      os.remove(l)
      if n == 1048576 then
        assert.equal(2, report.events)
        assert.same({}, report.errors)
      else
        assert.same({ { line = 1, message = "a line longer than 1048576 bytes" } }, report.errors)
        assert.equal(1, report.events)
        assert.equal(1, m:usage("2021-03").mau)
      end
    end
    -- in CSV such a record ends the log there, and the line after it does not count
    local c = log("time,action,user\n2021-03-01T01:00:00Z,login,\"big" .. string.rep(" ", 1100000) .. "\"\n"
      .. "2021-03-01T01:00:00Z,login,after\n", ".csv")
    local m, r = replay.run { path = c, book = "2020", edition = "pro" }
    os.remove(c)
    assert.equal(0, r.events)
    assert.equal(0, m:usage("2021-03").mau)
    assert.matches("the rest of the log is not read$", r.errors[1].message)
  end)
  it("a JSON log whose line never ends (/dev/zero) is refused after 64 MiB of it, where the skip read it for ever",
    function()
      -- the skip of an over-long line is bounded (files.SKIP_MAX): the API fuzzer's replay of /dev/zero hung
      assert.equal(64 * 1048576, require("imbill.internal.files").SKIP_MAX)
      local ok, e = pcall(replay.run, { path = "/dev/zero", format = "jsonl", book = "2020", edition = "pro" })
      assert.is_false(ok)
      assert.equal('imbill.replay.run: path: line 1 runs on past 67108864 bytes without a line break: not a log of'
        .. ' lines, got "/dev/zero"', tostring(e))
      local code, _, err = R.run("replay --events /dev/zero --format jsonl --edition pro")
      assert.equal(1, code)
      assert.matches("line 1 runs on past 67108864 bytes without a line break", err)
    end)
  it("strict replay of a pipe or a FIFO counts the log, where the second pass found it drained or waited for good",
    function()
      local ev = R.quote(R.top .. "/examples/events.csv")
      -- <(cat log): before, "0 lines, 0 events" and exit 0
      local p = io.popen("cd " .. R.quote(R.top) .. " && bash -c " .. R.quote("lua5.4 bin/imbill replay --events"
        .. " <(cat " .. ev .. ") --format csv --strict --json"))
      local out = p:read("a")
      p:close()
      local d = require("dkjson").decode(out)
      assert.same({ 33, 28, 1 }, { d.lines, d.events, d.duplicates })
      -- a FIFO: the second open waited for a writer that never came
      local dir = R.tmpdir()
      local fifo = dir .. "/log.csv"
      assert(os.execute("mkfifo " .. R.quote(fifo)))
      os.execute("(cat " .. ev .. " > " .. R.quote(fifo) .. ") &")
      local code, text = R.run("replay --events " .. R.quote(fifo) .. " --strict", { env = "timeout 20" })
      R.rm(dir)
      assert.equal(0, code)
      assert.matches(": 33 lines, 28 events, 1 duplicate, 0 refused, 0 malformed\n", text)
      -- the library the same: a log that reads once only is kept for the passes after the check
      local dir2 = R.tmpdir()
      local fifo2 = dir2 .. "/log.csv"
      assert(os.execute("mkfifo " .. R.quote(fifo2)))
      os.execute("(cat " .. ev .. " > " .. R.quote(fifo2) .. ") &")
      local m, report = replay.run { path = fifo2, book = "2020", edition = "pro", strict = true }
      R.rm(dir2)
      assert.same({ 28, 1, 1 }, { report.events, report.duplicates, report.refused })
      assert.equal(4, m:usage("2021-03").mau)
    end)
  it("-o naming a file the command reads is refused and the file kept, where the result replaced it", function()
    local d = R.tmpdir()
    local log_text = R.read(R.top .. "/examples/events.csv")
    local usage_text = R.read(R.top .. "/examples/data/usage_2021.csv")
    local ev = R.write(d .. "/ev.csv", log_text)
    local us = R.write(d .. "/us.csv", usage_text)
    assert(os.execute("ln -s ev.csv " .. R.quote(d .. "/link.csv") .. " && ln " .. R.quote(ev) .. " "
      .. R.quote(d .. "/hard.csv")))
    for _, case in ipairs {
      { "replay --events " .. R.quote(ev), ev, "--events" },
      -- the same file by another spelling, through a link, or a second name (a hard link)
      { "replay --events " .. R.quote(d .. "/link.csv"), d .. "/./ev.csv", "--events" },
      { "replay --events " .. R.quote(ev), d .. "/hard.csv", "--events" },
      { "project --books 2020 --usage " .. R.quote(us), us, "--usage" },
    } do
      local code, out, err = R.run(case[1] .. " -o " .. R.quote(case[2]))
      assert.equal(2, code, case[1])
      assert.equal("", out)
      assert.equal("imbill " .. case[1]:match("^%a+") .. ": error: -o: is the file " .. case[3] .. " reads (the result"
        .. ' would replace it), got "' .. case[2] .. '"\n', err:match("^[^\n]*\n"))
    end
    assert.equal(log_text, R.read(ev))
    assert.equal(usage_text, R.read(us))
    -- another file is written as ever
    local code = R.run("replay --events " .. R.quote(ev) .. " -o " .. R.quote(d .. "/out.txt"))
    assert.equal(0, code)
    assert.matches("^replayed ", R.read(d .. "/out.txt"))
    R.rm(d)
  end)
  it("--from, --to, --start past 9999-08 say so, where they read 'no such month' of a month that is", function()
    local U = R.quote(R.top .. "/examples/data/usage_2021.csv")
    for _, case in ipairs {
      { "project --usage " .. U .. " --from 9999-12", "project", "--from" },
      { "shadow --usage " .. U .. " --fee pro=1 --to 9999-09", "shadow", "--to" },
      { "project --dau 5 --start 9999-12", "project", "--start" },
    } do
      local code, out, err = R.run(case[1])
      assert.equal(1, code, case[1])
      assert.equal("", out)
      assert.equal("imbill " .. case[2] .. ": error: " .. case[3] .. ": " .. case[1]:match("(9999%-%d%d)$")
        .. " is after 9999-08, the last month whose due date and arrears fall within year 9999\n", err)
    end
    -- a month the calendar does not have is still that
    local code, _, err = R.run("project --usage " .. U .. " --from 2021-13")
    assert.equal(1, code)
    assert.equal('imbill project: error: --from: no such month, got "2021-13"\n', err)
  end)
  it("replay: a --month the calendar refuses is refused naming --month before the log is read", function()
    local ev = R.quote(R.top .. "/examples/events.csv")
    local code, out, err = R.run("replay --events " .. ev .. " --month 9999-12")
    assert.same({ 1, "" }, { code, out })
    -- it read "meter:usage: month: ...", a function the command line never named, after the whole replay
    assert.equal("imbill replay: error: --month: 9999-12 is after 9999-08, the last month whose due date and arrears"
      .. " fall within year 9999\n", err)
    local c2, _, e2 = R.run("replay --events " .. ev .. " --month 2021-13")
    assert.equal(1, c2)
    assert.equal('imbill replay: error: --month: no such month, got "2021-13"\n', e2)
  end)
  it("a log of garbage lists the first 1000 malformed lines and counts them all, in bounded memory", function()
    assert.equal(1000, replay.REPORT_MAX)
    local l = log(string.rep("x\n", 1500) .. '{"time":"2021-03-01T01:00:00Z","action":"login","user":"a"}\n', ".jsonl")
    local m, report = replay.run { path = l, book = "2020", edition = "pro" }
    assert.equal(1500, report.malformed)
    assert.equal(1000, #report.errors)
    assert.same({ line = 1000, message = "malformed JSON: no valid JSON value at line 1, column 1" }, report.errors[1000])
    assert.equal(1, report.events)
    assert.equal(1, m:usage("2021-03").mau)
    local m2, r2 = replay.run { path = l, book = "2020", edition = "pro", strict = true }
    assert.is_nil(m2)
    assert.same({ 1500, 1000 }, { r2.malformed, #r2.errors })
    local code, out = R.run("replay --events " .. R.quote(l))
    local c2, json = R.run("replay --events " .. R.quote(l) .. " --json")
    os.remove(l)
    assert.same({ 0, 0 }, { code, c2 })
    assert.matches("^replayed [^\n]*: 1501 lines, 1 event, 0 duplicates, 0 refused, 1500 malformed\n", out)
    assert.matches("\n  line 1000: [^\n]*\n  %(and 500 malformed lines not listed%)\n", out)
    local d = require("dkjson").decode(json)
    assert.same({ 1500, 1000 }, { d.malformed, #d.errors })
    -- refusals the same: 1200 groups on trial, which allows 100
    local lines = { "time,action,group,type" }
    for i = 1, 1200 do lines[#lines + 1] = string.format("2021-03-01T01:00:00Z,create_group,g%d,Work", i) end
    local c = log(table.concat(lines, "\n") .. "\n", ".csv")
    local _, r3 = replay.run { path = c, book = "2020", edition = "trial" }
    local c3, out3 = R.run("replay --events " .. R.quote(c))
    os.remove(c)
    assert.same({ 1100, 1000 }, { r3.refused, #r3.refusals })
    assert.equal(0, c3)
    assert.matches("\n  %(and 100 refusals not listed%)\n", out3)
  end)
  it("replay bills no month for an event refused for its date, where a stray 1970 login billed 1970-01", function()
    -- one login counted in March; two refused as too late (closed): 1970-01-01 and 2020-11-01
    local l = log("time,action,user\n2021-03-01T01:00:00Z,login,a\n0,login,b\n2020-11-01T00:00:00Z,login,c\n", ".csv")
    local _, report = replay.run { path = l, book = "2020", edition = "pro" }
    assert.same({ "2021-03" }, report.months)
    assert.same({ "closed", "closed" }, { report.refusals[1].code, report.refusals[2].code })
    local code, out = R.run("replay --events " .. R.quote(l) .. " --edition pro --csv")
    assert.equal(0, code)
    -- one invoice, 149.99; it was three, 449.97, two of them for months nothing was counted in
    local totals = {}
    for month, amount in out:gmatch("\n(%d+%-%d+),total,([%d.]+),") do totals[#totals + 1] = month .. " " .. amount end
    assert.same({ "2021-03 149.99" }, totals)
    -- a month asked for is billed as asked
    local _, asked = R.run("replay --events " .. R.quote(l) .. " --edition pro --csv --month 2020-11")
    os.remove(l)
    assert.matches("\n2020%-11,total,149%.99,", asked)
    -- a refusal for a quota is in a month the meter counts: that month is listed
    local q = log("time,action,group,type\n" .. string.rep("2021-03-01T01:00:00Z,create_group,g,Work\n", 1)
      .. "2021-04-01T01:00:00Z,create_group,g,Work\n", ".csv")
    local _, r2 = replay.run { path = q, book = "2020", edition = "pro" }
    os.remove(q)
    assert.equal(10021, r2.refusals[1].code)
    assert.same({ "2021-03", "2021-04" }, r2.months)
  end)
  it("a --shadow-book whose name is wrong says name:, where it read 'shadow: expected a string, got table'", function()
    local imbill = require "imbill"
    local U = R.top .. "/examples/data/usage_2021.csv"
    local function err(shadow)
      local ok, e = pcall(imbill.shadow, { usage = U, base = "2020", shadow = shadow, to = "2021-01" })
      assert.is_false(ok)
      return tostring(e)
    end
    assert.equal("imbill.shadow: shadow: name: expected a string, got table", err { base = "2020", name = { "x" } })
    assert.equal('imbill.shadow: shadow: name: is the name of a built-in price book, got "2021"',
      err { base = "2020", name = "2021" })
    -- a book named by text is still told as the field it was given in
    assert.equal('imbill.shadow: shadow: unknown price book (built-in: 2020, 2021, 2022), got "1999"', err "1999")
    local b = R.write(os.tmpname(), '{"base":"2020","name":["x"]}')
    local code, _, e = R.run("shadow --usage " .. R.quote(U) .. " --shadow-book " .. R.quote(b) .. " --to 2021-01")
    os.remove(b)
    assert.equal(1, code)
    -- the field inside the file, after the option that named the file
    assert.equal("imbill shadow: error: --shadow-book: name: expected a string, got table\n", e)
  end)
  it("JSON that dkjson takes and RFC 8259 does not is malformed, naming the byte, as other JSON readers say", function()
    local json = require "imbill.internal.json"
    local dkjson = require "dkjson"
    for _, case in ipairs {
      -- numbers JSON does not write
      { '{"t":01614560400}', "01614560400 is not a JSON number at byte 6" },
      { '{"t":1614560400.}', "1614560400. is not a JSON number at byte 6" },
      { '[.5]', ".5 is not a JSON number at byte 2" }, { '[-01]', "-01 is not a JSON number at byte 2" },
      { '[1.e5]', "1.e5 is not a JSON number at byte 2" },
      -- a trailing comma, a comment, a raw tab in a string, an escape JSON lacks, a short \u
      { '{"a":1,}', "a comma before } at byte 8" }, { '[1,]', "a comma before ] at byte 4" },
      { '{"a":1 /*c*/}', "expected , or } at byte 8" },
      { '["a\tb"]', "a control character inside a string (write it as an escape) at byte 4" },
      { '["a\0b"]', "a control character inside a string (write it as an escape) at byte 4" },
      { '["\\x41"]', "an escape JSON does not have at byte 3" },
      { '["\\u00"]', "\\u without 4 hex digits at byte 3" },
    } do
      assert.same({ nil, "malformed JSON: " .. case[2] }, { json.decode(dkjson, case[1]) }, case[1])
    end
    -- JSON's own, and what strings hold, are read as ever
    for _, text in ipairs { "[0]", "[-0]", "[1e3]", "[-1.5E-3]", "[10.25e+2]", '{"a":"01 .5 1. /* , ]"}', "[0.5]",
                            ' { "a" : [ 1 , true , null , { } , [ ] ] } ', '["\\u00e9\\n\\/\127"]', "\239\187\191[1]" } do
      assert.is_true((json.strict(text)), text)
      assert.is_not_nil((json.decode(dkjson, text)), text)
    end
    local l = log('{"time":01614560400,"action":"login","user":"a"}\n'
      .. '{"time":1614560400,"action":"login","user":"b",}\n'
      .. '{"time":1614560400,"action":"login","user":"c"}\n', ".jsonl")
    local _, report = replay.run { path = l, book = "2020", edition = "pro" }
    os.remove(l)
    assert.same({ { line = 1, message = "malformed JSON: 01614560400 is not a JSON number at byte 9" },
                  { line = 2, message = "malformed JSON: a comma before } at byte 48" } }, report.errors)
    assert.equal(1, report.events)
  end)
  it("strict reads in every pass the file its check read: a log renamed over it or cut short meanwhile", function()
    local imbill = require "imbill"
    local d = R.tmpdir()
    local path = d .. "/log.csv"
    local checked = "time,action,user\n2021-03-10T04:00:00Z,create_account,a\n2021-03-10T04:00:01Z,login,a\n"
    -- the change comes when the check has read the log to its end
    local files = require "imbill.internal.files"
    local real = files.lines
    for _, case in ipairs {
      -- a rotation renames a new log over the path: the passes after the check read the file checked
      { change = function()
          R.write(d .. "/new.csv", "time,action,user\n2021-03-10T04:00:00Z,create_account,b\n")
          assert(os.rename(d .. "/new.csv", path))
        end },
      -- cut short: the apply pass would count less than was checked
      { change = function() R.write(path, "time,action,user\n") end,
        err = "the log is shorter than when it was checked %(84 bytes, now 17%): it changed during the replay" },
    } do
      for _, own in ipairs { true, false } do
        R.write(path, checked)
        local ends = 0
        files.lines = function(...)
          local next_line = real(...)
          return function()
            local line, e = next_line()
            if line == nil then
              ends = ends + 1
              if ends == 1 then case.change() end
            end
            return line, e
          end
        end
        local m0 = not own and imbill.meter { book = "2020", edition = "pro" } or nil
        local ok, m, report = pcall(replay.run, { path = path, meter = m0, book = own and "2020" or nil,
                                                  edition = own and "pro" or nil, strict = true })
        files.lines = real
        if case.err then
          assert.is_false(ok)
          assert.matches(case.err, tostring(m))
          if m0 then assert.equal(0, m0:accounts()) end
        else
          assert.is_true(ok, tostring(m))
          assert.same({ 2, 0 }, { report.events, #report.errors })
          assert.is_true(m:has_account("a"))
          assert.is_false(m:has_account("b"))
        end
      end
    end
    R.rm(d)
  end)
end)
