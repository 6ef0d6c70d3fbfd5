#include "core.h"

#include "charge.h"
#include "threads.h"

#include <stdlib.h>

static imb_status charge_check(const imb_charge *c) {
  if (c->free < 0 || c->block < 0 || c->price < 0) return IMB_ERANGE;
  return IMB_OK;
}

imb_status imb_rate_check(const imb_rate *r) {
  imb_status s;
  if (!r || r->monthly_fee < 0) return IMB_ERANGE;
  if ((s = charge_check(&r->dau)) || (s = charge_check(&r->groups)) || (s = charge_check(&r->mau)))
    return s;
  return IMB_OK;
}

imb_status imb_charge_apply(const imb_charge *c, int64_t value, int64_t *blocks, int64_t *cents) {
  imb_line l;
  if (value < 0) return IMB_ERANGE;
  imb_line_init(&l, c);
  return imb_line_exact(&l, value, blocks, cents);
}

imb_status imb_prorate(int64_t monthly, int32_t days, int32_t dim, int64_t *cents) {
  if (dim < 28 || dim > 31 || days < 0 || days > dim || monthly < 0) return IMB_ERANGE;
  /* one division: monthly * days / (dim * 10^4) is the exact line, rounded once */
  return imb_muldiv(monthly, days, (int64_t)dim * IMB_MICROS_PER_CENT, cents);
}

imb_status imb_month_total(const imb_rate *r, int64_t dau, int64_t groups, int64_t mau,
                           int64_t *cents) {
  imb_lines ls;
  imb_status s = imb_lines_init(&ls, r, 0);
  if (s) return s;
  return imb_lines_total(&ls, dau, groups, mau, cents);
}

/* What a batch computes once: the edition's lines with their reciprocals. */
typedef struct batch {
  imb_lines ls;
  int64_t total_max; /* the caller's bound, or what money holds if less */
  int fee_small;     /* the plan fee is at most IMB_LINE_MAX: fast totals cannot overflow */
  int within;        /* no total can exceed total_max */
} batch;

static imb_status batch_init(const imb_rate *r, int64_t limit, batch *b) {
  imb_status s = imb_lines_init(&b->ls, r, 1);
  if (s) return s;
  /* a total is an invoice's: here, once, for every binding */
  b->total_max = limit < IMB_MONEY_MAX_CENTS ? limit : IMB_MONEY_MAX_CENTS;
  b->fee_small = b->ls.fee <= IMB_LINE_MAX;
  /* the plan fee and every line are at most IMB_LINE_MAX on the column path,
   * so a bound of 4 * IMB_LINE_MAX or more needs no test of the totals; money's
   * own bound is just above it */
  b->within = (uint64_t)b->total_max >= (uint64_t)4 * IMB_LINE_MAX;
  return IMB_OK;
}

/* Scenario by scenario from..to-1: the bounds checked in scenario order, and
 * every line and sum checked (imb_lines_total). */
static imb_status scenarios(const batch *b, size_t from, size_t to, const int64_t *const in[3],
                            const size_t step[3], int64_t limit, int64_t *restrict o, size_t *bad,
                            int *bad_field) {
  uint64_t lim = (uint64_t)limit;
  imb_status s;
  for (size_t i = from; i < to; i++) {
    int64_t d = in[0][i * step[0]], g = in[1][i * step[1]], m = in[2][i * step[2]];
    if (((uint64_t)d > lim) | ((uint64_t)g > lim) | ((uint64_t)m > lim)) {
      *bad = i;
      *bad_field = (uint64_t)d > lim ? 0 : (uint64_t)g > lim ? 1 : 2;
      return IMB_ERANGE;
    }
    if ((s = imb_lines_total(&b->ls, d, g, m, &o[i])) || o[i] > b->total_max) {
      *bad = i;
      return s ? s : IMB_ERANGE;
    }
  }
  return IMB_OK;
}

/* The batch works a column at a time: each charge's line over a chunk of
 * scenarios, then the next charge's added to it.  A loop then holds one
 * charge's constants in registers and has one body, where a loop over
 * scenarios juggles three charges' worth and tests their shapes each time. */
#define COLUMN 256

/* Sets (first) or adds to o[i] the line of each v[i], and says whether every
 * v[i] was within bound (<= the line's reach, so the lines are exact). */
#define LINE_LOOP(first, unit, whole)                                    \
  for (size_t i = 0; i < n; i++) {                                       \
    out |= (uint64_t)v[i] > bound;                                       \
    uint64_t x = imb_line_fast(l, v[i], unit, whole);                    \
    o[i] = (int64_t)((uint64_t)(first ? fee : o[i]) + x);                \
  }

static int column_line(const imb_line *l, const int64_t *restrict v, size_t n, uint64_t bound, int first,
                       int64_t fee, int64_t *restrict o) {
  uint64_t out = 0;
  if (first) {
    if (l->unit) { if (l->whole) LINE_LOOP(1, 1, 1) else LINE_LOOP(1, 1, 0) }
    else         { if (l->whole) LINE_LOOP(1, 0, 1) else LINE_LOOP(1, 0, 0) }
  } else {
    if (l->unit) { if (l->whole) LINE_LOOP(0, 1, 1) else LINE_LOOP(0, 1, 0) }
    else         { if (l->whole) LINE_LOOP(0, 0, 1) else LINE_LOOP(0, 0, 0) }
  }
  return !out;
}
#undef LINE_LOOP

/* 1 when every v[i * step] (i < n) is within 0 .. bound. */
static int column_within(const int64_t *restrict v, size_t step, size_t n, uint64_t bound) {
  uint64_t out = 0;
  if (step == 0) return (uint64_t)v[0] <= bound;
  for (size_t i = 0; i < n; i++) out |= (uint64_t)v[i] > bound;
  return !out;
}

/* Prices n <= COLUMN scenarios when none of them is near a limit, and says
 * whether it did: 0 sends the chunk to scenarios(), which finds the first
 * count or total out of bounds, or prices with checked arithmetic. */
static int column_chunk(const batch *b, size_t n, const int64_t *const in[3], const size_t step[3],
                        uint64_t lim, int64_t *restrict o) {
  const imb_lines *ls = &b->ls;
  int first = 1;
  int64_t add = 0;
  for (int k = 0; k < 3; k++) {
    const imb_line *l = &ls->l[k];
    int priced = !ls->is_free && l->free != INT64_MAX;
    uint64_t bound = priced && l->reach < lim ? l->reach : lim;
    if (!priced || step[k] == 0) {
      /* no line, or the same line for every scenario: only bounds to check */
      if (!column_within(in[k], step[k], n, bound)) return 0;
      if (priced) add += (int64_t)imb_line_fast(l, in[k][0], l->unit, l->whole);
      continue;
    }
    if (!column_line(l, in[k], n, bound, first, ls->fee, o)) return 0;
    first = 0;
  }
  /* the plan fee, and the lines that are the same for every scenario */
  if (first) add += ls->fee;
  if (first || add) /* the 64-bit limit: fee and lines are each at most IMB_LINE_MAX */
    for (size_t i = 0; i < n; i++) o[i] = (first ? 0 : o[i]) + add;
  if (b->within) return 1;
  uint64_t over = 0, tmax = (uint64_t)b->total_max;
  for (size_t i = 0; i < n; i++) over |= (uint64_t)o[i] > tmax;
  return !over;
}

/* A batch's inputs and outputs, shared by the pieces of a threaded run: one
 * or more editions priced from the same inputs. */
typedef struct totals_job {
  const batch *b; /* nb editions */
  size_t nb;
  const int64_t *in[3];
  size_t step[3];
  int64_t limit;
  int64_t *const *out; /* nb outputs */
} totals_job;

/* One chunk on one edition: the column path, or scenario by scenario. */
static imb_status totals_chunk(const totals_job *j, const batch *b, size_t at, size_t len, int64_t *restrict o,
                               uint64_t lim, size_t *bad, int *bad_field) {
  const int64_t *in[3] = { j->in[0] + at * j->step[0], j->in[1] + at * j->step[1], j->in[2] + at * j->step[2] };
  if (b->fee_small && column_chunk(b, len, in, j->step, lim, o + at)) return IMB_OK;
  return scenarios(b, at, at + len, j->in, j->step, j->limit, o, bad, bad_field);
}

/* Scenarios lo .. hi-1, a chunk at a time, each chunk on every edition while
 * its inputs are in cache (imb_par_fn).  *aux is bad_field + 1 + 4 * edition. */
static imb_status totals_range(void *ctx, size_t lo, size_t hi, size_t *bad, int *aux, imb_par *par) {
  const totals_job *j = (const totals_job *)ctx;
  /* unsigned: a negative count compares above any limit, one test per value */
  uint64_t lim = (uint64_t)j->limit;
  for (size_t at = lo; at < hi; at += COLUMN) {
    size_t len = hi - at < COLUMN ? hi - at : COLUMN;
    if (imb_par_stop(par, at)) return IMB_OK;
    imb_status first = IMB_OK;
    for (size_t e = 0; e < j->nb; e++) {
      size_t b = 0;
      int f = -1;
      imb_status s = totals_chunk(j, &j->b[e], at, len, j->out[e], lim, &b, &f);
      /* the first failing scenario of the chunk, on the first edition failing there */
      if (s && (!first || b < *bad)) {
        first = s;
        *bad = b;
        *aux = f + 1 + 4 * (int)e;
      }
    }
    if (first) return first;
  }
  return IMB_OK;
}

/* Fewer scenarios than this per thread cost more to hand over than to price. */
#define TOTALS_GRAIN 32768

static imb_status totals_run(const imb_rate *const *rates, size_t nr, size_t n, const int64_t *dau,
                             size_t dau_step, const int64_t *groups, size_t groups_step, const int64_t *mau,
                             size_t mau_step, int64_t limit, int64_t *const *out, size_t *bad, int *bad_field,
                             size_t *bad_rate, int threads, const imb_stop *stop) {
  static const int64_t zero = 0;
  batch one, *b = &one;
  totals_job j;
  imb_status s = IMB_OK;
  int aux = 0;
  if (!bad || !bad_field) return IMB_ERANGE;
  *bad = 0;
  *bad_field = -1;
  if (bad_rate) *bad_rate = 0;
  if (limit < 0 || nr == 0 || !rates || !out) return IMB_ERANGE;
  /* every edition and its output, before anything is priced */
  for (size_t e = 0; e < nr; e++) {
    if (!rates[e] || (n && !out[e])) {
      if (bad_rate) *bad_rate = e;
      return IMB_ERANGE;
    }
  }
  if (nr > 1 && !(b = (batch *)malloc(nr * sizeof *b))) return IMB_ENOMEM;
  for (size_t e = 0; e < nr && !s; e++)
    if ((s = batch_init(rates[e], limit, &b[e])) && bad_rate) *bad_rate = e;
  if (!s) {
    j.b = b;
    j.nb = nr;
    j.in[0] = dau ? dau : &zero;
    j.in[1] = groups ? groups : &zero;
    j.in[2] = mau ? mau : &zero;
    j.step[0] = dau ? dau_step : 0;
    j.step[1] = groups ? groups_step : 0;
    j.step[2] = mau ? mau_step : 0;
    j.limit = limit;
    j.out = out;
    /* one that may be stopped goes through imb_parallel, where the stop is polled */
    s = threads == 1 && !(stop && stop->poll) ? totals_range(&j, 0, n, bad, &aux, NULL)
                                             : imb_parallel(n, threads, TOTALS_GRAIN, totals_range, &j, bad, &aux, stop);
    if (s && s != IMB_ESTOPPED) {
      *bad_field = aux % 4 - 1;
      if (bad_rate) *bad_rate = (size_t)(aux / 4);
    }
  }
  if (b != &one) free(b);
  return s;
}

imb_status imb_totals_upto(const imb_rate *r, size_t n, const int64_t *dau, size_t dau_step,
                           const int64_t *groups, size_t groups_step, const int64_t *mau,
                           size_t mau_step, int64_t limit, int64_t *out, size_t *bad,
                           int *bad_field) {
  return totals_run(&r, 1, n, dau, dau_step, groups, groups_step, mau, mau_step, limit, &out, bad, bad_field, NULL, 1,
                    NULL);
}

imb_status imb_totals_par(const imb_rate *r, size_t n, const int64_t *dau, size_t dau_step,
                          const int64_t *groups, size_t groups_step, const int64_t *mau, size_t mau_step,
                          int64_t limit, int64_t *out, size_t *bad, int *bad_field, int threads) {
  return totals_run(&r, 1, n, dau, dau_step, groups, groups_step, mau, mau_step, limit, &out, bad, bad_field, NULL,
                    threads, NULL);
}

imb_status imb_totals_many(const imb_rate *const *rates, size_t n_rates, size_t n, const int64_t *dau,
                           size_t dau_step, const int64_t *groups, size_t groups_step, const int64_t *mau,
                           size_t mau_step, int64_t limit, int64_t *const *out, size_t *bad, int *bad_field,
                           size_t *bad_rate, int threads) {
  return totals_run(rates, n_rates, n, dau, dau_step, groups, groups_step, mau, mau_step, limit, out, bad, bad_field,
                    bad_rate, threads, NULL);
}

imb_status imb_totals_many_stop(const imb_rate *const *rates, size_t n_rates, size_t n, const int64_t *dau,
                                size_t dau_step, const int64_t *groups, size_t groups_step, const int64_t *mau,
                                size_t mau_step, int64_t limit, int64_t *const *out, size_t *bad, int *bad_field,
                                size_t *bad_rate, int threads, const imb_stop *stop) {
  return totals_run(rates, n_rates, n, dau, dau_step, groups, groups_step, mau, mau_step, limit, out, bad, bad_field,
                    bad_rate, threads, stop);
}

imb_status imb_totals(const imb_rate *r, size_t n, const int64_t *dau, size_t dau_step,
                      const int64_t *groups, size_t groups_step, const int64_t *mau,
                      size_t mau_step, int64_t *out, size_t *bad) {
  int field;
  return imb_totals_upto(r, n, dau, dau_step, groups, groups_step, mau, mau_step, INT64_MAX, out,
                         bad, &field);
}

imb_status imb_trtc_price(imb_trtc *t) {
  int64_t left = t->free_minutes;
  /* summed in billionths of a unit (micro-units per 1,000 minutes times
   * minutes), in 128 bits: in 64 the sum would end at about 9.2 billion units,
   * a thousandth of what money holds */
  imb_u128 sum = 0;
  if (left < 0) return IMB_ERANGE;
  for (int i = 0; i < IMB_TRTC_TIERS; i++) {
    if (t->seconds[i] < 0 || t->price_per_1000[i] < 0) return IMB_ERANGE;
    t->minutes[i] = t->seconds[i] / 60 + (t->seconds[i] % 60 != 0);
    int64_t used = t->minutes[i] < left ? t->minutes[i] : left;
    left -= used;
    t->billed[i] = t->minutes[i] - used;
    /* each term below 2^63 x 2^63, five of them below 2^128 */
    sum += (imb_u128)t->billed[i] * (imb_u128)t->price_per_1000[i];
  }
  const imb_u128 per_cent = (imb_u128)1000 * IMB_MICROS_PER_CENT, per_unit = (imb_u128)1000 * IMB_MICROS_PER_UNIT;
  imb_u128 q = sum / per_cent;
  if (2 * (sum % per_cent) >= per_cent) q++; /* half away from zero, once */
  /* an amount is money: at most IMB_MONEY_MAX_CENTS */
  if (q > (imb_u128)IMB_MONEY_MAX_CENTS) return IMB_EOVERFLOW;
  t->cents = (int64_t)q;
  t->exact_units = (int64_t)(sum / per_unit);
  t->exact_nanos = (int64_t)(sum % per_unit);
  return IMB_OK;
}

/* ---- where a charge's line steps ------------------------------------------ */

imb_status imb_follow_value(int64_t x, int64_t ratio_ppm, int64_t *value) {
  if (x < 0 || ratio_ppm < 1) return IMB_ERANGE;
  /* round_half_up(x * r / 10^6) = floor((2 x r + 10^6) / (2 * 10^6)), in 128 bits */
  imb_u128 q = ((imb_u128)x * (imb_u128)ratio_ppm * 2 + IMB_MICROS_PER_UNIT) / (2 * (imb_u128)IMB_MICROS_PER_UNIT);
  if (q > (imb_u128)INT64_MAX) return IMB_EOVERFLOW;
  *value = (int64_t)q;
  return IMB_OK;
}

imb_status imb_follow_first_above(int64_t t, int64_t ratio_ppm, int64_t *x) {
  if (ratio_ppm < 1) return IMB_ERANGE;
  if (t < 0) {
    *x = 0;
    return IMB_OK;
  }
  /* value(x) > t  <=>  2 x r + 10^6 >= 2 * 10^6 (t + 1)  <=>  x >= 10^6 (2t + 1) / (2r) */
  imb_u128 num = (imb_u128)IMB_MICROS_PER_UNIT * (2 * (imb_u128)t + 1), den = 2 * (imb_u128)ratio_ppm;
  imb_u128 q = num / den + (num % den != 0);
  if (q > (imb_u128)INT64_MAX) return IMB_EOVERFLOW;
  *x = (int64_t)q;
  return IMB_OK;
}

imb_status imb_charge_next_step(const imb_charge *c, int64_t ratio_ppm, int64_t x, int64_t *next) {
  int64_t v, t;
  imb_status s;
  if (c->block <= 0 || x < 0) return IMB_ERANGE;
  if ((s = imb_follow_value(x, ratio_ppm, &v))) return s;
  if (v <= c->free) {
    t = c->free; /* the first block starts one user past the free quota */
  } else {
    /* blocks(v) = k: the count changes once the usage passes free + k * block */
    imb_line l;
    imb_line_init(&l, c);
    int64_t k = imb_line_blocks(&l, v);
    if (__builtin_mul_overflow(k, c->block, &t) || __builtin_add_overflow(t, c->free, &t)) return IMB_EOVERFLOW;
  }
  return imb_follow_first_above(t, ratio_ppm, next);
}
