#include "core.h"

#include <string.h>

/* __int128 is the simplest exact intermediate for a*b/d; both gcc and clang
 * have it on every 64-bit target we build for. */
__extension__ typedef __int128 imb_i128;

imb_status imb_money_parse(const char *s, size_t len, int64_t *micros) {
  size_t i = 0;
  int neg = 0, digits = 0, places = 0;
  uint64_t whole = 0, frac = 0;
  if (!s || !micros) return IMB_ESYNTAX;
  if (len == 0) return IMB_ESYNTAX;
  if (s[0] == '-' || s[0] == '+') { neg = s[0] == '-'; i = 1; }
  for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
    if (whole > (UINT64_MAX - 9) / 10) return IMB_EOVERFLOW;
    whole = whole * 10 + (uint64_t)(s[i] - '0');
  }
  if (i < len && s[i] == '.') {
    i++;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, places++) {
      if (places >= 6) {
        /* zeros beyond the scale are harmless ("1.5000000"); any other digit
         * there would be lost, so it is refused */
        if (s[i] != '0') return IMB_ESCALE;
        continue;
      }
      frac = frac * 10 + (uint64_t)(s[i] - '0');
    }
    if (places == 0) return IMB_ESYNTAX;
  }
  if (i != len || digits == 0) return IMB_ESYNTAX;
  for (int p = places > 6 ? 6 : places; p < 6; p++) frac *= 10;
  if (whole > (uint64_t)INT64_MAX / IMB_MICROS_PER_UNIT) return IMB_EOVERFLOW;
  uint64_t mag = whole * IMB_MICROS_PER_UNIT + frac;
  if (mag > (uint64_t)INT64_MAX) return IMB_EOVERFLOW;
  *micros = neg ? -(int64_t)mag : (int64_t)mag;
  return IMB_OK;
}

size_t imb_money_format(int64_t micros, int min_places, char *buf) {
  char tmp[IMB_MONEY_BUFSZ];
  size_t n = 0, k = 0;
  /* work on the magnitude as unsigned so INT64_MIN is representable */
  uint64_t mag = micros < 0 ? (uint64_t)0 - (uint64_t)micros : (uint64_t)micros;
  uint64_t whole = mag / IMB_MICROS_PER_UNIT, frac = mag % IMB_MICROS_PER_UNIT;
  int places = 6;
  if (min_places < 0) min_places = 0;
  if (min_places > 6) min_places = 6;
  while (places > min_places && frac % 10 == 0) { frac /= 10; places--; }
  if (micros < 0) buf[n++] = '-';
  do { tmp[k++] = (char)('0' + whole % 10); whole /= 10; } while (whole);
  while (k) buf[n++] = tmp[--k];
  if (places > 0) {
    buf[n++] = '.';
    for (int p = places - 1; p >= 0; p--) {
      uint64_t div = 1;
      for (int q = 0; q < p; q++) div *= 10;
      buf[n++] = (char)('0' + (frac / div) % 10);
    }
  }
  buf[n] = '\0';
  return n;
}

imb_status imb_add(int64_t a, int64_t b, int64_t *out) {
  return __builtin_add_overflow(a, b, out) ? IMB_EOVERFLOW : IMB_OK;
}

imb_status imb_mul(int64_t a, int64_t b, int64_t *out) {
  return __builtin_mul_overflow(a, b, out) ? IMB_EOVERFLOW : IMB_OK;
}

imb_status imb_muldiv(int64_t a, int64_t b, int64_t d, int64_t *out) {
  if (d <= 0) return IMB_ERANGE;
  imb_i128 p = (imb_i128)a * b;
  imb_i128 q = p / d, r = p % d;
  /* half away from zero: compare twice the remainder with the divisor */
  if (r < 0) r = -r;
  if (2 * r >= d) q += p < 0 ? -1 : 1;
  if (q > INT64_MAX || q < INT64_MIN) return IMB_EOVERFLOW;
  *out = (int64_t)q;
  return IMB_OK;
}

imb_status imb_round_cents(int64_t micros, int64_t *cents) {
  return imb_muldiv(micros, 1, IMB_MICROS_PER_CENT, cents);
}
