/* Exact sets for distinct counting.  Billing needs exact unique users (a
 * sketch's 0.8% error is close to one 10,000-DAU block), so user ids are
 * interned once to dense uint32 indices and every per-day, per-month, per-group
 * and per-user set holds those 4-byte indices instead of strings. */
#ifndef IMB_IDSET_H
#define IMB_IDSET_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

/* Largest index an intern table hands out; v+1 must fit a slot and never be 0. */
#define IMB_IDX_MAX 0xFFFFFFF0u
#define IMB_ID_MAXLEN 65535u
#define IMB_ENTRY_HEAD 6 /* [len:u16][index:u32][extra bytes] before an id's bytes */
#define IMB_ENTRY_EXTRA_MAX 16
/* The arena is a list of chunks so that growing it never copies (or doubles)
 * the ids already there; an offset is (chunk << IMB_CHUNK_BITS) | position. */
#define IMB_CHUNK_BITS 21

IMB_API uint64_t imb_hash_bytes(const void *p, size_t n);

/* Open addressing with linear probing over v+1 (0 marks an empty slot).  Load
 * stays at or under 3/4, so a set of n values costs 5.3 to 10.7 bytes a value. */
typedef struct imb_u32set {
  uint32_t *slot;
  uint32_t cap; /* 0 or a power of two */
  uint32_t n;
} imb_u32set;

IMB_API void imb_u32set_init(imb_u32set *s);
IMB_API void imb_u32set_free(imb_u32set *s);
/* 1 added, 0 already there, -1 out of memory (the set is unchanged). */
IMB_API int imb_u32set_add(imb_u32set *s, uint32_t v);
IMB_API int imb_u32set_has(const imb_u32set *s, uint32_t v);
/* 1 removed, 0 was not there. */
IMB_API int imb_u32set_del(imb_u32set *s, uint32_t v);
IMB_API size_t imb_u32set_bytes(const imb_u32set *s);

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

IMB_API void imb_intern_init(imb_intern *t);
/* A table whose entries carry `extra` zeroed bytes (at most IMB_ENTRY_EXTRA_MAX)
 * beside each id: state read on every hit sits on the cache line the id is on. */
IMB_API void imb_intern_init_extra(imb_intern *t, uint32_t extra);
IMB_API void imb_intern_free(imb_intern *t);
/* 1 found (*idx set), 0 not found. */
IMB_API int imb_intern_find(const imb_intern *t, const char *s, size_t len, uint64_t h, uint32_t *idx);
/* Also gives the entry's offset, for the word accessors below. */
IMB_API int imb_intern_find_at(const imb_intern *t, const char *s, size_t len, uint64_t h, uint32_t *idx,
                               uint32_t *at);
/* Finds or adds; *created tells which.  IMB_ERANGE for an id over 65535 bytes,
 * IMB_ENOMEM when memory or the 4 GiB arena runs out. */
IMB_API imb_status imb_intern_get(imb_intern *t, const char *s, size_t len, uint32_t *idx, int *created);
/* Adds an id known to be absent, with its hash (imb_intern_find said no):
 * a new user is hashed and looked up once, not twice.  *at: its entry. */
IMB_API imb_status imb_intern_add(imb_intern *t, const char *s, size_t len, uint64_t h, uint32_t *idx,
                                  uint32_t *at);
IMB_API const char *imb_intern_str(const imb_intern *t, uint32_t idx, size_t *len);
/* The entry offset of an index, and the extra bytes of the entry at an offset. */
IMB_API uint32_t imb_intern_at(const imb_intern *t, uint32_t idx);
IMB_API unsigned char *imb_intern_extra(const imb_intern *t, uint32_t at);
/* Prefetch hints for batched lookups: the home slot, then (once that is in
 * cache) the entry its first occupied slot points to. */
IMB_API void imb_intern_prefetch_slot(const imb_intern *t, uint64_t h);
IMB_API void imb_intern_prefetch_entry(const imb_intern *t, uint64_t h);
IMB_API size_t imb_intern_bytes(const imb_intern *t);

#endif
