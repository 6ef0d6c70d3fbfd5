/* imbill.core's edition-change policy and plan fee: the core's decisions
 * (src/core/policy.c) for the invoice, the meter and the what-if path search.
 * Policies and spans travel as Lua tables:
 *   policy = { return_to_free = bool, activation_free_to = day }
 *   span   = { from = day | nil, edition = n, free = bool, fee = money } */
#include "binding.h"

#include <limits.h>

static const char *const VERDICTS[] = {"ok",        "same",   "twice",  "backwards", "no_return",
                                       "duplicate", "future", "closed", "invalid"};
static const char *const FEE_KINDS[] = {"full", "by_day", "activation", "free_edition"};

static void check_policy(lua_State *L, int idx, imb_policy *p, const char *fn) {
  if (!lua_istable(L, idx)) imbL_raise(L, fn, "policy", idx, "expected a price book's policy table");
  lua_getfield(L, idx, "return_to_free");
  p->return_to_free = lua_toboolean(L, -1);
  lua_getfield(L, idx, "activation_free_to");
  int64_t v;
  if (!imbL_toint64(L, -1, &v) || v < INT32_MIN || v > INT32_MAX)
    imbL_raise(L, fn, "policy.activation_free_to", -1, "expected a day number");
  p->activation_free_to = (int32_t)v;
  lua_pop(L, 2);
}

static int32_t opt_day(lua_State *L, int idx, const char *fn, const char *field) {
  int64_t v;
  if (lua_isnoneornil(L, idx)) return IMB_NO_DAY;
  if (!imbL_toint64(L, idx, &v) || v < IMB_DAY_MIN || v > IMB_DAY_MAX)
    imbL_raise(L, fn, field, idx, "expected a day number within the calendar");
  return (int32_t)v;
}

static void check_span(lua_State *L, int idx, imb_span *s, const char *fn) {
  if (!lua_istable(L, idx)) imbL_raise(L, fn, "spans", idx, "expected a span table");
  lua_getfield(L, idx, "from");
  s->from = opt_day(L, lua_gettop(L), fn, "span.from");
  lua_getfield(L, idx, "edition");
  s->edition = (int32_t)imbL_checkint64(L, -1, "span.edition");
  lua_getfield(L, idx, "free");
  s->is_free = lua_toboolean(L, -1);
  lua_getfield(L, idx, "fee");
  s->monthly_fee = lua_isnil(L, -1) ? 0 : imbL_checkmoney(L, lua_gettop(L), "span.fee");
  lua_pop(L, 4);
}

#define MAX_SPANS 8

static int check_spans(lua_State *L, int idx, imb_span *out, const char *fn) {
  if (!lua_istable(L, idx)) imbL_raise(L, fn, "spans", idx, "expected an array of spans");
  int n = (int)imbL_rawlen(L, idx);
  if (n < 1 || n > MAX_SPANS) imbL_raise(L, fn, "spans", 0, "expected 1 to %d spans, got %d", MAX_SPANS, n);
  for (int i = 0; i < n; i++) {
    lua_rawgeti(L, idx, i + 1);
    check_span(L, lua_gettop(L), &out[i], fn);
    lua_pop(L, 1);
  }
  return n;
}

/* core.change_check(policy, spans, activated, day, to) -> verdict */
static int c_change_check(lua_State *L) {
  const char *fn = "imbill.core.change_check";
  imb_policy p;
  imb_span spans[MAX_SPANS], to;
  check_policy(L, 1, &p, fn);
  int n = check_spans(L, 2, spans, fn);
  int32_t act = opt_day(L, 3, fn, "activated");
  int32_t day = opt_day(L, 4, fn, "day");
  if (day == IMB_NO_DAY) imbL_raise(L, fn, "day", 4, "is required");
  check_span(L, 5, &to, fn);
  lua_pushstring(L, VERDICTS[imb_change_check(&p, spans, n, act, day, &to)]);
  return 1;
}

/* core.month_fees(policy, month, spans, activated) -> verdict, lines
 *   lines = { { kind =, edition =, from = day, to = day, days =, cents = }, ... } */
static int c_month_fees(lua_State *L) {
  const char *fn = "imbill.core.month_fees";
  imb_policy p;
  imb_span spans[MAX_SPANS];
  imb_fee_line lines[MAX_SPANS];
  check_policy(L, 1, &p, fn);
  int64_t month = imbL_checkint64(L, 2, "month");
  int n = check_spans(L, 3, spans, fn);
  int32_t act = opt_day(L, 4, fn, "activated");
  if (month < IMB_MIN_YEAR * 12 || month > IMB_MAX_YEAR * 12 + 11) imbL_raise(L, fn, "month", 2, "out of range");
  int nl;
  imb_change_verdict v;
  imb_status st = imb_month_fees(&p, (int32_t)month, spans, n, act, lines, &nl, &v);
  if (st) return imbL_raise(L, fn, "spans", 0, "%s", imb_strerror(st));
  lua_pushstring(L, VERDICTS[v]);
  lua_createtable(L, nl, 0);
  for (int i = 0; i < nl; i++) {
    lua_createtable(L, 0, 6);
    lua_pushstring(L, FEE_KINDS[lines[i].kind]);
    lua_setfield(L, -2, "kind");
    lua_pushinteger(L, lines[i].edition);
    lua_setfield(L, -2, "edition");
    lua_pushinteger(L, lines[i].from);
    lua_setfield(L, -2, "from");
    lua_pushinteger(L, lines[i].to);
    lua_setfield(L, -2, "to");
    lua_pushinteger(L, lines[i].days);
    lua_setfield(L, -2, "days");
    imbL_pushint64(L, lines[i].cents);
    lua_setfield(L, -2, "cents");
    lua_rawseti(L, -2, i + 1);
  }
  return 2;
}

static const luaL_Reg funcs[] = {
  {"change_check", c_change_check}, {"month_fees", c_month_fees}, {NULL, NULL},
};

void imbL_open_policy(lua_State *L) { imbL_setfuncs(L, funcs, 0); }
