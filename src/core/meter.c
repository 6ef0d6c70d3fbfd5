/* The in-process store: exact counts in this process's memory.  Every action
 * is the plan of imb_plan_build() (plan.c), applied here the way every store
 * applies it (docs/store.md); this file holds no rule of its own.  Logins
 * without an event id take a specialised path with the same result. */
#include "meter_impl.h"
#include "activity.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int grow_slow(void **p, uint32_t *cap, uint32_t need, size_t elem) {
  uint64_t nc = *cap ? *cap : 8;
  while (nc < need) nc *= 2;
  if (nc > 0xFFFFFFFFu || nc * elem > (uint64_t)SIZE_MAX / 2) return -1;
  void *np = realloc(*p, (size_t)nc * elem);
  if (!np) return -1;
  *p = np;
  *cap = (uint32_t)nc;
  return 0;
}

/* Room for need elements.  The test is inline: the login loop asks for room
 * before every new day's record (a failure must add nothing), and nearly
 * always there is room. */
IMB_INLINE int grow(void **p, uint32_t *cap, uint32_t need, size_t elem) {
  return need <= *cap ? 0 : grow_slow(p, cap, need, elem);
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
  m->clock = INT64_MIN;
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
  for (uint32_t i = 0; i < m->ndays; i++) free(m->days[i].log);
  free(m->days);
  free(m->months);
  free(m->segs);
  imb_intern_free(&m->eix);
  free(m->evday);
  free(m);
}

int32_t imb_meter_offset(const imb_meter *m) { return m->offset; }
void imb_meter_set_clock(imb_meter *m, int64_t now) { m->clock = now; }

/* An edition id is 1 .. IMB_EDITION_MAXLEN bytes without NUL, as a saved
 * file's loader demands: a NUL would cut it short where it is read back as a
 * C string (imb_meter_segment), and a meter that took "" or "a\0b" saved a
 * file that no load would take. */
static int edition_id_ok(const char *edition, size_t elen) {
  return edition && elen > 0 && elen <= IMB_EDITION_MAXLEN && !memchr(edition, 0, elen);
}

/* Limits as a saved file's loader takes them: every bound -1 (unlimited) or
 * more, and only features that exist.  A meter holding others (-5 accounts,
 * every feature bit) would save a file that no load takes. */
static int limits_ok(const imb_limits *l) {
  const int64_t flat[] = {l->accounts,      l->friends_per_user, l->groups_per_user, l->av_groups,
                          l->non_av_groups, l->daily_net_groups, l->bchatroom_daily, l->bchatroom_total};
  for (size_t i = 0; i < sizeof flat / sizeof flat[0]; i++)
    if (flat[i] < IMB_UNLIMITED) return 0;
  for (int i = 0; i < IMB_G_COUNT; i++)
    if (l->members[i] < IMB_UNLIMITED) return 0;
  return (l->features >> IMB_F_COUNT) == 0;
}

/* Room for one more segment. */
static imb_status segs_reserve(imb_meter *m) {
  if (m->nsegs < m->segcap) return IMB_OK;
  uint32_t cap = (uint32_t)m->segcap;
  if (grow((void **)&m->segs, &cap, (uint32_t)m->nsegs + 1, sizeof *m->segs)) return IMB_ENOMEM;
  m->segcap = (int)cap;
  return IMB_OK;
}

imb_status imb_meter_add_segment(imb_meter *m, int64_t from_t, const char *edition, size_t elen,
                                 const imb_limits *lim, int free_edition) {
  if (!lim || !limits_ok(lim) || !edition_id_ok(edition, elen)) return IMB_ERANGE;
  if (segs_reserve(m)) return IMB_ENOMEM;
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
  /* the zones a saved file holds (its loader's rule): a meter at +15:00 or at
   * a second past a minute would save a file that no load takes */
  if (!out || !imb_tz_valid(offset)) return IMB_ERANGE;
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

/* The record arrays grow before an id is interned: an id interned without its
 * record would be an index past the array, read by every later call (and a
 * retry of the failed call would find the id and skip making the record). */
static imb_status user_ix(imb_meter *m, const char *s, size_t len, uint32_t *idx, int *created) {
  if (grow((void **)&m->users, &m->ucap, m->uix.n + 1, sizeof *m->users)) return IMB_ENOMEM;
  imb_status st = imb_intern_get(&m->uix, s, len, idx, created);
  if (st || !*created) return st;
  imb_user *u = &m->users[*idx];
  memset(u, 0, sizeof *u);
  return IMB_OK;
}

static imb_status group_ix(imb_meter *m, const char *s, size_t len, uint32_t *idx, int *created) {
  if (grow((void **)&m->groups, &m->gcap, m->gix.n + 1, sizeof *m->groups)) return IMB_ENOMEM;
  imb_status st = imb_intern_get(&m->gix, s, len, idx, created);
  if (st || !*created) return st;
  imb_group *g = &m->groups[*idx];
  memset(g, 0, sizeof *g);
  imb_u32set_init(&g->members);
  return IMB_OK;
}

imb_status imb_meter_user(imb_meter *m, const char *s, size_t len, uint32_t *idx) {
  int created;
  return user_ix(m, s, len, idx, &created);
}

imb_status imb_meter_group(imb_meter *m, const char *s, size_t len, uint32_t *idx) {
  int created;
  return group_ix(m, s, len, idx, &created);
}

static imb_status check_id(const char *s, size_t len);
static int find_user(const imb_meter *m, const char *s, size_t len, uint32_t *idx) {
  /* an id no event could have counted (NULL, empty, over IMB_ID_MAX) is
   * unknown, and none of its bytes is read */
  if (check_id(s, len)) return 0;
  return imb_intern_find(&m->uix, s, len, imb_hash_bytes(s, len), idx);
}

static int find_group(const imb_meter *m, const char *s, size_t len, uint32_t *idx) {
  if (check_id(s, len)) return 0;
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

imb_day *imb_meter_day_slow(imb_meter *m, int32_t day) {
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

imb_month *imb_meter_monthrec_slow(imb_meter *m, int32_t month) {
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
  /* room for its day first: an id interned without one would count as seen,
   * so the event's retry would be taken for a duplicate and never counted */
  if (grow((void **)&m->evday, &m->evcap, m->eix.n + 1, sizeof *m->evday)) return IMB_ENOMEM;
  imb_status st = imb_intern_get(&m->eix, id, len, &ix, &created);
  if (st) return st;
  m->evday[ix] = day;
  return IMB_OK;
}

/* ---- applying a plan ---------------------------------------------------- */

typedef struct ctx {
  uint32_t u, p, g;   /* user, peer, group indices */
  int has_g;
  const imb_plan *plan;
  int gtype;          /* the group's type before the plan (-1: no group) */
  int32_t gday;       /* and its creation day */
  int64_t gt;         /* and instant */
  const char *id;     /* the event id, or NULL */
  size_t idlen;
} ctx;

/* A user's activity as imb_activity, and back (the entry keeps it packed). */
static void activity_of(uint32_t w, uint64_t days, imb_activity *a) {
  a->last = w_last(w);
  a->months = (w >> MON_SHIFT) & MON_MASK;
  a->days = days;
  if (a->last == INT32_MIN) a->months = 0, a->days = 0;
}

static uint32_t activity_word(uint32_t w, const imb_activity *a) {
  w &= ~(LAST_MASK | (MON_MASK << MON_SHIFT));
  if (a->last != INT32_MIN) w |= (uint32_t)(a->last + DAY_BIAS) & LAST_MASK;
  return w | (a->months & MON_MASK) << MON_SHIFT;
}

/* Past the window a user's bitmaps no longer reach the day, so the login
 * cannot be decided exactly (IMB_LOGIN_LATE_DAYS). */
static int login_closed(const imb_meter *m, int32_t day) {
  return day < m->released_before ||
         (m->last_day != INT32_MIN && (int64_t)day + IMB_LOGIN_LATE_DAYS < (int64_t)m->last_day);
}

static uint32_t whose(const ctx *c, int32_t subject) {
  return subject == IMB_S_PEER ? c->p : subject == IMB_S_GROUP ? c->g : c->u;
}

static const imb_u32set *set_of(const imb_meter *m, const ctx *c, const imb_op *o) {
  if (o->key == IMB_K_MEMBERS) return &m->groups[c->g].members;
  const imb_user *u = &m->users[whose(c, o->subject)];
  return pool_get(m, o->key == IMB_K_JOINED ? u->groups : u->friends);
}

static int op_type(const ctx *c, const imb_op *o) { return o->gtype == IMB_GTYPE_OF_GROUP ? c->gtype : o->gtype; }

static int64_t value_of(const imb_meter *m, const ctx *c, const imb_op *o) {
  const imb_day *d = day_peek(m, c->plan->day);
  switch (o->key) {
  case IMB_K_ACCOUNT: return account_of(m, c->u);
  case IMB_K_ACCOUNTS: return m->accounts;
  case IMB_K_GROUP: return c->gtype < 0 ? 0 : 1 + c->gtype;
  case IMB_K_GROUP_T: return c->gtype < 0 ? 0 : m->groups[c->g].created_t;
  case IMB_K_GROUPS: return m->groups_total;
  case IMB_K_GROUPS_OF: return op_type(c, o) < 0 ? 0 : m->gcount[op_type(c, o)];
  case IMB_K_GROUPS_NON_AV: return m->groups_non_av;
  case IMB_K_DAY_NET: return d ? d->net : 0;
  case IMB_K_DAY_NET_SAME: return d ? d->net_same : 0;
  case IMB_K_DAY_BCHAT: return d ? d->bchat : 0;
  case IMB_K_DAU: return d ? d->dau : 0;
  case IMB_K_MAU: return imb_meter_mau(m, c->plan->month);
  case IMB_K_LAST_DAY: return m->last_day;
  case IMB_K_RELEASED: return m->released_before;
  default: return 0;
  }
}

/* Whether a guard fails on the meter as it is, with the value it judged and
 * the bound it used. */
static int fails(const imb_meter *m, const ctx *c, const imb_op *o, int64_t *cur, int64_t *bound) {
  int64_t v, sum;
  *bound = o->bound;
  switch (o->kind) {
  case IMB_OP_EQ: return (*cur = value_of(m, c, o)) != o->arg;
  case IMB_OP_NE: return (*cur = value_of(m, c, o)) == o->arg;
  case IMB_OP_LE: return (*cur = value_of(m, c, o)) > o->arg;
  case IMB_OP_GE: v = *cur = value_of(m, c, o); return v != IMB_NO_DAY && v < o->arg;
  case IMB_OP_HAS: return !imb_u32set_has(set_of(m, c, o), whose(c, o->member));
  case IMB_OP_LACKS: return imb_u32set_has(set_of(m, c, o), whose(c, o->member));
  case IMB_OP_FRESH: return c->id && seen(m, c->id, c->idlen);
  case IMB_OP_COUNTED: {
    const imb_user *u = &m->users[whose(c, o->subject)];
    *cur = account_of(m, whose(c, o->subject));
    return !*cur && pool_get(m, u->groups)->n == 0 && pool_get(m, u->friends)->n == 0;
  }
  case IMB_OP_ADD:
    if (o->fail == IMB_FAIL_NONE || o->bound == IMB_UNLIMITED) return 0;
    v = *cur = value_of(m, c, o);
    return __builtin_add_overflow(v, o->arg, &sum) || sum > o->bound;
  case IMB_OP_SADD:
    if (o->fail == IMB_FAIL_NONE) return 0;
    if (o->by_type) *bound = c->gtype < 0 ? IMB_UNLIMITED : c->plan->by_type[c->gtype];
    if (*bound == IMB_UNLIMITED) return 0;
    *cur = set_of(m, c, o)->n;
    return *cur >= *bound;
  default: return 0;
  }
}

static int applies(const imb_meter *m, const ctx *c, const imb_op *o) {
  switch (o->when) {
  case IMB_W_GROUP_NON_AV: return c->gtype >= 0 && !imb_gtype_is_av(c->gtype);
  case IMB_W_GROUP_TODAY: return c->gtype >= 0 && c->gt >= c->plan->day_start;
  case IMB_W_USER_ACCOUNT: return account_of(m, c->u) != 0;
  default: return 1;
  }
}

/* The net group count moved by `delta` on day d: the day's own counts, and
 * every later day's (the group existed, or not, through all of them). */
static void groups_moved(imb_meter *m, imb_day *d, int64_t delta) {
  d->g_close += delta;
  if (d->legacy && d->g_close > d->g_peak) d->g_peak = d->g_close;
  for (imb_day *e = d + 1; e < m->days + m->ndays; e++) {
    if (!e->has_groups) continue;
    e->g_open += delta;
    e->g_peak += delta;
    e->g_close += delta;
  }
  m->groups_total += delta;
}

/* The peak in time order: the count carried in, then the log's running sums
 * (entries kept sorted by imb_day_peak's order). */
static void day_repeak(imb_day *d) {
  int64_t run = d->g_open, best = d->g_open;
  for (uint32_t i = 0; i < d->nlog; i++) {
    run += d->log[i].delta;
    if (run > best) best = run;
  }
  d->g_peak = best;
}

static int entry_before(const imb_gentry *a, int64_t t, int64_t delta) {
  return a->t < t || (a->t == t && a->delta <= delta);
}

/* Inserts into a log with room for one more (reserved beforehand). */
static void log_insert(imb_day *d, int64_t t, int64_t delta) {
  uint32_t lo = 0, hi = d->nlog;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (entry_before(&d->log[mid], t, delta)) lo = mid + 1;
    else hi = mid;
  }
  memmove(&d->log[lo + 1], &d->log[lo], (size_t)(d->nlog - lo) * sizeof *d->log);
  d->log[lo].t = t;
  d->log[lo].delta = delta;
  d->nlog++;
  if (lo + 1 == d->nlog) {
    /* in time order, the usual case: the new close may be the new peak */
    if (d->g_close > d->g_peak) d->g_peak = d->g_close;
  } else {
    day_repeak(d);
  }
}

/* A day that gets its first group change starts with the count carried in:
 * the close of the latest earlier day with group activity. */
static imb_status day_groups_open(imb_meter *m, imb_day *d) {
  if (d->has_groups) return IMB_OK;
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
  return IMB_OK;
}

static void cascade_group(imb_meter *m, uint32_t gi) {
  imb_group *g = &m->groups[gi];
  for (uint32_t i = 0; i < g->members.cap; i++) {
    uint32_t x = g->members.slot[i];
    if (!x) continue;
    imb_user *u = &m->users[x - 1];
    if (u->groups) imb_u32set_del(&m->pool[u->groups - 1], gi);
  }
  imb_u32set_free(&g->members);
}

/* id deleted: its memberships and friendships end with it, whether or not
 * its account was counted, so an id created again starts as a new account */
static void cascade_user(imb_meter *m, uint32_t ui) {
  imb_user *u = &m->users[ui];
  if (u->groups) {
    imb_u32set *s = &m->pool[u->groups - 1];
    for (uint32_t i = 0; i < s->cap; i++)
      if (s->slot[i]) imb_u32set_del(&m->groups[s->slot[i] - 1].members, ui);
    pool_release(m, &u->groups);
  }
  if (u->friends) {
    imb_u32set *s = &m->pool[u->friends - 1];
    for (uint32_t i = 0; i < s->cap; i++) {
      if (!s->slot[i]) continue;
      imb_user *f = &m->users[s->slot[i] - 1];
      if (f->friends) imb_u32set_del(&m->pool[f->friends - 1], ui);
    }
    pool_release(m, &u->friends);
  }
}

static int day_key(int32_t key) {
  return key == IMB_K_DAY_NET || key == IMB_K_DAY_NET_SAME || key == IMB_K_DAY_BCHAT || key == IMB_K_DAU ||
         key == IMB_K_GROUPS || key == IMB_K_GROUP_LOG || key == IMB_K_ACTIVITY;
}

/* A call that fails takes back the day and month records it added, still
 * empty: a failed call leaves the meter as it was. */
static void records_unmade(imb_meter *m, int32_t day, int32_t month, uint32_t ndays0, uint32_t nmonths0) {
  uint32_t pos;
  imb_day *d;
  imb_month *r;
  if (m->ndays > ndays0 && (d = day_find(m, day, &pos))) {
    free(d->log);
    memmove(d, d + 1, (size_t)(m->ndays - pos - 1) * sizeof *d);
    m->ndays--;
    m->daycache = 0;
  }
  if (m->nmonths > nmonths0 && (r = month_find(m, month, &pos))) {
    memmove(r, r + 1, (size_t)(m->nmonths - pos - 1) * sizeof *r);
    m->nmonths--;
    m->monthcache = 0;
  }
}

/* The effects of a plan whose guards passed, in two phases so that running
 * out of memory leaves the meter as it was: first everything that allocates
 * (records, set insertions, room in the day's log, the event id), undone on
 * failure; then the counts, which cannot fail.  on[] marks the effects whose
 * condition held before the plan. */
static imb_status effects(imb_meter *m, ctx *c, const unsigned char *on) {
  const imb_plan *p = c->plan;
  /* the sets added to, by pool ref (0: the group's members), not by pointer:
   * a later set's creation may move the pool, and a pointer kept from before
   * would take the member out of a freed copy, leaving the set's count one
   * above its members */
  uint32_t added[4];
  uint32_t addv[4];
  int nadded = 0;
  imb_day *d = NULL;
  imb_month *mo = NULL;
  uint32_t ndays0 = m->ndays, nmonths0 = m->nmonths;
  for (int i = 0; i < p->nops; i++) {
    const imb_op *o = &p->op[i];
    if (!on[i]) continue;
    if (day_key(o->key) && !d && !(d = imb_meter_day(m, p->day))) goto nomem;
    if (o->kind == IMB_OP_MARK && !(mo = imb_meter_monthrec(m, p->month))) goto nomem;
    /* only room here: the day opens its group counts in the second phase, so
     * a failure leaves no day marked with group activity it never had (a
     * file no load would take) */
    if (o->kind == IMB_OP_LOG && !d->legacy && d->nlog == d->logcap &&
        grow((void **)&d->log, &d->logcap, d->nlog + 1, sizeof *d->log))
      goto nomem;
    if (o->kind != IMB_OP_SADD) continue;
    imb_u32set *s;
    uint32_t ref = 0;
    if (o->key == IMB_K_MEMBERS) {
      s = &m->groups[c->g].members;
    } else {
      /* the pool may move when a set is created: take the pointer after */
      imb_user *u = &m->users[whose(c, o->subject)];
      if (!imb_meter_pool_set(m, o->key == IMB_K_JOINED ? &u->groups : &u->friends)) goto nomem;
      ref = o->key == IMB_K_JOINED ? u->groups : u->friends;
      s = &m->pool[ref - 1];
    }
    uint32_t v = whose(c, o->member);
    int fresh = imb_u32set_add(s, v);
    if (fresh < 0) goto nomem;
    /* a member already there is not taken out again on failure */
    if (fresh) {
      added[nadded] = ref;
      addv[nadded++] = v;
    }
  }
  /* a counted event always has its id remembered, and an id is remembered
   * only for an event counted */
  if (c->id && imb_meter_remember(m, c->id, c->idlen, p->day)) goto nomem;

  for (int i = 0; i < p->nops; i++) {
    const imb_op *o = &p->op[i];
    if (!on[i]) continue;
    int64_t a = o->arg;
    switch (o->kind) {
    case IMB_OP_SET:
      if (o->key == IMB_K_ACCOUNT) set_account(m, c->u, a != 0);
      else if (o->key == IMB_K_GROUP) {
        m->groups[c->g].alive = a != 0;
        if (a) m->groups[c->g].type = (uint8_t)(a - 1);
      } else if (o->key == IMB_K_GROUP_T) {
        /* the meter also keeps the day, for its file and its peaks */
        m->groups[c->g].created_t = a;
        m->groups[c->g].created_day = p->day;
      }
      break;
    case IMB_OP_ADD:
      switch (o->key) {
      case IMB_K_ACCOUNTS: m->accounts += a; break;
      case IMB_K_GROUPS: day_groups_open(m, d); groups_moved(m, d, a); break;
      case IMB_K_GROUPS_OF: m->gcount[op_type(c, o)] += a; break;
      case IMB_K_GROUPS_NON_AV: m->groups_non_av += a; break;
      case IMB_K_DAY_NET: d->net += a; break;
      case IMB_K_DAY_NET_SAME: d->net_same += a; break;
      case IMB_K_DAY_BCHAT: d->bchat += a; break;
      default: break;
      }
      break;
    case IMB_OP_MAX:
      if (o->key == IMB_K_LAST_DAY && a > m->last_day) m->last_day = (int32_t)a;
      break;
    case IMB_OP_SREM:
      if (o->key == IMB_K_MEMBERS) imb_u32set_del(&m->groups[c->g].members, whose(c, o->member));
      else {
        const imb_user *u = &m->users[whose(c, o->subject)];
        uint32_t ref = o->key == IMB_K_JOINED ? u->groups : u->friends;
        if (ref) imb_u32set_del(&m->pool[ref - 1], whose(c, o->member));
      }
      break;
    case IMB_OP_LOG:
      /* the day's creates and disbands, as the file keeps them: a disband of
       * a group created that day also counts as a same-day one */
      day_groups_open(m, d);
      if (a > 0) d->created += a;
      else {
        d->disbanded -= a;
        if (c->gtype >= 0 && c->gday == p->day) d->disbanded_same -= a;
      }
      if (!d->legacy) log_insert(d, p->t, a);
      break;
    case IMB_OP_MARK: {
      uint32_t at = imb_intern_at(&m->uix, c->u), w;
      uint64_t days;
      imb_activity act;
      int dn, mn;
      ust_read(m, at, &w, &days);
      activity_of(w, days, &act);
      /* the window guard passed: the day is within the user's bitmaps */
      int32_t mfirst = imb_month_first_day(p->month);
      if (imb_activity_mark_i(&act, p->day, p->month, mfirst, mfirst + imb_month_length(p->month), &dn, &mn) ==
          IMB_OK) {
        ust_write(m, at, activity_word(w, &act), act.days);
        d->dau += dn;
        mo->mau += mn;
      }
      break;
    }
    case IMB_OP_CASCADE_USER: cascade_user(m, c->u); break;
    case IMB_OP_CASCADE_GROUP: cascade_group(m, c->g); break;
    default: break;
    }
  }
  return IMB_OK;
nomem:
  while (nadded--)
    imb_u32set_del(added[nadded] ? &m->pool[added[nadded] - 1] : &m->groups[c->g].members, addv[nadded]);
  records_unmade(m, p->day, p->month, ndays0, nmonths0);
  return IMB_ENOMEM;
}

static imb_status check_id(const char *s, size_t len) {
  return s && len >= 1 && len <= IMB_ID_MAX ? IMB_OK : IMB_ERANGE;
}

/* Judges one part's guards on the meter as it is: IMB_APPLIED with on[]
 * marking the effects whose condition holds, or the outcome of its first
 * failing guard (with *r filled for a refusal). */
static imb_result judge(const imb_meter *m, const ctx *c, unsigned char *on, imb_refusal *r) {
  const imb_plan *p = c->plan;
  for (int i = 0; i < p->nops; i++) {
    const imb_op *o = &p->op[i];
    int64_t cur = 0, bound = IMB_UNLIMITED;
    if (fails(m, c, o, &cur, &bound)) {
      if (o->fail == IMB_FAIL_DUPLICATE) return IMB_DUPLICATE;
      if (o->fail == IMB_FAIL_NOOP) return IMB_UNCHANGED;
      if (r) {
        memset(r, 0, sizeof *r);
        r->code = o->code;
        r->limit = o->limit;
        r->max = bound;
        r->current = cur;
        r->peer = o->subject == IMB_S_PEER;
        if (o->code == IMB_R_CLOSED || o->code == IMB_R_FUTURE || bound == IMB_UNLIMITED) r->max = IMB_UNLIMITED;
      }
      return IMB_REFUSED;
    }
    on[i] = (unsigned char)applies(m, c, o);
  }
  return IMB_APPLIED;
}

/* An action processed, changing nothing: a replay of it is a duplicate, and
 * its day counts as reached. */
static imb_status unchanged(imb_meter *m, const ctx *c) {
  imb_status st;
  if (c->id && (st = imb_meter_remember(m, c->id, c->idlen, c->plan->day))) return st;
  if (c->plan->day > m->last_day) m->last_day = c->plan->day;
  return IMB_OK;
}

/* The ids one call interned, taken back when it fails: the users (the peer
 * after the user) and the group. */
typedef struct made_ids {
  int u, p, g;
} made_ids;

static imb_status unmake(imb_meter *m, const made_ids *k, imb_status st) {
  if (k->p) imb_intern_pop(&m->uix);
  if (k->u) imb_intern_pop(&m->uix);
  if (k->g) {
    imb_u32set_free(&m->groups[m->gix.n - 1].members);
    imb_intern_pop(&m->gix);
  }
  return st;
}

imb_status imb_meter_apply(imb_meter *m, const imb_event *ev, imb_result *res, imb_refusal *r) {
  imb_plan plan[IMB_PARTS_MAX], all;
  int32_t parts[IMB_PARTS_MAX];
  imb_status st;
  ctx c;
  memset(&c, 0, sizeof c);
  if (!m || !ev || !res || (unsigned)ev->kind >= IMB_A_COUNT) return IMB_ERANGE;
  int group_kind = ev->kind == IMB_A_CREATE_GROUP || ev->kind == IMB_A_DISBAND_GROUP || ev->kind == IMB_A_JOIN ||
                   ev->kind == IMB_A_LEAVE;
  int friend_kind = ev->kind == IMB_A_ADD_FRIEND || ev->kind == IMB_A_REMOVE_FRIEND ||
                    ev->kind == IMB_A_ADD_FRIEND_ONE_WAY || ev->kind == IMB_A_REMOVE_FRIEND_ONE_WAY ||
                    ev->kind == IMB_A_ADD_FRIEND_BACK || ev->kind == IMB_A_REMOVE_FRIEND_BACK;
  int two = ev->kind == IMB_A_JOIN || ev->kind == IMB_A_LEAVE || friend_kind;
  if (check_id(ev->a, ev->alen) || (two && check_id(ev->b, ev->blen)) || (ev->id && check_id(ev->id, ev->idlen)))
    return IMB_ERANGE;
  if (friend_kind && ev->alen == ev->blen && memcmp(ev->a, ev->b, ev->alen) == 0) return IMB_ERANGE;
  if ((st = imb_instant_check(ev->t))) return st;
  int np = imb_action_parts(ev->kind, parts);
  for (int j = 0; j < np; j++) {
    st = imb_plan_build(&segment_at(m, ev->t)->lim, parts[j], ev->gtype, ev->t, m->offset, ev->id != NULL, m->clock,
                        &plan[j]);
    if (st) return st;
  }
  /* a refusal before any count is read is the same for every part */
  if (plan[0].refused) {
    *res = IMB_REFUSED;
    if (r) *r = plan[0].refusal;
    return IMB_OK;
  }
  c.id = ev->id;
  c.idlen = ev->idlen;
  c.gtype = -1;
  /* the ids an action names are interned to judge it; a call that counts
   * nothing for them (refused, a duplicate, unchanged, or out of memory)
   * takes back the ones it added, so events that are refused, however many,
   * hold no memory (an index is forever once something refers to it) */
  made_ids made = {0, 0, 0};
  if (group_kind) {
    if ((st = group_ix(m, ev->a, ev->alen, &c.g, &made.g))) return st;
    c.has_g = 1;
    if (m->groups[c.g].alive) {
      c.gtype = m->groups[c.g].type;
      c.gday = m->groups[c.g].created_day;
      c.gt = m->groups[c.g].created_t;
    }
    if (two && (st = user_ix(m, ev->b, ev->blen, &c.u, &made.u))) return unmake(m, &made, st);
  } else {
    if ((st = user_ix(m, ev->a, ev->alen, &c.u, &made.u))) return st;
    if (two && (st = user_ix(m, ev->b, ev->blen, &c.p, &made.p))) return unmake(m, &made, st);
  }
  /* every part is judged on the meter before the action (the parts' sets
   * are each other's only in their member), then the effects of those that
   * change something are applied as one plan, so memory running out leaves
   * the whole action undone */
  unsigned char on[IMB_PLAN_MAX], part_on[IMB_PLAN_MAX];
  if (np == 1) {
    c.plan = &plan[0];
    imb_result pr = judge(m, &c, on, r);
    if (pr == IMB_APPLIED && (st = effects(m, &c, on))) return unmake(m, &made, st);
    if (pr == IMB_UNCHANGED && (st = unchanged(m, &c))) return unmake(m, &made, st);
    *res = pr;
    return pr == IMB_APPLIED ? IMB_OK : unmake(m, &made, IMB_OK);
  }
  int changed = 0;
  all = plan[0];
  all.nops = 0;
  for (int j = 0; j < np; j++) {
    c.plan = &plan[j];
    imb_result pr = judge(m, &c, part_on, r);
    if (pr == IMB_DUPLICATE || pr == IMB_REFUSED) {
      *res = pr;
      return unmake(m, &made, IMB_OK);
    }
    if (pr == IMB_UNCHANGED) continue;
    changed = 1;
    for (int i = 0; i < plan[j].nops; i++) {
      on[all.nops] = part_on[i];
      all.op[all.nops++] = plan[j].op[i];
    }
  }
  if (!changed) {
    if ((st = unchanged(m, &c))) return unmake(m, &made, st);
    *res = IMB_UNCHANGED;
    return unmake(m, &made, IMB_OK);
  }
  c.plan = &all;
  if ((st = effects(m, &c, on))) return unmake(m, &made, st);
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

static void refuse_login(imb_result *res, imb_refusal *r, int32_t code, int32_t limit) {
  *res = IMB_REFUSED;
  if (r) {
    memset(r, 0, sizeof *r);
    r->code = code;
    r->limit = limit;
    r->max = IMB_UNLIMITED;
  }
}

/* The login plan of imb_plan_build, specialised: the same guards (future,
 * released, the login window) and the same effect (imb_activity_mark),
 * without building a plan: logins read no limit (paid editions never refuse
 * one and free ones enforce only accounts), so no segment is looked up
 * either.  spec/meter_property_spec.lua checks this against the generic path
 * (a login with an event id goes through imb_meter_apply) on random streams. */
IMB_INLINE imb_status login_fast(imb_meter *m, uint32_t at, uint32_t w, uint64_t days, int32_t day, imb_result *res,
                             imb_refusal *r) {
  if (m->clock == INT64_MIN && m->last_day != INT32_MIN && (int64_t)day - IMB_FUTURE_DAYS > m->last_day) {
    refuse_login(res, r, IMB_R_FUTURE, IMB_L_FUTURE);
    return IMB_OK;
  }
  if (login_closed(m, day)) {
    refuse_login(res, r, IMB_R_CLOSED, IMB_L_DAY_OPEN);
    return IMB_OK;
  }
  if (day != m->lcache_day) {
    m->lcache_day = day;
    m->lcache_month = imb_month_of_day(day);
    m->lcache_first = imb_month_first_day(m->lcache_month);
    m->lcache_end = m->lcache_first + imb_month_length(m->lcache_month);
  }
  imb_activity a;
  int dnew, mnew;
  activity_of(w, days, &a);
  if (imb_activity_mark_i(&a, day, m->lcache_month, m->lcache_first, m->lcache_end, &dnew, &mnew)) {
    /* unreachable: an open day is within the window of every user */
    refuse_login(res, r, IMB_R_CLOSED, IMB_L_DAY_OPEN);
    return IMB_OK;
  }
  /* a user active on the day and in the month has both records already */
  if (dnew || mnew) {
    /* room for both records before either is added: a failure adds neither */
    if (grow((void **)&m->days, &m->daycap, m->ndays + 1, sizeof *m->days) ||
        grow((void **)&m->months, &m->monthcap, m->nmonths + 1, sizeof *m->months))
      return IMB_ENOMEM;
    imb_day *d = imb_meter_day(m, day);
    imb_month *mo = d ? imb_meter_monthrec(m, m->lcache_month) : NULL;
    if (!mo) return IMB_ENOMEM;
    d->dau += dnew;
    mo->mau += mnew;
    ust_write(m, at, activity_word(w, &a), a.days);
  }
  if (day > m->last_day) m->last_day = day;
  *res = IMB_APPLIED;
  return IMB_OK;
}

IMB_INLINE imb_status login_one(imb_meter *m, const char *user, size_t len, uint64_t h, int64_t t, imb_result *res,
                            imb_refusal *r) {
  int32_t day;
  uint32_t ix, at, w;
  uint64_t days;
  /* t is a calendar instant: both callers checked it (the batch in its first
   * pass, so that a bad element counts nothing) */
  if (day_of_cached(m, t, &day)) return IMB_ERANGE;
  if (m->clock != INT64_MIN && m->clock < t - IMB_CLOCK_AHEAD) {
    refuse_login(res, r, IMB_R_FUTURE, IMB_L_FUTURE);
    return IMB_OK;
  }
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
  if (grow((void **)&m->users, &m->ucap, m->uix.n + 1, sizeof *m->users)) return IMB_ENOMEM;
  imb_status st = imb_intern_add(&m->uix, user, len, h, &ix, &at);
  if (st) return st;
  memset(&m->users[ix], 0, sizeof *m->users);
  st = login_fast(m, at, 0, 0, day, res, r);
  /* a login that failed or was refused adds no user */
  if (st || *res != IMB_APPLIED) imb_intern_pop(&m->uix);
  return st;
}

imb_status imb_meter_login(imb_meter *m, const char *user, size_t len, int64_t t, imb_result *res,
                           imb_refusal *r) {
  if (!m || !res || check_id(user, len) || imb_instant_check(t)) return IMB_ERANGE;
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
                            size_t *counted, size_t *bad) {
  uint64_t h[RING];
  size_t done = 0;
  if (!m || !counted || !bad || (n && (!users || !lens || !ts))) return IMB_ERANGE;
  *counted = 0;
  /* every element first, in one sequential pass: a bad one anywhere counts
   * nothing, so a caller never has to know how much of a batch went in */
  for (size_t i = 0; i < n; i++) {
    if (check_id(users[i], lens[i]) || !imb_instant_in_calendar(ts[i])) {
      *bad = i;
      return IMB_ERANGE;
    }
  }
  for (size_t i = 0; i < n + AHEAD; i++) {
    if (i < n) {
      h[i & (RING - 1)] = imb_hash_i(users[i], lens[i]);
      imb_intern_prefetch_slot_i(&m->uix, h[i & (RING - 1)]);
    }
    if (i >= AHEAD / 2 && i - AHEAD / 2 < n) imb_intern_prefetch_entry_i(&m->uix, h[(i - AHEAD / 2) & (RING - 1)]);
    if (i >= AHEAD && i - AHEAD < n) {
      size_t k = i - AHEAD;
      imb_result res;
      imb_status st = login_one(m, users[k], lens[k], h[k & (RING - 1)], ts[k], &res, NULL);
      if (st) {
        *counted = done;
        *bad = k;
        return st;
      }
      if (res == IMB_APPLIED) done++;
    }
  }
  *counted = done;
  return IMB_OK;
}

/* ---- editions ---------------------------------------------------------- */

static int same_edition(const imb_segment *s, const char *e, size_t elen) {
  return strlen(s->edition) == elen && memcmp(s->edition, e, elen) == 0;
}

/* The meter's history as the policy reads it: editions numbered by their
 * first segment. */
static int edition_number(const imb_meter *m, const char *e, size_t elen) {
  for (int i = 0; i < m->nsegs; i++)
    if (same_edition(&m->segs[i], e, elen)) return i;
  return m->nsegs;
}

imb_status imb_meter_change(imb_meter *m, const imb_policy *p, int64_t t, const char *edition, size_t elen,
                            const imb_limits *lim, int is_free, imb_change_verdict *verdict) {
  return imb_meter_change_id(m, p, t, edition, elen, lim, is_free, NULL, 0, verdict);
}

imb_status imb_meter_change_id(imb_meter *m, const imb_policy *p, int64_t t, const char *edition, size_t elen,
                               const imb_limits *lim, int is_free, const char *id, size_t idlen,
                               imb_change_verdict *verdict) {
  int32_t day;
  if (!m || !p || !lim || !verdict || imb_instant_check(t) || imb_day_of(t, m->offset, &day)) return IMB_ERANGE;
  if (!edition_id_ok(edition, elen) || !limits_ok(lim) || (id && check_id(id, idlen))) return IMB_ERANGE;
  /* the bounds every event meets (imb_plan_build's order): a change dated far
   * after the clock or after everything counted is a sender's clock error,
   * which must not take the edition history out of reach of every real
   * change; a change on a released day would rewrite a month that is final */
  if (m->clock != INT64_MIN && m->clock < t - IMB_CLOCK_AHEAD) { /* t is a calendar instant */
    *verdict = IMB_CH_FUTURE;
    return IMB_OK;
  }
  /* an event id seen before is a duplicate, as for every other event (the
   * ids are one set: a change cannot reuse an account's id, nor the reverse) */
  if (id && seen(m, id, idlen)) {
    *verdict = IMB_CH_DUPLICATE;
    return IMB_OK;
  }
  /* the same change again, however late it arrives, is a duplicate */
  for (int i = 1; i < m->nsegs; i++) {
    if (m->segs[i].from_t == t && same_edition(&m->segs[i], edition, elen)) {
      *verdict = IMB_CH_DUPLICATE;
      return IMB_OK;
    }
  }
  if (m->clock == INT64_MIN && m->last_day != INT32_MIN && (int64_t)day - IMB_FUTURE_DAYS > (int64_t)m->last_day) {
    *verdict = IMB_CH_FUTURE;
    return IMB_OK;
  }
  if (day < m->released_before) {
    *verdict = IMB_CH_CLOSED;
    return IMB_OK;
  }
  const imb_segment *last = &m->segs[m->nsegs - 1];
  if (t < last->from_t && !same_edition(last, edition, elen)) {
    *verdict = IMB_CH_BACKWARDS;
    return IMB_OK;
  }
  imb_span spans[2], to;
  int n = m->nsegs > 1 ? 2 : 1;
  /* the policy reads the edition in force and whether the app changed before */
  spans[0].from = IMB_NO_DAY;
  spans[0].edition = 0;
  spans[0].is_free = m->segs[0].free_edition;
  spans[0].monthly_fee = 0;
  spans[n - 1].from = m->nsegs > 1 ? last->day : IMB_NO_DAY;
  spans[n - 1].edition = edition_number(m, last->edition, strlen(last->edition));
  spans[n - 1].is_free = last->free_edition;
  spans[n - 1].monthly_fee = 0;
  to.from = day;
  to.edition = edition_number(m, edition, elen);
  to.is_free = is_free != 0;
  to.monthly_fee = 0;
  *verdict = imb_change_check(p, spans, n, m->activated, day, &to);
  if (*verdict) return IMB_OK;
  int was_free = last->free_edition; /* last moves when the segments grow */
  /* room for the segment first, so that once the id is remembered adding it
   * cannot fail: a change is applied with its id or not at all */
  if (segs_reserve(m)) return IMB_ENOMEM;
  if (id) {
    imb_status st = imb_meter_remember(m, id, idlen, day);
    if (st) return st;
    /* a remembered id belongs to a day the meter has reached, as any
     * counted event's does (a saved file holds no id after its last day) */
    if (day > m->last_day) m->last_day = day;
  }
  imb_status st = imb_meter_add_segment(m, t, edition, elen, lim, is_free);
  if (st) return st;
  /* the first change from a free edition to a paid one is the first paid
   * activation, unless the app ran a paid edition before (a meter started
   * on one): then the activation is older than the meter */
  if (m->activated == INT32_MIN && !is_free && was_free && m->segs[0].free_edition) m->activated = day;
  return IMB_OK;
}

int imb_meter_segments(const imb_meter *m) { return m->nsegs; }

void imb_meter_segment(const imb_meter *m, int i, int64_t *from_t, int32_t *day, const char **edition,
                       imb_limits *lim, int *is_free) {
  /* outside 0 .. imb_meter_segments() - 1 nothing is read or written */
  if (!m || i < 0 || i >= m->nsegs) return;
  const imb_segment *s = &m->segs[i];
  if (from_t) *from_t = s->from_t;
  if (day) *day = s->day;
  if (edition) *edition = s->edition;
  if (lim) *lim = s->lim;
  if (is_free) *is_free = s->free_edition;
}

imb_status imb_meter_set_limits(imb_meter *m, int i, const imb_limits *lim) {
  if (!m || !lim || !limits_ok(lim) || i < 0 || i >= m->nsegs) return IMB_ERANGE;
  m->segs[i].lim = *lim;
  return IMB_OK;
}

void imb_meter_set_activated(imb_meter *m, int32_t day) {
  /* a day outside the calendar is no activation a saved file holds: ignored */
  if (day == IMB_NO_DAY || (day >= IMB_DAY_MIN && day <= IMB_DAY_MAX)) m->activated = day;
}
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
  for (int i = 0; by_type && i < IMB_G_COUNT; i++) by_type[i] = m->gcount[i];
  if (total) *total = m->groups_total;
}

imb_status imb_meter_month(const imb_meter *m, int32_t month, int64_t *dau, int64_t *groups, int64_t *mau) {
  if (!m || !dau || !groups || !mau || !imb_month_in_calendar(month)) return IMB_ERANGE;
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
  for (int k = len; k < 31; k++) dau[k] = groups[k] = 0;
  *mau = imb_meter_mau(m, month);
  return IMB_OK;
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

int64_t imb_meter_group_members(const imb_meter *m, const char *g, size_t len, int32_t *type) {
  uint32_t ix;
  if (!find_group(m, g, len, &ix) || !m->groups[ix].alive) return -1;
  if (type) *type = m->groups[ix].type;
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
  if (!m || m->last_day == INT32_MIN || (int64_t)day > (int64_t)m->last_day - IMB_DEDUP_DAYS) return IMB_ERANGE;
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
  /* a released day takes no more events: its peak is final, its log idle */
  for (uint32_t i = 0; i < m->ndays && m->days[i].day < day; i++) {
    free(m->days[i].log);
    m->days[i].log = NULL;
    m->days[i].nlog = m->days[i].logcap = 0;
  }
  m->released_before = day;
  return IMB_OK;
}

void imb_meter_memory(const imb_meter *m, imb_meter_mem *o) {
  if (!o) return;
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
  for (uint32_t i = 0; i < m->ndays; i++) o->day_bytes += (size_t)m->days[i].logcap * sizeof *m->days[i].log;
  for (uint32_t i = 0; i < m->ndays; i++) o->user_days += (size_t)m->days[i].dau;
  o->month_bytes = (size_t)m->monthcap * sizeof *m->months;
  for (uint32_t i = 0; i < m->nmonths; i++) o->months += (size_t)m->months[i].mau;
  o->event_ids = m->eix.n;
  o->event_bytes = imb_intern_bytes(&m->eix) + (size_t)m->evcap * sizeof *m->evday;
  o->total = sizeof *m + o->user_bytes + o->group_bytes + o->day_bytes + o->month_bytes + o->event_bytes +
             (size_t)m->segcap * sizeof *m->segs;
}
