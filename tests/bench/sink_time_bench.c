/*  sink_time_bench - zetl_time_format_pg and zetl_time_format_date, as COPY
    text writes them for every timestamp and date column

    1 000 000 instants spread over a year around 2026, and their dates.
    Baseline: the least formatting could do, i.e. copy an already formatted
    text of the same length (29 bytes for a timestamp, 10 for a date) for
    each value, picked by the value so the compiler cannot hoist it. Warm
    up, then best of 5; exits 1 when a ratio to its baseline is over the limit.
*/
#include "zetl_time.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_VALUES 1000000
#define S_RUNS 5
#define S_LIMIT_PG 10.0   //  The calendar by 64-bit divisions took about 20
#define S_LIMIT_DATE 15.0 //  and about 25

static double
s_now_s (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}

static int64_t *s_values;
static char *s_out;
static char s_texts[16][40];  //  Formatted texts the baseline copies

static void
s_format_pg (void)
{
    char *p = s_out;
    for (size_t i = 0; i < S_VALUES; i++)
        p += zetl_time_format_pg (s_values[i], p, 64);
}

static void
s_format_date (void)
{
    char *p = s_out;
    for (size_t i = 0; i < S_VALUES; i++)
        p += zetl_time_format_date ((int32_t) (s_values[i] / INT64_C (86400000000)), p, 64);
}

static void
s_copy_pg (void)
{
    char *p = s_out;
    for (size_t i = 0; i < S_VALUES; i++) {
        memcpy (p, s_texts[s_values[i] & 15], 29);
        p += 29;
    }
}

static void
s_copy_date (void)
{
    char *p = s_out;
    for (size_t i = 0; i < S_VALUES; i++) {
        memcpy (p, s_texts[s_values[i] & 15], 10);
        p += 10;
    }
}

//  Best of S_RUNS, after one warm-up run, in ns per value
static double
s_best_ns (void (*run) (void))
{
    run ();
    double best = 1e9;
    for (int r = 0; r < S_RUNS; r++) {
        double start = s_now_s ();
        run ();
        double took = s_now_s () - start;
        if (took < best)
            best = took;
    }
    return best * 1e9 / S_VALUES;
}

static int
s_report (const char *name, double ns, double base_ns, double limit)
{
    double ratio = ns / base_ns;
    printf ("%s %.1f ns/op, baseline (copy the formatted text) %.1f ns/op, ratio %.2f, limit %.2f: "
            "%s\n",
            name, ns, base_ns, ratio, limit, ratio <= limit ? "ok" : "FAIL");
    return ratio <= limit ? 0 : 1;
}

int
main (void)
{
    s_values = (int64_t *) malloc (S_VALUES * sizeof (int64_t));
    s_out = (char *) malloc ((size_t) S_VALUES * 64 + 64);
    if (!s_values || !s_out)
        abort ();
    uint64_t seed = 3;
    const int64_t start_us = INT64_C (1767225600000000);  //  2026-01-01
    for (size_t i = 0; i < S_VALUES; i++) {
        seed = seed * UINT64_C (6364136223846793005) + UINT64_C (1442695040888963407);
        s_values[i] = start_us + (int64_t) ((seed >> 11) % UINT64_C (31536000000000));
    }
    for (int i = 0; i < 16; i++)
        zetl_time_format_pg (s_values[i], s_texts[i], sizeof s_texts[i]);
    int fail = s_report ("time_format_pg", s_best_ns (s_format_pg), s_best_ns (s_copy_pg),
                         S_LIMIT_PG);
    fail |= s_report ("time_format_date", s_best_ns (s_format_date), s_best_ns (s_copy_date),
                      S_LIMIT_DATE);
    free (s_out);
    free (s_values);
    return fail;
}
