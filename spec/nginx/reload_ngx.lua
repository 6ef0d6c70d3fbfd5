-- nginx -s reload (HUP) and the counts.  A reload keeps a dict's memory
-- while its size in nginx.conf stays as it was; a dict whose size changed
-- comes back empty.  The gateway tells the two apart: an emptied dict is
-- logged and marked damaged (capped calls fail closed) instead of counting
-- every app again from zero unseen.
local h = require "ngx_helper"

local APP = "1400000015" -- 2020 trial (100 accounts) on lua_shared_dict imbill_reload
local prefix = os.getenv("IMBILL_NGX_PREFIX")

local sh = h.sh

local function master()
  local f = assert(io.open(prefix .. "/logs/nginx.pid"))
  local pid = f:read("*l")
  f:close()
  return pid
end

local function workers()
  local set = {}
  for pid in sh("pgrep -P " .. master()):gmatch("%d+") do set[pid] = true end
  return set
end

-- HUP, then wait until none of the workers from before is left
local function reload()
  local before = workers()
  local ok = os.execute("kill -HUP " .. master())
  assert.is_true(ok == true or ok == 0)
  for _ = 1, 200 do
    h.sleep(0.05)
    local now, old, n = workers(), false, 0
    for pid in pairs(now) do
      n = n + 1
      if before[pid] then old = true end
    end
    if not old and n > 0 then return end
  end
  error("the workers from before the reload never left")
end

local function import(user)
  local _, v = h.rest("im_open_login_svc/account_import", APP, { UserID = user })
  return v
end

local function accounts() return h.keys(APP)["c:accounts"] or 0 end

local function set_size(size)
  local conf = prefix .. "/conf/nginx.conf"
  local f = assert(io.open(conf))
  local text = f:read("*a")
  f:close()
  local n
  text, n = text:gsub("lua_shared_dict imbill_reload %w+;", "lua_shared_dict imbill_reload " .. size .. ";")
  assert.are.equal(1, n)
  f = assert(io.open(conf, "w"))
  f:write(text)
  f:close()
end

describe("a reload (nginx -s reload)", function()
  it("keeps the counts of a dict whose size did not change, with no damage mark", function()
    h.flush()
    for i = 1, 3 do assert.are.equal("OK", import("kept" .. i).ActionStatus) end
    local allowed = h.metric("imbill_allowed_total", { app = APP, action = "account_import", via = "rest" })
    reload()
    assert.are.equal(3, accounts())
    assert.are.equal(0, h.metric("imbill_store_damaged", { dict = "imbill_reload" }))
    -- the status page's counters live in the meta dict: they go on from
    -- where they were
    assert.are.equal(allowed, h.metric("imbill_allowed_total", { app = APP, action = "account_import", via = "rest" }))
    assert.are.equal("OK", import("kept4").ActionStatus)
    assert.are.equal(4, accounts())
  end)

  it("marks a dict emptied by a reload that changed its size damaged: capped calls fail closed until cleared",
    function()
      assert.is_true(accounts() > 0)
      set_size("2m")
      reload()
      -- nginx gave the dict fresh memory: the counts are gone ...
      assert.are.equal(0, accounts())
      -- ... and the gateway says so, rather than count again from zero
      assert.are.equal(1, h.metric("imbill_store_damaged", { dict = "imbill_reload" }))
      local log = sh("grep -c 'lua_shared_dict imbill_reload held counts before this reload and is empty now' '"
        .. prefix .. "/logs/error.log'")
      assert.is_true(tonumber(log) >= 1, log)
      local v = import("after")
      assert.are.equal("FAIL", v.ActionStatus)
      assert.are.equal(70500, v.ErrorCode)
      assert.truthy(v.ErrorInfo:find("emptied by a reload", 1, true), v.ErrorInfo)
      -- the other dicts kept theirs
      assert.are.equal(0, h.metric("imbill_store_damaged", { dict = "imbill" }))
      -- the operator clears the mark (having accepted the loss)
      assert.are.same({ cleared = { "imbill_reload" } }, h.json(h.http.post("/t/clear", "")))
      assert.are.equal("OK", import("after").ActionStatus)
      assert.are.equal(1, accounts())
      -- a later reload at the new size keeps them
      reload()
      assert.are.equal(1, accounts())
      assert.are.equal(0, h.metric("imbill_store_damaged", { dict = "imbill_reload" }))
    end)
end)
