/*  zetl_partition_keys - the keys table of a day-partitioned target, and its SQL

    PostgreSQL needs the partition column in every unique key of a
    partitioned table, so a day-partitioned target's primary key is (pk…,
    day column) and cannot say on its own that a key has one row. The table
    <table>_zetl_keys (pk… PRIMARY KEY, the day column, the event time,
    zetl_day, zetl_lut_gen, zetl_hash, zetl_moved_from) does: a sink
    transaction upserts it first, in primary-key order, with the same
    last-write-wins rule as a plain target (event time, then lookup
    generation, then the output row's hash). That locks each key, and each
    key that changed says where its old row was when the day column moved
    (zetl_moved_from); the old row is deleted from its partition and the
    winner written to its own, in the same transaction. So a key lives in
    exactly one partition, and the table ends as a plain target would.

    Pure SQL builders: each function returns a statement's text (caller owns
    it), identifiers quoted with CONN. zetl_target runs them.
*/
#ifndef ZETL_PARTITION_KEYS_H_INCLUDED
#define ZETL_PARTITION_KEYS_H_INCLUDED

#include "zetl_config.h"
#include <libpq-fe.h>

//  CREATE TABLE IF NOT EXISTS <table>_zetl_keys and its zetl_day index.
char *zetl_partition_keys_create_sql (PGconn *conn, const zetl_pipeline_t *pipeline,
                                      const zetl_target_t *target);
//  The session's temporary table pg_temp.zetl_won: the keys one transaction
//  changed, and where each one's old row was when it moved.
char *zetl_partition_keys_won_sql (PGconn *conn, const zetl_target_t *target);
//  The upsert of the staging table's winners into the keys table, in
//  primary-key order; the keys it changed go to pg_temp.zetl_won. One row:
//  keys changed, keys whose day column moved.
char *zetl_partition_keys_upsert_sql (PGconn *conn, const zetl_pipeline_t *pipeline,
                                      const zetl_target_t *target);
//  Delete the old rows of the keys that moved (pg_temp.zetl_won) from their
//  partitions: a nested loop, so that each probe prunes to one partition.
char *zetl_partition_keys_move_sql (PGconn *conn, const zetl_target_t *target);
//  Write the winners of the keys that changed into the target.
char *zetl_partition_keys_rows_sql (PGconn *conn, const zetl_pipeline_t *pipeline,
                                    const zetl_target_t *target);
//  Remove, in primary-key order, the keys whose zetl_day is before $1 (a
//  date): one row per day, (days since 1970-01-01, keys removed).
char *zetl_partition_keys_expire_sql (PGconn *conn, const zetl_target_t *target);

//  The keys table's name, unquoted. Caller owns the result.
char *zetl_partition_keys_table (const zetl_target_t *target);

#endif
