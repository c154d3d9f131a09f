/*  config_forward_test - zetl_config: the forward target. Its keys, their
    defaults and its name in zetl_offsets; the keys it needs, the keys of
    other types it refuses, and a coordinator it could not connect to
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config_fixtures.h"

//  A producer-fed pipeline whose sinks are SINKS (lines ending in newlines);
//  its sinks: key is on line 7, the first target's type on line 8
static char *
s_forward (const char *sinks)
{
    return s_producer ("k", "k", S_ONE_COLUMN, sinks);
}

static void
s_forward_error (const char *sinks, const char *expected)
{
    char *text = s_forward (sinks);
    s_expect_error (text, expected);
    free (text);
}

static void
test_forward_loads (void **state)
{
    (void) state;
    char *text = s_forward ("    sinks:\n"
                            "      - type: forward\n"
                            "        coordinator: tcp://central.example:5570\n"
                            "        pipeline: bookings\n"
                            "      - type: forward\n"
                            "        coordinator: tcp://backup.example:5570\n"
                            "        pipeline: bookings\n"
                            "        producer: eu-west\n"
                            "        timeout: 2s\n");
    zetl_config_t *config = s_expect_ok (text);
    const zetl_pipeline_t *pipeline = &config->pipelines[0];
    assert_int_equal (pipeline->target_count, 2);
    const zetl_target_t *first = &pipeline->targets[0], *second = &pipeline->targets[1];
    assert_int_equal (first->type, ZETL_TARGET_FORWARD);
    assert_string_equal (first->name, "forward:tcp://central.example:5570/bookings");
    assert_string_equal (first->coordinator, "tcp://central.example:5570");
    assert_string_equal (first->pipeline, "bookings");
    assert_null (first->producer);  //  The sinks make it <cluster.name>-<pipeline id>
    assert_int_equal (first->timeout_ms, 10000);
    assert_int_equal (first->sink_linger_ms, 20);  //  The keys of every target apply
    assert_null (first->table);
    assert_null (first->path);
    assert_string_equal (second->name, "forward:tcp://backup.example:5570/bookings");
    assert_string_equal (second->producer, "eu-west");
    assert_int_equal (second->timeout_ms, 2000);
    zetl_config_destroy (&config);
    free (text);
}

static void
test_forward_needs_its_keys (void **state)
{
    (void) state;
    s_forward_error ("    sinks:\n"
                     "      - type: forward\n"
                     "        pipeline: bookings\n",
                     S_NAME ":8: pipelines[0].sinks[0].coordinator: required key is missing; add "
                            "it (the other cluster's cluster.producers endpoint as reached from "
                            "here, such as tcp://central.example:5570)");
    s_forward_error ("    sinks:\n"
                     "      - { type: forward, coordinator: \"tcp://central:5570\" }\n",
                     S_NAME ":8: pipelines[0].sinks[0].pipeline: required key is missing; add it "
                            "(the id of the pipeline the rows feed in the other cluster)");
}

static void
test_forward_refuses_other_keys (void **state)
{
    (void) state;
    s_forward_error ("    sinks:\n"
                     "      - type: forward\n"
                     "        coordinator: tcp://central:5570\n"
                     "        pipeline: bookings\n"
                     "        table: bookings\n",
                     S_NAME ":11: pipelines[0].sinks[0].table: is not used by type forward; remove "
                            "it (it applies to type postgres)");
    s_forward_error ("    sinks:\n"
                     "      - type: files\n"
                     "        path: out\n"
                     "        coordinator: tcp://central:5570\n",
                     S_NAME ":10: pipelines[0].sinks[0].coordinator: is not used by type files; "
                            "remove it (it applies to type forward)");
    s_forward_error ("    sinks:\n"
                     "      - type: forward\n"
                     "        coordinator: tcp://central:5570\n"
                     "        pipeline: bookings\n"
                     "        region: eu\n",
                     S_NAME ":11: pipelines[0].sinks[0].region: unknown key; expected one of: "
                            "type, sink_batch_rows, sink_linger, connections, coordinator, "
                            "pipeline, producer, timeout");
}

static void
test_forward_bad_values (void **state)
{
    (void) state;
    const struct {
        const char *line, *expected;
    } cases[] = {
        {"        coordinator: tcp://*:5570\n",
         S_NAME ":9: pipelines[0].sinks[0].coordinator: \"tcp://*:5570\" is an address to bind, "
                "not one to connect to; give the other cluster's cluster.producers as reached "
                "from here, such as tcp://central.example:5570"},
        {"        coordinator: tcp://0.0.0.0:5570\n",
         S_NAME ":9: pipelines[0].sinks[0].coordinator: \"tcp://0.0.0.0:5570\" is an address to "
                "bind, not one to connect to; give the other cluster's cluster.producers as "
                "reached from here, such as tcp://central.example:5570"},
        {"        coordinator: central:5570\n",
         S_NAME ":9: pipelines[0].sinks[0].coordinator: \"central:5570\" is not a ZeroMQ "
                "endpoint; use tcp://host:port, ipc://path or inproc://name"},
        {"        coordinator: tcp://central:5570\n        timeout: 10ms\n",
         S_NAME ":10: pipelines[0].sinks[0].timeout: 10ms is out of range; use 1s..1h (default "
                "10s)"},
        {"        coordinator: tcp://central:5570\n        producer: Region A\n",
         S_NAME ":10: pipelines[0].sinks[0].producer: \"Region A\" is not a valid name; use "
                "lowercase letters, digits, _ and -, at most 63 bytes"},
    };
    for (size_t index = 0; index < S_COUNT (cases); index++) {
        char sinks[512];
        snprintf (sinks, sizeof sinks, "    sinks:\n      - type: forward\n%s        pipeline: b\n",
                  cases[index].line);
        s_forward_error (sinks, cases[index].expected);
    }
}

static void
test_forward_written_once (void **state)
{
    (void) state;
    s_forward_error ("    sinks:\n"
                     "      - { type: forward, coordinator: \"tcp://c:5570\", pipeline: b }\n"
                     "      - { type: forward, coordinator: \"tcp://c:5570\", pipeline: b }\n",
                     S_NAME ":9: pipelines[0].sinks[1]: writes \"forward:tcp://c:5570/b\", as "
                            "sinks[0] does; a pipeline writes each target once");
    //  To two pipelines of one cluster, or one pipeline of two: two targets
    char *text =
        s_forward ("    sinks:\n"
                   "      - { type: forward, coordinator: \"tcp://c:5570\", pipeline: b }\n"
                   "      - { type: forward, coordinator: \"tcp://c:5570\", pipeline: c }\n"
                   "      - { type: forward, coordinator: \"tcp://d:5570\", pipeline: b }\n"
                   "      - { type: postgres, table: t, primary_key: [k] }\n");
    zetl_config_t *config = s_expect_ok (text);
    assert_int_equal (config->pipelines[0].target_count, 4);
    zetl_config_destroy (&config);
    free (text);
}

int
main (void)
{
    s_clear_environment ();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_forward_loads),
        cmocka_unit_test (test_forward_needs_its_keys),
        cmocka_unit_test (test_forward_refuses_other_keys),
        cmocka_unit_test (test_forward_bad_values),
        cmocka_unit_test (test_forward_written_once),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
