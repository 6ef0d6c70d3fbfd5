#include "core.h"

/* gcc and clang have it on every 64-bit target we build for (see money.c) */
__extension__ typedef unsigned __int128 imb_u128;

static imb_status charge_check(const imb_charge *c) {
  if (c->free < 0 || c->block < 0 || c->price < 0) return IMB_ERANGE;
  return IMB_OK;
}

imb_status imb_rate_check(const imb_rate *r) {
  imb_status s;
  if (r->monthly_fee < 0) return IMB_ERANGE;
  if ((s = charge_check(&r->dau)) || (s = charge_check(&r->groups)) || (s = charge_check(&r->mau)))
    return s;
  return IMB_OK;
}

/* round_half_up(blocks * price / 10^4) for blocks, price >= 0.  When the product
 * fits in 64 bits (every realistic bill) the division is by a constant, which
 * the compiler turns into a multiplication; only a product beyond 2^63 takes
 * the 128-bit path.  Both give the same result: one exact rounding. */
static inline imb_status cents_of(int64_t blocks, int64_t price, int64_t *cents) {
  int64_t p;
  if (!__builtin_mul_overflow(blocks, price, &p) && p <= INT64_MAX - IMB_MICROS_PER_CENT / 2) {
    *cents = (p + IMB_MICROS_PER_CENT / 2) / IMB_MICROS_PER_CENT;
    return IMB_OK;
  }
  return imb_muldiv(blocks, price, IMB_MICROS_PER_CENT, cents);
}

/* blocks = ceil((value - free) / block) for value > free, block >= 1: without
 * the overflow that (over + block - 1) could cause, and without a division for
 * per-user charges (block 1). */
static inline int64_t blocks_of(const imb_charge *c, int64_t value) {
  int64_t over = value - c->free;
  if (c->block == 1) return over;
  return over / c->block + (over % c->block != 0);
}

imb_status imb_charge_apply(const imb_charge *c, int64_t value, int64_t *blocks, int64_t *cents) {
  if (value < 0) return IMB_ERANGE;
  *blocks = 0;
  *cents = 0;
  if (c->block == 0 || value <= c->free) return IMB_OK;
  *blocks = blocks_of(c, value);
  return cents_of(*blocks, c->price, cents);
}

/* One charge's cents in the month total: the checks of imb_charge_apply minus
 * the ones the caller has done. */
static inline imb_status charge_cents(const imb_charge *c, int64_t value, int64_t *cents) {
  if (c->block == 0 || value <= c->free) {
    *cents = 0;
    return IMB_OK;
  }
  return cents_of(blocks_of(c, value), c->price, cents);
}

imb_status imb_prorate(int64_t monthly, int32_t days, int32_t dim, int64_t *cents) {
  if (dim < 28 || dim > 31 || days < 0 || days > dim || monthly < 0) return IMB_ERANGE;
  /* one division: monthly * days / (dim * 10^4) is the exact line, rounded once */
  return imb_muldiv(monthly, days, (int64_t)dim * IMB_MICROS_PER_CENT, cents);
}

/* The month total given the plan fee already in cents: shared by the single
 * and the batch entry points, so the fee is rounded once per batch. */
static inline imb_status total_of(const imb_rate *r, int64_t fee_cents, int64_t dau, int64_t groups,
                                  int64_t mau, int64_t *cents) {
  int64_t total = fee_cents, c;
  imb_status s;
  if (dau < 0 || groups < 0 || mau < 0) return IMB_ERANGE;
  if (r->is_free) {
    *cents = total;
    return IMB_OK;
  }
  /* the additions are checked inline: imb_add lives in another file, and a call
   * per line is a noticeable share of a batch */
  if ((s = charge_cents(&r->dau, dau, &c))) return s;
  if (__builtin_add_overflow(total, c, &total)) return IMB_EOVERFLOW;
  if ((s = charge_cents(&r->groups, groups, &c))) return s;
  if (__builtin_add_overflow(total, c, &total)) return IMB_EOVERFLOW;
  if ((s = charge_cents(&r->mau, mau, &c))) return s;
  if (__builtin_add_overflow(total, c, &total)) return IMB_EOVERFLOW;
  *cents = total;
  return IMB_OK;
}

imb_status imb_month_total(const imb_rate *r, int64_t dau, int64_t groups, int64_t mau,
                           int64_t *cents) {
  int64_t fee;
  imb_status s = imb_round_cents(r->monthly_fee, &fee);
  if (s) return s;
  return total_of(r, fee, dau, groups, mau, cents);
}

/* One charge prepared for a batch: plain copies (the output array is int64_t
 * too, so reading the rate through its pointer would force a reload after
 * every store), the block size's inverse, and the largest usage value whose
 * charge cannot overflow, so the hot loop needs no overflow checks. */
typedef struct batch_charge {
  int on;         /* the edition has this charge */
  int whole;      /* the price per block is whole cents: no rounding step */
  int64_t free, price, price_cents, vmax;
  uint64_t block, inv;
  /* the column loops' cheaper division (line_column): its multiplier, and the
   * largest value it is exact for (-1: blocks too large for it) */
  uint64_t magic;
  int64_t vfast;
} batch_charge;

/* Keeps every line below 2^61: four of them (plan fee included) cannot
 * overflow an int64_t total. */
#define LINE_MAX (((int64_t)1 << 61) / IMB_MICROS_PER_CENT)

/* Where the column loops' division is exact: blocks below 2^31 and usage at
 * most 2^32 over the free quota (see line_column). */
#define FAST_BLOCK ((int64_t)1 << 31)
#define FAST_OVER ((int64_t)1 << 32)

static inline void batch_prepare(const imb_charge *c, batch_charge *b) {
  b->on = c->block > 0;
  b->free = c->free;
  b->price = c->price;
  b->whole = c->price % IMB_MICROS_PER_CENT == 0;
  b->price_cents = c->price / IMB_MICROS_PER_CENT;
  b->block = (uint64_t)c->block;
  b->inv = c->block > 1 ? UINT64_MAX / (uint64_t)c->block : 0;
  b->vmax = INT64_MAX;
  if (b->on) {
    /* blocks * price <= LINE_MAX * 10^4 holds for blocks <= max_blocks, and
     * value <= free + max_blocks * block gives at most max_blocks blocks */
    int64_t max_blocks = c->price > 0 ? LINE_MAX * IMB_MICROS_PER_CENT / c->price : LINE_MAX, reach;
    if (!__builtin_mul_overflow(max_blocks, c->block, &reach) && !__builtin_add_overflow(reach, c->free, &reach))
      b->vmax = reach;
  }
  b->magic = c->block > 1 ? UINT64_MAX / (uint64_t)c->block + 1 : 0;
  b->vfast = -1;
  if (c->block > 0 && c->block < FAST_BLOCK) {
    int64_t reach = c->free > INT64_MAX - FAST_OVER ? INT64_MAX : c->free + FAST_OVER;
    b->vfast = reach < b->vmax ? reach : b->vmax;
  }
}

/* The charge's cents for 0 <= value <= c->vmax, with no data-dependent
 * branch: usage scattered around a free quota makes "value <= free" a coin
 * toss that the CPU keeps mispredicting.  A 64-bit division costs tens of
 * cycles, so ceil(over / block) multiplies by inv = floor((2^64 - 1) / block)
 * instead: the high half of over * inv is floor(over / block) or one less (inv
 * is short of 2^64 / block by less than 1, so the product is short by less
 * than over / 2^64 < 1), and one correction step makes it exact.  unit and
 * whole are the charge's (block == 1, price in whole cents): the column loops
 * pass them as constants, so each gets its own branch-free body. */
static inline int64_t line_cents(const batch_charge *c, int64_t value, int unit, int whole) {
  uint64_t over = (uint64_t)(value - c->free); /* both >= 0: no overflow */
  over &= (uint64_t)0 - (uint64_t)(value > c->free);
  uint64_t blocks = over;
  if (!unit) {
    uint64_t q = (uint64_t)(((imb_u128)over * c->inv) >> 64);
    uint64_t r = over - q * c->block;
    uint64_t fix = r >= c->block;
    q += fix;
    r -= fix * c->block;
    blocks = q + (r != 0);
  }
  if (whole) return (int64_t)blocks * c->price_cents;
  /* unsigned: a division by a constant becomes a multiplication and a shift */
  return (int64_t)(((uint64_t)blocks * (uint64_t)c->price + IMB_MICROS_PER_CENT / 2) / IMB_MICROS_PER_CENT);
}

static inline int64_t batch_cents(const batch_charge *c, int64_t value) {
  int unit = c->block == 1;
  return c->whole ? line_cents(c, value, unit, 1) : line_cents(c, value, unit, 0);
}

/* What a batch computes once: the plan fee in cents and the prepared charges. */
typedef struct batch {
  const imb_rate *r;
  int64_t fee;
  int is_free, fee_small;
  int within; /* no total can exceed the caller's bound (imb_totals_upto) */
  batch_charge d, g, m;
} batch;

static inline imb_status batch_init(const imb_rate *r, batch *b) {
  imb_status s = imb_round_cents(r->monthly_fee, &b->fee);
  if (s) return s;
  b->r = r;
  b->is_free = r->is_free;
  /* a plan fee beyond 2^61 cents would break the no-overflow bound */
  b->fee_small = b->fee <= LINE_MAX;
  b->within = 0;
  batch_prepare(&r->dau, &b->d);
  batch_prepare(&r->groups, &b->g);
  batch_prepare(&r->mau, &b->m);
  return IMB_OK;
}

/* One scenario's total: the fast path, or the checked one near the limits. */
static inline imb_status batch_total(const batch *b, int64_t d, int64_t g, int64_t m, int64_t *out) {
  if ((d | g | m) < 0) return IMB_ERANGE;
  if (b->is_free) {
    *out = b->fee;
    return IMB_OK;
  }
  if (!b->fee_small || d > b->d.vmax || g > b->g.vmax || m > b->m.vmax)
    return total_of(b->r, b->fee, d, g, m, out); /* near the 64-bit limit: checked */
  int64_t t = b->fee;
  if (b->d.on) t += batch_cents(&b->d, d);
  if (b->g.on) t += batch_cents(&b->g, g);
  if (b->m.on) t += batch_cents(&b->m, m);
  *out = t;
  return IMB_OK;
}

/* Scenario by scenario from..to-1: the bounds checked in scenario order,
 * and the checked arithmetic of total_of near the 64-bit limit. */
static imb_status scenarios(const batch *b, size_t from, size_t to, const int64_t *dau, size_t dau_step,
                            const int64_t *groups, size_t groups_step, const int64_t *mau, size_t mau_step,
                            int64_t limit, int64_t *restrict o, size_t *bad, int *bad_field) {
  uint64_t lim = (uint64_t)limit;
  imb_status s;
  for (size_t i = from; i < to; i++) {
    int64_t d = dau[i * dau_step], g = groups[i * groups_step], m = mau[i * mau_step];
    if (((uint64_t)d > lim) | ((uint64_t)g > lim) | ((uint64_t)m > lim)) {
      *bad = i;
      *bad_field = (uint64_t)d > lim ? 0 : (uint64_t)g > lim ? 1 : 2;
      return IMB_ERANGE;
    }
    if ((s = batch_total(b, d, g, m, &o[i])) || o[i] > limit) {
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

/* A line in a column loop, for value <= c->vfast (so over <= 2^32).  Here
 * ceil(over / block) is floor(x / block) with x = over + block - 1 < 2^33,
 * and for 2 <= block < 2^31 that is the high half of x * magic, magic =
 * floor(2^64 / block) + 1: x * magic / 2^64 = x / block + x * e / 2^64 with 0
 * < e <= 1, and x * e / 2^64 < 2^-31 < 1 / block, too little to carry x /
 * block past the next whole number.  One multiplication, no correction. */
/* Unsigned throughout: the loops compute every value's line before they know
 * whether the chunk stays in bounds, and a value beyond c->vfast (whose chunk
 * is then priced again by scenarios()) must wrap, not overflow. */
static inline uint64_t line_column(const batch_charge *c, int64_t value, int unit, int whole) {
  uint64_t over = value > c->free ? (uint64_t)value - (uint64_t)c->free : 0;
  uint64_t blocks = unit ? over : (uint64_t)(((imb_u128)(over + c->block - 1) * c->magic) >> 64);
  if (whole) return blocks * (uint64_t)c->price_cents;
  return (blocks * (uint64_t)c->price + IMB_MICROS_PER_CENT / 2) / IMB_MICROS_PER_CENT;
}

/* Sets (first) or adds to o[i] the line of each v[i], and says whether every
 * v[i] was within bound (<= c->vfast, so the lines are exact). */
#define LINE_LOOP(first, unit, whole)                                    \
  for (size_t i = 0; i < n; i++) {                                       \
    out |= (uint64_t)v[i] > bound;                                       \
    uint64_t x = line_column(c, v[i], unit, whole);                      \
    o[i] = (int64_t)((uint64_t)(first ? fee : o[i]) + x);                \
  }

static int column_line(const batch_charge *c, const int64_t *restrict v, size_t n, uint64_t bound,
                       int first, int64_t fee, int64_t *restrict o) {
  uint64_t out = 0;
  int unit = c->block == 1;
  if (first) {
    if (unit) { if (c->whole) LINE_LOOP(1, 1, 1) else LINE_LOOP(1, 1, 0) }
    else      { if (c->whole) LINE_LOOP(1, 0, 1) else LINE_LOOP(1, 0, 0) }
  } else {
    if (unit) { if (c->whole) LINE_LOOP(0, 1, 1) else LINE_LOOP(0, 1, 0) }
    else      { if (c->whole) LINE_LOOP(0, 0, 1) else LINE_LOOP(0, 0, 0) }
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
  const batch_charge *c[3] = { &b->d, &b->g, &b->m };
  int first = 1;
  for (int k = 0; k < 3; k++) {
    const batch_charge *ck = c[k];
    if (b->is_free || !ck->on || step[k] == 0) {
      /* no line, or the same line for every scenario: only bounds to check */
      uint64_t bound = lim;
      if (!b->is_free && ck->on) bound = (uint64_t)ck->vmax < lim ? (uint64_t)ck->vmax : lim;
      if (!column_within(in[k], step[k], n, bound)) return 0;
      continue;
    }
    if (ck->vfast < 0) return 0;
    uint64_t bound = (uint64_t)ck->vfast < lim ? (uint64_t)ck->vfast : lim;
    if (!column_line(ck, in[k], n, bound, first, b->fee, o)) return 0;
    first = 0;
  }
  /* the plan fee, and the lines that are the same for every scenario */
  int64_t add = first ? b->fee : 0;
  for (int k = 0; k < 3; k++)
    if (!b->is_free && c[k]->on && step[k] == 0) add += batch_cents(c[k], in[k][0]);
  if (first || add) /* the 64-bit limit: fee and lines are each below 2^61 */
    for (size_t i = 0; i < n; i++) o[i] = (first ? 0 : o[i]) + add;
  if (b->within) return 1;
  uint64_t over = 0;
  for (size_t i = 0; i < n; i++) over |= (uint64_t)o[i] > lim;
  return !over;
}

imb_status imb_totals_upto(const imb_rate *r, size_t n, const int64_t *dau, size_t dau_step,
                           const int64_t *groups, size_t groups_step, const int64_t *mau,
                           size_t mau_step, int64_t limit, int64_t *out, size_t *bad,
                           int *bad_field) {
  static const int64_t zero = 0;
  batch b;
  imb_status s = batch_init(r, &b);
  *bad_field = -1;
  if (s || limit < 0) {
    *bad = 0;
    return s ? s : IMB_ERANGE;
  }
  if (!dau) { dau = &zero; dau_step = 0; }
  if (!groups) { groups = &zero; groups_step = 0; }
  if (!mau) { mau = &zero; mau_step = 0; }
  /* restrict: the results never overlap the rate, so the compiler may keep
   * the prepared charges in registers across the stores */
  int64_t *restrict o = out;
  /* unsigned: a negative count compares above any limit, one test per value */
  uint64_t lim = (uint64_t)limit;
  /* the plan fee and every line are at most LINE_MAX on the column path, so
   * a bound of 4 * LINE_MAX or more needs no test of the totals */
  b.within = lim >= (uint64_t)4 * LINE_MAX;
  for (size_t at = 0; at < n; at += COLUMN) {
    size_t len = n - at < COLUMN ? n - at : COLUMN;
    const int64_t *in[3] = { dau + at * dau_step, groups + at * groups_step, mau + at * mau_step };
    const size_t step[3] = { dau_step, groups_step, mau_step };
    if (b.fee_small && column_chunk(&b, len, in, step, lim, o + at)) continue;
    if ((s = scenarios(&b, at, at + len, dau, dau_step, groups, groups_step, mau, mau_step, limit, o,
                       bad, bad_field)))
      return s;
  }
  return IMB_OK;
}

imb_status imb_totals(const imb_rate *r, size_t n, const int64_t *dau, size_t dau_step,
                      const int64_t *groups, size_t groups_step, const int64_t *mau,
                      size_t mau_step, int64_t *out, size_t *bad) {
  int field;
  return imb_totals_upto(r, n, dau, dau_step, groups, groups_step, mau, mau_step, INT64_MAX, out,
                         bad, &field);
}

imb_status imb_trtc_price(imb_trtc *t) {
  int64_t left = t->free_minutes, sum = 0, term;
  imb_status s;
  if (left < 0) return IMB_ERANGE;
  for (int i = 0; i < IMB_TRTC_TIERS; i++) {
    if (t->seconds[i] < 0 || t->price_per_1000[i] < 0) return IMB_ERANGE;
    t->minutes[i] = t->seconds[i] / 60 + (t->seconds[i] % 60 != 0);
    int64_t used = t->minutes[i] < left ? t->minutes[i] : left;
    left -= used;
    t->billed[i] = t->minutes[i] - used;
    /* sum in micro-units per 1,000 minutes: exact, divided once at the end */
    if ((s = imb_mul(t->billed[i], t->price_per_1000[i], &term)) || (s = imb_add(sum, term, &sum)))
      return s;
  }
  return imb_muldiv(sum, 1, (int64_t)1000 * IMB_MICROS_PER_CENT, &t->cents);
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
    int64_t k = blocks_of(c, v);
    if (__builtin_mul_overflow(k, c->block, &t) || __builtin_add_overflow(t, c->free, &t)) return IMB_EOVERFLOW;
  }
  return imb_follow_first_above(t, ratio_ppm, next);
}
