/* Shared by the fuzz targets (one target per file, built by `make fuzz`
 * with clang's -fsanitize=fuzzer,address,undefined).  A target returns 0
 * for every input; a crash, a sanitizer report or a failed FUZZ_CHECK is a
 * finding. */
#ifndef IMB_FUZZ_H
#define IMB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "imbill.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the parser promises: abort (a finding) when it does not hold. */
#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);       \
      abort();                                                                           \
    }                                                                                    \
  } while (0)

#endif
