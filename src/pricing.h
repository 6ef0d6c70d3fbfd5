/* Usage charges and plan fees: the arithmetic of SPEC sections 1, 4 and 5.
 * Which edition was in force on which days, and whether a fee is waived, is
 * decided by the caller; this file turns those facts into cents. */
#ifndef IMB_PRICING_H
#define IMB_PRICING_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

/* One metered charge: blocks = ceil(max(0, value - free) / block), amount =
 * blocks * price.  block == 0 means the edition has no such charge. */
typedef struct imb_charge {
  int64_t free;
  int64_t block;
  int64_t price; /* micro-units per block */
} imb_charge;

/* The prices of one edition. Free editions are never billed for usage. */
typedef struct imb_rate {
  int64_t monthly_fee; /* micro-units */
  int is_free;
  imb_charge dau, groups, mau;
} imb_rate;

#define IMB_TRTC_TIERS 5 /* audio, hd, fhd, 2k, 4k: the order free minutes are used in */

typedef struct imb_trtc {
  int64_t seconds[IMB_TRTC_TIERS];
  int64_t price_per_1000[IMB_TRTC_TIERS]; /* micro-units per 1,000 minutes */
  int64_t free_minutes;
  /* out */
  int64_t minutes[IMB_TRTC_TIERS]; /* ceil(seconds / 60) */
  int64_t billed[IMB_TRTC_TIERS];  /* after free minutes */
  int64_t cents;
} imb_trtc;

IMB_API imb_status imb_rate_check(const imb_rate *r);

/* The blocks and the amount in cents of one charge for a usage value. */
IMB_API imb_status imb_charge_apply(const imb_charge *c, int64_t value, int64_t *blocks,
                                    int64_t *cents);

/* round_half_up(monthly * days / days_in_month) in cents. */
IMB_API imb_status imb_prorate(int64_t monthly, int32_t days, int32_t days_in_month,
                               int64_t *cents);

/* Full-month total in cents: plan fee plus DAU, group and MAU overage, each line
 * rounded on its own as on an invoice. */
IMB_API imb_status imb_month_total(const imb_rate *r, int64_t dau, int64_t groups, int64_t mau,
                                   int64_t *cents);

/* imb_month_total over n scenarios.  Each input is an array read with its own
 * step: step 1 walks it, step 0 repeats its first value (and NULL means 0). On
 * failure *bad is the index of the scenario that failed. */
IMB_API imb_status imb_totals(const imb_rate *r, size_t n, const int64_t *dau, size_t dau_step,
                              const int64_t *groups, size_t groups_step, const int64_t *mau,
                              size_t mau_step, int64_t *out, size_t *bad);

/* imb_totals with every count and every total bounded by limit >= 0: a
 * count outside 0 .. limit is IMB_ERANGE with *bad_field 0, 1 or 2 (dau,
 * groups, mau), a total beyond it IMB_ERANGE with *bad_field -1.  Bindings
 * whose numbers are IEEE-754 binary64 (LuaJIT) pass 2^53, where such numbers
 * stop holding every whole number, so every result converts back exactly. */
IMB_API imb_status imb_totals_upto(const imb_rate *r, size_t n, const int64_t *dau, size_t dau_step,
                                   const int64_t *groups, size_t groups_step, const int64_t *mau,
                                   size_t mau_step, int64_t limit, int64_t *out, size_t *bad,
                                   int *bad_field);

/* TRTC call minutes (SPEC 5): per tier ceil(seconds/60), free minutes taken in
 * tier order, the sum priced exactly and rounded once. */
IMB_API imb_status imb_trtc_price(imb_trtc *t);

#endif
