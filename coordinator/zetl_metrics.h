/*  zetl_metrics - the coordinator's /metrics, in Prometheus text format

    Renders a status of zetl_dispatch_status (the snapshot the HTTP server
    holds) as Prometheus text exposition format 0.0.4: every metric has
    the prefix zetl_, # HELP and # TYPE lines, and the labels cluster and
    pipeline (worker or sink for the per-peer series). Counters end in
    _total and count since the coordinator started (Prometheus handles the
    reset of a restart). Stateless: called on the HTTP server's thread.
*/
#ifndef ZETL_METRICS_H_INCLUDED
#define ZETL_METRICS_H_INCLUDED

#include <jansson.h>
#include <stddef.h>

//  The content type of what zetl_metrics_render returns
#define ZETL_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

//  Render STATUS (borrowed; NULL before the first status: then only the
//  series that say the coordinator is not ready) for cluster CLUSTER.
//  Returns the text, NUL-terminated, and sets *LEN to its length. Caller
//  owns the result (free it).
char *zetl_metrics_render (const char *cluster, const json_t *status, size_t *len);

#endif
