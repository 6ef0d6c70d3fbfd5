/* For the meter-file targets: what a loaded meter must stand.  A meter the
 * loader accepted answers every query, counts and refuses events without
 * overflowing anything, and saves to a file that loads again. */
#ifndef IMB_FUZZ_METER_EXERCISE_H
#define IMB_FUZZ_METER_EXERCISE_H

#include "fuzz.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fuzz_dir[64];

static void fuzz_cleanup(void) {
  char path[96];
  snprintf(path, sizeof path, "%s/m", fuzz_dir);
  unlink(path);
  rmdir(fuzz_dir);
}

/* A directory of this process's own, in $IMBILL_FUZZ_DIR (scripts/fuzz.sh
 * removes it even after a finding stopped the process) or on a memory file
 * system when there is one: every accepted input is saved (and synced) there. */
static const char *fuzz_path(void) {
  static char path[96];
  if (!fuzz_dir[0]) {
    const char *base = getenv("IMBILL_FUZZ_DIR");
    if (!base || !base[0]) base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(fuzz_dir, sizeof fuzz_dir, "%.40s/imbill-fuzz-%ld", base, (long)getpid());
    FUZZ_CHECK(mkdir(fuzz_dir, 0700) == 0);
    atexit(fuzz_cleanup);
    snprintf(path, sizeof path, "%s/m", fuzz_dir);
  }
  return path;
}

static void event(imb_meter *m, imb_action_kind kind, const char *a, const char *b, imb_gtype g, int64_t t,
                  const char *id) {
  imb_event ev;
  imb_result res;
  imb_refusal ref;
  memset(&ev, 0, sizeof ev);
  ev.kind = kind;
  ev.a = a;
  ev.alen = strlen(a);
  ev.b = b;
  ev.blen = b ? strlen(b) : 0;
  ev.gtype = g;
  ev.t = t;
  ev.id = id;
  ev.idlen = id ? strlen(id) : 0;
  imb_status st = imb_meter_apply(m, &ev, &res, &ref);
  FUZZ_CHECK(st == IMB_OK || st == IMB_ERANGE || st == IMB_ENOMEM);
}

static void exercise(imb_meter *m, const imb_saved *saved) {
  imb_meter_mem mem;
  imb_meter_memory(m, &mem);
  int64_t by[IMB_G_COUNT], total;
  imb_meter_groups(m, by, &total);
  FUZZ_CHECK(total >= 0 && imb_meter_accounts(m) >= 0);
  int32_t last = imb_meter_last_day(m);
  int32_t day = last != INT32_MIN ? last : 18687; /* 2021-03-01 */
  int64_t dau[31], groups[31], mau;
  imb_meter_month(m, imb_month_of_day(day), dau, groups, &mau);
  for (int k = 0; k < 31; k++) FUZZ_CHECK(dau[k] >= 0 && groups[k] >= 0);
  FUZZ_CHECK(mau >= 0);
  for (int i = 0; i < imb_meter_segments(m); i++) {
    int64_t from;
    int32_t d;
    const char *e;
    imb_limits lim;
    int fr;
    imb_meter_segment(m, i, &from, &d, &e, &lim, &fr);
    FUZZ_CHECK(strlen(e) <= IMB_EDITION_MAXLEN);
  }
  /* events on the last day, and late ones, through every counter */
  int64_t t = (int64_t)day * 86400 - imb_meter_offset(m) + 3600;
  for (int late = 0; late <= 40; late += 20) {
    int64_t at = t - (int64_t)late * 86400;
    imb_result res;
    FUZZ_CHECK(imb_meter_login(m, "fuzz-user", 9, at, &res, NULL) != IMB_EOVERFLOW);
    event(m, IMB_A_CREATE_ACCOUNT, "fuzz-user", NULL, IMB_G_PRIVATE, at, "fuzz-e1");
    event(m, IMB_A_CREATE_GROUP, "fuzz-g", NULL, IMB_G_PUBLIC, at, NULL);
    event(m, IMB_A_CREATE_GROUP, "fuzz-b", NULL, IMB_G_BCHATROOM, at, NULL);
    event(m, IMB_A_JOIN, "fuzz-g", "fuzz-user", IMB_G_PRIVATE, at, NULL);
    event(m, IMB_A_ADD_FRIEND, "fuzz-user", "fuzz-peer", IMB_G_PRIVATE, at, NULL);
    /* one-way lists, which the delete below leaves in part */
    event(m, IMB_A_ADD_FRIEND_ONE_WAY, "fuzz-fan", "fuzz-peer", IMB_G_PRIVATE, at, NULL);
    event(m, IMB_A_ADD_FRIEND_ONE_WAY, "fuzz-fan", "fuzz-user", IMB_G_PRIVATE, at, NULL);
    event(m, IMB_A_REMOVE_FRIEND_ONE_WAY, "fuzz-peer", "fuzz-user", IMB_G_PRIVATE, at, NULL);
    event(m, IMB_A_DISBAND_GROUP, "fuzz-g", NULL, IMB_G_PRIVATE, at + 60, NULL);
    event(m, IMB_A_DELETE_ACCOUNT, "fuzz-user", NULL, IMB_G_PRIVATE, at + 120, NULL);
  }
  imb_change_verdict why;
  imb_limits lim;
  imb_limits_unlimited(&lim);
  /* the 2021 book's policy: no return to a free edition, activation months free */
  imb_policy pol = { 0, INT32_MAX };
  FUZZ_CHECK(imb_meter_change(m, &pol, t + 7200, "fuzz-ed", 7, &lim, 0, &why) != IMB_EOVERFLOW);
  if (imb_meter_last_day(m) != INT32_MIN) imb_meter_release(m, imb_meter_last_day(m) - 40);
  /* what was accepted, changed, saves and loads again */
  const char *path = fuzz_path();
  imb_file_error err;
  imb_status st = imb_meter_save(m, path, strlen(path), saved->recs, saved->nrecs, NULL, &err);
  FUZZ_CHECK(st == IMB_OK);
  imb_meter *again = NULL;
  imb_saved s2;
  st = imb_meter_load(path, strlen(path), &again, &s2, &err);
  if (st != IMB_OK) fprintf(stderr, "reload: %s\n", err.why);
  FUZZ_CHECK(st == IMB_OK && s2.nrecs == saved->nrecs);
  FUZZ_CHECK(imb_meter_accounts(again) == imb_meter_accounts(m));
  /* each list as it was, one-way or not */
  static const char *const listers[] = {"fuzz-user", "fuzz-peer", "fuzz-fan"};
  for (int i = 0; i < 3; i++)
    FUZZ_CHECK(imb_meter_user_friends(again, listers[i], strlen(listers[i])) ==
               imb_meter_user_friends(m, listers[i], strlen(listers[i])));
  imb_saved_free(&s2);
  imb_meter_free(again);
}

#endif
