/*  zetl_record - records: msgpack maps, their values and JSON text

    Everything here reads msgpack_object trees that someone else unpacked;
    nothing is retained. The content hash is zetl_record_hash.c.
*/
#include "zetl_record.h"
#include "zetl_json_text.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define S_MAX_DEPTH 64      //  nesting accepted by zetl_record_to_json

static void
s_oom (void)
{
    fprintf (stderr, "zetl_record: out of memory\n");
    abort ();
}

//  ---------------------------------------------------------------------------
//  Text of scalar values

//  Write V in decimal at the end of BUF (SIZE >= 21); returns the start
static char *
s_u64_text (uint64_t v, char *end)
{
    char *p = end;
    do {
        *--p = (char) ('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

static size_t
s_float_text (const msgpack_object *value, char *scratch, size_t size)
{
    double f = value->via.f64;
    int n;
    if (isnan (f))
        n = snprintf (scratch, size, "NaN");
    else if (isinf (f))
        n = snprintf (scratch, size, f > 0 ? "Infinity" : "-Infinity");
    else if (value->type == MSGPACK_OBJECT_FLOAT32)
        n = snprintf (scratch, size, "%.9g", f);  //  Enough to round-trip a float
    else
        n = snprintf (scratch, size, "%.17g", f);
    return n < 0 ? 0 : (size_t) n < size ? (size_t) n : size - 1;
}

int
zetl_record_value_text (const msgpack_object *value, char *scratch, size_t size, const char **ptr,
                        size_t *len)
{
    assert (value && ptr && len);
    assert (scratch && size >= 32);
    switch (value->type) {
    case MSGPACK_OBJECT_STR:
        *ptr = value->via.str.ptr;
        *len = value->via.str.size;
        return 0;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: {
        char *start = s_u64_text (value->via.u64, scratch + 31);
        *len = (size_t) (scratch + 31 - start);
        memmove (scratch, start, *len);
        *ptr = scratch;
        return 0;
    }
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: {
        int64_t i = value->via.i64;
        uint64_t magnitude = i < 0 ? (uint64_t) 0 - (uint64_t) i : (uint64_t) i;
        char *start = s_u64_text (magnitude, scratch + 31);
        if (i < 0)
            *--start = '-';
        *len = (size_t) (scratch + 31 - start);
        memmove (scratch, start, *len);
        *ptr = scratch;
        return 0;
    }
    case MSGPACK_OBJECT_BOOLEAN:
        *ptr = value->via.boolean ? "true" : "false";
        *len = value->via.boolean ? 4 : 5;
        return 0;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        *len = s_float_text (value, scratch, size);
        *ptr = scratch;
        return 0;
    case MSGPACK_OBJECT_EXT:
        if (value->via.ext.type != ZETL_EXT_DECIMAL)
            return -1;
        *ptr = value->via.ext.ptr;
        *len = value->via.ext.size;
        return 0;
    default:
        return -1;  //  nil, map, array, bin
    }
}

const msgpack_object *
zetl_record_get (const msgpack_object *map, const char *name)
{
    assert (name);
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t name_len = strlen (name);
    const msgpack_object_kv *kv = map->via.map.ptr;
    for (uint32_t i = 0; i < map->via.map.size; i++, kv++) {
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == name_len &&
            memcmp (kv->key.via.str.ptr, name, name_len) == 0)
            return &kv->val;
    }
    return NULL;
}

//  ---------------------------------------------------------------------------
//  JSON text

static void
s_write (msgpack_sbuffer *out, const void *data, size_t len)
{
    memcpy (zetl_json_text_reserve (out, len), data, len);
    out->size += len;
}

static void
s_json_string (msgpack_sbuffer *out, const char *text, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    //  Worst case every byte becomes \u00XX
    char *p = zetl_json_text_reserve (out, 2 + 6 * len);
    char *start = p;
    *p++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) text[i];
        //  UTF-8 bytes (>= 0x80) go through as they are
        if (c >= 0x20 && c != '"' && c != '\\') {
            *p++ = (char) c;
            continue;
        }
        *p++ = '\\';
        switch (c) {
        case '"':
        case '\\':
            *p++ = (char) c;
            break;
        case '\b':
            *p++ = 'b';
            break;
        case '\f':
            *p++ = 'f';
            break;
        case '\n':
            *p++ = 'n';
            break;
        case '\r':
            *p++ = 'r';
            break;
        case '\t':
            *p++ = 't';
            break;
        default:
            memcpy (p, "u00", 3);
            p[3] = hex[c >> 4];
            p[4] = hex[c & 15];
            p += 5;
        }
    }
    *p++ = '"';
    out->size += (size_t) (p - start);
}

static void
s_json_base64 (msgpack_sbuffer *out, const unsigned char *data, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *p = zetl_json_text_reserve (out, 2 + (len + 2) / 3 * 4);
    char *start = p;
    *p++ = '"';
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t) data[i] << 16 | (uint32_t) data[i + 1] << 8 | data[i + 2];
        *p++ = alphabet[v >> 18];
        *p++ = alphabet[(v >> 12) & 63];
        *p++ = alphabet[(v >> 6) & 63];
        *p++ = alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t) data[i] << 16 | (i + 1 < len ? (uint32_t) data[i + 1] << 8 : 0);
        *p++ = alphabet[v >> 18];
        *p++ = alphabet[(v >> 12) & 63];
        *p++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        *p++ = '=';
    }
    *p++ = '"';
    out->size += (size_t) (p - start);
}

//  A decimal as a bare number when its text is a JSON number, else as a
//  string ("NaN", "1."), which keeps the JSON valid
static void
s_json_decimal (msgpack_sbuffer *out, const char *text, size_t len)
{
    int64_t value;  //  Unused: any JSON number goes out as written
    if (zetl_json_text_number (text, len, &value) >= 0)
        s_write (out, text, len);
    else
        s_json_string (out, text, len);
}

static int s_to_json (const msgpack_object *obj, msgpack_sbuffer *out, int depth);

//  JSON keys are strings: a key of another type is written as the string
//  of its JSON text (1 -> "1")
static int
s_json_key (const msgpack_object *key, msgpack_sbuffer *out, int depth)
{
    if (key->type == MSGPACK_OBJECT_STR) {
        s_json_string (out, key->via.str.ptr, key->via.str.size);
        return 0;
    }
    size_t mark = out->size;
    if (s_to_json (key, out, depth) != 0)
        return -1;
    size_t text_len = out->size - mark;
    char *text = (char *) malloc (text_len ? text_len : 1);
    if (!text)
        s_oom ();
    memcpy (text, out->data + mark, text_len);
    out->size = mark;
    s_json_string (out, text, text_len);
    free (text);
    return 0;
}

static int
s_to_json (const msgpack_object *obj, msgpack_sbuffer *out, int depth)
{
    if (depth > S_MAX_DEPTH)
        return -1;
    switch (obj->type) {
    case MSGPACK_OBJECT_NIL:
        s_write (out, "null", 4);
        return 0;
    case MSGPACK_OBJECT_BOOLEAN:
        if (obj->via.boolean)
            s_write (out, "true", 4);
        else
            s_write (out, "false", 5);
        return 0;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: {
        char scratch[32];
        const char *text;
        size_t len;
        zetl_record_value_text (obj, scratch, sizeof scratch, &text, &len);
        s_write (out, text, len);
        return 0;
    }
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        //  JSON has no NaN or infinities
        if (!isfinite (obj->via.f64))
            s_write (out, "null", 4);
        else {
            char scratch[32];
            size_t len = s_float_text (obj, scratch, sizeof scratch);
            s_write (out, scratch, len);
        }
        return 0;
    case MSGPACK_OBJECT_STR:
        s_json_string (out, obj->via.str.ptr, obj->via.str.size);
        return 0;
    case MSGPACK_OBJECT_BIN:
        s_json_base64 (out, (const unsigned char *) obj->via.bin.ptr, obj->via.bin.size);
        return 0;
    case MSGPACK_OBJECT_EXT:
        if (obj->via.ext.type != ZETL_EXT_DECIMAL)
            s_write (out, "null", 4);
        else
            s_json_decimal (out, obj->via.ext.ptr, obj->via.ext.size);
        return 0;
    case MSGPACK_OBJECT_ARRAY:
        s_write (out, "[", 1);
        for (uint32_t i = 0; i < obj->via.array.size; i++) {
            if (i)
                s_write (out, ",", 1);
            if (s_to_json (&obj->via.array.ptr[i], out, depth + 1) != 0)
                return -1;
        }
        s_write (out, "]", 1);
        return 0;
    case MSGPACK_OBJECT_MAP:
        s_write (out, "{", 1);
        for (uint32_t i = 0; i < obj->via.map.size; i++) {
            if (i)
                s_write (out, ",", 1);
            if (s_json_key (&obj->via.map.ptr[i].key, out, depth + 1) != 0)
                return -1;
            s_write (out, ":", 1);
            if (s_to_json (&obj->via.map.ptr[i].val, out, depth + 1) != 0)
                return -1;
        }
        s_write (out, "}", 1);
        return 0;
    default:
        s_write (out, "null", 4);
        return 0;
    }
}

int
zetl_record_to_json (const msgpack_object *obj, msgpack_sbuffer *out)
{
    assert (obj && out);
    size_t mark = out->size;
    int rc = s_to_json (obj, out, 1);
    if (rc != 0)
        out->size = mark;
    return rc;
}
