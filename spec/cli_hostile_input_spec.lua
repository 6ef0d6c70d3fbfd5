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
end)
