-- Charts (issue 4): SVG written by imbill itself parses as XML and carries
-- labelled axes, money ticks, a legend and the break-even labels.
local H = require "helper"
local svg = require "imbill.report.svg"

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

describe("charts", function()
  local bt = H.imbill.breakeven_table { editions = { "2021/pro", "2021/ultimate", "2022/standard" },
                                        follow = { mau = "3" }, to = 60000 }
  -- from 2023-01: book 2022 is in force and book 2021 no longer sold to new apps
  local proj = H.imbill.project { usage = H.imbill.series.build { from = "2023-01", months = 4, dau = 25000,
                                                                  groups = 150000, mau = 60000 },
                                  books = { "2021", "2022" } }

  it("cost curves: valid XML with axes, money ticks, a legend and labelled break-even points", function()
    local text = H.imbill.chart.cost_curves(bt):file()
    local ok, msg = xml_ok(text)
    assert.is_true(ok, msg)
    assert.matches('<svg xmlns="http://www.w3.org/2000/svg" width="960" height="540"', text)
    assert.matches(">USD per month</text>", text)
    assert.matches(">peak DAU %(users a day", text)
    assert.matches(">%$1,000</text>", text)
    assert.matches(">2021/ultimate</text>", text)
    assert.matches('class="breakeven%-label"[^>]*>4,467 DAU</text>', text)
    assert.matches(">2021/pro 449%.99 / 2022/standard 450%.02</text>", text)
    local marks = select(2, text:gsub('class="breakeven"', ""))
    local crossings = 0
    for _, pr in ipairs(bt.pairs) do crossings = crossings + #pr.crossings end
    assert.equal(crossings, marks)
  end)

  it("projection bars and the cheapest-path timeline are valid XML with their labels", function()
    local bars = H.imbill.chart.projection_bars(proj):file()
    assert.is_true((xml_ok(bars)))
    assert.matches(">2022/standard  %(4,596%.00%)</text>", bars)
    assert.matches(">2023%-01</text>", bars)
    local path = H.imbill.chart.path_timeline(proj):file()
    assert.is_true((xml_ok(path)))
    assert.matches('class="change%-label"[^>]*>activate standard</text>', path)
    assert.matches(">%$1,149%.00</text>", path)
  end)

  it("escapes text: a user book's name cannot break the XML", function()
    local b = H.imbill.book { base = "2021", name = "<what & if>", editions = { pro = { monthly_fee = "399.99" } } }
    local t = H.imbill.breakeven_table { editions = { "2021/pro", { book = b, edition = "pro" } }, to = 30000 }
    local text = H.imbill.chart.cost_curves(t):file()
    assert.is_true((xml_ok(text)))
    assert.matches("&lt;what &amp; if&gt;/pro", text)
    assert.equal("a&amp;b&lt;c&gt;&quot;&#39;", svg.escape("a&b<c>\"'"))
  end)

  it("ticks are round numbers and money labels read as dollars", function()
    assert.same({ 0, 2000, 4000, 6000, 8000, 10000 }, (svg.ticks(0, 10000, 5)))
    assert.equal("$1,500", svg.money_label(1500))
    assert.equal("$12.50", svg.money_label(12.5))
    assert.equal("40k", svg.count_label(40000, true))
    assert.equal("1.5M", svg.count_label(1500000, true))
  end)
end)
