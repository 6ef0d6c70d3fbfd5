-- Run in a child process by spec/hostile_api_spec.lua: a meter closed by a
-- finalizer while one of its methods is under way.  A fresh process keeps the
-- heap small, so a collector cycle (and with it the finalizers) completes
-- within a few calls; in the middle of a long suite it might not on LuaJIT.
-- Prints "during N" (how many finalizers closed a meter in a call) and one
-- "bad ..." line for each call that neither answered nor raised naming itself.
local imbill = require "imbill"
local errors = require "imbill.internal.errors"

local T0 = 1614556800 -- 2021-03-01T00:00:00Z
local is_jit = rawget(_G, "jit") ~= nil
local mk = rawget(_G, "newproxy")

local calls = {
  edition = function(x) return x:edition(T0) end,
  usage = function(x) return x:usage("2021-03") end,
  tostring = function(x) return tostring(x) end,
  create_account = function(x) return x:create_account("one-too-many", T0) end,
  join_group = function(x) return x:join_group("no-such-group", "u1", T0) end,
}

local during = 0
for name, call in pairs(calls) do
  for _ = 1, 40 do
    local x = imbill.meter { book = "2020", edition = "trial" }
    for i = 1, 100 do x:create_account("u" .. i, T0) end
    for i = 1, 3 do x:change_edition(i % 2 == 1 and "pro" or "flagship", T0 + i * 86400 * 40) end
    -- A chain of finalizers keeps one pending while the collector runs at
    -- every allocation; the first to run while the calls are under way
    -- closes the meter.
    local armed, live = false, true
    local function fin()
      if not live then return end
      if armed then
        armed = false
        during = during + 1
        getmetatable(x).__gc(x)
      end
      if mk then getmetatable(mk(true)).__gc = fin else setmetatable({}, { __gc = fin }) end
    end
    for _ = 1, 20 do fin() end
    if is_jit then collectgarbage("setpause", 0) else collectgarbage("incremental", 0, 100, 0) end
    armed = true
    for _ = 1, 50 do
      local ok, e = pcall(call, x)
      if not ok then
        local want = "meter:" .. name .. ": self: the meter was closed"
        if not errors.is(e) or tostring(e) ~= want then
          io.write("bad ", name, ": ", tostring(e), "\n")
        end
        break
      end
    end
    live, armed = false, false
    if is_jit then collectgarbage("setpause", 200) else collectgarbage("incremental", 200, 100, 13) end
  end
end
collectgarbage("collect")
io.write("during ", during, "\n")
