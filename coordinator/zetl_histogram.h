/*  zetl_histogram - a latency histogram with fixed buckets, for /metrics

    Buckets from 5 ms to 5 minutes (Prometheus `le` bounds, in seconds),
    the sum and the count, as a Prometheus histogram has them. A plain
    value: embed it, zero it with zetl_histogram_init.
*/
#ifndef ZETL_HISTOGRAM_H_INCLUDED
#define ZETL_HISTOGRAM_H_INCLUDED

#include <jansson.h>
#include <stdint.h>

#define ZETL_HISTOGRAM_BUCKETS 15

typedef struct {
    uint64_t counts[ZETL_HISTOGRAM_BUCKETS + 1];  //  per bucket; the last is +Inf
    double sum;                                   //  seconds observed
    uint64_t count;                               //  observations
} zetl_histogram_t;

void zetl_histogram_init (zetl_histogram_t *self);
//  Note one observation of SECONDS.
void zetl_histogram_observe (zetl_histogram_t *self, double seconds);
//  {"le": [bounds…], "buckets": [cumulative counts, +Inf last], "sum", "count"}.
//  Caller owns the result.
json_t *zetl_histogram_json (const zetl_histogram_t *self);

#endif
