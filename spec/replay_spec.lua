local H = require "helper"
local imbill = H.imbill
local replay = require "imbill.meter.replay"

local function write(text, ext)
  local path = os.tmpname() .. (ext or ".csv")
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

local EX = H.top .. "/examples/"

describe("replay of an event log", function()
  it("gives the same month from the CSV and the JSON lines example", function()
    local a, ra = replay.run{ path = EX .. "events.csv", book = "2020", edition = "trial" }
    local b, rb = replay.run{ path = EX .. "events.jsonl", book = "2020", edition = "trial" }
    assert.same(a:usage("2021-03"), b:usage("2021-03"))
    assert.equal(28, ra.events)
    assert.equal(28, rb.events)
    assert.equal(1, ra.duplicates)
    assert.same({}, ra.errors)
    assert.same({ "2021-03", "2021-04" }, ra.months)
    local u = a:usage("2021-03")
    assert.equal(4, u.mau)
    assert.same({ on = "2021-03-15", to = "pro" }, u.change)
    assert.equal("0.00", tostring(imbill.invoice(u).total))
  end)

  it("counts nothing twice when the same batch is sent again", function()
    local m = replay.run{ path = EX .. "events.csv", book = "2020", edition = "trial" }
    local before = m:usage("2021-03")
    local _, report = replay.run{ path = EX .. "events.csv", meter = m }
    assert.equal(report.events, report.duplicates)
    assert.same(before, m:usage("2021-03"))
  end)

  it("runs its reference example as imbill.replay.run (the doc comment's @usage)", function()
    -- there is no module "imbill.replay": the name is the imbill module's field
    assert.equal(replay, imbill.replay)
    assert.is_nil(package.searchpath("imbill.replay", package.path))
    local m, report = imbill.replay.run{ path = EX .. "events.csv", book = "2020", edition = "pro", strict = true }
    -- a refusal is an answer, not an error: strict still gives the meter
    assert.is_not_nil(m)
    assert.same({ 28, 1, 1 }, { report.events, report.duplicates, #report.refusals })
  end)

  it("reports a malformed line with its number and counts the rest", function()
    local path = write(table.concat({
      "time,action,user,group,type",
      "2021-03-10T04:00:00Z,login,a,,",
      "2021-03-10T04:00:00Z,login,b",             -- 3: wrong field count
      "yesterday,login,c,,",                      -- 4: bad time
      "2021-03-10T04:00:00Z,fly,d,,",             -- 5: unknown action
      "2021-03-10T04:00:00Z,create_group,,g,Chat", -- 6: unknown group type
      "2021-03-10T04:00:00Z,login,,,",            -- 7: missing user
      "",
      "# a comment",
      "1615348800,login,e,,",
    }, "\n"))
    local m, report = replay.run{ path = path, book = "2020", edition = "pro" }
    assert.equal(2, m:dau("2021-03-10"))
    local lines = {}
    for _, e in ipairs(report.errors) do lines[#lines + 1] = e.line end
    assert.same({ 3, 4, 5, 6, 7 }, lines)
    assert.matches("expected 5 fields", report.errors[1].message)
    assert.matches("time", report.errors[2].message)
    assert.matches("action", report.errors[3].message)
    assert.matches("unknown group type", report.errors[4].message)
    assert.matches("user: required", report.errors[5].message)
    assert.equal(10, report.lines)
    os.remove(path)
  end)

  it("counts nothing from a file with a malformed line when strict", function()
    local path = write('{"time":1615348800,"action":"login","user":"a"}\n{"time":1615348800,"action":"login"\n',
      ".jsonl")
    local m0 = imbill.meter{ book = "2020", edition = "pro" }
    local m, report = replay.run{ path = path, meter = m0, strict = true }
    assert.is_nil(m)
    assert.equal(2, report.errors[1].line)
    assert.matches("JSON", report.errors[1].message)
    assert.equal(0, m0:dau("2021-03-10"))
    os.remove(path)
  end)

  it("strict reads in every pass only what its check read: lines appended meanwhile never count", function()
    -- a strict run reads the log three times (check, rehearsal, the meter);
    -- a logger appending between them once had a line counted unchecked, or
    -- a malformed one leave the meter holding part of the log
    local files = require "imbill.internal.files"
    for _, case in ipairs {
      { pass = 2, line = "2021-03-10T04:00:02Z,create_account,b\n" },
      { pass = 3, line = "2021-03-10T04:00:02Z,create_account,b\n" },
      { pass = 3, line = "2021-03-10T04:00:02Z,login\n" },
      -- the last line, still being written when it was checked, is read as it was then
      { pass = 3, line = "z\n", from = "time,action,user\n2021-03-10T04:00:00Z,create_account,a" },
    } do
      local path = write(case.from or "time,action,user\n2021-03-10T04:00:00Z,create_account,a\n")
      local real, opens = files.open, 0
      files.open = function(p)
        opens = opens + 1
        if opens == case.pass then
          local f = assert(io.open(p, "ab"))
          f:write(case.line)
          f:close()
        end
        return real(p)
      end
      local m0 = imbill.meter{ book = "2020", edition = "pro" }
      local ok, m, report = pcall(replay.run, { path = path, meter = m0, strict = true })
      files.open = real
      os.remove(path)
      assert.is_true(ok, tostring(m))
      assert.equal(m0, m)
      assert.equal(1, report.events)
      assert.equal(2, report.lines)
      assert.equal(1, m0:accounts())
      assert.is_true(m0:has_account("a"))
      assert.is_false(m0:has_account("b"))
      assert.is_false(m0:has_account("az"))
    end
  end)

  it("lists refusals with the line they came from", function()
    local rows = { "time,action,group,type" }
    for i = 1, 11 do rows[#rows + 1] = "2021-03-10T04:00:00Z,create_group,g" .. i .. ",AVChatRoom" end
    local path = write(table.concat(rows, "\n") .. "\n")
    local _, report = replay.run{ path = path, book = "2020", edition = "trial" }
    assert.equal(1, report.refused)
    assert.same({ line = 12, code = 10036, limit = "av_groups" },
      { line = report.refusals[1].line, code = report.refusals[1].code, limit = report.refusals[1].limit })
    os.remove(path)
  end)

  it("replays one_way friend events onto the user's own list only (CSV and JSON lines)", function()
    local csv = write(table.concat({
      "time,action,user,peer,one_way",
      "2021-03-10T04:00:00Z,add_friend,fan,pop,true",
      "2021-03-10T04:00:01Z,add_friend,pop,x,",
      "2021-03-10T04:00:02Z,add_friend,pop,y,1",
      "2021-03-10T04:00:03Z,remove_friend,x,pop,1",
      "2021-03-10T04:00:04Z,add_friend,a,b,0",
      "2021-03-10T04:00:05Z,login,a,,yes",
      "2021-03-10T04:00:06Z,login,a,,true",
    }, "\n") .. "\n")
    local m, report = replay.run{ path = csv, book = "2020", edition = "trial" }
    assert.same({ 2, 1, 0, 1, 1 }, { m:friends("pop"), m:friends("fan"), m:friends("x"), m:friends("a"),
      m:friends("b") })
    assert.equal(2, #report.errors)
    assert.matches("one_way: expected true, false, 1, 0 or empty", report.errors[1].message)
    assert.matches("one_way: only for add_friend and remove_friend", report.errors[2].message)
    os.remove(csv)
    local jl = write('{"time":1615348800,"action":"add_friend","user":"fan","peer":"pop","one_way":true}\n'
      .. '{"time":1615348801,"action":"add_friend","user":"c","peer":"d","one_way":false}\n', ".jsonl")
    m = replay.run{ path = jl, book = "2020", edition = "trial" }
    assert.same({ 1, 0, 1, 1 }, { m:friends("fan"), m:friends("pop"), m:friends("c"), m:friends("d") })
    os.remove(jl)
  end)

  it("rejects bad options by name", function()
    assert.matches("format", H.err(replay.run, { path = "x.txt", book = "2020", edition = "pro" }))
    assert.matches("meter", H.err(replay.run, { path = "x.csv" }))
    assert.matches("cannot open", H.err(replay.run, { path = "/nonexistent.csv", book = "2020", edition = "pro" }))
    assert.matches("unknown column", H.err(replay.run, { path = write("when,action\n"), book = "2020",
                                                          edition = "pro" }))
  end)

  it("runs from the command line", function()
    local cmd = string.format("cd %q && LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='%s/?.so;;' %s "
      .. "examples/replay_month.lua 2>&1", H.top, H.cpath, H.lua)
    local p = io.popen(cmd)
    local out = p:read("*a")
    p:close()
    assert.matches("28 events, 1 duplicate,", out)
    assert.matches("Invoice 2021%-03", out)
  end)
end)

describe("replay of hostile and broken logs", function()
  local csv = require "imbill.internal.csv"

  local function accounts_of(m) return m:accounts() end

  -- The same log replayed with strict = true counts nothing (the file is
  -- removed after): its report.
  local function strictly(path)
    local m, report = replay.run{ path = path, book = "2020", edition = "pro", strict = true }
    os.remove(path)
    assert.is_nil(m)
    return report
  end

  it("never runs what a quoted field holds as an event", function()
    -- a user id written by imbill's own CSV writer, holding a line break and an event
    local evil = "x\n2021-03-02T00:00:00Z,delete_account,victim,,,,,"
    local path = write(csv.rows({ "time", "action", "user" }, {
      { "2021-03-01T00:00:00Z", "create_account", "victim" },
      { "2021-03-01T00:00:01Z", "create_account", evil },
    }))
    local m, report = replay.run{ path = path, book = "2020", edition = "pro" }
    os.remove(path)
    assert.same({}, report.errors)
    assert.equal(2, report.events)
    assert.is_true(m:has_account("victim"))
    assert.is_true(m:has_account(evil))
    assert.equal(2, accounts_of(m))
  end)

  -- A CSV value is read byte for byte: " alice" would be a user apart from
  -- "alice", a DAU of three where one user logged in.  An unquoted value
  -- with a space at either end is a slip and malformed; quoted, it is meant.
  it("reports an unquoted value with a space at either end as malformed; a quoted one is taken as written", function()
    local path = write(table.concat({
      "time,action,user",
      "2021-03-10T04:00:00Z,login,alice",
      "2021-03-10T05:00:00Z,login, alice",     -- 3: a space after the comma
      "2021-03-10T06:00:00Z,login,alice\t",    -- 4: a tab at the end
      '2021-03-10T07:00:00Z,login," bob"',     -- quoted: the space is the id's
      "2021-03-10T08:00:00Z ,login,carol",     -- 6: the time too
    }, "\n"))
    local m, report = replay.run{ path = path, book = "2020", edition = "pro" }
    os.remove(path)
    local lines = {}
    for _, e in ipairs(report.errors) do lines[#lines + 1] = e.line end
    assert.same({ 3, 4, 6 }, lines)
    assert.equal('user: has a space at its start or end; values are read byte for byte: write it without, or quote '
      .. 'the field to keep it, got " alice"', report.errors[1].message)
    assert.matches("^time: has a space at its start or end", report.errors[3].message)
    assert.equal(2, m:dau("2021-03-10"))
    assert.equal(2, report.events)
  end)

  it("refuses a header that names a column twice", function()
    local path = write("time,action,user,user\n2021-03-01T00:00:00Z,login,a,b\n")
    local e = H.err(replay.run, { path = path, book = "2020", edition = "pro" })
    os.remove(path)
    assert.matches(":1: header: column 4: column \"user\" appears twice %(also column 3%)", e)
  end)

  it("stops at broken quoting, keeping what came before and reading nothing after", function()
    local path = write('time,action,user\n2021-03-10T04:00:00Z,login,a\n2021-03-10T04:00:00Z,login,"b\n'
      .. '2021-03-10T04:00:00Z,login,c\n')
    local m, report = replay.run{ path = path, book = "2020", edition = "pro" }
    assert.equal(1, m:dau("2021-03-10"))
    assert.equal(1, #report.errors)
    assert.equal(3, report.errors[1].line)
    assert.matches("never closes.*the rest of the log is not read", report.errors[1].message)
    assert.equal(0, strictly(path).events)
  end)

  it("offsets outside -12:00 .. +14:00 and minutes of 60 or more are not instants", function()
    assert.equal(1615348800 - 14 * 3600, replay.time("2021-03-10T04:00:00+14:00"))
    assert.equal(1615348800 + 12 * 3600, replay.time("2021-03-10T04:00:00-12:00"))
    assert.equal(1615348800 - 5 * 3600 - 45 * 60, replay.time("2021-03-10T04:00:00+05:45"))
    for _, bad in ipairs { "+14:01", "+15:00", "-12:30", "-13:00", "+08:60", "+99:99" } do
      local t, msg = replay.time("2021-03-10T04:00:00" .. bad)
      assert.is_nil(t, bad)
      assert.matches("^time: offset", msg)
    end
  end)

  it("an instant with a fraction of a second is refused as that, not as lacking a zone", function()
    -- JavaScript's toISOString writes "2021-03-10T04:00:00.123Z"; the message
    -- said it "needs Z or an offset", which it has
    for _, v in ipairs { "2021-03-10T04:00:00.123Z", "2021-03-10T04:00:00.5+08:00", "2021-03-10T04:00:00,5Z" } do
      local t, msg = replay.time(v)
      assert.is_nil(t, v)
      assert.equal('time: has a fraction of a second; give whole seconds (YYYY-MM-DDTHH:MM:SSZ), got "' .. v .. '"',
        msg)
    end
    assert.equal(1615348800, replay.time("2021-03-10T04:00:00Z"))
    local _, msg = replay.time("2021-03-10T04:00:00")
    assert.matches("^time: needs Z or an offset", msg)
  end)

  describe("strict: all or nothing", function()
    local good = "2021-03-10T04:00:00Z,create_account,a,,,,,\n2021-03-10T04:00:01Z,login,a,,,,,\n"
    local header = "time,action,user,group,peer,type,edition,id\n"
    local bad_lines = {
      ["an instant in year 10000"] = { "9999-12-31T23:00:00-05:00,login,b,,,,,", "time: outside the instants" },
      ["an id over the meter's limit"] = { "2021-03-10T04:00:02Z,login," .. string.rep("u", replay.ID_MAX + 1)
        .. ",,,,,", "user: longer than 1024 bytes" },
      ["an event id over the limit"] = { "2021-03-10T04:00:02Z,login,b,,,,," .. string.rep("i", replay.ID_MAX + 1),
        "id: longer than 1024 bytes" },
      ["an unknown edition"] = { "2021-03-15T00:00:00Z,change_edition,,,,,gold,", "edition: .*gold" },
    }
    for what, case in pairs(bad_lines) do
      it("counts nothing from a log with " .. what .. ", found before anything is applied", function()
        local path = write(header .. good .. case[1] .. "\n")
        local m0 = imbill.meter{ book = "2020", edition = "pro" }
        local m, report = replay.run{ path = path, meter = m0, strict = true }
        assert.is_nil(m)
        assert.equal(4, report.errors[1].line)
        assert.matches(case[2], report.errors[1].message)
        assert.equal(0, report.events)
        assert.equal(0, m0:accounts())
        assert.equal(0, m0:dau("2021-03-10"))
        -- without strict the good lines count and the bad one is reported
        local m1, r1 = replay.run{ path = path, book = "2020", edition = "pro" }
        os.remove(path)
        assert.equal(1, m1:accounts())
        assert.equal(4, r1.errors[1].line)
      end)
    end

    it("leaves nothing applied when the meter raises while applying", function()
      local path = write(header .. good .. "2021-03-10T04:00:02Z,create_account,b,,,,,\n")
      local real = replay.apply
      local calls = 0
      replay.apply = function(m, ev)
        calls = calls + 1
        if ev.user == "b" then error("meter:create_account: out of memory", 0) end
        return real(m, ev)
      end
      local ok, m, report = pcall(replay.run, { path = path, meter = imbill.meter{ book = "2020", edition = "pro" },
                                                strict = true })
      local m0 = imbill.meter{ book = "2020", edition = "pro" }
      local ok2, m2 = pcall(replay.run, { path = path, meter = m0, strict = true })
      local ok3, m3, r3 = pcall(replay.run, { path = path, book = "2020", edition = "pro", strict = true })
      replay.apply = real
      os.remove(path)
      assert.is_true(ok, tostring(m))
      assert.is_nil(m)
      assert.equal(3 + 1, report.errors[1].line)
      assert.matches("out of memory", report.errors[1].message)
      assert.is_true(ok2, tostring(m2))
      assert.is_nil(m2)
      assert.equal(0, m0:accounts()) -- the rehearsal ran on a copy
      assert.is_true(ok3)
      assert.is_nil(m3)
      assert.equal(0, r3.events)
      assert.is_true(calls >= 9)
    end)

    it("applies a clean log to the meter passed in, the same as without strict", function()
      local path = EX .. "events.csv"
      local m0 = imbill.meter{ book = "2020", edition = "trial" }
      local m, report = replay.run{ path = path, meter = m0, strict = true }
      local plain = replay.run{ path = path, book = "2020", edition = "trial" }
      assert.equal(m0, m)
      assert.equal(28, report.events)
      assert.same(plain:usage("2021-03"), m0:usage("2021-03"))
    end)
  end)

  it("the meter's bounds are include/imbill.h's, and the meter's own", function()
    local f = assert(io.open(H.top .. "/include/imbill.h"))
    local h = f:read("*a")
    f:close()
    assert.equal(tonumber(h:match("IMB_ID_MAX = (%d+)")), replay.ID_MAX)
    local min_year, max_year = tonumber(h:match("IMB_MIN_YEAR = (%d+)")), tonumber(h:match("IMB_MAX_YEAR = (%d+)"))
    local core = require "imbill.core"
    assert.equal((core.parse_date(string.format("%04d-01-01", min_year)) + 1) * 86400, replay.T_MIN)
    assert.equal(core.parse_date(string.format("%04d-12-31", max_year)) * 86400, replay.T_END)
    local function login(user, t)
      local m = imbill.meter{ book = "2020", edition = "pro" }
      return m:login(user, t)
    end
    assert.is_true(login("a", replay.T_MIN))
    assert.is_true(login("a", replay.T_END - 1))
    assert.has_error(function() login("a", replay.T_MIN - 1) end)
    assert.has_error(function() login("a", replay.T_END) end)
    assert.is_true(login(string.rep("x", replay.ID_MAX), replay.T_MIN))
    assert.has_error(function() login(string.rep("x", replay.ID_MAX + 1), replay.T_MIN) end)
    -- and replay refuses just outside them
    assert.is_nil(replay.event({ action = "login", user = "a", time = replay.T_END }))
    assert.is_nil(replay.event({ action = "login", user = "a", time = replay.T_MIN - 1 }))
    assert.is_table(replay.event({ action = "login", user = "a", time = replay.T_END - 1 }))
  end)

  it("reports a JSON line nested too deep as malformed and goes on (stops when strict)", function()
    local deep = string.rep("[", 100000) .. string.rep("]", 100000)
    local path = write('{"time":1615348800,"action":"login","user":"a"}\n' .. deep .. "\n"
      .. '{"time":1615348800,"action":"login","user":"b"}\n{"time":1615348800,"action":"login","user":[[[1]]]}\n',
      ".jsonl")
    local m, report = replay.run{ path = path, book = "2020", edition = "pro" }
    assert.equal(2, m:dau("2021-03-10"))
    assert.equal(2, report.errors[1].line)
    assert.matches("nested deeper than 32 levels", report.errors[1].message)
    assert.equal(4, report.errors[2].line)
    assert.equal(2, #strictly(path).errors)
  end)

  it("reports a JSON line naming a field twice as malformed: readers differ on which counts", function()
    -- dkjson keeps the last "user", other tools the first: the same log would
    -- count a different user in each
    local path = write('{"time":1615348800,"action":"login","user":"a"}\n'
      .. '{"time":1615348800,"action":"login","user":"b","user":"c"}\n', ".jsonl")
    local m, report = replay.run{ path = path, book = "2020", edition = "pro" }
    assert.equal(1, m:dau("2021-03-10"))
    assert.equal(1, #report.errors)
    assert.equal(2, report.errors[1].line)
    assert.matches('an object names "user" twice', report.errors[1].message)
    assert.equal(1, #strictly(path).errors)
  end)

  it("says JSON lines need dkjson with an error of kind unavailable", function()
    local path = write('{"time":1615348800,"action":"login","user":"a"}\n', ".jsonl")
    local saved = package.loaded.dkjson
    package.loaded.dkjson = nil
    package.preload.dkjson = function() error("dkjson is not installed here", 0) end
    local ok, e = pcall(replay.run, { path = path, book = "2020", edition = "pro" })
    package.preload.dkjson = nil
    package.loaded.dkjson = saved
    os.remove(path)
    assert.is_false(ok)
    assert.equal("unavailable", e.kind)
    assert.matches("imbill.replay.run: format: JSON needs the Lua module dkjson", tostring(e))
  end)

  it("a directory is not a log: an error of kind io saying so", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. dir .. " && mkdir " .. dir .. "/d.csv"))
    for _, strict in ipairs { false, true } do
      local ok, e = pcall(replay.run, { path = dir .. "/d.csv", book = "2020", edition = "pro", strict = strict })
      assert.is_false(ok)
      assert.equal("io", e.kind)
      assert.matches("imbill.replay.run: path: is a directory, got \".*d%.csv\"", tostring(e))
    end
    os.execute("rmdir " .. dir .. "/d.csv " .. dir)
    local ok, e = pcall(replay.run, { path = "/nonexistent/e.csv", book = "2020", edition = "pro" })
    assert.is_false(ok)
    assert.equal("io", e.kind)
    assert.matches("cannot open: no such file or directory", tostring(e))
  end)
end)
