/*  zetl_target - the SQL of one PostgreSQL target on one connection

    Creates the target table from the pipeline's schema if it is missing (the
    schema's columns, then zetl_lut_gen, zetl_hash and zetl_deleted, primary
    key as configured), a staging table for COPY, and runs the statements of
    a sink transaction: lock its positions, COPY, the last-write-wins upsert,
    set its positions, add to the counters, write a dead letter. With
    partition_by_day the table is partitioned by range on that column, its
    primary key is (pk…, day column), and the upsert goes through the keys
    table (zetl_partition_keys) so that a key has one row in one partition;
    its day partitions are zetl_partition's. Values travel
    by COPY or as parameters only; identifiers come from the checked
    configuration and are quoted. Owned by one writer actor.

    This module owns the connection's state for the target (its prepared
    statement text, its partitions, the last failure) and runs the
    statements. The text of the table's statements is zetl_target_text's;
    the statements on zetl_offsets are zetl_offsets', those on
    zetl_dead_letters and zetl_stats zetl_accounts' (a files target without a
    PostgreSQL one runs them too).
*/
#ifndef ZETL_TARGET_H_INCLUDED
#define ZETL_TARGET_H_INCLUDED

#include "zetl_config.h"
#include "zetl_partition.h"
#include "zetl_proto.h"
#include <libpq-fe.h>

typedef struct zetl_target_sql zetl_target_sql_t;

//  Prepare TARGET of PIPELINE on CONN (borrowed, must outlive the result):
//  create the table and the staging table. Returns NULL with *ERROR set
//  (caller owns it) on failure. Caller owns the result.
zetl_target_sql_t *zetl_target_sql_new (PGconn *conn, const zetl_pipeline_t *pipeline,
                                        const zetl_target_t *target, char **error);
void zetl_target_sql_destroy (zetl_target_sql_t **self_p);

//  Lock the zetl_offsets rows of COUNT (source, partition) keys, SOURCES[i]
//  and PARTITIONS[i] (creating missing ones at -1), in one statement and in
//  the order given: callers sort the keys, so that two connections lock in
//  the same order and never deadlock. Reads each row's position (ordered
//  mode: its floor) into POSITIONS[i] and, when ABOVE is not NULL, the
//  positions committed above it into ABOVE[i] (an int8multirange's text,
//  "" for none; caller frees each). The keys must be distinct. Returns 0 or -1.
int zetl_target_sql_lock_keys (zetl_target_sql_t *self, size_t count, const char *const *sources,
                               const uint32_t *partitions, int64_t *positions, char **above);
//  Raise the committed positions of COUNT keys (locked in this transaction)
//  to POSITIONS[i], in one statement; a position never goes down.
int zetl_target_sql_set_positions (zetl_target_sql_t *self, size_t count,
                                   const char *const *sources, const uint32_t *partitions,
                                   const int64_t *positions);
//  COPY LEN bytes of COPY text into the staging table.
int zetl_target_sql_copy (zetl_target_sql_t *self, const char *data, size_t len);
//  Upsert the staging table into the target; *CHANGED = rows changed.
int zetl_target_sql_upsert (zetl_target_sql_t *self, int64_t *changed);
//  Add to WRITER's counters in zetl_stats.
int zetl_target_sql_add_stats (zetl_target_sql_t *self, const char *writer, int64_t changed,
                               int64_t unchanged, int64_t dead, int64_t deduplicated);
//  Write ENTRY (a dead letter) to zetl_dead_letters.
int zetl_target_sql_dead_letter (zetl_target_sql_t *self, const char *source, uint32_t partition,
                                 const zetl_entry_t *entry, uint32_t attempts);

//  Write output row ENTRY (read by zetl_body_reader_next_packed, its payload
//  built) to zetl_dead_letters from stage "sink" with REASON, FIELD and
//  ERROR (FIELD and ERROR may be NULL), the row as a JSON record for raw.
int zetl_target_sql_dead_letter_row (zetl_target_sql_t *self, const char *source,
                                     uint32_t partition, const zetl_entry_t *entry,
                                     uint32_t attempts, const char *reason, const char *field,
                                     const char *error);
//  The day partitions of a partition_by_day target, else NULL. Borrowed:
//  valid until SELF is destroyed.
zetl_partition_t *zetl_target_sql_partitions (zetl_target_sql_t *self);

//  Delete this target's dead letters of reprocess REQUEST's items numbered
//  in SEQS (an array literal, "{1,2}"): they are committed now. Sets
//  *DELETED. Returns 0 or -1.
int zetl_target_sql_resolve_reprocessed (zetl_target_sql_t *self, int64_t request, const char *seqs,
                                         int64_t *deleted);
//  Ordered mode, in one statement for COUNT keys (locked in this
//  transaction): raise key i's floor to FLOORS[i], add the positions of
//  ADDED[i] (an int8multirange literal) and forget the positions at or below
//  the floor.
int zetl_target_sql_set_ranges (zetl_target_sql_t *self, size_t count, const char *const *sources,
                                const uint32_t *partitions, const int64_t *floors,
                                const char *const *added);
//  Forget the last failure (at the start of a transaction).
void zetl_target_sql_clear_error (zetl_target_sql_t *self);
//  SQL state and error text of the last failed statement (borrowed).
const char *zetl_target_sql_last_state (zetl_target_sql_t *self);
const char *zetl_target_sql_last_error (zetl_target_sql_t *self);

//  The PostgreSQL type of a schema type ("text", "bigint", ...).
const char *zetl_target_pg_type (zetl_type_t type);

#endif
