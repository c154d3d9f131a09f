/*  zetl_source_file - a pipeline's file source, as an actor  */
#include "zetl_source_file.h"
#include "zetl_csv.h"
#include "zetl_feed.h"
#include "zetl_follow.h"

#include <fcntl.h>
#include <sys/stat.h>

#define S_READ_BLOCK (1024 * 1024)  //  lines are read in blocks of this many bytes (more for a longer line)
#define S_POLL_MS 250               //  a followed source looks at its files at least this often
#define S_RESCAN_MS 1000            //  and at the paths its pattern names, without inotify news

typedef struct {
    zetl_feed_t feed;     //  credit, chunk, conversion, committed positions
    zhashx_t *committed;  //  "source\x1fpartition" -> zetl_pg_position_t *
    zetl_csv_t *csv;      //  the parser of the file being read (borrowed), or NULL
    zetl_csv_t *own_csv;  //  without follow: the one parser, reset per file
    char *current;        //  the source being read: the feed borrows it
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

typedef struct {
    int fd;           //  the file (its offset is not used: reads say where)
    char *data;       //  bytes read and not yet handed out start at data + next
    size_t capacity;  //  bytes allocated at data
    size_t next;      //  start of the next line
    size_t end;       //  end of the bytes read
    uint64_t offset;  //  where data starts in the file
    bool eof;         //  nothing more to read for now
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
        reader->offset += reader->next;
        reader->next = 0;
        reader->end = left;
    }
    if (reader->end == reader->capacity) {
        reader->capacity *= 2;
        reader->data = (char *) realloc (reader->data, reader->capacity);
        assert (reader->data);
    }
    while (true) {
        ssize_t got = pread (reader->fd, reader->data + reader->end,
                             reader->capacity - reader->end, (off_t) (reader->offset + reader->end));
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

//  The next line, its newline included, as *LINE and its length; borrowed
//  until the next call. With WHOLE the last line may have no newline;
//  without, such a line is left for later (a writer is still writing it).
//  Returns false when there is none. The lines stay in the buffer they
//  were read into: no copy.
static bool
s_reader_line (s_reader_t *reader, bool whole, const char **line, size_t *len)
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
            if (reader->end == reader->next || !whole)
                return false;
            *line = reader->data + reader->next;
            *len = reader->end - reader->next;
            reader->next = reader->end;
            return true;
        }
        scanned += reader->next;
    }
}

//  Read the lines of FD from byte START (a line's start) into the feed; with
//  WHOLE a last line without newline too. Returns where reading stopped: the
//  start of the first line not read.
static uint64_t
s_read_lines (s_source_t *self, int fd, uint64_t start, bool whole)
{
    s_reader_t reader = {fd, (char *) zmalloc (S_READ_BLOCK), S_READ_BLOCK, 0, 0, start, false};
    uint64_t position = start;
    const char *line;
    size_t len;
    while (!self->feed.terminated && s_reader_line (&reader, whole, &line, &len)) {
        s_line (self, line, len, position);
        position += (uint64_t) len;
        if ((position & 0xFFFF) < (uint64_t) len)
            zetl_feed_poll_pipe (&self->feed);
    }
    free (reader.data);
    return position;
}

//  Make NAME the source being read (the feed takes its committed positions)
static void
s_begin (s_source_t *self, const char *name)
{
    if (self->current && streq (self->current, name))
        return;
    char *previous = self->current;  //  The feed borrows it until it begins the next
    self->current = strdup (name);
    zetl_feed_begin (&self->feed, self->current, self->committed);
    free (previous);
}

//  Where to start reading FD, the source being read (at PATH): its lowest
//  committed position over the partitions, when that is safe, else 0.
//  Every record at or below it is committed in every partition, and so
//  would be skipped anyway. It is safe when every partition has a committed
//  position of this source (one that has none may hold records anywhere in
//  the file) and that position starts a line of the file as it is now (the
//  byte before it is a newline; a file rewritten in place is read from 0
//  and its records skipped one by one, as before). CSV: the header is read
//  first, as the names of the fields.
static uint64_t
s_resume_at (s_source_t *self, int fd, const char *path)
{
    int64_t lowest = INT64_MAX;
    for (uint32_t partition = 0; partition < self->feed.pipeline->partitions; partition++)
        if (self->feed.committed[partition] < lowest)
            lowest = self->feed.committed[partition];
    char before = 0;
    if (lowest <= 0 || pread (fd, &before, 1, (off_t) lowest - 1) != 1 || before != '\n')
        return 0;
    if (self->csv) {
        s_reader_t reader = {fd, (char *) zmalloc (4096), 4096, 0, 0, 0, false};
        const char *line;
        size_t len;
        bool header = s_reader_line (&reader, false, &line, &len) && (int64_t) len <= lowest;
        const char *reason = NULL;
        if (header)
            zetl_csv_feed_line (self->csv, line, len, 0, s_csv_row, self, &reason);
        free (reader.data);
        if (!header)
            return 0;
    }
    zetl_log_info ("source", "source_resumed",
                   json_pack ("{s:s, s:s, s:s, s:I}", "pipeline", self->feed.pipeline->id,
                              "source", self->current, "path", path, "position",
                              (json_int_t) lowest));
    return (uint64_t) lowest;
}

//  A new CSV parser for the next file, or NULL for JSONL
static zetl_csv_t *
s_new_csv (s_source_t *self)
{
    const zetl_pipeline_t *pipeline = self->feed.pipeline;
    if (pipeline->source.format != ZETL_FORMAT_CSV)
        return NULL;
    return zetl_csv_new (pipeline->source.delimiter, self->feed.names, ZETL_EXTRACT_COUNT);
}

//  Without follow: read the file at PATH once, named by its path
static void
s_read_file (s_source_t *self, const char *path)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        zetl_log_error ("source", "file_unreadable",
                        json_pack ("{s:s, s:s, s:s, s:s}", "pipeline", self->feed.pipeline->id,
                                   "path", path, "error", strerror (errno), "hint",
                                   "check the path and its permissions"));
        return;
    }
    s_begin (self, path);
    zetl_csv_destroy (&self->own_csv);
    self->csv = self->own_csv = s_new_csv (self);
    s_read_lines (self, fd, s_resume_at (self, fd, path), true);
    if (self->csv)
        zetl_csv_finish (self->csv, s_csv_row, self);
    close (fd);
    zetl_feed_send_chunk (&self->feed);
}

//  Follow: read what FILE holds past where reading stopped. FINAL (with
//  --once, or when it was rotated away a while ago) reads it to its very
//  end and marks it done.
static void
s_follow_read (s_source_t *self, zetl_follow_t *follow, zetl_follow_file_t *file, bool once)
{
    bool final = once || (file->gone && zclock_mono () - file->gone_ms >= ZETL_FOLLOW_ROTATE_WAIT_MS);
    int64_t size = zetl_follow_check (follow, file);
    bool more = size > (int64_t) file->position || !file->started;
    if (size >= 0 && (more || final) && zetl_follow_name (follow, file, final)) {
        s_begin (self, file->name);
        if (!file->started) {
            file->csv = s_new_csv (self);
            self->csv = file->csv;
            file->position = s_resume_at (self, file->fd, file->path);
            file->started = true;
        }
        self->csv = file->csv;
        file->position = s_read_lines (self, file->fd, file->position, final);
        if (final && file->csv && !self->feed.terminated)
            zetl_csv_finish (file->csv, s_csv_row, self);
    }
    if (final && !self->feed.terminated)
        file->done = true;
}

//  Wait up to MS for commands (credit, STOP, $TERM) or news of the files.
//  Returns true when files may have appeared, moved or gone.
static bool
s_wait (s_source_t *self, zetl_follow_t *follow, int ms)
{
    int fd = zetl_follow_fd (follow);
    zmq_pollitem_t items[2] = {{zsock_resolve (self->feed.pipe), 0, ZMQ_POLLIN, 0},
                               {NULL, fd, ZMQ_POLLIN, 0}};
    int64_t until = zclock_mono () + ms;
    while (!self->feed.terminated) {
        int64_t left = until - zclock_mono ();
        if (left <= 0)
            break;
        int rc = zmq_poll (items, fd >= 0 ? 2 : 1, (long) left);
        if (rc < 0 && errno != EINTR) {
            self->feed.terminated = true;  //  The context is going: the process ends
            break;
        }
        if (rc > 0 && (items[0].revents & ZMQ_POLLIN))
            zetl_feed_take_command (&self->feed);
        if (rc > 0 && fd >= 0 && (items[1].revents & ZMQ_POLLIN))
            return zetl_follow_events (follow);  //  Files grew or moved: read now
    }
    return false;
}

//  Follow: read the files, then keep reading what comes, like tail -F, until
//  STOP (with --once, until everything there is now is read)
static void
s_follow (s_source_t *self, bool once)
{
    const zetl_pipeline_t *pipeline = self->feed.pipeline;
    zetl_follow_t *follow = zetl_follow_new (pipeline);
    bool rescan = true, first = true;
    int64_t next_scan = 0;
    uint64_t read_at_caught_up = UINT64_MAX;  //  records read or skipped when last caught up
    while (!self->feed.terminated) {
        if (rescan || zclock_mono () >= next_scan) {
            zetl_follow_scan (follow);
            next_scan = zclock_mono () + S_RESCAN_MS;
            if (first && !zetl_follow_first (follow))
                zetl_log_warn ("source", "no_files",
                               json_pack ("{s:s, s:s, s:s}", "pipeline", pipeline->id, "path",
                                          pipeline->source.path, "hint",
                                          "waiting for files; source.path is a file, a directory "
                                          "or a glob"));
            first = false;
        }
        for (zetl_follow_file_t *file = zetl_follow_first (follow);
             file && !self->feed.terminated; file = zetl_follow_next (follow))
            s_follow_read (self, follow, file, once);
        zetl_follow_purge (follow);
        if (once || self->feed.terminated)
            break;
        //  Everything there is has been read: say so each time something was
        uint64_t read = self->feed.records + self->feed.skipped;
        if (read != read_at_caught_up) {
            zetl_feed_caught_up (&self->feed);
            read_at_caught_up = read;
        }
        rescan = s_wait (self, follow, S_POLL_MS);
    }
    zetl_follow_destroy (&follow);
}

//  Without follow: read every file the pattern names, once
static void
s_read_all (s_source_t *self)
{
    const zetl_pipeline_t *pipeline = self->feed.pipeline;
    zlistx_t *files = zetl_follow_paths (pipeline->source.path);
    if (zlistx_size (files) == 0)
        zetl_log_warn ("source", "no_files",
                       json_pack ("{s:s, s:s, s:s}", "pipeline", pipeline->id, "path",
                                  pipeline->source.path, "hint",
                                  "check source.path; it is a file, a directory or a glob"));
    for (const char *path = (const char *) zlistx_first (files); path && !self->feed.terminated;
         path = (const char *) zlistx_next (files))
        s_read_file (self, path);
    zlistx_destroy (&files);
}

void
zetl_source_file_actor (zsock_t *pipe, void *args)
{
    zetl_source_args_t *source_args = (zetl_source_args_t *) args;
    s_source_t self_data, *self = &self_data;
    memset (self, 0, sizeof *self);
    zetl_feed_init (&self->feed, pipe, source_args->config, source_args->pipeline, 0);
    self->committed = source_args->committed;
    bool once = source_args->once;
    zsock_signal (pipe, 0);

    const zetl_pipeline_t *pipeline = self->feed.pipeline;
    if (pipeline->source.follow)
        s_follow (self, once);
    else
        s_read_all (self);
    if (!self->feed.terminated)
        zetl_log_info ("source", "source_drained",
                       json_pack ("{s:s, s:I, s:I, s:I}", "pipeline", pipeline->id, "records",
                                  (json_int_t) self->feed.records, "skipped",
                                  (json_int_t) self->feed.skipped, "rejected",
                                  (json_int_t) self->feed.bad_rows));
    zetl_feed_finish (&self->feed);
    zetl_csv_destroy (&self->own_csv);
    zetl_feed_fini (&self->feed);
    free (self->current);
    zhashx_destroy (&self->committed);
}
