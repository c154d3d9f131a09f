/*  zetl_dispatch - the coordinator's dispatcher, as an actor  */
#include "zetl_dispatch.h"
#include "zetl_dispatch_internal.h"
#include "zetl_curve.h"
#include "zetl_backoff.h"
#include "zetl_chunk.h"
#include "zetl_lease.h"
#include "zetl_pg.h"
#include "zetl_session.h"

#include <inttypes.h>

#define S_TICK_MS 10              //  timers: linger, deadlines, liveness

//  ---------------------------------------------------------------------
//  Sending

int
zetl_dispatch_send (zsock_t *router, zetl_peer_t *peer, zetl_msg_t *msg)
{
    return zetl_msg_send_router (msg, router, peer->routing_id);
}

zetl_msg_t *
zetl_dispatch_msg (zetl_dispatcher_t *self, zetl_msg_type_t type)
{
    zetl_msg_t *msg = zetl_msg_new (type);
    msg->config_hash = self->args.config->hash;
    msg->epoch = self->epoch;
    return msg;
}

//  The sink a partition's batches go to: stable while the sink set is
static zetl_peer_t *
s_sink_for (zetl_dispatcher_t *self, const zetl_partition_t *partition)
{
    zetl_peer_t *sinks[ZETL_DISPATCH_MAX_SINKS];
    size_t count = zetl_peers_of_role (self->peers, ZETL_ROLE_SINK, sinks, ZETL_DISPATCH_MAX_SINKS);
    return count ? sinks[partition->number % count] : NULL;
}

static zetl_peer_t *
s_worker_with_credit (zetl_dispatcher_t *self)
{
    zetl_peer_t *best = NULL;
    for (zetl_peer_t *peer = zetl_peers_first (self->peers); peer;
         peer = zetl_peers_next (self->peers))
        if (peer->role == ZETL_ROLE_WORKER && peer->credit > 0 && !peer->stalled
            && (!best || peer->credit > best->credit))
            best = peer;
    return best;
}

//  Send BATCH to WORKER for SINK. Returns 0, or -1 if the worker is gone.
static int
s_send_batch (zetl_dispatcher_t *self, zetl_batch_t *batch, zetl_peer_t *worker, zetl_peer_t *sink)
{
    const zetl_dispatch_pipeline_t *pipeline = &self->pipelines[batch->partition->pipeline];
    zetl_msg_t *msg = zetl_dispatch_msg (self, ZETL_MSG_BATCH);
    msg->batch_id = batch->id;
    msg->pipeline = (uint32_t) batch->partition->pipeline;
    msg->partition = batch->partition->number;
    msg->count = batch->count;
    msg->attempt = batch->attempt + 1;
    msg->watermark_us = zetl_admit_watermark (pipeline->admit);
    msg->lut_count = batch->lut_count;
    memcpy (msg->luts, batch->luts, sizeof msg->luts);
    zetl_msg_set_str (&msg->sink, sink->name);
    msg->body = batch->body;  //  Lent for the send only: the batch keeps it
    int rc = zetl_dispatch_send (self->workers, worker, msg);
    msg->body = NULL;
    zetl_msg_destroy (&msg);
    if (rc == 0) {
        batch->attempt++;
        batch->dispatch_seq = ++self->dispatches;
        if (!batch->dispatched_ms)
            batch->dispatched_ms = zclock_mono ();
        batch->state = ZETL_BATCH_DISPATCHED;
        batch->worker = worker;
        batch->sink = sink;
        batch->deadline_ms = zclock_mono () + pipeline->pipeline->batch_timeout_ms;
        worker->credit--;
        worker->assigned++;
        sink->assigned++;
    }
    return rc;
}

//  Dispatch while workers have credit and partitions have batches
static void
s_dispatch (zetl_dispatcher_t *self)
{
    size_t rounds = zetl_batches_runnable (self->batches);
    int64_t now = zclock_mono ();
    //  Batches that wait only for want of worker credit: the signal's credit wait
    zetl_autoscale_note_credit (self->autoscale, rounds && !s_worker_with_credit (self),
                                zclock_usecs ());
    while (rounds-- > 0) {
        zetl_peer_t *worker = s_worker_with_credit (self);
        if (!worker)
            return;
        zetl_partition_t *partition = zetl_batches_next_runnable (self->batches);
        zetl_batch_t *batch = (zetl_batch_t *) zlistx_first (partition->queue);
        if (partition->inflight || !batch)
            continue;
        if (self->draining && batch->attempt == 0)
            continue;  //  Draining: only batches that were in flight go out again
        zetl_peer_t *sink = s_sink_for (self, partition);
        if (!sink || sink->assigned >= (sink->credit ? sink->credit : ZETL_SINK_CREDIT)
            || batch->not_before_ms > now || !zetl_dispatch_luts_pin (self, batch)) {
            zetl_batches_make_runnable (self->batches, partition);  //  Later: back of the line
            continue;
        }
        if (s_send_batch (self, batch, worker, sink) != 0) {
            zetl_batches_make_runnable (self->batches, partition);
            zetl_dispatch_peer_gone (self, worker, "unreachable");
            continue;
        }
        zetl_batches_take (self->batches, partition);
    }
}

//  Put BATCH back at the head of its partition's queue, freeing its peers
void
zetl_dispatch_requeue (zetl_dispatcher_t *self, zetl_batch_t *batch, int64_t delay_ms)
{
    if (batch->state == ZETL_BATCH_QUEUED)
        return;
    if (batch->worker)
        batch->worker->assigned--;
    if (batch->sink)
        batch->sink->assigned--;
    zetl_batches_requeue (self->batches, batch, zclock_mono () + delay_ms);
    self->redispatched++;
}

//  ---------------------------------------------------------------------
//  Timers

//  Stats once a second; a watermark that moved goes to the event socket and,
//  as WATERMARK, to every worker and sink
static void
s_publish (zetl_dispatcher_t *self, int64_t now)
{
    if (now < self->next_stats_ms)
        return;
    self->next_stats_ms = now + 1000;
    zetl_dispatch_scale_tick (self, now);
    if (self->args.snapshot) {
        json_t *status = zetl_dispatch_status (self);
        zetl_snapshot_publish (self->args.snapshot, &status);
    }
    zetl_events_load_t load = {zetl_batches_count (self->batches),
                               zetl_batches_held (self->batches), 0, self->redispatched,
                               (uint32_t) zetl_peers_count (self->peers, ZETL_ROLE_WORKER),
                               (uint32_t) zetl_peers_count (self->peers, ZETL_ROLE_SINK), 0, 0, 0};
    for (int index = 0; index < ZETL_DISPATCH_PEER_SOCKETS; index++)
        if (self->monitors[index])
            load.connections += zetl_monitor_connections (self->monitors[index]);
    for (size_t p = 0; p < self->pipeline_count; p++) {
        zetl_dispatch_pipeline_t *pipeline = &self->pipelines[p];
        zetl_admit_counters_t arrival;
        zetl_admit_counters (pipeline->admit, &arrival);
        load.committed = pipeline->committed;
        zetl_ordered_counters_t ordered = {0};
        if (pipeline->ordered)
            zetl_ordered_counters (pipeline->ordered, &ordered);
        load.reordering = ordered.held;
        load.reorder_overflow = ordered.overflow;
        if (self->events)
            zetl_events_stats (self->events, pipeline->pipeline->id, &arrival, &load);
        if (arrival.watermark_us == pipeline->published_watermark)
            continue;
        pipeline->published_watermark = arrival.watermark_us;
        if (self->events)
            zetl_events_watermark (self->events, pipeline->pipeline->id, arrival.watermark_us);
        zetl_msg_t *msg = zetl_dispatch_msg (self, ZETL_MSG_WATERMARK);
        msg->pipeline = (uint32_t) p;
        msg->watermark_us = arrival.watermark_us;
        for (zetl_peer_t *peer = zetl_peers_first (self->peers); peer;
             peer = zetl_peers_next (self->peers))
            zetl_dispatch_send (peer->role == ZETL_ROLE_WORKER ? self->workers : self->sinks, peer, msg);
        zetl_msg_destroy (&msg);
    }
}

//  WORKER (may be NULL) holds a batch past its deadline while its heartbeats
//  say it is alive: hung or overloaded. It gets nothing new until it shows
//  progress; its batch goes elsewhere.
static void
s_stalled (zetl_peer_t *worker)
{
    if (!worker || worker->stalled)
        return;
    worker->stalled = true;
    zetl_log_warn ("dispatch", "peer_stalled",
                   json_pack ("{s:s, s:s}", "peer", worker->name, "hint",
                              "alive but not finishing its batch: it gets no new batch until "
                              "it does"));
}

static void
s_tick (zetl_dispatcher_t *self)
{
    int64_t now = zclock_mono ();
    //  Partial batches leave after batch_linger (at once when the files are read)
    for (size_t p = 0; p < self->pipeline_count; p++) {
        zetl_dispatch_pipeline_t *pipeline = &self->pipelines[p];
        zetl_admit_tick (pipeline->admit, now);
        pipeline->now_ms = now;
        zetl_dispatch_ordered_release (pipeline);
        for (uint32_t number = 0; number < pipeline->pipeline->partitions; number++) {
            zetl_partition_t *partition = &pipeline->partitions[number];
            if (partition->building
                && (pipeline->sources[ZETL_DISPATCH_READER].drained
                    || now - partition->first_ms >= pipeline->pipeline->batch_linger_ms))
                zetl_batches_seal (self->batches, partition);
            zetl_batch_t *batch = partition->inflight;
            if (batch && now >= batch->deadline_ms) {
                zetl_log_warn ("dispatch", "batch_deadline",
                               json_pack ("{s:s, s:I, s:i, s:i}", "pipeline",
                                          pipeline->pipeline->id, "batch", (json_int_t) batch->id,
                                          "partition", (int) number, "attempt",
                                          (int) batch->attempt));
                s_stalled (batch->state == ZETL_BATCH_DISPATCHED ? batch->worker : NULL);
                zetl_dispatch_requeue (self, batch, 0);
            }
        }
    }
    //  Liveness: heartbeats out, silent peers out
    zlistx_t *gone = zlistx_new ();
    for (zetl_peer_t *peer = zetl_peers_first (self->peers); peer;
         peer = zetl_peers_next (self->peers))
        if (now - peer->last_seen_ms > ZETL_HEARTBEAT_MS * ZETL_HEARTBEAT_MISSED)
            zlistx_add_end (gone, peer);
    for (zetl_peer_t *peer = (zetl_peer_t *) zlistx_first (gone); peer;
         peer = (zetl_peer_t *) zlistx_next (gone))
        zetl_dispatch_peer_gone (self, peer, "heartbeats stopped");
    zlistx_destroy (&gone);
    s_publish (self, now);
    zetl_dispatch_watermark_checkpoint (self, false);
    zetl_dispatch_luts_tick (self, now);
    if (now >= self->next_beat_ms) {
        zetl_msg_t *beat = zetl_dispatch_msg (self, ZETL_MSG_HEARTBEAT);
        for (zetl_peer_t *peer = zetl_peers_first (self->peers); peer;
             peer = zetl_peers_next (self->peers))
            zetl_dispatch_send (peer->role == ZETL_ROLE_WORKER ? self->workers : self->sinks, peer, beat);
        zetl_msg_destroy (&beat);
        self->next_beat_ms = now + ZETL_HEARTBEAT_MS;
    }
}

//  ---------------------------------------------------------------------
//  Start, end and the loop

//  Wait up to DELAY_MS for $TERM on the pipe. Returns true if told to stop.
static bool
s_wait_or_stop (zetl_dispatcher_t *self, int64_t delay_ms)
{
    zpoller_t *poller = zpoller_new (self->pipe, NULL);
    void *which = zpoller_wait (poller, (int) delay_ms);
    bool stop = zpoller_terminated (poller);
    zpoller_destroy (&poller);
    if (which == self->pipe) {
        char *command = zstr_recv (self->pipe);  //  Only $TERM comes on the pipe
        free (command);
        self->terminated = true;
    }
    return stop || self->terminated;
}

//  Connect to PostgreSQL, retrying with backoff: an outage delays, never fails
static PGconn *
s_connect_pg (zetl_dispatcher_t *self)
{
    zetl_backoff_t backoff;
    zetl_backoff_init (&backoff, 100, 5000);
    while (!zsys_interrupted && !self->terminated) {
        char *error = NULL;
        PGconn *conn = zetl_pg_open (self->args.postgres, &error);
        if (conn)
            return conn;
        int64_t delay_ms = zetl_backoff_next (&backoff);
        zetl_log_error ("dispatch", "pg_unavailable",
                        json_pack ("{s:s, s:I}", "error", error ? error : "cannot create zetl tables",
                                   "retry_ms", (json_int_t) delay_ms));
        free (error);
        if (s_wait_or_stop (self, delay_ms))
            break;
    }
    return NULL;
}

static bool
s_all_done (zetl_dispatcher_t *self)
{
    for (size_t p = 0; p < self->pipeline_count; p++) {
        for (int kind = 0; kind < ZETL_DISPATCH_SOURCES; kind++)
            if (!self->pipelines[p].sources[kind].drained)
                return false;
        zetl_ordered_counters_t ordered = {0};
        if (self->pipelines[p].ordered)
            zetl_ordered_counters (self->pipelines[p].ordered, &ordered);
        if (ordered.held)
            return false;
    }
    return zetl_batches_count (self->batches) == 0 && zetl_batches_held (self->batches) == 0
           && self->unconfirmed == 0;
}

//  Print the reconciliation of each pipeline (one JSON line each on
//  stdout). Returns the exit code: 0 when every pipeline balances.
static int
s_reconcile (zetl_dispatcher_t *self)
{
    PGconn *conn = s_connect_pg (self);
    if (!conn)
        return 1;
    for (size_t p = 0; p < self->pipeline_count; p++) {
        zetl_admit_counters_t counters;
        zetl_admit_counters (self->pipelines[p].admit, &counters);
        zetl_reconcile_set_arrival (self->reconcile, p, &counters);
        zetl_ordered_counters_t ordered = {0};
        if (self->pipelines[p].ordered)
            zetl_ordered_counters (self->pipelines[p].ordered, &ordered);
        zetl_reconcile_set_reorder_overflow (self->reconcile, p, ordered.overflow);
    }
    int rc = zetl_reconcile_report (self->reconcile, conn, stdout);
    PQfinish (conn);
    return rc;
}

static zsock_t *
s_bind_router (zetl_dispatcher_t *self, const char *endpoint)
{
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    zsock_set_router_mandatory (router, 1);  //  A send to a gone peer fails instead of vanishing
    zsock_set_sndtimeo (router, 0);
    zsock_set_linger (router, 0);
    zsock_set_sndhwm (router, 100000);
    zsock_set_rcvhwm (router, 100000);
    zsock_set_maxmsgsize (router, self->args.config->limits.max_frame);  //  libzmq drops larger
    zetl_curve_serve (router);
    if (zsock_bind (router, "%s", endpoint) < 0) {
        zetl_log_error ("dispatch", "bind_failed",
                        json_pack ("{s:s, s:s, s:s}", "endpoint", endpoint, "error",
                                   zmq_strerror (zmq_errno ()), "hint",
                                   "is another coordinator running? change cluster endpoints"));
        zsock_destroy (&router);
    }
    return router;
}

static void
s_destroy (zetl_dispatcher_t *self)
{
    zetl_dispatch_producers_stop (self);
    zetl_dispatch_luts_stop (self);
    for (size_t p = 0; p < self->pipeline_count; p++) {
        zetl_dispatch_pipeline_t *pipeline = &self->pipelines[p];
        for (int kind = 0; kind < ZETL_DISPATCH_SOURCES; kind++)
            zactor_destroy (&pipeline->sources[kind].actor);
        zetl_admit_destroy (&pipeline->admit);
        zetl_ordered_destroy (&pipeline->ordered);
        for (uint32_t number = 0; pipeline->tracks && number < pipeline->pipeline->partitions;
             number++)
            zlistx_destroy (&pipeline->tracks[number].tags);
        free (pipeline->tracks);
        zhashx_destroy (&pipeline->committed_at_start);
    }
    free (self->pipelines);
    zetl_batches_destroy (&self->batches);
    zetl_reconcile_destroy (&self->reconcile);
    zetl_peers_destroy (&self->peers);
    zpoller_destroy (&self->poller);
    //  Monitors before the sockets they watch (the events socket among them)
    for (int index = 0; index < ZETL_DISPATCH_MONITORS; index++)
        zetl_monitor_destroy (&self->monitors[index]);
    zetl_events_destroy (&self->events);
    zetl_autoscale_destroy (&self->autoscale);
    zsock_destroy (&self->producers);
    zactor_destroy (&self->lease);
    zsock_destroy (&self->workers);
    zsock_destroy (&self->sinks);
    free (self);
}

//  Stop taking records: sources stop and nothing new is dispatched, while
//  the batches already dispatched are committed (or dispatched again)
static void
s_start_drain (zetl_dispatcher_t *self)
{
    self->draining = true;
    self->drain_deadline_ms = zclock_mono () + ZETL_DRAIN_MS;
    for (size_t p = 0; p < self->pipeline_count; p++)
        for (int kind = 0; kind < ZETL_DISPATCH_SOURCES; kind++)
            if (self->pipelines[p].sources[kind].actor)
                zstr_send (self->pipelines[p].sources[kind].actor, "STOP");
    zetl_log_info ("dispatch", "drain_started",
                   json_pack ("{s:I}", "batches", (json_int_t) zetl_batches_count (self->batches)));
}

//  True when no source runs and no batch that was ever dispatched is uncommitted
static bool
s_drained (zetl_dispatcher_t *self)
{
    for (size_t p = 0; p < self->pipeline_count; p++) {
        zetl_dispatch_pipeline_t *pipeline = &self->pipelines[p];
        for (int kind = 0; kind < ZETL_DISPATCH_SOURCES; kind++)
            if (pipeline->sources[kind].actor)
                return false;
        for (uint32_t number = 0; number < pipeline->pipeline->partitions; number++) {
            zetl_partition_t *partition = &pipeline->partitions[number];
            zetl_batch_t *head = (zetl_batch_t *) zlistx_first (partition->queue);
            if (partition->inflight || (head && head->attempt > 0))
                return false;
        }
    }
    return true;
}

static void
s_check_drain (zetl_dispatcher_t *self)
{
    bool drained = s_drained (self);
    if (!drained && zclock_mono () < self->drain_deadline_ms)
        return;
    if (drained)
        zetl_log_info ("dispatch", "drained", NULL);
    else
        zetl_log_warn ("dispatch", "drain_incomplete",
                       json_pack ("{s:s}", "hint",
                                  "batches still in flight are dispatched again on the next start"));
    self->terminated = true;
}

//  The monitor whose actor is WHICH, or NULL
static zetl_monitor_t *
s_monitor_of (zetl_dispatcher_t *self, void *which)
{
    for (int index = 0; index < ZETL_DISPATCH_MONITORS; index++)
        if (self->monitors[index] && (void *) zetl_monitor_actor (self->monitors[index]) == which)
            return self->monitors[index];
    return NULL;
}

//  Stand by until the lease is held; returns the epoch, or 0 on $TERM
//  A socket event from MONITOR: counted, logged, and published when a
//  connection came or went
static void
s_handle_monitor (zetl_dispatcher_t *self, zetl_monitor_t *monitor)
{
    int change = zetl_monitor_handle (monitor);
    if (change && self->events)
        zetl_events_connection (self->events, zetl_monitor_role (monitor),
                                change == ZETL_MONITOR_REFUSED ? "refused"
                                : change > 0                   ? "accepted"
                                                               : "closed",
                                zetl_monitor_connections (monitor));
}

static uint32_t
s_wait_lease (zetl_dispatcher_t *self)
{
    zpoller_t *poller = zpoller_new (self->pipe, self->lease, NULL);
    uint32_t epoch = 0;
    while (!epoch) {
        void *which = zpoller_wait (poller, -1);
        if (which == self->lease) {
            char *command = NULL, *value = NULL;
            if (zsock_recv (self->lease, "ss", &command, &value) == 0 && streq (command, "ACQUIRED"))
                epoch = (uint32_t) atoll (value);
            free (command);
            free (value);
        }
        else {
            if (which == self->pipe) {
                char *command = zstr_recv (self->pipe);  //  Only $TERM comes on the pipe
                free (command);
            }
            break;  //  $TERM, or interrupted
        }
    }
    zpoller_destroy (&poller);
    return epoch;
}

//  Another coordinator may run the pipelines now: stop at once, committing nothing more
static void
s_lost_lease (zetl_dispatcher_t *self)
{
    zsock_send (self->pipe, "ss", "DONE", "1");
    while (!self->terminated) {
        char *command = zstr_recv (self->pipe);
        self->terminated = !command || streq (command, "$TERM");
        free (command);
    }
}

void
zetl_dispatch_actor (zsock_t *pipe, void *args)
{
    zetl_dispatcher_t *self = (zetl_dispatcher_t *) zmalloc (sizeof (zetl_dispatcher_t));
    self->args = *(zetl_dispatch_args_t *) args;
    self->pipe = pipe;
    self->peers = zetl_peers_new ();
    self->reconcile = zetl_reconcile_new (self->args.config);
    zetl_lease_args_t lease_args = {self->args.config, self->args.postgres};
    self->lease = zactor_new (zetl_lease_actor, &lease_args);
    zsock_signal (pipe, 0);
    //  Nothing is bound or read before this coordinator alone runs the pipelines
    self->epoch = s_wait_lease (self);
    if (!self->epoch) {
        s_destroy (self);
        return;
    }
    self->batches = zetl_batches_new (self->epoch);
    self->workers = s_bind_router (self, self->args.config->cluster.workers);
    self->sinks = s_bind_router (self, self->args.config->cluster.sinks);
    if (!self->workers || !self->sinks) {
        zsock_send (pipe, "ss", "FAILED", "cannot bind");
        s_destroy (self);
        return;
    }
    if (!zetl_config_off (self->args.config->cluster.events))
        self->events =
            zetl_events_new (self->args.config->cluster.events, self->args.config->cluster.name);
    self->autoscale = zetl_autoscale_new (&self->args.config->autoscaling);
    self->poller = zpoller_new (pipe, self->workers, self->sinks, self->lease, NULL);
    if (zetl_dispatch_producers_start (self) == 0)
        zpoller_add (self->poller, self->producers);
    zetl_dispatch_luts_start (self);
    zsock_t *monitored[ZETL_DISPATCH_MONITORS] = {
        self->workers, self->sinks, self->producers,
        self->events ? zetl_events_socket (self->events) : NULL};
    const char *roles[ZETL_DISPATCH_MONITORS] = {"workers", "sinks", "producers", "events"};
    for (int index = 0; index < ZETL_DISPATCH_MONITORS; index++)
        if (monitored[index]) {
            self->monitors[index] = zetl_monitor_new (monitored[index], roles[index]);
            zpoller_add (self->poller, zetl_monitor_actor (self->monitors[index]));
        }
    //  A signal is the main thread's to handle: it sends $TERM, and we drain
    zpoller_set_nonstop (self->poller, true);
    //  Hold about two batches per partition, and never less than 64 batches
    size_t batches = 0;
    for (size_t p = 0; p < self->args.config->pipeline_count; p++)
        batches += self->args.config->pipelines[p].partitions * 2
                   * (size_t) self->args.config->pipelines[p].batch_size;
    self->held_limit = batches > 64000 ? batches : 64000;
    PGconn *conn = s_connect_pg (self);
    //  Positions and counters from one snapshot: a sink still committing a
    //  batch of an earlier run must land in both or in neither, or the
    //  reconciliation would count its records twice or not at all
    if (!conn
        || zetl_pg_exec (conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin") != 0
        || zetl_dispatch_start_pipelines (self, conn) != 0 || zetl_pg_exec (conn, "COMMIT", "commit") != 0) {
        if (conn)
            PQfinish (conn);
        zsock_send (pipe, "ss", "DONE", "1");
        s_destroy (self);
        return;
    }
    PQfinish (conn);
    zetl_log_info ("dispatch", "started",
                   json_pack ("{s:s, s:s, s:i}", "workers", self->args.config->cluster.workers,
                              "sinks", self->args.config->cluster.sinks, "pipelines",
                              (int) self->pipeline_count));
    int64_t next_tick = zclock_mono ();
    while (!self->terminated) {
        int64_t wait = next_tick - zclock_mono ();
        void *which = zpoller_wait (self->poller, wait > 0 ? (int) wait : 0);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            if (command && streq (command, "$TERM") && !self->draining)
                s_start_drain (self);
            else
                self->terminated = true;
            free (command);
        }
        else if (which == self->lease) {
            char *command = zstr_recv (self->lease);
            if (command && streq (command, "LOST"))
                s_lost_lease (self);
            free (command);
        }
        else if (which && which == self->luts)
            zetl_dispatch_handle_luts (self);
        else if (which && s_monitor_of (self, which))
            s_handle_monitor (self, s_monitor_of (self, which));
        else if (which && which == self->producers) {
            for (int count = 0; count < 256 && (zsock_events (which) & ZMQ_POLLIN); count++)
                zetl_dispatch_handle_producer (self);
        }
        else if (which == self->workers || which == self->sinks) {
            //  Bounded work per turn, so timers keep running under load
            for (int count = 0; count < 256 && (zsock_events (which) & ZMQ_POLLIN); count++)
                zetl_dispatch_handle_message (self, (zsock_t *) which);
        }
        else if (which)
            zetl_dispatch_handle_source (self, (zactor_t *) which);
        if (zclock_mono () >= next_tick) {
            s_tick (self);
            next_tick = zclock_mono () + S_TICK_MS;
        }
        s_dispatch (self);
        if (self->draining)
            s_check_drain (self);
        else if (self->args.once && s_all_done (self)) {
            int rc = s_reconcile (self);
            char code[8];
            snprintf (code, sizeof code, "%d", rc);
            zsock_send (pipe, "ss", "DONE", code);
            //  Wait for $TERM so the caller owns the ending
            while (!self->terminated) {
                char *command = zstr_recv (pipe);
                self->terminated = !command || streq (command, "$TERM");
                free (command);
            }
        }
    }
    zetl_dispatch_watermark_checkpoint (self, true);  //  Where this run leaves it
    s_destroy (self);
}
