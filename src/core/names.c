/* The names of the core's enumerations: the one list of group types,
 * features, actions and limits.  Bindings build their tables from these, and
 * check user data (price books, events) against them. */
#include "core.h"

static const char *const LIMIT_NAMES[IMB_L_COUNT] = {
  "none", "accounts", "friends_per_user", "groups_per_user", "members_per_group", "av_groups",
  "non_av_groups", "daily_net_groups", "bchatroom_daily", "bchatroom_total", "group_exists", "group_id",
  "day_open", "feature", "future",
};
static const char *const ACTION_NAMES[IMB_A_COUNT] = {
  "create_account", "delete_account", "login", "create_group", "disband_group", "join_group",
  "leave_group", "add_friend", "remove_friend", "add_friend_one_way", "remove_friend_one_way",
  "add_friend_back", "remove_friend_back",
};
static const char *const GTYPE_NAMES[IMB_G_COUNT] = {
  "Private", "Public", "ChatRoom", "AVChatRoom", "BChatRoom", "Community",
};
static const char *const FEATURE_NAMES[IMB_F_COUNT] = {
  "push_all", "multi_device", "local_search", "av_prejoin_history", "community", "read_receipts",
  "targeted_messages", "av_online_members", "av_broadcast", "user_status", "conversation_mark",
  "conversation_group", "av_member_ban",
};
static const char *const KEY_NAMES[IMB_K_COUNT] = {
  "account", "accounts", "group", "groups", "groups_of", "groups_non_av", "day_net",
  "day_net_same", "day_bchat", "members", "joined", "friends", "dau", "mau", "activity", "last_day",
  "released", "group_log", "event", "group_t",
};

static const char *const TIER_NAMES[IMB_TRTC_TIERS] = { "audio", "hd", "fhd", "2k", "4k" };

static const char *name_of(const char *const *names, int32_t n, int32_t i) {
  return i >= 0 && i < n ? names[i] : NULL;
}

const char *imb_limit_name(int32_t id) { return name_of(LIMIT_NAMES, IMB_L_COUNT, id); }
const char *imb_action_name(int32_t k) { return name_of(ACTION_NAMES, IMB_A_COUNT, k); }
const char *imb_gtype_name(int32_t g) { return name_of(GTYPE_NAMES, IMB_G_COUNT, g); }
const char *imb_feature_name(int32_t f) { return name_of(FEATURE_NAMES, IMB_F_COUNT, f); }
const char *imb_key_name(int32_t k) { return name_of(KEY_NAMES, IMB_K_COUNT, k); }
const char *imb_trtc_tier_name(int32_t i) { return name_of(TIER_NAMES, IMB_TRTC_TIERS, i); }

/* BChatRoom is a broadcast room with its own caps (5 a day, 5 existing); it is
 * counted in neither the AVChatRoom cap nor the non-AV cap. */
int imb_gtype_is_av(int32_t g) { return g == IMB_G_AVCHATROOM || g == IMB_G_BCHATROOM; }

void imb_limits_unlimited(imb_limits *l) {
  memset(l, 0, sizeof *l);
  l->accounts = l->friends_per_user = l->groups_per_user = l->av_groups = l->non_av_groups = IMB_UNLIMITED;
  l->daily_net_groups = l->bchatroom_daily = l->bchatroom_total = IMB_UNLIMITED;
  for (int i = 0; i < IMB_G_COUNT; i++) l->members[i] = IMB_UNLIMITED;
}
