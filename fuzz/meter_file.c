/* The meter file loader on raw bytes, as a file would hold them: the header,
 * the checksum, then the body.  Most mutations stop at the checksum; the
 * meter_body target goes past it. */
#include "meter_exercise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  imb_meter *m = NULL;
  imb_saved saved;
  imb_file_error err;
  imb_status st = imb_meter_load_bytes(data, size, &m, &saved, &err);
  FUZZ_CHECK(st == IMB_OK || st == IMB_ECORRUPT || st == IMB_ENOMEM);
  FUZZ_CHECK(st == IMB_OK ? m != NULL : m == NULL && err.why[0] != 0);
  FUZZ_CHECK(memchr(err.why, 0, sizeof err.why) != NULL);
  if (m) {
    exercise(m, &saved);
    imb_saved_free(&saved);
    imb_meter_free(m);
  }
  return 0;
}
