--- imbill.replay: feed a log of events through a meter.
--
--   local meter, report = replay.run{ path = "events.csv", book = "2020", edition = "pro" }
--   local inv = imbill.invoice(meter:usage("2021-03"))
--
-- One event a line, CSV (with a header line naming the columns) or JSON lines.
-- Fields (docs/meter.md, "Event logs"):
--   time    Unix seconds, or "YYYY-MM-DDTHH:MM:SSZ" / "...+08:00"
--   action  create_account delete_account login create_group disband_group
--           join_group leave_group add_friend remove_friend change_edition
--   user    accounts, login, join/leave, friends
--   group   create/disband/join/leave
--   peer    add_friend/remove_friend: the other user
--   type    create_group: Private (Work), Public, ChatRoom (Meeting), AVChatRoom,
--           BChatRoom, Community
--   edition change_edition: the new edition
--   id      optional event id: a replayed id is counted once
-- Blank lines and lines starting with # are skipped.
local core = require "imbill.core"
local check = require "imbill.internal.check"
local csv = require "imbill.internal.csv"
local books = require "imbill.book"

local M = {}
local FN = "imbill.replay"

local ACTIONS = {
  create_account = { "user" }, delete_account = { "user" }, login = { "user" },
  create_group = { "group", "type" }, disband_group = { "group" },
  join_group = { "group", "user" }, leave_group = { "group", "user" },
  add_friend = { "user", "peer" }, remove_friend = { "user", "peer" },
  change_edition = { "edition" },
}
M.ACTIONS = ACTIONS
local COLUMNS = { time = true, action = true, user = true, group = true, peer = true, type = true,
                  edition = true, id = true }

--- Parses an instant: whole Unix seconds, or ISO 8601 with Z or an offset.
function M.time(v)
  if type(v) == "number" then
    if v ~= math.floor(v) or v ~= v or math.abs(v) > 2 ^ 53 then return nil, "time: not whole seconds" end
    return v
  end
  if type(v) ~= "string" then return nil, "time: expected Unix seconds or an ISO 8601 instant" end
  if v:match("^%-?%d+$") then
    local n = tonumber(v)
    if math.abs(n) > 2 ^ 53 then return nil, "time: out of range: " .. v end
    if math.type then n = math.tointeger(n) end
    return n
  end
  local date, h, mi, s, zone = v:match("^(%d%d%d%d%-%d%d%-%d%d)[T ](%d%d):(%d%d):(%d%d)(.*)$")
  if not date then return nil, "time: malformed instant " .. string.format("%q", v) end
  local ok, day = pcall(core.parse_date, date, "time")
  if not ok then return nil, tostring(day) end
  h, mi, s = tonumber(h), tonumber(mi), tonumber(s)
  if h > 23 or mi > 59 or s > 59 then return nil, "time: no such time of day in " .. string.format("%q", v) end
  local off = 0
  if zone ~= "Z" then
    local sign, zh, zm = zone:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil, "time: instant " .. string.format("%q", v) .. " needs Z or an offset like +08:00" end
    off = tonumber(zh) * 3600 + tonumber(zm) * 60
    if sign == "-" then off = -off end
  end
  return day * 86400 + h * 3600 + mi * 60 + s - off
end

--- Checks one event table; returns the event normalised, or nil, message.
function M.event(e)
  local action = e.action
  if type(action) ~= "string" or not ACTIONS[action] then
    return nil, "action: unknown action " .. check.show(action)
  end
  for k in pairs(e) do
    if not COLUMNS[k] then return nil, tostring(k) .. ": unknown field" end
  end
  local t, terr = M.time(e.time)
  if not t then return nil, terr end
  local ev = { action = action, time = t }
  for _, f in ipairs(ACTIONS[action]) do
    local v = e[f]
    if type(v) ~= "string" or v == "" then return nil, f .. ": required for " .. action .. ", got " .. check.show(v) end
    ev[f] = v
  end
  if ev.type then
    local ok, g = pcall(books.group_type, ev.type, FN, "type")
    if not ok then return nil, (tostring(g):gsub("^" .. FN .. ": ", "")) end
    ev.type = g
  end
  if ev.peer and ev.peer == ev.user then return nil, "peer: a user cannot be their own friend" end
  if e.id ~= nil and e.id ~= "" then
    if type(e.id) ~= "string" then return nil, "id: expected a string, got " .. check.show(e.id) end
    ev.id = e.id
  end
  return ev
end

local function json_decoder()
  local ok, dkjson = pcall(require, "dkjson")
  if not ok then error(FN .. ": format: JSON lines need the dkjson module (lua-dkjson)", 0) end
  return function(line)
    local v, _, err = dkjson.decode(line, 1, nil)
    if err then return nil, "malformed JSON: " .. err end
    if type(v) ~= "table" then return nil, "expected a JSON object" end
    if v.time ~= nil and type(v.time) == "number" and math.type then v.time = math.tointeger(v.time) or v.time end
    return v
  end
end

--- Iterates the events of a file: for line_no, event_or_nil, err in events(path, format).
function M.events(path, format)
  local f, oerr = io.open(path, "r")
  if not f then error(FN .. ": path: cannot open: " .. tostring(oerr), 0) end
  local decode = format == "jsonl" and json_decoder() or nil
  local header
  local n = 0
  return function()
    while true do
      local line = f:read("*l")
      if not line then
        f:close()
        return nil
      end
      n = n + 1
      line = line:gsub("\r$", "")
      if not line:match("^%s*$") and not line:match("^%s*#") then
        if decode then
          local v, err = decode(line)
          if not v then return n, nil, err end
          local ev, e2 = M.event(v)
          return n, ev, e2
        end
        local fields, col, why = csv.split(line)
        if not fields then return n, nil, string.format("column %d: %s", col, why) end
        if not header then
          header = {}
          for i, name in ipairs(fields) do
            name = require("imbill.internal.fmt").trim(name)
            if not COLUMNS[name] then
              f:close()
              error(FN .. ": " .. path .. ":" .. n .. ": header: unknown column " .. string.format("%q", name), 0)
            end
            header[i] = name
          end
        else
          if #fields ~= #header then
            return n, nil, string.format("expected %d fields (%s), got %d", #header, table.concat(header, ","), #fields)
          end
          local e = {}
          for i, name in ipairs(header) do
            if fields[i] ~= "" then e[name] = fields[i] end
          end
          local ev, e2 = M.event(e)
          return n, ev, e2
        end
      end
    end
  end
end

--- Applies one normalised event; returns the meter's answer.
function M.apply(m, ev)
  local a = ev.action
  if a == "login" or a == "create_account" or a == "delete_account" then return m[a](m, ev.user, ev.time, ev.id) end
  if a == "create_group" then return m:create_group(ev.group, ev.type, ev.time, ev.id) end
  if a == "disband_group" then return m:disband_group(ev.group, ev.time, ev.id) end
  if a == "join_group" or a == "leave_group" then return m[a](m, ev.group, ev.user, ev.time, ev.id) end
  if a == "add_friend" or a == "remove_friend" then return m[a](m, ev.user, ev.peer, ev.time, ev.id) end
  return m:change_edition(ev.edition, ev.time, ev.id)
end

local OPTS = { path = true, format = true, book = true, edition = true, tz = true, strict = true, meter = true,
               addons = true, same_day_disbands = true }

--- replay.run{ path =, format = "csv"|"jsonl"|nil, book =, edition =, tz =, strict =, meter = }
-- -> meter, report.  report = { lines =, events =, duplicates =, refused =, errors = { { line =, message = } },
-- refusals = { { line =, code =, limit =, message = } }, months = { "YYYY-MM", ... } }.
-- With strict = true a malformed line means nothing counts: nil, report.
function M.run(o)
  check.fields(FN, o, OPTS)
  check.string(FN, "path", o.path)
  local format = o.format
  if format == nil then
    if o.path:match("%.jsonl$") or o.path:match("%.ndjson$") or o.path:match("%.json$") then format = "jsonl"
    elseif o.path:match("%.csv$") then format = "csv"
    else check.fail(FN, "format", "cannot tell from the file name; give \"csv\" or \"jsonl\"", o.path) end
  end
  if format ~= "csv" and format ~= "jsonl" then check.fail(FN, "format", "expected \"csv\" or \"jsonl\"", format) end
  if o.strict ~= nil and type(o.strict) ~= "boolean" then check.fail(FN, "strict", "expected a boolean", o.strict) end
  local m = o.meter
  if m == nil then
    if o.book == nil or o.edition == nil then
      check.fail(FN, "meter", "give a meter, or book and edition to make one", check.NOVALUE)
    end
    m = require("imbill.meter").new{ book = o.book, edition = o.edition, tz = o.tz, addons = o.addons,
                                      same_day_disbands = o.same_day_disbands }
  elseif getmetatable(m) == nil or getmetatable(m).__name ~= "imbill.Meter" then
    check.fail(FN, "meter", "expected a meter made by imbill.meter", m)
  end
  local report = { lines = 0, events = 0, duplicates = 0, refused = 0, errors = {}, refusals = {}, months = {} }
  local function err(line, msg) report.errors[#report.errors + 1] = { line = line, message = msg } end

  if o.strict then
    -- first pass: nothing is applied unless every line is good
    for n, ev, e in M.events(o.path, format) do
      report.lines = n
      if not ev then err(n, e) end
    end
    if #report.errors > 0 then return nil, report end
  end
  local seen_months = {}
  local offset = require("imbill.core").meter_impl.offset(m)
  for n, ev, e in M.events(o.path, format) do
    report.lines = n
    if not ev then
      err(n, e)
    else
      local ok, a, b = pcall(M.apply, m, ev)
      if not ok then
        err(n, tostring(a))
      else
        report.events = report.events + 1
        if a == true and b == "duplicate" then
          report.duplicates = report.duplicates + 1
        elseif a == false then
          report.refused = report.refused + 1
          report.refusals[#report.refusals + 1] = { line = n, code = b.code, limit = b.limit, message = b.message }
        end
        local month = core.format_month(core.month_of_day(core.day_of(ev.time, offset)))
        if not seen_months[month] then
          seen_months[month] = true
          report.months[#report.months + 1] = month
        end
      end
    end
  end
  table.sort(report.months)
  if o.strict and #report.errors > 0 then return nil, report end
  return m, report
end

return M
