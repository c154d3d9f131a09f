/*  zetl_events - the coordinator's event socket (PUB)

    Publishes, for any ZeroMQ subscriber (zetlctl status, dashboards):
    "stats" once a second per pipeline (watermark, arrival classes,
    deduplication, batches and peers), and "watermark" each time a
    pipeline's watermark moves. Events carry whole state, never deltas, so
    a dropped one costs nothing. Owned by the dispatcher.
*/
#ifndef ZETL_EVENTS_H_INCLUDED
#define ZETL_EVENTS_H_INCLUDED

#include "zetl_admit.h"

typedef struct zetl_events zetl_events_t;

//  What a stats event reports besides the arrival counters
typedef struct {
    uint64_t batches;         //  batches held, not yet committed
    uint64_t held;            //  records held
    uint64_t committed;       //  records in batches committed this run
    uint64_t redispatched;    //  batches dispatched again
    uint32_t workers;         //  workers connected
    uint32_t sinks;           //  sinks connected
    uint64_t reordering;      //  ordered: records held for event-time order
    uint64_t reorder_overflow;//  ordered: records that left early, the buffer full
    uint64_t connections;     //  connections open to the coordinator's sockets (socket events)
} zetl_events_load_t;

//  Bind the PUB socket at ENDPOINT for cluster CLUSTER (borrowed). Returns
//  NULL (logged) if it cannot bind. Caller owns the result.
zetl_events_t *zetl_events_new (const char *endpoint, const char *cluster);
void zetl_events_destroy (zetl_events_t **self_p);
//  Publish PIPELINE's stats.
void zetl_events_stats (zetl_events_t *self, const char *pipeline,
                        const zetl_admit_counters_t *arrival, const zetl_events_load_t *load);
//  Publish PIPELINE's watermark.
void zetl_events_watermark (zetl_events_t *self, const char *pipeline, int64_t watermark_us);

#endif
