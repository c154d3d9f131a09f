/*  zetl_dead - a dead letter as it travels in a batch entry  */
#include "zetl_dead.h"
#include "zetl_record.h"

#include <string.h>

static void
s_pack_str (msgpack_packer *packer, const char *text, size_t len)
{
    if (text)
        msgpack_pack_str_with_body (packer, text, len);
    else
        msgpack_pack_nil (packer);
}

void
zetl_dead_pack (msgpack_sbuffer *out, const char *stage, const char *reason, const char *field,
                const char *error, const char *raw, size_t raw_len)
{
    msgpack_packer packer;
    msgpack_packer_init (&packer, out, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, 5);
    s_pack_str (&packer, "stage", 5);
    s_pack_str (&packer, stage, stage ? strlen (stage) : 0);
    s_pack_str (&packer, "reason", 6);
    s_pack_str (&packer, reason, reason ? strlen (reason) : 0);
    s_pack_str (&packer, "field", 5);
    s_pack_str (&packer, field, field ? strlen (field) : 0);
    s_pack_str (&packer, "error", 5);
    s_pack_str (&packer, error, error ? strlen (error) : 0);
    s_pack_str (&packer, "raw", 3);
    s_pack_str (&packer, raw ? raw : "", raw_len);
}

void
zetl_dead_pack_record (msgpack_sbuffer *out, msgpack_sbuffer *json, const msgpack_object *record,
                       const char *stage, const char *reason, const char *field, const char *error)
{
    json->size = 0;
    zetl_record_to_json (record, json);
    zetl_dead_pack (out, stage, reason, field, error, json->data, json->size);
}
