/*  zetl_ordered - a pipeline with ordered: true: event-time release and its checkpoints

    Owned by the dispatcher, one per ordered pipeline. Admitted records pass
    through it on their way to the batches:

      - records go into a bounded reorder buffer (zetl_reorder, bounded by
        reorder_records and reorder_memory) and leave each partition in
        (event time, position) order once the watermark passes them; when the
        buffer is full its oldest records leave early, counted as
        reorder_overflow, never dropped. When every file has been read, the
        rest leave in order (nothing older can come);
      - dead letters, duplicates' positions and reprocessed records go on at
        once: they have no place in the event-time order of the target.

    Records then leave a partition out of position order, so a sink cannot
    skip replays by "at or below the highest committed position" alone. This
    module therefore also keeps, per partition, the records read and not yet
    committed, in reading order, and derives per (source, partition) a
    checkpoint: a position at or below which every record is committed
    everywhere. It travels to the sinks as a position-only CHECKPOINT entry
    in the partition's next batch; a sink keeps the committed positions
    above it and forgets those below (DESIGN §6). Batches of a partition
    commit in the order they were sealed (one in flight at a time), which is
    what zetl_ordered_committed relies on.

    Pure state: no sockets, no clock. Entries leave through the caller's
    EMIT callback, which appends them to the partition's open batch.
*/
#ifndef ZETL_ORDERED_H_INCLUDED
#define ZETL_ORDERED_H_INCLUDED

#include "zetl_config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct zetl_ordered zetl_ordered_t;

//  One entry leaving for PARTITION's open batch: as zetl_batches_append takes
//  it, with the TAG it was taken with (NULL for checkpoint entries)
typedef void (zetl_ordered_emit_fn) (void *arg, uint32_t partition, const char *source,
                                     uint64_t position, int64_t event_us, uint32_t flags,
                                     const void *payload, size_t len, void *tag);

typedef struct {
    uint64_t held;          //  records in the reorder buffer now
    uint64_t held_bytes;    //  their bytes
    uint64_t released;      //  records released in event-time order
    uint64_t overflow;      //  records that left early because the buffer was full
    uint64_t checkpoints;   //  checkpoint entries sent
} zetl_ordered_counters_t;

//  Create for PIPELINE (borrowed: must outlive it), with EMIT and ARG for
//  every entry that leaves. Caller owns the result.
zetl_ordered_t *zetl_ordered_new (const zetl_pipeline_t *pipeline, zetl_ordered_emit_fn *emit,
                                  void *arg);

//  Destroy, forgetting records still held.
void zetl_ordered_destroy (zetl_ordered_t **self_p);

//  Take one admitted entry of SOURCE (copied) as the dispatcher would
//  append it. PAYLOAD is copied if the entry is held; TAG (the caller's,
//  may be NULL) leaves with it.
void zetl_ordered_take (zetl_ordered_t *self, const char *source, uint32_t partition,
                        uint64_t position, int64_t event_us, uint32_t flags, const void *payload,
                        size_t len, void *tag);

//  Release the held records with event time <= WATERMARK_US (INT64_MAX:
//  all), at most LIMIT of them. Returns how many left.
size_t zetl_ordered_release (zetl_ordered_t *self, int64_t watermark_us, size_t limit);

//  A batch of PARTITION holding COUNT entries is committed everywhere.
void zetl_ordered_committed (zetl_ordered_t *self, uint32_t partition, uint32_t count);

//  Fill COUNTERS.
void zetl_ordered_counters (zetl_ordered_t *self, zetl_ordered_counters_t *counters);

#endif
