/*  zetl_pg_writer - one PostgreSQL connection of a sink, as an actor  */
#include "zetl_pg_writer.h"
#include "zetl_breaker.h"
#include "zetl_copy.h"
#include "zetl_log.h"
#include "zetl_partition.h"
#include "zetl_pg.h"
#include "zetl_proto.h"
#include "zetl_ranges.h"
#include "zetl_reprocess.h"
#include "zetl_target.h"
#include "zetl_time.h"

#include <inttypes.h>

#define S_BACKOFF_MIN_MS 100
#define S_BACKOFF_MAX_MS 5000
#define S_UPKEEP_MS (3600 * 1000)     //  partition_by_day: partitions ahead, retention, hourly
#define S_UPKEEP_RETRY_MS (60 * 1000) //  and again after a minute when that failed
#define S_AGAIN 1                     //  a transaction to run again: partitions were missing
#define S_ROUNDS 3                    //  runs of one transaction before missing partitions fail it

//  One (source, partition) key touched by a transaction
typedef struct {
    char *source;         //  source name
    uint32_t partition;   //  partition
    int64_t committed;    //  position committed before this transaction
    int64_t highest;      //  highest position this transaction commits
    int64_t request;      //  reprocess request of the source, or 0
    zchunk_t *seqs;       //  its items this transaction commits: "{1,2,3" so far
    zetl_ranges_t *ranges;//  ordered: true: what is committed, out of position order
} s_key_t;

typedef struct {
    zsock_t *pipe;                //  to the sink's loop
    zetl_pg_writer_args_t args;   //  what to write where
    const zetl_pipeline_t *pipeline;
    const zetl_target_t *target;
    PGconn *conn;                 //  NULL while disconnected
    zetl_target_sql_t *sql;       //  statements for the target
    zlistx_t *pending;            //  zetl_msg_t RESULTs waiting for a transaction
    size_t pending_rows;          //  records in pending
    int64_t first_pending_ms;     //  when the oldest pending batch arrived
    zetl_breaker_t breaker;       //  in front of PostgreSQL: open after a failure, for a
                                  //  period doubling with each failed retry
    msgpack_sbuffer copy;         //  COPY data of the transaction being built
    int64_t now_us;               //  wall clock at the start of the transaction: the day window
    int32_t *missing;             //  partition_by_day: days the transaction needs that have no
                                  //  partition yet
    size_t missing_count;         //  entries in missing
    size_t missing_capacity;      //  room in missing
    int64_t next_upkeep_ms;       //  partition_by_day: when partition upkeep is due (mono)
    bool terminated;
} s_writer_t;

static void
s_msg_free (void **item_p)
{
    zetl_msg_destroy ((zetl_msg_t **) item_p);
}

static void
s_disconnect (s_writer_t *self)
{
    zetl_target_sql_destroy (&self->sql);
    if (self->conn)
        PQfinish (self->conn);
    self->conn = NULL;
}

//  Connect and prepare the target; on failure schedule a retry with backoff
static int
s_connect (s_writer_t *self)
{
    char *error = NULL;
    self->conn = zetl_pg_open (self->args.conninfo, &error);
    if (self->conn)
        self->sql = zetl_target_sql_new (self->conn, self->pipeline, self->target, &error);
    if (self->sql) {
        self->next_upkeep_ms = zclock_mono ();  //  At once: partitions ahead, retention
        return 0;
    }
    zetl_log_error ("pg_writer", "pg_unavailable",
                    json_pack ("{s:s, s:s, s:i}", "writer", self->args.writer, "error",
                               error ? error : "could not prepare the target", "failures",
                               (int) self->breaker.failures_total + 1));
    free (error);
    s_disconnect (self);
    return -1;
}

//  PostgreSQL failed (not the data): the breaker opens, and nothing is tried
//  until its period ends
static void
s_schedule_retry (s_writer_t *self)
{
    bool was_closed = zetl_breaker_state (&self->breaker) == ZETL_BREAKER_CLOSED;
    int64_t now = zclock_mono ();
    zetl_breaker_failure (&self->breaker, now);
    if (was_closed)
        zetl_log_warn ("pg_writer", "breaker_opened",
                       json_pack ("{s:s, s:I, s:I}", "writer", self->args.writer, "retry_in_ms",
                                  (json_int_t) zetl_breaker_wait_ms (&self->breaker, now),
                                  "opened_total", (json_int_t) self->breaker.opened_total));
}

//  A transaction committed: a breaker that was open closes
static void
s_succeeded (s_writer_t *self)
{
    if (zetl_breaker_state (&self->breaker) == ZETL_BREAKER_CLOSED)
        return;
    int64_t now = zclock_mono ();
    zetl_breaker_success (&self->breaker, now);
    zetl_log_info ("pg_writer", "breaker_closed",
                   json_pack ("{s:s, s:I, s:I}", "writer", self->args.writer, "open_total_ms",
                              (json_int_t) zetl_breaker_open_total_ms (&self->breaker, now),
                              "failures_total", (json_int_t) self->breaker.failures_total));
}

//  The keys of one transaction: each (source, partition) once, sorted so
//  that every connection locks them in the same order (no deadlocks between
//  connections), and per batch the key of each of its source indexes, so an
//  entry finds its key by index instead of comparing names
typedef struct {
    s_key_t **keys;                 //  sorted by source, then partition
    size_t count;                   //  keys in keys
    size_t capacity;                //  room in keys
    s_key_t ***by_batch;            //  per batch in list order: the key of each source index
    zetl_body_reader_t **readers;   //  per batch in list order: its body's counted reader,
                                    //  names read, entries not yet
    size_t batches;                 //  arrays in by_batch and readers
    zetl_msg_t *malformed;          //  a batch whose source names do not read, or NULL
    const char *malformed_reason;   //  why
} s_keys_t;

static void
s_key_destroy (s_key_t **key_p)
{
    s_key_t *key = *key_p;
    if (key) {
        free (key->source);
        zchunk_destroy (&key->seqs);
        zetl_ranges_destroy (&key->ranges);
        free (key);
        *key_p = NULL;
    }
}

static void
s_keys_destroy (s_keys_t **self_p)
{
    s_keys_t *self = *self_p;
    if (self) {
        for (size_t index = 0; index < self->count; index++)
            s_key_destroy (&self->keys[index]);
        for (size_t batch = 0; batch < self->batches; batch++) {
            free (self->by_batch[batch]);
            zetl_body_reader_destroy (&self->readers[batch]);
        }
        free (self->keys);
        free (self->by_batch);
        free (self->readers);
        free (self);
        *self_p = NULL;
    }
}

//  The key of NAME in PARTITION, added if new. Once per source of a batch,
//  not per entry: a linear search over the transaction's few keys will do
static s_key_t *
s_keys_get (s_keys_t *self, const char *name, uint32_t partition)
{
    for (size_t index = 0; index < self->count; index++) {
        s_key_t *key = self->keys[index];
        if (key->partition == partition && strcmp (key->source, name) == 0)
            return key;
    }
    if (self->count == self->capacity) {
        self->capacity = self->capacity ? self->capacity * 2 : 16;
        self->keys = (s_key_t **) realloc (self->keys, self->capacity * sizeof (s_key_t *));
        assert (self->keys);
    }
    s_key_t *key = (s_key_t *) zmalloc (sizeof (s_key_t));
    key->source = strdup (name);
    key->partition = partition;
    key->committed = -1;
    key->highest = -1;
    zetl_reprocess_parse_source (name, &key->request);
    self->keys[self->count++] = key;
    return key;
}

static int
s_key_compare (const void *a, const void *b)
{
    const s_key_t *left = *(const s_key_t *const *) a, *right = *(const s_key_t *const *) b;
    int order = strcmp (left->source, right->source);
    return order ? order : (left->partition > right->partition) - (left->partition < right->partition);
}

//  Collect the keys of BATCHES, sorted so that every connection locks in the
//  same order, and start the counted reader of each body: staging reads on
//  from where the names end. A body whose names do not read is the one
//  malformed batch reported, and the rest is not collected
static s_keys_t *
s_collect_keys (zlistx_t *batches)
{
    s_keys_t *self = (s_keys_t *) zmalloc (sizeof (s_keys_t));
    self->by_batch = (s_key_t ***) zmalloc ((zlistx_size (batches) + 1) * sizeof (s_key_t **));
    self->readers = (zetl_body_reader_t **) zmalloc ((zlistx_size (batches) + 1)
                                                    * sizeof (zetl_body_reader_t *));
    for (zetl_msg_t *msg = (zetl_msg_t *) zlistx_first (batches); msg;
         msg = (zetl_msg_t *) zlistx_next (batches)) {
        const char *reason = NULL;
        zetl_body_reader_t *reader = zetl_msg_body_reader (msg, &reason);
        if (!reader) {
            self->malformed = msg;
            self->malformed_reason = reason;
            break;
        }
        uint32_t sources = zetl_body_reader_sources (reader);
        s_key_t **by_source = (s_key_t **) zmalloc ((sources + 1) * sizeof (s_key_t *));
        for (uint32_t index = 0; index < sources; index++)
            by_source[index] =
                s_keys_get (self, zetl_body_reader_source_name (reader, index), msg->partition);
        self->readers[self->batches] = reader;
        self->by_batch[self->batches++] = by_source;
    }
    if (self->count)
        qsort (self->keys, self->count, sizeof (s_key_t *), s_key_compare);
    return self;
}

//  Lock every key's offsets row in one statement and read what it has committed
static int
s_lock_keys (s_writer_t *self, s_keys_t *keys)
{
    size_t count = keys->count;
    const char **sources = (const char **) zmalloc ((count + 1) * sizeof (char *));
    uint32_t *partitions = (uint32_t *) zmalloc ((count + 1) * sizeof (uint32_t));
    int64_t *positions = (int64_t *) zmalloc ((count + 1) * sizeof (int64_t));
    char **above = self->pipeline->ordered ? (char **) zmalloc ((count + 1) * sizeof (char *)) : NULL;
    for (size_t index = 0; index < count; index++) {
        sources[index] = keys->keys[index]->source;
        partitions[index] = keys->keys[index]->partition;
    }
    int rc = zetl_target_sql_lock_keys (self->sql, count, sources, partitions, positions, above);
    for (size_t index = 0; rc == 0 && index < count; index++) {
        s_key_t *key = keys->keys[index];
        key->committed = positions[index];
        if (above) {
            key->ranges = zetl_ranges_new (key->committed, above[index]);
            assert (key->ranges);  //  PostgreSQL's own text form
        }
        key->highest = key->committed;
    }
    for (size_t index = 0; above && index < count; index++)
        free (above[index]);  //  NULL when the statement failed
    free (above);
    free (positions);
    free (partitions);
    free (sources);
    return rc;
}

//  Has KEY committed ENTRY already (a replay)? If not, it is this
//  transaction's now. A CHECKPOINT entry only raises the ordered floor.
static bool
s_replayed (s_key_t *key, const zetl_entry_t *entry)
{
    if (key->ranges) {
        if (entry->flags & ZETL_ENTRY_CHECKPOINT) {
            zetl_ranges_raise_floor (key->ranges, (int64_t) entry->position);
            return true;
        }
        if (zetl_ranges_has (key->ranges, entry->position))
            return true;
        zetl_ranges_add (key->ranges, entry->position);
        return false;
    }
    //  At or below what is committed, or staged already in this transaction
    //  (two tries of one batch can meet in one group): a replay, not again.
    //  A partition's positions are dispatched in order, so anything lower
    //  than what this transaction holds is a replay
    if ((int64_t) entry->position <= key->highest || (entry->flags & ZETL_ENTRY_CHECKPOINT))
        return true;
    key->highest = (int64_t) entry->position;
    return false;
}

//  Write where each key stands now, in one statement for the keys that moved
static int
s_set_positions (s_writer_t *self, s_keys_t *keys)
{
    size_t count = 0;
    const char **sources = (const char **) zmalloc ((keys->count + 1) * sizeof (char *));
    uint32_t *partitions = (uint32_t *) zmalloc ((keys->count + 1) * sizeof (uint32_t));
    int64_t *positions = (int64_t *) zmalloc ((keys->count + 1) * sizeof (int64_t));
    const char **added = (const char **) zmalloc ((keys->count + 1) * sizeof (char *));
    for (size_t index = 0; index < keys->count; index++) {
        s_key_t *key = keys->keys[index];
        if (key->ranges) {
            if (!zetl_ranges_added (key->ranges) && zetl_ranges_floor (key->ranges) <= key->committed)
                continue;
            positions[count] = zetl_ranges_floor (key->ranges);
            added[count] = zetl_ranges_added_text (key->ranges);
        }
        else if (key->highest > key->committed)
            positions[count] = key->highest;
        else
            continue;
        sources[count] = key->source;
        partitions[count] = key->partition;
        count++;
    }
    int rc = self->pipeline->ordered
                 ? zetl_target_sql_set_ranges (self->sql, count, sources, partitions, positions,
                                               added)
                 : zetl_target_sql_set_positions (self->sql, count, sources, partitions, positions);
    free (added);
    free (positions);
    free (partitions);
    free (sources);
    return rc;
}

typedef struct {
    int64_t staged;        //  rows copied to the staging table
    int64_t dead;          //  dead letters written
    int64_t deduplicated;  //  duplicates' positions committed
    int64_t changed;       //  rows the upsert changed
} s_counts_t;

//  Remember that item SEQ of KEY's reprocess request commits here
static void
s_note_reprocessed (s_key_t *key, uint64_t seq)
{
    if (!key->seqs)
        key->seqs = zchunk_new (NULL, 256);
    char text[24];
    int len = snprintf (text, sizeof text, "%c%" PRIu64, zchunk_size (key->seqs) ? ',' : '{', seq);
    zchunk_extend (key->seqs, text, (size_t) len);
}

//  Delete the dead letters of the reprocessed records committed here: they
//  are loaded, deduplicated or dead-lettered anew now. *DEAD loses them.
static int
s_resolve_reprocessed (s_writer_t *self, s_keys_t *keys, int64_t *dead)
{
    for (size_t index = 0; index < keys->count; index++) {
        s_key_t *key = keys->keys[index];
        if (!key->seqs)
            continue;
        zchunk_extend (key->seqs, "}", 2);  //  With the NUL
        int64_t deleted = 0;
        if (zetl_target_sql_resolve_reprocessed (self->sql, key->request,
                                                 (const char *) zchunk_data (key->seqs), &deleted)
            != 0)
            return -1;
        *dead -= deleted;
    }
    return 0;
}

//  Why a transaction failed
typedef struct {
    bool data_failure;             //  the data caused it: the batch it is in is refused
    char *error_text;              //  what failed; owned, NULL when MALFORMED
    zetl_msg_t *malformed;         //  a batch whose body does not read, or NULL
    const char *malformed_reason;  //  why it does not, a static string
} s_failure_t;

//  Read the rest of READER's body, acting on nothing. Returns NULL when it
//  comes to a clean end, else why the body is malformed
static const char *
s_read_rest (zetl_body_reader_t *reader)
{
    zetl_entry_t entry;
    const char *reason = NULL;
    int rc;
    while ((rc = zetl_body_reader_next_packed (reader, &entry, &reason)) == 1)
        ;
    return rc == 0 ? NULL : reason;
}

//  The transaction needs DAY's partition: note it when it is not known to exist
static void
s_need_day (s_writer_t *self, zetl_partition_t *partition, int32_t day)
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
s_stage_row (s_writer_t *self, zetl_body_reader_t *reader, s_key_t *key, zetl_msg_t *msg,
             zetl_entry_t *entry, uint64_t lut_gen, s_counts_t *counts, const char **data_error)
{
    zetl_partition_t *partition = zetl_target_sql_partitions (self->sql);
    int32_t day = 0;
    int verdict = partition ? zetl_partition_classify (partition, entry, self->now_us, &day)
                            : ZETL_DAY_IN;
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
                                              msg->attempt, reason,
                                              self->target->partition_by_day, error);
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
s_stage (s_writer_t *self, zlistx_t *batches, s_keys_t *keys, s_counts_t *counts,
         const char **data_error, s_failure_t *failure)
{
    self->copy.size = 0;
    size_t batch = 0;
    for (zetl_msg_t *msg = (zetl_msg_t *) zlistx_first (batches); msg;
         msg = (zetl_msg_t *) zlistx_next (batches), batch++) {
        zetl_body_reader_t *reader = keys->readers[batch];
        s_key_t **by_source = keys->by_batch[batch];
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
            s_key_t *key = by_source[entry.source];
            if (s_replayed (key, &entry))
                continue;
            if (key->request)
                s_note_reprocessed (key, entry.position);
            if (entry.flags & ZETL_ENTRY_DUPLICATE)
                counts->deduplicated++;
            else if (entry.flags & ZETL_ENTRY_DEAD) {
                //  Rare: the dead letter is read as a tree
                zetl_body_reader_build_payload (reader, &entry);
                if (zetl_target_sql_dead_letter (self->sql, key->source, msg->partition, &entry,
                                                 msg->attempt)
                    != 0) {
                    stopped = true;
                    break;
                }
                counts->dead++;
            }
            else if (s_stage_row (self, reader, key, msg, &entry, lut_gen, counts, data_error)
                     != 0) {
                stopped = true;
                break;
            }
        }
        if (stopped)
            reason = s_read_rest (reader);
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
s_transaction_once (s_writer_t *self, zlistx_t *batches, s_failure_t *failure)
{
    memset (failure, 0, sizeof *failure);
    self->missing_count = 0;
    self->now_us = zetl_time_now_us ();
    s_counts_t counts = {0, 0, 0, 0};
    const char *data_error = NULL;
    s_keys_t *keys = s_collect_keys (batches);
    if (keys->malformed) {
        //  Before anything is sent
        failure->malformed = keys->malformed;
        failure->malformed_reason = keys->malformed_reason;
        s_keys_destroy (&keys);
        return -1;
    }
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
    if (counts.staged > 0
        && (zetl_target_sql_copy (self->sql, self->copy.data, self->copy.size) != 0
            || zetl_target_sql_upsert (self->sql, &counts.changed) != 0))
        goto cleanup;
    if (s_resolve_reprocessed (self, keys, &counts.dead) != 0)
        goto cleanup;
    if (s_set_positions (self, keys) != 0)
        goto cleanup;
    if (zetl_target_sql_add_stats (self->sql, self->args.writer, counts.changed,
                                   counts.staged - counts.changed, counts.dead, counts.deduplicated)
        != 0)
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
    s_keys_destroy (&keys);
    return rc;
}

//  One transaction for BATCHES, run again when day partitions it needs had
//  to be created first. Returns 0 committed, or -1 with *FAILURE saying why
static int
s_transaction (s_writer_t *self, zlistx_t *batches, s_failure_t *failure)
{
    for (int round = 0; round < S_ROUNDS; round++) {
        int rc = s_transaction_once (self, batches, failure);
        if (rc != S_AGAIN)
            return rc;
        char *error = NULL;
        if (zetl_partition_create (zetl_target_sql_partitions (self->sql), self->missing,
                                   self->missing_count, &error)
            != 0) {
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

//  partition_by_day: create the next days' partitions and drop the expired
//  ones, when due
static void
s_upkeep (s_writer_t *self)
{
    zetl_partition_t *partition = self->sql ? zetl_target_sql_partitions (self->sql) : NULL;
    if (!partition || zclock_mono () < self->next_upkeep_ms)
        return;
    char *error = NULL;
    if (zetl_partition_maintain (partition, zetl_time_now_us (), &error) == 0) {
        self->next_upkeep_ms = zclock_mono () + S_UPKEEP_MS;
        return;
    }
    zetl_log_warn ("pg_writer", "partition_upkeep_failed",
                   json_pack ("{s:s, s:s, s:s, s:i}", "writer", self->args.writer, "table",
                              self->target->table, "error", error, "retry_in_ms",
                              S_UPKEEP_RETRY_MS));
    free (error);
    self->next_upkeep_ms = zclock_mono () + S_UPKEEP_RETRY_MS;
    if (PQstatus (self->conn) != CONNECTION_OK)
        s_disconnect (self);
}

static void
s_reply_done (s_writer_t *self, zetl_msg_t *msg)
{
    zsock_send (self->pipe, "s84s", "DONE", msg->batch_id, msg->count, "");
}

//  MSG's body is malformed: it is dropped, never committed nor answered, and
//  comes back after the batch's deadline. The sink's loop logs it as a
//  malformed frame, as it does frames that do not decode
static void
s_reply_dropped (s_writer_t *self, zetl_msg_t *msg, const char *reason)
{
    zsock_send (self->pipe, "s84s", "DROPPED", msg->batch_id, msg->count, reason);
}

//  Write every pending batch; on a data failure of a group, write its
//  batches one by one so only the bad batch is refused. A batch whose body
//  is malformed is dropped, and the others are written again without it
static void
s_flush (s_writer_t *self)
{
    if (!zetl_breaker_allow (&self->breaker, zclock_mono ()))
        return;  //  Open: s_wait_ms says when to come back
    if (!self->conn && s_connect (self) != 0) {
        s_schedule_retry (self);
        return;
    }
    s_failure_t failure;
    int rc;
    while ((rc = s_transaction (self, self->pending, &failure)) != 0 && failure.malformed) {
        s_reply_dropped (self, failure.malformed, failure.malformed_reason);
        void *handle = zlistx_find (self->pending, failure.malformed);
        assert (handle);
        uint32_t count = failure.malformed->count;
        zlistx_delete (self->pending, handle);  //  Destroys it
        self->pending_rows = self->pending_rows > count ? self->pending_rows - count : 0;
        if (zlistx_size (self->pending) == 0) {
            s_succeeded (self);  //  PostgreSQL was not at fault
            return;
        }
    }
    if (rc == 0) {
        for (zetl_msg_t *msg = (zetl_msg_t *) zlistx_first (self->pending); msg;
             msg = (zetl_msg_t *) zlistx_next (self->pending))
            s_reply_done (self, msg);
        zlistx_purge (self->pending);
        self->pending_rows = 0;
        s_succeeded (self);
        return;
    }
    if (!failure.data_failure) {
        zetl_log_warn ("pg_writer", "transaction_failed",
                       json_pack ("{s:s, s:s, s:i}", "writer", self->args.writer, "error",
                                  failure.error_text, "batches",
                                  (int) zlistx_size (self->pending)));
        free (failure.error_text);
        if (PQstatus (self->conn) != CONNECTION_OK)
            s_disconnect (self);
        s_schedule_retry (self);
        return;
    }
    free (failure.error_text);
    s_succeeded (self);  //  PostgreSQL answered: the data is at fault, not the server
    //  Find the batch the data error is in
    zlistx_t *single = zlistx_new ();
    zetl_msg_t *msg;
    while ((msg = (zetl_msg_t *) zlistx_detach (self->pending, NULL))) {
        zlistx_add_end (single, msg);
        if (s_transaction (self, single, &failure) == 0)
            s_reply_done (self, msg);
        else if (failure.malformed)
            s_reply_dropped (self, msg, failure.malformed_reason);
        else if (failure.data_failure) {
            zetl_log_warn ("pg_writer", "batch_refused",
                           json_pack ("{s:s, s:I, s:s}", "writer", self->args.writer, "batch",
                                      (json_int_t) msg->batch_id, "error", failure.error_text));
            zsock_send (self->pipe, "s84s", "FAILED", msg->batch_id, msg->count,
                        failure.error_text);
        }
        else {
            //  The environment failed meanwhile: keep this and the rest for the retry
            zlistx_add_start (self->pending, msg);
            zlistx_detach (single, NULL);
            free (failure.error_text);
            s_schedule_retry (self);
            break;
        }
        free (failure.error_text);
        zlistx_detach (single, NULL);
        zetl_msg_destroy (&msg);
    }
    zlistx_destroy (&single);
    self->pending_rows = 0;
    for (msg = (zetl_msg_t *) zlistx_first (self->pending); msg;
         msg = (zetl_msg_t *) zlistx_next (self->pending))
        self->pending_rows += msg->count;
}

static void
s_handle_command (s_writer_t *self)
{
    char *command = NULL;
    void *pointer = NULL;
    if (zsock_recv (self->pipe, "sp", &command, &pointer) != 0) {
        self->terminated = true;
        return;
    }
    if (streq (command, "$TERM"))
        self->terminated = true;
    else if (streq (command, "BATCH")) {
        zetl_msg_t *msg = (zetl_msg_t *) pointer;
        if (zlistx_size (self->pending) == 0)
            self->first_pending_ms = zclock_mono ();
        self->pending_rows += msg->count;
        zlistx_add_end (self->pending, msg);
    }
    else
        assert (false);  //  Unknown command on an internal pipe
    free (command);
}

//  How long to wait for more work before flushing
static int
s_flush_wait_ms (s_writer_t *self)
{
    if (zlistx_size (self->pending) == 0)
        return -1;
    int64_t now = zclock_mono ();
    if (zetl_breaker_state (&self->breaker) != ZETL_BREAKER_CLOSED) {
        int64_t wait = zetl_breaker_wait_ms (&self->breaker, now);
        return wait > 0 ? (int) wait : 0;
    }
    if ((int64_t) self->pending_rows >= self->target->sink_batch_rows)
        return 0;
    int64_t due = self->first_pending_ms + self->target->sink_linger_ms;
    return due > now ? (int) (due - now) : 0;
}

//  How long to sleep: until a flush or the partition upkeep is due
static int
s_wait_ms (s_writer_t *self)
{
    int wait = s_flush_wait_ms (self);
    if (!self->sql || !zetl_target_sql_partitions (self->sql))
        return wait;
    int64_t due = self->next_upkeep_ms - zclock_mono ();
    int upkeep = due <= 0 ? 0 : due > INT32_MAX ? INT32_MAX : (int) due;
    return wait < 0 || upkeep < wait ? upkeep : wait;
}

void
zetl_pg_writer_actor (zsock_t *pipe, void *args)
{
    s_writer_t self_data, *self = &self_data;
    memset (self, 0, sizeof *self);
    self->pipe = pipe;
    self->args = *(zetl_pg_writer_args_t *) args;
    self->pipeline = &self->args.config->pipelines[self->args.pipeline];
    self->target = &self->pipeline->targets[self->args.target];
    self->pending = zlistx_new ();
    zlistx_set_destructor (self->pending, s_msg_free);
    msgpack_sbuffer_init (&self->copy);
    zetl_breaker_config_t breaker = {1, S_BACKOFF_MIN_MS, S_BACKOFF_MAX_MS};
    zetl_breaker_init (&self->breaker, &breaker);
    zsock_signal (pipe, 0);
    if (s_connect (self) != 0)
        s_schedule_retry (self);

    zpoller_t *poller = zpoller_new (pipe, NULL);
    while (!self->terminated) {
        int wait_ms = s_wait_ms (self);
        if (wait_ms != 0) {
            void *which = zpoller_wait (poller, wait_ms);
            if (which == pipe) {
                s_handle_command (self);
                continue;  //  Drain every queued batch before deciding to flush
            }
            if (zpoller_terminated (poller))
                break;
        }
        if (zlistx_size (self->pending) > 0 && s_flush_wait_ms (self) == 0)
            s_flush (self);
        s_upkeep (self);
    }
    zpoller_destroy (&poller);
    msgpack_sbuffer_destroy (&self->copy);
    free (self->missing);
    zlistx_destroy (&self->pending);
    s_disconnect (self);
}
