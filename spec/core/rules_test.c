/* The quota rule, decided without any store. */
#include "ctest.h"
#include "imbill.h"

static imb_limits trial(void) {
  imb_limits l;
  imb_limits_unlimited(&l);
  l.accounts = 100;
  l.av_groups = 10;
  l.non_av_groups = 100;
  return l;
}

static void the_101st_account_is_refused_70398(void) {
  imb_limits l = trial();
  imb_action a = { IMB_A_CREATE_ACCOUNT, IMB_G_PRIVATE, 0, 0 };
  imb_counts c;
  imb_decision d;
  memset(&c, 0, sizeof c);
  c.v[IMB_C_ACCOUNTS] = 99;
  imb_meter_decide(&l, &a, &c, &d);
  CHECK(d.allowed);
  c.v[IMB_C_ACCOUNTS] = 100;
  imb_meter_decide(&l, &a, &c, &d);
  CHECK(!d.allowed);
  CHECK_EQ(d.refusal.code, 70398);
  CHECK_EQ(d.refusal.max, 100);
}

CTEST_SUITE(rules_tests) = {
  { "rules: the 101st account on a 100-account edition is refused with 70398", the_101st_account_is_refused_70398 },
  { NULL, NULL },
};
