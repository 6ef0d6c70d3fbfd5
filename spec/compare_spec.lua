local H = require "helper"
local imbill = H.imbill

local function row(rows, book, edition)
  for _, r in ipairs(rows) do
    if r.book == book and r.edition == edition then return r end
  end
  return nil
end

local function has_reason(r, pattern)
  for _, x in ipairs(r.reasons) do
    if x:match(pattern) then return true end
  end
  return false
end

describe("compare", function()
  local rows = imbill.compare { month = "2021-03", peak_dau = 25000, groups_peak = 250000, needs = { "read_receipts" } }

  it("prices every edition of every built-in book by default", function()
    assert.equal(9, #rows)
    assert.equal("749.95", tostring(row(rows, "2020", "pro").total))
    assert.equal("1049.95", tostring(row(rows, "2020", "flagship").total))
    assert.equal("2249.95", tostring(row(rows, "2021", "pro").total))
    assert.equal("2699.95", tostring(row(rows, "2021", "ultimate").total))
  end)

  it("ranks rows by total, the rows it cannot price last", function()
    -- the usage gives no MAU: book 2022's editions are left unpriced
    local priced = 0
    for i, r in ipairs(rows) do
      if r.priced then
        priced = priced + 1
        assert.equal(priced, i)
        if i > 1 then assert.is_true(rows[i - 1].total <= r.total) end
      else
        assert.is_nil(r.total)
        assert.equal("2022", r.book)
      end
    end
    assert.equal(6, priced)
  end)

  it("marks editions lacking a needed feature", function()
    local r = row(rows, "2020", "flagship")
    assert.is_false(r.eligible)
    assert.is_true(has_reason(r, "^lacks read_receipts$"))
  end)

  it("marks a free edition whose quotas the usage exceeds", function()
    local r = row(rows, "2020", "trial")
    assert.is_false(r.eligible)
    assert.is_true(has_reason(r, "peak DAU 25,000 over the free edition's 100"))
    assert.is_true(has_reason(r, "groups 250,000 over the free edition's cap"))
  end)

  it("marks books that were not sold to new apps that month", function()
    assert.is_true(has_reason(row(rows, "2021", "ultimate"), "price book 2021 starts 2021%-08%-06"))
    local later = imbill.compare { month = "2023-03", mau = 20000 }
    assert.is_true(has_reason(row(later, "2020", "pro"), "price book 2020 was sold to new apps until 2021%-08%-05"))
  end)

  it("marks an edition when the usage lacks the metric its book bills", function()
    assert.is_true(has_reason(row(rows, "2022", "premium"), "the usage gives no MAU"))
  end)

  it("refuses a MAU ratio below 1, naming mau_per_dau, as imbill.grid and a series' mau_ratio do", function()
    -- it raised "imbill.compare: ratio_ppm: must be at least 1, got 0", a field the caller never gave;
    -- a month's active users include every user of its busiest day, so MAU is at least the peak DAU
    for _, r in ipairs { 0, "0", "0%", "0.000000", "0.000001", "0.5" } do
      local msg = H.err(imbill.compare, { month = "2023-03", peak_dau = 50000, books = { "2022" }, mau_per_dau = r })
      assert.truthy(msg:find("^imbill.compare: mau_per_dau: must be at least 1"), msg)
    end
    -- the least ratio taken: 1, MAU = the peak DAU
    local one = imbill.compare { month = "2023-03", peak_dau = 50000, books = { "2022" }, mau_per_dau = "1" }
    assert.equal("MAU = round_half_up(1 x peak DAU 50,000) = 50,000", one.assumptions[1])
    assert.equal('imbill.compare: mau_per_dau: must not be negative, got "-1"',
      H.err(imbill.compare, { month = "2023-03", peak_dau = 1, mau_per_dau = "-1" }))
  end)

  it("names mau_per_dau when the MAU it gives does not fit in 64 bits", function()
    -- it was "imbill.compare: x: ... followed by 1000000000000 ppm does not fit", the core's own operands;
    -- 1,000,000 x 9,223,372,036,854 fits (2021 prices it; the 2022 lines would not fit), one DAU more does not
    -- (on LuaJIT the bound is 2^53, where its numbers stop being exact: 9,007,199,254 x 1,000,000 fits)
    local over, fits = { 9223372036855, "9,223,372,036,855", "64 bits hold" },
      { 9223372036854, "9,223,372,036,854", "9,223,372,036,854,000,000" }
    if H.is_jit then
      over, fits = { 9007199255, "9,007,199,255", "this runtime holds exactly (2^53)" },
        { 9007199254, "9,007,199,254", "9,007,199,254,000,000" }
    end
    assert.equal("imbill.compare: mau_per_dau: 1000000 x peak DAU " .. over[2] .. " gives more MAU than " .. over[3]
      .. ', got "1000000"', H.err(imbill.compare, { month = "2023-03", peak_dau = over[1], mau_per_dau = "1000000" }))
    local big = imbill.compare { month = "2023-03", peak_dau = fits[1], mau_per_dau = "1000000", books = { "2021" } }
    assert.equal("MAU = round_half_up(1000000 x peak DAU " .. fits[2] .. ") = " .. fits[3], big.assumptions[1])
  end)

  it("marks accounts over 100, AV rooms over the cap and members per group over the limit", function()
    local r = imbill.compare { month = "2021-03", peak_dau = 5000, accounts = 500, av_groups = 60,
                               members_per_group = 300, books = { "2020" } }
    local trial, pro, flag = row(r, "2020", "trial"), row(r, "2020", "pro"), row(r, "2020", "flagship")
    assert.is_true(has_reason(trial, "accounts 500 over the limit of 100"))
    assert.is_true(has_reason(pro, "av groups 60 over the limit of 50"))
    assert.is_true(has_reason(pro, "members per group 300 over the limit of 200"))
    assert.is_true(flag.eligible)
    assert.same({}, flag.reasons)
    assert.equal(flag, imbill.best(r))
  end)

  it("lets the caller choose books (including user books) and editions", function()
    local wi = imbill.book { base = "2020", name = "what-if", editions = { pro = { monthly_fee = "129.99" } } }
    local r = imbill.compare { month = "2021-03", peak_dau = 5000, books = { "2020", wi }, editions = { "pro" } }
    assert.equal(2, #r)
    assert.equal("what-if", r[1].book)
    assert.equal("129.99", tostring(r[1].total))
    assert.equal("149.99", tostring(r[2].total))
    local r2 = imbill.compare { month = "2021-03", peak_dau = 5000, editions = { "2021/ultimate" }, books = { "2021" } }
    assert.equal(1, #r2)
  end)

  it("takes daily series as the invoice does", function()
    local dau = {}
    for d = 1, 31 do dau[d] = d == 5 and 25000 or 100 end
    local r = imbill.compare { month = "2021-03", dau = dau, books = { "2020" }, editions = { "pro" } }
    assert.equal("449.97", tostring(r[1].total))
  end)

  -- A comparison prices one usage on many editions: when one of them cannot
  -- price it (a user book whose prices overflow 64 bits), the error says
  -- which; an error of the usage itself is said once, naming no edition.
  it("names the edition that cannot price the usage, and none for an error of the usage", function()
    local big = imbill.book { base = "2020", name = "big",
                              editions = { flagship = { dau = { price = "9223372036854.775807", block = 1, free = 0 } } } }
    assert.equal("imbill.compare: peak_dau: on big/flagship, 10001 gives a charge that does not fit in 64 bits",
      H.err(imbill.compare, { books = { big }, month = "2021-03", peak_dau = 10001 }))
    assert.equal("imbill.compare: dau: needs one value per day of the month (31), has 2",
      H.err(imbill.compare, { books = { "2020" }, month = "2021-03", dau = { 1, 2 } }))
    assert.equal("imbill.compare: dau: give peak_dau or dau, not both",
      H.err(imbill.compare, { books = { "2020" }, month = "2021-03", peak_dau = 1, dau = {} }))
    assert.matches("^imbill.compare: covers.from: is not in the invoice month 2021%-03",
      H.err(imbill.compare, { books = { "2020" }, month = "2021-03", peak_dau = 1,
                              covers = { from = "2021-04-01", to = "2021-04-02" } }))
  end)

  it("refuses a book listed twice, which would list its editions twice", function()
    assert.equal('imbill.compare: books[2]: price book 2020 is listed twice (also books[1]), got "2020"',
      H.err(imbill.compare, { month = "2021-03", peak_dau = 1, books = { "2020", "2020" } }))
    assert.equal('imbill.project: books[3]: price book 2021 is listed twice (also books[1]), got "2021"',
      H.err(imbill.project, { usage = imbill.series.build { from = "2021-01-01", to = "2021-01-31",
        dau = imbill.series.constant(5), groups = imbill.series.constant(0) }, books = { "2021", "2020", "2021" } }))
  end)

  it("refuses an empty list of books, which would answer with no row (books = { a_nil_variable } is one)", function()
    assert.equal("imbill.compare: books: needs at least one price book",
      H.err(imbill.compare, { month = "2021-03", peak_dau = 100, books = {} }))
    local unset = rawget(_G, "a_variable_never_set")
    assert.equal("imbill.compare: books: needs at least one price book",
      H.err(imbill.compare, { month = "2021-03", peak_dau = 100, books = { unset } }))
  end)

  it("best() of its reference example (the doc comment's @usage) is 2020/flagship", function()
    -- in 2021-03 only book 2020 is sold, and only its flagship has local_search;
    -- read_receipts came with book 2021, so with it no row is eligible and best() is nil
    local r = imbill.compare { month = "2021-03", peak_dau = 25000, groups_peak = 250000, needs = { "local_search" } }
    assert.equal("2020/flagship", imbill.best(r).book .. "/" .. imbill.best(r).edition)
    assert.is_nil(imbill.best(rows))
  end)

  it("best() is the first eligible row, or nil", function()
    local r = imbill.compare { month = "2021-03", peak_dau = 25000, needs = { "community" }, books = { "2020" } }
    assert.is_nil(imbill.best(r))
  end)

  it("prints a ranked table and gives plain data", function()
    local s = tostring(rows)
    assert.matches("^#  book  edition +total  eligible  why not\n", s)
    local d = rows:data()
    assert.equal(#rows, #d)
    assert.equal(tostring(rows[1].total), d[1].total)
    assert.is_number(d[1].total_cents)
    assert.is_boolean(d[1].eligible)
  end)
end)
