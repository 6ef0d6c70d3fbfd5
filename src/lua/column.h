/* Scenario columns in the Lua binding (column.c), shared with the batch
 * pricing (pricing.c) and the grid (grid.c). */
#ifndef IMB_LUA_COLUMN_H
#define IMB_LUA_COLUMN_H

#include "binding.h"

#if defined(__GNUC__)
#pragma GCC visibility push(hidden)
#endif

#define COLUMN_MT "imbill.column"

/* The column at idx, or NULL. */
imb_column *imbL_tocolumn(lua_State *L, int idx);
/* A new column of n values (not initialised) pushed on the stack; fn, the
 * call it is made for, is what an error names when memory cannot hold it. */
imb_column *imbL_newcolumn(lua_State *L, size_t n, const char *fn);
/* A new column viewing n values owned by the object at owner_idx, which the
 * column keeps alive; readonly forbids col:set. */
imb_column *imbL_viewcolumn(lua_State *L, int owner_idx, int64_t *v, size_t n, int readonly);
/* A scratch column's values handed to `to`, a column of the same length
 * (by handing over the buffer where both own one, by a copy otherwise); the
 * scratch is left empty.  Both come from imbL_tocolumn or imbL_newcolumn. */
void imbL_column_take(lua_State *L, imb_column *to, imb_column *from);
/* Empties a scratch column now (its buffer to the cache for the next one)
 * instead of at its collection. */
void imbL_column_drop(lua_State *L, imb_column *c);
/* A new column holding a Lua array's values (read raw), pushed on the stack.
 * Counts (counts = 1) must be whole numbers >= 0; an error names fn (NULL:
 * the Lua layer names it) and field[i]. */
imb_column *imbL_arraycolumn(lua_State *L, int idx, const char *fn, const char *field, int counts);
/* imbL_raise showing an int64 value (on LuaJIT as text past 2^53: never
 * rounded). */
int imbL_raise_int(lua_State *L, const char *fn, const char *field, int64_t v, const char *msg);
/* The most threads a batch or a grid may be asked for. */
#define IMB_THREADS_MAX 1024
/* The threads option at idx: nil or none is 0 (every core); otherwise a whole
 * number 0 .. IMB_THREADS_MAX, or an error naming the field threads. */
int imbL_threads(lua_State *L, int idx);
/* Pushes v as a Lua integer; on LuaJIT a value beyond 2^53 is an error that
 * names fn and field. */
void imbL_pushcount(lua_State *L, int64_t v, const char *fn, const char *field);

void imbL_open_column(lua_State *L);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#endif
