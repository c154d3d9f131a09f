/*  zetl_forward_record - an output row as the record another cluster's pipeline reads

    A forward target (zetl_forward_writer) sends each output row of its
    pipeline to a pipeline of another cluster, through a producer. The row
    is an array in schema order; the other pipeline reads records, maps of
    field names to values, as its sources and producers give them. This is
    that conversion: each schema column by name, its value as the row holds
    it (an int stays an int, a number its exact decimal, a string its text,
    a null a null), but a timestamp as RFC 3339 UTC text with 6 fraction
    digits ("2026-05-04T10:15:02.113000Z") and a date as YYYY-MM-DD, the
    text an event_time of format iso8601 and a date column read. A delete
    marker also gets the pipeline's delete_field set to true, when that is
    not a schema column (the other pipeline needs the same delete_field).
    One row always packs to the same bytes, so a row sent twice is an exact
    duplicate there. Pure functions over borrowed data.
*/
#ifndef ZETL_FORWARD_RECORD_H_INCLUDED
#define ZETL_FORWARD_RECORD_H_INCLUDED

#include "zetl_config.h"
#include "zetl_proto.h"

//  Records packed one after the other, each a msgpack map, in the order
//  they are to be sent. A plain value: init, add, fini
typedef struct {
    msgpack_sbuffer data;  //  the packed maps, back to back
    size_t *ends;          //  where each ends in data
    size_t count;          //  records
    size_t capacity;       //  room in ends
} zetl_forward_records_t;

//  Set up an empty SELF.
void zetl_forward_records_init (zetl_forward_records_t *self);
//  Free what SELF holds; it is empty (and may be used) again.
void zetl_forward_records_fini (zetl_forward_records_t *self);
//  Append the record of ENTRY, as zetl_forward_record_pack does. Returns 0,
//  or -1 with *REASON set (static) and SELF unchanged.
int zetl_forward_records_add (zetl_forward_records_t *self, const zetl_pipeline_t *pipeline,
                              const zetl_entry_t *entry, const char **reason);
//  Record INDEX: its bytes, *LEN of them. Borrowed: valid until SELF changes.
const void *zetl_forward_records_at (const zetl_forward_records_t *self, size_t index, size_t *len);

//  Append the record of ENTRY's output row (its payload read as a tree, an
//  array in the schema order of PIPELINE) to OUT, as one packed msgpack
//  map. Returns 0, or -1 with *REASON set (a static string) when the row
//  does not match the schema; OUT is then unchanged.
int zetl_forward_record_pack (const zetl_pipeline_t *pipeline, const zetl_entry_t *entry,
                              msgpack_sbuffer *out, const char **reason);

#endif
