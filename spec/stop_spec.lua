-- The Lua state's stop hook (core.set_stop): how a notebook's interrupt
-- reaches the C work of a grid and of the pricing of columns, whichever
-- route the caller took to them.
local core = require "imbill.core"
local imbill = require "imbill"
local grid = require "imbill.whatif.grid"

local BIG = { editions = { "2021/pro", "2021/ultimate" }, growth = { "0%", "1%" },
              start_dau = { from = 1, to = 1000000 }, months = 120, chunk = 10000000 }

-- f(arg) is stopped by a hook that says yes on its nth call (after asking
-- it n times), and by a hook that raises, with the hook's error; a hook that
-- always says no gives what no hook gives (compared as view(result), when
-- given).  Returns that result.
local function stoppable(f, arg, n, view)
  view = view or function(x) return x end
  local calls = 0
  core.set_stop(function() calls = calls + 1 return calls == n end)
  local ok, e = pcall(f, arg)
  assert.is_false(ok)
  assert.matches("stopped by the stop hook", tostring(e))
  assert.equal(n, calls)
  core.set_stop(function() error("interrupted") end)
  ok, e = pcall(f, arg)
  assert.is_false(ok)
  assert.matches("interrupted", tostring(e))
  core.set_stop(function() return false end)
  local with = f(arg)
  core.set_stop(nil)
  assert.same(view(f(arg)), view(with))
  return with
end

describe("the stop hook of long calls (core.set_stop)", function()
  after_each(function() core.set_stop(nil) end)

  it("stops one long grid chunk in C, saying the hook's error, every thread joined", function()
    local mine = setmetatable({}, { __tostring = function() return "stop here" end })
    local calls = 0
    core.set_stop(function() calls = calls + 1 error(mine) end)
    -- one chunk of 2 million scenarios over 120 months: no Lua between, only the C work's poll
    local ok, e = pcall(grid.run, BIG)
    assert.is_false(ok)
    assert.equal(1, calls)
    assert.equal("imbill.grid: stop here", tostring(e))
    -- nothing left running or half done: the next grid is whole and right
    core.set_stop(nil)
    local small = { editions = { "2021/pro" }, growth = { "0%", "5%" }, start_dau = { 100, 20000 }, months = 12 }
    local a, b = grid.run(small), grid.run(small)
    assert.equal(4, a:size())
    for i = 1, 4 do assert.equal(a:cents(i), b:cents(i)) end
  end)

  it("stops the pricing of columns, reached through require, and leaves `into` as it was", function()
    local n = 4000000
    local dau = imbill.column { from = 1, to = n }
    local into = imbill.column(n, 7)
    core.set_stop(function() return true end)
    local ok, e = pcall(imbill.totals, { book = "2021", edition = "pro", peak_dau = dau, into = into, threads = 2 })
    assert.is_false(ok)
    assert.matches("imbill.totals: stopped", tostring(e))
    assert.equal(7, into:get(1))
    assert.equal(7, into:get(n))
    ok = pcall(imbill.totals, { editions = { "2021/pro", "2022/standard" }, peak_dau = dau, mau = dau * 3 })
    assert.is_false(ok)
  end)

  -- Over Lua arrays the work is a loop in C (Lua 5.4) or a compiled FFI
  -- loop (LuaJIT), which a notebook's count hook never reaches: the stop
  -- hook is polled every 65,536 scenarios (it was never asked, and a cell
  -- pricing 50 million array scenarios could not be interrupted).
  it("is asked while imbill.totals reads Lua arrays, one edition or several", function()
    local n = 300000
    local dau, groups = {}, {}
    for i = 1, n do dau[i], groups[i] = i % 40000, i % 300000 end
    for _, p in ipairs {
      { book = "2020", edition = "pro", peak_dau = dau, groups_peak = groups },
      { book = "2020", edition = "pro", peak_dau = dau },
      { editions = { "2020/pro", "2021/pro" }, peak_dau = dau, groups_peak = groups },
    } do
      -- the hook's own error is what is raised; a hook that never stops
      -- changes nothing: the same cents as without one
      stoppable(imbill.totals, p, 2)
    end
    -- a batch smaller than one poll's worth (8,192 scenarios on LuaJIT,
    -- 16,384 through the C API) is asked once, at its start, as the column
    -- and grid kernels ask at their first slice: a stop pending when the
    -- call begins is seen
    local calls = 0
    core.set_stop(function() calls = calls + 1 return false end)
    local small = {}
    for i = 1, 8000 do small[i] = i end
    assert.equal(8000, #imbill.totals { book = "2020", edition = "pro", peak_dau = small })
    assert.equal(1, calls)
    core.set_stop(function() return true end)
    assert.matches("stopped by the stop hook", select(2, pcall(imbill.totals,
      { book = "2020", edition = "pro", peak_dau = small })))
  end)

  it("is asked while a column is built from a Lua array, on both runtimes", function()
    local n = 100000
    local t = {}
    for i = 1, n do t[i] = i end
    -- a hook that never stops changes nothing
    local col = stoppable(imbill.column, t, 3, function(c) return c:totable() end)
    assert.equal(n, #col)
    assert.equal(n * (n + 1) / 2, col:sum())
    -- the same copy when imbill.totals takes an array beside a column
    local calls = 0
    core.set_stop(function() calls = calls + 1 return false end)
    imbill.totals { book = "2020", edition = "pro", peak_dau = imbill.column(n, 5), groups_peak = t }
    core.set_stop(nil)
    assert.is_true(calls >= 2)
  end)

  it("is asked between a projection's months and a migration's", function()
    local calls = 0
    core.set_stop(function() calls = calls + 1 return calls > 2 end)
    local s = imbill.series.build { from = "2022-01", months = 12, dau = 5000 }
    local ok, e = pcall(imbill.project, { usage = s, books = { "2021" } })
    assert.is_false(ok)
    assert.matches("stopped", tostring(e))
    assert.equal(3, calls)
  end)

  it("costs nothing without a hook: the results are those of no hook at all, and set_stop names a bad hook", function()
    assert.is_nil(core.set_stop(nil))
    local f = function() return false end
    core.set_stop(f)
    assert.equal(f, core.set_stop(nil))
    local g = grid.run { editions = { "2021/pro" }, growth = { "0%" }, start_dau = { 100, 20000 }, months = 12 }
    core.set_stop(function() return false end)
    local h = grid.run { editions = { "2021/pro" }, growth = { "0%" }, start_dau = { 100, 20000 }, months = 12 }
    assert.equal(g:cents(2), h:cents(2))
    assert.has_error(function() core.set_stop(42) end, "core.set_stop: hook: expected a function or nil, got 42")
  end)

  -- The hook is Lua run on the caller's thread while the call's other threads
  -- still read its columns: a write there raced with those reads (ThreadSanitizer
  -- saw it) and could change totals half-way, so the call's columns refuse it.
  it("refuses, from the hook, to change a column the call is pricing (col:set, into); it may once the call returns", function()
    local n = 4000000
    local dau = imbill.column { from = 1, to = n }
    local want = imbill.totals { book = "2021", edition = "pro", peak_dau = dau, threads = 2 }
    local set_err, into_err, calls = nil, nil, 0
    core.set_stop(function()
      calls = calls + 1
      local ok, e = pcall(dau.set, dau, 1, 5)
      if not ok then set_err = set_err or tostring(e) end
      core.set_stop(nil) -- the nested call below asks no hook
      ok, e = pcall(imbill.totals, { book = "2021", edition = "pro", peak_dau = { 1 }, into = imbill.column(1, 0) })
      assert(ok, e)
      ok, e = pcall(imbill.totals, { book = "2021", edition = "pro", peak_dau = dau, into = dau })
      if not ok then into_err = into_err or tostring(e) end
      return false
    end)
    local got = imbill.totals { book = "2021", edition = "pro", peak_dau = dau, threads = 2 }
    assert.is_true(calls >= 1)
    assert.equal("column:set: self: is being priced by the call that runs the stop hook (core.set_stop): "
                 .. "it can change once that call returns", set_err)
    assert.matches("into: is being priced by the call that runs the stop hook", into_err, 1, true)
    assert.equal(1, dau:get(1))
    for _, i in ipairs { 1, 2, 2000000, n } do assert.equal(want:get(i), got:get(i)) end
    -- the call returned: the column is as writable as before
    dau:set(1, 5)
    assert.equal(5, dau:get(1))
    assert.equal("imbill.column(" .. n .. ")", tostring(dau))
  end)

  it("refuses, from the hook, to run the grid whose run called it", function()
    local rate = grid.spec({ editions = { "2021/pro" }, start_dau = { 1 } }).editions[1].rate
    local starts = {}
    for i = 1, 200000 do starts[i] = i end
    local g = core.grid({ rate, rate }, { 0, 10000 }, starts, 120, 0, 0, 0)
    local err, calls = nil, 0
    core.set_stop(function()
      calls = calls + 1
      local ok, e = pcall(g.run, g, 10)
      if not ok then err = err or tostring(e) end
      return false
    end)
    assert.equal(800000, g:run(nil, 2))
    assert.is_true(calls >= 1)
    assert.matches("self: is running already %(g:run called from the stop hook, core.set_stop%)", err)
    core.set_stop(nil)
    local one = core.grid({ rate, rate }, { 0, 10000 }, starts, 120, 0, 0, 0)
    one:run(nil, 1)
    for _, i in ipairs { 1, 200000, 400001, 800000 } do assert.equal(one:get(i), g:get(i)) end
  end)
end)
