/*  zetl_dispatch_producers - the dispatcher's producers: batches in sequence, ACKs once committed

    Part of the dispatcher (zetl_dispatch_internal.h). A producer says HELLO
    (role producer, its stable name) and gets WELCOME with the configuration,
    in batch_id the highest sequence ACKed to that name in this run, and in
    attempt the highest sequence taken in this run or with a record committed
    before it (from zetl_offsets), above which a producer starting afresh
    numbers its batches.
    A producer's HEARTBEAT with code ZETL_CAUGHT_UP (after a flush), or its
    BYE, says it has nothing more for now: once every producer with a
    session on a pipeline has, the producers' source is caught up and stops
    holding the pipeline's watermark back (zetl_admit_caught_up).
    Its BATCHes are taken strictly in sequence: a resent sequence already
    ACKed is ACKed again, one in progress is ignored, one after a gap is
    dropped unACKed (it comes again). Each record becomes a record of the
    source "producer-<name>" at position (sequence << 20 | index in the
    batch), so a resend after a coordinator restart skips what every target
    committed. A batch is ACKed once each of its records is committed or
    dead-lettered, and in sequence: no credit, no commit, no ACK, and the
    producer waits (backpressure, never loss).
*/
#include "zetl_dispatch_internal.h"
#include "zetl_curve.h"
#include "zetl_feed.h"
#include "zetl_pg.h"

#define S_INDEX_BITS 20  //  positions: sequence << 20 | index, so a batch holds at most 2^20 records

typedef struct {
    char *name;                //  the producer's stable name
    char *source;              //  "producer-<name>"
    zframe_t *routing_id;      //  of its current session, or NULL
    uint64_t acked;            //  highest sequence ACKed, all below it ACKed too
    uint64_t next;             //  the sequence expected next; 0: any above acked
    zlistx_t *pending;         //  s_batch_t taken, not yet ACKed, in sequence
    int64_t pipeline;          //  the pipeline it sends to, -1 before its first batch
    bool caught_up;            //  it said it has nothing more for now
} s_producer_t;

typedef struct {
    s_producer_t *producer;
    uint64_t sequence;
    uint64_t outstanding;      //  records not yet committed
} s_batch_t;

static void
s_producer_free (void **item_p)
{
    s_producer_t *producer = (s_producer_t *) *item_p;
    if (producer) {
        free (producer->name);
        free (producer->source);
        zframe_destroy (&producer->routing_id);
        zlistx_destroy (&producer->pending);
        free (producer);
        *item_p = NULL;
    }
}

int
zetl_dispatch_producers_start (zetl_dispatcher_t *self)
{
    const char *endpoint = self->args.config->cluster.producers;
    if (!endpoint || !*endpoint)
        return -1;
    self->producers = zsock_new (ZMQ_ROUTER);
    zsock_set_router_mandatory (self->producers, 1);
    zsock_set_sndtimeo (self->producers, 0);
    zsock_set_linger (self->producers, 0);
    zsock_set_maxmsgsize (self->producers, self->args.config->limits.max_frame);
    zetl_curve_serve (self->producers);
    if (zsock_bind (self->producers, "%s", endpoint) < 0) {
        zetl_log_error ("dispatch", "bind_failed",
                        json_pack ("{s:s, s:s, s:s}", "endpoint", endpoint, "error",
                                   zmq_strerror (zmq_errno ()), "hint",
                                   "producers cannot connect; change cluster.producers"));
        zsock_destroy (&self->producers);
        return -1;
    }
    self->producer_states = zhashx_new ();
    zhashx_set_destructor (self->producer_states, s_producer_free);
    return 0;
}

void
zetl_dispatch_producers_stop (zetl_dispatcher_t *self)
{
    for (size_t p = 0; p < self->pipeline_count; p++) {
        zetl_feed_t *feed = (zetl_feed_t *) self->pipelines[p].producer_feed;
        if (feed) {
            zetl_feed_fini (feed);
            free (feed);
            self->pipelines[p].producer_feed = NULL;
        }
    }
    zhashx_destroy (&self->producer_states);
}

static void
s_send (zetl_dispatcher_t *self, s_producer_t *producer, zetl_msg_t *msg)
{
    if (producer->routing_id)
        zetl_msg_send_router (msg, self->producers, producer->routing_id);
    zetl_msg_destroy (&msg);
}

static void
s_send_ack (zetl_dispatcher_t *self, s_producer_t *producer, uint64_t sequence)
{
    zetl_msg_t *ack = zetl_dispatch_msg (self, ZETL_MSG_ACK);
    ack->batch_id = sequence;
    s_send (self, producer, ack);
}

static void
s_send_error (zetl_dispatcher_t *self, zframe_t *routing_id, int code, uint64_t sequence,
              const char *text)
{
    zetl_msg_t *error = zetl_dispatch_msg (self, ZETL_MSG_ERROR);
    error->code = (uint32_t) code;
    error->batch_id = sequence;
    zetl_msg_set_str (&error->text, text);
    zetl_msg_send_router (error, self->producers, routing_id);
    zetl_msg_destroy (&error);
}

//  ACK, in sequence, every batch at the head of PRODUCER's pending list that is done
static void
s_ack_done (zetl_dispatcher_t *self, s_producer_t *producer)
{
    s_batch_t *batch;
    while ((batch = (s_batch_t *) zlistx_first (producer->pending)) && batch->outstanding == 0) {
        producer->acked = batch->sequence;
        s_send_ack (self, producer, batch->sequence);
        zlistx_delete (producer->pending, zlistx_cursor (producer->pending));
    }
}

static s_producer_t *
s_by_routing_id (zetl_dispatcher_t *self, zframe_t *routing_id)
{
    for (s_producer_t *producer = (s_producer_t *) zhashx_first (self->producer_states); producer;
         producer = (s_producer_t *) zhashx_next (self->producer_states))
        if (producer->routing_id && zframe_eq (producer->routing_id, routing_id))
            return producer;
    return NULL;
}

//  The highest sequence of PRODUCER taken in this run, or with a record
//  committed before it: a producer that starts afresh numbers above it
static uint64_t
s_highest_taken (zetl_dispatcher_t *self, s_producer_t *producer)
{
    s_batch_t *last = (s_batch_t *) zlistx_last (producer->pending);
    uint64_t highest = last ? last->sequence : producer->acked;
    for (size_t p = 0; p < self->pipeline_count; p++) {
        zetl_dispatch_pipeline_t *pipeline = &self->pipelines[p];
        for (uint32_t number = 0; number < pipeline->pipeline->partitions; number++) {
            char key[4096];
            snprintf (key, sizeof key, "%s\x1f%u", producer->source, number);
            zetl_pg_position_t *position =
                (zetl_pg_position_t *) zhashx_lookup (pipeline->committed_at_start, key);
            if (position && position->position >= 0
                && (uint64_t) position->position >> S_INDEX_BITS > highest)
                highest = (uint64_t) position->position >> S_INDEX_BITS;
        }
    }
    return highest;
}

static void
s_handle_hello (zetl_dispatcher_t *self, zframe_t *routing_id, zetl_msg_t *msg)
{
    if (msg->code != ZETL_ROLE_PRODUCER || !msg->name) {
        s_send_error (self, routing_id, ZETL_ERR_PROTOCOL, 0,
                      "HELLO on the producers socket needs role producer (3) and a name");
        return;
    }
    s_producer_t *producer = (s_producer_t *) zhashx_lookup (self->producer_states, msg->name);
    if (!producer) {
        producer = (s_producer_t *) zmalloc (sizeof (s_producer_t));
        producer->name = strdup (msg->name);
        producer->source = zsys_sprintf ("producer-%s", msg->name);
        producer->pending = zlistx_new ();
        zlistx_set_destructor (producer->pending, (zlistx_destructor_fn *) zstr_free);
        producer->pipeline = -1;
        zhashx_insert (self->producer_states, msg->name, producer);
    }
    zframe_destroy (&producer->routing_id);
    producer->routing_id = zframe_dup (routing_id);
    //  A new session resends what it holds from its oldest unACKed batch on
    producer->next = 0;
    zetl_msg_t *welcome = zetl_dispatch_msg (self, ZETL_MSG_WELCOME);
    welcome->batch_id = producer->acked;
    uint64_t taken = s_highest_taken (self, producer);
    welcome->attempt = taken > UINT32_MAX ? UINT32_MAX : (uint32_t) taken;
    zframe_t *body = zframe_new (self->args.config->text, self->args.config->text_len);
    zetl_msg_set_body (welcome, &body);
    s_send (self, producer, welcome);
    zetl_log_info ("dispatch", "producer_joined",
                   json_pack ("{s:s, s:I}", "producer", producer->name, "acked",
                              (json_int_t) producer->acked));
}

//  Turn BATCH's records into a chunk of PIPELINE's producer feed. Returns
//  the chunk (caller owns it), or NULL with *REASON set.
static zetl_chunk_t *
s_read_batch (zetl_dispatcher_t *self, size_t index, s_producer_t *producer, zetl_msg_t *batch,
              const char **reason)
{
    zetl_dispatch_pipeline_t *pipeline = &self->pipelines[index];
    if (!pipeline->producer_feed) {
        pipeline->producer_feed = zmalloc (sizeof (zetl_feed_t));
        zetl_feed_init ((zetl_feed_t *) pipeline->producer_feed, NULL, self->args.config, index, 0);
    }
    zetl_feed_t *feed = (zetl_feed_t *) pipeline->producer_feed;
    zetl_feed_begin (feed, producer->source, pipeline->committed_at_start);
    zetl_body_reader_t *reader = zetl_msg_body_reader (batch, reason);
    zetl_entry_t entry;
    int rc = reader ? 1 : -1;
    uint64_t record = 0;
    while (reader && (rc = zetl_body_reader_next_packed (reader, &entry, reason)) == 1)
        zetl_feed_map_row (feed, entry.packed, entry.packed_size,
                           batch->batch_id << S_INDEX_BITS | record++);
    zetl_body_reader_destroy (&reader);
    zetl_chunk_t *chunk = feed->chunk;
    feed->chunk = zetl_chunk_new (feed->pipeline_index, producer->source);
    if (rc != 0)
        zetl_chunk_destroy (&chunk);
    return chunk;
}

static void
s_handle_batch (zetl_dispatcher_t *self, zframe_t *routing_id, zetl_msg_t *msg)
{
    s_producer_t *producer = s_by_routing_id (self, routing_id);
    if (!producer) {
        s_send_error (self, routing_id, ZETL_ERR_UNKNOWN_PEER, msg->batch_id,
                      "unknown producer: say HELLO");
        return;
    }
    uint64_t sequence = msg->batch_id;
    if (sequence <= producer->acked) {
        s_send_ack (self, producer, sequence);  //  A resend of what is done
        return;
    }
    s_batch_t *last = (s_batch_t *) zlistx_last (producer->pending);
    if ((last && sequence <= last->sequence)
        || (producer->next && sequence != producer->next))
        return;  //  In progress already, or after a gap: it comes again
    const char *reason = NULL;
    if (msg->pipeline >= self->pipeline_count || msg->count >= (1u << S_INDEX_BITS))
        reason = msg->pipeline >= self->pipeline_count ? "no pipeline with this index"
                                                      : "more records than a batch may hold";
    zetl_dispatch_pipeline_t *pipeline = reason ? NULL : &self->pipelines[msg->pipeline];
    zetl_chunk_t *chunk = pipeline ? s_read_batch (self, msg->pipeline, producer, msg, &reason) : NULL;
    if (!chunk) {
        s_send_error (self, routing_id, ZETL_ERR_DATA, sequence, reason);
        return;
    }
    if (!pipeline->has_producer_source) {
        pipeline->producer_source = zetl_admit_add_source (pipeline->admit);
        pipeline->has_producer_source = true;
    }
    producer->next = sequence + 1;
    producer->pipeline = msg->pipeline;
    producer->caught_up = false;  //  Its records make the source active again (zetl_admit)
    s_batch_t *batch = (s_batch_t *) zmalloc (sizeof (s_batch_t));
    batch->producer = producer;
    batch->sequence = sequence;
    batch->outstanding = chunk->count;
    zlistx_add_end (producer->pending, batch);
    zetl_dispatch_take_chunk (self, chunk, ZETL_DISPATCH_PRODUCERS, batch);
    zetl_chunk_destroy (&chunk);
    s_ack_done (self, producer);  //  Nothing left to commit if all was committed before
}

//  PRODUCER (may be NULL) has nothing more for now. When every producer with
//  a session on its pipeline has said so, the producers' source is caught up
static void
s_caught_up (zetl_dispatcher_t *self, s_producer_t *producer)
{
    if (!producer || producer->pipeline < 0)
        return;
    producer->caught_up = true;
    zetl_dispatch_pipeline_t *pipeline = &self->pipelines[producer->pipeline];
    if (!pipeline->has_producer_source)
        return;
    for (s_producer_t *other = (s_producer_t *) zhashx_first (self->producer_states); other;
         other = (s_producer_t *) zhashx_next (self->producer_states))
        if (other->pipeline == producer->pipeline && other->routing_id && !other->caught_up)
            return;
    zetl_admit_caught_up (pipeline->admit, pipeline->producer_source);
}

void
zetl_dispatch_handle_producer (zetl_dispatcher_t *self)
{
    zframe_t *routing_id = NULL;
    const char *reason = NULL;
    zetl_msg_t *msg = zetl_msg_recv_router (self->producers, &routing_id, &reason);
    if (!msg) {
        if (routing_id && reason)
            s_send_error (self, routing_id,
                          strstr (reason, "version") ? ZETL_ERR_VERSION : ZETL_ERR_PROTOCOL, 0,
                          reason);
        zframe_destroy (&routing_id);
        return;
    }
    if (msg->type == ZETL_MSG_HELLO)
        s_handle_hello (self, routing_id, msg);
    else if (msg->type == ZETL_MSG_BATCH)
        s_handle_batch (self, routing_id, msg);
    else if (msg->type == ZETL_MSG_HEARTBEAT && msg->code == ZETL_CAUGHT_UP)
        s_caught_up (self, s_by_routing_id (self, routing_id));
    else if (msg->type == ZETL_MSG_BYE) {
        s_producer_t *producer = s_by_routing_id (self, routing_id);
        if (producer) {
            zframe_destroy (&producer->routing_id);
            s_caught_up (self, producer);  //  A producer gone holds nothing back
        }
    }
    zetl_msg_destroy (&msg);
    zframe_destroy (&routing_id);
}

void
zetl_dispatch_producers_committed (zetl_dispatcher_t *self, size_t pipeline, uint32_t partition,
                                   uint32_t count)
{
    zetl_dispatch_track_t *track = &self->pipelines[pipeline].tracks[partition];
    track->committed += count;
    zetl_dispatch_tag_t *tag;
    while (track->tags && (tag = (zetl_dispatch_tag_t *) zlistx_first (track->tags))
           && tag->index < track->committed) {
        s_batch_t *batch = (s_batch_t *) tag->batch;
        zlistx_delete (track->tags, zlistx_cursor (track->tags));
        if (--batch->outstanding == 0)
            s_ack_done (self, batch->producer);
    }
}
