--- The Lua side of the imbill Jupyter kernel (notebook/imbill_kernel).
--
-- The Python kernel is a bridge: it hands each cell's code to session:run
-- and publishes what comes back.  Everything about Lua happens here: which
-- code is an expression whose value is shown, print and io.write going to
-- the cell's output as they happen, display(), errors reported with the Lua
-- message first, and interrupts.
--
-- Interrupts.  Jupyter interrupts a kernel with SIGINT; Python only runs its
-- handler when Python code runs, and LuaJIT never calls a debug hook from a
-- compiled trace.  So during a cell a count hook calls bridge.poll (Python)
-- at most every 50 ms of CPU time or 100,000 instructions, and each cell's
-- own functions are kept out of the JIT (jit.off(chunk, true)), so a busy
-- loop written in a cell reaches the hook.  imbill's own code stays compiled.
-- A grid and the pricing of columns work in C, so during a cell the Lua
-- state's stop hook (core.set_stop) checks too: the C work calls it between
-- chunks, however the cell reached imbill.  Once interrupted, every later
-- instruction raises, so a pcall in the cell cannot swallow the interrupt.
local display = require "imbill.report.display"
local core = require "imbill.core"

local M = {}

local unpack = rawget(table, "unpack") or rawget(_G, "unpack")
local load = load
local jit = rawget(_G, "jit")
local clock = os.clock

local function pack(...) return { n = select("#", ...), ... } end

M.HOOK_COUNT = 1000     -- instructions between two hook calls
M.POLL_CPU = 0.05       -- seconds of CPU time between two polls
M.POLL_HOOKS = 100      -- hook calls between two polls, whatever the clock says

-- A chunk from source in env: Lua 5.2+ load, or LuaJIT's (which takes the
-- same arguments).
local function compile(code, name, env)
  return load(code, name, "t", env)
end

-- How a cell runs: as an expression list (its values are shown), as
-- statements followed by a last line that is an expression (that line's
-- values are shown), or as plain statements.  The last line only counts
-- when the lines before it compile on their own, it does not start with
-- "(" or "[", and Lua would not read it as the end of the line before: the
-- cell as written does not compile, or the last line also stands alone
-- after a ";".  So `a = b` then `- 3` sets a to b - 3, and `inv = f` then
-- `{ ... }` calls f, as Lua has it, where showing -3 or the table would
-- leave a and inv other than the cell says.
--
-- The values shown are handed to the chunk's `...` (M.values, which returns
-- its arguments) rather than returned: `return f(x)` is a tail call, which
-- drops the cell's frame, and an error inside f then had no cell[N] line
-- to show.  The prefix stays on the code's first line, so line numbers hold.
local VALUES = "local __imbill_cell_values = ...; "
function M.values(...) return ... end
function M.chunk(code, name, env)
  if compile("return " .. code, name, env) then
    local f = compile(VALUES .. "return __imbill_cell_values(" .. code .. "\n)", name, env)
    if f then return f end
  end
  local body, last = code:match("^(.*\n)([^\n]*%S[^\n]*)%s*$")
  if body and not last:match("^%s*[%(%[]") and not last:match("^%s*%-%-") and compile(body, name, env)
    and compile("return " .. last, name, env)
    and (not compile(code, name, env) or compile(body .. ";" .. last, name, env)) then
    local f = compile(VALUES .. body .. "return __imbill_cell_values(" .. last .. "\n)", name, env)
    if f then return f end
  end
  return compile(code, name, env)
end

-- Names a cell declares local at its top level (a line starting "local"),
-- for the hint when a later cell finds them nil.
local function top_locals(code)
  local names = {}
  for line in (code .. "\n"):gmatch("([^\n]*)\n") do
    local list = line:match("^local%s+([%a_][%w_%s,]*)")
    if list and not line:match("^local%s+function") then
      for n in list:gmatch("[%a_][%w_]*") do names[n] = true end
    else
      local fn = line:match("^local%s+function%s+([%a_][%w_]*)")
      if fn then names[fn] = true end
    end
  end
  return names
end

local function write_all(bridge, stream, ...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do
    local v = select(i, ...)
    if type(v) ~= "string" and type(v) ~= "number" then
      error(string.format("bad argument #%d to 'write' (string expected, got %s)", i, type(v)), 3)
    end
    parts[i] = tostring(v)
  end
  bridge.write(stream, table.concat(parts))
end

--- session(bridge, opts): bridge = { write = function(stream, text),
-- publish = function(bundle), poll = function() -> true when interrupted };
-- opts.env is the table cells run in (default the global table).  Puts
-- imbill, display, print and io.write into env.
function M.session(bridge, opts)
  opts = opts or {}
  local env = opts.env or _G
  local S = { count = 0, locals = {}, interrupted = false }
  local lib = require "imbill"

  local function show(x, o)
    local b = display.bundle(x, o)
    bridge.publish(b)
  end
  env.display = setmetatable({
    html = function(s) show(display.html(s)) end,
    markdown = function(s) show(display.markdown(s)) end,
    text = function(s) show(display.text(s)) end,
    svg = function(s) show(display.svg(s)) end,
    bundle = display.bundle,
    -- what a cell puts into display.html from its data goes through this,
    -- and into display.markdown through markdown_text
    escape = display.escape,
    markdown_text = display.markdown_text,
  }, { __call = function(_, x, o) show(x, o) end })

  env.print = function(...)
    local n = select("#", ...)
    local parts = {}
    for i = 1, n do parts[i] = tostring((select(i, ...))) end
    bridge.write("stdout", table.concat(parts, "\t") .. "\n")
  end
  -- io.write returns a file, so io.write(a):write(b) keeps working
  local stdout = setmetatable({}, { __tostring = function() return "file (the cell's output)" end })
  function stdout.write(_, ...)
    write_all(bridge, "stdout", ...)
    return stdout
  end
  function stdout.flush() return stdout end
  local iolib = env.io or io
  iolib.write = function(...) return stdout.write(stdout, ...) end

  local INTERRUPT = setmetatable({}, { __tostring = function() return "interrupted" end })
  local last, hooks = clock(), 0
  local handler, unhook
  local function hook()
    if S.interrupted then
      -- every instruction raises from now on, so the error also escapes a
      -- loop around pcall; only the error handler itself is let run
      local running = debug.getinfo(2, "f").func
      if running ~= handler and running ~= unhook then error(INTERRUPT, 2) end
      return
    end
    hooks = hooks + 1
    local now = clock()
    if now - last >= M.POLL_CPU or hooks >= M.POLL_HOOKS then
      last, hooks = now, 0
      if bridge.poll() then
        S.interrupted = true
        debug.sethook(hook, "", 1)
        error(INTERRUPT, 2)
      end
    end
  end

  -- A poll at most every POLL_CPU, for places that are not instructions.
  local function checkpoint()
    if S.interrupted then error(INTERRUPT, 2) end
    local now = clock()
    if now - last >= M.POLL_CPU then
      last, hooks = now, 0
      if bridge.poll() then
        S.interrupted = true
        debug.sethook(hook, "", 1)
        error(INTERRUPT, 2)
      end
    end
  end

  -- The long calls work in C (a grid's chunks, the pricing of columns) with
  -- no Lua instruction for the count hook, and a cell reaches them by any
  -- route it likes: the global, `require "imbill"`, `require
  -- "imbill.whatif.grid"`.  So while a cell runs, the Lua state's stop hook
  -- (core.set_stop) is the checkpoint: the C work calls it on this thread
  -- between chunks, and the interrupt it raises stops every thread of the
  -- call before the error goes on.  The cell's imbill is the module itself.
  local function stop_hook() checkpoint() end
  env.imbill = lib

  -- The message first, then where it happened in the notebook's cells
  -- (frames inside imbill and the kernel are left out: the message already
  -- names the imbill function and field).
  -- The handler runs with the hook off, so it runs none of the cell's code:
  -- an error object's own __tostring is called later, under the hook.
  local HANDLED = {}
  function handler(e)
    debug.sethook()
    local frames = {}
    local tb = debug.traceback("", 2)
    for line in tb:gmatch("[^\n]+") do
      local where = line:match("^%s*(cell%[%d+%]:%d+:.*)$")
      if where then frames[#frames + 1] = "  at " .. where end
    end
    return { [HANDLED] = true, raw = e, frames = frames }
  end

  -- f(...) under the hook, as a cell runs: what renders a cell's value or
  -- error may be the cell's own code (a __tostring), which a loop must not
  -- make uninterruptible.  Returns xpcall's results, packed; unhook, like
  -- handler, is let run once interrupted, and stops the hook.
  function unhook(e)
    debug.sethook()
    return e
  end
  local function guarded(f, ...)
    last, hooks = clock(), 0
    local outer = core.set_stop(stop_hook)
    debug.sethook(hook, "", M.HOOK_COUNT)
    local r = pack(xpcall(f, unhook, ...))
    debug.sethook()
    core.set_stop(outer)
    return r
  end

  -- An error value as text; nil when an interrupt stopped its __tostring.
  local function error_text(raw)
    local t = type(raw)
    if t == "string" or t == "number" then return tostring(raw) end
    local r = guarded(tostring, raw)
    if S.interrupted then return nil end
    if r[1] and type(r[2]) == "string" then return r[2] end
    return "(an error value of type " .. t .. " that cannot be shown: its __tostring failed)"
  end

  local function results(...)
    local out = {}
    for i = 1, select("#", ...) do
      local v = select(i, ...)
      if v ~= nil then
        local okb, b = pcall(display.bundle, v)
        out[#out + 1] = okb and b or { ["text/plain"] = tostring(v) }
      end
    end
    return out
  end

  local function failure(ename, msg, frames)
    local tb = { msg }
    for _, f in ipairs(frames or {}) do tb[#tb + 1] = f end
    return { ok = false, ename = ename, evalue = msg, traceback = tb }
  end

  --- Runs one cell: { ok = true, values = { bundle, ... } } or { ok = false,
  -- ename =, evalue =, traceback = { lines } }.
  function S.run(code, n)
    S.count = n or (S.count + 1)
    local name = "=cell[" .. tostring(S.count) .. "]"
    local f, err = M.chunk(code, name, env)
    if not f then return failure("SyntaxError", tostring(err)) end
    if jit then jit.off(f, true) end
    S.interrupted = false
    last, hooks = clock(), 0
    -- the hook of whoever runs this session (a spec) is theirs again after
    local outer = core.set_stop(stop_hook)
    debug.sethook(hook, "", M.HOOK_COUNT)
    local packed = pack(xpcall(f, handler, M.values))
    debug.sethook()
    core.set_stop(outer)
    pcall(function() iolib.stdout:flush() end)
    local function stopped(frames)
      S.interrupted = false
      return failure("KeyboardInterrupt", "KeyboardInterrupt: the cell was interrupted", frames)
    end
    if not packed[1] then
      local e = packed[2]
      -- an error inside the handler itself (a stack overflow) arrives bare
      if type(e) ~= "table" or e[HANDLED] ~= true then e = { raw = e, frames = {} } end
      if S.interrupted then return stopped(e.frames) end
      local msg = error_text(e.raw)
      if msg == nil then return stopped(e.frames) end
      e.msg = msg
      local g = msg:match("global '([%a_][%w_]*)'")
      if g and S.locals[g] then
        e.frames[#e.frames + 1] = string.format("hint: %s was declared local in cell[%d]; a local lives only in"
          .. " its cell, so give it without 'local' to keep it for later cells", g, S.locals[g])
      end
      -- imbill refuses bad input with a message naming the function
      local ename = msg:match("^imbill[%w_%.]*: ") and "ImbillError" or "LuaError"
      return failure(ename, msg, e.frames)
    end
    for k in pairs(top_locals(code)) do S.locals[k] = S.count end
    local shown = guarded(results, unpack(packed, 2, packed.n))
    if S.interrupted then return stopped({}) end
    if not shown[1] then
      local why = error_text(shown[2])
      if why == nil then return stopped({}) end
      return failure("LuaError", "the cell ran, but its value cannot be shown: " .. why)
    end
    return { ok = true, values = shown[2] }
  end

  -- Completion runs no code of the cells': a tab press reaches it outside
  -- any cell, where no hook can stop a loop, so an __index or __pairs
  -- function written in a cell is never called (its fields are not
  -- offered).  Only tables are read, raw, with the __index tables of their
  -- metatables, which is how imbill's objects and modules hold their names.
  -- imbill's modules loaded on first use (imbill.series, imbill.chart,
  -- imbill.column) are tables whose __index is a function; the module each
  -- stands for is read from its metatable now, before any cell runs (a cell
  -- that rewrote the field later must not make a tab press load another).
  local INDEX_DEPTH = 8
  local LAZY = {}
  for _, v in next, lib do
    local mt = type(v) == "table" and getmetatable(v)
    if type(mt) == "table" and type(rawget(mt, "__imbill_module")) == "string" then
      LAZY[mt] = rawget(mt, "__imbill_module")
    end
  end
  local function index_of(v)
    local mt = getmetatable(v)
    local idx = type(mt) == "table" and rawget(mt, "__index") or nil
    if type(idx) == "table" then return idx end
    local mod = LAZY[mt]
    if mod then
      local ok, m = pcall(require, mod)
      if ok and type(m) == "table" then return m end
    end
    return nil
  end
  local function peek(base, k)
    local t = base
    for _ = 1, INDEX_DEPTH do
      if type(t) == "table" then
        local v = rawget(t, k)
        if v ~= nil then return v end
      end
      t = index_of(t)
      if t == nil then return nil end
    end
    return nil
  end

  -- Names visible from `base`: its keys and those of the __index tables
  -- behind it (an object's methods, a module's proxy).
  local function names_of(base)
    local out, seen = {}, {}
    local function add(t)
      for k in next, t do
        if type(k) == "string" and not seen[k] then seen[k] = true out[#out + 1] = k end
      end
    end
    local t = base
    for _ = 1, INDEX_DEPTH do
      if type(t) == "table" then add(t) end
      t = index_of(t)
      if t == nil then break end
    end
    return out
  end

  --- Completions for the text before the cursor: the matches and the length
  -- in bytes of the name they replace.
  function S.complete(before)
    local chain = before:match("[%a_][%w_%.:]*$") or ""
    local path, sep, stem = chain:match("^(.*)([%.:])([%w_]*)$")
    local base = env
    if path then
      for part in path:gmatch("[^%.:]+") do
        local v = peek(base, part)
        if v == nil then return {}, #stem end
        base = v
      end
    else
      stem = chain
    end
    local matches = {}
    for _, k in ipairs(names_of(base)) do
      if k:sub(1, #stem) == stem and (sep ~= ":" or type(peek(base, k)) == "function") then matches[#matches + 1] = k end
    end
    if not path then
      for _, kw in ipairs { "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
                            "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while" } do
        if #stem > 0 and kw:sub(1, #stem) == stem then matches[#matches + 1] = kw end
      end
    end
    table.sort(matches)
    return matches, #stem
  end

  return S
end

return M
