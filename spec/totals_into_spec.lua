-- imbill.totals{ ..., into = col } is all or nothing: a call that raises,
-- for whatever reason, leaves col holding exactly what it held before; only a
-- call that prices every scenario changes it, and then every value at once.
local H = require "helper"
local imbill = H.imbill

local PRO = { book = "2020", edition = "pro" }

-- The options of a call: PRO's book and edition (unless p names others) and p's fields.
local function call(p)
  local o = { book = PRO.book, edition = PRO.edition }
  for k, v in pairs(p) do o[k] = v end
  return o
end

-- A column of n distinct values standing for earlier results: 1, 2, ... n.
local function earlier(n) return imbill.column { from = 1, to = n } end

-- The first position where a column's values differ from an array's, or nil
-- (a failure names it, instead of printing 100,000 values).
local function first_change(before, col)
  local after = col:totable()
  if #after ~= #before then return 0 end
  for i = 1, #before do
    if after[i] ~= before[i] then return i end
  end
  return nil
end

-- The call raises the message given and leaves into's values as they were.
local function refused_untouched(p, message)
  local before = p.into:totable()
  assert.equal(message, H.err(imbill.totals, call(p)))
  local at = first_change(before, p.into)
  assert(at == nil, "into changed at " .. tostring(at))
end

describe("imbill.totals into a column", function()
  it("is all or nothing: the worked example", function()
    -- four scenarios, the third one's peak DAU negative: the call raises and
    -- col still holds 1, 2, 3, 4, not 14999 and 29998 for the two scenarios before it
    local col = imbill.column { 1, 2, 3, 4 }
    local dau = imbill.column { 10000, 10001, -5, 7 }
    assert.equal("imbill.totals: peak_dau[3]: expected a whole number >= 0, got -5",
      H.err(imbill.totals, { book = "2020", edition = "pro", peak_dau = dau, into = col }))
    assert.same({ 1, 2, 3, 4 }, col:totable())
    -- once every scenario can be priced, every value is replaced at once
    dau:set(3, 5)
    assert.equal(col, imbill.totals { book = "2020", edition = "pro", peak_dau = dau, into = col })
    assert.same({ 14999, 29998, 14999, 14999 }, col:totable())
  end)

  -- small columns keep their values in the userdata, large ones in a buffer
  -- of their own; both, on one thread and on two (100,000 scenarios are cut
  -- in two pieces, so the second piece's failure comes after the first
  -- piece has been priced)
  for _, n in ipairs { 8, 100000 } do
    for _, threads in ipairs { 1, 2 } do
      local where = { first = 1, middle = math.floor(n / 2) + 1, last = n }
      for _, at_name in ipairs { "first", "middle", "last" } do
        local at = where[at_name]
        local tag = string.format("%d scenarios, threads = %d, at the %s scenario", n, threads, at_name)

        it("is left as it was by a bad count (" .. tag .. ")", function()
          local dau = imbill.column(n, 20000)
          dau:set(at, -7)
          refused_untouched({ peak_dau = dau, groups_peak = 3, threads = threads, into = earlier(n) },
            "imbill.totals: peak_dau[" .. at .. "]: expected a whole number >= 0, got -7")
          local groups = imbill.column(n, 2)
          groups:set(at, -1)
          refused_untouched({ peak_dau = imbill.column(n, 20000), groups_peak = groups, threads = threads,
                              into = earlier(n) },
            "imbill.totals: groups_peak[" .. at .. "]: expected a whole number >= 0, got -1")
        end)

        it("is left as it was by a bad value in a Lua array (" .. tag .. ")", function()
          -- the array is made a column before anything is priced (through the FFI on LuaJIT)
          local dau = {}
          for i = 1, n do dau[i] = 10000 + i end
          dau[at] = 2.5
          refused_untouched({ peak_dau = dau, threads = threads, into = earlier(n) },
            "imbill.totals: peak_dau[" .. at .. "]: expected a whole number >= 0, got 2.5")
        end)

        it("is left as it was by a scenario that cannot be priced (" .. tag .. ")", function()
          -- 2^53 users times 1023: a MAU line beyond 64 bits on 2022/standard
          local mau = imbill.column(n, 1)
          mau:set(at, 2 ^ 53)
          mau = mau * 1023
          refused_untouched({ book = "2022", edition = "standard", mau = mau, threads = threads, into = earlier(n) },
            "imbill.totals: mau[" .. at .. "]: 9214364837600034816 gives a charge that does not fit in 64 bits")
        end)
      end

      it("takes every scenario's cents when the call succeeds (" .. n .. " scenarios, threads = " .. threads .. ")",
        function()
          local into = earlier(n)
          -- again and again, with other counts each time: the cents a new column gets
          for k = 1, 3 do
            local dau = imbill.column { from = 9990 + k, to = 9990 + k + n - 1 }
            local mau = dau * 2
            local fresh = imbill.totals(call { peak_dau = dau, mau = mau, threads = threads })
            assert.equal(into, imbill.totals(call { peak_dau = dau, mau = mau, threads = threads, into = into }))
            assert.same(fresh:totable(), into:totable())
          end
        end)
    end
  end

  it("is left as it was by a bad option, whatever field it names", function()
    local into = earlier(3)
    local dau = imbill.column { 1, 2, 3 }
    refused_untouched({ peak_dau = dau, threads = 1.5, into = into },
      "imbill.totals: threads: expected a whole number >= 0, got 1.5")
    refused_untouched({ book = "2022", edition = "standard", peak_dau = dau, into = into },
      "imbill.totals: mau: the usage gives no MAU, and 2022/standard bills MAU: "
        .. "give mau (an array, a column, or a number for every scenario)")
    refused_untouched({ peak_dau = imbill.column { 1, 2 }, groups_peak = dau, into = into },
      "imbill.totals: groups_peak: has 3 scenarios where peak_dau has 2")
  end)

  it("is refused with editions =, and left as it was", function()
    -- into takes one edition's results; with several, the columns come back new
    local into = earlier(3)
    local before = into:totable()
    assert.equal("imbill.totals: into: takes one edition's results; not with editions",
      H.err(imbill.totals, { editions = { "2020/pro", "2022/standard" }, peak_dau = imbill.column { 1, -2, 3 },
                             mau = 0, into = into }))
    assert.equal("imbill.totals: into: takes one edition's results; not with editions",
      H.err(imbill.totals, { editions = { "2020/pro" }, peak_dau = imbill.column { 1, 2, 3 }, into = into }))
    assert.same(before, into:totable())
  end)

  if H.is_jit then
    it("over FFI memory (LuaJIT), leaves the memory as it was, or writes the cents there", function()
      local ffi = require "ffi"
      local n = 100000
      for _, threads in ipairs { 1, 2 } do
        local buf = ffi.new("int64_t[?]", n)
        for i = 0, n - 1 do buf[i] = i + 1 end
        local into = imbill.column.view(buf)
        local dau = imbill.column(n, 20000)
        dau:set(n, -7)
        refused_untouched({ peak_dau = dau, threads = threads, into = into },
          "imbill.totals: peak_dau[" .. n .. "]: expected a whole number >= 0, got -7")
        for i = 0, n - 1 do assert(buf[i] == i + 1, "buf[" .. i .. "] changed") end
        dau:set(n, 5)
        assert.equal(into, imbill.totals(call { peak_dau = dau, threads = threads, into = into }))
        assert.equal(29998, tonumber(buf[0]))
        assert.equal(14999, tonumber(buf[n - 1]))
      end
    end)
  end
end)
