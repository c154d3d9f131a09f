/*  zetl_proto_sinks - the body of SINKS (API in zetl_proto_sinks.h)

    Decoded with the bounded walker (zetl_proto_walk.h), as every frame from a
    peer is: a declared length is checked against the bytes left before
    anything is made for it.
*/
#include "zetl_proto_sinks.h"
#include "zetl_proto.h"
#include "zetl_proto_walk.h"

#include <string.h>

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

//  Read one [name, endpoint] pair at CUR into a fresh string each (caller
//  owns them). Returns NULL, or a reason.
static const char *
s_read_pair (zetl_walk_cursor_t *cur, char **name, char **endpoint)
{
    zetl_walk_item_t item;
    const char *reason = zetl_walk_item (cur, &item);
    if (reason)
        return reason;
    if (item.type != MSGPACK_OBJECT_ARRAY || item.u64 != 2)
        return "SINKS entry is not an array of 2";
    char **strings[] = {name, endpoint};
    for (size_t i = 0; i < 2; i++) {
        const uint8_t *text;
        size_t size;
        reason = zetl_walk_text (cur, false, &text, &size, "SINKS name or endpoint is not a string",
                                 "SINKS name or endpoint longer than 1024 bytes",
                                 "SINKS name or endpoint is not UTF-8 text without NUL bytes");
        if (reason)
            return reason;
        if (size == 0)
            return "SINKS name or endpoint is empty";
        *strings[i] = strndup ((const char *) text, size);
        assert (*strings[i]);  //  Out of memory is fatal
    }
    return NULL;
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
    zetl_walk_cursor_t cur = {zframe_data (body), zframe_data (body) + zframe_size (body)};
    zetl_walk_item_t item;
    if (zetl_walk_item (&cur, &item) || item.type != MSGPACK_OBJECT_ARRAY)
        return NULL;
    //  A pair takes at least 3 bytes: refuse a count the body cannot hold
    //  before making anything for it
    if (item.u64 > zetl_walk_left (&cur) / 3)
        return NULL;
    zhashx_t *sinks = zhashx_new ();
    assert (sinks);
    zhashx_set_destructor (sinks, s_free_string);
    const char *reason = NULL;
    for (uint64_t index = 0; index < item.u64 && !reason; index++) {
        char *name = NULL, *endpoint = NULL;
        reason = s_read_pair (&cur, &name, &endpoint);
        if (!reason)
            zhashx_update (sinks, name, endpoint);  //  The hash takes ENDPOINT, copies NAME
        else
            free (endpoint);
        free (name);
    }
    if (reason || zetl_walk_left (&cur) != 0)
        zhashx_destroy (&sinks);
    return sinks;
}
