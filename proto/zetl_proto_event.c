/*  zetl_proto_event - messages of the coordinator's event socket (PUB)  */
#include "zetl_proto_event.h"
#include "zetl_proto.h"
#include "zetl_proto_walk.h"

#include <msgpack.h>

#define S_MAX_FIELDS 256

zmsg_t *
zetl_event_encode (const char *topic, const zetl_event_field_t *fields, size_t count)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, count);
    for (size_t index = 0; index < count; index++) {
        const zetl_event_field_t *field = &fields[index];
        msgpack_pack_str_with_body (&packer, field->key, strlen (field->key));
        if (field->type == ZETL_EVENT_INT)
            msgpack_pack_int64 (&packer, field->i);
        else if (field->type == ZETL_EVENT_DOUBLE)
            msgpack_pack_double (&packer, field->d);
        else if (field->s)
            msgpack_pack_str_with_body (&packer, field->s, strlen (field->s));
        else
            msgpack_pack_nil (&packer);
    }
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, topic);
    zmsg_addmem (msg, buffer.data, buffer.size);
    msgpack_sbuffer_destroy (&buffer);
    return msg;
}

//  One scalar value as JSON, or NULL
static json_t *
s_value (const msgpack_object *value)
{
    switch (value->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return json_integer ((json_int_t) value->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return json_integer ((json_int_t) value->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return json_real (value->via.f64);
    case MSGPACK_OBJECT_STR:
        return json_stringn (value->via.str.ptr, value->via.str.size);
    case MSGPACK_OBJECT_NIL:
        return json_null ();
    default:
        return NULL;
    }
}

json_t *
zetl_event_decode (zmsg_t **msg_p, const char **reason)
{
    zmsg_t *msg = *msg_p;
    json_t *event = NULL;
    *reason = NULL;
    zframe_t *topic = zmsg_first (msg);
    zframe_t *body = zmsg_next (msg);
    if (!topic || !body || zmsg_size (msg) != 2 || zframe_size (topic) > ZETL_PROTO_MAX_STRING) {
        *reason = "an event is a topic frame and a body frame";
        goto cleanup;
    }
    //  The bounded walker: a hostile publisher cannot make us allocate
    zetl_walk_cursor_t cursor = {zframe_data (body), zframe_data (body) + zframe_size (body)};
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    msgpack_object map;
    size_t budget = 4 * S_MAX_FIELDS;
    *reason = zetl_walk_object (&cursor, &zone, &map, 0, &budget);
    if (!*reason && cursor.ptr != cursor.end)
        *reason = "bytes after the event body";
    if (!*reason && (map.type != MSGPACK_OBJECT_MAP || map.via.map.size > S_MAX_FIELDS))
        *reason = "an event body is a map of at most 256 fields";
    if (!*reason) {
        event = json_object ();
        json_object_set_new (event, "topic",
                             json_stringn ((const char *) zframe_data (topic), zframe_size (topic)));
        for (uint32_t index = 0; index < map.via.map.size && !*reason; index++) {
            const msgpack_object_kv *pair = &map.via.map.ptr[index];
            json_t *value = s_value (&pair->val);
            if (pair->key.type != MSGPACK_OBJECT_STR || !value) {
                json_decref (value);
                *reason = "an event field is a string key with a scalar value";
                break;
            }
            char key[256];
            snprintf (key, sizeof key, "%.*s", (int) pair->key.via.str.size, pair->key.via.str.ptr);
            json_object_set_new (event, key, value);
        }
        if (*reason) {
            json_decref (event);
            event = NULL;
        }
    }
    msgpack_zone_destroy (&zone);
cleanup:
    zmsg_destroy (msg_p);
    return event;
}
