-- Bytes the shared dict takes per user, group, membership, friendship and
-- event id, measured through the core's real plans (docs/gateway.md sizes
-- the dict from these).  Figures go to build/nginx-spec/sizing.json.
local h = require "ngx_helper"

describe("dict sizing", function()
  it("measures bytes per thing, each within a sane bound", function()
    local r = h.http.get("/t/sizing?app=1400000008&n=20000")
    local s = h.json(r)
    assert.are.equal(200, r.status, s.error)
    local f = io.open(h.http.prefix .. "/sizing.json", "w")
    f:write(require("cjson").encode(s))
    f:close()
    io.stderr:write(string.format("sizing: account %.0f B, login state %.0f B, user-day %.0f B, group %.0f B, "
      .. "membership %.0f B (in a group of 1,000: %.0f B), friendship %.0f B, event id %.0f B, replay entry %.0f B\n",
      s.account, s.login_user, s.login_user_day, s.group, s.membership, s.membership_big_group, s.friendship,
      s.event_id, s.replay_entry))
    assert.is_true(s.account > 0 and s.account < 400)
    assert.is_true(s.login_user > 0 and s.login_user < 400)
    assert.is_true(s.login_user_day < 16) -- a day more is a bit in the user's 16 bytes
    assert.is_true(s.group > 0 and s.group < 1500)
    assert.is_true(s.membership > 0 and s.membership < 1000)
    assert.is_true(s.friendship > 0 and s.friendship < 1000)
  end)
end)
