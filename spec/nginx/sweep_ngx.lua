-- The reservation sweep visits every app's store once a second.  A Redis
-- that does not answer holds up only its own apps: each store is swept on
-- its own, so the others' reservations still expire on time, and a sweep
-- takes as long as its slowest store, not as long as all of them together.
-- A gateway of its own: two Redis entries pointing at a listener that takes
-- connections and never answers, and an app on the shared dict.
local h = require "ngx_helper"
local cjson = require "cjson"
local socket = require "socket"

describe("the reservation sweep", function()
  local dir = os.getenv("IMBILL_NGX_PREFIX") .. "/sweep"
  local DICT, SILENT1, SILENT2 = "1400000031", "1400000032", "1400000033"
  local silent

  after_each(function()
    h.stop_own(dir)
    if silent then silent:close() end
    silent = nil
  end)

  it("waits for a silent Redis no longer than that Redis' deadline, and still expires the others' reservations",
    function()
    -- connections are taken by the kernel (a backlog) and never read
    silent = assert(socket.bind("127.0.0.1", 0))
    local _, sport = silent:getsockname()
    local port = h.free_port()
    local out = h.own_nginx(dir, ([[
  lua_shared_dict imbill_replay 1m;
  lua_shared_dict imbill_journal 1m;
  init_by_lua_block {
    require "resty.core"
    require("imbill.gateway").setup {
      redis = {
        silent1 = { servers = { "127.0.0.1:@SPORT@" }, timeout = 0.2, deadline = 1, background_deadline = 1 },
        silent2 = { servers = { "127.0.0.1:@SPORT@" }, timeout = 0.2, deadline = 1, background_deadline = 1 },
      },
      apps = {
        ["@DICT@"] = { book = "2020", edition = "pro", unsigned_callbacks = true, reservation_ttl = 1 },
        ["@S1@"] = { book = "2020", edition = "pro", redis = "silent1" },
        ["@S2@"] = { book = "2020", edition = "pro", redis = "silent2" },
      } }
  }
  init_worker_by_lua_block { require("imbill.gateway").init_worker() }
  server {
    listen 127.0.0.1:@PORT@;
    location = /imbill/callback { content_by_lua_block { require("imbill.gateway").callback() } }
    location = /imbill/status { content_by_lua_block { require("imbill.gateway").status() } }
    location /t/ { content_by_lua_block { require("spec_t").handle() } }
  }]]):gsub("@DICT@", DICT):gsub("@S1@", SILENT1):gsub("@S2@", SILENT2):gsub("@SPORT@", tostring(sport))
      :gsub("@PORT@", tostring(port)))
    assert.truthy(out:find("rc=0", 1, true), out)
    h.eventually(function()
      local s = socket.tcp()
      s:settimeout(0.2)
      local up = s:connect("127.0.0.1", port)
      s:close()
      return up ~= nil
    end, "the gateway's port")
    -- an approval on the dict app, unconfirmed: reserved for 1 s
    local r = h.http.post(h.http.callback_path(DICT, "Group.CallbackBeforeCreateGroup", nil), cjson.encode {
      CallbackCommand = "Group.CallbackBeforeCreateGroup", Type = "Public", Owner_Account = "o", Name = "n" },
      nil, port)
    assert.are.equal(0, cjson.decode(r.body).ErrorCode)
    assert.are.equal(1, h.json(h.http.get("/t/keys?app=" .. DICT, port))["c:groups"])
    h.sleep(1.2)
    -- a sweep of this test's own, after the deadline: the timer's may run too,
    -- so the approval is taken back by one or the other
    local sw = h.json(h.http.get("/t/sweep", port))
    assert.is_true(sw.swept)
    -- each silent store waits out its 1 s deadline, both at once (one after
    -- the other, the sweep took 2 s and more)
    assert.is_true(sw.took < 1.6, "the sweep took " .. sw.took .. " s")
    h.eventually(function()
      return h.json(h.http.get("/t/keys?app=" .. DICT, port))["c:groups"] == nil
    end, "the approval taken back")
    assert.are.equal(1, h.http.metric_in(h.http.get("/imbill/status", port).body,
      "imbill_reservations_expired_total", { app = DICT }))
  end)
end)
