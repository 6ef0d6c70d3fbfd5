-- imbill.meter.load reads only a regular file, checks the 32-byte header
-- before anything else, and then reads exactly the body the header declares
-- (which must be the rest of the file): a directory, a FIFO or a device is
-- refused without being read (a FIFO would block, /dev/zero never ends), and
-- a large file that is not a meter file costs one header read.
local H = require "helper"
local F = require "meter_file_format"
local imbill = H.imbill
local core = require "imbill.core"

local T0 = core.parse_date("2021-03-01") * 86400 + 4 * 3600

local q, run, sh = H.q, H.run, H.sh

-- Bytes this process has read through read() so far (Linux), or nil.
local function rchar()
  local f = io.open("/proc/self/io", "r")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("rchar: (%d+)"))
end

local dir
before_each(function()
  dir = F.tmp(".d")
  assert(run("mkdir -p " .. q(dir)))
end)
after_each(function() run("rm -rf " .. q(dir)) end)

local function refused(path, pattern)
  local err = H.err(imbill.meter.load, path)
  assert.matches("^imbill.meter.load: path: " .. pattern, err)
  return err
end

describe("imbill.meter.load", function()
  it("refuses a directory", function()
    refused(dir, "is a directory, got")
    assert(run("ln -s . " .. q(dir .. "/self")))
    refused(dir .. "/self", "is a directory")
  end)

  it("refuses a device without reading it", function()
    local before = rchar()
    refused("/dev/zero", "is a character device, not a regular file")
    refused("/dev/null", "is a character device, not a regular file")
    if before then assert.is_true(rchar() - before < 65536) end
  end)

  it("refuses a FIFO at once (opening it would wait for a writer)", function()
    local fifo = dir .. "/fifo"
    assert(run("mkfifo " .. q(fifo)))
    -- in a child with a time limit, so a regression fails instead of hanging
    local script = dir .. "/child.lua"
    F.write(script, string.format([[
      local imbill = require "imbill"
      io.write(tostring(select(2, pcall(imbill.meter.load, %q))))
    ]], fifo))
    local out = sh(string.format("LUA_PATH=%s LUA_CPATH=%s timeout -s KILL 20 %s %s", q(package.path),
      q(package.cpath), H.lua, q(script)))
    assert.matches("^imbill.meter.load: path: is a FIFO, not a regular file", out)
  end)

  it("reads only the header of a large file that is not a meter file", function()
    local big = dir .. "/zeros"
    assert(run("truncate -s 100M " .. q(big))) -- sparse: no disk used
    local before = rchar()
    refused(big, "not an imbill meter file %(bad magic%)")
    if before then assert.is_true(rchar() - before < 65536, "read " .. (rchar() - before) .. " bytes") end
  end)

  it("reads nothing past a header whose length does not match the file", function()
    local path = dir .. "/m.meter"
    local m = imbill.meter{ book = "2020", edition = "pro" }
    m:login("a", T0)
    m:save(path)
    local file = F.read(path)
    -- a valid header, then 100 MB where the body should be
    F.write(path, file:sub(1, 32))
    assert(run("truncate -s 100M " .. q(path)))
    local before = rchar()
    refused(path, "truncated or extended: the header declares " .. (#file - 32) .. " bytes of body, the file has "
      .. (100 * 1048576 - 32))
    if before then assert.is_true(rchar() - before < 65536) end
    -- and a header declaring more than any file holds
    F.write(path, file:sub(1, 16) .. "\255\255\255\255\255\255\255\127" .. file:sub(25))
    refused(path, "the header declares a body of 9223372036854775807 bytes, beyond the limit")
  end)

  it("gives the system's reason when the file cannot be opened", function()
    refused(dir .. "/missing", "cannot open: No such file or directory")
    F.write(dir .. "/plain", "x")
    refused(dir .. "/plain/m.meter", "cannot open: Not a directory")
    refused(dir .. "/" .. string.rep("a", 300), "cannot open: File name too long")
  end)

  local root = sh("id -u") == "0"
  local as_nobody = root and run("command -v setpriv")
  local it_denied = (not root or as_nobody) and it or pending
  it_denied("gives permission denied for a file it may not read", function()
    local path = dir .. "/m.meter"
    imbill.meter{ book = "2020", edition = "pro" }:save(path)
    assert(run("chmod 600 " .. q(path) .. " && chmod 755 " .. q(dir)))
    if not root then
      assert(run("chmod 000 " .. q(path)))
      refused(path, "cannot open: Permission denied")
      return
    end
    local script = dir .. "/child.lua"
    F.write(script, string.format([[
      local imbill = require "imbill"
      io.write(tostring(select(2, pcall(imbill.meter.load, %q))))
    ]], path))
    assert(run("chmod 644 " .. q(script)))
    local out = sh(string.format("LUA_PATH=%s LUA_CPATH=%s setpriv --reuid=65534 --regid=65534 --clear-groups %s %s",
      q(package.path), q(package.cpath), H.lua, q(script)))
    assert.matches("^imbill.meter.load: path: cannot open: Permission denied", out)
  end)

  it("refuses a path with a NUL byte, and an empty one", function()
    local path = dir .. "/m.meter"
    imbill.meter{ book = "2020", edition = "pro" }:save(path)
    refused(path .. "\0.bak", "the path contains a NUL byte")
    refused("", "the path is empty")
    assert.matches("^imbill.meter.load: path: expected a string", H.err(imbill.meter.load, 42))
  end)

  it("follows a symbolic link to a meter file", function()
    local path = dir .. "/m.meter"
    local m = imbill.meter{ book = "2020", edition = "pro" }
    m:login("a", T0)
    m:save(path)
    assert(run("ln -s m.meter " .. q(dir .. "/link")))
    assert.equal(1, imbill.meter.load(dir .. "/link"):mau("2021-03"))
  end)
end)
