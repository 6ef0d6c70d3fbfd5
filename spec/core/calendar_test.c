/* Calendar days in a fixed billing offset. */
#include "ctest.h"
#include "imbill.h"

static void a_login_at_1700z_on_the_31st_counts_on_the_1st_in_utc8(void) {
  int32_t d, want;
  /* 2021-03-31T17:00:00Z */
  CHECK_EQ(imb_day_of(1617210000, 8 * 3600, &d), IMB_OK);
  CHECK_EQ(imb_days_from_civil(2021, 4, 1, &want), IMB_OK);
  CHECK_EQ(d, want);
}

static void only_real_dates_parse(void) {
  int32_t d;
  CHECK_EQ(imb_date_parse("2021-02-29", 10, &d), IMB_ERANGE);
  CHECK_EQ(imb_date_parse("2020-02-29", 10, &d), IMB_OK);
  CHECK_EQ(imb_date_parse("2021-3-15", 9, &d), IMB_ESYNTAX);
  CHECK_EQ(imb_month_length(2021 * 12 + 1), 28);
  CHECK_EQ(imb_month_length(2020 * 12 + 1), 29);
}

CTEST_SUITE(calendar_tests) = {
  { "calendar: a login at 17:00Z on 2021-03-31 counts on 2021-04-01 in UTC+8",
    a_login_at_1700z_on_the_31st_counts_on_the_1st_in_utc8 },
  { "calendar: only real dates parse; February has 28 or 29 days", only_real_dates_parse },
  { NULL, NULL },
};
