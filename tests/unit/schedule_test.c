/*  schedule_test - zetl_schedule: cron expressions, their next minute, intervals  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <czmq.h>

#include "zetl_schedule.h"
#include "zetl_time.h"

static int64_t
s_us (const char *iso)
{
    int64_t us = 0;
    assert_int_equal (zetl_time_parse_iso8601 (iso, strlen (iso), &us), 0);
    return us;
}

//  The next minute of EXPRESSION after AFTER, as ISO text compared with EXPECTED
static void
s_next (const char *expression, const char *after, const char *expected)
{
    zetl_cron_t cron;
    assert_int_equal (zetl_cron_parse (expression, &cron), 0);
    int64_t next = zetl_cron_next_us (&cron, s_us (after));
    if (!expected) {
        assert_int_equal (next, -1);
        return;
    }
    char text[64];
    zetl_time_format_iso (next, text, sizeof text);
    assert_string_equal (text, expected);
}

static void
test_next_minutes (void **state)
{
    (void) state;
    //  2026-11-23 is a Monday
    s_next ("*/15 * * * *", "2026-11-23T10:07:30Z", "2026-11-23T10:15:00.000000Z");
    s_next ("*/15 * * * *", "2026-11-23T10:15:00Z", "2026-11-23T10:30:00.000000Z");  //  strictly after
    s_next ("0 6 * * *", "2026-11-23T10:00:00Z", "2026-11-24T06:00:00.000000Z");
    s_next ("30 2 1 * *", "2026-11-23T10:00:00Z", "2026-12-01T02:30:00.000000Z");
    s_next ("0 0 * * 1", "2026-11-23T10:00:00Z", "2026-11-30T00:00:00.000000Z");
    s_next ("0 12 * * 7", "2026-11-23T10:00:00Z", "2026-11-29T12:00:00.000000Z");  //  7 is Sunday
    s_next ("0 12 * * 0", "2026-11-23T10:00:00Z", "2026-11-29T12:00:00.000000Z");
    s_next ("5,35 9-17/4 * * *", "2026-11-23T13:36:00Z", "2026-11-23T17:05:00.000000Z");
    s_next ("0 0 29 2 *", "2026-11-23T10:00:00Z", "2028-02-29T00:00:00.000000Z");
    s_next ("0 0 31 12 *", "2026-12-31T23:59:00Z", "2027-12-31T00:00:00.000000Z");
    //  Both day fields restricted: either day runs (the 25th, a Wednesday; then Monday 30th)
    s_next ("0 0 25 * 1", "2026-11-23T10:00:00Z", "2026-11-25T00:00:00.000000Z");
    s_next ("0 0 25 * 1", "2026-11-25T10:00:00Z", "2026-11-30T00:00:00.000000Z");
    s_next ("0 0 31 2 *", "2026-11-23T10:00:00Z", NULL);  //  never
}

static void
test_refused (void **state)
{
    (void) state;
    const char *bad[] = {"60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
                         "* * * *",    "* * * * * *", "a * * * *", "*/0 * * * *", "5-1 * * * *",
                         "1,,2 * * * *", "", "1- * * * *", "*/5x * * * *", "30s"};
    zetl_cron_t cron;
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++)
        if (zetl_cron_parse (bad[index], &cron) == 0)
            fail_msg ("'%s' was taken for a cron expression", bad[index]);
}

static void
test_interval (void **state)
{
    (void) state;
    assert_int_equal (zetl_schedule_wait_ms (NULL, 1000, INT64_MIN / 2), 0);  //  long overdue
    int64_t wait = zetl_schedule_wait_ms (NULL, 3600000, zclock_mono ());
    assert_true (wait > 3590000 && wait <= 3600000);
    zetl_cron_t cron;
    assert_int_equal (zetl_cron_parse ("* * * * *", &cron), 0);
    wait = zetl_schedule_wait_ms (&cron, 0, 0);
    assert_true (wait > 0 && wait <= 60000);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_next_minutes),
        cmocka_unit_test (test_refused),
        cmocka_unit_test (test_interval),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
