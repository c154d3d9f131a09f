/*  zetl_reorder - the bounded reorder buffer of a pipeline with ordered: true  */
#include "zetl_reorder.h"

#include <czmq.h>

typedef struct {
    zetl_reorder_record_t record;  //  as pushed
    uint64_t sequence;             //  push order: the last tie-break
} s_entry_t;

struct zetl_reorder {
    uint32_t partitions;     //  partitions of the pipeline
    size_t max_records;      //  bound on records held
    size_t max_bytes;        //  bound on bytes held
    s_entry_t *heap;         //  binary min-heap on (event time, position, sequence)
    size_t size;             //  entries in heap
    size_t capacity;         //  entries allocated, at most max_records + 1
    size_t held_bytes;       //  bytes of the entries in heap
    size_t *partition_held;  //  records held per partition
    uint64_t sequence;       //  pushes so far
    int64_t watermark_us;    //  highest watermark released; INT64_MIN before any
    bool busy;               //  inside a callback: no re-entry
    zetl_reorder_counters_t counters;
};

static bool
s_before (const s_entry_t *a, const s_entry_t *b)
{
    if (a->record.event_us != b->record.event_us)
        return a->record.event_us < b->record.event_us;
    if (a->record.position != b->record.position)
        return a->record.position < b->record.position;
    return a->sequence < b->sequence;
}

static void
s_sift_up (zetl_reorder_t *self, size_t index)
{
    s_entry_t entry = self->heap[index];
    while (index > 0) {
        size_t parent = (index - 1) / 2;
        if (!s_before (&entry, &self->heap[parent]))
            break;
        self->heap[index] = self->heap[parent];
        index = parent;
    }
    self->heap[index] = entry;
}

static void
s_sift_down (zetl_reorder_t *self, size_t index)
{
    s_entry_t entry = self->heap[index];
    while (true) {
        size_t child = 2 * index + 1;
        if (child >= self->size)
            break;
        if (child + 1 < self->size && s_before (&self->heap[child + 1], &self->heap[child]))
            child++;
        if (!s_before (&self->heap[child], &entry))
            break;
        self->heap[index] = self->heap[child];
        index = child;
    }
    self->heap[index] = entry;
}

//  Take the oldest record out and hand it to FN
static void
s_pop (zetl_reorder_t *self, zetl_reorder_fn *fn, void *arg)
{
    assert (self->size > 0);
    zetl_reorder_record_t record = self->heap[0].record;
    self->size--;
    if (self->size > 0) {
        self->heap[0] = self->heap[self->size];
        s_sift_down (self, 0);
    }
    self->held_bytes -= record.bytes;
    self->partition_held[record.partition]--;
    //  Due by the watermark, or pushed out early by a full buffer
    bool overflow = record.event_us > self->watermark_us;
    if (overflow)
        self->counters.overflow++;
    else
        self->counters.released++;
    self->busy = true;
    fn (&record, overflow, arg);
    self->busy = false;
}

zetl_reorder_t *
zetl_reorder_new (uint32_t partitions, size_t max_records, size_t max_bytes)
{
    assert (partitions > 0);
    assert (max_records > 0 && max_records < SIZE_MAX / sizeof (s_entry_t));
    assert (max_bytes > 0);
    zetl_reorder_t *self = (zetl_reorder_t *) zmalloc (sizeof (zetl_reorder_t));
    self->partitions = partitions;
    self->max_records = max_records;
    self->max_bytes = max_bytes;
    self->partition_held = (size_t *) zmalloc (partitions * sizeof (size_t));
    self->watermark_us = INT64_MIN;
    return self;
}

void
zetl_reorder_destroy (zetl_reorder_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_reorder_t *self = *self_p;
        free (self->heap);
        free (self->partition_held);
        free (self);
        *self_p = NULL;
    }
}

size_t
zetl_reorder_push (zetl_reorder_t *self, const zetl_reorder_record_t *record, zetl_reorder_fn *fn,
                   void *arg)
{
    assert (self);
    assert (!self->busy);
    assert (record);
    assert (fn);
    assert (record->partition < self->partitions);
    assert (record->bytes <= SIZE_MAX - self->held_bytes);
    //  Grow as records come rather than allocate max_records up front: one
    //  slot over the bound, since a push goes in before the oldest goes out
    if (self->size == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 64;
        if (capacity > self->max_records + 1)
            capacity = self->max_records + 1;
        self->heap = (s_entry_t *) realloc (self->heap, capacity * sizeof (s_entry_t));
        assert (self->heap);
        self->capacity = capacity;
    }
    s_entry_t *entry = &self->heap[self->size];
    entry->record = *record;
    entry->sequence = self->sequence++;
    self->size++;
    s_sift_up (self, self->size - 1);
    self->held_bytes += record->bytes;
    self->partition_held[record->partition]++;
    self->counters.pushed++;

    //  Insert first, then take the oldest out: the new record may be the
    //  oldest, and then it is the one that leaves
    size_t left = 0;
    while (self->size > self->max_records || self->held_bytes > self->max_bytes) {
        s_pop (self, fn, arg);
        left++;
    }
    if (self->size > self->counters.peak)
        self->counters.peak = self->size;
    if (self->held_bytes > self->counters.peak_bytes)
        self->counters.peak_bytes = self->held_bytes;
    return left;
}

size_t
zetl_reorder_release (zetl_reorder_t *self, int64_t watermark_us, size_t limit, zetl_reorder_fn *fn,
                      void *arg)
{
    assert (self);
    assert (!self->busy);
    assert (fn);
    if (watermark_us > self->watermark_us)
        self->watermark_us = watermark_us;
    size_t left = 0;
    while (left < limit && self->size > 0 && self->heap[0].record.event_us <= self->watermark_us) {
        s_pop (self, fn, arg);
        left++;
    }
    return left;
}

size_t
zetl_reorder_held (zetl_reorder_t *self)
{
    assert (self);
    return self->size;
}

size_t
zetl_reorder_held_bytes (zetl_reorder_t *self)
{
    assert (self);
    return self->held_bytes;
}

size_t
zetl_reorder_partition_held (zetl_reorder_t *self, uint32_t partition)
{
    assert (self);
    assert (partition < self->partitions);
    return self->partition_held[partition];
}

int64_t
zetl_reorder_oldest_us (zetl_reorder_t *self)
{
    assert (self);
    return self->size > 0 ? self->heap[0].record.event_us : INT64_MAX;
}

int64_t
zetl_reorder_watermark (zetl_reorder_t *self)
{
    assert (self);
    return self->watermark_us;
}

void
zetl_reorder_counters (zetl_reorder_t *self, zetl_reorder_counters_t *counters)
{
    assert (self);
    assert (counters);
    *counters = self->counters;
    counters->held = self->size;
    counters->held_bytes = self->held_bytes;
}
