/* A small test harness for the C core, so the core is tested on its own,
 * linked without Lua.  Each TEST is a function; CHECK records a failure and
 * goes on.  The runner writes the results in the JSON form the other suites
 * use ({"successes":[...],"failures":[...]}) for scripts/tally.lua. */
#ifndef IMB_CTEST_H
#define IMB_CTEST_H

#include <stdio.h>
#include <string.h>

typedef struct ctest_case {
  const char *name;
  void (*fn)(void);
} ctest_case;

extern int ctest_failed;
extern char ctest_msg[512];

#define CHECK(cond)                                                                        \
  do {                                                                                     \
    if (!(cond) && !ctest_failed) {                                                        \
      ctest_failed = 1;                                                                    \
      snprintf(ctest_msg, sizeof ctest_msg, "%s:%d: %s", __FILE__, __LINE__, #cond);       \
    }                                                                                      \
  } while (0)

#define CHECK_EQ(a, b)                                                                     \
  do {                                                                                     \
    long long ctest_a = (long long)(a), ctest_b = (long long)(b);                          \
    if (ctest_a != ctest_b && !ctest_failed) {                                             \
      ctest_failed = 1;                                                                    \
      snprintf(ctest_msg, sizeof ctest_msg, "%s:%d: %s == %s: %lld != %lld", __FILE__,     \
               __LINE__, #a, #b, ctest_a, ctest_b);                                        \
    }                                                                                      \
  } while (0)

#define CHECK_STR(a, b)                                                                    \
  do {                                                                                     \
    if (strcmp((a), (b)) != 0 && !ctest_failed) {                                          \
      ctest_failed = 1;                                                                    \
      snprintf(ctest_msg, sizeof ctest_msg, "%s:%d: \"%s\" != \"%s\"", __FILE__, __LINE__, \
               (a), (b));                                                                  \
    }                                                                                      \
  } while (0)

/* Each test file ends with a table of its cases, named for the file. */
#define CTEST_SUITE(name) const ctest_case name[]

#endif
