/* The meter file through the core's own API: records round-trip as bytes,
 * saves refuse what they must with the system's reason, and hostile bytes
 * (including what fuzzing found) are refused naming the field. */
#include "ctest.h"
#include "imbill.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static imb_meter *meter(void) {
  imb_limits lim;
  imb_meter *m = NULL;
  imb_limits_unlimited(&lim);
  if (imb_meter_new(8 * 3600, "pro", 3, &lim, 0, &m) != IMB_OK) return NULL;
  imb_result res;
  imb_meter_login(m, "alice", 5, 1614556800, &res, NULL);
  return m;
}

/* A fresh directory, and a path in it. */
static char dir[64];
static const char *in_dir(const char *name) {
  static char path[128];
  snprintf(dir, sizeof dir, "/tmp/imbill-ctest-XXXXXX");
  if (!mkdtemp(dir)) return NULL;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return path;
}
static void rm_dir(const char *path) {
  unlink(path);
  rmdir(dir);
}

static void records_round_trip_as_bytes(void) {
  imb_meter *m = meter();
  CHECK(m != NULL);
  const char *path = in_dir("m.meter");
  CHECK(path != NULL);
  static const char nul[] = {'a', '\0', 'b'};
  imb_record recs[4];
  memset(recs, 0, sizeof recs);
  recs[0].type = IMB_REC_BYTES, recs[0].key = "book", recs[0].klen = 4, recs[0].bytes = "team\nbook=2020",
  recs[0].blen = 14;
  recs[1].type = IMB_REC_BYTES, recs[1].key = nul, recs[1].klen = 3, recs[1].bytes = nul, recs[1].blen = 3;
  recs[2].type = IMB_REC_BOOL, recs[2].key = "", recs[2].klen = 0, recs[2].i = 1;
  recs[3].type = IMB_REC_INT, recs[3].key = "n", recs[3].klen = 1, recs[3].i = INT64_MIN;
  imb_file_error err;
  CHECK_EQ(imb_meter_save(m, path, strlen(path), recs, 4, NULL, &err), IMB_OK);
  imb_meter *back = NULL;
  imb_saved saved;
  CHECK_EQ(imb_meter_load(path, strlen(path), &back, &saved, &err), IMB_OK);
  CHECK_EQ(saved.version, IMB_FILE_VERSION);
  CHECK_EQ(saved.nrecs, 4);
  if (saved.nrecs == 4) {
    CHECK(saved.recs[0].blen == 14 && memcmp(saved.recs[0].bytes, "team\nbook=2020", 14) == 0);
    CHECK(saved.recs[1].klen == 3 && memcmp(saved.recs[1].key, nul, 3) == 0);
    CHECK(saved.recs[1].blen == 3 && memcmp(saved.recs[1].bytes, nul, 3) == 0);
    CHECK(saved.recs[2].type == IMB_REC_BOOL && saved.recs[2].i == 1 && saved.recs[2].klen == 0);
    CHECK(saved.recs[3].type == IMB_REC_INT && saved.recs[3].i == INT64_MIN);
  }
  CHECK_EQ(imb_meter_mau(back, 2021 * 12 + 2), 1);
  imb_saved_free(&saved);
  imb_meter_free(back);
  imb_meter_free(m);
  rm_dir(path);
}

static void bad_records_and_paths_are_refused_before_anything_is_written(void) {
  imb_meter *m = meter();
  const char *path = in_dir("m.meter");
  imb_record r;
  imb_file_error err;
  memset(&r, 0, sizeof r);
  r.type = IMB_REC_BOOL, r.key = "b", r.klen = 1, r.i = 2;
  CHECK_EQ(imb_meter_save(m, path, strlen(path), &r, 1, NULL, &err), IMB_ERANGE);
  CHECK(strstr(err.why, "records[1].value") != NULL);
  r.type = (imb_rec_type)9;
  CHECK_EQ(imb_meter_save(m, path, strlen(path), &r, 1, NULL, &err), IMB_ERANGE);
  CHECK(strstr(err.why, "records[1].type: unknown record type 9") != NULL);
  r.type = IMB_REC_BYTES, r.bytes = "x", r.blen = (size_t)IMB_RECORD_BYTES_MAX + 1;
  CHECK_EQ(imb_meter_save(m, path, strlen(path), &r, 1, NULL, &err), IMB_ERANGE);
  /* a NULL with a length is said as such (it was "longer than 4096 bytes"
   * for a key of 5) */
  r.bytes = NULL, r.blen = 3;
  CHECK_EQ(imb_meter_save(m, path, strlen(path), &r, 1, NULL, &err), IMB_ERANGE);
  CHECK_STR(err.why, "records[1].value: NULL with a length of 3");
  r.key = NULL, r.klen = 5, r.blen = 0;
  CHECK_EQ(imb_meter_save(m, path, strlen(path), &r, 1, NULL, &err), IMB_ERANGE);
  CHECK_STR(err.why, "records[1].key: NULL with a length of 5");
  r.key = "b", r.klen = (size_t)IMB_RECORD_KEY_MAX + 1;
  CHECK_EQ(imb_meter_save(m, path, strlen(path), &r, 1, NULL, &err), IMB_ERANGE);
  CHECK_STR(err.why, "records[1].key: longer than 4096 bytes");
  /* a NUL inside the path: refused, not cut short */
  CHECK_EQ(imb_meter_save(m, path, strlen(path) + 1, NULL, 0, NULL, &err), IMB_ERANGE);
  CHECK(strcmp(err.why, "the path contains a NUL byte") == 0);
  CHECK_EQ(imb_meter_save(m, "", 0, NULL, 0, NULL, &err), IMB_ERANGE);
  struct stat st;
  CHECK(stat(path, &st) != 0 && errno == ENOENT);
  /* the system's reason, as errno */
  CHECK_EQ(imb_meter_save(m, "/nonexistent-dir/m", 18, NULL, 0, NULL, &err), IMB_EIO);
  CHECK_EQ(err.sys, ENOENT);
  CHECK_EQ(imb_meter_save(m, dir, strlen(dir), NULL, 0, NULL, &err), IMB_EIO);
  CHECK_EQ(err.sys, EISDIR);
  CHECK_EQ(imb_meter_save(m, "/dev/null", 9, NULL, 0, NULL, &err), IMB_EIO);
  CHECK(strcmp(err.why, "is a character device, not a regular file") == 0);
  imb_meter *back = NULL;
  imb_saved saved;
  CHECK_EQ(imb_meter_load("/dev/zero", 9, &back, &saved, &err), IMB_EIO);
  CHECK(back == NULL);
  CHECK_EQ(imb_meter_load(dir, strlen(dir), &back, &saved, &err), IMB_EIO);
  CHECK_EQ(err.sys, EISDIR);
  imb_meter_free(m);
  rm_dir(path);
}

/* The whole file of a meter, in memory. */
static unsigned char *file_of(imb_meter *m, size_t *len) {
  const char *path = in_dir("m.meter");
  imb_file_error err;
  unsigned char *p = NULL;
  *len = 0;
  if (imb_meter_save(m, path, strlen(path), NULL, 0, NULL, &err) == IMB_OK) {
    FILE *f = fopen(path, "rb");
    if (f) {
      p = malloc(65536);
      *len = fread(p, 1, 65536, f);
      fclose(f);
    }
  }
  rm_dir(path);
  return p;
}

static uint64_t fnv1a(const unsigned char *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

static void reseal(unsigned char *p, size_t len) {
  uint64_t blen = len - 32, sum = fnv1a(p + 32, blen);
  for (int i = 0; i < 8; i++) {
    p[16 + i] = (unsigned char)(blen >> (8 * i));
    p[24 + i] = (unsigned char)(sum >> (8 * i));
  }
}

static void bytes_load_like_the_file_and_every_cut_is_refused(void) {
  imb_meter *m = meter();
  size_t len;
  unsigned char *p = file_of(m, &len);
  CHECK(p != NULL && len > 32);
  imb_meter *back = NULL;
  imb_saved saved;
  imb_file_error err;
  CHECK_EQ(imb_meter_load_bytes(p, len, &back, &saved, &err), IMB_OK);
  CHECK_EQ(imb_meter_mau(back, 2021 * 12 + 2), 1);
  imb_saved_free(&saved);
  imb_meter_free(back);
  for (size_t n = 0; n < len; n++) {
    CHECK_EQ(imb_meter_load_bytes(p, n, &back, &saved, &err), IMB_ECORRUPT);
    CHECK(back == NULL && err.why[0]);
  }
  /* every cut of the body with the header made to match: named in the body */
  unsigned char *q = malloc(len);
  for (size_t n = 32; n < len; n++) {
    memcpy(q, p, n);
    reseal(q, n);
    CHECK_EQ(imb_meter_load_bytes(q, n, &back, &saved, &err), IMB_ECORRUPT);
    CHECK(strncmp(err.why, "corrupt meter file: ", 20) == 0);
  }
  free(q);
  free(p);
  imb_meter_free(m);
}

/* A day's disbands near INT64_MAX, with a checksum that matches, used to be
 * loaded and then overflow the next disband (UBSan). */
static void absurd_day_counters_are_refused(void) {
  imb_meter *m = meter();
  imb_event ev;
  imb_result res;
  memset(&ev, 0, sizeof ev);
  ev.kind = IMB_A_CREATE_GROUP, ev.a = "g", ev.alen = 1, ev.gtype = IMB_G_PUBLIC, ev.t = 1614556800;
  imb_meter_apply(m, &ev, &res, NULL);
  ev.kind = IMB_A_DISBAND_GROUP;
  imb_meter_apply(m, &ev, &res, NULL);
  size_t len;
  unsigned char *p = file_of(m, &len);
  CHECK(p != NULL);
  /* the one day record is the body's last 69 bytes before the months and
   * the event ids (4 + 12 + 4 bytes) and the group instants and day logs
   * (4 + 8, then 4 + one day's 4 + 4 + two entries of 9): day, has_groups,
   * dau, created, disbanded, ... */
  size_t trailer = 4 + 8 + 4 + 4 + 4 + 2 * 9;
  size_t disbanded = len - trailer - 4 - 12 - 4 - 69 + 4 + 1 + 8 + 8;
  for (int i = 0; i < 8; i++) p[disbanded + (size_t)i] = i == 7 ? 0x7f : 0xff;
  reseal(p, len);
  imb_meter *back = NULL;
  imb_saved saved;
  imb_file_error err;
  CHECK_EQ(imb_meter_load_bytes(p, len, &back, &saved, &err), IMB_ECORRUPT);
  CHECK(strstr(err.why, "days[1].disbanded: 9223372036854775807 is outside") != NULL);
  free(p);
  imb_meter_free(m);
}

/* Found by fuzzing (meter_body): days released before year 1, which
 * imb_meter_release allows near the calendar's start, were saved and then
 * refused by the loader. */
static void a_meter_released_before_year_1_saves_and_loads(void) {
  imb_meter *m = NULL;
  imb_result res;
  imb_limits lim;
  imb_limits_unlimited(&lim);
  const int64_t year1 = INT64_C(-62135596800); /* 0001-01-01T00:00:00Z */
  CHECK_EQ(imb_meter_new(0, "pro", 3, &lim, 0, &m), IMB_OK);
  CHECK_EQ(imb_meter_login(m, "early", 5, year1 + 35 * 86400, &res, NULL), IMB_OK);
  int32_t last = imb_meter_last_day(m);
  CHECK_EQ(imb_meter_release(m, last - 40), IMB_OK);
  CHECK(imb_meter_released_before(m) < -719162);
  const char *path = in_dir("m.meter");
  imb_file_error err;
  CHECK_EQ(imb_meter_save(m, path, strlen(path), NULL, 0, NULL, &err), IMB_OK);
  imb_meter *back = NULL;
  imb_saved saved;
  CHECK_EQ(imb_meter_load(path, strlen(path), &back, &saved, &err), IMB_OK);
  CHECK_EQ(imb_meter_released_before(back), last - 40);
  imb_saved_free(&saved);
  imb_meter_free(back);
  imb_meter_free(m);
  rm_dir(path);
}

/* An edition's features are part of its limits: a meter that refused a
 * Community group before a save refuses it after the load. */
static void features_survive_a_save(void) {
  imb_limits lim;
  imb_meter *m = NULL;
  imb_limits_unlimited(&lim);
  lim.features = UINT32_C(1) << IMB_F_COMMUNITY;
  CHECK_EQ(imb_meter_new(8 * 3600, "ultimate", 8, &lim, 0, &m), IMB_OK);
  const char *path = in_dir("f.meter");
  CHECK(path != NULL);
  imb_file_error err;
  CHECK_EQ(imb_meter_save(m, path, strlen(path), NULL, 0, NULL, &err), IMB_OK);
  imb_meter *back = NULL;
  imb_saved saved;
  CHECK_EQ(imb_meter_load(path, strlen(path), &back, &saved, &err), IMB_OK);
  if (back) {
    imb_limits got;
    imb_meter_segment(back, 0, NULL, NULL, NULL, &got, NULL);
    CHECK_EQ(got.features, lim.features);
    imb_saved_free(&saved);
    imb_meter_free(back);
  }
  imb_meter_free(m);
  rm_dir(path);
}

/* Tencent keeps a list per user: a one-way friendship saves as one-way and
 * loads back as it was (the other user does not list the first). */
static void one_way_friendships_survive_a_save(void) {
  imb_meter *m = meter();
  CHECK(m != NULL);
  imb_event ev;
  imb_result res;
  memset(&ev, 0, sizeof ev);
  ev.t = 1614556800;
  ev.kind = IMB_A_ADD_FRIEND_ONE_WAY, ev.a = "fan", ev.alen = 3, ev.b = "alice", ev.blen = 5;
  CHECK_EQ(imb_meter_apply(m, &ev, &res, NULL), IMB_OK);
  ev.kind = IMB_A_ADD_FRIEND, ev.a = "alice", ev.alen = 5, ev.b = "bob", ev.blen = 3;
  CHECK_EQ(imb_meter_apply(m, &ev, &res, NULL), IMB_OK);
  const char *path = in_dir("o.meter");
  CHECK(path != NULL);
  imb_file_error err;
  CHECK_EQ(imb_meter_save(m, path, strlen(path), NULL, 0, NULL, &err), IMB_OK);
  imb_meter *back = NULL;
  CHECK_EQ(imb_meter_load(path, strlen(path), &back, NULL, &err), IMB_OK);
  if (back) {
    CHECK_EQ(imb_meter_user_friends(back, "fan", 3), 1);
    CHECK_EQ(imb_meter_user_friends(back, "alice", 5), 1);
    CHECK_EQ(imb_meter_user_friends(back, "bob", 3), 1);
    /* alice does not list the fan: taking the fan off her list changes nothing */
    ev.kind = IMB_A_REMOVE_FRIEND_ONE_WAY, ev.a = "alice", ev.alen = 5, ev.b = "fan", ev.blen = 3;
    CHECK_EQ(imb_meter_apply(back, &ev, &res, NULL), IMB_OK);
    CHECK_EQ(res, IMB_UNCHANGED);
    imb_meter_free(back);
  }
  imb_meter_free(m);
  rm_dir(path);
}

/* Every meter imb_meter_new makes saves a file its loader takes: the edge
 * zones +14:00 and -12:00 round-trip (a zone the loader refuses, +15:00 or a
 * second past a minute, is refused by imb_meter_new itself). */
static void a_meter_at_each_edge_zone_saves_and_loads(void) {
  const int32_t zones[2] = { 14 * 3600, -12 * 3600 };
  imb_limits lim;
  imb_limits_unlimited(&lim);
  for (int i = 0; i < 2; i++) {
    imb_meter *m = NULL, *back = NULL;
    imb_result res;
    CHECK_EQ(imb_meter_new(zones[i], "pro", 3, &lim, 0, &m), IMB_OK);
    if (!m) return;
    /* 2024-01-01T00:00:00Z: 14:00 on the 1st at +14:00, noon on 31 Dec at -12:00 */
    CHECK_EQ(imb_meter_login(m, "u", 1, INT64_C(1704067200), &res, NULL), IMB_OK);
    const char *path = in_dir("m.meter");
    imb_file_error err;
    imb_saved saved;
    CHECK_EQ(imb_meter_save(m, path, strlen(path), NULL, 0, NULL, &err), IMB_OK);
    CHECK_EQ(imb_meter_load(path, strlen(path), &back, &saved, &err), IMB_OK);
    if (back) {
      CHECK_EQ(imb_meter_offset(back), zones[i]);
      CHECK_EQ(imb_meter_last_day(back), imb_meter_last_day(m));
      CHECK_EQ(imb_meter_dau(back, imb_meter_last_day(m)), 1);
      imb_saved_free(&saved);
      imb_meter_free(back);
    }
    imb_meter_free(m);
    rm_dir(path);
  }
}

CTEST_SUITE(meter_file_tests) = {
  { "meter file: a meter at +14:00 or -12:00 saves and loads; imb_meter_new takes no zone a file cannot hold",
    a_meter_at_each_edge_zone_saves_and_loads },
  { "meter file: records round-trip as bytes (NUL, newline, empty key, INT64_MIN)", records_round_trip_as_bytes },
  { "meter file: bad records and paths refused before anything is written; errno kept",
    bad_records_and_paths_are_refused_before_anything_is_written },
  { "meter file: bytes load like the file; every cut refused", bytes_load_like_the_file_and_every_cut_is_refused },
  { "meter file: a day's disbands at INT64_MAX refused naming the field", absurd_day_counters_are_refused },
  { "meter file: a meter released before year 1 saves and loads (fuzzing)", a_meter_released_before_year_1_saves_and_loads },
  { "meter file: an edition's features survive a save", features_survive_a_save },
  { "meter file: one-way friendships save as one-way (version 4)", one_way_friendships_survive_a_save },
  { NULL, NULL },
};
