/*  zetl_checkpoint - positions that sources keep in PostgreSQL themselves

    Files are replayed by byte offset and producers by ACK; a PostgreSQL
    table or an HTTP API is read again from a position of the source's own:
    an extraction watermark (updated_at, key), a cursor, a next link. Such a
    source reads in runs: each run is a source of its own in zetl_offsets
    ("<name>@run-<n>"), its positions the rows' numbers in the run, and the
    source's state (text it defines, JSON by convention) is written here only
    once every record before it is committed at every target
    (coordinator/zetl_progress), so a restart reads again from there.

    Tables: zetl_checkpoints (pipeline, source) -> state, run counter;
    zetl_refresh_requests, what `zetlctl refresh` asks for. Every function
    returns 0, or -1 after logging the statement's error.
*/
#ifndef ZETL_CHECKPOINT_H_INCLUDED
#define ZETL_CHECKPOINT_H_INCLUDED

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

//  Read SOURCE's state into *STATE (caller frees; NULL if none was written).
int zetl_checkpoint_read (PGconn *conn, const char *pipeline, const char *source, char **state);

//  Count one more run of SOURCE and set *RUN to its number (1, 2, …).
int zetl_checkpoint_next_run (PGconn *conn, const char *pipeline, const char *source,
                              int64_t *run);

//  Write SOURCE's STATE. When FINISHED (a run's source name) is not NULL,
//  that run is over: its rows in zetl_offsets go in the same transaction,
//  since nothing will be read under that name again, and finished_at is set.
int zetl_checkpoint_write (PGconn *conn, const char *pipeline, const char *source,
                           const char *state, const char *finished);

//  Forget the zetl_offsets rows of every run whose source name starts with
//  PREFIX: runs left unfinished by an earlier coordinator, never read again.
int zetl_checkpoint_forget_runs (PGconn *conn, const char *pipeline, const char *prefix);

//  Ask PIPELINE's source to read now (FORCE: from the start, ignoring its
//  state). Sets *ID to the request's number.
int zetl_checkpoint_request_refresh (PGconn *conn, const char *pipeline, bool force, int64_t *id);

//  Take PIPELINE's pending refresh requests: *REQUESTED is true if there
//  was one, *FORCE if one of them asked for a forced refresh.
int zetl_checkpoint_take_refresh (PGconn *conn, const char *pipeline, bool *requested,
                                  bool *force);

#endif
