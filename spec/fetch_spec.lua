-- imbill.gateway.fetch reads a gateway's usage location over HTTP: what
-- comes back is another machine's data, so its size is bounded, its JSON
-- checked like every other input, redirects are not followed, and it must be
-- about the app and the month asked for.  The server here is a real one on
-- loopback (a LuaJIT process answering each connection with the next canned
-- answer), started by the spec and gone when its answers are used up.
local fetch = require "imbill.gateway.fetch"
local H = require "helper"

local APP, MONTH = "1400000001", "2026-12"

-- The server's answers, by name: the status line and headers, then the body.
local SERVER = [==[
local socket = require "socket"
local s = assert(socket.bind("127.0.0.1", 0))
s:settimeout(20)
io.stdout:write(select(2, s:getsockname()), "\n")
io.stdout:flush()
local function doc(app, month, extra)
  return '{"app":"' .. app .. '","usage":{"month":"' .. month .. '","book":"2021","edition":"pro","dau":[1],'
    .. '"groups":[0],"mau":1}' .. (extra or "") .. ',"invoice":{"kind":"invoice"}}'
end
local BODY = {
  ok = function() return "200 OK", doc("1400000001", "2026-12") end,
  huge = function() return "200 OK", string.rep("x", 5 * 1024 * 1024) end,
  deep = function() return "200 OK", string.rep("[", 100) .. string.rep("]", 100) end,
  other_app = function() return "200 OK", doc("1400000002", "2026-12") end,
  other_month = function() return "200 OK", doc("1400000001", "2026-11") end,
  twice = function() return "200 OK", doc("1400000001", "2026-12", ',"app":"1400000001"') end,
  not_doc = function() return "200 OK", "[1,2]" end,
  error = function() return "404 Not Found", '{"error":"imbill.gateway.usage: no such app"}' end,
  redirect = function() return "302 Found", "" end,
  number_app = function()
    return "200 OK", '{"app":1400000001,"usage":{"month":"2026-12"},"invoice":{"kind":"invoice"}}'
  end,
  no_app = function() return "200 OK", '{"usage":{"month":"2026-12"},"invoice":{"kind":"invoice"}}' end,
  number_month = function()
    return "200 OK", '{"app":"1400000001","usage":{"month":202612},"invoice":{"kind":"invoice"}}'
  end,
}
for i = 1, #arg do
  local c = s:accept()
  if not c then break end
  c:settimeout(5)
  repeat local line = c:receive("*l") until not line or line == ""
  if arg[i] == "silent" then
    socket.sleep(2)
  elseif arg[i] == "trickle" then
    -- headers at once, then a byte of the body every 0.1 s: no wait is long
    local body = string.rep(" ", 60) .. '{}'
    pcall(c.send, c, "HTTP/1.1 200 OK\r\nContent-Length: " .. #body .. "\r\n\r\n")
    for j = 1, #body do
      if not c:send(body:sub(j, j)) then break end
      socket.sleep(0.1)
    end
  else
    local status, body = BODY[arg[i]]()
    local head = "HTTP/1.1 " .. status .. "\r\nContent-Type: application/json\r\nContent-Length: " .. #body
      .. "\r\nConnection: close\r\n" .. (arg[i] == "redirect" and "Location: http://127.0.0.1:1/\r\n" or "") .. "\r\n"
    pcall(c.send, c, head .. body)
  end
  c:close()
end
]==]

-- Starts the server for these answers in turn; returns its URL and a
-- function that waits for it to end.
local function serve(...)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(SERVER)
  f:close()
  local p = assert(io.popen("luajit " .. path .. " " .. table.concat({ ... }, " ")))
  local port = p:read("*l")
  assert.truthy(port and port:match("^%d+$"), "the server did not start")
  return "http://127.0.0.1:" .. port .. "/imbill/usage", function()
    p:close()
    os.remove(path)
  end
end

describe("imbill.gateway.fetch", function()
  it("returns the usage a usage location answers for the app and month asked", function()
    local url, done = serve("ok")
    local u, inv = fetch.usage(url, APP, MONTH)
    done()
    assert.equal(MONTH, u.month)
    assert.same({ 1 }, u.dau)
    assert.equal("invoice", inv.kind)
  end)

  it("refuses answers it cannot trust, naming why", function()
    local url, done = serve("huge", "deep", "other_app", "other_month", "twice", "not_doc", "error", "redirect")
    local function err() return H.err(fetch.usage, url, APP, MONTH) end
    assert.matches("^imbill.gateway.fetch: url: the answer is over 4194304 bytes, which no month's usage is", err())
    assert.matches("url: the answer is not JSON: nested deeper than 32 levels", err())
    assert.matches('url: the answer is about app "1400000002", not 1400000001', err())
    assert.matches('url: the answer is about month "2026%-11", not 2026%-12', err())
    assert.matches('url: the answer is not JSON: an object names "app" twice', err())
    assert.matches("url: the answer is not a usage location's { app, usage, invoice }", err())
    assert.matches('url: HTTP 404: "imbill.gateway.usage: no such app"', err())
    -- a redirect is not followed: the answer must come from the location named
    assert.matches("url: HTTP 302", err())
    done()
  end)

  it("says an app or month that is not text is not text, where it read 'about app 1400000001, not 1400000001'",
    function()
      local url, done = serve("number_app", "no_app", "number_month")
      local function err() return H.err(fetch.usage, url, APP, MONTH) end
      assert.equal('imbill.gateway.fetch: url: the answer\'s app is a JSON number 1400000001, not the text'
        .. ' "1400000001", got "' .. url .. '"', err())
      assert.matches('url: the answer\'s app is missing, not the text "1400000001"', err())
      assert.matches('url: the answer\'s usage.month is a JSON number 202612, not the text "2026%-12"', err())
      done()
    end)

  it("gives up on a server that does not answer in time", function()
    local url, done = serve("silent")
    assert.matches("url: no answer %(timeout%)", H.err(fetch.usage, url, APP, MONTH, { timeout = 0.3 }))
    done()
  end)

  it("gives up on a server that trickles its answer, each wait short, past the request's deadline", function()
    local url, done = serve("trickle")
    local t0 = require("socket").gettime()
    -- (each wait may take 3 s, far more than the server's pauses)
    local e = H.err(fetch.usage, url, APP, MONTH, { timeout = 3, deadline = 0.8 })
    local took = require("socket").gettime() - t0
    done()
    assert.matches("url: no whole answer within 0.8 s %(opts.deadline; the server sent %d+ bytes of it%)", e)
    assert.is_true(took < 3, "took " .. took .. " s")
    assert.matches("opts.deadline: expected a number of seconds above 0",
      H.err(fetch.usage, url, APP, MONTH, { deadline = 0 }))
  end)

  it("refuses what would change the request: an app that is not digits, a URL that is not plain HTTP", function()
    assert.equal('imbill.gateway.fetch: app: expected an SDKAppID (digits), got "1400000001&month=2020-01"',
      H.err(fetch.usage, "http://127.0.0.1:1/u", "1400000001&month=2020-01", MONTH))
    assert.matches('^imbill.gateway.fetch: url: expected http://host:port/path', H.err(fetch.usage, "file:///etc/passwd",
      APP, MONTH))
    assert.matches("month: ", H.err(fetch.usage, "http://127.0.0.1:1/u", APP, "2026-13"))
    assert.matches("url: has a space or a control character", H.err(fetch.usage,
      "http://127.0.0.1:1/u\r\nX-Evil: 1", APP, MONTH))
    assert.matches("url: expected a string", H.err(fetch.usage, nil, APP, MONTH))
  end)

  -- opts = { timeout = seconds, max_bytes = } bounds the read; a bound that is
  -- not one is refused naming it, before any connection is made (port 1: none
  -- would be answered), never a bare Lua error nor a field silently unread
  it("refuses options that are not bounds, naming them", function()
    local u = "http://127.0.0.1:1/u"
    assert.equal("imbill.gateway.fetch: opts: expected a table of named fields, got 5", H.err(fetch.usage, u, APP, MONTH, 5))
    assert.matches("^imbill.gateway.fetch: opts.max_byte: unknown field %(known: deadline, max_bytes, timeout%)",
      H.err(fetch.usage, u, APP, MONTH, { max_byte = 10 }))
    assert.equal('imbill.gateway.fetch: opts.max_bytes: expected a whole number of bytes, at least 1, got "x"',
      H.err(fetch.usage, u, APP, MONTH, { max_bytes = "x" }))
    assert.equal("imbill.gateway.fetch: opts.max_bytes: expected a whole number of bytes, at least 1, got 0",
      H.err(fetch.usage, u, APP, MONTH, { max_bytes = 0 }))
    assert.equal("imbill.gateway.fetch: opts.timeout: expected a number of seconds above 0, got -1",
      H.err(fetch.usage, u, APP, MONTH, { timeout = -1 }))
    assert.equal("imbill.gateway.fetch: opts.timeout: expected a number of seconds above 0, got nan",
      H.err(fetch.usage, u, APP, MONTH, { timeout = 0 / 0 }))
    -- a bound given in range reaches the connection (refused here: nothing listens on port 1)
    assert.matches("^imbill.gateway.fetch: url: no answer", H.err(fetch.usage, u, APP, MONTH, { timeout = 1, max_bytes = 100 }))
  end)
end)
