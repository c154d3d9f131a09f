/*  reorder_test - zetl_reorder: release order by (event time, position),
    equal timestamps, overflow of the oldest first with exact counts, the
    bytes bound, and nothing lost
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zetl_reorder.h"
#include "zetl_rng.h"

#define S_MAX_OUT 20000

//  What left, in order
typedef struct {
    zetl_reorder_record_t records[S_MAX_OUT];
    bool overflow[S_MAX_OUT];
    size_t count;
} s_out_t;

static void
s_collect (const zetl_reorder_record_t *record, bool overflow, void *arg)
{
    s_out_t *out = (s_out_t *) arg;
    assert_true (out->count < S_MAX_OUT);
    out->records[out->count] = *record;
    out->overflow[out->count] = overflow;
    out->count++;
}

static s_out_t *
s_out_new (void)
{
    s_out_t *out = (s_out_t *) calloc (1, sizeof (s_out_t));
    assert_non_null (out);
    return out;
}

static size_t
s_push (zetl_reorder_t *self, uint32_t partition, int64_t event_us, uint64_t position,
        uintptr_t handle, size_t bytes, s_out_t *out)
{
    zetl_reorder_record_t record = {event_us, position, (void *) handle, bytes, partition};
    return zetl_reorder_push (self, &record, s_collect, out);
}

static uintptr_t
s_handle (const s_out_t *out, size_t index)
{
    return (uintptr_t) out->records[index].handle;
}

static void
test_release_in_event_time_order (void **state)
{
    (void) state;
    s_out_t *out = s_out_new ();
    zetl_reorder_t *self = zetl_reorder_new (2, 100, 100000);
    //  handle = the order they must leave in
    s_push (self, 0, 50, 1, 4, 10, out);
    s_push (self, 1, 20, 1, 2, 10, out);
    s_push (self, 0, 10, 2, 1, 10, out);
    s_push (self, 0, 40, 3, 3, 10, out);
    s_push (self, 1, 60, 2, 5, 10, out);
    s_push (self, 0, 70, 4, 6, 10, out);
    assert_int_equal (out->count, 0);  //  Nothing leaves without a watermark
    assert_int_equal (zetl_reorder_held (self), 6);
    assert_int_equal (zetl_reorder_partition_held (self, 0), 4);
    assert_int_equal (zetl_reorder_oldest_us (self), 10);

    assert_int_equal (zetl_reorder_release (self, 9, SIZE_MAX, s_collect, out), 0);
    //  Inclusive: ts <= W leaves
    assert_int_equal (zetl_reorder_release (self, 50, SIZE_MAX, s_collect, out), 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal (s_handle (out, i), i + 1);
        assert_false (out->overflow[i]);
    }
    //  A watermark going back counts as the last one
    assert_int_equal (zetl_reorder_release (self, 30, SIZE_MAX, s_collect, out), 0);
    assert_int_equal (zetl_reorder_watermark (self), 50);
    //  LIMIT bounds a call's work
    assert_int_equal (zetl_reorder_release (self, 100, 1, s_collect, out), 1);
    assert_int_equal (s_handle (out, 4), 5);
    assert_int_equal (zetl_reorder_release (self, 100, 1, s_collect, out), 1);
    assert_int_equal (zetl_reorder_release (self, 100, 1, s_collect, out), 0);
    assert_int_equal (s_handle (out, 5), 6);
    assert_int_equal (zetl_reorder_held (self), 0);
    assert_int_equal (zetl_reorder_held_bytes (self), 0);
    assert_int_equal (zetl_reorder_oldest_us (self), INT64_MAX);

    zetl_reorder_counters_t counters;
    zetl_reorder_counters (self, &counters);
    assert_int_equal (counters.pushed, 6);
    assert_int_equal (counters.released, 6);
    assert_int_equal (counters.overflow, 0);
    assert_int_equal (counters.peak, 6);
    assert_int_equal (counters.peak_bytes, 60);
    zetl_reorder_destroy (&self);
    zetl_reorder_destroy (&self);
    assert_null (self);
    free (out);
}

static void
test_equal_timestamps_by_position (void **state)
{
    (void) state;
    s_out_t *out = s_out_new ();
    zetl_reorder_t *self = zetl_reorder_new (1, 100, 100000);
    s_push (self, 0, 7, 30, 3, 1, out);
    s_push (self, 0, 7, 10, 1, 1, out);
    s_push (self, 0, 7, 20, 2, 1, out);
    //  Equal times and positions (two sources): push order
    s_push (self, 0, 7, 40, 4, 1, out);
    s_push (self, 0, 7, 40, 5, 1, out);
    s_push (self, 0, 7, 40, 6, 1, out);
    s_push (self, 0, 6, 99, 0, 1, out);
    zetl_reorder_release (self, 7, SIZE_MAX, s_collect, out);
    assert_int_equal (out->count, 7);
    for (size_t i = 0; i < 7; i++)
        assert_int_equal (s_handle (out, i), i);
    zetl_reorder_destroy (&self);
    free (out);
}

static void
test_overflow_releases_oldest_first (void **state)
{
    (void) state;
    s_out_t *out = s_out_new ();
    zetl_reorder_t *self = zetl_reorder_new (2, 3, 100000);
    assert_int_equal (s_push (self, 0, 50, 1, 50, 1, out), 0);
    assert_int_equal (s_push (self, 1, 10, 1, 10, 1, out), 0);
    assert_int_equal (s_push (self, 0, 30, 2, 30, 1, out), 0);
    //  Full: the oldest leaves, whichever partition it is in
    assert_int_equal (s_push (self, 0, 20, 3, 20, 1, out), 1);
    assert_int_equal (s_handle (out, 0), 10);
    assert_true (out->overflow[0]);
    assert_int_equal (zetl_reorder_partition_held (self, 1), 0);
    //  A new record older than all the others is the oldest: it leaves itself
    assert_int_equal (s_push (self, 1, 5, 2, 5, 1, out), 1);
    assert_int_equal (s_handle (out, 1), 5);
    assert_true (out->overflow[1]);
    assert_int_equal (s_push (self, 1, 60, 3, 60, 1, out), 1);
    assert_int_equal (s_handle (out, 2), 20);
    assert_int_equal (zetl_reorder_held (self), 3);

    //  A record already due by the watermark that is pushed out is not overflow
    assert_int_equal (zetl_reorder_release (self, 25, SIZE_MAX, s_collect, out), 0);
    assert_int_equal (s_push (self, 0, 25, 4, 25, 1, out), 1);
    assert_int_equal (s_handle (out, 3), 25);
    assert_false (out->overflow[3]);

    zetl_reorder_counters_t counters;
    zetl_reorder_counters (self, &counters);
    assert_int_equal (counters.pushed, 7);
    assert_int_equal (counters.overflow, 3);
    assert_int_equal (counters.released, 1);
    assert_int_equal (counters.held, 3);
    assert_int_equal (counters.peak, 3);

    //  The rest in order at the end
    assert_int_equal (zetl_reorder_release (self, INT64_MAX, SIZE_MAX, s_collect, out), 3);
    assert_int_equal (s_handle (out, 4), 30);
    assert_int_equal (s_handle (out, 5), 50);
    assert_int_equal (s_handle (out, 6), 60);
    zetl_reorder_counters (self, &counters);
    assert_int_equal (counters.overflow, 3);
    assert_int_equal (counters.released, 4);
    zetl_reorder_destroy (&self);
    free (out);
}

static void
test_bytes_bound (void **state)
{
    (void) state;
    s_out_t *out = s_out_new ();
    zetl_reorder_t *self = zetl_reorder_new (1, 1000, 100);
    assert_int_equal (s_push (self, 0, 10, 1, 10, 40, out), 0);
    assert_int_equal (s_push (self, 0, 30, 2, 30, 40, out), 0);
    assert_int_equal (zetl_reorder_held_bytes (self), 80);
    //  20 more fit exactly
    assert_int_equal (s_push (self, 0, 40, 3, 40, 20, out), 0);
    assert_int_equal (zetl_reorder_held_bytes (self), 100);
    //  One byte over: the oldest goes, even if that frees more than needed
    assert_int_equal (s_push (self, 0, 50, 4, 50, 1, out), 1);
    assert_int_equal (s_handle (out, 0), 10);
    assert_int_equal (zetl_reorder_held_bytes (self), 61);
    //  Bigger than the whole buffer: every older record leaves, then it;
    //  the newer one stays
    assert_int_equal (s_push (self, 0, 45, 5, 45, 150, out), 3);
    assert_int_equal (s_handle (out, 1), 30);
    assert_int_equal (s_handle (out, 2), 40);
    assert_int_equal (s_handle (out, 3), 45);
    assert_int_equal (zetl_reorder_held (self), 1);
    assert_int_equal (zetl_reorder_held_bytes (self), 1);
    zetl_reorder_counters_t counters;
    zetl_reorder_counters (self, &counters);
    assert_int_equal (counters.overflow, 4);
    assert_int_equal (counters.peak_bytes, 100);
    zetl_reorder_release (self, INT64_MAX, SIZE_MAX, s_collect, out);
    assert_int_equal (s_handle (out, 4), 50);
    zetl_reorder_destroy (&self);
    free (out);
}

//  Random traffic on a small buffer, with late records: every record leaves
//  exactly once, the bounds hold after every push, a partition's records
//  that were above W when pushed leave in (event time, position) order
//  unless they overflow, and overflow is exactly what left above W
static void
test_nothing_lost (void **state)
{
    (void) state;
    const uint32_t partitions = 7;
    const size_t max_records = 64, max_bytes = 4000, total = 10000;
    s_out_t *out = s_out_new ();
    zetl_reorder_t *self = zetl_reorder_new (partitions, max_records, max_bytes);
    zetl_rng_t rng;
    zetl_rng_seed (&rng, 7, 3);
    int64_t *event_us = (int64_t *) calloc (total, sizeof (int64_t));
    uint64_t *position = (uint64_t *) calloc (total, sizeof (uint64_t));
    unsigned *seen = (unsigned *) calloc (total, sizeof (unsigned));
    bool *due = (bool *) calloc (total, sizeof (bool));  //  at or below W when pushed
    int64_t watermark = INT64_MIN, base = 1000000;
    uint64_t overflow = 0;
    for (size_t i = 0; i < total; i++) {
        base += (int64_t) (zetl_rng_next (&rng) % 100);
        event_us[i] = base - (int64_t) (zetl_rng_next (&rng) % 3000);
        position[i] = i / 3;  //  Some equal positions
        uint32_t partition = (uint32_t) (zetl_rng_next (&rng) % partitions);
        size_t bytes = 1 + (size_t) (zetl_rng_next (&rng) % 200);
        size_t before = out->count;
        due[i] = event_us[i] <= watermark;
        s_push (self, partition, event_us[i], position[i], i, bytes, out);
        assert_true (zetl_reorder_held (self) <= max_records);
        assert_true (zetl_reorder_held_bytes (self) <= max_bytes);
        //  Whatever a push made leave left oldest first, as overflow exactly
        //  when it was above the watermark
        for (size_t k = before; k < out->count; k++) {
            if (k > before)
                assert_true (out->records[k - 1].event_us <= out->records[k].event_us);
            assert_int_equal (out->overflow[k], out->records[k].event_us > watermark);
        }
        if (zetl_rng_next (&rng) % 10 == 0) {
            int64_t next = base - 2000;
            if (next > watermark)
                watermark = next;
            zetl_reorder_release (self, watermark, SIZE_MAX, s_collect, out);
            assert_true (zetl_reorder_oldest_us (self) > watermark);
        }
    }
    zetl_reorder_release (self, INT64_MAX, SIZE_MAX, s_collect, out);
    assert_int_equal (out->count, total);
    assert_int_equal (zetl_reorder_held (self), 0);
    assert_int_equal (zetl_reorder_held_bytes (self), 0);
    for (uint32_t p = 0; p < partitions; p++)
        assert_int_equal (zetl_reorder_partition_held (self, p), 0);

    //  Exactly once; the struct comes back as pushed
    int64_t *last = (int64_t *) calloc (partitions, sizeof (int64_t));
    uint64_t *last_position = (uint64_t *) calloc (partitions, sizeof (uint64_t));
    for (uint32_t p = 0; p < partitions; p++)
        last[p] = INT64_MIN;
    for (size_t k = 0; k < out->count; k++) {
        uintptr_t i = s_handle (out, k);
        assert_true (i < total);
        seen[i]++;
        assert_int_equal (out->records[k].event_us, event_us[i]);
        assert_int_equal (out->records[k].position, position[i]);
        if (out->overflow[k]) {
            overflow++;
            continue;
        }
        if (due[i])
            continue;  //  Late: below records that already left, by definition
        //  In-order releases of a partition never go back in (ts, position)
        uint32_t p = out->records[k].partition;
        if (last[p] != INT64_MIN)
            assert_true (last[p] < event_us[i] ||
                         (last[p] == event_us[i] && last_position[p] <= position[i]));
        last[p] = event_us[i];
        last_position[p] = position[i];
    }
    for (size_t i = 0; i < total; i++)
        assert_int_equal (seen[i], 1);
    zetl_reorder_counters_t counters;
    zetl_reorder_counters (self, &counters);
    assert_int_equal (counters.pushed, total);
    assert_int_equal (counters.overflow, overflow);
    assert_true (overflow > 0);  //  The buffer was small enough to overflow
    assert_int_equal (counters.released + counters.overflow, total);
    assert_true (counters.peak <= max_records);
    assert_true (counters.peak_bytes <= max_bytes);
    zetl_reorder_destroy (&self);
    free (last);
    free (last_position);
    free (event_us);
    free (position);
    free (seen);
    free (due);
    free (out);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_release_in_event_time_order),
        cmocka_unit_test (test_equal_timestamps_by_position),
        cmocka_unit_test (test_overflow_releases_oldest_first),
        cmocka_unit_test (test_bytes_bound),
        cmocka_unit_test (test_nothing_lost),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
