-- The notebook-style examples (issue 4): each answers one operator question;
-- each runs under lua5.4 and its answer is checked here.
local H = require "helper"

local function run(script, args)
  local cmd = string.format("cd '%s' && LUA_PATH='%s/lua/?.lua;%s/lua/?/init.lua;;' LUA_CPATH='%s/build/5.4/?.so;;'"
    .. " lua5.4 examples/%s %s 2>&1; echo \"rc=$?\"", H.top, H.top, H.top, H.top, script, args or "")
  local p = io.popen(cmd)
  local out = p:read("*a")
  p:close()
  assert.matches("rc=0\n$", out, nil, false)
  return out
end

describe("examples #examples", function()
  it("which edition for next quarter", function()
    local out = run("next_quarter.lua")
    assert.matches("about 4%.3545%% a month", out)
    -- on the 2020 book, the one on sale when the history began (2021-01-01)
    assert.matches("2022%-03 +0%.00%* +599%.96 +899%.96", out)
    assert.matches("Answer: stay on 2020/pro for next quarter: 1,799%.88 USD", out)
  end)

  it("should we migrate to the MAU plan (it cannot be undone)", function()
    local out = run("migrate_to_mau.lua")
    assert.matches("total +8,999%.80 +8,571%.31 +428%.49", out)
    -- book 2022 starts 2022-12-26: the months before are what-ifs, and the
    -- saving counts from the first month migration is possible
    assert.matches("2022%-11%* ", out)
    assert.matches("Migration pays off from 2022%-12", out)
    assert.matches("cannot be undone", out)
    assert.matches("Answer: migrate to 2022/standard %(saves 1,082%.59 USD over 7 months from 2022%-12%)", out)
  end)

  it("what if DAU doubles by summer", function()
    local out = run("dau_doubles.lua")
    assert.matches("2021%-06 +17545 +34987 +449%.97 +749%.95", out)
    assert.matches("Answer: doubling DAU by summer adds 2,399%.84 USD", out)
  end)

  it("what would a 129.99 pro have cost us last year", function()
    local out = run("cheaper_pro_last_year.lua")
    assert.matches("total +5,399%.64 +5,159%.64 +%-240%.00", out)
    assert.matches("Answer: a 129%.99 pro would have cost 5,159%.64 USD instead of 5,399%.64", out)
  end)

  it("flagship break-even, with its chart", function()
    local svg = os.tmpname()
    local out = run("flagship_breakeven.lua", svg)
    assert.matches("2020/flagship vs 2021/pro: from 10,001 DAU on, 2020/flagship is cheaper %(599%.98 against 899%.98%)",
      out)
    assert.matches("Answer: above 10,000 DAU the 2020 flagship is cheaper than the 2021 pro%.", out)
    local f = io.open(svg)
    local text = f:read("*a")
    f:close()
    os.remove(svg)
    assert.matches("10,001 DAU</text>", text)
  end)

  -- The README shows `make demo` (examples/compare_month.lua) abbreviated, so
  -- no snippet check reads it: a line ending in "..." is the start of the
  -- line printed, a line "..." stands for the lines up to the next shown,
  -- and every other line is printed as it is.
  it("the README's make demo block is what compare_month.lua prints, abbreviated", function()
    local f = assert(io.open(H.top .. "/README.md"))
    local readme = f:read("*a")
    f:close()
    local block = readme:match("`make demo` prints this[^\n]*\n\n```\n(.-)\n```\n")
    assert.is_string(block, "the README's make demo block")
    local out = {}
    for line in run("compare_month.lua"):gmatch("([^\n]*)\n") do out[#out + 1] = line end
    local j = 1
    while out[j] and not out[j]:match("^#  book") do j = j + 1 end
    local shown = {}
    for line in (block .. "\n"):gmatch("([^\n]*)\n") do shown[#shown + 1] = line end
    for i, b in ipairs(shown) do
      if b == "..." then
        local nxt = shown[i + 1]
        while out[j] and out[j] ~= nxt do j = j + 1 end
      else
        local start = b:match("^(.-)%.%.%.$")
        if start then
          assert.equal(start, (out[j] or ""):sub(1, #start), "README make demo, line " .. i)
        else
          assert.equal(b, out[j], "README make demo, line " .. i)
        end
        j = j + 1
      end
    end
  end)

  it("a grid summary of a third of a million scenarios", function()
    local out = run("grid_summary.lua")
    assert.matches("4 editions x 41 growth rates x 1996 starting DAU = 327344 scenarios", out)
    -- one case is a tie (2021/pro and 2022/standard at the same total), which counted as
    -- 2021/pro's win (79186) for being listed first; it is a win for neither
    assert.matches("2021/pro +79185 +1 +5,399%.88", out)
    assert.matches("2022/standard +2650 +1 ", out)
    assert.matches("Answer: 2021/pro is the cheapest edition in 79185 of 81836 %(growth, start%) cases %(1 tied%)", out)
  end)
end)
