/*  zetl_lookup_cache - a worker's bounded cache of lookup table rows

    Sits in front of Redis for enrichment, holding rows of zetl_lut's
    tables. An entry is keyed by (table index, table version, key bytes)
    and holds either a value (opaque bytes: the packed msgpack map of the
    row, never looked into) or a negative entry: the key is known to be
    missing from that version.

    Ages. Every entry keeps the time it was fetched, and a lookup answers
      - FRESH when its age < ttl_ms (negative_ttl_ms for a negative entry):
        use it;
      - STALE when ttl <= age < max_stale_ms: use it only if Redis cannot be
        reached (the caller decides), otherwise fetch it again;
      - MISS when there is no entry, or its age >= max_stale_ms (the entry
        is dropped then): fetch it.
    Times are milliseconds on any monotonic clock (zclock_mono), passed in:
    nothing here reads a clock. A clock that steps back reads as age 0.

    Bounds. At most max_entries entries and max_bytes bytes, where an
    entry's bytes are its one allocation as glibc's malloc sizes it: the
    entry header (72 bytes), the key and the value, plus malloc's 8-byte
    header, rounded up to 16 (zetl_lookup_cache_entry_bytes; exact below
    malloc's 128 KiB mmap threshold). An insert past either bound evicts
    least recently used entries first (a FRESH or STALE answer counts as a
    use). An entry too large for max_bytes on its own, or with a key or a
    value of 4 GiB or more, is refused: not cached. The index is allocated
    once, at new: 16 bytes a slot, twice max_entries slots rounded up to a
    power of two (4 MiB for 100 000 entries). It is reported as index_bytes,
    apart from bytes.

    Cost. A hash of the key (XXH3), one probe in an open-addressing index
    (linear probing, never more than half full, so about 1.5 slots read),
    a key compare and an LRU move: O(1), and a lookup allocates nothing.
    An insert allocates its entry once; an eviction frees one. A hit costs
    about 20 ns while the entries stay in the CPU caches; beyond them it
    waits for memory twice, for the slot and then for the entry
    (tests/bench/lookup_cache_bench measures both).

    Versions. A table switched to version V (pushed to the worker) calls
    zetl_lookup_cache_drop_older: that walks the entries of that table
    only (each table keeps its own list), not the whole cache. An insert
    finds its table's list by a scan of the tables cached (a handful).

    One per worker process, owned by the thread that enriches records: no
    locks, so only that thread may call it.
*/
#ifndef ZETL_LOOKUP_CACHE_H_INCLUDED
#define ZETL_LOOKUP_CACHE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZETL_LOOKUP_CACHE_MAX_ENTRIES_LIMIT ((size_t) 1 << 26)  //  largest max_entries accepted
#define ZETL_LOOKUP_CACHE_MIN_BYTES ((size_t) 4096)             //  smallest max_bytes accepted

typedef struct {
    size_t max_entries;       //  at most this many entries; default 100 000
    size_t max_bytes;         //  at most this many entry bytes; default 64 MiB
    int64_t ttl_ms;           //  a value is FRESH this long; default 60 s
    int64_t negative_ttl_ms;  //  a negative entry is FRESH this long; default 10 s
    int64_t max_stale_ms;     //  after this any entry is a MISS; default 10 min
} zetl_lookup_cache_config_t;

typedef enum {
    ZETL_LOOKUP_CACHE_MISS,   //  not cached, or too old to use at all: fetch it
    ZETL_LOOKUP_CACHE_FRESH,  //  cached and young enough: use it
    ZETL_LOOKUP_CACHE_STALE,  //  usable only while the store cannot be reached
} zetl_lookup_cache_status_t;

typedef struct {
    const void *value;  //  the value, or NULL for a negative entry or a MISS
    size_t size;        //  its size in bytes (0 for a negative entry or a MISS)
    bool negative;      //  the key is known to be missing from that version
    int64_t age_ms;     //  now - fetched time (>= 0); 0 on a MISS
} zetl_lookup_cache_result_t;

typedef struct {
    uint64_t hits;           //  FRESH answers (values and negative entries)
    uint64_t stale_hits;     //  STALE answers
    uint64_t misses;         //  MISS answers; lookups = hits + stale_hits + misses
    uint64_t negative_hits;  //  FRESH or STALE answers that were negative entries
    uint64_t inserts;        //  entries cached (values and negative entries)
    uint64_t evictions;      //  entries evicted to stay within max_entries or max_bytes
    uint64_t expired;        //  entries dropped by a lookup at age >= max_stale_ms
    uint64_t dropped;        //  entries dropped by zetl_lookup_cache_drop_older
    uint64_t refused;        //  inserts refused: the entry alone is over max_bytes
    uint64_t entries;        //  entries cached now
    uint64_t bytes;          //  their bytes now (<= max_bytes)
    uint64_t index_bytes;    //  the index, fixed at new
} zetl_lookup_cache_stats_t;

typedef struct zetl_lookup_cache zetl_lookup_cache_t;

//  Fill *CONFIG with the defaults.
void zetl_lookup_cache_config_defaults (zetl_lookup_cache_config_t *config);

//  Create an empty cache with CONFIG (copied; NULL: the defaults). Returns
//  NULL when a value is out of range: max_entries 1 ..
//  ZETL_LOOKUP_CACHE_MAX_ENTRIES_LIMIT, max_bytes >= ZETL_LOOKUP_CACHE_MIN_BYTES,
//  0 <= ttl_ms <= max_stale_ms and 0 <= negative_ttl_ms <= max_stale_ms.
//  Caller owns the result.
zetl_lookup_cache_t *zetl_lookup_cache_new (const zetl_lookup_cache_config_t *config);

//  Destroy the cache and set *self_p to NULL. Does nothing if *self_p is NULL.
void zetl_lookup_cache_destroy (zetl_lookup_cache_t **self_p);

//  Look up KEY/LEN in version VERSION of table TABLE at NOW_MS; fill
//  *RESULT and return FRESH, STALE or MISS (see above). FRESH and STALE
//  make the entry the most recently used; a MISS on an entry at age >=
//  max_stale_ms drops it. RESULT->value is borrowed: valid until the next
//  insert, insert_negative, drop_older or destroy on this cache (lookups
//  keep it valid, so one record can hold the rows of several lookups).
zetl_lookup_cache_status_t zetl_lookup_cache_lookup (zetl_lookup_cache_t *self, uint32_t table,
                                                     uint64_t version, const void *key, size_t len,
                                                     int64_t now_ms,
                                                     zetl_lookup_cache_result_t *result);

//  Cache VALUE/SIZE (copied) for KEY/LEN in VERSION of TABLE, fetched at
//  NOW_MS, in place of any entry of the same key. Evicts least recently
//  used entries as needed. Returns 0, or -1 when the entry alone would be
//  over max_bytes, or KEY or VALUE is 4 GiB or more: then nothing is cached
//  (an older entry of the same key is dropped too) and refused is counted.
int zetl_lookup_cache_insert (zetl_lookup_cache_t *self, uint32_t table, uint64_t version,
                              const void *key, size_t len, const void *value, size_t size,
                              int64_t now_ms);

//  Cache a negative entry for KEY/LEN in VERSION of TABLE (the store
//  answered: no such key), fetched at NOW_MS, in place of any entry of the
//  same key. Returns 0, or -1 as zetl_lookup_cache_insert does.
int zetl_lookup_cache_insert_negative (zetl_lookup_cache_t *self, uint32_t table, uint64_t version,
                                       const void *key, size_t len, int64_t now_ms);

//  Table TABLE switched to VERSION: drop every entry of TABLE with an older
//  version (newer ones stay). Returns how many were dropped. Costs one
//  step per entry of TABLE, whatever its version; other tables are not
//  visited.
size_t zetl_lookup_cache_drop_older (zetl_lookup_cache_t *self, uint32_t table, uint64_t version);

//  The bytes an entry of a LEN-byte key and a SIZE-byte value counts for
//  (a negative entry: SIZE 0). Above max_bytes, it is refused.
size_t zetl_lookup_cache_entry_bytes (size_t len, size_t size);

//  Return the counters and sizes now.
zetl_lookup_cache_stats_t zetl_lookup_cache_stats (const zetl_lookup_cache_t *self);

#endif
