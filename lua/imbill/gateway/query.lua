--- The app a REST call names, read from its query as Tencent reads one:
-- names in any case, names and values percent-decoded.
--
-- nginx's $arg_sdkappid matches the name in any case but decodes nothing and
-- gives the first of several, so a caller could name one app to the gateway
-- and another to Tencent: counted against the wrong app, or passed as
-- unknown.  A query that names sdkappid more than once is refused whatever
-- the values (the gateway cannot know which one Tencent reads), and so is
-- one it cannot read whole.  No nginx needed: a string in, the app out.
local find, match, gmatch, lower, sub, gsub, char, byte = string.find, string.match, string.gmatch, string.lower,
  string.sub, string.gsub, string.char, string.byte
local tonumber = tonumber

local M = {}

--- Why a query is refused, as the refusal's ErrorInfo says it.
M.WHY = { twice = "names sdkappid more than once", unreadable = "has more arguments than the gateway reads",
          malformed = "names an sdkappid that is not a whole number written plainly" }

--- Arguments read from a query that needs decoding.
M.MAX = 256

local function unescape(s)
  s = gsub(s, "+", " ")
  return (gsub(s, "%%(%x%x)", function(h) return char(tonumber(h, 16)) end))
end

-- An SDKAppID is a number: a server that reads it as one takes "01400000001"
-- or "1400000001x" for 1400000001, which the gateway, matching the text,
-- would not count against that app.  Only the plain form is read.
local function plain(v)
  if v == nil or v == "" then return nil end
  if not find(v, "^[1-9]%d*$") then return nil, "malformed" end
  return v
end

-- A decoded name as a lenient server could take it: cut at a NUL (a server
-- that reads C strings takes "sdkappid\0x" for "sdkappid"), with the spaces
-- around it dropped (one that trims takes " sdkappid" and "sdkappid+" for it).
local function name_of(raw)
  local n = lower(unescape(raw))
  local z = find(n, "\0", 1, true)
  if z then n = sub(n, 1, z - 1) end
  return (match(n, "^%s*(.-)%s*$"))
end

-- The arguments of a query: parted by "&", and by ";" too, which servers
-- that follow HTML 4's advice (PHP's arg_separator.input, Go before 1.17,
-- Python before 3.9.2) take for one.  Read either way, "x=1;sdkappid=A&
-- sdkappid=B" names sdkappid twice, and "x=1;sdkappid=A" names app A (a
-- server parting by "&" alone finds no app in it and refuses the call).
local ARG = "[^&;]+"

-- The first "&sdkappid=" or "&sdkappid&" in l from init, or nil.
local EQ, AMP = 61, 38
local function named(l, init)
  local i = find(l, "&sdkappid", init, true)
  while i do
    local c = byte(l, i + 9)
    if c == EQ or c == AMP then return i end
    i = find(l, "&sdkappid", i + 1, true)
  end
  return nil
end

--- The app the query `raw` (without its "?") names.
-- Returns the SDKAppID (nil when none is named, or the value is empty), or
-- nil and a key of M.WHY.
function M.app(raw)
  if not raw or raw == "" then return nil end
  if not (find(raw, "%", 1, true) or find(raw, "+", 1, true) or find(raw, ";", 1, true)) then
    -- the usual query: one plain sdkappid=DIGITS among other arguments
    -- (plain finds, which LuaJIT compiles, where patterns are not)
    local l = "&" .. lower(raw) .. "&"
    local i = named(l, 1)
    if not i then return nil end
    if named(l, i + 9) then return nil, "twice" end
    if byte(l, i + 9) ~= EQ then return nil end
    local e = find(l, "&", i + 10, true)
    return plain(sub(raw, i + 9, e - 2))
  end
  local found, n = nil, 0
  for pair in gmatch(raw, ARG) do
    n = n + 1
    if n > M.MAX then return nil, "unreadable" end
    local name, v = match(pair, "^([^=]*)=?(.*)$")
    if name_of(name) == "sdkappid" then
      if found then return nil, "twice" end
      found = unescape(v)
    end
  end
  return plain(found)
end

--- How many arguments of the query `raw` a lenient server reads as `name`
-- (lowercase): names in any case, percent-decoded, as for sdkappid.  nil
-- and "unreadable" past M.MAX arguments.
function M.count(raw, name)
  local n, k = 0, 0
  for pair in gmatch(raw or "", ARG) do
    k = k + 1
    if k > M.MAX then return nil, "unreadable" end
    if name_of(match(pair, "^[^=]*")) == name then n = n + 1 end
  end
  return n
end

return M
