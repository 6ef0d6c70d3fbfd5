/* The charge line, the one rule every pricing kernel applies (the month
 * total, the batch columns, the what-if grid):
 *
 *   cents = round_half_up(ceil(max(0, v - free) / block) * price / 10^4)
 *
 * with price in micro-units a block.  A line is prepared once per edition
 * (imb_line_init) and then priced many times (imb_line_cents).  The inline
 * form below covers every value up to l->reach with 64-bit arithmetic and no
 * data-dependent branch; a value beyond it (or a negative one) goes to
 * imb_line_exact, the same rule in checked arithmetic with a 128-bit
 * intermediate.  Both give the same cents wherever both are defined: the
 * fast form is a faster way of computing the exact one, never a second rule. */
#ifndef IMB_CHARGE_H
#define IMB_CHARGE_H

#include "core.h"

IMB_HIDDEN_BEGIN

/* gcc and clang have it on every 64-bit target we build for (see money.c) */
__extension__ typedef unsigned __int128 imb_u128;

/* The largest line the fast form gives, in cents: a plan fee and three lines
 * each at most this much cannot overflow an int64_t total (4 x 2^61 / 10^4),
 * and neither can a grid's 1,200 months of them. */
#define IMB_LINE_MAX (((int64_t)1 << 61) / IMB_MICROS_PER_CENT)

typedef struct imb_line {
  int64_t free;        /* INT64_MAX when the edition has no such charge */
  uint64_t block;      /* >= 1 */
  /* ceil(over / block) as the high half of (over + block - 1) * magic, magic =
   * floor(2^64 / block) + 1; 0 when the fast form never divides (block 1, or
   * a line prepared without it) */
  uint64_t magic;
  int64_t price;       /* micro-units a block */
  int64_t price_cents; /* price / 10^4, used when whole */
  uint64_t reach;      /* the fast form is exact for 0 <= v <= reach */
  int unit;            /* block == 1: no division */
  int whole;           /* the price is whole cents: no rounding step */
} imb_line;

/* Prepares a charge (block 0 means no such charge) for pricing one value:
 * values within the free quota are fast, the others take imb_line_exact,
 * which divides once, as a direct computation would. */
static inline void imb_line_init(imb_line *l, const imb_charge *c) {
  l->magic = 0;
  if (c->block <= 0) {
    /* no such charge: no value is ever over the quota, and the line is 0 */
    l->free = INT64_MAX;
    l->block = 1;
    l->price = l->price_cents = 0;
    l->reach = INT64_MAX;
    l->unit = l->whole = 1;
    return;
  }
  l->free = c->free;
  l->block = (uint64_t)c->block;
  l->price = c->price;
  l->whole = c->price % IMB_MICROS_PER_CENT == 0;
  l->price_cents = c->price / IMB_MICROS_PER_CENT;
  l->unit = c->block == 1;
  l->reach = (uint64_t)c->free;
}

/* Extends a prepared line's reach for pricing many values: the reciprocal
 * and the bounds cost a few divisions, paid once per batch. */
void imb_line_speedup(imb_line *l);

/* ceil((v - free) / block) for v > free: v > free >= 0, so the excess fits,
 * and the ceiling avoids the overflow that over + block - 1 could cause. */
static inline int64_t imb_line_blocks(const imb_line *l, int64_t v) {
  uint64_t over = (uint64_t)v - (uint64_t)l->free;
  return l->unit ? (int64_t)over : (int64_t)(over / l->block + (over % l->block != 0));
}

/* The rule in checked arithmetic, for every v: IMB_ERANGE for v < 0,
 * IMB_EOVERFLOW when the line does not fit in 64 bits.  When blocks * price
 * fits in 64 bits (every realistic bill) the rounding divides by a constant,
 * which the compiler turns into a multiplication; only a product beyond 2^63
 * takes imb_muldiv's 128-bit path.  Both give one exact rounding. */
static inline imb_status imb_line_exact(const imb_line *l, int64_t v, int64_t *blocks, int64_t *cents) {
  int64_t p;
  if (v < 0) return IMB_ERANGE;
  *blocks = 0;
  *cents = 0;
  if (v <= l->free) return IMB_OK;
  *blocks = imb_line_blocks(l, v);
  if (!__builtin_mul_overflow(*blocks, l->price, &p) && p <= INT64_MAX - IMB_MICROS_PER_CENT / 2) {
    *cents = (p + IMB_MICROS_PER_CENT / 2) / IMB_MICROS_PER_CENT;
    return IMB_OK;
  }
  return imb_muldiv(*blocks, l->price, IMB_MICROS_PER_CENT, cents);
}

/* The fast form, for 0 <= v <= l->reach.  unit and whole are l->unit and
 * l->whole: loops over many values pass them as constants, so the compiler
 * gives each shape of charge its own body.  Unsigned throughout: a column
 * loop computes the line of every value of a chunk before it knows whether
 * they were all within reach, and one beyond must wrap, not overflow (the
 * chunk is then priced again through imb_line_cents).
 *
 * Why one multiplication divides exactly: for x = over + block - 1 < 2^33
 * and 2 <= block < 2^31, x * magic / 2^64 = x / block + x * e / 2^64 with
 * 0 < e <= 1, and x * e / 2^64 < 2^-31 < 1 / block, too little to carry x /
 * block past the next whole number. */
static inline uint64_t imb_line_fast(const imb_line *l, int64_t v, int unit, int whole) {
  /* a select, not a branch: usage scattered around a free quota makes
   * "v <= free" a coin toss the CPU keeps mispredicting */
  uint64_t over = v > l->free ? (uint64_t)v - (uint64_t)l->free : 0;
  uint64_t blocks = unit ? over : (uint64_t)(((imb_u128)(over + l->block - 1) * l->magic) >> 64);
  if (whole) return blocks * (uint64_t)l->price_cents;
  /* unsigned: the division by a constant becomes a multiplication */
  return (blocks * (uint64_t)l->price + IMB_MICROS_PER_CENT / 2) / IMB_MICROS_PER_CENT;
}

/* The line of any value: the fast form within reach, the exact one beyond. */
static inline imb_status imb_line_cents(const imb_line *l, int64_t v, int64_t *cents) {
  int64_t blocks;
  if ((uint64_t)v <= l->reach) {
    *cents = (int64_t)imb_line_fast(l, v, l->unit, l->whole);
    return IMB_OK;
  }
  return imb_line_exact(l, v, &blocks, cents);
}

/* An edition prepared for pricing: its plan fee rounded to cents once, and its
 * three lines (DAU, groups, MAU). */
typedef struct imb_lines {
  int64_t fee;
  int is_free;
  imb_line l[3];
} imb_lines;

/* fast: for many scenarios (imb_line_speedup on each line). */
static inline imb_status imb_lines_init(imb_lines *ls, const imb_rate *r, int fast) {
  /* the plan fee rounded half-up to the cent; imb_round_cents's 128-bit path
   * only for a fee near the 64-bit limit (or a negative one) */
  if (r->monthly_fee >= 0 && r->monthly_fee <= INT64_MAX - IMB_MICROS_PER_CENT)
    ls->fee = (r->monthly_fee + IMB_MICROS_PER_CENT / 2) / IMB_MICROS_PER_CENT;
  else if (imb_round_cents(r->monthly_fee, &ls->fee))
    return IMB_EOVERFLOW;
  ls->is_free = r->is_free;
  imb_line_init(&ls->l[0], &r->dau);
  imb_line_init(&ls->l[1], &r->groups);
  imb_line_init(&ls->l[2], &r->mau);
  if (fast)
    for (int k = 0; k < 3; k++) imb_line_speedup(&ls->l[k]);
  return IMB_OK;
}

/* A full month's total in cents, as on an invoice: the plan fee and each line
 * rounded on its own, every step checked.  Free editions bill no usage. */
static inline imb_status imb_lines_total(const imb_lines *ls, int64_t dau, int64_t groups, int64_t mau,
                                         int64_t *cents) {
  const int64_t v[3] = { dau, groups, mau };
  int64_t total = ls->fee, c;
  imb_status s;
  if ((dau | groups | mau) < 0) return IMB_ERANGE;
  if (!ls->is_free) {
    for (int k = 0; k < 3; k++) {
      if ((s = imb_line_cents(&ls->l[k], v[k], &c))) return s;
      if (__builtin_add_overflow(total, c, &total)) return IMB_EOVERFLOW;
    }
  }
  *cents = total;
  return IMB_OK;
}

IMB_HIDDEN_END

#endif
