/*  zetl_dedup_internal - the duplicate filter's state, shared by its three files

    Internal to coordinator/: zetl_dedup.c holds the fingerprint index and
    everything done per key (lookup, insert, prefetch) plus the public API;
    zetl_dedup_buckets.c the time buckets and their tags (made, forgotten,
    freed); zetl_dedup_segments.c the segments' memory (pages, accounting,
    purge, resize, the sweep). One thread (the owner of the zetl_dedup_t)
    uses it.

    A slot is two words (16 bytes):
        w0 = id34 << 30 | content52 & (2^30 - 1)
        w1 = content52 >> 30 << 42 | tag << 28 | offset
    id34: the low 34 bits of the key's fp (its top bits pick the segment);
    content52: the top 52 bits of the content word; tag: the time bucket
    (0 = empty slot); offset: event time - bucket start, in µs (< 2^28).
    A slot's home is (id34 * capacity) >> 34, so the keys of one id share a
    home and a probe compares only the run of slots around it.

    Forgetting a bucket flips its tag to dying; its slots stay until a purge
    of their segment removes them, and the tag is free again once the sweep
    has passed every segment since.
*/
#ifndef ZETL_DEDUP_INTERNAL_H_INCLUDED
#define ZETL_DEDUP_INTERNAL_H_INCLUDED

#include "zetl_dedup.h"

#define ZETL_DEDUP_OFFSET_BITS 28
#define ZETL_DEDUP_ID_SHIFT 30                //  w0 >> 30 is id34
#define ZETL_DEDUP_CONTENT_SHIFT 42           //  w1 >> 42 is content52's top 22 bits
#define ZETL_DEDUP_TAG_MASK ((1u << 14) - 1)  //  tags 1..16383; 0 marks an empty slot
#define ZETL_DEDUP_OFFSET_MASK ((1u << ZETL_DEDUP_OFFSET_BITS) - 1)
typedef struct {
    uint64_t w0, w1;
} zetl_dedup_slot_t;

typedef struct {
    zetl_dedup_slot_t *slots;  //  capacity slots, owned (mmap), or NULL
    uint32_t capacity;         //  slots, a whole number of pages
    uint32_t used;             //  slots holding a key, remembered or forgotten
    uint32_t deaths_seen;      //  self->deaths at its last purge: no forgotten keys since
} zetl_dedup_segment_t;

typedef enum {
    ZETL_DEDUP_TAG_FREE,
    ZETL_DEDUP_TAG_LIVE,
    ZETL_DEDUP_TAG_DYING
} zetl_dedup_tag_state_t;

typedef struct {
    int64_t start_us;  //  bucket start: event times [start_us, start_us + width)
    uint64_t keys;     //  LIVE: keys remembered in it
    uint32_t min_off;  //  LIVE: oldest event time in it - start_us
    uint32_t max_off;  //  LIVE: newest event time in it - start_us
    uint32_t state;    //  zetl_dedup_tag_state_t
    uint32_t pass;     //  DYING: sweep pass when it died
} zetl_dedup_tag_t;

struct zetl_dedup {
    int64_t window_us;               //  dedup_window
    int64_t width_us;                //  bucket width
    size_t budget_bytes;             //  never more allocated than this
    size_t bytes;                    //  allocated now
    size_t peak_bytes;               //  most allocated at once
    zetl_dedup_segment_t *segments;  //  nsegments, owned
    uint32_t nsegments;              //  a power of two
    uint32_t segment_shift;          //  segment = (fp >> 48) >> segment_shift
    uint32_t page_slots;             //  slots in a page
    zetl_dedup_tag_t *tags;          //  ntags, owned; [0] unused
    uint8_t *live;                   //  ntags, owned: 1 where the tag's bucket is remembered
    uint16_t *order;                 //  the nbuckets live tags by start_us, owned (ntags long)
    uint32_t ntags;                  //  tags in the tables, including the unused 0
    uint32_t nbuckets;               //  live buckets
    uint32_t next_tag;               //  where the search for a free tag starts
    uint32_t last_tag;               //  the bucket used last, or 0
    uint32_t deaths;                 //  buckets forgotten so far (wraps)
    uint32_t dying;                  //  tags waiting for the sweep
    uint32_t sweep_cursor;           //  next segment the sweep visits
    uint32_t sweep_pass;             //  full sweeps since creation
    uint64_t keys;                   //  keys remembered
    uint64_t keys_high;              //  most keys since the last shrinking pass began
    uint32_t shrink_left;            //  segments the shrinking pass has still to sweep
    uint64_t used;                   //  slots used, in all segments
    uint64_t inserted, duplicates, id_conflicts, expired, evicted_early, evictions;
    int64_t eviction_window_us;  //  effective window after the last eviction
};

static inline uint32_t
zetl_dedup_slot_home (uint64_t w0, uint32_t capacity)
{
    return (uint32_t) (((w0 >> ZETL_DEDUP_ID_SHIFT) * capacity) >> 34);
}

static inline uint32_t
zetl_dedup_slot_tag (const zetl_dedup_slot_t *slot)
{
    return (uint32_t) (slot->w1 >> ZETL_DEDUP_OFFSET_BITS) & ZETL_DEDUP_TAG_MASK;
}

static inline uint32_t
zetl_dedup_distance (uint32_t index, uint32_t home, uint32_t capacity)
{
    return index >= home ? index - home : index + capacity - home;
}

//  GCC 12 drops an inlined __builtin_prefetch whose address needs loads from
//  the object (a segment's slots, capacity): on x86 it is written out
static inline void
zetl_dedup_prefetch_line (const void *address)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *) address));
#else
    __builtin_prefetch (address);
#endif
}

//  Loads: a segment is full at 7/8 of its slots used (by keys remembered or
//  forgotten); over 4/5 remembered it grows to 18/25 rounded up to a page,
//  so that forgotten keys have room to pile up between purges; under 11/16
//  (sparse) it shrinks. A key costs 20 to 23.3 bytes.
#define ZETL_DEDUP_MAX_USED(capacity) ((capacity) - (capacity) / 8)
#define ZETL_DEDUP_SPARSE(segment)                                                                 \
    ((segment)->used < (segment)->capacity - (segment)->capacity / 16 * 5)

//  zetl_dedup.c: Robin Hood insert of ENTRY into SEGMENT, which has room.
//  Where it would displace a forgotten key it takes that slot instead.
void zetl_dedup_place (zetl_dedup_t *self, zetl_dedup_segment_t *segment, zetl_dedup_slot_t entry);

//  zetl_dedup_segments.c: the capacity, in whole pages and at least one,
//  for N keys at load 18/25.
uint32_t zetl_dedup_capacity_for (const zetl_dedup_t *self, uint64_t n);

//  zetl_dedup_segments.c: count ADDED bytes allocated and REMOVED freed
//  (ADDED first: the peak, asserted within the budget, holds both).
void zetl_dedup_account (zetl_dedup_t *self, size_t added, size_t removed);

//  zetl_dedup_segments.c: remove every forgotten key from SEGMENT.
void zetl_dedup_purge (zetl_dedup_t *self, zetl_dedup_segment_t *segment);

//  zetl_dedup_segments.c: give back SLOTS, CAPACITY slots from the
//  segments' allocator (NULL: nothing to do).
void zetl_dedup_slots_destroy (zetl_dedup_slot_t *slots, uint32_t capacity);

//  zetl_dedup_segments.c: move SEGMENT's remembered keys into CAPACITY new
//  slots, if both arrays fit in the budget together. Returns whether it did.
bool zetl_dedup_resize (zetl_dedup_t *self, zetl_dedup_segment_t *segment, uint32_t capacity);

//  zetl_dedup_segments.c: sweep STEPS segments: purge each, shrink it if
//  sparse and the budget allows; a pass that wraps frees dying tags.
void zetl_dedup_sweep (zetl_dedup_t *self, uint32_t steps);

//  zetl_dedup_buckets.c: newest - oldest event time remembered; 0 when empty.
int64_t zetl_dedup_effective_window (const zetl_dedup_t *self);

//  zetl_dedup_buckets.c: forget the oldest bucket, all its keys at once
//  (their slots go later): EARLY, evicted to stay in the budget, else expired.
void zetl_dedup_forget_oldest (zetl_dedup_t *self, bool early);

//  zetl_dedup_buckets.c: free the dying tags that every segment has been
//  purged of since they died: those of two passes ago, or ALL.
void zetl_dedup_free_tags (zetl_dedup_t *self, bool all);

//  zetl_dedup_buckets.c: the tag of the bucket starting at START_US (that of
//  EVENT_US), found or made, when it is not the bucket used last.
uint32_t zetl_dedup_bucket_find (zetl_dedup_t *self, int64_t event_us, int64_t start_us);

#endif
