/* Batch pricing: the charge line's fast form against its exact form, the
 * column kernel against the month total, and threaded runs against one
 * thread, on random inputs with the boundaries mixed in. */
#include "ctest.h"
#include "imbill.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define M(x) ((int64_t)(x) * 10000)

/* splitmix64: a fixed sequence, so a failure is reproducible */
static uint64_t next(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Editions with every shape of charge: whole-cent and sub-cent prices,
 * blocks of 1, small, odd, near 2^31 and past it, no charge, free. */
static const imb_rate RATES[] = {
  { M(14999), 0, { 10000, 10000, M(14999) }, { 100000, 100000, M(14999) }, { 0, 0, 0 } },
  { M(39900), 0, { 0, 0, 0 }, { 0, 0, 0 }, { 10000, 1, 15000 } },
  { 10000, 0, { 3, 7, 15000 }, { 0, 999983, 1499900 }, { 10, 1, 1 } },
  { M(100000000), 0, { 0, 3, 100000 }, { 5, ((int64_t)1 << 31) + 11, 333333 }, { 0, 1, 5000 } },
  { M(1), 0, { 12345, ((int64_t)1 << 31) - 1, 70000 }, { 0, (int64_t)1 << 31, M(2) }, { 7, 2, 1 } },
  { 0, 1, { 10000, 10000, M(14999) }, { 0, 0, 0 }, { 0, 0, 0 } },
};
#define NRATES (sizeof RATES / sizeof *RATES)

/* A count near something that matters to a charge, or anywhere. */
static int64_t pick(uint64_t *s, const imb_charge *c) {
  uint64_t r = next(s);
  int64_t free = c->free, block = c->block ? c->block : 1;
  switch (r % 8) {
  case 0: return (int64_t)(r >> 40) % 4;
  case 1: return free + (int64_t)((r >> 8) % 5) - 2 < 0 ? 0 : free + (int64_t)((r >> 8) % 5) - 2;
  case 2: return free + block * (int64_t)((r >> 8) % 50) + (int64_t)((r >> 20) % 3) - 1 < 0
                   ? 0 : free + block * (int64_t)((r >> 8) % 50) + (int64_t)((r >> 20) % 3) - 1;
  case 3: return free + ((int64_t)1 << 32) + (int64_t)((r >> 8) % 5) - 2;
  case 4: return (int64_t)(r >> (1 + (r >> 59))); /* any size, to 2^63 */
  default: return (int64_t)((r >> 8) % 2000000);
  }
}

static void fill(uint64_t *s, const imb_rate *r, size_t n, int64_t *d, int64_t *g, int64_t *m) {
  for (size_t i = 0; i < n; i++) {
    d[i] = pick(s, &r->dau);
    g[i] = pick(s, &r->groups);
    m[i] = pick(s, &r->mau);
  }
}

/* The month total as a batch gives it: the same arithmetic, and a total
 * beyond what money holds refused. */
static imb_status money_total(const imb_rate *r, int64_t d, int64_t g, int64_t m, int64_t *want) {
  imb_status s = imb_month_total(r, d, g, m, want);
  return s ? s : *want > IMB_MONEY_MAX_CENTS ? IMB_ERANGE : IMB_OK;
}

static void batch_equals_month_total_on_random_inputs(void) {
  enum { N = 5000 };
  static int64_t d[N], g[N], m[N], out[N];
  uint64_t s = 1;
  for (size_t e = 0; e < NRATES; e++) {
    fill(&s, &RATES[e], N, d, g, m);
    for (size_t i = 0; i < N; i++) {
      size_t bad;
      int field;
      int64_t want;
      imb_status ws = money_total(&RATES[e], d[i], g[i], m[i], &want);
      imb_status got = imb_totals_upto(&RATES[e], 1, d + i, 1, g + i, 1, m + i, 1, INT64_MAX, out, &bad, &field);
      CHECK_EQ(got, ws);
      if (!ws) CHECK_EQ(out[0], want);
    }
    /* whole chunks: each chunk with a value beyond reach is priced checked */
    size_t bad;
    int field;
    imb_status all = imb_totals_upto(&RATES[e], N, d, 1, g, 1, m, 1, INT64_MAX, out, &bad, &field);
    for (size_t i = 0; i < N; i++) {
      int64_t want;
      imb_status ws = money_total(&RATES[e], d[i], g[i], m[i], &want);
      if (ws) {
        /* the first failing scenario is the one reported */
        CHECK_EQ(all, ws);
        CHECK_EQ(bad, i);
        break;
      }
      CHECK_EQ(out[i], want);
    }
  }
}

static void charge_apply_agrees_with_the_month_total(void) {
  uint64_t s = 7;
  for (size_t e = 0; e < NRATES; e++) {
    for (int i = 0; i < 20000; i++) {
      const imb_rate *r = &RATES[e];
      int64_t v = pick(&s, &r->dau), blocks, cents, total, fee;
      imb_status a = imb_charge_apply(&r->dau, v, &blocks, &cents);
      imb_status b = imb_month_total(r, v, 0, 0, &total);
      imb_round_cents(r->monthly_fee, &fee);
      if (r->is_free) continue;
      CHECK_EQ(a, b);
      if (!a && !b) {
        int64_t groups_line, mau_line, bl;
        imb_charge_apply(&r->groups, 0, &bl, &groups_line);
        imb_charge_apply(&r->mau, 0, &bl, &mau_line);
        CHECK_EQ(total, fee + cents + groups_line + mau_line);
      }
    }
  }
}

static void charge_line_boundaries(void) {
  /* 2020 pro's DAU: 10,000 free, blocks of 10,000 at 149.99 */
  const imb_charge *c = &RATES[0].dau;
  static const int64_t v[] = { 0, 9999, 10000, 10001, 20000, 20001, 30000 };
  static const int64_t want[] = { 0, 0, 0, 14999, 14999, 29998, 29998 };
  for (int i = 0; i < 7; i++) {
    int64_t blocks, cents;
    CHECK_EQ(imb_charge_apply(c, v[i], &blocks, &cents), IMB_OK);
    CHECK_EQ(cents, want[i]);
  }
  /* a per-user price of 0.015: 10,001 users over 10,000 free is 0.015, rounded to 0.02 */
  int64_t blocks, cents;
  CHECK_EQ(imb_charge_apply(&RATES[1].mau, 10001, &blocks, &cents), IMB_OK);
  CHECK_EQ(blocks, 1);
  CHECK_EQ(cents, 2);
  CHECK_EQ(imb_charge_apply(c, -1, &blocks, &cents), IMB_ERANGE);
  CHECK_EQ(imb_charge_apply(c, INT64_MAX, &blocks, &cents), IMB_EOVERFLOW);
}

/* A batch total is an invoice's: at most what money holds, 922337203685477
 * cents, on every entry point; a cent more is refused at its scenario with
 * no field to blame (-1).  The counts themselves are bounded by the caller
 * only: a DAU beyond that figure on an edition that does not charge DAU is
 * priced. */
static void totals_are_at_most_what_money_holds(void) {
  const imb_rate cent_a_user = { 0, 0, { 0, 1, 10000 }, { 0, 0, 0 }, { 0, 0, 0 } };
  const imb_rate *two[2] = { &RATES[1], &cent_a_user };
  int64_t d[3] = { 5, IMB_MONEY_MAX_CENTS, IMB_MONEY_MAX_CENTS + 1 }, out[3], o1[3], o2[3];
  int64_t *outs[2] = { o1, o2 };
  size_t bad = 99, bad_rate = 99;
  int field = 99;
  CHECK_EQ(IMB_MONEY_MAX_CENTS, 922337203685477);
  CHECK_EQ(imb_totals_upto(&cent_a_user, 2, d, 1, NULL, 0, NULL, 0, INT64_MAX, out, &bad, &field), IMB_OK);
  CHECK_EQ(out[0], 5);
  CHECK_EQ(out[1], IMB_MONEY_MAX_CENTS);
  CHECK_EQ(imb_totals_upto(&cent_a_user, 3, d, 1, NULL, 0, NULL, 0, INT64_MAX, out, &bad, &field), IMB_ERANGE);
  CHECK_EQ(bad, 2);
  CHECK_EQ(field, -1);
  bad = 99;
  CHECK_EQ(imb_totals(&cent_a_user, 3, d, 1, NULL, 0, NULL, 0, out, &bad), IMB_ERANGE);
  CHECK_EQ(bad, 2);
  bad = 99;
  field = 99;
  CHECK_EQ(imb_totals_par(&cent_a_user, 3, d, 1, NULL, 0, NULL, 0, INT64_MAX, out, &bad, &field, 2), IMB_ERANGE);
  CHECK_EQ(bad, 2);
  CHECK_EQ(field, -1);
  /* the edition that charges MAU only prices the huge DAU; the other one refuses it */
  bad = 99;
  field = 99;
  CHECK_EQ(imb_totals_many(two, 2, 3, d, 1, NULL, 0, NULL, 0, INT64_MAX, outs, &bad, &field, &bad_rate, 1),
           IMB_ERANGE);
  CHECK_EQ(bad, 2);
  CHECK_EQ(bad_rate, 1);
  CHECK_EQ(field, -1);
  CHECK_EQ(imb_totals_many(two, 1, 3, d, 1, NULL, 0, NULL, 0, INT64_MAX, outs, &bad, &field, &bad_rate, 1), IMB_OK);
  CHECK_EQ(o1[2], 39900); /* the plan fee, 399.00 */
  /* a caller's own bound below money's still applies to totals */
  CHECK_EQ(imb_totals_upto(&cent_a_user, 2, d, 1, NULL, 0, NULL, 0, 4, out, &bad, &field), IMB_ERANGE);
  CHECK_EQ(bad, 0);
}

/* The pieces of a threaded run must give one thread's totals, and on failure
 * the same first scenario and field. */
static void threads_give_one_threads_results(void) {
  enum { N = 200000 };
  int64_t *d = malloc(N * sizeof *d), *g = malloc(N * sizeof *g), *m = malloc(N * sizeof *m);
  int64_t *one = malloc(N * sizeof *one), *many = malloc(N * sizeof *many);
  uint64_t s = 3;
  CHECK(d && g && m && one && many);
  if (!d || !g || !m || !one || !many) return;
  for (size_t e = 0; e < NRATES; e++) {
    for (size_t i = 0; i < N; i++) {
      d[i] = (int64_t)(next(&s) % 3000000);
      g[i] = (int64_t)(next(&s) % 30000000);
      m[i] = (int64_t)(next(&s) % 3000000);
    }
    size_t b1, b2;
    int f1, f2;
    CHECK_EQ(imb_totals_upto(&RATES[e], N, d, 1, g, 1, m, 1, INT64_MAX, one, &b1, &f1), IMB_OK);
    for (int t = 1; t <= 5; t++) {
      CHECK_EQ(imb_totals_par(&RATES[e], N, d, 1, g, 1, m, 1, INT64_MAX, many, &b2, &f2, t), IMB_OK);
      for (size_t i = 0; i < N; i++)
        if (many[i] != one[i]) {
          CHECK_EQ(many[i], one[i]);
          break;
        }
    }
  }
  /* failures in several pieces: the lowest index wins, with its field */
  for (size_t i = 0; i < N; i++) d[i] = g[i] = m[i] = 1;
  g[N - 10] = -1;
  m[N / 2 + 7] = -5;
  d[N / 2 + 9] = -1;
  for (int t = 0; t <= 5; t++) {
    size_t bad = 0;
    int field = -9;
    CHECK_EQ(imb_totals_par(&RATES[0], N, d, 1, g, 1, m, 1, INT64_MAX, many, &bad, &field, t), IMB_ERANGE);
    CHECK_EQ(bad, N / 2 + 7);
    CHECK_EQ(field, 2);
  }
  /* failures in many slices, taken by whichever thread is free: the lowest
   * index still wins, run after run */
  for (size_t i = N / 2; i < N; i += 997) g[i] = -1;
  for (int run = 0; run < 50; run++) {
    for (int t = 2; t <= 8; t += 3) {
      size_t bad = 0;
      int field = -9;
      CHECK_EQ(imb_totals_par(&RATES[0], N, d, 1, g, 1, m, 1, INT64_MAX, many, &bad, &field, t), IMB_ERANGE);
      CHECK_EQ(bad, N / 2);
      CHECK_EQ(field, 1);
    }
  }
  for (size_t i = N / 2; i < N; i += 997) g[i] = 1;
  g[N - 10] = -1;
  /* a total beyond the bound (field -1), before a bad count later on */
  m[N / 2 + 7] = 1;
  d[N / 3] = (int64_t)1 << 53; /* a count within the bound whose total is not */
  for (int t = 1; t <= 4; t++) {
    size_t bad = 0;
    int field = -9;
    CHECK_EQ(imb_totals_par(&RATES[0], N, d, 1, g, 1, m, 1, (int64_t)1 << 53, many, &bad, &field, t), IMB_ERANGE);
    CHECK_EQ(bad, N / 3);
    CHECK_EQ(field, -1);
  }
  free(d);
  free(g);
  free(m);
  free(one);
  free(many);
}

static void grid_threads_give_one_threads_results(void) {
  static const int64_t growth[] = { -20000, 0, 35000, 122500 };
  enum { NS = 3000 };
  static int64_t start[NS];
  for (int i = 0; i < NS; i++) start[i] = (int64_t)i * 41;
  imb_grid g = { RATES, NRATES, growth, 4, start, NS, 13, 90000, 1500000, 3200000 };
  size_t n;
  CHECK_EQ(imb_grid_check(&g, &n), IMB_OK);
  int64_t *one = malloc(n * sizeof *one), *many = malloc(n * sizeof *many);
  CHECK(one && many);
  if (!one || !many) return;
  size_t bad;
  CHECK_EQ(imb_grid_run(&g, 0, n, one, &bad), IMB_OK);
  /* each scenario is the sum of its months' totals */
  for (size_t i = 0; i < n; i += 997) {
    size_t per = 4 * NS, e = i / per, gi = i % per / NS, si = i % NS;
    int64_t dau = start[si], total = 0, c;
    for (int k = 0; k < 13; k++) {
      int64_t extra, mau;
      imb_muldiv(dau, 1500000, 1000000, &extra);
      imb_muldiv(dau, 3200000, 1000000, &mau);
      CHECK_EQ(imb_month_total(&RATES[e], dau, 90000 + extra, mau, &c), IMB_OK);
      total += c;
      if (k < 12) imb_grid_grow(dau, growth[gi], &dau);
    }
    CHECK_EQ(one[i], total);
  }
  for (int t = 0; t <= 4; t++) {
    CHECK_EQ(imb_grid_run_par(&g, 0, n, many, &bad, t), IMB_OK);
    for (size_t i = 0; i < n; i++)
      if (many[i] != one[i]) {
        CHECK_EQ(many[i], one[i]);
        break;
      }
    /* a slice */
    CHECK_EQ(imb_grid_run_par(&g, 1000, n - 333, many, &bad, t), IMB_OK);
    CHECK_EQ(many[0], one[1000]);
    CHECK_EQ(many[n - 1334], one[n - 334]);
  }
  /* a failure (a total beyond 64 bits) in a late piece and an earlier one */
  start[NS - 5] = (int64_t)1 << 62;
  start[NS / 2] = (int64_t)1 << 61;
  for (int t = 1; t <= 4; t++) {
    bad = 0;
    CHECK(imb_grid_run_par(&g, 0, n, many, &bad, t) != IMB_OK);
    CHECK_EQ(bad, NS / 2);
  }
  free(one);
  free(many);
}

/* A stop poll that says yes on its `yes`-th call and records whether every
 * call came on the thread that started the run. */
typedef struct poll_log {
  int calls, yes, foreign;
  pthread_t caller;
} poll_log;

static int poll_count(void *ctx) {
  poll_log *p = (poll_log *)ctx;
  if (!pthread_equal(pthread_self(), p->caller)) p->foreign++;
  return ++p->calls >= p->yes;
}

/* A grid long enough for a stop to come in its middle (100,000 starts and
 * two growth rates over 120 months, on every rate), its totals on `threads`
 * threads in `one` and room for another run in `out`.  0 when memory is
 * short. */
typedef struct long_grid {
  imb_grid g;
  int64_t *start, *one, *out;
  size_t n;
} long_grid;

static int long_grid_new(long_grid *lg, int threads) {
  static const int64_t growth[] = { 0, 1000 };
  enum { NS = 100000 };
  size_t bad;
  memset(lg, 0, sizeof *lg);
  lg->start = malloc(NS * sizeof *lg->start);
  CHECK(lg->start != NULL);
  if (!lg->start) return 0;
  for (int i = 0; i < NS; i++) lg->start[i] = (int64_t)i * 7;
  imb_grid g = { RATES, NRATES, growth, 2, lg->start, NS, 120, 0, 0, 3000000 };
  lg->g = g;
  CHECK_EQ(imb_grid_check(&lg->g, &lg->n), IMB_OK);
  lg->one = malloc(lg->n * sizeof *lg->one);
  lg->out = malloc(lg->n * sizeof *lg->out);
  CHECK(lg->one && lg->out);
  if (!lg->one || !lg->out) return 0;
  CHECK_EQ(imb_grid_run_par(&lg->g, 0, lg->n, lg->one, &bad, threads), IMB_OK);
  return 1;
}

static void long_grid_free(long_grid *lg) {
  free(lg->start);
  free(lg->one);
  free(lg->out);
}

/* A long grid or column pricing stops when the caller's poll says so (a
 * notebook's interrupt): IMB_ESTOPPED, on any number of threads, with the
 * poll only ever called on the caller's thread; a poll that never says yes,
 * or no stop at all, changes no total. */
static void a_stop_ends_a_long_call_on_the_callers_thread(void) {
  long_grid lg;
  if (!long_grid_new(&lg, 0)) return;
  const imb_grid *g = &lg.g;
  size_t n = lg.n, bad;
  int64_t *one = lg.one, *out = lg.out;
  for (int t = 1; t <= 2; t++) {
    poll_log p = { 0, 1, 0, pthread_self() };
    imb_stop stop = { poll_count, &p };
    CHECK_EQ(imb_grid_run_stop(g, 0, n, out, &bad, t, &stop), IMB_ESTOPPED);
    CHECK_EQ(p.calls, 1);
    CHECK_EQ(p.foreign, 0);
    /* a poll that never says yes: the same totals as no stop */
    poll_log never = { 0, 1 << 30, 0, pthread_self() };
    imb_stop keep = { poll_count, &never };
    CHECK_EQ(imb_grid_run_stop(g, 0, n, out, &bad, t, &keep), IMB_OK);
    CHECK_EQ(never.foreign, 0);
    CHECK(memcmp(out, one, n * sizeof *out) == 0);
    CHECK_EQ(imb_grid_run_stop(g, 0, n, out, &bad, t, NULL), IMB_OK);
    CHECK(memcmp(out, one, n * sizeof *out) == 0);
  }
  /* the pricing of columns: 3 editions of 2^24 scenarios */
  size_t cn = (size_t)1 << 24;
  int64_t *dau = malloc(cn * sizeof *dau), *o[3];
  CHECK(dau != NULL);
  if (!dau) {
    long_grid_free(&lg);
    return;
  }
  for (size_t i = 0; i < cn; i++) dau[i] = (int64_t)(i % 3000000);
  for (int e = 0; e < 3; e++) o[e] = malloc(cn * sizeof *o[e]);
  const imb_rate *rates[3] = { &RATES[0], &RATES[1], &RATES[2] };
  size_t rb;
  int field;
  for (int t = 1; t <= 2; t++) {
    poll_log p = { 0, 1, 0, pthread_self() };
    imb_stop stop = { poll_count, &p };
    CHECK_EQ(imb_totals_many_stop(rates, 3, cn, dau, 1, NULL, 0, dau, 1, INT64_MAX, o, &bad, &field, &rb, t, &stop),
             IMB_ESTOPPED);
    CHECK_EQ(p.calls, 1);
    CHECK_EQ(p.foreign, 0);
  }
  CHECK_EQ(imb_totals_many_stop(rates, 3, 1000, dau, 1, NULL, 0, dau, 1, INT64_MAX, o, &bad, &field, &rb, 2, NULL),
           IMB_OK);
  CHECK_STR(imb_strerror(IMB_ESTOPPED), "stopped by the caller");
  for (int e = 0; e < 3; e++) free(o[e]);
  free(dau);
  long_grid_free(&lg);
}

/* The threads this process runs now (Linux: /proc/self/status), or -1 where
 * that cannot be read, so a test can see that a call left none behind. */
static int live_threads(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  int n = -1;
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "Threads:", 8) == 0) n = atoi(line + 8);
  fclose(f);
  return n;
}

/* A joined thread has left our code, but the kernel may list it for a moment
 * while it exits (longer under valgrind), so the count is read until it is
 * `want`, for at most 5 s. */
static int settled_threads(int want) {
  int n = live_threads();
  for (int i = 0; i < 100 && n != want; i++) {
    struct timespec pause = { 0, 50000000L };
    nanosleep(&pause, NULL);
    n = live_threads();
  }
  return n;
}

/* A stop that comes in the middle of a long threaded grid (the poll says yes
 * on its third call, some 40 ms in, while every thread is pricing): the call
 * returns IMB_ESTOPPED, the poll was not asked again once it said yes and
 * never off the caller's thread, no thread is left running, and the next run
 * of the same grid gives one thread's totals exactly. */
static void a_stop_mid_job_joins_every_thread_and_leaves_nothing_behind(void) {
  long_grid lg;
  if (!long_grid_new(&lg, 1)) return;
  const imb_grid *g = &lg.g;
  size_t n = lg.n, bad;
  int64_t *one = lg.one, *out = lg.out;
  int before = live_threads();
  for (int t = 2; t <= 3; t++) {
    poll_log p = { 0, 3, 0, pthread_self() };
    imb_stop stop = { poll_count, &p };
    memset(out, 0, n * sizeof *out);
    CHECK_EQ(imb_grid_run_stop(g, 0, n, out, &bad, t, &stop), IMB_ESTOPPED);
    CHECK_EQ(p.calls, 3);
    CHECK_EQ(p.foreign, 0);
    CHECK_EQ(settled_threads(before), before);
    /* a thread still pricing would go on writing totals: none does */
    int64_t *seen = malloc(n * sizeof *seen);
    CHECK(seen != NULL);
    if (seen) {
      memcpy(seen, out, n * sizeof *out);
      struct timespec ms = { 0, 50000000 };
      nanosleep(&ms, NULL);
      CHECK(memcmp(seen, out, n * sizeof *out) == 0);
      free(seen);
    }
    CHECK_EQ(imb_grid_run_par(g, 0, n, out, &bad, t), IMB_OK);
    CHECK(memcmp(out, one, n * sizeof *out) == 0);
  }
  long_grid_free(&lg);
}

/* On 1, 2 and 3 threads the editions fail with an overflow (not a bad field)
 * at scenario want_bad, on edition want_rate. */
static void many_overflow_at(const imb_rate *const *rates, size_t n, const int64_t *d, const int64_t *g,
                             const int64_t *m, int64_t *const *outs, size_t want_bad, size_t want_rate) {
  for (int t = 1; t <= 3; t++) {
    size_t bad = 0, rate = 9;
    int field = -9;
    CHECK_EQ(imb_totals_many(rates, NRATES, n, d, 1, g, 1, m, 1, INT64_MAX, outs, &bad, &field, &rate, t),
             IMB_EOVERFLOW);
    CHECK_EQ(bad, want_bad);
    CHECK_EQ(rate, want_rate);
    CHECK_EQ(field, -1);
  }
}

/* Several editions priced together give each edition's own totals; the first
 * failing scenario wins, and at one scenario the first edition failing there. */
static void many_editions_give_each_editions_totals(void) {
  enum { N = 70000 };
  int64_t *d = malloc(N * sizeof *d), *g = malloc(N * sizeof *g), *m = malloc(N * sizeof *m);
  int64_t *outs[NRATES], *one = malloc(N * sizeof *one);
  const imb_rate *rates[NRATES];
  uint64_t s = 5;
  int ok = d && g && m && one;
  for (size_t e = 0; e < NRATES; e++) {
    rates[e] = &RATES[e];
    outs[e] = malloc(N * sizeof **outs);
    ok = ok && outs[e];
  }
  CHECK(ok);
  if (!ok) return;
  for (size_t i = 0; i < N; i++) {
    d[i] = (int64_t)(next(&s) % 3000000);
    g[i] = (int64_t)(next(&s) % 30000000);
    m[i] = (int64_t)(next(&s) % 3000000);
  }
  for (int t = 1; t <= 3; t++) {
    size_t bad, rate;
    int field;
    CHECK_EQ(imb_totals_many(rates, NRATES, N, d, 1, g, 1, m, 1, INT64_MAX, outs, &bad, &field, &rate, t), IMB_OK);
    for (size_t e = 0; e < NRATES; e++) {
      CHECK_EQ(imb_totals_upto(rates[e], N, d, 1, g, 1, m, 1, INT64_MAX, one, &bad, &field), IMB_OK);
      for (size_t i = 0; i < N; i++)
        if (outs[e][i] != one[i]) {
          CHECK_EQ(outs[e][i], one[i]);
          break;
        }
    }
  }
  /* a MAU beyond 64 bits on the per-user editions (1 and 3), and later a
   * DAU that only edition 0 prices beyond 64 bits */
  m[40000] = INT64_MAX;
  d[30000] = INT64_MAX;
  many_overflow_at(rates, N, d, g, m, outs, 30000, 0);
  d[30000] = 1;
  many_overflow_at(rates, N, d, g, m, outs, 40000, 1);
  free(d);
  free(g);
  free(m);
  free(one);
  for (size_t e = 0; e < NRATES; e++) free(outs[e]);
}

/* A pair where editions share the lowest total is a tie for each of them
 * and a win for none, whatever their order: 3 editions x 4 pairs, where pair
 * 0 is won by edition 2, pair 1 tied by editions 0 and 1, pair 2 tied by all
 * three, pair 3 won by edition 0. */
static void grid_ties_are_nobodys_win(void) {
  const int64_t totals[] = { 500, 100, 7, 1,    /* edition 0 */
                             400, 100, 7, 2,    /* edition 1 */
                             300, 200, 7, 3 };  /* edition 2 */
  imb_grid g;
  uint64_t wins[3], ties[3];
  memset(&g, 0, sizeof g);
  g.n_rates = 3;
  g.n_growth = 2;
  g.n_start = 2;
  imb_grid_wins(&g, totals, wins);
  imb_grid_ties(&g, totals, ties);
  CHECK_EQ(wins[0], 1);
  CHECK_EQ(wins[1], 0);
  CHECK_EQ(wins[2], 1);
  CHECK_EQ(ties[0], 2);
  CHECK_EQ(ties[1], 2);
  CHECK_EQ(ties[2], 1);
}

/* The mean of a grid or a column: the exact sum divided once, half up
 * (1, 2 -> 2; 1, 2, 2 -> 2; 1, 1, 2 -> 1; -1, -2 -> -2, away from zero); no
 * values is no mean.  A sum past 64 bits is neither wrapped nor refused: the
 * mean of values that fit fits (it was IMB_EOVERFLOW for two of INT64_MAX,
 * whose mean is INT64_MAX). */
static void the_mean_rounds_the_exact_sum_once(void) {
  const int64_t a[] = { 1, 2 }, b[] = { 1, 2, 2 }, c[] = { 1, 1, 2 }, big[] = { INT64_MAX, INT64_MAX };
  const int64_t near[] = { INT64_MAX, INT64_MAX - 1 }, low[] = { INT64_MIN, INT64_MIN, INT64_MIN };
  const int64_t lowhalf[] = { INT64_MIN, INT64_MIN + 1 }, odd[] = { INT64_MAX, INT64_MAX, 1 }, neg[] = { -1, -2 };
  int64_t m = -7;
  CHECK_EQ(imb_stats_mean(a, 2, &m), IMB_OK);
  CHECK_EQ(m, 2);
  CHECK_EQ(imb_stats_mean(b, 3, &m), IMB_OK);
  CHECK_EQ(m, 2);
  CHECK_EQ(imb_stats_mean(c, 3, &m), IMB_OK);
  CHECK_EQ(m, 1);
  CHECK_EQ(imb_stats_mean(big, 1, &m), IMB_OK);
  CHECK_EQ(m, INT64_MAX);
  CHECK_EQ(imb_stats_mean(big, 2, &m), IMB_OK);
  CHECK_EQ(m, INT64_MAX);
  /* (2^64 - 3) / 2 = 2^63 - 1.5, half up to 2^63 - 1 */
  CHECK_EQ(imb_stats_mean(near, 2, &m), IMB_OK);
  CHECK_EQ(m, INT64_MAX);
  CHECK_EQ(imb_stats_mean(low, 3, &m), IMB_OK);
  CHECK_EQ(m, INT64_MIN);
  /* -2^63 + 0.5: away from zero, -2^63 */
  CHECK_EQ(imb_stats_mean(lowhalf, 2, &m), IMB_OK);
  CHECK_EQ(m, INT64_MIN);
  /* (2^64 - 1) / 3 = 6148914691236517205 exactly */
  CHECK_EQ(imb_stats_mean(odd, 3, &m), IMB_OK);
  CHECK_EQ(m, INT64_C(6148914691236517205));
  CHECK_EQ(imb_stats_mean(neg, 2, &m), IMB_OK);
  CHECK_EQ(m, -2);
  CHECK_EQ(imb_stats_mean(a, 0, &m), IMB_ERANGE);
}

/* A rate past what a grid takes made 10^6 + growth_ppm overflow: a negative
 * DAU answered IMB_OK. */
static void growth_outside_the_grids_range_is_refused(void) {
  int64_t next = 0, in[1] = {5}, out[1] = {0};
  size_t bad = 0;
  CHECK_EQ(imb_grid_grow(5, INT64_MAX, &next), IMB_ERANGE);
  CHECK_EQ(imb_grid_grow(1000000, INT64_MAX - 10, &next), IMB_ERANGE);
  CHECK_EQ(imb_grid_grow(5, -1000000, &next), IMB_ERANGE);
  CHECK_EQ(imb_grid_grow(5, 0, NULL), IMB_ERANGE);
  CHECK_EQ(imb_col_grow(out, in, 1, INT64_MAX, 1, &bad), IMB_ERANGE);
  /* the boundaries: +10,000% a month and just above -100% */
  CHECK_EQ(imb_grid_grow(5, 100000000, &next), IMB_OK);
  CHECK_EQ(next, 505);
  CHECK_EQ(imb_grid_grow(5, 100000001, &next), IMB_ERANGE);
  CHECK_EQ(imb_grid_grow(1000000, -999999, &next), IMB_OK);
  CHECK_EQ(next, 1);
  CHECK_EQ(imb_col_grow(out, in, 1, 100000000, 2, &bad), IMB_OK);
  CHECK_EQ(out[0], 51005);
}

CTEST_SUITE(batch_tests) = {
  { "batch: the column kernel gives the month total on random inputs and boundaries",
    batch_equals_month_total_on_random_inputs },
  { "batch: a total is at most what money holds, on every entry point; a cent more is refused", totals_are_at_most_what_money_holds },
  { "batch: one charge line for imb_charge_apply and the month total", charge_apply_agrees_with_the_month_total },
  { "batch: the charge line at 0, the free quota, free+1, block edges, negative and overflowing values",
    charge_line_boundaries },
  { "batch: threaded totals equal one thread's; the first failure by index wins", threads_give_one_threads_results },
  { "batch: a threaded grid equals one thread's and the month-by-month sum; the first failure wins",
    grid_threads_give_one_threads_results },
  { "batch: a caller's stop ends a long grid or column pricing (IMB_ESTOPPED), polled on the caller's thread only",
    a_stop_ends_a_long_call_on_the_callers_thread },
  { "batch: a stop in the middle of a threaded grid (the poll says yes on its 3rd call, 2 and 3 threads) joins "
    "every thread, and the next run gives one thread's totals",
    a_stop_mid_job_joins_every_thread_and_leaves_nothing_behind },
  { "batch: several editions priced together give each one's totals; the first failure and edition win",
    many_editions_give_each_editions_totals },
  { "stats: a grid pair that editions share the lowest total of is a tie for each and a win for none",
    grid_ties_are_nobodys_win },
  { "stats: the mean rounds the exact sum once, half up; no values is refused, a sum past 64 bits is taken in 128",
    the_mean_rounds_the_exact_sum_once },
  { "grid: a growth rate outside the grid's (-100%, +10,000%] is refused by imb_grid_grow and imb_col_grow, never "
    "overflowed", growth_outside_the_grids_range_is_refused },
  { NULL, NULL },
};
