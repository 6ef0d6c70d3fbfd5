-- m:save(path) leaves path holding the old state or the new one, whatever
-- happens: the data goes to a temporary file in the same directory (unnamed
-- where the system allows, else created exclusively under a name nobody can
-- guess), is synced and renamed over path, and the directory is synced.  It
-- keeps the file's permissions, refuses to write over anything that is not a
-- regular file, gives the system's own reason when it fails, and leaves no
-- temporary file behind.
local H = require "helper"
local F = require "meter_file_format"
local imbill = H.imbill
local core = require "imbill.core"

local DAY = 86400
local T0 = core.parse_date("2021-03-01") * DAY + 4 * 3600

local q, run, sh = H.q, H.run, H.sh

local function meter(users)
  local m = imbill.meter{ book = "2020", edition = "pro" }
  for i = 1, users or 3 do m:login("u" .. i, T0) end
  return m
end

local function temps(dir)
  local out = {}
  for name in sh("ls -A " .. q(dir)):gmatch("[^\n]+") do
    if name:find(".imbtmp-", 1, true) then out[#out + 1] = name end
  end
  table.sort(out)
  return out
end

local dir
before_each(function()
  dir = F.tmp(".d")
  assert(run("mkdir -p " .. q(dir)))
end)
after_each(function() run("rm -rf " .. q(dir)) end)

describe("m:save", function()
  it("never writes through a file planted at a temporary name", function()
    -- the old name was <path>.tmp<pid>: a link planted there was written through
    local pid = F.read("/proc/self/stat"):match("^(%d+)")
    local victim = dir .. "/victim"
    F.write(victim, "precious")
    local path = dir .. "/m.meter"
    assert(run("ln -s " .. q(victim) .. " " .. q(path .. ".tmp" .. pid)))
    assert.is_true(meter():save(path))
    assert.equal("precious", F.read(victim))
    assert.equal(3, imbill.meter.load(path):mau("2021-03"))
  end)

  it("names its temporary files unpredictably, and a crash leaves at most those", function()
    local path = dir .. "/m.meter"
    meter():save(path)
    local m = meter(5)
    for _ = 1, 3 do
      assert.matches("stopped after 40 bytes", H.err(m.save, m, path, { crash_after_bytes = 40, named_temp = true }))
    end
    local left = temps(dir)
    assert.equal(3, #left)
    for _, name in ipairs(left) do assert.matches("^%.m%.meter%.imbtmp%-%x%x%x%x%x%x%x%x%-%x+$", name) end
    assert.are_not.equal(left[1], left[2])
    -- the file is still the old state
    assert.equal(3, imbill.meter.load(path):mau("2021-03"))
  end)

  it("leaves nothing behind when it stops mid-write with an unnamed temporary file", function()
    local path = dir .. "/m.meter"
    meter():save(path)
    local m = meter(5)
    for _, n in ipairs({ 0, 1, 31, 32, 100 }) do
      assert.matches("meter:save: path: ", H.err(m.save, m, path, { crash_after_bytes = n }))
      assert.equal(3, imbill.meter.load(path):mau("2021-03"))
    end
    -- where the file system has no unnamed files this is the named way, and
    -- the next save cleans up (below)
    if sh("stat -f -c %T " .. q(dir)) ~= "nfs" then assert.same({}, temps(dir)) end
  end)

  it("removes the temporary files an interrupted save of the same file left", function()
    local path = dir .. "/m.meter"
    local m = meter(4)
    for _ = 1, 2 do pcall(m.save, m, path, { crash_after_bytes = 10, named_temp = true }) end
    -- another file's, and names that only look alike, stay
    pcall(m.save, m, dir .. "/other", { crash_after_bytes = 10, named_temp = true })
    F.write(dir .. "/.m.meter.imbtmp-notmine", "x")
    F.write(dir .. "/m.meter.imbtmp-0000000000000000", "x")
    assert.equal(5, #temps(dir))
    assert.is_true(m:save(path))
    local left = temps(dir)
    assert.equal(3, #left)
    assert.equal(".m.meter.imbtmp-notmine", left[1])
    assert.matches("^%.other%.imbtmp%-", left[2])
    assert.equal("m.meter.imbtmp-0000000000000000", left[3])
    assert.equal(4, imbill.meter.load(path):mau("2021-03"))
  end)

  it("keeps the file's permission bits", function()
    local path = dir .. "/m.meter"
    for _, mode in ipairs({ "600", "640", "644", "444" }) do
      F.write(path, "old")
      assert(run("chmod " .. mode .. " " .. q(path)))
      assert.is_true(meter():save(path))
      assert.equal(mode, sh("stat -c %a " .. q(path)))
    end
  end)

  it("keeps the file's owner and group when it may (as root)", function()
    if sh("id -u") ~= "0" then return end -- only root may give a file away
    local path = dir .. "/m.meter"
    F.write(path, "old")
    assert(run("chown 65534:65534 " .. q(path)))
    assert.is_true(meter():save(path))
    assert.equal("65534:65534", sh("stat -c %u:%g " .. q(path)))
  end)

  it("gives a new file 0666 less the umask", function()
    local umask = tonumber(sh("umask"), 8)
    local path = dir .. "/new.meter"
    assert.is_true(meter():save(path))
    local want = 438 -- 0666
    local mode = tonumber(sh("stat -c %a " .. q(path)), 8)
    -- 0666 & ~umask, bit by bit (no bit operators on every runtime)
    for b = 0, 8 do
      local bit = 2 ^ b
      local w = math.floor(want / bit) % 2 == 1 and math.floor(umask / bit) % 2 == 0
      assert.equal(w, math.floor(mode / bit) % 2 == 1, "mode bit " .. b)
    end
  end)

  it("follows a symbolic link to a regular file: the file is replaced, the link stays", function()
    local target, link = dir .. "/real.meter", dir .. "/link.meter"
    meter(2):save(target)
    assert(run("chmod 600 " .. q(target) .. " && ln -s real.meter " .. q(link)))
    assert.is_true(meter(5):save(link))
    assert.equal("real.meter", sh("readlink " .. q(link)))
    assert.equal(5, imbill.meter.load(target):mau("2021-03"))
    assert.equal("600", sh("stat -c %a " .. q(target)))
    assert.same({}, temps(dir))
  end)

  local function refused(path, pattern)
    local m = meter()
    local err = H.err(m.save, m, path)
    assert.matches("^meter:save: path: " .. pattern, err)
    assert.matches(', got "', err)
    return err
  end

  it("refuses a directory", function()
    assert(run("mkdir " .. q(dir .. "/sub")))
    refused(dir .. "/sub", "is a directory, got")
    refused(dir .. "/sub/", "is a directory, got")
    refused(dir .. "/", "is a directory")
    assert.same({}, temps(dir))
  end)

  it("refuses a device without opening it", function()
    refused("/dev/null", "is a character device, not a regular file")
    refused("/dev/full", "is a character device, not a regular file")
  end)

  it("refuses a FIFO without opening it (that would wait for a reader)", function()
    assert(run("mkfifo " .. q(dir .. "/fifo")))
    refused(dir .. "/fifo", "is a FIFO, not a regular file")
    assert.same({}, temps(dir))
  end)

  it("refuses a symbolic link to something that is not a regular file, or to nothing", function()
    assert(run("mkdir " .. q(dir .. "/sub") .. " && ln -s sub " .. q(dir .. "/todir")
      .. " && ln -s /dev/null " .. q(dir .. "/tonull") .. " && ln -s nothing " .. q(dir .. "/dangling")))
    refused(dir .. "/todir", "is a directory")
    refused(dir .. "/tonull", "is a character device")
    refused(dir .. "/dangling", "is a symbolic link that cannot be followed: No such file or directory")
    assert.equal("nothing", sh("readlink " .. q(dir .. "/dangling")))
  end)

  it("gives the system's reason: no such directory, not a directory, name too long", function()
    refused(dir .. "/nodir/m.meter", "cannot open its directory: No such file or directory")
    F.write(dir .. "/plain", "x")
    refused(dir .. "/plain/m.meter", "cannot look the file up: Not a directory")
    refused(dir .. "/" .. string.rep("a", 300), "cannot look the file up: File name too long")
    refused(dir .. string.rep("/x", 3000), "the path is %d+ bytes long: File name too long")
    assert.same({}, temps(dir))
  end)

  it("refuses a path with a NUL byte instead of cutting it there", function()
    refused(dir .. "/m.meter\0.bak", 'the path contains a NUL byte, got "')
    assert.equal("", sh("ls -A " .. q(dir)))
    refused("", "the path is empty")
  end)

  -- As root nothing is denied, so a child dropped to nobody (setpriv) tries.
  local root = sh("id -u") == "0"
  local as_nobody = root and run("command -v setpriv")
  local it_denied = (not root or as_nobody) and it or pending
  it_denied("gives permission denied when the directory is not writable", function()
    local ro = dir .. "/ro"
    assert(run("mkdir " .. q(ro) .. " && chmod 555 " .. q(ro)))
    if not root then
      refused(ro .. "/m.meter", "cannot create a temporary file in .*: Permission denied")
      return
    end
    local script = dir .. "/child.lua"
    F.write(script, string.format([[
      local imbill = require "imbill"
      local m = imbill.meter{ book = "2020", edition = "pro" }
      io.write(tostring(select(2, pcall(m.save, m, %q))))
    ]], ro .. "/m.meter"))
    assert(run("chmod 755 " .. q(dir) .. " && chmod 644 " .. q(script)))
    local out = sh(string.format("LUA_PATH=%s LUA_CPATH=%s setpriv --reuid=65534 --regid=65534 --clear-groups %s %s",
      q(package.path), q(package.cpath), H.lua, q(script)))
    assert.matches("^meter:save: path: cannot create a temporary file in .*: Permission denied", out)
  end)

  -- A small tmpfs of our own: filled up, and remounted read-only.  Needs
  -- root (mount); without it these are pending, saying so.
  local mnt = H.top .. "/build/spec-tmpfs"
  run("mkdir -p " .. q(mnt))
  local can_mount = run("mount -t tmpfs -o size=64k imbill-spec " .. q(mnt) .. " && umount " .. q(mnt))
  local it_mount = can_mount and it or function(name)
    pending(name .. ": mounting a 64k tmpfs is not permitted here (needs root)")
  end

  it_mount("keeps the old file and leaves nothing when the disk fills up", function()
    assert(run("mount -t tmpfs -o size=64k imbill-spec " .. q(mnt)))
    local ok, err = pcall(function()
      local path = mnt .. "/m.meter"
      meter(3):save(path)
      local big = meter(20000)
      local e = H.err(big.save, big, path)
      assert.matches("^meter:save: path: cannot write the temporary file: No space left on device", e)
      assert.equal(3, imbill.meter.load(path):mau("2021-03"))
      assert.same({}, temps(mnt))
      -- and the same the named way
      e = H.err(big.save, big, path, { named_temp = true })
      assert.matches("No space left on device", e)
      assert.equal(3, imbill.meter.load(path):mau("2021-03"))
      assert.same({}, temps(mnt))
    end)
    run("umount " .. q(mnt))
    assert(ok, err)
  end)

  it_mount("gives read-only file system on a read-only mount", function()
    assert(run("mount -t tmpfs -o size=64k imbill-spec " .. q(mnt)))
    local ok, err = pcall(function()
      local path = mnt .. "/m.meter"
      meter(3):save(path)
      assert(run("mount -o remount,ro " .. q(mnt)))
      refused(path, "cannot create a temporary file in .*: Read%-only file system")
      assert.equal(3, imbill.meter.load(path):mau("2021-03"))
    end)
    run("umount " .. q(mnt))
    assert(ok, err)
  end)
end)
