/*  zetl_text - Unicode white space and letter case on UTF-8 text

    What the transform steps trim, lower, upper and utm do to a value.
    White space is every Unicode White_Space character (ASCII spaces and
    controls \t\n\v\f\r, U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028,
    U+2029, U+202F, U+205F, U+3000) plus the byte order mark U+FEFF. Case
    mapping is glibc's for the C.UTF-8 locale (one code point to one code
    point, all of Unicode). Bytes that are not UTF-8 are kept as they are.
*/
#ifndef ZETL_TEXT_H_INCLUDED
#define ZETL_TEXT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  Set *START and *LEN to TEXT (LEN bytes) without white space at either end.
void zetl_text_trim (const char **start, size_t *len);

//  Write TEXT (LEN bytes) in lower case (UPPER false) or upper case to OUT,
//  which has room for 2 * LEN bytes (no mapping grows a character more).
//  Returns the bytes written. The first call sets up the locale it needs.
size_t zetl_text_case (const char *text, size_t len, bool upper, char *out);

#endif
