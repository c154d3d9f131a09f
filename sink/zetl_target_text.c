/*  zetl_target_text - the statement text of a PostgreSQL target, built from its schema  */
#include "zetl_target_text.h"
#include "zetl_pg.h"
#include "zetl_target.h"

#include <czmq.h>

//  "a", "b" -> "\"a\", \"b\"" with PREFIX before each name
static void
s_append_columns (PGconn *conn, zchunk_t *sql, char *const *names, size_t count, const char *prefix,
                  const char *suffix)
{
    for (size_t index = 0; index < count; index++) {
        char *ident = zetl_pg_ident (conn, names[index]);
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

char *
zetl_target_text_create (PGconn *conn, const zetl_pipeline_t *pipeline, const zetl_target_t *target,
                         const char *table)
{
    zchunk_t *sql = zchunk_new (NULL, 0);
    zchunk_extend (sql, "CREATE TABLE IF NOT EXISTS ", 27);
    zchunk_extend (sql, table, strlen (table));
    zchunk_extend (sql, " (", 2);
    for (size_t index = 0; index < pipeline->field_count; index++) {
        const zetl_field_t *field = &pipeline->fields[index];
        char *ident = zetl_pg_ident (conn, field->name);
        char *column = zsys_sprintf ("%s %s, ", ident, zetl_target_pg_type (field->type));
        zchunk_extend (sql, column, strlen (column));
        free (column);
        free (ident);
    }
    const char *zetl_columns = "zetl_lut_gen bigint NOT NULL DEFAULT 0, zetl_hash bytea NOT NULL, "
                               "zetl_deleted boolean NOT NULL DEFAULT false, PRIMARY KEY (";
    zchunk_extend (sql, zetl_columns, strlen (zetl_columns));
    s_append_columns (conn, sql, target->primary_key, target->primary_key_count, "", "");
    const char *day = target->partition_by_day;
    if (day) {
        //  PostgreSQL wants the partition column in every unique key
        char *ident = zetl_pg_ident (conn, day);
        bool in_key = false;
        for (size_t index = 0; index < target->primary_key_count; index++)
            in_key = in_key || streq (target->primary_key[index], day);
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

char *
zetl_target_text_upsert (PGconn *conn, const zetl_pipeline_t *pipeline, const zetl_target_t *target,
                         const char *table)
{
    char **names = s_field_names (pipeline);
    size_t count = pipeline->field_count;
    char *event_time = zetl_pg_ident (conn, pipeline->event_time.field);
    zchunk_t *sql = zchunk_new (NULL, 0);
    char *head = zsys_sprintf ("INSERT INTO %s AS t (", table);
    zchunk_extend (sql, head, strlen (head));
    free (head);
    s_append_columns (conn, sql, names, count, "", "");
    const char *middle = ", zetl_lut_gen, zetl_hash, zetl_deleted) SELECT DISTINCT ON (";
    zchunk_extend (sql, middle, strlen (middle));
    s_append_columns (conn, sql, target->primary_key, target->primary_key_count, "", "");
    zchunk_extend (sql, ") ", 2);
    s_append_columns (conn, sql, names, count, "", "");
    const char *from = ", zetl_lut_gen, zetl_hash, zetl_deleted FROM pg_temp.zetl_stage ORDER BY ";
    zchunk_extend (sql, from, strlen (from));
    s_append_columns (conn, sql, target->primary_key, target->primary_key_count, "", "");
    //  Last write wins on (event time, lookup generation, hash): the same set
    //  of rows gives the same winner whatever order they came in
    char *tail =
        zsys_sprintf (", %s DESC, zetl_lut_gen DESC, zetl_hash DESC ON CONFLICT (", event_time);
    zchunk_extend (sql, tail, strlen (tail));
    free (tail);
    s_append_columns (conn, sql, target->primary_key, target->primary_key_count, "", "");
    zchunk_extend (sql, ") DO UPDATE SET ", 16);
    for (size_t index = 0; index < count; index++) {
        char *ident = zetl_pg_ident (conn, names[index]);
        char *set = zsys_sprintf ("%s = EXCLUDED.%s, ", ident, ident);
        zchunk_extend (sql, set, strlen (set));
        free (set);
        free (ident);
    }
    char *guard =
        zsys_sprintf ("zetl_lut_gen = EXCLUDED.zetl_lut_gen, zetl_hash = EXCLUDED.zetl_hash, "
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

char *
zetl_target_text_copy (PGconn *conn, const zetl_pipeline_t *pipeline)
{
    char **names = s_field_names (pipeline);
    zchunk_t *sql = zchunk_new (NULL, 0);
    const char *head = "COPY pg_temp.zetl_stage (";
    zchunk_extend (sql, head, strlen (head));
    s_append_columns (conn, sql, names, pipeline->field_count, "", "");
    const char *tail = ", zetl_lut_gen, zetl_hash, zetl_deleted) FROM STDIN";
    zchunk_extend (sql, tail, strlen (tail));
    free (names);
    return s_text (sql);
}
