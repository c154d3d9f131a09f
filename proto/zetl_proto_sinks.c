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
zetl_sinks_encode (const char *const *names, const char *const *endpoints,
                   const char *const *keys, size_t count)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_array (&packer, count);
    for (size_t index = 0; index < count; index++) {
        bool keyed = keys && keys[index] && *keys[index];
        msgpack_pack_array (&packer, keyed ? 3 : 2);
        msgpack_pack_str_with_body (&packer, names[index], strlen (names[index]));
        msgpack_pack_str_with_body (&packer, endpoints[index], strlen (endpoints[index]));
        if (keyed)
            msgpack_pack_str_with_body (&packer, keys[index], strlen (keys[index]));
    }
    zframe_t *frame = zframe_new (buffer.data, buffer.size);
    msgpack_sbuffer_destroy (&buffer);
    return frame;
}

//  Read one [name, endpoint] or [name, endpoint, key] entry at CUR into a
//  fresh string each (caller owns them; *KEY NULL when absent). Returns
//  NULL, or a reason.
static const char *
s_read_entry (zetl_walk_cursor_t *cur, char **name, char **endpoint, char **key)
{
    zetl_walk_item_t item;
    const char *reason = zetl_walk_item (cur, &item);
    if (reason)
        return reason;
    if (item.type != MSGPACK_OBJECT_ARRAY || (item.u64 != 2 && item.u64 != 3))
        return "SINKS entry is not an array of 2 or 3";
    char **strings[] = {name, endpoint, key};
    for (size_t i = 0; i < item.u64; i++) {
        const uint8_t *text;
        size_t size;
        reason = zetl_walk_text (cur, false, &text, &size, "SINKS name, endpoint or key is not a string",
                                 "SINKS name, endpoint or key longer than 1024 bytes",
                                 "SINKS name, endpoint or key is not UTF-8 text without NUL bytes");
        if (reason)
            return reason;
        if (size == 0)
            return "SINKS name, endpoint or key is empty";
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
zetl_sinks_decode (zframe_t *body, zhashx_t **keys)
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
    zhashx_t *sinks = zhashx_new (), *found = zhashx_new ();
    assert (sinks && found);
    zhashx_set_destructor (sinks, s_free_string);
    zhashx_set_destructor (found, s_free_string);
    const char *reason = NULL;
    for (uint64_t index = 0; index < item.u64 && !reason; index++) {
        char *name = NULL, *endpoint = NULL, *key = NULL;
        reason = s_read_entry (&cur, &name, &endpoint, &key);
        if (!reason) {
            zhashx_update (sinks, name, endpoint);  //  The hashes take the values, copy NAME
            if (key)
                zhashx_update (found, name, key);
            else
                zhashx_delete (found, name);
        }
        else {
            free (endpoint);
            free (key);
        }
        free (name);
    }
    if (reason || zetl_walk_left (&cur) != 0) {
        zhashx_destroy (&sinks);
        zhashx_destroy (&found);
    }
    if (keys)
        *keys = found;
    else
        zhashx_destroy (&found);
    return sinks;
}
