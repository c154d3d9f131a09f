/*  zetl_pg_transaction - one sink transaction of a PostgreSQL target

    Commits a group of RESULT batches (zetl_group) to a PostgreSQL target in
    one transaction: locks the committed positions of the (source,
    partition) keys the batches touch (zetl_commit_keys), COPYs the rows
    above them into the staging table and applies the one upsert of
    last-write-wins, writes dead letters, resolves the dead letters of
    reprocessed records, advances zetl_offsets and adds to zetl_stats, all
    through zetl_target. Replayed records at or below a committed position
    are skipped and not counted again. With partition_by_day, a row whose
    day is outside the window is dead-lettered, and day partitions the
    transaction needs are created between two runs of it, never inside one.
    Each body is read once, by its counted reader, and that read is its
    check. Owned by one zetl_pg_writer; holds the buffers it reuses.
*/
#ifndef ZETL_PG_TRANSACTION_H_INCLUDED
#define ZETL_PG_TRANSACTION_H_INCLUDED

#include "zetl_config.h"
#include "zetl_group.h"
#include "zetl_target.h"
#include <czmq.h>
#include <libpq-fe.h>

typedef struct zetl_pg_transaction zetl_pg_transaction_t;

//  Transactions of TARGET of PIPELINE by the writer named WRITER (all
//  borrowed: they must outlive the result). Caller owns the result.
zetl_pg_transaction_t *zetl_pg_transaction_new (const zetl_pipeline_t *pipeline,
                                                const zetl_target_t *target, const char *writer);
//  Destroy it and set *self_p to NULL. Does nothing if *self_p is NULL.
void zetl_pg_transaction_destroy (zetl_pg_transaction_t **self_p);

//  One transaction for BATCHES (zetl_msg_t RESULTs, borrowed) on CONN with
//  SQL (borrowed), run again when day partitions it needs had to be created
//  first. Returns 0 committed, or -1 rolled back with *FAILURE saying why
//  (its error_text the caller's to free).
int zetl_pg_transaction_run (zetl_pg_transaction_t *self, PGconn *conn, zetl_target_sql_t *sql,
                             zlistx_t *batches, zetl_group_failure_t *failure);

#endif
