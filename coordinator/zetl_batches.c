/*  zetl_batches - every batch a coordinator holds, and its partitions' queues  */
#include "zetl_batches.h"
#include "zetl_split.h"

#include <inttypes.h>

typedef struct {
    zetl_partition_t *partitions;  //  of one pipeline
    uint32_t count;
} s_pipeline_t;

struct zetl_batches {
    uint32_t epoch;          //  carried in batch ids
    uint64_t sequence;       //  last batch sequence
    zhashx_t *batches;       //  key -> zetl_batch_t: every sealed batch not committed
    zlistx_t *runnable;      //  zetl_partition_t with a waiting batch and none in flight
    zlistx_t *pipelines;     //  s_pipeline_t
    size_t held;             //  records held
};

static void
s_pipeline_free (void **item_p)
{
    s_pipeline_t *pipeline = (s_pipeline_t *) *item_p;
    if (pipeline) {
        for (uint32_t number = 0; number < pipeline->count; number++) {
            zetl_body_writer_destroy (&pipeline->partitions[number].writer);
            zlistx_destroy (&pipeline->partitions[number].queue);
        }
        free (pipeline->partitions);
        free (pipeline);
        *item_p = NULL;
    }
}

static void
s_batch_free (void **item_p)
{
    zetl_batch_t *batch = (zetl_batch_t *) *item_p;
    if (batch) {
        zframe_destroy (&batch->body);
        free (batch);
        *item_p = NULL;
    }
}

//  A new queued batch of PARTITION with BODY (taken) of COUNT entries
static zetl_batch_t *
s_batch_new (zetl_batches_t *self, zetl_partition_t *partition, zframe_t **body, uint32_t count)
{
    zetl_batch_t *batch = (zetl_batch_t *) zmalloc (sizeof (zetl_batch_t));
    batch->id = ((uint64_t) self->epoch << 40) | ++self->sequence;
    snprintf (batch->key, sizeof batch->key, "%" PRIx64, batch->id);
    batch->partition = partition;
    batch->count = count;
    batch->body = *body;
    *body = NULL;
    batch->state = ZETL_BATCH_QUEUED;
    zhashx_insert (self->batches, batch->key, batch);
    return batch;
}

zetl_batches_t *
zetl_batches_new (uint32_t epoch)
{
    zetl_batches_t *self = (zetl_batches_t *) zmalloc (sizeof (zetl_batches_t));
    self->epoch = epoch;
    self->batches = zhashx_new ();
    zhashx_set_destructor (self->batches, s_batch_free);
    self->runnable = zlistx_new ();
    self->pipelines = zlistx_new ();
    zlistx_set_destructor (self->pipelines, s_pipeline_free);
    return self;
}

void
zetl_batches_destroy (zetl_batches_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_batches_t *self = *self_p;
        zlistx_destroy (&self->pipelines);  //  Queues hold references only
        zhashx_destroy (&self->batches);
        zlistx_destroy (&self->runnable);
        free (self);
        *self_p = NULL;
    }
}

zetl_partition_t *
zetl_batches_add_pipeline (zetl_batches_t *self, size_t pipeline, uint32_t count,
                           uint32_t batch_size)
{
    s_pipeline_t *held = (s_pipeline_t *) zmalloc (sizeof (s_pipeline_t));
    held->count = count;
    held->partitions = (zetl_partition_t *) zmalloc (count * sizeof (zetl_partition_t));
    for (uint32_t number = 0; number < count; number++) {
        zetl_partition_t *partition = &held->partitions[number];
        partition->pipeline = pipeline;
        partition->number = number;
        partition->batch_size = batch_size;
        partition->writer = zetl_body_writer_new ();
        partition->queue = zlistx_new ();
    }
    zlistx_add_end (self->pipelines, held);
    return held->partitions;
}

void
zetl_batches_make_runnable (zetl_batches_t *self, zetl_partition_t *partition)
{
    if (!partition->runnable && !partition->inflight && zlistx_size (partition->queue) > 0) {
        partition->runnable = true;
        zlistx_add_end (self->runnable, partition);
    }
}

void
zetl_batches_seal (zetl_batches_t *self, zetl_partition_t *partition)
{
    if (partition->building == 0)
        return;
    zframe_t *body = zetl_body_writer_finish (partition->writer);
    zetl_batch_t *batch = s_batch_new (self, partition, &body, partition->building);
    batch->first_wm_us = partition->first_wm_us;
    batch->taken_ms = partition->first_ms;
    partition->building = 0;
    zlistx_add_end (partition->queue, batch);
    zetl_batches_make_runnable (self, partition);
}

void
zetl_batches_append (zetl_batches_t *self, zetl_partition_t *partition, const char *source,
                     uint64_t position, int64_t event_us, uint32_t flags, const void *payload,
                     size_t len, int64_t now_ms)
{
    uint32_t index = zetl_body_writer_source (partition->writer, source);
    zetl_body_writer_append (partition->writer, index, position, event_us, flags, NULL, payload,
                             len);
    self->held++;
    if (partition->building++ == 0)
        partition->first_ms = now_ms;
    if (partition->building >= partition->batch_size)
        zetl_batches_seal (self, partition);
}

zetl_batch_t *
zetl_batches_lookup (zetl_batches_t *self, uint64_t id)
{
    char key[24];
    snprintf (key, sizeof key, "%" PRIx64, id);
    return (zetl_batch_t *) zhashx_lookup (self->batches, key);
}

zetl_partition_t *
zetl_batches_next_runnable (zetl_batches_t *self)
{
    zetl_partition_t *partition = (zetl_partition_t *) zlistx_detach (self->runnable, NULL);
    if (partition)
        partition->runnable = false;
    return partition;
}

size_t
zetl_batches_runnable (zetl_batches_t *self)
{
    return zlistx_size (self->runnable);
}

zetl_batch_t *
zetl_batches_take (zetl_batches_t *self, zetl_partition_t *partition)
{
    (void) self;
    assert (!partition->inflight);
    zetl_batch_t *batch = (zetl_batch_t *) zlistx_detach (partition->queue, NULL);
    partition->inflight = batch;
    return batch;
}

void
zetl_batches_requeue (zetl_batches_t *self, zetl_batch_t *batch, int64_t not_before_ms)
{
    zetl_partition_t *partition = batch->partition;
    batch->worker = NULL;
    batch->sink = NULL;
    batch->state = ZETL_BATCH_QUEUED;
    batch->not_before_ms = not_before_ms;
    if (partition->inflight == batch)
        partition->inflight = NULL;
    zlistx_add_start (partition->queue, batch);
    zetl_batches_make_runnable (self, partition);
}

void
zetl_batches_split (zetl_batches_t *self, zetl_batch_t *batch, zframe_t **pieces,
                    uint32_t piece_count)
{
    assert (batch->state == ZETL_BATCH_QUEUED && piece_count <= ZETL_SPLIT_MAX_PIECES);
    zetl_partition_t *partition = batch->partition;
    //  A failed batch goes back at the head of its queue: its pieces take its place there
    assert (zlistx_first (partition->queue) == batch);
    zlistx_detach (partition->queue, NULL);
    zetl_batch_t *made[ZETL_SPLIT_MAX_PIECES];
    for (uint32_t index = 0; index < piece_count; index++) {
        zetl_batch_t *piece = s_batch_new (self, partition, &pieces[index],
                                           zetl_split_piece_count (batch->count, piece_count, index));
        piece->attempt = batch->attempt;
        piece->crashes = batch->crashes;
        piece->first_wm_us = batch->first_wm_us;
        piece->taken_ms = batch->taken_ms;
        piece->not_before_ms = batch->not_before_ms;
        piece->lut_count = batch->lut_count;
        memcpy (piece->luts, batch->luts, sizeof batch->luts);
        made[index] = piece;
    }
    //  Ids rise in position order, as the pieces queue
    for (uint32_t index = piece_count; index-- > 0;)
        zlistx_add_start (partition->queue, made[index]);
    zhashx_delete (self->batches, batch->key);  //  Frees it
}

zetl_batch_t *
zetl_batches_first (zetl_batches_t *self)
{
    return (zetl_batch_t *) zhashx_first (self->batches);
}

zetl_batch_t *
zetl_batches_next (zetl_batches_t *self)
{
    return (zetl_batch_t *) zhashx_next (self->batches);
}

void
zetl_batches_commit (zetl_batches_t *self, zetl_batch_t *batch)
{
    zetl_partition_t *partition = batch->partition;
    if (batch->state == ZETL_BATCH_QUEUED)
        zlistx_delete (partition->queue, zlistx_find (partition->queue, batch));
    if (partition->inflight == batch)
        partition->inflight = NULL;
    self->held -= batch->count;
    zhashx_delete (self->batches, batch->key);  //  Frees it
    zetl_batches_make_runnable (self, partition);
}

size_t
zetl_batches_held (zetl_batches_t *self)
{
    return self->held;
}

size_t
zetl_batches_count (zetl_batches_t *self)
{
    return zhashx_size (self->batches);
}
