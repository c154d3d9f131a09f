/*  zetl_cleanup - "run retention now" requests, kept in PostgreSQL  */
#include "zetl_cleanup.h"
#include "zetl_pg.h"

#include <inttypes.h>

int
zetl_cleanup_request (PGconn *conn, int64_t *id)
{
    PGresult *res = zetl_pg_query (conn,
                                   "INSERT INTO zetl_cleanup_requests DEFAULT VALUES"
                                   " RETURNING id",
                                   0, NULL, "insert into zetl_cleanup_requests");
    if (!res)
        return -1;
    *id = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    return 0;
}

int
zetl_cleanup_latest (PGconn *conn, int64_t *id)
{
    PGresult *res = zetl_pg_query (conn, "SELECT coalesce(max(id), 0) FROM zetl_cleanup_requests",
                                   0, NULL, "read zetl_cleanup_requests");
    if (!res)
        return -1;
    *id = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    return 0;
}

int
zetl_cleanup_done (PGconn *conn, int64_t id)
{
    char text[24];
    snprintf (text, sizeof text, "%" PRId64, id);
    const char *params[1] = {text};
    PGresult *res = zetl_pg_query (conn,
                                   "UPDATE zetl_cleanup_requests SET done_at = now()"
                                   " WHERE id <= $1::bigint AND done_at IS NULL",
                                   1, params, "mark zetl_cleanup_requests done");
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}
