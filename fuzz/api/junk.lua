--- Junk values, as Lua source text.  Every value the fuzzer passes is written
-- as an expression and built by loading that text, so the snippet logged for
-- a failing call is exactly what was called.
--
-- Expressions may name the fixtures (imbill, m, b, ed, inv, ...: see
-- fixtures.lua) and the helpers H.* defined in the preamble.
local M = {}

-- Quoted as ASCII only (every other byte as \ddd), so a snippet survives any
-- log, JSON or terminal unchanged, on both runtimes.
local function q(s)
  return '"' .. s:gsub('[%c"\\\128-\255]', function(c) return string.format("\\%03d", c:byte()) end) .. '"'
end
M.q = q

-- Numbers: the edges of integers and doubles on both runtimes.
local NUMBERS = {
  "0", "1", "-1", "2", "7", "31", "100", "0.5", "-0.5", "1.5", "149.99", "0.015", "-0.0", "0.1234567", "1e-300",
  "5e-324", "1e15", "1e19", "1e308", "-1e308", "0/0", "-(0/0)", "1/0", "-1/0", "2^31", "2^31-1", "-2^31", "2^32",
  "2^53", "2^53-1", "9007199254740993", "-9007199254740993", "9007199254740991", "2^63", "-2^63",
  "math.maxinteger or 2^63", "math.mininteger or -2^63", "9223372036854775807", "2^64", "1614556800",
  "1614556800.5", "-1614556800", "253402300800", "253402300799", "-62135596800", "86400", "-86400", "28800",
  "2147483647", "4294967295", "1e6", "1000000", "10001", "2^40", "0.1", "3.0", "1e9", "2^62",
}

-- Strings: near misses, formats of every field, hostile bytes.  No absolute
-- path that exists: m:save(path) writes beside whatever path it is given, so
-- every path a call can name is relative (to the scratch directory the
-- fuzzer runs in) or under FUZZ_TMP.
local STRINGS = {
  "", "x", " ", "0", "-1", "1e5", " 1", "1,000", "149.99", "0.015", "-149.99", "9223372036854.775807",
  "9223372036854.775808", "99999999999999999999", "0x10", "nan", "inf", "-inf", "1_000", "\u{661}\u{662}",
  "2021-03-01", "2021-03-31", "2021-02-29", "2021-13-01", "2021-3-1", "0000-01-01", "9999-12-31", "10000-01-01",
  "2021-03", "2021-13", "9999-12", "0001-01", "2021-03-01T00:00:00Z", "2021-03-01T25:00:00Z",
  "2021-03-01T00:00:00+99:00", "2020", "2021", "2022", "2019", "trtc", "__index", "pro", "trial", "free",
  "flagship", "ultimate", "developer", "standard", "premium", "2020/pro", "2021/pro", "2022/standard", "2020/",
  "/pro", "2020/pro/x", "Private", "Public", "ChatRoom", "AVChatRoom", "BChatRoom", "Community", "Work", "Meeting",
  "private", "login", "create_account", "change_edition", "dau", "mau", "groups", "accounts", "read_receipts",
  "push_all", "av_unlimited", "retention_30", "members_per_group", "+08:00", "-05:30", "UTC", "Z", "UTC+99",
  "+14:00", "+15:00", "5%", "-100%", "1.5", "3", "0.0000001", "csv", "jsonl", "step", "linear", "u1", "u2", "g1",
  "e1", "a\0b", "abcd\0efgh", "2021-03-01\0x", "pro\0", "u1\0\0", "\0", "\255\254", "\xC3\x28", "\xE2\x82",
  "\xF0\x9F\x98", "\xED\xA0\x80", "caf\u{e9}", "\27[31mred\27[0m", "line\nbreak", "tab\there", "cr\rlf",
  "%s%d%n%%", "\"quoted\"", "back\\slash", "'single'", "${x}", "$(id)", "`id`", "; rm -rf /", "a,b", "a;b",
  "#comment", "../x", "/nonexistent/dir/file", ".", "..",
}

local LONG = {
  'string.rep("9", 1048576)', 'string.rep("a", 300)', 'string.rep("\\0", 70)', 'string.rep("\\xC3\\xA9", 100)',
  'string.rep("u", 128)', 'string.rep("u", 127)', 'string.rep("x", 65536)', '("1" .. string.rep("0", 400))',
  '(string.rep("\\xC3\\xA9", 30) .. "\\xC3")', 'string.rep("2021-03-01", 100)', 'string.rep("\\n", 100)',
  'string.rep("ab\\0", 200)', '("149.99" .. string.rep("0", 500))', '("0." .. string.rep("0", 300) .. "1")',
}

-- Tables with hostile metatables and odd shapes.
local HOSTILE = {
  'setmetatable({}, { __index = function() error("FUZZ-HOSTILE __index") end })',
  'setmetatable({}, { __index = function() return 5 end })',
  'setmetatable({}, { __index = function() return "2020" end })',
  'setmetatable({}, { __index = function(t, k) collectgarbage() return nil end })',
  'setmetatable({}, { __index = function(t, k) collectgarbage() collectgarbage() return {} end })',
  'setmetatable({}, { __index = function(t, k) return H.junk_at(k) end })',
  -- every index answers: an ipairs over it never ends unless its body refuses
  'H.endless("push_all")', 'H.endless("u1")', 'H.endless(1614556800)', 'H.endless("pro")', 'H.endless("1.5")',
  'H.endless(imbill.money("1"))', 'H.endless("av_unlimited")', 'H.endless({ on = "2021-03-10", to = "flagship" })',
  'setmetatable({}, { __len = function() return 2^40 end })',
  'setmetatable({}, { __len = function() return -1 end })',
  'setmetatable({}, { __len = function() return "x" end })',
  'setmetatable({}, { __len = function() return 0.5 end })',
  'setmetatable({}, { __len = function() error("FUZZ-HOSTILE __len") end })',
  'setmetatable({ 1, 2, 3 }, { __len = function() return 1e6 end })',
  'setmetatable({}, { __tostring = function() error("FUZZ-HOSTILE __tostring") end })',
  'setmetatable({}, { __tostring = function() return {} end })',
  'setmetatable({}, { __tostring = function() return string.rep("T", 100000) end })',
  'setmetatable({}, { __pairs = function() error("FUZZ-HOSTILE __pairs") end })',
  'setmetatable({}, { __pairs = function() return 5 end })',
  'setmetatable({ a = 1 }, { __pairs = function(t) return function() return {}, 1 end, t, nil end })',
  'setmetatable({}, { __eq = function() error("FUZZ-HOSTILE __eq") end })',
  'setmetatable({}, { __lt = function() error("FUZZ-HOSTILE __lt") end, __le = function() error("FUZZ-HOSTILE __le") end })',
  'setmetatable({}, { __concat = function() error("FUZZ-HOSTILE __concat") end })',
  'setmetatable({}, { __call = function() error("FUZZ-HOSTILE __call") end })',
  'setmetatable({}, { __newindex = function() error("FUZZ-HOSTILE __newindex") end })',
  'setmetatable({}, { __metatable = false })',
  'setmetatable({}, { __metatable = "locked" })',
  'setmetatable({}, { __name = "imbill.Meter" })',
  'setmetatable({}, { __name = "imbill.Money" })',
  'setmetatable({}, getmetatable(b))',
  'setmetatable({}, getmetatable(ed))',
  'setmetatable({}, getmetatable(inv))',
  'setmetatable({ book = "2020", edition = "pro" }, { __index = function() error("FUZZ-HOSTILE __index") end })',
  'setmetatable({ month = "2021-03" }, { __index = function(t, k) return H.junk_at(k) end })',
  'H.cyclic()', 'H.deep(200)', 'H.deep(100000)', 'H.wide(100000)', 'H.sparse()', 'H.weird_keys()',
  'H.hostile_key()', '{ nil, 1 }', '{ 1, nil, 3 }', '{ n = 1 }', '{ [0] = 1 }', '{ [1.5] = 1 }', '{ [2^53] = 1 }',
  '{ [-1] = 1 }', '{ {} }', '{ {}, {} }', '{ "", "" }', '{ 1, 2, 3 }', '{ "x", "y" }', '{ 0/0 }', '{ 1/0 }',
  '{ true }', '{ m }', 'H.gc_bomb()', 'H.users(3000, 2500, 5)', 'H.users(2000, 1500, "")',
  'H.times(3000, 2999, 0.5)', 'H.times(1025, 1025, "x")', 'H.users(100000)',
}

local OBJECTS = {
  "tostring", "function() end", 'function() error("FUZZ-HOSTILE fn") end', "function(...) return ... end",
  "function() return 0/0 end", "function() return {} end", "function() collectgarbage() end",
  "coroutine.create(function() end)", "H.dead_coroutine()", "coroutine.running()", "io.stdout", "H.proxy()",
  "H.closed_meter()", "m", "H.other_meter()", "b", "ed", "inv", "imbill.book(\"2022\")",
  "imbill.book(\"2021\"):edition(\"ultimate\")", "imbill.money(\"1.5\")", "imbill.money(\"-0.01\")",
  "imbill.money(\"9223372036854.775807\")", "imbill.money(\"-9223372036854.775807\")",
  "imbill.money.from_micros(1)", "imbill", "imbill.core", "string", "_G", "H",
}

M.NUMBERS, M.STRINGS, M.LONG, M.HOSTILE, M.OBJECTS = NUMBERS, STRINGS, LONG, HOSTILE, OBJECTS

--- Extra expressions the fixtures add (s, p, g, ... when their areas run).
M.extra = {}

function M.number(r)
  if r:chance(0.3) then
    -- a random whole number or fraction near the interesting ranges
    local k = r:pick { 1, 2, 3, 4 }
    if k == 1 then return tostring(r:int(-5, 100)) end
    if k == 2 then return tostring(1614556800 + r:int(-86400 * 60, 86400 * 60)) end
    if k == 3 then return tostring(r:int(0, 2000000)) end
    return string.format("%d.%d", r:int(0, 100000), r:int(1, 999999))
  end
  return r:pick(NUMBERS)
end

function M.string(r)
  if r:chance(0.1) then return r:pick(LONG) end
  if r:chance(0.05) then
    -- random bytes
    local t = {}
    for i = 1, r:int(0, 12) do t[i] = string.char(r:int(0, 255)) end
    return q(table.concat(t))
  end
  return q(r:pick(STRINGS))
end

--- Any junk value; depth bounds the nesting of generated tables.
function M.any(r, depth)
  depth = depth or 0
  local k = r:weighted {
    { 4, "nil" }, { 2, "bool" }, { 14, "number" }, { 16, "string" }, { 8, "hostile" }, { 8, "object" },
    { depth < 2 and 6 or 0, "table" }, { #M.extra > 0 and 4 or 0, "extra" },
  }
  if k == "nil" then return "nil" end
  if k == "bool" then return r:pick { "true", "false" } end
  if k == "number" then return M.number(r) end
  if k == "string" then return M.string(r) end
  if k == "hostile" then return r:pick(HOSTILE) end
  if k == "object" then return r:pick(OBJECTS) end
  if k == "extra" then return r:pick(M.extra) end
  -- a table of junk: an array, named fields, or both
  local parts = {}
  for _ = 1, r:int(0, 4) do
    if r:chance(0.5) then
      parts[#parts + 1] = M.any(r, depth + 1)
    else
      parts[#parts + 1] = string.format("[%s] = %s", r:chance(0.7) and q(r:pick(STRINGS)) or M.number(r),
        M.any(r, depth + 1))
    end
  end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

return M
