/*  zetl_proto_sinks - the body of SINKS  */
#include "zetl_proto_sinks.h"
#include "zetl_proto.h"

zframe_t *
zetl_sinks_encode (const char *const *names, const char *const *endpoints, size_t count)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_array (&packer, count);
    for (size_t index = 0; index < count; index++) {
        msgpack_pack_array (&packer, 2);
        msgpack_pack_str_with_body (&packer, names[index], strlen (names[index]));
        msgpack_pack_str_with_body (&packer, endpoints[index], strlen (endpoints[index]));
    }
    zframe_t *frame = zframe_new (buffer.data, buffer.size);
    msgpack_sbuffer_destroy (&buffer);
    return frame;
}

static char *
s_string (const msgpack_object *object)
{
    if (object->type != MSGPACK_OBJECT_STR || object->via.str.size == 0
        || object->via.str.size > ZETL_PROTO_MAX_STRING)
        return NULL;
    return strndup (object->via.str.ptr, object->via.str.size);
}

static void
s_free_string (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

zhashx_t *
zetl_sinks_decode (zframe_t *body)
{
    if (!body)
        return NULL;
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    zhashx_t *sinks = NULL;
    if (msgpack_unpack_next (&unpacked, (const char *) zframe_data (body), zframe_size (body),
                             &offset)
            == MSGPACK_UNPACK_SUCCESS
        && offset == zframe_size (body) && unpacked.data.type == MSGPACK_OBJECT_ARRAY) {
        sinks = zhashx_new ();
        zhashx_set_destructor (sinks, s_free_string);
        const msgpack_object_array *pairs = &unpacked.data.via.array;
        for (uint32_t index = 0; index < pairs->size; index++) {
            const msgpack_object *pair = &pairs->ptr[index];
            char *name = NULL, *endpoint = NULL;
            if (pair->type == MSGPACK_OBJECT_ARRAY && pair->via.array.size == 2) {
                name = s_string (&pair->via.array.ptr[0]);
                endpoint = s_string (&pair->via.array.ptr[1]);
            }
            if (!name || !endpoint) {
                free (name);
                free (endpoint);
                zhashx_destroy (&sinks);
                break;
            }
            zhashx_update (sinks, name, endpoint);
            free (name);
        }
    }
    msgpack_unpacked_destroy (&unpacked);
    return sinks;
}
