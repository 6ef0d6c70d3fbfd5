/* Time zones: imb_tz_parse accepts only whole minutes from -12:00 to
 * +14:00, and its "+HH:MM" spelling of the result parses to the same. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int32_t off = 0, again = 1;
  imb_status st = imb_tz_parse((const char *)data, size, &off);
  FUZZ_CHECK(st == IMB_OK || st == IMB_ESYNTAX || st == IMB_ERANGE);
  if (st != IMB_OK) return 0;
  FUZZ_CHECK(imb_tz_valid(off));
  int32_t a = off < 0 ? -off : off;
  char buf[8];
  int n = snprintf(buf, sizeof buf, "%c%02d:%02d", off < 0 ? '-' : '+', (int)(a / 3600), (int)(a % 3600 / 60));
  FUZZ_CHECK(n == 6 && imb_tz_parse(buf, 6, &again) == IMB_OK && again == off);
  return 0;
}
