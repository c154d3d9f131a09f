/*  zetl_pg - PostgreSQL helpers shared by the coordinator, sinks and zetlctl  */
#include "zetl_pg.h"
#include "zetl_log.h"

#include <string.h>

char *
zetl_pg_redact (const char *conninfo)
{
    if (!conninfo)
        return strdup ("");
    char *copy = strdup (conninfo);
    //  key=value form: mask the value after "password="
    char *at = strstr (copy, "password=");
    if (at) {
        char *value = at + strlen ("password=");
        char *end = value;
        while (*end && *end != ' ')
            end++;
        memset (value, '*', (size_t) (end - value));
    }
    //  URI form: postgresql://user:secret@host
    char *scheme = strstr (copy, "://");
    if (scheme) {
        char *user = scheme + 3;
        char *at_sign = strchr (user, '@');
        char *colon = strchr (user, ':');
        if (at_sign && colon && colon < at_sign)
            memset (colon + 1, '*', (size_t) (at_sign - colon - 1));
    }
    return copy;
}

PGconn *
zetl_pg_connect (const char *conninfo, char **error)
{
    PGconn *conn = PQconnectdb (conninfo ? conninfo : "");
    if (PQstatus (conn) == CONNECTION_OK) {
        //  Plain, predictable text output and UTC for every session
        PGresult *res = PQexec (conn, "SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; "
                                      "SET client_min_messages = warning");
        PQclear (res);
        return conn;
    }
    if (error) {
        char *redacted = zetl_pg_redact (conninfo);
        char *reason = strdup (PQerrorMessage (conn));
        size_t len = strlen (reason);
        while (len && (reason[len - 1] == '\n' || reason[len - 1] == ' '))
            reason[--len] = 0;
        for (char *c = reason; *c; c++)
            if (*c == '\n')
                *c = ' ';
        *error = zsys_sprintf ("cannot connect to PostgreSQL \"%s\": %s; start it or set "
                               "ZETL_POSTGRES",
                               redacted, reason);
        free (reason);
        free (redacted);
    }
    PQfinish (conn);
    return NULL;
}

const char *
zetl_pg_sqlstate (const PGresult *res)
{
    const char *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
    return state ? state : "";
}

bool
zetl_pg_sqlstate_is_data (const char *sqlstate)
{
    return sqlstate && (strncmp (sqlstate, "22", 2) == 0 || strncmp (sqlstate, "23", 2) == 0);
}

//  RES if its statement succeeded, else NULL after logging it and clearing RES
static PGresult *
s_succeeded (PGconn *conn, PGresult *res, const char *what)
{
    ExecStatusType status = PQresultStatus (res);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        return res;
    zetl_log_error ("pg", "statement_failed",
                    json_pack ("{s:s, s:s, s:s}", "statement", what, "sqlstate",
                               zetl_pg_sqlstate (res), "error", PQerrorMessage (conn)));
    PQclear (res);
    return NULL;
}

int
zetl_pg_exec (PGconn *conn, const char *sql, const char *what)
{
    PGresult *res = s_succeeded (conn, PQexec (conn, sql), what);
    PQclear (res);
    return res ? 0 : -1;
}

PGresult *
zetl_pg_query (PGconn *conn, const char *sql, int count, const char *const *params,
               const char *what)
{
    return s_succeeded (conn, PQexecParams (conn, sql, count, NULL, params, NULL, NULL, 0), what);
}

PGconn *
zetl_pg_open (const char *conninfo, char **error)
{
    PGconn *conn = zetl_pg_connect (conninfo, error);
    if (conn && zetl_pg_ensure_meta (conn) != 0) {
        *error = zsys_sprintf ("cannot create zetl's tables (zetl_offsets, zetl_stats, …): %s; "
                               "check that the user may create tables",
                               PQerrorMessage (conn));
        PQfinish (conn);
        conn = NULL;
    }
    return conn;
}

char *
zetl_pg_ident (PGconn *conn, const char *name)
{
    char *quoted = PQescapeIdentifier (conn, name, strlen (name));
    assert (quoted);
    char *copy = strdup (quoted);
    PQfreemem (quoted);
    return copy;
}

int
zetl_pg_ensure_meta (PGconn *conn)
{
    //  Concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalog:
    //  serialise zetl's DDL on one advisory lock
    static const char *sql =
        "BEGIN;"
        "SELECT pg_advisory_xact_lock(7325001);"
        "CREATE TABLE IF NOT EXISTS zetl_offsets ("
        "  pipeline text NOT NULL, target text NOT NULL, source text NOT NULL,"
        "  partition integer NOT NULL, position bigint NOT NULL,"
        "  updated_at timestamptz NOT NULL DEFAULT now(),"
        "  PRIMARY KEY (pipeline, target, source, partition));"
        //  ordered: true: the positions committed above position (zetl_ranges)
        "ALTER TABLE zetl_offsets ADD COLUMN IF NOT EXISTS above int8multirange;"
        "CREATE TABLE IF NOT EXISTS zetl_stats ("
        "  pipeline text NOT NULL, target text NOT NULL, writer text NOT NULL,"
        "  changed bigint NOT NULL DEFAULT 0, unchanged bigint NOT NULL DEFAULT 0,"
        "  dead_lettered bigint NOT NULL DEFAULT 0, deduplicated bigint NOT NULL DEFAULT 0,"
        "  PRIMARY KEY (pipeline, target, writer));"
        "CREATE TABLE IF NOT EXISTS zetl_dead_letters ("
        "  id bigserial PRIMARY KEY, pipeline text NOT NULL, target text NOT NULL,"
        "  stage text NOT NULL, reason text NOT NULL, field text, error text, raw text,"
        "  source text NOT NULL, partition integer NOT NULL, position bigint NOT NULL,"
        "  attempts integer NOT NULL DEFAULT 1,"
        "  first_seen timestamptz NOT NULL DEFAULT now(),"
        "  last_seen timestamptz NOT NULL DEFAULT now(),"
        "  UNIQUE (pipeline, target, source, partition, position));"
        "CREATE TABLE IF NOT EXISTS zetl_reprocess_requests ("
        "  id bigserial PRIMARY KEY, pipeline text NOT NULL, reason text NOT NULL,"
        "  records bigint NOT NULL DEFAULT 0,"
        "  requested_at timestamptz NOT NULL DEFAULT now());"
        "CREATE TABLE IF NOT EXISTS zetl_reprocess_items ("
        "  request bigint NOT NULL REFERENCES zetl_reprocess_requests ON DELETE CASCADE,"
        "  seq bigint NOT NULL, pipeline text NOT NULL, source text NOT NULL,"
        "  partition integer NOT NULL, position bigint NOT NULL, raw text NOT NULL,"
        "  PRIMARY KEY (request, seq));"
        "CREATE INDEX IF NOT EXISTS zetl_reprocess_items_origin"
        "  ON zetl_reprocess_items (pipeline, source, partition, position);"
        //  Sources that keep a position of their own (zetl_checkpoint)
        "CREATE TABLE IF NOT EXISTS zetl_checkpoints ("
        "  pipeline text NOT NULL, source text NOT NULL, state text,"
        "  run bigint NOT NULL DEFAULT 0, updated_at timestamptz NOT NULL DEFAULT now(),"
        "  finished_at timestamptz,"
        "  PRIMARY KEY (pipeline, source));"
        "CREATE TABLE IF NOT EXISTS zetl_refresh_requests ("
        "  id bigserial PRIMARY KEY, pipeline text NOT NULL, force boolean NOT NULL,"
        "  requested_at timestamptz NOT NULL DEFAULT now(), taken_at timestamptz);"
        //  "Run retention now" requests (zetl_cleanup)
        "CREATE TABLE IF NOT EXISTS zetl_cleanup_requests ("
        "  id bigserial PRIMARY KEY, requested_at timestamptz NOT NULL DEFAULT now(),"
        "  done_at timestamptz);"
        "CREATE TABLE IF NOT EXISTS zetl_coordinators ("
        "  pipeline text PRIMARY KEY, epoch integer NOT NULL,"
        "  since timestamptz NOT NULL DEFAULT now());"
        "COMMIT;";
    int rc = zetl_pg_exec (conn, sql, "create zetl tables");
    if (rc != 0)
        zetl_pg_exec (conn, "ROLLBACK", "rollback");
    return rc;
}

int
zetl_pg_read_stats (PGconn *conn, const char *pipeline, const char *target, zetl_pg_stats_t *stats)
{
    memset (stats, 0, sizeof *stats);
    const char *params[2] = {pipeline, target};
    PGresult *res = PQexecParams (conn,
                                  "SELECT coalesce(sum(changed),0), coalesce(sum(unchanged),0),"
                                  " coalesce(sum(dead_lettered),0), coalesce(sum(deduplicated),0)"
                                  " FROM zetl_stats WHERE pipeline = $1 AND target = $2",
                                  2, NULL, params, NULL, NULL, 0);
    int rc = -1;
    if (PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1) {
        stats->changed = atoll (PQgetvalue (res, 0, 0));
        stats->unchanged = atoll (PQgetvalue (res, 0, 1));
        stats->dead_lettered = atoll (PQgetvalue (res, 0, 2));
        stats->deduplicated = atoll (PQgetvalue (res, 0, 3));
        rc = 0;
    }
    else
        zetl_log_error ("pg", "statement_failed",
                        json_pack ("{s:s, s:s, s:s}", "statement", "read zetl_stats", "sqlstate",
                                   zetl_pg_sqlstate (res), "error", PQerrorMessage (conn)));
    PQclear (res);
    return rc;
}

static void
s_free_position (void **item_p)
{
    zetl_pg_position_t *position = (zetl_pg_position_t *) *item_p;
    if (position) {
        free (position->above);
        free (position);
        *item_p = NULL;
    }
}

//  Per (source, partition) that every target has: the lowest floor, and the
//  positions above it that every target has committed (ordered mode)
static const char *s_positions_sql =
    "SELECT source, partition, min(position),"
    "       coalesce((range_intersect_agg(coalesce(above, '{}'::int8multirange)"
    "                 + int8multirange(int8range(NULL, position + 1)))"
    "                 - int8multirange(int8range(NULL, min(position) + 1)))::text, '')"
    " FROM zetl_offsets WHERE pipeline = $1 AND target = ANY ($2::text[])"
    " GROUP BY source, partition HAVING count(DISTINCT target) = $3::int";

int
zetl_pg_read_source_positions (PGconn *conn, const char *pipeline, const char *const *targets,
                               size_t count, const char *source, int64_t *positions,
                               uint32_t partitions)
{
    for (uint32_t partition = 0; partition < partitions; partition++)
        positions[partition] = -1;
    zchunk_t *array = zetl_pg_text_array (targets, count);
    char count_text[16];
    snprintf (count_text, sizeof count_text, "%zu", count);
    const char *params[4] = {pipeline, source, (const char *) zchunk_data (array), count_text};
    PGresult *res = zetl_pg_query (conn,
                                   "SELECT partition, min(position) FROM zetl_offsets"
                                   " WHERE pipeline = $1 AND source = $2"
                                   " AND target = ANY ($3::text[])"
                                   " GROUP BY partition HAVING count(DISTINCT target) = $4::int",
                                   4, params, "read zetl_offsets");
    zchunk_destroy (&array);
    if (!res)
        return -1;
    for (int row = 0; row < PQntuples (res); row++) {
        long partition = strtol (PQgetvalue (res, row, 0), NULL, 10);
        if (partition >= 0 && partition < (long) partitions)
            positions[partition] = strtoll (PQgetvalue (res, row, 1), NULL, 10);
    }
    PQclear (res);
    return 0;
}

//  Append TEXT to ARRAY as one double-quoted element of an array literal,
//  '"' and '\' escaped: any name is one element, never syntax
static void
s_append_quoted (zchunk_t *array, const char *text)
{
    zchunk_extend (array, "\"", 1);
    while (true) {
        size_t run = strcspn (text, "\"\\");
        zchunk_extend (array, text, run);
        if (!text[run])
            break;
        zchunk_extend (array, "\\", 1);
        zchunk_extend (array, text + run, 1);
        text += run + 1;
    }
    zchunk_extend (array, "\"", 1);
}

zchunk_t *
zetl_pg_text_array (const char *const *texts, size_t count)
{
    zchunk_t *array = zchunk_new (NULL, 64 * count + 3);
    zchunk_extend (array, "{", 1);
    for (size_t index = 0; index < count; index++) {
        if (index)
            zchunk_extend (array, ",", 1);
        s_append_quoted (array, texts[index]);
    }
    zchunk_extend (array, "}", 2);  //  With the NUL
    return array;
}

zhashx_t *
zetl_pg_read_positions (PGconn *conn, const char *pipeline, const char *const *targets, size_t count)
{
    zchunk_t *array = zetl_pg_text_array (targets, count);
    char count_text[16];
    snprintf (count_text, sizeof count_text, "%zu", count);
    const char *params[3] = {pipeline, (const char *) zchunk_data (array), count_text};
    PGresult *res = zetl_pg_query (conn, s_positions_sql, 3, params, "read zetl_offsets");
    zchunk_destroy (&array);
    if (!res)
        return NULL;
    zhashx_t *positions = zhashx_new ();
    zhashx_set_destructor (positions, s_free_position);
    for (int row = 0; row < PQntuples (res); row++) {
        char key[4096];
        snprintf (key, sizeof key, "%s\x1f%s", PQgetvalue (res, row, 0), PQgetvalue (res, row, 1));
        zetl_pg_position_t *position = (zetl_pg_position_t *) zmalloc (sizeof *position);
        position->position = atoll (PQgetvalue (res, row, 2));
        const char *above = PQgetvalue (res, row, 3);
        position->above = *above && strcmp (above, "{}") != 0 ? strdup (above) : NULL;
        zhashx_insert (positions, key, position);
    }
    PQclear (res);
    return positions;
}
