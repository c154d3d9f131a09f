/*  zetl_files_store - the directory tree of a files target, written atomically

    Owns the files of one pipeline under a files target's path:

        <path>/<pipeline>/YYYY/MM/DD/part-<source>-p<partition>-<first>-<last><suffix>
        <path>/.zetl/tmp/<writer>-<n>.tmp            files being written
        <path>/.zetl/intent/<pipeline>/<source>-p<partition>
                                                     files published, not yet committed

    <source> is the xxh3-64 of the source name in hex, <first> and <last>
    the lowest and highest source position the file holds: a file holds rows
    of one (source, partition) only, so its name says which records it holds,
    and a replay of the same records writes the same name.

    A file is written to a temp file in the hidden .zetl/tmp (same file
    system), fsync'd, and only then renamed into its day directory, which is
    then fsync'd: a day directory never shows a partial file. Before the
    renames, the store writes (atomically, fsync'd) an intent per
    (source, partition) listing the files about to appear and the last
    position of each. Whoever commits those positions (zetl_files_writer,
    in PostgreSQL) settles the intent afterwards. A crash anywhere in
    between leaves an intent: zetl_files_store_recover, called by the next
    writer of that key while it holds the key's lock and knows what is
    committed, removes every listed file whose last position is not
    committed, and the intent with them. Files are never removed otherwise.

    One instance per writer actor; several writers and sink processes may
    share a path (their temp names differ, and a key's intent is only
    touched under the key's lock). Not thread-safe.
*/
#ifndef ZETL_FILES_STORE_H_INCLUDED
#define ZETL_FILES_STORE_H_INCLUDED

#include "zetl_ranges.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct zetl_files_store zetl_files_store_t;

//  Open the store of PIPELINE under ROOT for writer WRITER (a name unique
//  among live writers: temp files carry it). Makes the hidden directories,
//  and removes temp files this writer's name left and any older than an
//  hour (a crash's leftovers: they were never visible). Returns NULL with
//  *ERROR set (caller owns it). Caller owns the result.
zetl_files_store_t *zetl_files_store_new (const char *root, const char *pipeline,
                                          const char *writer, char **error);
void zetl_files_store_destroy (zetl_files_store_t **self_p);

//  Remove what a crashed or failed commit left of (SOURCE, PARTITION): when
//  the key has an intent, every file it lists whose last position is not
//  committed (ordered mode: not in RANGES; else above FLOOR), then the
//  intent. Call with the key locked and before staging its records.
//  Adds the files removed to *REMOVED. Returns 0, or -1 with *ERROR set.
int zetl_files_store_recover (zetl_files_store_t *self, const char *source, uint32_t partition,
                              int64_t floor, const zetl_ranges_t *ranges, size_t *removed,
                              char **error);

//  Write SIZE bytes at DATA as the file of (SOURCE, PARTITION) holding
//  positions FIRST..LAST whose rows fall on DAY (days since the epoch),
//  named with SUFFIX: to a temp file, fsync'd, not yet visible. Returns 0,
//  or -1 with *ERROR set (caller owns it).
int zetl_files_store_stage (zetl_files_store_t *self, const char *source, uint32_t partition,
                            int32_t day, uint64_t first, uint64_t last, const char *suffix,
                            const void *data, size_t size, char **error);

//  Make every staged file visible: the intents of their keys first, then
//  the renames into the day directories and an fsync of each. Returns 0,
//  or -1 with *ERROR set: files already renamed stay, listed by their
//  intent, for zetl_files_store_recover.
int zetl_files_store_publish (zetl_files_store_t *self, char **error);

//  The positions of the published files are committed: remove their
//  intents and forget them.
void zetl_files_store_settle (zetl_files_store_t *self);

//  Give up what was staged and not published (temp files removed). What was
//  published stays for zetl_files_store_recover.
void zetl_files_store_discard (zetl_files_store_t *self);

//  Files published since the last settle or discard.
size_t zetl_files_store_staged (const zetl_files_store_t *self);

#endif
