/* Scenario columns: userdata holding n int64 values (counts in, cents out), so
 * a million scenarios are built, priced and summarised in C without a Lua
 * value each.  A view (a grid's results, FFI memory) points at memory owned
 * by another object, which its user value keeps alive. */
#include "column.h"

#include <stdlib.h>
#include <string.h>

typedef struct col_ud {
  imb_column c;
  int64_t *heap;  /* the values of a large column (imb_col_alloc), freed by __gc */
  size_t cap;     /* heap's capacity in values */
  int64_t data[]; /* the values of a small one */
} col_ud;

/* An owned column's values come from imb_col_alloc (aligned for huge pages,
 * so a fresh column of a million values faults in 4 pages, not 2,048, which
 * otherwise costs as much as pricing it), and the collector is told of them
 * by a step as large as their size: the work an allocation that size inside
 * Lua would have caused.  Small columns keep their values in the userdata.
 *
 * The memory of large columns the collector frees is kept for the next ones
 * (a few, per Lua state, in the registry): a script that prices editions one
 * after another then reuses pages already mapped instead of faulting in new
 * ones, and a reused buffer needs no collector step, having had one. */
#define COL_INLINE_MAX 4096
#define CACHE_KEY "imbill.column.cache"
#define CACHE_SLOTS 16
#define CACHE_MAX_BYTES ((size_t)512 << 20)

typedef struct col_cache {
  int closed; /* the state is closing: free, do not keep */
  int count;
  size_t bytes;
  int64_t *v[CACHE_SLOTS];
  size_t cap[CACHE_SLOTS];
} col_cache;

static int cache_gc(lua_State *L) {
  col_cache *k = (col_cache *)lua_touserdata(L, 1);
  for (int i = 0; i < k->count; i++) imb_col_free(k->v[i]);
  k->count = 0;
  k->bytes = 0;
  k->closed = 1;
  return 0;
}

/* The state's cache, created on first use. */
static col_cache *cache_of(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
  col_cache *k = (col_cache *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (k) return k;
  k = (col_cache *)lua_newuserdata(L, sizeof *k);
  memset(k, 0, sizeof *k);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, cache_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
  return k;
}

/* A kept buffer of at least n values and not much more, or NULL. */
static int64_t *cache_take(col_cache *k, size_t n, size_t *cap) {
  int best = -1;
  for (int i = 0; i < k->count; i++)
    if (k->cap[i] >= n && k->cap[i] - n <= n + COL_INLINE_MAX && (best < 0 || k->cap[i] < k->cap[best])) best = i;
  if (best < 0) return NULL;
  int64_t *v = k->v[best];
  *cap = k->cap[best];
  k->bytes -= *cap * sizeof(int64_t);
  k->v[best] = k->v[k->count - 1];
  k->cap[best] = k->cap[k->count - 1];
  k->count--;
  return v;
}

/* Keeps a freed buffer if there is room, frees it otherwise. */
static void cache_give(col_cache *k, int64_t *v, size_t cap) {
  size_t bytes = cap * sizeof(int64_t);
  if (k && !k->closed && k->count < CACHE_SLOTS && bytes <= CACHE_MAX_BYTES - k->bytes) {
    k->v[k->count] = v;
    k->cap[k->count] = cap;
    k->count++;
    k->bytes += bytes;
    return;
  }
  imb_col_free(v);
}

#define COL_MAX_N (((size_t)-1 / 2 - sizeof(col_ud)) / sizeof(int64_t))
/* the most values col:totable gives as one Lua array (as g:totals) */
#define TOTABLE_MAX 50000000

/* ---- errors ------------------------------------------------------------ */

int imbL_raise_int(lua_State *L, const char *fn, const char *field, int64_t v, const char *msg) {
#if LUA_VERSION_NUM >= 503
  lua_pushinteger(L, (lua_Integer)v);
#else
  if (!imbL_exact(v)) imbL_i64str(L, v); /* a string: never rounded */
  else lua_pushnumber(L, (lua_Number)v);
#endif
  return imbL_raise(L, fn, field, -1, "%s", msg);
}

int imbL_threads(lua_State *L, int idx) {
  if (lua_isnoneornil(L, idx)) return 0;
  int64_t t;
  if (!imbL_toint64(L, idx, &t) || t < 0 || t > IMB_THREADS_MAX)
    imbL_raise(L, NULL, "threads", idx, "expected 0 (every core) .. %d", IMB_THREADS_MAX);
  return (int)t;
}

void imbL_pushcount(lua_State *L, int64_t v, const char *fn, const char *field) {
#if LUA_VERSION_NUM >= 503
  (void)fn;
  (void)field;
  lua_pushinteger(L, (lua_Integer)v);
#else
  if (!imbL_exact(v))
    imbL_raise_int(L, fn, field, v, "is beyond 2^53 and cannot be exact on this runtime");
  lua_pushnumber(L, (lua_Number)v);
#endif
}

/* ---- the userdata ------------------------------------------------------ */

imb_column *imbL_tocolumn(lua_State *L, int idx) {
  col_ud *u = (col_ud *)imbL_testudata(L, idx, COLUMN_MT);
  return u ? &u->c : NULL;
}

/* A column of n values; when memory cannot hold them, the error names
 * (fn, field, vidx) when field is given (a range names its `to`), else the
 * count n itself. */
static col_ud *new_ud_for(lua_State *L, size_t n, const char *fn, const char *field, int vidx) {
  size_t inl = n <= COL_INLINE_MAX ? n : 0;
#if LUA_VERSION_NUM >= 504
  col_ud *u = (col_ud *)lua_newuserdatauv(L, sizeof(col_ud) + inl * sizeof(int64_t), 1);
#else
  col_ud *u = (col_ud *)lua_newuserdata(L, sizeof(col_ud) + inl * sizeof(int64_t));
#endif
  u->heap = NULL;
  u->cap = 0;
  u->c.v = u->data;
  u->c.n = 0;
  u->c.readonly = 0;
  luaL_getmetatable(L, COLUMN_MT);
  lua_setmetatable(L, -2);
  if (n > inl) {
    size_t cap = n;
    u->heap = cache_take(cache_of(L), n, &cap);
    if (!u->heap) {
      u->heap = imb_col_alloc(n);
      if (!u->heap && field) {
        char count[24];
        snprintf(count, sizeof count, "%llu", (unsigned long long)n);
        imbL_raise(L, fn, field, vidx, "the range has %s values (8 bytes each), more than memory holds", count);
      }
      if (!u->heap) {
        char count[24];
        snprintf(count, sizeof count, "%llu", (unsigned long long)n);
        imbL_raise(L, fn ? fn : "imbill.column", NULL, 0, "a column of %s values (8 bytes each) does not fit in memory",
                   count);
      }
      u->cap = n;
      u->c.v = u->heap;
      u->c.n = n;
      /* the step may run finalizers: the column is whole by then */
      size_t kb = n * sizeof(int64_t) / 1024;
      lua_gc(L, LUA_GCSTEP, kb > 1048576 ? 1048576 : (int)kb);
    } else {
      u->cap = cap;
      u->c.v = u->heap;
    }
  }
  u->c.n = n;
  return u;
}

static col_ud *new_ud(lua_State *L, size_t n, const char *fn) { return new_ud_for(L, n, fn, NULL, 0); }

static int m_gc(lua_State *L) {
  col_ud *u = (col_ud *)imbL_testudata(L, 1, COLUMN_MT);
  if (u && u->heap) {
    lua_getfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
    cache_give((col_cache *)lua_touserdata(L, -1), u->heap, u->cap);
    lua_pop(L, 1);
    u->heap = NULL;
    u->c.v = u->data;
    u->c.n = 0;
  }
  return 0;
}

/* Hands the values of the column `from` to the column `to` (the same
 * length): the buffer itself when both own one (no copy; to's old buffer goes
 * back to the cache, for the next call's scratch), a copy otherwise (a small
 * column keeps its values in its userdata, a view writes into its owner's
 * memory).  from is left empty either way. */
void imbL_column_take(lua_State *L, imb_column *to, imb_column *from) {
  col_ud *t = (col_ud *)(void *)to, *f = (col_ud *)(void *)from;
  if (t->heap && t->c.v == t->heap && f->heap && f->c.v == f->heap) {
    int64_t *v = t->heap;
    size_t cap = t->cap;
    t->heap = f->heap;
    t->cap = f->cap;
    t->c.v = t->heap;
    f->heap = v;
    f->cap = cap;
    f->c.v = v;
  } else if (to->n) {
    memcpy(to->v, from->v, to->n * sizeof *to->v);
  }
  imbL_column_drop(L, from);
}

void imbL_column_drop(lua_State *L, imb_column *c) {
  col_ud *u = (col_ud *)(void *)c;
  if (u->heap) {
    cache_give(cache_of(L), u->heap, u->cap);
    u->heap = NULL;
    u->cap = 0;
  }
  u->c.v = u->data;
  u->c.n = 0;
}

static void check_size(lua_State *L, const char *fn, const char *field, int64_t n, int vidx) {
  if (n < 0) imbL_raise(L, fn, field, vidx, "must not be negative");
  if ((uint64_t)n > (uint64_t)COL_MAX_N) imbL_raise(L, fn, field, vidx, "is more values than a column holds");
}

imb_column *imbL_newcolumn(lua_State *L, size_t n, const char *fn) {
  if (n > COL_MAX_N) imbL_raise_int(L, fn, "n", (int64_t)n, "is more values than a column holds");
  return &new_ud(L, n, fn)->c;
}

imb_column *imbL_viewcolumn(lua_State *L, int owner_idx, int64_t *v, size_t n, int readonly) {
  if (owner_idx < 0) owner_idx = lua_gettop(L) + 1 + owner_idx;
  col_ud *u = new_ud(L, 0, NULL);
  u->c.v = v;
  u->c.n = n;
  u->c.readonly = readonly;
#if LUA_VERSION_NUM >= 504
  lua_pushvalue(L, owner_idx);
  lua_setiuservalue(L, -2, 1);
#else
  /* LuaJIT and 5.1: a userdata's environment must be a table */
  lua_createtable(L, 1, 0);
  lua_pushvalue(L, owner_idx);
  lua_rawseti(L, -2, 1);
  lua_setfenv(L, -2);
#endif
  return &u->c;
}

static imb_column *checkcol(lua_State *L, int idx, const char *fn) {
  imb_column *c = imbL_tocolumn(L, idx);
  if (!c) imbL_raise(L, fn, idx == 1 ? "self" : "column", idx, "expected a column (call it as col:method(...))");
  return c;
}

/* A whole number at idx, for fn's field. */
static int64_t int_arg(lua_State *L, int idx, const char *fn, const char *field) {
  int64_t v;
  if (!imbL_toint64(L, idx, &v)) {
    if (imbL_isbigfloat(L, idx)) imbL_raise(L, fn, field, idx, IMBL_BIGFLOAT);
    imbL_raise(L, fn, field, idx, "expected a whole number");
  }
  return v;
}

/* A 1-based position in c, as a 0-based index. */
static size_t pos_arg(lua_State *L, int idx, const imb_column *c, const char *fn, const char *field) {
  int64_t i = int_arg(L, idx, fn, field);
  if (i < 1 || (uint64_t)i > (uint64_t)c->n) {
    lua_pushfstring(L, "expected a position in the column (1 .. %s)", imbL_i64str(L, (int64_t)c->n));
    imbL_raise(L, fn, field, idx, "%s", lua_tostring(L, -1));
  }
  return (size_t)(i - 1);
}

/* ---- filling from Lua arrays -------------------------------------------- */

/* values copied from a Lua array between two calls of the stop hook
 * (core.set_stop): a notebook's interrupt stops a copy of millions, which
 * runs in C where its debug hook never does (16,384 values: well under a
 * millisecond) */
#define ARRAY_POLL 16384

imb_column *imbL_arraycolumn(lua_State *L, int idx, const char *fn, const char *field, int counts) {
  if (idx < 0) idx = lua_gettop(L) + 1 + idx;
  size_t n = (size_t)imbL_rawlen(L, idx);
  imb_column *c = imbL_newcolumn(L, n, fn);
  int64_t *v = c->v;
  for (size_t i = 0; i < n; i++) {
    int64_t x;
    /* the new column is only on the stack: a hook that raises leaves it to
     * the collector */
    if (i % ARRAY_POLL == 0) imbL_stop_check(L);
#if LUA_VERSION_NUM >= 503
    int isint = 0;
    int t = lua_rawgeti(L, idx, (lua_Integer)(i + 1));
    x = (int64_t)lua_tointegerx(L, -1, &isint);
    /* a float past 2^53 is whole but not exact: refused, as on LuaJIT */
    int ok = t == LUA_TNUMBER && isint && (imbL_exact(x) || !imbL_isbigfloat(L, -1));
#else
    lua_rawgeti(L, idx, (int)(i + 1));
    int ok = imbL_toint64(L, -1, &x);
#endif
    if (ok && (!counts || x >= 0)) {
      v[i] = x;
      lua_pop(L, 1);
      continue;
    }
    /* counts: the messages core.totals gives for an array */
    int vi = lua_gettop(L);
    int big = imbL_isbigfloat(L, vi);
    const char *shown = imbL_show(L, vi);
    lua_pushfstring(L, "%s[%d]", field, (int)(i + 1));
    if (big && counts)
      imbL_raise(L, fn, lua_tostring(L, -1), 0, "%s " IMBL_BIGFLOAT, shown);
    imbL_raise(L, fn, lua_tostring(L, -1), vi, "%s",
               big ? IMBL_BIGFLOAT
                   : counts ? "expected a whole number >= 0" : "expected a whole number");
  }
  return c;
}

/* ---- constructors (imbill.core.column_*) ---------------------------------- */

/* core.column_new(n [, value]) */
static int c_new(lua_State *L) {
  int64_t n = int_arg(L, 1, "imbill.column", "n");
  int64_t fill = lua_isnoneornil(L, 2) ? 0 : int_arg(L, 2, "imbill.column", "value");
  check_size(L, "imbill.column", "n", n, 1);
  imb_column *c = imbL_newcolumn(L, (size_t)n, "imbill.column");
  if (fill == 0) memset(c->v, 0, c->n * sizeof *c->v);
  else
    for (size_t i = 0; i < c->n; i++) c->v[i] = fill;
  return 1;
}

/* core.column_from(array [, field [, counts]]) */
static int c_from(lua_State *L) {
  int counts = lua_toboolean(L, 3);
  const char *field = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "values";
  if (!lua_istable(L, 1)) imbL_raise(L, "imbill.column", field, 1, "expected an array of whole numbers");
  /* counts are priced by imbill.totals, which names itself */
  imbL_arraycolumn(L, 1, counts ? NULL : "imbill.column", field, counts);
  return 1;
}

/* core.column_copy(col) */
static int c_copy(lua_State *L) {
  imb_column *c = checkcol(L, 1, "column:copy");
  imb_column *o = imbL_newcolumn(L, c->n, "column:copy");
  if (c->n) memcpy(o->v, c->v, c->n * sizeof *c->v);
  return 1;
}

/* core.column_range(from, to, step): from, from + step, ... up to to */
static int c_range(lua_State *L) {
  const char *fn = "imbill.column";
  int64_t from = int_arg(L, 1, fn, "from"), to = int_arg(L, 2, fn, "to");
  int64_t step = lua_isnoneornil(L, 3) ? 1 : int_arg(L, 3, fn, "step");
  if (step < 1) imbL_raise(L, fn, "step", 3, "must be at least 1");
  if (to < from) imbL_raise(L, fn, "to", 2, "is below from");
  /* (to - from) / step + 1 values, in unsigned arithmetic: to - from may pass 2^63 */
  uint64_t count = ((uint64_t)to - (uint64_t)from) / (uint64_t)step + 1;
  if (count > (uint64_t)COL_MAX_N) imbL_raise(L, fn, "to", 2, "gives more values than a column holds");
  imb_column *c = &new_ud_for(L, (size_t)count, fn, "to", 2)->c;
  if (imb_col_range(c->v, c->n, from, step)) imbL_raise(L, fn, "to", 2, "gives a value beyond 64 bits");
  return 1;
}

/* core.column_random(n, min, max, seed) */
static int c_random(lua_State *L) {
  const char *fn = "imbill.column.random";
  int64_t n = int_arg(L, 1, fn, "n"), lo = int_arg(L, 2, fn, "min"), hi = int_arg(L, 3, fn, "max");
  int64_t seed = int_arg(L, 4, fn, "seed");
  check_size(L, fn, "n", n, 1);
  if (hi < lo) imbL_raise(L, fn, "max", 3, "is below min");
  imb_column *c = imbL_newcolumn(L, (size_t)n, "imbill.column.random");
  imb_col_random(c->v, c->n, (uint64_t)seed, lo, hi);
  return 1;
}

/* core.column_scale(col, ppm): round_half_up(v * ppm / 10^6) */
static int c_scale(lua_State *L) {
  imb_column *c = checkcol(L, 1, "imbill.column");
  int64_t ppm = int_arg(L, 2, "imbill.column", "ratio");
  size_t bad = 0;
  imb_column *o = imbL_newcolumn(L, c->n, "imbill.column");
  if (imb_col_scale(o->v, c->v, c->n, ppm, &bad)) {
    lua_pushfstring(L, "values[%d]", (int)(bad + 1));
    imbL_raise_int(L, "imbill.column", lua_tostring(L, -1), c->v[bad], "times the ratio does not fit in 64 bits");
  }
  return 1;
}

/* core.column_add(col, col | whole number) */
static int c_add(lua_State *L) {
  imb_column *a = checkcol(L, 1, "imbill.column");
  imb_column *b = imbL_tocolumn(L, 2);
  int64_t k = 0;
  size_t bad = 0;
  if (!b) k = int_arg(L, 2, "imbill.column", "right operand");
  if (b && b->n != a->n) {
    lua_pushfstring(L, "has %s values where the column has %s", imbL_i64str(L, (int64_t)b->n),
                    imbL_i64str(L, (int64_t)a->n));
    imbL_raise(L, "imbill.column", "right operand", 0, "%s", lua_tostring(L, -1));
  }
  imb_column *o = imbL_newcolumn(L, a->n, "imbill.column");
  if (imb_col_add(o->v, a->v, b ? b->v : &k, b ? 1 : 0, a->n, &bad)) {
    lua_pushfstring(L, "values[%d]", (int)(bad + 1));
    imbL_raise_int(L, "imbill.column", lua_tostring(L, -1), a->v[bad], "the sum does not fit in 64 bits");
  }
  return 1;
}

/* core.column_grow(col, growth_ppm, months) */
static int c_grow(lua_State *L) {
  imb_column *c = checkcol(L, 1, "column:grow");
  int64_t g = int_arg(L, 2, "column:grow", "rate"), months = int_arg(L, 3, "column:grow", "months");
  size_t bad = 0;
  if (months < 0 || months > IMB_GRID_MAX_MONTHS) imbL_raise(L, "column:grow", "months", 3, "expected 0 .. 1200");
  if (g <= -1000000 || g > 100000000)
    imbL_raise(L, "column:grow", "rate", 2, "must be above -100%% and at most 10000%% (in ppm)");
  imb_column *o = imbL_newcolumn(L, c->n, "column:grow");
  imb_status s = imb_col_grow(o->v, c->v, c->n, g, (int32_t)months, &bad);
  if (s) {
    lua_pushfstring(L, "values[%d]", (int)(bad + 1));
    imbL_raise_int(L, "column:grow", lua_tostring(L, -1), c->v[bad],
                   s == IMB_ERANGE ? "must not be negative to grow" : "grows beyond 64 bits");
  }
  return 1;
}

/* core.column_view(owner): an empty column that keeps owner alive, for the
 * FFI binding to point at owner's memory (imb_column.v and .n). */
static int c_view(lua_State *L) {
  luaL_checkany(L, 1);
  imbL_viewcolumn(L, 1, NULL, 0, 0);
  return 1;
}

/* core.column_ptr(col) -> lightuserdata: the imb_column inside, for the FFI
 * binding; valid while the column lives. */
static int c_ptr(lua_State *L) {
  lua_pushlightuserdata(L, checkcol(L, 1, "imbill.column"));
  return 1;
}

static int c_meta(lua_State *L) {
  luaL_getmetatable(L, COLUMN_MT);
  return 1;
}

static int c_is(lua_State *L) {
  lua_pushboolean(L, imbL_tocolumn(L, 1) != NULL);
  return 1;
}

/* ---- methods ----------------------------------------------------------------- */

static int m_len(lua_State *L) {
  imb_column *c = checkcol(L, 1, "column:len");
  imbL_pushint64(L, (int64_t)c->n);
  return 1;
}

static int m_tostring(lua_State *L) {
  imb_column *c = checkcol(L, 1, "column:tostring");
  lua_pushfstring(L, "imbill.column(%s%s)", imbL_i64str(L, (int64_t)c->n), c->readonly ? ", read-only" : "");
  return 1;
}

static int m_get(lua_State *L) {
  imb_column *c = checkcol(L, 1, "column:get");
  size_t i = pos_arg(L, 2, c, "column:get", "i");
#if LUA_VERSION_NUM < 503
  /* the value that cannot leave exactly is named by its place, as totable names it */
  if (!imbL_exact(c->v[i])) {
    lua_pushfstring(L, "values[%s]", imbL_i64str(L, (int64_t)(i + 1)));
    imbL_raise_int(L, "column:get", lua_tostring(L, -1), c->v[i], "is beyond 2^53 and cannot be exact on this runtime");
  }
#endif
  imbL_pushcount(L, c->v[i], "column:get", "value");
  return 1;
}

static int m_set(lua_State *L) {
  imb_column *c = checkcol(L, 1, "column:set");
  size_t i = pos_arg(L, 2, c, "column:set", "i");
  int64_t v = int_arg(L, 3, "column:set", "v");
  if (c->readonly == IMBL_COL_BUSY)
    imbL_raise(L, "column:set", "self", 0, "is being priced by the call that runs the stop hook (core.set_stop): "
               "it can change once that call returns");
  if (c->readonly)
    imbL_raise(L, "column:set", "self", 0, "is read-only (a grid's results, or a view of const memory): col:copy() gives one to change");
  c->v[i] = v;
  lua_settop(L, 1);
  return 1;
}

static int m_sum(lua_State *L) {
  imb_column *c = checkcol(L, 1, "column:sum");
  int64_t sum;
  if (imb_stats_sum(c->v, c->n, &sum)) imbL_raise(L, "column:sum", "self", 0, "the sum does not fit in 64 bits");
  imbL_pushcount(L, sum, "column:sum", "sum");
  return 1;
}

static int minmax(lua_State *L, int want_max) {
  const char *fn = want_max ? "column:max" : "column:min";
  imb_column *c = checkcol(L, 1, fn);
  size_t imin, imax;
  if (c->n == 0) return 0;
  imb_stats_minmax(c->v, c->n, &imin, &imax);
  size_t at = want_max ? imax : imin;
  imbL_pushcount(L, c->v[at], fn, want_max ? "max" : "min");
  imbL_pushint64(L, (int64_t)(at + 1));
  return 2;
}
static int m_min(lua_State *L) { return minmax(L, 0); }
static int m_max(lua_State *L) { return minmax(L, 1); }

/* round_half_up(sum / n), exact */
static int m_mean(lua_State *L) {
  imb_column *c = checkcol(L, 1, "column:mean");
  int64_t mean;
  if (c->n == 0) return 0;
  if (imb_stats_mean(c->v, c->n, &mean)) imbL_raise(L, "column:mean", "self", 0, "the sum does not fit in 64 bits");
  imbL_pushcount(L, mean, "column:mean", "mean");
  return 1;
}

/* core.column_percentiles(col, { p_ppm, ... }) -> { value, ... } (nearest rank) */
static int c_percentiles(lua_State *L) {
  imb_column *c = checkcol(L, 1, "column:percentile");
  luaL_checktype(L, 2, LUA_TTABLE);
  int k = (int)imbL_rawlen(L, 2);
  lua_settop(L, 2);
  if (c->n == 0) {
    lua_createtable(L, 0, 0);
    return 1;
  }
  /* the copy quickselect reorders: a column of ours, so an error cannot leak
   * it and its memory goes back to the cache (a plain userdata of it stops at
   * 2 GiB on LuaJIT, with a bare "userdata length overflow") */
  imb_column *sc = imbL_newcolumn(L, c->n, "column:percentile");
  int64_t *scratch = sc->v;
  lua_createtable(L, k, 0);
  for (int j = 1; j <= k; j++) {
    int64_t p, v;
    lua_rawgeti(L, 2, j);
    if (!imbL_toint64(L, -1, &p) || p < 0 || p > 1000000)
      return imbL_raise(L, "column:percentile", "p", -1, "expected 0 .. 10^6 parts per million");
    lua_pop(L, 1);
    imb_stats_percentile(c->v, c->n, p, scratch, &v);
    imbL_pushcount(L, v, "column:percentile", "value");
    lua_rawseti(L, -2, j);
  }
  imbL_column_drop(L, sc);
  return 1;
}

/* col:totable([from [, to]]) -> a Lua array of the values from .. to */
static int m_totable(lua_State *L) {
  imb_column *c = checkcol(L, 1, "column:totable");
  size_t from = 0, to = c->n;
  if (!lua_isnoneornil(L, 2)) from = pos_arg(L, 2, c, "column:totable", "from");
  if (!lua_isnoneornil(L, 3)) {
    to = pos_arg(L, 3, c, "column:totable", "to") + 1;
    if (to <= from) imbL_raise(L, "column:totable", "to", 3, "is below from");
  }
  /* the grid's bound (g:totals): LuaJIT's tables stop near 2^27 slots with a
   * bare "table overflow", and Lua 5.4 would take 16 bytes a value */
  if (to - from > (size_t)TOTABLE_MAX) {
    lua_pushfstring(L, "%s values are too many for a Lua array (at most %d; take a range: col:totable(from, to))",
                    imbL_i64str(L, (int64_t)(to - from)), TOTABLE_MAX);
    imbL_raise(L, "column:totable", "self", 0, "%s", lua_tostring(L, -1));
  }
  lua_createtable(L, (int)(to - from), 0);
  for (size_t i = from; i < to; i++) {
#if LUA_VERSION_NUM >= 503
    lua_pushinteger(L, (lua_Integer)c->v[i]);
#else
    if (!imbL_exact(c->v[i])) {
      lua_pushfstring(L, "values[%d]", (int)(i + 1));
      imbL_raise_int(L, "column:totable", lua_tostring(L, -1), c->v[i],
                     "is beyond 2^53 and cannot be exact on this runtime");
    }
    lua_pushnumber(L, (lua_Number)c->v[i]);
#endif
    lua_rawseti(L, -2, (int)(i - from + 1));
  }
  return 1;
}

/* col[k]: a whole number 1 .. #col reads that value (as col:get), any other
 * number nil, as an array reads; another key is a method's name, looked up
 * in the methods table (upvalue 1).  In C, so that a method call costs no
 * Lua call more than it did when __index was the methods table itself. */
static int m_index(lua_State *L) {
  if (lua_type(L, 2) == LUA_TNUMBER) {
    imb_column *c = imbL_tocolumn(L, 1);
    int isint = 0;
    lua_Integer i = lua_tointegerx(L, 2, &isint);
    if (!c || !isint || i < 1 || (uint64_t)i > (uint64_t)c->n) return 0;
    lua_settop(L, 2);
    return m_get(L);
  }
  lua_settop(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static const luaL_Reg column_meta[] = {{"__len", m_len}, {"__tostring", m_tostring}, {"__gc", m_gc}, {NULL, NULL}};
static const luaL_Reg column_methods[] = {
    {"get", m_get}, {"set", m_set},   {"sum", m_sum},         {"min", m_min},   {"max", m_max},
    {"mean", m_mean}, {"copy", c_copy}, {"totable", m_totable}, {NULL, NULL}};
static const luaL_Reg column_funcs[] = {
    {"column_new", c_new},     {"column_from", c_from},   {"column_range", c_range},
    {"column_copy", c_copy},
    {"column_random", c_random}, {"column_scale", c_scale}, {"column_add", c_add},
    {"column_grow", c_grow},   {"column_percentiles", c_percentiles}, {"column_view", c_view},
    {"column_ptr", c_ptr},     {"column_meta", c_meta},   {"is_column", c_is},
    {NULL, NULL}};

void imbL_open_column(lua_State *L) {
  imbL_newclass(L, COLUMN_MT, column_meta, column_methods);
  /* __index becomes m_index over the methods table, which stays reachable
   * as the metatable's "methods" (Lua adds methods to it) */
  luaL_getmetatable(L, COLUMN_MT);
  lua_getfield(L, -1, "__index");
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "methods");
  lua_pushcclosure(L, m_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  imbL_setfuncs(L, column_funcs, 0);
}
