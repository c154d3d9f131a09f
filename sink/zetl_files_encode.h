/*  zetl_files_encode - the bytes of a files target: rows as JSONL or CSV, then compressed

    Pure functions over borrowed data; the caller owns every buffer. A row is
    one RESULT entry's output row (a msgpack array in schema order, read as
    a tree). JSONL writes one JSON object per line with the schema's columns
    in schema order (a delete marker adds "zetl_deleted": true); CSV writes a
    header line, then one line per row with the schema's columns and a last
    zetl_deleted column (true/false), quoted as RFC 4180 says (CRLF line
    ends; a null is an empty field, an empty string is ""). Values keep
    their meaning: an int is an integer, a number its exact decimal text, a
    timestamp RFC 3339 UTC with 6 fraction digits
    ("2026-05-04T10:15:02.113000Z"), a date YYYY-MM-DD.

    A file's content is built whole in memory, then compressed in one call
    (gzip with zlib, zstd with libzstd): a file holds one batch's rows of one
    day, so it is small. Used by zetl_files_writer.
*/
#ifndef ZETL_FILES_ENCODE_H_INCLUDED
#define ZETL_FILES_ENCODE_H_INCLUDED

#include "zetl_config.h"
#include "zetl_proto.h"

typedef enum { ZETL_FILES_PLAIN = 0, ZETL_FILES_GZIP, ZETL_FILES_ZSTD } zetl_files_compression_t;

//  The compression named NAME ("none", "gzip", "zstd"; NULL is none).
zetl_files_compression_t zetl_files_compression (const char *name);

//  The file name suffix of FORMAT and COMPRESSION: ".jsonl", ".csv.gz",
//  ".jsonl.zst", ... (static string).
const char *zetl_files_suffix (zetl_format_t format, zetl_files_compression_t compression);

//  Append what opens a file of FORMAT to OUT: CSV's header line, nothing
//  for JSONL.
void zetl_files_encode_header (const zetl_pipeline_t *pipeline, zetl_format_t format,
                               msgpack_sbuffer *out);

//  Append the line of ENTRY (its payload read as a tree, with its newline)
//  to OUT. Returns 0, or -1 with *REASON set (static) when the row does not
//  match the schema (OUT unchanged).
int zetl_files_encode_row (const zetl_pipeline_t *pipeline, zetl_format_t format,
                           const zetl_entry_t *entry, msgpack_sbuffer *out, const char **reason);

//  The event time of ENTRY's row, microseconds UTC: the value of the
//  pipeline's event_time column in the row, or the entry's event time when
//  the row holds none. The day directory of the row is its UTC date.
int64_t zetl_files_event_us (const zetl_pipeline_t *pipeline, const zetl_entry_t *entry);

//  Compress SIZE bytes at DATA with COMPRESSION into OUT (appended; PLAIN
//  copies). Returns 0, or -1 with *REASON set (static).
int zetl_files_compress (zetl_files_compression_t compression, const void *data, size_t size,
                         msgpack_sbuffer *out, const char **reason);

#endif
