/*  zetl_target - the SQL of one PostgreSQL target on one connection  */
#include "zetl_target.h"
#include "zetl_accounts.h"
#include "zetl_evolve.h"
#include "zetl_offsets.h"
#include "zetl_partition.h"
#include "zetl_partition_keys.h"
#include "zetl_pg.h"
#include "zetl_reprocess.h"
#include "zetl_target_text.h"

struct zetl_target_sql {
    PGconn *conn;  //  borrowed
    const zetl_pipeline_t *pipeline;
    const zetl_target_t *target;
    char *upsert;                 //  the last-write-wins statement
    char *copy;                   //  COPY ... FROM STDIN into the staging table
    zetl_partition_t *partition;  //  partition_by_day: its day partitions, else NULL
    char *keys_upsert;            //  partition_by_day: the keys table's upsert
    char *keys_move;              //  partition_by_day: delete the old rows of keys that moved
    char *keys_rows;              //  partition_by_day: write the winners of keys that changed
    char state[8];                //  SQL state of the last failure
    char *error;                  //  text of the last failure
};

const char *
zetl_target_pg_type (zetl_type_t type)
{
    switch (type) {
    case ZETL_TYPE_STRING:
        return "text";
    case ZETL_TYPE_INT:
        return "bigint";
    case ZETL_TYPE_NUMBER:
        return "numeric";
    case ZETL_TYPE_BOOL:
        return "boolean";
    case ZETL_TYPE_TIMESTAMP:
        return "timestamptz";
    case ZETL_TYPE_DATE:
        return "date";
    }
    return "text";
}

static void
s_fail (zetl_target_sql_t *self, PGresult *res, const char *what)
{
    snprintf (self->state, sizeof self->state, "%s", zetl_pg_sqlstate (res));
    free (self->error);
    self->error =
        zsys_sprintf ("%s on table %s: %s", what, self->target->table, PQerrorMessage (self->conn));
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

//  Check RES (which it clears) of the statement WHAT: 0, or -1 with why noted
static int
s_check_clear (zetl_target_sql_t *self, PGresult *res, const char *what)
{
    int rc = s_check (self, res, what);
    PQclear (res);
    return rc;
}

//  Run SQL (no parameters); on failure note why. Returns 0 or -1
static int
s_run (zetl_target_sql_t *self, const char *sql, const char *what)
{
    return s_check_clear (self, PQexec (self->conn, sql), what);
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
    char *create = zetl_target_text_create (self->conn, self->pipeline, self->target, table);
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
        rc =
            s_run (self, "BEGIN; SELECT pg_advisory_xact_lock(7325002)", "lock for table creation");
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
    self->upsert = zetl_target_text_upsert (self->conn, self->pipeline, self->target, table);
    self->copy = zetl_target_text_copy (self->conn, self->pipeline);
    if (self->partition) {
        self->keys_upsert =
            zetl_partition_keys_upsert_sql (self->conn, self->pipeline, self->target);
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

int
zetl_target_sql_lock_keys (zetl_target_sql_t *self, size_t count, const char *const *sources,
                           const uint32_t *partitions, int64_t *positions, char **above)
{
    if (count == 0)
        return 0;
    PGresult *res = zetl_offsets_lock (self->conn, self->pipeline->id, self->target->name, count,
                                       sources, partitions);
    int rc = s_check (self, res, "lock positions");
    if (rc == 0 && PQntuples (res) != (int) count) {
        //  Cannot happen while the keys are distinct: refuse rather than guess
        self->state[0] = 0;
        free (self->error);
        self->error = zsys_sprintf ("lock positions on table %s: %d rows for %zu keys",
                                    self->target->table, PQntuples (res), count);
        rc = -1;
    }
    if (rc == 0)
        zetl_offsets_read_locked (res, count, positions, above);
    PQclear (res);
    return rc;
}

int
zetl_target_sql_set_positions (zetl_target_sql_t *self, size_t count, const char *const *sources,
                               const uint32_t *partitions, const int64_t *positions)
{
    if (count == 0)
        return 0;
    return s_check_clear (self,
                          zetl_offsets_raise (self->conn, self->pipeline->id, self->target->name,
                                              count, sources, partitions, positions),
                          "set positions");
}

int
zetl_target_sql_set_ranges (zetl_target_sql_t *self, size_t count, const char *const *sources,
                            const uint32_t *partitions, const int64_t *floors,
                            const char *const *added)
{
    if (count == 0)
        return 0;
    return s_check_clear (self,
                          zetl_offsets_raise_ranges (self->conn, self->pipeline->id,
                                                     self->target->name, count, sources, partitions,
                                                     floors, added),
                          "set ranges");
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
    return s_check_clear (self,
                          zetl_accounts_add_stats (self->conn, self->pipeline->id,
                                                   self->target->name, writer, changed, unchanged,
                                                   dead, deduplicated),
                          "add counters");
}

int
zetl_target_sql_dead_letter (zetl_target_sql_t *self, const char *source, uint32_t partition,
                             const zetl_entry_t *entry, uint32_t attempts)
{
    return s_check_clear (self,
                          zetl_accounts_dead_letter (self->conn, self->pipeline->id,
                                                     self->target->name, source, partition, entry,
                                                     attempts),
                          "write dead letter");
}

int
zetl_target_sql_dead_letter_row (zetl_target_sql_t *self, const char *source, uint32_t partition,
                                 const zetl_entry_t *entry, uint32_t attempts, const char *reason,
                                 const char *field, const char *error)
{
    return s_check_clear (self,
                          zetl_accounts_dead_letter_row (self->conn, self->pipeline,
                                                         self->target->name, source, partition,
                                                         entry, attempts, reason, field, error),
                          "write dead letter");
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
