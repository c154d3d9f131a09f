/*  zetl_fields - a record's fields, editable in place, while a worker works on it

    Transform steps and enrichments rename, drop, add and replace fields.
    A zetl_fields_t holds the record's key/value pairs as msgpack objects;
    new strings and grown arrays are allocated from a msgpack_zone the
    caller owns and clears (one per batch), so nothing is freed one by one.
    zetl_fields_map gives the record as a msgpack map object for zetl_cast.
    Keys are compared as bytes; the first of repeated keys wins, as in
    zetl_record_get. A plain struct, used by one thread.
*/
#ifndef ZETL_FIELDS_H_INCLUDED
#define ZETL_FIELDS_H_INCLUDED

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    msgpack_object_kv *pairs;  //  in ZONE
    uint32_t count;            //  pairs in use
    uint32_t room;             //  pairs allocated
    msgpack_zone *zone;        //  where new strings and arrays go (borrowed)
} zetl_fields_t;

//  Read the packed record at DATA (SIZE bytes) into SELF, with objects and
//  pairs in ZONE. Returns 0, or -1 if the bytes are not one well-formed
//  msgpack map.
int zetl_fields_read (zetl_fields_t *self, msgpack_zone *zone, const void *data, size_t size);

//  The value of field NAME (LEN bytes), or NULL. Borrowed: valid until SELF
//  changes or the zone is cleared.
msgpack_object *zetl_fields_get (zetl_fields_t *self, const char *name, size_t len);

//  Set field NAME (NUL-terminated, borrowed: must outlive the zone's use,
//  as configuration names do) to VALUE, replacing its value or adding it.
void zetl_fields_set (zetl_fields_t *self, const char *name, msgpack_object value);

//  Remove field NAME, every copy of it. Returns whether it was there.
bool zetl_fields_remove (zetl_fields_t *self, const char *name);

//  Rename field FROM to TO (both borrowed, as in zetl_fields_set): a field
//  already called TO is replaced. Does nothing if FROM is missing.
void zetl_fields_rename (zetl_fields_t *self, const char *from, const char *to);

//  A string object holding a copy of LEN bytes at TEXT, in the zone.
msgpack_object zetl_fields_string (zetl_fields_t *self, const char *text, size_t len);

//  The record as a msgpack map object (borrowed, as zetl_fields_get).
msgpack_object zetl_fields_map (const zetl_fields_t *self);

#endif
