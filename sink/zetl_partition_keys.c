/*  zetl_partition_keys - the keys table of a day-partitioned target, and its SQL  */
#include "zetl_partition_keys.h"
#include "zetl_pg.h"
#include "zetl_target.h"

#include <stdarg.h>

//  The columns a statement is built from, quoted
typedef struct {
    char **pk;         //  the primary key's columns
    size_t pk_count;   //  entries in pk
    char *day;         //  the partition column
    bool day_in_pk;    //  it is one of the primary key's columns
    char *day_type;    //  its PostgreSQL type
    bool day_is_date;  //  a date column (else a timestamp)
    char *event;       //  the event-time column
    bool event_own;    //  the keys table has a column of its own for it
    char *keys;        //  the keys table
    char *table;       //  the target
} s_names_t;

static bool
s_in_pk (const zetl_target_t *target, const char *name)
{
    for (size_t index = 0; index < target->primary_key_count; index++)
        if (streq (target->primary_key[index], name))
            return true;
    return false;
}

static void
s_names_init (s_names_t *self, PGconn *conn, const zetl_pipeline_t *pipeline,
              const zetl_target_t *target)
{
    memset (self, 0, sizeof *self);
    self->pk_count = target->primary_key_count;
    self->pk = (char **) zmalloc ((self->pk_count + 1) * sizeof (char *));
    for (size_t index = 0; index < self->pk_count; index++)
        self->pk[index] = zetl_pg_ident (conn, target->primary_key[index]);
    const char *day = target->partition_by_day;
    int field = zetl_pipeline_field_index (pipeline, day);
    assert (field >= 0);  //  The configuration checked it
    self->day = zetl_pg_ident (conn, day);
    self->day_in_pk = s_in_pk (target, day);
    self->day_is_date = pipeline->fields[field].type == ZETL_TYPE_DATE;
    self->day_type = strdup (zetl_target_pg_type (pipeline->fields[field].type));
    const char *event = pipeline->event_time.field;
    self->event = zetl_pg_ident (conn, event);
    self->event_own = !s_in_pk (target, event) && !streq (event, day);
    char *keys = zetl_partition_keys_table (target);
    self->keys = zetl_pg_ident (conn, keys);
    free (keys);
    self->table = zetl_pg_ident (conn, target->table);
}

static void
s_names_fini (s_names_t *self)
{
    for (size_t index = 0; index < self->pk_count; index++)
        free (self->pk[index]);
    free (self->pk);
    free (self->day);
    free (self->day_type);
    free (self->event);
    free (self->keys);
    free (self->table);
}

static void
s_add (zchunk_t *sql, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *text = zsys_vprintf (format, args);
    va_end (args);
    zchunk_extend (sql, text, strlen (text));
    free (text);
}

//  The primary key's columns as FORMAT (one %s, or two for "a.%s = b.%s"),
//  joined by SEPARATOR
static void
s_add_pk (zchunk_t *sql, const s_names_t *names, const char *format, const char *separator)
{
    for (size_t index = 0; index < names->pk_count; index++) {
        if (index)
            s_add (sql, "%s", separator);
        s_add (sql, format, names->pk[index], names->pk[index]);
    }
}

//  The keys table's own columns past the primary key: the day column, the
//  event time (when they are not key columns), as FORMAT
static void
s_add_own (zchunk_t *sql, const s_names_t *names, const char *format)
{
    if (!names->day_in_pk)
        s_add (sql, format, names->day, names->day);
    if (names->event_own)
        s_add (sql, format, names->event, names->event);
}

static char *
s_text (zchunk_t *sql)
{
    zchunk_extend (sql, "", 1);
    char *text = strdup ((const char *) zchunk_data (sql));
    zchunk_destroy (&sql);
    return text;
}

char *
zetl_partition_keys_table (const zetl_target_t *target)
{
    return zsys_sprintf ("%s_zetl_keys", target->table);
}

//  The type of schema column NAME
static const char *
s_type (const zetl_pipeline_t *pipeline, const char *name)
{
    int field = zetl_pipeline_field_index (pipeline, name);
    assert (field >= 0);
    return zetl_target_pg_type (pipeline->fields[field].type);
}

char *
zetl_partition_keys_create_sql (PGconn *conn, const zetl_pipeline_t *pipeline,
                                const zetl_target_t *target)
{
    s_names_t names;
    s_names_init (&names, conn, pipeline, target);
    zchunk_t *sql = zchunk_new (NULL, 1024);
    s_add (sql, "CREATE TABLE IF NOT EXISTS %s (", names.keys);
    for (size_t index = 0; index < names.pk_count; index++)
        s_add (sql, "%s %s, ", names.pk[index], s_type (pipeline, target->primary_key[index]));
    if (!names.day_in_pk)
        s_add (sql, "%s %s, ", names.day, names.day_type);
    if (names.event_own)
        s_add (sql, "%s %s, ", names.event, s_type (pipeline, pipeline->event_time.field));
    s_add (sql,
           "zetl_day date NOT NULL, zetl_lut_gen bigint NOT NULL DEFAULT 0, "
           "zetl_hash bytea NOT NULL, zetl_moved_from %s, PRIMARY KEY (",
           names.day_type);
    s_add_pk (sql, &names, "%s", ", ");
    char *index = zsys_sprintf ("%s_zetl_keys_day", target->table);
    char *index_ident = zetl_pg_ident (conn, index);
    //  Retention removes the keys of a day through it
    s_add (sql, ")); CREATE INDEX IF NOT EXISTS %s ON %s (zetl_day)", index_ident, names.keys);
    free (index_ident);
    free (index);
    s_names_fini (&names);
    return s_text (sql);
}

char *
zetl_partition_keys_won_sql (PGconn *conn, const zetl_target_t *target)
{
    char *keys = zetl_partition_keys_table (target);
    char *keys_ident = zetl_pg_ident (conn, keys);
    zchunk_t *sql = zchunk_new (NULL, 512);
    s_add (sql, "DROP TABLE IF EXISTS pg_temp.zetl_won; "
                "CREATE TEMP TABLE zetl_won ON COMMIT DELETE ROWS AS SELECT ");
    for (size_t index = 0; index < target->primary_key_count; index++) {
        char *column = zetl_pg_ident (conn, target->primary_key[index]);
        s_add (sql, "%s, ", column);
        free (column);
    }
    s_add (sql, "zetl_moved_from FROM %s WITH NO DATA", keys_ident);
    free (keys_ident);
    free (keys);
    return s_text (sql);
}

//  ORDER BY of last-write-wins, as the plain target's upsert has it: the
//  primary key, then the newest event time, lookup generation and hash first
static void
s_add_winner_order (zchunk_t *sql, const s_names_t *names)
{
    s_add (sql, " ORDER BY ");
    s_add_pk (sql, names, "%s", ", ");
    s_add (sql, ", %s DESC, zetl_lut_gen DESC, zetl_hash DESC", names->event);
}

char *
zetl_partition_keys_upsert_sql (PGconn *conn, const zetl_pipeline_t *pipeline,
                                const zetl_target_t *target)
{
    s_names_t names;
    s_names_init (&names, conn, pipeline, target);
    zchunk_t *sql = zchunk_new (NULL, 2048);
    s_add (sql, "WITH up AS (INSERT INTO %s AS k (", names.keys);
    s_add_pk (sql, &names, "%s", ", ");
    s_add_own (sql, &names, ", %s");
    s_add (sql, ", zetl_day, zetl_lut_gen, zetl_hash) SELECT DISTINCT ON (");
    s_add_pk (sql, &names, "%s", ", ");
    s_add (sql, ") ");
    s_add_pk (sql, &names, "%s", ", ");
    s_add_own (sql, &names, ", %s");
    //  The UTC day of a timestamp, as the partitions' bounds are UTC midnights
    if (names.day_is_date)
        s_add (sql, ", %s", names.day);
    else
        s_add (sql, ", (%s AT TIME ZONE 'UTC')::date", names.day);
    s_add (sql, ", zetl_lut_gen, zetl_hash FROM pg_temp.zetl_stage");
    //  Sorted by key: every connection locks keys in the same order
    s_add_winner_order (sql, &names);
    s_add (sql, " ON CONFLICT (");
    s_add_pk (sql, &names, "%s", ", ");
    s_add (sql, ") DO UPDATE SET ");
    s_add_own (sql, &names, "%s = EXCLUDED.%s, ");
    //  In SET, k.* is the row before the update: where the old row is
    s_add (sql,
           "zetl_day = EXCLUDED.zetl_day, zetl_lut_gen = EXCLUDED.zetl_lut_gen,"
           " zetl_hash = EXCLUDED.zetl_hash,"
           " zetl_moved_from = CASE WHEN k.%s IS DISTINCT FROM EXCLUDED.%s THEN k.%s END"
           " WHERE (k.%s, k.zetl_lut_gen, k.zetl_hash) < (EXCLUDED.%s, EXCLUDED.zetl_lut_gen,"
           " EXCLUDED.zetl_hash) RETURNING ",
           names.day, names.day, names.day, names.event, names.event);
    s_add_pk (sql, &names, "%s", ", ");
    s_add (sql, ", zetl_moved_from), won AS (INSERT INTO pg_temp.zetl_won SELECT * FROM up"
                " RETURNING zetl_moved_from) SELECT count(*), count(zetl_moved_from) FROM won");
    s_names_fini (&names);
    return s_text (sql);
}

char *
zetl_partition_keys_move_sql (PGconn *conn, const zetl_target_t *target)
{
    //  Only the key columns are read: the schema is not needed for their names
    zchunk_t *sql = zchunk_new (NULL, 1024);
    char *table = zetl_pg_ident (conn, target->table);
    char *day = zetl_pg_ident (conn, target->partition_by_day);
    //  The planner cannot know how few rows zetl_won holds: a hash join would
    //  read every partition whole, a nested loop probes one partition's key
    //  index per row (run-time pruning on the day column)
    s_add (sql,
           "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; "
           "DELETE FROM %s AS t USING pg_temp.zetl_won AS w"
           " WHERE w.zetl_moved_from IS NOT NULL AND t.%s = w.zetl_moved_from",
           table, day);
    for (size_t index = 0; index < target->primary_key_count; index++) {
        char *column = zetl_pg_ident (conn, target->primary_key[index]);
        s_add (sql, " AND t.%s = w.%s", column, column);
        free (column);
    }
    s_add (sql, "; SET LOCAL enable_hashjoin TO DEFAULT; SET LOCAL enable_mergejoin TO DEFAULT");
    free (day);
    free (table);
    return s_text (sql);
}

char *
zetl_partition_keys_rows_sql (PGconn *conn, const zetl_pipeline_t *pipeline,
                              const zetl_target_t *target)
{
    s_names_t names;
    s_names_init (&names, conn, pipeline, target);
    zchunk_t *sql = zchunk_new (NULL, 2048);
    zchunk_t *columns = zchunk_new (NULL, 512);
    for (size_t index = 0; index < pipeline->field_count; index++) {
        char *column = zetl_pg_ident (conn, pipeline->fields[index].name);
        s_add (columns, "%s, ", column);
        free (column);
    }
    s_add (columns, "zetl_lut_gen, zetl_hash, zetl_deleted");
    zchunk_extend (columns, "", 1);
    const char *list = (const char *) zchunk_data (columns);
    s_add (sql, "INSERT INTO %s AS t (%s) SELECT DISTINCT ON (", names.table, list);
    s_add_pk (sql, &names, "%s", ", ");
    s_add (sql,
           ") %s FROM pg_temp.zetl_stage AS s WHERE EXISTS (SELECT FROM pg_temp.zetl_won AS w"
           " WHERE ",
           list);
    s_add_pk (sql, &names, "w.%s = s.%s", " AND ");
    s_add (sql, ")");
    s_add_winner_order (sql, &names);
    s_add (sql, " ON CONFLICT (");
    s_add_pk (sql, &names, "%s", ", ");
    if (!names.day_in_pk)
        s_add (sql, ", %s", names.day);
    s_add (sql, ") DO UPDATE SET ");
    for (size_t index = 0; index < pipeline->field_count; index++) {
        char *column = zetl_pg_ident (conn, pipeline->fields[index].name);
        s_add (sql, "%s = EXCLUDED.%s, ", column, column);
        free (column);
    }
    //  The keys table decided already; the guard keeps last-write-wins should
    //  the two ever disagree
    s_add (sql,
           "zetl_lut_gen = EXCLUDED.zetl_lut_gen, zetl_hash = EXCLUDED.zetl_hash,"
           " zetl_deleted = EXCLUDED.zetl_deleted WHERE (t.%s, t.zetl_lut_gen, t.zetl_hash)"
           " < (EXCLUDED.%s, EXCLUDED.zetl_lut_gen, EXCLUDED.zetl_hash)",
           names.event, names.event);
    zchunk_destroy (&columns);
    s_names_fini (&names);
    return s_text (sql);
}

char *
zetl_partition_keys_expire_sql (PGconn *conn, const zetl_target_t *target)
{
    char *keys = zetl_partition_keys_table (target);
    char *keys_ident = zetl_pg_ident (conn, keys);
    zchunk_t *sql = zchunk_new (NULL, 1024);
    zchunk_t *pk = zchunk_new (NULL, 256);
    for (size_t index = 0; index < target->primary_key_count; index++) {
        char *column = zetl_pg_ident (conn, target->primary_key[index]);
        s_add (pk, "%s%s", index ? ", " : "", column);
        free (column);
    }
    zchunk_extend (pk, "", 1);
    const char *list = (const char *) zchunk_data (pk);
    //  Locked in key order, as sink transactions lock them: no deadlock
    s_add (sql,
           "WITH gone AS (DELETE FROM %s WHERE (%s) IN (SELECT %s FROM %s WHERE zetl_day < $1::date"
           " ORDER BY %s FOR UPDATE) RETURNING zetl_day)"
           " SELECT zetl_day - date '1970-01-01', count(*) FROM gone GROUP BY 1 ORDER BY 1",
           keys_ident, list, list, keys_ident, list);
    zchunk_destroy (&pk);
    free (keys_ident);
    free (keys);
    return s_text (sql);
}
