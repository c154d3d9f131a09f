/*  zetl_dedup_segments - the duplicate filter's segment memory

    Internal to coordinator/ (see zetl_dedup_internal.h). Each segment of
    the fingerprint index owns whole pages of slots (mmap; the heap under
    ASan). Here they are allocated, counted against the budget (every byte,
    never over it, not even while a segment is resized), purged of the
    slots of forgotten keys, grown or shrunk, and swept a few segments at a
    time from zetl_dedup_expire.
*/
#include "zetl_dedup_internal.h"

#include <assert.h>
#include <czmq.h>
#include <sys/mman.h>

//  The capacity, in whole pages and at least one, for N keys at load 18/25
uint32_t
zetl_dedup_capacity_for (const zetl_dedup_t *self, uint64_t n)
{
    uint64_t pages = (n * 25 / 18 + self->page_slots) / self->page_slots;
    return (uint32_t) (pages * self->page_slots);
}

void
zetl_dedup_account (zetl_dedup_t *self, size_t added, size_t removed)
{
    self->bytes += added;
    self->peak_bytes = self->bytes > self->peak_bytes ? self->bytes : self->peak_bytes;
    assert (self->peak_bytes <= self->budget_bytes);
    self->bytes -= removed;
}

//  Remove every forgotten key from SEGMENT in one pass from an empty slot,
//  which no run crosses: each remembered key moves back to its home or just
//  after the key before it, so Robin Hood order holds and no run has a hole.
void
zetl_dedup_purge (zetl_dedup_t *self, zetl_dedup_segment_t *segment)
{
    segment->deaths_seen = self->deaths;
    if (segment->used == 0)
        return;
    uint32_t capacity = segment->capacity, empty = 0;
    zetl_dedup_slot_t *slots = segment->slots;
    while (zetl_dedup_slot_tag (&slots[empty]) != 0)
        empty++;
    //  Positions are counted from the slot after EMPTY, so that none wraps
    uint32_t first = empty + 1 == capacity ? 0 : empty + 1;
    uint32_t write = 0, removed = 0;
    for (uint32_t step = 0; step < capacity; step++) {
        uint32_t index = first + step < capacity ? first + step : first + step - capacity;
        if ((index & 3) == 0)
            zetl_dedup_prefetch_line (
                &slots[index + 16 < capacity ? index + 16 : index + 16 - capacity]);
        zetl_dedup_slot_t slot = slots[index];
        uint32_t tag = zetl_dedup_slot_tag (&slot);
        if (tag == 0) {
            write = step + 1;  //  a run ended: the next one starts at its home
            continue;
        }
        slots[index] = (zetl_dedup_slot_t){0, 0};
        if (!self->live[tag]) {
            removed++;
            continue;
        }
        uint32_t home = zetl_dedup_slot_home (slot.w0, capacity);
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
static zetl_dedup_slot_t *
s_slots_new (size_t size)
{
#if defined(__SANITIZE_ADDRESS__)
    return (zetl_dedup_slot_t *) zmalloc (size);
#else
    void *pages = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED) {
        fprintf (stderr, "%s:%d: out of memory (%zu bytes)\n", __FILE__, __LINE__, size);
        abort ();
    }
    return (zetl_dedup_slot_t *) pages;
#endif
}

void
zetl_dedup_slots_destroy (zetl_dedup_slot_t *slots, uint32_t capacity)
{
#if defined(__SANITIZE_ADDRESS__)
    (void) capacity;
    free (slots);
#else
    if (slots)
        munmap (slots, (size_t) capacity * sizeof (zetl_dedup_slot_t));
#endif
}

//  Move SEGMENT's remembered keys into CAPACITY new slots, if both arrays
//  fit in the budget together. Returns whether it did.
bool
zetl_dedup_resize (zetl_dedup_t *self, zetl_dedup_segment_t *segment, uint32_t capacity)
{
    size_t size = (size_t) capacity * sizeof (zetl_dedup_slot_t);
    if (capacity == segment->capacity || self->bytes + size > self->budget_bytes)
        return false;
    zetl_dedup_account (self, size, 0);
    zetl_dedup_slot_t *old = segment->slots;
    uint32_t old_capacity = segment->capacity;
    segment->slots = s_slots_new (size);
    segment->capacity = capacity;
    self->used -= segment->used;
    segment->used = 0;
    for (uint32_t index = 0; index < old_capacity; index++) {
        uint32_t tag = zetl_dedup_slot_tag (&old[index]);
        if (tag != 0 && self->live[tag])
            zetl_dedup_place (self, segment, old[index]);
    }
    zetl_dedup_slots_destroy (old, old_capacity);
    zetl_dedup_account (self, 0, (size_t) old_capacity * sizeof (zetl_dedup_slot_t));
    segment->deaths_seen = self->deaths;
    return true;
}

//  Sweep STEPS segments: purge each, shrink it if sparse and the budget
//  allows. A pass that wraps frees the tags that died before the previous
//  pass began.
void
zetl_dedup_sweep (zetl_dedup_t *self, uint32_t steps)
{
    for (uint32_t step = 0; step < steps; step++) {
        self->shrink_left -= self->shrink_left > 0;
        zetl_dedup_segment_t *segment = &self->segments[self->sweep_cursor];
        if (segment->deaths_seen != self->deaths)
            zetl_dedup_purge (self, segment);
        if (ZETL_DEDUP_SPARSE (segment))
            zetl_dedup_resize (self, segment, zetl_dedup_capacity_for (self, segment->used));
        if (++self->sweep_cursor == self->nsegments) {
            self->sweep_cursor = 0;
            self->sweep_pass++;
            zetl_dedup_free_tags (self, false);
        }
    }
}
