/*  breaker_test - zetl_breaker: every transition, the open periods, counters  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "zetl_breaker.h"

#define S_T0 1000000  //  an arbitrary start on the monotonic clock

//  A breaker with THRESHOLD, OPEN_MS and MAX_OPEN_MS
static void
s_init (zetl_breaker_t *breaker, uint32_t threshold, int64_t open_ms, int64_t max_open_ms)
{
    zetl_breaker_config_t config = {threshold, open_ms, max_open_ms};
    zetl_breaker_init (breaker, &config);
}

//  Fail THRESHOLD calls in a row at NOW_MS, which opens it
static void
s_trip (zetl_breaker_t *breaker, int64_t now_ms)
{
    for (uint32_t i = 0; i < breaker->config.failure_threshold; i++) {
        assert_true (zetl_breaker_allow (breaker, now_ms));
        zetl_breaker_failure (breaker, now_ms);
    }
    assert_int_equal (zetl_breaker_state (breaker), ZETL_BREAKER_OPEN);
}

//  The open period that started at NOW_MS, checked to be within the upper
//  half of PERIOD_MS
static int64_t
s_open_period (zetl_breaker_t *breaker, int64_t now_ms, int64_t period_ms)
{
    int64_t wait_ms = zetl_breaker_wait_ms (breaker, now_ms);
    assert_in_range (wait_ms, period_ms - period_ms / 2, period_ms);
    return wait_ms;
}

static void
test_defaults_and_names (void **state)
{
    (void) state;
    zetl_breaker_t breaker;
    zetl_breaker_init (&breaker, NULL);
    assert_int_equal (breaker.config.failure_threshold, 5);
    assert_int_equal (breaker.config.open_ms, 5000);
    assert_int_equal (breaker.config.max_open_ms, 60000);
    assert_int_equal (zetl_breaker_state (&breaker), ZETL_BREAKER_CLOSED);
    assert_int_equal (zetl_breaker_wait_ms (&breaker, S_T0), 0);
    assert_true (zetl_breaker_allow (&breaker, S_T0));
    assert_string_equal (zetl_breaker_state_name (ZETL_BREAKER_CLOSED), "closed");
    assert_string_equal (zetl_breaker_state_name (ZETL_BREAKER_OPEN), "open");
    assert_string_equal (zetl_breaker_state_name (ZETL_BREAKER_HALF_OPEN), "half_open");
    zetl_breaker_config_t config;
    zetl_breaker_config_defaults (&config);
    assert_int_equal (config.failure_threshold, 5);
    assert_int_equal (config.open_ms, 5000);
    assert_int_equal (config.max_open_ms, 60000);
}

static void
test_consecutive_failures_open_it (void **state)
{
    (void) state;
    zetl_breaker_t breaker;
    s_init (&breaker, 3, 1000, 8000);
    //  Two failures, a success: the count starts again
    zetl_breaker_failure (&breaker, S_T0);
    zetl_breaker_failure (&breaker, S_T0);
    zetl_breaker_success (&breaker, S_T0);
    zetl_breaker_failure (&breaker, S_T0 + 1);
    zetl_breaker_failure (&breaker, S_T0 + 2);
    assert_int_equal (zetl_breaker_state (&breaker), ZETL_BREAKER_CLOSED);
    assert_true (zetl_breaker_allow (&breaker, S_T0 + 3));
    assert_int_equal (breaker.opened_total, 0);
    //  The third in a row opens it
    zetl_breaker_failure (&breaker, S_T0 + 3);
    assert_int_equal (zetl_breaker_state (&breaker), ZETL_BREAKER_OPEN);
    assert_int_equal (breaker.opened_total, 1);
    s_open_period (&breaker, S_T0 + 3, 1000);
}

static void
test_threshold_of_one (void **state)
{
    (void) state;
    zetl_breaker_t breaker;
    s_init (&breaker, 1, 100, 100);
    zetl_breaker_failure (&breaker, S_T0);
    assert_int_equal (zetl_breaker_state (&breaker), ZETL_BREAKER_OPEN);
    s_open_period (&breaker, S_T0, 100);
}

static void
test_open_refuses_until_due_then_one_trial (void **state)
{
    (void) state;
    zetl_breaker_t breaker;
    s_init (&breaker, 2, 1000, 8000);
    s_trip (&breaker, S_T0);
    int64_t period = s_open_period (&breaker, S_T0, 1000);
    int64_t due = S_T0 + period;
    //  Refused, and the wait shrinks as time passes
    assert_false (zetl_breaker_allow (&breaker, S_T0));
    assert_false (zetl_breaker_allow (&breaker, due - 1));
    assert_int_equal (zetl_breaker_wait_ms (&breaker, due - 1), 1);
    assert_int_equal (breaker.rejected_total, 2);
    //  Due: still OPEN until asked, then the asking call is the trial
    assert_int_equal (zetl_breaker_wait_ms (&breaker, due), 0);
    assert_int_equal (zetl_breaker_wait_ms (&breaker, due + 500), 0);
    assert_int_equal (zetl_breaker_state (&breaker), ZETL_BREAKER_OPEN);
    assert_true (zetl_breaker_allow (&breaker, due + 500));
    assert_int_equal (zetl_breaker_state (&breaker), ZETL_BREAKER_HALF_OPEN);
    //  Exactly one trial: others are refused while it is out, however long
    assert_false (zetl_breaker_allow (&breaker, due + 500));
    assert_false (zetl_breaker_allow (&breaker, due + 1000000));
    assert_int_equal (zetl_breaker_wait_ms (&breaker, due + 1000000), -1);
    assert_int_equal (breaker.rejected_total, 4);
}

static void
test_trial_success_closes (void **state)
{
    (void) state;
    zetl_breaker_t breaker;
    s_init (&breaker, 2, 1000, 8000);
    s_trip (&breaker, S_T0);
    int64_t due = S_T0 + s_open_period (&breaker, S_T0, 1000);
    assert_true (zetl_breaker_allow (&breaker, due));
    zetl_breaker_success (&breaker, due + 7);
    assert_int_equal (zetl_breaker_state (&breaker), ZETL_BREAKER_CLOSED);
    assert_int_equal (zetl_breaker_wait_ms (&breaker, due + 7), 0);
    assert_int_equal (breaker.open_total_ms, due + 7 - S_T0);
    //  Closed afresh: threshold failures again to open, from open_ms again
    assert_true (zetl_breaker_allow (&breaker, due + 8));
    zetl_breaker_failure (&breaker, due + 8);
    assert_int_equal (zetl_breaker_state (&breaker), ZETL_BREAKER_CLOSED);
    zetl_breaker_failure (&breaker, due + 9);
    assert_int_equal (zetl_breaker_state (&breaker), ZETL_BREAKER_OPEN);
    s_open_period (&breaker, due + 9, 1000);
    assert_int_equal (breaker.opened_total, 2);
}

static void
test_failed_trials_double_up_to_the_cap (void **state)
{
    (void) state;
    zetl_breaker_t breaker;
    s_init (&breaker, 1, 1000, 10000);
    int64_t now = S_T0;
    zetl_breaker_failure (&breaker, now);
    const int64_t periods[] = {1000, 2000, 4000, 8000, 10000, 10000, 10000};
    for (size_t i = 0; i < sizeof periods / sizeof periods[0]; i++) {
        now += s_open_period (&breaker, now, periods[i]);
        assert_false (zetl_breaker_allow (&breaker, now - 1));
        assert_true (zetl_breaker_allow (&breaker, now));
        now += 3;  //  The trial takes 3 ms, and fails
        zetl_breaker_failure (&breaker, now);
        assert_int_equal (zetl_breaker_state (&breaker), ZETL_BREAKER_OPEN);
    }
    //  One opening, however many failed trials
    assert_int_equal (breaker.opened_total, 1);
    assert_int_equal (zetl_breaker_open_total_ms (&breaker, now), now - S_T0);
    //  A success at last: closed, and the schedule starts again
    now += zetl_breaker_wait_ms (&breaker, now);
    assert_true (zetl_breaker_allow (&breaker, now));
    zetl_breaker_success (&breaker, now);
    assert_int_equal (breaker.open_total_ms, now - S_T0);
    zetl_breaker_failure (&breaker, now);
    s_open_period (&breaker, now, 1000);
}

static void
test_jitter_spreads_within_bounds (void **state)
{
    (void) state;
    //  Many breakers opening at once must not all retry at once
    int64_t low = INT64_MAX, high = 0;
    int seen[11] = {0};
    for (int i = 0; i < 2000; i++) {
        zetl_breaker_t breaker;
        s_init (&breaker, 1, 10000, 60000);
        zetl_breaker_failure (&breaker, S_T0);
        int64_t wait_ms = s_open_period (&breaker, S_T0, 10000);
        low = wait_ms < low ? wait_ms : low;
        high = wait_ms > high ? wait_ms : high;
        seen[(wait_ms - 5000) / 500]++;
    }
    //  Spread over the whole upper half: every tenth of it is drawn
    assert_true (low < 5500 && high > 9500);
    for (int i = 0; i < 10; i++)
        assert_true (seen[i] > 100);
}

static void
test_outcomes_while_open_change_nothing (void **state)
{
    (void) state;
    zetl_breaker_t breaker;
    s_init (&breaker, 1, 1000, 1000);
    zetl_breaker_failure (&breaker, S_T0);
    int64_t wait_ms = zetl_breaker_wait_ms (&breaker, S_T0);
    //  Calls allowed before it opened report late
    zetl_breaker_success (&breaker, S_T0 + 1);
    zetl_breaker_failure (&breaker, S_T0 + 2);
    assert_int_equal (zetl_breaker_state (&breaker), ZETL_BREAKER_OPEN);
    assert_int_equal (zetl_breaker_wait_ms (&breaker, S_T0), wait_ms);
    assert_int_equal (breaker.successes_total, 1);
    assert_int_equal (breaker.failures_total, 2);
    assert_int_equal (breaker.opened_total, 1);
}

static void
test_counters (void **state)
{
    (void) state;
    zetl_breaker_t breaker;
    s_init (&breaker, 2, 1000, 4000);
    int64_t now = S_T0;
    for (int i = 0; i < 3; i++) {
        assert_true (zetl_breaker_allow (&breaker, now));
        zetl_breaker_success (&breaker, now);
    }
    s_trip (&breaker, now);  //  2 failures
    int64_t opened = now;
    for (int i = 0; i < 4; i++)
        assert_false (zetl_breaker_allow (&breaker, now + i));
    assert_int_equal (zetl_breaker_open_total_ms (&breaker, now + 250), 250);
    now += zetl_breaker_wait_ms (&breaker, now);
    assert_true (zetl_breaker_allow (&breaker, now));
    assert_false (zetl_breaker_allow (&breaker, now));
    zetl_breaker_failure (&breaker, now);  //  The trial fails
    now += zetl_breaker_wait_ms (&breaker, now);
    assert_true (zetl_breaker_allow (&breaker, now));
    zetl_breaker_success (&breaker, now + 10);  //  This one succeeds
    now += 10;
    assert_int_equal (breaker.successes_total, 4);
    assert_int_equal (breaker.failures_total, 3);
    assert_int_equal (breaker.rejected_total, 5);
    assert_int_equal (breaker.opened_total, 1);
    assert_int_equal (breaker.open_total_ms, now - opened);
    //  Closed: the total stays put as time passes
    assert_int_equal (zetl_breaker_open_total_ms (&breaker, now + 100000), now - opened);
    //  A second spell adds to it
    s_trip (&breaker, now + 1000);
    assert_int_equal (zetl_breaker_open_total_ms (&breaker, now + 1500), now - opened + 500);
    assert_int_equal (breaker.opened_total, 2);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_defaults_and_names),
        cmocka_unit_test (test_consecutive_failures_open_it),
        cmocka_unit_test (test_threshold_of_one),
        cmocka_unit_test (test_open_refuses_until_due_then_one_trial),
        cmocka_unit_test (test_trial_success_closes),
        cmocka_unit_test (test_failed_trials_double_up_to_the_cap),
        cmocka_unit_test (test_jitter_spreads_within_bounds),
        cmocka_unit_test (test_outcomes_while_open_change_nothing),
        cmocka_unit_test (test_counters),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
