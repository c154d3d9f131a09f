/*  zetl_jsonl_pack - msgpack written straight into a buffer with room for it (internal to zetl_jsonl)

    Not a public API: only zetl_jsonl*.c include this header. zetl_jsonl_convert
    reserves room for the whole record in its msgpack_sbuffer once, so each
    piece is a copy and no growth check: zetl_jsonl_pack_append is the packer
    callback that does that, zetl_jsonl_pack_str packs a string header and body
    in one step. Both are inline: they run once per token of every line.
*/
#ifndef ZETL_JSONL_PACK_H_INCLUDED
#define ZETL_JSONL_PACK_H_INCLUDED

#include <assert.h>
#include <msgpack.h>
#include <stddef.h>
#include <string.h>

//  Packer callback: OUT has room for the whole record (see zetl_jsonl_convert), so this
//  is a copy and a bounds check
static inline __attribute__ ((always_inline)) int
zetl_jsonl_pack_append (void *data, const char *buf, size_t len)
{
    msgpack_sbuffer *out = (msgpack_sbuffer *) data;
    if (out->alloc - out->size < len)
        return msgpack_sbuffer_write (out, buf, len);
    char *dst = out->data + out->size;
    //  Headers and most values are short: copy them without calling memcpy
    if (len >= 8 && len <= 16) {
        memcpy (dst, buf, 8);
        memcpy (dst + len - 8, buf + len - 8, 8);
    }
    else if (len >= 4 && len < 8) {
        memcpy (dst, buf, 4);
        memcpy (dst + len - 4, buf + len - 4, 4);
    }
    else if (len < 4) {
        for (size_t i = 0; i < len; i++)
            dst[i] = buf[i];
    }
    else
        memcpy (dst, buf, len);
    out->size += len;
    return 0;
}

//  Pack a string of LEN bytes at TEXT straight into OUT, header and body in
//  one step, the bytes msgpack_pack_str would write. Most of a record is
//  strings (every key, most values), and OUT has room for the whole record
//  (see zetl_jsonl_convert), so no callback and no growth check per piece.
static inline void
zetl_jsonl_pack_str (msgpack_sbuffer *out, const char *text, size_t len)
{
    assert (out->alloc - out->size >= len + 5);
    unsigned char *dst = (unsigned char *) out->data + out->size;
    size_t head;
    if (len < 32) {
        dst[0] = (unsigned char) (0xa0 | len);
        head = 1;
    }
    else if (len < 256) {
        dst[0] = 0xd9;
        dst[1] = (unsigned char) len;
        head = 2;
    }
    else if (len < 65536) {
        dst[0] = 0xda;
        dst[1] = (unsigned char) (len >> 8);
        dst[2] = (unsigned char) len;
        head = 3;
    }
    else {
        dst[0] = 0xdb;
        dst[1] = (unsigned char) (len >> 24);
        dst[2] = (unsigned char) (len >> 16);
        dst[3] = (unsigned char) (len >> 8);
        dst[4] = (unsigned char) len;
        head = 5;
    }
    dst += head;
    //  Keys and most values are short: copy them without calling memcpy
    if (len >= 8 && len <= 16) {
        memcpy (dst, text, 8);
        memcpy (dst + len - 8, text + len - 8, 8);
    }
    else if (len >= 4 && len < 8) {
        memcpy (dst, text, 4);
        memcpy (dst + len - 4, text + len - 4, 4);
    }
    else if (len < 4) {
        for (size_t i = 0; i < len; i++)
            dst[i] = (unsigned char) text[i];
    }
    else
        memcpy (dst, text, len);
    out->size += head + len;
}

#endif
