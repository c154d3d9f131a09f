/*  zetl_dispatch_peers - the dispatcher's side of workers and sinks

    HELLO and WELCOME, the sink set sent to workers, READY credit, COMMIT,
    ERROR and BYE, and what happens to a peer's batches when it goes.
*/
#include "zetl_curve.h"
#include "zetl_dispatch_internal.h"
#include "zetl_split.h"
#include "zetl_proto_sinks.h"

#define S_RETRY_AFTER_MS 200  //  a batch handed back by a worker waits this long at first
#define S_RETRY_MAX_MS 5000   //  and at most this long
#define S_CRASHES_SUSPECT 2   //  workers that died processing a batch before it is taken for poison
#define S_CRASH_PIECES 16     //  pieces such a batch is split in, each death costing a worker

static void s_data_failure (zetl_dispatcher_t *self, zetl_batch_t *batch, const char *stage,
                            uint32_t pieces, const char *reason, const char *error);

static void
s_send_sinks (zetl_dispatcher_t *self, zetl_peer_t *only)
{
    zetl_peer_t *sinks[ZETL_DISPATCH_MAX_SINKS];
    size_t count = zetl_peers_of_role (self->peers, ZETL_ROLE_SINK, sinks, ZETL_DISPATCH_MAX_SINKS);
    const char *names[ZETL_DISPATCH_MAX_SINKS], *endpoints[ZETL_DISPATCH_MAX_SINKS],
        *keys[ZETL_DISPATCH_MAX_SINKS];
    for (size_t index = 0; index < count; index++) {
        names[index] = sinks[index]->name;
        endpoints[index] = sinks[index]->endpoint ? sinks[index]->endpoint : "";
        keys[index] = sinks[index]->curve_key;
    }
    zetl_msg_t *msg = zetl_dispatch_msg (self, ZETL_MSG_SINKS);
    zframe_t *body = zetl_sinks_encode (names, endpoints, keys, count);
    zetl_msg_set_body (msg, &body);
    for (zetl_peer_t *peer = zetl_peers_first (self->peers); peer;
         peer = zetl_peers_next (self->peers))
        if (peer->role == ZETL_ROLE_WORKER && (!only || peer == only))
            zetl_dispatch_send (self->workers, peer, msg);
    zetl_msg_destroy (&msg);
}

//  The batch WORKER was processing: the oldest it was sent and has not
//  finished (a worker takes its batches one at a time, in order), or NULL
static zetl_batch_t *
s_processing (zetl_dispatcher_t *self, zetl_peer_t *worker)
{
    zetl_batch_t *oldest = NULL;
    for (size_t p = 0; p < self->pipeline_count; p++) {
        zetl_dispatch_pipeline_t *pipeline = &self->pipelines[p];
        for (uint32_t number = 0; number < pipeline->pipeline->partitions; number++) {
            zetl_batch_t *batch = pipeline->partitions[number].inflight;
            if (batch && batch->state == ZETL_BATCH_DISPATCHED && batch->worker == worker
                && (!oldest || batch->dispatch_seq < oldest->dispatch_seq))
                oldest = batch;
        }
    }
    return oldest;
}

//  WORKER died (WHY) while processing BATCH. Once is no proof: workers die
//  for other reasons too. A batch that workers keep dying on is taken for
//  poison: split S_CRASH_PIECES at a time until the record that kills them
//  stands alone, which is dead-lettered (reason "crashed") after
//  max_retries more deaths. Other records go on meanwhile.
static void
s_crashed_on (zetl_dispatcher_t *self, zetl_peer_t *worker, zetl_batch_t *batch, const char *why)
{
    batch->crashes++;
    zetl_log_warn ("dispatch", "batch_suspected",
                   json_pack ("{s:s, s:I, s:i, s:s, s:i}", "peer", worker->name, "batch",
                              (json_int_t) batch->id, "records", (int) batch->count, "why", why,
                              "crashes", (int) batch->crashes));
    if (batch->crashes < S_CRASHES_SUSPECT)
        return;
    char error[256];
    snprintf (error, sizeof error, "%u workers died processing it; the last, %s: %s",
              batch->crashes, worker->name, why);
    s_data_failure (self, batch, "worker", S_CRASH_PIECES, "crashed", error);
}

//  The membership reason for a departure's WHY
static const char *
s_reason (const char *why, bool draining)
{
    if (streq (why, "said BYE"))
        return draining ? "drained" : "bye";
    if (streq (why, "heartbeats stopped"))
        return "silent";
    if (streq (why, "said HELLO again"))
        return "hello";
    return why;  //  "restarted", "unreachable"
}

//  A peer left or died: its batches go back to their queues
void
zetl_dispatch_peer_gone (zetl_dispatcher_t *self, zetl_peer_t *peer, const char *why)
{
    zetl_log_info ("dispatch", peer->role == ZETL_ROLE_WORKER ? "worker_left" : "sink_left",
                   json_pack ("{s:s, s:s, s:i}", "peer", peer->name, "why", why, "batches",
                              (int) peer->assigned));
    //  Leaving by BYE or a new HELLO is no death
    bool died = strcmp (why, "said BYE") != 0 && strcmp (why, "said HELLO again") != 0;
    zetl_batch_t *processing =
        died && peer->role == ZETL_ROLE_WORKER ? s_processing (self, peer) : NULL;
    if (processing)
        s_crashed_on (self, peer, processing, why);
    for (size_t p = 0; p < self->pipeline_count; p++) {
        zetl_dispatch_pipeline_t *pipeline = &self->pipelines[p];
        for (uint32_t number = 0; number < pipeline->pipeline->partitions; number++) {
            zetl_batch_t *batch = pipeline->partitions[number].inflight;
            if (batch && (batch->worker == peer || batch->sink == peer))
                zetl_dispatch_requeue (self, batch, 0);
        }
    }
    int role = peer->role;
    char *name = strdup (peer->name);  //  For the event, once it is gone from the counts
    const char *reason = s_reason (why, peer->draining);
    zetl_peers_remove (self->peers, peer);
    zetl_dispatch_membership (self, role, name, "left", reason);
    free (name);
    if (role == ZETL_ROLE_SINK)
        s_send_sinks (self, NULL);
}

static void
s_handle_hello (zetl_dispatcher_t *self, zsock_t *router, zframe_t *routing_id, zetl_msg_t *msg)
{
    int role = router == self->workers ? ZETL_ROLE_WORKER : ZETL_ROLE_SINK;
    zetl_peer_t *peer = zetl_peers_lookup (self->peers, routing_id);
    if (peer)
        zetl_dispatch_peer_gone (self, peer, "said HELLO again");
    peer = zetl_peers_add (self->peers, routing_id, role, msg->name, msg->endpoint);
    //  A sink's HELLO carries the CURVE key its data endpoint serves with
    if (role == ZETL_ROLE_SINK && zetl_curve_key_valid (msg->text))
        peer->curve_key = strdup (msg->text);
    //  A process restarted under the same name: its old self is gone
    zetl_peer_t *old = zetl_peers_find_name (self->peers, role, peer->name, peer);
    if (old)
        zetl_dispatch_peer_gone (self, old, "restarted");
    zetl_msg_t *welcome = zetl_dispatch_msg (self, ZETL_MSG_WELCOME);
    zframe_t *body = zframe_new (self->args.config->text, self->args.config->text_len);
    zetl_msg_set_body (welcome, &body);
    zetl_dispatch_send (router, peer, welcome);
    zetl_msg_destroy (&welcome);
    zetl_log_info ("dispatch", role == ZETL_ROLE_WORKER ? "worker_joined" : "sink_joined",
                   json_pack ("{s:s, s:s?}", "peer", peer->name, "endpoint", peer->endpoint));
    zetl_dispatch_membership (self, role, peer->name, "joined", "hello");
    if (role == ZETL_ROLE_SINK)
        s_send_sinks (self, NULL);
    else
        s_send_sinks (self, peer);
}

//  BATCH is done: committed by its sink (or, without acknowledgements,
//  handed on by its worker). It is forgotten.
static void
s_commit (zetl_dispatcher_t *self, zetl_batch_t *batch)
{
    if (batch->state != ZETL_BATCH_QUEUED) {
        if (batch->worker)
            batch->worker->assigned--;
        if (batch->sink)
            batch->sink->assigned--;
    }
    zetl_dispatch_pipeline_t *pipeline = &self->pipelines[batch->partition->pipeline];
    pipeline->committed += batch->count;
    int64_t now = zclock_mono ();
    if (batch->dispatched_ms)
        zetl_histogram_observe (&pipeline->batch_latency,
                                (double) (now - batch->dispatched_ms) / 1e3);
    if (batch->taken_ms)
        zetl_histogram_observe (&pipeline->end_to_end_latency,
                                (double) (now - batch->taken_ms) / 1e3);
    if (pipeline->ordered)
        zetl_ordered_committed (pipeline->ordered, batch->partition->number, batch->count);
    zetl_dispatch_producers_committed (self, batch->partition->pipeline,
                                       batch->partition->number, batch->count);
    zetl_batches_commit (self->batches, batch);
    zetl_dispatch_grant_credit (self);
}

static void
s_handle_commit (zetl_dispatcher_t *self, zetl_msg_t *msg)
{
    zetl_batch_t *batch = zetl_batches_lookup (self->batches, msg->batch_id);
    if (batch)
        s_commit (self, batch);
    else if (self->unconfirmed)  //  Done without acknowledgements, or an earlier try
        self->unconfirmed--;
}

//  BATCH failed for its data at a peer of STAGE ("worker" or "sink"): it is
//  split, PIECES at a time, until the bad record stands alone; that record
//  is tried max_retries times, then dead-lettered for REASON with ERROR
static void
s_data_failure (zetl_dispatcher_t *self, zetl_batch_t *batch, const char *stage, uint32_t pieces,
                const char *reason, const char *error)
{
    const zetl_pipeline_t *pipeline = self->pipelines[batch->partition->pipeline].pipeline;
    batch->data_failures++;
    zetl_dispatch_requeue (self, batch, batch->count > 1 ? 0 : pipeline->retry_delay_ms);
    if (batch->count > 1) {
        zframe_t *bodies[ZETL_SPLIT_MAX_PIECES];
        pieces = pieces < batch->count ? pieces : batch->count;
        if (zetl_split_body (batch->body, batch->count, pieces, bodies) == 0) {
            zetl_log_info ("dispatch", "batch_split",
                           json_pack ("{s:s, s:I, s:i, s:i, s:s}", "pipeline", pipeline->id,
                                      "batch", (json_int_t) batch->id, "records",
                                      (int) batch->count, "pieces", (int) pieces, "error", error));
            zetl_batches_split (self->batches, batch, bodies, pieces);
        }
        return;
    }
    if (batch->data_failures < (uint32_t) pipeline->max_retries)
        return;
    zframe_t *dead = zetl_split_dead_letter (batch->body, stage, reason, error);
    if (!dead)
        return;
    zetl_log_warn ("dispatch", "record_dead_lettered",
                   json_pack ("{s:s, s:I, s:i, s:s, s:s}", "pipeline", pipeline->id, "batch",
                              (json_int_t) batch->id, "failures", (int) batch->data_failures,
                              "reason", reason, "error", error));
    zframe_destroy (&batch->body);
    batch->body = dead;
    batch->data_failures = 0;
}

static void
s_handle_error (zetl_dispatcher_t *self, zetl_peer_t *peer, zetl_msg_t *msg)
{
    zetl_batch_t *batch = msg->batch_id ? zetl_batches_lookup (self->batches, msg->batch_id) : NULL;
    //  Data errors are each worth a line; an outage repeats for every batch
    if (msg->code == ZETL_ERR_DATA || zetl_log_every (&self->peer_errors, 5000))
        zetl_log_warn ("dispatch", "peer_error",
                       json_pack ("{s:s, s:i, s:I, s:s}", "peer", peer->name, "code",
                                  (int) msg->code, "batch", (json_int_t) msg->batch_id, "text",
                                  msg->text ? msg->text : ""));
    if (!batch || batch->state == ZETL_BATCH_QUEUED)
        return;
    if (msg->code == ZETL_ERR_DATA)
        s_data_failure (self, batch, peer->role == ZETL_ROLE_WORKER ? "worker" : "sink", 2,
                        "rejected", msg->text ? msg->text : "refused for its data");
    else if (msg->code == ZETL_ERR_LUT_GONE) {
        //  Never committed, so pinning it afresh is as if it went out now
        batch->lut_count = 0;
        zetl_dispatch_requeue (self, batch, S_RETRY_AFTER_MS);
    }
    else {
        //  Not the data's fault (an outage the peer waits out): retried
        //  forever, each wait twice the last up to S_RETRY_MAX_MS
        uint32_t doublings = batch->attempt > 6 ? 5 : batch->attempt ? batch->attempt - 1 : 0;
        int64_t delay = (int64_t) S_RETRY_AFTER_MS << doublings;
        zetl_dispatch_requeue (self, batch, delay < S_RETRY_MAX_MS ? delay : S_RETRY_MAX_MS);
    }
}

void
zetl_dispatch_handle_message (zetl_dispatcher_t *self, zsock_t *router)
{
    zframe_t *routing_id = NULL;
    const char *reason = NULL;
    zetl_msg_t *msg = zetl_msg_recv_router (router, &routing_id, &reason);
    if (!msg) {
        if (reason && zetl_log_every (&self->bad_frames, 60000))
            zetl_log_warn ("dispatch", "frame_malformed",
                           json_pack ("{s:s, s:I}", "reason", reason, "seen",
                                      (json_int_t) self->bad_frames.seen));
        if (routing_id && reason) {
            zetl_msg_t *error = zetl_dispatch_msg (self, ZETL_MSG_ERROR);
            error->code = strstr (reason, "version") ? ZETL_ERR_VERSION : ZETL_ERR_PROTOCOL;
            zetl_msg_set_str (&error->text, reason);
            zetl_msg_send_router (error, router, routing_id);
            zetl_msg_destroy (&error);
        }
        zframe_destroy (&routing_id);
        return;
    }
    if (msg->type == ZETL_MSG_HELLO)
        s_handle_hello (self, router, routing_id, msg);
    else {
        zetl_peer_t *peer = zetl_peers_lookup (self->peers, routing_id);
        if (!peer) {
            if (msg->type != ZETL_MSG_BYE) {
                if (zetl_log_every (&self->unknown_peers, 10000))
                    zetl_log_info ("dispatch", "unknown_peer",
                                   json_pack ("{s:s, s:I}", "type", zetl_msg_type_name (msg->type),
                                              "seen", (json_int_t) self->unknown_peers.seen));
                zetl_msg_t *error = zetl_dispatch_msg (self, ZETL_MSG_ERROR);
                error->code = ZETL_ERR_UNKNOWN_PEER;
                zetl_msg_set_str (&error->text, "unknown peer: say HELLO");
                zetl_msg_send_router (error, router, routing_id);
                zetl_msg_destroy (&error);
            }
        }
        else {
            peer->last_seen_ms = zclock_mono ();
            if (msg->type == ZETL_MSG_READY && peer->role == ZETL_ROLE_SINK)
                peer->credit = msg->credit;  //  A sink's credit is its cap of uncommitted batches
            else if (msg->type == ZETL_MSG_READY && peer->role == ZETL_ROLE_WORKER) {
                if (!peer->draining)
                    peer->credit += msg->credit;
                zetl_batch_t *batch =
                    msg->batch_id ? zetl_batches_lookup (self->batches, msg->batch_id) : NULL;
                if (msg->batch_id && peer->stalled) {
                    peer->stalled = false;  //  Progress: it finished a batch
                    zetl_log_info ("dispatch", "peer_progressing",
                                   json_pack ("{s:s}", "peer", peer->name));
                }
                if (batch && batch->state == ZETL_BATCH_DISPATCHED && batch->worker == peer) {
                    batch->state = ZETL_BATCH_PROCESSED;
                    batch->worker = NULL;
                    peer->assigned--;
                    if (!self->pipelines[batch->partition->pipeline].pipeline->acknowledgements) {
                        s_commit (self, batch);  //  Handed on: done, without waiting for its sink
                        self->unconfirmed++;     //  (`once` still waits for its sink to end)
                    }
                }
            }
            else if (msg->type == ZETL_MSG_COMMIT && peer->role == ZETL_ROLE_SINK)
                s_handle_commit (self, msg);
            else if (msg->type == ZETL_MSG_ERROR)
                s_handle_error (self, peer, msg);
            else if (msg->type == ZETL_MSG_HEARTBEAT)
                zetl_dispatch_peer_load (peer, msg);
            else if (msg->type == ZETL_MSG_DRAIN)
                zetl_dispatch_drain_peer (self, peer);
            else if (msg->type == ZETL_MSG_BYE)
                zetl_dispatch_peer_gone (self, peer, "said BYE");
        }
    }
    zetl_msg_destroy (&msg);
    zframe_destroy (&routing_id);
}

