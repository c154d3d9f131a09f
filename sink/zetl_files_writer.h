/*  zetl_files_writer - one files target of a pipeline in a sink, as an actor

    Takes the RESULT batches the sink's loop hands it, as a PostgreSQL
    writer does (the same pipe protocol), and writes their rows to the
    target's directory tree (zetl_files_store): one file per batch, source
    and UTC day of the rows' event time, JSONL or CSV, optionally gzip or
    zstd (zetl_files_encode). It groups the batches queued for it, up to
    sink_batch_rows rows or sink_linger, into one commit.

    Exactly once across crashes. The committed positions of the target are
    kept in zetl_offsets under the target's name ("files:<path>"), per
    (source, partition), like a PostgreSQL target's: the coordinator skips
    re-read records by the lowest position over all targets, and sources
    that checkpoint compare with zetl_offsets. One commit is:

      1. BEGIN; lock the zetl_offsets rows of the keys the batches touch
         (SELECT ... FOR UPDATE by a no-op upsert, keys sorted) and read what
         is committed. From here to COMMIT no other writer, in this sink or
         another sharing the path, touches these keys' files: the lock is
         the key's.
      2. Recover each key: if it has an intent (below), remove the files
         it lists that are not committed, then the intent.
      3. Stage: skip every entry at or below the committed position (a
         replay, whatever batch it comes in), and write the rest, by
         (batch, source, day), to temp files, fsync'd, invisible.
      4. Publish: write each key's intent (its new files and their last
         positions; temp + fsync + rename + fsync), then rename the files
         into their day directories and fsync those.
      5. Raise the keys' positions in zetl_offsets to the highest written;
         COMMIT. Then remove the intents and report DONE.

    A crash (or a failed statement or write) at any point leaves either no
    visible file (before 4), or visible files listed by an intent whose
    positions are not committed (between 4 and the COMMIT: the transaction
    dies with the connection and the lock is released), or committed files
    with a stale intent (after the COMMIT). The next commit of that key, by
    whichever writer gets its partition, takes the lock and recovers first:
    a listed file is committed exactly when its last position is (at or
    below the position read; ordered mode: in the committed ranges), since
    all of a file's positions commit in one transaction. Uncommitted files
    are removed, committed ones kept; the records of the removed files are
    above the committed position, so the coordinator replays them, cut into
    batches however it likes, and they are written again exactly once: no
    line doubled (a record at or below the position is never written again)
    and none lost (every record above it is, and its position only rises
    once its file is in place). A replay cut like the first try writes the
    same file names. Temp files of a crash are removed when the writer of
    the same name starts again, or after an hour.

    Dead letters and duplicates are counted by the pipeline's PostgreSQL
    target when it has one. With ACCOUNTS set (a pipeline whose only targets
    are files), this writer also writes dead letters to zetl_dead_letters,
    resolves reprocessed ones and adds its counters to zetl_stats, in the
    same transaction.

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
