/* The part of preparing a charge line that pays off over many values
 * (charge.h). */
#include "charge.h"

/* Where the fast form's division is exact: blocks below 2^31 and usage at
 * most 2^32 over the free quota (the proof is in charge.h). */
#define FAST_BLOCK ((int64_t)1 << 31)
#define FAST_OVER ((int64_t)1 << 32)

void imb_line_speedup(imb_line *l) {
  if (l->free == INT64_MAX) return; /* no such charge: already fast everywhere */
  int64_t block = (int64_t)l->block, vmax;
  /* blocks * price <= IMB_LINE_MAX * 10^4 for blocks <= max_blocks, and v <=
   * free + max_blocks * block gives at most max_blocks blocks */
  int64_t max_blocks = l->price > 0 ? IMB_LINE_MAX * IMB_MICROS_PER_CENT / l->price : IMB_LINE_MAX;
  if (__builtin_mul_overflow(max_blocks, block, &vmax) || __builtin_add_overflow(vmax, l->free, &vmax))
    vmax = INT64_MAX;
  if (l->unit) {
    l->reach = (uint64_t)vmax;
  } else if (block < FAST_BLOCK) {
    int64_t span = l->free > INT64_MAX - FAST_OVER ? INT64_MAX : l->free + FAST_OVER;
    l->magic = UINT64_MAX / l->block + 1;
    l->reach = (uint64_t)(span < vmax ? span : vmax);
  }
  /* else: blocks of 2^31 or more keep reach = free; imb_line_exact divides */
}
