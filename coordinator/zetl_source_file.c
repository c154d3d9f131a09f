/*  zetl_source_file - a pipeline's file source, as an actor  */
#include "zetl_source_file.h"
#include "zetl_chunk.h"
#include "zetl_csv.h"
#include "zetl_extract.h"
#include "zetl_jsonl.h"
#include "zetl_log.h"
#include "zetl_record.h"

#include <glob.h>
#include <sys/stat.h>

#define S_READ_BYTES (1024 * 1024)

typedef struct {
    zsock_t *pipe;
    const zetl_pipeline_t *pipeline;
    size_t pipeline_index;
    zhashx_t *committed;
    int credit;                 //  chunks we may still send
    bool terminated;            //  stop reading
    bool stop_requested;        //  stopped by STOP: say STOPPED, then wait for $TERM
    zetl_chunk_t *chunk;        //  being filled
    const char *source;         //  current file
    zetl_jsonl_t *jsonl;
    zetl_csv_t *csv;
    const char *names[ZETL_EXTRACT_COUNT];
    int64_t committed_cache[4096]; //  per partition: committed position in the current file
    uint64_t records;           //  records read (not skipped)
    uint64_t skipped;           //  records at or below committed positions
    uint64_t bad_rows;          //  rows turned into dead letters
    zetl_log_limit_t bad_log;
    msgpack_zone zone;          //  a record read back, to hash its content: cleared, not freed
} s_source_t;

//  Take one command from the dispatcher: credit, or the order to stop
static void
s_take_command (s_source_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else if (streq (command, "MORE"))
        self->credit++;
    else if (streq (command, "STOP"))
        self->terminated = self->stop_requested = true;
    free (command);
}

//  Wait for credit, then hand the chunk over
static void
s_send_chunk (s_source_t *self)
{
    if (!self->chunk || self->chunk->count == 0)
        return;
    while (self->credit == 0 && !self->terminated)
        s_take_command (self);
    if (self->terminated)
        return;
    self->credit--;
    zsock_send (self->pipe, "sp", "CHUNK", self->chunk);
    self->chunk = zetl_chunk_new (self->pipeline_index, self->source);
}

//  Take any credit that arrived meanwhile, without waiting
static void
s_poll_pipe (s_source_t *self)
{
    while (!self->terminated && (zsock_events (self->pipe) & ZMQ_POLLIN))
        s_take_command (self);
}

static bool
s_already_committed (s_source_t *self, uint32_t partition, uint64_t position)
{
    return (int64_t) position <= self->committed_cache[partition];
}

static void
s_bad_row (s_source_t *self, uint32_t partition, uint64_t position, const char *reason,
           const char *field, const char *error, const char *raw, size_t raw_len)
{
    self->bad_rows++;
    if (zetl_log_every (&self->bad_log, 10000))
        zetl_log_warn ("source", "record_rejected",
                       json_pack ("{s:s, s:s, s:I, s:s, s:s?, s:s, s:I}", "pipeline",
                                  self->pipeline->id, "source", self->source, "position",
                                  (json_int_t) position, "reason", reason, "field", field,
                                  "error", error, "seen", (json_int_t) self->bad_log.seen));
    zetl_extract_dead_letter (self->chunk, partition, position, "source", reason, field, error, raw,
                              raw_len);
}

//  The deduplication key: the id and the 128-bit hash of the record's
//  canonical form. Computed here, on the reading thread, so the dispatcher
//  only looks it up
static void
s_key_record (s_source_t *self, zetl_chunk_record_t *record, const zetl_field_value_t *id)
{
    uint8_t hash[16];
    msgpack_object object;
    size_t offset = 0;
    msgpack_zone_clear (&self->zone);
    if (msgpack_unpack (self->chunk->data.data + record->offset, record->len, &offset, &self->zone,
                        &object)
        == MSGPACK_UNPACK_SUCCESS)
        zetl_record_hash (&object, hash);
    else
        memset (hash, 0, sizeof hash);  //  Never: the converter just packed it
    zetl_dedup_key (&record->key, id->present ? id->ptr : NULL, id->present ? id->len : 0, hash,
                    record->event_us);
}

//  One converted record (packed at OFFSET of the chunk's data) with its values
static void
s_add_record (s_source_t *self, uint64_t position, size_t offset, const zetl_field_value_t *values,
              const char *raw, size_t raw_len)
{
    uint32_t partition;
    int64_t event_us;
    const char *reason = NULL, *field = NULL;
    int rc = zetl_extract_record (self->pipeline, values, &partition, &event_us, &reason, &field);
    if (s_already_committed (self, partition, position)) {
        self->chunk->data.size = offset;
        self->skipped++;
        return;
    }
    self->records++;
    if (rc == 0) {
        zetl_chunk_record_t *record =
            zetl_chunk_add (self->chunk, partition, 0, position, event_us, offset);
        s_key_record (self, record, &values[ZETL_EXTRACT_ID]);
        return;
    }
    self->chunk->data.size = offset;
    char error[160];
    snprintf (error, sizeof error, "%s: %s", field, streq (reason, "missing_field")
                                                        ? "the field is missing"
                                                        : "the event time does not parse");
    s_bad_row (self, partition, position, reason, field, error, raw, raw_len);
}

static void
s_jsonl_line (s_source_t *self, const char *line, size_t len, uint64_t position)
{
    if (len == 0 || (len == 1 && line[0] == '\r'))
        return;  //  Blank lines hold no record
    zetl_field_value_t values[ZETL_EXTRACT_COUNT];
    const char *reason = NULL;
    size_t offset = self->chunk->data.size;
    if (zetl_jsonl_convert (self->jsonl, line, len, &self->chunk->data, values, &reason) == 0)
        s_add_record (self, position, offset, values, line, len);
    else if (!s_already_committed (self, 0, position)) {
        self->records++;
        s_bad_row (self, 0, position, "malformed", NULL, reason, line, len);
    }
    else
        self->skipped++;
}

static void
s_csv_row (void *arg, uint64_t offset, const char *reason, const char *raw, size_t raw_len,
           const void *packed, size_t packed_len, const zetl_field_value_t *values)
{
    s_source_t *self = (s_source_t *) arg;
    if (reason) {
        if (s_already_committed (self, 0, offset)) {
            self->skipped++;
            return;
        }
        self->records++;
        s_bad_row (self, 0, offset, "malformed", NULL, reason, raw, raw_len);
        return;
    }
    size_t at = self->chunk->data.size;
    msgpack_sbuffer_write (&self->chunk->data, (const char *) packed, packed_len);
    s_add_record (self, offset, at, values, raw, raw_len);
}

static void
s_line (s_source_t *self, const char *line, size_t len, uint64_t position)
{
    if (self->pipeline->source.format == ZETL_FORMAT_JSONL) {
        size_t text_len = len && line[len - 1] == '\n' ? len - 1 : len;
        s_jsonl_line (self, line, text_len, position);
    }
    else {
        const char *reason = NULL;
        if (zetl_csv_feed_line (self->csv, line, len, position, s_csv_row, self, &reason) != 0) {
            zetl_log_error ("source", "csv_header_invalid",
                            json_pack ("{s:s, s:s, s:s}", "pipeline", self->pipeline->id, "source",
                                       self->source, "error", reason ? reason : "?"));
        }
    }
    if (zetl_chunk_full (self->chunk))
        s_send_chunk (self);
}

//  Committed positions of this file, per partition, for fast skipping
static void
s_load_committed (s_source_t *self)
{
    for (uint32_t partition = 0; partition < self->pipeline->partitions; partition++) {
        char key[4096];
        snprintf (key, sizeof key, "%s\x1f%u", self->source, partition);
        int64_t *position = self->committed ? (int64_t *) zhashx_lookup (self->committed, key) : NULL;
        self->committed_cache[partition] = position ? *position : -1;
    }
}

static void
s_read_file (s_source_t *self, const char *path)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        zetl_log_error ("source", "file_unreadable",
                        json_pack ("{s:s, s:s, s:s, s:s}", "pipeline", self->pipeline->id, "path",
                                   path, "error", strerror (errno), "hint",
                                   "check the path and its permissions"));
        return;
    }
    self->source = path;
    s_load_committed (self);
    zetl_chunk_destroy (&self->chunk);
    self->chunk = zetl_chunk_new (self->pipeline_index, path);
    if (self->pipeline->source.format == ZETL_FORMAT_CSV) {
        zetl_csv_destroy (&self->csv);
        self->csv = zetl_csv_new (self->pipeline->source.delimiter, self->names, ZETL_EXTRACT_COUNT);
    }
    char *line = NULL;
    size_t capacity = 0;
    uint64_t position = 0;
    ssize_t len;
    while (!self->terminated && (len = getline (&line, &capacity, file)) > 0) {
        s_line (self, line, (size_t) len, position);
        position += (uint64_t) len;
        if ((position & 0xFFFF) < (uint64_t) len)
            s_poll_pipe (self);
    }
    if (self->csv)
        zetl_csv_finish (self->csv, s_csv_row, self);
    free (line);
    fclose (file);
    s_send_chunk (self);
}

//  The files PATTERN names: a file, every regular file in a directory, or a glob
static zlistx_t *
s_files (const char *pattern)
{
    zlistx_t *files = zlistx_new ();
    zlistx_set_destructor (files, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_duplicator (files, (zlistx_duplicator_fn *) strdup);
    zlistx_set_comparator (files, (zlistx_comparator_fn *) strcmp);
    struct stat info;
    char *glob_pattern = NULL;
    if (stat (pattern, &info) == 0 && S_ISDIR (info.st_mode))
        glob_pattern = zsys_sprintf ("%s/*", pattern);
    glob_t found;
    if (glob (glob_pattern ? glob_pattern : pattern, 0, NULL, &found) == 0) {
        for (size_t index = 0; index < found.gl_pathc; index++)
            if (stat (found.gl_pathv[index], &info) == 0 && S_ISREG (info.st_mode))
                zlistx_add_end (files, found.gl_pathv[index]);
        globfree (&found);
    }
    free (glob_pattern);
    zlistx_sort (files);
    return files;
}

void
zetl_source_file_actor (zsock_t *pipe, void *args)
{
    zetl_source_file_args_t *source_args = (zetl_source_file_args_t *) args;
    s_source_t self_data, *self = &self_data;
    memset (self, 0, sizeof *self);
    self->pipe = pipe;
    self->pipeline_index = source_args->pipeline;
    self->pipeline = &source_args->config->pipelines[source_args->pipeline];
    self->committed = source_args->committed;
    self->credit = ZETL_SOURCE_CREDIT;
    zetl_extract_names (self->pipeline, self->names);
    self->jsonl = zetl_jsonl_new (self->names, ZETL_EXTRACT_COUNT);
    msgpack_zone_init (&self->zone, 8192);
    zsock_signal (pipe, 0);

    zlistx_t *files = s_files (self->pipeline->source.path);
    if (zlistx_size (files) == 0)
        zetl_log_warn ("source", "no_files",
                       json_pack ("{s:s, s:s, s:s}", "pipeline", self->pipeline->id, "path",
                                  self->pipeline->source.path, "hint",
                                  "check source.path; it is a file, a directory or a glob"));
    for (const char *path = (const char *) zlistx_first (files); path && !self->terminated;
         path = (const char *) zlistx_next (files))
        s_read_file (self, path);
    if (!self->terminated) {
        zetl_log_info ("source", "source_drained",
                       json_pack ("{s:s, s:I, s:I, s:I}", "pipeline", self->pipeline->id,
                                  "records", (json_int_t) self->records, "skipped",
                                  (json_int_t) self->skipped, "rejected",
                                  (json_int_t) self->bad_rows));
        zsock_send (pipe, "s8", "EOF", self->records);
        //  Stay until told to stop, so the dispatcher owns the ending
        while (!self->terminated)
            s_take_command (self);
    }
    if (self->stop_requested) {
        //  Nothing more will be sent: the dispatcher may now destroy us
        zstr_send (pipe, "STOPPED");
        char *command = NULL;
        while ((command = zstr_recv (pipe)) && !streq (command, "$TERM"))
            zstr_free (&command);
        zstr_free (&command);
    }
    zlistx_destroy (&files);
    zetl_chunk_destroy (&self->chunk);
    zetl_jsonl_destroy (&self->jsonl);
    msgpack_zone_destroy (&self->zone);
    zetl_csv_destroy (&self->csv);
    zhashx_destroy (&self->committed);
}
