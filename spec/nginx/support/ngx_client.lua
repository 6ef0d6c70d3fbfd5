--- HTTP/1.1 over LuaSocket for the nginx specs: one request per connection,
-- or many at once (every connection opened and every request sent before
-- any answer is read, so the server has them all in flight together).
local socket = require "socket"
local ffi = require "ffi"

local M = {}
M.port = tonumber(os.getenv("IMBILL_NGX_PORT"))
M.stub = tonumber(os.getenv("IMBILL_NGX_STUB"))
M.prefix = os.getenv("IMBILL_NGX_PREFIX")

--- The current second on the clock nginx reads (gettimeofday).  Not
-- os.time(): glibc's time() reads the coarse clock, which shows the
-- previous second for about 4 ms after each new one begins, so a spec that
-- orders its events by os.time() can put in two seconds what the gateway
-- counted in one.
function M.seconds() return math.floor(socket.gettime()) end

local function request_text(method, path, body, headers)
  local lines = { method .. " " .. path .. " HTTP/1.1", "Host: 127.0.0.1", "Connection: close" }
  for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  if body then lines[#lines + 1] = "Content-Length: " .. #body end
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")
end

local function parse(raw)
  local head, rest = raw:match("^(.-)\r\n\r\n(.*)$")
  if not head then return nil, "no HTTP answer: " .. raw:sub(1, 200) end
  local status = tonumber(head:match("^HTTP/1%.%d (%d+)"))
  local headers = {}
  for k, v in head:gmatch("\r\n([^:\r\n]+):%s*([^\r\n]*)") do headers[k:lower()] = v end
  local body = rest
  if (headers["transfer-encoding"] or ""):lower() == "chunked" then
    local out, i = {}, 1
    while true do
      local size_hex, after = rest:match("^(%x+)[^\r\n]*\r\n()", i)
      if not size_hex then break end
      local size = tonumber(size_hex, 16)
      if size == 0 then break end
      out[#out + 1] = rest:sub(after, after + size - 1)
      i = after + size + 2
    end
    body = table.concat(out)
  end
  return { status = status, headers = headers, body = body }
end

local function open(port)
  local s = assert(socket.tcp())
  s:settimeout(10)
  assert(s:connect("127.0.0.1", port or M.port))
  return s
end

local function read_all(s)
  local data, err, partial = s:receive("*a")
  s:close()
  return data or partial, err
end

--- One request: method, path, body (string or nil), headers.  Returns
-- { status, headers, body }.
function M.request(method, path, body, headers, port)
  local s = open(port)
  assert(s:send(request_text(method, path, body, headers)))
  local raw = read_all(s)
  return assert(parse(raw))
end

--- Sends one request and returns at once: a function that waits for the
-- answer and returns it as M.request does.
function M.started(method, path, body, headers, port)
  local s = open(port)
  assert(s:send(request_text(method, path, body, headers)))
  return function() return assert(parse(read_all(s))) end
end

function M.get(path, port) return M.request("GET", path, nil, nil, port) end
function M.post(path, body, headers, port) return M.request("POST", path, body, headers, port) end

--- Many requests at once: reqs = { { method, path, body, headers, port =
-- (default: port) }, ... }.  Each answer carries .took, the seconds from
-- its request's send to its whole answer.
function M.concurrent(reqs, port)
  local socks = {}
  for i, r in ipairs(reqs) do socks[i] = open(r.port or port) end
  local t0 = {}
  for i, r in ipairs(reqs) do
    t0[i] = socket.gettime()
    assert(socks[i]:send(request_text(r[1], r[2], r[3], r[4])))
  end
  local out = {}
  for i, s in ipairs(socks) do
    out[i] = assert(parse(read_all(s)))
    out[i].took = socket.gettime() - t0[i]
  end
  return out
end

--- The value of one counter in a status page's text (nil: absent).
function M.metric_in(body, name, labels)
  local want = name
  if labels then
    local ks = {}
    for k in pairs(labels) do ks[#ks + 1] = k end
    table.sort(ks)
    local parts = {}
    for i, k in ipairs(ks) do parts[i] = k .. '="' .. labels[k] .. '"' end
    want = name .. "{" .. table.concat(parts, ",") .. "}"
  end
  for line in body:gmatch("[^\n]+") do
    local k, v = line:match("^([^#].*) (%S+)$")
    if k == want then return tonumber(v) end
  end
  return nil
end

-- SHA-256 from libcrypto, independently of the gateway's lua-nginx-string.
ffi.cdef "unsigned char *SHA256(const unsigned char *d, size_t n, unsigned char *md);"
local crypto = ffi.load("crypto")
function M.sha256_hex(s)
  local md = ffi.new("unsigned char[32]")
  crypto.SHA256(s, #s, md)
  local hex = {}
  for i = 0, 31 do hex[#hex + 1] = string.format("%02x", md[i]) end
  return table.concat(hex)
end

local function urlencode(s)
  return (tostring(s):gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", c:byte()) end))
end
M.urlencode = urlencode

--- The query of a callback: signed with token at request_time (default
-- now) unless token is nil.
function M.callback_path(app, command, token, opts)
  opts = opts or {}
  local rt = opts.request_time or os.time()
  local q = { "SdkAppid=" .. app, "CallbackCommand=" .. urlencode(command), "contenttype=json",
              "ClientIP=127.0.0.1", "OptPlatform=" .. (opts.platform or "iOS") }
  if token then
    q[#q + 1] = "Sign=" .. (opts.sign or M.sha256_hex(token .. rt))
    q[#q + 1] = "RequestTime=" .. rt
  end
  return "/imbill/callback?" .. table.concat(q, "&")
end

function M.rest_path(svc_cmd, app, extra)
  return "/v4/" .. svc_cmd .. "?sdkappid=" .. app .. "&identifier=admin&usersig=sig&random=" ..
    math.random(1, 4294967295) .. "&contenttype=json" .. (extra or "")
end

--- What a usage answer (JSON text) shows that no one snapshot of the month
-- can: a day before `today` with groups (the specs create them today only),
-- or a negative count today.  A list of them, empty when there is none.
function M.torn_usage(body, today)
  local u = require("cjson").decode(body).usage
  local torn = {}
  for d = 1, today - 1 do
    if u.groups[d] ~= 0 then torn[#torn + 1] = string.format("day %d: %s", d, tostring(u.groups[d])) end
  end
  if u.groups[today] < 0 then torn[#torn + 1] = string.format("today: %s", tostring(u.groups[today])) end
  return torn
end

--- Polls the usage location of app `ex` (at +08:00) while its groups are
-- created: six waves of `per_wave` requests at once, every 4th a poll, sent
-- by send(reqs).  node(i, poll), when given, is the node request i goes to
-- (a request is then { node, method, path, body }).  Returns how many polls
-- there were and what they showed that no one snapshot of the month can
-- (or, for a poll not answered 200, its status and body).
function M.usage_while_creating(send, ex, per_wave, node)
  local cjson = require "cjson"
  local now = os.time() + 8 * 3600
  local month, today = os.date("!%Y-%m", now), tonumber(os.date("!%d", now))
  local path = "/imbill/usage?sdkappid=" .. ex .. "&month=" .. month
  local seen, polls = {}, 0
  for wave = 1, 6 do
    local reqs = {}
    for i = 1, per_wave do
      local poll = i % 4 == 0
      local r = poll and { "GET", path } or { "POST", M.rest_path("group_open_http_svc/create_group", ex),
        cjson.encode { Type = "Public", GroupId = "snap" .. wave .. "-" .. i, Owner_Account = "o" .. i } }
      if node then table.insert(r, 1, node(i, poll)) end
      reqs[i] = r
    end
    for i, r in ipairs(send(reqs)) do
      if i % 4 == 0 then
        polls = polls + 1
        if r.status ~= 200 then
          seen[#seen + 1] = "HTTP " .. tostring(r.status) .. ": " .. tostring(r.body)
        else
          for _, torn in ipairs(M.torn_usage(r.body, today)) do seen[#seen + 1] = torn end
        end
      end
    end
  end
  return polls, seen
end

return M
