/* Money strings: imb_money_parse never reads past len, and what it accepts
 * formats back to a string that parses to the same amount. */
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int64_t v = 0, again = 0;
  imb_status st = imb_money_parse((const char *)data, size, &v);
  FUZZ_CHECK(st < IMB_STATUS_COUNT);
  if (st != IMB_OK) return 0;
  char buf[IMB_MONEY_BUFSZ];
  for (int places = 0; places <= 6; places++) {
    size_t n = imb_money_format(v, places, buf);
    FUZZ_CHECK(n < sizeof buf && buf[n] == 0 && strlen(buf) == n);
    FUZZ_CHECK(imb_money_parse(buf, n, &again) == IMB_OK && again == v);
  }
  int64_t cents;
  if (imb_round_cents(v, &cents) == IMB_OK) FUZZ_CHECK(cents >= v / 10000 - 1 && cents <= v / 10000 + 1);
  return 0;
}
