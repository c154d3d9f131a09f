/*  zetl_dedup - the coordinator's set of recently accepted records

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
#include "zetl_dedup.h"

#include <assert.h>
#include <czmq.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xxhash.h>

#define S_OFFSET_BITS 28
#define S_ID_SHIFT 30                //  w0 >> 30 is id34
#define S_CONTENT_SHIFT 42           //  w1 >> 42 is content52's top 22 bits
#define S_TAG_MASK ((1u << 14) - 1)  //  tags 1..16383; 0 marks an empty slot
#define S_OFFSET_MASK ((1u << S_OFFSET_BITS) - 1)
#define S_SEGMENT_BYTES (64 * 1024)  //  a segment's size at the budget, about
#define S_MAX_SEGMENT_BITS 16
#define S_SWEEP_SLOW 2      //  segments swept per zetl_dedup_expire after keys fell
#define S_SWEEP_FAST 8      //  the same when free tags run short
#define S_PREFETCH_AHEAD 8  //  keys prefetched ahead in a batch
#define S_TIME_LIMIT ((int64_t) 1 << 62)

typedef struct {
    uint64_t w0, w1;
} s_slot_t;

typedef struct {
    s_slot_t *slots;       //  capacity slots, owned (mmap), or NULL
    uint32_t capacity;     //  slots, a whole number of pages
    uint32_t used;         //  slots holding a key, remembered or forgotten
    uint32_t deaths_seen;  //  self->deaths at its last purge: no forgotten keys since
} s_segment_t;

typedef enum { S_TAG_FREE, S_TAG_LIVE, S_TAG_DYING } s_tag_state_t;

typedef struct {
    int64_t start_us;  //  bucket start: event times [start_us, start_us + width)
    uint64_t keys;     //  LIVE: keys remembered in it
    uint32_t min_off;  //  LIVE: oldest event time in it - start_us
    uint32_t max_off;  //  LIVE: newest event time in it - start_us
    uint32_t state;    //  s_tag_state_t
    uint32_t pass;     //  DYING: sweep pass when it died
} s_tag_t;

struct zetl_dedup {
    int64_t window_us;       //  dedup_window
    int64_t width_us;        //  bucket width
    size_t budget_bytes;     //  never more allocated than this
    size_t bytes;            //  allocated now
    size_t peak_bytes;       //  most allocated at once
    s_segment_t *segments;   //  nsegments, owned
    uint32_t nsegments;      //  a power of two
    uint32_t segment_shift;  //  segment = (fp >> 48) >> segment_shift
    uint32_t page_slots;     //  slots in a page
    s_tag_t *tags;           //  ntags, owned; [0] unused
    uint8_t *live;           //  ntags, owned: 1 where the tag's bucket is remembered
    uint16_t *order;         //  the nbuckets live tags by start_us, owned (ntags long)
    uint32_t ntags;          //  tags in the tables, including the unused 0
    uint32_t nbuckets;       //  live buckets
    uint32_t next_tag;       //  where the search for a free tag starts
    uint32_t last_tag;       //  the bucket used last, or 0
    uint32_t deaths;         //  buckets forgotten so far (wraps)
    uint32_t dying;          //  tags waiting for the sweep
    uint32_t sweep_cursor;   //  next segment the sweep visits
    uint32_t sweep_pass;     //  full sweeps since creation
    uint64_t keys;           //  keys remembered
    uint64_t keys_high;      //  most keys since the last shrinking pass began
    uint32_t shrink_left;    //  segments the shrinking pass has still to sweep
    uint64_t used;           //  slots used, in all segments
    uint64_t inserted, duplicates, id_conflicts, expired, evicted_early, evictions;
    int64_t eviction_window_us;  //  effective window after the last eviction
};

static inline uint32_t
s_home (uint64_t w0, uint32_t capacity)
{
    return (uint32_t) (((w0 >> S_ID_SHIFT) * capacity) >> 34);
}

static inline uint32_t
s_tag (const s_slot_t *slot)
{
    return (uint32_t) (slot->w1 >> S_OFFSET_BITS) & S_TAG_MASK;
}

static inline uint32_t
s_distance (uint32_t index, uint32_t home, uint32_t capacity)
{
    return index >= home ? index - home : index + capacity - home;
}

static inline s_segment_t *
s_segment_of (zetl_dedup_t *self, uint64_t fp)
{
    return &self->segments[(fp >> 48) >> self->segment_shift];
}

//  Loads: a segment is full at 7/8 of its slots used (by keys remembered or
//  forgotten); over 4/5 remembered it grows to 18/25 rounded up to a page,
//  so that forgotten keys have room to pile up between purges; under 11/16
//  (sparse) it shrinks. A key costs 20 to 23.3 bytes.
#define S_MAX_USED(capacity) ((capacity) - (capacity) / 8)
#define S_SPARSE(segment) ((segment)->used < (segment)->capacity - (segment)->capacity / 16 * 5)

//  The capacity, in whole pages and at least one, for N keys at load 18/25
static uint32_t
s_capacity_for (const zetl_dedup_t *self, uint64_t n)
{
    uint64_t pages = (n * 25 / 18 + self->page_slots) / self->page_slots;
    return (uint32_t) (pages * self->page_slots);
}

static void
s_account (zetl_dedup_t *self, size_t added, size_t removed)
{
    self->bytes += added;
    self->peak_bytes = self->bytes > self->peak_bytes ? self->bytes : self->peak_bytes;
    assert (self->peak_bytes <= self->budget_bytes);
    self->bytes -= removed;
}

//  Is SLOT's event time within the window of EVENT_US?
static inline bool
s_within (const zetl_dedup_t *self, const s_slot_t *slot, int64_t event_us)
{
    int64_t slot_us = self->tags[s_tag (slot)].start_us + (int64_t) (slot->w1 & S_OFFSET_MASK);
    return (event_us >= slot_us
                ? (uint64_t) event_us - (uint64_t) slot_us
                : (uint64_t) slot_us - (uint64_t) event_us) <= (uint64_t) self->window_us;
}

//  The query words of KEY: w0, and content52's top 22 bits (w1 >> 42)
static inline void
s_query (const zetl_dedup_key_t *key, uint64_t *q0, uint64_t *qc)
{
    uint64_t content52 = key->content >> 12;
    *q0 = (key->fp & (((uint64_t) 1 << 34) - 1)) << S_ID_SHIFT |
          (content52 & (((uint64_t) 1 << S_ID_SHIFT) - 1));
    *qc = content52 >> S_ID_SHIFT;
}

//  Probe SEGMENT for the key (Q0, QC) at EVENT_US among remembered keys.
//  Robin Hood order keeps the slots of one home together: the run ends at an
//  empty slot or at a slot closer to its own home than we are to ours.
static zetl_dedup_result_t
s_lookup (const zetl_dedup_t *self, const s_segment_t *segment, uint64_t q0, uint64_t qc,
          int64_t event_us)
{
    uint32_t capacity = segment->capacity;
    if (capacity == 0)
        return ZETL_DEDUP_NEW;
    uint32_t index = s_home (q0, capacity);
    uint64_t id = q0 >> S_ID_SHIFT;
    bool conflict = false;
    for (uint32_t distance = 0;; distance++) {
        const s_slot_t *slot = &segment->slots[index];
        uint32_t tag = s_tag (slot);
        if (tag == 0 || s_distance (index, s_home (slot->w0, capacity), capacity) < distance)
            break;
        if ((slot->w0 >> S_ID_SHIFT) == id && self->live[tag] && s_within (self, slot, event_us)) {
            if (slot->w0 == q0 && (slot->w1 >> S_CONTENT_SHIFT) == qc)
                return ZETL_DEDUP_DUPLICATE;
            //  Keep looking: an exact replay of another version is a duplicate
            conflict = true;
        }
        if (++index == capacity)
            index = 0;
    }
    return conflict ? ZETL_DEDUP_ID_CONFLICT : ZETL_DEDUP_NEW;
}

//  Robin Hood insert of ENTRY. Where it would displace a forgotten key it
//  takes that slot instead: the order of homes around it stays as it was.
static void
s_place (zetl_dedup_t *self, s_segment_t *segment, s_slot_t entry)
{
    uint32_t capacity = segment->capacity;
    uint32_t index = s_home (entry.w0, capacity);
    for (uint32_t distance = 0;; distance++) {
        s_slot_t *slot = &segment->slots[index];
        uint32_t tag = s_tag (slot);
        if (tag == 0) {
            *slot = entry;
            segment->used++;
            self->used++;
            return;
        }
        uint32_t slot_distance = s_distance (index, s_home (slot->w0, capacity), capacity);
        if (slot_distance < distance) {
            if (!self->live[tag]) {
                *slot = entry;
                return;
            }
            s_slot_t displaced = *slot;
            *slot = entry;
            entry = displaced;
            distance = slot_distance;
        }
        if (++index == capacity)
            index = 0;
    }
}

//  GCC 12 drops an inlined __builtin_prefetch whose address needs loads from
//  the object (a segment's slots, capacity): on x86 it is written out
static inline void
s_prefetch (const void *address)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *) address));
#else
    __builtin_prefetch (address);
#endif
}

//  Start loading the lines KEY's check and insert read: its home line and
//  the three after it, where an insert's walk to an empty slot may go
static inline void
s_prefetch_key (zetl_dedup_t *self, const zetl_dedup_key_t *key)
{
    const s_segment_t *segment = s_segment_of (self, key->fp);
    if (!segment->slots)
        return;
    uint64_t q0, qc;
    s_query (key, &q0, &qc);
    const char *home = (const char *) &segment->slots[s_home (q0, segment->capacity)];
    for (int line = 0; line < 4; line++)
        s_prefetch (home + 64 * line);
}

//  Remove every forgotten key from SEGMENT in one pass from an empty slot,
//  which no run crosses: each remembered key moves back to its home or just
//  after the key before it, so Robin Hood order holds and no run has a hole.
static void
s_purge (zetl_dedup_t *self, s_segment_t *segment)
{
    segment->deaths_seen = self->deaths;
    if (segment->used == 0)
        return;
    uint32_t capacity = segment->capacity, empty = 0;
    s_slot_t *slots = segment->slots;
    while (s_tag (&slots[empty]) != 0)
        empty++;
    //  Positions are counted from the slot after EMPTY, so that none wraps
    uint32_t first = empty + 1 == capacity ? 0 : empty + 1;
    uint32_t write = 0, removed = 0;
    for (uint32_t step = 0; step < capacity; step++) {
        uint32_t index = first + step < capacity ? first + step : first + step - capacity;
        if ((index & 3) == 0)
            s_prefetch (&slots[index + 16 < capacity ? index + 16 : index + 16 - capacity]);
        s_slot_t slot = slots[index];
        uint32_t tag = s_tag (&slot);
        if (tag == 0) {
            write = step + 1;  //  a run ended: the next one starts at its home
            continue;
        }
        slots[index] = (s_slot_t){0, 0};
        if (!self->live[tag]) {
            removed++;
            continue;
        }
        uint32_t home = s_home (slot.w0, capacity);
        uint32_t home_step = home >= first ? home - first : home + capacity - first;
        uint32_t target = home_step > write ? home_step : write;
        slots[first + target < capacity ? first + target : first + target - capacity] = slot;
        write = target + 1;
    }
    segment->used -= removed;
    self->used -= removed;
}

//  Zeroed slots: whole pages from mmap, or from the heap under ASan, which
//  then checks every access to them
static s_slot_t *
s_slots_new (size_t size)
{
#if defined(__SANITIZE_ADDRESS__)
    return (s_slot_t *) zmalloc (size);
#else
    void *pages = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED) {
        fprintf (stderr, "%s:%d: out of memory (%zu bytes)\n", __FILE__, __LINE__, size);
        abort ();
    }
    return (s_slot_t *) pages;
#endif
}

static void
s_slots_destroy (s_slot_t *slots, uint32_t capacity)
{
#if defined(__SANITIZE_ADDRESS__)
    (void) capacity;
    free (slots);
#else
    if (slots)
        munmap (slots, (size_t) capacity * sizeof (s_slot_t));
#endif
}

//  Move SEGMENT's remembered keys into CAPACITY new slots, if both arrays
//  fit in the budget together. Returns whether it did.
static bool
s_resize (zetl_dedup_t *self, s_segment_t *segment, uint32_t capacity)
{
    size_t size = (size_t) capacity * sizeof (s_slot_t);
    if (capacity == segment->capacity || self->bytes + size > self->budget_bytes)
        return false;
    s_account (self, size, 0);
    s_slot_t *old = segment->slots;
    uint32_t old_capacity = segment->capacity;
    segment->slots = s_slots_new (size);
    segment->capacity = capacity;
    self->used -= segment->used;
    segment->used = 0;
    for (uint32_t index = 0; index < old_capacity; index++) {
        uint32_t tag = s_tag (&old[index]);
        if (tag != 0 && self->live[tag])
            s_place (self, segment, old[index]);
    }
    s_slots_destroy (old, old_capacity);
    s_account (self, 0, (size_t) old_capacity * sizeof (s_slot_t));
    segment->deaths_seen = self->deaths;
    return true;
}

static int64_t
s_effective_window (const zetl_dedup_t *self)
{
    if (self->nbuckets == 0)
        return 0;
    const s_tag_t *oldest = &self->tags[self->order[0]];
    const s_tag_t *newest = &self->tags[self->order[self->nbuckets - 1]];
    return (newest->start_us + newest->max_off) - (oldest->start_us + oldest->min_off);
}

//  Forget the oldest bucket, all its keys at once (their slots go later):
//  EARLY, evicted to stay in the budget, else expired
static void
s_forget_oldest (zetl_dedup_t *self, bool early)
{
    assert (self->nbuckets > 0);
    uint32_t tag = self->order[0];
    s_tag_t *bucket = &self->tags[tag];
    memmove (self->order, self->order + 1, (self->nbuckets - 1) * sizeof (uint16_t));
    self->nbuckets--;
    uint64_t keys = bucket->keys;
    self->keys -= keys;
    *bucket = (s_tag_t){.state = S_TAG_DYING, .pass = self->sweep_pass};
    self->live[tag] = 0;
    self->deaths++;
    self->dying++;
    if (self->last_tag == tag)
        self->last_tag = 0;
    if (!early)
        self->expired += keys;
    else {
        self->evicted_early += keys;
        self->evictions++;
        self->eviction_window_us = s_effective_window (self);
    }
}

//  Free the dying tags that every segment has been purged of since they
//  died: those of two passes ago, or all after a purge of every segment
static void
s_free_tags (zetl_dedup_t *self, bool all)
{
    for (uint32_t tag = 1; tag < self->ntags && self->dying > 0; tag++) {
        s_tag_t *bucket = &self->tags[tag];
        if (bucket->state == S_TAG_DYING && (all || self->sweep_pass - bucket->pass >= 2)) {
            bucket->state = S_TAG_FREE;
            self->dying--;
        }
    }
}

//  Sweep STEPS segments: purge each, shrink it if sparse and the budget
//  allows. A pass that wraps frees the tags that died before the previous
//  pass began.
static void
s_sweep (zetl_dedup_t *self, uint32_t steps)
{
    for (uint32_t step = 0; step < steps; step++) {
        self->shrink_left -= self->shrink_left > 0;
        s_segment_t *segment = &self->segments[self->sweep_cursor];
        if (segment->deaths_seen != self->deaths)
            s_purge (self, segment);
        if (S_SPARSE (segment))
            s_resize (self, segment, s_capacity_for (self, segment->used));
        if (++self->sweep_cursor == self->nsegments) {
            self->sweep_cursor = 0;
            self->sweep_pass++;
            s_free_tags (self, false);
        }
    }
}

//  Make room for one more key in SEGMENT when it is full: purge it; resize
//  it if its remembered keys are over 4/5 or under 11/16 and the budget
//  allows; if full of remembered keys and unable to grow, evict the oldest
//  bucket and go round again (each turn purges, resizes, returns or evicts,
//  so it ends). False only for a segment never given slots when no page is
//  left in the budget.
static bool
s_make_room (zetl_dedup_t *self, s_segment_t *segment)
{
    while (segment->used + 1 > S_MAX_USED (segment->capacity)) {
        if (segment->deaths_seen != self->deaths) {
            s_purge (self, segment);
            if (!S_SPARSE (segment) &&
                (uint64_t) segment->used + 1 <= (uint64_t) segment->capacity * 4 / 5)
                return true;
        }
        if (s_resize (self, segment, s_capacity_for (self, (uint64_t) segment->used + 1)) ||
            segment->used + 1 <= S_MAX_USED (segment->capacity))
            return true;
        if (segment->capacity == 0 || self->nbuckets == 0)
            return false;
        s_forget_oldest (self, true);
    }
    return true;
}

//  Position in order of the first bucket starting at or after START_US
static uint32_t
s_order_position (const zetl_dedup_t *self, int64_t start_us)
{
    uint32_t low = 0, high = self->nbuckets;
    while (low < high) {
        uint32_t middle = low + (high - low) / 2;
        if (self->tags[self->order[middle]].start_us < start_us)
            low = middle + 1;
        else
            high = middle;
    }
    return low;
}

//  A free tag, looking on from the last one handed out and at it last (it
//  may be the one an eviction just freed)
static uint32_t
s_free_tag (zetl_dedup_t *self)
{
    for (uint32_t step = 1; step <= self->ntags; step++) {
        uint32_t tag = (self->next_tag + step) % self->ntags;
        if (tag != 0 && self->tags[tag].state == S_TAG_FREE)
            return self->next_tag = tag;
    }
    return 0;
}

//  The tag of the bucket holding EVENT_US, made if there is none. With no
//  free tag left (event times spread far wider than window + watermark
//  delay), the oldest bucket is evicted and every segment purged at once.
static uint32_t
s_bucket_for (zetl_dedup_t *self, int64_t event_us)
{
    int64_t start_us = event_us - (event_us % self->width_us + self->width_us) % self->width_us;
    if (self->last_tag && self->tags[self->last_tag].start_us == start_us)
        return self->last_tag;
    uint32_t position = s_order_position (self, start_us);
    if (position < self->nbuckets && self->tags[self->order[position]].start_us == start_us)
        return self->last_tag = self->order[position];
    uint32_t tag = s_free_tag (self);
    if (tag == 0) {
        if (self->dying == 0)
            s_forget_oldest (self, true);
        for (uint32_t index = 0; index < self->nsegments; index++)
            if (self->segments[index].deaths_seen != self->deaths)
                s_purge (self, &self->segments[index]);
        s_free_tags (self, true);
        tag = s_free_tag (self);
        assert (tag != 0);
        position = s_order_position (self, start_us);
    }
    memmove (self->order + position + 1, self->order + position,
             (self->nbuckets - position) * sizeof (uint16_t));
    self->order[position] = (uint16_t) tag;
    self->nbuckets++;
    uint32_t offset = (uint32_t) (event_us - start_us);
    self->tags[tag] =
        (s_tag_t){.start_us = start_us, .min_off = offset, .max_off = offset, .state = S_TAG_LIVE};
    self->live[tag] = 1;
    return self->last_tag = tag;
}

zetl_dedup_t *
zetl_dedup_new (int64_t window_us, size_t budget_bytes)
{
    if (window_us < 0 || window_us > S_TIME_LIMIT || budget_bytes < ZETL_DEDUP_MIN_BUDGET)
        return NULL;
    zetl_dedup_t *self = (zetl_dedup_t *) zmalloc (sizeof (zetl_dedup_t));
    self->window_us = window_us;
    self->budget_bytes = budget_bytes;
    //  64 buckets a window: 1.6% of it held past expiry, 1.6% of the keys
    //  evicted at a time; at least 1 s, and the offset field holds 2^28 µs
    self->width_us = window_us / 64 < 1000000 ? 1000000 : window_us / 64;
    if (self->width_us > (int64_t) 1 << S_OFFSET_BITS)
        self->width_us = (int64_t) 1 << S_OFFSET_BITS;
    uint32_t segment_bits = 0;
    while (segment_bits < S_MAX_SEGMENT_BITS &&
           ((size_t) S_SEGMENT_BYTES << (segment_bits + 1)) <= budget_bytes)
        segment_bits++;
    self->nsegments = 1u << segment_bits;
    self->segment_shift = S_MAX_SEGMENT_BITS - segment_bits;
    long page_size = sysconf (_SC_PAGESIZE);
    self->page_slots = (uint32_t) ((page_size > 0 ? (size_t) page_size : 4096) / sizeof (s_slot_t));
    size_t tags = budget_bytes / 2048;
    self->ntags = 1 + (uint32_t) (tags < 256 ? 256 : tags > S_TAG_MASK ? S_TAG_MASK : tags);
    self->segments = (s_segment_t *) zmalloc (self->nsegments * sizeof (s_segment_t));
    self->tags = (s_tag_t *) zmalloc (self->ntags * sizeof (s_tag_t));
    self->live = (uint8_t *) zmalloc (self->ntags);
    self->order = (uint16_t *) zmalloc (self->ntags * sizeof (uint16_t));
    s_account (self,
               sizeof (zetl_dedup_t) + self->nsegments * sizeof (s_segment_t) +
                   self->ntags * (sizeof (s_tag_t) + 1 + sizeof (uint16_t)),
               0);
    return self;
}

void
zetl_dedup_destroy (zetl_dedup_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_dedup_t *self = *self_p;
        for (uint32_t index = 0; index < self->nsegments; index++)
            s_slots_destroy (self->segments[index].slots, self->segments[index].capacity);
        free (self->segments);
        free (self->tags);
        free (self->live);
        free (self->order);
        free (self);
        *self_p = NULL;
    }
}

void
zetl_dedup_key (zetl_dedup_key_t *key, const void *id, size_t id_len,
                const uint8_t content_hash[16], int64_t event_us)
{
    assert (key && content_hash);
    uint64_t first = 0, second = 0;
    for (int index = 0; index < 8; index++) {
        first = first << 8 | content_hash[index];
        second = second << 8 | content_hash[8 + index];
    }
    key->fp = first;
    key->content = second;
    if (id && id_len) {
        //  The id's second hash goes into the content word: two ids with
        //  one content hash (a caller's hash that leaves the id out) differ
        XXH128_hash_t hash = XXH3_128bits (id, id_len);
        key->fp = hash.low64;
        key->content = second ^ hash.high64;
    }
    key->event_us = event_us < -S_TIME_LIMIT  ? -S_TIME_LIMIT
                    : event_us > S_TIME_LIMIT ? S_TIME_LIMIT
                                              : event_us;
}

zetl_dedup_result_t
zetl_dedup_check (zetl_dedup_t *self, const zetl_dedup_key_t *key)
{
    assert (self && key);
    uint64_t q0, qc;
    s_query (key, &q0, &qc);
    return s_lookup (self, s_segment_of (self, key->fp), q0, qc, key->event_us);
}

zetl_dedup_result_t
zetl_dedup_check_insert_key (zetl_dedup_t *self, const zetl_dedup_key_t *key)
{
    assert (self && key);
    uint64_t q0, qc;
    s_query (key, &q0, &qc);
    s_segment_t *segment = s_segment_of (self, key->fp);
    //  An insert walks on past the lines the lookup reads: ask for them all
    //  at once rather than one after the other
    s_prefetch_key (self, key);
    zetl_dedup_result_t result = s_lookup (self, segment, q0, qc, key->event_us);
    if (result == ZETL_DEDUP_DUPLICATE) {
        self->duplicates++;
        return result;
    }
    if (result == ZETL_DEDUP_ID_CONFLICT)
        self->id_conflicts++;
    self->inserted++;
    //  Room first: an eviction may take the very bucket this key belongs in
    if (!s_make_room (self, segment)) {
        self->evicted_early++;  //  not remembered at all: evicted at once, counted
        return result;
    }
    uint32_t tag = s_bucket_for (self, key->event_us);
    s_tag_t *bucket = &self->tags[tag];
    uint32_t offset = (uint32_t) (key->event_us - bucket->start_us);
    bucket->min_off = offset < bucket->min_off ? offset : bucket->min_off;
    bucket->max_off = offset > bucket->max_off ? offset : bucket->max_off;
    s_place (self, segment,
             (s_slot_t){q0, qc << S_CONTENT_SHIFT | (uint64_t) tag << S_OFFSET_BITS | offset});
    bucket->keys++;
    self->keys++;
    return result;
}

zetl_dedup_result_t
zetl_dedup_check_insert (zetl_dedup_t *self, const void *id, size_t id_len,
                         const uint8_t content_hash[16], int64_t event_us)
{
    zetl_dedup_key_t key;
    zetl_dedup_key (&key, id, id_len, content_hash, event_us);
    return zetl_dedup_check_insert_key (self, &key);
}

void
zetl_dedup_prefetch (zetl_dedup_t *self, const zetl_dedup_key_t *key)
{
    assert (self && key);
    s_prefetch_key (self, key);
}

void
zetl_dedup_prefetch_segment (zetl_dedup_t *self, const zetl_dedup_key_t *key)
{
    assert (self && key);
    s_prefetch (s_segment_of (self, key->fp));
}

void
zetl_dedup_check_insert_batch (zetl_dedup_t *self, const zetl_dedup_key_t *keys, size_t count,
                               zetl_dedup_result_t *results)
{
    assert (self && (count == 0 || (keys && results)));
    //  Two stages: the segment header of the key 2 * AHEAD on, then the
    //  slots of the key AHEAD on, whose address needs that header
    for (size_t index = 0; index < count; index++) {
        if (index + 2 * S_PREFETCH_AHEAD < count)
            s_prefetch (s_segment_of (self, keys[index + 2 * S_PREFETCH_AHEAD].fp));
        if (index + S_PREFETCH_AHEAD < count)
            s_prefetch_key (self, &keys[index + S_PREFETCH_AHEAD]);
        results[index] = zetl_dedup_check_insert_key (self, &keys[index]);
    }
}

int
zetl_dedup_expire (zetl_dedup_t *self, int64_t watermark_us, size_t max_buckets)
{
    assert (self && max_buckets > 0);
    //  A bucket may go when its newest event time < W - window; with W near
    //  -infinity (no record yet) none may
    int64_t threshold =
        watermark_us < INT64_MIN + self->window_us ? INT64_MIN : watermark_us - self->window_us;
    bool expirable = false;
    for (size_t done = 0; self->nbuckets > 0 && !expirable; done++) {
        const s_tag_t *oldest = &self->tags[self->order[0]];
        if (oldest->start_us + oldest->max_off >= threshold)
            break;
        expirable = done == max_buckets;
        if (!expirable)
            s_forget_oldest (self, false);
    }
    //  Inserts purge the segments they fill. The sweep runs fast when free
    //  tags run short, and slowly for a pass each time the keys have fallen
    //  by 1/8 (sparse segments shrink: bytes go down); else not at all.
    self->keys_high = self->keys > self->keys_high ? self->keys : self->keys_high;
    if (!self->shrink_left && self->keys < self->keys_high - self->keys_high / 8) {
        self->shrink_left = self->nsegments;
        self->keys_high = self->keys;
    }
    bool short_of_tags = self->ntags - 1 - self->nbuckets - self->dying < self->ntags / 4;
    uint32_t steps = short_of_tags && self->dying > 0 ? S_SWEEP_FAST
                     : self->shrink_left              ? S_SWEEP_SLOW
                                                      : 0;
    s_sweep (self, steps);
    return expirable || steps > 0;
}

void
zetl_dedup_stats (zetl_dedup_t *self, zetl_dedup_stats_t *stats)
{
    assert (self && stats);
    // clang-format off
    *stats = (zetl_dedup_stats_t) {
        .keys = self->keys, .bytes = self->bytes, .peak_bytes = self->peak_bytes,
        .budget_bytes = self->budget_bytes, .buckets = self->nbuckets, .inserted = self->inserted,
        .duplicates = self->duplicates, .id_conflicts = self->id_conflicts,
        .expired = self->expired, .evicted_early = self->evicted_early,
        .evictions = self->evictions, .dead_slots = self->used - self->keys,
        .window_us = self->window_us, .bucket_width_us = self->width_us,
        .effective_window_us = s_effective_window (self),
        .eviction_window_us = self->eviction_window_us};
    // clang-format on
}
