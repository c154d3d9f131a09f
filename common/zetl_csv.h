/*  zetl_csv - CSV rows into msgpack records (libcsv)

    Fed one line at a time (so the caller knows each row's byte offset and raw
    text), it keeps quoted fields that span lines together. The first row is
    the header and names the fields. Each further row becomes one packed
    msgpack map of strings (an empty unquoted field is nil), with the named
    fields extracted as text. A row whose field count differs from the
    header's is reported as bad, with its raw text, and parsing goes on.
*/
#ifndef ZETL_CSV_H_INCLUDED
#define ZETL_CSV_H_INCLUDED

#include "zetl_record.h"

typedef struct zetl_csv zetl_csv_t;

//  Called once per data row. OFFSET is the byte offset of the row's first
//  line (as given to zetl_csv_feed_line). On a good row REASON is NULL,
//  PACKED/PACKED_LEN the msgpack map and VALUES the extracted fields; on a
//  bad row REASON says why ("row 17 has 5 fields, the header has 7") and
//  RAW/RAW_LEN hold the row's text. Everything is borrowed for the call.
typedef void (zetl_csv_row_fn) (void *arg, uint64_t offset, const char *reason, const char *raw,
                                size_t raw_len, const void *packed, size_t packed_len,
                                const zetl_field_value_t *values);

//  Create a parser with field DELIMITER extracting NAMES[0..COUNT) (borrowed).
zetl_csv_t *zetl_csv_new (char delimiter, const char *const *names, size_t count);
void zetl_csv_destroy (zetl_csv_t **self_p);
//  Feed one line LINE (LEN bytes, including its '\n' if it had one) that
//  starts at byte OFFSET of the file. Calls FN for each row it completes.
//  Returns 0, or -1 if the header itself is unusable (*REASON set).
int zetl_csv_feed_line (zetl_csv_t *self, const char *line, size_t len, uint64_t offset,
                        zetl_csv_row_fn *fn, void *arg, const char **reason);
//  End of input: completes a last row without a newline, reports an
//  unterminated quote as a bad row.
void zetl_csv_finish (zetl_csv_t *self, zetl_csv_row_fn *fn, void *arg);

#endif
