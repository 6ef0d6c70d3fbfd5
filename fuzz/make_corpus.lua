-- Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/ from
-- the inputs the specs use, valid and invalid.  Run from the top directory:
--   LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;;" LUA_CPATH="build/5.4/?.so;;" lua5.4 fuzz/make_corpus.lua
-- The corpus is committed; rerun this after a change of the meter file format.
local imbill = require "imbill"
local core = require "imbill.core"

local function write(target, name, bytes)
  os.execute("mkdir -p fuzz/corpus/" .. target)
  local f = assert(io.open("fuzz/corpus/" .. target .. "/" .. name, "wb"))
  f:write(bytes)
  f:close()
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function seeds(target, list)
  for i, s in ipairs(list) do write(target, string.format("seed-%02d", i), s) end
end

-- spec/money_spec.lua, spec/totals_spec.lua, spec/books_spec.lua
seeds("money", { "149.99", "-0.015", "1349", "0.015", "1349.91", "0", "-0", "+1", "1.5000000000000000000000000",
  "9223372036854.775807", "-9223372036854.775808", "9223372036854.775808", "99999999999999999999999",
  "1.0000001", "1.50000001", "1e5", " 1", "1,000", "1.", ".5", "-", "", "0.000001", "-9223372036854.775807",
  "9007199254.740992", "399.015", "1.2.3", "12a", "0x10" })
-- spec/calendar_spec.lua
seeds("date", { "2021-03-01", "2021-02-29", "2020-02-29", "2021-3-15", "0001-01-01", "9999-12-31", "0000-01-01",
  "10000-01-01", "2021-13-01", "2021-04-31", "2021-00-10", "2021-01-00", "2021/03/01", "2021-03-01T00", "" })
seeds("month", { "2021-03", "2021-13", "2021-00", "9999-08", "9999-12", "0001-01", "0000-12", "2021-3", "2021/03",
  "2021-03-01", "" })
-- spec/tz_spec.lua
seeds("tz", { "+08:00", "-05:30", "+0800", "+08", "+8", "+8:00", "UTC+8", "UTC-05:30", "GMT+0530", "Z", "UTC",
  "GMT", "+14:00", "-12:00", "+14:01", "-12:30", "+05:60", "+99:99", "+0560", "+800", "+08:", "utc", "UTCZ",
  " +08:00", "8 hours", "-00:00", "" })

-- Meter files, as spec/meter_file_*_spec.lua make them.
local DAY = 86400
local T0 = core.parse_date("2021-03-01") * DAY + 4 * 3600
local tmp = os.tmpname()
local function meter_seed(name, m)
  m:save(tmp)
  local s = read(tmp)
  write("meter_file", name, s)
  write("meter_body", name, s:sub(33))
end

meter_seed("empty", imbill.meter{ book = "2020", edition = "pro" })

meter_seed("rich", require("support.rich_meter").new())

local late = imbill.meter{ book = "2020", edition = "pro", tz = "-12:00", same_day_disbands = true }
late:create_group("g", "Public", T0 + 9 * DAY)
late:disband_group("g", T0 + 11 * DAY)
late:create_group("g", "Public", T0 + 2 * DAY)
late:login("a", T0 + 20 * DAY)
late:login("a", T0 - 30 * DAY)
meter_seed("late", late)

-- (a book name with a line break and an add-on id with a comma, as the first
-- corpus had, are no longer accepted)
local book = imbill.book{ base = "2021", name = "team book=2020",
                          addons = { ["x_y"] = { fee = { pro = "1.00" } } },
                          editions = { pro = { monthly_fee = "1.00" } } }
local u = imbill.meter{ book = book, edition = "pro", addons = { "x_y" } }
u:login("a", T0)
meter_seed("userbook", u)
os.remove(tmp)

-- version 2 and 3 files, and things that are not meter files at all
write("meter_file", "v2-builtin", read("spec/data/meter_v2_builtin.imbm"))
write("meter_file", "v2-userbook", read("spec/data/meter_v2_userbook.imbm"))
write("meter_file", "v3-rich", read("spec/data/meter_v3_rich.imbm"))
write("meter_file", "csv", "time,action,user\n1,login,u\n")
write("meter_file", "magic-only", "IMBMETER")
