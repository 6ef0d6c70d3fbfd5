/* Work split over threads (POSIX threads): the batch pricing of columns and
 * the what-if grid.  A job is a range of scenarios [0, n) cut into
 * contiguous slices that the threads take in index order as they finish the
 * previous one; each slice runs the same single-threaded code a caller
 * without threads would run, so results are identical whatever the number of
 * threads. */
#ifndef IMB_THREADS_H
#define IMB_THREADS_H

#include "core.h"

IMB_HIDDEN_BEGIN

/* The most threads one job uses. */
#define IMB_MAX_THREADS 64

typedef struct imb_par imb_par;

/* Prices scenarios lo .. hi-1.  On failure it returns the status, with *bad
 * the failing scenario (an index in 0 .. n-1, not relative to lo) and *aux
 * what the caller wants to know about it (a field).  It must stop at its first
 * failure, in index order, and may stop early (returning IMB_OK) when
 * imb_par_stop says an earlier scenario has already failed. */
typedef imb_status (*imb_par_fn)(void *ctx, size_t lo, size_t hi, size_t *bad, int *aux, imb_par *par);

/* Runs fn over [0, n) on `threads` threads (0 or less: every core), using
 * fewer when a thread would get fewer than `grain` scenarios; no slice holds
 * fewer than `grain` but the last.  The result is the failure with the lowest
 * scenario index, whatever the timing; every thread has been joined when it
 * returns.  The caller's thread takes slices too, so a thread that cannot be
 * started only leaves more of them to the others.  When the caller's stop
 * (may be NULL) says so, every slice ends at its next imb_par_stop and the
 * result is IMB_ESTOPPED. */
imb_status imb_parallel(size_t n, int threads, size_t grain, imb_par_fn fn, void *ctx, size_t *bad, int *aux,
                        const imb_stop *stop);

/* 1 when a slice may end here: a scenario before i is known to have failed
 * (its result will not be used), or the caller asked to stop.  On the
 * caller's thread it is also where the caller's stop is polled, so fn calls
 * it between chunks of work a few milliseconds long.  par may be NULL (no
 * threads, no stop). */
int imb_par_stop(imb_par *par, size_t i);

IMB_HIDDEN_END

#endif
