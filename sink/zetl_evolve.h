/*  zetl_evolve - an existing target table brought to the pipeline's schema

    A sink creates a missing target table from the schema. When the table
    exists, zetl_evolve_table compares it with the schema: a column the
    schema gained (a new field, an enrichment's output) is added, nullable,
    with ALTER TABLE … ADD COLUMN; any other difference (a column whose type
    is not the schema's, a column the schema no longer has, another primary
    key) is refused with an error that names the table, the column and what
    to do, and the table is left as it is. Then the view <table>_live, the
    rows that are not delete markers, is made again with every column.
    A table partitioned by day (partition_by_day) must be partitioned by
    range on that column, which is then part of its primary key, and a plain
    target's table must not be partitioned; ADD COLUMN on a partitioned table
    reaches every partition, and the keys table holds key columns only, which
    never change. Runs inside the caller's transaction, which holds the lock
    that serialises table preparation.
*/
#ifndef ZETL_EVOLVE_H_INCLUDED
#define ZETL_EVOLVE_H_INCLUDED

#include "zetl_config.h"

#include <libpq-fe.h>

//  Bring TARGET's table (on CONN) to PIPELINE's schema. Returns 0 (ADDED,
//  when not NULL, set to the columns added), or -1 with *ERROR set (caller
//  owns it).
int zetl_evolve_table (PGconn *conn, const zetl_pipeline_t *pipeline, const zetl_target_t *target,
                       int *added, char **error);

#endif
