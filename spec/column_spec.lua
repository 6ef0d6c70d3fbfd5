-- Scenario columns (issue 14): int64 values in C memory that scenarios are
-- built in and priced from, on every core, with the exactness and the error
-- rules of the array path.
local H = require "helper"
local imbill = H.imbill
local core = imbill.core
local pure = dofile(H.top .. "/bench/pure_totals.lua") -- a pure-Lua oracle of the month total

local EDITIONS = { "2020/pro", "2020/flagship", "2021/pro", "2021/ultimate", "2022/standard", "2022/premium",
                   "2020/trial", "2022/developer" }

local function edition(name)
  local b, e = name:match("^(%w+)/(%w+)$")
  return b, e, imbill.book(b):edition(e)
end

-- The number of threads of this process (Linux), or nil.
local function threads_now()
  local f = io.open("/proc/self/status")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return tonumber(text:match("Threads:%s*(%d+)"))
end

-- A joined thread has finished our code, but the kernel may still list it for
-- a moment while it exits (under valgrind, which runs one thread at a time,
-- for longer), so the count is read until it settles, for at most 5 s.
local function threads_settled(want)
  local now = threads_now()
  for _ = 1, 100 do
    if now == want then break end
    os.execute("sleep 0.05")
    now = threads_now()
  end
  return now
end

-- Counts around what matters to a charge: 0, the free quota and one either
-- side, block edges, and anything, from a fixed seed.
local function scenarios(n, seed)
  local s = seed
  local function rnd(m)
    s = (s * 1103515245 + 12345) % 2147483648
    return s % m
  end
  local near = { 0, 1, 9999, 10000, 10001, 19999, 20000, 20001, 99999, 100000, 100001, 199999, 200000, 200001 }
  local d, g, m = {}, {}, {}
  for i = 1, n do
    local k = rnd(4)
    if k == 0 then
      d[i], g[i], m[i] = near[rnd(#near) + 1], near[rnd(#near) + 1], near[rnd(#near) + 1]
    elseif k == 1 then
      d[i], g[i], m[i] = rnd(10) * 10000 + rnd(3) - 1 + 1, rnd(20) * 100000 + rnd(3), 10000 + rnd(3) - 1
    else
      d[i], g[i], m[i] = rnd(300000), rnd(3000000), rnd(500000)
    end
  end
  return d, g, m
end

describe("scenario columns", function()
  describe("are built", function()
    it("from a Lua array, copied once", function()
      local t = { 3, 1, 4, 1, 5 }
      local c = imbill.column(t)
      t[1] = 99
      assert.equal(5, #c)
      assert.same({ 3, 1, 4, 1, 5 }, c:totable())
      assert.equal(3, c:get(1))
      assert.equal("imbill.column(5)", tostring(c))
      assert.is_true(imbill.column.is(c))
      assert.is_false(imbill.column.is(t))
    end)

    it("as n zeros, or n copies of a value", function()
      assert.same({ 0, 0, 0 }, imbill.column(3):totable())
      assert.same({ 7, 7 }, imbill.column(2, 7):totable())
      assert.equal(0, #imbill.column(0))
      assert.same({}, imbill.column {}:totable())
    end)

    it("as a range, written as the grid's start_dau", function()
      assert.same({ 50, 60, 70 }, imbill.column { from = 50, to = 79, step = 10 }:totable())
      assert.same({ -2, -1, 0, 1 }, imbill.column { from = -2, to = 1 }:totable())
      assert.equal(1000000, #imbill.column { from = 1, to = 1000000 })
    end)

    it("as a copy of a column", function()
      local a = imbill.column { 1, 2 }
      local b = imbill.column(a)
      b:set(1, 9)
      assert.same({ 1, 2 }, a:totable())
      assert.same({ 9, 2 }, b:totable())
    end)

    it("from seeded uniform random counts, the same on every runtime", function()
      local r = imbill.column.random { n = 10000, min = 100, max = 199, seed = 42 }
      local lo, hi = r:min(), r:max()
      assert.equal(100, lo)
      assert.equal(199, hi)
      assert.same(r:totable(), imbill.column.random { n = 10000, min = 100, max = 199, seed = 42 }:totable())
      assert.are_not.same(r:totable(), imbill.column.random { n = 10000, min = 100, max = 199, seed = 43 }:totable())
      -- value i depends on (seed, i) alone: a longer column starts the same
      assert.same(r:totable(1, 10), imbill.column.random { n = 20, min = 100, max = 199, seed = 42 }:totable(1, 10))
      -- the same figures on Lua 5.4 and LuaJIT
      assert.same({ 34, 96, 49, 6, 68, 6, 19, 74, 11, 72 }, imbill.column.random { n = 10, max = 100, seed = 42 }:totable())
    end)

    it("by ratios and sums, as the grid derives groups and MAU from DAU", function()
      local dau = imbill.column { 0, 1, 3, 5, 10001 }
      -- round_half_up(v x 1.5): 1.5 -> 2, 4.5 -> 5, 7.5 -> 8
      assert.same({ 0, 2, 5, 8, 15002 }, (dau * "1.5"):totable())
      assert.same({ 0, 2, 5, 8, 15002 }, ("1.5" * dau):totable())
      assert.same({ 0, 3, 9, 15, 30003 }, (dau * 3):totable())
      assert.same({ 0, 0, 0, 0, 500 }, (dau * "5%"):totable()) -- 0.25 -> 0, 500.05 -> 500
      assert.same({ 0, -2, -5, -8, -15002 }, (dau * "-1.5"):totable()) -- half away from zero
      assert.same({ 120000, 120001, 120003, 120005, 130001 }, (dau + 120000):totable())
      assert.same({ 0, 2, 6, 10, 20002 }, (dau + dau):totable())
      assert.same({ 0, 3, 8, 13, 25003 }, (dau * "1.5" + dau):totable())
    end)

    it("by growth month after month, rounded as the grid's DAU paths", function()
      local dau = imbill.column { 15, 17, 10000 }
      -- 15 x 1.1 = 16.5 -> 17 -> 18.7 -> 19
      assert.same({ 17, 19, 11000 }, dau:grow("10%", 1):totable())
      assert.same({ 19, 21, 12100 }, dau:grow("10%", 2):totable())
      assert.same({ 15, 17, 10000 }, dau:grow("10%", 0):totable())
      for k = 0, 5 do
        local v = 10000
        for _ = 1, k do v = core.grid_grow(v, -35000) end
        assert.equal(v, dau:grow("-3.5%", k):get(3))
      end
    end)

    it("from a CSV column, by name", function()
      local path = os.tmpname()
      local f = assert(io.open(path, "wb"))
      f:write("\239\187\191# scenarios\r\n\r\nid,DAU ,note\r\n1,25000,plain\r\n2,\"10001\",\"quoted, with a comma\"\r\n",
        "# a comment\n3, 7 ,\"say \"\"hi\"\"\"\n")
      f:close()
      local c = imbill.column.from_csv(path, "dau")
      assert.same({ 25000, 10001, 7 }, c:totable())
      assert.same({ 1, 2, 3 }, imbill.column.from_csv(path, "id"):totable())
      local name = path:match("[^/]*$")
      assert.equal("imbill.column.from_csv: column: not in the header of " .. name .. " (it has: id, dau, note), got \"mau\"",
        H.err(imbill.column.from_csv, path, "mau"))
      assert.equal("imbill.column.from_csv: " .. name .. ":4: column 3 (note): expected a whole number, got \"plain\"",
        H.err(imbill.column.from_csv, path, "note"))
      f = assert(io.open(path, "wb"))
      f:write("dau,groups\n5,6\n-3,1\n7\n")
      f:close()
      -- one column in the singular (it said "has 1 columns")
      assert.equal("imbill.column.from_csv: " .. name .. ":4: has 1 column, the header has 2",
        H.err(imbill.column.from_csv, path, "dau"))
      f = assert(io.open(path, "wb"))
      f:write("dau\n5\n-3\n2.5\n")
      f:close()
      assert.equal("imbill.column.from_csv: " .. name .. ":3: column 1 (dau): must not be negative, got -3",
        H.err(imbill.column.from_csv, path, "dau", { counts = true }))
      assert.equal("imbill.column.from_csv: " .. name .. ":4: column 1 (dau): expected a whole number, got \"2.5\"",
        H.err(imbill.column.from_csv, path, "dau"))
      -- a line over the size bound has no column (it was "column 1: a line longer ...")
      f = assert(io.open(path, "wb"))
      f:write("dau\n5\n", string.rep("7", 1300000), "\n")
      f:close()
      assert.equal("imbill.column.from_csv: " .. name .. ":3: a line longer than 1048576 bytes",
        H.err(imbill.column.from_csv, path, "dau"))
      os.remove(path)
      local _, e = pcall(imbill.column.from_csv, path, "dau")
      assert.equal("imbill.column.from_csv: path: cannot open: no such file or directory, got \"" .. path .. "\"",
        tostring(e))
      assert.equal("io", e.kind)
    end)

    -- A column holds int64_t on both runtimes, so a file reads the same on
    -- both: on LuaJIT 9007199254740993 reads as the double 2^53, so the digits
    -- are read as an int64_t there, exactly, never rounded (the column used to
    -- refuse them on LuaJIT while Lua 5.4 read them).
    it("from a CSV: a count past 2^53 is exact on both runtimes, never rounded; past 64 bits it is refused", function()
      local path = os.tmpname()
      local f = assert(io.open(path, "wb"))
      f:write("dau\n9007199254740992\n9007199254740993\n-9007199254740993\n9223372036854775807\n",
        "-9223372036854775808\n00000000000000000000009007199254740995\n")
      f:close()
      local name = path:match("[^/]*$")
      local c = imbill.column.from_csv(path, "dau")
      assert.equal(6, #c)
      -- a value as decimal text: on LuaJIT one past 2^53 cannot leave as a
      -- number, and the error that says so shows it whole
      local function text_of(i)
        local ok, v = pcall(c.get, c, i)
        if ok then return string.format("%d", v) end
        return tostring(v):match('got "(%-?%d+)"')
      end
      assert.same({ "9007199254740992", "9007199254740993", "-9007199254740993", "9223372036854775807",
                    "-9223372036854775808", "9007199254740995" },
        { text_of(1), text_of(2), text_of(3), text_of(4), text_of(5), text_of(6) })
      -- 2^53 + 1 - 2^53 is 1 only if the value was read exactly
      local near = c:copy():set(4, 0):set(5, 0)
      local back = near + (-(2 ^ 53))
      assert.same({ 0, 1, 3 }, { back:get(1), back:get(2), back:get(6) })
      assert.equal(-1, (near + 2 ^ 53):get(3))
      f = assert(io.open(path, "wb"))
      f:write("dau\n1\n-9007199254740993\n")
      f:close()
      assert.equal("imbill.column.from_csv: " .. name .. ":3: column 1 (dau): must not be negative, got -9007199254740993",
        H.err(imbill.column.from_csv, path, "dau", { counts = true }))
      for _, text in ipairs { "9223372036854775808", "-9223372036854775809", "99999999999999999999" } do
        f = assert(io.open(path, "wb"))
        f:write("dau\n", text, "\n")
        f:close()
        assert.equal("imbill.column.from_csv: " .. name .. ":2: column 1 (dau): is beyond 64 bits, got \"" .. text .. "\"",
          H.err(imbill.column.from_csv, path, "dau"))
      end
      f = assert(io.open(path, "wb"))
      f:write("dau\n0009007199254740992\n")
      f:close()
      assert.equal(2 ^ 53, imbill.column.from_csv(path, "dau"):get(1))
      os.remove(path)
    end)

    -- Two header fields of one name: either could be the column meant, so
    -- neither is guessed (the first used to be taken silently).
    it("from a CSV: a name the header has twice is refused, naming both columns", function()
      local path = os.tmpname()
      local f = assert(io.open(path, "wb"))
      f:write("# two exports pasted side by side\nid,dau,groups, DAU \n1,5,6,7\n")
      f:close()
      local name = path:match("[^/]*$")
      assert.equal("imbill.column.from_csv: " .. name .. ":2: column 4: \"dau\" appears twice in the header (also column 2)",
        H.err(imbill.column.from_csv, path, "dau"))
      assert.same({ 6 }, imbill.column.from_csv(path, "groups"):totable())
      os.remove(path)
    end)

    it("refuse what is not a whole number, naming the index", function()
      assert.equal("imbill.column: values[2]: expected a whole number, got 2.5", H.err(imbill.column, { 1, 2.5 }))
      assert.equal('imbill.column: values[1]: expected a whole number, got "5"', H.err(imbill.column, { "5" }))
      assert.equal("imbill.column: values[3]: expected a whole number, got nil",
        H.err(imbill.column, { 1, 2, nil, 4 }))
      -- a float past 2^53 is whole but not exact, on both runtimes (and as a count for imbill.totals)
      assert.equal("imbill.column: values[2]: is a float beyond 2^53, which cannot be exact, got 1152921504606846976",
        H.err(imbill.column, { 1, 2 ^ 60 }))
      assert.equal("imbill.totals: peak_dau[1]: 1152921504606846976 is a float beyond 2^53, which cannot be exact",
        H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = { 2 ^ 60 }, threads = 1, into = imbill.column(1) }))
      assert.equal("imbill.column: n: must not be negative, got -1", H.err(imbill.column, -1))
      assert.equal("imbill.column: n: expected a whole number, got 1.5", H.err(imbill.column, 1.5))
      assert.equal("imbill.column: to: is below from, got 1", H.err(imbill.column, { from = 5, to = 1 }))
      assert.equal("imbill.column: step: must be at least 1, got 0", H.err(imbill.column, { from = 5, to = 9, step = 0 }))
      -- a range memory cannot hold names the range's end, not an `n` the caller never wrote
      -- (ASan aborts on such a request instead of failing it)
      if not os.getenv("ASAN_OPTIONS") then
        assert.equal("imbill.column: to: the range has 9007199254740993 values (8 bytes each), more than memory holds,"
          .. " got 9007199254740992", H.err(imbill.column, { from = 0, to = 2 ^ 53 }))
        -- a column a call makes for its result names the call when memory cannot
        -- hold it (it said "imbill.column: n: values do not fit in memory"), in a
        -- child process given 1.5 GB of address space for 100,000,000 values
        local code = "local imbill = require 'imbill' local c = imbill.column { from = 1, to = 100000000 } "
          .. "for _, f in ipairs { function() return c:copy() end, function() return c:percentile(50) end, "
          .. "function() return imbill.totals { book = '2020', edition = 'pro', peak_dau = c, threads = 1 } end } do "
          .. "print(select(2, pcall(f))) end"
        local out = H.sh(string.format("cd %s && ulimit -v 1500000 && LUA_PATH='lua/?.lua;lua/?/init.lua;;' "
          .. "LUA_CPATH=%s %s -e %s", H.q(H.top), H.q(H.cpath .. "/?.so;;"), H.lua, H.q(code)))
        assert.equal("column:copy: a column of 100000000 values (8 bytes each) does not fit in memory\n"
          .. "column:percentile: a column of 100000000 values (8 bytes each) does not fit in memory\n"
          .. "imbill.totals: a column of 100000000 values (8 bytes each) does not fit in memory", out)
      end
      assert.matches("^imbill.column: colour: unknown field", H.err(imbill.column, { from = 1, to = 2, colour = 3 }))
      assert.matches("^imbill.column: values: expected a count, an array", H.err(imbill.column, "x"))
      if H.is_jit then
        assert.equal("imbill.column: values[2]: is a float beyond 2^53, which cannot be exact, got"
          .. " 9007199254740994",
          H.err(imbill.column, { 1, 2 ^ 53 + 2 }))
        -- whole numbers up to 2^53 are exact and taken
        assert.equal(2 ^ 53, imbill.column { 2 ^ 53 }:get(1))
        assert.equal(2 ^ 51 + 1, imbill.column { 2 ^ 51 + 1 }:get(1))
        assert.equal(-2 ^ 53, imbill.column { -2 ^ 53 }:get(1))
      else
        assert.equal(math.maxinteger, imbill.column { math.maxinteger }:get(1))
        assert.equal(3, imbill.column { 3.0 }:get(1))
      end
    end)

    it("raise error objects naming the function, the field and the value", function()
      local ok, e = pcall(imbill.column, { 1, 2.5 })
      assert.is_false(ok)
      assert.equal("imbill.column", e.fn)
      assert.equal("values[2]", e.field)
      assert.equal(2.5, e.value)
    end)
  end)

  describe("methods", function()
    local c = imbill.column { 5, 3, 9, 3, 7 }

    it("get and set by position, 1-based", function()
      local d = imbill.column(c)
      assert.equal(9, d:get(3))
      assert.equal(d, d:set(3, 11))
      assert.equal(11, d:get(3))
      assert.equal("column:get: i: expected a position in the column (1 .. 5), got 0", H.err(d.get, d, 0))
      assert.equal("column:get: i: expected a position in the column (1 .. 5), got 6", H.err(d.get, d, 6))
      assert.equal("column:get: i: expected a whole number, got 1.5", H.err(d.get, d, 1.5))
      assert.equal("column:set: v: expected a whole number, got 2.5", H.err(d.set, d, 1, 2.5))
      assert.equal("column:get: self: expected a column (call it as col:method(...)), got 1", H.err(d.get, 1, 1))
    end)

    it("read and write like the array they stand for: col[i] for 1 .. #col, nil outside", function()
      local d = imbill.column(c)
      local sum = 0
      for i = 1, #d do sum = sum + d[i] end
      assert.equal(27, sum)
      assert.equal(9, d[3])
      for _, k in ipairs { 0, 6, -1, 1.5, 0 / 0, math.huge, -math.huge, 2 ^ 63 } do
        assert.is_nil(d[k], tostring(k))
      end
      d[3] = 11
      assert.equal(11, d:get(3))
      assert.equal(11, d[3])
      -- a column does not grow, and takes only whole numbers
      assert.equal("column:set: i: expected a position in the column (1 .. 5), got 6",
        H.err(function() d[6] = 1 end))
      assert.equal("column:set: v: expected a whole number, got 2.5", H.err(function() d[1] = 2.5 end))
      assert.equal("column: size: is not a value's place: a column's values are col[1] .. col[#col]",
        H.err(function() d.size = 1 end))
      -- a result column is read-only, by index as by set
      local cents = imbill.totals { book = "2020", edition = "pro", peak_dau = d }
      assert.equal(cents:get(1), cents[1])
      local g = imbill.grid { editions = { "2020/pro" }, start_dau = { 100 }, months = 2 }:column()
      assert.matches("is read%-only", H.err(function() g[1] = 0 end))
      -- the methods are still found by name
      assert.equal(d.sum, d.sum)
      assert.equal(29, d:sum())
      -- on LuaJIT a boxed 64-bit integer is the position it holds, as for get and set (col[1LL] read nil)
      if H.is_jit then
        local one, two, six, minus = load("return 1LL, 2ULL, 6LL, -1LL")()
        assert.same({ d:get(1), d:get(2), nil, nil }, { d[one], d[two], d[six], d[minus] })
        d[one] = 4
        assert.equal(4, d:get(1))
        assert.equal("column:set: i: expected a position in the column (1 .. 5), got 6LL",
          H.err(function() d[six] = 1 end))
      end
    end)

    it("summarise in C: sum, min and max with their position, mean, percentiles", function()
      assert.equal(27, c:sum())
      assert.same({ 3, 2 }, { c:min() })
      assert.same({ 9, 3 }, { c:max() })
      assert.equal(5, c:mean()) -- 27 / 5 = 5.4 -> 5
      assert.equal(6, imbill.column { 5, 6 }:mean()) -- 5.5 -> 6, half-up
      -- nearest rank: rank max(1, ceil(p/100 x n)) of 3 3 5 7 9
      assert.equal(3, c:percentile(0))
      assert.equal(3, c:percentile(40))
      assert.equal(5, c:percentile(41))
      assert.equal(9, c:percentile(100))
      assert.equal(7, c:percentile("79.9999"))
      assert.same({ 3, 5, 9 }, c:percentiles { 20, 50, 95 })
      local s = c:summary { 50 }
      assert.same({ n = 5, min = 3, argmin = 2, max = 9, argmax = 3, sum = 27, mean = 5, p50 = 5 }, s)
      assert.is_nil(imbill.column(0):min())
      assert.is_nil(imbill.column(0):percentile(50))
      assert.equal(0, imbill.column(0):sum())
      -- the summary of no values says the same: n 0, sum 0, and nothing else (its sum was missing)
      assert.same({ n = 0, sum = 0 }, imbill.column(0):summary())
      -- one value is every statistic of itself
      assert.same({ n = 1, min = 7, argmin = 1, max = 7, argmax = 1, sum = 7, mean = 7, p5 = 7, p25 = 7, p50 = 7, p75 = 7,
                    p95 = 7 }, imbill.column { 7 }:summary())
      assert.equal("column:percentile: p: expected 0 .. 100, got 101", H.err(c.percentile, c, 101))
      assert.equal("column:percentile: p: at most 4 decimals, got \"1.00001\"", H.err(c.percentile, c, "1.00001"))
      -- one "%" ends a percentile: a second was read as a percentage of it ("95%%" as 0.95)
      assert.equal(9, c:percentile("95%"))
      assert.equal('column:percentile: p: expected 0 .. 100, a number or a percentage such as "95%", got "95%%"',
        H.err(c.percentile, c, "95%%"))
      -- the summary's keys are the percentile read, the same on both runtimes (5.4 made 50.0 p50.0)
      assert.same({ "argmax", "argmin", "max", "mean", "min", "n", "p50", "p97.5", "sum" },
        (function()
          local keys = {}
          for k in pairs(c:summary { 50.0, "97.5%" }) do keys[#keys + 1] = k end
          table.sort(keys)
          return keys
        end)())
    end)

    it("read p as a percentage, \"95%\" included: \"50%\" is the median, not the 0.5th percentile", function()
      -- 3 3 5 7 9: p50 is rank ceil(2.5) = 3, the 5; p0.5 would be rank 1, a 3
      assert.equal(5, c:percentile("50%"))
      assert.equal(c:percentile(50), c:percentile(" 50 % "))
      assert.same({ 3, 5, 9 }, c:percentiles { "20%", "50%", "95%" })
      assert.equal(7, c:percentile("79.9999%"))
      assert.equal("column:percentile: p: expected 0 .. 100, got \"101%\"", H.err(c.percentile, c, "101%"))
      assert.equal("column:percentile: p: at most 4 decimals, got \"1.00001%\"", H.err(c.percentile, c, "1.00001%"))
    end)

    it("give their values back as a Lua array, whole or a range", function()
      assert.same({ 5, 3, 9, 3, 7 }, c:totable())
      assert.same({ 3, 9 }, c:totable(2, 3))
      assert.same({ 3, 7 }, c:totable(4))
      assert.equal("column:totable: to: is below from, got 1", H.err(c.totable, c, 2, 1))
    end)

    it("refuse sums beyond 64 bits", function()
      if H.is_jit then return end
      local big = imbill.column { math.maxinteger, 1 }
      assert.equal("column:sum: self: the sum does not fit in 64 bits", H.err(big.sum, big))
      assert.equal("imbill.column: values[1]: the sum does not fit in 64 bits, got 9223372036854775807", H.err(function()
        return big + 1
      end))
      assert.equal("imbill.column: values[1]: times the ratio does not fit in 64 bits, got 9223372036854775807",
        H.err(function() return big * 2 end))
    end)

    -- The mean of values that fit in 64 bits fits too, whatever their sum:
    -- it was "the sum does not fit in 64 bits" for two values of 2^62.
    it("give the mean of values near 2^63 whose sum passes 64 bits, exactly, on both runtimes", function()
      local function text_of(f, col)
        local ok, v = pcall(f, col)
        if ok then return string.format("%d", v) end
        return tostring(v):match('got "(%-?%d+)"') or tostring(v)
      end
      -- 2^62 as 2^52 x 1024: a float past 2^53 is no count
      local two62 = imbill.column(2, 2 ^ 52) * 1024
      assert.equal("column:sum: self: the sum does not fit in 64 bits", H.err(two62.sum, two62))
      assert.equal("4611686018427387904", text_of(two62.mean, two62))
      -- 2^62 three times and 1: (3 x 2^62 + 1) / 4 = 3458764513820540928.25 -> ...928
      local three = (imbill.column(4, 2 ^ 52) * 1024):set(4, 1)
      assert.equal("3458764513820540928", text_of(three.mean, three))
      -- 2^62 twice and 2^62 - 1: (3 x 2^62 - 1) / 3 = 2^62 - 1/3 -> 2^62
      local below = (imbill.column(3, 2 ^ 52) * 1024) + imbill.column { 0, 0, -1 }
      assert.equal("4611686018427387904", text_of(below.mean, below))
      -- negative: -2^62 four times, mean -2^62
      local neg = imbill.column(4, -(2 ^ 52)) * 1024
      assert.equal("-4611686018427387904", text_of(neg.mean, neg))
      -- and half away from zero: (3 x -2^62 - 2) / 4 = -3458764513820540928.5 -> ...929
      local half = (imbill.column(4, -(2 ^ 52)) * 1024):set(4, -2)
      assert.equal("-3458764513820540929", text_of(half.mean, half))
    end)

    it("on LuaJIT refuse to give back a value beyond 2^53 as a number", function()
      if not H.is_jit then return end
      local big = imbill.column { 2 ^ 52 } * 4
      -- named by its place, as totable names it
      assert.equal("column:get: values[1]: is beyond 2^53 and cannot be exact on this runtime, got \"18014398509481984\"",
        H.err(big.get, big, 1))
      local two = imbill.column { 1, 2 ^ 52 } * 4
      assert.equal("column:get: values[2]: is beyond 2^53 and cannot be exact on this runtime, got \"18014398509481984\"",
        H.err(two.get, two, 2))
      assert.matches("^column:totable: values%[1%]: is beyond 2%^53", H.err(big.totable, big))
      assert.matches("^column:sum: sum: is beyond 2%^53", H.err(big.sum, big))
      assert.equal("18014398509481984LL", tostring(require("imbill.ffi.column").header(big, "spec").v[0]))
    end)
  end)

  describe("priced by imbill.totals", function()
    it("give a column of the cents the arrays give", function()
      local d, g, m = scenarios(3000, 7)
      for _, name in ipairs(EDITIONS) do
        local b, e = edition(name)
        local arr = imbill.totals { book = b, edition = e, peak_dau = d, groups_peak = g, mau = m }
        local col = imbill.totals { book = b, edition = e, peak_dau = imbill.column(d), groups_peak = imbill.column(g),
                                    mau = imbill.column(m) }
        assert.is_true(imbill.column.is(col))
        assert.same(arr, col:totable(), name)
      end
    end)

    it("agree with the single-scenario C path and the pure-Lua oracle at the boundaries", function()
      local d, g, m = scenarios(2000, 11)
      local cd, cg, cm = imbill.column(d), imbill.column(g), imbill.column(m)
      for _, name in ipairs(EDITIONS) do
        local b, e, ed = edition(name)
        local got = imbill.totals { book = b, edition = e, peak_dau = cd, groups_peak = cg, mau = cm }
        local r = pure.rate_of(ed)
        for i = 1, #d do
          local want = core.month_total(ed.rate, d[i], g[i], m[i])
          assert.equal(want, got:get(i), name .. " #" .. i)
          assert.equal(pure.total(r, d[i], g[i], m[i]), want, name .. " #" .. i .. " (pure Lua)")
        end
      end
    end)

    it("mix columns, arrays and numbers", function()
      local got = imbill.totals { book = "2020", edition = "pro", peak_dau = imbill.column { 9999, 10001 },
                                  groups_peak = { 100000, 100001 }, mau = 5 }
      assert.same({ 14999, 44997 }, got:totable())
      got = imbill.totals { book = "2022", edition = "standard", mau = imbill.column { 10000, 10001, 25000 } }
      assert.same({ 39900, 39902, 62400 }, got:totable())
    end)

    it("take counts past 2^53 exactly in C, where a Lua array on LuaJIT cannot", function()
      local big = imbill.column { 2 ^ 52 } * 2 + 10000
      -- a measure the edition does not bill, or a free edition: any count prices
      assert.same({ 39902 }, imbill.totals { book = "2022", edition = "standard", peak_dau = big, mau = 10001 }:totable())
      assert.same({ 0 }, imbill.totals { book = "2020", edition = "trial", peak_dau = big }:totable())
      -- 2020 pro at 2^53 + 10,000 DAU: 14,999 + ceil(2^53 / 10,000) x 14,999 cents
      -- is more than money holds: no invoice has that total, so neither does this
      assert.equal("imbill.totals: peak_dau[1]: 9007199254750992 gives a charge that does not fit in 64 bits",
        H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = big }))
    end)

    it("name the field and index of a negative count, and of a line beyond 64 bits", function()
      local d = imbill.column { 1, 2, 3 }
      d:set(3, -7)
      assert.equal("imbill.totals: peak_dau[3]: expected a whole number >= 0, got -7",
        H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = d }))
      assert.equal("imbill.totals: groups_peak: has 2 scenarios where peak_dau has 3",
        H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = d, groups_peak = imbill.column(2) }))
      assert.equal("imbill.totals: mau: must not be negative, got -1",
        H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = d, mau = -1 }))
      assert.equal("imbill.totals: groups_peak[2]: expected a whole number >= 0, got 1.5",
        H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = imbill.column(2), groups_peak = { 1, 1.5 } }))
      if not H.is_jit then
        local huge = imbill.column { 1, math.maxinteger }
        assert.equal("imbill.totals: mau[2]: 9223372036854775807 gives a charge that does not fit in 64 bits",
          H.err(imbill.totals, { edition = "standard", mau = huge }))
      else
        local huge = imbill.column { 1, 2 ^ 53 } * 1023
        assert.equal("imbill.totals: mau[2]: 9214364837600034816 gives a charge that does not fit in 64 bits",
          H.err(imbill.totals, { edition = "standard", mau = huge }))
      end
    end)

    it("write into a column given, which must fit and not be an input", function()
      local d = imbill.column { 10000, 10001 }
      local out = imbill.column(2)
      local got = imbill.totals { book = "2020", edition = "pro", peak_dau = d, into = out }
      assert.equal(out, got)
      assert.same({ 14999, 29998 }, out:totable())
      assert.equal("imbill.totals: into: has 3 values where the scenarios are 2",
        H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = d, into = imbill.column(3) }))
      assert.equal("imbill.totals: into: is the peak_dau column itself; pass another column",
        H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = d, into = d }))
      assert.equal("imbill.totals: into: expected a column, got table",
        H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = d, into = {} }))
    end)
  end)

  describe("on every core", function()
    it("give one thread's cents whatever the number of threads", function()
      local d, g, m = scenarios(150000, 3)
      local cd, cg, cm = imbill.column(d), imbill.column(g), imbill.column(m)
      for _, name in ipairs { "2020/pro", "2022/standard" } do
        local b, e = edition(name)
        local one = imbill.totals { book = b, edition = e, peak_dau = cd, groups_peak = cg, mau = cm, threads = 1 }:totable()
        for _, t in ipairs { 2, 3, 4, 7 } do
          local many = imbill.totals { book = b, edition = e, peak_dau = cd, groups_peak = cg, mau = cm, threads = t }
          assert.same(one, many:totable(), name .. " threads " .. t)
        end
        assert.same(one, imbill.totals { book = b, edition = e, peak_dau = cd, groups_peak = cg, mau = cm }:totable())
      end
    end)

    it("report the first failure by scenario index, and leave no thread running", function()
      local d = imbill.column(200000, 20000)
      local g = imbill.column(200000, 5)
      d:set(190000, -1)
      g:set(150001, -2)
      d:set(150003, -3)
      local before = threads_now()
      for _ = 1, 5 do
        for _, t in ipairs { 1, 2, 4 } do
          assert.equal("imbill.totals: groups_peak[150001]: expected a whole number >= 0, got -2",
            H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = d, groups_peak = g, threads = t }))
        end
      end
      if before then assert.equal(before, threads_settled(before)) end
    end)

    it("check the threads option", function()
      local d = imbill.column(3)
      assert.equal("imbill.totals: threads: expected a whole number >= 0, got 1.5",
        H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = d, threads = 1.5 }))
      assert.equal("imbill.totals: threads: expected 0 (every core) .. 1024, got 5000",
        H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = d, threads = 5000 }))
      assert.is_true(core.cores() >= 1)
    end)
  end)

  describe("and grids", function()
    local spec = { editions = { "2020/pro", "2022/standard" }, growth = { "-2%", "0%", "7.5%" },
                   start_dau = { from = 0, to = 60000, step = 599 }, months = 7, groups = 90000,
                   groups_per_dau = "1.5", mau_per_dau = "3" }

    it("give one thread's totals on every core", function()
      local function run(t)
        local p = {}
        for k, v in pairs(spec) do p[k] = v end
        p.threads, p.chunk = t, 101
        return imbill.grid(p):totals()
      end
      local one = run(1)
      assert.same(one, run(2))
      assert.same(one, run(3))
      assert.same(one, run(nil))
    end)

    it("check the threads option", function()
      assert.equal("imbill.grid: threads: must not be negative, got -1",
        H.err(imbill.grid, { start_dau = { 1 }, threads = -1 }))
      assert.equal("imbill.grid: threads: expected a whole number >= 0, got 1.5",
        H.err(imbill.grid, { start_dau = { 1 }, threads = 1.5 }))
      assert.equal(12, imbill.grid { start_dau = { 1, 2 }, threads = 0, mau_per_dau = "3" }:size()) -- 0: every core
    end)

    it("hand their results over as a read-only column, without a copy", function()
      local g = imbill.grid(spec)
      local c = g:column()
      assert.equal(g:size(), #c)
      assert.same(g:totals(), c:totable())
      assert.equal(g:cents(17), c:get(17))
      assert.equal(tostring(g:max()), tostring(imbill.money.from_cents((c:max()))))
      assert.equal("imbill.column(" .. g:size() .. ", read-only)", tostring(c))
      assert.matches("^column:set: self: is read%-only", H.err(c.set, c, 1, 5))
      g = nil -- luacheck: ignore
      collectgarbage()
      collectgarbage()
      assert.equal(#c, #c:totable()) -- the column keeps the grid's memory alive
      -- and a copy is a column to change
      local d = c:copy()
      d:set(1, 5)
      assert.equal(5, d:get(1))
    end)
  end)

  if H.is_jit then
    describe("on LuaJIT, over FFI memory", function()
      local ffi = require "ffi"

      it("view int64_t cdata without a copy", function()
        local buf = ffi.new("int64_t[?]", 4, { 10001, 20001, 30001, 9999 })
        local v = imbill.column.view(buf)
        assert.equal(4, #v)
        assert.same({ 29998, 44997, 59996, 14999 }, imbill.totals { book = "2020", edition = "pro", peak_dau = v }:totable())
        v:set(1, 5)
        assert.equal(5, tonumber(buf[0]))
        buf[1] = 7
        assert.equal(7, v:get(2))
        local p = ffi.cast("int64_t *", buf)
        assert.same({ 5, 7 }, imbill.column.view(p, 2):totable())
      end)

      it("keep the cdata alive", function()
        local v = imbill.column.view(ffi.new("int64_t[?]", 1000, 3))
        collectgarbage()
        collectgarbage()
        local junk = 0
        for _ = 1, 1000 do junk = junk + tonumber(ffi.new("int64_t[?]", 1000, 9)[999]) end
        assert.equal(9000, junk)
        assert.equal(3000, v:sum())
      end)

      it("refuse other cdata and lengths past the array", function()
        assert.equal("imbill.column.view: cdata: expected int64_t[?] or int64_t * cdata, got cdata<double [3]>",
          H.err(imbill.column.view, ffi.new("double[3]")))
        assert.equal("imbill.column.view: n: is required for a pointer",
          H.err(imbill.column.view, ffi.cast("int64_t *", ffi.new("int64_t[3]"))))
        assert.equal("imbill.column.view: n: is more values than the array holds (3), got 4",
          H.err(imbill.column.view, ffi.new("int64_t[3]"), 4))
      end)

      it("refuse to make a Lua array of more than 50,000,000 values, with imbill's error (not 'table overflow')", function()
        -- refused before any value is read: the pointer's memory need not hold them
        local small = ffi.new("int64_t[4]", { 1, 2, 3, 4 })
        local v = imbill.column.view(ffi.cast("int64_t *", small), 200000000)
        assert.equal("column:totable: self: 200000000 values are too many for a Lua array (at most 50000000; take a"
          .. " range: col:totable(from, to))", H.err(v.totable, v))
        assert.equal("column:totable: self: 50000001 values are too many for a Lua array (at most 50000000; take a"
          .. " range: col:totable(from, to))", H.err(v.totable, v, 1, 50000001))
        assert.same({ 1, 2, 3, 4 }, v:totable(1, 4))
      end)

      -- 270,000,000 values: 2.2 GB of column and as much of scratch (run with --tags=slow)
      it("take percentiles of a column past 2 GiB (its scratch was a userdata LuaJIT stops at 2 GiB) #slow", function()
        local big = imbill.column(270000000, 5)
        big:set(270000000, 9)
        assert.same({ 5, 5, 9 }, big:percentiles { 0, 50, 100 })
      end)

      it("refuse a NULL pointer, which has no values to read (it crashed the first get)", function()
        local null = ffi.cast("int64_t *", nil)
        assert.equal("imbill.column.view: cdata: is a NULL pointer, got cdata<int64_t *>",
          H.err(imbill.column.view, null, 3))
        assert.equal("imbill.column.view: cdata: is a NULL pointer, got cdata<int64_t *>",
          H.err(imbill.column.view, null, 0))
      end)

      it("view const memory read-only: nothing is written through a pointer declared const", function()
        local buf = ffi.new("int64_t[3]", { 10001, 2, 3 })
        local v = imbill.column.view(ffi.cast("const int64_t *", buf), 3)
        assert.equal("imbill.column(3, read-only)", tostring(v))
        assert.equal(10001, v:get(1))
        assert.matches("^column:set: self: is read%-only %(a grid's results, or a view of const memory%)",
          H.err(v.set, v, 1, 99))
        assert.equal("imbill.totals: into: is read-only (a grid's results, or a view of const memory)",
          H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = imbill.column { 1, 2, 3 }, into = v }))
        assert.equal(10001, tonumber(buf[0]))
        -- read, it prices as any column
        assert.same({ 29998, 14999, 14999 }, imbill.totals { book = "2020", edition = "pro", peak_dau = v }:totable())
        local carr = ffi.new("const int64_t[2]", { 4, 5 })
        assert.equal("imbill.column(2, read-only)", tostring(imbill.column.view(carr)))
      end)

      it("get, set and totable through the FFI raise the C methods' errors", function()
        local c = imbill.column { 1, 2 }
        assert.equal("column:get: i: expected a position in the column (1 .. 2), got 3", H.err(c.get, c, 3))
        assert.equal("column:set: v: expected a whole number, got 0.5", H.err(c.set, c, 1, 0.5))
        assert.equal("column:set: v: is a float beyond 2^53, which cannot be exact, got 9007199254740994",
          H.err(c.set, c, 1, 2 ^ 53 + 2))
        assert.equal("column:totable: from: expected a position in the column (1 .. 2), got 0", H.err(c.totable, c, 0))
      end)
    end)
  else
    it("view FFI memory only on LuaJIT", function()
      assert.equal("imbill.column.view: cdata: needs LuaJIT's FFI, got nil", H.err(imbill.column.view, nil))
    end)
  end
end)
