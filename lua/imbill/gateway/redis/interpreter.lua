-- luacheck: read globals redis cjson
--- The program interpreter that runs inside Redis.  Not a module: its text
-- returns run(keys, argv), and imbill.gateway.redis.script wraps it as a
-- Redis function library (FUNCTION LOAD, called with FCALL: the functions
-- are made once, by the first call) and as a script (EVALSHA, where Redis has
-- no functions: made again on every call).
--
-- It knows no quota rule.  The gateway sends a program: the core's plans
-- (docs/store.md) as guarded operations on named keys, plus a few store
-- mechanics (reservation records, a group's move to its real id).  The
-- interpreter checks guards, applies effects and answers what happened.
--
-- All or nothing.  Every read goes through an overlay and every write lands
-- in it; Redis is written only at the very end, after every instruction ran
-- and every value read was checked (an integer where one is due, the right
-- type of key).  A bad value, a key the program did not declare, or a bug
-- anywhere before that point leaves Redis as it was.  A unit that is refused
-- is put back inside the overlay (an undo log), so the units after it see
-- the values before it.
--
-- Numbers.  Redis' Lua has doubles only: every integer read or received is
-- checked to be within +-(2^53 - 1), where doubles are exact, and written
-- back with %d; a bound beyond that range is compared as the infinity it
-- stands for.  Activity states (16 bytes) are opaque strings here.
--
-- Program (ARGV), all strings:
--   "imb1", layout, pid, marker key index, marker mode, marker ttl, then
--   instructions until the end:
--   U cond reg atomic nsteps {step}   a unit: steps applied in order
--   T {step}                          a template step (not applied)
--   L kidx field new expected dau mau a unit of one template step with its
--                                     compare-and-set operands replaced
--   Q cond ureg rr rm rq rid match deadline text   record a reservation
--                                     (ureg "=" .. flags: of steps an earlier
--                                     program applied, these flags)
--   C cond reg rr rm rq match         confirm the oldest reservation of match
--   K cond reg rr rm rq rid text match  claim a reservation if unchanged
--   N cond reg fromg tog fromm tom prefix from to   move a group to a new id
-- A step: S t day_start gidx bytype gof nops {op}; an op: code kidx
-- field arg bound when.  `code` is three letters: the operation, how the key
-- stores its value, what a failing guard means.  See docs/store.md.
local MAXI = 9007199254740991
local NO_DAY = -2147483648
local tonumber, type, error, pairs, ipairs, pcall = tonumber, type, error, pairs, ipairs, pcall
local sfmt, ssub, sfind, sbyte = string.format, string.sub, string.find, string.byte
local concat, sort = table.concat, table.sort
local huge = math.huge

local function show(s)
  s = tostring(s)
  local cut = #s > 60
  if cut then s = ssub(s, 1, 60) end
  s = s:gsub("[%c\128-\255\"\\]", function(c) return sfmt("\\x%02x", sbyte(c)) end)
  return '"' .. s .. (cut and '..."' or '"')
end

local function fail(msg) error({ imb = msg }, 0) end

-- An integer in the range doubles hold exactly, from its decimal text.
-- The message is made only when the text is not one (what, and the key or
-- field it was read from, if any): a read must cost no more than the read.
-- What a library keeps from program to program (parsed numbers, texts, op
-- codes): each cache holds at most CACHE_MAX entries, since what fills it
-- comes from the programs.  keep() stores v under k while there is room.
local CACHE_MAX = 4096
local kept = {} -- cache -> entries it holds
local function keep(cache, k, v)
  local n = kept[cache] or 0
  if n < CACHE_MAX then
    cache[k] = v
    kept[cache] = n + 1
  end
  return v
end

-- Small counts read back are kept as they are parsed.
local COUNTS = {}
local function int_of(s, what, k, f)
  local n = COUNTS[s]
  if n then return n end
  if type(s) == "string" and #s <= 20 and sfind(s, "^%-?%d+$") then
    n = tonumber(s)
    if n <= MAXI and n >= -MAXI then
      if #s <= 6 then keep(COUNTS, s, n) end
      return n
    end
    if k then what = what .. (f and (" " .. show(f) .. " of ") or " ") .. show(k) end
    fail(what .. ": " .. show(s) .. " is beyond 2^53, which this store does not count to")
  end
  if k then what = what .. (f and (" " .. show(f) .. " of ") or " ") .. show(k) end
  fail(what .. ": not an integer: " .. show(s))
end

-- Short numbers recur from program to program (counts, days, bounds, key
-- numbers): their values are kept once read.
local SHORT = {}
local function short_number(s, n)
  if #s <= 6 then keep(SHORT, s, n) end
  return n
end

-- An integer the gateway wrote (with %d, from an int64): only its range
-- needs checking.
local function arg_int(s, what)
  local n = SHORT[s]
  if n then return n end
  n = tonumber(s)
  if not n or n ~= n or n % 1 ~= 0 then fail(what .. ": not an integer: " .. show(s)) end
  if n > MAXI or n < -MAXI then fail(what .. ": " .. show(s) .. " is beyond 2^53, which this store does not count to") end
  return short_number(s, n)
end

-- A bound: "" none (nil), else an integer, where one past the exact range
-- stands for the infinity it is compared as.
local function bound_of(s)
  if s == "" then return nil end
  local n = tonumber(s)
  if not n or n ~= n or n % 1 ~= 0 then fail("bound: not an integer: " .. show(s)) end
  if n > MAXI then return huge end
  if n < -MAXI then return -huge end
  return n
end

local function add_exact(a, b, what, k)
  local r = a + b
  if r > MAXI or r < -MAXI then
    fail(what .. (k and (" " .. show(k)) or "") .. ": " .. sfmt("%d", a) .. " + " .. sfmt("%d", b) .. " is beyond 2^53")
  end
  return r
end

---------------------------------------------------------------------------
-- The program's arguments and keys

-- Everything from here to run() below is one program's state: run() sets it
-- afresh before each program (a library's functions outlive their calls).
local keys, argv, pos
local function nxt()
  pos = pos + 1
  local v = argv[pos]
  if v == nil then fail("the program ends early (argument " .. pos .. ")") end
  return v
end

local declared
local function key_at(s)
  local i = SHORT[s]
  if not i then
    i = tonumber(s)
    -- only whole numbers are kept: "1.5" names no key, and is refused each time
    if i and i % 1 == 0 and i >= 1 then short_number(s, i) end
  end
  local k = i and keys[i]
  if not k then fail("no declared key number " .. show(s)) end
  return k
end

-- A key named from data (a member's set): it must be one the program
-- declared, or Redis Cluster could not route the program safely.  Missing
-- ones are collected and sent back; the client declares them and resends.
local missing, nmissing
local function dyn(k)
  if declared[k] then return k end
  if not missing[k] then
    missing[k] = true
    nmissing = nmissing + 1
    missing[nmissing] = k
  end
  return nil
end

---------------------------------------------------------------------------
-- The overlay.  Cells hold a value as read (base) and as it is now (cur);
-- put() records what it replaced, so a unit can be put back.

local ut, uk, uv, nundo
local NONE = {} -- an undo entry for a field that was nil
local function put(t, k, v)
  nundo = nundo + 1
  local old = t[k]
  ut[nundo], uk[nundo], uv[nundo] = t, k, old == nil and NONE or old
  t[k] = v
end
local function rollback(mark)
  for i = nundo, mark + 1, -1 do
    local old = uv[i]
    if old == NONE then old = nil end
    local t = ut[i]
    t[uk[i]] = old
    ut[i], uk[i], uv[i] = nil, nil, nil
  end
  nundo = mark
end

-- redis.call, taken when a program runs: a library is loaded where Redis'
-- commands cannot be called
local rcall

-- A read of key k that finds another kind of value there (a set where a
-- count belongs) refuses the program naming the key, as a value it cannot
-- trust does: Redis' own WRONGTYPE names no key.  Every key is read before
-- anything is written, so nothing is written either.
local pcall_redis
local function read(cmd, k, ...)
  local r = pcall_redis(cmd, k, ...)
  if type(r) == "table" and r.err then
    if tostring(r.err):find("WRONGTYPE", 1, true) then
      local ty = rcall("TYPE", k)
      ty = type(ty) == "table" and ty.ok or ty
      fail("key " .. show(k) .. " holds a " .. tostring(ty) .. ", which " .. cmd .. " cannot read")
    end
    error(r, 0)
  end
  return r
end

local order        -- cells in the order first touched (commit order)
local STR, HASH, SETS, ZS
local GROUP_REC    -- hashes that are a group's record: gone when its type is 0

-- A string key: integer ("i") or raw ("r").
local function str(k, kind)
  local c = STR[k]
  if c then return c end
  local v = read("GET", k)
  if v ~= false and kind == "i" then v = int_of(v, "value at", k) end
  c = { t = "s", k = k, base = v, cur = v, kind = kind }
  STR[k] = c
  order[#order + 1] = c
  return c
end

local function field(k, f, kind)
  local h = HASH[k]
  if not h then
    h = {}
    HASH[k] = h
  end
  local c = h[f]
  if c then return c end
  local v = read("HGET", k, f)
  if v ~= false and kind == "i" then v = int_of(v, "field", k, f) end
  c = { t = "h", k = k, f = f, base = v, cur = v, kind = kind }
  h[f] = c
  order[#order + 1] = c
  return c
end

local function set(k)
  local c = SETS[k]
  if c then return c end
  local n = read("SCARD", k)
  c = { t = "set", k = k, base = n, card = n, add = {}, rem = {}, mem = {}, cleared = false }
  SETS[k] = c
  order[#order + 1] = c
  return c
end

local function zset(k)
  local c = ZS[k]
  if c then return c end
  local ty = rcall("TYPE", k)
  ty = type(ty) == "table" and ty.ok or ty
  if ty ~= "zset" and ty ~= "none" then fail("key " .. show(k) .. " holds a " .. tostring(ty) .. ", not a sorted set") end
  c = { t = "z", k = k, add = {}, rem = {} }
  ZS[k] = c
  order[#order + 1] = c
  return c
end

local function has(c, m)
  if c.add[m] then return true end
  if c.rem[m] or c.cleared or c.base == 0 then return false end
  local v = c.mem[m]
  if v == nil then
    v = read("SISMEMBER", c.k, m) == 1
    c.mem[m] = v
  end
  return v
end

local function sadd(c, m)
  if has(c, m) then return false end
  if c.rem[m] then put(c.rem, m, nil) else put(c.add, m, true) end
  put(c, "card", c.card + 1)
  return true
end

local function srem(c, m)
  if not has(c, m) then return false end
  if c.add[m] then put(c.add, m, nil) else put(c.rem, m, true) end
  put(c, "card", c.card - 1)
  return true
end

local function smembers(c)
  local out = {}
  if not c.cleared and c.base > 0 then
    for _, m in ipairs(read("SMEMBERS", c.k)) do
      if not c.rem[m] then out[#out + 1] = m end
    end
  end
  local added = {}
  for m in pairs(c.add) do
    if c.cleared or c.base == 0 or not c.mem[m] then added[#added + 1] = m end
  end
  sort(added)
  for _, m in ipairs(added) do out[#out + 1] = m end
  return out
end

local function sclear(c)
  for m in pairs(c.add) do put(c.add, m, nil) end
  for m in pairs(c.rem) do put(c.rem, m, nil) end
  put(c, "cleared", true)
  put(c, "card", 0)
end

-- Values with their defaults.  Storage letters: c counter (0), d day (none
-- yet: NO_DAY), f hash field (0), g a group's type field, t its creation
-- instant, l a day's log field.
local function num(st, k, f)
  if st == "c" then
    local v = str(k, "i").cur
    return v == false and 0 or v
  elseif st == "d" then
    local v = str(k, "i").cur
    return v == false and NO_DAY or v
  end
  local v = field(k, f, "i").cur
  return v == false and 0 or v
end

local function set_num(st, k, f, v)
  if st == "c" or st == "d" then put(str(k, "i"), "cur", v) else put(field(k, f, "i"), "cur", v) end
end

---------------------------------------------------------------------------
-- Steps

local MARKER_ONLY = { f = true, m = true } -- kept when a no-op guard fails

-- "=c-" -> its three letters, split once
local CODES = {}

-- An op's table is taken from a pool that each program starts from the top
-- of again (run() sets nop to 0): ops live only as long as their program, and
-- reusing them saves making and collecting a table per op.  Ops past the
-- pool's size (CACHE_MAX) get tables of their own.
local OPOOL, nop = {}, 0

local function read_step()
  local a, p = argv, pos
  -- every field in the constructor: Redis' Lua 5.1 sizes a table from it, and
  -- each field added later past that size rehashes the table
  local g = a[p + 3]
  local s = { t = arg_int(a[p + 1], "step instant"), ds = arg_int(a[p + 2], "step day start"),
              gk = g ~= "0" and key_at(g) or nil, tb = false, gof = false, ops = false, ak = false, af = false }
  if s.gk then GROUP_REC[s.gk] = true end
  local tb, gof = a[p + 4], a[p + 5]
  local n = arg_int(a[p + 6], "op count")
  p = p + 6
  if tb == nil or gof == nil or a[p + n * 6] == nil then fail("the program ends early (argument " .. p .. ")") end
  if tb ~= "" then
    s.tb = {}
    local i = 0
    for b in (tb .. ","):gmatch("([^,]*),") do
      s.tb[i] = b
      i = i + 1
    end
  end
  if gof ~= "" then
    s.gof = {}
    local i = 0
    for b in (gof .. ","):gmatch("([^,]*),") do
      s.gof[i] = key_at(b)
      i = i + 1
    end
  end
  local ops = {}
  for i = 1, n do
    local code, kidx, f, arg, b, when = a[p + 1], a[p + 2], a[p + 3], a[p + 4], a[p + 5], a[p + 6]
    p = p + 6
    local c = CODES[code]
    if not c then
      c = keep(CODES, code, { ssub(code, 1, 1), ssub(code, 2, 2), ssub(code, 3, 3) })
    end
    local kind = c[1]
    nop = nop + 1
    local o = OPOOL[nop]
    if not o then
      -- the eight fields every op has, in the constructor: Redis' Lua 5.1
      -- sizes a table from it (eight fit the smallest hash that holds them);
      -- the two only a compare-and-set and a cascade need (dk, mk) come after
      o = { kind = false, st = false, fail = false, f = false, bound = false, k = false, cond = false, arg = false }
      if nop <= CACHE_MAX then OPOOL[nop] = o end
    end
    o.kind, o.st, o.fail, o.f, o.bound, o.cond, o.arg, o.dk, o.mk = kind, c[2], c[3], f, b, "", false, nil, nil
    o.k = kidx ~= "0" and key_at(kidx) or nil
    -- for these the last operand is not a condition: the counts a
    -- compare-and-set bumps, a cascade's second key prefix
    if kind == "c" then
      o.arg = arg
      local d, m = when:match("^(%d+),(%d+)$")
      if not d then fail("a compare-and-set's counters: " .. show(when)) end
      o.dk, o.mk = d ~= "0" and key_at(d) or nil, m ~= "0" and key_at(m) or nil
    elseif kind == "U" then
      o.arg, o.dk = key_at(arg), when
    elseif kind == "k" then
      -- a user counted for something: the account's field, then the sets of
      -- its memberships and friendships
      o.arg, o.dk = key_at(arg), key_at(b)
    elseif kind ~= "G" then
      o.cond, o.arg = when, arg_int(arg, "an op's argument")
      if when ~= "" and sbyte(when, 1) == 65 then
        -- "A<key>:<field>": the user's account, read before the step
        local k, af = when:match("^A(%d+):(.*)$")
        if not k then fail("an account condition: " .. show(when)) end
        s.ak, s.af = key_at(k), af
      end
    end
    ops[i] = o
  end
  s.ops = ops
  pos = p
  return s
end

local function holds(when, gtype, gat, account)
  if when == "" then return true end
  local w = ssub(when, 1, 1)
  if w == "A" then return account end
  if w == "T" then return gtype ~= nil and sfind(when, tostring(gtype), 2, true) ~= nil end
  if w == "S" then return gtype ~= nil and gat >= int_of(ssub(when, 2), "condition instant") end
  fail("unknown condition " .. show(when))
end

local function op_key(s, o, gtype)
  if o.st == "o" then
    local k = gtype and s.gof and s.gof[gtype]
    if not k then fail("a count by the type of a group that does not exist") end
    return k
  end
  if not o.k then fail("an op without a key") end
  return o.k
end

local function value(s, o, gtype)
  local st = o.st
  if st == "o" then return num("c", op_key(s, o, gtype)) end
  if st == "g" then return num("f", o.k, "t") end
  if st == "t" then return num("f", o.k, "at") end
  return num(st, o.k, o.f)
end

local function bound_for(s, o, gtype)
  if o.bound == "T" then
    if gtype == nil then return nil end -- only a group's own type has a cap
    return bound_of(s.tb and s.tb[gtype] or "")
  end
  return bound_of(o.bound)
end

local function bstr(b)
  if b == nil then return "" end
  if b == huge or b == -huge then return "" end
  return sfmt("%d", b)
end

local function apply_effect(s, o, gtype)
  local kind = o.kind
  if kind == "+" then
    local k = op_key(s, o, gtype)
    local st = o.st == "o" and "c" or o.st
    set_num(st, k, o.f, add_exact(num(st, k, o.f), o.arg, "count at", k))
  elseif kind == "s" then
    if o.st == "g" then set_num("f", o.k, "t", o.arg)
    elseif o.st == "t" then set_num("f", o.k, "at", o.arg)
    else set_num(o.st, o.k, o.f, o.arg) end
  elseif kind == "m" then
    if o.arg > num(o.st, o.k, o.f) then set_num(o.st, o.k, o.f, o.arg) end
  elseif kind == "a" then
    sadd(set(o.k), o.f)
  elseif kind == "r" then
    srem(set(o.k), o.f)
  elseif kind == "g" then
    -- a day's log keeps, per instant, the sum of its creates and of its
    -- disbands (the day's peak takes disbands first at one instant)
    local f = (o.arg > 0 and "+" or "-") .. sfmt("%d", s.t)
    local c = field(o.k, f, "i")
    local d = o.arg > 0 and o.arg or -o.arg
    put(c, "cur", add_exact(c.cur == false and 0 or c.cur, d, "log at", o.k))
  elseif kind == "f" then
    local c = str(o.k, "r")
    put(c, "cur", "1")
    c.ttl = o.arg
  elseif kind == "c" then
    put(field(o.k, o.f, "r"), "cur", o.arg)
    local k = o.dk
    if k then set_num("c", k, nil, add_exact(num("c", k), 1, "count at", k)) end
    k = o.mk
    if k then set_num("c", k, nil, add_exact(num("c", k), 1, "count at", k)) end
  elseif kind == "U" then
    -- the user's account ends: every membership and friendship ends
    local u, joined, friends = o.f, set(o.k), set(o.arg)
    local gp, fp = o.bound, o.dk
    for _, g in ipairs(smembers(joined)) do
      local k = dyn(gp .. g)
      if k then srem(set(k), u) end
    end
    sclear(joined)
    for _, p in ipairs(smembers(friends)) do
      local k = dyn(fp .. p)
      if k then srem(set(k), u) end
    end
    sclear(friends)
  elseif kind == "G" then
    local g, members = o.f, set(o.k)
    for _, u in ipairs(smembers(members)) do
      local k = dyn(o.bound .. u)
      if k then srem(set(k), g) end
    end
    sclear(members)
  end
end

-- One step against the values before it.  Returns its result: "a" applied,
-- "u" unchanged (a no-op guard failed), "d" duplicate, "r<op>:<max>:<held>:
-- <type>" refused, "s<state>" stale (a compare-and-set found another value).
local function run_step(s)
  local gtype, gat
  if s.gk then
    local t = num("f", s.gk, "t")
    if t > 0 then gtype, gat = t - 1, num("f", s.gk, "at") end
    -- a type no group has (a record written by hand) would find no cap for
    -- its members: 25 joins passed a cap of 20
    if t < 0 or (gtype and s.tb and s.tb[gtype] == nil) then
      fail("group " .. show(s.gk) .. ": type " .. sfmt("%d", t) .. " is no group type")
    end
  end
  -- whether the user had an account before the step (an "A" condition)
  local account = false
  if s.ak then account = num("f", s.ak, s.af) ~= 0 end
  local ops = s.ops
  local failed, why
  for i = 1, #ops do
    local o = ops[i]
    local kind = o.kind
    local bad, held, max
    if kind == "=" or kind == "!" or kind == "<" or kind == ">" then
      local v = value(s, o, gtype)
      local a = o.arg
      local ok
      if kind == "=" then ok = v == a
      elseif kind == "!" then ok = v ~= a
      elseif kind == "<" then ok = v <= a
      else ok = v == NO_DAY or v >= a end
      bad, held = not ok, v
    elseif kind == "h" or kind == "l" then
      local present = has(set(o.k), o.f)
      bad, held = present ~= (kind == "h"), 0
    elseif kind == "f" then
      bad, held = str(o.k, "r").cur ~= false, 0
    elseif kind == "k" then
      bad, held = num("f", o.k, o.f) == 0 and set(o.arg).card == 0 and set(o.dk).card == 0, 0
    elseif kind == "+" and o.fail ~= "-" then
      local b = bound_for(s, o, gtype)
      if b ~= nil then
        local v = value(s, o, gtype)
        bad, held, max = add_exact(v, o.arg, "count") > b, v, b
      end
    elseif kind == "a" and o.fail ~= "-" then
      local b = bound_for(s, o, gtype)
      if b ~= nil then
        local size = set(o.k).card
        bad, held, max = size >= b, size, b
      end
    elseif kind == "c" then
      local c = field(o.k, o.f, "r")
      local want = o.bound
      local ok
      if want == "?" then ok = false
      elseif want == "=" then ok = c.cur == false
      else ok = c.cur == ssub(want, 2) end
      if not ok then return "s" .. (c.cur == false and "" or ("=" .. c.cur)) end
    end
    if bad then
      failed = o
      why = "r" .. (i - 1) .. ":" .. bstr(max) .. ":" .. sfmt("%d", held or 0) .. ":" .. (gtype or "")
      break
    end
  end
  if failed then
    local f = failed.fail
    if f == "d" then return "d" end
    if f == "n" then
      -- a no-op was still processed: its event id is remembered, its day
      -- counts as reached
      for i = 1, #ops do
        local o = ops[i]
        if MARKER_ONLY[o.kind] then apply_effect(s, o, gtype, gat) end
      end
      return "u"
    end
    return why
  end
  for i = 1, #ops do
    local o = ops[i]
    local kind = o.kind
    if not (kind == "=" or kind == "!" or kind == "<" or kind == ">" or kind == "h" or kind == "l" or kind == "k")
      and holds(o.cond, gtype, gat, account) then
      apply_effect(s, o, gtype, gat)
    end
  end
  return "a"
end

---------------------------------------------------------------------------
-- Instructions

local REG, UNITRES

local function cond_holds(c)
  if c == "" then return true end
  for r, v in c:gmatch("(%d+)=(%d)") do
    if (REG[tonumber(r)] or 0) ~= tonumber(v) then return false end
  end
  return true
end

local function set_reg(r, v)
  r = tonumber(r)
  if r and r > 0 then REG[r] = v end
end

local function run_unit(steps, atomic)
  local mark = nundo
  local out, any = {}, false
  for i, s in ipairs(steps) do
    local r = run_step(s)
    out[i] = r
    local c = ssub(r, 1, 1)
    if c == "a" then any = true end
    if atomic and (c == "r" or c == "s") then
      rollback(mark)
      for j = 1, i - 1 do out[j] = "b" end
      for j = i + 1, #steps do out[j] = "k" end
      return out, false
    end
  end
  return out, any
end

local function rid_list(s)
  local out = {}
  if s then for r in s:gmatch("%S+") do out[#out + 1] = r end end
  return out
end

local function set_rids(rm, match, list)
  put(field(rm, match, "r"), "cur", #list > 0 and concat(list, " ") or false)
end

local function zrem(z, m)
  put(z.add, m, nil)
  put(z.rem, m, true)
end

local results
local template

local function run_program()
  local version = nxt()
  if version ~= "imb1" then fail("program version " .. show(version) .. " (this interpreter runs imb1)") end
  local layout = nxt()
  local pid, mk, mode, mttl = nxt(), nxt(), nxt(), nxt()
  local marker = mk ~= "0" and key_at(mk) or nil
  if pid ~= "" then
    if not marker then fail("a program id without a marker key") end
    local seen = rcall("HGET", marker, pid)
    if mode == "t" then
      -- resolving a program whose answer was lost: it ran, or it never will
      if seen == false then
        redis.call("HSET", marker, pid, "x")
        redis.call("EXPIRE", marker, int_of(mttl, "marker ttl"))
        return { "cancelled" }
      end
      if seen == "x" then return { "cancelled" } end
      return { "ran", seen }
    end
    if seen == "x" then return { "cancelled" } end
    if seen ~= false then return { "done", seen } end
  end
  local lc = str(keys[1], "r")
  if lc.cur == false then put(lc, "cur", layout)
  elseif lc.cur ~= layout then
    fail("this Redis holds the app's counts in layout " .. show(lc.cur) .. ", the gateway is configured for "
      .. show(layout) .. " (the bucket count must never change)")
  end
  while pos < #argv do
    local op = nxt()
    if op == "L" then
      if not template then fail("a login unit before its template") end
      -- L kidx field new expected dau mau: the template's compare-and-set
      local cop = template.cop
      local a, p = argv, pos
      cop.k, cop.f, cop.arg, cop.bound = key_at(a[p + 1]), a[p + 2], a[p + 3], a[p + 4]
      local d, m = a[p + 5], a[p + 6]
      if m == nil then fail("the program ends early (argument " .. p .. ")") end
      pos = p + 6
      cop.dk, cop.mk = d ~= "0" and key_at(d) or nil, m ~= "0" and key_at(m) or nil
      local mark = nundo
      local r = run_step(template.steps[1])
      local c = sbyte(r, 1)
      if c == 114 or c == 115 then rollback(mark) end -- refused, stale: nothing of it stays
      results[#results + 1] = r
    elseif op == "T" then
      if nxt() ~= "S" then fail("a template that is not a step") end
      local s = read_step()
      local cop
      for _, o in ipairs(s.ops) do if o.kind == "c" then cop = o end end
      if not cop then fail("a login template without a compare-and-set") end
      template = { steps = { s }, cop = cop }
    else
      local cond = nxt()
      local run = cond_holds(cond)
      if op == "U" then
        local reg, atomic, n = nxt(), nxt() == "1", int_of(nxt(), "step count")
        local steps = {}
        for i = 1, n do
          if nxt() ~= "S" then fail("a unit's step " .. i .. " does not start with S") end
          steps[i] = read_step()
        end
        if run then
          local out, any = run_unit(steps, atomic)
          set_reg(reg, any and 1 or 0)
          if tonumber(reg) and tonumber(reg) > 0 then UNITRES[tonumber(reg)] = out end
          results[#results + 1] = out
        else
          set_reg(reg, 0)
          results[#results + 1] = "-"
        end
      elseif op == "Q" then
        local ureg, rr, rm, rq = nxt(), key_at(nxt()), key_at(nxt()), key_at(nxt())
        local rid, match, deadline, text = nxt(), nxt(), int_of(nxt(), "deadline"), nxt()
        local ok = "0"
        local given = ssub(ureg, 1, 1) == "=" and ssub(ureg, 2) or nil
        if given and not sfind(given, "^%a*$") then fail("reservation flags " .. show(given)) end
        if run and (given or REG[tonumber(ureg)] == 1) then
          local rec = field(rr, rid, "r")
          if rec.cur == false then
            local flags = {}
            if given then flags[1] = given
            else
              for i, r in ipairs(UNITRES[tonumber(ureg)] or {}) do flags[i] = ssub(r, 1, 1) end
            end
            put(rec, "cur", concat(flags) .. "\n" .. text)
            local list = rid_list(field(rm, match, "r").cur or nil)
            list[#list + 1] = rid
            set_rids(rm, match, list)
            local z = zset(rq)
            put(z.rem, rid, nil)
            put(z.add, rid, deadline)
            ok = "1"
          end
        end
        results[#results + 1] = ok
      elseif op == "C" then
        local reg, rr, rm, rq, match = nxt(), key_at(nxt()), key_at(nxt()), key_at(nxt()), nxt()
        local got = ""
        if run then
          local list = rid_list(field(rm, match, "r").cur or nil)
          local rest, found = {}, nil
          for _, rid in ipairs(list) do
            if found then rest[#rest + 1] = rid
            else
              local rec = field(rr, rid, "r")
              if rec.cur ~= false then
                found = rid
                put(rec, "cur", false)
                zrem(zset(rq), rid)
              end
            end
          end
          if #list > 0 then set_rids(rm, match, rest) end
          if found then got = found end
        end
        set_reg(reg, got ~= "" and 1 or 0)
        results[#results + 1] = got
      elseif op == "K" then
        local reg, rr, rm, rq = nxt(), key_at(nxt()), key_at(nxt()), key_at(nxt())
        local rid, text, match = nxt(), nxt(), nxt()
        local ok = 0
        if run then
          local rec = field(rr, rid, "r")
          if rec.cur == text then
            put(rec, "cur", false)
            ok = 1
          end
          if rec.cur == false then
            zrem(zset(rq), rid)
            local list, rest = rid_list(field(rm, match, "r").cur or nil), {}
            for _, r in ipairs(list) do if r ~= rid then rest[#rest + 1] = r end end
            if #rest ~= #list then set_rids(rm, match, rest) end
          end
        end
        set_reg(reg, ok)
        results[#results + 1] = tostring(ok)
      elseif op == "N" then
        local reg, fg, tg, fm, tm = nxt(), key_at(nxt()), key_at(nxt()), key_at(nxt()), key_at(nxt())
        local prefix, from, to = nxt(), nxt(), nxt()
        GROUP_REC[fg], GROUP_REC[tg] = true, true
        local ok = 0
        if run then
          local ft, tt = num("f", fg, "t"), num("f", tg, "t")
          if tt == 0 and ft ~= 0 then
            set_num("f", tg, "t", ft)
            set_num("f", tg, "at", num("f", fg, "at"))
            set_num("f", fg, "t", 0)
            set_num("f", fg, "at", 0)
            local fms, tms = set(fm), set(tm)
            for _, u in ipairs(smembers(fms)) do
              sadd(tms, u)
              local k = dyn(prefix .. u)
              if k then
                local j = set(k)
                srem(j, from)
                sadd(j, to)
              end
            end
            sclear(fms)
            ok = 1
          end
        end
        set_reg(reg, ok)
        results[#results + 1] = tostring(ok)
      else
        fail("unknown instruction " .. show(op) .. " at argument " .. pos)
      end
    end
  end
  return marker, pid, mttl
end

---------------------------------------------------------------------------
-- The commit: every changed cell written, in the order first touched.

-- Written with %d, never %.14g; the text of a small count is kept once made.
local TEXT = {}
local function fmt_int(v)
  local t = TEXT[v]
  if t then return t end
  t = sfmt("%d", v)
  if v < 1000000 and v > -1000000 then keep(TEXT, v, t) end
  return t
end

-- Writes made by commit() so far.  Redis refuses a script's write out of
-- memory (OOM) only while the script has changed nothing, and every write
-- on a read-only replica (READONLY), without enough replicas (NOREPLICAS)
-- or when it cannot persist (MISCONF), states that do not change while a
-- script runs: any of these errors means nothing was written.
local written
local NOTHING_WRITTEN = { OOM = true, READONLY = true, NOREPLICAS = true, MISCONF = true }
local function write(...)
  rcall(...)
  written = written + 1
end

-- Redis' Lua hands at most about 8,000 values to one call (unpack's
-- limit): a command given more words after its key (a login batch's new
-- states in one bucket, the keys of a large cleanup) is written as several,
-- CHUNK words each (even, so a field stays with its value).
local CHUNK = 1000
local function write_in_pieces(cmd, k, words)
  local n = #words
  for i = 1, n, CHUNK do
    local j = i + CHUNK - 1
    if j > n then j = n end
    if k then write(cmd, k, unpack(words, i, j)) else write(cmd, unpack(words, i, j)) end
  end
end

local function commit()
  -- as few commands as the changes allow: Redis logs and replicates each one
  local dels, mset, hsets, hdels = {}, {}, {}, {}
  local hset_order = {}
  -- a group's record whose type became 0 goes whole
  local gone = {}
  for k in pairs(GROUP_REC) do
    local t = HASH[k] and HASH[k].t
    if t and (t.cur == false or t.cur == 0) then
      gone[k] = true
      if t.base ~= false and t.base ~= 0 then dels[#dels + 1] = k end
    end
  end
  local later = {}
  for _, c in ipairs(order) do
    local t = c.t
    if t == "s" then
      if c.cur ~= c.base or c.ttl then
        local v = c.cur
        if v == false or (c.kind == "i" and (v == 0 or v == NO_DAY)) then
          if c.base ~= false then dels[#dels + 1] = c.k end
        elseif c.ttl then
          later[#later + 1] = { "SET", c.k, c.kind == "i" and fmt_int(v) or v, "EX", c.ttl }
        else
          mset[#mset + 1] = c.k
          mset[#mset + 1] = c.kind == "i" and fmt_int(v) or v
        end
      end
    elseif t == "h" then
      if not gone[c.k] and c.cur ~= c.base then
        local v = c.cur
        if v == false or (c.kind == "i" and v == 0) then
          local l = hdels[c.k]
          if not l then
            l = {}
            hdels[c.k] = l
            if not hsets[c.k] then hset_order[#hset_order + 1] = c.k end
          end
          l[#l + 1] = c.f
        else
          local l = hsets[c.k]
          if not l then
            l = {}
            hsets[c.k] = l
            if not hdels[c.k] then hset_order[#hset_order + 1] = c.k end
          end
          l[#l + 1] = c.f
          l[#l + 1] = c.kind == "i" and fmt_int(v) or v
        end
      end
    elseif t == "set" then
      local adds, rems = {}, {}
      for m in pairs(c.add) do adds[#adds + 1] = m end
      if c.cleared then
        if c.base > 0 then dels[#dels + 1] = c.k end
      else
        for m in pairs(c.rem) do rems[#rems + 1] = m end
      end
      sort(adds)
      sort(rems)
      for i = 1, #rems, 500 do later[#later + 1] = { "SREM", c.k, unpack(rems, i, math.min(#rems, i + 499)) } end
      for i = 1, #adds, 500 do later[#later + 1] = { "SADD", c.k, unpack(adds, i, math.min(#adds, i + 499)) } end
    elseif t == "z" then
      for m in pairs(c.rem) do if not c.add[m] then later[#later + 1] = { "ZREM", c.k, m } end end
      for m, score in pairs(c.add) do later[#later + 1] = { "ZADD", c.k, fmt_int(score), m } end
    end
  end
  write_in_pieces("DEL", nil, dels)
  write_in_pieces("MSET", nil, mset)
  for _, k in ipairs(hset_order) do
    local d = hdels[k]
    if d then write_in_pieces("HDEL", k, d) end
    local l = hsets[k]
    if l then write_in_pieces("HSET", k, l) end
  end
  for _, cmd in ipairs(later) do write(unpack(cmd)) end
end

--- Runs one program (keys, argv: FCALL's or EVALSHA's) and returns its
-- answer.  Every piece of a program's state is made new first, so nothing of
-- one program, even one that failed half-way, reaches the next.
local function run(k, a)
  keys, argv, pos, nop = k, a, 0, 0
  declared = {}
  for i = 1, #k do declared[k[i]] = true end
  missing, nmissing = {}, 0
  ut, uk, uv, nundo = {}, {}, {}, 0
  rcall, pcall_redis = redis.call, redis.pcall
  order, STR, HASH, SETS, ZS, GROUP_REC = {}, {}, {}, {}, {}, {}
  REG, UNITRES = {}, {}
  results, template = {}, nil
  local ok, marker, pid, mttl = pcall(run_program)
  if not ok then
    local e = marker
    if type(e) == "table" and e.imb then return { "fail", e.imb } end
    -- the one write before the commit (recording that a lost program never
    -- ran) refused out of memory, on a replica...: Redis' own error, as for
    -- the commit's writes below, so that it is asked again later
    local text = type(e) == "table" and e.err or e
    if type(text) == "string" then
      text = text:gsub("^%-", ""):gsub("%s+$", "")
      if NOTHING_WRITTEN[text:match("^%u+") or ""] then return redis.error_reply(text) end
    end
    if type(e) == "table" and e.err then return { "fail", e.err } end
    return { "fail", "interpreter: " .. tostring(e) }
  end
  if type(marker) == "table" then return marker end -- answered from the marker
  if nmissing > 0 then
    local out = { "need" }
    for i = 1, nmissing do out[i + 1] = missing[i] end
    return out
  end
  written = 0
  local cok, cerr = pcall(commit)
  if not cok then
    -- Redis raises a refused command's error as a table or, for a command
    -- it refuses to run (OOM, READONLY), as the text alone
    local e = cerr
    if type(e) == "table" then e = e.err or e.imb end
    if type(e) == "string" then
      e = e:gsub("^%-", ""):gsub("%s+$", "")
      -- out of memory, a read-only replica: nothing is written, and the
      -- answer is Redis' own error, as Redis gives it for a function it
      -- refuses before it runs (the call may go again later)
      if NOTHING_WRITTEN[e:match("^%u+") or ""] then return redis.error_reply(e) end
      -- the first write refused: nothing is written either
      if written == 0 then return { "fail", e } end
    end
    -- a write refused after others were made: the caller must know the
    -- counts may be partly written
    return { "partial", tostring(e) }
  end
  if pid ~= "" then
    redis.call("HSET", marker, pid, cjson.encode(results))
    redis.call("EXPIRE", marker, int_of(mttl, "marker ttl"))
  end
  local out = { "ok" }
  for i, r in ipairs(results) do out[i + 1] = r end
  return out
end

return run
