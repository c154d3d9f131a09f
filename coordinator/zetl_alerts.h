/*  zetl_alerts - the status's alert flags and what the targets hold

    An actor beside the dispatcher. Once a second it reads the latest status
    (the dispatcher's snapshot) and, every few seconds, each pipeline's
    totals in zetl_stats (loaded, dead-lettered, deduplicated, written by
    the sinks with the rows) over a PostgreSQL connection of its own. From
    a history of those figures it raises, per pipeline, the flags of DESIGN
    §9 with the thresholds of the `alerts:` section:
    - error_rate: dead-lettered over records in, over `window`
    - watermark_lag: the wall clock ahead of the watermark
    - stopped: records held and nothing committed for `stopped_after`
    - completeness: loaded or deduplicated over records in, over `window`
    - freshness: no record arrived for `freshness`
    - variation: the arrival rate over `window` against the rate over the
      `baseline` before it (once that much history is held)
    The result goes to a snapshot of its own that the HTTP server merges
    into the status (zetl_alerts_merge). deploy/prometheus holds the same
    conditions as Prometheus rules.
*/
#ifndef ZETL_ALERTS_H_INCLUDED
#define ZETL_ALERTS_H_INCLUDED

#include "zetl_config.h"
#include "zetl_snapshot.h"

#include <czmq.h>

typedef struct {
    const zetl_config_t *config;  //  borrowed: outlives the actor
    zetl_snapshot_t *status;      //  the dispatcher's status, read
    zetl_snapshot_t *alerts;      //  where the flags are published
} zetl_alerts_args_t;

//  The actor (zactor_new (zetl_alerts_actor, &args)); $TERM stops it.
void zetl_alerts_actor (zsock_t *pipe, void *args);

//  STATUS with ALERTS (either may be NULL; both borrowed) merged in: each
//  pipeline gains "alerts" (the flags), "quality" (the ratios), "targets"
//  (zetl_stats per target) and "outcomes" (their sums), and the status
//  gains "alerts", the list of flags raised. Caller owns the result; NULL
//  when STATUS is.
json_t *zetl_alerts_merge (const json_t *status, const json_t *alerts);

#endif
