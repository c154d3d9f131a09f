/*  producer_delivery_test - the producer client against a fake coordinator:
    how batches get through. The window of unACKed batches holding sends
    back, send and flush timeouts, a lost batch sent again the same, a new
    session after the coordinator restarts (or says it knows us not) with
    everything unACKed sent again, and numbering that carries on from the
    coordinator's last ACK
*/
#include <errno.h>

#include "producer_fixtures.h"

static void
test_window_blocks (void **state)
{
    env_t *env = (env_t *) *state;
    zetl_producer_options_t options;
    s_options (&options);
    options.batch_size = 3;
    options.window = 2;
    zetl_producer_t *producer = s_producer (env, "producer-w", "clicks", &options);
    s_tell (env, "HOLD", 0);

    //  Two batches fill the window; the third is full and waits
    s_send_records (producer, 0, 9);
    for (uint64_t sequence = 1; sequence <= 2; sequence++) {
        zetl_msg_t *batch = s_expect_batch (env, sequence, 3, 0, S_EPOCH);
        s_check_body (batch, "producer-w", (int) (sequence - 1) * 3);
        zetl_msg_destroy (&batch);
    }
    s_expect_nothing (env, 200);
    zetl_producer_stats_t stats;
    zetl_producer_stats (producer, &stats);
    assert_int_equal (stats.held, 2);
    assert_int_equal (stats.pending, 3);

    //  The next record needs room: the send waits until ACKs come
    s_tell (env, "RELEASE_AFTER", 300);
    int64_t started = zclock_mono ();
    s_send_records (producer, 9, 1);
    assert_true (zclock_mono () - started >= 250);
    zetl_msg_t *batch = s_expect_batch (env, 3, 3, 0, S_EPOCH);
    s_check_body (batch, "producer-w", 6);
    zetl_msg_destroy (&batch);

    assert_int_equal (zetl_producer_flush (producer, S_WAIT_MS), 0);
    batch = s_expect_batch (env, 4, 1, 0, S_EPOCH);
    s_check_body (batch, "producer-w", 9);
    zetl_msg_destroy (&batch);
    zetl_producer_stats (producer, &stats);
    assert_int_equal (stats.acked, 4);
    assert_int_equal (stats.records_acked, 10);
    assert_int_equal (stats.resent, 0);
    zetl_producer_destroy (&producer);
}

static void
test_send_timeout (void **state)
{
    env_t *env = (env_t *) *state;
    zetl_producer_options_t options;
    s_options (&options);
    options.batch_size = 1;
    options.window = 1;
    options.send_timeout_ms = 200;
    zetl_producer_t *producer = s_producer (env, "producer-t", "clicks", &options);
    s_tell (env, "HOLD", 0);
    s_send_records (producer, 0, 2);  //  One in the window, one full batch waiting

    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    s_record (&buffer, 2);
    int64_t started = zclock_mono ();
    assert_int_equal (zetl_producer_send (producer, buffer.data, buffer.size), -1);
    assert_int_equal (errno, EAGAIN);
    assert_true (zclock_mono () - started >= 190);
    const char *error = NULL;
    assert_int_equal (zetl_producer_send_json (producer, "{\"i\":2}", 7, &error), -1);
    assert_int_equal (errno, EAGAIN);
    assert_non_null (error);
    assert_int_equal (zetl_producer_flush (producer, 100), -1);
    assert_int_equal (errno, ETIMEDOUT);

    zetl_producer_stats_t stats;
    zetl_producer_stats (producer, &stats);
    assert_int_equal (stats.records, 2);  //  The refused ones were not taken
    s_tell (env, "RELEASE", 0);
    assert_int_equal (zetl_producer_send (producer, buffer.data, buffer.size), 0);
    msgpack_sbuffer_destroy (&buffer);
    assert_int_equal (zetl_producer_flush (producer, S_WAIT_MS), 0);
    for (uint64_t sequence = 1; sequence <= 3; sequence++) {
        zetl_msg_t *batch = s_expect_batch (env, sequence, 1, 0, S_EPOCH);
        s_check_body (batch, "producer-t", (int) sequence - 1);
        zetl_msg_destroy (&batch);
    }
    zetl_producer_destroy (&producer);
}

static void
test_resend_after_drop (void **state)
{
    env_t *env = (env_t *) *state;
    zetl_producer_options_t options;
    s_options (&options);
    options.batch_size = 2;
    options.resend_ms = 300;
    zetl_producer_t *producer = s_producer (env, "producer-r", "clicks", &options);
    s_tell (env, "DROP", 2);
    s_send_records (producer, 0, 6);
    assert_int_equal (zetl_producer_flush (producer, S_WAIT_MS), 0);

    //  1 taken; 2 lost; 3 dropped after the gap; then 2 and 3 again, the same
    zetl_msg_t *first[4] = {NULL};
    for (uint64_t sequence = 1; sequence <= 3; sequence++)
        first[sequence] = s_expect_batch (env, sequence, 2, 0, S_EPOCH);
    for (uint64_t sequence = 2; sequence <= 3; sequence++) {
        zetl_msg_t *again = s_expect_batch (env, sequence, 2, 0, S_EPOCH);
        assert_int_equal (again->attempt, 2);
        assert_int_equal (zframe_size (again->body), zframe_size (first[sequence]->body));
        assert_memory_equal (zframe_data (again->body), zframe_data (first[sequence]->body),
                             zframe_size (again->body));
        s_check_body (again, "producer-r", (int) (sequence - 1) * 2);
        zetl_msg_destroy (&again);
    }
    for (int index = 1; index <= 3; index++)
        zetl_msg_destroy (&first[index]);
    s_expect_nothing (env, 100);

    zetl_producer_stats_t stats;
    zetl_producer_stats (producer, &stats);
    assert_int_equal (stats.batches, 3);
    assert_int_equal (stats.resent, 2);
    assert_int_equal (stats.acked, 3);
    zetl_producer_destroy (&producer);
}

static void
test_new_session_resends (void **state)
{
    env_t *env = (env_t *) *state;
    zetl_producer_options_t options;
    s_options (&options);
    options.batch_size = 2;
    options.resend_ms = 300;
    zetl_producer_t *producer = s_producer (env, "producer-s", "events", &options);
    s_tell (env, "HOLD", 0);
    s_send_records (producer, 0, 4);
    for (uint64_t sequence = 1; sequence <= 2; sequence++) {
        zetl_msg_t *batch = s_expect_batch (env, sequence, 2, 1, S_EPOCH);
        zetl_msg_destroy (&batch);
    }
    //  The coordinator restarts: our next resend meets a stranger, which
    //  says so; we say HELLO, and send everything again in the new epoch
    s_tell (env, "RESTART", 0);
    assert_int_equal (zetl_producer_flush (producer, S_WAIT_MS), 0);
    for (uint64_t sequence = 1; sequence <= 2; sequence++) {
        zetl_msg_t *batch = s_expect_batch (env, sequence, 2, 1, S_EPOCH);
        zetl_msg_destroy (&batch);
    }
    s_expect_hello (env, "producer-s");
    for (uint64_t sequence = 1; sequence <= 2; sequence++) {
        zetl_msg_t *batch = s_expect_batch (env, sequence, 2, 1, S_EPOCH + 1);
        s_check_body (batch, "producer-s", (int) (sequence - 1) * 2);
        zetl_msg_destroy (&batch);
    }
    s_expect_nothing (env, 100);

    //  An ERROR UNKNOWN_PEER on its own also makes a new session
    s_tell (env, "ERROR", ZETL_ERR_UNKNOWN_PEER);
    zetl_producer_poll (producer, 100);
    s_expect_hello (env, "producer-s");
    s_send_records (producer, 4, 2);
    assert_int_equal (zetl_producer_flush (producer, S_WAIT_MS), 0);
    zetl_msg_t *batch = s_expect_batch (env, 3, 2, 1, S_EPOCH + 1);
    zetl_msg_destroy (&batch);

    //  Other errors are logged only
    s_tell (env, "ERROR", ZETL_ERR_DATA);
    zetl_producer_poll (producer, 100);
    s_expect_nothing (env, 100);
    zetl_producer_stats_t stats;
    zetl_producer_stats (producer, &stats);
    assert_int_equal (stats.batches, 3);
    assert_int_equal (stats.acked, 3);
    assert_int_equal (stats.resent, 4);
    zetl_producer_destroy (&producer);
}

static void
test_numbering_after_restart (void **state)
{
    env_t *env = (env_t *) *state;
    //  The coordinator ACKed up to 41 for this name before we started
    s_tell (env, "HIGH", 41);
    zetl_producer_options_t options;
    s_options (&options);
    zetl_producer_t *producer = s_producer (env, "producer-n", "clicks", &options);
    s_send_records (producer, 0, 3);
    assert_int_equal (zetl_producer_flush (producer, S_WAIT_MS), 0);
    zetl_msg_t *batch = s_expect_batch (env, 42, 3, 0, S_EPOCH);
    s_check_body (batch, "producer-n", 0);
    zetl_msg_destroy (&batch);
    zetl_producer_destroy (&producer);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_window_blocks, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_send_timeout, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_resend_after_drop, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_new_session_resends, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_numbering_after_restart, s_setup, s_teardown),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    zsys_shutdown ();
    return rc;
}
