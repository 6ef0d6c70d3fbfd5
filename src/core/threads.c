/* imb_parallel: one contiguous piece of a job per thread (threads.h). */
#include "threads.h"

#include <pthread.h>
#include <unistd.h>

struct imb_par {
  size_t first_bad; /* the lowest failing index reported so far (SIZE_MAX: none) */
};

typedef struct piece {
  imb_par_fn fn;
  void *ctx;
  imb_par *par;
  size_t lo, hi, bad;
  int aux;
  imb_status s;
  pthread_t tid;
  int started;
} piece;

int imb_cores(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) return 1;
  return n > IMB_MAX_THREADS ? IMB_MAX_THREADS : (int)n;
}

int imb_par_stop(imb_par *par, size_t i) {
  return par && __atomic_load_n(&par->first_bad, __ATOMIC_RELAXED) < i;
}

/* floor(n * k / t) without overflowing n * k: with n = q * t + r it is q * k
 * + floor(r * k / t), and r, k <= t are small */
static size_t share(size_t n, size_t k, size_t t) { return n / t * k + n % t * k / t; }

static void *run_piece(void *arg) {
  piece *p = (piece *)arg;
  p->bad = 0;
  p->aux = -1;
  p->s = p->fn(p->ctx, p->lo, p->hi, &p->bad, &p->aux, p->par);
  if (p->s) {
    /* lower the shared minimum so later pieces can stop */
    size_t seen = __atomic_load_n(&p->par->first_bad, __ATOMIC_RELAXED);
    while (p->bad < seen &&
           !__atomic_compare_exchange_n(&p->par->first_bad, &seen, p->bad, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
  }
  return NULL;
}

imb_status imb_parallel(size_t n, int threads, size_t grain, imb_par_fn fn, void *ctx, size_t *bad, int *aux) {
  piece pieces[IMB_MAX_THREADS];
  imb_par par = { (size_t)-1 };
  size_t t = threads > 0 ? (size_t)threads : (size_t)imb_cores();
  if (t > IMB_MAX_THREADS) t = IMB_MAX_THREADS;
  if (grain < 1) grain = 1;
  if (t > n / grain) t = n / grain;
  if (t < 1) t = 1;
  for (size_t k = 0; k < t; k++) {
    piece *p = &pieces[k];
    p->fn = fn;
    p->ctx = ctx;
    p->par = &par;
    p->lo = share(n, k, t);
    p->hi = share(n, k + 1, t);
    p->started = 0;
  }
  for (size_t k = 1; k < t; k++)
    pieces[k].started = pthread_create(&pieces[k].tid, NULL, run_piece, &pieces[k]) == 0;
  run_piece(&pieces[0]);
  for (size_t k = 1; k < t; k++) {
    if (pieces[k].started) pthread_join(pieces[k].tid, NULL);
    else run_piece(&pieces[k]);
  }
  /* pieces are in index order, and each stopped at its own first failure: the
   * first failing piece holds the first failure */
  for (size_t k = 0; k < t; k++) {
    if (pieces[k].s) {
      *bad = pieces[k].bad;
      *aux = pieces[k].aux;
      return pieces[k].s;
    }
  }
  return IMB_OK;
}
