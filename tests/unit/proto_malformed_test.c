/*  proto_malformed_test - malformed bodies, one class per test: bytes that
    are not msgpack (in a body, and in a header as a whole), a count that
    does not match, a source index out of range, a hash of the wrong length,
    bytes after the last entry, entries of the wrong shape, hostile lengths
    and nesting; every prefix of a valid body, and random damage to a body
    and a header, which never crashes the codec. A header's fields one by
    one are in proto_header_test.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdbool.h>

#include "proto_fixtures.h"

static void
test_bad_msgpack (void **state)
{
    (void) state;
    //  0xc1 is never used in msgpack
    uint8_t never[] = {0xc1};
    s_assert_reason (s_decode_header_only (zframe_new (never, 1)), "bad msgpack");
    s_assert_reason (s_decode_header_only (s_header_with (16, 5, never, 1)), "bad msgpack");
    //  Text, not msgpack
    s_assert_reason (s_decode_header_only (zframe_new ("hello", 5)), "short frame");
    //  Bytes left over after the header array
    zframe_t *header = s_header_with (16, 99, NULL, 0);
    zframe_t *longer = zframe_new (NULL, zframe_size (header) + 1);
    memcpy (zframe_data (longer), zframe_data (header), zframe_size (header));
    zframe_data (longer)[zframe_size (header)] = 0x00;
    zframe_destroy (&header);
    s_assert_reason (s_decode_header_only (longer), "trailing bytes");
    //  A body that is not msgpack
    s_assert_reason (s_decode_with_body (ZETL_MSG_BATCH, 1, zframe_new ("\xc1\xc1\xc1", 3)),
                     "body");
    s_assert_reason (s_decode_with_body (ZETL_MSG_RESULT, 0, zframe_new ("", 0)), "body");
    //  A bad entry inside a body
    packed_t packed;
    s_raw_entry_head (&packed);
    msgpack_sbuffer_write (&packed.buffer, "\xc1", 1);
    s_assert_reason (s_decode_with_body (ZETL_MSG_BATCH, 1, s_packed_frame (&packed)),
                     "bad msgpack");
}

static void
test_count_does_not_match_body (void **state)
{
    (void) state;
    const char *names[] = {"a", "b"};
    const uint32_t sources[] = {0, 1};
    // clang-format off
    const struct {
        zetl_msg_type_t type;  //  of the message
        uint32_t count;        //  in its header
        size_t entries;        //  in its body: from sources[0..entries)
        const char *expected;  //  the reason, or NULL when it decodes
    } cases[] = {
        {ZETL_MSG_BATCH,  3, 2, "record count does not match the body"},  //  Fewer than count
        {ZETL_MSG_RESULT, 1, 2, "record count does not match the body"},  //  More than count
        {ZETL_MSG_BATCH,  0, 1, "record count does not match the body"},  //  Some, count 0
        {ZETL_MSG_BATCH,  2, 2, NULL},                                     //  Just right
    };
    // clang-format on
    for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++) {
        zframe_t *body = s_raw_body_frame (names, 2, sources, cases[i].entries);
        const char *reason = s_decode_with_body (cases[i].type, cases[i].count, body);
        if (cases[i].expected)
            s_assert_reason (reason, cases[i].expected);
        else
            assert_null (reason);
    }
    //  A count but no body; no body with count 0
    s_assert_reason (s_decode_with_body (ZETL_MSG_BATCH, 1, NULL), "body");
    assert_null (s_decode_with_body (ZETL_MSG_RESULT, 0, NULL));
    //  Other types' bodies are opaque: their count says nothing about them
    assert_null (s_decode_with_body (ZETL_MSG_COMMIT, 1000, zframe_new ("\xc1", 1)));
}

static void
test_source_index_out_of_range (void **state)
{
    (void) state;
    const char *names[] = {"a", "b"};
    const struct {
        size_t names;         //  source names in the body: from names[0..names)
        uint32_t sources[2];  //  of its entries
        size_t entries;       //  entries in the body
        uint32_t good;        //  entries read before the bad one
    } cases[] = {
        {2, {0, 2}, 2, 1},  //  One past the last name
        {0, {0}, 1, 0},     //  No names at all: every index is out of range
    };
    for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++) {
        zframe_t *body =
            s_raw_body_frame (names, cases[i].names, cases[i].sources, cases[i].entries);
        uint32_t entries;
        const char *reason;
        assert_int_equal (s_read_all (body, &entries, &reason), -1);
        assert_int_equal (entries, cases[i].good);
        s_assert_reason (reason, "source index out of range");
        s_assert_reason (s_decode_with_body (ZETL_MSG_BATCH, (uint32_t) cases[i].entries, body),
                         "source index out of range");
    }
}

static void
test_hash_of_wrong_length (void **state)
{
    (void) state;
    const char *names[] = {"a"};
    const size_t lengths[] = {0, 15, 17, 32};
    for (int i = 0; i < 5; i++) {
        packed_t packed;
        s_raw_body (&packed, names, 1);
        msgpack_pack_array (&packed.pk, 6);
        msgpack_pack_uint32 (&packed.pk, 0);
        msgpack_pack_uint64 (&packed.pk, 1);
        msgpack_pack_int64 (&packed.pk, 1);
        msgpack_pack_uint32 (&packed.pk, 0);
        if (i < 4)
            msgpack_pack_bin_with_body (&packed.pk, "0123456789abcdef0123456789abcdef", lengths[i]);
        else  //  16 bytes, but a string
            msgpack_pack_str_with_body (&packed.pk, "0123456789abcdef", 16);
        msgpack_pack_nil (&packed.pk);
        zframe_t *body = s_packed_frame (&packed);
        uint32_t entries;
        const char *reason;
        assert_int_equal (s_read_all (body, &entries, &reason), -1);
        s_assert_reason (reason, "hash");
        s_assert_reason (s_decode_with_body (ZETL_MSG_RESULT, 1, body), "hash");
    }
}

static void
test_trailing_garbage_after_entries (void **state)
{
    (void) state;
    size_t names_size, ends[7];
    zframe_t *body = s_sample_body (&names_size, ends);
    const char *garbage[] = {"\xc1", "\x00", "\x96\x00", "\xa5hello"};
    const size_t sizes[] = {1, 1, 2, 6};
    for (int i = 0; i < 4; i++) {
        zframe_t *longer = zframe_new (NULL, zframe_size (body) + sizes[i]);
        memcpy (zframe_data (longer), zframe_data (body), zframe_size (body));
        memcpy (zframe_data (longer) + zframe_size (body), garbage[i], sizes[i]);
        uint32_t entries;
        const char *reason;
        assert_int_equal (s_read_all (longer, &entries, &reason), -1);
        assert_int_equal (entries, 7);
        assert_non_null (reason);
        s_assert_reason (s_decode_with_body (ZETL_MSG_BATCH, 7, longer), "trailing bytes");
    }
    zframe_destroy (&body);
}

static void
test_malformed_entries (void **state)
{
    (void) state;
    const char *names[] = {"a"};
    packed_t packed;
    uint32_t entries;
    const char *reason;

    //  Not an array of 6
    for (int size = 0; size < 8; size++) {
        if (size == 6)
            continue;
        s_raw_body (&packed, names, 1);
        msgpack_pack_array (&packed.pk, size);
        for (int i = 0; i < size; i++)
            msgpack_pack_uint8 (&packed.pk, 0);
        zframe_t *body = s_packed_frame (&packed);
        assert_int_equal (s_read_all (body, &entries, &reason), -1);
        s_assert_reason (reason, "array of 6");
        zframe_destroy (&body);
    }
    //  Fields of the wrong type: a negative position, a float event time, a
    //  string flags field
    for (int field = 0; field < 4; field++) {
        s_raw_body (&packed, names, 1);
        msgpack_pack_array (&packed.pk, 6);
        msgpack_pack_uint32 (&packed.pk, 0);
        if (field == 1)
            msgpack_pack_int (&packed.pk, -1);
        else
            msgpack_pack_uint64 (&packed.pk, 1);
        if (field == 2)
            msgpack_pack_double (&packed.pk, 1.0);
        else
            msgpack_pack_int64 (&packed.pk, 1);
        if (field == 3)
            s_pack_cstr (&packed.pk, "late");
        else
            msgpack_pack_uint32 (&packed.pk, 0);
        msgpack_pack_nil (&packed.pk);
        msgpack_pack_nil (&packed.pk);
        zframe_t *body = s_packed_frame (&packed);
        if (field == 0)
            assert_int_equal (s_read_all (body, &entries, &reason), 0);
        else {
            assert_int_equal (s_read_all (body, &entries, &reason), -1);
            s_assert_reason (reason, field == 1 ? "position" : field == 2 ? "event_us" : "flags");
        }
        zframe_destroy (&body);
    }
    //  Source names that are not strings or not UTF-8
    s_packed_init (&packed);
    msgpack_pack_array (&packed.pk, 1);
    msgpack_pack_int (&packed.pk, 1);
    zframe_t *body = s_packed_frame (&packed);
    assert_null (zetl_body_reader_new (body, &reason));
    s_assert_reason (reason, "source name");
    s_assert_reason (s_decode_with_body (ZETL_MSG_BATCH, 0, body), "source name");
    s_packed_init (&packed);
    msgpack_pack_array (&packed.pk, 1);
    msgpack_pack_str_with_body (&packed.pk, "a\0b", 3);
    body = s_packed_frame (&packed);
    assert_null (zetl_body_reader_new (body, &reason));
    s_assert_reason (reason, "source name");
    zframe_destroy (&body);
}

//  Huge declared lengths and deep nesting fail fast, with no huge allocation
static void
test_hostile_lengths_and_depth (void **state)
{
    (void) state;
    const char *reason;
    uint32_t entries;
    //  A names array that claims 4 billion names
    zframe_t *body = zframe_new ("\xdd\xff\xff\xff\xff", 5);
    assert_null (zetl_body_reader_new (body, &reason));
    s_assert_reason (reason, "truncated");
    zframe_destroy (&body);

    //  An entry whose payload claims 4 billion elements, then 2 billion pairs
    const char *heads[] = {"\xdd\xff\xff\xff\xff", "\xdf\x7f\xff\xff\xff", "\xdb\xff\xff\xff\xff",
                           "\xc6\xff\xff\xff\xff", "\xc9\xff\xff\xff\xff\x01"};
    const size_t head_sizes[] = {5, 5, 5, 5, 6};
    for (int i = 0; i < 5; i++) {
        packed_t packed;
        s_raw_entry_head (&packed);
        msgpack_sbuffer_write (&packed.buffer, heads[i], head_sizes[i]);
        msgpack_sbuffer_write (&packed.buffer, "\xc0\xc0\xc0\xc0", 4);
        body = s_packed_frame (&packed);
        assert_int_equal (s_read_all (body, &entries, &reason), -1);
        s_assert_reason (reason, "truncated");
        s_assert_reason (s_decode_with_body (ZETL_MSG_BATCH, 1, body), "truncated");
    }

    //  Nesting: 100 arrays deep is fine, 101 is not
    for (int depth = 99; depth <= 102; depth++) {
        packed_t packed;
        s_raw_entry_head (&packed);
        for (int i = 0; i < depth; i++)
            msgpack_pack_array (&packed.pk, 1);
        msgpack_pack_nil (&packed.pk);
        body = s_packed_frame (&packed);
        int rc = s_read_all (body, &entries, &reason);
        if (depth <= 100) {
            assert_int_equal (rc, 0);
            assert_int_equal (entries, 1);
            assert_null (s_decode_with_body (ZETL_MSG_BATCH, 1, body));
        }
        else {
            assert_int_equal (rc, -1);
            s_assert_reason (reason, "nested");
            s_assert_reason (s_decode_with_body (ZETL_MSG_BATCH, 1, body), "nested");
        }
    }

    //  More objects in one payload than the limit, each one present
    packed_t packed;
    s_raw_entry_head (&packed);
    uint32_t objects = (1 << 21) + 1;
    msgpack_pack_array (&packed.pk, objects);
    for (uint32_t i = 0; i < objects; i++)
        msgpack_pack_nil (&packed.pk);
    body = s_packed_frame (&packed);
    assert_int_equal (s_read_all (body, &entries, &reason), -1);
    s_assert_reason (reason, "too many msgpack objects");
    s_assert_reason (s_decode_with_body (ZETL_MSG_BATCH, 1, body), "too many msgpack objects");

    //  Deep nesting in an extra header field
    s_header_start (&packed, 17);
    for (int i = 0; i < 200; i++)
        msgpack_pack_array (&packed.pk, 1);
    msgpack_pack_nil (&packed.pk);
    s_assert_reason (s_decode_header_only (s_packed_frame (&packed)), "nested");
}

//  Every prefix of a valid body: the reader reads the whole entries in it,
//  then says -1, or 0 when the cut falls exactly between two entries; a
//  BATCH carrying the prefix never decodes.
static void
test_reader_truncated_prefixes (void **state)
{
    (void) state;
    size_t names_size, ends[7];
    zframe_t *body = s_sample_body (&names_size, ends);
    size_t total = zframe_size (body);
    assert_int_equal (ends[6], total);
    for (size_t length = 0; length < total; length++) {
        zframe_t *prefix = zframe_new (zframe_data (body), length);
        uint32_t entries;
        const char *reason = NULL;
        int rc = s_read_all (prefix, &entries, &reason);
        uint32_t whole = 0;  //  Entries that end within the prefix
        bool at_boundary = length == names_size;
        for (int i = 0; i < 7; i++) {
            if (ends[i] <= length)
                whole++;
            if (ends[i] == length)
                at_boundary = true;
        }
        if (length < names_size) {
            assert_int_equal (rc, -1);
            assert_int_equal (entries, 0);
        }
        else if (at_boundary) {
            assert_int_equal (rc, 0);
            assert_int_equal (entries, whole);
        }
        else {
            assert_int_equal (rc, -1);
            assert_non_null (reason);
            assert_int_equal (entries, whole);
        }
        assert_non_null (s_decode_with_body (ZETL_MSG_BATCH, 7, prefix));
    }
    zframe_destroy (&body);
}

//  Random damage to a valid body and header never crashes the codec
static void
test_mutated_input_never_crashes (void **state)
{
    (void) state;
    size_t names_size, ends[7];
    zframe_t *body = s_sample_body (&names_size, ends);
    zetl_msg_t *msg = zetl_msg_new (ZETL_MSG_RESULT);
    msg->count = 7;
    zetl_msg_set_str (&msg->sink, "pg");
    zmsg_t *zmsg = zetl_msg_encode (msg);
    zframe_t *header = zmsg_pop (zmsg);
    zmsg_destroy (&zmsg);
    zetl_msg_destroy (&msg);

    uint32_t seed = 12345;
    size_t decoded = 0;
    for (int round = 0; round < 20000; round++) {
        bool in_body = round % 4 != 0;
        zframe_t *victim = zframe_dup (in_body ? body : header);
        size_t size = zframe_size (victim);
        int flips = 1 + round % 3;
        for (int f = 0; f < flips; f++) {
            seed = seed * 1103515245 + 12345;
            size_t at = (seed >> 8) % size;
            seed = seed * 1103515245 + 12345;
            zframe_data (victim)[at] = (uint8_t) (seed >> 16);
        }
        if (in_body) {
            uint32_t entries;
            const char *reason;
            s_read_all (victim, &entries, &reason);
            //  As a BATCH and as a RESULT body: each decodes, and its reader
            //  must agree with the check
            s_decode_with_body (ZETL_MSG_BATCH, 7, zframe_dup (victim));
            decoded += s_decode_with_body (ZETL_MSG_RESULT, 7, victim) == NULL;
        }
        else {
            zframe_t *frames[2] = {victim, zframe_dup (body)};
            decoded += s_decode_frames (frames, 2) == NULL;
        }
    }
    print_message ("mutations: %zu of 20000 still decoded and read\n", decoded);
    zframe_destroy (&body);
    zframe_destroy (&header);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_bad_msgpack),
        cmocka_unit_test (test_count_does_not_match_body),
        cmocka_unit_test (test_source_index_out_of_range),
        cmocka_unit_test (test_hash_of_wrong_length),
        cmocka_unit_test (test_trailing_garbage_after_entries),
        cmocka_unit_test (test_malformed_entries),
        cmocka_unit_test (test_hostile_lengths_and_depth),
        cmocka_unit_test (test_reader_truncated_prefixes),
        cmocka_unit_test (test_mutated_input_never_crashes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
