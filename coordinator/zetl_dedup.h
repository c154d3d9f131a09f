/*  zetl_dedup - the coordinator's set of recently accepted records

    Answers "was this record accepted before?" for DESIGN §5. A record is a
    DUPLICATE when a key with the same id and the same content (the 128-bit
    hash from zetl_record_hash) was accepted within `dedup_window` of its event
    time, |event time - accepted event time| <= window; it is dropped. The same
    id with other content within the window is an ID_CONFLICT (another version,
    or an id collision): it goes on and is remembered too, so an exact replay
    of ANY remembered version is still a duplicate. Without an id the content
    hash alone is the key.

    A pure data structure: no sockets, no threads, no logging. One per
    pipeline, owned by the coordinator's dispatch actor, which calls
    zetl_dedup_check_insert (or the _key/_batch forms) for each record,
    zetl_dedup_expire once per loop turn with the pipeline watermark, and
    reads zetl_dedup_stats for metrics and logs (see docs/DEDUP.md).

    How it works. Every key is a 16-byte slot in one fingerprint index, split
    by hash into segments of whole pages (about 64 KiB each at the budget;
    open addressing, Robin Hood linear probing), so a lookup reads one to
    four adjacent cache lines whatever the window. A slot also holds its
    time bucket (a tag) and its exact event time within the bucket, so the
    window is exact to the microsecond. Buckets are window / 64 wide (1 s
    .. 268 s) and kept in event-time order: the watermark expires a bucket
    once its newest event time < watermark - window, and the budget evicts
    the oldest bucket early. Either forgets all its keys at once; their
    slots are reclaimed lazily, when their segment fills (a purge) or by a
    bounded sweep inside zetl_dedup_expire.

    Memory. Every byte allocated is counted: segment pages (mmap, resident
    once used, given back when a segment shrinks), the segment and bucket
    tables and this object; not malloc's own headers on the four tables.
    bytes never exceeds budget_bytes, not even while a segment is being
    resized. A segment keeps 11/16 to 4/5 of its slots for remembered keys,
    so a key costs 20 to 23.3 bytes, plus the fixed tables (0.3% of a 256
    MiB budget); measured at 10 M keys: 20.2 bytes a key while growing, 22.9
    at steady state with expiry. When an insert would need more than the
    budget, the oldest bucket is evicted early: its keys are counted in
    evicted_early and the window actually held shrinks (effective_window_us).
    Nothing is forgotten silently.

    False duplicates. A slot keeps 34 bits of the id's hash (another 12 at
    256 MiB, log2 of the number of segments, choose its segment) and 52
    bits of the content hash xor the id's second hash. A new record is taken
    for a duplicate only if a remembered key within the window matches all
    of them:
      - another version of the same id (same id, other content): 2^-52 =
        2.2e-16 per such version remembered;
      - a key of another id: live_keys * 2^-(34 + 12 + 52), 4.6e-23 at the
        most a 256 MiB budget holds (14.6 M keys).
    Below 1e-12 per record at the budget's capacity while an id has fewer
    than 4500 versions in one window. A false ID_CONFLICT (another id with
    the same 46 id bits) costs a count only: keys in the segment / 2^34,
    at most 2.1e-7 per record. (Hashes, not a defence against collisions
    crafted on purpose.) See docs/DEDUP.md.

    Event times are int64 microseconds since the epoch, UTC; values beyond
    +-2^62 (about +-146 000 years) are clamped.
*/
#ifndef ZETL_DEDUP_H_INCLUDED
#define ZETL_DEDUP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZETL_DEDUP_MIN_BUDGET (1024 * 1024)            //  smallest budget_bytes accepted
#define ZETL_DEDUP_DEFAULT_BUDGET (256 * 1024 * 1024)  //  dedup_memory default: 256 MiB

typedef enum {
    ZETL_DEDUP_NEW,          //  not seen in the window: pass it on (remembered now)
    ZETL_DEDUP_DUPLICATE,    //  same id, same content in the window: drop it
    ZETL_DEDUP_ID_CONFLICT,  //  same id, other content: pass it on (remembered now)
} zetl_dedup_result_t;

//  A record's key, hashed once: build it with zetl_dedup_key. A plain value
//  the caller owns (on the stack, in an array); nothing to destroy.
typedef struct {
    uint64_t fp;       //  XXH3-128 of the id, low half; no id: content hash bytes 0..7
    uint64_t content;  //  content hash bytes 8..15, xor the id hash's high half
    int64_t event_us;  //  event time, µs since the epoch, clamped to +-2^62
} zetl_dedup_key_t;

typedef struct {
    uint64_t keys;                //  keys remembered now
    uint64_t bytes;               //  bytes allocated now, all of it
    uint64_t peak_bytes;          //  most bytes ever allocated at once (<= budget_bytes)
    uint64_t budget_bytes;        //  dedup_memory
    uint64_t buckets;             //  time buckets holding keys
    uint64_t inserted;            //  keys remembered so far (NEW + ID_CONFLICT)
    uint64_t duplicates;          //  DUPLICATE answers: records dropped
    uint64_t id_conflicts;        //  ID_CONFLICT answers
    uint64_t expired;             //  keys forgotten by the watermark (the normal way)
    uint64_t evicted_early;       //  keys forgotten early to stay in the budget
    uint64_t evictions;           //  buckets evicted early
    uint64_t dead_slots;          //  slots of forgotten keys not yet reclaimed
    int64_t window_us;            //  dedup_window
    int64_t bucket_width_us;      //  width of a time bucket
    int64_t effective_window_us;  //  newest - oldest event time remembered; 0 when empty
    int64_t eviction_window_us;   //  effective_window_us right after the last eviction; 0 if none
} zetl_dedup_stats_t;

typedef struct zetl_dedup zetl_dedup_t;

//  Create an empty set for WINDOW_US (>= 0) within BUDGET_BYTES
//  (>= ZETL_DEDUP_MIN_BUDGET). Returns NULL if either is out of range.
//  Allocates the fixed tables at once (0.3% of 256 MiB, under 2% of any
//  budget); segments get pages as keys come.
zetl_dedup_t *zetl_dedup_new (int64_t window_us, size_t budget_bytes);

//  Destroy the set and set *self_p to NULL. Does nothing if *self_p is NULL.
void zetl_dedup_destroy (zetl_dedup_t **self_p);

//  Fill *KEY for a record: ID/ID_LEN its id_field value (NULL or 0 bytes:
//  no id, the content hash alone is the key), CONTENT_HASH its 16-byte
//  zetl_record_hash, EVENT_US its event time. Borrows nothing. Pure, so it
//  can run before the set is touched (e.g. while a batch is decoded).
void zetl_dedup_key (zetl_dedup_key_t *key, const void *id, size_t id_len,
                     const uint8_t content_hash[16], int64_t event_us);

//  Check KEY and remember it unless it is a duplicate. Returns
//  ZETL_DEDUP_NEW, ZETL_DEDUP_DUPLICATE or ZETL_DEDUP_ID_CONFLICT and counts
//  it. May evict the oldest bucket to stay in the budget (counted), and may
//  purge or resize one segment (bounded work: one segment, about 64 KiB).
zetl_dedup_result_t zetl_dedup_check_insert_key (zetl_dedup_t *self, const zetl_dedup_key_t *key);

//  Same as zetl_dedup_key then zetl_dedup_check_insert_key.
zetl_dedup_result_t zetl_dedup_check_insert (zetl_dedup_t *self, const void *id, size_t id_len,
                                             const uint8_t content_hash[16], int64_t event_us);

//  zetl_dedup_check_insert_key on KEYS[0..COUNT) in order, answers in
//  RESULTS[0..COUNT). The same answers as one call per key (a duplicate
//  inside the batch is found), but faster on a large set: it prefetches the
//  slots of the keys a few places ahead. Borrows KEYS for the call.
void zetl_dedup_check_insert_batch (zetl_dedup_t *self, const zetl_dedup_key_t *keys, size_t count,
                                    zetl_dedup_result_t *results);

//  Hint that KEY will be checked soon: starts loading its slots into the
//  cache. Changes nothing, counts nothing; for callers that pipeline their
//  own loop as zetl_dedup_check_insert_batch does (8 keys ahead is good).
void zetl_dedup_prefetch (zetl_dedup_t *self, const zetl_dedup_key_t *key);

//  The first of two prefetch stages: starts loading the segment header
//  that zetl_dedup_prefetch reads to find KEY's slots, so that it does not
//  wait for it. Call it about twice as far ahead (16 keys). Changes nothing.
void zetl_dedup_prefetch_segment (zetl_dedup_t *self, const zetl_dedup_key_t *key);

//  What zetl_dedup_check_insert_key would answer, without remembering or
//  counting anything.
zetl_dedup_result_t zetl_dedup_check (zetl_dedup_t *self, const zetl_dedup_key_t *key);

//  Forget, oldest first, at most MAX_BUCKETS (>= 1) buckets whose newest
//  event time < WATERMARK_US - window (counted in expired). Then, for a
//  pass each time the keys have fallen by 1/8, or while free tags run
//  short, sweep 2 or 8 segments: reclaim the slots of forgotten keys and
//  shrink sparse segments, which is when bytes go down. Bounded work, meant
//  to be called once per loop turn. Returns 1 while work is left, 0 when
//  there is none; calling it until 0 is fine when idle.
int zetl_dedup_expire (zetl_dedup_t *self, int64_t watermark_us, size_t max_buckets);

//  Fill *STATS with the counters and sizes now. A caller that sees
//  evictions grow logs dedup_evicted_early (warn) with the keys evicted and
//  eviction_window_us, and exports evicted_early as
//  dedup_evicted_early_total. inserted = keys + expired + evicted_early.
void zetl_dedup_stats (zetl_dedup_t *self, zetl_dedup_stats_t *stats);

#endif
