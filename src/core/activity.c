/* What a login changes, and what a day's group peak is: the two pieces of
 * counting that every store shares as code, not as a plan (a store that
 * cannot run them inside its atomic step runs them here and writes the
 * result back guarded; docs/store.md). */
#include "activity.h"

#include <limits.h>
#include <stdlib.h>

imb_status imb_activity_mark(imb_activity *a, int32_t day, int32_t month, int *day_new, int *month_new) {
  if (!a || !day_new || !month_new || !imb_day_in_calendar(day) || month != imb_month_of_day(day)) return IMB_ERANGE;
  int32_t first = imb_month_first_day(month);
  return imb_activity_mark_i(a, day, month, first, first + imb_month_length(month), day_new, month_new);
}

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void imb_activity_encode(const imb_activity *a, unsigned char *out) {
  put32(out, (uint32_t)a->last);
  put32(out + 4, a->months);
  put32(out + 8, (uint32_t)a->days);
  put32(out + 12, (uint32_t)(a->days >> 32));
}

/* Bytes from a store are untrusted: a state that no sequence of logins could
 * make (a day outside the calendar, bits outside the window) is refused. */
imb_status imb_activity_decode(const unsigned char *in, size_t len, imb_activity *a) {
  if (!in || !a) return IMB_ERANGE;
  if (len != IMB_ACTIVITY_BYTES) return IMB_ECORRUPT;
  a->last = (int32_t)get32(in);
  a->months = get32(in + 4);
  a->days = (uint64_t)get32(in + 8) | (uint64_t)get32(in + 12) << 32;
  if (a->last == IMB_NO_DAY) return a->months || a->days ? IMB_ECORRUPT : IMB_OK;
  if (a->last < IMB_DAY_MIN || a->last > IMB_DAY_MAX) return IMB_ECORRUPT;
  if (!(a->days & 1) || !(a->months & 1) || a->months >> IMB_ACTIVITY_MONTHS) return IMB_ECORRUPT;
  return IMB_OK;
}

typedef struct entry {
  int64_t t, delta;
} entry;

static int by_time(const void *x, const void *y) {
  const entry *a = x, *b = y;
  if (a->t != b->t) return a->t < b->t ? -1 : 1;
  /* at the same instant a disband is taken first: two events at one second
   * have no order of their own, and the lower peak is the one both could be */
  return (a->delta > b->delta) - (a->delta < b->delta);
}

imb_status imb_day_peak(int64_t open, int64_t *ts, int64_t *deltas, size_t n, int64_t *peak, int64_t *close) {
  entry small[64], *e = small;
  if (!peak || !close || (n && (!ts || !deltas))) return IMB_ERANGE;
  if (n > 64) {
    if (n > SIZE_MAX / sizeof *e || !(e = malloc(n * sizeof *e))) return IMB_ENOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    e[i].t = ts[i];
    e[i].delta = deltas[i];
  }
  qsort(e, n, sizeof *e, by_time);
  int64_t run = open, best = open;
  imb_status st = IMB_OK;
  for (size_t i = 0; i < n; i++) {
    ts[i] = e[i].t;
    deltas[i] = e[i].delta;
    if (__builtin_add_overflow(run, e[i].delta, &run)) st = IMB_EOVERFLOW;
    if (run > best) best = run;
  }
  if (e != small) free(e);
  if (st) return st;
  *peak = best;
  *close = run;
  return IMB_OK;
}
