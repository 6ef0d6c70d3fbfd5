-- Usage history files (imbill.whatif.history, also imbill.series.read_csv and
-- parse_csv): read by imbill's one CSV reader, with errors that name the
-- file, the line and the column.
local H = require "helper"
local S = require "imbill.whatif.series"
local history = require "imbill.whatif.history"

describe("usage history files", function()
  it("are the same functions through imbill.series and imbill.whatif.history", function()
    local text = "date,dau,groups\n2021-03-01,10,1\n"
    assert.same(history.parse_csv(text).dau, S.parse_csv(text).dau)
    assert.same(H.imbill.series.parse_csv(text).dau, { 10 })
  end)

  it("read quoted fields over several lines, and a # inside quotes is data, not a comment", function()
    local s = history.parse_csv('date,dau,groups,features\n2021-03-01,10,1,"read_receipts\npush_all"\n'
      .. "# a real comment\n2021-03-02,12,1,\n")
    assert.same({ 10, 12 }, s.dau)
    assert.same({ "push_all", "read_receipts" }, s:month("2021-03").needs)
    -- the quoted line starting with # is read (and refused) as the feature list it is part of
    assert.matches("input:2: column 4 %(features%): unknown feature \"#\"",
      H.err(history.parse_csv, 'date,dau,groups,features\n2021-03-01,10,1,"read_receipts\n# push_all"\n'))
  end)

  it("name the file and line of a stray quote and of a quote that never closes", function()
    assert.equal('imbill.series.parse_csv: u.csv:3: column 2: unterminated or misplaced quote: a quote inside an'
      .. ' unquoted field (quote the whole field)',
      H.err(history.parse_csv, 'date,dau,groups\n2021-03-01,1,1\n2021-03-02,1"2,1\n', { name = "u.csv" }))
    assert.matches("u%.csv:2: column 3: unterminated or misplaced quote: a quoted field that never closes",
      H.err(history.parse_csv, 'date,dau,groups\n2021-03-01,1,"1\n2021-03-02,1,1\n', { name = "u.csv" }))
  end)

  it("a line or a record over the size bound says so, not that a quote is misplaced", function()
    -- /dev/zero as a usage file was "column 1: unterminated or misplaced quote: a line longer than ..."
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write("date,dau,groups\n", string.rep("9", 1300000), "\n")
    f:close()
    local msg = H.err(history.read_csv, path, { name = "big.csv" })
    os.remove(path)
    assert.equal("imbill.series.read_csv: big.csv:2: a line longer than 1048576 bytes", msg)
    local rec = 'date,dau,groups\n2021-03-01,"' .. string.rep("1\n", 600000) .. '",1\n'
    assert.equal("imbill.series.parse_csv: u.csv:2: a record longer than 1048576 bytes",
      H.err(history.parse_csv, rec, { name = "u.csv" }))
  end)

  it("refuse a header naming a column twice, whatever its case", function()
    assert.matches("input:1: column 4: column \"dau\" appears twice %(also column 2%)",
      H.err(history.parse_csv, "date,dau,groups,DAU\n2021-03-01,1,1,2\n"))
  end)

  it("a file that cannot be read is an error of kind io naming the path", function()
    local ok, e = pcall(history.read_csv, "/nonexistent/usage.csv")
    assert.is_false(ok)
    assert.equal("io", e.kind)
    assert.equal('imbill.series.read_csv: path: cannot open: no such file or directory, got "/nonexistent/usage.csv"',
      tostring(e))
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. dir))
    local ok2, e2 = pcall(S.read_csv, dir)
    os.execute("rmdir " .. dir)
    assert.is_false(ok2)
    assert.equal("io", e2.kind)
    assert.matches("^imbill%.series%.read_csv: path: is a directory, got \"", tostring(e2))
  end)

  it("takes a count with leading zeros by its digits (15 at most)", function()
    assert.same({ 5 }, history.parse_csv("date,dau,groups\n2021-03-01,0000000000000005,1\n").dau)
    assert.equal('imbill.series.parse_csv: input:2: column 2 (dau): is too large, got "1000000000000000"',
      H.err(history.parse_csv, "date,dau,groups\n2021-03-01,1000000000000000,1\n"))
  end)

  it("bad content is an error without a kind (imbill refused the input)", function()
    local ok, e = pcall(history.parse_csv, "date,dau,groups\n2021-03-01,x,1\n")
    assert.is_false(ok)
    assert.is_nil(e.kind)
    assert.equal("input:2", e.field)
  end)
end)
