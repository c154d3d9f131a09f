/*  zetl_target - the SQL of one PostgreSQL target on one connection  */
#include "zetl_target.h"
#include "zetl_evolve.h"
#include "zetl_log.h"
#include "zetl_partition.h"
#include "zetl_partition_keys.h"
#include "zetl_pg.h"
#include "zetl_reprocess.h"
#include "zetl_record.h"

#include "zetl_time.h"

#include <inttypes.h>

struct zetl_target_sql {
    PGconn *conn;                  //  borrowed
    const zetl_pipeline_t *pipeline;
    const zetl_target_t *target;
    char *upsert;                  //  the last-write-wins statement
    char *copy;                    //  COPY ... FROM STDIN into the staging table
    zetl_partition_t *partition;   //  partition_by_day: its day partitions, else NULL
    char *keys_upsert;             //  partition_by_day: the keys table's upsert
    char *keys_move;               //  partition_by_day: delete the old rows of keys that moved
    char *keys_rows;               //  partition_by_day: write the winners of keys that changed
    char state[8];                 //  SQL state of the last failure
    char *error;                   //  text of the last failure
};

const char *
zetl_target_pg_type (zetl_type_t type)
{
    switch (type) {
    case ZETL_TYPE_STRING: return "text";
    case ZETL_TYPE_INT: return "bigint";
    case ZETL_TYPE_NUMBER: return "numeric";
    case ZETL_TYPE_BOOL: return "boolean";
    case ZETL_TYPE_TIMESTAMP: return "timestamptz";
    case ZETL_TYPE_DATE: return "date";
    }
    return "text";
}

static void
s_fail (zetl_target_sql_t *self, PGresult *res, const char *what)
{
    snprintf (self->state, sizeof self->state, "%s", zetl_pg_sqlstate (res));
    free (self->error);
    self->error = zsys_sprintf ("%s on table %s: %s", what, self->target->table,
                                PQerrorMessage (self->conn));
    size_t len = strlen (self->error);
    while (len && self->error[len - 1] == '\n')
        self->error[--len] = 0;
}

static int
s_check (zetl_target_sql_t *self, PGresult *res, const char *what)
{
    ExecStatusType status = PQresultStatus (res);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        return 0;
    s_fail (self, res, what);
    return -1;
}

//  "a", "b" -> "\"a\", \"b\"" with PREFIX before each name
static void
s_append_columns (zetl_target_sql_t *self, zchunk_t *sql, char *const *names, size_t count,
                  const char *prefix, const char *suffix)
{
    for (size_t index = 0; index < count; index++) {
        char *ident = zetl_pg_ident (self->conn, names[index]);
        zchunk_extend (sql, index ? ", " : "", index ? 2 : 0);
        zchunk_extend (sql, prefix, strlen (prefix));
        zchunk_extend (sql, ident, strlen (ident));
        zchunk_extend (sql, suffix, strlen (suffix));
        free (ident);
    }
}

static char *
s_text (zchunk_t *chunk)
{
    zchunk_extend (chunk, "", 1);
    char *text = strdup ((const char *) zchunk_data (chunk));
    zchunk_destroy (&chunk);
    return text;
}

static char **
s_field_names (const zetl_pipeline_t *pipeline)
{
    char **names = (char **) zmalloc ((pipeline->field_count + 1) * sizeof (char *));
    for (size_t index = 0; index < pipeline->field_count; index++)
        names[index] = pipeline->fields[index].name;
    return names;
}

static char *
s_create_sql (zetl_target_sql_t *self, const char *table)
{
    zchunk_t *sql = zchunk_new (NULL, 0);
    zchunk_extend (sql, "CREATE TABLE IF NOT EXISTS ", 27);
    zchunk_extend (sql, table, strlen (table));
    zchunk_extend (sql, " (", 2);
    for (size_t index = 0; index < self->pipeline->field_count; index++) {
        const zetl_field_t *field = &self->pipeline->fields[index];
        char *ident = zetl_pg_ident (self->conn, field->name);
        char *column = zsys_sprintf ("%s %s, ", ident, zetl_target_pg_type (field->type));
        zchunk_extend (sql, column, strlen (column));
        free (column);
        free (ident);
    }
    const char *zetl_columns = "zetl_lut_gen bigint NOT NULL DEFAULT 0, zetl_hash bytea NOT NULL, "
                               "zetl_deleted boolean NOT NULL DEFAULT false, PRIMARY KEY (";
    zchunk_extend (sql, zetl_columns, strlen (zetl_columns));
    s_append_columns (self, sql, self->target->primary_key, self->target->primary_key_count, "", "");
    const char *day = self->target->partition_by_day;
    if (day) {
        //  PostgreSQL wants the partition column in every unique key
        char *ident = zetl_pg_ident (self->conn, day);
        bool in_key = false;
        for (size_t index = 0; index < self->target->primary_key_count; index++)
            in_key = in_key || streq (self->target->primary_key[index], day);
        char *tail = zsys_sprintf ("%s%s)) PARTITION BY RANGE (%s)", in_key ? "" : ", ",
                                   in_key ? "" : ident, ident);
        zchunk_extend (sql, tail, strlen (tail));
        free (tail);
        free (ident);
    }
    else
        zchunk_extend (sql, "))", 2);
    return s_text (sql);
}

static char *
s_upsert_sql (zetl_target_sql_t *self, const char *table)
{
    char **names = s_field_names (self->pipeline);
    size_t count = self->pipeline->field_count;
    char *event_time = zetl_pg_ident (self->conn, self->pipeline->event_time.field);
    zchunk_t *sql = zchunk_new (NULL, 0);
    char *head = zsys_sprintf ("INSERT INTO %s AS t (", table);
    zchunk_extend (sql, head, strlen (head));
    free (head);
    s_append_columns (self, sql, names, count, "", "");
    const char *middle = ", zetl_lut_gen, zetl_hash, zetl_deleted) SELECT DISTINCT ON (";
    zchunk_extend (sql, middle, strlen (middle));
    s_append_columns (self, sql, self->target->primary_key, self->target->primary_key_count, "", "");
    zchunk_extend (sql, ") ", 2);
    s_append_columns (self, sql, names, count, "", "");
    const char *from = ", zetl_lut_gen, zetl_hash, zetl_deleted FROM pg_temp.zetl_stage ORDER BY ";
    zchunk_extend (sql, from, strlen (from));
    s_append_columns (self, sql, self->target->primary_key, self->target->primary_key_count, "", "");
    //  Last write wins on (event time, lookup generation, hash): the same set
    //  of rows gives the same winner whatever order they came in
    char *tail = zsys_sprintf (", %s DESC, zetl_lut_gen DESC, zetl_hash DESC ON CONFLICT (",
                               event_time);
    zchunk_extend (sql, tail, strlen (tail));
    free (tail);
    s_append_columns (self, sql, self->target->primary_key, self->target->primary_key_count, "", "");
    zchunk_extend (sql, ") DO UPDATE SET ", 16);
    for (size_t index = 0; index < count; index++) {
        char *ident = zetl_pg_ident (self->conn, names[index]);
        char *set = zsys_sprintf ("%s = EXCLUDED.%s, ", ident, ident);
        zchunk_extend (sql, set, strlen (set));
        free (set);
        free (ident);
    }
    char *guard = zsys_sprintf ("zetl_lut_gen = EXCLUDED.zetl_lut_gen, zetl_hash = EXCLUDED.zetl_hash, "
                                "zetl_deleted = EXCLUDED.zetl_deleted"
                                " WHERE (t.%s, t.zetl_lut_gen, t.zetl_hash) < (EXCLUDED.%s,"
                                " EXCLUDED.zetl_lut_gen, EXCLUDED.zetl_hash)",
                                event_time, event_time);
    zchunk_extend (sql, guard, strlen (guard));
    free (guard);
    free (event_time);
    free (names);
    return s_text (sql);
}

static char *
s_copy_sql (zetl_target_sql_t *self)
{
    char **names = s_field_names (self->pipeline);
    zchunk_t *sql = zchunk_new (NULL, 0);
    const char *head = "COPY pg_temp.zetl_stage (";
    zchunk_extend (sql, head, strlen (head));
    s_append_columns (self, sql, names, self->pipeline->field_count, "", "");
    const char *tail = ", zetl_lut_gen, zetl_hash, zetl_deleted) FROM STDIN";
    zchunk_extend (sql, tail, strlen (tail));
    free (names);
    return s_text (sql);
}

//  Run SQL (no parameters); on failure note why. Returns 0 or -1
static int
s_run (zetl_target_sql_t *self, const char *sql, const char *what)
{
    PGresult *res = PQexec (self->conn, sql);
    int rc = s_check (self, res, what);
    PQclear (res);
    return rc;
}

//  Bring an existing table to the schema (inside the creation transaction)
static int
s_evolve (zetl_target_sql_t *self)
{
    char *evolve_error = NULL;
    if (zetl_evolve_table (self->conn, self->pipeline, self->target, NULL, &evolve_error) == 0)
        return 0;
    free (self->error);
    self->error = evolve_error;
    self->state[0] = 0;
    return -1;
}

//  partition_by_day: the names derived from the table's must fit in 63 bytes
static int
s_check_name (zetl_target_sql_t *self)
{
    if (!self->partition || strlen (self->target->table) <= ZETL_PARTITION_TABLE_MAX)
        return 0;
    free (self->error);
    self->error = zsys_sprintf ("table %s is longer than %d characters, too long for "
                                "partition_by_day (its partitions are named <table>_pYYYYMMDD); "
                                "choose a shorter table name",
                                self->target->table, ZETL_PARTITION_TABLE_MAX);
    self->state[0] = 0;
    return -1;
}

//  The day partitions that exist, read once: the cache of the hot path
static int
s_load_partitions (zetl_target_sql_t *self)
{
    char *error = NULL;
    if (zetl_partition_load (self->partition, &error) == 0)
        return 0;
    free (self->error);
    self->error = error;
    self->state[0] = 0;
    return -1;
}

static int
s_prepare_tables (zetl_target_sql_t *self)
{
    char *table = zetl_pg_ident (self->conn, self->target->table);
    char *create = s_create_sql (self, table);
    char *stage = zsys_sprintf ("DROP TABLE IF EXISTS pg_temp.zetl_stage; "
                                "CREATE TEMP TABLE zetl_stage (LIKE %s INCLUDING DEFAULTS) "
                                "ON COMMIT DELETE ROWS",
                                table);
    char *keys = NULL, *won = NULL;
    if (self->partition) {
        keys = zetl_partition_keys_create_sql (self->conn, self->pipeline, self->target);
        won = zetl_partition_keys_won_sql (self->conn, self->target);
    }
    int rc = s_check_name (self);
    if (rc == 0)
        rc = s_run (self, "BEGIN; SELECT pg_advisory_xact_lock(7325002)", "lock for table creation");
    if (rc == 0)
        rc = s_run (self, create, "create table");
    if (rc == 0 && keys)
        rc = s_run (self, keys, "create keys table");
    if (rc == 0)
        rc = s_evolve (self);
    if (rc == 0)
        rc = s_run (self, "COMMIT", "commit table creation");
    if (rc == 0)
        rc = s_run (self, stage, "create staging table");
    if (rc == 0 && won)
        rc = s_run (self, won, "create table of changed keys");
    if (rc == 0 && self->partition)
        rc = s_load_partitions (self);
    if (rc != 0)
        PQclear (PQexec (self->conn, "ROLLBACK"));
    self->upsert = s_upsert_sql (self, table);
    self->copy = s_copy_sql (self);
    if (self->partition) {
        self->keys_upsert = zetl_partition_keys_upsert_sql (self->conn, self->pipeline, self->target);
        self->keys_move = zetl_partition_keys_move_sql (self->conn, self->target);
        self->keys_rows = zetl_partition_keys_rows_sql (self->conn, self->pipeline, self->target);
    }
    free (won);
    free (keys);
    free (stage);
    free (create);
    free (table);
    return rc;
}

zetl_target_sql_t *
zetl_target_sql_new (PGconn *conn, const zetl_pipeline_t *pipeline, const zetl_target_t *target,
                     char **error)
{
    zetl_target_sql_t *self = (zetl_target_sql_t *) zmalloc (sizeof (zetl_target_sql_t));
    self->conn = conn;
    self->pipeline = pipeline;
    self->target = target;
    self->partition = zetl_partition_new (conn, pipeline, target);
    if (s_prepare_tables (self) != 0) {
        if (error)
            *error = strdup (self->error ? self->error : "could not prepare the target table");
        zetl_target_sql_destroy (&self);
    }
    return self;
}

void
zetl_target_sql_destroy (zetl_target_sql_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_target_sql_t *self = *self_p;
        free (self->upsert);
        free (self->copy);
        free (self->keys_upsert);
        free (self->keys_move);
        free (self->keys_rows);
        zetl_partition_destroy (&self->partition);
        free (self->error);
        free (self);
        *self_p = NULL;
    }
}

static int
s_exec_params (zetl_target_sql_t *self, const char *sql, int count, const char *const *values,
               const char *what, PGresult **result_p)
{
    PGresult *res = PQexecParams (self->conn, sql, count, NULL, values, NULL, NULL, 0);
    int rc = s_check (self, res, what);
    if (rc == 0 && result_p)
        *result_p = res;
    else
        PQclear (res);
    return rc;
}

//  The int[] literal of COUNT partitions. Caller destroys it.
static zchunk_t *
s_partition_array (const uint32_t *partitions, size_t count)
{
    zchunk_t *array = zchunk_new (NULL, 11 * count + 3);
    zchunk_extend (array, "{", 1);
    for (size_t index = 0; index < count; index++) {
        char item[16];
        int len = snprintf (item, sizeof item, "%s%u", index ? "," : "", partitions[index]);
        zchunk_extend (array, item, (size_t) len);
    }
    zchunk_extend (array, "}", 2);
    return array;
}

//  The int8[] literal of COUNT positions. Caller destroys it.
static zchunk_t *
s_position_array (const int64_t *positions, size_t count)
{
    zchunk_t *array = zchunk_new (NULL, 21 * count + 3);
    zchunk_extend (array, "{", 1);
    for (size_t index = 0; index < count; index++) {
        char item[24];
        int len = snprintf (item, sizeof item, "%s%" PRId64, index ? "," : "", positions[index]);
        zchunk_extend (array, item, (size_t) len);
    }
    zchunk_extend (array, "}", 2);
    return array;
}

static const char *
s_array_text (zchunk_t *array)
{
    return (const char *) zchunk_data (array);
}

//  One statement for every key of a transaction, in the order given (sorted
//  by the caller, so that connections lock in one order and never deadlock).
//  The no-op update locks a row also when a concurrent transaction is
//  creating it: that one commits first and this one then reads its position.
//  The join puts the rows back in the order of the keys.
static const char *s_lock_sql =
    "WITH k AS (SELECT * FROM unnest($3::text[], $4::int[]) WITH ORDINALITY"
    "   AS k (source, partition, n)),"
    " l AS (INSERT INTO zetl_offsets (pipeline, target, source, partition, position)"
    "   SELECT $1::text, $2::text, source, partition, -1 FROM k ORDER BY n"
    "   ON CONFLICT (pipeline, target, source, partition)"
    "   DO UPDATE SET position = zetl_offsets.position"
    "   RETURNING source, partition, position, above)"
    " SELECT l.position, coalesce(l.above::text, '') FROM k JOIN l USING (source, partition)"
    " ORDER BY k.n";

int
zetl_target_sql_lock_keys (zetl_target_sql_t *self, size_t count, const char *const *sources,
                           const uint32_t *partitions, int64_t *positions, char **above)
{
    if (count == 0)
        return 0;
    zchunk_t *source_array = zetl_pg_text_array (sources, count);
    zchunk_t *partition_array = s_partition_array (partitions, count);
    const char *values[4] = {self->pipeline->id, self->target->name, s_array_text (source_array),
                             s_array_text (partition_array)};
    PGresult *res = NULL;
    int rc = s_exec_params (self, s_lock_sql, 4, values, "lock positions", &res);
    if (rc == 0 && PQntuples (res) != (int) count) {
        //  Cannot happen while the keys are distinct: refuse rather than guess
        self->state[0] = 0;
        free (self->error);
        self->error = zsys_sprintf ("lock positions on table %s: %d rows for %zu keys",
                                    self->target->table, PQntuples (res), count);
        rc = -1;
    }
    for (size_t index = 0; rc == 0 && index < count; index++) {
        positions[index] = atoll (PQgetvalue (res, (int) index, 0));
        if (above)
            above[index] = strdup (PQgetvalue (res, (int) index, 1));
    }
    PQclear (res);
    zchunk_destroy (&source_array);
    zchunk_destroy (&partition_array);
    return rc;
}

int
zetl_target_sql_set_positions (zetl_target_sql_t *self, size_t count, const char *const *sources,
                               const uint32_t *partitions, const int64_t *positions)
{
    if (count == 0)
        return 0;
    zchunk_t *source_array = zetl_pg_text_array (sources, count);
    zchunk_t *partition_array = s_partition_array (partitions, count);
    zchunk_t *position_array = s_position_array (positions, count);
    const char *values[5] = {self->pipeline->id, self->target->name, s_array_text (source_array),
                             s_array_text (partition_array), s_array_text (position_array)};
    //  The rows are locked by this transaction already: no order to keep here
    int rc = s_exec_params (
        self,
        "UPDATE zetl_offsets AS o SET position = GREATEST(o.position, k.position),"
        " updated_at = now()"
        " FROM unnest($3::text[], $4::int[], $5::int8[]) AS k (source, partition, position)"
        " WHERE o.pipeline = $1 AND o.target = $2 AND o.source = k.source"
        " AND o.partition = k.partition",
        5, values, "set positions", NULL);
    zchunk_destroy (&source_array);
    zchunk_destroy (&partition_array);
    zchunk_destroy (&position_array);
    return rc;
}

int
zetl_target_sql_set_ranges (zetl_target_sql_t *self, size_t count, const char *const *sources,
                            const uint32_t *partitions, const int64_t *floors,
                            const char *const *added)
{
    if (count == 0)
        return 0;
    zchunk_t *source_array = zetl_pg_text_array (sources, count);
    zchunk_t *partition_array = s_partition_array (partitions, count);
    zchunk_t *floor_array = s_position_array (floors, count);
    zchunk_t *added_array = zetl_pg_text_array (added, count);
    const char *values[6] = {self->pipeline->id,          self->target->name,
                             s_array_text (source_array), s_array_text (partition_array),
                             s_array_text (floor_array),  s_array_text (added_array)};
    int rc = s_exec_params (
        self,
        "UPDATE zetl_offsets AS o SET position = GREATEST(o.position, k.floor),"
        " above = nullif((coalesce(o.above, '{}') + k.added::int8multirange)"
        "   - int8multirange(int8range(NULL, GREATEST(o.position, k.floor) + 1)), '{}'),"
        " updated_at = now()"
        " FROM unnest($3::text[], $4::int[], $5::int8[], $6::text[])"
        "   AS k (source, partition, floor, added)"
        " WHERE o.pipeline = $1 AND o.target = $2 AND o.source = k.source"
        " AND o.partition = k.partition",
        6, values, "set ranges", NULL);
    zchunk_destroy (&source_array);
    zchunk_destroy (&partition_array);
    zchunk_destroy (&floor_array);
    zchunk_destroy (&added_array);
    return rc;
}

int
zetl_target_sql_copy (zetl_target_sql_t *self, const char *data, size_t len)
{
    PGresult *res = PQexec (self->conn, self->copy);
    if (PQresultStatus (res) != PGRES_COPY_IN) {
        s_fail (self, res, "start COPY");
        PQclear (res);
        return -1;
    }
    PQclear (res);
    //  One call per megabyte: libpq buffers, no round trip per row
    size_t chunk = 1024 * 1024;
    for (size_t at = 0; at < len; at += chunk) {
        size_t part = len - at < chunk ? len - at : chunk;
        if (PQputCopyData (self->conn, data + at, (int) part) != 1) {
            s_fail (self, NULL, "send COPY data");
            return -1;
        }
    }
    if (PQputCopyEnd (self->conn, NULL) != 1) {
        s_fail (self, NULL, "end COPY");
        return -1;
    }
    int rc = 0;
    while ((res = PQgetResult (self->conn))) {
        if (s_check (self, res, "COPY into staging table") != 0)
            rc = -1;
        PQclear (res);
    }
    return rc;
}

//  A row found no partition: its day's partition is gone (dropped by someone
//  else since it was cached). Not the data's fault: forget the cache, and the
//  transaction is tried again, which creates the partition or dead-letters
//  the record as past retention
static void
s_partition_missing (zetl_target_sql_t *self)
{
    if (!streq (self->state, "23514"))
        return;
    zetl_partition_forget (self->partition);
    self->state[0] = 0;
}

//  partition_by_day: the keys table first (it locks the keys, in key order,
//  and says which changed and which moved), then the old rows of the keys
//  that moved, then the winners
static int
s_upsert_partitioned (zetl_target_sql_t *self, int64_t *changed)
{
    PGresult *res = PQexec (self->conn, self->keys_upsert);
    int rc = s_check (self, res, "upsert keys");
    int64_t moved = 0;
    if (rc == 0) {
        *changed = atoll (PQgetvalue (res, 0, 0));
        moved = atoll (PQgetvalue (res, 0, 1));
    }
    PQclear (res);
    if (rc == 0 && moved > 0)
        rc = s_run (self, self->keys_move, "delete rows that moved");
    if (rc == 0 && *changed > 0)
        rc = s_run (self, self->keys_rows, "upsert");
    if (rc != 0)
        s_partition_missing (self);
    return rc;
}

int
zetl_target_sql_upsert (zetl_target_sql_t *self, int64_t *changed)
{
    if (self->partition)
        return s_upsert_partitioned (self, changed);
    PGresult *res = PQexec (self->conn, self->upsert);
    int rc = s_check (self, res, "upsert");
    if (rc == 0)
        *changed = atoll (PQcmdTuples (res));
    PQclear (res);
    return rc;
}

int
zetl_target_sql_add_stats (zetl_target_sql_t *self, const char *writer, int64_t changed,
                           int64_t unchanged, int64_t dead, int64_t deduplicated)
{
    char numbers[4][24];
    snprintf (numbers[0], 24, "%" PRId64, changed);
    snprintf (numbers[1], 24, "%" PRId64, unchanged);
    snprintf (numbers[2], 24, "%" PRId64, dead);
    snprintf (numbers[3], 24, "%" PRId64, deduplicated);
    const char *values[7] = {self->pipeline->id, self->target->name, writer, numbers[0],
                             numbers[1], numbers[2], numbers[3]};
    return s_exec_params (
        self,
        "INSERT INTO zetl_stats AS s (pipeline, target, writer, changed, unchanged,"
        " dead_lettered, deduplicated) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (pipeline, target, writer) DO UPDATE SET"
        " changed = s.changed + EXCLUDED.changed, unchanged = s.unchanged + EXCLUDED.unchanged,"
        " dead_lettered = s.dead_lettered + EXCLUDED.dead_lettered,"
        " deduplicated = s.deduplicated + EXCLUDED.deduplicated",
        7, values, "add counters", NULL);
}

//  Text of key NAME in dead-letter MAP, as a NUL-terminated copy or NULL
static char *
s_dead_field (const msgpack_object *map, const char *name)
{
    const msgpack_object *value = zetl_record_get (map, name);
    if (!value || value->type != MSGPACK_OBJECT_STR)
        return NULL;
    return strndup (value->via.str.ptr, value->via.str.size);
}

//  What one dead letter says
typedef struct {
    const char *stage;   //  where it was refused
    const char *reason;  //  why, a stable word
    const char *field;   //  the field at fault, or NULL
    const char *error;   //  what was wrong, or NULL
    const char *raw;     //  the record, or NULL
} s_dead_t;

static int
s_dead_letter (zetl_target_sql_t *self, const char *source, uint32_t partition, uint64_t position,
               uint32_t attempts, const s_dead_t *dead)
{
    char partition_text[16], position_text[24], attempts_text[16];
    snprintf (partition_text, sizeof partition_text, "%u", partition);
    snprintf (position_text, sizeof position_text, "%" PRIu64, position);
    snprintf (attempts_text, sizeof attempts_text, "%u", attempts ? attempts : 1);
    const char *values[11] = {self->pipeline->id, self->target->name, dead->stage, dead->reason,
                              dead->field, dead->error, dead->raw, source, partition_text,
                              position_text, attempts_text};
    return s_exec_params (
        self,
        "INSERT INTO zetl_dead_letters (pipeline, target, stage, reason, field, error, raw,"
        " source, partition, position, attempts)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " ON CONFLICT (pipeline, target, source, partition, position) DO UPDATE SET"
        " attempts = zetl_dead_letters.attempts + 1, last_seen = now(),"
        " reason = EXCLUDED.reason, field = EXCLUDED.field, error = EXCLUDED.error",
        11, values, "write dead letter", NULL);
}

int
zetl_target_sql_dead_letter (zetl_target_sql_t *self, const char *source, uint32_t partition,
                             const zetl_entry_t *entry, uint32_t attempts)
{
    char *stage = s_dead_field (&entry->payload, "stage");
    char *reason = s_dead_field (&entry->payload, "reason");
    char *field = s_dead_field (&entry->payload, "field");
    char *error = s_dead_field (&entry->payload, "error");
    char *raw = s_dead_field (&entry->payload, "raw");
    s_dead_t dead = {stage ? stage : "unknown", reason ? reason : "unknown", field, error, raw};
    int rc = s_dead_letter (self, source, partition, entry->position, attempts, &dead);
    free (stage);
    free (reason);
    free (field);
    free (error);
    free (raw);
    return rc;
}

//  The JSON text of output ROW (an array in schema order) as the record it
//  came from: an object of the schema's fields, timestamps and dates as
//  ISO 8601 text, so that zetlctl reprocess can send it through again
static void
s_row_json (const zetl_pipeline_t *pipeline, const msgpack_object *row, msgpack_sbuffer *out)
{
    size_t count = row->type == MSGPACK_OBJECT_ARRAY ? row->via.array.size : 0;
    if (count > pipeline->field_count)
        count = pipeline->field_count;
    msgpack_object_kv *pairs =
        (msgpack_object_kv *) zmalloc ((count + 1) * sizeof (msgpack_object_kv));
    char (*texts)[40] = (char (*)[40]) zmalloc ((count + 1) * 40);
    for (size_t index = 0; index < count; index++) {
        const char *name = pipeline->fields[index].name;
        msgpack_object value = row->via.array.ptr[index];
        zetl_type_t type = pipeline->fields[index].type;
        bool integer = value.type == MSGPACK_OBJECT_POSITIVE_INTEGER
                       || value.type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
        if (integer && (type == ZETL_TYPE_TIMESTAMP || type == ZETL_TYPE_DATE)) {
            int64_t number = value.type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? value.via.i64
                                                                            : (int64_t) value.via.u64;
            size_t len = type == ZETL_TYPE_TIMESTAMP
                             ? zetl_time_format_iso (number, texts[index], 40)
                             : zetl_time_format_date ((int32_t) number, texts[index], 40);
            value.type = MSGPACK_OBJECT_STR;
            value.via.str.ptr = texts[index];
            value.via.str.size = (uint32_t) len;
        }
        pairs[index].key.type = MSGPACK_OBJECT_STR;
        pairs[index].key.via.str.ptr = name;
        pairs[index].key.via.str.size = (uint32_t) strlen (name);
        pairs[index].val = value;
    }
    msgpack_object map;
    map.type = MSGPACK_OBJECT_MAP;
    map.via.map.size = (uint32_t) count;
    map.via.map.ptr = pairs;
    zetl_record_to_json (&map, out);
    free (texts);
    free (pairs);
}

int
zetl_target_sql_dead_letter_row (zetl_target_sql_t *self, const char *source, uint32_t partition,
                                 const zetl_entry_t *entry, uint32_t attempts, const char *reason,
                                 const char *field, const char *error)
{
    msgpack_sbuffer json;
    msgpack_sbuffer_init (&json);
    s_row_json (self->pipeline, &entry->payload, &json);
    msgpack_sbuffer_write (&json, "", 1);
    s_dead_t dead = {"sink", reason, field, error, json.data};
    int rc = s_dead_letter (self, source, partition, entry->position, attempts, &dead);
    msgpack_sbuffer_destroy (&json);
    return rc;
}

zetl_partition_t *
zetl_target_sql_partitions (zetl_target_sql_t *self)
{
    return self->partition;
}

int
zetl_target_sql_resolve_reprocessed (zetl_target_sql_t *self, int64_t request, const char *seqs,
                                     int64_t *deleted)
{
    PGresult *res =
        zetl_reprocess_resolve (self->conn, self->pipeline->id, self->target->name, request, seqs);
    int rc = s_check (self, res, "delete reprocessed dead letters");
    if (rc == 0)
        *deleted = atoll (PQcmdTuples (res));
    PQclear (res);
    return rc;
}

void
zetl_target_sql_clear_error (zetl_target_sql_t *self)
{
    self->state[0] = 0;
    free (self->error);
    self->error = NULL;
}

const char *
zetl_target_sql_last_state (zetl_target_sql_t *self)
{
    return self ? self->state : "";
}

const char *
zetl_target_sql_last_error (zetl_target_sql_t *self)
{
    return self && self->error ? self->error : "unknown error";
}
