/*  zetl_offsets - the statements on zetl_offsets of a sink commit

    Every target of a pipeline (PostgreSQL or files) keeps what it has
    committed in zetl_offsets, per (pipeline, target, source, partition): a
    position and, in ordered mode, the positions committed above it (an
    int8multirange). A sink commit locks the rows of the keys it touches,
    reads them, and raises the ones that moved, all in its transaction, so
    that a record commits with its position or not at all. These are those
    statements, every value a parameter. Each returns the PGresult (never
    NULL with a live connection); the caller checks it, words its error, and
    clears it. Stateless; used by zetl_target and zetl_files_commit.
*/
#ifndef ZETL_OFFSETS_H_INCLUDED
#define ZETL_OFFSETS_H_INCLUDED

#include <czmq.h>
#include <libpq-fe.h>

//  Lock the rows of COUNT (source, partition) keys, SOURCES[i] and
//  PARTITIONS[i] (creating missing ones at -1), of TARGET of PIPELINE, in one
//  statement and in the order given: callers sort the keys, so that two
//  connections lock in the same order and never deadlock. Its rows, in key
//  order, are read by zetl_offsets_read_locked. The keys must be distinct.
//  Caller owns the result.
PGresult *zetl_offsets_lock (PGconn *conn, const char *pipeline, const char *target, size_t count,
                             const char *const *sources, const uint32_t *partitions);
//  Read the COUNT rows of a lock: each key's position (ordered mode: its
//  floor) into POSITIONS[i] and, when ABOVE is not NULL, the positions
//  committed above it into ABOVE[i] ("" for none; caller frees each).
void zetl_offsets_read_locked (const PGresult *res, size_t count, int64_t *positions, char **above);
//  Raise the positions of COUNT keys (locked in this transaction) to
//  POSITIONS[i], in one statement; a position never goes down. Caller owns
//  the result.
PGresult *zetl_offsets_raise (PGconn *conn, const char *pipeline, const char *target, size_t count,
                              const char *const *sources, const uint32_t *partitions,
                              const int64_t *positions);
//  Ordered mode, in one statement for COUNT keys (locked in this
//  transaction): raise key i's floor to FLOORS[i], add the positions of
//  ADDED[i] (an int8multirange literal) and forget the positions at or below
//  the floor. Caller owns the result.
PGresult *zetl_offsets_raise_ranges (PGconn *conn, const char *pipeline, const char *target,
                                     size_t count, const char *const *sources,
                                     const uint32_t *partitions, const int64_t *floors,
                                     const char *const *added);

#endif
