/* imbill.core: the Lua face of the C core.  Each concept registers its own
 * functions into the module table; this file holds what they share. */
#include "binding.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define IMB_MAX_EXACT ((int64_t)1 << 53)

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
  if (lua_type(L, idx) != LUA_TNUMBER) return 0;
  lua_Number x = lua_tonumber(L, idx);
  if (!(x >= -(lua_Number)IMB_MAX_EXACT && x <= (lua_Number)IMB_MAX_EXACT)) return 0;
  int64_t v = (int64_t)x;
  if ((lua_Number)v != x) return 0;
  *out = v;
  return 1;
#endif
}

int imbL_isbigfloat(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TNUMBER) return 0;
#if LUA_VERSION_NUM >= 503
  if (lua_isinteger(L, idx)) return 0;
#endif
  lua_Number x = lua_tonumber(L, idx);
  return x == x && (x > (lua_Number)IMB_MAX_EXACT || x < -(lua_Number)IMB_MAX_EXACT);
}

int imbL_error(lua_State *L, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  return lua_error(L);
}

const char *imbL_i64str(lua_State *L, int64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "%lld", (long long)v);
  lua_pushstring(L, buf);
  return lua_tostring(L, -1);
}

const char *imbL_show(lua_State *L, int idx) {
  int t = lua_type(L, idx);
  if (t == LUA_TSTRING) return lua_tostring(L, idx);
  if (t == LUA_TNUMBER) {
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
      imbL_error(L, "%s: %s is beyond 2^53 and cannot be exact on this runtime", field, imbL_show(L, idx));
    imbL_error(L, "%s: expected a whole number, got %s", field, imbL_show(L, idx));
  }
  return v;
}

void imbL_pushint64(lua_State *L, int64_t v) {
#if LUA_VERSION_NUM >= 503
  lua_pushinteger(L, (lua_Integer)v);
#else
  if (v > IMB_MAX_EXACT || v < -IMB_MAX_EXACT)
    imbL_error(L, "value %s exceeds 2^53 and cannot be exact on this runtime", imbL_i64str(L, v));
  lua_pushnumber(L, (lua_Number)v);
#endif
}

int imbL_status_error(lua_State *L, imb_status s, const char *field, const char *what) {
  return imbL_error(L, "%s: %s (got %s)", field, imb_strerror(s), what);
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

int luaopen_imbill_core(lua_State *L) {
  lua_newtable(L);
  imbL_open_money(L);
  imbL_open_calendar(L);
  imbL_open_pricing(L);
  imbL_open_meter(L);
  imbL_open_grid(L);
  imbL_open_steps(L);
  lua_pushliteral(L, "imbill.core");
  lua_setfield(L, -2, "_NAME");
  return 1;
}
