-- What a saved meter says about its price book and add-ons is kept as typed,
-- length-prefixed records (format version 3): every book name and add-on id
-- a book can have loads back exactly (names with commas, equals signs and
-- non-ASCII letters included), a user book is never replaced by a built-in
-- book, and a different book with the same name is refused, naming what
-- differs.  Names that no file format could keep apart (empty, control
-- bytes, a built-in's name) are refused when the book is made.  Files of
-- version 2 (key=value metadata) still load as before.
local H = require "helper"
local F = require "meter_file_format"
local imbill = H.imbill
local core = require "imbill.core"
local show = require("imbill.internal.errors").show

local DAY = 86400
local T0 = core.parse_date("2021-03-01") * DAY + 4 * 3600

local path = F.tmp(".meter")
after_each(function() os.remove(path) end)

-- A user book derived from 2021 whose pro edition costs 1.00 a month.
local function cheap(name, extra)
  local spec = { base = "2021", name = name, editions = { pro = { monthly_fee = "1.00" } } }
  for k, v in pairs(extra or {}) do spec[k] = v end
  return imbill.book(spec)
end

local function saved(book, opts)
  local o = { book = book, edition = "pro" }
  for k, v in pairs(opts or {}) do o[k] = v end
  local m = imbill.meter(o)
  m:login("a", T0)
  m:create_account("a", T0)
  m:save(path)
  return m
end

describe("a saved meter's price book", function()
  for _, name in ipairs({ "x,y", "book=2020", "team book=2020 (what-if)", "é", string.rep("w", 64) }) do
    it("named " .. string.format("%q", name):gsub("\n", "n") .. " loads back as that same book", function()
      local book = cheap(name)
      local m = saved(book)
      -- never loaded by name alone: it is a user book
      assert.equal("imbill.meter.load: book: the file was saved with user price book " .. show(name)
        .. "; pass that book as { book = }", H.err(imbill.meter.load, path))
      local m2 = imbill.meter.load(path, { book = book })
      assert.equal(book, m2:book())
      assert.equal(name, m2:book().name)
      assert.same(m:usage("2021-03"), m2:usage("2021-03"))
      -- 1.00 from the user book, not 449.99 from the built-in 2021
      assert.equal("1.00", tostring(m2:invoice("2021-03").total))
    end)
  end

  it("cannot be named so that a file or a message could mistake it", function()
    for _, name in ipairs({ "", "a\nb", "team\nbook=2020", "\0nul", "a/b", string.rep("w", 65) }) do
      assert.matches('^imbill.book: name: expected 1 to 64 printable bytes without "/"', H.err(cheap, name))
    end
    assert.equal('imbill.book: name: is the name of a built-in price book, got "2021"', H.err(cheap, "2021"))
  end)

  it("saved as a user book is refused when a built-in one is given", function()
    saved(cheap("mine"))
    assert.equal('imbill.meter.load: book: the file was saved with a user price book named "mine", not the '
      .. 'built-in one, got "2021"',
      H.err(imbill.meter.load, path, { book = "2021" }))
  end)

  it("of another name is refused, naming the one saved", function()
    saved(cheap("mine"))
    assert.equal('imbill.meter.load: book: the file was saved with user price book "mine", got "yours"',
      H.err(imbill.meter.load, path, { book = cheap("yours") }))
  end)

  it("with the same name but other content is refused, naming what differs", function()
    saved(cheap("mine"))
    local other = imbill.book{ base = "2021", name = "mine", editions = { pro = { monthly_fee = "2.00" } } }
    assert.equal('imbill.meter.load: book: differs from the price book the file was saved with: '
      .. 'editions.pro.monthly_fee is 1.00 in the file and 2.00 in this book, got "mine"',
      H.err(imbill.meter.load, path, { book = other }))
    local limits = cheap("mine", { editions = { pro = { monthly_fee = "1.00", limits = { accounts = 7 } } } })
    assert.matches("differs from the price book the file was saved with: editions%.pro%.limits%.accounts is ",
      H.err(imbill.meter.load, path, { book = limits }))
    local zone = cheap("mine", { tz = "+00:00" })
    assert.matches('tz is "%+08:00" in the file and "%+00:00" in this book',
      H.err(imbill.meter.load, path, { book = zone }))
    local more = cheap("mine", { addons = { extra = { fee = { pro = "5.00" } } } })
    assert.matches("addons%.extra%.[%w_.]+ is %w+ in this book and missing from the file",
      H.err(imbill.meter.load, path, { book = more }))
    -- the same content built again is the same book
    assert.is_truthy(imbill.meter.load(path, { book = cheap("mine") }))
  end)

  it("built in loads by name, and refuses another book given for it", function()
    local m = saved("2021")
    assert.same(m:usage("2021-03"), imbill.meter.load(path):usage("2021-03"))
    assert.same(m:usage("2021-03"), imbill.meter.load(path, { book = "2021" }):usage("2021-03"))
    assert.equal('imbill.meter.load: book: the file was saved with the built-in price book 2021, not this one, '
      .. 'got "mine"', H.err(imbill.meter.load, path, { book = cheap("mine") }))
    assert.matches("the built%-in price book 2021, not this one, got \"2020\"",
      H.err(imbill.meter.load, path, { book = "2020" }))
  end)
end)

describe("a saved meter's add-ons and options", function()
  it("are words: an id that a text format could split is refused when the book is made", function()
    for _, id in ipairs({ "x,y", "a\nb", "addons.2=x", "=", "\n", "" }) do
      assert.matches("^imbill.book: addons: add%-on ids are words", H.err(cheap, "mine", { addons = {
        [id] = { fee = { pro = "1.50" } } } }))
    end
  end)

  it("keep their ids, per edition segment", function()
    local ids = { "a-b", "addons_2", "x", "retention-90" }
    local addons = {}
    for _, id in ipairs(ids) do addons[id] = { fee = { pro = "1.00", ultimate = "1.00" } } end
    local book = cheap("mine", { addons = addons })
    local m = imbill.meter{ book = book, edition = "pro", addons = ids, same_day_disbands = true }
    m:login("a", T0)
    assert.is_true(m:change_edition("ultimate", T0 + 40 * DAY))
    m:save(path)
    local m2 = imbill.meter.load(path, { book = book })
    assert.same(m:addons(), m2:addons())
    assert.same(ids, m2:addons())
    assert.same(m:usage("2021-03"), m2:usage("2021-03"))
    assert.same(m:usage("2021-04"), m2:usage("2021-04"))
  end)

  it("keep same_day_disbands", function()
    for _, same in ipairs({ true, false }) do
      local m = imbill.meter{ book = "2020", edition = "pro", same_day_disbands = same }
      m:save(path)
      local m2 = imbill.meter.load(path)
      -- the limits the meter enforces say which rule is in force
      assert.equal(same, require("imbill.core").meter_impl.segments(m2)[1].limits.same_day_disbands)
      local _, by = F.fields(F.read(path))
      local found
      for i = 1, by["records.count"].value do
        if by["records[" .. i .. "].key"].value == "same_day_disbands" then found = by["records[" .. i .. "].value"] end
      end
      assert.equal(same and 1 or 0, found.value)
    end
  end)
end)

describe("the metadata records", function()
  local function with_record(key, value_bytes, ty, opts)
    saved("2020", opts)
    local file = F.read(path)
    local _, by = F.fields(file)
    -- one more record at the end of the list
    local last = by["records.count"].value
    local f = by["records[" .. last .. "].value"]
    local rec = string.char(ty) .. F.le(#key, 4) .. key .. value_bytes
    local bumped = file:sub(1, 32) .. F.le(last + 1, 4) .. file:sub(37)
    return F.splice(bumped, f.at + f.width, 0, rec)
  end

  it("refuse an unknown key, naming it", function()
    F.write(path, with_record("bogus", F.le(1, 4) .. "x", 1))
    assert.matches('corrupt meter file: metadata record 4 %("bogus"%): unknown key, got "',
      H.err(imbill.meter.load, path))
  end)
  it("refuse a key of the wrong type", function()
    F.write(path, with_record("addons.1", "\1", 3))
    assert.matches('metadata record 4 %("addons%.1"%): expected a string, has a boolean', H.err(imbill.meter.load, path))
  end)
  it("refuse a second book record", function()
    F.write(path, with_record("book", F.le(4, 4) .. "2021", 1))
    assert.matches('metadata record 4 %("book"%): appears twice', H.err(imbill.meter.load, path))
  end)
  it("refuse an add-on for an edition segment the meter does not have", function()
    F.write(path, with_record("addons.2", F.le(12, 4) .. "av_unlimited", 1))
    assert.matches("corrupt meter file: add%-ons of edition 2, the meter has 1", H.err(imbill.meter.load, path))
  end)
  it("refuse an add-on the book does not sell for the edition", function()
    F.write(path, with_record("addons.1", F.le(5, 4) .. "bogus", 1))
    assert.matches('corrupt meter file: add%-on "bogus" is not sold for edition pro in price book "2020"',
      H.err(imbill.meter.load, path))
  end)
  it("refuse an add-on listed twice for one edition (imbill.meter refuses it, and no invoice could bill it)", function()
    F.write(path, with_record("addons.1", F.le(12, 4) .. "av_unlimited", 1, { addons = { "av_unlimited" } }))
    assert.matches('corrupt meter file: add%-on "av_unlimited" is listed twice for edition 1',
      H.err(imbill.meter.load, path))
  end)
end)

describe("a version 2 meter file", function()
  -- spec/data/meter_v2_*.imbm were written by imbill before version 3 (see
  -- spec/data/README.md for how)
  local dir = H.top .. "/spec/data/"

  it("loads with its built-in book, add-ons and options as before", function()
    local m = imbill.meter.load(dir .. "meter_v2_builtin.imbm")
    assert.equal("2020", m:book().name)
    assert.equal(11, m:accounts())
    assert.equal(8, m:mau("2021-03"))
    assert.equal("449.97", tostring(m:invoice("2021-03").total))
    assert.equal("509.98", tostring(m:invoice("2021-04").total))
    assert.same({ "groups_per_user" }, m:addons())
    assert.same({ "av_unlimited", "groups_per_user" }, m:usage("2021-03").addons)
    assert.is_true(require("imbill.core").meter_impl.segments(m)[1].limits.same_day_disbands)
    -- and saved again, it is a file of the current version (4) with the same state
    m:save(path)
    assert.equal(4, F.read(path):byte(9))
    local m3 = imbill.meter.load(path)
    assert.same(m:usage("2021-03"), m3:usage("2021-03"))
    assert.same(m:usage("2021-04"), m3:usage("2021-04"))
  end)

  it("an add-on its book does not have is an error of the load, naming the file or the book", function()
    -- it was "imbill.meter.limits: addons[1]: ...", naming neither the load nor the file
    local v2 = F.read(dir .. "meter_v2_builtin.imbm")
    local bad = F.reseal((v2:gsub("addons%.1=av_unlimited", "addons.1=zz_unlimited", 1)))
    F.write(path, bad)
    assert.equal('imbill.meter.load: path: corrupt meter file: add-on "zz_unlimited" is not in price book "2020", got "'
      .. path .. '"', H.err(imbill.meter.load, path))
    -- a user book (version 2 kept only its name) that has no such add-on
    F.write(path, F.reseal((bad:gsub("book=2020", "book=mine", 1))))
    local book = imbill.book{ base = "2020", name = "mine" }
    assert.equal('imbill.meter.load: book: price book "mine" has no add-on "zz_unlimited", which the file\'s edition 1'
      .. ' has, got "mine"', H.err(imbill.meter.load, path, { book = book }))
  end)

  it("on a user book needs the book, by name as before", function()
    local f = dir .. "meter_v2_userbook.imbm"
    assert.equal("imbill.meter.load: book: the file was saved with user price book mine; pass it as { book = }",
      H.err(imbill.meter.load, f))
    local book = imbill.book{ base = "2020", name = "mine", editions = { pro = { monthly_fee = "100.00" } } }
    assert.equal("100.00", tostring(imbill.meter.load(f, { book = book }):invoice("2021-03").total))
  end)
end)
