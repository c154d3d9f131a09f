/*  zetl_files_commit - one commit of a files target  */
#include "zetl_files_commit.h"
#include "zetl_accounts.h"
#include "zetl_commit_keys.h"
#include "zetl_files_encode.h"
#include "zetl_files_store.h"
#include "zetl_log.h"
#include "zetl_offsets.h"
#include "zetl_pg.h"
#include "zetl_reprocess.h"
#include "zetl_time.h"

#include <inttypes.h>

//  The rows of one batch for one (source, day): one file
typedef struct {
    uint32_t source;       //  source index in the batch's body
    int32_t day;           //  days since the epoch
    uint64_t first;        //  lowest position in it
    uint64_t last;         //  highest
    msgpack_sbuffer text;  //  the file's text, uncompressed
} s_bucket_t;

struct zetl_files_commit {
    const zetl_pipeline_t *pipeline;
    const zetl_target_t *target;
    const char *conninfo;  //  PostgreSQL connection string, borrowed
    const char *writer;    //  the writer's name (zetl_stats, temp files), borrowed
    bool accounts;         //  no PostgreSQL target: write dead letters and counters
    zetl_files_compression_t compression;
    const char *suffix;         //  file name suffix
    PGconn *conn;               //  NULL while disconnected
    zetl_files_store_t *store;  //  NULL until the directories could be made
    s_bucket_t *buckets;        //  the current batch's files
    size_t bucket_count;        //  buckets in use
    size_t bucket_capacity;     //  buckets allocated (their buffers kept)
    msgpack_sbuffer packed;     //  a file's compressed bytes
};

typedef struct {
    int64_t written;       //  rows written to files
    int64_t dead;          //  dead letters (accounts)
    int64_t deduplicated;  //  duplicates' positions committed
    size_t files;          //  files published
} s_counts_t;

zetl_files_commit_t *
zetl_files_commit_new (const zetl_pipeline_t *pipeline, const zetl_target_t *target,
                       const char *conninfo, const char *writer, bool accounts)
{
    zetl_files_commit_t *self = (zetl_files_commit_t *) zmalloc (sizeof (zetl_files_commit_t));
    self->pipeline = pipeline;
    self->target = target;
    self->conninfo = conninfo;
    self->writer = writer;
    self->accounts = accounts;
    self->compression = zetl_files_compression (target->compression);
    self->suffix = zetl_files_suffix (target->format, self->compression);
    msgpack_sbuffer_init (&self->packed);
    return self;
}

void
zetl_files_commit_destroy (zetl_files_commit_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_files_commit_t *self = *self_p;
        for (size_t index = 0; index < self->bucket_capacity; index++)
            msgpack_sbuffer_destroy (&self->buckets[index].text);
        free (self->buckets);
        msgpack_sbuffer_destroy (&self->packed);
        zetl_files_store_destroy (&self->store);
        if (self->conn)
            PQfinish (self->conn);
        free (self);
        *self_p = NULL;
    }
}

void
zetl_files_commit_check_connection (zetl_files_commit_t *self)
{
    if (self->conn && PQstatus (self->conn) != CONNECTION_OK) {
        PQfinish (self->conn);
        self->conn = NULL;
    }
}

//  ---------------------------------------------------------------------
//  SQL: every value a parameter

//  Check RES of the statement WHAT: 0, or -1 with *ERROR set (caller owns
//  it) and RES cleared
static int
s_check (zetl_files_commit_t *self, PGresult *res, const char *what, char **error)
{
    ExecStatusType status = PQresultStatus (res);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        return 0;
    char *text =
        zsys_sprintf ("%s for files target %s (SQL state %s): %s", what, self->target->name,
                      zetl_pg_sqlstate (res), PQerrorMessage (self->conn));
    size_t len = strlen (text);
    while (len && text[len - 1] == '\n')
        text[--len] = 0;
    *error = text;
    PQclear (res);
    return -1;
}

//  Check and clear RES of the statement WHAT: 0, or -1 with *ERROR set
static int
s_check_clear (zetl_files_commit_t *self, PGresult *res, const char *what, char **error)
{
    if (s_check (self, res, what, error) != 0)
        return -1;
    PQclear (res);
    return 0;
}

static int
s_exec_plain (zetl_files_commit_t *self, const char *sql, char **error)
{
    return s_check_clear (self, PQexec (self->conn, sql), sql, error);
}

//  Lock every key's zetl_offsets row (made at -1 when missing) in one
//  statement, in the keys' order, and read what each has committed
static int
s_lock_keys (zetl_files_commit_t *self, zetl_commit_keys_t *keys, char **error)
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
        *error = zsys_sprintf ("lock positions for files target %s: %d rows for %zu keys",
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
s_set_positions (zetl_files_commit_t *self, zetl_commit_keys_t *keys, char **error)
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

//  Accounts: write ENTRY (a dead letter) to zetl_dead_letters, its columns
//  as a PostgreSQL target writes them
static int
s_dead_letter (zetl_files_commit_t *self, const char *source, uint32_t partition,
               const zetl_entry_t *entry, uint32_t attempts, char **error)
{
    return s_check_clear (self,
                          zetl_accounts_dead_letter (self->conn, self->pipeline->id,
                                                     self->target->name, source, partition, entry,
                                                     attempts),
                          "write dead letter", error);
}

//  Accounts: add this commit's counters to zetl_stats
static int
s_add_stats (zetl_files_commit_t *self, const s_counts_t *counts, char **error)
{
    return s_check_clear (
        self,
        zetl_accounts_add_stats (self->conn, self->pipeline->id, self->target->name, self->writer,
                                 counts->written, 0, counts->dead, counts->deduplicated),
        "add counters", error);
}

//  Accounts: delete the dead letters of the reprocessed records committed
//  here (loaded, deduplicated or dead-lettered anew now). *DEAD loses them
static int
s_resolve_reprocessed (zetl_files_commit_t *self, zetl_commit_keys_t *keys, int64_t *dead,
                       char **error)
{
    for (size_t index = 0; index < keys->count; index++) {
        zetl_commit_key_t *key = keys->keys[index];
        const char *seqs = zetl_commit_key_seqs (key);
        if (!seqs)
            continue;
        PGresult *res = zetl_reprocess_resolve (self->conn, self->pipeline->id, self->target->name,
                                                key->request, seqs);
        if (PQresultStatus (res) != PGRES_COMMAND_OK) {
            *error = zsys_sprintf ("delete reprocessed dead letters for files target %s: %s",
                                   self->target->name, PQerrorMessage (self->conn));
            PQclear (res);
            return -1;
        }
        *dead -= atoll (PQcmdTuples (res));
        PQclear (res);
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Staging

//  The bucket of (SOURCE, DAY) in the current batch, started if new
static s_bucket_t *
s_bucket (zetl_files_commit_t *self, uint32_t source, int32_t day)
{
    for (size_t index = self->bucket_count; index-- > 0;) {
        s_bucket_t *bucket = &self->buckets[index];
        if (bucket->day == day && bucket->source == source)
            return bucket;
    }
    if (self->bucket_count == self->bucket_capacity) {
        size_t capacity = self->bucket_capacity ? 2 * self->bucket_capacity : 16;
        self->buckets = (s_bucket_t *) realloc (self->buckets, capacity * sizeof (s_bucket_t));
        assert (self->buckets);
        for (size_t index = self->bucket_capacity; index < capacity; index++)
            msgpack_sbuffer_init (&self->buckets[index].text);
        self->bucket_capacity = capacity;
    }
    s_bucket_t *bucket = &self->buckets[self->bucket_count++];
    bucket->source = source;
    bucket->day = day;
    bucket->first = UINT64_MAX;
    bucket->last = 0;
    bucket->text.size = 0;
    zetl_files_encode_header (self->pipeline, self->target->format, &bucket->text);
    return bucket;
}

//  Write the current batch's buckets to temp files (MSG's, READER's names)
static int
s_stage_buckets (zetl_files_commit_t *self, zetl_body_reader_t *reader, zetl_msg_t *msg,
                 char **error)
{
    for (size_t index = 0; index < self->bucket_count; index++) {
        s_bucket_t *bucket = &self->buckets[index];
        self->packed.size = 0;
        const char *reason = NULL;
        if (zetl_files_compress (self->compression, bucket->text.data, bucket->text.size,
                                 &self->packed, &reason) != 0) {
            *error = zsys_sprintf ("cannot compress a file of files target %s: %s",
                                   self->target->name, reason);
            return -1;
        }
        if (zetl_files_store_stage (self->store,
                                    zetl_body_reader_source_name (reader, bucket->source),
                                    msg->partition, bucket->day, bucket->first, bucket->last,
                                    self->suffix, self->packed.data, self->packed.size, error) != 0)
            return -1;
    }
    self->bucket_count = 0;
    return 0;
}

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

//  Stage one batch: each entry above its key's position goes to its day's
//  bucket, dead letters (accounts) to PostgreSQL; the buckets then to temp
//  files. The body is read to its end before anything of it is staged: a
//  malformed body is reported in *FAILURE
static int
s_stage_batch (zetl_files_commit_t *self, zetl_msg_t *msg, zetl_body_reader_t *reader,
               zetl_commit_key_t **by_source, s_counts_t *counts, zetl_group_failure_t *failure)
{
    self->bucket_count = 0;
    zetl_entry_t entry;
    const char *reason = NULL, *data_error = NULL;
    char *error = NULL;
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
            if (self->accounts && s_dead_letter (self, key->source, msg->partition, &entry,
                                                 msg->attempt, &error) != 0)
                break;
            counts->dead++;
        }
        else {
            int32_t day = zetl_time_days (zetl_files_event_us (self->pipeline, &entry));
            s_bucket_t *bucket = s_bucket (self, entry.source, day);
            if (zetl_files_encode_row (self->pipeline, self->target->format, &entry, &bucket->text,
                                       &data_error) != 0)
                break;
            bucket->first = entry.position < bucket->first ? entry.position : bucket->first;
            bucket->last = entry.position > bucket->last ? entry.position : bucket->last;
            counts->written++;
        }
    }
    if (rc == 1)
        reason = s_read_rest (reader);  //  Stopped early: the body must still read
    else if (rc == 0)
        reason = NULL;
    if (reason) {
        free (error);
        failure->malformed = msg;
        failure->malformed_reason = reason;
        return -1;
    }
    if (data_error) {
        failure->data_failure = true;
        failure->error_text = zsys_sprintf ("batch %" PRIu64 ": %s", msg->batch_id, data_error);
        return -1;
    }
    if (error || s_stage_buckets (self, reader, msg, &error) != 0) {
        failure->error_text = error;
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  One commit

int
zetl_files_commit_connect (zetl_files_commit_t *self, char **error)
{
    if (!self->store) {
        self->store =
            zetl_files_store_new (self->target->path, self->pipeline->id, self->writer, error);
        if (!self->store)
            return -1;
    }
    if (!self->conn)
        self->conn = zetl_pg_open (self->conninfo, error);
    return self->conn ? 0 : -1;
}

//  Recover every key of the commit from what a crash may have left
static int
s_recover (zetl_files_commit_t *self, zetl_commit_keys_t *keys, char **error)
{
    size_t removed = 0;
    for (size_t index = 0; index < keys->count; index++) {
        zetl_commit_key_t *key = keys->keys[index];
        if (zetl_files_store_recover (self->store, key->source, key->partition, key->committed,
                                      key->ranges, &removed, error) != 0)
            return -1;
    }
    if (removed)
        zetl_log_info ("files_writer", "uncommitted_files_removed",
                       json_pack ("{s:s, s:s, s:I}", "writer", self->writer, "target",
                                  self->target->name, "files", (json_int_t) removed));
    return 0;
}

int
zetl_files_commit_run (zetl_files_commit_t *self, zlistx_t *batches, zetl_group_failure_t *failure)
{
    memset (failure, 0, sizeof *failure);
    s_counts_t counts = {0, 0, 0, 0};
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
    if (zetl_files_commit_connect (self, &error) != 0 || s_exec_plain (self, "BEGIN", &error) != 0)
        goto cleanup;
    begun = true;
    if (s_lock_keys (self, keys, &error) != 0 || s_recover (self, keys, &error) != 0)
        goto cleanup;
    size_t batch = 0;
    for (zetl_msg_t *msg = (zetl_msg_t *) zlistx_first (batches); msg;
         msg = (zetl_msg_t *) zlistx_next (batches), batch++)
        if (s_stage_batch (self, msg, keys->readers[batch], keys->by_batch[batch], &counts,
                           failure) != 0)
            goto cleanup;
    counts.files = zetl_files_store_staged (self->store);
    if (zetl_files_store_publish (self->store, &error) != 0 ||
        s_set_positions (self, keys, &error) != 0)
        goto cleanup;
    if (self->accounts && (s_resolve_reprocessed (self, keys, &counts.dead, &error) != 0 ||
                           s_add_stats (self, &counts, &error) != 0))
        goto cleanup;
    rc = s_exec_plain (self, "COMMIT", &error);
cleanup:
    if (rc == 0)
        zetl_files_store_settle (self->store);
    else {
        if (self->store)
            zetl_files_store_discard (self->store);
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
