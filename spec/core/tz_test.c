/* Time zones: one grammar (imb_tz_parse) for every zone imbill reads. */
#include "ctest.h"
#include "imbill.h"

static imb_status tz(const char *s, int32_t *off) { return imb_tz_parse(s, strlen(s), off); }

static void the_zones_in_use_run_from_minus_12_to_plus_14(void) {
  int32_t off = 1;
  CHECK_EQ(tz("+14:00", &off), IMB_OK);
  CHECK_EQ(off, 14 * 3600);
  CHECK_EQ(tz("-12:00", &off), IMB_OK);
  CHECK_EQ(off, -12 * 3600);
  CHECK_EQ(tz("+14:01", &off), IMB_ERANGE);
  CHECK_EQ(tz("+14:59", &off), IMB_ERANGE);
  CHECK_EQ(tz("-12:30", &off), IMB_ERANGE);
  CHECK_EQ(tz("-12:01", &off), IMB_ERANGE);
  CHECK_EQ(tz("+15", &off), IMB_ERANGE);
  CHECK_EQ(tz("+99:99", &off), IMB_ERANGE);
  CHECK_EQ(tz("+05:60", &off), IMB_ERANGE);
  CHECK_EQ(tz("+0560", &off), IMB_ERANGE);
  CHECK_EQ(tz("+05:45", &off), IMB_OK);
  CHECK_EQ(off, 5 * 3600 + 45 * 60);
}

static void every_spelling_of_an_offset(void) {
  int32_t off = 1;
  const char *eight[] = {"+08:00", "+0800", "+08", "+8", "+8:00", "UTC+8", "UTC+08:00", "GMT+0800"};
  for (size_t i = 0; i < sizeof eight / sizeof *eight; i++) {
    off = 0;
    CHECK_EQ(tz(eight[i], &off), IMB_OK);
    CHECK_EQ(off, 8 * 3600);
  }
  const char *zero[] = {"Z", "UTC", "GMT", "+00:00", "-00:00", "UTC+0"};
  for (size_t i = 0; i < sizeof zero / sizeof *zero; i++) {
    off = 1;
    CHECK_EQ(tz(zero[i], &off), IMB_OK);
    CHECK_EQ(off, 0);
  }
  CHECK_EQ(tz("-05:30", &off), IMB_OK);
  CHECK_EQ(off, -(5 * 3600 + 30 * 60));
}

static void anything_else_is_malformed(void) {
  int32_t off = 7;
  const char *bad[] = {"", "+", "-", "8", "08:00", "+800", "+08:", "+08:0", "+08:000", "+080", "+08-00",
                       "z", "utc", "UTCZ", "UTC ", " +08:00", "+08:00 ", "++8", "+-8", "+a", "+0x8", "+8h",
                       "UTC+", "GMT-", "+123:00", "+08::00"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CHECK_EQ(tz(bad[i], &off), IMB_ESYNTAX);
  CHECK_EQ(off, 7); /* untouched on failure */
  /* the length is the string's: a NUL inside is a byte like any other */
  CHECK_EQ(imb_tz_parse("+08\0:00", 7, &off), IMB_ESYNTAX);
  CHECK_EQ(imb_tz_parse("+08:00", 3, &off), IMB_OK);
  CHECK_EQ(off, 8 * 3600);
}

static void offsets_in_seconds(void) {
  CHECK(imb_tz_valid(0));
  CHECK(imb_tz_valid(IMB_TZ_MAX));
  CHECK(imb_tz_valid(IMB_TZ_MIN));
  CHECK(!imb_tz_valid(IMB_TZ_MAX + 60));
  CHECK(!imb_tz_valid(IMB_TZ_MIN - 60));
  CHECK(!imb_tz_valid(3601));
  CHECK(!imb_tz_valid(INT64_MIN));
}

CTEST_SUITE(tz_tests) = {
  { "tz: the zones in use run from -12:00 to +14:00, minutes below 60", the_zones_in_use_run_from_minus_12_to_plus_14 },
  { "tz: +08:00, +0800, +8, UTC+8 and the other spellings", every_spelling_of_an_offset },
  { "tz: anything else is malformed", anything_else_is_malformed },
  { "tz: offsets in seconds are whole minutes within the range", offsets_in_seconds },
  { NULL, NULL },
};
