/*  zetl_extract - partition and event time of a record, at the edge

    Sources convert rows into records once (zetl_jsonl, zetl_csv) and pull
    out three fields on the way: id_field, partition_key and the event time
    field. This module turns those into the record's partition
    (xxh3-64 of the key's text, modulo partitions) and its event time in
    microseconds, or a rejection with a reason, and packs dead letters. Pure
    functions over borrowed data.
*/
#ifndef ZETL_EXTRACT_H_INCLUDED
#define ZETL_EXTRACT_H_INCLUDED

#include "zetl_chunk.h"
#include "zetl_config.h"
#include "zetl_record.h"

//  Indexes of the extracted values, in the names array zetl_extract_names fills
enum { ZETL_EXTRACT_KEY = 0, ZETL_EXTRACT_TIME = 1, ZETL_EXTRACT_ID = 2, ZETL_EXTRACT_COUNT = 3 };

//  Fill NAMES[ZETL_EXTRACT_COUNT] with the fields PIPELINE extracts (borrowed
//  from the pipeline; the id slot is NULL without id_field).
void zetl_extract_names (const zetl_pipeline_t *pipeline, const char *names[ZETL_EXTRACT_COUNT]);

//  Partition of a key's text.
uint32_t zetl_extract_partition (const zetl_pipeline_t *pipeline, const char *key, size_t len);

//  From VALUES (as filled by a converter with zetl_extract_names) compute
//  *PARTITION and *EVENT_US. Returns 0, or -1 with *REASON ("missing_field"
//  or "bad_event_time") and *FIELD (the column) set; *PARTITION is then still
//  the key's partition if there is a key, else 0.
int zetl_extract_record (const zetl_pipeline_t *pipeline, const zetl_field_value_t *values,
                         uint32_t *partition, int64_t *event_us, const char **reason,
                         const char **field);

//  Append a dead letter to CHUNK: a map {stage, reason, field, error, raw}.
void zetl_extract_dead_letter (zetl_chunk_t *chunk, uint32_t partition, uint64_t position,
                               const char *stage, const char *reason, const char *field,
                               const char *error, const char *raw, size_t raw_len);

#endif
