/* The in-process store: exact counters in this process's memory.  Every action
 * goes through imb_meter_decide(); this file only reads the counters the rule
 * asks for and applies the deltas it returns. */
#include "meter_impl.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int grow(void **p, uint32_t *cap, uint32_t need, size_t elem) {
  if (need <= *cap) return 0;
  uint64_t nc = *cap ? *cap : 8;
  while (nc < need) nc *= 2;
  if (nc > 0xFFFFFFFFu || nc * elem > (uint64_t)SIZE_MAX / 2) return -1;
  void *np = realloc(*p, (size_t)nc * elem);
  if (!np) return -1;
  *p = np;
  *cap = (uint32_t)nc;
  return 0;
}

/* USTATE: the 12 bytes beside each user id in the intern table, read by the
 * lookup that found the id (no further cache miss for a login):
 *   u32 word: bits 0-21 the latest counted login day + DAY_BIAS (0: none),
 *             bits 22-29 the months bitmap, bit 30 the account flag;
 *   u64 days bitmap.
 * A user's bitmaps are relative to the user's own latest day, so they move
 * only when that user logs in again: no sweep over all users as days pass. */
#define USTATE_BYTES 12
#define DAY_BIAS 719163 /* calendar.c's first day, -719162, becomes 1 */
#define LAST_MASK 0x3FFFFFu
#define MON_SHIFT 22
#define MON_MASK 0xFFu
#define ACCT_BIT (1u << 30)

static void ust_read(const imb_meter *m, uint32_t at, uint32_t *w, uint64_t *days) {
  const unsigned char *p = imb_intern_extra_i(&m->uix, at);
  memcpy(w, p, 4);
  memcpy(days, p + 4, 8);
}

static void ust_write(imb_meter *m, uint32_t at, uint32_t w, uint64_t days) {
  unsigned char *p = imb_intern_extra_i(&m->uix, at);
  memcpy(p, &w, 4);
  memcpy(p + 4, &days, 8);
}

static int32_t w_last(uint32_t w) {
  return (w & LAST_MASK) ? (int32_t)(w & LAST_MASK) - DAY_BIAS : INT32_MIN;
}

void imb_meter_ustate_get(const imb_meter *m, uint32_t ix, imb_ustate *u) {
  uint32_t w;
  ust_read(m, imb_intern_at(&m->uix, ix), &w, &u->days);
  u->last = w_last(w);
  u->months = (w >> MON_SHIFT) & MON_MASK;
  u->account = (w & ACCT_BIT) != 0;
}

/* The loader checks the day range before calling. */
void imb_meter_ustate_set(imb_meter *m, uint32_t ix, const imb_ustate *u) {
  uint32_t w = u->last == INT32_MIN ? 0 : (uint32_t)(u->last + DAY_BIAS) & LAST_MASK;
  w |= (u->months & MON_MASK) << MON_SHIFT;
  if (u->account) w |= ACCT_BIT;
  ust_write(m, imb_intern_at(&m->uix, ix), w, u->days);
}

static int account_of(const imb_meter *m, uint32_t ix) {
  uint32_t w;
  uint64_t days;
  ust_read(m, imb_intern_at(&m->uix, ix), &w, &days);
  return (w & ACCT_BIT) != 0;
}

static void set_account(imb_meter *m, uint32_t ix, int on) {
  uint32_t at = imb_intern_at(&m->uix, ix), w;
  uint64_t days;
  ust_read(m, at, &w, &days);
  w = on ? w | ACCT_BIT : w & ~ACCT_BIT;
  ust_write(m, at, w, days);
}

imb_meter *imb_meter_alloc(int32_t offset) {
  imb_meter *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->offset = offset;
  m->activated = INT32_MIN;
  m->last_day = INT32_MIN;
  m->released_before = INT32_MIN;
  m->lcache_day = INT32_MIN;
  m->tcache_lo = m->tcache_hi = 0;
  imb_intern_init_extra(&m->uix, USTATE_BYTES);
  imb_intern_init(&m->gix);
  imb_intern_init(&m->eix);
  return m;
}

void imb_meter_free(imb_meter *m) {
  if (!m) return;
  imb_intern_free(&m->uix);
  free(m->users);
  for (uint32_t i = 0; i < m->gix.n; i++) imb_u32set_free(&m->groups[i].members);
  imb_intern_free(&m->gix);
  free(m->groups);
  for (uint32_t i = 0; i < m->npool; i++) imb_u32set_free(&m->pool[i]);
  free(m->pool);
  free(m->freepool);
  free(m->days);
  free(m->months);
  free(m->segs);
  imb_intern_free(&m->eix);
  free(m->evday);
  free(m);
}

int32_t imb_meter_offset(const imb_meter *m) { return m->offset; }

imb_status imb_meter_add_segment(imb_meter *m, int64_t from_t, const char *edition, size_t elen,
                                 const imb_limits *lim, int free_edition) {
  if (elen > IMB_EDITION_MAXLEN) return IMB_ERANGE;
  if (m->nsegs == m->segcap) {
    uint32_t cap = (uint32_t)m->segcap;
    if (grow((void **)&m->segs, &cap, (uint32_t)m->nsegs + 1, sizeof *m->segs)) return IMB_ENOMEM;
    m->segcap = (int)cap;
  }
  imb_segment *s = &m->segs[m->nsegs];
  memset(s, 0, sizeof *s);
  s->from_t = from_t;
  s->day = INT32_MIN;
  if (from_t != INT64_MIN && imb_day_of(from_t, m->offset, &s->day)) return IMB_ERANGE;
  s->free_edition = free_edition != 0;
  memcpy(s->edition, edition, elen);
  s->lim = *lim;
  m->nsegs++;
  return IMB_OK;
}

imb_status imb_meter_new(int32_t offset, const char *edition, size_t elen, const imb_limits *lim,
                         int free_edition, imb_meter **out) {
  if (offset <= -86400 || offset >= 86400) return IMB_ERANGE;
  imb_meter *m = imb_meter_alloc(offset);
  if (!m) return IMB_ENOMEM;
  imb_status st = imb_meter_add_segment(m, INT64_MIN, edition, elen, lim, free_edition);
  if (st) {
    imb_meter_free(m);
    return st;
  }
  *out = m;
  return IMB_OK;
}

/* ---- lookups ----------------------------------------------------------- */

imb_status imb_meter_user(imb_meter *m, const char *s, size_t len, uint32_t *idx) {
  int created;
  imb_status st = imb_intern_get(&m->uix, s, len, idx, &created);
  if (st || !created) return st;
  if (grow((void **)&m->users, &m->ucap, m->uix.n, sizeof *m->users)) return IMB_ENOMEM;
  imb_user *u = &m->users[*idx];
  memset(u, 0, sizeof *u);
  return IMB_OK;
}

imb_status imb_meter_group(imb_meter *m, const char *s, size_t len, uint32_t *idx) {
  int created;
  imb_status st = imb_intern_get(&m->gix, s, len, idx, &created);
  if (st || !created) return st;
  if (grow((void **)&m->groups, &m->gcap, m->gix.n, sizeof *m->groups)) return IMB_ENOMEM;
  imb_group *g = &m->groups[*idx];
  memset(g, 0, sizeof *g);
  imb_u32set_init(&g->members);
  return IMB_OK;
}

static int find_user(const imb_meter *m, const char *s, size_t len, uint32_t *idx) {
  return imb_intern_find(&m->uix, s, len, imb_hash_bytes(s, len), idx);
}

static int find_group(const imb_meter *m, const char *s, size_t len, uint32_t *idx) {
  return imb_intern_find(&m->gix, s, len, imb_hash_bytes(s, len), idx);
}

static const imb_u32set EMPTY_SET = {NULL, 0, 0};

static const imb_u32set *pool_get(const imb_meter *m, uint32_t ref) {
  return ref ? &m->pool[ref - 1] : &EMPTY_SET;
}

/* A set for *ref, created on first use. */
imb_u32set *imb_meter_pool_set(imb_meter *m, uint32_t *ref) {
  if (*ref) return &m->pool[*ref - 1];
  uint32_t r;
  if (m->nfree) {
    r = m->freepool[--m->nfree];
  } else {
    if (grow((void **)&m->pool, &m->poolcap, m->npool + 1, sizeof *m->pool)) return NULL;
    r = m->npool++;
    imb_u32set_init(&m->pool[r]);
  }
  *ref = r + 1;
  return &m->pool[r];
}

static void pool_release(imb_meter *m, uint32_t *ref) {
  if (!*ref) return;
  uint32_t r = *ref - 1;
  imb_u32set_free(&m->pool[r]);
  *ref = 0;
  /* the free list never needs more room than the pool has sets */
  if (!grow((void **)&m->freepool, &m->freecap, m->nfree + 1, sizeof *m->freepool))
    m->freepool[m->nfree++] = r;
}

static imb_day *day_find(const imb_meter *m, int32_t day, uint32_t *pos) {
  uint32_t lo = 0, hi = m->ndays;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (m->days[mid].day < day) lo = mid + 1;
    else hi = mid;
  }
  *pos = lo;
  return lo < m->ndays && m->days[lo].day == day ? &m->days[lo] : NULL;
}

static const imb_day *day_peek(const imb_meter *m, int32_t day) {
  if (m->daycache < m->ndays && m->days[m->daycache].day == day) return &m->days[m->daycache];
  uint32_t pos;
  return day_find(m, day, &pos);
}

imb_day *imb_meter_day(imb_meter *m, int32_t day) {
  if (m->daycache < m->ndays && m->days[m->daycache].day == day) return &m->days[m->daycache];
  uint32_t pos;
  imb_day *d = day_find(m, day, &pos);
  if (!d) {
    if (grow((void **)&m->days, &m->daycap, m->ndays + 1, sizeof *m->days)) return NULL;
    memmove(&m->days[pos + 1], &m->days[pos], (size_t)(m->ndays - pos) * sizeof *m->days);
    m->ndays++;
    d = &m->days[pos];
    memset(d, 0, sizeof *d);
    d->day = day;
  }
  m->daycache = pos;
  return d;
}

static imb_month *month_find(const imb_meter *m, int32_t month, uint32_t *pos) {
  uint32_t lo = 0, hi = m->nmonths;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (m->months[mid].month < month) lo = mid + 1;
    else hi = mid;
  }
  *pos = lo;
  return lo < m->nmonths && m->months[lo].month == month ? &m->months[lo] : NULL;
}

imb_month *imb_meter_monthrec(imb_meter *m, int32_t month) {
  if (m->monthcache < m->nmonths && m->months[m->monthcache].month == month) return &m->months[m->monthcache];
  uint32_t pos;
  imb_month *r = month_find(m, month, &pos);
  if (!r) {
    if (grow((void **)&m->months, &m->monthcap, m->nmonths + 1, sizeof *m->months)) return NULL;
    memmove(&m->months[pos + 1], &m->months[pos], (size_t)(m->nmonths - pos) * sizeof *m->months);
    m->nmonths++;
    r = &m->months[pos];
    memset(r, 0, sizeof *r);
    r->month = month;
  }
  m->monthcache = pos;
  return r;
}

static const imb_segment *segment_at(const imb_meter *m, int64_t t) {
  int i = m->nsegs - 1;
  while (i > 0 && m->segs[i].from_t > t) i--;
  return &m->segs[i];
}

/* ---- event ids --------------------------------------------------------- */

static int seen(const imb_meter *m, const char *id, size_t len) {
  uint32_t ix;
  return imb_intern_find(&m->eix, id, len, imb_hash_bytes(id, len), &ix);
}

imb_status imb_meter_remember(imb_meter *m, const char *id, size_t len, int32_t day) {
  uint32_t ix;
  int created;
  imb_status st = imb_intern_get(&m->eix, id, len, &ix, &created);
  if (st) return st;
  if (grow((void **)&m->evday, &m->evcap, m->eix.n, sizeof *m->evday)) return IMB_ENOMEM;
  m->evday[ix] = day;
  return IMB_OK;
}

/* ---- applying a decision ----------------------------------------------- */

typedef struct ctx {
  uint32_t u, p, g;   /* user, peer, group indices */
  int has_u;          /* group-only actions have no user */
  int closed;         /* the action's day is closed to it */
  uint32_t uat;       /* login: the user's intern entry */
  uint32_t w;         /* login: the user's USTATE word and days bitmap */
  uint64_t days;
  int32_t mfirst, mend; /* login: the month's first day and the first day after it */
  int32_t day, month;
  imb_day *d;
  imb_month *mo;
} ctx;

static int closed(const imb_meter *m, int32_t day) { return day < m->released_before; }

/* Past the window a user's bitmaps no longer reach the day, so the login
 * cannot be decided exactly (IMB_LOGIN_LATE_DAYS). */
static int login_closed(const imb_meter *m, int32_t day) {
  return day < m->released_before ||
         (m->last_day != INT32_MIN && (int64_t)day < (int64_t)m->last_day - IMB_LOGIN_LATE_DAYS);
}

/* Month of the user's latest day minus the login's month: 0 when the latest
 * day is before the month's end (it cannot be before the month's start and
 * be later than the login). */
static int64_t month_gap(int32_t last, int32_t mend, int32_t month) {
  return last < mend ? 0 : (int64_t)imb_month_of_day(last) - month;
}

/* Whether the user counted a login on c->day and in c->month; only called on
 * open days, so the day is within 63 days of last and the month within 3. */
static int day_active(const ctx *c) {
  int32_t last = w_last(c->w);
  if (last == INT32_MIN || c->day > last) return 0;
  int64_t k = (int64_t)last - c->day;
  return k < 64 && ((c->days >> k) & 1);
}

static int month_active(const ctx *c) {
  int32_t last = w_last(c->w);
  if (last == INT32_MIN) return 0;
  uint32_t months = (c->w >> MON_SHIFT) & MON_MASK;
  if (c->day > last) return last >= c->mfirst && (months & 1);
  int64_t j = month_gap(last, c->mend, c->month);
  return j >= 0 && j < IMB_USTATE_MONTHS && ((months >> j) & 1);
}

/* Records a counted login of c->day (day and/or month newly active).  When the
 * day is after the user's latest, both bitmaps first move up to it. */
static void mark_login(imb_meter *m, ctx *c, int day, int month) {
  int32_t last = w_last(c->w);
  uint32_t w = c->w, months = (w >> MON_SHIFT) & MON_MASK;
  uint64_t days = c->days;
  if (last == INT32_MIN || c->day > last) {
    if (last == INT32_MIN) {
      days = 0;
      months = 0;
    } else {
      int64_t s = (int64_t)c->day - last;
      days = s >= 64 ? 0 : days << s;
      if (last < c->mfirst) {
        int64_t sh = (int64_t)c->month - imb_month_of_day(last);
        months = sh >= IMB_USTATE_MONTHS ? 0 : (months << sh) & MON_MASK;
      }
    }
    last = c->day;
    w = (w & ~(LAST_MASK | (MON_MASK << MON_SHIFT))) | ((uint32_t)(last + DAY_BIAS) & LAST_MASK);
  }
  if (day) days |= (uint64_t)1 << ((int64_t)last - c->day);
  if (month) months |= 1u << month_gap(last, c->mend, c->month);
  w = (w & ~(MON_MASK << MON_SHIFT)) | ((months & MON_MASK) << MON_SHIFT);
  c->w = w;
  c->days = days;
  ust_write(m, c->uat, w, days);
}

static void read_counts(const imb_meter *m, const imb_action *a, const ctx *c, imb_counts *out) {
  uint32_t need = imb_meter_reads(a);
  memset(out, 0, sizeof *out);
  if ((need & (1u << IMB_C_DAY_CLOSED)) && c->closed) {
    /* nothing of a released day is left to read, and the rule stops here */
    out->v[IMB_C_DAY_CLOSED] = 1;
    return;
  }
  const imb_user *u = c->has_u ? &m->users[c->u] : NULL;
  for (int k = 0; k < IMB_C_COUNT; k++) {
    if (!(need & (1u << k))) continue;
    int64_t v = 0;
    switch ((imb_ctr)k) {
    case IMB_C_ACCOUNT: v = account_of(m, c->u); break;
    case IMB_C_ACCOUNTS: v = m->accounts; break;
    case IMB_C_GROUP: v = m->groups[c->g].alive; break;
    case IMB_C_GROUPS: v = m->groups_total; break;
    case IMB_C_GROUPS_OF_TYPE: v = m->gcount[a->gtype]; break;
    case IMB_C_GROUPS_AV: v = m->groups_av; break;
    case IMB_C_GROUPS_NON_AV: v = m->groups_non_av; break;
    case IMB_C_DAY_CREATED: v = c->d->created; break;
    case IMB_C_DAY_DISBANDED: v = c->d->disbanded; break;
    case IMB_C_DAY_DISBANDED_SAME: v = c->d->disbanded_same; break;
    case IMB_C_DAY_BCHAT: v = c->d->bchat; break;
    case IMB_C_MEMBER: v = imb_u32set_has(&m->groups[c->g].members, c->u); break;
    case IMB_C_MEMBERS: v = m->groups[c->g].members.n; break;
    case IMB_C_USER_GROUPS: v = pool_get(m, u->groups)->n; break;
    case IMB_C_FRIEND: v = imb_u32set_has(pool_get(m, u->friends), c->p); break;
    case IMB_C_USER_FRIENDS: v = pool_get(m, u->friends)->n; break;
    case IMB_C_PEER_FRIENDS: v = pool_get(m, m->users[c->p].friends)->n; break;
    case IMB_C_DAY_ACTIVE: v = day_active(c); break;
    case IMB_C_DAU: v = c->d->dau; break;
    case IMB_C_MONTH_ACTIVE: v = month_active(c); break;
    case IMB_C_MAU: v = c->mo->mau; break;
    case IMB_C_DAY_CLOSED: v = c->closed; break;
    case IMB_C_COUNT: break;
    }
    out->v[k] = v;
  }
}

/* Net group count moved by `delta` on day `day`.  A late event (for a day
 * before later group activity) shifts every later day's counts too, since the
 * group existed (or not) through all of them. */
static void groups_moved(imb_meter *m, imb_day *d, int64_t delta) {
  if (!d->has_groups) {
    /* carried in: the close of the latest earlier day with group activity */
    int64_t carried = 0;
    for (const imb_day *e = d; e > m->days;) {
      e--;
      if (e->has_groups) {
        carried = e->g_close;
        break;
      }
    }
    d->has_groups = 1;
    d->g_open = d->g_peak = d->g_close = carried;
  }
  d->g_close += delta;
  if (d->g_close > d->g_peak) d->g_peak = d->g_close;
  for (imb_day *e = d + 1; e < m->days + m->ndays; e++) {
    if (!e->has_groups) continue;
    e->g_open += delta;
    e->g_peak += delta;
    e->g_close += delta;
  }
  m->groups_total += delta;
}

static void cascade(imb_meter *m, const imb_action *a, const ctx *c) {
  if (a->kind == IMB_A_DISBAND_GROUP) {
    imb_group *g = &m->groups[c->g];
    for (uint32_t i = 0; i < g->members.cap; i++) {
      uint32_t x = g->members.slot[i];
      if (!x) continue;
      imb_user *u = &m->users[x - 1];
      if (u->groups) imb_u32set_del(&m->pool[u->groups - 1], c->g);
    }
    imb_u32set_free(&g->members);
    return;
  }
  /* account deleted: its memberships and friendships end with it, so an id
   * created again starts as a new account */
  imb_user *u = &m->users[c->u];
  if (u->groups) {
    imb_u32set *s = &m->pool[u->groups - 1];
    for (uint32_t i = 0; i < s->cap; i++)
      if (s->slot[i]) imb_u32set_del(&m->groups[s->slot[i] - 1].members, c->u);
    pool_release(m, &u->groups);
  }
  if (u->friends) {
    imb_u32set *s = &m->pool[u->friends - 1];
    for (uint32_t i = 0; i < s->cap; i++) {
      if (!s->slot[i]) continue;
      imb_user *f = &m->users[s->slot[i] - 1];
      if (f->friends) imb_u32set_del(&m->pool[f->friends - 1], c->u);
    }
    pool_release(m, &u->friends);
  }
}

/* Two phases so that running out of memory leaves the meter as it was: first
 * every set insertion (the only steps that allocate), undone on failure; then
 * the counters and removals, which cannot fail. */
static imb_status apply(imb_meter *m, const imb_action *a, ctx *c, const imb_decision *dec) {
  imb_u32set *added[4];
  uint32_t addv[4];
  int nadded = 0;
  imb_user *u;
  for (int i = 0; i < dec->ndeltas; i++) {
    if (dec->d[i].delta <= 0) continue;
    imb_u32set *s1 = NULL, *s2 = NULL;
    uint32_t v1 = 0, v2 = 0;
    switch (dec->d[i].ctr) {
    case IMB_C_MEMBER:
      s1 = &m->groups[c->g].members; v1 = c->u;
      s2 = imb_meter_pool_set(m, &m->users[c->u].groups); v2 = c->g;
      if (!s2) goto nomem;
      break;
    case IMB_C_FRIEND:
      /* both refs first: creating the second may move the pool */
      if (!imb_meter_pool_set(m, &m->users[c->u].friends) || !imb_meter_pool_set(m, &m->users[c->p].friends))
        goto nomem;
      s1 = &m->pool[m->users[c->u].friends - 1]; v1 = c->p;
      s2 = &m->pool[m->users[c->p].friends - 1]; v2 = c->u;
      break;
    default: break;
    }
    if (s1) {
      if (imb_u32set_add(s1, v1) < 0) goto nomem;
      added[nadded] = s1; addv[nadded++] = v1;
    }
    if (s2) {
      if (imb_u32set_add(s2, v2) < 0) goto nomem;
      added[nadded] = s2; addv[nadded++] = v2;
    }
  }
  u = c->has_u ? &m->users[c->u] : NULL;
  int day_on = 0, month_on = 0;
  for (int i = 0; i < dec->ndeltas; i++) {
    int64_t d = dec->d[i].delta;
    switch (dec->d[i].ctr) {
    case IMB_C_ACCOUNT: set_account(m, c->u, d > 0); break;
    case IMB_C_ACCOUNTS: m->accounts += d; break;
    case IMB_C_GROUP: {
      imb_group *g = &m->groups[c->g];
      g->alive = d > 0;
      if (d > 0) {
        g->type = (uint8_t)a->gtype;
        g->created_day = c->day;
      }
      break;
    }
    case IMB_C_GROUPS: groups_moved(m, c->d, d); break;
    case IMB_C_GROUPS_OF_TYPE: m->gcount[a->gtype] += d; break;
    case IMB_C_GROUPS_AV: m->groups_av += d; break;
    case IMB_C_GROUPS_NON_AV: m->groups_non_av += d; break;
    case IMB_C_DAY_CREATED: c->d->created += d; break;
    case IMB_C_DAY_DISBANDED: c->d->disbanded += d; break;
    case IMB_C_DAY_DISBANDED_SAME: c->d->disbanded_same += d; break;
    case IMB_C_DAY_BCHAT: c->d->bchat += d; break;
    case IMB_C_MEMBER:
      if (d < 0) {
        imb_u32set_del(&m->groups[c->g].members, c->u);
        if (u->groups) imb_u32set_del(&m->pool[u->groups - 1], c->g);
      }
      break;
    case IMB_C_FRIEND:
      if (d < 0) {
        if (u->friends) imb_u32set_del(&m->pool[u->friends - 1], c->p);
        imb_user *p = &m->users[c->p];
        if (p->friends) imb_u32set_del(&m->pool[p->friends - 1], c->u);
      }
      break;
    case IMB_C_DAY_ACTIVE: day_on = d > 0; break;
    case IMB_C_MONTH_ACTIVE: month_on = d > 0; break;
    case IMB_C_DAU: c->d->dau += d; break;
    case IMB_C_MAU: c->mo->mau += d; break;
    /* set sizes: the sets above already carry these */
    case IMB_C_MEMBERS: case IMB_C_USER_GROUPS: case IMB_C_USER_FRIENDS: case IMB_C_PEER_FRIENDS:
    case IMB_C_DAY_CLOSED: case IMB_C_COUNT: break;
    }
  }
  if (day_on || month_on) mark_login(m, c, day_on, month_on);
  if (dec->cascade) cascade(m, a, c);
  return IMB_OK;
nomem:
  while (nadded--) imb_u32set_del(added[nadded], addv[nadded]);
  return IMB_ENOMEM;
}

static int uses_day(imb_action_kind k) {
  return k == IMB_A_LOGIN || k == IMB_A_CREATE_GROUP || k == IMB_A_DISBAND_GROUP;
}

imb_status imb_meter_apply(imb_meter *m, const imb_event *ev, imb_result *res, imb_refusal *r) {
  ctx c;
  imb_action a;
  imb_status st;
  memset(&c, 0, sizeof c);
  memset(&a, 0, sizeof a);
  if ((unsigned)ev->kind >= IMB_A_COUNT) return IMB_ERANGE;
  if (imb_day_of(ev->t, m->offset, &c.day)) return IMB_ERANGE;
  c.month = imb_month_of_day(c.day);
  if (ev->id && seen(m, ev->id, ev->idlen)) {
    *res = IMB_DUPLICATE;
    return IMB_OK;
  }
  a.kind = ev->kind;
  switch (ev->kind) {
  case IMB_A_CREATE_GROUP: case IMB_A_DISBAND_GROUP: case IMB_A_JOIN: case IMB_A_LEAVE:
    if (ev->kind == IMB_A_CREATE_GROUP && (unsigned)ev->gtype >= IMB_G_COUNT) return IMB_ERANGE;
    if ((st = imb_meter_group(m, ev->a, ev->alen, &c.g))) return st;
    if (ev->kind == IMB_A_CREATE_GROUP) {
      a.gtype = ev->gtype;
    } else {
      a.gtype = (imb_gtype)m->groups[c.g].type;
      a.same_day = m->groups[c.g].created_day == c.day;
      a.before_created = m->groups[c.g].alive && m->groups[c.g].created_day > c.day;
    }
    if (ev->kind == IMB_A_JOIN || ev->kind == IMB_A_LEAVE) {
      if ((st = imb_meter_user(m, ev->b, ev->blen, &c.u))) return st;
      c.has_u = 1;
    }
    break;
  case IMB_A_ADD_FRIEND: case IMB_A_REMOVE_FRIEND:
    if (ev->alen == ev->blen && memcmp(ev->a, ev->b, ev->alen) == 0) return IMB_ERANGE;
    if ((st = imb_meter_user(m, ev->a, ev->alen, &c.u))) return st;
    if ((st = imb_meter_user(m, ev->b, ev->blen, &c.p))) return st;
    c.has_u = 1;
    break;
  default:
    if ((st = imb_meter_user(m, ev->a, ev->alen, &c.u))) return st;
    c.has_u = 1;
    break;
  }
  c.closed = ev->kind == IMB_A_LOGIN ? login_closed(m, c.day) : closed(m, c.day);
  if (uses_day(ev->kind) && !c.closed) {
    if (!(c.d = imb_meter_day(m, c.day))) return IMB_ENOMEM;
    if (ev->kind == IMB_A_LOGIN) {
      if (!(c.mo = imb_meter_monthrec(m, c.month))) return IMB_ENOMEM;
      c.uat = imb_intern_at(&m->uix, c.u);
      ust_read(m, c.uat, &c.w, &c.days);
      c.mfirst = imb_month_first_day(c.month);
      c.mend = c.mfirst + imb_month_length(c.month);
    }
  }
  imb_counts counts;
  imb_decision dec;
  read_counts(m, &a, &c, &counts);
  imb_meter_decide(&segment_at(m, ev->t)->lim, &a, &counts, &dec);
  if (!dec.allowed) {
    *res = IMB_REFUSED;
    if (r) *r = dec.refusal;
    return IMB_OK;
  }
  /* remember the id first: if that fails nothing was counted, and a counted
   * event always has its id remembered */
  if (ev->id && (st = imb_meter_remember(m, ev->id, ev->idlen, c.day))) return st;
  if ((st = apply(m, &a, &c, &dec))) return st;
  if (c.day > m->last_day) m->last_day = c.day;
  *res = IMB_APPLIED;
  return IMB_OK;
}

/* The billing day of t, from a one-day cache: a login stream is in time order
 * nearly always, so the division is done once a day, not once a login. */
static imb_status day_of_cached(imb_meter *m, int64_t t, int32_t *day) {
  if (t >= m->tcache_lo && t < m->tcache_hi) {
    *day = m->tcache_day;
    return IMB_OK;
  }
  imb_status st = imb_day_of(t, m->offset, day);
  if (st) return st;
  /* t is within calendar.c's years, so these cannot overflow */
  m->tcache_day = *day;
  m->tcache_lo = (int64_t)*day * 86400 - m->offset;
  m->tcache_hi = m->tcache_lo + 86400;
  return IMB_OK;
}

/* The login rule of imb_meter_decide, specialised: a closed day refuses;
 * otherwise the day's and the month's first counted login of the user add one
 * to DAU and MAU.  Logins read no limit (paid editions never refuse one and
 * free ones enforce only accounts), so no segment, counter array or delta list
 * is built.  spec/meter_property_spec.lua checks this against the generic
 * path (a login with an event id goes through imb_meter_apply) on random
 * streams. */
static imb_status login_fast(imb_meter *m, uint32_t at, uint32_t w, uint64_t days, int32_t day, imb_result *res,
                             imb_refusal *r) {
  if (login_closed(m, day)) {
    *res = IMB_REFUSED;
    if (r) {
      memset(r, 0, sizeof *r);
      r->code = IMB_R_CLOSED;
      r->limit = IMB_L_DAY_OPEN;
      r->max = IMB_UNLIMITED;
    }
    return IMB_OK;
  }
  if (day != m->lcache_day) {
    m->lcache_day = day;
    m->lcache_month = imb_month_of_day(day);
    m->lcache_first = imb_month_first_day(m->lcache_month);
    m->lcache_end = m->lcache_first + imb_month_length(m->lcache_month);
  }
  ctx c;
  c.uat = at;
  c.w = w;
  c.days = days;
  c.day = day;
  c.month = m->lcache_month;
  c.mfirst = m->lcache_first;
  c.mend = m->lcache_end;
  int dnew = !day_active(&c), mnew = !month_active(&c);
  /* a user active on the day and in the month has both records already */
  if (dnew || mnew) {
    imb_day *d = imb_meter_day(m, day);
    imb_month *mo = d ? imb_meter_monthrec(m, c.month) : NULL;
    if (!mo) return IMB_ENOMEM;
    d->dau += dnew;
    mo->mau += mnew;
    mark_login(m, &c, dnew, mnew);
  }
  if (day > m->last_day) m->last_day = day;
  *res = IMB_APPLIED;
  return IMB_OK;
}

static imb_status login_one(imb_meter *m, const char *user, size_t len, uint64_t h, int64_t t, imb_result *res,
                            imb_refusal *r) {
  int32_t day;
  uint32_t ix, at, w;
  uint64_t days;
  if (day_of_cached(m, t, &day)) return IMB_ERANGE;
  if (imb_intern_find_at_i(&m->uix, user, len, h, &ix, &at)) {
    ust_read(m, at, &w, &days);
    /* already counted that day: no rule can change anything.  An open day is
     * within 63 days of the user's latest, so its bit is there. */
    int32_t last = w_last(w);
    if (last != INT32_MIN && day <= last && (int64_t)last - day < 64 && ((days >> ((int64_t)last - day)) & 1) &&
        !login_closed(m, day)) {
      *res = IMB_APPLIED;
      return IMB_OK;
    }
    return login_fast(m, at, w, days, day, res, r);
  }
  /* a new user: added with the hash already taken (as imb_meter_apply would
   * add it, even for a login then refused), then the same rule */
  imb_status st = imb_intern_add(&m->uix, user, len, h, &ix, &at);
  if (st) return st;
  if (grow((void **)&m->users, &m->ucap, m->uix.n, sizeof *m->users)) return IMB_ENOMEM;
  memset(&m->users[ix], 0, sizeof *m->users);
  return login_fast(m, at, 0, 0, day, res, r);
}

imb_status imb_meter_login(imb_meter *m, const char *user, size_t len, int64_t t, imb_result *res,
                           imb_refusal *r) {
  if (len > IMB_ID_MAXLEN) return IMB_ERANGE;
  return login_one(m, user, len, imb_hash_i(user, len), t, res, r);
}

/* Random users mean two cache misses a login (the slot, then the entry with
 * the id and its activity bits).  A software pipeline keeps many in flight:
 * login i+AHEAD has its slot prefetched, login i+AHEAD/2 its entry (the slot
 * being in cache by then), and login i is counted, in order, so the result is
 * exactly that of n single calls. */
#define AHEAD 24
#define RING 32 /* a power of two above AHEAD */
imb_status imb_meter_logins(imb_meter *m, const char *const *users, const size_t *lens, const int64_t *ts, size_t n,
                            size_t *counted) {
  uint64_t h[RING];
  size_t done = 0, end = n;
  imb_status bad = IMB_OK;
  *counted = 0;
  for (size_t i = 0; i < end + AHEAD; i++) {
    if (i < end) {
      if (lens[i] > IMB_ID_MAXLEN) {
        /* n single calls would count every login before this one */
        bad = IMB_ERANGE;
        end = i;
      } else {
        h[i & (RING - 1)] = imb_hash_i(users[i], lens[i]);
        imb_intern_prefetch_slot_i(&m->uix, h[i & (RING - 1)]);
      }
    }
    if (i >= AHEAD / 2 && i - AHEAD / 2 < end) imb_intern_prefetch_entry_i(&m->uix, h[(i - AHEAD / 2) & (RING - 1)]);
    if (i >= AHEAD && i - AHEAD < end) {
      size_t k = i - AHEAD;
      imb_result res;
      imb_status st = login_one(m, users[k], lens[k], h[k & (RING - 1)], ts[k], &res, NULL);
      if (st) {
        *counted = done;
        return st;
      }
      if (res == IMB_APPLIED) done++;
    }
  }
  *counted = done;
  return bad;
}

/* ---- editions ---------------------------------------------------------- */

imb_status imb_meter_change(imb_meter *m, int64_t t, const char *edition, size_t elen, const imb_limits *lim,
                            int free_edition, imb_change_refusal *why) {
  int32_t day;
  if (imb_day_of(t, m->offset, &day)) return IMB_ERANGE;
  if (elen > IMB_EDITION_MAXLEN) return IMB_ERANGE;
  const imb_segment *last = &m->segs[m->nsegs - 1];
  *why = IMB_CH_OK;
  if (strlen(last->edition) == elen && memcmp(last->edition, edition, elen) == 0) *why = IMB_CH_SAME;
  else if (t < last->from_t) *why = IMB_CH_BACKWARDS;
  else if (m->nsegs > 1 && imb_month_of_day(last->day) == imb_month_of_day(day)) *why = IMB_CH_TWICE;
  else if (m->activated != INT32_MIN && imb_month_of_day(m->activated) == imb_month_of_day(day)) *why = IMB_CH_TWICE;
  if (*why) return IMB_OK;
  return imb_meter_add_segment(m, t, edition, elen, lim, free_edition);
}

int imb_meter_segments(const imb_meter *m) { return m->nsegs; }

void imb_meter_segment(const imb_meter *m, int i, int64_t *from_t, int32_t *day, const char **edition,
                       imb_limits *lim, int *free_edition) {
  const imb_segment *s = &m->segs[i];
  if (from_t) *from_t = s->from_t;
  if (day) *day = s->day;
  if (edition) *edition = s->edition;
  if (lim) *lim = s->lim;
  if (free_edition) *free_edition = s->free_edition;
}

imb_status imb_meter_set_limits(imb_meter *m, int i, const imb_limits *lim) {
  if (i < 0 || i >= m->nsegs) return IMB_ERANGE;
  m->segs[i].lim = *lim;
  return IMB_OK;
}

void imb_meter_set_activated(imb_meter *m, int32_t day) { m->activated = day; }
int32_t imb_meter_activated(const imb_meter *m) { return m->activated; }

/* ---- queries ----------------------------------------------------------- */

int64_t imb_meter_accounts(const imb_meter *m) { return m->accounts; }

int64_t imb_meter_dau(const imb_meter *m, int32_t day) {
  const imb_day *d = day_peek(m, day);
  return d ? d->dau : 0;
}

int64_t imb_meter_mau(const imb_meter *m, int32_t month) {
  uint32_t pos;
  const imb_month *r = month_find(m, month, &pos);
  return r ? r->mau : 0;
}

void imb_meter_groups(const imb_meter *m, int64_t by_type[IMB_G_COUNT], int64_t *total) {
  for (int i = 0; i < IMB_G_COUNT; i++) by_type[i] = m->gcount[i];
  *total = m->groups_total;
}

void imb_meter_month(const imb_meter *m, int32_t month, int64_t *dau, int64_t *groups, int64_t *mau) {
  int32_t first = imb_month_first_day(month);
  int len = imb_month_length(month);
  uint32_t pos;
  day_find(m, first, &pos);
  int64_t carried = 0;
  for (uint32_t i = pos; i-- > 0;) {
    if (m->days[i].has_groups) {
      carried = m->days[i].g_close;
      break;
    }
  }
  for (int k = 0; k < len; k++) {
    const imb_day *d = pos < m->ndays && m->days[pos].day == first + k ? &m->days[pos++] : NULL;
    dau[k] = d ? d->dau : 0;
    if (d && d->has_groups) {
      groups[k] = d->g_peak;
      carried = d->g_close;
    } else {
      groups[k] = carried;
    }
  }
  *mau = imb_meter_mau(m, month);
}

int64_t imb_meter_user_friends(const imb_meter *m, const char *u, size_t len) {
  uint32_t ix;
  if (!find_user(m, u, len, &ix)) return -1;
  return pool_get(m, m->users[ix].friends)->n;
}

int64_t imb_meter_user_groups(const imb_meter *m, const char *u, size_t len) {
  uint32_t ix;
  if (!find_user(m, u, len, &ix)) return -1;
  return pool_get(m, m->users[ix].groups)->n;
}

int64_t imb_meter_group_members(const imb_meter *m, const char *g, size_t len, imb_gtype *type) {
  uint32_t ix;
  if (!find_group(m, g, len, &ix) || !m->groups[ix].alive) return -1;
  if (type) *type = (imb_gtype)m->groups[ix].type;
  return m->groups[ix].members.n;
}

int imb_meter_has_account(const imb_meter *m, const char *u, size_t len) {
  uint32_t ix;
  return find_user(m, u, len, &ix) && account_of(m, ix);
}

int32_t imb_meter_last_day(const imb_meter *m) { return m->last_day; }
int32_t imb_meter_released_before(const imb_meter *m) { return m->released_before; }

/* ---- releasing old days ------------------------------------------------ */

imb_status imb_meter_release(imb_meter *m, int32_t day) {
  if (m->last_day == INT32_MIN || (int64_t)day > (int64_t)m->last_day - IMB_DEDUP_DAYS) return IMB_ERANGE;
  if (day <= m->released_before) return IMB_OK;
  /* ids are kept in an append-only table, so keep the young ones in a new one */
  imb_intern keep;
  int32_t *kday = NULL;
  uint32_t kcap = 0;
  imb_intern_init(&keep);
  for (uint32_t i = 0; i < m->eix.n; i++) {
    if (m->evday[i] < day) continue;
    size_t len;
    const char *s = imb_intern_str(&m->eix, i, &len);
    uint32_t ix;
    int created;
    if (imb_intern_get(&keep, s, len, &ix, &created) ||
        grow((void **)&kday, &kcap, keep.n, sizeof *kday)) {
      imb_intern_free(&keep);
      free(kday);
      return IMB_ENOMEM;
    }
    kday[ix] = m->evday[i];
  }
  imb_intern_free(&m->eix);
  free(m->evday);
  m->eix = keep;
  m->evday = kday;
  m->evcap = kcap;
  m->released_before = day;
  return IMB_OK;
}

void imb_meter_memory(const imb_meter *m, imb_meter_mem *o) {
  memset(o, 0, sizeof *o);
  o->users = m->uix.n;
  o->user_bytes = imb_intern_bytes(&m->uix) + (size_t)m->ucap * sizeof *m->users;
  for (uint32_t i = 0; i < m->npool; i++) o->user_bytes += imb_u32set_bytes(&m->pool[i]);
  o->user_bytes += (size_t)m->poolcap * sizeof *m->pool + (size_t)m->freecap * sizeof *m->freepool;
  o->groups = m->gix.n;
  o->group_bytes = imb_intern_bytes(&m->gix) + (size_t)m->gcap * sizeof *m->groups;
  for (uint32_t i = 0; i < m->gix.n; i++) o->group_bytes += imb_u32set_bytes(&m->groups[i].members);
  /* who was active when is in the users' entries (user_bytes): a user-day
   * costs nothing beyond its day's record */
  o->day_bytes = (size_t)m->daycap * sizeof *m->days;
  for (uint32_t i = 0; i < m->ndays; i++) o->user_days += (size_t)m->days[i].dau;
  o->month_bytes = (size_t)m->monthcap * sizeof *m->months;
  for (uint32_t i = 0; i < m->nmonths; i++) o->months += (size_t)m->months[i].mau;
  o->event_ids = m->eix.n;
  o->event_bytes = imb_intern_bytes(&m->eix) + (size_t)m->evcap * sizeof *m->evday;
  o->total = sizeof *m + o->user_bytes + o->group_bytes + o->day_bytes + o->month_bytes + o->event_bytes +
             (size_t)m->segcap * sizeof *m->segs;
}
