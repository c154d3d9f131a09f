/*  zetl_pg_transaction - one sink transaction of a PostgreSQL target  */
#include "zetl_pg_transaction.h"
#include "zetl_commit_sql.h"
#include "zetl_copy.h"
#include "zetl_partition.h"
#include "zetl_pg.h"
#include "zetl_time.h"

#include <inttypes.h>

#define S_AGAIN 1   //  a transaction to run again: partitions were missing
#define S_ROUNDS 3  //  runs of one transaction before missing partitions fail it

struct zetl_pg_transaction {
    const zetl_pipeline_t *pipeline;
    const zetl_target_t *target;
    const char *writer;       //  the writer's name in zetl_stats, borrowed
    PGconn *conn;             //  the run's connection, borrowed
    zetl_target_sql_t *sql;   //  the run's statements for the target, borrowed
    msgpack_sbuffer copy;     //  COPY data of the transaction being built
    int64_t now_us;           //  wall clock at the start of the transaction: the day window
    int32_t *missing;         //  partition_by_day: days the transaction needs that have no
                              //  partition yet
    size_t missing_count;     //  entries in missing
    size_t missing_capacity;  //  room in missing
};

zetl_pg_transaction_t *
zetl_pg_transaction_new (const zetl_pipeline_t *pipeline, const zetl_target_t *target,
                         const char *writer)
{
    zetl_pg_transaction_t *self =
        (zetl_pg_transaction_t *) zmalloc (sizeof (zetl_pg_transaction_t));
    self->pipeline = pipeline;
    self->target = target;
    self->writer = writer;
    msgpack_sbuffer_init (&self->copy);
    return self;
}

void
zetl_pg_transaction_destroy (zetl_pg_transaction_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_pg_transaction_t *self = *self_p;
        msgpack_sbuffer_destroy (&self->copy);
        free (self->missing);
        free (self);
        *self_p = NULL;
    }
}

typedef struct {
    int64_t staged;        //  rows copied to the staging table
    int64_t dead;          //  dead letters written
    int64_t deduplicated;  //  duplicates' positions committed
    int64_t changed;       //  rows the upsert changed
} s_counts_t;

//  Lock every key's offsets row in one statement and read what it has committed
static int
s_lock_keys (zetl_pg_transaction_t *self, zetl_commit_keys_t *keys)
{
    zetl_commit_keys_columns (keys, self->pipeline->ordered);
    int rc = 0;
    if (self->pipeline->acknowledgements)
        rc = zetl_target_sql_lock_keys (self->sql, keys->count, keys->sources, keys->partitions,
                                        keys->positions, keys->above);
    else  //  No positions kept: nothing counts as committed before
        for (size_t index = 0; index < keys->count; index++)
            keys->positions[index] = -1;
    if (rc == 0)
        zetl_commit_keys_locked (keys);
    return rc;
}

//  Write where each key stands now, in one statement for the keys that moved
static int
s_set_positions (zetl_pg_transaction_t *self, zetl_commit_keys_t *keys)
{
    size_t count = zetl_commit_keys_moved (keys);
    if (!self->pipeline->acknowledgements)
        return 0;
    return self->pipeline->ordered
               ? zetl_target_sql_set_ranges (self->sql, count, keys->sources, keys->partitions,
                                             keys->positions, keys->added)
               : zetl_target_sql_set_positions (self->sql, count, keys->sources, keys->partitions,
                                                keys->positions);
}

//  Delete the dead letters of reprocess REQUEST's items SEQS through SQL
//  (a zetl_target_sql_t), which keeps the error (zetl_commit_resolve_fn)
static int
s_resolve (void *sql, int64_t request, const char *seqs, int64_t *deleted)
{
    return zetl_target_sql_resolve_reprocessed ((zetl_target_sql_t *) sql, request, seqs, deleted);
}

//  The transaction needs DAY's partition: note it when it is not known to exist
static void
s_need_day (zetl_pg_transaction_t *self, zetl_partition_t *partition, int32_t day)
{
    if (zetl_partition_known (partition, day))
        return;
    for (size_t index = 0; index < self->missing_count; index++)
        if (self->missing[index] == day)
            return;
    if (self->missing_count == self->missing_capacity) {
        self->missing_capacity = self->missing_capacity ? self->missing_capacity * 2 : 16;
        self->missing =
            (int32_t *) realloc (self->missing, self->missing_capacity * sizeof (int32_t));
        assert (self->missing);
    }
    self->missing[self->missing_count++] = day;
}

//  Stage output row ENTRY of KEY: its COPY line, or, on a day-partitioned
//  target, a dead letter when its day is outside the window (written in this
//  transaction with the positions, and counted as dead-lettered like every
//  other). Returns 0, or -1 when it failed (*DATA_ERROR set when the row is
//  at fault)
static int
s_stage_row (zetl_pg_transaction_t *self, zetl_body_reader_t *reader, zetl_commit_key_t *key,
             zetl_msg_t *msg, zetl_entry_t *entry, uint64_t lut_gen, s_counts_t *counts,
             const char **data_error)
{
    zetl_partition_t *partition = zetl_target_sql_partitions (self->sql);
    int32_t day = 0;
    int verdict =
        partition ? zetl_partition_classify (partition, entry, self->now_us, &day) : ZETL_DAY_IN;
    if (verdict == ZETL_DAY_IN || verdict < 0) {
        //  A row that does not read fails here, with the reason
        if (zetl_copy_row_packed (self->pipeline, entry, lut_gen, &self->copy, data_error) != 0)
            return -1;
        if (partition)
            s_need_day (self, partition, day);
        counts->staged++;
        return 0;
    }
    const char *reason = verdict == ZETL_DAY_PAST     ? "past_retention"
                         : verdict == ZETL_DAY_FUTURE ? "future"
                                                      : "no_day";
    char date[40] = "", *error;
    int32_t first, last;
    zetl_partition_window (partition, self->now_us, &first, &last);
    if (verdict == ZETL_DAY_NONE)
        error = zsys_sprintf ("%s is null: a day-partitioned table has no partition for it",
                              self->target->partition_by_day);
    else {
        zetl_time_format_date (day, date, sizeof date);
        char bound[40];
        zetl_time_format_date (verdict == ZETL_DAY_PAST ? first : last, bound, sizeof bound);
        error = zsys_sprintf (verdict == ZETL_DAY_PAST
                                  ? "day %s is older than the retention window (oldest day kept %s)"
                                  : "day %s is later than max_future allows (latest day %s)",
                              date, bound);
    }
    //  Rare: the row is read as a tree for its raw JSON
    zetl_body_reader_build_payload (reader, entry);
    int rc = zetl_target_sql_dead_letter_row (self->sql, key->source, msg->partition, entry,
                                              msg->attempt, reason, self->target->partition_by_day,
                                              error);
    free (error);
    if (rc == 0)
        counts->dead++;
    return rc;
}

//  Walk the batches: stage rows above their key's position, write dead
//  letters. Each body is read once, to its end, by its counted reader, and
//  that read is its check: a body that turns out malformed is reported in
//  *FAILURE, and nothing staged with it may be committed. A batch that fails
//  for its data is read to its end all the same: a malformed body is dropped,
//  never refused for its data
static int
s_stage (zetl_pg_transaction_t *self, zlistx_t *batches, zetl_commit_keys_t *keys,
         s_counts_t *counts, const char **data_error, zetl_group_failure_t *failure)
{
    self->copy.size = 0;
    size_t batch = 0;
    for (zetl_msg_t *msg = (zetl_msg_t *) zlistx_first (batches); msg;
         msg = (zetl_msg_t *) zlistx_next (batches), batch++) {
        zetl_body_reader_t *reader = keys->readers[batch];
        zetl_commit_key_t **by_source = keys->by_batch[batch];
        assert (reader && by_source);
        zetl_entry_t entry;
        //  The row's zetl_lut_gen: the newest lookup-table version its batch used
        uint64_t lut_gen = 0;
        for (uint32_t step = 0; step < msg->lut_count; step++)
            lut_gen = msg->luts[step] > lut_gen ? msg->luts[step] : lut_gen;
        const char *reason = NULL;
        bool stopped = false;  //  something failed before the end of this body
        int rc;
        while ((rc = zetl_body_reader_next_packed (reader, &entry, &reason)) == 1) {
            //  The reader checked the source index against the names
            assert (entry.source < zetl_body_reader_sources (reader));
            zetl_commit_key_t *key = by_source[entry.source];
            if (zetl_commit_key_replayed (key, &entry))
                continue;
            if (key->request)
                zetl_commit_key_note_reprocessed (key, entry.position);
            if (entry.flags & ZETL_ENTRY_DUPLICATE)
                counts->deduplicated++;
            else if (entry.flags & ZETL_ENTRY_DEAD) {
                //  Rare: the dead letter is read as a tree
                zetl_body_reader_build_payload (reader, &entry);
                if (zetl_target_sql_dead_letter (self->sql, key->source, msg->partition, &entry,
                                                 msg->attempt) != 0) {
                    stopped = true;
                    break;
                }
                counts->dead++;
            }
            else if (s_stage_row (self, reader, key, msg, &entry, lut_gen, counts, data_error) !=
                     0) {
                stopped = true;
                break;
            }
        }
        if (stopped)
            reason = zetl_commit_sql_read_rest (reader);
        else if (rc == 0)
            reason = NULL;
        if (reason) {
            failure->malformed = msg;
            failure->malformed_reason = reason;
            return -1;
        }
        if (stopped)
            return -1;
    }
    return 0;
}

//  One transaction for BATCHES. Returns 0 committed, -1 failed (rolled back
//  when it had begun), with *FAILURE saying why, or S_AGAIN, rolled back,
//  when day partitions it needs are missing (self->missing)
static int
s_transaction_once (zetl_pg_transaction_t *self, zlistx_t *batches, zetl_group_failure_t *failure)
{
    memset (failure, 0, sizeof *failure);
    self->missing_count = 0;
    self->now_us = zetl_time_now_us ();
    s_counts_t counts = {0, 0, 0, 0};
    const char *data_error = NULL;
    zetl_commit_keys_t *keys = zetl_commit_sql_collect (batches, failure);
    if (!keys)
        return -1;  //  Before anything is sent
    int rc = -1;
    zetl_target_sql_clear_error (self->sql);
    if (zetl_pg_exec (self->conn, "BEGIN", "begin") != 0 || s_lock_keys (self, keys) != 0)
        goto cleanup;
    if (s_stage (self, batches, keys, &counts, &data_error, failure) != 0)
        goto cleanup;
    if (self->missing_count > 0) {
        //  DDL never runs inside a sink transaction: it would hold the
        //  table's lock for the whole transaction, and wait for the other
        //  connection's. Roll back, create, run again
        rc = S_AGAIN;
        goto cleanup;
    }
    if (counts.staged > 0 &&
        (zetl_target_sql_copy (self->sql, self->copy.data, self->copy.size) != 0 ||
         zetl_target_sql_upsert (self->sql, &counts.changed) != 0))
        goto cleanup;
    if (zetl_commit_sql_resolve_each (keys, s_resolve, self->sql, &counts.dead) != 0)
        goto cleanup;
    if (s_set_positions (self, keys) != 0)
        goto cleanup;
    if (zetl_target_sql_add_stats (self->sql, self->writer, counts.changed,
                                   counts.staged - counts.changed, counts.dead,
                                   counts.deduplicated) != 0)
        goto cleanup;
    rc = zetl_pg_exec (self->conn, "COMMIT", "commit");
cleanup:
    if (rc != 0) {
        if (!failure->malformed && rc != S_AGAIN) {
            const char *state = zetl_target_sql_last_state (self->sql);
            failure->data_failure = data_error != NULL || zetl_pg_sqlstate_is_data (state);
            failure->error_text =
                strdup (data_error ? data_error : zetl_target_sql_last_error (self->sql));
        }
        if (PQstatus (self->conn) == CONNECTION_OK)
            zetl_pg_exec (self->conn, "ROLLBACK", "rollback");
    }
    zetl_commit_keys_destroy (&keys);
    return rc;
}

int
zetl_pg_transaction_run (zetl_pg_transaction_t *self, PGconn *conn, zetl_target_sql_t *sql,
                         zlistx_t *batches, zetl_group_failure_t *failure)
{
    self->conn = conn;
    self->sql = sql;
    for (int round = 0; round < S_ROUNDS; round++) {
        int rc = s_transaction_once (self, batches, failure);
        if (rc != S_AGAIN)
            return rc;
        char *error = NULL;
        if (zetl_partition_create (zetl_target_sql_partitions (self->sql), self->missing,
                                   self->missing_count, &error) != 0) {
            failure->error_text = error;  //  Not the data's fault: retried with backoff
            return -1;
        }
    }
    //  Created, and gone again before they were used, S_ROUNDS times
    failure->error_text = zsys_sprintf ("day partitions of table %s keep disappearing; is "
                                        "something else dropping them?",
                                        self->target->table);
    return -1;
}
