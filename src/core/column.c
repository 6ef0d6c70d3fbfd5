/* Building scenario columns in C: ranges, ratios, sums, growth and seeded
 * random counts, each an exact integer rule (include/imbill.h). */
/* madvise and MADV_HUGEPAGE are not POSIX; the rest of the core is */
#define _DEFAULT_SOURCE 1
#include "core.h"

#include <stdlib.h>
#include <sys/mman.h>

#define PPM 1000000

__extension__ typedef unsigned __int128 u128;

imb_status imb_col_range(int64_t *out, size_t n, int64_t from, int64_t step) {
  int64_t v = from;
  for (size_t i = 0; i < n; i++) {
    out[i] = v;
    /* the step after the last value need not fit */
    if (i + 1 < n && __builtin_add_overflow(v, step, &v)) return IMB_EOVERFLOW;
  }
  return IMB_OK;
}

imb_status imb_col_scale(int64_t *out, const int64_t *in, size_t n, int64_t ppm, size_t *bad) {
  /* below this magnitude v * ppm and the rounding stay within 2^62 */
  /* (INT64_MIN has no magnitude in 64 bits: every value takes imb_muldiv) */
  int64_t fast = ppm == 0 ? INT64_MAX : ppm == INT64_MIN ? 0 : ((int64_t)1 << 62) / (ppm < 0 ? -ppm : ppm) / 2;
  for (size_t i = 0; i < n; i++) {
    int64_t v = in[i];
    if (v < fast && v > -fast) {
      int64_t p = v * ppm;
      /* half away from zero, as imb_muldiv */
      out[i] = p >= 0 ? (p + PPM / 2) / PPM : -((-p + PPM / 2) / PPM);
    } else if (imb_muldiv(v, ppm, PPM, &out[i])) {
      *bad = i;
      return IMB_EOVERFLOW;
    }
  }
  return IMB_OK;
}

imb_status imb_col_add(int64_t *out, const int64_t *a, const int64_t *b, size_t b_step, size_t n, size_t *bad) {
  for (size_t i = 0; i < n; i++) {
    if (__builtin_add_overflow(a[i], b[i * b_step], &out[i])) {
      *bad = i;
      return IMB_EOVERFLOW;
    }
  }
  return IMB_OK;
}

imb_status imb_col_grow(int64_t *out, const int64_t *in, size_t n, int64_t growth_ppm, int32_t months, size_t *bad) {
  imb_status s;
  /* the rates imb_grid_grow takes: past +10,000% a month 10^6 + growth_ppm
   * could overflow */
  if (months < 0 || growth_ppm <= -PPM || growth_ppm > (int64_t)100 * PPM) return IMB_ERANGE;
  for (size_t i = 0; i < n; i++) {
    int64_t v = in[i];
    for (int32_t k = 0; k < months && growth_ppm != 0; k++)
      if ((s = imb_grid_grow(v, growth_ppm, &v))) {
        *bad = i;
        return s;
      }
    out[i] = v;
  }
  return IMB_OK;
}

static uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void imb_col_random(int64_t *out, size_t n, uint64_t seed, int64_t lo, int64_t hi) {
  /* hi - lo + 1 values; 0 stands for all 2^64 */
  uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;
  uint64_t base = splitmix64(seed);
  for (size_t i = 0; i < n; i++) {
    uint64_t x = splitmix64(base + (uint64_t)i * 0x9e3779b97f4a7c15ull);
    /* scaled, not reduced modulo: floor(x * span / 2^64) */
    uint64_t off = span ? (uint64_t)(((u128)x * span) >> 64) : x;
    out[i] = (int64_t)((uint64_t)lo + off);
  }
}

size_t imb_col_find_outside(const int64_t *v, size_t n, int64_t lo, int64_t hi) {
  /* one unsigned comparison a value; the exact place only once one is out */
  uint64_t width = (uint64_t)hi - (uint64_t)lo;
  for (size_t at = 0; at < n; at += 1024) {
    size_t len = n - at < 1024 ? n - at : 1024;
    uint64_t out = 0;
    for (size_t i = 0; i < len; i++) out |= (uint64_t)v[at + i] - (uint64_t)lo > width;
    if (out)
      for (size_t i = 0; i < len; i++)
        if (v[at + i] < lo || v[at + i] > hi) return at + i;
  }
  return n;
}

/* Large columns are aligned to 2 MiB and marked for transparent huge pages
 * where the system has them (Linux): a fresh result column is then faulted
 * in 2 MiB at a time instead of 4 KiB, which on a million values is the
 * difference between 2,048 page faults and 4, and otherwise costs as much as
 * pricing the column.  Elsewhere it is plain aligned memory. */
#define HUGE_PAGE ((size_t)2 << 20)

int64_t *imb_col_alloc(size_t n) {
  size_t bytes = n * sizeof(int64_t);
  void *p = NULL;
  if (n > ((size_t)-1 / 2) / sizeof(int64_t)) return NULL;
  if (bytes < HUGE_PAGE) return (int64_t *)malloc(bytes ? bytes : 1);
  bytes = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
  if (posix_memalign(&p, HUGE_PAGE, bytes)) return NULL;
#ifdef MADV_HUGEPAGE
  madvise(p, bytes, MADV_HUGEPAGE); /* advice: refused or ignored, the memory works the same */
#endif
  return (int64_t *)p;
}

void imb_col_free(int64_t *v) { free(v); }
