/*  watermark_test - zetl_watermark: bounded out-of-orderness, idleness in
    reading time, caught-up sources, never-seen partitions, monotonic W,
    classification boundaries, and a model check of the incremental state
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "zetl_rng.h"
#include "zetl_watermark.h"

#define S_SEC INT64_C (1000000)          //  µs
#define S_DELAY (5 * S_SEC)              //  watermark_delay
#define S_LATE (60 * S_SEC)              //  late_window
#define S_IDLE_MS INT64_C (60000)        //  idle_timeout
#define S_T0 INT64_C (1714817702000000)  //  2024-05-04T10:15:02Z

//  P partitions, one source covering all of them, being read from time 0
static zetl_watermark_t *
s_new (uint32_t partitions, uint32_t *source)
{
    zetl_watermark_t *self = zetl_watermark_new (partitions, S_DELAY, S_LATE, S_IDLE_MS);
    assert_non_null (self);
    *source = zetl_watermark_add_source (self, NULL, 0);
    zetl_watermark_reading (self, true, 0);
    return self;
}

static void
test_minus_infinity_before_any_record (void **state)
{
    (void) state;
    uint32_t source;
    zetl_watermark_t *self = s_new (4, &source);
    assert_int_equal (zetl_watermark_get (self), INT64_MIN);
    zetl_watermark_tick (self, 10 * S_IDLE_MS);  //  Read for long: still nothing seen
    assert_int_equal (zetl_watermark_get (self), INT64_MIN);
    zetl_watermark_source_caught_up (self, source, true);
    assert_int_equal (zetl_watermark_get (self), INT64_MIN);
    //  Anything is on time against -inf, even the smallest time there is
    assert_int_equal (zetl_watermark_classify (self, 0, INT64_MIN), ZETL_WATERMARK_ON_TIME);
    assert_int_equal (zetl_watermark_active (self), 0);
    zetl_watermark_destroy (&self);
    zetl_watermark_destroy (&self);  //  Second call does nothing
    assert_null (self);
}

static void
test_bounded_out_of_orderness (void **state)
{
    (void) state;
    uint32_t source;
    zetl_watermark_t *self = s_new (1, &source);
    //  W = max_ts - delay (Flink's BoundedOutOfOrdernessWatermarks, without its -1)
    zetl_watermark_observe (self, 0, source, S_T0 + 100 * S_SEC, 1);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 95 * S_SEC);
    //  Disorder within the delay is on time, counted out of order, and leaves W
    assert_int_equal (zetl_watermark_classify (self, 0, S_T0 + 97 * S_SEC),
                      ZETL_WATERMARK_ON_TIME | ZETL_WATERMARK_OUT_OF_ORDER);
    zetl_watermark_observe (self, 0, source, S_T0 + 97 * S_SEC, 2);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 95 * S_SEC);
    zetl_watermark_observe (self, 0, source, S_T0 + 110 * S_SEC, 3);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 105 * S_SEC);
    zetl_watermark_destroy (&self);

    //  Several partitions: the slowest active one sets W
    self = s_new (3, &source);
    zetl_watermark_observe (self, 0, source, S_T0 + 300 * S_SEC, 1);
    zetl_watermark_observe (self, 1, source, S_T0 + 100 * S_SEC, 1);
    zetl_watermark_observe (self, 2, source, S_T0 + 200 * S_SEC, 1);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 95 * S_SEC);
    assert_int_equal (zetl_watermark_active (self), 3);
    zetl_watermark_observe (self, 0, source, S_T0 + 400 * S_SEC, 2);  //  Not the slowest
    assert_int_equal (zetl_watermark_get (self), S_T0 + 95 * S_SEC);
    zetl_watermark_observe (self, 1, source, S_T0 + 250 * S_SEC, 2);  //  Slowest moves on
    assert_int_equal (zetl_watermark_get (self), S_T0 + 195 * S_SEC);
    zetl_watermark_destroy (&self);
}

//  Partition 0 stops at 100 s; partition 1 goes on; both from one source
static zetl_watermark_t *
s_two_partitions (uint32_t *source)
{
    zetl_watermark_t *self = s_new (2, source);
    zetl_watermark_observe (self, 0, *source, S_T0 + 100 * S_SEC, 0);
    zetl_watermark_observe (self, 1, *source, S_T0 + 200 * S_SEC, 0);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 95 * S_SEC);
    return self;
}

static void
test_idle_partition_stops_holding_while_reading (void **state)
{
    (void) state;
    uint32_t source;
    zetl_watermark_t *self = s_two_partitions (&source);
    zetl_watermark_observe (self, 1, source, S_T0 + 210 * S_SEC, 30000);
    zetl_watermark_observe (self, 1, source, S_T0 + 220 * S_SEC, 59000);
    zetl_watermark_tick (self, S_IDLE_MS - 1);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 95 * S_SEC);
    zetl_watermark_partition_t status;
    zetl_watermark_partition (self, 0, S_IDLE_MS - 1, &status);
    assert_true (status.active);
    assert_int_equal (status.quiet_ms, S_IDLE_MS - 1);

    zetl_watermark_tick (self, S_IDLE_MS);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 215 * S_SEC);
    assert_int_equal (zetl_watermark_active (self), 1);
    zetl_watermark_partition (self, 0, S_IDLE_MS, &status);
    assert_true (status.seen);
    assert_true (status.idle);
    assert_false (status.active);
    assert_int_equal (status.max_ts_us, S_T0 + 100 * S_SEC);
    assert_int_equal (status.watermark_us, S_T0 + 95 * S_SEC);
    zetl_watermark_destroy (&self);
}

static void
test_backpressure_is_not_idleness (void **state)
{
    (void) state;
    uint32_t source;
    zetl_watermark_t *self = s_two_partitions (&source);
    //  Read for 10 s, throttled for an hour, then read again
    zetl_watermark_reading (self, false, 10000);
    zetl_watermark_tick (self, 3600000);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 95 * S_SEC);
    zetl_watermark_partition_t status;
    zetl_watermark_partition (self, 0, 3600000, &status);
    assert_int_equal (status.quiet_ms, 10000);
    assert_true (status.active);

    zetl_watermark_reading (self, true, 3600000);
    zetl_watermark_observe (self, 1, source, S_T0 + 230 * S_SEC, 3600000);
    //  10 s before the pause + 49.999 s after it: not yet idle_timeout of reading
    zetl_watermark_tick (self, 3600000 + 49999);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 95 * S_SEC);
    zetl_watermark_tick (self, 3600000 + 50000);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 225 * S_SEC);
    zetl_watermark_destroy (&self);
}

static void
test_caught_up_releases_at_once (void **state)
{
    (void) state;
    zetl_watermark_t *self = zetl_watermark_new (2, S_DELAY, S_LATE, S_IDLE_MS);
    const uint32_t first[] = {0}, second[] = {1};
    uint32_t a = zetl_watermark_add_source (self, first, 1);
    uint32_t b = zetl_watermark_add_source (self, second, 1);
    assert_int_not_equal (a, b);
    zetl_watermark_reading (self, true, 0);
    zetl_watermark_observe (self, 0, a, S_T0 + 100 * S_SEC, 1);
    zetl_watermark_observe (self, 1, b, S_T0 + 200 * S_SEC, 1);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 95 * S_SEC);

    //  No tick needed: the declaration itself releases partition 0
    zetl_watermark_source_caught_up (self, a, true);
    assert_true (zetl_watermark_source_is_caught_up (self, a));
    assert_int_equal (zetl_watermark_get (self), S_T0 + 195 * S_SEC);
    zetl_watermark_partition_t status;
    zetl_watermark_partition (self, 0, 2, &status);
    assert_true (status.caught_up);
    assert_false (status.active);

    //  A record wakes the partition and the source; W does not go back
    zetl_watermark_observe (self, 0, a, S_T0 + 150 * S_SEC, 3);
    assert_false (zetl_watermark_source_is_caught_up (self, a));
    assert_int_equal (zetl_watermark_active (self), 2);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 195 * S_SEC);
    zetl_watermark_observe (self, 0, a, S_T0 + 300 * S_SEC, 4);
    zetl_watermark_observe (self, 1, b, S_T0 + 260 * S_SEC, 4);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 255 * S_SEC);

    //  A removed source holds nothing back, and its id is reused
    zetl_watermark_remove_source (self, b);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 295 * S_SEC);
    assert_int_equal (zetl_watermark_add_source (self, NULL, 0), b);
    zetl_watermark_destroy (&self);
}

static void
test_two_sources_on_one_partition (void **state)
{
    (void) state;
    zetl_watermark_t *self = zetl_watermark_new (2, S_DELAY, S_LATE, S_IDLE_MS);
    uint32_t file = zetl_watermark_add_source (self, NULL, 0);
    uint32_t producer = zetl_watermark_add_source (self, NULL, 0);
    zetl_watermark_reading (self, true, 0);
    zetl_watermark_observe (self, 0, file, S_T0 + 100 * S_SEC, 1);
    zetl_watermark_observe (self, 1, producer, S_T0 + 200 * S_SEC, 1);
    //  The producer may still feed partition 0: the file alone releases nothing
    zetl_watermark_source_caught_up (self, file, true);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 95 * S_SEC);
    zetl_watermark_source_caught_up (self, file, true);  //  Again: nothing changes
    zetl_watermark_source_caught_up (self, producer, true);
    //  Nothing active: W takes the highest partition watermark, as Flink does
    //  when every input is idle
    assert_int_equal (zetl_watermark_active (self), 0);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 195 * S_SEC);
    //  Not caught up any more, yet nothing holds W until a record comes
    zetl_watermark_source_caught_up (self, producer, false);
    assert_int_equal (zetl_watermark_active (self), 0);
    zetl_watermark_destroy (&self);
}

static void
test_never_decreases (void **state)
{
    (void) state;
    uint32_t source;
    zetl_watermark_t *self = s_two_partitions (&source);
    zetl_watermark_observe (self, 1, source, S_T0 + 300 * S_SEC, 50000);
    zetl_watermark_tick (self, S_IDLE_MS);  //  Partition 0 goes idle
    assert_int_equal (zetl_watermark_get (self), S_T0 + 295 * S_SEC);

    //  Partition 0 rejoins with old data: it is active, and lowest, but W stays
    assert_int_equal (zetl_watermark_classify (self, 0, S_T0 + 250 * S_SEC), ZETL_WATERMARK_LATE);
    zetl_watermark_observe (self, 0, source, S_T0 + 250 * S_SEC, S_IDLE_MS + 1);
    assert_int_equal (zetl_watermark_active (self), 2);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 295 * S_SEC);
    //  ... until it passes W
    zetl_watermark_observe (self, 0, source, S_T0 + 298 * S_SEC, S_IDLE_MS + 2);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 295 * S_SEC);
    zetl_watermark_observe (self, 0, source, S_T0 + 350 * S_SEC, S_IDLE_MS + 3);
    zetl_watermark_observe (self, 1, source, S_T0 + 320 * S_SEC, S_IDLE_MS + 3);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 315 * S_SEC);

    //  A restored checkpoint only ever raises it
    zetl_watermark_restore (self, S_T0);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 315 * S_SEC);
    zetl_watermark_restore (self, S_T0 + 400 * S_SEC);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 400 * S_SEC);
    zetl_watermark_observe (self, 1, source, S_T0 + 380 * S_SEC, S_IDLE_MS + 4);
    assert_int_equal (zetl_watermark_get (self), S_T0 + 400 * S_SEC);
    zetl_watermark_destroy (&self);
}

static void
test_never_seen_partitions_hold_until_read_for_idle_timeout (void **state)
{
    (void) state;
    uint32_t source;
    zetl_watermark_t *self = s_new (4, &source);
    //  Partitions 0 and 1 get records all along; 2 and 3 never do
    int64_t now = 0;
    for (; now < 2 * S_IDLE_MS; now += 1000) {
        zetl_watermark_observe (self, 0, source, S_T0 + now * 1000, now);
        zetl_watermark_observe (self, 1, source, S_T0 + now * 1000 + S_SEC, now);
        if (now == 20000)
            zetl_watermark_reading (self, false, now);  //  Throttled for 30 s
        if (now == 50000)
            zetl_watermark_reading (self, true, now);
        zetl_watermark_tick (self, now);
        //  Read for S_IDLE_MS by now + 30 s of pause
        if (now < S_IDLE_MS + 30000)
            assert_int_equal (zetl_watermark_get (self), INT64_MIN);
        else
            assert_int_equal (zetl_watermark_get (self), S_T0 + now * 1000 - S_DELAY);
    }
    zetl_watermark_partition_t status;
    zetl_watermark_partition (self, 3, now, &status);
    assert_false (status.seen);
    assert_false (status.active);
    assert_int_equal (status.max_ts_us, INT64_MIN);
    assert_int_equal (status.watermark_us, INT64_MIN);
    zetl_watermark_destroy (&self);

    //  A caught-up declaration lets them go at once
    self = s_new (4, &source);
    zetl_watermark_observe (self, 0, source, S_T0, 1);
    zetl_watermark_tick (self, 2);
    assert_int_equal (zetl_watermark_get (self), INT64_MIN);
    zetl_watermark_source_caught_up (self, source, true);
    assert_int_equal (zetl_watermark_get (self), S_T0 - S_DELAY);
    zetl_watermark_destroy (&self);

    //  ... but only those whose every source is caught up
    self = zetl_watermark_new (3, S_DELAY, S_LATE, S_IDLE_MS);
    const uint32_t low[] = {0, 1}, high[] = {2};
    uint32_t a = zetl_watermark_add_source (self, low, 2);
    uint32_t b = zetl_watermark_add_source (self, high, 1);
    zetl_watermark_reading (self, true, 0);
    zetl_watermark_observe (self, 0, a, S_T0, 1);
    zetl_watermark_source_caught_up (self, a, true);
    assert_int_equal (zetl_watermark_get (self), INT64_MIN);  //  2 is still b's
    zetl_watermark_source_caught_up (self, b, true);
    assert_int_equal (zetl_watermark_get (self), S_T0 - S_DELAY);
    zetl_watermark_destroy (&self);
}

static void
test_classification_boundaries (void **state)
{
    (void) state;
    uint32_t source;
    zetl_watermark_t *self = s_new (2, &source);
    zetl_watermark_observe (self, 0, source, S_T0 + S_DELAY, 1);
    zetl_watermark_observe (self, 1, source, S_T0 + S_DELAY + 10 * S_SEC, 1);
    const int64_t w = zetl_watermark_get (self);
    assert_int_equal (w, S_T0);

    assert_int_equal (zetl_watermark_classify (self, 0, w),
                      ZETL_WATERMARK_ON_TIME | ZETL_WATERMARK_OUT_OF_ORDER);
    assert_int_equal (zetl_watermark_classify (self, 0, w + S_DELAY), ZETL_WATERMARK_ON_TIME);
    assert_int_equal (zetl_watermark_classify (self, 0, w + S_DELAY + 1), ZETL_WATERMARK_ON_TIME);
    assert_int_equal (zetl_watermark_classify (self, 0, w - 1), ZETL_WATERMARK_LATE);
    assert_int_equal (zetl_watermark_classify (self, 0, w - S_LATE), ZETL_WATERMARK_LATE);
    assert_int_equal (zetl_watermark_classify (self, 0, w - S_LATE - 1), ZETL_WATERMARK_TOO_LATE);
    assert_int_equal (zetl_watermark_classify (self, 1, INT64_MIN), ZETL_WATERMARK_TOO_LATE);
    //  Out of order is against the record's own partition
    assert_int_equal (zetl_watermark_classify (self, 1, w + S_DELAY + 1),
                      ZETL_WATERMARK_ON_TIME | ZETL_WATERMARK_OUT_OF_ORDER);
    assert_int_equal (zetl_watermark_classify (self, 1, w + S_DELAY + 10 * S_SEC),
                      ZETL_WATERMARK_ON_TIME);  //  Equal to max_ts: in order

    //  Classifying does not observe: W and max_ts are as they were
    assert_int_equal (zetl_watermark_get (self), w);
    zetl_watermark_counters_t counters;
    zetl_watermark_counters (self, &counters);
    assert_int_equal (counters.on_time, 5);
    assert_int_equal (counters.out_of_order, 2);
    assert_int_equal (counters.late, 2);
    assert_int_equal (counters.too_late, 2);
    assert_int_equal (counters.observed, 2);
    zetl_watermark_destroy (&self);

    //  A zero late_window: anything below W is too late
    self = zetl_watermark_new (1, 0, 0, S_IDLE_MS);
    source = zetl_watermark_add_source (self, NULL, 0);
    zetl_watermark_observe (self, 0, source, S_T0, 0);
    assert_int_equal (zetl_watermark_classify (self, 0, S_T0), ZETL_WATERMARK_ON_TIME);
    assert_int_equal (zetl_watermark_classify (self, 0, S_T0 - 1), ZETL_WATERMARK_TOO_LATE);
    zetl_watermark_destroy (&self);
}

static void
test_out_of_order_counted_below_max (void **state)
{
    (void) state;
    uint32_t source;
    zetl_watermark_t *self = s_new (1, &source);
    const int64_t times[] = {10, 12, 11, 12, 13, 9, 13, 14};  //  s, within the delay
    const int expected_ooo[] = {0, 0, 1, 0, 0, 1, 0, 0};
    size_t count = 0;
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        int64_t ts = S_T0 + times[i] * S_SEC;
        int cls = zetl_watermark_classify (self, 0, ts);
        assert_int_equal (cls & ZETL_WATERMARK_CLASS, ZETL_WATERMARK_ON_TIME);
        assert_int_equal (!!(cls & ZETL_WATERMARK_OUT_OF_ORDER), expected_ooo[i]);
        count += expected_ooo[i];
        zetl_watermark_observe (self, 0, source, ts, (int64_t) i);
    }
    zetl_watermark_counters_t counters;
    zetl_watermark_counters (self, &counters);
    assert_int_equal (counters.out_of_order, count);
    assert_int_equal (counters.on_time, 8);
    zetl_watermark_destroy (&self);
}

//  The model: the definitions, computed naively at every step, against the
//  incremental module (quiet list, lazy recomputation, open counts)
#define M_P 16
#define M_SOURCES 3

typedef struct {
    int64_t max[M_P];
    int64_t last[M_P];  //  reading clock at the last record
    bool seen[M_P], idle[M_P], released[M_P];
    bool covers[M_SOURCES][M_P];
    bool caught_up[M_SOURCES];
    int64_t clock;  //  reading clock
    bool expired;
    int64_t w;
} s_model_t;

static int64_t
s_model_get (s_model_t *m)
{
    bool any_seen = false, hold = false;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int p = 0; p < M_P; p++) {
        if (!m->seen[p]) {
            hold |= !m->released[p] && !m->expired;
            continue;
        }
        any_seen = true;
        int64_t wm = m->max[p] - S_DELAY;
        hi = wm > hi ? wm : hi;
        if (!m->idle[p] && !m->released[p])
            lo = wm < lo ? wm : lo;
    }
    int64_t raw = !any_seen || hold ? INT64_MIN : lo != INT64_MAX ? lo : hi;
    if (raw > m->w)
        m->w = raw;
    return m->w;
}

static void
s_model_declare (s_model_t *m, int s, bool caught_up)
{
    bool was = m->caught_up[s];
    m->caught_up[s] = caught_up;
    if (!caught_up || was)
        return;
    for (int p = 0; p < M_P; p++) {
        bool all = true;
        for (int o = 0; o < M_SOURCES; o++)
            all &= !m->covers[o][p] || m->caught_up[o];
        if (all)
            m->released[p] = true;
    }
}

static void
test_model (void **state)
{
    (void) state;
    zetl_rng_t rng;
    zetl_rng_seed (&rng, 42, 7);
    for (int round = 0; round < 20; round++) {
        s_model_t m;
        memset (&m, 0, sizeof m);
        m.w = INT64_MIN;
        zetl_watermark_t *self = zetl_watermark_new (M_P, S_DELAY, S_LATE, S_IDLE_MS);
        //  Source 0 covers all; 1 covers 0..7; 2 covers 4..11
        uint32_t list1[8], list2[8], ids[M_SOURCES];
        for (int i = 0; i < 8; i++) {
            list1[i] = (uint32_t) i;
            list2[i] = (uint32_t) i + 4;
        }
        ids[0] = zetl_watermark_add_source (self, NULL, 0);
        ids[1] = zetl_watermark_add_source (self, list1, 8);
        ids[2] = zetl_watermark_add_source (self, list2, 8);
        for (int p = 0; p < M_P; p++) {
            m.covers[0][p] = true;
            m.covers[1][p] = p < 8;
            m.covers[2][p] = p >= 4 && p < 12;
        }
        for (int p = 0; p < M_P; p++)
            m.max[p] = INT64_MIN;
        bool reading = false;
        int64_t now = 0, base = S_T0;
        for (int step = 0; step < 3000; step++) {
            int64_t dt = (int64_t) (zetl_rng_next (&rng) % 4000);
            now += dt;
            if (reading)
                m.clock += dt;
            base += dt * 1000;
            uint64_t op = zetl_rng_next (&rng) % 100;
            if (op < 70) {
                int s = (int) (zetl_rng_next (&rng) % M_SOURCES);
                int p;
                do
                    p = (int) (zetl_rng_next (&rng) % M_P);
                while (!m.covers[s][p]);
                //  Skew partitions so that some fall quiet for long
                if (p >= 12 && zetl_rng_next (&rng) % 8)
                    continue;
                int64_t ts = base - (int64_t) (zetl_rng_next (&rng) % (20 * S_SEC));
                zetl_watermark_observe (self, (uint32_t) p, ids[s], ts, now);
                m.seen[p] = true;
                m.max[p] = ts > m.max[p] ? ts : m.max[p];
                m.idle[p] = m.released[p] = false;
                m.last[p] = m.clock;
                m.caught_up[s] = false;
            }
            else if (op < 80) {
                int s = (int) (zetl_rng_next (&rng) % M_SOURCES);
                bool caught_up = zetl_rng_next (&rng) % 3 != 0;
                zetl_watermark_source_caught_up (self, ids[s], caught_up);
                s_model_declare (&m, s, caught_up);
            }
            else if (op < 85) {
                reading = !reading;
                zetl_watermark_reading (self, reading, now);
            }
            else {
                zetl_watermark_tick (self, now);
                for (int p = 0; p < M_P; p++)
                    if (m.seen[p] && m.clock - m.last[p] >= S_IDLE_MS)
                        m.idle[p] = true;
                m.expired |= m.clock >= S_IDLE_MS;
            }
            //  Sampled now and then only: laziness must not change the result
            if (zetl_rng_next (&rng) % 3 == 0) {
                int64_t expected = s_model_get (&m);
                int64_t got = zetl_watermark_get (self);
                if (got != expected)
                    fail_msg ("round %d step %d: W %lld, model %lld", round, step, (long long) got,
                              (long long) expected);
            }
        }
        zetl_watermark_destroy (&self);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_minus_infinity_before_any_record),
        cmocka_unit_test (test_bounded_out_of_orderness),
        cmocka_unit_test (test_idle_partition_stops_holding_while_reading),
        cmocka_unit_test (test_backpressure_is_not_idleness),
        cmocka_unit_test (test_caught_up_releases_at_once),
        cmocka_unit_test (test_two_sources_on_one_partition),
        cmocka_unit_test (test_never_decreases),
        cmocka_unit_test (test_never_seen_partitions_hold_until_read_for_idle_timeout),
        cmocka_unit_test (test_classification_boundaries),
        cmocka_unit_test (test_out_of_order_counted_below_max),
        cmocka_unit_test (test_model),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
