/*  zetl_accounts - the statements of a sink commit on zetl_dead_letters and zetl_stats

    What a commit writes besides its rows and positions, in the same
    transaction: the dead letters of its batches (one row per (pipeline,
    target, source, partition, position), its attempts counted up on a
    replay) and its writer's counters in zetl_stats (added to). The
    pipeline's PostgreSQL target keeps them (zetl_target), or a files target
    when the pipeline has no PostgreSQL one (zetl_files_commit). Every value
    is a parameter. Each returns the PGresult (never NULL with a live
    connection); the caller checks it, words its error, and clears it.
    Stateless.
*/
#ifndef ZETL_ACCOUNTS_H_INCLUDED
#define ZETL_ACCOUNTS_H_INCLUDED

#include "zetl_config.h"
#include "zetl_proto.h"
#include <libpq-fe.h>

//  Write ENTRY (a dead letter, its payload built) of SOURCE in PARTITION to
//  zetl_dead_letters for TARGET of PIPELINE. Caller owns the result.
PGresult *zetl_accounts_dead_letter (PGconn *conn, const char *pipeline, const char *target,
                                     const char *source, uint32_t partition,
                                     const zetl_entry_t *entry, uint32_t attempts);
//  Write output row ENTRY (its payload built, an array in the schema order
//  of PIPELINE) to zetl_dead_letters from stage "sink" with REASON, FIELD and
//  ERROR (FIELD and ERROR may be NULL), the row as a JSON record for raw, so
//  that zetlctl reprocess can send it through again. Caller owns the result.
PGresult *zetl_accounts_dead_letter_row (PGconn *conn, const zetl_pipeline_t *pipeline,
                                         const char *target, const char *source, uint32_t partition,
                                         const zetl_entry_t *entry, uint32_t attempts,
                                         const char *reason, const char *field, const char *error);
//  Add to WRITER's counters of TARGET of PIPELINE in zetl_stats. Caller owns
//  the result.
PGresult *zetl_accounts_add_stats (PGconn *conn, const char *pipeline, const char *target,
                                   const char *writer, int64_t changed, int64_t unchanged,
                                   int64_t dead, int64_t deduplicated);

#endif
