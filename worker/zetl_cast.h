/*  zetl_cast - a record to the output row of its pipeline's schema

    Casts each schema column of a record (a msgpack map) to the column's
    type and packs the output row: a msgpack array in schema order, with
    strings, int64, exact decimals (ZETL_EXT_DECIMAL text), bools,
    timestamps (int64 microseconds UTC) and dates (int32 days) or nil. A
    missing required column (required:, a primary key column or the event
    time column) or a value that does not cast rejects the record with the
    field and the reason. A caster is made once per pipeline and used by one
    thread.
*/
#ifndef ZETL_CAST_H_INCLUDED
#define ZETL_CAST_H_INCLUDED

#include "zetl_config.h"
#include "zetl_status.h"
#include "zetl_validate.h"
#include <msgpack.h>

typedef struct zetl_cast zetl_cast_t;

//  Create a caster for PIPELINE (borrowed: must outlive the caster).
zetl_cast_t *zetl_cast_new (const zetl_pipeline_t *pipeline);
void zetl_cast_destroy (zetl_cast_t **self_p);

//  Pack RECORD's output row with PACKER. Returns ZETL_OK, or ZETL_REJECT
//  with *ERROR filled; on reject the packer's buffer must be rolled back by
//  the caller.
zetl_status_t zetl_cast_record (zetl_cast_t *self, const msgpack_object *record,
                                msgpack_packer *packer, zetl_reject_t *error);

//  Like zetl_cast_record, for a record given as SIZE bytes of packed msgpack
//  at DATA (borrowed): reads its values in place, builds no object tree, and
//  answers exactly as zetl_cast_record would for the same record. Bytes
//  that are not one well-formed msgpack object are rejected as "malformed".
zetl_status_t zetl_cast_packed (zetl_cast_t *self, const uint8_t *data, size_t size,
                                msgpack_packer *packer, zetl_reject_t *error);

//  Parse strict decimal integer TEXT (LEN bytes: optional sign, digits,
//  nothing else) that fits an int64. Returns 0, or -1.
int zetl_cast_parse_int (const char *text, size_t len, int64_t *value);

//  Read VALUE, whose text is TEXT (LEN bytes), as a bool: a msgpack bool,
//  or true/false, t/f (any case), 1/0. Returns 0 with *TRUTH set, or -1.
int zetl_cast_parse_bool (const msgpack_object *value, const char *text, size_t len, bool *truth);

//  Whether TEXT (LEN bytes) is a decimal PostgreSQL's numeric takes:
//  -?digits[.digits][e[+-]digits], under 1000 bytes.
bool zetl_cast_is_decimal (const char *text, size_t len);

#endif
