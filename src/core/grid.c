#include "core.h"

#include <string.h>

#define PPM 1000000

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
    if (g->growth_ppm[i] <= -PPM || g->growth_ppm[i] > (int64_t)100 * PPM) return IMB_ERANGE;
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
  if (dau < 0 || growth_ppm <= -PPM) return IMB_ERANGE;
  return imb_muldiv(dau, PPM + growth_ppm, PPM, next);
}

/* round_half_up(p / d) for 0 <= p < 2^61, d > 0: the same result as
 * imb_muldiv(p, 1, d) without its 128-bit division. */
static int64_t rhu(int64_t p, int64_t d) { return (2 * p + d) / (2 * d); }

#define FAST_LIMIT ((int64_t)1 << 60)

/* One charge in cents, as imb_charge_apply; 0 when it must take the slow path. */
static int fast_charge(const imb_charge *c, int64_t value, int64_t *cents) {
  if (c->block == 0 || value <= c->free) {
    *cents = 0;
    return 1;
  }
  int64_t over = value - c->free;
  int64_t blocks = c->block == 1 ? over : over / c->block + (over % c->block != 0);
  if (c->price != 0 && blocks > FAST_LIMIT / c->price) return 0;
  *cents = rhu(blocks * c->price, IMB_MICROS_PER_CENT);
  return 1;
}

/* imb_month_total's result with 64-bit arithmetic where nothing can overflow;
 * anything larger goes through imb_month_total itself. */
static imb_status month_total(const imb_rate *r, int64_t dau, int64_t groups, int64_t mau, int64_t *cents) {
  int64_t fee, a = 0, b = 0, c = 0;
  if (r->monthly_fee >= 0 && r->monthly_fee < FAST_LIMIT && dau >= 0 && groups >= 0 && mau >= 0) {
    fee = rhu(r->monthly_fee, IMB_MICROS_PER_CENT);
    if (r->is_free) {
      *cents = fee;
      return IMB_OK;
    }
    if (fast_charge(&r->dau, dau, &a) && fast_charge(&r->groups, groups, &b) && fast_charge(&r->mau, mau, &c) &&
        a < FAST_LIMIT && b < FAST_LIMIT && c < FAST_LIMIT) {
      *cents = fee + a + b + c;
      return IMB_OK;
    }
  }
  return imb_month_total(r, dau, groups, mau, cents);
}

/* round_half_up(x * ppm / 10^6) for x >= 0, 0 <= ppm. */
static imb_status scale_ppm(int64_t x, int64_t ppm, int64_t *out) {
  if (x < FAST_LIMIT / (ppm + 1) / 2) {
    *out = rhu(x * ppm, PPM);
    return IMB_OK;
  }
  return imb_muldiv(x, ppm, PPM, out);
}

/* One scenario: the horizon's total in cents. */
static imb_status scenario(const imb_grid *g, const imb_rate *r, int64_t dau, int64_t growth,
                           int64_t *cents) {
  int64_t total = 0, c, groups, mau, extra;
  imb_status s;
  for (int32_t k = 0; k < g->months; k++) {
    groups = g->groups;
    if (g->groups_per_dau_ppm) {
      if ((s = scale_ppm(dau, g->groups_per_dau_ppm, &extra)) || (s = imb_add(groups, extra, &groups)))
        return s;
    }
    mau = 0;
    if (g->mau_per_dau_ppm && (s = scale_ppm(dau, g->mau_per_dau_ppm, &mau))) return s;
    if ((s = month_total(r, dau, groups, mau, &c)) || (s = imb_add(total, c, &total))) return s;
    if (k + 1 < g->months && growth != 0 && (s = scale_ppm(dau, PPM + growth, &dau))) return s;
  }
  *cents = total;
  return IMB_OK;
}

imb_status imb_grid_run(const imb_grid *g, size_t lo, size_t hi, int64_t *out, size_t *bad) {
  size_t n;
  imb_status s = imb_grid_check(g, &n);
  if (s) return s;
  if (lo > hi || hi > n) return IMB_ERANGE;
  size_t per = g->n_growth * g->n_start;
  for (size_t i = lo; i < hi; i++) {
    size_t r = i / per, rest = i % per;
    size_t gi = rest / g->n_start, si = rest % g->n_start;
    if ((s = scenario(g, &g->rates[r], g->start_dau[si], g->growth_ppm[gi], &out[i - lo]))) {
      if (bad) *bad = i;
      return s;
    }
  }
  return IMB_OK;
}

void imb_grid_wins(const imb_grid *g, const int64_t *totals, uint64_t *wins) {
  size_t per = g->n_growth * g->n_start;
  memset(wins, 0, g->n_rates * sizeof *wins);
  for (size_t j = 0; j < per; j++) {
    size_t best = 0;
    for (size_t r = 1; r < g->n_rates; r++)
      if (totals[r * per + j] < totals[best * per + j]) best = r;
    wins[best]++;
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
