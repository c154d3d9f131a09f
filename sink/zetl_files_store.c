/*  zetl_files_store - the directory tree of a files target, written atomically  */
#include "zetl_files_store.h"
#include "zetl_log.h"
#include "zetl_time.h"

#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define S_STALE_TEMP_S 3600  //  a temp file this old belongs to no live write

//  One file staged: written to its temp file, waiting to be renamed
typedef struct {
    char *intent;    //  the intent of its key (path)
    char *temp;      //  temp file, until renamed
    char *final;     //  its name in the day directory
    char *relative;  //  the same, relative to the root (what the intent lists)
    char *day_dir;   //  its day directory
    uint64_t last;   //  highest position it holds
    bool renamed;    //  visible now
} s_staged_t;

struct zetl_files_store {
    char *root;          //  the target's path
    char *pipeline;      //  pipeline id: the first directory under root
    char *writer;        //  writer name, prefix of its temp files
    char *tmp_dir;       //  root/.zetl/tmp
    char *intent_dir;    //  root/.zetl/intent/<pipeline>
    uint64_t sequence;   //  temp files made
    s_staged_t *staged;  //  files staged or published, not settled
    size_t count;        //  entries in staged
    size_t capacity;     //  room in staged
};

static char *
s_errno_text (const char *what, const char *path)
{
    return zsys_sprintf ("%s %s: %s; check that the files target's path exists, is writable "
                         "and has free space",
                         what, path, strerror (errno));
}

//  fsync directory PATH, so that names made or renamed in it last
static int
s_sync_dir (const char *path)
{
    int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync (fd);
    close (fd);
    return rc;
}

//  mkdir PATH if missing; when made, fsync its parent so the name lasts
static int
s_mkdir_synced (const char *path)
{
    if (mkdir (path, 0755) != 0)
        return errno == EEXIST ? 0 : -1;
    char *parent = strdup (path);
    char *slash = strrchr (parent, '/');
    int rc = 0;
    if (slash && slash != parent) {
        *slash = 0;
        rc = s_sync_dir (parent);
    }
    free (parent);
    return rc;
}

//  mkdir -p PATH, each level made synced
static int
s_mkdir_parents (const char *path)
{
    char *copy = strdup (path);
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        int rc = s_mkdir_synced (copy);
        *p = '/';
        if (rc != 0) {
            free (copy);
            return -1;
        }
    }
    int rc = s_mkdir_synced (copy);
    free (copy);
    return rc;
}

//  Remove temp files WRITER left (it is starting again) and any too old to
//  belong to a live write: they were never visible
static void
s_clean_temps (zetl_files_store_t *self)
{
    DIR *dir = opendir (self->tmp_dir);
    if (!dir)
        return;
    char *prefix = zsys_sprintf ("%s-", self->writer);
    time_t now = time (NULL);
    size_t removed = 0;
    struct dirent *item;
    while ((item = readdir (dir))) {
        if (item->d_name[0] == '.')
            continue;
        char *path = zsys_sprintf ("%s/%s", self->tmp_dir, item->d_name);
        struct stat info;
        bool mine = strncmp (item->d_name, prefix, strlen (prefix)) == 0;
        if ((mine || (stat (path, &info) == 0 && now - info.st_mtime > S_STALE_TEMP_S)) &&
            unlink (path) == 0)
            removed++;
        free (path);
    }
    closedir (dir);
    free (prefix);
    if (removed)
        zetl_log_info ("files_store", "temp_files_removed",
                       json_pack ("{s:s, s:s, s:I}", "dir", self->tmp_dir, "writer", self->writer,
                                  "removed", (json_int_t) removed));
}

zetl_files_store_t *
zetl_files_store_new (const char *root, const char *pipeline, const char *writer, char **error)
{
    zetl_files_store_t *self = (zetl_files_store_t *) zmalloc (sizeof (zetl_files_store_t));
    self->root = strdup (root);
    self->pipeline = strdup (pipeline);
    self->writer = strdup (writer);
    for (char *p = self->writer; *p; p++)
        if (*p == '/')
            *p = '.';  //  A file name, not a path
    self->tmp_dir = zsys_sprintf ("%s/.zetl/tmp", root);
    self->intent_dir = zsys_sprintf ("%s/.zetl/intent/%s", root, pipeline);
    if (s_mkdir_parents (self->tmp_dir) != 0 || s_mkdir_parents (self->intent_dir) != 0) {
        *error = s_errno_text ("cannot create", self->intent_dir);
        zetl_files_store_destroy (&self);
        return NULL;
    }
    s_clean_temps (self);
    return self;
}

static void
s_staged_free (s_staged_t *staged)
{
    free (staged->intent);
    free (staged->temp);
    free (staged->final);
    free (staged->relative);
    free (staged->day_dir);
    memset (staged, 0, sizeof *staged);
}

void
zetl_files_store_destroy (zetl_files_store_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_files_store_t *self = *self_p;
        zetl_files_store_discard (self);
        for (size_t index = 0; index < self->count; index++)
            s_staged_free (&self->staged[index]);
        free (self->staged);
        free (self->root);
        free (self->pipeline);
        free (self->writer);
        free (self->tmp_dir);
        free (self->intent_dir);
        free (self);
        *self_p = NULL;
    }
}

//  The name of SOURCE in file names: its xxh3-64 in hex, so any source
//  name (a path, a producer id) makes a short, safe file name
static void
s_source_hash (const char *source, char text[17])
{
    snprintf (text, 17, "%016" PRIx64, (uint64_t) XXH3_64bits (source, strlen (source)));
}

//  YYYY/MM/DD of DAY (days since the epoch) into TEXT
static void
s_day_path (int32_t day, char text[16])
{
    zetl_time_format_date (day, text, 16);
    for (char *p = text; *p; p++)
        if (*p == '-')
            *p = '/';
}

static char *
s_intent_path (zetl_files_store_t *self, const char *source, uint32_t partition)
{
    char hash[17];
    s_source_hash (source, hash);
    return zsys_sprintf ("%s/%s-p%u", self->intent_dir, hash, partition);
}

//  Write all of SIZE bytes at DATA to a new file PATH and fsync it
static int
s_write_file (const char *path, const void *data, size_t size)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    const char *at = (const char *) data;
    while (size > 0) {
        ssize_t written = write (fd, at, size);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0) {
            int saved = errno;
            close (fd);
            unlink (path);
            errno = saved;
            return -1;
        }
        at += written;
        size -= (size_t) written;
    }
    if (fsync (fd) != 0) {
        int saved = errno;
        close (fd);
        unlink (path);
        errno = saved;
        return -1;
    }
    return close (fd);
}

int
zetl_files_store_recover (zetl_files_store_t *self, const char *source, uint32_t partition,
                          int64_t floor, const zetl_ranges_t *ranges, size_t *removed, char **error)
{
    char *intent = s_intent_path (self, source, partition);
    FILE *file = fopen (intent, "r");
    if (!file) {
        int rc = errno == ENOENT ? 0 : -1;
        if (rc)
            *error = s_errno_text ("cannot read the intent", intent);
        free (intent);
        return rc;
    }
    //  Each line: the file's last position, a tab, its path under the root
    char line[4096];
    int rc = 0;
    while (rc == 0 && fgets (line, sizeof line, file)) {
        char *tab = strchr (line, '\t');
        size_t len = strlen (line);
        if (!tab || len == 0 || line[len - 1] != '\n')
            continue;  //  Cannot be: intents are renamed into place whole
        line[len - 1] = 0;
        uint64_t last = strtoull (line, NULL, 10);
        bool committed = ranges ? zetl_ranges_has (ranges, last) : (int64_t) last <= floor;
        if (committed)
            continue;
        char *path = zsys_sprintf ("%s/%s", self->root, tab + 1);
        if (unlink (path) == 0) {
            (*removed)++;
            char *dir = strdup (path);
            *strrchr (dir, '/') = 0;
            s_sync_dir (dir);
            free (dir);
        }
        else if (errno != ENOENT) {
            *error = s_errno_text ("cannot remove the uncommitted file", path);
            rc = -1;
        }
        free (path);
    }
    fclose (file);
    //  Only once every uncommitted file it lists is gone
    if (rc == 0 && unlink (intent) != 0 && errno != ENOENT) {
        *error = s_errno_text ("cannot remove the intent", intent);
        rc = -1;
    }
    free (intent);
    return rc;
}

int
zetl_files_store_stage (zetl_files_store_t *self, const char *source, uint32_t partition,
                        int32_t day, uint64_t first, uint64_t last, const char *suffix,
                        const void *data, size_t size, char **error)
{
    char date[16];
    s_day_path (day, date);
    char hash[17];
    s_source_hash (source, hash);
    if (self->count == self->capacity) {
        self->capacity = self->capacity ? 2 * self->capacity : 16;
        self->staged = (s_staged_t *) realloc (self->staged, self->capacity * sizeof (s_staged_t));
        assert (self->staged);
    }
    s_staged_t *staged = &self->staged[self->count];
    memset (staged, 0, sizeof *staged);
    staged->temp =
        zsys_sprintf ("%s/%s-%" PRIu64 ".tmp", self->tmp_dir, self->writer, self->sequence++);
    if (s_write_file (staged->temp, data, size) != 0) {
        *error = s_errno_text ("cannot write", staged->temp);
        s_staged_free (staged);
        return -1;
    }
    staged->intent = s_intent_path (self, source, partition);
    staged->relative = zsys_sprintf ("%s/%s/part-%s-p%u-%" PRIu64 "-%" PRIu64 "%s", self->pipeline,
                                     date, hash, partition, first, last, suffix);
    staged->final = zsys_sprintf ("%s/%s", self->root, staged->relative);
    staged->day_dir = zsys_sprintf ("%s/%s/%s", self->root, self->pipeline, date);
    staged->last = last;
    self->count++;
    return 0;
}

//  Write the intent of the key of staged file FIRST: every staged file of
//  that key, with its last position. Written whole to a temp file and
//  renamed, so that it is never read half written
static int
s_write_intent (zetl_files_store_t *self, size_t first, char **error)
{
    const char *intent = self->staged[first].intent;
    zchunk_t *text = zchunk_new (NULL, 256);
    for (size_t index = first; index < self->count; index++) {
        s_staged_t *staged = &self->staged[index];
        if (strcmp (staged->intent, intent) != 0)
            continue;
        char *line = zsys_sprintf ("%" PRIu64 "\t%s\n", staged->last, staged->relative);
        zchunk_extend (text, line, strlen (line));
        free (line);
    }
    char *temp =
        zsys_sprintf ("%s/%s-%" PRIu64 ".tmp", self->tmp_dir, self->writer, self->sequence++);
    int rc = s_write_file (temp, zchunk_data (text), zchunk_size (text));
    if (rc == 0 && rename (temp, intent) != 0) {
        unlink (temp);
        rc = -1;
    }
    if (rc != 0)
        *error = s_errno_text ("cannot write the intent", intent);
    free (temp);
    zchunk_destroy (&text);
    return rc;
}

//  Is staged file INDEX the first of its key?
static bool
s_first_of_key (zetl_files_store_t *self, size_t index)
{
    for (size_t before = 0; before < index; before++)
        if (strcmp (self->staged[before].intent, self->staged[index].intent) == 0)
            return false;
    return true;
}

//  Is staged file INDEX the first of its day directory?
static bool
s_first_of_day (zetl_files_store_t *self, size_t index)
{
    for (size_t before = 0; before < index; before++)
        if (strcmp (self->staged[before].day_dir, self->staged[index].day_dir) == 0)
            return false;
    return true;
}

int
zetl_files_store_publish (zetl_files_store_t *self, char **error)
{
    //  1. The intents, durable before any file shows: whatever a crash
    //  leaves visible is listed by one
    for (size_t index = 0; index < self->count; index++)
        if (s_first_of_key (self, index) && s_write_intent (self, index, error) != 0)
            return -1;
    if (self->count && s_sync_dir (self->intent_dir) != 0) {
        *error = s_errno_text ("cannot fsync", self->intent_dir);
        return -1;
    }
    //  2. The renames, each file whole since its fsync
    for (size_t index = 0; index < self->count; index++) {
        s_staged_t *staged = &self->staged[index];
        if (staged->renamed)
            continue;
        if (s_mkdir_parents (staged->day_dir) != 0) {
            *error = s_errno_text ("cannot create", staged->day_dir);
            return -1;
        }
        if (rename (staged->temp, staged->final) != 0) {
            *error = s_errno_text ("cannot rename into place", staged->final);
            return -1;
        }
        staged->renamed = true;
    }
    //  3. The day directories, so that the names last
    for (size_t index = 0; index < self->count; index++)
        if (s_first_of_day (self, index) && s_sync_dir (self->staged[index].day_dir) != 0) {
            *error = s_errno_text ("cannot fsync", self->staged[index].day_dir);
            return -1;
        }
    return 0;
}

void
zetl_files_store_settle (zetl_files_store_t *self)
{
    //  An intent that outlives this (a crash now) lists committed files
    //  only, which recovery keeps: no fsync needed
    for (size_t index = 0; index < self->count; index++) {
        if (s_first_of_key (self, index))
            unlink (self->staged[index].intent);
    }
    for (size_t index = 0; index < self->count; index++)
        s_staged_free (&self->staged[index]);
    self->count = 0;
}

void
zetl_files_store_discard (zetl_files_store_t *self)
{
    for (size_t index = 0; index < self->count; index++) {
        if (!self->staged[index].renamed)
            unlink (self->staged[index].temp);
        s_staged_free (&self->staged[index]);
    }
    self->count = 0;
}

size_t
zetl_files_store_staged (const zetl_files_store_t *self)
{
    return self->count;
}
