/*  zetl_split - a batch that failed for its data, taken apart until the bad record stands alone

    When a worker or sink refuses a batch for its data (ERROR DATA), only the
    record at fault may go to the dead letters (DESIGN §6): the dispatcher
    splits the batch in halves, in position order, and dispatches each; a
    half that fails again is split again. A batch of one record that keeps
    failing (max_retries) becomes a batch of one DEAD entry holding that
    record as JSON with its last error, which commits like any batch.

    Pure functions over the coordinator's own batch bodies (well-formed by
    construction); they return new frames and keep every entry's source,
    position, event time and flags.
*/
#ifndef ZETL_SPLIT_H_INCLUDED
#define ZETL_SPLIT_H_INCLUDED

#include <czmq.h>
#include <stdint.h>

//  Split BODY (COUNT >= 2 entries) into its first COUNT/2 entries, *LEFT,
//  and the rest, *RIGHT (caller owns both). Returns 0, or -1 if BODY does
//  not read as COUNT entries.
int zetl_split_body (zframe_t *body, uint32_t count, zframe_t **left, zframe_t **right);

//  BODY holds one entry: return a body whose entry is that record as a dead
//  letter of STAGE (the peer that refused it: "worker" or "sink"), reason
//  "rejected", ERROR its last error. An entry that is no record (a dead
//  letter, a duplicate's or checkpoint's position) is kept as it is.
//  Returns NULL if BODY does not read as one entry. Caller owns the result.
zframe_t *zetl_split_dead_letter (zframe_t *body, const char *stage, const char *error);

#endif
