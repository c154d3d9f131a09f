/*  zetl_checkpoint - positions that sources keep in PostgreSQL themselves  */
#include "zetl_checkpoint.h"
#include "zetl_log.h"
#include "zetl_pg.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int
zetl_checkpoint_read (PGconn *conn, const char *pipeline, const char *source, char **state)
{
    *state = NULL;
    const char *params[2] = {pipeline, source};
    PGresult *res = zetl_pg_query (conn, "SELECT state FROM zetl_checkpoints WHERE pipeline = $1 AND source = $2",
                            2, params, "read zetl_checkpoints");
    if (!res)
        return -1;
    if (PQntuples (res) == 1 && !PQgetisnull (res, 0, 0))
        *state = strdup (PQgetvalue (res, 0, 0));
    PQclear (res);
    return 0;
}

int
zetl_checkpoint_next_run (PGconn *conn, const char *pipeline, const char *source, int64_t *run)
{
    const char *params[2] = {pipeline, source};
    PGresult *res = zetl_pg_query (conn, "INSERT INTO zetl_checkpoints (pipeline, source, run) VALUES ($1, $2, 1)"
                            " ON CONFLICT (pipeline, source) DO UPDATE"
                            " SET run = zetl_checkpoints.run + 1 RETURNING run",
                            2, params, "count a run in zetl_checkpoints");
    if (!res)
        return -1;
    *run = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    return 0;
}

int
zetl_checkpoint_write (PGconn *conn, const char *pipeline, const char *source, const char *state,
                       const char *finished)
{
    const char *params[4] = {pipeline, source, state, finished};
    //  One statement, so one transaction: the state and the finished run's offsets
    PGresult *res = zetl_pg_query (
        conn,
        "WITH gone AS (DELETE FROM zetl_offsets WHERE $4::text IS NOT NULL"
        "              AND pipeline = $1 AND source = $4::text)"
        " INSERT INTO zetl_checkpoints (pipeline, source, state) VALUES ($1, $2, $3)"
        " ON CONFLICT (pipeline, source) DO UPDATE SET state = $3, updated_at = now(),"
        " finished_at = CASE WHEN $4::text IS NULL THEN zetl_checkpoints.finished_at"
        "                    ELSE now () END",
        4, params, "write zetl_checkpoints");
    PQclear (res);
    return res ? 0 : -1;
}

int
zetl_checkpoint_forget_runs (PGconn *conn, const char *pipeline, const char *prefix)
{
    const char *params[2] = {pipeline, prefix};
    PGresult *res = zetl_pg_query (conn, "DELETE FROM zetl_offsets WHERE pipeline = $1"
                            " AND left (source, length ($2)) = $2",
                            2, params, "forget unfinished runs in zetl_offsets");
    PQclear (res);
    return res ? 0 : -1;
}

int
zetl_checkpoint_request_refresh (PGconn *conn, const char *pipeline, bool force, int64_t *id)
{
    const char *params[2] = {pipeline, force ? "true" : "false"};
    PGresult *res = zetl_pg_query (conn, "INSERT INTO zetl_refresh_requests (pipeline, force) VALUES ($1, $2)"
                            " RETURNING id",
                            2, params, "insert into zetl_refresh_requests");
    if (!res)
        return -1;
    *id = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    return 0;
}

int
zetl_checkpoint_take_refresh (PGconn *conn, const char *pipeline, bool *requested, bool *force)
{
    *requested = *force = false;
    const char *params[1] = {pipeline};
    PGresult *res = zetl_pg_query (conn, "UPDATE zetl_refresh_requests SET taken_at = now()"
                            " WHERE pipeline = $1 AND taken_at IS NULL RETURNING force",
                            1, params, "take zetl_refresh_requests");
    if (!res)
        return -1;
    for (int row = 0; row < PQntuples (res); row++) {
        *requested = true;
        if (PQgetvalue (res, row, 0)[0] == 't')
            *force = true;
    }
    PQclear (res);
    return 0;
}
