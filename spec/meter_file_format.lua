-- For the meter-file specs: reads a saved meter (format version 3 or 4) into its
-- fields, each with its offset and width, so a spec can change one named
-- field and recompute the checksum, as someone altering a file would.  Works
-- on Lua 5.4 (64-bit integers) and LuaJIT (uint64_t cdata for the checksum).
-- Written from the format as docs/meter.md describes it, not from the C code.
local F = {}

local is_jit = rawget(_G, "jit") ~= nil

local function le(s, at, n)
  local v = 0
  for i = n, 1, -1 do v = v * 256 + s:byte(at + i - 1) end
  return v
end

--- n bytes little-endian of a non-negative v (below 2^53), or of a negative
-- v in two's complement.
function F.le(v, n)
  local t = {}
  local neg = v < 0
  if neg then v = -v - 1 end -- then every byte complemented
  for i = 1, n do
    local b = v % 256
    t[i] = string.char(neg and 255 - b or b)
    v = (v - b) / 256
  end
  return table.concat(t)
end
F.INT64_MAX = "\255\255\255\255\255\255\255\127"
F.INT64_MIN = "\0\0\0\0\0\0\0\128"

-- FNV-1a 64, as 8 bytes little-endian.  Both forms are compiled at run time:
-- neither runtime can parse the other's 64-bit notation.
local fnv
if is_jit then
  -- two 32-bit halves in doubles (every product stays below 2^53): cdata
  -- uint64_t arithmetic boxes each step and is 50 times slower
  fnv = load([[
    local s = ...
    local bit = require "bit"
    local lo, hi = 0x84222325, 0xcbf29ce4
    for i = 1, #s do
      lo = bit.bxor(lo, s:byte(i)) % 0x100000000
      local a = lo * 0x1b3
      local nlo = a % 0x100000000
      hi = (hi * 0x1b3 + (a - nlo) / 0x100000000 + lo * 256) % 0x100000000
      lo = nlo
    end
    local t = {}
    for i = 1, 4 do t[i] = string.char(math.floor(lo / 256 ^ (i - 1)) % 256) end
    for i = 1, 4 do t[4 + i] = string.char(math.floor(hi / 256 ^ (i - 1)) % 256) end
    return table.concat(t)
  ]])
else
  fnv = load([[
    local s = ...
    local h = -3750763034362895579 -- 0xcbf29ce484222325
    for i = 1, #s do h = (h ~ s:byte(i)) * 1099511628211 end
    return string.pack("<i8", h)
  ]])
end

--- The file with its body's length and checksum written for its body.
function F.reseal(file)
  local b = file:sub(33)
  return file:sub(1, 16) .. F.le(#b, 8) .. fnv(b) .. b
end

--- The fields of a version 3 or 4 file: list of { name, at, width, value } (at:
-- 1-based offset in the file) and a map name -> field.
function F.fields(file)
  local list, by = {}, {}
  local at = 33
  local function field(name, width, signed)
    local v = le(file, at, width)
    if signed and v >= 2 ^ (8 * width - 1) then v = v - 2 ^ (8 * width) end
    local f = { name = name, at = at, width = width, value = v }
    list[#list + 1] = f
    by[name] = f
    at = at + width
    return v
  end
  local function str(name)
    local n = field(name .. ".length", 4)
    local f = { name = name, at = at, width = n, value = file:sub(at, at + n - 1) }
    list[#list + 1] = f
    by[name] = f
    at = at + n
    return f.value
  end
  local nrec = field("records.count", 4)
  for i = 1, nrec do
    local p = "records[" .. i .. "]"
    local ty = field(p .. ".type", 1)
    str(p .. ".key")
    if ty == 1 then str(p .. ".value") elseif ty == 2 then field(p .. ".value", 8, true) else field(p .. ".value", 1) end
  end
  field("offset", 4, true)
  field("activated", 4, true)
  field("last_day", 4, true)
  field("released_before", 4, true)
  local LIMITS = { "accounts", "friends_per_user", "groups_per_user", "av_groups", "non_av_groups",
                   "daily_net_groups", "bchatroom_daily", "bchatroom_total" }
  for i = 1, field("editions.count", 4) do
    local p = "editions[" .. i .. "]"
    field(p .. ".from", 8, true)
    field(p .. ".free", 1)
    str(p .. ".edition")
    for _, l in ipairs(LIMITS) do field(p .. ".limits." .. l, 8, true) end
    for g = 1, 6 do field(p .. ".limits.members[" .. g .. "]", 8, true) end
    field(p .. ".limits.features", 4)
    field(p .. ".limits.same_day_disbands", 1)
  end
  for i = 1, field("users.count", 4) do
    local p = "users[" .. i .. "]"
    str(p .. ".id")
    field(p .. ".last", 4, true)
    field(p .. ".days", 8)
    field(p .. ".months", 1)
    field(p .. ".account", 1)
  end
  for i = 1, field("friends.count", 8) do
    field("friends[" .. i .. "].user", 4)
    field("friends[" .. i .. "].peer", 4)
  end
  if le(file, 9, 4) >= 4 then
    for i = 1, field("one_way_friends.count", 8) do
      field("one_way_friends[" .. i .. "].user", 4)
      field("one_way_friends[" .. i .. "].friend", 4)
    end
  end
  for i = 1, field("groups.count", 4) do
    local p = "groups[" .. i .. "]"
    str(p .. ".id")
    field(p .. ".type", 1)
    field(p .. ".alive", 1)
    field(p .. ".created", 4, true)
    for k = 1, field(p .. ".members.count", 4) do field(p .. ".members[" .. k .. "]", 4) end
  end
  for i = 1, field("days.count", 4) do
    local p = "days[" .. i .. "]"
    field(p .. ".day", 4, true)
    field(p .. ".has_groups", 1)
    for _, c in ipairs({ "dau", "created", "disbanded", "disbanded_same", "bchat", "g_open", "g_peak", "g_close" }) do
      field(p .. "." .. c, 8, true)
    end
  end
  for i = 1, field("months.count", 4) do
    field("months[" .. i .. "].month", 4, true)
    field("months[" .. i .. "].mau", 8, true)
  end
  for i = 1, field("event_ids.count", 4) do
    str("event_ids[" .. i .. "].id")
    field("event_ids[" .. i .. "].day", 4, true)
  end
  for i = 1, field("group_times.count", 4) do field("group_times[" .. i .. "].created_t", 8, true) end
  for i = 1, field("day_logs.count", 4) do
    local p = "day_logs[" .. i .. "]"
    field(p .. ".day", 4, true)
    for k = 1, field(p .. ".log.count", 4) do
      field(p .. ".log[" .. k .. "].t", 8, true)
      field(p .. ".log[" .. k .. "].kind", 1)
    end
  end
  assert(at == #file + 1, "the spec's reader of the format does not match the file")
  return list, by
end

--- The file with one field's bytes replaced (value: bytes of the field's
-- width, or a number), resealed.
function F.set(file, by, name, value)
  local f = assert(by[name], "no field " .. name)
  if type(value) == "number" then value = F.le(value, f.width) end
  assert(#value == f.width, name .. ": wrong width")
  return F.reseal(file:sub(1, f.at - 1) .. value .. file:sub(f.at + f.width))
end

--- The file with bytes inserted after a field (or replacing a string field's
-- content), resealed: for lengths that lie.
function F.splice(file, at, remove, insert)
  return F.reseal(file:sub(1, at - 1) .. insert .. file:sub(at + remove))
end

--- A fresh path for a spec's file, on a memory file system when there is one
-- (saves sync the file and its directory; on a busy disk that is slow).
function F.tmp(suffix)
  local name = os.tmpname()
  os.remove(name)
  local base = name:match("[^/]+$")
  local probe = io.open("/dev/shm/" .. base .. ".probe", "wb")
  if probe then
    probe:close()
    os.remove("/dev/shm/" .. base .. ".probe")
    return "/dev/shm/" .. base .. (suffix or "")
  end
  return name .. (suffix or "")
end

function F.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

function F.write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

return F
