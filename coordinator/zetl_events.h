/*  zetl_events - the coordinator's event socket (PUB)

    Publishes, for any ZeroMQ subscriber (zetlctl status and top,
    autoscalers, dashboards): "stats" once a second per pipeline (watermark,
    arrival classes, deduplication, batches and peers), "watermark" each
    time a pipeline's watermark moves, "worker" once a second per worker
    (credit, load), "autoscale" once a second (desired_workers and what it
    comes from) and "membership" when a worker or sink joins, starts
    draining or leaves. Events carry whole state, never deltas, so a dropped
    one costs nothing. PROTOCOL.md §12 lists the fields. Owned by the
    dispatcher.
*/
#ifndef ZETL_EVENTS_H_INCLUDED
#define ZETL_EVENTS_H_INCLUDED

#include "zetl_admit.h"
#include "zetl_autoscale.h"
#include "zetl_peers.h"

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
//  The PUB socket, to monitor. Borrowed.
zsock_t *zetl_events_socket (zetl_events_t *self);
//  Publish PIPELINE's stats.
void zetl_events_stats (zetl_events_t *self, const char *pipeline,
                        const zetl_admit_counters_t *arrival, const zetl_events_load_t *load);
//  Publish PIPELINE's watermark.
void zetl_events_watermark (zetl_events_t *self, const char *pipeline, int64_t watermark_us);
//  Publish the membership CHANGE ("joined", "draining", "left") of the peer
//  of ROLE (ZETL_ROLE_WORKER, _SINK) called NAME, for REASON, with the
//  WORKERS and SINKS connected after it.
void zetl_events_membership (zetl_events_t *self, int role, const char *name, const char *change,
                             const char *reason, size_t workers, size_t sinks);
//  Publish a connection CHANGE ("accepted", "closed") on the socket of
//  ROLE ("workers", "sinks", "producers"), which has CONNECTIONS open now.
void zetl_events_connection (zetl_events_t *self, const char *role, const char *change,
                             size_t connections);
//  Publish WORKER's credit and load.
void zetl_events_worker (zetl_events_t *self, const zetl_peer_t *worker);
//  Publish the autoscaling SIGNAL, from SAMPLE, within CONFIG's bounds.
void zetl_events_autoscale (zetl_events_t *self, const zetl_autoscale_signal_t *signal,
                            const zetl_autoscale_sample_t *sample,
                            const zetl_autoscaling_t *config);

#endif
