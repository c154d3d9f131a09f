/*  zetl_jsonl_string - the text of a JSON string: checked, and unescaped

    The careful path of zetl_jsonl's strings, for those with escapes; see
    zetl_jsonl_string.h.
*/
#include "zetl_jsonl_string.h"
#include "zetl_json_text.h"

static int
s_hex4 (const char *p, unsigned *value)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned) (c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned) (c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned) (c - 'A' + 10);
        else
            return -1;
    }
    *value = v;
    return 0;
}

//  Unescape the string from SRC (at its first backslash) to END
//  onto DST; returns the end of what was written, or NULL
char *
zetl_jsonl_string_unescape (const char *src, const char *end, char *dst, const char **reason)
{
    while (src < end) {
        unsigned char c = (unsigned char) *src;
        if (c == '\\') {
            if (src + 1 >= end)
                goto bad_escape;
            char e = src[1];
            src += 2;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                *dst++ = e;
                break;
            case 'b':
                *dst++ = '\b';
                break;
            case 'f':
                *dst++ = '\f';
                break;
            case 'n':
                *dst++ = '\n';
                break;
            case 'r':
                *dst++ = '\r';
                break;
            case 't':
                *dst++ = '\t';
                break;
            case 'u': {
                unsigned cp;
                if (end - src < 4 || s_hex4 (src, &cp) != 0)
                    goto bad_escape;
                src += 4;
                if (cp >= 0xdc00 && cp <= 0xdfff)
                    goto lone_surrogate;
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    unsigned low;
                    if (end - src < 6 || src[0] != '\\' || src[1] != 'u' ||
                        s_hex4 (src + 2, &low) != 0 || low < 0xdc00 || low > 0xdfff)
                        goto lone_surrogate;
                    src += 6;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                }
                //  At most 4 bytes for 12 of input: the scratch never overflows
                if (cp < 0x80)
                    *dst++ = (char) cp;
                else if (cp < 0x800) {
                    *dst++ = (char) (0xc0 | cp >> 6);
                    *dst++ = (char) (0x80 | (cp & 0x3f));
                }
                else if (cp < 0x10000) {
                    *dst++ = (char) (0xe0 | cp >> 12);
                    *dst++ = (char) (0x80 | ((cp >> 6) & 0x3f));
                    *dst++ = (char) (0x80 | (cp & 0x3f));
                }
                else {
                    *dst++ = (char) (0xf0 | cp >> 18);
                    *dst++ = (char) (0x80 | ((cp >> 12) & 0x3f));
                    *dst++ = (char) (0x80 | ((cp >> 6) & 0x3f));
                    *dst++ = (char) (0x80 | (cp & 0x3f));
                }
                break;
            }
            default:
                goto bad_escape;
            }
        }
        else if (c < 0x20) {
            *reason = "control character in string";
            return NULL;
        }
        else if (c < 0x80)
            *dst++ = *src++;
        else {
            size_t n = zetl_json_text_utf8_length ((const unsigned char *) src,
                                                   (const unsigned char *) end);
            if (n == 0) {
                *reason = "invalid UTF-8 in string";
                return NULL;
            }
            memcpy (dst, src, n);
            dst += n;
            src += n;
        }
    }
    return dst;
bad_escape:
    *reason = "invalid escape in string";
    return NULL;
lone_surrogate:
    *reason = "lone surrogate in \\u escape";
    return NULL;
}
