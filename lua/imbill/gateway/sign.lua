--- Tencent's callback signature: Sign = lowercase hex sha256(token ..
-- RequestTime), checked in time that does not depend on where the two
-- signatures differ.  SHA-256 is lua-nginx-string's (OpenSSL's, which nginx
-- has loaded).
local sha256 = require "nginx.sha256"
local nstring = require "nginx.string"

local bit = require "bit"
local byte = string.byte
local bor, bxor = bit.bor, bit.bxor

local M = {}

local hasher

--- Lowercase hex SHA-256 of s.
function M.sha256_hex(s)
  if not hasher then hasher = sha256:new() end
  hasher:reset()
  hasher:update(s)
  return nstring.to_hex(hasher:final())
end

--- true when a and b are equal; the time taken depends only on their
-- lengths.
function M.equal(a, b)
  if #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do diff = bor(diff, bxor(byte(a, i), byte(b, i))) end
  return diff == 0
end

local last = {} -- token -> { the latest RequestTime, its digest }

--- Checks a callback's Sign and RequestTime against the app's token.
-- Returns true, or nil and a reason: "no_sign", "stale", "bad_sign".
function M.check(token, sign, request_time, now, window)
  if type(sign) ~= "string" or type(request_time) ~= "string" then return nil, "no_sign" end
  local rt = request_time:match("^%d+$") and tonumber(request_time)
  if not rt or #request_time > 12 then return nil, "no_sign" end
  -- older than the window, or from further ahead than a clock can drift
  if now - rt > window or rt - now > window then return nil, "stale" end
  if #sign ~= 64 then return nil, "bad_sign" end
  -- a second's callbacks share their RequestTime: the digest is made once
  local memo = last[token]
  local want
  if memo and memo[1] == request_time then
    want = memo[2]
  else
    want = M.sha256_hex(token .. request_time)
    last[token] = { request_time, want }
  end
  if not M.equal(want, sign:lower()) then return nil, "bad_sign" end
  return true
end

return M
