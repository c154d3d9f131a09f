/*  zetl_json_text - JSON text: the grammar that reading and writing it share

    Pure functions on bytes, no state. zetl_jsonl checks number literals and
    the UTF-8 of strings with them while it reads a JSON line, and
    zetl_record_to_json checks that a decimal is a JSON number before it
    writes it bare. Both write straight into a msgpack_sbuffer, making room
    first with zetl_json_text_reserve. Nothing here allocates except that.
*/
#ifndef ZETL_JSON_TEXT_H_INCLUDED
#define ZETL_JSON_TEXT_H_INCLUDED

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

//  Classify TEXT (LEN bytes) by JSON's number grammar,
//  -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?: returns 1 for an integer
//  that fits int64 (and sets *VALUE; "-0" is 0), 0 for any other JSON number
//  (a fraction, an exponent or a larger integer; *VALUE is left alone), or
//  -1 when TEXT is not a JSON number ("01", "1.", "+1", "NaN", "").
int zetl_json_text_number (const char *text, size_t len, int64_t *value);

//  Return the length (2 to 4) of the UTF-8 sequence that starts with the
//  non-ASCII byte at P, before END, or 0 if it is not valid UTF-8: a stray
//  continuation byte, a sequence cut short, an overlong form, an encoded
//  surrogate or a code point past U+10FFFF.
size_t zetl_json_text_utf8_length (const unsigned char *p, const unsigned char *end);

//  Make room for ROOM more bytes at the end of OUT, growing its buffer by
//  doubling, and return where they go (OUT->data + OUT->size). OUT->size
//  is unchanged: the caller adds what it writes. Out of memory aborts.
char *zetl_json_text_reserve (msgpack_sbuffer *out, size_t room);

#endif
