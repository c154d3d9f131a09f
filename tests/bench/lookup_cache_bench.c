/*  lookup_cache_bench - zetl_lookup_cache hits and miss+inserts at 1 k, 100 k and 1 M entries

    A full cache of N entries (16-byte keys, 64-byte values, about a hotel
    row packed in msgpack), then runs of lookups, each reading the first
    byte of the value as enrichment would:
      - hit (uniform): keys drawn uniformly from the N cached: the worst
        case for the CPU caches;
      - hit (zipf): keys drawn by popularity, Zipf with s = 1 (the 1 % most
        popular keys get 60 % of the lookups at 100 k), the popular ones
        spread at random over the cache's memory;
      - miss+insert: a key never cached, looked up, then inserted, which
        evicts the least recently used entry (a free and a malloc).
    The query keys lie in order in one array, as keys read from records
    would be at hand.

    Baselines, measured in the same run on the same keys:
      - xxh3: XXH3-64 of the key only, the least a hashed cache could do.
        At 1 k entries everything is in the CPU caches and the ratio to it
        is the cost of the code;
      - memory floor: XXH3 of the key, then a read at the hashed place in
        an array as large as the index, then a read that depends on it in
        an array as large as the entries: the least any hashed index over
        out-of-line entries must wait for. At 100 k and 1 M entries the
        entries outgrow the CPU caches, a hit waits for DRAM twice (slot,
        then entry), and the ratio to the floor is what the cache adds.
    Warm up, then the best of 5 runs; CPU time. Exits 1 when a ratio is
    over its limit.
*/
#include "zetl_lookup_cache.h"
#include "zetl_rng.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#define S_KEY 16
#define S_VALUE 64
#define S_RUN 500000
#define S_RUNS 5
#define S_STREAM ((size_t) (1 + S_RUNS) * S_RUN)  //  keys for a warm-up and the runs
#define S_NOW 1000000
#define S_IN_CACHE 1000         //  entries that stay in the CPU caches
#define S_LIMIT_CODE_HIT 10.0   //  hit / xxh3, in cache
#define S_LIMIT_CODE_MISS 40.0  //  miss+insert / xxh3, in cache
//  Out of cache the floor's tight loop keeps more reads in flight than a
//  lookup can (it is 5 times shorter), hence the room
#define S_LIMIT_FLOOR_HIT 8.0    //  hit / memory floor, out of cache
#define S_LIMIT_FLOOR_MISS 12.0  //  miss+insert / memory floor, out of cache

typedef struct {
    char bytes[S_KEY];
} s_key_t;

typedef struct {
    const uint64_t *slots;  //  as many bytes as the index
    size_t slot_words;      //  a power of two
    const uint64_t *blob;   //  as many bytes as the entries
    size_t blob_words;
} s_floor_t;

typedef double (*s_run_fn) (zetl_lookup_cache_t *cache, const s_floor_t *floor, const s_key_t *keys,
                            uint64_t *sink);

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);  //  CPU time: steady on a shared machine
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

static void
s_key (s_key_t *key, uint64_t serial)
{
    char text[32];
    snprintf (text, sizeof text, "HTL-%012" PRIu64, serial);
    memcpy (key->bytes, text, S_KEY);
}

static double
s_run_xxh3 (zetl_lookup_cache_t *cache, const s_floor_t *floor, const s_key_t *keys, uint64_t *sink)
{
    (void) cache, (void) floor;
    uint64_t sum = 0;
    double start = s_now ();
    for (size_t index = 0; index < S_RUN; index++)
        sum += XXH3_64bits (keys[index].bytes, S_KEY);
    *sink += sum;
    return s_now () - start;
}

static double
s_run_floor (zetl_lookup_cache_t *cache, const s_floor_t *floor, const s_key_t *keys,
             uint64_t *sink)
{
    (void) cache;
    uint64_t sum = 0;
    double start = s_now ();
    for (size_t index = 0; index < S_RUN; index++) {
        uint64_t hash = XXH3_64bits (keys[index].bytes, S_KEY);
        uint64_t slot = floor->slots[hash & (floor->slot_words - 1)];
        sum += floor->blob[(slot ^ hash) % floor->blob_words];
    }
    *sink += sum;
    return s_now () - start;
}

static double
s_run_hits (zetl_lookup_cache_t *cache, const s_floor_t *floor, const s_key_t *keys, uint64_t *sink)
{
    (void) floor;
    zetl_lookup_cache_result_t result;
    uint64_t sum = 0;
    double start = s_now ();
    for (size_t index = 0; index < S_RUN; index++)
        if (zetl_lookup_cache_lookup (cache, 1, 1, keys[index].bytes, S_KEY, S_NOW, &result) ==
            ZETL_LOOKUP_CACHE_FRESH)
            sum += *(const unsigned char *) result.value;
    double elapsed = s_now () - start;
    if (sum != (uint64_t) S_RUN * 'v') {
        fprintf (stderr, "lookup_cache_bench: a hit run missed\n");
        exit (2);
    }
    *sink += sum;
    return elapsed;
}

static double
s_run_miss_insert (zetl_lookup_cache_t *cache, const s_floor_t *floor, const s_key_t *keys,
                   uint64_t *sink)
{
    (void) floor;
    static const char value[S_VALUE] = "v";
    zetl_lookup_cache_result_t result;
    double start = s_now ();
    for (size_t index = 0; index < S_RUN; index++)
        if (zetl_lookup_cache_lookup (cache, 1, 1, keys[index].bytes, S_KEY, S_NOW, &result) ==
            ZETL_LOOKUP_CACHE_MISS)
            *sink += (uint64_t) zetl_lookup_cache_insert (cache, 1, 1, keys[index].bytes, S_KEY,
                                                          value, S_VALUE, S_NOW);
    return s_now () - start;
}

//  Warm up on the first run of KEYS, then S_RUNS runs of each of RUNS[0..3)
//  in turn, so that a noisy neighbour slows all three alike; BEST[i] is the
//  best of RUNS[i], in ns per op. KEYS_OP: the keys for RUNS[2], if others
static void
s_measure (const s_run_fn runs[3], zetl_lookup_cache_t *cache, const s_floor_t *floor,
           const s_key_t *keys, const s_key_t *keys_op, uint64_t *sink, double best[3])
{
    for (int which = 0; which < 3; which++) {
        best[which] = 1e9;
        runs[which](cache, floor, which == 2 && keys_op ? keys_op : keys, sink);
    }
    for (int index = 1; index <= S_RUNS; index++)
        for (int which = 0; which < 3; which++) {
            const s_key_t *run_keys = which == 2 && keys_op ? keys_op : keys;
            double t = runs[which](cache, floor, run_keys + (size_t) index * S_RUN, sink);
            best[which] = t < best[which] ? t : best[which];
        }
    for (int which = 0; which < 3; which++)
        best[which] *= 1e9 / S_RUN;
}

//  A stream of keys of the N cached: uniform, or Zipf (s = 1) over a
//  random order of them, drawn by inverting the cumulative weights
static void
s_hit_keys (s_key_t *keys, size_t entries, bool zipf, zetl_rng_t *rng)
{
    uint64_t *order = (uint64_t *) malloc (entries * sizeof (uint64_t));
    double *cumulative = (double *) malloc (entries * sizeof (double));
    if (!order || !cumulative)
        exit (2);
    double total = 0;
    for (size_t rank = 0; rank < entries; rank++) {
        uint64_t other = zetl_rng_below (rng, rank + 1);
        order[rank] = order[other];
        order[other] = rank;
        total += 1.0 / (double) (rank + 1);
        cumulative[rank] = total;
    }
    for (size_t index = 0; index < S_STREAM; index++) {
        if (!zipf) {
            s_key (&keys[index], zetl_rng_below (rng, entries));
            continue;
        }
        double u = (double) (zetl_rng_next (rng) >> 11) * 0x1p-53 * total;
        size_t low = 0, high = entries - 1;
        while (low < high) {
            size_t middle = (low + high) / 2;
            if (cumulative[middle] < u)
                low = middle + 1;
            else
                high = middle;
        }
        s_key (&keys[index], order[low]);
    }
    free (order);
    free (cumulative);
}

//  The floor's arrays, as large as the cache's index and entries
static s_floor_t
s_floor_new (const zetl_lookup_cache_stats_t *stats, zetl_rng_t *rng)
{
    s_floor_t floor = {NULL, stats->index_bytes / 8, NULL, stats->bytes / 8};
    uint64_t *slots = (uint64_t *) malloc (floor.slot_words * 8);
    uint64_t *blob = (uint64_t *) malloc (floor.blob_words * 8);
    if (!slots || !blob)
        exit (2);
    for (size_t index = 0; index < floor.slot_words; index++)
        slots[index] = zetl_rng_next (rng);
    for (size_t index = 0; index < floor.blob_words; index++)
        blob[index] = index;
    floor.slots = slots;
    floor.blob = blob;
    return floor;
}

static bool
s_report (size_t entries, const char *name, double ns, const char *baseline_name,
          double baseline_ns, double limit)
{
    double ratio = ns / baseline_ns;
    printf ("lookup_cache at %zu entries: %s %.1f ns/op, baseline (%s) %.1f ns/op, "
            "ratio %.2f, limit %.2f: %s\n",
            entries, name, ns, baseline_name, baseline_ns, ratio, limit,
            ratio <= limit ? "ok" : "OVER");
    return ratio <= limit;
}

static zetl_lookup_cache_t *
s_cache_new (size_t entries)
{
    zetl_lookup_cache_config_t config;
    zetl_lookup_cache_config_defaults (&config);
    config.max_entries = entries;
    config.max_bytes = entries * 256;
    zetl_lookup_cache_t *cache = zetl_lookup_cache_new (&config);
    char value[S_VALUE];
    memset (value, 'v', sizeof value);
    s_key_t key;
    for (size_t serial = 0; serial < entries; serial++) {
        s_key (&key, serial);
        zetl_lookup_cache_insert (cache, 1, 1, key.bytes, S_KEY, value, S_VALUE, S_NOW);
    }
    return cache;
}

//  Fill a cache of ENTRIES, then measure; returns false when over a limit
static bool
s_bench (size_t entries, zetl_rng_t *rng, s_key_t *keys, s_key_t *new_keys, uint64_t *sink)
{
    zetl_lookup_cache_t *cache = s_cache_new (entries);
    zetl_lookup_cache_stats_t stats = zetl_lookup_cache_stats (cache);
    s_floor_t floor = s_floor_new (&stats, rng);
    bool in_cache = entries <= S_IN_CACHE, ok = true;
    const char *floor_name = "memory floor: xxh3, a slot, an entry";
    const s_run_fn hit_runs[3] = {s_run_xxh3, s_run_floor, s_run_hits};
    double best[3];
    for (int zipf = 0; zipf < (in_cache ? 1 : 2); zipf++) {
        s_hit_keys (keys, entries, zipf, rng);
        s_measure (hit_runs, cache, &floor, keys, NULL, sink, best);
        const char *name = zipf ? "hit (zipf)" : "hit (uniform)";
        if (in_cache)
            ok &= s_report (entries, name, best[2], "xxh3 of the key", best[0], S_LIMIT_CODE_HIT);
        else
            ok &= s_report (entries, name, best[2], floor_name, best[1], S_LIMIT_FLOOR_HIT);
    }
    //  Keys never cached: each misses, is inserted and evicts the oldest
    s_hit_keys (keys, entries, false, rng);
    for (size_t index = 0; index < S_STREAM; index++)
        s_key (&new_keys[index], entries + index);
    const s_run_fn miss_runs[3] = {s_run_xxh3, s_run_floor, s_run_miss_insert};
    s_measure (miss_runs, cache, &floor, keys, new_keys, sink, best);
    if (in_cache)
        ok &= s_report (entries, "miss+insert", best[2], "xxh3 of the key", best[0],
                        S_LIMIT_CODE_MISS);
    else
        ok &= s_report (entries, "miss+insert", best[2], floor_name, best[1], S_LIMIT_FLOOR_MISS);
    stats = zetl_lookup_cache_stats (cache);
    printf ("lookup_cache at %zu entries: %.1f MiB of entries (%.0f bytes each), index %.1f MiB, "
            "%" PRIu64 " evictions\n",
            entries, (double) stats.bytes / (1024.0 * 1024.0),
            (double) stats.bytes / (double) stats.entries,
            (double) stats.index_bytes / (1024.0 * 1024.0), stats.evictions);
    ok &= stats.entries == entries && stats.evictions == S_STREAM;
    free ((void *) floor.slots);
    free ((void *) floor.blob);
    zetl_lookup_cache_destroy (&cache);
    return ok;
}

int
main (void)
{
    zetl_rng_t rng;
    zetl_rng_seed (&rng, 1, 1);
    s_key_t *keys = (s_key_t *) malloc (S_STREAM * sizeof (s_key_t));
    s_key_t *new_keys = (s_key_t *) malloc (S_STREAM * sizeof (s_key_t));
    if (!keys || !new_keys)
        return 2;
    uint64_t sink = 0;
    bool ok = s_bench (S_IN_CACHE, &rng, keys, new_keys, &sink);
    ok &= s_bench (100000, &rng, keys, new_keys, &sink);
    ok &= s_bench (1000000, &rng, keys, new_keys, &sink);
    printf ("(checksum %" PRIx64 ")\n", sink & 0xff);
    free (keys);
    free (new_keys);
    return ok ? 0 : 1;
}
