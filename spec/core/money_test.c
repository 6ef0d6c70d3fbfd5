/* Exact money: parsing, formatting and the one rounding step. */
#include "ctest.h"
#include "imbill.h"

static int64_t parse(const char *s) {
  int64_t v = -1;
  CHECK_EQ(imb_money_parse(s, strlen(s), &v), IMB_OK);
  return v;
}

static void parses_decimal_text(void) {
  CHECK_EQ(parse("149.99"), 149990000);
  CHECK_EQ(parse("0.015"), 15000);
  CHECK_EQ(parse("-1"), -1000000);
  int64_t v;
  CHECK_EQ(imb_money_parse("1e5", 3, &v), IMB_ESYNTAX);
  CHECK_EQ(imb_money_parse(" 1", 2, &v), IMB_ESYNTAX);
  CHECK_EQ(imb_money_parse("1.0000001", 9, &v), IMB_ESCALE);
  CHECK_EQ(imb_money_parse("12345678901234567890", 20, &v), IMB_EOVERFLOW);
}

static void formats_with_the_places_it_carries(void) {
  char buf[IMB_MONEY_BUFSZ];
  imb_money_format(1349910000, 2, buf);
  CHECK_STR(buf, "1349.91");
  imb_money_format(15000, 2, buf);
  CHECK_STR(buf, "0.015");
  imb_money_format(0, 2, buf);
  CHECK_STR(buf, "0.00");
  imb_money_format(INT64_MIN, 2, buf);
  CHECK_STR(buf, "-9223372036854.775808");
}

/* 314.993 -> 314.99, 0.005 -> 0.01: half away from zero, once. */
static void rounds_half_up_to_the_cent(void) {
  int64_t c;
  CHECK_EQ(imb_round_cents(314993000, &c), IMB_OK);
  CHECK_EQ(c, 31499);
  CHECK_EQ(imb_round_cents(5000, &c), IMB_OK);
  CHECK_EQ(c, 1);
  CHECK_EQ(imb_round_cents(-5000, &c), IMB_OK);
  CHECK_EQ(c, -1);
}

static void never_wraps(void) {
  int64_t v;
  CHECK_EQ(imb_add(INT64_MAX, 1, &v), IMB_EOVERFLOW);
  CHECK_EQ(imb_mul(INT64_MAX, 2, &v), IMB_EOVERFLOW);
  CHECK_EQ(imb_muldiv(INT64_MAX, 3, 3, &v), IMB_OK);
  CHECK_EQ(v, INT64_MAX);
}

CTEST_SUITE(money_tests) = {
  { "money: parses decimal text, refuses exponents, spaces, a 7th decimal, 64-bit overflow", parses_decimal_text },
  { "money: formats with two places or the places the value carries", formats_with_the_places_it_carries },
  { "money: rounds once, half away from zero, to the cent", rounds_half_up_to_the_cent },
  { "money: checked arithmetic never wraps", never_wraps },
  { NULL, NULL },
};
