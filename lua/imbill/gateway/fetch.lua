--- An app's month as a gateway's usage location reports it, read over HTTP
-- (LuaSocket) from outside nginx: the table imbill.invoice takes.  Plain Lua
-- (no FFI), so the `imbill` command reads a gateway on Lua 5.4 as on LuaJIT.
--
-- The answer is data from another machine: its size is bounded before it is
-- held, it is read with the same JSON checks as every other input (nesting,
-- a field named twice), and it must be an answer about the app and month
-- asked for.
local check = require "imbill.internal.check"
local dates = require "imbill.internal.dates"
local errors = require "imbill.internal.errors"
local json = require "imbill.internal.json"

local M = {}
local FN = "imbill.gateway.fetch"

--- Bytes an answer may have: a month's usage is a few kilobytes.
M.MAX_BYTES = 4 * 1024 * 1024
--- Seconds a connection, a write or a read may take.
M.TIMEOUT = 10
--- Seconds the whole request may take.
M.DEADLINE = 60

-- LuaSocket bounds each wait, not a whole answer: a server that sends a
-- byte every few seconds would keep the command reading for days (4 MiB at
-- a byte a wait).  The socket handed to socket.http bounds every call by
-- what is left of one deadline for the request, on top of the per-wait
-- bound socket.http sets.  state.expired says the deadline ended it.
local function bounded_socket(socket, deadline, state)
  local s, err = socket.tcp()
  if not s then return nil, err end
  local function arm()
    local left = deadline - socket.gettime()
    if left <= 0 then
      state.expired = true
      return false
    end
    s:settimeout(left, "t")
    return true
  end
  local w = {}
  function w.settimeout(_, t, mode) return s:settimeout(t, mode) end
  function w.connect(_, host, port)
    if not arm() then return nil, "timeout" end
    return s:connect(host, port)
  end
  function w.send(_, ...)
    if not arm() then return nil, "timeout" end
    return s:send(...)
  end
  function w.receive(_, ...)
    if not arm() then return nil, "timeout" end
    local data, rerr, partial = s:receive(...)
    -- (the wait was bounded by what was left: ended at the deadline, give or
    -- take the clock's step)
    if not data and rerr == "timeout" and deadline - socket.gettime() < 0.05 then state.expired = true end
    return data, rerr, partial
  end
  function w.close() return s:close() end
  function w.getfd() return s:getfd() end
  function w.dirty() return s:dirty() end
  return w
end

local function fail(field, msg, v) check.fail(FN, field, msg, v) end

--- The usage of app (an SDKAppID) in month ("YYYY-MM") from the usage
-- location at url ("http://127.0.0.1:18480/imbill/usage").  opts: {
-- timeout = seconds a wait may take, deadline = seconds the whole request
-- may take, max_bytes = }.  Returns the usage table and the invoice data the
-- gateway computed from it.
function M.usage(url, app, month, opts)
  check.string(FN, "url", url)
  -- nothing in the URL may end the request line or add a header to it
  if url:find("[%c ]") then fail("url", "has a space or a control character", url) end
  if not url:match("^http://[^/?#]+") then
    fail("url", "expected http://host:port/path (LuaSocket speaks plain HTTP: keep the usage location on your own"
      .. " network)", url)
  end
  check.string(FN, "app", app)
  -- an SDKAppID is a plain whole number; anything else would change the query
  if not app:match("^[1-9]%d*$") or #app > 20 then fail("app", "expected an SDKAppID (digits)", app) end
  month = dates.format_month(check.call(FN, dates.month, month, "month"))
  -- the bounds are the caller's to lower or raise, never to lose: a wrong
  -- one is an error before anything is sent (a string max_bytes used to stop
  -- the read with a bare Lua error, and a misspelt field went unread)
  opts = check.fields(FN, opts == nil and {} or opts, { timeout = true, deadline = true, max_bytes = true }, "opts")
  local max = opts.max_bytes or M.MAX_BYTES
  local timeout = opts.timeout or M.TIMEOUT
  local within = opts.deadline or M.DEADLINE
  if type(max) ~= "number" or max ~= math.floor(max) or max < 1 or max > 2 ^ 53 then
    fail("opts.max_bytes", "expected a whole number of bytes, at least 1", max)
  end
  for field, v in pairs { timeout = timeout, deadline = within } do
    if type(v) ~= "number" or v ~= v or v <= 0 or v == math.huge then
      fail("opts." .. field, "expected a number of seconds above 0", v)
    end
  end
  local socket = require "socket"
  local http = require "socket.http"
  local state = { expired = false }
  local deadline = socket.gettime() + within
  local dkjson = assert(json.module(FN, "answer"))
  local parts, size, too_big = {}, 0, false
  local function sink(chunk)
    if chunk == nil then return 1 end
    size = size + #chunk
    if size > max then
      too_big = true
      return nil, "the answer is over " .. max .. " bytes"
    end
    parts[#parts + 1] = chunk
    return 1
  end
  local full = url .. (url:find("?", 1, true) and "&" or "?") .. "sdkappid=" .. app .. "&month=" .. month
  -- LuaSocket sets http.TIMEOUT on the socket it connects, whatever the
  -- socket was made with: the bound is set there for this request only
  local saved = http.TIMEOUT
  http.TIMEOUT = timeout
  local done, ok, code = pcall(http.request, { url = full, sink = sink, redirect = false,
                                                create = function() return bounded_socket(socket, deadline, state) end })
  http.TIMEOUT = saved
  if not done then error(ok, 0) end
  if too_big then fail("url", "the answer is over " .. max .. " bytes, which no month's usage is", url) end
  if state.expired then
    fail("url", "no whole answer within " .. within .. " s (opts.deadline; the server sent " .. size
      .. " bytes of it)", url)
  end
  if not ok then fail("url", "no answer (" .. tostring(code) .. ")", url) end
  local text = table.concat(parts)
  local doc, kind = json.decode(dkjson, text)
  if code ~= 200 then
    -- the usage location says what is wrong in its "error" field
    local said = kind == "object" and type(doc.error) == "string" and doc.error or text
    fail("url", "HTTP " .. tostring(code) .. ": " .. errors.show(said), url)
  end
  if doc == nil and kind ~= "null" then fail("url", "the answer is not JSON: " .. kind, url) end
  if kind ~= "object" or type(doc.usage) ~= "table" or type(doc.invoice) ~= "table" then
    fail("url", "the answer is not a usage location's { app, usage, invoice }", url)
  end
  -- an app written as a JSON number read "about app 1400000001, not 1400000001"
  if type(doc.app) ~= "string" then
    fail("url", "the answer's app is " .. (doc.app == nil and "missing" or "a JSON " .. type(doc.app) .. " "
      .. errors.show(doc.app)) .. ", not the text \"" .. app .. "\"", url)
  end
  if type(doc.usage.month) ~= "string" then
    fail("url", "the answer's usage.month is " .. (doc.usage.month == nil and "missing" or "a JSON "
      .. type(doc.usage.month) .. " " .. errors.show(doc.usage.month)) .. ", not the text \"" .. month .. "\"", url)
  end
  if doc.app ~= app then fail("url", "the answer is about app " .. errors.show(doc.app) .. ", not " .. app, url) end
  if doc.usage.month ~= month then
    fail("url", "the answer is about month " .. errors.show(doc.usage.month) .. ", not " .. month, url)
  end
  return doc.usage, doc.invoice
end

return M
