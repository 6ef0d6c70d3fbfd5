/* A call that fails for want of memory leaves the meter exactly as it was
 * (include/imbill.h: "a failed call changes nothing"), and calling again
 * once memory is there counts the event once.  Every allocation of a call is
 * made to fail in turn (the Nth from 1 up until the call succeeds) and the
 * meter's saved bytes are compared with those before the call.
 *
 * Before: an account for a new user failing on the record array left the id
 * interned without its record (every later save read past the array); an
 * event id interned without its day was taken for a duplicate on retry (the
 * event never counted); a group create failing on its event id left the day
 * marked with group activity it never had, so m:save wrote a file that
 * imbill.meter.load refused ("days[1].has_groups: is 1 but the day has no
 * create or disband"); a two-way friendship failing on the peer's list,
 * after the pool of lists had moved, took the user's new friend out through a
 * pointer into the freed pool, so the list's count stayed one above its
 * friends and a later add was refused 30010; failed calls left empty day
 * records and the ids they named.
 *
 * The allocator is replaced through glibc's own entry points, so only where
 * no sanitizer or valgrind replaces it first. */
#include "ctest.h"
#include "imbill.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define OOM_HOOK 1
extern void *__libc_malloc(size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_calloc(size_t, size_t);
extern void __libc_free(void *);
/* volatile: the compiler takes malloc for one that reads no global of ours */
static volatile long fail_at = -1, nalloc;
static int failing(void) { return fail_at >= 0 && ++nalloc == fail_at; }
void *malloc(size_t n) { return failing() ? NULL : __libc_malloc(n); }
void *realloc(void *p, size_t n) { return failing() ? NULL : __libc_realloc(p, n); }
void *calloc(size_t a, size_t b) { return failing() ? NULL : __libc_calloc(a, b); }
void free(void *p) { __libc_free(p); }

static char dir[64], path[96];

static unsigned char *state_of(const imb_meter *m, size_t *len) {
  imb_file_error e;
  *len = 0;
  if (imb_meter_save(m, path, strlen(path), NULL, 0, NULL, &e)) return NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return b;
}

typedef struct step {
  int32_t kind;
  const char *a, *b;
  int32_t gtype;
  int64_t t;
  const char *id;
} step;

enum { T0 = 1700000000 };

static int steps(step *s) {
  static char ids[64][8];
  int n = 0;
  for (int i = 0; i < 64; i++) snprintf(ids[i], sizeof ids[i], "u%d", i);
  for (int i = 0; i < 20; i++) s[n++] = (step){IMB_A_CREATE_ACCOUNT, ids[i], NULL, 0, T0 + i, NULL};
  for (int i = 0; i < 20; i++) s[n++] = (step){IMB_A_LOGIN, ids[i], NULL, 0, T0 + 86400 * (i % 3) + i, i % 2 ? "e" : NULL};
  for (int i = 0; i < 6; i++) s[n++] = (step){IMB_A_CREATE_GROUP, ids[40 + i], NULL, i % 4, T0 + 100 + i * 3000, NULL};
  for (int i = 0; i < 20; i++) s[n++] = (step){IMB_A_JOIN, ids[40 + i % 6], ids[i], 0, T0 + 200 + i, NULL};
  for (int i = 0; i < 20; i++)
    s[n++] = (step){i % 3 ? IMB_A_ADD_FRIEND : IMB_A_ADD_FRIEND_ONE_WAY, ids[i], ids[(i * 7 + 1) % 20], 0, T0 + 300 + i, NULL};
  s[n++] = (step){IMB_A_DISBAND_GROUP, ids[41], NULL, 0, T0 + 500, "d"};
  s[n++] = (step){IMB_A_DELETE_ACCOUNT, ids[3], NULL, 0, T0 + 600, "x"};
  s[n++] = (step){IMB_A_REMOVE_FRIEND, ids[4], ids[9], 0, T0 + 700, NULL};
  s[n++] = (step){IMB_A_CREATE_GROUP, ids[50], NULL, 0, T0 - 2 * 86400, "late"};
  s[n++] = (step){IMB_A_LOGIN, ids[60], NULL, 0, T0 + 5 * 86400, NULL};
  s[n++] = (step){IMB_A_LEAVE, ids[40], ids[0], 0, T0 + 800, NULL};
  return n;
}

static imb_result last;

static imb_status run(imb_meter *m, const step *s, int k, char *idbuf) {
  const char *id = NULL;
  if (s->id) {
    snprintf(idbuf, 16, "%s%d", s->id, k);
    id = idbuf;
  }
  imb_event ev = {s->kind, s->a, strlen(s->a), s->b, s->b ? strlen(s->b) : 0, s->gtype, s->t, id, id ? strlen(id) : 0};
  imb_refusal r;
  last = (imb_result)-1;
  if (s->kind == IMB_A_LOGIN && !id) return imb_meter_login(m, s->a, strlen(s->a), s->t, &last, &r);
  return imb_meter_apply(m, &ev, &last, &r);
}

/* Whether the allocator here is ours: under valgrind, whose allocator
 * replaces every one, nothing can be made to fail. */
static int hook_in_place(void) {
  nalloc = 0;
  fail_at = 1;
  void *(*volatile alloc)(size_t) = malloc;
  void *volatile p = alloc(16);
  fail_at = -1;
  if (!p) return 1;
  free(p);
  return 0;
}

static void a_call_out_of_memory_changes_nothing(void) {
  if (!hook_in_place()) return;
  snprintf(dir, sizeof dir, "/tmp/imbill-ctest-XXXXXX");
  CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/m.imb", dir);
  imb_limits l;
  imb_limits_unlimited(&l);
  l.members[IMB_G_PRIVATE] = 3;
  l.friends_per_user = 2;
  l.daily_net_groups = 5;
  imb_meter *m = NULL, *ref = NULL;
  CHECK_EQ(imb_meter_new(8 * 3600, "pro", 3, &l, 0, &m), IMB_OK);
  CHECK_EQ(imb_meter_new(8 * 3600, "pro", 3, &l, 0, &ref), IMB_OK);
  if (!m || !ref) return;
  step s[128];
  imb_result want[128];
  char idbuf[16];
  int n = steps(s), failures = 0;
  for (int k = 0; k < n; k++) {
    CHECK_EQ(run(ref, &s[k], k, idbuf), IMB_OK);
    want[k] = last;
  }
  for (int k = 0; k < n && !ctest_failed; k++) {
    size_t l0, l1;
    unsigned char *s0 = state_of(m, &l0);
    CHECK(s0 != NULL);
    for (long at = 1; !ctest_failed; at++) {
      nalloc = 0;
      fail_at = at;
      imb_status st = run(m, &s[k], k, idbuf);
      fail_at = -1;
      if (st == IMB_OK) {
        /* the retry's answer is the one a meter that never failed gave (a
         * set whose count kept a member taken out answered 30010 here) */
        CHECK_EQ(last, want[k]);
        if (ctest_failed) snprintf(ctest_msg, sizeof ctest_msg, "step %d: %d after failures, %d without", k, last, want[k]);
        break;
      }
      CHECK_EQ(st, IMB_ENOMEM);
      failures++;
      unsigned char *s1 = state_of(m, &l1);
      CHECK(s1 != NULL && l1 == l0 && memcmp(s0, s1, l0) == 0);
      if (ctest_failed) snprintf(ctest_msg, sizeof ctest_msg, "step %d, allocation %ld failing: the meter changed", k, at);
      imb_meter *back = NULL;
      imb_saved saved;
      imb_file_error e;
      CHECK_EQ(imb_meter_load_bytes(s1, l1, &back, &saved, &e), IMB_OK);
      imb_saved_free(&saved);
      imb_meter_free(back);
      free(s1);
    }
    free(s0);
  }
  CHECK(failures > 0);
  /* every step retried until it went in: the same meter as without failures */
  size_t la, lb;
  unsigned char *a = state_of(m, &la), *b = state_of(ref, &lb);
  CHECK(a && b && la == lb && memcmp(a, b, la) == 0);
  free(a);
  free(b);
  imb_meter_free(m);
  imb_meter_free(ref);
  unlink(path);
  rmdir(dir);
}
#else
/* a sanitizer's allocator is in place: nothing to make fail */
static void a_call_out_of_memory_changes_nothing(void) {}
#endif

CTEST_SUITE(oom_tests) = {
    {"meter: a call out of memory leaves the meter as it was (saved bytes equal, the file loads); a retry counts once",
     a_call_out_of_memory_changes_nothing},
    {NULL, NULL}};
