/*  zetl_dispatch_status - the dispatcher's state as a JSON status

    Part of the dispatcher (zetl_dispatch_internal.h). Built once a second
    on the dispatcher's thread and published to the snapshot that the HTTP
    server reads: the cluster, readiness, each pipeline's watermark, arrival
    counters, queue and commits, and the workers and sinks with their
    credit. Counters are this run's (they start again from zero when the
    coordinator restarts). docs/API.md lists every field.
*/
#include "zetl_curve.h"
#include "zetl_dispatch_internal.h"
#include "zetl_time.h"

//  An int64 as JSON
#define S_INT(value) json_integer ((json_int_t) (value))

//  A wall-clock stamp as RFC 3339 text, or null when not set (0)
static json_t *
s_stamp (int64_t us)
{
    if (us == 0)
        return json_null ();
    char text[40];
    zetl_time_format_iso (us, text, sizeof text);
    return json_string (text);
}

static const char *
s_source_type (zetl_source_type_t type)
{
    switch (type) {
    case ZETL_SOURCE_FILE:
        return "file";
    case ZETL_SOURCE_PRODUCER:
        return "producer";
    case ZETL_SOURCE_POSTGRES:
        return "postgres";
    case ZETL_SOURCE_HTTP:
        return "http";
    }
    return "unknown";
}

//  What one of the pipeline's source actors is doing
static const char *
s_source_state (const zetl_dispatch_source_t *source)
{
    if (source->drained)
        return "drained";
    if (!source->actor)
        return "stopped";
    return source->owed > 0 ? "held_back" : "reading";
}

static json_t *
s_arrival (const zetl_admit_counters_t *arrival)
{
    json_t *json = json_object ();
    json_object_set_new (json, "records_in", S_INT (arrival->records - arrival->reprocessed));
    json_object_set_new (json, "reprocessed", S_INT (arrival->reprocessed));
    json_object_set_new (json, "on_time", S_INT (arrival->on_time));
    json_object_set_new (json, "out_of_order", S_INT (arrival->out_of_order));
    json_object_set_new (json, "late", S_INT (arrival->late));
    json_object_set_new (json, "too_late", S_INT (arrival->too_late));
    json_object_set_new (json, "deduplicated", S_INT (arrival->deduplicated));
    json_object_set_new (json, "id_conflicts", S_INT (arrival->id_conflicts));
    json_object_set_new (json, "dedup_evicted_early", S_INT (arrival->dedup_evicted_early));
    json_object_set_new (json, "dedup_keys", S_INT (arrival->dedup_keys));
    json_object_set_new (json, "dedup_bytes", S_INT (arrival->dedup_bytes));
    json_object_set_new (json, "dedup_window_seconds",
                         json_real ((double) arrival->dedup_window_us / 1e6));
    return json;
}

//  The queue of PIPELINE: records and batches held, those in flight, and
//  the partitions that hold anything (in "partitions")
static json_t *
s_queue (const zetl_dispatch_pipeline_t *pipeline, json_t **partitions_p)
{
    uint64_t records = 0, waiting = 0, inflight = 0, backlogged = 0;
    json_t *partitions = json_array ();
    for (uint32_t number = 0; number < pipeline->pipeline->partitions; number++) {
        const zetl_partition_t *partition = &pipeline->partitions[number];
        uint64_t held = partition->building;
        size_t queued = zlistx_size (partition->queue);
        for (zetl_batch_t *batch = (zetl_batch_t *) zlistx_first (partition->queue); batch;
             batch = (zetl_batch_t *) zlistx_next (partition->queue))
            held += batch->count;
        if (partition->inflight)
            held += partition->inflight->count;
        if (held == 0)
            continue;  //  Only partitions that hold something are listed
        records += held;
        waiting += queued;
        inflight += partition->inflight ? 1 : 0;
        backlogged += queued > 0 ? 1 : 0;
        json_array_append_new (partitions,
                               json_pack ("{s:i, s:I, s:I, s:I, s:b}", "partition", (int) number,
                                          "records_held", (json_int_t) held, "batches_waiting",
                                          (json_int_t) queued, "records_building",
                                          (json_int_t) partition->building, "in_flight",
                                          partition->inflight != NULL));
    }
    *partitions_p = partitions;
    return json_pack ("{s:I, s:I, s:I, s:I, s:I}", "records_held", (json_int_t) records,
                      "batches_held", (json_int_t) (waiting + inflight), "batches_waiting",
                      (json_int_t) waiting, "batches_in_flight", (json_int_t) inflight,
                      "partitions_backlogged", (json_int_t) backlogged);
}

//  Watermark, its ISO text and its lag behind NOW_US (null before any record)
static void
s_watermark (json_t *json, int64_t watermark_us, int64_t now_us)
{
    bool known = watermark_us != INT64_MIN && watermark_us != INT64_MAX;
    json_object_set_new (json, "watermark_us", known ? S_INT (watermark_us) : json_null ());
    json_object_set_new (json, "watermark", known ? s_stamp (watermark_us) : json_null ());
    json_object_set_new (json, "watermark_lag_seconds",
                         known ? json_real ((double) (now_us - watermark_us) / 1e6) : json_null ());
}

static json_t *
s_pipeline (zetl_dispatcher_t *self, size_t index, int64_t now_us)
{
    zetl_dispatch_pipeline_t *pipeline = &self->pipelines[index];
    zetl_admit_counters_t arrival;
    zetl_admit_counters (pipeline->admit, &arrival);
    zetl_ordered_counters_t ordered = {0};
    if (pipeline->ordered)
        zetl_ordered_counters (pipeline->ordered, &ordered);
    //  Once a second: when counters moved since the last status, that was now
    if (arrival.records != pipeline->status_records)
        pipeline->last_record_us = now_us;
    pipeline->status_records = arrival.records;
    if (pipeline->committed != pipeline->status_committed)
        pipeline->last_commit_us = now_us;
    pipeline->status_committed = pipeline->committed;

    json_t *json =
        json_pack ("{s:s, s:s, s:b, s:i}", "id", pipeline->pipeline->id, "source",
                   s_source_type (pipeline->pipeline->source.type), "ordered",
                   pipeline->pipeline->ordered, "partitions", (int) pipeline->pipeline->partitions);
    s_watermark (json, arrival.watermark_us, now_us);
    json_object_set_new (json, "arrival", s_arrival (&arrival));
    json_t *partitions = NULL;
    json_t *queue = s_queue (pipeline, &partitions);
    json_object_set (json, "queue", queue);
    json_object_set_new (json, "committed_records", S_INT (pipeline->committed));
    json_object_set_new (json, "reorder",
                         json_pack ("{s:I, s:I}", "held", (json_int_t) ordered.held, "overflow",
                                    (json_int_t) ordered.overflow));
    json_object_set_new (json, "sources",
                         json_pack ("{s:s, s:s}", "reader",
                                    pipeline->pipeline->source.type == ZETL_SOURCE_PRODUCER
                                        ? "producers"
                                        : s_source_state (&pipeline->sources[ZETL_DISPATCH_READER]),
                                    "reprocess",
                                    s_source_state (&pipeline->sources[ZETL_DISPATCH_REPROCESS])));
    //  What the coordinator knows of the balance; the sinks' side (loaded,
    //  dead-lettered) is in zetl_stats, which `zetlctl status` reads
    json_object_set_new (json, "reconciliation",
                         json_pack ("{s:I, s:I, s:I, s:I, s:O}", "records_in",
                                    (json_int_t) zetl_reconcile_records_in (self->reconcile, index),
                                    "committed", (json_int_t) pipeline->committed, "deduplicated",
                                    (json_int_t) arrival.deduplicated, "too_late",
                                    (json_int_t) arrival.too_late, "records_held",
                                    json_object_get (queue, "records_held")));
    json_decref (queue);
    json_object_set_new (json, "last_record_at", s_stamp (pipeline->last_record_us));
    json_object_set_new (json, "last_record_us",
                         pipeline->last_record_us ? S_INT (pipeline->last_record_us)
                                                  : json_null ());
    json_object_set_new (json, "last_commit_at", s_stamp (pipeline->last_commit_us));
    json_object_set_new (json, "last_commit_us",
                         pipeline->last_commit_us ? S_INT (pipeline->last_commit_us)
                                                  : json_null ());
    json_object_set_new (json, "partitions_held", partitions);
    json_object_set_new (json, "latency",
                         json_pack ("{s:o, s:o}", "batch",
                                    zetl_histogram_json (&pipeline->batch_latency), "end_to_end",
                                    zetl_histogram_json (&pipeline->end_to_end_latency)));
    return json;
}

//  The peers of ROLE, sorted by name
static json_t *
s_peers (zetl_dispatcher_t *self, int role, int64_t now_mono)
{
    size_t max = zetl_peers_count (self->peers, role);
    zetl_peer_t **peers = (zetl_peer_t **) zmalloc ((max + 1) * sizeof (zetl_peer_t *));
    size_t count = zetl_peers_of_role (self->peers, role, peers, max);
    json_t *list = json_array ();
    for (size_t index = 0; index < count; index++) {
        const zetl_peer_t *peer = peers[index];
        json_t *json =
            json_pack ("{s:s?, s:I, s:I, s:I}", "name", peer->name, "credit",
                       (json_int_t) peer->credit, "assigned", (json_int_t) peer->assigned,
                       "last_seen_ms_ago", (json_int_t) (now_mono - peer->last_seen_ms));
        if (role == ZETL_ROLE_WORKER)
            json_object_update_new (json, json_pack ("{s:b, s:b, s:f, s:I, s:I}", "stalled",
                                                     peer->stalled, "draining", peer->draining,
                                                     "busy", peer->busy, "rss_bytes",
                                                     (json_int_t) peer->rss_bytes, "limit_bytes",
                                                     (json_int_t) peer->limit_bytes));
        else
            json_object_set_new (json, "endpoint",
                                 peer->endpoint ? json_string (peer->endpoint) : json_null ());
        json_array_append_new (list, json);
    }
    free (peers);
    return list;
}

//  The lookup tables and their versions; *KNOWN is false while a table's
//  version is not known yet (Redis not reached, or the table not loaded)
static json_t *
s_lookup_tables (zetl_dispatcher_t *self, bool *known)
{
    json_t *list = json_array ();
    *known = true;
    size_t index = 0;
    for (const char *table = self->lut_tables ? (const char *) zlist_first (self->lut_tables)
                                              : NULL;
         table; table = (const char *) zlist_next (self->lut_tables), index++) {
        uint64_t version = self->lut_versions ? self->lut_versions[index] : 0;
        json_array_append_new (list, json_pack ("{s:s, s:o}", "table", table, "version",
                                                version ? S_INT (version) : json_null ()));
        if (!version)
            *known = false;
    }
    return list;
}

//  The autoscaling signal and what it came from (zetl_dispatch_scale)
static json_t *
s_autoscaling (zetl_dispatcher_t *self)
{
    const zetl_autoscale_signal_t *signal = zetl_autoscale_signal (self->autoscale);
    const zetl_autoscale_sample_t *sample = &self->scale_sample;
    const zetl_autoscaling_t *config = &self->args.config->autoscaling;
    json_t *json = json_pack (
        "{s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f}", "desired_workers",
        (json_int_t) signal->desired_workers, "reason", signal->reason, "workers",
        (json_int_t) sample->workers, "min_workers", (json_int_t) config->min_workers,
        "max_workers", (json_int_t) config->max_workers, "queue_records",
        (json_int_t) sample->queue_records, "time_to_drain_ms",
        (json_int_t) signal->time_to_drain_ms, "watermark_lag_ms",
        (json_int_t) sample->watermark_lag_ms, "partitions_lagging",
        (json_int_t) sample->partitions_lagging, "arrival_rate", signal->arrival_rate,
        "service_rate", signal->service_rate, "utilisation", sample->utilisation, "credit_wait",
        signal->credit_wait, "memory", sample->memory);
    if (signal->time_to_drain_ms < 0)  //  Nothing is being served: no time can be told
        json_object_set_new (json, "time_to_drain_ms", json_null ());
    return json;
}

//  The workers' lookups since they started, and the share from their caches
static json_t *
s_lookups (zetl_dispatcher_t *self)
{
    uint64_t lookups = 0, hits = 0;
    for (zetl_peer_t *peer = zetl_peers_first (self->peers); peer;
         peer = zetl_peers_next (self->peers))
        if (peer->role == ZETL_ROLE_WORKER) {
            lookups += peer->lookups;
            hits += peer->lookup_hits;
        }
    return json_pack ("{s:I, s:I, s:o}", "lookups", (json_int_t) lookups, "cache_hits",
                      (json_int_t) hits, "hit_ratio",
                      lookups ? json_real ((double) hits / (double) lookups) : json_null ());
}

//  Whether the coordinator can do its work now, and what it lacks
static json_t *
s_readiness (zetl_dispatcher_t *self, bool redis_needed, bool redis_ok, bool *ready)
{
    size_t workers = zetl_peers_count (self->peers, ZETL_ROLE_WORKER);
    size_t sinks = zetl_peers_count (self->peers, ZETL_ROLE_SINK);
    json_t *missing = json_array ();
    if (workers == 0)
        json_array_append_new (missing, json_string ("no worker is connected"));
    if (sinks == 0)
        json_array_append_new (missing, json_string ("no sink is connected"));
    if (redis_needed && !redis_ok)
        json_array_append_new (
            missing, json_string ("a lookup table's version is not known: Redis is not reached "
                                  "yet, or the table is not loaded (zetlctl lut load)"));
    if (self->draining)
        json_array_append_new (missing, json_string ("draining: the coordinator is stopping"));
    *ready = json_array_size (missing) == 0;
    //  The dispatcher runs only once it holds the pipelines' lease and has
    //  read their positions: PostgreSQL answered, and the lease actor stops
    //  the coordinator if that connection breaks
    return json_pack ("{s:b, s:o, s:I, s:I, s:b, s:o}", "postgres", 1, "redis",
                      redis_needed ? json_boolean (redis_ok) : json_null (), "workers",
                      (json_int_t) workers, "sinks", (json_int_t) sinks, "draining", self->draining,
                      "missing", missing);
}

json_t *
zetl_dispatch_status (zetl_dispatcher_t *self)
{
    int64_t now_us = zetl_time_now_us ();
    int64_t now_mono = zclock_mono ();
    char stamp[40];
    zetl_time_format_iso (now_us, stamp, sizeof stamp);
    bool redis_ok = true, ready = false;
    json_t *tables = s_lookup_tables (self, &redis_ok);
    json_t *readiness = s_readiness (self, json_array_size (tables) > 0, redis_ok, &ready);
    uint64_t connections = 0, refused = 0;
    for (int index = 0; index < ZETL_DISPATCH_MONITORS; index++)
        if (self->monitors[index]) {
            if (index < ZETL_DISPATCH_PEER_SOCKETS)  //  Subscribers are no peers
                connections += zetl_monitor_connections (self->monitors[index]);
            refused += zetl_monitor_refused (self->monitors[index]);
        }
    json_t *status = json_pack ("{s:s, s:s, s:I, s:s, s:I, s:b, s:o, s:I, s:I, s:I, s:I, s:o}",
                                "cluster", self->args.config->cluster.name, "state",
                                self->draining ? "draining" : "running", "epoch",
                                (json_int_t) self->epoch, "generated_at", stamp, "generated_us",
                                (json_int_t) now_us, "ready", ready, "readiness", readiness,
                                "batches_held", (json_int_t) zetl_batches_count (self->batches),
                                "records_held", (json_int_t) zetl_batches_held (self->batches),
                                "redispatched", (json_int_t) self->redispatched, "connections",
                                (json_int_t) connections, "lookup_tables", tables);
    json_t *pipelines = json_array ();
    for (size_t index = 0; index < self->pipeline_count; index++)
        json_array_append_new (pipelines, s_pipeline (self, index, now_us));
    json_object_set_new (status, "pipelines", pipelines);
    json_object_set_new (status, "workers", s_peers (self, ZETL_ROLE_WORKER, now_mono));
    json_object_set_new (status, "sinks", s_peers (self, ZETL_ROLE_SINK, now_mono));
    json_object_set_new (status, "connections_refused", S_INT (refused));
    json_object_set_new (status, "curve", json_boolean (zetl_curve_on ()));
    json_object_set_new (status, "autoscaling", s_autoscaling (self));
    json_object_set_new (status, "lookups", s_lookups (self));
    return status;
}
