/*  zetl_copy - PostgreSQL COPY text for result rows  */
#include "zetl_copy.h"
#include "zetl_proto_walk.h"
#include "zetl_record.h"
#include "zetl_time.h"

#include <inttypes.h>

//  What follows the backslash for each byte COPY text must escape, else 0
static const char s_escape[256] = {['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r'};

//  The two hex digits of each byte value, in one table
#define S_HEX_DIGIT(n) ((n) < 10 ? '0' + (n) : 'a' + (n) - 10)
#define S_HEX_PAIR(b) S_HEX_DIGIT ((b) >> 4), S_HEX_DIGIT ((b) & 15)
#define S_HEX_4(b) S_HEX_PAIR (b), S_HEX_PAIR ((b) + 1), S_HEX_PAIR ((b) + 2), S_HEX_PAIR ((b) + 3)
#define S_HEX_16(b) S_HEX_4 (b), S_HEX_4 ((b) + 4), S_HEX_4 ((b) + 8), S_HEX_4 ((b) + 12)
#define S_HEX_64(b) S_HEX_16 (b), S_HEX_16 ((b) + 16), S_HEX_16 ((b) + 32), S_HEX_16 ((b) + 48)
static const char s_hex_pairs[512] = {S_HEX_64 (0), S_HEX_64 (64), S_HEX_64 (128), S_HEX_64 (192)};

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

//  Does WORD hold a byte COPY text must escape? A byte below 0x0e (\t, \n
//  and \r are 0x09, 0x0a and 0x0d) or a backslash: it may say yes for a word
//  that needs nothing (a byte below 0x0e that is no escape, or a false
//  carry), then the word's bytes are looked up one by one; it never says no
//  for one that does
static inline uint64_t
s_word_may_escape (uint64_t word)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t backslash = word ^ (ones * '\\');
    return ((word - ones * 0x0e) & ~word & highs) | ((backslash - ones) & ~backslash & highs);
}

//  Write TEXT (LEN bytes) escaped at P, which has room for 2 * LEN bytes.
//  Returns the end of what was written. Eight bytes at a time while none
//  needs escaping, which is nearly always
static char *
s_put_escaped (char *p, const char *text, size_t len)
{
    char *const start = p;
    size_t at = 0;
    while (len - at >= 8) {
        uint64_t word;
        memcpy (&word, text + at, 8);
        if (!s_word_may_escape (word)) {
            memcpy (p, &word, 8);
            p += 8;
            at += 8;
            continue;
        }
        for (size_t end = at + 8; at < end; at++) {
            char escape = s_escape[(uint8_t) text[at]];
            if (escape) {
                *p++ = '\\';
                *p++ = escape;
            }
            else
                *p++ = text[at];
        }
    }
    if (at < len && len >= 8 && (size_t) (p - start) == at) {
        //  Nothing escaped so far, so output and input line up: the last
        //  eight bytes, overlapping what is written, settle the tail at once
        uint64_t word;
        memcpy (&word, text + len - 8, 8);
        if (!s_word_may_escape (word)) {
            memcpy (start + len - 8, &word, 8);
            return start + len;
        }
    }
    for (; at < len; at++) {
        char escape = s_escape[(uint8_t) text[at]];
        if (escape) {
            *p++ = '\\';
            *p++ = escape;
        }
        else
            *p++ = text[at];
    }
    return p;
}

//  The first N bytes of a word flagged, for s_put_escaped_in
static const uint8_t s_first_bytes[8][8] = {
    {0},
    {0x80},
    {0x80, 0x80},
    {0x80, 0x80, 0x80},
    {0x80, 0x80, 0x80, 0x80},
    {0x80, 0x80, 0x80, 0x80, 0x80},
    {0x80, 0x80, 0x80, 0x80, 0x80, 0x80},
    {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80}};

//  s_put_escaped for TEXT inside a frame that has READABLE bytes from TEXT
//  on, at a P that has room for 8 bytes more than 2 * LEN: a short text,
//  most of a row's, is then read and written as one word when it needs no
//  escape. s_word_may_escape never misses a byte that needs one, whatever
//  the bytes around it, so the flags of the text's own bytes are enough
static char *
s_put_escaped_in (char *p, const char *text, size_t len, size_t readable)
{
    if (len < 8 && readable >= 8) {
        uint64_t word, first;
        memcpy (&word, text, 8);
        memcpy (&first, s_first_bytes[len], 8);
        if (!(s_word_may_escape (word) & first)) {
            memcpy (p, &word, 8);  //  What follows in the line writes over the bytes past LEN
            return p + len;
        }
    }
    return s_put_escaped (p, text, len);
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

//  Write NUMBER for a column of TYPE (int, timestamp or date) at P, which has
//  room for 64 bytes. Returns the end of what was written, or NULL when a
//  date is out of range
static char *
s_put_number (zetl_type_t type, int64_t number, char *p)
{
    if (type == ZETL_TYPE_INT)
        return p + s_format_int (number, p);
    if (type == ZETL_TYPE_TIMESTAMP)
        return p + zetl_time_format_pg (number, p, 64);
    if (number < INT32_MIN || number > INT32_MAX)
        return NULL;
    return p + zetl_time_format_date ((int32_t) number, p, 64);
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
        return s_put_number (field->type, number, p);
    }
    }
    return NULL;
}

#define S_END_ROOM (20 + 4 + 32 + 2 + 1)  //  zetl_lut_gen, tab, \\x, hash, zetl_deleted, newline

//  Write what ends every line at P (room for S_END_ROOM bytes):
//  zetl_lut_gen, zetl_hash as bytea hex, zetl_deleted and the newline. Returns the end of
//  what was written
static char *
s_put_end (const zetl_entry_t *entry, uint64_t lut_gen, char *p)
{
    if (lut_gen == 0)
        *p++ = '0';
    else {
        char digits[20];
        int count = 0;
        for (; lut_gen; lut_gen /= 10)
            digits[count++] = (char) ('0' + lut_gen % 10);
        while (count)
            *p++ = digits[--count];
    }
    memcpy (p, "\t\\\\x", 4);
    p += 4;
    for (int byte = 0; byte < 16; byte++) {
        memcpy (p, s_hex_pairs + 2 * entry->hash[byte], 2);
        p += 2;
    }
    *p++ = '\t';
    *p++ = entry->flags & ZETL_ENTRY_DELETED ? 't' : 'f';
    *p++ = '\n';
    return p;
}

int
zetl_copy_row (const zetl_pipeline_t *pipeline, const zetl_entry_t *entry, uint64_t lut_gen,
               msgpack_sbuffer *out, const char **reason)
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
    size_t room = S_END_ROOM;
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
    out->size += (size_t) (s_put_end (entry, lut_gen, p) - start);
    return 0;
}

//  Write the COPY text of the value at CUR for FIELD at P, reading it in
//  place: the usual kinds here, the rest as s_value reads them. Returns the
//  end of what was written, or NULL when the value does not match the
//  column's type. P has room for 64 bytes or 8 more than twice the value's
//  packed size, whichever is more
static char *
s_value_packed (const zetl_field_t *field, zetl_walk_cursor_t *cur, char *p)
{
    size_t left = zetl_walk_left (cur);
    if (left) {
        const uint8_t *at = cur->ptr;
        if (*at == 0xc0) {
            cur->ptr++;
            memcpy (p, "\\N", 2);
            return p + 2;
        }
        switch (field->type) {
        case ZETL_TYPE_STRING: {
            size_t head = 0, size = 0;  //  fixstr or str 8
            if (*at >= 0xa0 && *at <= 0xbf) {
                head = 1;
                size = *at & 0x1f;
            }
            else if (*at == 0xd9 && left >= 2) {
                head = 2;
                size = at[1];
            }
            if (head && left - head >= size) {
                cur->ptr += head + size;
                return s_put_escaped_in (p, (const char *) at + head, size, left - head);
            }
            break;
        }
        case ZETL_TYPE_INT:
        case ZETL_TYPE_TIMESTAMP:
        case ZETL_TYPE_DATE: {
            uint64_t raw;
            bool negative;
            if (zetl_walk_int_quick (cur, true, &raw, &negative)) {
                if (!negative && raw > INT64_MAX)
                    return NULL;
                return s_put_number (field->type, (int64_t) raw, p);
            }
            break;
        }
        case ZETL_TYPE_NUMBER: {
            size_t head = 0, size = 0;  //  fixext 1 to 16 or ext 8, then the ext type
            if (*at >= 0xd4 && *at <= 0xd8) {
                head = 2;
                size = (size_t) 1 << (*at - 0xd4);
            }
            else if (*at == 0xc7 && left >= 2) {
                head = 3;
                size = at[1];
            }
            if (head && left >= head && left - head >= size
                && (int8_t) at[head - 1] == ZETL_EXT_DECIMAL) {
                cur->ptr += head + size;
                memcpy (p, at + head, size);
                return p + size;
            }
            break;
        }
        case ZETL_TYPE_BOOL:
            if (*at == 0xc2 || *at == 0xc3) {
                cur->ptr++;
                *p = *at == 0xc3 ? 't' : 'f';
                return p + 1;
            }
            break;
        }
    }
    //  Anything else as s_value reads it. An array or a map comes as one with
    //  no elements: no column takes either
    zetl_walk_item_t item;
    if (zetl_walk_item (cur, &item))
        return NULL;
    msgpack_object value;
    zetl_walk_item_object (&item, &value);
    return s_value (field, &value, p);
}

int
zetl_copy_row_packed (const zetl_pipeline_t *pipeline, const zetl_entry_t *entry,
                      uint64_t lut_gen, msgpack_sbuffer *out, const char **reason)
{
    zetl_walk_cursor_t cur = {entry->packed, entry->packed + entry->packed_size};
    zetl_walk_item_t row;
    if (!entry->packed || zetl_walk_item (&cur, &row) || row.type != MSGPACK_OBJECT_ARRAY
        || row.u64 != pipeline->field_count) {
        *reason = "result row does not match the schema's column count";
        return -1;
    }
    if (!entry->has_hash) {
        *reason = "result row without a content hash";
        return -1;
    }
    //  Room for the whole line first, from the payload's size, so that the
    //  values are read once: no value's text takes more than twice its packed
    //  bytes, or 64 bytes (NULL, t/f, integers, dates and timestamps). The
    //  bytes of the line's end come after every value: a value may write 8
    //  bytes past its own text
    char *start = s_reserve (out, 2 * entry->packed_size + 65 * pipeline->field_count + S_END_ROOM);
    char *p = start;
    for (size_t column = 0; column < pipeline->field_count; column++) {
        p = s_value_packed (&pipeline->fields[column], &cur, p);
        if (!p) {
            *reason = "result value does not match its column's type";
            return -1;  //  OUT's size never moved
        }
        *p++ = '\t';
    }
    out->size += (size_t) (s_put_end (entry, lut_gen, p) - start);
    return 0;
}

int
zetl_copy_column_int (const zetl_entry_t *entry, size_t column, int64_t *value)
{
    if (!entry->packed)
        return -1;
    zetl_walk_cursor_t cur = {entry->packed, entry->packed + entry->packed_size};
    zetl_walk_item_t item;
    if (zetl_walk_item (&cur, &item) || item.type != MSGPACK_OBJECT_ARRAY || item.u64 <= column)
        return -1;
    size_t budget = ZETL_WALK_MAX_OBJECTS;
    for (size_t skipped = 0; skipped < column; skipped++)
        if (zetl_walk_skip (&cur, 1, &budget))
            return -1;
    if (zetl_walk_item (&cur, &item))
        return -1;
    if (item.type == MSGPACK_OBJECT_NIL)
        return 0;
    if (item.type == MSGPACK_OBJECT_POSITIVE_INTEGER && item.u64 <= INT64_MAX)
        *value = (int64_t) item.u64;
    else if (item.type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *value = item.i64;
    else
        return -1;
    return 1;
}
