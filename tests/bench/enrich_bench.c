/*  enrich_bench - a worker's throughput on one core with enrichment and validation

    Batches of 1 000 booking records go through zetl_process_batch, the
    worker's whole per-batch path, on one thread: a 3-field enrichment from
    a lookup table in a real Redis (a throwaway redis-server) and 10 schema
    rules. Three runs:
      - 99 % cache hits: keys drawn from 1 % more hotels than a 2 000-entry cache holds;
      - 50 % cache hits: from twice as many;
      - 99 % hits with a 20 000-entry cache, whose index and rows outgrow the
        CPU caches (for information: each lookup then waits on memory).
    Each prints records/s (wall and per CPU-second of this process), the hit
    ratio and Redis round trips per batch, next to the same batches through
    the same schema without enrichment and rules (the limit: what casting
    and hashing alone cost). Targets: 1 000 000 records per CPU-second at
    99 % hits, 1 round trip per batch at 50 %. Exits 1 when the 99 % run
    misses its target or a batch needs more than one round trip.
*/
#include "zetl_config.h"
#include "zetl_jsonl.h"
#include "zetl_localredis.h"
#include "zetl_lut.h"
#include "zetl_process.h"
#include "zetl_redis.h"

#include <czmq.h>
#include <time.h>

#define S_BATCH 1000
#define S_BATCHES 400

static const char *s_schema =
    "    schema:\n"
    "      booking_id:  { type: string, required: true, max_len: 64, regex: \"^BK-[0-9]+$\" }\n"
    "      hotel_id:    { type: int, required: true, min: 1, max: 1000000 }\n"
    "      guest_email: { type: string, max_len: 200 }\n"
    "      amount:      { type: number, min: 0, max: 100000 }\n"
    "      currency:    { type: string, enum: [EUR, USD, GBP, MXN] }\n"
    "      status:      { type: string, enum: [confirmed, cancelled, pending, checked_out] }\n"
    "      nights:      { type: int, min: 1, max: 365 }\n"
    "      updated_at:  { type: timestamp, required: true }\n";

static const char *s_plain_schema =
    "    schema:\n"
    "      booking_id:  { type: string, required: true }\n"
    "      hotel_id:    { type: int, required: true }\n"
    "      guest_email: { type: string }\n"
    "      amount:      { type: number }\n"
    "      currency:    { type: string }\n"
    "      status:      { type: string }\n"
    "      nights:      { type: int }\n"
    "      updated_at:  { type: timestamp, required: true }\n"
    "      region:      { type: string }\n"
    "      hotel_name:  { type: string }\n"
    "      city:        { type: string }\n";

static double
s_cpu_seconds (void)
{
    struct timespec now;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}

static zetl_config_t *
s_config (const char *url, bool enrich, int cache)
{
    char *yaml = zsys_sprintf (
        "redis: \"%s\"\n"
        "lookup: { cache_entries: %d, ttl: 1h }\n"
        "pipelines:\n"
        "  - id: p\n"
        "    source: { type: file, path: x.jsonl }\n"
        "    partition_key: hotel_id\n"
        "    event_time: { field: updated_at }\n"
        "%s%s"
        "    sinks:\n"
        "      - { type: postgres, table: t, primary_key: [booking_id] }\n",
        url, cache, enrich ? s_schema : s_plain_schema,
        enrich ? "    enrich:\n"
                 "      - { table: hotels, key: hotel_id, fields: { region: region, "
                 "hotel_name: name, city: city } }\n"
               : "");
    char *error = NULL;
    zetl_config_t *config = zetl_config_parse (yaml, strlen (yaml), "bench.yaml", &error);
    if (!config) {
        fprintf (stderr, "enrich_bench: %s\n", error);
        exit (2);
    }
    free (yaml);
    return config;
}

//  A table of HOTELS rows in a CSV, loaded as table hotels. Returns its version
static uint64_t
s_load_table (const char *url, const char *dir, int hotels)
{
    char *path = zsys_sprintf ("%s/hotels.csv", dir);
    FILE *file = fopen (path, "w");
    fprintf (file, "hotel_id,name,region,city,stars\n");
    for (int id = 1; id <= hotels; id++)
        fprintf (file, "%d,Hotel number %d,Region %d,City %d,%d\n", id, id, id % 17, id % 301,
                 1 + id % 5);
    fclose (file);
    char *error = NULL;
    redisContext *redis = zetl_redis_connect (url, 5000, &error);
    zetl_lut_loaded_t loaded;
    if (!redis || zetl_lut_load (redis, "hotels", path, "hotel_id", ',', &loaded, &error)) {
        fprintf (stderr, "enrich_bench: %s\n", error);
        exit (2);
    }
    redisFree (redis);
    free (path);
    return loaded.version;
}

//  S_BATCHES batches of records whose hotel_id is drawn from 1..KEYS
static zetl_msg_t **
s_batches (int keys, uint64_t version)
{
    zetl_msg_t **batches = (zetl_msg_t **) zmalloc (S_BATCHES * sizeof (zetl_msg_t *));
    zetl_jsonl_t *jsonl = zetl_jsonl_new (NULL, 0);
    msgpack_sbuffer packed;
    msgpack_sbuffer_init (&packed);
    static const char *statuses[] = {"confirmed", "cancelled", "pending", "checked_out"};
    static const char *currencies[] = {"EUR", "USD", "GBP", "MXN"};
    unsigned seed = 7;
    for (int batch = 0; batch < S_BATCHES; batch++) {
        zetl_body_writer_t *writer = zetl_body_writer_new ();
        zetl_body_writer_source (writer, "bench");
        for (int index = 0; index < S_BATCH; index++) {
            seed = seed * 1103515245 + 12345;
            unsigned r = seed >> 8;
            char line[512];
            int len = snprintf (line, sizeof line,
                                "{\"booking_id\":\"BK-%07d\",\"hotel_id\":%u,"
                                "\"guest_email\":\"guest%u@example.com\",\"amount\":\"%u.%02u\","
                                "\"currency\":\"%s\",\"status\":\"%s\",\"nights\":%u,"
                                "\"updated_at\":\"2026-05-01T10:%02u:%02u.%03uZ\"}",
                                batch * S_BATCH + index, 1 + r % (unsigned) keys, r % 1000,
                                40 + r % 900, r % 100, currencies[r % 4], statuses[(r >> 3) % 4],
                                1 + r % 14, r % 60, (r >> 6) % 60, r % 1000);
            packed.size = 0;
            const char *reason = NULL;
            if (zetl_jsonl_convert (jsonl, line, (size_t) len, &packed, NULL, &reason) != 0)
                abort ();
            zetl_body_writer_append (writer, 0, (uint64_t) index, 0, 0, NULL, packed.data,
                                     packed.size);
        }
        zetl_msg_t *msg = zetl_msg_new (ZETL_MSG_BATCH);
        msg->count = S_BATCH;
        msg->lut_count = 1;
        msg->luts[0] = version;
        zetl_msg_set_str (&msg->sink, "sink");
        zframe_t *body = zetl_body_writer_finish (writer);
        zetl_msg_set_body (msg, &body);
        zetl_body_writer_destroy (&writer);
        batches[batch] = msg;
    }
    msgpack_sbuffer_destroy (&packed);
    zetl_jsonl_destroy (&jsonl);
    return batches;
}

typedef struct {
    double wall_rate, cpu_rate, hit_ratio, trips_per_batch;
} s_result_t;

//  Every batch through a processor for CONFIG, after one warm-up pass
static s_result_t
s_run (zetl_config_t *config, zetl_msg_t **batches, bool enrich)
{
    zetl_process_t *process = zetl_process_new (config);
    const char *reason = NULL;
    uint32_t code = 0;
    for (int pass = 0; pass < 2; pass++) {
        json_t *before = enrich ? zetl_process_lookup_stats (process) : NULL;
        int64_t start = zclock_usecs ();
        double cpu = s_cpu_seconds ();
        for (int batch = 0; batch < S_BATCHES; batch++) {
            batches[batch]->lut_count = enrich ? 1 : 0;
            zetl_msg_t *result = zetl_process_batch (process, batches[batch], &reason, &code);
            if (!result) {
                fprintf (stderr, "enrich_bench: batch failed (%u): %s\n", code, reason);
                exit (2);
            }
            zetl_msg_destroy (&result);
        }
        double wall_s = (double) (zclock_usecs () - start) / 1e6;
        cpu = s_cpu_seconds () - cpu;
        if (pass == 0) {
            json_decref (before);
            continue;  //  Warm-up
        }
        s_result_t result = {S_BATCHES * S_BATCH / wall_s, S_BATCHES * S_BATCH / cpu, 1, 0};
        if (enrich) {
            json_t *after = zetl_process_lookup_stats (process);
            double lookups = (double) (json_integer_value (json_object_get (after, "lookups"))
                                       - json_integer_value (json_object_get (before, "lookups")));
            double hits = (double) (json_integer_value (json_object_get (after, "cache_hits"))
                                    - json_integer_value (json_object_get (before, "cache_hits")));
            double trips =
                (double) (json_integer_value (json_object_get (after, "round_trips"))
                          - json_integer_value (json_object_get (before, "round_trips")));
            result.hit_ratio = hits / lookups;
            result.trips_per_batch = trips / S_BATCHES;
            json_decref (after);
        }
        json_decref (before);
        zetl_process_destroy (&process);
        return result;
    }
    abort ();
}

int
main (void)
{
    zsys_init ();
    char dir[] = "/tmp/zetl-enrich-bench.XXXXXX";
    if (!mkdtemp (dir))
        return 2;
    char *error = NULL;
    zetl_localredis_t *redis = zetl_localredis_start (dir, &error);
    if (!redis) {
        fprintf (stderr, "enrich_bench: %s\n", error);
        return 77;
    }
    const char *url = zetl_localredis_url (redis);
    const struct {
        const char *name;
        int cache, keys;
        bool gate;
    } runs[] = {{"99% hits, 2 000 entries", 2000, 2020, true},
                {"50% hits, 2 000 entries", 2000, 4000, false},
                {"99% hits, 20 000 entries", 20000, 20202, false}};
    uint64_t version = s_load_table (url, dir, 40000);
    zetl_config_t *plain = s_config (url, false, 2000);
    int rc = 0;
    for (size_t run = 0; run < sizeof runs / sizeof runs[0]; run++) {
        zetl_config_t *enriched = s_config (url, true, runs[run].cache);
        zetl_msg_t **batches = s_batches (runs[run].keys, version);
        s_result_t limit = s_run (plain, batches, false);
        s_result_t got = s_run (enriched, batches, true);
        printf ("{\"bench\":\"enrich\",\"run\":\"%s\",\"records_per_s\":%.0f,"
                "\"records_per_cpu_s\":%.0f,\"hit_ratio\":%.3f,\"round_trips_per_batch\":%.2f,"
                "\"limit_records_per_cpu_s\":%.0f,\"ratio_to_limit\":%.2f}\n",
                runs[run].name, got.wall_rate, got.cpu_rate, got.hit_ratio, got.trips_per_batch,
                limit.cpu_rate, got.cpu_rate / limit.cpu_rate);
        if ((runs[run].gate && got.cpu_rate < 1e6) || got.trips_per_batch > 1.0)
            rc = 1;
        for (int batch = 0; batch < S_BATCHES; batch++)
            zetl_msg_destroy (&batches[batch]);
        free (batches);
        zetl_config_destroy (&enriched);
    }
    zetl_config_destroy (&plain);
    zetl_localredis_stop (&redis);
    zsys_dir_delete (dir);
    return rc;
}
