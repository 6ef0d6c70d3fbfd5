-- examples/nginx/start.sh with a pid file it did not write: after a crash or
-- a reboot the pid file may name another program, which start.sh must not
-- take for the gateway nor send a signal.  (The script is run from a copy
-- in a directory of its own, so nothing of the checkout's example is
-- touched and no nginx is started.)
local H = require "helper"

-- a command's output and its exit status ("rc=N")
local function sh(cmd) return H.sh(cmd .. ' 2>&1; echo "rc=$?"') .. "\n" end

describe("examples/nginx/start.sh", function()
  local dir, other

  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    dir = dir .. " dir" -- a prefix with a space in it
    assert.matches("rc=0", sh(string.format("mkdir -p '%s/logs' && cp '%s/examples/nginx/start.sh' '%s/'", dir, H.top,
      dir)))
    -- another program, whose pid a stale pid file names
    other = sh("sleep 30 >/dev/null 2>&1 & echo $!"):match("^(%d+)")
    assert.truthy(other)
    local f = assert(io.open(dir .. "/logs/nginx.pid", "w"))
    f:write(other, "\n")
    f:close()
  end)

  after_each(function()
    sh("kill " .. other)
    sh(string.format("rm -rf '%s'", dir))
  end)

  it("says a pid file naming another program is not the gateway running", function()
    local out = sh(string.format("'%s/start.sh' status", dir))
    assert.matches("not running\nrc=1\n$", out)
  end)

  it("stops nothing when the pid file names another program, and removes the stale file", function()
    local out = sh(string.format("'%s/start.sh' stop", dir))
    assert.matches("not running %(removing .* which names no nginx of this example%)\nrc=0\n$", out)
    assert.matches("rc=0", sh("kill -0 " .. other))
    assert.is_nil(io.open(dir .. "/logs/nginx.pid"))
  end)

  it("stops nothing when the pid file is empty or not a number", function()
    for _, text in ipairs { "", "garbage\n", "-1\n" } do
      local f = assert(io.open(dir .. "/logs/nginx.pid", "w"))
      f:write(text)
      f:close()
      assert.matches("not running", sh(string.format("'%s/start.sh' stop", dir)))
      assert.matches("rc=0", sh("kill -0 " .. other))
    end
  end)
end)
