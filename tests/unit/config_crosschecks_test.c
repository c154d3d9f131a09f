/*  config_crosschecks_test - zetl_config: checks across keys. Pipeline ids
    are unique; the columns keys name are in the schema and of the right
    type; a sink writes each target once; transform steps and enrichments
    are well formed; scheduled sources read as a cron expression or an
    interval, with the options each mode and pagination needs
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config_fixtures.h"

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

int
main (void)
{
    s_clear_environment ();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_duplicate_pipeline_ids),
        cmocka_unit_test (test_columns_must_be_in_the_schema),
        cmocka_unit_test (test_transform_and_enrich_errors),
        cmocka_unit_test (test_scheduled_sources),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
