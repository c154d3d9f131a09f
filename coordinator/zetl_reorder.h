/*  zetl_reorder - the bounded reorder buffer of a pipeline with ordered: true

    Owned by the coordinator's dispatch actor, one per ordered pipeline,
    beside its zetl_watermark. Pure state: no sockets, no threads, no clock.
    Records are opaque here: the caller passes a small struct with its own
    handle (a pointer to its record, or an index it owns), the record's event
    time, source position, partition and size; the module copies that struct,
    never the record, and never looks behind the handle.

    Records leave through a callback, each exactly once:
      - zetl_reorder_release (W): every held record with event time <= W, in
        (event time, position) order, so each partition's records leave in
        event-time order;
      - when a push makes the buffer hold more than max_records records or
        max_bytes bytes, its oldest records (smallest event time, then
        position) leave at once, out of watermark order, until it is within
        both bounds again. Those are counted as overflow (reorder_overflow),
        never dropped: a full buffer must not wait for a watermark that the
        held-back producers cannot move. A record bigger than max_bytes on its
        own passes straight through, after every older record.
    Among equal event times, records leave by position, then in push order
    (positions of different sources may be equal). The bounds are the
    pipeline's, shared by its partitions.

    The module holds each handle from its push until it hands it to the
    callback; destroying the buffer forgets the handles it still holds, so
    call zetl_reorder_release (self, INT64_MAX, …) first to get them back.
    Costs: push and each record released O(log n), n records held.
*/
#ifndef ZETL_REORDER_H_INCLUDED
#define ZETL_REORDER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  One record, as the caller describes it
typedef struct {
    int64_t event_us;    //  event time, µs since the epoch, UTC: the release order
    uint64_t position;   //  source position: the order among equal event times
    void *handle;        //  the caller's record (or an index in it); opaque here
    size_t bytes;        //  its weight against max_bytes
    uint32_t partition;  //  its partition, < partitions
} zetl_reorder_record_t;

//  Called once for each record that leaves. OVERFLOW is true when it left
//  early, above the watermark, because the buffer was full. RECORD is
//  borrowed, valid during the call; the handle in it is the caller's again.
//  The callback must not call this buffer's functions.
typedef void (zetl_reorder_fn) (const zetl_reorder_record_t *record, bool overflow, void *arg);

typedef struct {
    uint64_t pushed;      //  records pushed
    uint64_t released;    //  records that left in watermark order (event time <= W)
    uint64_t overflow;    //  records that left early because the buffer was full
    uint64_t held;        //  records held now: pushed = released + overflow + held
    uint64_t held_bytes;  //  their bytes
    uint64_t peak;        //  most records held at once
    uint64_t peak_bytes;  //  most bytes held at once (at most max_bytes)
} zetl_reorder_counters_t;

typedef struct zetl_reorder zetl_reorder_t;

//  Create an empty buffer for PARTITIONS partitions that holds at most
//  MAX_RECORDS records (>= 1) and MAX_BYTES bytes (>= 1). Caller owns the result.
zetl_reorder_t *zetl_reorder_new (uint32_t partitions, size_t max_records, size_t max_bytes);
//  Destroy the buffer and set *self_p to NULL. Does nothing if *self_p is NULL.
//  Records still held are forgotten: their handles are not touched.
void zetl_reorder_destroy (zetl_reorder_t **self_p);

//  Hold RECORD (the struct is copied; its handle is held until it leaves).
//  If the buffer is then over a bound, its oldest records leave through FN
//  with ARG until it is not: with OVERFLOW true, or false for one that was
//  already due (event time <= the watermark of the last release). A record
//  at or below that watermark otherwise waits for the next release. Returns
//  how many records left.
size_t zetl_reorder_push (zetl_reorder_t *self, const zetl_reorder_record_t *record,
                          zetl_reorder_fn *fn, void *arg);
//  Release through FN with ARG the held records with event time <=
//  WATERMARK_US, oldest first, at most LIMIT of them (SIZE_MAX: all), so a
//  loop turn can bound its work; call again while it returns LIMIT. A
//  WATERMARK_US below an earlier one counts as that one (W never goes back).
//  INT64_MAX releases everything. Returns how many records left.
size_t zetl_reorder_release (zetl_reorder_t *self, int64_t watermark_us, size_t limit,
                             zetl_reorder_fn *fn, void *arg);

//  Records held.
size_t zetl_reorder_held (zetl_reorder_t *self);
//  Bytes held.
size_t zetl_reorder_held_bytes (zetl_reorder_t *self);
//  Records of PARTITION held.
size_t zetl_reorder_partition_held (zetl_reorder_t *self, uint32_t partition);
//  Event time of the oldest record held, or INT64_MAX if none.
int64_t zetl_reorder_oldest_us (zetl_reorder_t *self);
//  The highest watermark released so far; INT64_MIN before any release.
int64_t zetl_reorder_watermark (zetl_reorder_t *self);
//  Fill COUNTERS.
void zetl_reorder_counters (zetl_reorder_t *self, zetl_reorder_counters_t *counters);

#endif
