/*  config_errors_test - zetl_config: a key or a value wrong on its own, each
    refused with its exact message, file and line. Unknown keys at each
    level with the keys they could be, keys of another source or sink type,
    duplicate and missing keys, the first error the one given, YAML that
    does not parse; values of the wrong type or shape (an integer, a bool,
    a duration, an endpoint, a name, a mapping, a list), schema rules that
    do not apply to the column's type, and names that are not valid
    PostgreSQL identifiers. Checks across keys are in config_crosschecks_test.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config_fixtures.h"

static void
test_unknown_key_at_each_level (void **state)
{
    (void) state;
    s_expect_error ("clustre:\n  name: x\npipelines: []\n",
                    S_NAME ":1: clustre: unknown key; expected one of: cluster, postgres, redis, "
                           "lookup, autoscaling, limits, curve, alerts, pipelines");
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
                         "such as 127.0.0.1:8080, or off (default 127.0.0.1:8080)");
    //  off is for the optional endpoints only
    s_slot_error (S_CLUSTER, "  workers: off",
                  S_NAME ":3: cluster.workers: \"off\" is not a ZeroMQ endpoint; use "
                         "tcp://host:port, ipc://path or inproc://name (default tcp://*:5571)");
    s_slot_error (S_CLUSTER, "  http: localhost:99999",
                  S_NAME ":3: cluster.http: \"localhost:99999\" is not host:port; use an address "
                         "and a port such as 127.0.0.1:8080, or off (default 127.0.0.1:8080)");
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

int
main (void)
{
    s_clear_environment ();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_unknown_key_at_each_level),
        cmocka_unit_test (test_key_of_another_type),
        cmocka_unit_test (test_duplicate_keys),
        cmocka_unit_test (test_missing_required_keys),
        cmocka_unit_test (test_first_error_wins),
        cmocka_unit_test (test_yaml_syntax_error),
        cmocka_unit_test (test_bad_types),
        cmocka_unit_test (test_schema_rules_match_the_type),
        cmocka_unit_test (test_bad_identifiers),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
