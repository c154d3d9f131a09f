/*  zetl_proto - the zetl wire codec: messages (API in zetl_proto.h, format in PROTOCOL.md)

    The header frame is packed with msgpack-c into a fixed buffer and parsed
    back with the bounded walker (zetl_proto_walk.h), never with
    msgpack_unpack. BATCH and RESULT bodies are checked by their reader
    (zetl_proto_body.c) as they are read; other bodies are opaque here.
*/
#include "zetl_proto.h"
#include "zetl_proto_walk.h"

#include <string.h>

#define HEADER_FIELDS 16  //  fields a version 1 header has at least
#define HEADER_LUTS 16    //  the index of luts, the first field appended since
#define HEADER_LOAD 17    //  the index of load

static const char *s_type_names[] = {"UNKNOWN", "HELLO",  "WELCOME", "READY",     "BATCH",
                                     "RESULT",  "COMMIT", "ACK",     "HEARTBEAT", "WATERMARK",
                                     "SINKS",   "DRAIN",  "BYE",     "ERROR"};

static char *
s_strndup (const uint8_t *data, size_t size)
{
    char *copy = (char *) zmalloc (size + 1);
    if (size)
        memcpy (copy, data, size);
    copy[size] = 0;
    return copy;
}

//  ---------------------------------------------------------------------
//  Messages

zetl_msg_t *
zetl_msg_new (zetl_msg_type_t type)
{
    assert (type >= ZETL_MSG_HELLO && type <= ZETL_MSG_TYPE_MAX);
    zetl_msg_t *self = (zetl_msg_t *) zmalloc (sizeof (zetl_msg_t));
    self->version = ZETL_PROTO_VERSION;
    self->type = (uint8_t) type;
    self->watermark_us = INT64_MIN;
    return self;
}

void
zetl_msg_destroy (zetl_msg_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_msg_t *self = *self_p;
        free (self->sink);
        free (self->name);
        free (self->endpoint);
        free (self->text);
        zframe_destroy (&self->body);
        free (self);
        *self_p = NULL;
    }
}

void
zetl_msg_set_str (char **field, const char *value)
{
    assert (field);
    char *copy = NULL;  //  Copied first: VALUE may be *FIELD itself
    if (value) {
        copy = strdup (value);
        assert (copy);
    }
    free (*field);
    *field = copy;
}

void
zetl_msg_set_body (zetl_msg_t *self, zframe_t **body_p)
{
    assert (self);
    assert (body_p);
    zframe_destroy (&self->body);
    self->body = *body_p;
    *body_p = NULL;
}

const char *
zetl_msg_type_name (int type)
{
    if (type < ZETL_MSG_HELLO || type > ZETL_MSG_TYPE_MAX)
        return "UNKNOWN";
    return s_type_names[type];
}

//  Fixed-size output for the header packer
typedef struct {
    uint8_t *data;  //  ZETL_PROTO_MAX_HEADER bytes
    size_t size;    //  bytes written
} header_buffer_t;

static int
s_header_write (void *data, const char *buf, size_t len)
{
    header_buffer_t *out = (header_buffer_t *) data;
    if (len > ZETL_PROTO_MAX_HEADER - out->size)
        return -1;
    memcpy (out->data + out->size, buf, len);
    out->size += len;
    return 0;
}

static void
s_pack_string (msgpack_packer *pk, const char *value)
{
    if (value) {
        size_t length = strlen (value);
        assert (length <= ZETL_PROTO_MAX_STRING);  //  Names and endpoints come checked from config
        msgpack_pack_str (pk, length);
        msgpack_pack_str_body (pk, value, length);
    }
    else
        msgpack_pack_nil (pk);
}

//  An array of COUNT uint64 (at most MAX)
static void
s_pack_uint64s (msgpack_packer *pk, const uint64_t *values, uint32_t count, uint32_t max)
{
    assert (count <= max);
    msgpack_pack_array (pk, count);
    for (uint32_t index = 0; index < count; index++)
        msgpack_pack_uint64 (pk, values[index]);
}

//  Pack SELF's header into DATA (ZETL_PROTO_MAX_HEADER bytes); return its size.
//  Fields are packed as they are, so tests can play a peer that gets it wrong.
static size_t
s_encode_header (const zetl_msg_t *self, uint8_t *data)
{
    assert (self);
    header_buffer_t out = {data, 0};
    msgpack_packer pk;
    msgpack_packer_init (&pk, &out, s_header_write);
    msgpack_pack_array (&pk, self->load_count ? HEADER_LOAD + 1
                                              : HEADER_FIELDS + (self->lut_count ? 1 : 0));
    msgpack_pack_uint8 (&pk, self->version);
    msgpack_pack_uint8 (&pk, self->type);
    msgpack_pack_uint64 (&pk, self->config_hash);
    msgpack_pack_uint32 (&pk, self->epoch);
    msgpack_pack_uint64 (&pk, self->batch_id);
    msgpack_pack_uint32 (&pk, self->pipeline);
    msgpack_pack_uint32 (&pk, self->partition);
    msgpack_pack_uint32 (&pk, self->count);
    msgpack_pack_int64 (&pk, self->watermark_us);
    msgpack_pack_uint32 (&pk, self->attempt);
    msgpack_pack_uint32 (&pk, self->credit);
    msgpack_pack_uint32 (&pk, self->code);
    s_pack_string (&pk, self->sink);
    s_pack_string (&pk, self->name);
    s_pack_string (&pk, self->endpoint);
    if (self->text) {
        //  ERROR text is free-form and may quote bad input: cut it to what the
        //  header has room for and replace bytes that are not UTF-8 with '?',
        //  so the reply always decodes. The fields above take at most 3192 bytes.
        size_t room = ZETL_PROTO_MAX_HEADER - out.size - 3;
        if (room > ZETL_PROTO_MAX_STRING)
            room = ZETL_PROTO_MAX_STRING;
        char text[ZETL_PROTO_MAX_STRING];
        size_t length = 0;
        const uint8_t *p = (const uint8_t *) self->text;
        size_t left = strlen (self->text);
        while (left > 0) {
            size_t char_length = zetl_walk_utf8_char (p, left);
            size_t take = char_length ? char_length : 1;
            if (length + take > room)
                break;
            if (char_length)
                memcpy (text + length, p, char_length);
            else
                text[length] = '?';
            length += take;
            p += take;
            left -= take;
        }
        msgpack_pack_str (&pk, length);
        msgpack_pack_str_body (&pk, text, length);
    }
    else
        msgpack_pack_nil (&pk);
    if (self->lut_count || self->load_count)
        s_pack_uint64s (&pk, self->luts, self->lut_count, ZETL_PROTO_MAX_LUTS);
    if (self->load_count)
        s_pack_uint64s (&pk, self->load, self->load_count, ZETL_PROTO_MAX_LOAD);
    assert (out.size <= ZETL_PROTO_MAX_HEADER && out.size > HEADER_FIELDS);
    return out.size;
}

//  A header field at CUR that is an array of at most MAX uint64, into
//  VALUES and *COUNT; WRONG[0..2] say what was wrong (not an array, too
//  long, not uint64)
static const char *
s_decode_uint64s (zetl_walk_cursor_t *cur, uint64_t *values, uint32_t *count, uint32_t max,
                  const char *const wrong[3])
{
    zetl_walk_item_t item;
    if (zetl_walk_item (cur, &item) || item.type != MSGPACK_OBJECT_ARRAY)
        return wrong[0];
    if (item.u64 > max)
        return wrong[1];
    *count = (uint32_t) item.u64;
    for (uint32_t index = 0; index < *count; index++) {
        const char *reason = zetl_walk_uint (cur, UINT64_MAX, &values[index], wrong[2]);
        if (reason)
            return reason;
    }
    return NULL;
}

//  The fields appended to version 1 since: luts and load, when present
static const char *
s_decode_appended (zetl_msg_t *self, zetl_walk_cursor_t *cur, uint64_t fields)
{
    static const char *const luts_wrong[3] = {"header luts is not an array",
                                              "header luts has more than 16 versions",
                                              "header luts holds a non-uint64"};
    static const char *const load_wrong[3] = {"header load is not an array",
                                              "header load has more than 16 figures",
                                              "header load holds a non-uint64"};
    const char *reason = NULL;
    if (fields > HEADER_LUTS)
        reason =
            s_decode_uint64s (cur, self->luts, &self->lut_count, ZETL_PROTO_MAX_LUTS, luts_wrong);
    if (!reason && fields > HEADER_LOAD)
        reason =
            s_decode_uint64s (cur, self->load, &self->load_count, ZETL_PROTO_MAX_LOAD, load_wrong);
    return reason;
}

//  Decode header DATA (SIZE bytes) into SELF. Returns NULL, or a reason.
static const char *
s_decode_header (zetl_msg_t *self, const uint8_t *data, size_t size)
{
    zetl_walk_cursor_t cur = {data, data + size};
    zetl_walk_item_t item;
    const char *reason = zetl_walk_item (&cur, &item);
    if (reason)
        return size == 0 ? "short frame: header frame is empty" : "bad msgpack in header";
    if (item.type != MSGPACK_OBJECT_ARRAY)
        return "short frame: header is not a msgpack array";
    uint64_t fields = item.u64;
    if (fields == 0)
        return "short frame: header has fewer than 16 fields";

    //  The version comes first and alone: a later version may change the rest
    uint64_t value;
    if ((reason = zetl_walk_uint (&cur, UINT64_MAX, &value, "header version is not an integer")))
        return reason;
    if (value != ZETL_PROTO_VERSION)
        return "unknown protocol version";
    self->version = (uint8_t) value;
    if (fields < HEADER_FIELDS)
        return "short frame: header has fewer than 16 fields";
    if ((reason = zetl_walk_uint (&cur, UINT64_MAX, &value, "header type is not an integer")))
        return reason;
    if (value < ZETL_MSG_HELLO || value > ZETL_MSG_TYPE_MAX)
        return "unknown message type";
    self->type = (uint8_t) value;

    if ((reason = zetl_walk_uint (&cur, UINT64_MAX, &self->config_hash,
                                  "header config_hash is not a uint64")))
        return reason;
    if ((reason = zetl_walk_uint (&cur, UINT32_MAX, &value, "header epoch is not a uint32")))
        return reason;
    self->epoch = (uint32_t) value;
    if ((reason =
             zetl_walk_uint (&cur, UINT64_MAX, &self->batch_id, "header batch_id is not a uint64")))
        return reason;
    uint32_t *u32_fields[] = {&self->pipeline, &self->partition, &self->count};
    const char *u32_wrong[] = {"header pipeline is not a uint32",
                               "header partition is not a uint32", "header count is not a uint32"};
    for (size_t i = 0; i < 3; i++) {
        if ((reason = zetl_walk_uint (&cur, UINT32_MAX, &value, u32_wrong[i])))
            return reason;
        *u32_fields[i] = (uint32_t) value;
    }
    if ((reason =
             zetl_walk_int64 (&cur, &self->watermark_us, "header watermark_us is not an int64")))
        return reason;
    uint32_t *more_fields[] = {&self->attempt, &self->credit, &self->code};
    const char *more_wrong[] = {"header attempt is not a uint32", "header credit is not a uint32",
                                "header code is not a uint32"};
    for (size_t i = 0; i < 3; i++) {
        if ((reason = zetl_walk_uint (&cur, UINT32_MAX, &value, more_wrong[i])))
            return reason;
        *more_fields[i] = (uint32_t) value;
    }
    char **strings[] = {&self->sink, &self->name, &self->endpoint, &self->text};
    const char *string_wrong[] = {
        "header sink is not a string or nil", "header name is not a string or nil",
        "header endpoint is not a string or nil", "header text is not a string or nil"};
    for (size_t i = 0; i < 4; i++) {
        const uint8_t *text;
        size_t length;
        if ((reason = zetl_walk_text (&cur, true, &text, &length, string_wrong[i],
                                      "header string longer than 1024 bytes",
                                      "header string is not UTF-8 text without NUL bytes")))
            return reason;
        if (text)
            *strings[i] = s_strndup (text, length);
    }
    if ((reason = s_decode_appended (self, &cur, fields)))
        return reason;
    //  Fields a later revision of this version added: skipped, still checked
    for (uint64_t i = HEADER_LOAD + 1; i < fields; i++) {
        size_t budget = ZETL_WALK_MAX_OBJECTS;
        if ((reason = zetl_walk_object (&cur, NULL, NULL, 1, &budget)))
            return reason;
    }
    if (zetl_walk_left (&cur) != 0)
        return "trailing bytes after the header array";
    return NULL;
}

zmsg_t *
zetl_msg_encode (const zetl_msg_t *self)
{
    assert (self);
    uint8_t header[ZETL_PROTO_MAX_HEADER];
    size_t size = s_encode_header (self, header);
    zmsg_t *zmsg = zmsg_new ();
    assert (zmsg);
    zmsg_addmem (zmsg, header, size);
    if (self->body) {
        zframe_t *body = zframe_dup (self->body);
        zmsg_append (zmsg, &body);
    }
    return zmsg;
}

zetl_msg_t *
zetl_msg_decode (zmsg_t **zmsg_p, const char **reason)
{
    assert (zmsg_p);
    assert (*zmsg_p);
    assert (reason);
    zmsg_t *zmsg = *zmsg_p;
    zetl_msg_t *self = NULL;
    zframe_t *header = zmsg_first (zmsg);
    zframe_t *body = zmsg_next (zmsg);
    *reason = NULL;

    if (!header) {
        *reason = "short frame: no header frame";
        goto cleanup;
    }
    if (zmsg_size (zmsg) > 2) {
        *reason = "too many frames: a message is a header and at most one body";
        goto cleanup;
    }
    if (zframe_size (header) > ZETL_PROTO_MAX_HEADER) {
        *reason = "oversized frame: header larger than 4096 bytes";
        goto cleanup;
    }
    if (body && zframe_size (body) > ZETL_PROTO_MAX_BODY) {
        *reason = "oversized frame: body larger than 256 MiB";
        goto cleanup;
    }
    self = (zetl_msg_t *) zmalloc (sizeof (zetl_msg_t));
    *reason = s_decode_header (self, zframe_data (header), zframe_size (header));
    if (*reason)
        goto cleanup;
    //  A BATCH or RESULT body is checked by its reader (zetl_msg_body_reader)
    //  as it is read: a worker and a sink both read every entry of a body
    //  before they act on it, so that one pass is both the check and the
    //  read. Only a body missing altogether is seen here
    if ((self->type == ZETL_MSG_BATCH || self->type == ZETL_MSG_RESULT) && !body
        && self->count > 0) {
        *reason = "record count does not match the body: BATCH or RESULT without a body";
        goto cleanup;
    }
    if (body) {
        zmsg_remove (zmsg, body);
        self->body = body;
    }
cleanup:
    if (*reason)
        zetl_msg_destroy (&self);
    zmsg_destroy (zmsg_p);
    return self;
}

//  Send SELF, after ROUTING_ID if not NULL, without blocking
static int
s_send (const zetl_msg_t *self, zsock_t *sock, zframe_t *routing_id)
{
    assert (self);
    assert (sock);
    void *handle = zsock_resolve (sock);
    assert (handle);
    uint8_t header[ZETL_PROTO_MAX_HEADER];
    size_t size = s_encode_header (self, header);

    //  Only the first frame can be refused (EAGAIN, EHOSTUNREACH): once it is
    //  accepted, libzmq takes the other frames of the message too
    if (routing_id && zmq_send (handle, zframe_data (routing_id), zframe_size (routing_id),
                                ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1)
        return -1;
    if (zmq_send (handle, header, size, (self->body ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) == -1)
        return -1;
    if (self->body) {
        //  ZFRAME_REUSE sends a reference to the body's bytes: no copy, and
        //  SELF keeps its frame
        zframe_t *body = self->body;
        if (zframe_send (&body, sock, ZFRAME_REUSE | ZFRAME_DONTWAIT) == -1)
            return -1;
    }
    return 0;
}

int
zetl_msg_send (const zetl_msg_t *self, zsock_t *sock)
{
    return s_send (self, sock, NULL);
}

int
zetl_msg_send_router (const zetl_msg_t *self, zsock_t *sock, zframe_t *routing_id)
{
    assert (routing_id);
    return s_send (self, sock, routing_id);
}

//  Receive every frame of one message, keeping the first KEEP: a peer that
//  sends thousands of frames costs us no more than a few. NULL if interrupted.
static zmsg_t *
s_recv_frames (zsock_t *sock, size_t keep)
{
    assert (sock);
    zmsg_t *zmsg = zmsg_new ();
    assert (zmsg);
    while (true) {
        zframe_t *frame = zframe_recv (sock);
        if (!frame) {
            zmsg_destroy (&zmsg);
            return NULL;
        }
        bool more = zframe_more (frame) != 0;
        if (zmsg_size (zmsg) < keep)
            zmsg_append (zmsg, &frame);
        else
            zframe_destroy (&frame);
        if (!more)
            return zmsg;
    }
}

zetl_msg_t *
zetl_msg_recv (zsock_t *sock, const char **reason)
{
    assert (reason);
    *reason = NULL;
    zmsg_t *zmsg = s_recv_frames (sock, 3);  //  A third frame is enough to say "too many"
    if (!zmsg)
        return NULL;
    return zetl_msg_decode (&zmsg, reason);
}

zetl_msg_t *
zetl_msg_recv_router (zsock_t *sock, zframe_t **routing_id_p, const char **reason)
{
    assert (routing_id_p);
    assert (reason);
    *reason = NULL;
    *routing_id_p = NULL;
    zmsg_t *zmsg = s_recv_frames (sock, 4);
    if (!zmsg)
        return NULL;
    *routing_id_p = zmsg_pop (zmsg);
    return zetl_msg_decode (&zmsg, reason);
}
