-- The same input gives the same bytes (issue 8): every command's text, --csv
-- and --json output, run twice in fresh processes.  Lua 5.4 seeds its string
-- hashes per process, so anything written in pairs order would differ.
local R = require "cli_run"

local USAGE = R.quote(R.top .. "/examples/data/usage_2021.csv")

local COMMANDS = {
  { "invoice --book 2020 --edition pro --month 2021-03 --peak-dau 25000 --groups-peak 250000", true },
  { "compare --month 2021-03 --peak-dau 25000 --groups-peak 250000", true },
  { "project --usage " .. USAGE .. " --books 2020", true },
  { "migrate --usage " .. R.quote(R.top .. "/examples/data/usage_2022.csv"), true },
  { "breakeven --editions 2021/pro,2022/standard --mau-per-dau 3 --to-value 12000", true },
  { "shadow --usage " .. USAGE .. " --base 2020 --fee pro=129.99 --editions pro --from 2021-11", true },
  { "grid --editions 2021/pro,2021/ultimate --growth 0%,10% --start-dau 5000,50000 --months 1", true },
  { "replay --events examples/events.csv --book 2020 --edition trial --month 2021-03", true },
  { "chart curves --editions 2021/pro,2021/ultimate", false },
  { "chart path --usage " .. USAGE .. " --books 2021", false },
  { "report --usage " .. USAGE .. " --books 2020", false },
}

describe("imbill gives the same bytes for the same input #cli", function()
  for _, c in ipairs(COMMANDS) do
    local formats = c[2] and { "", " --csv", " --json" } or { "" }
    for _, f in ipairs(formats) do
      local args = c[1] .. f
      it(args:match("^%S+") .. (f ~= "" and f or " (text)") .. ": " .. args, function()
        local c1, o1, e1 = R.run(args)
        local c2, o2 = R.run(args)
        assert.equal(0, c1, e1)
        assert.equal(0, c2)
        assert.is_true(#o1 > 0)
        assert.is_true(o1 == o2, "two runs of the same command wrote different output")
      end)
    end
  end
end)
