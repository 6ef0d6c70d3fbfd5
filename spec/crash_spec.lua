-- A save killed at any point (SIGKILL: no handler, no cleanup) leaves the
-- file holding the state before that save or the state it was writing, never
-- anything else, and no temporary file outlives the next successful save.
--
-- A child process (the interpreter running these specs) loads the file, adds
-- one account and saves, over and over, printing each generation it saved;
-- a killer started by the child itself sends SIGKILL after a random delay, so
-- the kill lands anywhere: while the state is encoded, written, synced,
-- linked or renamed.  About 50 rounds, bounded in time (each child has a
-- 30-second limit and at most 100 saves), half of them with named temporary
-- files (the way taken where the file system has no unnamed ones).
local H = require "helper"
local imbill = H.imbill
local core = require "imbill.core"

local T0 = core.parse_date("2021-03-01") * 86400 + 4 * 3600
local BASE = 20000 -- users, so that a save takes long enough to be interrupted
local ROUNDS = 50

local q = H.q
local function sh(cmd)
  local p = io.popen(cmd .. " 2>/dev/null")
  local out = p:read("*a")
  p:close()
  return out
end

local CHILD = [[
local imbill = require "imbill"
local path, named, delay = arg[1], arg[2] == "named", arg[3]
local m = imbill.meter.load(path)
local gen = m:accounts()
local pid = io.open("/proc/self/stat"):read("*a"):match("^(%d+)")
io.write("ready ", gen, "\n")
io.flush()
os.execute("(sleep " .. delay .. "; kill -KILL " .. pid .. ") >/dev/null 2>&1 &")
for _ = 1, 100 do
  gen = gen + 1
  m:create_account("a" .. gen, 1614556800)
  m:save(path, { named_temp = named })
  io.write("saved ", gen, "\n")
  io.flush()
end
]]

describe("a save killed at a random point", function()
  it("leaves the previous or the new state, and no temporary file past the next save", function()
    local path = os.tmpname() .. ".meter"
    local dir, name = path:match("^(.*)/([^/]+)$")
    local script = path .. ".child.lua"
    local f = assert(io.open(script, "w"))
    f:write(CHILD)
    f:close()
    local function temps()
      local out = {}
      for n in sh("ls -A " .. q(dir)):gmatch("[^\n]+") do
        if n:sub(1, #name + 10) == "." .. name .. ".imbtmp-" then out[n] = true end
      end
      return out
    end
    local m = imbill.meter{ book = "2020", edition = "pro" }
    for i = 1, BASE do m:login("user" .. i, T0 + (i % 20) * 86400) end
    m:save(path)
    math.randomseed(os.time())
    local killed, renamed, stale_before = 0, 0, {}
    local ok, err = pcall(function()
      for round = 1, ROUNDS do
        local named = round % 2 == 0
        local delay = string.format("%.3f", math.random() * 0.15)
        local out = sh(string.format("LUA_PATH=%s LUA_CPATH=%s timeout -s KILL 30 %s %s %s %s %s", q(package.path),
          q(package.cpath), H.lua, q(script), q(path), named and "named" or "unnamed", delay))
        local ready = tonumber(out:match("^ready (%d+)\n"))
        assert(ready, "round " .. round .. ": the child did not start: " .. out)
        local last = ready
        for g in out:gmatch("saved (%d+)\n") do last = tonumber(g) end
        -- the file: generation `last` (its save finished), or `last + 1`
        -- (renamed into place just before the kill)
        local got = imbill.meter.load(path)
        local gen = got:accounts()
        assert(gen == last or gen == last + 1, string.format("round %d: the file holds generation %d, the child "
          .. "had saved %d", round, gen, last))
        if last < ready + 100 then killed = killed + 1 end
        if gen == last + 1 then renamed = renamed + 1 end
        for k = 1, gen do assert(got:has_account("a" .. k), "round " .. round .. ": account a" .. k .. " lost") end
        assert.is_false(got:has_account("a" .. (gen + 1)))
        assert.equal(BASE, got:mau("2021-03"))
        -- a temporary file left by an earlier round is gone once a save succeeded
        local now = temps()
        if last > ready then
          for t in pairs(stale_before) do assert(not now[t], "round " .. round .. ": " .. t .. " outlived a save") end
        end
        stale_before = now
      end
      -- one more save, and nothing is left at all
      imbill.meter.load(path):save(path)
      assert.same({}, temps())
    end)
    os.execute("rm -f " .. q(path) .. " " .. q(script) .. " " .. q(dir .. "/." .. name) .. ".imbtmp-*")
    assert(ok, err)
    -- every child died by the kill, in the middle of its saves
    assert.equal(ROUNDS, killed)
    -- (renamed counts the kills that came after a rename and before the
    -- child said so: both outcomes occur)
    assert.is_true(renamed <= killed)
  end)
end)
