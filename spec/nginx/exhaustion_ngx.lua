-- A deliberately small dict runs out of memory: the write that does not fit
-- is detected, the batch is put back whole, the failure is logged and
-- counted, and capped calls fail closed (or pass, for an app that fails
-- open) until an operator clears the mark.  No quota is ever reset.
local h = require "ngx_helper"
local cjson = require "cjson"

local SMALL, SMALL_OPEN = "1400000009", "1400000010"

describe("a shared dict that runs out of memory", function()
  before_each(h.flush)

  it("is detected, reported, and fails closed without resetting any count", function()
    local ok, first_fail = 0, nil
    for i = 1, 100 do
      local _, v = h.rest("im_open_login_svc/account_import", SMALL, { UserID = string.rep("x", 900) .. i })
      if v.ActionStatus == "OK" then
        ok = ok + 1
      else
        first_fail = v
        break
      end
    end
    assert.is_truthy(first_fail, "the dict never filled up")
    assert.is_true(ok > 10 and ok < 100)
    assert.are.equal(70500, first_fail.ErrorCode)
    assert.truthy(first_fail.ErrorInfo:find("no memory", 1, true), first_fail.ErrorInfo)
    -- every account that was answered OK is counted; the failed one is not
    local k = h.keys(SMALL)
    assert.are.equal(ok, k["c:accounts"])
    -- from now on capped calls are refused, even small ones that would fit
    local _, v = h.rest("im_open_login_svc/account_import", SMALL, { UserID = "tiny" })
    assert.are.equal(70500, v.ErrorCode)
    assert.truthy(v.ErrorInfo:find("store damaged", 1, true), v.ErrorInfo)
    -- an app that fails open passes its calls to Tencent, uncounted
    local before = h.stub_count("account_import")
    local _, w = h.rest("im_open_login_svc/account_import", SMALL_OPEN, { UserID = "passes" })
    assert.are.equal("OK", w.ActionStatus)
    assert.are.equal(before + 1, h.stub_count("account_import"))
    -- the status page says so
    assert.are.equal(1, h.metric("imbill_store_damaged", { dict = "imbill_small" }))
    assert.is_true(h.metric("imbill_store_errors_total", { dict = "imbill_small", reason = "no memory" }) >= 1)
    assert.are.equal(0, h.metric("imbill_store_damaged", { dict = "imbill" }))
    assert.truthy(io.open(h.http.prefix .. "/logs/error.log"):read("*a"):find("capped actions now fail closed", 1, true))
    -- counts are intact
    assert.are.equal(ok, h.keys(SMALL)["c:accounts"])
    -- an operator clears the mark: decisions resume
    assert.are.same({ cleared = { "imbill_small" } }, h.json(h.http.post("/t/clear", "")))
    local _, x = h.rest("im_open_login_svc/account_import", SMALL, { UserID = "t" })
    assert.are.equal("OK", x.ActionStatus)
    assert.are.equal(ok + 1, h.keys(SMALL)["c:accounts"])
  end)

  -- Many requests queued behind a stalled holder, served in a few holds of
  -- the lock, fill the dict: whichever write does not fit, what was answered
  -- OK is exactly what is counted, and what failed reached neither the count
  -- nor Tencent.
  it("counts exactly the requests answered OK when queued ones fill the dict", function()
    local done = h.hold(SMALL, 300)
    local before = h.stub_count("account_import")
    local reqs = {}
    for i = 1, 120 do
      reqs[i] = { "POST", h.http.rest_path("im_open_login_svc/account_import", SMALL),
                  cjson.encode { UserID = string.rep("q", 900) .. i } }
    end
    local answers = h.http.concurrent(reqs)
    done()
    local ok, failed = 0, 0
    for _, r in ipairs(answers) do
      local v = cjson.decode(r.body)
      if v.ActionStatus == "OK" then ok = ok + 1 else
        failed = failed + 1
        assert.are.equal(70500, v.ErrorCode)
      end
    end
    assert.is_true(failed > 0, "the dict never filled up")
    assert.are.equal(ok, h.keys(SMALL)["c:accounts"] or 0)
    assert.are.equal(ok, h.stub_count("account_import") - before)
    assert.are.equal(1, h.metric("imbill_store_damaged", { dict = "imbill_small" }))
  end)

  -- The key of the write that failed holds the id a client chose: a newline
  -- in it would start a forged line of the error log, an escape byte would
  -- recolour the terminal of whoever reads it.  It is logged as a JSON string.
  it("logs the key of the write that did not fit with the client's bytes escaped", function()
    local forged = "\n2026/12/02 00:00:00 [emerg] 1#1: forged \27[31m"
    local failed
    for i = 1, 100 do
      local _, v = h.rest("im_open_login_svc/account_import", SMALL, { UserID = "w" .. i .. forged .. string.rep("x", 900) })
      if v.ActionStatus ~= "OK" then
        failed = v
        break
      end
    end
    assert.truthy(failed, "the dict never filled up")
    assert.are.equal(70500, failed.ErrorCode)
    local f = assert(io.open(h.http.prefix .. "/logs/error.log"))
    local log = f:read("*a")
    f:close()
    local line = log:match("[^\n]*failed a write %(no memory, key \"imb:{" .. SMALL .. "}:ua:w%d+\\n2026/12/02[^\n]*")
    assert.truthy(line, "the line naming the key, its newline written \\n")
    assert.truthy(line:find("forged \\u001b[31m", 1, true), line)
    assert.falsy(log:find("\n2026/12/02 00:00:00 [emerg] 1#1: forged", 1, true))
    assert.falsy(log:find("\27", 1, true))
  end)

  it("counts a login it cannot store as a store error, and still answers Tencent OK", function()
    for i = 1, 200 do
      h.rest("im_open_login_svc/account_import", SMALL, { UserID = string.rep("y", 900) .. i })
    end
    local r = h.callback(SMALL, "State.StateChange", nil, { CallbackCommand = "State.StateChange",
      Info = { Action = "Login", To_Account = string.rep("z", 1000) } })
    assert.are.equal(200, r.status)
    assert.is_true(h.metric("imbill_not_counted_total", { app = SMALL, action = "login", reason = "store" }) >= 1)
  end)

  it("blames a full meta dict, not the counts, when an app's lock cannot be written", function()
    local TRIAL = "1400000002"
    local filled = h.json(h.http.get("/t/fillmeta"))
    assert.is_true(filled.filled > 0)
    local ok_, err = pcall(function()
      local _, v = h.rest("im_open_login_svc/account_import", TRIAL, { UserID = "meta-full" })
      -- the call is answered by the app's failure policy (closed) ...
      assert.are.equal("FAIL", v.ActionStatus)
      assert.are.equal(70500, v.ErrorCode)
      assert.truthy(v.ErrorInfo:find("no memory", 1, true), v.ErrorInfo)
      assert.is_nil(h.keys(TRIAL)["c:accounts"])
    end)
    h.json(h.http.get("/t/fillmeta?undo=1"))
    assert.is_true(ok_, tostring(err))
    -- ... the error log names the meta dict, not the counts' ...
    local f = assert(io.open(os.getenv("IMBILL_NGX_PREFIX") .. "/logs/error.log"))
    local log = f:read("*a")
    f:close()
    assert.truthy(log:find("lua_shared_dict imbill_meta (meta) has no room for a lock", 1, true))
    -- ... and the counts dict, which lost nothing, is not marked damaged:
    -- with room in meta again the next call is decided as usual
    assert.are.equal(0, h.metric("imbill_store_damaged", { dict = "imbill" }))
    local _, v = h.rest("im_open_login_svc/account_import", TRIAL, { UserID = "meta-full" })
    assert.are.equal("OK", v.ActionStatus)
    assert.are.equal(1, h.keys(TRIAL)["c:accounts"])
  end)
end)
