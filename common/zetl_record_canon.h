/*  zetl_record_canon - a packed msgpack value read in canonical terms (internal to zetl_record_hash)

    Not a public API: only zetl_record_hash.c and zetl_record_sort.c include
    this header. The content hash writes each value as a tag and a
    self-delimiting body; this module has the tags, and reads one value's
    header (and the bytes of a str, bin or ext) from packed bytes in place,
    never past their end, as its tag and canonical body: every integer as 8
    bytes, every float as a double with -0.0 as 0.0 and one NaN. The reader
    is inline: it runs once per value hashed. Items are borrowed views of
    the packed bytes, valid while they are.
*/
#ifndef ZETL_RECORD_CANON_H_INCLUDED
#define ZETL_RECORD_CANON_H_INCLUDED

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

//  Canonical form tags: each value is a tag and a self-delimiting body
enum {
    ZETL_RECORD_CANON_NIL = 0x00,
    ZETL_RECORD_CANON_FALSE = 0x01,
    ZETL_RECORD_CANON_TRUE = 0x02,
    ZETL_RECORD_CANON_UINT = 0x03,   //  every integer >= 0, signed or not: 8 bytes big-endian
    ZETL_RECORD_CANON_NINT = 0x04,   //  integers < 0: 8 bytes big-endian two's complement
    ZETL_RECORD_CANON_FLOAT = 0x05,  //  IEEE double, big-endian; -0.0 as 0.0, one NaN
    ZETL_RECORD_CANON_STR = 0x06,    //  u32 length + bytes
    ZETL_RECORD_CANON_BIN = 0x07,    //  u32 length + bytes
    ZETL_RECORD_CANON_EXT = 0x08,    //  type byte + u32 length + bytes
    ZETL_RECORD_CANON_ARRAY = 0x09,  //  u32 count + items
    ZETL_RECORD_CANON_MAP = 0x0a     //  u32 count + (key, value) pairs sorted by key bytes
};

//  Packed bytes being read, never past end
typedef struct {
    const unsigned char *p;
    const unsigned char *end;
} zetl_record_canon_reader_t;

//  One msgpack value's header, in canonical terms
typedef struct {
    unsigned char tag;          //  ZETL_RECORD_CANON_*
    unsigned char ext_type;     //  EXT: its type byte
    uint64_t value;             //  UINT, NINT, FLOAT: the 8 canonical bytes; STR, BIN, EXT:
                                //  length; ARRAY, MAP: count
    const unsigned char *body;  //  STR, BIN, EXT: the bytes
} zetl_record_canon_item_t;

//  The big-endian number in the BYTES (1, 2, 4 or 8) bytes at P
static inline uint64_t
zetl_record_canon_be (const unsigned char *p, int bytes)
{
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    switch (bytes) {
    case 1:
        return p[0];
    case 2:
        memcpy (&v16, p, 2);
        return __builtin_bswap16 (v16);
    case 4:
        memcpy (&v32, p, 4);
        return __builtin_bswap32 (v32);
    default:
        memcpy (&v64, p, 8);
        return __builtin_bswap64 (v64);
    }
}

//  A float's canonical bits: -0.0 as 0.0, every NaN as one
static inline uint64_t
zetl_record_canon_float_bits (double f)
{
    uint64_t bits;
    if (isnan (f))
        return UINT64_C (0x7ff8000000000000);
    if (f == 0)
        f = 0;  //  -0.0 and 0.0 are the same content
    memcpy (&bits, &f, sizeof bits);
    return bits;
}

//  Step over the FIXED bytes after a type byte (a length, an ext type, a
//  number), if they are there
static inline bool
zetl_record_canon_take (zetl_record_canon_reader_t *reader, size_t fixed)
{
    if ((size_t) (reader->end - reader->p) < fixed)
        return false;
    reader->p += fixed;
    return true;
}

//  ITEM is a str, bin or ext (TAG) of LEN bytes, which follow, if they are there
static inline bool
zetl_record_canon_take_body (zetl_record_canon_reader_t *reader, zetl_record_canon_item_t *item,
                             unsigned char tag, uint64_t len)
{
    if ((uint64_t) (reader->end - reader->p) < len)
        return false;
    item->tag = tag;
    item->value = len;
    item->body = reader->p;
    reader->p += len;
    return true;
}

static inline void
zetl_record_canon_int (zetl_record_canon_item_t *item, int64_t v)
{
    item->tag = v < 0 ? ZETL_RECORD_CANON_NINT : ZETL_RECORD_CANON_UINT;
    item->value = (uint64_t) v;
}

//  Read one value's header (and the bytes of a str, bin or ext) at the
//  reader; the items of an array or map follow. False on bad or short bytes.
static inline __attribute__ ((always_inline)) bool
zetl_record_canon_read (zetl_record_canon_reader_t *reader, zetl_record_canon_item_t *item)
{
    if (reader->p == reader->end)
        return false;
    unsigned char byte = *reader->p++;
    const unsigned char *p = reader->p;
    if (byte <= 0x7f) {
        item->tag = ZETL_RECORD_CANON_UINT;
        item->value = byte;
        return true;
    }
    if (byte >= 0xe0) {
        zetl_record_canon_int (item, (int8_t) byte);
        return true;
    }
    if (byte >= 0xa0 && byte <= 0xbf)
        return zetl_record_canon_take_body (reader, item, ZETL_RECORD_CANON_STR, byte & 0x1f);
    if (byte <= 0x8f) {
        item->tag = ZETL_RECORD_CANON_MAP;
        item->value = byte & 0x0f;
        return true;
    }
    if (byte <= 0x9f) {
        item->tag = ZETL_RECORD_CANON_ARRAY;
        item->value = byte & 0x0f;
        return true;
    }
    switch (byte) {
    case 0xc0:
        item->tag = ZETL_RECORD_CANON_NIL;
        return true;
    case 0xc2:
        item->tag = ZETL_RECORD_CANON_FALSE;
        return true;
    case 0xc3:
        item->tag = ZETL_RECORD_CANON_TRUE;
        return true;
    case 0xc4:
    case 0xc5:
    case 0xc6: {
        int bytes = 1 << (byte - 0xc4);
        return zetl_record_canon_take (reader, (size_t) bytes) &&
               zetl_record_canon_take_body (reader, item, ZETL_RECORD_CANON_BIN,
                                            zetl_record_canon_be (p, bytes));
    }
    case 0xc7:
    case 0xc8:
    case 0xc9: {
        int bytes = 1 << (byte - 0xc7);
        if (!zetl_record_canon_take (reader, (size_t) bytes + 1))
            return false;
        item->ext_type = p[bytes];
        return zetl_record_canon_take_body (reader, item, ZETL_RECORD_CANON_EXT,
                                            zetl_record_canon_be (p, bytes));
    }
    case 0xca: {
        if (!zetl_record_canon_take (reader, 4))
            return false;
        uint32_t bits = (uint32_t) zetl_record_canon_be (p, 4);
        float f;
        memcpy (&f, &bits, sizeof f);
        item->tag = ZETL_RECORD_CANON_FLOAT;
        item->value = zetl_record_canon_float_bits (f);
        return true;
    }
    case 0xcb: {
        if (!zetl_record_canon_take (reader, 8))
            return false;
        uint64_t bits = zetl_record_canon_be (p, 8);
        double f;
        memcpy (&f, &bits, sizeof f);
        item->tag = ZETL_RECORD_CANON_FLOAT;
        item->value = zetl_record_canon_float_bits (f);
        return true;
    }
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf: {
        int bytes = 1 << (byte - 0xcc);
        if (!zetl_record_canon_take (reader, (size_t) bytes))
            return false;
        item->tag = ZETL_RECORD_CANON_UINT;
        item->value = zetl_record_canon_be (p, bytes);
        return true;
    }
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
        int bytes = 1 << (byte - 0xd0);
        if (!zetl_record_canon_take (reader, (size_t) bytes))
            return false;
        //  Sign-extend from BYTES bytes
        uint64_t raw = zetl_record_canon_be (p, bytes) << (64 - 8 * bytes);
        zetl_record_canon_int (item, (int64_t) raw >> (64 - 8 * bytes));
        return true;
    }
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
        if (!zetl_record_canon_take (reader, 1))
            return false;
        item->ext_type = p[0];
        return zetl_record_canon_take_body (reader, item, ZETL_RECORD_CANON_EXT,
                                            (uint64_t) 1 << (byte - 0xd4));
    case 0xd9:
    case 0xda:
    case 0xdb: {
        int bytes = 1 << (byte - 0xd9);
        return zetl_record_canon_take (reader, (size_t) bytes) &&
               zetl_record_canon_take_body (reader, item, ZETL_RECORD_CANON_STR,
                                            zetl_record_canon_be (p, bytes));
    }
    case 0xdc:
    case 0xdd:
    case 0xde:
    case 0xdf: {
        int bytes = byte & 1 ? 4 : 2;
        if (!zetl_record_canon_take (reader, (size_t) bytes))
            return false;
        item->tag = byte <= 0xdd ? ZETL_RECORD_CANON_ARRAY : ZETL_RECORD_CANON_MAP;
        item->value = zetl_record_canon_be (p, bytes);
        return true;
    }
    default:
        return false;  //  0xc1, never used
    }
}

#endif
