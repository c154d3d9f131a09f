/*  zetl_copy - PostgreSQL COPY text for result rows  */
#include "zetl_copy.h"
#include "zetl_record.h"
#include "zetl_time.h"

#include <inttypes.h>

//  What follows the backslash for each byte COPY text must escape, else 0
static const char s_escape[256] = {['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r'};

//  Make room for BYTES more bytes in OUT; return where they go. One check per
//  row instead of one per value: a row is many small writes
static char *
s_reserve (msgpack_sbuffer *out, size_t bytes)
{
    if (out->alloc - out->size < bytes) {
        size_t alloc = out->alloc ? out->alloc : 8192;
        while (alloc - out->size < bytes)
            alloc *= 2;
        char *data = (char *) realloc (out->data, alloc);
        assert (data);  //  Out of memory is fatal
        out->data = data;
        out->alloc = alloc;
    }
    return out->data + out->size;
}

//  Write TEXT (LEN bytes) escaped at P, which has room for 2 * LEN bytes.
//  Returns the end of what was written
static char *
s_put_escaped (char *p, const char *text, size_t len)
{
    size_t start = 0;
    for (size_t at = 0; at < len; at++) {
        char escape = s_escape[(uint8_t) text[at]];
        if (escape) {
            memcpy (p, text + start, at - start);
            p += at - start;
            *p++ = '\\';
            *p++ = escape;
            start = at + 1;
        }
    }
    memcpy (p, text + start, len - start);
    return p + (len - start);
}

void
zetl_copy_escape (msgpack_sbuffer *out, const char *text, size_t len)
{
    char *p = s_reserve (out, 2 * len + 1);
    out->size = (size_t) (s_put_escaped (p, text, len) - out->data);
}

//  Decimal text of NUMBER into BUF (at least 21 bytes); returns its length.
//  The hot path of every int column: no snprintf
static int
s_format_int (int64_t number, char *buf)
{
    char digits[24];
    int len = 0;
    uint64_t magnitude = number < 0 ? 0 - (uint64_t) number : (uint64_t) number;
    do {
        digits[len++] = (char) ('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    int at = 0;
    if (number < 0)
        buf[at++] = '-';
    while (len)
        buf[at++] = digits[--len];
    return at;
}

//  Bytes the COPY text of VALUE in a column of TYPE takes at most, or 0 when
//  the value does not fit the type (s_value says why)
static size_t
s_value_room (zetl_type_t type, const msgpack_object *value)
{
    switch (value->type) {
    case MSGPACK_OBJECT_STR:
        return type == ZETL_TYPE_STRING ? 2 * (size_t) value->via.str.size + 1 : 0;
    case MSGPACK_OBJECT_EXT:
        return type == ZETL_TYPE_NUMBER ? (size_t) value->via.ext.size + 1 : 0;
    default:
        return 64;  //  \N, t/f, integers, dates and timestamps
    }
}

//  Write the COPY text of VALUE for FIELD at P, which has the room
//  s_value_room said. Returns the end of what was written, or NULL when the
//  value does not match the column's type
static char *
s_value (const zetl_field_t *field, const msgpack_object *value, char *p)
{
    if (value->type == MSGPACK_OBJECT_NIL) {
        memcpy (p, "\\N", 2);
        return p + 2;
    }
    switch (field->type) {
    case ZETL_TYPE_STRING:
        if (value->type != MSGPACK_OBJECT_STR)
            return NULL;
        return s_put_escaped (p, value->via.str.ptr, value->via.str.size);
    case ZETL_TYPE_NUMBER:
        if (value->type != MSGPACK_OBJECT_EXT || value->via.ext.type != ZETL_EXT_DECIMAL)
            return NULL;
        memcpy (p, value->via.ext.ptr, value->via.ext.size);
        return p + value->via.ext.size;
    case ZETL_TYPE_BOOL:
        if (value->type != MSGPACK_OBJECT_BOOLEAN)
            return NULL;
        *p = value->via.boolean ? 't' : 'f';
        return p + 1;
    case ZETL_TYPE_INT:
    case ZETL_TYPE_TIMESTAMP:
    case ZETL_TYPE_DATE: {
        int64_t number;
        if (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER && value->via.u64 <= INT64_MAX)
            number = (int64_t) value->via.u64;
        else if (value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            number = value->via.i64;
        else
            return NULL;
        if (field->type == ZETL_TYPE_INT)
            return p + s_format_int (number, p);
        if (field->type == ZETL_TYPE_TIMESTAMP)
            return p + zetl_time_format_pg (number, p, 64);
        if (number < INT32_MIN || number > INT32_MAX)
            return NULL;
        return p + zetl_time_format_date ((int32_t) number, p, 64);
    }
    }
    return NULL;
}

int
zetl_copy_row (const zetl_pipeline_t *pipeline, const zetl_entry_t *entry, msgpack_sbuffer *out,
               const char **reason)
{
    const msgpack_object *row = &entry->payload;
    if (row->type != MSGPACK_OBJECT_ARRAY || row->via.array.size != pipeline->field_count) {
        *reason = "result row does not match the schema's column count";
        return -1;
    }
    if (!entry->has_hash) {
        *reason = "result row without a content hash";
        return -1;
    }
    //  Room for the whole line first, then write it with no more checks:
    //  a tab after each column, then zetl_lut_gen, zetl_hash and the newline
    size_t room = 2 + 3 + 32 + 1;
    for (size_t column = 0; column < pipeline->field_count; column++) {
        size_t value_room =
            s_value_room (pipeline->fields[column].type, &row->via.array.ptr[column]);
        if (value_room == 0) {
            *reason = "result value does not match its column's type";
            return -1;
        }
        room += value_room + 1;
    }
    char *start = s_reserve (out, room);
    char *p = start;
    for (size_t column = 0; column < pipeline->field_count; column++) {
        p = s_value (&pipeline->fields[column], &row->via.array.ptr[column], p);
        if (!p) {
            *reason = "result value does not match its column's type";
            return -1;  //  OUT's size never moved
        }
        *p++ = '\t';
    }
    //  zetl_lut_gen (no enrichment yet: generation 0), then zetl_hash as bytea hex
    static const char hex[] = "0123456789abcdef";
    memcpy (p, "0\t\\\\x", 5);
    p += 5;
    for (int byte = 0; byte < 16; byte++) {
        *p++ = hex[entry->hash[byte] >> 4];
        *p++ = hex[entry->hash[byte] & 15];
    }
    *p++ = '\n';
    out->size += (size_t) (p - start);
    return 0;
}
