/*  zetl_commit_keys - the (source, partition) keys one commit of a sink writer touches

    A writer (zetl_pg_writer, zetl_files_writer) commits a group of RESULT
    batches in one transaction, which locks the zetl_offsets rows of every
    (source, partition) key the batches touch, skips the entries at or below
    what each key has committed (replays), and raises the keys that moved.
    This module collects those keys, each once, sorted so that every writer
    locks them in the same order (no deadlocks between connections), and per
    batch the key of each of its source indexes, so that an entry finds its
    key by index instead of comparing names. It also starts each body's
    counted reader: staging reads on from where the names end. It touches no
    connection: zetl_offsets holds the statements. Owned by the writer, for
    one commit.
*/
#ifndef ZETL_COMMIT_KEYS_H_INCLUDED
#define ZETL_COMMIT_KEYS_H_INCLUDED

#include "zetl_proto.h"
#include "zetl_ranges.h"
#include <czmq.h>

//  One (source, partition) key of a commit
typedef struct {
    char *source;           //  source name
    uint32_t partition;     //  partition
    int64_t committed;      //  position committed before this commit
    int64_t highest;        //  highest position this commit holds
    int64_t request;        //  reprocess request of the source, or 0
    zchunk_t *seqs;         //  its reprocess items this commit holds: "{1,2,3" so far
    zetl_ranges_t *ranges;  //  ordered: true: what is committed, out of position order
} zetl_commit_key_t;

//  The keys of one commit
typedef struct {
    zetl_commit_key_t **keys;       //  sorted by source, then partition
    size_t count;                   //  keys in keys
    size_t capacity;                //  room in keys
    zetl_commit_key_t ***by_batch;  //  per batch in list order: the key of each source index
    zetl_body_reader_t **readers;   //  per batch in list order: its body's counted reader,
                                    //  names read, entries not yet
    size_t batches;                 //  arrays in by_batch and readers
    zetl_msg_t *malformed;          //  a batch whose source names do not read, or NULL
    const char *malformed_reason;   //  why, a static string
    //  The parameters of a statement on the keys' zetl_offsets rows, each
    //  with room for every key: of the lock (zetl_commit_keys_columns), then
    //  of the raise (zetl_commit_keys_moved)
    const char **sources;  //  source names, borrowed from the keys
    uint32_t *partitions;  //  partitions
    int64_t *positions;    //  positions (ordered mode: floors)
    const char **added;    //  ordered mode: positions added, borrowed from the keys
    char **above;          //  ordered mode: the lock's positions above, owned
} zetl_commit_keys_t;

//  Collect the keys of BATCHES (zetl_msg_t RESULTs, borrowed) and start the
//  counted reader of each body. A body whose names do not read is the one
//  malformed batch reported, and the rest is not collected. Caller owns the
//  result.
zetl_commit_keys_t *zetl_commit_keys_collect (zlistx_t *batches);
//  Destroy the keys and their readers and set *self_p to NULL. Does nothing
//  if *self_p is NULL.
void zetl_commit_keys_destroy (zetl_commit_keys_t **self_p);

//  Fill the columns sources and partitions of every key, in order, for the
//  lock statement, with room in positions and, when ORDERED, in above for
//  what it reads.
void zetl_commit_keys_columns (zetl_commit_keys_t *self, bool ordered);
//  The lock succeeded and read positions (and above, in ordered mode): key
//  i has committed positions[i] (ordered mode: its floor) and the positions
//  above[i] (an int8multirange's text) above it.
void zetl_commit_keys_locked (zetl_commit_keys_t *self);
//  Fill the columns sources, partitions, positions (ordered mode: floors)
//  and added (ordered mode: the positions added) with the keys that moved in
//  this commit, for the statement that raises them. Returns how many moved.
size_t zetl_commit_keys_moved (zetl_commit_keys_t *self);

//  Has KEY committed ENTRY already (a replay)? If not, it is this commit's
//  now. A CHECKPOINT entry only raises the ordered floor.
bool zetl_commit_key_replayed (zetl_commit_key_t *key, const zetl_entry_t *entry);
//  Remember that item SEQ of KEY's reprocess request commits here.
void zetl_commit_key_note_reprocessed (zetl_commit_key_t *key, uint64_t seq);
//  The array literal of the reprocess items KEY commits ("{1,2,3}"), or
//  NULL when none. Closes the list: call once per commit. Borrowed, valid
//  until the keys are destroyed.
const char *zetl_commit_key_seqs (zetl_commit_key_t *key);

#endif
