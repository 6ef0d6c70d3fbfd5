/* The edition-change policy and the plan fee (docs/rules.md, "Plan fee"),
 * decided here only: the meter refuses a change with imb_change_check, the
 * invoice prices a month with imb_month_fees, and the what-if projection and
 * path search (lua/imbill/whatif/) keep only the changes imb_change_check
 * allows. */
#include "core.h"

#include <limits.h>

imb_change_verdict imb_change_check(const imb_policy *p, const imb_span *spans, int n, int32_t activated,
                                    int32_t day, const imb_span *to) {
  /* no history to judge (spans[n - 1] would be read before the array): never "ok" */
  if (!p || !spans || !to || n < 1 || day < IMB_DAY_MIN || day > IMB_DAY_MAX) return IMB_CH_INVALID;
  const imb_span *cur = &spans[n - 1];
  if (cur->edition == to->edition) return IMB_CH_SAME;
  if (cur->from != IMB_NO_DAY && day < cur->from) return IMB_CH_BACKWARDS;
  /* 2021 and 2022 never let an app return to a free edition after it left
   * one; 2020 allows a paid app back to trial */
  if (to->is_free && !cur->is_free && !p->return_to_free) return IMB_CH_NO_RETURN;
  int32_t month = imb_month_of_day(day);
  /* one change per calendar month; the first paid activation is that
   * month's change */
  if (n > 1 && cur->from != IMB_NO_DAY && imb_month_of_day(cur->from) == month) return IMB_CH_TWICE;
  if (activated != IMB_NO_DAY && imb_month_of_day(activated) == month) return IMB_CH_TWICE;
  return IMB_CH_OK;
}

static imb_status fee_cents(int64_t monthly, int32_t days, int32_t dim, int64_t *cents) {
  if (days == dim) return imb_round_cents(monthly, cents);
  return imb_prorate(monthly, days, dim, cents);
}

imb_status imb_month_fees(const imb_policy *p, int32_t month, const imb_span *spans, int nspans,
                          int32_t activated, imb_fee_line *out, int *n, imb_change_verdict *verdict) {
  if (!n || !verdict) return IMB_ERANGE;
  *n = 0;
  *verdict = IMB_CH_OK;
  if (!p || !spans || !out || nspans < 1 || !imb_month_in_calendar(month)) return IMB_ERANGE;
  int32_t first = imb_month_first_day(month), dim = imb_month_length(month), last = first + dim - 1;
  if (spans[0].from != IMB_NO_DAY && spans[0].from > first) return IMB_ERANGE;
  for (int i = 1; i < nspans; i++)
    if (spans[i].from <= first - 1 || spans[i].from > last || (i > 1 && spans[i].from <= spans[i - 1].from))
      return IMB_ERANGE;
  if (activated != IMB_NO_DAY && activated > last) return IMB_ERANGE;
  int act_in = activated != IMB_NO_DAY && activated >= first;

  /* a free edition at the month's start after an earlier paid activation
   * means the app went back to free, which only some books allow */
  if (activated != IMB_NO_DAY && activated < first && spans[0].is_free && !p->return_to_free) {
    *verdict = IMB_CH_NO_RETURN;
    return IMB_OK;
  }
  /* an activation last month was that month's one change, so a free edition
   * on the 1st came back on the 1st itself (this month's change, or a second
   * last month if it is the edition a change on the 1st leaves): another
   * change this month cannot have happened */
  if (activated != IMB_NO_DAY && activated < first && imb_month_of_day(activated) == month - 1 && spans[0].is_free &&
      nspans > 1) {
    *verdict = IMB_CH_TWICE;
    return IMB_OK;
  }
  /* each change within the month, judged on the history before it; a change
   * on the activation day is the activation itself */
  for (int i = 1; i < nspans; i++) {
    int32_t act = activated;
    if (act != IMB_NO_DAY && act >= spans[i].from) act = IMB_NO_DAY;
    imb_change_verdict v = imb_change_check(p, spans, i, act, spans[i].from, &spans[i]);
    if (v) {
      *verdict = v;
      return IMB_OK;
    }
  }
  if (act_in) {
    /* the activation is where a paid edition starts: either a change on
     * that day, or the edition in force from the month's start */
    int at = -1;
    for (int i = 0; i < nspans; i++)
      if ((i == 0 ? first : spans[i].from) <= activated) at = i;
    if (at < 0 || spans[at].is_free) return IMB_ERANGE;
    if (at > 0 && spans[at].from != activated) {
      *verdict = IMB_CH_TWICE;
      return IMB_OK;
    }
  }

  for (int i = 0; i < nspans; i++) {
    int32_t from = i == 0 ? first : spans[i].from;
    int32_t to = i + 1 < nspans ? spans[i + 1].from - 1 : last;
    int activation = 0;
    if (act_in) {
      /* before the first activation the app ran no paid edition: no fee (a
       * paid edition named before it, as when the activation is also the
       * month's change, never ran paid) */
      if (to < activated && !spans[i].is_free) continue;
      if (from <= activated && activated <= to) {
        from = activated;
        activation = 1;
      }
    }
    if (to < from) continue;
    imb_fee_line *l = &out[(*n)++];
    l->edition = spans[i].edition;
    l->from = from;
    l->to = to;
    l->days = to - from + 1;
    l->cents = 0;
    imb_status st;
    if (spans[i].is_free) {
      l->kind = IMB_FEE_FREE_EDITION;
    } else if (activation && activated < p->activation_free_to) {
      l->kind = IMB_FEE_ACTIVATION;
    } else {
      l->kind = l->days == dim ? IMB_FEE_FULL : IMB_FEE_BY_DAY;
      if ((st = fee_cents(spans[i].monthly_fee, l->days, dim, &l->cents))) return st;
    }
  }
  return IMB_OK;
}
