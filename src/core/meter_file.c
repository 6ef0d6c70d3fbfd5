/* Saving and loading the in-process store.
 *
 * File: a 32-byte header, then the body.
 *   0  "IMBMETER"        magic, so a foreign file is told apart at once
 *   8  u32 version (4; 2 and 3 are still read, 1 kept a set of users per day;
 *                  4 adds one-way friendships after the mutual ones)
 *  12  u32 header length (32)
 *  16  u64 body length   (must be the file's size less the header)
 *  24  u64 FNV-1a 64 of the body (a flipped byte fails here)
 * All integers little-endian.  The body starts with the caller's metadata
 * (version 3: typed records; version 2: one length-prefixed string), then
 * lists ids, set members and each user's activity bitmaps; hashes and derived
 * counters are rebuilt on load, so a file never depends on the hash function
 * or on the table sizes of the process that wrote it.
 *
 * The checksum only tells damage from a good file: anyone can recompute it.
 * So the loader trusts nothing in the body either.  Every count is bounded by
 * what the file holds (no allocation beyond a multiple of its size), every
 * counter by the ids and events it can stand for, and every total the file
 * carries is checked against the sets it implies; the first failure refuses
 * the file naming the field.  The file system side (replacing a file safely,
 * reading only a regular file) is safe_file.c. */
#include "meter_impl.h"
#include "safe_file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAGIC "IMBMETER"
#define HEADER 32u
/* A body beyond this is refused before anything is allocated for it (the
 * length must also match the file's size); 1 TiB holds billions of users. */
#define BODY_MAX ((uint64_t)1 << 40)
/* A per-day event counter (groups created or disbanded on one day) counts
 * events that leave no id in the file, so it has no exact bound there; this
 * one is out of reach (2^40 events in a day) and keeps every later sum and
 * increment far from overflow. */
#define DAY_EVENTS_MAX ((int64_t)1 << 40)
/* At most one edition change a month, over years 1..9999. */
#define SEGMENTS_MAX (9999u * 12u + 1u)

/* A user's friend list (NULL: none), and whether user a's lists user b. */
static const imb_u32set *friends_of(const imb_meter *m, uint32_t a) {
  uint32_t ref = m->users[a].friends;
  return ref ? &m->pool[ref - 1] : NULL;
}

static int lists(const imb_meter *m, uint32_t a, uint32_t b) {
  const imb_u32set *s = friends_of(m, a);
  return s && imb_u32set_has(s, b);
}

/* ---- writing ----------------------------------------------------------- */

typedef struct buf {
  unsigned char *p;
  size_t len, cap;
  int failed;
} buf;

static void put(buf *b, const void *src, size_t n) {
  if (b->failed || n == 0) return;
  if (n > SIZE_MAX - b->len) {
    b->failed = 1;
    return;
  }
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
/* Callers keep len within u32 (ids, editions and records are bounded). */
static void put_str(buf *b, const char *s, size_t len) {
  put_u32(b, (uint32_t)len);
  put(b, s, len);
}

static void put_set(buf *b, const imb_u32set *s) {
  put_u32(b, s->n);
  for (uint32_t i = 0; i < s->cap; i++)
    if (s->slot[i]) put_u32(b, s->slot[i] - 1);
}

/* The friendships of one kind, counted then written: mutual ones once each,
 * as (lower, higher), or one-way ones as (the list's owner, its friend). */
static void put_friendships(buf *b, const imb_meter *m, int mutual) {
  uint64_t n = 0;
  for (int pass = 0; pass < 2; pass++) {
    if (pass) put_u64(b, n);
    for (uint32_t i = 0; i < m->uix.n; i++) {
      const imb_u32set *s = friends_of(m, i);
      for (uint32_t k = 0; s && k < s->cap; k++) {
        uint32_t f = s->slot[k];
        if (!f || lists(m, f - 1, i) != mutual || (mutual && f - 1 < i)) continue;
        if (pass) {
          put_u32(b, i);
          put_u32(b, f - 1);
        } else {
          n++;
        }
      }
    }
  }
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
  put_u32(b, l->features);
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

/* The records as the caller gave them are checked before anything is written. */
static imb_status check_records(const imb_record *recs, size_t n, imb_file_error *err) {
  if (n > IMB_RECORDS_MAX) {
    imb_file_why(err, 0, "records: %zu records, more than %d", n, IMB_RECORDS_MAX);
    return IMB_ERANGE;
  }
  if (n && !recs) {
    imb_file_why(err, 0, "records: NULL with a count of %zu", n);
    return IMB_ERANGE;
  }
  for (size_t i = 0; i < n; i++) {
    const imb_record *r = &recs[i];
    if (r->klen > IMB_RECORD_KEY_MAX) {
      imb_file_why(err, 0, "records[%zu].key: longer than %d bytes", i + 1, IMB_RECORD_KEY_MAX);
      return IMB_ERANGE;
    }
    /* said as it is: a NULL key is no long key */
    if (r->klen && !r->key) {
      imb_file_why(err, 0, "records[%zu].key: NULL with a length of %zu", i + 1, r->klen);
      return IMB_ERANGE;
    }
    switch (r->type) {
    case IMB_REC_BYTES:
      if (r->blen > IMB_RECORD_BYTES_MAX) {
        imb_file_why(err, 0, "records[%zu].value: longer than %d bytes", i + 1, IMB_RECORD_BYTES_MAX);
        return IMB_ERANGE;
      }
      if (r->blen && !r->bytes) {
        imb_file_why(err, 0, "records[%zu].value: NULL with a length of %zu", i + 1, r->blen);
        return IMB_ERANGE;
      }
      break;
    case IMB_REC_INT: break;
    case IMB_REC_BOOL:
      if (r->i != 0 && r->i != 1) {
        imb_file_why(err, 0, "records[%zu].value: a boolean is 0 or 1", i + 1);
        return IMB_ERANGE;
      }
      break;
    default:
      imb_file_why(err, 0, "records[%zu].type: unknown record type %d", i + 1, (int)r->type);
      return IMB_ERANGE;
    }
  }
  return IMB_OK;
}

static void put_records(buf *b, const imb_record *recs, size_t n) {
  put_u32(b, (uint32_t)n);
  for (size_t i = 0; i < n; i++) {
    const imb_record *r = &recs[i];
    put_u8(b, (unsigned)r->type);
    put_str(b, r->key, r->klen);
    if (r->type == IMB_REC_BYTES) put_str(b, r->bytes, r->blen);
    else if (r->type == IMB_REC_INT) put_i64(b, r->i);
    else put_u8(b, (unsigned)r->i);
  }
}

static void body(const imb_meter *m, buf *b) {
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
  /* each mutual friendship once, as (lower, higher); then (version 4) each
   * one-way one as (the list's owner, the friend it lists) */
  put_friendships(b, m, 1);
  put_friendships(b, m, 0);
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
    put_i64(b, d->created);
    put_i64(b, d->disbanded);
    put_i64(b, d->disbanded_same);
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
  /* the instants groups were created at, and each open day's log of group
   * changes: the time-ordered peak and late events need them after a load */
  put_u32(b, m->gix.n);
  for (uint32_t i = 0; i < m->gix.n; i++) put_i64(b, m->groups[i].created_t);
  uint32_t nlogs = 0;
  for (uint32_t i = 0; i < m->ndays; i++)
    if (!m->days[i].legacy && m->days[i].nlog) nlogs++;
  put_u32(b, nlogs);
  for (uint32_t i = 0; i < m->ndays; i++) {
    const imb_day *d = &m->days[i];
    if (d->legacy || !d->nlog) continue;
    put_i32(b, d->day);
    put_u32(b, d->nlog);
    for (uint32_t k = 0; k < d->nlog; k++) {
      put_i64(b, d->log[k].t);
      put_u8(b, d->log[k].delta > 0 ? 0u : 1u); /* 0: a create, 1: a disband */
    }
  }
}

/* The whole file in memory: header (with length and checksum) and body. */
static imb_status encode(const imb_meter *m, const imb_record *recs, size_t nrecs, buf *b) {
  put(b, MAGIC, 8);
  put_u32(b, IMB_FILE_VERSION);
  put_u32(b, HEADER);
  put_u64(b, 0);
  put_u64(b, 0);
  put_records(b, recs, nrecs);
  body(m, b);
  if (b->failed) return IMB_ENOMEM;
  uint64_t blen = b->len - HEADER, sum = fnv1a(b->p + HEADER, blen);
  for (int i = 0; i < 8; i++) {
    b->p[16 + i] = (unsigned char)(blen >> (8 * i));
    b->p[24 + i] = (unsigned char)(sum >> (8 * i));
  }
  return IMB_OK;
}

imb_status imb_meter_save(const imb_meter *m, const char *path, size_t pathlen, const imb_record *recs,
                          size_t nrecs, const imb_save_opts *opts, imb_file_error *err) {
  if (err) {
    err->sys = 0;
    err->why[0] = 0;
  }
  if (!m) {
    imb_file_why(err, 0, "no meter (NULL)");
    return IMB_ERANGE;
  }
  char *p = NULL;
  imb_status st = imb_file_path(path, pathlen, &p, err);
  if (st) return st;
  if ((st = check_records(recs, nrecs, err))) {
    free(p);
    return st;
  }
  buf b = {NULL, 0, 0, 0};
  if ((st = encode(m, recs, nrecs, &b))) {
    imb_file_why(err, 0, "out of memory");
  } else {
    st = imb_file_replace(p, b.p, b.len, 1, opts, err);
  }
  free(b.p);
  free(p);
  return st;
}

/* ---- reading ----------------------------------------------------------- */

typedef struct rd {
  const unsigned char *p;
  size_t len, at;
  int bad, nomem;
  const char *sec; /* the list being read ("users"), NULL at top level */
  uint64_t idx;    /* 0-based index in it */
  char *why;
  size_t whylen;
} rd;

/* Records the first failure as "<section>[<index>].<field>: <message>",
 * indices counted from 1. */
static void failf(rd *r, const char *field, const char *fmt, ...) IMB_PRINTF_LIKE(3, 4);
static void failf(rd *r, const char *field, const char *fmt, ...) {
  if (r->bad) return;
  r->bad = 1;
  int n = 0;
  if (r->sec) n = snprintf(r->why, r->whylen, "%s[%llu]%s%s: ", r->sec, (unsigned long long)r->idx + 1,
                           field ? "." : "", field ? field : "");
  else n = snprintf(r->why, r->whylen, "%s: ", field ? field : "body");
  if (n < 0 || (size_t)n >= r->whylen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->why + n, r->whylen - (size_t)n, fmt, ap);
  va_end(ap);
}

static void nomem(rd *r) {
  if (r->bad) return;
  r->nomem = 1;
  r->bad = 1;
  snprintf(r->why, r->whylen, "out of memory");
}

static size_t left(const rd *r) { return r->len - r->at; }

static int need(rd *r, size_t n, const char *field) {
  if (r->bad) return 0;
  if (left(r) < n) {
    failf(r, field, "the file ends inside it");
    return 0;
  }
  return 1;
}
/* An n-byte little-endian unsigned number (n <= 8). */
static uint64_t get_le(rd *r, int n, const char *field) {
  if (!need(r, (size_t)n, field)) return 0;
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = (v << 8) | r->p[r->at + (size_t)i];
  r->at += (size_t)n;
  return v;
}
static uint64_t get_u64(rd *r, const char *f) { return get_le(r, 8, f); }
static uint32_t get_u32(rd *r, const char *f) { return (uint32_t)get_le(r, 4, f); }
static unsigned get_u8(rd *r, const char *f) { return (unsigned)get_le(r, 1, f); }
static int64_t get_i64(rd *r, const char *f) { return (int64_t)get_u64(r, f); }
static int32_t get_i32(rd *r, const char *f) { return (int32_t)get_u32(r, f); }
static const char *get_str(rd *r, size_t *len, size_t max, const char *field) {
  uint32_t n = get_u32(r, field);
  if (r->bad) return NULL;
  if (n > max) {
    failf(r, field, "length %lu is over the limit of %zu", (unsigned long)n, max);
    return NULL;
  }
  if (!need(r, n, field)) return NULL;
  const char *s = (const char *)r->p + r->at;
  r->at += n;
  *len = n;
  return s;
}
/* A 0/1 byte. */
static int get_flag(rd *r, const char *field) {
  unsigned v = get_u8(r, field);
  if (!r->bad && v > 1) failf(r, field, "%u is not 0 or 1", v);
  return (int)v;
}

/* A list's count: each entry takes at least `min` bytes, so a count the rest
 * of the file cannot hold is refused before anything is allocated for it. */
static uint64_t get_count(rd *r, int width, size_t min, uint64_t max, const char *sec) {
  uint64_t n = get_le(r, width, sec);
  if (r->bad) return 0;
  if (n > max) {
    failf(r, sec, "%llu entries, more than %llu", (unsigned long long)n, (unsigned long long)max);
    return 0;
  }
  if (n > left(r) / min) {
    failf(r, sec, "%llu entries cannot fit in the %zu bytes left", (unsigned long long)n, left(r));
    return 0;
  }
  return n;
}

static void enter(rd *r, const char *sec, uint64_t idx) {
  r->sec = sec;
  r->idx = idx;
}

static int day_ok(int32_t d) { return d >= -719162 && d <= 2932896; }

static void show_day(int32_t day, char *out) {
  if (day_ok(day)) imb_date_format(day, out);
  else snprintf(out, IMB_DATE_BUFSZ, "?");
}

/* A day field: INT32_MIN (none) when allowed, else a day of years 1..9999. */
static int32_t get_day(rd *r, const char *field, int none_ok) {
  int32_t d = get_i32(r, field);
  if (r->bad || (none_ok && d == INT32_MIN) || day_ok(d)) return d;
  failf(r, field, "%ld is not a day of years 1..9999", (long)d);
  return d;
}

/* Reads a set of indices below `bound` into s; duplicates are corruption. */
static void get_set(rd *r, imb_u32set *s, uint32_t bound, const char *field) {
  uint64_t n = get_count(r, 4, 4, bound, field);
  for (uint64_t i = 0; i < n && !r->bad; i++) {
    uint32_t v = get_u32(r, field);
    if (r->bad) return;
    if (v >= bound) return failf(r, field, "index %lu is not below %lu", (unsigned long)v, (unsigned long)bound);
    int a = imb_u32set_add(s, v);
    if (a < 0) return nomem(r);
    if (a == 0) return failf(r, field, "index %lu appears twice", (unsigned long)v);
  }
}

static const char *const LIMIT_FIELDS[] = {
  "limits.accounts", "limits.friends_per_user", "limits.groups_per_user", "limits.av_groups",
  "limits.non_av_groups", "limits.daily_net_groups", "limits.bchatroom_daily", "limits.bchatroom_total",
};

static int64_t lim_val(rd *r, const char *field) {
  int64_t v = get_i64(r, field);
  if (!r->bad && v < IMB_UNLIMITED) failf(r, field, "%lld is below -1 (unlimited)", (long long)v);
  return v;
}

/* Version 2 kept no features: a meter loaded from it has none until its
 * limits are set again (the Lua layer sets them from the book). */
static void get_limits(rd *r, imb_limits *l, uint32_t version) {
  int64_t *flat[8] = {&l->accounts, &l->friends_per_user, &l->groups_per_user, &l->av_groups,
                      &l->non_av_groups, &l->daily_net_groups, &l->bchatroom_daily, &l->bchatroom_total};
  for (int i = 0; i < 8; i++) *flat[i] = lim_val(r, LIMIT_FIELDS[i]);
  for (int i = 0; i < IMB_G_COUNT; i++) l->members[i] = lim_val(r, "limits.members");
  l->features = version >= 3 ? get_u32(r, "limits.features") : 0;
  if (!r->bad && (l->features >> IMB_F_COUNT) != 0)
    failf(r, "limits.features", "0x%lx names features that do not exist", (unsigned long)l->features);
  l->same_day_disbands = get_flag(r, "limits.same_day_disbands");
}

/* ---- records ----------------------------------------------------------- */

typedef struct rec_in {
  imb_rec_type type;
  const char *key, *bytes;
  size_t klen, blen;
  int64_t i;
} rec_in;

/* The records are copied into one block the caller frees: the array first,
 * then the bytes its keys and values point to. */
static imb_record *copy_records(const rec_in *in, size_t n) {
  size_t bytes = n * sizeof(imb_record);
  for (size_t i = 0; i < n; i++) bytes += in[i].klen + in[i].blen + 2;
  imb_record *out = malloc(bytes ? bytes : 1);
  if (!out) return NULL;
  char *p = (char *)(out + n);
  for (size_t i = 0; i < n; i++) {
    imb_record *o = &out[i];
    memset(o, 0, sizeof *o);
    o->type = in[i].type;
    o->i = in[i].i;
    o->key = p;
    o->klen = in[i].klen;
    if (in[i].klen) memcpy(p, in[i].key, in[i].klen);
    p[in[i].klen] = 0;
    p += in[i].klen + 1;
    if (in[i].type == IMB_REC_BYTES) {
      o->bytes = p;
      o->blen = in[i].blen;
      if (in[i].blen) memcpy(p, in[i].bytes, in[i].blen);
      p[in[i].blen] = 0;
      p += in[i].blen + 1;
    }
  }
  return out;
}

static imb_record *get_records(rd *r, uint32_t version, size_t *nrecs) {
  rec_in *in = NULL;
  size_t n = 0;
  if (version == 2) {
    /* the old metadata: one string, which the caller reads as before */
    in = calloc(1, sizeof *in);
    if (!in) {
      nomem(r);
      return NULL;
    }
    in[0].type = IMB_REC_BYTES;
    in[0].key = "meta";
    in[0].klen = 4;
    in[0].bytes = get_str(r, &in[0].blen, IMB_RECORD_BYTES_MAX, "meta");
    n = 1;
  } else {
    /* type, key length and the shortest value: 1 + 4 + 1 bytes */
    uint64_t count = get_count(r, 4, 6, IMB_RECORDS_MAX, "records");
    if (r->bad) return NULL;
    in = calloc(count ? (size_t)count : 1, sizeof *in);
    if (!in) {
      nomem(r);
      return NULL;
    }
    n = (size_t)count;
    for (size_t i = 0; i < n && !r->bad; i++) {
      enter(r, "records", i);
      unsigned type = get_u8(r, "type");
      in[i].key = get_str(r, &in[i].klen, IMB_RECORD_KEY_MAX, "key");
      if (r->bad) break;
      in[i].type = (imb_rec_type)type;
      if (type == IMB_REC_BYTES) in[i].bytes = get_str(r, &in[i].blen, IMB_RECORD_BYTES_MAX, "value");
      else if (type == IMB_REC_INT) in[i].i = get_i64(r, "value");
      else if (type == IMB_REC_BOOL) in[i].i = get_flag(r, "value");
      else failf(r, "type", "unknown record type %u", type);
    }
    enter(r, NULL, 0);
  }
  imb_record *out = NULL;
  if (!r->bad) {
    out = copy_records(in, n);
    if (!out) nomem(r);
  }
  free(in);
  *nrecs = n;
  return out;
}

/* ---- the state ----------------------------------------------------------- */

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
    if (d < m->released_before || !day_ok((int32_t)d)) continue;
    int64_t have = imb_meter_dau(m, (int32_t)d);
    if (cnt[k] != have) {
      char ds[IMB_DATE_BUFSZ];
      show_day((int32_t)d, ds);
      return failf(r, "users", "%lld users have a login on %s in their activity, the day's DAU is %lld",
                   (long long)cnt[k], ds, (long long)have);
    }
  }
  if (mfirst >= m->released_before && mau != imb_meter_mau(m, month)) {
    char ds[IMB_DATE_BUFSZ];
    show_day(mfirst, ds);
    failf(r, "users", "%lld users were last active in the month of %.7s, its MAU is %lld", (long long)mau, ds,
          (long long)imb_meter_mau(m, month));
  }
}

/* Segments: each edition in force, from its instant on, with its limits. */
static void get_segments(rd *r, imb_meter *m, uint32_t version) {
  /* from, free, edition length, limits: 8 + 1 + 4 + 14 * 8 + 4 + 1 (no
   * features in version 2) */
  uint64_t n = get_count(r, 4, version >= 3 ? 130 : 126, SEGMENTS_MAX, "editions");
  if (!r->bad && n == 0) failf(r, "editions", "a meter has at least one edition");
  for (uint64_t i = 0; i < n && !r->bad; i++) {
    enter(r, "editions", i);
    int64_t from = get_i64(r, "from");
    int fr = get_flag(r, "free");
    size_t elen = 0;
    const char *e = get_str(r, &elen, IMB_EDITION_MAXLEN, "edition");
    imb_limits lim;
    get_limits(r, &lim, version);
    if (r->bad) break;
    if (elen == 0 || memchr(e, 0, elen)) {
      failf(r, "edition", "an edition id is 1 to %d bytes without NUL", IMB_EDITION_MAXLEN);
      break;
    }
    if ((i == 0) != (from == INT64_MIN)) {
      failf(r, "from", i == 0 ? "the first edition is in force from the start" : "a later edition starts at an instant");
      break;
    }
    if (i > 0 && from < m->segs[i - 1].from_t) {
      failf(r, "from", "starts before the edition before it");
      break;
    }
    imb_status st = imb_meter_add_segment(m, from, e, elen, &lim, fr);
    if (st == IMB_ENOMEM) nomem(r);
    else if (st) failf(r, "from", "%lld is not an instant of years 1..9999", (long long)from);
  }
  enter(r, NULL, 0);
}

static void get_users(rd *r, imb_meter *m) {
  /* id length, last, days, months, account: 4 + 4 + 8 + 1 + 1 */
  uint64_t n = get_count(r, 4, 18, IMB_IDX_MAX, "users");
  for (uint64_t i = 0; i < n && !r->bad; i++) {
    enter(r, "users", i);
    size_t len = 0;
    const char *s = get_str(r, &len, IMB_ID_MAXLEN, "id");
    imb_ustate u;
    u.last = get_day(r, "last", 1);
    u.days = get_u64(r, "days");
    u.months = get_u8(r, "months");
    u.account = get_flag(r, "account");
    if (r->bad) break;
    /* bit 0 of each bitmap is the latest day (and its month) itself */
    if (u.last == INT32_MIN) {
      if (u.days || u.months) failf(r, "days", "a user never counted has no activity");
    } else if (u.last > m->last_day) {
      failf(r, "last", "is after the meter's last day");
    } else if (!(u.days & 1) || !(u.months & 1)) {
      failf(r, "days", "the latest day and its month must be marked");
    }
    if (r->bad) break;
    uint32_t ix;
    imb_status st = imb_meter_user(m, s, len, &ix);
    if (st == IMB_ENOMEM) nomem(r);
    else if (st || ix != i) failf(r, "id", "appears twice");
    if (r->bad) break;
    imb_meter_ustate_set(m, ix, &u);
    m->accounts += u.account;
  }
  enter(r, NULL, 0);
}

static void get_friends(rd *r, imb_meter *m, uint32_t version) {
  uint64_t n = get_count(r, 8, 8, UINT64_MAX, "friends");
  uint32_t nusers = m->uix.n;
  for (uint64_t i = 0; i < n && !r->bad; i++) {
    enter(r, "friends", i);
    uint32_t a = get_u32(r, "user"), b = get_u32(r, "peer");
    if (r->bad) break;
    if (a >= b || b >= nusers) {
      failf(r, NULL, "(%lu, %lu) is not a pair of users, lower index first", (unsigned long)a, (unsigned long)b);
      break;
    }
    imb_u32set *sa = imb_meter_pool_set(m, &m->users[a].friends);
    int ra = sa ? imb_u32set_add(sa, b) : -1;
    imb_u32set *sb = ra == 1 ? imb_meter_pool_set(m, &m->users[b].friends) : NULL;
    int rb = sb ? imb_u32set_add(sb, a) : -1;
    if (ra < 0 || (ra == 1 && rb < 0)) nomem(r);
    else if (ra == 0 || rb == 0) failf(r, NULL, "the pair appears twice");
  }
  enter(r, NULL, 0);
  /* before version 4 every friendship was mutual */
  if (version < 4 || r->bad) return;
  n = get_count(r, 8, 8, UINT64_MAX, "one_way_friends");
  for (uint64_t i = 0; i < n && !r->bad; i++) {
    enter(r, "one_way_friends", i);
    uint32_t a = get_u32(r, "user"), b = get_u32(r, "friend");
    if (r->bad) break;
    if (a == b || a >= nusers || b >= nusers) {
      failf(r, NULL, "(%lu, %lu) is not a user and another user", (unsigned long)a, (unsigned long)b);
      break;
    }
    if (lists(m, b, a)) {
      failf(r, NULL, "user %lu is listed back by %lu: a mutual friendship belongs in friends", (unsigned long)a,
            (unsigned long)b);
      break;
    }
    imb_u32set *sa = imb_meter_pool_set(m, &m->users[a].friends);
    int ra = sa ? imb_u32set_add(sa, b) : -1;
    if (ra < 0) nomem(r);
    else if (ra == 0) failf(r, NULL, "the entry appears twice");
  }
  enter(r, NULL, 0);
}

static void get_groups(rd *r, imb_meter *m) {
  /* id length, type, alive, created, member count: 4 + 1 + 1 + 4 + 4 */
  uint64_t n = get_count(r, 4, 14, IMB_IDX_MAX, "groups");
  uint32_t nusers = m->uix.n;
  for (uint64_t i = 0; i < n && !r->bad; i++) {
    enter(r, "groups", i);
    size_t len = 0;
    const char *s = get_str(r, &len, IMB_ID_MAXLEN, "id");
    unsigned type = get_u8(r, "type");
    int alive = get_flag(r, "alive");
    int32_t created = get_day(r, "created", 0);
    if (r->bad) break;
    if (type >= IMB_G_COUNT) {
      failf(r, "type", "%u is not a group type", type);
      break;
    }
    if (alive && created > m->last_day) {
      failf(r, "created", "a group that exists was created after the meter's last day");
      break;
    }
    uint32_t ix;
    imb_status st = imb_meter_group(m, s, len, &ix);
    if (st == IMB_ENOMEM) nomem(r);
    else if (st || ix != i) failf(r, "id", "appears twice");
    if (r->bad) break;
    imb_group *g = &m->groups[ix];
    g->type = (uint8_t)type;
    g->alive = (uint8_t)alive;
    g->created_day = created;
    /* version 2 has no instants: the day's start lets every event of the day
     * find the group, as that version did (version 3 reads the instant) */
    g->created_t = (int64_t)created * 86400 - m->offset;
    get_set(r, &g->members, nusers, "members");
    if (r->bad) break;
    if (!alive && g->members.n) {
      failf(r, "members", "a group that does not exist has none");
      break;
    }
    for (uint32_t k = 0; k < g->members.cap && !r->bad; k++) {
      if (!g->members.slot[k]) continue;
      imb_u32set *us = imb_meter_pool_set(m, &m->users[g->members.slot[k] - 1].groups);
      g = &m->groups[ix];
      if (!us || imb_u32set_add(us, ix) < 0) nomem(r);
    }
    if (alive) {
      m->gcount[type]++;
      m->groups_total++;
      if (type == IMB_G_AVCHATROOM) m->groups_av++;
      else if (!imb_gtype_is_av((imb_gtype)type)) m->groups_non_av++;
    }
  }
  enter(r, NULL, 0);
}

/* One counter of a day: within lo .. hi. */
static int64_t day_ctr(rd *r, const char *field, int64_t hi) {
  int64_t v = get_i64(r, field);
  if (!r->bad && (v < 0 || v > hi)) failf(r, field, "%lld is outside 0 .. %lld", (long long)v, (long long)hi);
  return v;
}

/* Days: DAU and the net group count's open, peak and close.  Each day that
 * saw group activity opens with the close of the one before (0 for the
 * first), moves by its creates less its disbands, and peaks between its open
 * and its open plus its creates: the chain ends at the groups that exist. */
static void get_days(rd *r, imb_meter *m) {
  /* day, has_groups, 8 counters: 4 + 1 + 64 */
  uint64_t n = get_count(r, 4, 69, UINT32_MAX, "days");
  int64_t nusers = m->uix.n, carried = 0;
  for (uint64_t i = 0; i < n && !r->bad; i++) {
    enter(r, "days", i);
    int32_t day = get_day(r, "day", 0);
    if (r->bad) break;
    if (i > 0 && day <= m->days[i - 1].day) {
      failf(r, "day", "does not come after the day before it");
      break;
    }
    imb_day *d = imb_meter_day(m, day);
    if (!d) {
      nomem(r);
      break;
    }
    d->has_groups = get_flag(r, "has_groups");
    d->dau = day_ctr(r, "dau", nusers);
    d->created = day_ctr(r, "created", DAY_EVENTS_MAX);
    d->disbanded = day_ctr(r, "disbanded", DAY_EVENTS_MAX);
    d->disbanded_same = day_ctr(r, "disbanded_same", d->disbanded);
    d->bchat = day_ctr(r, "bchat", d->created);
    /* not bounded by the group ids: a late create of an id disbanded after
     * that date counts it twice on the days between.  The chain below bounds
     * them by the creates of the days so far (at most 2^40 a day, so no sum
     * of them overflows) */
    d->g_open = day_ctr(r, "g_open", INT64_MAX);
    d->g_peak = day_ctr(r, "g_peak", INT64_MAX);
    d->g_close = day_ctr(r, "g_close", INT64_MAX);
    if (r->bad) break;
    if ((d->dau > 0 || d->has_groups) && day > m->last_day) {
      failf(r, "day", "has counts but is after the meter's last day");
      break;
    }
    if (!d->has_groups) {
      if (d->created || d->disbanded || d->g_open || d->g_peak || d->g_close)
        failf(r, "has_groups", "is 0 but the day has group counts");
      continue;
    }
    if (d->created + d->disbanded == 0) failf(r, "has_groups", "is 1 but the day has no create or disband");
    else if (d->g_open != carried)
      failf(r, "g_open", "%lld is not the close of the day before (%lld)", (long long)d->g_open, (long long)carried);
    else if (d->g_close - d->g_open != d->created - d->disbanded)
      failf(r, "g_close", "%lld is not the open %lld plus %lld created less %lld disbanded", (long long)d->g_close,
            (long long)d->g_open, (long long)d->created, (long long)d->disbanded);
    else if (d->g_peak < d->g_open || d->g_peak < d->g_close || d->g_peak > d->g_open + d->created)
      failf(r, "g_peak", "%lld is not between the open or close and the open plus the creates", (long long)d->g_peak);
    carried = d->g_close;
    d->net = d->created - d->disbanded;
    d->net_same = d->created - d->disbanded_same;
    /* the day's log of changes is not in the file: its peak stays as loaded */
    d->legacy = 1;
  }
  enter(r, NULL, 0);
  if (!r->bad && carried != m->groups_total)
    failf(r, "days", "the net group count ends at %lld, the file holds %lld groups that exist", (long long)carried,
          (long long)m->groups_total);
}

/* Months: MAU, at least the DAU of each of its days and at most their sum. */
static void get_months(rd *r, imb_meter *m) {
  uint64_t n = get_count(r, 4, 12, UINT32_MAX, "months");
  int64_t nusers = m->uix.n;
  uint32_t di = 0;
  for (uint64_t i = 0; i < n && !r->bad; i++) {
    enter(r, "months", i);
    int32_t mo = get_i32(r, "month");
    if (r->bad) break;
    if (mo < 12 || mo > 9999 * 12 + 11) {
      failf(r, "month", "%ld is not a month of years 1..9999", (long)mo);
      break;
    }
    if (i > 0 && mo <= m->months[i - 1].month) {
      failf(r, "month", "does not come after the month before it");
      break;
    }
    imb_month *rec = imb_meter_monthrec(m, mo);
    if (!rec) {
      nomem(r);
      break;
    }
    rec->mau = day_ctr(r, "mau", nusers);
    if (r->bad) break;
    if (rec->mau > 0 && (m->last_day == INT32_MIN || mo > imb_month_of_day(m->last_day))) {
      failf(r, "mau", "counts users in a month after the meter's last day");
      break;
    }
    int32_t first = imb_month_first_day(mo), end = first + imb_month_length(mo);
    int64_t most = 0, sum = 0;
    while (di < m->ndays && m->days[di].day < end) {
      const imb_day *d = &m->days[di++];
      if (d->day < first) {
        if (d->dau) {
          enter(r, "days", di - 1);
          failf(r, "dau", "counts users in a month the file has no MAU for");
        }
        continue;
      }
      if (d->dau > most) most = d->dau;
      sum += d->dau;
    }
    if (!r->bad && (rec->mau < most || rec->mau > sum))
      failf(r, "mau", "%lld is not between the month's highest DAU %lld and the sum of its DAU %lld",
            (long long)rec->mau, (long long)most, (long long)sum);
  }
  for (; !r->bad && di < m->ndays; di++) {
    if (m->days[di].dau) {
      enter(r, "days", di);
      failf(r, "dau", "counts users in a month the file has no MAU for");
    }
  }
  enter(r, NULL, 0);
}

static void get_events(rd *r, imb_meter *m) {
  uint64_t n = get_count(r, 4, 8, IMB_IDX_MAX, "event_ids");
  for (uint64_t i = 0; i < n && !r->bad; i++) {
    enter(r, "event_ids", i);
    size_t len = 0;
    const char *s = get_str(r, &len, IMB_ID_MAXLEN, "id");
    int32_t day = get_day(r, "day", 0);
    if (r->bad) break;
    if (day > m->last_day) {
      failf(r, "day", "is after the meter's last day");
      break;
    }
    /* no lower bound: actions that read no day (accounts, joins, friends)
     * still count on a released day, and their ids are kept with it */
    uint32_t before = m->eix.n;
    imb_status st = imb_meter_remember(m, s, len, day);
    if (st == IMB_ENOMEM) nomem(r);
    else if (st || m->eix.n != before + 1) failf(r, "id", "appears twice");
  }
  enter(r, NULL, 0);
}

/* The first instant of a day in the meter's offset. */
static int64_t day_start(const imb_meter *m, int32_t day) { return (int64_t)day * 86400 - m->offset; }

/* Version 3's last sections: when each group was created, and the open
 * days' logs of group changes.  A log must be the day's own: as many creates
 * and disbands as the day counts, in time order (disbands first at one
 * instant), each within the day, and played from the day's open count it
 * must reach the day's peak and close. */
static void get_times(rd *r, imb_meter *m) {
  uint64_t n = get_count(r, 4, 8, IMB_IDX_MAX, "group_times");
  if (!r->bad && n != m->gix.n)
    failf(r, "group_times", "%llu instants for %lu groups", (unsigned long long)n, (unsigned long)m->gix.n);
  for (uint64_t i = 0; i < n && !r->bad; i++) {
    enter(r, "group_times", i);
    int64_t t = get_i64(r, "created_t");
    imb_group *g = &m->groups[i];
    int32_t d;
    if (r->bad) break;
    /* a group id that was never created (only named by a refused event) has 0 */
    if ((g->alive || t != 0) && (imb_day_of(t, m->offset, &d) || d != g->created_day))
      failf(r, "created_t", "%lld is not an instant of the group's creation day", (long long)t);
    g->created_t = t;
  }
  enter(r, NULL, 0);
  uint64_t nl = get_count(r, 4, 8, m->ndays, "day_logs");
  int32_t prev = INT32_MIN;
  uint32_t at = 0;
  for (uint64_t i = 0; i < nl && !r->bad; i++) {
    enter(r, "day_logs", i);
    int32_t day = get_day(r, "day", 0);
    if (r->bad) break;
    while (at < m->ndays && m->days[at].day < day) at++;
    imb_day *d = at < m->ndays && m->days[at].day == day ? &m->days[at] : NULL;
    if (day <= prev || !d || !d->has_groups || day < m->released_before) {
      failf(r, "day", "is not a day with group changes after the one before, or is released");
      break;
    }
    prev = day;
    uint64_t k = get_count(r, 4, 9, (uint64_t)DAY_EVENTS_MAX * 2, "log");
    if (r->bad) break;
    if (k != (uint64_t)(d->created + d->disbanded)) {
      failf(r, "log", "%llu entries for %lld creates and %lld disbands", (unsigned long long)k,
            (long long)d->created, (long long)d->disbanded);
      break;
    }
    imb_gentry *log = k ? malloc((size_t)k * sizeof *log) : NULL;
    if (k && !log) {
      nomem(r);
      break;
    }
    int64_t lo = day_start(m, day), run = d->g_open, peak = d->g_open;
    for (uint64_t j = 0; j < k && !r->bad; j++) {
      int64_t t = get_i64(r, "t");
      unsigned kind = get_u8(r, "kind");
      if (r->bad) break;
      int64_t delta = kind == 0 ? 1 : -1;
      if (kind > 1) failf(r, "kind", "%u is neither a create (0) nor a disband (1)", kind);
      else if (t < lo || t >= lo + 86400) failf(r, "t", "%lld is not an instant of the day", (long long)t);
      else if (j && (t < log[j - 1].t || (t == log[j - 1].t && delta < log[j - 1].delta)))
        failf(r, "t", "the log is not in time order");
      log[j].t = t;
      log[j].delta = delta;
      run += delta;
      if (run > peak) peak = run;
    }
    if (!r->bad && (run != d->g_close || peak != d->g_peak))
      failf(r, "log", "played from the open count it reaches %lld at most and ends at %lld, not the day's peak %lld "
            "and close %lld", (long long)peak, (long long)run, (long long)d->g_peak, (long long)d->g_close);
    if (r->bad) {
      free(log);
      break;
    }
    d->log = log;
    d->nlog = d->logcap = (uint32_t)k;
    d->legacy = 0;
  }
  enter(r, NULL, 0);
}

static imb_meter *parse(rd *r, uint32_t version, imb_saved *saved) {
  size_t nrecs = 0;
  imb_record *recs = get_records(r, version, &nrecs);
  if (r->bad) {
    free(recs);
    return NULL;
  }
  int32_t offset = get_i32(r, "offset");
  if (!r->bad && !imb_tz_valid(offset))
    failf(r, "offset", "%ld seconds is not a zone of whole minutes from -12:00 to +14:00", (long)offset);
  imb_meter *m = r->bad ? NULL : imb_meter_alloc(offset);
  if (!r->bad && !m) nomem(r);
  if (m) {
    m->activated = get_day(r, "activated", 1);
    m->last_day = get_day(r, "last_day", 1);
    /* any day, even one before year 1: it is only compared (imb_meter_release
     * takes any day at least IMB_DEDUP_DAYS before the last) */
    m->released_before = get_i32(r, "released_before");
    if (!r->bad && m->released_before != INT32_MIN &&
        (m->last_day == INT32_MIN || (int64_t)m->released_before > (int64_t)m->last_day - IMB_DEDUP_DAYS))
      failf(r, "released_before", "is inside the %d days before the meter's last day", IMB_DEDUP_DAYS);
    get_segments(r, m, version);
    get_users(r, m);
    get_friends(r, m, version);
    get_groups(r, m);
    get_days(r, m);
    get_months(r, m);
    get_events(r, m);
    if (version >= 3) get_times(r, m);
    if (!r->bad && r->at != r->len) failf(r, NULL, "%zu bytes after the last section", r->len - r->at);
    if (!r->bad) check_activity(m, r);
  }
  if (r->bad) {
    imb_meter_free(m);
    free(recs);
    return NULL;
  }
  if (saved) {
    saved->version = version;
    saved->recs = recs;
    saved->nrecs = nrecs;
  } else {
    free(recs);
  }
  return m;
}

/* ---- loading ----------------------------------------------------------- */

static uint64_t le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The header alone, before anything else is read: `have` bytes of it at h,
 * and the whole file's size.  On success *version and *blen are set. */
static imb_status check_header(const unsigned char *h, size_t have, uint64_t total, uint32_t *version,
                               uint64_t *blen, imb_file_error *err) {
  if (have < 8 || memcmp(h, MAGIC, 8) != 0) {
    imb_file_why(err, 0, "not an imbill meter file (bad magic)");
    return IMB_ECORRUPT;
  }
  if (have < HEADER) {
    imb_file_why(err, 0, "truncated: %zu bytes, shorter than the %u-byte header", have, HEADER);
    return IMB_ECORRUPT;
  }
  uint32_t v = le32(h + 8), hl = le32(h + 12);
  uint64_t bl = le64(h + 16);
  if (v == 1) {
    imb_file_why(err, 0, "format version 1 is not read by this version of imbill (it reads versions 2 to 4, which "
            "keep per-user activity instead of per-day sets); replay the event log into a new meter");
    return IMB_ECORRUPT;
  }
  if (v < 2 || v > 4) {
    imb_file_why(err, 0, "unsupported format version %lu (this imbill reads versions 2 to 4)", (unsigned long)v);
    return IMB_ECORRUPT;
  }
  if (hl != HEADER) {
    imb_file_why(err, 0, "header length %lu is not %u", (unsigned long)hl, HEADER);
    return IMB_ECORRUPT;
  }
  if (bl > BODY_MAX || bl > SIZE_MAX) {
    imb_file_why(err, 0, "the header declares a body of %llu bytes, beyond the limit", (unsigned long long)bl);
    return IMB_ECORRUPT;
  }
  if (bl != total - HEADER) {
    imb_file_why(err, 0, "truncated or extended: the header declares %llu bytes of body, the file has %llu (length "
            "does not match)", (unsigned long long)bl, (unsigned long long)(total - HEADER));
    return IMB_ECORRUPT;
  }
  *version = v;
  *blen = bl;
  return IMB_OK;
}

static imb_status load_body(const unsigned char *hdr, const unsigned char *b, size_t blen, uint32_t version,
                            imb_meter **out, imb_saved *saved, imb_file_error *err) {
  if (fnv1a(b, blen) != le64(hdr + 24)) {
    imb_file_why(err, 0, "checksum mismatch (the body was damaged or altered)");
    return IMB_ECORRUPT;
  }
  char why[IMB_FILE_WHY];
  rd r = {b, blen, 0, 0, 0, NULL, 0, why, sizeof why};
  why[0] = 0;
  imb_meter *m = parse(&r, version, saved);
  if (!m) {
    if (r.nomem) {
      imb_file_why(err, 0, "out of memory");
      return IMB_ENOMEM;
    }
    imb_file_why(err, 0, "corrupt meter file: %s", why);
    return IMB_ECORRUPT;
  }
  *out = m;
  return IMB_OK;
}

static void clear(imb_meter **out, imb_saved *saved, imb_file_error *err) {
  if (out) *out = NULL;
  if (saved) {
    saved->version = 0;
    saved->recs = NULL;
    saved->nrecs = 0;
  }
  if (err) {
    err->sys = 0;
    err->why[0] = 0;
  }
}

imb_status imb_meter_load_bytes(const void *bytes, size_t len, imb_meter **out, imb_saved *saved,
                                imb_file_error *err) {
  clear(out, saved, err);
  if (!out) return IMB_ERANGE;
  /* a NULL with a length is refused as every NULL a loader needs, before a
   * byte of it is read */
  if (!bytes && len) {
    imb_file_why(err, 0, "bytes: NULL with a length of %zu", len);
    return IMB_ERANGE;
  }
  const unsigned char *p = bytes;
  uint32_t version;
  uint64_t blen;
  imb_status st = check_header(p, len, len, &version, &blen, err);
  if (st) return st;
  return load_body(p, p + HEADER, (size_t)blen, version, out, saved, err);
}

imb_status imb_meter_load(const char *path, size_t pathlen, imb_meter **out, imb_saved *saved,
                          imb_file_error *err) {
  clear(out, saved, err);
  if (!out) return IMB_ERANGE;
  char *p = NULL;
  imb_status st = imb_file_path(path, pathlen, &p, err);
  if (st) return st;
  int fd;
  uint64_t size;
  st = imb_file_open_regular(p, &fd, &size, err);
  free(p);
  if (st) return st;
  unsigned char hdr[HEADER], *body_p = NULL;
  ssize_t got = imb_file_read(fd, hdr, HEADER);
  if (got < 0) {
    imb_file_why(err, errno, "cannot read");
    st = IMB_EIO;
    goto done;
  }
  uint32_t version;
  uint64_t blen;
  if ((st = check_header(hdr, (size_t)got, size, &version, &blen, err))) goto done;
  body_p = malloc(blen ? (size_t)blen : 1);
  if (!body_p) {
    imb_file_why(err, 0, "out of memory");
    st = IMB_ENOMEM;
    goto done;
  }
  got = imb_file_read(fd, body_p, (size_t)blen);
  if (got < 0) {
    imb_file_why(err, errno, "cannot read");
    st = IMB_EIO;
    goto done;
  }
  if ((uint64_t)got != blen) {
    imb_file_why(err, 0, "truncated while it was read (%lld of %llu bytes of body)", (long long)got,
            (unsigned long long)blen);
    st = IMB_ECORRUPT;
    goto done;
  }
  st = load_body(hdr, body_p, (size_t)blen, version, out, saved, err);
done:
  free(body_p);
  close(fd);
  return st;
}

void imb_saved_free(imb_saved *s) {
  if (!s) return;
  free(s->recs);
  s->recs = NULL;
  s->nrecs = 0;
}
