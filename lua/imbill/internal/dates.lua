--- Dates and months in a billing time zone.  Internally a date is an integer
-- day number (days since 1970-01-01) and a month is year*12 + month-1; the
-- public API speaks "YYYY-MM-DD" and "YYYY-MM".
local core = require "imbill.core"
local errors = require "imbill.internal.errors"

local M = {}

--- Parses a "YYYY-MM-DD" date into a day number; errors name `field`, and
-- start with `fn` (the public function) when given.
function M.day(s, field, fn)
  if fn == nil then return core.parse_date(s, field) end
  return errors.call(fn, nil, core.parse_date, s, field)
end

--- Parses a "YYYY-MM" month into a month number (year*12 + month-1).
-- The calendar ends with year 9999; a month's bill is dated up to four
-- months later (due date, suspension, deletion), so 9999-08 is the last
-- month that can be billed.
local LAST_MONTH = 9999 * 12 + 7

function M.month(s, field, fn)
  local v = errors.call(fn, nil, core.parse_month, s, field)
  if v > LAST_MONTH then
    errors.raise(fn, field or "month", core.format_month(v) .. " is after 9999-08, the last month whose due date"
      .. " and arrears fall within year 9999", errors.NOVALUE)
  end
  return v
end
M.format = core.format_date
M.format_month = core.format_month
M.month_first = core.month_first_day
M.month_length = core.month_length
M.month_of = core.month_of_day
M.days_in_month = core.days_in_month

--- A zone as seconds east of UTC: text such as "+08:00", "-05:30", "+0800",
-- "+8", "UTC+8", "UTC", "Z" (the C core's one grammar, imb_tz_parse), or
-- whole seconds.  Either way it must be whole minutes within -12:00 .. +14:00,
-- the zones in use.  nil is UTC+8, Tencent's billing zone.  Errors name
-- `field` (default "tz") and the value.
function M.tz_offset(tz, field)
  field = field or "tz"
  if tz == nil then return 8 * 3600 end
  if type(tz) == "number" then
    if tz ~= tz or tz ~= math.floor(tz) then errors.raise(nil, field, "offset is not whole seconds", tz) end
    if tz < core.TZ_MIN or tz > core.TZ_MAX then
      errors.raise(nil, field, "offset is out of range (-12:00 to +14:00: -43200 to 50400 seconds)", tz)
    end
    if not core.tz_valid(tz) then errors.raise(nil, field, "offset is not whole minutes", tz) end
    return math.floor(tz)
  end
  if type(tz) ~= "string" then
    errors.raise(nil, field, 'expected an offset like "+08:00"', tz)
  end
  local off, why = core.parse_tz(tz)
  if off then return off end
  if why == "out of range" then
    errors.raise(nil, field, "offset is out of range (-12:00 to +14:00, minutes below 60)", tz)
  end
  errors.raise(nil, field, 'malformed offset (expected +HH:MM, -HH:MM, +HHMM, +H, "UTC" or "Z")', tz)
end

--- tz_offset for fn's field, its error named fn's.  A string too long or too
-- odd to be an offset is refused before it is read, so it is never echoed
-- whole.
function M.offset(tz, field, fn)
  field = field or "tz"
  if type(tz) == "string" and (#tz > 16 or tz:find("[^%w%+%-:]")) then
    errors.raise(fn, field, "expected an offset like \"+08:00\"", tz)
  end
  local ok, off = pcall(M.tz_offset, tz, field)
  if not ok then error(errors.rename(errors.of(off), fn), 0) end
  return off
end

function M.format_tz(offset)
  local sign = offset < 0 and "-" or "+"
  offset = math.abs(offset)
  return string.format("%s%02d:%02d", sign, math.floor(offset / 3600), math.floor((offset % 3600) / 60))
end

--- The billing day (number) of a Unix instant; offset is whole seconds east
-- of UTC or a string such as "+08:00" (default UTC+8, Tencent's billing zone).
function M.day_of(t, offset, field)
  if type(offset) ~= "number" then offset = M.tz_offset(offset) end
  return core.day_of(t, offset, field)
end

return M
