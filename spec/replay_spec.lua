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
    assert.matches("28 events, 1 duplicates", out)
    assert.matches("Invoice 2021%-03", out)
  end)
end)
