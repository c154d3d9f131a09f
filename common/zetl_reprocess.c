/*  zetl_reprocess - reprocess requests: dead letters sent back through a pipeline  */
#include "zetl_reprocess.h"
#include "zetl_log.h"
#include "zetl_pg.h"

#include <inttypes.h>

//  The snapshot: one item per dead-lettered record (targets share it),
//  leaving out dead letters an unfinished request already covers
static const char *s_snapshot_sql =
    "INSERT INTO zetl_reprocess_items (request, seq, pipeline, source, partition, position, raw)"
    " SELECT $3::bigint, row_number() OVER (ORDER BY source, partition, position),"
    "        $1, source, partition, position, raw"
    " FROM (SELECT DISTINCT ON (source, partition, position) source, partition, position, raw"
    "       FROM zetl_dead_letters d"
    "       WHERE d.pipeline = $1 AND d.reason = $2 AND d.raw IS NOT NULL"
    "         AND NOT EXISTS (SELECT 1 FROM zetl_reprocess_items i"
    "                         WHERE i.pipeline = d.pipeline AND i.source = d.source"
    "                           AND i.partition = d.partition AND i.position = d.position)"
    "       ORDER BY source, partition, position, id) AS letters";

int
zetl_reprocess_request (PGconn *conn, const char *pipeline, const char *reason, int64_t *id,
                        int64_t *records, char **error)
{
    *id = *records = 0;
    if (zetl_pg_exec (conn, "BEGIN", "begin") != 0)
        goto failed;
    //  One request at a time per database: two would race for the same letters
    if (zetl_pg_exec (conn, "SELECT pg_advisory_xact_lock(7325002)", "lock requests") != 0)
        goto failed;
    const char *params[3] = {pipeline, reason, NULL};
    PGresult *res = zetl_pg_query (conn,
                             "INSERT INTO zetl_reprocess_requests (pipeline, reason)"
                             " VALUES ($1, $2) RETURNING id",
                             2, params, "record reprocess request");
    if (!res)
        goto failed;
    *id = atoll (PQgetvalue (res, 0, 0));
    PQclear (res);
    char id_text[24];
    snprintf (id_text, sizeof id_text, "%" PRId64, *id);
    params[2] = id_text;
    if (!(res = zetl_pg_query (conn, s_snapshot_sql, 3, params, "snapshot dead letters")))
        goto failed;
    *records = atoll (PQcmdTuples (res));
    PQclear (res);
    char records_text[24];
    snprintf (records_text, sizeof records_text, "%" PRId64, *records);
    const char *update[2] = {id_text, records_text};
    if (!(res = zetl_pg_query (conn, "UPDATE zetl_reprocess_requests SET records = $2 WHERE id = $1", 2,
                         update, "count reprocess request")))
        goto failed;
    PQclear (res);
    if (zetl_pg_exec (conn, "COMMIT", "commit") == 0)
        return 0;
failed:
    *error = zsys_sprintf ("could not record the reprocess request: %s",
                           PQerrorMessage (conn));
    zetl_pg_exec (conn, "ROLLBACK", "rollback");
    return -1;
}

//  The dead letters still held for an item of request r
#define S_REMAINING_SQL                                                                           \
    "SELECT 1 FROM zetl_reprocess_items i JOIN zetl_dead_letters d"                               \
    "  ON d.pipeline = i.pipeline AND d.source = i.source AND d.partition = i.partition"          \
    " AND d.position = i.position WHERE i.request = r.id"

int
zetl_reprocess_pending (PGconn *conn, const char *pipeline, int64_t *ids, size_t max,
                        size_t *count)
{
    *count = 0;
    const char *params[1] = {pipeline};
    PGresult *res = zetl_pg_query (conn,
                             "SELECT r.id FROM zetl_reprocess_requests r WHERE r.pipeline = $1"
                             " AND EXISTS (" S_REMAINING_SQL ") ORDER BY r.id",
                             1, params, "read reprocess requests");
    if (!res)
        return -1;
    for (int row = 0; row < PQntuples (res) && *count < max; row++)
        ids[(*count)++] = atoll (PQgetvalue (res, row, 0));
    PQclear (res);
    return 0;
}

PGresult *
zetl_reprocess_items (PGconn *conn, int64_t request, int64_t after, int limit)
{
    char request_text[24], after_text[24], limit_text[16];
    snprintf (request_text, sizeof request_text, "%" PRId64, request);
    snprintf (after_text, sizeof after_text, "%" PRId64, after);
    snprintf (limit_text, sizeof limit_text, "%d", limit);
    const char *params[3] = {request_text, after_text, limit_text};
    return zetl_pg_query (conn,
                    "SELECT seq, raw FROM zetl_reprocess_items WHERE request = $1 AND seq > $2"
                    " ORDER BY seq LIMIT $3",
                    3, params, "read reprocess items");
}

int64_t
zetl_reprocess_remaining (PGconn *conn, int64_t request)
{
    char request_text[24];
    snprintf (request_text, sizeof request_text, "%" PRId64, request);
    const char *params[1] = {request_text};
    PGresult *res = zetl_pg_query (conn,
                   "SELECT count(*) FROM zetl_reprocess_items i JOIN zetl_dead_letters d"
                   "  ON d.pipeline = i.pipeline AND d.source = i.source"
                   " AND d.partition = i.partition AND d.position = i.position"
                   " WHERE i.request = $1",
                   1, params, "count reprocess remaining");
    if (!res)
        return -1;
    int64_t remaining = atoll (PQgetvalue (res, 0, 0));
    PQclear (res);
    return remaining;
}

PGresult *
zetl_reprocess_resolve (PGconn *conn, const char *pipeline, const char *target, int64_t request,
                        const char *seqs)
{
    char request_text[24];
    snprintf (request_text, sizeof request_text, "%" PRId64, request);
    const char *params[4] = {pipeline, target, request_text, seqs};
    return PQexecParams (conn,
                         "DELETE FROM zetl_dead_letters d USING zetl_reprocess_items i"
                         " WHERE i.request = $3 AND i.seq = ANY ($4::bigint[])"
                         " AND d.pipeline = $1 AND d.target = $2 AND d.source = i.source"
                         " AND d.partition = i.partition AND d.position = i.position",
                         4, NULL, params, NULL, NULL, 0);
}

bool
zetl_reprocess_parse_source (const char *name, int64_t *request)
{
    size_t prefix = strlen (ZETL_REPROCESS_PREFIX);
    if (strncmp (name, ZETL_REPROCESS_PREFIX, prefix) != 0 || !name[prefix])
        return false;
    char *end = NULL;
    long long value = strtoll (name + prefix, &end, 10);
    if (*end || value <= 0)
        return false;
    *request = value;
    return true;
}
