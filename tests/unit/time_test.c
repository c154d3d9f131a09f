/*  time_test - zetl_time: ISO 8601 / RFC 3339, dates, unix ms, strftime
    patterns, and exact formatting on both sides of 1970
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "zetl_time.h"

#define S_2024_05_04_101502 INT64_C (1714817702000000)  //  2024-05-04T10:15:02Z
#define S_SEC INT64_C (1000000)
#define S_DAY (86400 * S_SEC)

static int
s_iso (const char *text, int64_t *us)
{
    return zetl_time_parse_iso8601 (text, strlen (text), us);
}

static void
s_assert_iso (const char *text, int64_t expected)
{
    int64_t us = 0;
    if (s_iso (text, &us) != 0)
        fail_msg ("refused: \"%s\"", text);
    if (us != expected)
        fail_msg ("\"%s\": got %lld, expected %lld", text, (long long) us, (long long) expected);
}

static void
s_assert_iso_refused (const char *text)
{
    int64_t us = 12345;
    if (s_iso (text, &us) == 0)
        fail_msg ("accepted: \"%s\" as %lld", text, (long long) us);
    assert_int_equal (us, 12345);  //  Untouched on error
}

static void
test_iso_utc_forms (void **state)
{
    (void) state;
    s_assert_iso ("2024-05-04T10:15:02Z", S_2024_05_04_101502);
    s_assert_iso ("2024-05-04t10:15:02z", S_2024_05_04_101502);
    s_assert_iso ("2024-05-04 10:15:02", S_2024_05_04_101502);  //  No offset: UTC
    s_assert_iso ("2024-05-04T10:15:02", S_2024_05_04_101502);
    s_assert_iso ("2024-05-04T10:15Z", S_2024_05_04_101502 - 2 * S_SEC);
    s_assert_iso ("2024-05-04", S_2024_05_04_101502 - (10 * 3600 + 15 * 60 + 2) * S_SEC);
    s_assert_iso ("1970-01-01T00:00:00Z", 0);
    s_assert_iso ("1969-07-20T20:17:40Z", INT64_C (-14182940000000));
    s_assert_iso ("0001-01-01T00:00:00Z", INT64_C (-62135596800000000));
    s_assert_iso ("9999-12-31T23:59:59.999999Z", INT64_C (253402300799999999));
}

static void
test_iso_offsets (void **state)
{
    (void) state;
    int64_t base = S_2024_05_04_101502;
    s_assert_iso ("2024-05-04T12:15:02+02:00", base);
    s_assert_iso ("2024-05-04T12:15:02+0200", base);
    s_assert_iso ("2024-05-04T12:15:02+02", base);
    s_assert_iso ("2024-05-04T04:45:02-0530", base);
    s_assert_iso ("2024-05-04T04:45:02-05:30", base);
    s_assert_iso ("2024-05-05T00:15:02+14", base);
    s_assert_iso ("2024-05-04T10:15:02-00:00", base);
    s_assert_iso ("2024-05-04T10:15:02+00:00", base);
    s_assert_iso ("2024-05-05T04:15:02+18:00", base);
    s_assert_iso ("2024-05-03T16:15:02-18:00", base);
    //  An offset can move the instant to another day, month or year
    s_assert_iso ("2025-01-01T01:00:00+02:00", INT64_C (1735686000000000));
}

static void
test_iso_fractions (void **state)
{
    (void) state;
    int64_t base = S_2024_05_04_101502;
    s_assert_iso ("2024-05-04T10:15:02.1Z", base + 100000);
    s_assert_iso ("2024-05-04T10:15:02.12Z", base + 120000);
    s_assert_iso ("2024-05-04T10:15:02.113Z", base + 113000);
    s_assert_iso ("2024-05-04T10:15:02.1134Z", base + 113400);
    s_assert_iso ("2024-05-04T10:15:02.11345Z", base + 113450);
    s_assert_iso ("2024-05-04T10:15:02.113456Z", base + 113456);
    //  Beyond the microsecond: truncated
    s_assert_iso ("2024-05-04T10:15:02.1134567Z", base + 113456);
    s_assert_iso ("2024-05-04T10:15:02.11345678Z", base + 113456);
    s_assert_iso ("2024-05-04T10:15:02.999999999Z", base + 999999);
    s_assert_iso ("2024-05-04T12:15:02.5+02:00", base + 500000);
    s_assert_iso ("1969-12-31T23:59:59.5Z", -500000);
}

static void
test_iso_leap_days (void **state)
{
    (void) state;
    s_assert_iso ("2024-02-29T00:00:00Z", INT64_C (1709164800000000));
    s_assert_iso ("2000-02-29", INT64_C (951782400000000));
    s_assert_iso_refused ("2023-02-29T00:00:00Z");
    s_assert_iso_refused ("1900-02-29");
    s_assert_iso_refused ("2024-02-30");
    s_assert_iso_refused ("2024-04-31");
}

static void
test_iso_bad_forms (void **state)
{
    (void) state;
    const char *bad[] = {"",
                         "2024",
                         "2024-05",
                         "2024-5-4",
                         "2024-05-4",
                         "24-05-04",
                         "2024/05/04",
                         "abcd-ef-gh",
                         "0000-01-01",
                         "2024-00-10",
                         "2024-13-01",
                         "2024-05-00",
                         "2024-05-32",
                         "2024-05-04T",
                         "2024-05-04T10",
                         "2024-05-04T10:1",
                         "2024-05-04X10:15:02",
                         "2024-05-04T24:00:00Z",
                         "2024-05-04T10:60:00Z",
                         "2024-05-04T10:15:60Z",
                         "2024-05-04T10:15:02.Z",
                         "2024-05-04T10:15:02.1234567890Z",
                         "2024-05-04T10:15.5Z",
                         "2024-05-04T10:15:02ZZ",
                         "2024-05-04T10:15:02 Z",
                         "2024-05-04T10:15:02Z ",
                         " 2024-05-04T10:15:02Z",
                         "2024-05-04T10:15:02+1",
                         "2024-05-04T10:15:02+19:00",
                         "2024-05-04T10:15:02+18:01",
                         "2024-05-04T10:15:02+02:60",
                         "2024-05-04T10:15:02+02:0",
                         "2024-05-04T10:15:02+02:000",
                         "2024-05-04T10:15:02+",
                         "2024-05-04T10:15:02EST",
                         "2024-05-04Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        s_assert_iso_refused (bad[i]);
    //  The length is what counts, not a NUL
    int64_t us;
    assert_int_equal (zetl_time_parse_iso8601 ("2024-05-04T10:15:02Zjunk", 20, &us), 0);
    assert_int_equal (us, S_2024_05_04_101502);
    assert_int_equal (zetl_time_parse_iso8601 ("2024-05-04", 9, &us), -1);
}

static void
s_assert_round_trip (int64_t us)
{
    char text[40];
    int64_t back;
    size_t len = zetl_time_format_iso (us, text, sizeof text);
    assert_int_equal (len, strlen (text));
    assert_int_equal (len, 27);
    if (zetl_time_parse_iso8601 (text, len, &back) != 0 || back != us)
        fail_msg ("iso %lld -> \"%s\" does not come back", (long long) us, text);
    len = zetl_time_format_pg (us, text, sizeof text);
    assert_int_equal (len, 29);
    if (zetl_time_parse_iso8601 (text, len, &back) != 0 || back != us)
        fail_msg ("pg %lld -> \"%s\" does not come back", (long long) us, text);
}

static void
test_format_exact (void **state)
{
    (void) state;
    char text[40];
    zetl_time_format_iso (0, text, sizeof text);
    assert_string_equal (text, "1970-01-01T00:00:00.000000Z");
    zetl_time_format_pg (S_2024_05_04_101502 + 113000, text, sizeof text);
    assert_string_equal (text, "2024-05-04 10:15:02.113000+00");
    zetl_time_format_iso (-1, text, sizeof text);
    assert_string_equal (text, "1969-12-31T23:59:59.999999Z");
    zetl_time_format_iso (-S_SEC, text, sizeof text);
    assert_string_equal (text, "1969-12-31T23:59:59.000000Z");
    zetl_time_format_iso (-S_DAY, text, sizeof text);
    assert_string_equal (text, "1969-12-31T00:00:00.000000Z");
    zetl_time_format_iso (-S_DAY - 1, text, sizeof text);
    assert_string_equal (text, "1969-12-30T23:59:59.999999Z");
    zetl_time_format_pg (INT64_C (-14182940000000) + 250000, text, sizeof text);
    assert_string_equal (text, "1969-07-20 20:17:40.250000+00");
    zetl_time_format_iso (INT64_C (-62135596800000000), text, sizeof text);
    assert_string_equal (text, "0001-01-01T00:00:00.000000Z");
    zetl_time_format_iso (INT64_C (253402300799999999), text, sizeof text);
    assert_string_equal (text, "9999-12-31T23:59:59.999999Z");
    zetl_time_format_iso (INT64_C (951782400000000), text, sizeof text);
    assert_string_equal (text, "2000-02-29T00:00:00.000000Z");
    //  Any int64 formats without overflow, in 40 bytes
    assert_true (zetl_time_format_pg (INT64_MIN, text, sizeof text) < 40);
    assert_true (zetl_time_format_pg (INT64_MAX, text, sizeof text) < 40);
}

static void
test_format_round_trips (void **state)
{
    (void) state;
    int64_t fixed[] = {0,
                       1,
                       -1,
                       999999,
                       -999999,
                       S_DAY,
                       -S_DAY,
                       -S_DAY + 1,
                       S_2024_05_04_101502,
                       INT64_C (-14182940000000),
                       INT64_C (-62135596800000000),
                       INT64_C (253402300799999999),
                       INT64_C (951782400000000)};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        s_assert_round_trip (fixed[i]);
    //  Spread over 0001..9999, negative times included
    uint64_t seed = 7;
    const int64_t min = INT64_C (-62135596800000000), span = INT64_C (315537897600000000);
    for (int i = 0; i < 20000; i++) {
        seed = seed * UINT64_C (6364136223846793005) + UINT64_C (1442695040888963407);
        s_assert_round_trip (min + (int64_t) ((seed >> 2) % (uint64_t) span));
    }
}

static void
test_format_truncates (void **state)
{
    (void) state;
    char text[40];
    memset (text, 'x', sizeof text);
    assert_int_equal (zetl_time_format_iso (0, text, 11), 10);
    assert_string_equal (text, "1970-01-01");
    assert_int_equal (zetl_time_format_iso (0, text, 0), 0);
    assert_int_equal (zetl_time_format_date (0, text, 5), 4);
    assert_string_equal (text, "1970");
}

static void
test_dates (void **state)
{
    (void) state;
    char text[40];
    int32_t days;
    zetl_time_format_date (0, text, sizeof text);
    assert_string_equal (text, "1970-01-01");
    zetl_time_format_date (-1, text, sizeof text);
    assert_string_equal (text, "1969-12-31");
    zetl_time_format_date (19847, text, sizeof text);
    assert_string_equal (text, "2024-05-04");
    zetl_time_format_date (-719162, text, sizeof text);
    assert_string_equal (text, "0001-01-01");
    zetl_time_format_date (2932896, text, sizeof text);
    assert_string_equal (text, "9999-12-31");

    assert_int_equal (zetl_time_parse_date ("2024-05-04", 10, &days), 0);
    assert_int_equal (days, 19847);
    assert_int_equal (zetl_time_parse_date ("1969-12-31", 10, &days), 0);
    assert_int_equal (days, -1);
    //  A full timestamp gives its UTC date
    const char *ts = "2024-05-04T01:00:00+02:00";
    assert_int_equal (zetl_time_parse_date (ts, strlen (ts), &days), 0);
    assert_int_equal (days, 19846);
    ts = "1970-01-01T00:00:00.000001-00:01";
    assert_int_equal (zetl_time_parse_date (ts, strlen (ts), &days), 0);
    assert_int_equal (days, 0);
    ts = "1970-01-01T00:00:00+00:01";
    assert_int_equal (zetl_time_parse_date (ts, strlen (ts), &days), 0);
    assert_int_equal (days, -1);
    assert_int_equal (zetl_time_parse_date ("2023-02-29", 10, &days), -1);
    assert_int_equal (zetl_time_parse_date ("04/05/2024", 10, &days), -1);

    assert_int_equal (zetl_time_days (0), 0);
    assert_int_equal (zetl_time_days (-1), -1);
    assert_int_equal (zetl_time_days (S_DAY - 1), 0);
    assert_int_equal (zetl_time_days (-S_DAY), -1);
    assert_int_equal (zetl_time_days (-S_DAY - 1), -2);
    for (int32_t d = -800000; d <= 3000000; d += 997) {
        zetl_time_format_date (d, text, sizeof text);
        if (d >= -719162 && d <= 2932896) {
            assert_int_equal (zetl_time_parse_date (text, strlen (text), &days), 0);
            assert_int_equal (days, d);
        }
    }
}

//  What the C library says instant US is: gmtime_r's fields, written the way
//  zetl_time formats them (4-digit years for 0..9999, the full year else)
static void
s_expected (int64_t us, char sep, const char *zone, char *text, size_t size)
{
    int64_t sec = us / S_SEC, frac = us % S_SEC;
    if (frac < 0) {
        sec--;
        frac += S_SEC;
    }
    time_t when = (time_t) sec;
    struct tm tm;
    assert_non_null (gmtime_r (&when, &tm));
    long long year = (long long) tm.tm_year + 1900;
    snprintf (text, size, year >= 0 && year <= 9999 ? "%04lld-%02d-%02d%c%02d:%02d:%02d.%06d%s"
                                                    : "%lld-%02d-%02d%c%02d:%02d:%02d.%06d%s",
              year, tm.tm_mon + 1, tm.tm_mday, sep, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) frac,
              zone);
}

static void
s_assert_like_gmtime (int64_t us)
{
    char text[40], expected[64];
    s_expected (us, ' ', "+00", expected, sizeof expected);
    size_t len = zetl_time_format_pg (us, text, sizeof text);
    if (strcmp (text, expected) != 0 || len != strlen (expected))
        fail_msg ("pg %lld: got \"%s\", expected \"%s\"", (long long) us, text, expected);
    s_expected (us, 'T', "Z", expected, sizeof expected);
    len = zetl_time_format_iso (us, text, sizeof text);
    if (strcmp (text, expected) != 0 || len != strlen (expected))
        fail_msg ("iso %lld: got \"%s\", expected \"%s\"", (long long) us, text, expected);
    //  A buffer too small for the text gets its beginning, whatever path wrote it
    for (size_t size = 1; size < sizeof text; size += 7) {
        char part[40];
        size_t part_len = zetl_time_format_iso (us, part, size);
        if (part_len != (len < size ? len : size - 1) || memcmp (part, text, part_len) != 0
            || part[part_len] != 0)
            fail_msg ("iso %lld in %zu bytes: \"%s\"", (long long) us, size, part);
    }
}

static void
test_format_like_gmtime (void **state)
{
    (void) state;
    //  Edges: the epoch, leap days, centuries, years 0 and 9999 and beyond
    int64_t fixed[] = {0,
                       -1,
                       1,
                       INT64_C (951782400000000),       //  2000-02-29
                       INT64_C (951868799999999),       //  2000-02-29 23:59:59.999999
                       INT64_C (-2203891200000000),     //  1900-03-01
                       INT64_C (4107542400000000),      //  2100-03-01
                       INT64_C (-62167219200000000),    //  0000-01-01
                       INT64_C (-62167219200000001),    //  -0001-12-31, written in full
                       INT64_C (253402300799999999),    //  9999-12-31 23:59:59.999999
                       INT64_C (253402300800000000),    //  10000-01-01, written in full
                       INT64_C (-62162121600000000),    //  0000-02-29 (0 is a leap year)
                       INT64_MIN / 2,
                       INT64_MAX / 2};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        s_assert_like_gmtime (fixed[i]);
    //  Random instants over 0000..9999 and a bit beyond, and clustered near now
    uint64_t seed = 11;
    const int64_t min = INT64_C (-62230377600000000), span = INT64_C (315663091200000000);
    for (int i = 0; i < 200000; i++) {
        seed = seed * UINT64_C (6364136223846793005) + UINT64_C (1442695040888963407);
        s_assert_like_gmtime (min + (int64_t) ((seed >> 2) % (uint64_t) span));
        s_assert_like_gmtime (S_2024_05_04_101502 + (int64_t) ((seed >> 20) % (400 * S_DAY)));
    }
    //  Every day of 0000..9999 and a year either side, as a date
    for (int32_t day = -719528 - 366; day <= 2932896 + 366; day++) {
        char text[40], expected[64];
        s_expected ((int64_t) day * S_DAY, ' ', "", expected, sizeof expected);
        expected[strlen (expected) - 16] = 0;  //  The date only
        size_t len = zetl_time_format_date (day, text, sizeof text);
        if (strcmp (text, expected) != 0 || len != strlen (expected))
            fail_msg ("date %d: got \"%s\", expected \"%s\"", day, text, expected);
    }
}

static void
test_unix_ms (void **state)
{
    (void) state;
    int64_t us;
    assert_int_equal (zetl_time_parse_unix_ms ("1714816502113", 13, &us), 0);
    assert_int_equal (us, INT64_C (1714816502113000));
    assert_int_equal (zetl_time_parse_unix_ms ("0", 1, &us), 0);
    assert_int_equal (us, 0);
    assert_int_equal (zetl_time_parse_unix_ms ("-1", 2, &us), 0);
    assert_int_equal (us, -1000);
    assert_int_equal (zetl_time_parse_unix_ms ("253402300799999", 15, &us), 0);
    assert_int_equal (us, INT64_C (253402300799999000));
    assert_int_equal (zetl_time_parse_unix_ms ("253402300800000", 15, &us), -1);
    assert_int_equal (zetl_time_parse_unix_ms ("-62135596800001", 15, &us), -1);
    assert_int_equal (zetl_time_parse_unix_ms ("99999999999999999999", 20, &us), -1);
    assert_int_equal (zetl_time_parse_unix_ms ("", 0, &us), -1);
    assert_int_equal (zetl_time_parse_unix_ms ("-", 1, &us), -1);
    assert_int_equal (zetl_time_parse_unix_ms ("+5", 2, &us), -1);
    assert_int_equal (zetl_time_parse_unix_ms ("12a", 3, &us), -1);
    assert_int_equal (zetl_time_parse_unix_ms ("1.5", 3, &us), -1);
    assert_int_equal (zetl_time_parse_unix_ms (" 15", 3, &us), -1);
}

static int
s_strf (const char *text, const char *format, int64_t *us)
{
    return zetl_time_parse_strftime (text, strlen (text), format, us);
}

static void
test_strftime (void **state)
{
    (void) state;
    int64_t us;
    assert_int_equal (s_strf ("04/05/2024 10:15:02", "%d/%m/%Y %H:%M:%S", &us), 0);
    assert_int_equal (us, S_2024_05_04_101502);
    assert_int_equal (s_strf ("2024-05-04", "%Y-%m-%d", &us), 0);
    assert_int_equal (us, S_2024_05_04_101502 - (10 * 3600 + 15 * 60 + 2) * S_SEC);
    assert_int_equal (s_strf ("20240504 121502 +0200", "%Y%m%d %H%M%S %z", &us), 0);
    assert_int_equal (us, S_2024_05_04_101502);
    assert_int_equal (s_strf ("2024-05-04 04:45:02 -05:30", "%Y-%m-%d %H:%M:%S %z", &us), 0);
    assert_int_equal (us, S_2024_05_04_101502);
    assert_int_equal (s_strf ("2024-05-04 10:15:02 Z", "%Y-%m-%d %H:%M:%S %z", &us), 0);
    assert_int_equal (us, S_2024_05_04_101502);
    //  %f: a fraction of 1..9 digits, kept to the microsecond
    assert_int_equal (s_strf ("04.05.2024 10:15:02,113", "%d.%m.%Y %H:%M:%S,%f", &us), 0);
    assert_int_equal (us, S_2024_05_04_101502 + 113000);
    assert_int_equal (s_strf ("10:15:02.123456789 2024-05-04", "%H:%M:%S.%f %Y-%m-%d", &us), 0);
    assert_int_equal (us, S_2024_05_04_101502 + 123456);
    assert_int_equal (s_strf ("1969-07-20 20:17:40", "%Y-%m-%d %H:%M:%S", &us), 0);
    assert_int_equal (us, INT64_C (-14182940000000));
    assert_int_equal (s_strf ("May 4 2024 10:15:02", "%b %d %Y %H:%M:%S", &us), 0);
    assert_int_equal (us, S_2024_05_04_101502);

    //  Refused: impossible dates and times, leftovers, %s (time zone dependent)
    assert_int_equal (s_strf ("29/02/2023 10:15:02", "%d/%m/%Y %H:%M:%S", &us), -1);
    assert_int_equal (s_strf ("31/04/2024 10:15:02", "%d/%m/%Y %H:%M:%S", &us), -1);
    assert_int_equal (s_strf ("04/05/2024 10:15:60", "%d/%m/%Y %H:%M:%S", &us), -1);
    assert_int_equal (s_strf ("04/05/2024 10:15:02 extra", "%d/%m/%Y %H:%M:%S", &us), -1);
    assert_int_equal (s_strf ("04/05/2024", "%d/%m/%Y %H:%M:%S", &us), -1);
    assert_int_equal (s_strf ("10:15:02.", "%H:%M:%S.%f", &us), -1);
    assert_int_equal (s_strf ("10:15:02.1234567890", "%H:%M:%S.%f", &us), -1);
    assert_int_equal (s_strf ("1714816502", "%s", &us), -1);
    assert_int_equal (s_strf ("2024-05-04 10:15:02 +1900", "%Y-%m-%d %H:%M:%S %z", &us), -1);
}

static void
test_now (void **state)
{
    (void) state;
    int64_t now = zetl_time_now_us ();
    assert_true (now > INT64_C (1704067200000000));  //  After 2024-01-01
    assert_true (now < INT64_C (4102444800000000));  //  Before 2100-01-01
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_iso_utc_forms),
        cmocka_unit_test (test_iso_offsets),
        cmocka_unit_test (test_iso_fractions),
        cmocka_unit_test (test_iso_leap_days),
        cmocka_unit_test (test_iso_bad_forms),
        cmocka_unit_test (test_format_exact),
        cmocka_unit_test (test_format_round_trips),
        cmocka_unit_test (test_format_truncates),
        cmocka_unit_test (test_format_like_gmtime),
        cmocka_unit_test (test_dates),
        cmocka_unit_test (test_unix_ms),
        cmocka_unit_test (test_strftime),
        cmocka_unit_test (test_now),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
