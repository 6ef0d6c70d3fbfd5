/* Months: what imb_month_parse accepts is the first 7 bytes of its first
 * day's date, and its length is that of a real month. */
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int32_t month = 0;
  imb_status st = imb_month_parse((const char *)data, size, &month);
  FUZZ_CHECK(st < IMB_STATUS_COUNT);
  if (st != IMB_OK) return 0;
  char buf[IMB_DATE_BUFSZ];
  int32_t first = imb_month_first_day(month);
  imb_date_format(first, buf);
  FUZZ_CHECK(size == 7 && memcmp(buf, data, 7) == 0);
  FUZZ_CHECK(imb_month_of_day(first) == month);
  int len = imb_month_length(month);
  FUZZ_CHECK(len >= 28 && len <= 31 && imb_month_of_day(first + len - 1) == month);
  return 0;
}
