/*  zetl_source_file - a pipeline's file source, as an actor  */
#include "zetl_source_file.h"
#include "zetl_csv.h"
#include "zetl_feed.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>

typedef struct {
    zetl_feed_t feed;         //  credit, chunk, conversion, committed positions
    zhashx_t *committed;        //  "source\x1fpartition" -> int64_t *
    zetl_csv_t *csv;
} s_source_t;

static void
s_csv_row (void *arg, uint64_t offset, const char *reason, const char *raw, size_t raw_len,
           const void *packed, size_t packed_len, const zetl_field_value_t *values)
{
    s_source_t *self = (s_source_t *) arg;
    if (reason) {
        if (zetl_feed_committed (&self->feed, 0, offset)) {
            self->feed.skipped++;
            return;
        }
        self->feed.records++;
        zetl_feed_bad_row (&self->feed, 0, offset, "malformed", NULL, reason, raw, raw_len);
        return;
    }
    zetl_chunk_t *chunk = self->feed.chunk;
    size_t at = chunk->data.size;
    msgpack_sbuffer_write (&chunk->data, (const char *) packed, packed_len);
    zetl_feed_add_record (&self->feed, offset, at, values, raw, raw_len);
}

static void
s_line (s_source_t *self, const char *line, size_t len, uint64_t position)
{
    if (self->feed.pipeline->source.format == ZETL_FORMAT_JSONL) {
        size_t text_len = len && line[len - 1] == '\n' ? len - 1 : len;
        zetl_feed_jsonl_row (&self->feed, line, text_len, position);
        return;
    }
    const char *reason = NULL;
    if (zetl_csv_feed_line (self->csv, line, len, position, s_csv_row, self, &reason) != 0)
        zetl_log_error ("source", "csv_header_invalid",
                        json_pack ("{s:s, s:s, s:s}", "pipeline", self->feed.pipeline->id,
                                   "source", self->feed.name, "error", reason ? reason : "?"));
    if (zetl_chunk_full (self->feed.chunk))
        zetl_feed_send_chunk (&self->feed);
}

//  Lines are read in blocks of this many bytes (more for a longer line)
#define S_READ_BLOCK (1024 * 1024)

typedef struct {
    int fd;           //  the file
    char *data;       //  bytes read and not yet handed out start at data + next
    size_t capacity;  //  bytes allocated at data
    size_t next;      //  start of the next line
    size_t end;       //  end of the bytes read
    bool eof;         //  nothing more to read
} s_reader_t;

//  Move what is left to the front and read more after it, growing the
//  buffer when one line fills it; returns false at the end of the file
static bool
s_reader_fill (s_reader_t *reader)
{
    if (reader->eof)
        return false;
    size_t left = reader->end - reader->next;
    if (reader->next > 0) {
        memmove (reader->data, reader->data + reader->next, left);
        reader->next = 0;
        reader->end = left;
    }
    if (reader->end == reader->capacity) {
        reader->capacity *= 2;
        reader->data = (char *) realloc (reader->data, reader->capacity);
        assert (reader->data);
    }
    while (true) {
        ssize_t got = read (reader->fd, reader->data + reader->end, reader->capacity - reader->end);
        if (got > 0) {
            reader->end += (size_t) got;
            return true;
        }
        if (got < 0 && errno == EINTR)
            continue;
        reader->eof = true;  //  The end, or an error: as getline, stop there
        return false;
    }
}

//  The next line, its newline included (the last line may have none), as
//  *LINE and its length; borrowed until the next call. Returns false when
//  there is none. The lines stay in the buffer they were read into: no copy.
static bool
s_reader_line (s_reader_t *reader, const char **line, size_t *len)
{
    size_t scanned = reader->next;
    while (true) {
        const char *newline = (const char *) memchr (reader->data + scanned, '\n',
                                                     reader->end - scanned);
        if (newline) {
            *line = reader->data + reader->next;
            *len = (size_t) (newline + 1 - *line);
            reader->next += *len;
            return true;
        }
        scanned = reader->end - reader->next;  //  Where to go on after the refill
        if (!s_reader_fill (reader)) {
            if (reader->end == reader->next)
                return false;
            *line = reader->data + reader->next;
            *len = reader->end - reader->next;
            reader->next = reader->end;
            return true;
        }
        scanned += reader->next;
    }
}

static void
s_read_file (s_source_t *self, const char *path)
{
    s_reader_t reader = {open (path, O_RDONLY | O_CLOEXEC), NULL, S_READ_BLOCK, 0, 0, false};
    if (reader.fd < 0) {
        zetl_log_error ("source", "file_unreadable",
                        json_pack ("{s:s, s:s, s:s, s:s}", "pipeline", self->feed.pipeline->id, "path",
                                   path, "error", strerror (errno), "hint",
                                   "check the path and its permissions"));
        return;
    }
    reader.data = (char *) zmalloc (reader.capacity);
    zetl_feed_begin (&self->feed, path, self->committed);
    const zetl_pipeline_t *pipeline = self->feed.pipeline;
    if (pipeline->source.format == ZETL_FORMAT_CSV) {
        zetl_csv_destroy (&self->csv);
        self->csv = zetl_csv_new (pipeline->source.delimiter, self->feed.names, ZETL_EXTRACT_COUNT);
    }
    uint64_t position = 0;
    const char *line;
    size_t len;
    while (!self->feed.terminated && s_reader_line (&reader, &line, &len)) {
        s_line (self, line, len, position);
        position += (uint64_t) len;
        if ((position & 0xFFFF) < (uint64_t) len)
            zetl_feed_poll_pipe (&self->feed);
    }
    if (self->csv)
        zetl_csv_finish (self->csv, s_csv_row, self);
    free (reader.data);
    close (reader.fd);
    zetl_feed_send_chunk (&self->feed);
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
    zetl_source_args_t *source_args = (zetl_source_args_t *) args;
    s_source_t self_data, *self = &self_data;
    memset (self, 0, sizeof *self);
    zetl_feed_init (&self->feed, pipe, source_args->config, source_args->pipeline, 0);
    self->committed = source_args->committed;
    zsock_signal (pipe, 0);

    const zetl_pipeline_t *pipeline = self->feed.pipeline;
    zlistx_t *files = s_files (pipeline->source.path);
    if (zlistx_size (files) == 0)
        zetl_log_warn ("source", "no_files",
                       json_pack ("{s:s, s:s, s:s}", "pipeline", pipeline->id, "path",
                                  pipeline->source.path, "hint",
                                  "check source.path; it is a file, a directory or a glob"));
    for (const char *path = (const char *) zlistx_first (files); path && !self->feed.terminated;
         path = (const char *) zlistx_next (files))
        s_read_file (self, path);
    if (!self->feed.terminated)
        zetl_log_info ("source", "source_drained",
                       json_pack ("{s:s, s:I, s:I, s:I}", "pipeline", pipeline->id, "records",
                                  (json_int_t) self->feed.records, "skipped",
                                  (json_int_t) self->feed.skipped, "rejected",
                                  (json_int_t) self->feed.bad_rows));
    zetl_feed_finish (&self->feed);
    zlistx_destroy (&files);
    zetl_csv_destroy (&self->csv);
    zetl_feed_fini (&self->feed);
    zhashx_destroy (&self->committed);
}
