/*  config_load_test - zetl_config: what comes from outside the text.
    ZETL_POSTGRES and ZETL_REDIS overriding the file, loading from files
    (their path and hash, a missing file), the example of docs/examples,
    and docs/CONFIG.md, which must be what zetl_config_write_reference
    writes (ZETL_UPDATE_DOCS=1 config_load_test rewrites it)
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <xxhash.h>

#include "config_fixtures.h"

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
        fail_msg ("cannot read %s; write it with ZETL_UPDATE_DOCS=1 config_load_test", path);
    char *actual = malloc (expected_len + 2);
    assert_non_null (actual);
    size_t actual_len = fread (actual, 1, expected_len + 1, file);
    fclose (file);
    if (actual_len != expected_len || memcmp (actual, expected, expected_len))
        fail_msg ("docs/CONFIG.md differs from zetl_config_write_reference; regenerate it with "
                  "ZETL_UPDATE_DOCS=1 config_load_test");
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
    s_clear_environment ();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_environment_overrides),
        cmocka_unit_test (test_load_from_files),
        cmocka_unit_test (test_example_bookings_loads),
        cmocka_unit_test (test_config_md_is_current),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
