/* Exact sets for distinct counting.  Billing needs exact unique users (a
 * sketch's 0.8% error is close to one 10,000-DAU block), so user ids are
 * interned once to dense uint32 indices and every per-day, per-month, per-group
 * and per-user set holds those 4-byte indices instead of strings. */
#ifndef IMB_IDSET_H
#define IMB_IDSET_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "core.h"

IMB_HIDDEN_BEGIN

/* Largest index an intern table hands out; v+1 must fit a slot and never be 0. */
#define IMB_IDX_MAX 0xFFFFFFF0u
#define IMB_ID_MAXLEN 65535u
#define IMB_ENTRY_HEAD 6 /* [len:u16][index:u32][extra bytes] before an id's bytes */
#define IMB_ENTRY_EXTRA_MAX 16
/* The arena is a list of chunks so that growing it never copies (or doubles)
 * the ids already there; an offset is (chunk << IMB_CHUNK_BITS) | position. */
#define IMB_CHUNK_BITS 21

uint64_t imb_hash_bytes(const void *p, size_t n);

/* Open addressing with linear probing over v+1 (0 marks an empty slot).  Load
 * stays at or under 3/4, so a set of n values costs 5.3 to 10.7 bytes a value. */
typedef struct imb_u32set {
  uint32_t *slot;
  uint32_t cap; /* 0 or a power of two */
  uint32_t n;
} imb_u32set;

void imb_u32set_init(imb_u32set *s);
void imb_u32set_free(imb_u32set *s);
/* 1 added, 0 already there, -1 out of memory (the set is unchanged). */
int imb_u32set_add(imb_u32set *s, uint32_t v);
int imb_u32set_has(const imb_u32set *s, uint32_t v);
/* 1 removed, 0 was not there. */
int imb_u32set_del(imb_u32set *s, uint32_t v);
size_t imb_u32set_bytes(const imb_u32set *s);

/* Strings to dense indices.  Entries are never removed: an index stays valid
 * for the life of the table, which is what lets sets hold bare indices. */
typedef struct imb_intern {
  uint64_t *slot;   /* (tag << 32) | (arena offset + 1); 0 = empty.  The offset, not
                       the index, so a lookup reads the slot and the entry only */
  uint32_t cap, n;
  uint32_t *off;    /* per index: offset of its entry in arena */
  uint32_t offcap;
  char **chunk;     /* chunk 0 grows by realloc up to a full chunk; later ones are full size */
  uint32_t nchunks, chunkcap;
  size_t first_cap; /* bytes allocated for chunk 0 */
  uint64_t next;    /* offset the next entry goes to */
  uint32_t head;    /* IMB_ENTRY_HEAD + the caller's extra bytes */
} imb_intern;

void imb_intern_init(imb_intern *t);
/* A table whose entries carry `extra` zeroed bytes (at most IMB_ENTRY_EXTRA_MAX)
 * beside each id: state read on every hit sits on the cache line the id is on. */
void imb_intern_init_extra(imb_intern *t, uint32_t extra);
void imb_intern_free(imb_intern *t);
/* 1 found (*idx set), 0 not found. */
int imb_intern_find(const imb_intern *t, const char *s, size_t len, uint64_t h, uint32_t *idx);
/* Also gives the entry's offset, for the word accessors below. */
int imb_intern_find_at(const imb_intern *t, const char *s, size_t len, uint64_t h, uint32_t *idx,
                               uint32_t *at);
/* Finds or adds; *created tells which.  IMB_ERANGE for an id over 65535 bytes,
 * IMB_ENOMEM when memory or the 4 GiB arena runs out. */
imb_status imb_intern_get(imb_intern *t, const char *s, size_t len, uint32_t *idx, int *created);
/* Adds an id known to be absent, with its hash (imb_intern_find said no):
 * a new user is hashed and looked up once, not twice.  *at: its entry. */
imb_status imb_intern_add(imb_intern *t, const char *s, size_t len, uint64_t h, uint32_t *idx,
                                  uint32_t *at);
/* Takes back the id added last (a call that failed after interning it): its
 * index and its bytes are free again, as if it had never been added. */
void imb_intern_pop(imb_intern *t);
const char *imb_intern_str(const imb_intern *t, uint32_t idx, size_t *len);
/* The entry offset of an index, and the extra bytes of the entry at an offset. */
uint32_t imb_intern_at(const imb_intern *t, uint32_t idx);
unsigned char *imb_intern_extra(const imb_intern *t, uint32_t at);
/* Prefetch hints for batched lookups: the home slot, then (once that is in
 * cache) the entry its first occupied slot points to. */
void imb_intern_prefetch_slot(const imb_intern *t, uint64_t h);
void imb_intern_prefetch_entry(const imb_intern *t, uint64_t h);
size_t imb_intern_bytes(const imb_intern *t);

#define IMB_GOLDEN 0x9E3779B97F4A7C15ull

static inline uint64_t imb_rd64_i(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static inline uint64_t imb_fmix64_i(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

static inline uint32_t imb_rd32_i(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* Only used in memory (saved files store ids, never hashes), so byte order and
 * the exact mixing may change between versions.  The tail is read as whole
 * words that may overlap bytes already mixed (an id of 8 bytes or more ends
 * with one 8-byte load, a shorter one with two 4-byte loads): no byte loop and
 * no variable-length copy on the hot path.  The length is mixed in first, so
 * overlapping reads cannot make two ids of different lengths collide more. */
static inline uint64_t imb_hash_i(const void *p, size_t n) {
  const unsigned char *s = p;
  uint64_t h = IMB_GOLDEN ^ ((uint64_t)n * 0xff51afd7ed558ccdull);
  if (n >= 8) {
    const unsigned char *end = s + n - 8;
    while (s < end) {
      h = (h ^ imb_rd64_i(s)) * IMB_GOLDEN;
      h ^= h >> 29;
      s += 8;
    }
    h = (h ^ imb_rd64_i(end)) * IMB_GOLDEN;
  } else if (n >= 4) {
    h = (h ^ ((uint64_t)imb_rd32_i(s) << 32 | imb_rd32_i(s + n - 4))) * IMB_GOLDEN;
  } else if (n) {
    uint64_t t = (uint64_t)s[0] | (uint64_t)s[n / 2] << 8 | (uint64_t)s[n - 1] << 16;
    h = (h ^ t) * IMB_GOLDEN;
  }
  return imb_fmix64_i(h);
}

/* ---- inline forms of the hot lookups (meter.c's login loop calls these so
 * that each login is one straight run of code, not a chain of calls) ---- */

static inline unsigned char *imb_intern_entry_i(const imb_intern *t, uint32_t at) {
  return (unsigned char *)t->chunk[at >> IMB_CHUNK_BITS] + (at & (((uint32_t)1 << IMB_CHUNK_BITS) - 1));
}

/* The slot keeps the hash's low 32 bits as a tag, and the home position is
 * taken from the same bits, so growing never reads the ids again (each read
 * would be a cache miss).  Entries sharing a probe chain share only the low
 * log2(cap) bits; the rest of the tag still rules out almost every mismatch,
 * and a match is always confirmed on the id's bytes. */
static inline uint32_t imb_intern_home_i(uint64_t h, uint32_t mask) { return (uint32_t)h & mask; }
#define IMB_INTERN_TAG(h) ((uint64_t)(uint32_t)(h) << 32)

/* Ids are short: compare 8 bytes at a time inline rather than call memcmp. */
static inline int imb_intern_same_i(const unsigned char *a, const char *b, size_t n) {
  while (n >= 8) {
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    if (x != y) return 0;
    a += 8;
    b += 8;
    n -= 8;
  }
  while (n--)
    if (*a++ != (unsigned char)*b++) return 0;
  return 1;
}

static inline int imb_intern_find_at_i(const imb_intern *t, const char *s, size_t len, uint64_t h, uint32_t *idx,
                                        uint32_t *at) {
  if (!t->cap) return 0;
  uint32_t mask = t->cap - 1, j = imb_intern_home_i(h, mask);
  uint64_t tag = IMB_INTERN_TAG(h);
  for (;;) {
    uint64_t y = t->slot[j];
    if (!y) return 0;
    if ((y & 0xFFFFFFFF00000000ull) == tag) {
      uint32_t off = (uint32_t)y - 1;
      const unsigned char *p = imb_intern_entry_i(t, off);
      size_t l = (size_t)p[0] | ((size_t)p[1] << 8);
      if (l == len && imb_intern_same_i(p + t->head, s, len)) {
        memcpy(idx, p + 2, 4);
        if (at) *at = off;
        return 1;
      }
    }
    j = (j + 1) & mask;
  }
}

static inline unsigned char *imb_intern_extra_i(const imb_intern *t, uint32_t at) {
  return imb_intern_entry_i(t, at) + IMB_ENTRY_HEAD;
}

static inline void imb_intern_prefetch_slot_i(const imb_intern *t, uint64_t h) {
#if defined(__GNUC__)
  if (t->cap) __builtin_prefetch(&t->slot[imb_intern_home_i(h, t->cap - 1)]);
#else
  (void)t;
  (void)h;
#endif
}

/* Prefetches the entry of the first slot from home whose tag matches (with
 * linear probing at 3/4 load, a third of the ids are not in their home slot);
 * a hint only, so it gives up at the end of the slot's cache line. */
static inline void imb_intern_prefetch_entry_i(const imb_intern *t, uint64_t h) {
#if defined(__GNUC__)
  if (!t->cap) return;
  uint32_t mask = t->cap - 1, j = imb_intern_home_i(h, mask);
  uint64_t tag = IMB_INTERN_TAG(h);
  for (;;) {
    uint64_t y = t->slot[j];
    if (!y) return;
    if ((y & 0xFFFFFFFF00000000ull) == tag) {
      /* an entry is not aligned to a cache line: its id may start the next
       * one (typical ids are under 16 bytes) */
      const char *p = (const char *)imb_intern_entry_i(t, (uint32_t)y - 1);
      __builtin_prefetch(p, 1);
      __builtin_prefetch(p + t->head + 15, 1);
      return;
    }
    j = (j + 1) & mask;
    if (!(j & 7)) return;
  }
#else
  (void)t;
  (void)h;
#endif
}

IMB_HIDDEN_END

#endif
