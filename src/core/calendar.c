#include "core.h"

#include <string.h>

int imb_is_leap(int32_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int imb_days_in_month(int32_t y, int m) {
  static const unsigned char len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12) return 0;
  return m == 2 && imb_is_leap(y) ? 29 : len[m - 1];
}

/* Counting from March makes February, the only irregular month, the last of the
 * year, so day-of-year is a linear formula and leap days fall at the end. */
/* In 64 bits so that a year far outside the calendar (imb_month_first_day of
 * INT32_MAX) is no signed overflow; the callers that can be given such a year
 * check the calendar's bounds before they use the day. */
static int64_t days_from_civil64(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (m + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int32_t days_from_civil_unchecked(int32_t y, int m, int d) {
  int64_t z = days_from_civil64(y, m, d);
  return z < INT32_MIN ? INT32_MIN : z > INT32_MAX ? INT32_MAX : (int32_t)z;
}

imb_status imb_days_from_civil(int32_t y, int m, int d, int32_t *day) {
  if (y < IMB_MIN_YEAR || y > IMB_MAX_YEAR) return IMB_ERANGE;
  if (m < 1 || m > 12 || d < 1 || d > imb_days_in_month(y, m)) return IMB_ERANGE;
  *day = days_from_civil_unchecked(y, m, d);
  return IMB_OK;
}

void imb_civil_from_days(int32_t day, int32_t *y, int *m, int *d) {
  /* 64-bit so that every int32 day is defined arithmetic (the years of days
   * far outside the calendar still fit in 32 bits) */
  int64_t z = (int64_t)day + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int32_t)(yoe + era * 400 + (*m <= 2));
}

static int digits(const char *s, size_t n, int32_t *out) {
  int32_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 1;
}

imb_status imb_date_parse(const char *s, size_t len, int32_t *day) {
  int32_t y, m, d;
  if (!s || !day || len != 10 || s[4] != '-' || s[7] != '-') return IMB_ESYNTAX;
  if (!digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d)) return IMB_ESYNTAX;
  return imb_days_from_civil(y, (int)m, (int)d, day);
}

imb_status imb_month_parse(const char *s, size_t len, int32_t *month) {
  int32_t y, m;
  if (!s || !month || len != 7 || s[4] != '-') return IMB_ESYNTAX;
  if (!digits(s, 4, &y) || !digits(s + 5, 2, &m)) return IMB_ESYNTAX;
  if (y < IMB_MIN_YEAR || y > IMB_MAX_YEAR || m < 1 || m > 12) return IMB_ERANGE;
  *month = y * 12 + (m - 1);
  return IMB_OK;
}

void imb_date_format(int32_t day, char *buf) {
  int32_t y;
  int m, d;
  imb_civil_from_days(day, &y, &m, &d);
  buf[0] = (char)('0' + (y / 1000) % 10);
  buf[1] = (char)('0' + (y / 100) % 10);
  buf[2] = (char)('0' + (y / 10) % 10);
  buf[3] = (char)('0' + y % 10);
  buf[4] = '-';
  buf[5] = (char)('0' + m / 10);
  buf[6] = (char)('0' + m % 10);
  buf[7] = '-';
  buf[8] = (char)('0' + d / 10);
  buf[9] = (char)('0' + d % 10);
  buf[10] = '\0';
}

imb_status imb_day_of(int64_t t, int32_t offset, int32_t *day) {
  /* keep to years 1..9999 so every result formats as YYYY-MM-DD */
  const int64_t lo = -62135596800LL, hi = 253402300799LL;
  if (offset <= -86400 || offset >= 86400) return IMB_ERANGE;
  if (t < lo || t > hi) return IMB_ERANGE;
  int64_t s = t + offset;
  int64_t q = s / 86400;
  if (s % 86400 < 0) q--; /* floor, not truncation, before 1970 */
  if (q < -719162 || q > 2932896) return IMB_ERANGE;
  *day = (int32_t)q;
  return IMB_OK;
}

int32_t imb_month_first_day(int32_t month) {
  return days_from_civil_unchecked(month / 12, (int)(month % 12) + 1, 1);
}

int32_t imb_month_of_day(int32_t day) {
  int32_t y;
  int m, d;
  imb_civil_from_days(day, &y, &m, &d);
  /* every int32 day's year is within +-5.9 million, so this fits */
  return y * 12 + (m - 1);
}

int imb_month_length(int32_t month) { return imb_days_in_month(month / 12, (int)(month % 12) + 1); }

/* The binding's old bound, kept (core.h). */
imb_status imb_instant_check(int64_t t) { return imb_instant_in_calendar(t) ? IMB_OK : IMB_ERANGE; }

/* One grammar for every zone imbill reads (book, meter and invoice `tz`,
 * event times, saved meters), so they can never disagree. */
imb_status imb_tz_parse(const char *s, size_t len, int32_t *offset_seconds) {
  size_t i = 0;
  if (!s || !offset_seconds) return IMB_ESYNTAX;
  if (len >= 3 && (memcmp(s, "UTC", 3) == 0 || memcmp(s, "GMT", 3) == 0)) {
    i = 3;
    if (len == 3) {
      *offset_seconds = 0;
      return IMB_OK;
    }
  } else if (len == 1 && s[0] == 'Z') {
    *offset_seconds = 0;
    return IMB_OK;
  }
  if (i >= len || (s[i] != '+' && s[i] != '-')) return IMB_ESYNTAX;
  int neg = s[i] == '-';
  const char *d = s + i + 1;
  size_t n = len - i - 1;
  int32_t h = 0, m = 0;
  /* H, HH, HHMM, H:MM, HH:MM */
  if (n == 1 || n == 2) {
    if (!digits(d, n, &h)) return IMB_ESYNTAX;
  } else if (n == 4 && d[1] == ':') {
    if (!digits(d, 1, &h) || !digits(d + 2, 2, &m)) return IMB_ESYNTAX;
  } else if (n == 4) {
    if (!digits(d, 2, &h) || !digits(d + 2, 2, &m)) return IMB_ESYNTAX;
  } else if (n == 5 && d[2] == ':') {
    if (!digits(d, 2, &h) || !digits(d + 3, 2, &m)) return IMB_ESYNTAX;
  } else {
    return IMB_ESYNTAX;
  }
  if (m >= 60) return IMB_ERANGE;
  int32_t off = h * 3600 + m * 60;
  if (neg) off = -off;
  if (!imb_tz_valid(off)) return IMB_ERANGE;
  *offset_seconds = off;
  return IMB_OK;
}

int imb_tz_valid(int64_t off) { return off >= IMB_TZ_MIN && off <= IMB_TZ_MAX && off % 60 == 0; }
