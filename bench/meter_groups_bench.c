/* Memory and rate of the in-process meter's groups, memberships and
 * friendships, measured through imb_meter_apply: what an operator sizes a
 * meter (or a replay) by, beside meter_core_bench.c's bytes per user.
 * Built and run by bench/meter.sh.
 *   meter_groups_bench [users] [groups] [members per group] [friendships]
 * Each phase's bytes are the difference of imb_meter_memory's total before
 * and after it, over the phase's count; tables grow by doubling, so a figure
 * moves with where the count falls between two sizes (the users are created
 * first, so no phase pays for them). */
#include "imbill.h"
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t total(const imb_meter *m) {
  imb_meter_mem mem;
  imb_meter_memory(m, &mem);
  return mem.total;
}

static void apply(imb_meter *m, int32_t kind, const char *a, const char *b, int32_t gtype, int64_t t) {
  imb_event ev = {kind, a, strlen(a), b, b ? strlen(b) : 0, gtype, t, NULL, 0};
  imb_result res;
  imb_status st = imb_meter_apply(m, &ev, &res, NULL);
  if (st || res != IMB_APPLIED) {
    fprintf(stderr, "event %d %s %s: status %d result %d\n", (int)kind, a, b ? b : "", (int)st, (int)res);
    exit(1);
  }
}

/* One phase: n events, then bytes per item and events per second. */
static void report(const char *what, long long n, size_t before, size_t after, long long ns) {
  printf("%s=%lld\n", what, n);
  printf("bytes_per_%s=%.1f\n", what, n ? (double)(after - before) / (double)n : 0.0);
  printf("%s_events_per_second=%.0f\n", what, n ? n / (ns / 1e9) : 0.0);
}

int main(int argc, char **argv) {
  long long users = argc > 1 ? atoll(argv[1]) : 200000LL;
  long long groups = argc > 2 ? atoll(argv[2]) : 50000LL;
  long long per = argc > 3 ? atoll(argv[3]) : 20LL;
  long long friends = argc > 4 ? atoll(argv[4]) : 500000LL;
  if (users < 2 || groups < 0 || per < 0 || per > users || friends < 0) {
    fprintf(stderr, "usage: meter_groups_bench [users>=2] [groups] [members per group <= users] [friendships]\n");
    return 2;
  }
  int64_t t = 1614556800; /* 2021-03-01T00:00:00Z */
  imb_limits lim;
  imb_limits_unlimited(&lim);
  imb_meter *m;
  if (imb_meter_new(8 * 3600, "pro", 3, &lim, 0, &m)) return 1;
  char a[32], b[32];
  for (long long i = 1; i <= users; i++) {
    snprintf(a, sizeof a, "user%lld", i);
    apply(m, IMB_A_CREATE_ACCOUNT, a, NULL, 0, t);
  }

  size_t before = total(m);
  long long start = now_ns();
  for (long long g = 1; g <= groups; g++) {
    snprintf(a, sizeof a, "group%lld", g);
    apply(m, IMB_A_CREATE_GROUP, a, NULL, IMB_G_PUBLIC, t + 1);
  }
  long long ns = now_ns() - start;
  size_t after = total(m);
  report("group", groups, before, after, ns);

  /* distinct members per group: user k of group g is (g * 7919 + k) mod users,
   * different for k < per <= users */
  before = after;
  start = now_ns();
  for (long long g = 1; g <= groups; g++) {
    snprintf(a, sizeof a, "group%lld", g);
    for (long long k = 0; k < per; k++) {
      snprintf(b, sizeof b, "user%lld", (g * 7919 + k) % users + 1);
      apply(m, IMB_A_JOIN, a, b, 0, t + 2);
    }
  }
  ns = now_ns() - start;
  after = total(m);
  report("membership", groups * per, before, after, ns);

  /* two-way friendships between random distinct users; a pair drawn twice
   * is drawn again, so each counted friendship is new */
  before = after;
  uint64_t s = 7;
  long long made = 0;
  start = now_ns();
  while (made < friends) {
    long long x = (long long)(lcg(&s) % (uint64_t)users) + 1, y = (long long)(lcg(&s) % (uint64_t)users) + 1;
    if (x == y) continue;
    snprintf(a, sizeof a, "user%lld", x);
    snprintf(b, sizeof b, "user%lld", y);
    imb_event ev = {IMB_A_ADD_FRIEND, a, strlen(a), b, strlen(b), 0, t + 3, NULL, 0};
    imb_result res;
    if (imb_meter_apply(m, &ev, &res, NULL)) return 1;
    if (res == IMB_APPLIED) made++;
    else if (res != IMB_UNCHANGED) {
      fprintf(stderr, "friendship %s %s: result %d\n", a, b, (int)res);
      return 1;
    }
  }
  ns = now_ns() - start;
  after = total(m);
  report("friendship", friends, before, after, ns);
  printf("meter_bytes=%zu\n", after);
  imb_meter_free(m);
  return 0;
}
