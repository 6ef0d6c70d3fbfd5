/* imb_parallel: a job's slices shared out among threads (threads.h). */
#include "threads.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

struct imb_par {
  size_t first_bad; /* the lowest failing index reported so far (SIZE_MAX: none) */
  int stopped;      /* the caller's stop said yes (atomic) */
  const imb_stop *stop;
  pthread_t caller;   /* the only thread that polls the stop */
  int64_t next_poll;  /* CLOCK_MONOTONIC ns before which the caller is not asked again */
};

/* A job is cut into slices taken in index order from a shared counter, so a
 * thread that runs faster (a core the machine lends it longer, cheaper
 * scenarios) takes more of them: a machine shared with other work, or a grid
 * whose editions cost more than others, does not leave one thread waiting for
 * the other.  Slices shrink as the job runs out (guided scheduling): each is
 * a share of what is left, so the last ones are small and the threads finish
 * within a small slice of each other, while early slices are long enough
 * that taking one costs nothing next to pricing it. */
typedef struct job {
  imb_par_fn fn;
  void *ctx;
  imb_par par;
  size_t n, grain, parts; /* a slice: what is left / parts, at least grain */
  size_t next;            /* the first scenario no thread has taken yet (atomic) */
} job;

/* One thread's share: its lowest failure, if any. */
typedef struct worker {
  job *j;
  size_t bad;
  int aux;
  imb_status s;
  pthread_t tid;
  int started;
  int done; /* run_worker has returned (atomic) */
} worker;

int imb_cores(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) return 1;
  return n > IMB_MAX_THREADS ? IMB_MAX_THREADS : (int)n;
}

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* The caller's stop, asked on the caller's thread alone (its poll may call
 * back into a language runtime that only that thread may enter), and at most
 * every IMB_STOP_MS, so that a poll costs nothing next to the work between. */
static int poll_stop(imb_par *par) {
  if (!par->stop || !par->stop->poll || !pthread_equal(pthread_self(), par->caller)) return 0;
  int64_t t = now_ns();
  if (t < par->next_poll) return 0;
  par->next_poll = t + (int64_t)IMB_STOP_MS * 1000000;
  if (!par->stop->poll(par->stop->ctx)) return 0;
  __atomic_store_n(&par->stopped, 1, __ATOMIC_RELAXED);
  return 1;
}

int imb_par_stop(imb_par *par, size_t i) {
  if (!par) return 0;
  if (__atomic_load_n(&par->first_bad, __ATOMIC_RELAXED) < i) return 1;
  if (__atomic_load_n(&par->stopped, __ATOMIC_RELAXED)) return 1;
  return poll_stop(par);
}

/* Lowers the shared minimum so threads past it stop. */
static void lower_first_bad(imb_par *par, size_t bad) {
  size_t seen = __atomic_load_n(&par->first_bad, __ATOMIC_RELAXED);
  while (bad < seen &&
         !__atomic_compare_exchange_n(&par->first_bad, &seen, bad, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
}

/* Takes slices until none is left or a failure before the next slice is
 * known.  Slices come in increasing order, so every slice below the lowest
 * failure is run to its end by some thread: the lowest failure any thread
 * reports is the first failure of the job. */
static void take_slices(worker *w) {
  job *j = w->j;
  size_t lo = __atomic_load_n(&j->next, __ATOMIC_RELAXED), hi;
  for (;;) {
    /* claim [lo, hi): on a lost race lo is reloaded and the share taken again */
    do {
      if (lo >= j->n) return;
      size_t left = j->n - lo, len = left / j->parts;
      if (len < j->grain) len = j->grain;
      hi = len >= left ? j->n : lo + len;
    } while (!__atomic_compare_exchange_n(&j->next, &lo, hi, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    if (imb_par_stop(&j->par, lo)) break;
    size_t bad = 0;
    int aux = -1;
    imb_status s = j->fn(j->ctx, lo, hi, &bad, &aux, &j->par);
    if (s) {
      w->s = s;
      w->bad = bad;
      w->aux = aux;
      lower_first_bad(&j->par, bad);
      break; /* every later slice starts past this failure */
    }
    lo = __atomic_load_n(&j->next, __ATOMIC_RELAXED);
  }
}

static void *run_worker(void *arg) {
  worker *w = (worker *)arg;
  take_slices(w);
  __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
  return NULL;
}

imb_status imb_parallel(size_t n, int threads, size_t grain, imb_par_fn fn, void *ctx, size_t *bad, int *aux,
                        const imb_stop *stop) {
  worker ws[IMB_MAX_THREADS];
  size_t t = threads > 0 ? (size_t)threads : (size_t)imb_cores();
  if (t > IMB_MAX_THREADS) t = IMB_MAX_THREADS;
  if (grain < 1) grain = 1;
  if (t > n / grain) t = n / grain;
  if (t < 1) t = 1;
  /* a slice is a quarter of a thread's share of what is left */
  enum { SHARE = 4 };
  /* next_poll 0: asked at the first slice, so a stop already pending (an
   * interrupt that came before the call) starts no work */
  job j = { fn, ctx, { (size_t)-1, 0, stop, pthread_self(), 0 }, n, grain, t * SHARE, 0 };
  for (size_t k = 0; k < t; k++) {
    ws[k].j = &j;
    ws[k].s = IMB_OK;
    ws[k].started = 0;
    ws[k].done = 0;
  }
  for (size_t k = 1; k < t; k++) ws[k].started = pthread_create(&ws[k].tid, NULL, run_worker, &ws[k]) == 0;
  /* the caller's thread works too, and takes whatever a thread that could not
   * be started would have */
  take_slices(&ws[0]);
  /* while the last slices end on the other threads the caller's stop is still
   * asked, so that it is never a whole slice late */
  if (stop && stop->poll)
    for (size_t k = 1; k < t; k++)
      while (ws[k].started && !__atomic_load_n(&ws[k].done, __ATOMIC_ACQUIRE) && !imb_par_stop(&j.par, 0)) {
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
      }
  for (size_t k = 1; k < t; k++)
    if (ws[k].started) pthread_join(ws[k].tid, NULL);
  /* a stopped job's slices did not all run: no failure found is the first */
  if (j.par.stopped) return IMB_ESTOPPED;
  /* the shared minimum is the lowest failure; the thread that found it
   * holds its status and field */
  size_t low = j.par.first_bad;
  for (size_t k = 0; k < t; k++) {
    if (ws[k].s && ws[k].bad == low) {
      *bad = low;
      *aux = ws[k].aux;
      return ws[k].s;
    }
  }
  return IMB_OK;
}
