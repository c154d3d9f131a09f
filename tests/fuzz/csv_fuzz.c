/*  csv_fuzz - libFuzzer target for the CSV reader (common/zetl_csv)

    The input is a CSV file, fed line by line (each with its '\n', at its
    byte offset) and then finished, as a file source does; feeding goes on
    after an unusable header, as there. The delimiter is ',' unless the
    first byte is '\t', ';' or '|', which then picks it and is not part of
    the text. Every good row must be one msgpack map that msgpack-c unpacks
    whole; a bad row must say why. Any failed check aborts, which libFuzzer
    reports as a crash.
*/
#include "zetl_csv.h"
#include "zetl_fuzz.h"

#include <string.h>

static const char *const s_names[] = {"id", "updated_at", "hotel_id"};
#define S_NAMES 3

//  The parser, and what the rows callback saw: offsets only grow
typedef struct {
    zetl_csv_t *csv;       //  one parser for the whole file
    uint64_t last_offset;  //  offset of the previous row
    size_t rows;           //  rows reported
} rows_t;

static void
s_row (void *arg, uint64_t offset, const char *reason, const char *raw, size_t raw_len,
       const void *packed, size_t packed_len, const zetl_field_value_t *values)
{
    rows_t *rows = (rows_t *) arg;
    ZETL_FUZZ_CHECK (rows->rows == 0 || offset >= rows->last_offset);
    rows->last_offset = offset;
    rows->rows++;
    zetl_fuzz_touch (raw, raw_len);
    if (reason) {
        zetl_fuzz_touch (reason, strlen (reason));
        return;
    }
    ZETL_FUZZ_CHECK (packed && packed_len > 0 && values);
    msgpack_unpacked unpacked;
    zetl_fuzz_unpack_map (packed, packed_len, &unpacked);
    msgpack_unpacked_destroy (&unpacked);
    for (size_t i = 0; i < S_NAMES; i++)
        if (values[i].present)
            zetl_fuzz_touch (values[i].ptr, values[i].len);
}

static void
s_line (void *arg, const char *line, size_t len, size_t offset)
{
    rows_t *rows = (rows_t *) arg;
    const char *reason = NULL;
    if (zetl_csv_feed_line (rows->csv, line, len, offset, s_row, rows, &reason) != 0)
        ZETL_FUZZ_CHECK (reason);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char delimiter = ',';
    if (size > 0 && (data[0] == '\t' || data[0] == ';' || data[0] == '|')) {
        delimiter = (char) data[0];
        data++;
        size--;
    }
    rows_t rows = {zetl_csv_new (delimiter, s_names, S_NAMES), 0, 0};
    ZETL_FUZZ_CHECK (rows.csv);
    zetl_fuzz_lines (data, size, true, s_line, &rows);
    zetl_csv_finish (rows.csv, s_row, &rows);
    zetl_csv_destroy (&rows.csv);
    ZETL_FUZZ_CHECK (rows.csv == NULL);
    return 0;
}
