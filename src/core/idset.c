/* madvise() and MADV_HUGEPAGE are outside strict POSIX */
#define _DEFAULT_SOURCE
#include "idset.h"

#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#define GOLDEN IMB_GOLDEN

uint64_t imb_hash_bytes(const void *p, size_t n) { return imb_hash_i(p, n); }

/* ---- u32 sets ---------------------------------------------------------- */

/* Fibonacci hashing spreads dense sequential indices over the whole table. */
static uint32_t home(uint32_t v, uint32_t mask) {
  uint64_t h = (uint64_t)v * GOLDEN;
  return (uint32_t)(h ^ (h >> 29) ^ (h >> 47)) & mask;
}

void imb_u32set_init(imb_u32set *s) {
  s->slot = NULL;
  s->cap = s->n = 0;
}

void imb_u32set_free(imb_u32set *s) {
  free(s->slot);
  imb_u32set_init(s);
}

static int u32_grow(imb_u32set *s) {
  uint32_t ncap = s->cap ? s->cap * 2 : 4;
  if (ncap == 0 || ncap > (1u << 31)) return -1;
  uint32_t *ns = calloc(ncap, sizeof *ns);
  if (!ns) return -1;
  uint32_t mask = ncap - 1;
  for (uint32_t i = 0; i < s->cap; i++) {
    uint32_t x = s->slot[i];
    if (!x) continue;
    uint32_t j = home(x - 1, mask);
    while (ns[j]) j = (j + 1) & mask;
    ns[j] = x;
  }
  free(s->slot);
  s->slot = ns;
  s->cap = ncap;
  return 0;
}

int imb_u32set_has(const imb_u32set *s, uint32_t v) {
  if (!s->cap) return 0;
  uint32_t mask = s->cap - 1, x = v + 1, j = home(v, mask);
  for (;;) {
    uint32_t y = s->slot[j];
    if (y == x) return 1;
    if (!y) return 0;
    j = (j + 1) & mask;
  }
}

int imb_u32set_add(imb_u32set *s, uint32_t v) {
  if ((uint64_t)(s->n + 1) * 4 > (uint64_t)s->cap * 3) {
    if (imb_u32set_has(s, v)) return 0;
    if (u32_grow(s)) return -1;
  }
  uint32_t mask = s->cap - 1, x = v + 1, j = home(v, mask);
  for (;;) {
    uint32_t y = s->slot[j];
    if (y == x) return 0;
    if (!y) break;
    j = (j + 1) & mask;
  }
  s->slot[j] = x;
  s->n++;
  return 1;
}

/* Backward-shift deletion keeps probe chains intact without tombstones, so a
 * set that churns (members joining and leaving) never degrades. */
int imb_u32set_del(imb_u32set *s, uint32_t v) {
  if (!s->cap) return 0;
  uint32_t mask = s->cap - 1, x = v + 1, i = home(v, mask);
  for (;;) {
    uint32_t y = s->slot[i];
    if (!y) return 0;
    if (y == x) break;
    i = (i + 1) & mask;
  }
  s->slot[i] = 0;
  uint32_t j = i;
  for (;;) {
    j = (j + 1) & mask;
    uint32_t y = s->slot[j];
    if (!y) break;
    uint32_t k = home(y - 1, mask);
    /* move y back into the hole unless its home lies cyclically in (i, j] */
    int stays = (i <= j) ? (i < k && k <= j) : (i < k || k <= j);
    if (!stays) {
      s->slot[i] = y;
      s->slot[j] = 0;
      i = j;
    }
  }
  s->n--;
  return 1;
}

size_t imb_u32set_bytes(const imb_u32set *s) { return (size_t)s->cap * sizeof(uint32_t); }

/* ---- intern table ------------------------------------------------------ */

#define CHUNK ((size_t)1 << IMB_CHUNK_BITS)
#define CHUNK_MASK (CHUNK - 1)
#define BIG ((size_t)2 << 20) /* a huge page: smaller blocks come from malloc */

/* Lookups in a large table are random loads; with 4 KiB pages nearly each one
 * also misses the TLB, which costs as much as the load.  Large blocks are
 * mapped fresh, aligned to 2 MiB and marked for transparent huge pages before
 * any byte is touched (a hint the kernel may ignore).  Fresh matters: malloc
 * would hand back memory freed by an earlier growth, already faulted in as
 * 4 KiB pages, and the hint does not change pages already there.  Blocks
 * come zeroed, as calloc's would.  big_free() takes the size back. */
#define HUGE_PAGE ((size_t)2 << 20)
static void *big_zalloc(size_t n) {
#if defined(__linux__) && defined(MADV_HUGEPAGE) && defined(MAP_ANONYMOUS)
  if (n >= BIG) {
    size_t len = (n + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    if (len < n || len + HUGE_PAGE < len) return NULL;
    char *raw = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    /* trim to a 2 MiB-aligned range of len bytes */
    size_t lead = (HUGE_PAGE - ((uintptr_t)raw & (HUGE_PAGE - 1))) & (HUGE_PAGE - 1);
    if (lead) munmap(raw, lead);
    if (HUGE_PAGE - lead) munmap(raw + lead + len, HUGE_PAGE - lead);
    madvise(raw + lead, len, MADV_HUGEPAGE);
    return raw + lead;
  }
#endif
  return calloc(n, 1);
}

static void big_free(void *p, size_t n) {
#if defined(__linux__) && defined(MADV_HUGEPAGE) && defined(MAP_ANONYMOUS)
  if (n >= BIG) {
    if (p) munmap(p, (n + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
    return;
  }
#endif
  free(p);
}

void imb_intern_init_extra(imb_intern *t, uint32_t extra) {
  memset(t, 0, sizeof *t);
  t->head = IMB_ENTRY_HEAD + (extra > IMB_ENTRY_EXTRA_MAX ? IMB_ENTRY_EXTRA_MAX : extra);
}

void imb_intern_init(imb_intern *t) { imb_intern_init_extra(t, 0); }

void imb_intern_free(imb_intern *t) {
  uint32_t head = t->head;
  big_free(t->slot, (size_t)t->cap * sizeof *t->slot);
  free(t->off);
  /* chunk 0 grows by realloc; later ones are full-size big blocks */
  if (t->nchunks) free(t->chunk[0]);
  for (uint32_t i = 1; i < t->nchunks; i++) big_free(t->chunk[i], CHUNK);
  free(t->chunk);
  memset(t, 0, sizeof *t);
  t->head = head;
}

static unsigned char *entry(const imb_intern *t, uint32_t at) { return imb_intern_entry_i(t, at); }
#define slot_home imb_intern_home_i
#define TAG IMB_INTERN_TAG

int imb_intern_find_at(const imb_intern *t, const char *s, size_t len, uint64_t h, uint32_t *idx,
                       uint32_t *at) {
  return imb_intern_find_at_i(t, s, len, h, idx, at);
}

int imb_intern_find(const imb_intern *t, const char *s, size_t len, uint64_t h, uint32_t *idx) {
  return imb_intern_find_at(t, s, len, h, idx, NULL);
}

static int intern_grow(imb_intern *t) {
  uint32_t ncap = t->cap ? t->cap * 2 : 64;
  if (ncap == 0 || ncap > (1u << 31)) return -1;
  uint64_t *ns = big_zalloc((size_t)ncap * sizeof *ns);
  if (!ns) return -1;
  uint32_t mask = ncap - 1;
  for (uint32_t i = 0; i < t->cap; i++) {
    uint64_t y = t->slot[i];
    if (!y) continue;
    uint32_t j = (uint32_t)(y >> 32) & mask;
    while (ns[j]) j = (j + 1) & mask;
    ns[j] = y;
  }
  big_free(t->slot, (size_t)t->cap * sizeof *t->slot);
  t->slot = ns;
  t->cap = ncap;
  return 0;
}

/* Room for `need` bytes; *at gets their offset.  An entry never straddles two
 * chunks: the tail of a full chunk is left unused (at most one entry's size). */
static int arena_room(imb_intern *t, size_t need, uint32_t *at) {
  uint64_t pos = t->next & CHUNK_MASK, ci = t->next >> IMB_CHUNK_BITS;
  if (t->nchunks && pos + need > CHUNK) {
    ci++;
    pos = 0;
  }
  uint64_t start = (ci << IMB_CHUNK_BITS) | pos;
  /* offsets are 32-bit and a slot stores offset + 1 */
  if (start + need >= 0xFFFFFFFFu) return -1;
  if (ci == 0) {
    if (!t->nchunks) {
      if (!(t->chunk = malloc(4 * sizeof *t->chunk))) return -1;
      t->chunkcap = 4;
      t->chunk[0] = NULL;
      t->nchunks = 1;
    }
    if (pos + need > t->first_cap) {
      /* 1.5x while small: a meter with few ids should not hold a whole chunk */
      size_t nc = t->first_cap ? t->first_cap : 1024;
      while (nc < pos + need) nc += nc / 2;
      if (nc > CHUNK) nc = CHUNK;
      char *na = realloc(t->chunk[0], nc);
      if (!na) return -1;
      t->chunk[0] = na;
      t->first_cap = nc;
    }
  } else if (ci >= t->nchunks) {
    if (t->nchunks == t->chunkcap) {
      uint32_t nc = t->chunkcap * 2;
      char **np = realloc(t->chunk, (size_t)nc * sizeof *np);
      if (!np) return -1;
      t->chunk = np;
      t->chunkcap = nc;
    }
    char *c = big_zalloc(CHUNK);
    if (!c) return -1;
    t->chunk[t->nchunks++] = c;
  }
  *at = (uint32_t)start;
  t->next = start + need;
  return 0;
}

imb_status imb_intern_add(imb_intern *t, const char *s, size_t len, uint64_t h, uint32_t *idx, uint32_t *at_out) {
  if (len > IMB_ID_MAXLEN) return IMB_ERANGE;
  if (t->n >= IMB_IDX_MAX) return IMB_ENOMEM;
  if ((uint64_t)(t->n + 1) * 4 > (uint64_t)t->cap * 3 && intern_grow(t)) return IMB_ENOMEM;
  if (t->n == t->offcap) {
    uint32_t nc = t->offcap ? t->offcap * 2 : 64;
    uint32_t *no = realloc(t->off, (size_t)nc * sizeof *no);
    if (!no) return IMB_ENOMEM;
    t->off = no;
    t->offcap = nc;
  }
  uint32_t at;
  if (arena_room(t, t->head + len, &at)) return IMB_ENOMEM;
  unsigned char *p = entry(t, at);
  p[0] = (unsigned char)(len & 0xFF);
  p[1] = (unsigned char)(len >> 8);
  uint32_t i = t->n++;
  memcpy(p + 2, &i, 4);
  memset(p + IMB_ENTRY_HEAD, 0, t->head - IMB_ENTRY_HEAD);
  if (len) memcpy(p + t->head, s, len);
  t->off[i] = at;
  uint32_t mask = t->cap - 1, j = slot_home(h, mask);
  while (t->slot[j]) j = (j + 1) & mask;
  t->slot[j] = TAG(h) | ((uint64_t)at + 1);
  *idx = i;
  if (at_out) *at_out = at;
  return IMB_OK;
}

imb_status imb_intern_get(imb_intern *t, const char *s, size_t len, uint32_t *idx, int *created) {
  if (len > IMB_ID_MAXLEN) return IMB_ERANGE;
  uint64_t h = imb_hash_bytes(s, len);
  *created = 0;
  if (imb_intern_find(t, s, len, h, idx)) return IMB_OK;
  imb_status st = imb_intern_add(t, s, len, h, idx, NULL);
  if (!st) *created = 1;
  return st;
}

/* Linear probing without tombstones: the slots after the freed one that
 * would no longer be reached from their home move back into the gap. */
void imb_intern_pop(imb_intern *t) {
  if (!t->n) return;
  uint32_t at = t->off[t->n - 1], mask = t->cap - 1;
  const unsigned char *p = entry(t, at);
  size_t len = (size_t)p[0] | ((size_t)p[1] << 8);
  uint32_t j = slot_home(imb_hash_bytes(p + t->head, len), mask);
  while ((uint32_t)t->slot[j] != at + 1u) j = (j + 1) & mask;
  for (uint32_t k = (j + 1) & mask; t->slot[k]; k = (k + 1) & mask) {
    uint32_t home = (uint32_t)(t->slot[k] >> 32) & mask;
    if (((k - home) & mask) >= ((k - j) & mask)) {
      t->slot[j] = t->slot[k];
      j = k;
    }
  }
  t->slot[j] = 0;
  t->n--;
  t->next = at;
}

const char *imb_intern_str(const imb_intern *t, uint32_t idx, size_t *len) {
  const unsigned char *p = entry(t, t->off[idx]);
  *len = (size_t)p[0] | ((size_t)p[1] << 8);
  return (const char *)p + t->head;
}

unsigned char *imb_intern_extra(const imb_intern *t, uint32_t at) { return imb_intern_extra_i(t, at); }

uint32_t imb_intern_at(const imb_intern *t, uint32_t idx) { return t->off[idx]; }

void imb_intern_prefetch_slot(const imb_intern *t, uint64_t h) { imb_intern_prefetch_slot_i(t, h); }
void imb_intern_prefetch_entry(const imb_intern *t, uint64_t h) { imb_intern_prefetch_entry_i(t, h); }

size_t imb_intern_bytes(const imb_intern *t) {
  size_t chunks = t->nchunks ? t->first_cap + (size_t)(t->nchunks - 1) * CHUNK : 0;
  return (size_t)t->cap * sizeof(uint64_t) + (size_t)t->offcap * sizeof(uint32_t) +
         (size_t)t->chunkcap * sizeof(char *) + chunks;
}
