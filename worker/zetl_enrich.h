/*  zetl_enrich - a pipeline's lookups in Redis tables, a batch at a time

    Each enrichment of a pipeline looks the text of one record field up in
    one lookup table (zetl_lut) and copies some of the row's columns into
    the record. A batch goes through in three steps, so that all its misses
    cost one pipelined round trip to Redis:

      zetl_enrich_begin   the batch's pipeline and pinned table versions
      zetl_enrich_want    per record: its keys; the cache answers what it can
      zetl_enrich_fetch   one round trip for every key the cache lacked
      zetl_enrich_apply   per record: the row's columns into the record
      zetl_enrich_end     the fetched rows into the cache

    Rows come from the cache (zetl_lookup_cache) while fresh. When Redis
    cannot be reached (a connection error, a timeout, or the circuit
    breaker open), stale rows serve up to max_stale, and a batch with any
    key nothing can answer is not enriched at all: fetch returns ZETL_RETRY
    and the batch is tried again later. No record is ever enriched with a
    value of another version, or with nothing when the table has the key.
    A batch's versions newer than those seen before drop the older
    versions' cached entries (the switch reaches the worker with the
    batches). One enricher per worker, used by one thread.
*/
#ifndef ZETL_ENRICH_H_INCLUDED
#define ZETL_ENRICH_H_INCLUDED

#include "zetl_config.h"
#include "zetl_fields.h"
#include "zetl_status.h"
#include "zetl_validate.h"

#include <jansson.h>

typedef struct zetl_enrich zetl_enrich_t;

//  Create the enricher of CONFIG (borrowed: must outlive it). Connects to
//  Redis on the first fetch. Caller owns the result.
zetl_enrich_t *zetl_enrich_new (const zetl_config_t *config);
void zetl_enrich_destroy (zetl_enrich_t **self_p);

//  Start a batch of pipeline PIPELINE whose enrichments use versions LUTS
//  (COUNT of them). Returns 0, or -1 with *REASON set when COUNT does not
//  match the pipeline's enrichments or a version is 0.
int zetl_enrich_begin (zetl_enrich_t *self, size_t pipeline, const uint64_t *luts, uint32_t count,
                       const char **reason);

//  Note the keys of the batch's next record, FIELDS after its transform.
//  Returns the record's number for zetl_enrich_apply.
size_t zetl_enrich_want (zetl_enrich_t *self, zetl_fields_t *fields);

//  Fetch every key the cache could not answer. Returns ZETL_OK; or
//  ZETL_RETRY with *REASON (valid until the next call) when Redis cannot
//  answer and stale rows do not cover the batch; or ZETL_REJECT with
//  *REASON when a version the batch is pinned to is no longer in Redis
//  (a Redis that lost its data): the batch must be pinned again.
zetl_status_t zetl_enrich_fetch (zetl_enrich_t *self, const char **reason);

//  Copy the looked-up columns into record RECORD's FIELDS. Returns ZETL_OK,
//  or ZETL_REJECT with *REJECT filled for a key the table lacks when the
//  enrichment's on_miss is dead_letter.
zetl_status_t zetl_enrich_apply (zetl_enrich_t *self, size_t record, zetl_fields_t *fields,
                                 zetl_reject_t *reject);

//  The batch is done: cache the rows its fetch brought. Until then the
//  cache is not written, so the rows it answered with stay where they are.
void zetl_enrich_end (zetl_enrich_t *self);

//  The counters (lookups, cache hits, stale rows served, keys fetched,
//  Redis round trips and errors, fetch latency) as a new JSON object.
//  Caller owns the result.
json_t *zetl_enrich_stats (const zetl_enrich_t *self);
//  Lookups made, and those answered from the cache, since SELF was made.
void zetl_enrich_counts (const zetl_enrich_t *self, uint64_t *lookups, uint64_t *hits);

#endif
