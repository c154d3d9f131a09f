/*  config_ranges_test - zetl_config: numbers, durations and sizes. Each
    ranged key takes exactly its min and max and refuses one beyond, with a
    message giving the range and the default; durations as zetl_duration_parse
    reads them; huge integers; PostgreSQL's limits on columns, enum values
    and key columns; aliases that would expand past a million values
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config_fixtures.h"

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

int
main (void)
{
    s_clear_environment ();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_range_edges),
        cmocka_unit_test (test_negative_duration_is_not_a_duration),
        cmocka_unit_test (test_huge_integer_is_out_of_range),
        cmocka_unit_test (test_durations),
        cmocka_unit_test (test_size_limits),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
