/* The edition-change policy and the plan fee: the worked examples of
 * docs/rules.md, "Plan fee". */
#include "ctest.h"
#include "imbill.h"

static int32_t day(int y, int m, int d) {
  int32_t v = 0;
  imb_days_from_civil(y, m, d, &v);
  return v;
}

static const imb_policy P2020 = { 1, 2147483647 };
static const imb_policy P2022 = { 0, IMB_NO_DAY };

/* 2020 pro first activated 2021-02-10, back to trial in March, pro again
 * 2021-04-16: April is charged by day, 149.99 x 15 / 30 = 75.00. */
static void a_re_upgrade_is_charged_by_day(void) {
  imb_span spans[2] = { { IMB_NO_DAY, 0, 1, 0 }, { day(2021, 4, 16), 1, 0, 149990000 } };
  imb_fee_line out[2];
  int n;
  imb_change_verdict v;
  CHECK_EQ(imb_month_fees(&P2020, 2021 * 12 + 3, spans, 2, day(2021, 2, 10), out, &n, &v), IMB_OK);
  CHECK_EQ(v, IMB_CH_OK);
  CHECK_EQ(n, 2);
  CHECK_EQ(out[0].kind, IMB_FEE_FREE_EDITION);
  CHECK_EQ(out[1].kind, IMB_FEE_BY_DAY);
  CHECK_EQ(out[1].days, 15);
  CHECK_EQ(out[1].cents, 7500);
}

/* First activated 2021-03-10, the change of March: trial on 2021-04-01 came
 * back on that very day, the change of April, so pro again on 04-16 (or any
 * day of April) is a second change, as the meter refuses it.  Trial all April
 * is fine, and so is an activation two months back (the day before 03-01). */
static void after_last_months_activation_a_free_first_is_the_months_change(void) {
  imb_span spans[2] = { { IMB_NO_DAY, 0, 1, 0 }, { day(2021, 4, 16), 1, 0, 149990000 } };
  imb_fee_line out[2];
  int n;
  imb_change_verdict v;
  CHECK_EQ(imb_month_fees(&P2020, 2021 * 12 + 3, spans, 2, day(2021, 3, 10), out, &n, &v), IMB_OK);
  CHECK_EQ(v, IMB_CH_TWICE);
  CHECK_EQ(n, 0);
  spans[1].from = day(2021, 4, 1); /* the edition a change on the 1st leaves ran on 03-31 */
  CHECK_EQ(imb_month_fees(&P2020, 2021 * 12 + 3, spans, 2, day(2021, 3, 31), out, &n, &v), IMB_OK);
  CHECK_EQ(v, IMB_CH_TWICE);
  CHECK_EQ(imb_month_fees(&P2020, 2021 * 12 + 3, spans, 1, day(2021, 3, 10), out, &n, &v), IMB_OK);
  CHECK_EQ(v, IMB_CH_OK);
  CHECK_EQ(n, 1);
  CHECK_EQ(out[0].kind, IMB_FEE_FREE_EDITION);
  spans[1].from = day(2021, 4, 16);
  CHECK_EQ(imb_month_fees(&P2020, 2021 * 12 + 3, spans, 2, day(2021, 2, 28), out, &n, &v), IMB_OK);
  CHECK_EQ(v, IMB_CH_OK);
  CHECK_EQ(out[1].cents, 7500);
}

static void the_first_activation_month_is_free_in_2020(void) {
  imb_span spans[1] = { { IMB_NO_DAY, 0, 0, 149990000 } };
  imb_fee_line out[1];
  int n;
  imb_change_verdict v;
  CHECK_EQ(imb_month_fees(&P2020, 2021 * 12 + 2, spans, 1, day(2021, 3, 10), out, &n, &v), IMB_OK);
  CHECK_EQ(n, 1);
  CHECK_EQ(out[0].kind, IMB_FEE_ACTIVATION);
  CHECK_EQ(out[0].cents, 0);
  CHECK_EQ(out[0].from, day(2021, 3, 10));
}

/* 2021 pro activated 2022-11-10, after the 2022-10-18 switch: 449.99 x 21/30. */
static void from_the_switch_an_activation_is_charged_by_day(void) {
  imb_policy p2021 = { 0, day(2022, 10, 18) };
  imb_span spans[1] = { { IMB_NO_DAY, 0, 0, 449990000 } };
  imb_fee_line out[1];
  int n;
  imb_change_verdict v;
  CHECK_EQ(imb_month_fees(&p2021, 2022 * 12 + 10, spans, 1, day(2022, 11, 10), out, &n, &v), IMB_OK);
  CHECK_EQ(out[0].kind, IMB_FEE_BY_DAY);
  CHECK_EQ(out[0].cents, 31499);
}

static void one_change_a_month_and_no_return_to_free_where_forbidden(void) {
  imb_span hist[2] = { { IMB_NO_DAY, 0, 1, 0 }, { day(2023, 3, 5), 1, 0, 399000000 } };
  imb_span to_premium = { day(2023, 3, 20), 2, 0, 699000000 };
  imb_span to_free = { day(2023, 4, 1), 0, 1, 0 };
  CHECK_EQ(imb_change_check(&P2022, hist, 2, day(2023, 3, 5), day(2023, 3, 20), &to_premium), IMB_CH_TWICE);
  CHECK_EQ(imb_change_check(&P2022, hist, 2, day(2023, 3, 5), day(2023, 4, 1), &to_free), IMB_CH_NO_RETURN);
  CHECK_EQ(imb_change_check(&P2020, hist, 2, day(2023, 3, 5), day(2023, 4, 1), &to_free), IMB_CH_OK);
  to_premium.from = day(2023, 4, 2);
  CHECK_EQ(imb_change_check(&P2022, hist, 2, day(2023, 3, 5), day(2023, 4, 2), &to_premium), IMB_CH_OK);
}

/* No history (n < 1), a NULL or a day outside the calendar is no question
 * the policy can answer: IMB_CH_INVALID, and spans[-1] is never read. */
static void a_change_check_without_a_history_is_invalid(void) {
  imb_span hist[1] = { { IMB_NO_DAY, 0, 1, 0 } };
  imb_span to = { day(2023, 4, 1), 1, 0, 399000000 };
  CHECK_EQ(imb_change_check(&P2022, hist, 0, IMB_NO_DAY, day(2023, 4, 1), &to), IMB_CH_INVALID);
  CHECK_EQ(imb_change_check(&P2022, NULL, 0, IMB_NO_DAY, day(2023, 4, 1), &to), IMB_CH_INVALID);
  CHECK_EQ(imb_change_check(&P2022, hist, -1, IMB_NO_DAY, day(2023, 4, 1), &to), IMB_CH_INVALID);
  CHECK_EQ(imb_change_check(&P2022, hist, INT32_MIN, IMB_NO_DAY, day(2023, 4, 1), &to), IMB_CH_INVALID);
  CHECK_EQ(imb_change_check(NULL, hist, 1, IMB_NO_DAY, day(2023, 4, 1), &to), IMB_CH_INVALID);
  CHECK_EQ(imb_change_check(&P2022, hist, 1, IMB_NO_DAY, day(2023, 4, 1), NULL), IMB_CH_INVALID);
  CHECK_EQ(imb_change_check(&P2022, hist, 1, IMB_NO_DAY, IMB_DAY_MAX + 1, &to), IMB_CH_INVALID);
  CHECK_EQ(imb_change_check(&P2022, hist, 1, IMB_NO_DAY, IMB_NO_DAY, &to), IMB_CH_INVALID);
  /* the edges of the calendar are days like any other */
  CHECK_EQ(imb_change_check(&P2022, hist, 1, IMB_NO_DAY, IMB_DAY_MAX, &to), IMB_CH_OK);
  CHECK_EQ(imb_change_check(&P2022, hist, 1, IMB_NO_DAY, IMB_DAY_MIN, &to), IMB_CH_OK);
  CHECK_EQ(imb_change_check(&P2022, hist, 1, IMB_NO_DAY, day(2023, 4, 1), &to), IMB_CH_OK);
}

CTEST_SUITE(policy_tests) = {
  { "policy: a change check with no history, a NULL or a day outside the calendar is invalid",
    a_change_check_without_a_history_is_invalid },
  { "policy: a re-upgrade in a later month than the first activation is charged by day (2020)",
    a_re_upgrade_is_charged_by_day },
  { "policy: after last month's activation, a free edition on the 1st is this month's change (2020)",
    after_last_months_activation_a_free_first_is_the_months_change },
  { "policy: the first paid activation's month has no plan fee in 2020", the_first_activation_month_is_free_in_2020 },
  { "policy: from 2022-10-18 a 2021 activation is charged by day", from_the_switch_an_activation_is_charged_by_day },
  { "policy: one change a month; no return to a free edition in 2022; 2020 allows it",
    one_change_a_month_and_no_return_to_free_where_forbidden },
  { NULL, NULL },
};
