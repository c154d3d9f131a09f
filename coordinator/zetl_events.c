/*  zetl_events - the coordinator's event socket (PUB)  */
#include "zetl_events.h"
#include "zetl_curve.h"
#include "zetl_log.h"
#include "zetl_proto.h"
#include "zetl_proto_event.h"

struct zetl_events {
    zsock_t *pub;
    const char *cluster;
};

zetl_events_t *
zetl_events_new (const char *endpoint, const char *cluster)
{
    zsock_t *pub = zsock_new (ZMQ_PUB);
    zsock_set_linger (pub, 0);
    zsock_set_sndhwm (pub, 1000);  //  Slow subscribers lose events, never slow us
    zetl_curve_serve (pub);         //  With CURVE, only allowed keys subscribe
    if (zsock_bind (pub, "%s", endpoint) < 0) {
        zetl_log_error ("events", "bind_failed",
                        json_pack ("{s:s, s:s, s:s}", "endpoint", endpoint, "error",
                                   zmq_strerror (zmq_errno ()), "hint",
                                   "change cluster.events or stop what holds it"));
        zsock_destroy (&pub);
        return NULL;
    }
    zetl_events_t *self = (zetl_events_t *) zmalloc (sizeof (zetl_events_t));
    self->pub = pub;
    self->cluster = cluster;
    return self;
}

void
zetl_events_destroy (zetl_events_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zsock_destroy (&(*self_p)->pub);
        free (*self_p);
        *self_p = NULL;
    }
}

zsock_t *
zetl_events_socket (zetl_events_t *self)
{
    return self->pub;
}

#define S_INT(k, v) {(k), ZETL_EVENT_INT, (int64_t) (v), NULL, 0}
#define S_STR(k, v) {(k), ZETL_EVENT_STR, 0, (v), 0}
#define S_DBL(k, v)                                                                                \
    {                                                                                              \
        (k), ZETL_EVENT_DOUBLE, 0, NULL, (v)                                                       \
    }
#define S_COUNT(fields) (sizeof (fields) / sizeof (fields)[0])

static void
s_send (zetl_events_t *self, const char *topic, const zetl_event_field_t *fields, size_t count)
{
    zmsg_t *msg = zetl_event_encode (topic, fields, count);
    zmsg_send (&msg, self->pub);  //  PUB never blocks: past the high-water mark it drops
    zmsg_destroy (&msg);
}

void
zetl_events_stats (zetl_events_t *self, const char *pipeline, const zetl_admit_counters_t *arrival,
                   const zetl_events_load_t *load)
{
    const zetl_event_field_t fields[] = {
        S_STR ("cluster", self->cluster),
        S_STR ("pipeline", pipeline),
        S_INT ("watermark_us", arrival->watermark_us),
        S_INT ("records_in", arrival->records - arrival->reprocessed),
        S_INT ("reprocessed", arrival->reprocessed),
        S_INT ("on_time", arrival->on_time),
        S_INT ("out_of_order", arrival->out_of_order),
        S_INT ("late", arrival->late),
        S_INT ("too_late", arrival->too_late),
        S_INT ("deduplicated", arrival->deduplicated),
        S_INT ("id_conflicts", arrival->id_conflicts),
        S_INT ("dedup_evicted_early", arrival->dedup_evicted_early),
        S_INT ("dedup_keys", arrival->dedup_keys),
        S_INT ("dedup_bytes", arrival->dedup_bytes),
        S_INT ("dedup_window_us", arrival->dedup_window_us),
        S_INT ("batches", load->batches),
        S_INT ("held", load->held),
        S_INT ("committed", load->committed),
        S_INT ("redispatched", load->redispatched),
        S_INT ("reordering", load->reordering),
        S_INT ("reorder_overflow", load->reorder_overflow),
        S_INT ("connections", load->connections),
        S_INT ("workers", load->workers),
        S_INT ("sinks", load->sinks),
    };
    s_send (self, "stats", fields, S_COUNT (fields));
}

void
zetl_events_watermark (zetl_events_t *self, const char *pipeline, int64_t watermark_us)
{
    const zetl_event_field_t fields[] = {
        S_STR ("cluster", self->cluster),
        S_STR ("pipeline", pipeline),
        S_INT ("watermark_us", watermark_us),
    };
    s_send (self, "watermark", fields, S_COUNT (fields));
}

void
zetl_events_membership (zetl_events_t *self, int role, const char *name, const char *change,
                        const char *reason, size_t workers, size_t sinks)
{
    const zetl_event_field_t fields[] = {
        S_STR ("cluster", self->cluster),
        S_STR ("role", role == ZETL_ROLE_WORKER ? "worker" : "sink"),
        S_STR ("name", name),
        S_STR ("change", change),
        S_STR ("reason", reason),
        S_INT ("workers", workers),
        S_INT ("sinks", sinks),
    };
    s_send (self, "membership", fields, S_COUNT (fields));
}

void
zetl_events_worker (zetl_events_t *self, const zetl_peer_t *worker)
{
    const zetl_event_field_t fields[] = {
        S_STR ("cluster", self->cluster),
        S_STR ("name", worker->name),
        S_INT ("credit", worker->credit),
        S_INT ("assigned", worker->assigned),
        S_DBL ("busy", worker->busy),
        S_INT ("rss_bytes", worker->rss_bytes),
        S_INT ("limit_bytes", worker->limit_bytes),
        S_INT ("stalled", worker->stalled),
        S_INT ("draining", worker->draining),
    };
    s_send (self, "worker", fields, S_COUNT (fields));
}

void
zetl_events_autoscale (zetl_events_t *self, const zetl_autoscale_signal_t *signal,
                       const zetl_autoscale_sample_t *sample, const zetl_autoscaling_t *config)
{
    const zetl_event_field_t fields[] = {
        S_STR ("cluster", self->cluster),
        S_INT ("desired_workers", signal->desired_workers),
        S_STR ("reason", signal->reason),
        S_INT ("workers", sample->workers),
        S_INT ("min_workers", config->min_workers),
        S_INT ("max_workers", config->max_workers),
        S_INT ("queue_records", sample->queue_records),
        S_INT ("time_to_drain_ms", signal->time_to_drain_ms),
        S_INT ("watermark_lag_ms", sample->watermark_lag_ms),
        S_INT ("partitions_lagging", sample->partitions_lagging),
        S_DBL ("arrival_rate", signal->arrival_rate),
        S_DBL ("service_rate", signal->service_rate),
        S_DBL ("utilisation", sample->utilisation),
        S_DBL ("credit_wait", signal->credit_wait),
        S_DBL ("memory", sample->memory),
    };
    s_send (self, "autoscale", fields, S_COUNT (fields));
}

void
zetl_events_connection (zetl_events_t *self, const char *role, const char *change,
                        size_t connections)
{
    const zetl_event_field_t fields[] = {
        S_STR ("cluster", self->cluster),
        S_STR ("socket", role),
        S_STR ("change", change),
        S_INT ("connections", connections),
    };
    s_send (self, "connection", fields, S_COUNT (fields));
}
