/*  zetl_admit - what happens to each record as the coordinator takes it in

    One per pipeline, owned by the dispatcher. For each record, against the
    watermark in force when it arrives (zetl_watermark): on time (maybe out
    of order), late (processed and flagged), or too late (dead-lettered with
    reason too_late, or accepted and counted with `too_late: accept`); then
    deduplication (zetl_dedup): an exact duplicate within dedup_window goes
    on as a position-only entry, so sinks commit its position and count it.
    Records marked REPROCESS bypass the lateness check (the batch layer).
    Late and out-of-order are facts about arrival: they travel as entry
    flags and counters, never into target rows. With debug logging on, each
    late and too-late record is logged with its source and position (a
    trace of which records a given arrival order made late).
*/
#ifndef ZETL_ADMIT_H_INCLUDED
#define ZETL_ADMIT_H_INCLUDED

#include "zetl_chunk.h"
#include "zetl_config.h"

typedef struct zetl_admit zetl_admit_t;

typedef struct {
    uint64_t records;         //  records taken in (reprocessed ones included)
    uint64_t reprocessed;     //  records sent back by a reprocess request
    uint64_t on_time;         //  at or after the watermark
    uint64_t out_of_order;    //  on time, but older than their partition's newest
    uint64_t late;            //  behind the watermark, within late_window: processed
    uint64_t too_late;        //  behind the watermark by more than late_window
    uint64_t deduplicated;    //  exact duplicates dropped
    uint64_t id_conflicts;    //  same id, other content: another version
    uint64_t dedup_evicted_early;  //  keys the dedup budget forced out early
    uint64_t dedup_keys;      //  keys held
    uint64_t dedup_bytes;     //  bytes the dedup set holds
    int64_t dedup_window_us;  //  the effective dedup window now
    int64_t watermark_us;     //  W, INT64_MIN before any record
} zetl_admit_counters_t;

//  Create for PIPELINE (borrowed: must outlive the result). Caller owns it.
zetl_admit_t *zetl_admit_new (const zetl_pipeline_t *pipeline);
void zetl_admit_destroy (zetl_admit_t **self_p);

//  A source that feeds every partition; returns its id.
uint32_t zetl_admit_add_source (zetl_admit_t *self);
//  The source has read all it has for now (a file at its end).
void zetl_admit_caught_up (zetl_admit_t *self, uint32_t source);
//  Reading resumed (true) or is held back by backpressure (false): only
//  time spent reading counts toward a partition's idleness.
void zetl_admit_reading (zetl_admit_t *self, bool reading, int64_t now_ms);
//  Timers: idleness, dedup expiry (bounded work). Call every loop turn or so.
void zetl_admit_tick (zetl_admit_t *self, int64_t now_ms);

//  Decide RECORD of CHUNK from SOURCE. Returns the flags it travels with
//  (ZETL_ENTRY_*). When it becomes a dead letter (too late) or a duplicate,
//  *PAYLOAD and *LEN are replaced: a packed dead letter in a buffer of the
//  admitter (valid until the next call), or nothing at all.
uint32_t zetl_admit_record (zetl_admit_t *self, uint32_t source, const zetl_chunk_t *chunk,
                            const zetl_chunk_record_t *record, const void **payload, size_t *len,
                            int64_t now_ms);

//  Called by zetl_admit_chunk for each record of CHUNK, in order, with what
//  zetl_admit_record returned for it: FLAGS, and PAYLOAD/LEN (the packed
//  record in the chunk, a dead letter valid until the call returns, or
//  NULL/0 for a duplicate). ARG is the caller's.
typedef void (zetl_admit_emit_fn) (void *arg, const zetl_chunk_t *chunk,
                                   const zetl_chunk_record_t *record, uint32_t flags,
                                   const void *payload, size_t len);

//  Decide every record of CHUNK from SOURCE and hand each to EMIT, in
//  order: the same decisions, counters, traces and emitted payloads as one
//  zetl_admit_record call per record followed by its use, each record
//  classified against the watermark in force when it arrives. Faster: the
//  deduplication slots of the records ahead load while one is decided.
//  Counts nothing for the reconciliation (the caller's job).
void zetl_admit_chunk (zetl_admit_t *self, uint32_t source, const zetl_chunk_t *chunk,
                       int64_t now_ms, zetl_admit_emit_fn *emit, void *arg);

//  Hint that RECORD will be decided soon (a few records ahead): starts
//  loading its deduplication slots into the cache. Changes nothing.
void zetl_admit_prefetch (zetl_admit_t *self, const zetl_chunk_record_t *record);

//  The pipeline's watermark now.
int64_t zetl_admit_watermark (zetl_admit_t *self);
//  Raise W to at least WATERMARK_US: a checkpoint restored at start.
void zetl_admit_restore (zetl_admit_t *self, int64_t watermark_us);
//  Fill *COUNTERS.
void zetl_admit_counters (zetl_admit_t *self, zetl_admit_counters_t *counters);

#endif
