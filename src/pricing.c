#include "pricing.h"
#include "money.h"

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
} batch_charge;

/* Keeps every line below 2^61: four of them (plan fee included) cannot
 * overflow an int64_t total. */
#define LINE_MAX (((int64_t)1 << 61) / IMB_MICROS_PER_CENT)

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
}

/* The charge's cents for 0 <= value <= c->vmax, with no data-dependent
 * branch: usage scattered around a free quota makes "value <= free" a coin
 * toss that the CPU keeps mispredicting.  A 64-bit division costs tens of
 * cycles, so ceil(over / block) multiplies by inv = floor((2^64 - 1) / block)
 * instead: the high half of over * inv is floor(over / block) or one less (inv
 * is short of 2^64 / block by less than 1, so the product is short by less
 * than over / 2^64 < 1), and one correction step makes it exact. */
static inline int64_t batch_cents(const batch_charge *c, int64_t value) {
  uint64_t over = (uint64_t)(value - c->free); /* both >= 0: no overflow */
  over &= (uint64_t)0 - (uint64_t)(value > c->free);
  uint64_t blocks = over;
  if (c->block != 1) { /* the same for every scenario: predicted */
    uint64_t q = (uint64_t)(((imb_u128)over * c->inv) >> 64);
    uint64_t r = over - q * c->block;
    uint64_t fix = r >= c->block;
    q += fix;
    r -= fix * c->block;
    blocks = q + (r != 0);
  }
  if (c->whole) return (int64_t)blocks * c->price_cents;
  /* unsigned: a division by a constant becomes a multiplication and a shift */
  return (int64_t)(((uint64_t)blocks * (uint64_t)c->price + IMB_MICROS_PER_CENT / 2) / IMB_MICROS_PER_CENT);
}

/* What a batch computes once: the plan fee in cents and the prepared charges. */
typedef struct batch {
  const imb_rate *r;
  int64_t fee;
  int is_free, fee_small;
  batch_charge d, g, m;
} batch;

static inline imb_status batch_init(const imb_rate *r, batch *b) {
  imb_status s = imb_round_cents(r->monthly_fee, &b->fee);
  if (s) return s;
  b->r = r;
  b->is_free = r->is_free;
  /* a plan fee beyond 2^61 cents would break the no-overflow bound */
  b->fee_small = b->fee <= LINE_MAX;
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

imb_status imb_totals(const imb_rate *r, size_t n, const int64_t *dau, size_t dau_step,
                      const int64_t *groups, size_t groups_step, const int64_t *mau,
                      size_t mau_step, int64_t *out, size_t *bad) {
  static const int64_t zero = 0;
  batch b;
  imb_status s = batch_init(r, &b);
  if (s) {
    *bad = 0;
    return s;
  }
  if (!dau) { dau = &zero; dau_step = 0; }
  if (!groups) { groups = &zero; groups_step = 0; }
  if (!mau) { mau = &zero; mau_step = 0; }
  /* restrict: the results never overlap the rate, so the compiler may keep
   * the prepared charges in registers across the stores */
  int64_t *restrict o = out;
  for (size_t i = 0; i < n; i++) {
    s = batch_total(&b, dau[i * dau_step], groups[i * groups_step], mau[i * mau_step], &o[i]);
    if (s) {
      *bad = i;
      return s;
    }
  }
  return IMB_OK;
}

#define EXP_BIAS 1023
#define MANT_BITS 52
#define MANT_MASK ((((uint64_t)1) << MANT_BITS) - 1)

/* A binary64 bit pattern as a whole number 0 <= v <= 2^53, or 0 (false). */
static inline int whole_of_binary64(uint64_t b, int64_t *v) {
  int e = (int)(b >> MANT_BITS); /* sign and exponent: a set sign makes it > 2047 */
  if ((b << 1) == 0) {             /* +0 and -0 */
    *v = 0;
    return 1;
  }
  if (e < EXP_BIAS || e > EXP_BIAS + MANT_BITS) { /* below 1, negative, or 2^53 and up */
    if (b == ((uint64_t)(EXP_BIAS + MANT_BITS + 1) << MANT_BITS)) { /* exactly 2^53 */
      *v = (int64_t)1 << 53;
      return 1;
    }
    return 0;
  }
  int sh = EXP_BIAS + MANT_BITS - e; /* 0 .. 52 fraction bits to drop */
  uint64_t mant = (b & MANT_MASK) | ((uint64_t)1 << MANT_BITS);
  if (mant & ((((uint64_t)1) << sh) - 1)) return 0; /* a fraction */
  *v = (int64_t)(mant >> sh);
  return 1;
}

/* The binary64 bit pattern of a whole number 0 <= v <= 2^53 (exact). */
static inline uint64_t binary64_of_whole(int64_t v) {
  if (v == 0) return 0;
  int msb = 63 - __builtin_clzll((unsigned long long)v);
  uint64_t u = (uint64_t)v;
  uint64_t mant = msb <= MANT_BITS ? u << (MANT_BITS - msb) : u >> (msb - MANT_BITS);
  return ((uint64_t)(EXP_BIAS + msb) << MANT_BITS) | (mant & MANT_MASK);
}

imb_status imb_totals_binary64(const imb_rate *r, size_t n, const uint64_t *dau, size_t dau_step,
                               const uint64_t *groups, size_t groups_step, const uint64_t *mau,
                               size_t mau_step, uint64_t *out, size_t *bad, int *bad_field) {
  static const uint64_t zero = 0;
  batch b;
  imb_status s = batch_init(r, &b);
  *bad_field = -1;
  if (s) {
    *bad = 0;
    return s;
  }
  if (!dau) { dau = &zero; dau_step = 0; }
  if (!groups) { groups = &zero; groups_step = 0; }
  if (!mau) { mau = &zero; mau_step = 0; }
  uint64_t *restrict o = out; /* as in imb_totals */
  for (size_t i = 0; i < n; i++) {
    int64_t d = 0, g = 0, m = 0, t;
    int ok_d = whole_of_binary64(dau[i * dau_step], &d);
    int ok_g = whole_of_binary64(groups[i * groups_step], &g);
    int ok_m = whole_of_binary64(mau[i * mau_step], &m);
    if (!(ok_d & ok_g & ok_m)) {
      *bad = i;
      *bad_field = !ok_d ? 0 : !ok_g ? 1 : 2;
      return IMB_ESYNTAX;
    }
    if ((s = batch_total(&b, d, g, m, &t))) {
      *bad = i;
      return s;
    }
    if (t > ((int64_t)1 << 53)) {
      *bad = i;
      return IMB_ERANGE;
    }
    o[i] = binary64_of_whole(t);
  }
  return IMB_OK;
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
