/* The quota rules, through the plan and the in-process store that applies
 * it: the worked examples of docs/rules.md, "Counting". */
#include "ctest.h"
#include "imbill.h"

#include <stdlib.h>

static const int64_t T0 = 1614556800; /* 2021-03-01T00:00:00Z: 08:00 in UTC+8 */
static const int32_t UTC8 = 8 * 3600;

static imb_limits trial(void) {
  imb_limits l;
  imb_limits_unlimited(&l);
  l.accounts = 100;
  l.av_groups = 10;
  l.non_av_groups = 100;
  l.friends_per_user = 2;
  for (int g = 0; g < IMB_G_COUNT; g++)
    if (!imb_gtype_is_av(g)) l.members[g] = 2;
  return l;
}

static imb_meter *meter(const imb_limits *l) {
  imb_meter *m = NULL;
  CHECK_EQ(imb_meter_new(UTC8, "trial", 5, l, 1, &m), IMB_OK);
  return m;
}

static imb_result act(imb_meter *m, int32_t kind, const char *a, const char *b, int32_t gtype, int64_t t,
                      imb_refusal *r) {
  imb_event ev;
  imb_result res = IMB_REFUSED;
  memset(&ev, 0, sizeof ev);
  ev.kind = kind;
  ev.a = a;
  ev.alen = strlen(a);
  ev.b = b;
  ev.blen = b ? strlen(b) : 0;
  ev.gtype = gtype;
  ev.t = t;
  CHECK_EQ(imb_meter_apply(m, &ev, &res, r), IMB_OK);
  return res;
}

static void the_101st_account_is_refused_70398(void) {
  imb_limits l = trial();
  imb_meter *m = meter(&l);
  imb_refusal r;
  char id[16];
  for (int i = 0; i < 100; i++) {
    snprintf(id, sizeof id, "u%d", i);
    CHECK_EQ(act(m, IMB_A_CREATE_ACCOUNT, id, NULL, 0, T0, &r), IMB_APPLIED);
  }
  CHECK_EQ(act(m, IMB_A_CREATE_ACCOUNT, "u0", NULL, 0, T0, &r), IMB_UNCHANGED);
  CHECK_EQ(act(m, IMB_A_CREATE_ACCOUNT, "u100", NULL, 0, T0, &r), IMB_REFUSED);
  CHECK_EQ(r.code, 70398);
  CHECK_EQ(r.max, 100);
  CHECK_EQ(r.current, 100);
  /* deleting frees a slot */
  CHECK_EQ(act(m, IMB_A_DELETE_ACCOUNT, "u5", NULL, 0, T0, &r), IMB_APPLIED);
  CHECK_EQ(act(m, IMB_A_CREATE_ACCOUNT, "u100", NULL, 0, T0, &r), IMB_APPLIED);
  imb_meter_free(m);
}

/* A store started on an app with accounts counts joins by ids it never saw
 * created: deleting such an id ends its memberships (the full group has room
 * again) and leaves the account count as it was; an id with nothing counted
 * is unchanged. */
static void deleting_an_id_never_seen_created_ends_its_memberships(void) {
  imb_limits l = trial();
  imb_meter *m = meter(&l);
  imb_refusal r;
  CHECK_EQ(act(m, IMB_A_CREATE_GROUP, "g", NULL, IMB_G_PRIVATE, T0, &r), IMB_APPLIED);
  CHECK_EQ(act(m, IMB_A_JOIN, "g", "old1", 0, T0, &r), IMB_APPLIED);
  CHECK_EQ(act(m, IMB_A_JOIN, "g", "b", 0, T0, &r), IMB_APPLIED);
  CHECK_EQ(act(m, IMB_A_JOIN, "g", "c", 0, T0, &r), IMB_REFUSED);
  CHECK_EQ(act(m, IMB_A_CREATE_ACCOUNT, "a", NULL, 0, T0, &r), IMB_APPLIED);
  CHECK_EQ(act(m, IMB_A_DELETE_ACCOUNT, "nobody", NULL, 0, T0 + 1, &r), IMB_UNCHANGED);
  CHECK_EQ(act(m, IMB_A_DELETE_ACCOUNT, "old1", NULL, 0, T0 + 1, &r), IMB_APPLIED);
  CHECK_EQ(imb_meter_accounts(m), 1);
  CHECK_EQ(act(m, IMB_A_JOIN, "g", "c", 0, T0 + 2, &r), IMB_APPLIED);
  CHECK_EQ(act(m, IMB_A_DELETE_ACCOUNT, "old1", NULL, 0, T0 + 3, &r), IMB_UNCHANGED);
  CHECK_EQ(act(m, IMB_A_DELETE_ACCOUNT, "a", NULL, 0, T0 + 3, &r), IMB_APPLIED);
  CHECK_EQ(imb_meter_accounts(m), 0);
  imb_meter_free(m);
}

static void a_full_group_answers_10014_and_the_other_sides_full_list_30014(void) {
  imb_limits l = trial();
  imb_meter *m = meter(&l);
  imb_refusal r;
  CHECK_EQ(act(m, IMB_A_CREATE_GROUP, "g", NULL, IMB_G_PUBLIC, T0, &r), IMB_APPLIED);
  CHECK_EQ(act(m, IMB_A_JOIN, "g", "a", 0, T0, &r), IMB_APPLIED);
  CHECK_EQ(act(m, IMB_A_JOIN, "g", "b", 0, T0, &r), IMB_APPLIED);
  CHECK_EQ(act(m, IMB_A_JOIN, "g", "a", 0, T0, &r), IMB_UNCHANGED);
  CHECK_EQ(act(m, IMB_A_JOIN, "g", "c", 0, T0, &r), IMB_REFUSED);
  CHECK_EQ(r.code, 10014);
  CHECK_EQ(r.max, 2);
  CHECK_EQ(act(m, IMB_A_ADD_FRIEND, "p", "x", 0, T0, &r), IMB_APPLIED);
  CHECK_EQ(act(m, IMB_A_ADD_FRIEND, "p", "y", 0, T0, &r), IMB_APPLIED);
  CHECK_EQ(act(m, IMB_A_ADD_FRIEND, "q", "p", 0, T0, &r), IMB_REFUSED);
  CHECK_EQ(r.code, 30014);
  CHECK_EQ(r.peer, 1);
  CHECK_EQ(act(m, IMB_A_ADD_FRIEND, "p", "z", 0, T0, &r), IMB_REFUSED);
  CHECK_EQ(r.code, 30010);
  CHECK_EQ(r.peer, 0);
  imb_meter_free(m);
}

static void a_community_group_needs_the_community_feature(void) {
  imb_limits l = trial();
  imb_meter *m = meter(&l);
  imb_refusal r;
  CHECK_EQ(act(m, IMB_A_CREATE_GROUP, "c", NULL, IMB_G_COMMUNITY, T0, &r), IMB_REFUSED);
  CHECK_EQ(r.code, 10059);
  CHECK_EQ(r.limit, IMB_L_FEATURE);
  CHECK_EQ(r.feature, IMB_F_COMMUNITY);
  l.features = 1u << IMB_F_COMMUNITY;
  CHECK_EQ(imb_meter_set_limits(m, 0, &l), IMB_OK);
  CHECK_EQ(act(m, IMB_A_CREATE_GROUP, "c", NULL, IMB_G_COMMUNITY, T0, &r), IMB_APPLIED);
  imb_meter_free(m);
}

/* Create A on day 1; B created on day 2 at 10:00 arrives before A's disband
 * at 09:00 that day: in time order A and B never coexisted. */
static void the_group_peak_follows_time_not_arrival(void) {
  imb_limits l;
  imb_limits_unlimited(&l);
  imb_meter *m = meter(&l);
  imb_refusal r;
  int64_t day2 = T0 + 86400;
  CHECK_EQ(act(m, IMB_A_CREATE_GROUP, "A", NULL, IMB_G_PUBLIC, T0 + 3600, &r), IMB_APPLIED);
  CHECK_EQ(act(m, IMB_A_CREATE_GROUP, "B", NULL, IMB_G_PUBLIC, day2 + 2 * 3600, &r), IMB_APPLIED);
  CHECK_EQ(act(m, IMB_A_DISBAND_GROUP, "A", NULL, 0, day2 + 3600, &r), IMB_APPLIED);
  int64_t dau[31], groups[31], mau;
  CHECK_EQ(imb_meter_month(m, 2021 * 12 + 2, dau, groups, &mau), IMB_OK);
  CHECK_EQ(groups[0], 1);
  CHECK_EQ(groups[1], 1);
  imb_meter_free(m);
}

static void a_far_future_event_is_refused_and_counting_goes_on(void) {
  imb_limits l;
  imb_limits_unlimited(&l);
  imb_meter *m = meter(&l);
  imb_result res;
  imb_refusal r;
  CHECK_EQ(imb_meter_login(m, "a", 1, T0, &res, &r), IMB_OK);
  CHECK_EQ(res, IMB_APPLIED);
  /* 9999-12-30 */
  CHECK_EQ(imb_meter_login(m, "x", 1, INT64_C(253402128000), &res, &r), IMB_OK);
  CHECK_EQ(res, IMB_REFUSED);
  CHECK_EQ(r.code, IMB_R_FUTURE);
  CHECK_EQ(imb_meter_login(m, "b", 1, T0 + 86400, &res, &r), IMB_OK);
  CHECK_EQ(res, IMB_APPLIED);
  imb_meter_free(m);
}

static void an_activity_state_counts_each_day_and_month_once(void) {
  imb_activity a = { IMB_NO_DAY, 0, 0 };
  int dn, mn;
#define MARK(d) imb_activity_mark(&a, (d), imb_month_of_day(d), &dn, &mn)
  CHECK_EQ(MARK(100), IMB_OK);
  CHECK(dn && mn);
  CHECK_EQ(MARK(100), IMB_OK);
  CHECK(!dn && !mn);
  CHECK_EQ(MARK(163), IMB_OK);
  CHECK(dn && mn);
  CHECK_EQ(MARK(100), IMB_OK); /* 63 days back: still known */
  CHECK(!dn && !mn);
  CHECK_EQ(MARK(99), IMB_ERANGE);
#undef MARK
  unsigned char buf[IMB_ACTIVITY_BYTES];
  imb_activity b;
  imb_activity_encode(&a, buf);
  CHECK_EQ(imb_activity_decode(buf, sizeof buf, &b), IMB_OK);
  CHECK(b.last == a.last && b.days == a.days && b.months == a.months);
  buf[4] = 0; /* the latest day's month bit gone: no login sequence makes that */
  CHECK_EQ(imb_activity_decode(buf, sizeof buf, &b), IMB_ECORRUPT);
}

/* The undo of a reserved create takes back every count it added, and only
 * while the group (or account) it made is still there: the same undo again,
 * or one after the group was disbanded, which counted it down already,
 * changes nothing (its first op, a NOOP guard on the group's type). */
static void a_reserved_plan_is_undone_exactly(void) {
  imb_limits l = trial();
  imb_plan p, u;
  CHECK_EQ(imb_plan_build(&l, IMB_A_CREATE_GROUP, IMB_G_AVCHATROOM, T0, UTC8, 0, INT64_MIN, &p), IMB_OK);
  CHECK_EQ(imb_plan_undo(&p, &u), IMB_OK);
  CHECK_EQ(u.op[0].kind, IMB_OP_EQ);
  CHECK_EQ(u.op[0].key, IMB_K_GROUP);
  CHECK_EQ(u.op[0].subject, IMB_S_GROUP);
  CHECK_EQ(u.op[0].arg, 1 + IMB_G_AVCHATROOM);
  CHECK_EQ(u.op[0].fail, IMB_FAIL_NOOP);
  int adds = 0, guards = 0;
  for (int i = 0; i < u.nops; i++) {
    if (u.op[i].fail != IMB_FAIL_NONE) guards++;
    if (u.op[i].kind == IMB_OP_ADD) {
      CHECK_EQ(u.op[i].arg, -1);
      CHECK_EQ(u.op[i].bound, IMB_UNLIMITED);
      adds++;
    }
  }
  CHECK(adds >= 3);
  CHECK_EQ(guards, 1);
  /* an import's undo: nothing once the account is gone */
  CHECK_EQ(imb_plan_build(&l, IMB_A_CREATE_ACCOUNT, 0, T0, UTC8, 0, INT64_MIN, &p), IMB_OK);
  CHECK_EQ(imb_plan_undo(&p, &u), IMB_OK);
  CHECK_EQ(u.nops, 3);
  CHECK_EQ(u.op[0].kind, IMB_OP_EQ);
  CHECK_EQ(u.op[0].key, IMB_K_ACCOUNT);
  CHECK_EQ(u.op[0].arg, 1);
  CHECK_EQ(u.op[0].fail, IMB_FAIL_NOOP);
  /* a join's undo needs no guard: removing an absent member is nothing */
  CHECK_EQ(imb_plan_build(&l, IMB_A_JOIN, 0, T0, UTC8, 0, INT64_MIN, &p), IMB_OK);
  CHECK_EQ(imb_plan_undo(&p, &u), IMB_OK);
  for (int i = 0; i < u.nops; i++) CHECK(u.op[i].fail == IMB_FAIL_NONE);
  CHECK_EQ(imb_plan_build(&l, IMB_A_LOGIN, 0, T0, UTC8, 0, INT64_MIN, &p), IMB_OK);
  CHECK_EQ(imb_plan_undo(&p, &u), IMB_ESTATE);
}

static int64_t friends(imb_meter *m, const char *u) { return imb_meter_user_friends(m, u, strlen(u)); }

/* Tencent keeps a list per user: three users adding a popular one one-way
 * fill their own lists, not hers (friends_per_user 2 here, 3,000 in Tencent's
 * editions), so her own next add is counted, not refused 30010. */
static void a_user_followed_one_way_by_many_adds_her_own_friends(void) {
  imb_limits l = trial();
  imb_meter *m = meter(&l);
  imb_refusal r;
  CHECK_EQ(act(m, IMB_A_ADD_FRIEND_ONE_WAY, "f1", "pop", 0, T0, &r), IMB_APPLIED);
  CHECK_EQ(act(m, IMB_A_ADD_FRIEND_ONE_WAY, "f2", "pop", 0, T0, &r), IMB_APPLIED);
  CHECK_EQ(act(m, IMB_A_ADD_FRIEND_ONE_WAY, "f3", "pop", 0, T0, &r), IMB_APPLIED);
  CHECK_EQ(friends(m, "pop"), 0);
  CHECK_EQ(friends(m, "f1"), 1);
  CHECK_EQ(act(m, IMB_A_ADD_FRIEND, "pop", "x", 0, T0, &r), IMB_APPLIED);
  CHECK_EQ(act(m, IMB_A_ADD_FRIEND_ONE_WAY, "pop", "y", 0, T0, &r), IMB_APPLIED);
  CHECK_EQ(friends(m, "pop"), 2);
  /* now her list is full: her own add is 30010, anyone's two-way add of her 30014 */
  CHECK_EQ(act(m, IMB_A_ADD_FRIEND_ONE_WAY, "pop", "z", 0, T0, &r), IMB_REFUSED);
  CHECK_EQ(r.code, 30010);
  CHECK_EQ(act(m, IMB_A_ADD_FRIEND, "z", "pop", 0, T0, &r), IMB_REFUSED);
  CHECK_EQ(r.code, 30014);
  CHECK_EQ(r.peer, 1);
  CHECK_EQ(r.current, 2);
  /* the refused add left z's own list as it was: nothing is kept for an id
   * only a refused event named, so z is unknown (-1), not a user with 0 */
  CHECK_EQ(friends(m, "z"), -1);
  /* a one-way add of her asks nothing of her list */
  CHECK_EQ(act(m, IMB_A_ADD_FRIEND_ONE_WAY, "z", "pop", 0, T0, &r), IMB_APPLIED);
  imb_meter_free(m);
}

/* Mixed cases: a two-way add changes only the side that is missing and
 * checks only its bound; a two-way delete takes off the sides that are there;
 * a one-way delete leaves the other side. */
static void two_way_actions_change_only_the_missing_side(void) {
  imb_limits l = trial();
  imb_meter *m = meter(&l);
  imb_refusal r;
  CHECK_EQ(act(m, IMB_A_ADD_FRIEND, "p", "a", 0, T0, &r), IMB_APPLIED);
  CHECK_EQ(act(m, IMB_A_ADD_FRIEND_ONE_WAY, "p", "u", 0, T0, &r), IMB_APPLIED);
  CHECK_EQ(friends(m, "p"), 2); /* full, and it lists u */
  CHECK_EQ(act(m, IMB_A_ADD_FRIEND, "u", "p", 0, T0, &r), IMB_APPLIED);
  CHECK_EQ(friends(m, "u"), 1);
  CHECK_EQ(friends(m, "p"), 2);
  CHECK_EQ(act(m, IMB_A_ADD_FRIEND, "u", "p", 0, T0, &r), IMB_UNCHANGED);
  CHECK_EQ(act(m, IMB_A_ADD_FRIEND, "p", "u", 0, T0, &r), IMB_UNCHANGED);
  CHECK_EQ(act(m, IMB_A_ADD_FRIEND_BACK, "p", "u", 0, T0, &r), IMB_UNCHANGED);
  /* one-way delete of a mutual friendship: u still lists p */
  CHECK_EQ(act(m, IMB_A_REMOVE_FRIEND_ONE_WAY, "p", "u", 0, T0, &r), IMB_APPLIED);
  CHECK_EQ(friends(m, "p"), 1);
  CHECK_EQ(friends(m, "u"), 1);
  CHECK_EQ(act(m, IMB_A_REMOVE_FRIEND_ONE_WAY, "p", "u", 0, T0, &r), IMB_UNCHANGED);
  /* two-way delete where only u lists p: u's side goes */
  CHECK_EQ(act(m, IMB_A_REMOVE_FRIEND, "p", "u", 0, T0, &r), IMB_APPLIED);
  CHECK_EQ(friends(m, "u"), 0);
  CHECK_EQ(act(m, IMB_A_REMOVE_FRIEND, "u", "p", 0, T0, &r), IMB_UNCHANGED);
  CHECK_EQ(act(m, IMB_A_REMOVE_FRIEND_BACK, "a", "p", 0, T0, &r), IMB_APPLIED);
  CHECK_EQ(friends(m, "p"), 0);
  CHECK_EQ(friends(m, "a"), 1);
  imb_meter_free(m);
}

/* A two-way action has no plan of its own: every store applies its parts. */
static void a_two_way_action_is_planned_as_its_parts(void) {
  imb_limits l = trial();
  imb_plan p;
  int32_t parts[IMB_PARTS_MAX];
  CHECK_EQ(imb_plan_build(&l, IMB_A_ADD_FRIEND, 0, T0, UTC8, 0, INT64_MIN, &p), IMB_ERANGE);
  CHECK_EQ(imb_plan_build(&l, IMB_A_REMOVE_FRIEND, 0, T0, UTC8, 0, INT64_MIN, &p), IMB_ERANGE);
  CHECK_EQ(imb_action_parts(IMB_A_ADD_FRIEND, parts), 2);
  CHECK(parts[0] == IMB_A_ADD_FRIEND_ONE_WAY && parts[1] == IMB_A_ADD_FRIEND_BACK);
  CHECK_EQ(imb_action_parts(IMB_A_REMOVE_FRIEND, parts), 2);
  CHECK(parts[0] == IMB_A_REMOVE_FRIEND_ONE_WAY && parts[1] == IMB_A_REMOVE_FRIEND_BACK);
  CHECK_EQ(imb_action_parts(IMB_A_JOIN, parts), 1);
  CHECK_EQ(parts[0], IMB_A_JOIN);
  CHECK_EQ(imb_action_parts(IMB_A_COUNT, parts), 0);
  CHECK_EQ(imb_action_parts(-1, parts), 0);
  CHECK_EQ(imb_plan_build(&l, IMB_A_ADD_FRIEND_BACK, 0, T0, UTC8, 0, INT64_MIN, &p), IMB_OK);
  int sadds = 0;
  for (int i = 0; i < p.nops; i++)
    if (p.op[i].kind == IMB_OP_SADD) {
      CHECK_EQ(p.op[i].subject, IMB_S_PEER);
      CHECK_EQ(p.op[i].member, IMB_S_USER);
      CHECK_EQ(p.op[i].code, 30014);
      sadds++;
    }
  CHECK_EQ(sadds, 1);
  /* an event id makes a two-way action a duplicate as a whole */
  imb_meter *m = meter(&l);
  imb_event ev;
  imb_result res;
  memset(&ev, 0, sizeof ev);
  ev.kind = IMB_A_ADD_FRIEND;
  ev.a = "a", ev.alen = 1, ev.b = "b", ev.blen = 1, ev.t = T0, ev.id = "e1", ev.idlen = 2;
  CHECK_EQ(imb_meter_apply(m, &ev, &res, NULL), IMB_OK);
  CHECK_EQ(res, IMB_APPLIED);
  CHECK_EQ(imb_meter_apply(m, &ev, &res, NULL), IMB_OK);
  CHECK_EQ(res, IMB_DUPLICATE);
  ev.kind = IMB_A_ADD_FRIEND_BACK; /* the same two users, not their own: a user is never her own friend */
  ev.b = "a";
  CHECK_EQ(imb_meter_apply(m, &ev, &res, NULL), IMB_ERANGE);
  imb_meter_free(m);
}

CTEST_SUITE(rules_tests) = {
  { "rules: the 101st account on a 100-account edition is refused with 70398", the_101st_account_is_refused_70398 },
  { "rules: deleting an id never seen created ends its memberships; accounts go down only for one counted",
    deleting_an_id_never_seen_created_ends_its_memberships },
  { "rules: a join to a full group is 10014; a friend whose list is full is 30014, one's own 30010",
    a_full_group_answers_10014_and_the_other_sides_full_list_30014 },
  { "rules: a user followed one-way by many adds her own friends; her full list is 30010, 30014 to others",
    a_user_followed_one_way_by_many_adds_her_own_friends },
  { "rules: a two-way add or delete changes only the side not already as asked; a one-way delete keeps the other",
    two_way_actions_change_only_the_missing_side },
  { "rules: a two-way friendship action is planned as its two one-way parts", a_two_way_action_is_planned_as_its_parts },
  { "rules: a Community group needs the community feature (10059)", a_community_group_needs_the_community_feature },
  { "rules: the billed group peak follows time order, not arrival order", the_group_peak_follows_time_not_arrival },
  { "rules: an event far in the future is refused and counting goes on",
    a_far_future_event_is_refused_and_counting_goes_on },
  { "rules: a user's activity state counts each day and month once, 63 days back",
    an_activity_state_counts_each_day_and_month_once },
  { "rules: a reserved plan's undo takes back every count, once, while what it made is there",
    a_reserved_plan_is_undone_exactly },
  { NULL, NULL },
};
