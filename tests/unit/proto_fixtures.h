/*  proto_fixtures.h - what the zetl_proto tests share: packing headers and
    bodies by hand (default header fields, raw entries), decoding a message
    as a receiver does and returning the reason it gives, reading a body
    through, and a sample body of 3 sources and 7 entries
*/
#ifndef ZETL_PROTO_FIXTURES_H_INCLUDED
#define ZETL_PROTO_FIXTURES_H_INCLUDED

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "zetl_proto.h"
#include "zetl_proto_body.h"

//  A packer into a fresh buffer; s_packed_frame turns it into a frame
typedef struct {
    msgpack_sbuffer buffer;
    msgpack_packer pk;
} packed_t;

static inline void
s_packed_init (packed_t *packed)
{
    msgpack_sbuffer_init (&packed->buffer);
    msgpack_packer_init (&packed->pk, &packed->buffer, msgpack_sbuffer_write);
}

static inline zframe_t *
s_packed_frame (packed_t *packed)
{
    zframe_t *frame = zframe_new (packed->buffer.data, packed->buffer.size);
    msgpack_sbuffer_destroy (&packed->buffer);
    return frame;
}

static inline void
s_pack_cstr (msgpack_packer *pk, const char *text)
{
    msgpack_pack_str_with_body (pk, text, strlen (text));
}

//  Default header field I of a version 1 HEARTBEAT (count COUNT at index 7)
static inline void
s_pack_default_field (msgpack_packer *pk, size_t index, uint32_t count)
{
    if (index == 0)
        msgpack_pack_uint8 (pk, ZETL_PROTO_VERSION);
    else if (index == 1)
        msgpack_pack_uint8 (pk, ZETL_MSG_HEARTBEAT);
    else if (index == 7)
        msgpack_pack_uint32 (pk, count);
    else if (index == 8)
        msgpack_pack_int64 (pk, INT64_MIN);
    else if (index < 12)
        msgpack_pack_uint32 (pk, 0);
    else
        msgpack_pack_nil (pk);
}

//  A header of FIELDS fields, defaults but field REPLACE (if < FIELDS) which is
//  the packed bytes RAW/RAW_LEN. Fields past 16 are extra ints.
static inline zframe_t *
s_header_with (size_t fields, size_t replace, const void *raw, size_t raw_len)
{
    packed_t packed;
    s_packed_init (&packed);
    msgpack_pack_array (&packed.pk, fields);
    for (size_t i = 0; i < fields; i++) {
        if (i == replace)
            msgpack_sbuffer_write (&packed.buffer, (const char *) raw, raw_len);
        else if (i < 16)
            s_pack_default_field (&packed.pk, i, 0);
        else if (i == 16 || i == 17)
            msgpack_pack_array (&packed.pk, 0);  //  luts and load, the fields appended
        else
            msgpack_pack_uint64 (&packed.pk, i);
    }
    return s_packed_frame (&packed);
}

//  Decode *ZMSG_P (taken). Returns the reason, or NULL when it decoded (the
//  message is destroyed either way).
static inline const char *
s_decode_zmsg (zmsg_t **zmsg_p)
{
    const char *reason = NULL;
    zetl_msg_t *msg = zetl_msg_decode (zmsg_p, &reason);
    assert_null (*zmsg_p);
    if (msg) {
        assert_null (reason);
        zetl_msg_destroy (&msg);
        return NULL;
    }
    assert_non_null (reason);
    return reason;
}

//  Decode a message made of FRAMES[0..COUNT) (taken), as s_decode_zmsg
static inline const char *
s_decode_frames (zframe_t **frames, size_t count)
{
    zmsg_t *zmsg = zmsg_new ();
    for (size_t i = 0; i < count; i++)
        zmsg_append (zmsg, &frames[i]);
    return s_decode_zmsg (&zmsg);
}

static inline const char *
s_decode_header_only (zframe_t *header)
{
    return s_decode_frames (&header, 1);
}

//  Read every entry of MSG's body as a receiver does, with the counted
//  reader, both ways (payloads built and left packed): they must agree.
//  Returns the reader's reason, or NULL when it came to a clean end.
static inline const char *
s_read_msg_body (const zetl_msg_t *msg)
{
    const char *reasons[2] = {NULL, NULL};
    for (int packed = 0; packed < 2; packed++) {
        zetl_body_reader_t *reader = zetl_msg_body_reader (msg, &reasons[packed]);
        if (!reader) {
            assert_non_null (reasons[packed]);
            continue;
        }
        zetl_entry_t entry;
        int rc;
        while ((rc = packed ? zetl_body_reader_next_packed (reader, &entry, &reasons[packed])
                            : zetl_body_reader_next (reader, &entry, &reasons[packed]))
               == 1)
            ;
        assert_true (rc == 0 ? reasons[packed] == NULL : reasons[packed] != NULL);
        zetl_body_reader_destroy (&reader);
    }
    assert_ptr_equal (reasons[0], reasons[1]);
    return reasons[0];
}

//  Decode a TYPE message whose header says COUNT records and whose body is
//  BODY (taken), then read its body as a receiver does. Returns the reason
//  the decoder or else the reader gave, or NULL when both took it. A BATCH
//  or RESULT body is checked by its reader only (the decoder refuses only a
//  missing body), with the reason zetl_body_check gives.
static inline const char *
s_decode_with_body (zetl_msg_type_t type, uint32_t count, zframe_t *body)
{
    const char *checked =
        body ? zetl_body_check (body, count)
             : count ? "record count does not match the body: BATCH or RESULT without a body"
                     : NULL;
    zetl_msg_t *msg = zetl_msg_new (type);
    msg->count = count;
    if (body)
        zetl_msg_set_body (msg, &body);
    zmsg_t *zmsg = zetl_msg_encode (msg);
    zetl_msg_destroy (&msg);
    const char *reason = NULL;
    msg = zetl_msg_decode (&zmsg, &reason);
    assert_null (zmsg);
    if (!msg) {
        assert_non_null (reason);
        assert_null (body);
        assert_string_equal (reason, checked);
        return reason;
    }
    assert_null (reason);
    if (type == ZETL_MSG_BATCH || type == ZETL_MSG_RESULT) {
        reason = s_read_msg_body (msg);
        assert_true ((reason == NULL) == (checked == NULL));
        if (reason)
            assert_string_equal (reason, checked);
    }
    zetl_msg_destroy (&msg);
    return reason;
}

static inline void
s_assert_reason (const char *reason, const char *expected)
{
    assert_non_null (reason);
    if (!strstr (reason, expected))
        fail_msg ("reason \"%s\" does not say \"%s\"", reason, expected);
}

//  Start a raw body: the names array of NAMES (COUNT of them)
static inline void
s_raw_body (packed_t *packed, const char **names, size_t count)
{
    s_packed_init (packed);
    msgpack_pack_array (&packed->pk, count);
    for (size_t i = 0; i < count; i++)
        s_pack_cstr (&packed->pk, names[i]);
}

//  Append a well-formed entry from SOURCE with a small map payload
static inline void
s_raw_entry (packed_t *packed, uint32_t source)
{
    msgpack_pack_array (&packed->pk, 6);
    msgpack_pack_uint32 (&packed->pk, source);
    msgpack_pack_uint64 (&packed->pk, 42);
    msgpack_pack_int64 (&packed->pk, -5);
    msgpack_pack_uint32 (&packed->pk, 0);
    msgpack_pack_nil (&packed->pk);
    msgpack_pack_map (&packed->pk, 1);
    s_pack_cstr (&packed->pk, "id");
    msgpack_pack_int (&packed->pk, 7);
}

//  A raw body of NAMES (NAME_COUNT of them) and one s_raw_entry from each of
//  SOURCES[0..ENTRIES). Caller owns the result.
static inline zframe_t *
s_raw_body_frame (const char **names, size_t name_count, const uint32_t *sources, size_t entries)
{
    packed_t packed;
    s_raw_body (&packed, names, name_count);
    for (size_t i = 0; i < entries; i++)
        s_raw_entry (&packed, sources[i]);
    return s_packed_frame (&packed);
}

//  Start a raw body of one source "a" and an entry from it, up to its payload
//  (source 0, position 1, event_us 2, flags 0, no hash)
static inline void
s_raw_entry_head (packed_t *packed)
{
    const char *names[] = {"a"};
    s_raw_body (packed, names, 1);
    msgpack_pack_array (&packed->pk, 6);
    msgpack_sbuffer_write (&packed->buffer, "\x00\x01\x02\x00\xc0", 5);
}

//  Start a header of FIELDS (16 or more) fields: the array head and the 16
//  default fields, then, past 16, an empty luts and load; the caller packs the rest
static inline void
s_header_start (packed_t *packed, size_t fields)
{
    s_packed_init (packed);
    //  Past the 16 fields, luts and load (empty) come first: FIELDS counts the ones after them
    msgpack_pack_array (&packed->pk, fields > 16 ? fields + 2 : fields);
    for (size_t i = 0; i < 16; i++)
        s_pack_default_field (&packed->pk, i, 0);
    if (fields > 16) {
        msgpack_pack_array (&packed->pk, 0);
        msgpack_pack_array (&packed->pk, 0);
    }
}

//  Read every entry of BODY. Returns the reader's last answer (0 or -1) and
//  sets *ENTRIES to the entries read.
static inline int
s_read_all (zframe_t *body, uint32_t *entries, const char **reason)
{
    *entries = 0;
    zetl_body_reader_t *reader = zetl_body_reader_new (body, reason);
    if (!reader)
        return -1;
    zetl_entry_t entry;
    int rc;
    while ((rc = zetl_body_reader_next (reader, &entry, reason)) == 1)
        (*entries)++;
    zetl_body_reader_destroy (&reader);
    return rc;
}

//  Payloads used by the body tests, packed into BUFFERS[0..5)
static inline void
s_make_payloads (msgpack_sbuffer *buffers)
{
    msgpack_packer pk;
    for (int i = 0; i < 5; i++) {
        msgpack_sbuffer_init (&buffers[i]);
        msgpack_packer_init (&pk, &buffers[i], msgpack_sbuffer_write);
        switch (i) {
        case 0:  //  a record map, nested
            msgpack_pack_map (&pk, 5);
            s_pack_cstr (&pk, "id");
            msgpack_pack_uint64 (&pk, UINT64_MAX);
            s_pack_cstr (&pk, "amount");
            msgpack_pack_ext (&pk, 5, 1);
            msgpack_pack_ext_body (&pk, "12.50", 5);
            s_pack_cstr (&pk, "tags");
            msgpack_pack_array (&pk, 3);
            s_pack_cstr (&pk, "a");
            msgpack_pack_true (&pk);
            msgpack_pack_nil (&pk);
            s_pack_cstr (&pk, "nested");
            msgpack_pack_map (&pk, 1);
            msgpack_pack_int64 (&pk, -1234567890123LL);
            msgpack_pack_double (&pk, 2.5);
            s_pack_cstr (&pk, "blob");
            msgpack_pack_bin_with_body (&pk, "\0\1\2", 3);
            break;
        case 1:  //  an output row
            msgpack_pack_array (&pk, 4);
            s_pack_cstr (&pk, "héllo");
            msgpack_pack_float (&pk, 1.5f);
            msgpack_pack_int8 (&pk, -3);
            msgpack_pack_false (&pk);
            break;
        case 2:  //  empty containers and an empty string
            msgpack_pack_array (&pk, 3);
            msgpack_pack_array (&pk, 0);
            msgpack_pack_map (&pk, 0);
            s_pack_cstr (&pk, "");
            break;
        case 3:  //  a dead letter
            msgpack_pack_map (&pk, 2);
            s_pack_cstr (&pk, "reason");
            s_pack_cstr (&pk, "too_late");
            s_pack_cstr (&pk, "raw");
            msgpack_pack_str_with_body (&pk, "{\"id\": 1}", 9);
            break;
        case 4:  //  a bare scalar
            msgpack_pack_uint64 (&pk, 300);
            break;
        }
    }
}

//  A body of 3 sources and 7 entries. Sets *NAMES_SIZE to the bytes of the
//  names array and ENDS[i] to the offset just past entry i.
static inline zframe_t *
s_sample_body (size_t *names_size, size_t *ends)
{
    msgpack_sbuffer payloads[5];
    s_make_payloads (payloads);
    zetl_body_writer_t *writer = zetl_body_writer_new ();
    const char *sources[] = {"bookings.jsonl", "producer-7", "bookings@run-42"};
    uint8_t hash[16];
    for (int i = 0; i < 16; i++)
        hash[i] = (uint8_t) (0xa0 + i);
    size_t entry_ends[7];
    for (int i = 0; i < 7; i++) {
        uint32_t source = zetl_body_writer_source (writer, sources[i % 3]);
        const msgpack_sbuffer *payload = &payloads[i % 5];
        if (i == 5)
            zetl_body_writer_append (writer, source, i, -i, ZETL_ENTRY_DUPLICATE, NULL, NULL, 0);
        else
            zetl_body_writer_append (writer, source, 1000 + i, 1700000000000000LL + i,
                                     i % 2 ? ZETL_ENTRY_LATE : 0, i % 2 ? hash : NULL,
                                     payload->data, payload->size);
        entry_ends[i] = zetl_body_writer_size (writer);
    }
    size_t entries_size = zetl_body_writer_size (writer);
    zframe_t *body = zetl_body_writer_finish (writer);
    *names_size = zframe_size (body) - entries_size;
    for (int i = 0; i < 7; i++)
        ends[i] = *names_size + entry_ends[i];
    zetl_body_writer_destroy (&writer);
    for (int i = 0; i < 5; i++)
        msgpack_sbuffer_destroy (&payloads[i]);
    return body;
}

#endif
