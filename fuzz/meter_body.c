/* The meter file loader past its checksum: the input is a body of the
 * version written (IMB_FILE_VERSION: a body of an older one would never reach
 * what that version added, such as version 4's one-way friendships),
 * given the header (length and FNV-1a 64) it needs, as someone altering a
 * file would recompute it.  Whatever the body, the loader refuses it naming
 * a field, or gives a meter that stands everything (meter_exercise.h). */
#include "meter_exercise.h"

static uint64_t fnv1a(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *file = malloc(size + 32);
  FUZZ_CHECK(file != NULL);
  memcpy(file, "IMBMETER", 8);
  uint64_t fields[3] = {IMB_FILE_VERSION | (uint64_t)32 << 32, size, fnv1a(data, size)};
  for (int f = 0; f < 3; f++)
    for (int i = 0; i < 8; i++) file[8 + 8 * f + i] = (uint8_t)(fields[f] >> (8 * i));
  if (size) memcpy(file + 32, data, size);
  imb_meter *m = NULL;
  imb_saved saved;
  imb_file_error err;
  imb_status st = imb_meter_load_bytes(file, size + 32, &m, &saved, &err);
  free(file);
  FUZZ_CHECK(st == IMB_OK || st == IMB_ECORRUPT || st == IMB_ENOMEM);
  /* past the header every refusal names what failed in the body */
  FUZZ_CHECK(st != IMB_ECORRUPT || strncmp(err.why, "corrupt meter file: ", 20) == 0);
  if (m) {
    exercise(m, &saved);
    imb_saved_free(&saved);
    imb_meter_free(m);
  }
  return 0;
}
