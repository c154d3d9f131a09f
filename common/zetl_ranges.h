/*  zetl_ranges - committed positions of one (source, partition) in ordered mode

    With ordered: true a partition's records leave in event-time order, not
    in position order, so "committed" is a floor plus the positions committed
    above it: zetl_offsets keeps the floor in position and the rest in
    above, an int8multirange of one-position ranges [p, p+1) that
    PostgreSQL merges where they touch. The coordinator moves the floor with
    CHECKPOINT entries, and what lies at or below it is forgotten.

    This module parses the text form PostgreSQL gives an int8multirange
    ("{[5,6),[10,12)}", "{}"), answers "is this position committed?", and
    collects the positions a transaction adds, with their text for the
    UPDATE. Sinks use it per key and transaction; the coordinator's sources
    use it to skip committed records on a restart.
*/
#ifndef ZETL_RANGES_H_INCLUDED
#define ZETL_RANGES_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct zetl_ranges zetl_ranges_t;

//  Create from FLOOR (every position at or below it is committed; -1 none)
//  and ABOVE, an int8multirange's text (NULL or "" for none). Returns NULL
//  if ABOVE does not parse. Caller owns the result.
zetl_ranges_t *zetl_ranges_new (int64_t floor, const char *above);

void zetl_ranges_destroy (zetl_ranges_t **self_p);

//  True when POSITION is committed: at or below the floor, in the ranges,
//  or added since creation.
bool zetl_ranges_has (const zetl_ranges_t *self, uint64_t position);

//  Add POSITION (not yet committed) to what the transaction commits.
void zetl_ranges_add (zetl_ranges_t *self, uint64_t position);

//  Raise the floor to POSITION, if higher (a checkpoint).
void zetl_ranges_raise_floor (zetl_ranges_t *self, int64_t position);

//  The floor now.
int64_t zetl_ranges_floor (const zetl_ranges_t *self);

//  Positions added since creation.
size_t zetl_ranges_added (const zetl_ranges_t *self);

//  The added positions as an int8multirange literal ("{}" when none).
//  Borrowed: valid until the next add or destroy.
const char *zetl_ranges_added_text (zetl_ranges_t *self);

#endif
