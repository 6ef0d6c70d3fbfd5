-- Should we migrate to the MAU plan?  Prices the same history on the 2021 DAU
-- plan and the 2022 MAU plan month by month, says from when migration pays
-- off and what it saves; migration cannot be undone.
--
--   lua5.4 examples/migrate_to_mau.lua [history.csv] [2021/edition]
local imbill = require "imbill"

local path = arg and arg[1] or "examples/data/usage_2022.csv"
local from = arg and arg[2] or "2021/pro"
local history = imbill.series.read_csv(path)
local mig = imbill.migration { usage = history, from = from }
print(mig)
print()
if mig.difference > imbill.money("0") then
  print("Answer: migrate to " .. mig.to .. " (saves " .. imbill.money.pretty(mig.difference) .. " USD over "
    .. mig.months_migrated .. " months from " .. mig.migrate_from .. ") -- knowing it cannot be undone.")
else
  print("Answer: stay on " .. from .. "; the MAU plan would not have paid off.")
end
