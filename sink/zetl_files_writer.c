/*  zetl_files_writer - one files target of a pipeline in a sink, as an actor  */
#include "zetl_files_writer.h"
#include "zetl_breaker.h"
#include "zetl_files_encode.h"
#include "zetl_files_store.h"
#include "zetl_log.h"
#include "zetl_pg.h"
#include "zetl_proto.h"
#include "zetl_ranges.h"
#include "zetl_record.h"
#include "zetl_reprocess.h"
#include "zetl_time.h"

#include <inttypes.h>

#define S_BACKOFF_MIN_MS 100
#define S_BACKOFF_MAX_MS 5000

//  One (source, partition) key of a commit
typedef struct {
    char *source;           //  source name
    uint32_t partition;     //  partition
    int64_t committed;      //  position committed before this commit
    int64_t highest;        //  highest position this commit holds
    int64_t request;        //  reprocess request of the source, or 0
    zchunk_t *seqs;         //  accounts: its reprocess items committed here, "{1,2" so far
    zetl_ranges_t *ranges;  //  ordered: true: what is committed, out of position order
} s_key_t;

//  The rows of one batch for one (source, day): one file
typedef struct {
    uint32_t source;       //  source index in the batch's body
    int32_t day;           //  days since the epoch
    uint64_t first;        //  lowest position in it
    uint64_t last;         //  highest
    msgpack_sbuffer text;  //  the file's text, uncompressed
} s_bucket_t;

typedef struct {
    zsock_t *pipe;                  //  to the sink's loop
    zetl_files_writer_args_t args;  //  what to write where
    const zetl_pipeline_t *pipeline;
    const zetl_target_t *target;
    zetl_files_compression_t compression;
    const char *suffix;         //  file name suffix
    int64_t batch_rows;         //  commit once this many rows are pending
    int64_t linger_ms;          //  or once the oldest has waited this long
    PGconn *conn;               //  NULL while disconnected
    zetl_files_store_t *store;  //  NULL until the directories could be made
    zlistx_t *pending;          //  zetl_msg_t RESULTs waiting for a commit
    size_t pending_rows;        //  records in pending
    int64_t first_pending_ms;   //  when the oldest pending batch arrived
    zetl_breaker_t breaker;     //  in front of PostgreSQL and the disk
    s_bucket_t *buckets;        //  the current batch's files
    size_t bucket_count;        //  buckets in use
    size_t bucket_capacity;     //  buckets allocated (their buffers kept)
    msgpack_sbuffer packed;     //  a file's compressed bytes
    bool terminated;
} s_writer_t;

//  The keys of one commit, sorted, and per batch the key of each source index
typedef struct {
    s_key_t **keys;                //  sorted by source, then partition
    size_t count;                  //  keys in keys
    size_t capacity;               //  room in keys
    s_key_t ***by_batch;           //  per batch in list order: the key of each source index
    zetl_body_reader_t **readers;  //  per batch: its body's counted reader
    size_t batches;                //  arrays in by_batch and readers
    zetl_msg_t *malformed;         //  a batch whose source names do not read, or NULL
    const char *malformed_reason;  //  why
} s_keys_t;

//  Why a commit failed
typedef struct {
    bool data_failure;             //  a row does not match the schema: its batch is refused
    char *error_text;              //  what failed; owned, NULL when MALFORMED
    zetl_msg_t *malformed;         //  a batch whose body does not read, or NULL
    const char *malformed_reason;  //  why it does not, a static string
} s_failure_t;

typedef struct {
    int64_t written;       //  rows written to files
    int64_t dead;          //  dead letters (accounts)
    int64_t deduplicated;  //  duplicates' positions committed
    size_t files;          //  files published
} s_counts_t;

static void
s_msg_free (void **item_p)
{
    zetl_msg_destroy ((zetl_msg_t **) item_p);
}

//  ---------------------------------------------------------------------
//  Keys

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

//  The key of NAME in PARTITION, added if new (once per source of a batch)
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
    return order ? order
                 : (left->partition > right->partition) - (left->partition < right->partition);
}

//  Collect the keys of BATCHES, sorted so that every writer locks them in
//  the same order, and start the counted reader of each body
static s_keys_t *
s_collect_keys (zlistx_t *batches)
{
    s_keys_t *self = (s_keys_t *) zmalloc (sizeof (s_keys_t));
    size_t size = zlistx_size (batches) + 1;
    self->by_batch = (s_key_t ***) zmalloc (size * sizeof (s_key_t **));
    self->readers = (zetl_body_reader_t **) zmalloc (size * sizeof (zetl_body_reader_t *));
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

//  ---------------------------------------------------------------------
//  SQL: every value a parameter

//  The int[] or int8[] literal of COUNT numbers read by GET. Caller destroys it.
static zchunk_t *
s_number_array (size_t count, int64_t (*get) (s_key_t *), s_key_t **keys)
{
    zchunk_t *array = zchunk_new (NULL, 21 * count + 3);
    zchunk_extend (array, "{", 1);
    for (size_t index = 0; index < count; index++) {
        char item[24];
        int len = snprintf (item, sizeof item, "%s%" PRId64, index ? "," : "", get (keys[index]));
        zchunk_extend (array, item, (size_t) len);
    }
    zchunk_extend (array, "}", 2);
    return array;
}

static int64_t
s_get_partition (s_key_t *key)
{
    return key->partition;
}

static int64_t
s_get_highest (s_key_t *key)
{
    return key->ranges ? zetl_ranges_floor (key->ranges) : key->highest;
}

//  Run SQL with COUNT parameters; on failure set *ERROR (caller owns it).
//  Returns the result when it is RESULT_P's to keep, else clears it
static int
s_exec (s_writer_t *self, const char *sql, int count, const char *const *values, const char *what,
        PGresult **result_p, char **error)
{
    PGresult *res = PQexecParams (self->conn, sql, count, NULL, values, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus (res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
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
    if (result_p)
        *result_p = res;
    else
        PQclear (res);
    return 0;
}

//  Lock every key's zetl_offsets row (made at -1 when missing) in one
//  statement, in the keys' order, and read what each has committed. The
//  no-op update locks a row also when a concurrent transaction is creating it
static const char *s_lock_sql =
    "WITH k AS (SELECT * FROM unnest($3::text[], $4::int[]) WITH ORDINALITY"
    "   AS k (source, partition, n)),"
    " l AS (INSERT INTO zetl_offsets (pipeline, target, source, partition, position)"
    "   SELECT $1::text, $2::text, source, partition, -1 FROM k ORDER BY n"
    "   ON CONFLICT (pipeline, target, source, partition)"
    "   DO UPDATE SET position = zetl_offsets.position"
    "   RETURNING source, partition, position, above)"
    " SELECT l.position, coalesce(l.above::text, '') FROM k JOIN l USING (source, partition)"
    " ORDER BY k.n";

static int
s_lock_keys (s_writer_t *self, s_keys_t *keys, char **error)
{
    if (keys->count == 0)
        return 0;
    const char **sources = (const char **) zmalloc ((keys->count + 1) * sizeof (char *));
    for (size_t index = 0; index < keys->count; index++)
        sources[index] = keys->keys[index]->source;
    zchunk_t *source_array = zetl_pg_text_array (sources, keys->count);
    zchunk_t *partition_array = s_number_array (keys->count, s_get_partition, keys->keys);
    const char *values[4] = {self->pipeline->id, self->target->name,
                             (const char *) zchunk_data (source_array),
                             (const char *) zchunk_data (partition_array)};
    PGresult *res = NULL;
    int rc = s_exec (self, s_lock_sql, 4, values, "lock positions", &res, error);
    if (rc == 0 && PQntuples (res) != (int) keys->count) {
        *error = zsys_sprintf ("lock positions for files target %s: %d rows for %zu keys",
                               self->target->name, PQntuples (res), keys->count);
        rc = -1;
    }
    for (size_t index = 0; rc == 0 && index < keys->count; index++) {
        s_key_t *key = keys->keys[index];
        key->committed = atoll (PQgetvalue (res, (int) index, 0));
        key->highest = key->committed;
        if (self->pipeline->ordered) {
            key->ranges = zetl_ranges_new (key->committed, PQgetvalue (res, (int) index, 1));
            assert (key->ranges);  //  PostgreSQL's own text form
        }
    }
    PQclear (res);
    zchunk_destroy (&source_array);
    zchunk_destroy (&partition_array);
    free (sources);
    return rc;
}

//  Raise the positions of the keys that moved, in one statement (ordered
//  mode: their floors and committed ranges)
static int
s_set_positions (s_writer_t *self, s_keys_t *keys, char **error)
{
    s_key_t **moved = (s_key_t **) zmalloc ((keys->count + 1) * sizeof (s_key_t *));
    const char **sources = (const char **) zmalloc ((keys->count + 1) * sizeof (char *));
    const char **added = (const char **) zmalloc ((keys->count + 1) * sizeof (char *));
    size_t count = 0;
    for (size_t index = 0; index < keys->count; index++) {
        s_key_t *key = keys->keys[index];
        if (key->ranges) {
            if (!zetl_ranges_added (key->ranges) &&
                zetl_ranges_floor (key->ranges) <= key->committed)
                continue;
            added[count] = zetl_ranges_added_text (key->ranges);
        }
        else if (key->highest <= key->committed)
            continue;
        sources[count] = key->source;
        moved[count++] = key;
    }
    int rc = 0;
    if (count) {
        zchunk_t *source_array = zetl_pg_text_array (sources, count);
        zchunk_t *partition_array = s_number_array (count, s_get_partition, moved);
        zchunk_t *position_array = s_number_array (count, s_get_highest, moved);
        zchunk_t *added_array = self->pipeline->ordered ? zetl_pg_text_array (added, count) : NULL;
        const char *values[6] = {self->pipeline->id,
                                 self->target->name,
                                 (const char *) zchunk_data (source_array),
                                 (const char *) zchunk_data (partition_array),
                                 (const char *) zchunk_data (position_array),
                                 added_array ? (const char *) zchunk_data (added_array) : NULL};
        if (self->pipeline->ordered)
            rc = s_exec (
                self,
                "UPDATE zetl_offsets AS o SET position = GREATEST(o.position, k.floor),"
                " above = nullif((coalesce(o.above, '{}') + k.added::int8multirange)"
                "   - int8multirange(int8range(NULL, GREATEST(o.position, k.floor) + 1)), '{}'),"
                " updated_at = now()"
                " FROM unnest($3::text[], $4::int[], $5::int8[], $6::text[])"
                "   AS k (source, partition, floor, added)"
                " WHERE o.pipeline = $1 AND o.target = $2 AND o.source = k.source"
                " AND o.partition = k.partition",
                6, values, "set ranges", NULL, error);
        else
            rc = s_exec (
                self,
                "UPDATE zetl_offsets AS o SET position = GREATEST(o.position, k.position),"
                " updated_at = now()"
                " FROM unnest($3::text[], $4::int[], $5::int8[]) AS k (source, partition, position)"
                " WHERE o.pipeline = $1 AND o.target = $2 AND o.source = k.source"
                " AND o.partition = k.partition",
                5, values, "set positions", NULL, error);
        zchunk_destroy (&source_array);
        zchunk_destroy (&partition_array);
        zchunk_destroy (&position_array);
        zchunk_destroy (&added_array);
    }
    free (added);
    free (sources);
    free (moved);
    return rc;
}

//  Text of key NAME in dead-letter MAP, as a NUL-terminated copy or NULL
static char *
s_dead_field (const msgpack_object *map, const char *name)
{
    const msgpack_object *value = zetl_record_get (map, name);
    if (!value || value->type != MSGPACK_OBJECT_STR)
        return NULL;
    return strndup (value->via.str.ptr, value->via.str.size);
}

//  Accounts: write ENTRY (a dead letter) to zetl_dead_letters, its columns
//  as a PostgreSQL target writes them
static int
s_dead_letter (s_writer_t *self, const char *source, uint32_t partition, const zetl_entry_t *entry,
               uint32_t attempts, char **error)
{
    char *stage = s_dead_field (&entry->payload, "stage");
    char *reason = s_dead_field (&entry->payload, "reason");
    char *field = s_dead_field (&entry->payload, "field");
    char *text = s_dead_field (&entry->payload, "error");
    char *raw = s_dead_field (&entry->payload, "raw");
    char partition_text[16], position_text[24], attempts_text[16];
    snprintf (partition_text, sizeof partition_text, "%u", partition);
    snprintf (position_text, sizeof position_text, "%" PRIu64, entry->position);
    snprintf (attempts_text, sizeof attempts_text, "%u", attempts ? attempts : 1);
    const char *values[11] = {self->pipeline->id,
                              self->target->name,
                              stage ? stage : "unknown",
                              reason ? reason : "unknown",
                              field,
                              text,
                              raw,
                              source,
                              partition_text,
                              position_text,
                              attempts_text};
    int rc =
        s_exec (self,
                "INSERT INTO zetl_dead_letters (pipeline, target, stage, reason, field, error, raw,"
                " source, partition, position, attempts)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                " ON CONFLICT (pipeline, target, source, partition, position) DO UPDATE SET"
                " attempts = zetl_dead_letters.attempts + 1, last_seen = now(),"
                " reason = EXCLUDED.reason, field = EXCLUDED.field, error = EXCLUDED.error",
                11, values, "write dead letter", NULL, error);
    free (stage);
    free (reason);
    free (field);
    free (text);
    free (raw);
    return rc;
}

//  Accounts: add this commit's counters to zetl_stats
static int
s_add_stats (s_writer_t *self, const s_counts_t *counts, char **error)
{
    char numbers[3][24];
    snprintf (numbers[0], 24, "%" PRId64, counts->written);
    snprintf (numbers[1], 24, "%" PRId64, counts->dead);
    snprintf (numbers[2], 24, "%" PRId64, counts->deduplicated);
    const char *values[6] = {self->pipeline->id, self->target->name, self->args.writer,
                             numbers[0],         numbers[1],         numbers[2]};
    return s_exec (self,
                   "INSERT INTO zetl_stats AS s (pipeline, target, writer, changed, unchanged,"
                   " dead_lettered, deduplicated) VALUES ($1, $2, $3, $4, 0, $5, $6)"
                   " ON CONFLICT (pipeline, target, writer) DO UPDATE SET"
                   " changed = s.changed + EXCLUDED.changed,"
                   " dead_lettered = s.dead_lettered + EXCLUDED.dead_lettered,"
                   " deduplicated = s.deduplicated + EXCLUDED.deduplicated",
                   6, values, "add counters", NULL, error);
}

//  Accounts: remember that item SEQ of KEY's reprocess request commits here
static void
s_note_reprocessed (s_key_t *key, uint64_t seq)
{
    if (!key->seqs)
        key->seqs = zchunk_new (NULL, 256);
    char text[24];
    int len = snprintf (text, sizeof text, "%c%" PRIu64, zchunk_size (key->seqs) ? ',' : '{', seq);
    zchunk_extend (key->seqs, text, (size_t) len);
}

//  Accounts: delete the dead letters of the reprocessed records committed
//  here (loaded, deduplicated or dead-lettered anew now). *DEAD loses them
static int
s_resolve_reprocessed (s_writer_t *self, s_keys_t *keys, int64_t *dead, char **error)
{
    for (size_t index = 0; index < keys->count; index++) {
        s_key_t *key = keys->keys[index];
        if (!key->seqs)
            continue;
        zchunk_extend (key->seqs, "}", 2);  //  With the NUL
        PGresult *res =
            zetl_reprocess_resolve (self->conn, self->pipeline->id, self->target->name,
                                    key->request, (const char *) zchunk_data (key->seqs));
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

//  Has KEY committed ENTRY already (a replay)? If not, it is this commit's
//  now. A CHECKPOINT entry only raises the ordered floor
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
    //  A partition's positions are dispatched in order: anything at or below
    //  what this commit holds already is a replay (two tries of one batch
    //  can meet in one commit)
    if ((int64_t) entry->position <= key->highest || (entry->flags & ZETL_ENTRY_CHECKPOINT))
        return true;
    key->highest = (int64_t) entry->position;
    return false;
}

//  The bucket of (SOURCE, DAY) in the current batch, started if new
static s_bucket_t *
s_bucket (s_writer_t *self, uint32_t source, int32_t day)
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
s_stage_buckets (s_writer_t *self, zetl_body_reader_t *reader, zetl_msg_t *msg, char **error)
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
s_stage_batch (s_writer_t *self, zetl_msg_t *msg, zetl_body_reader_t *reader, s_key_t **by_source,
               s_counts_t *counts, s_failure_t *failure)
{
    self->bucket_count = 0;
    zetl_entry_t entry;
    const char *reason = NULL, *data_error = NULL;
    char *error = NULL;
    int rc;
    while ((rc = zetl_body_reader_next (reader, &entry, &reason)) == 1) {
        s_key_t *key = by_source[entry.source];
        if (s_replayed (key, &entry))
            continue;
        if (key->request && self->args.accounts)
            s_note_reprocessed (key, entry.position);
        if (entry.flags & ZETL_ENTRY_DUPLICATE)
            counts->deduplicated++;
        else if (entry.flags & ZETL_ENTRY_DEAD) {
            if (self->args.accounts && s_dead_letter (self, key->source, msg->partition, &entry,
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

static int
s_connect (s_writer_t *self, char **error)
{
    if (!self->store) {
        self->store =
            zetl_files_store_new (self->target->path, self->pipeline->id, self->args.writer, error);
        if (!self->store)
            return -1;
    }
    if (!self->conn)
        self->conn = zetl_pg_open (self->args.conninfo, error);
    return self->conn ? 0 : -1;
}

//  Recover every key of the commit from what a crash may have left
static int
s_recover (s_writer_t *self, s_keys_t *keys, char **error)
{
    size_t removed = 0;
    for (size_t index = 0; index < keys->count; index++) {
        s_key_t *key = keys->keys[index];
        if (zetl_files_store_recover (self->store, key->source, key->partition, key->committed,
                                      key->ranges, &removed, error) != 0)
            return -1;
    }
    if (removed)
        zetl_log_info ("files_writer", "uncommitted_files_removed",
                       json_pack ("{s:s, s:s, s:I}", "writer", self->args.writer, "target",
                                  self->target->name, "files", (json_int_t) removed));
    return 0;
}

static int
s_exec_plain (s_writer_t *self, const char *sql, char **error)
{
    return s_exec (self, sql, 0, NULL, sql, NULL, error);
}

//  One commit of BATCHES. Returns 0 committed, -1 failed (rolled back, what
//  was published left to recovery), with *FAILURE saying why
static int
s_commit (s_writer_t *self, zlistx_t *batches, s_failure_t *failure)
{
    memset (failure, 0, sizeof *failure);
    s_counts_t counts = {0, 0, 0, 0};
    s_keys_t *keys = s_collect_keys (batches);
    if (keys->malformed) {
        failure->malformed = keys->malformed;
        failure->malformed_reason = keys->malformed_reason;
        s_keys_destroy (&keys);
        return -1;
    }
    char *error = NULL;
    int rc = -1;
    bool begun = false;
    if (s_connect (self, &error) != 0 || s_exec_plain (self, "BEGIN", &error) != 0)
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
    if (self->args.accounts && (s_resolve_reprocessed (self, keys, &counts.dead, &error) != 0 ||
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
    s_keys_destroy (&keys);
    return rc;
}

//  ---------------------------------------------------------------------
//  The actor

static void
s_reply (s_writer_t *self, const char *command, zetl_msg_t *msg, const char *text)
{
    zsock_send (self->pipe, "s84s", command, msg->batch_id, msg->count, text);
}

//  The disk or PostgreSQL failed (not the data): retry after the breaker's period
static void
s_schedule_retry (s_writer_t *self, const char *error)
{
    bool was_closed = zetl_breaker_state (&self->breaker) == ZETL_BREAKER_CLOSED;
    int64_t now = zclock_mono ();
    zetl_breaker_failure (&self->breaker, now);
    if (was_closed)
        zetl_log_warn ("files_writer", "commit_failed",
                       json_pack ("{s:s, s:s, s:s, s:I}", "writer", self->args.writer, "target",
                                  self->target->name, "error", error, "retry_in_ms",
                                  (json_int_t) zetl_breaker_wait_ms (&self->breaker, now)));
    if (self->conn && PQstatus (self->conn) != CONNECTION_OK) {
        PQfinish (self->conn);
        self->conn = NULL;
    }
}

static void
s_succeeded (s_writer_t *self)
{
    if (zetl_breaker_state (&self->breaker) == ZETL_BREAKER_CLOSED)
        return;
    int64_t now = zclock_mono ();
    zetl_breaker_success (&self->breaker, now);
    zetl_log_info ("files_writer", "breaker_closed",
                   json_pack ("{s:s, s:I}", "writer", self->args.writer, "open_total_ms",
                              (json_int_t) zetl_breaker_open_total_ms (&self->breaker, now)));
}

static void
s_recount (s_writer_t *self)
{
    self->pending_rows = 0;
    for (zetl_msg_t *msg = (zetl_msg_t *) zlistx_first (self->pending); msg;
         msg = (zetl_msg_t *) zlistx_next (self->pending))
        self->pending_rows += msg->count;
}

//  Commit the batches one by one after a data failure of the group: only
//  the batch whose rows do not match is refused
static void
s_flush_singly (s_writer_t *self)
{
    zlistx_t *single = zlistx_new ();
    zetl_msg_t *msg;
    s_failure_t failure;
    while ((msg = (zetl_msg_t *) zlistx_detach (self->pending, NULL))) {
        zlistx_add_end (single, msg);
        bool keep = false;
        if (s_commit (self, single, &failure) == 0)
            s_reply (self, "DONE", msg, "");
        else if (failure.malformed)
            s_reply (self, "DROPPED", msg, failure.malformed_reason);
        else if (failure.data_failure) {
            zetl_log_warn ("files_writer", "batch_refused",
                           json_pack ("{s:s, s:I, s:s}", "writer", self->args.writer, "batch",
                                      (json_int_t) msg->batch_id, "error", failure.error_text));
            s_reply (self, "FAILED", msg, failure.error_text);
        }
        else
            keep = true;
        zlistx_detach (single, NULL);
        if (keep) {
            //  The environment failed meanwhile: keep this and the rest for the retry
            zlistx_add_start (self->pending, msg);
            s_schedule_retry (self, failure.error_text);
            free (failure.error_text);
            break;
        }
        free (failure.error_text);
        zetl_msg_destroy (&msg);
    }
    zlistx_destroy (&single);
    s_recount (self);
}

//  Commit every pending batch. A malformed batch is dropped and the others
//  committed without it
static void
s_flush (s_writer_t *self)
{
    if (!zetl_breaker_allow (&self->breaker, zclock_mono ()))
        return;
    s_failure_t failure;
    int rc;
    while ((rc = s_commit (self, self->pending, &failure)) != 0 && failure.malformed) {
        s_reply (self, "DROPPED", failure.malformed, failure.malformed_reason);
        void *handle = zlistx_find (self->pending, failure.malformed);
        assert (handle);
        zlistx_delete (self->pending, handle);
        free (failure.error_text);
        s_recount (self);
        if (zlistx_size (self->pending) == 0)
            return;
    }
    if (rc == 0) {
        for (zetl_msg_t *msg = (zetl_msg_t *) zlistx_first (self->pending); msg;
             msg = (zetl_msg_t *) zlistx_next (self->pending))
            s_reply (self, "DONE", msg, "");
        zlistx_purge (self->pending);
        self->pending_rows = 0;
        s_succeeded (self);
        return;
    }
    if (!failure.data_failure) {
        s_schedule_retry (self, failure.error_text);
        free (failure.error_text);
        return;
    }
    free (failure.error_text);
    s_flush_singly (self);
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

//  How long to wait for more work before committing
static int
s_wait_ms (s_writer_t *self)
{
    if (zlistx_size (self->pending) == 0)
        return -1;
    int64_t now = zclock_mono ();
    if (zetl_breaker_state (&self->breaker) != ZETL_BREAKER_CLOSED) {
        int64_t wait = zetl_breaker_wait_ms (&self->breaker, now);
        return wait > 0 ? (int) wait : 0;
    }
    if ((int64_t) self->pending_rows >= self->batch_rows)
        return 0;
    int64_t due = self->first_pending_ms + self->linger_ms;
    return due > now ? (int) (due - now) : 0;
}

void
zetl_files_writer_actor (zsock_t *pipe, void *args)
{
    s_writer_t self_data, *self = &self_data;
    memset (self, 0, sizeof *self);
    self->pipe = pipe;
    self->args = *(zetl_files_writer_args_t *) args;
    self->pipeline = &self->args.config->pipelines[self->args.pipeline];
    self->target = &self->pipeline->targets[self->args.target];
    self->compression = zetl_files_compression (self->target->compression);
    self->suffix = zetl_files_suffix (self->target->format, self->compression);
    self->batch_rows = self->target->sink_batch_rows;
    self->linger_ms = self->target->sink_linger_ms;
    self->pending = zlistx_new ();
    zlistx_set_destructor (self->pending, s_msg_free);
    msgpack_sbuffer_init (&self->packed);
    zetl_breaker_config_t breaker = {1, S_BACKOFF_MIN_MS, S_BACKOFF_MAX_MS};
    zetl_breaker_init (&self->breaker, &breaker);
    zsock_signal (pipe, 0);
    char *error = NULL;
    if (s_connect (self, &error) != 0) {
        s_schedule_retry (self, error);
        free (error);
    }

    zpoller_t *poller = zpoller_new (pipe, NULL);
    while (!self->terminated) {
        int wait_ms = s_wait_ms (self);
        if (wait_ms != 0) {
            void *which = zpoller_wait (poller, wait_ms);
            if (which == pipe) {
                s_handle_command (self);
                continue;  //  Drain every queued batch before deciding to commit
            }
            if (zpoller_terminated (poller))
                break;
        }
        if (zlistx_size (self->pending) > 0 && s_wait_ms (self) == 0)
            s_flush (self);
    }
    zpoller_destroy (&poller);
    for (size_t index = 0; index < self->bucket_capacity; index++)
        msgpack_sbuffer_destroy (&self->buckets[index].text);
    free (self->buckets);
    msgpack_sbuffer_destroy (&self->packed);
    zlistx_destroy (&self->pending);
    zetl_files_store_destroy (&self->store);
    if (self->conn)
        PQfinish (self->conn);
}
