/*  zetl_forward_commit - what a forward target keeps in PostgreSQL: its positions and counts  */
#include "zetl_forward_commit.h"
#include "zetl_accounts.h"
#include "zetl_commit_keys.h"
#include "zetl_offsets.h"
#include "zetl_pg.h"
#include "zetl_producer.h"
#include "zetl_reprocess.h"

#include <inttypes.h>

struct zetl_forward_commit {
    const zetl_pipeline_t *pipeline;
    const zetl_target_t *target;
    const char *conninfo;  //  PostgreSQL connection string, borrowed
    const char *writer;    //  the writer's name in zetl_stats, borrowed
    bool accounts;         //  no PostgreSQL target: write dead letters and counters
    PGconn *conn;          //  NULL while disconnected
};

typedef struct {
    int64_t forwarded;     //  rows the other cluster ACKed, committed here now
    int64_t dead;          //  dead letters
    int64_t deduplicated;  //  duplicates' positions
} s_counts_t;

zetl_forward_commit_t *
zetl_forward_commit_new (const zetl_pipeline_t *pipeline, const zetl_target_t *target,
                         const char *conninfo, const char *writer, bool accounts)
{
    zetl_forward_commit_t *self =
        (zetl_forward_commit_t *) zmalloc (sizeof (zetl_forward_commit_t));
    self->pipeline = pipeline;
    self->target = target;
    self->conninfo = conninfo;
    self->writer = writer;
    self->accounts = accounts;
    return self;
}

void
zetl_forward_commit_destroy (zetl_forward_commit_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_forward_commit_t *self = *self_p;
        if (self->conn)
            PQfinish (self->conn);
        free (self);
        *self_p = NULL;
    }
}

//  ---------------------------------------------------------------------
//  SQL: every value a parameter

//  Check RES of the statement WHAT: 0, or -1 with *ERROR set (caller owns
//  it) and RES cleared. A lost connection is closed: the next call connects
static int
s_check (zetl_forward_commit_t *self, PGresult *res, const char *what, char **error)
{
    ExecStatusType status = PQresultStatus (res);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        return 0;
    char *text =
        zsys_sprintf ("%s for forward target %s (SQL state %s): %s", what, self->target->name,
                      zetl_pg_sqlstate (res), PQerrorMessage (self->conn));
    size_t len = strlen (text);
    while (len && text[len - 1] == '\n')
        text[--len] = 0;
    *error = text;
    PQclear (res);
    return -1;
}

static int
s_check_clear (zetl_forward_commit_t *self, PGresult *res, const char *what, char **error)
{
    if (s_check (self, res, what, error) != 0)
        return -1;
    PQclear (res);
    return 0;
}

static int
s_exec_plain (zetl_forward_commit_t *self, const char *sql, char **error)
{
    return s_check_clear (self, PQexec (self->conn, sql), sql, error);
}

static int
s_connect (zetl_forward_commit_t *self, char **error)
{
    if (self->conn && PQstatus (self->conn) != CONNECTION_OK) {
        PQfinish (self->conn);
        self->conn = NULL;
    }
    if (!self->conn)
        self->conn = zetl_pg_open (self->conninfo, error);
    return self->conn ? 0 : -1;
}

//  Lock every key's zetl_offsets row (made at -1 when missing) in one
//  statement, in the keys' order, and read what each has committed
static int
s_lock_keys (zetl_forward_commit_t *self, zetl_commit_keys_t *keys, char **error)
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
        *error = zsys_sprintf ("lock positions for forward target %s: %d rows for %zu keys",
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

//  Raise the positions of the keys that moved, in one statement (ordered
//  mode: their floors and committed ranges)
static int
s_set_positions (zetl_forward_commit_t *self, zetl_commit_keys_t *keys, char **error)
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

//  Accounts: delete the dead letters of the reprocessed records committed
//  here (forwarded, deduplicated or dead-lettered anew now). *DEAD loses them
static int
s_resolve_reprocessed (zetl_forward_commit_t *self, zetl_commit_keys_t *keys, int64_t *dead,
                       char **error)
{
    for (size_t index = 0; index < keys->count; index++) {
        zetl_commit_key_t *key = keys->keys[index];
        const char *seqs = zetl_commit_key_seqs (key);
        if (!seqs)
            continue;
        PGresult *res = zetl_reprocess_resolve (self->conn, self->pipeline->id, self->target->name,
                                                key->request, seqs);
        if (s_check (self, res, "delete reprocessed dead letters", error) != 0)
            return -1;
        *dead -= atoll (PQcmdTuples (res));
        PQclear (res);
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Reading bodies

//  Read the rest of READER's body, acting on nothing. Returns NULL when it
//  comes to a clean end, else why the body is malformed
static const char *
s_read_rest (zetl_body_reader_t *reader)
{
    zetl_entry_t entry;
    const char *reason = NULL;
    int rc;
    while ((rc = zetl_body_reader_next (reader, &entry, &reason)) == 1)
        ;
    return rc == 0 ? NULL : reason;
}

//  Pack each row of MSG above its key's position into RECORDS. Returns 0,
//  or -1 with *FAILURE set (malformed body, or a row that does not match
//  the schema)
static int
s_pack_batch (zetl_forward_commit_t *self, zetl_msg_t *msg, zetl_commit_keys_t *keys,
              zetl_forward_records_t *records, zetl_group_failure_t *failure)
{
    zetl_body_reader_t *reader = keys->readers[0];
    zetl_entry_t entry;
    const char *reason = NULL, *data_error = NULL;
    int rc;
    while ((rc = zetl_body_reader_next (reader, &entry, &reason)) == 1) {
        if (zetl_commit_key_replayed (keys->by_batch[0][entry.source], &entry) ||
            (entry.flags & ZETL_ENTRY_PASS_THROUGH))
            continue;  //  Sent and committed before, or no row: not sent
        if (zetl_forward_records_add (records, self->pipeline, &entry, &data_error) != 0)
            break;
        size_t len;
        zetl_forward_records_at (records, records->count - 1, &len);
        if (len > ZETL_PRODUCER_MAX_RECORD) {
            data_error = "a row packs to more than 16 MiB, the most a producer sends as a record";
            break;
        }
    }
    if (rc == 1)
        reason = s_read_rest (reader);  //  Stopped early: the body must still read
    else if (rc == 0)
        reason = NULL;
    if (!reason && !data_error)
        return 0;
    zetl_forward_records_fini (records);
    if (reason) {
        failure->malformed = msg;
        failure->malformed_reason = reason;
    }
    else {
        failure->data_failure = true;
        failure->error_text = zsys_sprintf ("batch %" PRIu64 ": %s", msg->batch_id, data_error);
    }
    return -1;
}

int
zetl_forward_commit_stage (zetl_forward_commit_t *self, zetl_msg_t *msg,
                           zetl_forward_records_t *records, zetl_group_failure_t *failure)
{
    memset (failure, 0, sizeof *failure);
    zlistx_t *one = zlistx_new ();  //  No destructor: MSG stays the caller's
    zlistx_add_end (one, msg);
    zetl_commit_keys_t *keys = zetl_commit_keys_collect (one);
    zlistx_destroy (&one);
    int rc = -1;
    char *error = NULL;
    if (keys->malformed) {
        failure->malformed = keys->malformed;
        failure->malformed_reason = keys->malformed_reason;
    }
    //  Outside a transaction the lock ends with its statement: a read of
    //  what is committed, which only ever rises
    else if (s_connect (self, &error) == 0 && s_lock_keys (self, keys, &error) == 0)
        rc = s_pack_batch (self, msg, keys, records, failure);
    else
        failure->error_text = error;
    zetl_commit_keys_destroy (&keys);
    return rc;
}

//  ---------------------------------------------------------------------
//  One commit

//  Count one batch's entries above their keys' positions, and write its
//  dead letters (accounts). Returns 0, or -1 with *FAILURE set
static int
s_count_batch (zetl_forward_commit_t *self, zetl_msg_t *msg, zetl_body_reader_t *reader,
               zetl_commit_key_t **by_source, s_counts_t *counts, zetl_group_failure_t *failure)
{
    zetl_entry_t entry;
    const char *reason = NULL;
    int rc;
    while ((rc = zetl_body_reader_next (reader, &entry, &reason)) == 1) {
        zetl_commit_key_t *key = by_source[entry.source];
        if (zetl_commit_key_replayed (key, &entry))
            continue;
        if (key->request && self->accounts)
            zetl_commit_key_note_reprocessed (key, entry.position);
        if (entry.flags & ZETL_ENTRY_DUPLICATE)
            counts->deduplicated++;
        else if (entry.flags & ZETL_ENTRY_DEAD) {
            char *error = NULL;
            if (self->accounts &&
                s_check_clear (self,
                               zetl_accounts_dead_letter (self->conn, self->pipeline->id,
                                                          self->target->name, key->source,
                                                          msg->partition, &entry, msg->attempt),
                               "write dead letter", &error) != 0) {
                failure->error_text = error;
                return -1;
            }
            counts->dead++;
        }
        else
            counts->forwarded++;
    }
    if (rc == 0)
        return 0;
    failure->malformed = msg;
    failure->malformed_reason = reason;
    return -1;
}

//  Accounts: what this commit reclaims and adds to zetl_stats
static int
s_accounts (zetl_forward_commit_t *self, zetl_commit_keys_t *keys, s_counts_t *counts, char **error)
{
    if (!self->accounts)
        return 0;
    if (s_resolve_reprocessed (self, keys, &counts->dead, error) != 0)
        return -1;
    return s_check_clear (
        self,
        zetl_accounts_add_stats (self->conn, self->pipeline->id, self->target->name, self->writer,
                                 counts->forwarded, 0, counts->dead, counts->deduplicated),
        "add counters", error);
}

int
zetl_forward_commit_run (zetl_forward_commit_t *self, zlistx_t *batches,
                         zetl_group_failure_t *failure)
{
    memset (failure, 0, sizeof *failure);
    s_counts_t counts = {0, 0, 0};
    zetl_commit_keys_t *keys = zetl_commit_keys_collect (batches);
    if (keys->malformed) {
        failure->malformed = keys->malformed;
        failure->malformed_reason = keys->malformed_reason;
        zetl_commit_keys_destroy (&keys);
        return -1;
    }
    char *error = NULL;
    int rc = -1;
    bool begun = false;
    if (s_connect (self, &error) != 0 || s_exec_plain (self, "BEGIN", &error) != 0)
        goto cleanup;
    begun = true;
    if (s_lock_keys (self, keys, &error) != 0)
        goto cleanup;
    size_t batch = 0;
    for (zetl_msg_t *msg = (zetl_msg_t *) zlistx_first (batches); msg;
         msg = (zetl_msg_t *) zlistx_next (batches), batch++)
        if (s_count_batch (self, msg, keys->readers[batch], keys->by_batch[batch], &counts,
                           failure) != 0)
            goto cleanup;
    if (s_set_positions (self, keys, &error) != 0 || s_accounts (self, keys, &counts, &error) != 0)
        goto cleanup;
    rc = s_exec_plain (self, "COMMIT", &error);
cleanup:
    if (rc != 0) {
        if (begun && PQstatus (self->conn) == CONNECTION_OK)
            PQclear (PQexec (self->conn, "ROLLBACK"));
        if (!failure->error_text && !failure->malformed)
            failure->error_text = error ? error : strdup ("unknown error");
        else
            free (error);
    }
    zetl_commit_keys_destroy (&keys);
    return rc;
}
