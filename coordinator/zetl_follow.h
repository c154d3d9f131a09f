/*  zetl_follow - the files a followed source reads, like tail -F

    Owned by the file source actor (zetl_source_file) of a pipeline with
    `follow: true`, one per actor. It knows which files `source.path` names
    (a file, a directory or a glob), keeps each one open by its identity
    rather than its path, and tells the actor what changed; the actor reads
    the lines. Nothing here is shared between threads.

    Identity and source names. A followed file is a source named

        file@<dev major>:<dev minor>:<inode>:<birth time s.ns>:<fingerprint>

    for example file@254:0:5308679:1795409561.530345851:9f3c0e1a2b4d5e6f,
    where the fingerprint is the xxh3-64 of the file's first line (JSONL) or
    first two lines (CSV: the header and the first row), at most 4096 bytes.
    The name does not hold the path, so it survives a rename: after
    app.log -> app.log.1 the file keeps its committed positions, and a
    restart that finds it as app.log.1 skips what was committed. A new
    app.log is another inode, or the same inode number reused after a
    delete, with another birth time (statx, nanoseconds): another name, so
    its positions never meet the old file's. Where the filesystem has no
    birth time the name holds "-" there and the fingerprint tells a reused
    inode's new content from the old. A file is named once its first line
    (CSV: two lines) is complete; until then it holds nothing to read. The
    "file_followed" log event gives each name with its path.
    Moving the files to another filesystem (or a device number that changes
    across reboots) gives new names: the files are read again, their
    records counted again, the targets unchanged.

    Rotation. A file no longer at any path the pattern names (renamed away,
    or deleted) is still read through the descriptor held open, for
    ZETL_FOLLOW_ROTATE_WAIT_MS (a writer may not have reopened yet), then to
    its very end, a last line without newline included, and closed.

    Truncation (copytruncate). A file whose size falls below the position
    read, or whose first line changes, is logged ("file_truncated") and read
    again from byte 0 as a new source, named by its new first line. zetl
    guarantees: each line written after the truncation is read, once, and a
    restart finds the same name. Lines written between the copy and the
    truncation are lost for every reader (copytruncate's own race); if the
    file grows past the old position between two looks, the truncation shows
    only through its first line. If the new first line is byte for byte the
    old one, the name cannot tell the contents apart: in this run the file
    is read as "<name>~<time of detection in ms>", and a restart reads it
    under the plain name, where lines at offsets the old content committed
    are skipped. Rotate by rename (create) rather than copytruncate.

    Waiting. inotify watches the directories of the files followed and of
    the pattern; zetl_follow_events drains its descriptor and says whether
    a file appeared, moved or went (then the caller scans again). The caller
    polls that descriptor together with its pipe; without inotify, it scans
    on a timer.
*/
#ifndef ZETL_FOLLOW_H_INCLUDED
#define ZETL_FOLLOW_H_INCLUDED

#include "zetl_config.h"
#include "zetl_csv.h"

#include <czmq.h>

#define ZETL_FOLLOW_ROTATE_WAIT_MS 1000  //  a file rotated away is followed this long

typedef struct zetl_follow zetl_follow_t;

//  One followed file. Borrowed from its zetl_follow_t, valid until
//  zetl_follow_purge removes it or the follow is destroyed.
typedef struct {
    char *name;           //  source name, NULL until named (zetl_follow_name)
    char *path;           //  where the pattern last found it
    int fd;               //  held open: a rotated file is read through it
    uint64_t position;    //  where reading goes on: the start of the first line not read
    bool started;         //  position set (where reading resumes) since it was named
    bool gone;            //  at no path the pattern names: rotated away or deleted
    int64_t gone_ms;      //  when it went (zclock_mono)
    bool done;            //  read to its end: zetl_follow_purge closes it
    zetl_csv_t *csv;      //  CSV: the parser of this file's rows (owned), or NULL
    //  identity
    uint32_t dev_major, dev_minor;
    uint64_t ino;
    bool has_btime;
    int64_t btime_s;
    uint32_t btime_ns;
    size_t print_len;     //  bytes the fingerprint covers, 0 until named
    uint64_t print;       //  their xxh3-64
    char *truncated_name; //  its name before the last truncation, or NULL
} zetl_follow_file_t;

//  The files PATTERN names: a file, every regular file in a directory, or a
//  glob; sorted by path. Caller owns the result (a list of strings).
zlistx_t *zetl_follow_paths (const char *pattern);

//  Follow the files of PIPELINE's source (borrowed: outlives the follow).
//  Caller owns the result.
zetl_follow_t *zetl_follow_new (const zetl_pipeline_t *pipeline);

//  Close every file and destroy the follow; sets *self_p to NULL.
void zetl_follow_destroy (zetl_follow_t **self_p);

//  Look at the paths the pattern names now: open files not seen before,
//  note renames, and mark files found at no path as gone.
void zetl_follow_scan (zetl_follow_t *self);

//  The first and next followed file, in the order they were found; NULL at
//  the end. Borrowed (see zetl_follow_file_t).
zetl_follow_file_t *zetl_follow_first (zetl_follow_t *self);
zetl_follow_file_t *zetl_follow_next (zetl_follow_t *self);

//  Name FILE from its identity and fingerprint. Without WHOLE the first
//  line (CSV: two) must be complete; with WHOLE (the file is read to its
//  end now) what there is will do. Returns true once FILE has a name.
bool zetl_follow_name (zetl_follow_t *self, zetl_follow_file_t *file, bool whole);

//  Its size now, and whether FILE was truncated or rewritten since it was
//  named: if so it is logged and FILE is reset to be named and read again
//  from byte 0. Returns the size, or -1 if it cannot be read.
int64_t zetl_follow_check (zetl_follow_t *self, zetl_follow_file_t *file);

//  Close and forget the files marked done.
void zetl_follow_purge (zetl_follow_t *self);

//  The inotify descriptor to poll for changes, or -1 without inotify.
int zetl_follow_fd (zetl_follow_t *self);

//  Drain the inotify events. Returns true when a file may have appeared,
//  moved or gone (scan again), false when files only grew.
bool zetl_follow_events (zetl_follow_t *self);

#endif
