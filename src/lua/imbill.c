/* imbill.core: the Lua face of the C core.  Each concept registers its own
 * functions into the module table; this file holds what they share. */
#include "binding.h"

#include <math.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if LUA_VERSION_NUM < 502
void imbL_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  for (; l->name; l++) {
    for (int i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}
#endif

#if LUA_VERSION_NUM < 503
/* LuaJIT: an FFI value's lua_type (no LUA_T* name in its lua.h). */
#define IMB_LUA_TCDATA 10
#define CDATA_KIND "imbill.cdata_kind"

/* A boxed 64-bit integer of the FFI (5LL, 5ULL, ffi.new("int64_t", x)) holds
 * a whole number exactly, as a Lua 5.4 integer does: it is that number, up to
 * the full 64 bits (a uint64_t only up to INT64_MAX).  Every other cdata
 * (double, int32_t, pointers, structs) is no whole number.  Which ctype a
 * cdata has is known only to the FFI: its ffi.istype, registered at open as
 * CDATA_KIND, is asked on this slow path only; the value is then read from
 * the cdata's own payload. */
static int cdata_int64(lua_State *L, int idx, int64_t *out) {
  if (lua_type(L, idx) != IMB_LUA_TCDATA) return 0;
  if (idx < 0 && idx > LUA_REGISTRYINDEX) idx = lua_gettop(L) + idx + 1;
  lua_getfield(L, LUA_REGISTRYINDEX, CDATA_KIND);
  if (!lua_isfunction(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pushvalue(L, idx);
  lua_call(L, 1, 1);
  int kind = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  const void *p = kind ? lua_topointer(L, idx) : NULL;
  if (!p) return 0;
  int64_t v;
  memcpy(&v, p, sizeof v);
  if (kind == 2 && v < 0) return 0; /* a uint64_t beyond INT64_MAX */
  *out = v;
  return 1;
}

static void open_cdata(lua_State *L) {
  static const char src[] =
    "local ok, ffi = pcall(require, 'ffi')\n"
    "if not ok then return nil end\n"
    "local istype, i64, u64 = ffi.istype, ffi.typeof('int64_t'), ffi.typeof('uint64_t')\n"
    "return function(x) return istype(i64, x) and 1 or istype(u64, x) and 2 or 0 end\n";
  if (luaL_loadbuffer(L, src, sizeof src - 1, "=imbill.core") == 0 && lua_pcall(L, 0, 1, 0) == 0) {
    lua_setfield(L, LUA_REGISTRYINDEX, CDATA_KIND);
  } else {
    lua_pop(L, 1);
  }
}
#endif

int imbL_iscdata(lua_State *L, int idx) {
#if LUA_VERSION_NUM < 503
  return lua_type(L, idx) == IMB_LUA_TCDATA;
#else
  (void)L;
  (void)idx;
  return 0;
#endif
}

/* One rule on every runtime (the Lua layer's check.count follows it too): a
 * float is a whole number only when it is integral and at most 2^53 in
 * magnitude, the last integers a double holds exactly; beyond that two
 * counts can be the same float.  Lua 5.4 integers are exact at any size. */
int imbL_toint64(lua_State *L, int idx, int64_t *out) {
#if LUA_VERSION_NUM >= 503
  int ok = 0;
  lua_Integer v = lua_tointegerx(L, idx, &ok);
  if (!ok || lua_type(L, idx) != LUA_TNUMBER) return 0;
  if (imbL_isbigfloat(L, idx)) return 0;
  *out = (int64_t)v;
  return 1;
#else
  if (lua_type(L, idx) != LUA_TNUMBER) return cdata_int64(L, idx, out);
  lua_Number x = lua_tonumber(L, idx);
  if (!(x >= -(lua_Number)IMB_MAX_EXACT && x <= (lua_Number)IMB_MAX_EXACT)) return 0;
  int64_t v = (int64_t)x;
  if ((lua_Number)v != x) return 0;
  *out = v;
  return 1;
#endif
}

#define ERRORS_NEW "imbill.errors.new"

/* Stack: the message on top.  Builds the error object around it and raises. */
static int raise_msg(lua_State *L, const char *fn, const char *field, int value_idx) {
  if (value_idx < 0) value_idx = lua_gettop(L) + value_idx; /* below the message */
  /* an argument left out (m:login("u") without t) has no slot below the
   * message: its value is nil, not whatever this function pushes there */
  int absent = value_idx > 0 && value_idx >= lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, ERRORS_NEW);
  if (!lua_isfunction(L, -1)) {
    lua_pop(L, 1);
    if (field) lua_pushfstring(L, "%s: %s", field, lua_tostring(L, -1)), lua_remove(L, -2);
    if (fn) lua_pushfstring(L, "%s: %s", fn, lua_tostring(L, -1)), lua_remove(L, -2);
    return lua_error(L);
  }
  lua_insert(L, -2);
  if (fn) lua_pushstring(L, fn); else lua_pushnil(L);
  if (field) lua_pushstring(L, field); else lua_pushnil(L);
  lua_pushvalue(L, -3); /* the message */
  lua_remove(L, -4);
  if (absent) lua_pushnil(L);
  else if (value_idx > 0) lua_pushvalue(L, value_idx);
  else lua_getfield(L, LUA_REGISTRYINDEX, "imbill.errors.novalue");
  lua_call(L, 4, 1);
  return lua_error(L);
}

int imbL_raise(lua_State *L, const char *fn, const char *field, int value_idx, const char *fmt, ...) {
  if (value_idx < 0) value_idx = lua_gettop(L) + value_idx + 1;
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  return raise_msg(L, fn, field, value_idx);
}

int imbL_isbigfloat(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TNUMBER) return 0;
#if LUA_VERSION_NUM >= 503
  if (lua_isinteger(L, idx)) return 0;
#endif
  lua_Number x = lua_tonumber(L, idx);
  /* a whole number past 2^53: an infinity is no whole number (nor is NaN) */
  return x == x && x != (lua_Number)HUGE_VAL && x != -(lua_Number)HUGE_VAL &&
         (x > (lua_Number)IMB_MAX_EXACT || x < -(lua_Number)IMB_MAX_EXACT);
}

/* The error module is plain Lua with no dependency on this module, so it can
 * be loaded while this one opens. */
static void open_errors(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "imbill.internal.errors");
  if (lua_pcall(L, 1, 1, 0) != 0 || !lua_istable(L, -1)) {
    lua_pop(L, 1);
    return;
  }
  lua_getfield(L, -1, "new");
  lua_setfield(L, LUA_REGISTRYINDEX, ERRORS_NEW);
  lua_getfield(L, -1, "NOVALUE");
  lua_setfield(L, LUA_REGISTRYINDEX, "imbill.errors.novalue");
  lua_pop(L, 1);
}

const char *imbL_i64str(lua_State *L, int64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "%lld", (long long)v);
  lua_pushstring(L, buf);
  return lua_tostring(L, -1);
}

/* At most this many bytes of an input are echoed in a message, control
 * bytes escaped: a 1 MB string must not make a 1 MB message, and a NUL must
 * not cut one short (lua/imbill/internal/errors.lua's rule, for C). */
#define ECHO 60

/* Escapes at most max_in bytes of s, and stops before the text passes
 * max_out bytes (an escaped control byte takes four). */
static const char *escape(lua_State *L, const char *s, size_t len, size_t max_in, size_t max_out) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  size_t cut = len <= max_in ? len : max_in, out = 0;
  /* never end inside a UTF-8 sequence */
  while (cut > 1 && cut < len && ((unsigned char)s[cut] & 0xC0) == 0x80) cut--;
  for (size_t i = 0; i < cut; i++) {
    unsigned char c = (unsigned char)s[i];
    size_t w = (c == '\\' || c == '\'') ? 2 : (c < 0x20 || c == 0x7f) ? 4 : 1;
    if (c >= 0xC0) /* a UTF-8 sequence goes in whole or not at all */
      while (i + w < cut && ((unsigned char)s[i + w] & 0xC0) == 0x80) w++;
    if (c < 0x80 || c >= 0xC0) {
      if (out + w > max_out) {
        cut = i;
        break;
      }
      out += w;
    }
    if (c == '\\' || c == '\'') {
      luaL_addchar(&b, '\\');
      luaL_addchar(&b, (char)c);
    } else if (c < 0x20 || c == 0x7f) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\x%02x", c);
      luaL_addstring(&b, esc);
    } else {
      luaL_addchar(&b, (char)c);
    }
  }
  if (cut < len) {
    char more[48];
    snprintf(more, sizeof more, "... (%lu bytes)", (unsigned long)len);
    luaL_addstring(&b, more);
  }
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

const char *imbL_bounded(lua_State *L, int idx) {
  size_t len;
  const char *s = lua_tolstring(L, idx, &len);
  return escape(L, s, len, ECHO, 4 * ECHO);
}

const char *imbL_escaped(lua_State *L, const char *s, size_t len, size_t max) { return escape(L, s, len, max, max); }

const char *imbL_show(lua_State *L, int idx) {
  int t = lua_type(L, idx);
  if (t == LUA_TSTRING) return imbL_bounded(L, idx);
  if (t == LUA_TNUMBER) {
#if LUA_VERSION_NUM >= 503
    int is_float = !lua_isinteger(L, idx);
#else
    int is_float = 1;
#endif
    lua_Number x = lua_tonumber(L, idx);
    if (x != x) return lua_pushliteral(L, "nan"), lua_tostring(L, -1);
    /* as imbill.internal.fmt.number writes a number: a whole float in full
     * below 2^64 (never 5.0 or 1e+15, and past 2^53, no longer exact, its own
     * digits rather than %.14g's 9.007199254741e+15 for 2^53 + 2), any other
     * finite float in the fewest digits that read back as it (%.14g read
     * 123456789012345.5 as 1.2345678901235e+14) */
    if (is_float && x - x == 0) {
      char buf[40];
      if (x == floor(x) && x > -18446744073709551616.0 && x < 18446744073709551616.0) {
        snprintf(buf, sizeof buf, "%.0f", (double)x);
      } else {
        for (int digits = 15; digits <= 17; digits++) {
          snprintf(buf, sizeof buf, "%.*g", digits, (double)x);
          if (strtod(buf, NULL) == (double)x) break;
        }
      }
      lua_pushstring(L, buf);
      return lua_tostring(L, -1);
    }
    /* a copy: lua_tostring would turn the slot itself into a string (5.1) */
    lua_pushvalue(L, idx);
    return lua_tostring(L, -1);
  }
  return luaL_typename(L, idx);
}

int64_t imbL_checkint64(lua_State *L, int idx, const char *field) {
  int64_t v = 0;
  if (!imbL_toint64(L, idx, &v)) {
    if (imbL_isbigfloat(L, idx))
      imbL_raise(L, NULL, field, 0, "%s " IMBL_BIGFLOAT, imbL_show(L, idx));
    imbL_raise(L, NULL, field, idx, "expected a whole number");
  }
  return v;
}

void imbL_pushint64(lua_State *L, int64_t v) {
#if LUA_VERSION_NUM >= 503
  lua_pushinteger(L, (lua_Integer)v);
#else
  if (!imbL_exact(v))
    imbL_raise(L, NULL, NULL, 0, "value %s exceeds 2^53 and cannot be exact on this runtime", imbL_i64str(L, v));
  lua_pushnumber(L, (lua_Number)v);
#endif
}

int imbL_status_error(lua_State *L, imb_status s, const char *field, const char *what) {
  return imbL_raise(L, NULL, field, 0, "%s (got %s)", imb_strerror(s), what);
}

/* luaL_testudata is missing from plain 5.1; ours works on every runtime. */
void *imbL_testudata(lua_State *L, int idx, const char *tname) {
  void *p = lua_touserdata(L, idx);
  if (!p || !lua_getmetatable(L, idx)) return NULL;
  luaL_getmetatable(L, tname);
  int same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? p : NULL;
}

void imbL_newclass(lua_State *L, const char *name, const luaL_Reg *meta, const luaL_Reg *methods) {
  luaL_newmetatable(L, name);
  imbL_setfuncs(L, meta, 0);
  lua_newtable(L);
  imbL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushstring(L, name);
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
}

IMB_API int luaopen_imbill_core(lua_State *L);

typedef const char *(*namer)(int32_t);

static void push_names(lua_State *L, const char *field, namer f, int n) {
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushstring(L, f(i));
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, field);
}

static void set_const(lua_State *L, const char *field, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, field);
}

/* The core's enumerations and bounds, which the Lua layer checks data
 * against (books, events, series): defined once, in C. */
static void open_names(lua_State *L) {
  push_names(L, "GROUP_TYPES", imb_gtype_name, IMB_G_COUNT);
  push_names(L, "FEATURES", imb_feature_name, IMB_F_COUNT);
  push_names(L, "ACTIONS", imb_action_name, IMB_A_COUNT);
  push_names(L, "LIMITS", imb_limit_name, IMB_L_COUNT);
  push_names(L, "TRTC_TIERS", imb_trtc_tier_name, IMB_TRTC_TIERS);
  set_const(L, "ID_MAX", IMB_ID_MAX);
  set_const(L, "DEDUP_DAYS", IMB_DEDUP_DAYS);
  set_const(L, "LOGIN_LATE_DAYS", IMB_LOGIN_LATE_DAYS);
  set_const(L, "FUTURE_DAYS", IMB_FUTURE_DAYS);
  set_const(L, "CLOCK_AHEAD", IMB_CLOCK_AHEAD);
  set_const(L, "EDITION_MAXLEN", IMB_EDITION_MAXLEN);
  set_const(L, "MIN_YEAR", IMB_MIN_YEAR);
  set_const(L, "MAX_YEAR", IMB_MAX_YEAR);
  set_const(L, "DAY_MIN", IMB_DAY_MIN);
  set_const(L, "DAY_MAX", IMB_DAY_MAX);
  set_const(L, "GRID_MAX_MONTHS", IMB_GRID_MAX_MONTHS);
  set_const(L, "NO_DAY", IMB_NO_DAY);
  set_const(L, "INSTANT_MIN", (lua_Integer)(IMB_DAY_MIN + 1) * 86400);
  set_const(L, "INSTANT_END", (lua_Integer)IMB_DAY_MAX * 86400);
}

int luaopen_imbill_core(lua_State *L) {
  open_errors(L);
#if LUA_VERSION_NUM < 503
  open_cdata(L);
#endif
  lua_newtable(L);
  imbL_open_money(L);
  imbL_open_calendar(L);
  imbL_open_pricing(L);
  imbL_open_meter(L);
  imbL_open_grid(L);
  imbL_open_stop(L);
  imbL_open_policy(L);
  open_names(L);
  imbL_open_steps(L);
  lua_pushliteral(L, "imbill.core");
  lua_setfield(L, -2, "_NAME");
  return 1;
}
