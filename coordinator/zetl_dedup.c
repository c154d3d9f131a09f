/*  zetl_dedup - the coordinator's set of recently accepted records

    The fingerprint index and everything done per key: lookup, insert,
    prefetch, plus the public API (see zetl_dedup.h). The slot layout and
    the shared state are in zetl_dedup_internal.h; the time buckets and
    their tags in zetl_dedup_buckets.c; the segments' memory (pages,
    accounting, purge, resize, sweep) in zetl_dedup_segments.c. The code of
    the hot path stays in this file, so that the compiler inlines it.
*/
#include "zetl_dedup_internal.h"

#include <assert.h>
#include <czmq.h>
#include <unistd.h>
#include <xxhash.h>

#define S_SEGMENT_BYTES (64 * 1024)  //  a segment's size at the budget, about
#define S_MAX_SEGMENT_BITS 16
#define S_SWEEP_SLOW 2      //  segments swept per zetl_dedup_expire after keys fell
#define S_SWEEP_FAST 8      //  the same when free tags run short
#define S_PREFETCH_AHEAD 8  //  keys prefetched ahead in a batch
#define S_TIME_LIMIT ((int64_t) 1 << 62)

static inline zetl_dedup_segment_t *
s_segment_of (zetl_dedup_t *self, uint64_t fp)
{
    return &self->segments[(fp >> 48) >> self->segment_shift];
}

//  Is SLOT's event time within the window of EVENT_US?
static inline bool
s_within (const zetl_dedup_t *self, const zetl_dedup_slot_t *slot, int64_t event_us)
{
    int64_t slot_us = self->tags[zetl_dedup_slot_tag (slot)].start_us +
                      (int64_t) (slot->w1 & ZETL_DEDUP_OFFSET_MASK);
    return (event_us >= slot_us
                ? (uint64_t) event_us - (uint64_t) slot_us
                : (uint64_t) slot_us - (uint64_t) event_us) <= (uint64_t) self->window_us;
}

//  The query words of KEY: w0, and content52's top 22 bits (w1 >> 42)
static inline void
s_query (const zetl_dedup_key_t *key, uint64_t *q0, uint64_t *qc)
{
    uint64_t content52 = key->content >> 12;
    *q0 = (key->fp & (((uint64_t) 1 << 34) - 1)) << ZETL_DEDUP_ID_SHIFT |
          (content52 & (((uint64_t) 1 << ZETL_DEDUP_ID_SHIFT) - 1));
    *qc = content52 >> ZETL_DEDUP_ID_SHIFT;
}

//  Probe SEGMENT for the key (Q0, QC) at EVENT_US among remembered keys.
//  Robin Hood order keeps the slots of one home together: the run ends at an
//  empty slot or at a slot closer to its own home than we are to ours.
static zetl_dedup_result_t
s_lookup (const zetl_dedup_t *self, const zetl_dedup_segment_t *segment, uint64_t q0, uint64_t qc,
          int64_t event_us)
{
    uint32_t capacity = segment->capacity;
    if (capacity == 0)
        return ZETL_DEDUP_NEW;
    uint32_t index = zetl_dedup_slot_home (q0, capacity);
    uint64_t id = q0 >> ZETL_DEDUP_ID_SHIFT;
    bool conflict = false;
    for (uint32_t distance = 0;; distance++) {
        const zetl_dedup_slot_t *slot = &segment->slots[index];
        uint32_t tag = zetl_dedup_slot_tag (slot);
        if (tag == 0 || zetl_dedup_distance (index, zetl_dedup_slot_home (slot->w0, capacity),
                                             capacity) < distance)
            break;
        if ((slot->w0 >> ZETL_DEDUP_ID_SHIFT) == id && self->live[tag] &&
            s_within (self, slot, event_us)) {
            if (slot->w0 == q0 && (slot->w1 >> ZETL_DEDUP_CONTENT_SHIFT) == qc)
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
void
zetl_dedup_place (zetl_dedup_t *self, zetl_dedup_segment_t *segment, zetl_dedup_slot_t entry)
{
    uint32_t capacity = segment->capacity;
    uint32_t index = zetl_dedup_slot_home (entry.w0, capacity);
    for (uint32_t distance = 0;; distance++) {
        zetl_dedup_slot_t *slot = &segment->slots[index];
        uint32_t tag = zetl_dedup_slot_tag (slot);
        if (tag == 0) {
            *slot = entry;
            segment->used++;
            self->used++;
            return;
        }
        uint32_t slot_distance =
            zetl_dedup_distance (index, zetl_dedup_slot_home (slot->w0, capacity), capacity);
        if (slot_distance < distance) {
            if (!self->live[tag]) {
                *slot = entry;
                return;
            }
            zetl_dedup_slot_t displaced = *slot;
            *slot = entry;
            entry = displaced;
            distance = slot_distance;
        }
        if (++index == capacity)
            index = 0;
    }
}

//  Start loading the lines KEY's check and insert read: its home line and
//  the three after it, where an insert's walk to an empty slot may go
static inline void
s_prefetch_key (zetl_dedup_t *self, const zetl_dedup_key_t *key)
{
    const zetl_dedup_segment_t *segment = s_segment_of (self, key->fp);
    if (!segment->slots)
        return;
    uint64_t q0, qc;
    s_query (key, &q0, &qc);
    const char *home = (const char *) &segment->slots[zetl_dedup_slot_home (q0, segment->capacity)];
    for (int line = 0; line < 4; line++)
        zetl_dedup_prefetch_line (home + 64 * line);
}

//  Make room for one more key in SEGMENT when it is full: purge it; resize
//  it if its remembered keys are over 4/5 or under 11/16 and the budget
//  allows; if full of remembered keys and unable to grow, evict the oldest
//  bucket and go round again (each turn purges, resizes, returns or evicts,
//  so it ends). False only for a segment never given slots when no page is
//  left in the budget.
static bool
s_make_room (zetl_dedup_t *self, zetl_dedup_segment_t *segment)
{
    while (segment->used + 1 > ZETL_DEDUP_MAX_USED (segment->capacity)) {
        if (segment->deaths_seen != self->deaths) {
            zetl_dedup_purge (self, segment);
            if (!ZETL_DEDUP_SPARSE (segment) &&
                (uint64_t) segment->used + 1 <= (uint64_t) segment->capacity * 4 / 5)
                return true;
        }
        if (zetl_dedup_resize (self, segment,
                               zetl_dedup_capacity_for (self, (uint64_t) segment->used + 1)) ||
            segment->used + 1 <= ZETL_DEDUP_MAX_USED (segment->capacity))
            return true;
        if (segment->capacity == 0 || self->nbuckets == 0)
            return false;
        zetl_dedup_forget_oldest (self, true);
    }
    return true;
}

//  The tag of the bucket holding EVENT_US, made if there is none. The
//  bucket used last is checked here, inline, because nearly every key
//  falls in it; the others are found or made in zetl_dedup_buckets.c.
static inline uint32_t
s_bucket_for (zetl_dedup_t *self, int64_t event_us)
{
    int64_t start_us = event_us - (event_us % self->width_us + self->width_us) % self->width_us;
    if (self->last_tag && self->tags[self->last_tag].start_us == start_us)
        return self->last_tag;
    return zetl_dedup_bucket_find (self, event_us, start_us);
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
    if (self->width_us > (int64_t) 1 << ZETL_DEDUP_OFFSET_BITS)
        self->width_us = (int64_t) 1 << ZETL_DEDUP_OFFSET_BITS;
    uint32_t segment_bits = 0;
    while (segment_bits < S_MAX_SEGMENT_BITS &&
           ((size_t) S_SEGMENT_BYTES << (segment_bits + 1)) <= budget_bytes)
        segment_bits++;
    self->nsegments = 1u << segment_bits;
    self->segment_shift = S_MAX_SEGMENT_BITS - segment_bits;
    long page_size = sysconf (_SC_PAGESIZE);
    self->page_slots =
        (uint32_t) ((page_size > 0 ? (size_t) page_size : 4096) / sizeof (zetl_dedup_slot_t));
    size_t tags = budget_bytes / 2048;
    self->ntags = 1 + (uint32_t) (tags < 256                   ? 256
                                  : tags > ZETL_DEDUP_TAG_MASK ? ZETL_DEDUP_TAG_MASK
                                                               : tags);
    self->segments =
        (zetl_dedup_segment_t *) zmalloc (self->nsegments * sizeof (zetl_dedup_segment_t));
    self->tags = (zetl_dedup_tag_t *) zmalloc (self->ntags * sizeof (zetl_dedup_tag_t));
    self->live = (uint8_t *) zmalloc (self->ntags);
    self->order = (uint16_t *) zmalloc (self->ntags * sizeof (uint16_t));
    zetl_dedup_account (self,
                        sizeof (zetl_dedup_t) + self->nsegments * sizeof (zetl_dedup_segment_t) +
                            self->ntags * (sizeof (zetl_dedup_tag_t) + 1 + sizeof (uint16_t)),
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
            zetl_dedup_slots_destroy (self->segments[index].slots, self->segments[index].capacity);
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
    zetl_dedup_segment_t *segment = s_segment_of (self, key->fp);
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
    zetl_dedup_tag_t *bucket = &self->tags[tag];
    uint32_t offset = (uint32_t) (key->event_us - bucket->start_us);
    bucket->min_off = offset < bucket->min_off ? offset : bucket->min_off;
    bucket->max_off = offset > bucket->max_off ? offset : bucket->max_off;
    zetl_dedup_place (self, segment,
                      (zetl_dedup_slot_t){q0, qc << ZETL_DEDUP_CONTENT_SHIFT |
                                                  (uint64_t) tag << ZETL_DEDUP_OFFSET_BITS |
                                                  offset});
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
    zetl_dedup_prefetch_line (s_segment_of (self, key->fp));
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
            zetl_dedup_prefetch_line (s_segment_of (self, keys[index + 2 * S_PREFETCH_AHEAD].fp));
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
        const zetl_dedup_tag_t *oldest = &self->tags[self->order[0]];
        if (oldest->start_us + oldest->max_off >= threshold)
            break;
        expirable = done == max_buckets;
        if (!expirable)
            zetl_dedup_forget_oldest (self, false);
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
    zetl_dedup_sweep (self, steps);
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
        .effective_window_us = zetl_dedup_effective_window (self),
        .eviction_window_us = self->eviction_window_us};
    // clang-format on
}
