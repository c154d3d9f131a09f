/*  zetl_forward_writer - a forward target of a pipeline in a sink, as an actor

    Takes the RESULT batches the sink's loop hands it, as a PostgreSQL
    writer does (the same pipe protocol), and sends each output row as a
    record to a pipeline of another cluster (another region's, a central
    warehouse's): a producer (zetl_producer) connected to that cluster's
    coordinator, named <producer>/<sink name>. A batch is answered DONE
    only once the other coordinator ACKed every record of it, which it does
    once each is committed there (or dead-lettered), and its positions,
    and with ACCOUNTS its counters, are committed here: acknowledged end to
    end. Until then the producer keeps the records and sends them again as
    needed, across a slow link, a lossy one, or one cut for a while.

    The steps of a batch (zetl_forward_commit): staged (what is committed
    here read, the rows above it packed as records, zetl_forward_record),
    handed to the producer in arrival order, ACKed there (the producer says
    how many of the records it took are, in order), then committed here in
    one transaction with the other ACKed batches. Dead letters, duplicates
    and checkpoints are not sent; with ACCOUNTS they are written and
    counted here, as a files target alone does. A batch dispatched again
    after a crash may send rows a second time: the other cluster's
    deduplication (same id, same content within dedup_window) and its
    upsert by primary key keep them once (docs/FORWARD.md).

    Commands on the pipe:
      "BATCH" + pointer to a zetl_msg_t RESULT (takes ownership)
    Replies on the pipe, as zetl_pg_writer's:
      "DONE" + batch_id (8) + record count (4) + "" once ACKed and committed
      "FAILED" + batch_id (8) + record count (4) + error text, when a row
      of the batch does not match the schema (nothing of it is sent)
      "DROPPED" + batch_id (8) + record count (4) + reason, when the
      RESULT's body is malformed: nothing of it is sent or committed
    PostgreSQL, or the other coordinator's WELCOME, failing is retried with
    backoff for ever; what the producer holds is sent again on its own.
*/
#ifndef ZETL_FORWARD_WRITER_H_INCLUDED
#define ZETL_FORWARD_WRITER_H_INCLUDED

#include "zetl_config.h"
#include <czmq.h>

typedef struct {
    const zetl_config_t *config;  //  borrowed: must outlive the actor
    size_t pipeline;              //  index of the pipeline in config
    size_t target;                //  index of the forward target in the pipeline
    const char *conninfo;         //  borrowed: PostgreSQL connection string
    const char *writer;           //  borrowed: this writer's name (zetl_stats, logs)
    const char *sink;             //  borrowed: the sink's name, the end of the producer's
    bool accounts;                //  no PostgreSQL target: write dead letters and counters
} zetl_forward_writer_args_t;

//  The actor. ARGS is a zetl_forward_writer_args_t, copied at start.
void zetl_forward_writer_actor (zsock_t *pipe, void *args);

#endif
