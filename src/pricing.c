#include "pricing.h"
#include "money.h"

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

imb_status imb_charge_apply(const imb_charge *c, int64_t value, int64_t *blocks, int64_t *cents) {
  if (value < 0) return IMB_ERANGE;
  *blocks = 0;
  *cents = 0;
  if (c->block == 0 || value <= c->free) return IMB_OK;
  int64_t over = value - c->free;
  /* ceil without the overflow that (over + block - 1) could cause */
  *blocks = over / c->block + (over % c->block != 0);
  return imb_muldiv(*blocks, c->price, IMB_MICROS_PER_CENT, cents);
}

imb_status imb_prorate(int64_t monthly, int32_t days, int32_t dim, int64_t *cents) {
  if (dim < 28 || dim > 31 || days < 0 || days > dim || monthly < 0) return IMB_ERANGE;
  /* one division: monthly * days / (dim * 10^4) is the exact line, rounded once */
  return imb_muldiv(monthly, days, (int64_t)dim * IMB_MICROS_PER_CENT, cents);
}

imb_status imb_month_total(const imb_rate *r, int64_t dau, int64_t groups, int64_t mau,
                           int64_t *cents) {
  int64_t total, b, c;
  imb_status s = imb_round_cents(r->monthly_fee, &total);
  if (s) return s;
  if (dau < 0 || groups < 0 || mau < 0) return IMB_ERANGE;
  if (r->is_free) {
    *cents = total;
    return IMB_OK;
  }
  if ((s = imb_charge_apply(&r->dau, dau, &b, &c)) || (s = imb_add(total, c, &total))) return s;
  if ((s = imb_charge_apply(&r->groups, groups, &b, &c)) || (s = imb_add(total, c, &total))) return s;
  if ((s = imb_charge_apply(&r->mau, mau, &b, &c)) || (s = imb_add(total, c, &total))) return s;
  *cents = total;
  return IMB_OK;
}

imb_status imb_totals(const imb_rate *r, size_t n, const int64_t *dau, size_t dau_step,
                      const int64_t *groups, size_t groups_step, const int64_t *mau,
                      size_t mau_step, int64_t *out, size_t *bad) {
  static const int64_t zero = 0;
  if (!dau) { dau = &zero; dau_step = 0; }
  if (!groups) { groups = &zero; groups_step = 0; }
  if (!mau) { mau = &zero; mau_step = 0; }
  for (size_t i = 0; i < n; i++) {
    imb_status s = imb_month_total(r, dau[i * dau_step], groups[i * groups_step], mau[i * mau_step],
                                   &out[i]);
    if (s) {
      *bad = i;
      return s;
    }
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
