/*  zetl_record - records: msgpack maps, their values, JSON text and content hash

    Everything here reads msgpack_object trees that someone else unpacked;
    nothing is retained. The content hash streams a canonical serialization
    into XXH3-128 through a small stack buffer, so hashing a record allocates
    nothing unless one of its maps has more than 64 keys.
*/
#include "zetl_record.h"
#include "zetl_json_text.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY  //  XXH3_state_t on the stack
#include <xxhash.h>

#define S_MAX_DEPTH 64      //  nesting accepted by zetl_record_to_json
#define S_SORT_ON_STACK 64  //  maps up to this many keys sort without malloc
#define S_HASH_BUFFER 2048  //  canonical bytes gathered before each XXH3 update

//  Canonical form tags: each value is a tag and a self-delimiting body
enum {
    S_TAG_NIL = 0x00,
    S_TAG_FALSE = 0x01,
    S_TAG_TRUE = 0x02,
    S_TAG_UINT = 0x03,   //  every integer >= 0, signed or not: 8 bytes big-endian
    S_TAG_NINT = 0x04,   //  integers < 0: 8 bytes big-endian two's complement
    S_TAG_FLOAT = 0x05,  //  IEEE double, big-endian; -0.0 as 0.0, one NaN
    S_TAG_STR = 0x06,    //  u32 length + bytes
    S_TAG_BIN = 0x07,    //  u32 length + bytes
    S_TAG_EXT = 0x08,    //  type byte + u32 length + bytes
    S_TAG_ARRAY = 0x09,  //  u32 count + items
    S_TAG_MAP = 0x0a     //  u32 count + (key, value) pairs sorted by key bytes
};

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

//  ---------------------------------------------------------------------------
//  Content hash

//  Where canonical bytes go: a buffer that is either flushed into an XXH3
//  state when full (hashing) or grown on the heap (sort keys, rare)
typedef struct {
    unsigned char *buf;
    size_t used;
    size_t cap;
    XXH3_state_t *state;  //  NULL: grow buf on the heap instead of flushing
    bool started;         //  state was reset and has been fed
} s_sink_t;

static void
s_sink_put (s_sink_t *sink, const void *data, size_t len)
{
    if (sink->cap - sink->used < len) {
        if (sink->state) {
            if (!sink->started) {
                XXH3_128bits_reset (sink->state);
                sink->started = true;
            }
            XXH3_128bits_update (sink->state, sink->buf, sink->used);
            sink->used = 0;
            if (len > sink->cap) {
                XXH3_128bits_update (sink->state, data, len);
                return;
            }
        }
        else {
            size_t cap = sink->cap ? sink->cap * 2 : 256;
            while (cap - sink->used < len)
                cap *= 2;
            unsigned char *buf = (unsigned char *) realloc (sink->buf, cap);
            if (!buf)
                s_oom ();
            sink->buf = buf;
            sink->cap = cap;
        }
    }
    memcpy (sink->buf + sink->used, data, len);
    sink->used += len;
}

static void
s_sink_tag_u64 (s_sink_t *sink, unsigned char tag, uint64_t v)
{
    unsigned char bytes[9] = {tag,
                              (unsigned char) (v >> 56),
                              (unsigned char) (v >> 48),
                              (unsigned char) (v >> 40),
                              (unsigned char) (v >> 32),
                              (unsigned char) (v >> 24),
                              (unsigned char) (v >> 16),
                              (unsigned char) (v >> 8),
                              (unsigned char) v};
    s_sink_put (sink, bytes, sizeof bytes);
}

static void
s_sink_tag_u32 (s_sink_t *sink, unsigned char tag, uint32_t v)
{
    unsigned char bytes[5] = {tag, (unsigned char) (v >> 24), (unsigned char) (v >> 16),
                              (unsigned char) (v >> 8), (unsigned char) v};
    s_sink_put (sink, bytes, sizeof bytes);
}

static void s_canonical (s_sink_t *sink, const msgpack_object *obj);

//  Order of map entries in the canonical form: string keys by their bytes
//  (memcmp, then shorter first), before keys of any other type, which order
//  by their canonical bytes. Equal keys (a map may repeat one) order by
//  their values, so the result never depends on the input order.
static int
s_canonical_cmp (const msgpack_object *a, const msgpack_object *b)
{
    s_sink_t sa = {0}, sb = {0};
    s_canonical (&sa, a);
    s_canonical (&sb, b);
    size_t n = sa.used < sb.used ? sa.used : sb.used;
    int rc = n ? memcmp (sa.buf, sb.buf, n) : 0;
    if (rc == 0)
        rc = sa.used < sb.used ? -1 : sa.used > sb.used;
    free (sa.buf);
    free (sb.buf);
    return rc;
}

static int
s_kv_cmp (const msgpack_object_kv *a, const msgpack_object_kv *b)
{
    bool a_str = a->key.type == MSGPACK_OBJECT_STR, b_str = b->key.type == MSGPACK_OBJECT_STR;
    int rc;
    if (a_str && b_str) {
        uint32_t la = a->key.via.str.size, lb = b->key.via.str.size;
        rc = memcmp (a->key.via.str.ptr, b->key.via.str.ptr, la < lb ? la : lb);
        if (rc == 0)
            rc = la < lb ? -1 : la > lb;
    }
    else if (a_str != b_str)
        rc = a_str ? -1 : 1;
    else
        rc = s_canonical_cmp (&a->key, &b->key);
    return rc ? rc : s_canonical_cmp (&a->val, &b->val);
}

static int
s_kv_qsort_cmp (const void *a, const void *b)
{
    return s_kv_cmp (*(const msgpack_object_kv *const *) a, *(const msgpack_object_kv *const *) b);
}

static void
s_canonical_map (s_sink_t *sink, const msgpack_object *obj)
{
    uint32_t count = obj->via.map.size;
    const msgpack_object_kv *stack[S_SORT_ON_STACK];
    const msgpack_object_kv **sorted = stack;
    if (count > S_SORT_ON_STACK) {
        sorted = (const msgpack_object_kv **) malloc (count * sizeof *sorted);
        if (!sorted)
            s_oom ();
    }
    for (uint32_t i = 0; i < count; i++)
        sorted[i] = &obj->via.map.ptr[i];
    if (count > S_SORT_ON_STACK)
        qsort (sorted, count, sizeof *sorted, s_kv_qsort_cmp);
    else
        //  Insertion sort: records are small, and often already sorted
        for (uint32_t i = 1; i < count; i++) {
            const msgpack_object_kv *kv = sorted[i];
            uint32_t j = i;
            while (j > 0 && s_kv_cmp (sorted[j - 1], kv) > 0) {
                sorted[j] = sorted[j - 1];
                j--;
            }
            sorted[j] = kv;
        }
    s_sink_tag_u32 (sink, S_TAG_MAP, count);
    for (uint32_t i = 0; i < count; i++) {
        s_canonical (sink, &sorted[i]->key);
        s_canonical (sink, &sorted[i]->val);
    }
    if (sorted != stack)
        free (sorted);
}

static void
s_canonical (s_sink_t *sink, const msgpack_object *obj)
{
    switch (obj->type) {
    case MSGPACK_OBJECT_NIL: {
        unsigned char tag = S_TAG_NIL;
        s_sink_put (sink, &tag, 1);
        break;
    }
    case MSGPACK_OBJECT_BOOLEAN: {
        unsigned char tag = obj->via.boolean ? S_TAG_TRUE : S_TAG_FALSE;
        s_sink_put (sink, &tag, 1);
        break;
    }
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        s_sink_tag_u64 (sink, S_TAG_UINT, obj->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        //  A hand-built object may carry a non-negative value here: same as uint
        s_sink_tag_u64 (sink, obj->via.i64 < 0 ? S_TAG_NINT : S_TAG_UINT, (uint64_t) obj->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: {
        double f = obj->via.f64;
        uint64_t bits;
        if (isnan (f))
            bits = UINT64_C (0x7ff8000000000000);
        else {
            if (f == 0)
                f = 0;  //  -0.0 and 0.0 are the same content
            memcpy (&bits, &f, sizeof bits);
        }
        s_sink_tag_u64 (sink, S_TAG_FLOAT, bits);
        break;
    }
    case MSGPACK_OBJECT_STR:
        s_sink_tag_u32 (sink, S_TAG_STR, obj->via.str.size);
        s_sink_put (sink, obj->via.str.ptr, obj->via.str.size);
        break;
    case MSGPACK_OBJECT_BIN:
        s_sink_tag_u32 (sink, S_TAG_BIN, obj->via.bin.size);
        s_sink_put (sink, obj->via.bin.ptr, obj->via.bin.size);
        break;
    case MSGPACK_OBJECT_EXT: {
        unsigned char type = (unsigned char) obj->via.ext.type;
        s_sink_tag_u32 (sink, S_TAG_EXT, obj->via.ext.size);
        s_sink_put (sink, &type, 1);
        s_sink_put (sink, obj->via.ext.ptr, obj->via.ext.size);
        break;
    }
    case MSGPACK_OBJECT_ARRAY:
        s_sink_tag_u32 (sink, S_TAG_ARRAY, obj->via.array.size);
        for (uint32_t i = 0; i < obj->via.array.size; i++)
            s_canonical (sink, &obj->via.array.ptr[i]);
        break;
    case MSGPACK_OBJECT_MAP:
        s_canonical_map (sink, obj);
        break;
    default: {
        unsigned char tag = S_TAG_NIL;
        s_sink_put (sink, &tag, 1);
        break;
    }
    }
}

void
zetl_record_hash (const msgpack_object *obj, uint8_t out[16])
{
    assert (obj && out);
    unsigned char buf[S_HASH_BUFFER];
    XXH3_state_t state;
    s_sink_t sink = {buf, 0, sizeof buf, &state, false};
    s_canonical (&sink, obj);
    XXH128_hash_t hash;
    if (sink.started) {
        XXH3_128bits_update (&state, buf, sink.used);
        hash = XXH3_128bits_digest (&state);
    }
    else
        //  Same value as the streaming digest, without its setup
        hash = XXH3_128bits (buf, sink.used);
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash (&canonical, hash);  //  high64 then low64, big-endian
    memcpy (out, canonical.digest, 16);
}
