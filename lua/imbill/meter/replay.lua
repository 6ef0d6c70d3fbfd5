--- imbill.replay: feed a log of events through a meter.
--
--     local meter, report = replay.run{ path = "events.csv", book = "2020", edition = "pro" }
--     local inv = imbill.invoice(meter:usage("2021-03"))
--
-- CSV (RFC 4180, with a header naming the columns; imbill.internal.csv) or
-- JSON lines, one event a record.  Fields (docs/meter.md, "Event logs"):
--
-- - `time`: Unix seconds, or `"YYYY-MM-DDTHH:MM:SSZ"` / `"...+08:00"`
-- - `action`: `create_account` `delete_account` `login` `create_group` `disband_group`
--   `join_group` `leave_group` `add_friend` `remove_friend` `change_edition`
-- - `user`: accounts, login, join/leave, friends
-- - `group`: create/disband/join/leave
-- - `peer`: `add_friend`/`remove_friend`: the other user
-- - `type`: `create_group`: Private (Work), Public, ChatRoom (Meeting), AVChatRoom,
--   BChatRoom, Community
-- - `edition`: `change_edition`: the new edition
-- - `one_way`: optional, `add_friend`/`remove_friend` only: `true` (or `1`)
--   changes only the user's own list (Tencent's `Add_Type_Single`,
--   `Delete_Type_Single`); `false`, `0` or empty, the default, both lists
-- - `id`: optional event id: a replayed id is counted once
--
-- Blank lines and lines starting with # are skipped (never inside a quoted
-- CSV field: what a quoted field holds is data, never an event).
--
-- `imbill.replay` is this module.
local core = require "imbill.core"
local check = require "imbill.internal.check"
local errors = require "imbill.internal.errors"
local csv = require "imbill.internal.csv"
local find = string.find
local files = require "imbill.internal.files"
local json = require "imbill.internal.json"
local fmt = require "imbill.internal.fmt"
local books = require "imbill.book"

local M = {}
-- Each public function names itself in its errors.
local FN = "imbill.replay.run"
local FN_EVENTS, FN_EVENT, FN_APPLY = "imbill.replay.events", "imbill.replay.event", "imbill.replay.apply"

local ACTIONS = {
  create_account = { "user" }, delete_account = { "user" }, login = { "user" },
  create_group = { "group", "type" }, disband_group = { "group" },
  join_group = { "group", "user" }, leave_group = { "group", "user" },
  add_friend = { "user", "peer" }, remove_friend = { "user", "peer" },
  change_edition = { "edition" },
}
--- The actions an event may name, each with the fields it needs.  For
-- example `ACTIONS.create_group` is `{ "group", "type" }`.
M.ACTIONS = ACTIONS
local ACTION_NAMES = {}
for a in next, ACTIONS do ACTION_NAMES[#ACTION_NAMES + 1] = a end
table.sort(ACTION_NAMES)
local COLUMN_NAMES = { "time", "action", "user", "group", "peer", "type", "edition", "id", "one_way" }
-- the spellings of one_way: a JSON boolean, or CSV text
local ONE_WAY = { [true] = true, [false] = false, ["true"] = true, ["false"] = false, ["1"] = true, ["0"] = false,
                  [""] = false }
local COLUMNS = {}
for _, c in ipairs(COLUMN_NAMES) do COLUMNS[c] = true end

-- The meter's own bounds (the core's), so that strict mode finds before
-- applying anything every event the meter would raise an error for.

--- The longest id the meter takes, in bytes (1024).
M.ID_MAX = core.ID_MAX
--- The first instant the meter counts; `T_END` is the first it refuses.
-- @field T_MIN
M.T_MIN, M.T_END = core.INSTANT_MIN, core.INSTANT_END -- the first instant refused is T_END
local ID_MAX = M.ID_MAX


local function bad(field, msg, value)
  return tostring(errors.new(nil, field, msg, value == nil and errors.NOVALUE or value))
end

--- Parses an instant: whole Unix seconds, or ISO 8601 with Z or an offset
-- (-12:00 .. +14:00).  Returns the Unix seconds, or nil and a message.
-- @tparam int|string v whole seconds (a number or digits), or `"2021-03-31T17:00:00Z"`,
-- `"2021-03-31 17:00:00+08:00"`
-- @treturn ?int the Unix seconds
-- @treturn ?string the message when `v` is not an instant (`time: needs Z or an offset like +08:00, got ...`)
-- @usage replay.time("2021-03-01T00:00:00Z")  --> 1614556800
function M.time(v)
  if type(v) == "number" then
    if v ~= v or v ~= math.floor(v) then return nil, bad("time", "not whole seconds", v) end
    -- 1e20 and 2^53 + 1 are whole: what they are is past any instant, as the same digits in text are.
    -- 2^53 itself too: on LuaJIT 2^53 + 1 reads as 2^53, and both runtimes are to say the same
    if math.abs(v) >= 2 ^ 53 then return nil, bad("time", "out of range", v) end
    if math.type then v = math.tointeger(v) end
    return v
  end
  if type(v) ~= "string" then return nil, bad("time", "expected Unix seconds or an ISO 8601 instant", v) end
  if v:match("^%-?%d+$") then
    if #v > 17 then return nil, bad("time", "out of range", v) end
    local n = tonumber(v)
    if math.abs(n) >= 2 ^ 53 then return nil, bad("time", "out of range", v) end
    if math.type then n = math.tointeger(n) end
    return n
  end
  local date, h, mi, s, zone = v:match("^(%d%d%d%d%-%d%d%-%d%d)[T ](%d%d):(%d%d):(%d%d)(.*)$")
  if not date then return nil, bad("time", "malformed instant (expected Unix seconds or YYYY-MM-DDTHH:MM:SSZ)", v) end
  local ok, day = pcall(core.parse_date, date, "time")
  if not ok then return nil, tostring(day) end
  h, mi, s = tonumber(h), tonumber(mi), tonumber(s)
  if h > 23 or mi > 59 or s > 59 then return nil, bad("time", "no such time of day", v) end
  -- the zone: the core's one parser of zones (-12:00 .. +14:00, minutes below 60)
  if zone == "" then return nil, bad("time", "needs Z or an offset like +08:00", v) end
  -- "00:00:00.123Z" (what JavaScript's toISOString writes) has its zone; what
  -- it has too many of is seconds
  if zone:match("^[%.,]%d") then
    return nil, bad("time", "has a fraction of a second; give whole seconds (YYYY-MM-DDTHH:MM:SSZ)", v)
  end
  local off, why = core.parse_tz(zone)
  if not off then
    if why == "out of range" then return nil, bad("time", "offset outside -12:00 .. +14:00, minutes below 60", v) end
    return nil, bad("time", "needs Z or an offset like +08:00", v)
  end
  return day * 86400 + h * 3600 + mi * 60 + s - off
end

-- A meter argument: one imbill.meter made, still open (nil allowed when optional).
local function check_meter(fn, m, optional)
  if m == nil and optional then return end
  if not core.meter_impl.is_meter(m) then check.fail(fn, "meter", "expected a meter made by imbill.meter", m) end
  if core.meter_impl.handle(m) == nil then check.fail(fn, "meter", "the meter was closed", check.NOVALUE) end
end

local function check_id(field, v)
  if #v > ID_MAX then return bad(field, string.format("longer than %d bytes", ID_MAX), v) end
end

--- Checks one event table with the checks the meter applies; returns the
-- event normalised, or nil and a message.  Given the meter, also what needs
-- it: the edition of a change must be one of its price book's, and ev.day is
-- the billing day in its time zone.
-- @tab e the event: `{ time =, action =, user =, group =, peer =, type =, edition =, id = }`
-- @tparam[opt] Meter m the meter it is for
-- @treturn ?table the event normalised: `{ action =, time = seconds, ... , day = }` (`day` with a meter)
-- @treturn ?string the message when the event is malformed, naming its field
-- (`action: unknown action (known: ...)`, `user: required for login`, ...)
-- @raise `imbill.replay.event: meter: expected a meter made by imbill.meter` for a `m` that is not one
function M.event(e, m)
  check_meter(FN_EVENT, m, true)
  if type(e) ~= "table" then return nil, bad("event", "expected a table", e) end
  local action = e.action
  if type(action) ~= "string" or not ACTIONS[action] then
    return nil, bad("action", "unknown action (known: " .. table.concat(ACTION_NAMES, ", ") .. ")", action)
  end
  local unknown
  for k in next, e do
    if not COLUMNS[k] and (unknown == nil or tostring(k) < tostring(unknown)) then unknown = k end
  end
  if unknown ~= nil then
    return nil, bad("field", "unknown field (known: " .. table.concat(COLUMN_NAMES, ", ") .. ")", tostring(unknown))
  end
  local t, terr = M.time(e.time)
  if not t then return nil, terr end
  if t < M.T_MIN or t >= M.T_END then
    return nil, bad("time", string.format("outside the instants the meter counts (years %d..%d, a day inside"
      .. " either end)", core.MIN_YEAR, core.MAX_YEAR), e.time)
  end
  local ev = { action = action, time = t }
  for _, f in ipairs(ACTIONS[action]) do
    local v = e[f]
    if type(v) ~= "string" or v == "" then return nil, bad(f, "required for " .. action, v) end
    local idv = f ~= "edition" and f ~= "type" and check_id(f, v)
    if idv then return nil, idv end
    ev[f] = v
  end
  if ev.type then
    local ok, g = pcall(books.group_type, ev.type, FN, "type")
    if not ok then
      return nil, errors.is(g) and bad("type", g.msg, g.value) or tostring(g)
    end
    ev.type = g
  end
  if ev.peer and ev.peer == ev.user then return nil, bad("peer", "a user cannot be their own friend", ev.peer) end
  if e.one_way ~= nil then
    local w = ONE_WAY[e.one_way]
    if w == nil then return nil, bad("one_way", "expected true, false, 1, 0 or empty", e.one_way) end
    if w then
      if not ev.peer then return nil, bad("one_way", "only for add_friend and remove_friend", e.one_way) end
      ev.one_way = true
    end
  end
  if e.id ~= nil and e.id ~= "" then
    if type(e.id) ~= "string" then return nil, bad("id", "expected a string", e.id) end
    local idv = check_id("id", e.id)
    if idv then return nil, idv end
    ev.id = e.id
  end
  if m ~= nil then
    if ev.edition then
      local book = m:book()
      local ok, ed = pcall(book.edition, book, ev.edition)
      if not ok then return nil, errors.is(ed) and bad("edition", ed.msg, ed.value) or tostring(ed) end
    end
    local ok, day = pcall(core.day_of, t, require("imbill.core").meter_impl.offset(m), "time")
    if not ok then return nil, tostring(day) end
    ev.day = day
  end
  return ev
end

-- Sources ---------------------------------------------------------------------
-- A source reads one log: src:next() -> line, event | line, nil, message |
-- nil at the end.  A message with stop = true ends the log (broken CSV
-- quoting, an over-long CSV line): nothing after it is read.  A failed read
-- raises an error object of kind "io".  src:close() may be called at any time.

--
-- With limit, only the first limit bytes of the file are read: a strict run's
-- later passes read what its first pass checked, never lines appended since
-- (a log still being written).  src.bytes is how far the file was read when
-- it was closed (nil when it cannot tell).
--
-- With handle (an open file), that file is read from its start and left open:
-- a strict run's passes read the one file its check read, even when another
-- is renamed over the path meanwhile (a log rotated).
local function open_source(fn, path, format, m, name, limit, handle)
  local function read_error(line, errno)
    return files.error(fn, "path", "cannot read line " .. line, name, errno)
  end
  local f = handle
  if f then
    f:seek("set", 0)
  else
    local code
    f, code = files.open(path)
    if not f then error(files.error(fn, "path", "cannot open", path, code), 0) end
  end
  local src = { f = f }
  function src.close()
    if src.f then
      src.bytes = src.f:seek("cur")
      if not handle then src.f:close() end
      src.f = nil
    end
  end
  if limit then
    local file, left = f, limit
    f = { read = function(_, n)
      if left <= 0 then return nil end
      local chunk, err, c = file:read(math.min(n, left))
      if chunk then left = left - #chunk end
      return chunk, err, c
    end }
  end

  if format == "jsonl" then
    local dkjson, jerr = json.module(fn, "format")
    if not dkjson then
      src.close()
      error(jerr, 0)
    end
    -- a JSON line ends at its line break, quoted or not: past an over-long
    -- line the next one is still an event, so the log goes on (CSV cannot:
    -- a quoted field may hold line breaks)
    local lines = files.lines(f, csv.MAX_RECORD, true)
    local n = 0
    function src.next()
      while src.f do
        local line, code2 = lines()
        if line == false then
          if code2 == false then
            n = n + 1
            return n, nil, string.format("a line longer than %d bytes", csv.MAX_RECORD)
          end
          src.close()
          if code2 == "endless" then
            error(errors.new(fn, "path", string.format("line %d runs on past %d bytes without a line break: not a"
              .. " log of lines", n, files.SKIP_MAX), name), 0)
          end
          error(read_error(n + 1, code2), 0)
        end
        if line == nil then
          src.close()
          return nil
        end
        n = n + 1
        if n == 1 then line = files.strip_bom(line) end
        -- only the file's first bytes may carry a byte order mark: one opening a later line (or a second one on
        -- the first) is not space, where json.decode let each line's own text start with one
        if line:sub(1, 3) == "\239\187\191" then
          return n, nil, "a byte order mark (only the file's first bytes may carry one)"
        end
        if not line:match("^%s*$") and not line:match("^%s*#") then
          local v, kind = json.decode(dkjson, line)
          -- a line "null" decodes to nil too: it is JSON, only not an event
          if v == nil and kind ~= "null" then return n, nil, kind end
          if kind ~= "object" then return n, nil, "expected a JSON object, got a JSON " .. kind end
          if type(v.time) == "number" and math.type then v.time = math.tointeger(v.time) or v.time end
          return n, M.event(v, m)
        end
      end
      return nil
    end
    return src
  end

  local reader = csv.reader(f)
  local header
  function src.next()
    while src.f do
      local fields, n, quoted = reader:read()
      if fields == false then
        src.close()
        if n.errno then error(read_error(n.line, n.errno), 0) end
        -- a line over the size bound has no column to name
        return n.line, nil, (n.column and string.format("column %d: ", n.column) or "") .. n.message
          .. "; the rest of the log is not read", true
      end
      if fields == nil then
        src.close()
        return nil
      end
      if not header then
        local names = {}
        for i, c in ipairs(fields) do
          names[i] = fmt.trim(c)
          if not COLUMNS[names[i]] then
            src.close()
            error(errors.new(fn, name .. ":" .. n, string.format("header: column %d: unknown column (known: %s)", i,
              table.concat(COLUMN_NAMES, ", ")), names[i]), 0)
          end
        end
        local index, again, first = csv.index(names)
        if not index then
          src.close()
          error(errors.new(fn, name .. ":" .. n, string.format("header: column %d: column %q appears twice (also"
            .. " column %d)", again, names[again], first), check.NOVALUE), 0)
        end
        header = names
      else
        if #fields ~= #header then
          return n, nil, string.format("expected %d fields (%s), got %d", #header, table.concat(header, ","),
            #fields)
        end
        local e = {}
        for i, c in ipairs(header) do
          local v = fields[i]
          -- a value is read byte for byte, so " alice" would be a user of
          -- her own: a space at either end of an unquoted value is taken
          -- for a slip (a space after a comma), and a quoted one as meant
          if v ~= "" and not (quoted and quoted[i]) and (find(v, "^%s") or find(v, "%s$")) then
            return n, nil, bad(c, "has a space at its start or end; values are read byte for byte: write it "
              .. "without, or quote the field to keep it", v)
          end
          if v ~= "" then e[c] = v end
        end
        return n, M.event(e, m)
      end
    end
    return nil
  end
  return src
end

local function format_of(fn, path, format)
  if format == nil then
    if path:match("%.jsonl$") or path:match("%.ndjson$") or path:match("%.json$") then return "jsonl" end
    if path:match("%.csv$") then return "csv" end
    check.fail(fn, "format", "cannot tell from the file name; give \"csv\" or \"jsonl\"", path)
  end
  if format ~= "csv" and format ~= "jsonl" then check.fail(fn, "format", "expected \"csv\" or \"jsonl\"", format) end
  return format
end

--- Iterates the events of a file:
-- `for line_no, event_or_nil, err in events(path [, format [, meter]])`.  With the meter, events are checked
-- against it too (`replay.event`).  A line that cannot be read as an event
-- gives nil and the message; broken CSV quoting or an over-long CSV line ends the
-- log with a last message (an over-long JSON line is one malformed line, and the log goes on).
-- @string path the log file
-- @string[opt] format `"csv"` or `"jsonl"` (default: from the file name: `.csv`; `.jsonl`, `.ndjson`, `.json`)
-- @tparam[opt] Meter m the meter the events are for
-- @treturn function the iterator: each call gives `line, event` or `line, nil, message`, then nil
-- @raise `imbill.replay.events: path: cannot open ...` (kind `"io"`), `format: ...`,
-- a header naming an unknown column; a failed read later raises an error of kind `"io"`
function M.events(path, format, m)
  check.string(FN_EVENTS, "path", path)
  check_meter(FN_EVENTS, m, true)
  local src = open_source(FN_EVENTS, path, format_of(FN_EVENTS, path, format), m, path)
  return function()
    local n, ev, e = src.next()
    return n, ev, e
  end
end

local ONE_WAY_OPTS = { one_way = true }

--- Applies one normalised event; returns the meter's answer.
-- @tparam Meter m the meter
-- @tab ev an event as `event` returns it
-- @treturn boolean the meter's answer: `true` when counted or allowed, `false` when refused
-- @treturn[opt] string|table `"unchanged"`, `"duplicate"` or the refusal
-- @raise `imbill.replay.apply: event.action: unknown action ...`, or the meter method's error
function M.apply(m, ev)
  check_meter(FN_APPLY, m)
  check.table(FN_APPLY, "event", ev)
  local a = rawget(ev, "action")
  if type(a) ~= "string" or not ACTIONS[a] then
    check.fail(FN_APPLY, "event.action", "unknown action (known: " .. table.concat(ACTION_NAMES, ", ") .. ")", a)
  end
  if a == "login" or a == "create_account" or a == "delete_account" then return m[a](m, ev.user, ev.time, ev.id) end
  if a == "create_group" then return m:create_group(ev.group, ev.type, ev.time, ev.id) end
  if a == "disband_group" then return m:disband_group(ev.group, ev.time, ev.id) end
  if a == "join_group" or a == "leave_group" then return m[a](m, ev.group, ev.user, ev.time, ev.id) end
  if a == "add_friend" or a == "remove_friend" then
    return m[a](m, ev.user, ev.peer, ev.time, ev.id, ev.one_way and ONE_WAY_OPTS or nil)
  end
  return m:change_edition(ev.edition, ev.time, ev.id)
end

local OPTS = { path = true, format = true, book = true, edition = true, tz = true, strict = true, meter = true,
               addons = true, same_day_disbands = true, name = true }

--- The most malformed lines, and the most refusals, a report lists (1000 of
-- each); `report.malformed` and `report.refused` count them all.  A log of
-- a few million garbage lines held a message for each, and a replay of 6 MB
-- took 1.7 GB.
M.REPORT_MAX = 1000
local REPORT_MAX = M.REPORT_MAX

local function new_report()
  return { lines = 0, events = 0, duplicates = 0, refused = 0, malformed = 0, errors = {}, refusals = {},
           months = {} }
end

local function add_error(report, line, message)
  report.malformed = report.malformed + 1
  if #report.errors < REPORT_MAX then report.errors[#report.errors + 1] = { line = line, message = message } end
end

-- Nothing counted: the counts of a strict run that found an error.
local function uncounted(report)
  report.events, report.duplicates, report.refused, report.refusals, report.months = 0, 0, 0, {}, {}
  return nil, report
end

-- One pass over the log applying each good event to m.  With stop_at_error
-- the pass ends at the first error and returns false.
local function apply_pass(m, o, report, stop_at_error)
  local src = open_source(FN, o.path, o.format, m, o.name, o.limit, o.handle)
  local seen = {}
  local ok, result = pcall(function()
    while true do
      local n, ev, e = src.next()
      if n == nil then return true end
      report.lines = n
      if not ev then
        add_error(report, n, e)
        if stop_at_error then return false end
      else
        local applied, a, b = pcall(M.apply, m, ev)
        if not applied then
          add_error(report, n, tostring(a))
          if stop_at_error then return false end
        else
          report.events = report.events + 1
          if a == true and b == "duplicate" then
            report.duplicates = report.duplicates + 1
          elseif a == false then
            report.refused = report.refused + 1
            if #report.refusals < REPORT_MAX then
              report.refusals[#report.refusals + 1] = { line = n, code = b.code, limit = b.limit, message = b.message }
            end
          end
          -- an event refused for its date (closed: too late; future: too far
          -- ahead) names a month the meter does not count: listed, a stray
          -- 1970 login made the command bill 1970-01 a plan fee
          local off_calendar = a == false and (b.code == "closed" or b.code == "future")
          local month = core.format_month(core.month_of_day(ev.day))
          if not off_calendar and not seen[month] then
            seen[month] = true
            report.months[#report.months + 1] = month
          end
        end
      end
    end
  end)
  src.close()
  if not ok then error(result, 0) end
  -- a log cut short after its check (truncated by a rotation) would count
  -- less than was checked, and strict would say all of it counted
  if result and o.limit and src.bytes and src.bytes < o.limit then
    error(errors.new(FN, "path", string.format("the log is shorter than when it was checked (%d bytes, now %d):"
      .. " it changed during the replay", o.limit, src.bytes), o.name), 0)
  end
  table.sort(report.months)
  return result
end

-- A meter of the same state as m (saved and loaded back), for a strict run
-- to rehearse on.
local function scratch_copy(m)
  local meter = require "imbill.meter"
  local tmp = os.tmpname()
  local ok, c = pcall(function()
    m:save(tmp)
    return meter.load(tmp, { book = m:book() })
  end)
  os.remove(tmp)
  if not ok then
    error(errors.rename(c, FN, "meter"), 0)
  end
  return c
end

local strict_passes, strict_on

-- When path cannot be read from its start a second time (seek fails: a pipe
-- or a FIFO), its bytes copied to a temporary file, whose path is returned;
-- nil for a file that can be read again.  name is how errors call path.
local function once_only(path, name)
  -- a look, not a pass: what cannot be opened is the check pass's to report
  -- (a directory opens, and seeks, here)
  local f = io.open(path, "rb")
  if not f then return nil end
  if f:seek("cur") ~= nil then
    f:close()
    return nil
  end
  local tmp = os.tmpname()
  local out, _, wcode = io.open(tmp, "wb")
  local failed
  if not out then failed = files.error(FN, "path", "cannot write the copy of the log", tmp, wcode) end
  while not failed do
    local chunk, err, rcode = f:read(files.CHUNK)
    if chunk == nil then
      if err ~= nil then failed = files.error(FN, "path", "cannot read", name, rcode or 0) end
      break
    end
    local ok, _, c = out:write(chunk)
    if not ok then failed = files.error(FN, "path", "cannot write the copy of the log", tmp, c or 0) end
  end
  f:close()
  if out then
    local closed, _, ccode = out:close()
    if not closed and not failed then
      failed = files.error(FN, "path", "cannot write the copy of the log", tmp, ccode)
    end
  end
  if failed then
    os.remove(tmp)
    error(failed, 0)
  end
  return tmp
end

--- Replays a log of events into a meter.
--
-- `replay.run{ path =, format = "csv"|"jsonl"|nil, book =, edition =, tz =, strict =, meter =, name = }`
-- `-> meter, report`.  `report = { lines =, events =, duplicates =, refused =, malformed =,`
-- `errors = { { line =, message = } }, refusals = { { line =, code =, limit =, message = } },`
-- `months = { "YYYY-MM", ... } }`.  `errors` and `refusals` list the first `REPORT_MAX` (1000) of each;
-- `malformed` and `refused` count them all.  `months` are those of the events applied, sorted, but for
-- an event refused for its date (`"closed"`, `"future"`): the meter counts nothing in its month.
-- `name` is how messages call the file (default: `path`).
--
-- strict = true is all or nothing: when any event is malformed or raises an
-- error in the meter, nothing counts and run returns nil, report.  Every
-- event is first checked with the meter's own checks (bounds of ids and
-- instants, group types, the editions of its book); then the log is applied
-- where a failure leaves nothing behind: to the meter run makes, which is
-- dropped on an error, or, for a meter passed in, to a copy of it first (a
-- rehearsal), and only when the copy took the whole log, to the meter itself.
-- Each pass after the check reads only the bytes the check read, of the file
-- the check opened: lines appended to the log meanwhile (a logger still
-- writing it) are left out, a file renamed over the path is not read, and a
-- log cut short is an error.
--
-- Without `strict`, a malformed line is reported in `report.errors` with its
-- line number and the rest counts.  A refused event is an answer: it is in
-- `report.refusals`, not an error.
-- @tab o the replay:
-- @string o.path the log file
-- @string[opt] o.format `"csv"` or `"jsonl"` (default: from the file name)
-- @tparam[opt] Meter o.meter the meter to count into, or
-- @tparam[opt] string|Book o.book a book, with `edition` (and `tz`, `addons`,
-- `same_day_disbands`), for a new meter as `imbill.meter` makes it
-- @bool[opt=false] o.strict all or nothing
-- @string[opt] o.name how messages call the file
-- @treturn ?Meter the meter, nil when a strict run found an error
-- @treturn table the report
-- @raise `imbill.replay.run: meter: give a meter, or book and edition to make one`, `path: ...`
-- (kind `"io"`), `format: ...`, the new meter's errors
-- @usage local m, report = imbill.replay.run{ path = "examples/events.csv", book = "2020",
--                                          edition = "pro", strict = true }
-- print(report.events, report.duplicates, #report.refusals)  --> 28  1  1
function M.run(o)
  o = check.fields(FN, o, OPTS)
  check.string(FN, "path", o.path)
  local format = format_of(FN, o.path, o.format)
  if o.strict ~= nil and type(o.strict) ~= "boolean" then check.fail(FN, "strict", "expected a boolean", o.strict) end
  if o.name ~= nil then check.string(FN, "name", o.name) end
  local m = o.meter
  local own = m == nil
  if own then
    if o.book == nil or o.edition == nil then
      check.fail(FN, "meter", "give a meter, or book and edition to make one", check.NOVALUE)
    end
    m = errors.call(FN, nil, require("imbill.meter").new, { book = o.book, edition = o.edition, tz = o.tz,
      addons = o.addons, same_day_disbands = o.same_day_disbands })
  else
    check_meter(FN, m)
  end
  local opts = { path = o.path, format = format, name = o.name or o.path }
  local report = new_report()
  if not o.strict then
    apply_pass(m, opts, report, false)
    return m, report
  end

  -- a log that cannot be read twice (a pipe, a FIFO, <(command)) is copied
  -- first: the second pass found a pipe drained and counted nothing, saying
  -- 0 events, and waited on a FIFO for a writer that never came
  local copy = once_only(o.path, opts.name)
  if copy then
    opts.path = copy
    local done, a, b = pcall(strict_passes, m, own, opts, format)
    os.remove(copy)
    if not done then error(a, 0) end
    return a, b
  end
  return strict_passes(m, own, opts, format)
end

-- The strict passes over opts.path: check, then apply (rehearsed on a copy
-- of a meter passed in).
function strict_passes(m, own, opts, format)
  local f, code = files.open(opts.path)
  if not f then error(files.error(FN, "path", "cannot open", opts.path, code), 0) end
  opts.handle = f
  local done, a, b = pcall(strict_on, m, own, opts, format)
  f:close()
  if not done then error(a, 0) end
  return a, b
end

function strict_on(m, own, opts, format)
  local report = new_report()
  -- check everything; report every malformed event
  local src = open_source(FN, opts.path, format, m, opts.name, nil, opts.handle)
  local ok, e = pcall(function()
    while true do
      local n, ev, msg = src.next()
      if n == nil then return end
      report.lines = n
      if not ev then add_error(report, n, msg) end
    end
  end)
  src.close()
  if not ok then error(e, 0) end
  if #report.errors > 0 then return uncounted(report) end
  -- the passes that count read the bytes checked here, whatever is appended
  opts.limit = src.bytes

  local target = own and m or scratch_copy(m)
  report = new_report()
  if not apply_pass(target, opts, report, true) then return uncounted(report) end
  if own then return m, report end
  -- the copy took the whole log: the same log on the same state gives the same answers
  local final = new_report()
  if not apply_pass(m, opts, final, true) then
    error(errors.new(FN, "meter", string.format("line %d failed after the rehearsal passed (%s); the meter holds"
      .. " part of the log", final.lines, final.errors[1] and final.errors[1].message or "?"), check.NOVALUE), 0)
  end
  return m, final
end

return M
