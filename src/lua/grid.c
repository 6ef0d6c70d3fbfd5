/* imbill.core grids: a userdata owning a grid's parameters and its results
 * (one int64 per scenario), run in slices so a caller can show progress, and
 * summarised in C (min, max, sum, percentiles, wins) so ten million
 * scenarios never become ten million Lua values. */
#include "binding.h"
#include "column.h"

#include <stdlib.h>
#include <string.h>

#define GRID_MT "imbill.grid"
#define RATE_MT "imbill.rate"

typedef struct grid_ud {
  imb_grid g;
  imb_rate *rates;
  int64_t *growth, *start, *out, *scratch;
  size_t n, done;
  int running; /* g:run's threads are pricing into out (the stop hook runs meanwhile) */
} grid_ud;

/* A count as text for a message (the %d of lua_pushfstring is an int). */
#define I64(v) imbL_i64str(L, (int64_t)(v))

static grid_ud *checkgrid(lua_State *L) { return (grid_ud *)luaL_checkudata(L, 1, GRID_MT); }

static void grid_free(grid_ud *u) {
  free(u->rates);
  free(u->growth);
  free(u->start);
  imb_col_free(u->out);
  imb_col_free(u->scratch);
  u->rates = NULL;
  u->growth = u->start = u->out = u->scratch = NULL;
}

static int grid_gc(lua_State *L) {
  grid_free(checkgrid(L));
  return 0;
}

static size_t array_len(lua_State *L, int idx, const char *field) {
  luaL_checktype(L, idx, LUA_TTABLE);
  size_t n = (size_t)imbL_rawlen(L, idx);
  if (n == 0) imbL_raise(L, NULL, field, 0, "needs at least one value");
  return n;
}

static void read_ints(lua_State *L, int idx, int64_t *dst, size_t n, const char *field) {
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, idx, (int)(i + 1));
    if (!imbL_toint64(L, -1, &dst[i]))
      imbL_raise(L, NULL, lua_pushfstring(L, "%s[%s]", field, I64(i + 1)), -3, "expected a whole number");
    lua_pop(L, 1);
  }
}

static int64_t check_nonneg(lua_State *L, int idx, const char *field) {
  int64_t v = imbL_checkint64(L, idx, field);
  if (v < 0) imbL_raise(L, NULL, field, idx, "must not be negative");
  return v;
}

/* core.grid(rates, growth_ppm, start_dau, months, groups, groups_per_dau_ppm, mau_per_dau_ppm) */
static int g_new(lua_State *L) {
  size_t nr = array_len(L, 1, "editions"), ng = array_len(L, 2, "growth"), ns = array_len(L, 3, "start_dau");
  int64_t months = imbL_checkint64(L, 4, "months");
  int64_t groups = check_nonneg(L, 5, "groups");
  int64_t gppm = check_nonneg(L, 6, "groups_per_dau");
  int64_t mppm = check_nonneg(L, 7, "mau_per_dau");
  if (months < 1 || months > IMB_GRID_MAX_MONTHS)
    return imbL_raise(L, NULL, "months", 4, "expected 1 .. %d", IMB_GRID_MAX_MONTHS);
  grid_ud *u = (grid_ud *)lua_newuserdata(L, sizeof *u);
  memset(u, 0, sizeof *u);
  luaL_getmetatable(L, GRID_MT);
  lua_setmetatable(L, -2);
  u->rates = (imb_rate *)malloc(nr * sizeof *u->rates);
  u->growth = (int64_t *)malloc(ng * sizeof *u->growth);
  u->start = (int64_t *)malloc(ns * sizeof *u->start);
  if (!u->rates || !u->growth || !u->start) return imbL_raise(L, NULL, NULL, 0, "out of memory");
  for (size_t i = 0; i < nr; i++) {
    lua_rawgeti(L, 1, (int)(i + 1));
    imb_rate *r = (imb_rate *)imbL_testudata(L, -1, RATE_MT);
    if (!r) return imbL_raise(L, NULL, lua_pushfstring(L, "editions[%s]", I64(i + 1)), -3, "expected an edition's rate");
    u->rates[i] = *r;
    lua_pop(L, 1);
  }
  read_ints(L, 2, u->growth, ng, "growth");
  read_ints(L, 3, u->start, ns, "start_dau");
  u->g.rates = u->rates;
  u->g.n_rates = nr;
  u->g.growth_ppm = u->growth;
  u->g.n_growth = ng;
  u->g.start_dau = u->start;
  u->g.n_start = ns;
  u->g.months = (int32_t)months;
  u->g.groups = groups;
  u->g.groups_per_dau_ppm = gppm;
  u->g.mau_per_dau_ppm = mppm;
  size_t n;
  imb_status s = imb_grid_check(&u->g, &n);
  if (s == IMB_EOVERFLOW) return imbL_raise(L, NULL, NULL, 0, "too many scenarios");
  if (s) {
    for (size_t i = 0; i < ng; i++)
      if (u->growth[i] <= -1000000 || u->growth[i] > 100000000)
        return imbL_raise(L, NULL, lua_pushfstring(L, "growth[%s]", I64(i + 1)), 0, "must be above -100%% and at most 10000%%");
    for (size_t i = 0; i < ns; i++)
      if (u->start[i] < 0) return imbL_raise(L, NULL, lua_pushfstring(L, "start_dau[%s]", I64(i + 1)), 0, "must not be negative");
    return imbL_status_error(L, s, "grid", "the grid's parameters");
  }
  if (n > ((size_t)1 << 40)) return imbL_raise(L, NULL, NULL, 0, "too many scenarios (%s; at most 2^40)", I64(n));
  u->n = n;
  /* aligned for huge pages: ten million results fault in 40 pages, not 20,000 */
  u->out = imb_col_alloc(n);
  if (!u->out) return imbL_raise(L, NULL, NULL, 0, "out of memory for %s scenarios", I64(n));
  return 1;
}

/* g:run([count [, threads]]) -> scenarios done so far: the next count
 * scenarios (default: all that are left) on `threads` threads (nil or 0: every
 * core); or nil, the first scenario that cannot be priced (1-based) and why,
 * for the Lua layer to name with its edition, growth and starting DAU.  The
 * threads have all ended when it returns or raises. */
static int g_run(lua_State *L) {
  grid_ud *u = checkgrid(L);
  size_t left = u->n - u->done, count = left;
  if (!lua_isnoneornil(L, 2)) {
    int64_t c = check_nonneg(L, 2, "count");
    if ((uint64_t)c < (uint64_t)left) count = (size_t)c;
  }
  int threads = imbL_threads(L, 3);
  size_t bad = 0;
  /* the stop hook runs Lua while the threads write out[done ..]: a run of
   * this grid from there would write the same totals at the same time */
  if (u->running) return imbL_raise(L, NULL, "self", 0, "is running already (g:run called from the stop hook, core.set_stop)");
  imbL_stop st;
  u->running = 1;
  imb_status s = imb_grid_run_stop(&u->g, u->done, u->done + count, u->out + u->done, &bad, threads,
                                   imbL_stop_begin(L, &st));
  u->running = 0;
  /* nothing counts as done: the next run starts the chunk again */
  if (s == IMB_ESTOPPED) return imbL_stop_raise(L, NULL);
  if (s) {
    lua_pushnil(L);
    imbL_pushint64(L, (int64_t)(bad + 1));
    /* IMB_ERANGE: a total past what money holds (the horizon's total is money) */
    lua_pushstring(L, s == IMB_ERANGE ? "is " IMBL_TOO_MUCH : imb_strerror(s));
    return 3;
  }
  u->done += count;
  imbL_pushint64(L, (int64_t)u->done);
  return 1;
}

/* g:column() -> the totals computed so far as a read-only column (no copy; the
 * column keeps the grid alive) */
static int g_column(lua_State *L) {
  grid_ud *u = checkgrid(L);
  imbL_viewcolumn(L, 1, u->out, u->done, 1);
  return 1;
}

static int g_size(lua_State *L) {
  grid_ud *u = checkgrid(L);
  imbL_pushint64(L, (int64_t)u->n);
  imbL_pushint64(L, (int64_t)u->g.n_rates);
  imbL_pushint64(L, (int64_t)u->g.n_growth);
  imbL_pushint64(L, (int64_t)u->g.n_start);
  return 4;
}

static int g_done(lua_State *L) {
  imbL_pushint64(L, (int64_t)checkgrid(L)->done);
  return 1;
}

/* A 1-based inclusive range [lo, hi] from arguments idx, idx+1 (default: all),
 * which must be computed already. Returns 0-based start and count. */
static void range(lua_State *L, grid_ud *u, int idx, size_t *start, size_t *count) {
  int64_t lo = lua_isnoneornil(L, idx) ? 1 : imbL_checkint64(L, idx, "from");
  int64_t hi = lua_isnoneornil(L, idx + 1) ? (int64_t)u->n : imbL_checkint64(L, idx + 1, "to");
  if (lo < 1 || hi < lo || (uint64_t)hi > (uint64_t)u->n)
    imbL_raise(L, NULL, lo < 1 ? "from" : "to", 0, "%s .. %s is not within 1 .. %s", I64(lo), I64(hi), I64(u->n));
  if ((uint64_t)hi > (uint64_t)u->done)
    imbL_raise(L, NULL, "to", 0, "scenarios up to %s are not computed yet (done: %s); call run()", I64(hi), I64(u->done));
  *start = (size_t)(lo - 1);
  *count = (size_t)(hi - lo + 1);
}

static int g_get(lua_State *L) {
  grid_ud *u = checkgrid(L);
  int64_t i = imbL_checkint64(L, 2, "index");
  if (i < 1 || (uint64_t)i > (uint64_t)u->done)
    return imbL_raise(L, NULL, "index", 2, "not a computed scenario (1 .. %s)", I64(u->done));
  imbL_pushint64(L, u->out[i - 1]);
  return 1;
}

/* g:coords(i) -> edition, growth, start (1-based positions in the inputs) */
static int g_coords(lua_State *L) {
  grid_ud *u = checkgrid(L);
  int64_t i = imbL_checkint64(L, 2, "index");
  if (i < 1 || (uint64_t)i > (uint64_t)u->n)
    return imbL_raise(L, NULL, "index", 2, "not a scenario (1 .. %s)", I64(u->n));
  size_t per = u->g.n_growth * u->g.n_start, k = (size_t)(i - 1);
  imbL_pushint64(L, (int64_t)(k / per + 1));
  imbL_pushint64(L, (int64_t)((k % per) / u->g.n_start + 1));
  imbL_pushint64(L, (int64_t)(k % u->g.n_start + 1));
  return 3;
}

static int g_minmax(lua_State *L, int want_max) {
  grid_ud *u = checkgrid(L);
  size_t start, count, imin, imax;
  range(L, u, 2, &start, &count);
  imb_stats_minmax(u->out + start, count, &imin, &imax);
  size_t at = start + (want_max ? imax : imin);
  imbL_pushint64(L, u->out[at]);
  imbL_pushint64(L, (int64_t)(at + 1));
  return 2;
}
static int g_min(lua_State *L) { return g_minmax(L, 0); }
static int g_max(lua_State *L) { return g_minmax(L, 1); }

static int g_sum(lua_State *L) {
  grid_ud *u = checkgrid(L);
  size_t start, count;
  int64_t sum;
  range(L, u, 2, &start, &count);
  if (imb_stats_sum(u->out + start, count, &sum)) return imbL_raise(L, NULL, NULL, 0, "the sum overflows 64 bits");
  imbL_pushint64(L, sum);
  imbL_pushint64(L, (int64_t)count);
  return 2;
}

/* g:mean([from, to]) -> round_half_up(sum / n) in cents, exact in C: the sum
 * of many totals passes 2^53 long before the mean does */
static int g_mean(lua_State *L) {
  grid_ud *u = checkgrid(L);
  size_t start, count;
  int64_t mean;
  range(L, u, 2, &start, &count);
  if (imb_stats_mean(u->out + start, count, &mean)) return imbL_raise(L, NULL, NULL, 0, "the sum overflows 64 bits");
  imbL_pushint64(L, mean);
  return 1;
}

/* g:percentile(p_ppm [, from, to]) */
static int g_percentile(lua_State *L) {
  grid_ud *u = checkgrid(L);
  int64_t p = imbL_checkint64(L, 2, "percentile");
  size_t start, count;
  int64_t v;
  if (p < 0 || p > 1000000) return imbL_raise(L, NULL, "p", 0, "expected 0 .. 100%%");
  range(L, u, 3, &start, &count);
  if (!u->scratch) {
    u->scratch = imb_col_alloc(u->n);
    if (!u->scratch) return imbL_raise(L, NULL, NULL, 0, "out of memory");
  }
  imb_stats_percentile(u->out + start, count, p, u->scratch, &v);
  imbL_pushint64(L, v);
  return 1;
}

/* g:wins() -> { wins, ... }, { ties, ... } by edition (imb_grid_wins) */
static int g_wins(lua_State *L) {
  grid_ud *u = checkgrid(L);
  if (u->done < u->n) return imbL_raise(L, NULL, NULL, 0, "not all scenarios are computed yet; call run()");
  uint64_t *wins = (uint64_t *)malloc(2 * u->g.n_rates * sizeof *wins);
  if (!wins) return imbL_raise(L, NULL, NULL, 0, "out of memory");
  uint64_t *ties = wins + u->g.n_rates;
  imb_grid_wins(&u->g, u->out, wins);
  imb_grid_ties(&u->g, u->out, ties);
  for (int t = 0; t < 2; t++) {
    lua_createtable(L, (int)u->g.n_rates, 0);
    for (size_t r = 0; r < u->g.n_rates; r++) {
      imbL_pushint64(L, (int64_t)(t ? ties : wins)[r]);
      lua_rawseti(L, -2, (int)(r + 1));
    }
  }
  free(wins);
  return 2;
}

/* g:totals([from, to]) -> Lua array of cents */
static int g_totals(lua_State *L) {
  grid_ud *u = checkgrid(L);
  size_t start, count;
  range(L, u, 2, &start, &count);
  if (count > 50000000)
    return imbL_raise(L, NULL, NULL, 0, "%s values are too many for a Lua array (g:column() holds any number)", I64(count));
  lua_createtable(L, (int)count, 0);
  for (size_t i = 0; i < count; i++) {
    imbL_pushint64(L, u->out[start + i]);
    lua_rawseti(L, -2, (int)(i + 1));
  }
  return 1;
}

/* core.grid_grow(dau, growth_ppm) -> next month's DAU */
static int g_grow(lua_State *L) {
  int64_t next;
  imb_status s = imb_grid_grow(check_nonneg(L, 1, "dau"), imbL_checkint64(L, 2, "growth"), &next);
  if (s) return imbL_status_error(L, s, "growth", lua_tostring(L, 2));
  imbL_pushint64(L, next);
  return 1;
}

/* core.muldiv(a, b, d) -> round_half_up(a x b / d) for whole a, b >= 0 and
 * d > 0, in 128 bits, or nil when the result passes 64 bits: what-if counts
 * (imbill.internal.integer) whose product passes 2^53 where the count does
 * not, as the grid's own growth (imb_grid_grow). */
static int g_muldiv(lua_State *L) {
  int64_t a = imbL_checkint64(L, 1, "a"), b = imbL_checkint64(L, 2, "b"), d = imbL_checkint64(L, 3, "d"), q;
  if (a < 0 || b < 0 || d <= 0) return imbL_raise(L, NULL, NULL, 0, "core.muldiv: expected a, b >= 0 and d > 0");
  if (imb_muldiv(a, b, d, &q)) return 0;
  /* a result past 2^53 is the caller's to refuse, by its own bound */
#if LUA_VERSION_NUM >= 503
  lua_pushinteger(L, (lua_Integer)q);
#else
  lua_pushnumber(L, (lua_Number)q);
#endif
  return 1;
}

static const luaL_Reg grid_meta[] = {{"__gc", grid_gc}, {NULL, NULL}};
static const luaL_Reg grid_methods[] = {
    {"run", g_run},         {"size", g_size}, {"done", g_done}, {"get", g_get},
    {"coords", g_coords},   {"min", g_min},   {"max", g_max},   {"sum", g_sum}, {"mean", g_mean},
    {"percentile", g_percentile}, {"wins", g_wins}, {"totals", g_totals}, {"column", g_column},
    {NULL, NULL}};
static const luaL_Reg grid_funcs[] = {{"grid", g_new}, {"grid_grow", g_grow}, {"muldiv", g_muldiv}, {NULL, NULL}};

void imbL_open_grid(lua_State *L) {
  imbL_newclass(L, GRID_MT, grid_meta, grid_methods);
  imbL_setfuncs(L, grid_funcs, 0);
}
