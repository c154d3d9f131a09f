/*  config_test - zetl_config: defaults, ranges, types, cross-checks, messages, docs

    Most cases build a YAML text from s_template with one extra line in one of
    four slots (cluster, pipeline, schema column, sink), or from s_producer (a
    pipeline fed by producers, given its schema and sinks), so every message
    can be checked byte for byte, line number included. Cases that repeat are
    tables run by one loop.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "zetl_config.h"

#define S_NAME "pipeline.yaml"

//  Lines 3, 9, 15 and 20 are the slots: a line is dropped in there, or a comment
static const char *s_template = "cluster:\n"                                            //  1
                                "  name: test\n"                                        //  2
                                "%s\n"                                                  //  3
                                "pipelines:\n"                                          //  4
                                "  - id: bookings\n"                                    //  5
                                "    source: { type: file, path: data/b.jsonl }\n"      //  6
                                "    partition_key: hotel_id\n"                         //  7
                                "    event_time: { field: updated_at }\n"               //  8
                                "%s\n"                                                  //  9
                                "    schema:\n"                                         //  10
                                "      booking_id: { type: string, required: true }\n"  //  11
                                "      hotel_id: { type: int }\n"                       //  12
                                "      updated_at: { type: timestamp }\n"               //  13
                                "      check_in: { type: date }\n"                      //  14
                                "%s\n"                                                  //  15
                                "    sinks:\n"                                          //  16
                                "      - type: postgres\n"                              //  17
                                "        table: bookings\n"                             //  18
                                "        primary_key: [booking_id]\n"                   //  19
                                "%s\n";                                                 //  20

enum { S_CLUSTER, S_PIPELINE, S_COLUMN, S_SINK };

//  The template with LINE in SLOT. Caller frees.
static char *
s_yaml (int slot, const char *line)
{
    const char *lines[4] = {"  # cluster", "    # pipeline", "      # column", "        # sink"};
    if (line)
        lines[slot] = line;
    size_t size = strlen (s_template) + 1;
    for (int index = 0; index < 4; index++)
        size += strlen (lines[index]);
    char *text = malloc (size);
    assert_non_null (text);
    snprintf (text, size, s_template, lines[0], lines[1], lines[2], lines[3]);
    return text;
}

static zetl_config_t *
s_parse (const char *text, char **error)
{
    return zetl_config_parse (text, strlen (text), S_NAME, error);
}

//  TEXT must load; returns the configuration
static zetl_config_t *
s_expect_ok (const char *text)
{
    char *error = NULL;
    zetl_config_t *config = s_parse (text, &error);
    if (!config)
        fail_msg ("refused: %s\n--- text:\n%s", error, text);
    assert_null (error);
    return config;
}

//  TEXT must be refused with exactly EXPECTED
static void
s_expect_error (const char *text, const char *expected)
{
    char *error = NULL;
    zetl_config_t *config = s_parse (text, &error);
    if (config)
        fail_msg ("accepted, expected: %s\n--- text:\n%s", expected, text);
    assert_non_null (error);
    if (strcmp (error, expected))
        fail_msg ("got:      %s\nexpected: %s", error, expected);
    free (error);
}

static void
s_slot_ok (int slot, const char *line)
{
    char *text = s_yaml (slot, line);
    zetl_config_t *config = s_expect_ok (text);
    zetl_config_destroy (&config);
    free (text);
}

static void
s_slot_error (int slot, const char *line, const char *expected)
{
    char *text = s_yaml (slot, line);
    s_expect_error (text, expected);
    free (text);
}

//  A pipeline fed by producers: "pipelines:", the pipeline's id p and its
//  source, partition_key KEY, the event_time field TIME_FIELD, then the
//  SCHEMA and SINKS lines (each ending in a newline). Caller frees.
static char *
s_producer (const char *key, const char *time_field, const char *schema, const char *sinks)
{
    char *text = NULL;
    assert_true (asprintf (&text,
                           "pipelines:\n"
                           "  - id: p\n"
                           "    source: { type: producer }\n"
                           "    partition_key: %s\n"
                           "    event_time: { field: %s }\n"
                           "%s%s",
                           key, time_field, schema, sinks) > 0);
    return text;
}

//  The SCHEMA and SINKS lines most s_producer cases use
#define S_ONE_COLUMN "    schema: { k: { type: timestamp } }\n"
#define S_FILES_SINK "    sinks: [{ type: files, path: out }]\n"

static void
s_producer_error (const char *key, const char *time_field, const char *schema, const char *sinks,
                  const char *expected)
{
    char *text = s_producer (key, time_field, schema, sinks);
    s_expect_error (text, expected);
    free (text);
}

#define S_COUNT(array) (sizeof (array) / sizeof (array)[0])

//  A text a loaded configuration holds, and what it must be
typedef struct {
    const char *what;      //  the expression, for the failure message
    const char *actual;    //  its value
    const char *expected;  //  NULL: the value must be NULL
} s_string_check_t;

// clang-format off
#define S_STRING(actual, expected) {#actual, (actual), (expected)}
// clang-format on

static void
s_check_strings (const s_string_check_t *checks, size_t count)
{
    for (size_t index = 0; index < count; index++) {
        const s_string_check_t *check = &checks[index];
        if (!check->expected && check->actual)
            fail_msg ("%s is \"%s\", expected NULL", check->what, check->actual);
        if (check->expected && (!check->actual || strcmp (check->actual, check->expected)))
            fail_msg ("%s is %s%s%s, expected \"%s\"", check->what, check->actual ? "\"" : "",
                      check->actual ? check->actual : "NULL", check->actual ? "\"" : "",
                      check->expected);
    }
}

//  A number or a bool a loaded configuration holds, and what it must be
typedef struct {
    const char *what;  //  the expression, for the failure message
    int64_t actual;    //  its value
    int64_t expected;  //  what it must be
} s_int_check_t;

// clang-format off
#define S_INT(actual, expected) {#actual, (int64_t) (actual), (int64_t) (expected)}
// clang-format on

static void
s_check_ints (const s_int_check_t *checks, size_t count)
{
    for (size_t index = 0; index < count; index++)
        if (checks[index].actual != checks[index].expected)
            fail_msg ("%s is %lld, expected %lld", checks[index].what,
                      (long long) checks[index].actual, (long long) checks[index].expected);
}

//  --------------------------------------------------------------------------

static void
test_template_loads (void **state)
{
    (void) state;
    char *text = s_yaml (S_PIPELINE, NULL);
    zetl_config_t *config = s_expect_ok (text);
    assert_string_equal (config->path, S_NAME);
    assert_int_equal (config->text_len, strlen (text));
    assert_memory_equal (config->text, text, strlen (text) + 1);  //  NUL-terminated copy
    assert_true (config->hash == XXH3_64bits (text, strlen (text)));
    assert_int_equal (config->pipeline_count, 1);
    const zetl_pipeline_t *pipeline = zetl_config_pipeline (config, "bookings");
    assert_ptr_equal (pipeline, &config->pipelines[0]);
    assert_null (zetl_config_pipeline (config, "payments"));
    assert_int_equal (pipeline->field_count, 4);
    assert_int_equal (zetl_pipeline_field_index (pipeline, "booking_id"), 0);
    assert_int_equal (zetl_pipeline_field_index (pipeline, "check_in"), 3);
    assert_int_equal (zetl_pipeline_field_index (pipeline, "amount"), -1);
    assert_int_equal (pipeline->target_count, 1);
    assert_string_equal (pipeline->targets[0].name, "postgres:bookings");
    zetl_config_destroy (&config);
    assert_null (config);
    zetl_config_destroy (&config);  //  A second call does nothing
    free (text);
}

static void
test_every_default (void **state)
{
    (void) state;
    const char *text = "pipelines:\n"
                       "  - id: p\n"
                       "    source: { type: file, path: in.jsonl }\n"
                       "    partition_key: k\n"
                       "    event_time: { field: t }\n"
                       "    schema: { k: { type: string }, t: { type: timestamp },\n"
                       "              n: { type: number } }\n"
                       "    sinks:\n"
                       "      - { type: postgres, table: t1, primary_key: [k] }\n"
                       "      - { type: files, path: out/p }\n";
    zetl_config_t *config = s_expect_ok (text);
    const zetl_pipeline_t *pipeline = &config->pipelines[0];
    assert_int_equal (pipeline->field_count, 3);
    assert_int_equal (pipeline->target_count, 2);
    const zetl_field_t *field = &pipeline->fields[2];
    const zetl_target_t *pg = &pipeline->targets[0];
    const zetl_target_t *files = &pipeline->targets[1];
    assert_null (field->enum_values);

    const s_string_check_t strings[] = {
        S_STRING (config->cluster.name, "local"),
        S_STRING (config->cluster.producers, "tcp://*:5570"),
        S_STRING (config->cluster.workers, "tcp://*:5571"),
        S_STRING (config->cluster.sinks, "tcp://*:5572"),
        S_STRING (config->cluster.events, "tcp://*:5573"),
        S_STRING (config->cluster.http, "127.0.0.1:8080"),
        S_STRING (config->postgres, NULL),
        S_STRING (config->redis, NULL),
        S_STRING (pipeline->id, "p"),
        S_STRING (pipeline->source.path, "in.jsonl"),
        S_STRING (pipeline->id_field, NULL),
        S_STRING (pipeline->partition_key, "k"),
        S_STRING (pipeline->event_time.field, "t"),
        S_STRING (pipeline->event_time.strftime, NULL),
        S_STRING (field->name, "n"),
        S_STRING (field->regex, NULL),
        S_STRING (pg->name, "postgres:t1"),
        S_STRING (pg->table, "t1"),
        S_STRING (pg->primary_key[0], "k"),
        S_STRING (pg->partition_by_day, NULL),
        S_STRING (pg->path, NULL),
        S_STRING (files->name, "files:out/p"),
        S_STRING (files->path, "out/p"),
        S_STRING (files->compression, "none"),
        S_STRING (files->table, NULL),
    };
    s_check_strings (strings, S_COUNT (strings));
    const s_int_check_t numbers[] = {
        S_INT (pipeline->source.type, ZETL_SOURCE_FILE),
        S_INT (pipeline->source.format, ZETL_FORMAT_JSONL),
        S_INT (pipeline->source.delimiter, ','),
        S_INT (pipeline->source.follow, false),
        S_INT (pipeline->partitions, 64),
        S_INT (pipeline->event_time.kind, ZETL_TIME_ISO8601),
        S_INT (pipeline->watermark_delay_ms, 15 * 60 * 1000),
        S_INT (pipeline->late_window_ms, 24 * 3600 * 1000),
        S_INT (pipeline->dedup_window_ms, 60 * 60 * 1000),
        S_INT (pipeline->dedup_memory_bytes, 256 * 1024 * 1024),
        S_INT (pipeline->too_late_accept, 0),
        S_INT (pipeline->idle_timeout_ms, 5 * 60 * 1000),
        S_INT (pipeline->ordered, false),
        S_INT (pipeline->batch_size, 1000),
        S_INT (pipeline->batch_linger_ms, 100),
        S_INT (pipeline->batch_timeout_ms, 30 * 1000),
        S_INT (pipeline->max_retries, 3),
        S_INT (pipeline->retry_delay_ms, 5 * 1000),
        S_INT (field->type, ZETL_TYPE_NUMBER),
        S_INT (field->required, false),
        S_INT (field->has_min, false),
        S_INT (field->has_max, false),
        S_INT (field->max_len, 0),
        S_INT (field->enum_count, 0),
        S_INT (pg->type, ZETL_TARGET_POSTGRES),
        S_INT (pg->primary_key_count, 1),
        S_INT (pg->retention_ms, INT64_C (90) * 86400 * 1000),
        S_INT (pg->sink_batch_rows, 10000),
        S_INT (pg->sink_linger_ms, 20),
        S_INT (pg->connections, 2),
        S_INT (files->type, ZETL_TARGET_FILES),
        S_INT (files->format, ZETL_FORMAT_JSONL),
    };
    s_check_ints (numbers, S_COUNT (numbers));
    zetl_config_destroy (&config);
}

static void
test_values_are_read (void **state)
{
    (void) state;
    const char *text =
        "cluster:\n"
        "  name: eu-west\n"
        "  producers: ipc:///tmp/zetl/producers\n"
        "  http: \"[::1]:9090\"\n"
        "postgres: \"host=/tmp/zetl dbname=zetl\"\n"
        "redis: unix:///tmp/zetl/redis.sock\n"
        "pipelines:\n"
        "  - id: csv-in\n"
        "    source: { type: file, path: \"in/*.csv\", format: csv, delimiter: \"\\t\",\n"
        "              follow: true }\n"
        "    id_field: id\n"
        "    partition_key: id\n"
        "    partitions: 8\n"
        "    event_time: { field: at, format: \"%d/%m/%Y %H:%M\" }\n"
        "    ordered: true\n"
        "    schema:\n"
        "      id: { type: int, required: true, min: -5, max: 1e3 }\n"
        "      at: { type: timestamp }\n"
        "      day: { type: date }\n"
        "      code: { type: string, max_len: 3, enum: [a, \"b\", 'c'], regex: \"^[a-c]$\" }\n"
        "      price: { type: number, min: 0.5 }\n"
        "      ok: { type: bool }\n"
        "    sinks:\n"
        "      - type: postgres\n"
        "        table: _t2\n"
        "        primary_key: [id, day]\n"
        "        partition_by_day: day\n"
        "      - { type: files, path: out, format: csv, compression: zstd }\n"
        "  - id: from-producers\n"
        "    source: { type: producer }\n"
        "    partition_key: k\n"
        "    event_time: { field: t, format: unix_ms }\n"
        "    schema: { k: { type: string }, t: { type: timestamp } }\n"
        "    sinks: [{ type: files, path: out2, compression: gzip }]\n";
    zetl_config_t *config = s_expect_ok (text);
    assert_int_equal (config->pipeline_count, 2);
    const zetl_pipeline_t *pipeline = &config->pipelines[0];
    const zetl_pipeline_t *second = zetl_config_pipeline (config, "from-producers");
    assert_non_null (second);
    const zetl_field_t *id = &pipeline->fields[0];
    const zetl_field_t *code = &pipeline->fields[3];
    const zetl_target_t *pg = &pipeline->targets[0];
    const zetl_target_t *files = &pipeline->targets[1];
    assert_int_equal (code->enum_count, 3);
    assert_int_equal (pg->primary_key_count, 2);
    assert_true (id->has_min && id->has_max);
    assert_true (id->min == -5.0 && id->max == 1000.0);
    assert_true (pipeline->fields[4].has_min && pipeline->fields[4].min == 0.5);

    const s_string_check_t strings[] = {
        S_STRING (config->cluster.name, "eu-west"),
        S_STRING (config->cluster.producers, "ipc:///tmp/zetl/producers"),
        S_STRING (config->cluster.workers, "tcp://*:5571"),
        S_STRING (config->cluster.http, "[::1]:9090"),
        S_STRING (config->postgres, "host=/tmp/zetl dbname=zetl"),
        S_STRING (config->redis, "unix:///tmp/zetl/redis.sock"),
        S_STRING (pipeline->id_field, "id"),
        S_STRING (pipeline->event_time.strftime, "%d/%m/%Y %H:%M"),
        S_STRING (code->enum_values[0], "a"),
        S_STRING (code->enum_values[2], "c"),
        S_STRING (code->regex, "^[a-c]$"),
        S_STRING (pg->name, "postgres:_t2"),
        S_STRING (pg->primary_key[1], "day"),
        S_STRING (pg->partition_by_day, "day"),
        S_STRING (files->compression, "zstd"),
        S_STRING (second->source.path, NULL),
        S_STRING (second->event_time.strftime, NULL),
        S_STRING (second->targets[0].name, "files:out2"),
        S_STRING (second->targets[0].compression, "gzip"),
    };
    s_check_strings (strings, S_COUNT (strings));
    const s_int_check_t numbers[] = {
        S_INT (pipeline->source.format, ZETL_FORMAT_CSV),
        S_INT (pipeline->source.delimiter, '\t'),
        S_INT (pipeline->source.follow, true),
        S_INT (pipeline->partitions, 8),
        S_INT (pipeline->event_time.kind, ZETL_TIME_STRFTIME),
        S_INT (pipeline->ordered, true),
        S_INT (id->type, ZETL_TYPE_INT),
        S_INT (id->required, true),
        S_INT (code->max_len, 3),
        S_INT (pipeline->fields[4].has_max, false),
        S_INT (pipeline->fields[5].type, ZETL_TYPE_BOOL),
        S_INT (files->format, ZETL_FORMAT_CSV),
        S_INT (second->source.type, ZETL_SOURCE_PRODUCER),
        S_INT (second->event_time.kind, ZETL_TIME_UNIX_MS),
    };
    s_check_ints (numbers, S_COUNT (numbers));
    zetl_config_destroy (&config);
}

//  --------------------------------------------------------------------------
//  Ranges: exactly min and max are accepted, one beyond is refused

//  How the line of a slot holds a key and its value, and the key's path
static const struct {
    const char *line;  //  printf pattern: the key, then the value
    const char *path;  //  printf pattern: the key
    int line_number;   //  the slot's line in s_template
} s_slots[] = {
    [S_PIPELINE] = {"    %s: %s", "pipelines[0].%s", 9},
    [S_COLUMN] = {"      note: { type: string, %s: %s }", "pipelines[0].schema.note.%s", 15},
    [S_SINK] = {"        %s: %s", "pipelines[0].sinks[0].%s", 20},
};

typedef struct {
    int slot;
    const char *key;
    size_t offset;    //  where the value is read: in the pipeline, its first sink or its
    size_t size;      //  fifth column (the slot says which), and its size
    const char *min;  //  smallest accepted value, and what it reads as
    int64_t min_value;
    const char *max;
    int64_t max_value;
    const char *below;  //  one below min, NULL when min is 0 and below is not even valid
    const char *above;  //  one above max
    const char *hint;   //  "use 100..10000 (default 1000)"
} s_range_case_t;

#define S_IN(type, member) offsetof (type, member), sizeof (((type *) 0)->member)
#define S_DAY_MS (INT64_C (86400000))

// clang-format off
static const s_range_case_t s_ranges[] = {
    {S_PIPELINE, "partitions", S_IN (zetl_pipeline_t, partitions),
     "1", 1, "4096", 4096, "0", "4097", "use 1..4096 (default 64)"},
    {S_PIPELINE, "watermark_delay", S_IN (zetl_pipeline_t, watermark_delay_ms),
     "0", 0, "24h", S_DAY_MS, NULL, "86400001ms", "use 0..1d (default 15m)"},
    {S_PIPELINE, "late_window", S_IN (zetl_pipeline_t, late_window_ms),
     "0ms", 0, "30d", 30 * S_DAY_MS, NULL, "2592000001ms", "use 0..30d (default 24h)"},
    {S_PIPELINE, "dedup_window", S_IN (zetl_pipeline_t, dedup_window_ms),
     "0s", 0, "7d", 7 * S_DAY_MS, NULL, "604800001ms", "use 0..7d (default 60m)"},
    {S_PIPELINE, "dedup_memory", S_IN (zetl_pipeline_t, dedup_memory_bytes),
     "1MiB", 1 << 20, "1024GiB", 1LL << 40, "1048575B", "1099511627777B",
     "use 1MiB..1024GiB (default 256MiB)"},
    {S_PIPELINE, "idle_timeout", S_IN (zetl_pipeline_t, idle_timeout_ms),
     "1s", 1000, "1440m", S_DAY_MS, "999ms", "86400001ms", "use 1s..1d (default 5m)"},
    {S_PIPELINE, "batch_size", S_IN (zetl_pipeline_t, batch_size),
     "100", 100, "10000", 10000, "99", "10001", "use 100..10000 (default 1000)"},
    {S_PIPELINE, "batch_linger", S_IN (zetl_pipeline_t, batch_linger_ms),
     "0", 0, "60s", 60000, NULL, "60001ms", "use 0..1m (default 100ms)"},
    {S_PIPELINE, "batch_timeout", S_IN (zetl_pipeline_t, batch_timeout_ms),
     "1000ms", 1000, "1d", S_DAY_MS, "999ms", "86400001ms", "use 1s..1d (default 30s)"},
    {S_PIPELINE, "max_retries", S_IN (zetl_pipeline_t, max_retries),
     "0", 0, "100", 100, "-1", "101", "use 0..100 (default 3)"},
    {S_PIPELINE, "retry_delay", S_IN (zetl_pipeline_t, retry_delay_ms),
     "1ms", 1, "1h", 3600000, "0", "3600001ms", "use 1ms..1h (default 5s)"},
    {S_SINK, "retention", S_IN (zetl_target_t, retention_ms),
     "1d", S_DAY_MS, "3650d", 3650 * S_DAY_MS, "86399999ms", "315360000001ms",
     "use 1d..3650d (default 90d)"},
    {S_SINK, "sink_batch_rows", S_IN (zetl_target_t, sink_batch_rows),
     "1", 1, "1000000", 1000000, "0", "1000001", "use 1..1000000 (default 10000)"},
    {S_SINK, "sink_linger", S_IN (zetl_target_t, sink_linger_ms),
     "0", 0, "1m", 60000, NULL, "60001ms", "use 0..1m (default 20ms)"},
    {S_SINK, "connections", S_IN (zetl_target_t, connections),
     "1", 1, "64", 64, "0", "65", "use 1..64 (default 2)"},
    {S_COLUMN, "max_len", S_IN (zetl_field_t, max_len),
     "0", 0, "1073741823", 1073741823, "-1", "1073741824", "use 0..1073741823 (default 0)"},
};
// clang-format on

//  The value the case's key was read as
static int64_t
s_range_value (const zetl_config_t *config, const s_range_case_t *range_case)
{
    const zetl_pipeline_t *pipeline = &config->pipelines[0];
    const void *sections[] = {[S_PIPELINE] = pipeline,
                              [S_COLUMN] = &pipeline->fields[4],
                              [S_SINK] = &pipeline->targets[0]};
    const char *field = (const char *) sections[range_case->slot] + range_case->offset;
    if (range_case->size == sizeof (uint32_t)) {
        uint32_t value;
        memcpy (&value, field, sizeof value);
        return value;
    }
    assert_int_equal (range_case->size, sizeof (int64_t));
    int64_t value;
    memcpy (&value, field, sizeof value);
    return value;
}

//  The slot's line with the case's key set to VALUE
static char *
s_range_yaml (const s_range_case_t *range_case, const char *value)
{
    char line[128];
    snprintf (line, sizeof line, s_slots[range_case->slot].line, range_case->key, value);
    return s_yaml (range_case->slot, line);
}

static void
s_range_accepts (const s_range_case_t *range_case, const char *value, int64_t expected)
{
    char *text = s_range_yaml (range_case, value);
    zetl_config_t *config = s_expect_ok (text);
    if (s_range_value (config, range_case) != expected)
        fail_msg ("%s: %s read as %lld, expected %lld", range_case->key, value,
                  (long long) s_range_value (config, range_case), (long long) expected);
    zetl_config_destroy (&config);
    free (text);
}

static void
s_range_refuses (const s_range_case_t *range_case, const char *value)
{
    char path[128], expected[256];
    snprintf (path, sizeof path, s_slots[range_case->slot].path, range_case->key);
    snprintf (expected, sizeof expected, S_NAME ":%d: %s: %s is out of range; %s",
              s_slots[range_case->slot].line_number, path, value, range_case->hint);
    char *text = s_range_yaml (range_case, value);
    s_expect_error (text, expected);
    free (text);
}

static void
test_range_edges (void **state)
{
    (void) state;
    for (size_t index = 0; index < S_COUNT (s_ranges); index++) {
        const s_range_case_t *range_case = &s_ranges[index];
        s_range_accepts (range_case, range_case->min, range_case->min_value);
        s_range_accepts (range_case, range_case->max, range_case->max_value);
        if (range_case->below)
            s_range_refuses (range_case, range_case->below);
        s_range_refuses (range_case, range_case->above);
    }
}

static void
test_negative_duration_is_not_a_duration (void **state)
{
    (void) state;
    s_slot_error (S_PIPELINE, "    watermark_delay: -1s",
                  S_NAME ":9: pipelines[0].watermark_delay: \"-1s\" is not a duration; use a whole "
                         "number and a unit (ms, s, m, h, d) in 0..1d (default 15m)");
}

//  --------------------------------------------------------------------------
//  Unknown keys, at each level, with their line

static void
test_unknown_key_at_each_level (void **state)
{
    (void) state;
    s_expect_error ("clustre:\n  name: x\npipelines: []\n",
                    S_NAME ":1: clustre: unknown key; expected one of: cluster, postgres, redis, "
                           "lookup, pipelines");
    s_slot_error (S_CLUSTER, "  nmae: eu",
                  S_NAME ":3: cluster.nmae: unknown key; expected one of: name, producers, "
                         "workers, sinks, events, http");
    s_slot_error (S_PIPELINE, "    sourse: x",
                  S_NAME ":9: pipelines[0].sourse: unknown key; expected one of: id, source, "
                         "id_field, delete_field, partition_key, partitions, event_time, watermark_delay, "
                         "late_window, dedup_window, dedup_memory, too_late, idle_timeout, ordered, acknowledgements, reorder_records, reorder_memory, batch_size, "
                         "batch_linger, batch_timeout, max_retries, retry_delay, schema, transform, enrich, sinks");
    s_slot_error (S_COLUMN, "      amount: { type: number, minimum: 0 }",
                  S_NAME ":15: pipelines[0].schema.amount.minimum: unknown key; expected one of: "
                         "type, required, min, max, max_len, enum, regex");
    s_slot_error (S_SINK, "        tabel: bookings",
                  S_NAME ":20: pipelines[0].sinks[0].tabel: unknown key; expected one of: type, "
                         "table, primary_key, partition_by_day, retention, sink_batch_rows, "
                         "sink_linger, connections, max_future");
    s_expect_error ("pipelines:\n"
                    "  - id: p\n"
                    "    source:\n"
                    "      type: file\n"
                    "      path: in.jsonl\n"
                    "      folow: true\n",
                    S_NAME ":6: pipelines[0].source.folow: unknown key; expected one of: type, "
                           "path, format, delimiter, follow");
    s_expect_error ("pipelines:\n"
                    "  - id: p\n"
                    "    event_time:\n"
                    "      field: t\n"
                    "      fromat: unix_ms\n",
                    S_NAME ":5: pipelines[0].event_time.fromat: unknown key; expected one of: "
                           "field, format");
    s_expect_error ("pipelines:\n"
                    "  - id: p\n"
                    "    source: { type: producer,\n"
                    "              topic: x }\n",
                    S_NAME ":4: pipelines[0].source.topic: unknown key; expected one of: type");
}

static void
test_key_of_another_type (void **state)
{
    (void) state;
    s_expect_error ("pipelines:\n"
                    "  - id: p\n"
                    "    source: { type: producer, path: x.jsonl }\n",
                    S_NAME ":3: pipelines[0].source.path: is not used by type producer; remove it "
                           "(it applies to type file)");
    s_slot_error (S_SINK, "        compression: gzip",
                  S_NAME ":20: pipelines[0].sinks[0].compression: is not used by type postgres; "
                         "remove it (it applies to type files)");
}

//  Transform steps and enrichments: read in order, each step one key; the
//  enrichments' output fields the schema lacks become string columns
static void
test_transform_and_enrich (void **state)
{
    (void) state;
    char *text = s_yaml (S_PIPELINE,
                         "    transform:\n"
                         "      - trim: [status, guest_email]\n"
                         "      - default: { currency: EUR, note: \"\" }\n"
                         "      - rename: { amt: amount }\n"
                         "      - cast: { nights: int }\n"
                         "      - compute: { hotel_id: \"coalesce(hotel, 0) + 1\" }\n"
                         "      - utm: { campaign: utm_campaign, source: utm_source }\n"
                         "    enrich:\n"
                         "      - { table: hotels, key: hotel_id, fields: { region: region, "
                         "check_in: opened } }\n"
                         "      - { table: chains, key: chain, fields: { chain_name: name }, "
                         "on_miss: keep }");
    zetl_config_t *config = s_expect_ok (text);
    const zetl_pipeline_t *pipeline = &config->pipelines[0];
    assert_int_equal (pipeline->step_count, 6);
    assert_int_equal (pipeline->steps[0].kind, ZETL_STEP_TRIM);
    assert_int_equal (pipeline->steps[0].count, 2);
    assert_string_equal (pipeline->steps[0].args[1], "guest_email");
    assert_int_equal (pipeline->steps[1].kind, ZETL_STEP_DEFAULT);
    assert_string_equal (pipeline->steps[1].args[2], "note");
    assert_string_equal (pipeline->steps[1].args[3], "");
    assert_int_equal (pipeline->steps[4].kind, ZETL_STEP_COMPUTE);
    assert_int_equal (pipeline->steps[5].kind, ZETL_STEP_UTM);
    assert_int_equal (pipeline->enrich_count, 2);
    assert_int_equal (pipeline->enrich[0].on_miss, ZETL_ON_MISS_DEAD_LETTER);
    assert_int_equal (pipeline->enrich[1].on_miss, ZETL_ON_MISS_KEEP);
    //  region and chain_name join the schema as strings; check_in keeps its type
    assert_int_equal (pipeline->field_count, 6);
    assert_string_equal (pipeline->fields[4].name, "region");
    assert_string_equal (pipeline->fields[5].name, "chain_name");
    assert_int_equal (pipeline->fields[5].type, ZETL_TYPE_STRING);
    assert_int_equal (config->lookup.cache_entries, 100000);
    assert_int_equal (config->lookup.max_stale_ms, 600000);
    zetl_config_destroy (&config);
    free (text);
}

static void
test_transform_and_enrich_errors (void **state)
{
    (void) state;
    s_slot_error (S_PIPELINE, "    transform: [{ trim: [a], lower: [b] }]",
                  S_NAME ":9: pipelines[0].transform[0]: has 2 steps; give exactly one of trim, "
                         "lower, upper, default, rename, drop, cast, utc, compute, utm per item");
    s_slot_error (S_PIPELINE, "    transform: [{ cast: { a: integer } }]",
                  S_NAME ":9: pipelines[0].transform[0].cast.a: \"integer\" is not a type; use "
                         "one of: string, int, number, bool, timestamp, date");
    s_slot_error (S_PIPELINE, "    transform: [{ utm: { campain: c } }]",
                  S_NAME ":9: pipelines[0].transform[0].utm.campain: \"campain\" is not a UTM "
                         "parameter; use campaign, source, medium, term or content");
    s_slot_error (S_PIPELINE, "    transform: [{ compute: { hotel_id: \"a * \" } }]",
                  S_NAME ":9: pipelines[0].transform[0].compute.hotel_id: column 5: expected an "
                         "operand after '*' in \"a * \"");
    s_slot_error (S_PIPELINE, "    transform: [{ compute: { total: \"1\" } }]",
                  S_NAME ":9: pipelines[0].transform[0].compute.total: \"total\" is not a column "
                         "of the schema; declare it there with its type, such as total: { type: "
                         "number }");
    s_slot_error (S_PIPELINE, "    transform: [{ default: {} }]",
                  S_NAME ":9: pipelines[0].transform[0].default: is empty; give at least one "
                         "name: value");
    s_slot_error (S_PIPELINE, "    enrich: [{ table: hotels, key: k, fields: { Region: r } }]",
                  S_NAME ":9: pipelines[0].enrich[0].fields.Region: \"Region\" is not a valid "
                         "column name; " "use lowercase letters, digits and _, starting with a letter or _, at most 63 bytes, not starting with zetl_");
    s_slot_error (S_PIPELINE, "    enrich: [{ table: hotels, key: k, fields: { r: r }, on_miss: "
                              "drop }]",
                  S_NAME ":9: pipelines[0].enrich[0].on_miss: \"drop\" is not allowed; use one "
                         "of: dead_letter, null, keep (default dead_letter)");
}

static void
test_duplicate_keys (void **state)
{
    (void) state;
    s_slot_error (S_PIPELINE, "    partition_key: booking_id",
                  S_NAME ":9: pipelines[0].partition_key: duplicate key (first at line 7); keep "
                         "one");
    s_slot_error (S_COLUMN, "      hotel_id: { type: string }",
                  S_NAME ":15: pipelines[0].schema.hotel_id: duplicate key (first at line 12); "
                         "keep one");
    s_slot_error (S_CLUSTER, "  name: again",
                  S_NAME ":3: cluster.name: duplicate key (first at line 2); keep one");
    s_slot_error (S_SINK, "        type: files",
                  S_NAME ":20: pipelines[0].sinks[0].type: duplicate key (first at line 17); "
                         "keep one");
    s_expect_error ("pipelines:\n  - { id: p, id: q }\n",
                    S_NAME ":2: pipelines[0].id: duplicate key (first at line 2); keep one");
}

static void
test_missing_required_keys (void **state)
{
    (void) state;
    s_expect_error ("cluster: { name: x }\n",
                    S_NAME ":1: pipelines: required key is missing; add it (the pipelines this "
                           "cluster runs)");
    s_expect_error ("pipelines: []\n",
                    S_NAME ":1: pipelines: is empty; add at least one entry (the pipelines this "
                           "cluster runs)");
    s_expect_error ("pipelines:\n"
                    "  - id: p\n"
                    "    source: { type: file, path: x }\n"
                    "    event_time: { field: t }\n"
                    "    schema: { t: { type: timestamp } }\n"
                    "    sinks: [{ type: files, path: out }]\n",
                    S_NAME ":2: pipelines[0].partition_key: required key is missing; add it "
                           "(schema column whose value picks the partition; records of one key "
                           "keep their order)");
    s_expect_error ("pipelines:\n"
                    "  - id: p\n"
                    "    source: { type: file }\n",
                    S_NAME ":3: pipelines[0].source.path: required key is missing; add it (a "
                           "file, a directory or a glob such as data/bookings/*.jsonl)");
    s_expect_error ("pipelines:\n"
                    "  - id: p\n"
                    "    source: { path: x }\n",
                    S_NAME ":3: pipelines[0].source.type: required key is missing; add it (where "
                           "records come from: JSONL/CSV files, producers over ZeroMQ, a "
                           "PostgreSQL table, an HTTP API)");
    s_slot_error (S_COLUMN, "      amount: { required: true }",
                  S_NAME ":15: pipelines[0].schema.amount.type: required key is missing; add it "
                         "(value type: number is an exact decimal, timestamp is ISO 8601 (stored "
                         "UTC), date is YYYY-MM-DD)");
    s_producer_error ("k", "k", S_ONE_COLUMN,
                      "    sinks:\n"
                      "      - type: postgres\n"
                      "        primary_key: [k]\n",
                      S_NAME ":8: pipelines[0].sinks[0].table: required key is missing; add it "
                             "(target table, created from the schema if missing)");
    s_producer_error ("k", "k", "    schema: {}\n", "",
                      S_NAME ":6: pipelines[0].schema: is empty; add at least one column");
    s_producer_error ("k", "k", S_ONE_COLUMN, "    sinks: []\n",
                      S_NAME ":7: pipelines[0].sinks: is empty; add at least one entry (where "
                             "the pipeline's records go: one or more targets, each written by "
                             "the sinks)");
}

//  --------------------------------------------------------------------------
//  Types

static void
test_bad_types (void **state)
{
    (void) state;
    s_slot_error (S_PIPELINE, "    batch_size: abc",
                  S_NAME ":9: pipelines[0].batch_size: \"abc\" is not an integer; use "
                         "100..10000 (default 1000)");
    s_slot_error (S_PIPELINE, "    partitions: 1.5",
                  S_NAME ":9: pipelines[0].partitions: \"1.5\" is not an integer; use 1..4096 "
                         "(default 64)");
    s_slot_error (S_PIPELINE, "    batch_size: [1000]",
                  S_NAME ":9: pipelines[0].batch_size: expected an integer, not a list");
    s_slot_error (S_PIPELINE, "    batch_size:",
                  S_NAME ":9: pipelines[0].batch_size: expected an integer, not an empty value; "
                         "give a value or remove the key");
    s_slot_error (S_PIPELINE, "    ordered: yes",
                  S_NAME ":9: pipelines[0].ordered: \"yes\" is not a bool; use true or false "
                         "(default false)");
    s_slot_error (S_PIPELINE, "    ordered: true\n    acknowledgements: false",
                  S_NAME ":10: pipelines[0].acknowledgements: ordered: true needs acknowledgements: "
                         "the order holds only while each partition waits for its batch to commit");
    s_slot_ok (S_PIPELINE, "    acknowledgements: false");
    s_slot_error (S_PIPELINE, "    watermark_delay: 15",
                  S_NAME ":9: pipelines[0].watermark_delay: \"15\" is not a duration; use a whole "
                         "number and a unit (ms, s, m, h, d) in 0..1d (default 15m)");
    s_slot_error (S_PIPELINE, "    dedup_window: 1.5h",
                  S_NAME ":9: pipelines[0].dedup_window: \"1.5h\" is not a duration; use a whole "
                         "number and a unit (ms, s, m, h, d) in 0..7d (default 60m)");
    s_slot_error (S_PIPELINE, "    id_field: { name: booking_id }",
                  S_NAME ":9: pipelines[0].id_field: expected a column name, not a mapping");
    s_slot_error (S_CLUSTER, "  producers: localhost:5570",
                  S_NAME ":3: cluster.producers: \"localhost:5570\" is not a ZeroMQ endpoint; use "
                         "tcp://host:port, ipc://path or inproc://name (default tcp://*:5570)");
    s_slot_error (S_CLUSTER, "  http: 8080",
                  S_NAME ":3: cluster.http: \"8080\" is not host:port; use an address and a port "
                         "such as 127.0.0.1:8080 (default 127.0.0.1:8080)");
    s_slot_error (S_CLUSTER, "  http: localhost:99999",
                  S_NAME ":3: cluster.http: \"localhost:99999\" is not host:port; use an address "
                         "and a port such as 127.0.0.1:8080 (default 127.0.0.1:8080)");
    s_expect_error ("cluster: { name: EU West }\n",
                    S_NAME ":1: cluster.name: \"EU West\" is not a valid name; use lowercase "
                           "letters, digits, _ and -, at most 63 bytes");
    s_slot_error (S_COLUMN, "      amount: { type: decimal }",
                  S_NAME ":15: pipelines[0].schema.amount.type: \"decimal\" is not allowed; use "
                         "one of: string, int, number, bool, timestamp, date");
    s_slot_error (S_COLUMN, "      amount: { type: number, min: zero }",
                  S_NAME ":15: pipelines[0].schema.amount.min: \"zero\" is not a number; use a "
                         "decimal such as 0 or 12.5");
    s_slot_error (S_COLUMN, "      amount: { type: number, min: 0x10 }",
                  S_NAME ":15: pipelines[0].schema.amount.min: \"0x10\" is not a number; use a "
                         "decimal such as 0 or 12.5");
    s_slot_error (S_COLUMN, "      amount: number",
                  S_NAME ":15: pipelines[0].schema.amount: expected a mapping, not the value "
                         "\"number\"; see docs/CONFIG.md");
    s_slot_error (S_COLUMN, "      status: { type: string, enum: new }",
                  S_NAME ":15: pipelines[0].schema.status.enum: expected a list of strings, not "
                         "the value \"new\"; see docs/CONFIG.md");
    s_slot_error (S_COLUMN, "      status: { type: string, enum: [new, [x]] }",
                  S_NAME ":15: pipelines[0].schema.status.enum[1]: expected a string, not a list");
    s_slot_error (S_COLUMN, "      status: { type: string, enum: [new, old, new] }",
                  S_NAME
                  ":15: pipelines[0].schema.status.enum[2]: \"new\" is listed twice (also at "
                  "[0]); keep one");
    s_slot_error (S_SINK, "        format: parquet",
                  S_NAME ":20: pipelines[0].sinks[0].format: is not used by type postgres; "
                         "remove it (it applies to type files)");
    s_expect_error ("pipelines:\n"
                    "  - id: p\n"
                    "    source: file\n",
                    S_NAME ":3: pipelines[0].source: expected a mapping, not the value \"file\"; "
                           "see docs/CONFIG.md");
    s_expect_error ("pipelines:\n"
                    "  - id: p\n"
                    "    source: { type: file, path: x, format: parquet }\n",
                    S_NAME ":3: pipelines[0].source.format: \"parquet\" is not allowed; use one "
                           "of: jsonl, csv (default jsonl)");
    s_expect_error ("pipelines:\n"
                    "  - id: p\n"
                    "    source: { type: kafka }\n",
                    S_NAME ":3: pipelines[0].source.type: \"kafka\" is not allowed; use one of: "
                           "file, producer, postgres, http");
    s_expect_error ("pipelines:\n"
                    "  - id: p\n"
                    "    source: { type: file, path: x, delimiter: \";;\" }\n",
                    S_NAME ":3: pipelines[0].source.delimiter: \";;\" is not a single character; "
                           "use one ASCII character other than a quote or a line break, such as "
                           ", or ; or \"\\t\" (default ,)");
    s_expect_error ("pipelines:\n"
                    "  - id: p\n"
                    "    source: { type: file, path: \"\" }\n",
                    S_NAME ":3: pipelines[0].source.path: is empty; give a value or remove the "
                           "key");
    s_expect_error ("pipelines:\n"
                    "  - id: p\n"
                    "    source: { type: producer }\n"
                    "    event_time: { field: t, format: epoch }\n",
                    S_NAME ":4: pipelines[0].event_time.format: \"epoch\" is not a time format; "
                           "use iso8601, unix_ms or a strftime pattern such as \"%Y-%m-%d "
                           "%H:%M:%S\" (default iso8601)");
    s_expect_error ("pipelines:\n"
                    "  - id: p\n"
                    "    source: { type: producer }\n"
                    "    sinks:\n"
                    "      - { type: files, path: out, compression: lz4 }\n",
                    S_NAME ":5: pipelines[0].sinks[0].compression: \"lz4\" is not allowed; use "
                           "one of: none, gzip, zstd (default none)");
    s_expect_error ("pipelines:\n"
                    "  id: p\n",
                    S_NAME ":2: pipelines: expected a list of mappings, not a mapping; see "
                           "docs/CONFIG.md");
    s_expect_error ("pipelines:\n"
                    "  - p\n",
                    S_NAME ":2: pipelines[0]: expected a mapping, not the value \"p\"; see "
                           "docs/CONFIG.md");
    s_expect_error ("- pipelines\n",
                    S_NAME ":1: the document is not a mapping; it must hold keys such as "
                           "cluster: and pipelines: (see docs/examples/bookings.yaml)");
    s_expect_error ("postgres: { host: x }\n",
                    S_NAME ":1: postgres: expected a string, not a mapping");
    s_expect_error ("postgres:\n",
                    S_NAME ":1: postgres: expected a string, not an empty value; give a value or "
                           "remove the key");
    s_expect_error ("? [a, b]\n: 1\n",
                    S_NAME ":1: has a key that is not a plain name; write keys as name: value");
}

static void
test_schema_rules_match_the_type (void **state)
{
    (void) state;
    s_slot_error (S_COLUMN, "      amount: { type: number, min: 10, max: 5 }",
                  S_NAME ":15: pipelines[0].schema.amount.max: 5 is below min 10; make max at "
                         "least min");
    s_slot_ok (S_COLUMN, "      amount: { type: number, min: 5, max: 5 }");
    s_slot_error (S_COLUMN, "      label: { type: string, min: 1 }",
                  S_NAME ":15: pipelines[0].schema.label.min: applies to int and number columns "
                         "only; remove it or use type: int or number");
    s_slot_error (S_COLUMN, "      count: { type: int, max_len: 10 }",
                  S_NAME ":15: pipelines[0].schema.count.max_len: applies to string columns only; "
                         "remove it or use type: string");
    s_slot_error (S_COLUMN, "      flag: { type: bool, enum: [a] }",
                  S_NAME ":15: pipelines[0].schema.flag.enum: applies to string columns only; "
                         "remove it or use type: string");
    s_slot_error (S_COLUMN, "      day: { type: date, regex: \"^2\" }",
                  S_NAME ":15: pipelines[0].schema.day.regex: applies to string columns only; "
                         "remove it or use type: string");
}

//  --------------------------------------------------------------------------
//  Cross-checks

static void
test_duplicate_pipeline_ids (void **state)
{
    (void) state;
    //  The same pipeline twice: the text after "pipelines:\n" again
    char *one = s_producer ("k", "k", S_ONE_COLUMN, S_FILES_SINK);
    char text[1024];
    snprintf (text, sizeof text, "%s%s", one, one + strlen ("pipelines:\n"));
    s_expect_error (text, S_NAME ":8: pipelines[1].id: \"p\" is already the id of pipelines[0]; "
                                 "pipeline ids must be unique");
    free (one);
    s_expect_error ("pipelines:\n  - id: Bookings ETL\n",
                    S_NAME ":2: pipelines[0].id: \"Bookings ETL\" is not a valid name; use "
                           "lowercase letters, digits, _ and -, at most 63 bytes");
}

static void
test_columns_must_be_in_the_schema (void **state)
{
    (void) state;
    const char *columns = "use one of: booking_id, hotel_id, updated_at, check_in";
    char expected[512];
    snprintf (expected, sizeof expected,
              S_NAME ":9: pipelines[0].id_field: \"booking\" is not a column of the schema; %s",
              columns);
    s_slot_error (S_PIPELINE, "    id_field: booking", expected);
    snprintf (expected, sizeof expected,
              S_NAME ":20: pipelines[0].sinks[0].partition_by_day: \"day\" is not a column of the "
                     "schema; %s",
              columns);
    s_slot_error (S_SINK, "        partition_by_day: day", expected);
    s_slot_error (S_SINK, "        partition_by_day: hotel_id",
                  S_NAME ":20: pipelines[0].sinks[0].partition_by_day: \"hotel_id\" is not a "
                         "timestamp or date column; partition by a column of type timestamp or "
                         "date");
    s_slot_ok (S_SINK, "        partition_by_day: check_in");

    //  A schema of three columns, and the keys that must name one of them
    const char *schema = "    schema:\n"
                         "      k: { type: string }\n"
                         "      t: { type: timestamp }\n"
                         "      d: { type: date }\n";
    const struct {
        const char *key, *time_field, *sinks, *expected;
    } cases[] = {
        {"key", "t", S_FILES_SINK,
         S_NAME ":4: pipelines[0].partition_key: \"key\" is not a column of the schema; use one "
                "of: k, t, d"},
        {"k", "d", S_FILES_SINK,
         S_NAME ":5: pipelines[0].event_time.field: \"d\" is a date column; event time needs a "
                "column of type timestamp"},
        {"k", "time", S_FILES_SINK,
         S_NAME ":5: pipelines[0].event_time.field: \"time\" is not a column of the schema; use "
                "one of: k, t, d"},
        {"k", "t",
         "    sinks:\n"
         "      - type: postgres\n"
         "        table: x\n"
         "        primary_key:\n"
         "          - k\n"
         "          - id\n",
         S_NAME ":15: pipelines[0].sinks[0].primary_key[1]: \"id\" is not a column of the "
                "schema; use one of: k, t, d"},
        {"k", "t",
         "    sinks:\n"
         "      - { type: postgres, table: x, primary_key: [k] }\n"
         "      - { type: postgres, table: x, primary_key: [t] }\n",
         S_NAME ":12: pipelines[0].sinks[1]: writes \"postgres:x\", as sinks[0] does; a pipeline "
                "writes each target once"},
    };
    for (size_t index = 0; index < S_COUNT (cases); index++)
        s_producer_error (cases[index].key, cases[index].time_field, schema, cases[index].sinks,
                          cases[index].expected);
}

static void
test_bad_identifiers (void **state)
{
    (void) state;
    const char *rule = "is not a valid identifier; use lowercase letters, digits and _, starting "
                       "with a letter or _, at most 63 bytes, not starting with zetl_";
    char sinks[256], expected[512];
    //  A table name as written in the YAML, and as the message shows it
    const struct {
        const char *table, *shown;
    } tables[] = {
        {"\"x; drop table y\"", "\"x; drop table y\""},
        {"Bookings", "\"Bookings\""},
        {"1st", "\"1st\""},
        {"zetl_offsets", "\"zetl_offsets\""},
        {"\"\\\"bookings\\\"\"", "\"\\\"bookings\\\"\""},
        {"a234567890123456789012345678901234567890123456789012345678901234",
         "\"a234567890123456789012345678901234567890123456789012345678901234\""},
    };
    for (size_t index = 0; index < S_COUNT (tables); index++) {
        snprintf (sinks, sizeof sinks,
                  "    sinks:\n"
                  "      - type: postgres\n"
                  "        table: %s\n"
                  "        primary_key: [k]\n",
                  tables[index].table);
        snprintf (expected, sizeof expected, S_NAME ":9: pipelines[0].sinks[0].table: %s %s",
                  tables[index].shown, rule);
        s_producer_error ("k", "k", S_ONE_COLUMN, sinks, expected);
    }
    //  63 bytes is the longest identifier PostgreSQL keeps whole
    assert_true (
        zetl_identifier_valid ("a23456789012345678901234567890123456789012345678901234567890123"));
    assert_false (
        zetl_identifier_valid ("a234567890123456789012345678901234567890123456789012345678901234"));
    assert_true (zetl_identifier_valid ("_private"));
    assert_true (zetl_identifier_valid ("zetl"));
    assert_false (zetl_identifier_valid ("zetl_hash"));
    assert_false (zetl_identifier_valid (""));
    assert_false (zetl_identifier_valid (NULL));
    assert_false (zetl_identifier_valid ("a-b"));
    assert_false (zetl_identifier_valid ("é"));

    s_slot_error (S_COLUMN, "      Amount: { type: number }",
                  S_NAME ":15: pipelines[0].schema.Amount: \"Amount\" is not a valid column name; "
                         "use lowercase letters, digits and _, starting with a letter or _, at "
                         "most 63 bytes, not starting with zetl_");
    s_slot_error (S_COLUMN, "      zetl_hash: { type: string }",
                  S_NAME ":15: pipelines[0].schema.zetl_hash: \"zetl_hash\" is not a valid column "
                         "name; use lowercase letters, digits and _, starting with a letter or _, "
                         "at most 63 bytes, not starting with zetl_");
    snprintf (expected, sizeof expected,
              S_NAME ":9: pipelines[0].id_field: \"id; delete from t\" %s", rule);
    s_slot_error (S_PIPELINE, "    id_field: \"id; delete from t\"", expected);
}

//  --------------------------------------------------------------------------
//  Sizes: PostgreSQL's limits, and aliases that expand

//  A pipeline with COLUMNS columns (t, c0, c1, ...), ENUM_VALUES values on c0
//  and a primary key of KEY_COLUMNS columns. With ALIAS, c1... repeat c0.
static char *
s_wide (size_t columns, size_t enum_values, size_t key_columns, bool alias)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    assert_non_null (out);
    fprintf (out,
             "pipelines:\n"
             "  - id: p\n"
             "    source: { type: producer }\n"
             "    partition_key: c0\n"
             "    event_time: { field: t }\n"
             "    schema:\n"
             "      t: { type: timestamp }\n"
             "      c0: %s{ type: string, enum: [",
             alias ? "&column " : "");
    for (size_t index = 0; index < enum_values; index++)
        fprintf (out, "%sv%zu", index ? ", " : "", index);
    fprintf (out, "] }\n");
    for (size_t index = 1; index + 1 < columns; index++) {
        if (alias)
            fprintf (out, "      c%zu: *column\n", index);
        else
            fprintf (out, "      c%zu: { type: int }\n", index);
    }
    fprintf (out, "    sinks:\n"
                  "      - type: postgres\n"
                  "        table: wide\n"
                  "        primary_key: [");
    for (size_t index = 0; index < key_columns; index++)
        fprintf (out, "%sc%zu", index ? ", " : "", index);
    fprintf (out, "]\n");
    assert_int_equal (fclose (out), 0);
    return text;
}

static void
test_size_limits (void **state)
{
    (void) state;
    char *text = s_wide (1600, 1000, 32, false);
    zetl_config_t *config = s_expect_ok (text);
    assert_int_equal (config->pipelines[0].field_count, 1600);
    assert_int_equal (config->pipelines[0].fields[1].enum_count, 1000);
    assert_int_equal (config->pipelines[0].targets[0].primary_key_count, 32);
    zetl_config_destroy (&config);
    free (text);

    //  One more than PostgreSQL allows, of each
    const struct {
        size_t columns, enum_values, key_columns;
        const char *expected;
    } too_many[] = {
        {1601, 1, 1, S_NAME ":7: pipelines[0].schema: has 1601 columns; use at most 1600"},
        {40, 1001, 1, S_NAME ":8: pipelines[0].schema.c0.enum: has 1001 entries; use at most 1000"},
        {40, 1, 33,
         S_NAME ":50: pipelines[0].sinks[0].primary_key: has 33 entries; use at most 32"},
    };
    for (size_t index = 0; index < S_COUNT (too_many); index++) {
        text = s_wide (too_many[index].columns, too_many[index].enum_values,
                       too_many[index].key_columns, false);
        s_expect_error (text, too_many[index].expected);
        free (text);
    }

    //  A few aliases are fine; a small file that expands to millions of values is not
    text = s_wide (10, 3, 2, true);
    config = s_expect_ok (text);
    assert_int_equal (config->pipelines[0].field_count, 10);
    assert_string_equal (config->pipelines[0].fields[9].name, "c8");
    assert_int_equal (config->pipelines[0].fields[9].enum_count, 3);
    assert_ptr_not_equal (config->pipelines[0].fields[9].enum_values,
                          config->pipelines[0].fields[1].enum_values);
    zetl_config_destroy (&config);
    free (text);
    text = s_wide (1600, 1000, 1, true);
    char *error = NULL;
    assert_null (s_parse (text, &error));
    assert_non_null (error);
    if (!strstr (error, ": the document holds more than 1000000 values once its aliases are "
                        "expanded; use fewer aliases"))
        fail_msg ("got: %s", error);
    free (error);
    free (text);
}

static void
test_huge_integer_is_out_of_range (void **state)
{
    (void) state;
    s_slot_error (S_PIPELINE, "    batch_size: 99999999999999999999",
                  S_NAME ":9: pipelines[0].batch_size: 99999999999999999999 is out of range; use "
                         "100..10000 (default 1000)");
    s_slot_error (S_PIPELINE, "    batch_size: -99999999999999999999",
                  S_NAME ":9: pipelines[0].batch_size: -99999999999999999999 is out of range; use "
                         "100..10000 (default 1000)");
}

//  A pipeline reading SOURCE (a flow mapping), with a delete_field
static char *
s_sourced (const char *source)
{
    char *text = NULL;
    assert_true (asprintf (&text,
                           "pipelines:\n"
                           "  - id: p\n"
                           "    source: %s\n"
                           "    delete_field: _deleted\n"
                           "    partition_key: k\n"
                           "    event_time: { field: t }\n"
                           "    schema: { k: { type: int }, t: { type: timestamp } }\n"
                           "    sinks: [{ type: postgres, table: x, primary_key: [k] }]\n",
                           source) > 0);
    return text;
}

static void
test_scheduled_sources (void **state)
{
    (void) state;
    char *text = s_sourced ("{ type: postgres, table: orders, key: [id], schedule: \"0 */6 * * *\" }");
    zetl_config_t *config = s_expect_ok (text);
    const zetl_source_t *source = &config->pipelines[0].source;
    assert_true (source->scheduled_by_cron);
    assert_string_equal (source->updated_at, "t");  //  event_time.field
    assert_int_equal (source->page_size, 10000);
    assert_int_equal (source->cron.hours, 1u << 0 | 1u << 6 | 1u << 12 | 1u << 18);
    zetl_config_destroy (&config);
    free (text);
    text = s_sourced ("{ type: http, url: \"http://api/x\", schedule: 30s }");
    config = s_expect_ok (text);
    assert_false (config->pipelines[0].source.scheduled_by_cron);
    assert_int_equal (config->pipelines[0].source.schedule_ms, 30000);
    assert_int_equal (config->pipelines[0].source.page_size, 100);
    zetl_config_destroy (&config);
    free (text);

    struct {
        const char *source, *error;
    } bad[] = {
        {"{ type: postgres, table: orders, key: [id], schedule: often }",
         "pipeline.yaml:3: pipelines[0].source.schedule: \"often\" is neither an interval of at "
         "least 100ms (30s, 1m, 6h) nor a cron expression of five fields (\"0 */6 * * *\")"},
        {"{ type: postgres, table: orders, key: [id], mode: sliding_window }",
         "pipeline.yaml:3: pipelines[0].source: mode sliding_window reads the last lookback of "
         "rows; set lookback, such as 24h"},
        {"{ type: postgres, table: orders, key: [id], delete_missing: true }",
         "pipeline.yaml:3: pipelines[0].source.delete_missing: needs mode full_refresh: only a "
         "whole read of the table knows which keys are gone"},
        {"{ type: http, url: \"ftp://api/x\" }",
         "pipeline.yaml:3: pipelines[0].source.url: \"ftp://api/x\" is not an http:// or https:// URL"},
        {"{ type: http, url: \"http://api/x\", pagination: cursor }",
         "pipeline.yaml:3: pipelines[0].source: pagination cursor needs next, the dotted path of "
         "the cursor in a page, such as meta.next_cursor"},
    };
    for (size_t index = 0; index < S_COUNT (bad); index++) {
        text = s_sourced (bad[index].source);
        s_expect_error (text, bad[index].error);
        free (text);
    }
}

static void
test_first_error_wins (void **state)
{
    (void) state;
    const char *text = "pipelines:\n"
                       "  - id: p\n"
                       "    source: { type: producer }\n"
                       "    batch_size: 5\n"
                       "    partitions: 0\n"
                       "    colour: blue\n";
    s_expect_error (text, S_NAME ":4: pipelines[0].batch_size: 5 is out of range; use 100..10000 "
                                 "(default 1000)");
}

static void
test_aliases_share_definitions (void **state)
{
    (void) state;
    const char *text = "pipelines:\n"
                       "  - id: a\n"
                       "    source: &source { type: producer }\n"
                       "    partition_key: k\n"
                       "    event_time: &time { field: t, format: \"%Y%m%d%H%M%S\" }\n"
                       "    schema: &schema { k: { type: string }, t: { type: timestamp } }\n"
                       "    sinks: [{ type: files, path: out/a }]\n"
                       "  - id: b\n"
                       "    source: *source\n"
                       "    partition_key: k\n"
                       "    event_time: *time\n"
                       "    schema: *schema\n"
                       "    sinks: [{ type: files, path: out/b }]\n";
    zetl_config_t *config = s_expect_ok (text);
    const zetl_pipeline_t *b = zetl_config_pipeline (config, "b");
    assert_non_null (b);
    assert_int_equal (b->field_count, 2);
    assert_string_equal (b->event_time.strftime, "%Y%m%d%H%M%S");
    assert_ptr_not_equal (b->event_time.strftime, config->pipelines[0].event_time.strftime);
    zetl_config_destroy (&config);
}

//  --------------------------------------------------------------------------

//  TEXT loads, and reaches PostgreSQL and Redis with POSTGRES and REDIS
static void
s_expect_connections (const char *text, const char *postgres, const char *redis)
{
    zetl_config_t *config = s_expect_ok (text);
    assert_string_equal (config->postgres, postgres);
    assert_string_equal (config->redis, redis);
    zetl_config_destroy (&config);
}

static void
test_environment_overrides (void **state)
{
    (void) state;
    char *text = s_yaml (S_CLUSTER, NULL);
    char *with = malloc (strlen (text) + 64);
    assert_non_null (with);
    sprintf (with, "postgres: \"host=file\"\nredis: redis://file\n%s", text);

    s_expect_connections (with, "host=file", "redis://file");
    setenv ("ZETL_POSTGRES", "host=/tmp/env dbname=env", 1);
    setenv ("ZETL_REDIS", "unix:///tmp/env/redis.sock", 1);
    s_expect_connections (with, "host=/tmp/env dbname=env", "unix:///tmp/env/redis.sock");
    //  Also when the file has none
    s_expect_connections (text, "host=/tmp/env dbname=env", "unix:///tmp/env/redis.sock");
    setenv ("ZETL_POSTGRES", "", 1);  //  Empty counts as unset
    unsetenv ("ZETL_REDIS");
    s_expect_connections (with, "host=file", "redis://file");
    unsetenv ("ZETL_POSTGRES");

    //  The text and hash stay those of the file: the environment is this process's own
    setenv ("ZETL_POSTGRES", "host=other", 1);
    zetl_config_t *config = s_expect_ok (with);
    assert_true (config->hash == XXH3_64bits (with, strlen (with)));
    zetl_config_destroy (&config);
    unsetenv ("ZETL_POSTGRES");
    free (with);
    free (text);
}

static void
test_durations (void **state)
{
    (void) state;
    struct {
        const char *text;
        int64_t ms;
    } good[] = {{"0", 0},        {"0ms", 0},        {"100ms", 100},      {"5s", 5000},
                {"15m", 900000}, {"24h", 86400000}, {"90d", 7776000000}, {"007s", 7000},
                {"1000ms", 1000}};
    for (size_t index = 0; index < sizeof good / sizeof good[0]; index++) {
        int64_t ms = -1;
        if (zetl_duration_parse (good[index].text, &ms) != 0 || ms != good[index].ms)
            fail_msg ("%s read as %lld", good[index].text, (long long) ms);
    }
    const char *bad[] = {"",
                         "5",
                         "-5s",
                         "5 s",
                         "5sec",
                         "1.5h",
                         "h",
                         "5S",
                         "5w",
                         " 5s",
                         "5s ",
                         "+5s",
                         "ms",
                         "1e3s",
                         "0x10s",
                         "9223372036854775807d",
                         "99999999999999999999ms"};
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        int64_t ms = 42;
        if (zetl_duration_parse (bad[index], &ms) != -1 || ms != 42)
            fail_msg ("\"%s\" accepted as a duration", bad[index]);
    }
    int64_t ms;
    assert_int_equal (zetl_duration_parse (NULL, &ms), -1);
    assert_int_equal (zetl_duration_parse ("9223372036854775807ms", &ms), 0);
    assert_true (ms == INT64_MAX);
}

static void
test_yaml_syntax_error (void **state)
{
    (void) state;
    s_expect_error ("pipelines:\n"
                    "  - id: p\n"
                    "    source: { type: file, path: x\n"
                    "    partition_key: k\n",
                    S_NAME ":4: invalid YAML: did not find expected ',' or '}' at column 18 (while "
                           "parsing a flow mapping at line 3); fix the syntax");
    s_expect_error ("pipelines:\n"
                    "  - id: p\n"
                    "   bad indent: 1\n",
                    S_NAME ":3: invalid YAML: did not find expected '-' indicator at column 4 "
                           "(while parsing a block collection at line 2); fix the syntax");
    s_expect_error ("cluster: { name: x }\n---\npipelines: []\n",
                    S_NAME ":2: a second YAML document starts here; keep one document per file");
    s_expect_error ("", S_NAME ":1: the document is empty; it needs at least pipelines: (see "
                               "docs/examples/bookings.yaml)");
    s_expect_error ("# only a comment\n",
                    S_NAME ":1: the document is empty; it needs at least pipelines: (see "
                           "docs/examples/bookings.yaml)");
    char *error = NULL;
    const char nul[] = "pipelines:\0 []\n";
    assert_null (zetl_config_parse (nul, sizeof nul - 1, S_NAME, &error));
    assert_non_null (error);
    assert_non_null (strstr (error, S_NAME ":1: invalid"));
    free (error);
}

static void
test_load_from_files (void **state)
{
    (void) state;
    char *error = NULL;
    zetl_config_t *config = zetl_config_load (ZETL_TEST_DATA "/config/minimal.yaml", &error);
    if (!config)
        fail_msg ("%s", error);
    assert_string_equal (config->path, ZETL_TEST_DATA "/config/minimal.yaml");
    assert_true (config->hash == XXH3_64bits (config->text, config->text_len));
    assert_int_equal (strlen (config->text), config->text_len);
    assert_string_equal (config->pipelines[0].id, "minimal");
    zetl_config_destroy (&config);

    config = zetl_config_load (ZETL_TEST_DATA "/config/unknown_key.yaml", &error);
    assert_null (config);
    assert_string_equal (error, ZETL_TEST_DATA "/config/unknown_key.yaml:13: "
                                               "pipelines[0].sinks[0].primary_keys: unknown key; "
                                               "expected one of: type, table, primary_key, "
                                               "partition_by_day, retention, sink_batch_rows, "
                                               "sink_linger, connections, max_future");
    free (error);

    config = zetl_config_load (ZETL_TEST_DATA "/config/no-such-file.yaml", &error);
    assert_null (config);
    assert_string_equal (error, "cannot read " ZETL_TEST_DATA "/config/no-such-file.yaml: No such "
                                "file or directory; check the path given to --config");
    free (error);

    //  A caller that does not want the message may pass NULL
    assert_null (zetl_config_load (ZETL_TEST_DATA "/config/unknown_key.yaml", NULL));
}

static void
test_example_bookings_loads (void **state)
{
    (void) state;
    char *error = NULL;
    zetl_config_t *config =
        zetl_config_load (ZETL_TEST_DATA "/../../docs/examples/bookings.yaml", &error);
    if (!config)
        fail_msg ("%s", error);
    assert_string_equal (config->cluster.name, "eu-west");
    assert_string_equal (config->postgres, "host=/tmp/zetl port=5432 dbname=zetl");
    const zetl_pipeline_t *pipeline = zetl_config_pipeline (config, "bookings-etl");
    assert_non_null (pipeline);
    assert_string_equal (pipeline->source.path, "data/bookings/*.jsonl");
    assert_string_equal (pipeline->id_field, "booking_id");
    assert_string_equal (pipeline->partition_key, "hotel_id");
    assert_int_equal (pipeline->field_count, 6);
    assert_int_equal (pipeline->fields[3].enum_count, 3);
    assert_int_equal (pipeline->target_count, 2);
    assert_string_equal (pipeline->targets[0].name, "postgres:bookings");
    assert_string_equal (pipeline->targets[0].partition_by_day, "updated_at");
    assert_string_equal (pipeline->targets[1].name, "files:out/bookings");
    zetl_config_destroy (&config);
}

//  docs/CONFIG.md is what zetl_config_write_reference writes, byte for byte.
//  ZETL_UPDATE_DOCS=1 rewrites it instead of comparing.
static void
test_config_md_is_current (void **state)
{
    (void) state;
    const char *path = ZETL_TEST_DATA "/../../docs/CONFIG.md";
    char *expected = NULL;
    size_t expected_len = 0;
    FILE *memory = open_memstream (&expected, &expected_len);
    assert_non_null (memory);
    zetl_config_write_reference (memory);
    assert_int_equal (fclose (memory), 0);

    const char *update = getenv ("ZETL_UPDATE_DOCS");
    if (update && *update && strcmp (update, "0")) {
        FILE *file = fopen (path, "wb");
        assert_non_null (file);
        assert_int_equal (fwrite (expected, 1, expected_len, file), expected_len);
        assert_int_equal (fclose (file), 0);
    }
    FILE *file = fopen (path, "rb");
    if (!file)
        fail_msg ("cannot read %s; write it with ZETL_UPDATE_DOCS=1 config_test", path);
    char *actual = malloc (expected_len + 2);
    assert_non_null (actual);
    size_t actual_len = fread (actual, 1, expected_len + 1, file);
    fclose (file);
    if (actual_len != expected_len || memcmp (actual, expected, expected_len))
        fail_msg ("docs/CONFIG.md differs from zetl_config_write_reference; regenerate it with "
                  "ZETL_UPDATE_DOCS=1 config_test");
    free (actual);

    //  Every key of every section is in it
    const char *keys[] = {"`producers`",    "`postgres`",
                          "`redis`",        "`partition_key`",
                          "`dedup_window`", "`delimiter`",
                          "`max_len`",      "`sink_batch_rows`",
                          "`compression`",  "`pipelines[].schema.<column>`",
                          "`ZETL_POSTGRES`"};
    for (size_t index = 0; index < sizeof keys / sizeof keys[0]; index++)
        if (!strstr (expected, keys[index]))
            fail_msg ("%s is missing from the reference", keys[index]);
    assert_non_null (strstr (expected, "`pipelines[].transform[]`"));
    assert_non_null (strstr (expected, "`compute`"));
    assert_non_null (strstr (expected, "`max_stale`"));
    free (expected);
}

int
main (void)
{
    //  The environment must not leak into the cases that read postgres: and redis: from the file
    unsetenv ("ZETL_POSTGRES");
    unsetenv ("ZETL_REDIS");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_template_loads),
        cmocka_unit_test (test_every_default),
        cmocka_unit_test (test_values_are_read),
        cmocka_unit_test (test_range_edges),
        cmocka_unit_test (test_negative_duration_is_not_a_duration),
        cmocka_unit_test (test_unknown_key_at_each_level),
        cmocka_unit_test (test_key_of_another_type),
        cmocka_unit_test (test_transform_and_enrich),
        cmocka_unit_test (test_transform_and_enrich_errors),
        cmocka_unit_test (test_duplicate_keys),
        cmocka_unit_test (test_missing_required_keys),
        cmocka_unit_test (test_bad_types),
        cmocka_unit_test (test_schema_rules_match_the_type),
        cmocka_unit_test (test_duplicate_pipeline_ids),
        cmocka_unit_test (test_columns_must_be_in_the_schema),
        cmocka_unit_test (test_bad_identifiers),
        cmocka_unit_test (test_size_limits),
        cmocka_unit_test (test_huge_integer_is_out_of_range),
        cmocka_unit_test (test_scheduled_sources),
        cmocka_unit_test (test_first_error_wins),
        cmocka_unit_test (test_aliases_share_definitions),
        cmocka_unit_test (test_environment_overrides),
        cmocka_unit_test (test_durations),
        cmocka_unit_test (test_yaml_syntax_error),
        cmocka_unit_test (test_load_from_files),
        cmocka_unit_test (test_example_bookings_loads),
        cmocka_unit_test (test_config_md_is_current),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
