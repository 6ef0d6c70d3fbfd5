/* imbill.core's meter: the in-process store (src/core/meter.c) as a userdata.
 * Marshalling and argument checks only: which action is allowed is the
 * core's plan, and the sentences a refusal carries are written in Lua
 * (lua/imbill/meter/refusals.lua), which this file calls when one is built.
 *
 * The userdata holds the core's meter pointer and, as its user value, the
 * Lua side's state table (price book, add-ons, options): one object, no side
 * table.  Methods that need price books are Lua functions in
 * lua/imbill/meter/init.lua, added to this class's method table; they reach
 * the core through core.meter_impl, which is not a method table. */
#include "binding.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define METER "imbill.Meter"
#define FORMATTER "imbill.meter.refusal_message"

typedef struct lmeter {
  imb_meter *m;
} lmeter;

static lmeter *check_lm(lua_State *L, const char *fn) {
  lmeter *lm = imbL_testudata(L, 1, METER);
  if (!lm) imbL_raise(L, fn, "self", 1, "expected a meter: call it as m:%s(...)", strchr(fn, ':') + 1);
  if (!lm->m) imbL_raise(L, fn, "self", 0, "the meter was closed");
  return lm;
}

static const char *check_id(lua_State *L, int idx, const char *fn, const char *field, size_t *len) {
  if (lua_type(L, idx) != LUA_TSTRING) imbL_raise(L, fn, field, idx, "expected a non-empty string id");
  const char *s = lua_tolstring(L, idx, len);
  if (*len == 0) imbL_raise(L, fn, field, idx, "expected a non-empty string id");
  if (*len > IMB_ID_MAX) imbL_raise(L, fn, field, idx, "id longer than %d bytes", (int)IMB_ID_MAX);
  return s;
}

/* The edition id at idx, as the core takes one (1 .. IMB_EDITION_MAXLEN
 * bytes, no NUL), so the error names the field. */
static void check_edition_id(lua_State *L, int idx, const char *e, size_t elen, const char *fn) {
  if (elen == 0 || elen > IMB_EDITION_MAXLEN || memchr(e, 0, elen))
    imbL_raise(L, fn, "edition", idx, "id of 1 to %d bytes without NUL expected", (int)IMB_EDITION_MAXLEN);
}

static int64_t check_time(lua_State *L, int idx, const char *fn, const char *field) {
  int64_t t;
  if (!imbL_toint64(L, idx, &t)) imbL_raise(L, fn, field, idx, "expected an instant in whole Unix seconds");
  /* the bound is a UTC day inside the calendar on either side, so that the
   * instant's day in every zone is in years 1..9999: say where it lies, since
   * 9999-12-31T00:00:00Z is in year 9999 yet refused */
  if (imb_instant_check(t))
    imbL_raise(L, fn, field, idx,
               "instant is outside years 1..9999 in every time zone (0001-01-02T00:00:00Z to 9999-12-30T23:59:59Z)");
  return t;
}

/* Tencent's newer names for two types. */
static int32_t check_gtype(lua_State *L, int idx, const char *fn) {
  if (lua_type(L, idx) == LUA_TSTRING) {
    const char *s = lua_tostring(L, idx);
    if (strcmp(s, "Work") == 0) return IMB_G_PRIVATE;
    if (strcmp(s, "Meeting") == 0) return IMB_G_CHATROOM;
    for (int i = 0; i < IMB_G_COUNT; i++)
      if (strcmp(s, imb_gtype_name(i)) == 0) return i;
  }
  imbL_raise(L, fn, "type", idx,
             "unknown group type (known: Private, Public, ChatRoom, AVChatRoom, BChatRoom, Community, and the "
             "aliases Work, Meeting)");
  return 0;
}

static void push_date(lua_State *L, int32_t day) {
  char buf[IMB_DATE_BUFSZ];
  imb_date_format(day, buf);
  lua_pushlstring(L, buf, 10);
}

/* ---- limits ------------------------------------------------------------ */

static int64_t limit_field(lua_State *L, int t, const char *name, const char *fn) {
  lua_getfield(L, t, name);
  int64_t v = IMB_UNLIMITED;
  if (!lua_isnil(L, -1) && !(lua_isboolean(L, -1) && !lua_toboolean(L, -1))) {
    if (!imbL_toint64(L, -1, &v) || v < 0)
      imbL_raise(L, fn, name, -1, "expected a whole number >= 0 or nil (unlimited)");
  }
  lua_pop(L, 1);
  return v;
}

/* { accounts =, ..., members = { Private =, ... } or a number, features = { names },
 *   same_day_disbands = bool } */
static void check_limits(lua_State *L, int t, imb_limits *l, const char *fn) {
  if (t < 0) t = lua_gettop(L) + t + 1;
  if (!lua_istable(L, t)) imbL_raise(L, fn, "limits", t, "expected a table of limits");
  imb_limits_unlimited(l);
  l->accounts = limit_field(L, t, "accounts", fn);
  l->friends_per_user = limit_field(L, t, "friends_per_user", fn);
  l->groups_per_user = limit_field(L, t, "groups_per_user", fn);
  l->av_groups = limit_field(L, t, "av_groups", fn);
  l->non_av_groups = limit_field(L, t, "non_av_groups", fn);
  l->daily_net_groups = limit_field(L, t, "daily_net_groups", fn);
  l->bchatroom_daily = limit_field(L, t, "bchatroom_daily", fn);
  l->bchatroom_total = limit_field(L, t, "bchatroom_total", fn);
  lua_getfield(L, t, "members");
  if (lua_istable(L, -1)) {
    int mt = lua_gettop(L);
    for (int i = 0; i < IMB_G_COUNT; i++) l->members[i] = limit_field(L, mt, imb_gtype_name(i), fn);
  } else if (!lua_isnil(L, -1)) {
    int64_t v = limit_field(L, t, "members", fn);
    for (int i = 0; i < IMB_G_COUNT; i++) l->members[i] = imb_gtype_is_av(i) ? IMB_UNLIMITED : v;
  }
  lua_pop(L, 1);
  lua_getfield(L, t, "features");
  if (lua_istable(L, -1)) {
    int ft = lua_gettop(L), n = (int)imbL_rawlen(L, ft);
    for (int i = 1; i <= n; i++) {
      lua_rawgeti(L, ft, i);
      int f = -1;
      for (int k = 0; k < IMB_F_COUNT && lua_type(L, -1) == LUA_TSTRING; k++)
        if (strcmp(lua_tostring(L, -1), imb_feature_name(k)) == 0) f = k;
      if (f < 0) imbL_raise(L, fn, "features", -1, "unknown feature");
      l->features |= UINT32_C(1) << f;
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  lua_getfield(L, t, "same_day_disbands");
  l->same_day_disbands = lua_toboolean(L, -1);
  lua_pop(L, 1);
}

static void push_limit(lua_State *L, int64_t v, const char *name) {
  if (v == IMB_UNLIMITED) lua_pushboolean(L, 0);
  else imbL_pushint64(L, v);
  lua_setfield(L, -2, name);
}

static void push_limits(lua_State *L, const imb_limits *l) {
  lua_newtable(L);
  push_limit(L, l->accounts, "accounts");
  push_limit(L, l->friends_per_user, "friends_per_user");
  push_limit(L, l->groups_per_user, "groups_per_user");
  push_limit(L, l->av_groups, "av_groups");
  push_limit(L, l->non_av_groups, "non_av_groups");
  push_limit(L, l->daily_net_groups, "daily_net_groups");
  push_limit(L, l->bchatroom_daily, "bchatroom_daily");
  push_limit(L, l->bchatroom_total, "bchatroom_total");
  lua_newtable(L);
  for (int i = 0; i < IMB_G_COUNT; i++) push_limit(L, l->members[i], imb_gtype_name(i));
  lua_setfield(L, -2, "members");
  lua_newtable(L);
  for (int k = 0, n = 0; k < IMB_F_COUNT; k++) {
    if (!(l->features & (UINT32_C(1) << k))) continue;
    lua_pushstring(L, imb_feature_name(k));
    lua_rawseti(L, -2, ++n);
  }
  lua_setfield(L, -2, "features");
  lua_pushboolean(L, l->same_day_disbands);
  lua_setfield(L, -2, "same_day_disbands");
}

/* ---- refusals ---------------------------------------------------------- */

/* The refusal codes that are not Tencent's, by name. */
static void push_code(lua_State *L, int32_t code) {
  if (code == IMB_R_CLOSED) lua_pushliteral(L, "closed");
  else if (code == IMB_R_FUTURE) lua_pushliteral(L, "future");
  else lua_pushinteger(L, code);
}

/* The refusal as data; refusals.lua then writes its message (with the meter,
 * which knows its price book and time zone). */
/* Ids are pushed with their lengths: an id may hold a NUL, and a refusal
 * must name the id that was refused, not a prefix of it. */
static void push_refusal(lua_State *L, const lmeter *lm, const imb_refusal *r, const imb_event *ev, int32_t gt,
                         const char *edition) {
  int32_t k = ev->kind;
  /* the method's action: a one-way one is the same method with { one_way = true } */
  if (k == IMB_A_ADD_FRIEND_ONE_WAY) k = IMB_A_ADD_FRIEND;
  if (k == IMB_A_REMOVE_FRIEND_ONE_WAY) k = IMB_A_REMOVE_FRIEND;
  int64_t t = ev->t;
  int32_t day = 0;
  /* everything read from the meter is read (and its edition's name copied)
   * before the first allocation: one may run a finalizer that closes it */
  imb_day_of(t, imb_meter_offset(lm->m), &day);
  int32_t last = imb_meter_last_day(lm->m), released = imb_meter_released_before(lm->m);
  lua_pushstring(L, edition);
  lua_createtable(L, 0, 12);
  lua_insert(L, -2);
  lua_setfield(L, -2, "edition");
  push_code(L, r->code);
  lua_setfield(L, -2, "code");
  lua_pushstring(L, imb_limit_name(r->limit));
  lua_setfield(L, -2, "limit");
  if (r->max != IMB_UNLIMITED) {
    imbL_pushint64(L, r->max);
    lua_setfield(L, -2, "max");
    imbL_pushint64(L, r->current);
    lua_setfield(L, -2, "current");
  }
  lua_pushstring(L, imb_action_name(k));
  lua_setfield(L, -2, "action");
  push_date(L, day);
  lua_setfield(L, -2, "day");
  if (r->limit == IMB_L_FEATURE) {
    lua_pushstring(L, imb_feature_name(r->feature));
    lua_setfield(L, -2, "feature");
  }
  if (k == IMB_A_CREATE_GROUP || k == IMB_A_DISBAND_GROUP || k == IMB_A_JOIN || k == IMB_A_LEAVE) {
    lua_pushlstring(L, ev->a, ev->alen);
    lua_setfield(L, -2, "group");
    if (gt >= 0) {
      lua_pushstring(L, imb_gtype_name(gt));
      lua_setfield(L, -2, "type");
    }
    if (ev->b) {
      lua_pushlstring(L, ev->b, ev->blen);
      lua_setfield(L, -2, "user");
    }
  } else {
    /* friends: the user whose list is full */
    if (r->peer && ev->b) lua_pushlstring(L, ev->b, ev->blen);
    else lua_pushlstring(L, ev->a, ev->alen);
    lua_setfield(L, -2, "user");
  }
  if (r->code == IMB_R_CLOSED) {
    lua_pushboolean(L, day < released);
    lua_setfield(L, -2, "released");
    if (last != INT32_MIN) {
      push_date(L, last);
      lua_setfield(L, -2, "latest");
    }
  }
  lua_getfield(L, LUA_REGISTRYINDEX, FORMATTER);
  if (lua_isfunction(L, -1)) {
    lua_pushvalue(L, -2);
    lua_pushvalue(L, 1);
    lua_call(L, 2, 1);
    lua_setfield(L, -2, "message");
  } else {
    lua_pop(L, 1);
  }
}

/* The edition whose limits applied: the one in force at t. */
static const char *edition_at(const lmeter *lm, int64_t t) {
  const char *edition = "";
  for (int s = imb_meter_segments(lm->m) - 1; s >= 0; s--) {
    int64_t from;
    imb_meter_segment(lm->m, s, &from, NULL, &edition, NULL, NULL);
    if (from <= t) break;
  }
  return edition;
}

/* ---- actions ----------------------------------------------------------- */

static int status_error(lua_State *L, imb_status st, const char *fn) {
  return imbL_raise(L, fn, NULL, 0, "%s", imb_strerror(st));
}

/* Shared by every action method: (self, a, [type,] [b,] t, [event_id]).
 * Returns true | true, "duplicate" | true, "unchanged" | false, refusal. */
static int act(lua_State *L, int32_t k, int has_b, int has_type, const char *fn, const char *fa, const char *fb) {
  lmeter *lm = check_lm(L, fn);
  imb_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = k;
  int i = 2;
  ev.a = check_id(L, i++, fn, fa, &ev.alen);
  if (has_type) ev.gtype = check_gtype(L, i++, fn);
  if (has_b) ev.b = check_id(L, i++, fn, fb, &ev.blen);
  ev.t = check_time(L, i++, fn, "t");
  int friend = k == IMB_A_ADD_FRIEND || k == IMB_A_REMOVE_FRIEND;
  /* friends: (..., t [, event_id] [, opts]), the options also where the id goes */
  int opts = friend && lua_istable(L, i) ? i : friend && lua_istable(L, i + 1) ? i + 1 : 0;
  if (!lua_isnoneornil(L, i) && opts != i) ev.id = check_id(L, i, fn, "event id", &ev.idlen);
  if (friend && !opts && !lua_isnoneornil(L, i + 1))
    imbL_raise(L, fn, "opts", i + 1, "expected a table ({ one_way = true })");
  if (opts) {
    lua_pushnil(L);
    while (lua_next(L, opts)) {
      lua_pop(L, 1);
      if (lua_type(L, -1) != LUA_TSTRING || strcmp(lua_tostring(L, -1), "one_way") != 0) {
        lua_pushvalue(L, -1);
        imbL_raise(L, fn, "opts", lua_gettop(L), "unknown option (known: one_way)");
      }
    }
    lua_getfield(L, opts, "one_way");
    if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
      imbL_raise(L, fn, "opts.one_way", lua_gettop(L), "expected a boolean");
    /* one way: only the user's own list changes (Add_Type_Single, Delete_Type_Single) */
    if (lua_toboolean(L, -1)) ev.kind = k = k == IMB_A_ADD_FRIEND ? IMB_A_ADD_FRIEND_ONE_WAY : IMB_A_REMOVE_FRIEND_ONE_WAY;
    lua_pop(L, 1);
  }
  if (friend && ev.alen == ev.blen && memcmp(ev.a, ev.b, ev.alen) == 0)
    imbL_raise(L, fn, "peer", 2 + 1, "a user cannot be their own friend");
  imb_result res;
  imb_refusal r;
  imb_status st = k == IMB_A_LOGIN && !ev.id ? imb_meter_login(lm->m, ev.a, ev.alen, ev.t, &res, &r)
                                             : imb_meter_apply(lm->m, &ev, &res, &r);
  if (st) return status_error(L, st, fn);
  lua_pushboolean(L, res != IMB_REFUSED);
  if (res == IMB_APPLIED) return 1;
  if (res == IMB_DUPLICATE) {
    lua_pushliteral(L, "duplicate");
    return 2;
  }
  if (res == IMB_UNCHANGED) {
    lua_pushliteral(L, "unchanged");
    return 2;
  }
  int32_t gt = k == IMB_A_CREATE_GROUP ? ev.gtype : -1;
  if (k != IMB_A_CREATE_GROUP && (k == IMB_A_DISBAND_GROUP || k == IMB_A_JOIN || k == IMB_A_LEAVE))
    imb_meter_group_members(lm->m, ev.a, ev.alen, &gt);
  push_refusal(L, lm, &r, &ev, gt, edition_at(lm, ev.t));
  return 2;
}

static int m_create_account(lua_State *L) {
  return act(L, IMB_A_CREATE_ACCOUNT, 0, 0, "meter:create_account", "user", NULL);
}
static int m_delete_account(lua_State *L) {
  return act(L, IMB_A_DELETE_ACCOUNT, 0, 0, "meter:delete_account", "user", NULL);
}
static int m_login(lua_State *L) { return act(L, IMB_A_LOGIN, 0, 0, "meter:login", "user", NULL); }
static int m_create_group(lua_State *L) {
  return act(L, IMB_A_CREATE_GROUP, 0, 1, "meter:create_group", "group", NULL);
}
static int m_disband_group(lua_State *L) {
  return act(L, IMB_A_DISBAND_GROUP, 0, 0, "meter:disband_group", "group", NULL);
}
static int m_join_group(lua_State *L) { return act(L, IMB_A_JOIN, 1, 0, "meter:join_group", "group", "user"); }
static int m_leave_group(lua_State *L) { return act(L, IMB_A_LEAVE, 1, 0, "meter:leave_group", "group", "user"); }
static int m_add_friend(lua_State *L) { return act(L, IMB_A_ADD_FRIEND, 1, 0, "meter:add_friend", "user", "peer"); }
static int m_remove_friend(lua_State *L) {
  return act(L, IMB_A_REMOVE_FRIEND, 1, 0, "meter:remove_friend", "user", "peer");
}

/* m:logins(users, times): many logins in one call, through the core's batched
 * entry point (the same counts as one m:login per pair, fewer cache stalls).
 * Returns how many were counted (or already counted that day).  Every element
 * is checked before any is counted: a bad one raises an error naming it and
 * its index, and nothing is counted.  A core failure (out of memory) is
 * raised as it happens, leaving counted what was counted before it (earlier
 * chunks and the chunk's earlier elements), as that many m:login calls
 * would: a retry of the same call counts each login once (docs/meter.md).
 *
 * Each chunk is read in two passes: the first pushes the chunk's user strings
 * onto the stack and prefetches each string object (lua_topointer gives its
 * address without reading it; with millions of distinct ids every string is
 * a cache miss of its own), the second reads lengths, bytes and times into C
 * arrays once those lines are on their way.  The strings stay on the stack
 * while the core reads them. */
#define LOGIN_CHUNK 1024
static int m_logins(lua_State *L) {
  const char *fn = "meter:logins";
  lmeter *lm = check_lm(L, fn);
  if (!lua_istable(L, 2)) imbL_raise(L, fn, "users", 2, "expected an array of user ids");
  if (!lua_istable(L, 3)) imbL_raise(L, fn, "times", 3, "expected an array of instants");
  int n = (int)imbL_rawlen(L, 2);
  if ((int)imbL_rawlen(L, 3) != n)
    imbL_raise(L, fn, "times", 0, "has %d instants for %d users", (int)imbL_rawlen(L, 3), n);
  char field[40];
  for (int i = 1; i <= n; i++) {
    size_t len;
    int64_t t;
    lua_rawgeti(L, 2, i);
    if (lua_type(L, -1) != LUA_TSTRING || (lua_tolstring(L, -1, &len), len == 0 || len > IMB_ID_MAX)) {
      snprintf(field, sizeof field, "users[%d]", i);
      check_id(L, lua_gettop(L), fn, field, &len);
    }
    lua_rawgeti(L, 3, i);
    if (!imbL_toint64(L, -1, &t) || imb_instant_check(t)) {
      snprintf(field, sizeof field, "times[%d]", i);
      check_time(L, lua_gettop(L), fn, field);
    }
    lua_pop(L, 2);
  }
  const char *ids[LOGIN_CHUNK];
  size_t lens[LOGIN_CHUNK];
  int64_t ts[LOGIN_CHUNK];
  size_t total = 0;
  int top = lua_gettop(L);
  luaL_checkstack(L, LOGIN_CHUNK + 2, fn);
  for (int base = 1; base <= n; base += LOGIN_CHUNK) {
    int k = n - base + 1 < LOGIN_CHUNK ? n - base + 1 : LOGIN_CHUNK;
    for (int i = 0; i < k; i++) {
      lua_rawgeti(L, 2, base + i);
#if defined(__GNUC__)
      __builtin_prefetch(lua_topointer(L, -1));
#endif
    }
    for (int i = 0; i < k; i++) {
      ids[i] = lua_tolstring(L, top + 1 + i, &lens[i]);
      lua_rawgeti(L, 3, base + i);
      imbL_toint64(L, -1, &ts[i]);
      lua_pop(L, 1);
    }
    size_t counted, bad;
    imb_status st = imb_meter_logins(lm->m, ids, lens, ts, (size_t)k, &counted, &bad);
    if (st) return status_error(L, st, fn);
    total += counted;
    lua_settop(L, top);
  }
  imbL_pushint64(L, (int64_t)total);
  return 1;
}

/* ---- queries ----------------------------------------------------------- */

static int m_dau(lua_State *L) {
  lmeter *lm = check_lm(L, "meter:dau");
  imbL_pushint64(L, imb_meter_dau(lm->m, imbL_checkdate(L, 2, "meter:dau", "date")));
  return 1;
}

static int m_mau(lua_State *L) {
  lmeter *lm = check_lm(L, "meter:mau");
  imbL_pushint64(L, imb_meter_mau(lm->m, imbL_checkmonth(L, 2, "meter:mau", "month")));
  return 1;
}

/* peak over the month's days, and the first day it was reached */
static int month_peak(lua_State *L, int groups, const char *fn) {
  lmeter *lm = check_lm(L, fn);
  int32_t mo = imbL_checkmonth(L, 2, fn, "month");
  int64_t dau[31], grp[31], mau;
  imb_status st = imb_meter_month(lm->m, mo, dau, grp, &mau);
  if (st) return status_error(L, st, fn);
  const int64_t *s = groups ? grp : dau;
  int len = imb_month_length(mo), at = 0;
  for (int i = 1; i < len; i++)
    if (s[i] > s[at]) at = i;
  imbL_pushint64(L, s[at]);
  push_date(L, imb_month_first_day(mo) + at);
  return 2;
}
static int m_peak_dau(lua_State *L) { return month_peak(L, 0, "meter:peak_dau"); }
static int m_peak_groups(lua_State *L) { return month_peak(L, 1, "meter:peak_groups"); }

/* m:groups() -> total, { Private = n, ... } */
static int m_groups(lua_State *L) {
  lmeter *lm = check_lm(L, "meter:groups");
  int64_t by[IMB_G_COUNT], total;
  imb_meter_groups(lm->m, by, &total);
  imbL_pushint64(L, total);
  lua_createtable(L, 0, IMB_G_COUNT);
  for (int i = 0; i < IMB_G_COUNT; i++) {
    imbL_pushint64(L, by[i]);
    lua_setfield(L, -2, imb_gtype_name(i));
  }
  return 2;
}

static int m_accounts(lua_State *L) {
  lmeter *lm = check_lm(L, "meter:accounts");
  imbL_pushint64(L, imb_meter_accounts(lm->m));
  return 1;
}

static int m_has_account(lua_State *L) {
  lmeter *lm = check_lm(L, "meter:has_account");
  size_t len;
  const char *u = check_id(L, 2, "meter:has_account", "user", &len);
  lua_pushboolean(L, imb_meter_has_account(lm->m, u, len));
  return 1;
}

static int count_or_zero(lua_State *L, int64_t v) {
  imbL_pushint64(L, v < 0 ? 0 : v);
  return 1;
}

static int m_friends(lua_State *L) {
  lmeter *lm = check_lm(L, "meter:friends");
  size_t len;
  const char *u = check_id(L, 2, "meter:friends", "user", &len);
  return count_or_zero(L, imb_meter_user_friends(lm->m, u, len));
}

static int m_joined(lua_State *L) {
  lmeter *lm = check_lm(L, "meter:joined");
  size_t len;
  const char *u = check_id(L, 2, "meter:joined", "user", &len);
  return count_or_zero(L, imb_meter_user_groups(lm->m, u, len));
}

/* m:members(g) -> count, type; nil when the group does not exist */
static int m_members(lua_State *L) {
  lmeter *lm = check_lm(L, "meter:members");
  size_t len;
  const char *g = check_id(L, 2, "meter:members", "group", &len);
  int32_t t;
  int64_t n = imb_meter_group_members(lm->m, g, len, &t);
  if (n < 0) {
    lua_pushnil(L);
    return 1;
  }
  imbL_pushint64(L, n);
  lua_pushstring(L, imb_gtype_name(t));
  return 2;
}

static int m_last_day(lua_State *L) {
  lmeter *lm = check_lm(L, "meter:last_day");
  int32_t d = imb_meter_last_day(lm->m);
  if (d == INT32_MIN) lua_pushnil(L);
  else push_date(L, d);
  return 1;
}

static int m_release(lua_State *L) {
  const char *fn = "meter:release";
  lmeter *lm = check_lm(L, fn);
  int32_t d = imbL_checkdate(L, 2, fn, "before");
  imb_status st = imb_meter_release(lm->m, d);
  if (st == IMB_ERANGE) {
    int32_t last = imb_meter_last_day(lm->m);
    char buf[IMB_DATE_BUFSZ] = "none";
    if (last != INT32_MIN) imb_date_format(last, buf);
    return imbL_raise(L, fn, "before", 2, "is inside the %d-day dedup window (latest event day: %s)",
                      (int)IMB_DEDUP_DAYS, buf);
  }
  if (st) return status_error(L, st, fn);
  lua_pushboolean(L, 1);
  return 1;
}

static void set_size(lua_State *L, const char *k, size_t v) {
  imbL_pushint64(L, (int64_t)v);
  lua_setfield(L, -2, k);
}

static int m_memory(lua_State *L) {
  lmeter *lm = check_lm(L, "meter:memory");
  imb_meter_mem o;
  imb_meter_memory(lm->m, &o);
  lua_newtable(L);
  set_size(L, "users", o.users);
  set_size(L, "user_bytes", o.user_bytes);
  set_size(L, "groups", o.groups);
  set_size(L, "group_bytes", o.group_bytes);
  set_size(L, "user_days", o.user_days);
  set_size(L, "day_bytes", o.day_bytes);
  set_size(L, "user_months", o.months);
  set_size(L, "month_bytes", o.month_bytes);
  set_size(L, "event_ids", o.event_ids);
  set_size(L, "event_bytes", o.event_bytes);
  set_size(L, "total", o.total);
  return 1;
}

static int m_gc(lua_State *L) {
  lmeter *lm = imbL_testudata(L, 1, METER);
  if (lm) {
    imb_meter_free(lm->m);
    lm->m = NULL;
  }
  return 0;
}

static int m_tostring(lua_State *L) {
  lmeter *lm = imbL_testudata(L, 1, METER);
  if (!lm || !lm->m) {
    lua_pushliteral(L, "imbill meter (closed)");
    return 1;
  }
  int n = imb_meter_segments(lm->m);
  const char *e;
  imb_meter_segment(lm->m, n - 1, NULL, NULL, &e, NULL, NULL);
  int64_t by[IMB_G_COUNT], total, accounts = imb_meter_accounts(lm->m);
  imb_meter_groups(lm->m, by, &total);
  /* copied first: a finalizer run by the next allocation may close the meter */
  lua_pushstring(L, e);
  e = lua_tostring(L, -1);
  imbL_getuservalue(L, 1);
  const char *book = "?";
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "book_name");
    if (lua_type(L, -1) == LUA_TSTRING) book = lua_tostring(L, -1);
  }
  const char *acc = imbL_i64str(L, accounts);
  const char *grp = imbL_i64str(L, total);
  lua_pushfstring(L, "imbill meter (price book %s, edition %s; %s accounts, %s groups)", book, e, acc, grp);
  return 1;
}

/* ---- the Lua side's private entry points (core.meter_impl) -------------- */

static lmeter *new_lm(lua_State *L, int state) {
  lmeter *lm = imbL_newuserdata(L, sizeof *lm);
  lm->m = NULL;
  luaL_getmetatable(L, METER);
  lua_setmetatable(L, -2);
  lua_pushvalue(L, state);
  imbL_setuservalue(L, -2);
  return lm;
}

static int check_state(lua_State *L, int idx, const char *fn) {
  if (!lua_istable(L, idx)) imbL_raise(L, fn, "state", idx, "expected the meter's state table (make meters with imbill.meter)");
  return idx;
}

/* meter_impl.new(offset, edition, limits, is_free, state) */
static int c_new(lua_State *L) {
  const char *fn = "imbill.meter";
  int64_t off = imbL_checkint64(L, 1, "tz");
  size_t elen;
  const char *e = luaL_checklstring(L, 2, &elen);
  imb_limits lim;
  check_limits(L, 3, &lim, fn);
  int state = check_state(L, 5, fn);
  if (!imb_tz_valid(off))
    imbL_raise(L, fn, "tz", 1, "offset is out of range (whole minutes from -12:00 to +14:00, in seconds)");
  check_edition_id(L, 2, e, elen, fn);
  lmeter *lm = new_lm(L, state);
  imb_status st = imb_meter_new((int32_t)off, e, elen, &lim, lua_toboolean(L, 4), &lm->m);
  if (st) return status_error(L, st, fn);
  return 1;
}

/* The message of a failed save or load: what failed, and the system's own
 * reason when a system call failed ("No such file or directory"). */
/* A file operation's failure as the Lua layer takes it: nil, the message,
 * errno (3 results). */
static int push_file_error(lua_State *L, const imb_file_error *err, imb_status st) {
  /* the core's reasons are its own fixed texts and numbers: the path is the
   * error's value, shown bounded by the Lua layer */
  const char *why = err->why[0] ? err->why : imb_strerror(st);
  const char *sys = err->sys ? strerror(err->sys) : NULL;
  lua_pushnil(L);
  /* "is a directory", not "is a directory: Is a directory" */
  if (sys && strcasecmp(why, sys) != 0) lua_pushfstring(L, "%s: %s", why, sys);
  else lua_pushstring(L, why);
  lua_pushinteger(L, err->sys);
  return 3;
}

/* meter_impl.load(path, state) -> meter, records, version | nil, message, errno
 * records: { { key, value }, ... } as meter_impl.save took them (version 2:
 * one record, "meta", the old key=value text). */
static int c_load(lua_State *L) {
  size_t plen;
  const char *path = luaL_checklstring(L, 1, &plen);
  int state = check_state(L, 2, "imbill.meter.load");
  lmeter *lm = new_lm(L, state);
  imb_saved saved;
  imb_file_error err;
  imb_status st = imb_meter_load(path, plen, &lm->m, &saved, &err);
  if (st) return push_file_error(L, &err, st);
  /* the records are copied into Lua before anything can raise */
  if (!lua_checkstack(L, 8)) {
    imb_saved_free(&saved);
    return imbL_raise(L, "imbill.meter.load", NULL, 0, "out of memory");
  }
  lua_createtable(L, (int)saved.nrecs, 0);
  for (size_t i = 0; i < saved.nrecs; i++) {
    const imb_record *r = &saved.recs[i];
    lua_createtable(L, 2, 0);
    lua_pushlstring(L, r->key, r->klen);
    lua_rawseti(L, -2, 1);
    if (r->type == IMB_REC_BYTES) lua_pushlstring(L, r->bytes, r->blen);
    else if (r->type == IMB_REC_BOOL) lua_pushboolean(L, (int)r->i);
#if LUA_VERSION_NUM >= 503
    else lua_pushinteger(L, (lua_Integer)r->i);
#else
    else if (imbL_exact(r->i)) lua_pushnumber(L, (lua_Number)r->i); /* imbill.meter.load reads no integer record */
    else imbL_i64str(L, r->i); /* never rounded: its decimal text */
#endif
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, (int)i + 1);
  }
  lua_pushinteger(L, (lua_Integer)saved.version);
  imb_saved_free(&saved);
  return 3;
}

/* The private entry points' errors name no function: the Lua method that
 * called one names itself (lua/imbill/meter/init.lua). */
static lmeter *impl_lm(lua_State *L) {
  lmeter *lm = imbL_testudata(L, 1, METER);
  if (!lm) imbL_raise(L, NULL, "self", 1, "expected a meter");
  if (!lm->m) imbL_raise(L, NULL, "self", 0, "the meter was closed");
  return lm;
}

static int c_state(lua_State *L) {
  impl_lm(L);
  imbL_getuservalue(L, 1);
  return 1;
}

/* meter_impl.change(m, policy, t, edition, limits, is_free [, event_id])
 *   -> "ok" | "same" | "twice" | "backwards" | "no_return" | "duplicate" | "future" | "closed" */
static int c_change(lua_State *L) {
  lmeter *lm = impl_lm(L);
  const char *fn = "meter:change_edition";
  luaL_checktype(L, 2, LUA_TTABLE);
  imb_policy p;
  lua_getfield(L, 2, "return_to_free");
  p.return_to_free = lua_toboolean(L, -1);
  lua_getfield(L, 2, "activation_free_to");
  p.activation_free_to = (int32_t)luaL_checkinteger(L, -1);
  lua_pop(L, 2);
  int64_t t = check_time(L, 3, fn, "t");
  size_t elen;
  const char *e = luaL_checklstring(L, 4, &elen);
  imb_limits lim;
  check_limits(L, 5, &lim, fn);
  check_edition_id(L, 4, e, elen, fn);
  const char *id = NULL;
  size_t idlen = 0;
  if (!lua_isnoneornil(L, 7)) id = check_id(L, 7, fn, "event id", &idlen);
  if (!lm->m) return imbL_raise(L, NULL, "self", 0, "the meter was closed");
  imb_change_verdict v;
  imb_status st = imb_meter_change_id(lm->m, &p, t, e, elen, &lim, lua_toboolean(L, 6), id, idlen, &v);
  if (st) return status_error(L, st, fn);
  static const char *const NAMES[] = {"ok",        "same",   "twice",  "backwards", "no_return",
                                      "duplicate", "future", "closed", "invalid"};
  lua_pushstring(L, NAMES[v]);
  return 1;
}

/* meter_impl.segments(m) -> { { from = t|nil, day = "YYYY-MM-DD"|nil, edition =, free =, limits = }, ... } */
static int c_segments(lua_State *L) {
  lmeter *lm = impl_lm(L);
  int n = imb_meter_segments(lm->m);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    int64_t from;
    int32_t day;
    const char *e;
    imb_limits lim;
    int fr;
    /* every allocation may run a finalizer, and a finalizer may close the
     * meter: read it only while it is open, and copy what it owns (the
     * edition's name) before the next allocation */
    if (!lm->m) return imbL_raise(L, NULL, "self", 0, "the meter was closed");
    imb_meter_segment(lm->m, i, &from, &day, &e, &lim, &fr);
    lua_pushstring(L, e);
    lua_createtable(L, 0, 5);
    lua_insert(L, -2);
    lua_setfield(L, -2, "edition");
    if (from != INT64_MIN) {
      imbL_pushint64(L, from);
      lua_setfield(L, -2, "from");
      push_date(L, day);
      lua_setfield(L, -2, "day");
    }
    lua_pushboolean(L, fr);
    lua_setfield(L, -2, "free");
    push_limits(L, &lim);
    lua_setfield(L, -2, "limits");
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int c_set_limits(lua_State *L) {
  lmeter *lm = impl_lm(L);
  int64_t i = imbL_checkint64(L, 2, "segment");
  imb_limits lim;
  check_limits(L, 3, &lim, "imbill.meter");
  if (!lm->m) return imbL_raise(L, NULL, "self", 0, "the meter was closed");
  if (i < 1 || i > imb_meter_segments(lm->m) || imb_meter_set_limits(lm->m, (int)(i - 1), &lim))
    imbL_raise(L, "imbill.meter", "segment", 2, "no such edition segment");
  return 0;
}

/* meter_impl.activated(m [, day|false]) -> day | nil */
static int c_activated(lua_State *L) {
  lmeter *lm = impl_lm(L);
  if (lua_gettop(L) >= 2) {
    imb_meter_set_activated(lm->m, lua_toboolean(L, 2) ? imbL_checkdate(L, 2, "imbill.meter", "activated") : INT32_MIN);
    return 0;
  }
  int32_t d = imb_meter_activated(lm->m);
  if (d == INT32_MIN) lua_pushnil(L);
  else push_date(L, d);
  return 1;
}

/* meter_impl.month(m, "YYYY-MM") -> dau[], groups[], mau */
static int c_month(lua_State *L) {
  lmeter *lm = impl_lm(L);
  int32_t mo = imbL_checkmonth(L, 2, "meter:usage", "month");
  int64_t dau[31], grp[31], mau;
  imb_status st = imb_meter_month(lm->m, mo, dau, grp, &mau);
  if (st) return status_error(L, st, "meter:usage");
  int len = imb_month_length(mo);
  lua_createtable(L, len, 0);
  for (int i = 0; i < len; i++) {
    imbL_pushint64(L, dau[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_createtable(L, len, 0);
  for (int i = 0; i < len; i++) {
    imbL_pushint64(L, grp[i]);
    lua_rawseti(L, -2, i + 1);
  }
  imbL_pushint64(L, mau);
  return 3;
}

static int c_offset(lua_State *L) {
  lmeter *lm = impl_lm(L);
  lua_pushinteger(L, imb_meter_offset(lm->m));
  return 1;
}

static int c_set_clock(lua_State *L) {
  lmeter *lm = impl_lm(L);
  imb_meter_set_clock(lm->m, lua_isnil(L, 2) ? INT64_MIN : check_time(L, 2, "imbill.meter", "clock"));
  return 0;
}

/* meter_impl.save(m, path, records, crash_after, named_temp) -> true | nil, message, errno
 * records: { { key, value }, ... } with string, integer or boolean values. */
static int c_save(lua_State *L) {
  const char *fn = "meter:save";
  lmeter *lm = impl_lm(L);
  size_t plen;
  const char *path = luaL_checklstring(L, 2, &plen);
  luaL_checktype(L, 3, LUA_TTABLE);
  size_t n = (size_t)imbL_rawlen(L, 3);
  if (n > IMB_RECORDS_MAX) imbL_raise(L, fn, "records", 0, "more than %d", (int)IMB_RECORDS_MAX);
  /* a userdata, so an error below frees it with the rest */
  imb_record *recs = lua_newuserdata(L, (n ? n : 1) * sizeof *recs);
  int keep = lua_gettop(L);
  for (size_t i = 0; i < n; i++) {
    imb_record *r = &recs[i];
    memset(r, 0, sizeof *r);
    lua_rawgeti(L, 3, (int)i + 1);
    if (!lua_istable(L, -1)) imbL_raise(L, fn, "records", 0, "record %d: expected { key, value }", (int)i + 1);
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    if (lua_type(L, -2) != LUA_TSTRING) imbL_raise(L, fn, "records", 0, "record %d: the key is a string", (int)i + 1);
    /* the strings stay alive in the records table for the whole call */
    r->key = lua_tolstring(L, -2, &r->klen);
    if (lua_type(L, -1) == LUA_TSTRING) {
      r->type = IMB_REC_BYTES;
      r->bytes = lua_tolstring(L, -1, &r->blen);
    } else if (lua_type(L, -1) == LUA_TBOOLEAN) {
      r->type = IMB_REC_BOOL;
      r->i = lua_toboolean(L, -1);
    } else if (imbL_toint64(L, -1, &r->i)) {
      r->type = IMB_REC_INT;
    } else {
      imbL_raise(L, fn, "records", 0, "record %d: the value is a string, a whole number or a boolean", (int)i + 1);
    }
    lua_settop(L, keep);
  }
  imb_save_opts opts = {-1, 0};
  if (!lua_isnoneornil(L, 4)) opts.crash_after = imbL_checkint64(L, 4, "crash_after");
  opts.named_temp = lua_toboolean(L, 5);
  imb_file_error err;
  imb_status st = imb_meter_save(lm->m, path, plen, recs, n, &opts, &err);
  if (st) return push_file_error(L, &err, st);
  lua_pushboolean(L, 1);
  return 1;
}

/* meter_impl.handle(m) -> the core's imb_meter pointer for the FFI path, or
 * nil once closed: the FFI reaches a meter through this, never through the
 * userdata's layout. */
static int c_handle(lua_State *L) {
  lmeter *lm = imbL_testudata(L, 1, METER);
  if (!lm || !lm->m) lua_pushnil(L);
  else lua_pushlightuserdata(L, lm->m);
  return 1;
}

static int c_set_formatter(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_pushvalue(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, FORMATTER);
  return 0;
}

static int c_is_meter(lua_State *L) {
  lua_pushboolean(L, imbL_testudata(L, 1, METER) != NULL);
  return 1;
}

/* ---- plans, for stores written in Lua and for specs --------------------- */

static int32_t check_action(lua_State *L, int idx, const char *fn) {
  if (lua_type(L, idx) == LUA_TSTRING)
    for (int k = 0; k < IMB_A_COUNT; k++)
      if (strcmp(lua_tostring(L, idx), imb_action_name(k)) == 0) return k;
  imbL_raise(L, fn, "action", idx, "unknown action");
  return 0;
}

static void set_int(lua_State *L, const char *k, int64_t v) {
  imbL_pushint64(L, v);
  lua_setfield(L, -2, k);
}

/* core.plan(limits, action, type, t, offset [, has_id [, now]]) -> the plan as a table:
 *   { refused =, refusal =, day =, month =, t =, by_type = {...}, ops = { { kind =, key =, ... } } } */
static int c_plan(lua_State *L) {
  const char *fn = "imbill.core.plan";
  imb_limits lim;
  check_limits(L, 1, &lim, fn);
  int32_t k = check_action(L, 2, fn);
  int32_t parts[IMB_PARTS_MAX];
  if (imb_action_parts(k, parts) > 1)
    imbL_raise(L, fn, "action", 2, "a two-way action has no plan of its own: plan its parts, %s and %s",
               imb_action_name(parts[0]), imb_action_name(parts[1]));
  int32_t gt = lua_isnil(L, 3) ? 0 : check_gtype(L, 3, fn);
  int64_t t = check_time(L, 4, fn, "t");
  int64_t off;
  if (!imbL_toint64(L, 5, &off) || off <= -86400 || off >= 86400)
    imbL_raise(L, fn, "offset", 5, "expected whole seconds east of UTC, within a day");
  int64_t now = lua_isnoneornil(L, 7) ? INT64_MIN : check_time(L, 7, fn, "now");
  imb_plan p;
  imb_status st = imb_plan_build(&lim, k, gt, t, (int32_t)off, lua_toboolean(L, 6), now, &p);
  if (st) return status_error(L, st, fn);
  static const char *const OPS[IMB_OP_COUNT] = {"eq", "ne", "le", "ge", "has", "lacks", "fresh", "add", "set",
                                                "max", "sadd", "srem", "log", "mark", "cascade_user",
                                                "cascade_group", "counted"};
  static const char *const SUBJ[IMB_S_COUNT] = {"app", "user", "peer", "group", "day", "month", "event"};
  static const char *const WHEN[] = {NULL, "group_non_av", "group_today", "user_account"};
  static const char *const FAIL[] = {NULL, "refuse", "noop", "duplicate"};
  lua_createtable(L, 0, 8);
  lua_pushboolean(L, p.refused);
  lua_setfield(L, -2, "refused");
  if (p.refused) {
    lua_createtable(L, 0, 3);
    push_code(L, p.refusal.code);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, imb_limit_name(p.refusal.limit));
    lua_setfield(L, -2, "limit");
    lua_setfield(L, -2, "refusal");
  }
  set_int(L, "day", p.day);
  set_int(L, "month", p.month);
  set_int(L, "day_start", p.day_start);
  set_int(L, "t", p.t);
  lua_createtable(L, p.nops, 0);
  for (int i = 0; i < p.nops; i++) {
    const imb_op *o = &p.op[i];
    lua_createtable(L, 0, 10);
    lua_pushstring(L, OPS[o->kind]);
    lua_setfield(L, -2, "op");
    lua_pushstring(L, imb_key_name(o->key));
    lua_setfield(L, -2, "key");
    lua_pushstring(L, SUBJ[o->subject]);
    lua_setfield(L, -2, "subject");
    if (o->kind == IMB_OP_HAS || o->kind == IMB_OP_LACKS || o->kind == IMB_OP_SADD || o->kind == IMB_OP_SREM) {
      lua_pushstring(L, SUBJ[o->member]);
      lua_setfield(L, -2, "member");
    }
    if (o->key == IMB_K_GROUPS_OF) {
      if (o->gtype == IMB_GTYPE_OF_GROUP) lua_pushliteral(L, "of_group");
      else lua_pushstring(L, imb_gtype_name(o->gtype));
      lua_setfield(L, -2, "type");
    }
    if (o->when) {
      lua_pushstring(L, WHEN[o->when]);
      lua_setfield(L, -2, "when");
    }
    set_int(L, "arg", o->arg);
    if (o->by_type) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "by_type");
    } else if (o->bound != IMB_UNLIMITED) {
      set_int(L, "bound", o->bound);
    }
    if (o->fail) {
      lua_pushstring(L, FAIL[o->fail]);
      lua_setfield(L, -2, "fail");
    }
    if (o->fail == IMB_FAIL_REFUSE) {
      push_code(L, o->code);
      lua_setfield(L, -2, "code");
      lua_pushstring(L, imb_limit_name(o->limit));
      lua_setfield(L, -2, "limit");
    }
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "ops");
  lua_createtable(L, 0, IMB_G_COUNT);
  for (int g = 0; g < IMB_G_COUNT; g++) {
    if (p.by_type[g] == IMB_UNLIMITED) continue;
    imbL_pushint64(L, p.by_type[g]);
    lua_setfield(L, -2, imb_gtype_name(g));
  }
  lua_setfield(L, -2, "by_type");
  return 1;
}

static const luaL_Reg meta[] = {
  {"__gc", m_gc},
  {"__tostring", m_tostring},
#if LUA_VERSION_NUM >= 504
  {"__close", m_gc},
#endif
  {NULL, NULL},
};

static const luaL_Reg methods[] = {
  {"create_account", m_create_account}, {"delete_account", m_delete_account}, {"login", m_login},
  {"logins", m_logins}, {"create_group", m_create_group}, {"disband_group", m_disband_group},
  {"join_group", m_join_group}, {"leave_group", m_leave_group}, {"add_friend", m_add_friend},
  {"remove_friend", m_remove_friend}, {"dau", m_dau}, {"mau", m_mau}, {"peak_dau", m_peak_dau},
  {"peak_groups", m_peak_groups}, {"groups", m_groups}, {"accounts", m_accounts},
  {"has_account", m_has_account}, {"friends", m_friends}, {"joined", m_joined}, {"members", m_members},
  {"last_day", m_last_day}, {"release", m_release}, {"memory", m_memory},
  {NULL, NULL},
};

static const luaL_Reg impl[] = {
  {"new", c_new}, {"load", c_load}, {"state", c_state}, {"change", c_change}, {"segments", c_segments},
  {"set_limits", c_set_limits}, {"activated", c_activated}, {"month", c_month}, {"offset", c_offset},
  {"set_clock", c_set_clock}, {"save", c_save}, {"handle", c_handle}, {"set_formatter", c_set_formatter},
  {"is_meter", c_is_meter}, {NULL, NULL},
};

/* core.write_file(path, text) -> true | nil, message, errno: text written to
 * path whole or not at all (imb_file_write), for the command line's -o. */
static int c_write_file(lua_State *L) {
  size_t plen, len;
  const char *path = luaL_checklstring(L, 1, &plen);
  const char *text = luaL_checklstring(L, 2, &len);
  imb_file_error err;
  imb_status st = imb_file_write(path, plen, text, len, &err);
  if (st) return push_file_error(L, &err, st);
  lua_pushboolean(L, 1);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"plan", c_plan}, {"write_file", c_write_file}, {NULL, NULL},
};

void imbL_open_meter(lua_State *L) {
  imbL_newclass(L, METER, meta, methods);
  imbL_setfuncs(L, funcs, 0);
  lua_newtable(L);
  imbL_setfuncs(L, impl, 0);
  /* meter/init.lua adds its methods to the class's method table */
  luaL_getmetatable(L, METER);
  lua_getfield(L, -1, "__index");
  lua_setfield(L, -4, "methods");
  lua_pop(L, 1);
  lua_setfield(L, -2, "meter_impl");
}
