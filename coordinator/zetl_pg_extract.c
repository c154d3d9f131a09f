/*  zetl_pg_extract - one extraction run's reading of a PostgreSQL table  */
#include "zetl_pg_extract.h"
#include "zetl_pg.h"

#include <czmq.h>
#include <inttypes.h>
#include <jansson.h>

#define S_MAX_KEY 32                //  key columns, as the configuration allows
#define S_COLUMN_REREAD 0           //  the result's columns: reread, then the row's
#define S_COLUMN_ROW 1

struct zetl_pg_extract {
    PGconn *conn;                   //  the caller's
    const zetl_source_t *source;
    size_t key_count;
    int64_t snapshot_us;
    int64_t page_size;
    PGresult *page;                 //  the last page fetched
    int ts_column;                  //  updated_at in a page (-1: none)
    int key_columns[S_MAX_KEY];     //  the key's columns in a page
    int columns;                    //  the row's own columns
    char *kinds;                    //  per column of the row: how its text is packed
    const char **names;             //  per column of the row: its name (the first page's)
    size_t *name_lens;
    const char *extracted[ZETL_EXTRACT_COUNT];  //  the fields a source pulls out (borrowed)
    int extracted_columns[ZETL_EXTRACT_COUNT];  //  their columns in a page (-1: none)
    int asked;                      //  FETCHes sent, not answered yet
    bool done;                      //  the last page was read
};

//  Run SQL (no parameters) expecting STATUS; false with *ERROR set otherwise
static bool
s_run (PGconn *conn, const char *sql, ExecStatusType status, PGresult **result, char **error)
{
    PGresult *res = PQexec (conn, sql);
    if (PQresultStatus (res) != status) {
        *error = zsys_sprintf ("%s [%s]", PQerrorMessage (conn), zetl_pg_sqlstate (res));
        PQclear (res);
        return false;
    }
    if (result)
        *result = res;
    else
        PQclear (res);
    return true;
}

//  TYPES[i] = the type of column NAMES[i] of TABLE (caller frees each), as
//  the catalogue writes it; false with *ERROR when the table or one is missing
static bool
s_column_types (PGconn *conn, const char *table, const char *const *names, size_t count,
                char **types, char **error)
{
    char *quoted = zetl_pg_ident (conn, table);
    zchunk_t *array = zetl_pg_text_array (names, count);
    const char *params[2] = {quoted, (const char *) zchunk_data (array)};
    PGresult *res = PQexecParams (conn,
                                  "SELECT a.attname, format_type (a.atttypid, a.atttypmod)"
                                  " FROM pg_attribute a WHERE a.attrelid = to_regclass ($1)"
                                  " AND a.attnum > 0 AND NOT a.attisdropped"
                                  " AND a.attname = ANY ($2::text[])",
                                  2, NULL, params, NULL, NULL, 0);
    free (quoted);
    zchunk_destroy (&array);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        *error = zsys_sprintf ("cannot read the columns of %s: %s", table, PQerrorMessage (conn));
        PQclear (res);
        return false;
    }
    for (size_t index = 0; index < count; index++) {
        types[index] = NULL;
        for (int row = 0; row < PQntuples (res); row++)
            if (streq (PQgetvalue (res, row, 0), names[index]))
                types[index] = strdup (PQgetvalue (res, row, 1));
        if (!types[index] && !*error)
            *error = zsys_sprintf ("table %s has no column %s (or does not exist); check "
                                   "source.table, source.updated_at and source.key",
                                   table, names[index]);
    }
    PQclear (res);
    return *error == NULL;
}

//  The watermark in STATE: its texts into VALUES (borrowed from the returned
//  json_t, which the caller frees), or NULL if it has none of KEY_COUNT keys
static json_t *
s_parse_state (const char *state, size_t key_count, const char **values)
{
    json_t *root = state ? json_loads (state, 0, NULL) : NULL;
    json_t *ts = json_object_get (root, "ts"), *key = json_object_get (root, "key");
    if (!json_is_string (ts) || !json_is_array (key) || json_array_size (key) != key_count) {
        json_decref (root);
        return NULL;
    }
    values[0] = json_string_value (ts);
    for (size_t index = 0; index < key_count; index++) {
        values[index + 1] = json_string_value (json_array_get (key, index));
        if (!values[index + 1]) {
            json_decref (root);
            return NULL;
        }
    }
    return root;
}

//  "(t.a, t.b)" for the columns, or "($1::ta, $2::tb)" for parameters from FIRST
static void
s_tuple (zchunk_t *sql, PGconn *conn, const char *const *names, char *const *types, size_t count,
         int first)
{
    zchunk_extend (sql, "(", 1);
    for (size_t index = 0; index < count; index++) {
        char *part;
        if (types)
            part = zsys_sprintf ("%s$%d::%s", index ? ", " : "", first + (int) index, types[index]);
        else {
            char *quoted = zetl_pg_ident (conn, names[index]);
            part = zsys_sprintf ("%st.%s", index ? ", " : "", quoted);
            free (quoted);
        }
        zchunk_extend (sql, part, strlen (part));
        free (part);
    }
    zchunk_extend (sql, ")", 1);
}

static void
s_append (zchunk_t *sql, const char *text)
{
    zchunk_extend (sql, text, strlen (text));
}

//  The run's query, into SQL; its parameters into PARAMS and *COUNT
static void
s_build_query (zetl_pg_extract_t *self, zchunk_t *sql, const char *const *names, char *const *types,
               const char **watermark, bool force, const char **params, int *count,
               char *settle, char *lookback)
{
    const zetl_source_t *source = self->source;
    size_t columns = self->key_count + 1;
    char *table = zetl_pg_ident (self->conn, source->table);
    *count = 0;
    if (source->mode == ZETL_EXTRACT_FULL_REFRESH)
        watermark = NULL;  //  Every row is a re-read: the watermark bounds nothing
    if (watermark)
        for (size_t index = 0; index < columns; index++)
            params[(*count)++] = watermark[index];
    s_append (sql, "DECLARE zetl_extract NO SCROLL CURSOR FOR SELECT ");
    if (source->mode == ZETL_EXTRACT_FULL_REFRESH || !watermark)
        s_append (sql, source->mode == ZETL_EXTRACT_FULL_REFRESH ? "true" : "false");
    else {
        s_tuple (sql, self->conn, names, NULL, columns, 0);
        s_append (sql, " <= ");
        s_tuple (sql, self->conn, names, types, columns, 1);
    }
    char *from = zsys_sprintf (", t.* FROM %s t", table);
    s_append (sql, from);
    free (from);
    char *updated_at = zetl_pg_ident (self->conn, names[0]);
    snprintf (settle, 32, "%" PRId64 " milliseconds", source->settle_ms);
    snprintf (lookback, 32, "%" PRId64 " milliseconds", source->lookback_ms);
    char *part = NULL;
    if (source->mode == ZETL_EXTRACT_SLIDING_WINDOW) {
        params[(*count)++] = lookback;
        params[(*count)++] = settle;
        part = zsys_sprintf (" WHERE t.%s >= now () - $%d::interval AND t.%s <= now () - $%d::interval",
                             updated_at, *count - 1, updated_at, *count);
    }
    else if (source->mode == ZETL_EXTRACT_INCREMENTAL) {
        params[(*count)++] = settle;
        part = zsys_sprintf (" WHERE t.%s <= now () - $%d::interval", updated_at, *count);
    }
    if (part)
        s_append (sql, part);
    free (part);
    if (source->mode == ZETL_EXTRACT_INCREMENTAL && watermark && !force) {
        if (source->lookback_ms > 0) {
            params[(*count)++] = lookback;
            part = zsys_sprintf (" AND t.%s >= $1::%s - $%d::interval", updated_at, types[0], *count);
            s_append (sql, part);
            free (part);
        }
        else {
            s_append (sql, " AND ");
            s_tuple (sql, self->conn, names, NULL, columns, 0);
            s_append (sql, " > ");
            s_tuple (sql, self->conn, names, types, columns, 1);
        }
    }
    s_append (sql, " ORDER BY ");
    for (size_t index = 0; index < columns; index++) {
        char *quoted = zetl_pg_ident (self->conn, names[index]);
        part = zsys_sprintf ("%st.%s", index ? ", " : "", quoted);
        s_append (sql, part);
        free (part);
        free (quoted);
    }
    zchunk_extend (sql, "", 1);
    free (updated_at);
    free (table);
}

//  Begin the run's transaction and read the source's clock
static bool
s_begin (zetl_pg_extract_t *self, const char *isolation, char **error)
{
    PGresult *res = NULL;
    //  A run reads its cursor to the end: plan for the whole result, not
    //  for the first rows (a sort beats an index walk over a whole table)
    char *begin = zsys_sprintf ("BEGIN ISOLATION LEVEL %s READ ONLY;"
                                " SET LOCAL cursor_tuple_fraction = 1.0", isolation);
    bool ok = s_run (self->conn, begin, PGRES_COMMAND_OK, NULL, error)
              && s_run (self->conn, "SELECT (extract (epoch FROM now ()) * 1000000)::bigint",
                        PGRES_TUPLES_OK, &res, error);
    free (begin);
    if (ok)
        self->snapshot_us = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    return ok;
}

static zetl_pg_extract_t *
s_new (PGconn *conn, const zetl_pipeline_t *pipeline)
{
    zetl_pg_extract_t *self = (zetl_pg_extract_t *) zmalloc (sizeof (zetl_pg_extract_t));
    self->conn = conn;
    self->source = &pipeline->source;
    self->key_count = pipeline->source.key_count;
    self->page_size = pipeline->source.page_size;
    zetl_extract_names (pipeline, self->extracted);
    return self;
}

zetl_pg_extract_t *
zetl_pg_extract_open (PGconn *conn, const zetl_pipeline_t *pipeline, const char *state, bool force,
                      char **error)
{
    *error = NULL;
    zetl_pg_extract_t *self = s_new (conn, pipeline);
    const char *names[S_MAX_KEY + 1] = {pipeline->source.updated_at};
    for (size_t index = 0; index < self->key_count && index < S_MAX_KEY; index++)
        names[index + 1] = pipeline->source.key[index];
    char *types[S_MAX_KEY + 1] = {NULL};
    const char *watermark[S_MAX_KEY + 1];
    json_t *parsed = s_parse_state (state, self->key_count, watermark);
    bool ok = s_column_types (conn, pipeline->source.table, names, self->key_count + 1, types, error)
              && s_begin (self, "REPEATABLE READ", error);
    if (ok) {
        zchunk_t *sql = zchunk_new (NULL, 1024);
        const char *params[S_MAX_KEY + 4];
        char settle[32], lookback[32];
        int count = 0;
        s_build_query (self, sql, names, types, parsed ? watermark : NULL, force, params, &count,
                       settle, lookback);
        PGresult *res = PQexecParams (conn, (const char *) zchunk_data (sql), count, NULL, params,
                                      NULL, NULL, 0);
        if (PQresultStatus (res) != PGRES_COMMAND_OK) {
            *error = zsys_sprintf ("cannot read %s: %s [%s]", pipeline->source.table,
                                   PQerrorMessage (conn), zetl_pg_sqlstate (res));
            ok = false;
        }
        PQclear (res);
        zchunk_destroy (&sql);
    }
    for (size_t index = 0; index <= self->key_count; index++)
        free (types[index]);
    json_decref (parsed);
    if (!ok)
        zetl_pg_extract_destroy (&self);
    return self;
}

zetl_pg_extract_t *
zetl_pg_extract_open_target (PGconn *conn, const zetl_pipeline_t *pipeline, const char *table,
                             char **error)
{
    *error = NULL;
    for (size_t index = 0; index < pipeline->source.key_count; index++)
        if (zetl_pipeline_field_index (pipeline, pipeline->source.key[index]) < 0) {
            *error = zsys_sprintf ("source.key column %s is not in the schema, so the target "
                                   "cannot tell which keys are gone; delete_missing needs the "
                                   "source's key among the schema's columns",
                                   pipeline->source.key[index]);
            return NULL;
        }
    zetl_pg_extract_t *self = s_new (conn, pipeline);
    if (!s_begin (self, "READ COMMITTED", error)) {
        zetl_pg_extract_destroy (&self);
        return NULL;
    }
    zchunk_t *sql = zchunk_new (NULL, 1024);
    s_append (sql, "DECLARE zetl_extract NO SCROLL CURSOR FOR SELECT true, x.* FROM (SELECT ");
    for (size_t index = 0; index < pipeline->field_count; index++) {
        char *quoted = zetl_pg_ident (conn, pipeline->fields[index].name);
        s_append (sql, index ? ", " : "");
        s_append (sql, quoted);
        free (quoted);
    }
    char *quoted = zetl_pg_ident (conn, table);
    char *from = zsys_sprintf (" FROM %s WHERE NOT zetl_deleted) x", quoted);
    s_append (sql, from);
    zchunk_extend (sql, "", 1);
    if (!s_run (conn, (const char *) zchunk_data (sql), PGRES_COMMAND_OK, NULL, error))
        zetl_pg_extract_destroy (&self);
    free (from);
    free (quoted);
    zchunk_destroy (&sql);
    return self;
}

int64_t
zetl_pg_extract_snapshot_us (const zetl_pg_extract_t *self)
{
    return self->snapshot_us;
}

//  How a column's text is packed: as an integer, a boolean, or text (exact
//  decimals, timestamps and the rest: the workers' casts read text)
#define S_KIND_TEXT 't'
#define S_KIND_INT 'i'
#define S_KIND_BOOL 'b'

static void
s_learn_columns (zetl_pg_extract_t *self)
{
    self->columns = PQnfields (self->page) - S_COLUMN_ROW;
    //  Names are checked identifiers, lower case: PQfnumber finds them as they are
    self->ts_column = PQfnumber (self->page, self->source->updated_at);
    for (size_t index = 0; index < self->key_count; index++)
        self->key_columns[index] = PQfnumber (self->page, self->source->key[index]);
    for (int index = 0; index < ZETL_EXTRACT_COUNT; index++)
        self->extracted_columns[index] =
            self->extracted[index] ? PQfnumber (self->page, self->extracted[index]) : -1;
    free (self->kinds);
    self->kinds = (char *) zmalloc ((size_t) self->columns + 1);
    self->names = (const char **) zmalloc ((size_t) self->columns * sizeof (char *) + 1);
    self->name_lens = (size_t *) zmalloc ((size_t) self->columns * sizeof (size_t) + 1);
    for (int column = 0; column < self->columns; column++) {
        self->names[column] = strdup (PQfname (self->page, S_COLUMN_ROW + column));
        self->name_lens[column] = strlen (self->names[column]);
        Oid type = PQftype (self->page, S_COLUMN_ROW + column);
        self->kinds[column] = type == 20 || type == 21 || type == 23 ? S_KIND_INT  //  int8, int2, int4
                              : type == 16                           ? S_KIND_BOOL  //  bool
                                                                     : S_KIND_TEXT;
    }
}

static void
s_pack_text (msgpack_packer *packer, const char *text, size_t len)
{
    msgpack_pack_str (packer, len);
    msgpack_pack_str_body (packer, text, len);
}

void
zetl_pg_extract_pack (const zetl_pg_extract_t *self, int row, msgpack_packer *packer,
                      const char *time_field, const char *time_text, const char *flag_field)
{
    bool flag_column = false;  //  The flag is a column of the row already: it is set there
    for (int column = 0; flag_field && column < self->columns; column++)
        if (streq (self->names[column], flag_field))
            flag_column = true;
    msgpack_pack_map (packer, (uint32_t) self->columns + (flag_field && !flag_column ? 1 : 0));
    for (int column = 0; column < self->columns; column++) {
        int at = S_COLUMN_ROW + column;
        const char *name = self->names[column];
        s_pack_text (packer, name, self->name_lens[column]);
        const char *text = PQgetvalue (self->page, row, at);
        if (time_text && streq (name, time_field))
            s_pack_text (packer, time_text, strlen (time_text));
        else if (flag_column && streq (name, flag_field))
            msgpack_pack_true (packer);
        else if (PQgetisnull (self->page, row, at))
            msgpack_pack_nil (packer);
        else if (self->kinds[column] == S_KIND_INT)
            msgpack_pack_int64 (packer, strtoll (text, NULL, 10));
        else if (self->kinds[column] == S_KIND_BOOL) {
            if (text[0] == 't')
                msgpack_pack_true (packer);
            else
                msgpack_pack_false (packer);
        }
        else
            s_pack_text (packer, text, (size_t) PQgetlength (self->page, row, at));
    }
    if (flag_field && !flag_column) {
        s_pack_text (packer, flag_field, strlen (flag_field));
        msgpack_pack_true (packer);
    }
}

//  Ask for the next page without waiting for it (pipeline mode)
static bool
s_send_fetch (zetl_pg_extract_t *self)
{
    char sql[64];
    snprintf (sql, sizeof sql, "FETCH FORWARD %" PRId64 " FROM zetl_extract", self->page_size);
    if (!PQsendQueryParams (self->conn, sql, 0, NULL, NULL, NULL, NULL, 0)
        || !PQsendFlushRequest (self->conn) || PQflush (self->conn) != 0)
        return false;
    self->asked++;
    return true;
}

//  The answer to the oldest FETCH asked for, or NULL with *ERROR set
static PGresult *
s_take_fetch (zetl_pg_extract_t *self, char **error)
{
    PGresult *res = PQgetResult (self->conn), *end = res ? PQgetResult (self->conn) : NULL;
    self->asked--;
    PQclear (end);  //  NULL: the end of this query's results
    if (PQresultStatus (res) == PGRES_TUPLES_OK)
        return res;
    *error = zsys_sprintf ("%s [%s]", PQerrorMessage (self->conn), zetl_pg_sqlstate (res));
    PQclear (res);
    return NULL;
}

//  Leave pipeline mode, answers not taken dropped
static void
s_end_pipeline (zetl_pg_extract_t *self)
{
    if (PQpipelineStatus (self->conn) == PQ_PIPELINE_OFF)
        return;
    if (PQpipelineSync (self->conn)) {
        PGresult *res;
        //  Until the sync's answer: every FETCH still asked for, then the sync
        while ((res = PQgetResult (self->conn)) || PQpipelineStatus (self->conn) != PQ_PIPELINE_OFF) {
            bool synced = res && PQresultStatus (res) == PGRES_PIPELINE_SYNC;
            PQclear (res);
            if (synced || PQstatus (self->conn) != CONNECTION_OK)
                break;
        }
    }
    PQexitPipelineMode (self->conn);
    self->asked = 0;
}

//  Pages are read one ahead: the next FETCH is on its way while the caller
//  packs the page it has, so the server and zetl work at the same time
int
zetl_pg_extract_fetch (zetl_pg_extract_t *self, char **error)
{
    PQclear (self->page);
    self->page = NULL;
    *error = NULL;
    if (self->done)
        return 0;
    if (PQpipelineStatus (self->conn) == PQ_PIPELINE_OFF
        && (!PQenterPipelineMode (self->conn) || !s_send_fetch (self))) {
        *error = zsys_sprintf ("cannot fetch: %s", PQerrorMessage (self->conn));
        return -1;
    }
    if (!s_send_fetch (self)) {
        *error = zsys_sprintf ("cannot fetch: %s", PQerrorMessage (self->conn));
        return -1;
    }
    self->page = s_take_fetch (self, error);
    if (!self->page)
        return -1;
    if (!self->kinds)
        s_learn_columns (self);
    int rows = PQntuples (self->page);
    if (rows < self->page_size) {  //  The last page: the one asked ahead answers nothing
        self->done = true;
        s_end_pipeline (self);
    }
    return rows;
}

void
zetl_pg_extract_values (const zetl_pg_extract_t *self, int row, zetl_field_value_t *values)
{
    for (int index = 0; index < ZETL_EXTRACT_COUNT; index++) {
        int column = self->extracted_columns[index];
        memset (&values[index], 0, sizeof values[index]);
        if (column < 0 || PQgetisnull (self->page, row, column))
            continue;
        char kind = self->kinds[column - S_COLUMN_ROW];
        values[index].ptr = PQgetvalue (self->page, row, column);
        values[index].len = (size_t) PQgetlength (self->page, row, column);
        if (kind == S_KIND_BOOL) {  //  As the packed record reads: true, false
            values[index].ptr = values[index].ptr[0] == 't' ? "true" : "false";
            values[index].len = strlen (values[index].ptr);
        }
        values[index].present = true;
        values[index].is_string = kind == S_KIND_TEXT;
    }
}

bool
zetl_pg_extract_reread (const zetl_pg_extract_t *self, int row)
{
    //  NULL (a NULL updated_at compared) counts as a re-read: never late
    return PQgetisnull (self->page, row, S_COLUMN_REREAD)
           || PQgetvalue (self->page, row, S_COLUMN_REREAD)[0] == 't';
}

const char *
zetl_pg_extract_key (const zetl_pg_extract_t *self, int row, size_t index, size_t *len)
{
    *len = (size_t) PQgetlength (self->page, row, self->key_columns[index]);
    return PQgetvalue (self->page, row, self->key_columns[index]);
}

size_t
zetl_pg_extract_key_count (const zetl_pg_extract_t *self)
{
    return self->key_count;
}

char *
zetl_pg_extract_state (const zetl_pg_extract_t *self, int row)
{
    json_t *key = json_array ();
    for (size_t index = 0; index < self->key_count; index++)
        json_array_append_new (key, json_string (PQgetvalue (self->page, row,
                                                             self->key_columns[index])));
    bool ts = self->ts_column >= 0 && !PQgetisnull (self->page, row, self->ts_column);
    json_t *state = json_pack ("{s:s?, s:o}", "ts",
                               ts ? PQgetvalue (self->page, row, self->ts_column) : NULL, "key",
                               key);
    char *text = json_dumps (state, JSON_COMPACT);
    json_decref (state);
    return text;
}

void
zetl_pg_extract_destroy (zetl_pg_extract_t **self_p)
{
    zetl_pg_extract_t *self = *self_p;
    if (self) {
        PQclear (self->page);
        for (int column = 0; self->names && column < self->columns; column++)
            free ((char *) self->names[column]);
        free (self->names);
        free (self->name_lens);
        free (self->kinds);
        s_end_pipeline (self);
        //  COMMIT ends a failed transaction too (as a rollback); nothing was written
        if (PQtransactionStatus (self->conn) != PQTRANS_IDLE) {
            PGresult *res = PQexec (self->conn, "COMMIT");
            PQclear (res);
        }
        free (self);
        *self_p = NULL;
    }
}
