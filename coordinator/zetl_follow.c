/*  zetl_follow - the files a followed source reads, like tail -F  */
#include "zetl_follow.h"
#include "zetl_log.h"

#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <libgen.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <xxhash.h>

#define S_PRINT_MAX 4096  //  bytes a fingerprint covers at most

struct zetl_follow {
    const zetl_pipeline_t *pipeline;
    zlistx_t *files;  //  zetl_follow_file_t *, in the order found
    int inotify;      //  descriptor, or -1
};

zlistx_t *
zetl_follow_paths (const char *pattern)
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

static void
s_file_destroy (zetl_follow_file_t **file_p)
{
    zetl_follow_file_t *file = *file_p;
    if (file) {
        if (file->fd >= 0)
            close (file->fd);
        zetl_csv_destroy (&file->csv);
        free (file->name);
        free (file->path);
        free (file->truncated_name);
        free (file);
        *file_p = NULL;
    }
}

//  Watch directory DIR for files that appear, move, go or grow
static void
s_watch (zetl_follow_t *self, const char *dir)
{
    if (self->inotify >= 0)
        inotify_add_watch (self->inotify, dir,
                           IN_MODIFY | IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE
                               | IN_DELETE_SELF | IN_MOVE_SELF);
}

//  Watch the directory of PATH
static void
s_watch_parent (zetl_follow_t *self, const char *path)
{
    char *copy = strdup (path);
    s_watch (self, dirname (copy));
    free (copy);
}

zetl_follow_t *
zetl_follow_new (const zetl_pipeline_t *pipeline)
{
    zetl_follow_t *self = (zetl_follow_t *) zmalloc (sizeof (zetl_follow_t));
    self->pipeline = pipeline;
    self->files = zlistx_new ();
    zlistx_set_destructor (self->files, (zlistx_destructor_fn *) s_file_destroy);
    self->inotify = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
    if (self->inotify < 0)
        zetl_log_warn ("source", "inotify_unavailable",
                       json_pack ("{s:s, s:s, s:s}", "pipeline", pipeline->id, "error",
                                  strerror (errno), "hint",
                                  "files are looked at every 250 ms instead; raise "
                                  "fs.inotify.max_user_instances to wake at once"));
    struct stat info;
    const char *pattern = pipeline->source.path;
    if (stat (pattern, &info) == 0 && S_ISDIR (info.st_mode))
        s_watch (self, pattern);
    else
        s_watch_parent (self, pattern);
    return self;
}

void
zetl_follow_destroy (zetl_follow_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_follow_t *self = *self_p;
        zlistx_destroy (&self->files);  //  Closes every file
        if (self->inotify >= 0)
            close (self->inotify);
        free (self);
        *self_p = NULL;
    }
}

//  The identity of what statx found, into FILE
static void
s_identity (zetl_follow_file_t *file, const struct statx *info)
{
    file->dev_major = info->stx_dev_major;
    file->dev_minor = info->stx_dev_minor;
    file->ino = info->stx_ino;
    //  Some filesystems answer a zero birth time rather than none
    file->has_btime = (info->stx_mask & STATX_BTIME)
                      && (info->stx_btime.tv_sec || info->stx_btime.tv_nsec);
    file->btime_s = info->stx_btime.tv_sec;
    file->btime_ns = info->stx_btime.tv_nsec;
}

//  The followed file with this device and inode, or NULL. An open
//  descriptor keeps its inode allocated, so while followed no other file
//  has its number.
static zetl_follow_file_t *
s_find (zetl_follow_t *self, const struct statx *info)
{
    for (zetl_follow_file_t *file = (zetl_follow_file_t *) zlistx_first (self->files); file;
         file = (zetl_follow_file_t *) zlistx_next (self->files))
        if (file->ino == info->stx_ino && file->dev_major == info->stx_dev_major
            && file->dev_minor == info->stx_dev_minor)
            return file;
    return NULL;
}

//  PATH, found by the scan: a file followed already (renamed perhaps), or a new one
static void
s_found (zetl_follow_t *self, const char *path, zhashx_t *seen)
{
    struct statx info;
    if (statx (AT_FDCWD, path, 0, STATX_BASIC_STATS | STATX_BTIME, &info) != 0)
        return;  //  Gone since the glob
    zetl_follow_file_t *file = s_find (self, &info);
    if (!file) {
        //  Identify what was opened, not what the path named a moment before
        int fd = open (path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            zetl_log_error ("source", "file_unreadable",
                            json_pack ("{s:s, s:s, s:s, s:s}", "pipeline", self->pipeline->id,
                                       "path", path, "error", strerror (errno), "hint",
                                       "check the path and its permissions"));
            return;
        }
        if (statx (fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, &info) != 0
            || (file = s_find (self, &info))) {
            close (fd);
            if (!file)
                return;
        }
        else {
            file = (zetl_follow_file_t *) zmalloc (sizeof (zetl_follow_file_t));
            file->fd = fd;
            s_identity (file, &info);
            zlistx_add_end (self->files, file);
            s_watch_parent (self, path);
        }
    }
    if (!file->path || !streq (file->path, path)) {
        if (file->path && file->name)
            zetl_log_info ("source", "file_renamed",
                           json_pack ("{s:s, s:s, s:s, s:s}", "pipeline", self->pipeline->id,
                                      "source", file->name, "from", file->path, "to", path));
        free (file->path);
        file->path = strdup (path);
    }
    file->gone = false;
    zhashx_insert (seen, path, file);
}

void
zetl_follow_scan (zetl_follow_t *self)
{
    zlistx_t *paths = zetl_follow_paths (self->pipeline->source.path);
    zhashx_t *seen = zhashx_new ();  //  path -> file, of this scan
    for (const char *path = (const char *) zlistx_first (paths); path;
         path = (const char *) zlistx_next (paths))
        s_found (self, path, seen);
    for (zetl_follow_file_t *file = (zetl_follow_file_t *) zlistx_first (self->files); file;
         file = (zetl_follow_file_t *) zlistx_next (self->files)) {
        if (file->gone || (file->path && zhashx_lookup (seen, file->path) == file))
            continue;
        file->gone = true;
        file->gone_ms = zclock_mono ();
        zetl_log_info ("source", "file_rotated",
                       json_pack ("{s:s, s:s?, s:s?, s:I}", "pipeline", self->pipeline->id,
                                  "source", file->name, "path", file->path, "position",
                                  (json_int_t) file->position));
    }
    zhashx_destroy (&seen);
    zlistx_destroy (&paths);
}

zetl_follow_file_t *
zetl_follow_first (zetl_follow_t *self)
{
    return (zetl_follow_file_t *) zlistx_first (self->files);
}

zetl_follow_file_t *
zetl_follow_next (zetl_follow_t *self)
{
    return (zetl_follow_file_t *) zlistx_next (self->files);
}

//  The bytes FILE's fingerprint covers: up to the end of its first line
//  (CSV: second), at most S_PRINT_MAX. Reads them into BUFFER; returns their
//  count, or 0 if they are not all written yet (unless WHOLE).
static size_t
s_print_span (zetl_follow_t *self, zetl_follow_file_t *file, char *buffer, bool whole)
{
    ssize_t got = pread (file->fd, buffer, S_PRINT_MAX, 0);
    if (got <= 0)
        return 0;
    int lines = self->pipeline->source.format == ZETL_FORMAT_CSV ? 2 : 1;
    for (ssize_t at = 0; at < got; at++)
        if (buffer[at] == '\n' && --lines == 0)
            return (size_t) at + 1;
    return got == S_PRINT_MAX || whole ? (size_t) got : 0;
}

bool
zetl_follow_name (zetl_follow_t *self, zetl_follow_file_t *file, bool whole)
{
    if (file->name)
        return true;
    char buffer[S_PRINT_MAX];
    size_t len = s_print_span (self, file, buffer, whole);
    if (len == 0)
        return false;
    file->print_len = len;
    file->print = XXH3_64bits (buffer, len);
    char btime[40] = "-";
    if (file->has_btime)
        snprintf (btime, sizeof btime, "%" PRId64 ".%09u", file->btime_s, file->btime_ns);
    file->name = zsys_sprintf ("file@%u:%u:%" PRIu64 ":%s:%016" PRIx64, file->dev_major,
                               file->dev_minor, file->ino, btime, file->print);
    if (file->truncated_name && streq (file->truncated_name, file->name)) {
        //  Rewritten with the same first line: the name cannot tell the
        //  contents apart, so this run gives the new one a name of its own
        char *name = zsys_sprintf ("%s~%" PRId64, file->name, zclock_time ());
        free (file->name);
        file->name = name;
    }
    zetl_log_info ("source", "file_followed",
                   json_pack ("{s:s, s:s, s:s?}", "pipeline", self->pipeline->id, "source",
                              file->name, "path", file->path));
    return true;
}

//  True when FILE's first bytes are no longer those its name was made from
static bool
s_rewritten (zetl_follow_file_t *file)
{
    char buffer[S_PRINT_MAX];
    ssize_t got = pread (file->fd, buffer, file->print_len, 0);
    return got != (ssize_t) file->print_len || XXH3_64bits (buffer, file->print_len) != file->print;
}

int64_t
zetl_follow_check (zetl_follow_t *self, zetl_follow_file_t *file)
{
    struct stat info;
    if (fstat (file->fd, &info) != 0)
        return -1;
    int64_t size = (int64_t) info.st_size;
    if (!file->name)
        return size;
    int64_t position = (int64_t) file->position;
    if (size == position || (size > position && !s_rewritten (file)))
        return size;
    zetl_log_warn ("source", "file_truncated",
                   json_pack ("{s:s, s:s, s:s?, s:I, s:I, s:s}", "pipeline", self->pipeline->id,
                              "source", file->name, "path", file->path, "position",
                              (json_int_t) file->position, "size", (json_int_t) size, "hint",
                              "read again from byte 0 as a new source; lines written between a "
                              "copy and its truncation are lost: rotate by rename instead"));
    free (file->truncated_name);
    file->truncated_name = file->name;
    file->name = NULL;
    file->started = false;
    file->position = 0;
    file->print_len = 0;
    zetl_csv_destroy (&file->csv);
    return size;
}

void
zetl_follow_purge (zetl_follow_t *self)
{
    zetl_follow_file_t *file = (zetl_follow_file_t *) zlistx_first (self->files);
    while (file) {
        void *handle = zlistx_cursor (self->files);
        file = (zetl_follow_file_t *) zlistx_next (self->files);
        if (((zetl_follow_file_t *) zlistx_handle_item (handle))->done)
            zlistx_delete (self->files, handle);
    }
}

int
zetl_follow_fd (zetl_follow_t *self)
{
    return self->inotify;
}

bool
zetl_follow_events (zetl_follow_t *self)
{
    bool changed = false;
    //  Aligned as inotify(7) asks
    _Alignas (struct inotify_event) char buffer[8192];
    ssize_t got;
    while (self->inotify >= 0 && (got = read (self->inotify, buffer, sizeof buffer)) > 0) {
        for (char *at = buffer; at < buffer + got;) {
            const struct inotify_event *event = (const struct inotify_event *) at;
            if (event->mask & ~(uint32_t) IN_MODIFY)
                changed = true;  //  Created, moved, deleted, overflowed, watch gone
            at += sizeof (struct inotify_event) + event->len;
        }
    }
    return changed;
}
