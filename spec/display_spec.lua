-- Notebook display (issue 13): every imbill result as a MIME bundle, text and
-- HTML tables exact and escaped, charts in the form that survives nbconvert.
local H = require "helper"
local D = require "imbill.report.display"
local imbill = H.imbill

-- HTML fragments are written as well-formed XML, so xmllint finds a stray
-- "<" or "&" that escaping missed.
local function xml_ok(fragment)
  local path = os.tmpname()
  local f = io.open(path, "w")
  f:write("<root>", fragment, "</root>")
  f:close()
  local out = io.popen("xmllint --noout " .. path .. " 2>&1; echo rc=$?")
  local res = out:read("*a")
  out:close()
  os.remove(path)
  return res:match("rc=0") ~= nil, res
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function unbase64(s)
  local out, bits, n = {}, 0, 0
  for c in s:gmatch("[^=]") do
    bits = bits * 64 + (B64:find(c, 1, true) - 1)
    n = n + 6
    if n >= 8 then
      n = n - 8
      local byte = math.floor(bits / 2 ^ n)
      out[#out + 1] = string.char(byte)
      bits = bits - byte * 2 ^ n
    end
  end
  return table.concat(out)
end

local function plain(b) return b["text/plain"] end
local function html(b) return b["text/html"] end

local history = imbill.series.read_csv(H.top .. "/examples/data/usage_2021.csv")
local history22 = imbill.series.read_csv(H.top .. "/examples/data/usage_2022.csv")
local EVIL = "<b>&\"'x"

describe("display", function()
  it("invoice: its own text, and a table of codes, notes and exact amounts aligned right", function()
    local inv = imbill.invoice { book = "2021", edition = "pro", month = "2022-11",
                                 change = { on = "2022-11-21", to = "ultimate" }, peak_dau = 10001 }
    local b, kind = D.bundle(inv)
    assert.equal("invoice", kind)
    assert.equal(tostring(inv), plain(b))
    assert.is_nil(plain(b):find("\\n", 1, true))
    local h = html(b)
    assert.is_true(xml_ok(h))
    assert.matches('<table class="imbill%-table imbill%-invoice"', h)
    assert.matches("<code>plan_fee</code>", h)
    assert.matches("<code>dau_overage</code>", h)
    assert.matches(">peak DAU 10,001 over 10,000 free: 1 block of 10,000 x 449%.99<", h)
    assert.matches('<tr class="imbill%-total">.-<td align="right" class="imbill%-num"[^>]*>1,049%.98</td>', h)
    assert.matches('<td align="right" class="imbill%-num"[^>]*text%-align:right[^>]*>299%.99</td>', h)
    assert.matches("due 2022%-12%-03", h)
  end)

  it("escapes every user string: book names in notes, headings and tables", function()
    local book = imbill.book { base = "2022", name = EVIL, editions = { standard = { monthly_fee = "1.5" } } }
    local inv = imbill.invoice { book = book, edition = "standard", month = "2020-01", mau = 5 }
    for _, x in ipairs { inv, book, book:edition("standard"),
                         imbill.shadow { usage = history22, base = "2022", shadow = book, editions = { "standard" },
                                         months = 1 },
                         imbill.project { usage = history22, books = { book }, months = 1 },
                         { [EVIL] = EVIL, list = { { name = EVIL } } } } do
      local b = D.bundle(x)
      local ok, msg = xml_ok(html(b))
      assert.is_true(ok, msg)
      assert.is_nil(html(b):find(EVIL, 1, true))
      assert.truthy(html(b):find("&lt;b&gt;&amp;&quot;&#39;x", 1, true))
    end
  end)

  it("comparison: total, eligibility and readable reasons; the cheapest eligible row stands out", function()
    local rows = imbill.compare { month = "2023-03", mau = 25000, accounts = 30000, needs = { "read_receipts" },
                                  books = { "2022" } }
    local b, kind = D.bundle(rows)
    assert.equal("comparison", kind)
    assert.equal(tostring(rows), plain(b))
    local h = html(b)
    assert.is_true(xml_ok(h))
    assert.matches(">lacks read_receipts<", h)
    assert.matches(">MAU 25,000 over the free edition&#39;s 100; accounts 30,000 over the limit of 100<", h)
    assert.matches('<tr class="imbill%-best">.->premium<.->924%.00<.->yes %(cheapest%)<', h)
    local best, k2 = D.bundle(imbill.best(rows))
    assert.equal("compare_row", k2)
    assert.matches("premium%s+924%.00%s+yes", plain(best))
  end)

  it("break-even: every point, exact totals", function()
    local be = imbill.breakeven { a = "2022/standard", b = "2021/pro", metric = "mau", to = 20000,
                                  usage = { peak_dau = 0 } }
    local b, kind = D.bundle(be)
    assert.equal("breakeven", kind)
    assert.equal(tostring(be), plain(b))
    assert.is_true(xml_ok(html(b)))
    assert.matches(">13,400</td>.->2021/pro<.->450%.00<.->449%.99<", html(b))
    assert.matches("from 13,399 MAU on: both cost the same", html(b))
  end)

  it("break-even table: crossings and the cost-curve chart; chart = false leaves the chart out", function()
    local t = imbill.breakeven_table { editions = { "2021/pro", "2022/standard" }, to = 30000, follow = { mau = "3" } }
    local b, kind = D.bundle(t)
    assert.equal("breakeven_table", kind)
    assert.equal(tostring(t), plain(b))
    assert.is_true(xml_ok(html(b)))
    assert.matches(">4,467</td>", html(b))
    assert.matches('<img class="imbill%-chart%-img"', html(b))
    local nochart = D.bundle(t, { chart = false })
    assert.is_nil(html(nochart):find("<img", 1, true))
  end)

  it("cost curve: its points as a table, and its chart", function()
    local c = imbill.cost_curve { edition = "2022/standard", metric = "mau", to = 50000 }
    local b, kind = D.bundle(c)
    assert.equal("cost_curve", kind)
    assert.matches("Cost curve of 2022/standard by MAU, 0 .. 50,000", plain(b))
    assert.matches("10,001%s+399%.02%s+rises", plain(b))
    assert.is_true(xml_ok(html(b)))
    assert.matches('<img class="imbill%-chart%-img"', html(b))
  end)

  it("projection: editions by month, best, path, totals; cells that cannot serve are marked", function()
    -- book 2021 is in force from 2021-08-06
    local p = imbill.project { usage = history, books = { "2021" }, from = "2021-09", months = 3, current = "2021/pro" }
    local b, kind = D.bundle(p)
    assert.equal("projection", kind)
    assert.equal(tostring(p), plain(b))
    local h = html(b)
    assert.is_true(xml_ok(h))
    assert.matches('<tr class="imbill%-total">.->5,399%.88<', h)
    assert.matches('title="[^"]*over the free edition[^"]*"[^>]*>0%.00%*<', h)
    assert.matches("Cheapest single edition: 2021/pro, 5,399%.88 USD%.", h)
  end)

  it("migration: both plans by month, the saving, the verdict and the warning", function()
    local mig = imbill.migration { usage = history22, from = "2021/pro" }
    local b, kind = D.bundle(mig)
    assert.equal("migration", kind)
    assert.equal(tostring(mig), plain(b))
    local h = html(b)
    assert.is_true(xml_ok(h))
    -- the saving counts from 2022-12, the first month book 2022 is in force
    assert.matches('<tr class="imbill%-total">.->8,999%.80<.->8,571%.31<.->%+1,082%.59<', h)
    assert.matches("Best month to migrate: 2022%-12", h)
    assert.matches('<p class="imbill%-warning"[^>]*>Migration to the MAU plan cannot be undone', h)
  end)

  it("shadow: line by line and month by month, signed differences", function()
    local sh = imbill.shadow { usage = history, base = "2020", editions = { "pro" }, months = 2,
                               shadow = { base = "2020", name = "pro-129.99", editions = { pro = { monthly_fee = "129.99" } } } }
    local b, kind = D.bundle(sh)
    assert.equal("shadow", kind)
    assert.equal(tostring(sh), plain(b))
    assert.is_true(xml_ok(html(b)))
    assert.matches('<tr class="imbill%-total">.->pro<.->449%.97<.->409%.97<.->%-40%.00<', html(b))
  end)

  it("grid: per-edition summaries with wins, and the overall summary; by_edition and summary alone", function()
    local g = imbill.grid { editions = { "2021/pro", "2022/standard" }, growth = { "0%", "5%" },
                            start_dau = { 5000, 20000 }, months = 12, mau_per_dau = "3" }
    local b, kind = D.bundle(g)
    assert.equal("grid", kind)
    assert.equal(1, select(2, plain(b):gsub("^imbill grid: 2 editions", "")))
    assert.is_true(xml_ok(html(b)))
    assert.matches(">all editions<", html(b))
    local wins = 0
    for _, w in ipairs(g:wins()) do wins = wins + w.wins end
    assert.equal(4, wins)
    local be, k2 = D.bundle(g:by_edition())
    assert.equal("grid_editions", k2)
    assert.matches("2022/standard", plain(be))
    local s, k3 = D.bundle(g:summary())
    assert.equal("grid_summary", k3)
    assert.matches("cheapest scenario: ", plain(s))
    assert.matches(">" .. imbill.money.pretty(g:summary().min):gsub("%p", "%%%0") .. "<", html(s))
  end)

  it("series, books and editions", function()
    local s, k1 = D.bundle(history)
    assert.equal("series", k1)
    assert.matches("2021%-12%s+31%s+22,953", plain(s))
    local bk, k2 = D.bundle(imbill.book("2022"))
    assert.equal("book", k2)
    assert.matches("standard%s+399%.00%s+no%s+%-%s+%-%s+over 10,000: 0%.015 each", plain(bk))
    local ed, k3 = D.bundle(imbill.book("2021"):edition("pro"))
    assert.equal("edition", k3)
    assert.is_true(xml_ok(html(ed)))
  end)

  it("charts: the SVG itself, and an <img> whose data URI decodes to the same SVG", function()
    local p = imbill.project { usage = history, books = { "2021" }, months = 2 }
    -- a chart's file text is a string: a chart only when the cell says so (display.svg)
    for _, doc in ipairs { imbill.chart.projection_bars(p), imbill.chart.path_timeline(p),
                           D.svg(imbill.chart.projection_bars(p):file()) } do
      local b, kind = D.bundle(doc)
      assert.equal(getmetatable(doc) == getmetatable(D.svg("")) and "raw" or "chart", kind)
      local svg = b["image/svg+xml"]
      assert.matches("^<svg xmlns=", svg)
      assert.is_true(xml_ok(html(b)))
      local data = html(b):match('src="data:image/svg%+xml;base64,([%w%+/=]+)"')
      assert.is_not_nil(data)
      assert.equal(svg, unbase64(data))
      assert.matches("^imbill chart: ", plain(b))
    end
  end)

  it("data never becomes markup: a string shaped like SVG or HTML is text, a table that looks like a chart is a table",
    function()
    -- a user id or a CSV cell "<svg onload=...>...</svg>" was published as image/svg+xml
    local evil = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
    for _, s in ipairs { evil, "  " .. evil .. "\n", '<?xml version="1.0"?>\n' .. evil, "<script>alert(3)</script>",
                         "<b>bold</b>" } do
      local b, kind = D.bundle(s)
      assert.equal("text", kind)
      assert.same({ ["text/plain"] = s }, b)
    end
    -- an object shaped like a chart document, which is not one
    local fake = { parts = {}, width = 10, height = 10, file = function() return evil end }
    setmetatable(fake, { __tostring = function() return evil end })
    local fb, fk = D.bundle(fake)
    assert.equal("table", fk)
    assert.is_nil(fb["image/svg+xml"])
    assert.is_nil((fb["text/html"] or ""):find("<svg", 1, true))
    -- the same string inside a list, a record or a key is escaped text
    local lb = D.bundle { evil, { id = evil, [evil] = 1 } }
    assert.is_nil(lb["image/svg+xml"])
    assert.is_nil(lb["text/html"]:find("<svg", 1, true))
    assert.is_nil(lb["text/html"]:find("<script", 1, true))
    assert.is_true(xml_ok(lb["text/html"]))
  end)

  it("every rich output escapes the data it shows: table cells, column names, edition names, notes", function()
    local bad = '<script>alert("x")</script>&'
    -- records whose cells and column names are markup, and cells that are
    -- tables shaped like display's own { html = } cells
    local recs = { { [bad] = bad, plain = { html = bad }, n = 1 }, { [bad] = "b", plain = { html = "<i>" }, n = 2 } }
    local b = D.bundle(recs)
    assert.is_nil(b["text/html"]:find("<script", 1, true))
    assert.is_nil(b["text/html"]:find("<i>", 1, true))
    assert.is_true(xml_ok(b["text/html"]))
    local cols = D.bundle(recs, { columns = { bad, "plain" } })
    assert.is_nil(cols["text/html"]:find("<script", 1, true))
    assert.is_true(xml_ok(cols["text/html"]))
    -- table_html: only display's own cells carry markup
    local t = D.table_html("x", { bad }, { { { html = bad } }, { D.cell { html = "<b>ok</b>" } } })
    assert.is_nil(t:find("<script", 1, true))
    assert.truthy(t:find("<b>ok</b>", 1, true))
    -- a break-even shaped table from data (a JSON file): its points' cells are text
    local be = { a = "x", b = "y", metric = "dau", from = 0, to = 10,
                 points = { { at = 1, cheaper = { html = bad }, a_total = "1", b_total = "2" } } }
    local bb = D.bundle(be)
    assert.is_nil((bb["text/html"] or ""):find("<script", 1, true))
    -- a user's price book named with markup (no "/": a name may not hold one), through every result that names it
    local evil = "<img src=x onerror=alert(1)>&'\""
    local book = imbill.book { base = "2021", name = evil, editions = { pro = { monthly_fee = "9.99" } } }
    local usage = imbill.series.build { from = "2022-01", months = 2, dau = 5000 }
    local outputs = {
      D.bundle(imbill.compare { month = "2022-01", peak_dau = 5000, books = { book } }),
      D.bundle(imbill.project { usage = usage, books = { book } }),
      D.bundle(book),
      D.bundle(imbill.invoice { book = book, edition = "pro", month = "2022-01", peak_dau = 5000 }),
      D.bundle(imbill.breakeven_table { editions = { book:edition("pro"), "2021/ultimate" }, to = 30000 }),
      (D.bundle(imbill.grid { editions = { book:edition("pro") }, start_dau = { 100, 20000 }, months = 2 })),
    }
    for i, o in ipairs(outputs) do
      assert.is_nil(o["text/html"]:find("<img src", 1, true), i)
      assert.is_true(xml_ok(o["text/html"]), i)
    end
  end)

  it("base64 and amounts", function()
    for raw, enc in pairs { [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==", fooba = "Zm9vYmE=",
                            foobar = "Zm9vYmFy" } do
      assert.equal(enc, D.base64(raw))
    end
    local all = {}
    for i = 0, 255 do all[#all + 1] = string.char(i) end
    assert.equal(table.concat(all), unbase64(D.base64(table.concat(all))))
    assert.equal("1,234,567.015", D.amount("1234567.015"))
    assert.equal("-1,000.00", D.amount(imbill.money("-1000")))
    assert.equal("0.015", D.amount(imbill.money("0.015")))
    assert.equal("25,000", D.count(25000))
  end)

  it("plain tables: records as columns, maps as keys and values, nesting, cycles", function()
    local recs = { { month = "2021-01", total = imbill.money("12.5"), n = 3 },
                   { month = "2021-02", total = imbill.money("1000"), n = 4 } }
    local b, kind = D.bundle(recs)
    assert.equal("table", kind)
    assert.equal("month    n  total\n2021-01  3  12.50\n2021-02  4  1,000.00", plain(b))
    assert.matches('<td align="right" class="imbill%-num"[^>]*>1,000%.00</td>', html(b))
    local cols = D.bundle(recs, { columns = { "total", "month" } })
    assert.matches("^total%s+month\n12%.50", plain(cols))
    local t = { a = 1, b = { 1, 2, 3 }, c = "x\ny", d = { e = { f = true } } }
    t.self = t
    local m = D.bundle(t)
    assert.is_true(xml_ok(html(m)))
    assert.matches('c = "x\\ny"', plain(m))
    assert.matches("self = <cycle>", plain(m))
    assert.matches("b = { 1, 2, 3 }", plain(m))
    assert.equal("{}", plain(D.bundle({})))
    assert.equal("line1\nline2", plain(D.bundle("line1\nline2")))
    assert.is_nil(html(D.bundle("a string")))
    assert.equal("42", plain(D.bundle(42)))
    assert.equal("1.50", plain(D.bundle(imbill.money("1.5"))))
  end)

  it("a table of a million entries shows its first 500 and how many more, in text and in HTML", function()
    -- its text was the whole table: ten megabytes kept in the notebook file
    local list, map = {}, {}
    for i = 1, 1000000 do list[i] = i end
    for i = 1, 100000 do map[string.format("k%06d", i)] = i end
    local b = D.bundle(list)
    assert.is_true(#plain(b) < 5000, #plain(b))
    assert.matches("^{\n  1,\n  2,\n", plain(b))
    assert.matches("  500,\n  %.%.%. 999500 more,\n}$", plain(b))
    assert.matches("%.%.%. 999500 more rows", html(b))
    local m = D.bundle(map)
    assert.is_true(#plain(m) < 20000, #plain(m))
    assert.matches("^{\n  k000001 = 1,\n", plain(m))
    assert.matches("k000500 = 500,\n  %.%.%. 99500 more,\n}$", plain(m))
    assert.is_true(xml_ok(html(m)))
    assert.matches("%.%.%. 99500 more rows", html(m))
    -- 500 entries exactly: all of them, nothing said about more
    local five = {}
    for i = 1, 500 do five[i] = { i } end
    assert.is_nil(plain(D.bundle({ x = five })):find("more", 1, true))
  end)

  it("a whole number is shown with every digit, where Lua would write an exponent", function()
    -- LuaJIT writes 14 significant digits: 123456789012345 read
    -- 1.2345678901235e+14, which is 123456789012350
    assert.equal("123456789012345", plain(D.bundle(123456789012345)))
    assert.equal("9007199254740992", plain(D.bundle(2 ^ 53)))
    assert.equal("-450000015000000", plain(D.bundle(-450000015000000)))
    assert.equal("{ [100000000000001] = 1, a = 123456789012345 }",
      plain(D.bundle({ a = 123456789012345, [100000000000001] = 1 })))
    assert.matches("<td[^>]*>123456789012345</td>", html(D.bundle({ { id = 1, n = 123456789012345 } })))
    -- the rest in the fewest digits that read back as it: fractions, small numbers, the very large and the special
    assert.equal("0.1", plain(D.bundle(0.1)))
    assert.equal("42", plain(D.bundle(42)))
    assert.equal(tostring(1e300), plain(D.bundle(1e300)))
    assert.equal(tostring(1 / 0), plain(D.bundle(1 / 0)))
    -- a fraction in the digits that read back as it (tostring's 1.5e+15 is another number)
    assert.equal("1500000000000000.5", plain(D.bundle(1.5e15 + 0.5)))
  end)

  it("a table of keys shows its 500 smallest keys in order, without sorting them all", function()
    -- every key was sorted to show 500: two million keys took 2.6 s in a C
    -- sort that no interrupt reaches (twice: the text and the HTML)
    local big = {}
    for i = 2000000, 1, -1 do big["k" .. i] = i end
    local keys = {}
    for k in pairs(big) do keys[#keys + 1] = k end
    local t0 = os.clock()
    table.sort(keys)
    local one_sort = os.clock() - t0
    t0 = os.clock()
    local b = D.bundle(big)
    local spent = os.clock() - t0
    assert.matches("^{\n  k1 = 1,\n  k10 = 10,\n  k100 = 100,\n  k1000 = 1000,\n", plain(b))
    assert.matches("  k1000445 = 1000445,\n  %.%.%. 1999500 more,\n}$", plain(b))
    assert.matches("%.%.%. 1999500 more rows", html(b))
    -- less than sorting them once: the machine's speed is measured, not assumed
    assert.is_true(spent < one_sort, spent .. " s against " .. one_sort .. " s for one sort")
    -- keys of several types: numbers first, then the others by their text,
    -- the same order whether the table has 500 keys or more
    local mixed, few = {}, {}
    for i = 1, 600 do mixed[i + 0.5] = i end
    mixed.z, mixed.a, mixed[true] = 1, 2, 3
    for i = 1, 497 do few[i + 0.5] = i end
    few.z, few.a, few[true] = 1, 2, 3
    assert.matches("^{\n  %[1%.5%] = 1,\n  %[2%.5%] = 2,\n", plain(D.bundle(mixed)))
    assert.matches("  %[500%.5%] = 500,\n  %.%.%. 103 more,\n}$", plain(D.bundle(mixed)))
    assert.matches("  %[497%.5%] = 497,\n  a = 2,\n  %[true%] = 3,\n  z = 1,\n}$", plain(D.bundle(few)))
    -- whatever order the keys were put in: a boolean and a string were taken
    -- as equal, and true came before or after "a" by the hash's order
    for _, order in ipairs { { true, "z", "a", "true", 2 }, { "a", 2, "true", true, "z" }, { "z", "true", true, 2, "a" } } do
      local t = {}
      for i, k in ipairs(order) do t[k] = i end
      assert.matches("^{ %[2%] = %d, a = %d, %[true%] = %d, true = %d, z = %d }$", plain(D.bundle(t)))
    end
  end)

  it("a list of results shows each result", function()
    local a = imbill.invoice { book = "2021", edition = "pro", month = "2021-03", peak_dau = 25000 }
    local c = imbill.invoice { book = "2020", edition = "pro", month = "2021-03", peak_dau = 25000 }
    local b = D.bundle { a, c }
    assert.equal(tostring(a) .. "\n\n" .. tostring(c), plain(b))
    assert.equal(2, select(2, html(b):gsub('class="imbill imbill%-invoice"', "")))
  end)

  it("raw HTML, Markdown, text and SVG", function()
    local h = D.bundle(D.html("<p>a &amp; b<br>c</p>"))
    assert.equal("<p>a &amp; b<br>c</p>", html(h))
    assert.equal("a & b\nc\n", plain(h))
    local md = D.bundle(D.markdown("**x**"))
    assert.equal("**x**", md["text/markdown"])
    assert.is_nil(html(D.bundle(D.text("<b>"))))
    local s = D.bundle(D.svg('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="5"></svg>'))
    assert.matches('width="10" height="5"', html(s))
  end)
end)
