/*  zetl_admit - what happens to each record as the coordinator takes it in  */
#include "zetl_admit.h"
#include "zetl_dead.h"
#include "zetl_dedup.h"
#include "zetl_extract.h"
#include "zetl_log.h"
#include "zetl_proto.h"
#include "zetl_record.h"
#include "zetl_time.h"
#include "zetl_watermark.h"

#define S_EXPIRE_BUCKETS 4  //  dedup buckets forgotten per tick at most
#define S_PREFETCH_AHEAD 8  //  records whose dedup slots load while one is decided

struct zetl_admit {
    const zetl_pipeline_t *pipeline;
    zetl_watermark_t *watermark;
    zetl_dedup_t *dedup;
    uint64_t records;
    uint64_t reprocessed;
    uint64_t evictions_logged;   //  dedup evictions already logged
    msgpack_sbuffer dead;        //  the last too-late record as a dead letter
    msgpack_sbuffer json;        //  its raw text
    msgpack_unpacked unpacked;
};

zetl_admit_t *
zetl_admit_new (const zetl_pipeline_t *pipeline)
{
    zetl_admit_t *self = (zetl_admit_t *) zmalloc (sizeof (zetl_admit_t));
    self->pipeline = pipeline;
    self->watermark =
        zetl_watermark_new (pipeline->partitions, pipeline->watermark_delay_ms * 1000,
                            pipeline->late_window_ms * 1000, pipeline->idle_timeout_ms);
    self->dedup = zetl_dedup_new (pipeline->dedup_window_ms * 1000,
                                  (size_t) pipeline->dedup_memory_bytes);
    assert (self->watermark && self->dedup);  //  The configuration checked the ranges
    msgpack_sbuffer_init (&self->dead);
    msgpack_sbuffer_init (&self->json);
    msgpack_unpacked_init (&self->unpacked);
    return self;
}

void
zetl_admit_destroy (zetl_admit_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_admit_t *self = *self_p;
        zetl_watermark_destroy (&self->watermark);
        zetl_dedup_destroy (&self->dedup);
        msgpack_sbuffer_destroy (&self->dead);
        msgpack_sbuffer_destroy (&self->json);
        msgpack_unpacked_destroy (&self->unpacked);
        free (self);
        *self_p = NULL;
    }
}

uint32_t
zetl_admit_add_source (zetl_admit_t *self)
{
    return zetl_watermark_add_source (self->watermark, NULL, 0);
}

void
zetl_admit_caught_up (zetl_admit_t *self, uint32_t source)
{
    zetl_watermark_source_caught_up (self->watermark, source, true);
}

void
zetl_admit_reading (zetl_admit_t *self, bool reading, int64_t now_ms)
{
    zetl_watermark_reading (self->watermark, reading, now_ms);
}

void
zetl_admit_tick (zetl_admit_t *self, int64_t now_ms)
{
    zetl_watermark_tick (self->watermark, now_ms);
    zetl_dedup_expire (self->dedup, zetl_watermark_get (self->watermark), S_EXPIRE_BUCKETS);
    zetl_dedup_stats_t stats;
    zetl_dedup_stats (self->dedup, &stats);
    if (stats.evictions > self->evictions_logged) {
        //  Never silent: the budget shortened the window
        zetl_log_warn ("admit", "dedup_evicted_early",
                       json_pack ("{s:s, s:I, s:I, s:I, s:s}", "pipeline", self->pipeline->id,
                                  "keys_evicted", (json_int_t) stats.evicted_early,
                                  "effective_window_ms",
                                  (json_int_t) (stats.eviction_window_us / 1000), "budget_bytes",
                                  (json_int_t) stats.budget_bytes, "hint",
                                  "raise dedup_memory (docs/DEDUP.md sizes it)"));
        self->evictions_logged = stats.evictions;
    }
}

//  RECORD as a dead letter with reason too_late, in self->dead
static void
s_too_late (zetl_admit_t *self, const zetl_chunk_t *chunk, const zetl_chunk_record_t *record)
{
    char when[40], error[160];
    zetl_time_format_iso (zetl_watermark_get (self->watermark), when, sizeof when);
    snprintf (error, sizeof error, "older than the watermark %s by more than late_window", when);
    self->dead.size = 0;
    const char *field = self->pipeline->event_time.field;
    if (msgpack_unpack_next (&self->unpacked, chunk->data.data + record->offset, record->len, NULL)
        == MSGPACK_UNPACK_SUCCESS)
        zetl_dead_pack_record (&self->dead, &self->json, &self->unpacked.data, "coordinator",
                               "too_late", field, error);
    else  //  Never: the source packed it
        zetl_dead_pack (&self->dead, "coordinator", "too_late", field, error, "", 0);
}

//  Trace one late or too-late record (debug level only)
static void
s_trace_late (zetl_admit_t *self, const zetl_chunk_t *chunk, const zetl_chunk_record_t *record,
              int class)
{
    if (!zetl_log_enabled (ZETL_LOG_DEBUG))
        return;
    zetl_log_debug ("admit", "record_late",
                    json_pack ("{s:s, s:s, s:s, s:I, s:i, s:I, s:I}", "pipeline",
                               self->pipeline->id, "class",
                               class == ZETL_WATERMARK_LATE ? "late" : "too_late", "source",
                               chunk->source, "position", (json_int_t) record->position,
                               "partition", (int) record->partition, "event_us",
                               (json_int_t) record->event_us, "watermark_us",
                               (json_int_t) zetl_watermark_get (self->watermark)));
}

uint32_t
zetl_admit_record (zetl_admit_t *self, uint32_t source, const zetl_chunk_t *chunk,
                   const zetl_chunk_record_t *record, const void **payload, size_t *len,
                   int64_t now_ms)
{
    self->records++;
    uint32_t flags = record->flags;
    if (flags & ZETL_ENTRY_REPROCESS)
        self->reprocessed++;
    if (flags & ZETL_ENTRY_DEAD)
        return flags;  //  Rejected at the source already
    if (!(flags & ZETL_ENTRY_REPROCESS)) {
        int verdict = zetl_watermark_classify (self->watermark, record->partition, record->event_us);
        int class = verdict & ZETL_WATERMARK_CLASS;
        if (class != ZETL_WATERMARK_ON_TIME)
            s_trace_late (self, chunk, record, class);
        if (class == ZETL_WATERMARK_TOO_LATE && !self->pipeline->too_late_accept) {
            s_too_late (self, chunk, record);
            *payload = self->dead.data;
            *len = self->dead.size;
            return flags | ZETL_ENTRY_DEAD;
        }
        if (class != ZETL_WATERMARK_ON_TIME)
            flags |= ZETL_ENTRY_LATE;
        if (verdict & ZETL_WATERMARK_OUT_OF_ORDER)
            flags |= ZETL_ENTRY_OUT_OF_ORDER;
    }
    if (zetl_dedup_check_insert_key (self->dedup, &record->key) == ZETL_DEDUP_DUPLICATE) {
        *payload = NULL;
        *len = 0;
        return flags | ZETL_ENTRY_DUPLICATE;
    }
    if (!(flags & ZETL_ENTRY_REPROCESS))
        zetl_watermark_observe (self->watermark, record->partition, source, record->event_us,
                                now_ms);
    return flags;
}

void
zetl_admit_prefetch (zetl_admit_t *self, const zetl_chunk_record_t *record)
{
    if (!(record->flags & ZETL_ENTRY_DEAD))
        zetl_dedup_prefetch (self->dedup, &record->key);
}

void
zetl_admit_chunk (zetl_admit_t *self, uint32_t source, const zetl_chunk_t *chunk, int64_t now_ms,
                  zetl_admit_emit_fn *emit, void *arg)
{
    assert (self && chunk && emit);
    const zetl_chunk_record_t *records = chunk->records;
    size_t count = chunk->count;
    for (size_t index = 0; index < count; index++) {
        //  Two stages, so neither waits: the segment header of the record
        //  2 * AHEAD on, then the slots of the one AHEAD on, whose address
        //  needs that header. One decision at a time all the same: each
        //  record's class depends on the watermark the ones before it moved.
        if (index + 2 * S_PREFETCH_AHEAD < count
            && !(records[index + 2 * S_PREFETCH_AHEAD].flags & ZETL_ENTRY_DEAD))
            zetl_dedup_prefetch_segment (self->dedup, &records[index + 2 * S_PREFETCH_AHEAD].key);
        if (index + S_PREFETCH_AHEAD < count)
            zetl_admit_prefetch (self, &records[index + S_PREFETCH_AHEAD]);
        const zetl_chunk_record_t *record = &records[index];
        const void *payload = chunk->data.data + record->offset;
        size_t len = record->len;
        uint32_t flags = zetl_admit_record (self, source, chunk, record, &payload, &len, now_ms);
        emit (arg, chunk, record, flags, payload, len);
    }
}

int64_t
zetl_admit_watermark (zetl_admit_t *self)
{
    return zetl_watermark_get (self->watermark);
}

void
zetl_admit_restore (zetl_admit_t *self, int64_t watermark_us)
{
    zetl_watermark_restore (self->watermark, watermark_us);
}

void
zetl_admit_counters (zetl_admit_t *self, zetl_admit_counters_t *counters)
{
    zetl_watermark_counters_t classes;
    zetl_watermark_counters (self->watermark, &classes);
    zetl_dedup_stats_t dedup;
    zetl_dedup_stats (self->dedup, &dedup);
    counters->records = self->records;
    counters->reprocessed = self->reprocessed;
    counters->on_time = classes.on_time;
    counters->out_of_order = classes.out_of_order;
    counters->late = classes.late;
    counters->too_late = classes.too_late;
    counters->deduplicated = dedup.duplicates;
    counters->id_conflicts = dedup.id_conflicts;
    counters->dedup_evicted_early = dedup.evicted_early;
    counters->dedup_keys = dedup.keys;
    counters->dedup_bytes = dedup.bytes;
    counters->dedup_window_us = dedup.effective_window_us;
    counters->watermark_us = zetl_watermark_get (self->watermark);
}
