/*  zetl_events - the coordinator's event socket (PUB)  */
#include "zetl_events.h"
#include "zetl_log.h"
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

#define S_INT(k, v) {(k), ZETL_EVENT_INT, (int64_t) (v), NULL, 0}
#define S_STR(k, v) {(k), ZETL_EVENT_STR, 0, (v), 0}

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
    s_send (self, "stats", fields, sizeof fields / sizeof fields[0]);
}

void
zetl_events_watermark (zetl_events_t *self, const char *pipeline, int64_t watermark_us)
{
    const zetl_event_field_t fields[] = {
        S_STR ("cluster", self->cluster),
        S_STR ("pipeline", pipeline),
        S_INT ("watermark_us", watermark_us),
    };
    s_send (self, "watermark", fields, sizeof fields / sizeof fields[0]);
}
