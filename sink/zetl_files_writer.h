/*  zetl_files_writer - one files target of a pipeline in a sink, as an actor

    Takes the RESULT batches the sink's loop hands it, as a PostgreSQL
    writer does (the same pipe protocol), and writes their rows to the
    target's directory tree (zetl_files_store): one file per batch, source
    and UTC day of the rows' event time, JSONL or CSV, optionally gzip or
    zstd (zetl_files_encode). It groups the batches queued for it, up to
    sink_batch_rows rows or sink_linger, into one commit.

    Exactly once across crashes: each commit writes its files and raises
    the committed positions of the target in zetl_offsets, under the
    target's name ("files:<path>"), per (source, partition), as a PostgreSQL
    target does; a crash at any point is recovered by the next commit of the
    key. The protocol is zetl_files_commit's; the queue and the policy of a
    group's commit (DONE, DROPPED, FAILED, retry) zetl_group's.

    Commands on the pipe:
      "BATCH" + pointer to a zetl_msg_t RESULT (takes ownership)
    Replies on the pipe, as zetl_pg_writer's:
      "DONE" + batch_id (8) + record count (4) + "" once committed
      "FAILED" + batch_id (8) + record count (4) + error text, when a row
      of the batch does not match the schema
      "DROPPED" + batch_id (8) + record count (4) + reason, when the
      RESULT's body is malformed: nothing of it is committed
    A failing disk or PostgreSQL is retried with backoff for ever.
*/
#ifndef ZETL_FILES_WRITER_H_INCLUDED
#define ZETL_FILES_WRITER_H_INCLUDED

#include "zetl_config.h"
#include <czmq.h>

typedef struct {
    const zetl_config_t *config;  //  borrowed: must outlive the actor
    size_t pipeline;              //  index of the pipeline in config
    size_t target;                //  index of the files target in the pipeline
    const char *conninfo;         //  borrowed: PostgreSQL connection string
    const char *writer;           //  borrowed: this writer's name (zetl_stats, temp files)
    bool accounts;                //  no PostgreSQL target: write dead letters and counters
} zetl_files_writer_args_t;

//  The actor. ARGS is a zetl_files_writer_args_t, copied at start.
void zetl_files_writer_actor (zsock_t *pipe, void *args);

#endif
