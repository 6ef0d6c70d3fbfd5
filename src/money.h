/* Exact money.  Prices and amounts are int64_t counts of micro-units (1e-6 of the
 * currency): Tencent publishes unit prices such as 0.015 USD per user, so cents
 * are not fine enough for prices, while 2^63 micro-units (9.2e12 USD) leave room
 * for any IM bill.  Invoice lines are whole cents, reached by exactly one
 * rounding step, half away from zero ("half-up" for the positive amounts billed). */
#ifndef IMB_MONEY_H
#define IMB_MONEY_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

#define IMB_MICROS_PER_UNIT 1000000
#define IMB_MICROS_PER_CENT 10000
/* "-9223372.036854775808" plus NUL fits easily. */
#define IMB_MONEY_BUFSZ 32

/* Parses "149.99", "-0.015", "1349" (at most 6 decimals, no exponent, no
 * separators, no surrounding space). */
IMB_API imb_status imb_money_parse(const char *s, size_t len, int64_t *micros);

/* Writes the decimal form of micros with at least `min_places` decimals (0..6),
 * more only where the value carries them: 1349910000 -> "1349.91",
 * 15000 -> "0.015". Returns the length written. */
IMB_API size_t imb_money_format(int64_t micros, int min_places, char *buf);

IMB_API imb_status imb_add(int64_t a, int64_t b, int64_t *out);
IMB_API imb_status imb_mul(int64_t a, int64_t b, int64_t *out);

/* round_half_up(a * b / d) for d > 0, computed with a 128-bit intermediate so
 * the only rounding is the final one. */
IMB_API imb_status imb_muldiv(int64_t a, int64_t b, int64_t d, int64_t *out);

/* Rounds micros to whole cents (half away from zero); result in cents. */
IMB_API imb_status imb_round_cents(int64_t micros, int64_t *cents);

#endif
