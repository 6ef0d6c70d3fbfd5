/* Dates: what imb_date_parse accepts is exactly what imb_date_format writes
 * for that day (one spelling per day), and the day is in years 1..9999. */
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int32_t day = 0, y;
  int m, d;
  imb_status st = imb_date_parse((const char *)data, size, &day);
  FUZZ_CHECK(st < IMB_STATUS_COUNT);
  if (st != IMB_OK) return 0;
  char buf[IMB_DATE_BUFSZ];
  imb_date_format(day, buf);
  FUZZ_CHECK(size == 10 && memcmp(buf, data, 10) == 0);
  imb_civil_from_days(day, &y, &m, &d);
  FUZZ_CHECK(y >= IMB_MIN_YEAR && y <= IMB_MAX_YEAR && d <= imb_days_in_month(y, m));
  int32_t t;
  FUZZ_CHECK(imb_day_of((int64_t)day * 86400, 0, &t) == IMB_OK && t == day);
  return 0;
}
