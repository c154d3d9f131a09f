/*  zetl_text - Unicode white space and letter case on UTF-8 text  */
#include "zetl_text.h"

#include <assert.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <wctype.h>

//  Decode the character at TEXT (LEFT bytes). Returns its length (0 if the
//  bytes are not UTF-8) and the code point in *CODE
static size_t
s_decode (const unsigned char *text, size_t left, uint32_t *code)
{
    unsigned char lead = text[0];
    size_t len = lead < 0x80 ? 1 : (lead >> 5) == 6 ? 2 : (lead >> 4) == 14 ? 3
               : (lead >> 3) == 30 ? 4 : 0;
    if (len == 0 || len > left)
        return 0;
    uint32_t value = len == 1 ? lead : lead & (0x7F >> len);
    for (size_t at = 1; at < len; at++) {
        if ((text[at] & 0xC0) != 0x80)
            return 0;
        value = (value << 6) | (text[at] & 0x3F);
    }
    static const uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (value < smallest[len] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
        return 0;  //  Overlong, beyond Unicode, or a surrogate
    *code = value;
    return len;
}

static size_t
s_encode (uint32_t code, char *out)
{
    if (code < 0x80) {
        out[0] = (char) code;
        return 1;
    }
    if (code < 0x800) {
        out[0] = (char) (0xC0 | (code >> 6));
        out[1] = (char) (0x80 | (code & 0x3F));
        return 2;
    }
    if (code < 0x10000) {
        out[0] = (char) (0xE0 | (code >> 12));
        out[1] = (char) (0x80 | ((code >> 6) & 0x3F));
        out[2] = (char) (0x80 | (code & 0x3F));
        return 3;
    }
    out[0] = (char) (0xF0 | (code >> 18));
    out[1] = (char) (0x80 | ((code >> 12) & 0x3F));
    out[2] = (char) (0x80 | ((code >> 6) & 0x3F));
    out[3] = (char) (0x80 | (code & 0x3F));
    return 4;
}

static bool
s_is_space (uint32_t code)
{
    return (code >= 0x09 && code <= 0x0D) || code == 0x20 || code == 0x85 || code == 0xA0
           || code == 0x1680 || (code >= 0x2000 && code <= 0x200A) || code == 0x2028
           || code == 0x2029 || code == 0x202F || code == 0x205F || code == 0x3000
           || code == 0xFEFF;
}

void
zetl_text_trim (const char **start, size_t *len)
{
    const unsigned char *text = (const unsigned char *) *start;
    size_t from = 0, to = *len;
    uint32_t code;
    size_t step;
    while (from < to && (step = s_decode (text + from, to - from, &code)) && s_is_space (code))
        from += step;
    //  From the end: step back to the start of each character
    while (to > from) {
        size_t back = 1;
        while (back < 4 && to - back > from && (text[to - back] & 0xC0) == 0x80)
            back++;
        if (s_decode (text + to - back, back, &code) != back || !s_is_space (code))
            break;
        to -= back;
    }
    *start += from;
    *len = to - from;
}

static locale_t s_locale;
static pthread_once_t s_locale_once = PTHREAD_ONCE_INIT;

static void
s_locale_init (void)
{
    s_locale = newlocale (LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
    assert (s_locale);  //  glibc always has C.UTF-8
}

size_t
zetl_text_case (const char *text, size_t len, bool upper, char *out)
{
    pthread_once (&s_locale_once, s_locale_init);
    size_t written = 0;
    for (size_t at = 0; at < len;) {
        unsigned char byte = (unsigned char) text[at];
        if (byte < 0x80) {
            //  ASCII without the locale
            out[written++] = (char) (upper ? (byte >= 'a' && byte <= 'z' ? byte - 32 : byte)
                                           : (byte >= 'A' && byte <= 'Z' ? byte + 32 : byte));
            at++;
            continue;
        }
        uint32_t code;
        size_t step = s_decode ((const unsigned char *) text + at, len - at, &code);
        if (step == 0) {
            out[written++] = text[at++];
            continue;
        }
        wint_t mapped = upper ? towupper_l ((wint_t) code, s_locale)
                              : towlower_l ((wint_t) code, s_locale);
        written += s_encode ((uint32_t) mapped, out + written);
        at += step;
    }
    return written;
}
