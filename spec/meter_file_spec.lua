local H = require "helper"
local imbill = H.imbill
local core = require "imbill.core"

local DAY = 86400
local T0 = core.parse_date("2021-03-01") * DAY + 4 * 3600

local F = require "meter_file_format"
local function tmp() return F.tmp(".meter") end

-- A meter with some of every kind of state.
local function build(users)
  local m = imbill.meter{ book = "2020", edition = "trial", tz = "+08:00" }
  for i = 1, 90 do m:create_account("u" .. i, T0, "acc" .. i) end
  m:delete_account("u3", T0 + 60)
  for i = 1, 8 do m:create_group("g" .. i, i % 2 == 0 and "Public" or "AVChatRoom", T0 + i) end
  m:disband_group("g2", T0 + DAY)
  for i = 1, 15 do m:join_group("g4", "u" .. i, T0 + DAY) end
  for i = 2, 12 do m:add_friend("u1", "u" .. i, T0 + DAY) end
  for d = 0, 40 do
    for i = 1, (users or 60) do
      if (i + d) % 3 ~= 0 then m:login("u" .. i, T0 + d * DAY, d == 5 and ("l" .. i) or nil) end
    end
  end
  assert(m:change_edition("pro", T0 + 20 * DAY))
  return m
end

local function snapshot(m)
  local s = { accounts = m:accounts(), groups = { m:groups() }, last = m:last_day() }
  for _, mo in ipairs({ "2021-03", "2021-04" }) do s[mo] = m:usage(mo) end
  for _, u in ipairs({ "u1", "u2", "u5", "u13", "nobody" }) do
    s["f" .. u], s["j" .. u] = m:friends(u), m:joined(u)
  end
  s.members = { m:members("g4") }
  s.segments = require("imbill.core").meter_impl.segments(m)
  return s
end

describe("meter save and load", function()
  it("restores the whole state exactly", function()
    local m = build()
    local path = tmp()
    assert.is_true(m:save(path))
    local m2 = imbill.meter.load(path)
    assert.same(snapshot(m), snapshot(m2))
    assert.equal(tostring(m), tostring(m2))
    -- the restored meter goes on counting exactly like the original
    for _, x in ipairs({ m, m2 }) do
      assert.same({ true, "duplicate" }, { x:create_account("u1", T0, "acc1") })
      assert.same({ true, "duplicate" }, { x:login("zz", T0 + 5 * DAY, "l2") })
      local ok, r = x:change_edition("flagship", T0 + 25 * DAY)
      assert.is_false(ok)
      assert.equal("one_change_per_month", r.code)
      x:login("new", T0 + 41 * DAY)
    end
    assert.same(snapshot(m), snapshot(m2))
    os.remove(path)
  end)

  it("names the format version of a file written by an older imbill", function()
    local m = imbill.meter{ book = "2020", edition = "pro" }
    m:login("a", T0)
    local path = tmp()
    m:save(path)
    local f = assert(io.open(path, "rb"))
    local bytes = f:read("*a")
    f:close()
    local g = assert(io.open(path, "wb"))
    g:write(bytes:sub(1, 8) .. "\1" .. bytes:sub(10))
    g:close()
    assert.matches("format version 1 is not read", H.err(imbill.meter.load, path))
    os.remove(path)
  end)

  it("keeps add-ons, options and a user book", function()
    local book = imbill.book{ base = "2020", name = "mine", editions = { pro = { monthly_fee = "100.00" } } }
    local m = imbill.meter{ book = book, edition = "pro", addons = { "av_unlimited" }, same_day_disbands = true }
    m:login("a", T0)
    local path = tmp()
    m:save(path)
    assert.matches('user price book "mine"', H.err(imbill.meter.load, path))
    local m2 = imbill.meter.load(path, { book = book })
    assert.same(m:usage("2021-03"), m2:usage("2021-03"))
    assert.same({ "av_unlimited" }, m2:addons())
    for i = 1, 60 do assert.is_true(m2:create_group("av" .. i, "AVChatRoom", T0)) end
    os.remove(path)
  end)

  it("keeps the last good state when a save dies mid-write", function()
    local m = build()
    local path = tmp()
    m:save(path)
    local good = snapshot(m)
    m:login("late-user", T0 + 2 * DAY)
    for _, n in ipairs({ 0, 1, 31, 32, 100, 1000 }) do
      assert.matches("meter:save", H.err(m.save, m, path, { crash_after_bytes = n }))
      assert.same(good, snapshot(imbill.meter.load(path)))
    end
    -- nothing is left (unnamed temporary files), or the next save removes it
    m:save(path)
    local dir, name = path:match("^(.*)/([^/]+)$")
    local p = io.popen("ls -A '" .. dir .. "'")
    for n in p:read("*a"):gmatch("[^\n]+") do
      assert(n:sub(1, #name + 10) ~= "." .. name .. ".imbtmp-", n .. " was left behind")
    end
    p:close()
    os.remove(path)
  end)

  -- A save killed by SIGKILL at random points: spec/crash_spec.lua.

  it("fails cleanly on every truncation and every corrupted byte", function()
    local m = imbill.meter{ book = "2020", edition = "trial" }
    m:create_account("u1", T0, "e1")
    m:create_group("g", "Public", T0)
    m:join_group("g", "u1", T0)
    m:add_friend("u1", "u2", T0)
    m:login("u1", T0)
    local path = tmp()
    m:save(path)
    local f = assert(io.open(path, "rb"))
    local bytes = f:read("*a")
    f:close()
    local bad = path .. ".bad"
    local function try(content)
      local g = assert(io.open(bad, "wb"))
      g:write(content)
      g:close()
      local ok, err = pcall(imbill.meter.load, bad)
      return ok, err
    end
    for n = 0, #bytes - 1 do
      local ok, err = try(bytes:sub(1, n))
      assert(not ok, "truncated to " .. n .. " bytes loaded")
      assert.matches("imbill.meter.load: .*meter", err)
    end
    for i = 1, #bytes do
      local c = bytes:byte(i)
      for _, x in ipairs({ 1, 128 }) do
        local flipped = string.char((c + x) % 256)
        local ok, err = try(bytes:sub(1, i - 1) .. flipped .. bytes:sub(i + 1))
        assert(not ok, "byte " .. i .. " changed and the file still loaded")
        assert.matches("^imbill.meter.load: ", err)
      end
    end
    local ok, err = try(bytes .. "x")
    assert.is_false(ok)
    assert.matches("length", err)
    ok, err = try("time,action,user\n1,login,u\n")
    assert.is_false(ok)
    assert.matches("not an imbill meter file", err)
    assert.matches("cannot open", H.err(imbill.meter.load, path .. ".missing"))
    os.remove(bad)
    os.remove(path)
  end)

  -- A corrupted body with a matching checksum gets past the header checks: the
  -- loader must still never crash nor half-load (both runtimes: the checksum
  -- is recomputed by spec/meter_file_format.lua).
  it("rejects or fully loads a corrupted body even when the checksum matches", function()
    local m = imbill.meter{ book = "2020", edition = "trial" }
    m:create_account("u1", T0, "e1")
    m:create_group("g", "Public", T0)
    m:join_group("g", "u1", T0)
    m:add_friend("u1", "u2", T0)
    m:login("u1", T0)
    m:login("u2", T0 + DAY)
    local path = tmp()
    m:save(path)
    local bytes = F.read(path)
    local body = bytes:sub(33)
    local loaded, refused = 0, 0
    for i = 1, #body do
      local b = body:sub(1, i - 1) .. string.char((body:byte(i) + 1) % 256) .. body:sub(i + 1)
      F.write(path, F.reseal(bytes:sub(1, 32) .. b))
      local ok, x = pcall(imbill.meter.load, path)
      if ok then
        loaded = loaded + 1
        assert.is_string(tostring(x))
        x:usage("2021-03")
      else
        refused = refused + 1
        assert.matches("^imbill.meter.load: ", tostring(x))
      end
    end
    assert.is_true(refused > 0)
    os.remove(path)
  end)
end)
