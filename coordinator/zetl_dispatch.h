/*  zetl_dispatch - the coordinator's dispatcher, as an actor

    Owns the worker- and sink-facing ROUTER sockets and all batch state: it
    takes chunks of records from the source actors (zetl_source_file), packs
    them into per-partition batches (full at batch_size, or after
    batch_linger), and dispatches each to a worker that has credit, naming
    the sink for its partition. A partition has at most one batch in flight,
    so its records keep their order. Every batch is kept until a sink
    reports COMMIT; a batch whose worker or sink stops heartbeating, or that
    passes batch_timeout, is dispatched again. Sinks get at most a fixed
    number of uncommitted batches each, and the source is slowed down when
    the batches held reach a bound, so memory stays bounded whatever the
    input's size.

    With `once`, it stops when every source is drained and every batch
    committed, and reports the reconciliation. On $TERM it drains: sources
    stop, nothing new is dispatched, and it ends once every batch already
    dispatched is committed (or after ZETL_DRAIN_MS).

    Once a second it publishes its state as a JSON status to the snapshot
    its args name (for the HTTP API and /metrics).

    Replies on the pipe: "DONE" + exit code (int as string) when `once`
    finishes, or "FAILED" + reason if the sockets cannot be bound.
*/
#ifndef ZETL_DISPATCH_H_INCLUDED
#define ZETL_DISPATCH_H_INCLUDED

#include "zetl_config.h"
#include "zetl_snapshot.h"
#include <czmq.h>

#define ZETL_SINK_CREDIT 48  //  uncommitted batches per sink until it grants its own
#define ZETL_DRAIN_MS 30000  //  longest wait for in-flight batches when stopping

typedef struct {
    const zetl_config_t *config;  //  borrowed: outlives the actor
    const char *postgres;         //  PostgreSQL connection string (checkpoints, counters)
    bool once;                    //  stop once every source is drained and committed
    zetl_snapshot_t *snapshot;    //  borrowed, outlives the actor: where the status goes once a
                                  //  second (zetl_dispatch_status), or NULL
} zetl_dispatch_args_t;

void zetl_dispatch_actor (zsock_t *pipe, void *args);

#endif
