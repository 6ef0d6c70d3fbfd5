/* The quota rules (docs/rules.md, "Counting") as one pure function: an action
 * and the limits in force become a plan of guarded operations, which every
 * store applies the same way (docs/store.md).  Nothing here reads a count:
 * what depends on the counts is a guard the store checks. */
#include "core.h"

#include <limits.h>

static imb_op *add_op(imb_plan *p, int32_t kind, int32_t key, int32_t subject) {
  imb_op *o = &p->op[p->nops++];
  memset(o, 0, sizeof *o);
  o->kind = kind;
  o->key = key;
  o->subject = subject;
  o->bound = IMB_UNLIMITED;
  return o;
}

static void refuse_on(imb_op *o, int32_t code, int32_t limit) {
  o->fail = IMB_FAIL_REFUSE;
  o->code = code;
  o->limit = limit;
}

static imb_op *guard(imb_plan *p, int32_t kind, int32_t key, int32_t subject, int64_t arg, int32_t code,
                     int32_t limit) {
  imb_op *o = add_op(p, kind, key, subject);
  o->arg = arg;
  refuse_on(o, code, limit);
  return o;
}

static imb_op *noop_unless(imb_plan *p, int32_t kind, int32_t key, int32_t subject, int64_t arg) {
  imb_op *o = add_op(p, kind, key, subject);
  o->arg = arg;
  o->fail = IMB_FAIL_NOOP;
  return o;
}

static imb_op *effect(imb_plan *p, int32_t kind, int32_t key, int32_t subject, int64_t arg) {
  imb_op *o = add_op(p, kind, key, subject);
  o->arg = arg;
  return o;
}

/* `value + 1 <= max` guarded increment; unlimited limits add no guard. */
static imb_op *bounded_add(imb_plan *p, int32_t key, int32_t subject, int64_t max, int32_t code, int32_t limit) {
  imb_op *o = effect(p, IMB_OP_ADD, key, subject, 1);
  if (max != IMB_UNLIMITED) {
    o->bound = max;
    refuse_on(o, code, limit);
  }
  return o;
}

static imb_op *set_op(imb_plan *p, int32_t kind, int32_t key, int32_t subject, int32_t member) {
  imb_op *o = add_op(p, kind, key, subject);
  o->member = member;
  return o;
}

static void refuse_now(imb_plan *p, int32_t code, int32_t limit) {
  p->refused = 1;
  p->refusal.code = code;
  p->refusal.limit = limit;
  p->refusal.max = IMB_UNLIMITED;
}

/* The feature an action needs, or -1.  Of the features only some editions
 * have, the community feature is the one that gates a metered action: a
 * Community group.  Tencent answers 10059 ("not the Ultimate edition") to a
 * call the edition does not support. */
static int needed_feature(int32_t kind, int32_t gtype) {
  if (kind == IMB_A_CREATE_GROUP && gtype == IMB_G_COMMUNITY) return IMB_F_COMMUNITY;
  return -1;
}

/* Days a store can no longer count exactly: released ones, and for logins
 * those more than IMB_LOGIN_LATE_DAYS before the latest counted day, which
 * users' activity bitmaps no longer reach.  Once a day is that far behind,
 * its counts are final. */
static void open_day_guards(imb_plan *p, int login) {
  guard(p, IMB_OP_LE, IMB_K_RELEASED, IMB_S_APP, p->day, IMB_R_CLOSED, IMB_L_DAY_OPEN);
  if (login) guard(p, IMB_OP_LE, IMB_K_LAST_DAY, IMB_S_APP, (int64_t)p->day + IMB_LOGIN_LATE_DAYS, IMB_R_CLOSED,
                   IMB_L_DAY_OPEN);
}

imb_status imb_plan_build(const imb_limits *lim, int32_t kind, int32_t gtype, int64_t t, int32_t offset,
                          int has_id, int64_t now, imb_plan *p) {
  /* the stores call this with what a binding marshalled: a NULL is refused,
   * never read or written */
  if (!lim || !p) return IMB_ERANGE;
  memset(p, 0, sizeof *p);
  /* a two-way action is applied as its parts, never as one plan */
  if (kind < 0 || kind >= IMB_A_COUNT || kind == IMB_A_ADD_FRIEND || kind == IMB_A_REMOVE_FRIEND) return IMB_ERANGE;
  if (kind == IMB_A_CREATE_GROUP && (gtype < 0 || gtype >= IMB_G_COUNT)) return IMB_ERANGE;
  if (imb_instant_check(t) || imb_day_of(t, offset, &p->day)) return IMB_ERANGE;
  p->action = kind;
  p->gtype = kind == IMB_A_CREATE_GROUP ? gtype : 0;
  p->t = t;
  p->month = imb_month_of_day(p->day);
  p->day_start = (int64_t)p->day * 86400 - offset;
  p->refusal.max = IMB_UNLIMITED;
  for (int g = 0; g < IMB_G_COUNT; g++) p->by_type[g] = lim->members[g];

  /* a sender whose clock is wrong must not move the store's window: an event
   * far after the clock, or far after everything counted, is refused */
  if (now != INT64_MIN && now < t - IMB_CLOCK_AHEAD) { /* t is a calendar instant: no overflow */
    refuse_now(p, IMB_R_FUTURE, IMB_L_FUTURE);
    return IMB_OK;
  }
  int f = needed_feature(kind, gtype);
  if (f >= 0 && !(lim->features & (UINT32_C(1) << f))) {
    refuse_now(p, 10059, IMB_L_FEATURE);
    p->refusal.feature = f;
    return IMB_OK;
  }

  /* a repeated event id is a duplicate before anything else is looked at */
  if (has_id) {
    imb_op *o = add_op(p, IMB_OP_FRESH, IMB_K_EVENT, IMB_S_EVENT);
    o->fail = IMB_FAIL_DUPLICATE;
  }
  /* without a clock, the latest counted day is the only reference; with one,
   * the clock alone bounds (an app quiet for over a year counts again) */
  if (now == INT64_MIN)
    guard(p, IMB_OP_GE, IMB_K_LAST_DAY, IMB_S_APP, (int64_t)p->day - IMB_FUTURE_DAYS, IMB_R_FUTURE, IMB_L_FUTURE);

  switch (kind) {
  case IMB_A_CREATE_ACCOUNT:
    /* importing an existing account changes nothing */
    noop_unless(p, IMB_OP_EQ, IMB_K_ACCOUNT, IMB_S_USER, 0);
    bounded_add(p, IMB_K_ACCOUNTS, IMB_S_APP, lim->accounts, 70398, IMB_L_ACCOUNTS);
    effect(p, IMB_OP_SET, IMB_K_ACCOUNT, IMB_S_USER, 1);
    break;

  case IMB_A_DELETE_ACCOUNT:
    /* deleted data cannot be recovered: the id's memberships and
     * friendships end with it, so the id created again is a new account.
     * They end whether or not its account was counted (a store started on
     * an app with accounts counts joins by ids it never saw created); the
     * account count goes down only for an account counted.  An id with
     * nothing counted changes nothing. */
    noop_unless(p, IMB_OP_COUNTED, IMB_K_ACCOUNT, IMB_S_USER, 0);
    effect(p, IMB_OP_ADD, IMB_K_ACCOUNTS, IMB_S_APP, -1)->when = IMB_W_USER_ACCOUNT;
    effect(p, IMB_OP_SET, IMB_K_ACCOUNT, IMB_S_USER, 0)->when = IMB_W_USER_ACCOUNT;
    effect(p, IMB_OP_CASCADE_USER, IMB_K_JOINED, IMB_S_USER, 0);
    break;

  case IMB_A_LOGIN:
    /* paid editions never refuse a login, and free ones enforce only the
     * account cap: a login is counted, never refused for a quota */
    open_day_guards(p, 1);
    effect(p, IMB_OP_MARK, IMB_K_ACTIVITY, IMB_S_USER, 0);
    break;

  case IMB_A_CREATE_GROUP: {
    open_day_guards(p, 0);
    guard(p, IMB_OP_EQ, IMB_K_GROUP, IMB_S_GROUP, 0, 10021, IMB_L_GROUP_ID);
    imb_op *o;
    if (gtype == IMB_G_BCHATROOM) {
      o = bounded_add(p, IMB_K_GROUPS_OF, IMB_S_APP, lim->bchatroom_total, 10036, IMB_L_BCHATROOM_TOTAL);
      o->gtype = gtype;
    } else if (gtype == IMB_G_AVCHATROOM) {
      o = bounded_add(p, IMB_K_GROUPS_OF, IMB_S_APP, lim->av_groups, 10036, IMB_L_AV_GROUPS);
      o->gtype = gtype;
    } else {
      bounded_add(p, IMB_K_GROUPS_NON_AV, IMB_S_APP, lim->non_av_groups, 10058, IMB_L_NON_AV_GROUPS);
      o = effect(p, IMB_OP_ADD, IMB_K_GROUPS_OF, IMB_S_APP, 1);
      o->gtype = gtype;
    }
    if (gtype == IMB_G_BCHATROOM)
      bounded_add(p, IMB_K_DAY_BCHAT, IMB_S_DAY, lim->bchatroom_daily, 10006, IMB_L_BCHATROOM_DAILY);
    /* the daily net increase: created minus disbanded that day, where an
     * option counts only disbands of groups created the same day */
    int same = lim->same_day_disbands != 0;
    o = bounded_add(p, same ? IMB_K_DAY_NET_SAME : IMB_K_DAY_NET, IMB_S_DAY, lim->daily_net_groups, 10006,
                    IMB_L_DAILY_NET_GROUPS);
    effect(p, IMB_OP_ADD, same ? IMB_K_DAY_NET : IMB_K_DAY_NET_SAME, IMB_S_DAY, 1);
    effect(p, IMB_OP_SET, IMB_K_GROUP, IMB_S_GROUP, 1 + gtype);
    effect(p, IMB_OP_SET, IMB_K_GROUP_T, IMB_S_GROUP, p->t);
    effect(p, IMB_OP_ADD, IMB_K_GROUPS, IMB_S_APP, 1);
    effect(p, IMB_OP_LOG, IMB_K_GROUP_LOG, IMB_S_DAY, 1);
    break;
  }

  case IMB_A_DISBAND_GROUP: {
    open_day_guards(p, 0);
    guard(p, IMB_OP_NE, IMB_K_GROUP, IMB_S_GROUP, 0, 10010, IMB_L_GROUP_EXISTS);
    /* a late disband dated before the group's creation cannot have disbanded
     * this group: it did not exist yet (to the second, the same day too) */
    guard(p, IMB_OP_LE, IMB_K_GROUP_T, IMB_S_GROUP, p->t, 10010, IMB_L_GROUP_EXISTS);
    effect(p, IMB_OP_SET, IMB_K_GROUP, IMB_S_GROUP, 0);
    effect(p, IMB_OP_ADD, IMB_K_GROUPS, IMB_S_APP, -1);
    imb_op *o = effect(p, IMB_OP_ADD, IMB_K_GROUPS_OF, IMB_S_APP, -1);
    o->gtype = IMB_GTYPE_OF_GROUP;
    effect(p, IMB_OP_ADD, IMB_K_GROUPS_NON_AV, IMB_S_APP, -1)->when = IMB_W_GROUP_NON_AV;
    effect(p, IMB_OP_ADD, IMB_K_DAY_NET, IMB_S_DAY, -1);
    effect(p, IMB_OP_ADD, IMB_K_DAY_NET_SAME, IMB_S_DAY, -1)->when = IMB_W_GROUP_TODAY;
    effect(p, IMB_OP_LOG, IMB_K_GROUP_LOG, IMB_S_DAY, -1);
    effect(p, IMB_OP_CASCADE_GROUP, IMB_K_MEMBERS, IMB_S_GROUP, 0);
    break;
  }

  case IMB_A_JOIN:
  case IMB_A_LEAVE: {
    guard(p, IMB_OP_NE, IMB_K_GROUP, IMB_S_GROUP, 0, 10010, IMB_L_GROUP_EXISTS);
    guard(p, IMB_OP_LE, IMB_K_GROUP_T, IMB_S_GROUP, p->t, 10010, IMB_L_GROUP_EXISTS);
    if (kind == IMB_A_LEAVE) {
      set_op(p, IMB_OP_HAS, IMB_K_MEMBERS, IMB_S_GROUP, IMB_S_USER)->fail = IMB_FAIL_NOOP;
      set_op(p, IMB_OP_SREM, IMB_K_MEMBERS, IMB_S_GROUP, IMB_S_USER);
      set_op(p, IMB_OP_SREM, IMB_K_JOINED, IMB_S_USER, IMB_S_GROUP);
      break;
    }
    /* a repeated join changes nothing; a full group answers 10014 */
    set_op(p, IMB_OP_LACKS, IMB_K_MEMBERS, IMB_S_GROUP, IMB_S_USER)->fail = IMB_FAIL_NOOP;
    imb_op *o = set_op(p, IMB_OP_SADD, IMB_K_MEMBERS, IMB_S_GROUP, IMB_S_USER);
    o->by_type = 1;
    refuse_on(o, 10014, IMB_L_MEMBERS_PER_GROUP);
    o = set_op(p, IMB_OP_SADD, IMB_K_JOINED, IMB_S_USER, IMB_S_GROUP);
    if (lim->groups_per_user != IMB_UNLIMITED) {
      o->bound = lim->groups_per_user;
      refuse_on(o, 10037, IMB_L_GROUPS_PER_USER);
    }
    break;
  }

  case IMB_A_ADD_FRIEND_ONE_WAY:
  case IMB_A_ADD_FRIEND_BACK: {
    /* one list gains a friend: a list that has it already changes nothing
     * (so its bound is not asked either); the requester's own full list is
     * 30010, the other user's 30014 */
    int back = kind == IMB_A_ADD_FRIEND_BACK;
    int32_t owner = back ? IMB_S_PEER : IMB_S_USER, friend = back ? IMB_S_USER : IMB_S_PEER;
    set_op(p, IMB_OP_LACKS, IMB_K_FRIENDS, owner, friend)->fail = IMB_FAIL_NOOP;
    imb_op *o = set_op(p, IMB_OP_SADD, IMB_K_FRIENDS, owner, friend);
    if (lim->friends_per_user != IMB_UNLIMITED) {
      o->bound = lim->friends_per_user;
      refuse_on(o, back ? 30014 : 30010, IMB_L_FRIENDS_PER_USER);
    }
    break;
  }

  case IMB_A_REMOVE_FRIEND_ONE_WAY:
  case IMB_A_REMOVE_FRIEND_BACK: {
    int back = kind == IMB_A_REMOVE_FRIEND_BACK;
    int32_t owner = back ? IMB_S_PEER : IMB_S_USER, friend = back ? IMB_S_USER : IMB_S_PEER;
    set_op(p, IMB_OP_HAS, IMB_K_FRIENDS, owner, friend)->fail = IMB_FAIL_NOOP;
    set_op(p, IMB_OP_SREM, IMB_K_FRIENDS, owner, friend);
    break;
  }
  }
  effect(p, IMB_OP_MAX, IMB_K_LAST_DAY, IMB_S_APP, p->day);
  return IMB_OK;
}

int imb_action_parts(int32_t kind, int32_t parts[IMB_PARTS_MAX]) {
  if (kind < 0 || kind >= IMB_A_COUNT) return 0;
  if (kind == IMB_A_ADD_FRIEND || kind == IMB_A_REMOVE_FRIEND) {
    int add = kind == IMB_A_ADD_FRIEND;
    parts[0] = add ? IMB_A_ADD_FRIEND_ONE_WAY : IMB_A_REMOVE_FRIEND_ONE_WAY;
    parts[1] = add ? IMB_A_ADD_FRIEND_BACK : IMB_A_REMOVE_FRIEND_BACK;
    return 2;
  }
  parts[0] = kind;
  return 1;
}

imb_status imb_plan_undo(const imb_plan *p, imb_plan *out) {
  /* a plan is a caller's struct: a count past op[] would read beyond it */
  if (!p || !out || p->nops < 0 || p->nops > IMB_PLAN_MAX) return IMB_ERANGE;
  *out = *p;
  out->nops = 0;
  /* an undo is right only while what the plan set is still there: once the
   * account or group is gone (taken back already, by an undo replayed after
   * its marker lapsed, or deleted or disbanded since, which counted it down
   * itself) the undo changes nothing, so no count goes down twice.  Sets need
   * no guard: removing an absent member is nothing already. */
  for (int i = 0; i < p->nops; i++) {
    const imb_op *o = &p->op[i];
    if (o->kind != IMB_OP_SET || o->key == IMB_K_GROUP_T) continue;
    imb_op g = *o;
    g.kind = IMB_OP_EQ;
    g.fail = IMB_FAIL_NOOP;
    g.bound = IMB_UNLIMITED;
    g.by_type = 0;
    g.code = g.limit = 0;
    if (out->nops == IMB_PLAN_MAX) return IMB_ESTATE;
    out->op[out->nops++] = g;
  }
  for (int i = 0; i < p->nops; i++) {
    const imb_op *o = &p->op[i];
    imb_op u = *o;
    u.fail = IMB_FAIL_NONE;
    u.bound = IMB_UNLIMITED;
    u.by_type = 0;
    switch (o->kind) {
    case IMB_OP_ADD: u.arg = -o->arg; break;
    case IMB_OP_SADD: u.kind = IMB_OP_SREM; break;
    case IMB_OP_LOG: u.arg = -o->arg; break;
    case IMB_OP_SET:
      /* the flags a reserved plan sets were guarded to be clear before */
      u.arg = 0;
      if (o->key == IMB_K_GROUP_T) continue; /* meaningless once the group is gone */
      break;
    case IMB_OP_FRESH: case IMB_OP_MAX: continue; /* an id seen and a day reached stay so */
    case IMB_OP_MARK: case IMB_OP_CASCADE_USER: case IMB_OP_CASCADE_GROUP: case IMB_OP_SREM:
      return IMB_ESTATE;
    default: continue; /* guards */
    }
    if (out->nops == IMB_PLAN_MAX) return IMB_ESTATE;
    out->op[out->nops++] = u;
  }
  return IMB_OK;
}
