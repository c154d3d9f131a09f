/*  zetl_files_commit - one commit of a files target: the commit protocol and crash recovery

    Writes a group of RESULT batches (zetl_group) to a files target's
    directory tree (zetl_files_store): one file per batch, source and UTC day
    of the rows' event time, JSONL or CSV, optionally gzip or zstd
    (zetl_files_encode), and commits their positions in PostgreSQL. Owned by
    one zetl_files_writer, with its connection and the buffers it reuses.

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

*/
#ifndef ZETL_FILES_COMMIT_H_INCLUDED
#define ZETL_FILES_COMMIT_H_INCLUDED

#include "zetl_config.h"
#include "zetl_group.h"
#include <czmq.h>

typedef struct zetl_files_commit zetl_files_commit_t;

//  Commits of TARGET of PIPELINE, on a connection to CONNINFO, by the writer
//  named WRITER (all borrowed: they must outlive the result); ACCOUNTS when
//  the pipeline has no PostgreSQL target. Connects on first use. Caller owns
//  the result.
zetl_files_commit_t *zetl_files_commit_new (const zetl_pipeline_t *pipeline,
                                            const zetl_target_t *target, const char *conninfo,
                                            const char *writer, bool accounts);
//  Destroy it, closing its connection, and set *self_p to NULL. Does nothing
//  if *self_p is NULL.
void zetl_files_commit_destroy (zetl_files_commit_t **self_p);

//  Make the target's directories and connect to PostgreSQL, where not done
//  yet. Returns 0, or -1 with *ERROR set (caller owns it).
int zetl_files_commit_connect (zetl_files_commit_t *self, char **error);
//  Close the connection when it is lost: the next commit connects again.
void zetl_files_commit_check_connection (zetl_files_commit_t *self);
//  One commit of BATCHES (zetl_msg_t RESULTs, borrowed). Returns 0
//  committed, or -1 failed (rolled back, what was published left to
//  recovery) with *FAILURE saying why (its error_text the caller's to free).
int zetl_files_commit_run (zetl_files_commit_t *self, zlistx_t *batches,
                           zetl_group_failure_t *failure);

#endif
