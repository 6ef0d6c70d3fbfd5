#include "core.h"

#include "charge.h"
#include "threads.h"

#include <string.h>

#define PPM 1000000

/* The growth rates a grid takes, as imb_grid_check has them: above -100%,
 * at most +10,000% a month (10^6 + growth_ppm then never overflows). */
#define GROWTH_OK(ppm) ((ppm) > -PPM && (ppm) <= (int64_t)100 * PPM)

imb_status imb_grid_check(const imb_grid *g, size_t *n) {
  imb_status s;
  if (!g || !n) return IMB_ERANGE;
  if (g->n_rates == 0 || g->n_growth == 0 || g->n_start == 0) return IMB_ERANGE;
  if (!g->rates || !g->growth_ppm || !g->start_dau) return IMB_ERANGE;
  if (g->months < 1 || g->months > IMB_GRID_MAX_MONTHS) return IMB_ERANGE;
  if (g->groups < 0 || g->groups_per_dau_ppm < 0 || g->mau_per_dau_ppm < 0) return IMB_ERANGE;
  for (size_t i = 0; i < g->n_rates; i++)
    if ((s = imb_rate_check(&g->rates[i])) != IMB_OK) return s;
  for (size_t i = 0; i < g->n_growth; i++)
    if (!GROWTH_OK(g->growth_ppm[i])) return IMB_ERANGE;
  for (size_t i = 0; i < g->n_start; i++)
    if (g->start_dau[i] < 0) return IMB_ERANGE;
  size_t per = g->n_growth * g->n_start;
  if (per / g->n_start != g->n_growth) return IMB_EOVERFLOW;
  size_t all = per * g->n_rates;
  if (all / g->n_rates != per) return IMB_EOVERFLOW;
  *n = all;
  return IMB_OK;
}

imb_status imb_grid_grow(int64_t dau, int64_t growth_ppm, int64_t *next) {
  if (!next || dau < 0 || !GROWTH_OK(growth_ppm)) return IMB_ERANGE;
  return imb_muldiv(dau, PPM + growth_ppm, PPM, next);
}

/* round_half_up(p / d) for 0 <= p < 2^61, d > 0: the same result as
 * imb_muldiv(p, 1, d) without its 128-bit division. */
static inline int64_t rhu(int64_t p, int64_t d) { return (2 * p + d) / (2 * d); }

#define FAST_LIMIT ((int64_t)1 << 60)

/* The largest x for which x * ppm stays below 2^59, so rhu() applies. */
static int64_t fast_below(int64_t ppm) { return FAST_LIMIT / (ppm + 1) / 2; }

/* round_half_up(x * ppm / 10^6) for x >= 0, 0 <= ppm; fast = fast_below(ppm). */
static inline imb_status scale_ppm(int64_t x, int64_t ppm, int64_t fast, int64_t *out) {
  if (x < fast) {
    *out = rhu(x * ppm, PPM);
    return IMB_OK;
  }
  return imb_muldiv(x, ppm, PPM, out);
}

/* A run's scenarios lo .. hi-1 and their output, shared by its pieces. */
typedef struct grid_job {
  const imb_grid *g;
  size_t lo;
  int64_t *out;
  int64_t groups_fast, mau_fast; /* fast_below() of the two ratios */
} grid_job;

/* One scenario: the horizon's total in cents, a month at a time, each month
 * priced by the edition's lines as on an invoice. */
static imb_status scenario(const grid_job *j, const imb_lines *ls, int64_t dau, int64_t growth,
                           int64_t *cents) {
  const imb_grid *g = j->g;
  int64_t total = 0, c, groups, mau, extra, mul = PPM + growth, grow_fast = fast_below(mul);
  imb_status s;
  for (int32_t k = 0; k < g->months; k++) {
    groups = g->groups;
    if (g->groups_per_dau_ppm) {
      if ((s = scale_ppm(dau, g->groups_per_dau_ppm, j->groups_fast, &extra))) return s;
      if (__builtin_add_overflow(groups, extra, &groups)) return IMB_EOVERFLOW;
    }
    mau = 0;
    if (g->mau_per_dau_ppm && (s = scale_ppm(dau, g->mau_per_dau_ppm, j->mau_fast, &mau))) return s;
    if ((s = imb_lines_total(ls, dau, groups, mau, &c))) return s;
    if (__builtin_add_overflow(total, c, &total)) return IMB_EOVERFLOW;
    if (k + 1 < g->months && growth != 0 && (s = scale_ppm(dau, mul, grow_fast, &dau))) return s;
  }
  /* the horizon's total is money, as an invoice's is */
  if (total > IMB_MONEY_MAX_CENTS) return IMB_ERANGE;
  *cents = total;
  return IMB_OK;
}

/* Scenarios j->lo + a .. j->lo + b - 1 (imb_par_fn; *bad relative to j->lo). */
static imb_status grid_range(void *ctx, size_t a, size_t b, size_t *bad, int *aux, imb_par *par) {
  const grid_job *j = (const grid_job *)ctx;
  const imb_grid *g = j->g;
  size_t at = j->lo + a, per = g->n_growth * g->n_start;
  /* the coordinates of the first scenario, then counted up: no division a scenario */
  size_t r = at / per, gi = at % per / g->n_start, si = at % g->n_start, have = (size_t)-1;
  imb_lines ls;
  imb_status s;
  (void)aux;
  for (size_t x = a; x < b; x++) {
    if (r != have) {
      if ((s = imb_lines_init(&ls, &g->rates[r], 1))) {
        *bad = x;
        return s;
      }
      have = r;
    }
    if ((x & 1023) == 0 && imb_par_stop(par, x)) return IMB_OK;
    if ((s = scenario(j, &ls, g->start_dau[si], g->growth_ppm[gi], &j->out[x]))) {
      *bad = x;
      return s;
    }
    if (++si == g->n_start) {
      si = 0;
      if (++gi == g->n_growth) {
        gi = 0;
        r++;
      }
    }
  }
  return IMB_OK;
}

/* A 10,000-month pricing (a few hundred scenarios) outweighs a thread's start. */
#define GRID_GRAIN 512

imb_status imb_grid_run_stop(const imb_grid *g, size_t lo, size_t hi, int64_t *out, size_t *bad, int threads,
                             const imb_stop *stop) {
  size_t n, at = 0;
  int aux;
  imb_status s = imb_grid_check(g, &n);
  if (s) return s;
  if (lo > hi || hi > n) return IMB_ERANGE;
  grid_job j = { g, lo, out, fast_below(g->groups_per_dau_ppm), fast_below(g->mau_per_dau_ppm) };
  /* a run that may be stopped goes through imb_parallel even on one thread:
   * that is where the stop is polled */
  s = threads == 1 && !(stop && stop->poll) ? grid_range(&j, 0, hi - lo, &at, &aux, NULL)
                                           : imb_parallel(hi - lo, threads, GRID_GRAIN, grid_range, &j, &at, &aux, stop);
  if (s && s != IMB_ESTOPPED && bad) *bad = lo + at;
  return s;
}

imb_status imb_grid_run_par(const imb_grid *g, size_t lo, size_t hi, int64_t *out, size_t *bad, int threads) {
  return imb_grid_run_stop(g, lo, hi, out, bad, threads, NULL);
}

imb_status imb_grid_run(const imb_grid *g, size_t lo, size_t hi, int64_t *out, size_t *bad) {
  return imb_grid_run_par(g, lo, hi, out, bad, 1);
}

/* The lowest total of pair j and how many editions have it. */
static int64_t lowest(const imb_grid *g, const int64_t *totals, size_t per, size_t j, size_t *count) {
  int64_t low = totals[j];
  size_t c = 1;
  for (size_t r = 1; r < g->n_rates; r++) {
    int64_t v = totals[r * per + j];
    if (v < low) low = v, c = 1;
    else if (v == low) c++;
  }
  *count = c;
  return low;
}

void imb_grid_wins(const imb_grid *g, const int64_t *totals, uint64_t *wins) {
  size_t per = g->n_growth * g->n_start, count;
  memset(wins, 0, g->n_rates * sizeof *wins);
  for (size_t j = 0; j < per; j++) {
    int64_t low = lowest(g, totals, per, j, &count);
    if (count != 1) continue;
    for (size_t r = 0; r < g->n_rates; r++)
      if (totals[r * per + j] == low) wins[r]++;
  }
}

void imb_grid_ties(const imb_grid *g, const int64_t *totals, uint64_t *ties) {
  size_t per = g->n_growth * g->n_start, count;
  memset(ties, 0, g->n_rates * sizeof *ties);
  for (size_t j = 0; j < per; j++) {
    int64_t low = lowest(g, totals, per, j, &count);
    if (count < 2) continue;
    for (size_t r = 0; r < g->n_rates; r++)
      if (totals[r * per + j] == low) ties[r]++;
  }
}

void imb_stats_minmax(const int64_t *v, size_t n, size_t *imin, size_t *imax) {
  size_t lo = 0, hi = 0;
  for (size_t i = 1; i < n; i++) {
    if (v[i] < v[lo]) lo = i;
    if (v[i] > v[hi]) hi = i;
  }
  *imin = lo;
  *imax = hi;
}

imb_status imb_stats_sum(const int64_t *v, size_t n, int64_t *sum) {
  int64_t t = 0;
  imb_status s;
  for (size_t i = 0; i < n; i++)
    if ((s = imb_add(t, v[i], &t))) return s;
  *sum = t;
  return IMB_OK;
}

/* The mean of int64 values always fits in 64 bits though their sum may not
 * (two of INT64_MAX): past 64 bits the sum is taken again in 128, where n
 * values below 2^63 in magnitude cannot overflow, and divided there. */
imb_status imb_stats_mean(const int64_t *v, size_t n, int64_t *mean) {
  __extension__ typedef __int128 i128;
  __extension__ typedef unsigned __int128 u128;
  int64_t sum;
  if (n == 0 || n > (size_t)INT64_MAX) return IMB_ERANGE;
  if (imb_stats_sum(v, n, &sum) == IMB_OK) return imb_muldiv(sum, 1, (int64_t)n, mean);
  i128 wide = 0;
  for (size_t i = 0; i < n; i++) wide += v[i];
  /* half away from zero, as imb_muldiv: the magnitude rounded half up */
  u128 mag = wide < 0 ? -(u128)wide : (u128)wide;
  u128 q = (mag + (u128)n / 2) / (u128)n;
  /* q is at most 2^63, reached only by a mean of INT64_MIN */
  *mean = wide < 0 ? -(int64_t)(q - 1) - 1 : (int64_t)q;
  return IMB_OK;
}

static void swap64(int64_t *a, int64_t *b) {
  int64_t t = *a;
  *a = *b;
  *b = t;
}

/* Quickselect with a three-way partition (grids repeat values a lot) and a
 * median-of-three pivot. */
static int64_t imb_stats_select(int64_t *v, size_t n, size_t k) {
  size_t lo = 0, hi = n; /* [lo, hi) holds the k-th */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    int64_t a = v[lo], b = v[mid], c = v[hi - 1], pivot;
    if (a < b) pivot = b < c ? b : (a < c ? c : a);
    else pivot = a < c ? a : (b < c ? c : b);
    /* v[lo..lt) < pivot, v[lt..i) == pivot, v[gt..hi) > pivot */
    size_t lt = lo, i = lo, gt = hi;
    while (i < gt) {
      if (v[i] < pivot) swap64(&v[lt++], &v[i++]);
      else if (v[i] > pivot) swap64(&v[i], &v[--gt]);
      else i++;
    }
    if (k < lt) hi = lt;
    else if (k >= gt) lo = gt;
    else return pivot;
  }
  return v[lo];
}

imb_status imb_stats_percentile(const int64_t *v, size_t n, int64_t p_ppm, int64_t *scratch,
                                int64_t *out) {
  if (n == 0 || p_ppm < 0 || p_ppm > PPM) return IMB_ERANGE;
  /* rank = ceil(p * n / 10^6) without overflow: n may be large */
  uint64_t q = (uint64_t)n / PPM, rem = (uint64_t)n % PPM;
  uint64_t rank = q * (uint64_t)p_ppm + ((uint64_t)p_ppm * rem + PPM - 1) / PPM;
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  memcpy(scratch, v, n * sizeof *v);
  *out = imb_stats_select(scratch, n, (size_t)(rank - 1));
  return IMB_OK;
}
