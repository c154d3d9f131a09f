/*  zetl_ordered - a pipeline with ordered: true: event-time release and its checkpoints  */
#include "zetl_ordered.h"
#include "zetl_proto.h"
#include "zetl_reorder.h"

#include <czmq.h>

#define S_APPENDED_MARK UINT64_MAX  //  a checkpoint entry in the appended queue

//  A queue of fixed-size items: push at the back, pop at the front
typedef struct {
    char *items;
    size_t size;   //  bytes per item
    size_t capacity, head, count;
} s_queue_t;

static void *
s_queue_at (s_queue_t *queue, size_t index)
{
    return queue->items + ((queue->head + index) % queue->capacity) * queue->size;
}

static void *
s_queue_push (s_queue_t *queue)
{
    if (queue->count == queue->capacity) {
        size_t capacity = queue->capacity ? queue->capacity * 2 : 64;
        char *items = (char *) malloc (capacity * queue->size);
        assert (items);
        for (size_t index = 0; index < queue->count; index++)
            memcpy (items + index * queue->size, s_queue_at (queue, index), queue->size);
        free (queue->items);
        queue->items = items;
        queue->capacity = capacity;
        queue->head = 0;
    }
    queue->count++;
    return s_queue_at (queue, queue->count - 1);
}

static void
s_queue_pop (s_queue_t *queue)
{
    assert (queue->count);
    queue->head = (queue->head + 1) % queue->capacity;
    queue->count--;
}

//  A record read into a partition, not yet committed (or committed, but
//  behind one that is not)
typedef struct {
    uint32_t source;
    bool done;
    uint64_t position;
} s_read_t;

//  A source's checkpoint in one partition
typedef struct {
    uint32_t source;
    bool has;             //  a checkpoint is known
    bool sent_any;
    uint64_t checkpoint;  //  every record at or below it is committed
    uint64_t sent;        //  the last one sent
} s_mark_t;

typedef struct {
    s_queue_t reads;      //  s_read_t in reading order
    uint64_t first_read;  //  number of the oldest in reads
    s_queue_t appended;   //  read numbers (or S_APPENDED_MARK) in the order they went into batches
    s_mark_t *marks;      //  one per source seen in this partition
    size_t mark_count;
} s_partition_t;

//  A record held in the reorder buffer
typedef struct {
    uint32_t source;
    uint32_t partition;
    uint64_t read;
    uint64_t position;
    int64_t event_us;
    uint32_t flags;
    void *tag;
    size_t len;
    char data[];
} s_held_t;

struct zetl_ordered {
    const zetl_pipeline_t *pipeline;
    zetl_ordered_emit_fn *emit;
    void *arg;
    zetl_reorder_t *reorder;
    s_partition_t *partitions;
    zhashx_t *source_ids;  //  name -> id + 1
    char **sources;        //  id -> name
    size_t source_count;
    zetl_ordered_counters_t counters;
};

zetl_ordered_t *
zetl_ordered_new (const zetl_pipeline_t *pipeline, zetl_ordered_emit_fn *emit, void *arg)
{
    zetl_ordered_t *self = (zetl_ordered_t *) zmalloc (sizeof (zetl_ordered_t));
    self->pipeline = pipeline;
    self->emit = emit;
    self->arg = arg;
    self->reorder = zetl_reorder_new (pipeline->partitions, (size_t) pipeline->reorder_records,
                                      (size_t) pipeline->reorder_memory_bytes);
    self->partitions = (s_partition_t *) zmalloc (pipeline->partitions * sizeof (s_partition_t));
    for (uint32_t p = 0; p < pipeline->partitions; p++) {
        self->partitions[p].reads.size = sizeof (s_read_t);
        self->partitions[p].appended.size = sizeof (uint64_t);
    }
    self->source_ids = zhashx_new ();
    return self;
}

//  Free a held record the buffer still had
static void
s_forget (const zetl_reorder_record_t *record, bool overflow, void *arg)
{
    (void) overflow;
    (void) arg;
    free (record->handle);
}

void
zetl_ordered_destroy (zetl_ordered_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_ordered_t *self = *self_p;
        zetl_reorder_release (self->reorder, INT64_MAX, SIZE_MAX, s_forget, NULL);
        zetl_reorder_destroy (&self->reorder);
        for (uint32_t p = 0; p < self->pipeline->partitions; p++) {
            free (self->partitions[p].reads.items);
            free (self->partitions[p].appended.items);
            free (self->partitions[p].marks);
        }
        free (self->partitions);
        for (size_t index = 0; index < self->source_count; index++)
            free (self->sources[index]);
        free (self->sources);
        zhashx_destroy (&self->source_ids);
        free (self);
        *self_p = NULL;
    }
}

static uint32_t
s_source_id (zetl_ordered_t *self, const char *name)
{
    size_t id = (size_t) zhashx_lookup (self->source_ids, name);
    if (id)
        return (uint32_t) (id - 1);
    self->sources = (char **) realloc (self->sources, (self->source_count + 1) * sizeof (char *));
    assert (self->sources);
    self->sources[self->source_count] = strdup (name);
    zhashx_insert (self->source_ids, name, (void *) (self->source_count + 1));
    return (uint32_t) self->source_count++;
}

static s_mark_t *
s_mark (s_partition_t *partition, uint32_t source)
{
    for (size_t index = 0; index < partition->mark_count; index++)
        if (partition->marks[index].source == source)
            return &partition->marks[index];
    partition->marks = (s_mark_t *) realloc (partition->marks,
                                             (partition->mark_count + 1) * sizeof (s_mark_t));
    assert (partition->marks);
    s_mark_t *mark = &partition->marks[partition->mark_count++];
    memset (mark, 0, sizeof *mark);
    mark->source = source;
    return mark;
}

//  Send PARTITION's checkpoints that moved since they were last sent
static void
s_emit_checkpoints (zetl_ordered_t *self, uint32_t number)
{
    s_partition_t *partition = &self->partitions[number];
    for (size_t index = 0; index < partition->mark_count; index++) {
        s_mark_t *mark = &partition->marks[index];
        if (!mark->has || (mark->sent_any && mark->checkpoint == mark->sent))
            continue;
        self->emit (self->arg, number, self->sources[mark->source], mark->checkpoint, 0,
                    ZETL_ENTRY_CHECKPOINT, NULL, 0, NULL);
        *(uint64_t *) s_queue_push (&partition->appended) = S_APPENDED_MARK;
        mark->sent = mark->checkpoint;
        mark->sent_any = true;
        self->counters.checkpoints++;
    }
}

//  One entry into its partition's open batch, after the checkpoints due
static void
s_emit (zetl_ordered_t *self, uint32_t number, uint32_t source, uint64_t read, uint64_t position,
        int64_t event_us, uint32_t flags, const void *payload, size_t len, void *tag)
{
    s_emit_checkpoints (self, number);
    self->emit (self->arg, number, self->sources[source], position, event_us, flags, payload, len,
                tag);
    *(uint64_t *) s_queue_push (&self->partitions[number].appended) = read;
}

static void
s_leave (const zetl_reorder_record_t *record, bool overflow, void *arg)
{
    zetl_ordered_t *self = (zetl_ordered_t *) arg;
    s_held_t *held = (s_held_t *) record->handle;
    if (overflow)
        self->counters.overflow++;
    else
        self->counters.released++;
    s_emit (self, held->partition, held->source, held->read, held->position, held->event_us,
            held->flags, held->data, held->len, held->tag);
    free (held);
}

void
zetl_ordered_take (zetl_ordered_t *self, const char *source, uint32_t partition,
                   uint64_t position, int64_t event_us, uint32_t flags, const void *payload,
                   size_t len, void *tag)
{
    uint32_t id = s_source_id (self, source);
    s_partition_t *part = &self->partitions[partition];
    uint64_t read = part->first_read + part->reads.count;
    s_read_t *entry = (s_read_t *) s_queue_push (&part->reads);
    entry->source = id;
    entry->done = false;
    entry->position = position;
    s_mark (part, id);
    if (flags & (ZETL_ENTRY_DEAD | ZETL_ENTRY_DUPLICATE | ZETL_ENTRY_REPROCESS)) {
        s_emit (self, partition, id, read, position, event_us, flags, payload, len, tag);
        return;
    }
    s_held_t *held = (s_held_t *) malloc (sizeof (s_held_t) + len);
    assert (held);
    held->source = id;
    held->partition = partition;
    held->read = read;
    held->position = position;
    held->event_us = event_us;
    held->flags = flags;
    held->tag = tag;
    held->len = len;
    memcpy (held->data, payload, len);
    zetl_reorder_record_t record = {event_us, position, held, len, partition};
    zetl_reorder_push (self->reorder, &record, s_leave, self);
}

size_t
zetl_ordered_release (zetl_ordered_t *self, int64_t watermark_us, size_t limit)
{
    return zetl_reorder_release (self->reorder, watermark_us, limit, s_leave, self);
}

void
zetl_ordered_committed (zetl_ordered_t *self, uint32_t number, uint32_t count)
{
    s_partition_t *partition = &self->partitions[number];
    for (uint32_t index = 0; index < count && partition->appended.count; index++) {
        uint64_t read = *(uint64_t *) s_queue_at (&partition->appended, 0);
        s_queue_pop (&partition->appended);
        if (read != S_APPENDED_MARK) {
            assert (read >= partition->first_read);
            ((s_read_t *) s_queue_at (&partition->reads, read - partition->first_read))->done = true;
        }
    }
    //  The committed prefix of what was read moves each source's checkpoint
    while (partition->reads.count) {
        s_read_t *oldest = (s_read_t *) s_queue_at (&partition->reads, 0);
        if (!oldest->done)
            break;
        s_mark_t *mark = s_mark (partition, oldest->source);
        mark->checkpoint = oldest->position;
        mark->has = true;
        s_queue_pop (&partition->reads);
        partition->first_read++;
    }
}

void
zetl_ordered_counters (zetl_ordered_t *self, zetl_ordered_counters_t *counters)
{
    *counters = self->counters;
    counters->held = zetl_reorder_held (self->reorder);
    counters->held_bytes = zetl_reorder_held_bytes (self->reorder);
}
