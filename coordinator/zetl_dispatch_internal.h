/*  zetl_dispatch_internal - the dispatcher's state, shared by its two files

    Internal to coordinator/: zetl_dispatch.c holds batches, timers, start,
    drain and the loop; zetl_dispatch_peers.c the messages of workers and
    sinks and their membership. One thread (the dispatcher actor) uses it.
*/
#ifndef ZETL_DISPATCH_INTERNAL_H_INCLUDED
#define ZETL_DISPATCH_INTERNAL_H_INCLUDED

#include "zetl_admit.h"
#include "zetl_autoscale.h"
#include "zetl_batches.h"
#include "zetl_dispatch.h"
#include "zetl_events.h"
#include "zetl_histogram.h"
#include "zetl_log.h"
#include "zetl_monitor.h"
#include "zetl_ordered.h"
#include "zetl_peers.h"
#include "zetl_proto.h"
#include "zetl_reconcile.h"

#include <libpq-fe.h>

#define ZETL_DISPATCH_MAX_SINKS 256  //  sinks a coordinator tells workers about

//  The source actors of a pipeline: its files, and its reprocess requests
//  (producers are no actors: their batches come on the producers socket)
typedef enum { ZETL_DISPATCH_READER = 0, ZETL_DISPATCH_REPROCESS, ZETL_DISPATCH_SOURCES,
               ZETL_DISPATCH_PRODUCERS = ZETL_DISPATCH_SOURCES } zetl_dispatch_source_kind_t;

//  A producer's record in a partition: its entry number and its batch
typedef struct {
    uint64_t index;               //  entry number in the partition
    void *batch;                  //  the producer batch it belongs to
} zetl_dispatch_tag_t;

//  What became of a partition's entries, for producers' ACKs: batches of a
//  partition commit in the order they were sealed, so entry numbers suffice
typedef struct {
    uint64_t appended;            //  entries appended to its batches, ever
    uint64_t committed;           //  of them, committed
    zlistx_t *tags;               //  zetl_dispatch_tag_t of producers' records not yet committed
} zetl_dispatch_track_t;

typedef struct {
    zactor_t *actor;              //  NULL when not running
    bool drained;                 //  it sent EOF (or never ran)
    int owed;                     //  chunk credit held back by backpressure
} zetl_dispatch_source_t;

typedef struct {
    const zetl_pipeline_t *pipeline;
    zetl_partition_t *partitions; //  owned by batches
    zetl_dispatch_source_t sources[ZETL_DISPATCH_SOURCES];
    bool reading;                 //  the files are not held back by backpressure
    zetl_admit_t *admit;          //  watermark, lateness and deduplication
    zetl_ordered_t *ordered;      //  event-time release, with ordered: true (else NULL)
    zetl_batches_t *batches;      //  where its entries go (the dispatcher's)
    zetl_dispatch_track_t *tracks;//  per partition
    int64_t now_ms;               //  the clock when its entries are appended (per chunk, per tick)
    zhashx_t *committed_at_start; //  positions committed when it started (producers skip them)
    void *producer_feed;          //  zetl_feed_t turning producers' records into a chunk
    uint32_t producer_source;     //  producers' source id in admit, once one sent a batch
    bool has_producer_source;
    uint32_t source_id;           //  the file source's id in admit
    int64_t published_watermark;  //  the watermark last published
    uint64_t committed;           //  records in committed batches this run
    uint64_t status_records;      //  records taken in, at the last status (zetl_dispatch_status)
    int64_t last_record_us;       //  wall clock of the status that first saw more (0: none yet)
    uint64_t status_committed;    //  committed, at the last status
    int64_t last_commit_us;       //  wall clock of the status that first saw more (0: none yet)
    int64_t checkpointed_wm_us;   //  the watermark last checkpointed (or restored)
    zetl_histogram_t batch_latency;       //  first dispatch to commit, per batch
    zetl_histogram_t end_to_end_latency;  //  first record taken in to commit, per batch
} zetl_dispatch_pipeline_t;

#define ZETL_DISPATCH_MONITORS 4  //  sockets watched: workers, sinks, producers, events
#define ZETL_DISPATCH_PEER_SOCKETS 3  //  the first three: their connections are peers'

typedef struct {
    zetl_dispatch_args_t args;
    zsock_t *pipe;
    zactor_t *lease;              //  the pipelines' locks and the epoch (zetl_lease)
    zsock_t *workers;             //  ROUTER
    zsock_t *sinks;               //  ROUTER
    zsock_t *producers;           //  ROUTER
    zetl_monitor_t *monitors[ZETL_DISPATCH_MONITORS];  //  the workers, sinks, producers and
                                  //  events sockets' connections and refusals (counts, logs)
    zhashx_t *producer_states;    //  name -> the producer's sequence state
    zpoller_t *poller;
    zetl_peers_t *peers;
    zetl_dispatch_pipeline_t *pipelines;
    size_t pipeline_count;
    zetl_reconcile_t *reconcile;  //  records in, and the report at the end
    zetl_batches_t *batches;      //  every batch not yet committed, per partition
    uint32_t epoch;
    size_t held_limit;            //  above it, sources wait
    int64_t next_beat_ms;
    zetl_events_t *events;        //  the PUB event socket, or NULL
    zetl_autoscale_t *autoscale;  //  the autoscaling signal
    zetl_autoscale_sample_t scale_sample;  //  what it last saw
    int64_t next_stats_ms;        //  when stats are published next
    bool draining;                //  taking no new records, committing those in flight
    int64_t drain_deadline_ms;    //  stop draining then, committed or not
    uint64_t redispatched;        //  batches dispatched again
    int64_t next_watermark_ms;    //  when watermark checkpoints are considered next
    uint64_t unconfirmed;         //  without acknowledgements: batches done whose sink's COMMIT is yet to come
    uint64_t dispatches;          //  batches sent to workers, ever (orders them: zetl_batch_t dispatch_seq)
    zactor_t *luts;               //  lookup-table versions (zetl_luts), NULL when nothing enriches
    zlist_t *lut_tables;          //  the tables pipelines enrich from
    uint64_t *lut_versions;       //  per table, in lut_tables' order: current version, 0 unknown
    bool lut_pins_due;            //  a version came into use: tell zetl_luts now
    int64_t next_pins_ms;         //  when the pins are renewed next
    zetl_log_limit_t lut_waiting; //  "waiting for a lookup table" logs
    zetl_log_limit_t peer_errors; //  ERRORs that are not the data's fault
    zetl_log_limit_t bad_frames;
    zetl_log_limit_t unknown_peers;
    bool terminated;
} zetl_dispatcher_t;

//  A message of TYPE with the configuration hash and epoch. Caller owns it.
zetl_msg_t *zetl_dispatch_msg (zetl_dispatcher_t *self, zetl_msg_type_t type);
//  Send MSG to PEER over ROUTER. Returns 0, or -1 if the peer is gone.
int zetl_dispatch_send (zsock_t *router, zetl_peer_t *peer, zetl_msg_t *msg);
//  Put BATCH back at the head of its partition's queue after DELAY_MS, freeing its peers.
void zetl_dispatch_requeue (zetl_dispatcher_t *self, zetl_batch_t *batch, int64_t delay_ms);
//  Grant sources the chunk credit backpressure held back.
void zetl_dispatch_grant_credit (zetl_dispatcher_t *self);
//  PEER left or died (WHY): its batches go back to their queues; PEER is freed.
void zetl_dispatch_peer_gone (zetl_dispatcher_t *self, zetl_peer_t *peer, const char *why);
//  Membership, load and the autoscaling signal (zetl_dispatch_scale.c)
//  Publish the membership CHANGE of the peer of ROLE called NAME, for
//  REASON (zetl_events_membership).
void zetl_dispatch_membership (zetl_dispatcher_t *self, int role, const char *name,
                               const char *change, const char *reason);
//  Note the load a worker's HEARTBEAT BEAT reports.
void zetl_dispatch_peer_load (zetl_peer_t *peer, const zetl_msg_t *beat);
//  PEER said DRAIN: no more credit; answer DRAIN.
void zetl_dispatch_drain_peer (zetl_dispatcher_t *self, zetl_peer_t *peer);
//  Once a second: update the autoscaling signal; publish it and the workers' load.
void zetl_dispatch_scale_tick (zetl_dispatcher_t *self, int64_t now_ms);

//  Receive and act on one message from ROUTER (workers or sinks).
void zetl_dispatch_handle_message (zetl_dispatcher_t *self, zsock_t *router);
//  Append one entry to PARTITION of PIPELINE, with TAG (a producer batch, or NULL).
void zetl_dispatch_append (zetl_dispatch_pipeline_t *pipeline, uint32_t partition,
                           const char *source, uint64_t position, int64_t event_us,
                           uint32_t flags, const void *payload, size_t len, void *tag);
//  Take the records of CHUNK from a source of KIND, each with TAG.
void zetl_dispatch_take_chunk (zetl_dispatcher_t *self, zetl_chunk_t *chunk,
                               zetl_dispatch_source_kind_t kind, void *tag);

//  Sources (zetl_dispatch_sources.c)
//  Set up every pipeline and start its source actors from what CONN says is
//  committed (and the counters' starting point). Returns 0 or -1.
int zetl_dispatch_start_pipelines (zetl_dispatcher_t *self, PGconn *conn);
//  Take one message from source ACTOR: a chunk, EOF or STOPPED.
void zetl_dispatch_handle_source (zetl_dispatcher_t *self, zactor_t *actor);
//  Ordered mode: release what W lets go (everything once the files are read).
void zetl_dispatch_ordered_release (zetl_dispatch_pipeline_t *pipeline);

//  Watermark checkpoints (zetl_dispatch_watermark.c)
//  Restore PIPELINE's checkpointed watermark from CONN, if it has one.
//  Returns 0, or -1 if it cannot be read.
int zetl_dispatch_watermark_restore (zetl_dispatch_pipeline_t *pipeline, PGconn *conn);
//  Checkpoint each pipeline's watermark that is safe to restore, when it
//  rose: once a second, or NOW (at the end).
void zetl_dispatch_watermark_checkpoint (zetl_dispatcher_t *self, bool now);

//  Lookup tables (zetl_dispatch_luts.c)
//  Start the zetl_luts actor when a pipeline enriches, and add it to the poller.
void zetl_dispatch_luts_start (zetl_dispatcher_t *self);
//  Stop it.
void zetl_dispatch_luts_stop (zetl_dispatcher_t *self);
//  Take one VERSION from it.
void zetl_dispatch_handle_luts (zetl_dispatcher_t *self);
//  Pin BATCH to the current versions of its pipeline's tables, unless it is
//  pinned already or enriches nothing. Returns false when a table's version
//  is not known yet: the batch must wait.
bool zetl_dispatch_luts_pin (zetl_dispatcher_t *self, zetl_batch_t *batch);
//  Renew the pins of the versions uncommitted batches use, when due.
void zetl_dispatch_luts_tick (zetl_dispatcher_t *self, int64_t now);

//  Status (zetl_dispatch_status.c)
//  The dispatcher's state now as a JSON object (the snapshot zetl_http
//  serves; its fields are listed in docs/API.md). Notes when records last
//  came and batches last committed, to the second of its calls. Caller owns
//  the result.
json_t *zetl_dispatch_status (zetl_dispatcher_t *self);

//  Producers (zetl_dispatch_producers.c)
//  Bind the producers socket. Returns 0 or -1.
int zetl_dispatch_producers_start (zetl_dispatcher_t *self);
//  Receive and act on one message from a producer.
void zetl_dispatch_handle_producer (zetl_dispatcher_t *self);
//  COUNT entries of PARTITION of PIPELINE committed: ACK the producers' batches done.
void zetl_dispatch_producers_committed (zetl_dispatcher_t *self, size_t pipeline,
                                        uint32_t partition, uint32_t count);
//  Forget every producer (at the end).
void zetl_dispatch_producers_stop (zetl_dispatcher_t *self);

#endif
