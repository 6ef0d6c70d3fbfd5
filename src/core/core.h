/* Included by every file of the core: the public interface, and the rule
 * that keeps everything else private.  Internal headers bracket their
 * declarations with the visibility pragma (luasocket's way), so the shared
 * object exports the functions of include/imbill.h and nothing more,
 * whatever flags a build passes. */
#ifndef IMB_CORE_H
#define IMB_CORE_H

#include "imbill.h"

#include <string.h>

#if defined(__GNUC__)
#define IMB_HIDDEN_BEGIN _Pragma("GCC visibility push(hidden)")
#define IMB_HIDDEN_END _Pragma("GCC visibility pop")
#else
#define IMB_HIDDEN_BEGIN
#define IMB_HIDDEN_END
#endif

/* A month (year * 12 + month - 1) of the calendar's years, a day of its
 * days: the status functions that take one refuse any other (IMB_ERANGE)
 * before they compute with it. */
static inline int imb_month_in_calendar(int32_t month) {
  return month >= IMB_MIN_YEAR * 12 && month <= IMB_MAX_YEAR * 12 + 11;
}
static inline int imb_day_in_calendar(int32_t day) { return day >= IMB_DAY_MIN && day <= IMB_DAY_MAX; }
/* imb_instant_check's bound, inline for the login loop.  UTC days
 * IMB_DAY_MIN + 1 .. IMB_DAY_MAX - 1, so that t plus any offset under a day is
 * still a calendar day. */
static inline int imb_instant_in_calendar(int64_t t) {
  return t >= (int64_t)(IMB_DAY_MIN + 1) * 86400 && t < (int64_t)IMB_DAY_MAX * 86400;
}

/* For the few functions of a hot loop that the compiler's size heuristics
 * would keep out of line (a call there costs a tenth of the loop). */
#if defined(__GNUC__)
#define IMB_INLINE static inline __attribute__((always_inline))
#else
#define IMB_INLINE static inline
#endif

#endif
