/*  zetl_histogram - a latency histogram with fixed buckets  */
#include "zetl_histogram.h"

#include <string.h>

static const double s_bounds[ZETL_HISTOGRAM_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                        2.5,   5,    10,    30,   60,  120,  300};

void
zetl_histogram_init (zetl_histogram_t *self)
{
    memset (self, 0, sizeof *self);
}

void
zetl_histogram_observe (zetl_histogram_t *self, double seconds)
{
    size_t bucket = 0;
    while (bucket < ZETL_HISTOGRAM_BUCKETS && seconds > s_bounds[bucket])
        bucket++;
    self->counts[bucket]++;
    self->sum += seconds;
    self->count++;
}

json_t *
zetl_histogram_json (const zetl_histogram_t *self)
{
    json_t *bounds = json_array (), *buckets = json_array ();
    uint64_t cumulative = 0;
    for (size_t bucket = 0; bucket <= ZETL_HISTOGRAM_BUCKETS; bucket++) {
        cumulative += self->counts[bucket];
        if (bucket < ZETL_HISTOGRAM_BUCKETS)
            json_array_append_new (bounds, json_real (s_bounds[bucket]));
        json_array_append_new (buckets, json_integer ((json_int_t) cumulative));
    }
    return json_pack ("{s:o, s:o, s:f, s:I}", "le", bounds, "buckets", buckets, "sum", self->sum,
                      "count", (json_int_t) self->count);
}
