--- imbill's public Lua API under random junk (scripts/fuzz-api.sh runs it).
--
--   lua5.4 fuzz/api/fuzz.lua [--seed N] [--runs N] [--seconds N] [--skip AREA,...]
--     [--only NAME,...] [--episode N] [--call-seconds N] [--out FILE] [--last FILE]
--     [--repro DIR] [--tmp DIR] [--top DIR] [--list]
--
-- Every public function and method is called with junk: wrong types, edges of
-- numbers, hostile strings and tables, objects of the wrong kind, and valid
-- arguments changed one field at a time.  A call fails when it
--   - raises an error that is not an imbill error object, or whose message
--     does not start with the function's name, carries a file position or a
--     raw Lua runtime error, is longer than 600 bytes, holds control bytes,
--     echoes a long input whole, or shows an id cut at a NUL;
--   - answers false with a refusal lacking code, limit or message;
--   - leaves the meter changed after an error, a refusal or a query, or
--     saves a meter that does not load back the same;
--   - runs past its time bound, or runs out of memory.
-- A crash kills the process: the runner then reads the --last file, which
-- always holds the call being made, as a snippet that reproduces it.
--
-- The same seed gives the same calls on Lua 5.4 and LuaJIT.  Exit status: 0
-- when nothing was found, 1 when something was, 2 on a usage error.
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path

local rng = require "rng"
local junk = require "junk"
local gen = require "gen"
local targets = require "targets"
local fixtures = require "fixtures"

local RUNTIME = rawget(_G, "jit") and "jit" or _VERSION:match("%d+%.%d+")
local unpack = table.unpack or _G.unpack

-- arguments -------------------------------------------------------------------
local opt = { seed = 1, runs = 20000, seconds = 60, episode = 20, call_seconds = 3, skip = {}, only = nil,
              tmp = nil, top = nil, out = nil, last = nil, repro = nil, max_findings = 2000 }
do
  local i = 1
  local function usage(msg)
    io.stderr:write("fuzz.lua: ", msg, "\n")
    os.exit(2)
  end
  local function list(s)
    local t = {}
    for w in s:gmatch("[^,%s]+") do t[w] = true end
    return t
  end
  while arg and arg[i] do
    local a, v = arg[i], arg[i + 1]
    if a == "--list" then opt.list = true i = i + 1
    else
      if v == nil then usage("missing value for " .. a) end
      if a == "--seed" then opt.seed = tonumber(v)
      elseif a == "--runs" then opt.runs = tonumber(v)
      elseif a == "--seconds" then opt.seconds = tonumber(v)
      elseif a == "--episode" then opt.episode = tonumber(v)
      elseif a == "--call-seconds" then opt.call_seconds = tonumber(v)
      elseif a == "--max-findings" then opt.max_findings = tonumber(v)
      elseif a == "--skip" then opt.skip = list(v)
      elseif a == "--only" then opt.only = list(v)
      elseif a == "--tmp" then opt.tmp = v
      elseif a == "--top" then opt.top = v
      elseif a == "--out" then opt.out = v
      elseif a == "--last" then opt.last = v
      elseif a == "--repro" then opt.repro = v
      else usage("unknown option " .. a) end
      for _, k in ipairs { "seed", "runs", "seconds", "episode", "call_seconds", "max_findings" } do
        if opt[k] == nil then usage("expected a number after " .. a) end
      end
      i = i + 2
    end
  end
  opt.top = opt.top or os.getenv("IMBILL_TOP") or "."
  opt.tmp = opt.tmp or os.getenv("TMPDIR") or "/tmp"
end

-- which targets run -------------------------------------------------------------
local active = {}
for _, t in ipairs(targets.list) do
  local on = not opt.skip[t.area] and not opt.skip[t.name] and (not t.jit or RUNTIME == "jit")
  if opt.only then on = on and (opt.only[t.area] or opt.only[t.name]) end
  if on then active[#active + 1] = t end
end
if opt.list then
  for _, t in ipairs(targets.list) do
    local on = false
    for _, a in ipairs(active) do on = on or a == t end
    print(string.format("%-32s %-10s %s", t.name, t.area, on and "" or "(skipped)"))
  end
  os.exit(0)
end
if #active == 0 then
  io.stderr:write("fuzz.lua: no target left to run\n")
  os.exit(2)
end
local areas_on = {}
for _, t in ipairs(active) do areas_on[t.area] = true end
-- fixtures: what-if objects also for the charts and the report
local build_area = { base = true, replay = areas_on.replay, whatif = areas_on.whatif or areas_on.report,
                     bill = areas_on.bill, column = areas_on.column }

-- the environment calls run in ---------------------------------------------------
local header = string.format("local FUZZ_TOP, FUZZ_TMP = %s, %s\n", junk.q(opt.top), junk.q(opt.tmp))
local shared_code = {}
local shared = setmetatable({ FUZZ_TOP = opt.top, FUZZ_TMP = opt.tmp }, { __index = _G })

local function run_block(block, env)
  local ret = {}
  for _, n in ipairs(block.names) do ret[#ret + 1] = n .. " = " .. n end
  local chunk = assert(load(block.code .. "\nreturn { " .. table.concat(ret, ", ") .. " }", "=fixture", "t", env))
  local vals = chunk()
  for _, n in ipairs(block.names) do rawset(env, n, vals[n]) end
end

for _, block in ipairs(fixtures.shared) do
  if build_area[block.area] then
    run_block(block, shared)
    shared_code[#shared_code + 1] = block.code
  end
end
for area, vals in pairs(fixtures.values) do
  if build_area[area] then
    for _, v in ipairs(vals) do junk.extra[#junk.extra + 1] = v end
  end
end
table.sort(junk.extra)
local imbill = shared.imbill
local errors = require "imbill.internal.errors"
local core = require "imbill.core"

local function new_episode()
  local env = setmetatable({}, { __index = shared })
  run_block(fixtures.episode, env)
  return env
end

-- calls -------------------------------------------------------------------------
local function build_args(r, t)
  local nodes = {}
  local last = 0
  for i, spec in ipairs(t.args) do
    if type(spec) == "table" and spec.optional then
      if r:chance(spec.optional) then nodes[i] = gen.build(r, spec.spec) last = i end
    else
      nodes[i] = gen.build(r, spec)
      last = i
    end
  end
  for i = 1, last do nodes[i] = nodes[i] or "nil" end
  for i = last + 1, #nodes do nodes[i] = nil end
  local n = last
  local strategy = r:weighted { { 12, "valid" }, { 42, "mutate" }, { 18, "mutate_more" }, { 14, "junk" },
                                { 14, "arity" } }
  if strategy == "mutate" or (strategy == "mutate_more") or (strategy == "arity" and n > 0 and r:chance(0.5)) then
    local times = strategy == "mutate_more" and r:int(2, 3) or 1
    for _ = 1, times do
      if n == 0 then break end
      local i = r:int(1, n)
      nodes[i] = gen.mutate(r, nodes[i])
    end
  elseif strategy == "junk" then
    for i = 1, math.max(n, 1) do nodes[i] = junk.any(r) end
    n = math.max(n, 1)
  end
  if strategy == "arity" then
    if n > 0 and r:chance(0.5) then
      nodes[n] = nil
      n = n - 1
    else
      n = n + 1
      nodes[n] = r:chance(0.3) and "nil" or junk.any(r)
    end
  end
  local srcs = {}
  for i = 1, n do srcs[i] = gen.render(nodes[i]) end
  return srcs, strategy
end

local function call_src(t, srcs)
  return t.f .. "(" .. table.concat(srcs, ", ") .. ")"
end

-- The state of m that must survive a failed call unchanged: its usage in
-- every month the call could touch, its counts, edition and remembered ids.
local BASE_MONTHS = { "2021-01", "2021-02", "2021-03", "2021-04", "2021-05" }

local function serialize(v, out, depth)
  local tv = type(v)
  if tv == "table" and depth < 4 and getmetatable(v) == nil then
    local keys = {}
    for k in next, v do keys[#keys + 1] = k end
    table.sort(keys, function(a, c) return tostring(a) < tostring(c) end)
    out[#out + 1] = "{"
    for _, k in ipairs(keys) do
      out[#out + 1] = tostring(k) .. "="
      serialize(rawget(v, k), out, depth + 1)
      out[#out + 1] = ","
    end
    out[#out + 1] = "}"
  elseif tv == "string" or tv == "number" or tv == "boolean" or tv == "nil" then
    out[#out + 1] = tostring(v)
  else
    local ok, s = pcall(tostring, v)
    out[#out + 1] = ok and s or tv
  end
end

local function months_of(m, vals, set)
  local ok, off = pcall(core.meter_impl.offset, m)
  if not ok then return end
  local function visit(v, depth)
    if type(v) == "number" and v == v and v > core.INSTANT_MIN and v < core.INSTANT_END and v == math.floor(v) then
      local ok2, day = pcall(core.day_of, v, off)
      if ok2 then
        local ok3, mo = pcall(core.month_of_day, day)
        if ok3 then set[core.format_month(mo)] = true end
      end
    elseif type(v) == "string" and #v <= 64 then
      local y, mo = v:match("^(%d%d%d%d)%-(%d%d)")
      if y then set[y .. "-" .. mo] = true end
    elseif type(v) == "table" and depth < 2 then
      local n = 0
      for _, x in next, v do
        n = n + 1
        if n > 16 then break end
        visit(x, depth + 1)
      end
    end
  end
  for i = 1, vals.n do visit(vals[i], 0) end
end

local function snapshot(m, months)
  local out = {}
  local ok = pcall(function()
    out[#out + 1] = tostring(m)
    serialize({ m:accounts(), (m:groups()), m:last_day(), m:edition().id, m:addons(), m:memory().event_ids,
                m:book().name }, out, 0)
    local list = {}
    for mo in pairs(months) do list[#list + 1] = mo end
    table.sort(list)
    for _, mo in ipairs(list) do
      local ok2, u = pcall(m.usage, m, mo)
      out[#out + 1] = mo .. ":"
      if ok2 then serialize(u, out, 0) else out[#out + 1] = "(no usage)" end
    end
  end)
  return ok and table.concat(out) or nil
end

-- the time bound of one call ----------------------------------------------------
local TIMEOUT = "FUZZ-TIMEOUT"
local deadline = math.huge
local function hook()
  if os.clock() > deadline then error(TIMEOUT, 0) end
end

local function timed(f, args)
  deadline = os.clock() + opt.call_seconds
  debug.sethook(hook, "", 1000)
  local res = { pcall(f, unpack(args, 1, args.n)) }
  debug.sethook()
  deadline = math.huge
  local n = 0
  for k in pairs(res) do if k > n then n = k end end
  res.n = n
  return res
end

-- judging an answer ---------------------------------------------------------------
local MAX_MSG = 600

local function prefix_ok(t, s)
  local list = type(t.prefix) == "table" and t.prefix or { t.prefix }
  for _, p in ipairs(list) do
    if s:sub(1, #p) == p then
      local rest = s:sub(#p + 1)
      if p:sub(-1) == ":" or rest:match("^[:%s]") or rest == "" then return true end
    end
  end
  return false
end

local function message_problems(t, s, vals)
  local found = {}
  if #s > MAX_MSG then found[#found + 1] = { "long message", string.format("%d bytes", #s) } end
  if s:find("[%c\127]") then found[#found + 1] = { "control bytes in message" } end
  if s:find("%.lua:%d+:") or s:find("%[C%]:") or s:find("attempt to ") or s:find("bad argument #")
    or s:find("stack overflow") or s:find("traceback") then
    found[#found + 1] = { "raw Lua error" }
  end
  if s:find("not enough memory", 1, true) or s:find("out of memory", 1, true) then
    found[#found + 1] = { "out of memory" }
  end
  local p = type(t.prefix) == "table" and t.prefix[1] or t.prefix
  if s:sub(1, #p * 2 + 2) == p .. ": " .. p then found[#found + 1] = { "function named twice" } end
  for i = 1, vals.n do
    local v = vals[i]
    if type(v) == "string" then
      if #v > 200 and s:find(v, 1, true) then found[#found + 1] = { "whole input echoed", #v .. " bytes" } end
      local pre = v:match("^([^%z]+)%z")
      -- an echo that ends where the NUL was: the rest of the value was lost
      local at = pre and #pre >= 4 and s:find(pre, 1, true)
      for j = 1, vals.n do
        -- another argument may hold the same text
        if j ~= i and type(vals[j]) == "string" and at and vals[j]:find(pre, 1, true) then at = nil end
      end
      local after = at and s:sub(at + #pre, at + #pre)
      if at and (after == "" or after == '"' or after == "'")
        and not s:find("\\x00", 1, true) and not s:find("\\0", 1, true) then
        found[#found + 1] = { "value cut at a NUL" }
      end
    end
  end
  return found
end

local function judge(t, vals, res, before, m, months)
  local problems = {}
  local function add(kind, detail) problems[#problems + 1] = { kind = kind, detail = detail } end
  local changed = false
  if res[1] then
    local a, r = res[2], res[3]
    if t.meter and a == false and not t.query then
      if type(r) ~= "table" then add("refusal is not a table", type(r))
      else
        if type(r.code) ~= "number" and type(r.code) ~= "string" then add("refusal lacks code") end
        if type(r.limit) ~= "string" then add("refusal lacks limit") end
        if type(r.message) ~= "string" then add("refusal lacks message")
        else
          for _, p in ipairs(message_problems({ prefix = "" }, r.message, vals)) do
            if p[1] ~= "function named twice" then add("refusal: " .. p[1], p[2]) end
          end
        end
      end
      changed = true
    end
    if t.answers == "message" and a == nil then
      if type(r) ~= "string" then add("nil answer without a message", type(r))
      else
        for _, p in ipairs(message_problems({ prefix = "" }, r, vals)) do
          if p[1] ~= "function named twice" then add("answer message: " .. p[1], p[2]) end
        end
      end
    end
    -- the answers must print
    for i = 2, res.n do
      local v = res[i]
      local mt = (type(v) == "table" or type(v) == "userdata") and getmetatable(v)
      if type(mt) == "table" and rawget(mt, "__tostring") then
        local ok, s = pcall(tostring, v)
        if not ok then add("answer's tostring raised", tostring(s)) end
      end
    end
  else
    local e = res[2]
    local ok, s = pcall(tostring, e)
    if not ok then
      add("error's tostring raised", type(e))
    elseif type(s) ~= "string" then
      add("error's tostring is not a string", type(s))
    elseif s:find(TIMEOUT, 1, true) then
      add("hang", string.format("over %gs of CPU", opt.call_seconds))
    elseif s:find("FUZZ-HOSTILE", 1, true) then
      -- the caller's own metamethod or callback raised: its error may pass through
      local _ = s
    else
      if not errors.is(e) then add("not an error object", type(e)) end
      if not prefix_ok(t, s) then add("does not name the function") end
      for _, p in ipairs(message_problems(t, s, vals)) do add(p[1], p[2]) end
    end
    changed = true
  end
  if before and t.pure and res[1] then changed = true end
  if t.roundtrip and res[1] and rawequal(vals[1], m) and type(vals[2]) == "string" and before then
    -- a saved meter loads back as the same meter
    local ok, copy = pcall(imbill.meter.load, vals[2], { book = m:book() })
    if not ok then add("saved meter does not load", tostring(copy):sub(1, 200))
    elseif snapshot(copy, months) ~= snapshot(m, months) then add("loaded meter differs from the saved one") end
  end
  if before and changed then
    local after = snapshot(m, months)
    if after ~= before then
      local is_error = not res[1]
      local hostile = not res[1] and tostring(res[2]):find("FUZZ-HOSTILE", 1, true)
      if not hostile then
        add(is_error and "meter changed by a failed call" or res[2] == false and "meter changed by a refusal"
          or "meter changed by a query")
      end
    end
  end
  return problems, res[1] and "" or (select(2, pcall(tostring, res[2])) or "?")
end

-- findings ------------------------------------------------------------------------
local findings, by_sig = {}, {}

local function signature(t, kinds, msg)
  local m = tostring(msg):sub(1, 200):gsub(", got .*$", ""):gsub('"[^"]*"', "S"):gsub("'[^']*'", "S")
    :gsub("0x%x+", "P"):gsub("%-?%d[%d%.e%+%-]*", "N"):gsub("%f[%w]%l+%f[%W]", function(w)
      return ({ table = "T", string = "T", number = "T", boolean = "T", ["nil"] = "T", ["function"] = "T",
                userdata = "T", thread = "T" })[w] or w end)
  if kinds:find("hang") or kinds:find("out of memory") or kinds:find("changed") then m = "" end
  return t.name .. "|" .. kinds .. "|" .. m
end

local function repro_text(t, kind, msg, lines, src, seed, callno)
  local out = {
    string.format("-- imbill API fuzz: %s in %s (seed %d, call %d, %s)", kind, t.name, seed, callno, RUNTIME),
    "-- message: " .. (tostring(msg):sub(1, 300):gsub("[%c\128-\255]", function(c)
      return string.format("\\x%02x", c:byte()) end)),
    "-- run from the repository's top: LUA_PATH=\"lua/?.lua;lua/?/init.lua;;\" LUA_CPATH=\"build/5.4/?.so;;\""
      .. " lua5.4 THIS_FILE",
    header,
  }
  for _, c in ipairs(shared_code) do out[#out + 1] = c end
  out[#out + 1] = fixtures.episode.code
  if #lines > 0 then out[#out + 1] = "-- the episode's earlier calls" end
  for _, l in ipairs(lines) do out[#out + 1] = "pcall(function() return " .. l .. " end)" end
  out[#out + 1] = "-- the call"
  out[#out + 1] = "print(pcall(function() return " .. src .. " end))"
  return table.concat(out, "\n") .. "\n"
end

local function record(t, problems, msg, lines, src, seed, callno)
  local names, details = {}, {}
  for _, p in ipairs(problems) do
    names[#names + 1] = p.kind
    if p.detail then details[#details + 1] = tostring(p.detail) end
  end
  table.sort(names)
  local kinds = table.concat(names, ", ")
  local sig = signature(t, kinds, msg)
  local f = by_sig[sig]
  if f then
    f.count = f.count + 1
    -- keep the shortest reproducer
    if #src < #f.call and (#lines == 0 or #f.lines > 0) then
      f.call, f.lines, f.repro = src, lines, repro_text(t, kinds, msg, lines, src, seed, callno)
      f.message = tostring(msg):sub(1, 400)
    end
  elseif #findings < opt.max_findings then
    f = { target = t.name, area = t.area, kind = kinds, detail = table.concat(details, "; "),
          message = tostring(msg):sub(1, 400), count = 1, call = src, lines = lines,
          repro = repro_text(t, kinds, msg, lines, src, seed, callno), others = targets.OTHERS[t.area] or false }
    by_sig[sig] = f
    findings[#findings + 1] = f
  end
end

local function write_file(path, text)
  local f = io.open(path, "wb")
  if f then
    f:write(text)
    f:close()
  end
end

-- the loop ------------------------------------------------------------------------
local r = rng.new(opt.seed)
local started = os.time()
local calls, episodes, skipped = 0, 0, 0
local env, lines
local meter_targets = 0
for _, t in ipairs(active) do if t.meter then meter_targets = meter_targets + 1 end end

-- Does the call involve an object of imbill's (an operator's operands)?
local function involved(kind, vals, operands)
  -- the operands: an operator reads two values (one for unary minus and
  -- tostring); the left one's metamethod comes first (a generator + money is
  -- the generator's)
  local n = math.min(vals.n, operands or 2)
  for i = 1, n do
    local v = vals[i]
    local left_mt = i == 2 and (type(vals[1]) == "table" or core.is_column(vals[1])) and getmetatable(vals[1])
    if kind == "money" and imbill.money.is(v) and not left_mt then return true end
    -- LuaJIT compares two values only when both have the same __lt (Lua 5.1's rule)
    if kind == "money_cmp" and imbill.money.is(v) and (RUNTIME ~= "jit" or (imbill.money.is(vals[1])
      and imbill.money.is(vals[2]))) then return true end
    -- a left operand with a metatable of its own (money) answers first; a string's arithmetic defers to the column
    if kind == "column" and core.is_column(v) and (i == 1 or type(vals[1]) == "string" or not getmetatable(vals[1]))
    then return true end
    if kind == "gen" and type(v) == "table" and require("imbill.whatif.series").is_gen(v) then return true end
    if kind == "imbill" then
      -- an object of imbill's: money, a meter, or a table whose __tostring is imbill's Lua
      if imbill.money.is(v) or core.meter_impl.is_meter(v) then return true end
      local mt = type(v) == "table" and getmetatable(v)
      local ts = type(mt) == "table" and rawget(mt, "__tostring")
      if type(ts) == "function" and debug.getinfo(ts, "S").source:find("/imbill/", 1, true) then return true end
    end
  end
  return false
end

local function load_call(src, e)
  return load("return " .. src, "=call", "t", e)
end

-- Runs the call once more alone, on a fresh episode: when it fails the same
-- way, its reproducer needs no earlier call.
local function alone(t, srcs, kinds)
  local e = new_episode()
  local chunk = load_call(t.f .. (#srcs > 0 and (", " .. table.concat(srcs, ", ")) or ""), e)
  if not chunk then return false end
  local got = { pcall(chunk) }
  if not got[1] then return false end
  local f = got[2]
  local vals = { n = 0 }
  local n = 0
  for k in pairs(got) do if k > n then n = k end end
  for i = 3, n do vals[i - 2] = got[i] end
  vals.n = math.max(0, n - 2)
  local m = rawget(e, "m")
  local months = {}
  for _, mo in ipairs(BASE_MONTHS) do months[mo] = true end
  months_of(m, vals, months)
  local before = t.meter and snapshot(m, months)
  local res = timed(f, vals)
  local problems = judge(t, vals, res, before, m, months)
  for _, p in ipairs(problems) do if kinds[p.kind] then return true end end
  return false
end

while calls < opt.runs and os.time() - started < opt.seconds do
  if not env or #lines >= opt.episode then
    env, lines = new_episode(), {}
    episodes = episodes + 1
  end
  local t = active[r:int(1, #active)]
  local srcs = build_args(r, t)
  local src = call_src(t, srcs)
  local chunk = load_call(t.f .. (#srcs > 0 and (", " .. table.concat(srcs, ", ")) or ""), env)
  if not chunk then
    io.stderr:write("fuzz.lua: internal: cannot compile ", src:sub(1, 300), "\n")
    skipped = skipped + 1
  else
    calls = calls + 1
    if opt.last then write_file(opt.last, repro_text(t, "crash or hang", "(the process died in this call)", lines,
      src, opt.seed, calls)) end
    local got = { pcall(chunk) }
    if not got[1] then
      skipped = skipped + 1 -- the arguments themselves did not build (a NaN key, ...)
    else
      local f = got[2]
      local n = 0
      for k in pairs(got) do if k > n then n = k end end
      local vals = { n = math.max(0, n - 2) }
      for i = 3, n do vals[i - 2] = got[i] end
      local m = rawget(env, "m")
      local months = {}
      local before
      if t.needs and not involved(t.needs, vals, t.operands) then
        -- an operator neither of whose operands is imbill's: Lua's own error
        skipped = skipped + 1
        goto next_call
      end
      if t.meter then
        for _, mo in ipairs(BASE_MONTHS) do months[mo] = true end
        months_of(m, vals, months)
        before = snapshot(m, months)
      end
      local res = timed(f, vals)
      local problems, msg = judge(t, vals, res, before, m, months)
      if #problems > 0 then
        local kinds = {}
        for _, p in ipairs(problems) do kinds[p.kind] = true end
        local solo = #lines > 0 and alone(t, srcs, kinds)
        local earlier = {}
        if not solo then for i, l in ipairs(lines) do earlier[i] = l end end
        record(t, problems, msg, earlier, src, opt.seed, calls)
      end
      lines[#lines + 1] = src
      if calls % 50 == 0 then collectgarbage() end
    end
  end
  ::next_call::
end

-- the report ----------------------------------------------------------------------
local elapsed = os.time() - started
table.sort(findings, function(a, c)
  if a.others ~= c.others then return not a.others end
  if a.target ~= c.target then return a.target < c.target end
  return a.kind < c.kind
end)

if opt.repro then
  os.execute("mkdir -p '" .. opt.repro:gsub("'", "") .. "'")
  for i, f in ipairs(findings) do
    write_file(string.format("%s/%03d-%s.lua", opt.repro, i, f.target:gsub("[^%w]+", "_")), f.repro)
  end
end

for _, f in ipairs(findings) do
  io.write(string.format("FINDING %s%s: %s%s (x%d)\n  message: %s\n  call: %s\n", f.others and "[not ours] " or "",
    f.target, f.kind, f.detail ~= "" and (" (" .. f.detail .. ")") or "", f.count,
    (f.message:gsub("[%c\128-\255]", function(c) return string.format("\\x%02x", c:byte()) end)),
    f.call:sub(1, 300)))
end
io.write(string.format("fuzz-api[%s]: seed %d, %d calls in %d episodes, %d skipped, %ds, %d targets; %d findings\n",
  RUNTIME, opt.seed, calls, episodes, skipped, elapsed, #active, #findings))

if opt.out then
  local function jstr(s)
    s = tostring(s):gsub('[%c"\\\128-\255]', function(c)
      if c == '"' then return '\\"' elseif c == "\\" then return "\\\\" elseif c == "\n" then return "\\n" end
      return string.format("\\u%04x", c:byte())
    end)
    return '"' .. s .. '"'
  end
  local parts = {}
  for _, f in ipairs(findings) do
    parts[#parts + 1] = string.format('{"target":%s,"area":%s,"kind":%s,"detail":%s,"count":%d,"others":%s,'
      .. '"message":%s,"call":%s,"repro":%s}', jstr(f.target), jstr(f.area), jstr(f.kind), jstr(f.detail or ""),
      f.count, tostring(f.others), jstr(f.message), jstr(f.call), jstr(f.repro))
  end
  write_file(opt.out, string.format('{"runtime":%s,"seed":%d,"calls":%d,"episodes":%d,"seconds":%d,"targets":%d,'
    .. '"findings":[%s]}\n', jstr(RUNTIME), opt.seed, calls, episodes, elapsed, #active, table.concat(parts, ",\n")))
end
if opt.last then os.remove(opt.last) end
os.exit(#findings == 0 and 0 or 1)
