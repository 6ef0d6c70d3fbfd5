/* The C core's batch kernels alone (figures, not a test): nanoseconds per
 * scenario for the month total scenario by scenario (imb_month_total), for the
 * batch path over int64 arrays (imb_totals_upto) and for a what-if grid
 * (imb_grid_run), on the six paid editions of the built-in books.  Built and
 * run by bench/batch.sh; the best of REPS runs, process CPU time for one
 * thread.
 *   build/bench/batch_core_bench [scenarios]      (default 1000000) */
#include "imbill.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define M(x) ((int64_t)(x) * 10000) /* cents to micro-units */

/* The six paid editions: 2020 pro and flagship, 2021 pro and ultimate (DAU and
 * groups blocks), 2022 standard and premium (MAU per user). */
static const imb_rate RATES[6] = {
  { M(14999), 0, { 10000, 10000, M(14999) }, { 100000, 100000, M(14999) }, { 0, 0, 0 } },
  { M(44999), 0, { 10000, 10000, M(14999) }, { 100000, 100000, M(14999) }, { 0, 0, 0 } },
  { M(44999), 0, { 10000, 10000, M(44999) }, { 100000, 100000, M(44999) }, { 0, 0, 0 } },
  { M(89999), 0, { 10000, 10000, M(44999) }, { 100000, 100000, M(44999) }, { 0, 0, 0 } },
  { M(39900), 0, { 0, 0, 0 }, { 0, 0, 0 }, { 10000, 1, 15000 } },
  { M(69900), 0, { 0, 0, 0 }, { 0, 0, 0 }, { 10000, 1, 15000 } },
};
enum { REPS = 5 };

static double wall_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The generator bench/batch_bench.lua uses, so the scenarios are the same. */
static int64_t rnd(uint64_t *seed, int64_t n) {
  *seed = (*seed * 1103515245u + 12345u) % 2147483648u;
  return (int64_t)(*seed % (uint64_t)n);
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? (size_t)atol(argv[1]) : 1000000;
  int64_t *dau = malloc(n * sizeof *dau), *groups = malloc(n * sizeof *groups), *mau = malloc(n * sizeof *mau);
  int64_t *out = malloc(n * sizeof *out);
  if (!dau || !groups || !mau || !out) return 2;
  uint64_t seed = 12345;
  for (size_t i = 0; i < n; i++) {
    dau[i] = rnd(&seed, 120000);
    groups[i] = rnd(&seed, 1200000);
    mau[i] = rnd(&seed, 200000);
  }
  for (size_t i = 0; i < n; i++) out[i] = 0; /* the pages exist before the clock starts */
  double single = 1e30, batch = 1e30;
  int64_t check = 0;
  for (int rep = 0; rep < REPS; rep++) {
    double t0 = cpu_s();
    for (int e = 0; e < 6; e++)
      for (size_t i = 0; i < n; i++)
        if (imb_month_total(&RATES[e], dau[i], groups[i], mau[i], &out[i])) return 3;
    double t1 = cpu_s();
    check = 0;
    for (size_t i = 0; i < n; i++) check += out[i];
    double t2 = cpu_s();
    for (int e = 0; e < 6; e++) {
      size_t bad;
      int field;
      if (imb_totals_upto(&RATES[e], n, dau, 1, groups, 1, mau, 1, INT64_MAX, out, &bad, &field)) return 4;
    }
    double t3 = cpu_s();
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += out[i];
    if (sum != check) {
      fprintf(stderr, "the batch and the single path disagree\n");
      return 5;
    }
    if (t1 - t0 < single) single = t1 - t0;
    if (t3 - t2 < batch) batch = t3 - t2;
  }
  printf("six editions x %zu scenarios (ns per scenario and edition, best of %d, one thread)\n", n, REPS);
  printf("  imb_month_total, one call a scenario  %6.2f ns\n", single * 1e9 / (6.0 * (double)n));
  printf("  imb_totals_upto over int64 arrays     %6.2f ns\n", batch * 1e9 / (6.0 * (double)n));
  /* threads: wall time (CPU time would add the threads up) */
  int cores = imb_cores();
  double par[3] = { 1e30, 1e30, 1e30 };
  for (int rep = 0; rep < REPS; rep++)
    for (int t = 1; t <= 2; t++) {
      double t0 = wall_s();
      for (int e = 0; e < 6; e++) {
        size_t bad;
        int field;
        if (imb_totals_par(&RATES[e], n, dau, 1, groups, 1, mau, 1, INT64_MAX, out, &bad, &field, t)) return 4;
      }
      double dt = wall_s() - t0;
      if (dt < par[t]) par[t] = dt;
    }
  printf("  imb_totals_par, 1 thread / 2 threads  %6.2f ns / %.2f ns (%.2fx; %d cores online; wall time)\n",
         par[1] * 1e9 / (6.0 * (double)n), par[2] * 1e9 / (6.0 * (double)n), par[1] / par[2], cores);
  /* the six editions in one call: a chunk of scenarios on each while it is in cache */
  int64_t *outs[6];
  const imb_rate *rp[6];
  for (int e = 0; e < 6; e++) {
    rp[e] = &RATES[e];
    outs[e] = malloc(n * sizeof *outs[e]);
    if (!outs[e]) return 2;
    for (size_t i = 0; i < n; i++) outs[e][i] = 0;
  }
  double many[3] = { 1e30, 1e30, 1e30 };
  for (int rep = 0; rep < REPS; rep++)
    for (int t = 1; t <= 2; t++) {
      size_t bad, rate;
      int field;
      double t0 = wall_s();
      if (imb_totals_many(rp, 6, n, dau, 1, groups, 1, mau, 1, INT64_MAX, outs, &bad, &field, &rate, t)) return 4;
      double dt = wall_s() - t0;
      if (dt < many[t]) many[t] = dt;
    }
  int64_t msum = 0;
  for (size_t i = 0; i < n; i++) msum += outs[5][i];
  if (msum != check) {
    fprintf(stderr, "imb_totals_many and the single path disagree\n");
    return 5;
  }
  printf("  imb_totals_many, six editions a call  %6.2f ns / %.2f ns (%.2fx; 1 thread / 2 threads, wall time)\n",
         many[1] * 1e9 / (6.0 * (double)n), many[2] * 1e9 / (6.0 * (double)n), many[1] / many[2]);
  for (int e = 0; e < 6; e++) free(outs[e]);

  /* a grid: six editions x 20 growth rates x (n / 120) starting DAU, 12 months */
  static int64_t growth[20];
  for (int i = 0; i < 20; i++) growth[i] = -20000 + 5000 * i;
  size_t ns = n / 120 ? n / 120 : 1;
  int64_t *start = malloc(ns * sizeof *start);
  int64_t *gout = malloc(6 * 20 * ns * sizeof *gout);
  if (!start || !gout) return 2;
  for (size_t i = 0; i < ns; i++) start[i] = 50 + (int64_t)i * 100;
  imb_grid g = { RATES, 6, growth, 20, start, ns, 12, 120000, 0, 3000000 };
  double grid = 1e30;
  for (int rep = 0; rep < REPS; rep++) {
    size_t bad;
    double t0 = cpu_s();
    if (imb_grid_run(&g, 0, 6 * 20 * ns, gout, &bad)) return 6;
    double dt = cpu_s() - t0;
    if (dt < grid) grid = dt;
  }
  printf("  imb_grid_run, 12 months a scenario    %6.2f ns per scenario (%zu scenarios, %.2fM scenarios/s)\n",
         grid * 1e9 / (double)(6 * 20 * ns), 6 * 20 * ns, (double)(6 * 20 * ns) / grid / 1e6);
  double gpar[3] = { 1e30, 1e30, 1e30 };
  for (int rep = 0; rep < REPS; rep++)
    for (int t = 1; t <= 2; t++) {
      size_t bad;
      double t0 = wall_s();
      if (imb_grid_run_par(&g, 0, 6 * 20 * ns, gout, &bad, t)) return 6;
      double dt = wall_s() - t0;
      if (dt < gpar[t]) gpar[t] = dt;
    }
  printf("  imb_grid_run_par, 1 / 2 threads       %.2fM / %.2fM scenarios/s (%.2fx; wall time)\n",
         (double)(6 * 20 * ns) / gpar[1] / 1e6, (double)(6 * 20 * ns) / gpar[2] / 1e6, gpar[1] / gpar[2]);
  free(dau);
  free(groups);
  free(mau);
  free(out);
  free(start);
  free(gout);
  return 0;
}
