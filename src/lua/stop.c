/* Stopping long batch calls (a grid's run, the pricing of columns) from Lua:
 * a Lua state may hold one stop hook, a function the C work calls between
 * chunks on the caller's thread (imb_stop in include/imbill.h).  The notebook
 * kernel installs one so that an interrupt stops the work whichever way a
 * cell reached it (`imbill`, `require "imbill"`, `require "imbill.whatif.grid"`):
 * the hook belongs to the Lua state, not to a table of functions a cell may
 * bypass.  With no hook the calls run exactly as before: nothing is polled. */
#include "binding.h"

#define STOP_KEY "imbill.stop.hook"
#define STOP_ERROR_KEY "imbill.stop.error"

/* The hook, called by the core on the caller's thread: a hook that raises
 * stops the call, and its error is raised again once every thread of the
 * call has been joined (imbL_stop_raise); one that returns true stops it too. */
static int poll_hook(void *ctx) {
  imbL_stop *st = (imbL_stop *)ctx;
  lua_State *L = st->L;
  if (!lua_checkstack(L, 4)) return 0;
  lua_getfield(L, LUA_REGISTRYINDEX, STOP_KEY);
  if (lua_type(L, -1) != LUA_TFUNCTION) {
    lua_pop(L, 1);
    return 0;
  }
  if (lua_pcall(L, 0, 1, 0) != 0) {
    lua_setfield(L, LUA_REGISTRYINDEX, STOP_ERROR_KEY);
    return 1;
  }
  int yes = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return yes;
}

const imb_stop *imbL_stop_begin(lua_State *L, imbL_stop *st) {
  lua_getfield(L, LUA_REGISTRYINDEX, STOP_KEY);
  int on = lua_type(L, -1) == LUA_TFUNCTION;
  lua_pop(L, 1);
  if (!on) return NULL;
  st->L = L;
  st->s.poll = poll_hook;
  st->s.ctx = st;
  return &st->s;
}

int imbL_stop_raise(lua_State *L, const char *fn) {
  lua_getfield(L, LUA_REGISTRYINDEX, STOP_ERROR_KEY);
  if (!lua_isnil(L, -1)) {
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, STOP_ERROR_KEY);
    return lua_error(L);
  }
  lua_pop(L, 1);
  return imbL_raise(L, fn, NULL, 0, "stopped by the stop hook (core.set_stop)");
}

/* core.set_stop(f) -> the previous hook: f() is called between chunks of a
 * long call; raising or returning true stops the call.  nil removes it. */
static int s_set_stop(lua_State *L) {
  if (!lua_isnoneornil(L, 1) && lua_type(L, 1) != LUA_TFUNCTION)
    return imbL_raise(L, "core.set_stop", "hook", 1, "expected a function or nil");
  lua_settop(L, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, STOP_KEY);
  lua_pushvalue(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, STOP_KEY);
  return 1;
}

void imbL_stop_check(lua_State *L) {
  imbL_stop st;
  if (imbL_stop_begin(L, &st) && poll_hook(&st)) imbL_stop_raise(L, NULL);
}

/* core.check_stop() -> nothing: for the Lua loops around C calls (a
 * projection's months), the hook called once; nothing to do without one. */
static int s_check_stop(lua_State *L) {
  imbL_stop_check(L);
  return 0;
}

static const luaL_Reg stop_funcs[] = {{"set_stop", s_set_stop}, {"check_stop", s_check_stop}, {NULL, NULL}};

void imbL_open_stop(lua_State *L) { imbL_setfuncs(L, stop_funcs, 0); }
