/* Charges and month totals: the worked examples of the rules (docs/rules.md). */
#include "ctest.h"
#include "imbill.h"

static const imb_rate PRO_2020 = {
  149990000, 0, { 10000, 10000, 149990000 }, { 100000, 100000, 149990000 }, { 0, 0, 0 },
};

static void pro_2020_full_month_totals(void) {
  static const int64_t dau[] = { 9999, 10000, 10001, 25000, 100000 };
  static const int64_t want[] = { 14999, 14999, 44997, 74995, 284981 };
  for (int i = 0; i < 5; i++) {
    int64_t c;
    CHECK_EQ(imb_month_total(&PRO_2020, dau[i], dau[i] * 10, 0, &c), IMB_OK);
    CHECK_EQ(c, want[i]);
  }
}

static void block_rounding_bills_the_excess_only(void) {
  int64_t blocks, cents;
  CHECK_EQ(imb_charge_apply(&PRO_2020.dau, 10001, &blocks, &cents), IMB_OK);
  CHECK_EQ(blocks, 1);
  CHECK_EQ(cents, 14999);
  CHECK_EQ(imb_charge_apply(&PRO_2020.dau, 10000, &blocks, &cents), IMB_OK);
  CHECK_EQ(blocks, 0);
}

/* 2021 pro activated 2022-11-10: 449.99 x 21 / 30 = 314.993 -> 314.99 */
static void daily_proration_rounds_once(void) {
  int64_t c;
  CHECK_EQ(imb_prorate(449990000, 21, 30, &c), IMB_OK);
  CHECK_EQ(c, 31499);
}

/* HD 60 min + 2K 240 min + audio 60 min, no free minutes: 4.1364 -> 4.14 */
static void trtc_sums_exactly_and_rounds_once(void) {
  imb_trtc t;
  memset(&t, 0, sizeof t);
  static const int64_t price[IMB_TRTC_TIERS] = { 990000, 3990000, 8990000, 15990000, 35990000 };
  memcpy(t.price_per_1000, price, sizeof price);
  t.seconds[0] = 3600;
  t.seconds[1] = 3600;
  t.seconds[3] = 14400;
  CHECK_EQ(imb_trtc_price(&t), IMB_OK);
  CHECK_EQ(t.cents, 414);
  CHECK_EQ(t.exact_units, 4);
  CHECK_EQ(t.exact_nanos, 136400000);
  /* past 9.2 billion units the sum of billionths leaves 64 bits; the line
   * goes on to what money holds: 256,275,966,571 4K minutes, 9,223,372,036.89029 */
  memset(t.seconds, 0, sizeof t.seconds);
  t.seconds[4] = 256275966571LL * 60;
  CHECK_EQ(imb_trtc_price(&t), IMB_OK);
  CHECK_EQ(t.cents, 922337203689LL);
  CHECK_EQ(t.exact_units, 9223372036LL);
  CHECK_EQ(t.exact_nanos, 890290000);
  /* the most money holds, and a minute more */
  memset(t.seconds, 0, sizeof t.seconds);
  t.price_per_1000[0] = 1000000; /* 1.00 per 1,000 minutes: a minute is a tenth of a cent */
  t.seconds[0] = (IMB_MONEY_MAX_CENTS * 10 + 4) * 60; /* rounds down to the last cent */
  CHECK_EQ(imb_trtc_price(&t), IMB_OK);
  CHECK_EQ(t.cents, IMB_MONEY_MAX_CENTS);
  t.seconds[0] += 60;
  CHECK_EQ(imb_trtc_price(&t), IMB_EOVERFLOW);
}

static void batch_totals_equal_single_totals(void) {
  int64_t dau[300], out[300];
  size_t bad;
  for (int i = 0; i < 300; i++) dau[i] = (int64_t)i * 997;
  int64_t groups = 250000;
  CHECK_EQ(imb_totals(&PRO_2020, 300, dau, 1, &groups, 0, NULL, 0, out, &bad), IMB_OK);
  for (int i = 0; i < 300; i++) {
    int64_t c;
    imb_month_total(&PRO_2020, dau[i], groups, 0, &c);
    CHECK_EQ(out[i], c);
  }
}

CTEST_SUITE(pricing_tests) = {
  { "pricing: 2020 pro full-month totals of the worked examples", pro_2020_full_month_totals },
  { "pricing: block rounding bills the excess over the free quota only", block_rounding_bills_the_excess_only },
  { "pricing: daily proration is computed exactly and rounded once", daily_proration_rounds_once },
  { "pricing: TRTC minutes are summed exactly and rounded once", trtc_sums_exactly_and_rounds_once },
  { "pricing: the batch path gives the single path's totals", batch_totals_equal_single_totals },
  { NULL, NULL },
};
