/* What-if grids: many scenarios priced in one call, and summaries of the
 * results that never build one object per scenario.
 *
 * A grid is editions x monthly growth rates x starting DAU.  Scenario
 * i = (edition * n_growth + growth) * n_start + start (0-based), so the
 * scenarios of one edition are contiguous.  A scenario's DAU path over the
 * horizon is exact integer arithmetic:
 *
 *   dau(0)   = start
 *   dau(k+1) = round_half_up(dau(k) * (10^6 + growth_ppm) / 10^6)
 *   groups(k) = groups + round_half_up(dau(k) * groups_per_dau_ppm / 10^6)
 *   mau(k)   = round_half_up(dau(k) * mau_per_dau_ppm / 10^6)
 *
 * and its result is the sum over k = 0 .. months-1 of imb_month_total() of
 * (dau(k), groups(k), mau(k)) in cents: full months, each invoice line rounded
 * on its own.  The pure-Lua reference in lua/imbill/grid.lua follows the same
 * definition step for step. */
#ifndef IMB_GRID_H
#define IMB_GRID_H

#include <stddef.h>
#include <stdint.h>
#include "pricing.h"
#include "status.h"

#define IMB_GRID_MAX_MONTHS 1200

typedef struct imb_grid {
  const imb_rate *rates;
  size_t n_rates;
  const int64_t *growth_ppm; /* each > -10^6 (above -100%) */
  size_t n_growth;
  const int64_t *start_dau; /* each >= 0 */
  size_t n_start;
  int32_t months; /* 1 .. IMB_GRID_MAX_MONTHS */
  int64_t groups; /* >= 0 */
  int64_t groups_per_dau_ppm; /* >= 0 */
  int64_t mau_per_dau_ppm;    /* >= 0 */
} imb_grid;

/* Checks the parameters and returns the number of scenarios in *n (IMB_EOVERFLOW
 * when it does not fit in size_t). */
IMB_API imb_status imb_grid_check(const imb_grid *g, size_t *n);

/* The next month's DAU: round_half_up(dau * (10^6 + growth_ppm) / 10^6). */
IMB_API imb_status imb_grid_grow(int64_t dau, int64_t growth_ppm, int64_t *next);

/* Total in cents of scenarios lo .. hi-1, written to out[0 .. hi-lo-1].  On
 * failure *bad is the index of the failing scenario. */
IMB_API imb_status imb_grid_run(const imb_grid *g, size_t lo, size_t hi, int64_t *out, size_t *bad);

/* For each (growth, start) pair, the edition with the lowest total (the first
 * on a tie) is counted in wins[edition]; wins has n_rates entries. */
IMB_API void imb_grid_wins(const imb_grid *g, const int64_t *totals, uint64_t *wins);

/* Summaries of an array of integers. */
IMB_API void imb_stats_minmax(const int64_t *v, size_t n, size_t *imin, size_t *imax);
IMB_API imb_status imb_stats_sum(const int64_t *v, size_t n, int64_t *sum);

/* The k-th smallest value (0-based) of v[0..n-1]; reorders v. */
IMB_API int64_t imb_stats_select(int64_t *v, size_t n, size_t k);

/* Nearest-rank percentile: p_ppm in 0 .. 10^6 (500000 = the median); the value
 * of rank max(1, ceil(p * n / 10^6)) in sorted order.  scratch holds n values
 * and is overwritten. */
IMB_API imb_status imb_stats_percentile(const int64_t *v, size_t n, int64_t p_ppm, int64_t *scratch,
                                        int64_t *out);

#endif
