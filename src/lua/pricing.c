/* Rates (an edition's prices) as userdata, and the pricing arithmetic over them.
 * The batch entry point reads Lua arrays in place and writes one integer per
 * scenario, so a million scenarios cost no per-scenario Lua tables. */
#include "binding.h"
#include "column.h"

#include <string.h>
#include <time.h>

#define RATE_MT "imbill.rate"

static imb_rate *checkrate(lua_State *L, int idx) {
  return (imb_rate *)luaL_checkudata(L, idx, RATE_MT);
}

static int64_t opt_int_field(lua_State *L, int t, const char *k, const char *path) {
  int64_t v = 0;
  lua_getfield(L, t, k);
  if (!lua_isnil(L, -1)) {
    lua_pushfstring(L, "%s.%s", path, k);
    v = imbL_checkint64(L, -2, lua_tostring(L, -1));
    if (v < 0) imbL_raise(L, NULL, lua_tostring(L, -1), -2, "must not be negative");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return v;
}

static void read_charge(lua_State *L, int t, const char *k, imb_charge *c) {
  memset(c, 0, sizeof *c);
  lua_getfield(L, t, k);
  if (lua_istable(L, -1)) {
    int ct = lua_gettop(L);
    c->free = opt_int_field(L, ct, "free", k);
    c->block = opt_int_field(L, ct, "block", k);
    lua_getfield(L, ct, "price");
    lua_pushfstring(L, "%s.price", k);
    c->price = lua_isnil(L, -2) ? 0 : imbL_checkmoney(L, -2, lua_tostring(L, -1));
    lua_pop(L, 2);
  } else if (!lua_isnil(L, -1)) {
    imbL_raise(L, NULL, k, -1, "expected a table {free=, block=, price=}");
  }
  lua_pop(L, 1);
}

/* core.rate{ monthly_fee =, free = bool, dau = {free=, block=, price=}, groups = ..., mau = ... } */
static int p_rate(lua_State *L) {
  imb_rate r;
  luaL_checktype(L, 1, LUA_TTABLE);
  memset(&r, 0, sizeof r);
  lua_getfield(L, 1, "monthly_fee");
  r.monthly_fee = imbL_checkmoney(L, -1, "monthly_fee");
  lua_getfield(L, 1, "free");
  r.is_free = lua_toboolean(L, -1);
  lua_pop(L, 2);
  read_charge(L, 1, "dau", &r.dau);
  read_charge(L, 1, "groups", &r.groups);
  read_charge(L, 1, "mau", &r.mau);
  if (imb_rate_check(&r) != IMB_OK) return imbL_raise(L, NULL, "rate", 0, "negative price, block or quota");
  imb_rate *u = (imb_rate *)lua_newuserdata(L, sizeof *u);
  *u = r;
  luaL_getmetatable(L, RATE_MT);
  lua_setmetatable(L, -2);
  return 1;
}

static int rate_tostring(lua_State *L) {
  char fee[IMB_MONEY_BUFSZ];
  imb_rate *r = checkrate(L, 1);
  imb_money_format(r->monthly_fee, 2, fee);
  lua_pushfstring(L, "imbill.rate(%s%s)", fee, r->is_free ? ", free" : "");
  return 1;
}

static const char *const charge_names[] = {"dau", "groups", "mau", NULL};

/* blocks, cents = core.charge(rate, "dau"|"groups"|"mau", value) */
static int p_charge(lua_State *L) {
  imb_rate *r = checkrate(L, 1);
  int which = luaL_checkoption(L, 2, NULL, charge_names);
  const imb_charge *c = which == 0 ? &r->dau : which == 1 ? &r->groups : &r->mau;
  const char *field = luaL_optstring(L, 4, charge_names[which]);
  int64_t value = imbL_checkint64(L, 3, field), blocks, cents;
  imb_status s;
  if (value < 0) return imbL_raise(L, NULL, field, 3, "must not be negative");
  if (r->is_free) blocks = cents = 0;
  else if ((s = imb_charge_apply(c, value, &blocks, &cents)) != IMB_OK)
    return imbL_raise(L, NULL, field, 0, "%s gives a charge that does not fit in 64 bits", imbL_i64str(L, value));
  /* callers turn the cents into money (micro-units): keep that step from failing */
  if (cents > INT64_MAX / IMB_MICROS_PER_CENT)
    return imbL_raise(L, NULL, field, 0, "%s gives a charge that does not fit in 64 bits", imbL_i64str(L, value));
  imbL_pushint64(L, blocks);
  imbL_pushint64(L, cents);
  return 2;
}

/* cents = core.prorate(monthly, days, days_in_month) */
static int p_prorate(lua_State *L) {
  int64_t monthly = imbL_checkmoney(L, 1, "monthly_fee");
  int64_t days = imbL_checkint64(L, 2, "days"), dim = imbL_checkint64(L, 3, "days_in_month"), c;
  if (dim < 28 || dim > 31 || days < 0 || days > dim)
    return imbL_raise(L, NULL, "days", 0, "%s of %s is not a part of a month", imbL_i64str(L, days), imbL_i64str(L, dim));
  if (imb_prorate(monthly, (int32_t)days, (int32_t)dim, &c))
    return imbL_raise(L, NULL, "monthly_fee", 0, "too large to prorate");
  imbL_pushint64(L, c);
  return 1;
}

/* cents = core.round_cents(money): one half-up rounding to the cent */
static int p_round_cents(lua_State *L) {
  int64_t c;
  imb_round_cents(imbL_checkmoney(L, 1, "amount"), &c);
  imbL_pushint64(L, c);
  return 1;
}

static const char *const usage_fields[3] = {"peak_dau", "groups_peak", "mau"};

/* cents = core.month_total(rate, peak_dau, groups_peak, mau) */
static int p_month_total(lua_State *L) {
  imb_rate *r = checkrate(L, 1);
  int64_t v[3], c;
  for (int k = 0; k < 3; k++) {
    v[k] = imbL_checkint64(L, 2 + k, usage_fields[k]);
    if (v[k] < 0) return imbL_raise(L, NULL, usage_fields[k], 2 + k, "must not be negative");
  }
  if (imb_month_total(r, v[0], v[1], v[2], &c))
    return imbL_raise(L, NULL, "usage", 0, "peak_dau %s, groups_peak %s, mau %s: the total does not fit in 64 bits",
                      imbL_i64str(L, v[0]), imbL_i64str(L, v[1]), imbL_i64str(L, v[2]));
  imbL_pushint64(L, c);
  return 1;
}

/* core.rate_ptr(rate) -> lightuserdata: the imb_rate inside the userdata, for
 * the LuaJIT FFI binding (lua/imbill/ffi.lua), which cannot look inside a C-API
 * userdata.  The pointer is valid only while the rate userdata is alive, so the
 * caller keeps a reference to it. */
static int p_rate_ptr(lua_State *L) {
  lua_pushlightuserdata(L, checkrate(L, 1));
  return 1;
}

/* A number used for every scenario of a batch: a whole number >= 0. */
static int64_t batch_scalar(lua_State *L, int idx, const char *field) {
  int64_t v;
  if (!imbL_toint64(L, idx, &v))
    imbL_raise(L, NULL, field, idx, "%s", imbL_isbigfloat(L, idx)
               ? IMBL_BIGFLOAT : "expected a whole number");
  if (v < 0) imbL_raise(L, NULL, field, idx, "must not be negative");
  return v;
}

/* One batch input: an array (walked) or a number (repeated).  Returns its length,
 * or -1 for a number. */
static lua_Integer batch_len(lua_State *L, int idx, const char *field) {
  int t = lua_type(L, idx);
  if (t == LUA_TTABLE) return (lua_Integer)imbL_rawlen(L, idx);
  if (t == LUA_TNUMBER || imbL_iscdata(L, idx)) {
    batch_scalar(L, idx, field);
    return -1;
  }
  if (t == LUA_TNIL || t == LUA_TNONE) return -1;
  return imbL_raise(L, NULL, field, idx, "expected an array of whole numbers or a number");
}

/* Scenarios are read into C buffers CHUNK at a time and priced by imb_totals:
 * the buffers stay in cache, the core's batch loop runs at full speed, and no
 * Lua table is built per scenario. */
#define CHUNK 256
/* chunks between two calls of the stop hook (core.set_stop): 16,384
 * scenarios, about a millisecond, where 20 million took 7 s unstoppable */
#define POLL_CHUNKS 64

/* The error for a batch value at the top of the stack that is not a count. */
static void batch_bad(lua_State *L, lua_Integer i, const char *field) {
  int vi = lua_gettop(L), big = imbL_isbigfloat(L, vi);
  const char *shown = imbL_show(L, vi);
  const char *at = lua_pushfstring(L, "%s[%d]", field, (int)i);
  if (big) imbL_raise(L, NULL, at, 0, "%s " IMBL_BIGFLOAT, shown);
  imbL_raise(L, NULL, at, vi, "expected a whole number >= 0");
}

/* Reads t[i] (t at idx) as a whole number >= 0, leaving it on the stack. */
static inline int64_t batch_elem(lua_State *L, int idx, lua_Integer i, const char *field) {
#if LUA_VERSION_NUM >= 503
  /* two API calls per value: lua_rawgeti tells the type (a string such as "5"
   * would pass lua_tointegerx), lua_tointegerx refuses 2.5 */
  int isint = 0;
  int t = lua_rawgeti(L, idx, i);
  lua_Integer v = lua_tointegerx(L, -1, &isint);
  /* the float test only for values past 2^53: the common case pays nothing */
  if (t != LUA_TNUMBER || !isint || v < 0 || (v > IMB_MAX_EXACT && imbL_isbigfloat(L, -1)))
    batch_bad(L, i, field);
  return (int64_t)v;
#else
  int64_t v;
  lua_rawgeti(L, idx, (int)i);
  if (!imbL_toint64(L, -1, &v) || v < 0) batch_bad(L, i, field);
  return v;
#endif
}

/* Raises the error for a scenario the core could not price (pos is 1-based):
 * the usage value whose line alone does not fit, or else the scenario's total.
 * The edition is named (name) when several are priced at once. */
static int raise_unpriced(lua_State *L, const imb_rate *r, const char *name, const int64_t v[3], const int is_array[3],
                          int64_t pos, imb_status s) {
  const imb_charge *ch[3] = {&r->dau, &r->groups, &r->mau};
  const char *on = name ? lua_pushfstring(L, "on %s, ", name) : "";
  for (int k = 0; k < 3; k++) {
    int64_t blocks, cents;
    /* a line beyond money's range is the value's, as imbill.invoice says it (p_charge) */
    if (r->is_free || (!imb_charge_apply(ch[k], v[k], &blocks, &cents) && cents <= IMB_MONEY_MAX_CENTS)) continue;
    const char *field = is_array[k] ? lua_pushfstring(L, "%s[%s]", usage_fields[k], imbL_i64str(L, pos))
                                    : usage_fields[k];
    return imbL_raise(L, NULL, field, 0, "%s%s gives a charge that does not fit in 64 bits", on, imbL_i64str(L, v[k]));
  }
  const char *field = lua_pushfstring(L, "scenario %s", imbL_i64str(L, pos));
  int64_t total;
  if (s == IMB_ERANGE && imb_month_total(r, v[0], v[1], v[2], &total) == IMB_OK)
    return imbL_raise(L, NULL, field, 0, "%sthe total %s cents is " IMBL_TOO_MUCH, on,
                      imbL_i64str(L, total));
  return imbL_raise(L, NULL, field, 0, "%sthe total %s (peak_dau, groups_peak or mau too large)", on, imb_strerror(s));
}

/* The arrays of cents of scenarios read from the arguments 2, 3 and 4 (each an
 * array, a number or nil), priced on nr rates: nr new arrays pushed in the
 * order of the rates.  Each chunk of scenarios is read once, whatever the
 * number of rates: reading a Lua array through the C API costs as much as
 * pricing it many times over.  A value that cannot be read is reported first
 * (by scenario, fields in order); then the first scenario that cannot be
 * priced, on the first rate that cannot (named when there are several). */
static int totals_arrays(lua_State *L, int nr, imb_rate *const *rates, const char *const *names) {
  const char *const *fields = usage_fields;
  lua_Integer n = -1;
  int64_t in[3][CHUNK], scalar[3] = {0, 0, 0}, res[CHUNK];
  int is_array[3], sized = 0; /* sized: the field whose array gave n */
  for (int k = 0; k < 3; k++) {
    lua_Integer len = batch_len(L, 2 + k, fields[k]);
    is_array[k] = len >= 0;
    if (lua_type(L, 2 + k) == LUA_TNUMBER || imbL_iscdata(L, 2 + k))
      scalar[k] = batch_scalar(L, 2 + k, fields[k]);
    if (len < 0) continue;
    if (len > INT32_MAX)
      return imbL_raise(L, NULL, fields[k], 0, "has more than 2^31 scenarios, more than one call takes");
    if (n >= 0 && len != n)
      return imbL_raise(L, NULL, fields[k], 0, "has %d scenario%s where %s has %d", (int)len, len == 1 ? "" : "s",
                        fields[sized], (int)n);
    if (n < 0) sized = k;
    n = len;
  }
  if (n < 0) n = 1;
  int out = lua_gettop(L) + 1;
  luaL_checkstack(L, nr + 3 * CHUNK + 8, "totals: no stack space for a chunk of scenarios");
  for (int e = 0; e < nr; e++) lua_createtable(L, (int)n, 0);
  int top = lua_gettop(L);
  const int64_t *src[3];
  for (int k = 0; k < 3; k++) src[k] = is_array[k] ? in[k] : &scalar[k];
  for (lua_Integer base = 1; base <= n; base += CHUNK) {
    size_t len = (size_t)(n - base + 1 < CHUNK ? n - base + 1 : CHUNK), first_bad = 0;
    int first_e = -1;
    /* Lua arrays are read here, in C, where the count hook of a notebook's
     * interrupt never runs.  The stop hook runs Lua on this thread between
     * chunks, when no value of a chunk is held: the results so far are in
     * tables it cannot reach */
    if ((base - 1) / CHUNK % POLL_CHUNKS == 0) imbL_stop_check(L);
    imb_status first_s = IMB_OK;
    /* scenario by scenario, fields in order: the first bad value is reported */
    for (size_t j = 0; j < len; j++)
      for (int k = 0; k < 3; k++)
        if (is_array[k]) in[k][j] = batch_elem(L, 2 + k, base + (lua_Integer)j, fields[k]);
    lua_settop(L, top); /* drop the values read, all at once */
    for (int e = 0; e < nr; e++) {
      size_t bad = 0;
      imb_status s =
          imb_totals(rates[e], len, src[0], is_array[0], src[1], is_array[1], src[2], is_array[2], res, &bad);
      if (s) {
        if (first_e < 0 || bad < first_bad) {
          first_e = e;
          first_bad = bad;
          first_s = s;
        }
        continue;
      }
      for (size_t j = 0; j < len; j++) {
#if LUA_VERSION_NUM >= 503
        lua_pushinteger(L, (lua_Integer)res[j]); /* direct: this loop is the hot path */
#else
        lua_pushnumber(L, (lua_Number)res[j]); /* at most IMB_MONEY_MAX_CENTS, below 2^53: exact */
#endif
        lua_rawseti(L, out + e, (int)(base + (lua_Integer)j));
      }
    }
    if (first_e >= 0) {
      int64_t v[3];
      for (int k = 0; k < 3; k++) v[k] = is_array[k] ? in[k][first_bad] : scalar[k];
      return raise_unpriced(L, rates[first_e], nr > 1 && names ? names[first_e] : NULL, v, is_array,
                            (int64_t)(base + (lua_Integer)first_bad), first_s);
    }
  }
  return nr;
}

/* core.totals(rate, dau, groups, mau) -> array of cents */
static int p_totals(lua_State *L) {
  imb_rate *r = checkrate(L, 1);
  lua_settop(L, 4); /* missing inputs become nil */
  return totals_arrays(L, 1, &r, NULL);
}

/* The rates of argument 1 (an array of rates) and the names of argument 6 or 5
 * (an array of strings), in temporary arrays that live on the stack. */
static int rates_arg(lua_State *L, const imb_rate ***rates, const char ***names) {
  int names_idx = lua_istable(L, 6) ? 6 : 5;
  if (!lua_istable(L, 1)) return imbL_raise(L, NULL, "editions", 1, "expected a list of editions' rates");
  if (!lua_istable(L, names_idx)) return imbL_raise(L, NULL, "names", names_idx, "expected a list of names");
  int nr = (int)imbL_rawlen(L, 1);
  if (nr < 1) return imbL_raise(L, NULL, "editions", 0, "needs at least one edition");
  *rates = (const imb_rate **)lua_newuserdata(L, (size_t)nr * sizeof **rates);
  *names = (const char **)lua_newuserdata(L, (size_t)nr * sizeof **names);
  /* the two arrays stay on the stack, above the arguments */
  for (int e = 0; e < nr; e++) {
    lua_rawgeti(L, 1, e + 1);
    (*rates)[e] = (const imb_rate *)imbL_testudata(L, -1, RATE_MT);
    if (!(*rates)[e])
      return imbL_raise(L, NULL, lua_pushfstring(L, "editions[%d]", e + 1), -2, "expected an edition's rate");
    lua_pop(L, 1);
    lua_rawgeti(L, names_idx, e + 1);
    (*names)[e] = lua_tostring(L, -1); /* the name table keeps the string alive */
    if (!(*names)[e]) (*names)[e] = "?";
    lua_pop(L, 1);
  }
  return nr;
}

/* core.totals_many({ rate, ... }, dau, groups, mau, { name, ... }) -> { array, ... }:
 * the same scenarios on several editions, read once. */
static int p_totals_many(lua_State *L) {
  const imb_rate **rates;
  const char **names;
  lua_settop(L, 5);
  int nr = rates_arg(L, &rates, &names);
  int got = totals_arrays(L, nr, (imb_rate *const *)rates, names), first = lua_gettop(L) - got + 1;
  lua_createtable(L, got, 0);
  for (int e = 0; e < got; e++) {
    lua_pushvalue(L, first + e);
    lua_rawseti(L, -2, e + 1);
  }
  return 1;
}

/* Columns of cents of the scenarios in arguments 2, 3 and 4 (each a column, an
 * array, read into a column first, a number for every scenario, or nil for 0)
 * on nr rates, pushed in their order, priced on the threads of argument 5
 * (nil or 0: every core); with one rate, into the column at `into` when it
 * is given (0: none).  Several rates are priced together, a chunk of scenarios at a
 * time on each (imb_totals_many), and a failure names its edition. */
static int totals_columns(lua_State *L, int nr, const imb_rate *const *rates, const char *const *names, int into) {
  const int64_t *in[3];
  int64_t scalar[3] = {0, 0, 0};
  size_t step[3] = {0, 0, 0};
  int is_col[3] = {0, 0, 0};
  int64_t n = -1;
  int first = -1;
  for (int k = 0; k < 3; k++) {
    int idx = 2 + k;
    imb_column *c = imbL_tocolumn(L, idx);
    if (!c && lua_type(L, idx) == LUA_TTABLE) {
      imbL_arraycolumn(L, idx, NULL, usage_fields[k], 1);
      lua_replace(L, idx); /* the column stays referenced from its argument slot */
      c = imbL_tocolumn(L, idx);
    }
    in[k] = &scalar[k];
    if (c) {
      if (n >= 0 && (int64_t)c->n != n)
        return imbL_raise(L, NULL, usage_fields[k], 0, "has %s scenario%s where %s has %s",
                          imbL_i64str(L, (int64_t)c->n), c->n == 1 ? "" : "s", usage_fields[first],
                          imbL_i64str(L, n));
      if (n < 0) first = k;
      n = (int64_t)c->n;
      in[k] = c->v;
      step[k] = 1;
      is_col[k] = 1;
    } else if (lua_type(L, idx) == LUA_TNUMBER || imbL_iscdata(L, idx)) {
      scalar[k] = batch_scalar(L, idx, usage_fields[k]);
    } else if (!lua_isnil(L, idx)) {
      return imbL_raise(L, NULL, usage_fields[k], idx, "expected a column, an array of whole numbers or a number");
    }
  }
  if (n < 0) n = 1;
  int threads = imbL_threads(L, 5);
  int64_t **out = (int64_t **)lua_newuserdata(L, (size_t)nr * sizeof *out);
  imb_column *dest = NULL, *scratch = NULL;
  int base = lua_gettop(L) + 1;
  if (into && !lua_isnil(L, into)) {
    imb_column *o = imbL_tocolumn(L, into);
    if (!o) return imbL_raise(L, NULL, "into", into, "expected a column");
    if ((int64_t)o->n != n)
      return imbL_raise(L, NULL, "into", 0, "has %s values where the scenarios are %s", imbL_i64str(L, (int64_t)o->n),
                        imbL_i64str(L, n));
    if (o->readonly == IMBL_COL_BUSY)
      return imbL_raise(L, NULL, "into", 0, "is being priced by the call that runs the stop hook (core.set_stop)");
    if (o->readonly) return imbL_raise(L, NULL, "into", 0, "is read-only (a grid's results, or a view of const memory)");
    for (int k = 0; k < 3; k++)
      if (is_col[k] && in[k] == o->v && o->n)
        return imbL_raise(L, NULL, "into", 0, "is the %s column itself; pass another column", usage_fields[k]);
    /* all or nothing: priced aside, handed to `into` only once every
     * scenario is priced, so a call that raises leaves its values as they
     * were; the hand-over moves a buffer, not the values (imbL_column_take) */
    dest = o;
    scratch = imbL_newcolumn(L, (size_t)n, "imbill.totals");
    out[0] = scratch->v;
  } else {
    luaL_checkstack(L, nr + 4, "totals: no stack space for the results");
    for (int e = 0; e < nr; e++) out[e] = imbL_newcolumn(L, (size_t)n, "imbill.totals")->v;
  }
  /* a new column's collector step may run finalizers, and one pricing into
   * an input column hands that column another buffer: read them again */
  for (int k = 0; k < 3; k++)
    if (is_col[k]) in[k] = imbL_tocolumn(L, 2 + k)->v;
  size_t bad = 0, bad_rate = 0;
  int field = -1;
  imbL_stop st;
  const imb_stop *stop = imbL_stop_begin(L, &st);
  /* the hook's Lua must not write the inputs the threads read (IMBL_COL_BUSY);
   * restored in reverse, so a column passed twice gets back its own flag */
  imb_column *busy[3] = {NULL, NULL, NULL};
  int was[3] = {0, 0, 0};
  if (stop)
    for (int k = 0; k < 3; k++)
      if (is_col[k]) {
        busy[k] = imbL_tocolumn(L, 2 + k);
        was[k] = busy[k]->readonly;
        busy[k]->readonly = IMBL_COL_BUSY;
      }
  imb_status s = imb_totals_many_stop(rates, (size_t)nr, (size_t)n, in[0], step[0], in[1], step[1], in[2], step[2],
                                      INT64_MAX, out, &bad, &field, &bad_rate, threads, stop);
  for (int k = 2; k >= 0; k--)
    if (busy[k]) busy[k]->readonly = was[k];
  if (s && scratch) imbL_column_drop(L, scratch); /* its buffer to the cache now, not at its collection */
  if (s == IMB_ESTOPPED) return imbL_stop_raise(L, NULL); /* `into` keeps its values, as on any failure */
  if (s == IMB_ENOMEM) return imbL_raise(L, NULL, "editions", 0, "no memory to prepare %d editions", nr);
  if (s) {
    int64_t v[3];
    for (int k = 0; k < 3; k++) v[k] = in[k][bad * step[k]];
    if (field >= 0) {
      const char *at = lua_pushfstring(L, "%s[%s]", usage_fields[field], imbL_i64str(L, (int64_t)bad + 1));
      return imbL_raise_int(L, NULL, at, v[field], "expected a whole number >= 0");
    }
    return raise_unpriced(L, rates[bad_rate], nr > 1 && names ? names[bad_rate] : NULL, v, is_col, (int64_t)bad + 1,
                          s);
  }
  if (dest) {
    imbL_column_take(L, dest, scratch);
    lua_pushvalue(L, into);
    return 1;
  }
  return lua_gettop(L) - base + 1;
}

/* core.totals_columns(rate, dau, groups, mau [, threads [, into]]) -> a column of cents */
static int p_totals_columns(lua_State *L) {
  const imb_rate *r = checkrate(L, 1);
  lua_settop(L, 6);
  return totals_columns(L, 1, &r, NULL, 6);
}

/* core.totals_columns_many({ rate, ... }, dau, groups, mau, threads, { name, ... })
 * -> { column, ... } */
static int p_totals_columns_many(lua_State *L) {
  const imb_rate **rates;
  const char **names;
  lua_settop(L, 6);
  int nr = rates_arg(L, &rates, &names);
  int got = totals_columns(L, nr, rates, names, 0), first = lua_gettop(L) - got + 1;
  lua_createtable(L, got, 0);
  for (int e = 0; e < got; e++) {
    lua_pushvalue(L, first + e);
    lua_rawseti(L, -2, e + 1);
  }
  return 1;
}

/* core.cores() -> the processors online, the default number of threads */
static int p_cores(lua_State *L) {
  lua_pushinteger(L, imb_cores());
  return 1;
}

/* core.clock() -> seconds on the monotonic clock: os.clock() counts the CPU
 * time of every thread, so threaded work is timed with this instead */
static int p_clock(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

static const char *const trtc_tiers[IMB_TRTC_TIERS] = {"audio", "hd", "fhd", "2k", "4k"};

/* The error for TRTC seconds whose amount is more than money holds: the tier
 * whose minutes alone are too many, else the line's total. */
static int trtc_too_much(lua_State *L, const imb_trtc *t) {
  for (int i = 0; i < IMB_TRTC_TIERS; i++) {
    imb_trtc one = *t;
    /* seconds of exactly the billed minutes: ceil(INT64_MAX / 60) past 2^63 / 60 */
    int64_t secs = t->billed[i] > INT64_MAX / 60 ? INT64_MAX : t->billed[i] * 60;
    for (int k = 0; k < IMB_TRTC_TIERS; k++) one.seconds[k] = k == i ? secs : 0;
    one.free_minutes = 0;
    if (imb_trtc_price(&one) == IMB_OK) continue;
    const char *field = lua_pushfstring(L, "trtc.%s", trtc_tiers[i]);
    return imbL_raise(L, NULL, field, 0, "%s seconds cost " IMBL_TOO_MUCH,
                      imbL_i64str(L, t->seconds[i]));
  }
  return imbL_raise(L, NULL, "trtc", 0, "the amount of these seconds is " IMBL_TOO_MUCH);
}

/* core.trtc(seconds{audio=..}, prices{audio=money..}, free_minutes) ->
 * cents, { {tier=, minutes=, billed=}, ... }, the unrounded amount as text */
static int p_trtc(lua_State *L) {
  imb_trtc t;
  memset(&t, 0, sizeof t);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  for (int i = 0; i < IMB_TRTC_TIERS; i++) {
    lua_getfield(L, 1, trtc_tiers[i]);
    if (!lua_isnil(L, -1)) {
      lua_pushfstring(L, "trtc.%s", trtc_tiers[i]);
      t.seconds[i] = imbL_checkint64(L, -2, lua_tostring(L, -1));
      if (t.seconds[i] < 0) return imbL_raise(L, NULL, lua_tostring(L, -1), 0, "seconds must not be negative");
      lua_pop(L, 1);
    }
    lua_getfield(L, 2, trtc_tiers[i]);
    t.price_per_1000[i] = imbL_checkmoney(L, -1, trtc_tiers[i]);
    lua_pop(L, 2);
  }
  t.free_minutes = imbL_checkint64(L, 3, "trtc.free_minutes");
  if (t.free_minutes < 0) return imbL_raise(L, NULL, "trtc.free_minutes", 0, "must not be negative");
  imb_status s = imb_trtc_price(&t);
  if (s == IMB_EOVERFLOW) return trtc_too_much(L, &t);
  if (s) return imbL_raise(L, NULL, "trtc", 0, "%s", imb_strerror(s));
  imbL_pushint64(L, t.cents);
  lua_createtable(L, IMB_TRTC_TIERS, 0);
  for (int i = 0; i < IMB_TRTC_TIERS; i++) {
    lua_createtable(L, 0, 3);
    lua_pushstring(L, trtc_tiers[i]);
    lua_setfield(L, -2, "tier");
    imbL_pushint64(L, t.minutes[i]);
    lua_setfield(L, -2, "minutes");
    imbL_pushint64(L, t.billed[i]);
    lua_setfield(L, -2, "billed");
    lua_rawseti(L, -2, i + 1);
  }
  /* the unrounded amount, every digit: units, then the billionths without
   * their trailing zeros */
  const char *units = imbL_i64str(L, t.exact_units);
  if (t.exact_nanos == 0) return 3;
  char frac[16];
  int w = snprintf(frac, sizeof frac, "%09lld", (long long)t.exact_nanos);
  while (frac[w - 1] == '0') frac[--w] = '\0';
  lua_pushfstring(L, "%s.%s", units, frac);
  lua_remove(L, -2);
  return 3;
}

static const luaL_Reg rate_meta[] = {{"__tostring", rate_tostring}, {NULL, NULL}};
static const luaL_Reg rate_methods[] = {{NULL, NULL}};

static const luaL_Reg pricing_funcs[] = {
    {"rate", p_rate},           {"charge", p_charge}, {"prorate", p_prorate},
    {"round_cents", p_round_cents}, {"month_total", p_month_total}, {"totals", p_totals},
    {"trtc", p_trtc},           {"rate_ptr", p_rate_ptr}, {"totals_columns", p_totals_columns},
    {"totals_many", p_totals_many}, {"totals_columns_many", p_totals_columns_many},
    {"cores", p_cores},         {"clock", p_clock},       {NULL, NULL}};

void imbL_open_pricing(lua_State *L) {
  imbL_newclass(L, RATE_MT, rate_meta, rate_methods);
  imbL_setfuncs(L, pricing_funcs, 0);
  /* the columns batches are priced from (opened here, so the module's entry
   * point needs no change) */
  imbL_open_column(L);
}

/* ---- where a charge's line steps ------------------------------------------ */

static int64_t check_ratio(lua_State *L, int idx) {
  int64_t r = lua_isnoneornil(L, idx) ? IMB_MICROS_PER_UNIT : imbL_checkint64(L, idx, "ratio_ppm");
  if (r < 1) imbL_raise(L, NULL, "ratio_ppm", idx, "must be at least 1");
  return r;
}

static int64_t check_axis(lua_State *L, int idx, const char *field) {
  int64_t x = imbL_checkint64(L, idx, field);
  if (x < 0) imbL_raise(L, NULL, field, idx, "must not be negative");
  return x;
}

/* next = core.charge_next_step(rate, "dau"|"groups"|"mau", x[, ratio_ppm]):
 * the least axis value after x where the charge's block count changes, or
 * nil when it never does again (no such charge, or past 64 bits). */
static int p_charge_next_step(lua_State *L) {
  imb_rate *r = checkrate(L, 1);
  int which = luaL_checkoption(L, 2, NULL, charge_names);
  const imb_charge *c = which == 0 ? &r->dau : which == 1 ? &r->groups : &r->mau;
  int64_t x = check_axis(L, 3, "x"), ratio = check_ratio(L, 4), next;
  if (imb_charge_next_step(c, ratio, x, &next) != IMB_OK) {
    lua_pushnil(L);
    return 1;
  }
  imbL_pushint64(L, next);
  return 1;
}

/* v = core.follow_value(x[, ratio_ppm]): round_half_up(x * ratio / 10^6) */
static int p_follow_value(lua_State *L) {
  int64_t x = check_axis(L, 1, "x"), ratio = check_ratio(L, 2), v;
  if (imb_follow_value(x, ratio, &v) != IMB_OK)
    return imbL_raise(L, NULL, "x", 0, "%s followed by %s ppm does not fit in 64 bits", imbL_i64str(L, x), imbL_i64str(L, ratio));
  imbL_pushint64(L, v);
  return 1;
}

/* x = core.follow_first_above(t[, ratio_ppm]): the least x >= 0 whose
 * followed value exceeds t, or nil past 64 bits. */
static int p_follow_first_above(lua_State *L) {
  int64_t t = imbL_checkint64(L, 1, "t"), ratio = check_ratio(L, 2), x;
  if (imb_follow_first_above(t, ratio, &x) != IMB_OK) {
    lua_pushnil(L);
    return 1;
  }
  imbL_pushint64(L, x);
  return 1;
}

static const luaL_Reg step_funcs[] = {{"charge_next_step", p_charge_next_step},
                                      {"follow_value", p_follow_value},
                                      {"follow_first_above", p_follow_first_above},
                                      {NULL, NULL}};

void imbL_open_steps(lua_State *L) { imbL_setfuncs(L, step_funcs, 0); }
