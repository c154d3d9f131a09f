/*  proto_body_test - BATCH and RESULT bodies: what the body writer writes,
    the reader reads back entry by entry, payloads built or left packed; a
    reader held to the header's count; a malformed body read up to its bad
    entry; the writer reused, with many sources, and fast
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>

#include "proto_fixtures.h"

//  Assert OBJ packs back to exactly EXPECTED (packed with msgpack-c's packer)
static void
s_assert_payload (const msgpack_object *obj, const void *expected, size_t size)
{
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &out, msgpack_sbuffer_write);
    msgpack_pack_object (&pk, *obj);
    assert_int_equal (out.size, size);
    assert_memory_equal (out.data, expected, size);
    msgpack_sbuffer_destroy (&out);
}

static void
test_body_round_trip (void **state)
{
    (void) state;
    msgpack_sbuffer payloads[5];
    s_make_payloads (payloads);
    size_t names_size, ends[7];
    zframe_t *body = s_sample_body (&names_size, ends);

    const char *reason = "unset";
    zetl_body_reader_t *reader = zetl_body_reader_new (body, &reason);
    assert_non_null (reader);
    assert_int_equal (zetl_body_reader_sources (reader), 3);
    assert_string_equal (zetl_body_reader_source_name (reader, 0), "bookings.jsonl");
    assert_string_equal (zetl_body_reader_source_name (reader, 1), "producer-7");
    assert_string_equal (zetl_body_reader_source_name (reader, 2), "bookings@run-42");
    for (int i = 0; i < 7; i++) {
        zetl_entry_t entry;
        assert_int_equal (zetl_body_reader_next (reader, &entry, &reason), 1);
        assert_int_equal (entry.source, i % 3);
        if (i == 5) {
            assert_int_equal (entry.position, 5);
            assert_true (entry.event_us == -5);
            assert_int_equal (entry.flags, ZETL_ENTRY_DUPLICATE);
            assert_false (entry.has_hash);
            assert_int_equal (entry.payload.type, MSGPACK_OBJECT_NIL);
            continue;
        }
        assert_int_equal (entry.position, 1000 + i);
        assert_true (entry.event_us == 1700000000000000LL + i);
        assert_int_equal (entry.flags, i % 2 ? ZETL_ENTRY_LATE : 0);
        assert_int_equal (entry.has_hash, i % 2 == 1);
        if (entry.has_hash)
            for (int b = 0; b < 16; b++)
                assert_int_equal (entry.hash[b], 0xa0 + b);
        s_assert_payload (&entry.payload, payloads[i % 5].data, payloads[i % 5].size);
        //  The payload's bytes, as they are in the body
        assert_int_equal (entry.packed_size, payloads[i % 5].size);
        assert_memory_equal (entry.packed, payloads[i % 5].data, entry.packed_size);
        assert_true (entry.packed + entry.packed_size == zframe_data (body) + ends[i]);
    }
    zetl_entry_t entry;
    assert_int_equal (zetl_body_reader_next (reader, &entry, &reason), 0);
    assert_int_equal (zetl_body_reader_next (reader, &entry, &reason), 0);
    zetl_body_reader_destroy (&reader);
    assert_null (reader);
    zframe_destroy (&body);
    for (int i = 0; i < 5; i++)
        msgpack_sbuffer_destroy (&payloads[i]);
}

//  Payloads left packed: the same entries, payloads as bytes only
static void
test_body_read_packed (void **state)
{
    (void) state;
    msgpack_sbuffer payloads[5];
    s_make_payloads (payloads);
    size_t names_size, ends[7];
    zframe_t *body = s_sample_body (&names_size, ends);
    zetl_msg_t *msg = zetl_msg_new (ZETL_MSG_BATCH);
    msg->count = 7;
    zetl_msg_set_body (msg, &body);
    const char *reason = "unset";
    zetl_body_reader_t *reader = zetl_msg_body_reader (msg, &reason);
    assert_non_null (reader);
    assert_null (reason);
    for (int i = 0; i < 7; i++) {
        zetl_entry_t entry;
        assert_int_equal (zetl_body_reader_next_packed (reader, &entry, &reason), 1);
        assert_int_equal (entry.source, i % 3);
        assert_int_equal (entry.payload.type, MSGPACK_OBJECT_NIL);
        if (i == 5) {
            assert_int_equal (entry.packed_size, 1);
            assert_int_equal (entry.packed[0], 0xc0);
            continue;
        }
        assert_int_equal (entry.position, 1000 + i);
        assert_int_equal (entry.packed_size, payloads[i % 5].size);
        assert_memory_equal (entry.packed, payloads[i % 5].data, entry.packed_size);
        //  Built after all, the payload is the tree zetl_body_reader_next gives
        zetl_body_reader_build_payload (reader, &entry);
        msgpack_sbuffer again;
        msgpack_sbuffer_init (&again);
        msgpack_packer packer;
        msgpack_packer_init (&packer, &again, msgpack_sbuffer_write);
        assert_int_equal (msgpack_pack_object (&packer, entry.payload), 0);
        assert_int_equal (again.size, entry.packed_size);
        assert_memory_equal (again.data, entry.packed, entry.packed_size);
        msgpack_sbuffer_destroy (&again);
    }
    zetl_entry_t entry;
    assert_int_equal (zetl_body_reader_next_packed (reader, &entry, &reason), 0);
    assert_null (reason);
    zetl_body_reader_destroy (&reader);
    zetl_msg_destroy (&msg);
    //  No body and count 0: nothing to read
    msg = zetl_msg_new (ZETL_MSG_RESULT);
    reader = zetl_msg_body_reader (msg, &reason);
    assert_non_null (reader);
    assert_int_equal (zetl_body_reader_sources (reader), 0);
    assert_int_equal (zetl_body_reader_next (reader, &entry, &reason), 0);
    zetl_body_reader_destroy (&reader);
    zetl_msg_destroy (&msg);
    for (int i = 0; i < 5; i++)
        msgpack_sbuffer_destroy (&payloads[i]);
}

//  A malformed body: a BATCH or a RESULT carrying it decodes, and its reader
//  reads the good entries before the bad one, then fails with the reason
//  zetl_body_check gives, and keeps failing
static void
test_batch_body_checked_as_read (void **state)
{
    (void) state;
    const char *names[] = {"a", "b"};
    const uint32_t sources[] = {0, 1, 2, 0};  //  The third is out of range
    zframe_t *bad = s_raw_body_frame (names, 2, sources, 4);
    for (int type = ZETL_MSG_BATCH; type <= ZETL_MSG_RESULT; type++) {
        zetl_msg_t *msg = zetl_msg_new ((zetl_msg_type_t) type);
        msg->count = 4;
        zframe_t *body = zframe_dup (bad);
        zetl_msg_set_body (msg, &body);
        zmsg_t *zmsg = zetl_msg_encode (msg);
        zetl_msg_destroy (&msg);
        const char *reason = NULL;
        msg = zetl_msg_decode (&zmsg, &reason);
        assert_non_null (msg);
        assert_null (reason);
        assert_string_equal (zetl_body_check (msg->body, msg->count),
                             "entry source index out of range");
        zetl_body_reader_t *reader = zetl_msg_body_reader (msg, &reason);
        assert_non_null (reader);
        zetl_entry_t entry;
        assert_int_equal (zetl_body_reader_next_packed (reader, &entry, &reason), 1);
        assert_int_equal (zetl_body_reader_next_packed (reader, &entry, &reason), 1);
        assert_int_equal (zetl_body_reader_next_packed (reader, &entry, &reason), -1);
        s_assert_reason (reason, "entry source index out of range");
        reason = NULL;
        assert_int_equal (zetl_body_reader_next (reader, &entry, &reason), -1);
        s_assert_reason (reason, "entry source index out of range");
        zetl_body_reader_destroy (&reader);
        zetl_msg_destroy (&msg);
    }
    zframe_destroy (&bad);
    //  The plain reader knows no count: it reads what is there
    const uint32_t good[] = {0, 1, 0};
    zframe_t *body = s_raw_body_frame (names, 2, good, 3);
    uint32_t entries;
    const char *reason;
    assert_int_equal (s_read_all (body, &entries, &reason), 0);
    assert_int_equal (entries, 3);
    //  Held to a count, too few or too many is an error, found where it shows
    const struct {
        uint32_t count;
        uint32_t read;  //  entries read before the error
        const char *expected;
    } cases[] = {
        {4, 3, "fewer entries than count"},
        {2, 2, "more entries than count"},
        {0, 0, "more entries than count"},
    };
    for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++) {
        zetl_msg_t *msg = zetl_msg_new (ZETL_MSG_BATCH);
        msg->count = cases[i].count;
        zframe_t *copy = zframe_dup (body);
        zetl_msg_set_body (msg, &copy);
        zetl_body_reader_t *reader = zetl_msg_body_reader (msg, &reason);
        zetl_entry_t entry;
        uint32_t read = 0;
        int rc;
        while ((rc = zetl_body_reader_next_packed (reader, &entry, &reason)) == 1)
            read++;
        assert_int_equal (rc, -1);
        assert_int_equal (read, cases[i].read);
        s_assert_reason (reason, "record count does not match the body");
        s_assert_reason (reason, cases[i].expected);
        zetl_body_reader_destroy (&reader);
        zetl_msg_destroy (&msg);
    }
    zframe_destroy (&body);
}

static void
test_body_writer_reuse_and_many_sources (void **state)
{
    (void) state;
    zetl_body_writer_t *writer = zetl_body_writer_new ();
    assert_int_equal (zetl_body_writer_count (writer), 0);
    assert_int_equal (zetl_body_writer_size (writer), 0);

    //  An empty body: no sources, no entries
    zframe_t *body = zetl_body_writer_finish (writer);
    uint32_t entries;
    const char *reason;
    assert_int_equal (s_read_all (body, &entries, &reason), 0);
    assert_int_equal (entries, 0);
    assert_null (s_decode_with_body (ZETL_MSG_BATCH, 0, body));

    //  Many sources, asked for out of order and again
    for (int round = 0; round < 2; round++) {
        char name[32];
        for (int i = 0; i < 50; i++) {
            snprintf (name, sizeof (name), "producer-%d", i);
            assert_int_equal (zetl_body_writer_source (writer, name), i);
        }
        for (int i = 49; i >= 0; i--) {
            snprintf (name, sizeof (name), "producer-%d", i);
            uint32_t source = zetl_body_writer_source (writer, name);
            assert_int_equal (source, i);
            zetl_body_writer_append (writer, source, i, i, 0, NULL, NULL, 0);
        }
        assert_int_equal (zetl_body_writer_count (writer), 50);
        assert_int_equal (zetl_body_writer_size (writer),
                          50 * 7);  //  7 bytes: all small values, nil, nil
        body = zetl_body_writer_finish (writer);
        assert_int_equal (zetl_body_writer_count (writer), 0);
        assert_int_equal (zetl_body_writer_size (writer), 0);

        zetl_body_reader_t *reader = zetl_body_reader_new (body, &reason);
        assert_non_null (reader);
        assert_int_equal (zetl_body_reader_sources (reader), 50);
        assert_string_equal (zetl_body_reader_source_name (reader, 49), "producer-49");
        zetl_entry_t entry;
        for (int i = 49; i >= 0; i--) {
            assert_int_equal (zetl_body_reader_next (reader, &entry, &reason), 1);
            assert_int_equal (entry.source, i);
            assert_int_equal (entry.position, i);
        }
        assert_int_equal (zetl_body_reader_next (reader, &entry, &reason), 0);
        zetl_body_reader_destroy (&reader);
        assert_null (s_decode_with_body (ZETL_MSG_RESULT, 50, body));
        //  After finish the names start again from 0
        assert_int_equal (zetl_body_writer_source (writer, "producer-7"), 0);
        zframe_t *small = zetl_body_writer_finish (writer);
        zframe_destroy (&small);
    }
    zetl_body_writer_destroy (&writer);
    assert_null (writer);
    zetl_body_writer_destroy (&writer);
}

static void
test_body_writer_is_fast (void **state)
{
    (void) state;
    //  1000 entries of ~300-byte payloads: well under a millisecond on any
    //  machine of this decade; the bound here is loose for sanitizers and
    //  shared CI runners, and only catches a per-entry allocation or copy gone wrong
    msgpack_sbuffer payload;
    msgpack_sbuffer_init (&payload);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &payload, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 10);
    char value[26];
    memset (value, 'v', sizeof (value));
    for (int i = 0; i < 10; i++) {
        char key[8];
        snprintf (key, sizeof (key), "field%d", i % 10);
        s_pack_cstr (&pk, key);
        msgpack_pack_str_with_body (&pk, value, sizeof (value));
    }
    uint8_t hash[16] = {1};
    zetl_body_writer_t *writer = zetl_body_writer_new ();
    int64_t best_us = INT64_MAX;
    for (int rep = 0; rep < 6; rep++) {
        int64_t start = zclock_usecs ();
        uint32_t source = zetl_body_writer_source (writer, "bookings.jsonl");
        for (int i = 0; i < 1000; i++)
            zetl_body_writer_append (writer, source, i, i, 0, hash, payload.data, payload.size);
        zframe_t *body = zetl_body_writer_finish (writer);
        int64_t took = zclock_usecs () - start;
        if (rep > 0 && took < best_us)
            best_us = took;  //  The first round warms the buffers up
        assert_true (zframe_size (body) > 1000 * payload.size);
        zframe_destroy (&body);
    }
    print_message ("body writer: 1000 entries of %zu bytes in %lld us\n", payload.size,
                   (long long) best_us);
    assert_true (best_us < 20000);
    zetl_body_writer_destroy (&writer);
    msgpack_sbuffer_destroy (&payload);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_body_round_trip),
        cmocka_unit_test (test_body_read_packed),
        cmocka_unit_test (test_batch_body_checked_as_read),
        cmocka_unit_test (test_body_writer_reuse_and_many_sources),
        cmocka_unit_test (test_body_writer_is_fast),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
