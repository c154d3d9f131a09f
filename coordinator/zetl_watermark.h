/*  zetl_watermark - event-time watermarks of one pipeline, per partition and global

    Owned by the coordinator's dispatch actor, one per pipeline. Pure state: no
    sockets, no threads, no clock. Event times are int64 µs since the epoch,
    UTC, as in records; every NOW_MS is the caller's monotonic clock
    (zclock_mono), used for idleness only. Feeds record classification (on
    time / late / too late), WATERMARK messages, the ordered mode's reorder
    buffer (zetl_reorder) and zetl_watermark_lag_seconds.

    Per partition p: max_ts[p] is the largest event time observed, and
    wm[p] = max_ts[p] - watermark_delay. The pipeline watermark W is
      - INT64_MIN (-inf) before any record, and while a partition that never
        had a record may still get one: until every source covering it has
        declared itself caught up, or the sources have been read for
        idle_timeout in all;
      - otherwise min (wm[p]) over the active partitions;
      - when no partition is active, max (wm[p]) over the partitions that had
        a record (what Flink does when every input is idle: the result does
        not depend on which partition went quiet last);
    and W never moves backwards: a computed value below it leaves it as is.

    A partition is active from its first record until either every source
    covering it has declared itself caught up, or idle_timeout of reading
    time passes with no record for it. Reading time only runs while the
    caller says the sources are being read (zetl_watermark_reading), so time
    spent throttled by backpressure is not idleness. A record makes its
    partition active again, W does not go back for it, and nothing but a
    record does.

    Sources are ids the caller registers, each covering every partition or a
    list of them; the list must hold every partition the source can feed. A
    source starts not caught up. A record from a caught-up source means it is
    not caught up any more, until it declares so again (a file read to its
    end again, a producer's next heartbeat).

    Per record, in this order:
      1. zetl_watermark_classify: its class against the W in force, counted;
      2. if the pipeline accepts the record, zetl_watermark_observe. A
         too-late record that is dead-lettered is not observed: it must not
         move max_ts or wake its partition. (With too_late: accept, it is
         accepted, so it is observed.)
    Records of bounded re-reads (full refresh, lookback, reprocess) skip
    both: they bypass the lateness check, and their old event times say
    nothing about the live stream (observed, they would hold W back until
    their partitions went idle).
    On its timer the caller calls zetl_watermark_tick, then
    zetl_watermark_get, and publishes W when it has advanced.

    Cost: observe and classify are O(1) (the first record of a list source
    after it caught up costs O(its partitions)); W is recomputed in O(P),
    lazily, only after something that can move it: a record raising the
    lowest active partition, a partition becoming active, idle or caught up.
    Idleness is found without a scan: partitions are kept in the order of
    their last record.
*/
#ifndef ZETL_WATERMARK_H_INCLUDED
#define ZETL_WATERMARK_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  zetl_watermark_classify returns one class, possibly with the out-of-order bit
#define ZETL_WATERMARK_ON_TIME 0       //  ts >= W
#define ZETL_WATERMARK_LATE 1          //  W - late_window <= ts < W: processed, flagged
#define ZETL_WATERMARK_TOO_LATE 2      //  ts < W - late_window: dead-lettered, or too_late: accept
#define ZETL_WATERMARK_CLASS 3         //  mask of the class in a result
#define ZETL_WATERMARK_OUT_OF_ORDER 4  //  with ON_TIME only: ts < max_ts[p]

//  Records classified; each in exactly one of on_time, late and too_late
typedef struct {
    uint64_t on_time;       //  ts >= W
    uint64_t late;          //  W - late_window <= ts < W
    uint64_t too_late;      //  ts < W - late_window
    uint64_t out_of_order;  //  on time, but ts < max_ts[p] (a subset of on_time)
    uint64_t observed;      //  records observed (accepted)
} zetl_watermark_counters_t;

//  One partition, for status pages
typedef struct {
    bool seen;          //  it has had a record
    bool active;        //  it holds W back
    bool idle;          //  no record for idle_timeout of reading time
    bool caught_up;     //  every source covering it declared itself caught up since its last record
    int64_t max_ts_us;  //  largest event time observed; INT64_MIN if none
    int64_t watermark_us;  //  wm[p] = max_ts[p] - watermark_delay; INT64_MIN if none
    int64_t quiet_ms;      //  reading time since its last record (since the start if none)
} zetl_watermark_partition_t;

typedef struct zetl_watermark zetl_watermark_t;

//  Create the watermarks of a pipeline with PARTITIONS partitions (at least 1).
//  DELAY_US is watermark_delay and LATE_WINDOW_US late_window (both >= 0, µs);
//  IDLE_TIMEOUT_MS (> 0) is idle_timeout. The sources are not being read yet:
//  call zetl_watermark_reading (self, true, now_ms) when reading starts. Caller
//  owns the result.
zetl_watermark_t *zetl_watermark_new (uint32_t partitions, int64_t delay_us, int64_t late_window_us,
                                      int64_t idle_timeout_ms);
//  Destroy the watermarks and set *self_p to NULL. Does nothing if *self_p is NULL.
void zetl_watermark_destroy (zetl_watermark_t **self_p);

//  Register a source that covers the COUNT partitions in PARTITIONS (copied),
//  or every partition when PARTITIONS is NULL. It starts not caught up.
//  Returns its id, which a removed source's id may reuse.
uint32_t zetl_watermark_add_source (zetl_watermark_t *self, const uint32_t *partitions,
                                    size_t count);
//  Forget source SOURCE_ID (a producer that left, a file done with): it holds
//  nothing back any more, as if it had declared itself caught up for good.
void zetl_watermark_remove_source (zetl_watermark_t *self, uint32_t source_id);
//  Source SOURCE_ID declares itself caught up (CAUGHT_UP true: a file at its
//  end, a producer's heartbeat with nothing unsent) or not. When the last
//  source covering a partition is caught up, the partition stops holding W
//  at once. Declaring the state a source is in does nothing.
void zetl_watermark_source_caught_up (zetl_watermark_t *self, uint32_t source_id, bool caught_up);
//  Whether source SOURCE_ID is caught up.
bool zetl_watermark_source_is_caught_up (zetl_watermark_t *self, uint32_t source_id);

//  The sources are being read (READING true) or paused, throttled by
//  backpressure (false), from NOW_MS on. Idleness only accumulates while
//  reading. Saying what is already the case does nothing.
void zetl_watermark_reading (zetl_watermark_t *self, bool reading, int64_t now_ms);
//  Make partitions that have had no record for idle_timeout of reading time
//  idle, and let never-seen partitions go once the sources have been read
//  for idle_timeout. Costs O(1 + partitions that went idle).
void zetl_watermark_tick (zetl_watermark_t *self, int64_t now_ms);

//  Classify a record of PARTITION with event time TS_US against the W in force
//  (before the record is observed), and count it. Returns ZETL_WATERMARK_ON_TIME,
//  _LATE or _TOO_LATE, ORed with ZETL_WATERMARK_OUT_OF_ORDER for an on-time
//  record below its partition's max_ts. Call once per arriving record.
int zetl_watermark_classify (zetl_watermark_t *self, uint32_t partition, int64_t ts_us);
//  The record of PARTITION with event time TS_US from source SOURCE_ID was
//  accepted at NOW_MS: raise max_ts[PARTITION], make the partition active,
//  and the source not caught up. Do not call it for dead-lettered records nor
//  for bounded re-reads (see above).
void zetl_watermark_observe (zetl_watermark_t *self, uint32_t partition, uint32_t source_id,
                             int64_t ts_us, int64_t now_ms);

//  The pipeline watermark W in µs: INT64_MIN (-inf) until it is known.
int64_t zetl_watermark_get (zetl_watermark_t *self);
//  Raise W to at least WATERMARK_US (a restored checkpoint). W never goes back.
void zetl_watermark_restore (zetl_watermark_t *self, int64_t watermark_us);
//  Partitions holding W back now.
uint32_t zetl_watermark_active (zetl_watermark_t *self);
//  Number of partitions.
uint32_t zetl_watermark_partitions (zetl_watermark_t *self);
//  Fill STATUS with partition PARTITION's state at NOW_MS.
void zetl_watermark_partition (zetl_watermark_t *self, uint32_t partition, int64_t now_ms,
                               zetl_watermark_partition_t *status);
//  Fill COUNTERS with the counts since creation.
void zetl_watermark_counters (zetl_watermark_t *self, zetl_watermark_counters_t *counters);

#endif
