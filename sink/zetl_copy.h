/*  zetl_copy - PostgreSQL COPY text for result rows

    Turns one RESULT entry (an output row: a msgpack array in schema order)
    into one line of COPY text format for the staging table: the schema's
    columns, then zetl_lut_gen and zetl_hash, from the row as a msgpack
    object or, with no tree built, from its packed bytes. Pure functions over
    borrowed data; the caller owns the buffer.
*/
#ifndef ZETL_COPY_H_INCLUDED
#define ZETL_COPY_H_INCLUDED

#include "zetl_config.h"
#include "zetl_proto.h"

//  Append the COPY line of ENTRY (with its newline) to OUT, with LUT_GEN as
//  its zetl_lut_gen (the largest lookup-table version its batch used, 0
//  for none). Returns 0, or -1 with *REASON set when the row does not
//  match the schema (OUT unchanged).
int zetl_copy_row (const zetl_pipeline_t *pipeline, const zetl_entry_t *entry, uint64_t lut_gen,
                   msgpack_sbuffer *out, const char **reason);

//  Append the COPY line of ENTRY as zetl_copy_row does, byte for byte and
//  with the same reasons, reading the row's values in place from
//  entry->packed/packed_size instead of from entry->payload (which is not
//  read): for an entry read by zetl_body_reader_next_packed, whose payload
//  is one well-formed msgpack object.
int zetl_copy_row_packed (const zetl_pipeline_t *pipeline, const zetl_entry_t *entry,
                          uint64_t lut_gen, msgpack_sbuffer *out, const char **reason);

//  Read the integer value of column COLUMN (a timestamp's microseconds, a
//  date's days, an int) of ENTRY's row, in place from entry->packed as
//  zetl_copy_row_packed reads it. Returns 1 with *VALUE set, 0 when the
//  value is nil, -1 when the row is not an array holding COLUMN or the value
//  is no integer (zetl_copy_row_packed then says why).
int zetl_copy_column_int (const zetl_entry_t *entry, size_t column, int64_t *value);

//  Append TEXT (LEN bytes) escaped for COPY text format to OUT.
void zetl_copy_escape (msgpack_sbuffer *out, const char *text, size_t len);

#endif
