/* Quota metering (SPEC section 3).  Two layers:
 *
 *  - the rules: imb_meter_reads() says which counters an action needs and
 *    imb_meter_decide() turns (limits, action, counter values) into either a
 *    refusal or a list of counter deltas.  Pure functions, no state, so an
 *    in-process meter, an nginx shared dict and Redis all apply the same rules;
 *  - the in-process store, imb_meter: exact counters in this process's memory.
 *
 * Days are billing days (days since 1970-01-01 in the billing offset), months
 * are y*12 + m-1, both as in calendar.h. */
#ifndef IMB_METER_H
#define IMB_METER_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

#define IMB_UNLIMITED (-1)

typedef enum imb_gtype {
  IMB_G_PRIVATE, IMB_G_PUBLIC, IMB_G_CHATROOM, IMB_G_AVCHATROOM, IMB_G_BCHATROOM, IMB_G_COMMUNITY,
  IMB_G_COUNT
} imb_gtype;

/* The limits in force, IMB_UNLIMITED where there is none.  members[] is per
 * group type; AVChatRoom and BChatRoom are normally unlimited. */
typedef struct imb_limits {
  int64_t accounts, friends_per_user, groups_per_user, av_groups, non_av_groups;
  int64_t daily_net_groups, bchatroom_daily, bchatroom_total;
  int64_t members[IMB_G_COUNT];
  /* only disbands of groups created the same day lower the daily net increase */
  int same_day_disbands;
} imb_limits;

typedef enum imb_action_kind {
  IMB_A_CREATE_ACCOUNT, IMB_A_DELETE_ACCOUNT, IMB_A_LOGIN, IMB_A_CREATE_GROUP, IMB_A_DISBAND_GROUP,
  IMB_A_JOIN, IMB_A_LEAVE, IMB_A_ADD_FRIEND, IMB_A_REMOVE_FRIEND,
  IMB_A_COUNT
} imb_action_kind;

typedef struct imb_action {
  imb_action_kind kind;
  imb_gtype gtype;   /* create: the requested type; disband/join: the group's type */
  int same_day;      /* disband: the group was created on the action's day */
  int before_created;/* disband/join/leave: the action's day is before the group's creation day */
} imb_action;

/* Counters, relative to the action's subjects: its user (or the first user of
 * a friendship), its peer, its group, its day and its month.  docs/meter.md
 * gives the key each one maps to in a shared store. */
typedef enum imb_ctr {
  IMB_C_ACCOUNT,           /* 1 if the user's account exists */
  IMB_C_ACCOUNTS,          /* net accounts of the app */
  IMB_C_GROUP,             /* 1 if the group exists */
  IMB_C_GROUPS,            /* net groups, every type */
  IMB_C_GROUPS_OF_TYPE,    /* net groups of the action's type */
  IMB_C_GROUPS_AV,         /* net AVChatRoom groups */
  IMB_C_GROUPS_NON_AV,     /* net Private, Public, ChatRoom and Community groups */
  IMB_C_DAY_CREATED,       /* groups created on the day */
  IMB_C_DAY_DISBANDED,     /* groups disbanded on the day */
  IMB_C_DAY_DISBANDED_SAME,/* ... of which created that same day */
  IMB_C_DAY_BCHAT,         /* BChatRoom groups created on the day */
  IMB_C_MEMBER,            /* 1 if the user is a member of the group */
  IMB_C_MEMBERS,           /* members of the group */
  IMB_C_USER_GROUPS,       /* groups the user has joined */
  IMB_C_FRIEND,            /* 1 if user and peer are friends */
  IMB_C_USER_FRIENDS,      /* friends of the user */
  IMB_C_PEER_FRIENDS,      /* friends of the peer */
  IMB_C_DAY_ACTIVE,        /* 1 if the user logged in on the day */
  IMB_C_DAU,               /* distinct users who logged in on the day */
  IMB_C_MONTH_ACTIVE,      /* 1 if the user logged in in the month */
  IMB_C_MAU,               /* distinct users who logged in in the month */
  IMB_C_DAY_CLOSED,        /* 1 if the day's state was released */
  IMB_C_COUNT
} imb_ctr;

typedef struct imb_counts {
  int64_t v[IMB_C_COUNT];
} imb_counts;

typedef enum imb_limit_id {
  IMB_L_NONE, IMB_L_ACCOUNTS, IMB_L_FRIENDS_PER_USER, IMB_L_GROUPS_PER_USER, IMB_L_MEMBERS_PER_GROUP,
  IMB_L_AV_GROUPS, IMB_L_NON_AV_GROUPS, IMB_L_DAILY_NET_GROUPS, IMB_L_BCHATROOM_DAILY,
  IMB_L_BCHATROOM_TOTAL, IMB_L_GROUP_EXISTS, IMB_L_GROUP_ID, IMB_L_DAY_OPEN, IMB_L_COUNT
} imb_limit_id;

/* Codes that are not Tencent's are negative; the binding names them. */
#define IMB_R_CLOSED (-1)

typedef struct imb_refusal {
  int code;             /* Tencent's error code: 70398, 10058, 10036, 10006, 10037, 10038, 30010,
                           10010 (no such group), 10021 (group id taken); or IMB_R_CLOSED */
  imb_limit_id limit;
  int64_t max;          /* the limit, or IMB_UNLIMITED when the refusal is not a quota */
  int64_t current;      /* the counter the limit was checked against */
  int peer;             /* friends: 1 when the peer, not the user, is at the limit */
} imb_refusal;

/* A cascade is a change over a whole set: disbanding a group removes every
 * membership (each member's IMB_C_USER_GROUPS drops by one); deleting an
 * account leaves its groups and ends its friendships. */
#define IMB_MAX_DELTAS 8
typedef struct imb_decision {
  int allowed;
  imb_refusal refusal;
  int ndeltas;
  struct { imb_ctr ctr; int64_t delta; } d[IMB_MAX_DELTAS];
  int cascade;
} imb_decision;

IMB_API const char *imb_limit_name(imb_limit_id id);
IMB_API const char *imb_action_name(imb_action_kind k);
IMB_API const char *imb_ctr_name(imb_ctr c);
IMB_API const char *imb_gtype_name(imb_gtype g);
IMB_API int imb_gtype_is_av(imb_gtype g);
IMB_API void imb_limits_unlimited(imb_limits *l);

/* Bit (1 << ctr) for each counter imb_meter_decide reads for this action. */
IMB_API uint32_t imb_meter_reads(const imb_action *a);
/* The rule itself: never reads a counter outside imb_meter_reads(a). */
IMB_API void imb_meter_decide(const imb_limits *lim, const imb_action *a, const imb_counts *c,
                              imb_decision *out);

/* ---- the in-process store ---------------------------------------------- */

typedef struct imb_meter imb_meter;

typedef enum imb_result { IMB_APPLIED, IMB_DUPLICATE, IMB_REFUSED } imb_result;

typedef struct imb_event {
  imb_action_kind kind;
  const char *a; size_t alen;    /* user; for groups: the group id */
  const char *b; size_t blen;    /* join/leave: the user; friends: the peer */
  imb_gtype gtype;               /* create_group only */
  int64_t t;                     /* Unix seconds */
  const char *id; size_t idlen;  /* optional event id (NULL: none) */
} imb_event;

#define IMB_EDITION_MAXLEN 63
#define IMB_DEDUP_DAYS 34
/* A login is counted only if its billing day is at most this many days before
 * the latest day the meter has counted an event for; a later one is refused
 * with IMB_R_CLOSED.  Each user keeps a bitmap of those days beside its id, so
 * DAU and MAU stay exact without a set per day.  63 days outlast any bill's
 * month plus its payment date. */
#define IMB_LOGIN_LATE_DAYS 63

IMB_API imb_status imb_meter_new(int32_t offset, const char *edition, size_t elen, const imb_limits *lim,
                                 int free_edition, imb_meter **out);
IMB_API void imb_meter_free(imb_meter *m);
IMB_API int32_t imb_meter_offset(const imb_meter *m);

IMB_API imb_status imb_meter_apply(imb_meter *m, const imb_event *ev, imb_result *res, imb_refusal *r);
/* The hot path: imb_meter_apply for a login without an event id. */
IMB_API imb_status imb_meter_login(imb_meter *m, const char *user, size_t len, int64_t t, imb_result *res,
                                   imb_refusal *r);

/* n logins at once (same result as n calls, faster on large sets of users);
 * *counted: logins counted or already counted that day. */
IMB_API imb_status imb_meter_logins(imb_meter *m, const char *const *users, const size_t *lens, const int64_t *ts,
                                    size_t n, size_t *counted);

/* Edition history.  A change at t applies to actions at or after t; it is
 * refused (*allowed = 0, *why set) when the month of t already has a change
 * (or the first paid activation), or when t is before the last change. */
typedef enum imb_change_refusal { IMB_CH_OK, IMB_CH_TWICE, IMB_CH_BACKWARDS, IMB_CH_SAME } imb_change_refusal;
IMB_API imb_status imb_meter_change(imb_meter *m, int64_t t, const char *edition, size_t elen,
                                    const imb_limits *lim, int free_edition, imb_change_refusal *why);
IMB_API int imb_meter_segments(const imb_meter *m);
/* Segment i: from_t (INT64_MIN for the first), its billing day, edition id, limits. */
IMB_API void imb_meter_segment(const imb_meter *m, int i, int64_t *from_t, int32_t *day, const char **edition,
                               imb_limits *lim, int *free_edition);
/* A paid edition's first activation day when the app started on it
 * (INT32_MIN: unknown or not in the meter's life). */
IMB_API void imb_meter_set_activated(imb_meter *m, int32_t day);
IMB_API int32_t imb_meter_activated(const imb_meter *m);
/* Replace the limits of every segment of one edition (add-ons bought later). */
IMB_API imb_status imb_meter_set_limits(imb_meter *m, int i, const imb_limits *lim);

/* Queries. */
IMB_API int64_t imb_meter_accounts(const imb_meter *m);
IMB_API int64_t imb_meter_dau(const imb_meter *m, int32_t day);
IMB_API int64_t imb_meter_mau(const imb_meter *m, int32_t month);
IMB_API void imb_meter_groups(const imb_meter *m, int64_t by_type[IMB_G_COUNT], int64_t *total);
/* Per day of the month: distinct logins and the peak net group count (the count
 * carried into the day included).  dau and groups hold 31 entries. */
IMB_API void imb_meter_month(const imb_meter *m, int32_t month, int64_t *dau, int64_t *groups, int64_t *mau);
/* Counts on sets; -1 when the user or group is unknown. */
IMB_API int64_t imb_meter_user_friends(const imb_meter *m, const char *u, size_t len);
IMB_API int64_t imb_meter_user_groups(const imb_meter *m, const char *u, size_t len);
IMB_API int64_t imb_meter_group_members(const imb_meter *m, const char *g, size_t len, imb_gtype *type);
IMB_API int imb_meter_has_account(const imb_meter *m, const char *u, size_t len);
IMB_API int32_t imb_meter_last_day(const imb_meter *m);

/* Frees the event ids recorded for days before `day` and closes those days to
 * every event; daily and monthly totals stay.  IMB_ERANGE when `day` is
 * inside the dedup window (later than last_day - IMB_DEDUP_DAYS). */
IMB_API imb_status imb_meter_release(imb_meter *m, int32_t day);
IMB_API int32_t imb_meter_released_before(const imb_meter *m);

typedef struct imb_meter_mem {
  size_t users, user_bytes, groups, group_bytes, user_days, day_bytes, months, month_bytes, event_ids,
      event_bytes, total;
} imb_meter_mem;
IMB_API void imb_meter_memory(const imb_meter *m, imb_meter_mem *out);

/* Persistence (meter_file.c).  `meta` is opaque bytes the caller stores with
 * the state (the Lua layer keeps its book name and add-ons there). */
IMB_API imb_status imb_meter_save(const imb_meter *m, const char *path, const char *meta, size_t metalen,
                                  int64_t crash_after);
IMB_API imb_status imb_meter_load(const char *path, imb_meter **out, char **meta, size_t *metalen,
                                  char *why, size_t whylen);

#endif
