/*  dedup_bench - zetl_dedup_check_insert at 10 M live keys

    A steady stream of distinct bookings, 360 µs of event time apart, with a
    window of 60 min: the set holds 10 M keys, and zetl_dedup_expire (called
    every 1000 records with W = the newest event time) forgets as many as
    come in. Each op hashes a 16-byte id and checks-inserts its key, one call
    per record, or 1000 records per zetl_dedup_check_insert_batch (which
    prefetches), as the coordinator would. Baseline: XXH3-64 of the same ids,
    the least an id-keyed set could do. The ratio is large by nature: 10 M
    keys are 200+ MiB, so every op waits for DRAM (and a TLB walk) while the
    baseline runs in cache. The "memory floor" line shows that part: XXH3 of
    the id plus one prefetched random read in an array as large as the set.
    Warm up, then the best of 5 runs of 1 M records each; exits 1 when a
    ratio is over its limit or a key costs more than 24 bytes.
*/
#include "zetl_dedup.h"
#include "zetl_rng.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#define S_LIVE_KEYS 10000000
#define S_STEP_US 360  //  3600 s / 10 M
#define S_WINDOW_US ((int64_t) 3600 * 1000000)
#define S_RUN 1000000
#define S_RUNS 5
#define S_BATCH 1000
#define S_LIMIT_SINGLE 200.0
#define S_LIMIT_BATCH 100.0
#define S_AHEAD 8
#define S_MAX_BYTES_PER_KEY 24.0
#define S_T0 ((int64_t) 1777000000 * 1000000)

typedef struct {
    char id[16];       //  "BK-" and 13 digits, no NUL
    uint8_t hash[16];  //  its content hash
    int64_t event_us;  //  its event time
} s_record_t;

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);  //  CPU time: steady on a shared machine
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

//  Resident set size in MiB, from /proc/self/statm
static double
s_rss_mib (void)
{
    long pages = 0, resident = 0;
    FILE *file = fopen ("/proc/self/statm", "r");
    if (file) {
        if (fscanf (file, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose (file);
    }
    return (double) resident * 4096.0 / (1024.0 * 1024.0);
}

//  Record SERIAL of the stream
static void
s_record (s_record_t *record, uint64_t serial, zetl_rng_t *rng)
{
    char text[32];
    snprintf (text, sizeof text, "BK-%013" PRIu64, serial);
    memcpy (record->id, text, 16);
    uint64_t words[2] = {zetl_rng_next (rng), zetl_rng_next (rng)};
    memcpy (record->hash, words, 16);
    record->event_us = S_T0 + (int64_t) serial * S_STEP_US;
}

static double
s_run_baseline (const s_record_t *records, uint64_t *sink)
{
    double start = s_now ();
    uint64_t sum = 0;
    for (size_t index = 0; index < S_RUN; index++)
        sum += XXH3_64bits (records[index].id, sizeof records[index].id);
    *sink += sum;
    return s_now () - start;
}

//  XXH3 of each id and one random read in TABLE (SIZE words) where it
//  points, prefetched S_AHEAD records ahead as the batch form does
static double
s_run_floor (const s_record_t *records, const uint64_t *table, size_t size, uint64_t *sink)
{
    uint64_t ring[S_AHEAD] = {0}, sum = 0;
    double start = s_now ();
    for (size_t index = 0; index < S_RUN + S_AHEAD; index++) {
        if (index >= S_AHEAD)
            sum += table[ring[index % S_AHEAD] % size];
        if (index < S_RUN) {
            uint64_t hash = XXH3_64bits (records[index].id, sizeof records[index].id);
            __builtin_prefetch (&table[hash % size]);
            ring[index % S_AHEAD] = hash;
        }
    }
    *sink += sum;
    return s_now () - start;
}

static double
s_run_single (zetl_dedup_t *dedup, const s_record_t *records, uint64_t *duplicates)
{
    double start = s_now ();
    for (size_t index = 0; index < S_RUN; index++) {
        const s_record_t *record = &records[index];
        if (zetl_dedup_check_insert (dedup, record->id, sizeof record->id, record->hash,
                                     record->event_us) == ZETL_DEDUP_DUPLICATE)
            (*duplicates)++;
        if (index % S_BATCH == S_BATCH - 1)
            zetl_dedup_expire (dedup, record->event_us, 4);
    }
    return s_now () - start;
}

static double
s_run_batch (zetl_dedup_t *dedup, const s_record_t *records, uint64_t *duplicates)
{
    static zetl_dedup_key_t keys[S_BATCH];
    static zetl_dedup_result_t results[S_BATCH];
    double start = s_now ();
    for (size_t done = 0; done < S_RUN; done += S_BATCH) {
        const s_record_t *batch = records + done;
        for (size_t index = 0; index < S_BATCH; index++)
            zetl_dedup_key (&keys[index], batch[index].id, sizeof batch[index].id,
                            batch[index].hash, batch[index].event_us);
        zetl_dedup_check_insert_batch (dedup, keys, S_BATCH, results);
        for (size_t index = 0; index < S_BATCH; index++)
            *duplicates += results[index] == ZETL_DEDUP_DUPLICATE;
        zetl_dedup_expire (dedup, batch[S_BATCH - 1].event_us, 4);
    }
    return s_now () - start;
}

static bool
s_report (const char *name, double best, double baseline, double limit)
{
    double ns = best * 1e9 / S_RUN, baseline_ns = baseline * 1e9 / S_RUN;
    double ratio = ns / baseline_ns;
    printf (
        "%s %.1f ns/op, baseline (xxh3 of the id only) %.1f ns/op, ratio %.2f, limit %.2f: %s\n",
        name, ns, baseline_ns, ratio, limit, ratio <= limit ? "ok" : "OVER");
    return ratio <= limit;
}

int
main (void)
{
    //  Records for the fill, then for a warm-up and the runs of both forms
    const size_t measured = (size_t) (1 + S_RUNS) * 2 * S_RUN;
    const size_t total = S_LIVE_KEYS + measured;
    s_record_t *records = (s_record_t *) malloc (total * sizeof (s_record_t));
    if (!records)
        return 2;
    zetl_rng_t rng;
    zetl_rng_seed (&rng, 1, 1);
    for (size_t index = 0; index < total; index++)
        s_record (&records[index], index, &rng);
    double rss_before = s_rss_mib ();

    zetl_dedup_t *dedup = zetl_dedup_new (S_WINDOW_US, ZETL_DEDUP_DEFAULT_BUDGET);
    uint64_t duplicates = 0, sink = 0;
    for (size_t done = 0; done < S_LIVE_KEYS; done += S_RUN)
        s_run_batch (dedup, records + done, &duplicates);

    const s_record_t *next = records + S_LIVE_KEYS;
    s_run_baseline (next, &sink);
    s_run_single (dedup, next, &duplicates);
    next += S_RUN;
    s_run_batch (dedup, next, &duplicates);
    next += S_RUN;
    double best_baseline = 1e9, best_single = 1e9, best_batch = 1e9;
    for (int run = 0; run < S_RUNS; run++) {
        double t = s_run_baseline (next, &sink);
        if (t < best_baseline)
            best_baseline = t;
        t = s_run_single (dedup, next, &duplicates);
        if (t < best_single)
            best_single = t;
        next += S_RUN;
        t = s_run_baseline (next, &sink);
        if (t < best_baseline)
            best_baseline = t;
        t = s_run_batch (dedup, next, &duplicates);
        if (t < best_batch)
            best_batch = t;
        next += S_RUN;
    }
    zetl_dedup_stats_t stats;
    zetl_dedup_stats (dedup, &stats);
    double per_key = (double) stats.bytes / (double) stats.keys;
    double rss = s_rss_mib () - rss_before;

    //  The memory floor, in an array as large as the set
    size_t size = stats.bytes / sizeof (uint64_t);
    uint64_t *table = (uint64_t *) malloc (size * sizeof (uint64_t));
    if (!table)
        return 2;
    for (size_t index = 0; index < size; index++)
        table[index] = index;
    double best_floor = 1e9;
    for (int run = 0; run < S_RUNS + 1; run++) {
        double t = s_run_floor (records + S_LIVE_KEYS + (size_t) run * S_RUN, table, size, &sink);
        if (run > 0 && t < best_floor)
            best_floor = t;
    }
    free (table);

    bool ok = s_report ("dedup_insert", best_single, best_baseline, S_LIMIT_SINGLE);
    ok &= s_report ("dedup_insert_batch", best_batch, best_baseline, S_LIMIT_BATCH);
    printf ("memory floor (xxh3 + one random read in %.0f MiB, prefetched) %.1f ns/op: "
            "dedup_insert_batch is %.2f times it\n",
            (double) stats.bytes / (1024.0 * 1024.0), best_floor * 1e9 / S_RUN,
            best_batch / best_floor);
    printf (
        "dedup at %.2f M live keys: %.1f MiB counted, %.2f bytes/key (limit %.0f), RSS %.1f MiB "
        "(%.2f bytes/key), %" PRIu64 " evicted early, %" PRIu64 " false duplicates "
        "(checksum %" PRIx64 ")\n",
        (double) stats.keys / 1e6, (double) stats.bytes / (1024.0 * 1024.0), per_key,
        S_MAX_BYTES_PER_KEY, rss, rss * 1024.0 * 1024.0 / (double) stats.keys, stats.evicted_early,
        duplicates, sink & 0xff);
    ok &= per_key <= S_MAX_BYTES_PER_KEY && duplicates == 0 && stats.evicted_early == 0 &&
          stats.keys >= S_LIVE_KEYS;
    zetl_dedup_destroy (&dedup);
    free (records);
    return ok ? 0 : 1;
}
