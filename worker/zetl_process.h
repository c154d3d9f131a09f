/*  zetl_process - one BATCH into one RESULT

    Reads a batch body, transforms (zetl_transform) and enriches
    (zetl_enrich) the records of pipelines that have those steps, casts each record to its pipeline's output row
    (zetl_cast), hashes the row (xxh3-128 of its packed bytes: the zetl_hash
    the sink's last-write-wins uses as last tie-break) and writes the result
    body. Dead letters from the coordinator pass through; records that do
    not cast become dead letters with their field, reason and the record as
    JSON. One processor per worker thread; it caches a caster per pipeline.
*/
#ifndef ZETL_PROCESS_H_INCLUDED
#define ZETL_PROCESS_H_INCLUDED

#include "zetl_config.h"
#include "zetl_proto.h"

#include <jansson.h>

typedef struct zetl_process zetl_process_t;

//  Create a processor for CONFIG (borrowed: must outlive it).
zetl_process_t *zetl_process_new (const zetl_config_t *config);
void zetl_process_destroy (zetl_process_t **self_p);

//  Turn BATCH into a RESULT message with the same header fields. Returns the
//  RESULT (caller owns it), or NULL with *REASON set and *CODE the ERROR
//  code to answer: ZETL_ERR_DATA (the body is malformed), ZETL_ERR_RETRY
//  (Redis is unreachable for a lookup the cache cannot answer: later) or
//  ZETL_ERR_LUT_GONE (a version the batch is pinned to is gone).
zetl_msg_t *zetl_process_batch (zetl_process_t *self, const zetl_msg_t *batch, const char **reason,
                                uint32_t *code);

//  The lookup counters (zetl_enrich_stats) as a new JSON object, or NULL
//  when no pipeline enriches. Caller owns the result.
json_t *zetl_process_lookup_stats (const zetl_process_t *self);
//  Lookups made and those answered from the cache (0 and 0 without enrich).
void zetl_process_lookup_counts (const zetl_process_t *self, uint64_t *lookups, uint64_t *hits);

//  Records rejected since the processor was made.
uint64_t zetl_process_rejected (const zetl_process_t *self);

#endif
