/* imbill.core's meter: the in-process store as a userdata, and the pure rule
 * (reads/decide) for stores written in Lua.  meter.lua adds the methods that
 * need price books (usage, change_edition, save/load) to the same method
 * table, so hot methods such as m:login are a single C call. */
#include "binding.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define METER "imbill.Meter"
#define ID_MAX 1024
#define BOOK_MAX 63

typedef struct lmeter {
  imb_meter *m;
  char book[BOOK_MAX + 1];
} lmeter;

static lmeter *check_lm(lua_State *L) {
  lmeter *lm = luaL_checkudata(L, 1, METER);
  if (!lm->m) imbL_error(L, "meter: the meter was closed");
  return lm;
}

static const char *shown(lua_State *L, int idx) {
  int t = lua_type(L, idx);
  if (t == LUA_TSTRING) {
    lua_pushfstring(L, "\"%s\"", lua_tostring(L, idx));
    return lua_tostring(L, -1);
  }
  if (t == LUA_TNUMBER) return lua_pushfstring(L, "%s", lua_tostring(L, idx));
  return luaL_typename(L, idx);
}

static const char *check_id(lua_State *L, int idx, const char *fn, const char *field, size_t *len) {
  if (lua_type(L, idx) != LUA_TSTRING)
    imbL_error(L, "%s: %s: expected a non-empty string id, got %s", fn, field, shown(L, idx));
  const char *s = lua_tolstring(L, idx, len);
  if (*len == 0) imbL_error(L, "%s: %s: expected a non-empty string id, got \"\"", fn, field);
  if (*len > ID_MAX) imbL_error(L, "%s: %s: id longer than %d bytes", fn, field, ID_MAX);
  return s;
}

static int64_t check_time(lua_State *L, int idx, const char *fn) {
  int64_t t;
  if (!imbL_toint64(L, idx, &t))
    imbL_error(L, "%s: t: expected an instant in whole Unix seconds, got %s", fn, shown(L, idx));
  /* days -719161 .. 2932895 in UTC, compared as seconds (no division on the
   * hot path of m:logins) */
  if (t < INT64_C(-719161) * 86400 || t >= INT64_C(2932896) * 86400)
    imbL_error(L, "%s: t: instant %s is outside years 1..9999", fn, lua_tostring(L, idx));
  return t;
}

static const char *const GTYPES[] = {"Private", "Public", "ChatRoom", "AVChatRoom", "BChatRoom", "Community", NULL};

static imb_gtype check_gtype(lua_State *L, int idx, const char *fn) {
  if (lua_type(L, idx) == LUA_TSTRING) {
    const char *s = lua_tostring(L, idx);
    if (strcmp(s, "Work") == 0) return IMB_G_PRIVATE;
    if (strcmp(s, "Meeting") == 0) return IMB_G_CHATROOM;
    for (int i = 0; GTYPES[i]; i++)
      if (strcmp(s, GTYPES[i]) == 0) return (imb_gtype)i;
  }
  imbL_error(L,
             "%s: type: unknown group type (known: Private, Public, ChatRoom, AVChatRoom, BChatRoom, "
             "Community, and the aliases Work, Meeting), got %s",
             fn, shown(L, idx));
  return IMB_G_PRIVATE;
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
      imbL_error(L, "%s: limits.%s: expected a whole number >= 0 or nil (unlimited), got %s", fn, name,
                 shown(L, -1));
  }
  lua_pop(L, 1);
  return v;
}

/* { accounts =, ..., members = { Private =, ... } or a number, same_day_disbands = bool } */
static void check_limits(lua_State *L, int t, imb_limits *l, const char *fn) {
  if (t < 0) t = lua_gettop(L) + t + 1;
  luaL_checktype(L, t, LUA_TTABLE);
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
    for (int i = 0; GTYPES[i]; i++) l->members[i] = limit_field(L, mt, GTYPES[i], fn);
  } else if (!lua_isnil(L, -1)) {
    int64_t v = limit_field(L, t, "members", fn);
    for (int i = 0; i < IMB_G_COUNT; i++) l->members[i] = imb_gtype_is_av((imb_gtype)i) ? IMB_UNLIMITED : v;
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
  for (int i = 0; GTYPES[i]; i++) push_limit(L, l->members[i], GTYPES[i]);
  lua_setfield(L, -2, "members");
  lua_pushboolean(L, l->same_day_disbands);
  lua_setfield(L, -2, "same_day_disbands");
}

/* ---- refusals ---------------------------------------------------------- */

static const char *code_name(int code) {
  return code == IMB_R_CLOSED ? "closed" : NULL;
}

/* A sentence a support engineer can paste to a customer. */
static void refusal_message(char *out, size_t n, const imb_refusal *r, const char *edition, const char *book,
                            imb_gtype gt, const char *a, const char *b, int32_t day) {
  char d[IMB_DATE_BUFSZ];
  imb_date_format(day, d);
  long long max = (long long)r->max, cur = (long long)r->current;
  const char *who = r->peer ? b : a;
  switch (r->limit) {
  case IMB_L_ACCOUNTS:
    snprintf(out, n, "Error 70398: the %s edition (price book %s) allows at most %lld accounts and this app has "
             "%lld. Delete accounts that are no longer used, or upgrade to a paid edition, to create more.",
             edition, book, max, cur);
    return;
  case IMB_L_NON_AV_GROUPS:
    snprintf(out, n, "Error 10058: the %s edition (price book %s) allows at most %lld groups (Private, Public, "
             "ChatRoom, Community) and this app has %lld. Disband unused groups or upgrade to a paid edition.",
             edition, book, max, cur);
    return;
  case IMB_L_AV_GROUPS:
    snprintf(out, n, "Error 10036: the %s edition (price book %s) allows at most %lld AVChatRoom groups at a time "
             "and this app has %lld. Disband an AVChatRoom, upgrade, or buy the unlimited AVChatRoom add-on.",
             edition, book, max, cur);
    return;
  case IMB_L_BCHATROOM_TOTAL:
    snprintf(out, n, "Error 10036: an app can have at most %lld BChatRoom groups at a time and this app has %lld. "
             "Disband a BChatRoom first.", max, cur);
    return;
  case IMB_L_BCHATROOM_DAILY:
    snprintf(out, n, "Error 10006: at most %lld BChatRoom groups can be created per day and %lld were created on %s. "
             "Try again the next day.", max, cur, d);
    return;
  case IMB_L_DAILY_NET_GROUPS:
    snprintf(out, n, "Error 10006: the daily net group increase (groups created minus groups disbanded) is limited "
             "to %lld and has reached %lld on %s. Disband groups or try again the next day.", max, cur, d);
    return;
  case IMB_L_MEMBERS_PER_GROUP:
    snprintf(out, n, "Error 10038: group %s (%s) is full: the %s edition (price book %s) allows at most %lld members "
             "per %s group. Upgrade, or buy the members-per-group add-on.", a, imb_gtype_name(gt), edition, book,
             max, imb_gtype_name(gt));
    return;
  case IMB_L_GROUPS_PER_USER:
    snprintf(out, n, "Error 10037: user %s has joined %lld groups, the most the %s edition (price book %s) allows. "
             "Leave a group, upgrade, or buy the groups-per-user add-on.", b, cur, edition, book);
    return;
  case IMB_L_FRIENDS_PER_USER:
    snprintf(out, n, "Error 30010: user %s already has %lld friends, the most the %s edition (price book %s) allows. "
             "Remove a friend or upgrade the edition.", who, cur, edition, book);
    return;
  case IMB_L_GROUP_EXISTS:
    snprintf(out, n, "Error 10010: group %s does not exist (it was never created or has been disbanded).", a);
    return;
  case IMB_L_GROUP_ID:
    snprintf(out, n, "Error 10021: group ID %s is already used by an existing group.", a);
    return;
  case IMB_L_DAY_OPEN:
    snprintf(out, n, "Not counted: %s was released from the meter (m:release); events for it can no longer be "
             "counted exactly.", d);
    return;
  default:
    snprintf(out, n, "Refused.");
  }
}

static void push_refusal(lua_State *L, const lmeter *lm, const imb_refusal *r, imb_action_kind k, imb_gtype gt,
                         const char *a, const char *b, int64_t t, const char *edition) {
  int32_t day = 0;
  imb_day_of(t, imb_meter_offset(lm->m), &day);
  char msg[512];
  refusal_message(msg, sizeof msg, r, edition, lm->book, gt, a, b ? b : "", day);
  if (r->limit == IMB_L_DAY_OPEN && day >= imb_meter_released_before(lm->m)) {
    /* not released: a login older than the window the users' bitmaps cover */
    char d[IMB_DATE_BUFSZ], last[IMB_DATE_BUFSZ];
    imb_date_format(day, d);
    imb_date_format(imb_meter_last_day(lm->m), last);
    snprintf(msg, sizeof msg, "Not counted: a login for %s arrived when the meter had reached %s; logins are counted "
             "at most %d days late.", d, last, IMB_LOGIN_LATE_DAYS);
  }
  if (r->limit == IMB_L_BCHATROOM_DAILY) {
    /* fill in the billing offset the generic formatter cannot know */
    int32_t off = imb_meter_offset(lm->m);
    char d[IMB_DATE_BUFSZ];
    imb_date_format(day, d);
    snprintf(msg, sizeof msg, "Error 10006: at most %lld BChatRoom groups can be created per day and %lld were "
             "created on %s (billing day, UTC%c%02d:%02d). Try again the next day.", (long long)r->max,
             (long long)r->current, d, off < 0 ? '-' : '+', (off < 0 ? -off : off) / 3600,
             ((off < 0 ? -off : off) % 3600) / 60);
  }
  lua_createtable(L, 0, 10);
  const char *cn = code_name(r->code);
  if (cn) lua_pushstring(L, cn);
  else lua_pushinteger(L, r->code);
  lua_setfield(L, -2, "code");
  lua_pushstring(L, imb_limit_name(r->limit));
  lua_setfield(L, -2, "limit");
  if (r->max != IMB_UNLIMITED) {
    imbL_pushint64(L, r->max);
    lua_setfield(L, -2, "max");
    imbL_pushint64(L, r->current);
    lua_setfield(L, -2, "current");
  }
  lua_pushstring(L, msg);
  lua_setfield(L, -2, "message");
  lua_pushstring(L, imb_action_name(k));
  lua_setfield(L, -2, "action");
  lua_pushstring(L, edition);
  lua_setfield(L, -2, "edition");
  push_date(L, day);
  lua_setfield(L, -2, "day");
  if (r->limit == IMB_L_FRIENDS_PER_USER) {
    lua_pushstring(L, r->peer ? b : a);
    lua_setfield(L, -2, "user");
  }
}

/* ---- actions ----------------------------------------------------------- */

static int status_error(lua_State *L, imb_status st, const char *fn) {
  if (st == IMB_ENOMEM) return imbL_error(L, "%s: out of memory", fn);
  return imbL_error(L, "%s: %s", fn, imb_strerror(st));
}

/* Shared by every action method: (self, a, [b,] [type,] t, [event_id]). */
static int act(lua_State *L, imb_action_kind k, int has_b, int has_type, const char *fn, const char *fa,
               const char *fb) {
  lmeter *lm = check_lm(L);
  imb_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = k;
  int i = 2;
  ev.a = check_id(L, i++, fn, fa, &ev.alen);
  if (has_type) ev.gtype = check_gtype(L, i++, fn);
  if (has_b) ev.b = check_id(L, i++, fn, fb, &ev.blen);
  ev.t = check_time(L, i++, fn);
  if (!lua_isnoneornil(L, i)) {
    if (lua_type(L, i) != LUA_TSTRING) imbL_error(L, "%s: event id: expected a string, got %s", fn, shown(L, i));
    ev.id = lua_tolstring(L, i, &ev.idlen);
    if (ev.idlen == 0 || ev.idlen > ID_MAX) imbL_error(L, "%s: event id: expected 1..%d bytes", fn, ID_MAX);
  }
  if ((k == IMB_A_ADD_FRIEND || k == IMB_A_REMOVE_FRIEND) && ev.alen == ev.blen &&
      memcmp(ev.a, ev.b, ev.alen) == 0)
    imbL_error(L, "%s: peer: a user cannot be their own friend, got \"%s\"", fn, ev.a);
  imb_result res;
  imb_refusal r;
  imb_status st = k == IMB_A_LOGIN && !ev.id ? imb_meter_login(lm->m, ev.a, ev.alen, ev.t, &res, &r)
                                             : imb_meter_apply(lm->m, &ev, &res, &r);
  if (st) return status_error(L, st, fn);
  if (res == IMB_APPLIED) {
    lua_pushboolean(L, 1);
    return 1;
  }
  if (res == IMB_DUPLICATE) {
    lua_pushboolean(L, 1);
    lua_pushliteral(L, "duplicate");
    return 2;
  }
  /* the edition whose limits refused: the one in force at t */
  const char *edition = "";
  for (int s = imb_meter_segments(lm->m) - 1; s >= 0; s--) {
    int64_t from;
    imb_meter_segment(lm->m, s, &from, NULL, &edition, NULL, NULL);
    if (from <= ev.t) break;
  }
  imb_gtype gt = ev.gtype;
  if (k != IMB_A_CREATE_GROUP) imb_meter_group_members(lm->m, ev.a, ev.alen, &gt);
  lua_pushboolean(L, 0);
  push_refusal(L, lm, &r, k, gt, ev.a, ev.b, ev.t, edition);
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
 * Returns how many were counted (or already counted that day).
 *
 * Each chunk is read in two passes: the first pushes the chunk's user strings
 * onto the stack and prefetches each string object (lua_topointer gives its
 * address without reading it; with millions of distinct ids every string is
 * a cache miss of its own), the second reads lengths, bytes and times into C
 * arrays once those lines are on their way. */
#define LOGIN_CHUNK 1024
static int m_logins(lua_State *L) {
  lmeter *lm = check_lm(L);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  int n = (int)imbL_rawlen(L, 2);
  if ((int)imbL_rawlen(L, 3) != n) imbL_error(L, "meter:logins: users and times differ in length");
  const char *ids[LOGIN_CHUNK];
  size_t lens[LOGIN_CHUNK];
  int64_t ts[LOGIN_CHUNK];
  size_t total = 0;
  int top = lua_gettop(L);
  luaL_checkstack(L, LOGIN_CHUNK + 2, "meter:logins");
  for (int base = 1; base <= n; base += LOGIN_CHUNK) {
    int k = n - base + 1 < LOGIN_CHUNK ? n - base + 1 : LOGIN_CHUNK;
    for (int i = 0; i < k; i++) {
      lua_rawgeti(L, 2, base + i);
#if defined(__GNUC__)
      __builtin_prefetch(lua_topointer(L, -1));
#endif
    }
    for (int i = 0; i < k; i++) {
      /* the strings stay alive on the stack while the core reads them */
      ids[i] = check_id(L, top + 1 + i, "meter:logins", "users[i]", &lens[i]);
      lua_rawgeti(L, 3, base + i);
      ts[i] = check_time(L, -1, "meter:logins");
      lua_pop(L, 1);
    }
    size_t counted;
    imb_status st = imb_meter_logins(lm->m, ids, lens, ts, (size_t)k, &counted);
    if (st) return status_error(L, st, "meter:logins");
    total += counted;
    lua_settop(L, top);
  }
  imbL_pushint64(L, (int64_t)total);
  return 1;
}

/* ---- queries ----------------------------------------------------------- */

static int32_t arg_day(lua_State *L, int idx, const char *fn) {
  size_t len;
  int32_t d;
  const char *s = lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &len) : NULL;
  if (!s || imb_date_parse(s, len, &d))
    imbL_error(L, "%s: date: expected \"YYYY-MM-DD\", got %s", fn, shown(L, idx));
  return d;
}

static int32_t arg_month(lua_State *L, int idx, const char *fn) {
  size_t len;
  int32_t mo;
  const char *s = lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &len) : NULL;
  if (!s || imb_month_parse(s, len, &mo))
    imbL_error(L, "%s: month: expected \"YYYY-MM\", got %s", fn, shown(L, idx));
  return mo;
}

static int m_dau(lua_State *L) {
  lmeter *lm = check_lm(L);
  imbL_pushint64(L, imb_meter_dau(lm->m, arg_day(L, 2, "meter:dau")));
  return 1;
}

static int m_mau(lua_State *L) {
  lmeter *lm = check_lm(L);
  imbL_pushint64(L, imb_meter_mau(lm->m, arg_month(L, 2, "meter:mau")));
  return 1;
}

/* peak over the month's days, and the first day it was reached */
static int month_peak(lua_State *L, int groups, const char *fn) {
  lmeter *lm = check_lm(L);
  int32_t mo = arg_month(L, 2, fn);
  int64_t dau[31], grp[31], mau;
  imb_meter_month(lm->m, mo, dau, grp, &mau);
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
  lmeter *lm = check_lm(L);
  int64_t by[IMB_G_COUNT], total;
  imb_meter_groups(lm->m, by, &total);
  imbL_pushint64(L, total);
  lua_createtable(L, 0, IMB_G_COUNT);
  for (int i = 0; i < IMB_G_COUNT; i++) {
    imbL_pushint64(L, by[i]);
    lua_setfield(L, -2, GTYPES[i]);
  }
  return 2;
}

static int m_month(lua_State *L) {
  lmeter *lm = check_lm(L);
  int32_t mo = arg_month(L, 2, "meter:usage");
  int64_t dau[31], grp[31], mau;
  imb_meter_month(lm->m, mo, dau, grp, &mau);
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

static int m_accounts(lua_State *L) {
  lmeter *lm = check_lm(L);
  imbL_pushint64(L, imb_meter_accounts(lm->m));
  return 1;
}

static int m_has_account(lua_State *L) {
  lmeter *lm = check_lm(L);
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
  lmeter *lm = check_lm(L);
  size_t len;
  const char *u = check_id(L, 2, "meter:friends", "user", &len);
  return count_or_zero(L, imb_meter_user_friends(lm->m, u, len));
}

static int m_joined(lua_State *L) {
  lmeter *lm = check_lm(L);
  size_t len;
  const char *u = check_id(L, 2, "meter:joined", "user", &len);
  return count_or_zero(L, imb_meter_user_groups(lm->m, u, len));
}

/* m:members(g) -> count, type; nil when the group does not exist */
static int m_members(lua_State *L) {
  lmeter *lm = check_lm(L);
  size_t len;
  const char *g = check_id(L, 2, "meter:members", "group", &len);
  imb_gtype t;
  int64_t n = imb_meter_group_members(lm->m, g, len, &t);
  if (n < 0) {
    lua_pushnil(L);
    return 1;
  }
  imbL_pushint64(L, n);
  lua_pushstring(L, GTYPES[t]);
  return 2;
}

static int m_last_day(lua_State *L) {
  lmeter *lm = check_lm(L);
  int32_t d = imb_meter_last_day(lm->m);
  if (d == INT32_MIN) lua_pushnil(L);
  else push_date(L, d);
  return 1;
}

static int m_release(lua_State *L) {
  lmeter *lm = check_lm(L);
  int32_t d = arg_day(L, 2, "meter:release");
  imb_status st = imb_meter_release(lm->m, d);
  if (st == IMB_ERANGE) {
    int32_t last = imb_meter_last_day(lm->m);
    char buf[IMB_DATE_BUFSZ] = "none";
    if (last != INT32_MIN) imb_date_format(last, buf);
    return imbL_error(L, "meter:release: before: %s is inside the %d-day dedup window (latest event day: %s)",
                      lua_tostring(L, 2), IMB_DEDUP_DAYS, buf);
  }
  if (st) return status_error(L, st, "meter:release");
  lua_pushboolean(L, 1);
  return 1;
}

static void set_size(lua_State *L, const char *k, size_t v) {
  imbL_pushint64(L, (int64_t)v);
  lua_setfield(L, -2, k);
}

static int m_memory(lua_State *L) {
  lmeter *lm = check_lm(L);
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

/* ---- editions (called by meter.lua) ------------------------------------ */

/* m:_change(t, edition, limits, free) -> true | false, "twice"|"backwards"|"same" */
static int m_change(lua_State *L) {
  lmeter *lm = check_lm(L);
  int64_t t = check_time(L, 2, "meter:change_edition");
  size_t elen;
  const char *e = luaL_checklstring(L, 3, &elen);
  imb_limits lim;
  check_limits(L, 4, &lim, "meter:change_edition");
  imb_change_refusal why;
  imb_status st = imb_meter_change(lm->m, t, e, elen, &lim, lua_toboolean(L, 5), &why);
  if (st) return status_error(L, st, "meter:change_edition");
  if (why == IMB_CH_OK) {
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_pushboolean(L, 0);
  lua_pushstring(L, why == IMB_CH_TWICE ? "twice" : why == IMB_CH_BACKWARDS ? "backwards" : "same");
  return 2;
}

/* m:_segments() -> { { from = t|nil, day = "YYYY-MM-DD"|nil, edition =, free =, limits = }, ... } */
static int m_segments(lua_State *L) {
  lmeter *lm = check_lm(L);
  int n = imb_meter_segments(lm->m);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    int64_t from;
    int32_t day;
    const char *e;
    imb_limits lim;
    int fr;
    imb_meter_segment(lm->m, i, &from, &day, &e, &lim, &fr);
    lua_createtable(L, 0, 5);
    if (from != INT64_MIN) {
      imbL_pushint64(L, from);
      lua_setfield(L, -2, "from");
      push_date(L, day);
      lua_setfield(L, -2, "day");
    }
    lua_pushstring(L, e);
    lua_setfield(L, -2, "edition");
    lua_pushboolean(L, fr);
    lua_setfield(L, -2, "free");
    push_limits(L, &lim);
    lua_setfield(L, -2, "limits");
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int m_set_limits(lua_State *L) {
  lmeter *lm = check_lm(L);
  int64_t i = imbL_checkint64(L, 2, "segment");
  imb_limits lim;
  check_limits(L, 3, &lim, "meter");
  if (imb_meter_set_limits(lm->m, (int)(i - 1), &lim)) imbL_error(L, "meter: no edition segment %d", (int)i);
  return 0;
}

static int m_activated(lua_State *L) {
  lmeter *lm = check_lm(L);
  if (lua_gettop(L) >= 2) {
    imb_meter_set_activated(lm->m, lua_isnil(L, 2) ? INT32_MIN : arg_day(L, 2, "meter"));
    return 0;
  }
  int32_t d = imb_meter_activated(lm->m);
  if (d == INT32_MIN) lua_pushnil(L);
  else push_date(L, d);
  return 1;
}

static int m_book(lua_State *L) {
  lmeter *lm = check_lm(L);
  lua_pushstring(L, lm->book);
  return 1;
}

static int m_offset(lua_State *L) {
  lmeter *lm = check_lm(L);
  lua_pushinteger(L, imb_meter_offset(lm->m));
  return 1;
}

/* The message of a failed save or load: what failed, and the system's own
 * reason when a system call failed ("No such file or directory"). */
static void push_file_error(lua_State *L, const imb_file_error *err, imb_status st) {
  const char *why = err->why[0] ? err->why : imb_strerror(st);
  const char *sys = err->sys ? strerror(err->sys) : NULL;
  /* "is a directory", not "is a directory: Is a directory" */
  if (sys && strcasecmp(why, sys) != 0) lua_pushfstring(L, "%s: %s", why, sys);
  else lua_pushstring(L, why);
}

/* m:_save(path, records, crash_after, named_temp) -> true | nil, message, errno
 * records: { { key, value }, ... } with string, integer or boolean values. */
static int m_save(lua_State *L) {
  lmeter *lm = check_lm(L);
  size_t plen;
  const char *path = luaL_checklstring(L, 2, &plen);
  luaL_checktype(L, 3, LUA_TTABLE);
  size_t n = (size_t)imbL_rawlen(L, 3);
  if (n > IMB_RECORDS_MAX) imbL_error(L, "meter:save: records: more than %d", IMB_RECORDS_MAX);
  /* a userdata, so an error below frees it with the rest */
  imb_record *recs = lua_newuserdata(L, (n ? n : 1) * sizeof *recs);
  int keep = lua_gettop(L);
  for (size_t i = 0; i < n; i++) {
    imb_record *r = &recs[i];
    memset(r, 0, sizeof *r);
    lua_rawgeti(L, 3, (int)i + 1);
    if (!lua_istable(L, -1)) imbL_error(L, "meter:save: records[%d]: expected { key, value }", (int)i + 1);
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    if (lua_type(L, -2) != LUA_TSTRING) imbL_error(L, "meter:save: records[%d]: the key is a string", (int)i + 1);
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
      imbL_error(L, "meter:save: records[%d]: the value is a string, a whole number or a boolean", (int)i + 1);
    }
    lua_settop(L, keep);
  }
  imb_save_opts opts = {-1, 0};
  if (!lua_isnoneornil(L, 4)) opts.crash_after = imbL_checkint64(L, 4, "crash_after");
  opts.named_temp = lua_toboolean(L, 5);
  imb_file_error err;
  imb_status st = imb_meter_save(lm->m, path, plen, recs, n, &opts, &err);
  if (st) {
    lua_pushnil(L);
    push_file_error(L, &err, st);
    lua_pushinteger(L, err.sys);
    return 3;
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int m_gc(lua_State *L) {
  lmeter *lm = luaL_checkudata(L, 1, METER);
  imb_meter_free(lm->m);
  lm->m = NULL;
  return 0;
}

static int m_tostring(lua_State *L) {
  lmeter *lm = luaL_checkudata(L, 1, METER);
  if (!lm->m) {
    lua_pushliteral(L, "imbill meter (closed)");
    return 1;
  }
  int n = imb_meter_segments(lm->m);
  const char *e;
  imb_meter_segment(lm->m, n - 1, NULL, NULL, &e, NULL, NULL);
  int64_t by[IMB_G_COUNT], total;
  imb_meter_groups(lm->m, by, &total);
  lua_pushfstring(L, "imbill meter (price book %s, edition %s; %d accounts, %d groups)", lm->book, e,
                  (int)imb_meter_accounts(lm->m), (int)total);
  return 1;
}

static lmeter *new_lm(lua_State *L, const char *book) {
  lmeter *lm = lua_newuserdata(L, sizeof *lm);
  lm->m = NULL;
  snprintf(lm->book, sizeof lm->book, "%s", book);
  luaL_getmetatable(L, METER);
  lua_setmetatable(L, -2);
  return lm;
}

/* core.meter_new(offset, book, edition, limits, free) */
static int c_meter_new(lua_State *L) {
  int64_t off = imbL_checkint64(L, 1, "tz");
  const char *book = luaL_checkstring(L, 2);
  size_t elen;
  const char *e = luaL_checklstring(L, 3, &elen);
  imb_limits lim;
  check_limits(L, 4, &lim, "imbill.meter");
  if (off <= -86400 || off >= 86400) imbL_error(L, "imbill.meter: tz: offset out of range");
  if (elen > IMB_EDITION_MAXLEN) imbL_error(L, "imbill.meter: edition: id too long");
  lmeter *lm = new_lm(L, book);
  imb_status st = imb_meter_new((int32_t)off, e, elen, &lim, lua_toboolean(L, 5), &lm->m);
  if (st) return status_error(L, st, "imbill.meter");
  return 1;
}

/* core.meter_load(path) -> meter, records, version | nil, message, errno
 * records: { { key, value }, ... } as m:_save took them (version 2: one
 * record, "meta", the old key=value text). */
static int c_meter_load(lua_State *L) {
  size_t plen;
  const char *path = luaL_checklstring(L, 1, &plen);
  lmeter *lm = new_lm(L, "");
  imb_saved saved;
  imb_file_error err;
  imb_status st = imb_meter_load(path, plen, &lm->m, &saved, &err);
  if (st) {
    lua_pushnil(L);
    push_file_error(L, &err, st);
    lua_pushinteger(L, err.sys);
    return 3;
  }
  /* the records are copied into Lua before anything can raise */
  if (!lua_checkstack(L, 8)) {
    imb_saved_free(&saved);
    return imbL_error(L, "imbill.meter.load: out of memory");
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
    else lua_pushnumber(L, (lua_Number)r->i); /* imbill.meter.load reads no integer record */
#endif
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, (int)i + 1);
  }
  lua_pushinteger(L, (lua_Integer)saved.version);
  imb_saved_free(&saved);
  return 3;
}

static int c_meter_set_book(lua_State *L) {
  lmeter *lm = check_lm(L);
  snprintf(lm->book, sizeof lm->book, "%s", luaL_checkstring(L, 2));
  return 0;
}

/* ---- the rule, for stores written in Lua ------------------------------- */

static imb_action_kind check_action(lua_State *L, int idx) {
  const char *s = luaL_checkstring(L, idx);
  for (int k = 0; k < IMB_A_COUNT; k++)
    if (strcmp(s, imb_action_name((imb_action_kind)k)) == 0) return (imb_action_kind)k;
  imbL_error(L, "meter rule: action: unknown action \"%s\"", s);
  return IMB_A_LOGIN;
}

static void check_action_arg(lua_State *L, int idx, imb_action *a) {
  luaL_checktype(L, idx, LUA_TTABLE);
  memset(a, 0, sizeof *a);
  lua_getfield(L, idx, "action");
  a->kind = check_action(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, idx, "type");
  a->gtype = lua_isnil(L, -1) ? IMB_G_PRIVATE : check_gtype(L, lua_gettop(L), "meter rule");
  lua_pop(L, 1);
  lua_getfield(L, idx, "same_day");
  a->same_day = lua_toboolean(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, idx, "before_created");
  a->before_created = lua_toboolean(L, -1);
  lua_pop(L, 1);
}

/* core.meter_reads{ action =, type = } -> { "counter", ... } */
static int c_meter_reads(lua_State *L) {
  imb_action a;
  check_action_arg(L, 1, &a);
  uint32_t need = imb_meter_reads(&a);
  lua_newtable(L);
  int n = 0;
  for (int k = 0; k < IMB_C_COUNT; k++) {
    if (!(need & (1u << k))) continue;
    lua_pushstring(L, imb_ctr_name((imb_ctr)k));
    lua_rawseti(L, -2, ++n);
  }
  return 1;
}

/* core.meter_decide(limits, { action =, type =, same_day = }, counts)
 *   -> true, { { counter, delta }, ... }, cascade | false, { code, limit, max, current, peer } */
static int c_meter_decide(lua_State *L) {
  imb_limits lim;
  imb_action a;
  imb_counts c;
  imb_decision d;
  check_limits(L, 1, &lim, "meter rule");
  check_action_arg(L, 2, &a);
  luaL_checktype(L, 3, LUA_TTABLE);
  memset(&c, 0, sizeof c);
  uint32_t need = imb_meter_reads(&a);
  for (int k = 0; k < IMB_C_COUNT; k++) {
    if (!(need & (1u << k))) continue;
    lua_getfield(L, 3, imb_ctr_name((imb_ctr)k));
    if (!lua_isnil(L, -1)) {
      if (lua_isboolean(L, -1)) c.v[k] = lua_toboolean(L, -1);
      else if (!imbL_toint64(L, -1, &c.v[k]) || c.v[k] < 0)
        imbL_error(L, "meter rule: counts.%s: expected a whole number >= 0, got %s", imb_ctr_name((imb_ctr)k),
                   shown(L, -1));
    }
    lua_pop(L, 1);
  }
  imb_meter_decide(&lim, &a, &c, &d);
  if (!d.allowed) {
    lua_pushboolean(L, 0);
    lua_newtable(L);
    const char *cn = code_name(d.refusal.code);
    if (cn) lua_pushstring(L, cn);
    else lua_pushinteger(L, d.refusal.code);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, imb_limit_name(d.refusal.limit));
    lua_setfield(L, -2, "limit");
    if (d.refusal.max != IMB_UNLIMITED) {
      imbL_pushint64(L, d.refusal.max);
      lua_setfield(L, -2, "max");
      imbL_pushint64(L, d.refusal.current);
      lua_setfield(L, -2, "current");
    }
    lua_pushboolean(L, d.refusal.peer);
    lua_setfield(L, -2, "peer");
    return 2;
  }
  lua_pushboolean(L, 1);
  lua_createtable(L, d.ndeltas, 0);
  for (int i = 0; i < d.ndeltas; i++) {
    lua_createtable(L, 2, 0);
    lua_pushstring(L, imb_ctr_name(d.d[i].ctr));
    lua_rawseti(L, -2, 1);
    imbL_pushint64(L, d.d[i].delta);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushboolean(L, d.cascade);
  return 3;
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
  {"last_day", m_last_day}, {"release", m_release}, {"memory", m_memory}, {"_month", m_month},
  {"_change", m_change}, {"_segments", m_segments}, {"_set_limits", m_set_limits}, {"_activated", m_activated},
  {"_book", m_book}, {"_offset", m_offset}, {"_save", m_save}, {"_set_book", c_meter_set_book},
  {NULL, NULL},
};

static const luaL_Reg funcs[] = {
  {"meter_new", c_meter_new}, {"meter_load", c_meter_load}, {"meter_reads", c_meter_reads},
  {"meter_decide", c_meter_decide}, {NULL, NULL},
};

void imbL_open_meter(lua_State *L) {
  imbL_newclass(L, METER, meta, methods);
  imbL_setfuncs(L, funcs, 0);
  /* meter.lua adds its methods to this table */
  luaL_getmetatable(L, METER);
  lua_getfield(L, -1, "__index");
  lua_setfield(L, -3, "Meter");
  lua_pop(L, 1);
  lua_pushinteger(L, IMB_DEDUP_DAYS);
  lua_setfield(L, -2, "METER_DEDUP_DAYS");
}
