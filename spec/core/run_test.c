/* Runs every suite of the C core's tests and writes the results (argv[1]). */
#include "ctest.h"

#include <stdlib.h>

int ctest_failed;
char ctest_msg[512];

extern const ctest_case money_tests[], calendar_tests[], pricing_tests[], rules_tests[], policy_tests[],
    steps_tests[], tz_tests[], meter_file_tests[], batch_tests[], abi_tests[], oom_tests[];
static const ctest_case *const SUITES[] = { money_tests, calendar_tests, pricing_tests, rules_tests, policy_tests,
                                            steps_tests, tz_tests, meter_file_tests, batch_tests, abi_tests, oom_tests };

/* JSON string escaping for test names and messages (ASCII text here). */
static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fprintf(f, "\\%c", *s);
    else if ((unsigned char)*s < 0x20) fprintf(f, "\\u%04x", (unsigned char)*s);
    else fputc(*s, f);
  }
  fputc('"', f);
}

int main(int argc, char **argv) {
  FILE *out = argc > 1 ? fopen(argv[1], "w") : stdout;
  if (!out) {
    perror(argv[1]);
    return 2;
  }
  int passed = 0, failed = 0;
  fputs("{\"successes\":[", out);
  /* two passes keep the JSON in two arrays without buffering the results */
  for (int pass = 0; pass < 2; pass++) {
    int first = 1;
    if (pass == 1) fputs("],\"failures\":[", out);
    for (size_t s = 0; s < sizeof SUITES / sizeof *SUITES; s++) {
      for (const ctest_case *c = SUITES[s]; c->name; c++) {
        ctest_failed = 0;
        ctest_msg[0] = 0;
        c->fn();
        if (ctest_failed != pass) continue;
        if (!first) fputc(',', out);
        first = 0;
        fputs("{\"name\":", out);
        json_str(out, c->name);
        if (pass == 1) {
          fputs(",\"message\":", out);
          json_str(out, ctest_msg);
          fprintf(stderr, "FAILED %s\n  %s\n", c->name, ctest_msg);
          failed++;
        } else {
          passed++;
        }
        fputc('}', out);
      }
    }
  }
  fputs("]}\n", out);
  if (out != stdout) fclose(out);
  return failed ? 1 : 0;
}
