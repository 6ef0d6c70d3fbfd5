/* What the C benchmarks share: a monotonic clock and a fixed pseudo-random
 * stream, so that every run of a benchmark sees the same events. */
#ifndef IMB_BENCH_UTIL_H
#define IMB_BENCH_UTIL_H

#include <stdint.h>
#include <time.h>

static inline uint64_t lcg(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return *s >> 33;
}

static inline long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#endif
