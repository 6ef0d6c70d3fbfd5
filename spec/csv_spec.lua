local csv = require "imbill.internal.csv"

describe("CSV lines (usage histories, event logs, --csv output)", function()
  it("splits plain fields at commas, keeping empty ones", function()
    assert.same({ "a", "", "c", "" }, csv.split("a,,c,"))
  end)

  it("reads quoted fields holding commas and doubled quotes", function()
    assert.same({ "x,y", 'say "hi"', "2" }, csv.split('"x,y","say ""hi""",2'))
  end)

  it("names the column of a quoted field that never closes", function()
    assert.same({ nil, 2, "unterminated quoted field" }, { csv.split('a,"open,1') })
  end)

  it("names the column of a quoted field followed by more text", function()
    assert.same({ nil, 1, "text after a quoted field" }, { csv.split('"a"b,2') })
  end)

  it("quotes a field only when it must, and reads back what it writes", function()
    assert.equal("plain", csv.field("plain"))
    assert.equal('"a,b"', csv.field("a,b"))
    assert.equal('"say ""hi"""', csv.field('say "hi"'))
    assert.equal("", csv.field(nil))
    local row = { "x,y", 'q"q', "", "12.50" }
    local line = {}
    for i, v in ipairs(row) do line[i] = csv.field(v) end
    assert.same(row, csv.split(table.concat(line, ",")))
  end)

  it("writes a header and rows, a line each", function()
    assert.equal("month,total\n2021-03,599.96\n", csv.rows({ "month", "total" }, { { "2021-03", "599.96" } }))
  end)
end)
