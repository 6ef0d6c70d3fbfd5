/* The login rule's one definition, inline: activity.c exports it for every
 * store, and the meter's login loop (meter.c) inlines it, so that counting
 * a login is one straight run of code. */
#ifndef IMB_ACTIVITY_H
#define IMB_ACTIVITY_H

#include "core.h"

IMB_HIDDEN_BEGIN

/* imb_activity_mark with the month's bounds at hand: mfirst is its first day,
 * mend the first day after it.  The login loop keeps them per day, so the
 * usual login (the user's latest day in the same month) needs no calendar
 * arithmetic at all. */
static inline imb_status imb_activity_mark_i(imb_activity *a, int32_t day, int32_t month, int32_t mfirst,
                                             int32_t mend, int *day_new, int *month_new) {
  *day_new = *month_new = 0;
  if (a->last == IMB_NO_DAY) {
    a->last = day;
    a->days = 1;
    a->months = 1;
    *day_new = *month_new = 1;
    return IMB_OK;
  }
  if (day > a->last) {
    /* both bitmaps move up to the new latest day; what falls off their ends
     * is older than any login the window still counts */
    int64_t s = (int64_t)day - a->last;
    a->days = s >= 64 ? 0 : a->days << s;
    if (a->last < mfirst) {
      int64_t sh = (int64_t)month - imb_month_of_day(a->last);
      a->months = sh >= IMB_ACTIVITY_MONTHS ? 0 : (a->months << sh) & ((1u << IMB_ACTIVITY_MONTHS) - 1);
    }
    a->last = day;
  }
  int64_t k = (int64_t)a->last - day;
  if (k > IMB_LOGIN_LATE_DAYS) return IMB_ERANGE;
  if (!((a->days >> k) & 1)) {
    a->days |= (uint64_t)1 << k;
    *day_new = 1;
  }
  /* months back from the latest day's month to the login's: 0 unless the
   * latest day is past the login's month (a late login) */
  int64_t j = a->last < mend ? 0 : (int64_t)imb_month_of_day(a->last) - month;
  if (j >= 0 && j < IMB_ACTIVITY_MONTHS && !((a->months >> j) & 1)) {
    a->months |= 1u << j;
    *month_new = 1;
  }
  return IMB_OK;
}

IMB_HIDDEN_END

#endif
