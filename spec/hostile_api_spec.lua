-- Hostile input to the public API, one spec for each thing the API fuzzer
-- (fuzz/api/fuzz.lua) found: every error is an imbill error object that names
-- the public function, the field and a bounded, escaped value; nothing of the
-- caller's runs while a message is made; forged objects are not imbill's; a
-- failed call leaves the meter as it was.
local H = require "helper"
local imbill = H.imbill
local errors = require "imbill.internal.errors"

local T0 = 1614556800 -- 2021-03-01T00:00:00Z

-- The error f raised, checked to be an imbill error object.
local function err(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error, got none")
  assert(errors.is(e), "expected an imbill error object, got " .. type(e) .. ": " .. tostring(e))
  return tostring(e), e
end

local function no_control(s)
  assert(not s:find("[%c\127]"), "control bytes in: " .. s)
  return s
end

local function tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p '" .. d .. "'"))
  return d
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function closed_meter()
  local m = imbill.meter { book = "2020", edition = "pro" }
  getmetatable(m).__gc(m)
  return m
end

describe("hostile API input", function()
  describe("an argument left out", function()
    -- with no slot for it on the stack, the message used to show whatever the
    -- binding had pushed there: "t: expected an instant ..., got function"
    it("is shown as nil, the value a caller passed", function()
      local m = imbill.meter { book = "2020", edition = "pro" }
      local calls = {
        { "login", function() return m:login("u") end },
        { "create_group", function() return m:create_group("g", "Public") end },
        { "disband_group", function() return m:disband_group("g") end },
        { "join_group", function() return m:join_group("g", "u") end },
        { "leave_group", function() return m:leave_group("g", "u") end },
        { "add_friend", function() return m:add_friend("u", "v") end },
        { "remove_friend", function() return m:remove_friend("u", "v") end },
        { "create_account", function() return m:create_account("u") end },
        { "delete_account", function() return m:delete_account("u") end },
      }
      for _, c in ipairs(calls) do
        local s, e = err(c[2])
        assert.equals("meter:" .. c[1] .. ": t: expected an instant in whole Unix seconds, got nil", s)
        assert.equals("t", e.field)
        assert.is_nil(e.value)
      end
      local s = err(function() return m:create_group("g") end)
      assert.matches("^meter:create_group: type: unknown group type .*, got nil$", s)
    end)
  end)

  describe("money", function()
    it("raises error objects named imbill.money, the field apart", function()
      local s, e = err(imbill.money, "1e5")
      assert.equals('imbill.money: amount: not an amount (malformed), got "1e5"', s)
      assert.equals("imbill.money", e.fn)
      assert.equals("1e5", e.value)
      -- a quoted value cannot reorder or garble the line: bytes that are not
      -- UTF-8 and invisible characters (here U+202E, right-to-left override)
      -- are shown escaped
      assert.equals('imbill.money: amount: not an amount (malformed), got "\\u{202E}1.00\\xff"',
        (err(imbill.money, "\226\128\1741.00\255")))
      s, e = err(function() return imbill.money("1") + {} end)
      assert.equals("imbill.money", e.fn)
      assert.equals("right operand", e.field)
      assert.matches("^imbill.money: right operand: expected an amount", s)
      assert.matches("^imbill.money: left operand of ..: expected a string",
        err(function() return {} .. imbill.money("1") end))
      assert.equals("imbill.money: sum: 9223372036854.775807 + 1.00 does not fit in 64 bits of micro-units (money holds"
        .. " at most 9223372036854.775807 either way)",
        (err(function() return imbill.money("9223372036854.775807") + 1 end)))
    end)

    it("names imbill.money.sum and the list element", function()
      assert.equals("imbill.money.sum: list: expected a table, got nil", (err(imbill.money.sum, nil)))
      assert.equals('imbill.money.sum: list[2]: not an amount (malformed), got "x"', (err(imbill.money.sum, { 1, "x" })))
      assert.matches("^imbill.money.sum: sum: 9223372036854.775807 %+ 1.00 does not fit",
        err(imbill.money.sum, { "9223372036854.775807", "1" }))
      assert.equals("imbill.money.pretty: m: expected money, got 5", (err(imbill.money.pretty, 5)))
    end)

    it("sums the values a list holds: no __index or __len of the caller's runs", function()
      local list = setmetatable({ "1.5", "2" }, {
        __index = function() error("an __index ran") end,
        __len = function() return 2 ^ 40 end,
      })
      assert.equals("3.50", tostring(imbill.money.sum(list)))
    end)

    it("shows money in a message by its amount", function()
      assert.matches("got 1.50$", err(imbill.invoice, { book = "2020", edition = "pro", month = "2021-03",
        peak_dau = imbill.money("1.5") }))
    end)
  end)

  describe("messages", function()
    it("print without running the value's metamethods (an __eq that raises)", function()
      local m = imbill.meter { book = "2020", edition = "pro" }
      local v = setmetatable({}, { __eq = function() error("an __eq ran") end,
                                   __tostring = function() error("a __tostring ran") end })
      assert.equals("meter:login: user: expected a non-empty string id, got table", (err(m.login, m, v, T0)))
      assert.equals("imbill.money: amount: expected an amount (money, decimal string or number), got table",
        (err(imbill.money, v)))
    end)

    it("show an unknown key bounded and escaped, never through its __tostring", function()
      local s = no_control(err(imbill.invoice, { ["\27[31mred"] = 1 }))
      assert.matches('^imbill.invoice: "\\x1b%[31mred": unknown field', s)
      s = err(imbill.meter, { [string.rep("k", 1000000)] = 1 })
      assert.matches('^imbill.meter: "kkkk+..." %(1000000 bytes%): unknown field', s)
      assert.is_true(#s < 600)
      local key = setmetatable({}, { __tostring = function() error("a __tostring ran") end })
      assert.matches("^imbill.invoice: table: unknown field", err(imbill.invoice, { [key] = 1 }))
      assert.matches("^imbill.invoice: 1.5: unknown field", err(imbill.invoice, { [1.5] = 1 }))
    end)

    it("read an options table's keys raw: a __pairs of the caller's does not run", function()
      local u = setmetatable({ book = "2020", edition = "pro", month = "2021-03", peak_dau = 1 },
        { __pairs = function() error("a __pairs ran") end })
      assert.equals("149.99", tostring(imbill.invoice(u).total))
    end)

    it("read data tables raw, as LuaJIT does: no __pairs, __len or __index of the caller's runs", function()
      local liar = function(t) return setmetatable(t, {
        __pairs = function() return 5 end, __len = function() return "x" end,
        __index = function() return "av_unlimited" end }) end
      -- a book's edits, limits and charges
      local w = imbill.book { base = "2020", editions = liar { pro = liar { monthly_fee = "129.99",
        limits = liar { accounts = 5 }, dau = liar { price = "1" } } }, remove = liar { "trial" } }
      assert.equals("129.99", tostring(w:edition("pro").monthly_fee))
      assert.equals(5, w:edition("pro").limits.accounts)
      assert.is_false(w:has_edition("trial"))
      -- an invoice's daily series, change list and add-ons
      local dau = {}
      for i = 1, 31 do dau[i] = 10001 end
      local inv = imbill.invoice { book = "2020", edition = "pro", month = "2021-03", dau = liar(dau),
        change = liar { { on = "2021-03-20", to = "flagship" } }, addons = liar { "members_per_group" } }
      local codes = {}
      for i, l in ipairs(inv.lines) do codes[i] = l.code end
      assert.same({ "plan_fee", "plan_fee", "dau_overage", "group_overage", "addon" }, codes)
      assert.matches("^peak DAU 10,001 %(2021%-03%-01%) over 10,000 free", inv.lines[3].note)
      -- a meter's add-ons: one listed, none made up by __index
      local m = imbill.meter { book = "2020", edition = "pro", addons = liar {} }
      assert.same({}, m:addons())
    end)

    it("read tables of named fields raw: an __index of the caller's neither raises nor adds a field", function()
      -- the entry points that take plain data read what the table holds: an
      -- __index that raises would stop them with a bare Lua error, one that
      -- answers would make fields appear (a tz, a change) that are not there
      local function boom(t)
        return setmetatable(t, { __index = function(_, k) error("the caller's __index ran for " .. tostring(k)) end })
      end
      local function ghost(t, extra)
        return setmetatable(t, { __index = function(_, k) return extra[k] end })
      end
      local dau = {}
      for i = 1, 30 do dau[i] = 100 end
      local book = imbill.book(boom { base = "2021", name = "raw_book",
                                      editions = boom { pro = boom { monthly_fee = "1" } } })
      assert.equal("1.00", tostring(book:edition("pro").monthly_fee))
      assert.equal(imbill.book("2021").offset, imbill.book(ghost({ base = "2021", name = "raw_tz" },
        { tz = "+09:00" })).offset)
      local inv = imbill.invoice(boom { book = "2021", edition = "pro", month = "2021-09", dau = dau })
      assert.equal(tostring(imbill.invoice { book = "2021", edition = "pro", month = "2021-09", dau = dau }.total),
        tostring(inv.total))
      -- a change its __index made up is not a change
      local ghosted = imbill.invoice(ghost({ book = "2021", edition = "pro", month = "2021-09", dau = dau },
        { change = { on = "2021-09-15", to = "ultimate" } }))
      assert.equal(tostring(inv.total), tostring(ghosted.total))
      assert.same(imbill.totals { book = "2021", edition = "pro", peak_dau = { 20000 } },
        imbill.totals(boom { book = "2021", edition = "pro", peak_dau = { 20000 } }))
      assert.equal(tostring(imbill.compare { books = { "2021" }, month = "2021-09", dau = dau }),
        tostring(imbill.compare(boom { books = { "2021" }, month = "2021-09", dau = dau })))
      local m = imbill.meter(boom { book = "2021", edition = "pro" })
      assert.equal("+08:00", m:usage("2021-09").tz)
      assert.equal("+08:00", imbill.meter(ghost({ book = "2021", edition = "pro" }, { tz = "+09:00" })):usage("2021-09").tz)
      assert.equal(tostring(imbill.grid { start_dau = { from = 1000, to = 2000, step = 1000 }, months = 2,
                                          editions = { "2021/pro" } }),
        tostring(imbill.grid(boom { start_dau = boom { from = 1000, to = 2000, step = 1000 }, months = 2,
                                    editions = { "2021/pro" } })))
      -- a usage given as { csv = text }: the text it holds, never one its __index makes up
      local csv = "date,dau,groups\n2021-09-01,100,1\n"
      assert.equal(tostring(imbill.project { usage = { csv = csv }, books = { "2021" } }),
        tostring(imbill.project { usage = boom { csv = csv }, books = { "2021" } }))
      assert.matches("^imbill.project: usage: expected a series",
        err(imbill.project, { usage = ghost({}, { csv = csv }), books = { "2021" } }))
      assert.matches("^imbill.shadow: usage: expected a series",
        err(imbill.shadow, { usage = boom {}, base = "2021", shadow = "2022" }))
    end)

    it("show a field made from the caller's data escaped (a log's name)", function()
      local d = tmpdir()
      local path = d .. "/bad.csv"
      local f = assert(io.open(path, "wb"))
      f:write("when,what\n")
      f:close()
      local s = err(imbill.replay.run, { path = path, book = "2020", edition = "pro", name = "log\nname" })
      no_control(s)
      assert.matches('^imbill.replay.run: "log\\nname:1": header: column 1: unknown column', s)
      os.remove(path)
      os.remove(d)
    end)
  end)

  describe("dates", function()
    it("raise error objects naming the function", function()
      assert.equals('book:in_force: date: malformed date (expected YYYY-MM-DD), got "x"',
        (err(imbill.book("2020").in_force, imbill.book("2020"), "x")))
      assert.equals('imbill.book_at: date: expected a date "YYYY-MM-DD", got 5', (err(imbill.book_at, 5)))
      assert.equals('imbill.invoice: month: no such month, got "2021-13"',
        (err(imbill.invoice, { book = "2020", edition = "pro", month = "2021-13" })))
      -- the refused text is the error's value, as for every other field, so a
      -- caller can show or test it without parsing the message
      local m = imbill.meter { book = "2020", edition = "pro" }
      for _, case in ipairs {
        { imbill.invoice, { book = "2020", edition = "pro", month = "2021-3" }, "2021-3" },
        { imbill.invoice, { book = "2020", edition = "pro", month = "2021-13" }, "2021-13" },
        { imbill.book_at, "2021-02-30", "2021-02-30" },
        { m.usage, m, "March", "March" },
        { m.dau, m, "2021-02-29", "2021-02-29" },
        { m.mau, m, "2021-00", "2021-00" },
      } do
        local f, a, b, want = case[1], case[2], case[3], case[#case]
        local _, e
        if #case == 4 then _, e = err(f, a, b) else _, e = err(f, a) end
        assert.equals(want, e.value)
      end
      assert.matches("^imbill.invoice: month: 9999%-12 is after 9999%-08",
        err(imbill.invoice, { book = "2020", edition = "pro", month = "9999-12" }))
    end)
  end)

  describe("price books", function()
    local b = imbill.book("2020")

    it("a table given a book's metatable by hand is not a book", function()
      local forged = setmetatable({}, getmetatable(b))
      assert.is_false(imbill.is_book(forged))
      assert.equals("imbill price book (not made by imbill.book)", tostring(forged))
      assert.matches("^book:edition: self: expected a price book", err(b.edition, forged, "pro"))
      assert.matches("^book:in_force: self: expected a price book", err(b.in_force, forged, "2021-03-01"))
      assert.matches("^imbill.invoice: book: expected a book name", err(imbill.invoice,
        { book = forged, edition = "pro", month = "2021-03" }))
      local fe = setmetatable({ id = "pro", book = "2020" }, getmetatable(b:edition("pro")))
      assert.equals("imbill edition (not made by imbill.book)", tostring(fe))
      assert.matches("^edition:supports: self: expected an edition", err(fe.supports, fe, "push_all"))
      assert.matches("^imbill.meter.limits: edition: expected an edition of price book 2020",
        err(imbill.meter.limits, b, fe))
    end)

    it("names a user book with at most 64 printable bytes, never a built-in's name", function()
      local s = err(imbill.book, { base = "2020", name = string.rep("x", 1000000) })
      assert.matches('^imbill.book: name: expected 1 to 64 printable bytes without "/".*%(1000000 bytes%)$', s)
      assert.matches("^imbill.book: name: ", err(imbill.book, { base = "2020", name = "what\nif" }))
      assert.matches("^imbill.book: name: ", err(imbill.book, { base = "2020", name = "a/b" }))
      assert.matches("^imbill.book: name: ", err(imbill.book, { base = "2020", name = "" }))
      assert.equals('imbill.book: name: is the name of a built-in price book, got "2020"',
        (err(imbill.book, { base = "2021", name = "2020" })))
      assert.equals("<what & if>", imbill.book { base = "2020", name = "<what & if>" }.name)
      -- a name is printed on every invoice as it reads: UTF-8 text, with no
      -- character that reorders or hides the text around it
      assert.equals("价格表 2023 — Café", imbill.book { base = "2020", name = "价格表 2023 — Café" }.name)
      assert.equals('imbill.book: name: is not UTF-8 (byte 4), got "caf\\xe9"',
        (err(imbill.book, { base = "2020", name = "caf\233" })))
      for _, hidden in ipairs { "\226\128\174", "\226\128\143", "\226\129\166", "\226\128\139", "\239\187\191",
                                "\194\133" } do -- U+202E, U+200F, U+2066, U+200B, U+FEFF, U+0085
        assert.matches("^imbill.book: name: holds an invisible character that reorders or hides text %(byte 3%), "
          .. 'got "ab\\u{%x+}"$', (err(imbill.book, { base = "2020", name = "ab" .. hidden })))
      end
      -- so a meter on a user book saves and loads back with it
      local w = imbill.book { base = "2020", name = "what-if 2" }
      local m = imbill.meter { book = w, edition = "pro" }
      local d = tmpdir()
      m:save(d .. "/w.meter")
      assert.equals("what-if 2", imbill.meter.load(d .. "/w.meter", { book = w }):book().name)
      os.remove(d .. "/w.meter")
      os.remove(d)
    end)

    it("takes edition and add-on ids of at most 63 bytes of letters, digits, _ and -", function()
      assert.matches('^imbill.book: editions: edition ids are words .*at most 63 bytes, got "x+..." %(64 bytes%)$',
        err(imbill.book, { base = "2020", editions = { [string.rep("x", 64)] = {} } }))
      assert.matches("^imbill.book: addons: add%-on ids are words", err(imbill.book, { base = "2020",
        addons = { [setmetatable({}, { __tostring = function() error("a __tostring ran") end })] = {} } }))
      assert.is_true(imbill.book { base = "2020", editions = { [string.rep("x", 63)] = {} } }
        :has_edition(string.rep("x", 63)))
    end)

    it("checks self and the argument of has_edition, due and arrears_after", function()
      assert.is_false(b:has_edition(5))
      assert.is_true(b:has_edition("pro"))
      assert.matches("^book:has_edition: self: expected a price book", err(b.has_edition, nil, "pro"))
      assert.matches("^book:due: month: expected a month number", err(b.due, b, "2021-03"))
      assert.matches("^book:due: month: expected a month number", err(b.due, b, 9999 * 12 + 8))
      assert.matches("^book:arrears_after: due: expected a day number", err(b.arrears_after, b, {}))
      assert.matches("^book:in_force: date: expected a date", err(b.in_force, b, 2 ^ 40))
    end)

    it("bounds and escapes a time zone before reading it", function()
      local s = err(imbill.book, { base = "2020", tz = string.rep("9", 1000000) })
      assert.matches('^imbill.book: tz: expected an offset like "%+08:00", got "9+..." %(1000000 bytes%)$', s)
      assert.equals('imbill.meter: tz: expected an offset like "+08:00", got "\\n"',
        (err(imbill.meter, { book = "2020", edition = "pro", tz = "\n" })))
      assert.matches("^imbill.invoice: tz: ", err(imbill.invoice, { book = "2020", edition = "pro",
        month = "2021-03", tz = "+99:00" }))
    end)
  end)

  describe("invoices", function()
    local inv = imbill.invoice { book = "2020", edition = "pro", month = "2021-03" }

    it("check self", function()
      assert.equals("invoice:data: self: expected an invoice: call it as inv:data(...), got nil", (err(inv.data)))
      local forged = setmetatable({}, getmetatable(inv))
      assert.equals("imbill invoice (not made by imbill.invoice)", tostring(forged))
      assert.matches("^invoice:data: self:", err(inv.data, forged))
    end)
  end)

  describe("the meter", function()
    it("names a closed meter in every method written in Lua", function()
      local c = closed_meter()
      for _, name in ipairs { "edition", "book", "addons", "usage", "invoice", "save", "change_edition",
                              "set_clock" } do
        assert.equals("meter:" .. name .. ": self: the meter was closed", (err(c[name], c, "2021-03")))
      end
      assert.equals("meter:login: self: the meter was closed", (err(c.login, c, "u", T0)))
    end)

    it("reads nothing of a meter a finalizer closed in the middle of a call", function()
      -- Each call answers, or raises naming itself; under ASan a read of the
      -- freed meter (its edition's name, its segments) is a report, and a read
      -- through the closed handle is one under UBSan.  In a child process
      -- (spec/support/finalizer_close.lua) whose small heap lets the
      -- collector finish cycles within the calls.
      local q = H.q
      local out = H.sh(string.format("LUA_PATH=%s LUA_CPATH=%s timeout -s KILL 120 %s %s",
        q(package.path), q(package.cpath), H.lua, q(H.top .. "/spec/support/finalizer_close.lua"))) .. "\n"
      assert.not_matches("bad ", out)
      local during = tonumber(out:match("during (%d+)\n$"))
      assert.is_truthy(during, out)
      assert.is_true(during > 0, "no finalizer ran during the calls")
    end)

    it("names set_clock, invoice and save and their fields", function()
      local m = imbill.meter { book = "2020", edition = "pro" }
      assert.equals('meter:set_clock: t: expected an instant in whole Unix seconds, got "x"',
        (err(m.set_clock, m, "x")))
      assert.equals('meter:invoice: month: malformed month (expected YYYY-MM), got "x"', (err(m.invoice, m, "x")))
      assert.matches("^meter:invoice: self: expected a meter", err(m.invoice, 5))
      assert.equals('meter:save: opts.crash_after_bytes: expected a whole number >= 0, got "x"',
        (err(m.save, m, "x.meter", { crash_after_bytes = "x" })))
      assert.matches("^imbill.meter: clock: ", err(imbill.meter, { book = "2020", edition = "pro", clock = "x" }))
    end)

    it("refuses a path with a NUL byte instead of writing to its prefix", function()
      local d = tmpdir()
      local m = imbill.meter { book = "2020", edition = "pro" }
      assert.equals('meter:save: path: the path contains a NUL byte, got "' .. d .. '/a\\x00b"',
        (err(m.save, m, d .. "/a\0b")))
      assert.is_false(exists(d .. "/a"))
      assert.matches("^imbill.meter.load: path: the path contains a NUL byte", err(imbill.meter.load, d .. "/a\0b"))
      assert.matches("^meter:save: path: the path is empty", err(m.save, m, ""))
      os.remove(d)
    end)

    it("shows the path of a failed save or load escaped and bounded", function()
      local m = imbill.meter { book = "2020", edition = "pro" }
      no_control(err(m.save, m, "/nonexistent/tab\there"))
      local s = no_control(err(imbill.meter.load, "/nonexistent/cr\rlf"))
      assert.equals('imbill.meter.load: path: cannot open: No such file or directory, got "/nonexistent/cr\\rlf"', s)
      s = err(imbill.meter.load, "/nonexistent/" .. string.rep("9", 1000000))
      assert.is_true(#s < 600, #s)
    end)

    it("names imbill.meter.limits and the add-on it does not know", function()
      local b = imbill.book("2020")
      assert.matches("^imbill.meter.limits: addons%[1%]: price book 2020 has no such add%-on.*got \"nope\"$",
        err(imbill.meter.limits, b, b:edition("pro"), { "nope" }))
      assert.equals("imbill.meter.limits: book: expected a price book (imbill.book) or its name, got nil",
        (err(imbill.meter.limits, nil)))
      -- names, as the rest of the API takes them, and the same refusals for names it does not know
      assert.same(imbill.meter.limits(b, b:edition("pro"), { "members_per_group" }),
        imbill.meter.limits("2020", "pro", { "members_per_group" }))
      assert.matches("^imbill.meter.limits: book: .*got \"2019\"$", err(imbill.meter.limits, "2019", "pro"))
      assert.matches("^imbill.meter.limits: edition: price book 2020 has no such edition.*got \"ultimate\"$",
        err(imbill.meter.limits, "2020", "ultimate"))
    end)

    it("keeps a NUL in the id a refusal names", function()
      local m = imbill.meter { book = "2020", edition = "trial" }
      for i = 1, 5 do assert.is_true((m:create_group("b" .. i, "BChatRoom", T0))) end
      local ok, r = m:create_group("x\0y", "BChatRoom", T0)
      assert.is_false(ok)
      assert.equals("x\0y", r.group)
      ok, r = m:join_group("no\0such", "u1", T0)
      assert.is_false(ok)
      assert.equals("no\0such", r.group)
      assert.matches('group "no\\x00such" does not exist', r.message, 1, true)
    end)

    it("is unchanged by a call that raises, and remembers no event id of it", function()
      local m = imbill.meter { book = "2020", edition = "pro" }
      m:create_account("u1", T0)
      local before = m:usage("2021-03")
      err(m.create_group, m, "g1", "Nope", T0, "e1")
      err(m.join_group, m, "g1", setmetatable({}, { __eq = function() error("an __eq ran") end }), T0, "e2")
      assert.same(before, m:usage("2021-03"))
      assert.is_true((m:create_group("g1", "Public", T0, "e1")))
      local ok, how = m:create_group("g1", "Public", T0, "e1")
      assert.same({ true, "duplicate" }, { ok, how })
    end)
  end)

  describe("replay", function()
    local m = imbill.meter { book = "2020", edition = "pro" }

    it("names each function and checks the meter it is given", function()
      assert.equals("imbill.replay.event: meter: expected a meter made by imbill.meter, got 5",
        (err(imbill.replay.event, { action = "login", user = "u", time = T0 }, 5)))
      assert.equals("imbill.replay.event: meter: the meter was closed",
        (err(imbill.replay.event, { action = "login", user = "u", time = T0 }, closed_meter())))
      assert.equals("imbill.replay.apply: meter: expected a meter made by imbill.meter, got 5",
        (err(imbill.replay.apply, 5, {})))
      assert.equals("imbill.replay.apply: event: expected a table, got nil", (err(imbill.replay.apply, m)))
      assert.matches('^imbill.replay.apply: event.action: unknown action .*got "nope"$',
        err(imbill.replay.apply, m, { action = "nope" }))
      assert.matches("^imbill.replay.events: meter: expected a meter",
        err(imbill.replay.events, H.top .. "/examples/events.csv", nil, {}))
      assert.equals("imbill.replay.run: path: expected a string, got 5", (err(imbill.replay.run, { path = 5 })))
      assert.matches("^imbill.replay.run: meter: expected a meter",
        err(imbill.replay.run, { path = "x.csv", meter = setmetatable({}, { __name = "imbill.Meter" }) }))
      assert.matches("^imbill.replay.run: edition: ", err(imbill.replay.run, { path = "x.csv", book = "2020",
        edition = "gold" }))
    end)

    it("still answers nil and a message for a malformed event", function()
      local ev, msg = imbill.replay.event(5)
      assert.is_nil(ev)
      assert.equals("event: expected a table, got 5", msg)
    end)
  end)

  describe("what-if results", function()
    local S = imbill.series
    local s = S.build { from = "2021-01-01", months = 3, dau = S.linear { start = 9000, per_day = 50 }, groups = 500 }
    local smau = S.build { from = "2021-01-01", months = 3, dau = 20000, groups = 1000, mau = 60000 }
    local made = {
      projection = { imbill.project { usage = s, books = { "2021" } }, "a projection (imbill.project)", "p",
                     { "row", "cheapest", "table", "data", "csv" } },
      migration = { imbill.migration { usage = smau, from = "2021/pro", to = "2022/standard" },
                    "a migration (imbill.migration)", "mig", { "verdict", "table", "data", "csv" } },
      breakeven_table = { imbill.breakeven_table { editions = { "2021/pro", "2021/ultimate" }, to = 50000 },
                          "a break-even table (imbill.breakeven_table)", "bt", { "table", "data", "csv" } },
      cost_curve = { imbill.cost_curve { edition = "2021/pro", to = 50000 }, "a cost curve (imbill.cost_curve)", "c",
                     { "data", "csv" } },
      breakeven = { imbill.breakeven { a = "2020/pro", b = "2021/pro", to = 30000 },
                    "a break-even result (imbill.breakeven)", "be", { "data", "csv" } },
      comparison = { imbill.compare { month = "2021-03", peak_dau = 25000, groups_peak = 250000 },
                     "a comparison (imbill.compare)", "rows", { "data", "csv" } },
      shadow = { imbill.shadow { usage = s, base = "2020", editions = { "pro" },
                                 shadow = { base = "2020", editions = { pro = { monthly_fee = "129.99" } } } },
                 "a shadow run (imbill.shadow)", "sh", { "table", "data", "csv" } },
      grid = { imbill.grid { editions = { "2021/pro", "2022/standard" }, growth = { "0%", "5%" },
                             start_dau = { 1000, 5000 }, months = 2, mau_per_dau = 3 }, "a grid (imbill.grid)", "g",
               { "size", "get", "cents", "scenario", "index", "range", "min", "max", "mean", "percentile", "wins",
                 "tied", "summary", "by_edition", "totals", "column", "data", "csv" } },
      series = { s, "a series (imbill.series.build, read_csv, ...)", "s",
                 { "from", "to", "months", "month", "usage", "at", "slice", "csv" } },
    }

    it("answer a method called without its receiver, or on a look-alike, naming the method and self", function()
      for kind, m in pairs(made) do
        local obj, what, var, names = m[1], m[2], m[3], m[4]
        local fake = setmetatable({}, getmetatable(obj))
        for _, name in ipairs(names) do
          assert.is_function(obj[name], kind .. ":" .. name)
          local want = string.format("%s:%s: self: expected %s: call it as %s:%s(...)", kind, name, what, var, name)
          assert.equals(want .. ", got 5", (err(obj[name], 5)))
          assert.equals(want .. ", got nil", (err(obj[name])))
          assert.equals(want .. ", got table", (err(obj[name], fake)))
        end
      end
    end)

    it("name the method the user called when a helper inside it finds the problem", function()
      assert.equals('series:at: date: expected a date "YYYY-MM-DD", got nil', (err(s.at, s, nil)))
      assert.matches("^series:usage: month: ", err(s.usage, s, "149.99"))
      -- a method that passes its caller's name down keeps it
      assert.matches("^imbill.project: mau_per_dau: ", err(imbill.project, { usage = smau, books = { "2022" },
                                                                             mau_per_dau = 3 }))
    end)

    it("grids name the method, the field and the value, with counts past 2^31 as they are", function()
      local g = made.grid[1]
      assert.equals("grid:get: index: not a computed scenario (1 .. 8), got 0", (err(g.get, g, 0)))
      assert.equals("grid:scenario: index: not a scenario (1 .. 8), got 4294967296",
        (err(g.scenario, g, 4294967296)))
      assert.equals("grid:index: edition: expected a position 1 .. 2, got 9", (err(g.index, g, 9, 1, 1)))
      assert.equals('grid:index: growth: expected a whole number >= 0, got "x"', (err(g.index, g, 1, "x", 1)))
      assert.equals("grid:totals: to: 3 .. 4294967296 is not within 1 .. 8", (err(g.totals, g, 3, 4294967296)))
      assert.equals('grid:min: edition: not in this grid, got "x"', (err(g.min, g, "x")))
      -- the caller's percentile list is read raw: an __index answering every index is not read
      local endless = setmetatable({}, { __index = function() return 5 end })
      assert.equals(2, #g:by_edition(endless))
      assert.equals("imbill.grid: months: expected 1 .. 1200, got 0", (err(imbill.grid, { editions = { "2021/pro" },
        growth = { "0%" }, start_dau = { 1 }, months = 0 })))
    end)

    it("refuse a horizon or a series past year 9999 before formatting it", function()
      assert.equals("imbill.project: months: the usage covers 3 months from 2021-01 (to 2021-03), got 1000000",
        (err(imbill.project, { usage = s, books = { "2021" }, months = 1000000 })))
      assert.matches("^imbill.migration: months: the usage covers 3 months",
        err(imbill.migration, { usage = smau, months = 2 ^ 53 }))
      assert.equals("imbill.series.build: months: more than 100 years of days, got 1201",
        (err(S.build, { from = "2021-01-01", months = 1201, dau = 4 })))
      assert.matches("^imbill.series.build: months: more than 100 years of days",
        err(S.build, { from = "2021-01-01", months = 2 ^ 53 - 1, dau = 4 }))
      assert.equals(1200, #S.build { from = "2021-01-01", months = 1200, dau = 4 }:months())
      assert.equals("imbill.project: progress: expected a function(done, total), got table",
        (err(imbill.project, { usage = s, books = { "2021" }, progress = {} })))
    end)

    it("generator operators and parse_csv name themselves", function()
      local gen, fac = S.constant(100), S.weekly { sat = "1.2", sun = "1.2" }
      assert.matches("^imbill.series %+: right: expected a whole number or a generator",
        err(function() return gen + {} end))
      assert.matches("^imbill.series %+: right: adds two levels", err(function() return gen + fac end))
      assert.matches("^imbill.series %*: right: applies a factor", err(function() return gen * gen end))
      assert.matches("^imbill.series %*: left: expected a generator", err(function() return {} * fac end))
      assert.matches("^imbill.series %*: r: is too large, got 1099511627776", err(function() return gen * 2 ^ 40 end))
      assert.matches("^imbill.series.parse_csv: x: unknown field", err(S.parse_csv, "date,dau,groups\n", { x = 1 }))
    end)

    it("read the caller's arrays raw, and refuse a range too wide to walk", function()
      local odd = setmetatable({}, { __len = function() return "x" end, __index = function() return 1 end })
      assert.equals("imbill.series.from_table: groups: has 0 values where dau has 3, got 0",
        (err(S.from_table, { from = "2021-03-01", dau = { 1, 2, 3 }, groups = odd })))
      -- an __index that answers every index would make ipairs endless on Lua 5.4
      local endless = setmetatable({}, { __index = function() return "2020" end })
      assert.equals("imbill.compare: editions[1]: no edition of the chosen books has this id, got \"x\"",
        (err(imbill.compare, { month = "2021-04", peak_dau = 1, groups_peak = 1, editions = setmetatable({ "x" },
          getmetatable(endless)) })))
      assert.is_table(imbill.compare { month = "2021-04", peak_dau = 1, groups_peak = 1, editions = endless })
      assert.matches("^imbill.breakeven_table: editions: needs at least two editions",
        err(imbill.breakeven_table, { editions = endless }))
      assert.equals("series:times: dau: expected a ratio such as \"1.5\", \"5%\" or 0.05, got table",
        (err(s.times, s, { dau = {} })))
      local fake_pairs = setmetatable({}, { __pairs = function() error("a __pairs ran") end })
      assert.equals(s:at("2021-01-02"), s:times(fake_pairs):at("2021-01-02"))
      assert.equals("imbill.series.from_table: dau: the series runs past 9999-12-31, got 3",
        (err(S.from_table, { from = "9999-12-31", dau = { 1, 2, 3 } })))
      assert.equals("imbill.series.build: months: the series runs past 9999-12-31, got 2",
        (err(S.build, { from = "9999-12-01", months = 2, dau = 1 })))
      local every = setmetatable({}, { __index = function() return 5 end })
      assert.is_table(imbill.compare { month = "2022-11", peak_dau = 1, groups_peak = 1, needs = every })
      assert.matches("^imbill.grid: growth: needs at least one rate", err(imbill.grid, { editions = { "2021/pro" },
        growth = every, start_dau = { 1000 }, months = 2 }))
      local bin = os.tmpname()
      local f = assert(io.open(bin, "wb"))
      f:write("imbmeter\1\2\0\255," .. string.rep("x", 300) .. "\n1,2\n")
      f:close()
      local msg = err(imbill.column.from_csv, bin, "groups")
      os.remove(bin)
      assert.matches('^imbill.column.from_csv: column: not in the header of [%w_.-]+ %(it has: "imbmeter', msg)
      assert.is_nil(msg:find("[%z\1-\31\127]"), msg)
      assert.is_true(#msg < 400, msg)
      -- 429,495 DAU steps on pro: more than a cost curve's 100,000 points, said before any pair is walked
      assert.equals("imbill.breakeven_table: to: the range has too many steps, got 4294967295",
        (err(imbill.breakeven_table, { to = 4294967295, usage = { groups_peak = 0 } })))
      assert.matches("crosses more than 1000000 price steps",
        err(imbill.breakeven, { a = "2021/pro", b = "2021/ultimate", to = 2 ^ 40, usage = { groups_peak = 0 } }))
    end)

    it("charts and the report take results made by imbill, not tables shaped like them", function()
      local look = setmetatable({}, { __index = function() return {} end })
      assert.matches("^imbill.chart.path_timeline: projection: expected a projection", err(imbill.chart.path_timeline,
        look))
      assert.matches("^imbill.chart.projection_bars: projection: expected a projection",
        err(imbill.chart.projection_bars, { rows = {}, months = {} }))
      assert.matches("^imbill.report: migration: expected a migration", err(imbill.report, { migration = {
        rows = {}, verdict = print } }))
      -- one edition's cost curve is drawn as it is
      local doc = imbill.chart.cost_curves(made.cost_curve[1])
      assert.matches("<svg", tostring(doc))
    end)
  end)

  describe("scenario columns and totals over them", function()
    local liar = function(t) return setmetatable(t, {
      __pairs = function() error("a __pairs ran") end, __len = function() return 2 ^ 40 end,
      __index = function() error("an __index ran") end }) end

    it("read the caller's tables raw: arrays, ranges, options, editions and percentiles", function()
      assert.same({ 3, 1, 4 }, imbill.column(liar { 3, 1, 4 }):totable())
      assert.same({ 1, 3, 5 }, imbill.column(liar { from = 1, to = 5, step = 2 }):totable())
      assert.equal(4, #imbill.column.random(liar { n = 4, max = 9 }))
      local c = imbill.column { 9999, 10001 }
      assert.same({ 9999, 10001 }, c:percentiles(liar { 5, 95 }))
      assert.equal(9999, c:summary(liar { 50 }).p50)
      local p = liar { book = "2020", edition = "pro", peak_dau = liar { 9999, 10001 } }
      assert.same({ 14999, 29998 }, imbill.totals(p))
      local col = imbill.totals(liar { book = "2020", edition = "pro", peak_dau = c, threads = 1 })
      assert.same({ 14999, 29998 }, col:totable())
      local by = imbill.totals(liar { editions = liar { "2020/pro", "2021/pro" }, peak_dau = c })
      assert.same({ 14999, 29998 }, by["2020/pro"]:totable())
    end)

    it("name the function called on something that is not a column or a grid", function()
      local c = imbill.column(3)
      assert.equals("column:summary: self: expected a column (call it as col:method(...)), got table",
        (err(c.summary, {})))
      assert.matches("^column:percentiles: self: ", err(c.percentiles, 5, { 5 }))
      assert.matches("^column:grow: self: ", err(c.grow, nil, "5%"))
      assert.matches("^column:get: self: ", err(c.get, {}, 1))
      local g = imbill.grid { editions = { "2020/pro" }, start_dau = { 1 } }
      assert.equals("grid:column: self: expected a grid (imbill.grid): call it as g:column(...), got nil",
        (err(g.column)))
    end)

    it("name the function when memory or a ratio is too large, on every runtime", function()
      -- (a size that only fails in the allocator would abort under ASan)
      if not H.is_jit then
        assert.equals("imbill.column.random: n: is more values than a column holds, got 4611686018427387904",
          (err(imbill.column.random, { n = math.tointeger(2 ^ 62), max = 1 })))
      end
      local c = imbill.column(2)
      assert.equals("column:grow: rate: is too large, got 253402300799", (err(c.grow, c, 253402300799)))
      assert.equals("imbill.column: ratio: is too large, got 253402300799", (err(function() return c * 253402300799 end)))
    end)
  end)

  describe("imbill.core.plan", function()
    it("names the offset and keeps it within a day", function()
      local b = imbill.book("2020")
      local lim = imbill.meter.limits(b, b:edition("pro"))
      assert.matches("^imbill.core.plan: offset: expected whole seconds east of UTC, within a day",
        err(imbill.core.plan, lim, "login", nil, T0, 2 ^ 40))
      assert.matches("^imbill.core.plan: offset: ", err(imbill.core.plan, lim, "login", nil, T0, "x"))
      assert.is_table(imbill.core.plan(lim, "login", nil, T0, 28800))
    end)

    it("names a two-way friend action, which has no plan of its own, and its parts", function()
      local b = imbill.book("2020")
      local lim = imbill.meter.limits(b, b:edition("pro"))
      assert.equals('imbill.core.plan: action: a two-way action has no plan of its own: plan its parts, '
        .. 'add_friend_one_way and add_friend_back, got "add_friend"', err(imbill.core.plan, lim, "add_friend", nil, T0, 0))
      local p = imbill.core.plan(lim, "add_friend_back", nil, T0, 0)
      local sadd
      for _, o in ipairs(p.ops) do if o.op == "sadd" then sadd = o end end
      assert.same({ "friends", "peer", "user", 30014, 3000 }, { sadd.key, sadd.subject, sadd.member, sadd.code, sadd.bound })
    end)
  end)
end)
