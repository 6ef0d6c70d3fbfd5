#include "idset.h"

#include <stdlib.h>
#include <string.h>

#define GOLDEN 0x9E3779B97F4A7C15ull

static uint64_t rd64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static uint64_t fmix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

/* Only used in memory (saved files store ids, never hashes), so byte order and
 * the exact mixing may change between versions. */
uint64_t imb_hash_bytes(const void *p, size_t n) {
  const unsigned char *s = p;
  uint64_t h = GOLDEN ^ ((uint64_t)n * 0xff51afd7ed558ccdull);
  while (n >= 8) {
    h = (h ^ rd64(s)) * GOLDEN;
    h ^= h >> 29;
    s += 8;
    n -= 8;
  }
  if (n) {
    uint64_t t = 0;
    memcpy(&t, s, n);
    h = (h ^ t) * GOLDEN;
  }
  return fmix64(h);
}

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

void imb_intern_init(imb_intern *t) { memset(t, 0, sizeof *t); }

void imb_intern_free(imb_intern *t) {
  free(t->slot);
  free(t->off);
  free(t->arena);
  imb_intern_init(t);
}

/* The slot keeps the hash's low 32 bits as a tag, and the home position is
 * taken from the same bits, so growing never reads the ids again (each read
 * would be a cache miss).  Entries sharing a probe chain share only the low
 * log2(cap) bits; the rest of the tag still rules out almost every mismatch. */
static uint32_t slot_home(uint64_t h, uint32_t mask) { return (uint32_t)h & mask; }
#define TAG(h) ((uint64_t)(uint32_t)(h) << 32)

int imb_intern_find_at(const imb_intern *t, const char *s, size_t len, uint64_t h, uint32_t *idx,
                       uint32_t *at) {
  if (!t->cap) return 0;
  uint32_t mask = t->cap - 1, j = slot_home(h, mask);
  uint64_t tag = TAG(h);
  for (;;) {
    uint64_t y = t->slot[j];
    if (!y) return 0;
    if ((y & 0xFFFFFFFF00000000ull) == tag) {
      uint32_t off = (uint32_t)y - 1;
      const unsigned char *p = (const unsigned char *)t->arena + off;
      size_t l = (size_t)p[0] | ((size_t)p[1] << 8);
      if (l == len && memcmp(p + IMB_ENTRY_HEAD, s, len) == 0) {
        memcpy(idx, p + 6, 4);
        if (at) *at = off;
        return 1;
      }
    }
    j = (j + 1) & mask;
  }
}

int imb_intern_find(const imb_intern *t, const char *s, size_t len, uint64_t h, uint32_t *idx) {
  return imb_intern_find_at(t, s, len, h, idx, NULL);
}

static int intern_grow(imb_intern *t) {
  uint32_t ncap = t->cap ? t->cap * 2 : 64;
  if (ncap == 0 || ncap > (1u << 31)) return -1;
  uint64_t *ns = calloc(ncap, sizeof *ns);
  if (!ns) return -1;
  uint32_t mask = ncap - 1;
  for (uint32_t i = 0; i < t->cap; i++) {
    uint64_t y = t->slot[i];
    if (!y) continue;
    uint32_t j = (uint32_t)(y >> 32) & mask;
    while (ns[j]) j = (j + 1) & mask;
    ns[j] = y;
  }
  free(t->slot);
  t->slot = ns;
  t->cap = ncap;
  return 0;
}

imb_status imb_intern_get(imb_intern *t, const char *s, size_t len, uint32_t *idx, int *created) {
  if (len > IMB_ID_MAXLEN) return IMB_ERANGE;
  uint64_t h = imb_hash_bytes(s, len);
  *created = 0;
  if (imb_intern_find(t, s, len, h, idx)) return IMB_OK;
  if (t->n >= IMB_IDX_MAX) return IMB_ENOMEM;
  if ((uint64_t)(t->n + 1) * 4 > (uint64_t)t->cap * 3 && intern_grow(t)) return IMB_ENOMEM;
  if (t->n == t->offcap) {
    uint32_t nc = t->offcap ? t->offcap * 2 : 64;
    uint32_t *no = realloc(t->off, (size_t)nc * sizeof *no);
    if (!no) return IMB_ENOMEM;
    t->off = no;
    t->offcap = nc;
  }
  size_t need = t->arena_len + IMB_ENTRY_HEAD + len;
  if (need >= 0xFFFFFFFFu) return IMB_ENOMEM;
  if (need > t->arena_cap) {
    /* 1.5x: ids are the largest part of a user's memory, so keep the slack small */
    size_t nc = t->arena_cap ? t->arena_cap : 1024;
    while (nc < need) nc += nc / 2;
    char *na = realloc(t->arena, nc);
    if (!na) return IMB_ENOMEM;
    t->arena = na;
    t->arena_cap = nc;
  }
  unsigned char *p = (unsigned char *)t->arena + t->arena_len;
  p[0] = (unsigned char)(len & 0xFF);
  p[1] = (unsigned char)(len >> 8);
  memset(p + 2, 0, 4);
  uint32_t i = t->n++;
  memcpy(p + 6, &i, 4);
  if (len) memcpy(p + IMB_ENTRY_HEAD, s, len);
  t->off[i] = (uint32_t)t->arena_len;
  t->arena_len = need;
  uint32_t mask = t->cap - 1, j = slot_home(h, mask);
  while (t->slot[j]) j = (j + 1) & mask;
  t->slot[j] = TAG(h) | ((uint64_t)t->off[i] + 1);
  *idx = i;
  *created = 1;
  return IMB_OK;
}

const char *imb_intern_str(const imb_intern *t, uint32_t idx, size_t *len) {
  const unsigned char *p = (const unsigned char *)t->arena + t->off[idx];
  *len = (size_t)p[0] | ((size_t)p[1] << 8);
  return (const char *)p + IMB_ENTRY_HEAD;
}

uint32_t imb_intern_word_at(const imb_intern *t, uint32_t at) {
  uint32_t w;
  memcpy(&w, t->arena + at + 2, 4);
  return w;
}

void imb_intern_set_word_at(imb_intern *t, uint32_t at, uint32_t w) { memcpy(t->arena + at + 2, &w, 4); }

uint32_t imb_intern_at(const imb_intern *t, uint32_t idx) { return t->off[idx]; }

void imb_intern_prefetch_slot(const imb_intern *t, uint64_t h) {
#if defined(__GNUC__)
  if (t->cap) __builtin_prefetch(&t->slot[slot_home(h, t->cap - 1)]);
#else
  (void)t;
  (void)h;
#endif
}

/* Prefetches the entry the first matching slot points to; a hint only. */
void imb_intern_prefetch_entry(const imb_intern *t, uint64_t h) {
#if defined(__GNUC__)
  if (!t->cap) return;
  uint64_t y = t->slot[slot_home(h, t->cap - 1)];
  if (y) __builtin_prefetch(t->arena + ((uint32_t)y - 1));
#else
  (void)t;
  (void)h;
#endif
}

void imb_u32set_prefetch(const imb_u32set *s, uint32_t v) {
#if defined(__GNUC__)
  if (s->cap) __builtin_prefetch(&s->slot[home(v, s->cap - 1)]);
#else
  (void)s;
  (void)v;
#endif
}

size_t imb_intern_bytes(const imb_intern *t) {
  return (size_t)t->cap * sizeof(uint64_t) + (size_t)t->offcap * sizeof(uint32_t) + t->arena_cap;
}
