-- examples/nginx as an operator copies it: its nginx.conf, gateway.lua and
-- stub started as they are (a copy two levels under the repository, so its
-- prefix-relative paths reach lua/ and build/ as the example's do; only its
-- three ports moved to free ones).  The gateway's listener has no way to
-- Tencent around the check: the benchmark's proxies without it have a
-- listener of their own, and a body nginx refuses before the gateway sees
-- it is answered in Tencent's shape.
local h = require "ngx_helper"
local http = require "ngx_client"
local cjson = require "cjson"
local socket = require "socket"

local TRIAL = "1400000002"

local function up(port)
  local s = socket.tcp()
  s:settimeout(0.2)
  local ok = s:connect("127.0.0.1", port)
  s:close()
  return ok ~= nil
end

describe("the example gateway (examples/nginx)", function()
  local top = os.getenv("IMBILL_TOP")
  local dir = top .. "/build/nginx-example"
  local gw, stub, yard

  setup(function()
    gw, stub, yard = h.free_port(), h.free_port(), h.free_port()
    assert.are.equal("", h.sh("rm -rf '" .. dir .. "' && mkdir -p '" .. dir .. "' && cp '" .. top
      .. "/examples/nginx/'*.conf '" .. top .. "/examples/nginx/'*.lua '" .. dir .. "/'"))
    local f = assert(io.open(dir .. "/nginx.conf"))
    local conf = f:read("*a")
    f:close()
    conf = conf:gsub("127%.0%.0%.1:1848([012])", function(k)
      return "127.0.0.1:" .. ({ ["0"] = gw, ["1"] = stub, ["2"] = yard })[k]
    end)
    assert.falsy(conf:find("1848", 1, true), "a port of the example left")
    f = assert(io.open(dir .. "/nginx.conf", "w"))
    f:write(conf)
    f:close()
    h.sh("mkdir -p '" .. dir .. "/logs' '" .. dir .. "/tmp'")
    local user = h.sh("id -u"):match("^0\n") and " -g 'user root root;'" or ""
    local out = h.sh("nginx -p '" .. dir .. "/' -c nginx.conf" .. user .. "; echo rc=$?")
    assert.truthy(out:find("rc=0", 1, true), out)
    h.eventually(function() return up(gw) and up(stub) and up(yard) end, "the example's three ports")
  end)

  teardown(function() h.stop_own(dir) end)

  local function rest(path, body, port)
    local r = http.post(path .. "?sdkappid=" .. TRIAL .. "&identifier=admin&usersig=x&contenttype=json", body, nil,
      port or gw)
    return r, r.status == 200 and r.body:sub(1, 1) == "{" and cjson.decode(r.body) or nil
  end

  local function stub_count(cmd)
    return tonumber(http.get("/stub/count?cmd=" .. cmd, stub).body) or 0
  end

  it("counts and refuses on its REST path: the trial's 100 accounts, then 70398", function()
    for i = 1, 100 do
      local _, v = rest("/v4/im_open_login_svc/account_import", cjson.encode { UserID = "ex" .. i })
      assert.are.equal("OK", v.ActionStatus, i)
    end
    local _, v = rest("/v4/im_open_login_svc/account_import", cjson.encode { UserID = "ex101" })
    assert.are.equal(70398, v.ErrorCode)
    assert.are.equal(100, stub_count("account_import"))
  end)

  it("has no path to Tencent around the check on the gateway's listener", function()
    local before = stub_count("account_import")
    for _, p in ipairs { "/plain/v4/im_open_login_svc/account_import", "/floor/v4/im_open_login_svc/account_import" } do
      local r = rest(p, cjson.encode { UserID = "around" })
      assert.are.equal(404, r.status, p)
    end
    -- dot segments: nginx's path and the one Tencent receives differ
    local r, v = rest("/v4/im_open_login_svc/account_import%2F..", cjson.encode { UserID = "dots" })
    assert.are.equal(200, r.status)
    assert.are.equal(60002, v.ErrorCode)
    assert.are.equal(before, stub_count("account_import"))
    -- the benchmark's yardsticks answer on their own listener only
    local _, y = rest("/plain/v4/im_open_login_svc/account_import", cjson.encode { UserID = "yard" }, yard)
    assert.are.equal("OK", y.ActionStatus)
    assert.are.equal(before + 1, stub_count("account_import"))
  end)

  it("answers a body over client_max_body_size in Tencent's shape, sending nothing on", function()
    local before = stub_count("account_import")
    local big = '{"UserID":"big","Nick":"' .. string.rep("a", 3 * 1048576) .. '"}'
    local r, v = rest("/v4/im_open_login_svc/account_import", big)
    assert.are.equal(200, r.status)
    assert.are.equal("application/json", r.headers["content-type"])
    assert.are.equal("FAIL", v.ActionStatus)
    assert.are.equal(60002, v.ErrorCode)
    assert.truthy(v.ErrorInfo:find("client_max_body_size", 1, true), v.ErrorInfo)
    assert.are.equal(before, stub_count("account_import"))
  end)
end)
