/*  zetl_proto_walk - a bounded msgpack walker (API in zetl_proto_walk.h)  */
#include "zetl_proto_walk.h"
#include "zetl_proto.h"

#include <assert.h>
#include <stddef.h>
#include <string.h>

//  zetl_walk_object builds a map's pairs as one run of objects
_Static_assert (sizeof (msgpack_object_kv) == 2 * sizeof (msgpack_object)
                    && offsetof (msgpack_object_kv, val) == sizeof (msgpack_object),
                "msgpack_object_kv is a key and a value, no padding");

static uint64_t
s_be (const uint8_t *p, size_t bytes)
{
    uint64_t value = 0;
    for (size_t i = 0; i < bytes; i++)
        value = (value << 8) | p[i];
    return value;
}

//  Take BYTES bytes at the cursor into *DATA. Returns NULL, or a reason.
static const char *
s_take (zetl_walk_cursor_t *cur, size_t bytes, const uint8_t **data)
{
    if (zetl_walk_left (cur) < bytes)
        return "truncated msgpack";
    *data = cur->ptr;
    cur->ptr += bytes;
    return NULL;
}

const char *
zetl_walk_item (zetl_walk_cursor_t *cur, zetl_walk_item_t *item)
{
    const uint8_t *p;
    if (s_take (cur, 1, &p))
        return "truncated msgpack";
    uint8_t byte = *p;
    size_t width = 0;  //  bytes of the length or value that follow BYTE
    memset (item, 0, sizeof (*item));

    if (byte <= 0x7f) {
        item->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        item->u64 = byte;
        return NULL;
    }
    if (byte >= 0xe0) {
        item->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
        item->i64 = (int8_t) byte;
        return NULL;
    }
    if (byte <= 0x9f) {
        item->type = byte <= 0x8f ? MSGPACK_OBJECT_MAP : MSGPACK_OBJECT_ARRAY;
        item->u64 = byte & 0x0f;
        return NULL;
    }
    if (byte >= 0xa0 && byte <= 0xbf) {
        item->type = MSGPACK_OBJECT_STR;
        item->size = byte & 0x1f;
        return s_take (cur, item->size, &item->data);
    }
    switch (byte) {
    case 0xc0:
        item->type = MSGPACK_OBJECT_NIL;
        return NULL;
    case 0xc2:
    case 0xc3:
        item->type = MSGPACK_OBJECT_BOOLEAN;
        item->u64 = byte == 0xc3;
        return NULL;
    case 0xc4:
    case 0xc5:
    case 0xc6:
    case 0xd9:
    case 0xda:
    case 0xdb:
        item->type = byte <= 0xc6 ? MSGPACK_OBJECT_BIN : MSGPACK_OBJECT_STR;
        width = (size_t) 1 << (byte <= 0xc6 ? byte - 0xc4 : byte - 0xd9);
        if (s_take (cur, width, &p))
            return "truncated msgpack";
        item->size = (uint32_t) s_be (p, width);
        return s_take (cur, item->size, &item->data);
    case 0xc7:
    case 0xc8:
    case 0xc9:
        item->type = MSGPACK_OBJECT_EXT;
        width = (size_t) 1 << (byte - 0xc7);
        if (s_take (cur, width + 1, &p))
            return "truncated msgpack";
        item->size = (uint32_t) s_be (p, width);
        item->ext_type = (int8_t) p[width];
        return s_take (cur, item->size, &item->data);
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
        item->type = MSGPACK_OBJECT_EXT;
        item->size = (uint32_t) 1 << (byte - 0xd4);
        if (s_take (cur, 1, &p))
            return "truncated msgpack";
        item->ext_type = (int8_t) *p;
        return s_take (cur, item->size, &item->data);
    case 0xca: {
        if (s_take (cur, 4, &p))
            return "truncated msgpack";
        uint32_t bits = (uint32_t) s_be (p, 4);
        float value;
        memcpy (&value, &bits, sizeof (value));
        item->type = MSGPACK_OBJECT_FLOAT32;
        item->f64 = value;
        return NULL;
    }
    case 0xcb: {
        if (s_take (cur, 8, &p))
            return "truncated msgpack";
        uint64_t bits = s_be (p, 8);
        memcpy (&item->f64, &bits, sizeof (item->f64));
        item->type = MSGPACK_OBJECT_FLOAT64;
        return NULL;
    }
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:
        width = (size_t) 1 << (byte - 0xcc);
        if (s_take (cur, width, &p))
            return "truncated msgpack";
        item->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        item->u64 = s_be (p, width);
        return NULL;
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
        width = (size_t) 1 << (byte - 0xd0);
        if (s_take (cur, width, &p))
            return "truncated msgpack";
        uint64_t raw = s_be (p, width);
        int64_t value = width == 1   ? (int8_t) raw
                        : width == 2 ? (int16_t) raw
                        : width == 4 ? (int32_t) raw
                                     : (int64_t) raw;
        //  msgpack-c's rule: a signed encoding of a value >= 0 is a positive integer
        if (value >= 0) {
            item->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
            item->u64 = (uint64_t) value;
        }
        else {
            item->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
            item->i64 = value;
        }
        return NULL;
    }
    case 0xdc:
    case 0xdd:
    case 0xde:
    case 0xdf:
        width = (byte == 0xdc || byte == 0xde) ? 2 : 4;
        if (s_take (cur, width, &p))
            return "truncated msgpack";
        item->type = byte <= 0xdd ? MSGPACK_OBJECT_ARRAY : MSGPACK_OBJECT_MAP;
        item->u64 = s_be (p, width);
        return NULL;
    default:
        return "bad msgpack: byte 0xc1 is never used";
    }
}

//  Bytes that follow each type byte before the next item, when fixed by the
//  byte alone (ints, floats, fixext with its type byte); 0 for the rest
static const uint8_t s_fixed_after[256] = {
    [0xca] = 4, [0xcb] = 8, [0xcc] = 1, [0xcd] = 2, [0xce] = 4, [0xcf] = 8,
    [0xd0] = 1, [0xd1] = 2, [0xd2] = 4, [0xd3] = 8, [0xd4] = 2, [0xd5] = 3,
    [0xd6] = 5, [0xd7] = 9, [0xd8] = 17};

//  Skip COUNT sibling objects at CUR, nested BASE containers deep. One loop
//  and a stack of element counts instead of a call per object: finding where
//  an entry ends is the most frequent thing a body is read for. The checks and
//  their order are zetl_walk_object's: a container nested too deep (even
//  empty), a length larger than the bytes left, then the object budget.
static const char *
s_skip_run (zetl_walk_cursor_t *cur, int base, uint64_t count, size_t *budget)
{
    assert (base >= 0 && base <= ZETL_WALK_MAX_DEPTH + 1);
    uint64_t left[ZETL_WALK_MAX_DEPTH + 2];  //  objects still to skip in each open run
    int open = 0;
    if (count)
        left[open++] = count;
    const uint8_t *p = cur->ptr;
    const uint8_t *end = cur->end;
    const char *reason = NULL;
    while (open > 0) {
        if (left[open - 1] == 0) {
            open--;
            continue;
        }
        left[open - 1]--;
        if (p >= end) {
            reason = "truncated msgpack";
            break;
        }
        uint8_t byte = *p++;
        uint64_t objects;  //  a container's elements, keys and values both counted
        if (byte <= 0x7f || byte >= 0xe0)
            continue;  //  fixint
        if (byte >= 0xa0 && byte <= 0xbf) {
            size_t size = byte & 0x1f;  //  fixstr
            if ((size_t) (end - p) < size) {
                reason = "truncated msgpack";
                break;
            }
            p += size;
            continue;
        }
        if (byte <= 0x9f)
            objects = byte <= 0x8f ? (uint64_t) (byte & 0x0f) * 2 : byte & 0x0f;
        else if (byte == 0xc1) {
            reason = "bad msgpack: byte 0xc1 is never used";
            break;
        }
        else if (byte <= 0xc3)
            continue;  //  nil, false, true
        else if (s_fixed_after[byte]) {
            if ((size_t) (end - p) < s_fixed_after[byte]) {
                reason = "truncated msgpack";
                break;
            }
            p += s_fixed_after[byte];
            continue;
        }
        else if (byte >= 0xdc) {  //  array 16/32, map 16/32
            size_t width = (byte == 0xdc || byte == 0xde) ? 2 : 4;
            if ((size_t) (end - p) < width) {
                reason = "truncated msgpack";
                break;
            }
            objects = s_be (p, width);
            p += width;
            if (byte >= 0xde)
                objects *= 2;
        }
        else {
            //  str 8/16/32, bin 8/16/32, ext 8/16/32 (a type byte after the length)
            size_t width = (size_t) 1 << (byte <= 0xc6   ? byte - 0xc4
                                          : byte <= 0xc9 ? byte - 0xc7
                                                         : byte - 0xd9);
            size_t head = width + (byte >= 0xc7 && byte <= 0xc9);
            if ((size_t) (end - p) < head) {
                reason = "truncated msgpack";
                break;
            }
            uint64_t size = s_be (p, width);
            p += head;
            if ((uint64_t) (end - p) < size) {
                reason = "truncated msgpack";
                break;
            }
            p += size;
            continue;
        }
        //  A container, at depth BASE + OPEN - 1
        if (base + open - 1 >= ZETL_WALK_MAX_DEPTH) {
            reason = "msgpack nested deeper than 100";
            break;
        }
        if (objects > (uint64_t) (end - p)) {
            reason = "truncated msgpack: a length is larger than the bytes left";
            break;
        }
        if (objects > *budget) {
            reason = "too many msgpack objects in one entry (limit 2097152)";
            break;
        }
        *budget -= objects;
        if (objects)
            left[open++] = objects;
    }
    cur->ptr = p;
    return reason;
}

const char *
zetl_walk_skip (zetl_walk_cursor_t *cur, int depth, size_t *budget)
{
    return s_skip_run (cur, depth, 1, budget);
}

const char *
zetl_walk_skip_elements (zetl_walk_cursor_t *cur, const zetl_walk_item_t *item, int depth,
                         size_t *budget)
{
    assert (item->type == MSGPACK_OBJECT_ARRAY || item->type == MSGPACK_OBJECT_MAP);
    if (depth >= ZETL_WALK_MAX_DEPTH)
        return "msgpack nested deeper than 100";
    uint64_t objects = item->type == MSGPACK_OBJECT_MAP ? item->u64 * 2 : item->u64;
    if (objects > zetl_walk_left (cur))
        return "truncated msgpack: a length is larger than the bytes left";
    if (objects > *budget)
        return "too many msgpack objects in one entry (limit 2097152)";
    *budget -= objects;
    return s_skip_run (cur, depth + 1, objects, budget);
}

void
zetl_walk_item_object (const zetl_walk_item_t *item, msgpack_object *obj)
{
    obj->type = item->type;
    switch (item->type) {
    case MSGPACK_OBJECT_BOOLEAN:
        obj->via.boolean = item->u64 != 0;
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        obj->via.u64 = item->u64;
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        obj->via.i64 = item->i64;
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        obj->via.f64 = item->f64;
        break;
    case MSGPACK_OBJECT_STR:
    case MSGPACK_OBJECT_BIN:
        //  str and bin share their layout in msgpack_object
        obj->via.str.size = item->size;
        obj->via.str.ptr = (const char *) item->data;
        break;
    case MSGPACK_OBJECT_EXT:
        obj->via.ext.type = item->ext_type;
        obj->via.ext.size = item->size;
        obj->via.ext.ptr = (const char *) item->data;
        break;
    case MSGPACK_OBJECT_ARRAY:
        obj->via.array.size = 0;
        obj->via.array.ptr = NULL;
        break;
    case MSGPACK_OBJECT_MAP:
        obj->via.map.size = 0;
        obj->via.map.ptr = NULL;
        break;
    default:
        break;
    }
}

const char *
zetl_walk_object (zetl_walk_cursor_t *cur, msgpack_zone *zone, msgpack_object *obj, int depth,
                  size_t *budget)
{
    if (!zone)
        return zetl_walk_skip (cur, depth, budget);
    zetl_walk_item_t item;
    const char *reason = zetl_walk_item (cur, &item);
    if (reason)
        return reason;
    zetl_walk_item_object (&item, obj);
    bool is_map = item.type == MSGPACK_OBJECT_MAP;
    if (item.type != MSGPACK_OBJECT_ARRAY && !is_map)
        return NULL;

    if (depth >= ZETL_WALK_MAX_DEPTH)
        return "msgpack nested deeper than 100";
    //  Every element takes at least one byte: refuse a declared length the
    //  frame cannot hold before allocating anything for it
    uint64_t objects = is_map ? item.u64 * 2 : item.u64;
    if (objects > zetl_walk_left (cur))
        return "truncated msgpack: a length is larger than the bytes left";
    if (objects > *budget)
        return "too many msgpack objects in one entry (limit 2097152)";
    *budget -= objects;
    if (objects == 0)
        return NULL;

    //  A map's pairs are laid out as key, value, key, value: one block of
    //  OBJECTS msgpack_objects serves both kinds of container
    uint32_t size = (uint32_t) item.u64;
    msgpack_object *elements =
        (msgpack_object *) msgpack_zone_malloc (zone, objects * sizeof (msgpack_object));
    assert (elements);  //  Out of memory is fatal
    if (is_map) {
        obj->via.map.ptr = (msgpack_object_kv *) elements;
        obj->via.map.size = size;
    }
    else {
        obj->via.array.ptr = elements;
        obj->via.array.size = size;
    }
    for (uint64_t i = 0; i < objects; i++) {
        //  Scalars, the usual element, without a call of their own
        if (zetl_walk_left (cur) && (*cur->ptr <= 0x7f || (*cur->ptr >= 0xa0 && *cur->ptr <= 0xbf))) {
            uint8_t byte = *cur->ptr;
            if (byte <= 0x7f) {
                elements[i].type = MSGPACK_OBJECT_POSITIVE_INTEGER;
                elements[i].via.u64 = byte;
                cur->ptr++;
                continue;
            }
            size_t length = byte & 0x1f;
            if (zetl_walk_left (cur) > length) {
                elements[i].type = MSGPACK_OBJECT_STR;
                elements[i].via.str.size = (uint32_t) length;
                elements[i].via.str.ptr = (const char *) cur->ptr + 1;
                cur->ptr += 1 + length;
                continue;
            }
        }
        if ((reason = zetl_walk_object (cur, zone, &elements[i], depth + 1, budget)))
            return reason;
    }
    return NULL;
}

const char *
zetl_walk_uint (zetl_walk_cursor_t *cur, uint64_t max, uint64_t *value, const char *wrong)
{
    uint64_t raw;
    bool negative;
    if (zetl_walk_int_quick (cur, false, &raw, &negative)) {
        if (raw > max)
            return wrong;
        *value = raw;
        return NULL;
    }
    zetl_walk_item_t item;
    const char *reason = zetl_walk_item (cur, &item);
    if (reason)
        return reason;
    if (item.type != MSGPACK_OBJECT_POSITIVE_INTEGER || item.u64 > max)
        return wrong;
    *value = item.u64;
    return NULL;
}

const char *
zetl_walk_int64 (zetl_walk_cursor_t *cur, int64_t *value, const char *wrong)
{
    uint64_t raw;
    bool negative;
    if (zetl_walk_int_quick (cur, true, &raw, &negative)) {
        if (!negative && raw > INT64_MAX)
            return wrong;
        *value = (int64_t) raw;
        return NULL;
    }
    zetl_walk_item_t item;
    const char *reason = zetl_walk_item (cur, &item);
    if (reason)
        return reason;
    if (item.type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *value = item.i64;
    else if (item.type == MSGPACK_OBJECT_POSITIVE_INTEGER && item.u64 <= INT64_MAX)
        *value = (int64_t) item.u64;
    else
        return wrong;
    return NULL;
}

size_t
zetl_walk_utf8_char (const uint8_t *p, size_t left)
{
    uint8_t c = p[0];
    if (c < 0x80)
        return c != 0;
    size_t length;
    uint32_t point, least;
    if (c >= 0xc2 && c <= 0xdf) {
        length = 2;
        point = c & 0x1f;
        least = 0x80;
    }
    else if ((c & 0xf0) == 0xe0) {
        length = 3;
        point = c & 0x0f;
        least = 0x800;
    }
    else if (c >= 0xf0 && c <= 0xf4) {
        length = 4;
        point = c & 0x07;
        least = 0x10000;
    }
    else
        return 0;
    if (left < length)
        return 0;
    for (size_t i = 1; i < length; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        point = (point << 6) | (p[i] & 0x3f);
    }
    if (point < least || point > 0x10ffff || (point >= 0xd800 && point <= 0xdfff))
        return 0;
    return length;
}

static bool
s_utf8_valid (const uint8_t *p, size_t size)
{
    size_t offset = 0;
    while (offset < size) {
        size_t length = zetl_walk_utf8_char (p + offset, size - offset);
        if (length == 0)
            return false;
        offset += length;
    }
    return true;
}

const char *
zetl_walk_text (zetl_walk_cursor_t *cur, bool nil_ok, const uint8_t **data, size_t *size,
                const char *wrong, const char *too_long, const char *not_utf8)
{
    zetl_walk_item_t item;
    const char *reason = zetl_walk_item (cur, &item);
    if (reason)
        return reason;
    *data = NULL;
    *size = 0;
    if (item.type == MSGPACK_OBJECT_NIL && nil_ok)
        return NULL;
    if (item.type != MSGPACK_OBJECT_STR)
        return wrong;
    if (item.size > ZETL_PROTO_MAX_STRING)
        return too_long;
    if (!s_utf8_valid (item.data, item.size))
        return not_utf8;
    *data = item.data;
    *size = item.size;
    return NULL;
}
