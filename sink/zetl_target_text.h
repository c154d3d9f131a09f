/*  zetl_target_text - the statement text of a PostgreSQL target, built from its schema

    A PostgreSQL target's table has the pipeline's schema columns, then
    zetl_lut_gen, zetl_hash and zetl_deleted, and the configured primary key
    (with partition_by_day, the day column too, and partitioned by range on
    it). A sink transaction COPYs its rows into a staging table like it and
    applies them with one last-write-wins upsert: the winner of a key is the
    row with the highest (event time, lookup generation, hash), whatever
    order the rows came in. This module builds that text, once per
    connection, for zetl_target; it runs nothing. Identifiers come from the
    checked configuration and are quoted on CONN; no value is ever in the
    text. Each result is the caller's to free.
*/
#ifndef ZETL_TARGET_TEXT_H_INCLUDED
#define ZETL_TARGET_TEXT_H_INCLUDED

#include "zetl_config.h"
#include <libpq-fe.h>

//  CREATE TABLE IF NOT EXISTS TABLE (quoted already) for TARGET of PIPELINE.
char *zetl_target_text_create (PGconn *conn, const zetl_pipeline_t *pipeline,
                               const zetl_target_t *target, const char *table);
//  The last-write-wins upsert from pg_temp.zetl_stage into TABLE (quoted).
char *zetl_target_text_upsert (PGconn *conn, const zetl_pipeline_t *pipeline,
                               const zetl_target_t *target, const char *table);
//  COPY ... FROM STDIN into pg_temp.zetl_stage.
char *zetl_target_text_copy (PGconn *conn, const zetl_pipeline_t *pipeline);

#endif
