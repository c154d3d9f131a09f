/*  zetl_json_text - JSON text: the grammar that reading and writing it share

    Both directions check by the same rules, so what zetl_jsonl accepts as a
    number is exactly what zetl_record_to_json writes as one.
*/
#include "zetl_json_text.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

//  Skip the digits of TEXT from I; returns the index after the last one
static size_t
s_digits (const char *text, size_t len, size_t i)
{
    while (i < len && text[i] >= '0' && text[i] <= '9')
        i++;
    return i;
}

//  The value of the integer literal TEXT[START, END) (digits only, negated
//  when NEGATIVE): 1 when it fits int64 and *VALUE is set, else 0
static int
s_int64 (const char *text, size_t start, size_t end, bool negative, int64_t *value)
{
    if (end - start > 19)
        return 0;
    uint64_t magnitude = 0;
    for (size_t i = start; i < end; i++)
        magnitude = magnitude * 10 + (uint64_t) (text[i] - '0');  //  19 digits never wrap
    if (negative) {
        if (magnitude > (uint64_t) INT64_MAX + 1)
            return 0;
        *value = magnitude == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) magnitude;
    }
    else {
        if (magnitude > (uint64_t) INT64_MAX)
            return 0;
        *value = (int64_t) magnitude;
    }
    return 1;
}

int
zetl_json_text_number (const char *text, size_t len, int64_t *value)
{
    assert (text || len == 0);
    assert (value);
    size_t i = 0;
    bool negative = len > 0 && text[0] == '-';
    if (negative)
        i++;
    if (i == len)
        return -1;
    size_t int_start = i;
    if (text[i] == '0')
        i++;
    else if (text[i] >= '1' && text[i] <= '9')
        i = s_digits (text, len, i);
    else
        return -1;
    size_t int_end = i;
    bool integer = true;
    if (i < len && text[i] == '.') {
        integer = false;
        size_t start = ++i;
        i = s_digits (text, len, i);
        if (i == start)
            return -1;
    }
    if (i < len && (text[i] == 'e' || text[i] == 'E')) {
        integer = false;
        i++;
        if (i < len && (text[i] == '+' || text[i] == '-'))
            i++;
        size_t start = i;
        i = s_digits (text, len, i);
        if (i == start)
            return -1;
    }
    if (i != len)
        return -1;
    return integer ? s_int64 (text, int_start, int_end, negative, value) : 0;
}

size_t
zetl_json_text_utf8_length (const unsigned char *p, const unsigned char *end)
{
    assert (p && p < end);
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;  //  range of the second byte
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;  //  Overlong below U+0800
        else if (c == 0xed)
            hi = 0x9f;  //  Surrogates, U+D800..U+DFFF
    }
    else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;  //  Overlong below U+10000
        else if (c == 0xf4)
            hi = 0x8f;  //  Past U+10FFFF
    }
    else
        return 0;
    if ((size_t) (end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

char *
zetl_json_text_reserve (msgpack_sbuffer *out, size_t room)
{
    assert (out);
    if (out->alloc - out->size < room) {
        size_t alloc = out->alloc ? out->alloc : 256;
        while (alloc - out->size < room)
            alloc *= 2;
        char *data = (char *) realloc (out->data, alloc);
        if (!data) {
            fprintf (stderr, "zetl_json_text: out of memory\n");
            abort ();
        }
        out->data = data;
        out->alloc = alloc;
    }
    return out->data + out->size;
}
