--- imbill.meter: in-process quota metering (SPEC section 3).
--
--   local m = imbill.meter{ book = "2020", edition = "trial" }   -- tz = "+08:00" optional
--   local ok, refusal = m:create_account("u1", t)                -- t: Unix seconds
--
-- Every action method takes an optional event id as its last argument; a
-- replayed id is ignored (returns true, "duplicate").  A quota refusal returns
-- false, refusal with refusal = { code =, limit =, max =, current =, message =,
-- action =, edition =, day = }.  Bad input raises an error naming the field.
-- The counting happens in the C core (src/meter*.c); this file adds what needs
-- price books: editions and their limits, usage for imbill.invoice, save/load.
-- docs/meter.md is the full reference.
local core = require "imbill.core"
local check = require "imbill.internal.check"
local books = require "imbill.book"
local dates = require "imbill.internal.dates"

local M = {}
local FN = "imbill.meter"
local Meter = core.Meter
M.Meter = Meter
M.DEDUP_DAYS = core.METER_DEDUP_DAYS

-- Lua-side data of each meter (its book object and add-ons per edition
-- segment); weak keys so a dropped meter is collected with its entry.
local INFO = setmetatable({}, { __mode = "k" })

local FLAT_LIMITS = { "accounts", "friends_per_user", "groups_per_user", "av_groups", "non_av_groups",
                      "daily_net_groups", "bchatroom_daily", "bchatroom_total" }

--- The limits the meter enforces for an edition: its own, raised by add-ons
-- (book:addon(id).raises[limit][edition], false meaning unlimited).
function M.limits(book, ed, addons, same_day)
  local out = { same_day_disbands = same_day == true }
  for _, k in ipairs(FLAT_LIMITS) do out[k] = ed.limits[k] end
  local members = {}
  for _, g in ipairs(books.GROUP_TYPES) do members[g] = ed:members_limit(g) end
  for _, id in ipairs(addons or {}) do
    for limit, per in pairs(book:addon(id).raises) do
      local v = per[ed.id]
      if v ~= nil then
        if limit == "members_per_group" then
          for g in pairs(books.NON_AV) do
            local x = v
            if type(v) == "table" then x = v[g] end
            if x ~= nil then members[g] = x or nil end
          end
        elseif out[limit] ~= nil or ed.limits[limit] == nil then
          out[limit] = v or nil
        end
      end
    end
  end
  out.members = members
  return out
end

local function check_addons(fn, book, ed, addons)
  if addons == nil then return {} end
  check.table(fn, "addons", addons)
  local out = {}
  for i, id in ipairs(addons) do
    local a = check.call(fn, book.addon, book, id)
    if not a.fee[ed.id] then
      check.fail(fn, "addons[" .. i .. "]", string.format("add-on %s is not sold for edition %s", id, ed.id), id)
    end
    out[#out + 1] = id
  end
  return out
end

local OPTS = { book = true, edition = true, tz = true, addons = true, activated = true, same_day_disbands = true }

--- imbill.meter{ book =, edition =, tz =, addons =, activated =, same_day_disbands = }
function M.new(o)
  check.fields(FN, o, OPTS)
  if o.book == nil then check.fail(FN, "book", "is required (a price book name or object)", check.NOVALUE) end
  local book = check.call(FN, books.get, o.book)
  if o.edition == nil then
    check.fail(FN, "edition", "is required (one of: " .. table.concat(book:editions(), ", ") .. ")", check.NOVALUE)
  end
  local ed = check.call(FN, book.edition, book, o.edition)
  local offset = o.tz == nil and book.offset or check.call(FN, dates.tz_offset, o.tz, "tz")
  if o.same_day_disbands ~= nil and type(o.same_day_disbands) ~= "boolean" then
    check.fail(FN, "same_day_disbands", "expected a boolean", o.same_day_disbands)
  end
  local addons = check_addons(FN, book, ed, o.addons)
  local m = core.meter_new(offset, book.name, ed.id, M.limits(book, ed, addons, o.same_day_disbands), ed.free)
  INFO[m] = { book = book, addons = { addons }, same_day = o.same_day_disbands == true }
  if o.activated ~= nil then
    check.call(FN, dates.day, o.activated, "activated")
    if ed.free then check.fail(FN, "activated", "is the first activation of a paid edition, but " .. ed.id
      .. " is free", o.activated) end
    m:_activated(o.activated)
  end
  return m
end

setmetatable(M, { __call = function(_, o) return M.new(o) end })

local function info(m)
  local i = INFO[m]
  if not i then error("meter: not a meter made by imbill.meter", 0) end
  return i
end

--- The price book and edition in force at instant t (now: the latest).
function Meter:edition(t)
  local segs = self:_segments()
  local s = segs[#segs]
  if t ~= nil then
    for i = #segs, 1, -1 do
      s = segs[i]
      if s.from == nil or s.from <= t then break end
    end
  end
  return info(self).book:edition(s.edition)
end

function Meter:book() return info(self).book end

local CHANGE_CODES = {
  twice = { "one_change_per_month", "one edition change per calendar month: %s already has one" },
  backwards = { "out_of_order", "edition changes must come in time order: the last one is later than %s" },
  same = { "same_edition", "edition %s is already in force" },
}

--- m:change_edition(id, t [, event_id]) -> true | false, refusal
-- Limits of the new edition apply to actions at or after t; nothing already
-- counted is undone.  Refusal codes (Tencent has none for these):
-- "one_change_per_month", "no_return_to_free", "same_edition", "out_of_order".
function Meter:change_edition(id, t, event_id)
  local fn = "meter:change_edition"
  local inf = info(self)
  local book = inf.book
  local ed = check.call(fn, book.edition, book, id)
  if event_id ~= nil then check.string(fn, "event id", event_id) end
  local segs = self:_segments()
  local last = segs[#segs]
  -- a replayed change (same edition, same instant) is a duplicate, not a refusal
  if last.edition == id and last.from == t then return true, "duplicate" end
  local cur = book:edition(last.edition)
  local day = check.call(fn, dates.day_of, t, self:_offset(), "t")
  local function refusal(code, msg)
    return false, { code = code, limit = "edition_change", action = "change_edition", edition = cur.id,
                    day = dates.format(day), message = msg }
  end
  if ed.free and not cur.free and not book.policy.return_to_free then
    return refusal("no_return_to_free", string.format("Price book %s does not allow going back to the free edition "
      .. "%s after leaving it; the app stays on %s.", book.name, ed.id, cur.id))
  end
  local addons = {}
  for _, a in ipairs(inf.addons[#segs] or {}) do
    if book:addon(a).fee[ed.id] then addons[#addons + 1] = a end
  end
  local ok, why = self:_change(t, ed.id, M.limits(book, ed, addons, inf.same_day), ed.free)
  if ok then
    inf.addons[#segs + 1] = addons
    return true
  end
  local c = CHANGE_CODES[why]
  local arg = why == "twice" and dates.format_month(dates.month_of(day)) or why == "same" and id
    or dates.format(day)
  return refusal(c[1], "Edition change refused: " .. string.format(c[2], arg) .. ".")
end

--- m:addons() -> the add-ons in force now (ids).
function Meter:addons()
  local inf = info(self)
  local out = {}
  for i, a in ipairs(inf.addons[#inf.addons] or {}) do out[i] = a end
  return out
end

--- m:usage("YYYY-MM"): the month as imbill.invoice takes it.
function Meter:usage(month)
  local fn = "meter:usage"
  local inf = info(self)
  local mo = check.call(fn, dates.month, month, "month")
  local first = dates.month_first(mo)
  local last = first + dates.month_length(mo) - 1
  local dau, groups, mau = self:_month(month)
  local segs = self:_segments()
  local at_first, change, change_seg = 1, nil, nil
  for i, s in ipairs(segs) do
    local d = s.day and dates.day(s.day) or nil
    if d == nil or d < first then at_first = i
    elseif d <= last then change, change_seg = s, i end
  end
  local book = inf.book
  local builtin = false
  for _, n in ipairs(books.BUILTIN) do if book == books.get(n) then builtin = true end end
  local u = {
    book = builtin and book.name or book, edition = segs[at_first].edition, month = dates.format_month(mo),
    dau = dau, groups = groups, mau = mau, tz = dates.format_tz(self:_offset()),
  }
  if change then u.change = { on = change.day, to = change.edition } end
  -- first paid activation: given at creation, or the first change to a paid edition
  local act = self:_activated()
  if not act and segs[1].free then
    for i = 2, #segs do
      if not segs[i].free then act = segs[i].day break end
    end
  end
  if act then
    local ad = dates.day(act)
    if ad >= first and ad <= last then u.activated = act end
  end
  local addons = inf.addons[change_seg or at_first]
  if addons and #addons > 0 then
    u.addons = {}
    for i, a in ipairs(addons) do u.addons[i] = a end
  end
  return u
end

--- The month's invoice, straight from the meter.
function Meter:invoice(month)
  return require("imbill.bill.invoice").invoice(self:usage(month))
end

-- Saving and loading -----------------------------------------------------
--
-- The Lua side's part of a saved meter is a list of typed records (the C
-- core's imb_record: a key and a string, integer or boolean value, each
-- length-prefixed in the file), so no book name, add-on id or option can be
-- read back as anything else:
--   book              string   the price book's name
--   book.builtin      boolean  a built-in book (loaded by name) or a user book
--   book:<path>       string   a user book's content, one record per value
--                              (the book given to load must have the same)
--   same_day_disbands boolean
--   addons.<i>        string   an add-on of edition segment i, in order
-- Version 2 files kept "key=value" lines instead; they are read as before.

local function is_builtin(book)
  for _, n in ipairs(books.BUILTIN) do
    if book == books.get(n) then return true end
  end
  return false
end

-- How a key of a user book's content shows in a path: identifiers as they
-- are, other strings quoted with every byte outside printable ASCII escaped
-- (the same on every runtime), so no two paths can be confused.
local function path_key(k)
  if type(k) == "number" then return "[" .. string.format("%.17g", k) .. "]" end
  if k:match("^[%a_][%w_]*$") then return "." .. k end
  return '["' .. k:gsub('[^ !#-%[%]-~]', function(c) return string.format("\\x%02x", c:byte()) end) .. '"]'
end

local function content_value(v)
  local t = type(v)
  if t == "number" then
    if v == math.huge then return "inf" elseif v == -math.huge then return "-inf" end
    if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return string.format("%d", v) end
    return string.format("%.17g", v)
  end
  if t == "string" then return '"' .. v .. '"' end
  if t == "boolean" then return tostring(v) end
  return tostring(v) -- money: its exact decimal
end

-- What a built book holds that a reader can rely on, as (path, value) pairs in
-- a fixed order; derived copies (the raw data, sort order, day numbers) left
-- out.  Two books with the same pairs price and limit every edition alike.
local CONTENT_SKIP = { name = true, _data = true, _order = true, from_day = true, to_day = true, offset = true,
                       rate = true, book = true, id = true }
local CONTENT_NAMES = { _editions = "editions", _addons = "addons" }

local function book_content(book)
  local out = {}
  local function walk(path, v)
    if type(v) ~= "table" then
      out[#out + 1] = { path, content_value(v) }
      return
    end
    local keys = {}
    for k in pairs(v) do
      if not (type(k) == "string" and CONTENT_SKIP[k]) then keys[#keys + 1] = k end
    end
    table.sort(keys, function(a, b)
      if type(a) ~= type(b) then return type(a) == "number" end
      return a < b
    end)
    if #keys == 0 then out[#out + 1] = { path, "{}" } end
    for _, k in ipairs(keys) do
      local name = type(k) == "string" and path == "" and CONTENT_NAMES[k] or k
      walk(path == "" and name or path .. path_key(name), v[k])
    end
  end
  walk("", book)
  return out
end

local function encode_meta(m)
  local inf = info(m)
  local builtin = is_builtin(inf.book)
  local recs = { { "book", inf.book.name }, { "book.builtin", builtin } }
  if not builtin then
    for _, e in ipairs(book_content(inf.book)) do recs[#recs + 1] = { "book:" .. e[1], e[2] } end
  end
  recs[#recs + 1] = { "same_day_disbands", inf.same_day == true }
  for i, list in ipairs(inf.addons) do
    for _, a in ipairs(list) do recs[#recs + 1] = { "addons." .. i, a } end
  end
  return recs
end

local function corrupt(fn, path, msg) check.fail(fn, "path", "corrupt meter file: " .. msg, path) end

-- Version 2: "key=value" lines, read as before.
local function decode_meta_v2(fn, s, path)
  local lines = {}
  for line in s:gmatch("[^\n]+") do lines[#lines + 1] = line end
  if lines[1] ~= "imbill-meter-meta 1" then corrupt(fn, path, "unknown metadata") end
  local out = { addons = {}, v2 = true }
  for i = 2, #lines do
    local k, v = lines[i]:match("^([%w_%.]+)=(.*)$")
    if not k then corrupt(fn, path, "malformed metadata") end
    local n = k:match("^addons%.(%d+)$")
    if n then
      local list = {}
      for a in v:gmatch("[^,]+") do list[#list + 1] = a end
      out.addons[tonumber(n)] = list
    elseif k == "book" then out.book = v
    elseif k == "same_day" then out.same_day = v == "true"
    end
  end
  if not out.book or out.book == "" then corrupt(fn, path, "malformed metadata (no book)") end
  return out
end

local RECORD_TYPES = { book = "string", ["book.builtin"] = "boolean", same_day_disbands = "boolean" }

local function decode_meta(fn, recs, path)
  local out = { addons = {}, content = {} }
  local seen = {}
  for i, r in ipairs(recs) do
    local k, v = r[1], r[2]
    local what = "metadata record " .. i .. " (" .. check.show(k) .. ")"
    local want = RECORD_TYPES[k]
    local seg = k:match("^addons%.([1-9]%d?%d?%d?%d?%d?)$")
    if want then
      if seen[k] then corrupt(fn, path, what .. ": appears twice") end
      seen[k] = true
    elseif seg or k:sub(1, 5) == "book:" then
      want = "string"
    else
      corrupt(fn, path, what .. ": unknown key")
    end
    if type(v) ~= want then corrupt(fn, path, what .. ": expected a " .. want .. ", has a " .. type(v)) end
    if k == "book" then out.book = v
    elseif k == "book.builtin" then out.builtin = v
    elseif k == "same_day_disbands" then out.same_day = v
    elseif seg then
      local n = tonumber(seg)
      out.addons[n] = out.addons[n] or {}
      table.insert(out.addons[n], v)
    else
      out.content[#out.content + 1] = { k:sub(6), v }
    end
  end
  if out.book == nil then corrupt(fn, path, "no metadata record names the price book") end
  if out.builtin == nil then corrupt(fn, path, "no metadata record says whether the price book is built in") end
  return out
end

-- The first difference between the content saved and the book given.
local function content_diff(saved, book)
  local now, had = {}, {}
  for _, e in ipairs(book_content(book)) do now[e[1]] = e[2] end
  for _, e in ipairs(saved) do
    local p, v = e[1], e[2]
    had[p] = true
    if now[p] == nil then return p .. " is " .. v .. " in the file and missing from this book" end
    if now[p] ~= v then return p .. " is " .. v .. " in the file and " .. now[p] .. " in this book" end
  end
  for _, e in ipairs(book_content(book)) do
    if not had[e[1]] then return e[1] .. " is " .. e[2] .. " in this book and missing from the file" end
  end
  return nil
end

--- m:save(path): the whole state, atomically (temporary file, fsync, rename).
-- Returns true, or raises an error naming the path and the reason.
-- opts (tests only): crash_after_bytes, named_temp.
function Meter:save(path, opts)
  local fn = "meter:save"
  check.string(fn, "path", path)
  if opts ~= nil then check.fields(fn, opts, { crash_after_bytes = true, named_temp = true }) end
  local ok, err = self:_save(path, encode_meta(self), opts and opts.crash_after_bytes, opts and opts.named_temp)
  if not ok then check.fail(fn, "path", err, path) end
  return true
end

--- imbill.meter.load(path [, { book = user_book }]): a saved meter, exactly.
-- A truncated, corrupt or foreign file raises an error naming the path and
-- the problem (the file's field); no meter is returned.  A meter on a user
-- book needs that book, with the same name and the same content.
function M.load(path, opts)
  local fn = FN .. ".load"
  check.string(fn, "path", path)
  if opts ~= nil then check.fields(fn, opts, { book = true }) end
  local m, recs, version = core.meter_load(path)
  if not m then check.fail(fn, "path", recs, path) end
  local d = version == 2 and decode_meta_v2(fn, recs[1][2], path) or decode_meta(fn, recs, path)
  local given = opts and opts.book ~= nil and check.call(fn, books.get, opts.book) or nil
  local book
  if d.v2 then
    -- as version 2 read them: a name, a built-in one by default
    if given then
      if given.name ~= d.book then
        check.fail(fn, "book", "the file was saved with price book " .. d.book, given.name)
      end
      book = given
    else
      local ok, b = pcall(books.get, d.book)
      if not ok then
        check.fail(fn, "book", "the file was saved with user price book " .. d.book .. "; pass it as { book = }",
          check.NOVALUE)
      end
      book = b
    end
  elseif d.builtin then
    local ok, b = pcall(books.get, d.book)
    if not ok or not is_builtin(b) then
      corrupt(fn, path, "the built-in price book " .. check.show(d.book) .. " does not exist")
    end
    if given and given ~= b then
      check.fail(fn, "book", "the file was saved with the built-in price book " .. d.book .. ", not this one",
        given.name)
    end
    book = b
  else
    -- a user book is never replaced by a built-in one, whatever its name
    if not given then
      check.fail(fn, "book", "the file was saved with user price book " .. check.show(d.book)
        .. "; pass that book as { book = }", check.NOVALUE)
    end
    if is_builtin(given) then
      check.fail(fn, "book", "the file was saved with a user price book named " .. check.show(d.book)
        .. ", not the built-in one", given.name)
    end
    if given.name ~= d.book then
      check.fail(fn, "book", "the file was saved with user price book " .. check.show(d.book), given.name)
    end
    local diff = content_diff(d.content, given)
    if diff then
      check.fail(fn, "book", "differs from the price book the file was saved with: " .. diff, given.name)
    end
    book = given
  end
  -- a limit beyond 2^53 loads on Lua 5.4 but cannot be a LuaJIT number
  local sok, segs = pcall(m._segments, m)
  if not sok then check.fail(fn, "path", "the file's edition limits: " .. tostring(segs), path) end
  for i, s in ipairs(segs) do
    if not book:has_edition(s.edition) then
      check.fail(fn, "book", "price book " .. check.show(book.name) .. " has no edition " .. s.edition
        .. " (the file's edition " .. i .. ")", book.name)
    end
  end
  for i, list in pairs(d.addons) do
    if i > #segs then corrupt(fn, path, "add-ons of edition " .. i .. ", the meter has " .. #segs) end
    if not d.v2 then
      local ed = segs[i].edition
      for _, a in ipairs(list) do
        local ok, addon = pcall(book.addon, book, a)
        if not ok or not addon.fee[ed] then
          corrupt(fn, path, "add-on " .. check.show(a) .. " is not sold for edition " .. ed .. " in price book "
            .. check.show(book.name))
        end
      end
    end
  end
  for i = 1, #segs do d.addons[i] = d.addons[i] or {} end
  m:_set_book(book.name)
  INFO[m] = { book = book, addons = d.addons, same_day = d.same_day == true }
  return m
end

return M
