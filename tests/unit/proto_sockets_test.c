/*  proto_sockets_test - messages on real sockets: DEALER to ROUTER and back
    with the routing id, a bad message still telling the ROUTER who sent it,
    and sends that never block (an unknown peer, no connection, a full
    queue), leaving the message whole to send again
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "proto_fixtures.h"

static void
test_send_and_receive (void **state)
{
    (void) state;
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    zsock_set_router_mandatory (router, 1);
    zsock_set_rcvtimeo (router, 5000);
    assert_int_equal (zsock_bind (router, "inproc://proto-test-send"), 0);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_set_identity (dealer, "worker-1");
    zsock_set_rcvtimeo (dealer, 5000);
    assert_int_equal (zsock_connect (dealer, "inproc://proto-test-send"), 0);

    //  DEALER -> ROUTER, twice with the same message: the body is not consumed
    size_t names_size, ends[7];
    zframe_t *body = s_sample_body (&names_size, ends);
    zframe_t *expected = zframe_dup (body);
    zetl_msg_t *msg = zetl_msg_new (ZETL_MSG_RESULT);
    msg->count = 7;
    msg->batch_id = 99;
    zetl_msg_set_str (&msg->sink, "pg");
    zetl_msg_set_body (msg, &body);
    for (int i = 0; i < 2; i++)
        assert_int_equal (zetl_msg_send (msg, dealer), 0);
    assert_true (zframe_eq (msg->body, expected));
    zframe_t *routing_id = NULL;
    for (int i = 0; i < 2; i++) {
        const char *reason;
        zetl_msg_t *got = zetl_msg_recv_router (router, &routing_id, &reason);
        assert_non_null (got);
        assert_non_null (routing_id);
        assert_true (zframe_streq (routing_id, "worker-1"));
        assert_int_equal (got->type, ZETL_MSG_RESULT);
        assert_int_equal (got->batch_id, 99);
        assert_string_equal (got->sink, "pg");
        assert_true (zframe_eq (got->body, expected));
        zetl_msg_destroy (&got);
        if (i == 0)
            zframe_destroy (&routing_id);
    }

    //  ROUTER -> DEALER, with the routing id kept by the caller
    zetl_msg_t *reply = zetl_msg_new (ZETL_MSG_READY);
    reply->credit = 4;
    assert_int_equal (zetl_msg_send_router (reply, router, routing_id), 0);
    assert_true (zframe_streq (routing_id, "worker-1"));
    const char *reason;
    zetl_msg_t *got = zetl_msg_recv (dealer, &reason);
    assert_non_null (got);
    assert_int_equal (got->type, ZETL_MSG_READY);
    assert_int_equal (got->credit, 4);
    assert_null (got->body);
    zetl_msg_destroy (&got);
    zetl_msg_destroy (&reply);
    zframe_destroy (&routing_id);

    //  Garbage: the ROUTER still learns who sent it, to answer ERROR
    zstr_send (dealer, "garbage");
    got = zetl_msg_recv_router (router, &routing_id, &reason);
    assert_null (got);
    assert_non_null (reason);
    assert_non_null (routing_id);
    assert_true (zframe_streq (routing_id, "worker-1"));
    zframe_destroy (&routing_id);
    //  Many frames: refused, and the next message still arrives whole
    zmsg_t *many = zmsg_new ();
    for (int i = 0; i < 50; i++)
        zmsg_addstr (many, "x");
    assert_int_equal (zmsg_send (&many, dealer), 0);
    got = zetl_msg_recv_router (router, &routing_id, &reason);
    assert_null (got);
    s_assert_reason (reason, "too many frames");
    zframe_destroy (&routing_id);
    //  One empty frame
    zmsg_t *empty = zmsg_new ();
    zmsg_addmem (empty, NULL, 0);
    assert_int_equal (zmsg_send (&empty, dealer), 0);
    got = zetl_msg_recv_router (router, &routing_id, &reason);
    assert_null (got);
    assert_non_null (routing_id);
    assert_non_null (reason);
    zframe_destroy (&routing_id);
    assert_int_equal (zetl_msg_send (msg, dealer), 0);
    got = zetl_msg_recv_router (router, &routing_id, &reason);
    assert_non_null (got);
    assert_int_equal (got->count, 7);
    zetl_msg_destroy (&got);
    zframe_destroy (&routing_id);
    //  A DEALER gets a bad message as well
    zmsg_t *bad = zmsg_new ();
    zmsg_addstr (bad, "worker-1");
    zmsg_addmem (bad, "\xc1", 1);
    assert_int_equal (zmsg_send (&bad, router), 0);
    got = zetl_msg_recv (dealer, &reason);
    assert_null (got);
    s_assert_reason (reason, "bad msgpack");

    zframe_destroy (&expected);
    zetl_msg_destroy (&msg);
    zsock_destroy (&dealer);
    zsock_destroy (&router);
}

static void
test_sends_never_block (void **state)
{
    (void) state;
    zetl_msg_t *msg = zetl_msg_new (ZETL_MSG_HEARTBEAT);
    zframe_t *body = zframe_new ("opaque body bytes, long enough not to fit a small frame", 55);
    zframe_t *expected = zframe_dup (body);
    zetl_msg_set_body (msg, &body);

    //  A ROUTER with ROUTER_MANDATORY: an unknown peer is EHOSTUNREACH
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    zsock_set_router_mandatory (router, 1);
    zsock_set_sndhwm (router, 2);
    assert_int_equal (zsock_bind (router, "inproc://proto-test-block"), 0);
    zframe_t *nobody = zframe_from ("nobody");
    errno = 0;
    assert_int_equal (zetl_msg_send_router (msg, router, nobody), -1);
    assert_int_equal (errno, EHOSTUNREACH);
    assert_true (zframe_streq (nobody, "nobody"));
    assert_true (zframe_eq (msg->body, expected));

    //  A DEALER with ZMQ_IMMEDIATE and no live connection: EAGAIN, at once
    zsock_t *lonely = zsock_new (ZMQ_DEALER);
    zsock_set_immediate (lonely, 1);
    char endpoint[128];
    snprintf (endpoint, sizeof (endpoint), "ipc:///tmp/zetl-proto-test-%d-none", (int) getpid ());
    zsock_connect (lonely, "%s", endpoint);
    int64_t start = zclock_mono ();
    errno = 0;
    assert_int_equal (zetl_msg_send (msg, lonely), -1);
    assert_int_equal (errno, EAGAIN);
    assert_true (zclock_mono () - start < 1000);
    assert_true (zframe_eq (msg->body, expected));

    //  A peer that reads nothing: the ROUTER's queue fills, then EAGAIN
    zsock_t *slow = zsock_new (ZMQ_DEALER);
    zsock_set_identity (slow, "slow");
    zsock_set_rcvhwm (slow, 2);
    assert_int_equal (zsock_connect (slow, "inproc://proto-test-block"), 0);
    zframe_t *slow_id = zframe_from ("slow");
    //  The ROUTER learns the peer when it says something
    assert_int_equal (zetl_msg_send (msg, slow), 0);
    const char *reason;
    zframe_t *routing_id;
    zsock_set_rcvtimeo (router, 5000);
    zetl_msg_t *got = zetl_msg_recv_router (router, &routing_id, &reason);
    assert_non_null (got);
    zetl_msg_destroy (&got);
    zframe_destroy (&routing_id);
    int sent = 0, rc = 0;
    while (sent < 100000 && (rc = zetl_msg_send_router (msg, router, slow_id)) == 0)
        sent++;
    assert_int_equal (rc, -1);
    assert_int_equal (errno, EAGAIN);
    assert_true (sent >= 1);
    assert_true (zframe_eq (msg->body, expected));
    //  What did go out arrives whole
    zsock_set_rcvtimeo (slow, 5000);
    for (int i = 0; i < sent; i++) {
        got = zetl_msg_recv (slow, &reason);
        assert_non_null (got);
        assert_true (zframe_eq (got->body, expected));
        zetl_msg_destroy (&got);
    }

    zframe_destroy (&slow_id);
    zframe_destroy (&nobody);
    zframe_destroy (&expected);
    zetl_msg_destroy (&msg);
    zsock_destroy (&slow);
    zsock_destroy (&lonely);
    zsock_destroy (&router);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_send_and_receive),
        cmocka_unit_test (test_sends_never_block),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
