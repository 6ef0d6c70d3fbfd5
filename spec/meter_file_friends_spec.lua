-- Friend lists in meter files: version 4 keeps one-way friendships after the
-- mutual ones; a version 3 file (every friendship mutual) still loads, and
-- saves as version 4; a hostile one-way record is refused naming it, with
-- nothing half-loaded.  The fuzzers start from files of the version written.
local H = require "helper"
local F = require "meter_file_format"
local imbill = H.imbill
local core = require "imbill.core"

local T0 = core.parse_date("2021-03-01") * 86400 + 4 * 3600
local path = F.tmp(".meter")

local function lists(m, users)
  local out = {}
  for i, u in ipairs(users) do out[i] = m:friends(u) end
  return out
end

describe("friend lists in a meter file", function()
  after_each(function() os.remove(path) end)

  it("of version 3 load as two-way friendships and save as version 4", function()
    -- spec/data/meter_v3_rich.imbm: written by imbill before version 4, with
    -- the friendships u1-u2 and u2-u3
    local m = imbill.meter.load(H.top .. "/spec/data/meter_v3_rich.imbm")
    assert.same({ 1, 2, 1, 0 }, lists(m, { "u1", "u2", "u3", "u4" }))
    m:save(path)
    local file = F.read(path)
    assert.equal(4, file:byte(9))
    local _, by = F.fields(file)
    assert.equal(2, by["friends.count"].value)
    assert.equal(0, by["one_way_friends.count"].value)
    -- each side listed: a one-way delete of u2's side leaves u1's
    local back = imbill.meter.load(path)
    assert.is_true(back:remove_friend("u2", "u1", T0, nil, { one_way = true }))
    assert.same({ 1, 1 }, lists(back, { "u1", "u2" }))
  end)

  it("of version 4 keep one-way entries one-way, each list as it was", function()
    local m = imbill.meter { book = "2020", edition = "trial" }
    m:add_friend("a", "b", T0)
    m:add_friend("c", "a", T0, nil, { one_way = true })
    m:add_friend("c", "b", T0, nil, { one_way = true })
    m:add_friend("b", "d", T0, nil, { one_way = true })
    m:save(path)
    local back = imbill.meter.load(path)
    assert.same({ 1, 2, 2, 0 }, lists(back, { "a", "b", "c", "d" }))
    -- a lists b, and not c: the two-way add of c adds a's side only
    assert.is_true(back:add_friend("a", "c", T0))
    assert.same({ 2, 2 }, lists(back, { "a", "c" }))
    back:save(path)
    assert.same({ 2, 2, 2, 0 }, lists(imbill.meter.load(path), { "a", "b", "c", "d" }))
  end)

  it("refuse a one-way record to an unknown user, twice over, or against its count, naming it", function()
    local m = imbill.meter { book = "2020", edition = "trial" }
    m:add_friend("a", "b", T0, nil, { one_way = true })
    m:add_friend("a", "c", T0, nil, { one_way = true })
    m:save(path)
    local file = F.read(path)
    local _, by = F.fields(file)
    local function refused(bytes)
      F.write(path, bytes)
      local ok, err = pcall(imbill.meter.load, path)
      assert.is_false(ok, "the altered file loaded")
      return tostring(err)
    end
    local users = by["users.count"].value
    assert.matches("corrupt meter file: one_way_friends%[2%]: %(0, " .. users .. "%) is not a user and another user",
      refused(F.set(file, by, "one_way_friends[2].friend", users)))
    assert.matches("corrupt meter file: one_way_friends%[2%]: the entry appears twice",
      refused(F.set(file, by, "one_way_friends[2].friend", by["one_way_friends[1].friend"].value)))
    assert.matches("corrupt meter file: one_way_friends%[1%]: %(0, 0%) is not a user and another user",
      refused(F.set(file, by, "one_way_friends[1].friend", 0)))
    -- a count that says one more or one less than the records: the file's
    -- fields no longer line up, and it is refused
    assert.matches("corrupt meter file: ", refused(F.set(file, by, "one_way_friends.count", 1)))
    assert.matches("corrupt meter file: ", refused(F.set(file, by, "one_way_friends.count", 3)))
  end)

  it("are in the fuzzers' seeds, which are files of the version written", function()
    -- the body fuzzer put a version 3 header on its input: the loader
    -- stopped before the one-way records, which no input reached
    local src = F.read(H.top .. "/fuzz/meter_body.c")
    assert.truthy(src:find("IMB_FILE_VERSION | (uint64_t)32 << 32", 1, true), "the body fuzzer's header version")
    local seed = F.read(H.top .. "/fuzz/corpus/meter_file/rich")
    assert.equal(4, seed:byte(9))
    local _, by = F.fields(seed)
    assert.is_true(by["one_way_friends.count"].value >= 1)
    -- the body seed is the same file past its header
    assert.equal(seed:sub(33), F.read(H.top .. "/fuzz/corpus/meter_body/rich"))
  end)
end)
