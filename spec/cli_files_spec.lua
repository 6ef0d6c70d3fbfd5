-- The imbill command and files (issue 9): directories, devices, full disks
-- and closed pipes are file errors (exit code 3) named by option and path;
-- nothing half-written is left behind; exit codes come from error kinds.
local R = require "cli_run"

local USAGE = R.top .. "/examples/data/usage_2021.csv"
local INVOICE = "invoice --book 2020 --edition pro --month 2021-03 --peak-dau 25000"

describe("imbill and files #cli", function()
  it("a directory given as an input file is 'is a directory', exit code 3, for every file option", function()
    local d = R.tmpdir()
    assert(os.execute("mkdir " .. R.quote(d .. "/dir.csv")))
    local dir = R.quote(d .. "/dir.csv")
    local cases = {
      { "replay --events " .. dir .. " --strict", "%-%-events" },
      { "replay --events " .. dir, "%-%-events" },
      { "replay --events " .. dir .. " --format jsonl", "%-%-events" },
      { "invoice --input " .. dir, "%-%-input" },
      { "project --usage " .. dir, "%-%-usage" },
      { "compare --month 2021-03 --usage " .. dir, "%-%-usage" },
      { "invoice --book 2020 --edition pro --month 2021-03 --usage " .. dir, "%-%-usage" },
      { "shadow --usage " .. R.quote(USAGE) .. " --shadow-book " .. dir, "%-%-shadow%-book" },
      { INVOICE .. " -o " .. dir, "%-o" },
    }
    for _, c in ipairs(cases) do
      local code, out, err = R.run(c[1])
      assert.equal(3, code, c[1] .. ": " .. err)
      assert.equal("", out, c[1])
      assert.is_truthy(err:match(": error: " .. c[2] .. ": is a directory, got \".*dir%.csv\"\n$"), c[1] .. ": " .. err)
    end
    R.rm(d)
  end)

  it("replay tells a log's own problem (a directory, no file) before guessing its format from the name", function()
    local d = R.tmpdir()
    assert(os.execute("mkdir " .. R.quote(d .. "/logs")))
    local is_dir = ': error: %-%-events: is a directory, got ".*/logs"\n$'
    for _, c in ipairs {
      { "replay --events " .. R.quote(d .. "/logs"), is_dir },
      { "replay --events " .. R.quote(d .. "/logs") .. " --format csv", is_dir },
      { "replay --events " .. R.quote(d .. "/gone"), ': error: %-%-events: cannot open: no such file or directory,'
        .. ' got ".*/gone"\n$' },
    } do
      local code, out, err = R.run(c[1])
      assert.equal(3, code, c[1] .. ": " .. err)
      assert.equal("", out, c[1])
      assert.is_truthy(err:match(c[2]), c[1] .. ": " .. err)
    end
    -- a file that is there and has a name that says no format still asks for --format
    R.write(d .. "/log.txt", "")
    local code, _, err = R.run("replay --events " .. R.quote(d .. "/log.txt"))
    assert.equal(1, code, err)
    assert.matches("imbill replay: error: --format: cannot tell from the file name", err, 1, true)
    R.rm(d)
  end)

  it("-o refuses anything that exists and is not a regular file, naming it, and writes nothing", function()
    local d = R.tmpdir()
    local target = R.write(d .. "/real.txt", "keep me\n")
    assert(os.execute("ln -s real.txt " .. R.quote(d .. "/link.txt")))
    local code, _, err = R.run(INVOICE .. " -o /dev/null")
    assert.equal(3, code)
    assert.matches("%-o: is not a regular file %(a device, a pipe or a socket%); use %- for standard output,"
      .. " got \"/dev/null\"", err)
    local c2, _, e2 = R.run(INVOICE .. " -o " .. R.quote(d .. "/link.txt"))
    assert.equal(3, c2)
    assert.matches("%-o: is a symbolic link", e2)
    assert.equal("keep me\n", R.read(target))
    local c3, _, e3 = R.run(INVOICE .. " -o " .. R.quote(d .. "/no/such/dir/x.txt"))
    assert.equal(3, c3)
    assert.matches("%-o: cannot write: no such file or directory, got", e3)
    -- a regular file is replaced whole, and no temporary file is left
    local c4, out4 = R.run(INVOICE .. " --json -o " .. R.quote(target))
    assert.equal(0, c4)
    assert.equal("", out4)
    assert.matches('"total": *"449%.97"', R.read(target))
    assert.same({ "link.txt", "real.txt" }, R.ls(d))
    R.rm(d)
  end)

  it("-o keeps the permission bits of the file it replaces (an invoice kept 0600 stays 0600)", function()
    local d = R.tmpdir()
    local target = R.write(d .. "/private.txt", "old\n")
    assert(os.execute("chmod 600 " .. R.quote(target)))
    local code = R.run(INVOICE .. " -o " .. R.quote(target))
    assert.equal(0, code)
    local p = io.popen("stat -c %a " .. R.quote(target))
    local mode = p:read("*l")
    p:close()
    assert.equal("600", mode)
    assert.matches("^Invoice 2021%-03", R.read(target))
    R.rm(d)
  end)

  it("-o never writes through a link planted in its directory under a temporary file's name", function()
    -- an earlier version named its temporary file from the clock
    -- (".NAME.<seed>-1.tmp") and opened it following links: links planted
    -- under those names sent the output to a file of the planter's choice
    local d = R.tmpdir()
    local outside = d .. "/outside"
    assert(os.execute("mkdir " .. R.quote(outside)))
    local plant = "import os,time,sys\nt=int(time.time())\nfor s in range(t,t+150000):\n"
      .. " os.symlink(sys.argv[2], os.path.join(sys.argv[1], '.out.txt.%d-1.tmp' % (s % 1000000)))\n"
    assert(os.execute("/usr/bin/python3 -c " .. R.quote(plant) .. " " .. R.quote(d) .. " "
      .. R.quote(outside .. "/victim")))
    local code = R.run(INVOICE .. " -o " .. R.quote(d .. "/out.txt"))
    assert.equal(0, code)
    assert.same({}, R.ls(outside))
    assert.is_truthy(os.execute("test -f " .. R.quote(d .. "/out.txt") .. " && test ! -L " .. R.quote(d .. "/out.txt")))
    assert.matches("^Invoice 2021%-03", R.read(d .. "/out.txt"))
    R.rm(d)
  end)

  it("core.write_file refuses a link at the target (one swapped in after -o looked), writing nothing", function()
    local core = require "imbill.core"
    local d = R.tmpdir()
    local real = R.write(d .. "/real.txt", "keep me\n")
    assert(os.execute("ln -s real.txt " .. R.quote(d .. "/link.txt")))
    local ok, why, errno = core.write_file(d .. "/link.txt", "new\n")
    assert.is_nil(ok)
    assert.matches("is a symbolic link", why)
    assert.equal(0, errno)
    assert.equal("keep me\n", R.read(real))
    assert.same({ "link.txt", "real.txt" }, R.ls(d))
    assert.is_true(core.write_file(d .. "/new.txt", "fresh\n"))
    assert.equal("fresh\n", R.read(d .. "/new.txt"))
    R.rm(d)
  end)

  it("a Lua file in the directory imbill runs in never runs as its code, on Lua 5.4 or LuaJIT", function()
    -- Lua's default paths search ./ (LuaJIT's first), so ./argparse.lua in a
    -- downloaded folder ran when imbill started there
    local d = R.tmpdir()
    local marker = d .. "/RAN"
    local trap = "io.open(" .. string.format("%q", marker) .. ", 'w'):close() error('the planted module ran')\n"
    R.write(d .. "/argparse.lua", trap)
    R.write(d .. "/dkjson.lua", trap)
    assert(os.execute("mkdir " .. R.quote(d .. "/table")))
    R.write(d .. "/table/clear.lua", trap)
    R.write(d .. "/table/new.lua", trap)
    for _, lua in ipairs { "lua5.4", "luajit" } do
      local out = os.tmpname()
      local ok = os.execute(string.format("cd %s && %s %s %s --json > %s 2>&1", R.quote(d), lua,
        R.quote(R.top .. "/bin/imbill"), INVOICE, R.quote(out)))
      local text = R.slurp(out)
      assert.is_truthy(ok == true or ok == 0, lua .. ": " .. tostring(text))
      assert.matches('"total": *"449%.97"', text, nil, false, lua)
      assert.is_nil(R.read(marker), lua)
    end
    R.rm(d)
  end)

  it("a full disk is exit code 3: -o keeps the old file and leaves no temporary one", function()
    local d = R.tmpdir()
    local mounted = os.execute("mount -t tmpfs -o size=16k tmpfs " .. R.quote(d) .. " 2>/dev/null")
    if not mounted then
      R.rm(d)
      pending("mounting a 16k tmpfs needs root (mount -t tmpfs)")
      return
    end
    finally(function()
      os.execute("umount " .. R.quote(d))
      R.rm(d)
    end)
    R.write(d .. "/keep.json", "previous\n")
    os.execute("dd if=/dev/zero of=" .. R.quote(d .. "/fill") .. " bs=4k count=3 2>/dev/null")
    local big = "project --usage " .. R.quote(USAGE) .. " --json"
    local code, _, err = R.run(big .. " -o " .. R.quote(d .. "/keep.json"))
    assert.equal(3, code)
    assert.matches("%-o: cannot write: no space left on device, got \".*keep%.json\"\n$", err)
    assert.equal("previous\n", R.read(d .. "/keep.json"))
    assert.same({ "fill", "keep.json" }, R.ls(d))
    -- standard output redirected to the full disk
    local c2, _, e2 = R.run(big, { stdout = d .. "/out.json" })
    assert.equal(3, c2)
    assert.matches("standard output: cannot write: no space left on device\n$", e2)
  end)

  it("a closed pipe is exit code 3, never a silent 0", function()
    local code, err = R.run_py(INVOICE, "closed_pipe")
    assert.equal(3, code, err)
    assert.matches("imbill invoice: error: standard output: cannot write: broken pipe", err)
    local c2, e2 = R.run_py("project --usage " .. R.quote(USAGE) .. " --books 2020 --json", "closed_pipe")
    assert.equal(3, c2, e2)
    local c3, e3 = R.run_py("invoice --help", "closed_pipe")
    assert.equal(3, c3, e3)
    assert.matches("standard output: cannot write: broken pipe", e3)
    local c4 = R.run_py("--version", "closed_pipe")
    assert.equal(3, c4)
  end)

  it("exit codes come from the kind of error, never its text", function()
    local code, _, err = R.run("invoice --book 2020 --month 2021-03 --edition 'cannot open'")
    assert.equal(1, code)
    assert.matches("edition: price book 2020 has no such edition.*got \"cannot open\"", err)
    local bad = R.write(os.tmpname(), "date,dau,groups\n2021-03-01,cannot open,1\n")
    local c2, _, e2 = R.run("project --usage " .. R.quote(bad))
    os.remove(bad)
    assert.equal(1, c2)
    assert.matches("column 2 %(dau%): expected a whole number >= 0, got \"cannot open\"", e2)
    local c3, _, e3 = R.run("replay --events /nonexistent/e.csv")
    assert.equal(3, c3)
    assert.matches("%-%-events: cannot open: no such file or directory, got \"/nonexistent/e%.csv\"", e3)
  end)

  it("--input and --shadow-book must hold a JSON object; the message says what is wrong", function()
    local arr = R.write(os.tmpname(), '[{"month":"2021-03"}]')
    local code, _, err = R.run("invoice --input " .. R.quote(arr))
    assert.equal(1, code)
    assert.matches("%-%-input: holds a JSON array, not an object with imbill%.invoice's fields, got \"", err)
    local c2, _, e2 = R.run("shadow --usage " .. R.quote(USAGE) .. " --shadow-book " .. R.quote(arr))
    assert.equal(1, c2)
    assert.matches("%-%-shadow%-book: holds a JSON array, not an object with a user book's fields", e2)
    R.write(arr, '{"month":"2021-03","edition":"pro","edition":"flagship","peak_dau":1}')
    local ct, _, et = R.run("invoice --input " .. R.quote(arr))
    assert.equal(1, ct)
    assert.matches('%-%-input: not JSON: an object names "edition" twice', et)
    R.write(arr, '{"month":"2021-03",')
    local c3, _, e3 = R.run("invoice --input " .. R.quote(arr))
    assert.equal(1, c3)
    assert.matches("%-%-input: not JSON: malformed JSON", e3)
    R.write(arr, string.rep("[", 50000) .. string.rep("]", 50000))
    local c4, _, e4 = R.run("invoice --input " .. R.quote(arr))
    assert.equal(1, c4)
    assert.matches("%-%-input: not JSON: nested deeper than 32 levels", e4)
    R.write(arr, '{"book":"2020","edition":"pro","month":"2021-03"} {"edition":"flagship"}')
    local c5, _, e5 = R.run("invoice --input " .. R.quote(arr))
    assert.equal(1, c5)
    assert.matches("text after the value", e5)
    os.remove(arr)
  end)

  it("shadow --fee must name an edition of the base book or of the shadow book", function()
    local code, out, err = R.run("shadow --usage " .. R.quote(USAGE) .. " --base 2020 --fee por=129.99")
    assert.equal(1, code)
    assert.equal("", out)
    assert.matches("%-%-fee: price book 2020 has no edition \"por\" %(editions: trial, pro, flagship%), got"
      .. " \"por=129%.99\"", err)
    local book = R.write(os.tmpname(), '{"base":"2020","editions":{"gold":{"like":"pro"}}}')
    local c2, _, e2 = R.run("shadow --usage " .. R.quote(USAGE) .. " --shadow-book " .. R.quote(book)
      .. " --fee gold=99 --from 2021-12")
    os.remove(book)
    assert.equal(0, c2, e2)
  end)

  it("shadow bills the book the --shadow-book changes unless --base says otherwise", function()
    -- --base defaulted to 2020 whatever the shadow book's base: a book from
    -- 2021 with pro at 399.99 showed 2021's own DAU prices as differences
    local book = R.write(os.tmpname(), '{"base":"2021","name":"what-if","editions":{"pro":{"monthly_fee":"399.99"}}}')
    local code, out, err = R.run("shadow --usage " .. R.quote(USAGE) .. " --shadow-book " .. R.quote(book)
      .. " --editions pro --from 2021-02 --to 2021-02 --csv")
    assert.equal(0, code, err)
    assert.matches("2021%-02,pro,plan_fee,449%.99,399%.99,%-50%.00\n", out)
    assert.matches("2021%-02,pro,dau_overage,([%d%.]+),%1,0%.00\n", out)
    -- --base given: that book is billed, as asked
    local c2, out2 = R.run("shadow --usage " .. R.quote(USAGE) .. " --shadow-book " .. R.quote(book)
      .. " --base 2020 --editions pro --from 2021-02 --to 2021-02 --csv")
    os.remove(book)
    assert.equal(0, c2)
    assert.matches("2021%-02,pro,plan_fee,149%.99,399%.99,250%.00\n", out2)
    -- no shadow book: 2020, as before
    local c3, out3 = R.run("shadow --usage " .. R.quote(USAGE) .. " --fee pro=129.99 --editions pro --from 2021-02"
      .. " --to 2021-02 --csv")
    assert.equal(0, c3)
    assert.matches("2021%-02,pro,plan_fee,149%.99,129%.99,%-20%.00\n", out3)
  end)

  it("project, chart and report check the horizon before reading or generating usage", function()
    local code, _, err = R.run("project --usage " .. R.quote(USAGE) .. " --from 2021-06 --to 2021-01")
    assert.equal(2, code)
    assert.matches("imbill project: error: %-%-to: is before %-%-from 2021%-06, got \"2021%-01\"", err)
    local c2, _, e2 = R.run("report --dau 8000 --start 2023-01 --months 1200 --from 2130-01")
    assert.equal(2, c2)
    assert.matches("%-%-from: is outside the generated usage %(2023%-01 for 1200 months%), got \"2130%-01\"", e2)
    local c3, _, e3 = R.run("chart bars --dau 8000 --start 2023-01 --months 0")
    assert.equal(2, c3)
    assert.matches("%-%-months: must be at least 1, got 0", e3)
    local c4, _, e4 = R.run("project --usage " .. R.quote(USAGE) .. " --from 2021-13")
    assert.equal(1, c4)
    assert.matches("%-%-from: no such month, got \"2021%-13\"", e4)
  end)

  it("replays from standard input through a checked temporary copy", function()
    local code, out, err = R.run("replay --events - --format csv --strict --book 2020 --edition trial",
      { stdin = R.top .. "/examples/events.csv" })
    assert.equal(0, code, err)
    assert.matches("replayed %-: 33 lines, 28 events, 1 duplicate,", out)
    local d = R.tmpdir()
    local c2, e2 = R.run_py("replay --events - --format csv", "dir_stdin:" .. d)
    R.rm(d)
    assert.equal(3, c2, e2)
    assert.matches("imbill replay: error: %-%-events: is a directory, got \"%-\"", e2)
  end)

  it("a JSON lines replay without dkjson is exit code 4, naming the package", function()
    local d = R.tmpdir()
    assert(os.execute("ln -s /usr/share/lua/5.4/argparse.lua " .. R.quote(d .. "/argparse.lua")))
    local code, out, err = R.run("replay --events examples/events.jsonl", { env = "LUA_PATH=" .. R.quote(d .. "/?.lua") })
    R.rm(d)
    assert.equal(4, code, err)
    assert.equal("", out)
    assert.matches("imbill replay: error: imbill%.replay%.run: format: JSON needs the Lua module dkjson %(Debian: apt%-get"
      .. " install lua%-dkjson", err)
  end)

  it("strict replay counts nothing when the meter's own checks refuse an event", function()
    local log = R.write(os.tmpname() .. ".csv", "time,action,user\n2021-03-01T00:00:00Z,login,a\n"
      .. "9999-12-31T23:00:00-05:00,login,b\n")
    local code, out = R.run("replay --events " .. R.quote(log) .. " --strict --book 2020 --edition pro")
    assert.equal(1, code)
    assert.matches("0 events", out)
    assert.matches("line 3: time: outside the instants the meter counts", out)
    assert.matches("strict: nothing was counted", out)
    R.write(log, 'time,action,user\n2021-03-01T00:00:00Z,create_account,"x\n2021-03-02T00:00:00Z,delete_account'
      .. ',victim"\n')
    local c2, o2 = R.run("replay --events " .. R.quote(log) .. " --book 2020 --edition pro --json")
    os.remove(log)
    assert.equal(0, c2)
    assert.matches('"events": *1', o2)
  end)

  it("every value echoed in a message is bounded", function()
    local long = string.rep("x", 10000)
    for _, args in ipairs { "invoice --edition pro --month " .. long, "invoice --book 2020 --month 2021-03 --edition "
      .. long, "shadow --usage " .. R.quote(USAGE) .. " --fee " .. long .. "=1", "invoice --" .. long } do
      local code, _, err = R.run(args)
      assert.is_true(code == 1 or code == 2, args:sub(1, 40))
      assert.matches("%(%d+ bytes%)", err)
      assert.is_true(#err < 600, #err)
    end
  end)
end)
