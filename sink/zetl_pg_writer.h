/*  zetl_pg_writer - one PostgreSQL connection of a sink, as an actor

    Owns one connection and writes result batches of one pipeline's
    PostgreSQL target: it groups the batches it is handed into transactions of
    up to sink_batch_rows rows or sink_linger, and in each transaction locks
    the committed positions of the (source, partition) keys it touches, COPYs
    the rows above them into a staging table, applies the one upsert of
    last-write-wins, writes dead letters, advances zetl_offsets and adds to
    zetl_stats. Replayed records at or below a committed position are
    skipped and not counted again. A lost connection is retried with backoff
    for ever; a batch that fails for its data is reported FAILED. With
    partition_by_day it also keeps the day partitions ahead and drops the
    expired ones, hourly. The transaction of one group is
    zetl_pg_transaction's; the queue, the lingering and the replies of a
    group's commit are zetl_group's, shared with zetl_files_writer.

    Commands on the pipe:
      "BATCH" + pointer to a zetl_msg_t RESULT (takes ownership)
    Replies on the pipe:
      "DONE" + batch_id (8) + record count (4) + "" once committed
      "FAILED" + batch_id (8) + record count (4) + error text, when the
      batch's data was refused
      "DROPPED" + batch_id (8) + record count (4) + reason, when the RESULT's
      body turned out malformed as it was read: nothing of it is committed,
      and it comes back after its deadline
*/
#ifndef ZETL_PG_WRITER_H_INCLUDED
#define ZETL_PG_WRITER_H_INCLUDED

#include "zetl_config.h"
#include <czmq.h>

typedef struct {
    const zetl_config_t *config;  //  borrowed: must outlive the actor
    size_t pipeline;              //  index of the pipeline in config
    size_t target;                //  index of the postgres target in the pipeline
    const char *conninfo;         //  borrowed: PostgreSQL connection string
    const char *writer;           //  borrowed: this writer's name in zetl_stats
} zetl_pg_writer_args_t;

//  The actor. ARGS is a zetl_pg_writer_args_t, copied at start.
void zetl_pg_writer_actor (zsock_t *pipe, void *args);

#endif
