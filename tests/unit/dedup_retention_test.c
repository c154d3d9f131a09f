/*  dedup_retention_test - zetl_dedup: what it keeps, and for how long. A key
    matches within the window on both sides, to the microsecond; the
    watermark forgets whole buckets, oldest first. Bytes counted are bytes
    allocated; a stream many times the budget never goes over it and evicts
    the oldest keys, counted, as do more buckets than there are tags; ten
    million distinct ids fit the default budget with no false duplicate
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dedup_fixtures.h"

//  |event time - remembered event time| <= window, to the microsecond, on
//  both sides, wherever the first key falls in its bucket
static void
test_window_boundaries (void **state)
{
    (void) state;
    const int64_t window = 10 * S_MINUTE;
    const int64_t width = window / 64;
    const int64_t firsts[] = {S_T0, S_T0 + 1, S_T0 - 1, S_T0 + width - 1, S_T0 + 7 * width / 3};
    for (size_t at = 0; at < sizeof firsts / sizeof firsts[0]; at++) {
        int64_t first = firsts[at];
        zetl_dedup_t *dedup = zetl_dedup_new (window, 16 * S_MIB);
        assert_int_equal (s_stats (dedup).bucket_width_us, width);
        assert_int_equal (s_put (dedup, "BK-1", 1, first), ZETL_DEDUP_NEW);
        assert_int_equal (s_peek (dedup, "BK-1", 1, first + window), ZETL_DEDUP_DUPLICATE);
        assert_int_equal (s_peek (dedup, "BK-1", 1, first - window), ZETL_DEDUP_DUPLICATE);
        assert_int_equal (s_peek (dedup, "BK-1", 1, first + window + 1), ZETL_DEDUP_NEW);
        assert_int_equal (s_peek (dedup, "BK-1", 1, first - window - 1), ZETL_DEDUP_NEW);
        //  The same boundaries tell a version from an unrelated record
        assert_int_equal (s_peek (dedup, "BK-1", 2, first + window), ZETL_DEDUP_ID_CONFLICT);
        assert_int_equal (s_peek (dedup, "BK-1", 2, first - window), ZETL_DEDUP_ID_CONFLICT);
        assert_int_equal (s_peek (dedup, "BK-1", 2, first + window + 1), ZETL_DEDUP_NEW);
        assert_int_equal (s_peek (dedup, "BK-1", 2, first - window - 1), ZETL_DEDUP_NEW);
        //  Checking counted and remembered nothing
        assert_int_equal (s_stats (dedup).keys, 1);
        assert_int_equal (s_stats (dedup).duplicates, 0);
        //  Inserting: just outside is remembered as its own key, then both count
        assert_int_equal (s_put (dedup, "BK-1", 1, first + window + 1), ZETL_DEDUP_NEW);
        assert_int_equal (s_put (dedup, "BK-1", 1, first + window), ZETL_DEDUP_DUPLICATE);
        assert_int_equal (s_put (dedup, "BK-1", 1, first + 2 * window + 1), ZETL_DEDUP_DUPLICATE);
        assert_int_equal (s_put (dedup, "BK-1", 1, first + 2 * window + 2), ZETL_DEDUP_NEW);
        assert_int_equal (s_stats (dedup).keys, 3);
        zetl_dedup_destroy (&dedup);
    }
    //  A window of 0: the same event time only
    zetl_dedup_t *dedup = zetl_dedup_new (0, 16 * S_MIB);
    assert_int_equal (s_put (dedup, "BK-1", 1, S_T0), ZETL_DEDUP_NEW);
    assert_int_equal (s_put (dedup, "BK-1", 1, S_T0), ZETL_DEDUP_DUPLICATE);
    assert_int_equal (s_put (dedup, "BK-1", 1, S_T0 + 1), ZETL_DEDUP_NEW);
    assert_int_equal (s_put (dedup, "BK-1", 2, S_T0 + 2), ZETL_DEDUP_NEW);
    assert_int_equal (s_put (dedup, "BK-1", 3, S_T0 + 2), ZETL_DEDUP_ID_CONFLICT);
    zetl_dedup_destroy (&dedup);
    //  Event times far from now neither crash nor overflow
    dedup = zetl_dedup_new (S_HOUR, 16 * S_MIB);
    assert_int_equal (s_put (dedup, "BK-1", 1, INT64_MIN), ZETL_DEDUP_NEW);
    assert_int_equal (s_put (dedup, "BK-1", 1, INT64_MIN + 5), ZETL_DEDUP_DUPLICATE);
    assert_int_equal (s_put (dedup, "BK-1", 1, INT64_MAX), ZETL_DEDUP_NEW);
    assert_int_equal (s_put (dedup, "BK-1", 1, -1), ZETL_DEDUP_NEW);
    assert_int_equal (s_put (dedup, "BK-1", 1, 0), ZETL_DEDUP_DUPLICATE);
    assert_int_equal (zetl_dedup_expire (dedup, INT64_MIN, 1), 0);
    s_expire_all (dedup, (int64_t) 1 << 62);
    assert_int_equal (s_stats (dedup).keys, 1);  //  the one at INT64_MAX, clamped to 2^62, stays
    zetl_dedup_destroy (&dedup);
}

//  The watermark forgets whole buckets, oldest first; memory goes back
static void
test_expiry_by_watermark (void **state)
{
    (void) state;
    const int64_t window = 10 * S_MINUTE;  //  buckets of 9.375 s
    const int keys = 200000;
    zetl_dedup_t *dedup = zetl_dedup_new (window, 8 * S_MIB);
    const uint64_t empty_bytes = s_stats (dedup).bytes;
    zetl_rng_t rng;
    zetl_rng_seed (&rng, 1, 1);
    int64_t *times = (int64_t *) malloc (keys * sizeof (int64_t));
    char id[32];
    //  One hour of event times, in random order
    for (int index = 0; index < keys; index++) {
        times[index] = S_T0 + zetl_rng_range (&rng, 0, S_HOUR - 1);
        snprintf (id, sizeof id, "BK-%d", index);
        assert_int_equal (s_put (dedup, id, (uint64_t) index, times[index]), ZETL_DEDUP_NEW);
    }
    zetl_dedup_stats_t full = s_stats (dedup);
    assert_int_equal (full.keys, keys);
    assert_int_equal (full.buckets, 384);
    assert_true (full.effective_window_us > S_HOUR - S_SECOND);

    //  Before any record W is -infinity: nothing goes
    assert_int_equal (zetl_dedup_expire (dedup, INT64_MIN, 100), 0);
    assert_int_equal (s_stats (dedup).keys, keys);

    //  Bounded work: one bucket per call
    const int64_t watermark = S_T0 + 40 * S_MINUTE;  //  W - window = T0 + 30 min, a bucket start
    assert_int_equal (zetl_dedup_expire (dedup, watermark, 1), 1);
    assert_int_equal (s_stats (dedup).buckets, 383);
    s_expire_all (dedup, watermark);
    int expected_expired = 0;
    for (int index = 0; index < keys; index++)
        expected_expired += times[index] < S_T0 + 30 * S_MINUTE;
    zetl_dedup_stats_t half = s_stats (dedup);
    assert_int_equal (half.expired, expected_expired);
    assert_int_equal (half.keys, keys - expected_expired);
    assert_int_equal (half.buckets, 192);
    //  Sparse segments have shrunk: under 24 bytes a key plus a page each
    assert_true (half.bytes < full.bytes * 3 / 4);
    assert_int_equal (half.evicted_early, 0);
    printf ("expiry: %" PRIu64 " keys %" PRIu64 " bytes, half expired: %" PRIu64 " keys %" PRIu64
            " bytes\n",
            full.keys, full.bytes, half.keys, half.bytes);
    //  Forgotten keys are not duplicates any more, the others still are
    for (int index = 0; index < keys; index += 97) {
        snprintf (id, sizeof id, "BK-%d", index);
        assert_int_equal (s_peek (dedup, id, (uint64_t) index, times[index]) ==
                              ZETL_DEDUP_DUPLICATE,
                          times[index] >= S_T0 + 30 * S_MINUTE);
    }
    //  Everything: back to the tables and one page per segment (1/16 of
    //  the budget at most)
    s_expire_all (dedup, S_T0 + 2 * S_HOUR);
    zetl_dedup_stats_t none = s_stats (dedup);
    assert_int_equal (none.keys, 0);
    assert_int_equal (none.expired, keys);
    assert_int_equal (none.buckets, 0);
    assert_true (none.bytes < half.bytes);
    assert_true (none.bytes <= empty_bytes + none.budget_bytes / 16);
    assert_true (none.peak_bytes <= none.budget_bytes);
    free (times);
    zetl_dedup_destroy (&dedup);
}

//  A bucket goes when its newest event time < W - window, not before
static void
test_expiry_boundary (void **state)
{
    (void) state;
    const int64_t window = 10 * S_MINUTE;
    zetl_dedup_t *dedup = zetl_dedup_new (window, 16 * S_MIB);
    assert_int_equal (s_put (dedup, "BK-1", 1, S_T0 + 5), ZETL_DEDUP_NEW);
    assert_int_equal (s_put (dedup, "BK-2", 1, S_T0 + 9), ZETL_DEDUP_NEW);
    s_expire_all (dedup, S_T0 + 9 + window);
    assert_int_equal (s_stats (dedup).keys, 2);
    s_expire_all (dedup, S_T0 + 10 + window);
    assert_int_equal (s_stats (dedup).keys, 0);
    assert_int_equal (s_stats (dedup).expired, 2);
    //  A late record in a forgotten bucket makes it again
    assert_int_equal (s_put (dedup, "BK-1", 1, S_T0 + 5), ZETL_DEDUP_NEW);
    assert_int_equal (s_put (dedup, "BK-1", 1, S_T0 + 5), ZETL_DEDUP_DUPLICATE);
    zetl_dedup_destroy (&dedup);
}

//  Resident set size in bytes, from /proc/self/statm
static size_t
s_rss (void)
{
    long pages = 0, resident = 0;
    FILE *file = fopen ("/proc/self/statm", "r");
    assert_non_null (file);
    assert_int_equal (fscanf (file, "%ld %ld", &pages, &resident), 2);
    fclose (file);
    return (size_t) resident * (size_t) sysconf (_SC_PAGESIZE);
}

//  Bytes counted are bytes allocated: the fixed tables as malloc sees them
//  (plus its overhead, at most 32 bytes a block), the segments as pages
//  made resident
static void
test_accounting_is_exact (void **state)
{
    (void) state;
#if defined(__SANITIZE_ADDRESS__)
    (void) s_rss;
    skip ();  //  ASan's own allocator and shadow memory
#else
    char id[32];
    s_rss ();  //  the FILE buffer is allocated once, before measuring
    struct mallinfo2 before = mallinfo2 ();
    zetl_dedup_t *dedup = zetl_dedup_new (S_HOUR, 8 * S_MIB);
    struct mallinfo2 after = mallinfo2 ();
    const size_t fixed = s_stats (dedup).bytes;
    size_t heap = (after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd);
    assert_true (heap >= fixed && heap <= fixed + 32 * 5);
    size_t rss_before = s_rss ();
    for (int index = 0; index < 200000; index++) {
        snprintf (id, sizeof id, "BK-%d", index);
        s_put (dedup, id, (uint64_t) index, S_T0 + index * 1000);
    }
    size_t segments = s_stats (dedup).bytes - fixed;
    size_t resident = s_rss () - rss_before;
    printf ("accounting: %zu bytes of tables (malloc: %zu), %zu bytes of segments, %zu resident\n",
            fixed, heap, segments, resident);
    assert_true (resident <= segments + 256 * 1024);
    assert_true (resident + 256 * 1024 >= segments);
    zetl_dedup_destroy (&dedup);
#endif
}

//  A stream 20 times the budget, records SPACING µs apart, with WINDOW:
//  bytes never over the budget, and evicted_early is exactly the keys no
//  longer remembered, the oldest ones. Every record has the same content
//  hash, so only the ids tell them apart.
static void
s_budget_stream (int64_t window, int64_t spacing, uint64_t min_keys)
{
    const int records = 1000000;
    zetl_dedup_t *dedup = zetl_dedup_new (window, ZETL_DEDUP_MIN_BUDGET);
    char id[32];
    uint64_t evictions = 0;
    for (int index = 0; index < records; index++) {
        snprintf (id, sizeof id, "BK-%d", index);
        assert_int_equal (s_put (dedup, id, 1, S_T0 + index * spacing), ZETL_DEDUP_NEW);
        zetl_dedup_stats_t stats = s_stats (dedup);
        assert_true (stats.bytes <= stats.budget_bytes);
        if (stats.evictions != evictions) {
            evictions = stats.evictions;
            assert_true (stats.eviction_window_us < window);
        }
    }
    zetl_dedup_stats_t stats = s_stats (dedup);
    assert_true (stats.peak_bytes <= stats.budget_bytes);
    assert_int_equal (stats.inserted, records);
    assert_int_equal (stats.inserted, stats.keys + stats.evicted_early);
    assert_true (stats.evictions > 10);
    assert_true (stats.effective_window_us < window);
    assert_true (stats.keys >= min_keys);
    //  The remembered keys are exactly the newest stats.keys ones (a
    //  forgotten one may meet a remembered id with the same 34 + 4 bits:
    //  ID_CONFLICT, 1.6e-7 a lookup here)
    uint64_t remembered = 0;
    for (int index = 0; index < records; index++) {
        snprintf (id, sizeof id, "BK-%d", index);
        zetl_dedup_result_t result = s_peek (dedup, id, 1, S_T0 + index * spacing);
        assert_int_equal (result == ZETL_DEDUP_DUPLICATE, index >= records - (int) stats.keys);
        remembered += result == ZETL_DEDUP_DUPLICATE;
    }
    assert_int_equal (remembered, stats.keys);
    printf ("window %.0f s, %.0f ms apart, budget %" PRIu64 " bytes: %" PRIu64
            " keys held (%.1f bytes/key), %" PRIu64 " evicted early in %" PRIu64
            " evictions, effective window %.1f s, peak %" PRIu64 " bytes\n",
            (double) window / 1e6, (double) spacing / 1e3, stats.budget_bytes, stats.keys,
            (double) stats.bytes / (double) stats.keys, stats.evicted_early, stats.evictions,
            (double) stats.effective_window_us / 1e6, stats.peak_bytes);

    //  Slower, with a watermark half a window behind: keys leave both ways
    //  and all are accounted for
    for (int index = 0; index < records; index++) {
        int64_t event_us = S_T0 + 2 * S_HOUR + (int64_t) index * (window / 20000);
        snprintf (id, sizeof id, "BK-%d", index);
        s_put (dedup, id, 2, event_us);
        if (index % 100 == 0)
            zetl_dedup_expire (dedup, event_us - window / 2, 1);
        assert_true (s_stats (dedup).bytes <= stats.budget_bytes);
    }
    stats = s_stats (dedup);
    assert_int_equal (stats.inserted, 2 * records);
    assert_int_equal (stats.inserted, stats.keys + stats.evicted_early + stats.expired);
    assert_true (stats.expired > 0);
    assert_true (stats.peak_bytes <= stats.budget_bytes);
    zetl_dedup_destroy (&dedup);
}

static void
test_budget_holds (void **state)
{
    (void) state;
    s_budget_stream (S_HOUR, 10000, 30000);   //  buckets of 56.25 s, 5625 keys each
    s_budget_stream (S_MINUTE, 1000, 30000);  //  buckets of 1 s, 1000 keys each
    s_budget_stream (S_HOUR, 1000, 1);        //  one bucket is more than the budget holds
}

//  Event times spread over more buckets than there are tags: the oldest
//  buckets leave early, counted, and the newest keys are kept
static void
test_bucket_limit (void **state)
{
    (void) state;
    zetl_dedup_t *dedup = zetl_dedup_new (0, ZETL_DEDUP_MIN_BUDGET);  //  buckets of 1 s
    char id[32];
    const int records = 5000;
    for (int index = 0; index < records; index++) {
        snprintf (id, sizeof id, "BK-%d", index);
        assert_int_equal (s_put (dedup, id, 1, S_T0 + (int64_t) index * S_SECOND), ZETL_DEDUP_NEW);
    }
    zetl_dedup_stats_t stats = s_stats (dedup);
    assert_true (stats.buckets < (uint64_t) records);
    assert_true (stats.evicted_early > 0);
    assert_int_equal (stats.inserted, stats.keys + stats.evicted_early);
    assert_int_equal (stats.keys, stats.buckets);
    for (int index = records - (int) stats.keys; index < records; index++) {
        snprintf (id, sizeof id, "BK-%d", index);
        assert_int_equal (s_peek (dedup, id, 1, S_T0 + (int64_t) index * S_SECOND),
                          ZETL_DEDUP_DUPLICATE);
    }
    zetl_dedup_destroy (&dedup);
}

//  The same limit with event times going back in time: each new bucket is
//  the oldest, so the tag freed by the eviction is the one handed out last
static void
test_bucket_limit_backwards (void **state)
{
    (void) state;
    zetl_dedup_t *dedup = zetl_dedup_new (0, ZETL_DEDUP_MIN_BUDGET);  //  buckets of 1 s
    char id[32];
    const int records = 5000;
    for (int index = 0; index < records; index++) {
        snprintf (id, sizeof id, "BK-%d", index);
        assert_int_equal (s_put (dedup, id, 1, S_T0 - (int64_t) index * S_SECOND), ZETL_DEDUP_NEW);
    }
    zetl_dedup_stats_t stats = s_stats (dedup);
    assert_true (stats.evicted_early > 0);
    assert_int_equal (stats.inserted, stats.keys + stats.evicted_early);
    zetl_dedup_destroy (&dedup);
}

//  Ten million distinct random ids, each with random content, in batches:
//  no false duplicate, and the bytes per key at 10 M keys
static void
test_ten_million_distinct (void **state)
{
    (void) state;
    const size_t records = 10000000, batch = 1000;
    zetl_dedup_t *dedup = zetl_dedup_new (S_HOUR, ZETL_DEDUP_DEFAULT_BUDGET);
    zetl_rng_t rng;
    zetl_rng_seed (&rng, 42, 3);
    zetl_dedup_key_t *keys = (zetl_dedup_key_t *) malloc (batch * sizeof (zetl_dedup_key_t));
    zetl_dedup_result_t *results =
        (zetl_dedup_result_t *) malloc (batch * sizeof (zetl_dedup_result_t));
    uint64_t counts[3] = {0, 0, 0};
    for (size_t done = 0; done < records; done += batch) {
        for (size_t index = 0; index < batch; index++) {
            //  16 random bytes, the last 4 replaced by a counter: distinct ids
            uint8_t id[16], hash[16];
            uint64_t words[4] = {zetl_rng_next (&rng), zetl_rng_next (&rng), zetl_rng_next (&rng),
                                 zetl_rng_next (&rng)};
            uint32_t serial = (uint32_t) (done + index);
            memcpy (id, words, 12);
            memcpy (id + 12, &serial, 4);
            memcpy (hash, words + 2, 16);
            zetl_dedup_key (&keys[index], id, sizeof id, hash,
                            S_T0 + (int64_t) (words[0] % (uint64_t) S_HOUR));
        }
        zetl_dedup_check_insert_batch (dedup, keys, batch, results);
        for (size_t index = 0; index < batch; index++)
            counts[results[index]]++;
    }
    zetl_dedup_stats_t stats = s_stats (dedup);
    double per_key = (double) stats.bytes / (double) stats.keys;
    printf ("10M distinct ids: %" PRIu64 " false duplicates, %" PRIu64 " fingerprint id "
            "collisions; %" PRIu64 " keys in %" PRIu64 " bytes: %.2f bytes/key\n",
            counts[ZETL_DEDUP_DUPLICATE], counts[ZETL_DEDUP_ID_CONFLICT], stats.keys, stats.bytes,
            per_key);
    assert_int_equal (counts[ZETL_DEDUP_DUPLICATE], 0);
    //  False conflicts: n / 2^(34 + 12) each, about 0.7 expected in all
    //  (docs/DEDUP.md)
    assert_true (counts[ZETL_DEDUP_ID_CONFLICT] <= 5);
    assert_int_equal (stats.keys, records);
    assert_int_equal (stats.evicted_early, 0);
    assert_true (per_key <= 24.0);
    assert_true (stats.peak_bytes <= stats.budget_bytes);
    //  Replayed, the last batch is all duplicates
    zetl_dedup_check_insert_batch (dedup, keys, batch, results);
    for (size_t index = 0; index < batch; index++)
        assert_int_equal (results[index], ZETL_DEDUP_DUPLICATE);
    free (keys);
    free (results);
    zetl_dedup_destroy (&dedup);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_window_boundaries),
        cmocka_unit_test (test_expiry_by_watermark),
        cmocka_unit_test (test_expiry_boundary),
        cmocka_unit_test (test_accounting_is_exact),
        cmocka_unit_test (test_budget_holds),
        cmocka_unit_test (test_bucket_limit),
        cmocka_unit_test (test_bucket_limit_backwards),
        cmocka_unit_test (test_ten_million_distinct),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
