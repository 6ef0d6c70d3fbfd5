-- Charts (issues 4 and 13): SVG written by imbill itself parses as XML and
-- carries labelled axes, money ticks, a legend and the break-even labels; on
-- every kind of chart and a range of inputs (few and many editions, narrow and
-- wide ranges, long names, one point, huge amounts, narrow and wide canvases)
-- no label overprints another label, a marker or a line, nothing leaves the
-- canvas, each axis keeps one number format, every mark has a hover title, and
-- an edition has the same colour in every chart.
local H = require "helper"
local G = require "svg_geom"
local svg = require "imbill.report.svg"
local colors = require "imbill.report.colors"

local imbill = H.imbill
local S = imbill.series

local function xml_ok(text)
  local path = os.tmpname()
  local f = io.open(path, "w")
  f:write(text)
  f:close()
  local out = io.popen("xmllint --noout " .. path .. " 2>&1; echo rc=$?")
  local res = out:read("*a")
  out:close()
  os.remove(path)
  return res:match("rc=0") ~= nil, res
end

local WIDTHS = { 320, 420, 960, 1600 }

-- Fails with every problem listed, naming the case.
local function assert_clear(name, text)
  local problems = G.problems(text)
  if #problems > 0 then
    local shown = {}
    for i = 1, math.min(12, #problems) do shown[i] = "  " .. problems[i] end
    error(string.format("%s: %d layout problems:\n%s", name, #problems, table.concat(shown, "\n")), 0)
  end
end

-- The shape of a tick label: digits as 9, thousands commas dropped.
local function shape(s) return (s:gsub(",", ""):gsub("%d+", "9")) end

-- Each axis writes its ticks in one format (zero may stand alone as "0").
local function assert_axis_formats(name, text)
  local axes = { y = {}, x = {} }
  for _, el in ipairs(G.parse(text).els) do
    if el.tag == "text" and el.a.class == "tick-label" then
      local axis = el.a["text-anchor"] == "end" and "y" or "x"
      local s = el.text
      if s ~= "0" and s ~= "$0" then axes[axis][shape(s)] = s end
    end
  end
  for axis, shapes in pairs(axes) do
    local list = {}
    for k, v in pairs(shapes) do list[#list + 1] = k .. " (" .. v .. ")" end
    table.sort(list)
    -- month names are one shape too (9-9)
    assert(#list <= 1, name .. ": the " .. axis .. " axis mixes number formats: " .. table.concat(list, ", "))
  end
end

-- Every mark (point, bar, line, month band, cap end) carries a <title>.
local MARKS = { breakeven = true, curve = true, ["curve-point"] = true, bar = true, ["path-dot"] = true,
                ["path-month"] = true, cap = true, change = true }
local function assert_titles(name, text)
  local doc = G.parse(text)
  local titled = {}
  for _, el in ipairs(doc.els) do
    if el.tag == "title" and el.parent then titled[el.parent] = el.text or "" end
  end
  local n = 0
  for _, el in ipairs(doc.els) do
    if MARKS[el.a.class] then
      n = n + 1
      assert(titled[el] and titled[el] ~= "", name .. ": a " .. el.tag .. " of class " .. el.a.class .. " has no title")
    end
  end
  return n
end

local function check_all(name, text)
  assert_clear(name, text)
  assert_axis_formats(name, text)
  assert_titles(name, text)
end

local function all_builtin()
  local out = {}
  for _, b in ipairs { "2020", "2021", "2022" } do
    for _, e in ipairs(imbill.book(b):editions()) do out[#out + 1] = b .. "/" .. e end
  end
  return out
end

-- at the 64-byte bound on book names, far wider than any label room
local LONG = "A what-if price book with a long name for the planning reviews"

local function tables()
  local long = imbill.book { base = "2021", name = LONG, editions = { pro = { monthly_fee = "399.99" } } }
  return {
    three = imbill.breakeven_table { editions = { "2021/pro", "2021/ultimate", "2022/standard" },
                                     follow = { mau = "3" }, to = 60000 },
    two_narrow = imbill.breakeven_table { editions = { "2021/pro", "2022/standard" }, follow = { mau = "3" },
                                          from = 4400, to = 4500 },
    all_nine = imbill.breakeven_table { editions = all_builtin(), follow = { mau = "3" }, to = 100000 },
    wide = imbill.breakeven_table { editions = { "2021/pro", "2020/pro" }, to = 10000000 },
    one_point = imbill.breakeven_table { editions = { "2022/standard", "2021/pro" }, follow = { mau = "3" },
                                         from = 5000, to = 5000 },
    huge_range = imbill.breakeven_table { editions = { "2022/standard", "2022/premium" }, metric = "mau",
                                          to = 2 ^ 40 },
    huge_amounts = imbill.breakeven_table { editions = { "2021/pro", "2021/ultimate" }, to = 50000,
                                            usage = { groups_peak = 1000000000000 } },
    long_names = imbill.breakeven_table { editions = { "2021/pro", { book = long, edition = "pro" }, "2021/ultimate" },
                                          to = 60000 },
  }
end

local function projections()
  local long = imbill.book { base = "2021", name = LONG, editions = { pro = { monthly_fee = "399.99" },
                                                                      ultimate = { monthly_fee = "799.99" } } }
  return {
    year = imbill.project { usage = S.read_csv(H.top .. "/examples/data/usage_2021.csv") },
    one_month = imbill.project { usage = S.build { from = "2022-10", months = 1, dau = 25000, groups = 150000,
                                                   mau = 60000 }, books = { "2021", "2022" } },
    three_years = imbill.project { usage = S.build { from = "2021-01", months = 36,
      dau = S.compound { start = 3000, rate = "8%" }, groups = S.linear { start = 20000, per_day = 300 },
      mau_ratio = "3" } },
    long_names = imbill.project { usage = S.build { from = "2022-01", months = 6, dau = S.linear { start = 8000,
      per_month = 4000 }, groups = 90000, mau_ratio = "3" }, books = { long, "2021" } },
    huge = imbill.project { usage = S.build { from = "2022-01", months = 3, dau = 1000000000, groups = 1000000000,
                                              mau_ratio = "3" }, books = { "2021" } },
    few = imbill.project { usage = S.build { from = "2022-01", months = 4, dau = 12000, groups = 90000 },
                           books = { "2021" }, editions = { "2021/pro", "2021/ultimate" } },
  }
end

describe("charts", function()
  local bt = imbill.breakeven_table { editions = { "2021/pro", "2021/ultimate", "2022/standard" },
                                      follow = { mau = "3" }, to = 60000 }
  -- from 2023-01: book 2022 is in force and book 2021 no longer sold to new apps
  local proj = imbill.project { usage = S.build { from = "2023-01", months = 4, dau = 25000, groups = 150000,
                                                  mau = 60000 }, books = { "2021", "2022" } }

  it("cost curves: valid XML with axes, money ticks, a legend and labelled break-even points", function()
    local text = imbill.chart.cost_curves(bt):file()
    local ok, msg = xml_ok(text)
    assert.is_true(ok, msg)
    assert.matches('<svg xmlns="http://www.w3.org/2000/svg" width="960" height="540"', text)
    assert.matches(">USD per month</text>", text)
    assert.matches(">peak DAU %(users a day", text)
    assert.matches(">%$1,000</text>", text)
    assert.matches(">2021/ultimate</text>", text)
    assert.matches('class="breakeven%-label"[^>]*>4,467 DAU</text>', text)
    assert.matches(">2021/pro 449%.99 / 2022/standard 450%.02</text>", text)
    local marks = G.count(text, "circle", "breakeven")
    local crossings = 0
    for _, pr in ipairs(bt.pairs) do crossings = crossings + #pr.crossings end
    assert.equal(crossings, marks)
  end)

  it("projection bars and the cheapest-path timeline are valid XML with their labels", function()
    local bars = imbill.chart.projection_bars(proj):file()
    assert.is_true((xml_ok(bars)))
    assert.matches(">2022/standard  %(4,596%.00%)</text>", bars)
    assert.matches(">2023%-01</text>", bars)
    local path = imbill.chart.path_timeline(proj):file()
    assert.is_true((xml_ok(path)))
    assert.matches('class="change%-label"[^>]*>activate standard</text>', path)
    assert.matches(">%$1,149%.00</text>", path)
  end)

  it("escapes text: a user book's name cannot break the XML", function()
    local b = imbill.book { base = "2021", name = "<what & if>", editions = { pro = { monthly_fee = "399.99" } } }
    local t = imbill.breakeven_table { editions = { "2021/pro", { book = b, edition = "pro" } }, to = 30000 }
    local text = imbill.chart.cost_curves(t):file()
    assert.is_true((xml_ok(text)))
    assert.matches("&lt;what &amp; if&gt;/pro", text)
    assert.equal("a&amp;b&lt;c&gt;&quot;&#39;", svg.escape("a&b<c>\"'"))
  end)

  it("text that is not UTF-8 (a title in Latin-1) is one U+FFFD a byte, and the file stays XML", function()
    -- as it was, one stray byte made the whole SVG unreadable to an XML
    -- parser (and to a browser showing it as a file).  A book's name cannot
    -- bring one: a book named in Latin-1 ("Caf\233") is refused when made.
    assert.has_error(function() imbill.book { base = "2021", name = "Caf\233" } end)
    local b = imbill.book { base = "2021", name = "Café", editions = { pro = { monthly_fee = "399.99" } } }
    local t = imbill.breakeven_table { editions = { "2021/pro", { book = b, edition = "pro" } }, to = 30000 }
    local text = imbill.chart.cost_curves(t, { title = "A\255 B", subtitle = "no \239\191\190 or \237\160\128" }):file()
    local ok, msg = xml_ok(text)
    assert.is_true(ok, msg)
    assert.matches("Café/pro", text, 1, true)
    assert.matches(">A\239\191\189 B</text>", text, 1, true)
    -- well-formed text is kept as it is, whatever the script
    assert.equal("café 😀 日本", svg.escape("café 😀 日本"))
    -- a stray byte, an overlong form, a surrogate, past U+10FFFF, U+FFFE, a cut sequence
    assert.equal("\239\191\189\239\191\189", svg.escape("\192\128"))
    assert.equal("x\239\191\189\239\191\189\239\191\189", svg.escape("x\237\160\128"))
    assert.equal("\239\191\189\239\191\189\239\191\189\239\191\189", svg.escape("\244\144\128\128"))
    assert.equal("\239\191\189\239\191\189\239\191\189", svg.escape("\239\191\190"))
    assert.equal("a\239\191\189\239\191\189", svg.escape("a\226\130"))
    assert.equal("\239\191\189&amp;", require("imbill.report.display").escape("\255&"))
  end)

  it("ticks are round numbers and money labels read as dollars", function()
    assert.same({ 0, 2000, 4000, 6000, 8000, 10000 }, (svg.ticks(0, 10000, 5)))
    assert.equal("$1,500", svg.money_label(1500))
    assert.equal("$12.50", svg.money_label(12.5))
    assert.equal("40k", svg.count_label(40000, true))
    assert.equal("1.5M", svg.count_label(1500000, true))
    -- whole ticks on an axis of counts, even over a range of two
    assert.same({ 0, 1, 2 }, (svg.ticks(0, 2, 8, true)))
  end)

  it("an axis writes every tick in one format: one unit, one number of decimals", function()
    assert.same({ "0", "5k", "10k", "15k" }, (svg.axis_labels({ 0, 5000, 10000, 15000 }, 5000, "count")))
    assert.same({ "0", "2,500", "5,000", "7,500" }, (svg.axis_labels({ 0, 2500, 5000, 7500 }, 2500, "count")))
    assert.same({ "0", "12.5k", "25.0k" }, (svg.axis_labels({ 0, 12500, 25000 }, 12500, "count")))
    assert.same({ "0", "250", "500", "750" }, (svg.axis_labels({ 0, 250, 500, 750 }, 250, "count")))
    assert.same({ "4,400", "4,420" }, (svg.axis_labels({ 4400, 4420 }, 20, "count")))
    assert.same({ "$0", "$500", "$1,000" }, (svg.axis_labels({ 0, 500, 1000 }, 500, "money")))
    assert.same({ "$0.00", "$0.50", "$1.00" }, (svg.axis_labels({ 0, 0.5, 1 }, 0.5, "money")))
    assert.same({ "$0", "$2B", "$4B" }, (svg.axis_labels({ 0, 2e9, 4e9 }, 2e9, "money")))
    assert.same({ "0", "0.5T", "1.0T" }, (svg.axis_labels({ 0, 5e11, 1e12 }, 5e11, "count")))
  end)
end)

describe("chart layout", function()
  local bts = tables()
  local projs = projections()
  -- from 2023-01: book 2022 is in force and book 2021 no longer sold to new apps
  local proj = imbill.project { usage = S.build { from = "2023-01", months = 4, dau = 25000, groups = 150000,
                                                  mau = 60000 }, books = { "2021", "2022" } }

  for _, name in ipairs { "three", "two_narrow", "all_nine", "wide", "one_point", "huge_range", "huge_amounts",
                          "long_names" } do
    it("cost curves (" .. name .. "): no label over a label, a marker or a line; nothing off the canvas", function()
      for _, w in ipairs(WIDTHS) do
        check_all(name .. " at " .. w, imbill.chart.cost_curves(bts[name], { width = w }):file())
      end
      check_all(name .. " at 420 x 200", imbill.chart.cost_curves(bts[name], { width = 420, height = 200 }):file())
      check_all(name .. " legend below", imbill.chart.cost_curves(bts[name], { legend = "bottom" }):file())
    end)
  end

  for _, name in ipairs { "year", "one_month", "three_years", "long_names", "huge", "few" } do
    it("projection bars and path timeline (" .. name .. "): clear labels, nothing off the canvas", function()
      for _, w in ipairs(WIDTHS) do
        check_all(name .. " bars at " .. w, imbill.chart.projection_bars(projs[name], { width = w }):file())
        check_all(name .. " path at " .. w, imbill.chart.path_timeline(projs[name], { width = w }):file())
      end
      check_all(name .. " bars at 320 x 200",
        imbill.chart.projection_bars(projs[name], { width = 320, height = 200, all = true }):file())
    end)
  end

  it("a label that does not fit is left out, and the chart says how many", function()
    local t = bts.all_nine
    local text = imbill.chart.cost_curves(t, { width = 420 }):file()
    local left, wanted = text:match(">(%d+) of (%d+) point labels left out for room")
    assert.is_not_nil(left, "no footnote counting the labels left out")
    -- labels are wanted for every break-even mark and every cap end (the
    -- free editions' lines end at their caps)
    local marks = G.count(text, "circle", "breakeven") + G.count(text, "rect", "cap")
    assert.equal(marks, tonumber(wanted))
    assert.equal(tonumber(wanted), tonumber(left) + G.count(text, "text", "breakeven-label")
      + G.count(text, "text", "cap-label"))
    -- none left out: no footnote
    local roomy = imbill.chart.cost_curves(bts.two_narrow, { width = 1600 }):file()
    assert.is_nil(roomy:find("left out", 1, true))
    -- max_labels = 0 leaves them all out, and says so
    local none = imbill.chart.cost_curves(bts.three, { max_labels = 0 }):file()
    assert.equal(0, G.count(none, "text", "breakeven-label"))
    assert.matches(">12 of 12 point labels left out", none)
  end)

  it("the placer answers as testing everything would, reading only what is near", function()
    -- each label candidate was tested against every box and segment taken:
    -- 2,221 crossings (DAU to 10 million) took 9 s to chart
    local layout = require "imbill.report.layout"
    local seed = 12345
    local function rnd(n)
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    end
    local p = layout.placer({ 10, 20, 900, 500 })
    local boxes, segs = {}, {}
    for i = 1, 400 do
      if i % 3 == 0 then
        local s = { rnd(1000) - 50, rnd(600) - 50, rnd(1000) - 50, rnd(600) - 50 }
        segs[#segs + 1] = s
        p:segment(s[1], s[2], s[3], s[4])
      else
        local x, y = rnd(1000) - 50, rnd(600) - 50
        local b = { x, y, x + rnd(80), y + rnd(40) }
        boxes[#boxes + 1] = b
        p:take(b)
      end
    end
    local agree = 0
    for _ = 1, 3000 do
      local x, y = rnd(960) - 30, rnd(560) - 30
      local q = { x, y, x + 1 + rnd(120), y + 1 + rnd(30) }
      local brute = layout.inside(q, p.bounds)
      for _, b in ipairs(boxes) do if brute and layout.overlap(q, b) then brute = false end end
      for _, s in ipairs(segs) do if brute and layout.segment_hits(q, s[1], s[2], s[3], s[4]) then brute = false end end
      assert.equal(brute, p:free(q), table.concat(q, ","))
      if brute then agree = agree + 1 end
    end
    -- both answers occur
    assert.is_true(agree > 50 and agree < 2950, agree)
  end)

  it("a chart of thousands of break-even points is drawn in about the time of its lines", function()
    local dense = imbill.breakeven_table { editions = { "2021/pro", "2022/standard" }, to = 10000000,
                                           follow = { mau = "3" } }
    local t0 = os.clock()
    imbill.chart.cost_curves(dense, { max_labels = 0 })
    local lines = os.clock() - t0
    t0 = os.clock()
    local text = imbill.chart.cost_curves(dense):file()
    local labelled = os.clock() - t0
    -- the machine's speed is measured, not assumed: labelling took 77 times
    -- the lines alone, now about 4
    assert.is_true(labelled < 15 * lines + 0.2, labelled .. " s against " .. lines .. " s for the lines")
    assert.equal(2221, G.count(text, "circle", "breakeven"))
    assert.equal(14, G.count(text, "text", "breakeven-label"))
    assert.matches(">2207 of 2221 point labels left out for room", text)
  end)

  it("the legend is outside the data area, beside it or under it", function()
    for _, opts in ipairs { {}, { width = 420 }, { legend = "bottom" }, { legend = "right" } } do
      local text = imbill.chart.cost_curves(bts.three, opts):file()
      local g = G.geometry(text)
      -- the data area: inside the two axis lines
      local L, B, T, R
      for _, l in ipairs(g.lines) do
        if l.class == "axis" then
          local s = l.seg
          if s[1] == s[3] then L, T = s[1], math.min(s[2], s[4]) else B, R = s[2], math.max(s[1], s[3]) end
        end
      end
      for _, lab in ipairs(g.labels) do
        if lab.class == "legend" then
          local b = lab.box
          local apart = b[1] >= R or b[3] <= L or b[2] >= B or b[4] <= T
          assert.is_true(apart, "legend entry " .. lab.text .. " lies over the data area")
        end
      end
    end
  end)

  it("every mark carries a hover title with its value", function()
    local text = imbill.chart.cost_curves(bts.three):file()
    assert.is_true(assert_titles("curves", text) > 10)
    assert.matches("<title>break%-even at 4,467 DAU: 2021/pro 449%.99 USD / 2022/standard 450%.02 USD", text)
    assert.matches("<title>2021/pro: 449%.99 USD at 0 DAU, 2,699%.94 USD at 60,000 DAU</title>", text)
    local bars = imbill.chart.projection_bars(proj):file()
    assert.matches("<title>2022/standard, 2023%-02: 1,149%.00 USD", bars)
    local path = imbill.chart.path_timeline(proj):file()
    assert.matches("<title>2023%-01: 2022/standard, [%d,]+%.%d%d USD %(activate standard%)</title>", path)
  end)

  it("an edition has one colour in every chart, chosen by its name, not its place", function()
    local seen = {}
    G.edition_colours(imbill.chart.cost_curves(bts.all_nine):file(), seen)
    G.edition_colours(imbill.chart.projection_bars(projs.three_years, { all = true }):file(), seen)
    G.edition_colours(imbill.chart.path_timeline(projs.three_years):file(), seen)
    G.edition_colours(imbill.chart.projection_bars(projs.year):file(), seen)
    G.edition_colours(imbill.chart.cost_curves(bts.three):file(), seen)
    -- the same edition in another order
    G.edition_colours(imbill.chart.cost_curves(imbill.breakeven_table { editions = { "2022/standard", "2021/ultimate",
      "2021/pro" }, follow = { mau = "3" }, to = 30000 }):file(), seen)
    local used = {}
    for _, name in ipairs(all_builtin()) do
      local set = seen[name]
      assert.is_not_nil(set, name .. " was not drawn")
      local list = {}
      for c in pairs(set) do list[#list + 1] = c end
      assert.equal(1, #list, name .. " drawn in " .. table.concat(list, ", "))
      assert.equal(colors.edition(name).color, list[1])
      assert.is_nil(used[list[1]], name .. " shares its colour with " .. tostring(used[list[1]]))
      used[list[1]] = name
    end
  end)

  it("built-in editions use the Okabe-Ito palette; user editions a fixed colour of it, dashed", function()
    local okabe = {}
    for _, c in pairs(colors.PALETTE) do okabe[c] = true end
    for _, name in ipairs(all_builtin()) do
      assert.is_true(okabe[colors.edition(name).color], name)
      assert.is_nil(colors.edition(name).dash)
    end
    local a, b = colors.edition(LONG .. "/pro"), colors.edition(LONG .. "/pro")
    assert.equal(a.color, b.color)
    assert.is_true(okabe[a.color])
    assert.equal("6 3", a.dash)
    -- the same on both runtimes: the hash is pinned
    assert.equal("#CC79A7", colors.edition("what-if/pro").color)
  end)

  it("a free edition's line ends at its cap, marked; without a cap nothing changes", function()
    local paid = imbill.breakeven_table { editions = { "2022/standard", "2022/premium" }, metric = "mau", to = 5000 }
    assert.equal(0, G.count(imbill.chart.cost_curves(paid):file(), "rect", "cap"))
    -- the break-even table gives the free edition's cap as data (curve.cap)
    local t = imbill.breakeven_table { editions = { "2022/developer", "2022/standard", "2022/premium" },
                                       metric = "mau", to = 5000 }
    assert.equal(100, t.curves[1].cap.at)
    local capped = imbill.chart.cost_curves(t):file()
    check_all("capped", capped)
    assert.equal(1, G.count(capped, "rect", "cap"))
    assert.matches("<title>2022/developer: free up to 100 MAU %(its cap%)", capped)
    assert.matches(">end of a free edition %(its cap%)</text>", capped)
    -- the developer line stops at the cap's x
    local g = G.geometry(capped)
    local stop, cap
    for _, m in ipairs(g.markers) do if m.class == "cap" then cap = (m.box[1] + m.box[3]) / 2 end end
    for _, el in ipairs(g.doc.els) do
      if el.tag == "path" and el.a["data-edition"] == "2022/developer" then
        for x in el.a.d:gmatch("[ML](%-?[%d%.]+) ") do stop = math.max(stop or 0, tonumber(x)) end
      end
    end
    assert.is_true(math.abs(stop - cap) < 0.1, "line ends at " .. stop .. ", cap at " .. cap)
    -- cap given as a table, with its own label; a cap past the range draws the whole line
    t.curves[1].cap = { at = 100, label = "developer: 100 MAU at most" }
    assert.matches(">developer: 100 MAU at most</text>", imbill.chart.cost_curves(t):file())
    -- a cap past the range draws the whole line (a paid curve, priced over all of it)
    paid.curves[1].cap = 99999
    assert.equal(0, G.count(imbill.chart.cost_curves(paid):file(), "rect", "cap"))
    t.curves[1].cap = 100
    assert.same({ "2022/developer: free up to 100 MAU (its cap); it cannot serve more" },
      imbill.chart.breakeven_lines(t))
  end)

  it("options: width, height, title, subtitle, legend, max_labels and all", function()
    local text = imbill.chart.cost_curves(bts.three, { width = 1200, height = 700, title = "Curves", subtitle = false })
      :file()
    assert.matches('width="1200" height="700"', text)
    assert.matches('class="title"[^>]*>Curves</text>', text)
    assert.is_nil(text:find('class="subtitle"', 1, true))
    assert.equal(0, G.count(imbill.chart.cost_curves(bts.three, { legend = "none" }):file(), "text", "legend"))
    -- a long title wraps, then is cut with an ellipsis; never clipped
    local long = imbill.chart.projection_bars(projs.year, { width = 320, title = string.rep("word ", 60) }):file()
    assert_clear("long title", long)
    assert.matches("\226\128\166</text>", long)
    -- the timeline is as tall as its content unless told
    assert.matches('height="700"', imbill.chart.path_timeline(projs.year, { height = 700 }):file())
  end)

  it("bad options are errors naming the option and the value", function()
    local cc, pb, pt = imbill.chart.cost_curves, imbill.chart.projection_bars, imbill.chart.path_timeline
    assert.equal("imbill.chart.cost_curves: width: expected a whole number of pixels from 320 to 4096, got 10",
      H.err(cc, bts.three, { width = 10 }))
    assert.equal('imbill.chart.cost_curves: width: expected a whole number of pixels from 320 to 4096, got "wide"',
      H.err(cc, bts.three, { width = "wide" }))
    assert.equal("imbill.chart.projection_bars: height: expected a whole number of pixels from 200 to 4096, got 540.5",
      H.err(pb, projs.year, { height = 540.5 }))
    assert.equal("imbill.chart.path_timeline: height: expected a whole number of pixels from 200 to 4096, got 100000",
      H.err(pt, projs.year, { height = 100000 }))
    assert.equal("imbill.chart.cost_curves: title: expected a string (or false for none), got 5",
      H.err(cc, bts.three, { title = 5 }))
    assert.equal('imbill.chart.cost_curves: legend: expected auto, right, bottom or none, got "left"',
      H.err(cc, bts.three, { legend = "left" }))
    assert.equal("imbill.chart.cost_curves: max_labels: expected a whole number from 0 to 1000, got -1",
      H.err(cc, bts.three, { max_labels = -1 }))
    assert.equal('imbill.chart.projection_bars: all: expected true or false, got "yes"',
      H.err(pb, projs.year, { all = "yes" }))
    assert.matches("^imbill%.chart%.cost_curves: colour: unknown field %(known: height, legend, max_labels, "
      .. "subtitle, title, width%)$", H.err(cc, bts.three, { colour = "red" }))
    assert.matches("^imbill%.chart%.path_timeline: all: unknown field", H.err(pt, projs.year, { all = true }))
    assert.equal('imbill.chart.cost_curves: opts: expected a table of options, got "wide"',
      H.err(cc, bts.three, "wide"))
    assert.equal("imbill.chart.projection_bars: projection: expected a projection (imbill.project), got nil",
      H.err(pb, nil))
    assert.equal("imbill.chart.cost_curves: t: expected a break-even table (imbill.breakeven_table) or its "
      .. "parameters, got 42", H.err(cc, 42))
    assert.matches("^imbill%.chart%.cost_curves: editions: needs at least two editions", H.err(cc, { editions = {} }))
    assert.equal("imbill.chart.breakeven_lines: t: expected a break-even table (imbill.breakeven_table), got nil",
      H.err(imbill.chart.breakeven_lines, nil))
  end)
end)
