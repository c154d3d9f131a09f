/*  proto_fuzz - libFuzzer target for the wire codec (proto/)

    One input drives three decoders:
    - zetl_msg_decode on one or two frames cut from the input: byte 0 bit 0
      says two frames, bytes 1-2 (little-endian) the header's length, clipped
      to what is left; the rest is the header, or the header then the body.
      A message that decodes must encode and decode again to the same fields.
      A BATCH or RESULT body is checked as it is read, never at decode: its
      counted reader (zetl_msg_body_reader) must come to a clean end after
      exactly `count` entries when zetl_body_check accepts the body, and fail
      with zetl_body_check's very reason when it does not; payloads left
      packed must read the same as payloads built, and build afterwards
      (zetl_body_reader_build_payload) into what they hold.
    - zetl_body_reader over the whole input, and over the body frame, as a
      BATCH body: every payload it builds is packed again (so the sanitizers
      see every byte it points at), and an error sticks.
    - zetl_sinks_decode over the same bytes: what decodes is a set of short,
      non-empty strings that encodes and decodes again to the same set.
    Any failed check aborts, which libFuzzer reports as a crash.
*/
#include "zetl_fuzz.h"
#include "zetl_proto.h"
#include "zetl_proto_body.h"
#include "zetl_proto_sinks.h"

#include <string.h>

//  Pack OBJ again: every byte the reader's objects point at is read
static void
s_touch_payload (const msgpack_object *obj)
{
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &out, msgpack_sbuffer_write);
    ZETL_FUZZ_CHECK (msgpack_pack_object (&pk, *obj) == 0);
    msgpack_sbuffer_destroy (&out);
}

//  Read BODY as a BATCH body. Returns the entries read before the end or the
//  first error; sets *OK to whether the reader came to a clean end.
static uint32_t
s_read_body (zframe_t *body, bool *ok)
{
    const char *reason = NULL;
    *ok = false;
    zetl_body_reader_t *reader = zetl_body_reader_new (body, &reason);
    if (!reader) {
        ZETL_FUZZ_CHECK (reason);
        return 0;
    }
    for (uint32_t i = 0; i < zetl_body_reader_sources (reader); i++)
        ZETL_FUZZ_CHECK (strlen (zetl_body_reader_source_name (reader, i)) <=
                         ZETL_PROTO_MAX_STRING);
    uint32_t entries = 0;
    zetl_entry_t entry;
    int rc;
    while ((rc = zetl_body_reader_next (reader, &entry, &reason)) == 1) {
        ZETL_FUZZ_CHECK (entry.source < zetl_body_reader_sources (reader));
        s_touch_payload (&entry.payload);
        entries++;
    }
    if (rc == 0)
        *ok = true;
    else {
        ZETL_FUZZ_CHECK (rc == -1 && reason);
        const char *again = NULL;
        ZETL_FUZZ_CHECK (zetl_body_reader_next (reader, &entry, &again) == -1 && again == reason);
    }
    zetl_body_reader_destroy (&reader);
    ZETL_FUZZ_CHECK (reader == NULL);
    return entries;
}

//  Read MSG's body with the counted reader, payloads built or left PACKED.
//  Returns the entries read; sets *REASON to the reader's, NULL at a clean end.
static uint32_t
s_read_msg_body (const zetl_msg_t *msg, bool packed, const char **reason)
{
    *reason = NULL;
    zetl_body_reader_t *reader = zetl_msg_body_reader (msg, reason);
    if (!reader) {
        ZETL_FUZZ_CHECK (*reason);
        return 0;
    }
    uint32_t entries = 0;
    zetl_entry_t entry;
    int rc;
    while ((rc = packed ? zetl_body_reader_next_packed (reader, &entry, reason)
                        : zetl_body_reader_next (reader, &entry, reason))
           == 1) {
        ZETL_FUZZ_CHECK (entry.source < zetl_body_reader_sources (reader));
        ZETL_FUZZ_CHECK (entry.packed >= zframe_data (msg->body)
                         && entry.packed + entry.packed_size
                                <= zframe_data (msg->body) + zframe_size (msg->body));
        if (packed) {
            //  As a sink does for a dead letter: the tree, built after all
            ZETL_FUZZ_CHECK (entry.payload.type == MSGPACK_OBJECT_NIL);
            zetl_body_reader_build_payload (reader, &entry);
        }
        s_touch_payload (&entry.payload);
        entries++;
    }
    ZETL_FUZZ_CHECK (rc == 0 ? *reason == NULL : rc == -1 && *reason != NULL);
    zetl_body_reader_destroy (&reader);
    return entries;
}

//  The counted reader of MSG (BATCH or RESULT) agrees with zetl_body_check:
//  it succeeds exactly when the check does, with the same reasons
static void
s_check_msg_body (const zetl_msg_t *msg)
{
    //  The decoder refuses a missing body only
    ZETL_FUZZ_CHECK (msg->body || msg->count == 0);
    const char *checked = msg->body ? zetl_body_check (msg->body, msg->count) : NULL;
    const char *reasons[2];
    uint32_t entries[2];
    for (int packed = 0; packed < 2; packed++) {
        entries[packed] = s_read_msg_body (msg, packed, &reasons[packed]);
        ZETL_FUZZ_CHECK (reasons[packed] == checked
                         || (reasons[packed] && checked && streq (reasons[packed], checked)));
    }
    ZETL_FUZZ_CHECK (entries[0] == entries[1]);
    if (!checked)
        ZETL_FUZZ_CHECK (entries[0] == msg->count);
}

static void
s_check_string (const char *value)
{
    ZETL_FUZZ_CHECK (value);
    size_t length = strlen (value);
    ZETL_FUZZ_CHECK (length > 0 && length <= ZETL_PROTO_MAX_STRING);
}

static void
s_fuzz_sinks (zframe_t *body)
{
    zhashx_t *sinks = zetl_sinks_decode (body, NULL);
    if (!sinks)
        return;
    size_t count = zhashx_size (sinks);
    const char **names = (const char **) calloc (count + 1, sizeof (char *));
    const char **endpoints = (const char **) calloc (count + 1, sizeof (char *));
    ZETL_FUZZ_CHECK (names && endpoints);
    size_t index = 0;
    for (const char *endpoint = (const char *) zhashx_first (sinks); endpoint;
         endpoint = (const char *) zhashx_next (sinks)) {
        ZETL_FUZZ_CHECK (index < count);
        names[index] = (const char *) zhashx_cursor (sinks);
        endpoints[index] = endpoint;
        s_check_string (names[index]);
        s_check_string (endpoint);
        index++;
    }
    ZETL_FUZZ_CHECK (index == count);
    zframe_t *again = zetl_sinks_encode (names, endpoints, NULL, count);
    zhashx_t *copy = zetl_sinks_decode (again, NULL);
    ZETL_FUZZ_CHECK (copy && zhashx_size (copy) == count);
    for (size_t i = 0; i < count; i++) {
        const char *endpoint = (const char *) zhashx_lookup (copy, names[i]);
        ZETL_FUZZ_CHECK (endpoint && streq (endpoint, endpoints[i]));
    }
    zhashx_destroy (&copy);
    zframe_destroy (&again);
    free (names);
    free (endpoints);
    zhashx_destroy (&sinks);
}

static void
s_same_string (const char *a, const char *b)
{
    ZETL_FUZZ_CHECK ((a == NULL) == (b == NULL));
    ZETL_FUZZ_CHECK (!a || streq (a, b));
}

//  MSG decoded: encode it and decode it again, and compare
static void
s_round_trip (const zetl_msg_t *msg)
{
    zmsg_t *zmsg = zetl_msg_encode (msg);
    ZETL_FUZZ_CHECK (zmsg);
    const char *reason = NULL;
    zetl_msg_t *copy = zetl_msg_decode (&zmsg, &reason);
    ZETL_FUZZ_CHECK (zmsg == NULL);
    if (!copy) {
        fprintf (stderr, "proto_fuzz: a decoded message does not decode again: %s\n", reason);
        abort ();
    }
    ZETL_FUZZ_CHECK (reason == NULL);
    ZETL_FUZZ_CHECK (copy->version == msg->version && copy->type == msg->type);
    ZETL_FUZZ_CHECK (copy->config_hash == msg->config_hash && copy->epoch == msg->epoch);
    ZETL_FUZZ_CHECK (copy->batch_id == msg->batch_id && copy->pipeline == msg->pipeline);
    ZETL_FUZZ_CHECK (copy->partition == msg->partition && copy->count == msg->count);
    ZETL_FUZZ_CHECK (copy->watermark_us == msg->watermark_us && copy->attempt == msg->attempt);
    ZETL_FUZZ_CHECK (copy->credit == msg->credit && copy->code == msg->code);
    s_same_string (copy->sink, msg->sink);
    s_same_string (copy->name, msg->name);
    s_same_string (copy->endpoint, msg->endpoint);
    //  ERROR text may be cut to fit the header, between characters
    ZETL_FUZZ_CHECK ((copy->text == NULL) == (msg->text == NULL));
    if (msg->text)
        ZETL_FUZZ_CHECK (strncmp (copy->text, msg->text, strlen (copy->text)) == 0);
    ZETL_FUZZ_CHECK ((copy->body == NULL) == (msg->body == NULL));
    ZETL_FUZZ_CHECK (!msg->body || zframe_eq (copy->body, msg->body));
    zetl_msg_destroy (&copy);
}

static void
s_fuzz_message (const uint8_t *data, size_t size)
{
    if (size < 3)
        return;
    bool two_frames = (data[0] & 1) != 0;
    size_t header_size = (size_t) data[1] | (size_t) data[2] << 8;
    data += 3;
    size -= 3;
    if (!two_frames || header_size > size)
        header_size = size;
    zmsg_t *zmsg = zmsg_new ();
    zmsg_addmem (zmsg, data, header_size);
    if (two_frames)
        zmsg_addmem (zmsg, data + header_size, size - header_size);

    const char *reason = NULL;
    zetl_msg_t *msg = zetl_msg_decode (&zmsg, &reason);
    ZETL_FUZZ_CHECK (zmsg == NULL);
    ZETL_FUZZ_CHECK ((msg == NULL) != (reason == NULL));
    if (msg) {
        ZETL_FUZZ_CHECK (msg->version == ZETL_PROTO_VERSION);
        ZETL_FUZZ_CHECK (msg->type >= ZETL_MSG_HELLO && msg->type <= ZETL_MSG_TYPE_MAX);
        s_round_trip (msg);
        if (msg->type == ZETL_MSG_BATCH || msg->type == ZETL_MSG_RESULT)
            s_check_msg_body (msg);
        zetl_msg_destroy (&msg);
    }
    if (two_frames) {
        zframe_t *body = zframe_new (data + header_size, size - header_size);
        bool ok;
        s_read_body (body, &ok);
        s_fuzz_sinks (body);
        zframe_destroy (&body);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_fuzz_message (data, size);
    zframe_t *whole = zframe_new (data, size);
    bool ok;
    s_read_body (whole, &ok);
    s_fuzz_sinks (whole);
    zframe_destroy (&whole);
    return 0;
}
