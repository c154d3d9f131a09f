/*  zetl_dedup_buckets - the duplicate filter's time buckets and their tags

    Internal to coordinator/ (see zetl_dedup_internal.h). A bucket is window
    / 64 wide; its tag marks the slots of its keys. Live buckets are kept in
    event-time order, so the oldest is forgotten first, by the watermark
    (expired) or to stay in the budget (evicted early). A forgotten bucket's
    tag is dying until the sweep has purged every segment of its slots, then
    free for a new bucket.
*/
#include "zetl_dedup_internal.h"

#include <assert.h>
#include <string.h>

int64_t
zetl_dedup_effective_window (const zetl_dedup_t *self)
{
    if (self->nbuckets == 0)
        return 0;
    const zetl_dedup_tag_t *oldest = &self->tags[self->order[0]];
    const zetl_dedup_tag_t *newest = &self->tags[self->order[self->nbuckets - 1]];
    return (newest->start_us + newest->max_off) - (oldest->start_us + oldest->min_off);
}

//  Forget the oldest bucket, all its keys at once (their slots go later):
//  EARLY, evicted to stay in the budget, else expired
void
zetl_dedup_forget_oldest (zetl_dedup_t *self, bool early)
{
    assert (self->nbuckets > 0);
    uint32_t tag = self->order[0];
    zetl_dedup_tag_t *bucket = &self->tags[tag];
    memmove (self->order, self->order + 1, (self->nbuckets - 1) * sizeof (uint16_t));
    self->nbuckets--;
    uint64_t keys = bucket->keys;
    self->keys -= keys;
    *bucket = (zetl_dedup_tag_t){.state = ZETL_DEDUP_TAG_DYING, .pass = self->sweep_pass};
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
        self->eviction_window_us = zetl_dedup_effective_window (self);
    }
}

//  Free the dying tags that every segment has been purged of since they
//  died: those of two passes ago, or all after a purge of every segment
void
zetl_dedup_free_tags (zetl_dedup_t *self, bool all)
{
    for (uint32_t tag = 1; tag < self->ntags && self->dying > 0; tag++) {
        zetl_dedup_tag_t *bucket = &self->tags[tag];
        if (bucket->state == ZETL_DEDUP_TAG_DYING &&
            (all || self->sweep_pass - bucket->pass >= 2)) {
            bucket->state = ZETL_DEDUP_TAG_FREE;
            self->dying--;
        }
    }
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
        if (tag != 0 && self->tags[tag].state == ZETL_DEDUP_TAG_FREE)
            return self->next_tag = tag;
    }
    return 0;
}

//  The tag of the bucket starting at START_US, made if there is none. With
//  no free tag left (event times spread far wider than window + watermark
//  delay), the oldest bucket is evicted and every segment purged at once.
uint32_t
zetl_dedup_bucket_find (zetl_dedup_t *self, int64_t event_us, int64_t start_us)
{
    uint32_t position = s_order_position (self, start_us);
    if (position < self->nbuckets && self->tags[self->order[position]].start_us == start_us)
        return self->last_tag = self->order[position];
    uint32_t tag = s_free_tag (self);
    if (tag == 0) {
        if (self->dying == 0)
            zetl_dedup_forget_oldest (self, true);
        for (uint32_t index = 0; index < self->nsegments; index++)
            if (self->segments[index].deaths_seen != self->deaths)
                zetl_dedup_purge (self, &self->segments[index]);
        zetl_dedup_free_tags (self, true);
        tag = s_free_tag (self);
        assert (tag != 0);
        position = s_order_position (self, start_us);
    }
    memmove (self->order + position + 1, self->order + position,
             (self->nbuckets - position) * sizeof (uint16_t));
    self->order[position] = (uint16_t) tag;
    self->nbuckets++;
    uint32_t offset = (uint32_t) (event_us - start_us);
    self->tags[tag] = (zetl_dedup_tag_t){
        .start_us = start_us, .min_off = offset, .max_off = offset, .state = ZETL_DEDUP_TAG_LIVE};
    self->live[tag] = 1;
    return self->last_tag = tag;
}
