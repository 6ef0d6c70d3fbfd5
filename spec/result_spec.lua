-- Uniform results: every result object (invoice, compare rows, break-even,
-- break-even table, cost curve, projection, migration, shadow, grid) has
-- :data(), plain tables ready for JSON (money as exact decimal strings,
-- counts as integers, the currency named, arrays marked so an empty one is
-- written [] and not {}), and :csv(), RFC 4180 text with a header line.
local H = require "helper"
local imbill = H.imbill
local S = imbill.series
local dkjson = require "dkjson"
local csv = require "imbill.internal.csv"
local result = require "imbill.internal.result"
local has_cjson, cjson = pcall(require, "cjson")

-- Every value of d is a string, a boolean, an integer or a table of those.
local function plain(d, path)
  for k, v in pairs(d) do
    local where = path .. "." .. tostring(k)
    local t = type(v)
    if t == "table" then plain(v, where)
    elseif t == "number" then
      assert.is_true(v == math.floor(v), where .. " is a whole number")
      if math.type then assert.equal("integer", math.type(v), where .. " is an integer") end
    else
      assert.is_true(t == "string" or t == "boolean", where .. " is plain, got " .. t)
    end
  end
end

-- The checks every :data() passes; `empty` names keys whose value is an
-- empty array there.
local function check_data(d, empty, currency_at)
  plain(d, "data")
  local text = dkjson.encode(d)
  for _, k in ipairs(empty) do assert.matches('"' .. k .. '":%[%]', text) end
  assert.equal("USD", (currency_at or d).currency)
  if has_cjson then
    local ctext = cjson.encode(d)
    assert.is_string(ctext)
    if rawget(cjson, "array_mt") then
      for _, k in ipairs(empty) do assert.matches('"' .. k .. '":%[%]', ctext) end
    end
  end
  return text
end

-- The checks every :csv() passes: a header, every line splits as RFC 4180
-- fields into the header's number of columns.
local function check_csv(text, header)
  assert.equal(header .. "\n", text:sub(1, #header + 1))
  local n = select(2, header:gsub(",", "")) + 1
  local r = csv.reader(text, { comments = false })
  while true do
    local fields, at = r:read()
    if fields == nil then break end
    assert.is_table(fields, type(at) == "table" and at.message or nil)
    assert.equal(n, #fields, table.concat(fields, ","))
  end
end

local history = S.build { from = "2023-01", months = 2, dau = 25000, groups = 150000, mau = 60000 }

describe("result objects", function()
  it("an invoice", function()
    local inv = imbill.invoice { book = "2022", edition = "standard", month = "2023-03", mau = 25000 }
    local d = inv:data()
    check_data(d, { "notes" })
    assert.equal("624.00", d.total)
    check_csv(inv:csv(), "month,book,edition,line,amount,quantity,note")
    -- a note with a comma is one quoted field
    assert.matches('\n2023%-03,2022,standard,plan_fee,399%.00,1,"standard, full month"\n', inv:csv())
  end)

  it("compare rows: an array of plain rows", function()
    local rows = imbill.compare { month = "2023-03", mau = 25000, books = { "2022" } }
    local d = rows:data()
    local text = check_data(d, {}, d[1])
    assert.matches('"reasons":%[%]', text) -- premium and standard serve
    assert.equal("0.00", d[1].total) -- developer: cheapest, not eligible
    assert.equal("624.00", d[2].total)
    assert.equal(62400, d[2].total_cents)
    check_csv(rows:csv(), "rank,book,edition,total,eligible,reasons,notes")
    if has_cjson then assert.is_table(cjson.decode(cjson.encode(d))[1]) end
  end)

  it("a break-even", function()
    local r = imbill.breakeven { a = "2020/pro", b = "2021/pro", to = 1000 }
    local d = r:data()
    check_data(d, { "assumptions" })
    assert.equal("149.99", d.points[1].a_total)
    check_csv(r:csv(), "from,cheaper,kind,a_total,b_total,note")
  end)

  it("a break-even table, with its cost curves", function()
    local t = imbill.breakeven_table { editions = { "2021/pro", "2021/ultimate" }, to = 30000 }
    local d = t:data()
    check_data(d, { "crossings", "assumptions" })
    assert.equal("cost_curve", d.curves[1].kind)
    check_csv(t:csv(), "a,b,from,cheaper,a_total,b_total,kind,note")
  end)

  it("a cost curve", function()
    local c = imbill.cost_curve { edition = "2021/pro", to = 30000 }
    local d = c:data()
    check_data(d, { "assumptions" })
    assert.equal("899.98", d.points[2].total)
    check_csv(c:csv(), "edition,from,total,kind")
  end)

  it("a projection", function()
    local p = imbill.project { usage = history, books = { "2022" } }
    local d = p:data()
    check_data(d, { "assumptions", "notes" })
    assert.equal("2298.00", d.path.total)
    check_csv(p:csv(), "month,edition,total,eligible,best,path,reasons")
  end)

  it("a migration", function()
    local mig = imbill.migration { usage = history, to = "2022/standard" }
    local d = mig:data()
    check_data(d, { "assumptions", "notes" })
    check_csv(mig:csv(), "month,peak_dau,mau,dau_plan,mau_plan,saving,cumulative,cheaper")
  end)

  it("a shadow run", function()
    local sh = imbill.shadow { usage = history, base = "2022", editions = { "standard" },
                               shadow = { base = "2022", editions = { standard = { monthly_fee = "299" } } } }
    local d = sh:data()
    check_data(d, { "assumptions", "notes" })
    check_csv(sh:csv(), "month,edition,line,base,shadow,difference")
  end)

  it("a grid", function()
    local g = imbill.grid { editions = { "2021/pro", "2021/ultimate" }, growth = { 0 }, start_dau = { 5000, 50000 },
                            months = 1 }
    local d = g:data()
    check_data(d, { "assumptions" })
    assert.equal("449.99", d.all.min)
    assert.equal(4, d.scenarios)
    check_csv(g:csv(), "edition,scenarios,cheapest,tied,min,p5,p25,p50,p75,p95,max,mean")
  end)

  it("one marker for arrays, honoured by dkjson (and by OpenResty's cjson, whose array_mt it is)", function()
    assert.equal("[]", dkjson.encode(result.array()))
    assert.equal("{}", dkjson.encode(result.object {}))
    assert.equal("array", getmetatable(result.array()).__jsontype)
    if has_cjson and rawget(cjson, "array_mt") then
      assert.equal(cjson.array_mt, getmetatable(result.array()))
      assert.equal("[]", cjson.encode(result.array()))
    end
  end)

  it("money reaches a number only for plotting", function()
    assert.equal(1349.91, imbill.money.plot(imbill.money("1349.91")))
    assert.equal(0.015, imbill.money.plot(imbill.money("0.015")))
    assert.matches("^imbill.money.plot: m: expected a money value", H.err(imbill.money.plot, "1.00"))
  end)
end)
