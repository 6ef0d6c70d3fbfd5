/* Where a charge's line steps: the inverse of the block rule, on the
 * charge's own axis and on an axis it follows by a ratio. */
#include "ctest.h"
#include "imbill.h"

#include <stdint.h>

static const imb_charge DAU_2021 = { 10000, 10000, 449990000 }; /* 2021 pro: blocks of 10,000 over 10,000 */
static const imb_charge MAU_2022 = { 10000, 1, 15000 };         /* 2022 standard: 0.015 a user over 10,000 */
static const imb_charge NONE = { 0, 0, 0 };

static void block_steps_at_the_free_quota_and_every_block_end(void) {
  int64_t n;
  CHECK_EQ(imb_charge_next_step(&DAU_2021, 1000000, 0, &n), IMB_OK);
  CHECK_EQ(n, 10001); /* 10,000 is free, 10,001 is the first block */
  CHECK_EQ(imb_charge_next_step(&DAU_2021, 1000000, 10000, &n), IMB_OK);
  CHECK_EQ(n, 10001);
  CHECK_EQ(imb_charge_next_step(&DAU_2021, 1000000, 10001, &n), IMB_OK);
  CHECK_EQ(n, 20001); /* 10,001 .. 20,000 is one block */
  CHECK_EQ(imb_charge_next_step(&DAU_2021, 1000000, 20000, &n), IMB_OK);
  CHECK_EQ(n, 20001);
}

static void a_per_user_line_steps_at_every_user_past_its_free_quota(void) {
  int64_t n;
  CHECK_EQ(imb_charge_next_step(&MAU_2022, 1000000, 500, &n), IMB_OK);
  CHECK_EQ(n, 10001);
  CHECK_EQ(imb_charge_next_step(&MAU_2022, 1000000, 10001, &n), IMB_OK);
  CHECK_EQ(n, 10002);
}

/* MAU = round_half_up(3 x DAU): 3,333 DAU is 9,999 MAU, 3,334 is 10,002 */
static void a_followed_charge_steps_where_the_ratio_carries_it_past(void) {
  int64_t n, v;
  CHECK_EQ(imb_charge_next_step(&MAU_2022, 3000000, 0, &n), IMB_OK);
  CHECK_EQ(n, 3334);
  CHECK_EQ(imb_follow_value(3333, 3000000, &v), IMB_OK);
  CHECK_EQ(v, 9999);
  /* 2.5 x DAU rounds half up: 1 DAU is 3 (2.5), 2 DAU is 5 */
  CHECK_EQ(imb_follow_value(1, 2500000, &v), IMB_OK);
  CHECK_EQ(v, 3);
  CHECK_EQ(imb_follow_first_above(2, 2500000, &n), IMB_OK);
  CHECK_EQ(n, 1);
  CHECK_EQ(imb_follow_first_above(3, 2500000, &n), IMB_OK);
  CHECK_EQ(n, 2);
  CHECK_EQ(imb_follow_first_above(-1, 2500000, &n), IMB_OK);
  CHECK_EQ(n, 0);
}

static void every_answer_is_the_least_value_past_x(void) {
  static const int64_t ratios[] = { 1, 333333, 1000000, 1500000, 3000000, 7777777 };
  static const imb_charge charges[] = { { 10000, 10000, 1 }, { 7, 3, 1 }, { 0, 1, 1 }, { 100, 1, 1 } };
  for (size_t r = 0; r < sizeof ratios / sizeof ratios[0]; r++) {
    for (size_t k = 0; k < sizeof charges / sizeof charges[0]; k++) {
      for (int64_t x = 0; x < 300; x += 7) {
        int64_t n, b0, b1, c, v;
        CHECK_EQ(imb_charge_next_step(&charges[k], ratios[r], x, &n), IMB_OK);
        CHECK(n > x);
        imb_follow_value(x, ratios[r], &v);
        imb_charge_apply(&charges[k], v, &b0, &c);
        /* walk at most 10^5 values before the step; past that, its two sides */
        for (int64_t y = x + 1; y < n; y += (n - y > 100000 ? n - y - 1 : 1)) {
          imb_follow_value(y, ratios[r], &v);
          imb_charge_apply(&charges[k], v, &b1, &c);
          CHECK_EQ(b1, b0);
        }
        imb_follow_value(n, ratios[r], &v);
        imb_charge_apply(&charges[k], v, &b1, &c);
        CHECK(b1 != b0);
      }
    }
  }
}

static void no_charge_never_steps_and_the_edge_of_64_bits_is_named(void) {
  int64_t n;
  CHECK_EQ(imb_charge_next_step(&NONE, 1000000, 0, &n), IMB_ERANGE);
  CHECK_EQ(imb_charge_next_step(&DAU_2021, 1000000, -1, &n), IMB_ERANGE);
  CHECK_EQ(imb_charge_next_step(&DAU_2021, 0, 5, &n), IMB_ERANGE);
  CHECK_EQ(imb_charge_next_step(&DAU_2021, 1000000, INT64_MAX - 5, &n), IMB_EOVERFLOW);
  CHECK_EQ(imb_follow_value(INT64_MAX, 3000000, &n), IMB_EOVERFLOW);
  CHECK_EQ(imb_follow_first_above(INT64_MAX / 2, 1, &n), IMB_EOVERFLOW);
}

CTEST_SUITE(steps_tests) = {
  { "steps: a block charge steps at its free quota and at every block end", block_steps_at_the_free_quota_and_every_block_end },
  { "steps: a per-user line steps at every user past its free quota", a_per_user_line_steps_at_every_user_past_its_free_quota },
  { "steps: a followed charge steps where the ratio carries its usage past", a_followed_charge_steps_where_the_ratio_carries_it_past },
  { "steps: each answer is the least value past x at which the block count changes", every_answer_is_the_least_value_past_x },
  { "steps: no charge never steps; beyond 64 bits is an overflow", no_charge_never_steps_and_the_edge_of_64_bits_is_named },
  { NULL, NULL },
};
