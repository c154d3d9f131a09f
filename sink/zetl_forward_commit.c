/*  zetl_forward_commit - what a forward target keeps in PostgreSQL: its positions and counts  */
#include "zetl_forward_commit.h"
#include "zetl_commit_sql.h"
#include "zetl_producer.h"

#include <inttypes.h>

struct zetl_forward_commit {
    zetl_commit_sql_t sql;  //  pipeline, target, connection, writer
};

zetl_forward_commit_t *
zetl_forward_commit_new (const zetl_pipeline_t *pipeline, const zetl_target_t *target,
                         const char *conninfo, const char *writer, bool accounts)
{
    zetl_forward_commit_t *self =
        (zetl_forward_commit_t *) zmalloc (sizeof (zetl_forward_commit_t));
    zetl_commit_sql_init (&self->sql, "forward", pipeline, target, conninfo, writer, accounts);
    return self;
}

void
zetl_forward_commit_destroy (zetl_forward_commit_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_forward_commit_t *self = *self_p;
        zetl_commit_sql_close (&self->sql);
        free (self);
        *self_p = NULL;
    }
}

//  Connect, after closing a lost connection (zetl_commit_ops_t connect)
static int
s_connect (void *commit, char **error)
{
    zetl_forward_commit_t *self = (zetl_forward_commit_t *) commit;
    zetl_commit_sql_drop_lost (&self->sql);
    return zetl_commit_sql_connect (&self->sql, error);
}

//  ---------------------------------------------------------------------
//  Staging

//  Pack each row of MSG above its key's position into RECORDS. Returns 0,
//  or -1 with *FAILURE set (malformed body, or a row that does not match
//  the schema)
static int
s_pack_batch (zetl_forward_commit_t *self, zetl_msg_t *msg, zetl_commit_keys_t *keys,
              zetl_forward_records_t *records, zetl_group_failure_t *failure)
{
    const zetl_pipeline_t *pipeline = self->sql.pipeline;
    zetl_body_reader_t *reader = keys->readers[0];
    zetl_entry_t entry;
    const char *reason = NULL, *data_error = NULL;
    int rc;
    while ((rc = zetl_body_reader_next (reader, &entry, &reason)) == 1) {
        if (zetl_commit_key_replayed (keys->by_batch[0][entry.source], &entry) ||
            (entry.flags & ZETL_ENTRY_PASS_THROUGH))
            continue;  //  Sent and committed before, or no row: not sent
        if (zetl_forward_records_add (records, pipeline, &entry, &data_error) != 0)
            break;
        size_t len;
        zetl_forward_records_at (records, records->count - 1, &len);
        if (len > ZETL_PRODUCER_MAX_RECORD) {
            data_error = "a row packs to more than 16 MiB, the most a producer sends as a record";
            break;
        }
    }
    if (rc == 1)
        reason = zetl_commit_sql_read_rest (reader);  //  Stopped early: the body must still read
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
    zetl_commit_keys_t *keys = zetl_commit_sql_collect (one, failure);
    zlistx_destroy (&one);
    if (!keys)
        return -1;
    int rc = -1;
    char *error = NULL;
    //  Outside a transaction the lock ends with its statement: a read of
    //  what is committed, which only ever rises
    if (s_connect (self, &error) == 0 && zetl_commit_sql_lock_keys (&self->sql, keys, &error) == 0)
        rc = s_pack_batch (self, msg, keys, records, failure);
    else
        failure->error_text = error;
    zetl_commit_keys_destroy (&keys);
    return rc;
}

//  ---------------------------------------------------------------------
//  One commit

//  Count one batch's entries above their keys' positions (its rows, ACKed,
//  as written), and write its dead letters (accounts). Returns 0, or -1
//  with *FAILURE set (zetl_commit_ops_t batch)
static int
s_count_batch (void *commit, zetl_msg_t *msg, zetl_body_reader_t *reader,
               zetl_commit_key_t **by_source, zetl_commit_counts_t *counts,
               zetl_group_failure_t *failure)
{
    zetl_forward_commit_t *self = (zetl_forward_commit_t *) commit;
    zetl_entry_t entry;
    const char *reason = NULL;
    char *error = NULL;
    int rc;
    while ((rc = zetl_body_reader_next (reader, &entry, &reason)) == 1)
        if (zetl_commit_sql_entry (&self->sql, by_source[entry.source], msg, &entry, counts,
                                   &error) < 0) {
            failure->error_text = error;
            return -1;
        }
    if (rc == 0)
        return 0;
    failure->malformed = msg;
    failure->malformed_reason = reason;
    return -1;
}

int
zetl_forward_commit_run (zetl_forward_commit_t *self, zlistx_t *batches,
                         zetl_group_failure_t *failure)
{
    static const zetl_commit_ops_t ops = {s_connect, NULL, s_count_batch, NULL, NULL};
    return zetl_commit_sql_run (&self->sql, batches, &ops, self, failure);
}
