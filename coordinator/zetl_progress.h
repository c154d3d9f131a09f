/*  zetl_progress - when a checkpointing source may write its state

    A source that keeps its own position (zetl_checkpoint: a PostgreSQL
    extraction, an HTTP API) reads in runs, and a run's records reach the
    targets in several partitions at once, committed in no particular order
    across partitions. After each page the source marks what it has handed
    over (the feed's highest position per partition) together with the state
    that holds once that page is committed. Polling reads what every target
    has committed of the run and returns the state of the newest mark that
    is committed in full: only then may the source write it. Owned by one
    source actor.
*/
#ifndef ZETL_PROGRESS_H_INCLUDED
#define ZETL_PROGRESS_H_INCLUDED

#include "zetl_config.h"
#include <libpq-fe.h>

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

//  Marks not committed yet.
size_t zetl_progress_pending (const zetl_progress_t *self);

//  Forget every mark (a run abandoned).
void zetl_progress_clear (zetl_progress_t *self);

#endif
