-- Time zones: the zones in use run from UTC-12:00 to UTC+14:00, and minutes
-- are below 60.  One parser in the C core (imb_tz_parse, core.parse_tz) reads
-- every zone: the `tz` of books, meters and invoices (dates.tz_offset) and,
-- through the same function, the offsets of event times.
local H = require "helper"
local imbill = H.imbill
local core = require "imbill.core"
local dates = require "imbill.internal.dates"

describe("time zones", function()
  describe("the boundaries", function()
    local cases = {
      { "+14:00", 50400 }, { "-12:00", -43200 }, { "+00:00", 0 }, { "-00:00", 0 }, { "+05:45", 20700 },
      { "+14:01", "out of range" }, { "+14:59", "out of range" }, { "+15:00", "out of range" },
      { "-12:30", "out of range" }, { "-12:01", "out of range" }, { "-13", "out of range" },
      { "+05:60", "out of range" }, { "+99:99", "out of range" }, { "+0560", "out of range" },
    }
    for _, c in ipairs(cases) do
      it(c[1] .. (type(c[2]) == "number" and " is accepted" or " is refused"), function()
        if type(c[2]) == "number" then
          assert.equal(c[2], dates.tz_offset(c[1]))
          assert.equal(c[2], (core.parse_tz(c[1])))
        else
          assert.same({ nil, "out of range" }, { core.parse_tz(c[1]) })
          assert.equal('tz: offset is out of range (-12:00 to +14:00, minutes below 60), got "' .. c[1] .. '"',
            H.err(dates.tz_offset, c[1]))
        end
      end)
    end
  end)

  it("reads Z, UTC, GMT, +HH:MM, +HHMM, +HH, +H and UTC+H", function()
    for s, want in pairs({ Z = 0, UTC = 0, GMT = 0, ["+08:00"] = 28800, ["+0800"] = 28800, ["+08"] = 28800,
                           ["+8"] = 28800, ["+8:00"] = 28800, ["UTC+8"] = 28800, ["UTC-05:30"] = -19800,
                           ["GMT+0530"] = 19800 }) do
      assert.equal(want, dates.tz_offset(s), s)
    end
  end)

  it("refuses every other spelling as malformed, naming the value", function()
    for _, s in ipairs({ "", "8", "08:00", "+800", "+08:", "+08:0", "+080", "z", "utc", "UTCZ", " +08:00",
                         "+08:00 ", "+8h", "8 hours", "+08\0:00", "Asia/Shanghai" }) do
      assert.same({ nil, "malformed" }, { core.parse_tz(s) }, s)
      assert.matches('^tz: malformed offset %(expected %+HH:MM, %-HH:MM, %+HHMM, %+H, "UTC" or "Z"%), got "',
        H.err(dates.tz_offset, s))
    end
  end)

  it("takes whole seconds as whole minutes within the same range", function()
    assert.equal(50400, dates.tz_offset(50400))
    assert.equal(-43200, dates.tz_offset(-43200))
    assert.equal("tz: offset is out of range (-12:00 to +14:00: -43200 to 50400 seconds), got 50460",
      H.err(dates.tz_offset, 50460))
    assert.matches("^tz: offset is out of range", H.err(dates.tz_offset, -43260))
    assert.matches("^tz: offset is out of range", H.err(dates.tz_offset, 86399))
    assert.equal("tz: offset is not whole minutes, got 3601", H.err(dates.tz_offset, 3601))
    assert.equal("tz: offset is not whole seconds, got 1.5", H.err(dates.tz_offset, 1.5))
    assert.matches("^tz: offset is not whole seconds", H.err(dates.tz_offset, 0 / 0))
    assert.matches("^tz: offset is out of range", H.err(dates.tz_offset, math.huge))
    assert.equal("start.tz: offset is not whole minutes, got 30", H.err(dates.tz_offset, 30, "start.tz"))
  end)

  describe("everywhere a zone is read", function()
    it("a meter's tz", function()
      assert.equal(50400, require("imbill.core").meter_impl.offset(imbill.meter{ book = "2020", edition = "pro", tz = "+14:00" }))
      assert.equal('imbill.meter: tz: offset is out of range (-12:00 to +14:00, minutes below 60), got "+14:01"',
        H.err(imbill.meter, { book = "2020", edition = "pro", tz = "+14:01" }))
    end)
    it("a book's tz", function()
      assert.equal("-12:00", imbill.book{ base = "2020", tz = "-12:00" }.tz)
      assert.matches('^imbill.book: tz: offset is out of range .*got "%-12:30"',
        H.err(imbill.book, { base = "2020", tz = "-12:30" }))
    end)
    it("an invoice's tz", function()
      local inv = imbill.invoice{ book = "2021", edition = "pro", month = "2021-09", tz = "+14:00" }
      assert.equal("+14:00", inv.tz)
      assert.matches('^imbill.invoice: tz: offset is out of range .*got "%+05:60"',
        H.err(imbill.invoice, { book = "2021", edition = "pro", month = "2021-09", tz = "+05:60" }))
    end)
  end)
end)
