/*  zetl_reconcile - the reconciliation of a coordinator's run

    records_in = records_loaded (changed + unchanged) + records_dead_lettered
    + records_deduplicated, per pipeline. records_in is counted by the
    coordinator as it reads; the other side comes from zetl_stats, which
    sinks write in the same transactions as the rows, so it is exact across
    crashes. A run's figures are the counters now less the counters when the
    run started. Owned by the dispatcher.
*/
#ifndef ZETL_RECONCILE_H_INCLUDED
#define ZETL_RECONCILE_H_INCLUDED

#include "zetl_admit.h"
#include "zetl_config.h"
#include <libpq-fe.h>
#include <stdio.h>

typedef struct zetl_reconcile zetl_reconcile_t;

//  Create for CONFIG (borrowed: must outlive the result). Caller owns it.
zetl_reconcile_t *zetl_reconcile_new (const zetl_config_t *config);
void zetl_reconcile_destroy (zetl_reconcile_t **self_p);
//  Read the counters as this run starts. Returns 0 or -1.
int zetl_reconcile_start (zetl_reconcile_t *self, PGconn *conn);
//  RECORDS more records of PIPELINE read in this run.
void zetl_reconcile_add_in (zetl_reconcile_t *self, size_t pipeline, uint64_t records);
//  Records of PIPELINE read in this run.
uint64_t zetl_reconcile_records_in (zetl_reconcile_t *self, size_t pipeline);
//  Note how PIPELINE's records arrived (lateness, disorder, duplicates), for the report.
void zetl_reconcile_set_arrival (zetl_reconcile_t *self, size_t pipeline,
                                 const zetl_admit_counters_t *counters);
//  Set PIPELINE's records that left the reorder buffer early (ordered: true).
void zetl_reconcile_set_reorder_overflow (zetl_reconcile_t *self, size_t pipeline,
                                          uint64_t overflow);
//  Write one JSON line per pipeline to OUT (its first postgres target, else its first). Returns
//  0 when every pipeline balances, 3 when one does not, 1 on a database error.
int zetl_reconcile_report (zetl_reconcile_t *self, PGconn *conn, FILE *out);

#endif
