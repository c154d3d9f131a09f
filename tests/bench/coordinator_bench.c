/*  coordinator_bench - the coordinator's path alone, no worker or sink cost

    Records already packed as msgpack (converted from generated booking
    lines before timing) go through what the coordinator does to each:
    partition (xxh3 of the key), content hash and dedup key, watermark
    classification, dedup check, and the append to its partition's batch
    (sealing full batches). Baseline, in the same run: copying the same
    packed records into one buffer. Both timed in this thread's CPU time;
    best of 5 after a warm-up; prints records/s per core and the ratio, and
    exits 1 below 2 000 000 records/s.
*/
#include "zetl_admit.h"
#include "zetl_batches.h"
#include "zetl_chunk.h"
#include "zetl_config.h"
#include "zetl_extract.h"
#include "zetl_jsonl.h"
#include "zetl_record.h"

#define S_RECORDS 1000000
#define S_TARGET 2000000.0

static const char *s_yaml =
    "pipelines:\n"
    "  - id: bench\n"
    "    source: { type: file, path: x.jsonl }\n"
    "    id_field: booking_id\n"
    "    partition_key: hotel_id\n"
    "    event_time: { field: updated_at }\n"
    "    schema:\n"
    "      booking_id: { type: string }\n"
    "      hotel_id: { type: int }\n"
    "      updated_at: { type: timestamp }\n"
    "    sinks:\n"
    "      - { type: postgres, table: b, primary_key: [booking_id] }\n";

typedef struct {
    char *packed;        //  every record, packed
    size_t *offset;      //  of each record
    size_t *len;         //  of each record
    char (*key)[8];      //  partition key text
    char (*id)[16];      //  id text
    int64_t *event_us;   //  event time
} s_input_t;

static void
s_make_input (s_input_t *input)
{
    const char *names[ZETL_EXTRACT_COUNT] = {"hotel_id", "updated_at", "booking_id"};
    zetl_jsonl_t *jsonl = zetl_jsonl_new (names, ZETL_EXTRACT_COUNT);
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    input->offset = (size_t *) malloc (S_RECORDS * sizeof (size_t));
    input->len = (size_t *) malloc (S_RECORDS * sizeof (size_t));
    input->key = malloc (S_RECORDS * sizeof *input->key);
    input->id = malloc (S_RECORDS * sizeof *input->id);
    input->event_us = (int64_t *) malloc (S_RECORDS * sizeof (int64_t));
    for (int index = 0; index < S_RECORDS; index++) {
        char line[512];
        int64_t us = 1767225600000000LL + (int64_t) index * 20000 - (index % 7) * 3000000;
        int len = snprintf (line, sizeof line,
                            "{\"booking_id\":\"BK-%08d\",\"hotel_id\":%d,\"guest_email\":"
                            "\"guest%d@example.com\",\"amount\":%d.50,\"currency\":\"EUR\","
                            "\"status\":\"confirmed\",\"check_in\":\"2026-05-04\",\"nights\":3,"
                            "\"updated_at\":\"%lld\"}",
                            index % 900000, 1 + index % 500, index, index % 1000, (long long) us);
        zetl_field_value_t values[ZETL_EXTRACT_COUNT];
        const char *reason = NULL;
        input->offset[index] = out.size;
        int rc = zetl_jsonl_convert (jsonl, line, (size_t) len, &out, values, &reason);
        assert (rc == 0);
        input->len[index] = out.size - input->offset[index];
        snprintf (input->key[index], sizeof input->key[index], "%.*s",
                  (int) values[ZETL_EXTRACT_KEY].len, values[ZETL_EXTRACT_KEY].ptr);
        snprintf (input->id[index], sizeof input->id[index], "%.*s",
                  (int) values[ZETL_EXTRACT_ID].len, values[ZETL_EXTRACT_ID].ptr);
        input->event_us[index] = us;
    }
    input->packed = out.data;  //  Taken over from the buffer
    zetl_jsonl_destroy (&jsonl);
}

//  CPU time of this thread: records/s per core, and figures that hold on a
//  machine shared with other work
static int64_t
s_cpu_usecs (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

//  What the dispatcher's emit callback needs
typedef struct {
    zetl_batches_t *batches;
    zetl_partition_t *partitions;
} s_take_t;

//  At the dispatcher: each admitted record into its partition's batch, as
//  zetl_dispatch does
static void
s_append (void *arg, const zetl_chunk_t *chunk, const zetl_chunk_record_t *record, uint32_t flags,
          const void *payload, size_t len)
{
    s_take_t *take = (s_take_t *) arg;
    zetl_batches_append (take->batches, &take->partitions[record->partition], chunk->source,
                         record->position, record->event_us, flags, payload, len, 0);
}

//  The coordinator's work per record; returns seconds
static double
s_coordinator (const s_input_t *input, const zetl_pipeline_t *pipeline)
{
    zetl_admit_t *admit = zetl_admit_new (pipeline);
    zetl_batches_t *batches = zetl_batches_new (1);
    zetl_partition_t *partitions =
        zetl_batches_add_pipeline (batches, 0, pipeline->partitions, (uint32_t) pipeline->batch_size);
    s_take_t take = {batches, partitions};
    uint32_t source = zetl_admit_add_source (admit);
    zetl_admit_reading (admit, true, 0);
    zetl_chunk_t *chunk = zetl_chunk_new (0, "bench.jsonl");
    int64_t start = s_cpu_usecs ();
    for (int first = 0; first < S_RECORDS; first += ZETL_CHUNK_RECORDS) {
        int last = first + ZETL_CHUNK_RECORDS < S_RECORDS ? first + ZETL_CHUNK_RECORDS : S_RECORDS;
        //  At the source: the chunk, each record's partition and dedup key
        //  (the content hash read from the packed bytes, as zetl_feed does)
        chunk->data.size = 0;
        chunk->count = 0;
        for (int index = first; index < last; index++) {
            const char *record = input->packed + input->offset[index];
            size_t offset = chunk->data.size;
            msgpack_sbuffer_write (&chunk->data, record, input->len[index]);
            uint32_t partition =
                zetl_extract_partition (pipeline, input->key[index], strlen (input->key[index]));
            zetl_chunk_record_t *entry = zetl_chunk_add (chunk, partition, 0, (uint64_t) index,
                                                         input->event_us[index], offset);
            uint8_t hash[16];
            int rc = zetl_record_hash_packed (chunk->data.data + offset, entry->len, hash);
            assert (rc == 0);
            zetl_dedup_key (&entry->key, input->id[index], strlen (input->id[index]), hash,
                            entry->event_us);
        }
        //  At the dispatcher: admission and the batches, as zetl_dispatch does
        zetl_admit_chunk (admit, source, chunk, 0, s_append, &take);
        //  Sealed batches are committed at once: the cost of keeping them is not ours here
        zetl_partition_t *runnable;
        while ((runnable = zetl_batches_next_runnable (batches))) {
            zetl_batch_t *batch = zetl_batches_take (batches, runnable);
            zetl_batches_commit (batches, batch);
        }
    }
    double seconds = (double) (s_cpu_usecs () - start) / 1e6;
    zetl_chunk_destroy (&chunk);
    zetl_batches_destroy (&batches);
    zetl_admit_destroy (&admit);
    return seconds;
}

static double
s_baseline (const s_input_t *input)
{
    msgpack_sbuffer copy;
    msgpack_sbuffer_init (&copy);
    int64_t start = s_cpu_usecs ();
    for (int index = 0; index < S_RECORDS; index++) {
        if (copy.size > 4 * 1024 * 1024)
            copy.size = 0;
        msgpack_sbuffer_write (&copy, input->packed + input->offset[index], input->len[index]);
    }
    double seconds = (double) (s_cpu_usecs () - start) / 1e6;
    msgpack_sbuffer_destroy (&copy);
    return seconds;
}

int
main (void)
{
    char *error = NULL;
    zetl_config_t *config = zetl_config_parse (s_yaml, strlen (s_yaml), "bench.yaml", &error);
    assert (config);
    s_input_t input;
    s_make_input (&input);
    double best = 1e9, base = 1e9;
    s_coordinator (&input, &config->pipelines[0]);  //  Warm-up
    for (int round = 0; round < 5; round++) {
        double seconds = s_coordinator (&input, &config->pipelines[0]);
        double baseline = s_baseline (&input);
        best = seconds < best ? seconds : best;
        base = baseline < base ? baseline : base;
    }
    double rate = S_RECORDS / best;
    printf ("coordinator_path %.0f ns/rec (%.2f M rec/s), baseline (copying the records) %.0f "
            "ns/rec, ratio %.1f, target %.1f M rec/s: %s\n",
            best * 1e9 / S_RECORDS, rate / 1e6, base * 1e9 / S_RECORDS, best / base,
            S_TARGET / 1e6, rate >= S_TARGET ? "ok" : "BELOW");
    free (input.packed);
    free (input.offset);
    free (input.len);
    free (input.key);
    free (input.id);
    free (input.event_us);
    zetl_config_destroy (&config);
    return rate >= S_TARGET ? 0 : 1;
}
