--- Replays examples/events.csv through a meter and prints the month's usage and
-- invoice.  Run from the repository root:
--   LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/5.4/?.so;;' lua5.4 examples/replay_month.lua
local imbill = require "imbill"
local replay = require "imbill.meter.replay"

local path = arg and arg[1] or "examples/events.csv"
local meter, report = replay.run{ path = path, book = "2020", edition = "trial" }

local function count(n, noun) return string.format("%d %s%s", n, noun, n == 1 and "" or "s") end
print(string.format("%s: %s, %s, %s, %d refused, %d malformed", path, count(report.lines, "line"),
  count(report.events, "event"), count(report.duplicates, "duplicate"), report.refused, report.malformed))
for _, e in ipairs(report.errors) do print(string.format("  line %d: %s", e.line, e.message)) end
for _, r in ipairs(report.refusals) do print(string.format("  line %d refused: %s", r.line, r.message)) end

local usage = meter:usage("2021-03")
print(string.format("\nusage %s: edition %s, MAU %d, peak DAU %d, peak groups %d", usage.month, usage.edition,
  usage.mau, (meter:peak_dau("2021-03")), (meter:peak_groups("2021-03"))))
if usage.change then print(string.format("  changed to %s on %s", usage.change.to, usage.change.on)) end
print("  DAU by day:    " .. table.concat(usage.dau, " "))
print("  groups by day: " .. table.concat(usage.groups, " "))
print()
print(imbill.invoice(usage))
