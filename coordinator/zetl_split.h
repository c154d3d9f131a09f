/*  zetl_split - a batch that failed for its data, taken apart until the bad record stands alone

    When a worker or sink refuses a batch for its data (ERROR DATA), only the
    record at fault may go to the dead letters (DESIGN §6): the dispatcher
    splits the batch in halves, in position order, and dispatches each; a
    half that fails again is split again. A batch that workers keep dying
    on is split in more pieces at a time, since each try costs a worker.
    A batch of one record that keeps failing (max_retries) becomes a batch
    of one DEAD entry holding that record as JSON with its last error,
    which commits like any batch.

    Pure functions over the coordinator's own batch bodies (well-formed by
    construction); they return new frames and keep every entry's source,
    position, event time and flags.
*/
#ifndef ZETL_SPLIT_H_INCLUDED
#define ZETL_SPLIT_H_INCLUDED

#include <czmq.h>
#include <stdint.h>

#define ZETL_SPLIT_MAX_PIECES 16

//  Entries of piece INDEX when COUNT entries are split in PIECES: the
//  pieces differ by one entry at most, larger ones last
static inline uint32_t
zetl_split_piece_count (uint32_t count, uint32_t pieces, uint32_t index)
{
    return (uint32_t) ((uint64_t) count * (index + 1) / pieces - (uint64_t) count * index / pieces);
}

//  Split BODY (COUNT entries) into PIECES bodies (2 <= PIECES <= COUNT and
//  ZETL_SPLIT_MAX_PIECES), in order, piece I holding zetl_split_piece_count
//  entries; into OUT (caller owns each). Returns 0, or -1 if BODY does not
//  read as COUNT entries (OUT then untouched).
int zetl_split_body (zframe_t *body, uint32_t count, uint32_t pieces, zframe_t **out);

//  BODY holds one entry: return a body whose entry is that record as a dead
//  letter of STAGE (the peer that refused it: "worker" or "sink"), REASON
//  ("rejected", "crashed"), ERROR its last error. An entry that is no
//  record (a dead letter, a duplicate's or checkpoint's position) is kept
//  as it is. Returns NULL if BODY does not read as one entry. Caller owns
//  the result.
zframe_t *zetl_split_dead_letter (zframe_t *body, const char *stage, const char *reason,
                                  const char *error);

#endif
