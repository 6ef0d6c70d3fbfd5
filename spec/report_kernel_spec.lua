-- The Lua side of the notebook kernel (issue 13): what a cell shows, where
-- print goes, how errors read, and how an interrupt stops a cell.
local K = require "imbill.report.kernel"

-- A session on its own environment (and its own io table), so the cells'
-- print and io.write do not replace busted's.
local function session(poll)
  local log = {}
  local env = setmetatable({ io = setmetatable({}, { __index = io }) }, { __index = _G })
  local s = K.session({
    write = function(stream, text) log[#log + 1] = { stream, text } end,
    publish = function(bundle) log[#log + 1] = { "display", bundle["text/plain"] } end,
    poll = poll or function() return false end,
  }, { env = env })
  return s, log, env
end

local function values(r)
  assert.is_true(r.ok, r.ok or table.concat(r.traceback, "\n"))
  local out = {}
  for i, b in ipairs(r.values) do out[i] = b["text/plain"] end
  return out
end

describe("notebook kernel session", function()
  it("shows the value of an expression cell, of a last line that is an expression, and nothing else", function()
    local s = session()
    assert.same({ "2" }, values(s.run("1 + 1")))
    assert.same({ "10" }, values(s.run("x = 5\nx * 2")))
    assert.same({}, values(s.run("y = 1")))
    assert.same({ "1", "3" }, values(s.run("return 1, nil, 3")))
    assert.same({}, values(s.run("for i = 1, 2 do\n  y = y + i\nend")))
    assert.same({ "4" }, values(s.run("y")))
    -- a last line that could continue the line before it runs as written
    -- (Lua 5.1 and LuaJIT call that ambiguous; 5.4 reads one call)
    local amb = s.run("f = print\n(f)")
    if rawget(_G, "jit") then assert.equal("SyntaxError", amb.ename) else assert.same({}, values(amb)) end
    assert.matches("^Invoice 2021%-03", values(s.run(
      "imbill.invoice { book = '2020', edition = 'pro', month = '2021-03', peak_dau = 25000 }"))[1])
  end)

  it("runs a last line as written when Lua reads it as the end of the line before", function()
    -- `a = b` then `- 3` is a = b - 3 in Lua; the kernel set a = 10 and
    -- showed -3, and `inv = f` then `{ ... }` left inv the function itself
    local s, _, env = session()
    assert.same({}, values(s.run("b = 10\na = b\n- 3")))
    assert.equal(7, env.a)
    values(s.run("function f(t) return 'called with ' .. tostring(t.book or t) end"))
    assert.same({}, values(s.run("inv = f\n{ book = '2021' }")))
    assert.equal("called with 2021", env.inv)
    assert.same({}, values(s.run("s = f\n'x' .. 'y'")))
    assert.equal("called with xy", env.s)
    -- a last line that stands on its own is still shown, and so is one that
    -- makes the cell compile at all
    assert.same({ "2" }, values(s.run("print(1)\nmath.max(1, 2)")))
    assert.same({ "14" }, values(s.run("c = 7\nc * 2")))
    assert.same({ "{ 1, 2 }" }, values(s.run("c = 7\n{ 1, 2 }")))
  end)

  it("keeps globals across cells; a local lives in its cell, and the error says so", function()
    local s = session()
    values(s.run("kept = 41\nlocal gone = 1"))
    assert.same({ "42" }, values(s.run("kept + 1")))
    local r = s.run("gone + 1")
    assert.is_false(r.ok)
    assert.equal("LuaError", r.ename)
    assert.matches("global 'gone'", r.traceback[1])
    assert.matches("^hint: gone was declared local in cell%[1%]", r.traceback[#r.traceback])
  end)

  it("sends print, io.write and display to the bridge in order", function()
    local s, log = session()
    values(s.run("print('a', 1, nil)\nio.write('b', 2, '\\n'):write('!')\ndisplay(imbill.money('1.5'))\nprint('c')"))
    assert.same({ { "stdout", "a\t1\tnil\n" }, { "stdout", "b2\n" }, { "stdout", "!" }, { "display", "1.50" },
                  { "stdout", "c\n" } }, log)
  end)

  it("reports an error with the Lua message first, then the cells' frames", function()
    local s = session()
    local r = s.run("imbill.invoice { book = '2021', edition = 'pro', month = '2021-13' }")
    assert.is_false(r.ok)
    assert.equal("ImbillError", r.ename)
    assert.equal('imbill.invoice: month: no such month, got "2021-13"', r.traceback[1])
    assert.equal(r.evalue, r.traceback[1])
    -- the cell's line, though the failing call is the cell's value (a tail
    -- call, which dropped the cell's frame), alone or on the last line
    assert.same({ "  at cell[1]:1: in main chunk" }, { r.traceback[2] })
    local rl = s.run("x = 1\n\nimbill.invoice { book = '2021', edition = 'pro', month = '2021-13' }")
    assert.matches("^  at cell%[%d+%]:3:", rl.traceback[2])
    s.run("function f() return imbill.invoice { book = '2021', edition = 'pro', month = '2021-13' } end")
    local rf = s.run("f()")
    assert.matches("^  at cell%[%d+%]:1:", rf.traceback[#rf.traceback])
    -- several values, and a call's several results, are all shown still
    assert.same({ "1", "2", "3" }, values(s.run("1, 2, 3")))
    assert.same({ "1", "2" }, values(s.run("x = 9\nmath.min(1, 2), 2")))
    assert.same({ "a", "b" }, values(s.run("(function() return 'a', 'b' end)()")))
    local r2 = s.run("local t = {}\n\nt.a.b = 1")
    assert.equal("LuaError", r2.ename)
    assert.matches("^cell%[%d+%]:3: attempt to index", r2.traceback[1])
    assert.matches("^  at cell%[%d+%]:3:", r2.traceback[2])
    local r3 = s.run("for i = 1, 2 do")
    assert.equal("SyntaxError", r3.ename)
    assert.matches("^cell%[%d+%]:1: 'end' expected", r3.traceback[1])
  end)

  it("stops a busy loop, and a loop that catches errors, when the bridge says interrupted", function()
    local polls = 0
    local s = session(function() polls = polls + 1 return polls > 2 end)
    local r = s.run("local n = 0\nwhile true do n = n + 1 end")
    assert.is_false(r.ok)
    assert.equal("KeyboardInterrupt", r.ename)
    assert.matches("interrupted", r.traceback[1])
    polls = 0
    r = s.run("while true do pcall(function() for i = 1, 1e9 do end end) end")
    assert.equal("KeyboardInterrupt", r.ename)
    polls = -1e9
    assert.same({ "3" }, values(s.run("1 + 2")))
  end)

  it("stops a grid between chunks, and still calls the cell's own progress", function()
    local polls, stop = 0, false
    local s = session(function() polls = polls + 1 return stop end)
    assert.same({ "20000" }, values(s.run([[
      calls = 0
      g = imbill.grid { editions = { "2021/pro" }, start_dau = { from = 1, to = 20000 }, months = 12, chunk = 1000,
                        progress = function() calls = calls + 1 end }
      calls > 0 and g:size()]])))
    stop = true
    local r = s.run([[imbill.grid { editions = { "2021/pro", "2021/ultimate" }, growth = { "0%", "1%" },
                      start_dau = { from = 1, to = 1000000 }, months = 24, chunk = 1000 }]])
    assert.equal("KeyboardInterrupt", r.ename)
  end)

  it("stops a grid and the pricing of columns however the cell reached them, not only through the global", function()
    -- the interrupt was a wrapper on the cell's `imbill` global alone: a cell
    -- that did `local imbill = require "imbill"` ran its C work to the end
    local stop = true
    local s = session(function() return stop end)
    -- every checkpoint asks the bridge: the projection is over in milliseconds
    local cpu = K.POLL_CPU
    K.POLL_CPU = 0
    finally(function() K.POLL_CPU = cpu end)
    for _, code in ipairs {
      [[local grid = require "imbill.whatif.grid"
        return grid.run { editions = { "2021/pro", "2021/ultimate" }, growth = { "0%", "1%" },
                          start_dau = { from = 1, to = 1000000 }, months = 120, chunk = 10000000 }]],
      [[local imbill = require "imbill"
        local dau = imbill.column { from = 1, to = 4000000 }
        return imbill.totals { editions = { "2021/pro", "2022/standard" }, peak_dau = dau, mau = dau * 3 }]],
      [[local imbill = require "imbill"
        return imbill.project { usage = imbill.series.build { from = "2022-01", months = 24, dau = 5000 },
                                books = { "2021" } }]],
    } do
      local r = s.run(code)
      assert.equal("KeyboardInterrupt", r.ename, code)
    end
    stop = false
    assert.same({ "44997" }, values(s.run([[
      local imbill = require "imbill"
      return imbill.totals { book = "2020", edition = "pro", peak_dau = imbill.column { 25000 } }:get(1)]])))
    -- after a cell the state's hook is its runner's again (here: none)
    assert.is_nil(require("imbill.core").set_stop(nil))
  end)

  it("stops imbill.totals given Lua arrays, whose loop on LuaJIT is compiled where no count hook runs", function()
    -- both paths (LuaJIT's FFI loop, the C API's on 5.4) priced 20 million
    -- scenarios to the end (7 s) after the interrupt; they now ask the stop
    -- hook between chunks
    local stop = false
    local s = session(function() return stop end)
    values(s.run("arr = {} for i = 1, 3000000 do arr[i] = i % 50000 end"))
    local code = [[return imbill.totals { editions = { "2021/pro", "2022/standard" }, peak_dau = arr, mau = arr }]]
    local cpu, count = K.POLL_CPU, K.HOOK_COUNT
    -- no count hook in the cell: only the stop hook, asked at every call, can
    -- see the interrupt
    K.POLL_CPU, K.HOOK_COUNT = 0, 2 ^ 30
    finally(function() K.POLL_CPU, K.HOOK_COUNT = cpu, count end)
    stop = true
    local r = s.run(code)
    assert.equal("KeyboardInterrupt", r.ename)
    stop = false
    -- a stop hook that itself prices (core.set_stop is anyone's) leaves the
    -- call's own scenarios and its one-value fields as they were
    local core = require "imbill.core"
    local imbill = require "imbill"
    local inside = false
    local outer = core.set_stop(function()
      if inside then return end
      inside = true
      imbill.totals { book = "2021", edition = "pro", peak_dau = { 123456 }, groups_peak = 5000000, mau = { 99 } }
      inside = false
    end)
    finally(function() core.set_stop(outer) end)
    local t = {}
    for i = 1, 20000 do t[i] = 20000 + i end
    local with = imbill.totals { book = "2021", edition = "pro", peak_dau = t, groups_peak = 3 }
    core.set_stop(outer)
    local without = imbill.totals { book = "2021", edition = "pro", peak_dau = t, groups_peak = 3 }
    assert.same(without, with)
  end)

  it("gives cells display.escape, for the data they put into display.html", function()
    local s, log = session()
    values(s.run([[display.html("<p>" .. display.escape("<script>x</script> & 'q'") .. "</p>")]]))
    assert.same({ "display", "<script>x</script> & 'q'\n" }, log[#log])
    assert.same({ "&lt;b&gt;&amp;" }, values(s.run([[display.escape("<b>&")]])))
  end)

  it("gives cells display.markdown_text, for the data they put into display.markdown", function()
    local s = session()
    -- the same function display_markdown_spec.lua states the rules of
    assert.same({ "\\*\\*bold\\*\\* \\[x\\]\\(javascript:y\\)" },
      values(s.run([[display.markdown_text("**bold** [x](javascript:y)")]])))
  end)

  it("completes names, fields and methods", function()
    local s = session()
    values(s.run("inv = imbill.invoice { book = '2020', edition = 'pro', month = '2021-03' }"))
    local m, n = s.complete("x = imbill.break")
    assert.same({ "breakeven", "breakeven_table" }, m)
    assert.equal(5, n)
    assert.same({ "data" }, (s.complete("inv:da")))
    assert.same({ "display" }, (s.complete("displ")))
    assert.same({ "function" }, (s.complete("functi")))
    -- imbill's modules loaded on first use, before and after they are
    assert.same({ "compound" }, (s.complete("imbill.series.comp")))
    assert.same({ "cost_curves" }, (s.complete("imbill.chart.cost")))
    assert.same({ "random" }, (s.complete("imbill.column.ran")))
    values(s.run("imbill.series.constant(1)"))
    assert.same({ "compound" }, (s.complete("imbill.series.comp")))
  end)

  it("a __tostring that loops, in a cell's value or its error, is interrupted like the cell", function()
    -- rendering the value and the error message ran with the hook off: a
    -- looping __tostring hung the kernel where no interrupt could stop it
    local polls = 0
    local s = session(function()
      polls = polls + 1
      return polls > 3
    end)
    local r = s.run("setmetatable({}, { __tostring = function() while true do end end })")
    assert.equal("KeyboardInterrupt", r.ename)
    polls = 0
    r = s.run("error(setmetatable({}, { __tostring = function() while true do end end }))")
    assert.equal("KeyboardInterrupt", r.ename)
    -- the session goes on, and an error object's own text is still its message
    local s2 = session()
    r = s2.run("error(setmetatable({}, { __tostring = function() return 'custom trouble' end }))")
    assert.equal("LuaError", r.ename)
    assert.equal("custom trouble", r.evalue)
    r = s2.run("error(setmetatable({}, { __tostring = function() error('no text') end }))")
    assert.equal("LuaError", r.ename)
    assert.matches("cannot be shown: its __tostring failed", r.evalue)
    r = s2.run("setmetatable({}, { __tostring = function() error('boom') end })")
    assert.equal("LuaError", r.ename)
    assert.matches("^the cell ran, but its value cannot be shown: .*boom", r.evalue)
    assert.same({ "2" }, values(s2.run("1 + 1")))
  end)

  it("completion runs no code of the cells: an __index or __pairs function is never called", function()
    -- a tab press comes outside any cell, where nothing can interrupt a loop:
    -- calling a cell's __index there could hang the kernel for good
    local s = session()
    values(s.run([[
      calls = 0
      trap = setmetatable({ plain = 1 }, {
        __index = function() calls = calls + 1 while true do end end,
        __pairs = function() calls = calls + 1 while true do end end })
      obj = setmetatable({}, { __index = setmetatable({ method = function() end }, { __index = { deep = 1 } }) })]]))
    assert.same({ "plain" }, (s.complete("trap.pl")))
    assert.same({}, (s.complete("trap.missing.x")))
    assert.same({}, (s.complete("trap:pl")))
    assert.same({ "deep", "method" }, (s.complete("obj.")))
    assert.same({ "method" }, (s.complete("obj:")))
    assert.same({ "0" }, values(s.run("calls")))
    -- strings complete their methods through the string metatable
    values(s.run("str = 'abc'"))
    assert.same({ "upper" }, (s.complete("str:upp")))
  end)
end)
