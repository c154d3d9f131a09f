/*  zetl_partition - the day partitions of a day-partitioned PostgreSQL target

    A target with partition_by_day: COLUMN (a timestamp or date column) is a
    table partitioned by range on that column, with one partition per UTC day
    named <table>_pYYYYMMDD. This module knows which days a record falls on
    and whether that day is inside the window the target keeps (no older than
    retention, no later than now + max_future), keeps the set of day
    partitions that exist (read from the catalog, then cached, so the hot
    path asks PostgreSQL nothing), creates missing ones and the next few days
    ahead, and drops the partitions wholly older than retention together with
    their keys in <table>_zetl_keys (zetl_partition_keys). Its DDL runs in
    transactions of its own, never inside a sink transaction, under an
    advisory lock shared by every connection and sink, with IF NOT EXISTS /
    IF EXISTS, so that two of them never collide. Owned by a zetl_target_sql
    object, on that object's connection; one thread.
*/
#ifndef ZETL_PARTITION_H_INCLUDED
#define ZETL_PARTITION_H_INCLUDED

#include "zetl_config.h"
#include "zetl_proto.h"
#include <libpq-fe.h>

typedef struct zetl_partition zetl_partition_t;

//  Where a record's day stands against the target's window
typedef enum {
    ZETL_DAY_IN = 0,  //  inside the window: it is written
    ZETL_DAY_PAST,    //  older than retention: dead letter "past_retention"
    ZETL_DAY_FUTURE,  //  later than now + max_future: dead letter "future"
    ZETL_DAY_NONE     //  the column is null: dead letter "no_day"
} zetl_day_verdict_t;

//  The day partitions of TARGET of PIPELINE on CONN (all borrowed, must
//  outlive the result), or NULL when TARGET has no partition_by_day. Reads
//  nothing yet. Caller owns the result.
zetl_partition_t *zetl_partition_new (PGconn *conn, const zetl_pipeline_t *pipeline,
                                      const zetl_target_t *target);
void zetl_partition_destroy (zetl_partition_t **self_p);

//  The partition column's index in the schema.
size_t zetl_partition_column (const zetl_partition_t *self);

//  The day of ENTRY's row (an output row read by zetl_body_reader_next_packed)
//  into *DAY, and its verdict against the window at NOW_US. ZETL_DAY_NONE
//  when the column is null. Returns -1 when the row does not read (the COPY
//  then says why), else the verdict.
int zetl_partition_classify (const zetl_partition_t *self, const zetl_entry_t *entry,
                             int64_t now_us, int32_t *day);

//  The first and last days inside the window at NOW_US.
void zetl_partition_window (const zetl_partition_t *self, int64_t now_us, int32_t *first,
                            int32_t *last);

//  Is DAY's partition known to exist? From the cache only.
bool zetl_partition_known (zetl_partition_t *self, int32_t day);

//  Read the day partitions that exist from the catalog into the cache.
//  Returns 0, or -1 with *ERROR set (caller owns it).
int zetl_partition_load (zetl_partition_t *self, char **error);

//  Create the partitions of COUNT DAYS that do not exist, in a transaction
//  of its own (the connection must be in none). Returns 0, or -1 with
//  *ERROR set (caller owns it).
int zetl_partition_create (zetl_partition_t *self, const int32_t *days, size_t count, char **error);

//  Periodic upkeep at NOW_US, in transactions of its own: create today's
//  partition and the next few days' inside the window, then drop every
//  partition wholly older than retention and remove its keys from the keys
//  table, logging each drop. Returns 0, or -1 with *ERROR set (caller owns
//  it); what was done before a failure stays done.
int zetl_partition_maintain (zetl_partition_t *self, int64_t now_us, char **error);

//  Forget the cache: a partition turned out missing (dropped by someone
//  else); the next zetl_partition_create reads the catalog again.
void zetl_partition_forget (zetl_partition_t *self);

//  The name of DAY's partition, unquoted ("bookings_p20261123"). Caller
//  owns the result.
char *zetl_partition_name (const zetl_partition_t *self, int32_t day);

//  The longest table name partition_by_day allows: the partitions' and the
//  keys table's names must fit in PostgreSQL's 63 bytes.
#define ZETL_PARTITION_TABLE_MAX 49

#endif
