--- imbill grid: millions of scenarios (edition x growth x starting DAU)
-- through the C fast path, summarised per edition.
local A = require "imbill.cli.args"
local fail = require "imbill.cli.fail"
local output = require "imbill.cli.output"
local progress = require "imbill.cli.progress"

local M = {}

M.summary = "Millions of scenarios (edition x growth x starting DAU) through the C fast path."
M.epilog = [[
Example:
  imbill grid --growth=-2%..10%:0.5% --start-dau 1000..200000:100 --months 12 --mau-per-dau 3
  (6 paid editions x 25 rates x 1,991 starts = 298,650 scenarios; ranges are FROM..TO:STEP)]]

function M.define(c)
  c:option("--editions", "Editions, comma-separated book/edition (default: every paid built-in edition).")
  c:option("--growth", "Monthly growth rates: a list (0%,5%) or a range (--growth=-2%..10%:0.5%).", "0%")
  c:option("--start-dau", "Starting DAU: a list (1000,5000) or a range (1000..100000:1000).")
  c:option("--months", "Months per scenario.", "12"):convert(A.count("--months"))
  c:option("--groups", "Existing groups (constant).", "0"):convert(A.count("--groups"))
  c:option("--mau-per-dau", "MAU = ratio x DAU (for MAU-billed editions)."):convert(A.ratio("--mau-per-dau"))
  c:flag("--no-progress", "Never draw the progress bar.")
  A.add_format(c)
end

-- A list or a FROM..TO:STEP range of growth rates (as parts per million) or
-- of whole numbers.
-- What is wrong with a range, said alike for rates and counts (imbill.grid
-- would name its own fields and, for rates, show parts per million).
local STEP_ABOVE_0 = "the step must be above 0"
local REVERSED = "the range ends below where it starts (FROM..TO:STEP, FROM <= TO)"

-- Two spellings of one rate (5% and 0.05) are one value; a rate that does
-- not read is left to imbill.grid to refuse.
local function rate_key(x)
  local ok, ppm = pcall(require("imbill.whatif.series").ppm, "--growth", "growth", x, true)
  return ok and ppm or x
end

local function range_or_list(s, name, signed)
  if not s then return nil end
  local option = "--" .. name
  -- FROM..TO or FROM..TO:STEP; a step must follow a colon
  local a, b, rest = s:match("^(%-?[%d%.]+%%?)%.%.(%-?[%d%.]+%%?)(.*)$")
  local step
  if a then
    if rest == "" or rest == ":" then
      step = ""
    elseif rest:match("^:%-") then
      fail.usage(option, STEP_ABOVE_0, s)
    elseif rest:match("^:") then
      step = rest:match("^:([%d%.]+%%?)$")
      if not step then fail.usage(option, "expected a number as the step after the colon (FROM..TO:STEP)", s) end
    else
      fail.usage(option, "expected FROM..TO:STEP (a step after a colon)", s)
    end
  end
  if a then
    if name == "growth" then
      local S = require "imbill.whatif.series"
      local pa, pb = S.ppm("--growth", "from", a, true), S.ppm("--growth", "to", b, true)
      local ps = step ~= "" and S.ppm("--growth", "step", step) or 10000
      if ps <= 0 then fail.usage("--growth", STEP_ABOVE_0, s) end
      if pb < pa then fail.usage("--growth", REVERSED, s) end
      for _, r in ipairs { { pa, a }, { pb, b } } do
        if r[1] <= -1000000 or r[1] > 100000000 then
          fail.usage("--growth", "a rate must be above -100% and at most 10000%", r[2])
        end
      end
      return { from = pa, to = pb, step = ps }, true
    end
    -- whole numbers, as a list's: "1..10:1..3" or "1..1.5" is not a range of counts
    for _, x in ipairs { a, b, step ~= "" and step or "1" } do
      if not x:match("^%d+$") then fail.usage("--" .. name, "expected whole numbers (FROM..TO:STEP)", s) end
    end
    local function n(x) return math.tointeger and math.tointeger(tonumber(x)) or tonumber(x) end
    local r = { from = n(a), to = n(b), step = step ~= "" and n(step) or 1 }
    if r.step <= 0 then fail.usage(option, STEP_ABOVE_0, s) end
    if r.to < r.from then fail.usage(option, REVERSED, s) end
    return r
  end
  local l = A.list(s, option)
  if not signed then
    for i, x in ipairs(l) do
      if not x:match("^%d+$") then fail.usage(option, "expected whole numbers", x) end
      l[i] = math.tointeger and math.tointeger(tonumber(x)) or tonumber(x)
    end
  end
  return A.once(option, l, signed and rate_key or nil)
end

local P = { "min", "p5", "p25", "p50", "p75", "p95", "max", "mean" }

function M.run(args)
  local imbill = require "imbill"
  local growth, ppm = range_or_list(args.growth or "0%", "growth", true)
  local start = range_or_list(args.start_dau, "start-dau")
  if not start then fail.usage(nil, "--start-dau is required: a list (1000,5000) or a range (1000..100000:1000)") end
  local bar = progress.new("grid", not args.no_progress)
  local names = fail.flag_names(args, { editions = true, growth = true, growth_ppm = "--growth", start_dau = true,
                                        months = true, groups = true, mau_per_dau = true })
  names[fail.MAU] = { "--mau-per-dau", "give --mau-per-dau (MAU = ratio x DAU), or leave the edition out (--editions)" }
  local g = fail.calling("imbill.grid", names, imbill.grid, {
    editions = A.once("--editions", A.list(args.editions, "--editions")), growth = not ppm and growth or nil,
    growth_ppm = ppm and growth or nil,
    start_dau = start, months = args.months or 12, groups = args.groups, mau_per_dau = args.mau_per_dau,
    progress = function(d, t) bar.update(d, t) end,
  })
  bar.finish()
  local by = g:by_edition()
  local all = g:summary()
  -- a case where editions share the lowest total is nobody's win: said under the table
  local function tied_line()
    local tied = g:tied()
    if tied == 0 then return "" end
    local fmt = require "imbill.internal.fmt"
    local who = {}
    for _, s in ipairs(by) do
      if s.ties > 0 then who[#who + 1] = s.edition .. " " .. fmt.int(s.ties) end
    end
    return string.format("\ntied: %s of %s (growth, starting DAU) cases have more than one cheapest edition (%s);"
      .. " \"cheapest\" counts an edition only where it alone is cheapest", fmt.int(tied),
      fmt.int(#g.spec.growth * #g.spec.start), table.concat(who, ", "))
  end
  output.show(args, {
    text = function()
      local fmt = require "imbill.internal.fmt"
      local money = require "imbill.internal.money"
      local rows = {}
      for _, s in ipairs(by) do
        local r = { s.edition, fmt.int(s.n), fmt.int(s.wins) }
        for _, k in ipairs(P) do r[#r + 1] = money.pretty(s[k]) end
        rows[#rows + 1] = r
      end
      local r = { "all", fmt.int(all.n), "" }
      for _, k in ipairs(P) do r[#r + 1] = money.pretty(all[k]) end
      rows[#rows + 1] = r
      local right = { false, true, true, true, true, true, true, true, true, true, true }
      return tostring(g) .. "\n" .. fmt.table({ "edition", "scenarios", "cheapest", "min", "p5", "p25", "median", "p75",
        "p95", "max", "mean" }, rows, right) .. tied_line()
        .. string.format("\ncheapest scenario: %s, %s a month growth, %s DAU: %s"
        .. "\ndearest scenario: %s, %s a month growth, %s DAU: %s", all.argmin.edition, all.argmin.growth,
        fmt.int(all.argmin.start_dau), money.pretty(all.argmin.total), all.argmax.edition, all.argmax.growth,
        fmt.int(all.argmax.start_dau), money.pretty(all.argmax.total))
    end,
    data = function()
      local d = { scenarios = g:size(), months = g.spec.months, editions = {} }
      local function sd(s)
        local o = { n = s.n, wins = s.wins, ties = s.ties }
        for _, k in ipairs(P) do o[k] = tostring(s[k]) end
        return o
      end
      for i, s in ipairs(by) do
        d.editions[i] = sd(s)
        d.editions[i].edition = s.edition
      end
      d.all = sd(all)
      d.all.argmin = { edition = all.argmin.edition, growth = all.argmin.growth, start_dau = all.argmin.start_dau,
                       total = tostring(all.argmin.total) }
      d.all.argmax = { edition = all.argmax.edition, growth = all.argmax.growth, start_dau = all.argmax.start_dau,
                       total = tostring(all.argmax.total) }
      return d
    end,
    csv = function()
      local rows = {}
      for _, s in ipairs(by) do
        local r = { s.edition, s.n, s.wins, s.ties }
        for _, k in ipairs(P) do r[#r + 1] = tostring(s[k]) end
        rows[#rows + 1] = r
      end
      local r = { "all", all.n, "", "" }
      for _, k in ipairs(P) do r[#r + 1] = tostring(all[k]) end
      rows[#rows + 1] = r
      return output.csv_rows({ "edition", "scenarios", "wins", "ties", "min", "p5", "p25", "p50", "p75", "p95", "max", "mean" },
        rows)
    end,
  })
  return 0
end

return M
