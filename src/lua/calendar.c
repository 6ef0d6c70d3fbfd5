/* Dates cross into Lua as integer day numbers (days since 1970-01-01) and
 * months as y*12+m-1, so the Lua layer can compare and subtract them freely. */
#include "binding.h"

/* A date or month argument, the one way the binding reads them: the value is
 * always in the error object, so a caller can show or test it, and the
 * message says whether the text is not a date at all or names a day the
 * calendar does not have. */
int32_t imbL_checkdate(lua_State *L, int idx, const char *fn, const char *field) {
  size_t len;
  int32_t day;
  if (lua_type(L, idx) != LUA_TSTRING) imbL_raise(L, fn, field, idx, "expected a date \"YYYY-MM-DD\"");
  const char *s = lua_tolstring(L, idx, &len);
  imb_status st = imb_date_parse(s, len, &day);
  if (st == IMB_ESYNTAX) imbL_raise(L, fn, field, idx, "malformed date (expected YYYY-MM-DD)");
  if (st) imbL_raise(L, fn, field, idx, "no such date");
  return day;
}

int32_t imbL_checkmonth(lua_State *L, int idx, const char *fn, const char *field) {
  size_t len;
  int32_t month;
  if (lua_type(L, idx) != LUA_TSTRING) imbL_raise(L, fn, field, idx, "expected a month \"YYYY-MM\"");
  const char *s = lua_tolstring(L, idx, &len);
  imb_status st = imb_month_parse(s, len, &month);
  if (st == IMB_ESYNTAX) imbL_raise(L, fn, field, idx, "malformed month (expected YYYY-MM)");
  if (st) imbL_raise(L, fn, field, idx, "no such month");
  return month;
}

static int c_parse_date(lua_State *L) {
  lua_pushinteger(L, imbL_checkdate(L, 1, NULL, luaL_optstring(L, 2, "date")));
  return 1;
}

static int c_parse_month(lua_State *L) {
  lua_pushinteger(L, imbL_checkmonth(L, 1, NULL, luaL_optstring(L, 2, "month")));
  return 1;
}

static int32_t check_day(lua_State *L, int idx) {
  int64_t d = imbL_checkint64(L, idx, "day");
  if (d < -719162 || d > 2932896) imbL_raise(L, NULL, "day", 0, "%s is outside years 1..9999", imbL_i64str(L, d));
  return (int32_t)d;
}

static int32_t check_month(lua_State *L, int idx) {
  int64_t m = imbL_checkint64(L, idx, "month");
  if (m < 12 || m > 9999 * 12 + 11)
    imbL_raise(L, NULL, "month", 0, "%s is outside years 1..9999", imbL_i64str(L, m));
  return (int32_t)m;
}

static int c_format_date(lua_State *L) {
  char buf[IMB_DATE_BUFSZ];
  imb_date_format(check_day(L, 1), buf);
  lua_pushlstring(L, buf, 10);
  return 1;
}

static int c_format_month(lua_State *L) {
  char buf[IMB_DATE_BUFSZ];
  imb_date_format(imb_month_first_day(check_month(L, 1)), buf);
  lua_pushlstring(L, buf, 7);
  return 1;
}

static int c_month_first_day(lua_State *L) {
  lua_pushinteger(L, imb_month_first_day(check_month(L, 1)));
  return 1;
}

static int c_month_length(lua_State *L) {
  lua_pushinteger(L, imb_month_length(check_month(L, 1)));
  return 1;
}

static int c_month_of_day(lua_State *L) {
  lua_pushinteger(L, imb_month_of_day(check_day(L, 1)));
  return 1;
}

static int c_day_of(lua_State *L) {
  const char *field = luaL_optstring(L, 3, "time");
  int64_t t = imbL_checkint64(L, 1, field);
  int64_t off = imbL_checkint64(L, 2, "tz offset");
  int32_t day;
  if (off <= -86400 || off >= 86400)
    return imbL_raise(L, NULL, "tz offset", 0, "%s seconds is not within a day of UTC", imbL_i64str(L, off));
  if (imb_day_of(t, (int32_t)off, &day))
    return imbL_raise(L, NULL, field, 0, "instant %s is outside years 1..9999", imbL_i64str(L, t));
  lua_pushinteger(L, day);
  return 1;
}

static int c_days_in_month(lua_State *L) {
  int64_t y = imbL_checkint64(L, 1, "year"), m = imbL_checkint64(L, 2, "month");
  if (y < IMB_MIN_YEAR || y > IMB_MAX_YEAR)
    return imbL_raise(L, NULL, "year", 0, "%s is outside 1..9999", imbL_i64str(L, y));
  if (m < 1 || m > 12) return imbL_raise(L, NULL, "month", 0, "%s is not 1..12", imbL_i64str(L, m));
  lua_pushinteger(L, imb_days_in_month((int32_t)y, (int)m));
  return 1;
}

/* core.parse_tz(s) -> seconds east of UTC | nil, "malformed" | "out of range".
 * Returns rather than raises: dates.tz_offset names the field and the value,
 * and the event-log reader reports a bad line without stopping. */
static int c_parse_tz(lua_State *L) {
  size_t len;
  int32_t off;
  const char *s = luaL_checklstring(L, 1, &len);
  imb_status st = imb_tz_parse(s, len, &off);
  if (st) {
    lua_pushnil(L);
    lua_pushstring(L, st == IMB_ERANGE ? "out of range" : "malformed");
    return 2;
  }
  lua_pushinteger(L, off);
  return 1;
}

/* core.tz_valid(seconds) -> whether the offset is whole minutes within
 * -12:00 .. +14:00 (false for anything that is not a whole number). */
static int c_tz_valid(lua_State *L) {
  int64_t off;
  lua_pushboolean(L, imbL_toint64(L, 1, &off) && imb_tz_valid(off));
  return 1;
}

static const luaL_Reg calendar_funcs[] = {{"parse_tz", c_parse_tz},
                                          {"tz_valid", c_tz_valid},{"parse_date", c_parse_date},
                                          {"parse_month", c_parse_month},
                                          {"format_date", c_format_date},
                                          {"format_month", c_format_month},
                                          {"month_first_day", c_month_first_day},
                                          {"month_length", c_month_length},
                                          {"month_of_day", c_month_of_day},
                                          {"day_of", c_day_of},
                                          {"days_in_month", c_days_in_month},
                                          {NULL, NULL}};

void imbL_open_calendar(lua_State *L) {
  imbL_setfuncs(L, calendar_funcs, 0);
  lua_pushinteger(L, IMB_TZ_MIN);
  lua_setfield(L, -2, "TZ_MIN");
  lua_pushinteger(L, IMB_TZ_MAX);
  lua_setfield(L, -2, "TZ_MAX");
}
