/* Dates cross into Lua as integer day numbers (days since 1970-01-01) and
 * months as y*12+m-1, so the Lua layer can compare and subtract them freely. */
#include "binding.h"

static int c_parse_date(lua_State *L) {
  size_t len;
  int32_t day;
  const char *field = luaL_optstring(L, 2, "date");
  if (lua_type(L, 1) != LUA_TSTRING)
    return imbL_error(L, "%s: expected a date \"YYYY-MM-DD\", got %s", field, imbL_show(L, 1));
  const char *s = lua_tolstring(L, 1, &len);
  imb_status st = imb_date_parse(s, len, &day);
  if (st == IMB_ESYNTAX)
    return imbL_error(L, "%s: malformed date '%s' (expected YYYY-MM-DD)", field, imbL_bounded(L, 1));
  if (st) return imbL_error(L, "%s: no such date '%s'", field, imbL_bounded(L, 1));
  lua_pushinteger(L, day);
  return 1;
}

static int c_parse_month(lua_State *L) {
  size_t len;
  int32_t month;
  const char *field = luaL_optstring(L, 2, "month");
  if (lua_type(L, 1) != LUA_TSTRING)
    return imbL_error(L, "%s: expected a month \"YYYY-MM\", got %s", field, imbL_show(L, 1));
  const char *s = lua_tolstring(L, 1, &len);
  imb_status st = imb_month_parse(s, len, &month);
  if (st == IMB_ESYNTAX)
    return imbL_error(L, "%s: malformed month '%s' (expected YYYY-MM)", field, imbL_bounded(L, 1));
  if (st) return imbL_error(L, "%s: no such month '%s'", field, imbL_bounded(L, 1));
  lua_pushinteger(L, month);
  return 1;
}

static int32_t check_day(lua_State *L, int idx) {
  int64_t d = imbL_checkint64(L, idx, "day");
  if (d < -719162 || d > 2932896) imbL_error(L, "day: %s is outside years 1..9999", imbL_i64str(L, d));
  return (int32_t)d;
}

static int32_t check_month(lua_State *L, int idx) {
  int64_t m = imbL_checkint64(L, idx, "month");
  if (m < 12 || m > 9999 * 12 + 11) imbL_error(L, "month: %s is outside years 1..9999", imbL_i64str(L, m));
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
    return imbL_error(L, "tz offset: %s seconds is not within a day of UTC", imbL_i64str(L, off));
  if (imb_day_of(t, (int32_t)off, &day))
    return imbL_error(L, "%s: instant %s is outside years 1..9999", field, imbL_i64str(L, t));
  lua_pushinteger(L, day);
  return 1;
}

static int c_days_in_month(lua_State *L) {
  int64_t y = imbL_checkint64(L, 1, "year"), m = imbL_checkint64(L, 2, "month");
  if (y < IMB_MIN_YEAR || y > IMB_MAX_YEAR)
    return imbL_error(L, "year: %s is outside 1..9999", imbL_i64str(L, y));
  if (m < 1 || m > 12) return imbL_error(L, "month: %s is not 1..12", imbL_i64str(L, m));
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
