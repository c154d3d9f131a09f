/*  zetl_source_file - a pipeline's file source, as an actor

    Reads the files a pipeline's `source.path` names (a file, a directory
    or a glob; sorted by name), one line at a time, converts JSONL (zetl_jsonl)
    or CSV (zetl_csv) rows into records, computes partition and event time
    (zetl_extract) and hands chunks of records to the dispatcher. Each file
    is a source of its own, named by its path; a record's position is the
    byte offset of its row. Records at or below the positions every target
    has committed are skipped, not counted again; a file whose lowest
    committed position over the partitions is safe to start from is read
    from there rather than from byte 0 (see s_resume_at, docs/SOURCES.md).
    Rows that cannot be read become dead letters with their raw text. File
    reads block, so they run here and never in the dispatcher's loop.

    With `follow: true` (zetl_follow) the files are named by their identity
    instead (zetl_follow.h says how, and what a rotation or a truncation
    does). After reading everything there is the actor sends "CAUGHT_UP",
    then waits on its pipe and inotify (at most 250 ms) and reads what
    grows or appears, only complete lines, saying "CAUGHT_UP" again each
    time it has read everything new; it ends only on STOP. With `once` it
    reads what there is to the end and sends EOF, as without follow.

    Flow control: the actor sends "CHUNK" + pointer (a zetl_chunk_t, the
    receiver owns it) only while it holds credit; each "MORE" on its pipe
    grants one more chunk. At the end it sends "EOF" + the number of
    records read. On a file it cannot read it logs an error and goes on with
    the next. "STOP" on its pipe makes it stop reading and answer "STOPPED"
    once it will send nothing more.
*/
#ifndef ZETL_SOURCE_FILE_H_INCLUDED
#define ZETL_SOURCE_FILE_H_INCLUDED

#include "zetl_feed.h"

//  ARGS is a zetl_source_args_t
void zetl_source_file_actor (zsock_t *pipe, void *args);

#endif
