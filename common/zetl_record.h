/*  zetl_record - records: msgpack maps, their values, JSON text and content hash

    A record is a msgpack map made once at the edge (zetl_jsonl, zetl_csv) and
    carried as packed bytes. Exact decimals (JSON numbers that are not int64)
    travel as msgpack ext type ZETL_EXT_DECIMAL holding their text, so no
    value passes through a double. Functions here read records; they never
    own them.
*/
#ifndef ZETL_RECORD_H_INCLUDED
#define ZETL_RECORD_H_INCLUDED

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZETL_EXT_DECIMAL 1  //  msgpack ext type: an exact decimal as its text, "12.50"

//  A field value extracted as text while converting a row (borrowed, valid
//  until the next conversion by the same converter).
typedef struct {
    const char *ptr;  //  text of the value (strings unescaped), not NUL-terminated
    size_t len;       //  bytes at ptr
    bool present;     //  the key was there with a non-null value
    bool is_string;   //  the value was a JSON/CSV string (else number or bool)
} zetl_field_value_t;

//  Return the value of key NAME in MAP, or NULL if MAP is not a map or has no
//  such key. Borrowed from MAP.
const msgpack_object *zetl_record_get (const msgpack_object *map, const char *name);

//  Return the text of a scalar VALUE (str, int, uint, decimal ext, bool, float)
//  in *PTR/*LEN: strings and decimals point into the object, numbers are
//  written into SCRATCH (SIZE >= 32). Returns 0, or -1 for nil, maps, arrays, bin.
int zetl_record_value_text (const msgpack_object *value, char *scratch, size_t size,
                            const char **ptr, size_t *len);

//  Append the JSON text of OBJ (any msgpack object; decimals as bare numbers,
//  bin as base64 strings) to OUT. Returns 0, or -1 if nested deeper than 64.
int zetl_record_to_json (const msgpack_object *obj, msgpack_sbuffer *out);

//  128-bit content hash (xxh3-128) of OBJ's canonical form: map keys sorted by
//  bytes, ints and uints of the same value equal, floats by value (float32
//  or float64 alike), so two records with the same content hash the same
//  whatever their key order or encoding. Writes 16 bytes, big-endian, to
//  OUT. OBJ must nest no deeper than 256 levels (msgpack-c unpacks 32).
void zetl_record_hash (const msgpack_object *obj, uint8_t out[16]);

//  The same hash, read straight from DATA (LEN bytes holding exactly one
//  packed msgpack object): what zetl_record_hash gives for that object once
//  unpacked, without unpacking it. Allocates nothing unless the maps being
//  sorted hold more than 64 entries between them. Returns 0, or -1 with OUT
//  zeroed when DATA is not exactly one well-formed object or nests deeper
//  than 256 levels.
int zetl_record_hash_packed (const void *data, size_t len, uint8_t out[16]);

#endif
