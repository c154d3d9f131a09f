/*  zetl_progress - when a checkpointing source may write its state

    A source that keeps its own position (zetl_checkpoint: a PostgreSQL
    extraction, an HTTP API) reads in runs, and a run's records reach the
    targets in several partitions at once, committed in no particular order
    across partitions. After each page the source marks what it has handed
    over (the feed's highest position per partition) together with the state
    that holds once that page is committed. Polling reads what every target
    has committed of the run and returns the state of the newest mark that
    is committed in full: only then may the source write it.
    zetl_progress_checkpoint does the whole of it for a source: polls at
    most every ZETL_PROGRESS_POLL_MS, writes the newest committed state to
    zetl_checkpoints (keeping it for a later try if the write fails), and
    ends the run once it is read to the end and committed in full. Owned by
    one source actor.
*/
#ifndef ZETL_PROGRESS_H_INCLUDED
#define ZETL_PROGRESS_H_INCLUDED

#include "zetl_config.h"
#include <libpq-fe.h>

#define ZETL_PROGRESS_POLL_MS 250  //  between reads of what is committed

typedef struct zetl_progress zetl_progress_t;

//  Create for PIPELINE (borrowed: must outlive the result). Caller owns it.
zetl_progress_t *zetl_progress_new (const zetl_pipeline_t *pipeline);
void zetl_progress_destroy (zetl_progress_t **self_p);

//  Mark that once every position at or below SENT[p] of each partition p
//  (-1: none) is committed, STATE (copied) holds.
void zetl_progress_mark (zetl_progress_t *self, const int64_t *sent, const char *state);

//  Read through CONN what every target has committed of run SOURCE, and take
//  the marks committed in full. Returns the state of the newest of them
//  (caller frees), or NULL when none is (or on a database error, logged).
char *zetl_progress_poll (zetl_progress_t *self, PGconn *conn, const char *source);

//  A new run: forget every mark; STATE (copied; may be NULL) is where it
//  starts, written again when the run ends having committed no mark.
void zetl_progress_begin (zetl_progress_t *self, const char *state);

//  Through CONN: read what is committed of run RUN (at most every
//  ZETL_PROGRESS_POLL_MS unless NOW) and write the newest state committed in
//  full as CHECKPOINT of the pipeline in zetl_checkpoints. With READ_ALL (the
//  run has handed over its last record) and every mark committed, the run
//  ends: the state is written with RUN as finished. Returns true once the
//  run has ended (and stays so until zetl_progress_begin).
bool zetl_progress_checkpoint (zetl_progress_t *self, PGconn *conn, const char *checkpoint,
                               const char *run, bool read_all, bool now);

//  The newest state written or committed (borrowed), or NULL.
const char *zetl_progress_state (const zetl_progress_t *self);

//  Marks not committed yet.
size_t zetl_progress_pending (const zetl_progress_t *self);

//  Forget every mark (a run abandoned).
void zetl_progress_clear (zetl_progress_t *self);

#endif
