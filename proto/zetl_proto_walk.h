/*  zetl_proto_walk - a bounded msgpack walker: reads what a peer sent, trusting no length

    zetl_proto.c (headers), zetl_proto_body.c (BATCH and RESULT bodies) and
    zetl_proto_sinks.c (SINKS bodies) parse with it. Outside proto/, code that
    reads a payload the body reader has checked and handed out as bytes
    (zetl_body_reader_next_packed) reads its values with zetl_walk_item and
    zetl_walk_skip, rather than having a msgpack_object tree built for it.

    Everything a peer sends is parsed by hand on a cursor rather than with
    msgpack_unpack: every length a peer declares is checked against the bytes
    that remain before anything is allocated for it, nesting is capped, and so
    is the number of objects in one payload. msgpack-c's own unpacker allocates
    a declared array length up front (five hostile bytes ask for 96 GiB) and
    cannot nest deeper than 32. Objects built by zetl_walk_object live in the
    caller's msgpack_zone; strings, bin and ext data point into the frame and
    are never copied. A cursor and its items are borrowed views of the frame:
    valid while the frame is.

    Every function that reads returns NULL, or a static string saying what was
    wrong (the reason a decode reports). On error the cursor is left somewhere
    inside the bad item: start again from a saved copy if needed.
*/
#ifndef ZETL_PROTO_WALK_H_INCLUDED
#define ZETL_PROTO_WALK_H_INCLUDED

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Nested arrays/maps in one payload (JSONL allows 64, + the dead letter)
#define ZETL_WALK_MAX_DEPTH 100
//  Msgpack objects in one payload (array elements + map keys and values)
#define ZETL_WALK_MAX_OBJECTS (1 << 21)

//  A read position in a frame: nothing is read at or past END
typedef struct {
    const uint8_t *ptr;  //  next byte
    const uint8_t *end;  //  one past the last byte
} zetl_walk_cursor_t;

//  The head of one msgpack item, as read by zetl_walk_item
typedef struct {
    msgpack_object_type type;  //  MSGPACK_OBJECT_*
    uint64_t u64;              //  POSITIVE_INTEGER value, BOOLEAN, or ARRAY/MAP element count
    int64_t i64;               //  NEGATIVE_INTEGER value
    double f64;                //  FLOAT32/FLOAT64 value
    int8_t ext_type;           //  EXT type
    const uint8_t *data;       //  STR/BIN/EXT bytes, inside the frame
    uint32_t size;             //  STR/BIN/EXT byte count
} zetl_walk_item_t;

//  Bytes left at the cursor.
static inline size_t
zetl_walk_left (const zetl_walk_cursor_t *cur)
{
    return (size_t) (cur->end - cur->ptr);
}

//  Read the integer at CUR if it is in one of its usual encodings: positive
//  fixint, uint 8 to 64 or, when IS_SIGNED, negative fixint and int 8 to 64
//  too. Returns true with *RAW (the value's 64 bits) and *NEGATIVE (true
//  when zetl_walk_item would type it a negative integer) and the cursor past
//  it; false, the cursor unmoved, for anything else (another type, another
//  encoding, cut short), which zetl_walk_item then reads. Integers are most
//  of what entries and headers hold: this is the quick way through them.
static inline bool
zetl_walk_int_quick (zetl_walk_cursor_t *cur, bool is_signed, uint64_t *raw, bool *negative)
{
    if (cur->ptr == cur->end)
        return false;
    uint8_t byte = *cur->ptr;
    *negative = false;
    if (byte <= 0x7f) {
        *raw = byte;
        cur->ptr++;
        return true;
    }
    if (is_signed && byte >= 0xe0) {
        *raw = (uint64_t) (int64_t) (int8_t) byte;
        *negative = true;
        cur->ptr++;
        return true;
    }
    if (byte < 0xcc || byte > (is_signed ? 0xd3 : 0xcf))
        return false;
    size_t width = (size_t) 1 << ((byte - 0xcc) & 3);
    if (zetl_walk_left (cur) <= width)
        return false;
    uint64_t value = 0;
    for (size_t i = 1; i <= width; i++)
        value = (value << 8) | cur->ptr[i];
    if (byte >= 0xd0) {
        //  Sign-extended; a signed encoding of a value >= 0 is a positive
        //  integer (msgpack-c's rule, and zetl_walk_item's)
        int64_t signed_value = width == 1   ? (int8_t) value
                               : width == 2 ? (int16_t) value
                               : width == 4 ? (int32_t) value
                                            : (int64_t) value;
        *negative = signed_value < 0;
        value = (uint64_t) signed_value;
    }
    *raw = value;
    cur->ptr += 1 + width;
    return true;
}

//  Read the head of one item: a scalar whole, str/bin/ext with their bytes
//  (checked to be there), an array or map up to its element count (not
//  checked: the caller bounds it). Returns NULL, or a reason.
const char *zetl_walk_item (zetl_walk_cursor_t *cur, zetl_walk_item_t *item);

//  Skip one whole object at CUR, nested DEPTH containers deep, checking it
//  as zetl_walk_object does without a zone (same limits, same reasons) but in
//  one loop that builds nothing: the cheap way to find where an object ends.
//  Returns NULL, or a reason.
const char *zetl_walk_skip (zetl_walk_cursor_t *cur, int depth, size_t *budget);

//  Skip the elements of the array or map ITEM, just read by zetl_walk_item at
//  CUR from an object nested DEPTH containers deep, as zetl_walk_skip would.
//  Returns NULL, or a reason.
const char *zetl_walk_skip_elements (zetl_walk_cursor_t *cur, const zetl_walk_item_t *item,
                                     int depth, size_t *budget);

//  Parse one whole object at CUR, nested DEPTH containers deep. With ZONE,
//  build it into *OBJ (arrays and maps allocated from ZONE, the rest pointing
//  into the frame); without, only check it. *BUDGET counts down the objects
//  the payload may still hold (start it at ZETL_WALK_MAX_OBJECTS). A container
//  nested ZETL_WALK_MAX_DEPTH deep, a declared length larger than the bytes
//  left, or more objects than the budget is an error. Returns NULL, or a reason.
const char *zetl_walk_object (zetl_walk_cursor_t *cur, msgpack_zone *zone, msgpack_object *obj,
                              int depth, size_t *budget);

//  Set OBJ to what ITEM holds: a scalar whole (strings, bin and ext pointing
//  into the frame), or an array or map with no elements (they are not read).
void zetl_walk_item_object (const zetl_walk_item_t *item, msgpack_object *obj);

//  Read an unsigned integer no larger than MAX. Returns NULL, or WRONG when the
//  item is of another type or range, or why it could not be read.
const char *zetl_walk_uint (zetl_walk_cursor_t *cur, uint64_t max, uint64_t *value,
                            const char *wrong);

//  Read a signed 64-bit integer (any integer encoding whose value fits).
//  Returns NULL, or WRONG, or why it could not be read.
const char *zetl_walk_int64 (zetl_walk_cursor_t *cur, int64_t *value, const char *wrong);

//  Read a string for a C string: str of at most ZETL_PROTO_MAX_STRING bytes
//  of UTF-8 without NUL, or nil (when NIL_OK). Sets *DATA/*SIZE (borrowed,
//  inside the frame; DATA NULL for nil). Returns NULL, or WRONG (another
//  type), TOO_LONG, NOT_UTF8, or why it could not be read.
const char *zetl_walk_text (zetl_walk_cursor_t *cur, bool nil_ok, const uint8_t **data,
                            size_t *size, const char *wrong, const char *too_long,
                            const char *not_utf8);

//  Return the length of the UTF-8 character at P (LEFT > 0 bytes there), or 0
//  if it is malformed (overlong, a surrogate, past U+10FFFF, cut short) or NUL.
size_t zetl_walk_utf8_char (const uint8_t *p, size_t left);

#endif
