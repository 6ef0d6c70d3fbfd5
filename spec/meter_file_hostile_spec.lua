-- A saved meter is input like any other: a file cut short, damaged, or
-- altered by someone who recomputes the checksum must never crash, never
-- half-load, and never load absurd counts that the meter then bills or trips
-- over.  Every such file is refused with an error naming the path and the
-- file's field.  `make asan` runs this spec against the ASan/UBSan build.
-- Both runtimes: the checksum is recomputed with 64-bit integers on 5.4 and
-- uint64_t cdata on LuaJIT (spec/meter_file_format.lua).
local H = require "helper"
local F = require "meter_file_format"
local imbill = H.imbill
local core = require "imbill.core"

local DAY = 86400
local T0 = core.parse_date("2021-03-01") * DAY + 4 * 3600

local rich = require("support.rich_meter").new

local path = F.tmp(".meter")
local file
local fields, by

local function load(content)
  F.write(path, content)
  return pcall(imbill.meter.load, path)
end

local function refused(content, what)
  local ok, err = load(content)
  assert(not ok, what .. ": the altered file loaded")
  return tostring(err)
end

setup(function()
  rich():save(path)
  file = F.read(path)
  fields, by = F.fields(file)
end)
teardown(function() os.remove(path) end)

describe("a hostile meter file", function()
  it("is read by the spec's own reader of the format, field by field", function()
    assert.is_true(#fields > 100)
    assert.equal(2, by["editions.count"].value)
    assert.equal(6, by["users.count"].value)
    assert.equal(4, by["groups.count"].value)
    assert.is_true(by["released_before"].value > -2 ^ 31)
    -- unaltered but resealed, it loads
    assert.is_true((load(F.reseal(file))))
  end)

  it("cut short at any length is refused", function()
    for n = 0, #file - 1 do
      local err = refused(file:sub(1, n), "cut to " .. n .. " bytes")
      assert.matches('^imbill.meter.load: path: ', err)
    end
  end)

  it("cut short at any length with the header rewritten for it is refused", function()
    for n = 33, #file - 1 do
      local err = refused(F.reseal(file:sub(1, n)), "cut to " .. n .. " bytes, resealed")
      assert.matches('^imbill.meter.load: path: corrupt meter file: ', err)
    end
  end)

  it("with any byte changed is refused (the checksum)", function()
    for i = 1, #file do
      for _, x in ipairs({ 1, 128 }) do
        local c = string.char((file:byte(i) + x) % 256)
        local err = refused(file:sub(1, i - 1) .. c .. file:sub(i + 1), "byte " .. i .. " + " .. x)
        assert.matches('^imbill.meter.load: path: ', err)
      end
    end
  end)

  it("with any byte changed and the checksum recomputed loads whole or is refused, never half", function()
    local loaded = 0
    for i = 33, #file do
      for _, x in ipairs({ 1, 255 }) do
        local ok, m = load(F.reseal(file:sub(1, i - 1) .. string.char((file:byte(i) + x) % 256) .. file:sub(i + 1)))
        if ok then
          -- then it is a meter that works: usage, invoices, counting, saving
          loaded = loaded + 1
          for _, mo in ipairs({ "2021-03", "2021-04" }) do imbill.invoice(m:usage(mo)) end
          m:login("new", T0 + 45 * DAY)
          m:create_group("gnew", "Public", T0 + 45 * DAY)
          m:disband_group("g1", T0 + 45 * DAY)
          if loaded <= 20 then
            assert.is_true(m:save(path .. ".again"))
            assert.is_true(imbill.meter.load(path .. ".again") ~= nil)
          end
        else
          assert.matches('^imbill.meter.load: ', tostring(m))
        end
      end
    end
    os.remove(path .. ".again")
    assert.is_true(loaded < #file) -- most alterations are caught
  end)

  -- Alterations that keep the checksum right, each refused naming its field.
  local cases = {
    -- absurd counters
    { "days[5].disbanded", F.INT64_MAX, "days%[5%]%.disbanded: 9223372036854775807 is outside 0 %.%. " },
    { "days[5].created", F.INT64_MAX, "days%[5%]%.created: " },
    { "days[1].g_peak", F.INT64_MAX, "days%[1%]%.g_peak: 9223372036854775807 is not between the open or close and" },
    { "days[1].g_close", F.INT64_MAX, "days%[1%]%.g_close: 9223372036854775807 is not the open 0 plus 3 created" },
    { "days[2].g_open", F.INT64_MAX, "days%[2%]%.g_open: 9223372036854775807 is not the close of the day before" },
    { "days[1].g_close", F.INT64_MIN, "days%[1%]%.g_close: %-9223372036854775808 is outside" },
    { "days[2].dau", F.INT64_MAX, "days%[2%]%.dau: 9223372036854775807 is outside 0 %.%. 6" },
    { "days[2].dau", -1, "days%[2%]%.dau: %-1 is outside" },
    { "days[2].bchat", 1, "days%[2%]%.bchat: 1 is outside 0 %.%. 0" },
    { "days[3].bchat", 2, "days%[3%]%.bchat: 2 is outside 0 %.%. 1" },
    { "days[1].disbanded_same", 1, "days%[1%]%.disbanded_same: 1 is outside 0 %.%. 0" },
    { "months[1].mau", F.INT64_MAX, "months%[1%]%.mau: 9223372036854775807 is outside 0 %.%. 6" },
    { "months[1].mau", 1, "months%[1%]%.mau: 1 is not between the month's highest DAU" },
    -- inconsistent opens, closes and peaks
    { "days[2].g_open", 2, "days%[2%]%.g_open: 2 is not the close of the day before %(3%)" },
    { "days[1].g_open", 1, "days%[1%]%.g_open: 1 is not the close of the day before %(0%)" },
    { "days[1].g_close", 2, "days%[1%]%.g_close: 2 is not the open 0 plus 3 created less 0 disbanded" },
    { "days[1].g_peak", 4, "days%[1%]%.g_peak: 4 is not between" },
    { "days[1].g_peak", 2, "days%[1%]%.g_peak: 2 is not between" },
    { "days[1].created", 4, "days%[1%]%.g_close: 3 is not the open 0 plus 4 created" },
    { "days[1].has_groups", 0, "days%[1%]%.has_groups: is 0 but the day has group counts" },
    { "days[1].has_groups", 2, "days%[1%]%.has_groups: 2 is not 0 or 1" },
    { "days[4].has_groups", 1, "days%[4%]%.has_groups: is 1 but the day has no create or disband" },
    -- days out of range or out of order
    { "days[1].day", 3000000, "days%[1%]%.day: 3000000 is not a day of years 1%.%.9999" },
    { "days[1].day", -2 ^ 31, "days%[1%]%.day: %-2147483648 is not a day" },
    { "days[2].day", 0, "days%[2%]%.day: does not come after the day before it" },
    { "last_day", core.parse_date("2021-04-10"), "users%[%d%]%.last: is after the meter's last day" },
    { "last_day", 0, "released_before: is inside the 34 days before the meter's last day" },
    { "last_day", 3000000, "last_day: 3000000 is not a day" },
    { "activated", 3000000, "activated: 3000000 is not a day" },
    { "released_before", core.parse_date("2021-04-10"), "released_before: is inside the 34 days" },
    { "released_before", 2 ^ 31 - 1, "released_before: is inside the 34 days" },
    { "users[1].last", 3000000, "users%[1%]%.last: 3000000 is not a day" },
    { "event_ids[1].day", core.parse_date("2021-05-01"), "event_ids%[1%]%.day: is after the meter's last day" },
    { "months[1].month", 0, "months%[1%]%.month: 0 is not a month of years 1%.%.9999" },
    { "months[2].month", 2021 * 12 + 1, "months%[2%]%.month: does not come after the month before it" },
    { "groups[1].created", core.parse_date("2021-06-01"), "groups%[1%]%.created: a group that exists was created after" },
    -- users' activity against the days' counts
    { "users[1].days", 0, "users%[1%]%.days: the latest day and its month must be marked" },
    { "users[2].days", 1, "users: %d+ users have a login on 2021%-%d%d%-%d%d in their activity, the day's DAU is" },
    { "users[1].account", 2, "users%[1%]%.account: 2 is not 0 or 1" },
    -- sets and indices
    { "groups[1].type", 9, "groups%[1%]%.type: 9 is not a group type" },
    { "groups[1].alive", 2, "groups%[1%]%.alive: 2 is not 0 or 1" },
    { "groups[1].alive", 0, "groups%[1%]%.members: a group that does not exist has none" },
    { "groups[1].members[1]", 6, "groups%[1%]%.members: index 6 is not below 6" },
    { "groups[1].members[2]", 0, "groups%[1%]%.members: index 0 appears twice" },
    { "friends[1].user", 1, "friends%[1%]: %(1, 1%) is not a pair of users" },
    { "friends[2].peer", 9, "friends%[2%]: %(1, 9%) is not a pair of users" },
    { "one_way_friends[1].friend", 3, "one_way_friends%[1%]: %(3, 3%) is not a user and another user" },
    { "one_way_friends[1].user", 1, "one_way_friends%[1%]: user 1 is listed back by 0: a mutual friendship" },
    -- editions and limits
    { "offset", 86399, "offset: 86399 seconds is not a zone of whole minutes from %-12:00 to %+14:00" },
    { "offset", 52200, "offset: 52200 seconds is not a zone" },
    { "offset", 28801, "offset: 28801 seconds is not a zone" },
    { "editions[1].limits.accounts", -2, "editions%[1%]%.limits%.accounts: %-2 is below %-1" },
    { "editions[1].free", 7, "editions%[1%]%.free: 7 is not 0 or 1" },
    { "editions[1].from", 0, "editions%[1%]%.from: the first edition is in force from the start" },
    { "editions[2].from", F.INT64_MIN, "editions%[2%]%.from: a later edition starts at an instant" },
    { "editions[2].from", F.INT64_MAX, "editions%[2%]%.from: 9223372036854775807 is not an instant" },
    { "editions[1].limits.same_day_disbands", 3, "editions%[1%]%.limits%.same_day_disbands: 3 is not 0 or 1" },
    -- huge counts and lengths
    { "users.count", 2 ^ 32 - 1, "users: 4294967295 entries" },
    { "days.count", 2 ^ 32 - 1, "days: 4294967295 entries cannot fit" },
    { "friends.count", F.INT64_MAX, "friends: 9223372036854775807 entries" },
    { "one_way_friends.count", F.INT64_MAX, "one_way_friends: 9223372036854775807 entries" },
    { "groups[1].members.count", 2 ^ 32 - 1, "groups%[1%]%.members: 4294967295 entries" },
    { "records.count", 2 ^ 32 - 1, "records: 4294967295 entries, more than 65536" },
    { "editions.count", 0, "editions: a meter has at least one edition" },
    { "editions.count", 200000, "editions: 200000 entries, more than 119989" },
    { "users[1].id.length", 2 ^ 32 - 1, "users%[1%]%.id: length 4294967295 is over the limit" },
    { "records[1].key.length", 5000, "records%[1%]%.key: length 5000 is over the limit of 4096" },
    { "records[1].value.length", 2 ^ 31, "records%[1%]%.value: length 2147483648 is over the limit" },
    { "editions[1].edition.length", 64, "editions%[1%]%.edition: length 64 is over the limit of 63" },
    { "records[1].type", 9, "records%[1%]%.type: unknown record type 9" },
  }
  for _, c in ipairs(cases) do
    it("refuses " .. c[1] .. " = " .. (type(c[2]) == "string" and "(bytes)" or tostring(c[2])), function()
      local err = refused(F.set(file, by, c[1], c[2]), c[1])
      assert.matches("^imbill.meter.load: path: corrupt meter file: " .. c[3], err)
      assert.matches(', got "' .. path:gsub("%p", "%%%0") .. '"$', err)
    end)
  end

  it("refuses a user id or an event id that appears twice", function()
    local u1, u2 = by["users[1].id"], by["users[2].id"]
    assert.equal(u1.width, u2.width)
    local err = refused(F.set(file, by, "users[2].id", u1.value), "users[2].id")
    assert.matches("corrupt meter file: users%[2%]%.id: appears twice", err)
    local g1, g2 = by["groups[1].id"], by["groups[2].id"]
    assert.equal(g1.width, g2.width)
    assert.matches("corrupt meter file: groups%[2%]%.id: appears twice",
      refused(F.set(file, by, "groups[2].id", g1.value), "groups[2].id"))
  end)

  it("refuses trailing bytes and bytes missing from a list", function()
    assert.matches("corrupt meter file: body: 1 bytes after the last section", refused(F.reseal(file .. "x"), "+1"))
    -- one more event id announced than the file holds: the sections after
    -- the ids are read as one, and what is then left over does not parse
    local n = by["event_ids.count"]
    local msg = refused(F.set(file, by, "event_ids.count", n.value + 1), "ids")
    assert.is_truthy(msg:match("corrupt meter file: event_ids") or msg:match("corrupt meter file: group_times"), msg)
    -- one more group instant announced than there are groups
    local g = by["group_times.count"]
    assert.matches("corrupt meter file: group_times: ",
      refused(F.set(file, by, "group_times.count", g.value + 1), "times"))
  end)

  it("refuses an edition id with a NUL byte or none", function()
    local e = by["editions[1].edition"]
    local nul = e.value:sub(1, -2) .. "\0"
    assert.matches("editions%[1%]%.edition: an edition id is 1 to 63 bytes without NUL",
      refused(F.set(file, by, "editions[1].edition", nul), "NUL"))
    assert.matches("editions%[1%]%.edition: an edition id is 1 to 63 bytes without NUL",
      refused(F.splice(file, e.at - 4, 4 + e.width, F.le(0, 4)), "empty"))
  end)

  it("refuses a group count that ends away from the groups that exist", function()
    -- g1 and g3 exist; saying g3 does not (and has no members) leaves the days' chain at 2
    assert.matches("corrupt meter file: days: the net group count ends at 2, the file holds 1 groups that exist",
      refused(F.set(file, by, "groups[3].alive", 0), "alive"))
  end)

  it("refuses a header that lies about the body", function()
    local function hdr(at, bytes) return file:sub(1, at - 1) .. bytes .. file:sub(at + #bytes) end
    assert.matches("the header declares a body of 9223372036854775807 bytes, beyond the limit",
      refused(hdr(17, "\255\255\255\255\255\255\255\127"), "length"))
    assert.matches("truncated or extended: the header declares " .. (#file - 31) .. " bytes of body, the file has "
      .. (#file - 32), refused(hdr(17, F.le(#file - 31, 8)), "length + 1"))
    assert.matches("header length 31 is not 32", refused(hdr(13, F.le(31, 4)), "header"))
    assert.matches("unsupported format version 5 ", refused(hdr(9, F.le(5, 4)), "version"))
    assert.matches("format version 1 is not read", refused(hdr(9, F.le(1, 4)), "version 1"))
    assert.matches("checksum mismatch", refused(hdr(25, F.le(0, 8)), "checksum"))
  end)
end)
