/*  lookup_cache_test - zetl_lookup_cache: ages, bounds, LRU, versions, counters  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "zetl_lookup_cache.h"
#include "zetl_rng.h"

#define S_T0 5000000  //  an arbitrary start on the monotonic clock
#define S_TTL 1000
#define S_NEGATIVE_TTL 200
#define S_MAX_STALE 5000

//  A cache of MAX_ENTRIES and MAX_BYTES with the test's ages
static zetl_lookup_cache_t *
s_new (size_t max_entries, size_t max_bytes)
{
    zetl_lookup_cache_config_t config = {max_entries, max_bytes, S_TTL, S_NEGATIVE_TTL,
                                         S_MAX_STALE};
    zetl_lookup_cache_t *cache = zetl_lookup_cache_new (&config);
    assert_non_null (cache);
    return cache;
}

static int
s_put (zetl_lookup_cache_t *cache, uint32_t table, uint64_t version, const char *key,
       const char *value, int64_t now_ms)
{
    return zetl_lookup_cache_insert (cache, table, version, key, strlen (key), value,
                                     strlen (value), now_ms);
}

static zetl_lookup_cache_status_t
s_get (zetl_lookup_cache_t *cache, uint32_t table, uint64_t version, const char *key,
       int64_t now_ms, zetl_lookup_cache_result_t *result)
{
    return zetl_lookup_cache_lookup (cache, table, version, key, strlen (key), now_ms, result);
}

//  Assert that KEY (table 1, version 1) is cached with VALUE, FRESH at NOW_MS
static void
s_assert_value (zetl_lookup_cache_t *cache, const char *key, const char *value, int64_t now_ms)
{
    zetl_lookup_cache_result_t result;
    assert_int_equal (s_get (cache, 1, 1, key, now_ms, &result), ZETL_LOOKUP_CACHE_FRESH);
    assert_false (result.negative);
    assert_int_equal (result.size, strlen (value));
    assert_memory_equal (result.value, value, result.size);
}

static bool
s_cached (zetl_lookup_cache_t *cache, const char *key, int64_t now_ms)
{
    zetl_lookup_cache_result_t result;
    return s_get (cache, 1, 1, key, now_ms, &result) != ZETL_LOOKUP_CACHE_MISS;
}

static void
test_config (void **state)
{
    (void) state;
    zetl_lookup_cache_config_t config;
    zetl_lookup_cache_config_defaults (&config);
    assert_int_equal (config.max_entries, 100000);
    assert_int_equal (config.max_bytes, 64 * 1024 * 1024);
    assert_int_equal (config.ttl_ms, 60000);
    assert_int_equal (config.negative_ttl_ms, 10000);
    assert_int_equal (config.max_stale_ms, 600000);
    zetl_lookup_cache_t *cache = zetl_lookup_cache_new (NULL);
    assert_non_null (cache);
    //  At most half full: 262 144 slots of 16 bytes for 100 000 entries
    assert_int_equal (zetl_lookup_cache_stats (cache).index_bytes, 262144 * 16);
    zetl_lookup_cache_destroy (&cache);
    assert_null (cache);
    zetl_lookup_cache_destroy (&cache);
    //  Out of range: NULL
    const zetl_lookup_cache_config_t bad[] = {
        {0, 1 << 20, 10, 10, 100},
        {ZETL_LOOKUP_CACHE_MAX_ENTRIES_LIMIT + 1, 1 << 20, 10, 10, 100},
        {10, ZETL_LOOKUP_CACHE_MIN_BYTES - 1, 10, 10, 100},
        {10, 1 << 20, -1, 10, 100},
        {10, 1 << 20, 10, -1, 100},
        {10, 1 << 20, 101, 10, 100},
        {10, 1 << 20, 10, 101, 100},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null (zetl_lookup_cache_new (&bad[i]));
    //  ttl = max_stale is fine: never STALE then
    const zetl_lookup_cache_config_t edge = {1, ZETL_LOOKUP_CACHE_MIN_BYTES, 100, 0, 100};
    cache = zetl_lookup_cache_new (&edge);
    assert_non_null (cache);
    zetl_lookup_cache_destroy (&cache);
}

static void
test_entry_bytes (void **state)
{
    (void) state;
    //  72-byte header + key + value + 8 (malloc's header), rounded up to 16
    assert_int_equal (zetl_lookup_cache_entry_bytes (0, 0), 80);
    assert_int_equal (zetl_lookup_cache_entry_bytes (8, 0), 96);
    assert_int_equal (zetl_lookup_cache_entry_bytes (16, 64), 160);
    assert_int_equal (zetl_lookup_cache_entry_bytes (16, 65), 176);
    assert_int_equal (zetl_lookup_cache_entry_bytes ((size_t) 1 << 32, 0), SIZE_MAX);
}

static void
test_fresh_stale_miss_by_age (void **state)
{
    (void) state;
    zetl_lookup_cache_t *cache = s_new (100, 1 << 20);
    zetl_lookup_cache_result_t result;
    assert_int_equal (s_put (cache, 1, 1, "HTL-1", "{name:Ritz}", S_T0), 0);
    s_assert_value (cache, "HTL-1", "{name:Ritz}", S_T0);
    s_assert_value (cache, "HTL-1", "{name:Ritz}", S_T0 + S_TTL - 1);
    //  A clock that steps back reads as age 0
    assert_int_equal (s_get (cache, 1, 1, "HTL-1", S_T0 - 50, &result), ZETL_LOOKUP_CACHE_FRESH);
    assert_int_equal (result.age_ms, 0);
    assert_int_equal (s_get (cache, 1, 1, "HTL-1", S_T0 + S_TTL, &result), ZETL_LOOKUP_CACHE_STALE);
    assert_int_equal (result.age_ms, S_TTL);
    assert_int_equal (result.size, 11);
    assert_memory_equal (result.value, "{name:Ritz}", 11);
    assert_int_equal (s_get (cache, 1, 1, "HTL-1", S_T0 + S_MAX_STALE - 1, &result),
                      ZETL_LOOKUP_CACHE_STALE);
    //  Other tables, versions and keys are other entries
    assert_int_equal (s_get (cache, 2, 1, "HTL-1", S_T0, &result), ZETL_LOOKUP_CACHE_MISS);
    assert_int_equal (s_get (cache, 1, 2, "HTL-1", S_T0, &result), ZETL_LOOKUP_CACHE_MISS);
    assert_int_equal (s_get (cache, 1, 1, "HTL-2", S_T0, &result), ZETL_LOOKUP_CACHE_MISS);
    assert_int_equal (s_get (cache, 1, 1, "HTL-", S_T0, &result), ZETL_LOOKUP_CACHE_MISS);
    assert_null (result.value);
    //  Too old even to be stale: dropped
    assert_int_equal (s_get (cache, 1, 1, "HTL-1", S_T0 + S_MAX_STALE, &result),
                      ZETL_LOOKUP_CACHE_MISS);
    zetl_lookup_cache_stats_t stats = zetl_lookup_cache_stats (cache);
    assert_int_equal (stats.expired, 1);
    assert_int_equal (stats.entries, 0);
    assert_int_equal (stats.bytes, 0);
    assert_int_equal (s_get (cache, 1, 1, "HTL-1", S_T0, &result), ZETL_LOOKUP_CACHE_MISS);
    zetl_lookup_cache_destroy (&cache);
}

static void
test_negative_entries (void **state)
{
    (void) state;
    zetl_lookup_cache_t *cache = s_new (100, 1 << 20);
    zetl_lookup_cache_result_t result;
    assert_int_equal (zetl_lookup_cache_insert_negative (cache, 1, 1, "GONE", 4, S_T0), 0);
    assert_int_equal (s_get (cache, 1, 1, "GONE", S_T0 + S_NEGATIVE_TTL - 1, &result),
                      ZETL_LOOKUP_CACHE_FRESH);
    assert_true (result.negative);
    assert_null (result.value);
    assert_int_equal (result.size, 0);
    //  Its own, shorter ttl
    assert_int_equal (s_get (cache, 1, 1, "GONE", S_T0 + S_NEGATIVE_TTL, &result),
                      ZETL_LOOKUP_CACHE_STALE);
    assert_true (result.negative);
    assert_int_equal (s_get (cache, 1, 1, "GONE", S_T0 + S_MAX_STALE - 1, &result),
                      ZETL_LOOKUP_CACHE_STALE);
    assert_int_equal (s_get (cache, 1, 1, "GONE", S_T0 + S_MAX_STALE, &result),
                      ZETL_LOOKUP_CACHE_MISS);
    assert_false (result.negative);
    zetl_lookup_cache_stats_t stats = zetl_lookup_cache_stats (cache);
    assert_int_equal (stats.negative_hits, 3);
    assert_int_equal (stats.hits, 1);
    assert_int_equal (stats.stale_hits, 2);
    assert_int_equal (stats.misses, 1);
    assert_int_equal (stats.entries, 0);
    //  An empty key is a key too
    assert_int_equal (zetl_lookup_cache_insert_negative (cache, 1, 1, NULL, 0, S_T0), 0);
    assert_int_equal (zetl_lookup_cache_lookup (cache, 1, 1, NULL, 0, S_T0, &result),
                      ZETL_LOOKUP_CACHE_FRESH);
    assert_true (result.negative);
    zetl_lookup_cache_destroy (&cache);
}

static void
test_replacement (void **state)
{
    (void) state;
    zetl_lookup_cache_t *cache = s_new (100, 1 << 20);
    zetl_lookup_cache_result_t result;
    assert_int_equal (s_put (cache, 1, 1, "K", "short", S_T0), 0);
    assert_int_equal (s_put (cache, 1, 1, "K", "a much longer value", S_T0 + 900), 0);
    //  The new value, and its own fetched time
    s_assert_value (cache, "K", "a much longer value", S_T0 + 1800);
    zetl_lookup_cache_stats_t stats = zetl_lookup_cache_stats (cache);
    assert_int_equal (stats.entries, 1);
    assert_int_equal (stats.bytes, zetl_lookup_cache_entry_bytes (1, 19));
    assert_int_equal (stats.inserts, 2);
    assert_int_equal (stats.evictions, 0);
    //  A value becomes a negative entry, and back
    assert_int_equal (zetl_lookup_cache_insert_negative (cache, 1, 1, "K", 1, S_T0 + 2000), 0);
    assert_int_equal (s_get (cache, 1, 1, "K", S_T0 + 2000, &result), ZETL_LOOKUP_CACHE_FRESH);
    assert_true (result.negative);
    assert_int_equal (zetl_lookup_cache_stats (cache).bytes, zetl_lookup_cache_entry_bytes (1, 0));
    assert_int_equal (s_put (cache, 1, 1, "K", "back", S_T0 + 3000), 0);
    s_assert_value (cache, "K", "back", S_T0 + 3000);
    assert_int_equal (zetl_lookup_cache_stats (cache).entries, 1);
    zetl_lookup_cache_destroy (&cache);
}

static void
test_lru_order_touch_on_hit (void **state)
{
    (void) state;
    zetl_lookup_cache_t *cache = s_new (3, 1 << 20);
    zetl_lookup_cache_result_t result;
    s_put (cache, 1, 1, "A", "a", S_T0);
    s_put (cache, 1, 1, "B", "b", S_T0);
    s_put (cache, 1, 1, "C", "c", S_T0);
    //  A hit makes A the newest: B goes first
    assert_int_equal (s_get (cache, 1, 1, "A", S_T0, &result), ZETL_LOOKUP_CACHE_FRESH);
    s_put (cache, 1, 1, "D", "d", S_T0);
    assert_false (s_cached (cache, "B", S_T0));
    //  A STALE answer is a use too: C is older than A, D
    assert_int_equal (s_get (cache, 1, 1, "C", S_T0 + S_TTL, &result), ZETL_LOOKUP_CACHE_STALE);
    assert_int_equal (s_get (cache, 1, 1, "A", S_T0, &result), ZETL_LOOKUP_CACHE_FRESH);
    //  Now D is the oldest; a miss touches nothing
    assert_int_equal (s_get (cache, 1, 1, "X", S_T0, &result), ZETL_LOOKUP_CACHE_MISS);
    s_put (cache, 1, 1, "E", "e", S_T0);
    assert_false (s_cached (cache, "D", S_T0));
    //  Replacing is a use: C, A, E by age, then C replaced, then F evicts A
    s_put (cache, 1, 1, "C", "c2", S_T0);
    s_put (cache, 1, 1, "F", "f", S_T0);
    assert_false (s_cached (cache, "A", S_T0));
    s_assert_value (cache, "C", "c2", S_T0);
    s_assert_value (cache, "E", "e", S_T0);
    s_assert_value (cache, "F", "f", S_T0);
    assert_int_equal (zetl_lookup_cache_stats (cache).evictions, 3);
    zetl_lookup_cache_destroy (&cache);
}

static void
test_eviction_by_count (void **state)
{
    (void) state;
    zetl_lookup_cache_t *cache = s_new (100, 1 << 20);
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf (key, sizeof key, "key-%d", i);
        assert_int_equal (s_put (cache, 1, 1, key, "value", S_T0), 0);
        assert_true (zetl_lookup_cache_stats (cache).entries <= 100);
    }
    zetl_lookup_cache_stats_t stats = zetl_lookup_cache_stats (cache);
    assert_int_equal (stats.entries, 100);
    assert_int_equal (stats.evictions, 900);
    assert_int_equal (stats.bytes, 100 * zetl_lookup_cache_entry_bytes (7, 5));
    //  The newest 100 stay
    for (int i = 0; i < 1000; i++) {
        snprintf (key, sizeof key, "key-%d", i);
        assert_int_equal (s_cached (cache, key, S_T0), i >= 900);
    }
    zetl_lookup_cache_destroy (&cache);
}

static void
test_eviction_by_bytes (void **state)
{
    (void) state;
    const size_t max_bytes = 8192;
    zetl_lookup_cache_t *cache = s_new (1000, max_bytes);
    zetl_rng_t rng;
    zetl_rng_seed (&rng, 11, 1);
    char value[2048], key[32];
    memset (value, 'v', sizeof value);
    size_t sizes[400], key_lens[400];
    for (int i = 0; i < 400; i++) {
        sizes[i] = (size_t) zetl_rng_below (&rng, sizeof value);
        key_lens[i] = (size_t) snprintf (key, sizeof key, "key-%d", i);
        assert_int_equal (
            zetl_lookup_cache_insert (cache, 1, 1, key, key_lens[i], value, sizes[i], S_T0), 0);
        zetl_lookup_cache_stats_t stats = zetl_lookup_cache_stats (cache);
        assert_true (stats.bytes <= max_bytes);
        //  The oldest go first: the ones kept are exactly the newest that fit
        size_t expected = 0, entries = 0;
        for (int j = i; j >= 0; j--) {
            size_t bytes = zetl_lookup_cache_entry_bytes (key_lens[j], sizes[j]);
            if (expected + bytes > max_bytes)
                break;
            expected += bytes;
            entries++;
        }
        assert_int_equal (stats.entries, entries);
        assert_int_equal (stats.bytes, expected);
    }
    assert_true (zetl_lookup_cache_stats (cache).evictions > 300);
    zetl_lookup_cache_destroy (&cache);
}

static void
test_too_large_is_refused (void **state)
{
    (void) state;
    const size_t max_bytes = 4096;
    zetl_lookup_cache_t *cache = s_new (100, max_bytes);
    static char value[8192];
    s_put (cache, 1, 1, "small", "s", S_T0);
    s_put (cache, 1, 1, "big", "old value", S_T0);
    //  One byte over: refused, the older entry of that key dropped, the others kept
    size_t fits = max_bytes - 8 - 72 - 3;  //  The largest value that fits
    assert_int_equal (zetl_lookup_cache_entry_bytes (3, fits), max_bytes);
    assert_int_equal (zetl_lookup_cache_entry_bytes (3, fits + 1), max_bytes + 16);
    assert_int_equal (zetl_lookup_cache_insert (cache, 1, 1, "big", 3, value, fits + 1, S_T0), -1);
    assert_false (s_cached (cache, "big", S_T0));
    assert_true (s_cached (cache, "small", S_T0));
    assert_int_equal (zetl_lookup_cache_insert (cache, 1, 1, "big", 3, value, sizeof value, S_T0),
                      -1);
    zetl_lookup_cache_stats_t stats = zetl_lookup_cache_stats (cache);
    assert_int_equal (stats.refused, 2);
    assert_int_equal (stats.entries, 1);
    assert_int_equal (stats.evictions, 0);
    //  Exactly max_bytes fits, alone
    assert_int_equal (zetl_lookup_cache_insert (cache, 1, 1, "big", 3, value, fits, S_T0), 0);
    stats = zetl_lookup_cache_stats (cache);
    assert_int_equal (stats.bytes, max_bytes);
    assert_int_equal (stats.entries, 1);
    assert_int_equal (stats.evictions, 1);
    zetl_lookup_cache_destroy (&cache);
}

static void
test_drop_older (void **state)
{
    (void) state;
    zetl_lookup_cache_t *cache = s_new (100, 1 << 20);
    zetl_lookup_cache_result_t result;
    char key[16];
    for (uint32_t table = 1; table <= 3; table++)
        for (uint64_t version = 1; version <= 3; version++)
            for (int i = 0; i < 5; i++) {
                snprintf (key, sizeof key, "k%d", i);
                s_put (cache, table, version, key, "v", S_T0);
            }
    assert_int_equal (zetl_lookup_cache_drop_older (cache, 2, 3), 10);
    assert_int_equal (zetl_lookup_cache_drop_older (cache, 2, 3), 0);
    assert_int_equal (zetl_lookup_cache_drop_older (cache, 9, 3), 0);  //  Not cached at all
    for (uint32_t table = 1; table <= 3; table++)
        for (uint64_t version = 1; version <= 3; version++)
            for (int i = 0; i < 5; i++) {
                snprintf (key, sizeof key, "k%d", i);
                bool dropped = table == 2 && version < 3;
                assert_int_equal (s_get (cache, table, version, key, S_T0, &result),
                                  dropped ? ZETL_LOOKUP_CACHE_MISS : ZETL_LOOKUP_CACHE_FRESH);
            }
    zetl_lookup_cache_stats_t stats = zetl_lookup_cache_stats (cache);
    assert_int_equal (stats.dropped, 10);
    assert_int_equal (stats.entries, 35);
    assert_int_equal (stats.bytes, 35 * zetl_lookup_cache_entry_bytes (2, 1));
    //  Every entry of table 1 goes; the table comes back later
    assert_int_equal (zetl_lookup_cache_drop_older (cache, 1, 100), 15);
    s_put (cache, 4, 1, "k", "v", S_T0);
    s_put (cache, 1, 100, "k", "v", S_T0);
    assert_int_equal (s_get (cache, 1, 100, "k", S_T0, &result), ZETL_LOOKUP_CACHE_FRESH);
    assert_int_equal (s_get (cache, 4, 1, "k", S_T0, &result), ZETL_LOOKUP_CACHE_FRESH);
    assert_int_equal (zetl_lookup_cache_drop_older (cache, 4, 2), 1);
    assert_int_equal (zetl_lookup_cache_stats (cache).entries, 21);
    zetl_lookup_cache_destroy (&cache);
}

static void
test_values_outlive_lookups (void **state)
{
    (void) state;
    zetl_lookup_cache_t *cache = s_new (100, 1 << 20);
    zetl_lookup_cache_result_t first, second, third;
    s_put (cache, 1, 1, "A", "alpha", S_T0);
    s_put (cache, 2, 1, "B", "beta", S_T0 + S_MAX_STALE);
    assert_int_equal (s_get (cache, 1, 1, "A", S_T0 + S_MAX_STALE - 1, &first),
                      ZETL_LOOKUP_CACHE_STALE);
    assert_int_equal (s_get (cache, 2, 1, "B", S_T0 + S_MAX_STALE, &second),
                      ZETL_LOOKUP_CACHE_FRESH);
    //  A expires; what the first lookup returned stays readable until an insert
    assert_int_equal (s_get (cache, 1, 1, "A", S_T0 + S_MAX_STALE, &third), ZETL_LOOKUP_CACHE_MISS);
    assert_memory_equal (first.value, "alpha", 5);
    assert_memory_equal (second.value, "beta", 4);
    s_put (cache, 1, 1, "C", "gamma", S_T0);
    assert_int_equal (zetl_lookup_cache_stats (cache).entries, 2);
    zetl_lookup_cache_destroy (&cache);
}

static void
test_counters (void **state)
{
    (void) state;
    zetl_lookup_cache_t *cache = s_new (2, 1 << 20);
    zetl_lookup_cache_result_t result;
    s_put (cache, 1, 1, "A", "a", S_T0);
    zetl_lookup_cache_insert_negative (cache, 1, 1, "N", 1, S_T0);
    s_get (cache, 1, 1, "A", S_T0, &result);                //  hit
    s_get (cache, 1, 1, "A", S_T0 + S_TTL, &result);        //  stale hit
    s_get (cache, 1, 1, "N", S_T0, &result);                //  hit, negative
    s_get (cache, 1, 1, "N", S_T0 + S_TTL, &result);        //  stale hit, negative
    s_get (cache, 1, 1, "Z", S_T0, &result);                //  miss
    s_get (cache, 1, 1, "A", S_T0 + S_MAX_STALE, &result);  //  miss, expired
    s_put (cache, 1, 1, "B", "b", S_T0);
    s_put (cache, 1, 1, "C", "c", S_T0);  //  evicts N
    zetl_lookup_cache_drop_older (cache, 1, 2);
    zetl_lookup_cache_stats_t stats = zetl_lookup_cache_stats (cache);
    assert_int_equal (stats.hits, 2);
    assert_int_equal (stats.stale_hits, 2);
    assert_int_equal (stats.misses, 2);
    assert_int_equal (stats.negative_hits, 2);
    assert_int_equal (stats.inserts, 4);
    assert_int_equal (stats.evictions, 1);
    assert_int_equal (stats.expired, 1);
    assert_int_equal (stats.dropped, 2);
    assert_int_equal (stats.refused, 0);
    assert_int_equal (stats.entries, 0);
    assert_int_equal (stats.bytes, 0);
    zetl_lookup_cache_destroy (&cache);
}

//  The reference model: a plain array, searched and aged by brute force
#define S_MODEL_MAX 64
typedef struct {
    uint32_t table;
    uint64_t version;
    char key[8];
    size_t key_len;
    unsigned char value[4200];
    size_t size;
    bool negative;
    int64_t fetched_ms;
    uint64_t used;  //  the model's clock at its last use: LRU order
} s_model_entry_t;

typedef struct {
    s_model_entry_t entries[S_MODEL_MAX];
    size_t count;
    size_t bytes;
    uint64_t clock;
    size_t max_entries, max_bytes;
} s_model_t;

static s_model_entry_t *
s_model_find (s_model_t *model, uint32_t table, uint64_t version, const char *key, size_t len)
{
    for (size_t i = 0; i < model->count; i++) {
        s_model_entry_t *entry = &model->entries[i];
        if (entry->table == table && entry->version == version && entry->key_len == len &&
            memcmp (entry->key, key, len) == 0)
            return entry;
    }
    return NULL;
}

static void
s_model_remove (s_model_t *model, s_model_entry_t *entry)
{
    model->bytes -= zetl_lookup_cache_entry_bytes (entry->key_len, entry->size);
    *entry = model->entries[--model->count];
}

static void
s_model_insert (s_model_t *model, uint32_t table, uint64_t version, const char *key, size_t len,
                const unsigned char *value, size_t size, bool negative, int64_t now_ms)
{
    s_model_entry_t *old = s_model_find (model, table, version, key, len);
    if (old)
        s_model_remove (model, old);
    size_t bytes = zetl_lookup_cache_entry_bytes (len, size);
    if (bytes > model->max_bytes)
        return;
    while (model->count >= model->max_entries || model->bytes + bytes > model->max_bytes) {
        s_model_entry_t *oldest = &model->entries[0];
        for (size_t i = 1; i < model->count; i++)
            if (model->entries[i].used < oldest->used)
                oldest = &model->entries[i];
        s_model_remove (model, oldest);
    }
    s_model_entry_t *entry = &model->entries[model->count++];
    *entry =
        (s_model_entry_t){table, version, {0}, len, {0}, size, negative, now_ms, ++model->clock};
    memcpy (entry->key, key, len);
    if (size)
        memcpy (entry->value, value, size);
    model->bytes += bytes;
}

//  Look KEY up in the model and in the cache, and compare the answers
static void
s_check_lookup (s_model_t *model, zetl_lookup_cache_t *cache, uint32_t table, uint64_t version,
                const char *key, size_t len, int64_t now_ms)
{
    zetl_lookup_cache_result_t result;
    zetl_lookup_cache_status_t status =
        zetl_lookup_cache_lookup (cache, table, version, key, len, now_ms, &result);
    s_model_entry_t *entry = s_model_find (model, table, version, key, len);
    int64_t age = entry ? now_ms - entry->fetched_ms : 0;
    if (entry && age >= S_MAX_STALE) {
        s_model_remove (model, entry);
        entry = NULL;
    }
    if (!entry) {
        assert_int_equal (status, ZETL_LOOKUP_CACHE_MISS);
        return;
    }
    entry->used = ++model->clock;
    int64_t ttl = entry->negative ? S_NEGATIVE_TTL : S_TTL;
    assert_int_equal (status, age < ttl ? ZETL_LOOKUP_CACHE_FRESH : ZETL_LOOKUP_CACHE_STALE);
    assert_int_equal (result.negative, entry->negative);
    assert_int_equal (result.age_ms, age);
    assert_int_equal (result.size, entry->size);
    if (entry->size)
        assert_memory_equal (result.value, entry->value, entry->size);
}

static void
test_random_operations_match_a_model (void **state)
{
    (void) state;
    static s_model_t model;
    model = (s_model_t){.max_entries = 24, .max_bytes = 4096};
    zetl_lookup_cache_t *cache = s_new (model.max_entries, model.max_bytes);
    zetl_rng_t rng;
    zetl_rng_seed (&rng, 7, 1);
    unsigned char value[4200];
    int64_t now = S_T0;
    for (int op = 0; op < 20000; op++) {
        //  Few tables, versions and keys, so that keys come back often
        uint32_t table = (uint32_t) zetl_rng_below (&rng, 2);
        uint64_t version = zetl_rng_below (&rng, 3);
        char key[8];
        size_t len = (size_t) snprintf (key, sizeof key, "k%u", zetl_rng_skewed (&rng, 24));
        uint64_t dice = zetl_rng_below (&rng, 100);
        //  Mostly a few ms on, now and then seconds: entries go stale, and expire
        now += (int64_t) zetl_rng_below (&rng, zetl_rng_below (&rng, 100) ? 50 : 6000);
        if (dice < 30) {
            //  Now and then a value near max_bytes: refused, or it takes it all
            size_t size = dice < 2 ? 3900 + (size_t) zetl_rng_below (&rng, 300)
                                   : (size_t) zetl_rng_below (&rng, 150);
            for (size_t i = 0; i < size; i++)
                value[i] = (unsigned char) zetl_rng_next (&rng);
            s_model_insert (&model, table, version, key, len, value, size, false, now);
            zetl_lookup_cache_insert (cache, table, version, key, len, value, size, now);
        }
        else if (dice < 38) {
            s_model_insert (&model, table, version, key, len, NULL, 0, true, now);
            zetl_lookup_cache_insert_negative (cache, table, version, key, len, now);
        }
        else if (dice < 39) {
            size_t dropped = 0;
            for (size_t i = 0; i < model.count;)
                if (model.entries[i].table == table && model.entries[i].version < version) {
                    s_model_remove (&model, &model.entries[i]);
                    dropped++;
                }
                else
                    i++;
            assert_int_equal (zetl_lookup_cache_drop_older (cache, table, version), dropped);
        }
        else
            s_check_lookup (&model, cache, table, version, key, len, now);
        zetl_lookup_cache_stats_t stats = zetl_lookup_cache_stats (cache);
        assert_int_equal (stats.entries, model.count);
        assert_int_equal (stats.bytes, model.bytes);
        assert_true (stats.bytes <= model.max_bytes);
    }
    //  Everything the model holds is in the cache, and nothing else
    for (size_t i = model.count; i-- > 0;) {
        s_model_entry_t entry = model.entries[i];
        s_check_lookup (&model, cache, entry.table, entry.version, entry.key, entry.key_len, now);
    }
    zetl_lookup_cache_stats_t stats = zetl_lookup_cache_stats (cache);
    //  Every path was taken, many times
    assert_true (stats.evictions > 1000 && stats.refused > 50 && stats.expired > 50);
    assert_true (stats.dropped > 100 && stats.negative_hits > 100 && stats.stale_hits > 100);
    assert_true (stats.hits > 500);
    zetl_lookup_cache_destroy (&cache);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_config),
        cmocka_unit_test (test_entry_bytes),
        cmocka_unit_test (test_fresh_stale_miss_by_age),
        cmocka_unit_test (test_negative_entries),
        cmocka_unit_test (test_replacement),
        cmocka_unit_test (test_lru_order_touch_on_hit),
        cmocka_unit_test (test_eviction_by_count),
        cmocka_unit_test (test_eviction_by_bytes),
        cmocka_unit_test (test_too_large_is_refused),
        cmocka_unit_test (test_drop_older),
        cmocka_unit_test (test_values_outlive_lookups),
        cmocka_unit_test (test_counters),
        cmocka_unit_test (test_random_operations_match_a_model),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
