/*  zetl_batches - every batch a coordinator holds, and its partitions' queues

    Records are appended to their partition's open batch, which is sealed
    when full or when it has lingered long enough. Sealed batches wait in
    their partition's queue, oldest first; a partition with a waiting batch
    and none in flight is "runnable". A batch stays here, body and all,
    from sealing until it is committed, so it can be dispatched again after
    any failure. Which peers hold a batch is the dispatcher's business; this
    module only keeps the fields for it. Owned by the dispatcher.
*/
#ifndef ZETL_BATCHES_H_INCLUDED
#define ZETL_BATCHES_H_INCLUDED

#include "zetl_peers.h"
#include "zetl_proto.h"

typedef enum { ZETL_BATCH_QUEUED, ZETL_BATCH_DISPATCHED, ZETL_BATCH_PROCESSED } zetl_batch_state_t;

typedef struct zetl_partition zetl_partition_t;

typedef struct {
    uint64_t id;                  //  batch id: epoch << 40 | sequence
    char key[24];                 //  id in hex
    zetl_partition_t *partition;  //  where it belongs
    uint32_t count;               //  records in it
    zframe_t *body;               //  kept until committed, to dispatch again
    uint32_t attempt;             //  dispatches so far
    uint32_t data_failures;       //  failures caused by its data
    uint32_t crashes;             //  workers that died while it was the one they were processing
    uint64_t dispatch_seq;        //  order of its last dispatch among all batches
    int64_t first_wm_us;          //  the watermark when its first record was taken in
    int64_t taken_ms;             //  when its first record was taken in (zclock_mono)
    int64_t dispatched_ms;        //  when it was first dispatched, 0 before
    zetl_batch_state_t state;     //  where it is in its life
    zetl_peer_t *worker;          //  while dispatched: the worker (borrowed)
    zetl_peer_t *sink;            //  while dispatched or processed: the sink (borrowed)
    int64_t deadline_ms;          //  dispatch again if not committed by then
    int64_t not_before_ms;        //  do not dispatch before (after a retryable failure)
    uint32_t lut_count;           //  lookup-table versions it is pinned to (0: not pinned)
    uint64_t luts[ZETL_PROTO_MAX_LUTS];  //  per enrichment of its pipeline
} zetl_batch_t;

struct zetl_partition {
    size_t pipeline;              //  pipeline index
    uint32_t number;              //  partition number
    uint32_t batch_size;          //  records that fill a batch
    zetl_body_writer_t *writer;   //  the open batch
    uint32_t building;            //  records in the open batch
    int64_t first_ms;             //  when its first record came
    int64_t first_wm_us;          //  the watermark then (set by the caller)
    zlistx_t *queue;              //  sealed batches waiting, oldest first
    zetl_batch_t *inflight;       //  the one batch dispatched, or NULL
    bool runnable;                //  in the runnable list
};

typedef struct zetl_batches zetl_batches_t;

//  Create an empty set; batch ids carry EPOCH. Caller owns the result.
zetl_batches_t *zetl_batches_new (uint32_t epoch);
//  Destroy every batch and partition.
void zetl_batches_destroy (zetl_batches_t **self_p);
//  Make COUNT partitions for pipeline PIPELINE. Borrowed: valid until destroyed.
zetl_partition_t *zetl_batches_add_pipeline (zetl_batches_t *self, size_t pipeline,
                                             uint32_t count, uint32_t batch_size);
//  Append one record (PAYLOAD packed msgpack) to PARTITION's open batch,
//  sealing it when full. NOW_MS is the monotonic time.
void zetl_batches_append (zetl_batches_t *self, zetl_partition_t *partition, const char *source,
                          uint64_t position, int64_t event_us, uint32_t flags,
                          const void *payload, size_t len, int64_t now_ms);
//  Seal PARTITION's open batch, if it has records.
void zetl_batches_seal (zetl_batches_t *self, zetl_partition_t *partition);
//  The batch with ID, or NULL.
zetl_batch_t *zetl_batches_lookup (zetl_batches_t *self, uint64_t id);
//  Every batch held, in no order: the first, then the next, NULL at the end.
//  Borrowed; do not add or remove batches while walking.
zetl_batch_t *zetl_batches_first (zetl_batches_t *self);
zetl_batch_t *zetl_batches_next (zetl_batches_t *self);
//  Take the next runnable partition off the runnable list, or NULL.
zetl_partition_t *zetl_batches_next_runnable (zetl_batches_t *self);
//  Put PARTITION on the runnable list if it has a waiting batch and none in flight.
void zetl_batches_make_runnable (zetl_batches_t *self, zetl_partition_t *partition);
//  Runnable partitions.
size_t zetl_batches_runnable (zetl_batches_t *self);
//  Take PARTITION's oldest waiting batch as its batch in flight.
zetl_batch_t *zetl_batches_take (zetl_batches_t *self, zetl_partition_t *partition);
//  Put BATCH back at the head of its partition's queue, not to leave before NOT_BEFORE_MS.
void zetl_batches_requeue (zetl_batches_t *self, zetl_batch_t *batch, int64_t not_before_ms);
//  Replace BATCH, queued at the head of its queue, by PIECE_COUNT batches
//  with new ids, in order: the pieces of its body (zetl_split_body, which
//  says how many entries each holds). Takes the frames; BATCH is freed.
//  Each piece keeps the batch's attempts, crashes and lookup-table pins;
//  its data failures start again from none.
void zetl_batches_split (zetl_batches_t *self, zetl_batch_t *batch, zframe_t **pieces,
                         uint32_t piece_count);
//  BATCH is committed: forget it.
void zetl_batches_commit (zetl_batches_t *self, zetl_batch_t *batch);
//  Records held: in open, waiting and in-flight batches.
size_t zetl_batches_held (zetl_batches_t *self);
//  Sealed batches not yet committed.
size_t zetl_batches_count (zetl_batches_t *self);

#endif
