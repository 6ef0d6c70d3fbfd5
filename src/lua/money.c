/* Money userdata: an int64 of micro-units behind a metatable, so amounts stay
 * exact on LuaJIT too, where a Lua number holds only 53 bits of precision. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "binding.h"

#define MONEY_MT "imbill.money"

static int64_t *tomoney(lua_State *L, int idx) {
  return (int64_t *)imbL_testudata(L, idx, MONEY_MT);
}

/* The money a method was called on; m.cents() with a dot says so plainly. */
static int64_t selfmoney(lua_State *L, const char *method) {
  int64_t *m = tomoney(L, 1);
  if (!m)
    imbL_raise(L, lua_pushfstring(L, "money:%s", method), "self", 1, "expected money: call it as m:%s(...)", method);
  return *m;
}

void imbL_pushmoney(lua_State *L, int64_t micros) {
  int64_t *m = (int64_t *)lua_newuserdata(L, sizeof *m);
  *m = micros;
  luaL_getmetatable(L, MONEY_MT);
  lua_setmetatable(L, -2);
}

/* Money from money, a decimal string, or a whole number of currency units.  A
 * fractional Lua number is turned into a string by the Lua layer first, where
 * the round-trip check that proves it had at most 6 decimals lives. */
/* A Lua number with a fraction (149.99) as an amount.  It is taken only when
 * its 6-decimal text reads back as the very same number, which proves that
 * text is the decimal the caller wrote: 0.1234567 is refused, never rounded.
 * Below 2^33 the numbers are closer together than 10^-6, so no two such
 * texts read back as one number; larger ones with a fraction must come as
 * strings (whole numbers never get here).  The amount is parsed from the
 * text, exactly. */
static int64_t number_amount(lua_State *L, int idx, const char *fn, const char *field) {
  lua_Number n = lua_tonumber(L, idx);
  char buf[64];
  int64_t v;
  if (n != n || n - n != 0) /* NaN, or an infinity (inf - inf is NaN) */
    imbL_raise(L, fn, field, 0, "not an amount: %s", imbL_show(L, idx));
  if (n < 8589934592.0 && n > -8589934592.0) { /* 2^33 */
    snprintf(buf, sizeof buf, "%.6f", n);
    lua_Number back = strtod(buf, NULL);
    if (back == n && imb_money_parse(buf, strlen(buf), &v) == IMB_OK) return v;
  }
  snprintf(buf, sizeof buf, "%.17g", n);
  /* a whole number is shown as every message shows one (its digits, not a
   * %.17g that reads 2^60 as 1.152921504606847e+18) */
  const char *shown = n == floor(n) ? imbL_show(L, idx) : buf;
  if (n >= 9223372036854775808.0 || n <= -9223372036854775808.0) /* whole, beyond int64 */
    imbL_raise(L, fn, field, 0, "amount %s does not fit in 64 bits of micro-units", shown);
  imbL_raise(L, fn, field, 0, "%s has more than 6 decimals or is too large to be exact; pass it as a string", shown);
  return 0;
}

/* Errors name fn (when known here) and field apart, so the Lua layer can
 * name the public function without touching the text. */
static int64_t check_money(lua_State *L, int idx, const char *fn, const char *field) {
  int64_t *m = tomoney(L, idx), v;
  size_t len;
  imb_status s;
  if (m) return *m;
  if (lua_type(L, idx) == LUA_TSTRING) {
    const char *str = lua_tolstring(L, idx, &len);
    if ((s = imb_money_parse(str, len, &v)) != IMB_OK)
      imbL_raise(L, fn, field, idx, "not an amount (%s)", imb_strerror(s));
    return v;
  }
  if (imbL_toint64(L, idx, &v)) {
    if (imb_mul(v, IMB_MICROS_PER_UNIT, &v) != IMB_OK)
      imbL_raise(L, fn, field, 0, "amount %s does not fit in 64 bits of micro-units", imbL_show(L, idx));
    return v;
  }
  if (lua_type(L, idx) == LUA_TNUMBER) return number_amount(L, idx, fn, field);
  imbL_raise(L, fn, field, 0, "expected an amount (money, decimal string or number), got %s", imbL_show(L, idx));
  return 0;
}

int64_t imbL_checkmoney(lua_State *L, int idx, const char *field) { return check_money(L, idx, NULL, field); }

static int m_new(lua_State *L) {
  const char *field = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "amount";
  imbL_pushmoney(L, imbL_checkmoney(L, 1, field));
  return 1;
}

static int m_from_micros(lua_State *L) {
  int64_t v = imbL_checkint64(L, 1, "imbill.money.from_micros: micros");
  if (v == INT64_MIN) /* every amount prints and reads back: -2^63 would not */
    return imbL_raise(L, "imbill.money.from_micros", "micros", 0, "%s does not fit in 64 bits of micro-units",
                      imbL_show(L, 1));
  imbL_pushmoney(L, v);
  return 1;
}

static int m_from_cents(lua_State *L) {
  int64_t v;
  if (imb_mul(imbL_checkint64(L, 1, "imbill.money.from_cents: cents"), IMB_MICROS_PER_CENT, &v) != IMB_OK)
    return imbL_raise(L, "imbill.money.from_cents", "cents", 0, "%s does not fit in 64 bits of micro-units",
                      imbL_show(L, 1));
  imbL_pushmoney(L, v);
  return 1;
}

static int m_is(lua_State *L) {
  lua_pushboolean(L, tomoney(L, 1) != NULL);
  return 1;
}

static int m_tostring(lua_State *L) {
  char buf[IMB_MONEY_BUFSZ];
  size_t n = imb_money_format(selfmoney(L, "tostring"), 2, buf);
  lua_pushlstring(L, buf, n);
  return 1;
}

static int m_format(lua_State *L) {
  char buf[IMB_MONEY_BUFSZ];
  int64_t v = selfmoney(L, "format");
  int64_t p = lua_isnoneornil(L, 2) ? 2 : imbL_checkint64(L, 2, "money:format: places");
  if (p < 0 || p > 6) return imbL_raise(L, "money:format", "places", 2, "must be 0..6");
  int places = (int)p;
  if (places < 6) {
    /* fewer places than the value has: round half-up to that many, and print
     * the rounded count of 10^-places units itself, since scaling it back to
     * micro-units could overflow (9223372036854.775807 -> "9223372036854.78") */
    int64_t unit = 1, q;
    uint64_t pow = 1;
    for (int i = places; i < 6; i++) unit *= 10;
    for (int i = 0; i < places; i++) pow *= 10;
    imb_muldiv(v, 1, unit, &q); /* cannot fail: |q| <= |v| */
    uint64_t mag = q < 0 ? (uint64_t)0 - (uint64_t)q : (uint64_t)q;
    char tmp[IMB_MONEY_BUFSZ];
    size_t n = 0, k = 0;
    uint64_t whole = mag / pow, frac = mag % pow;
    if (q < 0) buf[n++] = '-';
    do { tmp[k++] = (char)('0' + whole % 10); whole /= 10; } while (whole);
    while (k) buf[n++] = tmp[--k];
    if (places > 0) {
      buf[n++] = '.';
      for (int i = 0; i < places; i++) { tmp[i] = (char)('0' + frac % 10); frac /= 10; }
      for (int i = places - 1; i >= 0; i--) buf[n++] = tmp[i];
    }
    lua_pushlstring(L, buf, n);
    return 1;
  }
  size_t n = imb_money_format(v, places, buf);
  lua_pushlstring(L, buf, n);
  return 1;
}

/* Pushes v as a Lua integer, or raises where the runtime's numbers are doubles
 * and v is beyond 2^53: a rounded amount would be a silent error. */
static void push_exact(lua_State *L, int64_t v, const char *what, int64_t micros) {
  if (!imbL_exact(v)) {
#if LUA_VERSION_NUM < 503
    char buf[IMB_MONEY_BUFSZ];
    imb_money_format(micros, 2, buf);
    lua_pushfstring(L, "money:%s", what);
    imbL_raise(L, lua_tostring(L, -1), NULL, 0, "%s is beyond 2^53 %s and cannot be exact on this runtime; use tostring()",
               buf, what);
#else
    (void)what;
    (void)micros;
#endif
  }
  imbL_pushint64(L, v);
}

static int m_cents(lua_State *L) {
  int64_t c, m = selfmoney(L, "cents");
  imb_round_cents(m, &c); /* cannot fail: a division by 10^4 */
  push_exact(L, c, "cents", m);
  return 1;
}

static int m_micros(lua_State *L) {
  int64_t m = selfmoney(L, "micros");
  push_exact(L, m, "micros", m);
  return 1;
}

static int m_eq(lua_State *L) {
  int64_t *a = tomoney(L, 1), *b = tomoney(L, 2);
  lua_pushboolean(L, a && b && *a == *b);
  return 1;
}

static int m_lt(lua_State *L) {
  lua_pushboolean(L, check_money(L, 1, "imbill.money", "left operand") <
                         check_money(L, 2, "imbill.money", "right operand"));
  return 1;
}

static int m_le(lua_State *L) {
  lua_pushboolean(L, check_money(L, 1, "imbill.money", "left operand") <=
                         check_money(L, 2, "imbill.money", "right operand"));
  return 1;
}

/* The error of an operation whose result does not fit, naming what was
 * computed with its operands as amounts: "sum: 9223372036854.775807 +
 * 0.000001 does not fit in 64 bits of micro-units". */
#define TOO_BIG " does not fit in 64 bits of micro-units (money holds at most 9223372036854.775807 either way)"
static int overflow2(lua_State *L, const char *what, int64_t a, const char *op, int64_t b) {
  char x[IMB_MONEY_BUFSZ], y[IMB_MONEY_BUFSZ];
  imb_money_format(a, 2, x);
  imb_money_format(b, 2, y);
  return imbL_raise(L, "imbill.money", what, 0, "%s %s %s" TOO_BIG, x, op, y);
}

static int m_add(lua_State *L) {
  int64_t a = check_money(L, 1, "imbill.money", "left operand"), b = check_money(L, 2, "imbill.money", "right operand"), r;
  if (imb_add(a, b, &r) || r == INT64_MIN) return overflow2(L, "sum", a, "+", b);
  imbL_pushmoney(L, r);
  return 1;
}

static int m_sub(lua_State *L) {
  int64_t a = check_money(L, 1, "imbill.money", "left operand"), b = check_money(L, 2, "imbill.money", "right operand"), r;
  if (__builtin_sub_overflow(a, b, &r) || r == INT64_MIN) return overflow2(L, "difference", a, "-", b);
  imbL_pushmoney(L, r);
  return 1;
}

static int m_unm(lua_State *L) {
  int64_t v = check_money(L, 1, "imbill.money", "operand");
  if (v == INT64_MIN) return imbL_raise(L, "imbill.money", "negation", 0, "of an amount" TOO_BIG);
  imbL_pushmoney(L, -v);
  return 1;
}

/* money * whole number (either order): quantities times unit prices. */
static int m_mul(lua_State *L) {
  int mi = tomoney(L, 1) ? 1 : 2, ni = 3 - mi;
  int64_t r;
  int64_t m = check_money(L, mi, "imbill.money", "operand"), k = imbL_checkint64(L, ni, "imbill.money: multiplier");
  if (imb_mul(m, k, &r) || r == INT64_MIN) {
    char x[IMB_MONEY_BUFSZ];
    imb_money_format(m, 2, x);
    return imbL_raise(L, "imbill.money", "product", 0, "%s x %s" TOO_BIG, x, imbL_i64str(L, k));
  }
  imbL_pushmoney(L, r);
  return 1;
}

static int m_concat(lua_State *L) {
  for (int i = 1; i <= 2; i++)
    if (!tomoney(L, i) && !lua_isstring(L, i)) /* lua_isstring: numbers too */
      return imbL_raise(L, "imbill.money", i == 1 ? "left operand of .." : "right operand of ..", 0,
                        "expected a string, a number or money, got %s", imbL_show(L, i));
  for (int i = 1; i <= 2; i++)
    if (tomoney(L, i)) {
      lua_pushcfunction(L, m_tostring);
      lua_pushvalue(L, i);
      lua_call(L, 1, 1);
      lua_replace(L, i);
    }
  lua_concat(L, 2);
  return 1;
}

static const luaL_Reg money_meta[] = {
    {"__tostring", m_tostring}, {"__eq", m_eq},   {"__lt", m_lt},   {"__le", m_le},
    {"__add", m_add},           {"__sub", m_sub}, {"__unm", m_unm}, {"__mul", m_mul},
    {"__concat", m_concat},     {NULL, NULL}};

static const luaL_Reg money_methods[] = {
    {"cents", m_cents}, {"micros", m_micros}, {"format", m_format}, {NULL, NULL}};

static const luaL_Reg money_funcs[] = {{"money", m_new},
                                       {"money_from_micros", m_from_micros},
                                       {"money_from_cents", m_from_cents},
                                       {"is_money", m_is},
                                       {NULL, NULL}};

void imbL_open_money(lua_State *L) {
  imbL_newclass(L, MONEY_MT, money_meta, money_methods);
  imbL_setfuncs(L, money_funcs, 0);
}
