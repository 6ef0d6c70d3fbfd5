/* Saving and loading the in-process store.
 *
 * File: a 32-byte header, then the body.
 *   0  "IMBMETER"        magic, so a foreign file is told apart at once
 *   8  u32 version (2; version 1 kept a set of users per day and month)
 *  12  u32 header length (32)
 *  16  u64 body length   (a truncated file fails here)
 *  24  u64 FNV-1a 64 of the body (a flipped byte fails here)
 * All integers little-endian.  The body lists ids, set members and each user's
 * activity bitmaps; hashes and derived counters are rebuilt on load, so a file never depends on the hash
 * function or on the table sizes of the process that wrote it.
 *
 * Saving writes a temporary file beside the target, fsyncs it and renames it
 * over the target, so a crash at any point leaves the previous file whole.
 * Loading checks the header and checksum before reading anything, builds a new
 * meter and discards it at the first inconsistency: never a half-loaded meter. */
#include "meter_impl.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "IMBMETER"
#define VERSION 2u
#define HEADER 32u

/* ---- writing ----------------------------------------------------------- */

typedef struct buf {
  unsigned char *p;
  size_t len, cap;
  int failed;
} buf;

static void put(buf *b, const void *src, size_t n) {
  if (b->failed) return;
  if (b->len + n > b->cap) {
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->len + n) {
      if (nc > SIZE_MAX / 2) {
        b->failed = 1;
        return;
      }
      nc *= 2;
    }
    unsigned char *np = realloc(b->p, nc);
    if (!np) {
      b->failed = 1;
      return;
    }
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->len, src, n);
  b->len += n;
}

static void put_u64(buf *b, uint64_t v) {
  unsigned char x[8];
  for (int i = 0; i < 8; i++) x[i] = (unsigned char)(v >> (8 * i));
  put(b, x, 8);
}
static void put_u32(buf *b, uint32_t v) {
  unsigned char x[4];
  for (int i = 0; i < 4; i++) x[i] = (unsigned char)(v >> (8 * i));
  put(b, x, 4);
}
static void put_u8(buf *b, unsigned v) {
  unsigned char x = (unsigned char)v;
  put(b, &x, 1);
}
static void put_i64(buf *b, int64_t v) { put_u64(b, (uint64_t)v); }
static void put_i32(buf *b, int32_t v) { put_u32(b, (uint32_t)v); }
static void put_str(buf *b, const char *s, size_t len) {
  put_u32(b, (uint32_t)len);
  put(b, s, len);
}

static void put_set(buf *b, const imb_u32set *s) {
  put_u32(b, s->n);
  for (uint32_t i = 0; i < s->cap; i++)
    if (s->slot[i]) put_u32(b, s->slot[i] - 1);
}

static void put_limits(buf *b, const imb_limits *l) {
  put_i64(b, l->accounts);
  put_i64(b, l->friends_per_user);
  put_i64(b, l->groups_per_user);
  put_i64(b, l->av_groups);
  put_i64(b, l->non_av_groups);
  put_i64(b, l->daily_net_groups);
  put_i64(b, l->bchatroom_daily);
  put_i64(b, l->bchatroom_total);
  for (int i = 0; i < IMB_G_COUNT; i++) put_i64(b, l->members[i]);
  put_u8(b, l->same_day_disbands != 0);
}

static uint64_t fnv1a(const unsigned char *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

static void body(const imb_meter *m, buf *b, const char *meta, size_t metalen) {
  put_str(b, meta, metalen);
  put_i32(b, m->offset);
  put_i32(b, m->activated);
  put_i32(b, m->last_day);
  put_i32(b, m->released_before);
  put_u32(b, (uint32_t)m->nsegs);
  for (int i = 0; i < m->nsegs; i++) {
    const imb_segment *s = &m->segs[i];
    put_i64(b, s->from_t);
    put_u8(b, (unsigned)s->free_edition);
    put_str(b, s->edition, strlen(s->edition));
    put_limits(b, &s->lim);
  }
  put_u32(b, m->uix.n);
  for (uint32_t i = 0; i < m->uix.n; i++) {
    size_t len;
    const char *s = imb_intern_str(&m->uix, i, &len);
    imb_ustate u;
    imb_meter_ustate_get(m, i, &u);
    put_str(b, s, len);
    put_i32(b, u.last);
    put_u64(b, u.days);
    put_u8(b, u.months);
    put_u8(b, (unsigned)u.account);
  }
  /* each friendship once, as (lower, higher) */
  uint64_t pairs = 0;
  for (uint32_t i = 0; i < m->uix.n; i++) {
    const uint32_t ref = m->users[i].friends;
    if (!ref) continue;
    const imb_u32set *s = &m->pool[ref - 1];
    for (uint32_t k = 0; k < s->cap; k++)
      if (s->slot[k] && s->slot[k] - 1 > i) pairs++;
  }
  put_u64(b, pairs);
  for (uint32_t i = 0; i < m->uix.n; i++) {
    const uint32_t ref = m->users[i].friends;
    if (!ref) continue;
    const imb_u32set *s = &m->pool[ref - 1];
    for (uint32_t k = 0; k < s->cap; k++) {
      if (s->slot[k] && s->slot[k] - 1 > i) {
        put_u32(b, i);
        put_u32(b, s->slot[k] - 1);
      }
    }
  }
  put_u32(b, m->gix.n);
  for (uint32_t i = 0; i < m->gix.n; i++) {
    size_t len;
    const char *s = imb_intern_str(&m->gix, i, &len);
    const imb_group *g = &m->groups[i];
    put_str(b, s, len);
    put_u8(b, g->type);
    put_u8(b, g->alive);
    put_i32(b, g->created_day);
    put_set(b, &g->members);
  }
  put_u32(b, m->ndays);
  for (uint32_t i = 0; i < m->ndays; i++) {
    const imb_day *d = &m->days[i];
    put_i32(b, d->day);
    put_u8(b, (unsigned)d->has_groups);
    put_i64(b, d->dau);
    /* the format's created / disbanded / disbanded_same, from the day's net
     * counts: any created count large enough gives the same nets */
    int64_t created = d->net_same > 0 ? d->net_same : 0;
    if (d->bchat > created) created = d->bchat;
    put_i64(b, created);
    put_i64(b, created - d->net);
    put_i64(b, created - d->net_same);
    put_i64(b, d->bchat);
    put_i64(b, d->g_open);
    put_i64(b, d->g_peak);
    put_i64(b, d->g_close);
  }
  put_u32(b, m->nmonths);
  for (uint32_t i = 0; i < m->nmonths; i++) {
    put_i32(b, m->months[i].month);
    put_i64(b, m->months[i].mau);
  }
  put_u32(b, m->eix.n);
  for (uint32_t i = 0; i < m->eix.n; i++) {
    size_t len;
    const char *s = imb_intern_str(&m->eix, i, &len);
    put_str(b, s, len);
    put_i32(b, m->evday[i]);
  }
}

static int write_all(int fd, const unsigned char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

imb_status imb_meter_save(const imb_meter *m, const char *path, const char *meta, size_t metalen,
                          int64_t crash_after) {
  buf b = {NULL, 0, 0, 0};
  put(&b, MAGIC, 8);
  put_u32(&b, VERSION);
  put_u32(&b, HEADER);
  put_u64(&b, 0);
  put_u64(&b, 0);
  body(m, &b, meta, metalen);
  if (b.failed) {
    free(b.p);
    return IMB_ENOMEM;
  }
  uint64_t blen = b.len - HEADER, sum = fnv1a(b.p + HEADER, blen);
  for (int i = 0; i < 8; i++) {
    b.p[16 + i] = (unsigned char)(blen >> (8 * i));
    b.p[24 + i] = (unsigned char)(sum >> (8 * i));
  }
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 32);
  if (!tmp) {
    free(b.p);
    return IMB_ENOMEM;
  }
  snprintf(tmp, plen + 32, "%s.tmp%ld", path, (long)getpid());
  imb_status st = IMB_OK;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    st = IMB_EIO;
  } else if (crash_after >= 0) {
    /* a test's stand-in for a crash: part of the temporary file, no rename */
    size_t n = (uint64_t)crash_after < b.len ? (size_t)crash_after : b.len;
    if (write_all(fd, b.p, n)) st = IMB_EIO;
    close(fd);
    free(tmp);
    free(b.p);
    return st ? st : IMB_EIO;
  } else {
    if (write_all(fd, b.p, b.len) || fsync(fd)) st = IMB_EIO;
    if (close(fd)) st = IMB_EIO;
    if (!st && rename(tmp, path)) st = IMB_EIO;
    if (st) {
      unlink(tmp);
    } else {
      /* the rename itself is durable only once the directory is synced */
      char *dir = malloc(plen + 2);
      if (dir) {
        memcpy(dir, path, plen + 1);
        char *slash = strrchr(dir, '/');
        if (slash == dir) dir[1] = 0;
        else if (slash) *slash = 0;
        else strcpy(dir, ".");
        int dfd = open(dir, O_RDONLY);
        if (dfd >= 0) {
          fsync(dfd);
          close(dfd);
        }
        free(dir);
      }
    }
  }
  free(tmp);
  free(b.p);
  return st;
}

/* ---- reading ----------------------------------------------------------- */

typedef struct rd {
  const unsigned char *p;
  size_t len, at;
  int bad;
  const char *why;
} rd;

static int need(rd *r, size_t n, const char *what) {
  if (r->bad) return 0;
  if (r->len - r->at < n) {
    r->bad = 1;
    r->why = what;
    return 0;
  }
  return 1;
}
/* An n-byte little-endian unsigned number (n <= 8). */
static uint64_t get_le(rd *r, int n, const char *what) {
  if (!need(r, (size_t)n, what)) return 0;
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = (v << 8) | r->p[r->at + (size_t)i];
  r->at += (size_t)n;
  return v;
}
static uint64_t get_u64(rd *r, const char *what) { return get_le(r, 8, what); }
static uint32_t get_u32(rd *r, const char *what) { return (uint32_t)get_le(r, 4, what); }
static unsigned get_u8(rd *r, const char *what) {
  if (!need(r, 1, what)) return 0;
  return r->p[r->at++];
}
static int64_t get_i64(rd *r, const char *what) { return (int64_t)get_u64(r, what); }
static int32_t get_i32(rd *r, const char *what) { return (int32_t)get_u32(r, what); }
static const char *get_str(rd *r, size_t *len, size_t max, const char *what) {
  uint32_t n = get_u32(r, what);
  if (r->bad) return NULL;
  if (n > max) {
    r->bad = 1;
    r->why = what;
    return NULL;
  }
  if (!need(r, n, what)) return NULL;
  const char *s = (const char *)r->p + r->at;
  r->at += n;
  *len = n;
  return s;
}

static void fail(rd *r, const char *why) {
  if (!r->bad) {
    r->bad = 1;
    r->why = why;
  }
}

/* Reads a set of indices below `bound` into s; duplicates are corruption. */
static void get_set(rd *r, imb_u32set *s, uint32_t bound, const char *what) {
  uint32_t n = get_u32(r, what);
  if (r->bad) return;
  if ((uint64_t)n * 4 > r->len - r->at) return fail(r, what);
  for (uint32_t i = 0; i < n && !r->bad; i++) {
    uint32_t v = get_u32(r, what);
    if (v >= bound) return fail(r, what);
    int a = imb_u32set_add(s, v);
    if (a < 0) return fail(r, "out of memory");
    if (a == 0) return fail(r, what);
  }
}

static int64_t lim_val(rd *r) {
  int64_t v = get_i64(r, "limits");
  if (v < IMB_UNLIMITED) fail(r, "limits");
  return v;
}

static void get_limits(rd *r, imb_limits *l) {
  l->accounts = lim_val(r);
  l->friends_per_user = lim_val(r);
  l->groups_per_user = lim_val(r);
  l->av_groups = lim_val(r);
  l->non_av_groups = lim_val(r);
  l->daily_net_groups = lim_val(r);
  l->bchatroom_daily = lim_val(r);
  l->bchatroom_total = lim_val(r);
  for (int i = 0; i < IMB_G_COUNT; i++) l->members[i] = lim_val(r);
  unsigned sd = get_u8(r, "limits");
  if (sd > 1) fail(r, "limits");
  l->same_day_disbands = (int)sd;
}

static int day_ok(int32_t d) { return d >= -719162 && d <= 2932896; }

/* The users' bitmaps must add up to the counts of the days they still cover
 * (the open login window, IMB_LOGIN_LATE_DAYS) and of the latest month. */
static void check_activity(imb_meter *m, rd *r) {
  if (m->last_day == INT32_MIN) return;
  int64_t cnt[IMB_LOGIN_LATE_DAYS + 1], mau = 0;
  int64_t lo = (int64_t)m->last_day - IMB_LOGIN_LATE_DAYS;
  int32_t month = imb_month_of_day(m->last_day), mfirst = imb_month_first_day(month);
  memset(cnt, 0, sizeof cnt);
  for (uint32_t i = 0; i < m->uix.n; i++) {
    imb_ustate u;
    imb_meter_ustate_get(m, i, &u);
    if (u.last == INT32_MIN) continue;
    for (int k = 0; k < 64; k++) {
      int64_t d = (int64_t)u.last - k;
      if (d >= lo && ((u.days >> k) & 1)) cnt[d - lo]++;
    }
    if (u.last >= mfirst) mau++;
  }
  for (int k = 0; k <= IMB_LOGIN_LATE_DAYS; k++) {
    int64_t d = lo + k;
    if (d < m->released_before) continue;
    if (cnt[k] != imb_meter_dau(m, (int32_t)d)) return fail(r, "user activity");
  }
  if (mfirst >= m->released_before && mau != imb_meter_mau(m, month)) fail(r, "user activity");
}

static imb_meter *parse(rd *r, char **meta, size_t *metalen) {
  size_t mlen = 0;
  const char *ms = get_str(r, &mlen, r->len, "meta");
  int32_t offset = get_i32(r, "offset");
  if (r->bad) return NULL;
  if (offset <= -86400 || offset >= 86400) {
    fail(r, "offset");
    return NULL;
  }
  imb_meter *m = imb_meter_alloc(offset);
  if (!m) {
    fail(r, "out of memory");
    return NULL;
  }
  m->activated = get_i32(r, "activated");
  m->last_day = get_i32(r, "last day");
  m->released_before = get_i32(r, "released");
  if (m->activated != INT32_MIN && !day_ok(m->activated)) fail(r, "activated");
  if (m->last_day != INT32_MIN && !day_ok(m->last_day)) fail(r, "last day");
  uint32_t nsegs = get_u32(r, "editions");
  if (!r->bad && (nsegs == 0 || nsegs > 100000)) fail(r, "editions");
  for (uint32_t i = 0; i < nsegs && !r->bad; i++) {
    int64_t from = get_i64(r, "editions");
    unsigned fr = get_u8(r, "editions");
    size_t elen = 0;
    const char *e = get_str(r, &elen, IMB_EDITION_MAXLEN, "editions");
    imb_limits lim;
    get_limits(r, &lim);
    if (r->bad) break;
    if (fr > 1 || (i == 0) != (from == INT64_MIN) || (i > 0 && from < m->segs[i - 1].from_t)) {
      fail(r, "editions");
      break;
    }
    if (imb_meter_add_segment(m, from, e, elen, &lim, (int)fr)) fail(r, "editions");
  }
  uint32_t nusers = get_u32(r, "users");
  for (uint32_t i = 0; i < nusers && !r->bad; i++) {
    size_t len = 0;
    const char *s = get_str(r, &len, IMB_ID_MAXLEN, "users");
    imb_ustate u;
    u.last = get_i32(r, "users");
    u.days = get_u64(r, "users");
    u.months = get_u8(r, "users");
    unsigned acc = get_u8(r, "users");
    if (r->bad) break;
    uint32_t ix;
    /* bit 0 of each bitmap is the latest day (and its month) itself */
    int never = u.last == INT32_MIN;
    if (acc > 1 || (!never && (!day_ok(u.last) || u.last > m->last_day)) ||
        (never ? (u.days || u.months) : !(u.days & 1) || !(u.months & 1))) {
      fail(r, "users");
      break;
    }
    if (imb_meter_user(m, s, len, &ix) || ix != i) {
      fail(r, "users");
      break;
    }
    u.account = (int)acc;
    imb_meter_ustate_set(m, ix, &u);
    m->accounts += acc;
  }
  uint64_t pairs = get_u64(r, "friends");
  if (!r->bad && pairs * 8 > r->len - r->at) fail(r, "friends");
  for (uint64_t i = 0; i < pairs && !r->bad; i++) {
    uint32_t a = get_u32(r, "friends"), b = get_u32(r, "friends");
    if (r->bad) break;
    if (a >= b || b >= nusers) {
      fail(r, "friends");
      break;
    }
    imb_u32set *sa = imb_meter_pool_set(m, &m->users[a].friends);
    int ra = sa ? imb_u32set_add(sa, b) : -1;
    imb_u32set *sb = imb_meter_pool_set(m, &m->users[b].friends);
    int rb = sb ? imb_u32set_add(sb, a) : -1;
    if (ra != 1 || rb != 1) fail(r, "friends");
  }
  uint32_t ngroups = get_u32(r, "groups");
  for (uint32_t i = 0; i < ngroups && !r->bad; i++) {
    size_t len = 0;
    const char *s = get_str(r, &len, IMB_ID_MAXLEN, "groups");
    unsigned type = get_u8(r, "groups"), alive = get_u8(r, "groups");
    int32_t created = get_i32(r, "groups");
    uint32_t ix;
    if (r->bad) break;
    if (type >= IMB_G_COUNT || alive > 1 || !day_ok(created) || imb_meter_group(m, s, len, &ix) || ix != i) {
      fail(r, "groups");
      break;
    }
    imb_group *g = &m->groups[ix];
    g->type = (uint8_t)type;
    g->alive = (uint8_t)alive;
    g->created_day = created;
    get_set(r, &g->members, nusers, "group members");
    if (r->bad) break;
    if (!alive && g->members.n) {
      fail(r, "group members");
      break;
    }
    for (uint32_t k = 0; k < g->members.cap; k++) {
      if (!g->members.slot[k]) continue;
      imb_u32set *us = imb_meter_pool_set(m, &m->users[g->members.slot[k] - 1].groups);
      g = &m->groups[ix];
      if (!us || imb_u32set_add(us, ix) != 1) {
        fail(r, "group members");
        break;
      }
    }
    if (alive) {
      m->gcount[type]++;
      m->groups_total++;
      if (type == IMB_G_AVCHATROOM) m->groups_av++;
      else if (!imb_gtype_is_av((imb_gtype)type)) m->groups_non_av++;
    }
  }
  uint32_t ndays = get_u32(r, "days");
  for (uint32_t i = 0; i < ndays && !r->bad; i++) {
    int32_t day = get_i32(r, "days");
    if (r->bad) break;
    if (!day_ok(day) || (i > 0 && day <= m->days[i - 1].day)) {
      fail(r, "days");
      break;
    }
    imb_day *d = imb_meter_day(m, day);
    if (!d) {
      fail(r, "out of memory");
      break;
    }
    unsigned hg = get_u8(r, "days");
    d->has_groups = (int32_t)hg;
    d->dau = get_i64(r, "days");
    int64_t created = get_i64(r, "days"), disbanded = get_i64(r, "days"), disbanded_same = get_i64(r, "days");
    d->bchat = get_i64(r, "days");
    d->g_open = get_i64(r, "days");
    d->g_peak = get_i64(r, "days");
    d->g_close = get_i64(r, "days");
    if (r->bad) break;
    if (hg > 1 || d->dau < 0 || d->dau > (int64_t)nusers || created < 0 || disbanded < 0 ||
        disbanded_same < 0 || disbanded_same > disbanded || d->bchat < 0 || d->bchat > created ||
        d->g_open < 0 || d->g_close < 0 || d->g_peak < d->g_open || d->g_peak < d->g_close)
      fail(r, "days");
    d->net = created - disbanded;
    d->net_same = created - disbanded_same;
    d->legacy = d->has_groups; /* this format has no day logs */
  }
  uint32_t nmonths = get_u32(r, "months");
  for (uint32_t i = 0; i < nmonths && !r->bad; i++) {
    int32_t mo = get_i32(r, "months");
    if (r->bad) break;
    if (mo < 12 || mo > 9999 * 12 + 11 || (i > 0 && mo <= m->months[i - 1].month)) {
      fail(r, "months");
      break;
    }
    imb_month *rec = imb_meter_monthrec(m, mo);
    if (!rec) {
      fail(r, "out of memory");
      break;
    }
    rec->mau = get_i64(r, "months");
    if (r->bad) break;
    if (rec->mau < 0 || rec->mau > (int64_t)nusers) fail(r, "months");
  }
  uint32_t nev = get_u32(r, "event ids");
  for (uint32_t i = 0; i < nev && !r->bad; i++) {
    size_t len = 0;
    const char *s = get_str(r, &len, IMB_ID_MAXLEN, "event ids");
    int32_t day = get_i32(r, "event ids");
    if (r->bad) break;
    uint32_t before = m->eix.n;
    if (!day_ok(day) || imb_meter_remember(m, s, len, day) || m->eix.n != before + 1) fail(r, "event ids");
  }
  if (!r->bad && r->at != r->len) fail(r, "trailing bytes");
  if (!r->bad) check_activity(m, r);
  /* the net group count the days carry must match the groups that exist */
  if (!r->bad) {
    for (uint32_t i = m->ndays; i-- > 0;) {
      if (m->days[i].has_groups) {
        if (m->days[i].g_close != m->groups_total) fail(r, "group counts");
        break;
      }
    }
  }
  if (!r->bad) {
    *meta = malloc(mlen + 1);
    if (!*meta) fail(r, "out of memory");
    else {
      memcpy(*meta, ms, mlen);
      (*meta)[mlen] = 0;
      *metalen = mlen;
    }
  }
  if (r->bad) {
    imb_meter_free(m);
    return NULL;
  }
  return m;
}

static void say(char *why, size_t whylen, const char *fmt, const char *arg) {
  if (why && whylen) snprintf(why, whylen, fmt, arg);
}

imb_status imb_meter_load(const char *path, imb_meter **out, char **meta, size_t *metalen, char *why,
                          size_t whylen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    say(why, whylen, "cannot open %s", path);
    return IMB_EIO;
  }
  unsigned char *p = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      size_t nc = cap ? cap * 2 : 65536;
      unsigned char *np = nc > cap ? realloc(p, nc) : NULL;
      if (!np) {
        free(p);
        fclose(f);
        say(why, whylen, "%s", "out of memory");
        return IMB_ENOMEM;
      }
      p = np;
      cap = nc;
    }
    size_t n = fread(p + len, 1, cap - len, f);
    len += n;
    if (n == 0) break;
  }
  int err = ferror(f);
  fclose(f);
  if (err) {
    free(p);
    say(why, whylen, "cannot read %s", path);
    return IMB_EIO;
  }
  imb_status st = IMB_ECORRUPT;
  if (len < HEADER || memcmp(p, MAGIC, 8) != 0) {
    say(why, whylen, "%s", "not an imbill meter file (bad magic)");
  } else {
    rd h = {p, len, 8, 0, NULL};
    uint32_t version = get_u32(&h, "version"), hl = get_u32(&h, "header");
    uint64_t blen = get_u64(&h, "length"), sum = get_u64(&h, "checksum");
    if (version != VERSION) {
      char v[16];
      snprintf(v, sizeof v, "%lu", (unsigned long)version);
      if (version < VERSION)
        say(why, whylen, "format version %s is not read by this version of imbill (it reads version 2, which keeps "
            "per-user activity instead of per-day sets); replay the event log into a new meter", v);
      else
        say(why, whylen, "unsupported format version %s (this imbill reads version 2)", v);
    }
    else if (hl != HEADER) say(why, whylen, "%s", "bad header length");
    else if (blen != len - HEADER) say(why, whylen, "%s", "truncated or extended (length does not match)");
    else if (fnv1a(p + HEADER, blen) != sum) say(why, whylen, "%s", "checksum mismatch");
    else {
      rd r = {p + HEADER, blen, 0, 0, NULL};
      imb_meter *m = parse(&r, meta, metalen);
      if (m) {
        *out = m;
        st = IMB_OK;
      } else {
        say(why, whylen, "inconsistent %s", r.why ? r.why : "content");
        if (r.why && strcmp(r.why, "out of memory") == 0) st = IMB_ENOMEM;
      }
    }
  }
  free(p);
  return st;
}
