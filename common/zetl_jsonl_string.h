/*  zetl_jsonl_string - the text of a JSON string: checked, and unescaped (internal to zetl_jsonl)

    Not a public API: only zetl_jsonl*.c include this header. The common
    case is a plain ASCII string with no escape and no control character,
    told eight bytes at a time by zetl_jsonl_string_plain, which is inline:
    it runs once per string of every line. Strings with escapes take the
    careful path, zetl_jsonl_string_unescape: escapes as JSON has them,
    \uXXXX and surrogate pairs to UTF-8, UTF-8 checked by zetl_json_text.
*/
#ifndef ZETL_JSONL_STRING_H_INCLUDED
#define ZETL_JSONL_STRING_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

//  Special bytes of the 8 in X: the high bit of each byte that is a control
//  character, a backslash or not ASCII is set (a few more may be set next
//  to one of those, which only sends the string down the careful path)
static inline uint64_t
zetl_jsonl_string_special (uint64_t x)
{
    const uint64_t ones = UINT64_C (0x0101010101010101), highs = UINT64_C (0x8080808080808080);
    return ((x - ones * 0x20) | ((x ^ (ones * '\\')) - ones) | x) & highs;
}

//  True if the string from START to END (inside LINE) is plain ASCII with
//  no escape and no control character: the common case, checked eight
//  bytes at a time
static inline bool
zetl_jsonl_string_plain (const char *line, const unsigned char *start, const unsigned char *end)
{
    size_t n = (size_t) (end - start);
    uint64_t x;
    if (n >= 8) {
        const unsigned char *p = start;
        for (; end - p > 8; p += 8) {
            memcpy (&x, p, 8);
            if (zetl_jsonl_string_special (x))
                return false;
        }
        memcpy (&x, end - 8, 8);  //  The last 8, overlapping what was seen
        return !zetl_jsonl_string_special (x);
    }
    if (n == 0)
        return true;
    if (end - (const unsigned char *) line < 8)
        return false;  //  Too near the start of the line: the careful path
    //  The 8 bytes that end the string: ignore those before it
    memcpy (&x, end - 8, 8);
    return !(zetl_jsonl_string_special (x) & (~UINT64_C (0) << (8 * (8 - n))));
}

//  Unescape the string from SRC (at its first backslash) to END onto DST,
//  which has room for END - SRC bytes (no escape writes more than it reads);
//  returns the end of what was written, or NULL with *REASON set to a static
//  message ("invalid escape in string", ...)
char *zetl_jsonl_string_unescape (const char *src, const char *end, char *dst, const char **reason);

#endif
