/* Calendar arithmetic on proleptic Gregorian dates.  A day is an int32_t count of
 * days since 1970-01-01; a month is y*12 + (m-1).  Billing days are taken in a
 * fixed UTC offset (Tencent bills in UTC+8, which has no daylight saving), so no
 * time-zone database is needed. */
#ifndef IMB_CALENDAR_H
#define IMB_CALENDAR_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

#define IMB_DATE_BUFSZ 11 /* "YYYY-MM-DD" + NUL */
#define IMB_MIN_YEAR 1
#define IMB_MAX_YEAR 9999

IMB_API int imb_is_leap(int32_t year);
IMB_API int imb_days_in_month(int32_t year, int month);

/* Valid dates only: imb_days_from_civil(2021, 2, 29, &d) is IMB_ERANGE. */
IMB_API imb_status imb_days_from_civil(int32_t y, int m, int d, int32_t *day);
IMB_API void imb_civil_from_days(int32_t day, int32_t *y, int *m, int *d);

/* Strict "YYYY-MM-DD" and "YYYY-MM": four-digit year, two-digit month and day. */
IMB_API imb_status imb_date_parse(const char *s, size_t len, int32_t *day);
IMB_API imb_status imb_month_parse(const char *s, size_t len, int32_t *month);
IMB_API void imb_date_format(int32_t day, char *buf);

/* The billing day of an instant: floor((t + offset) / 86400).  offset is seconds
 * east of UTC, |offset| < 86400. */
IMB_API imb_status imb_day_of(int64_t unix_seconds, int32_t offset, int32_t *day);

/* First day of a month number, and the month a day falls in. */
IMB_API int32_t imb_month_first_day(int32_t month);
IMB_API int32_t imb_month_of_day(int32_t day);
IMB_API int imb_month_length(int32_t month);

#endif
