/*  proto_header_test - the header frame of the wire codec: type names, a new
    message's defaults, every type round-tripped with its fields at both
    ends of their ranges, extra fields a later revision may add, the luts
    field, an ERROR text cut to fit; and each class of malformed header
    refused with its reason: an unknown version or type, a short or
    truncated frame, too many frames, an oversized header or body, a field
    of the wrong type, range or encoding
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>

#include "proto_fixtures.h"

static void
test_type_names (void **state)
{
    (void) state;
    assert_string_equal (zetl_msg_type_name (ZETL_MSG_HELLO), "HELLO");
    assert_string_equal (zetl_msg_type_name (ZETL_MSG_BATCH), "BATCH");
    assert_string_equal (zetl_msg_type_name (ZETL_MSG_ERROR), "ERROR");
    assert_string_equal (zetl_msg_type_name (0), "UNKNOWN");
    assert_string_equal (zetl_msg_type_name (ZETL_MSG_TYPE_MAX + 1), "UNKNOWN");
    assert_string_equal (zetl_msg_type_name (-1), "UNKNOWN");
}

static void
test_new_defaults (void **state)
{
    (void) state;
    zetl_msg_t *msg = zetl_msg_new (ZETL_MSG_READY);
    assert_int_equal (msg->version, ZETL_PROTO_VERSION);
    assert_int_equal (msg->type, ZETL_MSG_READY);
    assert_true (msg->watermark_us == INT64_MIN);
    assert_int_equal (msg->batch_id, 0);
    assert_null (msg->name);
    assert_null (msg->body);
    zetl_msg_set_str (&msg->name, "worker-1");
    zetl_msg_set_str (&msg->name, msg->name);  //  Setting a field to itself is safe
    assert_string_equal (msg->name, "worker-1");
    zetl_msg_set_str (&msg->name, NULL);
    assert_null (msg->name);
    zetl_msg_destroy (&msg);
    assert_null (msg);
    zetl_msg_destroy (&msg);
}

static void
test_round_trip_every_type (void **state)
{
    (void) state;
    for (int type = ZETL_MSG_HELLO; type <= ZETL_MSG_TYPE_MAX; type++) {
        for (int variant = 0; variant < 2; variant++) {
            zetl_msg_t *msg = zetl_msg_new ((zetl_msg_type_t) type);
            msg->config_hash = variant ? UINT64_MAX : 0x1234567890abcdefULL + type;
            msg->epoch = variant ? UINT32_MAX : 7;
            msg->batch_id = variant ? UINT64_MAX : (uint64_t) type << 40;
            msg->pipeline = variant ? UINT32_MAX : 2;
            msg->partition = variant ? UINT32_MAX : 31;
            msg->watermark_us = variant ? INT64_MIN : 1700000000123456LL;
            msg->attempt = variant ? UINT32_MAX : 3;
            msg->credit = variant ? UINT32_MAX : 10;
            msg->code = variant ? UINT32_MAX : ZETL_ROLE_SINK;
            if (variant == 0) {
                zetl_msg_set_str (&msg->sink, "pg-main");
                zetl_msg_set_str (&msg->name, "sink-1 ✓");
                zetl_msg_set_str (&msg->endpoint, "tcp://10.0.0.5:7000");
                zetl_msg_set_str (&msg->text, "");
            }
            zframe_t *body = NULL;
            if (type == ZETL_MSG_BATCH || type == ZETL_MSG_RESULT) {
                size_t names_size, ends[7];
                body = s_sample_body (&names_size, ends);
                msg->count = 7;
            }
            else {
                msg->count = variant ? UINT32_MAX : 5;
                if (variant == 0) {
                    const char *text = type == ZETL_MSG_WELCOME ? "pipelines:\n  - name: x\n"
                                                                : "\x92\xa1"
                                                                  "a\xa1"
                                                                  "b";
                    body = zframe_new (text, strlen (text));
                }
            }
            if (body)
                zetl_msg_set_body (msg, &body);

            zmsg_t *zmsg = zetl_msg_encode (msg);
            assert_int_equal (zmsg_size (zmsg), msg->body ? 2 : 1);
            const char *reason = "unset";
            zetl_msg_t *copy = zetl_msg_decode (&zmsg, &reason);
            assert_null (zmsg);
            assert_non_null (copy);
            assert_null (reason);
            assert_int_equal (copy->version, ZETL_PROTO_VERSION);
            assert_int_equal (copy->type, type);
            assert_true (copy->config_hash == msg->config_hash);
            assert_int_equal (copy->epoch, msg->epoch);
            assert_true (copy->batch_id == msg->batch_id);
            assert_int_equal (copy->pipeline, msg->pipeline);
            assert_int_equal (copy->partition, msg->partition);
            assert_int_equal (copy->count, msg->count);
            assert_true (copy->watermark_us == msg->watermark_us);
            assert_int_equal (copy->attempt, msg->attempt);
            assert_int_equal (copy->credit, msg->credit);
            assert_int_equal (copy->code, msg->code);
            if (variant == 0) {
                assert_string_equal (copy->sink, "pg-main");
                assert_string_equal (copy->name, "sink-1 ✓");
                assert_string_equal (copy->endpoint, "tcp://10.0.0.5:7000");
                assert_string_equal (copy->text, "");
            }
            else {
                assert_null (copy->sink);
                assert_null (copy->name);
                assert_null (copy->endpoint);
                assert_null (copy->text);
            }
            if (msg->body) {
                assert_non_null (copy->body);
                assert_true (zframe_eq (copy->body, msg->body));
            }
            else
                assert_null (copy->body);
            zetl_msg_destroy (&copy);
            zetl_msg_destroy (&msg);
        }
    }
}

static void
test_extra_header_fields_are_ignored (void **state)
{
    (void) state;
    //  A later revision of version 1 may add fields: 19 fields decode
    assert_null (s_decode_header_only (s_header_with (19, 99, NULL, 0)));
    //  ... including structured ones
    packed_t packed;
    s_header_start (&packed, 17);
    msgpack_pack_map (&packed.pk, 1);
    s_pack_cstr (&packed.pk, "future");
    msgpack_pack_array (&packed.pk, 2);
    msgpack_pack_nil (&packed.pk);
    msgpack_pack_double (&packed.pk, 1.0);
    assert_null (s_decode_header_only (s_packed_frame (&packed)));
}

//  luts, header field 16: a BATCH's pinned lookup-table versions go and come
//  back; absent when there are none; anything but an array of at most 16
//  uint64 is refused
static void
test_luts (void **state)
{
    (void) state;
    zetl_msg_t *msg = zetl_msg_new (ZETL_MSG_BATCH);
    msg->lut_count = 3;
    msg->luts[0] = 7, msg->luts[1] = UINT64_MAX, msg->luts[2] = 1;
    zmsg_t *zmsg = zetl_msg_encode (msg);
    const char *reason = NULL;
    zetl_msg_t *copy = zetl_msg_decode (&zmsg, &reason);
    assert_non_null (copy);
    assert_int_equal (copy->lut_count, 3);
    assert_true (copy->luts[0] == 7 && copy->luts[1] == UINT64_MAX && copy->luts[2] == 1);
    zetl_msg_destroy (&copy);
    msg->lut_count = 0;
    zmsg = zetl_msg_encode (msg);
    assert_int_equal (zframe_size (zmsg_first (zmsg)) > 0, 1);
    copy = zetl_msg_decode (&zmsg, &reason);
    assert_int_equal (copy->lut_count, 0);
    zetl_msg_destroy (&copy);
    zetl_msg_destroy (&msg);

    packed_t packed;
    s_packed_init (&packed);
    msgpack_pack_array (&packed.pk, 17);
    for (size_t i = 0; i < 16; i++)
        s_pack_default_field (&packed.pk, i, 0);
    msgpack_pack_uint8 (&packed.pk, 3);
    s_assert_reason (s_decode_header_only (s_packed_frame (&packed)), "luts is not an array");
    s_packed_init (&packed);
    msgpack_pack_array (&packed.pk, 17);
    for (size_t i = 0; i < 16; i++)
        s_pack_default_field (&packed.pk, i, 0);
    msgpack_pack_array (&packed.pk, 17);
    for (int i = 0; i < 17; i++)
        msgpack_pack_uint8 (&packed.pk, 1);
    s_assert_reason (s_decode_header_only (s_packed_frame (&packed)), "more than 16");
    s_packed_init (&packed);
    msgpack_pack_array (&packed.pk, 17);
    for (size_t i = 0; i < 16; i++)
        s_pack_default_field (&packed.pk, i, 0);
    msgpack_pack_array (&packed.pk, 1);
    msgpack_pack_int8 (&packed.pk, -1);
    s_assert_reason (s_decode_header_only (s_packed_frame (&packed)), "non-uint64");
}

static void
test_error_text_is_cut_to_fit (void **state)
{
    (void) state;
    zetl_msg_t *msg = zetl_msg_new (ZETL_MSG_ERROR);
    char name[ZETL_PROTO_MAX_STRING + 1];
    memset (name, 'n', ZETL_PROTO_MAX_STRING);
    name[ZETL_PROTO_MAX_STRING] = 0;
    zetl_msg_set_str (&msg->sink, name);
    zetl_msg_set_str (&msg->name, name);
    zetl_msg_set_str (&msg->endpoint, name);
    char *text = (char *) malloc (5001);
    for (int i = 0; i < 5000; i += 2)
        memcpy (text + i, "é", 2);
    text[5000] = 0;
    text[10] = (char) 0xff;  //  Not UTF-8: becomes '?'
    msg->text = text;
    zmsg_t *zmsg = zetl_msg_encode (msg);
    assert_true (zframe_size (zmsg_first (zmsg)) <= ZETL_PROTO_MAX_HEADER);
    const char *reason;
    zetl_msg_t *copy = zetl_msg_decode (&zmsg, &reason);
    assert_non_null (copy);
    assert_string_equal (copy->name, name);
    size_t length = strlen (copy->text);
    assert_true (length > 500 && length <= ZETL_PROTO_MAX_STRING);
    assert_int_equal (copy->text[10], '?');
    assert_int_equal (memcmp (copy->text, text, 10), 0);
    assert_int_equal (length % 2, 0);  //  Cut between characters, not inside one
    zetl_msg_destroy (&copy);
    zetl_msg_destroy (&msg);
}

static void
test_unknown_version (void **state)
{
    (void) state;
    uint8_t two = 2, zero = 0;
    s_assert_reason (s_decode_header_only (s_header_with (16, 0, &two, 1)),
                     "unknown protocol version");
    s_assert_reason (s_decode_header_only (s_header_with (16, 0, &zero, 1)),
                     "unknown protocol version");
    //  A later version's header may be shaped otherwise: the version decides first
    s_assert_reason (s_decode_header_only (s_header_with (3, 0, &two, 1)),
                     "unknown protocol version");
    uint8_t big[] = {0xcd, 0x01, 0x01};  //  257: would wrap to 1 in a uint8
    s_assert_reason (s_decode_header_only (s_header_with (16, 0, big, sizeof (big))),
                     "unknown protocol version");
    //  Through the message API too
    zetl_msg_t *msg = zetl_msg_new (ZETL_MSG_HELLO);
    msg->version = 9;
    zmsg_t *zmsg = zetl_msg_encode (msg);
    const char *reason;
    assert_null (zetl_msg_decode (&zmsg, &reason));
    s_assert_reason (reason, "unknown protocol version");
    zetl_msg_destroy (&msg);
}

static void
test_unknown_type (void **state)
{
    (void) state;
    uint8_t types[] = {0, ZETL_MSG_TYPE_MAX + 1, 0x7f};
    for (size_t i = 0; i < sizeof (types); i++)
        s_assert_reason (s_decode_header_only (s_header_with (16, 1, &types[i], 1)),
                         "unknown message type");
    uint8_t negative = 0xff;  //  -1
    s_assert_reason (s_decode_header_only (s_header_with (16, 1, &negative, 1)), "type");
}

static void
test_short_frame (void **state)
{
    (void) state;
    //  No frames at all
    s_assert_reason (s_decode_frames (NULL, 0), "short frame");
    //  An empty header frame
    s_assert_reason (s_decode_header_only (zframe_new (NULL, 0)), "short frame");
    //  A header that is not an array
    packed_t packed;
    s_packed_init (&packed);
    msgpack_pack_map (&packed.pk, 0);
    s_assert_reason (s_decode_header_only (s_packed_frame (&packed)), "short frame");
    uint8_t one = 1;
    s_assert_reason (s_decode_header_only (zframe_new (&one, 1)), "short frame");
    //  Too few elements
    s_assert_reason (s_decode_header_only (s_header_with (0, 99, NULL, 0)), "short frame");
    s_assert_reason (s_decode_header_only (s_header_with (1, 99, NULL, 0)), "short frame");
    s_assert_reason (s_decode_header_only (s_header_with (15, 99, NULL, 0)), "short frame");
    //  An array that declares 16 fields but stops early
    zframe_t *header = s_header_with (16, 99, NULL, 0);
    zframe_t *cut = zframe_new (zframe_data (header), zframe_size (header) - 1);
    zframe_destroy (&header);
    s_assert_reason (s_decode_header_only (cut), "truncated");
}

static void
test_too_many_frames (void **state)
{
    (void) state;
    zframe_t *frames[3] = {s_header_with (16, 99, NULL, 0), zframe_new ("b", 1),
                           zframe_new ("c", 1)};
    s_assert_reason (s_decode_frames (frames, 3), "too many frames");
}

static void
test_oversized_header (void **state)
{
    (void) state;
    //  A header padded past the limit with an extra field
    char pad[ZETL_PROTO_MAX_HEADER];
    memset (pad, 'x', sizeof (pad));
    packed_t packed;
    s_header_start (&packed, 17);
    msgpack_pack_bin_with_body (&packed.pk, pad, sizeof (pad));
    s_assert_reason (s_decode_header_only (s_packed_frame (&packed)), "oversized frame");
    //  Exactly at the limit is fine
    s_header_start (&packed, 17);
    size_t used = packed.buffer.size + 3;  //  bin16 head
    msgpack_pack_bin_with_body (&packed.pk, pad, ZETL_PROTO_MAX_HEADER - used);
    assert_int_equal (packed.buffer.size, ZETL_PROTO_MAX_HEADER);
    assert_null (s_decode_header_only (s_packed_frame (&packed)));
}

static void
test_oversized_body (void **state)
{
    (void) state;
    //  The size is checked before a byte of it is read
    zframe_t *frames[2] = {s_header_with (16, 99, NULL, 0),
                           zframe_new (NULL, (size_t) ZETL_PROTO_MAX_BODY + 1)};
    assert_non_null (frames[1]);
    s_assert_reason (s_decode_frames (frames, 2), "oversized frame");
}

static void
test_bad_header_fields (void **state)
{
    (void) state;
    uint8_t str_a[] = {0xa1, 'a'};
    uint8_t negative[] = {0xff};
    uint8_t too_big_u32[] = {0xcf, 0, 0, 0, 1, 0, 0, 0, 0};  //  2^32
    uint8_t big_u64[] = {0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0};   //  2^63: no int64
    uint8_t integer[] = {0x05};
    //  Integers of the wrong type or range
    s_assert_reason (s_decode_header_only (s_header_with (16, 2, str_a, 2)), "config_hash");
    s_assert_reason (s_decode_header_only (s_header_with (16, 3, too_big_u32, 9)), "epoch");
    s_assert_reason (s_decode_header_only (s_header_with (16, 4, negative, 1)), "batch_id");
    s_assert_reason (s_decode_header_only (s_header_with (16, 7, too_big_u32, 9)), "count");
    s_assert_reason (s_decode_header_only (s_header_with (16, 8, big_u64, 9)), "watermark_us");
    s_assert_reason (s_decode_header_only (s_header_with (16, 11, str_a, 2)), "code");
    //  Strings: wrong type, too long, NUL, not UTF-8
    s_assert_reason (s_decode_header_only (s_header_with (16, 12, integer, 1)), "sink");
    s_assert_reason (s_decode_header_only (s_header_with (16, 15, integer, 1)), "text");
    uint8_t long_str[3 + ZETL_PROTO_MAX_STRING + 1] = {0xda, (ZETL_PROTO_MAX_STRING + 1) >> 8,
                                                       (ZETL_PROTO_MAX_STRING + 1) & 0xff};
    memset (long_str + 3, 'a', ZETL_PROTO_MAX_STRING + 1);
    s_assert_reason (s_decode_header_only (s_header_with (16, 13, long_str, sizeof (long_str))),
                     "longer than 1024");
    long_str[2]--;  //  Exactly 1024 is fine
    assert_null (s_decode_header_only (s_header_with (16, 13, long_str, sizeof (long_str) - 1)));
    uint8_t with_nul[] = {0xa3, 'a', 0, 'b'};
    s_assert_reason (s_decode_header_only (s_header_with (16, 13, with_nul, 4)), "UTF-8");
    uint8_t latin1[] = {0xa3, 'c', 0xe9, 'd'};
    s_assert_reason (s_decode_header_only (s_header_with (16, 14, latin1, 4)), "UTF-8");
    uint8_t overlong[] = {0xa2, 0xc0, 0xaf};
    s_assert_reason (s_decode_header_only (s_header_with (16, 14, overlong, 3)), "UTF-8");
    uint8_t surrogate[] = {0xa3, 0xed, 0xa0, 0x80};
    s_assert_reason (s_decode_header_only (s_header_with (16, 14, surrogate, 4)), "UTF-8");
    uint8_t bin_name[] = {0xc4, 0x01, 'a'};
    s_assert_reason (s_decode_header_only (s_header_with (16, 13, bin_name, 3)), "name");
    //  Any integer encoding is accepted when the value fits
    uint8_t wide_epoch[] = {0xcf, 0, 0, 0, 0, 0, 0, 0, 7};
    assert_null (s_decode_header_only (s_header_with (16, 3, wide_epoch, 9)));
    uint8_t signed_count[] = {0xd0, 0x05};
    assert_null (s_decode_header_only (s_header_with (16, 7, signed_count, 2)));
}

//  load, header field 17: a worker's HEARTBEAT figures go and come back
//  (an empty luts before them); absent when there are none; anything but an
//  array of at most 16 uint64 is refused
static void
test_load (void **state)
{
    (void) state;
    zetl_msg_t *msg = zetl_msg_new (ZETL_MSG_HEARTBEAT);
    msg->load_count = ZETL_LOAD_COUNT;
    for (uint32_t index = 0; index < ZETL_LOAD_COUNT; index++)
        msg->load[index] = index == ZETL_LOAD_RSS_BYTES ? UINT64_MAX : index * 1000;
    zmsg_t *zmsg = zetl_msg_encode (msg);
    const char *reason = NULL;
    zetl_msg_t *copy = zetl_msg_decode (&zmsg, &reason);
    assert_non_null (copy);
    assert_int_equal (copy->lut_count, 0);
    assert_int_equal (copy->load_count, ZETL_LOAD_COUNT);
    assert_memory_equal (copy->load, msg->load, ZETL_LOAD_COUNT * sizeof (uint64_t));
    zetl_msg_destroy (&copy);
    //  With luts as well (a later type might carry both)
    msg->lut_count = 1;
    msg->luts[0] = 9;
    zmsg = zetl_msg_encode (msg);
    copy = zetl_msg_decode (&zmsg, &reason);
    assert_true (copy->lut_count == 1 && copy->luts[0] == 9 && copy->load_count == ZETL_LOAD_COUNT);
    zetl_msg_destroy (&copy);
    zetl_msg_destroy (&msg);

    packed_t packed;
    s_packed_init (&packed);
    msgpack_pack_array (&packed.pk, 18);
    for (size_t i = 0; i < 16; i++)
        s_pack_default_field (&packed.pk, i, 0);
    msgpack_pack_array (&packed.pk, 0);  //  luts
    msgpack_pack_str (&packed.pk, 1);    //  load: not an array
    msgpack_pack_str_body (&packed.pk, "x", 1);
    s_assert_reason (s_decode_header_only (s_packed_frame (&packed)), "load is not an array");
    s_packed_init (&packed);
    msgpack_pack_array (&packed.pk, 18);
    for (size_t i = 0; i < 16; i++)
        s_pack_default_field (&packed.pk, i, 0);
    msgpack_pack_array (&packed.pk, 0);
    msgpack_pack_array (&packed.pk, 17);
    for (int i = 0; i < 17; i++)
        msgpack_pack_uint8 (&packed.pk, 1);
    s_assert_reason (s_decode_header_only (s_packed_frame (&packed)), "more than 16 figures");
    s_packed_init (&packed);
    msgpack_pack_array (&packed.pk, 18);
    for (size_t i = 0; i < 16; i++)
        s_pack_default_field (&packed.pk, i, 0);
    msgpack_pack_array (&packed.pk, 0);
    msgpack_pack_array (&packed.pk, 1);
    msgpack_pack_double (&packed.pk, 1.5);
    s_assert_reason (s_decode_header_only (s_packed_frame (&packed)), "load holds a non-uint64");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_type_names),
        cmocka_unit_test (test_new_defaults),
        cmocka_unit_test (test_round_trip_every_type),
        cmocka_unit_test (test_extra_header_fields_are_ignored),
        cmocka_unit_test (test_luts),
        cmocka_unit_test (test_load),
        cmocka_unit_test (test_error_text_is_cut_to_fit),
        cmocka_unit_test (test_unknown_version),
        cmocka_unit_test (test_unknown_type),
        cmocka_unit_test (test_short_frame),
        cmocka_unit_test (test_too_many_frames),
        cmocka_unit_test (test_oversized_header),
        cmocka_unit_test (test_oversized_body),
        cmocka_unit_test (test_bad_header_fields),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
