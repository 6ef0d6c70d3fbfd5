local H = require "helper"
local imbill = H.imbill

-- A number too large to be a count: beyond 2^53 on LuaJIT (not exact), and a
-- total that cannot fit in 64 bits on Lua 5.4.
local HUGE = H.is_jit and 2 ^ 60 or math.maxinteger
local function month31(v)
  local s = {}
  for d = 1, 31 do s[d] = v end
  return s
end
local INV = { book = "2020", edition = "pro", month = "2021-03" }
local function inv(extra)
  local t = {}
  for k, v in pairs(INV) do t[k] = v end
  for k, v in pairs(extra) do t[k] = v end
  return t
end

-- { what, function, argument, pattern the message must match }
local cases = {
  -- imbill.book
  { "book: a number", imbill.book, 2020, "^imbill.book: book: expected a book name.*got 2020" },
  { "book: unknown name", imbill.book, "2019", "^imbill.book: name: unknown price book.*got \"2019\"" },
  { "book: nil", imbill.book, nil, "^imbill.book: book: expected .*got nil" },
  { "book: unknown base", imbill.book, { base = "x" }, "^imbill.book: base: unknown price book" },
  { "book: bad fee", imbill.book, { base = "2020", editions = { pro = { monthly_fee = {} } } },
    "^imbill.book: editions.pro.monthly_fee: expected an amount" },
  { "book: huge fee", imbill.book, { base = "2020", editions = { pro = { monthly_fee = "1e30" } } },
    "^imbill.book: editions.pro.monthly_fee: not an amount" },
  { "book: float limit", imbill.book, { base = "2020", editions = { pro = { limits = { accounts = 10.5 } } } },
    "^imbill.book: editions.pro.limits.accounts: expected a whole number" },
  { "book: string limit", imbill.book, { base = "2020", editions = { pro = { limits = { accounts = "10" } } } },
    "^imbill.book: editions.pro.limits.accounts: expected a whole number" },
  { "book: block as float", imbill.book, { base = "2020", editions = { pro = { dau = { block = 0.5 } } } },
    "^imbill.book: editions.pro.dau.block: expected a whole number" },

  -- imbill.book_at
  { "book_at: malformed date", imbill.book_at, "2021-3-15",
    '^imbill.book_at: date: malformed date %(expected YYYY%-MM%-DD%), got "2021%-3%-15"$' },
  { "book_at: no such date", imbill.book_at, "2021-02-30", "^imbill.book_at: date: no such date" },
  { "book_at: a number", imbill.book_at, 20210315, "^imbill.book_at: date: expected a date" },
  { "book_at: nil", imbill.book_at, nil, "^imbill.book_at: date: expected a date.*got nil" },
  { "book_at: before any book", imbill.book_at, "2019-01-01", "^imbill.book_at: date: no price book" },

  -- imbill.money
  { "money: exponent", imbill.money, "1e5", '^imbill.money: amount: not an amount %(malformed%), got "1e5"' },
  { "money: leading space", imbill.money, " 1", '^imbill.money: amount: not an amount %(malformed%), got " 1"' },
  { "money: separators", imbill.money, "1,000", '^imbill.money: amount: not an amount %(malformed%), got "1,000"' },
  { "money: empty", imbill.money, "", '^imbill.money: amount: not an amount %(malformed%), got ""' },
  { "money: huge string", imbill.money, "12345678901234567890", "^imbill.money: amount: .*does not fit in 64 bits" },
  { "money: huge number", imbill.money, 1e19, "^imbill.money: amount: .*does not fit" },
  { "money: 7 decimals", imbill.money, 0.1234567, "^imbill.money: amount: 0.1234567 has more than 6 decimals" },
  { "money: a table", imbill.money, {}, "^imbill.money: amount: expected an amount.*got table" },
  { "money: a boolean", imbill.money, false, "^imbill.money: amount: expected an amount.*got boolean" },

  -- imbill.invoice
  { "invoice: not a table", imbill.invoice, "x", "^imbill.invoice: argument: expected a table" },
  { "invoice: unknown field", imbill.invoice, inv { peek_dau = 1 }, "^imbill.invoice: peek_dau: unknown field" },
  { "invoice: no month", imbill.invoice, { edition = "pro" }, "^imbill.invoice: month: expected a month" },
  { "invoice: malformed month", imbill.invoice, inv { month = "2021-3" }, "^imbill.invoice: month: malformed month" },
  { "invoice: month 13", imbill.invoice, inv { month = "2021-13" }, "^imbill.invoice: month: no such month" },
  { "invoice: month as a number", imbill.invoice, inv { month = 202103 }, "^imbill.invoice: month: expected a month" },
  { "invoice: no edition", imbill.invoice, { month = "2021-03" }, "^imbill.invoice: edition: is required" },
  { "invoice: unknown edition", imbill.invoice, inv { edition = "gold" },
    "^imbill.invoice: edition: price book 2020 has no such edition.*got \"gold\"" },
  { "invoice: edition as a number", imbill.invoice, inv { edition = 1 }, "^imbill.invoice: edition: .*got 1" },
  { "invoice: unknown book", imbill.invoice, inv { book = "1999" }, "^imbill.invoice: book: unknown price book" },
  { "invoice: book as a boolean", imbill.invoice, inv { book = true }, "^imbill.invoice: book: expected a book name" },
  { "invoice: month before any book", imbill.invoice, { edition = "pro", month = "2019-01" },
    "^imbill.invoice: month: no price book" },
  { "invoice: negative peak", imbill.invoice, inv { peak_dau = -1 }, "^imbill.invoice: peak_dau: must not be negative" },
  { "invoice: float count", imbill.invoice, inv { peak_dau = 10000.5 },
    "^imbill.invoice: peak_dau: expected a whole number >= 0, got 10000.5" },
  { "invoice: NaN count", imbill.invoice, inv { groups_peak = 0 / 0 }, "^imbill.invoice: groups_peak: expected a whole number" },
  { "invoice: infinite count", imbill.invoice, inv { mau = math.huge }, "^imbill.invoice: mau: expected a whole number" },
  { "invoice: count as a string", imbill.invoice, inv { peak_dau = "5" },
    "^imbill.invoice: peak_dau: expected a whole number >= 0, got \"5\"" },
  { "invoice: huge peak", imbill.invoice, inv { peak_dau = HUGE }, "^imbill.invoice: peak_dau: " },
  { "invoice: huge groups", imbill.invoice, inv { groups_peak = HUGE }, "^imbill.invoice: groups_peak: " },
  { "invoice: huge MAU", imbill.invoice, { book = "2022", edition = "standard", month = "2023-03", mau = HUGE },
    "^imbill.invoice: mau: " },
  { "invoice: short series", imbill.invoice, inv { dau = { 1, 2, 3 } },
    "^imbill.invoice: dau: needs one value per day of the month %(31%), has 3" },
  { "invoice: long series", imbill.invoice, inv { month = "2021-02", groups = month31(1) },
    "^imbill.invoice: groups: needs one value per day of the month %(28%), has 31" },
  { "invoice: series not a table", imbill.invoice, inv { dau = 5 }, "^imbill.invoice: dau: expected a table" },
  { "invoice: float in a series", imbill.invoice, inv { dau = (function() local s = month31(1) s[31] = 0.5 return s end)() },
    "^imbill.invoice: dau%[31%]: expected a whole number" },
  { "invoice: malformed activation", imbill.invoice, inv { activated = "2021/03/10" },
    "^imbill.invoice: activated: malformed date" },
  { "invoice: activation after the month", imbill.invoice, inv { activated = "2021-04-10" },
    "^imbill.invoice: activated: is after the invoice month" },
  { "invoice: change not a table", imbill.invoice, inv { change = "flagship" }, "^imbill.invoice: change: expected a table" },
  { "invoice: change with a bad date", imbill.invoice, inv { change = { on = "2021-03-32", to = "flagship" } },
    "^imbill.invoice: change.on: no such date" },
  { "invoice: change with an unknown key", imbill.invoice, inv { change = { at = "2021-03-02", to = "flagship" } },
    "^imbill.invoice: change.at: unknown field" },
  { "invoice: unknown add-on", imbill.invoice, inv { addons = { "turbo" } },
    "^imbill.invoice: addons%[1%]: price book 2020 has no such add%-on" },
  { "invoice: add-ons not a table", imbill.invoice, inv { addons = "av_unlimited" },
    "^imbill.invoice: addons: expected a table" },
  { "invoice: add-on activation malformed", imbill.invoice, inv { addons = { { id = "av_unlimited", activated = "x" } } },
    "^imbill.invoice: addons%[1%].activated: malformed date" },
  -- an unknown key inside an argument is named by its path, the error's fn staying the function called
  { "invoice: add-on with an unknown key", imbill.invoice, inv { addons = { { id = "av_unlimited", on = "2021-03-01" } } },
    "^imbill.invoice: addons%[1%]%.on: unknown field %(known: activated, id%)" },
  { "invoice: covers with an unknown key", imbill.invoice, inv { covers = { from = "2021-03-01", too = "2021-03-02" } },
    "^imbill.invoice: covers%.too: unknown field" },
  { "totals: an inline book's unknown key keeps its place in the book", imbill.totals,
    { book = { base = "2020", name = "x", editions = { pro = { monthly_fe = "1" } } }, edition = "pro", peak_dau = 1 },
    "^imbill.totals: book: editions%.pro%.monthly_fe: unknown field" },
  { "book: unknown key in a charge", imbill.book, { base = "2020", editions = { pro = { dau = { prise = "1" } } } },
    "^imbill.book: editions%.pro%.dau%.prise: unknown field %(known: block, free, price%)" },
  { "breakeven: unknown key in usage is that, not an overflow", imbill.breakeven,
    { a = "2021/pro", b = "2021/ultimate", usage = { peak_dauu = 1 } },
    "^imbill.breakeven: usage%.peak_dauu: unknown field %(known: groups_peak, mau, peak_dau%)$" },
  { "grid: unknown key in a range", imbill.grid,
    { editions = { "2021/pro" }, growth = { "0%" }, start_dau = { from = 1000, to = 2000, stp = 100 }, months = 1 },
    "^imbill.grid: start_dau%.stp: unknown field" },
  { "invoice: unknown TRTC tier", imbill.invoice, inv { trtc = { video = 60 } }, "^imbill.invoice: trtc.video: unknown field" },
  { "invoice: negative TRTC seconds", imbill.invoice, inv { trtc = { hd = -60 } },
    "^imbill.invoice: trtc.hd: must not be negative" },
  { "invoice: float TRTC seconds", imbill.invoice, inv { trtc = { hd = 1.5 } },
    "^imbill.invoice: trtc.hd: expected a whole number" },
  { "invoice: huge TRTC seconds", imbill.invoice, inv { trtc = { ["4k"] = HUGE, free_minutes = 0 } }, "^imbill.invoice: trtc" },
  { "invoice: negative free minutes", imbill.invoice, inv { trtc = { free_minutes = -1 } },
    "^imbill.invoice: trtc.free_minutes: must not be negative" },

  -- imbill.compare
  { "compare: not a table", imbill.compare, nil, "^imbill.compare: argument: expected a table" },
  { "compare: malformed month", imbill.compare, { month = "March" }, "^imbill.compare: month: malformed month" },
  { "compare: unknown field", imbill.compare, { month = "2021-03", dau_peak = 1 }, "^imbill.compare: dau_peak: unknown field" },
  { "compare: unknown feature", imbill.compare, { month = "2021-03", needs = { "teleport" } },
    "^imbill.compare: needs%[1%]: unknown feature" },
  { "compare: needs not a table", imbill.compare, { month = "2021-03", needs = "push_all" },
    "^imbill.compare: needs: expected a table" },
  { "compare: unknown book", imbill.compare, { month = "2021-03", books = { "1999" } },
    "^imbill.compare: books%[1%]: unknown price book" },
  { "compare: unknown edition", imbill.compare, { month = "2021-03", editions = { "gold" } },
    "^imbill.compare: editions%[1%]: no edition of the chosen books has this id" },
  { "compare: negative accounts", imbill.compare, { month = "2021-03", accounts = -5 },
    "^imbill.compare: accounts: must not be negative" },
  { "compare: float AV rooms", imbill.compare, { month = "2021-03", av_groups = 1.5 },
    "^imbill.compare: av_groups: expected a whole number" },
  { "compare: negative peak", imbill.compare, { month = "2021-03", peak_dau = -5 },
    "^imbill.compare: peak_dau: must not be negative" },
  { "compare: short series", imbill.compare, { month = "2021-03", dau = { 1 } },
    "^imbill.compare: dau: needs one value per day" },

  -- imbill.breakeven
  { "breakeven: not a table", imbill.breakeven, 5, "^imbill.breakeven: argument: expected a table" },
  { "breakeven: unknown edition", imbill.breakeven, { a = "2021/pro", b = "2021/gold" },
    "^imbill.breakeven: b: price book 2021 has no such edition" },
  { "breakeven: unknown book", imbill.breakeven, { a = "1999/pro", b = "2021/pro" },
    "^imbill.breakeven: a: unknown price book" },
  { "breakeven: unknown metric", imbill.breakeven, { a = "2021/pro", b = "2021/ultimate", metric = "wau" },
    "^imbill.breakeven: metric: expected dau, mau or groups" },
  { "breakeven: float bound", imbill.breakeven, { a = "2021/pro", b = "2021/ultimate", from = 0.5 },
    "^imbill.breakeven: from: expected a whole number" },
  { "breakeven: negative bound", imbill.breakeven, { a = "2021/pro", b = "2021/ultimate", from = -1 },
    "^imbill.breakeven: from: must not be negative, got %-1" },
  { "breakeven: from above the default to", imbill.breakeven, { a = "2021/pro", b = "2021/ultimate", from = 2 ^ 40 },
    "^imbill.breakeven: from: is above the default upper bound 10,000,000; give to as well" },
  { "breakeven: to below from", imbill.breakeven, { a = "2021/pro", b = "2021/ultimate", from = 5, to = 3 },
    "^imbill.breakeven: to: is below from %(5%), got 3" },
  { "breakeven: huge bound", imbill.breakeven, { a = "2021/pro", b = "2021/ultimate", from = 2 ^ 60, to = 2 ^ 61 },
    "^imbill.breakeven: " },
  -- found by fuzzing: each refused with the field named
  { "invoice: month past 9999-08", imbill.invoice, { book = "2020", edition = "pro", month = "9999-09" },
    "^imbill.invoice: month: 9999%-09 is after 9999%-08, the last month whose due date and arrears fall" },
  { "compare: month past 9999-08", imbill.compare, { month = "9999-12" }, "^imbill.compare: month: 9999%-12 is after" },
  { "book: edition id not a string", imbill.book, { base = "2020", editions = { [true] = { monthly_fee = "1" } } },
    "^imbill.book: editions: edition ids are words of letters, digits, _ and %-, at most 63 bytes, got true" },
  { "totals: user book with a bad edition id", imbill.totals,
    { book = { base = "2020", editions = { [true] = {} } }, edition = "pro" },
    "^imbill.totals: book: editions: edition ids are words" },
  { "book: named fields in features", imbill.book,
    { base = "2020", editions = { pro = { features = { "push_all", extra = {} } } } },
    '^imbill.book: editions.pro.features: expected a list of feature names, not named fields, got "extra"' },
  { "book: unknown key in activation_month_free", imbill.book,
    { base = "2020", policy = { activation_month_free = { before = "2021-01-01", x = 1 } } },
    "^imbill.book: policy.activation_month_free.x: unknown field" },
  { "book: a free edition with a fee", imbill.book,
    { base = "2022", editions = { developer = { monthly_fee = "0.015" } } },
    "^imbill.book: editions.developer.monthly_fee: a free edition has no plan fee" },
  { "book: to not a date", imbill.book, { base = "2021", to = false },
    "^imbill.book: to: expected a date YYYY%-MM%-DD, got false" },
  { "book: from not a date", imbill.book, { base = "2021", from = 20210101 },
    "^imbill.book: from: expected a date YYYY%-MM%-DD, got 20210101" },
  { "compare: an edition that is not a string", imbill.compare, { month = "2021-03", editions = { 0 / 0 } },
    "^imbill.compare: editions%[1%]: expected an edition id or BOOK/EDITION" },
  { "book: an add-on's activation_month_free not a boolean", imbill.book,
    { base = "2020", addons = { x = { fee = { pro = "1" }, activation_month_free = {} } } },
    "^imbill.book: addons.x.activation_month_free: expected a boolean, got table" },
  -- imbill.best
  { "best: not a table", imbill.best, nil, "^imbill.best: rows: expected a table, got nil" },
  { "best: a string", imbill.best, "x", '^imbill.best: rows: expected a table, got "x"' },
  { "best: not a row", imbill.best, { 1 }, "^imbill.best: rows%[1%]: expected a row of imbill.compare, got 1" },
  { "best: a row without eligible", imbill.best, { {} },
    "^imbill.best: rows%[1%]: expected a row of imbill.compare: eligible is missing" },
  -- imbill.compare with huge numbers
  { "compare: huge DAU", imbill.compare, { month = "2021-03", peak_dau = 2 ^ 62 }, "^imbill.compare: peak_dau: " },
  { "compare: MAU 1e300", imbill.compare, { month = "2021-03", mau = 1e300 }, "^imbill.compare: mau: " },
  { "compare: infinite groups", imbill.compare, { month = "2021-03", groups_peak = math.huge },
    "^imbill.compare: groups_peak: " },
  { "breakeven: huge bound", imbill.breakeven, { a = "2022/standard", b = "2021/ultimate", metric = "mau",
    from = H.is_jit and 2 ^ 53 or math.maxinteger - 10, to = H.is_jit and 2 ^ 53 or math.maxinteger,
    usage = { peak_dau = 0 } },
    "^imbill.breakeven: to: " },

  -- a user book given inline is named by the field that holds it, and its
  -- error keeps the key inside the book that was wrong, in every function
  { "invoice: user book's name", imbill.invoice, { book = { base = "2020", name = "a/b" }, edition = "pro",
    month = "2021-03" }, '^imbill.invoice: book: name: expected 1 to 64 printable bytes without "/"' },
  { "totals: user book's fee", imbill.totals, { book = { base = "2020", editions = { pro = { monthly_fee = "-1" } } },
    edition = "pro", peak_dau = 1 }, '^imbill.totals: book: editions.pro.monthly_fee: must not be negative, got "%-1"' },
  { "compare: user book's fee", imbill.compare, { books = { { base = "2020", editions = { pro = { monthly_fee = "-1" } } } },
    month = "2021-03", peak_dau = 1 }, '^imbill.compare: books%[1%]: editions.pro.monthly_fee: must not be negative' },
  { "compare: unknown book", imbill.compare, { books = { "1999" }, month = "2021-03", peak_dau = 1 },
    '^imbill.compare: books%[1%]: unknown price book %(built%-in: 2020, 2021, 2022%), got "1999"' },
  { "breakeven: user book's fee", imbill.breakeven, { a = { book = { base = "2020", editions = { pro = { monthly_fee = "-1" } } },
    edition = "pro" }, b = "2020/pro" }, '^imbill.breakeven: a.book: editions.pro.monthly_fee: must not be negative' },
  { "meter: user book's unknown field", imbill.meter, { book = { base = "2020", prices = {} }, edition = "pro" },
    '^imbill.meter: book: prices: unknown field' },
  -- imbill.totals
  { "totals: not a table", imbill.totals, true, "^imbill.totals: argument: expected a table" },
  { "totals: unknown edition", imbill.totals, { book = "2020", edition = "gold" },
    "^imbill.totals: edition: price book 2020 has no such edition" },
  -- a missing edition is missing, not an edition named nil that does not exist
  { "totals: no edition", imbill.totals, { book = "2020" },
    "^imbill.totals: edition: is required %(one of: trial, pro, flagship%)$" },
  { "breakeven: no edition", imbill.breakeven, { a = { book = "2020" }, b = "2020/pro" },
    "^imbill.breakeven: a.edition: is required %(one of: trial, pro, flagship%)$" },
  { "totals: unknown book", imbill.totals, { book = "x", edition = "pro" }, "^imbill.totals: book: unknown price book" },
  { "totals: unequal arrays", imbill.totals, { book = "2020", edition = "pro", peak_dau = { 1, 2 }, groups_peak = { 1 } },
    "^imbill.totals: groups_peak: has 1 scenario where peak_dau has 2" },
  { "totals: float in an array", imbill.totals, { book = "2020", edition = "pro", peak_dau = { 1, 2.5 } },
    "^imbill.totals: peak_dau%[2%]: expected a whole number >= 0, got 2.5" },
  { "totals: string in an array", imbill.totals, { book = "2020", edition = "pro", groups_peak = { "1" } },
    '^imbill.totals: groups_peak%[1%]: expected a whole number >= 0, got "1"' },
  { "totals: negative number", imbill.totals, { book = "2020", edition = "pro", peak_dau = -1 },
    "^imbill.totals: peak_dau: must not be negative" },
  { "totals: wrong type", imbill.totals, { book = "2020", edition = "pro", mau = "many" },
    "^imbill.totals: mau: expected an array of whole numbers or a number" },
  { "totals: huge value", imbill.totals, { book = "2022", edition = "standard", mau = { HUGE } }, "^imbill.totals: " },
}

describe("bad input raises a clear error naming the field, never a crash", function()
  for _, c in ipairs(cases) do
    it(c[1], function()
      local msg = H.err(c[2], c[3])
      assert.matches(c[4], msg)
      -- the message is for a person: no file position of imbill's own code
      assert.is_nil(msg:match("%.lua:%d+:"), msg)
    end)
  end

  it("an unknown key inside an argument: fn is the function called, field the key's path", function()
    local ok, e = pcall(imbill.invoice, inv { change = { at = "2021-03-02", to = "flagship" } })
    assert.is_false(ok)
    assert.same({ "imbill.invoice", "change.at" }, { e.fn, e.field })
    ok, e = pcall(imbill.book, { base = "2020", policy = { return_to_fre = true } })
    assert.is_false(ok)
    assert.same({ "imbill.book", "policy.return_to_fre" }, { e.fn, e.field })
  end)

  describe("edition:supports and book methods", function()
    local book = imbill.book("2021")
    local ed = book:edition("ultimate")
    it("unknown feature", function()
      assert.matches("^edition:supports: feature: unknown feature .*got \"teleport\"", H.err(ed.supports, ed, "teleport"))
    end)
    it("feature of the wrong type", function()
      assert.matches("^edition:supports: feature: unknown feature .*got nil", H.err(ed.supports, ed, nil))
      assert.matches("got table", H.err(ed.supports, ed, {}))
    end)
    it("a method called with a dot instead of a colon", function()
      assert.equal("book:edition: self: expected a price book: call it as book:edition(...), got nil",
        H.err(book.edition, nil, "pro"))
      assert.matches("^book:editions: self: expected a price book", H.err(book.editions, "2021"))
      assert.matches("^book:addon: self: expected a price book", H.err(book.addon, {}))
      assert.matches("^edition:supports: self: expected an edition", H.err(ed.supports, "push_all"))
    end)
    it("unknown edition and add-on", function()
      assert.matches("^book:edition: edition: .*got \"gold\"", H.err(book.edition, book, "gold"))
      assert.matches("^book:addon: addon: .*got \"turbo\"", H.err(book.addon, book, "turbo"))
    end)
  end)
end)

describe("found by fuzzing: no hang, no undefined behaviour", function()
  it("prints a comparison with a very long cell (trimming is linear)", function()
    -- a book's name is at most 64 bytes now (imbill.book refuses longer ones);
    -- a row's reasons are as long as they come
    local rows = imbill.compare { books = { "2022", "2020" }, month = "2022-11", peak_dau = 1 }
    rows[1].eligible, rows[1].reasons = false, { string.rep("x", 50000) }
    local text = tostring(rows)
    assert.truthy(#text > 50000)
    for line in text:gmatch("[^\n]+") do assert.is_nil(line:match(" $"), "a line keeps trailing spaces") end
  end)
  it("refuses a count past the fast path's reach inside a chunk, with no overflow on the way", function()
    if H.is_jit then
      -- LuaJIT's numbers stop being exact first
      assert.matches("^imbill.totals: peak_dau%[1%]: .* is a float beyond 2%^53",
        H.err(imbill.totals, { book = "2021", edition = "pro", peak_dau = { 2 ^ 53 + 2 } }))
    else
      assert.equal("imbill.totals: peak_dau[1]: 9223372036854775807 gives a charge that does not fit in 64 bits",
        H.err(imbill.totals, { book = "2021", edition = "pro", peak_dau = { math.maxinteger } }))
    end
  end)
  it("money methods called with a dot, and -2^63 micro-units", function()
    local m = imbill.money("1")
    assert.equal("money:cents: self: expected money: call it as m:cents(...), got table", H.err(m.cents, {}))
    assert.matches("^money:format: self: expected money", H.err(m.format, "1"))
    if not H.is_jit then -- on LuaJIT, -2^63 is refused as an inexact number first
      assert.equal("imbill.money.from_micros: micros: -9223372036854775808 does not fit in 64 bits of micro-units",
        H.err(imbill.money.from_micros, math.mininteger))
    end
  end)

  it("show a number the same on both runtimes: whole numbers within 2^53 in full, NaN as nan", function()
    local E = require "imbill.internal.errors"
    assert.equal("999999999999999", E.show(999999999999999)) -- LuaJIT's tostring: 1e+15
    assert.equal("5", E.show(5.0)) -- Lua 5.4's tostring: 5.0
    assert.equal("9007199254740992", E.show(2 ^ 53))
    assert.equal("1.5", E.show(1.5))
    assert.equal("nan", E.show(0 / 0))
    assert.equal("inf", E.show(math.huge))
    assert.equal("imbill.cost_curve: to: the range has too many steps, got 999999999999999",
      H.err(imbill.cost_curve, { edition = "2021/pro", to = 999999999999999 }))
  end)

  -- A float past 2^53 is still a whole number, only no longer exact: a message
  -- names the value received, in full below 2^64 (at most 20 digits), and
  -- past that in the shortest form that reads back as the same float.
  -- %.14g named 2^53 + 2 as 9.007199254741e+15, a number the caller never gave.
  it("show a whole float past 2^53 by its own digits, never rounded to 14", function()
    local E = require "imbill.internal.errors"
    assert.equal("9007199254740994", E.show(2 ^ 53 + 2))
    assert.equal("1152921504606846976", E.show(2 ^ 60))
    assert.equal("-9223372036854775808", E.show(-2 ^ 63))
    assert.equal("18446744073709549568", E.show(2 ^ 64 - 2048)) -- the last float below 2^64
    assert.equal("1.8446744073709552e+19", E.show(2 ^ 64))
    assert.equal("1e+300", E.show(1e300))
    assert.equal("inf", E.show(math.huge))
    assert.equal("-inf", E.show(-math.huge))
    if math.type then assert.equal("9223372036854775807", E.show(math.maxinteger)) end
    -- the same in the messages the C binding writes (and, on LuaJIT, the FFI path)
    assert.equal("imbill.totals: peak_dau[1]: 9007199254740994 is a float beyond 2^53, which cannot be exact",
      H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = { 2 ^ 53 + 2 } , groups_peak = 0 }))
    assert.equal("imbill.column: values[1]: is a float beyond 2^53, which cannot be exact, got"
      .. " 9007199254740994",
      H.err(imbill.column, { 2 ^ 53 + 2 }))
    assert.equal("imbill.money: amount: 1152921504606846976 has more than 6 decimals or is too large to be exact;"
      .. " pass it as a string", H.err(imbill.money, 2 ^ 60))
    assert.equal("imbill.money: amount: amount 1e+300 does not fit in 64 bits of micro-units", H.err(imbill.money, 1e300))
    assert.equal("imbill.invoice: peak_dau: is too large to be exact (above 2^53), got 1e+300",
      H.err(imbill.invoice, { book = "2020", edition = "pro", month = "2021-03", peak_dau = 1e300 }))
  end)
end)
