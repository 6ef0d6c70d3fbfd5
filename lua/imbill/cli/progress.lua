--- A progress bar on standard error, drawn only on a terminal and only once
-- the run has lasted more than a second (IMBILL_PROGRESS=always or never
-- overrides the terminal check).  It is decoration: a failed write to
-- standard error is not an error of the command.
local M = {}

local tty_cache
local function stderr_is_tty()
  if tty_cache == nil then
    local force = os.getenv("IMBILL_PROGRESS")
    if force == "always" then tty_cache = true
    elseif force == "never" then tty_cache = false
    else
      local ok, _, code = os.execute("test -t 2")
      tty_cache = (ok == true or ok == 0) and (code == nil or code == 0)
    end
  end
  return tty_cache
end

-- os.clock is CPU time, which is what a CPU-bound run spends; wall-clock
-- seconds with sub-second resolution are not available in plain Lua
local now = os.clock

--- progress.new(label, enabled) -> { update = function(done, total), finish = function() }
function M.new(label, enabled)
  local p = { started = now(), drawn = false, last = -1 }
  local on = enabled ~= false and stderr_is_tty()
  function p.update(done, total)
    if not on then return end
    if now() - p.started < 1 then return end
    local pct = total > 0 and math.floor(done * 100 / total) or 100
    if pct == p.last then return end
    p.last = pct
    local width = 30
    local fill = math.floor(width * pct / 100)
    io.stderr:write(string.format("\r%s [%s%s] %3d%% %d/%d", label, string.rep("#", fill),
      string.rep(".", width - fill), pct, done, total))
    io.stderr:flush()
    p.drawn = true
  end
  function p.finish()
    if p.drawn then
      io.stderr:write("\r" .. string.rep(" ", 70) .. "\r")
      io.stderr:flush()
    end
  end
  return p
end

return M
