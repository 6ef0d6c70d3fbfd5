-- Counts test results from busted's JSON reports (and the lint check), so CI's
-- closing line comes from the real results, not from busted's own summary.
--   lua5.4 scripts/tally.lua DIR [--expect a,b] -> a line per suite, then "N passed, N failed"
--   lua5.4 scripts/tally.lua --one FILE ERR -> one suite's failures and counts
local json = require "dkjson"

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- A report that is missing or does not parse means the runner itself died: that
-- is a failure, never a silent zero.
local function load(path, errpath)
  local text = read(path)
  -- busted may print warnings before the JSON document
  local start = text and text:find("{", 1, true)
  local doc = start and json.decode(text:sub(start))
  if type(doc) ~= "table" then
    local err = errpath and read(errpath) or ""
    return { passed = 0, failed = 1, problems = {
      { name = path .. ": the test runner produced no report", message = err:sub(1, 2000) } } }
  end
  local r = { passed = #(doc.successes or {}), failed = 0, problems = {} }
  for _, kind in ipairs { "failures", "errors" } do
    for _, t in ipairs(doc[kind] or {}) do
      r.failed = r.failed + 1
      local where = t.trace and t.trace.short_src and (t.trace.short_src .. ":" .. tostring(t.trace.currentline)) or ""
      r.problems[#r.problems + 1] = { name = (t.name or t.element and t.element.name or "?") .. " " .. where,
                                      message = tostring(t.message) }
    end
  end
  r.pending = #(doc.pending or {})
  return r
end

local function report(name, r)
  for _, p in ipairs(r.problems) do
    io.write("  FAILED ", p.name, "\n    ", (p.message:gsub("\n", "\n    ")), "\n")
  end
  io.write(string.format("  %s: %d passed, %d failed%s\n", name, r.passed, r.failed,
    (r.pending or 0) > 0 and (", " .. r.pending .. " pending") or ""))
end

if arg[1] == "--one" then
  local r = load(arg[2], arg[3])
  report(arg[2]:match("([^/]+)%.json$") or arg[2], r)
  os.exit(r.failed == 0 and 0 or 1)
end

-- The whole run: one line per suite, then the total.  --expect a,b,c names the
-- suites that must have reported: one that did not is a failure, never a
-- silent absence.
local dir, expect = "build/results", nil
do
  local i = 1
  while arg[i] do
    if arg[i] == "--expect" then expect = arg[i + 1]; i = i + 2
    else dir = arg[i]; i = i + 1 end
  end
end
local passed, failed = 0, 0
local p = io.popen('ls "' .. dir .. '"/*.json 2>/dev/null')
local files = {}
for f in p:lines() do files[#files + 1] = f end
p:close()
local seen = {}
for _, f in ipairs(files) do
  local name = f:match("([^/]+)%.json$")
  local r = load(f, f:gsub("%.json$", ".err"))
  seen[name] = true
  io.write(string.format("%s: %d passed, %d failed\n", name, r.passed, r.failed))
  passed, failed = passed + r.passed, failed + r.failed
end
for name in (expect or ""):gmatch("[^,]+") do
  if not seen[name] then
    io.write(string.format("%s: 0 passed, 1 failed (the suite did not report)\n", name))
    failed = failed + 1
  end
end
if #files == 0 then failed = 1 end
print(string.format("%d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1)
