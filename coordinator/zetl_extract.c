/*  zetl_extract - partition and event time of a record, at the edge  */
#include "zetl_extract.h"
#include "zetl_dead.h"
#include "zetl_proto.h"
#include "zetl_time.h"

#include <xxhash.h>

void
zetl_extract_names (const zetl_pipeline_t *pipeline, const char *names[ZETL_EXTRACT_COUNT])
{
    names[ZETL_EXTRACT_KEY] = pipeline->partition_key;
    names[ZETL_EXTRACT_TIME] = pipeline->event_time.field;
    names[ZETL_EXTRACT_ID] = pipeline->id_field;
}

uint32_t
zetl_extract_partition (const zetl_pipeline_t *pipeline, const char *key, size_t len)
{
    return (uint32_t) (XXH3_64bits (key, len) % pipeline->partitions);
}

static int
s_event_time (const zetl_pipeline_t *pipeline, const zetl_field_value_t *value, int64_t *us)
{
    switch (pipeline->event_time.kind) {
    case ZETL_TIME_ISO8601:
        return zetl_time_parse_iso8601 (value->ptr, value->len, us);
    case ZETL_TIME_UNIX_MS:
        return zetl_time_parse_unix_ms (value->ptr, value->len, us);
    case ZETL_TIME_STRFTIME:
        return zetl_time_parse_strftime (value->ptr, value->len, pipeline->event_time.strftime, us);
    }
    return -1;
}

int
zetl_extract_record (const zetl_pipeline_t *pipeline, const zetl_field_value_t *values,
                     uint32_t *partition, int64_t *event_us, const char **reason,
                     const char **field)
{
    *partition = 0;
    *event_us = 0;
    const zetl_field_value_t *key = &values[ZETL_EXTRACT_KEY];
    if (!key->present) {
        *reason = "missing_field";
        *field = pipeline->partition_key;
        return -1;
    }
    *partition = zetl_extract_partition (pipeline, key->ptr, key->len);
    if (pipeline->id_field && !values[ZETL_EXTRACT_ID].present) {
        *reason = "missing_field";
        *field = pipeline->id_field;
        return -1;
    }
    const zetl_field_value_t *time = &values[ZETL_EXTRACT_TIME];
    if (!time->present) {
        *reason = "missing_field";
        *field = pipeline->event_time.field;
        return -1;
    }
    if (s_event_time (pipeline, time, event_us) != 0) {
        *reason = "bad_event_time";
        *field = pipeline->event_time.field;
        return -1;
    }
    return 0;
}

void
zetl_extract_dead_letter (zetl_chunk_t *chunk, uint32_t partition, uint64_t position,
                          const char *stage, const char *reason, const char *field,
                          const char *error, const char *raw, size_t raw_len)
{
    size_t offset = chunk->data.size;
    zetl_dead_pack (&chunk->data, stage, reason, field, error, raw, raw_len);
    zetl_chunk_add (chunk, partition, ZETL_ENTRY_DEAD, position, 0, offset);
}
