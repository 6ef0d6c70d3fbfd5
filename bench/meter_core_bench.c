/* Logins per second through the C core (imb_meter_login), and the memory the
 * meter holds per distinct user-day and per distinct user.  Built and run by
 * bench/meter.sh; the same event stream as bench/meter_bench.lua. */
#include "imbill.h"
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The id of user k, written as a request would bring it: into a buffer that is
 * already in cache. */
static size_t user_id(char *out, uint32_t k) {
  char tmp[12];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + k % 10);
    k /= 10;
  } while (k);
  memcpy(out, "user", 4);
  for (size_t i = 0; i < n; i++) out[4 + i] = tmp[n - 1 - i];
  return 4 + n;
}

/* Transparent huge pages the process holds (Linux), -1 elsewhere: the kernel
 * may refuse the hint, and with 4 KiB pages each lookup also misses the TLB. */
static long huge_kb(void) {
  FILE *f = fopen("/proc/self/smaps_rollup", "r");
  char line[256];
  long kb = -1;
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "AnonHugePages:", 14) == 0) kb = atol(line + 14);
  fclose(f);
  return kb;
}

#define CHUNK 4096

/* The events, made before the clock starts: a log read in order, as a
 * gateway or a replay would hand them over. */
typedef struct stream {
  char (*id)[16];
  size_t *len;
  int64_t *t;
} stream;

static void make_stream(stream *st, long long events, long long users, int64_t t0, int days) {
  st->id = malloc((size_t)events * 16);
  st->len = malloc((size_t)events * sizeof *st->len);
  st->t = malloc((size_t)events * sizeof *st->t);
  if (!st->id || !st->len || !st->t) exit(1);
  uint64_t s = 42;
  for (long long i = 0; i < events; i++) {
    st->len[i] = user_id(st->id[i], (uint32_t)(lcg(&s) % (uint64_t)users) + 1);
    st->t[i] = t0 + (int64_t)(i * (days * 86400LL) / events);
  }
}

static void run(int batched, const stream *st, long long events, imb_meter **out, long long *ns) {
  imb_limits lim;
  imb_limits_unlimited(&lim);
  imb_meter *m;
  if (imb_meter_new(8 * 3600, "pro", 3, &lim, 0, &m)) exit(1);
  const char *ptr[CHUNK];
  long long start = now_ns();
  for (long long base = 0; base < events; base += CHUNK) {
    long long k = events - base < CHUNK ? events - base : CHUNK;
    if (batched) {
      size_t counted;
      for (long long i = 0; i < k; i++) ptr[i] = st->id[base + i];
      size_t badi;
      if (imb_meter_logins(m, ptr, st->len + base, st->t + base, (size_t)k, &counted, &badi)) exit(1);
    } else {
      for (long long i = base; i < base + k; i++) {
        imb_result res;
        if (imb_meter_login(m, st->id[i], st->len[i], st->t[i], &res, NULL)) exit(1);
      }
    }
  }
  *ns = now_ns() - start;
  *out = m;
}

int main(int argc, char **argv) {
  long long events = argc > 1 ? atoll(argv[1]) : 10000000LL;
  long long users = argc > 2 ? atoll(argv[2]) : 2000000LL;
  int days = 30;
  int64_t t0 = 1614556800; /* 2021-03-01T00:00:00Z */
  imb_meter *m, *mb;
  long long ns, nsb;
  stream st;
  make_stream(&st, events, users, t0, days);
  /* a third argument "batch" runs the batched path only (for profiling) */
  int only_batch = argc > 3 && strcmp(argv[3], "batch") == 0;
  imb_meter_mem mem;
  int64_t mau = 0;
  /* each path on a fresh meter, the other one freed: the second run must not
   * find memory (and huge pages) held by the first */
  if (!only_batch) {
    run(0, &st, events, &m, &ns);
    imb_meter_memory(m, &mem);
    mau = imb_meter_mau(m, 2021 * 12 + 2);
    long hp = huge_kb();
    imb_meter_free(m);
    printf("core_events=%lld\n", events);
    printf("core_events_per_second=%.0f\n", events / (ns / 1e9));
    if (hp >= 0) printf("core_huge_page_kb=%ld\n", hp);
  }
  run(1, &st, events, &mb, &nsb);
  printf("core_batch_events_per_second=%.0f\n", events / (nsb / 1e9));
  if (only_batch) {
    imb_meter_free(mb);
    return 0;
  }
  if (huge_kb() >= 0) printf("core_batch_huge_page_kb=%ld\n", huge_kb());
  if (mau != imb_meter_mau(mb, 2021 * 12 + 2)) return 2;
  imb_meter_free(mb);
  printf("distinct_users=%zu\nuser_days=%zu\nmau=%lld\n", mem.users, mem.user_days, (long long)mau);
  printf("bytes_per_user_day=%.2f\nbytes_per_user=%.2f\nmeter_bytes=%zu\n",
         (mem.day_bytes + mem.month_bytes) / (1.0 * mem.user_days), mem.user_bytes / (1.0 * mem.users), mem.total);
  free(st.id);
  free(st.len);
  free(st.t);
  return 0;
}
