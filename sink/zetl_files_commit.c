/*  zetl_files_commit - one commit of a files target  */
#include "zetl_files_commit.h"
#include "zetl_commit_sql.h"
#include "zetl_files_encode.h"
#include "zetl_files_store.h"
#include "zetl_log.h"
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
    zetl_commit_sql_t sql;  //  pipeline, target, connection, writer (also of temp files)
    zetl_files_compression_t compression;
    const char *suffix;         //  file name suffix
    zetl_files_store_t *store;  //  NULL until the directories could be made
    s_bucket_t *buckets;        //  the current batch's files
    size_t bucket_count;        //  buckets in use
    size_t bucket_capacity;     //  buckets allocated (their buffers kept)
    msgpack_sbuffer packed;     //  a file's compressed bytes
};

zetl_files_commit_t *
zetl_files_commit_new (const zetl_pipeline_t *pipeline, const zetl_target_t *target,
                       const char *conninfo, const char *writer, bool accounts)
{
    zetl_files_commit_t *self = (zetl_files_commit_t *) zmalloc (sizeof (zetl_files_commit_t));
    zetl_commit_sql_init (&self->sql, "files", pipeline, target, conninfo, writer, accounts);
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
        zetl_commit_sql_close (&self->sql);
        free (self);
        *self_p = NULL;
    }
}

void
zetl_files_commit_check_connection (zetl_files_commit_t *self)
{
    zetl_commit_sql_drop_lost (&self->sql);
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
    zetl_files_encode_header (self->sql.pipeline, self->sql.target->format, &bucket->text);
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
                                   self->sql.target->name, reason);
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

//  Stage one batch: each entry above its key's position goes to its day's
//  bucket, dead letters (accounts) to PostgreSQL; the buckets then to temp
//  files. The body is read to its end before anything of it is staged: a
//  malformed body is reported in *FAILURE (zetl_commit_ops_t batch)
static int
s_stage_batch (void *commit, zetl_msg_t *msg, zetl_body_reader_t *reader,
               zetl_commit_key_t **by_source, zetl_commit_counts_t *counts,
               zetl_group_failure_t *failure)
{
    zetl_files_commit_t *self = (zetl_files_commit_t *) commit;
    self->bucket_count = 0;
    zetl_entry_t entry;
    const char *reason = NULL, *data_error = NULL;
    char *error = NULL;
    int rc;
    while ((rc = zetl_body_reader_next (reader, &entry, &reason)) == 1) {
        int verdict = zetl_commit_sql_entry (&self->sql, by_source[entry.source], msg, &entry,
                                             counts, &error);
        if (verdict < 0)
            break;  //  Its dead letter was not written
        if (verdict == 0)
            continue;
        const zetl_pipeline_t *pipeline = self->sql.pipeline;
        int32_t day = zetl_time_days (zetl_files_event_us (pipeline, &entry));
        s_bucket_t *bucket = s_bucket (self, entry.source, day);
        if (zetl_files_encode_row (pipeline, self->sql.target->format, &entry, &bucket->text,
                                   &data_error) != 0)
            break;
        bucket->first = entry.position < bucket->first ? entry.position : bucket->first;
        bucket->last = entry.position > bucket->last ? entry.position : bucket->last;
    }
    if (rc == 1)
        reason = zetl_commit_sql_read_rest (reader);  //  Stopped early: the body must still read
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
        self->store = zetl_files_store_new (self->sql.target->path, self->sql.pipeline->id,
                                            self->sql.writer, error);
        if (!self->store)
            return -1;
    }
    return zetl_commit_sql_connect (&self->sql, error);
}

//  zetl_commit_ops_t connect
static int
s_connect (void *commit, char **error)
{
    return zetl_files_commit_connect ((zetl_files_commit_t *) commit, error);
}

//  Recover every key of the commit from what a crash may have left
static int
s_recover (void *commit, zetl_commit_keys_t *keys, char **error)
{
    zetl_files_commit_t *self = (zetl_files_commit_t *) commit;
    size_t removed = 0;
    for (size_t index = 0; index < keys->count; index++) {
        zetl_commit_key_t *key = keys->keys[index];
        if (zetl_files_store_recover (self->store, key->source, key->partition, key->committed,
                                      key->ranges, &removed, error) != 0)
            return -1;
    }
    if (removed)
        zetl_log_info ("files_writer", "uncommitted_files_removed",
                       json_pack ("{s:s, s:s, s:I}", "writer", self->sql.writer, "target",
                                  self->sql.target->name, "files", (json_int_t) removed));
    return 0;
}

//  Make every staged file visible
static int
s_publish (void *commit, char **error)
{
    return zetl_files_store_publish (((zetl_files_commit_t *) commit)->store, error);
}

//  Committed: forget the intents; else give up what is not published
static void
s_ended (void *commit, int rc)
{
    zetl_files_commit_t *self = (zetl_files_commit_t *) commit;
    if (rc == 0)
        zetl_files_store_settle (self->store);
    else if (self->store)
        zetl_files_store_discard (self->store);
}

int
zetl_files_commit_run (zetl_files_commit_t *self, zlistx_t *batches, zetl_group_failure_t *failure)
{
    static const zetl_commit_ops_t ops = {s_connect, s_recover, s_stage_batch, s_publish, s_ended};
    return zetl_commit_sql_run (&self->sql, batches, &ops, self, failure);
}
