-- imbill's one CSV reader (RFC 4180) and its writer: usage histories and event
-- logs are read by csv.reader, --csv output is written by csv.rows.
local csv = require "imbill.internal.csv"

-- Every record of text as { line, fields... }, and the error that stopped it.
local function records(text, opts)
  local r = csv.reader(text, opts)
  local out = {}
  while true do
    local fields, line = r:read()
    if fields == nil then return out end
    if fields == false then return out, line end
    out[#out + 1] = { line = line, fields = fields }
  end
end

local function fields_of(text)
  local out = {}
  for i, rec in ipairs((records(text))) do out[i] = rec.fields end
  return out
end

local function tmpfile(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

describe("the CSV reader (usage histories, event logs)", function()
  it("splits plain fields at commas, keeping empty ones", function()
    assert.same({ { "a", "", "c", "" } }, fields_of("a,,c,\n"))
    assert.same({ { "a", "b" } }, fields_of("a,b")) -- no line break after the last record
  end)

  it("reads quoted fields holding commas and doubled quotes", function()
    assert.same({ { "x,y", 'say "hi"', "2", "" } }, fields_of('"x,y","say ""hi""",2,""\n'))
  end)

  it("ends records at LF or CRLF, and keeps the line break inside a quoted field as it is", function()
    local recs = records('a,b\r\n"two\nlines","crlf\r\ninside"\r\nlast,one\n')
    assert.same({ "a", "b" }, recs[1].fields)
    assert.same({ "two\nlines", "crlf\r\ninside" }, recs[2].fields)
    assert.same({ "last", "one" }, recs[3].fields)
    -- each record knows the line it starts on
    assert.same({ 1, 2, 5 }, { recs[1].line, recs[2].line, recs[3].line })
  end)

  it("skips a UTF-8 byte order mark at the start only", function()
    assert.same({ { "date", "dau" } }, fields_of("\239\187\191date,dau\n"))
    assert.same({ { "x", "\239\187\191y" } }, fields_of("x,\239\187\191y\n"))
  end)

  it("skips blank lines and # comments where a record starts, never inside quotes", function()
    local recs = records('# a comment\n\n  \r\ntime,user\n"1\n# not a comment\n\n",u\n  # indented comment\n')
    assert.equal(2, #recs)
    assert.same({ "time", "user" }, recs[1].fields)
    assert.same({ "1\n# not a comment\n\n", "u" }, recs[2].fields)
    -- comments can be turned off
    local plain = records("# data\n", { comments = false })
    assert.same({ "# data" }, plain[1].fields)
  end)

  it("keeps an event inside a quoted user id as data: the injection a line splitter falls for", function()
    local victim = "x\n2021-03-02T00:00:00Z,delete_account,victim,,,,,\n"
    local text = csv.rows({ "time", "action", "user" }, { { "2021-03-01T00:00:00Z", "create_account", victim } })
    local recs = records(text)
    assert.equal(2, #recs) -- the header and one event
    assert.same({ "2021-03-01T00:00:00Z", "create_account", victim }, recs[2].fields)
  end)

  it("refuses a quote that never closes, naming the line it opens on, and reads no further", function()
    local recs, err = records('a,b\n1,"open\n2,3\n4,5\n')
    assert.equal(1, #recs)
    assert.same({ line = 2, column = 2, message = "a quoted field that never closes (it opens on this line)" }, err)
  end)

  it("refuses a stray quote inside an unquoted field, and text after a closing quote", function()
    local _, err = records('a,b\n1,x"y\n')
    assert.same({ line = 2, column = 2, message = "a quote inside an unquoted field (quote the whole field)" }, err)
    local _, err2 = records('"a"b,2\n')
    assert.same({ line = 1, column = 1, message = "text after the closing quote" }, err2)
    local _, err3 = records('"a" ,2\n')
    assert.equal("text after the closing quote", err3.message)
  end)

  it("bounds a record's size, so an open quote cannot hold a whole file in memory", function()
    local _, err = records('"' .. string.rep("x\n", 600), { max_record = 1000 })
    assert.same({ line = 1, column = 1, size = true, message = "a record longer than 1000 bytes" }, err)
  end)

  it("reads a file in chunks, a quoted field across a chunk boundary included", function()
    local long = string.rep("y", 65530) .. "\n" .. string.rep("z", 20)
    local path = tmpfile('h1,h2\r\n"' .. long .. '",end\r\nnext,row\r\n')
    local f = assert(io.open(path, "rb"))
    local r = csv.reader(f)
    assert.same({ "h1", "h2" }, (r:read()))
    local rec, line = r:read()
    assert.same({ long, "end" }, rec)
    assert.equal(2, line)
    local rec3, line3 = r:read()
    assert.same({ "next", "row" }, rec3)
    assert.equal(4, line3)
    assert.is_nil(r:read())
    f:close()
    os.remove(path)
  end)

  it("reports a failed read with its errno (a directory opened as a file)", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. dir))
    local f = io.open(dir, "rb")
    if f then -- Linux opens a directory and fails at the first read
      local fields, err = csv.reader(f):read()
      assert.is_false(fields)
      assert.same({ line = 1, errno = 21 }, err)
      f:close()
    end
    os.remove(dir)
  end)

  it("finds a header column named twice", function()
    assert.same({ a = 1, b = 2 }, csv.index { "a", "b" })
    assert.same({ nil, 3, 1 }, { csv.index { "a", "b", "a" } })
  end)
end)

describe("the CSV writer (--csv output)", function()
  it("quotes a field only when it must, and reads back what it writes", function()
    assert.equal("plain", csv.field("plain"))
    assert.equal('"a,b"', csv.field("a,b"))
    assert.equal('"say ""hi"""', csv.field('say "hi"'))
    assert.equal('"two\nlines"', csv.field("two\nlines"))
    assert.equal('"#1"', csv.field("#1")) -- would read back as a comment at a record's start
    assert.equal("", csv.field(nil))
    local row = { "#x,y", 'q"q', "", "12.50", "a\r\nb" }
    assert.same({ { "c1", "c2", "c3", "c4", "c5" }, row }, fields_of(csv.rows({ "c1", "c2", "c3", "c4", "c5" }, { row })))
  end)

  it("writes a text a spreadsheet would run as a formula with an apostrophe first, and numbers as they are", function()
    -- a price book or a note is data: opened in a spreadsheet it must not run
    assert.equal("'=1+1", csv.field("=1+1"))
    assert.equal([["'=HYPERLINK(""http://x"",""y"")"]], csv.field('=HYPERLINK("http://x","y")'))
    assert.equal("'@SUM(A1)", csv.field("@SUM(A1)"))
    assert.equal("'+x", csv.field("+x"))
    assert.equal("'-", csv.field("-"))
    assert.equal("'\tx", csv.field("\tx"))
    assert.equal('"\'\rx"', csv.field("\rx"))
    -- amounts and counts, negative ones too, are numbers
    for _, n in ipairs { "-12.34", "-5", "+3", "-.5", "0.00", "12" } do assert.equal(n, csv.field(n)) end
    -- inside a field, = is nothing special
    assert.equal("a=b", csv.field("a=b"))
    local row = { "=cmd|' /C calc'!A0", "-599.96" }
    assert.same({ { "book", "amount" }, { "'=cmd|' /C calc'!A0", "-599.96" } },
      fields_of(csv.rows({ "book", "amount" }, { row })))
  end)

  it("writes a header and rows, a record each", function()
    assert.equal("month,total\n2021-03,599.96\n", csv.rows({ "month", "total" }, { { "2021-03", "599.96" } }))
    -- a one-column row holding nothing is "" (a blank line would be skipped)
    assert.same({ { "only" }, { "" } }, fields_of(csv.rows({ "only" }, { { "" } })))
  end)
end)
