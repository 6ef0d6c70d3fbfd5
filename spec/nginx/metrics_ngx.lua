-- Counters are kept per worker and published to the shared dict every
-- 50 ms; the status page waits one period, so what was counted before it was
-- asked is on it, whichever worker counted it.
local h = require "ngx_helper"
local cjson = require "cjson"

local PRO = "1400000001"

describe("the status page's counters (4 workers)", function()
  before_each(h.flush)

  it("shows every call counted by any worker, asked right after the calls", function()
    for run = 1, 3 do
      h.flush()
      local reqs = {}
      for i = 1, 60 do
        reqs[i] = { "POST", h.http.rest_path("im_open_login_svc/account_import", PRO),
                    cjson.encode { UserID = "m" .. run .. "u" .. i } }
      end
      for _, r in ipairs(h.http.concurrent(reqs)) do assert.are.equal(200, r.status) end
      assert.are.equal(60, h.metric("imbill_allowed_total", { app = PRO, action = "account_import", via = "rest" }),
        "run " .. run)
      -- the same import again changes nothing, and says so
      for _, r in ipairs(h.http.concurrent(reqs)) do assert.are.equal(200, r.status) end
      assert.are.equal(60, h.metric("imbill_unchanged_total", { app = PRO, action = "account_import", via = "rest" }),
        "run " .. run)
      assert.are.equal(60, h.metric("imbill_allowed_total", { app = PRO, action = "account_import", via = "rest" }))
    end
  end)
end)
