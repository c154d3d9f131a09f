/*  producer_batches_test - the producer client against a fake coordinator:
    what it sends. The handshake and the pipeline it picks, batch headers
    and bodies, full batches of many records, the linger sending a partial
    batch, JSON and packed records and the ones refused, and the arguments
    zetl_producer_new refuses
*/
#include <errno.h>

#include "producer_fixtures.h"

static void
test_batches_and_bodies (void **state)
{
    env_t *env = (env_t *) *state;
    zetl_producer_options_t options;
    s_options (&options);
    zetl_producer_t *producer = s_producer (env, "producer-a", "events", &options);
    assert_int_equal (zetl_producer_pipeline (producer), 1);
    assert_int_equal (zetl_producer_batch_size (producer), 200);  //  the pipeline's

    s_send_records (producer, 0, 250);
    assert_int_equal (zetl_producer_flush (producer, S_WAIT_MS), 0);
    zetl_msg_t *batch = s_expect_batch (env, 1, 200, 1, S_EPOCH);
    assert_int_equal (batch->attempt, 1);
    s_check_body (batch, "producer-a", 0);
    zetl_msg_destroy (&batch);
    batch = s_expect_batch (env, 2, 50, 1, S_EPOCH);
    s_check_body (batch, "producer-a", 200);
    zetl_msg_destroy (&batch);

    zetl_producer_stats_t stats;
    zetl_producer_stats (producer, &stats);
    assert_int_equal (stats.records, 250);
    assert_int_equal (stats.records_acked, 250);
    assert_int_equal (stats.batches, 2);
    assert_int_equal (stats.acked, 2);
    assert_int_equal (stats.resent, 0);
    assert_int_equal (stats.held, 0);
    assert_int_equal (stats.pending, 0);
    zetl_producer_destroy (&producer);
    assert_null (producer);
    zetl_msg_t *bye = s_expect (env, ZETL_MSG_BYE);
    zetl_msg_destroy (&bye);
    //  The flush that completed said the producer is caught up, once
    assert_int_equal (env->caught_up, 1);
    zetl_producer_destroy (&producer);  //  A second destroy does nothing
}

static void
test_many_records (void **state)
{
    env_t *env = (env_t *) *state;
    zetl_producer_options_t options;
    s_options (&options);
    options.batch_size = ZETL_PRODUCER_MAX_BATCH;
    options.window = 2;
    zetl_producer_t *producer = s_producer (env, "producer-m", "clicks", &options);
    int64_t started = zclock_usecs ();
    s_send_records (producer, 0, 30000);
    assert_int_equal (zetl_producer_flush (producer, S_WAIT_MS * 4), 0);
    int64_t elapsed_us = zclock_usecs () - started;
    for (uint64_t sequence = 1; sequence <= 3; sequence++) {
        zetl_msg_t *batch = s_expect_batch (env, sequence, ZETL_PRODUCER_MAX_BATCH, 0, S_EPOCH);
        s_check_body (batch, "producer-m", (int) (sequence - 1) * ZETL_PRODUCER_MAX_BATCH);
        zetl_msg_destroy (&batch);
    }
    print_message ("30000 records in %.1f ms, ACKed\n", (double) elapsed_us / 1000.0);
    zetl_producer_destroy (&producer);
}

static void
test_linger (void **state)
{
    env_t *env = (env_t *) *state;
    zetl_producer_options_t options;
    zetl_producer_options_init (&options);
    options.linger_ms = 50;
    zetl_producer_t *producer = s_producer (env, "producer-l", "events", &options);
    s_send_records (producer, 0, 2);
    //  No flush: a caller that waits gives the producer its turns
    int64_t started = zclock_mono ();
    while (zetl_producer_poll (producer, 20) >= 0 && zclock_mono () - started < S_WAIT_MS)
        ;
    assert_true (zclock_mono () - started >= 30);
    zetl_msg_t *batch = s_expect_batch (env, 1, 2, 1, S_EPOCH);
    s_check_body (batch, "producer-l", 0);
    zetl_msg_destroy (&batch);
    assert_int_equal (zetl_producer_poll (producer, 0), -1);  //  Nothing held
    zetl_producer_destroy (&producer);
}

static void
test_json_records (void **state)
{
    env_t *env = (env_t *) *state;
    zetl_producer_options_t options;
    s_options (&options);
    zetl_producer_t *producer = s_producer (env, "producer-j", "events", &options);
    const char *error = NULL;
    const char *good = "{\"i\":0,\"s\":\"record-0\"}\n";
    assert_int_equal (zetl_producer_send_json (producer, good, strlen (good), &error), 0);
    assert_null (error);
    const char *bad[] = {"[1,2]", "not json", "{\"i\":", "42", ""};
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        errno = 0;
        assert_int_equal (
            zetl_producer_send_json (producer, bad[index], strlen (bad[index]), &error), -1);
        assert_int_equal (errno, EINVAL);
        assert_non_null (error);
    }
    //  Packed records must be one msgpack map, and nothing after it
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, 1);
    msgpack_pack_int (&pk, 1);
    assert_int_equal (zetl_producer_send (producer, buffer.data, buffer.size), -1);
    assert_int_equal (errno, EINVAL);
    s_record (&buffer, 1);
    msgpack_pack_nil (&pk);
    assert_int_equal (zetl_producer_send (producer, buffer.data, buffer.size), -1);
    assert_int_equal (zetl_producer_send (producer, buffer.data, buffer.size - 2), -1);
    assert_int_equal (zetl_producer_send (producer, buffer.data, buffer.size - 1), 0);
    msgpack_sbuffer_destroy (&buffer);

    assert_int_equal (zetl_producer_flush (producer, S_WAIT_MS), 0);
    zetl_msg_t *batch = s_expect_batch (env, 1, 2, 1, S_EPOCH);
    s_check_body (batch, "producer-j", 0);
    zetl_msg_destroy (&batch);
    zetl_producer_stats_t stats;
    zetl_producer_stats (producer, &stats);
    assert_int_equal (stats.records, 2);
    zetl_producer_destroy (&producer);
}

static void
test_refusals (void **state)
{
    env_t *env = (env_t *) *state;
    char *error = NULL;
    assert_null (zetl_producer_new (env->args.endpoint, "producer-x", "nope", NULL, &error));
    assert_non_null (strstr (error, "\"nope\""));
    assert_non_null (strstr (error, "clicks, events"));
    zstr_free (&error);
    s_expect_hello (env, "producer-x");
    assert_null (zetl_producer_new (env->args.endpoint, "producer-x", NULL, NULL, &error));
    assert_non_null (strstr (error, "2 pipelines"));
    zstr_free (&error);
    s_expect_hello (env, "producer-x");

    zetl_producer_options_t options;
    zetl_producer_options_init (&options);
    options.connect_timeout_ms = 200;
    assert_null (
        zetl_producer_new ("inproc://producer-test-nobody", "producer-x", NULL, &options, &error));
    assert_non_null (strstr (error, "no WELCOME"));
    zstr_free (&error);
    options.window = 0;
    assert_null (zetl_producer_new (env->args.endpoint, "producer-x", NULL, &options, &error));
    assert_non_null (strstr (error, "window"));
    zstr_free (&error);
    assert_null (zetl_producer_new (env->args.endpoint, "", NULL, NULL, &error));
    assert_non_null (strstr (error, "name"));
    zstr_free (&error);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_batches_and_bodies, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_many_records, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_linger, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_json_records, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refusals, s_setup, s_teardown),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    zsys_shutdown ();
    return rc;
}
