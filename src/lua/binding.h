/* Internal to the Lua binding: compat shims and the per-file open functions.
 * Nothing here is exported from the shared object except luaopen_imbill_core. */
#ifndef IMB_LUA_IMBILL_H
#define IMB_LUA_IMBILL_H

#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>
#include "imbill.h"

/* everything below is private to the shared object (see src/core/core.h) */
#if defined(__GNUC__)
#pragma GCC visibility push(hidden)
#endif

#if LUA_VERSION_NUM < 502
/* Lua 5.1 and LuaJIT: LuaJIT already has luaL_setfuncs & co., plain 5.1 does not;
 * prefixed names keep us from clashing with either. */
#define imbL_rawlen(L, i) lua_objlen(L, (i))
void imbL_setfuncs(lua_State *L, const luaL_Reg *l, int nup);
/* a userdata's one Lua value: its environment table in 5.1 */
#define imbL_newuserdata(L, size) lua_newuserdata(L, (size))
#define imbL_setuservalue(L, i) lua_setfenv(L, (i))
#define imbL_getuservalue(L, i) lua_getfenv(L, (i))
#else
#define imbL_rawlen(L, i) lua_rawlen(L, (i))
#define imbL_setfuncs luaL_setfuncs
#if LUA_VERSION_NUM >= 504
#define imbL_newuserdata(L, size) lua_newuserdatauv(L, (size), 1)
#define imbL_setuservalue(L, i) lua_setiuservalue(L, (i), 1)
#define imbL_getuservalue(L, i) ((void)lua_getiuservalue(L, (i), 1))
#else
#define imbL_newuserdata(L, size) lua_newuserdata(L, (size))
#define imbL_setuservalue(L, i) lua_setuservalue(L, (i))
#define imbL_getuservalue(L, i) ((void)lua_getuservalue(L, (i)))
#endif
#endif

/* The last whole number a double holds exactly: past it two counts can be
 * one double, so on LuaJIT (numbers are doubles) no value beyond +-2^53 is
 * taken in or handed out. */
#define IMB_MAX_EXACT ((int64_t)1 << 53)
static inline int imbL_exact(int64_t v) { return v <= IMB_MAX_EXACT && v >= -IMB_MAX_EXACT; }

/* Numbers that must be whole: on 5.4 a true integer (or an integral number), on
 * 5.1/LuaJIT an integral lua_Number no larger than 2^53 so nothing was rounded. */
int imbL_toint64(lua_State *L, int idx, int64_t *out);
/* Whether the value is an FFI cdata (LuaJIT; never on Lua 5.4): where a
 * number is one of several kinds of argument, a cdata is read as a number
 * (imbL_toint64 takes a boxed 64-bit integer, and refuses the rest by name). */
int imbL_iscdata(lua_State *L, int idx);
int64_t imbL_checkint64(lua_State *L, int idx, const char *field);
/* What a float past 2^53 given as a whole number is told, the same on
 * every runtime (on Lua 5.4 an integer would have done; on LuaJIT no count
 * is past 2^53). */
#define IMBL_BIGFLOAT "is a float beyond 2^53, which cannot be exact"
/* the words of every error for an amount past money's range */
#define IMBL_TOO_MUCH "more than money holds (at most 9223372036854.775807)"

/* 1 when the value at idx is a float (a number, not a 5.4 integer) beyond
 * 2^53 in magnitude: whole, perhaps, but not exact. */
int imbL_isbigfloat(lua_State *L, int idx);
void imbL_pushint64(lua_State *L, int64_t v);
int imbL_status_error(lua_State *L, imb_status s, const char *field, const char *what);
/* Raises imbill's error object (lua/imbill/internal/errors.lua): fn and field
 * may be NULL, value_idx 0 when there is no value to show.  Never a file
 * position: the field is what tells a user where to look.  Where that Lua
 * module is not on the path (the core loaded alone), a plain string. */
int imbL_raise(lua_State *L, const char *fn, const char *field, int value_idx, const char *fmt, ...);
/* The value at idx as shown in an error message: numbers and strings as text,
 * anything else by its type name.  Never converts the stack slot in place. */
const char *imbL_show(lua_State *L, int idx);
/* A string input as a message quotes it: control bytes escaped, at most 60
 * bytes and then "... (N bytes)".  The result stays on the stack. */
const char *imbL_bounded(lua_State *L, int idx);
/* The same for a C string of len bytes, the escaped text at most max bytes
 * before "... (N bytes)". */
const char *imbL_escaped(lua_State *L, const char *s, size_t len, size_t max);
/* Pushes the decimal text of v (lua_pushfstring has no 64-bit conversion) and
 * returns it; the string stays on the stack. */
const char *imbL_i64str(lua_State *L, int64_t v);

void *imbL_testudata(lua_State *L, int idx, const char *tname);
void imbL_newclass(lua_State *L, const char *name, const luaL_Reg *meta, const luaL_Reg *methods);

/* money */
int64_t imbL_checkmoney(lua_State *L, int idx, const char *field);
void imbL_pushmoney(lua_State *L, int64_t micros);

void imbL_open_money(lua_State *L);
void imbL_open_calendar(lua_State *L);
/* A "YYYY-MM-DD" date (day number) or "YYYY-MM" month (y*12+m-1) argument;
 * raises naming fn, field and the value otherwise. */
int32_t imbL_checkdate(lua_State *L, int idx, const char *fn, const char *field);
int32_t imbL_checkmonth(lua_State *L, int idx, const char *fn, const char *field);
void imbL_open_pricing(lua_State *L);
void imbL_open_meter(lua_State *L);
void imbL_open_grid(lua_State *L);

/* The Lua state's stop hook for long calls (src/lua/stop.c): begin gives the
 * imb_stop to pass to the core, or NULL when no hook is installed; after a
 * call returned IMB_ESTOPPED, raise raises the hook's own error (or one
 * naming fn when the hook only returned true). */
typedef struct imbL_stop {
  imb_stop s;
  lua_State *L;
} imbL_stop;
const imb_stop *imbL_stop_begin(lua_State *L, imbL_stop *st);
/* imb_column.readonly while a stoppable call's threads read the column: the
 * hook runs Lua on the caller's thread meanwhile, and a write it made there
 * (col:set, `into`) would race with the threads' reads and change totals
 * half-way, so every writer refuses it as it refuses a read-only column. */
#define IMBL_COL_BUSY 2
int imbL_stop_raise(lua_State *L, const char *fn);
/* For a loop in the binding that runs on the caller's thread alone (Lua
 * arrays read through the API): asks the hook once, and raises as
 * imbL_stop_raise when it says stop; nothing without a hook. */
void imbL_stop_check(lua_State *L);
void imbL_open_stop(lua_State *L);
void imbL_open_policy(lua_State *L);
/* where a charge's line steps (pricing.c) */
void imbL_open_steps(lua_State *L);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#endif
