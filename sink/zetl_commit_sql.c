/*  zetl_commit_sql - the statements every target's commit shares  */
#include "zetl_commit_sql.h"
#include "zetl_accounts.h"
#include "zetl_offsets.h"
#include "zetl_pg.h"
#include "zetl_reprocess.h"

//  ---------------------------------------------------------------------
//  The walks of every commit

zetl_commit_keys_t *
zetl_commit_sql_collect (zlistx_t *batches, zetl_group_failure_t *failure)
{
    zetl_commit_keys_t *keys = zetl_commit_keys_collect (batches);
    if (keys->malformed) {
        //  Before anything is written
        failure->malformed = keys->malformed;
        failure->malformed_reason = keys->malformed_reason;
        zetl_commit_keys_destroy (&keys);
    }
    return keys;
}

const char *
zetl_commit_sql_read_rest (zetl_body_reader_t *reader)
{
    //  Checks each entry as fully as zetl_body_reader_next, builds nothing
    zetl_entry_t entry;
    const char *reason = NULL;
    int rc;
    while ((rc = zetl_body_reader_next_packed (reader, &entry, &reason)) == 1)
        ;
    return rc == 0 ? NULL : reason;
}

int
zetl_commit_sql_resolve_each (zetl_commit_keys_t *keys, zetl_commit_resolve_fn *resolve, void *arg,
                              int64_t *dead)
{
    for (size_t index = 0; index < keys->count; index++) {
        const char *seqs = zetl_commit_key_seqs (keys->keys[index]);
        if (!seqs)
            continue;
        int64_t deleted = 0;
        if (resolve (arg, keys->keys[index]->request, seqs, &deleted) != 0)
            return -1;
        *dead -= deleted;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  SQL: every value a parameter

//  Check RES of the statement WHAT: 0 (RES left to the caller), or -1 with
//  *ERROR set (caller owns it) and RES cleared
static int
s_check (zetl_commit_sql_t *self, PGresult *res, const char *what, char **error)
{
    ExecStatusType status = PQresultStatus (res);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        return 0;
    char *text =
        zsys_sprintf ("%s for %s target %s (SQL state %s): %s", what, self->kind,
                      self->target->name, zetl_pg_sqlstate (res), PQerrorMessage (self->conn));
    size_t len = strlen (text);
    while (len && text[len - 1] == '\n')
        text[--len] = 0;
    *error = text;
    PQclear (res);
    return -1;
}

//  Check and clear RES of the statement WHAT: 0, or -1 with *ERROR set
static int
s_check_clear (zetl_commit_sql_t *self, PGresult *res, const char *what, char **error)
{
    if (s_check (self, res, what, error) != 0)
        return -1;
    PQclear (res);
    return 0;
}

//  Run SQL, a statement without parameters
static int
s_exec (zetl_commit_sql_t *self, const char *sql, char **error)
{
    return s_check_clear (self, PQexec (self->conn, sql), sql, error);
}

void
zetl_commit_sql_init (zetl_commit_sql_t *self, const char *kind, const zetl_pipeline_t *pipeline,
                      const zetl_target_t *target, const char *conninfo, const char *writer,
                      bool accounts)
{
    *self = (zetl_commit_sql_t){.pipeline = pipeline,
                                .target = target,
                                .kind = kind,
                                .conninfo = conninfo,
                                .writer = writer,
                                .accounts = accounts};
}

int
zetl_commit_sql_connect (zetl_commit_sql_t *self, char **error)
{
    if (!self->conn)
        self->conn = zetl_pg_open (self->conninfo, error);
    return self->conn ? 0 : -1;
}

void
zetl_commit_sql_drop_lost (zetl_commit_sql_t *self)
{
    if (self->conn && PQstatus (self->conn) != CONNECTION_OK)
        zetl_commit_sql_close (self);
}

void
zetl_commit_sql_close (zetl_commit_sql_t *self)
{
    if (self->conn)
        PQfinish (self->conn);
    self->conn = NULL;
}

int
zetl_commit_sql_lock_keys (zetl_commit_sql_t *self, zetl_commit_keys_t *keys, char **error)
{
    size_t count = keys->count;
    zetl_commit_keys_columns (keys, self->pipeline->ordered);
    if (count == 0)
        return 0;
    PGresult *res = zetl_offsets_lock (self->conn, self->pipeline->id, self->target->name, count,
                                       keys->sources, keys->partitions);
    if (s_check (self, res, "lock positions", error) != 0)
        return -1;
    int rc = 0;
    if (PQntuples (res) != (int) count) {
        *error = zsys_sprintf ("lock positions for %s target %s: %d rows for %zu keys", self->kind,
                               self->target->name, PQntuples (res), count);
        rc = -1;
    }
    else {
        zetl_offsets_read_locked (res, count, keys->positions, keys->above);
        zetl_commit_keys_locked (keys);
    }
    PQclear (res);
    return rc;
}

int
zetl_commit_sql_entry (zetl_commit_sql_t *self, zetl_commit_key_t *key, const zetl_msg_t *msg,
                       const zetl_entry_t *entry, zetl_commit_counts_t *counts, char **error)
{
    if (zetl_commit_key_replayed (key, entry))
        return 0;
    if (key->request && self->accounts)
        zetl_commit_key_note_reprocessed (key, entry->position);
    if (entry->flags & ZETL_ENTRY_DUPLICATE)
        counts->deduplicated++;
    else if (entry->flags & ZETL_ENTRY_DEAD) {
        if (self->accounts && s_check_clear (self,
                                             zetl_accounts_dead_letter (
                                                 self->conn, self->pipeline->id, self->target->name,
                                                 key->source, msg->partition, entry, msg->attempt),
                                             "write dead letter", error) != 0)
            return -1;
        counts->dead++;
    }
    else {
        counts->written++;
        return 1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  One commit

//  Raise the positions of the keys that moved, in one statement (ordered
//  mode: their floors and committed ranges)
static int
s_raise_positions (zetl_commit_sql_t *self, zetl_commit_keys_t *keys, char **error)
{
    size_t count = zetl_commit_keys_moved (keys);
    if (count == 0)
        return 0;
    PGresult *res =
        self->pipeline->ordered
            ? zetl_offsets_raise_ranges (self->conn, self->pipeline->id, self->target->name, count,
                                         keys->sources, keys->partitions, keys->positions,
                                         keys->added)
            : zetl_offsets_raise (self->conn, self->pipeline->id, self->target->name, count,
                                  keys->sources, keys->partitions, keys->positions);
    return s_check_clear (self, res, self->pipeline->ordered ? "set ranges" : "set positions",
                          error);
}

//  The target and the error of one zetl_commit_sql_resolve_each
typedef struct {
    zetl_commit_sql_t *sql;
    char **error;
} s_resolver_t;

//  Delete the dead letters of REQUEST's items SEQS (zetl_commit_resolve_fn)
static int
s_resolve (void *arg, int64_t request, const char *seqs, int64_t *deleted)
{
    s_resolver_t *resolver = (s_resolver_t *) arg;
    zetl_commit_sql_t *self = resolver->sql;
    PGresult *res =
        zetl_reprocess_resolve (self->conn, self->pipeline->id, self->target->name, request, seqs);
    if (s_check (self, res, "delete reprocessed dead letters", resolver->error) != 0)
        return -1;
    *deleted = atoll (PQcmdTuples (res));
    PQclear (res);
    return 0;
}

//  Accounts: delete the dead letters of the reprocessed records committed
//  here (COUNTS->dead loses them) and add COUNTS to zetl_stats
static int
s_accounts (zetl_commit_sql_t *self, zetl_commit_keys_t *keys, zetl_commit_counts_t *counts,
            char **error)
{
    s_resolver_t resolver = {self, error};
    if (zetl_commit_sql_resolve_each (keys, s_resolve, &resolver, &counts->dead) != 0)
        return -1;
    return s_check_clear (
        self,
        zetl_accounts_add_stats (self->conn, self->pipeline->id, self->target->name, self->writer,
                                 counts->written, 0, counts->dead, counts->deduplicated),
        "add counters", error);
}

//  BEGIN (*BEGUN then true: the caller rolls back) and lock KEYS
static int
s_begin (zetl_commit_sql_t *self, zetl_commit_keys_t *keys, bool *begun, char **error)
{
    if (s_exec (self, "BEGIN", error) != 0)
        return -1;
    *begun = true;
    return zetl_commit_sql_lock_keys (self, keys, error);
}

//  Raise the positions, settle the accounts, COMMIT
static int
s_finish (zetl_commit_sql_t *self, zetl_commit_keys_t *keys, zetl_commit_counts_t *counts,
          char **error)
{
    if (s_raise_positions (self, keys, error) != 0 ||
        (self->accounts && s_accounts (self, keys, counts, error) != 0))
        return -1;
    return s_exec (self, "COMMIT", error);
}

//  The commit failed: roll back when BEGUN and still connected, and give
//  FAILURE the text ERROR (takes ownership) unless it says why already
static void
s_fail (zetl_commit_sql_t *self, bool begun, char *error, zetl_group_failure_t *failure)
{
    if (begun && PQstatus (self->conn) == CONNECTION_OK)
        PQclear (PQexec (self->conn, "ROLLBACK"));
    if (!failure->error_text && !failure->malformed)
        failure->error_text = error ? error : strdup ("unknown error");
    else
        free (error);
}

int
zetl_commit_sql_run (zetl_commit_sql_t *self, zlistx_t *batches, const zetl_commit_ops_t *ops,
                     void *commit, zetl_group_failure_t *failure)
{
    memset (failure, 0, sizeof *failure);
    zetl_commit_counts_t counts = {0, 0, 0};
    zetl_commit_keys_t *keys = zetl_commit_sql_collect (batches, failure);
    if (!keys)
        return -1;
    char *error = NULL;
    int rc = -1;
    bool begun = false;
    if (ops->connect (commit, &error) != 0 || s_begin (self, keys, &begun, &error) != 0 ||
        (ops->locked && ops->locked (commit, keys, &error) != 0))
        goto cleanup;
    size_t batch = 0;
    for (zetl_msg_t *msg = (zetl_msg_t *) zlistx_first (batches); msg;
         msg = (zetl_msg_t *) zlistx_next (batches), batch++)
        if (ops->batch (commit, msg, keys->readers[batch], keys->by_batch[batch], &counts,
                        failure) != 0)
            goto cleanup;
    if (ops->staged && ops->staged (commit, &error) != 0)
        goto cleanup;
    rc = s_finish (self, keys, &counts, &error);
cleanup:
    if (ops->ended)
        ops->ended (commit, rc);  //  Before the rollback, as files discard theirs
    if (rc != 0)
        s_fail (self, begun, error, failure);
    zetl_commit_keys_destroy (&keys);
    return rc;
}
