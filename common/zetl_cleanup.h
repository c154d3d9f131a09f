/*  zetl_cleanup - "run retention now" requests, kept in PostgreSQL

    Day-partitioned PostgreSQL targets drop the partitions older than their
    retention at each sink's hourly upkeep (sink/zetl_partition). POST
    /api/v1/cleanup on the coordinator records a request here instead of
    waiting for that hour: a row of zetl_cleanup_requests. Each sink
    connection that writes a day-partitioned target looks at the newest
    request id every few seconds and runs its upkeep at once when it is one
    it has not seen, then marks the requests up to it done. Upkeep is
    idempotent and serialised by an advisory lock, so that every connection
    of every sink running it is harmless. Functions take a connection of
    the caller's thread and return 0, or -1 after logging the statement's
    error with its SQL state.
*/
#ifndef ZETL_CLEANUP_H_INCLUDED
#define ZETL_CLEANUP_H_INCLUDED

#include <libpq-fe.h>
#include <stdint.h>

//  Record a request; sets *ID to its number.
int zetl_cleanup_request (PGconn *conn, int64_t *id);

//  Set *ID to the newest request's number (0 if there was none).
int zetl_cleanup_latest (PGconn *conn, int64_t *id);

//  Mark every request up to ID done (done_at), those already done aside.
int zetl_cleanup_done (PGconn *conn, int64_t id);

#endif
