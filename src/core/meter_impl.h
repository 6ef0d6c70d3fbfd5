/* The in-process store's layout, shared by meter.c and meter_file.c only. */
#ifndef IMB_METER_IMPL_H
#define IMB_METER_IMPL_H

#include "core.h"
#include "idset.h"

IMB_HIDDEN_BEGIN

/* 8 bytes a user.  What a login reads (the user's recent activity) and the
 * account flag live beside the id in the intern table's entry instead, on the
 * cache line a lookup has already brought in: see USTATE in meter.c.  Per-user
 * sets live in a pool and are referenced by 1-based index so that users
 * without friends pay 4 bytes, not a set. */
typedef struct imb_user {
  uint32_t friends;   /* pool ref, 0 = none */
  uint32_t groups;    /* pool ref of the groups joined, 0 = none */
} imb_user;

/* A user's activity as the entry holds it: the latest day with a counted login
 * (INT32_MIN: none), the days before it (bit k: a login counted on last - k)
 * and the months (bit j: one counted in the month of `last`, minus j). */
typedef struct imb_ustate {
  int32_t last;
  uint64_t days;
  uint32_t months;
  int account;
} imb_ustate;
#define IMB_USTATE_MONTHS 8

typedef struct imb_group {
  imb_u32set members;
  int64_t created_t; /* the instant, for events of its creation day */
  int32_t created_day;
  uint8_t type;
  uint8_t alive;
} imb_group;

/* A net group change of a day, for the peak in time order. */
typedef struct imb_gentry {
  int64_t t, delta;
} imb_gentry;

typedef struct imb_day {
  int32_t day;
  int32_t has_groups;
  int64_t dau;
  int64_t created, disbanded, disbanded_same; /* group changes of the day (the file keeps these) */
  int64_t net;      /* DAY_NET: groups created minus groups disbanded */
  int64_t net_same; /* DAY_NET_SAME: the same, counting only disbands of groups created that day */
  int64_t bchat;    /* BChatRoom groups created */
  int64_t g_open, g_peak, g_close; /* net groups carried in, highest, at the end */
  /* the day's changes sorted by (t, delta) */
  imb_gentry *log;
  uint32_t nlog, logcap;
  /* loaded from a file without the day's log: its peak is kept as loaded and
   * only ever raised */
  int32_t legacy;
} imb_day;

typedef struct imb_month {
  int32_t month;
  int64_t mau;
} imb_month;

typedef struct imb_segment {
  int64_t from_t;
  int32_t day;
  int32_t free_edition;
  char edition[IMB_EDITION_MAXLEN + 1];
  imb_limits lim;
} imb_segment;

struct imb_meter {
  int32_t offset;
  int64_t clock; /* INT64_MIN: none */
  int32_t activated;
  int32_t last_day;
  int32_t released_before;
  int32_t lcache_day, lcache_month, lcache_first, lcache_end; /* month bounds of the last login day */
  int64_t tcache_lo, tcache_hi; /* the instants [lo, hi) of billing day tcache_day */
  int32_t tcache_day;
  imb_intern uix;
  imb_user *users;
  uint32_t ucap;
  imb_intern gix;
  imb_group *groups;
  uint32_t gcap;
  imb_u32set *pool;
  uint32_t npool, poolcap;
  uint32_t *freepool;
  uint32_t nfree, freecap;
  int64_t accounts, groups_total, groups_av, groups_non_av;
  int64_t gcount[IMB_G_COUNT];
  imb_day *days;
  uint32_t ndays, daycap, daycache;
  imb_month *months;
  uint32_t nmonths, monthcap, monthcache;
  imb_segment *segs;
  int nsegs, segcap;
  imb_intern eix;
  int32_t *evday;
  uint32_t evcap;
};

/* meter.c helpers used by the loader to rebuild state through the same paths. */
imb_meter *imb_meter_alloc(int32_t offset);
imb_status imb_meter_add_segment(imb_meter *m, int64_t from_t, const char *edition, size_t elen,
                                 const imb_limits *lim, int free_edition);
imb_status imb_meter_user(imb_meter *m, const char *s, size_t len, uint32_t *idx);
imb_status imb_meter_group(imb_meter *m, const char *s, size_t len, uint32_t *idx);
imb_u32set *imb_meter_pool_set(imb_meter *m, uint32_t *ref);
/* The day's and the month's records, added when missing (NULL: no memory).
 * The last one used is cached, and the cache test is inline: a run of logins
 * meets the same day and month nearly every time, and a call each would be a
 * tenth of a login's instructions. */
imb_day *imb_meter_day_slow(imb_meter *m, int32_t day);
imb_month *imb_meter_monthrec_slow(imb_meter *m, int32_t month);
IMB_INLINE imb_day *imb_meter_day(imb_meter *m, int32_t day) {
  if (m->daycache < m->ndays && m->days[m->daycache].day == day) return &m->days[m->daycache];
  return imb_meter_day_slow(m, day);
}
IMB_INLINE imb_month *imb_meter_monthrec(imb_meter *m, int32_t month) {
  if (m->monthcache < m->nmonths && m->months[m->monthcache].month == month) return &m->months[m->monthcache];
  return imb_meter_monthrec_slow(m, month);
}
void imb_meter_ustate_get(const imb_meter *m, uint32_t ix, imb_ustate *u);
void imb_meter_ustate_set(imb_meter *m, uint32_t ix, const imb_ustate *u);
imb_status imb_meter_remember(imb_meter *m, const char *id, size_t len, int32_t day);

IMB_HIDDEN_END

#endif
