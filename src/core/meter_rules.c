/* The counting rules of SPEC section 3 as one pure function.  Every store (this
 * process, an nginx shared dict, Redis) reads the counters imb_meter_reads()
 * names, calls imb_meter_decide() and applies the deltas it returns, so the
 * same action gets the same answer whatever holds the counters. */
#include "core.h"

#include <string.h>

static const char *const LIMIT_NAMES[IMB_L_COUNT] = {
  "none", "accounts", "friends_per_user", "groups_per_user", "members_per_group", "av_groups",
  "non_av_groups", "daily_net_groups", "bchatroom_daily", "bchatroom_total", "group_exists", "group_id",
  "day_open",
};
static const char *const ACTION_NAMES[IMB_A_COUNT] = {
  "create_account", "delete_account", "login", "create_group", "disband_group", "join_group",
  "leave_group", "add_friend", "remove_friend",
};
static const char *const CTR_NAMES[IMB_C_COUNT] = {
  "account", "accounts", "group", "groups", "groups_of_type", "groups_av", "groups_non_av",
  "day_created", "day_disbanded", "day_disbanded_same", "day_bchat", "member", "members",
  "user_groups", "friend", "user_friends", "peer_friends", "day_active", "dau", "month_active", "mau",
  "day_closed",
};
static const char *const GTYPE_NAMES[IMB_G_COUNT] = {
  "Private", "Public", "ChatRoom", "AVChatRoom", "BChatRoom", "Community",
};

const char *imb_limit_name(imb_limit_id id) {
  return (unsigned)id < IMB_L_COUNT ? LIMIT_NAMES[id] : "unknown";
}
const char *imb_action_name(imb_action_kind k) {
  return (unsigned)k < IMB_A_COUNT ? ACTION_NAMES[k] : "unknown";
}
const char *imb_ctr_name(imb_ctr c) { return (unsigned)c < IMB_C_COUNT ? CTR_NAMES[c] : "unknown"; }
const char *imb_gtype_name(imb_gtype g) { return (unsigned)g < IMB_G_COUNT ? GTYPE_NAMES[g] : "unknown"; }

/* BChatRoom is a broadcast room with its own caps (5 a day, 5 existing); it is
 * counted in neither the AVChatRoom cap nor the non-AV cap. */
int imb_gtype_is_av(imb_gtype g) { return g == IMB_G_AVCHATROOM || g == IMB_G_BCHATROOM; }

void imb_limits_unlimited(imb_limits *l) {
  memset(l, 0, sizeof *l);
  l->accounts = l->friends_per_user = l->groups_per_user = l->av_groups = l->non_av_groups = IMB_UNLIMITED;
  l->daily_net_groups = l->bchatroom_daily = l->bchatroom_total = IMB_UNLIMITED;
  for (int i = 0; i < IMB_G_COUNT; i++) l->members[i] = IMB_UNLIMITED;
}

#define BIT(c) (1u << (c))

uint32_t imb_meter_reads(const imb_action *a) {
  switch (a->kind) {
  case IMB_A_CREATE_ACCOUNT: return BIT(IMB_C_ACCOUNT) | BIT(IMB_C_ACCOUNTS);
  case IMB_A_DELETE_ACCOUNT: return BIT(IMB_C_ACCOUNT);
  case IMB_A_LOGIN:
    return BIT(IMB_C_DAY_CLOSED) | BIT(IMB_C_DAY_ACTIVE) | BIT(IMB_C_MONTH_ACTIVE);
  case IMB_A_CREATE_GROUP:
    return BIT(IMB_C_DAY_CLOSED) | BIT(IMB_C_GROUP) | BIT(IMB_C_GROUPS_OF_TYPE) | BIT(IMB_C_GROUPS_AV) |
           BIT(IMB_C_GROUPS_NON_AV) | BIT(IMB_C_DAY_CREATED) | BIT(IMB_C_DAY_DISBANDED) |
           BIT(IMB_C_DAY_DISBANDED_SAME) | BIT(IMB_C_DAY_BCHAT);
  case IMB_A_DISBAND_GROUP: return BIT(IMB_C_DAY_CLOSED) | BIT(IMB_C_GROUP);
  case IMB_A_JOIN:
    return BIT(IMB_C_GROUP) | BIT(IMB_C_MEMBER) | BIT(IMB_C_MEMBERS) | BIT(IMB_C_USER_GROUPS);
  case IMB_A_LEAVE: return BIT(IMB_C_GROUP) | BIT(IMB_C_MEMBER);
  case IMB_A_ADD_FRIEND: return BIT(IMB_C_FRIEND) | BIT(IMB_C_USER_FRIENDS) | BIT(IMB_C_PEER_FRIENDS);
  case IMB_A_REMOVE_FRIEND: return BIT(IMB_C_FRIEND);
  case IMB_A_COUNT: break;
  }
  return 0;
}

static void refuse(imb_decision *out, int code, imb_limit_id lim, int64_t max, int64_t cur) {
  out->allowed = 0;
  out->refusal.code = code;
  out->refusal.limit = lim;
  out->refusal.max = max;
  out->refusal.current = cur;
}

static void add(imb_decision *out, imb_ctr c, int64_t d) {
  out->d[out->ndeltas].ctr = c;
  out->d[out->ndeltas].delta = d;
  out->ndeltas++;
}

/* `cur + 1 > max`, written so that no counter value can overflow it. */
static int over(int64_t max, int64_t cur) { return max != IMB_UNLIMITED && cur >= max; }

void imb_meter_decide(const imb_limits *lim, const imb_action *a, const imb_counts *c, imb_decision *out) {
  const int64_t *v = c->v;
  memset(out, 0, sizeof *out);
  out->allowed = 1;
  out->refusal.max = IMB_UNLIMITED;
  switch (a->kind) {
  case IMB_A_CREATE_ACCOUNT:
    if (v[IMB_C_ACCOUNT]) return; /* importing an existing account changes nothing */
    if (over(lim->accounts, v[IMB_C_ACCOUNTS]))
      return refuse(out, 70398, IMB_L_ACCOUNTS, lim->accounts, v[IMB_C_ACCOUNTS]);
    add(out, IMB_C_ACCOUNT, 1);
    add(out, IMB_C_ACCOUNTS, 1);
    return;
  case IMB_A_DELETE_ACCOUNT:
    if (!v[IMB_C_ACCOUNT]) return;
    add(out, IMB_C_ACCOUNT, -1);
    add(out, IMB_C_ACCOUNTS, -1);
    out->cascade = 1;
    return;
  case IMB_A_LOGIN:
    /* paid editions never refuse a login and free ones enforce only accounts */
    if (v[IMB_C_DAY_CLOSED]) return refuse(out, IMB_R_CLOSED, IMB_L_DAY_OPEN, IMB_UNLIMITED, 0);
    if (!v[IMB_C_DAY_ACTIVE]) {
      add(out, IMB_C_DAY_ACTIVE, 1);
      add(out, IMB_C_DAU, 1);
    }
    if (!v[IMB_C_MONTH_ACTIVE]) {
      add(out, IMB_C_MONTH_ACTIVE, 1);
      add(out, IMB_C_MAU, 1);
    }
    return;
  case IMB_A_CREATE_GROUP: {
    if (v[IMB_C_DAY_CLOSED]) return refuse(out, IMB_R_CLOSED, IMB_L_DAY_OPEN, IMB_UNLIMITED, 0);
    if (v[IMB_C_GROUP]) return refuse(out, 10021, IMB_L_GROUP_ID, IMB_UNLIMITED, 1);
    imb_gtype g = a->gtype;
    if (g == IMB_G_BCHATROOM) {
      if (over(lim->bchatroom_total, v[IMB_C_GROUPS_OF_TYPE]))
        return refuse(out, 10036, IMB_L_BCHATROOM_TOTAL, lim->bchatroom_total, v[IMB_C_GROUPS_OF_TYPE]);
    } else if (g == IMB_G_AVCHATROOM) {
      if (over(lim->av_groups, v[IMB_C_GROUPS_AV]))
        return refuse(out, 10036, IMB_L_AV_GROUPS, lim->av_groups, v[IMB_C_GROUPS_AV]);
    } else if (over(lim->non_av_groups, v[IMB_C_GROUPS_NON_AV])) {
      return refuse(out, 10058, IMB_L_NON_AV_GROUPS, lim->non_av_groups, v[IMB_C_GROUPS_NON_AV]);
    }
    if (g == IMB_G_BCHATROOM && over(lim->bchatroom_daily, v[IMB_C_DAY_BCHAT]))
      return refuse(out, 10006, IMB_L_BCHATROOM_DAILY, lim->bchatroom_daily, v[IMB_C_DAY_BCHAT]);
    int64_t net = v[IMB_C_DAY_CREATED] -
                  (lim->same_day_disbands ? v[IMB_C_DAY_DISBANDED_SAME] : v[IMB_C_DAY_DISBANDED]);
    if (over(lim->daily_net_groups, net))
      return refuse(out, 10006, IMB_L_DAILY_NET_GROUPS, lim->daily_net_groups, net);
    add(out, IMB_C_GROUP, 1);
    add(out, IMB_C_GROUPS, 1);
    add(out, IMB_C_GROUPS_OF_TYPE, 1);
    if (g == IMB_G_AVCHATROOM) add(out, IMB_C_GROUPS_AV, 1);
    else if (!imb_gtype_is_av(g)) add(out, IMB_C_GROUPS_NON_AV, 1);
    add(out, IMB_C_DAY_CREATED, 1);
    if (g == IMB_G_BCHATROOM) add(out, IMB_C_DAY_BCHAT, 1);
    return;
  }
  case IMB_A_DISBAND_GROUP: {
    if (v[IMB_C_DAY_CLOSED]) return refuse(out, IMB_R_CLOSED, IMB_L_DAY_OPEN, IMB_UNLIMITED, 0);
    /* a late disband from before the group's creation day cannot have
       disbanded this group: it did not exist yet */
    if (!v[IMB_C_GROUP] || a->before_created) return refuse(out, 10010, IMB_L_GROUP_EXISTS, IMB_UNLIMITED, 0);
    imb_gtype g = a->gtype;
    add(out, IMB_C_GROUP, -1);
    add(out, IMB_C_GROUPS, -1);
    add(out, IMB_C_GROUPS_OF_TYPE, -1);
    if (g == IMB_G_AVCHATROOM) add(out, IMB_C_GROUPS_AV, -1);
    else if (!imb_gtype_is_av(g)) add(out, IMB_C_GROUPS_NON_AV, -1);
    add(out, IMB_C_DAY_DISBANDED, 1);
    if (a->same_day) add(out, IMB_C_DAY_DISBANDED_SAME, 1);
    out->cascade = 1;
    return;
  }
  case IMB_A_JOIN:
    if (!v[IMB_C_GROUP] || a->before_created) return refuse(out, 10010, IMB_L_GROUP_EXISTS, IMB_UNLIMITED, 0);
    if (v[IMB_C_MEMBER]) return;
    if (over(lim->members[a->gtype], v[IMB_C_MEMBERS]))
      return refuse(out, 10038, IMB_L_MEMBERS_PER_GROUP, lim->members[a->gtype], v[IMB_C_MEMBERS]);
    if (over(lim->groups_per_user, v[IMB_C_USER_GROUPS]))
      return refuse(out, 10037, IMB_L_GROUPS_PER_USER, lim->groups_per_user, v[IMB_C_USER_GROUPS]);
    add(out, IMB_C_MEMBER, 1);
    add(out, IMB_C_MEMBERS, 1);
    add(out, IMB_C_USER_GROUPS, 1);
    return;
  case IMB_A_LEAVE:
    if (!v[IMB_C_GROUP] || a->before_created) return refuse(out, 10010, IMB_L_GROUP_EXISTS, IMB_UNLIMITED, 0);
    if (!v[IMB_C_MEMBER]) return;
    add(out, IMB_C_MEMBER, -1);
    add(out, IMB_C_MEMBERS, -1);
    add(out, IMB_C_USER_GROUPS, -1);
    return;
  case IMB_A_ADD_FRIEND:
    if (v[IMB_C_FRIEND]) return;
    if (over(lim->friends_per_user, v[IMB_C_USER_FRIENDS]))
      return refuse(out, 30010, IMB_L_FRIENDS_PER_USER, lim->friends_per_user, v[IMB_C_USER_FRIENDS]);
    if (over(lim->friends_per_user, v[IMB_C_PEER_FRIENDS])) {
      refuse(out, 30010, IMB_L_FRIENDS_PER_USER, lim->friends_per_user, v[IMB_C_PEER_FRIENDS]);
      out->refusal.peer = 1;
      return;
    }
    add(out, IMB_C_FRIEND, 1);
    add(out, IMB_C_USER_FRIENDS, 1);
    add(out, IMB_C_PEER_FRIENDS, 1);
    return;
  case IMB_A_REMOVE_FRIEND:
    if (!v[IMB_C_FRIEND]) return;
    add(out, IMB_C_FRIEND, -1);
    add(out, IMB_C_USER_FRIENDS, -1);
    add(out, IMB_C_PEER_FRIENDS, -1);
    return;
  case IMB_A_COUNT: break;
  }
}
