/*  zetl_dispatch_scale - membership, workers' load and the autoscaling signal

    Part of the dispatcher (zetl_dispatch_internal.h). Workers' heartbeats
    carry their load (PROTOCOL.md §7); DRAIN from a worker takes its credit
    away and is answered, so it knows no batch is on its way; joins, drains
    and departures go to the event socket as "membership". Once a second
    the dispatcher's view feeds zetl_autoscale, and the signal and each
    worker's load are published ("autoscale", "worker").
*/
#include "zetl_dispatch_internal.h"
#include "zetl_time.h"

void
zetl_dispatch_membership (zetl_dispatcher_t *self, int role, const char *name, const char *change,
                          const char *reason)
{
    if (self->events)
        zetl_events_membership (self->events, role, name, change, reason,
                                zetl_peers_count (self->peers, ZETL_ROLE_WORKER),
                                zetl_peers_count (self->peers, ZETL_ROLE_SINK));
}

void
zetl_dispatch_peer_load (zetl_peer_t *peer, const zetl_msg_t *beat)
{
    if (peer->role != ZETL_ROLE_WORKER || beat->load_count < ZETL_LOAD_COUNT)
        return;
    const uint64_t *load = beat->load;
    uint64_t interval = load[ZETL_LOAD_INTERVAL_US];
    peer->busy = interval ? (double) load[ZETL_LOAD_BUSY_US] / (double) interval : 0;
    if (peer->busy > 1)
        peer->busy = 1;
    peer->rss_bytes = load[ZETL_LOAD_RSS_BYTES];
    peer->limit_bytes = load[ZETL_LOAD_LIMIT_BYTES];
    peer->lookups = load[ZETL_LOAD_LOOKUPS];
    peer->lookup_hits = load[ZETL_LOAD_LOOKUP_HITS];
}

void
zetl_dispatch_drain_peer (zetl_dispatcher_t *self, zetl_peer_t *peer)
{
    if (peer->role != ZETL_ROLE_WORKER)
        return;
    bool first = !peer->draining;
    peer->draining = true;
    peer->credit = 0;
    zetl_msg_t *drain = zetl_dispatch_msg (self, ZETL_MSG_DRAIN);
    zetl_dispatch_send (self->workers, peer, drain);  //  Nothing sent to it after this
    zetl_msg_destroy (&drain);
    if (!first)
        return;
    zetl_log_info ("dispatch", "worker_draining",
                   json_pack ("{s:s, s:i}", "peer", peer->name, "batches", (int) peer->assigned));
    zetl_dispatch_membership (self, peer->role, peer->name, "draining", "drain");
}

//  What the dispatcher sees now, for the signal
static void
s_sample (zetl_dispatcher_t *self, zetl_autoscale_sample_t *sample)
{
    memset (sample, 0, sizeof *sample);
    sample->queue_records = zetl_batches_held (self->batches);
    sample->watermark_lag_ms = -1;
    int64_t wall_us = zetl_time_now_us ();
    for (size_t p = 0; p < self->pipeline_count; p++) {
        zetl_dispatch_pipeline_t *pipeline = &self->pipelines[p];
        for (uint32_t number = 0; number < pipeline->pipeline->partitions; number++) {
            const zetl_partition_t *partition = &pipeline->partitions[number];
            if (partition->building || partition->inflight || zlistx_size (partition->queue))
                sample->partitions_lagging++;
        }
        sample->records_in += zetl_reconcile_records_in (self->reconcile, p);
        sample->committed += pipeline->committed;
        int64_t watermark = zetl_admit_watermark (pipeline->admit);
        int64_t lag_ms = watermark == INT64_MIN ? -1 : (wall_us - watermark) / 1000;
        if (lag_ms > sample->watermark_lag_ms)
            sample->watermark_lag_ms = lag_ms;
    }
    double busy = 0;
    for (zetl_peer_t *peer = zetl_peers_first (self->peers); peer;
         peer = zetl_peers_next (self->peers)) {
        if (peer->role != ZETL_ROLE_WORKER || peer->draining)
            continue;
        sample->workers++;
        busy += peer->busy;
        double memory =
            peer->limit_bytes ? (double) peer->rss_bytes / (double) peer->limit_bytes : 0;
        if (memory > sample->memory)
            sample->memory = memory;
    }
    sample->utilisation = sample->workers ? busy / sample->workers : 0;
}

void
zetl_dispatch_scale_tick (zetl_dispatcher_t *self, int64_t now_ms)
{
    zetl_autoscale_sample_t sample;
    s_sample (self, &sample);
    zetl_autoscale_update (self->autoscale, &sample, now_ms);
    self->scale_sample = sample;
    if (!self->events)
        return;
    zetl_events_autoscale (self->events, zetl_autoscale_signal (self->autoscale), &sample,
                           &self->args.config->autoscaling);
    for (zetl_peer_t *peer = zetl_peers_first (self->peers); peer;
         peer = zetl_peers_next (self->peers))
        if (peer->role == ZETL_ROLE_WORKER)
            zetl_events_worker (self->events, peer);
}
