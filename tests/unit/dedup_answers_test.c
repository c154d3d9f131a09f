/*  dedup_answers_test - zetl_dedup: what check-insert answers. NEW, DUPLICATE
    or ID_CONFLICT for exact repeats, new versions, replays of old versions,
    records without an id, many ids of one content, batches, content hashes
    from zetl_record_hash, and a long random stream checked against a model
    that remembers everything
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "dedup_fixtures.h"
#include "zetl_record.h"

static void
test_new_refuses_bad_arguments (void **state)
{
    (void) state;
    assert_null (zetl_dedup_new (-1, 256 * S_MIB));
    assert_null (zetl_dedup_new (S_HOUR, ZETL_DEDUP_MIN_BUDGET - 1));
    zetl_dedup_t *dedup = zetl_dedup_new (0, ZETL_DEDUP_MIN_BUDGET);
    assert_non_null (dedup);
    zetl_dedup_stats_t stats = s_stats (dedup);
    assert_true (stats.bytes <= stats.budget_bytes);
    assert_int_equal (stats.keys, 0);
    assert_int_equal (stats.effective_window_us, 0);
    zetl_dedup_destroy (&dedup);
    assert_null (dedup);
    zetl_dedup_destroy (&dedup);
}

static void
test_exact_duplicate_dropped (void **state)
{
    (void) state;
    zetl_dedup_t *dedup = zetl_dedup_new (S_HOUR, 16 * S_MIB);
    assert_int_equal (s_put (dedup, "BK-0000001", 1, S_T0), ZETL_DEDUP_NEW);
    assert_int_equal (s_put (dedup, "BK-0000001", 1, S_T0), ZETL_DEDUP_DUPLICATE);
    assert_int_equal (s_put (dedup, "BK-0000001", 1, S_T0), ZETL_DEDUP_DUPLICATE);
    //  Same content, another id: another record
    assert_int_equal (s_put (dedup, "BK-0000002", 1, S_T0), ZETL_DEDUP_NEW);
    //  The same record seen again later, still within the window
    assert_int_equal (s_put (dedup, "BK-0000001", 1, S_T0 + 59 * S_MINUTE), ZETL_DEDUP_DUPLICATE);
    zetl_dedup_stats_t stats = s_stats (dedup);
    assert_int_equal (stats.keys, 2);
    assert_int_equal (stats.inserted, 2);
    assert_int_equal (stats.duplicates, 3);
    assert_int_equal (stats.id_conflicts, 0);
    assert_int_equal (stats.buckets, 1);
    zetl_dedup_destroy (&dedup);
}

static void
test_new_version_is_id_conflict (void **state)
{
    (void) state;
    zetl_dedup_t *dedup = zetl_dedup_new (S_HOUR, 16 * S_MIB);
    assert_int_equal (s_put (dedup, "BK-7", 1, S_T0), ZETL_DEDUP_NEW);
    assert_int_equal (s_put (dedup, "BK-7", 2, S_T0 + S_SECOND), ZETL_DEDUP_ID_CONFLICT);
    //  The second version is remembered too
    assert_int_equal (s_put (dedup, "BK-7", 2, S_T0 + S_SECOND), ZETL_DEDUP_DUPLICATE);
    //  A version at the same event time as the first is a version all the same
    assert_int_equal (s_put (dedup, "BK-7", 3, S_T0), ZETL_DEDUP_ID_CONFLICT);
    zetl_dedup_stats_t stats = s_stats (dedup);
    assert_int_equal (stats.keys, 3);
    assert_int_equal (stats.id_conflicts, 2);
    assert_int_equal (stats.duplicates, 1);
    zetl_dedup_destroy (&dedup);
}

static void
test_replay_of_first_version_after_second (void **state)
{
    (void) state;
    zetl_dedup_t *dedup = zetl_dedup_new (S_HOUR, 16 * S_MIB);
    assert_int_equal (s_put (dedup, "BK-9", 1, S_T0), ZETL_DEDUP_NEW);
    assert_int_equal (s_put (dedup, "BK-9", 2, S_T0 + 10 * S_SECOND), ZETL_DEDUP_ID_CONFLICT);
    assert_int_equal (s_put (dedup, "BK-9", 3, S_T0 + 20 * S_SECOND), ZETL_DEDUP_ID_CONFLICT);
    //  Every earlier version replayed, in any order: duplicates, not conflicts
    assert_int_equal (s_put (dedup, "BK-9", 1, S_T0), ZETL_DEDUP_DUPLICATE);
    assert_int_equal (s_put (dedup, "BK-9", 3, S_T0 + 20 * S_SECOND), ZETL_DEDUP_DUPLICATE);
    assert_int_equal (s_put (dedup, "BK-9", 2, S_T0 + 10 * S_SECOND), ZETL_DEDUP_DUPLICATE);
    //  Replayed with another event time within the window of the first
    assert_int_equal (s_put (dedup, "BK-9", 1, S_T0 + 30 * S_MINUTE), ZETL_DEDUP_DUPLICATE);
    //  Many versions of one id, all told apart
    char id[] = "BK-many";
    for (uint64_t version = 100; version < 400; version++)
        assert_int_equal (s_put (dedup, id, version, S_T0 + (int64_t) version * S_SECOND),
                          version == 100 ? ZETL_DEDUP_NEW : ZETL_DEDUP_ID_CONFLICT);
    for (uint64_t version = 100; version < 400; version++)
        assert_int_equal (s_put (dedup, id, version, S_T0 + (int64_t) version * S_SECOND),
                          ZETL_DEDUP_DUPLICATE);
    zetl_dedup_stats_t stats = s_stats (dedup);
    assert_int_equal (stats.keys, 303);
    assert_int_equal (stats.duplicates, 304);
    assert_int_equal (stats.id_conflicts, 301);
    zetl_dedup_destroy (&dedup);
}

static void
test_without_id_content_alone (void **state)
{
    (void) state;
    zetl_dedup_t *dedup = zetl_dedup_new (S_HOUR, 16 * S_MIB);
    assert_int_equal (s_put (dedup, NULL, 1, S_T0), ZETL_DEDUP_NEW);
    assert_int_equal (s_put (dedup, NULL, 1, S_T0 + S_SECOND), ZETL_DEDUP_DUPLICATE);
    //  Other content: another record, never a conflict
    assert_int_equal (s_put (dedup, NULL, 2, S_T0), ZETL_DEDUP_NEW);
    //  A zero-length id is no id
    uint8_t hash[16];
    s_content (2, hash);
    assert_int_equal (zetl_dedup_check_insert (dedup, "x", 0, hash, S_T0), ZETL_DEDUP_DUPLICATE);
    zetl_dedup_stats_t stats = s_stats (dedup);
    assert_int_equal (stats.keys, 2);
    assert_int_equal (stats.duplicates, 2);
    assert_int_equal (stats.id_conflicts, 0);
    zetl_dedup_destroy (&dedup);
}

//  A million ids, all with one content hash (a hash that leaves the id
//  out): the ids alone tell them apart, none is a duplicate
static void
test_same_content_many_ids (void **state)
{
    (void) state;
    zetl_dedup_t *dedup = zetl_dedup_new (S_HOUR, 64 * S_MIB);
    char id[32];
    uint64_t duplicates = 0;
    for (int index = 0; index < 1000000; index++) {
        snprintf (id, sizeof id, "BK-%d", index);
        duplicates += s_put (dedup, id, 1, S_T0 + index) == ZETL_DEDUP_DUPLICATE;
    }
    assert_int_equal (duplicates, 0);
    assert_int_equal (s_stats (dedup).keys, 1000000);
    zetl_dedup_destroy (&dedup);
}

//  A batch answers as one call per key would, repeats inside it included
static void
test_batch_in_order (void **state)
{
    (void) state;
    zetl_dedup_t *dedup = zetl_dedup_new (S_HOUR, 16 * S_MIB);
    const struct {
        const char *id;
        uint64_t version;
        zetl_dedup_result_t expected;
    } cases[] = {{"BK-1", 1, ZETL_DEDUP_NEW},         {"BK-2", 1, ZETL_DEDUP_NEW},
                 {"BK-1", 1, ZETL_DEDUP_DUPLICATE},   {"BK-1", 2, ZETL_DEDUP_ID_CONFLICT},
                 {"BK-1", 1, ZETL_DEDUP_DUPLICATE},   {"BK-2", 1, ZETL_DEDUP_DUPLICATE},
                 {"BK-3", 3, ZETL_DEDUP_NEW},         {"BK-1", 2, ZETL_DEDUP_DUPLICATE},
                 {"BK-3", 4, ZETL_DEDUP_ID_CONFLICT}, {"BK-4", 4, ZETL_DEDUP_NEW}};
    const size_t count = sizeof cases / sizeof cases[0];
    zetl_dedup_key_t keys[sizeof cases / sizeof cases[0]];
    zetl_dedup_result_t results[sizeof cases / sizeof cases[0]];
    for (size_t index = 0; index < count; index++) {
        uint8_t hash[16];
        s_content (cases[index].version, hash);
        zetl_dedup_key (&keys[index], cases[index].id, strlen (cases[index].id), hash, S_T0);
        zetl_dedup_prefetch (dedup, &keys[index]);  //  a hint: changes nothing
    }
    zetl_dedup_check_insert_batch (dedup, keys, count, results);
    for (size_t index = 0; index < count; index++)
        assert_int_equal (results[index], cases[index].expected);
    zetl_dedup_check_insert_batch (dedup, keys, 0, results);
    zetl_dedup_stats_t stats = s_stats (dedup);
    assert_int_equal (stats.keys, 6);
    assert_int_equal (stats.duplicates, 4);
    assert_int_equal (stats.id_conflicts, 2);
    zetl_dedup_destroy (&dedup);
}

//  With content hashes from zetl_record_hash: key order does not matter
static void
test_with_record_hash (void **state)
{
    (void) state;
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init (&a);
    msgpack_sbuffer_init (&b);
    msgpack_packer pa, pb;
    msgpack_packer_init (&pa, &a, msgpack_sbuffer_write);
    msgpack_packer_init (&pb, &b, msgpack_sbuffer_write);
    msgpack_pack_map (&pa, 2);
    msgpack_pack_str_with_body (&pa, "booking_id", 10);
    msgpack_pack_str_with_body (&pa, "BK-1", 4);
    msgpack_pack_str_with_body (&pa, "amount", 6);
    msgpack_pack_int (&pa, 120);
    msgpack_pack_map (&pb, 2);
    msgpack_pack_str_with_body (&pb, "amount", 6);
    msgpack_pack_int (&pb, 120);
    msgpack_pack_str_with_body (&pb, "booking_id", 10);
    msgpack_pack_str_with_body (&pb, "BK-1", 4);
    msgpack_unpacked ua, ub;
    msgpack_unpacked_init (&ua);
    msgpack_unpacked_init (&ub);
    assert_int_equal (msgpack_unpack_next (&ua, a.data, a.size, NULL), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal (msgpack_unpack_next (&ub, b.data, b.size, NULL), MSGPACK_UNPACK_SUCCESS);
    uint8_t ha[16], hb[16];
    zetl_record_hash (&ua.data, ha);
    zetl_record_hash (&ub.data, hb);

    zetl_dedup_t *dedup = zetl_dedup_new (S_HOUR, 16 * S_MIB);
    assert_int_equal (zetl_dedup_check_insert (dedup, "BK-1", 4, ha, S_T0), ZETL_DEDUP_NEW);
    assert_int_equal (zetl_dedup_check_insert (dedup, "BK-1", 4, hb, S_T0), ZETL_DEDUP_DUPLICATE);
    zetl_dedup_destroy (&dedup);
    msgpack_unpacked_destroy (&ua);
    msgpack_unpacked_destroy (&ub);
    msgpack_sbuffer_destroy (&a);
    msgpack_sbuffer_destroy (&b);
}

//  The set against a model that remembers everything, on a stream with
//  versions, replays, disorder, expiry, reused tags and sweeps. Every record
//  is on time (event time >= W), so nothing it could match has expired.
#define S_MODEL_IDS 1000
#define S_MODEL_VERSIONS 96

typedef struct {
    int count;
    uint64_t version[S_MODEL_VERSIONS];
    int64_t event_us[S_MODEL_VERSIONS];
} s_model_id_t;

static zetl_dedup_result_t
s_model_put (s_model_id_t *entry, uint64_t version, int64_t event_us, int64_t window)
{
    bool conflict = false;
    for (int index = 0; index < entry->count; index++) {
        int64_t gap = entry->event_us[index] - event_us;
        if (gap < -window || gap > window)
            continue;
        if (entry->version[index] == version)
            return ZETL_DEDUP_DUPLICATE;
        conflict = true;
    }
    assert_true (entry->count < S_MODEL_VERSIONS);
    entry->version[entry->count] = version;
    entry->event_us[entry->count++] = event_us;
    return conflict ? ZETL_DEDUP_ID_CONFLICT : ZETL_DEDUP_NEW;
}

static void
test_against_model (void **state)
{
    (void) state;
    const int64_t window = 30 * S_SECOND, delay = 5 * S_SECOND, step = 10000;
    const int records = 250000;
    s_model_id_t *model = (s_model_id_t *) calloc (S_MODEL_IDS, sizeof (s_model_id_t));
    zetl_dedup_t *dedup = zetl_dedup_new (window, ZETL_DEDUP_MIN_BUDGET);
    zetl_rng_t rng;
    zetl_rng_seed (&rng, 7, 1);
    int64_t max_us = INT64_MIN, watermark = INT64_MIN;
    uint64_t next_version = 1, counts[3] = {0, 0, 0};
    char id[32];
    for (int index = 0; index < records; index++) {
        uint32_t which = (uint32_t) zetl_rng_below (&rng, S_MODEL_IDS);
        s_model_id_t *entry = &model[which];
        int64_t event_us = S_T0 + (int64_t) index * step + zetl_rng_range (&rng, 0, delay);
        uint64_t version = next_version;
        uint64_t kind = zetl_rng_below (&rng, 100);
        if (entry->count > 0 && kind < 40) {
            //  A replay of one of its last versions: at its own event time if that
            //  is still on time, else at this one
            uint64_t recent = entry->count < 3 ? (uint64_t) entry->count : 3;
            int pick = entry->count - 1 - (int) zetl_rng_below (&rng, recent);
            version = entry->version[pick];
            if (kind < 25 && entry->event_us[pick] >= watermark)
                event_us = entry->event_us[pick];
        }
        else
            next_version++;
        snprintf (id, sizeof id, "BK-%u", which);
        zetl_dedup_result_t expected = s_model_put (entry, version, event_us, window);
        assert_int_equal (s_put (dedup, id, version, event_us), expected);
        counts[expected]++;
        if (event_us > max_us)
            max_us = event_us;
        if (max_us - delay > watermark)
            watermark = max_us - delay;
        if (index % 50 == 0)
            zetl_dedup_expire (dedup, watermark, 2);
        //  Forget versions the model can no longer need, to keep it small
        if (entry->count == S_MODEL_VERSIONS) {
            int kept = 0;
            for (int at = 0; at < entry->count; at++)
                if (entry->event_us[at] >= watermark - window) {
                    entry->version[kept] = entry->version[at];
                    entry->event_us[kept++] = entry->event_us[at];
                }
            entry->count = kept;
        }
    }
    zetl_dedup_stats_t stats = s_stats (dedup);
    printf ("model: %" PRIu64 " new, %" PRIu64 " duplicates, %" PRIu64 " conflicts; %" PRIu64
            " keys, %" PRIu64 " expired\n",
            counts[ZETL_DEDUP_NEW], counts[ZETL_DEDUP_DUPLICATE], counts[ZETL_DEDUP_ID_CONFLICT],
            stats.keys, stats.expired);
    assert_int_equal (stats.duplicates, counts[ZETL_DEDUP_DUPLICATE]);
    assert_int_equal (stats.id_conflicts, counts[ZETL_DEDUP_ID_CONFLICT]);
    assert_int_equal (stats.evicted_early, 0);
    assert_true (counts[ZETL_DEDUP_DUPLICATE] > 10000 && counts[ZETL_DEDUP_ID_CONFLICT] > 10000);
    assert_true (stats.expired > 100000);
    zetl_dedup_destroy (&dedup);
    free (model);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_new_refuses_bad_arguments),
        cmocka_unit_test (test_exact_duplicate_dropped),
        cmocka_unit_test (test_new_version_is_id_conflict),
        cmocka_unit_test (test_replay_of_first_version_after_second),
        cmocka_unit_test (test_without_id_content_alone),
        cmocka_unit_test (test_same_content_many_ids),
        cmocka_unit_test (test_batch_in_order),
        cmocka_unit_test (test_with_record_hash),
        cmocka_unit_test (test_against_model),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
