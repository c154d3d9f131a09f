/*  zetl_copy - PostgreSQL COPY text for result rows  */
#include "zetl_copy.h"
#include "zetl_record.h"
#include "zetl_time.h"

#include <inttypes.h>

void
zetl_copy_escape (msgpack_sbuffer *out, const char *text, size_t len)
{
    size_t start = 0;
    for (size_t at = 0; at < len; at++) {
        char c = text[at];
        const char *escape = c == '\\'   ? "\\\\"
                             : c == '\t' ? "\\t"
                             : c == '\n' ? "\\n"
                             : c == '\r' ? "\\r"
                                         : NULL;
        if (escape) {
            msgpack_sbuffer_write (out, text + start, at - start);
            msgpack_sbuffer_write (out, escape, 2);
            start = at + 1;
        }
    }
    msgpack_sbuffer_write (out, text + start, len - start);
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

static int
s_value (const zetl_field_t *field, const msgpack_object *value, msgpack_sbuffer *out)
{
    char text[64];
    int len = 0;
    if (value->type == MSGPACK_OBJECT_NIL) {
        msgpack_sbuffer_write (out, "\\N", 2);
        return 0;
    }
    switch (field->type) {
    case ZETL_TYPE_STRING:
        if (value->type != MSGPACK_OBJECT_STR)
            return -1;
        zetl_copy_escape (out, value->via.str.ptr, value->via.str.size);
        return 0;
    case ZETL_TYPE_NUMBER:
        if (value->type != MSGPACK_OBJECT_EXT || value->via.ext.type != ZETL_EXT_DECIMAL)
            return -1;
        msgpack_sbuffer_write (out, value->via.ext.ptr, value->via.ext.size);
        return 0;
    case ZETL_TYPE_BOOL:
        if (value->type != MSGPACK_OBJECT_BOOLEAN)
            return -1;
        msgpack_sbuffer_write (out, value->via.boolean ? "t" : "f", 1);
        return 0;
    case ZETL_TYPE_INT:
    case ZETL_TYPE_TIMESTAMP:
    case ZETL_TYPE_DATE: {
        int64_t number;
        if (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER && value->via.u64 <= INT64_MAX)
            number = (int64_t) value->via.u64;
        else if (value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            number = value->via.i64;
        else
            return -1;
        if (field->type == ZETL_TYPE_INT)
            len = s_format_int (number, text);
        else if (field->type == ZETL_TYPE_TIMESTAMP)
            len = (int) zetl_time_format_pg (number, text, sizeof text);
        else {
            if (number < INT32_MIN || number > INT32_MAX)
                return -1;
            len = (int) zetl_time_format_date ((int32_t) number, text, sizeof text);
        }
        msgpack_sbuffer_write (out, text, (size_t) len);
        return 0;
    }
    }
    return -1;
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
    size_t mark = out->size;
    for (size_t column = 0; column < pipeline->field_count; column++) {
        if (s_value (&pipeline->fields[column], &row->via.array.ptr[column], out) != 0) {
            out->size = mark;
            *reason = "result value does not match its column's type";
            return -1;
        }
        msgpack_sbuffer_write (out, "\t", 1);
    }
    //  zetl_lut_gen (no enrichment yet: generation 0), then zetl_hash as bytea hex
    static const char hex[] = "0123456789abcdef";
    char tail[2 + 4 + 32 + 1];
    size_t len = 0;
    tail[len++] = '0';
    tail[len++] = '\t';
    memcpy (tail + len, "\\\\x", 3);
    len += 3;
    for (int byte = 0; byte < 16; byte++) {
        tail[len++] = hex[entry->hash[byte] >> 4];
        tail[len++] = hex[entry->hash[byte] & 15];
    }
    tail[len++] = '\n';
    msgpack_sbuffer_write (out, tail, len);
    return 0;
}
