/*  zetl_evolve - an existing target table brought to the pipeline's schema  */
#include "zetl_evolve.h"
#include "zetl_log.h"
#include "zetl_pg.h"
#include "zetl_target.h"

#include <czmq.h>

//  The table's columns (name, type as format_type writes it), in order
static PGresult *
s_columns (PGconn *conn, const char *table, char **error)
{
    const char *sql = "SELECT a.attname, format_type (a.atttypid, a.atttypmod), "
                      "coalesce (a.attnum = ANY (i.indkey), false) "
                      "FROM pg_attribute a LEFT JOIN pg_index i "
                      "ON i.indrelid = a.attrelid AND i.indisprimary "
                      "WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped "
                      "ORDER BY a.attnum";
    const char *values[1] = {table};
    PGresult *res = PQexecParams (conn, sql, 1, NULL, values, NULL, NULL, 0);
    if (PQresultStatus (res) == PGRES_TUPLES_OK)
        return res;
    *error = zsys_sprintf ("reading the columns of table %s: %s", table, PQerrorMessage (conn));
    PQclear (res);
    return NULL;
}

//  The type format_type gives for a column of TYPE
static const char *
s_type_name (zetl_type_t type)
{
    const char *name = zetl_target_pg_type (type);
    return streq (name, "timestamptz") ? "timestamp with time zone" : name;
}

//  The row of column NAME in COLUMNS, or -1
static int
s_find (PGresult *columns, const char *name)
{
    for (int row = 0; row < PQntuples (columns); row++)
        if (streq (PQgetvalue (columns, row, 0), name))
            return row;
    return -1;
}

//  The table's key is the configured primary_key, plus the partition
//  column with partition_by_day (PostgreSQL wants it in every unique key)
static bool
s_in_primary_key (const zetl_target_t *target, const char *name)
{
    if (target->partition_by_day && streq (target->partition_by_day, name))
        return true;
    for (size_t key = 0; key < target->primary_key_count; key++)
        if (streq (target->primary_key[key], name))
            return true;
    return false;
}

//  Every column of the table must be the schema's, zetl's own, and the key the target's
static int
s_check_existing (PGresult *columns, const zetl_pipeline_t *pipeline, const zetl_target_t *target,
                  char **error)
{
    for (int row = 0; row < PQntuples (columns); row++) {
        const char *name = PQgetvalue (columns, row, 0), *type = PQgetvalue (columns, row, 1);
        bool key = streq (PQgetvalue (columns, row, 2), "t");
        int field = zetl_pipeline_field_index (pipeline, name);
        if (strncmp (name, "zetl_", 5) == 0)
            continue;
        if (field < 0) {
            *error = zsys_sprintf ("table %s has a column %s that the schema does not: zetl adds "
                                   "columns but never drops one; put %s back in the schema, or "
                                   "drop the column yourself",
                                   target->table, name, name);
            return -1;
        }
        const char *wanted = s_type_name (pipeline->fields[field].type);
        if (!streq (type, wanted)) {
            *error = zsys_sprintf ("table %s: column %s is %s, the schema says %s: zetl adds "
                                   "columns but changes no type; give %s its old type in the "
                                   "schema, or migrate the table yourself",
                                   target->table, name, type, wanted, name);
            return -1;
        }
        if (key != s_in_primary_key (target, name)) {
            *error = zsys_sprintf ("table %s: column %s is %s the primary key in PostgreSQL but %s "
                                   "the configured primary_key: zetl does not change a primary "
                                   "key; restore primary_key, or migrate the table yourself",
                                   target->table, name, key ? "in" : "not in",
                                   key ? "not in" : "in");
            return -1;
        }
    }
    return 0;
}

//  The table is partitioned as the target says: by range on the
//  partition_by_day column, or not at all
static int
s_check_layout (PGconn *conn, const zetl_target_t *target, const char *table, char **error)
{
    const char *sql = "SELECT p.partstrat::text, p.partnatts, a.attname FROM pg_partitioned_table p"
                      " LEFT JOIN pg_attribute a ON a.attrelid = p.partrelid"
                      " AND a.attnum = p.partattrs[0] WHERE p.partrelid = $1::regclass";
    const char *values[1] = {table};
    PGresult *res = PQexecParams (conn, sql, 1, NULL, values, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        *error = zsys_sprintf ("reading how table %s is partitioned: %s", target->table,
                               PQerrorMessage (conn));
        PQclear (res);
        return -1;
    }
    const char *day = target->partition_by_day;
    bool partitioned = PQntuples (res) == 1;
    bool as_wanted = partitioned && day && streq (PQgetvalue (res, 0, 0), "r")
                     && streq (PQgetvalue (res, 0, 1), "1") && streq (PQgetvalue (res, 0, 2), day);
    int rc = 0;
    if (day && !as_wanted) {
        *error = zsys_sprintf ("table %s exists and is not partitioned by range on %s, as "
                               "partition_by_day says: zetl does not repartition a table; "
                               "remove partition_by_day, or move the table aside and let zetl "
                               "create it",
                               target->table, day);
        rc = -1;
    }
    else if (!day && partitioned) {
        *error = zsys_sprintf ("table %s is partitioned but the target has no partition_by_day: "
                               "set partition_by_day to its partition column, or move the "
                               "table aside",
                               target->table);
        rc = -1;
    }
    PQclear (res);
    return rc;
}

//  The view <table>_live: the rows that are not delete markers, with every
//  column (made again, so that it has the columns just added)
static int
s_live_view (PGconn *conn, const zetl_target_t *target, const char *table, char **error)
{
    char *name = zsys_sprintf ("%s_live", target->table);
    char *view = zetl_pg_ident (conn, name);
    char *sql = zsys_sprintf ("CREATE OR REPLACE VIEW %s AS SELECT * FROM %s WHERE NOT zetl_deleted",
                              view, table);
    PGresult *res = PQexec (conn, sql);
    int rc = 0;
    if (PQresultStatus (res) != PGRES_COMMAND_OK) {
        *error = zsys_sprintf ("creating view %s: %s", name, PQerrorMessage (conn));
        rc = -1;
    }
    PQclear (res);
    free (sql);
    free (view);
    free (name);
    return rc;
}

int
zetl_evolve_table (PGconn *conn, const zetl_pipeline_t *pipeline, const zetl_target_t *target,
                   int *added, char **error)
{
    char *table = zetl_pg_ident (conn, target->table);
    PGresult *columns = s_columns (conn, table, error);
    int rc = columns ? s_check_existing (columns, pipeline, target, error) : -1;
    if (rc == 0)
        rc = s_check_layout (conn, target, table, error);
    int count = 0;
    for (size_t field = 0; rc == 0 && field < pipeline->field_count; field++) {
        const char *name = pipeline->fields[field].name;
        if (s_find (columns, name) >= 0)
            continue;
        char *ident = zetl_pg_ident (conn, name);
        char *sql = zsys_sprintf ("ALTER TABLE %s ADD COLUMN %s %s", table, ident,
                                  zetl_target_pg_type (pipeline->fields[field].type));
        PGresult *res = PQexec (conn, sql);
        if (PQresultStatus (res) != PGRES_COMMAND_OK) {
            *error = zsys_sprintf ("adding column %s to table %s: %s", name, target->table,
                                   PQerrorMessage (conn));
            rc = -1;
        }
        else {
            count++;
            zetl_log_info ("evolve", "column_added",
                           json_pack ("{s:s, s:s, s:s}", "table", target->table, "column", name,
                                      "type", zetl_target_pg_type (pipeline->fields[field].type)));
        }
        PQclear (res);
        free (sql);
        free (ident);
    }
    PQclear (columns);
    if (rc == 0)
        rc = s_live_view (conn, target, table, error);
    free (table);
    if (added)
        *added = count;
    return rc;
}
