/*  zetl_reprocess - reprocess requests: dead letters sent back through a pipeline

    `zetlctl reprocess PIPELINE --reason R` records a request in PostgreSQL:
    a row of zetl_reprocess_requests and, in the same transaction, a
    snapshot of the dead letters it covers in zetl_reprocess_items (one item
    per record, whatever the number of targets that dead-lettered it,
    numbered 1..n by seq). The snapshot makes the request a replayable
    source of its own, named "reprocess@<id>", whose positions are the
    items' seq: a coordinator that restarts mid-way skips what every target
    has committed, exactly as for a file.

    The coordinator's reprocess source reads the items and sends them past
    the lateness check (entries flagged REPROCESS). A sink committing an
    item deletes, in the same transaction, its own target's dead letter for
    the item's origin (source, partition, position) and takes it off its
    dead_lettered counter, so the reconciliation keeps holding: the record
    now counts as loaded, deduplicated or dead-lettered again (under its new
    source name). A request is finished when no dead letter of its items
    remains. A dead letter already covered by an unfinished request is left
    out of a new one, so no record is sent back twice.

    Functions take a connection of the caller's thread; errors are logged
    with their SQL state.
*/
#ifndef ZETL_REPROCESS_H_INCLUDED
#define ZETL_REPROCESS_H_INCLUDED

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZETL_REPROCESS_PREFIX "reprocess@"  //  source names of requests

//  Record a request for PIPELINE's dead letters with REASON. Sets *ID and
//  *RECORDS (items in it, possibly 0). Returns 0, or -1 with *ERROR set
//  (caller owns it).
int zetl_reprocess_request (PGconn *conn, const char *pipeline, const char *reason, int64_t *id,
                            int64_t *records, char **error);

//  Fill IDS (room for MAX) with PIPELINE's unfinished requests, oldest
//  first; sets *COUNT. Returns 0 or -1.
int zetl_reprocess_pending (PGconn *conn, const char *pipeline, int64_t *ids, size_t max,
                            size_t *count);

//  Up to LIMIT items of REQUEST with seq above AFTER, in seq order: a result
//  of rows (seq, raw), or NULL on error. Caller clears it.
PGresult *zetl_reprocess_items (PGconn *conn, int64_t request, int64_t after, int limit);

//  Dead letters of REQUEST's items that remain (every target), or -1 on error.
int64_t zetl_reprocess_remaining (PGconn *conn, int64_t request);

//  In the caller's transaction: delete TARGET's dead letters of REQUEST's
//  items whose seq is in SEQS (a PostgreSQL array literal, "{1,2,3}").
//  Returns the statement's result (PQcmdTuples: rows deleted) for the
//  caller to check and clear.
PGresult *zetl_reprocess_resolve (PGconn *conn, const char *pipeline, const char *target,
                                  int64_t request, const char *seqs);

//  True when NAME is a reprocess source; sets *REQUEST.
bool zetl_reprocess_parse_source (const char *name, int64_t *request);

#endif
