-- display(x, opts): an option display does not know, one that does not apply
-- to x, or a bad value is an error naming the option and the value, as a
-- chart's options are.  Before, a bad percentile made the grid's table fall
-- back to its title line with no word, and `display(1, { bogus = true })`
-- was accepted.
local H = require "helper"
local D = require "imbill.report.display"
local imbill = H.imbill

describe("display options", function()
  local g = imbill.grid { editions = { "2021/pro" }, start_dau = { 100, 200 } }

  it("a percentile out of range is an error, not a table without rows", function()
    assert.equal("display: percentiles[1]: expected 0 .. 100, got 101",
      H.err(D.bundle, g, { percentiles = { 101 } }))
    assert.equal("display: percentiles[2]: must not be negative, got -5", H.err(D.bundle, g, { percentiles = { 5, -5 } }))
  end)

  it("good percentiles still choose the grid's columns", function()
    local b = D.bundle(g, { percentiles = { 25, "99.9%" } })
    assert.matches("p25", b["text/plain"])
    assert.matches("p99.9%%", b["text/plain"])
  end)

  it("an unknown option is an error naming it and its value", function()
    assert.equal("display: bogus: unknown option (known: chart, columns, percentiles), got true",
      H.err(D.bundle, 1, { bogus = true }))
    assert.equal("display: opts: expected a table of options, got \"x\"", H.err(D.bundle, 1, "x"))
  end)

  it("an option for another kind of value is an error, not ignored", function()
    assert.equal("display: chart: is an option for a break-even table or a cost curve, not for a value of kind grid,"
      .. " got false", H.err(D.bundle, g, { chart = false }))
    assert.matches("^display: percentiles: is an option for a grid, not for a value of kind table",
      H.err(D.bundle, { { a = 1 } }, { percentiles = { 5 } }))
  end)

  it("option values of the wrong type are errors", function()
    local rows = { { month = "2022-01", total = 1 } }
    assert.equal("display: columns[1]: expected a column name (a string), got 1",
      H.err(D.bundle, rows, { columns = { 1 } }))
    assert.matches("^display: columns: ", H.err(D.bundle, rows, { columns = "month" }))
    local curve = imbill.cost_curve { edition = "2022/standard", metric = "mau", to = 50000 }
    assert.equal("display: chart: expected true or false, got \"no\"", H.err(D.bundle, curve, { chart = "no" }))
    assert.is_nil(D.bundle(curve, { chart = false })["image/svg+xml"])
  end)
end)
