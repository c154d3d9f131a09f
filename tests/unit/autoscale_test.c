/*  autoscale_test - zetl_autoscale: the rules of DESIGN §9 with their
    delays, the bounds, the cap at partitions with records held, the rates
    and time to drain, and the credit wait
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <czmq.h>
#include <string.h>

#include "zetl_autoscale.h"

//  The defaults of DESIGN §9, as the configuration has them
static zetl_autoscaling_t
s_defaults (void)
{
    zetl_autoscaling_t config = {.min_workers = 1,
                                 .max_workers = 100,
                                 .queue_depth = 10000,
                                 .depth_step = 3,
                                 .busy_above = 70,
                                 .busy_step = 2,
                                 .memory_above = 80,
                                 .memory_step = 1,
                                 .idle_below = 20,
                                 .scale_up_delay_ms = 30000,
                                 .scale_down_delay_ms = 300000};
    return config;
}

//  A sample: WORKERS at UTILISATION, QUEUE records held over LAGGING partitions
static zetl_autoscale_sample_t
s_sample (uint32_t workers, double utilisation, uint64_t queue, uint32_t lagging)
{
    zetl_autoscale_sample_t sample = {.workers = workers,
                                      .utilisation = utilisation,
                                      .queue_records = queue,
                                      .partitions_lagging = lagging,
                                      .watermark_lag_ms = -1};
    return sample;
}

//  Feed SAMPLE every second from FROM_S to TO_S (inclusive); the desired workers after
static uint32_t
s_feed (zetl_autoscale_t *self, zetl_autoscale_sample_t sample, int from_s, int to_s)
{
    for (int second = from_s; second <= to_s; second++)
        zetl_autoscale_update (self, &sample, (int64_t) second * 1000);
    return zetl_autoscale_signal (self)->desired_workers;
}

static void
test_depth_steps_up_after_the_delay (void **state)
{
    (void) state;
    zetl_autoscaling_t config = s_defaults ();
    zetl_autoscale_t *self = zetl_autoscale_new (&config);
    assert_int_equal (zetl_autoscale_signal (self)->desired_workers, 1);
    zetl_autoscale_sample_t deep = s_sample (1, 0.1, 10001, 64);
    //  Not before 30 s of a deep queue
    assert_int_equal (s_feed (self, deep, 1, 30), 1);
    assert_int_equal (s_feed (self, deep, 31, 31), 4);
    assert_string_equal (zetl_autoscale_signal (self)->reason, "depth");
    //  Each step waits the delay again
    assert_int_equal (s_feed (self, deep, 32, 60), 4);
    assert_int_equal (s_feed (self, deep, 61, 61), 7);
    //  At the threshold, not above it: no step
    zetl_autoscale_destroy (&self);
    self = zetl_autoscale_new (&config);
    assert_int_equal (s_feed (self, s_sample (1, 0.5, 10000, 64), 1, 100), 1);
    zetl_autoscale_destroy (&self);
}

static void
test_largest_step_applies (void **state)
{
    (void) state;
    zetl_autoscaling_t config = s_defaults ();
    config.scale_up_delay_ms = 0;
    zetl_autoscale_t *self = zetl_autoscale_new (&config);
    //  Busy alone: +2
    assert_int_equal (s_feed (self, s_sample (1, 0.71, 0, 64), 1, 1), 3);
    assert_string_equal (zetl_autoscale_signal (self)->reason, "utilisation");
    //  Memory alone: +1
    zetl_autoscale_sample_t full = s_sample (3, 0.5, 0, 64);
    full.memory = 0.81;
    assert_int_equal (s_feed (self, full, 2, 2), 4);
    assert_string_equal (zetl_autoscale_signal (self)->reason, "memory");
    //  Deep, busy and full at once: the largest, +3
    full.queue_records = 20000;
    full.utilisation = 0.9;
    assert_int_equal (s_feed (self, full, 3, 3), 7);
    assert_string_equal (zetl_autoscale_signal (self)->reason, "depth");
    zetl_autoscale_destroy (&self);
}

static void
test_condition_must_hold_throughout (void **state)
{
    (void) state;
    zetl_autoscaling_t config = s_defaults ();
    zetl_autoscale_t *self = zetl_autoscale_new (&config);
    //  Busy for 29 s, one calm second, busy again: the delay starts over
    assert_int_equal (s_feed (self, s_sample (1, 0.9, 0, 64), 1, 29), 1);
    assert_int_equal (s_feed (self, s_sample (1, 0.5, 0, 64), 30, 30), 1);
    assert_int_equal (s_feed (self, s_sample (1, 0.9, 0, 64), 31, 60), 1);
    assert_int_equal (s_feed (self, s_sample (1, 0.9, 0, 64), 61, 61), 3);
    zetl_autoscale_destroy (&self);
}

static void
test_idle_steps_down_one_at_a_time (void **state)
{
    (void) state;
    zetl_autoscaling_t config = s_defaults ();
    config.scale_up_delay_ms = 0;
    config.min_workers = 2;
    zetl_autoscale_t *self = zetl_autoscale_new (&config);
    assert_int_equal (zetl_autoscale_signal (self)->desired_workers, 2);
    assert_int_equal (s_feed (self, s_sample (2, 0.1, 50000, 64), 0, 1), 8);
    //  Idle: one fewer every 5 minutes, never below min_workers
    zetl_autoscale_sample_t idle = s_sample (8, 0.19, 0, 0);
    assert_int_equal (s_feed (self, idle, 2, 301), 8);
    assert_int_equal (s_feed (self, idle, 302, 302), 7);
    assert_string_equal (zetl_autoscale_signal (self)->reason, "idle");
    assert_int_equal (s_feed (self, idle, 303, 601), 7);
    assert_int_equal (s_feed (self, idle, 602, 602), 6);
    assert_int_equal (s_feed (self, idle, 603, 10000), 2);
    //  Half busy is neither up nor down
    assert_int_equal (s_feed (self, s_sample (2, 0.5, 0, 64), 10001, 20000), 2);
    assert_string_equal (zetl_autoscale_signal (self)->reason, "steady");
    zetl_autoscale_destroy (&self);
}

static void
test_bounds_and_lagging_partitions (void **state)
{
    (void) state;
    zetl_autoscaling_t config = s_defaults ();
    config.scale_up_delay_ms = 0;
    config.max_workers = 5;
    zetl_autoscale_t *self = zetl_autoscale_new (&config);
    //  Never more than the partitions holding records
    assert_int_equal (s_feed (self, s_sample (1, 0.1, 50000, 2), 1, 10), 2);
    assert_string_equal (zetl_autoscale_signal (self)->reason, "bounds");
    //  Never more than max_workers
    assert_int_equal (s_feed (self, s_sample (2, 0.1, 50000, 64), 11, 20), 5);
    zetl_autoscale_destroy (&self);
}

static void
test_rates_and_time_to_drain (void **state)
{
    (void) state;
    zetl_autoscaling_t config = s_defaults ();
    zetl_autoscale_t *self = zetl_autoscale_new (&config);
    zetl_autoscale_sample_t sample = s_sample (1, 0.5, 0, 1);
    //  1000 records in and 500 committed each second: the averages approach them
    for (int second = 0; second <= 60; second++) {
        sample.records_in = (uint64_t) second * 1000;
        sample.committed = (uint64_t) second * 500;
        sample.queue_records = (uint64_t) second * 500;
        zetl_autoscale_update (self, &sample, (int64_t) second * 1000);
    }
    const zetl_autoscale_signal_t *signal = zetl_autoscale_signal (self);
    assert_true (signal->arrival_rate > 999 && signal->arrival_rate < 1001);
    assert_true (signal->service_rate > 499 && signal->service_rate < 501);
    //  30 000 records held at 500 a second: a minute
    assert_true (signal->time_to_drain_ms > 59000 && signal->time_to_drain_ms < 61000);
    zetl_autoscale_destroy (&self);
    //  Nothing served yet, records held: no time can be told
    self = zetl_autoscale_new (&config);
    assert_int_equal (s_feed (self, s_sample (1, 0, 10, 1), 0, 3), 1);
    assert_int_equal (zetl_autoscale_signal (self)->time_to_drain_ms, -1);
    zetl_autoscale_destroy (&self);
}

static void
test_credit_wait (void **state)
{
    (void) state;
    zetl_autoscaling_t config = s_defaults ();
    zetl_autoscale_t *self = zetl_autoscale_new (&config);
    zetl_autoscale_sample_t sample = s_sample (1, 0.5, 0, 1);
    zetl_autoscale_update (self, &sample, 0);
    //  Starved for about half of a 200 ms interval
    int64_t start = zclock_usecs ();
    zetl_autoscale_note_credit (self, true, start);
    zetl_autoscale_note_credit (self, false, start + 100000);
    while (zclock_usecs () < start + 200000)
        zclock_sleep (10);  //  The interval must pass on the clock the signal reads
    zetl_autoscale_update (self, &sample, 1000);
    double wait = zetl_autoscale_signal (self)->credit_wait;
    assert_true (wait > 0.3 && wait < 0.6);
    //  Never starved since: zero
    zetl_autoscale_update (self, &sample, 2000);
    assert_true (zetl_autoscale_signal (self)->credit_wait == 0);
    zetl_autoscale_destroy (&self);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_depth_steps_up_after_the_delay),
        cmocka_unit_test (test_largest_step_applies),
        cmocka_unit_test (test_condition_must_hold_throughout),
        cmocka_unit_test (test_idle_steps_down_one_at_a_time),
        cmocka_unit_test (test_bounds_and_lagging_partitions),
        cmocka_unit_test (test_rates_and_time_to_drain),
        cmocka_unit_test (test_credit_wait),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
