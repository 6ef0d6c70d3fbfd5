--- Work that must wait for the store's lock but arrives in a phase that
-- cannot wait (header_filter, body_filter and log cannot yield, so they
-- cannot sleep while another worker holds the lock).  Each worker keeps a
-- queue and one zero-delay timer drains it; a job whose lock is busy is
-- tried again a little later, a bounded number of times.
local ngx = ngx
local M = {}

local jobs, head, tail = {}, 1, 0
local draining = false
local MAX_TRIES = 20

local drain

local function start(delay)
  if draining then return true end
  -- a worker that is exiting (a reload, nginx -s quit) may only make timers
  -- without a delay: its jobs are still tried, MAX_TRIES times, before it
  -- exits, instead of being left in the queue it takes with it
  if delay and delay > 0 and ngx.worker.exiting() then delay = 0 end
  draining = true
  local ok, err = ngx.timer.at(delay or 0, drain)
  if not ok then
    draining = false
    ngx.log(ngx.ERR, "imbill: cannot start the settlement timer (", err, "); ", tail - head + 1, " jobs wait")
    return false
  end
  return true
end

function drain()
  local retry = {}
  while head <= tail do
    local job = jobs[head]
    jobs[head] = nil
    head = head + 1
    local ok, done = pcall(job.run, job)
    if not ok then
      ngx.log(ngx.ERR, "imbill: settlement failed: ", tostring(done))
    elseif done == false then
      job.tries = (job.tries or 0) + 1
      if job.tries < MAX_TRIES then
        retry[#retry + 1] = job
      elseif job.give_up then
        job:give_up()
      end
    end
  end
  draining = false
  if #retry > 0 then
    for _, job in ipairs(retry) do
      tail = tail + 1
      jobs[tail] = job
    end
    start(0.05)
  end
end

--- Queues job (a table with job:run(), which returns false to be tried
-- again, and optionally job:give_up()).
function M.push(job)
  tail = tail + 1
  jobs[tail] = job
  return start(0)
end

function M.length() return tail - head + 1 end

return M
