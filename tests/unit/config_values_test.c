/*  config_values_test - zetl_config: what a configuration that loads holds.
    The template's pipeline and lookups by name, every default, every value
    read as written, aliases that share definitions, and transform steps
    and enrichments in order, with the columns enrichments add
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <xxhash.h>

#include "config_fixtures.h"

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
        "  events: off\n"
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
        S_STRING (config->cluster.events, "off"),
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

int
main (void)
{
    s_clear_environment ();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_template_loads),
        cmocka_unit_test (test_every_default),
        cmocka_unit_test (test_values_are_read),
        cmocka_unit_test (test_aliases_share_definitions),
        cmocka_unit_test (test_transform_and_enrich),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
