/* The public interface as a C program meets it: hostile arguments get a
 * status, never a crash or a read outside what was passed (include/imbill.h,
 * "What a caller must pass").  Each case checks the answer, so a plain
 * build shows a regression; built with -fsanitize=address,undefined (the
 * Makefile's SANITIZE) they also show any read out of bounds or overflow. */
#include "ctest.h"
#include "imbill.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static imb_meter *meter(void) {
  imb_limits l;
  imb_meter *m = NULL;
  imb_limits_unlimited(&l);
  if (imb_meter_new(8 * 3600, "pro", 3, &l, 0, &m)) return NULL;
  return m;
}

enum { T = 1700000000 }; /* 2023-11-14T22:13:20Z */

static void null_pointers_the_meter_needs_are_refused(void) {
  imb_limits l;
  imb_meter *m = NULL, *m2 = NULL;
  imb_result res;
  imb_change_verdict v;
  imb_policy p = {1, IMB_NO_DAY};
  size_t counted, bad;
  imb_limits_unlimited(&l);
  CHECK_EQ(imb_meter_new(0, NULL, 3, &l, 0, &m), IMB_ERANGE);
  CHECK_EQ(imb_meter_new(0, "pro", 3, NULL, 0, &m), IMB_ERANGE);
  CHECK_EQ(imb_meter_new(0, "pro", 3, &l, 0, NULL), IMB_ERANGE);
  /* only the zones a saved file holds: whole minutes, -12:00 .. +14:00 */
  CHECK_EQ(imb_meter_new(14 * 3600 + 60, "pro", 3, &l, 0, &m), IMB_ERANGE);
  CHECK_EQ(imb_meter_new(-12 * 3600 - 60, "pro", 3, &l, 0, &m), IMB_ERANGE);
  CHECK_EQ(imb_meter_new(8 * 3600 + 1, "pro", 3, &l, 0, &m), IMB_ERANGE);
  CHECK_EQ(imb_meter_new(86399, "pro", 3, &l, 0, &m), IMB_ERANGE);
  CHECK(m == NULL);
  m = meter();
  CHECK(m != NULL);
  if (!m) return;
  CHECK_EQ(imb_meter_apply(m, NULL, &res, NULL), IMB_ERANGE);
  imb_event ev = {IMB_A_LOGIN, "u", 1, NULL, 0, 0, T, NULL, 0};
  CHECK_EQ(imb_meter_apply(m, &ev, NULL, NULL), IMB_ERANGE);
  CHECK_EQ(imb_meter_login(m, "u", 1, T, NULL, NULL), IMB_ERANGE);
  const char *users[1] = {"u"};
  size_t lens[1] = {1};
  int64_t ts[1] = {T};
  CHECK_EQ(imb_meter_logins(m, users, lens, ts, 1, NULL, &bad), IMB_ERANGE);
  CHECK_EQ(imb_meter_logins(m, users, lens, ts, 1, &counted, NULL), IMB_ERANGE);
  CHECK_EQ(imb_meter_logins(m, NULL, lens, ts, 1, &counted, &bad), IMB_ERANGE);
  CHECK_EQ(imb_meter_logins(m, NULL, NULL, NULL, 0, &counted, &bad), IMB_OK);
  CHECK_EQ(counted, 0);
  CHECK_EQ(imb_meter_change(m, NULL, T, "ult", 3, &l, 0, &v), IMB_ERANGE);
  CHECK_EQ(imb_meter_change(m, &p, T, "ult", 3, NULL, 0, &v), IMB_ERANGE);
  CHECK_EQ(imb_meter_change(m, &p, T, "ult", 3, &l, 0, NULL), IMB_ERANGE);
  CHECK_EQ(imb_meter_change(m, &p, T, NULL, 3, &l, 0, &v), IMB_ERANGE);
  /* an event id is checked as every event's: 1 .. IMB_ID_MAX bytes */
  CHECK_EQ(imb_meter_change_id(m, &p, T, "ult", 3, &l, 0, "c1", 0, &v), IMB_ERANGE);
  CHECK_EQ(imb_meter_change_id(m, &p, T, "ult", 3, &l, 0, "c1", (size_t)IMB_ID_MAX + 1, &v), IMB_ERANGE);
  CHECK_EQ(imb_meter_set_limits(m, 0, NULL), IMB_ERANGE);
  /* limits and an activation no saved file holds are refused (ignored) */
  imb_limits badl = l;
  badl.accounts = -5;
  CHECK_EQ(imb_meter_set_limits(m, 0, &badl), IMB_ERANGE);
  CHECK_EQ(imb_meter_change_id(m, &p, T, "ult", 3, &badl, 0, "c-bad", 5, &v), IMB_ERANGE);
  badl = l;
  badl.members[IMB_G_COUNT - 1] = -2;
  CHECK_EQ(imb_meter_set_limits(m, 0, &badl), IMB_ERANGE);
  badl = l;
  badl.features = UINT32_C(1) << IMB_F_COUNT;
  CHECK_EQ(imb_meter_set_limits(m, 0, &badl), IMB_ERANGE);
  CHECK_EQ(imb_meter_new(0, "pro", 3, &badl, 0, &m2), IMB_ERANGE);
  CHECK(m2 == NULL);
  imb_meter_set_activated(m, INT32_MAX);
  CHECK_EQ(imb_meter_activated(m), IMB_NO_DAY);
  imb_meter_set_activated(m, IMB_DAY_MAX);
  CHECK_EQ(imb_meter_activated(m), IMB_DAY_MAX);
  imb_meter_set_activated(m, IMB_NO_DAY);
  CHECK_EQ(imb_meter_segments(m), 1); /* nothing above changed the history */
  /* queries: an id that cannot be held is unknown, whatever the pointer */
  CHECK_EQ(imb_meter_user_friends(m, NULL, 5), -1);
  CHECK_EQ(imb_meter_user_groups(m, NULL, 5), -1);
  CHECK_EQ(imb_meter_has_account(m, NULL, 5), 0);
  CHECK_EQ(imb_meter_group_members(m, NULL, 5, NULL), -1);
  int64_t dau[31], groups[31], mau;
  CHECK_EQ(imb_meter_month(m, 2023 * 12 + 10, NULL, groups, &mau), IMB_ERANGE);
  imb_meter_memory(m, NULL);
  int64_t total = -1;
  imb_meter_groups(m, NULL, &total);
  CHECK_EQ(total, 0);
  CHECK_EQ(imb_meter_month(m, 2023 * 12 + 10, dau, groups, &mau), IMB_OK);
  imb_meter_free(m);
  imb_meter_free(NULL);
}

/* An id is read only when its length is 1 .. IMB_ID_MAX: a query with a
 * longer length finds nothing (a 1,025-byte id was never counted) and reads
 * none of it, so a length of SIZE_MAX is harmless. */
static void an_id_longer_than_the_limit_is_unknown_and_never_read(void) {
  imb_meter *m = meter();
  imb_result res;
  char *id = malloc(IMB_ID_MAX + 1);
  CHECK(m && id);
  if (!m || !id) return;
  memset(id, 'x', IMB_ID_MAX + 1);
  CHECK_EQ(imb_meter_login(m, id, IMB_ID_MAX, T, &res, NULL), IMB_OK);
  CHECK_EQ(res, IMB_APPLIED);
  CHECK_EQ(imb_meter_login(m, id, IMB_ID_MAX + 1, T, &res, NULL), IMB_ERANGE);
  CHECK_EQ(imb_meter_user_friends(m, id, IMB_ID_MAX), 0);
  CHECK_EQ(imb_meter_user_friends(m, id, IMB_ID_MAX + 1), -1);
  CHECK_EQ(imb_meter_user_friends(m, "x", SIZE_MAX), -1);
  CHECK_EQ(imb_meter_group_members(m, "g", SIZE_MAX, NULL), -1);
  CHECK_EQ(imb_meter_has_account(m, "x", 0), 0);
  /* NUL and bytes that are not UTF-8 are ids like any other */
  CHECK_EQ(imb_meter_login(m, "a\0b", 3, T, &res, NULL), IMB_OK);
  CHECK_EQ(imb_meter_login(m, "\xff\xfe", 2, T, &res, NULL), IMB_OK);
  CHECK_EQ(imb_meter_dau(m, imb_meter_last_day(m)), 3);
  CHECK_EQ(imb_meter_user_friends(m, "a", 1), -1);
  free(id);
  imb_meter_free(m);
}

/* An edition id a saved file could not hold was taken: "a\0b" was kept as
 * "a" (imb_meter_segment read it back as a C string, and a change to "a\0b"
 * never matched it again), and "" or "a\0b" gave a meter whose save no load
 * would take ("editions[0].edition: ..."). */
static void an_edition_id_has_no_nul_and_is_never_empty(void) {
  imb_limits l;
  imb_meter *m = NULL;
  imb_change_verdict v;
  imb_policy p = {1, IMB_NO_DAY};
  imb_limits_unlimited(&l);
  CHECK_EQ(imb_meter_new(0, "a\0b", 3, &l, 0, &m), IMB_ERANGE);
  CHECK_EQ(imb_meter_new(0, "", 0, &l, 0, &m), IMB_ERANGE);
  CHECK_EQ(imb_meter_new(0, "pro\0", 4, &l, 0, &m), IMB_ERANGE);
  CHECK(m == NULL);
  char e63[IMB_EDITION_MAXLEN + 1];
  memset(e63, 'e', sizeof e63);
  CHECK_EQ(imb_meter_new(0, e63, IMB_EDITION_MAXLEN + 1, &l, 0, &m), IMB_ERANGE);
  CHECK_EQ(imb_meter_new(0, e63, IMB_EDITION_MAXLEN, &l, 0, &m), IMB_OK);
  if (!m) return;
  CHECK_EQ(imb_meter_change(m, &p, T, "ult\0x", 5, &l, 0, &v), IMB_ERANGE);
  CHECK_EQ(imb_meter_segments(m), 1);
  /* and a meter that was taken saves a file that loads */
  char path[64];
  snprintf(path, sizeof path, "/tmp/imbill-abi-%ld", (long)getpid());
  imb_file_error err;
  imb_meter *back = NULL;
  imb_saved saved;
  CHECK_EQ(imb_meter_save(m, path, strlen(path), NULL, 0, NULL, &err), IMB_OK);
  CHECK_EQ(imb_meter_load(path, strlen(path), &back, &saved, &err), IMB_OK);
  if (back) {
    const char *e = NULL;
    imb_meter_segment(back, 0, NULL, NULL, &e, NULL, NULL);
    CHECK(e && strlen(e) == IMB_EDITION_MAXLEN);
  }
  /* imb_saved_free empties what it frees: twice is harmless */
  imb_saved_free(&saved);
  imb_saved_free(&saved);
  CHECK_EQ(imb_meter_save(m, path, strlen(path), NULL, 1, NULL, &err), IMB_ERANGE);
  CHECK_STR(err.why, "records: NULL with a count of 1");
  CHECK_EQ(imb_meter_save(NULL, path, strlen(path), NULL, 0, NULL, &err), IMB_ERANGE);
  CHECK_STR(err.why, "no meter (NULL)");
  CHECK_EQ(imb_meter_load(path, strlen(path), NULL, NULL, NULL), IMB_ERANGE);
  CHECK_EQ(imb_meter_load_bytes("x", 1, NULL, NULL, NULL), IMB_ERANGE);
  unlink(path);
  imb_meter_free(back);
  imb_meter_free(m);
}

/* imb_meter_segment(i) for an i outside the history read past the meter's
 * segments; now it writes nothing. */
static void a_segment_outside_the_history_writes_nothing(void) {
  imb_meter *m = meter();
  if (!m) return;
  int64_t from = 7;
  int32_t day = 7;
  const char *e = "untouched";
  int fr = 7;
  imb_meter_segment(m, 1, &from, &day, &e, NULL, &fr);
  imb_meter_segment(m, -1, &from, &day, &e, NULL, &fr);
  imb_meter_segment(m, INT32_MAX, &from, &day, &e, NULL, &fr);
  CHECK_EQ(from, 7);
  CHECK_EQ(day, 7);
  CHECK_EQ(fr, 7);
  CHECK_STR(e, "untouched");
  imb_meter_segment(m, 0, &from, NULL, &e, NULL, NULL);
  CHECK_EQ(from, INT64_MIN);
  CHECK_STR(e, "pro");
  imb_meter_free(m);
}

/* A month outside years 1 .. 9999 (INT32_MAX, INT32_MIN) overflowed 32-bit
 * day arithmetic; a status function now refuses it. */
static void a_month_outside_the_calendar_is_refused(void) {
  imb_meter *m = meter();
  if (!m) return;
  int64_t dau[31], groups[31], mau;
  CHECK_EQ(imb_meter_month(m, INT32_MAX, dau, groups, &mau), IMB_ERANGE);
  CHECK_EQ(imb_meter_month(m, INT32_MIN, dau, groups, &mau), IMB_ERANGE);
  CHECK_EQ(imb_meter_month(m, 12 - 1, dau, groups, &mau), IMB_ERANGE);        /* 0000-12 */
  CHECK_EQ(imb_meter_month(m, 10000 * 12, dau, groups, &mau), IMB_ERANGE);    /* 10000-01 */
  CHECK_EQ(imb_meter_month(m, 12, dau, groups, &mau), IMB_OK);                /* 0001-01 */
  CHECK_EQ(imb_meter_month(m, 9999 * 12 + 11, dau, groups, &mau), IMB_OK);    /* 9999-12 */
  imb_meter_free(m);
  imb_policy p = {1, IMB_NO_DAY};
  imb_span s = {IMB_NO_DAY, 0, 0, 1000000};
  imb_fee_line out[1];
  int n = 7;
  imb_change_verdict v;
  CHECK_EQ(imb_month_fees(&p, INT32_MAX, &s, 1, IMB_NO_DAY, out, &n, &v), IMB_ERANGE);
  CHECK_EQ(n, 0);
  CHECK_EQ(imb_month_fees(&p, 2024 * 12, &s, 1, IMB_NO_DAY, out, &n, &v), IMB_OK);
  CHECK_EQ(n, 1);
  imb_activity a = {IMB_NO_DAY, 0, 0};
  int dn, mn;
  CHECK_EQ(imb_activity_mark(&a, INT32_MAX, INT32_MAX, &dn, &mn), IMB_ERANGE);
  CHECK_EQ(imb_activity_mark(&a, IMB_DAY_MAX + 1, imb_month_of_day(IMB_DAY_MAX + 1), &dn, &mn), IMB_ERANGE);
  CHECK_EQ(a.last, IMB_NO_DAY);
  CHECK_EQ(imb_activity_mark(&a, IMB_DAY_MAX, imb_month_of_day(IMB_DAY_MAX), &dn, &mn), IMB_OK);
  /* the value functions are defined for every int32 day */
  char buf[IMB_DATE_BUFSZ];
  imb_date_format(INT32_MAX, buf);
  imb_date_format(INT32_MIN, buf);
  (void)imb_month_first_day(INT32_MAX);
  (void)imb_month_first_day(INT32_MIN);
  CHECK_EQ(imb_month_of_day(IMB_DAY_MAX), 9999 * 12 + 11);
  CHECK_EQ(imb_month_of_day(IMB_DAY_MIN), 12);
}

/* A clock far behind every instant (INT64_MIN + 1 is a clock, INT64_MIN is
 * none) made t - clock overflow, and the event was counted: every event is
 * more than IMB_CLOCK_AHEAD after such a clock, so it is refused as from the
 * future. */
static void a_clock_at_the_bottom_of_int64_refuses_as_future(void) {
  imb_limits l;
  imb_plan plan;
  imb_limits_unlimited(&l);
  CHECK_EQ(imb_plan_build(&l, IMB_A_LOGIN, 0, T, 0, 0, INT64_MIN + 1, &plan), IMB_OK);
  CHECK_EQ(plan.refused, 1);
  CHECK_EQ(plan.refusal.code, IMB_R_FUTURE);
  /* the edge: exactly IMB_CLOCK_AHEAD after the clock is taken, a second more is not */
  CHECK_EQ(imb_plan_build(&l, IMB_A_LOGIN, 0, T, 0, 0, T - IMB_CLOCK_AHEAD, &plan), IMB_OK);
  CHECK_EQ(plan.refused, 0);
  CHECK_EQ(imb_plan_build(&l, IMB_A_LOGIN, 0, T, 0, 0, T - IMB_CLOCK_AHEAD - 1, &plan), IMB_OK);
  CHECK_EQ(plan.refused, 1);
  imb_meter *m = meter();
  if (!m) return;
  imb_result res;
  imb_refusal r;
  imb_change_verdict v;
  imb_policy p = {1, IMB_NO_DAY};
  imb_meter_set_clock(m, INT64_MIN + 1);
  CHECK_EQ(imb_meter_login(m, "u", 1, T, &res, &r), IMB_OK);
  CHECK_EQ(res, IMB_REFUSED);
  CHECK_EQ(r.code, IMB_R_FUTURE);
  imb_event ev = {IMB_A_CREATE_ACCOUNT, "u", 1, NULL, 0, 0, T, NULL, 0};
  CHECK_EQ(imb_meter_apply(m, &ev, &res, &r), IMB_OK);
  CHECK_EQ(res, IMB_REFUSED);
  CHECK_EQ(r.code, IMB_R_FUTURE);
  CHECK_EQ(imb_meter_change(m, &p, T, "ult", 3, &l, 0, &v), IMB_OK);
  CHECK_EQ(v, IMB_CH_FUTURE);
  CHECK_EQ(imb_meter_accounts(m), 0);
  CHECK_EQ(imb_meter_dau(m, imb_meter_last_day(m)), 0);
  imb_meter_free(m);
}

static void the_parsers_and_the_batch_refuse_null(void) {
  int64_t v;
  int32_t d;
  CHECK_EQ(imb_money_parse(NULL, 5, &v), IMB_ESYNTAX);
  CHECK_EQ(imb_date_parse(NULL, 10, &d), IMB_ESYNTAX);
  CHECK_EQ(imb_month_parse(NULL, 7, &d), IMB_ESYNTAX);
  CHECK_EQ(imb_tz_parse(NULL, 3, &d), IMB_ESYNTAX);
  CHECK_EQ(imb_rate_check(NULL), IMB_ERANGE);
  imb_rate rate;
  memset(&rate, 0, sizeof rate);
  int64_t dau[2] = {1, 2}, out[2];
  size_t bad = 9;
  int field;
  CHECK_EQ(imb_totals(NULL, 2, dau, 1, NULL, 0, NULL, 0, out, &bad), IMB_ERANGE);
  CHECK_EQ(imb_totals(&rate, 2, dau, 1, NULL, 0, NULL, 0, out, NULL), IMB_ERANGE);
  CHECK_EQ(imb_totals(&rate, 2, dau, 1, NULL, 0, NULL, 0, NULL, &bad), IMB_ERANGE);
  CHECK_EQ(imb_totals_upto(&rate, 2, dau, 1, NULL, 0, NULL, 0, 10, out, &bad, NULL), IMB_ERANGE);
  const imb_rate *rates[2] = {&rate, NULL};
  int64_t o2[2];
  int64_t *outs[2] = {out, o2};
  size_t bad_rate = 9;
  CHECK_EQ(imb_totals_many(rates, 2, 2, dau, 1, NULL, 0, NULL, 0, 10, outs, &bad, &field, &bad_rate, 1), IMB_ERANGE);
  CHECK_EQ(bad_rate, 1);
  CHECK_EQ(imb_totals(&rate, 0, NULL, 0, NULL, 0, NULL, 0, out, &bad), IMB_OK);
  CHECK_STR(imb_strerror((imb_status)IMB_STATUS_COUNT), "unknown status");
  CHECK_STR(imb_strerror((imb_status)-1), "unknown status");
}

/* ppm = INT64_MIN has no 64-bit magnitude: negating it overflowed. */
static void scaling_by_int64_min_is_exact_or_an_overflow(void) {
  int64_t in[3] = {0, 1, INT64_MIN}, out[3];
  size_t bad = 9;
  CHECK_EQ(imb_col_scale(out, in, 2, INT64_MIN, &bad), IMB_OK);
  CHECK_EQ(out[0], 0);
  CHECK_EQ(out[1], -9223372036855LL); /* -9223372036854.775808, half away from zero */
  CHECK_EQ(imb_col_scale(out, in, 3, INT64_MIN, &bad), IMB_EOVERFLOW);
  CHECK_EQ(bad, 2);
}


/* The store-neutral functions a gateway calls with what it marshalled, and
 * the loader from memory, refuse a NULL they need and a plan whose count of
 * operations is past op[] (IMB_PLAN_MAX): before, a NULL limits was
 * dereferenced, imb_plan_undo of a plan claiming 17 operations read past the
 * struct, and imb_meter_load_bytes(NULL, 10) read address 0. */
static void the_plan_functions_and_the_loader_refuse_null(void) {
  imb_limits l;
  imb_plan p, u;
  imb_limits_unlimited(&l);
  CHECK_EQ(imb_plan_build(NULL, IMB_A_LOGIN, 0, T, 0, 0, INT64_MIN, &p), IMB_ERANGE);
  CHECK_EQ(imb_plan_build(&l, IMB_A_LOGIN, 0, T, 0, 0, INT64_MIN, NULL), IMB_ERANGE);
  CHECK_EQ(imb_plan_build(&l, IMB_A_CREATE_ACCOUNT, 0, T, 0, 0, INT64_MIN, &p), IMB_OK);
  CHECK_EQ(imb_plan_undo(&p, &u), IMB_OK);
  CHECK_EQ(imb_plan_undo(NULL, &u), IMB_ERANGE);
  CHECK_EQ(imb_plan_undo(&p, NULL), IMB_ERANGE);
  p.nops = IMB_PLAN_MAX + 1;
  CHECK_EQ(imb_plan_undo(&p, &u), IMB_ERANGE);
  p.nops = -1;
  CHECK_EQ(imb_plan_undo(&p, &u), IMB_ERANGE);
  imb_activity a;
  CHECK_EQ(imb_activity_decode(NULL, IMB_ACTIVITY_BYTES, &a), IMB_ERANGE);
  unsigned char bytes[IMB_ACTIVITY_BYTES] = {0};
  CHECK_EQ(imb_activity_decode(bytes, sizeof bytes, NULL), IMB_ERANGE);
  int64_t ts[1] = {T}, deltas[1] = {1}, peak = -7, close = -7;
  CHECK_EQ(imb_day_peak(0, NULL, deltas, 1, &peak, &close), IMB_ERANGE);
  CHECK_EQ(imb_day_peak(0, ts, NULL, 1, &peak, &close), IMB_ERANGE);
  CHECK_EQ(imb_day_peak(0, ts, deltas, 1, NULL, &close), IMB_ERANGE);
  CHECK_EQ(imb_day_peak(0, ts, deltas, 1, &peak, NULL), IMB_ERANGE);
  CHECK_EQ(peak, -7);
  CHECK_EQ(imb_day_peak(5, NULL, NULL, 0, &peak, &close), IMB_OK);
  CHECK_EQ(peak, 5);
  imb_meter *m = (imb_meter *)&a; /* a load that fails sets *out to NULL */
  imb_saved saved;
  imb_file_error err;
  CHECK_EQ(imb_meter_load_bytes(NULL, 10, &m, &saved, &err), IMB_ERANGE);
  CHECK(m == NULL);
  CHECK(strstr(err.why, "bytes: NULL") != NULL);
  CHECK_EQ(imb_meter_load_bytes(NULL, 0, &m, &saved, &err), IMB_ECORRUPT);
}


/* A refused or unchanged action, and a call that fails, keep nothing: the
 * ids it named for the first time are not kept (before, each refused login
 * or join of a new id kept the id for good, so a stream of refused events
 * grew the meter without bound and every save carried those ids). */
static void a_refused_action_keeps_no_id(void) {
  imb_limits l;
  imb_limits_unlimited(&l);
  l.members[IMB_G_PRIVATE] = 1;
  imb_meter *m = NULL;
  CHECK_EQ(imb_meter_new(0, "pro", 3, &l, 0, &m), IMB_OK);
  if (!m) return;
  imb_result res;
  imb_refusal r;
  imb_event ev = {IMB_A_CREATE_GROUP, "g", 1, NULL, 0, IMB_G_PRIVATE, T, NULL, 0};
  CHECK_EQ(imb_meter_apply(m, &ev, &res, &r), IMB_OK);
  ev = (imb_event){IMB_A_JOIN, "g", 1, "a", 1, 0, T, NULL, 0};
  CHECK_EQ(imb_meter_apply(m, &ev, &res, &r), IMB_OK);
  CHECK_EQ(res, IMB_APPLIED);
  imb_meter_mem before, after;
  imb_meter_memory(m, &before);
  /* the group is full (10014), h does not exist (10010), b leaves a group
   * it is not in and c, never counted, is deleted (unchanged), d and e log
   * in far in the future (refused) */
  ev = (imb_event){IMB_A_JOIN, "g", 1, "b", 1, 0, T, NULL, 0};
  CHECK_EQ(imb_meter_apply(m, &ev, &res, &r), IMB_OK);
  CHECK_EQ(res, IMB_REFUSED);
  CHECK_EQ(r.code, 10014);
  ev = (imb_event){IMB_A_JOIN, "h", 1, "b", 1, 0, T, NULL, 0};
  CHECK_EQ(imb_meter_apply(m, &ev, &res, &r), IMB_OK);
  CHECK_EQ(res, IMB_REFUSED);
  CHECK_EQ(r.code, 10010);
  ev = (imb_event){IMB_A_LEAVE, "g", 1, "b", 1, 0, T, NULL, 0};
  CHECK_EQ(imb_meter_apply(m, &ev, &res, &r), IMB_OK);
  CHECK_EQ(res, IMB_UNCHANGED);
  ev = (imb_event){IMB_A_DELETE_ACCOUNT, "c", 1, NULL, 0, 0, T, NULL, 0};
  CHECK_EQ(imb_meter_apply(m, &ev, &res, &r), IMB_OK);
  CHECK_EQ(res, IMB_UNCHANGED);
  CHECK_EQ(imb_meter_login(m, "d", 1, T + 400 * 86400, &res, &r), IMB_OK);
  CHECK_EQ(res, IMB_REFUSED);
  CHECK_EQ(r.code, IMB_R_FUTURE);
  ev = (imb_event){IMB_A_LOGIN, "e", 1, NULL, 0, 0, T + 400 * 86400, "ev", 2};
  CHECK_EQ(imb_meter_apply(m, &ev, &res, &r), IMB_OK);
  CHECK_EQ(res, IMB_REFUSED);
  imb_meter_memory(m, &after);
  CHECK_EQ(after.users, before.users);
  CHECK_EQ(after.groups, before.groups);
  CHECK_EQ(after.event_ids, before.event_ids);
  CHECK_EQ(imb_meter_user_groups(m, "b", 1), -1);
  CHECK_EQ(imb_meter_group_members(m, "h", 1, NULL), -1);
  CHECK_EQ(imb_meter_user_groups(m, "a", 1), 1);
  /* the meter goes on as before: b joins once a leaves */
  ev = (imb_event){IMB_A_LEAVE, "g", 1, "a", 1, 0, T, NULL, 0};
  CHECK_EQ(imb_meter_apply(m, &ev, &res, &r), IMB_OK);
  ev = (imb_event){IMB_A_JOIN, "g", 1, "b", 1, 0, T, NULL, 0};
  CHECK_EQ(imb_meter_apply(m, &ev, &res, &r), IMB_OK);
  CHECK_EQ(res, IMB_APPLIED);
  CHECK_EQ(imb_meter_group_members(m, "g", 1, NULL), 1);
  CHECK_EQ(imb_meter_login(m, "d", 1, T, &res, &r), IMB_OK);
  CHECK_EQ(res, IMB_APPLIED);
  CHECK_EQ(imb_meter_has_account(m, "d", 1), 0);
  CHECK_EQ(imb_meter_user_groups(m, "d", 1), 0);
  imb_meter_free(m);
}

CTEST_SUITE(abi_tests) = {
    {"abi: NULL where the meter needs a pointer is IMB_ERANGE, never a crash", null_pointers_the_meter_needs_are_refused},
    {"abi: an id past IMB_ID_MAX is unknown and never read; NUL and non-UTF-8 ids count", an_id_longer_than_the_limit_is_unknown_and_never_read},
    {"abi: an edition id is 1 to 63 bytes without NUL, so every meter saved loads", an_edition_id_has_no_nul_and_is_never_empty},
    {"abi: imb_meter_segment outside the history writes nothing", a_segment_outside_the_history_writes_nothing},
    {"abi: a month outside years 1..9999 is refused, not overflowed", a_month_outside_the_calendar_is_refused},
    {"abi: a clock at INT64_MIN+1 refuses every event as future (no overflow)", a_clock_at_the_bottom_of_int64_refuses_as_future},
    {"abi: parsers and batch pricing refuse NULL; imb_strerror names unknown codes", the_parsers_and_the_batch_refuse_null},
    {"abi: scaling a column by INT64_MIN ppm is exact or EOVERFLOW", scaling_by_int64_min_is_exact_or_an_overflow},
    {"abi: plan build/undo, day peak, activity decode and load_bytes refuse NULL and a plan past op[]", the_plan_functions_and_the_loader_refuse_null},
    {"abi: a refused, duplicate or unchanged action keeps no id it named first (memory and queries as before)", a_refused_action_keeps_no_id},
    {NULL, NULL}};
